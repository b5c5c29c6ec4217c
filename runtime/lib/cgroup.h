/* Per-container cgroups, on cgroup v2 (unified), v1, or a hybrid of both,
 * detected at run time: each controller is used where the host mounts it
 * (a v1 hierarchy naming it, else the cgroup2 mount if it offers it).
 * Layout: <mount>/warmrun/<scope>/<container id>, where scope is derived
 * from the state directory so that daemons with different state
 * directories never touch each other's cgroups.
 *
 * On v2 the container is born in its cgroup (clone3 CLONE_INTO_CGROUP with
 * the directory fd); v1 hierarchies are joined by writing the child's pid
 * to cgroup.procs on the fill path, before the child does any setup. */
#ifndef WARMRUN_CGROUP_H
#define WARMRUN_CGROUP_H

#include "cgroup_file.h"
#include "error.h"
#include "resources.h"

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

struct wr_cgroup_layout {
    char v1[WR_CG_N][128];      /* mount point of the v1 hierarchy with this controller, or "" */
    char v1_opts[WR_CG_N][128]; /* that hierarchy's controllers, as mounted ("cpu,cpuacct") */
    char v2[128];               /* the cgroup2 mount point, or "" */
    bool v2_has[WR_CG_N];       /* controllers the cgroup2 root offers */
};

struct wr_cgroup {
    struct wr_cgroup_layout layout;
    unsigned v1_mask;    /* controllers placed on v1 hierarchies */
    unsigned v2_mask;    /* controllers placed on cgroup2 */
    unsigned limit_mask; /* controllers whose limits are written; the others account only */
    char scope[16];
    char id[16];
    int v2_fd; /* directory fd of the cgroup2 cgroup, for CLONE_INTO_CGROUP; -1 */
    /* Held by wr_cgroup_create until wr_cgroup_remove (scope_fds true):
     * per v1 controller whose directory this cgroup made (the first on
     * its mount, and cpu_weight_only's WR_CG_CPU), an O_PATH descriptor
     * of <mount>/warmrun/<scope>, the container's directory's parent,
     * which its mkdir, cgroup.procs, memory.oom_control and rmdir are
     * reached from (openat: no walk from / down the host's tree for
     * each); -1 for the others. */
    int scope_fd[WR_CG_N];
    bool scope_fds;
    bool created;
    /* v1, no CPU limit, cpu a hierarchy of its own: a cpu cgroup of its
     * own all the same (default weight: the scheduler weighs containers,
     * not threads), but not among v1_mask (no limit written, not mounted
     * in the container). */
    bool cpu_weight_only;
};

/* Reads /proc/self/mountinfo (or the file named by $WARMRUN_MOUNTINFO, for
 * tests) and the cgroup2 root's cgroup.controllers. */
int wr_cgroup_detect(struct wr_cgroup_layout *l, wr_error *err);
/* Detects the layout once and makes every later wr_cgroup_detect of this
 * process (and of the children it forks) return that copy: for the shim
 * server, whose forked shims would each read the host's whole mountinfo
 * (show_mountinfo, ~30 us per fill) for an answer that does not change
 * while a server lives (it serves a few dozen fills). A hierarchy
 * mounted or unmounted meanwhile is seen by the next server. */
int wr_cgroup_pin_layout(wr_error *err);

/* <mnt>/warmrun, <mnt>/warmrun/<scope> (id NULL) or
 * <mnt>/warmrun/<scope>/<id>. */
void wr_cgroup_path(char *out, size_t cap, const char *mnt, const char *scope, const char *id);

/* The scope directory name for a state directory. */
void wr_cgroup_scope(const char *state_dir, char out[16]);

/* Decides where each needed controller lives and checks that it is there
 * and writable. Creates nothing. */
int wr_cgroup_plan(struct wr_cgroup *cg, const struct wr_resources *r, wr_error *err);

/* Plans (as above), creates the container's cgroups and writes the limits.
 * Every container gets one, limits or not: it is also placed in the
 * accounting controllers the host has (cpu, cpuacct, memory, pids,
 * blkio/io) so that its usage can be read (cgroup_stats.h).
 * On failure removes what it created. */
int wr_cgroup_create(struct wr_cgroup *cg, const char *state_dir, const char *id,
                     const struct wr_resources *r, wr_error *err);
/* Moves pid into the container's v1 cgroups (a no-op without any). */
int wr_cgroup_attach_v1(const struct wr_cgroup *cg, pid_t pid, wr_error *err);
/* Number of OOM kills in the container's memory cgroup (0 without one). */
long wr_cgroup_oom_kills(const struct wr_cgroup *cg);
/* Removes the container's cgroups (waits briefly for dying tasks). */
void wr_cgroup_remove(struct wr_cgroup *cg);

/* Removes a container's cgroups by state dir and id, for a shim that died
 * without doing it (retries briefly while its last tasks exit). */
void wr_cgroup_remove_by_id(const char *state_dir, const char *id);
/* OOM kills of a container by state dir and id (for ps); 0 if none. */
long wr_cgroup_oom_kills_of(const char *state_dir, const char *id);
/* Removes every cgroup of this state dir's scope whose id live() rejects
 * and that is empty. Returns how many were removed. */
size_t wr_cgroup_sweep(const char *state_dir, bool (*live)(const char *id, void *ctx), void *ctx);
/* Removes this state dir's scope directory (<mount>/warmrun/<scope>) from
 * every hierarchy where it is empty: at a daemon's shutdown, so that a
 * stopped daemon leaves no directory behind. One that still holds a
 * container's cgroup (a running workload's, a cold start's) stays, as does
 * <mount>/warmrun, which other scopes share. Returns how many went. */
size_t wr_cgroup_scope_remove(const char *state_dir);
/* In how many hierarchies this state dir's scope directory still exists
 * (0 when the layout cannot be read). */
size_t wr_cgroup_scope_left(const char *state_dir);
/* Counts the cgroups of this scope (tests, leak checks). */
size_t wr_cgroup_count(const char *state_dir);

#endif
