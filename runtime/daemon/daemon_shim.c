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

#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>

static bool setting_up(const struct entry *e)
{
    return e->state == ENTRY_FILLING || e->state == ENTRY_STARTING;
}

void daemon_on_shim(struct daemon *d, struct entry *e)
{
    struct wr_msg m;
    wr_error err;
    if (e->state == ENTRY_GONE)
        return; /* let go of earlier in this batch */
    int got = wr_shim_read(&e->shim, &m, &err);
    if (got > 0 && m.type == WR_MSG_NETNS) {
        if (m.num >= 0)
            daemon_netns_put(e->pool, m.num, (int)m.value2, (long)m.value);
        else if (m.value2 >= 0)
            close((int)m.value2);
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

/* What an exited shim sent and this loop has not read yet (its NETNS
 * offer, its EXITED report: the SIGCHLD of 200 shims ending at once came
 * before their control sockets' turn, and every offer was lost with the
 * discarded entry), read now, in order, as if its socket's turn came
 * first. The socket is non-blocking: an empty one ends it. */
static void drain_shim(struct daemon *d, struct entry *e)
{
    struct pollfd p = {.fd = e->shim.ctl_fd, .events = POLLIN};
    while (e->state != ENTRY_GONE && e->shim.ctl_fd >= 0 && poll(&p, 1, 0) > 0)
        daemon_on_shim(d, e);
}

void daemon_reap(struct daemon *d)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        if (daemon_shim_server_reaped(d, pid, status))
            continue;
        struct entry *e = d->entries;
        while (e && e->shim.shim_pid != pid)
            e = e->next;
        if (!e)
            continue;
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
        drain_shim(d, e);
        daemon_entry_reaped(d, e);
    }
}
