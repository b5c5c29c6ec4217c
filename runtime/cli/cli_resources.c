/* The resource options of `warmrun pool create` and `warmrun activate`
 * (docs/resources.md): one getopt entry per knob of resources.h. */
#include "cli.h"

#include "lib/resources.h"

#include <getopt.h>

void cli_with_resource_options(const struct option *base, struct option *out)
{
    size_t n = 0;
    const char *key;
    while (base[n].name) {
        out[n] = base[n];
        n++;
    }
    for (size_t i = 0; (key = wr_resources_key(i)) && i < CLI_RESOURCE_OPTS_MAX - 1; i++) {
        int has_arg = wr_resources_is_flag(key) ? no_argument : required_argument;
        out[n++] = (struct option){key, has_arg, NULL, CLI_RESOURCE_OPT + (int)i};
    }
    out[n] = (struct option){NULL, 0, NULL, 0};
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
