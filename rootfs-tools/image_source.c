/* Image archive formats (docker save, OCI layout) into a plan; see
 * image_source.h. One of the modules allowed to see jansson. */
#include "image_source.h"

#include "lib/cleanup.h"
#include "lib/image_store.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <jansson.h>
#include <linux/openat2.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Image JSON (configs carry their build history) stays far below this. */
#define JSON_MAX        (8 * 1024 * 1024)
#define MAX_INDEX_DEPTH 8
/* Nested indexes followed in one walk, all depths together. The depth bound
 * alone let a layout of a few KiB (each level's index naming the next one
 * 40 times over, 7 levels) make the walk load and hash 40^7 blobs: an import
 * that never ended. Real images nest one or two indexes. */
#define MAX_INDEXES_READ 64
#define MAX_LAYERS_READ  4096
#define HASH_CHUNK       (128 * 1024)

#if defined(__x86_64__)
#define HOST_ARCH "amd64"
#elif defined(__aarch64__)
#define HOST_ARCH "arm64"
#elif defined(__i386__)
#define HOST_ARCH "386"
#elif defined(__riscv) && __riscv_xlen == 64
#define HOST_ARCH "riscv64"
#else
#define HOST_ARCH "unknown"
#endif

#define MT_OCI_INDEX    "application/vnd.oci.image.index.v1+json"
#define MT_DOCKER_LIST  "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_DOCKER_MF    "application/vnd.docker.distribution.manifest.v2+json"

static void strv_free(char **v)
{
    for (char **p = v; p && *p; p++)
        free(*p);
    free(v);
}

void wr_image_plan_free(struct wr_image_plan *p)
{
    for (size_t i = 0; i < p->n_layers; i++)
        free(p->layers[i].path);
    free(p->layers);
    free(p->ref);
    strv_free(p->entrypoint);
    strv_free(p->cmd);
    strv_free(p->env);
    strv_free(p->labels);
    free(p->workdir);
    free(p->user);
    memset(p, 0, sizeof *p);
}

/* ---- files ------------------------------------------------------------ */

int wr_open_beneath(int dirfd, const char *path, wr_error *err)
{
    /* O_NONBLOCK: a FIFO in the archive must not block the open (and the
     * store lock with it); it is refused just below. */
    struct open_how how = {
        .flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
    };
    int fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
    if (fd < 0)
        return wr_error_set(err, errno, "\"%.200s\"", path);
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || fcntl(fd, F_SETFL, 0) < 0) {
        close(fd);
        return wr_error_set(err, EINVAL, "\"%.200s\" is not a regular file", path);
    }
    return fd;
}

static bool file_exists(int dirfd, const char *path)
{
    wr_error ignored;
    int fd = wr_open_beneath(dirfd, path, &ignored);
    if (fd < 0)
        return false;
    close(fd);
    return true;
}

unsigned wr_image_marks(const char *name)
{
    while (name[0] == '.' && name[1] == '/')
        name += 2;
    static const struct {
        const char *name;
        unsigned mark;
    } top[] = {{"oci-layout", WR_MARK_OCI_LAYOUT},
               {"index.json", WR_MARK_INDEX},
               {"manifest.json", WR_MARK_MANIFEST},
               {"repositories", WR_MARK_REPOS}};
    for (size_t i = 0; i < sizeof top / sizeof top[0]; i++)
        if (strcmp(name, top[i].name) == 0)
            return top[i].mark;
    if (strncmp(name, "blobs/sha256/", 13) == 0)
        return WR_MARK_BLOBS;
    const char *slash = strchr(name, '/');
    if (slash && strcmp(slash + 1, "layer.tar") == 0)
        return WR_MARK_LAYER_TAR;
    return 0;
}

bool wr_image_marks_archive(unsigned m)
{
    return (m & WR_MARK_OCI_LAYOUT) || ((m & WR_MARK_INDEX) && (m & WR_MARK_BLOBS)) ||
           ((m & WR_MARK_MANIFEST) && (m & (WR_MARK_REPOS | WR_MARK_BLOBS | WR_MARK_LAYER_TAR)));
}

/* True when some directory at the top of dirfd holds a layer.tar. */
static bool has_layer_tar(int dirfd)
{
    int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return false;
    cleanup_closedir DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return false;
    }
    struct dirent *de;
    char path[NAME_MAX + 16];
    while ((de = readdir(d)))
        if (de->d_name[0] != '.' &&
            (snprintf(path, sizeof path, "%s/layer.tar", de->d_name), file_exists(dirfd, path)))
            return true;
    return false;
}

bool wr_image_dir_is_archive(int dirfd)
{
    struct stat st;
    unsigned m = 0;
    static const char *const names[] = {"oci-layout", "index.json", "manifest.json",
                                        "repositories"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (file_exists(dirfd, names[i]))
            m |= wr_image_marks(names[i]);
    if (fstatat(dirfd, "blobs/sha256", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode))
        m |= WR_MARK_BLOBS;
    if ((m & WR_MARK_MANIFEST) && !wr_image_marks_archive(m) && has_layer_tar(dirfd))
        m |= WR_MARK_LAYER_TAR;
    return wr_image_marks_archive(m);
}

static bool digest_valid(const char *d)
{
    if (!d || strncmp(d, "sha256:", 7) != 0 || strlen(d) != 7 + WR_DIGEST_HEX_LEN)
        return false;
    for (const char *p = d + 7; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return true;
}

int wr_verify_digest(int fd, const char *digest, const char *what, wr_error *err)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    cleanup_free char *buf = malloc(HASH_CHUNK);
    int ret = -1;
    if (!ctx || !buf || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
        wr_error_set(err, ENOMEM, "hash %s", what);
        goto out;
    }
    for (;;) {
        ssize_t n = read(fd, buf, HASH_CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            wr_error_set(err, errno, "read %s", what);
            goto out;
        }
        if (n == 0)
            break;
        if (!EVP_DigestUpdate(ctx, buf, (size_t)n)) {
            wr_error_set(err, EIO, "sha256 failed");
            goto out;
        }
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    char got[WR_DIGEST_SIZE] = "sha256:";
    if (!EVP_DigestFinal_ex(ctx, md, &len) || len != 32) {
        wr_error_set(err, EIO, "sha256 failed");
        goto out;
    }
    for (unsigned int i = 0; i < len; i++)
        snprintf(got + 7 + 2 * i, 3, "%02x", md[i]);
    if (strcmp(got, digest) != 0) {
        wr_error_set(err, EINVAL, "%s: digest mismatch: expected %s, got %s", what, digest, got);
        goto out;
    }
    if (lseek(fd, 0, SEEK_SET) < 0) {
        wr_error_set(err, errno, "seek %s", what);
        goto out;
    }
    ret = 0;
out:
    EVP_MD_CTX_free(ctx);
    return ret;
}

/* Loads a JSON file of the archive; with a digest, checks it first. */
static json_t *load_json(int dirfd, const char *path, const char *digest, wr_error *err)
{
    cleanup_close int fd = wr_open_beneath(dirfd, path, err);
    if (fd < 0) {
        wr_error_prefix(err, "missing or unreadable file");
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || st.st_size > JSON_MAX) {
        wr_error_set(err, EFBIG, "\"%.200s\" is larger than %d bytes", path, JSON_MAX);
        return NULL;
    }
    if (digest && wr_verify_digest(fd, digest, path, err) < 0)
        return NULL;
    json_error_t jerr;
    json_t *j = json_loadfd(fd, JSON_REJECT_DUPLICATES, &jerr);
    if (!j)
        wr_error_set(err, EINVAL, "\"%.200s\": invalid JSON at line %d: %s", path, jerr.line,
                     jerr.text);
    return j;
}

static char *blob_path(const char *digest)
{
    char *p = NULL;
    if (asprintf(&p, "blobs/sha256/%s", digest + 7) < 0)
        return NULL;
    return p;
}

/* ---- references ------------------------------------------------------- */

char *wr_normalize_ref(const char *ref)
{
    if (!ref)
        return NULL;
    if (strncmp(ref, "docker.io/", 10) == 0)
        ref += 10;
    if (strncmp(ref, "library/", 8) == 0)
        ref += 8;
    char *name = NULL, *tag = NULL, *out = NULL;
    wr_error ignored;
    const char *at = strchr(ref, '@');
    cleanup_free char *copy = at ? strndup(ref, (size_t)(at - ref)) : strdup(ref);
    if (!copy || wr_image_ref_parse(copy, &name, &tag, &ignored) < 0)
        return NULL;
    if (asprintf(&out, "%s:%s", name, tag) < 0)
        out = NULL;
    free(name);
    free(tag);
    return out;
}

/* ---- config ----------------------------------------------------------- */

static const char *jstr(json_t *v)
{
    if (!json_is_string(v))
        return NULL;
    const char *s = json_string_value(v);
    return strlen(s) == json_string_length(v) ? s : NULL;
}

static int strv_get(json_t *obj, const char *field, char ***out, wr_error *err)
{
    json_t *arr = json_object_get(obj, field);
    *out = NULL;
    if (!arr || json_is_null(arr))
        return 0;
    /* Entrypoint and Cmd are Docker's StrSlice, which also takes one
     * string (as one element); Docker loads such configs. */
    if (json_is_string(arr) && strcmp(field, "Env") != 0) {
        const char *s = jstr(arr);
        char **v = calloc(2, sizeof *v);
        if (!s || !v || !(v[0] = strdup(s))) {
            free(v);
            return wr_error_set(err, s ? ENOMEM : EINVAL, "config: %s", field);
        }
        *out = v;
        return 0;
    }
    if (!json_is_array(arr))
        return wr_error_set(err, EINVAL, "config: %s is not an array of strings", field);
    char **v = calloc(json_array_size(arr) + 1, sizeof *v);
    if (!v)
        return wr_error_set(err, ENOMEM, "config");
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const char *s = jstr(json_array_get(arr, i));
        if (!s || !(v[i] = strdup(s))) {
            strv_free(v);
            return wr_error_set(err, EINVAL, "config: %s[%zu] is not a string", field, i);
        }
    }
    *out = v;
    return 0;
}

static int str_get(json_t *obj, const char *field, char **out, wr_error *err)
{
    json_t *v = json_object_get(obj, field);
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    const char *s = jstr(v);
    if (!s)
        return wr_error_set(err, EINVAL, "config: %s is not a string", field);
    if (!(*out = strdup(s)))
        return wr_error_set(err, ENOMEM, "config");
    return 0;
}

static int labels_get(json_t *obj, char ***out, wr_error *err)
{
    json_t *l = json_object_get(obj, "Labels");
    *out = NULL;
    if (!l || json_is_null(l))
        return 0;
    if (!json_is_object(l))
        return wr_error_set(err, EINVAL, "config: Labels is not an object");
    char **v = calloc(2 * json_object_size(l) + 1, sizeof *v);
    if (!v)
        return wr_error_set(err, ENOMEM, "config");
    size_t i = 0;
    const char *key;
    json_t *val;
    json_object_foreach(l, key, val)
    {
        const char *s = jstr(val);
        if (!s || !(v[i++] = strdup(key)) || !(v[i++] = strdup(s))) {
            strv_free(v);
            return wr_error_set(err, EINVAL, "config: label \"%.64s\" is not a string", key);
        }
    }
    *out = v;
    return 0;
}

/* The image config: docker run's defaults and rootfs.diff_ids. */
static int parse_config(json_t *cfg, struct wr_image_plan *p, json_t **diff_ids, wr_error *err)
{
    if (!json_is_object(cfg))
        return wr_error_set(err, EINVAL, "the image config is not a JSON object");
    const char *os = jstr(json_object_get(cfg, "os"));
    if (os && strcmp(os, "linux") != 0)
        return wr_error_set(err, EINVAL, "the image is for \"%.32s\", not linux", os);
    json_t *c = json_object_get(cfg, "config");
    if (c && json_is_object(c)) {
        if (strv_get(c, "Entrypoint", &p->entrypoint, err) < 0 ||
            strv_get(c, "Cmd", &p->cmd, err) < 0 || strv_get(c, "Env", &p->env, err) < 0 ||
            str_get(c, "WorkingDir", &p->workdir, err) < 0 ||
            str_get(c, "User", &p->user, err) < 0 || labels_get(c, &p->labels, err) < 0)
            return -1;
    }
    json_t *rootfs = json_object_get(cfg, "rootfs");
    *diff_ids = rootfs ? json_object_get(rootfs, "diff_ids") : NULL;
    if (!json_is_array(*diff_ids))
        return wr_error_set(err, EINVAL, "the image config has no rootfs.diff_ids");
    return 0;
}

static int plan_layers(struct wr_image_plan *p, size_t n, wr_error *err)
{
    if (n == 0)
        return wr_error_set(err, EINVAL, "the image has no layers");
    if (n > MAX_LAYERS_READ)
        return wr_error_set(err, E2BIG, "the image has %zu layers", n);
    if (!(p->layers = calloc(n, sizeof *p->layers)))
        return wr_error_set(err, ENOMEM, "plan");
    p->n_layers = n;
    return 0;
}

/* Fills in the diff_ids, one per layer. */
static int set_diff_ids(struct wr_image_plan *p, json_t *diff_ids, wr_error *err)
{
    if (json_array_size(diff_ids) != p->n_layers)
        return wr_error_set(err, EINVAL, "the config lists %zu diff_ids for %zu layers",
                            json_array_size(diff_ids), p->n_layers);
    for (size_t i = 0; i < p->n_layers; i++) {
        const char *d = jstr(json_array_get(diff_ids, i));
        if (!digest_valid(d))
            return wr_error_set(err, EINVAL, "config: rootfs.diff_ids[%zu] is not a sha256 digest",
                                i);
        snprintf(p->layers[i].diff_id, sizeof p->layers[i].diff_id, "%s", d);
    }
    return 0;
}

/* ---- docker save (legacy manifest.json) ------------------------------- */

static bool repo_tags_match(json_t *tags, const char *ref)
{
    size_t i;
    json_t *t;
    json_array_foreach(tags, i, t)
    {
        cleanup_free char *n = wr_normalize_ref(jstr(t));
        if (n && strcmp(n, ref) == 0)
            return true;
    }
    return false;
}

static int read_docker_save(int dirfd, const char *ref, struct wr_image_plan *p, wr_error *err)
{
    json_auto_t *m = load_json(dirfd, "manifest.json", NULL, err);
    if (!m)
        return -1;
    if (!json_is_array(m) || json_array_size(m) == 0)
        return wr_error_set(err, EINVAL, "manifest.json is not a non-empty array");
    json_t *img = json_array_get(m, 0);
    if (ref) {
        size_t i;
        json_t *e;
        img = NULL;
        json_array_foreach(m, i, e) if (repo_tags_match(json_object_get(e, "RepoTags"), ref))
        {
            img = e;
            break;
        }
        if (!img)
            img = json_array_size(m) == 1 ? json_array_get(m, 0) : NULL;
        if (!img)
            return wr_error_code(err, ENOENT, "the archive has no image tagged %s", ref);
    }
    const char *config = jstr(json_object_get(img, "Config"));
    json_t *layers = json_object_get(img, "Layers");
    if (!config || !json_is_array(layers))
        return wr_error_set(err, EINVAL, "manifest.json: an entry lacks Config or Layers");
    p->format = "docker-save";
    p->ref = wr_normalize_ref(jstr(json_array_get(json_object_get(img, "RepoTags"), 0)));

    /* The config is named by its digest: "<hex>.json" (legacy) or
     * "blobs/sha256/<hex>" (Docker 25+). */
    char digest[WR_DIGEST_SIZE + 8];
    const char *slash = strrchr(config, '/');
    const char *base = slash ? slash + 1 : config;
    snprintf(digest, sizeof digest, "sha256:%.*s", (int)strcspn(base, "."), base);
    if (!digest_valid(digest))
        return wr_error_set(err, EINVAL,
                            "manifest.json: Config \"%.200s\" is not named by its "
                            "digest",
                            config);
    json_auto_t *cfg = load_json(dirfd, config, digest, err);
    json_t *diff_ids;
    if (!cfg || parse_config(cfg, p, &diff_ids, err) < 0 ||
        plan_layers(p, json_array_size(layers), err) < 0 || set_diff_ids(p, diff_ids, err) < 0)
        return -1;
    for (size_t i = 0; i < p->n_layers; i++) {
        const char *path = jstr(json_array_get(layers, i));
        if (!path || !(p->layers[i].path = strdup(path)))
            return wr_error_set(err, EINVAL, "manifest.json: Layers[%zu] is not a string", i);
        /* A blob path names its digest; a legacy layer.tar is checked by
         * its diff_id while it is unpacked. */
        if (strncmp(path, "blobs/sha256/", 13) == 0)
            snprintf(p->layers[i].digest, sizeof p->layers[i].digest, "sha256:%.64s", path + 13);
        if (p->layers[i].digest[0] && !digest_valid(p->layers[i].digest))
            return wr_error_set(err, EINVAL, "manifest.json: Layers[%zu] \"%.200s\"", i, path);
    }
    return 0;
}

/* ---- OCI layout --------------------------------------------------------- */

/* A descriptor's digest, checked; NULL when invalid. */
static const char *desc_digest(json_t *desc)
{
    const char *d = jstr(json_object_get(desc, "digest"));
    return digest_valid(d) ? d : NULL;
}

static bool platform_ok(json_t *desc)
{
    json_t *pf = json_object_get(desc, "platform");
    if (!json_is_object(pf))
        return true;
    const char *os = jstr(json_object_get(pf, "os"));
    const char *arch = jstr(json_object_get(pf, "architecture"));
    return (!os || strcmp(os, "linux") == 0) && (!arch || strcmp(arch, HOST_ARCH) == 0);
}

static const char *desc_ref(json_t *desc)
{
    json_t *a = json_object_get(desc, "annotations");
    const char *r = jstr(json_object_get(a, "io.containerd.image.name"));
    return r ? r : jstr(json_object_get(a, "org.opencontainers.image.ref.name"));
}

static int read_oci_manifest(int dirfd, json_t *desc, struct wr_image_plan *p, wr_error *err)
{
    const char *digest = desc_digest(desc);
    cleanup_free char *path = digest ? blob_path(digest) : NULL;
    if (!path)
        return wr_error_set(err, EINVAL, "a manifest descriptor has no valid sha256 digest");
    json_auto_t *m = load_json(dirfd, path, digest, err);
    if (!m)
        return -1;
    json_t *config = json_object_get(m, "config");
    json_t *layers = json_object_get(m, "layers");
    const char *cdigest = desc_digest(config);
    cleanup_free char *cpath = cdigest ? blob_path(cdigest) : NULL;
    if (!cpath || !json_is_array(layers))
        return wr_error_set(err, EINVAL, "manifest %.19s: no valid config or layers", digest);
    json_auto_t *cfg = load_json(dirfd, cpath, cdigest, err);
    json_t *diff_ids;
    if (!cfg || parse_config(cfg, p, &diff_ids, err) < 0 ||
        plan_layers(p, json_array_size(layers), err) < 0 || set_diff_ids(p, diff_ids, err) < 0)
        return -1;
    for (size_t i = 0; i < p->n_layers; i++) {
        json_t *l = json_array_get(layers, i);
        const char *d = desc_digest(l);
        if (!d)
            return wr_error_set(err, EINVAL, "manifest: layers[%zu] has no valid sha256 digest", i);
        snprintf(p->layers[i].digest, sizeof p->layers[i].digest, "%s", d);
        if (!(p->layers[i].path = blob_path(d)))
            return wr_error_set(err, ENOMEM, "plan");
    }
    return 0;
}

/* Walks an index depth-first to the first manifest this host can run;
 * *followed counts the nested indexes loaded so far (MAX_INDEXES_READ). */
static int read_oci_index(int dirfd, json_t *index, const char *ref, const char *index_ref,
                          int depth, unsigned *followed, struct wr_image_plan *p, wr_error *err)
{
    if (depth > MAX_INDEX_DEPTH)
        return wr_error_set(err, ELOOP, "indexes nested deeper than %d", MAX_INDEX_DEPTH);
    json_t *ms = json_object_get(index, "manifests");
    if (!json_is_array(ms))
        return wr_error_set(err, EINVAL, "an index has no \"manifests\" array");
    size_t i;
    json_t *desc;
    json_array_foreach(ms, i, desc)
    {
        const char *mt = jstr(json_object_get(desc, "mediaType"));
        cleanup_free char *dref = wr_normalize_ref(desc_ref(desc));
        const char *this_ref = dref ? dref : index_ref;
        if (depth == 0 && ref && (!this_ref || strcmp(this_ref, ref) != 0) &&
            json_array_size(ms) > 1)
            continue;
        if (!platform_ok(desc))
            continue;
        if (mt && (strcmp(mt, MT_OCI_INDEX) == 0 || strcmp(mt, MT_DOCKER_LIST) == 0)) {
            const char *digest = desc_digest(desc);
            cleanup_free char *path = digest ? blob_path(digest) : NULL;
            if (!path)
                return wr_error_set(err, EINVAL, "an index descriptor has no valid digest");
            if (++*followed > MAX_INDEXES_READ)
                return wr_error_set(err, ELOOP, "the indexes name more than %d nested indexes",
                                    MAX_INDEXES_READ);
            json_auto_t *sub = load_json(dirfd, path, digest, err);
            if (!sub)
                return -1;
            int r = read_oci_index(dirfd, sub, ref, this_ref, depth + 1, followed, p, err);
            if (r <= 0)
                return r;
            continue;
        }
        if (mt && strcmp(mt, MT_OCI_MANIFEST) != 0 && strcmp(mt, MT_DOCKER_MF) != 0)
            continue;
        if (this_ref && !p->ref)
            p->ref = strdup(this_ref);
        return read_oci_manifest(dirfd, desc, p, err);
    }
    return 1; /* nothing here */
}

static int read_oci(int dirfd, const char *ref, struct wr_image_plan *p, wr_error *err)
{
    json_auto_t *index = load_json(dirfd, "index.json", NULL, err);
    if (!index)
        return -1;
    p->format = "oci-layout";
    unsigned followed = 0;
    int r = read_oci_index(dirfd, index, ref, NULL, 0, &followed, p, err);
    if (r > 0)
        return wr_error_set(err, ENOENT, "the index has no linux/%s image%s%s", HOST_ARCH,
                            ref ? " named " : "", ref ? ref : "");
    return r;
}

int wr_image_plan_read(int dirfd, const char *ref, struct wr_image_plan *p, wr_error *err)
{
    memset(p, 0, sizeof *p);
    int r = file_exists(dirfd, "index.json") ? read_oci(dirfd, ref, p, err)
                                             : read_docker_save(dirfd, ref, p, err);
    if (r < 0)
        wr_image_plan_free(p);
    return r;
}
