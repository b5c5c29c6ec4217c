/* nftables set elements through raw nfnetlink, in one batch (one
 * nftables transaction: all or nothing), with no library: the shim, which
 * adds a container's anti-spoofing elements on the fill path, is linked
 * statically (Debian ships no static libmnl or libnftnl), and a run of
 * nft(8) or libnftables costs milliseconds (it reads the table first)
 * where one batch costs tens of microseconds. The kernel's interface:
 * include/uapi/linux/netfilter/nf_tables.h and nfnetlink.h. Keys and
 * values are the bytes nft(8) sends (`nft --debug=netlink`): network byte
 * order, each field of a concatenation padded to 4 bytes, an ifname 16
 * bytes with NULs. */
#ifndef WARMRUN_NFT_BATCH_H
#define WARMRUN_NFT_BATCH_H

#include "error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WR_NFT_KEY_MAX 32

struct wr_nft_elem {
    const char *set;             /* the set's or map's name */
    uint8_t key[WR_NFT_KEY_MAX]; /* its key's bytes */
    size_t klen;
    uint8_t val[WR_NFT_KEY_MAX]; /* a map's value; vlen 0: a set */
    size_t vlen;
    const char *comment; /* NULL: none (nft's user data, type 0) */
};

/* Adds (create: an existing key fails the whole batch, EEXIST) or deletes
 * the n elements in table of family (NFPROTO_IPV4, NFPROTO_BRIDGE) in one
 * batch. 0, or -1: err->errnum is the kernel's first error (EEXIST,
 * ENOENT: no such element, table or set) or the socket's. n at most 16. */
int wr_nft_elems(uint8_t family, const char *table, bool add, const struct wr_nft_elem *e, size_t n,
                 wr_error *err);

/* The key of "IFNAME . ETHER . IPV4" (a bridge table's anti-spoofing set):
 * 28 bytes. mac: 6 bytes; addr: host byte order. */
void wr_nft_key_guard(struct wr_nft_elem *e, const char *ifname, const uint8_t mac[6],
                      uint32_t addr);
/* The key of "IFNAME": 16 bytes. */
void wr_nft_key_ifname(struct wr_nft_elem *e, const char *ifname);

#endif
