/* `--network cni:NAME`, shim side: the network manager runs the
 * conflist's plugins (runtime/daemon/daemon_cni.c) as the shim's child,
 * after the clone (ADD) and after the exit report (DEL). CNI_NETNS is the
 * shim's own reference to the container's namespace
 * (/proc/SHIM/fd/N): it outlives the container's pid 1, so DEL still
 * finds the namespace, and it names nothing a container can change. */
#include "shim.h"

#include <stdio.h>
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

void shim_cni_del(struct shim *sh)
{
    char netns[64];
    wr_error err;
    netns_path(sh, netns, sizeof netns);
    char *args[] = {(char *)"cni-del", (char *)sh->opt.id, netns};
    /* A failure leaves nothing to retry with (the helper removes the
     * record either way): the plugins' DEL is best effort by the spec. */
    shim_net_helper(sh, args, 3, &err);
    sh->net.cni_added = false;
}
