/* See daemon_host_ports.h. The request and replies are those of
 * linux/inet_diag.h (sock_diag(7)). */
#include "daemon_host_ports.h"

#include "lib/cleanup.h"
#include "lib/nl_dump.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Whether socket address addr (family, idiag_src) is one p's DNAT takes
 * traffic from: any address of the host when p has no HOSTIP; else
 * p's HOSTIP, or a wildcard. IPv6: the wildcard unless v6only (a
 * dual-stack listener gets IPv4 too), and IPv4-mapped addresses. */
static bool address_taken(const struct wr_publish *p, int family, const __be32 *src, int v6only)
{
    uint32_t v4;
    if (family == AF_INET) {
        v4 = ntohl(src[0]);
    } else {
        struct in6_addr a;
        memcpy(&a, src, sizeof a);
        if (IN6_IS_ADDR_UNSPECIFIED(&a))
            return v6only != 1;
        if (!IN6_IS_ADDR_V4MAPPED(&a))
            return false;
        v4 = ntohl(src[3]);
    }
    return !p->host_ip || !v4 || v4 == p->host_ip;
}

struct port_match {
    const struct wr_publish *p;
    bool taken;
};

/* One socket of the dump: taken when it is on p's port at an address p's
 * DNAT takes. */
static int on_socket(const struct nlmsghdr *h, void *ctx)
{
    struct port_match *pm = ctx;
    if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
        h->nlmsg_len < NLMSG_LENGTH(sizeof(struct inet_diag_msg)))
        return 0;
    const struct inet_diag_msg *m = NLMSG_DATA(h);
    if (ntohs(m->id.idiag_sport) != pm->p->host_port)
        return 0;
    int v6only = -1;
    int len = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof *m));
    for (const struct rtattr *a = (const struct rtattr *)(m + 1); RTA_OK(a, len);
         a = RTA_NEXT(a, len))
        if (a->rta_type == INET_DIAG_SKV6ONLY && RTA_PAYLOAD(a) >= 1)
            v6only = *(const unsigned char *)RTA_DATA(a);
    if (address_taken(pm->p, m->idiag_family, m->id.idiag_src, v6only))
        pm->taken = true;
    return 0;
}

/* One family's dump (wr_nl_dump): pm->taken when a socket matches. */
static int dump_family(int fd, struct port_match *pm, int family, wr_error *err)
{
    struct {
        struct nlmsghdr nh;
        struct inet_diag_req_v2 req;
    } msg = {
        .nh = {.nlmsg_len = sizeof msg,
               .nlmsg_type = SOCK_DIAG_BY_FAMILY,
               .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP},
        .req = {.sdiag_family = (__u8)family,
                .sdiag_protocol = pm->p->udp ? IPPROTO_UDP : IPPROTO_TCP,
                /* TCP: listeners only; UDP: every bound socket. */
                .idiag_states = pm->p->udp ? ~0u : 1u << TCP_LISTEN},
    };
    int rc = wr_nl_dump(fd, &msg, sizeof msg, on_socket, pm);
    /* No IPv6 (or no UDP diag module): nothing of it listens. */
    if (rc == -ENOENT || rc == -EAFNOSUPPORT)
        return 0;
    return rc < 0 ? wr_error_set(err, -rc, "sock_diag") : 0;
}

int daemon_host_port_free(const struct wr_publish *p, wr_error *err)
{
    cleanup_close int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (fd < 0)
        return wr_error_set(err, errno, "sock_diag: socket");
    struct port_match pm = {.p = p};
    if (dump_family(fd, &pm, AF_INET, err) < 0 || dump_family(fd, &pm, AF_INET6, err) < 0)
        return -1;
    if (!pm.taken)
        return 0;
    char text[WR_PUBLISH_TEXT];
    wr_publish_format(p, text);
    return wr_error_code(
        err, EADDRINUSE, "port is already allocated: -p %s: a host process %s port %u/%s", text,
        p->udp ? "is bound to" : "listens on", p->host_port, p->udp ? "udp" : "tcp");
}
