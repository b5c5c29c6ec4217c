/* The set of entry names one layer's archive has named (layer_unpack.c:
 * "the same name twice is an error", hardlink targets, whiteouts), with a
 * one-character type per name.
 *
 * An open-addressing table (linear probing, at most half full) whose index
 * is SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input
 * PRF", 2012; OpenSSL's EVP_MAC "SIPHASH", 64-bit output) under a 128-bit
 * key drawn from getrandom(2) for each set. The archive is the image
 * author's: with an unkeyed hash (FNV-1a until now) an author could
 * precompute names that all fall into one bucket, and a layer of 2^22 such
 * names (the entry bound) would make its import quadratic, hours of CPU
 * (docs/benchmarks.md, "Image import: a keyed name table"). Under a secret
 * key the buckets of names cannot be computed in advance. Each name's hash
 * is kept beside it: growing the table does not hash again, and a probe
 * compares the hashes before the strings. */
#ifndef WARMRUN_NAME_SET_H
#define WARMRUN_NAME_SET_H

#include "lib/error.h"

#include <stddef.h>
#include <stdint.h>

#define WR_NAME_SET_KEY_SIZE 16 /* bytes: SipHash's 128-bit key */

struct evp_mac_ctx_st;

struct wr_name_set {
    struct evp_mac_ctx_st *mac; /* SipHash-2-4, keyed once */
    char **names;
    uint64_t *hashes;
    char *types;
    size_t cap, n; /* cap: 0 or a power of two, >= 2 * n */
};

/* Makes an empty set keyed with key (WR_NAME_SET_KEY_SIZE bytes), or with
 * a key of getrandom(2) when key is NULL (what the unpacker does: the key
 * is never stored nor shown). Errors: ENOMEM, getrandom's, EIO when
 * OpenSSL has no SipHash. Free with wr_name_set_free, also after an
 * error. */
int wr_name_set_init(struct wr_name_set *s, const unsigned char *key, wr_error *err);

/* The 64-bit SipHash-2-4 of name (its bytes up to the NUL) under the set's
 * key, little-endian as the reference code's output. Errors: EIO when
 * OpenSSL's MAC fails. */
int wr_name_set_hash(struct wr_name_set *s, const char *name, uint64_t *hash, wr_error *err);

/* The type name was put with (a nonzero char), 0 when the set has not got
 * it, -1 on error (wr_name_set_hash's). */
int wr_name_set_get(struct wr_name_set *s, const char *name, wr_error *err);

/* Puts name with type (nonzero), or sets the type of a name the set has.
 * Errors: ENOMEM, wr_name_set_hash's. */
int wr_name_set_put(struct wr_name_set *s, const char *name, char type, wr_error *err);

void wr_name_set_free(struct wr_name_set *s);

#endif
