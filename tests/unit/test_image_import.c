/* Hostile and broken archives against wr_image_import(): each is crafted
 * here with libarchive's writer; each must fail with an error naming the
 * entry (or blob), write nothing outside the store, and leave the store
 * exactly as it was (compared by a listing of every file, its type, mode,
 * size and mtime). A good archive first shows the import works at all. */
#include "image_import.h"
#include "tap.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static char tmp[256], store[300], outside[300];

struct ent {
    char type; /* f file, r file of random bytes, d dir, l symlink, h hardlink, c char device */
    const char *name;
    const char *data; /* file content; link target */
    size_t size;      /* for 'f' with data NULL: that many zero bytes */
};

/* Writes a tar of ents to path, compressed by filter ("none", "gzip", "zstd"). */
static void write_tar(const char *path, const char *filter, const struct ent *ents, size_t n)
{
    struct archive *a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    if (strcmp(filter, "gzip") == 0)
        archive_write_add_filter_gzip(a);
    else if (strcmp(filter, "zstd") == 0)
        archive_write_add_filter_zstd(a);
    if (archive_write_open_filename(a, path) != ARCHIVE_OK)
        bail_out("open %s: %s", path, archive_error_string(a));
    static char zeros[65536], noise[65536];
    for (size_t i = 0; i < sizeof noise; i++)
        noise[i] = (char)(rand() >> 7);
    for (size_t i = 0; i < n; i++) {
        struct archive_entry *e = archive_entry_new();
        const struct ent *x = &ents[i];
        archive_entry_set_pathname(e, x->name);
        archive_entry_set_mtime(e, 1600000000, 0);
        switch (x->type) {
        case 'd':
            archive_entry_set_filetype(e, AE_IFDIR);
            archive_entry_set_perm(e, 0755);
            break;
        case 'l':
            archive_entry_set_filetype(e, AE_IFLNK);
            archive_entry_set_perm(e, 0777);
            archive_entry_set_symlink(e, x->data);
            break;
        case 'h':
            archive_entry_set_filetype(e, AE_IFREG);
            archive_entry_set_perm(e, 0644);
            archive_entry_set_hardlink(e, x->data);
            break;
        case 'c':
            archive_entry_set_filetype(e, AE_IFCHR);
            archive_entry_set_perm(e, 0600);
            archive_entry_set_rdev(e, makedev(8, 0));
            break;
        default:
            archive_entry_set_filetype(e, AE_IFREG);
            archive_entry_set_perm(e, 0644);
            archive_entry_set_size(e, x->data ? (la_int64_t)strlen(x->data) : (la_int64_t)x->size);
        }
        if (archive_write_header(a, e) != ARCHIVE_OK)
            bail_out("write header %s: %s", x->name, archive_error_string(a));
        if (x->type == 'f' && x->data)
            archive_write_data(a, x->data, strlen(x->data));
        else if (x->type == 'f' || x->type == 'r')
            for (size_t left = x->size; left > 0;) {
                size_t k = left < sizeof zeros ? left : sizeof zeros;
                archive_write_data(a, x->type == 'r' ? noise : zeros, k);
                left -= k;
            }
        archive_entry_free(e);
    }
    archive_write_close(a);
    archive_write_free(a);
}

/* ---- the store listing ------------------------------------------------- */

static char *listing;
static size_t listing_len;

static int list_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)type;
    (void)ftw;
    char line[1024];
    int n = snprintf(line, sizeof line, "%s %o %lld %lld.%09ld\n", path + strlen(store),
                     (unsigned)st->st_mode, (long long)st->st_size,
                     S_ISDIR(st->st_mode) ? 0LL : (long long)st->st_mtim.tv_sec,
                     S_ISDIR(st->st_mode) ? 0L : st->st_mtim.tv_nsec);
    char *grown = realloc(listing, listing_len + (size_t)n + 1);
    if (!grown)
        return -1;
    listing = grown;
    memcpy(listing + listing_len, line, (size_t)n + 1);
    listing_len += (size_t)n;
    return 0;
}

/* Every path under the store (nftw order is stable for an unchanged tree). */
static char *store_listing(void)
{
    listing = NULL;
    listing_len = 0;
    nftw(store, list_one, 32, FTW_PHYS);
    return listing ? listing : strdup("");
}

/* ---- OCI layouts ----------------------------------------------------------- */

static void sha256_hex(const void *data, size_t len, char hex[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
    for (unsigned int i = 0; i < n; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        bail_out("open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n)
        bail_out("read %s", path);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static void put_blob(const char *dir, const void *data, size_t len, char hex[65])
{
    char path[512];
    sha256_hex(data, len, hex);
    snprintf(path, sizeof path, "%s/blobs/sha256/%s", dir, hex);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0)
        bail_out("write %s", path);
}

/* An OCI layout in dir with the given (plain tar) layers; the hex digests
 * of the layer blobs are returned in hexes. */
static void make_oci(const char *dir, const char *const *tars, size_t n, char hexes[][65])
{
    char path[512], json[8192], diff_ids[4096] = "", layers[4096] = "", hex[65];
    snprintf(path, sizeof path, "mkdir -p %s/blobs/sha256", dir);
    if (system(path) != 0)
        bail_out("mkdir %s", dir);
    for (size_t i = 0; i < n; i++) {
        size_t len;
        char *data = slurp(tars[i], &len);
        put_blob(dir, data, len, hexes[i]);
        free(data);
        snprintf(diff_ids + strlen(diff_ids), sizeof diff_ids - strlen(diff_ids), "%s\"sha256:%s\"",
                 i ? "," : "", hexes[i]);
        snprintf(layers + strlen(layers), sizeof layers - strlen(layers),
                 "%s{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\","
                 "\"digest\":\"sha256:%s\",\"size\":%zu}",
                 i ? "," : "", hexes[i], len);
    }
    snprintf(json, sizeof json,
             "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Cmd\":[\"sh\"]},"
             "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[%s]}}",
             diff_ids);
    put_blob(dir, json, strlen(json), hex);
    size_t clen = strlen(json);
    snprintf(json, sizeof json,
             "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
             "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
             "\"digest\":\"sha256:%s\",\"size\":%zu},\"layers\":[%s]}",
             hex, clen, layers);
    put_blob(dir, json, strlen(json), hex);
    snprintf(path, sizeof path, "%s/index.json", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        bail_out("write %s", path);
    fprintf(f,
            "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":"
            "\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:%s\","
            "\"size\":%zu}]}",
            hex, strlen(json));
    fclose(f);
}

/* ---- the cases ------------------------------------------------------------- */

/* Imports path as bad:1 with max_bytes; it must fail with an error that
 * contains want, and leave the store as it was. */
static void refused(const char *what, const char *path, uint64_t max_bytes, const char *want)
{
    char *before = store_listing();
    struct wr_import_opts o = {.ref = "bad:1", .max_bytes = max_bytes};
    struct wr_import_result res;
    wr_error err = {0};
    int r = wr_image_import(store, path, &o, &res, &err);
    ok(r < 0, "%s: refused", what);
    if (!ok(strstr(err.msg, want) != NULL, "%s: the error names \"%s\"", what, want))
        diag("error: %s", err.msg);
    char *after = store_listing();
    if (!ok(strcmp(before, after) == 0, "%s: the store is unchanged", what))
        diag("before:\n%s\nafter:\n%s", before, after);
    free(before);
    free(after);
}

static void tar_case(const char *what, const char *filter, const struct ent *e, size_t n,
                     const char *want)
{
    char path[512];
    snprintf(path, sizeof path, "%s/case.tar", tmp);
    write_tar(path, filter, e, n);
    refused(what, path, 0, want);
}

static bool outside_empty(void)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "test -z \"$(ls -A %s)\"", outside);
    return system(cmd) == 0;
}

int main(void)
{
    snprintf(tmp, sizeof tmp, "/tmp/wr-test-import.XXXXXX");
    if (!mkdtemp(tmp))
        bail_out("mkdtemp");
    snprintf(store, sizeof store, "%s/store", tmp);
    snprintf(outside, sizeof outside, "%s/outside", tmp);
    mkdir(outside, 0755);

    /* A good image first: the store then has content to keep intact. */
    char good[512];
    snprintf(good, sizeof good, "%s/good.tar.gz", tmp);
    const struct ent ok_ents[] = {
        {'d', "etc", NULL, 0},           {'f', "etc/hello", "hi\n", 0},
        {'h', "etc/hi", "etc/hello", 0}, {'l', "etc/link", "/etc/hello", 0},
        {'f', "etc/.wh.gone", "", 0},    {'d', "dev", NULL, 0},
        {'c', "dev/sda", NULL, 0},
    };
    write_tar(good, "gzip", ok_ents, sizeof ok_ents / sizeof ok_ents[0]);
    struct wr_import_opts o = {.ref = "good:1"};
    struct wr_import_result res;
    wr_error err = {0};
    if (!ok(wr_image_import(store, good, &o, &res, &err) == 0, "a good gzip rootfs imports"))
        diag("%s", err.msg);
    is_int((int)res.n_layers, 1, "one layer");
    /* The store holds this one layer: its directory is the only match. */
    char probe[1024];
    snprintf(probe, sizeof probe,
             "test -d %s/layers/sha256/*/root/dev && ! test -e %s/layers/sha256/*/root/dev/sda "
             "&& test -c %s/layers/sha256/*/root/etc/gone",
             store, store, store);
    ok(system(probe) == 0, "dev/sda dropped, etc/.wh.gone became a whiteout");

    const struct ent dotdot[] = {{'f', "ok", "x", 0}, {'f', "a/../../evil", "x", 0}};
    tar_case("'..' in a name", "none", dotdot, 2, "a/../../evil");
    const struct ent absolute[] = {{'f', "/etc/evil", "x", 0}};
    tar_case("an absolute name", "none", absolute, 1, "/etc/evil");

    char target[512];
    snprintf(target, sizeof target, "%s", outside);
    const struct ent through[] = {{'l', "escape", target, 0}, {'f', "escape/evil", "x", 0}};
    tar_case("a symlink out, then written through", "none", through, 2, "escape/evil");
    ok(outside_empty(), "nothing was written through the symlink");
    const struct ent through_rel[] = {{'l', "up", "../../../../../../..", 0},
                                      {'d', "up/tmp", NULL, 0}};
    tar_case("a relative symlink up, then a directory under it", "none", through_rel, 2, "up/tmp");

    const struct ent hl_out[] = {{'h', "hl", "../outside/x", 0}};
    tar_case("a hardlink to an outside target", "none", hl_out, 1, "hl");
    const struct ent hl_abs[] = {{'h', "hl", "/etc/passwd", 0}};
    tar_case("a hardlink to an absolute target", "none", hl_abs, 1, "/etc/passwd");
    const struct ent hl_missing[] = {{'h', "hl", "etc/passwd", 0}};
    tar_case("a hardlink to a file not in the archive", "none", hl_missing, 1, "etc/passwd");

    const struct ent dev[] = {{'d', "bin", NULL, 0}, {'c', "bin/sda", NULL, 0}};
    tar_case("a device node outside /dev", "none", dev, 2, "bin/sda");
    const struct ent wh_dotdot[] = {{'d', "a", NULL, 0}, {'f', "a/.wh...", "", 0}};
    tar_case("a whiteout for '..'", "none", wh_dotdot, 2, "a/.wh...");
    const struct ent dup[] = {{'f', "a", "1", 0}, {'f', "b", "2", 0}, {'f', "a", "3", 0}};
    tar_case("a duplicate entry", "none", dup, 3, "\"a\": duplicate");
    const struct ent dup_dir[] = {{'d', "d", NULL, 0}, {'d', "d/", NULL, 0}};
    tar_case("a duplicate directory", "gzip", dup_dir, 2, "duplicate");

    /* Truncated gzip, corrupt zstd. */
    char path[1024], cmd[1200];
    const struct ent big[] = {
        {'f', "one", "1", 0}, {'r', "blob", NULL, 300000}, {'f', "two", "2", 0}};
    snprintf(path, sizeof path, "%s/trunc.tar.gz", tmp);
    write_tar(path, "gzip", big, 3);
    struct stat st;
    if (stat(path, &st) < 0 || truncate(path, st.st_size / 2) < 0)
        bail_out("truncate");
    refused("truncated gzip", path, 0, "blob");
    snprintf(path, sizeof path, "%s/corrupt.tar.zst", tmp);
    const struct ent big_tail[] = {
        {'f', "one", "1", 0}, {'r', "noise", NULL, 300000}, {'f', "zeros", NULL, 300000}};
    write_tar(path, "zstd", big_tail, 3);
    if (stat(path, &st) < 0)
        bail_out("stat");
    snprintf(cmd, sizeof cmd,
             "printf 'XXXXXXXX' | dd of=%s bs=1 seek=%lld conv=notrunc status=none", path,
             (long long)st.st_size - 40);
    if (system(cmd) != 0)
        bail_out("corrupt");
    refused("corrupt zstd", path, 0, "decompression failed");

    /* A decompression bomb: 64 MiB of zeros in a few KiB of gzip. */
    const struct ent bomb[] = {{'f', "zeros", NULL, 64 << 20}};
    snprintf(path, sizeof path, "%s/bomb.tar.gz", tmp);
    write_tar(path, "gzip", bomb, 1);
    stat(path, &st);
    ok(st.st_size < 1 << 20, "the bomb is %lld bytes", (long long)st.st_size);
    refused("a decompression bomb over --max-size", path, 1 << 20,
            "\"zeros\": decompresses to more than 1048576 bytes (--max-size)");

    /* OCI layouts: a layer blob whose digest does not match, one missing,
     * and a second layer that fails after the first was stored (rollback). */
    char l1[512], l2[512], bad[512], dir[512], hexes[2][65];
    snprintf(l1, sizeof l1, "%s/l1.tar", tmp);
    snprintf(l2, sizeof l2, "%s/l2.tar", tmp);
    snprintf(bad, sizeof bad, "%s/bad.tar", tmp);
    const struct ent e1[] = {{'f', "new-in-this-test", "layer one", 0}};
    const struct ent e2[] = {{'f', "second", "layer two", 0}};
    write_tar(l1, "none", e1, 1);
    write_tar(l2, "none", e2, 1);
    write_tar(bad, "none", through, 2);

    snprintf(dir, sizeof dir, "%s/oci-mismatch", tmp);
    const char *two[] = {l1, l2};
    make_oci(dir, two, 2, hexes);
    snprintf(path, sizeof path, "%s/blobs/sha256/%s", dir, hexes[1]);
    FILE *f = fopen(path, "ab");
    fputs("tampered", f);
    fclose(f);
    refused("a blob whose digest does not match", dir, 0, hexes[1]);

    snprintf(dir, sizeof dir, "%s/oci-missing", tmp);
    make_oci(dir, two, 2, hexes);
    snprintf(path, sizeof path, "%s/blobs/sha256/%s", dir, hexes[1]);
    unlink(path);
    refused("a manifest naming a missing blob", dir, 0, "missing blob");

    snprintf(dir, sizeof dir, "%s/oci-rollback", tmp);
    const char *then_bad[] = {l1, bad};
    make_oci(dir, then_bad, 2, hexes);
    refused("a hostile second layer (the first is rolled back)", dir, 0, "escape/evil");

    /* The same layer twice (two empty RUN layers do that): flattened, as
     * overlayfs cannot stack one directory twice. */
    snprintf(dir, sizeof dir, "%s/oci-repeat", tmp);
    const char *repeat[] = {l1, l2, l1};
    char hex3[3][65];
    make_oci(dir, repeat, 3, hex3);
    struct wr_import_opts ro = {.ref = "repeat:1"};
    memset(&err, 0, sizeof err);
    if (!ok(wr_image_import(store, dir, &ro, &res, &err) == 0 && res.flattened && res.n_stored == 1,
            "an image repeating a layer imports, flattened"))
        diag("%s", err.msg);
    snprintf(probe, sizeof probe,
             "test \"$(cat %s/layers/sha256/%s/root/second)\" = 'layer two' && "
             "test -n \"$(grep -l 'sha256:' %s/images/repeat/1.json)\"",
             store, "*", store);
    ok(system(probe) == 0, "  with the content of its layers");

    /* Flattened, a layer's own opaque marker hides only what lower layers
     * had: a directory it made on the way to its files (the archive names
     * d/sub/f, never d/sub) stays. */
    char lo[600], hi[600];
    snprintf(lo, sizeof lo, "%s/flat-lower.tar", tmp);
    snprintf(hi, sizeof hi, "%s/flat-upper.tar", tmp);
    const struct ent lower[] = {{'d', "d", NULL, 0}, {'f', "d/old", "old", 3}};
    const struct ent upper[] = {{'f', "d/sub/f", "new", 3}, {'f', "d/.wh..wh..opq", "", 0}};
    write_tar(lo, "none", lower, 2);
    write_tar(hi, "none", upper, 2);
    snprintf(dir, sizeof dir, "%s/oci-flat-opaque", tmp);
    const char *flat[] = {lo, hi};
    char hex2[2][65];
    make_oci(dir, flat, 2, hex2);
    struct wr_import_opts fo = {.ref = "flatopq:1", .flatten = true};
    memset(&err, 0, sizeof err);
    if (!ok(wr_image_import(store, dir, &fo, &res, &err) == 0 && res.flattened,
            "an opaque directory over an implicit one imports, flattened"))
        diag("%s", err.msg);
    snprintf(probe, sizeof probe,
             "for l in %s/layers/sha256/*/root; do test -f $l/d/sub/f && ! test -e $l/d/old && "
             "exit 0; done; exit 1",
             store);
    ok(system(probe) == 0, "  keeps the layer's own d/sub/f and drops the lower d/old");

    /* Deeper than the store walks with one descriptor per level. */
    static char deep[2 * (WR_LAYER_MAX_DEPTH + 2) + 2];
    size_t k = 0;
    for (int i = 0; i <= WR_LAYER_MAX_DEPTH; i++) {
        deep[k++] = 'a';
        deep[k++] = '/';
    }
    deep[k++] = 'f';
    deep[k] = '\0';
    const struct ent too_deep[] = {{'f', deep, "x", 1}};
    tar_case("more directory levels than the bound", "none", too_deep, 1, "directory levels");

    snprintf(path, sizeof path, "%s/not-a-tar", tmp);
    f = fopen(path, "w");
    fputs("just some text\n", f);
    fclose(f);
    refused("a file that is not an archive", path, 0, "import");

    ok(outside_empty(), "nothing was written outside the store");
    if (getenv("KEEP_TMP") == NULL)
        tap_rm_tree(tmp);
    return done_testing();
}
