/* See net_stats.h. */
#include "net_stats.h"

#include "cleanup.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

bool wr_net_usage(pid_t pid, uint64_t *rx, uint64_t *tx)
{
    char path[64], line[512], name[64];
    bool any = false;
    *rx = *tx = 0;
    snprintf(path, sizeof path, "/proc/%d/net/dev", (int)pid);
    cleanup_fclose FILE *f = fopen(path, "re");
    while (f && fgets(line, sizeof line, f)) {
        /* "  eth0: rx_bytes packets errs drop fifo frame compressed multicast tx_bytes ..." */
        uint64_t r, t;
        char *colon = strchr(line, ':');
        if (!colon)
            continue; /* the two header lines */
        *colon = ' ';
        if (sscanf(line, "%63s %" SCNu64 " %*u %*u %*u %*u %*u %*u %*u %" SCNu64, name, &r, &t) !=
            3)
            continue;
        if (!strcmp(name, "lo"))
            continue;
        any = true;
        *rx += r;
        *tx += t;
    }
    return any;
}
