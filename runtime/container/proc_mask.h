/* Read-only and masked /proc and /sys paths (proc_mask.c). */
#ifndef WARMRUN_PROC_MASK_H
#define WARMRUN_PROC_MASK_H

#include "lib/error.h"

/* Makes /proc/sys and kin read-only and masks /proc/kcore and kin; run
 * inside the new root. */
int wr_mask_kernel_paths(wr_error *err);

#endif
