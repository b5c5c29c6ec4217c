/* See exec_limits.h. */
#include "exec_limits.h"

#include <errno.h>
#include <string.h>
#include <sys/resource.h>

size_t wr_exec_args_limit(void)
{
    /* Asked once: the hot path composes an activation per request, and a
     * process's own stack limit does not change under it. */
    static size_t cached;
    if (cached)
        return cached;
    struct rlimit rl;
    size_t limit = WR_EXEC_ARGS_CEIL;
    if (getrlimit(RLIMIT_STACK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        rl.rlim_cur / 4 < limit)
        limit = (size_t)(rl.rlim_cur / 4);
    if (limit < WR_EXEC_ARGS_FLOOR)
        limit = WR_EXEC_ARGS_FLOOR;
    cached = limit - WR_EXEC_ARGS_RESERVE;
    return cached;
}

static int add_strings(char *const *v, const char *what, size_t *n, size_t *bytes, wr_error *err)
{
    for (size_t i = 0; v && v[i]; i++) {
        size_t len = strlen(v[i]) + 1;
        if (len > WR_ARG_STRLEN_MAX)
            return wr_error_set(err, E2BIG,
                                "%s %zu is %zu bytes long; the kernel takes at most %d per "
                                "string (MAX_ARG_STRLEN)",
                                what, i, len - 1, WR_ARG_STRLEN_MAX - 1);
        *bytes += len;
        ++*n;
    }
    return 0;
}

int wr_exec_args_check(char *const *argv, char *const *envp, wr_error *err)
{
    size_t n = 0, bytes = 0, limit = wr_exec_args_limit();
    if (add_strings(argv, "argument", &n, &bytes, err) < 0 ||
        add_strings(envp, "environment entry", &n, &bytes, err) < 0)
        return -1;
    size_t cost = wr_exec_args_cost(n, bytes);
    if (cost > limit)
        return wr_error_set(err, E2BIG,
                            "the arguments and environment take %zu bytes; the kernel takes at "
                            "most %zu (a quarter of the stack limit, less %d reserved)",
                            cost, limit, WR_EXEC_ARGS_RESERVE);
    return 0;
}
