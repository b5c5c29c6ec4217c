/* See daemon_nft.h. Every change is one nft script run by
 * nft_run_cmd_from_buffer, which applies it as one netlink transaction:
 * it all takes, or nothing does. */
#include "daemon_nft.h"

#include <errno.h>
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
    char table[64], script[128];
    daemon_nft_table(net_name, table, sizeof table);
    snprintf(script, sizeof script, "list table ip %s", table);
    wr_error ignored;
    return run(script, "list", &ignored) == 0;
}

int daemon_nft_network_add(const struct wr_network *n, wr_error *err)
{
    char table[64], subnet[WR_CIDR_TEXT], gw[WR_IPV4_TEXT], script[2048];
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
             "    iifname \"%3$s\" ip daddr != %4$s drop\n"
             "  }\n"
             "}\n",
             table, subnet, n->bridge, gw);
    return run(script, table, err);
}

int daemon_nft_network_del(const char *net_name, wr_error *err)
{
    char table[64], script[160];
    daemon_nft_table(net_name, table, sizeof table);
    snprintf(script, sizeof script, "add table ip %1$s\ndelete table ip %1$s\n", table);
    return run(script, table, err);
}
