/* Brings a network interface up over rtnetlink (libmnl). A new network
 * namespace holds only "lo", and it starts DOWN: without this, even
 * 127.0.0.1 is unreachable inside the container. */

#include "netlink_link.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <time.h>

int wr_link_up(const char *ifname, wr_error *err)
{
    char buf[MNL_SOCKET_BUFFER_SIZE];
    struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
    if (!nl)
        return wr_error_set(err, errno, "open rtnetlink socket");
    if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
        wr_error_set(err, errno, "bind rtnetlink socket");
        goto out;
    }

    struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = RTM_NEWLINK;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
    unsigned seq = (unsigned)time(NULL);
    nlh->nlmsg_seq = seq;
    struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof *ifm);
    ifm->ifi_family = AF_UNSPEC;
    ifm->ifi_change = IFF_UP;
    ifm->ifi_flags = IFF_UP;
    mnl_attr_put_strz(nlh, IFLA_IFNAME, ifname);

    if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
        wr_error_set(err, errno, "send RTM_NEWLINK for %s", ifname);
        goto out;
    }
    ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof buf);
    if (n < 0) {
        wr_error_set(err, errno, "receive rtnetlink ack for %s", ifname);
        goto out;
    }
    /* The ack is an NLMSG_ERROR with error 0; mnl_cb_run turns a non-zero one
     * into -1 with errno set. */
    if (mnl_cb_run(buf, (size_t)n, seq, mnl_socket_get_portid(nl), NULL, NULL) < 0) {
        wr_error_set(err, errno, "bring %s up", ifname);
        goto out;
    }
    mnl_socket_close(nl);
    return 0;
out:
    mnl_socket_close(nl);
    return -1;
}
