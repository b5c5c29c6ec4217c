/* IP address management of a warmrun bridge network: one lease per
 * container, in <state>/networks/NAME.leases, changed only under an
 * exclusive flock on NAME.lock, so that a daemon's shims, cold-starting
 * CLIs and the network manager never hand out one address twice. A lease
 * names its holder (the shim's pid and start time, as state records do):
 * one whose holder is gone (a SIGKILLed shim) is dropped by the next
 * allocation or reconciliation, never handed out while its holder lives.
 * Addresses go round-robin from the last one handed out (as CNI's
 * host-local does), so a freed address is the last to be reused. */
#ifndef WARMRUN_IPAM_H
#define WARMRUN_IPAM_H

#include "error.h"
#include "net_config.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct wr_lease_holder {
    char id[16]; /* container id */
    pid_t pid;   /* the shim */
    uint64_t start;
    /* Ports are published to the address: when its holder dies, the lease
     * stays until the network manager has removed the mappings (an
     * address is never handed to a new container while a mapping of an
     * old one may still point at it). */
    bool published;
};

/* Leases an address of n's subnet to holder (its id must not hold one).
 * ENOSPC: "network NAME: no free address in SUBNET". */
int wr_ipam_allocate(const char *state_dir, const struct wr_network *n,
                     const struct wr_lease_holder *holder, uint32_t *addr, wr_error *err);
/* Makes holder (same id) the holder of its lease, e.g. the process that
 * finishes a container's teardown after its shim has gone. ENOENT: none. */
int wr_ipam_transfer(const char *state_dir, const char *net_name,
                     const struct wr_lease_holder *holder, wr_error *err);
/* The address leased to id (host byte order), read without the lock (the
 * file is replaced whole). ENOENT: id holds none. */
int wr_ipam_lookup(const char *state_dir, const char *net_name, const char *id, uint32_t *addr,
                   wr_error *err);
/* The holder of id's lease, read without the lock. ENOENT: id holds
 * none. */
int wr_ipam_holder(const char *state_dir, const char *net_name, const char *id,
                   struct wr_lease_holder *h, wr_error *err);
/* Drops id's lease, if any. */
int wr_ipam_release(const char *state_dir, const char *net_name, const char *id, wr_error *err);
/* Drops the leases whose holder is gone; *live: how many remain (may be
 * NULL). A gone holder's published lease is dropped only when unpublish
 * (NULL: never) returns 0 for its id; called under the network's lock. */
typedef int (*wr_ipam_unpublish_fn)(const char *net_name, const char *id, void *ctx);
int wr_ipam_reconcile(const char *state_dir, const char *net_name, wr_ipam_unpublish_fn unpublish,
                      void *ctx, size_t *live, wr_error *err);

#endif
