/* A bridge-network tenant that forges IPv4 and ARP with CAP_NET_RAW
 * (Docker's default set), for tests/integration/101-network-more.t.
 * Static, no warmrun code.
 *
 *   spoof4 MODE PEER DPORT TEXT [ARG]
 *       learns PEER's MAC (a datagram to PEER, then /proc/net/arp) and
 *       sends on eth0, to that MAC, three times:
 *         own        a UDP datagram to PEER:DPORT carrying TEXT, from
 *                    eth0's own address and MAC (through the packet
 *                    socket: what is allowed)
 *         ip SRC     the same from IPv4 address SRC (forged)
 *         mac        the same from eth0's address, with a forged source MAC
 *         arp CLAIM  ARP replies to PEER: "CLAIM is at eth0's MAC"
 *         ll SRC     the datagram from SRC (forged), to each link-local
 *                    group address 01:80:c2:00:00:{00,02,03,0e} in turn
 *                    instead of PEER's MAC (frames a bridge may hand to
 *                    the stack of the port itself)
 *       (TEXT and DPORT unused by arp). Prints "sent".
 */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "neigh_mac.h"

/* RFC 1071 */
static uint16_t checksum(const void *data, size_t len)
{
    const uint8_t *p = data;
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (len & 1)
        sum += (uint32_t)(p[len - 1] << 8);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return htons((uint16_t)~sum);
}

struct arp_ipv4 {
    struct arphdr h;
    uint8_t sha[6], spa[4], tha[6], tpa[4];
} __attribute__((packed));

int main(int argc, char **argv)
{
    uint8_t peer[6], frame[1500] = {0};
    size_t len;
    if (argc < 5) {
        fprintf(stderr, "usage: spoof4 own|ip SRC|mac|arp CLAIM|ll SRC PEER DPORT TEXT\n");
        return 2;
    }
    const char *mode = argv[1], *arg = argc > 5 ? argv[2] : NULL;
    const char *peer_ip = argv[argc - 3], *text = argv[argc - 1];
    int dport = atoi(argv[argc - 2]);
    if (neigh_mac(peer_ip, peer) < 0) {
        printf("no MAC for %s\n", peer_ip);
        return 1;
    }
    struct in_addr own = {0}, dst;
    struct ifaddrs *list;
    if (getifaddrs(&list) < 0 || inet_pton(AF_INET, peer_ip, &dst) != 1)
        return 1;
    for (struct ifaddrs *a = list; a; a = a->ifa_next)
        if (a->ifa_addr && a->ifa_addr->sa_family == AF_INET && strcmp(a->ifa_name, "eth0") == 0)
            own = ((struct sockaddr_in *)(void *)a->ifa_addr)->sin_addr;
    freeifaddrs(list);
    int is_arp = strcmp(mode, "arp") == 0;
    uint16_t proto = is_arp ? ETH_P_ARP : ETH_P_IP;
    struct ifreq ifr, hw;
    int s = eth0_packet_socket(proto, &ifr, &hw);
    if (s < 0)
        return 1;
    struct ether_header *eth = (struct ether_header *)frame;
    memcpy(eth->ether_dhost, peer, 6);
    memcpy(eth->ether_shost, hw.ifr_hwaddr.sa_data, 6);
    if (strcmp(mode, "mac") == 0) {
        static const uint8_t forged[6] = {0x02, 0x00, 0xde, 0xad, 0xbe, 0xef};
        memcpy(eth->ether_shost, forged, 6);
    }
    eth->ether_type = htons(proto);
    if (is_arp) {
        struct arp_ipv4 *a = (struct arp_ipv4 *)(eth + 1);
        struct in_addr claim;
        if (!arg || inet_pton(AF_INET, arg, &claim) != 1)
            return 2;
        a->h.ar_hrd = htons(ARPHRD_ETHER);
        a->h.ar_pro = htons(ETH_P_IP);
        a->h.ar_hln = 6;
        a->h.ar_pln = 4;
        a->h.ar_op = htons(ARPOP_REPLY);
        memcpy(a->sha, hw.ifr_hwaddr.sa_data, 6);
        memcpy(a->spa, &claim, 4);
        memcpy(a->tha, peer, 6);
        memcpy(a->tpa, &dst, 4);
        len = sizeof *eth + sizeof *a;
    } else {
        struct iphdr *ip = (struct iphdr *)(eth + 1);
        struct udphdr *udp = (struct udphdr *)(ip + 1);
        size_t t = strlen(text) < 1000 ? strlen(text) : 1000;
        size_t ulen = sizeof *udp + t;
        ip->version = 4;
        ip->ihl = 5;
        ip->ttl = 64;
        ip->protocol = IPPROTO_UDP;
        ip->tot_len = htons((uint16_t)(sizeof *ip + ulen));
        ip->saddr = own.s_addr;
        if ((strcmp(mode, "ip") == 0 || strcmp(mode, "ll") == 0) &&
            (!arg || inet_pton(AF_INET, arg, &ip->saddr) != 1))
            return 2;
        ip->daddr = dst.s_addr;
        ip->check = checksum(ip, sizeof *ip);
        udp->source = htons(40000);
        udp->dest = htons((uint16_t)dport);
        udp->len = htons((uint16_t)ulen);
        memcpy(udp + 1, text, t); /* UDP checksum 0: none (RFC 768) */
        len = sizeof *eth + sizeof *ip + ulen;
    }
    struct sockaddr_ll to = {.sll_family = AF_PACKET,
                             .sll_ifindex = ifr.ifr_ifindex,
                             .sll_halen = 6,
                             .sll_protocol = htons(proto)};
    memcpy(to.sll_addr, peer, 6);
    static const uint8_t groups[] = {0x00, 0x02, 0x03, 0x0e};
    for (size_t g = 0; strcmp(mode, "ll") == 0 && g < sizeof groups; g++) {
        static const uint8_t base[6] = {0x01, 0x80, 0xc2, 0x00, 0x00, 0x00};
        memcpy(eth->ether_dhost, base, 6);
        eth->ether_dhost[5] = groups[g];
        memcpy(to.sll_addr, eth->ether_dhost, 6);
        if (sendto(s, frame, len, 0, (struct sockaddr *)&to, sizeof to) != (ssize_t)len) {
            perror("spoof4: sendto");
            return 1;
        }
    }
    for (int i = 0; strcmp(mode, "ll") != 0 && i < (is_arp ? 10 : 3); i++) {
        if (sendto(s, frame, len, 0, (struct sockaddr *)&to, sizeof to) != (ssize_t)len) {
            perror("spoof4: sendto");
            return 1;
        }
        if (is_arp)
            usleep(200000); /* past the peer's ARP locktime (1 s) */
    }
    printf("sent\n");
    return 0;
}
