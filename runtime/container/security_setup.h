/* The container side of the security profile (security_setup.c). */
#ifndef WARMRUN_SECURITY_SETUP_H
#define WARMRUN_SECURITY_SETUP_H

#include "container.h"
#include "lib/error.h"

#include <stdbool.h>
#include <stdint.h>

/* The fill-path part of the security profile inside the new root: the
 * workload's user (resolved now, entered by wr_security_enter_user at
 * activation), ulimits, umask, capabilities, no_new_privs. The seccomp
 * filter goes in last, by wr_seccomp_filter_install. */
int wr_security_setup(const struct wr_container_config *cfg, int shim_sock, wr_error *err);
/* Hands stdio (fds 0-2, already in place) to the user unless root, then
 * takes the user on. shim_sock: see wr_parent_death_arm, done after the
 * change of user. */
int wr_security_enter_user(int shim_sock, wr_error *err);
/* At activation: an environment without HOME, or with an empty one,
 * gets the user's (from the image's /etc/passwd, "/" without an entry:
 * runc's rule). envp is NULL-terminated with room for one more entry; the
 * added string lives in static storage. A scan of envp, no allocation. */
void wr_security_default_home(char **envp);

/* The workload's user (ids inside the container's user namespace, if
 * any; root's 0 when none was given): whom its stdio is handed to. */
void wr_security_stdio_owner(uint32_t *uid, uint32_t *gid);

#endif
