/* One netlink dump (netlink(7): NLM_F_DUMP), its answers read to
 * NLMSG_DONE: the sock_diag(7) dumps of the shim's pristine check and of
 * the daemon's host-port check, and the shim's rtnetlink dumps of lo. */
#ifndef WARMRUN_NL_DUMP_H
#define WARMRUN_NL_DUMP_H

#include <linux/netlink.h>
#include <stddef.h>

/* Sends req (len bytes, a complete netlink message with NLM_F_DUMP) on the
 * netlink socket fd, then calls each(msg, ctx) on every answer up to
 * NLMSG_DONE (each may be NULL); each returns <0 to stop. Answers are read
 * into an 8 KiB buffer on the stack (a dump's messages are sized to the
 * reader's buffer). Returns the number of answers, or a negative value:
 * -E for the kernel's NLMSG_ERROR E, -errno for a failed send or recv
 * (-EIO for a short send or an end of file), or each's own return. */
int wr_nl_dump(int fd, const void *req, size_t len, int (*each)(const struct nlmsghdr *, void *),
               void *ctx);

#endif
