/* The cold starts' cached default seccomp filter, crash-safe and
 * self-healing (shim_seccomp_cache.c; docs/security.md, "The cached
 * default filter"). */
#ifndef WARMRUN_SHIM_SECCOMP_CACHE_H
#define WARMRUN_SHIM_SECCOMP_CACHE_H

#include "lib/seccomp_profile.h"

#include <stdbool.h>

/* The cache directory dir (created 0700 when missing), opened: a
 * directory, not a symlink, owned by this process's user and writable by
 * no group or other. Returns the descriptor (O_CLOEXEC), or -1 when the
 * directory cannot be trusted or made (then there is no cache: the caller
 * compiles every time, and never fails the start for it). */
int shim_seccomp_cache_dir(const char *dir);

/* The filter cached as name in dirfd, into f (f->insns malloc'ed, f->len
 * instructions, 1..BPF_MAXINSNS). false, with f zeroed, when the file is
 * missing, not a regular file of its own (symlink, hard link, FIFO), not
 * owned by this process's user alone, or its header's magic, length or
 * FNV-1a checksum does not match its contents: a miss, never an error. */
bool shim_seccomp_cache_load(int dirfd, const char *name, struct wr_seccomp_filter *f);

/* Best effort: writes f as name in dirfd through a temporary file of the
 * same directory, fsync'ed and renamed over whatever name was (file,
 * symlink, FIFO), then fsyncs the directory. A crash at any point leaves
 * the old file or the new one, both whole; a temporary file at most, which
 * the next store removes once it is a minute old (a live writer's never
 * is). */
void shim_seccomp_cache_store(int dirfd, const char *name, const struct wr_seccomp_filter *f);

#endif
