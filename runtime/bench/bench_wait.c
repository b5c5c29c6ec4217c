/* Waits of the fill bench that cost next to nothing while they wait: the
 * bench's own CPU falls in the windows it measures. Polling `pool ls`
 * every 10 ms cost ~0.1-0.2 ms of bench and daemon CPU per container; the
 * daemon's event stream (one message per fill, read as it comes) and
 * pidfds (one wake-up per ended shim) do not poll at all. */
#include "bench_wait.h"

#include "lib/api_client.h"
#include "lib/cleanup.h"
#include "lib/protocol_text.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define WAKE_MS 1000 /* at most this long between two looks at bench_stop */

int bench_events_open(const struct bench_env *e, wr_error *err)
{
    struct wr_request req = {.op = WR_OP_EVENTS}; /* since 0: only new ones */
    int sock = wr_api_connect(e->g.socket, err);
    if (sock < 0)
        return -1;
    if (wr_api_send_request(sock, &req, NULL, 0, err) < 0) {
        close(sock);
        return -1;
    }
    return sock;
}

static const char *attr(const struct wr_event *ev, const char *key)
{
    for (size_t i = 0; i < ev->n_attrs; i++)
        if (!strcmp(ev->key[i], key))
            return ev->value[i];
    return "";
}

/* Counts the events of one message; -1 (err) on a failed fill. */
static int count_events(char *text, const char *image, long *filled, wr_error *err)
{
    for (char *line = text, *nl; *line; line = nl + 1) {
        nl = strchr(line, '\n');
        if (!nl)
            break;
        struct wr_event ev;
        wr_error ignored;
        if (wr_event_line_parse(line, (size_t)(nl - line), &ev, &ignored) < 0 ||
            !bench_image_is(attr(&ev, "image"), image))
            continue;
        if (!strcmp(ev.type, "filled"))
            (*filled)++;
        else if (!strcmp(ev.type, "fill_failed"))
            return wr_error_set(err, 0, "pool %s: a fill failed: %s", image, attr(&ev, "error"));
    }
    return 0;
}

int bench_events_wait_filled(int sock, const char *image, long n, long timeout_s, wr_error *err)
{
    cleanup_free char *buf = malloc(WR_API_MSG_MAX);
    if (!buf)
        return wr_error_set(err, ENOMEM, "events");
    int64_t deadline = bench_now_ns() + (int64_t)timeout_s * 1000000000;
    long filled = 0;
    while (filled < n) {
        if (bench_stop)
            return wr_error_set(err, EINTR, "interrupted");
        if (bench_now_ns() > deadline)
            return wr_error_set(err, ETIMEDOUT, "pool %s: %ld of %ld filled after %ld s", image,
                                filled, n, timeout_s);
        struct pollfd p = {.fd = sock, .events = POLLIN};
        if (poll(&p, 1, WAKE_MS) <= 0)
            continue;
        ssize_t got = recv(sock, buf, WR_API_MSG_MAX, MSG_DONTWAIT);
        if (got < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (got <= 0)
            return wr_error_set(err, got < 0 ? errno : ECONNRESET,
                                "the daemon closed the event stream");
        char *text;
        bool more;
        if (wr_text_reply_parse(buf, (size_t)got, &text, &more, err) < 0)
            return -1;
        int rc = count_events(text, image, &filled, err);
        free(text);
        if (rc < 0)
            return -1;
    }
    return 0;
}

int bench_pidfds_wait(int *fds, size_t n, long timeout_s, wr_error *err)
{
    cleanup_close int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        return wr_error_set(err, errno, "epoll_create1");
    size_t left = 0;
    for (size_t i = 0; i < n; i++) {
        struct epoll_event ev = {.events = EPOLLIN, .data.u64 = i};
        if (fds[i] >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev) == 0)
            left++;
    }
    int64_t deadline = bench_now_ns() + (int64_t)timeout_s * 1000000000;
    while (left > 0) {
        if (bench_stop)
            return wr_error_set(err, EINTR, "interrupted");
        if (bench_now_ns() > deadline)
            return wr_error_set(err, ETIMEDOUT, "%zu processes still alive after %ld s", left,
                                timeout_s);
        struct epoll_event evs[64];
        int k = epoll_wait(ep, evs, 64, WAKE_MS);
        for (int i = 0; i < k; i++) {
            size_t at = (size_t)evs[i].data.u64;
            epoll_ctl(ep, EPOLL_CTL_DEL, fds[at], NULL);
            close(fds[at]);
            fds[at] = -1;
            left--;
        }
    }
    return 0;
}
