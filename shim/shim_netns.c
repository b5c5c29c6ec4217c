/* The pristine check of a recycled network namespace (docs/security.md,
 * "Recycled network namespaces"), run by the shim after its container's
 * pid 1 was reaped, so after every process of its pid namespace died (the
 * kernel reaps them all before pid 1, zap_pid_ns_processes). Off the hot
 * path: the client already has its exit event; the daemon never waits for
 * it (it only receives the namespace, or not).
 *
 * What a workload that the recycling predicate admits (no CAP_NET_ADMIN,
 * no CAP_SYS_ADMIN, no --userns, /proc/sys read-only; a user namespace it
 * makes itself gives it no capability over this network namespace, which
 * the host's owns) can leave in its network namespace is sockets, and the
 * traces of packets it sent (TIME_WAIT, TCP metrics, fragment queues,
 * counters). So a namespace is
 * offered back only if, queried from inside it:
 *   - no IPv6 flow label is left (they outlive their sockets), and every
 *     SNMP MIB counter (snmp, netstat, snmp6) is 0, as in a fresh one;
 *   - no socket of any kind is left: /proc/net/sockstat's count of every
 *     socket equals the fresh namespace's (its kernel sockets only, counted
 *     by the shim that created it, before any workload), every protocol's
 *     inuse (TCP, UDP, UDPLITE, RAW, FRAG, over IPv4 and IPv6; orphaned TCP
 *     sockets included) and TCP's tw (TIME_WAIT) are 0: per-namespace
 *     counters, read in ~14 us. NETLINK_SOCK_DIAG dumps of unix and packet
 *     sockets (per-namespace lists) must come back empty. Not TCP and UDP
 *     dumps: inet_diag walks the host-wide hash tables and filters by
 *     namespace (~460 us per check here), and the counters say the same;
 *   - lo is the only link, up, and has carried no packet at all (its
 *     counters are 0), so that nothing a packet leaves behind exists;
 *   - the only addresses are 127.0.0.1/8 and ::1/128, and every route goes
 *     through lo;
 *   - no TCP Fast Open key was made, no IPv6 route is cached per CPU
 *     (/proc/net/rt6_stats), and lo still has the multicast
 *     versions (IGMPv2, MLDv1) its first shim set, under which no report
 *     of a group is sent after its last socket left it.
 * Anything else, or any error: the namespace is not offered, and the
 * kernel destroys it as before. */
#include "shim.h"

#include "lib/cleanup.h"
#include "lib/fdpass.h"
#include "lib/nl_dump.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/netlink.h>
#include <linux/packet_diag.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

/* The entered namespace's /proc/thread-self/net, open while the shim is
 * in it (baseline, offer), -1 outside. Its files are opened relative to
 * it: one walk of /proc/thread-self/net per check instead of one per
 * file. Still the entered namespace's: each lookup under it takes the
 * namespace of the thread at that lookup (proc_tgid_net_lookup). */
static int net_dir = -1;

static int open_net(const char *name)
{
    return openat(net_dir, name, O_RDONLY | O_CLOEXEC);
}

/* ---- sockets ------------------------------------------------------------ */

/* /proc/thread-self/net/sockstat{,6} of the namespace we are in: the
 * count of every socket (used), and whether every protocol's inuse, tw
 * and FRAG are 0. Returns -1 when unreadable. */
static int read_sockstat(long *used, bool *empty)
{
    static const char *const files[] = {"sockstat", "sockstat6"};
    *used = -1;
    *empty = true;
    for (size_t i = 0; i < 2; i++) {
        char buf[1024];
        cleanup_close int fd = open_net(files[i]);
        if (fd < 0)
            return -1;
        ssize_t n = read(fd, buf, sizeof buf - 1);
        if (n <= 0)
            return -1;
        buf[n] = '\0';
        for (char *line = buf, *end; *line; line = end + 1) {
            end = strchr(line, '\n');
            if (!end)
                break;
            *end = '\0';
            if (strncmp(line, "sockets: used ", 14) == 0) {
                char *end_n;
                long v = strtol(line + 14, &end_n, 10);
                if (end_n > line + 14)
                    *used = v;
                continue;
            }
            /* "PROTO: inuse N ...", "TCP: inuse N orphan N tw N ...",
             * "FRAG: inuse N memory N": every one 0. */
            for (char *w = strchr(line, ':'); w && *w; w++)
                if ((strncmp(w, " inuse ", 7) == 0 && w[7] != '0') ||
                    (strncmp(w, " tw ", 4) == 0 && w[4] != '0'))
                    *empty = false;
        }
    }
    return *used < 0 ? -1 : 0;
}

/* One NETLINK_SOCK_DIAG dump that must come back empty. */
static bool diag_empty(int fd, void *req, size_t len)
{
    return wr_nl_dump(fd, req, len, NULL, NULL) == 0;
}

/* How long the check waits for closed sockets to be freed (see below), and
 * how often it looks again. */
#define SETTLE_TRIES   50
#define SETTLE_STEP_NS 1000000L

/* "used" counts a closed socket until the kernel frees it, and some are
 * freed only after an RCU grace period: every netlink socket
 * (netlink_release defers its free with call_rcu), so the two of the last
 * check in this namespace and any a workload closed as it exited. Under
 * load a grace period lasts milliseconds, longer than from the last exit to
 * this check: 18 % of the namespaces that had passed every check were lost
 * for that alone (`bench load --concurrency 8`), each then replaced by a new
 * namespace, its set-up and its cleanup_net. So an excess with every
 * protocol's counters at 0 is looked at again, sleeping (no CPU), for at
 * most SETTLE_TRIES steps of 1 ms: a socket that is being freed leaves;
 * one that something still holds (an SCM_RIGHTS message in flight, a
 * reference the kernel keeps) stays, and the namespace is not offered. */
static bool sockets_settle(long baseline, long *used)
{
    bool empty = true;
    for (int i = 0; i < SETTLE_TRIES && (*used > baseline) && empty; i++) {
        struct timespec step = {.tv_sec = 0, .tv_nsec = SETTLE_STEP_NS};
        nanosleep(&step, NULL);
        if (read_sockstat(used, &empty) < 0)
            return false;
    }
    return empty && *used == baseline;
}

static bool no_sockets(long baseline)
{
    long used;
    bool empty;
    /* First, before our diag socket counts in "used". */
    if (read_sockstat(&used, &empty) < 0 || !empty || used < baseline ||
        !sockets_settle(baseline, &used))
        return false;
    cleanup_close int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (fd < 0)
        return false;
    struct {
        struct nlmsghdr h;
        struct unix_diag_req r;
    } unix_req = {
        .h = {.nlmsg_len = sizeof unix_req,
              .nlmsg_type = SOCK_DIAG_BY_FAMILY,
              .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP},
        .r = {.sdiag_family = AF_UNIX, .udiag_states = ~0U},
    };
    struct {
        struct nlmsghdr h;
        struct packet_diag_req r;
    } packet = {
        .h = {.nlmsg_len = sizeof packet,
              .nlmsg_type = SOCK_DIAG_BY_FAMILY,
              .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP},
        .r = {.sdiag_family = AF_PACKET},
    };
    return diag_empty(fd, &unix_req, sizeof unix_req) && diag_empty(fd, &packet, sizeof packet);
}

/* ---- state that outlives its socket ---------------------------------------- */

/* IPv6 flow labels (IPV6_FLOWLABEL_MGR): any socket may create one that
 * lingers up to 150 s after the socket closed, in a per-namespace table
 * that a later tenant reads (/proc/net/ip6_flowlabel: label, owner,
 * destination) and may use. The file must hold its header line only. */
static bool no_flowlabels(void)
{
    char buf[256];
    cleanup_close int fd = open_net("ip6_flowlabel");
    if (fd < 0)
        return errno == ENOENT; /* a host without IPv6 */
    ssize_t n = read(fd, buf, sizeof buf - 1);
    if (n <= 0)
        return false;
    buf[n] = '\0';
    char *nl = strchr(buf, '\n');
    return nl && nl[1] == '\0';
}

/* Reads a small /proc file (path relative to dir) whole into buf (cap
 * bytes, NUL-terminated). Returns 1, 0 when the file does not exist
 * (IPv6's, on a host without IPv6: one lookup, no access() before), -1
 * when unreadable or larger. */
static int read_proc(int dir, const char *path, char *buf, size_t cap)
{
    cleanup_close int fd = openat(dir, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -1;
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fd, buf + len, cap - 1 - len);
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        len += (size_t)n;
        if (len == cap - 1)
            return -1;
    }
    buf[len] = '\0';
    return 1;
}

/* read_proc of a file of net_dir that must exist. */
static bool read_small(const char *name, char *buf, size_t cap)
{
    return read_proc(net_dir, name, buf, cap) == 1;
}

/* The namespace's SNMP MIB counters (RFC 1213, 4293, and Linux's TcpExt,
 * IpExt, MPTcpExt... of /proc/net/snmp and netstat: a line of names, then
 * one of values; snmp6: "name value" lines) are all 0 in a fresh namespace
 * and count what a tenant did even without a packet on lo (OutNoRoutes
 * for a send to an address with no route): a later tenant would read
 * them. Every one must be 0, but the few objects that are settings, not
 * counters. */
static bool setting(const char *name, size_t len)
{
    static const char *const settings[] = {"Forwarding", "DefaultTTL", "RtoAlgorithm",
                                           "RtoMin",     "RtoMax",     "MaxConn"};
    for (size_t i = 0; i < sizeof settings / sizeof *settings; i++)
        if (strlen(settings[i]) == len && memcmp(settings[i], name, len) == 0)
            return true;
    return false;
}

/* Plain scans: these files hold ~400 words per check, and musl's strcspn
 * builds a 256-bit table at every call (its samples led the shim's own
 * user time in a profile at 8 clients). */
static const char *skip_spaces(const char *p)
{
    while (*p == ' ')
        p++;
    return p;
}

static size_t word_len(const char *p)
{
    const char *e = p;
    while (*e && *e != ' ' && *e != '\n')
        e++;
    return (size_t)(e - p);
}

static bool mib_zero(const char *path)
{
    static char buf[16384];
    if (!read_small(path, buf, sizeof buf))
        return false;
    char *names = buf;
    while (*names) {
        char *values = strchr(names, '\n');
        if (!values)
            return false;
        values++;
        char *end = strchr(values, '\n');
        if (!end)
            return false;
        /* Both lines start with the same "Proto:"; then word for word. */
        const char *n = strchr(names, ' '), *v = strchr(values, ' ');
        if (!n || !v || n > values || v > end)
            return false;
        while (*n == ' ' && *v == ' ') {
            n = skip_spaces(n);
            v = skip_spaces(v);
            size_t nl = word_len(n), vl = word_len(v);
            if (!(vl == 1 && *v == '0') && !setting(n, nl))
                return false;
            n += nl;
            v += vl;
        }
        names = end + 1;
    }
    return true;
}

static bool snmp6_zero(void)
{
    static char buf[16384];
    int got = read_proc(net_dir, "snmp6", buf, sizeof buf);
    if (got <= 0)
        return got == 0; /* absent: a host without IPv6 */
    for (char *line = buf; *line;) {
        char *end = strchr(line, '\n');
        if (!end)
            return false;
        char *v = line;
        while (*v && *v != ' ' && *v != '\t' && *v != '\n')
            v++;
        while (*v == ' ' || *v == '\t')
            v++;
        if (!(v[0] == '0' && v + 1 == end))
            return false;
        line = end + 1;
    }
    return true;
}

static bool counters_zero(void)
{
    return mib_zero("snmp") && mib_zero("netstat") && snmp6_zero();
}

/* ---- state kept past the sockets, with no packet before the check -------- */

/* TCP Fast Open's server key: made for the namespace the first time a
 * socket turns TFO on for a listen (TCP_FASTOPEN: no capability, no
 * packet, no counter), kept for the namespace's life, and readable by its
 * root in /proc/sys/net/ipv4/tcp_fastopen_key: the next tenant would share
 * a secret with the last one, whose TFO cookies it could forge. A fresh
 * namespace reads all zeros.
 *
 * Read through the container's own proc instance (proc, its /proc opened
 * at the fill, shim_netns_baseline), when the shim holds it: in the
 * host's /proc/sys every network namespace looked up there has its own
 * "net" dentry, all in one hash chain that every lookup of a path under
 * /proc/sys/net walks (proc_sys_compare on each: ~20 us with 400
 * namespaces), while the container's instance has only what was looked
 * up through it. Each component of the path is resolved now, with the
 * shim in the namespace checked, so the value is that namespace's, as by
 * the host's path. */
static bool no_fastopen_key(int proc)
{
    char buf[128];
    int got = proc >= 0
                  ? read_proc(proc, "sys/net/ipv4/tcp_fastopen_key", buf, sizeof buf)
                  : read_proc(AT_FDCWD, "/proc/sys/net/ipv4/tcp_fastopen_key", buf, sizeof buf);
    return got == 1 && strcmp(buf, "00000000-00000000-00000000-00000000\n") == 0;
}

/* IPv6 routes cached per CPU (rt6_make_pcpu_route): a UDP connect to ::1,
 * with no packet, caches the route for the CPU it ran on, for the
 * namespace's life; the next tenant read how many in /proc/net/rt6_stats
 * (fib_rt_alloc, the third field) and in ipv6_route's use counts, so which
 * CPUs the last one connected on: a few bits of its choosing. A fresh
 * namespace has none, nor any route exception (fib_rt_cache, the fifth). */
static bool no_route6_cache(void)
{
    char buf[128];
    unsigned long f[7];
    int got = read_proc(net_dir, "rt6_stats", buf, sizeof buf);
    if (got <= 0)
        return got == 0; /* absent: a host without IPv6 */
    /* Seven hexadecimal fields, "%04x %04x ...". */
    char *p = buf;
    for (int i = 0; i < 7; i++) {
        char *end;
        f[i] = strtoul(p, &end, 16);
        if (end == p || (*end != ' ' && *end != '\n'))
            return false;
        p = end;
    }
    return f[2] == 0 && f[4] == 0;
}

/* Multicast on lo. IGMPv3 and MLDv2 (the kernel's defaults) report a group
 * joined or left from a timer of the device, 2 jiffies later and again up
 * to 1 s later, and keep the groups left ("tomb" records, mc_tomb) for
 * those reports: a tenant that joins groups and exits passed the check
 * with lo still quiet, and the reports, listing the groups it chose, went
 * over lo in the next tenant's time, who reads them with a packet socket
 * (CAP_NET_RAW is in Docker's default set). IGMPv2 and MLDv1 keep nothing
 * of a group its last socket left: its timer goes with it and its leave
 * is sent at once, before the check, which then sees it on lo's counters.
 * So a namespace that may recycle is set to them by the pid 1 that created
 * it, before any workload, through its own /proc
 * (container/lo_multicast.c); the sysctls are read-only to the workload,
 * and standard_lo below reads both back: a namespace without them is
 * never offered. */

/* ---- link, addresses, routes --------------------------------------------- */

/* One value of a device's configuration as RTM_GETLINK gives it in
 * IFLA_AF_SPEC (rtnetlink(7)): IPv4's IFLA_INET_CONF holds IPV4_DEVCONF_X
 * at index X - 1, IPv6's IFLA_INET6_CONF DEVCONF_X at index X. -1 when the
 * family or the value is not there. */
static long af_conf(const struct rtattr *spec, unsigned short family, unsigned short type,
                    size_t index)
{
    int len = (int)RTA_PAYLOAD(spec);
    for (const struct rtattr *af = RTA_DATA(spec); RTA_OK(af, len); af = RTA_NEXT(af, len)) {
        if (af->rta_type != family)
            continue;
        int alen = (int)RTA_PAYLOAD(af);
        for (const struct rtattr *c = RTA_DATA(af); RTA_OK(c, alen); c = RTA_NEXT(c, alen)) {
            if (c->rta_type != type || RTA_PAYLOAD(c) < (index + 1) * sizeof(int32_t))
                continue;
            int32_t v;
            memcpy(&v, (const char *)RTA_DATA(c) + index * sizeof v, sizeof v);
            return v;
        }
    }
    return -1;
}

/* lo up, no packet ever, and the multicast versions pid 1 gave it
 * (container/lo_multicast.c), read from the same RTM_GETLINK: no path under /proc/sys, whose
 * lookups here grow with the number of network namespaces on the host
 * (every namespace's "lo" dentry hangs in one hash chain, each compared
 * by proc_sys_compare). */
static int link_is_quiet_lo(const struct nlmsghdr *h, void *ctx)
{
    (void)ctx;
    if (h->nlmsg_type != RTM_NEWLINK)
        return -1;
    const struct ifinfomsg *ifi = NLMSG_DATA(h);
    if (!(ifi->ifi_flags & IFF_LOOPBACK) || !(ifi->ifi_flags & IFF_UP))
        return -1;
    bool quiet = false, versions = false;
    int len = (int)IFLA_PAYLOAD(h);
    for (const struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len))
        if (a->rta_type == IFLA_STATS64 && RTA_PAYLOAD(a) >= sizeof(struct rtnl_link_stats64)) {
            struct rtnl_link_stats64 st;
            memcpy(&st, RTA_DATA(a), sizeof st);
            quiet =
                st.rx_packets == 0 && st.tx_packets == 0 && st.rx_bytes == 0 && st.tx_bytes == 0;
        } else if (a->rta_type == IFLA_AF_SPEC) {
            long mld = af_conf(a, AF_INET6, IFLA_INET6_CONF, DEVCONF_FORCE_MLD_VERSION);
            /* No IPv6 conf (a host without IPv6): nothing of MLD to
             * keep. Its values are 0 to 2, never -1. */
            versions =
                af_conf(a, AF_INET, IFLA_INET_CONF, IPV4_DEVCONF_FORCE_IGMP_VERSION - 1) == 2 &&
                (mld == 1 || mld == -1);
        }
    return quiet && versions ? 0 : -1;
}

static int address_is_standard(const struct nlmsghdr *h, void *ctx)
{
    (void)ctx;
    if (h->nlmsg_type != RTM_NEWADDR)
        return -1;
    const struct ifaddrmsg *ifa = NLMSG_DATA(h);
    int len = (int)IFA_PAYLOAD(h);
    for (const struct rtattr *a = IFA_RTA(ifa); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
        if (a->rta_type != IFA_ADDRESS)
            continue;
        static const uint8_t v4[4] = {127, 0, 0, 1};
        static const uint8_t v6[16] = {[15] = 1};
        if (ifa->ifa_family == AF_INET && ifa->ifa_prefixlen == 8 && RTA_PAYLOAD(a) == 4 &&
            memcmp(RTA_DATA(a), v4, 4) == 0)
            return 0;
        if (ifa->ifa_family == AF_INET6 && ifa->ifa_prefixlen == 128 && RTA_PAYLOAD(a) == 16 &&
            memcmp(RTA_DATA(a), v6, 16) == 0)
            return 0;
    }
    return -1;
}

static int route_through_lo(const struct nlmsghdr *h, void *ctx)
{
    int lo = *(const int *)ctx;
    if (h->nlmsg_type != RTM_NEWROUTE)
        return -1;
    const struct rtmsg *rt = NLMSG_DATA(h);
    int len = (int)RTM_PAYLOAD(h);
    for (const struct rtattr *a = RTM_RTA(rt); RTA_OK(a, len); a = RTA_NEXT(a, len))
        if (a->rta_type == RTA_OIF && RTA_PAYLOAD(a) == sizeof(int))
            return *(const int *)RTA_DATA(a) == lo ? 0 : -1;
    return -1;
}

static bool standard_lo(void)
{
    cleanup_close int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0)
        return false;
    struct {
        struct nlmsghdr h;
        struct rtgenmsg g;
    } req = {
        .h = {.nlmsg_len = sizeof req, .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP},
        .g = {.rtgen_family = AF_UNSPEC},
    };
    req.h.nlmsg_type = RTM_GETLINK;
    if (wr_nl_dump(fd, &req, sizeof req, link_is_quiet_lo, NULL) != 1)
        return false;
    req.h.nlmsg_type = RTM_GETADDR;
    if (wr_nl_dump(fd, &req, sizeof req, address_is_standard, NULL) < 1)
        return false;
    int lo = (int)if_nametoindex("lo");
    req.h.nlmsg_type = RTM_GETROUTE;
    return lo > 0 && wr_nl_dump(fd, &req, sizeof req, route_through_lo, &lo) >= 1;
}

/* ---- the offer ------------------------------------------------------------ */

/* Enters the container's network namespace, host being the shim's own
 * (to come back to). False if either cannot be opened or entered, or if
 * they are the same namespace: the check once looked at the host's (a
 * descriptor taken before the child's setns); everything read after
 * it must be the container's. */
static bool enter_container_netns(const struct shim *sh, int host)
{
    struct stat own, theirs;
    if (host < 0 || fstat(host, &own) < 0 || fstat(sh->ns_fds[1], &theirs) < 0 ||
        (own.st_dev == theirs.st_dev && own.st_ino == theirs.st_ino))
        return false;
    if (setns(sh->ns_fds[1], CLONE_NEWNET) < 0)
        return false;
    /* Unopened, every read below fails: the namespace is not offered. */
    net_dir = open("/proc/thread-self/net", O_PATH | O_DIRECTORY | O_CLOEXEC);
    return true;
}

/* Back to the shim's own namespace; false if that failed. */
static bool leave_container_netns(int host)
{
    if (net_dir >= 0)
        close(net_dir);
    net_dir = -1;
    return setns(host, CLONE_NEWNET) == 0;
}

/* The container's /proc (no_fastopen_key), reached through its pid 1's
 * root now, stopped before any workload ran: the mount pid 1 made there
 * (rootfs.c), checked to be procfs; -1 (the host's path is read then)
 * otherwise. Nothing under it is looked up yet: a sysctl directory
 * resolves to the namespace of the thread that looks it up, here the
 * host's. */
static int open_container_proc(const struct shim *sh)
{
    char path[48];
    struct statfs fs;
    snprintf(path, sizeof path, "/proc/%d/root/proc", (int)sh->child);
    int fd = open(path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0 && (fstatfs(fd, &fs) < 0 || fs.f_type != PROC_SUPER_MAGIC)) {
        close(fd);
        fd = -1;
    }
    return fd;
}

void shim_netns_baseline(struct shim *sh)
{
    bool empty;
    if (!sh->opt.netns_recycle)
        return;
    sh->container_proc_fd = open_container_proc(sh);
    /* A recycled one: as its first shim counted it, fresh. Counted again
     * now, it could include sockets of the last check still waiting for
     * an RCU grace period to be freed (netlink's are). */
    if (sh->opt.netns_reuse) {
        sh->netns_sockets = sh->opt.netns_sockets;
        return;
    }
    /* The container's namespace as it is before any workload ran in it:
     * only the kernel's own sockets. */
    cleanup_close int host = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (!enter_container_netns(sh, host))
        return;
    if (read_sockstat(&sh->netns_sockets, &empty) < 0 || !empty)
        sh->netns_sockets = -1;
    if (!leave_container_netns(host))
        sh->netns_sockets = -1;
}

void shim_netns_offer(struct shim *sh)
{
    if (!sh->opt.netns_recycle || !sh->exited || sh->ctl < 0 || sh->ns_fds[1] < 0 ||
        sh->netns_sockets < 0)
        return;
    cleanup_close int host = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (!enter_container_netns(sh, host))
        return;
    bool pristine = no_sockets(sh->netns_sockets) && no_flowlabels() && counters_zero() &&
                    no_fastopen_key(sh->container_proc_fd) && no_route6_cache() && standard_lo();
    /* Back in the host's namespace before anything else; a shim that could
     * not leave offers nothing (it would be a process in it). */
    if (!leave_container_netns(host) || !pristine)
        return;
    struct wr_msg m = {.type = WR_MSG_NETNS, .value = sh->netns_sockets};
    wr_error err;
    /* With the sysfs mount made in it, if any: they travel together. */
    int fds[2] = {sh->ns_fds[1], sh->sysfs_fd};
    (void)wr_send_fds(sh->ctl, &m, sizeof m, fds, sh->sysfs_fd >= 0 ? 2 : 1, &err);
}
