/* See paths.h. */
#include "paths.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

static const char *env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    return v && v[0] ? v : fallback;
}

void wr_paths_from_env(struct wr_paths *p)
{
    p->root = env_or("WARMRUN_ROOT", WR_DEFAULT_STORE_ROOT);
    p->state_dir = env_or("WARMRUN_STATE_DIR", WR_DEFAULT_STATE_DIR);
    p->socket[0] = '\0';
}

int wr_paths_set_socket(struct wr_paths *p, const char *socket_opt, wr_error *err)
{
    const char *socket = socket_opt ? socket_opt : getenv("WARMRUN_SOCKET");
    int n = socket && socket[0]
                ? snprintf(p->socket, sizeof p->socket, "%s", socket)
                : snprintf(p->socket, sizeof p->socket, "%s/warmrun.sock", p->state_dir);
    if (n < 0 || (size_t)n >= sizeof p->socket)
        return wr_error_set(err, ENAMETOOLONG, "socket path longer than %zu bytes",
                            sizeof p->socket - 1);
    return 0;
}
