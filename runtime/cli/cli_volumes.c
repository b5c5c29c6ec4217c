/* Docker's volume options, as `docker run` takes them (docs/cli.md):
 *   --mount type=bind,source=S,target=T[,readonly]
 *   --mount type=tmpfs,target=T[,tmpfs-size=N][,tmpfs-mode=M][,readonly]
 *   -v/--volume S:T[:ro|:rw]      (a bind; S an absolute host path)
 *   --tmpfs T[:size=N,mode=M,ro]
 * A bind source is resolved here, on the host, once (realpath: a symbolic
 * link in it is followed now, never again); it must exist (checked before
 * anything is created: cli_volumes_check). Named volumes, propagation and
 * SELinux labels are not supported: refused with a reason. */
#include "cli_options.h"

#include "cli.h"
#include "lib/resources.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* The host path of a bind source: resolved when it exists; else kept as
 * given, for the existence check to name it. */
static int host_source(const char *given, char *out, wr_error *err)
{
    if (given[0] != '/')
        return wr_error_set(err, 0,
                            "bind source \"%.200s\" must be an absolute host path (named volumes "
                            "are not supported)",
                            given);
    if (!realpath(given, out)) {
        if (errno != ENOENT && errno != ENOTDIR)
            return wr_error_set(err, errno, "bind source %.300s", given);
        if (strlen(given) >= PATH_MAX)
            return wr_error_set(err, ENAMETOOLONG, "bind source");
        strcpy(out, given);
    }
    return 0;
}

static int parse_mode(const char *s, uint32_t *mode, wr_error *err)
{
    char *end;
    errno = 0;
    unsigned long m = strtoul(s, &end, 8);
    if (errno || !*s || *end || m > 07777)
        return wr_error_set(err, 0, "tmpfs mode \"%.32s\" is not an octal mode", s);
    *mode = (uint32_t)m;
    return 0;
}

static int parse_size(const char *s, uint64_t *size, wr_error *err)
{
    if (wr_parse_bytes(s, 4096, UINT64_MAX / 2, size) < 0)
        return wr_error_set(err, 0, "tmpfs size \"%.32s\" is not a size (bytes, or k, m, g)", s);
    return 0;
}

/* "true", "1" or nothing: true; "false", "0": false (Docker's booleans). */
static int parse_bool(const char *v, bool *out, wr_error *err)
{
    if (!v || !strcmp(v, "true") || !strcmp(v, "1"))
        *out = true;
    else if (!strcmp(v, "false") || !strcmp(v, "0"))
        *out = false;
    else
        return wr_error_set(err, 0, "\"%.32s\" is not a boolean", v);
    return 0;
}

static int parse_mount(struct wr_volumes *vs, char *spec, wr_error *err)
{
    const char *type = NULL, *source = NULL, *target = NULL;
    bool ro = false;
    uint64_t size = 0;
    uint32_t mode = WR_VOLUME_TMPFS_MODE;
    char *save = NULL;
    for (char *kv = strtok_r(spec, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
        char *v = strchr(kv, '=');
        if (v)
            *v++ = '\0';
        if (!strcmp(kv, "type") && v)
            type = v;
        else if ((!strcmp(kv, "source") || !strcmp(kv, "src")) && v)
            source = v;
        else if ((!strcmp(kv, "target") || !strcmp(kv, "destination") || !strcmp(kv, "dst")) && v)
            target = v;
        else if (!strcmp(kv, "readonly") || !strcmp(kv, "ro")) {
            if (parse_bool(v, &ro, err) < 0)
                return -1;
        } else if (!strcmp(kv, "tmpfs-size") && v) {
            if (parse_size(v, &size, err) < 0)
                return -1;
        } else if (!strcmp(kv, "tmpfs-mode") && v) {
            if (parse_mode(v, &mode, err) < 0)
                return -1;
        } else {
            return wr_error_set(err, 0,
                                "--mount: \"%.64s\" is not supported (type, source, target, "
                                "readonly, tmpfs-size, tmpfs-mode)",
                                kv);
        }
    }
    if (!type || (strcmp(type, "bind") && strcmp(type, "tmpfs")))
        return wr_error_set(err, 0,
                            "--mount: type=bind or type=tmpfs is required "
                            "(named volumes are not supported)");
    if (!target)
        return wr_error_set(err, 0, "--mount: target= is required");
    if (!strcmp(type, "tmpfs")) {
        if (source)
            return wr_error_set(err, 0, "--mount: a tmpfs has no source");
        return wr_volumes_add(vs, WR_VOLUME_TMPFS, NULL, target, ro, size, mode, err);
    }
    if (!source)
        return wr_error_set(err, 0, "--mount: a bind needs source=");
    char host[PATH_MAX];
    if (host_source(source, host, err) < 0)
        return -1;
    return wr_volumes_add(vs, WR_VOLUME_BIND, host, target, ro, 0, 0, err);
}

static int parse_volume(struct wr_volumes *vs, char *spec, wr_error *err)
{
    char *target = strchr(spec, ':');
    if (!target)
        return wr_error_set(err, 0,
                            "-v %.200s: SOURCE:TARGET[:ro] (anonymous volumes are "
                            "not supported)",
                            spec);
    *target++ = '\0';
    char *opts = strchr(target, ':');
    bool ro = false;
    if (opts) {
        *opts++ = '\0';
        char *save = NULL;
        for (char *o = strtok_r(opts, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
            if (!strcmp(o, "ro") || !strcmp(o, "rw"))
                ro = !strcmp(o, "ro");
            else
                return wr_error_set(err, 0, "-v: option \"%.32s\" is not supported (ro, rw)", o);
        }
    }
    char host[PATH_MAX];
    if (host_source(spec, host, err) < 0)
        return -1;
    return wr_volumes_add(vs, WR_VOLUME_BIND, host, target, ro, 0, 0, err);
}

static int parse_tmpfs(struct wr_volumes *vs, char *spec, wr_error *err)
{
    char *opts = strchr(spec, ':');
    bool ro = false;
    uint64_t size = 0;
    uint32_t mode = WR_VOLUME_TMPFS_MODE;
    if (opts) {
        *opts++ = '\0';
        char *save = NULL;
        for (char *o = strtok_r(opts, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
            if (!strncmp(o, "size=", 5)) {
                if (parse_size(o + 5, &size, err) < 0)
                    return -1;
            } else if (!strncmp(o, "mode=", 5)) {
                if (parse_mode(o + 5, &mode, err) < 0)
                    return -1;
            } else if (!strcmp(o, "ro") || !strcmp(o, "rw")) {
                ro = !strcmp(o, "ro");
            } else if (strcmp(o, "noexec") && strcmp(o, "nosuid") && strcmp(o, "nodev")) {
                return wr_error_set(err, 0,
                                    "--tmpfs: option \"%.32s\" is not supported (size, mode, "
                                    "ro, rw; noexec, nosuid and nodev always apply)",
                                    o);
            }
        }
    }
    return wr_volumes_add(vs, WR_VOLUME_TMPFS, NULL, spec, ro, size, mode, err);
}

int cli_volume_option(struct wr_volumes *vs, const char *opt, const char *arg)
{
    wr_error err;
    char *spec = strdup(arg);
    if (!spec) {
        cli_error("out of memory");
        return -1;
    }
    int rc = !strcmp(opt, "mount")   ? parse_mount(vs, spec, &err)
             : !strcmp(opt, "tmpfs") ? parse_tmpfs(vs, spec, &err)
                                     : parse_volume(vs, spec, &err);
    free(spec);
    if (rc < 0)
        cli_error("%s", err.msg);
    return rc;
}
