/* Pools that outlive the daemon, and follow their image.
 *
 * A pool is declared once: every `pool create` the daemon accepts is kept
 * as the protocol's pool_create request (lib/protocol.h: every option any
 * pool has travels in it, so a new option persists with no code here) and
 * stored, whole and with the pool's current size, in the image store:
 *
 *   <root>/pools/<owner>/state_dir        the daemon's state directory
 *   <root>/pools/<owner>/<name>:<tag>.json one record per pool ('/' of the
 *                                          name written '%')
 *
 * <owner> is 16 hex digits of the FNV-1a hash of the state directory's
 * canonical path: daemons with their own state directories share a store
 * and never restore each other's pools (the state_dir file settles a
 * collision). Records are written via a temporary file, fsync and rename,
 * so a crash leaves the old record or the new one. A daemon restores every
 * record at start-up, after a crash as after a shutdown; `pool rm` deletes
 * the record. Records are read as hostile input (docs/security.md): one
 * that is not a regular root-owned file of at most one message, not a
 * valid pool_create request, or not of the pool its name says, is skipped
 * with one log line. */
#ifndef WARMRUN_DAEMON_PERSIST_H
#define WARMRUN_DAEMON_PERSIST_H

#include "daemon.h"

#include "lib/protocol.h"

#include <stdbool.h>

/* Creates, resizes or sets up again the pool of req (a pool_create
 * request), as daemon_pool_create, and keeps the request that gives the
 * pool's settings now (a resize keeps the settings: the kept request with
 * the new size). store: also written to the store (a failure there is
 * logged; the pool stays). Errors: daemon_pool_create's. */
int daemon_pool_apply(struct daemon *d, const struct wr_request *req, bool store, wr_error *err);
/* Removes the pool of ref (daemon_pool_remove) and its stored record; a
 * record without a pool (it could not be restored: its image is missing)
 * is removed too. ENOENT: neither a pool nor a record. */
int daemon_pool_forget(struct daemon *d, const char *ref, wr_error *err);
/* A stored record's text (NUL-terminated, *len bytes; malloc'd): name
 * in dirfd, a regular file (opened without following a link, without
 * blocking: a FIFO is refused, not waited on) owned by root and writable
 * by root only, of at most WR_API_MSG_MAX bytes. NULL with err saying
 * why. For pools' records and functions' definitions. */
char *daemon_record_read(int dirfd, const char *name, size_t *len, wr_error *err);
/* Start-up: every stored pool of this state directory, applied again. */
void daemon_pools_restore(struct daemon *d);
/* `image import` wrote ref again: if a pool uses it and the tag now names
 * another image (id or layers), the pool rolls over to it before this
 * returns (daemon_pool_set_image). *rolled: the pool that rolled, or NULL.
 * Errors: the new image's load, or its profile. */
int daemon_pool_image_updated(struct daemon *d, const char *ref, struct pool **rolled,
                              wr_error *err);

#endif
