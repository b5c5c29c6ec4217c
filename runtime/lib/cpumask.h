/* CPU sets in their two text forms, and the host's online CPUs.
 *
 * Hex masks ("3" = CPUs 0 and 1), to pass them on a command line: the
 * daemon tells its shims which CPUs an activated workload may use when
 * warm containers wait pinned to the daemon's CPU (daemon --pin-cpu).
 * Lists ("0-3,6"), the kernel's cpuset.cpus and cpu/online form, for the
 * resource options (--cpuset-cpus, --cpu-spread) and the cgroup files. */
#ifndef WARMRUN_CPUMASK_H
#define WARMRUN_CPUMASK_H

#include "error.h"

#include <sched.h>
#include <stddef.h>

/* How many CPUs a cpu_set_t holds: 1024 with glibc and with musl (both
 * 128 bytes). Not CPU_SETSIZE: musl's is 128 (the bytes), and the static
 * CLI is linked with musl, which would refuse CPUs 128..1023 that the
 * daemon and the shim, linked with glibc, accept. */
#define WR_CPU_SETSIZE ((int)(8 * sizeof(cpu_set_t)))

int wr_cpumask_format(const cpu_set_t *set, char *out, size_t cap, wr_error *err);
int wr_cpumask_parse(const char *hex, cpu_set_t *set, wr_error *err);

/* "0-3,6": ascending ranges below WR_CPU_SETSIZE. */
int wr_parse_cpu_list(const char *s, cpu_set_t *set, wr_error *err);
/* The canonical list of set ("" when empty); -1 when cap is too small. */
int wr_format_cpu_list(const cpu_set_t *set, char *out, size_t cap);
/* The host's online CPUs (/sys/devices/system/cpu/online). */
int wr_online_cpus(cpu_set_t *set, wr_error *err);

#endif
