/* See daemon_network.h. */
#include "daemon_network.h"

#include "daemon_cni.h"
#include "daemon_host_ports.h"
#include "daemon_nft.h"
#include "daemon_ports.h"
#include "lib/net_publish.h"
#include "lib/cleanup.h"
#include "lib/file_lock.h"
#include "lib/ipam.h"
#include "lib/paths.h"
#include "lib/protocol_network.h"
#include "lib/rtnl.h"
#include "lib/state_file.h"
#include "lib/state_tmpfs.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The link-local group addresses 01:80:c2:00:00:03 to 0f forwarded like
 * any multicast (sysfs-class-net-bridge: group_fwd_mask; 00 to 02 cannot
 * be, and 00 is forwarded by a bridge without STP, 01 dropped): so they
 * pass the bridge table's prerouting chain. Not forwarded, LLDP's (0e)
 * went up the port's own stack with no netfilter hook at all, and the
 * others through the input hook only (daemon_nft.c: GUARD_INPUT). */
static int forward_group_addresses(const char *bridge, wr_error *err)
{
    char path[96];
    snprintf(path, sizeof path, "/sys/class/net/%s/bridge/group_fwd_mask", bridge);
    cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, "0xfff8", 6) != 6)
        return wr_error_set(err, errno, "set group_fwd_mask on %s", bridge);
    return 0;
}

/* Forwarding for packets that arrive on the bridge only (ip-sysctl.rst:
 * conf/<if>/forwarding): warmrun never changes the host-wide switch. And
 * route_localnet, so that a port published on 127.0.0.1 is DNATed out to
 * the bridge (Docker does the same without its userland proxy); what it
 * would also allow, a container sending to the host's 127.0.0.1 over the
 * bridge (CVE-2020-8558's class), the table's input filter drops.
 * And no IPv6 on the bridge (conf/<if>/disable_ipv6: the host's IPv6 stack
 * drops what arrives there): warmrun networks are IPv4 only, their table
 * filters IPv4 only, and a container (CAP_NET_RAW: a packet socket) sent
 * IPv6 to the bridge's MAC and reached host services on the addresses of
 * the host's other interfaces. A host without IPv6 has no such file. */
static int enable_forwarding(const char *bridge, wr_error *err)
{
    static const struct {
        const char *family, *knob;
    } knobs[] = {{"ipv4", "forwarding"}, {"ipv4", "route_localnet"}, {"ipv6", "disable_ipv6"}};
    for (size_t i = 0; i < sizeof knobs / sizeof *knobs; i++) {
        char path[96];
        snprintf(path, sizeof path, "/proc/sys/net/%s/conf/%s/%s", knobs[i].family, bridge,
                 knobs[i].knob);
        cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT && strcmp(knobs[i].family, "ipv6") == 0)
            continue;
        if (fd < 0 || write(fd, "1", 1) != 1)
            return wr_error_set(err, errno, "set %s on %s", knobs[i].knob, bridge);
    }
    return forward_group_addresses(bridge, err);
}

/* The bridge (made if missing), its address (the gateway) and up. *made:
 * whether this call created it. */
static int ensure_bridge(const struct wr_network *n, bool *made, wr_error *err)
{
    struct wr_rtnl r = {.fd = -1};
    unsigned index = if_nametoindex(n->bridge);
    *made = false;
    if (wr_rtnl_open(&r, err) < 0)
        return -1;
    int rc = 0;
    if (!index) {
        rc = wr_rtnl_bridge_add(&r, n->bridge, err);
        *made = rc == 0;
        if (rc == 0 && !(index = if_nametoindex(n->bridge)))
            rc = wr_error_set(err, errno, "find bridge %s", n->bridge);
    }
    if (rc == 0 && wr_rtnl_addr_add(&r, index, n->gateway, n->subnet.prefix, err) < 0) {
        if (err->errnum == EEXIST)
            wr_error_clear(err);
        else
            rc = -1;
    }
    if (rc == 0)
        rc = wr_rtnl_link_up(&r, index, err);
    wr_rtnl_close(&r);
    if (rc == 0)
        rc = enable_forwarding(n->bridge, err);
    return rc;
}

static void delete_bridge(const char *bridge)
{
    struct wr_rtnl r = {.fd = -1};
    wr_error ignored;
    if (wr_rtnl_open(&r, &ignored) == 0) {
        wr_rtnl_link_del(&r, bridge, &ignored);
        wr_rtnl_close(&r);
    }
}

/* The host side of n, made where missing; what this call made is undone
 * when a later step fails. */
static int ensure_host_side(const struct wr_network *n, wr_error *err)
{
    bool made;
    if (ensure_bridge(n, &made, err) < 0)
        goto undo;
    if (!daemon_nft_network_exists(n->name)) {
        if (daemon_nft_network_add(n, err) < 0)
            goto undo;
    } else if (!daemon_nft_guard_input_exists(n->name) &&
               daemon_nft_guard_input_add(n->name, err) < 0)
        goto undo;
    return 0;
undo:
    if (made)
        delete_bridge(n->bridge);
    return wr_error_prefix(err, "network %s", n->name);
}

/* A subnet already used: by another network, or by an address of the
 * host (a route there would shadow it or be shadowed). */
static int check_overlap(const char *state_dir, const struct wr_network *n, wr_error *err)
{
    cleanup_free struct wr_network *list = NULL;
    size_t count;
    char mine[WR_CIDR_TEXT], theirs[WR_CIDR_TEXT];
    wr_cidr_format(&n->subnet, mine);
    if (wr_network_list(state_dir, &list, &count, err) < 0)
        return -1;
    for (size_t i = 0; i < count; i++)
        if (wr_cidr_overlap(&n->subnet, &list[i].subnet)) {
            wr_cidr_format(&list[i].subnet, theirs);
            return wr_error_code(err, EEXIST, "subnet %s overlaps network %s (%s)", mine,
                                 list[i].name, theirs);
        }
    struct ifaddrs *ifa = NULL;
    if (getifaddrs(&ifa) < 0)
        return wr_error_set(err, errno, "getifaddrs");
    int rc = 0;
    for (struct ifaddrs *a = ifa; a && rc == 0; a = a->ifa_next) {
        if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET || !a->ifa_netmask)
            continue;
        uint32_t addr = ntohl(((struct sockaddr_in *)(void *)a->ifa_addr)->sin_addr.s_addr);
        uint32_t mask = ntohl(((struct sockaddr_in *)(void *)a->ifa_netmask)->sin_addr.s_addr);
        struct wr_cidr c = {.addr = addr & mask, .prefix = (unsigned)__builtin_popcount(mask)};
        if (!wr_cidr_overlap(&n->subnet, &c))
            continue;
        wr_cidr_format(&c, theirs);
        rc = wr_error_code(err, EEXIST, "subnet %s overlaps %s of host interface %s", mine, theirs,
                           a->ifa_name);
    }
    freeifaddrs(ifa);
    return rc;
}

static int create_checked(const char *state_dir, const struct wr_network *n, wr_error *err)
{
    if (if_nametoindex(n->bridge))
        return wr_error_code(err, EEXIST, "an interface named %s exists already", n->bridge);
    if (check_overlap(state_dir, n, err) < 0)
        return -1;
    /* The record first, so that a failure below is undone by removing
     * what was made, and two concurrent creates cannot both succeed. */
    if (wr_network_save(state_dir, n, err) < 0)
        return -1;
    if (ensure_host_side(n, err) < 0) {
        wr_error ignored;
        wr_network_remove_record(state_dir, n->name, &ignored);
        return -1;
    }
    return 0;
}

int daemon_network_create(const char *state_dir, const char *name, const char *subnet,
                          const char *bridge, wr_error *err)
{
    struct wr_network n = {0};
    if (!wr_net_name_valid(name))
        return wr_error_set(err, 0,
                            "network name \"%s\": a lower-case letter, then at most %d lower-case "
                            "letters, digits or '_'",
                            name, WR_NET_NAME_MAX - 1);
    snprintf(n.name, sizeof n.name, "%s", name);
    if (!subnet)
        return wr_error_set(err, 0, "network create: --subnet CIDR is required");
    if (wr_cidr_parse(subnet, &n.subnet, err) < 0)
        return -1;
    n.gateway = n.subnet.addr + 1;
    char dflt[64];
    snprintf(dflt, sizeof dflt, "wr_%s", name);
    if (!bridge)
        bridge = dflt;
    if (!wr_ifname_valid(bridge))
        return wr_error_set(err, 0,
                            "bridge name \"%s\": 1 to %d of letters, digits, '_', '.' or '-'%s",
                            bridge, IFNAMSIZ - 1, bridge == dflt ? " (give --bridge)" : "");
    snprintf(n.bridge, sizeof n.bridge, "%.15s", bridge);
    struct wr_network existing;
    if (wr_network_load(state_dir, name, &existing, err) == 0)
        return wr_error_code(err, EEXIST, "network %s already exists", name);
    wr_error_clear(err);
    return create_checked(state_dir, &n, err);
}

int daemon_network_ensure(const char *state_dir, const char *mode, wr_error *err)
{
    struct wr_net_mode m;
    struct wr_network n;
    if (wr_net_mode_parse(mode, &m, err) < 0)
        return -1;
    if (m.kind != WR_NET_BRIDGE)
        return 0;
    if (wr_network_load(state_dir, m.name, &n, err) < 0) {
        if (err->errnum != ENOENT || strcmp(m.name, WR_NET_DEFAULT_NAME) != 0)
            return -1;
        wr_error_clear(err);
        wr_network_default(&n);
        if (create_checked(state_dir, &n, err) < 0 && err->errnum != EEXIST)
            return wr_error_prefix(err, "default network %s", n.name);
        /* EEXIST: made meanwhile by another process: check it below. */
        wr_error_clear(err);
        if (wr_network_load(state_dir, m.name, &n, err) < 0)
            return -1;
    }
    return ensure_host_side(&n, err);
}

/* The leases' reconciliation removes a gone container's mappings first. */
static int unpublish_gone(const char *net_name, const char *id, void *ctx)
{
    wr_error ignored;
    (void)ctx;
    return daemon_nft_unpublish(net_name, id, &ignored);
}

static int reconcile(const char *state_dir, const char *name, size_t *live, wr_error *err)
{
    daemon_nft_guards_sweep(name);
    return wr_ipam_reconcile(state_dir, name, unpublish_gone, NULL, live, err);
}

struct publisher {
    const char *state_dir, *id;
};

/* The first line of /proc/PID/NAME into buf ("" when unreadable). */
static void proc_line(pid_t pid, const char *name, char *buf, size_t cap)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, name);
    buf[0] = '\0';
    cleanup_fclose FILE *f = fopen(path, "re");
    if (f && !fgets(buf, (int)cap, f))
        buf[0] = '\0';
} // cppcheck-suppress resourceLeak ; cleanup_fclose closes it

/* Whether id's lease on network net is held by a container that has
 * ended: by nobody alive; by its detached teardown (shim_network.c,
 * teardown_detached: the process named warmrun-netdown takes the lease
 * over after the exit); or by its shim when the shim has no child left
 * (its container's pid 1 reaped). A shim whose children are all its own
 * forks (the teardown's, a child for microseconds) is looked at again,
 * for 200 ms at most; one with another child (pid 1) holds a container
 * that runs. */
static bool holder_ended(const char *state_dir, const char *net, const char *id)
{
    struct wr_lease_holder h;
    char line[64];
    wr_error ignored;
    if (wr_ipam_holder(state_dir, net, id, &h, &ignored) < 0)
        return false;
    for (int i = 0; i < 20; i++) {
        if (!wr_proc_alive_since(h.pid, h.start))
            return true;
        proc_line(h.pid, "comm", line, sizeof line);
        if (strcmp(line, "warmrun-netdown\n") == 0)
            return true;
        if (strcmp(line, "warmrun-shim\n") != 0)
            return false;
        char task[32], children[256];
        snprintf(task, sizeof task, "task/%d/children", (int)h.pid);
        proc_line(h.pid, task, children, sizeof children);
        if (!children[0])
            return true;
        /* A child that is not the shim's own fork: its container runs. */
        char *save = NULL;
        for (char *c = strtok_r(children, " \n", &save); c; c = strtok_r(NULL, " \n", &save)) {
            proc_line((pid_t)atoi(c), "comm", line, sizeof line);
            if (line[0] && strcmp(line, "warmrun-shim\n") != 0)
                return false;
        }
        usleep(10000);
        if (wr_ipam_holder(state_dir, net, id, &h, &ignored) < 0)
            return true; /* released meanwhile */
    }
    return false;
}

/* A held mapping that does not count against a cold start's -p: its own,
 * or one of a container that has ended, whose teardown (detached: it runs
 * after the container's CLI has returned) has not yet removed it. That
 * one is removed now: the same `activate -p P:...` run again right after
 * the last one ended was refused 1 time in 5 ("port is already
 * allocated"), as the teardown raced it. */
static bool own_or_ended(const char *net, const char *held_id, void *arg)
{
    const struct publisher *pb = arg;
    wr_error ignored;
    if (strcmp(held_id, pb->id) == 0)
        return true;
    if (!holder_ended(pb->state_dir, net, held_id))
        return false;
    /* Its teardown may remove them first: a failure here is no error. */
    (void)daemon_nft_unpublish(net, held_id, &ignored);
    return true;
}

int daemon_network_publish(const char *state_dir, const char *name, const char *id,
                           const char *addr_text, char **specs, size_t count, wr_error *err)
{
    struct wr_network n;
    struct wr_publish ports[WR_PUBLISH_MAX];
    uint32_t addr;
    if (count > WR_PUBLISH_MAX)
        return wr_error_set(err, E2BIG, "at most %d -p options", WR_PUBLISH_MAX);
    for (size_t i = 0; i < count; i++)
        if (wr_publish_parse(specs[i], &ports[i], err) < 0 ||
            daemon_host_port_free(&ports[i], err) < 0)
            return -1;
    if (wr_network_load(state_dir, name, &n, err) < 0 || wr_ipv4_parse(addr_text, &addr, err) < 0)
        return -1;
    /* One publisher at a time: the check of every network's mappings and
     * the mapping are one step for two cold starts of one port. */
    char dir[4096], lock_path[4200];
    if (wr_network_dir(state_dir, true, dir, sizeof dir, err) < 0)
        return -1;
    snprintf(lock_path, sizeof lock_path, "%s/.publish.lock", dir);
    cleanup_close int lock = wr_lock_file(lock_path, err);
    if (lock < 0)
        return -1;
    /* A port a gone container held is free again once its mapping goes;
     * a pool's port is its pool's (docs/network.md). */
    if (reconcile(state_dir, name, NULL, err) < 0 ||
        daemon_ports_reserved(state_dir, ports, count, err) < 0)
        return -1;
    /* Another container's mapping of the port, on any network and in
     * either form (HOSTIP or every address): the map's own key catches
     * only the same form on the same network. */
    struct publisher pb = {state_dir, id};
    for (size_t i = 0; i < count; i++)
        if (daemon_ports_tables_check(state_dir, &ports[i], specs[i], own_or_ended, &pb, err) < 0)
            return -1;
    return daemon_nft_publish(&n, id, addr, ports, count, err);
}

int daemon_network_remove(const char *state_dir, const char *name, wr_error *err)
{
    struct wr_network n;
    size_t live = 0;
    if (wr_network_load(state_dir, name, &n, err) < 0 || reconcile(state_dir, name, &live, err) < 0)
        return -1;
    if (live)
        return wr_error_set(err, 0, "network %s has %zu container%s: remove them first", name, live,
                            live == 1 ? "" : "s");
    if (daemon_nft_network_del(name, err) < 0)
        return -1;
    delete_bridge(n.bridge);
    return wr_network_remove_record(state_dir, name, err);
}

void daemon_network_reconcile(const char *state_dir)
{
    cleanup_free struct wr_network *list = NULL;
    size_t count;
    wr_error ignored;
    if (wr_network_list(state_dir, &list, &count, &ignored) < 0)
        return;
    for (size_t i = 0; i < count; i++)
        reconcile(state_dir, list[i].name, NULL, &ignored);
    daemon_cni_reconcile(state_dir);
}

static int network_ls(const char *state_dir, bool json)
{
    cleanup_free struct wr_network *list = NULL;
    cleanup_free size_t *live = NULL;
    size_t count;
    wr_error err;
    daemon_cni_reconcile(state_dir);
    if (wr_network_list(state_dir, &list, &count, &err) < 0) {
        fprintf(stderr, "warmrun: %s\n", err.msg);
        return 1;
    }
    live = calloc(count + 1, sizeof *live);
    if (!live)
        return 1;
    for (size_t i = 0; i < count; i++)
        reconcile(state_dir, list[i].name, &live[i], &err);
    if (json) {
        cleanup_free char *text = wr_network_list_json(list, live, count);
        if (!text)
            return 1;
        printf("%s\n", text);
        return 0;
    }
    printf("%-24s %-15s %-18s %-15s %s\n", "NAME", "BRIDGE", "SUBNET", "GATEWAY", "CONTAINERS");
    for (size_t i = 0; i < count; i++) {
        char subnet[WR_CIDR_TEXT], gw[WR_IPV4_TEXT];
        wr_cidr_format(&list[i].subnet, subnet);
        wr_ipv4_format(list[i].gateway, gw);
        printf("%-24s %-15s %-18s %-15s %zu\n", list[i].name, list[i].bridge, subnet, gw, live[i]);
    }
    return 0;
}

static int usage(void)
{
    fprintf(stderr, "usage: warmrun network create NAME --subnet CIDR [--bridge IFNAME] | ls "
                    "[--json] | rm NAME\n");
    return 2;
}

const char *daemon_net_helper_path(void)
{
    static char path[4096];
    if (!path[0]) {
        ssize_t len = readlink("/proc/self/exe", path, sizeof path - 1);
        path[len > 0 ? len : 0] = '\0';
    }
    return path;
}

int daemon_network_main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"state-dir", required_argument, NULL, 's'},
        {"subnet", required_argument, NULL, 'n'},
        {"bridge", required_argument, NULL, 'b'},
        {"json", no_argument, NULL, 'j'},
        {NULL, 0, NULL, 0},
    };
    struct wr_paths paths;
    const char *subnet = NULL, *bridge = NULL;
    bool json = false;
    wr_error err = {0};
    int c, rc;
    wr_paths_from_env(&paths);
    optind = 1;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (c == 's')
            paths.state_dir = optarg;
        else if (c == 'n')
            subnet = optarg;
        else if (c == 'b')
            bridge = optarg;
        else if (c == 'j')
            json = true;
        else
            return usage();
    }
    if (optind >= argc)
        return usage();
    const char *cmd = argv[optind], *name = optind + 1 < argc ? argv[optind + 1] : NULL;
    if (strcmp(cmd, "ls") == 0 && optind + 1 == argc)
        return network_ls(paths.state_dir, json);
    /* The shim's helpers: publish NAME ID ADDR SPEC..., unpublish NAME ID. */
    if (strcmp(cmd, "publish") == 0 && optind + 4 <= argc)
        rc = daemon_network_publish(paths.state_dir, name, argv[optind + 2], argv[optind + 3],
                                    argv + optind + 4, (size_t)(argc - optind - 4), &err);
    else if (strcmp(cmd, "unpublish") == 0 && optind + 3 == argc)
        rc = daemon_nft_unpublish(name, argv[optind + 2], &err);
    /* cni-add NAME ID NETNS SPEC... (the caller, a shim, holds the
     * container), cni-del ID NETNS. */
    else if (strcmp(cmd, "cni-add") == 0 && optind + 4 <= argc)
        rc = daemon_cni_add(paths.state_dir, name, argv[optind + 2], argv[optind + 3], getppid(),
                            argv + optind + 4, (size_t)(argc - optind - 4), &err);
    else if (strcmp(cmd, "cni-del") == 0 && optind + 3 == argc)
        rc = daemon_cni_del(paths.state_dir, name, argv[optind + 2], &err);
    else
        rc = 1;
    if (rc <= 0) {
        if (rc < 0)
            fprintf(stderr, "warmrun: %s\n", err.msg);
        return rc < 0 ? 1 : 0;
    }
    if (!name || optind + 2 != argc)
        return usage();
    if (wr_state_dir_prepare(paths.state_dir, NULL, &err) < 0) {
        fprintf(stderr, "warmrun: %s\n", err.msg);
        return 1;
    }
    if (strcmp(cmd, "create") == 0)
        rc = daemon_network_create(paths.state_dir, name, subnet, bridge, &err);
    else if (strcmp(cmd, "rm") == 0)
        rc = daemon_network_remove(paths.state_dir, name, &err);
    else if (strcmp(cmd, "ensure") == 0)
        rc = daemon_network_ensure(paths.state_dir, name, &err);
    else
        return usage();
    /* Prepared above, never written to: the records' tmpfs goes again
     * when no daemon serves the state directory (state_tmpfs.h). */
    wr_error ignored;
    (void)wr_state_records_release_idle(paths.state_dir, &ignored);
    if (rc < 0) {
        fprintf(stderr, "warmrun: %s\n", err.msg);
        return 1;
    }
    if (strcmp(cmd, "create") == 0)
        printf("%s\n", name);
    return 0;
}
