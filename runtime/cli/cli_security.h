/* The security options `activate` and `pool create` share (docs/cli.md). */
#ifndef WARMRUN_CLI_SECURITY_H
#define WARMRUN_CLI_SECURITY_H

#include "lib/security_profile.h"

#include <getopt.h>

enum {
    CLI_SEC_CAP_ADD = 900, /* below CLI_RESOURCE_OPT (cli.h) */
    CLI_SEC_CAP_DROP,
    CLI_SEC_PRIVILEGED,
    CLI_SEC_SECURITY_OPT,
    CLI_SEC_READ_ONLY,
    CLI_SEC_USER,
    CLI_SEC_ULIMIT,
    CLI_SEC_UMASK,
    CLI_SEC_USERNS,
};

/* Entries for a getopt_long table; -u is the short form of --user. */
/* clang-format off */
#define CLI_SECURITY_LONGOPTS \
    {"cap-add", required_argument, NULL, CLI_SEC_CAP_ADD}, \
    {"cap-drop", required_argument, NULL, CLI_SEC_CAP_DROP}, \
    {"privileged", no_argument, NULL, CLI_SEC_PRIVILEGED}, \
    {"security-opt", required_argument, NULL, CLI_SEC_SECURITY_OPT}, \
    {"read-only", no_argument, NULL, CLI_SEC_READ_ONLY}, \
    {"user", required_argument, NULL, CLI_SEC_USER}, \
    {"ulimit", required_argument, NULL, CLI_SEC_ULIMIT}, \
    {"umask", required_argument, NULL, CLI_SEC_UMASK}, \
    {"userns", required_argument, NULL, CLI_SEC_USERNS}
/* clang-format on */

#define CLI_SECURITY_USAGE                                                                         \
    "[--cap-add CAP] [--cap-drop CAP] [--privileged] [--security-opt seccomp=PROFILE] "            \
    "[--read-only] [-u USER[:GROUP]] [--ulimit NAME=SOFT[:HARD]] [--umask MASK] "                  \
    "[--userns auto|BASE[:SIZE]]"

/* Applies getopt's c (a CLI_SEC_* value, or 'u') to p. Returns 1 when c was
 * a security option, 0 when it is not one, -1 (message printed) when its
 * value is bad. */
int cli_security_option(struct wr_security_profile *p, int c, const char *arg);

#endif
