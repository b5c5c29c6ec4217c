/* `warmrun --version` and `warmrun version` (docker's `--version` and
 * `version`): the version the Makefile wrote in at build time (WR_VERSION:
 * git describe, or its VERSION outside a git checkout). */
#include "cli.h"

#include <stdio.h>

#ifndef WR_VERSION /* compiled outside the Makefile (an analyser) */
#define WR_VERSION "unknown"
#endif

int cli_print_version(void)
{
    printf("warmrun version %s\n", WR_VERSION);
    return fflush(stdout) == 0 && !ferror(stdout) ? 0 : WR_EXIT_WARMRUN;
}

int cli_version(const struct wr_paths *g, int argc, char **argv)
{
    (void)g;
    if (argc > 1) {
        cli_error("version: unexpected argument \"%s\" (usage: warmrun version)", argv[1]);
        return WR_EXIT_USAGE;
    }
    return cli_print_version();
}
