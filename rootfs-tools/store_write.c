/* The tools' side of the image store; see store_write.h. */
#include "store_write.h"

#include "lib/activation.h" /* wr_env_entry_valid */
#include "lib/cleanup.h"
#include "lib/image_store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Same cap as the runtime's reader (image_store.c). */
#define MANIFEST_MAX (1024 * 1024)
/* Names are at most 255 bytes, so at most 128 components. */
#define MAX_NAME_DEPTH 128

static int xasprintf(char **out, wr_error *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int xasprintf(char **out, wr_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(out, fmt, ap);
    va_end(ap);
    if (n < 0) {
        *out = NULL; /* undefined after a failed vasprintf() */
        return wr_error_set(err, ENOMEM, "out of memory");
    }
    return 0;
}

static bool hex_valid(const char *hex)
{
    if (strlen(hex) != WR_DIGEST_HEX_LEN)
        return false;
    for (const char *p = hex; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return true;
}

/* ---- directories ------------------------------------------------------ */

static int mkdir_one(const char *path, mode_t mode, wr_error *err)
{
    if (mkdir(path, mode) == 0) {
        /* mkdir() applies the umask; the store's modes are part of its
         * contract, so set them exactly. */
        if (chmod(path, mode) < 0)
            return wr_error_set(err, errno, "chmod %s", path);
        return 0;
    }
    if (errno != EEXIST)
        return wr_error_set(err, errno, "mkdir %s", path);
    struct stat st;
    if (stat(path, &st) < 0)
        return wr_error_set(err, errno, "stat %s", path);
    if (!S_ISDIR(st.st_mode))
        return wr_error_set(err, ENOTDIR, "%s exists and is not a directory", path);
    return 0;
}

int wr_mkdirs(const char *path, mode_t parent_mode, mode_t mode, wr_error *err)
{
    cleanup_free char *p = strdup(path);
    if (!p)
        return wr_error_set(err, ENOMEM, "mkdir %s", path);
    size_t len = strlen(p);
    while (len > 1 && p[len - 1] == '/')
        p[--len] = '\0';
    for (char *s = p + 1; *s; s++) {
        if (*s != '/' || s[-1] == '/')
            continue;
        *s = '\0';
        int r = mkdir_one(p, parent_mode, err);
        *s = '/';
        if (r < 0)
            return -1;
    }
    return mkdir_one(p, mode, err);
}

int wr_store_init(const char *root, wr_error *err)
{
    static const struct {
        const char *sub;
        mode_t mode;
    } dirs[] = {
        {"images", 0755},
        {"layers", 0700}, /* the tenants' programs: root's alone */
        {"layers/sha256", 0755},
        {"tmp", 0700}, /* staging: half-built layers are nobody's business */
    };

    if (wr_store_root_valid(root, err) < 0)
        return -1;
    /* 0711: users may read images/ (`image ls`), but only root lists the
     * store; layers/ is root's alone (wr_store_layers_private). */
    if (wr_mkdirs(root, 0755, 0711, err) < 0)
        return wr_error_prefix(err, "create store");
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        cleanup_free char *path = NULL;
        if (xasprintf(&path, err, "%.*s/%s", wr_store_root_len(root), root, dirs[i].sub) < 0 ||
            mkdir_one(path, dirs[i].mode, err) < 0)
            return wr_error_prefix(err, "create store");
    }
    /* A store made before layers/ was 0700 (mkdir_one leaves what exists). */
    return wr_store_layers_private(root, err);
}

/* ---- layers ----------------------------------------------------------- */

int wr_store_stage(const char *root, char **dir, wr_error *err)
{
    cleanup_free char *tmpl = NULL;
    cleanup_free char *inner = NULL;
    if (xasprintf(&tmpl, err, "%.*s/tmp/layer-XXXXXX", wr_store_root_len(root), root) < 0)
        return -1;
    if (!mkdtemp(tmpl))
        return wr_error_set(err, errno, "create a staging directory in %.*s/tmp",
                            wr_store_root_len(root), root);
    if (xasprintf(&inner, err, "%s/root", tmpl) < 0 || mkdir_one(inner, 0755, err) < 0) {
        wr_store_unstage(tmpl);
        return -1;
    }
    *dir = steal_pointer(&tmpl);
    return 0;
}

int wr_remove_at(int at, const char *name, wr_error *err)
{
    struct stat st;
    if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno == ENOENT)
            return 0;
        return wr_error_set(err, errno, "stat %s", name);
    }
    if (S_ISDIR(st.st_mode)) {
        int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
            return wr_error_set(err, errno, "open %s", name);
        cleanup_closedir DIR *d = fdopendir(fd);
        if (!d) {
            close(fd);
            return wr_error_set(err, errno, "open %s", name);
        }
        struct dirent *de;
        while ((errno = 0, de = readdir(d))) {
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                continue;
            if (wr_remove_at(dirfd(d), de->d_name, err) < 0)
                return -1;
        }
        if (errno)
            return wr_error_set(err, errno, "read %s", name);
        if (unlinkat(at, name, AT_REMOVEDIR) < 0)
            return wr_error_set(err, errno, "remove %s", name);
        return 0;
    }
    if (unlinkat(at, name, 0) < 0 && errno != ENOENT)
        return wr_error_set(err, errno, "remove %s", name);
    return 0;
}

void wr_store_unstage(const char *dir)
{
    /* Descriptor-relative, so that no path length limits what can go. */
    char parent[PATH_MAX];
    int n = snprintf(parent, sizeof parent, "%s", dir);
    char *slash = n > 0 && (size_t)n < sizeof parent ? strrchr(parent, '/') : NULL;
    if (!slash)
        return;
    *slash = '\0';
    cleanup_close int fd = open(parent[0] ? parent : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    wr_error ignored;
    if (fd >= 0)
        wr_remove_at(fd, slash + 1, &ignored);
}

static int layer_root_is_dir(const char *layer_dir)
{
    cleanup_free char *path = NULL;
    struct stat st;
    if (asprintf(&path, "%s/root", layer_dir) < 0) {
        path = NULL;
        return 0;
    }
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Best effort: makes a rename durable. */
static void sync_dir(const char *path)
{
    cleanup_close int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0)
        fsync(fd);
}

/* The layer exists: drop the staged copy and use the stored one. */
static int reuse_layer(const char *dir, bool *existed)
{
    wr_store_unstage(dir);
    *existed = true;
    return 0;
}

int wr_store_layer_install(const char *root, const char *dir, const char *hex, bool *existed,
                           wr_error *err)
{
    cleanup_free char *parent = NULL;
    cleanup_free char *final = NULL;
    if (!hex_valid(hex))
        return wr_error_set(err, EINVAL, "invalid layer digest \"%.80s\"", hex);
    if (xasprintf(&parent, err, "%.*s/layers/sha256", wr_store_root_len(root), root) < 0 ||
        xasprintf(&final, err, "%s/%s", parent, hex) < 0)
        return -1;
    if (layer_root_is_dir(final))
        return reuse_layer(dir, existed);

    if (chmod(dir, 0755) < 0)
        return wr_error_set(err, errno, "chmod %s", dir);
    /* Flush the layer's files before it becomes visible: after a crash the
     * store holds no layer or a complete one, never truncated files. */
    cleanup_close int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || syncfs(fd) < 0)
        return wr_error_set(err, errno, "sync %s", dir);
    if (rename(dir, final) == 0) {
        sync_dir(parent);
        *existed = false;
        return 0;
    }
    if (errno != EEXIST && errno != ENOTEMPTY)
        return wr_error_set(err, errno, "rename %s to %s", dir, final);
    /* A concurrent import of the same content got there first. */
    if (!layer_root_is_dir(final))
        return wr_error_set(err, EEXIST, "%s exists but has no root/ directory (remove it)", final);
    return reuse_layer(dir, existed);
}

/* ---- manifests -------------------------------------------------------- */

/* jansson strings may hold "\u0000"; a C string would silently cut there. */
static const char *json_cstr(json_t *v)
{
    if (!json_is_string(v))
        return NULL;
    const char *s = json_string_value(v);
    return strlen(s) == json_string_length(v) ? s : NULL;
}

/* Parses a JSON file of at most MANIFEST_MAX bytes; NULL on error. */
json_t *wr_store_read_json(const char *path, wr_error *err)
{
    cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        wr_error_set(err, errno, "open %s", path);
        return NULL;
    }
    if (!S_ISREG(st.st_mode) || st.st_size > MANIFEST_MAX) {
        wr_error_set(err, EINVAL, "%s is not a regular file of at most %d bytes", path,
                     MANIFEST_MAX);
        return NULL;
    }
    json_error_t jerr;
    json_t *j = json_loadfd(fd, JSON_REJECT_DUPLICATES, &jerr);
    if (!j)
        wr_error_set(err, EINVAL, "%s: invalid JSON at line %d: %s", path, jerr.line, jerr.text);
    return j;
}

/* NULL when v holds something jansson refuses (invalid UTF-8). */
static json_t *strv_json(const char *const *v)
{
    json_auto_t *arr = json_array();
    if (!arr)
        return NULL;
    for (; *v; v++)
        if (json_array_append_new(arr, json_string(*v)) < 0)
            return NULL;
    return steal_pointer(&arr);
}

static int config_set(json_t *config, const char *key, json_t *value, wr_error *err)
{
    if (!value || json_object_set_new(config, key, value) < 0)
        return wr_error_set(err, EINVAL, "config.%s: not valid UTF-8", key);
    return 0;
}

static json_t *build_config(const struct wr_manifest *m, wr_error *err)
{
    json_auto_t *config = json_object();
    if (!config) {
        wr_error_set(err, ENOMEM, "config");
        return NULL;
    }
    if ((m->entrypoint && config_set(config, "Entrypoint", strv_json(m->entrypoint), err) < 0) ||
        (m->cmd && config_set(config, "Cmd", strv_json(m->cmd), err) < 0) ||
        (m->env && config_set(config, "Env", strv_json(m->env), err) < 0) ||
        (m->workdir && config_set(config, "WorkingDir", json_string(m->workdir), err) < 0) ||
        (m->user && config_set(config, "User", json_string(m->user), err) < 0))
        return NULL;
    if (m->labels) {
        json_t *labels = json_object();
        if (config_set(config, "Labels", labels, err) < 0)
            return NULL;
        for (size_t i = 0; m->labels[i] && m->labels[i + 1]; i += 2)
            if (config_set(labels, m->labels[i], json_string(m->labels[i + 1]), err) < 0)
                return NULL;
    }
    return steal_pointer(&config);
}

/* The checks wr_image_load() will make, made before writing, so that the
 * store never holds a manifest the runtime refuses. */
static int manifest_check(const struct wr_manifest *m, wr_error *err)
{
    cleanup_free char *ref = NULL;
    cleanup_free char *name = NULL;
    cleanup_free char *tag = NULL;
    if (xasprintf(&ref, err, "%s:%s", m->name, m->tag) < 0 ||
        wr_image_ref_parse(ref, &name, &tag, err) < 0)
        return -1;
    if (m->n_layers == 0)
        return wr_error_set(err, EINVAL, "an image needs at least one layer");
    for (size_t i = 0; i < m->n_layers; i++)
        if (strncmp(m->layers[i], "sha256:", 7) != 0 || !hex_valid(m->layers[i] + 7))
            return wr_error_set(err, EINVAL, "invalid layer id \"%.80s\"", m->layers[i]);
    for (size_t i = 0; m->env && m->env[i]; i++)
        if (!wr_env_entry_valid(m->env[i]))
            return wr_error_set(err, EINVAL, "environment entry \"%.64s\" is not KEY=VALUE",
                                m->env[i]);
    if (m->workdir && m->workdir[0] != '\0' && m->workdir[0] != '/')
        return wr_error_set(err, EINVAL, "working directory \"%.64s\" is not absolute", m->workdir);
    return 0;
}

static int sha256_id(const char *data, size_t len, char id[WR_DIGEST_SIZE], wr_error *err)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    if (!EVP_Digest(data, len, md, &md_len, EVP_sha256(), NULL) || md_len != 32)
        return wr_error_set(err, EIO, "sha256 failed");
    memcpy(id, "sha256:", 7);
    for (unsigned int i = 0; i < md_len; i++)
        snprintf(id + 7 + 2 * i, 3, "%02x", md[i]);
    return 0;
}

static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Writes data to a temporary file in tmp_dir, flushes it and renames it to
 * path: readers see the old file or the new one, never a torn one. */
static int write_atomic(const char *tmp_dir, const char *path, const char *data, size_t len,
                        wr_error *err)
{
    cleanup_free char *tmp = NULL;
    if (xasprintf(&tmp, err, "%s/manifest-XXXXXX", tmp_dir) < 0)
        return -1;
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return wr_error_set(err, errno, "create a temporary file in %s", tmp_dir);
    if (fchmod(fd, 0644) < 0 || write_all(fd, data, len) < 0 || fsync(fd) < 0) {
        int e = errno;
        close(fd);
        unlink(tmp);
        return wr_error_set(err, e, "write %s", tmp);
    }
    if (close(fd) < 0) {
        int e = errno;
        unlink(tmp);
        return wr_error_set(err, e, "write %s", tmp);
    }
    if (rename(tmp, path) < 0) {
        int e = errno;
        unlink(tmp);
        return wr_error_set(err, e, "rename %s to %s", tmp, path);
    }
    return 0;
}

/* Keeps an existing manifest that already describes the same image: the
 * rebuild is then a no-op, "created" included. */
static bool manifest_has_id(const char *path, const char *id)
{
    wr_error ignored;
    json_auto_t *old = wr_store_read_json(path, &ignored);
    const char *old_id = old ? json_cstr(json_object_get(old, "id")) : NULL;
    return old_id && strcmp(old_id, id) == 0;
}

int wr_store_manifest_write(const char *root, const struct wr_manifest *m, char id[WR_DIGEST_SIZE],
                            wr_error *err)
{
    if (manifest_check(m, err) < 0)
        return -1;

    json_auto_t *layers = json_array();
    if (!layers)
        return wr_error_set(err, ENOMEM, "manifest");
    for (size_t i = 0; i < m->n_layers; i++)
        if (json_array_append_new(layers, json_string(m->layers[i])) < 0)
            return wr_error_set(err, ENOMEM, "manifest");
    json_auto_t *config = build_config(m, err);
    if (!config)
        return -1;

    /* The id covers what the runtime uses (layers and config), not the
     * name, tag or date: the same image under two tags has one id. */
    json_auto_t *canon = json_pack("{s:O, s:O}", "layers", layers, "config", config);
    cleanup_free char *canon_text = canon ? json_dumps(canon, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    if (!canon_text)
        return wr_error_set(err, ENOMEM, "manifest");
    if (sha256_id(canon_text, strlen(canon_text), id, err) < 0)
        return -1;

    cleanup_free char *dir = NULL;
    cleanup_free char *path = NULL;
    cleanup_free char *tmp_dir = NULL;
    if (xasprintf(&dir, err, "%.*s/images/%s", wr_store_root_len(root), root, m->name) < 0 ||
        xasprintf(&path, err, "%s/%s.json", dir, m->tag) < 0 ||
        xasprintf(&tmp_dir, err, "%.*s/tmp", wr_store_root_len(root), root) < 0)
        return -1;
    if (manifest_has_id(path, id))
        return 0;

    char created[32];
    struct tm tm;
    time_t now = time(NULL);
    if (!gmtime_r(&now, &tm) || strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        return wr_error_set(err, EINVAL, "cannot format the current time");

    json_auto_t *doc =
        json_pack("{s:i, s:s, s:s, s:s, s:s, s:O, s:O}", "schema", 1, "name", m->name, "tag",
                  m->tag, "id", id, "created", created, "layers", layers, "config", config);
    if (doc && m->size > 0 &&
        json_object_set_new(doc, "size", json_integer((json_int_t)m->size)) < 0)
        return wr_error_set(err, ENOMEM, "manifest");
    cleanup_free char *text = doc ? json_dumps(doc, JSON_INDENT(2)) : NULL;
    cleanup_free char *line = NULL;
    if (!text || xasprintf(&line, err, "%s\n", text) < 0)
        return wr_error_set(err, ENOMEM, "manifest");

    if (wr_mkdirs(dir, 0755, 0755, err) < 0 ||
        write_atomic(tmp_dir, path, line, strlen(line), err) < 0)
        return wr_error_prefix(err, "write manifest %s:%s", m->name, m->tag);
    sync_dir(dir);
    return 0;
}

/* ---- listing ---------------------------------------------------------- */

struct entry_list {
    struct wr_store_entry *v;
    size_t n, cap;
};

static int list_add(struct entry_list *l, const char *dir_path, const char *name, const char *file,
                    wr_error *err)
{
    size_t flen = strlen(file);
    cleanup_free char *ref = NULL;
    cleanup_free char *n = NULL;
    cleanup_free char *t = NULL;
    cleanup_free char *path = NULL;
    wr_error ignored;

    /* Only what wr_image_load() could resolve: skips temporary and foreign
     * files. */
    if (xasprintf(&ref, err, "%s:%.*s", name, (int)(flen - 5), file) < 0)
        return -1;
    if (wr_image_ref_parse(ref, &n, &t, &ignored) < 0)
        return 0;
    if (xasprintf(&path, err, "%s/%s", dir_path, file) < 0)
        return -1;

    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        struct wr_store_entry *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return wr_error_set(err, ENOMEM, "list images");
        l->v = v;
        l->cap = cap;
    }
    struct wr_store_entry *e = &l->v[l->n++];
    memset(e, 0, sizeof *e);
    e->name = steal_pointer(&n);
    e->tag = steal_pointer(&t);

    /* A broken manifest is still listed (without id), so that it shows. */
    json_auto_t *m = wr_store_read_json(path, &ignored);
    const char *id = m ? json_cstr(json_object_get(m, "id")) : NULL;
    const char *created = m ? json_cstr(json_object_get(m, "created")) : NULL;
    json_t *layers = m ? json_object_get(m, "layers") : NULL;
    if ((id && !(e->id = strdup(id))) || (created && !(e->created = strdup(created))))
        return wr_error_set(err, ENOMEM, "list images");
    e->n_layers = json_array_size(layers);
    json_t *size = m ? json_object_get(m, "size") : NULL;
    if (json_is_integer(size) && json_integer_value(size) > 0)
        e->size = (uint64_t)json_integer_value(size);
    return 0;
}

/* Walks images/<name>/ directories; name is "" at the top. */
static int list_dir(const char *images, const char *name, int depth, struct entry_list *l,
                    wr_error *err)
{
    cleanup_free char *dir_path = NULL;
    if (xasprintf(&dir_path, err, "%s%s%s", images, name[0] ? "/" : "", name) < 0)
        return -1;
    cleanup_closedir DIR *d = opendir(dir_path);
    if (!d) {
        if (errno == ENOENT && depth == 0)
            return 0;
        return wr_error_set(err, errno, "open %s", dir_path);
    }
    struct dirent *de;
    while ((errno = 0, de = readdir(d))) {
        struct stat st;
        if (de->d_name[0] == '.')
            continue; /* ".", ".." and nothing a valid name or tag starts with */
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            return wr_error_set(err, errno, "stat %s/%s", dir_path, de->d_name);
        if (S_ISDIR(st.st_mode) && depth < MAX_NAME_DEPTH) {
            cleanup_free char *sub = NULL;
            if (xasprintf(&sub, err, "%s%s%s", name, name[0] ? "/" : "", de->d_name) < 0 ||
                list_dir(images, sub, depth + 1, l, err) < 0)
                return -1;
        } else if (S_ISREG(st.st_mode) && name[0] && strlen(de->d_name) > 5 &&
                   strcmp(de->d_name + strlen(de->d_name) - 5, ".json") == 0) {
            if (list_add(l, dir_path, name, de->d_name, err) < 0)
                return -1;
        }
    }
    if (errno != 0)
        return wr_error_set(err, errno, "read %s", dir_path);
    return 0;
}

static int entry_cmp(const void *a, const void *b)
{
    const struct wr_store_entry *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->tag, y->tag);
}

int wr_store_list(const char *root, struct wr_store_entry **out, size_t *n, wr_error *err)
{
    struct entry_list l = {0};
    cleanup_free char *images = NULL;
    if (xasprintf(&images, err, "%.*s/images", wr_store_root_len(root), root) < 0)
        return -1;
    if (list_dir(images, "", 0, &l, err) < 0) {
        wr_store_list_free(l.v, l.n);
        return wr_error_prefix(err, "list images");
    }
    if (l.n > 0)
        qsort(l.v, l.n, sizeof *l.v, entry_cmp);
    *out = l.v;
    *n = l.n;
    return 0;
}

void wr_store_list_free(struct wr_store_entry *entries, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(entries[i].name);
        free(entries[i].tag);
        free(entries[i].id);
        free(entries[i].created);
    }
    free(entries);
}
