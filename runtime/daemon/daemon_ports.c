/* See daemon_ports.h. */
#include "daemon_ports.h"

#include "daemon_host_ports.h"
#include "daemon_log.h"
#include "daemon_nft_elem.h"
#include "daemon_pool.h"

#include "daemon_nft.h"

#include "lib/cleanup.h"
#include "lib/ipam.h"
#include "lib/state_file.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <unistd.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

/* The network name of a canonical "bridge=NAME", or NULL. */
static const char *bridge_name(const char *network)
{
    return network && strncmp(network, "bridge=", 7) == 0 ? network + 7 : NULL;
}

struct pool_of {
    struct daemon *d;
    const char *key;
};

/* Whether id is a container of the pool of image key. */
static bool pool_member(const char *net, const char *id, void *arg)
{
    (void)net;
    const struct pool_of *po = arg;
    const struct entry *e = daemon_find_entry(po->d, id);
    return e && strcmp(e->image, po->key) == 0;
}

int daemon_ports_tables_check(const char *state_dir, const struct wr_publish *a, const char *text,
                              daemon_ports_own_fn own, void *arg, wr_error *err)
{
    cleanup_free struct wr_network *nets = NULL;
    struct wr_nft_port held[4 * 64];
    size_t count = 0, n;
    if (wr_network_list(state_dir, &nets, &count, err) < 0)
        return -1;
    for (size_t i = 0; i < count; i++) {
        if (daemon_nft_ports(nets[i].name, held, sizeof held / sizeof *held, &n, err) < 0)
            return -1;
        for (size_t j = 0; j < n; j++)
            if (wr_publish_overlap(a, &held[j].p) && !(own && own(nets[i].name, held[j].id, arg)))
                return wr_error_code(err, EADDRINUSE,
                                     "port is already allocated: -p %s: container %s on network "
                                     "%s publishes it",
                                     text, held[j].id[0] ? held[j].id : "?", nets[i].name);
    }
    return 0;
}

int daemon_ports_check(struct daemon *d, const char *key, const char *network,
                       const struct wr_publish_set *set, bool tables, wr_error *err)
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
        /* Host listeners too; not when a stored pool is restored (tables
         * false): its ports were checked when it was created. */
        struct pool_of po = {d, key};
        if (tables && (daemon_ports_tables_check(d->g->state_dir, &a, set->text[i], pool_member,
                                                 &po, err) < 0 ||
                       daemon_host_port_free(&a, err) < 0))
            return -1;
    }
    return 0;
}

/* <state>/pool-ports: "daemon PID START", then "SPEC IMAGE" per port of
 * each pool, for cold starts (daemon_ports_reserved). */
static int reserved_path(const char *state_dir, char *out, size_t cap, wr_error *err)
{
    if (snprintf(out, cap, "%s/pool-ports", state_dir) >= (int)cap)
        return wr_error_set(err, ENAMETOOLONG, "%s/pool-ports", state_dir);
    return 0;
}

void daemon_ports_save(struct daemon *d)
{
    char path[4200], tmp[4300];
    uint64_t start;
    wr_error err;
    if (reserved_path(d->g->state_dir, path, sizeof path, &err) < 0 ||
        wr_proc_start_time(getpid(), &start, &err) < 0) {
        daemon_log("pool ports not written: %s", err.msg);
        return;
    }
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "we");
    if (!f) {
        daemon_log("pool ports not written: %s: %s", tmp, strerror(errno));
        return;
    }
    fprintf(f, "daemon %d %" PRIu64 "\n", (int)getpid(), start);
    for (const struct pool *p = d->pools; p; p = p->next)
        for (size_t i = 0; i < p->publish.n; i++)
            fprintf(f, "%s %s\n", p->publish.text[i], p->image);
    if (fclose(f) != 0 || rename(tmp, path) < 0) {
        daemon_log("pool ports not written: %s: %s", path, strerror(errno));
        unlink(tmp);
    }
}

int daemon_ports_reserved(const char *state_dir, const struct wr_publish *ports, size_t count,
                          wr_error *err)
{
    char path[4200], line[512], spec[64], image[400];
    int pid;
    uint64_t start;
    if (reserved_path(state_dir, path, sizeof path, err) < 0)
        return -1;
    cleanup_fclose FILE *f = wr_fopen_regular(path);
    if (!f)
        return 0;
    /* A daemon that is gone holds nothing. */
    if (!fgets(line, sizeof line, f) || sscanf(line, "daemon %d %" SCNu64, &pid, &start) != 2 ||
        !wr_proc_alive_since(pid, start))
        return 0; // cppcheck-suppress resourceLeak ; cleanup_fclose closes it
    while (fgets(line, sizeof line, f)) {
        struct wr_publish r;
        wr_error ignored;
        if (sscanf(line, "%63s %399s", spec, image) != 2 ||
            wr_publish_parse(spec, &r, &ignored) < 0)
            continue;
        for (size_t i = 0; i < count; i++)
            if (wr_publish_overlap(&ports[i], &r))
                return wr_error_set(err, EADDRINUSE,
                                    "port is already allocated: pool %s publishes %s", image, spec);
    }
    return 0;
}

bool daemon_ports_pool_set(struct daemon *d, struct pool *p, const struct wr_publish_set *set)
{
    bool changed = set->n != p->publish.n ||
                   memcmp(set->text, p->publish.text, set->n * sizeof set->text[0]) != 0;
    p->publish = *set;
    for (size_t i = 0; i < set->n; i++) {
        wr_error ignored;
        if (wr_publish_parse(set->text[i], &p->ports[i], &ignored) < 0)
            memset(&p->ports[i], 0, sizeof p->ports[i]); /* parsed once already */
    }
    daemon_ports_save(d);
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
