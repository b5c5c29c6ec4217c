/* The JSON of `warmrun network ls --json` (docs/cli.md): an array of
 * {"name", "bridge", "subnet", "gateway", "containers"}. */
#ifndef WARMRUN_PROTOCOL_NETWORK_H
#define WARMRUN_PROTOCOL_NETWORK_H

#include "net_config.h"

#include <stddef.h>

/* malloc'd text, or NULL (out of memory). live[i]: leases of list[i]. */
char *wr_network_list_json(const struct wr_network *list, const size_t *live, size_t count);

#endif
