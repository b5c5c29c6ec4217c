/* The activation message: what a warm container needs to become the
 * workload (argv, environment, working directory, hostname). Encoded once by
 * whoever activates (daemon or cold-starting CLI), sent with the caller's
 * stdio descriptors straight to the stopped container, decoded in place there.
 *
 * Layout: a header of four uint32 (magic, argc, envc, flags), then argc
 * argument strings, envc "KEY=VALUE" strings, the cwd and the hostname, each
 * NUL-terminated. An empty hostname keeps the one set at fill time. */
#ifndef WARMRUN_ACTIVATION_H
#define WARMRUN_ACTIVATION_H

#include "error.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define WR_ACTIVATION_MAX (128 * 1024)
#define WR_MAX_ARGS       4096
#define WR_MAX_ENV        4096
#define WR_HOSTNAME_MAX   64

/* Run a minimal init as pid 1 that forwards signals to the workload and
 * reaps, as `docker run --init` does; otherwise the workload is pid 1. */
#define WR_ACTIVATION_FLAG_INIT 1u

struct wr_activation {
    uint32_t flags;
    char **argv; /* NULL-terminated */
    char **envp; /* NULL-terminated */
    const char *cwd;
    const char *hostname;
};

/* A growable encoder: strings are appended one by one. */
struct wr_activation_writer {
    char *buf;
    size_t cap, len;
    unsigned argc, envc;
    uint32_t flags; /* WR_ACTIVATION_FLAG_*, set before finishing */
    int stage;      /* 0: argv, 1: env, 2: cwd+hostname written */
};

void wr_activation_writer_init(struct wr_activation_writer *w, char *buf, size_t cap);
int wr_activation_add_arg(struct wr_activation_writer *w, const char *arg, wr_error *err);
int wr_activation_add_env(struct wr_activation_writer *w, const char *kv, wr_error *err);
/* Finishes the message; returns its length or -1. */
ssize_t wr_activation_finish(struct wr_activation_writer *w, const char *cwd, const char *hostname,
                             wr_error *err);

/* Room for the argv and envp pointer arrays of any valid message. */
#define WR_ACTIVATION_VEC_MAX (WR_MAX_ARGS + WR_MAX_ENV + 2)

/* Decodes buf in place (buf must outlive out). The argv and envp arrays are
 * laid out in vec, which the caller provides (WR_ACTIVATION_VEC_MAX
 * entries) so that decoding never allocates. Rejects anything malformed. */
int wr_activation_decode(char *buf, size_t len, char **vec, struct wr_activation *out,
                         wr_error *err);

/* Checks a "KEY=VALUE" environment entry. */
int wr_env_entry_valid(const char *kv);

#endif
