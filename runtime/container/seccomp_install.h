/* The compiled seccomp filter installed in the container (seccomp_install.c). */
#ifndef WARMRUN_SECCOMP_INSTALL_H
#define WARMRUN_SECCOMP_INSTALL_H

#include "lib/error.h"
#include "lib/seccomp_profile.h"

/* Installs f in the calling thread with seccomp(SECCOMP_SET_MODE_FILTER)
 * (needs no_new_privs or CAP_SYS_ADMIN): the last step of the fill path. */
int wr_seccomp_filter_install(const struct wr_seccomp_filter *f, wr_error *err);

#endif
