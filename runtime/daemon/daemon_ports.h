/* A pool's published ports (`pool create -p`, docs/network.md). Docker's
 * rule: a host port is held by one running container. A pool's warm
 * containers are filled with a lease marked published and no mapping;
 * the daemon maps the one it activates right after the hand-over (one
 * nfnetlink batch, daemon_nft_elem.h: nothing is added before the
 * hand-over, so warm activation costs what it did), and unmaps it when
 * the daemon lets go of it. While one of the pool's containers holds (or
 * is being started to hold) the ports, another activation of the pool is
 * refused: "port is already allocated". */
#ifndef WARMRUN_DAEMON_PORTS_H
#define WARMRUN_DAEMON_PORTS_H

#include "daemon.h"

#include "lib/error.h"
#include "lib/net_config.h"
#include "lib/net_publish.h"

#include <stdbool.h>

/* What one container published: its network, its ports. */
struct entry_ports {
    char net[WR_NET_NAME_MAX + 1];
    struct wr_publish p[WR_PUBLISH_MAX];
    size_t n; /* 0: nothing published */
};

/* Pool create: whether set (of a pool of image key on network, a
 * canonical --network text) can be taken: only on a bridge network, no
 * host port that another pool publishes or, with tables, that a container
 * other than the pool's own holds in a network's table now (a cold
 * start's; not when a stored pool is restored: a container of the pool
 * that outlived the earlier daemon may hold them).
 * EADDRINUSE names the port and its holder. */
int daemon_ports_check(struct daemon *d, const char *key, const char *network,
                       const struct wr_publish_set *set, bool tables, wr_error *err);
/* Whether port a (its -p text: text) is free of the mappings containers
 * hold now in any network's table of state_dir (the same host port and
 * protocol, on the same address or either on every address: Docker's
 * rule), those for which own(network, id, arg) returns true excepted (the
 * caller's own, or ones it removed). EADDRINUSE names the holder and its
 * network. */
typedef bool (*daemon_ports_own_fn)(const char *net, const char *id, void *arg);
int daemon_ports_tables_check(const char *state_dir, const struct wr_publish *a, const char *text,
                              daemon_ports_own_fn own, void *arg, wr_error *err);
/* Gives pool p the ports of set, and writes the daemon's pools' ports
 * for cold starts (daemon_ports_save); returns whether they changed. */
bool daemon_ports_pool_set(struct daemon *d, struct pool *p, const struct wr_publish_set *set);
/* <state>/pool-ports: this daemon (pid, start time) and its
 * pools' ports; rewritten whole (tmp + rename) when they change. */
void daemon_ports_save(struct daemon *d);
/* A cold start's -p (the network manager's `publish`): EADDRINUSE when a
 * pool of the state directory's running daemon publishes one of ports
 * ("port is already allocated: pool IMAGE publishes SPEC"). A file of a
 * daemon that is gone reserves nothing. */
int daemon_ports_reserved(const char *state_dir, const struct wr_publish *ports, size_t count,
                          wr_error *err);
/* Whether a container of p holds its ports now or is being started for an
 * activation (which will). One whose container has ended (its pidfd is
 * readable) gives them back here. */
bool daemon_ports_busy(struct daemon *d, const struct pool *p);
/* After e's hand-over: maps its pool's ports to its address. A failure
 * (the port taken outside warmrun's pools) is logged, and the container
 * goes: it was promised its ports. */
void daemon_ports_publish(struct daemon *d, struct entry *e);
/* Removes e's mappings, if any (e is going). */
void daemon_ports_release(struct daemon *d, struct entry *e);
/* The activation's refusal while daemon_ports_busy. */
#define DAEMON_PORTS_BUSY_MSG                                                                      \
    "port is already allocated: a container of this pool holds its -p ports (one at a time)"

#endif
