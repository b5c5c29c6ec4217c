/* The control-socket API: one JSON object per SOCK_SEQPACKET message (at
 * most WR_API_MSG_MAX bytes; a larger request in a sealed memfd passed
 * with it), documented in docs/api.md. This module (with
 * image_store.c) is the only one that sees JSON; the rest use these structs. */
#ifndef WARMRUN_PROTOCOL_H
#define WARMRUN_PROTOCOL_H

#include "autoscale.h"
#include "error.h"
#include "protocol_function.h"
#include "security_profile.h"
#include "resources.h"
#include "net_publish.h"
#include "volumes.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WR_API_MSG_MAX (64 * 1024)
/* A request larger than one message goes out of band, in a sealed memfd
 * (sealed_fd.h; docs/api.md); none may be larger than this. */
#define WR_API_REQUEST_MAX (16 * 1024 * 1024)
#define WR_IMAGE_REF_MAX   255
#define WR_POOL_SIZE_MAX   4096

enum wr_op {
    WR_OP_ACTIVATE,
    WR_OP_POOL_CREATE,
    WR_OP_POOL_RM,
    WR_OP_POOL_LS,
    WR_OP_PS,
    WR_OP_KILL,
    WR_OP_STATS,
    WR_OP_SHUTDOWN,
    WR_OP_FUNCTION_CREATE,
    WR_OP_FUNCTION_RM,
    WR_OP_FUNCTION_LS,
    WR_OP_INVOKE,        /* the payload is a memfd sent with it */
    WR_OP_SIGNAL,        /* client -> shim, after activation */
    WR_OP_IMAGE_UPDATED, /* image import -> daemon: a tag now names another image */
    WR_OP_METRICS,       /* the Prometheus exposition, in text replies (protocol_text.h) */
    WR_OP_EVENTS,        /* lifecycle events since since_ns, then as they happen */
};

struct wr_request {
    enum wr_op op;
    char *image;
    char **argv; /* NULL-terminated; argc == 0 means "the image's default" */
    size_t argc;
    char **env; /* NULL-terminated, "KEY=VALUE" */
    size_t envc;
    char *cwd;                     /* NULL: the image's WorkingDir */
    char *entrypoint;              /* NULL: the image's; "": none; else replaces it and its Cmd */
    char *hostname;                /* NULL: the container id */
    bool init;                     /* a minimal init as pid 1 (docker run --init) */
    bool no_cold;                  /* activate: only a warm container; the daemon starts none */
    long size;                     /* pool_create: the fixed size, or autoscale's min */
    struct wr_autoscale autoscale; /* pool_create: on: sized by demand (--min/--max) */
    uint64_t tmpfs_size;           /* pool_create: writable layer bytes; 0: the default */
    char *id;                      /* kill */
    int64_t since_ns;              /* events: CLOCK_REALTIME ns; 0: only new ones */
    int signal;                    /* kill, signal */
    /* pool_create: the pool's security profile; NULL: Docker's defaults */
    struct wr_security_profile *security;
    /* pool_create: "resources" (docs/resources.md) */
    struct wr_resources resources;
    /* function_create, function_rm, invoke: the function's name */
    char *name;
    /* function_create (with image, env, tmpfs_size, security, resources) */
    struct wr_function_spec function;
    /* invoke: the log's tail back with the result; Lambda's invocation
     * type (RequestResponse, Event, DryRun; NULL: RequestResponse) */
    bool log_tail;
    char *invocation_type;
    /* pool_create: "network", canonical (net_config.h); NULL: none */
    char *network;
    /* pool_create: "volumes" (volumes.h) */
    struct wr_volumes volumes;
    /* pool_create: "publish", -p of its containers (protocol_publish.h) */
    struct wr_publish_set publish;
};

/* Parses and validates a request; every field is checked before use. */
int wr_request_parse(const char *buf, size_t len, struct wr_request *req, wr_error *err);
/* Returns a malloc'd JSON text of at most WR_API_REQUEST_MAX bytes, or NULL
 * (E2BIG: larger). */
char *wr_request_encode(const struct wr_request *req, size_t *len, wr_error *err);
void wr_request_free(struct wr_request *req);

struct wr_pool_info {
    char image[WR_IMAGE_REF_MAX + 1];
    long size, warm, filling, running, activations, failures;
    uint64_t tmpfs_size;
    char last_error[256];
    char resources[512];           /* "key=value ..." of its resource settings */
    struct wr_autoscale autoscale; /* on: size is its current target */
    char autoscale_why[160];       /* how the target was reached */
    /* Its pool_create request as the daemon keeps (and stores) it, as a
     * JSON object without "op", "image" and "size" (those are the fields
     * above); malloc'd by wr_reply_parse, NULL if absent. */
    char *settings;
    /* The security profile its containers get, as applied (the image's
     * User and the daemon's --userns-default resolved): "caps=HEX;
     * privileged=0|1;read_only=0|1;seccomp=MODE:PATH;umask=OCT[;userns=
     * BASE:SIZE][;user=U][;ulimit=NAME:SOFT:HARD]...", cut to fit. */
    char profile[1024];
};

struct wr_container_info {
    char id[16];
    char image[WR_IMAGE_REF_MAX + 1];
    char state[16]; /* filling, warm, running */
    long pid, shim_pid;
    int64_t created; /* unix seconds */
    char command[256];
    char cpus[64]; /* CPUs it may run on (Cpus_allowed_list) */
    bool oom;      /* its memory cgroup saw an OOM kill */
};

struct wr_stats_info {
    long activations, warm_hits, misses, samples;
    double p50_us, p99_us, mean_us, max_us;
    /* medians of the three stages of that latency */
    double daemon_p50_us, wake_p50_us, container_p50_us;
};

struct wr_exit_event {
    char id[16];
    int exit_code;
    int signal;
    char error[WR_ERROR_MSG_MAX];
    int64_t exec_ns;
    bool oom;  /* killed, or a process of it killed, for exceeding its memory limit */
    bool cold; /* the container was created for this activation (not taken warm) */
    char reason[WR_ERROR_MSG_MAX]; /* why it was cold ("" when warm) */
};

enum wr_reply_kind {
    WR_REPLY_PLAIN,
    WR_REPLY_POOLS,
    WR_REPLY_CONTAINERS,
    WR_REPLY_STATS,
    WR_REPLY_EXIT,
    WR_REPLY_FUNCTIONS,
    WR_REPLY_INVOKE, /* the response body is a memfd sent with it */
};

struct wr_reply {
    bool ok;
    enum wr_reply_kind kind;
    char code[32]; /* on error: invalid, not_found, no_warm, denied, busy, internal */
    char error[WR_ERROR_MSG_MAX];
    struct wr_pool_info *pools;
    size_t n_pools;
    struct wr_container_info *containers;
    size_t n_containers;
    long containers_omitted; /* ps: left out to keep the reply in one message */
    struct wr_stats_info stats;
    struct wr_exit_event exit;
    struct wr_function_info *functions;
    size_t n_functions;
    struct wr_invoke_result invoke;
};

char *wr_reply_encode(const struct wr_reply *r, size_t *len);
int wr_reply_parse(const char *buf, size_t len, struct wr_reply *r, wr_error *err);
void wr_reply_free(struct wr_reply *r);

/* Convenience: an encoded error reply. */
char *wr_reply_error(const char *code, const char *message, size_t *len);

bool wr_hostname_valid(const char *h);

#endif
