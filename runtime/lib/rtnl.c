/* See rtnl.h. Raw rtnetlink (netlink(7), rtnetlink(7)) with the few
 * attribute helpers it needs, and no libmnl: the shim, which runs these
 * on the fill path, is linked statically (docs/benchmarks.md), and
 * Debian ships no static libmnl. */
#include "rtnl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MSG_MAX 1024

struct msg {
    union {
        struct nlmsghdr nlh;
        char buf[MSG_MAX];
    };
};

int wr_rtnl_open(struct wr_rtnl *r, wr_error *err)
{
    r->seq = (unsigned)time(NULL);
    r->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (r->fd < 0)
        return wr_error_set(err, errno, "open rtnetlink socket");
    struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
    if (bind(r->fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        int e = errno;
        wr_rtnl_close(r);
        return wr_error_set(err, e, "bind rtnetlink socket");
    }
    return 0;
}

void wr_rtnl_close(struct wr_rtnl *r)
{
    if (r->fd >= 0)
        close(r->fd);
    r->fd = -1;
}

/* Appends room for len bytes (aligned) to m; NULL when it does not fit
 * (never, for the requests of this file). */
static void *put(struct msg *m, size_t len)
{
    size_t at = NLMSG_ALIGN(m->nlh.nlmsg_len);
    if (at + NLMSG_ALIGN(len) > sizeof m->buf)
        return NULL;
    memset(m->buf + at, 0, NLMSG_ALIGN(len));
    m->nlh.nlmsg_len = (uint32_t)(at + len);
    return m->buf + at;
}

static struct nlattr *attr(struct msg *m, uint16_t type, const void *data, size_t len)
{
    struct nlattr *a = put(m, NLA_HDRLEN + len);
    if (!a)
        return NULL;
    a->nla_type = type;
    a->nla_len = (uint16_t)(NLA_HDRLEN + len);
    if (len)
        memcpy((char *)a + NLA_HDRLEN, data, len);
    return a;
}

static void attr_str(struct msg *m, uint16_t type, const char *s)
{
    attr(m, type, s, strlen(s) + 1);
}

static void attr_u32(struct msg *m, uint16_t type, uint32_t v)
{
    attr(m, type, &v, sizeof v);
}

static struct nlattr *nest_start(struct msg *m, uint16_t type)
{
    return attr(m, type | NLA_F_NESTED, NULL, 0);
}

static void nest_end(struct msg *m, struct nlattr *nest)
{
    if (nest)
        nest->nla_len = (uint16_t)(m->buf + m->nlh.nlmsg_len - (char *)nest);
}

static void header(struct msg *m, uint16_t type, uint16_t flags)
{
    memset(&m->nlh, 0, sizeof m->nlh);
    m->nlh.nlmsg_len = NLMSG_HDRLEN;
    m->nlh.nlmsg_type = type;
    m->nlh.nlmsg_flags = flags;
}

/* Sends m with NLM_F_ACK and reads the ack: 0, or -1 with errno. */
static int transact(struct wr_rtnl *r, struct msg *m)
{
    char buf[4096];
    m->nlh.nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
    m->nlh.nlmsg_seq = ++r->seq;
    struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
    if (sendto(r->fd, m->buf, m->nlh.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0)
        return -1;
    for (;;) {
        ssize_t n = recv(r->fd, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n);
             h = NLMSG_NEXT(h, n)) {
            if (h->nlmsg_seq != r->seq || h->nlmsg_type != NLMSG_ERROR)
                continue;
            const struct nlmsgerr *e = NLMSG_DATA(h);
            if (e->error == 0)
                return 0;
            errno = -e->error;
            return -1;
        }
    }
}

static struct ifinfomsg *link_msg(struct msg *m, uint16_t type, uint16_t flags)
{
    header(m, type, flags);
    struct ifinfomsg *ifm = put(m, sizeof *ifm);
    ifm->ifi_family = AF_UNSPEC;
    return ifm;
}

int wr_rtnl_bridge_add(struct wr_rtnl *r, const char *name, wr_error *err)
{
    struct msg m;
    link_msg(&m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
    attr_str(&m, IFLA_IFNAME, name);
    struct nlattr *info = nest_start(&m, IFLA_LINKINFO);
    attr_str(&m, IFLA_INFO_KIND, "bridge");
    nest_end(&m, info);
    if (transact(r, &m) < 0)
        return wr_error_set(err, errno, "create bridge %s", name);
    return 0;
}

int wr_rtnl_veth_add(struct wr_rtnl *r, const char *host_name, unsigned master_ifindex,
                     const char *peer_name, int peer_netns_fd, wr_error *err)
{
    struct msg m;
    struct ifinfomsg *ifm = link_msg(&m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
    ifm->ifi_flags = IFF_UP;
    ifm->ifi_change = IFF_UP;
    attr_str(&m, IFLA_IFNAME, host_name);
    attr_u32(&m, IFLA_MASTER, master_ifindex);
    struct nlattr *info = nest_start(&m, IFLA_LINKINFO);
    attr_str(&m, IFLA_INFO_KIND, "veth");
    struct nlattr *data = nest_start(&m, IFLA_INFO_DATA);
    struct nlattr *peer = nest_start(&m, VETH_INFO_PEER);
    /* The peer's attributes follow its own ifinfomsg (veth(4)'s layout). */
    struct ifinfomsg *pifm = put(&m, sizeof *pifm);
    pifm->ifi_family = AF_UNSPEC;
    attr_str(&m, IFLA_IFNAME, peer_name);
    attr_u32(&m, IFLA_NET_NS_FD, (uint32_t)peer_netns_fd);
    nest_end(&m, peer);
    nest_end(&m, data);
    nest_end(&m, info);
    if (transact(r, &m) < 0)
        return wr_error_set(err, errno, "create veth pair %s", host_name);
    return 0;
}

int wr_rtnl_link_del(struct wr_rtnl *r, const char *name, wr_error *err)
{
    struct msg m;
    link_msg(&m, RTM_DELLINK, 0);
    attr_str(&m, IFLA_IFNAME, name);
    if (transact(r, &m) < 0)
        return wr_error_set(err, errno, "delete link %s", name);
    return 0;
}

int wr_rtnl_link_up(struct wr_rtnl *r, unsigned ifindex, wr_error *err)
{
    struct msg m;
    struct ifinfomsg *ifm = link_msg(&m, RTM_NEWLINK, 0);
    ifm->ifi_index = (int)ifindex;
    ifm->ifi_flags = IFF_UP;
    ifm->ifi_change = IFF_UP;
    if (transact(r, &m) < 0)
        return wr_error_set(err, errno, "bring link %u up", ifindex);
    return 0;
}

int wr_rtnl_addr_add(struct wr_rtnl *r, unsigned ifindex, uint32_t addr, unsigned prefix,
                     wr_error *err)
{
    struct msg m;
    header(&m, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
    struct ifaddrmsg *ifa = put(&m, sizeof *ifa);
    ifa->ifa_family = AF_INET;
    ifa->ifa_prefixlen = (unsigned char)prefix;
    ifa->ifa_index = ifindex;
    ifa->ifa_scope = RT_SCOPE_UNIVERSE;
    uint32_t be = htonl(addr), brd = htonl(addr | (prefix ? ~(0xffffffffu << (32 - prefix)) : ~0u));
    attr_u32(&m, IFA_LOCAL, be);
    attr_u32(&m, IFA_ADDRESS, be);
    attr_u32(&m, IFA_BROADCAST, brd);
    if (transact(r, &m) < 0)
        return wr_error_set(err, errno, "add address to link %u", ifindex);
    return 0;
}

int wr_rtnl_route_default(struct wr_rtnl *r, unsigned ifindex, uint32_t gateway, wr_error *err)
{
    struct msg m;
    header(&m, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
    struct rtmsg *rt = put(&m, sizeof *rt);
    rt->rtm_family = AF_INET;
    rt->rtm_table = RT_TABLE_MAIN;
    rt->rtm_protocol = RTPROT_BOOT;
    rt->rtm_scope = RT_SCOPE_UNIVERSE;
    rt->rtm_type = RTN_UNICAST;
    attr_u32(&m, RTA_GATEWAY, htonl(gateway));
    attr_u32(&m, RTA_OIF, ifindex);
    if (transact(r, &m) < 0)
        return wr_error_set(err, errno, "add the default route");
    return 0;
}
