/* A live container of an earlier daemon or of a cold start (a state record
 * whose shim runs) is watched, and killed when its shim exits; its record
 * and cgroups then removed. Only with a record that names its pid 1's
 * start time (daemon_adopt.c). */
#ifndef WARMRUN_DAEMON_ADOPT_H
#define WARMRUN_DAEMON_ADOPT_H

#include "daemon.h"

struct wr_state_record;
void daemon_adopt(struct daemon *d, const struct wr_state_record *rec);
/* Its shim's pidfd is readable: the shim exited. */
void daemon_on_adopted(struct daemon *d, struct watch *w);

#endif
