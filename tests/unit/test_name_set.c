/* The layer unpacker's set of entry names (rootfs-tools/name_set.c): a
 * table indexed by SipHash-2-4 under a key of its own. Names crafted to
 * fall into one bucket of the table's former index (FNV-1a, unkeyed) must
 * spread under the keyed one, and the same name must hash differently
 * under two keys: no author of an archive can compute its buckets. */
#include "name_set.h"
#include "tap.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>

#define N_NAMES     4096
#define BUCKET_BITS 13 /* the table of 4096 names: 8192 slots, at most half full */

/* The unpacker's former index, as it was (its offset basis is FNV's
 * 14695981039346656037 without its last digit). */
static uint64_t old_fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static char names[N_NAMES][16];

/* N_NAMES names whose old index agrees in its low BUCKET_BITS bits (every
 * table of up to 2^BUCKET_BITS slots puts them all in bucket 0): brute force
 * on the bucket index, ~2^13 tries a name. */
static void craft_names(void)
{
    uint64_t mask = (1ULL << BUCKET_BITS) - 1;
    int n = 0;
    for (uint32_t i = 0; n < N_NAMES; i++) {
        char c[16] = "n";
        for (int d = 0; d < 8; d++) /* "n%08x", without snprintf's cost */
            c[1 + d] = "0123456789abcdef"[(i >> (28 - 4 * d)) & 15];
        if ((old_fnv1a(c) & mask) == 0)
            memcpy(names[n++], c, sizeof c);
    }
}

/* The longest run of occupied slots: what a probe may have to walk. */
static size_t longest_run(const struct wr_name_set *s)
{
    size_t best = 0, run = 0;
    for (size_t i = 0; i < 2 * s->cap; i++) { /* twice round: a run may wrap */
        run = s->names[i % s->cap] ? run + 1 : 0;
        if (run > best)
            best = run;
    }
    return best < s->cap ? best : s->cap;
}

int main(void)
{
    wr_error err = {0};
    unsigned char key_a[WR_NAME_SET_KEY_SIZE], key_b[WR_NAME_SET_KEY_SIZE];
    for (int i = 0; i < WR_NAME_SET_KEY_SIZE; i++) {
        key_a[i] = (unsigned char)i;
        key_b[i] = (unsigned char)(0x80 + i);
    }
    struct wr_name_set a, b;
    if (wr_name_set_init(&a, key_a, &err) < 0 || wr_name_set_init(&b, key_b, &err) < 0)
        bail_out("init: %s", err.msg);

    /* SipHash-2-4, 64-bit output, key 00..0f, the empty message: the first
     * of the reference vectors (the SipHash paper's appendix, vectors.h). */
    uint64_t h1 = 0, h2 = 0;
    int rc = wr_name_set_hash(&a, "", &h1, &err);
    ok(rc == 0 && h1 == 0x726fdb47dd0e0e31ULL,
       "SipHash-2-4 of the empty message under key 00..0f is the reference's (%016" PRIx64 ")", h1);
    wr_name_set_hash(&a, "etc/passwd", &h1, &err);
    wr_name_set_hash(&a, "etc/passwd", &h2, &err);
    ok(h1 == h2, "the same key hashes a name the same twice");
    wr_name_set_hash(&b, "etc/passwd", &h2, &err);
    ok(h1 != h2, "two keys hash the same name differently (%016" PRIx64 ", %016" PRIx64 ")", h1,
       h2);

    craft_names();
    int old_bucket0 = 0, same_under_two_keys = 0;
    for (int i = 0; i < N_NAMES; i++) {
        old_bucket0 += (old_fnv1a(names[i]) & ((1ULL << BUCKET_BITS) - 1)) == 0;
        wr_name_set_hash(&a, names[i], &h1, &err);
        wr_name_set_hash(&b, names[i], &h2, &err);
        same_under_two_keys += h1 == h2;
        if (wr_name_set_put(&a, names[i], 'f', &err) < 0)
            bail_out("put: %s", err.msg);
    }
    is_int(old_bucket0, N_NAMES, "%d crafted names all in bucket 0 of the old unkeyed index",
           N_NAMES);
    is_int(same_under_two_keys, 0, "none of them hashes the same under two keys");
    is_int((int)a.n, N_NAMES, "the set holds them all");
    is_int((int)a.cap, 1 << BUCKET_BITS, "in a table of 2^%d slots", BUCKET_BITS);
    /* Under the old index they made one run of 4096 slots (each put walked
     * all earlier ones: quadratic). Half full, random buckets: runs of tens. */
    size_t run = longest_run(&a);
    ok(run < 200, "under the keyed index they spread: longest run of occupied slots %zu", run);
    size_t used = 0;
    for (size_t i = 0; i < a.cap; i++)
        used += a.names[i] && (a.hashes[i] & (a.cap - 1)) == i;
    ok(used > N_NAMES / 2, "%zu of them sit in their own home bucket", used);

    /* The set itself. */
    int all_found = 1;
    for (int i = 0; i < N_NAMES; i++)
        all_found &= wr_name_set_get(&a, names[i], &err) == 'f';
    ok(all_found, "every name is found with its type");
    is_int(wr_name_set_get(&a, "n-not-there", &err), 0, "a name never put is not found");
    is_int(wr_name_set_get(&b, "anything", &err), 0, "an empty set finds nothing");
    ok(wr_name_set_put(&a, names[7], 'w', &err) == 0 && wr_name_set_get(&a, names[7], &err) == 'w',
       "putting a name again sets its type");
    is_int((int)a.n, N_NAMES, "  and adds no entry");

    /* A key of getrandom(2): two sets, two keys. */
    struct wr_name_set r1, r2;
    if (wr_name_set_init(&r1, NULL, &err) < 0 || wr_name_set_init(&r2, NULL, &err) < 0)
        bail_out("init: %s", err.msg);
    int differ = 0;
    for (int i = 0; i < 16; i++) {
        wr_name_set_hash(&r1, names[i], &h1, &err);
        wr_name_set_hash(&r2, names[i], &h2, &err);
        differ += h1 != h2;
    }
    is_int(differ, 16, "two sets keyed from getrandom(2) hash the same names differently");
    wr_name_set_free(&r1);
    wr_name_set_free(&r2);
    wr_name_set_free(&a);
    wr_name_set_free(&b);
    wr_name_set_free(&b); /* a freed set frees again harmlessly */
    return done_testing();
}
