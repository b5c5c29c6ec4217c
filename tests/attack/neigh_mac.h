/* The MAC of a neighbour on eth0, for the attack helpers (spoof4.c,
 * spoof6.c): a datagram to ADDR makes the kernel resolve it, then
 * /proc/net/arp has it. Returns 0, or -1 after 5 s. */
#ifndef WARMRUN_ATTACK_NEIGH_MAC_H
#define WARMRUN_ATTACK_NEIGH_MAC_H

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int neigh_mac(const char *gw, uint8_t mac[6])
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(9)};
    inet_pton(AF_INET, gw, &sa.sin_addr);
    for (int tries = 0; tries < 50; tries++) {
        int s = socket(AF_INET, SOCK_DGRAM, 0);
        sendto(s, "x", 1, 0, (struct sockaddr *)&sa, sizeof sa);
        close(s);
        usleep(100000);
        FILE *f = fopen("/proc/net/arp", "r");
        char line[256], ip[64], hw[64];
        unsigned flags;
        while (f && fgets(line, sizeof line, f))
            if (sscanf(line, "%63s %*s %x %63s", ip, &flags, hw) == 3 && strcmp(ip, gw) == 0 &&
                (flags & 2) &&
                sscanf(hw, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1], &mac[2], &mac[3],
                       &mac[4], &mac[5]) == 6) {
                fclose(f);
                return 0;
            }
        if (f)
            fclose(f);
    }
    return -1;
}

/* A packet socket for ethertype proto on eth0: its index and MAC in ifr
 * and hw. Returns the socket, or -1 (perror'd). */
static int eth0_packet_socket(uint16_t proto, struct ifreq *ifr, struct ifreq *hw)
{
    int s = socket(AF_PACKET, SOCK_RAW, htons(proto));
    memset(ifr, 0, sizeof *ifr);
    snprintf(ifr->ifr_name, sizeof ifr->ifr_name, "eth0");
    *hw = *ifr;
    if (s < 0 || ioctl(s, SIOCGIFINDEX, ifr) < 0 || ioctl(s, SIOCGIFHWADDR, hw) < 0) {
        perror("packet socket on eth0");
        return -1;
    }
    return s;
}

#endif
