/* The running daemon's defaults for containers it does not start itself.
 * `warmrun daemon --userns-default` makes every container the daemon starts
 * run in a user namespace; a cold start by the CLI (no pool for the image,
 * per-activation options) must not be weaker while that daemon runs. The
 * daemon publishes its defaults in <state_dir>/defaults when it starts and
 * removes the file when it stops; the CLI's cold path reads it.
 *
 * The file is one line, "userns=BASE:SIZE\n", written by root (tmp file +
 * rename, mode 0600) in the 0700 state directory. A daemon killed with
 * SIGKILL leaves it behind: cold starts then keep the stronger setting
 * until the next daemon start rewrites or removes it. */
#ifndef WARMRUN_STATE_DEFAULTS_H
#define WARMRUN_STATE_DEFAULTS_H

#include "error.h"

#include <stdint.h>

struct wr_daemon_defaults {
    /* container uids/gids 0..userns_size-1 are host userns_base..; size 0:
     * no user namespace by default */
    uint32_t userns_base, userns_size;
};

/* Writes <state_dir>/defaults, or removes it when d asks for nothing. */
int wr_defaults_publish(const char *state_dir, const struct wr_daemon_defaults *d, wr_error *err);
/* Removes <state_dir>/defaults (daemon exit). */
void wr_defaults_withdraw(const char *state_dir);
/* Reads <state_dir>/defaults: all zero when there is none. A file that
 * does not parse is an error (the caller must not silently run weaker). */
int wr_defaults_read(const char *state_dir, struct wr_daemon_defaults *d, wr_error *err);

#endif
