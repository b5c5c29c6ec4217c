/* <state_dir>/defaults: see state_defaults.h. */
#include "state_defaults.h"

#include "cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define DEFAULTS_MAX 128

static int defaults_path(const char *state_dir, const char *suffix, char *out, size_t cap,
                         wr_error *err)
{
    int n = snprintf(out, cap, "%s/defaults%s", state_dir, suffix);
    if (n < 0 || (size_t)n >= cap)
        return wr_error_set(err, ENAMETOOLONG, "state dir %s", state_dir);
    return 0;
}

int wr_defaults_publish(const char *state_dir, const struct wr_daemon_defaults *d, wr_error *err)
{
    char path[PATH_MAX], tmp[PATH_MAX], text[DEFAULTS_MAX];
    if (defaults_path(state_dir, "", path, sizeof path, err) < 0 ||
        defaults_path(state_dir, ".tmp", tmp, sizeof tmp, err) < 0)
        return -1;
    if (d->userns_size == 0) {
        if (unlink(path) < 0 && errno != ENOENT)
            return wr_error_set(err, errno, "remove %s", path);
        return 0;
    }
    int len = snprintf(text, sizeof text, "userns=%" PRIu32 ":%" PRIu32 "\n", d->userns_base,
                       d->userns_size);
    cleanup_close int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return wr_error_set(err, errno, "create %s", tmp);
    if (write(fd, text, (size_t)len) != len || fsync(fd) < 0) {
        wr_error_set(err, errno, "write %s", tmp);
        unlink(tmp);
        return -1;
    }
    if (rename(tmp, path) < 0) {
        wr_error_set(err, errno, "rename %s", tmp);
        unlink(tmp);
        return -1;
    }
    return 0;
}

void wr_defaults_withdraw(const char *state_dir)
{
    char path[PATH_MAX];
    wr_error ignored;
    if (defaults_path(state_dir, "", path, sizeof path, &ignored) == 0)
        unlink(path);
}

int wr_defaults_read(const char *state_dir, struct wr_daemon_defaults *d, wr_error *err)
{
    char path[PATH_MAX], text[DEFAULTS_MAX + 1];
    memset(d, 0, sizeof *d);
    if (defaults_path(state_dir, "", path, sizeof path, err) < 0)
        return -1;
    cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 && errno == ENOENT)
        return 0;
    if (fd < 0)
        return wr_error_set(err, errno, "open %s", path);
    ssize_t n = read(fd, text, DEFAULTS_MAX);
    if (n < 0)
        return wr_error_set(err, errno, "read %s", path);
    text[n] = '\0';
    uint32_t base, size;
    int used = 0;
    if (sscanf(text, "userns=%" SCNu32 ":%" SCNu32 "\n%n", &base, &size, &used) != 2 ||
        (size_t)used != (size_t)n || base == 0 || size == 0 || (uint64_t)base + size > UINT32_MAX)
        return wr_error_set(err, 0, "%s: malformed (expected \"userns=BASE:SIZE\")", path);
    d->userns_base = base;
    d->userns_size = size;
    return 0;
}
