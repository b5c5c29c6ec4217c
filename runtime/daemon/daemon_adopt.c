/* Containers of an earlier daemon (or of a CLI's cold start) whose shim
 * still runs when this daemon starts: "detached" in ps. Their pid 1 dies
 * with its shim through PR_SET_PDEATHSIG, but a workload can clear that
 * signal (prctl, or a root workload's own setresuid), and whoever held its
 * pidfd (the earlier daemon, the CLI) may be gone too. So this daemon holds
 * a pidfd of each such shim and of its container, and when the shim exits
 * it kills the container and removes what the shim could not (its record,
 * its cgroups), as it does for its own shims. */
#include "daemon_adopt.h"

#include "daemon_log.h"
#include "daemon_resources.h"
#include "lib/shim_client.h"
#include "lib/state_file.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

struct adopted {
    struct watch watch; /* first: epoll's data.ptr points here */
    int shim_pidfd, child_pidfd;
    char id[16];
};

void daemon_adopt(struct daemon *d, const struct wr_state_record *rec)
{
    int shim = wr_state_shim_pidfd(rec);
    if (shim < 0)
        return;
    int child = wr_state_child_pidfd(rec);
    struct adopted *a = child >= 0 ? calloc(1, sizeof *a) : NULL;
    if (!a) {
        if (child >= 0)
            close(child);
        close(shim);
        return;
    }
    a->watch.kind = WATCH_ADOPTED;
    a->shim_pidfd = shim;
    a->child_pidfd = child;
    snprintf(a->id, sizeof a->id, "%s", rec->id);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &a->watch};
    if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, shim, &ev) < 0) {
        daemon_log("container %s: cannot watch its shim: %s", rec->id, strerror(errno));
        close(child);
        close(shim);
        free(a);
    }
}

void daemon_on_adopted(struct daemon *d, struct watch *w)
{
    struct adopted *a = (struct adopted *)w;
    struct wr_shim held;
    wr_shim_init(&held);
    held.pidfd = a->child_pidfd;
    if (wr_shim_kill_orphan(&held, WR_ORPHAN_WAIT_MS))
        daemon_log("container %s outlived its shim: killed", a->id);
    daemon_resources_forget(d, a->id);
    wr_state_remove(d->g->state_dir, a->id);
    epoll_ctl(d->epfd, EPOLL_CTL_DEL, a->shim_pidfd, NULL);
    close(a->shim_pidfd);
    close(a->child_pidfd);
    free(a);
}
