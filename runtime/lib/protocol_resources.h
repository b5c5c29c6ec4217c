/* The "resources" member of the API (docs/api.md): a JSON object whose keys
 * are the resource option names (resources.h) and whose values are their
 * strings ("1.5", "512m", "0-3") or numbers; flags are true. */
#ifndef WARMRUN_PROTOCOL_RESOURCES_H
#define WARMRUN_PROTOCOL_RESOURCES_H

#include "error.h"
#include "resources.h"

#include <jansson.h>

int wr_resources_from_json(json_t *obj, struct wr_resources *r, wr_error *err);
json_t *wr_resources_to_json(const struct wr_resources *r);

#endif
