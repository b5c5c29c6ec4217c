/* The daemon's part of resource settings (daemon_resources.c). */
#ifndef WARMRUN_DAEMON_RESOURCES_H
#define WARMRUN_DAEMON_RESOURCES_H

#include "daemon_pool.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Gives a pool its resource settings, already validated
 * (wr_resources_validate) and, unless --no-prefault, warms the page cache
 * for its image's hot files. Returns whether the settings changed. */
bool daemon_resources_pool_apply(struct daemon *d, struct pool *p, const struct wr_resources *res);
/* The per-container settings of the next fill (with --cpu-spread: its CPU). */
void daemon_resources_for_entry(struct daemon *d, struct pool *p, struct entry *e,
                                struct wr_resources *out);
/* Removes the cgroups of a container whose shim died without doing so. */
void daemon_resources_forget(struct daemon *d, const char *id);
/* Removes cgroups whose container is gone (daemon start). */
void daemon_resources_sweep(struct daemon *d);
/* Shutdown: this daemon's empty cgroup scope directories go. */
void daemon_resources_shutdown(struct daemon *d);
/* ps: allowed CPUs and OOM flag of a container. */
void daemon_resources_container_info(struct daemon *d, const char *id, pid_t pid, char *cpus,
                                     size_t cap, bool *oom);

#endif
