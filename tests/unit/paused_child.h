/* A stand-in for a container's pid 1 in unit tests: a paused child that
 * dies with the test (PR_SET_PDEATHSIG) and holds none of its descriptors
 * (the fake shims' socket ends, the TAP output), so that closing them is
 * seen. Returns its pid once it has closed them; bails out on failure.
 * Include after tap.h. */
#ifndef WARMRUN_TEST_PAUSED_CHILD_H
#define WARMRUN_TEST_PAUSED_CHILD_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static pid_t paused_child(void)
{
    int sync[2];
    char byte;
    if (pipe(sync) < 0)
        bail_out("pipe: %s", strerror(errno));
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        bail_out("fork: %s", strerror(errno));
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int null = open("/dev/null", O_RDWR);
        dup2(null, 1);
        dup2(null, 2);
        syscall(SYS_close_range, 3, ~0U, 0);
        for (;;)
            pause();
    }
    /* EOF once the child closed its copies of every descriptor. */
    close(sync[1]);
    while (read(sync[0], &byte, 1) < 0 && errno == EINTR)
        ;
    close(sync[0]);
    return pid;
}

#endif
