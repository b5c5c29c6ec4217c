/* The user a workload runs as, resolved in the /etc/passwd and /etc/group
 * of the current root (see workload_user.c); taken on by the container
 * (container/security_setup.c). */
#ifndef WARMRUN_WORKLOAD_USER_H
#define WARMRUN_WORKLOAD_USER_H

#include "error.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define WR_GROUPS_MAX 64
/* A passwd line is read into 1 KiB: no home directory is longer. */
#define WR_HOME_ENV_MAX (sizeof "HOME=" + 1024)

struct wr_workload_user {
    bool set;
    uid_t uid;
    gid_t gid;
    size_t n_groups;
    gid_t groups[WR_GROUPS_MAX];
    /* "HOME=<dir>": the user's passwd home directory, "/" without an
     * entry (runc's rule), ready to be put in a workload's environment. */
    char home_env[WR_HOME_ENV_MAX];
};

/* Resolves "uid[:gid]" / "name[:group]" ("" or NULL: root) against the
 * /etc/passwd and /etc/group of the current root, home directory included
 * (w->home_env). */
int wr_workload_user_resolve(const char *spec, struct wr_workload_user *w, wr_error *err);
/* A group name (from the current root's /etc/group) or number -> gid. */
int wr_group_id(const char *group, gid_t *gid, wr_error *err);
#endif
