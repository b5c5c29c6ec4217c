/* The Lambda Runtime API server of every function environment
 * (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html): one
 * libmicrohttpd instance without a listening socket of its own, run from
 * the daemon's loop (its epoll descriptor is one of the loop's watches).
 * Connections come from each environment's listening socket (inside that
 * container's network namespace), accepted here and handed over with
 * MHD_add_connection; each is bound to its environment, so a runtime only
 * ever reaches its own environment's invocations. */
#ifndef WARMRUN_DAEMON_RUNTIME_API_H
#define WARMRUN_DAEMON_RUNTIME_API_H

#include "daemon_function.h"

int daemon_runtime_api_start(struct daemon *d, struct fn_watch *w, wr_error *err);
void daemon_runtime_api_stop(void);
/* MHD's turn (its epoll descriptor is readable, or a request was resumed). */
void daemon_runtime_api_run(void);
/* When MHD wants its next turn (ms; 0: now), or -1. */
int daemon_runtime_api_timeout_ms(void);
/* Accepts what waits on env's listening socket. */
void daemon_runtime_api_accept(struct fn_env *env);
/* Resumes env's suspended GET next (an invocation was assigned to it). */
void daemon_runtime_api_resume(struct fn_env *env);
/* env is going: its connections are cut from it (their requests get 410). */
void daemon_runtime_api_forget(struct fn_env *env);

#endif
