/* A pool's security profile, daemon side: the image's User as default, and
 * the seccomp filter compiled once per pool (by `warmrun-shim
 * --compile-seccomp`: the daemon itself does not link libseccomp) into
 * <state>/seccomp/<pool id>.bpf, which every shim of the pool loads. */
#include "daemon_security.h"

#include "daemon_shim_exe.h"

#include "lib/cleanup.h"
#include "lib/clock.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define COMPILE_TIMEOUT_MS 10000

static int run_compiler(struct daemon *d, const char *profile, const char *out, wr_error *err)
{
    char *const argv[] = {(char *)"warmrun-shim", (char *)"--compile-seccomp", (char *)profile,
                          (char *)out, NULL};
    char *const envp[] = {NULL};
    pid_t pid;
    const char *shim = daemon_shim_exec_path(d, err);
    if (!shim)
        return -1;
    int status, rc = posix_spawn(&pid, shim, NULL, NULL, argv, envp);
    if (rc != 0)
        return wr_error_set(err, rc, "spawn %s (%s)", shim, d->shim_exe.host_path);
    /* The daemon's loop waits for it (a compile takes tens of ms), but
     * bounded, so that a compile that hangs cannot stall every client. */
    int64_t deadline = wr_monotonic_ns() + COMPILE_TIMEOUT_MS * 1000000LL;
    pid_t done;
    while ((done = waitpid(pid, &status, WNOHANG)) == 0 && wr_monotonic_ns() < deadline) {
        struct timespec pause = {.tv_nsec = 2 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    if (done == 0) {
        kill(pid, SIGKILL);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
        return wr_error_set(err, ETIMEDOUT, "compiling the seccomp profile");
    }
    if (done < 0)
        return wr_error_set(err, errno, "waitpid");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return wr_error_set(err, 0, "compiling the seccomp profile failed (see the daemon log)");
    return 0;
}

static int bpf_path(struct daemon *d, char *out, size_t cap, wr_error *err)
{
    unsigned char raw[6];
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/seccomp", d->g->state_dir);
    if (mkdir(dir, 0700) < 0 && errno != EEXIST)
        return wr_error_set(err, errno, "mkdir %s", dir);
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
        return wr_error_set(err, errno, "getrandom");
    int n = snprintf(out, cap, "%s/%02x%02x%02x%02x%02x%02x.bpf", dir, raw[0], raw[1], raw[2],
                     raw[3], raw[4], raw[5]);
    if (n < 0 || (size_t)n >= cap)
        return wr_error_set(err, ENAMETOOLONG, "seccomp path");
    return 0;
}

int daemon_pool_security(struct daemon *d, struct pool *p, const struct wr_security_profile *req,
                         bool *changed, wr_error *err)
{
    struct wr_security_profile q;
    char text[WR_PROFILE_TEXT], bpf[WR_SECCOMP_MAX + 1] = "";
    if (req)
        q = *req;
    else
        wr_security_profile_default(&q);
    /* daemon --userns-default: for every pool that did not choose (an
     * explicit --userns host opts out). */
    if (!q.userns_explicit && d->userns_size) {
        q.userns_base = d->userns_base;
        q.userns_size = d->userns_size;
    }
    if (wr_security_encode_for(&q, p->img->user, text, sizeof text, err) < 0 ||
        wr_security_decode(text, &q, err) < 0)
        return -1;
    *changed = strcmp(text, p->security_source) != 0;
    if (!*changed)
        return 0;
    bool recyclable = daemon_netns_recyclable(&q);
    bool filtered = !q.privileged &&
                    (q.seccomp_mode == WR_SECCOMP_DEFAULT || q.seccomp_mode == WR_SECCOMP_FILE);
    char compiled[WR_PROFILE_TEXT];
    snprintf(compiled, sizeof compiled, "%s", text);
    if (filtered) {
        if (bpf_path(d, bpf, sizeof bpf, err) < 0 || run_compiler(d, text, bpf, err) < 0) {
            if (bpf[0])
                unlink(bpf);
            return -1;
        }
        q.seccomp_mode = WR_SECCOMP_BPF;
        snprintf(q.seccomp, sizeof q.seccomp, "%s", bpf);
        if (wr_security_encode(&q, compiled, sizeof compiled, err) < 0) {
            unlink(bpf);
            return -1;
        }
    }
    daemon_pool_security_release(p);
    p->netns_recycle = recyclable;
    if (!recyclable)
        daemon_netns_drop_all(p);
    snprintf(p->security_source, sizeof p->security_source, "%s", text);
    snprintf(p->security, sizeof p->security, "%s", compiled);
    snprintf(p->seccomp_bpf, sizeof p->seccomp_bpf, "%s", bpf);
    return 0;
}

void daemon_pool_security_release(struct pool *p)
{
    if (p->seccomp_bpf[0])
        unlink(p->seccomp_bpf);
    p->seccomp_bpf[0] = '\0';
}

/* Compiled filters of pools of an earlier daemon (killed before it could
 * remove them) are nobody's now; the cold starts' cached default stays. */
void daemon_security_sweep(struct daemon *d)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/seccomp", d->g->state_dir);
    cleanup_closedir DIR *dp = opendir(dir);
    if (!dp)
        return;
    struct dirent *de;
    while ((de = readdir(dp))) {
        size_t len = strlen(de->d_name);
        if (len == 12 + strlen(".bpf") && strspn(de->d_name, "0123456789abcdef") == 12 &&
            strcmp(de->d_name + 12, ".bpf") == 0)
            unlinkat(dirfd(dp), de->d_name, 0);
    }
}
