/* See daemon_shim_exe.h. */
#include "daemon_shim_exe.h"

#include "daemon_log.h"
#include "daemon_shim_server.h"
#include "lib/clock.h"

int daemon_shim_exe_open(struct daemon *d, const char *shim_path, wr_error *err)
{
    int64_t start = wr_monotonic_ns();
    if (wr_shim_exe_open(&d->shim_exe, shim_path, d->g->state_dir, err) < 0)
        return -1;
    double us = (double)(wr_monotonic_ns() - start) / 1000.0;
    struct wr_shim_exe *x = &d->shim_exe;
    if (x->kind == WR_SHIM_SEAL_OVERLAY)
        daemon_log("shim %s: executed through a read-only overlay (%.0f us)", x->host_path, us);
    else
        daemon_log("shim %s: executed from a sealed memfd copy of %lld bytes (%.0f us)%s%s",
                   x->host_path, (long long)x->sealed.st_size, us,
                   x->overlay_error[0] ? "; no overlay: " : "", x->overlay_error);
    return 0;
}

const char *daemon_shim_exec_path(struct daemon *d, wr_error *err)
{
    char what[160];
    int rc = wr_shim_exe_check(&d->shim_exe, what, sizeof what, err);
    if (rc < 0)
        return NULL;
    if (rc > 0) {
        daemon_log("shim memfd changed by a container (%s): replaced by a fresh sealed copy", what);
        /* The server runs the changed copy: its shims would too. */
        daemon_shim_server_stop(d);
    }
    return d->shim_exe.exec_path;
}
