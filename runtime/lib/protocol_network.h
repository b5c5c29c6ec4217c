/* The JSON of `warmrun network ls --json` (docs/cli.md): an array of
 * {"name", "bridge", "subnet", "gateway", "containers"}. */
#ifndef WARMRUN_PROTOCOL_NETWORK_H
#define WARMRUN_PROTOCOL_NETWORK_H

#include "net_config.h"

#include <stddef.h>

/* malloc'd text, or NULL (out of memory). live[i]: leases of list[i]. */
char *wr_network_list_json(const struct wr_network *list, const size_t *live, size_t count);

/* From the JSON of `list map` (nft -j; libnftables' JSON schema,
 * libnftables-json(5)), appends to script (cap bytes, NUL-terminated) one
 * "delete element ip TABLE MAP { KEY }" line per element whose comment is
 * id. Returns 0, or -1 when script is too small or json is not a map. */
int wr_nft_delete_commented(const char *json, const char *id, const char *table, const char *map,
                            char *script, size_t cap);

#endif
