/* See cli_options.h: one table, one dispatch, for both kinds of option. */
#include "cli_options.h"

#include "cli.h"

#include <string.h>

/* getopt values: security options from OPT_SECURITY, one per entry of
 * security_opts; resource knobs from OPT_RESOURCE, one per key. */
#define OPT_SECURITY 900
#define OPT_NETWORK  990
#define OPT_VOLUME   950
#define OPT_RESOURCE 1000

static const char *const volume_opts[] = {"mount", "volume", "tmpfs"};
#define N_VOLUME (sizeof volume_opts / sizeof volume_opts[0])

static const struct {
    const char *name;
    int has_arg;
} security_opts[] = {
    {"cap-add", required_argument}, {"cap-drop", required_argument},
    {"privileged", no_argument},    {"security-opt", required_argument},
    {"read-only", no_argument},     {"user", required_argument},
    {"ulimit", required_argument},  {"umask", required_argument},
    {"userns", required_argument},
};
#define N_SECURITY (sizeof security_opts / sizeof security_opts[0])

void cli_container_options_init(struct cli_container_options *o)
{
    memset(o, 0, sizeof *o);
    wr_security_profile_default(&o->security);
}

void cli_container_options_free(struct cli_container_options *o)
{
    wr_volumes_free(&o->volumes);
}

void cli_container_longopts(const struct option *base, struct option *out)
{
    size_t n = 0, added = 0;
    const char *key;
    while (base[n].name) {
        out[n] = base[n];
        n++;
    }
    for (size_t i = 0; i < N_SECURITY; i++, added++)
        out[n++] = (struct option){security_opts[i].name, security_opts[i].has_arg, NULL,
                                   OPT_SECURITY + (int)i};
    out[n++] = (struct option){"network", required_argument, NULL, OPT_NETWORK};
    added++; /* counted too: out has room for CLI_CONTAINER_OPTS_MAX in all */
    for (size_t i = 0; i < N_VOLUME; i++, added++)
        out[n++] = (struct option){volume_opts[i], required_argument, NULL, OPT_VOLUME + (int)i};
    for (size_t i = 0; (key = wr_resources_key(i)) && added < CLI_CONTAINER_OPTS_MAX; i++, added++)
        out[n++] = (struct option){key, wr_resources_is_flag(key) ? no_argument : required_argument,
                                   NULL, OPT_RESOURCE + (int)i};
    out[n] = (struct option){NULL, 0, NULL, 0};
}

int cli_container_option(struct cli_container_options *o, int c, const char *arg)
{
    wr_error err;
    if (c == 'u') /* -u: --user */
        for (size_t i = 0; i < N_SECURITY; i++)
            if (strcmp(security_opts[i].name, "user") == 0)
                c = OPT_SECURITY + (int)i;
    if (c >= OPT_SECURITY && c < OPT_SECURITY + (int)N_SECURITY) {
        if (wr_security_option(&o->security, security_opts[c - OPT_SECURITY].name, arg, &err) < 0) {
            cli_error("%s", err.msg);
            return -1;
        }
        o->security_set = true;
        return 1;
    }
    if (c == OPT_NETWORK) {
        struct wr_net_mode m;
        if (wr_net_mode_parse(arg, &m, &err) < 0) {
            cli_error("%s", err.msg);
            return -1;
        }
        wr_net_mode_format(&m, o->network);
        return 1;
    }
    if (c >= OPT_VOLUME && c < OPT_VOLUME + (int)N_VOLUME)
        return cli_volume_option(&o->volumes, volume_opts[c - OPT_VOLUME], arg) < 0 ? -1 : 1;
    if (c < OPT_RESOURCE)
        return 0;
    const char *key = wr_resources_key((size_t)(c - OPT_RESOURCE));
    if (!key || wr_resources_set(&o->res, key, arg, &err) < 0) {
        cli_error("%s", key ? err.msg : "unknown option");
        return -1;
    }
    o->res_set = true;
    return 1;
}
