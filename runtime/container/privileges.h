/* The workload's capabilities and no_new_privs (privileges.c). */
#ifndef WARMRUN_PRIVILEGES_H
#define WARMRUN_PRIVILEGES_H

#include "lib/error.h"

#include <stdbool.h>
#include <stdint.h>

/* Leaves the workload the capabilities caps from its execve on (bounding
 * set; inheritable and ambient cleared), and sets no_new_privs if asked. */
int wr_limit_workload_privileges(uint64_t caps, bool no_new_privs, wr_error *err);
/* Empties this process's own capability sets (an --init pid 1 needs none). */
int wr_drop_all_capabilities(wr_error *err);

#endif
