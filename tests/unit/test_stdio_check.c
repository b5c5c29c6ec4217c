/* TAP test of wr_stdio_check (runtime/container/container_fds.c): what a container
 * takes as its stdio. Anonymous pipes and sockets (a socket bound to a
 * path too) pass; a regular file, /dev/null, a named pipe, a directory, an
 * O_PATH descriptor of a file, an eventfd and a memfd are refused, and the
 * message names the stream, the fd and the kind. Also prints what one
 * check of three pipes costs. Needs no privileges. */
#include "container/container_fds.h"
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static char dir[] = "/tmp/wr-test-stdio-XXXXXX";

static int open_or_bail(const char *path, int flags)
{
    int fd = open(path, flags | O_CLOEXEC);
    if (fd < 0)
        bail_out("open %s: %s", path, strerror(errno));
    return fd;
}

/* Checks {fd, ok, ok} with fd in place `at`; returns the message ("" when
 * accepted). */
static const char *check_at(int fd, int ok, int at, wr_error *err)
{
    int fds[3] = {ok, ok, ok};
    fds[at] = fd;
    err->msg[0] = '\0';
    wr_stdio_check(fds, err);
    return err->msg;
}

static void refused(int fd, int ok, const char *kind, const char *label)
{
    static const char *const names[] = {"stdin", "stdout", "stderr"};
    for (int at = 0; at < 3; at++) {
        wr_error err;
        int fds[3] = {ok, ok, ok};
        fds[at] = fd;
        int rc = wr_stdio_check(fds, &err);
        char want[128];
        snprintf(want, sizeof want, "%s (fd %d) is %s", names[at], at, kind);
        if (!ok(rc < 0 && strstr(err.msg, want) != NULL && strstr(err.msg, ": refused") != NULL,
                "%s as %s: refused as %s", label, names[at], kind))
            diag("message: %s", rc < 0 ? err.msg : "(accepted)");
    }
}

int main(void)
{
    wr_error err;
    int p[2], sv[2];
    if (!mkdtemp(dir))
        bail_out("mkdtemp: %s", strerror(errno));
    if (pipe2(p, O_CLOEXEC) < 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        bail_out("pipe/socketpair: %s", strerror(errno));

    /* ---- accepted ---- */
    int all_pipes[3] = {p[0], p[1], p[1]};
    is_int(wr_stdio_check(all_pipes, &err), 0, "three pipe ends pass");
    int socks[3] = {sv[0], sv[1], sv[0]};
    is_int(wr_stdio_check(socks, &err), 0, "socketpair ends pass");
    int bound = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    snprintf(sun.sun_path, sizeof sun.sun_path, "%s/sock", dir);
    if (bound < 0 || bind(bound, (struct sockaddr *)&sun, sizeof sun) < 0)
        bail_out("bind %s: %s", sun.sun_path, strerror(errno));
    is_str(check_at(bound, p[1], 1, &err), "",
           "a socket bound to a path passes (its sockfs inode is not the path's)");
    char path[256];
    snprintf(path, sizeof path, "/proc/self/fd/%d", p[1]);
    int pipe_path = open_or_bail(path, O_PATH);
    is_str(check_at(pipe_path, p[1], 2, &err), "",
           "an O_PATH descriptor of a pipe passes (nothing the pipe does not give)");

    /* ---- refused ---- */
    snprintf(path, sizeof path, "%s/file", dir);
    int file = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (file < 0)
        bail_out("create %s: %s", path, strerror(errno));
    refused(file, p[1], "a regular file", "a regular file");
    int null = open_or_bail("/dev/null", O_RDWR);
    refused(null, p[1], "/dev/null (character device 1:3)", "/dev/null");
    snprintf(path, sizeof path, "%s/fifo", dir);
    if (mkfifo(path, 0600) < 0)
        bail_out("mkfifo: %s", strerror(errno));
    int fifo = open_or_bail(path, O_RDWR);
    refused(fifo, p[1], "a named pipe of a file system", "a named pipe");
    int d = open_or_bail(dir, O_RDONLY | O_DIRECTORY);
    refused(d, p[1], "a directory", "a directory");
    int dpath = open_or_bail(dir, O_PATH);
    refused(dpath, p[1], "an O_PATH descriptor", "an O_PATH directory");
    int efd = eventfd(0, EFD_CLOEXEC);
    refused(efd, p[1], "an anonymous inode", "an eventfd");
    int mfd = memfd_create("wr-test", MFD_CLOEXEC);
    refused(mfd, p[1], "a regular file", "a memfd");
    if (!ok(strstr(check_at(file, p[1], 1, &err), "must be pipes or sockets") != NULL,
            "the message says what a container takes"))
        diag("message: %s", err.msg);

    /* ---- cost ---- */
    enum { N = 200000 };
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < N; i++)
        if (wr_stdio_check(all_pipes, &err) < 0)
            bail_out("a pipe refused: %s", err.msg);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ns = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / N;
    diag("wr_stdio_check of three pipes: %.0f ns per call (%d calls)", ns, N);

    int all[] = {p[0], p[1], sv[0], sv[1], bound, pipe_path, file, null, fifo, d, dpath, efd, mfd};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        close(all[i]);
    tap_rm_tree(dir);
    return done_testing();
}
