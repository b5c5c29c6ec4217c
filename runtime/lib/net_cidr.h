/* IPv4 addresses and CIDR blocks (RFC 4632) as the network records and
 * IPAM use them: host byte order, parsed strictly. */
#ifndef WARMRUN_NET_CIDR_H
#define WARMRUN_NET_CIDR_H

#include "error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WR_IPV4_TEXT 16 /* "255.255.255.255" and its NUL */
#define WR_CIDR_TEXT 19 /* "255.255.255.255/32" and its NUL */

struct wr_cidr {
    uint32_t addr; /* the network address, host byte order */
    unsigned prefix;
};

/* "A.B.C.D" (four decimal octets, no leading zeros beyond "0"). */
int wr_ipv4_parse(const char *s, uint32_t *out, wr_error *err);
/* out: WR_IPV4_TEXT bytes. */
void wr_ipv4_format(uint32_t addr, char *out);
/* "A.B.C.D/N" with N from 8 to 30 (room for a gateway and at least one
 * container) and no host bits set, as Docker's `network create --subnet`
 * insists. Errors name the input. */
int wr_cidr_parse(const char *s, struct wr_cidr *out, wr_error *err);
/* out: WR_CIDR_TEXT bytes. */
void wr_cidr_format(const struct wr_cidr *c, char *out);
uint32_t wr_cidr_mask(const struct wr_cidr *c);
bool wr_cidr_contains(const struct wr_cidr *c, uint32_t addr);
bool wr_cidr_overlap(const struct wr_cidr *a, const struct wr_cidr *b);
/* The addresses containers may get: network + 2 .. broadcast - 1 (network
 * + 1 is the gateway, the bridge's own address). */
uint32_t wr_cidr_first_host(const struct wr_cidr *c);
uint32_t wr_cidr_last_host(const struct wr_cidr *c);

#endif
