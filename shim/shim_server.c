/* The shim server (`warmrun-shim --server`): a daemon's long-lived process
 * that forks shims on request (lib/shim_fork.h), so that a pool's fill
 * costs a fork of a small process instead of a posix_spawn, an execve, and
 * a static binary's start-up (whose cpuid probing of the caches alone is a
 * VM exit per instruction on a virtual machine).
 *
 * The server runs no container code, enters no namespace and keeps nothing
 * of a request once it has forked: a child starts from the server's pristine
 * state, is reset to what a posix_spawn'd shim starts with (the list and
 * why: docs/security.md, "The shim server"), and runs shim_main() as an
 * exec'd shim would. The daemon is the parent of every shim it forks
 * (CLONE_PARENT), so reaping and exit reports are a spawned shim's. */
#include "shim.h"
#include "shim_mnt_template.h"

#include "lib/fdpass.h"
#include "lib/shim_fork.h"
#include "lib/state_file.h"
#include "container/privileges.h"
#include "container/signal_reset.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The server's argument area (argv[0] to the end of its padding, which
 * it clears to NUL at its start): what /proc/PID/cmdline shows, and the
 * only memory a forked shim can make show its own argv in. Only its first
 * area_used bytes (the server's own arguments) are not NUL: a child clears
 * those and writes its argv, touching a page or two, not the whole area. */
static char *area;
static size_t area_len, area_used;

/* The daemon's padding: WR_SHIM_FORK_PAD bytes and nothing else. */
static bool is_padding(const char *arg)
{
    size_t n = strspn(arg, (const char[]){WR_SHIM_FORK_PAD, '\0'});
    return n > 0 && arg[n] == '\0';
}

static _Noreturn void child_fail(const char *what)
{
    char line[160];
    int n = snprintf(line, sizeof line, "warmrun-shim: forked by the shim server: %s: %s\n", what,
                     strerror(errno));
    if (n > 0)
        (void)write(STDERR_FILENO, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
    _exit(127);
}

/* Every disposition as it was when the server's main() began: what the
 * spawn gave it (POSIX_SPAWN_SETSIGDEF: all default, glibc's two internal
 * signals ignored) and what ran before main (a sanitizer's handlers) -- so
 * exactly what an exec'd shim has at its main(). Taken before the server
 * changes any. Raw system calls (signal_reset.h): they save and restore
 * handler, flags, restorer and mask as they are. */
static struct wr_kernel_sigaction start_actions[NSIG];
/* Which of those are not the default (bit sig - 1), and which the server
 * itself changed since (server_ignore): all a forked shim must know. */
static uint64_t start_not_default, server_changed;

static void save_start_signals(void)
{
    static const struct wr_kernel_sigaction dfl = {.handler = SIG_DFL};
    for (int sig = 1; sig < NSIG; sig++) {
        if (sig == SIGKILL || sig == SIGSTOP)
            continue;
        if (syscall(SYS_rt_sigaction, sig, NULL, &start_actions[sig], sizeof(uint64_t)) < 0 ||
            memcmp(&start_actions[sig], &dfl, sizeof dfl) != 0)
            start_not_default |= (uint64_t)1 << (sig - 1);
    }
}

/* The server's own disposition changes, all through here, so that its
 * children know which to undo. */
static void server_ignore(int sig)
{
    signal(sig, SIG_IGN);
    server_changed |= (uint64_t)1 << (sig - 1);
}

/* The server's own ignored signals and mask must not reach the shim, nor
 * through it the container: back to the dispositions at main() and an
 * empty mask (POSIX_SPAWN_SETSIGMASK), one system call per signal the
 * server changed (not 62). The shim's pid 1 then resets only what is not
 * the default: start_not_default, and what the shim changes itself. */
static void reset_signals(void)
{
    uint64_t none = 0;
    for (int sig = 1; sig < NSIG; sig++)
        if (server_changed >> (sig - 1) & 1)
            syscall(SYS_rt_sigaction, sig, &start_actions[sig], NULL, sizeof(uint64_t));
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, sizeof none);
    wr_signals_not_default = start_not_default;
}

/* The shim's descriptors exactly as a spawn leaves them: 0 and 1 on
 * /dev/null, 2 the requester's stderr, then ctl, act, the namespace and its
 * sysfs mount at
 * their fixed numbers (shim_msg.h); nothing else, the server's socket
 * least of all. The received ones are first moved above every fixed number,
 * so that no dup2 replaces another. */
static void place_fds(const int *fds, size_t nfds, const struct shim_mnt_template *t)
{
    static const int target[] = {STDERR_FILENO, SHIM_CTL_FD, SHIM_ACT_FD, SHIM_NETNS_FD,
                                 SHIM_SYSFS_FD};
    _Static_assert(sizeof target / sizeof *target == WR_MAX_PASSED_FDS, "one target per fd");
    int lifted[WR_MAX_PASSED_FDS];
    const int above = SHIM_MNT_TEMPLATE_ROOT_FD + 1;
    for (size_t i = 0; i < nfds; i++)
        if ((lifted[i] = fcntl(fds[i], F_DUPFD, above)) < 0)
            child_fail("fcntl F_DUPFD");
    /* The template's two (shim_mnt_template.h), lifted as well. */
    int tmpl[2] = {-1, -1};
    if (t->ns_fd >= 0 && ((tmpl[0] = fcntl(t->ns_fd, F_DUPFD_CLOEXEC, above)) < 0 ||
                          (tmpl[1] = fcntl(t->root_fd, F_DUPFD_CLOEXEC, above)) < 0))
        child_fail("fcntl F_DUPFD");
    int null_in = open("/dev/null", O_RDONLY | O_CLOEXEC);
    int null_out = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (null_in < 0 || null_out < 0 || dup2(null_in, STDIN_FILENO) < 0 ||
        dup2(null_out, STDOUT_FILENO) < 0)
        child_fail("/dev/null");
    for (size_t i = 0; i < nfds; i++)
        if (dup2(lifted[i], target[i]) < 0)
            child_fail("dup2");
    if (tmpl[0] < 0) {
        close_range((unsigned)target[nfds - 1] + 1, ~0U, 0);
        return;
    }
    close_range((unsigned)target[nfds - 1] + 1, SHIM_MNT_TEMPLATE_FD - 1, 0);
    if (dup3(tmpl[0], SHIM_MNT_TEMPLATE_FD, O_CLOEXEC) < 0 ||
        dup3(tmpl[1], SHIM_MNT_TEMPLATE_ROOT_FD, O_CLOEXEC) < 0)
        child_fail("dup3");
    close_range((unsigned)above, ~0U, 0);
    shim_mnt_template.ns_fd = SHIM_MNT_TEMPLATE_FD;
    shim_mnt_template.root_fd = SHIM_MNT_TEMPLATE_ROOT_FD;
}

/* A fork shares its parent's stack protector canary, which an execve
 * would draw afresh: a shim (or a container's pid 1, its clone until the
 * workload's execve, or for life under --init) that leaks its canary must
 * not give away every other shim's. A new one from getrandom, its low byte
 * zero as glibc makes it; safe here because no frame that checked the old
 * one returns: this child ends in exit(). (x86-64, where glibc keeps it at
 * %fs:0x28; the address layout stays the server's: docs/security.md.)
 * Not protected itself, nor inlined into a protected frame: its own check
 * would compare the old canary with the new one. */
__attribute__((noinline, no_stack_protector)) static void new_canary(void)
{
#if defined(__x86_64__)
    uintptr_t canary;
    if (getrandom(&canary, sizeof canary, 0) != (ssize_t)sizeof canary)
        child_fail("getrandom");
    canary &= ~(uintptr_t)0xff;
    __asm__ volatile("movq %0, %%fs:0x28" : : "r"(canary) : "memory");
#endif
}

/* The server's mount template: made at its start, given to every shim it
 * forks (place_fds); -1 when it could not be made (every fill then copies
 * the host's tree, as a spawned shim's). */
static struct shim_mnt_template server_template = {.ns_fd = -1, .root_fd = -1};

/* The forked child: reset, then the shim's life. Never returns. */
static _Noreturn void run_shim(struct wr_shim_fork_request *r, const int *fds, size_t nfds)
{
    new_canary();
    reset_signals();
    /* POSIX_SPAWN_SETSID: a terminal's ^C must not reach the shim. */
    if (setsid() < 0)
        child_fail("setsid");
    /* The server runs under SCHED_OTHER; a pool's fill under SCHED_IDLE from
     * the start, as a spawned one (shim_client.c says why). */
    struct sched_param idle = {.sched_priority = 0};
    if ((r->h.flags & WR_SHIM_FORK_IDLE) && sched_setscheduler(0, SCHED_IDLE, &idle) < 0)
        child_fail("SCHED_IDLE");
    place_fds(fds, nfds, &server_template);
    /* argv into the argument area, where the kernel (and the container, to
     * hide it: container_main.c) finds it. */
    static char *argv[WR_SHIM_FORK_ARGC_MAX + 1];
    memset(area, 0, area_used);
    memcpy(area, r->args, r->h.len);
    char *p = area;
    for (uint32_t i = 0; i < r->h.argc; i++) {
        argv[i] = p;
        p += strlen(p) + 1;
    }
    int argc = (int)r->h.argc;
    argv[argc] = NULL;
    explicit_bzero(r, sizeof r->h + r->h.len);
    exit(shim_main(argc, argv));
}

static void reply(int sock, int32_t errnum, pid_t pid)
{
    struct wr_shim_fork_reply rep = {.err = errnum, .pid = pid};
    (void)send(sock, &rep, sizeof rep, MSG_NOSIGNAL);
}

/* One request: checked, forked, answered, forgotten. Returns -1 when the
 * daemon has gone (or the socket failed): the server then exits. */
static int serve_one(int sock, pid_t parent)
{
    static struct wr_shim_fork_request r;
    int fds[WR_MAX_PASSED_FDS] = {-1, -1, -1, -1, -1};
    size_t nfds = WR_MAX_PASSED_FDS;
    wr_error err = {0};
    ssize_t n = wr_recv_fds(sock, &r, sizeof r, fds, &nfds, &err);
    if (n == 0 || (n < 0 && err.errnum != EMSGSIZE))
        return -1;
    if (getppid() != parent) /* the daemon died: PR_SET_PDEATHSIG's race */
        return -1;
    if (n < 0 || wr_shim_fork_check(&r, (size_t)n, nfds, &err) < 0 || r.h.len > area_len) {
        wr_close_fds(fds, nfds);
        explicit_bzero(&r, n > 0 ? (size_t)n : sizeof r.h);
        reply(sock, EPROTO, 0);
        return 0;
    }
    /* exit_signal stays 0: with CLONE_PARENT the kernel gives the child the
     * server's own (SIGCHLD, to the daemon). */
    struct clone_args args = {.flags = CLONE_PARENT};
    pid_t pid = (pid_t)syscall(SYS_clone3, &args, sizeof args);
    if (pid == 0)
        run_shim(&r, fds, nfds);
    int saved = errno;
    wr_close_fds(fds, nfds);
    explicit_bzero(&r, (size_t)n); /* what the request wrote, no more: pages stay shared */
    reply(sock, pid < 0 ? saved : 0, pid < 0 ? 0 : pid);
    return 0;
}

int shim_server_main(int argc, char **argv)
{
    save_start_signals();
    prctl(PR_SET_NAME, "warmrun-shimsrv");
    char *end;
    /* Then the padding: one argument of WR_SHIM_FORK_PAD bytes (shim_fork.h). */
    long parent = argc >= 8 && strcmp(argv[2], "--state-dir") == 0 &&
                          strcmp(argv[4], "--parent") == 0 && strcmp(argv[6], "--root") == 0
                      ? strtol(argv[5], &end, 10)
                      : 0;
    if (parent <= 1 || *end || fcntl(WR_SHIM_SERVER_FD, F_GETFD) < 0) {
        fprintf(stderr, "warmrun-shim: internal program of warmrun, not to be run by hand\n");
        return 2;
    }
    /* The daemon's going ends the server: its death signal, then the
     * parent check (it may have died before the prctl), and the socket's
     * end of file. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != (pid_t)parent)
        return 1;
    /* --mnt-template: the daemon gave the template a server before made
     * (daemon_mnt_template.h), on its two fixed numbers. */
    bool given = argc >= 9 && strcmp(argv[8], "--mnt-template") == 0;
    if (given) {
        close_range(WR_SHIM_SERVER_FD + 1, SHIM_MNT_TEMPLATE_FD - 1, 0);
        close_range(SHIM_MNT_TEMPLATE_ROOT_FD + 1, ~0U, 0);
    } else {
        close_range(WR_SHIM_SERVER_FD + 1, ~0U, 0);
    }
    fcntl(WR_SHIM_SERVER_FD, F_SETFD, FD_CLOEXEC);
    area = argv[0];
    area_len = (size_t)(argv[argc - 1] + strlen(argv[argc - 1]) + 1 - argv[0]);
    int last = given ? 8 : 7;
    area_used = (size_t)(argv[last] + strlen(argv[last]) + 1 - argv[0]);
    if (argc == last + 2 && is_padding(argv[last + 1]))
        memset(argv[last + 1], 0, strlen(argv[last + 1])); /* our own pages, once */
    else
        area_used = area_len; /* not the daemon's padding: clear it all */
    if (area_len < WR_SHIM_FORK_ARGS_MAX) {
        fprintf(stderr, "warmrun-shim: --server: argument area of %zu bytes, under %d\n", area_len,
                WR_SHIM_FORK_ARGS_MAX);
        return 2;
    }
    /* Only the daemon (socket, death) or SIGKILL/SIGTERM end the server: not
     * a stray hang-up or interrupt, nor a write to a closed socket. Its
     * children get every disposition back to the default (run_shim). */
    server_ignore(SIGPIPE);
    server_ignore(SIGHUP);
    server_ignore(SIGINT);
    /* Host facts every fill reads, read once here for the shims forked
     * below: the cgroup hierarchies (the host's whole mountinfo, parsed),
     * the boot id their state records carry, the kernel's last
     * capability (their containers' bounding sets). Not of any request. A
     * failed detection is left to each shim, which reports it. */
    wr_error ignored, terr = {0};
    /* Not of any request either: the host's paths of the store and the
     * staging directory. */
    if (shim_mnt_template_server_init(given, argv[7], argv[3], &server_template, &terr) < 0)
        fprintf(stderr, "warmrun-shim: --server: %s: every fill copies the host's mount tree\n",
                terr.msg);
    (void)wr_cgroup_pin_layout(&ignored);
    wr_state_pin_boot_id();
    (void)wr_last_capability();
    while (serve_one(WR_SHIM_SERVER_FD, (pid_t)parent) == 0)
        ;
    return 0;
}
