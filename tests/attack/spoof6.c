/* A bridge-network tenant that sends IPv6 to the host through the bridge,
 * for tests/integration/97-review-net-fn.t. Static, no warmrun code; needs
 * CAP_NET_RAW (Docker's default set), not a route.
 *
 *   spoof6 GATEWAY DST6 DPORT TEXT
 *       learns the gateway's MAC (the bridge's: a datagram to GATEWAY,
 *       then /proc/net/arp) and sends on eth0, to that MAC, one IPv6 UDP
 *       datagram from eth0's link-local address to [DST6]:DPORT carrying
 *       TEXT (three times). Prints "sent".
 */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/ip6.h>
#include <netinet/udp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "neigh_mac.h"

/* RFC 8200 8.1: UDP's checksum over the IPv6 pseudo-header. */
static uint16_t udp6_checksum(const struct ip6_hdr *ip, const uint8_t *udp, size_t len)
{
    uint32_t sum = (uint32_t)len + IPPROTO_UDP;
    const uint8_t *a = (const uint8_t *)&ip->ip6_src; /* src then dst: 32 bytes */
    for (int i = 0; i < 32; i += 2)
        sum += (uint32_t)(a[i] << 8 | a[i + 1]);
    for (size_t i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)(udp[i] << 8 | udp[i + 1]);
    if (len & 1)
        sum += (uint32_t)(udp[len - 1] << 8);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    uint16_t c = htons((uint16_t)~sum);
    return c ? c : 0xffff;
}

int main(int argc, char **argv)
{
    uint8_t gw[6];
    if (argc != 5) {
        fprintf(stderr, "usage: spoof6 GATEWAY DST6 DPORT TEXT\n");
        return 2;
    }
    if (neigh_mac(argv[1], gw) < 0) {
        printf("no MAC for %s\n", argv[1]);
        return 1;
    }
    struct in6_addr src = IN6ADDR_ANY_INIT;
    struct ifaddrs *list;
    if (getifaddrs(&list) < 0)
        return 1;
    for (struct ifaddrs *a = list; a; a = a->ifa_next)
        if (a->ifa_addr && a->ifa_addr->sa_family == AF_INET6 && strcmp(a->ifa_name, "eth0") == 0)
            src = ((struct sockaddr_in6 *)(void *)a->ifa_addr)->sin6_addr;
    freeifaddrs(list);
    struct ifreq ifr, hw;
    int s = eth0_packet_socket(ETH_P_IPV6, &ifr, &hw);
    if (s < 0)
        return 1;
    size_t text = strlen(argv[4]);
    uint8_t frame[1500] = {0};
    struct ether_header *eth = (struct ether_header *)frame;
    struct ip6_hdr *ip = (struct ip6_hdr *)(eth + 1);
    struct udphdr *udp = (struct udphdr *)(ip + 1);
    size_t ulen = sizeof *udp + (text < 1000 ? text : 1000);
    memcpy(eth->ether_dhost, gw, 6);
    memcpy(eth->ether_shost, hw.ifr_hwaddr.sa_data, 6); /* a bridge drops a zero one */
    eth->ether_type = htons(ETHERTYPE_IPV6);
    ip->ip6_flow = htonl(6u << 28);
    ip->ip6_plen = htons((uint16_t)ulen);
    ip->ip6_nxt = IPPROTO_UDP;
    ip->ip6_hlim = 64;
    ip->ip6_src = src;
    if (inet_pton(AF_INET6, argv[2], &ip->ip6_dst) != 1)
        return 2;
    udp->source = htons(40000);
    udp->dest = htons((uint16_t)atoi(argv[3]));
    udp->len = htons((uint16_t)ulen);
    memcpy(udp + 1, argv[4], ulen - sizeof *udp);
    udp->check = udp6_checksum(ip, (const uint8_t *)udp, ulen);
    struct sockaddr_ll to = {.sll_family = AF_PACKET,
                             .sll_ifindex = ifr.ifr_ifindex,
                             .sll_halen = 6,
                             .sll_protocol = htons(ETH_P_IPV6)};
    memcpy(to.sll_addr, gw, 6);
    size_t len = sizeof *eth + sizeof *ip + ulen;
    for (int i = 0; i < 3; i++)
        if (sendto(s, frame, len, 0, (struct sockaddr *)&to, sizeof to) != (ssize_t)len) {
            perror("spoof6: sendto");
            return 1;
        }
    printf("sent\n");
    return 0;
}
