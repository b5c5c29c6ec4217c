/* See daemon_freezer.h. Kernel interface: Documentation/admin-guide/
 * cgroup-v1/freezer-subsystem.rst (freezer.state FROZEN/THAWED) and
 * cgroup-v2.rst (cgroup.freeze 1/0). */
#include "daemon_freezer.h"

#include "lib/cleanup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define V1_FREEZER "/sys/fs/cgroup/freezer"

static int write_file(const char *dir, const char *file, const char *value, wr_error *err)
{
    char path[640];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, value, strlen(value)) < 0)
        return wr_error_set(err, errno, "write %s", path);
    return 0;
}

/* The cgroup2 mount point ("" if none), from /proc/self/mountinfo. */
static void v2_mount(char *out, size_t cap)
{
    out[0] = '\0';
    cleanup_fclose FILE *f = fopen("/proc/self/mountinfo", "re");
    char line[1024];
    while (f && fgets(line, sizeof line, f)) {
        char mnt[512], fstype[64];
        const char *sep = strstr(line, " - ");
        if (!sep || sscanf(line, "%*s %*s %*s %*s %511s", mnt) != 1 ||
            sscanf(sep + 3, "%63s", fstype) != 1)
            continue;
        if (strcmp(fstype, "cgroup2") == 0) {
            snprintf(out, cap, "%.255s", mnt);
            return;
        }
    }
}

static int make_dirs(const char *base, const char *scope, const char *id, char *out, size_t cap,
                     wr_error *err)
{
    char path[512];
    snprintf(path, sizeof path, "%s/warmrun-functions", base);
    if (mkdir(path, 0755) < 0 && errno != EEXIST)
        return wr_error_set(err, errno, "mkdir %s", path);
    snprintf(path, sizeof path, "%s/warmrun-functions/%s", base, scope);
    if (mkdir(path, 0755) < 0 && errno != EEXIST)
        return wr_error_set(err, errno, "mkdir %s", path);
    snprintf(out, cap, "%s/warmrun-functions/%s/%s", base, scope, id);
    if (mkdir(out, 0755) < 0 && errno != EEXIST)
        return wr_error_set(err, errno, "mkdir %s", out);
    return 0;
}

int daemon_freezer_attach(struct daemon_freezer *fz, const char *scope, const char *id, pid_t pid,
                          wr_error *err)
{
    char pidtext[32];
    snprintf(pidtext, sizeof pidtext, "%d", (int)pid);
    memset(fz, 0, sizeof *fz);
    if (access(V1_FREEZER "/cgroup.procs", F_OK) == 0) {
        if (make_dirs(V1_FREEZER, scope, id, fz->dir, sizeof fz->dir, err) < 0)
            return -1;
        fz->own = true;
        return write_file(fz->dir, "cgroup.procs", pidtext, err);
    }
    char mnt[256], path[64], line[512];
    v2_mount(mnt, sizeof mnt);
    if (!mnt[0])
        return wr_error_set(err, ENOTSUP, "no cgroup freezer on this host");
    fz->v2 = true;
    /* The container's own v2 cgroup (its name is its id) is frozen as is;
     * otherwise it is moved into one of ours. */
    snprintf(path, sizeof path, "/proc/%d/cgroup", (int)pid);
    cleanup_fclose FILE *f = fopen(path, "re");
    while (f && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        const char *slash = strrchr(line, '/');
        if (strncmp(line, "0::", 3) == 0 && slash && strcmp(slash + 1, id) == 0) {
            snprintf(fz->dir, sizeof fz->dir, "%.250s%.250s", mnt, line + 3);
            return 0;
        }
    }
    if (make_dirs(mnt, scope, id, fz->dir, sizeof fz->dir, err) < 0)
        return -1;
    fz->own = true;
    return write_file(fz->dir, "cgroup.procs", pidtext, err);
}

int daemon_freezer_set(struct daemon_freezer *fz, bool frozen, wr_error *err)
{
    if (!fz->dir[0])
        return 0;
    if (fz->v2)
        return write_file(fz->dir, "cgroup.freeze", frozen ? "1" : "0", err);
    return write_file(fz->dir, "freezer.state", frozen ? "FROZEN" : "THAWED", err);
}

static void remove_dir(const char *dir)
{
    /* Its tasks may still be exiting: a few short retries. */
    for (int i = 0; i < 100 && rmdir(dir) < 0 && errno == EBUSY; i++)
        nanosleep(&(struct timespec){.tv_nsec = 2000000}, NULL);
}

void daemon_freezer_remove(struct daemon_freezer *fz)
{
    wr_error err;
    if (!fz->dir[0])
        return;
    (void)daemon_freezer_set(fz, false, &err);
    if (fz->own)
        remove_dir(fz->dir);
    fz->dir[0] = '\0';
}

void daemon_freezer_sweep(const char *scope)
{
    char mnt[256], base[600];
    v2_mount(mnt, sizeof mnt);
    const char *roots[] = {V1_FREEZER, mnt};
    for (size_t r = 0; r < 2; r++) {
        if (!roots[r][0])
            continue;
        snprintf(base, sizeof base, "%s/warmrun-functions/%s", roots[r], scope);
        cleanup_closedir DIR *dir = opendir(base);
        struct dirent *de;
        while (dir && (de = readdir(dir))) {
            if (de->d_name[0] == '.')
                continue;
            struct daemon_freezer fz = {.v2 = r == 1, .own = true};
            snprintf(fz.dir, sizeof fz.dir, "%.300s/%.64s", base, de->d_name);
            daemon_freezer_remove(&fz);
        }
    }
}

void daemon_freezer_release_scope(const char *scope)
{
    char mnt[256], path[600];
    v2_mount(mnt, sizeof mnt);
    const char *roots[] = {V1_FREEZER, mnt};
    for (size_t r = 0; r < 2; r++) {
        if (!roots[r][0])
            continue;
        snprintf(path, sizeof path, "%s/warmrun-functions/%s", roots[r], scope);
        (void)rmdir(path);
        /* Another daemon's scope may still be there: then this fails. */
        snprintf(path, sizeof path, "%s/warmrun-functions", roots[r]);
        (void)rmdir(path);
    }
}
