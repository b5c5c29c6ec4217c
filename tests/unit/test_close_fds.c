/* TAP test of wr_close_fds_except (runtime/container/container_fds.c), what
 * pid 1 runs right after its clone: every descriptor it is given to keep
 * stays open, however many (the fill's list has nine entries: stdio, the
 * init and activation sockets, the user namespace, the memory-lock memfd,
 * a recycled network namespace and its sysfs mount), and every other one
 * is closed. Each case runs in a child: it closes the test's own
 * descriptors. */
#include "container/container_fds.h"
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define FIRST  20 /* the descriptors under test: FIRST .. FIRST + OPENED - 1 */
#define OPENED 16

/* In a child: opens FIRST.. on /dev/null, keeps keep[0..n) (and 0, 1, 2
 * if listed), and exits 0 if exactly those of FIRST.. stay open, else with
 * the first wrong descriptor's number. */
static int run_case(const int *keep, size_t n)
{
    pid_t pid = fork();
    if (pid < 0)
        bail_out("fork: %s", strerror(errno));
    if (pid == 0) {
        int null = open("/dev/null", O_RDONLY);
        for (int fd = FIRST; fd < FIRST + OPENED; fd++)
            if (null < 0 || dup2(null, fd) != fd)
                _exit(100);
        close(null);
        wr_close_fds_except(keep, n);
        for (int fd = FIRST; fd < FIRST + OPENED + 4; fd++) {
            bool want = false;
            for (size_t i = 0; i < n; i++)
                want = want || keep[i] == fd;
            bool open_now = fcntl(fd, F_GETFD) >= 0;
            if (open_now != want)
                _exit(fd);
        }
        _exit(0);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            bail_out("waitpid: %s", strerror(errno));
    return WIFEXITED(status) ? WEXITSTATUS(status) : 255;
}

int main(void)
{
    plan(4);
    /* The fill's list, every entry in use (shim_create.c's keep). */
    const int nine[] = {0, 1, 2, FIRST + 3, FIRST + 4, FIRST + 9, FIRST + 1, FIRST + 5, FIRST + 6};
    is_int(run_case(nine, 9), 0, "nine descriptors to keep: all kept, the others closed");
    /* More than any fixed bound, unsorted, with duplicates and -1s. */
    const int many[] = {FIRST + 15, -1,         FIRST + 2,  FIRST + 2,  FIRST + 14,
                        FIRST + 13, FIRST + 12, FIRST + 11, FIRST + 10, -1,
                        FIRST + 8,  FIRST + 7,  FIRST,      FIRST + 1};
    is_int(run_case(many, sizeof many / sizeof *many), 0,
           "fourteen entries (duplicates, -1s, unsorted): each kept, the others closed");
    const int none[] = {-1, -1};
    is_int(run_case(none, 2), 0, "only -1s: everything closed");
    is_int(run_case(NULL, 0), 0, "an empty list: everything closed");
    return done_testing();
}
