/* See volumes.h. */
#include "volumes.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Absolute, no empty, "." or ".." component, no trailing slash (but "/"). */
static bool clean_path(const char *p)
{
    size_t n = strlen(p);
    if (p[0] != '/' || n > WR_VOLUME_PATH_MAX || (n > 1 && p[n - 1] == '/'))
        return false;
    for (const char *c = p + 1; *c;) {
        const char *end = strchrnul(c, '/');
        size_t len = (size_t)(end - c);
        if (len == 0 || (len == 1 && c[0] == '.') || (len == 2 && c[0] == '.' && c[1] == '.'))
            return false;
        c = *end ? end + 1 : end;
    }
    return true;
}

int wr_volumes_add(struct wr_volumes *vs, enum wr_volume_type type, const char *source,
                   const char *target, bool readonly, uint64_t size, uint32_t mode, wr_error *err)
{
    if (vs->n >= WR_VOLUMES_MAX)
        return wr_error_set(err, E2BIG, "more than %d volumes", WR_VOLUMES_MAX);
    if (type != WR_VOLUME_BIND && type != WR_VOLUME_TMPFS)
        return wr_error_set(err, 0, "unknown volume type");
    if (!target || !clean_path(target) || strcmp(target, "/") == 0)
        return wr_error_set(err, 0,
                            "volume target \"%.200s\" must be an absolute path other than / "
                            "(no \".\", \"..\" or empty component)",
                            target ? target : "");
    if (type == WR_VOLUME_BIND && (!source || !clean_path(source)))
        return wr_error_set(err, 0,
                            "bind source \"%.200s\" must be an absolute host path (no \".\", "
                            "\"..\" or empty component)",
                            source ? source : "");
    if (type == WR_VOLUME_TMPFS && source)
        return wr_error_set(err, 0, "a tmpfs volume has no source");
    if (mode > 07777)
        return wr_error_set(err, 0, "tmpfs mode %o is not a permission mode", mode);
    for (size_t i = 0; i < vs->n; i++)
        if (strcmp(vs->v[i].target, target) == 0)
            return wr_error_set(err, 0,
                                "two volumes at %.200s (Docker: \"Duplicate mount "
                                "point\")",
                                target);
    struct wr_volume *v = &vs->v[vs->n];
    memset(v, 0, sizeof *v);
    v->type = type;
    v->readonly = readonly;
    v->size = type == WR_VOLUME_TMPFS ? size : 0;
    v->mode = type == WR_VOLUME_TMPFS ? mode : 0;
    v->target = strdup(target);
    v->source = source ? strdup(source) : NULL;
    if (!v->target || (source && !v->source)) {
        free(v->target);
        free(v->source);
        return wr_error_set(err, ENOMEM, "volume");
    }
    vs->n++;
    return 0;
}

void wr_volumes_free(struct wr_volumes *vs)
{
    for (size_t i = 0; i < vs->n; i++) {
        free(vs->v[i].source);
        free(vs->v[i].target);
    }
    memset(vs, 0, sizeof *vs);
}

static bool str_eq(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

bool wr_volumes_equal(const struct wr_volumes *a, const struct wr_volumes *b)
{
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++) {
        const struct wr_volume *x = &a->v[i], *y = &b->v[i];
        if (x->type != y->type || x->readonly != y->readonly || x->size != y->size ||
            x->mode != y->mode || !str_eq(x->source, y->source) || !str_eq(x->target, y->target))
            return false;
    }
    return true;
}

int wr_volumes_copy(struct wr_volumes *out, const struct wr_volumes *in, wr_error *err)
{
    struct wr_volumes copy = {0};
    for (size_t i = 0; i < in->n; i++) {
        const struct wr_volume *v = &in->v[i];
        if (wr_volumes_add(&copy, v->type, v->source, v->target, v->readonly, v->size, v->mode,
                           err) < 0) {
            wr_volumes_free(&copy);
            return -1;
        }
    }
    wr_volumes_free(out);
    *out = copy;
    return 0;
}

int wr_volumes_check_sources(const struct wr_volumes *vs, wr_error *err)
{
    for (size_t i = 0; i < vs->n; i++) {
        struct stat st;
        const struct wr_volume *v = &vs->v[i];
        if (v->type == WR_VOLUME_BIND && stat(v->source, &st) < 0)
            return errno == ENOENT || errno == ENOTDIR
                       ? wr_error_set(err, 0, "bind source path %.300s does not exist", v->source)
                       : wr_error_set(err, errno, "bind source path %.300s", v->source);
    }
    return 0;
}

int wr_volume_encode(const struct wr_volume *v, char *out, size_t cap, wr_error *err)
{
    int n = snprintf(out, cap, "%s:%d:%" PRIu64 ":%o:%zu:%s%s",
                     v->type == WR_VOLUME_BIND ? "bind" : "tmpfs", v->readonly ? 1 : 0, v->size,
                     v->mode, strlen(v->target), v->target, v->source ? v->source : "");
    if (n < 0 || (size_t)n >= cap)
        return wr_error_set(err, ENAMETOOLONG, "volume %.100s", v->target);
    return n;
}

/* Reads an unsigned field ended by ':' at *p, in base. */
static int field(const char **p, int base, uint64_t max, uint64_t *out)
{
    char *end;
    if (**p < '0' || **p > '9')
        return -1;
    errno = 0;
    unsigned long long x = strtoull(*p, &end, base);
    if (errno || *end != ':' || x > max)
        return -1;
    *out = x;
    *p = end + 1;
    return 0;
}

int wr_volume_decode_add(struct wr_volumes *vs, const char *text, wr_error *err)
{
    enum wr_volume_type type;
    const char *p = text;
    if (strncmp(p, "bind:", 5) == 0) {
        type = WR_VOLUME_BIND;
        p += 5;
    } else if (strncmp(p, "tmpfs:", 6) == 0) {
        type = WR_VOLUME_TMPFS;
        p += 6;
    } else {
        return wr_error_set(err, 0, "--volume: unknown type");
    }
    uint64_t ro, size, mode, tlen;
    if (field(&p, 10, 1, &ro) < 0 || field(&p, 10, UINT64_MAX, &size) < 0 ||
        field(&p, 8, 07777, &mode) < 0 || field(&p, 10, WR_VOLUME_PATH_MAX, &tlen) < 0 ||
        strnlen(p, tlen) != tlen)
        return wr_error_set(err, 0, "--volume: malformed");
    char target[WR_VOLUME_PATH_MAX + 1];
    memcpy(target, p, tlen);
    target[tlen] = '\0';
    const char *source = p + tlen;
    if (type == WR_VOLUME_TMPFS && *source)
        return wr_error_set(err, 0, "--volume: a tmpfs with a source");
    return wr_volumes_add(vs, type, type == WR_VOLUME_BIND ? source : NULL, target, ro == 1, size,
                          (uint32_t)mode, err);
}

void wr_volumes_summary(const struct wr_volumes *vs, char *out, size_t cap)
{
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < vs->n && len < cap; i++) {
        const struct wr_volume *v = &vs->v[i];
        int n = v->type == WR_VOLUME_BIND
                    ? snprintf(out + len, cap - len, "%sbind %s:%s%s", i ? " " : "", v->source,
                               v->target, v->readonly ? ":ro" : "")
                    : snprintf(out + len, cap - len, "%stmpfs %s:size=%" PRIu64 ",mode=%o%s",
                               i ? " " : "", v->target, v->size, v->mode, v->readonly ? ",ro" : "");
        if (n < 0)
            break;
        len += (size_t)n;
    }
}
