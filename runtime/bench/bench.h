/* warmrun-bench: the benchmark program behind `warmrun bench ...`. A
 * separate binary so that the static CLI, whose start-up is on the
 * activation path, carries none of it.
 *
 * Every subcommand works in a private temporary directory (image store,
 * state directory, socket, peers' bundles and state) and removes it, with
 * every process it started, whatever happens. See docs/benchmarks.md. */
#ifndef WARMRUN_BENCH_H
#define WARMRUN_BENCH_H

#include "lib/paths.h"
#include "lib/protocol.h"
#include "lib/error.h"

#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Exit statuses of warmrun-bench (docs/benchmarks.md). */
#define BENCH_EXIT_OK      0
#define BENCH_EXIT_FAILED  1 /* the bench itself could not run */
#define BENCH_EXIT_USAGE   2
#define BENCH_EXIT_PARTIAL 3 /* results written, but a runtime failed mid-run */
#define BENCH_EXIT_SIGNAL  130

#define BENCH_MAX_ITERATIONS 100000L
#define BENCH_MAX_WARMUP     10000L

/* The private environment of one run. */
struct bench_env {
    char bindir[PATH_MAX];        /* where warmrun, warmrun-shim, warmrun-probe live */
    char warmrun[PATH_MAX];       /* bindir/warmrun */
    char dir[PATH_MAX];           /* the private temporary directory */
    char store[PATH_MAX];         /* dir/store */
    char state[PATH_MAX];         /* dir/state */
    struct wr_paths g;            /* store, state and socket for the LIBWR client */
    char busybox_layer[PATH_MAX]; /* the busybox image's layer root dir */
    char busybox_layer_id[80];    /* "sha256:<hex>" */
    pid_t daemon_pid;
    const char *network; /* --network of the pools it creates; NULL: none */
    const char *http;    /* the daemon's --http ADDR:PORT; NULL: none */
    char net_name[24];   /* bench_network_create's network; "" when none */
    char net_mode[40];   /* "bridge=<net_name>", what network then points to */
};

/* Set by the SIGINT/SIGTERM/SIGHUP handler; loops stop when it is. */
extern volatile sig_atomic_t bench_stop;

void bench_catch_signals(void);
void bench_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Progress on stderr, unless --quiet. */
extern bool bench_quiet;
void bench_progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

int64_t bench_now_ns(void);
/* An integer option in min..max; otherwise a message and *bad is set. */
long bench_parse_count(const char *opt, const char *s, long min, long max, bool *bad);
/* snprintf into a path buffer; -1 when it does not fit. */
int bench_path(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* --- bench_env.c: private store, daemon, cleanup --- */
/* Creates the temporary directory and the store with the busybox image. */
int bench_env_init(struct bench_env *e, const char *bindir, wr_error *err);
/* Starts the private daemon and waits for its socket. */
int bench_daemon_start(struct bench_env *e, wr_error *err);
/* Both of the above, saying so on the progress line; on failure the
 * message is printed, what was made is removed, and -1 returned. */
int bench_env_start(struct bench_env *e, const char *bindir);
/* True while the private daemon runs. */
bool bench_daemon_alive(struct bench_env *e);
/* One request on a fresh connection. An error reply becomes -1. */
int bench_call(const struct bench_env *e, const struct wr_request *req, struct wr_reply *reply,
               wr_error *err);
/* Creates or resizes the pool of image and waits until it is full. */
int bench_pool_fill(const struct bench_env *e, const char *image, long size, long timeout_s,
                    wr_error *err);
/* Warm count of the pool of image; -1 on error. */
long bench_pool_warm(const struct bench_env *e, const char *image);
/* Whether key, a pool's or an event's image ("name:tag"), is image: the
 * same, or image given without a tag and key its ":latest". */
bool bench_image_is(const char *key, const char *image);
/* Stops the daemon, kills stray shims, removes the private network,
 * unmounts and removes the directory. */
void bench_env_cleanup(struct bench_env *e);

/* --- bench_network.c: a private bridge network --- */
/* Creates a bridge network of the bench's own (wrbench<pid>, a free /24 of
 * 10.240.0.0/12) with the CLI and points e->network at it; -1 (err) when
 * no subnet is free or the CLI fails. */
int bench_network_create(struct bench_env *e, wr_error *err);
/* Removes it (once its containers are gone); nothing when there is none. */
void bench_network_remove(struct bench_env *e);

/* --- bench_spawn.c: timed runs --- */
struct bench_cmd {
    char **argv;   /* NULL-terminated */
    char *path;    /* resolved argv[0] */
    char **envp;   /* NULL: the bench's environment */
    int mntns_fd;  /* >= 0: setns() into this mount namespace before exec */
    int stderr_fd; /* >= 0: the child's stderr; else /dev/null */
};
/* Resolves word against PATH (or takes it as a path); NULL if not found. */
char *bench_which(const char *word);
/* fork, (setns), exec, wait: returns 0 and the wall time in *ms when the
 * command exited 0; else -1 with *status the wait status (or -errno of a
 * failed fork). */
int bench_run_timed(const struct bench_cmd *c, double *ms, int *status);
/* Runs argv quietly (stdout and stderr to log_fd, or /dev/null when < 0)
 * and returns its exit status, -1 if it could not run. */
int bench_run_quiet(char *const argv[], int log_fd);
/* Runs argv with stdin from in_fd (or /dev/null) and returns the status. */
int bench_run_stdin(char *const argv[], int in_fd, int log_fd);
/* "exit status N" / "killed by signal N" of a wait status. */
void bench_describe_status(int status, char *buf, size_t size);
/* The last non-empty line of a file (for a failing run's stderr). */
void bench_last_line(int fd, char *buf, size_t size);

/* --- bench_proc.c --- */
/* utime+stime (self) and cutime+cstime (reaped children) of pid, seconds. */
int bench_proc_cpu(pid_t pid, double *self_s, double *children_s);
/* The daemon's shim server (its child named warmrun-shimsrv), whose forks
 * are the shims' start; 0 when it has none. One pass over /proc. */
pid_t bench_shim_server_pid(pid_t daemon_pid);
/* Pss of pid in kB from /proc/PID/smaps_rollup; -1 if gone. */
long bench_proc_pss_kb(pid_t pid);
/* MemAvailable in kB. */
long bench_mem_available_kb(void);
/* The kernel's own memory, kB, from /proc/meminfo (proc(5)): slab
 * caches (Slab: reclaimable and not), kernel stacks (KernelStack), page
 * tables (PageTables) and per-CPU allocations (Percpu). Counts the whole
 * machine: deltas over a quiet window attribute it. */
struct bench_kernel_mem {
    long slab_kb, stacks_kb, page_tables_kb, percpu_kb;
};
/* 0, or -1 when /proc/meminfo lacks a field. */
int bench_kernel_mem(struct bench_kernel_mem *out);

#endif
