/* Docker's seccomp profile JSON (as `docker run --security-opt
 * seccomp=FILE` reads it) into warmrun's plain rule table. Unknown
 * members are ignored, as Docker does; wrong types are errors. */
#include "seccomp_profile.h"

#include "cleanup.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define cleanup_json __attribute__((cleanup(json_decrefp)))

#define PROFILE_MAX_BYTES (1 << 20)
#define RULES_MAX         4096
#define NAMES_MAX         4096

static const struct {
    const char *name;
    enum wr_seccomp_action action;
} actions[] = {
    {"SCMP_ACT_ALLOW", WR_ACT_ALLOW},
    {"SCMP_ACT_ERRNO", WR_ACT_ERRNO},
    {"SCMP_ACT_KILL", WR_ACT_KILL_THREAD},
    {"SCMP_ACT_KILL_THREAD", WR_ACT_KILL_THREAD},
    {"SCMP_ACT_KILL_PROCESS", WR_ACT_KILL_PROCESS},
    {"SCMP_ACT_TRAP", WR_ACT_TRAP},
    {"SCMP_ACT_LOG", WR_ACT_LOG},
};

static const struct {
    const char *name;
    enum wr_seccomp_op op;
} ops[] = {
    {"SCMP_CMP_NE", WR_CMP_NE},
    {"SCMP_CMP_LT", WR_CMP_LT},
    {"SCMP_CMP_LE", WR_CMP_LE},
    {"SCMP_CMP_EQ", WR_CMP_EQ},
    {"SCMP_CMP_GE", WR_CMP_GE},
    {"SCMP_CMP_GT", WR_CMP_GT},
    {"SCMP_CMP_MASKED_EQ", WR_CMP_MASKED_EQ},
};

static int parse_action(json_t *v, enum wr_seccomp_action *out, wr_error *err)
{
    const char *s = json_string_value(v);
    for (size_t i = 0; s && i < sizeof actions / sizeof actions[0]; i++)
        if (strcmp(s, actions[i].name) == 0) {
            *out = actions[i].action;
            return 0;
        }
    return wr_error_set(err, 0, "unsupported action %.40s", s ? s : "(not a string)");
}

static int parse_errno(json_t *v, int *out, wr_error *err)
{
    if (!v || json_is_null(v))
        return 0;
    /* libseccomp takes SCMP_ACT_ERRNO(n) for n below MAX_ERRNO (4095) only
     * (sys_chk_seccomp_action): 4095 would fail later, at compile time. */
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 4094)
        return wr_error_set(err, 0, "errnoRet must be an integer from 0 to 4094");
    *out = (int)json_integer_value(v);
    return 0;
}

static int parse_caps(json_t *obj, const char *key, uint64_t *out, wr_error *err)
{
    json_t *caps = json_object_get(obj, "caps");
    *out = 0;
    if (!caps || json_is_null(caps))
        return 0;
    if (!json_is_array(caps))
        return wr_error_set(err, 0, "%s.caps must be an array", key);
    for (size_t i = 0; i < json_array_size(caps); i++) {
        json_t *c = json_array_get(caps, i);
        int cap = json_is_string(c) ? wr_capability_from_name(json_string_value(c)) : -1;
        if (cap < 0)
            return wr_error_set(err, 0, "%s.caps[%zu] is not a capability", key, i);
        *out |= 1ULL << cap;
    }
    return 0;
}

/* includes.arches naming no x86 architecture: the rule is for another
 * machine. */
static bool for_other_arch(json_t *includes)
{
    json_t *arches = json_object_get(includes, "arches");
    if (!json_is_array(arches) || json_array_size(arches) == 0)
        return false;
    for (size_t i = 0; i < json_array_size(arches); i++) {
        json_t *a = json_array_get(arches, i);
        const char *s = json_string_value(a);
        if (s && (strcmp(s, "amd64") == 0 || strcmp(s, "x86") == 0 || strcmp(s, "x32") == 0))
            return false;
    }
    return true;
}

static int parse_args(json_t *args, struct wr_seccomp_rule *r, wr_error *err)
{
    if (!args || json_is_null(args))
        return 0;
    if (!json_is_array(args) || json_array_size(args) > WR_SECCOMP_ARGS_MAX)
        return wr_error_set(err, 0, "args must be an array of at most %d", WR_SECCOMP_ARGS_MAX);
    for (size_t i = 0; i < json_array_size(args); i++) {
        json_t *a = json_array_get(args, i);
        struct wr_seccomp_arg *o = &r->args[i];
        json_t *index = json_object_get(a, "index"), *value = json_object_get(a, "value"),
               *two = json_object_get(a, "valueTwo");
        const char *op = json_string_value(json_object_get(a, "op"));
        if (!json_is_integer(index) || json_integer_value(index) < 0 ||
            json_integer_value(index) > 5 || !json_is_integer(value) ||
            (two && !json_is_null(two) && !json_is_integer(two)) || !op)
            return wr_error_set(err, 0, "args[%zu]: index 0..5, value, op required", i);
        o->index = (unsigned)json_integer_value(index);
        o->value = (uint64_t)json_integer_value(value);
        o->value_two = json_is_integer(two) ? (uint64_t)json_integer_value(two) : 0;
        size_t k;
        for (k = 0; k < sizeof ops / sizeof ops[0]; k++)
            if (strcmp(op, ops[k].name) == 0)
                break;
        if (k == sizeof ops / sizeof ops[0])
            return wr_error_set(err, 0, "args[%zu]: unknown op %.32s", i, op);
        o->op = ops[k].op;
    }
    r->n_args = json_array_size(args);
    return 0;
}

static int parse_names(json_t *sc, struct wr_seccomp_rule *r, wr_error *err)
{
    json_t *names = json_object_get(sc, "names"), *name = json_object_get(sc, "name");
    size_t n = json_is_array(names) ? json_array_size(names) : 0;
    if (json_is_string(name))
        n++;
    if (n == 0 || n > NAMES_MAX)
        return wr_error_set(err, 0, "a rule needs 1 to %d names", NAMES_MAX);
    char **v = calloc(n + 1, sizeof *v);
    if (!v)
        return wr_error_set(err, ENOMEM, "seccomp profile");
    r->names = (const char *const *)v;
    size_t k = 0;
    if (json_is_string(name) && !(v[k++] = strdup(json_string_value(name))))
        return wr_error_set(err, ENOMEM, "seccomp profile");
    for (size_t i = 0; i < json_array_size(names); i++) {
        json_t *s = json_array_get(names, i);
        if (!json_is_string(s))
            return wr_error_set(err, 0, "names[%zu] is not a string", i);
        if (!(v[k++] = strdup(json_string_value(s))))
            return wr_error_set(err, ENOMEM, "seccomp profile");
    }
    return 0;
}

static int parse_rule(json_t *sc, struct wr_seccomp_rule *r, bool *skip, wr_error *err)
{
    json_t *inc = json_object_get(sc, "includes"), *exc = json_object_get(sc, "excludes");
    r->errno_ret = -1;
    if (!json_is_object(sc))
        return wr_error_set(err, 0, "not an object");
    if (parse_names(sc, r, err) < 0 ||
        parse_action(json_object_get(sc, "action"), &r->action, err) < 0 ||
        parse_errno(json_object_get(sc, "errnoRet"), &r->errno_ret, err) < 0 ||
        parse_args(json_object_get(sc, "args"), r, err) < 0)
        return -1;
    if (inc && json_is_object(inc) && parse_caps(inc, "includes", &r->caps_include, err) < 0)
        return -1;
    if (exc && json_is_object(exc) && parse_caps(exc, "excludes", &r->caps_exclude, err) < 0)
        return -1;
    *skip = json_is_object(inc) && for_other_arch(inc);
    return 0;
}

int wr_seccomp_profile_parse(const char *text, size_t len, struct wr_seccomp_profile *out,
                             wr_error *err)
{
    json_error_t jerr;
    memset(out, 0, sizeof *out);
    cleanup_json json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root || !json_is_object(root))
        return wr_error_set(err, 0, "seccomp profile: malformed JSON at byte %d: %s",
                            root ? 0 : jerr.position, root ? "not an object" : jerr.text);
    out->default_errno = EPERM;
    if (parse_action(json_object_get(root, "defaultAction"), &out->default_action, err) < 0 ||
        parse_errno(json_object_get(root, "defaultErrnoRet"), &out->default_errno, err) < 0)
        return wr_error_prefix(err, "seccomp profile: defaultAction");
    json_t *syscalls = json_object_get(root, "syscalls");
    if (syscalls && !json_is_null(syscalls) &&
        (!json_is_array(syscalls) || json_array_size(syscalls) > RULES_MAX))
        return wr_error_set(err, 0, "seccomp profile: syscalls must be an array of at most %d",
                            RULES_MAX);
    size_t n = json_array_size(syscalls);
    struct wr_seccomp_rule *rules = calloc(n ? n : 1, sizeof *rules);
    if (!rules)
        return wr_error_set(err, ENOMEM, "seccomp profile");
    out->rules = rules;
    out->storage = rules;
    for (size_t i = 0; i < n; i++) {
        bool skip = false;
        out->n_rules = i + 1; /* what wr_seccomp_profile_free must walk */
        if (parse_rule(json_array_get(syscalls, i), &rules[i], &skip, err) < 0) {
            wr_error_prefix(err, "seccomp profile: syscalls[%zu]", i);
            wr_seccomp_profile_free(out);
            return -1;
        }
        if (skip)
            rules[i].caps_include = ~0ULL; /* never held */
    }
    out->n_rules = n;
    return 0;
}

int wr_seccomp_profile_load(const char *path, struct wr_seccomp_profile *out, wr_error *err)
{
    json_error_t jerr;
    memset(out, 0, sizeof *out);
    /* jansson reads the file; the size bound keeps a huge file out. */
    struct stat st;
    if (stat(path, &st) < 0)
        return wr_error_set(err, errno, "seccomp profile %s", path);
    if (!S_ISREG(st.st_mode) || st.st_size > PROFILE_MAX_BYTES)
        return wr_error_set(err, 0, "seccomp profile %s: not a regular file of at most 1 MiB",
                            path);
    cleanup_json json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return wr_error_set(err, 0, "seccomp profile %s: malformed JSON at line %d: %s", path,
                            jerr.line, jerr.text);
    cleanup_free char *text = json_dumps(root, JSON_COMPACT);
    if (!text)
        return wr_error_set(err, ENOMEM, "seccomp profile");
    if (wr_seccomp_profile_parse(text, strlen(text), out, err) < 0)
        return wr_error_prefix(err, "%s", path);
    return 0;
}

void wr_seccomp_profile_free(struct wr_seccomp_profile *p)
{
    struct wr_seccomp_rule *rules = p->storage;
    for (size_t i = 0; rules && i < p->n_rules; i++) {
        char **names = (char **)rules[i].names;
        for (size_t j = 0; names && names[j]; j++)
            free(names[j]);
        free(names);
    }
    free(rules);
    memset(p, 0, sizeof *p);
}
