/* JSON encoding and validation of the API messages (see protocol.h). */
#include "protocol.h"

#include "activation.h"
#include "cleanup.h"
#include "protocol_function_json.h"
#include "protocol_json.h"
#include "protocol_security.h"
#include "protocol_resources.h"
#include "protocol_volumes.h"
#include "protocol_publish.h"
#include "protocol_autoscale.h"
#include "container_id.h"
#include "net_config.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <string.h>

/* jansson's own scope-bound reference, in the tree's cleanup idiom. */
#define cleanup_json __attribute__((cleanup(json_decrefp)))

static const struct {
    const char *name;
    enum wr_op op;
} op_names[] = {
    {"activate", WR_OP_ACTIVATE},
    {"pool_create", WR_OP_POOL_CREATE},
    {"pool_rm", WR_OP_POOL_RM},
    {"pool_ls", WR_OP_POOL_LS},
    {"ps", WR_OP_PS},
    {"kill", WR_OP_KILL},
    {"stats", WR_OP_STATS},
    {"shutdown", WR_OP_SHUTDOWN},
    {"signal", WR_OP_SIGNAL},
    {"metrics", WR_OP_METRICS},
    {"events", WR_OP_EVENTS},
    {"function_create", WR_OP_FUNCTION_CREATE},
    {"function_rm", WR_OP_FUNCTION_RM},
    {"function_ls", WR_OP_FUNCTION_LS},
    {"invoke", WR_OP_INVOKE},
    {"image_updated", WR_OP_IMAGE_UPDATED},
};

bool wr_hostname_valid(const char *h)
{
    size_t n = strlen(h);
    if (n == 0 || n > 63 || h[0] == '-' || h[0] == '.')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)h[i]) && h[i] != '-' && h[i] != '.')
            return false;
    return true;
}

/* An optional member: absent and null are the same (docs/api.md). */
static json_t *optional(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return v && !json_is_null(v) ? v : NULL;
}

/* Reads an optional string member; absent or null gives NULL. */
static int get_string(json_t *obj, const char *key, size_t max, char **out, wr_error *err)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return wr_error_set(err, 0, "\"%s\" must be a string", key);
    const char *s = json_string_value(v);
    if (strlen(s) != json_string_length(v))
        return wr_error_set(err, 0, "\"%s\" contains a NUL byte", key);
    if (json_string_length(v) > max)
        return wr_error_set(err, 0, "\"%s\" is longer than %zu bytes", key, max);
    if (!(*out = strdup(s)))
        return wr_error_set(err, ENOMEM, "parsing \"%s\"", key);
    return 0;
}

/* Reads an optional array of strings into a NULL-terminated vector. */
static int get_string_array(json_t *obj, const char *key, size_t max_items, char ***out,
                            size_t *count, wr_error *err)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    *count = 0;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_array(v))
        return wr_error_set(err, 0, "\"%s\" must be an array of strings", key);
    size_t n = json_array_size(v);
    if (n > max_items)
        return wr_error_set(err, 0, "\"%s\" has more than %zu entries", key, max_items);
    char **vec = calloc(n + 1, sizeof *vec);
    if (!vec)
        return wr_error_set(err, ENOMEM, "parsing \"%s\"", key);
    for (size_t i = 0; i < n; i++) {
        json_t *item = json_array_get(v, i);
        if (!json_is_string(item) || strlen(json_string_value(item)) != json_string_length(item) ||
            !(vec[i] = strdup(json_string_value(item)))) {
            for (size_t j = 0; j < i; j++)
                free(vec[j]);
            free(vec);
            return wr_error_set(err, 0, "\"%s\"[%zu] must be a string without NUL bytes", key, i);
        }
    }
    *out = vec;
    *count = n;
    return 0;
}

static int get_long(json_t *obj, const char *key, long lo, long hi, long *out, wr_error *err)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return wr_error_set(err, 0, "\"%s\" is required", key);
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return wr_error_set(err, 0, "\"%s\" must be an integer from %ld to %ld", key, lo, hi);
    *out = (long)json_integer_value(v);
    return 0;
}

static int parse_activate(json_t *root, struct wr_request *req, wr_error *err)
{
    if (get_string_array(root, "argv", WR_MAX_ARGS, &req->argv, &req->argc, err) < 0 ||
        get_string_array(root, "env", WR_MAX_ENV, &req->env, &req->envc, err) < 0 ||
        get_string(root, "cwd", 4095, &req->cwd, err) < 0 ||
        get_string(root, "entrypoint", 4095, &req->entrypoint, err) < 0 ||
        get_string(root, "hostname", 63, &req->hostname, err) < 0)
        return -1;
    json_t *init = optional(root, "init");
    if (init && !json_is_boolean(init))
        return wr_error_set(err, 0, "\"init\" must be a boolean");
    req->init = json_is_true(init);
    json_t *no_cold = optional(root, "no_cold");
    if (no_cold && !json_is_boolean(no_cold))
        return wr_error_set(err, 0, "\"no_cold\" must be a boolean");
    req->no_cold = json_is_true(no_cold);
    for (size_t i = 0; i < req->envc; i++)
        if (!wr_env_entry_valid(req->env[i]))
            return wr_error_set(err, 0, "env entry %zu is not KEY=VALUE", i);
    if (req->argc > 0 && req->argv[0][0] == '\0')
        return wr_error_set(err, 0, "argv[0] is empty");
    if (req->cwd && req->cwd[0] != '/')
        return wr_error_set(err, 0, "\"cwd\" must be an absolute path");
    if (req->hostname && !wr_hostname_valid(req->hostname))
        return wr_error_set(err, 0, "\"hostname\" is not a valid host name");
    return 0;
}

/* The container settings pool_create and function_create share. */
static int parse_container_settings(json_t *root, struct wr_request *req, wr_error *err)
{
    long tmpfs = 0;
    if (optional(root, "tmpfs_size") &&
        get_long(root, "tmpfs_size", (long)(1L << 20), (long)(64L << 30), &tmpfs, err) < 0)
        return -1;
    req->tmpfs_size = (uint64_t)tmpfs;
    json_t *security = optional(root, "security");
    if (security) {
        if (!(req->security = malloc(sizeof *req->security)))
            return wr_error_set(err, ENOMEM, "parsing \"security\"");
        if (wr_security_from_json(security, req->security, err) < 0)
            return -1;
    }
    json_t *res = optional(root, "resources");
    if (res && wr_resources_from_json(res, &req->resources, err) < 0)
        return -1;
    return 0;
}

/* "network": a --network value, kept in its canonical form. */
static int parse_network(json_t *root, struct wr_request *req, wr_error *err)
{
    struct wr_net_mode m;
    char canonical[WR_NET_MODE_TEXT];
    if (get_string(root, "network", WR_NET_MODE_TEXT, &req->network, err) < 0)
        return -1;
    if (!req->network)
        return 0;
    if (wr_net_mode_parse(req->network, &m, err) < 0)
        return -1;
    wr_net_mode_format(&m, canonical);
    free(req->network);
    req->network = NULL;
    if (m.kind != WR_NET_NONE && !(req->network = strdup(canonical)))
        return wr_error_set(err, ENOMEM, "parsing \"network\"");
    return 0;
}

static int parse_op_fields(json_t *root, struct wr_request *req, wr_error *err)
{
    switch (req->op) {
    case WR_OP_ACTIVATE:
    case WR_OP_POOL_CREATE:
    case WR_OP_POOL_RM:
    case WR_OP_IMAGE_UPDATED:
        if (get_string(root, "image", WR_IMAGE_REF_MAX, &req->image, err) < 0)
            return -1;
        if (!req->image)
            return wr_error_set(err, 0, "\"image\" is required");
        if (req->op == WR_OP_ACTIVATE)
            return parse_activate(root, req, err);
        if (req->op == WR_OP_POOL_CREATE) {
            if (parse_container_settings(root, req, err) < 0)
                return -1;
            if (parse_network(root, req, err) < 0)
                return -1;
            json_t *volumes = optional(root, "volumes");
            if (volumes && wr_volumes_from_json(volumes, &req->volumes, err) < 0)
                return -1;
            json_t *publish = optional(root, "publish");
            if (publish && wr_publish_set_from_json(publish, &req->publish, err) < 0)
                return -1;
            json_t *autoscale = optional(root, "autoscale");
            if (autoscale && wr_autoscale_from_json(autoscale, &req->autoscale, err) < 0)
                return -1;
            return get_long(root, "size", 0, WR_POOL_SIZE_MAX, &req->size, err);
        }
        return 0;
    case WR_OP_FUNCTION_CREATE:
        if (get_string(root, "image", WR_IMAGE_REF_MAX, &req->image, err) < 0 ||
            get_string_array(root, "env", WR_MAX_ENV, &req->env, &req->envc, err) < 0 ||
            parse_container_settings(root, req, err) < 0 || parse_network(root, req, err) < 0)
            return -1;
        if (!req->image)
            return wr_error_set(err, 0, "\"image\" is required");
        json_t *fn_volumes = optional(root, "volumes");
        if (fn_volumes && wr_volumes_from_json(fn_volumes, &req->volumes, err) < 0)
            return -1;
        for (size_t i = 0; i < req->envc; i++)
            if (!wr_env_entry_valid(req->env[i]))
                return wr_error_set(err, 0, "env entry %zu is not KEY=VALUE", i);
        return wr_function_request_from_json(root, req, err);
    case WR_OP_FUNCTION_RM:
    case WR_OP_INVOKE:
        return wr_function_request_from_json(root, req, err);
    case WR_OP_KILL: {
        long sig = SIGKILL;
        if (get_string(root, "id", 12, &req->id, err) < 0)
            return -1;
        if (!req->id || !wr_container_id_valid(req->id))
            return wr_error_set(err, 0, "\"id\" must be a container id");
        if (optional(root, "signal") && get_long(root, "signal", 1, 64, &sig, err) < 0)
            return -1;
        req->signal = (int)sig;
        return 0;
    }
    case WR_OP_EVENTS: {
        json_t *since = optional(root, "since_ns");
        if (since && (!json_is_integer(since) || json_integer_value(since) < 0))
            return wr_error_set(err, 0, "\"since_ns\" must be a non-negative integer");
        req->since_ns = since ? (int64_t)json_integer_value(since) : 0;
        return 0;
    }
    case WR_OP_SIGNAL: {
        long sig;
        if (get_long(root, "signal", 1, 64, &sig, err) < 0)
            return -1;
        req->signal = (int)sig;
        return 0;
    }
    default:
        return 0;
    }
}

int wr_request_parse(const char *buf, size_t len, struct wr_request *req, wr_error *err)
{
    json_error_t jerr;
    memset(req, 0, sizeof *req);
    if (len > WR_API_REQUEST_MAX)
        return wr_error_set(err, 0, "request larger than %d bytes", WR_API_REQUEST_MAX);
    cleanup_json json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return wr_error_set(err, 0, "malformed JSON at byte %d: %s", jerr.position, jerr.text);
    if (!json_is_object(root))
        return wr_error_set(err, 0, "request must be a JSON object");
    const char *op = json_string_value(json_object_get(root, "op"));
    if (!op)
        return wr_error_set(err, 0, "\"op\" is required");
    size_t i;
    for (i = 0; i < sizeof op_names / sizeof op_names[0]; i++)
        if (strcmp(op, op_names[i].name) == 0)
            break;
    if (i == sizeof op_names / sizeof op_names[0])
        return wr_error_set(err, 0, "unknown op \"%.32s\"", op);
    req->op = op_names[i].op;
    if (parse_op_fields(root, req, err) < 0) {
        wr_request_free(req);
        return -1;
    }
    return 0;
}

static void free_vector(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

void wr_request_free(struct wr_request *req)
{
    free(req->image);
    free_vector(req->argv);
    free_vector(req->env);
    free(req->cwd);
    free(req->entrypoint);
    free(req->hostname);
    free(req->id);
    free(req->security);
    free(req->name);
    free(req->function.handler);
    free(req->invocation_type);
    free(req->network);
    wr_volumes_free(&req->volumes);
    memset(req, 0, sizeof *req);
}

/* JSON carries UTF-8 only. A request that is not is refused rather than
 * silently changed (jansson would drop the string). */
static int set_string(json_t *obj, const char *key, const char *value, wr_error *err)
{
    json_t *s = json_string(value);
    if (!s)
        return wr_error_set(err, 0, "\"%s\" is not valid UTF-8", key);
    json_object_set_new(obj, key, s);
    return 0;
}

static int set_string_array(json_t *obj, const char *key, char **v, wr_error *err)
{
    json_t *a = json_array();
    json_object_set_new(obj, key, a);
    for (size_t i = 0; v && v[i]; i++) {
        json_t *s = json_string(v[i]);
        if (!s)
            return wr_error_set(err, 0, "\"%s\"[%zu] is not valid UTF-8", key, i);
        json_array_append_new(a, s);
    }
    return 0;
}

/* Replies are informational: a string that is not UTF-8 (a file name in an
 * error message, a command cut mid-character) has its non-ASCII bytes
 * replaced by '?' instead of being lost. */
static json_t *reply_string(const char *s)
{
    json_t *j = json_string(s);
    if (j)
        return j;
    cleanup_free char *copy = strdup(s);
    if (!copy)
        return json_string("");
    for (char *p = copy; *p; p++)
        if ((unsigned char)*p >= 0x80)
            *p = '?';
    return json_string(copy);
}

static char *dump(json_t *root, size_t max, size_t *len, wr_error *err)
{
    char *s = json_dumps(root, JSON_COMPACT);
    if (!s) {
        if (err)
            wr_error_set(err, ENOMEM, "encoding JSON");
        return NULL;
    }
    *len = strlen(s);
    if (*len > max) {
        free(s);
        if (err)
            wr_error_set(err, E2BIG, "message larger than %zu bytes", max);
        return NULL;
    }
    return s;
}

char *wr_request_encode(const struct wr_request *req, size_t *len, wr_error *err)
{
    cleanup_json json_t *root = json_object();
    const char *op = NULL;
    for (size_t i = 0; i < sizeof op_names / sizeof op_names[0]; i++)
        if (op_names[i].op == req->op)
            op = op_names[i].name;
    json_object_set_new(root, "op", json_string(op));
    if (req->image && set_string(root, "image", req->image, err) < 0)
        return NULL;
    if (req->op == WR_OP_ACTIVATE &&
        (set_string_array(root, "argv", req->argv, err) < 0 ||
         set_string_array(root, "env", req->env, err) < 0 ||
         (req->cwd && set_string(root, "cwd", req->cwd, err) < 0) ||
         (req->entrypoint && set_string(root, "entrypoint", req->entrypoint, err) < 0) ||
         (req->hostname && set_string(root, "hostname", req->hostname, err) < 0)))
        return NULL;
    if (req->op == WR_OP_ACTIVATE && req->init)
        json_object_set_new(root, "init", json_true());
    if (req->op == WR_OP_ACTIVATE && req->no_cold)
        json_object_set_new(root, "no_cold", json_true());
    if (req->op == WR_OP_FUNCTION_CREATE && set_string_array(root, "env", req->env, err) < 0)
        return NULL;
    if (req->op == WR_OP_POOL_CREATE)
        json_object_set_new(root, "size", json_integer(req->size));
    if (req->op == WR_OP_POOL_CREATE || req->op == WR_OP_FUNCTION_CREATE) {
        if (req->tmpfs_size)
            json_object_set_new(root, "tmpfs_size", json_integer((json_int_t)req->tmpfs_size));
        if (req->security)
            json_object_set_new(root, "security", wr_security_to_json(req->security));
        json_object_set_new(root, "resources", wr_resources_to_json(&req->resources));
        if (req->network && set_string(root, "network", req->network, err) < 0)
            return NULL;
        if (req->volumes.n) {
            json_t *volumes = wr_volumes_to_json(&req->volumes);
            if (!volumes)
                return wr_error_set(err, 0, "a volume's path is not valid UTF-8"), NULL;
            json_object_set_new(root, "volumes", volumes);
        }
        if (req->autoscale.on)
            json_object_set_new(root, "autoscale", wr_autoscale_to_json(&req->autoscale));
        if (req->publish.n)
            json_object_set_new(root, "publish", wr_publish_set_to_json(&req->publish));
    }
    if (req->id && set_string(root, "id", req->id, err) < 0)
        return NULL;
    if (req->op == WR_OP_KILL || req->op == WR_OP_SIGNAL)
        json_object_set_new(root, "signal", json_integer(req->signal));
    if (req->op == WR_OP_EVENTS && req->since_ns)
        json_object_set_new(root, "since_ns", json_integer((json_int_t)req->since_ns));
    if (wr_function_request_to_json(root, req, err) < 0)
        return NULL;
    return dump(root, WR_API_REQUEST_MAX, len, err);
}

static json_t *encode_pools(const struct wr_reply *r)
{
    json_t *a = json_array();
    for (size_t i = 0; i < r->n_pools; i++) {
        const struct wr_pool_info *p = &r->pools[i];
        json_array_append_new(
            a, json_pack("{s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:I}", "image",
                         reply_string(p->image), "size", (json_int_t)p->size, "warm",
                         (json_int_t)p->warm, "filling", (json_int_t)p->filling, "running",
                         (json_int_t)p->running, "activations", (json_int_t)p->activations,
                         "failures", (json_int_t)p->failures, "last_error",
                         reply_string(p->last_error), "tmpfs_size", (json_int_t)p->tmpfs_size));
        json_object_set_new(json_array_get(a, i), "resources", reply_string(p->resources));
        if (p->autoscale.on) {
            json_t *as = wr_autoscale_to_json(&p->autoscale);
            json_object_set_new(as, "why", reply_string(p->autoscale_why));
            json_object_set_new(json_array_get(a, i), "autoscale", as);
        }
        json_object_set_new(json_array_get(a, i), "profile", reply_string(p->profile));
        json_t *settings = p->settings ? json_loads(p->settings, 0, NULL) : NULL;
        if (json_is_object(settings)) {
            json_object_del(settings, "op");
            json_object_del(settings, "image");
            json_object_del(settings, "size");
            json_object_set_new(json_array_get(a, i), "settings", settings);
        } else {
            json_decref(settings);
        }
    }
    return a;
}

static json_t *encode_containers(const struct wr_reply *r)
{
    json_t *a = json_array();
    for (size_t i = 0; i < r->n_containers; i++) {
        const struct wr_container_info *c = &r->containers[i];
        json_array_append_new(
            a, json_pack("{s:s, s:o, s:s, s:I, s:I, s:I, s:o}", "id", c->id, "image",
                         reply_string(c->image), "state", c->state, "pid", (json_int_t)c->pid,
                         "shim_pid", (json_int_t)c->shim_pid, "created", (json_int_t)c->created,
                         "command", reply_string(c->command)));
        json_t *o = json_array_get(a, i);
        json_object_set_new(o, "cpus", reply_string(c->cpus));
        json_object_set_new(o, "oom", json_boolean(c->oom));
    }
    return a;
}

char *wr_reply_encode(const struct wr_reply *r, size_t *len)
{
    cleanup_json json_t *root = json_object();
    json_object_set_new(root, "ok", json_boolean(r->ok));
    if (!r->ok) {
        json_object_set_new(root, "code", json_string(r->code[0] ? r->code : "internal"));
        json_object_set_new(root, "error", reply_string(r->error));
        return dump(root, WR_API_MSG_MAX, len, NULL);
    }
    switch (r->kind) {
    case WR_REPLY_POOLS:
        json_object_set_new(root, "pools", encode_pools(r));
        break;
    case WR_REPLY_CONTAINERS:
        json_object_set_new(root, "containers", encode_containers(r));
        if (r->containers_omitted > 0)
            json_object_set_new(root, "omitted", json_integer(r->containers_omitted));
        break;
    case WR_REPLY_STATS:
        json_object_set_new(
            root, "stats",
            json_pack("{s:I, s:I, s:I, s:I, s:f, s:f, s:f, s:f, s:f, s:f, s:f}", "activations",
                      (json_int_t)r->stats.activations, "warm_hits", (json_int_t)r->stats.warm_hits,
                      "misses", (json_int_t)r->stats.misses, "samples",
                      (json_int_t)r->stats.samples, "p50_us", r->stats.p50_us, "p99_us",
                      r->stats.p99_us, "mean_us", r->stats.mean_us, "max_us", r->stats.max_us,
                      "daemon_p50_us", r->stats.daemon_p50_us, "wake_p50_us", r->stats.wake_p50_us,
                      "container_p50_us", r->stats.container_p50_us));
        break;
    case WR_REPLY_EXIT:
        json_object_set_new(root, "event", json_string("exit"));
        json_object_set_new(root, "id", json_string(r->exit.id));
        json_object_set_new(root, "exit_code", json_integer(r->exit.exit_code));
        if (r->exit.signal)
            json_object_set_new(root, "signal", json_integer(r->exit.signal));
        if (r->exit.error[0])
            json_object_set_new(root, "error", reply_string(r->exit.error));
        json_object_set_new(root, "exec_ns", json_integer(r->exit.exec_ns));
        if (r->exit.oom)
            json_object_set_new(root, "oom", json_true());
        json_object_set_new(root, "start", json_string(r->exit.cold ? "cold" : "warm"));
        if (r->exit.cold && r->exit.reason[0])
            json_object_set_new(root, "reason", reply_string(r->exit.reason));
        break;
    case WR_REPLY_FUNCTIONS:
    case WR_REPLY_INVOKE:
        wr_function_reply_to_json(root, r);
        break;
    case WR_REPLY_PLAIN:
        break;
    }
    return dump(root, WR_API_MSG_MAX, len, NULL);
}

char *wr_reply_error(const char *code, const char *message, size_t *len)
{
    struct wr_reply r = {.ok = false};
    snprintf(r.code, sizeof r.code, "%s", code);
    snprintf(r.error, sizeof r.error, "%s", message);
    return wr_reply_encode(&r, len);
}

static int parse_pools(json_t *a, struct wr_reply *r, wr_error *err)
{
    size_t n = json_array_size(a);
    r->pools = calloc(n ? n : 1, sizeof *r->pools);
    if (!r->pools)
        return wr_error_set(err, ENOMEM, "parsing reply");
    r->n_pools = n;
    for (size_t i = 0; i < n; i++) {
        json_t *p = json_array_get(a, i);
        struct wr_pool_info *o = &r->pools[i];
        wr_json_copy_str(o->image, sizeof o->image, p, "image");
        wr_json_copy_str(o->last_error, sizeof o->last_error, p, "last_error");
        o->size = wr_json_get_long(p, "size");
        o->warm = wr_json_get_long(p, "warm");
        o->filling = wr_json_get_long(p, "filling");
        o->running = wr_json_get_long(p, "running");
        o->activations = wr_json_get_long(p, "activations");
        o->failures = wr_json_get_long(p, "failures");
        o->tmpfs_size = (uint64_t)json_integer_value(json_object_get(p, "tmpfs_size"));
        wr_json_copy_str(o->resources, sizeof o->resources, p, "resources");
        json_t *as = json_object_get(p, "autoscale");
        if (json_is_object(as)) {
            o->autoscale = (struct wr_autoscale){.on = true};
            o->autoscale.min = wr_json_get_long(as, "min");
            o->autoscale.max = wr_json_get_long(as, "max");
            o->autoscale.idle_ttl_s = wr_json_get_long(as, "idle_ttl_s");
            wr_json_copy_str(o->autoscale_why, sizeof o->autoscale_why, as, "why");
        }
        wr_json_copy_str(o->profile, sizeof o->profile, p, "profile");
        json_t *settings = json_object_get(p, "settings");
        if (json_is_object(settings) &&
            !(o->settings = json_dumps(settings, JSON_COMPACT | JSON_SORT_KEYS)))
            return wr_error_set(err, ENOMEM, "parsing reply");
    }
    return 0;
}

static int parse_containers(json_t *a, struct wr_reply *r, wr_error *err)
{
    size_t n = json_array_size(a);
    r->containers = calloc(n ? n : 1, sizeof *r->containers);
    if (!r->containers)
        return wr_error_set(err, ENOMEM, "parsing reply");
    r->n_containers = n;
    for (size_t i = 0; i < n; i++) {
        json_t *c = json_array_get(a, i);
        struct wr_container_info *o = &r->containers[i];
        wr_json_copy_str(o->id, sizeof o->id, c, "id");
        wr_json_copy_str(o->image, sizeof o->image, c, "image");
        wr_json_copy_str(o->state, sizeof o->state, c, "state");
        wr_json_copy_str(o->command, sizeof o->command, c, "command");
        o->pid = wr_json_get_long(c, "pid");
        o->shim_pid = wr_json_get_long(c, "shim_pid");
        o->created = wr_json_get_long(c, "created");
        wr_json_copy_str(o->cpus, sizeof o->cpus, c, "cpus");
        o->oom = json_is_true(json_object_get(c, "oom"));
    }
    return 0;
}

static void parse_stats(json_t *s, struct wr_stats_info *o)
{
    o->activations = wr_json_get_long(s, "activations");
    o->warm_hits = wr_json_get_long(s, "warm_hits");
    o->misses = wr_json_get_long(s, "misses");
    o->samples = wr_json_get_long(s, "samples");
    o->p50_us = json_number_value(json_object_get(s, "p50_us"));
    o->p99_us = json_number_value(json_object_get(s, "p99_us"));
    o->mean_us = json_number_value(json_object_get(s, "mean_us"));
    o->max_us = json_number_value(json_object_get(s, "max_us"));
    o->daemon_p50_us = json_number_value(json_object_get(s, "daemon_p50_us"));
    o->wake_p50_us = json_number_value(json_object_get(s, "wake_p50_us"));
    o->container_p50_us = json_number_value(json_object_get(s, "container_p50_us"));
}

int wr_reply_parse(const char *buf, size_t len, struct wr_reply *r, wr_error *err)
{
    json_error_t jerr;
    memset(r, 0, sizeof *r);
    cleanup_json json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root || !json_is_object(root))
        return wr_error_set(err, 0, "malformed reply from the daemon");
    json_t *ok = json_object_get(root, "ok");
    if (!json_is_boolean(ok))
        return wr_error_set(err, 0, "reply without \"ok\"");
    r->ok = json_is_true(ok);
    if (!r->ok) {
        wr_json_copy_str(r->code, sizeof r->code, root, "code");
        wr_json_copy_str(r->error, sizeof r->error, root, "error");
        return 0;
    }
    json_t *v;
    if ((v = json_object_get(root, "pools"))) {
        r->kind = WR_REPLY_POOLS;
        return parse_pools(v, r, err);
    }
    if ((v = json_object_get(root, "containers"))) {
        r->kind = WR_REPLY_CONTAINERS;
        json_t *omitted = json_object_get(root, "omitted");
        r->containers_omitted = json_is_integer(omitted) ? (long)json_integer_value(omitted) : 0;
        return parse_containers(v, r, err);
    }
    if ((v = json_object_get(root, "stats"))) {
        r->kind = WR_REPLY_STATS;
        parse_stats(v, &r->stats);
        return 0;
    }
    if (json_object_get(root, "functions") || json_object_get(root, "invoke"))
        return wr_function_reply_from_json(root, r, err);
    const char *event = json_string_value(json_object_get(root, "event"));
    if (event && strcmp(event, "exit") == 0) {
        r->kind = WR_REPLY_EXIT;
        wr_json_copy_str(r->exit.id, sizeof r->exit.id, root, "id");
        wr_json_copy_str(r->exit.error, sizeof r->exit.error, root, "error");
        r->exit.exit_code = (int)wr_json_get_long(root, "exit_code");
        r->exit.signal = (int)wr_json_get_long(root, "signal");
        r->exit.exec_ns = (int64_t)json_integer_value(json_object_get(root, "exec_ns"));
        r->exit.oom = json_is_true(json_object_get(root, "oom"));
        const char *start = json_string_value(json_object_get(root, "start"));
        r->exit.cold = start && strcmp(start, "cold") == 0;
        wr_json_copy_str(r->exit.reason, sizeof r->exit.reason, root, "reason");
    }
    return 0;
}

void wr_reply_free(struct wr_reply *r)
{
    for (size_t i = 0; r->pools && i < r->n_pools; i++)
        free(r->pools[i].settings);
    free(r->pools);
    free(r->containers);
    free(r->functions);
    r->pools = NULL;
    r->containers = NULL;
    r->functions = NULL;
}
