/* pid 1 dies with its shim (parent_death.c). */
#ifndef WARMRUN_PARENT_DEATH_H
#define WARMRUN_PARENT_DEATH_H

#include "lib/error.h"

/* After a credential change: arms PR_SET_PDEATHSIG (SIGKILL) again, then
 * fails if the shim already hung up shim_sock (parent_death.c). */
int wr_parent_death_arm(int shim_sock, wr_error *err);

#endif
