/* Tries, from inside a container, to change the inodes behind its own
 * stdio, as a hostile workload running as root would: for each fd given,
 * through the descriptor (fchmod, fchown, fsetxattr) and through its
 * /proc/self/fd/N magic link (chmod, chown, setxattr). A set-uid bit on
 * the caller's file would make it a set-uid-root binary on the host.
 * Prints one line per attempt on stderr: "N CALL RESULT" (the errno's
 * name, or OK), so that stdout carries only what the workload means to.
 * Built static (no libc in the test image).
 * usage: stdioprobe FD... */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

static void report(int fd, const char *call, int rc)
{
    const char *e = rc < 0 ? strerrorname_np(errno) : "OK";
    fprintf(stderr, "%d %s %s\n", fd, call, e ? e : "?");
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        int fd = atoi(argv[i]);
        char path[64];
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        report(fd, "fsetxattr", fsetxattr(fd, "user.x", "pwn", 3, 0));
        report(fd, "setxattr", setxattr(path, "user.y", "pwn", 3, 0));
        report(fd, "fchown", fchown(fd, 1, 1));
        report(fd, "chown", chown(path, 2, 2));
        /* Last: a chown clears the set-uid bit. */
        report(fd, "fchmod", fchmod(fd, 04755));
        report(fd, "chmod", chmod(path, 04777));
    }
    return 0;
}
