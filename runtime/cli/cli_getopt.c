/* One line for an option getopt_long cannot take, in the CLI's own voice
 * (`warmrun: ...`), instead of getopt's `create: unrecognized option` line
 * followed by a usage or "bad option" line: an error is one line. */
#include "cli.h"

#include <getopt.h>
#include <string.h>

void cli_getopt_error(const char *command, const char *hint, int c, char **argv)
{
    /* argv[optind - 1] is the word getopt stopped at: "--bogus", "--size"
     * (missing its value), or a cluster of short options ("-it"). */
    const char *word = optind > 0 ? argv[optind - 1] : "";
    char shortopt[3] = {'-', (char)optopt, '\0'};
    const char *name = optopt && strncmp(word, "--", 2) != 0 ? shortopt : word;
    if (c == ':')
        cli_error("%s: option %s needs a value (%s)", command, name, hint);
    else
        cli_error("%s: unknown option %s (%s)", command, name, hint);
}
