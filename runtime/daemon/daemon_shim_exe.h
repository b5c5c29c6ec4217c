/* The daemon's shim executable (lib/shim_exe.h): opened once at start,
 * through a read-only overlay or as a sealed memfd copy, and checked before
 * each use, so that no container's /proc/self/exe is ever the host's file. */
#ifndef WARMRUN_DAEMON_SHIM_EXE_H
#define WARMRUN_DAEMON_SHIM_EXE_H

#include "daemon.h"

/* Opens d->shim_exe for shim_path, logging how (and what it cost). */
int daemon_shim_exe_open(struct daemon *d, const char *shim_path, wr_error *err);
/* The path to execute the shim by (for fills and seccomp compiles), after
 * checking that no container changed its memfd copy (replacing it, and
 * logging that, if one did). NULL on error. */
const char *daemon_shim_exec_path(struct daemon *d, wr_error *err);

#endif
