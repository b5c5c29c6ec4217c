/* A bound on the log lines that peers the daemon does not trust can cause
 * (the HTTP listener's: anyone who reaches the port, before any token is
 * checked). Without it each bad request writes a line or two, and a peer
 * with no privilege writes to the daemon's log as fast as it connects: a
 * disk filled, the lines that matter drowned. At most LOG_BUDGET_LINES per
 * LOG_BUDGET_WINDOW_NS; the first line over says the rest of the window is
 * suppressed, the first of the next window how many were. */
#ifndef WARMRUN_DAEMON_LOG_BUDGET_H
#define WARMRUN_DAEMON_LOG_BUDGET_H

#include <stdbool.h>
#include <stdint.h>

#define LOG_BUDGET_LINES     20
#define LOG_BUDGET_WINDOW_NS (10 * 1000000000LL)

struct log_budget {
    int64_t window_start_ns;
    unsigned lines;           /* logged in this window */
    unsigned long suppressed; /* dropped in this window */
};

/* Whether one more line of `what` may be logged now (CLOCK_MONOTONIC);
 * logs the notes about suppressed lines itself. */
bool log_budget_take(struct log_budget *b, const char *what);

#endif
