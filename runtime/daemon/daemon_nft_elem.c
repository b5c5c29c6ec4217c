/* See daemon_nft_elem.h. nf_tables' netlink interface:
 * include/uapi/linux/netfilter/nf_tables.h; batches: nfnetlink.h. */
#include "daemon_nft_elem.h"

#include "daemon_nft.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

/* One socket for the daemon's life, opened on first use: the daemon is
 * single-threaded, and a socket per change would cost more than the
 * change. Dropped after any error, so that no late reply can be taken for
 * the answer to a later batch. */
static struct mnl_socket *nl;
static uint32_t seq;

static void drop_socket(void)
{
    if (nl)
        mnl_socket_close(nl);
    nl = NULL;
}

static int open_socket(wr_error *err)
{
    if (nl)
        return 0;
    nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
    if (!nl)
        return wr_error_set(err, errno, "open an nfnetlink socket");
    /* The kernel always answers; the limit only keeps a broken kernel
     * path from stopping the daemon for ever. */
    struct timeval tv = {.tv_sec = 2};
    if (setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0 ||
        mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
        int e = errno;
        drop_socket();
        return wr_error_set(err, e, "bind an nfnetlink socket");
    }
    if (!seq)
        seq = (uint32_t)time(NULL);
    return 0;
}

static void batch_mark(struct mnl_nlmsg_batch *b, uint16_t type)
{
    struct nlmsghdr *h = mnl_nlmsg_put_header(mnl_nlmsg_batch_current(b));
    h->nlmsg_type = type;
    h->nlmsg_flags = NLM_F_REQUEST;
    h->nlmsg_seq = seq++;
    struct nfgenmsg *g = mnl_nlmsg_put_extra_header(h, sizeof *g);
    g->nfgen_family = AF_UNSPEC;
    g->version = NFNETLINK_V0;
    g->res_id = htons(NFNL_SUBSYS_NFTABLES);
    mnl_nlmsg_batch_next(b);
}

/* Key and value of port p's element (their lengths are the maps'). */
struct elem {
    char map[16];
    uint8_t key[8], val[8];
    size_t klen;
};

static void elem_of(const struct wr_publish *p, uint32_t addr, struct elem *e)
{
    uint32_t host = htonl(p->host_ip), a = htonl(addr);
    uint16_t hport = htons(p->host_port), cport = htons(p->container_port);
    memset(e, 0, sizeof *e);
    snprintf(e->map, sizeof e->map, "%s_%s", p->udp ? "udp" : "tcp", p->host_ip ? "addr" : "any");
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
}

static void put_elem(struct mnl_nlmsg_batch *b, const char *table, const struct elem *e, bool add,
                     const char *comment)
{
    struct nlmsghdr *h = mnl_nlmsg_put_header(mnl_nlmsg_batch_current(b));
    h->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | (add ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM);
    h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | (add ? NLM_F_CREATE | NLM_F_EXCL : 0);
    h->nlmsg_seq = seq++;
    struct nfgenmsg *g = mnl_nlmsg_put_extra_header(h, sizeof *g);
    g->nfgen_family = NFPROTO_IPV4;
    g->version = NFNETLINK_V0;
    g->res_id = 0;
    mnl_attr_put_strz(h, NFTA_SET_ELEM_LIST_TABLE, table);
    mnl_attr_put_strz(h, NFTA_SET_ELEM_LIST_SET, e->map);
    struct nlattr *list = mnl_attr_nest_start(h, NFTA_SET_ELEM_LIST_ELEMENTS);
    struct nlattr *one = mnl_attr_nest_start(h, NFTA_LIST_ELEM);
    struct nlattr *key = mnl_attr_nest_start(h, NFTA_SET_ELEM_KEY);
    mnl_attr_put(h, NFTA_DATA_VALUE, e->klen, e->key);
    mnl_attr_nest_end(h, key);
    if (add) {
        struct nlattr *val = mnl_attr_nest_start(h, NFTA_SET_ELEM_DATA);
        mnl_attr_put(h, NFTA_DATA_VALUE, sizeof e->val, e->val);
        mnl_attr_nest_end(h, val);
        /* nftables' comment: user data TLV {type 0, length, text + NUL} */
        uint8_t udata[2 + 16];
        size_t len = strlen(comment) + 1;
        if (len <= sizeof udata - 2) {
            udata[0] = 0;
            udata[1] = (uint8_t)len;
            memcpy(udata + 2, comment, len);
            mnl_attr_put(h, NFTA_SET_ELEM_USERDATA, 2 + len, udata);
        }
    }
    mnl_attr_nest_end(h, one);
    mnl_attr_nest_end(h, list);
    mnl_nlmsg_batch_next(b);
}

/* Sends batch b (acks: how many of its messages asked for one) and reads
 * the answers: *failed gets the kernel's first error (an errno) or 0.
 * Returns -1 when the socket failed. */
static int transact(struct mnl_nlmsg_batch *b, uint32_t first, size_t acks, int *failed,
                    wr_error *err)
{
    char buf[MNL_SOCKET_BUFFER_SIZE];
    *failed = 0;
    if (mnl_socket_sendto(nl, mnl_nlmsg_batch_head(b), mnl_nlmsg_batch_size(b)) < 0) {
        int e = errno;
        drop_socket();
        return wr_error_set(err, e, "send to nfnetlink");
    }
    while (acks > 0) {
        ssize_t got = mnl_socket_recvfrom(nl, buf, sizeof buf);
        if (got < 0) {
            int e = errno;
            drop_socket();
            return wr_error_set(err, e, "receive from nfnetlink");
        }
        for (struct nlmsghdr *h = (struct nlmsghdr *)buf; mnl_nlmsg_ok(h, (int)got);
             h = mnl_nlmsg_next(h, (int *)&got)) {
            if (h->nlmsg_type != NLMSG_ERROR || h->nlmsg_seq < first)
                continue; /* not an answer to this batch */
            const struct nlmsgerr *e = mnl_nlmsg_get_payload(h);
            if (e->error && !*failed)
                *failed = -e->error;
            if (acks > 0)
                acks--;
        }
    }
    return 0;
}

int daemon_nft_elem_add(const char *net_name, const char *id, uint32_t addr,
                        const struct wr_publish *ports, size_t count, wr_error *err)
{
    char table[64], buf[MNL_SOCKET_BUFFER_SIZE];
    struct elem e;
    if (count == 0)
        return 0;
    if (open_socket(err) < 0)
        return -1;
    daemon_nft_table(net_name, table, sizeof table);
    struct mnl_nlmsg_batch *b = mnl_nlmsg_batch_start(buf, sizeof buf);
    uint32_t first = seq;
    batch_mark(b, NFNL_MSG_BATCH_BEGIN);
    for (size_t i = 0; i < count && i < WR_PUBLISH_MAX; i++) {
        elem_of(&ports[i], addr, &e);
        put_elem(b, table, &e, true, id);
    }
    batch_mark(b, NFNL_MSG_BATCH_END);
    int failed;
    int rc = transact(b, first, count < WR_PUBLISH_MAX ? count : WR_PUBLISH_MAX, &failed, err);
    mnl_nlmsg_batch_stop(b);
    if (rc < 0)
        return -1;
    if (failed == EEXIST)
        return wr_error_set(err, EADDRINUSE, "port is already allocated");
    if (failed)
        return wr_error_set(err, failed, "nftables: %s: add the published ports: %s", table,
                            strerror(failed));
    return 0;
}

int daemon_nft_elem_del(const char *net_name, const struct wr_publish *ports, size_t count,
                        wr_error *err)
{
    char table[64], buf[MNL_SOCKET_BUFFER_SIZE];
    struct elem e;
    int rc = 0;
    daemon_nft_table(net_name, table, sizeof table);
    for (size_t i = 0; i < count && i < WR_PUBLISH_MAX; i++) {
        if (open_socket(err) < 0)
            return -1;
        struct mnl_nlmsg_batch *b = mnl_nlmsg_batch_start(buf, sizeof buf);
        uint32_t first = seq;
        batch_mark(b, NFNL_MSG_BATCH_BEGIN);
        elem_of(&ports[i], 0, &e);
        put_elem(b, table, &e, false, NULL);
        batch_mark(b, NFNL_MSG_BATCH_END);
        int failed;
        int one = transact(b, first, 1, &failed, err);
        mnl_nlmsg_batch_stop(b);
        if (one < 0)
            return -1;
        if (failed && failed != ENOENT && rc == 0)
            rc = wr_error_set(err, failed, "nftables: %s: delete a published port: %s", table,
                              strerror(failed));
    }
    return rc;
}
