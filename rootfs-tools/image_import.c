/* Image import; see image_import.h. */
#include "image_import.h"

#include "lib/cleanup.h"
#include "image_source.h"
#include "lib/image_store.h"
#include "layer_unpack.h"
#include "store_admin.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define COPY_CHUNK  (128 * 1024)
#define SCAN_MAX    100000 /* entries looked at to tell an image archive */
#define FLAT_DIGEST "warmrun-flat-v1"

/* What one import has done so far, to undo on failure. */
struct import {
    const char *root;
    const struct wr_import_opts *o;
    struct wr_import_result *res;
    char (*added)[WR_DIGEST_HEX_LEN + 1]; /* layers this import put in the store */
    size_t n_added;
    size_t layer, n_total; /* for progress */
    uint64_t stream_bytes; /* decompressed bytes of the last layer unpacked */
};

static void progress_cb(void *arg, uint64_t bytes)
{
    struct import *im = arg;
    if (im->o->progress)
        im->o->progress(im->o->progress_arg, im->layer, im->n_total, bytes);
}

static void rollback(struct import *im)
{
    wr_error ignored;
    for (size_t i = 0; i < im->n_added; i++)
        wr_store_layer_remove(im->root, im->added[i], &ignored);
    im->n_added = 0;
}

/* ---- layers ----------------------------------------------------------- */

/* A staging directory for one layer: dir (owned) and an fd on its root/. */
static int stage(struct import *im, char **dir, wr_error *err)
{
    if (wr_store_stage(im->root, dir, err) < 0)
        return -1;
    cleanup_free char *tree = NULL;
    if (asprintf(&tree, "%s/root", *dir) < 0) {
        tree = NULL;
        return wr_error_set(err, ENOMEM, "stage");
    }
    int fd = open(tree, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return wr_error_set(err, errno, "open %s", tree);
    return fd;
}

static void unstage(char **dir)
{
    if (*dir) {
        wr_store_unstage(*dir);
        free(*dir);
        *dir = NULL;
    }
}

/* Moves a staged layer into the store under hex; remembers it when new. */
static int install(struct import *im, char **dir, const char *hex, wr_error *err)
{
    bool existed = false;
    if (wr_store_layer_install(im->root, *dir, hex, &existed, err) < 0)
        return -1;
    free(*dir);
    *dir = NULL;
    if (!existed) {
        void *grown = realloc(im->added, (im->n_added + 1) * sizeof *im->added);
        if (!grown)
            return wr_error_set(err, ENOMEM, "import");
        im->added = grown;
        snprintf(im->added[im->n_added++], WR_DIGEST_HEX_LEN + 1, "%s", hex);
        im->res->new_layers++;
    }
    return 0;
}

/* Unpacks fd into rootfd, checks the diff_id when one is expected. */
static int unpack(struct import *im, int fd, int rootfd, enum wr_unpack_mode mode,
                  const char *expect_diff, const char *what, char diff_id[WR_DIGEST_SIZE],
                  wr_error *err)
{
    struct wr_unpack_opts uo = {
        .mode = mode,
        .max_bytes = im->o->max_bytes,
        .progress = progress_cb,
        .progress_arg = im,
    };
    struct wr_unpack_stats st;
    if (wr_unpack_fd(fd, rootfd, &uo, &st, err) < 0)
        return wr_error_prefix(err, "%s", what);
    if (expect_diff && expect_diff[0] && strcmp(expect_diff, st.diff_id) != 0)
        return wr_error_set(err, EINVAL,
                            "%s: diff_id mismatch: the config says %s, the layer is %s", what,
                            expect_diff, st.diff_id);
    im->stream_bytes = st.stream_bytes;
    if (mode != WR_UNPACK_PLAIN)
        im->res->size += st.file_bytes;
    if (diff_id)
        memcpy(diff_id, st.diff_id, WR_DIGEST_SIZE);
    return 0;
}

/* ---- the manifest ------------------------------------------------------- */

static int write_manifest(struct import *im, const struct wr_image_plan *p, char **layer_ids,
                          size_t n, wr_error *err)
{
    cleanup_free char *name = NULL, *tag = NULL;
    if (wr_image_ref_parse(im->res->ref, &name, &tag, err) < 0)
        return -1;
    const struct wr_manifest m = {
        .name = name,
        .tag = tag,
        .layers = (const char *const *)layer_ids,
        .n_layers = n,
        .entrypoint = p ? (const char *const *)p->entrypoint : NULL,
        .cmd = p ? (const char *const *)p->cmd : NULL,
        .env = p ? (const char *const *)p->env : NULL,
        .workdir = p ? p->workdir : NULL,
        .user = p ? p->user : NULL,
        .labels = p ? (const char *const *)p->labels : NULL,
        .size = im->res->size,
    };
    return wr_store_manifest_write(im->root, &m, im->res->id, err);
}

static int set_ref(struct import *im, const char *archive_ref, wr_error *err)
{
    const char *ref = im->o->ref ? im->o->ref : archive_ref;
    if (!ref)
        return wr_error_set(err, EINVAL,
                            "the image has no name of its own: give --name NAME[:TAG]");
    cleanup_free char *name = NULL, *tag = NULL;
    if (wr_image_ref_parse(ref, &name, &tag, err) < 0)
        return -1;
    snprintf(im->res->ref, sizeof im->res->ref, "%s:%s", name, tag);
    return 0;
}

/* ---- a flat rootfs ------------------------------------------------------ */

static int import_flat(struct import *im, int fd, wr_error *err)
{
    if (set_ref(im, NULL, err) < 0)
        return -1;
    cleanup_free char *dir = NULL;
    cleanup_close int rootfd = stage(im, &dir, err);
    char diff_id[WR_DIGEST_SIZE];
    im->layer = im->n_total = 1;
    int r = rootfd < 0 ? -1 : unpack(im, fd, rootfd, WR_UNPACK_LAYER, NULL, "rootfs", diff_id, err);
    if (r == 0)
        r = install(im, &dir, diff_id + 7, err);
    unstage(&dir);
    if (r < 0)
        return -1;
    im->res->n_layers = im->res->n_stored = 1;
    char *ids[] = {diff_id, NULL};
    return write_manifest(im, NULL, ids, 1, err);
}

/* A directory, made into a tar (in an unnamed file of the store's tmp/) by
 * libarchive's disk reader: hardlinks, xattrs and owners carried as a tar
 * would carry them, then imported as a flat rootfs. */
static int dir_to_tar(const char *src, int out, uint64_t max, wr_error *err)
{
    struct archive *disk = archive_read_disk_new();
    struct archive *w = archive_write_new();
    struct archive_entry_linkresolver *lr = archive_entry_linkresolver_new();
    struct archive_entry *e = NULL, *sparse = NULL;
    cleanup_free char *buf = malloc(COPY_CHUNK);
    uint64_t total = 0;
    size_t plen = strlen(src);
    int ret = -1;
    if (!disk || !w || !lr || !buf) {
        wr_error_set(err, ENOMEM, "read %s", src);
        goto out;
    }
    archive_read_disk_set_symlink_physical(disk);
    archive_read_disk_set_behavior(disk, ARCHIVE_READDISK_NO_TRAVERSE_MOUNTS |
                                             ARCHIVE_READDISK_NO_ACL | ARCHIVE_READDISK_NO_FFLAGS);
    if (archive_write_set_format_pax_restricted(w) != ARCHIVE_OK ||
        archive_write_open_fd(w, out) != ARCHIVE_OK ||
        archive_read_disk_open(disk, src) != ARCHIVE_OK) {
        wr_error_set(err, 0, "%s: %s", src, archive_error_string(disk) ?: "cannot read");
        goto out;
    }
    archive_entry_linkresolver_set_strategy(lr, archive_format(w));
    for (;;) {
        e = archive_entry_new();
        int r = archive_read_next_header2(disk, e);
        if (r == ARCHIVE_EOF)
            break;
        if (r < ARCHIVE_WARN) {
            wr_error_set(err, 0, "%s: %s", src, archive_error_string(disk));
            goto out;
        }
        archive_read_disk_descend(disk);
        const char *p = archive_entry_pathname(e);
        const char *rel = p && strncmp(p, src, plen) == 0 ? p + plen : p;
        while (rel && *rel == '/')
            rel++;
        cleanup_free char *name = strdup(rel && *rel ? rel : ".");
        if (!name) {
            wr_error_set(err, ENOMEM, "read %s", src);
            goto out;
        }
        archive_entry_copy_pathname(e, name);
        archive_entry_set_uname(e, NULL);
        archive_entry_set_gname(e, NULL);
        archive_entry_linkify(lr, &e, &sparse);
        if (!e)
            continue;
        if (archive_write_header(w, e) < ARCHIVE_WARN) {
            wr_error_set(err, 0, "\"%s\": %s", name, archive_error_string(w));
            goto out;
        }
        if (archive_entry_filetype(e) == AE_IFREG && archive_entry_size(e) > 0) {
            la_ssize_t n;
            while ((n = archive_read_data(disk, buf, COPY_CHUNK)) > 0) {
                total += (uint64_t)n;
                if (total > max) {
                    wr_error_set(err, EFBIG,
                                 "\"%s\": the directory holds more than %llu bytes "
                                 "(--max-size)",
                                 name, (unsigned long long)max);
                    goto out;
                }
                if (archive_write_data(w, buf, (size_t)n) < 0) {
                    wr_error_set(err, 0, "\"%s\": %s", name, archive_error_string(w));
                    goto out;
                }
            }
            if (n < 0) {
                wr_error_set(err, 0, "\"%s\": %s", name, archive_error_string(disk));
                goto out;
            }
        }
        archive_entry_free(e);
        e = NULL;
    }
    if (archive_write_close(w) != ARCHIVE_OK) {
        wr_error_set(err, 0, "%s", archive_error_string(w));
        goto out;
    }
    ret = 0;
out:
    archive_entry_free(e);
    archive_entry_free(sparse);
    if (lr)
        archive_entry_linkresolver_free(lr);
    if (w)
        archive_write_free(w);
    if (disk)
        archive_read_free(disk);
    return ret;
}

static int import_rootfs_dir(struct import *im, const char *path, wr_error *err)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%.*s/tmp", wr_store_root_len(im->root), im->root);
    cleanup_close int fd = open(tmp, O_RDWR | O_TMPFILE | O_CLOEXEC, 0600);
    if (fd < 0)
        return wr_error_set(err, errno, "create a temporary file in %s", tmp);
    uint64_t max = im->o->max_bytes ? im->o->max_bytes : WR_UNPACK_DEFAULT_MAX_BYTES;
    if (dir_to_tar(path, fd, max, err) < 0 || lseek(fd, 0, SEEK_SET) < 0)
        return wr_error_prefix(err, "read the directory");
    im->res->format = "directory";
    return import_flat(im, fd, err);
}

/* ---- image archives ----------------------------------------------------- */

static bool lowerdir_fits(const char *root, size_t n)
{
    size_t one = (size_t)wr_store_root_len(root) + strlen("/layers/sha256/") + WR_DIGEST_HEX_LEN +
                 strlen("/root") + 1;
    return n <= WR_IMPORT_MAX_LAYERS && n * one <= WR_LOWERDIR_MAX;
}

static int open_layer(int dirfd, const struct wr_plan_layer *l, size_t i, wr_error *err)
{
    int fd = wr_open_beneath(dirfd, l->path, err);
    if (fd < 0)
        return wr_error_prefix(err, "layer %zu: missing blob", i + 1);
    if (l->digest[0] && wr_verify_digest(fd, l->digest, l->path, err) < 0) {
        close(fd);
        return wr_error_prefix(err, "layer %zu", i + 1);
    }
    return fd;
}

/* One stored layer per image layer. */
static int import_layers(struct import *im, int dirfd, const struct wr_image_plan *p, char **ids,
                         wr_error *err)
{
    for (size_t i = 0; i < p->n_layers; i++) {
        char what[64], diff_id[WR_DIGEST_SIZE];
        snprintf(what, sizeof what, "layer %zu", i + 1);
        im->layer = i + 1;
        cleanup_close int fd = open_layer(dirfd, &p->layers[i], i, err);
        if (fd < 0)
            return -1;
        cleanup_free char *dir = NULL;
        cleanup_close int rootfd = stage(im, &dir, err);
        int r = rootfd < 0 ? -1
                           : unpack(im, fd, rootfd, WR_UNPACK_LAYER, p->layers[i].diff_id, what,
                                    diff_id, err);
        if (r == 0)
            r = install(im, &dir, diff_id + 7, err);
        unstage(&dir);
        if (r < 0)
            return -1;
        if (!(ids[i] = strdup(diff_id)))
            return wr_error_set(err, ENOMEM, "import");
    }
    return 0;
}

/* The first layer of the plan with layer i's diff_id: i itself unless i
 * repeats an earlier one. */
static size_t first_of(const struct wr_image_plan *p, size_t i)
{
    for (size_t j = 0; p->layers[i].diff_id[0] && j < i; j++)
        if (strcmp(p->layers[i].diff_id, p->layers[j].diff_id) == 0)
            return j;
    return i;
}

/* A repeated layer is the same blob (its digest or diff_id checked), so it
 * decompresses to what its first unpack did: the repeats of one image may
 * add up to --max-size together, checked before each is unpacked again.
 * The legitimate repeats are empty layers; before, a 260 KiB archive naming
 * one 256 MiB layer 4,096 times made the import decompress 1 TiB. */
static int repeat_check(struct import *im, const struct wr_image_plan *p, size_t i,
                        const uint64_t *bytes, uint64_t *repeated, wr_error *err)
{
    size_t first = first_of(p, i);
    if (first == i)
        return 0;
    uint64_t max = im->o->max_bytes ? im->o->max_bytes : WR_UNPACK_DEFAULT_MAX_BYTES;
    *repeated += bytes[first];
    if (*repeated > max)
        return wr_error_set(err, EFBIG,
                            "layer %zu: the layers the image lists again (here layer %zu) "
                            "decompress to more than %llu bytes together (--max-size)",
                            i + 1, first + 1, (unsigned long long)max);
    return 0;
}

/* All layers merged into one; its id is the sha256 of the diff_ids. */
static int import_flattened(struct import *im, int dirfd, const struct wr_image_plan *p, char **ids,
                            wr_error *err)
{
    cleanup_free uint64_t *bytes = calloc(p->n_layers ? p->n_layers : 1, sizeof *bytes);
    uint64_t repeated = 0;
    if (!bytes)
        return wr_error_set(err, ENOMEM, "import");
    cleanup_free char *dir = NULL;
    cleanup_close int rootfd = stage(im, &dir, err);
    int r = rootfd < 0 ? -1 : 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (r == 0 && (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) ||
                   !EVP_DigestUpdate(ctx, FLAT_DIGEST, sizeof FLAT_DIGEST)))
        r = wr_error_set(err, EIO, "sha256 failed");
    for (size_t i = 0; r == 0 && i < p->n_layers; i++) {
        char what[64], diff_id[WR_DIGEST_SIZE];
        snprintf(what, sizeof what, "layer %zu", i + 1);
        im->layer = i + 1;
        if (repeat_check(im, p, i, bytes, &repeated, err) < 0) {
            r = -1;
            break;
        }
        int fd = open_layer(dirfd, &p->layers[i], i, err);
        r = fd < 0
                ? -1
                : unpack(im, fd, rootfd, WR_UNPACK_MERGE, p->layers[i].diff_id, what, diff_id, err);
        if (fd >= 0)
            close(fd);
        bytes[i] = im->stream_bytes;
        if (r == 0 && !EVP_DigestUpdate(ctx, diff_id, strlen(diff_id) + 1))
            r = wr_error_set(err, EIO, "sha256 failed");
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    char id[WR_DIGEST_SIZE] = "sha256:";
    if (r == 0 && (!EVP_DigestFinal_ex(ctx, md, &len) || len != 32))
        r = wr_error_set(err, EIO, "sha256 failed");
    EVP_MD_CTX_free(ctx);
    for (unsigned int i = 0; r == 0 && i < len; i++)
        snprintf(id + 7 + 2 * i, 3, "%02x", md[i]);
    if (r == 0)
        r = install(im, &dir, id + 7, err);
    unstage(&dir);
    if (r == 0 && !(ids[0] = strdup(id)))
        r = wr_error_set(err, ENOMEM, "import");
    return r;
}

/* The same layer twice in one image (two RUN steps that changed nothing
 * give two identical empty layers): overlayfs cannot stack one directory
 * twice, and dropping the repeat could change the result (a later layer
 * may have deleted what it adds), so such an image is flattened. */
static bool repeats_a_layer(const struct wr_image_plan *p)
{
    for (size_t i = 0; i < p->n_layers; i++)
        if (first_of(p, i) != i)
            return true;
    return false;
}

static int import_image_dir(struct import *im, int dirfd, wr_error *err)
{
    struct wr_image_plan p;
    cleanup_free char *want = im->o->ref ? wr_normalize_ref(im->o->ref) : NULL;
    if (wr_image_plan_read(dirfd, want, &p, err) < 0)
        return -1;
    im->res->format = p.format;
    im->res->n_layers = p.n_layers;
    im->n_total = p.n_layers;
    bool flat = im->o->flatten || !lowerdir_fits(im->root, p.n_layers) || repeats_a_layer(&p);
    size_t n = flat ? 1 : p.n_layers;
    char **ids = calloc(n + 1, sizeof *ids);
    int r = ids ? set_ref(im, p.ref, err) : wr_error_set(err, ENOMEM, "import");
    if (r == 0)
        r = flat ? import_flattened(im, dirfd, &p, ids, err)
                 : import_layers(im, dirfd, &p, ids, err);
    if (r == 0) {
        im->res->flattened = flat;
        im->res->n_stored = n;
        r = write_manifest(im, &p, ids, n, err);
    }
    for (size_t i = 0; ids && i < n; i++)
        free(ids[i]);
    free(ids);
    wr_image_plan_free(&p);
    return r;
}

/* ---- detection ---------------------------------------------------------- */

/* True when the archive in fd has an image archive's top-level files. */
static int scan_archive(int fd, uint64_t max, bool *is_image, wr_error *err)
{
    struct archive *a = archive_read_new();
    struct archive_entry *e;
    *is_image = false;
    if (!a)
        return wr_error_set(err, ENOMEM, "read the archive");
    int r = ARCHIVE_FATAL;
    if (archive_read_support_filter_all(a) >= ARCHIVE_WARN &&
        archive_read_support_format_tar(a) == ARCHIVE_OK &&
        archive_read_open_fd(a, fd, COPY_CHUNK) == ARCHIVE_OK) {
        unsigned marks = 0;
        uint64_t declared = 0;
        for (size_t i = 0; i < SCAN_MAX && !*is_image; i++) {
            r = archive_read_next_header(a, &e);
            if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
                break;
            const char *name = archive_entry_pathname(e);
            /* Skipping an entry decompresses it: the sizes the headers
             * declare are held to the bound before any of that work. */
            int64_t size = archive_entry_size(e);
            declared += size > 0 ? (uint64_t)size : 0;
            if (declared > max) {
                wr_error_set(err, EFBIG,
                             "entry \"%.200s\": decompresses to more than %" PRIu64
                             " bytes (--max-size)",
                             name ? name : "?", max);
                archive_read_free(a); /* after: name lives in it */
                return -1;
            }
            if (name && archive_entry_filetype(e) == AE_IFREG)
                marks |= wr_image_marks(name);
            *is_image = wr_image_marks_archive(marks);
        }
    }
    /* Errors are the unpacker's to report, with the entry they hit. */
    archive_read_free(a);
    if (lseek(fd, 0, SEEK_SET) < 0)
        return wr_error_set(err, errno, "seek");
    return 0;
}

/* An image archive in a file: unpacked plain into a scratch directory of
 * the store's tmp/, read from there, then thrown away. */
static int import_image_archive(struct import *im, int fd, wr_error *err)
{
    cleanup_free char *dir = NULL;
    cleanup_close int rootfd = stage(im, &dir, err);
    im->layer = 0;
    int r = rootfd < 0 ? -1 : unpack(im, fd, rootfd, WR_UNPACK_PLAIN, NULL, "archive", NULL, err);
    if (r == 0)
        r = import_image_dir(im, rootfd, err);
    unstage(&dir);
    return r;
}

/* "-": standard input, copied into an unnamed file of the store's tmp/ first
 * (it is read more than once), at most max bytes of it. */
static int stdin_to_file(const char *root, uint64_t max, wr_error *err)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%.*s/tmp", wr_store_root_len(root), root);
    cleanup_close int fd = open(tmp, O_RDWR | O_TMPFILE | O_CLOEXEC, 0600);
    if (fd < 0)
        return wr_error_set(err, errno, "create a temporary file in %s", tmp);
    cleanup_free char *buf = malloc(COPY_CHUNK);
    if (!buf)
        return wr_error_set(err, ENOMEM, "read standard input");
    uint64_t total = 0;
    for (;;) {
        ssize_t n = read(STDIN_FILENO, buf, COPY_CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return wr_error_set(err, errno, "read standard input");
        if (n == 0)
            break;
        if ((total += (uint64_t)n) > max)
            return wr_error_set(err, EFBIG, "standard input is larger than %llu bytes (--max-size)",
                                (unsigned long long)max);
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(fd, buf + off, (size_t)(n - off));
            if (w < 0 && errno != EINTR)
                return wr_error_set(err, errno, "write %s", tmp);
            off += w > 0 ? w : 0;
        }
    }
    if (lseek(fd, 0, SEEK_SET) < 0)
        return wr_error_set(err, errno, "seek");
    return steal_fd(&fd);
}

static int import_path(struct import *im, const char *path, wr_error *err)
{
    uint64_t max = im->o->max_bytes ? im->o->max_bytes : WR_UNPACK_DEFAULT_MAX_BYTES;
    cleanup_close int fd = strcmp(path, "-") == 0 ? stdin_to_file(im->root, max, err)
                                                  : open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0 && strcmp(path, "-") == 0)
        return -1;
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0)
        return wr_error_set(err, errno, "%s", path);
    if (S_ISDIR(st.st_mode)) {
        if (wr_image_dir_is_archive(fd))
            return import_image_dir(im, fd, err);
        return import_rootfs_dir(im, path, err);
    }
    if (!S_ISREG(st.st_mode))
        return wr_error_set(err, EINVAL, "%s is neither a file nor a directory", path);
    bool is_image;
    if (scan_archive(fd, max, &is_image, err) < 0)
        return -1;
    if (is_image)
        return import_image_archive(im, fd, err);
    im->res->format = "rootfs-tar";
    return import_flat(im, fd, err);
}

int wr_image_import(const char *root, const char *path, const struct wr_import_opts *o,
                    struct wr_import_result *res, wr_error *err)
{
    memset(res, 0, sizeof *res);
    if (wr_store_init(root, err) < 0)
        return -1;
    cleanup_close int lock = wr_store_lock(root, err);
    if (lock < 0)
        return -1;
    struct import im = {.root = root, .o = o, .res = res};
    int r = import_path(&im, path, err);
    if (r < 0) {
        rollback(&im);
        free(im.added);
        return wr_error_prefix(err, "import %s", path);
    }
    free(im.added);
    /* A tag that moved to a new image may leave layers unused. */
    size_t freed;
    wr_error ignored;
    wr_store_gc(root, &freed, &ignored);
    return 0;
}
