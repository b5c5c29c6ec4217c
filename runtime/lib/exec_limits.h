/* The kernel's limits on what one execve may carry (fs/exec.c), so that
 * warm and cold starts refuse the same activations, before anything is
 * started, instead of a container failing at its execve:
 *   - each argument or environment string, its NUL included, at most
 *     MAX_ARG_STRLEN (32 pages: 128 KiB);
 *   - all of them, their NULs, one pointer each and the file name the
 *     kernel copies too, at most RLIMIT_STACK / 4, capped at 3/4 of _STK_LIM
 *     (6 MiB) and never below ARG_MAX (128 KiB): bprm_stack_limits().
 * The workload inherits the RLIMIT_STACK of whoever starts it (the daemon,
 * or the CLI on a cold start), so the limit is that process's own, unless
 * a --ulimit stack= of the pool changes it. */
#ifndef WARMRUN_EXEC_LIMITS_H
#define WARMRUN_EXEC_LIMITS_H

#include "error.h"

#include <stddef.h>

#define WR_ARG_STRLEN_MAX  (128 * 1024)  /* MAX_ARG_STRLEN, NUL included */
#define WR_EXEC_ARGS_CEIL  (6UL << 20)   /* _STK_LIM / 4 * 3 */
#define WR_EXEC_ARGS_FLOOR (128UL << 10) /* ARG_MAX */
/* Kept free of the total for what is added after the check: the file name
 * execve copies (PATH_MAX) and the HOME the container may add. */
#define WR_EXEC_ARGS_RESERVE (8 * 1024)

/* Bytes the kernel lets one execve of this process take: strings, NULs and
 * pointers (see above), less WR_EXEC_ARGS_RESERVE. */
size_t wr_exec_args_limit(void);

/* The cost the kernel counts for n strings of `bytes` bytes (NULs in). */
static inline size_t wr_exec_args_cost(size_t n_strings, size_t bytes)
{
    return bytes + n_strings * sizeof(void *);
}

/* Checks a request's own argv and environment (NULL-terminated, either
 * may be NULL) against the limits: E2BIG with a one-line reason. */
int wr_exec_args_check(char *const *argv, char *const *envp, wr_error *err);

#endif
