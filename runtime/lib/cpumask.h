/* CPU sets as hex strings ("3" = CPUs 0 and 1), to pass them on a command
 * line: the daemon tells its shims which CPUs an activated workload may use
 * when warm containers wait pinned to the daemon's CPU (daemon --pin-cpu). */
#ifndef WARMRUN_CPUMASK_H
#define WARMRUN_CPUMASK_H

#include "error.h"

#include <sched.h>
#include <stddef.h>

int wr_cpumask_format(const cpu_set_t *set, char *out, size_t cap, wr_error *err);
int wr_cpumask_parse(const char *hex, cpu_set_t *set, wr_error *err);

#endif
