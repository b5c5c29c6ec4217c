/* Compiling a seccomp profile to BPF with libseccomp. Linked only into the
 * shim (the static CLI and daemon never pull it in): the daemon runs
 * `warmrun-shim --compile-seccomp` once per pool, a cold start compiles in
 * its own shim. */
#include "seccomp_profile.h"

#include "cleanup.h"
#include "seccomp_shorten.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define BPF_INSN_SIZE 8 /* struct sock_filter */
#define BPF_MAX_BYTES (4096 * BPF_INSN_SIZE)

static uint32_t action_of(enum wr_seccomp_action a, int errnum)
{
    switch (a) {
    case WR_ACT_ALLOW:
        return SCMP_ACT_ALLOW;
    case WR_ACT_ERRNO:
        return SCMP_ACT_ERRNO((uint32_t)errnum);
    case WR_ACT_KILL_THREAD:
        return SCMP_ACT_KILL;
    case WR_ACT_KILL_PROCESS:
        return SCMP_ACT_KILL_PROCESS;
    case WR_ACT_TRAP:
        return SCMP_ACT_TRAP;
    case WR_ACT_LOG:
        return SCMP_ACT_LOG;
    }
    return SCMP_ACT_ERRNO(EPERM);
}

static int add_rule(scmp_filter_ctx ctx, const struct wr_seccomp_profile *p,
                    const struct wr_seccomp_rule *r, const char *name, wr_error *err)
{
    int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR)
        return 0; /* unknown to this libseccomp: nothing to allow or deny */
    uint32_t action =
        action_of(r->action,
                  r->errno_ret >= 0 && r->action == WR_ACT_ERRNO ? r->errno_ret : p->default_errno);
    if (action == action_of(p->default_action, p->default_errno))
        return 0; /* libseccomp refuses rules that repeat the default */
    struct scmp_arg_cmp cmp[WR_SECCOMP_ARGS_MAX];
    bool same_arg_twice = false;
    for (size_t i = 0; i < r->n_args; i++) {
        cmp[i] = (struct scmp_arg_cmp){.arg = r->args[i].index,
                                       .op = (enum scmp_compare)r->args[i].op,
                                       .datum_a = r->args[i].value,
                                       .datum_b = r->args[i].value_two};
        for (size_t j = 0; j < i; j++)
            same_arg_twice |= r->args[j].index == r->args[i].index;
    }
    /* libseccomp takes one condition per argument in a rule; several on the
     * same argument are alternatives, one rule each (as runc reads them). */
    size_t n_rules = same_arg_twice ? r->n_args : 1;
    for (size_t i = 0; i < n_rules; i++) {
        int rc = same_arg_twice ? seccomp_rule_add_array(ctx, action, nr, 1, &cmp[i])
                                : seccomp_rule_add_array(ctx, action, nr, (unsigned)r->n_args, cmp);
        if (rc >= 0)
            continue;
        /* An allow rule libseccomp cannot express (argument filters on a
         * multiplexed call of a sub-architecture, or the same call already
         * with another action) may be skipped: the filter only gets
         * stricter. Any other rule that cannot go in fails the profile. */
        bool skippable = action == SCMP_ACT_ALLOW &&
                         (rc == -EEXIST || rc == -EOPNOTSUPP || rc == -EINVAL || rc == -EDOM);
        if (!skippable)
            return wr_error_set(err, -rc, "seccomp rule for %s", name);
    }
    return 0;
}

#define X32_SYSCALL_BIT 0x40000000 /* arch/x86/include/uapi/asm/unistd.h */

static bool x32_getpid_answers(void)
{
    return syscall(X32_SYSCALL_BIT | SYS_getpid) == syscall(SYS_getpid);
}

bool wr_seccomp_kernel_x32(void)
{
    static int known = -1;
    if (known >= 0)
        return known;
    /* Without a filter of its own (PR_GET_SECCOMP: 0) nothing can kill
     * this process for the call: asked here (a cold start asks for its
     * cache name). Under one (a sandbox around warmrun, which may kill
     * x32 calls), in a child, which the probe alone may cost: vfork
     * copies nothing, the child makes two system calls and exits. */
    if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) == 0) {
        known = x32_getpid_answers();
        return known;
    }
    pid_t pid = vfork();
    if (pid == 0)
        _exit(x32_getpid_answers() ? 0 : 1);
    int status = 0;
    if (pid < 0)
        return true; /* unknown, not memoized: keep x32 in, as before */
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    known = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    return known;
}

int wr_seccomp_compile(const struct wr_seccomp_profile *p, uint64_t caps, bool x32, int fd,
                       wr_error *err)
{
    scmp_filter_ctx ctx = seccomp_init(action_of(p->default_action, p->default_errno));
    if (!ctx) /* NULL for an action libseccomp refuses as well as for memory */
        return wr_error_set(err, 0, "seccomp: libseccomp refused the default action");
    int rc = -1;
    /* A binary tree of system call numbers instead of a linear list: a
     * few dozen BPF instructions per system call instead of hundreds.
     * Measured (docs/benchmarks.md, "Shorter filter, fewer faults"): the
     * linear form (level 1) is shorter but costs several times as much to
     * install, because the kernel runs the filter for every system call
     * number at install to build its cache of the calls that are always
     * allowed (seccomp_cache_prepare), and it is slower for the calls
     * whose arguments are checked. */
    (void)seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
    /* A system call of an architecture the filter does not name (x32
     * below, when left out) fails with ENOSYS, which is what a kernel
     * without that ABI answers anyway; the default (killing the thread)
     * would be as safe, but a workload probing for x32 would die. */
    if (seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_ERRNO(ENOSYS)) < 0) {
        wr_error_set(err, 0, "seccomp: cannot set the bad-architecture action");
        goto out;
    }
    /* Docker's x86-64 profile also covers 32-bit (int $0x80) and x32
     * system calls. x32 only when the kernel has that ABI: without it
     * every x32 call fails with ENOSYS before its system call table is
     * reached, so its section (about 370 of 1,220 instructions) would
     * only cost install time; libseccomp then sends every number with
     * the x32 bit to the bad-architecture action above, allowed or not
     * (docs/security.md, "The filter's architectures"). */
    if (seccomp_arch_add(ctx, SCMP_ARCH_X86) < 0 ||
        (x32 && seccomp_arch_add(ctx, SCMP_ARCH_X32) < 0)) {
        wr_error_set(err, 0, "seccomp: cannot add the x86 and x32 architectures");
        goto out;
    }
    for (size_t i = 0; i < p->n_rules; i++) {
        const struct wr_seccomp_rule *r = &p->rules[i];
        if ((r->caps_include & caps) != r->caps_include || (r->caps_exclude & caps))
            continue;
        for (size_t j = 0; r->names[j]; j++)
            if (add_rule(ctx, p, r, r->names[j], err) < 0)
                goto out;
    }
    /* The container's pid 1 sets the activation's host name after the
     * filter is in place; the workload itself lacks CAP_SYS_ADMIN, so the
     * kernel still refuses it sethostname with EPERM, as Docker does. */
    static const char *const hostname_names[] = {"sethostname", NULL};
    static const struct wr_seccomp_rule hostname = {.names = hostname_names,
                                                    .action = WR_ACT_ALLOW};
    if (add_rule(ctx, p, &hostname, "sethostname", err) < 0)
        goto out;
    int e = seccomp_export_bpf(ctx, fd);
    if (e < 0) {
        wr_error_set(err, -e, "seccomp_export_bpf");
        goto out;
    }
    rc = 0;
out:
    seccomp_release(ctx);
    return rc;
}

static int read_filter(int fd, struct wr_seccomp_filter *f, wr_error *err)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return wr_error_set(err, errno, "stat seccomp program");
    if (st.st_size <= 0 || st.st_size > BPF_MAX_BYTES || st.st_size % BPF_INSN_SIZE)
        return wr_error_set(err, 0, "seccomp program of %lld bytes is not a BPF program",
                            (long long)st.st_size);
    f->insns = malloc((size_t)st.st_size);
    if (!f->insns)
        return wr_error_set(err, ENOMEM, "seccomp program");
    if (pread(fd, f->insns, (size_t)st.st_size, 0) != st.st_size) {
        free(f->insns);
        f->insns = NULL;
        return wr_error_set(err, errno, "read seccomp program");
    }
    f->len = (size_t)st.st_size / BPF_INSN_SIZE;
    return 0;
}

/* libseccomp's program by ranges of system call numbers when that is
 * shorter (seccomp_shorten.h): the kernel's install cost grows with the
 * length. The pass only saves time, so when it cannot run (memory) the
 * program stays libseccomp's. */
static void shorten(struct wr_seccomp_filter *f)
{
    struct sock_filter *s;
    wr_error ignored;
    long n = wr_seccomp_shorten(f->insns, f->len, &s, &ignored);
    if (n > 0) {
        free(f->insns);
        f->insns = s;
        f->len = (size_t)n;
    }
}

int wr_seccomp_filter_prepare(const struct wr_security_profile *p, struct wr_seccomp_filter *f,
                              wr_error *err)
{
    memset(f, 0, sizeof *f);
    if (p->privileged || p->seccomp_mode == WR_SECCOMP_UNCONFINED)
        return 0;
    if (p->seccomp_mode == WR_SECCOMP_BPF) {
        cleanup_close int fd = open(p->seccomp, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
            return wr_error_set(err, errno, "open %s", p->seccomp);
        return read_filter(fd, f, err);
    }
    struct wr_seccomp_profile parsed = {0};
    const struct wr_seccomp_profile *prof = wr_seccomp_default_profile();
    if (p->seccomp_mode == WR_SECCOMP_FILE) {
        if (wr_seccomp_profile_load(p->seccomp, &parsed, err) < 0)
            return -1;
        prof = &parsed;
    }
    cleanup_close int mem = memfd_create("seccomp", MFD_CLOEXEC);
    int rc = mem < 0 ? wr_error_set(err, errno, "memfd_create")
                     : wr_seccomp_compile(prof, p->caps, wr_seccomp_kernel_x32(), mem, err);
    wr_seccomp_profile_free(&parsed);
    if (rc < 0 || read_filter(mem, f, err) < 0)
        return -1;
    shorten(f);
    return 0;
}
