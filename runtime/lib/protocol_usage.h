/* The JSON of `warmrun stats --json` (docs/cli.md): one array of rows, a
 * row per container, in Docker's terms. Part of the protocol module (the
 * one place that speaks JSON). */
#ifndef WARMRUN_PROTOCOL_USAGE_H
#define WARMRUN_PROTOCOL_USAGE_H

#include "cgroup_stats.h"

#include <stdbool.h>
#include <stddef.h>

struct wr_usage_row {
    char id[16];
    char image[256];
    char state[16];
    double cpu_percent;       /* of one CPU, over the sampling interval */
    uint64_t mem_limit_shown; /* the limit, or the host's memory without one (Docker's) */
    double mem_percent;
    bool has_net; /* the container has interfaces other than lo */
    uint64_t net_rx_bytes, net_tx_bytes;
    struct wr_cg_usage u;
};

/* A malloc'd JSON text of rows (one line, no newline); NULL on ENOMEM. */
char *wr_usage_json(const struct wr_usage_row *rows, size_t n);

#endif
