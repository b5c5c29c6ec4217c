/* See daemon_ports.h. */
#include "daemon_ports.h"

#include "daemon_log.h"
#include "daemon_nft_elem.h"
#include "daemon_pool.h"

#include "lib/ipam.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

/* The network name of a canonical "bridge=NAME", or NULL. */
static const char *bridge_name(const char *network)
{
    return network && strncmp(network, "bridge=", 7) == 0 ? network + 7 : NULL;
}

int daemon_ports_check(struct daemon *d, const char *key, const char *network,
                       const struct wr_publish_set *set, wr_error *err)
{
    struct wr_publish a;
    if (set->n && !bridge_name(network))
        return wr_error_set(err, EINVAL, "-p needs --network bridge or bridge=NAME");
    for (size_t i = 0; i < set->n; i++) {
        if (wr_publish_parse(set->text[i], &a, err) < 0)
            return -1;
        for (const struct pool *q = d->pools; q; q = q->next)
            for (size_t j = 0; strcmp(q->image, key) != 0 && j < q->publish.n; j++)
                if (wr_publish_overlap(&a, &q->ports[j]))
                    return wr_error_set(err, EADDRINUSE,
                                        "port is already allocated: -p %s: pool %s publishes %s",
                                        set->text[i], q->image, q->publish.text[j]);
    }
    return 0;
}

bool daemon_ports_pool_set(struct pool *p, const struct wr_publish_set *set)
{
    bool changed = set->n != p->publish.n ||
                   memcmp(set->text, p->publish.text, set->n * sizeof set->text[0]) != 0;
    p->publish = *set;
    for (size_t i = 0; i < set->n; i++) {
        wr_error ignored;
        if (wr_publish_parse(set->text[i], &p->ports[i], &ignored) < 0)
            memset(&p->ports[i], 0, sizeof p->ports[i]); /* parsed once already */
    }
    return changed;
}

/* Whether e's container (its pid 1) has exited: its pidfd is readable. */
static bool container_ended(const struct entry *e)
{
    struct pollfd pfd = {.fd = e->shim.pidfd, .events = POLLIN};
    return e->shim.pidfd >= 0 && poll(&pfd, 1, 0) > 0;
}

bool daemon_ports_busy(struct daemon *d, const struct pool *p)
{
    if (!p->publish.n)
        return false;
    for (struct entry *e = d->entries; e; e = e->next) {
        if (e->pool != p ||
            (!e->ports.n && e->state != ENTRY_STARTING && e->state != ENTRY_RUNNING))
            continue;
        /* A client that saw its workload's exit may activate again before
         * the daemon has read the shim's report: a container that has
         * ended gives its ports back now, not then. */
        if (e->state != ENTRY_STARTING && container_ended(e)) {
            daemon_ports_release(d, e);
            continue;
        }
        return true;
    }
    return false;
}

void daemon_ports_publish(struct daemon *d, struct entry *e)
{
    const struct pool *p = e->pool;
    const char *net = p ? bridge_name(p->network) : NULL;
    uint32_t addr;
    wr_error err;
    if (!p || !p->publish.n || !net)
        return;
    if (wr_ipam_lookup(d->g->state_dir, net, e->shim.id, &addr, &err) < 0 ||
        daemon_nft_elem_add(net, e->shim.id, addr, p->ports, p->publish.n, &err) < 0) {
        /* Nothing of it was added (one transaction). */
        daemon_log("container %s: its -p ports: %s; it is stopped", e->shim.id, err.msg);
        daemon_entry_discard(d, e);
        return;
    }
    snprintf(e->ports.net, sizeof e->ports.net, "%s", net);
    memcpy(e->ports.p, p->ports, p->publish.n * sizeof p->ports[0]);
    e->ports.n = p->publish.n;
}

void daemon_ports_release(struct daemon *d, struct entry *e)
{
    (void)d;
    wr_error err;
    if (!e->ports.n)
        return;
    /* Deleted by key: the pool's one holder (daemon_ports_busy) owns them.
     * A failure leaves them to the shim's teardown, which removes what
     * carries the container's id before its lease goes. */
    if (daemon_nft_elem_del(e->ports.net, e->ports.p, e->ports.n, &err) < 0)
        daemon_log("container %s: its -p ports: %s", e->shim.id, err.msg);
    e->ports.n = 0;
}
