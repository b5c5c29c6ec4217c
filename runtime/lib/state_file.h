/* Host-side records of live shims: <state_dir>/containers/<id>, one small
 * "key=value" text file each. The shim writes its own when it starts and
 * removes it when it exits; a daemon sweeps the records of shims that died
 * without doing so (SIGKILL). A record names the shim by pid and start time,
 * so a reused pid is never mistaken for it. */
#ifndef WARMRUN_STATE_FILE_H
#define WARMRUN_STATE_FILE_H

#include "error.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

struct wr_state_record {
    char id[16];
    pid_t shim_pid;
    uint64_t shim_start; /* start time in clock ticks since boot (/proc/PID/stat field 22) */
    pid_t child_pid;
    uint64_t child_start; /* the container's pid 1, as shim_start; 0: unknown */
    int64_t created;      /* unix seconds */
    char image[256];
    /* The kernel's boot id (/proc/sys/kernel/random/boot_id, 36 characters)
     * when the record was written; "" in records of older versions. A
     * record of another boot names pids and start times of processes that
     * no longer exist: they can match unrelated ones of this boot. */
    char boot_id[40];
};

/* fopen(path, "re") for the files of a state directory read at a
 * daemon's start (records, leases): without following a final symlink
 * (ELOOP), without blocking (a FIFO put there hung the daemon before it
 * served), and only a regular file (else NULL, errno EINVAL). */
FILE *wr_fopen_regular(const char *path);
int wr_state_write(const char *state_dir, const struct wr_state_record *rec, wr_error *err);
int wr_state_read(const char *state_dir, const char *id, struct wr_state_record *rec,
                  wr_error *err);
void wr_state_remove(const char *state_dir, const char *id);
/* Reads this boot's id now, once for the process and the children it
 * forks (the shim server's: each record its shims write carries it). */
void wr_state_pin_boot_id(void);

/* Reads the start time of pid; -1 when the process does not exist. */
int wr_proc_start_time(pid_t pid, uint64_t *start, wr_error *err);
/* True when pid is still the process that started at start (its start
 * time, /proc/PID/stat field 22) and not a zombie: a killed process its
 * parent has not reaped yet is gone for every holder check. */
bool wr_proc_alive_since(pid_t pid, uint64_t start);
/* Reads the parent pid of pid. */
int wr_proc_parent(pid_t pid, pid_t *parent, wr_error *err);
/* True when the record's shim is still the live process it names. */
bool wr_state_shim_alive(const struct wr_state_record *rec);
/* A pidfd of the record's container pid 1 (child_pid, checked against
 * child_start after the open, so never a reused pid), or -1 when it is gone
 * or cannot be told apart (child_start 0). */
int wr_state_child_pidfd(const struct wr_state_record *rec);
/* The same for the record's shim (shim_pid, shim_start). */
int wr_state_shim_pidfd(const struct wr_state_record *rec);

/* Calls visit for the record of every live shim in state_dir, and removes
 * the records of shims that are gone, malformed records, and temporary
 * files left by a shim killed while writing (once they are a minute old: a
 * live shim renames its own within microseconds). Returns how many records
 * were removed. */
typedef void (*wr_state_visit_fn)(const struct wr_state_record *rec, void *ctx);
size_t wr_state_scan(const char *state_dir, wr_state_visit_fn visit, void *ctx);

/* Creates state_dir, state_dir/containers, state_dir/mnt and state_dir/empty
 * (mode 0700), and puts the records of state_dir/containers on a tmpfs
 * (wr_state_records_tmpfs). When they stay on the directory's own file
 * system, note (may be NULL) says why, and its msg is "" otherwise: that
 * is no failure. */
int wr_state_dir_prepare(const char *state_dir, wr_error *note, wr_error *err);

#endif
