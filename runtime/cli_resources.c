/* The resource options of `warmrun pool create` and `warmrun activate`
 * (docs/resources.md): one getopt entry per knob of resources.h. */
#include "cli.h"

#include "resources.h"

#include <getopt.h>

size_t cli_resource_longopts(struct option *opts, size_t cap)
{
    size_t n = 0;
    const char *key;
    for (size_t i = 0; (key = wr_resources_key(i)) && n < cap; i++)
        opts[n++] =
            (struct option){key, wr_resources_is_flag(key) ? no_argument : required_argument, NULL,
                            CLI_RESOURCE_OPT + (int)i};
    return n;
}

int cli_resource_option(struct wr_resources *r, int val, const char *arg)
{
    wr_error err;
    const char *key = wr_resources_key((size_t)(val - CLI_RESOURCE_OPT));
    if (!key || wr_resources_set(r, key, arg, &err) < 0) {
        cli_error("%s", key ? err.msg : "unknown option");
        return -1;
    }
    return 0;
}
