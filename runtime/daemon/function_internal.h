/* What the function files share (daemon_function.c, function_env.c,
 * function_invoke.c, function_timeout.c, function_store.c): the function
 * and the module's state, and their internal calls. Everything runs on the
 * daemon's loop thread. See daemon_function.h for the life of an
 * environment. */
#ifndef WARMRUN_DAEMON_FUNCTION_INTERNAL_H
#define WARMRUN_DAEMON_FUNCTION_INTERNAL_H

#include "daemon_function.h"
#include "function_log.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RUNTIME_API_PORT 9001
#define INIT_TIMEOUT_S   10 /* Lambda's init phase limit */
#define BACKOFF_BASE_NS  (100LL * 1000000)
#define BACKOFF_MAX_NS   (10LL * 1000000000)
#define LOG_GRACE_MS     100

struct function {
    char name[WR_FUNCTION_NAME_MAX + 1];
    struct wr_function_spec spec; /* handler owned */
    long queue_max;
    char **env; /* --env, NULL-terminated, owned */
    struct pool *pool;
    struct fn_env *envs;
    struct invocation *q_head, *q_tail;
    long queued, invocations, errors, init_failures;
    int consecutive_init_failures;
    int64_t retry_at_ns;
    char last_error[256];
    char *init_error; /* the last init failure's body, for invocations meanwhile */
    size_t init_error_len;
    struct function_log log;
    char *request;       /* its create request (encoded): the security asked, for a new image */
    unsigned generation; /* of its image: bumped when the image's tag is imported again */
    unsigned n_conns;    /* its environments' Runtime API connections (daemon_runtime_api.c) */
    struct function *next;
};

struct daemon_functions {
    struct function *list;
    struct fn_watch http;
    int own_netns;
    char dir[4096];
    char scope[16];
    struct fn_env *graveyard; /* freed after the event batch (events may name them) */
};

/* &daemon_functions.graveyard while the module runs; NULL after. */
extern struct fn_env **fn_graveyard_head;

/* ---- daemon_function.c ---- */
struct function *fn_find(struct daemon *d, const char *name);
/* Makes the function of req (not stored). EEXIST, EINVAL (--network
 * host), and the pool's errors. */
int fn_create(struct daemon *d, const struct wr_request *req, wr_error *err);
char **fn_copy_vec(char *const *v);

/* ---- function_env.c ---- */
/* An epoll watch of fd for obj (events: EPOLLIN...). */
void fn_watch_add(struct daemon *d, struct fn_watch *w, enum fn_watch_what what, void *obj, int fd,
                  uint32_t events);
/* Takes a warm container of f's pool and starts its runtime in it.
 * Returns 1 started, 0 none warm, -1 failed (logged, backed off). */
int fn_env_start(struct daemon *d, struct function *f);
/* Kills the container (thawed first: a frozen task on cgroup v1 cannot
 * die); the environment stays DEAD until its shim reports the exit. */
void fn_env_kill(struct fn_env *env);
/* Frees a DEAD environment (its container killed): unlinked, closed, on
 * the graveyard until the event batch ends. */
void fn_env_free(struct fn_env *env);
/* Its shim's connection: the exit report (or the shim's end). */
void fn_on_client(struct daemon *d, struct fn_env *env);
/* n bytes of the runtime's stdout/stderr: to the function's log and, with
 * --log-tail, the last WR_LOG_TAIL_MAX of them to its invocation. */
void fn_log_append(struct fn_env *env, const char *buf, size_t n);
/* Reads what the pipe holds now (non-blocking) through fn_log_append. */
void fn_drain_log(struct fn_env *env);
void fn_close_fd(int *fd);
/* Closes a watched descriptor, out of the daemon's epoll set first: a
 * close alone leaves the watch registered while another process still
 * holds the file (a child between posix_spawn's vfork and its exec has a
 * copy of every descriptor, O_CLOEXEC ones too), and its next event would
 * name the environment after it was freed. */
void fn_unwatch_close(int *fd);
void fn_free_vec(char **v);

/* ---- function_invoke.c ---- */
/* Ends inv (see daemon_invoke_done) and frees it. */
void fn_finish(struct daemon *d, struct invocation *inv, const char *code, const char *msg,
               const char *function_error, const void *body, size_t len);
/* Lambda's error body for a failure of the environment (type: errorType). */
void fn_finish_error(struct daemon *d, struct invocation *inv, const char *type, const char *what);
struct invocation *fn_dequeue(struct function *f);
/* Ends env's invocation with the runtime's held answer. */
void fn_complete_held(struct daemon *d, struct fn_env *env);
int64_t fn_unix_ms(void);

/* ---- function_timeout.c ---- */
/* Arms env's timer for seconds (0: disarmed). */
void fn_arm(struct fn_env *env, long seconds);
/* An init failure: counted, the next start delayed (100 ms doubling to
 * 10 s), body kept for the invocations meanwhile. */
void fn_backoff(struct function *f, const char *why, const void *body, size_t len);
/* Whether f has another environment initialising or idle. */
bool fn_others_ready(struct function *f, struct fn_env *except);
void fn_on_timer(struct daemon *d, struct fn_env *env);

/* ---- function_store.c ---- */
/* Writes f's create request as <dir>/NAME.json (via .tmp); a failure is
 * logged (the function works, but the next daemon will not have it). */
void fn_store_save(struct daemon *d, const struct function *f);
void fn_store_remove(struct daemon *d, const char *name);
/* Creates every stored function again; one that no longer works is logged
 * and kept (its image may come back). */
void fn_store_restore(struct daemon *d);

#endif
