/* The read side of the image store (see image_store.h for the layout and the
 * manifest format). This is one of the "spec" modules allowed to see jansson:
 * it turns an untrusted-looking manifest into a plain struct wr_image, and
 * every check the runtime relies on (reference syntax, layer ids, config
 * shape) happens here, once, before anything is mounted. */
#include "image_store.h"

#include "activation.h" /* wr_env_entry_valid: one definition of KEY=VALUE */
#include "cleanup.h"
#include "paths.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A manifest is a few hundred bytes; the cap only stops a stray huge file
 * from being slurped into memory. */
#define MANIFEST_MAX (1024 * 1024)
/* overlayfs stacks at most 500 lower layers and the legacy mount(2) options
 * page is 4 KiB; 128 is what OCI images realistically use (Docker's own
 * limit) and keeps the lowerdir string bounded. */
#define MAX_LAYERS     128
#define NAME_MAX_LEN   255
#define TAG_MAX_LEN    128
#define DIGEST_PREFIX  "sha256:"
#define DIGEST_HEX_LEN 64

static void strv_free(char **v)
{
    if (!v)
        return;
    for (char **p = v; *p; p++)
        free(*p);
    free(v);
}

void wr_image_free(struct wr_image *img)
{
    if (!img)
        return;
    free(img->name);
    free(img->tag);
    free(img->id);
    free(img->lowerdir);
    strv_free(img->entrypoint);
    strv_free(img->cmd);
    strv_free(img->env);
    free(img->workdir);
    free(img->user);
    free(img);
}

/* ---- references ------------------------------------------------------- */

/* Plain ASCII ranges: isalnum() would follow the locale. */
static bool is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_tag_start(char c)
{
    return is_lower_alnum(c) || (c >= 'A' && c <= 'Z') || c == '_';
}

/* Each '/'-separated component matches [a-z0-9][a-z0-9._-]*. Because a
 * component cannot start with '.', "." and ".." can never appear, and empty
 * components (leading, trailing or double '/') are rejected: the name maps
 * directly onto a path under images/. */
static bool name_valid(const char *s, size_t len)
{
    size_t comp = 0;
    if (len == 0 || len > NAME_MAX_LEN)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '/') {
            if (comp == 0)
                return false;
            comp = 0;
            continue;
        }
        if (comp == 0 ? !is_lower_alnum(c) : !(is_lower_alnum(c) || strchr("._-", c)))
            return false;
        comp++;
    }
    return comp > 0;
}

/* [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}: no '/', and never "." or "..", so
 * "<tag>.json" stays inside the image's directory. */
static bool tag_valid(const char *s)
{
    size_t len = strlen(s);
    if (len == 0 || len > TAG_MAX_LEN || !is_tag_start(s[0]))
        return false;
    for (size_t i = 1; i < len; i++)
        if (!(is_tag_start(s[i]) || s[i] == '.' || s[i] == '-'))
            return false;
    return true;
}

int wr_image_ref_parse(const char *ref, char **name, char **tag, wr_error *err)
{
    /* Names cannot contain ':', so the first ':' is the separator. */
    const char *colon = strchr(ref, ':');
    size_t name_len = colon ? (size_t)(colon - ref) : strlen(ref);
    const char *tag_str = colon ? colon + 1 : "latest";

    if (!name_valid(ref, name_len))
        return wr_error_set(err, EINVAL,
                            "invalid image reference \"%.200s\": the name must be '/'-separated "
                            "components matching [a-z0-9][a-z0-9._-]*",
                            ref);
    if (!tag_valid(tag_str))
        return wr_error_set(err, EINVAL,
                            "invalid image reference \"%.200s\": the tag must match "
                            "[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}",
                            ref);

    char *n = strndup(ref, name_len);
    char *t = strdup(tag_str);
    if (!n || !t) {
        free(n);
        free(t);
        return wr_error_set(err, ENOMEM, "parse image reference");
    }
    *name = n;
    *tag = t;
    return 0;
}

int wr_store_root_valid(const char *root, wr_error *err)
{
    if (!root || root[0] != '/')
        return wr_error_set(err, EINVAL, "store root \"%.200s\" is not an absolute path",
                            root ? root : "");
    for (const unsigned char *p = (const unsigned char *)root; *p; p++) {
        unsigned char c = *p;
        /* ',' separates mount options, ':' separates lowerdir entries, '\\'
         * is overlayfs' escape character; whitespace and control characters
         * would also break the one-line error and log formats. */
        if (c == ',' || c == ':' || c == '\\' || c == ' ' || c < 0x20 || c == 0x7f) {
            if (c > 0x20 && c < 0x7f)
                return wr_error_set(err, EINVAL,
                                    "store root \"%.200s\" contains '%c', which overlayfs mount "
                                    "options cannot carry",
                                    root, c);
            return wr_error_set(err, EINVAL,
                                "store root contains the character 0x%02x, which overlayfs mount "
                                "options cannot carry",
                                c);
        }
    }
    return 0;
}

int wr_store_layers_private(const char *root, wr_error *err)
{
    char path[PATH_MAX];
    int n = snprintf(path, sizeof path, "%.*s/layers", wr_store_root_len(root), root);
    if (n < 0 || (size_t)n >= sizeof path)
        return wr_error_set(err, ENAMETOOLONG, "store root %.200s", root);
    cleanup_close int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT)
        return 0;
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0)
        return wr_error_set(err, errno, "%s", path);
    if (st.st_uid != 0)
        return wr_error_set(err, EPERM, "%s is not owned by root", path);
    if ((st.st_mode & 077) && fchmod(fd, 0700) < 0)
        return wr_error_set(err, errno, "chmod 0700 %s", path);
    return 0;
}

/* ---- manifest file ---------------------------------------------------- */

int wr_store_root_len(const char *root)
{
    size_t n = strlen(root);
    while (n > 0 && root[n - 1] == '/')
        n--;
    return (int)n;
}

/* A missing image's message ends with what to run to get it, in one line:
 * the default image's own command (README.md), else an import; with the
 * store's --root when it is not the default. */
static void not_found_hint(wr_error *err, const char *root, const char *name, const char *tag)
{
    char root_opt[PATH_MAX + 16] = "";
    int rlen = wr_store_root_len(root);
    if (strncmp(root, WR_DEFAULT_STORE_ROOT, (size_t)rlen) != 0 ||
        WR_DEFAULT_STORE_ROOT[rlen] != '\0')
        snprintf(root_opt, sizeof root_opt, " --root %.*s", rlen, root);
    size_t used = strlen(err->msg);
    bool latest = strcmp(tag, "latest") == 0;
    if (strcmp(name, "busybox") == 0)
        snprintf(err->msg + used, sizeof err->msg - used,
                 "; build it with: warmrun%s image build-busybox%s%s", root_opt,
                 latest ? "" : " --tag ", latest ? "" : tag);
    else
        snprintf(err->msg + used, sizeof err->msg - used,
                 "; import it with: warmrun%s image import PATH --name %s:%s", root_opt, name, tag);
}

static int not_found(const char *root, const char *ref, wr_error *err)
{
    /* The message is part of the interface (the CLI shows it as is), so no
     * strerror suffix; the errnum still says ENOENT for callers. */
    wr_error_set(err, 0, "image \"%s\" not found in %s", ref, root);
    err->errnum = ENOENT;
    return -1;
}

/* Reads the whole manifest into a NUL-terminated buffer, refusing anything
 * that is not a regular file of at most MANIFEST_MAX bytes. */
static int read_manifest(const char *path, const char *root, const char *ref, char **out,
                         size_t *out_len, wr_error *err)
{
    cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return not_found(root, ref, err);
        return wr_error_set(err, errno, "open %s", path);
    }
    struct stat st;
    if (fstat(fd, &st) < 0)
        return wr_error_set(err, errno, "stat %s", path);
    if (!S_ISREG(st.st_mode))
        return wr_error_set(err, EINVAL, "%s is not a regular file", path);
    if (st.st_size > MANIFEST_MAX)
        return wr_error_set(err, EFBIG, "%s is larger than %d bytes", path, MANIFEST_MAX);

    /* One spare byte: filling it means the file grew after fstat(). */
    size_t cap = (size_t)st.st_size + 1, len = 0;
    cleanup_free char *buf = malloc(cap + 1);
    if (!buf)
        return wr_error_set(err, ENOMEM, "read %s", path);
    while (len < cap) {
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return wr_error_set(err, errno, "read %s", path);
        if (n == 0)
            break;
        len += (size_t)n;
    }
    if (len == cap)
        return wr_error_set(err, EAGAIN, "%s changed while being read", path);
    buf[len] = '\0';
    *out = steal_pointer(&buf);
    *out_len = len;
    return 0;
}

/* ---- manifest fields -------------------------------------------------- */

/* jansson strings may hold "\u0000"; a C string would silently cut there. */
static const char *json_cstr(json_t *v)
{
    if (!json_is_string(v))
        return NULL;
    const char *s = json_string_value(v);
    return strlen(s) == json_string_length(v) ? s : NULL;
}

static bool digest_valid(const char *s)
{
    size_t plen = strlen(DIGEST_PREFIX);
    if (strncmp(s, DIGEST_PREFIX, plen) != 0 || strlen(s) != plen + DIGEST_HEX_LEN)
        return false;
    for (const char *p = s + plen; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return true;
}

/* An absent or null field leaves *out NULL; anything else must be an array
 * of strings, copied into a NULL-terminated vector. */
static int strv_from_json(json_t *config, const char *field, char ***out, wr_error *err)
{
    json_t *arr = config ? json_object_get(config, field) : NULL;
    *out = NULL;
    if (!arr || json_is_null(arr))
        return 0;
    if (!json_is_array(arr))
        return wr_error_set(err, EINVAL, "config.%s is not an array of strings", field);

    size_t n = json_array_size(arr);
    char **v = calloc(n + 1, sizeof *v);
    if (!v)
        return wr_error_set(err, ENOMEM, "config.%s", field);
    for (size_t i = 0; i < n; i++) {
        const char *s = json_cstr(json_array_get(arr, i));
        if (!s) {
            strv_free(v);
            return wr_error_set(err, EINVAL, "config.%s[%zu] is not a string", field, i);
        }
        if (!(v[i] = strdup(s))) {
            strv_free(v);
            return wr_error_set(err, ENOMEM, "config.%s", field);
        }
    }
    *out = v;
    return 0;
}

/* An absent, null or (for WorkingDir) empty string field takes dflt. */
static int str_from_json(json_t *config, const char *field, const char *dflt, char **out,
                         wr_error *err)
{
    json_t *v = config ? json_object_get(config, field) : NULL;
    const char *s = dflt;
    if (v && !json_is_null(v)) {
        s = json_cstr(v);
        if (!s)
            return wr_error_set(err, EINVAL, "config.%s is not a string", field);
    }
    if (!(*out = strdup(s)))
        return wr_error_set(err, ENOMEM, "config.%s", field);
    return 0;
}

static int parse_config(json_t *config, struct wr_image *img, wr_error *err)
{
    if (config && !json_is_null(config) && !json_is_object(config))
        return wr_error_set(err, EINVAL, "config is not an object");
    if (config && json_is_null(config))
        config = NULL;

    if (strv_from_json(config, "Entrypoint", &img->entrypoint, err) < 0 ||
        strv_from_json(config, "Cmd", &img->cmd, err) < 0 ||
        strv_from_json(config, "Env", &img->env, err) < 0)
        return -1;
    if (!img->env && !(img->env = calloc(1, sizeof *img->env)))
        return wr_error_set(err, ENOMEM, "config.Env");
    for (size_t i = 0; img->env[i]; i++)
        if (!wr_env_entry_valid(img->env[i]))
            return wr_error_set(err, EINVAL, "config.Env[%zu] \"%.64s\" is not KEY=VALUE", i,
                                img->env[i]);

    if (str_from_json(config, "WorkingDir", "/", &img->workdir, err) < 0 ||
        str_from_json(config, "User", "", &img->user, err) < 0)
        return -1;
    if (img->workdir[0] == '\0') {
        free(img->workdir);
        if (!(img->workdir = strdup("/")))
            return wr_error_set(err, ENOMEM, "config.WorkingDir");
    }
    if (img->workdir[0] != '/')
        return wr_error_set(err, EINVAL, "config.WorkingDir \"%.64s\" is not absolute",
                            img->workdir);
    return 0;
}

/* Checks every layer id and directory, then builds the overlayfs lowerdir:
 * the manifest lists layers bottom first, overlayfs wants the topmost
 * first. */
static int parse_layers(json_t *layers, const char *root, struct wr_image *img, wr_error *err)
{
    if (!json_is_array(layers))
        return wr_error_set(err, EINVAL, "\"layers\" is not an array");
    size_t n = json_array_size(layers);
    if (n == 0)
        return wr_error_set(err, EINVAL, "the image has no layers");
    if (n > MAX_LAYERS)
        return wr_error_set(err, E2BIG, "the image has %zu layers, at most %d are supported", n,
                            MAX_LAYERS);

    int rlen = wr_store_root_len(root);
    /* "<root>/layers/sha256/<64 hex>/root" plus a ':' or the final NUL. */
    size_t one = (size_t)rlen + strlen("/layers/sha256/") + DIGEST_HEX_LEN + strlen("/root") + 1;
    cleanup_free char *lower = malloc(one * n);
    if (!lower)
        return wr_error_set(err, ENOMEM, "lowerdir");

    size_t pos = 0;
    for (size_t k = n; k-- > 0;) {
        const char *id = json_cstr(json_array_get(layers, k));
        if (!id || !digest_valid(id))
            return wr_error_set(err, EINVAL, "layers[%zu] is not a \"sha256:<64 hex>\" id", k);
        /* Overlayfs refuses a directory stacked twice (and it would be a
         * broken manifest anyway). */
        for (size_t j = k + 1; j < n; j++)
            if (strcmp(id, json_string_value(json_array_get(layers, j))) == 0)
                return wr_error_set(err, EINVAL, "layer %s is listed twice", id);

        char *dir = lower + pos;
        int w = snprintf(dir, one, "%.*s/layers/sha256/%s/root", rlen, root,
                         id + strlen(DIGEST_PREFIX));
        if (w < 0 || (size_t)w >= one)
            return wr_error_set(err, EOVERFLOW, "layer path too long");
        struct stat st;
        /* Only root sees into layers/ (wr_store_layers_private): a user's
         * `image ls` takes the manifest's word; the runtime, root, checks. */
        int seen = stat(dir, &st);
        if (seen < 0 && !(errno == EACCES && geteuid() != 0))
            return wr_error_set(err, errno, "layer %.19s...: %s", id, dir);
        if (seen == 0 && !S_ISDIR(st.st_mode))
            return wr_error_set(err, ENOTDIR, "layer %.19s...: %s", id, dir);
        pos += (size_t)w;
        lower[pos++] = ':';
    }
    lower[pos - 1] = '\0';
    img->lowerdir = steal_pointer(&lower);
    img->n_layers = n;
    return 0;
}

static int parse_manifest(json_t *m, const char *root, struct wr_image *img, wr_error *err)
{
    if (!json_is_object(m))
        return wr_error_set(err, EINVAL, "the manifest is not a JSON object");
    json_t *schema = json_object_get(m, "schema");
    if (!json_is_integer(schema) || json_integer_value(schema) != 1)
        return wr_error_set(err, EINVAL, "unsupported manifest schema (expected 1)");

    const char *id = json_cstr(json_object_get(m, "id"));
    if (!id || !digest_valid(id))
        return wr_error_set(err, EINVAL, "\"id\" is not a \"sha256:<64 hex>\" id");
    if (!(img->id = strdup(id)))
        return wr_error_set(err, ENOMEM, "id");

    if (parse_layers(json_object_get(m, "layers"), root, img, err) < 0)
        return -1;
    return parse_config(json_object_get(m, "config"), img, err);
}

int wr_image_load(const char *root, const char *ref, struct wr_image **out, wr_error *err)
{
    if (wr_store_root_valid(root, err) < 0)
        return -1;
    cleanup_image struct wr_image *img = calloc(1, sizeof *img);
    if (!img)
        return wr_error_set(err, ENOMEM, "load image");
    if (wr_image_ref_parse(ref, &img->name, &img->tag, err) < 0)
        return -1;

    cleanup_free char *path = NULL;
    if (asprintf(&path, "%.*s/images/%s/%s.json", wr_store_root_len(root), root, img->name,
                 img->tag) < 0) {
        path = NULL; /* undefined after a failed asprintf() */
        return wr_error_set(err, ENOMEM, "load image");
    }

    cleanup_free char *buf = NULL;
    size_t len = 0;
    if (read_manifest(path, root, ref, &buf, &len, err) < 0) {
        if (err->errnum == ENOENT)
            not_found_hint(err, root, img->name, img->tag);
        return -1;
    }

    json_error_t jerr;
    json_auto_t *m = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!m)
        return wr_error_set(err, EINVAL, "%s: invalid JSON at line %d: %s", path, jerr.line,
                            jerr.text);
    /* The file's place in the store names the image; the "name" and "tag"
     * fields inside are informational (a copied manifest is a new tag). */
    if (parse_manifest(m, root, img, err) < 0)
        return wr_error_prefix(err, "image %s:%s", img->name, img->tag);

    *out = steal_pointer(&img);
    return 0;
}
