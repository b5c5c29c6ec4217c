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
#include "exec_limits.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Largest message sent in band (one SEQPACKET datagram, the container's
 * static buffer); a larger one goes in a sealed memfd (sealed_fd.h). */
#define WR_ACTIVATION_MAX (128 * 1024)
/* Largest message at all: the kernel's largest execve (exec_limits.h) plus
 * the working directory, the hostname and the header. */
#define WR_ACTIVATION_BIG_MAX (WR_EXEC_ARGS_CEIL + 16 * 1024)
/* Most strings one execve can take (each costs a pointer and a NUL). */
#define WR_MAX_ARGS     (WR_EXEC_ARGS_CEIL / (sizeof(void *) + 1))
#define WR_MAX_ENV      WR_MAX_ARGS
#define WR_HOSTNAME_MAX 64

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
    uint32_t flags;    /* WR_ACTIVATION_FLAG_*, set before finishing */
    int stage;         /* 0: argv, 1: env, 2: cwd+hostname written */
    size_t exec_bytes; /* argv and env strings, NULs in: what execve copies */
    size_t exec_limit; /* wr_exec_args_limit() */
};

/* Errors of the writer: E2BIG when the kernel could not execve it
 * (exec_limits.h: a string over MAX_ARG_STRLEN, the total over the stack
 * limit's quarter); ENOBUFS when only cap is too small (the caller may
 * retry with WR_ACTIVATION_BIG_MAX bytes). */
void wr_activation_writer_init(struct wr_activation_writer *w, char *buf, size_t cap);
int wr_activation_add_arg(struct wr_activation_writer *w, const char *arg, wr_error *err);
int wr_activation_add_env(struct wr_activation_writer *w, const char *kv, wr_error *err);
/* Finishes the message; returns its length or -1. */
ssize_t wr_activation_finish(struct wr_activation_writer *w, const char *cwd, const char *hostname,
                             wr_error *err);

/* Pointers a container keeps ready for the argv and envp arrays (its
 * static vector: any message of up to 4096 arguments and 4096 variables);
 * a message with more needs wr_activation_vec_needed() of them. */
#define WR_ACTIVATION_VEC_MAX (4096 + 4096 + 2)

/* Entries of vec that decoding buf needs (its counts, plus the two NULL
 * ends), or 0 for a buffer that is no activation message. */
size_t wr_activation_vec_needed(const char *buf, size_t len);

/* Decodes buf in place (buf must outlive out; it is only read). The argv
 * and envp arrays are laid out in vec, which the caller provides (vec_cap
 * entries) so that decoding never allocates. Rejects anything malformed
 * (ENOBUFS: vec too small). */
int wr_activation_decode(const char *buf, size_t len, char **vec, size_t vec_cap,
                         struct wr_activation *out, wr_error *err);

/* Checks a "KEY=VALUE" environment entry. */
int wr_env_entry_valid(const char *kv);

#endif
