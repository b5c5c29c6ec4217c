/* The peers the startup bench compares against, set up from the same
 * rootfs as the bench's busybox image: crun and runc on an OCI bundle, and
 * Docker on an imported image. Everything they create lives under the
 * bench's private directory or is removed by bench_peers_cleanup(). */
#ifndef WARMRUN_BENCH_PEERS_H
#define WARMRUN_BENCH_PEERS_H

#include "bench.h"

struct bench_peers {
    char bundle[PATH_MAX];          /* dir/bundle: config.json + rootfs/ */
    char crun_state[PATH_MAX];      /* --root of crun */
    char runc_state[PATH_MAX];      /* --root of runc */
    int crun_mntns;                 /* >= 0: the namespace crun runs in (hybrid cgroups) */
    bool crun_no_cgroups;           /* --cgroup-manager=disabled */
    char docker_host[PATH_MAX + 8]; /* "unix:///..." */
    char docker_image[64];          /* the imported image, "" if none */
    pid_t dockerd_pid;              /* > 0: a dockerd we started */
};

/* Copies the busybox layer into an OCI bundle running command. */
int bench_bundle_prepare(const struct bench_env *e, struct bench_peers *p, char *const command[],
                         wr_error *err);
/* crun: checks it exists and, on hybrid or v1 cgroups, prepares a mount
 * namespace with cgroup2 on /sys/fs/cgroup (see DESIGN.md). */
int bench_crun_prepare(const struct bench_env *e, struct bench_peers *p, bool setup, wr_error *err);
int bench_runc_prepare(const struct bench_env *e, struct bench_peers *p, bool setup, wr_error *err);
/* Docker: the daemon at docker_host (--docker-host: told to use it), else
 * with setup a private dockerd started here, else none (the host's own
 * dockerd and DOCKER_HOST are never used unasked: their containers are
 * someone else's); then `docker import` of the same rootfs. */
int bench_docker_prepare(const struct bench_env *e, struct bench_peers *p, bool setup,
                         const char *docker_host, wr_error *err);
/* Removes leftover crun/runc containers, the imported image, and stops a
 * dockerd we started. */
void bench_peers_cleanup(const struct bench_env *e, struct bench_peers *p);

#endif
