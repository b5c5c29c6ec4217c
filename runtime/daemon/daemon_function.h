/* Functions: pools of initialised environments speaking the AWS Lambda
 * Runtime API (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html).
 *
 * An environment is a container of the function's hidden pool
 * (daemon_pool.h), activated with the image's Entrypoint and Cmd (or
 * --handler) and Lambda's environment; its Runtime API is a socket
 * listening on 127.0.0.1:9001 inside the container's own network namespace
 * (made by the daemon with setns through the container's pidfd), served by
 * the daemon (daemon_runtime_api.c). Its life:
 *
 *   INIT --GET next--> IDLE (frozen) --invoke: thaw, answer next--> BUSY
 *     ^                  ^                                           |
 *     |                  +------------- GET next (frozen again) -----+
 *   start                                  (--fresh: discarded instead)
 *
 *   init/error, exit, init or invocation timeout --> DEAD (killed, freed)
 *
 * Invocations beyond the idle environments start new ones up to --max,
 * then wait in a queue of --queue, then are refused (TooManyRequests). */
#ifndef WARMRUN_DAEMON_FUNCTION_H
#define WARMRUN_DAEMON_FUNCTION_H

#include "daemon.h"
#include "daemon_freezer.h"

#include "lib/protocol.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct function;
struct fn_env;
struct invocation;

/* An epoll watch of this module (WATCH_FUNCTION in daemon.h). */
enum fn_watch_what { FNW_LISTEN, FNW_CLIENT, FNW_LOG, FNW_TIMER, FNW_HTTP };
struct fn_watch {
    struct watch watch;
    enum fn_watch_what what;
    void *obj;
};

/* How an invocation ends: code NULL and the result and body (the
 * function's response, or its error with result->function_error set), or
 * an error code of the API (not_found, too_large, busy, internal) and
 * message. Called once, from the daemon's loop. */
typedef void (*daemon_invoke_done)(struct daemon *d, void *arg, const char *code, const char *msg,
                                   const struct wr_invoke_result *result, const void *body,
                                   size_t len);

/* Setup at daemon start: the Runtime API server, the functions directory
 * of the state directory (<state>/functions: NAME.json the create request,
 * NAME.log the log), the functions stored there created again, stale
 * freezer cgroups thawed and removed. */
int daemon_functions_init(struct daemon *d, wr_error *err);
/* Shutdown: every environment killed (their containers would otherwise
 * stay frozen), pending invocations answered. */
void daemon_functions_shutdown(struct daemon *d);
/* Each loop turn: environments started where wanted, queues served. */
void daemon_functions_tick(struct daemon *d);
/* The loop's timeout bound (ms) while functions wait for something; -1. */
int daemon_functions_timeout_ms(const struct daemon *d);
void daemon_functions_event(struct daemon *d, struct watch *w, uint32_t events);
/* After each event batch: frees the environments that went during it. */
void daemon_functions_bury(struct daemon *d);

/* function_create: req as parsed; stored (as its encoding) to be created
 * again by the next daemon. EEXIST: a function of that name; else the
 * pool's errors. */
int daemon_function_create(struct daemon *d, const struct wr_request *req, wr_error *err);
/* function_rm: its environments killed, waiting invocations answered,
 * its stored request removed. ENOENT. */
int daemon_function_remove(struct daemon *d, const char *name, wr_error *err);
/* function_ls: a malloc'd array (count in *n). */
struct wr_function_info *daemon_function_list(struct daemon *d, size_t *n);
/* `image import` rewrote a tag: every function whose image tag now names
 * another image rolls over before the import's reply (new invocations get
 * environments of the new image; invocations being served finish on the
 * old one, whose environment then goes). Returns how many rolled. */
int daemon_functions_image_updated(struct daemon *d);
/* Whether a function of that name exists (DryRun). */
bool daemon_function_exists(struct daemon *d, const char *name);

/* Invokes function name with payload (copied). Returns 0 (done is called
 * later, or already) or -1 with err: ENOENT no function, E2BIG payload
 * over 6 MB, EBADMSG payload not JSON (InvalidRequestContentException),
 * EBUSY every environment busy and the queue full. done NULL:
 * an asynchronous (Event) invocation, whose result goes to the log only. */
int daemon_function_invoke(struct daemon *d, const char *name, const void *payload, size_t len,
                           bool log_tail, daemon_invoke_done done, void *arg, wr_error *err);

/* ---- for daemon_runtime_api.c --------------------------------------------- */

enum fn_env_state { ENV_INIT, ENV_IDLE, ENV_BUSY, ENV_DEAD };

struct fn_env {
    struct function *fn;
    char id[16];
    enum fn_env_state state;
    int pidfd, client_fd, listen_fd, log_fd, timer_fd;
    struct fn_watch w_listen, w_client, w_log, w_timer;
    struct daemon_freezer freezer;
    bool frozen, served;
    bool gone;              /* freed after the event batch */
    unsigned generation;    /* its function's image generation when it started */
    void *next_conn;        /* the runtime's GET next, suspended (MHD_Connection) */
    struct invocation *inv; /* assigned to it, answered or not */
    bool inv_sent;          /* the event went out on a next */
    unsigned n_conns;       /* its Runtime API connections open (daemon_runtime_api.c) */
    size_t body_bytes;      /* request bodies being received on them, bytes (at most
                               WR_INVOKE_PAYLOAD_MAX together) */
    struct fn_env *next;
};

struct invocation {
    struct function *fn;
    char request_id[37];
    char *payload;
    size_t len;
    int64_t deadline_ms; /* unix ms */
    bool log_tail;
    char tail[WR_LOG_TAIL_MAX + 1];
    size_t tail_len;
    daemon_invoke_done done;
    void *arg;
    /* With log_tail, the runtime's answer is held until it asks for the
     * next invocation (its log lines may still be on their way), at most
     * LOG_GRACE_MS. */
    bool answered, answer_error;
    char *answer;
    size_t answer_len;
    struct invocation *next;
};

const char *daemon_function_name(const struct function *f);
/* The count of Runtime API connections its environments hold together
 * (kept by daemon_runtime_api.c, which caps it). */
unsigned *daemon_function_conns(struct function *f);

/* The runtime's GET .../invocation/next: IDLE (frozen) unless an
 * invocation waits; returns the invocation to send now, or NULL (the
 * caller suspends the request and keeps it in env->next_conn). */
struct invocation *daemon_env_next(struct daemon *d, struct fn_env *env);
/* POST .../invocation/{id}/response or /error (error_type: the
 * Lambda-Runtime-Function-Error-Type header, NULL for a response).
 * Returns 0, or -1 when id is not the environment's current invocation. */
int daemon_env_result(struct daemon *d, struct fn_env *env, const char *id, bool error,
                      const void *body, size_t len);
/* POST .../invocation/{id}/response or /error whose body passed
 * WR_INVOKE_PAYLOAD_MAX (the Runtime API answers it 413): the invocation
 * ends as Lambda ends it, with a Function.ResponseSizeTooLarge error of
 * the function (X-Amz-Function-Error: Unhandled), not left open for the
 * runtime's next request to end as an unanswered one. Returns as
 * daemon_env_result. */
int daemon_env_result_too_large(struct daemon *d, struct fn_env *env, const char *id);
/* POST /runtime/init/error, or a failure found otherwise: the environment
 * goes, the failure counts for the function's backoff and the invocation
 * waiting first gets body as its error. */
void daemon_env_init_error(struct daemon *d, struct fn_env *env, const char *body, size_t len);

#endif
