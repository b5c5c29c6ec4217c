/* Timeouts and init failures: each environment's timer (init, invocation,
 * the log grace of a tailed answer), Lambda's Sandbox.Timedout and
 * Runtime.InitTimeout, and the backoff of failing inits
 * (function_internal.h). */
#include "daemon_function.h"

#include "daemon_log.h"
#include "function_internal.h"

#include "lib/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

void fn_arm(struct fn_env *env, long seconds)
{
    struct itimerspec its = {.it_value = {.tv_sec = seconds}};
    (void)timerfd_settime(env->timer_fd, 0, &its, NULL);
}

void fn_backoff(struct function *f, const char *why, const void *body, size_t len)
{
    f->init_failures++;
    f->consecutive_init_failures++;
    int shift = f->consecutive_init_failures - 1;
    int64_t delay = BACKOFF_BASE_NS << (shift > 7 ? 7 : shift);
    f->retry_at_ns = wr_monotonic_ns() + (delay > BACKOFF_MAX_NS ? BACKOFF_MAX_NS : delay);
    snprintf(f->last_error, sizeof f->last_error, "%s", why);
    free(f->init_error);
    f->init_error = NULL;
    f->init_error_len = 0;
    if (body && len > 0 && (f->init_error = malloc(len))) {
        memcpy(f->init_error, body, len);
        f->init_error_len = len;
    }
    daemon_log("function %s: init failed: %s", f->name, why);
}

bool fn_others_ready(struct function *f, struct fn_env *except)
{
    for (struct fn_env *e = f->envs; e; e = e->next)
        if (e != except && (e->state == ENV_IDLE || e->state == ENV_INIT))
            return true;
    return false;
}

void daemon_env_init_error(struct daemon *d, struct fn_env *env, const char *body, size_t len)
{
    struct function *f = env->fn;
    if (env->state == ENV_DEAD)
        return;
    char why[200];
    snprintf(why, sizeof why, "%.*s", (int)(len < 180 ? len : 180), body ? body : "");
    fn_backoff(f, why, body, len);
    fn_env_kill(env);
    /* Lambda answers the invocation that waited for this init with its
     * error; the others wait for the next environment. */
    struct invocation *inv;
    if (!fn_others_ready(f, env) && (inv = fn_dequeue(f))) {
        f->errors++;
        fn_finish(d, inv, NULL, NULL, "Unhandled", body, len);
    }
}

void fn_on_timer(struct daemon *d, struct fn_env *env)
{
    uint64_t ticks;
    if (read(env->timer_fd, &ticks, sizeof ticks) != (ssize_t)sizeof ticks)
        return;
    struct function *f = env->fn;
    if (env->inv && env->inv->answered) {
        fn_complete_held(d, env); /* the runtime did not ask for more in time */
        return;
    }
    if (env->state == ENV_INIT) {
        char body[160];
        int n = snprintf(body, sizeof body,
                         "{\"errorType\":\"Runtime.InitTimeout\",\"errorMessage\":\"init did not "
                         "finish within %d seconds\"}",
                         INIT_TIMEOUT_S);
        daemon_env_init_error(d, env, body, (size_t)n);
        return;
    }
    if (env->state == ENV_BUSY && env->inv) {
        char what[96];
        fn_drain_log(env); /* into the invocation's tail, before it is detached */
        struct invocation *inv = env->inv;
        env->inv = NULL;
        snprintf(what, sizeof what, "Task timed out after %ld.00 seconds", f->spec.timeout_s);
        fn_log_append(env, what, strlen(what));
        fn_log_append(env, "\n", 1);
        fn_env_kill(env); /* freed when its shim reports the exit */
        fn_finish_error(d, inv, "Sandbox.Timedout", what);
    }
}
