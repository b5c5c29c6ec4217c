/* See daemon_nft.h. Every change is one nft script run by
 * nft_run_cmd_from_buffer, which applies it as one netlink transaction:
 * it all takes, or nothing does. */
#include "daemon_nft.h"

#include "lib/protocol_network.h"

#include <errno.h>
#include <net/if.h>
#include <nftables/libnftables.h>
#include <stdio.h>
#include <string.h>

void daemon_nft_table(const char *net_name, char *out, size_t cap)
{
    snprintf(out, cap, "warmrun_%s", net_name);
}

/* Runs script; on error, err gets nft's first error line. Output (of a
 * list command) is buffered and dropped. */
static int run(const char *script, const char *what, wr_error *err)
{
    struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
    if (!ctx)
        return wr_error_set(err, ENOMEM, "nftables context");
    nft_ctx_buffer_output(ctx);
    nft_ctx_buffer_error(ctx);
    int rc = nft_run_cmd_from_buffer(ctx, script);
    if (rc != 0) {
        const char *msg = nft_ctx_get_error_buffer(ctx);
        size_t len = msg ? strcspn(msg, "\n") : 0;
        wr_error_set(err, EINVAL, "nftables: %s: %.*s", what, (int)len, msg ? msg : "");
    }
    nft_ctx_free(ctx);
    return rc != 0 ? -1 : 0;
}

bool daemon_nft_network_exists(const char *net_name)
{
    char table[64], script[2][128];
    daemon_nft_table(net_name, table, sizeof table);
    /* Both tables: a network made before the bridge table existed gets
     * it (daemon_network_ensure remakes both). Two runs: nft 1.0.6 fails
     * a second `list table` of another family in one buffer. */
    snprintf(script[0], sizeof script[0], "list table ip %s", table);
    snprintf(script[1], sizeof script[1], "list table bridge %s", table);
    wr_error ignored;
    return run(script[0], "list", &ignored) == 0 && run(script[1], "list", &ignored) == 0;
}

/* What a container's port may send (the bridge table's sets). */
#define GUARD_RULES                                                                                \
    "    iifname != @ports accept\n"                                                               \
    "    ether type ip iifname . ether saddr . ip saddr @allowed accept\n"                         \
    "    ether type arp iifname . ether saddr . arp saddr ip @allowed "                            \
    "iifname . arp saddr ether . arp saddr ip @allowed accept\n"                                   \
    "    drop\n"
/* A frame to a link-local group address (01:80:c2:00:00:0X) that the
 * bridge does not forward never passes its prerouting hook: it goes up the
 * stack of the port itself (the host end of the veth), through the input
 * hook only (net/bridge/br_input.c: br_handle_frame), where it reached the
 * host's IPv4 stack with any source address and past the ip
 * table's filters, which name the bridge. The input chain checks these;
 * the bridge forwards the group addresses it may (group_fwd_mask,
 * daemon_network.c), since LLDP's skips the input hook too. */
#define GUARD_INPUT                                                                                \
    "  chain input {\n"                                                                            \
    "    type filter hook input priority filter; policy accept;\n" GUARD_RULES "  }\n"

bool daemon_nft_guard_input_exists(const char *net_name)
{
    char table[64], script[128];
    wr_error ignored;
    daemon_nft_table(net_name, table, sizeof table);
    snprintf(script, sizeof script, "list chain bridge %s input", table);
    return run(script, "list", &ignored) == 0;
}

int daemon_nft_guard_input_add(const char *net_name, wr_error *err)
{
    char table[64], script[1024];
    daemon_nft_table(net_name, table, sizeof table);
    snprintf(script, sizeof script, "table bridge %s {\n" GUARD_INPUT "}\n", table);
    return run(script, table, err);
}

int daemon_nft_network_add(const struct wr_network *n, wr_error *err)
{
    char table[64], subnet[WR_CIDR_TEXT], gw[WR_IPV4_TEXT], script[6144];
    daemon_nft_table(n->name, table, sizeof table);
    wr_cidr_format(&n->subnet, subnet);
    wr_ipv4_format(n->gateway, gw);
    /* "add table" then "delete table" makes the script replace a table
     * left by an earlier run without failing when there is none. */
    snprintf(script, sizeof script,
             "add table ip %1$s\n"
             "delete table ip %1$s\n"
             "table ip %1$s {\n"
             "  chain postrouting {\n"
             "    type nat hook postrouting priority srcnat; policy accept;\n"
             "    ip saddr %2$s oifname != \"%3$s\" masquerade\n"
             "  }\n"
             "  chain input {\n"
             "    type filter hook input priority filter; policy accept;\n"
             /* Replies (to the host's own connections, and those of
              * published ports from 127.0.0.1, whose de-masquerade has
              * made them 127.0.0.1's by now) pass; anything new from a
              * container to the host goes only to the gateway. */
             "    iifname \"%3$s\" ct state established,related accept\n"
             "    iifname \"%3$s\" ip daddr != %4$s drop\n"
             "  }\n"
             /* Isolation between networks, as Docker's separate bridges:
              * nothing routed in from another bridge of the host (another
              * warmrun network's, whatever its name) goes out to this
              * one; each network's table drops its side, so neither
              * direction starts a connection. */
             "  chain forward {\n"
             "    type filter hook forward priority filter; policy accept;\n"
             "    oifname \"%3$s\" iifname != \"%3$s\" meta iifkind \"bridge\" drop\n"
             "  }\n"
             /* Published ports: one element per port, keyed by the host
              * port (any local address) or address and port, commented
              * with the container id that owns it. */
             "  map tcp_any { type inet_service : ipv4_addr . inet_service; }\n"
             "  map udp_any { type inet_service : ipv4_addr . inet_service; }\n"
             "  map tcp_addr { type ipv4_addr . inet_service : ipv4_addr . inet_service; }\n"
             "  map udp_addr { type ipv4_addr . inet_service : ipv4_addr . inet_service; }\n"
             "  chain prerouting {\n"
             "    type nat hook prerouting priority dstnat; policy accept;\n"
             "    jump published\n"
             "  }\n"
             /* From the host itself, 127.0.0.1 included (route_localnet on
              * the bridge, and the masquerade below), as Docker does
              * without its userland proxy. */
             "  chain output {\n"
             "    type nat hook output priority -100; policy accept;\n"
             "    jump published\n"
             "  }\n"
             "  chain published {\n"
             "    fib daddr type local dnat ip to ip daddr . tcp dport map @tcp_addr\n"
             "    fib daddr type local dnat ip to tcp dport map @tcp_any\n"
             "    fib daddr type local dnat ip to ip daddr . udp dport map @udp_addr\n"
             "    fib daddr type local dnat ip to udp dport map @udp_any\n"
             "  }\n"
             "  chain localnet {\n"
             "    type nat hook postrouting priority srcnat; policy accept;\n"
             "    oifname \"%3$s\" ip saddr 127.0.0.0/8 masquerade\n"
             "  }\n"
             "}\n"
             /* Anti-spoofing, at layer 2 (docs/security.md): what enters
              * the bridge from a container's port (the host end of its
              * veth, in @ports from its fill to its teardown) passes only
              * as IPv4 or ARP with the container's own MAC and address
              * (@allowed), the ARP sender's too. Docker's default caps
              * include NET_RAW: without this a container could send
              * frames as another container or the gateway, or answer ARP
              * for their addresses. Other ports (none of warmrun's) pass. */
             "add table bridge %1$s\n"
             "delete table bridge %1$s\n"
             "table bridge %1$s {\n"
             "  set ports { type ifname; }\n"
             "  set allowed { type ifname . ether_addr . ipv4_addr; }\n"
             "  chain prerouting {\n"
             "    type filter hook prerouting priority filter; policy accept;\n" GUARD_RULES
             "  }\n" GUARD_INPUT "}\n",
             table, subnet, n->bridge, gw);
    return run(script, table, err);
}

int daemon_nft_network_del(const char *net_name, wr_error *err)
{
    char table[64], script[400];
    daemon_nft_table(net_name, table, sizeof table);
    snprintf(script, sizeof script,
             "add table ip %1$s\ndelete table ip %1$s\n"
             "add table bridge %1$s\ndelete table bridge %1$s\n",
             table);
    return run(script, table, err);
}

int daemon_nft_publish(const struct wr_network *n, const char *id, uint32_t addr,
                       const struct wr_publish *ports, size_t count, wr_error *err)
{
    char table[64], a[WR_IPV4_TEXT], host[WR_IPV4_TEXT], script[WR_PUBLISH_MAX * 160];
    size_t len = 0;
    daemon_nft_table(n->name, table, sizeof table);
    wr_ipv4_format(addr, a);
    for (size_t i = 0; i < count && i < WR_PUBLISH_MAX; i++) {
        const struct wr_publish *p = &ports[i];
        wr_ipv4_format(p->host_ip, host);
        /* "create": an element of the same key (the host port taken by
         * another container) fails the whole transaction. */
        int m =
            snprintf(script + len, sizeof script - len,
                     "create element ip %s %s_%s { %s%s%u comment \"%s\" : %s . %u }\n", table,
                     p->udp ? "udp" : "tcp", p->host_ip ? "addr" : "any", p->host_ip ? host : "",
                     p->host_ip ? " . " : "", p->host_port, id, a, p->container_port);
        if (m < 0 || (size_t)m >= sizeof script - len)
            return wr_error_set(err, E2BIG, "too many published ports");
        len += (size_t)m;
    }
    if (count == 0)
        return 0;
    if (run(script, table, err) < 0) {
        if (strstr(err->msg, "File exists"))
            return wr_error_set(err, EADDRINUSE,
                                "a host port of -p is already published by another container");
        return -1;
    }
    return 0;
}

/* Calls fn with the JSON listing (nft -j) of each of the table's four maps
 * of published ports, until fn returns < 0 (returned). No table: 0. */
typedef int (*map_fn)(const char *json, const char *table, const char *map, void *arg);
static int each_map(const char *net_name, map_fn fn, void *arg, wr_error *err)
{
    static const char *const maps[] = {"tcp_any", "udp_any", "tcp_addr", "udp_addr"};
    char table[64], cmd[160];
    daemon_nft_table(net_name, table, sizeof table);
    if (!daemon_nft_network_exists(net_name))
        return 0; /* no table: no mapping */
    struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
    if (!ctx)
        return wr_error_set(err, ENOMEM, "nftables context");
    nft_ctx_output_set_flags(ctx, NFT_CTX_OUTPUT_JSON);
    nft_ctx_buffer_output(ctx);
    nft_ctx_buffer_error(ctx);
    int rc = 0;
    for (size_t i = 0; i < 4 && rc == 0; i++) {
        snprintf(cmd, sizeof cmd, "list map ip %s %s", table, maps[i]);
        if (nft_run_cmd_from_buffer(ctx, cmd) != 0)
            continue; /* a table of an older layout: nothing published there */
        rc = fn(nft_ctx_get_output_buffer(ctx), table, maps[i], arg);
    }
    nft_ctx_free(ctx);
    return rc;
}

struct unpublish {
    const char *id;
    bool too_many;
    char script[WR_PUBLISH_MAX * 4 * 96];
};

static int add_deletions(const char *json, const char *table, const char *map, void *arg)
{
    struct unpublish *u = arg;
    if (wr_nft_delete_commented(json, u->id, table, map, u->script, sizeof u->script) == 0)
        return 0;
    u->too_many = true;
    return -1;
}

int daemon_nft_unpublish(const char *net_name, const char *id, wr_error *err)
{
    char table[64];
    struct unpublish u = {.id = id};
    daemon_nft_table(net_name, table, sizeof table);
    if (each_map(net_name, add_deletions, &u, err) < 0)
        return u.too_many
                   ? wr_error_set(err, E2BIG, "nftables: %s: too many elements of %s", table, id)
                   : -1;
    return u.script[0] ? run(u.script, table, err) : 0;
}

struct ports_found {
    struct wr_nft_port *out;
    size_t cap, *n;
};

static int add_ports(const char *json, const char *table, const char *map, void *arg)
{
    struct ports_found *f = arg;
    (void)table;
    (void)map;
    wr_nft_map_ports(json, f->out, f->cap, f->n);
    return 0;
}

int daemon_nft_ports(const char *net_name, struct wr_nft_port *out, size_t cap, size_t *n,
                     wr_error *err)
{
    struct ports_found f = {.out = out, .cap = cap, .n = n};
    *n = 0;
    return each_map(net_name, add_ports, &f, err);
}

int daemon_nft_unguard(const char *net_name, const char *ifname, const char *mac, const char *addr,
                       wr_error *err)
{
    char table[64], script[512];
    wr_error ignored;
    daemon_nft_table(net_name, table, sizeof table);
    /* One at a time: either may be gone already (a failed fill). */
    snprintf(script, sizeof script, "delete element bridge %s ports { \"%s\" }\n", table, ifname);
    run(script, table, &ignored);
    snprintf(script, sizeof script, "delete element bridge %s allowed { \"%s\" . %s . %s }\n",
             table, ifname, mac, addr);
    if (run(script, table, err) < 0 && !strstr(err->msg, "No such file"))
        return -1;
    return 0;
}

/* An element whose port is gone (a SIGKILLed shim's: the kernel removed
 * its veth with the namespace). */
static void drop_if_gone(const char *ifname, const char *mac, const char *addr, void *arg)
{
    wr_error ignored;
    char table[64], script[256];
    if (if_nametoindex(ifname))
        return;
    if (mac && addr) {
        daemon_nft_unguard(arg, ifname, mac, addr, &ignored);
        return;
    }
    /* A port whose element of allowed is gone: left by a teardown that
     * failed halfway (earlier versions left every ended container's). */
    daemon_nft_table(arg, table, sizeof table);
    snprintf(script, sizeof script, "delete element bridge %s ports { \"%s\" }\n", table, ifname);
    run(script, table, &ignored);
}

void daemon_nft_guards_sweep(const char *net_name)
{
    char table[64], cmd[160];
    daemon_nft_table(net_name, table, sizeof table);
    struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
    if (!ctx)
        return;
    nft_ctx_output_set_flags(ctx, NFT_CTX_OUTPUT_JSON);
    nft_ctx_buffer_output(ctx);
    nft_ctx_buffer_error(ctx);
    struct wr_nft_guard_fn g = {.fn = drop_if_gone, .arg = (void *)net_name};
    static const char *const sets[] = {"allowed", "ports"};
    for (size_t i = 0; i < 2; i++) {
        snprintf(cmd, sizeof cmd, "list set bridge %s %s", table, sets[i]);
        if (nft_run_cmd_from_buffer(ctx, cmd) == 0)
            wr_nft_each_guard(nft_ctx_get_output_buffer(ctx), &g);
    }
    nft_ctx_free(ctx);
}
