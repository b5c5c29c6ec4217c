/* The network manager (docs/network.md): warmrun's bridge networks, their
 * host side (bridge, its address, forwarding, the nftables table) and
 * records (net_config.h), and the `network` commands. It needs no running
 * daemon: `warmrun network ...` executes `warmrun-daemon network ...`
 * (the static CLI links no libnftables), and the daemon prepares a pool's
 * network with daemon_network_ensure before the pool changes. */
#ifndef WARMRUN_DAEMON_NETWORK_H
#define WARMRUN_DAEMON_NETWORK_H

#include "lib/error.h"
#include "lib/net_config.h"

/* For a --network text (NULL: none): nothing for none and host; for a
 * bridge network, its record (the default network's is made on first
 * use), then its bridge, address, forwarding and nftables table, made
 * where missing (after a reboot, or by another daemon's removal).
 * Errors: no such network, a default subnet that overlaps, netlink or
 * nftables failures. */
int daemon_network_ensure(const char *state_dir, const char *mode, wr_error *err);

/* Creates network name: checked whole before anything is made (name,
 * subnet, bridge name; the subnet overlapping another network's or a host
 * address's; the bridge existing), then made; a failure removes what was
 * made. bridge NULL: "wr_" NAME (refused when longer than an interface
 * name). */
int daemon_network_create(const char *state_dir, const char *name, const char *subnet,
                          const char *bridge, wr_error *err);
/* Removes network name (its table, bridge and record); EBUSY while a
 * container holds a lease on it. */
int daemon_network_remove(const char *state_dir, const char *name, wr_error *err);
/* Publishes specs (-p texts) of container id at addr on network name,
 * after reconciling the network (a gone container's ports are free). */
int daemon_network_publish(const char *state_dir, const char *name, const char *id,
                           const char *addr_text, char **specs, size_t count, wr_error *err);
/* Drops the leases of every network whose holder is gone (daemon start). */
void daemon_network_reconcile(const char *state_dir);

/* `warmrun-daemon network [--state-dir DIR] COMMAND ...`: create, ls, rm,
 * ensure. Returns the exit status (docs/cli.md). */
int daemon_network_main(int argc, char **argv);

/* This executable (the network manager is `warmrun-daemon network`), for
 * shims that run it (cni:); "" if /proc/self/exe cannot be read. */
const char *daemon_net_helper_path(void);

#endif
