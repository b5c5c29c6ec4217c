/* A pool's published ports at activation (docs/network.md): the map
 * elements of one container added and deleted through raw nfnetlink
 * (lib/nft_batch.h), without libnftables. libnftables reads the table
 * (its cache) before any change, which costs milliseconds and grows with
 * the table; one batch is one system call and the kernel's commit (tens
 * of microseconds), so the daemon can do it right after a hand-over. The
 * maps are daemon_nft.c's; the comment is the container id. */
#ifndef WARMRUN_DAEMON_NFT_ELEM_H
#define WARMRUN_DAEMON_NFT_ELEM_H

#include "lib/error.h"
#include "lib/net_publish.h"

#include <stdint.h>

/* Adds the elements of ports for container id (comment) at addr (host
 * byte order) to table warmrun_NET, all or none ("create": an element of
 * the same key fails the whole batch). EADDRINUSE: a host port is taken;
 * ENOENT: no such table or map. */
int daemon_nft_elem_add(const char *net_name, const char *id, uint32_t addr,
                        const struct wr_publish *ports, size_t count, wr_error *err);
/* Deletes the elements of ports (by key) from table warmrun_NET, each in a
 * batch of its own: one that is gone already is no error. */
int daemon_nft_elem_del(const char *net_name, const struct wr_publish *ports, size_t count,
                        wr_error *err);

#endif
