/* See ipam.h. File format, one line each: "last A.B.C.D", then
 * "A.B.C.D ID PID START [p]" per lease (p: published). Rewritten whole (tmp + rename) under
 * the lock: a crash leaves the old file or the new one, never half. */
#include "ipam.h"

#include "cleanup.h"
#include "file_lock.h"
#include "state_file.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LEASES_MAX 65536

struct lease {
    uint32_t addr;
    struct wr_lease_holder h;
};

struct lease_file {
    char path[4200];
    uint32_t last;
    struct lease *l;
    size_t n;
};

static void lease_file_free(struct lease_file *f)
{
    free(f->l);
}

/* Takes the network's lock (blocks while another process holds it); the
 * lock goes with the returned descriptor. */
static int lock_network(const char *state_dir, const char *name, wr_error *err)
{
    char dir[4096], path[4200];
    if (wr_network_dir(state_dir, true, dir, sizeof dir, err) < 0)
        return -1;
    snprintf(path, sizeof path, "%s/%s.lock", dir, name);
    return wr_lock_file(path, err);
}

static int read_leases(const char *state_dir, const char *name, struct lease_file *f, wr_error *err)
{
    char dir[4096], line[160];
    memset(f, 0, sizeof *f);
    if (wr_network_dir(state_dir, false, dir, sizeof dir, err) < 0)
        return -1;
    snprintf(f->path, sizeof f->path, "%s/%s.leases", dir, name);
    cleanup_fclose FILE *in = wr_fopen_regular(f->path);
    if (!in)
        return errno == ENOENT ? 0 : wr_error_set(err, errno, "open %s", f->path);
    size_t cap = 0;
    while (fgets(line, sizeof line, in)) {
        char a[32], id[32], flag[4] = "";
        int pid;
        uint64_t start;
        wr_error ignored;
        if (sscanf(line, "last %31s", a) == 1) {
            wr_ipv4_parse(a, &f->last, &ignored);
            continue;
        }
        if (sscanf(line, "%31s %15s %d %" SCNu64 " %3s", a, id, &pid, &start, flag) < 4 ||
            f->n >= LEASES_MAX)
            continue;
        if (f->n == cap) {
            cap = cap ? 2 * cap : 16;
            struct lease *grown = realloc(f->l, cap * sizeof *grown);
            if (!grown)
                return wr_error_set(err, ENOMEM, "leases");
            f->l = grown;
        }
        struct lease *l = &f->l[f->n];
        memset(l, 0, sizeof *l);
        if (wr_ipv4_parse(a, &l->addr, &ignored) < 0)
            continue;
        snprintf(l->h.id, sizeof l->h.id, "%.15s", id);
        l->h.pid = pid;
        l->h.start = start;
        l->h.published = strcmp(flag, "p") == 0;
        f->n++;
    }
    return 0;
}

static int write_leases(const struct lease_file *f, wr_error *err)
{
    char tmp[4300], a[WR_IPV4_TEXT];
    snprintf(tmp, sizeof tmp, "%s.tmp", f->path);
    cleanup_fclose FILE *out = fopen(tmp, "we");
    if (!out)
        return wr_error_set(err, errno, "create %s", tmp);
    wr_ipv4_format(f->last, a);
    fprintf(out, "last %s\n", a);
    for (size_t i = 0; i < f->n; i++) {
        wr_ipv4_format(f->l[i].addr, a);
        fprintf(out, "%s %s %d %" PRIu64 "%s\n", a, f->l[i].h.id, (int)f->l[i].h.pid,
                f->l[i].h.start, f->l[i].h.published ? " p" : "");
    }
    if (fflush(out) != 0 || ferror(out) || rename(tmp, f->path) < 0) {
        int e = errno;
        unlink(tmp);
        return wr_error_set(err, e ? e : EIO, "write %s", f->path);
    }
    return 0;
}

static bool holder_alive(const struct wr_lease_holder *h)
{
    return wr_proc_alive_since(h->pid, h->start);
}

struct unpublisher {
    const char *net_name;
    wr_ipam_unpublish_fn fn;
    void *ctx;
};

/* Whether lease l goes: id's own (its holder releases it), or its holder
 * is gone and nothing of it is published (any more). */
static bool drop(const struct lease *l, const char *id, const struct unpublisher *u)
{
    if (id && strcmp(l->h.id, id) == 0)
        return true;
    if (holder_alive(&l->h))
        return false;
    return !l->h.published || (u && u->fn && u->fn(u->net_name, l->h.id, u->ctx) == 0);
}

static size_t prune(struct lease_file *f, const char *id, const struct unpublisher *u)
{
    size_t kept = 0, before = f->n;
    for (size_t i = 0; i < f->n; i++)
        if (!drop(&f->l[i], id, u))
            f->l[kept++] = f->l[i];
    f->n = kept;
    return before - kept;
}

static bool leased(const struct lease_file *f, uint32_t a)
{
    for (size_t i = 0; i < f->n; i++)
        if (f->l[i].addr == a)
            return true;
    return false;
}

int wr_ipam_allocate(const char *state_dir, const struct wr_network *n,
                     const struct wr_lease_holder *holder, uint32_t *addr, wr_error *err)
{
    cleanup_close int lock = lock_network(state_dir, n->name, err);
    __attribute__((cleanup(lease_file_free))) struct lease_file f = {0};
    if (lock < 0 || read_leases(state_dir, n->name, &f, err) < 0)
        return -1;
    prune(&f, holder->id, NULL);
    uint32_t first = wr_cidr_first_host(&n->subnet), last = wr_cidr_last_host(&n->subnet);
    uint32_t a = f.last >= first && f.last < last ? f.last + 1 : first;
    for (uint32_t tried = 0; tried <= last - first; tried++, a = a >= last ? first : a + 1) {
        if (leased(&f, a))
            continue;
        struct lease *grown = realloc(f.l, (f.n + 1) * sizeof *grown);
        if (!grown)
            return wr_error_set(err, ENOMEM, "leases");
        f.l = grown;
        f.l[f.n].addr = a;
        f.l[f.n].h = *holder;
        f.n++;
        f.last = a;
        if (write_leases(&f, err) < 0)
            return -1;
        *addr = a;
        return 0;
    }
    char subnet[WR_CIDR_TEXT];
    wr_cidr_format(&n->subnet, subnet);
    return wr_error_code(err, ENOSPC, "network %s: no free address in %s", n->name, subnet);
}

static int rewrite_pruned(const char *state_dir, const char *net_name, const char *id,
                          const struct unpublisher *u, size_t *live, wr_error *err)
{
    cleanup_close int lock = lock_network(state_dir, net_name, err);
    __attribute__((cleanup(lease_file_free))) struct lease_file f = {0};
    if (lock < 0 || read_leases(state_dir, net_name, &f, err) < 0)
        return -1;
    size_t dropped = prune(&f, id, u);
    if (live)
        *live = f.n;
    return dropped ? write_leases(&f, err) : 0;
}

int wr_ipam_transfer(const char *state_dir, const char *net_name,
                     const struct wr_lease_holder *holder, wr_error *err)
{
    cleanup_close int lock = lock_network(state_dir, net_name, err);
    __attribute__((cleanup(lease_file_free))) struct lease_file f = {0};
    if (lock < 0 || read_leases(state_dir, net_name, &f, err) < 0)
        return -1;
    for (size_t i = 0; i < f.n; i++)
        if (strcmp(f.l[i].h.id, holder->id) == 0) {
            f.l[i].h = *holder;
            return write_leases(&f, err);
        }
    return wr_error_set(err, ENOENT, "no lease of %s on network %s", holder->id, net_name);
}

int wr_ipam_release(const char *state_dir, const char *net_name, const char *id, wr_error *err)
{
    return rewrite_pruned(state_dir, net_name, id, NULL, NULL, err);
}

int wr_ipam_reconcile(const char *state_dir, const char *net_name, wr_ipam_unpublish_fn unpublish,
                      void *ctx, size_t *live, wr_error *err)
{
    struct unpublisher u = {.net_name = net_name, .fn = unpublish, .ctx = ctx};
    return rewrite_pruned(state_dir, net_name, NULL, &u, live, err);
}

/* id's lease, read without the lock (the file is replaced whole). */
static int find_lease(const char *state_dir, const char *net_name, const char *id,
                      struct lease *out, wr_error *err)
{
    struct lease_file f;
    int rc = read_leases(state_dir, net_name, &f, err);
    if (rc == 0)
        rc = wr_error_set(err, ENOENT, "network %s: %s holds no address", net_name, id);
    for (size_t i = 0; i < f.n; i++)
        if (strcmp(f.l[i].h.id, id) == 0) {
            *out = f.l[i];
            rc = 0;
            break;
        }
    lease_file_free(&f);
    return rc;
}

int wr_ipam_lookup(const char *state_dir, const char *net_name, const char *id, uint32_t *addr,
                   wr_error *err)
{
    struct lease l;
    if (find_lease(state_dir, net_name, id, &l, err) < 0)
        return -1;
    *addr = l.addr;
    return 0;
}

int wr_ipam_holder(const char *state_dir, const char *net_name, const char *id,
                   struct wr_lease_holder *h, wr_error *err)
{
    struct lease l;
    if (find_lease(state_dir, net_name, id, &l, err) < 0)
        return -1;
    *h = l.h;
    return 0;
}
