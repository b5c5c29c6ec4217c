/* The per-container shim: parent of the container's pid 1 for its whole
 * life. It creates the container, holds it stopped while it is warm, and
 * once activated reaps it and reports its exit to the client. */
#ifndef WARMRUN_SHIM_H
#define WARMRUN_SHIM_H

#include "lib/cgroup.h"
#include "container/container.h"
#include "lib/error.h"
#include "lib/seccomp_profile.h"
#include "lib/security_profile.h"
#include "lib/resources.h"
#include "lib/volumes.h"
#include "lib/shim_msg.h"
#include "lib/net_config.h"
#include "lib/net_publish.h"

#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct shim_options {
    char *cmdline_area; /* see struct wr_container_config */
    size_t cmdline_len;
    const char *id;
    const char *image;
    const char *lowerdir;
    const char *state_dir;
    uint64_t tmpfs_bytes;
    bool pinned; /* --workload-cpus given */
    cpu_set_t workload_cpus;
    struct wr_security_profile security; /* --security, Docker's defaults without */
    bool has_resources;                  /* --resource key=value given */
    struct wr_resources resources;
    struct wr_net_mode net;              /* --network */
    const char *publish[WR_PUBLISH_MAX]; /* --publish, canonical -p texts */
    size_t n_publish;
    const char *net_helper; /* --net-helper: warmrun-daemon, for publishing */
    /* --publish-at activation: a pool's container, whose ports the daemon
     * maps at activation (docs/network.md); the shim marks its lease
     * published and removes the mappings at teardown, but makes none. */
    bool publish_at_activation;
    struct wr_volumes volumes; /* --volume, in order (volumes.h) */
    bool netns_recycle;        /* --netns-recycle: offer the namespace back after the exit */
    /* --netns-reuse=N: enter SHIM_NETNS_FD instead of a new one, whose
     * pristine socket count is N (shim_netns.c) */
    bool netns_reuse;
    long netns_sockets;
    /* --sysfs-kept (with --netns-reuse): SHIM_SYSFS_FD is the detached
     * sysfs mount of that namespace (container/sysfs_mount.h) */
    bool sysfs_kept;
};

/* The container's bridge network, host side (shim_network.c). */
struct shim_network {
    struct wr_network net;
    unsigned bridge_index;
    uint32_t addr; /* its leased address, host byte order */
    bool leased;
    bool published;         /* its ports are in the network's table */
    char host_if[IFNAMSIZ]; /* the veth's host end, once made */
    uint8_t mac[6];         /* eth0's MAC */
    bool guarded;           /* its anti-spoofing elements are in (daemon_nft_guard) */
    bool cni_added;         /* cni: ADD succeeded, DEL is owed */
    int cni_netns_fd;       /* cni: the namespace ADD was given (CNI_NETNS) */
};

/* What the shim holds for the container's resource settings (shim_resources.c). */
struct shim_resources {
    struct wr_cgroup cgroup;
    bool cgroup_wait; /* v1 cgroups to join after the clone */
    int mlock_fd;     /* the locked memfd, at WR_MLOCK_FD; -1 */
    void *mlock_map;
    bool oom; /* the container's memory cgroup saw an OOM kill */
};

struct shim {
    struct shim_options opt;
    int ctl;    /* to whoever spawned us; -1 once it has gone */
    int init;   /* to the container child, for READY and exec errors */
    int client; /* the activated container's client connection */
    int pidfd;
    int sigfd;
    pid_t child;
    struct wr_exec_stamp *stamp;
    struct wr_seccomp_filter seccomp; /* compiled or loaded before the clone */
    int userns_fd;                    /* --userns: made before the clone; else -1 */
    /* The workload's user, from READY (uid + 1, gid + 1). */
    int64_t user_uid1, user_gid1;
    /* References to the container's mount, network and ipc namespaces, so
     * that their teardown happens when we drop them, after the exit has
     * been reported, and not in the exit path of the container's pid 1,
     * where it would delay the exit notification (unmounting waits for an
     * RCU grace period). */
    int ns_fds[3];
    /* The container copied the shim server's mount template
     * (shim_mnt_template.h), not our namespace. */
    bool mnt_template;
    bool activated, exited;
    bool pid1_init; /* pid 1 said WR_MSG_INIT: it runs as `--init` */
    int exit_code, exit_signal;
    char exec_error[WR_ERROR_MSG_MAX];
    /* From the CLIENT message: the container was created for this
     * activation, and why (echoed in the exit event for `activate -v`). */
    bool cold;
    char cold_reason[WR_ERROR_MSG_MAX];
    struct shim_resources res;
    struct shim_network net;
    /* With --netns-recycle: how many sockets (all the kernel's own) its
     * network namespace held once set up, before any workload; -1 unknown. */
    long netns_sockets;
    /* With --netns-recycle: the detached sysfs mount of the container's
     * network namespace (SHIM_SYSFS_FD with --sysfs-kept, else what pid 1
     * sent just before READY), offered back with the namespace; -1: none. */
    int sysfs_fd;
    /* With --netns-recycle: the container's /proc (its proc instance's
     * root), held from the fill for the pristine check (shim_netns.c); -1. */
    int container_proc_fd;
};

int shim_parse_options(int argc, char **argv, struct shim_options *opt, wr_error *err);

/* A function environment's freezer cgroup (shim_freezer.c): thawed (cgroup
 * v1) so that a SIGKILL can end the container once its client (the
 * daemon) is gone before its exit; removed after the exit in that case.
 * No-ops for other containers. */
void shim_freezer_thaw(const struct shim *sh);
void shim_freezer_remove(const struct shim *sh);

/* `warmrun-shim --compile-seccomp PROFILE OUT`: the daemon's one compile
 * of a pool's seccomp filter. Returns the exit status. */
int shim_compile_seccomp(int argc, char **argv);

/* A shim's whole life (shim_main.c): what main runs for an exec'd shim,
 * and what a child of the shim server runs once it is reset to look like
 * one (shim_server.c). Returns the exit status. */
int shim_main(int argc, char **argv);

/* `warmrun-shim --server --state-dir DIR --parent PID PAD`: the daemon's
 * long-lived shim server (shim_server.c, lib/shim_fork.h). Returns the exit
 * status. */
int shim_server_main(int argc, char **argv);
/* The container's filter: loaded (a pool's precompiled one, or a cached
 * default) or compiled here. */
int shim_seccomp_prepare(struct shim *sh, wr_error *err);

/* Creates the container and brings it to the stopped, warm state. */
int shim_create_container(struct shim *sh, wr_error *err);

/* Resource settings around the clone: prepare (huge-page reservation,
 * cgroups, locked memory; returns the cgroup2 fd to clone into, or -1 via
 * *clone_cgroup), attach (v1 cgroups, then "go" to the child), on_exit
 * (after the reap: OOM kills), release (removes the cgroups). */
int shim_resources_prepare(struct shim *sh, int *clone_cgroup, wr_error *err);
int shim_resources_attach(struct shim *sh, wr_error *err);
void shim_resources_on_exit(struct shim *sh);
void shim_resources_release(struct shim *sh);

/* The container's network (shim_network.c): prepare before the clone
 * (checks, the address lease), attach after it (the veth, eth0's address
 * and route, in the namespace of netns_fd), release after the exit report
 * or a failed fill (the veth, the lease). */
int shim_network_prepare(struct shim *sh, wr_error *err);
int shim_network_attach(struct shim *sh, int netns_fd, wr_error *err);
void shim_network_release(struct shim *sh);
/* Runs `warmrun-daemon network --state-dir DIR ARGS...` (--net-helper) and
 * waits for it; its one-line error becomes err. */
int shim_net_helper(struct shim *sh, char **args, size_t n_args, wr_error *err);
/* cni:NAME (shim_cni.c): ADD after the clone, DEL at release. */
int shim_cni_add(struct shim *sh, int netns_fd, wr_error *err);
void shim_cni_del(struct shim *sh);
/* After ADD and the container's READY: reads eth0's first IPv4 address in
 * the container's network namespace (rtnetlink, through getifaddrs) and
 * sends it to the container's pid 1 over sh->init (WR_MSG_ADDRESS; 0 when
 * the plugins gave eth0 none), for its /etc/hosts. Errors: setns, netlink,
 * send. */
int shim_cni_send_address(struct shim *sh, wr_error *err);
/* With --netns-recycle, once the container is set up: records its network
 * namespace's socket count (netns_sockets), the pristine check's baseline
 * (pid 1 has set lo to IGMPv2 and MLDv1: shim_netns.c says why); -1 in
 * netns_sockets if that fails (the namespace will not be offered). */
void shim_netns_baseline(struct shim *sh);
/* With --netns-recycle, once the container has exited (every process of
 * its pid namespace is dead): checks that its network namespace is
 * pristine and, if so, sends it to the spawner (WR_MSG_NETNS). Best
 * effort: a namespace that is not offered is destroyed as usual. */
void shim_netns_offer(struct shim *sh);

/* Before a container nobody will be told of is killed (its spawner went):
 * drops the held mount and IPC namespaces and the container's /proc, so
 * that its mount tree and namespaces go in pid 1's exit in one piece
 * (shim_teardown.c says why). The network namespace stays held. */
void shim_drop_held(struct shim *sh);

/* Serves the container until it exits; returns the shim's exit status. */
int shim_run(struct shim *sh);

#endif
