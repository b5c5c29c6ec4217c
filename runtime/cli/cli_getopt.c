/* One line for an option getopt_long cannot take, in the CLI's own voice
 * (`warmrun: ...`), instead of getopt's `create: unrecognized option` line
 * followed by a usage or "bad option" line: an error is one line. And the
 * same line whichever C library the CLI is linked with: glibc's and musl's
 * getopt word their messages differently, so every parser of the CLI sets
 * opterr = 0 and calls this. */
#include "cli.h"

#include <getopt.h>
#include <string.h>

void cli_getopt_error(const char *command, const char *hint, int c, char **argv)
{
    /* argv[optind - 1] is the word getopt stopped at: "--bogus", "--size"
     * (missing its value), or a cluster of short options ("-it"). musl's
     * getopt leaves optind one past argc when the last word is a short
     * option missing its value: argv[argc] is NULL there, and the option
     * is then named by optopt. */
    const char *word = optind > 0 && argv[optind - 1] ? argv[optind - 1] : "";
    char shortopt[3] = {'-', (char)optopt, '\0'};
    const char *name = optopt && strncmp(word, "--", 2) != 0 ? shortopt : word;
    /* command NULL: the options before any command (main). */
    const char *sep = command ? ": " : "";
    if (!command)
        command = "";
    if (c == ':')
        cli_error("%s%soption %s needs a value (%s)", command, sep, name, hint);
    else
        cli_error("%s%sunknown option %s (%s)", command, sep, name, hint);
}
