/* JSON of the function requests and replies (protocol_function.h,
 * docs/api.md "Functions"). Every member is checked before it is used. */
#include "protocol_function.h"

#include "protocol_function_json.h"
#include "protocol_json.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool wr_function_name_valid(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > WR_FUNCTION_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return false;
    }
    return true;
}

static int dup_string(json_t *root, const char *key, size_t max, char **out, wr_error *err)
{
    json_t *v = json_object_get(root, key);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v) || json_string_length(v) > max ||
        strlen(json_string_value(v)) != json_string_length(v))
        return wr_error_set(err, 0, "\"%s\" must be a string of at most %zu bytes", key, max);
    if (!(*out = strdup(json_string_value(v))))
        return wr_error_set(err, ENOMEM, "parsing \"%s\"", key);
    return 0;
}

static int ranged(json_t *root, const char *key, long lo, long hi, long dflt, long *out,
                  wr_error *err)
{
    json_t *v = json_object_get(root, key);
    if (!v || json_is_null(v)) {
        *out = dflt;
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return wr_error_set(err, 0, "\"%s\" must be an integer from %ld to %ld", key, lo, hi);
    *out = (long)json_integer_value(v);
    return 0;
}

static int bool_member(json_t *root, const char *key, bool *out, wr_error *err)
{
    json_t *v = json_object_get(root, key);
    if (v && !json_is_null(v) && !json_is_boolean(v))
        return wr_error_set(err, 0, "\"%s\" must be a boolean", key);
    *out = json_is_true(v);
    return 0;
}

int wr_function_request_from_json(json_t *root, struct wr_request *req, wr_error *err)
{
    struct wr_function_spec *f = &req->function;
    if (dup_string(root, "name", WR_FUNCTION_NAME_MAX, &req->name, err) < 0)
        return -1;
    if (!req->name || !wr_function_name_valid(req->name))
        return wr_error_set(err, 0, "\"name\" must be 1 to %d letters, digits, - or _",
                            WR_FUNCTION_NAME_MAX);
    if (req->op == WR_OP_INVOKE) {
        if (bool_member(root, "log_tail", &req->log_tail, err) < 0 ||
            dup_string(root, "invocation_type", 32, &req->invocation_type, err) < 0)
            return -1;
        const char *t = req->invocation_type;
        if (t && strcmp(t, "RequestResponse") != 0 && strcmp(t, "Event") != 0 &&
            strcmp(t, "DryRun") != 0)
            return wr_error_set(err, 0,
                                "\"invocation_type\" must be RequestResponse, Event or DryRun");
        return 0;
    }
    if (req->op != WR_OP_FUNCTION_CREATE)
        return 0;
    if (ranged(root, "min", 0, WR_FUNCTION_ENVS_MAX, 1, &f->min, err) < 0 ||
        ranged(root, "max", 1, WR_FUNCTION_ENVS_MAX, f->min > 0 ? f->min : 1, &f->max, err) < 0 ||
        ranged(root, "timeout", 1, WR_FUNCTION_TIMEOUT_MAX, 3, &f->timeout_s, err) < 0 ||
        ranged(root, "memory", 128, 10240, 128, &f->memory_mb, err) < 0 ||
        dup_string(root, "handler", 4095, &f->handler, err) < 0 ||
        bool_member(root, "fresh", &f->fresh, err) < 0)
        return -1;
    if (f->max < f->min)
        return wr_error_set(err, 0, "\"max\" (%ld) is below \"min\" (%ld)", f->max, f->min);
    if (f->handler && !f->handler[0])
        return wr_error_set(err, 0, "\"handler\" is empty");
    return 0;
}

int wr_function_request_to_json(json_t *root, const struct wr_request *req, wr_error *err)
{
    const struct wr_function_spec *f = &req->function;
    if (req->op != WR_OP_FUNCTION_CREATE && req->op != WR_OP_FUNCTION_RM && req->op != WR_OP_INVOKE)
        return 0;
    json_t *name = json_string(req->name ? req->name : "");
    if (!name)
        return wr_error_set(err, 0, "\"name\" is not valid UTF-8");
    json_object_set_new(root, "name", name);
    if (req->op == WR_OP_INVOKE) {
        if (req->log_tail)
            json_object_set_new(root, "log_tail", json_true());
        if (req->invocation_type)
            json_object_set_new(root, "invocation_type", json_string(req->invocation_type));
        return 0;
    }
    if (req->op != WR_OP_FUNCTION_CREATE)
        return 0;
    json_object_set_new(root, "min", json_integer(f->min));
    json_object_set_new(root, "max", json_integer(f->max));
    json_object_set_new(root, "timeout", json_integer(f->timeout_s));
    json_object_set_new(root, "memory", json_integer(f->memory_mb));
    if (f->fresh)
        json_object_set_new(root, "fresh", json_true());
    if (f->handler) {
        json_t *h = json_string(f->handler);
        if (!h)
            return wr_error_set(err, 0, "\"handler\" is not valid UTF-8");
        json_object_set_new(root, "handler", h);
    }
    return 0;
}

void wr_function_reply_to_json(json_t *root, const struct wr_reply *r)
{
    if (r->kind == WR_REPLY_INVOKE) {
        json_t *o = json_pack("{s:s, s:s}", "request_id", r->invoke.request_id, "function_error",
                              r->invoke.function_error);
        /* The log is the workload's: bytes that are not UTF-8 become '?'. */
        char tail[sizeof r->invoke.log_tail];
        memcpy(tail, r->invoke.log_tail, sizeof tail);
        json_t *t = json_string(tail);
        if (!t) {
            for (char *p = tail; *p; p++)
                if ((unsigned char)*p >= 0x80)
                    *p = '?';
            t = json_string(tail);
        }
        json_object_set_new(o, "log_tail", t ? t : json_string(""));
        json_object_set_new(root, "invoke", o);
        return;
    }
    json_t *a = json_array();
    for (size_t i = 0; i < r->n_functions; i++) {
        const struct wr_function_info *f = &r->functions[i];
        json_array_append_new(
            a,
            json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
                      "s:s}",
                      "name", f->name, "image", f->image, "min", (json_int_t)f->min, "max",
                      (json_int_t)f->max, "timeout", (json_int_t)f->timeout_s, "memory",
                      (json_int_t)f->memory_mb, "fresh", f->fresh, "environments",
                      (json_int_t)f->environments, "idle", (json_int_t)f->idle, "busy",
                      (json_int_t)f->busy, "queued", (json_int_t)f->queued, "invocations",
                      (json_int_t)f->invocations, "errors", (json_int_t)f->errors, "init_failures",
                      (json_int_t)f->init_failures, "last_error", f->last_error));
    }
    json_object_set_new(root, "functions", a);
}

char *wr_function_list_json(const struct wr_function_info *f, size_t n)
{
    struct wr_reply r = {.ok = true,
                         .kind = WR_REPLY_FUNCTIONS,
                         .functions = (struct wr_function_info *)f,
                         .n_functions = n};
    json_t *root = json_object();
    wr_function_reply_to_json(root, &r);
    char *s = json_dumps(json_object_get(root, "functions"), JSON_INDENT(2));
    json_decref(root);
    return s;
}

int wr_function_reply_from_json(json_t *root, struct wr_reply *r, wr_error *err)
{
    json_t *o = json_object_get(root, "invoke");
    if (o) {
        r->kind = WR_REPLY_INVOKE;
        wr_json_copy_str(r->invoke.request_id, sizeof r->invoke.request_id, o, "request_id");
        wr_json_copy_str(r->invoke.function_error, sizeof r->invoke.function_error, o,
                         "function_error");
        wr_json_copy_str(r->invoke.log_tail, sizeof r->invoke.log_tail, o, "log_tail");
        return 0;
    }
    json_t *a = json_object_get(root, "functions");
    if (!json_is_array(a))
        return wr_error_set(err, 0, "malformed function list");
    r->kind = WR_REPLY_FUNCTIONS;
    r->n_functions = json_array_size(a);
    r->functions = calloc(r->n_functions ? r->n_functions : 1, sizeof *r->functions);
    if (!r->functions)
        return wr_error_set(err, ENOMEM, "function list");
    for (size_t i = 0; i < r->n_functions; i++) {
        json_t *e = json_array_get(a, i);
        struct wr_function_info *f = &r->functions[i];
        wr_json_copy_str(f->name, sizeof f->name, e, "name");
        wr_json_copy_str(f->image, sizeof f->image, e, "image");
        wr_json_copy_str(f->last_error, sizeof f->last_error, e, "last_error");
        f->min = wr_json_get_long(e, "min");
        f->max = wr_json_get_long(e, "max");
        f->timeout_s = wr_json_get_long(e, "timeout");
        f->memory_mb = wr_json_get_long(e, "memory");
        f->fresh = json_is_true(json_object_get(e, "fresh"));
        f->environments = wr_json_get_long(e, "environments");
        f->idle = wr_json_get_long(e, "idle");
        f->busy = wr_json_get_long(e, "busy");
        f->queued = wr_json_get_long(e, "queued");
        f->invocations = wr_json_get_long(e, "invocations");
        f->errors = wr_json_get_long(e, "errors");
        f->init_failures = wr_json_get_long(e, "init_failures");
    }
    return 0;
}
