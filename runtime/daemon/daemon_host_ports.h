/* Host ports in use by host processes, for -p (docs/network.md,
 * "Published ports"). Published ports are DNAT rules, which no bind()
 * sees: without this check a -p took over a host service's port (sshd's,
 * the daemon's own --http) from every other host and from the host itself.
 * Docker's rule: "port is already allocated". */
#ifndef WARMRUN_DAEMON_HOST_PORTS_H
#define WARMRUN_DAEMON_HOST_PORTS_H

#include "lib/error.h"
#include "lib/net_publish.h"

/* Whether p's host port is free of host sockets in the caller's network
 * namespace: no TCP listener (tcp), no bound socket (udp) on the port at
 * an address p's DNAT takes (p's HOSTIP or, without one, any address; a
 * listener on 0.0.0.0 or a dual-stack [::] always). Asked of the kernel
 * with one sock_diag dump per family (NETLINK_SOCK_DIAG, inet_diag,
 * Linux's ss(8) does the same): TIME_WAIT and client connections of a
 * service that is gone do not count, as they would for a bind() probe.
 * Returns 0 when free; -1 with EADDRINUSE naming the port, or with the
 * netlink error when the kernel cannot be asked. */
int daemon_host_port_free(const struct wr_publish *p, wr_error *err);

#endif
