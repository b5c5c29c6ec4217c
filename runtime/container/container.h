/* The container's own side: everything pid 1 of a new container does between
 * clone and the workload's execve. Runs in the shim's freshly cloned child,
 * inside new pid, mount, uts, ipc, net and cgroup namespaces. */
#ifndef WARMRUN_CONTAINER_H
#define WARMRUN_CONTAINER_H

#include "lib/error.h"
#include "lib/seccomp_profile.h"
#include "lib/security_profile.h"
#include "lib/resources.h"
#include "lib/container_id.h"
#include "lib/volumes.h"

struct wr_cgroup;

#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct wr_container_config {
    const char *id;          /* WR_ID_LEN hex characters */
    const char *lowerdir;    /* overlayfs lowerdir= value, topmost first */
    const char *staging_dir; /* an empty host directory to mount the container's tmpfs on */
    const char *hostname;
    uint64_t tmpfs_bytes; /* size limit of the writable layer */
    /* When warm containers wait pinned to the daemon's CPU: the CPUs the
     * workload may use, restored on activation. NULL: not pinned. */
    const cpu_set_t *workload_cpus;
    /* The process's argument area (argv[0] to the end of the last argument),
     * overwritten in the container; NULL to leave it. */
    char *cmdline_area;
    size_t cmdline_len;
    /* What the workload may do, and its compiled seccomp filter (NULL: none). */
    const struct wr_security_profile *security;
    const struct wr_seccomp_filter *seccomp;
    int userns_fd; /* with --userns: the namespace to enter (userns.h); else -1 */
    /* Resource settings (NULL: none), and the container's cgroups (NULL:
     * none; with v1 ones the shim moves us there after the clone and says
     * go over init_sock). */
    const struct wr_resources *resources;
    const struct wr_cgroup *cgroup;
    /* --network host: the host's network namespace (lo is left as it is);
     * net_address: eth0's address on a bridge network (host byte order),
     * for /etc/hosts; 0 without one. cni_network: --network cni:NAME, whose
     * address the shim sends after READY (WR_MSG_ADDRESS). */
    bool host_network;
    bool cni_network;
    uint32_t net_address;
    const struct wr_volumes *volumes; /* NULL or none: no volume */
    /* A recycled network namespace to enter (setns) first thing, instead of
     * the new one the clone did not make; else -1. Closed once entered. */
    int netns_fd;
    /* With a recycled namespace: the detached sysfs mount its first tenant
     * made (sysfs_mount.h), cloned for /sys and closed; else -1.
     * sysfs_keep (a recycling pool): without one, make one and send it
     * to the shim before READY (WR_MSG_SYSFS), to travel with the namespace. */
    int sysfs_fd;
    bool sysfs_keep;
    /* The shim server's mount template (mnt_template.h) when the shim
     * cloned us without CLONE_NEWNS: entered and copied first thing,
     * then closed; else -1 (cloned with CLONE_NEWNS, a copy of the
     * shim's namespace). */
    int mnt_template_fd;
    /* A fresh namespace of a recycling pool: lo set to IGMPv2 and MLDv1
     * before any workload (lo_multicast.h). */
    bool lo_legacy_multicast;
};

/* Shared between shim and child (a MAP_SHARED page created before clone):
 * the child stamps the time of its execve here, so that the shim can report
 * activation latency without the child waking it up on the hot path. */
struct wr_exec_stamp {
    volatile int64_t woke_ns; /* CLOCK_MONOTONIC when the activation arrived; 0 before */
    volatile int64_t exec_ns; /* CLOCK_MONOTONIC just before execve */
};

/* Sets up the container, tells the shim READY over init_sock, waits for the
 * activation on act_sock, then becomes the workload. Never returns: on any
 * failure it reports over init_sock and exits. */
_Noreturn void wr_container_main(const struct wr_container_config *cfg, int init_sock, int act_sock,
                                 struct wr_exec_stamp *stamp);

#endif
