/* The JSON of `warmrun network ls --json` (docs/cli.md): an array of
 * {"name", "bridge", "subnet", "gateway", "containers"}. */
#ifndef WARMRUN_PROTOCOL_NETWORK_H
#define WARMRUN_PROTOCOL_NETWORK_H

#include "net_config.h"
#include "net_publish.h"

#include <stddef.h>

/* malloc'd text, or NULL (out of memory). live[i]: leases of list[i]. */
char *wr_network_list_json(const struct wr_network *list, const size_t *live, size_t count);

/* From the JSON of `list map` (nft -j; libnftables' JSON schema,
 * libnftables-json(5)), appends to script (cap bytes, NUL-terminated) one
 * "delete element ip TABLE MAP { KEY }" line per element whose comment is
 * id. Returns 0, or -1 when script is too small or json is not a map. */
int wr_nft_delete_commented(const char *json, const char *id, const char *table, const char *map,
                            char *script, size_t cap);

/* A published port found in a network's table, and the container id its
 * element's comment names ("" if none). */
struct wr_nft_port {
    struct wr_publish p; /* host side only */
    char id[16];
};
/* From the JSON of `list map` of map tcp_any, udp_any, tcp_addr or
 * udp_addr (nft -j), appends the elements' host ports to out (cap
 * entries, *n of them used). Returns 0, or -1 when json is not a map. */
int wr_nft_map_ports(const char *json, struct wr_nft_port *out, size_t cap, size_t *n);

/* Calls fn(ifname, mac, addr, arg) for each element of a listing (nft -j)
 * of a network's anti-spoofing set (ifname . ether_addr . ipv4_addr), and
 * fn(ifname, NULL, NULL, arg) for each of its set of ports (ifname). */
struct wr_nft_guard_fn {
    void (*fn)(const char *ifname, const char *mac, const char *addr, void *arg);
    void *arg;
};
void wr_nft_each_guard(const char *json, const struct wr_nft_guard_fn *g);

#endif
