/* The bench's private world: a temporary directory holding an image store
 * (busybox built from the host's static busybox), a state directory and the
 * socket of a daemon the bench starts and stops itself. The user's daemon
 * and store are never touched. */
#include "bench.h"

#include "busybox_image.h"
#include "lib/cgroup.h"
#include "lib/cleanup.h"
#include "lib/state_file.h"
#include "store_write.h"
#include "lib/api_client.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DAEMON_START_TIMEOUT_MS 10000
#define DAEMON_STOP_TIMEOUT_MS  60000 /* a pool of 1,000 takes a while to kill */

extern char **environ;

volatile sig_atomic_t bench_stop;
bool bench_quiet;

static void on_signal(int sig)
{
    bench_stop = sig;
}

void bench_catch_signals(void)
{
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        struct sigaction sa = {.sa_handler = on_signal};
        sigemptyset(&sa.sa_mask);
        sigaction(sigs[i], &sa, NULL);
    }
    signal(SIGPIPE, SIG_IGN);
}

void bench_msg(const char *fmt, ...)
{
    va_list ap;
    fputs("warmrun bench: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void bench_progress(const char *fmt, ...)
{
    if (bench_quiet)
        return;
    va_list ap;
    fputs("warmrun bench: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int64_t bench_now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

int bench_path(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n < 0 || (size_t)n >= size ? -1 : 0;
}

static void sleep_ms(long ms)
{
    struct timespec t = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
    nanosleep(&t, NULL);
}

int bench_env_init(struct bench_env *e, const char *bindir, wr_error *err)
{
    *e = (struct bench_env){.daemon_pid = -1};
    if (!realpath(bindir, e->bindir))
        return wr_error_set(err, errno, "%s", bindir);
    if (bench_path(e->warmrun, sizeof e->warmrun, "%s/warmrun", e->bindir) < 0)
        return wr_error_set(err, ENAMETOOLONG, "%s", e->bindir);
    if (access(e->warmrun, X_OK) < 0)
        return wr_error_set(err, errno, "%s", e->warmrun);
    const char *tmp = getenv("TMPDIR");
    if (!tmp || tmp[0] != '/')
        tmp = "/tmp";
    snprintf(e->dir, sizeof e->dir, "%s/warmrun-bench.XXXXXX", tmp);
    if (!mkdtemp(e->dir)) {
        int saved = errno;
        e->dir[0] = '\0';
        return wr_error_set(err, saved, "mkdtemp in %s", tmp);
    }
    if (bench_path(e->store, sizeof e->store, "%s/store", e->dir) < 0 ||
        bench_path(e->state, sizeof e->state, "%s/state", e->dir) < 0)
        return wr_error_set(err, ENAMETOOLONG, "%s", e->dir);
    e->g.root = e->store;
    e->g.state_dir = e->state;
    if ((size_t)snprintf(e->g.socket, sizeof e->g.socket, "%s/warmrun.sock", e->dir) >=
        sizeof e->g.socket)
        return wr_error_set(err, ENAMETOOLONG, "socket path under %s", e->dir);

    struct wr_busybox_result res;
    if (wr_busybox_image_build(e->store, "latest", NULL, &res, err) < 0)
        return wr_error_prefix(err, "building the busybox image");
    snprintf(e->busybox_layer_id, sizeof e->busybox_layer_id, "%s", res.layer);
    if (bench_path(e->busybox_layer, sizeof e->busybox_layer, "%s/layers/sha256/%s/root", e->store,
                   res.layer + 7) < 0)
        return wr_error_set(err, ENAMETOOLONG, "%s", e->store);
    return 0;
}

bool bench_daemon_alive(struct bench_env *e)
{
    if (e->daemon_pid <= 0)
        return false;
    int status;
    pid_t r = waitpid(e->daemon_pid, &status, WNOHANG);
    if (r == e->daemon_pid) {
        e->daemon_pid = -1;
        return false;
    }
    return true;
}

int bench_daemon_start(struct bench_env *e, wr_error *err)
{
    char log[PATH_MAX + 16];
    snprintf(log, sizeof log, "%s/daemon.log", e->dir);
    cleanup_close int logfd = open(log, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (logfd < 0)
        return wr_error_set(err, errno, "%s", log);
    char *argv[] = {e->warmrun,  (char *)"--root",
                    e->store,    (char *)"--state-dir",
                    e->state,    (char *)"--socket",
                    e->g.socket, (char *)"daemon",
                    NULL,        NULL,
                    NULL};
    if (e->http) {
        argv[8] = (char *)"--http";
        argv[9] = (char *)e->http;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, logfd, 1);
    posix_spawn_file_actions_adddup2(&fa, logfd, 2);
    /* The daemon must not die of the terminal's ^C before we stop it. */
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
    int rc = posix_spawn(&e->daemon_pid, e->warmrun, &fa, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) {
        e->daemon_pid = -1;
        return wr_error_set(err, rc, "spawn %s daemon", e->warmrun);
    }
    for (int waited = 0; waited < DAEMON_START_TIMEOUT_MS; waited += 20) {
        wr_error ignored;
        int fd = wr_api_connect(e->g.socket, &ignored);
        if (fd >= 0) {
            close(fd);
            return 0;
        }
        if (!bench_daemon_alive(e)) {
            char line[256];
            bench_last_line(logfd, line, sizeof line);
            return wr_error_set(err, 0, "the daemon exited at start: %s", line);
        }
        sleep_ms(20);
    }
    return wr_error_set(err, ETIMEDOUT, "the daemon did not open %s", e->g.socket);
}

int bench_call(const struct bench_env *e, const struct wr_request *req, struct wr_reply *reply,
               wr_error *err)
{
    *reply = (struct wr_reply){0};
    cleanup_close int fd = wr_api_connect(e->g.socket, err);
    if (fd < 0)
        return -1;
    if (wr_api_send_request(fd, req, NULL, 0, err) < 0 || wr_api_read_reply(fd, reply, err) < 0)
        return -1;
    if (!reply->ok) {
        wr_error_set(err, 0, "daemon: %s", reply->error);
        wr_reply_free(reply);
        return -1;
    }
    return 0;
}

bool bench_image_is(const char *key, const char *image)
{
    size_t len = strlen(image);
    return strcmp(key, image) == 0 ||
           (strncmp(key, image, len) == 0 && strcmp(key + len, ":latest") == 0);
}

static int pool_find(const struct wr_reply *r, const char *image)
{
    for (size_t i = 0; i < r->n_pools; i++)
        if (bench_image_is(r->pools[i].image, image))
            return (int)i;
    return -1;
}

long bench_pool_warm(const struct bench_env *e, const char *image)
{
    struct wr_request ls = {.op = WR_OP_POOL_LS};
    struct wr_reply r;
    wr_error err;
    if (bench_call(e, &ls, &r, &err) < 0)
        return -1;
    int i = pool_find(&r, image);
    long warm = i < 0 ? -1 : r.pools[i].warm;
    wr_reply_free(&r);
    return warm;
}

int bench_pool_fill(const struct bench_env *e, const char *image, long size, long timeout_s,
                    wr_error *err)
{
    struct wr_request req = {.op = WR_OP_POOL_CREATE,
                             .image = (char *)image,
                             .size = size,
                             .network = (char *)e->network};
    struct wr_reply r;
    if (bench_call(e, &req, &r, err) < 0)
        return wr_error_prefix(err, "pool create %s --size %ld", image, size);
    wr_reply_free(&r);
    int64_t deadline = bench_now_ns() + (int64_t)timeout_s * 1000000000;
    for (;;) {
        struct wr_request ls = {.op = WR_OP_POOL_LS};
        if (bench_call(e, &ls, &r, err) < 0)
            return -1;
        int i = pool_find(&r, image);
        if (i < 0) {
            wr_reply_free(&r);
            return wr_error_set(err, 0, "pool %s disappeared", image);
        }
        struct wr_pool_info p = r.pools[i];
        wr_reply_free(&r);
        if (p.warm >= size)
            return 0;
        if (p.failures > 0 && p.warm == 0 && p.filling == 0 && p.last_error[0])
            return wr_error_set(err, 0, "pool %s cannot fill: %s", image, p.last_error);
        if (bench_stop)
            return wr_error_set(err, EINTR, "interrupted");
        if (bench_now_ns() > deadline)
            return wr_error_set(err, ETIMEDOUT, "pool %s: %ld of %ld warm after %ld s", image,
                                p.warm, size, timeout_s);
        sleep_ms(10);
    }
}

static void kill_stray_shim(const struct wr_state_record *rec, void *ctx)
{
    (void)ctx;
    if (wr_state_shim_alive(rec)) {
        bench_msg("stopping leftover shim %d (%s)", (int)rec->shim_pid, rec->id);
        kill(rec->shim_pid, SIGKILL);
    }
}

static void daemon_stop(struct bench_env *e)
{
    if (e->daemon_pid <= 0)
        return;
    struct wr_request req = {.op = WR_OP_SHUTDOWN};
    struct wr_reply r;
    wr_error err;
    if (bench_call(e, &req, &r, &err) == 0)
        wr_reply_free(&r);
    else
        kill(e->daemon_pid, SIGTERM);
    for (int waited = 0; waited < DAEMON_STOP_TIMEOUT_MS; waited += 20) {
        if (!bench_daemon_alive(e))
            return;
        sleep_ms(20);
    }
    bench_msg("the daemon %d did not stop in %d s: killing it", (int)e->daemon_pid,
              DAEMON_STOP_TIMEOUT_MS / 1000);
    kill(e->daemon_pid, SIGKILL);
    waitpid(e->daemon_pid, NULL, 0);
    e->daemon_pid = -1;
}

/* Unmounts whatever is still mounted below dir, deepest first. */
static void unmount_below(const char *dir)
{
    size_t len = strlen(dir);
    for (int pass = 0; pass < 8; pass++) {
        cleanup_fclose FILE *f = fopen("/proc/self/mounts", "re");
        if (!f)
            return;
        char line[4096], deepest[4096] = "";
        while (fgets(line, sizeof line, f)) {
            char mp[4096];
            if (sscanf(line, "%*s %4095s", mp) != 1)
                continue;
            if (strncmp(mp, dir, len) == 0 && mp[len] == '/' && strlen(mp) > strlen(deepest))
                snprintf(deepest, sizeof deepest, "%s", mp);
        }
        if (!deepest[0])
            return;
        if (umount2(deepest, MNT_DETACH) < 0)
            return;
        pass = 0;
    }
}

static bool none_alive(const char *id, void *ctx)
{
    (void)id;
    (void)ctx;
    return false;
}

/* The cgroups of this run's containers and their scope directory: a shim
 * killed above leaves its container's, a container the stopped daemon had
 * handed out keeps the scope until it ends, and no daemon will serve this
 * state directory again. Each goes once its last task has exited: tried
 * for at most a second. */
static void remove_cgroups(const struct bench_env *e)
{
    for (int i = 0; i < 40; i++) {
        wr_cgroup_sweep(e->state, none_alive, NULL);
        wr_cgroup_scope_remove(e->state);
        if (wr_cgroup_scope_left(e->state) == 0)
            return;
        sleep_ms(25);
    }
    bench_msg("could not remove the cgroups of %s", e->state);
}

void bench_env_cleanup(struct bench_env *e)
{
    daemon_stop(e);
    if (!e->dir[0])
        return;
    /* Shims of the daemon, or of cold starts whose CLI was killed. */
    if (access(e->state, F_OK) == 0) {
        wr_state_scan(e->state, kill_stray_shim, NULL);
        sleep_ms(50);
        wr_state_scan(e->state, kill_stray_shim, NULL);
    }
    remove_cgroups(e);
    bench_network_remove(e);
    unmount_below(e->dir);
    wr_store_unstage(e->dir);
    if (access(e->dir, F_OK) == 0)
        bench_msg("could not remove all of %s", e->dir);
    e->dir[0] = '\0';
}

int bench_env_start(struct bench_env *e, const char *bindir)
{
    wr_error err = {0};
    bench_progress("preparing a private store and daemon");
    if (bench_env_init(e, bindir, &err) < 0 || bench_daemon_start(e, &err) < 0) {
        bench_msg("%s", err.msg);
        bench_env_cleanup(e);
        return -1;
    }
    return 0;
}
