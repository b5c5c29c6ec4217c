/* pid 1 as a minimal init (`activate --init`, like `docker run --init`).
 * Without it the workload is pid 1, and the kernel drops every signal pid 1
 * has no handler for: ^C or `warmrun kill ID TERM` then do nothing to a
 * plain `sleep`. With it, the workload runs as pid 2 with normal signal
 * semantics; pid 1 forwards what it receives and reaps orphans. */
#include "container_init.h"

#include "container.h"

#include "lib/shim_msg.h"
#include "lib/clock.h"
#include "exec_command.h"
#include "privileges.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static _Noreturn void exit_like(int status)
{
    if (WIFEXITED(status))
        _exit(WEXITSTATUS(status));
    /* pid 1 cannot die of a signal it sends itself: the shell's convention. */
    _exit(128 + WTERMSIG(status));
}

/* What pid 1 forwards: every signal but SIGKILL and SIGSTOP (which
 * nobody can block) and glibc's two internal ones, 32 and 33, which its
 * sigfillset leaves out. musl's, the shim's C library (Makefile,
 * MUSL_STATIC), leaves out 34 as well (its third internal signal; the
 * first real-time signal, SIGRTMIN, of glibc's programs) and its sigaddset
 * refuses it: set by hand, or `warmrun kill ID 34` would find pid 1
 * without a handler, which the kernel takes for "ignore", instead of
 * reaching the workload. musl uses 34 only to change the ids of a
 * multi-threaded process (synccall): pid 1 has one thread. */
static void forwarded_signals(sigset_t *set)
{
    sigfillset(set);
#ifndef __GLIBC__
    enum { SIG34 = 34, BITS = 8 * sizeof(unsigned long) };
    unsigned long *bits = (unsigned long *)(void *)set;
    bits[(SIG34 - 1) / BITS] |= 1UL << ((SIG34 - 1) % BITS);
#endif
}

/* fork(2) as glibc's issues it: the clone system call with glibc's
 * flags (sysdeps/unix/sysv/linux/arch-fork.h). musl's fork(), the shim's C
 * library's (Makefile, MUSL_STATIC), issues the fork system call, which a
 * custom profile that allows clone and not fork (one made from what a glibc
 * program calls) refuses: `activate --init` then failed with 125 under the
 * filter that this process already runs. The child only execs or reports
 * and exits, so the C library's own bookkeeping of a fork (its thread id,
 * atfork handlers) is not needed. */
#define FORK_FLAGS (CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | SIGCHLD)
static pid_t fork_workload(void)
{
    static pid_t child_tid; /* CLONE_CHILD_SETTID's word, as glibc's */
    return (pid_t)syscall(SYS_clone, FORK_FLAGS, 0, NULL, &child_tid, 0);
}

_Noreturn void wr_exec_with_init(char *const argv[], char *const envp[], int init_sock,
                                 struct wr_exec_stamp *stamp)
{
    sigset_t all, none;
    forwarded_signals(&all);
    sigemptyset(&none);
    /* Blocked before the fork, so that no signal falls between the two. */
    sigprocmask(SIG_SETMASK, &all, NULL);
    /* Not dumpable from before the fork: the workload, once it has exec'd
     * (which makes it dumpable again), must find pid 1 closed to
     * ptrace and /proc/1/mem at once, not after a race with our prctl. */
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    /* From here a seccomp kill of pid 1 is warmrun's error, not the
     * workload's: the shim says so (shim_loop.c, collect_exec_error). */
    struct wr_msg note = {.type = WR_MSG_INIT};
    (void)send(init_sock, &note, sizeof note, MSG_NOSIGNAL);
    pid_t workload = fork_workload();
    if (workload == 0) {
        wr_error err = {0};
        struct wr_msg m;
        sigprocmask(SIG_SETMASK, &none, NULL);
        stamp->exec_ns = wr_monotonic_ns();
        int code = wr_exec_command(argv, envp, &err);
        wr_msg_from_error(&m, WR_MSG_EXEC_FAILED, &err);
        m.num = code;
        (void)send(init_sock, &m, sizeof m, MSG_NOSIGNAL);
        _exit(code);
    }
    if (workload < 0) {
        wr_error err = {0};
        struct wr_msg m;
        /* EAGAIN, ENOMEM: the pids limit, the memory limit. Anything
         * else comes from the seccomp profile (clone's flags are fixed). */
        if (errno == EAGAIN || errno == ENOMEM)
            wr_error_set(&err, errno, "--init: fork the workload");
        else
            wr_error_set(&err, errno,
                         "--init: fork the workload: the seccomp profile refuses clone "
                         "(flags 0x%x), which pid 1 needs",
                         (unsigned)FORK_FLAGS);
        wr_msg_from_error(&m, WR_MSG_EXEC_FAILED, &err);
        m.num = 125;
        (void)send(init_sock, &m, sizeof m, MSG_NOSIGNAL);
        _exit(125);
    }
    /* Only the workload holds the caller's stdio, and nothing else of ours
     * stays open here: when it exits, whoever reads its output sees the
     * end, and no socket of the shim's is left for it to take from pid 1. */
    close_range(0, ~0U, 0);
    /* Signalling and reaping our own child need no privilege: keep none, so
     * that pid 1 is no better a target than the workload. Not dumpable
     * (since before the fork): the workload (same uid, no CAP_SYS_PTRACE)
     * can neither trace pid 1 nor read its memory or environment through
     * /proc. */
    wr_error ignored;
    (void)wr_drop_all_capabilities(&ignored);
    for (;;) {
        siginfo_t si;
        int sig = sigwaitinfo(&all, &si);
        if (sig < 0)
            continue;
        if (sig != SIGCHLD) {
            kill(workload, sig);
            continue;
        }
        int status;
        pid_t pid;
        while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
            if (pid == workload)
                exit_like(status);
    }
}
