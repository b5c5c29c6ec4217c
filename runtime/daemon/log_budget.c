/* See log_budget.h. */
#include "log_budget.h"

#include "daemon_log.h"
#include "lib/clock.h"

bool log_budget_take(struct log_budget *b, const char *what)
{
    int64_t now = wr_monotonic_ns();
    if (b->window_start_ns == 0 || now - b->window_start_ns >= LOG_BUDGET_WINDOW_NS) {
        if (b->suppressed)
            daemon_log("%s: %lu more log lines suppressed", what, b->suppressed);
        b->window_start_ns = now;
        b->lines = 0;
        b->suppressed = 0;
    }
    if (b->lines < LOG_BUDGET_LINES) {
        b->lines++;
        return true;
    }
    if (b->suppressed++ == 0)
        daemon_log("%s: more than %d log lines in %lld s: the rest suppressed for now", what,
                   LOG_BUDGET_LINES, (long long)(LOG_BUDGET_WINDOW_NS / 1000000000LL));
    return false;
}
