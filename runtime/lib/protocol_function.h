/* The function part of the control-socket API (docs/api.md, "Functions"):
 * function_create / function_rm / function_ls / invoke requests and their
 * replies, encoded and validated by protocol_function.c for protocol.c.
 * Names and limits follow AWS Lambda's
 * (https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html,
 * https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html). */
#ifndef WARMRUN_PROTOCOL_FUNCTION_H
#define WARMRUN_PROTOCOL_FUNCTION_H

#include "error.h"

#include <stdbool.h>
#include <stddef.h>

/* Lambda's function name: [a-zA-Z0-9-_]{1,64}. */
#define WR_FUNCTION_NAME_MAX 64
/* Lambda's synchronous payload limit, request and response (6 MB). */
#define WR_INVOKE_PAYLOAD_MAX (6 * 1024 * 1024)
/* Bytes of the log kept for --log-tail / X-Amz-Log-Result (Lambda: 4 KB). */
#define WR_LOG_TAIL_MAX         4096
#define WR_FUNCTION_ENVS_MAX    256
#define WR_FUNCTION_TIMEOUT_MAX 900 /* seconds, as Lambda */

/* function_create: its settings beyond the pool's (image, env, tmpfs,
 * security and resources travel in struct wr_request as for pool_create). */
struct wr_function_spec {
    long min, max;  /* initialised environments kept / at most (concurrency) */
    long timeout_s; /* per invocation, 1..900 (Lambda's default 3) */
    long memory_mb; /* AWS_LAMBDA_FUNCTION_MEMORY_SIZE and the memory limit, 128..10240 */
    char *handler;  /* _HANDLER and the Cmd; NULL: the image's Cmd */
    bool fresh;     /* an environment never serves a second invocation */
};

struct wr_function_info {
    char name[WR_FUNCTION_NAME_MAX + 1];
    char image[256];
    long min, max, timeout_s, memory_mb;
    bool fresh;
    long environments, idle, busy, queued, invocations, errors, init_failures;
    char last_error[256];
};

/* An invoke's outcome: the body travels as a memfd beside the reply. */
struct wr_invoke_result {
    char request_id[40];
    char function_error[32]; /* "" or "Unhandled" (Lambda's X-Amz-Function-Error) */
    char log_tail[WR_LOG_TAIL_MAX + 1];
};

bool wr_function_name_valid(const char *name);
/* `function ls --json`: a malloc'd JSON array of the functions, as the
 * daemon's function_ls reply has them (docs/api.md). */
char *wr_function_list_json(const struct wr_function_info *f, size_t n);

#endif
