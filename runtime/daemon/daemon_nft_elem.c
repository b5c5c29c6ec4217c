/* See daemon_nft_elem.h. */
#include "daemon_nft_elem.h"

#include "daemon_nft.h"

#include "lib/nft_batch.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter.h>
#include <stdio.h>
#include <string.h>

/* Port p's element (the layout of daemon_nft.c's maps). */
static void elem_of(const struct wr_publish *p, uint32_t addr, const char *id, char map[16],
                    struct wr_nft_elem *e)
{
    uint32_t host = htonl(p->host_ip), a = htonl(addr);
    uint16_t hport = htons(p->host_port), cport = htons(p->container_port);
    memset(e, 0, sizeof *e);
    snprintf(map, 16, "%s_%s", p->udp ? "udp" : "tcp", p->host_ip ? "addr" : "any");
    e->set = map;
    e->comment = id;
    if (p->host_ip) { /* ipv4_addr . inet_service */
        memcpy(e->key, &host, 4);
        memcpy(e->key + 4, &hport, 2);
        e->klen = 8;
    } else { /* inet_service */
        memcpy(e->key, &hport, 2);
        e->klen = 2;
    }
    memcpy(e->val, &a, 4); /* ipv4_addr . inet_service */
    memcpy(e->val + 4, &cport, 2);
    e->vlen = 8;
}

int daemon_nft_elem_add(const char *net_name, const char *id, uint32_t addr,
                        const struct wr_publish *ports, size_t count, wr_error *err)
{
    char table[64], maps[WR_PUBLISH_MAX][16];
    struct wr_nft_elem e[WR_PUBLISH_MAX];
    if (count > WR_PUBLISH_MAX)
        return wr_error_set(err, E2BIG, "at most %d -p options", WR_PUBLISH_MAX);
    daemon_nft_table(net_name, table, sizeof table);
    for (size_t i = 0; i < count; i++)
        elem_of(&ports[i], addr, id, maps[i], &e[i]);
    if (wr_nft_elems(NFPROTO_IPV4, table, true, e, count, err) == 0)
        return 0;
    if (err->errnum == EEXIST)
        return wr_error_set(err, EADDRINUSE, "port is already allocated");
    return wr_error_prefix(err, "%s: add the published ports", table);
}

int daemon_nft_elem_del(const char *net_name, const struct wr_publish *ports, size_t count,
                        wr_error *err)
{
    char table[64], map[16];
    struct wr_nft_elem e;
    wr_error one;
    int rc = 0;
    daemon_nft_table(net_name, table, sizeof table);
    /* One batch each: one that is gone already must not keep the others. */
    for (size_t i = 0; i < count && i < WR_PUBLISH_MAX; i++) {
        elem_of(&ports[i], 0, NULL, map, &e);
        if (wr_nft_elems(NFPROTO_IPV4, table, false, &e, 1, &one) < 0 && one.errnum != ENOENT &&
            rc == 0) {
            *err = one;
            rc = wr_error_prefix(err, "%s: delete a published port", table);
        }
    }
    return rc;
}
