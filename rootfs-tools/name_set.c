/* The set of entry names of one layer, keyed by SipHash; see name_set.h. */
#include "name_set.h"

#include <errno.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define FIRST_CAP 1024

int wr_name_set_init(struct wr_name_set *s, const unsigned char *key, wr_error *err)
{
    memset(s, 0, sizeof *s);
    unsigned char drawn[WR_NAME_SET_KEY_SIZE];
    if (!key) {
        /* 16 bytes from the urandom pool: getrandom never returns fewer
         * than 256 bytes asked for once the pool is initialised. */
        if (getrandom(drawn, sizeof drawn, 0) != (ssize_t)sizeof drawn)
            return wr_error_set(err, errno ? errno : EIO, "getrandom");
        key = drawn;
    }
    EVP_MAC *siphash = EVP_MAC_fetch(NULL, "SIPHASH", NULL);
    if (!siphash)
        return wr_error_set(err, EIO, "OpenSSL has no SipHash");
    s->mac = EVP_MAC_CTX_new(siphash);
    EVP_MAC_free(siphash); /* the context holds its own reference */
    size_t size = 8;       /* SipHash-2-4 with its 64-bit output (default: 128) */
    OSSL_PARAM params[] = {OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &size),
                           OSSL_PARAM_construct_end()};
    int ok = s->mac && EVP_MAC_init(s->mac, key, WR_NAME_SET_KEY_SIZE, params);
    explicit_bzero(drawn, sizeof drawn);
    if (!ok)
        return wr_error_set(err, s->mac ? EIO : ENOMEM, "SipHash key");
    return 0;
}

int wr_name_set_hash(struct wr_name_set *s, const char *name, uint64_t *hash, wr_error *err)
{
    unsigned char out[8];
    size_t len = 0;
    /* No key: the one given at init, whose state OpenSSL keeps (cheap: a
     * copy of four words). */
    if (!EVP_MAC_init(s->mac, NULL, 0, NULL) ||
        !EVP_MAC_update(s->mac, (const unsigned char *)name, strlen(name)) ||
        !EVP_MAC_final(s->mac, out, &len, sizeof out))
        return wr_error_set(err, EIO, "SipHash");
    uint64_t h = 0;
    for (int i = 7; i >= 0; i--)
        h = h << 8 | out[i];
    *hash = h;
    return 0;
}

/* The slot of name (hash h): where it is, or the empty one where it goes. */
static size_t slot(const struct wr_name_set *s, const char *name, uint64_t h)
{
    size_t i = h & (s->cap - 1);
    while (s->names[i] && (s->hashes[i] != h || strcmp(s->names[i], name) != 0))
        i = (i + 1) & (s->cap - 1);
    return i;
}

int wr_name_set_get(struct wr_name_set *s, const char *name, wr_error *err)
{
    uint64_t h;
    if (wr_name_set_hash(s, name, &h, err) < 0)
        return -1;
    if (s->cap == 0)
        return 0;
    size_t i = slot(s, name, h);
    return s->names[i] ? (unsigned char)s->types[i] : 0;
}

static int grow(struct wr_name_set *s, wr_error *err)
{
    struct wr_name_set g = {.mac = s->mac, .cap = s->cap ? 2 * s->cap : FIRST_CAP, .n = s->n};
    g.names = calloc(g.cap, sizeof *g.names);
    g.hashes = calloc(g.cap, sizeof *g.hashes);
    g.types = calloc(g.cap, 1);
    if (!g.names || !g.hashes || !g.types) {
        free(g.names);
        free(g.hashes);
        free(g.types);
        return wr_error_set(err, ENOMEM, "name set");
    }
    for (size_t i = 0; i < s->cap; i++)
        if (s->names[i]) {
            size_t j = slot(&g, s->names[i], s->hashes[i]);
            g.names[j] = s->names[i];
            g.hashes[j] = s->hashes[i];
            g.types[j] = s->types[i];
        }
    free(s->names);
    free(s->hashes);
    free(s->types);
    *s = g;
    return 0;
}

int wr_name_set_put(struct wr_name_set *s, const char *name, char type, wr_error *err)
{
    uint64_t h;
    if (wr_name_set_hash(s, name, &h, err) < 0)
        return -1;
    if (2 * (s->n + 1) > s->cap && grow(s, err) < 0)
        return -1;
    size_t i = slot(s, name, h);
    if (!s->names[i]) {
        if (!(s->names[i] = strdup(name)))
            return wr_error_set(err, ENOMEM, "name set");
        s->hashes[i] = h;
        s->n++;
    }
    s->types[i] = type;
    return 0;
}

void wr_name_set_free(struct wr_name_set *s)
{
    for (size_t i = 0; i < s->cap; i++)
        free(s->names[i]);
    free(s->names);
    free(s->hashes);
    free(s->types);
    EVP_MAC_CTX_free(s->mac);
    memset(s, 0, sizeof *s);
}
