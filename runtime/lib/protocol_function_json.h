/* JSON of the function requests and replies (protocol_function.h). Only
 * protocol.c calls these. */
#ifndef WARMRUN_PROTOCOL_FUNCTION_JSON_H
#define WARMRUN_PROTOCOL_FUNCTION_JSON_H

#include "error.h"
#include "protocol.h"

struct json_t;

/* The members of function_create (besides image, env and the container
 * settings), function_rm and invoke; nothing for other ops. */
int wr_function_request_from_json(struct json_t *root, struct wr_request *req, wr_error *err);
int wr_function_request_to_json(struct json_t *root, const struct wr_request *req, wr_error *err);
/* "functions": [...] or "invoke": {...} */
void wr_function_reply_to_json(struct json_t *root, const struct wr_reply *r);
int wr_function_reply_from_json(struct json_t *root, struct wr_reply *r, wr_error *err);

#endif
