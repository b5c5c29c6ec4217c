/* The small typed messages between a shim, its container child and whoever
 * spawned the shim (the daemon, or the CLI on a cold start). Fixed-size so
 * both ends read one SEQPACKET message into one struct, never parse. */
#ifndef WARMRUN_SHIM_MSG_H
#define WARMRUN_SHIM_MSG_H

#include "error.h"

#include <stdint.h>

/* The descriptors a shim is started with: its control socket to the
 * spawner, and the container's end of the activation socket. */
#define SHIM_CTL_FD 3
#define SHIM_ACT_FD 4
/* With --netns-reuse: a recycled network namespace for the container to
 * enter instead of creating one (docs/security.md, "Recycled network
 * namespaces"). */
#define SHIM_NETNS_FD 5
/* With --sysfs-kept too: the detached sysfs mount made in that namespace,
 * which the container clones for its /sys (container/sysfs_mount.h). */
#define SHIM_SYSFS_FD 6
/* Forked by the shim server only: its template mount namespace and that
 * namespace's root (shim/shim_mnt_template.c), close-on-exec; high, so
 * that every descriptor the shim opens gets the number it gets in a
 * spawned shim. */
#define SHIM_MNT_TEMPLATE_FD      64
#define SHIM_MNT_TEMPLATE_ROOT_FD 65

enum wr_msg_type {
    /* container child -> shim, over the init socket */
    WR_MSG_READY = 1,   /* set up, blocked waiting for the activation;
                           value, value2 = the workload's uid + 1, gid + 1
                           (in its user namespace, if any) */
    WR_MSG_ERROR,       /* setup failed: num = errno, text = message */
    WR_MSG_EXEC_FAILED, /* execve failed: num = exit code (126/127), text */
    /* shim -> spawner, over the control socket */
    WR_MSG_WARM,   /* stopped and ready: num = child pid; carries the child's
                      pidfd; value, value2 = host uid + 1, gid + 1 to hand
                      the stdio to at activation (a workload in a user
                      namespace, root included), else 0 */
    WR_MSG_FAILED, /* the container could not be created: num = errno, text */
    WR_MSG_NETNS,  /* with --netns-recycle, before EXITED: every process of the
                      container is dead and its network namespace passed the
                      pristine check (shim_netns.c); carries that namespace,
                      value = its socket count when pristine (the kernel's own);
                      and, when the shim holds one, a second descriptor: the
                      namespace's detached sysfs mount */
    WR_MSG_EXITED, /* num = exit code; value, value2 = exec and wake-up times
                      (CLOCK_MONOTONIC ns, 0 if it never got there) */
    /* spawner -> shim, over the control socket */
    WR_MSG_CLIENT, /* the activated container's client connection is attached;
                      num = 1 when the container was created for this
                      activation (a cold start), text = why */
    WR_MSG_KILL,   /* num = signal to send to the container */
    /* shim -> container child, over the init socket, cni: networks only */
    WR_MSG_ADDRESS, /* after READY, once CNI ADD has run: value = eth0's
                       IPv4 address (host byte order), 0 without one; the
                       child puts it in /etc/hosts and answers READY again
                       (same values), or ERROR */
    /* container child -> shim, over the init socket */
    WR_MSG_SYSFS, /* just before the first READY: carries the sysfs mount
                     pid 1 made to travel with a recycled namespace
                     (container/sysfs_mount.h). A message of its own, so
                     that pid 1 has closed its copy before READY, upon which
                     the shim stops it: a warm pid 1 holds no such mount */
    WR_MSG_INIT,  /* `activate --init`: pid 1 is an init from here on, so its
                     death by SIGSYS is the seccomp profile refusing one of
                     pid 1's own system calls (the workload's death is an
                     exit code of pid 1's), an error of warmrun's */
};

struct wr_msg {
    uint32_t type;
    int32_t num;
    int64_t value;
    int64_t value2;
    char text[WR_ERROR_MSG_MAX];
};

/* Fills a message from an error. */
void wr_msg_from_error(struct wr_msg *m, enum wr_msg_type type, const wr_error *err);

#endif
