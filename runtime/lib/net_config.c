/* See net_config.h. */
#include "net_config.h"

#include "state_file.h"

#include "cleanup.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool wr_net_name_valid(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > WR_NET_NAME_MAX || name[0] < 'a' || name[0] > 'z')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
              name[i] == '_'))
            return false;
    return true;
}

bool wr_cni_name_valid(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > WR_NET_NAME_MAX || !isalnum((unsigned char)name[0]))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)name[i]) && !strchr("_.-", name[i]))
            return false;
    return true;
}

bool wr_ifname_valid(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n >= IFNAMSIZ || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' && name[i] <= 'Z') ||
              (name[i] >= '0' && name[i] <= '9') || strchr("_.-", name[i])))
            return false;
    return true;
}

int wr_net_mode_parse(const char *s, struct wr_net_mode *m, wr_error *err)
{
    memset(m, 0, sizeof *m);
    if (!s || !*s || strcmp(s, "none") == 0)
        return 0;
    if (strcmp(s, "host") == 0) {
        m->kind = WR_NET_HOST;
        return 0;
    }
    if (strncmp(s, "cni:", 4) == 0) {
        if (!wr_cni_name_valid(s + 4))
            return wr_error_set(err, 0,
                                "--network %s: a CNI network name is a letter or digit, then at "
                                "most %d letters, digits, '_', '.' or '-'",
                                s, WR_NET_NAME_MAX - 1);
        m->kind = WR_NET_CNI;
        snprintf(m->name, sizeof m->name, "%s", s + 4);
        return 0;
    }
    const char *name = NULL;
    if (strcmp(s, "bridge") == 0)
        name = WR_NET_DEFAULT_NAME;
    else if (strncmp(s, "bridge=", 7) == 0)
        name = s + 7;
    if (!name)
        return wr_error_set(
            err, 0, "--network %s: expected none, host, bridge, bridge=NAME or cni:NAME", s);
    if (!wr_net_name_valid(name))
        return wr_error_set(err, 0,
                            "--network %s: a network name is a lower-case letter, then at most "
                            "%d lower-case letters, digits or '_'",
                            s, WR_NET_NAME_MAX - 1);
    m->kind = WR_NET_BRIDGE;
    snprintf(m->name, sizeof m->name, "%s", name);
    return 0;
}

void wr_net_mode_format(const struct wr_net_mode *m, char *out)
{
    switch (m->kind) {
    case WR_NET_HOST:
        snprintf(out, WR_NET_MODE_TEXT, "host");
        break;
    case WR_NET_BRIDGE:
        snprintf(out, WR_NET_MODE_TEXT, "bridge=%s", m->name);
        break;
    case WR_NET_CNI:
        snprintf(out, WR_NET_MODE_TEXT, "cni:%s", m->name);
        break;
    default:
        snprintf(out, WR_NET_MODE_TEXT, "none");
    }
}

void wr_network_default(struct wr_network *n)
{
    wr_error err;
    memset(n, 0, sizeof *n);
    snprintf(n->name, sizeof n->name, "%s", WR_NET_DEFAULT_NAME);
    snprintf(n->bridge, sizeof n->bridge, "%s", WR_NET_DEFAULT_BRIDGE);
    wr_cidr_parse(WR_NET_DEFAULT_SUBNET, &n->subnet, &err);
    n->gateway = n->subnet.addr + 1;
}

int wr_network_dir(const char *state_dir, bool create, char *out, size_t cap, wr_error *err)
{
    int len = snprintf(out, cap, "%s/networks", state_dir);
    if (len < 0 || (size_t)len >= cap)
        return wr_error_set(err, ENAMETOOLONG, "state dir %s", state_dir);
    if (create && mkdir(out, 0700) < 0 && errno != EEXIST)
        return wr_error_set(err, errno, "mkdir %s", out);
    return 0;
}

static int record_path(const char *state_dir, const char *name, const char *suffix, char *out,
                       size_t cap, wr_error *err)
{
    char dir[4096];
    if (wr_network_dir(state_dir, false, dir, sizeof dir, err) < 0)
        return -1;
    int len = snprintf(out, cap, "%s/%s%s", dir, name, suffix);
    if (len < 0 || (size_t)len >= cap)
        return wr_error_set(err, ENAMETOOLONG, "network %s", name);
    return 0;
}

int wr_network_load(const char *state_dir, const char *name, struct wr_network *n, wr_error *err)
{
    char path[4096], line[256];
    if (!wr_net_name_valid(name))
        return wr_error_set(err, 0, "\"%s\" is not a network name", name);
    if (record_path(state_dir, name, ".net", path, sizeof path, err) < 0)
        return -1;
    cleanup_fclose FILE *f = wr_fopen_regular(path);
    if (!f)
        return errno == ENOENT ? wr_error_code(err, ENOENT, "no network %s", name)
                               : wr_error_set(err, errno, "open %s", path);
    memset(n, 0, sizeof *n);
    bool have_subnet = false;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        char *v = strchr(line, '=');
        if (!v)
            continue;
        *v++ = '\0';
        if (strcmp(line, "name") == 0)
            snprintf(n->name, sizeof n->name, "%s", v);
        else if (strcmp(line, "bridge") == 0)
            snprintf(n->bridge, sizeof n->bridge, "%s", v);
        else if (strcmp(line, "subnet") == 0)
            have_subnet = wr_cidr_parse(v, &n->subnet, err) == 0;
    }
    if (strcmp(n->name, name) != 0 || !wr_ifname_valid(n->bridge) || !have_subnet)
        return wr_error_set(err, EINVAL, "%s: not a valid network record", path);
    n->gateway = n->subnet.addr + 1;
    return 0;
}

int wr_network_save(const char *state_dir, const struct wr_network *n, wr_error *err)
{
    char dir[4096], path[4096], tmp[4200], subnet[WR_CIDR_TEXT], text[256];
    if (wr_network_dir(state_dir, true, dir, sizeof dir, err) < 0 ||
        record_path(state_dir, n->name, ".net", path, sizeof path, err) < 0)
        return -1;
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    wr_cidr_format(&n->subnet, subnet);
    int len =
        snprintf(text, sizeof text, "name=%s\nbridge=%s\nsubnet=%s\n", n->name, n->bridge, subnet);
    if (access(path, F_OK) == 0)
        return wr_error_code(err, EEXIST, "network %s already exists", n->name);
    cleanup_close int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return wr_error_set(err, errno, "create %s", tmp);
    if (write(fd, text, (size_t)len) != len || fsync(fd) < 0 || rename(tmp, path) < 0) {
        int e = errno;
        unlink(tmp);
        return wr_error_set(err, e ? e : EIO, "write %s", path);
    }
    return 0;
}

int wr_network_remove_record(const char *state_dir, const char *name, wr_error *err)
{
    static const char *const suffixes[] = {".leases", ".lock", ".net"};
    char path[4096];
    for (size_t i = 0; i < 3; i++) {
        if (record_path(state_dir, name, suffixes[i], path, sizeof path, err) < 0)
            return -1;
        if (unlink(path) < 0 && errno != ENOENT)
            return wr_error_set(err, errno, "remove %s", path);
    }
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct wr_network *)a)->name, ((const struct wr_network *)b)->name);
}

int wr_network_list(const char *state_dir, struct wr_network **out, size_t *count, wr_error *err)
{
    char dir[4096];
    struct dirent *de;
    size_t n = 0, cap = 0;
    *out = NULL;
    *count = 0;
    if (wr_network_dir(state_dir, false, dir, sizeof dir, err) < 0)
        return -1;
    cleanup_closedir DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? 0 : wr_error_set(err, errno, "open %s", dir);
    cleanup_free struct wr_network *list = NULL;
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);
        char name[WR_NET_NAME_MAX + 1];
        if (len <= 4 || len - 4 > WR_NET_NAME_MAX || strcmp(de->d_name + len - 4, ".net") != 0)
            continue;
        snprintf(name, sizeof name, "%.*s", (int)(len - 4), de->d_name);
        if (n == cap) {
            cap = cap ? 2 * cap : 8;
            struct wr_network *grown = realloc(list, cap * sizeof *list);
            if (!grown)
                return wr_error_set(err, ENOMEM, "network list");
            list = grown;
        }
        wr_error ignored;
        if (wr_network_load(state_dir, name, &list[n], &ignored) == 0)
            n++;
    }
    if (n)
        qsort(list, n, sizeof *list, by_name);
    *out = steal_pointer(&list);
    *count = n;
    return 0;
}
