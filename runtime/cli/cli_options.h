/* The container settings `activate` and `pool create` share, as one
 * getopt_long table appended to a command's own options: the security
 * options (docs/security.md; -u is the short form of --user) and one
 * option per resource knob of resources.h (docs/resources.md). */
#ifndef WARMRUN_CLI_OPTIONS_H
#define WARMRUN_CLI_OPTIONS_H

#include "lib/net_config.h"
#include "lib/resources.h"
#include "lib/security_profile.h"
#include "lib/volumes.h"

#include <getopt.h>
#include <stdbool.h>

/* Entries cli_container_longopts adds at most (the NULL entry aside). */
#define CLI_CONTAINER_OPTS_MAX 40

#define CLI_CONTAINER_USAGE                                                                        \
    "[--cap-add CAP] [--cap-drop CAP] [--privileged] [--security-opt seccomp=PROFILE] "            \
    "[--read-only] [-u USER[:GROUP]] [--ulimit NAME=SOFT[:HARD]] [--umask MASK] "                  \
    "[--userns auto|host|BASE[:SIZE]] [--network none|host|bridge[=NAME]|cni:NAME] "               \
    "[--mount type=bind|tmpfs,...] [--volume SRC:DST[:ro]] "                                       \
    "[--tmpfs DST[:size=N,mode=M]] [resource options: docs/resources.md]"

struct cli_container_options {
    struct wr_security_profile security; /* the defaults, changed by the options */
    bool security_set;                   /* a security option was given */
    struct wr_resources res;             /* zeroed: nothing set */
    bool res_set;                        /* a resource option was given */
    char network[WR_NET_MODE_TEXT];      /* --network, canonical; "" = not given */
    struct wr_volumes volumes;           /* --mount, --volume, --tmpfs (cli_volumes.c) */
};

void cli_container_options_init(struct cli_container_options *o);
/* out gets base (up to its NULL entry), then the container options, then
 * the NULL entry: room for base's entries plus CLI_CONTAINER_OPTS_MAX + 1.
 * Their getopt values are 900 and above: a command's own must be below. */
void cli_container_longopts(const struct option *base, struct option *out);
/* Applies getopt's c (and 'u') to o. Returns 1 when c was a container
 * option, 0 when it is not one, -1 (message printed) when its value is
 * bad. */
int cli_container_option(struct cli_container_options *o, int c, const char *arg);
/* One volume option ("mount", "volume" or "tmpfs") added to vs (cli_volumes.c).
 * Returns 0, or -1 with the message printed (a usage error). */
int cli_volume_option(struct wr_volumes *vs, const char *opt, const char *arg);
/* Frees what the options hold. */
void cli_container_options_free(struct cli_container_options *o);

#endif
