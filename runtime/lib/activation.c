#include "activation.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#define WR_ACTIVATION_MAGIC 0x77726131u /* "wra1" */
#define HEADER_WORDS        4
#define HEADER_SIZE         (HEADER_WORDS * sizeof(uint32_t))

void wr_activation_writer_init(struct wr_activation_writer *w, char *buf, size_t cap)
{
    memset(w, 0, sizeof *w);
    w->buf = buf;
    w->cap = cap;
    w->len = HEADER_SIZE;
}

static int append_string(struct wr_activation_writer *w, const char *s, wr_error *err)
{
    size_t n = strlen(s) + 1;
    if (n > w->cap || w->len > w->cap - n)
        return wr_error_set(err, E2BIG, "activation larger than %d bytes", WR_ACTIVATION_MAX);
    memcpy(w->buf + w->len, s, n);
    w->len += n;
    return 0;
}

int wr_activation_add_arg(struct wr_activation_writer *w, const char *arg, wr_error *err)
{
    if (w->stage != 0)
        return wr_error_set(err, EINVAL, "arguments must come before the environment");
    if (w->argc >= WR_MAX_ARGS)
        return wr_error_set(err, E2BIG, "more than %d arguments", WR_MAX_ARGS);
    if (append_string(w, arg, err) < 0)
        return -1;
    w->argc++;
    return 0;
}

int wr_env_entry_valid(const char *kv)
{
    const char *eq = strchr(kv, '=');
    return eq != NULL && eq != kv;
}

int wr_activation_add_env(struct wr_activation_writer *w, const char *kv, wr_error *err)
{
    if (w->stage > 1)
        return wr_error_set(err, EINVAL, "activation already finished");
    w->stage = 1;
    if (!wr_env_entry_valid(kv))
        return wr_error_set(err, EINVAL, "environment entry \"%.64s\" is not KEY=VALUE", kv);
    if (w->envc >= WR_MAX_ENV)
        return wr_error_set(err, E2BIG, "more than %d environment entries", WR_MAX_ENV);
    if (append_string(w, kv, err) < 0)
        return -1;
    w->envc++;
    return 0;
}

ssize_t wr_activation_finish(struct wr_activation_writer *w, const char *cwd, const char *hostname,
                             wr_error *err)
{
    if (w->argc == 0)
        return wr_error_set(err, EINVAL, "no command to run");
    if (cwd[0] != '/')
        return wr_error_set(err, EINVAL, "working directory \"%.64s\" is not absolute", cwd);
    if (strlen(hostname) > WR_HOSTNAME_MAX)
        return wr_error_set(err, EINVAL, "hostname longer than %d bytes", WR_HOSTNAME_MAX);
    if (append_string(w, cwd, err) < 0 || append_string(w, hostname, err) < 0)
        return -1;
    uint32_t header[HEADER_WORDS] = {WR_ACTIVATION_MAGIC, w->argc, w->envc, w->flags};
    memcpy(w->buf, header, sizeof header);
    w->stage = 2;
    return (ssize_t)w->len;
}

/* Returns the string at *pos and advances past its NUL, or NULL when the
 * buffer ends before one. */
static char *next_string(char *buf, size_t len, size_t *pos)
{
    if (*pos >= len)
        return NULL;
    char *s = buf + *pos;
    char *nul = memchr(s, '\0', len - *pos);
    if (!nul)
        return NULL;
    *pos = (size_t)(nul - buf) + 1;
    return s;
}

int wr_activation_decode(char *buf, size_t len, char **vec, struct wr_activation *out,
                         wr_error *err)
{
    uint32_t header[HEADER_WORDS];
    memset(out, 0, sizeof *out);
    if (len < HEADER_SIZE)
        return wr_error_set(err, EINVAL, "activation message truncated");
    memcpy(header, buf, sizeof header);
    if (header[0] != WR_ACTIVATION_MAGIC)
        return wr_error_set(err, EINVAL, "activation message has a bad magic");
    uint32_t argc = header[1], envc = header[2];
    if (argc == 0 || argc > WR_MAX_ARGS || envc > WR_MAX_ENV)
        return wr_error_set(err, EINVAL, "activation message has bad counts");
    if (header[3] & ~WR_ACTIVATION_FLAG_INIT)
        return wr_error_set(err, EINVAL, "activation message has unknown flags");

    size_t pos = HEADER_SIZE;
    char **argv = vec, **envp = vec + argc + 1;
    for (uint32_t i = 0; i < argc; i++)
        if (!(argv[i] = next_string(buf, len, &pos)))
            goto bad;
    argv[argc] = NULL;
    for (uint32_t i = 0; i < envc; i++)
        if (!(envp[i] = next_string(buf, len, &pos)) || !wr_env_entry_valid(envp[i]))
            goto bad;
    envp[envc] = NULL;
    if (!(out->cwd = next_string(buf, len, &pos)) || out->cwd[0] != '/')
        goto bad;
    if (!(out->hostname = next_string(buf, len, &pos)) || strlen(out->hostname) > WR_HOSTNAME_MAX)
        goto bad;
    if (pos != len)
        goto bad;
    out->argv = argv;
    out->envp = envp;
    out->flags = header[3];
    return 0;
bad:
    return wr_error_set(err, EINVAL, "activation message is malformed");
}
