/* The "volumes" member of a pool create request (docs/api.md): an array
 * of {"type": "bind", "source": "/host/path", "target": "/in/container",
 * "readonly": false} and {"type": "tmpfs", "target": "/in/container",
 * "size": bytes, "mode": permission bits, "readonly": false}. */
#ifndef WARMRUN_PROTOCOL_VOLUMES_H
#define WARMRUN_PROTOCOL_VOLUMES_H

#include "error.h"
#include "volumes.h"

#include <jansson.h>

int wr_volumes_from_json(json_t *arr, struct wr_volumes *vs, wr_error *err);
/* NULL when a path is not UTF-8. */
json_t *wr_volumes_to_json(const struct wr_volumes *vs);

#endif
