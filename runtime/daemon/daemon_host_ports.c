/* See daemon_host_ports.h. The request and replies are those of
 * linux/inet_diag.h (sock_diag(7)). */
#include "daemon_host_ports.h"

#include "lib/cleanup.h"

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

/* One family's dump: *taken when a socket on p's port matches. */
static int dump_family(int fd, const struct wr_publish *p, int family, bool *taken, wr_error *err)
{
    struct {
        struct nlmsghdr nh;
        struct inet_diag_req_v2 req;
    } msg = {
        .nh = {.nlmsg_len = sizeof msg,
               .nlmsg_type = SOCK_DIAG_BY_FAMILY,
               .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP},
        .req = {.sdiag_family = (__u8)family,
                .sdiag_protocol = p->udp ? IPPROTO_UDP : IPPROTO_TCP,
                /* TCP: listeners only; UDP: every bound socket. */
                .idiag_states = p->udp ? ~0u : 1u << TCP_LISTEN},
    };
    struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
    if (sendto(fd, &msg, sizeof msg, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0)
        return wr_error_set(err, errno, "sock_diag: send");
    static char buf[32768] __attribute__((aligned(NLMSG_ALIGNTO)));
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n < 0)
            return wr_error_set(err, errno, "sock_diag: recv");
        for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n);
             h = NLMSG_NEXT(h, n)) {
            if (h->nlmsg_type == NLMSG_DONE)
                return 0;
            if (h->nlmsg_type == NLMSG_ERROR) {
                const struct nlmsgerr *e = NLMSG_DATA(h);
                /* No IPv6 (or no UDP diag module): nothing of it listens. */
                if (e->error == -ENOENT || e->error == -EAFNOSUPPORT)
                    return 0;
                return wr_error_set(err, -e->error, "sock_diag");
            }
            if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
                h->nlmsg_len < NLMSG_LENGTH(sizeof(struct inet_diag_msg)))
                continue;
            const struct inet_diag_msg *m = NLMSG_DATA(h);
            if (ntohs(m->id.idiag_sport) != p->host_port)
                continue;
            int v6only = -1;
            int len = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof *m));
            for (struct rtattr *a = (struct rtattr *)(m + 1); RTA_OK(a, len); a = RTA_NEXT(a, len))
                if (a->rta_type == INET_DIAG_SKV6ONLY && RTA_PAYLOAD(a) >= 1)
                    v6only = *(const unsigned char *)RTA_DATA(a);
            if (address_taken(p, m->idiag_family, m->id.idiag_src, v6only))
                *taken = true;
        }
    }
}

int daemon_host_port_free(const struct wr_publish *p, wr_error *err)
{
    cleanup_close int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (fd < 0)
        return wr_error_set(err, errno, "sock_diag: socket");
    bool taken = false;
    if (dump_family(fd, p, AF_INET, &taken, err) < 0 ||
        dump_family(fd, p, AF_INET6, &taken, err) < 0)
        return -1;
    if (!taken)
        return 0;
    char text[WR_PUBLISH_TEXT];
    wr_publish_format(p, text);
    return wr_error_code(
        err, EADDRINUSE, "port is already allocated: -p %s: a host process %s port %u/%s", text,
        p->udp ? "is bound to" : "listens on", p->host_port, p->udp ? "udp" : "tcp");
}
