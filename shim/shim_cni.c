/* `--network cni:NAME`, shim side: the network manager runs the
 * conflist's plugins (runtime/daemon/daemon_cni.c) as the shim's child,
 * after the clone (ADD) and after the exit report (DEL). CNI_NETNS is the
 * shim's own reference to the container's namespace
 * (/proc/SHIM/fd/N): it outlives the container's pid 1, so DEL still
 * finds the namespace, and it names nothing a container can change. */
#include "shim.h"

#include "lib/cleanup.h"
#include "lib/shim_msg.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sched.h>
#include <string.h>
#include <sys/socket.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static void netns_path(struct shim *sh, char *out, size_t cap)
{
    snprintf(out, cap, "/proc/%d/fd/%d", (int)getpid(), sh->net.cni_netns_fd);
}

int shim_cni_add(struct shim *sh, int netns_fd, wr_error *err)
{
    char netns[64];
    char *args[4 + WR_PUBLISH_MAX];
    size_t n = 0;
    sh->net.cni_netns_fd = netns_fd;
    netns_path(sh, netns, sizeof netns);
    args[n++] = (char *)"cni-add";
    args[n++] = sh->opt.net.name;
    args[n++] = (char *)sh->opt.id;
    args[n++] = netns;
    for (size_t i = 0; i < sh->opt.n_publish; i++)
        args[n++] = (char *)sh->opt.publish[i];
    if (shim_net_helper(sh, args, n, err) < 0)
        return -1; /* the helper DELed what it had made */
    sh->net.cni_added = true;
    return 0;
}

static void del_now(struct shim *sh)
{
    char netns[64];
    wr_error err;
    netns_path(sh, netns, sizeof netns);
    char *args[] = {(char *)"cni-del", (char *)sh->opt.id, netns};
    /* A failure leaves nothing to retry with (the helper removes the
     * record either way): the plugins' DEL is best effort by the spec. */
    shim_net_helper(sh, args, 3, &err);
}

/* DEL takes the plugins' time (15-60 ms here): the client of a warm or
 * cold start, waiting for the shim to go, must not pay it. So a detached
 * grandchild, holding only the namespace's descriptor, runs it, and the
 * shim goes at once. A reconciliation that meanwhile sees the shim gone
 * may DEL as well: DEL is idempotent (CNI spec). */
void shim_cni_del(struct shim *sh)
{
    sh->net.cni_added = false;
    pid_t child = fork();
    if (child == 0) {
        if (fork() != 0)
            _exit(0);
        setsid();
        prctl(PR_SET_NAME, "warmrun-netdown");
        int keep = sh->net.cni_netns_fd;
        close_range(3, (unsigned)keep - 1, 0);
        close_range((unsigned)keep + 1, ~0U, 0);
        del_now(sh);
        _exit(0);
    }
    if (child < 0) {
        del_now(sh);
        return;
    }
    while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
        ;
}

/* Read by the shim from the kernel, never from a file or anything else the
 * container could have written: until the stop only warmrun's pid 1 runs
 * in the namespace, and the plugins alone configured eth0. The address is
 * the kernel's first (primary) one, as `ip -4 addr` lists it. */
static int eth0_address(int netns_fd, uint32_t *addr, wr_error *err)
{
    cleanup_close int own = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    struct ifaddrs *list = NULL;
    if (own < 0)
        return wr_error_set(err, errno, "open /proc/self/ns/net");
    if (setns(netns_fd, CLONE_NEWNET) < 0)
        return wr_error_set(err, errno, "enter the container's network namespace");
    int rc = getifaddrs(&list) < 0 ? wr_error_set(err, errno, "list the container's addresses") : 0;
    if (setns(own, CLONE_NEWNET) < 0) /* never stay in the container's */
        rc = wr_error_set(err, errno, "return to the shim's network namespace");
    *addr = 0;
    for (struct ifaddrs *a = list; rc == 0 && a; a = a->ifa_next)
        if (a->ifa_addr && a->ifa_addr->sa_family == AF_INET && strcmp(a->ifa_name, "eth0") == 0) {
            *addr = ntohl(((const struct sockaddr_in *)(const void *)a->ifa_addr)->sin_addr.s_addr);
            break;
        }
    if (list)
        freeifaddrs(list);
    return rc;
}

int shim_cni_send_address(struct shim *sh, wr_error *err)
{
    struct wr_msg m = {.type = WR_MSG_ADDRESS};
    uint32_t addr;
    if (eth0_address(sh->net.cni_netns_fd, &addr, err) < 0)
        return wr_error_prefix(err, "cni:%s: eth0's address", sh->opt.net.name);
    m.value = addr;
    if (send(sh->init, &m, sizeof m, MSG_NOSIGNAL) != (ssize_t)sizeof m)
        return wr_error_set(err, errno, "send the container its address");
    return 0;
}
