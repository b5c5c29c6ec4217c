/* User namespaces: see userns.h. */
#include "userns.h"

#include "cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int write_map(pid_t pid, const char *which, uint32_t base, uint32_t size, wr_error *err)
{
    char path[64], map[64];
    snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, which);
    int n = snprintf(map, sizeof map, "0 %u %u\n", base, size);
    cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, map, (size_t)n) != n)
        return wr_error_set(err, errno, "write %s", path);
    return 0;
}

/* The helper: becomes owner (uid and gid, no supplementary groups) and
 * unshares the namespace, which the kernel then owns to that uid; reports
 * 0 or an errno on ready, then holds the namespace until hold closes. Raw
 * system calls: a raw clone3 child must not run glibc's set*id broadcast. */
static _Noreturn void helper_main(uint32_t owner, int ready, int hold)
{
    int e = 0;
    char c;
    if (syscall(SYS_setgroups, 0, NULL) < 0 || syscall(SYS_setresgid, owner, owner, owner) < 0 ||
        syscall(SYS_setresuid, owner, owner, owner) < 0 || unshare(CLONE_NEWUSER) < 0)
        e = errno;
    (void)write(ready, &e, sizeof e);
    if (e == 0)
        (void)read(hold, &c, 1);
    _exit(e ? 1 : 0);
}

int wr_userns_create(uint32_t base, uint32_t size, uint32_t owner, int *fd, wr_error *err)
{
    int ready[2], hold[2];
    *fd = -1;
    if (pipe2(ready, O_CLOEXEC) < 0)
        return wr_error_set(err, errno, "pipe");
    if (pipe2(hold, O_CLOEXEC) < 0) {
        close(ready[0]);
        close(ready[1]);
        return wr_error_set(err, errno, "pipe");
    }
    struct clone_args args = {.exit_signal = SIGCHLD};
    pid_t pid = (pid_t)syscall(SYS_clone3, &args, sizeof args);
    if (pid == 0) {
        close(ready[0]);
        close(hold[1]);
        helper_main(owner, ready[1], hold[0]);
    }
    close(ready[1]);
    close(hold[0]);
    int rc = 0, e = 0;
    if (pid < 0) {
        rc = wr_error_set(err, errno, "clone the user namespace helper");
    } else if (read(ready[0], &e, sizeof e) != (ssize_t)sizeof e || e != 0) {
        rc = wr_error_set(err, e, "create a user namespace as host uid %u", owner);
    } else {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/ns/user", (int)pid);
        if (write_map(pid, "uid_map", base, size, err) < 0 ||
            write_map(pid, "gid_map", base, size, err) < 0)
            rc = -1;
        else if ((*fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
            rc = wr_error_set(err, errno, "open %s", path);
    }
    close(ready[0]);
    close(hold[1]);
    if (pid > 0)
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
            ;
    return rc;
}
