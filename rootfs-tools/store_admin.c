/* Store housekeeping; see store_admin.h. */
#include "store_admin.h"

#include "lib/file_lock.h"
#include "lib/cleanup.h"
#include "lib/image_store.h"
#include "layer_unpack.h"
#include "store_write.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

/* What the store's writers leave in tmp/ while they work: staging
 * directories of layers (wr_store_stage), layers being removed
 * (wr_store_layer_remove) and manifests being written. Every writer holds
 * the store lock while such a name exists, so one found by the lock's new
 * holder is a dead writer's: an import killed by SIGTERM or SIGKILL (a
 * timeout, the OOM killer) left its half-unpacked layer, up to --max-size
 * of the host's disk, there for good. */
static void sweep_tmp(const char *root)
{
    char path[4096];
    snprintf(path, sizeof path, "%.*s/tmp", wr_store_root_len(root), root);
    cleanup_closedir DIR *d = opendir(path); /* the store's own, root's (wr_store_init) */
    if (!d)
        return;
    static const char *const prefixes[] = {"layer-", "gc-", "manifest-"};
    struct dirent *de;
    while ((de = readdir(d)))
        for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
            if (strncmp(de->d_name, prefixes[i], strlen(prefixes[i])) == 0) {
                wr_error ignored; /* best effort: the next writer tries again */
                (void)wr_remove_at(dirfd(d), de->d_name, &ignored);
                break;
            }
}

int wr_store_lock(const char *root, wr_error *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%.*s/lock", wr_store_root_len(root), root);
    int fd = wr_lock_file(path, err);
    if (fd >= 0)
        sweep_tmp(root);
    return fd;
}

int wr_store_layer_remove(const char *root, const char *hex, wr_error *err)
{
    char from[4096], to[4096], name[WR_DIGEST_HEX_LEN + 32];
    int rlen = wr_store_root_len(root);
    /* Out of layers/ in one rename, then removed at leisure. The name is
     * unique, so a removal that failed half way never blocks a later one. */
    unsigned int nonce;
    if (getrandom(&nonce, sizeof nonce, 0) != (ssize_t)sizeof nonce)
        return wr_error_set(err, errno, "getrandom");
    snprintf(name, sizeof name, "gc-%s-%08x", hex, nonce);
    snprintf(from, sizeof from, "%.*s/layers/sha256/%s", rlen, root, hex);
    snprintf(to, sizeof to, "%.*s/tmp/%s", rlen, root, name);
    if (rename(from, to) < 0)
        return wr_error_set(err, errno, "remove layer %.12s", hex);
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%.*s/tmp", rlen, root);
    cleanup_close int fd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return wr_error_set(err, errno, "open %s", tmp);
    return wr_remove_at(fd, name, err);
}

int wr_store_image_remove(const char *root, const char *name, const char *tag, wr_error *err)
{
    char path[4096];
    int rlen = wr_store_root_len(root);
    snprintf(path, sizeof path, "%.*s/images/%s/%s.json", rlen, root, name, tag);
    if (unlink(path) < 0) {
        if (errno == ENOENT)
            return wr_error_set(err, 0, "image \"%s:%s\" not found in %s", name, tag, root);
        return wr_error_set(err, errno, "remove %s", path);
    }
    /* Empty name directories go too (best effort: another tag keeps them). */
    for (char *slash = strrchr(path, '/'); slash; slash = strrchr(path, '/')) {
        *slash = '\0';
        if (strlen(path) <= (size_t)rlen + strlen("/images") || rmdir(path) < 0)
            break;
    }
    return 0;
}

/* Adds the layers every manifest lists to keep; -1 when one is unreadable. */
static int collect_used(const char *root, json_t *keep, wr_error *err)
{
    struct wr_store_entry *e = NULL;
    size_t n = 0;
    if (wr_store_list(root, &e, &n, err) < 0)
        return -1;
    int rlen = wr_store_root_len(root), ret = 0;
    for (size_t i = 0; i < n && ret == 0; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%.*s/images/%s/%s.json", rlen, root, e[i].name, e[i].tag);
        json_auto_t *m = wr_store_read_json(path, err);
        json_t *layers = m ? json_object_get(m, "layers") : NULL;
        if (!json_is_array(layers)) {
            ret = wr_error_set(err, EINVAL, "%s:%s has an unreadable manifest: freeing no layer",
                               e[i].name, e[i].tag);
            break;
        }
        size_t k;
        json_t *l;
        json_array_foreach(layers, k, l) if (json_is_string(l) && strlen(json_string_value(l)) > 7)
            json_object_set_new(keep, json_string_value(l) + 7, json_true());
    }
    wr_store_list_free(e, n);
    return ret;
}

/* A container in a user namespace stacks idmapped copies of its layers,
 * each mounted at a directory named after the layer's hex id (the store's
 * own path is gone from the mount table): keep those too. A hex id of
 * another store kept here only delays nothing: it is not in this one. */
static void keep_idmapped(const char *line, json_t *keep)
{
    const char *p = strstr(line, "lowerdir=");
    if (!p)
        return;
    p += strlen("lowerdir=");
    while (*p && *p != ',' && *p != ' ' && *p != '\n') {
        size_t len = strcspn(p, ":, \n");
        const char *base = p + len;
        while (base > p && base[-1] != '/')
            base--;
        size_t blen = (size_t)(p + len - base);
        if (blen == WR_DIGEST_HEX_LEN && strspn(base, "0123456789abcdef") >= blen) {
            char hex[WR_DIGEST_HEX_LEN + 1];
            snprintf(hex, sizeof hex, "%.64s", base);
            json_object_set_new(keep, hex, json_true());
        }
        p += len + (p[len] == ':');
    }
}

/* Adds the layers of this store that some overlayfs mount lists (a warm or
 * running container's root, in its own mount namespace): they stay until
 * the containers are gone, manifest or not. Each mount namespace is read
 * once, through the first process found in it. */
static void collect_mounted(const char *root, json_t *keep)
{
    char prefix[4200];
    snprintf(prefix, sizeof prefix, "%.*s/layers/sha256/", wr_store_root_len(root), root);
    size_t plen = strlen(prefix);
    json_auto_t *seen_ns = json_object();
    cleanup_closedir DIR *proc = opendir("/proc");
    struct dirent *de;
    while (proc && seen_ns && (de = readdir(proc))) {
        if (de->d_name[0] < '1' || de->d_name[0] > '9')
            continue;
        char path[64], ns[64];
        snprintf(path, sizeof path, "/proc/%.20s/ns/mnt", de->d_name);
        ssize_t n = readlink(path, ns, sizeof ns - 1);
        if (n <= 0)
            continue;
        ns[n] = '\0';
        if (json_object_get(seen_ns, ns))
            continue;
        json_object_set_new(seen_ns, ns, json_true());
        snprintf(path, sizeof path, "/proc/%.20s/mountinfo", de->d_name);
        cleanup_fclose FILE *f = fopen(path, "re");
        cleanup_free char *line = NULL;
        size_t cap = 0;
        while (f && getline(&line, &cap, f) > 0) {
            if (!strstr(line, " - overlay "))
                continue;
            for (const char *p = strstr(line, prefix); p; p = strstr(p + 1, prefix)) {
                char hex[WR_DIGEST_HEX_LEN + 1];
                snprintf(hex, sizeof hex, "%.64s", p + plen);
                if (strlen(hex) == WR_DIGEST_HEX_LEN)
                    json_object_set_new(keep, hex, json_true());
            }
            keep_idmapped(line, keep);
        }
    }
}

int wr_store_gc(const char *root, size_t *freed, wr_error *err)
{
    *freed = 0;
    json_auto_t *keep = json_object();
    if (!keep)
        return wr_error_set(err, ENOMEM, "gc");
    if (collect_used(root, keep, err) < 0)
        return -1;
    collect_mounted(root, keep);
    char dir[4096];
    snprintf(dir, sizeof dir, "%.*s/layers/sha256", wr_store_root_len(root), root);
    cleanup_closedir DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? 0 : wr_error_set(err, errno, "open %s", dir);
    struct dirent *de;
    int rc = 0;
    wr_error one;
    while ((errno = 0, de = readdir(d))) {
        if (strlen(de->d_name) != WR_DIGEST_HEX_LEN || json_object_get(keep, de->d_name))
            continue;
        /* One layer that cannot go does not keep the others: report the
         * first failure after trying them all. */
        if (wr_store_layer_remove(root, de->d_name, &one) < 0) {
            if (rc == 0)
                *err = one;
            rc = -1;
            continue;
        }
        (*freed)++;
    }
    return rc;
}
