/* The AWS Lambda Invoke API on the daemon's HTTP listener
 * (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html):
 * POST /2015-03-31/functions/{FunctionName}/invocations, so that the AWS
 * SDKs and CLI (with an endpoint override) and the usual curl of the
 * Runtime Interface Emulator work unchanged. */
#ifndef WARMRUN_DAEMON_FUNCTION_HTTP_H
#define WARMRUN_DAEMON_FUNCTION_HTTP_H

#include "daemon.h"

/* Adds the route (whether or not --http was given). */
int daemon_function_http_routes(struct daemon *d, wr_error *err);

#endif
