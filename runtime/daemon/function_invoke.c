/* Invocations: an idle environment thawed and given one, the bounded
 * queue, the runtime's results and Lambda's error bodies
 * (function_internal.h). */
#include "daemon_function.h"

#include "daemon_log.h"
#include "daemon_runtime_api.h"
#include "function_internal.h"

#include "lib/clock.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

int64_t fn_unix_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A version 4 UUID, as Lambda's request ids. */
static void new_request_id(char out[37])
{
    unsigned char b[16] = {0};
    if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b)
        for (size_t i = 0; i < sizeof b; i++)
            b[i] = (unsigned char)rand();
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
}

void fn_finish(struct daemon *d, struct invocation *inv, const char *code, const char *msg,
               const char *function_error, const void *body, size_t len)
{
    struct wr_invoke_result res = {0};
    snprintf(res.request_id, sizeof res.request_id, "%s", inv->request_id);
    snprintf(res.function_error, sizeof res.function_error, "%s",
             function_error ? function_error : "");
    if (inv->log_tail)
        memcpy(res.log_tail, inv->tail, inv->tail_len + 1);
    if (inv->done)
        inv->done(d, inv->arg, code, msg, &res, body, len);
    else if (code || function_error)
        daemon_log("function %s: event invocation %s failed: %s", inv->fn->name, inv->request_id,
                   code ? msg : function_error);
    free(inv->payload);
    free(inv->answer);
    free(inv);
}

/* Lambda's error body for failures of the environment (not the handler). */
void fn_finish_error(struct daemon *d, struct invocation *inv, const char *type, const char *what)
{
    char body[512];
    int n = snprintf(body, sizeof body,
                     "{\"errorType\":\"%s\",\"errorMessage\":\"RequestId: %s Error: %s\"}", type,
                     inv->request_id, what);
    inv->fn->errors++;
    fn_finish(d, inv, NULL, NULL, "Unhandled", body, (size_t)n);
}

struct invocation *fn_dequeue(struct function *f)
{
    struct invocation *inv = f->q_head;
    if (inv) {
        f->q_head = inv->next;
        if (!f->q_head)
            f->q_tail = NULL;
        f->queued--;
        inv->next = NULL;
    }
    return inv;
}

/* Ends env's invocation with the runtime's answer (held or given). */
static void complete(struct daemon *d, struct fn_env *env, bool error, const void *body, size_t len)
{
    struct invocation *inv = env->inv;
    struct function *f = env->fn;
    /* What the runtime wrote before it answered (or asked for the next
     * event) is in the pipe now: it belongs to this invocation's tail, as
     * Lambda ends an invocation's logs at the runtime's next request. */
    fn_drain_log(env);
    env->inv = NULL;
    fn_arm(env, 0);
    f->invocations++;
    if (error)
        f->errors++;
    fn_finish(d, inv, NULL, NULL, error ? "Unhandled" : NULL, body, len);
    if (f->spec.fresh)
        fn_env_kill(env); /* it served one: it goes (freed on its exit) */
}

void fn_complete_held(struct daemon *d, struct fn_env *env)
{
    struct invocation *inv = env->inv;
    char *answer = inv->answer;
    inv->answer = NULL;
    complete(d, env, inv->answer_error, answer, inv->answer_len);
    free(answer);
}

/* Hands inv to env (IDLE, its next suspended or arriving). */
static void assign(struct fn_env *env, struct invocation *inv)
{
    wr_error err;
    struct function *f = env->fn;
    env->inv = inv;
    env->inv_sent = false;
    env->state = ENV_BUSY;
    env->served = true;
    inv->deadline_ms = fn_unix_ms() + f->spec.timeout_s * 1000;
    fn_arm(env, f->spec.timeout_s);
    if (env->frozen && daemon_freezer_set(&env->freezer, false, &err) < 0)
        daemon_log("function %s: thaw %s: %s", f->name, env->id, err.msg);
    env->frozen = false;
    if (env->next_conn)
        daemon_runtime_api_resume(env);
}

struct invocation *daemon_env_next(struct daemon *d, struct fn_env *env)
{
    (void)d;
    wr_error err;
    struct function *f = env->fn;
    if (env->state == ENV_INIT) {
        f->consecutive_init_failures = 0;
        f->retry_at_ns = 0;
    }
    if (env->inv && env->inv->answered) {
        fn_complete_held(d, env);
        if (env->state == ENV_DEAD)
            return NULL;
    }
    if (env->generation != f->generation) {
        /* Its image was replaced: it served its last invocation. */
        if (env->inv) {
            struct invocation *inv = env->inv;
            env->inv = NULL;
            fn_finish_error(d, inv, "Runtime.InvalidResponse",
                            "the runtime asked for the next invocation without answering this one");
        }
        fn_env_kill(env);
        return NULL;
    }
    if (env->state == ENV_BUSY && env->inv) {
        /* Asked for the next one without answering this one. */
        struct invocation *inv = env->inv;
        env->inv = NULL;
        fn_finish_error(d, inv, "Runtime.InvalidResponse",
                        "the runtime asked for the next invocation without answering this one");
    }
    env->state = ENV_IDLE;
    fn_arm(env, 0);
    struct invocation *inv = fn_dequeue(f);
    if (inv) {
        assign(env, inv);
        return inv;
    }
    /* Initialised and idle: frozen until an invocation comes. */
    if (daemon_freezer_set(&env->freezer, true, &err) < 0)
        daemon_log("function %s: freeze %s: %s", f->name, env->id, err.msg);
    else
        env->frozen = true;
    return NULL;
}

int daemon_env_result(struct daemon *d, struct fn_env *env, const char *id, bool error,
                      const void *body, size_t len)
{
    struct invocation *inv = env->inv;
    if (!inv || !env->inv_sent || inv->answered || strcmp(inv->request_id, id) != 0)
        return -1;
    if (inv->log_tail && (inv->answer = malloc(len ? len : 1))) {
        memcpy(inv->answer, body, len);
        inv->answer_len = len;
        inv->answer_error = error;
        inv->answered = true;
        struct itimerspec its = {.it_value = {.tv_nsec = LOG_GRACE_MS * 1000000L}};
        (void)timerfd_settime(env->timer_fd, 0, &its, NULL);
        return 0;
    }
    complete(d, env, error, body, len);
    return 0;
}

int daemon_env_result_too_large(struct daemon *d, struct fn_env *env, const char *id)
{
    char body[256];
    int n = snprintf(body, sizeof body,
                     "{\"errorMessage\":\"Response payload size exceeded maximum allowed "
                     "payload size (%d bytes).\",\"errorType\":\"Function.ResponseSizeTooLarge\"}",
                     WR_INVOKE_PAYLOAD_MAX);
    return daemon_env_result(d, env, id, true, body, (size_t)n);
}

int daemon_function_invoke(struct daemon *d, const char *name, const void *payload, size_t len,
                           bool log_tail, daemon_invoke_done done, void *arg, wr_error *err)
{
    struct function *f = fn_find(d, name);
    if (!f)
        return wr_error_code(err, ENOENT, "Function not found: %s", name);
    if (len > WR_INVOKE_PAYLOAD_MAX)
        return wr_error_set(
            err, E2BIG, "Request must be smaller than %d bytes for the InvokeFunction operation",
            WR_INVOKE_PAYLOAD_MAX);
    /* Lambda refuses a payload that is not JSON (any value) before any
     * runtime sees it: InvalidRequestContentException. */
    json_error_t jerr;
    json_t *parsed = json_loadb(payload, len, JSON_DECODE_ANY, &jerr);
    if (!parsed)
        return wr_error_code(err, EBADMSG,
                             "Could not parse request body into json: %s (line %d, column %d)",
                             jerr.text, jerr.line, jerr.column);
    json_decref(parsed);
    long busy = 0, alive = 0;
    struct fn_env *idle = NULL;
    for (struct fn_env *e = f->envs; e; e = e->next) {
        /* Serving: holding an invocation. One that has answered and not
         * yet asked for its next (work after the answer, or discarded at
         * its next after a new image) holds none: counted, it turned the
         * caller's next invocation into a 429 with fewer than --max +
         * the queue outstanding (tests/integration/103-review-functions.t). */
        busy += e->state == ENV_BUSY && e->inv;
        alive += e->state != ENV_DEAD;
        if (e->state == ENV_IDLE && e->next_conn && (!f->spec.fresh || !e->served))
            idle = e;
    }
    if (!idle && f->queued >= f->queue_max + (f->spec.max - busy))
        return wr_error_code(err, EBUSY, "Rate Exceeded.");
    struct invocation *inv = calloc(1, sizeof *inv);
    if (!inv || !(inv->payload = malloc(len ? len : 1))) {
        free(inv);
        return wr_error_set(err, ENOMEM, "invocation");
    }
    memcpy(inv->payload, payload, len);
    inv->len = len;
    inv->fn = f;
    inv->log_tail = log_tail;
    inv->done = done;
    inv->arg = arg;
    new_request_id(inv->request_id);
    if (idle) {
        assign(idle, inv);
        return 0;
    }
    /* No environment can start while the init failures back off: this
     * invocation gets the last init error, as Lambda answers each one. */
    if (f->retry_at_ns > wr_monotonic_ns() && !fn_others_ready(f, NULL) && f->init_error) {
        f->errors++;
        fn_finish(d, inv, NULL, NULL, "Unhandled", f->init_error, f->init_error_len);
        return 0;
    }
    if (f->q_tail)
        f->q_tail->next = inv;
    else
        f->q_head = inv;
    f->q_tail = inv;
    f->queued++;
    (void)alive;
    daemon_functions_tick(d);
    return 0;
}
