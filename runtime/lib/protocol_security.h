/* The API's "security" object (docs/api.md) <-> struct wr_security_profile.
 * Only protocol.c calls these. */
#ifndef WARMRUN_PROTOCOL_SECURITY_H
#define WARMRUN_PROTOCOL_SECURITY_H

#include "error.h"
#include "security_profile.h"

struct json_t;

/* Every member is optional; absent or null means the default. */
int wr_security_from_json(struct json_t *obj, struct wr_security_profile *p, wr_error *err);
struct json_t *wr_security_to_json(const struct wr_security_profile *p);

#endif
