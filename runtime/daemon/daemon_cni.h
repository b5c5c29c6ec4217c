/* `--network cni:NAME`: the CNI plugins of a conflist, run per the CNI
 * spec 1.0 (containernetworking/cni SPEC.md) by the network manager
 * (`warmrun-daemon network cni-add|cni-del`), a child of the container's
 * shim: never in the daemon's loop. A record per container under
 * <state>/cni/ID.json keeps what DEL needs (the conflist as it was at ADD,
 * CNI_PATH, the port mappings, the ADD's result), so that DEL runs on
 * teardown and, for a shim that was SIGKILLed, on reconciliation. */
#ifndef WARMRUN_DAEMON_CNI_H
#define WARMRUN_DAEMON_CNI_H

#include "lib/error.h"

#include <stddef.h>
#include <sys/types.h>

/* ADD for container ID in the network namespace NETNS (a path), holder:
 * the shim's pid (the record names it). Conflist NAME from
 * WARMRUN_CNI_CONF_DIR (else /etc/cni/net.d), plugins from
 * WARMRUN_CNI_PATH (else /usr/lib/cni). specs: canonical -p texts, given
 * to plugins with the portMappings capability. On failure, DEL has run for
 * every plugin and no record is left. */
int daemon_cni_add(const char *state_dir, const char *name, const char *id, const char *netns,
                   pid_t holder, char **specs, size_t count, wr_error *err);
/* DEL for container ID from its record (netns: NULL or "" when gone, as
 * the spec allows), then removes the record. No record: nothing to do. */
int daemon_cni_del(const char *state_dir, const char *id, const char *netns, wr_error *err);
/* DEL for every record whose shim is gone. */
void daemon_cni_reconcile(const char *state_dir);

#endif
