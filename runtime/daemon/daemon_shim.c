/* See daemon_shim.h. */
#include "daemon_shim.h"

#include "daemon_events.h"
#include "daemon_log.h"
#include "daemon_metrics.h"
#include "daemon_pool.h"
#include "daemon_resources.h"
#include "daemon_shim_server.h"
#include "daemon_start.h"
#include "lib/state_file.h"
#include "lib/clock.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>
#include <sys/wait.h>

static bool setting_up(const struct entry *e)
{
    return e->state == ENTRY_FILLING || e->state == ENTRY_STARTING;
}

void daemon_on_shim(struct daemon *d, struct entry *e)
{
    struct wr_msg m;
    wr_error err;
    if (e->state == ENTRY_GONE) {
        /* Its exit pidfd (or a message of before the discard, earlier in
         * this batch: then the shim has not exited, and this finds it so). */
        daemon_reap_gone(d, e);
        return;
    }
    int got = wr_shim_read(&e->shim, &m, &err);
    if (got > 0 && m.type == WR_MSG_NETNS) {
        if (m.num >= 0)
            daemon_netns_put(e->pool, m.num, (long)m.value);
        return;
    }
    if (got > 0 && m.type == WR_MSG_WARM && setting_up(e)) {
        char ms[32];
        int64_t fill_ns = wr_monotonic_ns() - e->spawned_ns;
        snprintf(ms, sizeof ms, "%.3f", (double)fill_ns / 1e6);
        daemon_metrics_filled(d, e->image, fill_ns);
        daemon_event_emit(d, "filled", "id", e->shim.id, "image", e->image, "fill_ms", ms,
                          DAEMON_EVENT_END);
        struct client *c = daemon_entry_ready(d, e);
        if (!c)
            daemon_event_emit(d, "warm", "id", e->shim.id, "image", e->image, DAEMON_EVENT_END);
        if (c)
            daemon_start_hand_over(d, c, e);
        return;
    }
    if (got > 0 && m.type == WR_MSG_FAILED && setting_up(e)) {
        daemon_metrics_count(d, e->image, METRICS_FILL_FAILED);
        daemon_event_emit(d, "fill_failed", "id", e->shim.id, "image", e->image, "error", m.text,
                          DAEMON_EVENT_END);
        daemon_entry_setup_failed(d, e, m.text);
        if (e->waiter) {
            char why[WR_ERROR_MSG_MAX];
            snprintf(why, sizeof why,
                     "pool %.100s: the container started for this activation failed: %.300s",
                     e->image, m.text);
            daemon_entry_lose_waiter(d, e, "internal", why);
        }
        daemon_entry_discard(d, e);
        return;
    }
    /* The latency rings are the warm path's: a container created for its
     * activation would only blur them. */
    if (got > 0 && m.type == WR_MSG_EXITED && e->state == ENTRY_RUNNING && !e->cold &&
        m.value > 0 && m.value2 > 0) {
        wr_latency_add(&d->latency, m.value - e->received_ns);
        wr_latency_add(&d->in_daemon, e->resumed_ns - e->received_ns);
        wr_latency_add(&d->wake_up, m.value2 - e->resumed_ns);
        wr_latency_add(&d->in_container, m.value - m.value2);
    }
    if (got > 0 && m.type != WR_MSG_EXITED)
        return; /* nothing else is expected; ignore it */
    if (got > 0 && e->state == ENTRY_RUNNING) {
        char status[16];
        bool oom = !strcmp(m.text, "oom");
        snprintf(status, sizeof status, "%d", m.num);
        if (m.value > 0 && e->received_ns > 0)
            daemon_metrics_latency(d, e->image, m.value - e->received_ns);
        if (oom) {
            daemon_metrics_count(d, e->image, METRICS_OOM_KILL);
            daemon_event_emit(d, "oom_killed", "id", e->shim.id, "image", e->image,
                              DAEMON_EVENT_END);
        }
        daemon_event_emit(d, "exited", "id", e->shim.id, "image", e->image, "status", status, "oom",
                          oom ? "true" : "false", DAEMON_EVENT_END);
    }
    if (got <= 0)
        daemon_entry_setup_failed(d, e, "shim exited during setup");
    /* A hang-up without an exit report: the shim died, and its container
     * must not outlive it (see wr_shim_kill_orphan). */
    if (got == 0 && wr_shim_kill_orphan(&e->shim, WR_ORPHAN_WAIT_MS))
        daemon_log("shim %s gone without an exit report: its container killed", e->shim.id);
    daemon_entry_discard(d, e);
}

/* One of the daemon's children waitpid has just reaped: the shim of e, or
 * (e NULL) whichever child pid is. */
static void reaped(struct daemon *d, pid_t pid, struct entry *e, int status)
{
    if (!e) {
        if (daemon_shim_server_reaped(d, pid, status))
            return;
        for (e = d->entries; e && e->shim.shim_pid != pid; e = e->next)
            ;
        if (!e)
            return;
    }
    /* A shim that did not exit cleanly could not remove its record,
     * nor its container's cgroups, which only an exited container
     * frees (its control socket's hang-up may still wait in epoll). */
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        if (e->state != ENTRY_GONE)
            wr_shim_kill_orphan(&e->shim, WR_ORPHAN_WAIT_MS);
        wr_state_remove(d->g->state_dir, e->shim.id);
        daemon_resources_forget(d, e->shim.id);
        if (WIFSIGNALED(status))
            daemon_log("shim %s killed by signal %d", e->shim.id, WTERMSIG(status));
    }
    if (!WIFEXITED(status))
        daemon_entry_setup_failed(d, e, "shim died during setup");
    daemon_entry_reaped(d, e);
}

/* waitpid of one pid: the kernel looks it up at once (do_wait_pid), where
 * waitpid(-1) walks every child of the daemon. */
static bool reap_pid(struct daemon *d, pid_t pid, struct entry *e)
{
    int status;
    pid_t got = pid > 0 ? waitpid(pid, &status, WNOHANG) : 0;
    if (got < 0 && errno == ECHILD && e) {
        /* Not (or no longer) a child: nothing to wait for, and its exit
         * pidfd must not wake the loop for ever. */
        daemon_entry_reaped(d, e);
        return false;
    }
    if (got != pid)
        return false;
    reaped(d, pid, e, status);
    return true;
}

void daemon_shim_watch_exit(struct daemon *d, struct entry *e)
{
    if (e->exit_watched || e->shim.shim_pid <= 0)
        return;
    /* An unreaped child: its pid cannot name another process. */
    int fd = (int)syscall(SYS_pidfd_open, e->shim.shim_pid, 0);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &e->watch};
    if (fd < 0 || epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        if (fd >= 0)
            close(fd);
        e->exit_fd = -1;
        e->exit_watched = true; /* counted as unwatched until reaped */
        d->gone_unwatched++;
        return;
    }
    e->exit_fd = fd;
    e->exit_watched = true;
}

void daemon_shim_unwatch_exit(struct daemon *d, struct entry *e)
{
    if (!e->exit_watched)
        return;
    if (e->exit_fd >= 0)
        close(e->exit_fd); /* leaves the epoll set with it */
    else
        d->gone_unwatched--;
    e->exit_fd = -1;
    e->exit_watched = false;
}

void daemon_reap_gone(struct daemon *d, struct entry *e)
{
    if (e->state == ENTRY_GONE && !e->reaped)
        reap_pid(d, e->shim.shim_pid, e);
}

void daemon_reap(struct daemon *d, pid_t pid)
{
    /* Every shim is the daemon's child (the shim server forks them with
     * CLONE_PARENT), and waitpid(-1) walks all of them for each child it
     * reaps: with a full pool ending at once, O(pool) per ended container
     * (35 us each with 400 warm here; docs/benchmarks.md, "Steady
     * state"). So shims are reaped one pid at a time: a shim that ends
     * hangs up its control socket, which makes its entry GONE, whose shim
     * pidfd then wakes the loop once it has exited (daemon_on_shim). A
     * SIGCHLD (whose siginfo names one child: the others of a coalesced
     * signal are shims, reaped so) needs only the shim server and the one
     * it names; every child is walked only for a shim without a pidfd, or
     * with no pid (the shutdown's reaping loop). */
    reap_pid(d, d->shim_server.pid, NULL);
    if (pid > 0 && pid != d->shim_server.pid)
        reap_pid(d, pid, NULL);
    if (pid > 0 && d->gone_unwatched == 0)
        return;
    int status;
    pid_t got;
    while ((got = waitpid(-1, &status, WNOHANG)) > 0)
        reaped(d, got, NULL, status);
}
