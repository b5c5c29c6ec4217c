/* See rtnl.h. */
#include "rtnl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <string.h>
#include <time.h>

int wr_rtnl_open(struct wr_rtnl *r, wr_error *err)
{
    r->seq = (unsigned)time(NULL);
    r->nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
    if (!r->nl)
        return wr_error_set(err, errno, "open rtnetlink socket");
    if (mnl_socket_bind(r->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
        int e = errno;
        wr_rtnl_close(r);
        return wr_error_set(err, e, "bind rtnetlink socket");
    }
    return 0;
}

void wr_rtnl_close(struct wr_rtnl *r)
{
    if (r->nl)
        mnl_socket_close(r->nl);
    r->nl = NULL;
}

/* Sends nlh with NLM_F_ACK and reads the ack: 0, or -1 with errno. */
static int transact(struct wr_rtnl *r, struct nlmsghdr *nlh)
{
    char buf[MNL_SOCKET_BUFFER_SIZE];
    nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
    nlh->nlmsg_seq = ++r->seq;
    if (mnl_socket_sendto(r->nl, nlh, nlh->nlmsg_len) < 0)
        return -1;
    ssize_t n = mnl_socket_recvfrom(r->nl, buf, sizeof buf);
    if (n < 0)
        return -1;
    return mnl_cb_run(buf, (size_t)n, r->seq, mnl_socket_get_portid(r->nl), NULL, NULL) < 0 ? -1
                                                                                            : 0;
}

static struct nlmsghdr *put_header(char *buf, uint16_t type, uint16_t flags)
{
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = flags;
    return nlh;
}

static struct nlmsghdr *link_msg(char *buf, uint16_t type, uint16_t flags, struct ifinfomsg **ifm)
{
    struct nlmsghdr *nlh = put_header(buf, type, flags);
    *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof **ifm);
    (*ifm)->ifi_family = AF_UNSPEC;
    return nlh;
}

int wr_rtnl_bridge_add(struct wr_rtnl *r, const char *name, wr_error *err)
{
    char buf[MNL_SOCKET_BUFFER_SIZE];
    struct ifinfomsg *ifm;
    struct nlmsghdr *nlh = link_msg(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifm);
    mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
    struct nlattr *info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
    mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
    mnl_attr_nest_end(nlh, info);
    if (transact(r, nlh) < 0)
        return wr_error_set(err, errno, "create bridge %s", name);
    return 0;
}

int wr_rtnl_veth_add(struct wr_rtnl *r, const char *host_name, unsigned master_ifindex,
                     const char *peer_name, int peer_netns_fd, wr_error *err)
{
    char buf[MNL_SOCKET_BUFFER_SIZE];
    struct ifinfomsg *ifm;
    struct nlmsghdr *nlh = link_msg(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifm);
    ifm->ifi_flags = IFF_UP;
    ifm->ifi_change = IFF_UP;
    mnl_attr_put_strz(nlh, IFLA_IFNAME, host_name);
    mnl_attr_put_u32(nlh, IFLA_MASTER, master_ifindex);
    struct nlattr *info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
    mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
    struct nlattr *data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
    struct nlattr *peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
    /* The peer's attributes follow its own ifinfomsg (veth(4)'s layout). */
    struct ifinfomsg *pifm = mnl_nlmsg_put_extra_header(nlh, sizeof *pifm);
    pifm->ifi_family = AF_UNSPEC;
    mnl_attr_put_strz(nlh, IFLA_IFNAME, peer_name);
    mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)peer_netns_fd);
    mnl_attr_nest_end(nlh, peer);
    mnl_attr_nest_end(nlh, data);
    mnl_attr_nest_end(nlh, info);
    if (transact(r, nlh) < 0)
        return wr_error_set(err, errno, "create veth pair %s", host_name);
    return 0;
}

int wr_rtnl_link_del(struct wr_rtnl *r, const char *name, wr_error *err)
{
    char buf[MNL_SOCKET_BUFFER_SIZE];
    struct ifinfomsg *ifm;
    struct nlmsghdr *nlh = link_msg(buf, RTM_DELLINK, 0, &ifm);
    mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
    if (transact(r, nlh) < 0)
        return wr_error_set(err, errno, "delete link %s", name);
    return 0;
}

int wr_rtnl_link_up(struct wr_rtnl *r, unsigned ifindex, wr_error *err)
{
    char buf[MNL_SOCKET_BUFFER_SIZE];
    struct ifinfomsg *ifm;
    struct nlmsghdr *nlh = link_msg(buf, RTM_NEWLINK, 0, &ifm);
    ifm->ifi_index = (int)ifindex;
    ifm->ifi_flags = IFF_UP;
    ifm->ifi_change = IFF_UP;
    if (transact(r, nlh) < 0)
        return wr_error_set(err, errno, "bring link %u up", ifindex);
    return 0;
}

int wr_rtnl_addr_add(struct wr_rtnl *r, unsigned ifindex, uint32_t addr, unsigned prefix,
                     wr_error *err)
{
    char buf[MNL_SOCKET_BUFFER_SIZE];
    struct nlmsghdr *nlh = put_header(buf, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
    struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof *ifa);
    ifa->ifa_family = AF_INET;
    ifa->ifa_prefixlen = (unsigned char)prefix;
    ifa->ifa_index = ifindex;
    ifa->ifa_scope = RT_SCOPE_UNIVERSE;
    uint32_t be = htonl(addr), brd = htonl(addr | (prefix ? ~(0xffffffffu << (32 - prefix)) : ~0u));
    mnl_attr_put_u32(nlh, IFA_LOCAL, be);
    mnl_attr_put_u32(nlh, IFA_ADDRESS, be);
    mnl_attr_put_u32(nlh, IFA_BROADCAST, brd);
    if (transact(r, nlh) < 0)
        return wr_error_set(err, errno, "add address to link %u", ifindex);
    return 0;
}

int wr_rtnl_route_default(struct wr_rtnl *r, unsigned ifindex, uint32_t gateway, wr_error *err)
{
    char buf[MNL_SOCKET_BUFFER_SIZE];
    struct nlmsghdr *nlh = put_header(buf, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
    struct rtmsg *rt = mnl_nlmsg_put_extra_header(nlh, sizeof *rt);
    rt->rtm_family = AF_INET;
    rt->rtm_table = RT_TABLE_MAIN;
    rt->rtm_protocol = RTPROT_BOOT;
    rt->rtm_scope = RT_SCOPE_UNIVERSE;
    rt->rtm_type = RTN_UNICAST;
    mnl_attr_put_u32(nlh, RTA_GATEWAY, htonl(gateway));
    mnl_attr_put_u32(nlh, RTA_OIF, ifindex);
    if (transact(r, nlh) < 0)
        return wr_error_set(err, errno, "add the default route");
    return 0;
}
