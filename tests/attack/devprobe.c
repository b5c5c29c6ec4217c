/* Probes of the kernel resources a container shares with the host, for
 * tests/integration/73-escape-dev.t. Built static: it runs in the test's
 * busybox image and on the host. Prints one line per probe.
 *
 *   devprobe ptys MAX          opens /dev/ptmx until it fails or MAX are
 *                              open: "ptys N ERRNO" (ERRNO "OK" at MAX)
 *   devprobe inotify MAX       inotify_init1 likewise: "inotify N ERRNO"
 *   devprobe inotify-hold MAX  the same, then keeps them until killed
 *   devprobe nsowner PATH      the owner uid of the user namespace PATH
 *                              (NS_GET_OWNER_UID): "nsowner UID" */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <unistd.h>

static const char *errname(int e)
{
    const char *n = strerrorname_np(e);
    return n ? n : "?";
}

/* Opens up to max descriptors with open_one; returns how many, the first
 * failure's errno in *e (0 when max were opened). */
static long open_many(long max, int (*open_one)(void), int *e)
{
    struct rlimit rl = {(rlim_t)max + 16, (rlim_t)max + 16};
    setrlimit(RLIMIT_NOFILE, &rl); /* best effort: EMFILE would show */
    long n = 0;
    *e = 0;
    while (n < max) {
        if (open_one() < 0) {
            *e = errno;
            break;
        }
        n++;
    }
    return n;
}

static int open_ptmx(void)
{
    return open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
}

static int open_inotify(void)
{
    return inotify_init1(IN_CLOEXEC);
}

int main(int argc, char **argv)
{
    int e;
    if (argc == 3 && strcmp(argv[1], "ptys") == 0) {
        long n = open_many(atol(argv[2]), open_ptmx, &e);
        printf("ptys %ld %s\n", n, e ? errname(e) : "OK");
        return 0;
    }
    if (argc == 3 && (strcmp(argv[1], "inotify") == 0 || strcmp(argv[1], "inotify-hold") == 0)) {
        long n = open_many(atol(argv[2]), open_inotify, &e);
        printf("inotify %ld %s\n", n, e ? errname(e) : "OK");
        fflush(stdout);
        if (strcmp(argv[1], "inotify-hold") == 0)
            for (;;)
                pause();
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "nsowner") == 0) {
        uid_t uid;
        int fd = open(argv[2], O_RDONLY | O_CLOEXEC);
        if (fd < 0 || ioctl(fd, NS_GET_OWNER_UID, &uid) < 0) {
            printf("nsowner %s\n", errname(errno));
            return 1;
        }
        printf("nsowner %u\n", (unsigned)uid);
        return 0;
    }
    fprintf(stderr, "usage: devprobe ptys|inotify|inotify-hold MAX | nsowner PATH\n");
    return 2;
}
