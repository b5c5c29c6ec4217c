/* seccomp profiles as plain data: Docker's default (seccomp_default.c), or
 * one read from Docker's JSON format (protocol_seccomp.c), compiled once to
 * a BPF program with libseccomp (seccomp_compile.c, linked only by the
 * shim) and installed in the container with the raw syscall
 * (seccomp_install.c). */
#ifndef WARMRUN_SECCOMP_PROFILE_H
#define WARMRUN_SECCOMP_PROFILE_H

#include "error.h"
#include "security_profile.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The values are libseccomp's enum scmp_compare. */
enum wr_seccomp_op {
    WR_CMP_NE = 1,
    WR_CMP_LT,
    WR_CMP_LE,
    WR_CMP_EQ,
    WR_CMP_GE,
    WR_CMP_GT,
    WR_CMP_MASKED_EQ,
};

enum wr_seccomp_action {
    WR_ACT_ALLOW,
    WR_ACT_ERRNO,
    WR_ACT_KILL_THREAD,
    WR_ACT_KILL_PROCESS,
    WR_ACT_TRAP,
    WR_ACT_LOG,
};

#define WR_SECCOMP_ARGS_MAX 6

struct wr_seccomp_arg {
    unsigned index;
    uint64_t value, value_two;
    enum wr_seccomp_op op;
};

struct wr_seccomp_rule {
    const char *const *names; /* NULL-terminated */
    enum wr_seccomp_action action;
    int errno_ret; /* for WR_ACT_ERRNO; -1: the profile's default */
    size_t n_args;
    struct wr_seccomp_arg args[WR_SECCOMP_ARGS_MAX];
    uint64_t caps_include; /* the rule applies only when all of these are held */
    uint64_t caps_exclude; /* ... and none of these */
};

struct wr_seccomp_profile {
    enum wr_seccomp_action default_action;
    int default_errno;
    size_t n_rules;
    const struct wr_seccomp_rule *rules;
    void *storage; /* owned memory of a parsed profile; NULL for built-in ones */
};

/* Docker's default profile (x86-64, with its x86 and x32 sub-arches). */
const struct wr_seccomp_profile *wr_seccomp_default_profile(void);

/* Reads a profile in Docker's JSON format (defaultAction, defaultErrnoRet,
 * syscalls[{names|name, action, errnoRet, args, includes.caps,
 * excludes.caps}]). */
int wr_seccomp_profile_load(const char *path, struct wr_seccomp_profile *out, wr_error *err);
int wr_seccomp_profile_parse(const char *text, size_t len, struct wr_seccomp_profile *out,
                             wr_error *err);
void wr_seccomp_profile_free(struct wr_seccomp_profile *p);

/* Whether the running kernel has the x32 ABI (CONFIG_X86_X32_ABI): an
 * x32 getpid answers (in a child when this process is under a seccomp
 * filter, which might kill it). Probed once per process. */
bool wr_seccomp_kernel_x32(void);

/* Compiles the profile for a workload holding caps into a classic BPF
 * program written to fd (libseccomp's seccomp_export_bpf), for x86-64 and
 * i386 system calls, and x32 ones when x32 is true; system calls of any
 * other architecture (x32 when false) fail with ENOSYS. */
int wr_seccomp_compile(const struct wr_seccomp_profile *p, uint64_t caps, bool x32, int fd,
                       wr_error *err);

/* The filter a profile asks for, compiled: NULL when seccomp is off
 * (privileged, unconfined). Reads a BPF file, or compiles the default or a
 * JSON profile in this process. */
struct wr_seccomp_filter {
    size_t len; /* instructions */
    void *insns;
};
int wr_seccomp_filter_prepare(const struct wr_security_profile *p, struct wr_seccomp_filter *f,
                              wr_error *err);

#endif
