/* Read-only and masked /proc and /sys paths (proc_mask.c). */
#ifndef WARMRUN_PROC_MASK_H
#define WARMRUN_PROC_MASK_H

#include "lib/error.h"

/* Makes /proc/sys and kin read-only and masks /proc/kcore and kin; run
 * inside the new root. empty_tree: a detached read-only mount (open_tree
 * OPEN_TREE_CLONE) of an empty directory of the container's own, attached
 * over each masked directory; always closed here. */
int wr_mask_kernel_paths(int empty_tree, wr_error *err);

#endif
