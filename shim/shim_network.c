/* The container's network on the fill path, host side (docs/network.md):
 * for `--network bridge=NAME`, a lease from the network's IPAM before the
 * clone (so the container writes its own address into /etc/hosts), then a
 * veth pair created with its peer already in the container's network
 * namespace as eth0, the host end enslaved to the bridge and up, and eth0
 * configured through a netlink socket opened inside that namespace: the
 * container itself never needs CAP_NET_ADMIN for it, and nothing of this
 * is on the activation path. Released after the exit report. */
#include "shim.h"

#include "lib/cleanup.h"
#include "lib/ipam.h"
#include "lib/nft_batch.h"
#include "lib/rtnl.h"
#include "lib/state_file.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/netfilter.h>
#include <spawn.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int run_helper(struct shim *sh, const char *command, const char *addr, wr_error *err);

int shim_network_prepare(struct shim *sh, wr_error *err)
{
    struct shim_network *sn = &sh->net;
    if (sh->opt.net.kind == WR_NET_HOST && sh->opt.security.userns_size)
        /* The host's network namespace belongs to the host's user
         * namespace: a container root mapped elsewhere could neither
         * mount its sysfs nor be held to it (Docker refuses this too). */
        return wr_error_set(err, 0,
                            "--network host cannot be combined with a user namespace (--userns)");
    if (sh->opt.net.kind != WR_NET_BRIDGE)
        return 0;
    if (wr_network_load(sh->opt.state_dir, sh->opt.net.name, &sn->net, err) < 0) {
        /* The default network is made on first use (docs/network.md), by
         * whoever uses it first: a pool's fill or a cold start alike. */
        if (err->errnum != ENOENT || strcmp(sh->opt.net.name, WR_NET_DEFAULT_NAME) != 0)
            return -1;
        wr_error_clear(err);
        if (!sh->opt.net_helper)
            return wr_error_set(err, ENOENT, "no network %s (and no --net-helper to make it)",
                                WR_NET_DEFAULT_NAME);
        if (run_helper(sh, "ensure", NULL, err) < 0 ||
            wr_network_load(sh->opt.state_dir, sh->opt.net.name, &sn->net, err) < 0)
            return wr_error_prefix(err, "default network %s", WR_NET_DEFAULT_NAME);
    }
    sn->bridge_index = if_nametoindex(sn->net.bridge);
    if (!sn->bridge_index)
        return wr_error_set(err, ENODEV,
                            "network %s: its bridge %s is missing (start the daemon, or `warmrun "
                            "network create` it again)",
                            sn->net.name, sn->net.bridge);
    struct wr_lease_holder h = {.pid = getpid(), .published = sh->opt.n_publish > 0};
    snprintf(h.id, sizeof h.id, "%s", sh->opt.id);
    if (wr_proc_start_time(h.pid, &h.start, err) < 0 ||
        wr_ipam_allocate(sh->opt.state_dir, &sn->net, &h, &sn->addr, err) < 0)
        return -1;
    sn->leased = true;
    return 0;
}

/* eth0's MAC (the kernel chose it with the pair), for the network's
 * anti-spoofing set; called inside the container's namespace. */
static int peer_mac(struct shim_network *sn, wr_error *err)
{
    struct ifreq ifr = {0};
    cleanup_close int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "eth0");
    if (s < 0 || ioctl(s, SIOCGIFHWADDR, &ifr) < 0)
        return wr_error_set(err, errno, "read eth0's MAC");
    memcpy(sn->mac, ifr.ifr_hwaddr.sa_data, sizeof sn->mac);
    return 0;
}

/* Adds (at fill) or removes (at teardown) the container's elements in the
 * network's anti-spoofing set (docs/network.md: table bridge warmrun_NAME):
 * one nfnetlink batch, no helper run. */
static int guard(struct shim *sh, bool add, wr_error *err)
{
    struct shim_network *sn = &sh->net;
    char table[64];
    struct wr_nft_elem e[2] = {{.set = "allowed"}, {.set = "ports"}};
    snprintf(table, sizeof table, "warmrun_%s", sn->net.name);
    wr_nft_key_guard(&e[0], sn->host_if, sn->mac, sn->addr);
    wr_nft_key_ifname(&e[1], sn->host_if);
    if (add)
        return wr_nft_elems(NFPROTO_BRIDGE, table, true, e, 2, err);
    /* One at a time: either may be gone (a failed fill, a reconciliation). */
    wr_error one;
    for (size_t i = 2; i-- > 0;)
        if (wr_nft_elems(NFPROTO_BRIDGE, table, false, &e[i], 1, &one) < 0 && one.errnum != ENOENT)
            *err = one;
    return 0;
}

/* Inside the container's namespace: eth0 up with its address, and the
 * default route through the bridge's address. */
static int configure_peer(struct shim_network *sn, int netns_fd, wr_error *err)
{
    cleanup_close int own = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    struct wr_rtnl r = {.fd = -1};
    unsigned index = 0;
    if (own < 0)
        return wr_error_set(err, errno, "open /proc/self/ns/net");
    if (setns(netns_fd, CLONE_NEWNET) < 0)
        return wr_error_set(err, errno, "enter the container's network namespace");
    int rc = wr_rtnl_open(&r, err);
    if (rc == 0 && !(index = if_nametoindex("eth0")))
        rc = wr_error_set(err, errno, "find eth0 in the container");
    if (rc == 0)
        rc = peer_mac(sn, err);       /* a socket of the container's namespace */
    if (setns(own, CLONE_NEWNET) < 0) /* never stay in the container's */
        rc = wr_error_set(err, errno, "return to the shim's network namespace");
    if (rc == 0)
        rc = wr_rtnl_link_up(&r, index, err) < 0 ||
                     wr_rtnl_addr_add(&r, index, sn->addr, sn->net.subnet.prefix, err) < 0 ||
                     wr_rtnl_route_default(&r, index, sn->net.gateway, err) < 0
                 ? -1
                 : 0;
    wr_rtnl_close(&r);
    return rc;
}

/* Runs the network manager (`warmrun-daemon network --state-dir DIR
 * ARGS...`), which links libnftables and runs CNI plugins, as a child: the
 * shim stays small, and neither is ever in the daemon's loop. It gets the
 * CNI settings of the shim's environment and nothing else. Its one-line
 * error becomes err. */
int shim_net_helper(struct shim *sh, char **args, size_t n_args, wr_error *err)
{
    char *argv[8 + 4 + WR_PUBLISH_MAX];
    size_t n = 0;
    argv[n++] = (char *)"warmrun-daemon";
    argv[n++] = (char *)"network";
    argv[n++] = (char *)"--state-dir";
    argv[n++] = (char *)sh->opt.state_dir;
    for (size_t i = 0; i < n_args && n < sizeof argv / sizeof *argv - 1; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    static const char *const passed[] = {"WARMRUN_CNI_CONF_DIR", "WARMRUN_CNI_PATH"};
    char env_text[2][4200];
    char *envp[3];
    size_t n_env = 0;
    for (size_t i = 0; i < 2; i++) {
        const char *v = getenv(passed[i]);
        if (v && snprintf(env_text[n_env], sizeof env_text[n_env], "%s=%s", passed[i], v) <
                     (int)sizeof env_text[n_env]) {
            envp[n_env] = env_text[n_env];
            n_env++;
        }
    }
    envp[n_env] = NULL;
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) < 0)
        return wr_error_set(err, errno, "pipe");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
    pid_t pid;
    int rc = posix_spawn(&pid, sh->opt.net_helper, &fa, NULL, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    close(pipefd[1]);
    if (rc != 0) {
        close(pipefd[0]);
        return wr_error_set(err, rc, "run %s", sh->opt.net_helper);
    }
    char msg[WR_ERROR_MSG_MAX] = "";
    ssize_t got, len = 0;
    while ((got = read(pipefd[0], msg + len, sizeof msg - 1 - (size_t)len)) > 0 &&
           (size_t)(len += got) < sizeof msg - 1)
        ;
    close(pipefd[0]);
    msg[len] = '\0';
    msg[strcspn(msg, "\n")] = '\0';
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    const char *text = strncmp(msg, "warmrun: ", 9) == 0 ? msg + 9 : msg;
    return wr_error_set(err, 0, "%s", text[0] ? text : "network helper failed");
}

/* publish NAME ID ADDR SPEC... or unpublish NAME ID. */
static int run_helper(struct shim *sh, const char *command, const char *addr, wr_error *err)
{
    char *args[4 + WR_PUBLISH_MAX];
    size_t n = 0;
    args[n++] = (char *)command;
    if (strcmp(command, "ensure") == 0) /* ensure MODE: no id */
        args[n++] = (char *)WR_NET_DEFAULT_NAME;
    else {
        args[n++] = sh->net.net.name;
        args[n++] = (char *)sh->opt.id;
    }
    if (addr) {
        args[n++] = (char *)addr;
        for (size_t i = 0; i < sh->opt.n_publish; i++)
            args[n++] = (char *)sh->opt.publish[i];
    }
    return shim_net_helper(sh, args, n, err);
}

int shim_network_attach(struct shim *sh, int netns_fd, wr_error *err)
{
    struct shim_network *sn = &sh->net;
    struct wr_rtnl r = {.fd = -1};
    if (sh->opt.net.kind == WR_NET_CNI)
        return shim_cni_add(sh, netns_fd, err);
    if (!sn->leased)
        return 0;
    /* "wr" + the container id: 14 characters, within IFNAMSIZ, and the
     * name says whose it is (reconciliation, `ip link`). */
    snprintf(sn->host_if, sizeof sn->host_if, "wr%s", sh->opt.id);
    if (wr_rtnl_open(&r, err) < 0)
        return -1;
    int rc = wr_rtnl_veth_add(&r, sn->host_if, sn->bridge_index, "eth0", netns_fd, err);
    wr_rtnl_close(&r);
    if (rc < 0) {
        sn->host_if[0] = '\0';
        return -1;
    }
    if (configure_peer(sn, netns_fd, err) < 0)
        return wr_error_prefix(err, "network %s", sn->net.name);
    /* Before the container can send anything (it is not running its
     * workload yet): its frames are checked from the first one. */
    if (guard(sh, true, err) < 0)
        return wr_error_prefix(err, "network %s: anti-spoofing", sn->net.name);
    sn->guarded = true;
    if (sh->opt.n_publish && !sh->opt.publish_at_activation) {
        char addr[WR_IPV4_TEXT];
        wr_ipv4_format(sn->addr, addr);
        if (run_helper(sh, "publish", addr, err) < 0)
            return -1;
        sn->published = true;
    }
    return 0;
}

/* The teardown itself: mappings, veth, lease, in that order (the address
 * is free only once nothing of the container can still use it). */
static void teardown(struct shim *sh)
{
    struct shim_network *sn = &sh->net;
    wr_error err;
    if (sn->guarded) /* the container has ended: nothing sends on its port */
        guard(sh, false, &err);
    sn->guarded = false;
    if (sn->host_if[0]) {
        /* The kernel removes the pair with the container's namespace, but
         * asynchronously (cleanup_net): deleting it here makes it gone
         * before the address is free. ENODEV: it went already. */
        struct wr_rtnl r = {.fd = -1};
        if (wr_rtnl_open(&r, &err) == 0) {
            wr_rtnl_link_del(&r, sn->host_if, &err);
            wr_rtnl_close(&r);
        }
        sn->host_if[0] = '\0';
    }
    /* A mapping that could not be removed keeps the lease (marked
     * published): the address is not handed out again until the network
     * manager's reconciliation has removed it. */
    if (sn->leased && sh->opt.n_publish && run_helper(sh, "unpublish", NULL, &err) < 0)
        sn->leased = false;
    if (sn->leased)
        wr_ipam_release(sh->opt.state_dir, sn->net.name, sh->opt.id, &err);
    sn->leased = false;
}

/* Deleting a veth waits for an RCU grace period (synchronize_net: ~20 ms
 * here), which a cold start's CLI, waiting for its shim, would pay after
 * the workload's exit. So a detached grandchild does the teardown, holding
 * the lease from before the shim exits (wr_ipam_transfer), and the shim
 * goes at once. Returns whether the grandchild took it over. */
static bool teardown_detached(struct shim *sh)
{
    int ready[2];
    if (pipe2(ready, O_CLOEXEC) < 0)
        return false;
    pid_t child = fork();
    if (child < 0) {
        close(ready[0]);
        close(ready[1]);
        return false;
    }
    if (child == 0) {
        close(ready[0]);
        if (fork() != 0)
            _exit(0);
        setsid();
        /* Named for what it is (its arguments are the shim's still: the
         * options it uses point into them). */
        prctl(PR_SET_NAME, "warmrun-netdown");
        /* Nothing of the shim's: not the client's connection (its EOF
         * tells the client the shim is gone), not the namespaces. */
        int keep = ready[1];
        close_range(3, (unsigned)keep - 1, 0);
        close_range((unsigned)keep + 1, ~0U, 0);
        wr_error err;
        struct wr_lease_holder h = {.pid = getpid(), .published = sh->opt.n_publish > 0};
        snprintf(h.id, sizeof h.id, "%s", sh->opt.id);
        if (wr_proc_start_time(h.pid, &h.start, &err) < 0 ||
            wr_ipam_transfer(sh->opt.state_dir, sh->net.net.name, &h, &err) < 0)
            _exit(1); /* the shim does it itself */
        (void)write(ready[1], "1", 1);
        close(ready[1]);
        teardown(sh);
        _exit(0);
    }
    close(ready[1]);
    while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
        ;
    char c;
    ssize_t n;
    while ((n = read(ready[0], &c, 1)) < 0 && errno == EINTR)
        ;
    close(ready[0]);
    return n == 1;
}

void shim_network_release(struct shim *sh)
{
    struct shim_network *sn = &sh->net;
    if (sn->cni_added)
        shim_cni_del(sh);
    if (!sn->leased && !sn->host_if[0])
        return;
    if (sn->leased && teardown_detached(sh)) {
        sn->leased = false;
        sn->host_if[0] = '\0';
        return;
    }
    teardown(sh);
}
