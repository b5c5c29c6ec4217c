/* See daemon_function.h: the functions themselves (create, remove, list,
 * a new image, the loop's hooks). Their environments are function_env.c,
 * invocations and the queue function_invoke.c, timeouts and init failures
 * function_timeout.c, stored definitions function_store.c. Error bodies and
 * their errorType values follow what AWS Lambda returns. */
#include "daemon_function.h"

#include "daemon_function_http.h"
#include "daemon_log.h"
#include "daemon_pool.h"
#include "daemon_runtime_api.h"
#include "function_internal.h"

#include "lib/cgroup.h"
#include "lib/cleanup.h"
#include "lib/clock.h"
#include "lib/image_store.h"
#include "lib/net_config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

struct fn_env **fn_graveyard_head; /* &daemon_functions.graveyard */

const char *daemon_function_name(const struct function *f)
{
    return f->name;
}

unsigned *daemon_function_conns(struct function *f)
{
    return &f->n_conns;
}

struct function *fn_find(struct daemon *d, const char *name)
{
    for (struct function *f = d->functions ? d->functions->list : NULL; f; f = f->next)
        if (strcmp(f->name, name) == 0)
            return f;
    return NULL;
}

bool daemon_function_exists(struct daemon *d, const char *name)
{
    return fn_find(d, name) != NULL;
}

static void function_free(struct daemon *d, struct function *f)
{
    struct invocation *inv;
    while ((inv = fn_dequeue(f)))
        fn_finish(d, inv, "not_found", "the function was removed", NULL, NULL, 0);
    while (f->envs) {
        struct fn_env *env = f->envs;
        if (env->inv) {
            inv = env->inv;
            env->inv = NULL;
            fn_finish(d, inv, "not_found", "the function was removed", NULL, NULL, 0);
        }
        fn_env_free(env);
    }
    if (f->pool)
        daemon_pool_destroy(d, f->pool);
    function_log_close(&f->log);
    free(f->spec.handler);
    fn_free_vec(f->env);
    free(f->init_error);
    free(f->request);
    free(f);
}

char **fn_copy_vec(char *const *v)
{
    size_t n = 0;
    while (v && v[n])
        n++;
    char **out = calloc(n + 1, sizeof *out);
    for (size_t i = 0; out && i < n; i++)
        if (!(out[i] = strdup(v[i]))) {
            fn_free_vec(out);
            return NULL;
        }
    return out;
}

int fn_create(struct daemon *d, const struct wr_request *req, wr_error *err)
{
    struct daemon_functions *fns = d->functions;
    if (fn_find(d, req->name))
        return wr_error_code(err, EEXIST, "function %s already exists", req->name);
    struct wr_net_mode net = {0};
    if (req->network && wr_net_mode_parse(req->network, &net, err) < 0)
        return -1;
    /* The Runtime API listens on 127.0.0.1 in the environment's network
     * namespace: with the host's, every process of the host could take
     * invocations and answer them (docs/security.md, "Functions"). */
    if (net.kind == WR_NET_HOST)
        return wr_error_code(err, EINVAL,
                             "--network host is refused for functions: their Runtime API would "
                             "listen in the host's network namespace, open to every host process");
    struct function *f = calloc(1, sizeof *f);
    if (!f)
        return wr_error_set(err, ENOMEM, "function");
    snprintf(f->name, sizeof f->name, "%s", req->name);
    f->spec = req->function;
    f->spec.handler = NULL;
    f->log.fd = -1;
    f->queue_max = req->function.max; /* the queue holds as many as --max more */
    size_t request_len;
    if ((req->function.handler && !(f->spec.handler = strdup(req->function.handler))) ||
        !(f->env = fn_copy_vec(req->env)) ||
        !(f->request = wr_request_encode(req, &request_len, err))) {
        function_free(d, f);
        return wr_error_set(err, ENOMEM, "function");
    }
    /* --memory is Lambda's memory size, and the environment's limit unless
     * a resource option set one. */
    struct wr_resources res = req->resources;
    if (!res.memory)
        res.memory = (int64_t)f->spec.memory_mb << 20;
    f->pool = daemon_pool_create_hidden(d, req->image, 1,
                                        req->tmpfs_size ? req->tmpfs_size : WR_DEFAULT_TMPFS_BYTES,
                                        req->security, &res, &req->volumes, req->network, err);
    if (!f->pool) {
        function_free(d, f);
        return -1;
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/%s.log", fns->dir, f->name);
    function_log_open(&f->log, path);
    f->next = fns->list;
    fns->list = f;
    daemon_log("function %s created (image %s, min %ld, max %ld%s)", f->name, f->pool->image,
               f->spec.min, f->spec.max, f->spec.fresh ? ", fresh" : "");
    return 0;
}

int daemon_function_create(struct daemon *d, const struct wr_request *req, wr_error *err)
{
    if (fn_create(d, req, err) < 0)
        return -1;
    fn_store_save(d, fn_find(d, req->name)); /* for the next daemon */
    return 0;
}

int daemon_function_remove(struct daemon *d, const char *name, wr_error *err)
{
    struct function *f = fn_find(d, name), **link = &d->functions->list;
    if (!f)
        return wr_error_code(err, ENOENT, "no function %s", name);
    while (*link != f)
        link = &(*link)->next;
    *link = f->next;
    fn_store_remove(d, name);
    function_free(d, f);
    daemon_log("function %s removed", name);
    return 0;
}

struct wr_function_info *daemon_function_list(struct daemon *d, size_t *n)
{
    *n = 0;
    for (struct function *f = d->functions->list; f; f = f->next)
        (*n)++;
    struct wr_function_info *out = calloc(*n ? *n : 1, sizeof *out), *o = out;
    for (struct function *f = d->functions->list; out && f; f = f->next, o++) {
        snprintf(o->name, sizeof o->name, "%s", f->name);
        snprintf(o->image, sizeof o->image, "%s", f->pool->image);
        snprintf(o->last_error, sizeof o->last_error, "%s", f->last_error);
        o->min = f->spec.min;
        o->max = f->spec.max;
        o->timeout_s = f->spec.timeout_s;
        o->memory_mb = f->spec.memory_mb;
        o->fresh = f->spec.fresh;
        o->queued = f->queued;
        o->invocations = f->invocations;
        o->errors = f->errors;
        o->init_failures = f->init_failures;
        for (struct fn_env *e = f->envs; e; e = e->next) {
            o->environments += e->state != ENV_DEAD;
            o->idle += e->state == ENV_IDLE;
            o->busy += e->state == ENV_BUSY;
        }
    }
    return out;
}

/* f's image tag points elsewhere now: its pool takes the new image (the
 * security asked at create derived again), environments not serving an
 * invocation go, busy ones finish theirs and go at their next request. */
static int roll_over(struct daemon *d, struct function *f)
{
    wr_error err;
    cleanup_image struct wr_image *img = NULL;
    if (wr_image_load(d->g->root, f->pool->image, &img, &err) < 0)
        return 0; /* removed: the environments keep the layers they run on */
    if (strcmp(img->id, f->pool->img->id) == 0 &&
        strcmp(img->lowerdir, f->pool->img->lowerdir) == 0)
        return 0;
    struct wr_request kept = {0};
    int rc = wr_request_parse(f->request, strlen(f->request), &kept, &err);
    if (rc == 0)
        rc = daemon_pool_set_image(d, f->pool, img, kept.security, &err);
    wr_request_free(&kept);
    if (rc < 0) {
        daemon_log("function %s: keeps its old image: %s", f->name, err.msg);
        snprintf(f->last_error, sizeof f->last_error, "new image refused: %.200s", err.msg);
        return 0;
    }
    img = NULL; /* the pool's now */
    f->generation++;
    for (struct fn_env *e = f->envs; e; e = e->next)
        if (e->state == ENV_IDLE || e->state == ENV_INIT)
            fn_env_kill(e); /* freed when its shim reports the exit */
    f->consecutive_init_failures = 0;
    f->retry_at_ns = 0;
    f->last_error[0] = '\0';
    daemon_log("function %s: now image %.19s", f->name, f->pool->img->id);
    return 1;
}

int daemon_functions_image_updated(struct daemon *d)
{
    int rolled = 0;
    for (struct function *f = d->functions ? d->functions->list : NULL; f; f = f->next)
        rolled += roll_over(d, f);
    if (rolled)
        daemon_functions_tick(d);
    return rolled;
}

void daemon_functions_tick(struct daemon *d)
{
    if (!d->functions)
        return;
    daemon_runtime_api_run();
    int64_t now = wr_monotonic_ns();
    for (struct function *f = d->functions->list; f; f = f->next) {
        long alive = 0, initing = 0, spare = 0;
        for (struct fn_env *e = f->envs; e; e = e->next) {
            alive += e->state != ENV_DEAD;
            initing += e->state == ENV_INIT;
            spare +=
                e->state == ENV_INIT || (e->state == ENV_IDLE && (!f->spec.fresh || !e->served));
        }
        long want = f->spec.min - spare;
        if (f->queued - initing > want)
            want = f->queued - initing;
        if (want > f->spec.max - alive)
            want = f->spec.max - alive;
        if (f->retry_at_ns > now)
            continue;
        while (want-- > 0 && fn_env_start(d, f) > 0)
            ;
    }
}

int daemon_functions_timeout_ms(const struct daemon *d)
{
    if (!d->functions)
        return -1;
    int64_t now = wr_monotonic_ns(), next = -1;
    for (struct function *f = d->functions->list; f; f = f->next)
        if (f->retry_at_ns > now && (next < 0 || f->retry_at_ns < next))
            next = f->retry_at_ns;
    int ms = next < 0 ? -1 : (int)((next - now) / 1000000) + 1;
    int http = daemon_runtime_api_timeout_ms();
    return http >= 0 && (ms < 0 || http < ms) ? http : ms;
}

void daemon_functions_event(struct daemon *d, struct watch *w, uint32_t events)
{
    (void)events;
    struct fn_watch *fw = (struct fn_watch *)w;
    struct fn_env *env = fw->obj;
    if (env && env->gone)
        return;
    switch (fw->what) {
    case FNW_HTTP:
        daemon_runtime_api_run();
        break;
    case FNW_LISTEN:
        daemon_runtime_api_accept(env);
        daemon_runtime_api_run();
        break;
    case FNW_LOG: {
        char buf[16384];
        ssize_t n = read(env->log_fd, buf, sizeof buf);
        if (n > 0)
            fn_log_append(env, buf, (size_t)n);
        else if (n == 0 || errno != EAGAIN)
            fn_unwatch_close(&env->log_fd); /* the runtime closed its stdout and stderr */
        break;
    }
    case FNW_TIMER:
        fn_on_timer(d, env);
        break;
    case FNW_CLIENT:
        fn_on_client(d, env);
        break;
    }
}

int daemon_functions_init(struct daemon *d, wr_error *err)
{
    struct daemon_functions *fns = calloc(1, sizeof *fns);
    if (!fns)
        return wr_error_set(err, ENOMEM, "functions");
    fns->http.watch.kind = WATCH_FUNCTION;
    fns->http.what = FNW_HTTP;
    snprintf(fns->dir, sizeof fns->dir, "%s/functions", d->g->state_dir);
    wr_cgroup_scope(d->g->state_dir, fns->scope);
    if (mkdir(fns->dir, 0700) < 0 && errno != EEXIST) {
        free(fns);
        return wr_error_set(err, errno, "mkdir %s", fns->dir);
    }
    fns->own_netns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    if (fns->own_netns < 0) {
        free(fns);
        return wr_error_set(err, errno, "open /proc/self/ns/net");
    }
    if (daemon_runtime_api_start(d, &fns->http, err) < 0) {
        close(fns->own_netns);
        free(fns);
        return -1;
    }
    d->functions = fns;
    fn_graveyard_head = &fns->graveyard;
    if (daemon_function_http_routes(d, err) < 0)
        return -1;
    daemon_freezer_sweep(fns->scope);
    fn_store_restore(d);
    return 0;
}

void daemon_functions_bury(struct daemon *d)
{
    struct daemon_functions *fns = d->functions;
    while (fns && fns->graveyard) {
        struct fn_env *env = fns->graveyard;
        fns->graveyard = env->next;
        free(env);
    }
}

void daemon_functions_shutdown(struct daemon *d)
{
    struct daemon_functions *fns = d->functions;
    if (!fns)
        return;
    while (fns->list) {
        struct function *f = fns->list;
        fns->list = f->next;
        function_free(d, f);
    }
    daemon_functions_bury(d);
    fn_graveyard_head = NULL;
    daemon_freezer_release_scope(fns->scope);
    daemon_runtime_api_stop();
    close(fns->own_netns);
    free(fns);
    d->functions = NULL;
}
