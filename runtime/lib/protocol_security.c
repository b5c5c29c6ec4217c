/* JSON form of a security profile (see protocol_security.h). */
#include "protocol_security.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

static json_t *member(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return v && !json_is_null(v) ? v : NULL;
}

static int get_bool(json_t *obj, const char *key, bool *out, wr_error *err)
{
    json_t *v = member(obj, key);
    if (!v)
        return 0;
    if (!json_is_boolean(v))
        return wr_error_set(err, 0, "\"security.%s\" must be a boolean", key);
    *out = json_is_true(v);
    return 0;
}

static const char *get_str(json_t *obj, const char *key, wr_error *err)
{
    json_t *v = member(obj, key);
    if (!v)
        return "";
    if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v)) {
        wr_error_set(err, 0, "\"security.%s\" must be a string without NUL bytes", key);
        return NULL;
    }
    return json_string_value(v);
}

static int parse_caps(json_t *caps, struct wr_security_profile *p, wr_error *err)
{
    if (!json_is_array(caps) || json_array_size(caps) > 64)
        return wr_error_set(err, 0, "\"security.capabilities\" must be an array of names");
    p->caps = 0;
    for (size_t i = 0; i < json_array_size(caps); i++) {
        json_t *c = json_array_get(caps, i);
        int cap = json_is_string(c) ? wr_capability_from_name(json_string_value(c)) : -1;
        if (cap < 0)
            return wr_error_set(err, 0, "\"security.capabilities\"[%zu] is not a capability", i);
        p->caps |= 1ULL << cap;
    }
    return 0;
}

static int parse_ulimits(json_t *a, struct wr_security_profile *p, wr_error *err)
{
    if (!json_is_array(a) || json_array_size(a) > WR_ULIMITS_MAX)
        return wr_error_set(err, 0, "\"security.ulimits\" must be an array of at most %d",
                            WR_ULIMITS_MAX);
    for (size_t i = 0; i < json_array_size(a); i++) {
        json_t *u = json_array_get(a, i), *soft = json_object_get(u, "soft"),
               *hard = json_object_get(u, "hard");
        const char *name = json_string_value(json_object_get(u, "name"));
        char spec[128];
        if (!name || !json_is_integer(soft) || !json_is_integer(hard) || strlen(name) > 16)
            return wr_error_set(err, 0,
                                "\"security.ulimits\"[%zu] needs name, soft and hard (-1: "
                                "unlimited)",
                                i);
        snprintf(spec, sizeof spec, "%s=%lld:%lld", name, (long long)json_integer_value(soft),
                 (long long)json_integer_value(hard));
        if (wr_security_option(p, "ulimit", spec, err) < 0)
            return -1;
    }
    return 0;
}

int wr_security_from_json(json_t *obj, struct wr_security_profile *p, wr_error *err)
{
    wr_security_profile_default(p);
    if (!json_is_object(obj))
        return wr_error_set(err, 0, "\"security\" must be an object");
    json_t *v;
    const char *s;
    if ((v = member(obj, "capabilities")) && parse_caps(v, p, err) < 0)
        return -1;
    if (get_bool(obj, "privileged", &p->privileged, err) < 0 ||
        get_bool(obj, "read_only", &p->read_only, err) < 0)
        return -1;
    if (!(s = get_str(obj, "seccomp", err)))
        return -1;
    if (s[0]) {
        char opt[WR_SECCOMP_MAX + 16];
        if (strlen(s) > WR_SECCOMP_MAX)
            return wr_error_set(err, 0, "\"security.seccomp\" is too long");
        snprintf(opt, sizeof opt, "seccomp=%s", s);
        if (wr_security_option(p, "security-opt", opt, err) < 0)
            return -1;
    }
    if (!(s = get_str(obj, "user", err)))
        return -1;
    if (s[0] && wr_security_option(p, "user", s, err) < 0)
        return -1;
    if ((v = member(obj, "umask"))) {
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 0777)
            return wr_error_set(err, 0, "\"security.umask\" must be an integer from 0 to 511");
        p->umask = (unsigned)json_integer_value(v);
    }
    if ((v = member(obj, "ulimits")) && parse_ulimits(v, p, err) < 0)
        return -1;
    if (!(s = get_str(obj, "userns", err)))
        return -1;
    if (s[0] && wr_security_option(p, "userns", s, err) < 0)
        return -1;
    return wr_security_profile_validate(p, err);
}

json_t *wr_security_to_json(const struct wr_security_profile *p)
{
    json_t *o = json_object(), *caps = json_array(), *ul = json_array();
    for (int c = 0; c < 64; c++)
        if ((p->caps >> c) & 1 && wr_capability_name(c))
            json_array_append_new(caps, json_string(wr_capability_name(c)));
    json_object_set_new(o, "capabilities", caps);
    json_object_set_new(o, "privileged", json_boolean(p->privileged));
    json_object_set_new(o, "read_only", json_boolean(p->read_only));
    json_object_set_new(o, "seccomp",
                        json_string(p->seccomp_mode == WR_SECCOMP_UNCONFINED ? "unconfined"
                                    : p->seccomp_mode == WR_SECCOMP_DEFAULT  ? "default"
                                                                             : p->seccomp));
    if (p->user[0])
        json_object_set_new(o, "user", json_string(p->user));
    json_object_set_new(o, "umask", json_integer(p->umask));
    for (size_t i = 0; i < p->n_ulimits; i++) {
        const struct wr_ulimit *u = &p->ulimits[i];
        json_array_append_new(
            ul,
            json_pack("{s:s, s:I, s:I}", "name", wr_rlimit_name(u->resource), "soft",
                      (json_int_t)(u->soft == WR_RLIM_INFINITY ? -1 : (json_int_t)u->soft), "hard",
                      (json_int_t)(u->hard == WR_RLIM_INFINITY ? -1 : (json_int_t)u->hard)));
    }
    json_object_set_new(o, "ulimits", ul);
    if (p->userns_size) {
        char range[32];
        snprintf(range, sizeof range, "%u:%u", p->userns_base, p->userns_size);
        json_object_set_new(o, "userns", json_string(range));
    } else if (p->userns_explicit) {
        /* An explicit opt-out, which a daemon's --userns-default respects. */
        json_object_set_new(o, "userns", json_string("host"));
    }
    return o;
}
