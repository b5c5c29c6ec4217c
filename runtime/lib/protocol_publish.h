/* The "publish" member of a pool create request (docs/api.md): an array
 * of -p texts (`[HOSTIP:]HOSTPORT:CONTAINERPORT[/tcp|udp]`, net_publish.h),
 * each kept in its canonical form, at most WR_PUBLISH_MAX. */
#ifndef WARMRUN_PROTOCOL_PUBLISH_H
#define WARMRUN_PROTOCOL_PUBLISH_H

#include "error.h"
#include "net_publish.h"

#include <jansson.h>

/* Parses arr into set. Errors: not an array of strings, more than
 * WR_PUBLISH_MAX, a malformed entry (wr_publish_parse's message), or one
 * host port (of one protocol) given twice. */
int wr_publish_set_from_json(json_t *arr, struct wr_publish_set *set, wr_error *err);
json_t *wr_publish_set_to_json(const struct wr_publish_set *set);

#endif
