/* See nft_batch.h. */
#include "nft_batch.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define BATCH_MAX 8192
#define ELEMS_MAX 16

struct batch {
    char buf[BATCH_MAX];
    size_t len; /* bytes used, aligned */
    size_t msg; /* offset of the message being written */
    uint32_t seq;
    bool overflow;
};

/* Room for len more bytes of the current message (zeroed), or NULL. */
static void *grow(struct batch *b, size_t len)
{
    struct nlmsghdr *h = (struct nlmsghdr *)(b->buf + b->msg);
    size_t at = b->msg + NLMSG_ALIGN(h->nlmsg_len);
    if (b->overflow || at + NLMSG_ALIGN(len) > sizeof b->buf) {
        b->overflow = true;
        return NULL;
    }
    memset(b->buf + at, 0, NLMSG_ALIGN(len));
    /* Aligned: a nest closed after an attribute of odd length counts its
     * padding, which must lie within the message. */
    h->nlmsg_len = (uint32_t)(at - b->msg + NLMSG_ALIGN(len));
    b->len = b->msg + NLMSG_ALIGN(h->nlmsg_len);
    return b->buf + at;
}

/* A new message with its nfgenmsg. */
static void begin(struct batch *b, uint16_t type, uint16_t flags, uint8_t family, uint16_t res)
{
    b->msg = b->len;
    if (b->msg + NLMSG_HDRLEN > sizeof b->buf) {
        b->overflow = true;
        return;
    }
    struct nlmsghdr *h = (struct nlmsghdr *)(b->buf + b->msg);
    memset(h, 0, NLMSG_HDRLEN);
    h->nlmsg_len = NLMSG_HDRLEN;
    h->nlmsg_type = type;
    h->nlmsg_flags = NLM_F_REQUEST | flags;
    h->nlmsg_seq = b->seq++;
    b->len = b->msg + NLMSG_HDRLEN;
    struct nfgenmsg *g = grow(b, sizeof *g);
    if (g) {
        g->nfgen_family = family;
        g->version = NFNETLINK_V0;
        g->res_id = htons(res);
    }
}

static struct nlattr *put(struct batch *b, uint16_t type, const void *data, size_t len)
{
    struct nlattr *a = grow(b, NLA_HDRLEN + len);
    if (a) {
        a->nla_type = type;
        a->nla_len = (uint16_t)(NLA_HDRLEN + len);
        if (len)
            memcpy((char *)a + NLA_HDRLEN, data, len);
    }
    return a;
}

/* Closes a nest opened by put(type | NLA_F_NESTED, NULL, 0). */
static void close_nest(struct batch *b, struct nlattr *a)
{
    if (a && !b->overflow)
        a->nla_len = (uint16_t)(b->buf + b->len - (char *)a);
}

static void put_data(struct batch *b, uint16_t type, const uint8_t *bytes, size_t len)
{
    struct nlattr *n = put(b, type | NLA_F_NESTED, NULL, 0);
    put(b, NFTA_DATA_VALUE, bytes, len);
    close_nest(b, n);
}

static void put_elem(struct batch *b, uint8_t family, const char *table, bool add,
                     const struct wr_nft_elem *e)
{
    begin(b, (NFNL_SUBSYS_NFTABLES << 8) | (add ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM),
          NLM_F_ACK | (add ? NLM_F_CREATE | NLM_F_EXCL : 0), family, 0);
    put(b, NFTA_SET_ELEM_LIST_TABLE, table, strlen(table) + 1);
    put(b, NFTA_SET_ELEM_LIST_SET, e->set, strlen(e->set) + 1);
    struct nlattr *list = put(b, NFTA_SET_ELEM_LIST_ELEMENTS | NLA_F_NESTED, NULL, 0);
    struct nlattr *one = put(b, NFTA_LIST_ELEM | NLA_F_NESTED, NULL, 0);
    put_data(b, NFTA_SET_ELEM_KEY, e->key, e->klen);
    if (add && e->vlen)
        put_data(b, NFTA_SET_ELEM_DATA, e->val, e->vlen);
    if (add && e->comment) {
        /* nftables' comment: user data {type 0, length, text and NUL} */
        uint8_t udata[2 + 64];
        size_t len = strlen(e->comment) + 1;
        if (len <= sizeof udata - 2) {
            udata[0] = 0;
            udata[1] = (uint8_t)len;
            memcpy(udata + 2, e->comment, len);
            put(b, NFTA_SET_ELEM_USERDATA, udata, 2 + len);
        }
    }
    close_nest(b, one);
    close_nest(b, list);
}

/* Sends the batch; reads the answers to its n element messages (sequence
 * numbers first+1 .. first+n). An error answered to the batch's begin
 * (sequence first: no CAP_NET_ADMIN in the socket's namespace, ENOMEM, a
 * failed commit) ends the exchange at once: the kernel may send nothing
 * more. What another sender than the kernel sends (port id 0) is ignored,
 * and so is any answer out of range (one of an earlier batch). 0, or -1
 * with err. */
static int exchange(int fd, struct batch *b, uint32_t first, size_t n, wr_error *err)
{
    char buf[4096];
    int failed = 0;
    size_t acks = n;
    struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
    if (sendto(fd, b->buf, b->len, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0)
        return wr_error_set(err, errno, "send to nfnetlink");
    while (acks > 0) {
        struct sockaddr_nl from = {0};
        socklen_t from_len = sizeof from;
        ssize_t got = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &from_len);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return wr_error_set(err, errno, "receive from nfnetlink");
        if (from.nl_pid != 0)
            continue;
        for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)got);
             h = NLMSG_NEXT(h, got)) {
            uint32_t rel = h->nlmsg_seq - first; /* wraps: one comparison */
            if (h->nlmsg_type != NLMSG_ERROR || rel > n ||
                h->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr)))
                continue;
            const struct nlmsgerr *e = NLMSG_DATA(h);
            if (e->error && !failed)
                failed = -e->error;
            if (rel == 0 && e->error)
                return wr_error_set(err, failed, "nftables");
            if (rel > 0 && acks > 0)
                acks--;
        }
    }
    return failed ? wr_error_set(err, failed, "nftables") : 0;
}

/* One socket for the process's life, opened on first use: closing a
 * netfilter socket after a deletion waits for an RCU grace period (15 ms
 * measured here), which the daemon's loop must not pay per container.
 * Dropped after an error, so that no late answer is read for a later
 * batch (answers of earlier batches have lower sequence numbers). */
static int nl_fd = -1;
static uint32_t nl_seq;

static void drop_socket(void)
{
    if (nl_fd >= 0)
        close(nl_fd);
    nl_fd = -1;
}

/* A forked child opens a socket of its own: one shared with the parent
 * would read the parent's answers (same port id, same sequence numbers),
 * and a child that closes its inherited descriptors (the shim's detached
 * teardown: close_range) kept the number, so its first batch failed
 * (EBADF) and left the container's element in the set. */
static void forget_in_child(void)
{
    drop_socket();
}

int wr_nft_elems(uint8_t family, const char *table, bool add, const struct wr_nft_elem *e, size_t n,
                 wr_error *err)
{
    static struct batch b; /* 8 KiB: off the (static) shim's stack */
    if (n == 0)
        return 0;
    if (n > ELEMS_MAX)
        return wr_error_set(err, E2BIG, "nftables: more than %d elements", ELEMS_MAX);
    if (nl_fd < 0) {
        nl_fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
        if (nl_fd < 0)
            return wr_error_set(err, errno, "open an nfnetlink socket");
        /* The kernel always answers; the limit keeps a broken path from
         * blocking a fill or the daemon for ever. */
        struct timeval tv = {.tv_sec = 2};
        setsockopt(nl_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        static bool registered;
        if (!registered && pthread_atfork(NULL, NULL, forget_in_child) == 0)
            registered = true;
        if (!nl_seq)
            nl_seq = (uint32_t)time(NULL);
    }
    memset(&b, 0, sizeof b);
    b.seq = nl_seq;
    uint32_t first = b.seq;
    begin(&b, NFNL_MSG_BATCH_BEGIN, 0, AF_UNSPEC, NFNL_SUBSYS_NFTABLES);
    for (size_t i = 0; i < n; i++)
        put_elem(&b, family, table, add, &e[i]);
    begin(&b, NFNL_MSG_BATCH_END, 0, AF_UNSPEC, NFNL_SUBSYS_NFTABLES);
    nl_seq = b.seq;
    if (b.overflow)
        return wr_error_set(err, E2BIG, "nftables: batch too large");
    int rc = exchange(nl_fd, &b, first, n, err);
    if (rc < 0 &&
        (err->errnum == EAGAIN || err->errnum == ENOBUFS || strncmp(err->msg, "nftables", 8) != 0))
        drop_socket(); /* the socket's own failure, not the kernel's answer */
    return rc;
}

void wr_nft_key_ifname(struct wr_nft_elem *e, const char *ifname)
{
    memset(e->key, 0, sizeof e->key);
    strncpy((char *)e->key, ifname, 15);
    e->klen = 16;
}

void wr_nft_key_guard(struct wr_nft_elem *e, const char *ifname, const uint8_t mac[6],
                      uint32_t addr)
{
    uint32_t a = htonl(addr);
    wr_nft_key_ifname(e, ifname);
    memcpy(e->key + 16, mac, 6); /* ether_addr: 6 bytes, padded to 8 */
    memcpy(e->key + 24, &a, 4);
    e->klen = 28;
}
