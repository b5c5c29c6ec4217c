/* nftables for warmrun's bridge networks, through libnftables (Debian's
 * libnftables1; nft(8)'s own library, libnftables(3)): each network has a
 * table of its own, `table ip warmrun_NAME`, made and deleted whole, so
 * warmrun never touches a rule of another table. */
#ifndef WARMRUN_DAEMON_NFT_H
#define WARMRUN_DAEMON_NFT_H

#include "lib/error.h"
#include "lib/net_config.h"
#include "lib/net_publish.h"
#include "lib/protocol_network.h"

#include <stdbool.h>

/* The table's name: "warmrun_" NAME (out: at least 40 bytes). */
void daemon_nft_table(const char *net_name, char *out, size_t cap);
/* Whether the network's table exists. */
bool daemon_nft_network_exists(const char *net_name);
/* Whether the bridge table of net_name has its input chain (a network
 * made by an earlier version has not); adding it keeps the table's sets,
 * so running containers keep their elements. 0, or -1 with err. */
bool daemon_nft_guard_input_exists(const char *net_name);
int daemon_nft_guard_input_add(const char *net_name, wr_error *err);
/* Creates the network's table in one transaction (replacing one of the
 * same name): egress masquerade of the subnet leaving by another
 * interface (one rule per network, never per container), and an input
 * filter that drops what containers send to the host's addresses other
 * than the bridge's own (the gateway). Errors: nft's first line. */
int daemon_nft_network_add(const struct wr_network *n, wr_error *err);
/* Publishes ports of the container id (at addr, host byte order): one map
 * element each, all or none. EADDRINUSE: a host port is taken. */
int daemon_nft_publish(const struct wr_network *n, const char *id, uint32_t addr,
                       const struct wr_publish *ports, size_t count, wr_error *err);
/* Removes every element that id published (none: 0). */
int daemon_nft_unpublish(const char *net_name, const char *id, wr_error *err);
/* The host ports published in the network's table (cap entries, *n of
 * them used). No table: none. */
int daemon_nft_ports(const char *net_name, struct wr_nft_port *out, size_t cap, size_t *n,
                     wr_error *err);
/* Anti-spoofing (the network's `table bridge`, whose elements the shim
 * adds at fill: shim_network.c): removes port ifname's elements (mac,
 * addr: nft's texts); gone ones are no error. */
int daemon_nft_unguard(const char *net_name, const char *ifname, const char *mac, const char *addr,
                       wr_error *err);
/* Removes the anti-spoofing elements of ports that are gone (a SIGKILLed
 * shim's; reconciliation). */
void daemon_nft_guards_sweep(const char *net_name);
/* Deletes the network's tables; a missing table is not an error. */
int daemon_nft_network_del(const char *net_name, wr_error *err);

#endif
