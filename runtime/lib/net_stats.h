/* A container's network I/O, from its network namespace's counters
 * (/proc/PID/net/dev of a process inside it), as `docker stats` shows it:
 * every interface but lo. Containers have only lo today; when networking
 * lands (veth), its interfaces count here with no other change. */
#ifndef WARMRUN_NET_STATS_H
#define WARMRUN_NET_STATS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Sums the bytes received and sent by the interfaces other than lo in the
 * network namespace of pid. Returns true when there is at least one such
 * interface; false (rx, tx 0) when none, or pid is gone. */
bool wr_net_usage(pid_t pid, uint64_t *rx, uint64_t *tx);

#endif
