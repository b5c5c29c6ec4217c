/* The CLI's stdio made safe to hand to a container: pipes and sockets as
 * they are, a relayed pipe in front of anything else (cli_stdio.h). */
#include "cli_stdio.h"

#include "lib/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kcmp.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static char relay_buf[3][CLI_RELAY_BUF];

static const char *const stream_names[] = {"stdin", "stdout", "stderr"};

enum stdio_kind {
    STDIO_PASS,  /* an anonymous pipe or a socket: handed over as it is */
    STDIO_NULL,  /* /dev/null or closed: an empty stdin, a dropped output */
    STDIO_RELAY, /* any other inode: a pipe of ours in front of it */
};

/* What fd i is (for the CLI: fstatfs says pipe or socket in one call, the
 * common case); -1 (err set) for what can be neither passed nor relayed. */
static int classify(int i, enum stdio_kind *kind, wr_error *err)
{
    struct statfs sfs;
    struct stat st;
    if (fstatfs(i, &sfs) < 0)
        return wr_error_set(err, errno, "%s (fd %d)", stream_names[i], i);
    if (sfs.f_type == PIPEFS_MAGIC || sfs.f_type == SOCKFS_MAGIC) {
        *kind = STDIO_PASS;
        return 0;
    }
    int fl = fcntl(i, F_GETFL);
    if (fl < 0)
        return wr_error_set(err, errno, "%s (fd %d)", stream_names[i], i);
    if (fl & O_PATH)
        return wr_error_set(err, 0, "%s (fd %d) is an O_PATH descriptor: refused", stream_names[i],
                            i);
    if (fstat(i, &st) < 0)
        return wr_error_set(err, errno, "%s (fd %d)", stream_names[i], i);
    if (S_ISDIR(st.st_mode))
        return wr_error_set(err, 0,
                            "%s (fd %d) is a directory: refused (it can be neither read nor "
                            "written, and a container must not get it)",
                            stream_names[i], i);
    /* /dev/null (or a node of the same device: reading it gives EOF,
     * writing it drops the bytes). */
    *kind = S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3) ? STDIO_NULL : STDIO_RELAY;
    return 0;
}

/* Do fds 1 and 2 share one open file description (`> f 2>&1`, a
 * terminal)? Then one pipe serves both, and their order is kept. */
static bool same_description(int a, int b)
{
    pid_t self = getpid();
    long r = syscall(SYS_kcmp, self, self, KCMP_FILE, a, b);
    if (r >= 0)
        return r == 0;
    /* No kcmp (a kernel without CONFIG_KCMP): the same inode will do. */
    struct stat sa, sb;
    return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

static void relay_init(struct cli_relay *r, int cli_fd)
{
    memset(r, 0, sizeof *r);
    r->src = r->dst = -1;
    r->cli_fd = cli_fd;
    r->pidx = -1;
    r->buf = relay_buf[cli_fd];
}

/* A pipe for stream i: the container's end in s->pass[i] and s->ours[i],
 * ours (non-blocking: a full or empty pipe must not stop the wait loop)
 * returned. For stdin, the container reads p[0]; for an output it writes
 * p[1]. */
static int make_pipe(struct cli_stdio *s, int i, wr_error *err)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return wr_error_set(err, errno, "pipe for %s", stream_names[i]);
    int theirs = i == 0 ? p[0] : p[1];
    int mine = i == 0 ? p[1] : p[0];
    if (fcntl(mine, F_SETFL, O_NONBLOCK) < 0) {
        int e = errno;
        close(p[0]);
        close(p[1]);
        return wr_error_set(err, e, "pipe for %s", stream_names[i]);
    }
    s->pass[i] = s->ours[i] = theirs;
    return mine;
}

int cli_stdio_prepare(struct cli_stdio *s, wr_error *err)
{
    enum stdio_kind kind[3];
    memset(s, 0, sizeof *s);
    for (int i = 0; i < 3; i++) {
        s->pass[i] = i;
        s->ours[i] = -1;
        relay_init(&s->relay[i], i);
    }
    /* A closed 0, 1 or 2 first gets the CLI's own /dev/null, so that the
     * pipes below (and the CLI's signalfd and sockets) never take its
     * number; it then counts as /dev/null: an empty stdin, a dropped
     * output, as before. */
    for (int i = 0; i < 3; i++) {
        if (fcntl(i, F_GETFD) >= 0)
            continue;
        int fd = open("/dev/null", O_RDWR);
        if (fd < 0)
            return wr_error_set(err, errno, "open /dev/null");
        if (fd != i) { /* the lowest free number is i: cannot happen */
            close(fd);
            return wr_error_set(err, EBADF, "%s (fd %d) is closed", stream_names[i], i);
        }
    }
    for (int i = 0; i < 3; i++)
        if (classify(i, &kind[i], err) < 0)
            return -1;
    for (int i = 0; i < 3; i++) {
        struct cli_relay *r = &s->relay[i];
        if (kind[i] == STDIO_PASS)
            continue;
        if (i == 2 && kind[1] != STDIO_PASS && same_description(1, 2)) {
            s->pass[2] = s->pass[1];
            continue;
        }
        int mine = make_pipe(s, i, err);
        if (mine < 0) {
            cli_stdio_finish(s, 0);
            return -1;
        }
        if (i == 0 && kind[i] == STDIO_NULL) {
            close(mine); /* an empty stdin: EOF at once */
        } else if (i == 0) {
            r->src = 0;
            r->dst = mine;
        } else {
            r->src = mine;
            r->dst = i;
            r->discard = kind[i] == STDIO_NULL;
        }
    }
    return 0;
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* The relay is over: close our pipe end (the CLI's own 0, 1, 2 stay). For
 * stdin that is the workload's EOF; for an output, a workload that writes
 * on gets EPIPE, as with a pipe whose reader went away. */
static void relay_stop(struct cli_relay *r)
{
    if (r->cli_fd == 0)
        close_fd(&r->dst);
    else
        close_fd(&r->src);
    r->src = r->dst = -1;
    r->off = r->len = 0;
}

/* Writes what buf holds to dst, as far as dst takes it now. */
static void relay_write(struct cli_stdio *s, struct cli_relay *r)
{
    while (r->off < r->len) {
        ssize_t n = write(r->dst, r->buf + r->off, r->len - r->off);
        if (n > 0) {
            r->off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        /* stdin: the workload closed its end (EPIPE). An output: the
         * CLI's fd 1 or 2 fails (a full disk, a reader gone): say so
         * once, unless the reader is merely gone. */
        if (r->cli_fd != 0 && errno != EPIPE && !s->warning.msg[0])
            wr_error_set(&s->warning, errno, "the workload's %s is cut short: writing fd %d failed",
                         stream_names[r->cli_fd], r->cli_fd);
        relay_stop(r);
        return;
    }
    r->off = r->len = 0;
    if (r->eof)
        relay_stop(r);
}

/* Reads once from src (it was ready), then writes. */
static void relay_read(struct cli_stdio *s, struct cli_relay *r)
{
    ssize_t n = read(r->src, r->buf, CLI_RELAY_BUF);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        /* EOF, or an error reading the CLI's stdin (a terminal hung up;
         * in a background job, with SIGTTIN ignored, EIO): the workload
         * sees EOF. */
        r->eof = true;
        if (r->off >= r->len)
            relay_stop(r);
        return;
    }
    if (r->discard)
        return;
    r->off = 0;
    r->len = (size_t)n;
    relay_write(s, r);
}

size_t cli_stdio_pollfds(struct cli_stdio *s, struct pollfd *p)
{
    size_t n = 0;
    for (int i = 0; i < 3; i++) {
        struct cli_relay *r = &s->relay[i];
        r->pidx = -1;
        if (r->src < 0)
            continue;
        r->pidx = (short)n;
        /* Backpressure: nothing more is read while buf waits for dst. */
        if (r->off < r->len)
            p[n++] = (struct pollfd){.fd = r->dst, .events = POLLOUT};
        else
            p[n++] = (struct pollfd){.fd = r->src, .events = POLLIN};
    }
    return n;
}

void cli_stdio_events(struct cli_stdio *s, const struct pollfd *p)
{
    for (int i = 0; i < 3; i++) {
        struct cli_relay *r = &s->relay[i];
        if (r->pidx < 0 || r->src < 0 || !p[r->pidx].revents)
            continue;
        if (p[r->pidx].fd == r->dst)
            relay_write(s, r);
        else
            relay_read(s, r);
    }
}

void cli_stdio_finish(struct cli_stdio *s, int timeout_ms)
{
    /* The workload is gone: nobody reads stdin any more. */
    relay_stop(&s->relay[0]);
    for (int i = 0; i < 3; i++)
        close_fd(&s->ours[i]);
    int64_t deadline = wr_monotonic_ns() + (int64_t)timeout_ms * 1000000;
    for (;;) {
        struct pollfd p[3];
        size_t n = cli_stdio_pollfds(s, p);
        if (n == 0)
            break;
        int64_t left_ms = (deadline - wr_monotonic_ns()) / 1000000;
        if (left_ms <= 0)
            break;
        int r = poll(p, n, (int)left_ms);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        cli_stdio_events(s, p);
    }
    for (int i = 0; i < 3; i++)
        relay_stop(&s->relay[i]);
}
