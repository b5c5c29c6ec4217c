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

#include <stdint.h>
#include <sys/types.h>

struct wr_lease_holder {
    char id[16]; /* container id */
    pid_t pid;   /* the shim */
    uint64_t start;
};

/* Leases an address of n's subnet to holder (its id must not hold one).
 * ENOSPC: "network NAME: no free address in SUBNET". */
int wr_ipam_allocate(const char *state_dir, const struct wr_network *n,
                     const struct wr_lease_holder *holder, uint32_t *addr, wr_error *err);
/* Drops id's lease, if any. */
int wr_ipam_release(const char *state_dir, const char *net_name, const char *id, wr_error *err);
/* Drops the leases whose holder is gone; *live: how many remain (may be NULL). */
int wr_ipam_reconcile(const char *state_dir, const char *net_name, size_t *live, wr_error *err);

#endif
