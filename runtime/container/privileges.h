/* The workload's capabilities and no_new_privs (privileges.c). */
#ifndef WARMRUN_PRIVILEGES_H
#define WARMRUN_PRIVILEGES_H

#include "lib/error.h"

#include <stdbool.h>
#include <stdint.h>

/* Leaves the workload the capabilities caps from its execve on (bounding
 * set; inheritable and ambient cleared), and sets no_new_privs if asked. */
int wr_limit_workload_privileges(uint64_t caps, bool no_new_privs, wr_error *err);
/* The highest capability number the kernel knows
 * (/proc/sys/kernel/cap_last_cap; CAP_LAST_CAP of our headers when it
 * cannot be read), read once per process: the shim server reads it at its
 * start, and the shims it forks and their containers' pid 1 inherit it. */
int wr_last_capability(void);
/* Empties this process's own capability sets (an --init pid 1 needs none). */
int wr_drop_all_capabilities(wr_error *err);

#endif
