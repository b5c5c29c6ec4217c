/* abort(3) as glibc's behaves, for the CLI and the shim linked with musl
 * (Makefile, MUSL_STATIC): compiled into those builds only.
 *
 * Why this file exists: musl's abort() (and raise(), and gettid()) use the
 * thread id musl noted at start-up. In a process made by a raw clone3 --
 * a shim forked by the shim server, a container's pid 1 -- that id is the
 * parent's, still valid in the same pid namespace: an abort() in a forked
 * shim (an assert of libseccomp or jansson, a failed fortify check) would
 * send SIGABRT to the shim server first. glibc's raise() asks the kernel
 * for the caller's thread id (nptl/pthread_kill.c), and so does this one.
 * In a static link this definition is the one used; musl's
 * (src/exit/abort.c, abort alone) is then not linked, and a link that
 * pulled it too would fail on the duplicate.
 *
 * The sequence is musl's and glibc's: SIGABRT to the calling thread (a
 * handler, if any, runs); if the process still lives (handled and
 * returned, blocked or ignored), every signal blocked, SIGABRT back to its
 * default and sent again, then unblocked; if even that leaves it alive (pid
 * 1 of a pid namespace ignores a signal it has no handler for), a trap
 * instruction, which the kernel delivers by force. No atexit handlers, no
 * stdio flush. */
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

static void abort_self(void)
{
    syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGABRT);
}

_Noreturn void abort(void)
{
    abort_self();
    sigset_t all, abrt;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, NULL);
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    sigaction(SIGABRT, &dfl, NULL);
    abort_self();
    sigemptyset(&abrt);
    sigaddset(&abrt, SIGABRT);
    sigprocmask(SIG_UNBLOCK, &abrt, NULL);
    __builtin_trap();
}
