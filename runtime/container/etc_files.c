/* /etc/hosts, /etc/hostname and /etc/resolv.conf: a program expects them
 * (getaddrinfo("localhost") reads /etc/hosts), and Docker provides them in
 * every container, whatever the image has. They are written on the
 * container's own staging tmpfs (which also holds the overlay's upper
 * layer) and bind-mounted onto their targets, so nothing is written into
 * the image's layers, and the kernel drops them with the container's mount
 * namespace. Targets are opened under the root without following a
 * symlink (container_paths.c, CVE-2021-30465's class). */
#include "etc_files.h"

#include "container_paths.h"
#include "lib/openat2.h"

#include "lib/net_cidr.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

/* Kept from the fill to the activation (close-on-exec): -1 when unset. */
static int hosts_fd = -1, hostname_fd = -1;
/* The container's own address on a bridge network, "" without one. */
static char own_address[WR_IPV4_TEXT];
/* The name /etc/hosts gives it (cfg's strings do not outlive the fill:
 * container_main.c overwrites them). */
static char own_hostname[HOST_NAME_MAX + 1];

/* Docker's /etc/hosts (libnetwork etchosts.go's defaults), plus the
 * hostname on the container's own address on a bridge or CNI network, as Docker
 * does; else on 127.0.1.1 (an address on lo, as Debian does: the
 * container has no other address). */
static int hosts_text(char *buf, size_t size, const char *hostname)
{
    int n = snprintf(buf, size,
                     "127.0.0.1\tlocalhost\n"
                     "::1\tlocalhost ip6-localhost ip6-loopback\n"
                     "fe00::0\tip6-localnet\n"
                     "ff00::0\tip6-mcastprefix\n"
                     "ff02::1\tip6-allnodes\n"
                     "ff02::2\tip6-allrouters\n"
                     "%s\t%s\n",
                     own_address[0] ? own_address : "127.0.1.1", hostname);
    return n < 0 || (size_t)n >= size ? -1 : n;
}

static bool loopback_nameserver(const char *line)
{
    const char *p = line + strlen("nameserver");
    while (*p == ' ' || *p == '\t')
        p++;
    return strncmp(p, "127.", 4) == 0 || strncmp(p, "::1", 3) == 0;
}

/* The host's resolv.conf, NUL-terminated in buf; its length (0 when
 * missing or unreadable). */
static ssize_t read_host_resolv(char *buf, size_t size)
{
    int fd = open("/etc/resolv.conf", O_RDONLY | O_CLOEXEC | O_NOCTTY);
    ssize_t got = fd < 0 ? 0 : read(fd, buf, size - 1);
    if (fd >= 0)
        close(fd);
    if (got < 0)
        got = 0;
    buf[got] = '\0';
    return got;
}

/* wr_etc_files_read_host's copy; -1: not read ahead. */
static char host_resolv[4096];
static ssize_t host_resolv_got = -1;

void wr_etc_files_read_host(void)
{
    host_resolv_got = read_host_resolv(host_resolv, sizeof host_resolv);
}

/* The host's resolv.conf without its loopback nameservers (as Docker's
 * resolvconf filter): a 127.x resolver (systemd-resolved's 127.0.0.53,
 * a local dnsmasq) is the host's own, unreachable from the container's
 * network namespace. On a bridge or cni: network, when none is left, Docker's
 * defaults (Google's 8.8.8.8 and 8.8.4.4) take their place; with --network
 * none no nameserver is reachable anyway, and none is added. With
 * --network host the file is the host's as it is: its loopback resolvers
 * are reachable. Read before pivot_root: the host's tree is still ours.
 * Missing or unreadable: the comment line only (and the defaults). */
static int resolv_text(const struct wr_container_config *cfg, char *buf, size_t size)
{
    char host[4096];
    bool nameserver = false;
    int n = snprintf(buf, size, "# warmrun: network %s; the host's resolv.conf%s\n",
                     cfg->host_network  ? "host"
                     : cfg->net_address ? "bridge"
                     : cfg->cni_network ? "cni"
                                        : "none",
                     cfg->host_network ? "" : " without loopback nameservers");
    if (host_resolv_got >= 0)
        memcpy(host, host_resolv, (size_t)host_resolv_got + 1);
    else
        read_host_resolv(host, sizeof host);
    for (char *line = host, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        bool is_ns = strncmp(line, "nameserver", 10) == 0;
        if (is_ns && !cfg->host_network && loopback_nameserver(line))
            continue;
        int m = snprintf(buf + n, size - (size_t)n, "%s\n", line);
        if (m < 0 || (size_t)m >= size - (size_t)n)
            break; /* longer than glibc reads in practice: cut at a line */
        n += m;
        nameserver |= is_ns;
    }
    if ((cfg->net_address || cfg->cni_network) && !nameserver) {
        int m = snprintf(buf + n, size - (size_t)n, "nameserver 8.8.8.8\nnameserver 8.8.4.4\n");
        if (m > 0 && (size_t)m < size - (size_t)n)
            n += m;
    }
    return n;
}

/* Makes staging/name holding text (mode 0644, owned by the container's
 * root); returns a read-write close-on-exec descriptor on it. */
static int write_source(const struct wr_container_config *cfg, const char *path, const char *text,
                        size_t len, wr_error *err)
{
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0)
        return wr_error_set(err, errno, "create %s", path);
    uid_t owner = cfg->userns_fd >= 0 ? cfg->security->userns_base : 0;
    if (write(fd, text, len) != (ssize_t)len || (owner && fchown(fd, owner, owner) < 0)) {
        int e = errno;
        close(fd);
        return wr_error_set(err, e ? e : EIO, "write %s", path);
    }
    return fd;
}

/* The target etc/name under etc_fd, as an O_PATH descriptor on a regular
 * file: made (empty, 0644) if missing; a symlink or other non-directory is
 * unlinked first, a directory refused. Nothing of the image runs before
 * the bind mount, so the descriptor still names what we checked. */
static int open_target(int etc_fd, const char *name, uid_t owner, wr_error *err)
{
    struct open_how how = {
        .flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
    };
    int fd = wr_openat2(etc_fd, name, &how);
    if (fd < 0 && errno != ENOENT)
        return wr_error_set(err, errno, "open /etc/%s in the container's root", name);
    if (fd >= 0) {
        struct stat st;
        if (fstat(fd, &st) < 0) {
            int e = errno;
            close(fd);
            return wr_error_set(err, e, "stat /etc/%s", name);
        }
        if (S_ISREG(st.st_mode))
            return fd;
        close(fd);
        if (S_ISDIR(st.st_mode))
            return wr_error_set(err, 0, "the image's /etc/%s is a directory: refused", name);
        /* A symlink (to /etc/shadow, to "../../..") is never followed:
         * removed from the container's view (a whiteout in its upper
         * layer) and replaced by a file of our own. */
        if (unlinkat(etc_fd, name, 0) < 0)
            return wr_error_set(err, errno, "replace the image's /etc/%s", name);
    }
    int made = openat(etc_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (made < 0)
        return wr_error_set(err, errno, "create /etc/%s", name);
    if (owner && fchown(made, owner, owner) < 0) {
        int e = errno;
        close(made);
        return wr_error_set(err, e, "chown /etc/%s", name);
    }
    close(made);
    fd = wr_openat2(etc_fd, name, &how);
    if (fd < 0)
        return wr_error_set(err, errno, "open /etc/%s in the container's root", name);
    return fd;
}

static int bind_one(const struct wr_container_config *cfg, int etc_fd, const char *name,
                    const char *text, size_t len, int *keep, wr_error *err)
{
    char src[PATH_MAX], what[32];
    int n = snprintf(src, sizeof src, "%s/%s", cfg->staging_dir, name);
    if (n < 0 || (size_t)n >= sizeof src)
        return wr_error_set(err, ENAMETOOLONG, "path %s/%s", cfg->staging_dir, name);
    uid_t owner = cfg->userns_fd >= 0 ? cfg->security->userns_base : 0;
    int src_fd = write_source(cfg, src, text, len, err);
    if (src_fd < 0)
        return -1;
    snprintf(what, sizeof what, "etc/%s", name);
    int target = open_target(etc_fd, name, owner, err);
    int rc = -1;
    /* A bind keeps the tmpfs's nosuid,nodev; read-only is the bind's own. */
    bool read_only = cfg->security && cfg->security->read_only;
    if (target < 0 || wr_bind_file_on_fd(src, target, what, read_only, err) < 0)
        goto out;
    rc = 0;
    if (keep) {
        *keep = src_fd;
        src_fd = -1;
    }
out:
    if (target >= 0)
        close(target);
    if (src_fd >= 0)
        close(src_fd);
    return rc;
}

int wr_etc_files_setup(const struct wr_container_config *cfg, int root_fd, wr_error *err)
{
    char hosts[512], hostname[128], resolv[4096];
    uid_t owner = cfg->userns_fd >= 0 ? cfg->security->userns_base : 0;
    own_address[0] = '\0';
    if (cfg->net_address)
        wr_ipv4_format(cfg->net_address, own_address);
    int hl = hosts_text(hosts, sizeof hosts, cfg->hostname);
    int nl = snprintf(hostname, sizeof hostname, "%s\n", cfg->hostname);
    if (hl < 0 || nl < 0 || (size_t)nl >= sizeof hostname)
        return wr_error_set(err, ENAMETOOLONG, "hostname %s", cfg->hostname);
    int rl = resolv_text(cfg, resolv, sizeof resolv);
    snprintf(own_hostname, sizeof own_hostname, "%s", cfg->hostname);

    bool made = mkdirat(root_fd, "etc", 0755) == 0;
    if (made && owner && fchownat(root_fd, "etc", owner, owner, AT_SYMLINK_NOFOLLOW) < 0)
        return wr_error_set(err, errno, "chown /etc");
    int etc_fd = wr_mount_target_open(root_fd, "etc", 0755, err);
    if (etc_fd < 0)
        return -1;
    int rc =
        bind_one(cfg, etc_fd, "hosts", hosts, (size_t)hl, &hosts_fd, err) < 0 ||
                bind_one(cfg, etc_fd, "hostname", hostname, (size_t)nl, &hostname_fd, err) < 0 ||
                bind_one(cfg, etc_fd, "resolv.conf", resolv, (size_t)rl, NULL, err) < 0
            ? -1
            : 0;
    close(etc_fd);
    return rc;
}

static int rewrite(int fd, const char *name, const char *text, size_t len, wr_error *err)
{
    if (fd < 0)
        return 0;
    if (pwrite(fd, text, len, 0) != (ssize_t)len || ftruncate(fd, (off_t)len) < 0)
        return wr_error_set(err, errno ? errno : EIO, "rewrite /etc/%s", name);
    return 0;
}

int wr_etc_files_set_hostname(const char *hostname, wr_error *err)
{
    char hosts[512], line[128];
    int hl = hosts_text(hosts, sizeof hosts, hostname);
    int nl = snprintf(line, sizeof line, "%s\n", hostname);
    if (hl < 0 || nl < 0 || (size_t)nl >= sizeof line)
        return wr_error_set(err, ENAMETOOLONG, "hostname %s", hostname);
    if (rewrite(hosts_fd, "hosts", hosts, (size_t)hl, err) < 0 ||
        rewrite(hostname_fd, "hostname", line, (size_t)nl, err) < 0)
        return -1;
    snprintf(own_hostname, sizeof own_hostname, "%s", hostname);
    return 0;
}

int wr_etc_files_set_address(uint32_t address, wr_error *err)
{
    char hosts[512];
    if (!address)
        return 0;
    wr_ipv4_format(address, own_address);
    int hl = hosts_text(hosts, sizeof hosts, own_hostname);
    if (hl < 0)
        return wr_error_set(err, ENAMETOOLONG, "hostname %s", own_hostname);
    return rewrite(hosts_fd, "hosts", hosts, (size_t)hl, err);
}
