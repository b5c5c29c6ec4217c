/* See protocol_volumes.h. */
#include "protocol_volumes.h"

#include <string.h>

static const char *member_string(json_t *o, const char *key, size_t i, wr_error *err)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v))
        return NULL;
    if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v)) {
        wr_error_set(err, 0, "\"volumes\"[%zu].%s must be a string without NUL bytes", i, key);
        return NULL;
    }
    return json_string_value(v);
}

int wr_volumes_from_json(json_t *arr, struct wr_volumes *vs, wr_error *err)
{
    memset(vs, 0, sizeof *vs);
    if (!json_is_array(arr))
        return wr_error_set(err, 0, "\"volumes\" must be an array");
    if (json_array_size(arr) > WR_VOLUMES_MAX)
        return wr_error_set(err, 0, "\"volumes\" has more than %d entries", WR_VOLUMES_MAX);
    for (size_t i = 0; i < json_array_size(arr); i++) {
        json_t *o = json_array_get(arr, i);
        err->msg[0] = '\0';
        if (!json_is_object(o))
            return wr_error_set(err, 0, "\"volumes\"[%zu] must be an object", i);
        const char *type = member_string(o, "type", i, err);
        const char *source = member_string(o, "source", i, err);
        const char *target = member_string(o, "target", i, err);
        if (err->msg[0])
            return -1;
        json_t *ro = json_object_get(o, "readonly"), *size = json_object_get(o, "size"),
               *mode = json_object_get(o, "mode");
        if ((ro && !json_is_boolean(ro)) ||
            (size && (!json_is_integer(size) || json_integer_value(size) < 0)) ||
            (mode && (!json_is_integer(mode) || json_integer_value(mode) < 0 ||
                      json_integer_value(mode) > 07777)))
            return wr_error_set(err, 0,
                                "\"volumes\"[%zu]: readonly is a boolean, size and mode "
                                "non-negative integers (mode at most 07777)",
                                i);
        enum wr_volume_type t = type && strcmp(type, "bind") == 0    ? WR_VOLUME_BIND
                                : type && strcmp(type, "tmpfs") == 0 ? WR_VOLUME_TMPFS
                                                                     : 0;
        if (!t)
            return wr_error_set(err, 0, "\"volumes\"[%zu].type must be \"bind\" or \"tmpfs\"", i);
        if (t == WR_VOLUME_BIND && (size || mode))
            return wr_error_set(err, 0, "\"volumes\"[%zu]: a bind volume has no size or mode", i);
        uint32_t m = mode ? (uint32_t)json_integer_value(mode) : WR_VOLUME_TMPFS_MODE;
        if (wr_volumes_add(vs, t, source, target, json_is_true(ro),
                           size ? (uint64_t)json_integer_value(size) : 0,
                           t == WR_VOLUME_TMPFS ? m : 0, err) < 0) {
            wr_volumes_free(vs);
            return wr_error_prefix(err, "\"volumes\"[%zu]", i);
        }
    }
    return 0;
}

json_t *wr_volumes_to_json(const struct wr_volumes *vs)
{
    json_t *a = json_array();
    for (size_t i = 0; i < vs->n; i++) {
        const struct wr_volume *v = &vs->v[i];
        json_t *o = json_object();
        json_t *target = json_string(v->target),
               *source = v->source ? json_string(v->source) : NULL;
        json_object_set_new(o, "type", json_string(v->type == WR_VOLUME_BIND ? "bind" : "tmpfs"));
        json_array_append_new(a, o);
        /* JSON carries UTF-8 only: such a path cannot be sent. */
        if (!target || (v->source && !source)) {
            json_decref(target);
            json_decref(source);
            json_decref(a);
            return NULL;
        }
        if (source)
            json_object_set_new(o, "source", source);
        json_object_set_new(o, "target", target);
        json_object_set_new(o, "readonly", json_boolean(v->readonly));
        if (v->type == WR_VOLUME_TMPFS) {
            json_object_set_new(o, "size", json_integer((json_int_t)v->size));
            json_object_set_new(o, "mode", json_integer(v->mode));
        }
    }
    return a;
}
