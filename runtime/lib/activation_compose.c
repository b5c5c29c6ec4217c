#include "activation_compose.h"

#include "activation.h"
#include "path_search.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t key_len(const char *kv)
{
    return (size_t)(strchr(kv, '=') - kv);
}

/* True when a later source sets the same variable. */
static int overridden(const char *kv, char *const *later, size_t n_later)
{
    size_t k = key_len(kv);
    for (size_t i = 0; i < n_later; i++)
        if (later[i] && key_len(later[i]) == k && strncmp(later[i], kv, k) == 0)
            return 1;
    return 0;
}

static size_t count(char *const *v)
{
    size_t n = 0;
    while (v && v[n])
        n++;
    return n;
}

static int add_env_layers(struct wr_activation_writer *w, char *const *defaults, size_t n_def,
                          char *const *image_env, char *const *req_env, wr_error *err)
{
    size_t n_img = count(image_env), n_req = count(req_env);
    for (size_t i = 0; i < n_def; i++)
        if (!overridden(defaults[i], image_env, n_img) &&
            !overridden(defaults[i], req_env, n_req) &&
            wr_activation_add_env(w, defaults[i], err) < 0)
            return -1;
    for (size_t i = 0; i < n_img; i++)
        if (!overridden(image_env[i], req_env, n_req) &&
            !overridden(image_env[i], image_env + i + 1, n_img - i - 1) &&
            wr_activation_add_env(w, image_env[i], err) < 0)
            return -1;
    for (size_t i = 0; i < n_req; i++)
        if (!overridden(req_env[i], req_env + i + 1, n_req - i - 1) &&
            wr_activation_add_env(w, req_env[i], err) < 0)
            return -1;
    return 0;
}

ssize_t wr_activation_compose(const struct wr_image *img, const struct wr_request *req,
                              const char *container_id, char *buf, size_t cap, wr_error *err)
{
    return wr_activation_compose_env(img, req, NULL, container_id, buf, cap, err);
}

ssize_t wr_activation_compose_env(const struct wr_image *img, const struct wr_request *req,
                                  char *const *pool_env, const char *container_id, char *buf,
                                  size_t cap, wr_error *err)
{
    struct wr_activation_writer w;
    char hostname_env[16 + WR_HOSTNAME_MAX];
    const char *hostname = req->hostname ? req->hostname : container_id;
    /* docker run --entrypoint: replaces the image's Entrypoint and drops
     * its Cmd; "" leaves no entrypoint. */
    char *const *cmd = req->argc > 0 ? req->argv : req->entrypoint ? NULL : img->cmd;
    char *const given_entrypoint[] = {req->entrypoint, NULL};
    char *const *entrypoint = !req->entrypoint     ? img->entrypoint
                              : req->entrypoint[0] ? given_entrypoint
                                                   : NULL;

    wr_activation_writer_init(&w, buf, cap);
    for (size_t i = 0; entrypoint && entrypoint[i]; i++)
        if (wr_activation_add_arg(&w, entrypoint[i], err) < 0)
            return -1;
    for (size_t i = 0; cmd && cmd[i]; i++)
        if (wr_activation_add_arg(&w, cmd[i], err) < 0)
            return -1;
    if (w.argc == 0)
        return wr_error_code(err, EINVAL, "no command given and image %s:%s has no default command",
                             img->name, img->tag);

    snprintf(hostname_env, sizeof hostname_env, "HOSTNAME=%s", hostname);
    char *defaults[2 + WR_RESOURCES_ENV_MAX] = {(char *)WR_DEFAULT_PATH_ENV, hostname_env};
    size_t n_def = 2;
    for (size_t i = 0; pool_env && pool_env[i] && n_def < sizeof defaults / sizeof *defaults; i++)
        defaults[n_def++] = pool_env[i];
    if (add_env_layers(&w, defaults, n_def, img->env, req->env, err) < 0)
        return -1;
    if (req->init)
        w.flags |= WR_ACTIVATION_FLAG_INIT;
    return wr_activation_finish(&w, req->cwd ? req->cwd : img->workdir,
                                req->hostname ? req->hostname : "", err);
}

ssize_t wr_activation_compose_any(const struct wr_image *img, const struct wr_request *req,
                                  char *const *pool_env, const char *container_id, char *buf,
                                  size_t cap, char **heap, const char **out, wr_error *err)
{
    *heap = NULL;
    *out = buf;
    ssize_t len = wr_activation_compose_env(img, req, pool_env, container_id, buf, cap, err);
    if (len >= 0 || err->errnum != ENOBUFS)
        return len;
    /* Only large activations pay for this (pages are touched as written). */
    if (!(*heap = malloc(WR_ACTIVATION_BIG_MAX)))
        return wr_error_set(err, ENOMEM, "activation buffer");
    *out = *heap;
    return wr_activation_compose_env(img, req, pool_env, container_id, *heap, WR_ACTIVATION_BIG_MAX,
                                     err);
}
