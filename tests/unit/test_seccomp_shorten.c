/* The seccomp program by ranges (seccomp_shorten.c) decides as
 * libseccomp's does: a classic-BPF interpreter of its own runs both over
 * every architecture the program names and others, every system call
 * number it compares with and its neighbours (x32's bit included), and,
 * where the decision reads arguments, argument vectors built from every
 * constant the program compares arguments with. Then the kernel itself
 * runs the shortened default filter in a child. */
#include "tap.h"

#include "lib/seccomp_profile.h"
#include "lib/seccomp_shorten.h"
#include "lib/security_profile.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define DEFAULT_CAPS      0xa80425fbULL /* Docker's 14 */
#define CAP_SYS_ADMIN_BIT (1ULL << 21)
#define WORDS             (sizeof(struct seccomp_data) / 4)
#define BAD_RUN           0xdeadbeefu /* the interpreter's "this program is broken" */

/* A complete classic-BPF interpreter (linux/filter.h): A, X, M[], every
 * class. Returns the RET value; *read_args: whether a word past arch
 * (instruction_pointer, args[]) was loaded. */
static uint32_t run(const struct sock_filter *f, size_t n, const uint32_t *data, bool *read_args)
{
    uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = {0};
    *read_args = false;
    for (size_t pc = 0; pc < n;) {
        const struct sock_filter *in = &f[pc];
        uint32_t k = in->k, src = BPF_SRC(in->code) == BPF_X ? x : k;
        switch (BPF_CLASS(in->code)) {
        case BPF_LD:
        case BPF_LDX: {
            uint32_t v;
            if (BPF_MODE(in->code) == BPF_ABS && BPF_SIZE(in->code) == BPF_W && k % 4 == 0 &&
                k < WORDS * 4) {
                v = data[k / 4];
                *read_args |= k >= 8;
            } else if (BPF_MODE(in->code) == BPF_IMM) {
                v = k;
            } else if (BPF_MODE(in->code) == BPF_MEM && k < BPF_MEMWORDS) {
                v = mem[k];
            } else if (BPF_MODE(in->code) == BPF_LEN) {
                v = sizeof(struct seccomp_data);
            } else {
                return BAD_RUN;
            }
            if (BPF_CLASS(in->code) == BPF_LD)
                a = v;
            else
                x = v;
            pc++;
            break;
        }
        case BPF_ST:
        case BPF_STX:
            if (k >= BPF_MEMWORDS)
                return BAD_RUN;
            mem[k] = BPF_CLASS(in->code) == BPF_ST ? a : x;
            pc++;
            break;
        case BPF_ALU:
            switch (BPF_OP(in->code)) {
            case BPF_ADD:
                a += src;
                break;
            case BPF_SUB:
                a -= src;
                break;
            case BPF_MUL:
                a *= src;
                break;
            case BPF_DIV:
                if (!src)
                    return 0;
                a /= src;
                break;
            case BPF_MOD:
                if (!src)
                    return 0;
                a %= src;
                break;
            case BPF_OR:
                a |= src;
                break;
            case BPF_AND:
                a &= src;
                break;
            case BPF_XOR:
                a ^= src;
                break;
            case BPF_LSH:
                a = src < 32 ? a << src : 0;
                break;
            case BPF_RSH:
                a = src < 32 ? a >> src : 0;
                break;
            case BPF_NEG:
                a = -a;
                break;
            default:
                return BAD_RUN;
            }
            pc++;
            break;
        case BPF_JMP: {
            if (BPF_OP(in->code) == BPF_JA) {
                pc += 1 + k;
                break;
            }
            bool t;
            switch (BPF_OP(in->code)) {
            case BPF_JEQ:
                t = a == src;
                break;
            case BPF_JGT:
                t = a > src;
                break;
            case BPF_JGE:
                t = a >= src;
                break;
            case BPF_JSET:
                t = (a & src) != 0;
                break;
            default:
                return BAD_RUN;
            }
            pc += 1 + (t ? in->jt : in->jf);
            break;
        }
        case BPF_RET:
            return BPF_RVAL(in->code) == BPF_A ? a : k;
        case BPF_MISC:
            if (BPF_MISCOP(in->code) == BPF_TAX)
                x = a;
            else
                a = x;
            pc++;
            break;
        default:
            return BAD_RUN;
        }
    }
    return BAD_RUN;
}

struct values {
    uint32_t *v;
    size_t n, cap;
};

static void add(struct values *s, uint32_t x)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i] == x)
            return;
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->v = realloc(s->v, s->cap * sizeof *s->v);
        if (!s->v)
            bail_out("out of memory");
    }
    s->v[s->n++] = x;
}

static void add_around(struct values *s, uint32_t k)
{
    add(s, k - 1);
    add(s, k);
    add(s, k + 1);
}

/* The constants the program compares nr, arch and the rest with (what A
 * may hold at each jump: a forward pass), with their neighbours; masks of
 * ALU AND too, with what sets every bit outside them. */
enum { HOLD_NR = 1, HOLD_ARCH = 2, HOLD_ARG = 4 };
static void constants(const struct sock_filter *f, size_t n, struct values *nr, struct values *arch,
                      struct values *arg)
{
    unsigned char *hold = calloc(n + 1, 1);
    if (!hold)
        bail_out("out of memory");
    hold[0] = HOLD_ARG;
    for (size_t i = 0; i < n; i++) {
        unsigned h = hold[i];
        const struct sock_filter *in = &f[i];
        if (BPF_CLASS(in->code) == BPF_RET)
            continue;
        if (in->code == (BPF_JMP | BPF_JA)) {
            if (i + 1 + in->k < n)
                hold[i + 1 + in->k] |= h;
            continue;
        }
        if (BPF_CLASS(in->code) == BPF_JMP) {
            if (h & HOLD_NR)
                add_around(nr, in->k);
            if (h & HOLD_ARCH)
                add_around(arch, in->k);
            if (h & HOLD_ARG) {
                add_around(arg, in->k);
                add(arg, ~in->k);
            }
            if (i + 1 + in->jt < n)
                hold[i + 1 + in->jt] |= h;
            if (i + 1 + in->jf < n)
                hold[i + 1 + in->jf] |= h;
            continue;
        }
        if (in->code == (BPF_LD | BPF_W | BPF_ABS))
            h = in->k == 0 ? HOLD_NR : in->k == 4 ? HOLD_ARCH : HOLD_ARG;
        else
            h = HOLD_ARG;
        if (BPF_CLASS(in->code) == BPF_ALU) {
            add(arg, in->k);
            add(arg, ~in->k);
        }
        hold[i + 1] |= h;
    }
    free(hold);
    static const uint32_t extremes[] = {0, 1, 0x7fffffff, 0x80000000, 0xffffffff};
    for (size_t i = 0; i < sizeof extremes / sizeof extremes[0]; i++) {
        add(nr, extremes[i]);
        add(arch, extremes[i]);
        add(arg, extremes[i]);
    }
    static const uint32_t arches[] = {AUDIT_ARCH_X86_64, AUDIT_ARCH_I386, AUDIT_ARCH_AARCH64,
                                      AUDIT_ARCH_ARM, AUDIT_ARCH_S390X};
    for (size_t i = 0; i < sizeof arches / sizeof arches[0]; i++)
        add(arch, arches[i]);
    /* x32's numbers: every one with bit 30 set, and without it */
    size_t n_nr = nr->n;
    for (size_t i = 0; i < n_nr; i++) {
        add(nr, nr->v[i] | 0x40000000u);
        add(nr, nr->v[i] & ~0x40000000u);
    }
}

struct tally {
    long pairs, arg_pairs, vectors, mismatches;
    bool quiet; /* a difference is what is expected */
};

static void compare_one(const struct sock_filter *old, size_t n_old, const struct sock_filter *new,
                        size_t n_new, const uint32_t *data, struct tally *t, bool *old_args)
{
    bool new_args;
    uint32_t a = run(old, n_old, data, old_args), b = run(new, n_new, data, &new_args);
    t->vectors++;
    if (a != b || a == BAD_RUN) {
        if (t->mismatches++ < 5 && !t->quiet)
            diag("arch %#x nr %#x args[0] %#x:%#x: %#x before, %#x after", data[1], data[0],
                 data[5], data[4], a, b);
    }
}

/* Runs both programs over every vector; returns the number of
 * differences. */
static struct tally compare(const struct sock_filter *old, size_t n_old,
                            const struct sock_filter *new, size_t n_new, bool quiet)
{
    struct values nr = {0}, arch = {0}, arg = {0};
    constants(old, n_old, &nr, &arch, &arg);
    struct tally t = {.quiet = quiet};
    for (size_t i = 0; i < arch.n; i++)
        for (size_t j = 0; j < nr.n; j++) {
            uint32_t data[WORDS] = {nr.v[j], arch.v[i]};
            bool reads;
            t.pairs++;
            compare_one(old, n_old, new, n_new, data, &t, &reads);
            for (size_t w = 2; w < WORDS; w++)
                data[w] = 0xffffffff;
            bool reads_too;
            compare_one(old, n_old, new, n_new, data, &t, &reads_too);
            if (!reads && !reads_too)
                continue;
            /* Arguments (and instruction_pointer), one word at a time
             * over a base of zeros and one of ones, in low and high
             * halves alike, and every word at once. */
            t.arg_pairs++;
            for (size_t v = 0; v < arg.n; v++) {
                for (uint32_t base = 0; base < 2; base++)
                    for (size_t w = 2; w < WORDS; w++) {
                        for (size_t u = 2; u < WORDS; u++)
                            data[u] = base ? 0xffffffff : 0;
                        data[w] = arg.v[v];
                        compare_one(old, n_old, new, n_new, data, &t, &reads);
                    }
                for (size_t u = 2; u < WORDS; u++)
                    data[u] = arg.v[v];
                compare_one(old, n_old, new, n_new, data, &t, &reads);
            }
        }
    free(nr.v);
    free(arch.v);
    free(arg.v);
    return t;
}

static long compile_to(const struct wr_seccomp_profile *prof, uint64_t caps, bool x32,
                       struct sock_filter **insns)
{
    wr_error err = {0};
    int fd = memfd_create("t", 0);
    struct stat st;
    long n = -1;
    *insns = NULL;
    if (fd < 0 || wr_seccomp_compile(prof, caps, x32, fd, &err) < 0 || fstat(fd, &st) < 0)
        diag("compile: %s", err.msg);
    else if ((*insns = malloc((size_t)st.st_size)) &&
             pread(fd, *insns, (size_t)st.st_size, 0) == st.st_size)
        n = (long)st.st_size / (long)sizeof **insns;
    if (fd >= 0)
        close(fd);
    return n;
}

/* Shortens what libseccomp made of prof and proves the two equal; or,
 * when nothing shorter is expected, that the program is kept. */
static void check_profile(const char *what, const struct wr_seccomp_profile *prof, uint64_t caps,
                          bool x32, bool shorter)
{
    struct sock_filter *old, *new = NULL;
    wr_error err = {0};
    long n_old = compile_to(prof, caps, x32, &old);
    long n_new = n_old > 0 ? wr_seccomp_shorten(old, (size_t)n_old, &new, &err) : -1;
    if (!shorter) {
        ok(n_old > 0 && n_new == 0 && !new, "%s: libseccomp's %ld instructions kept (%ld)", what,
           n_old, n_new);
        free(old);
        free(new);
        return;
    }
    ok(n_new > 0 && n_new < n_old && new, "%s: %ld instructions instead of %ld", what, n_new,
       n_old);
    if (n_new <= 0 || !new) {
        free(old);
        skip(2, "nothing to compare");
        return;
    }
    struct tally t = compare(old, (size_t)n_old, new, (size_t)n_new, false);
    ok(t.mismatches == 0 && t.pairs > 1000 && t.arg_pairs > 0,
       "%s: the same decision for %ld (arch, nr) pairs, %ld of them over argument vectors, %ld "
       "runs (%ld differ)",
       what, t.pairs, t.arg_pairs, t.vectors, t.mismatches);
    /* The comparison can fail: one decision changed is seen. */
    for (long i = 0; i < n_new; i++)
        if (new[i].code == (BPF_RET | BPF_K) && new[i].k == SECCOMP_RET_ALLOW) {
            new[i].k = SECCOMP_RET_ERRNO | 1;
            break;
        }
    t = compare(old, (size_t)n_old, new, (size_t)n_new, true);
    ok(t.mismatches > 0, "%s: one RET changed in the copy is caught (%ld runs differ)", what,
       t.mismatches);
    free(old);
    free(new);
}

/* Docker's JSON format with every comparison and action the pass must
 * carry through: masked equality, NE, LT, GE, GT on arguments, and
 * ERRNO, TRAP, LOG, KILL, KILL_PROCESS; over an allow list of the
 * common calls (x86-64's first 60 numbers but those with rules). */
static const char custom_json[] =
    "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":1,\"syscalls\":["
    "{\"names\":[\"read\",\"write\",\"open\",\"close\",\"stat\",\"fstat\",\"lstat\","
    "\"poll\",\"lseek\",\"munmap\",\"brk\",\"rt_sigaction\",\"rt_sigprocmask\","
    "\"rt_sigreturn\",\"ioctl\",\"pread64\",\"pwrite64\",\"readv\",\"writev\",\"access\","
    "\"pipe\",\"select\",\"sched_yield\",\"mremap\",\"msync\",\"mincore\",\"madvise\","
    "\"dup\",\"dup2\",\"pause\",\"nanosleep\",\"getitimer\",\"alarm\",\"setitimer\","
    "\"getpid\",\"sendfile\",\"connect\",\"accept\",\"sendto\",\"recvfrom\","
    "\"sendmsg\",\"recvmsg\",\"shutdown\",\"bind\",\"listen\",\"getsockname\","
    "\"getpeername\",\"socketpair\",\"setsockopt\",\"getsockopt\",\"fork\",\"vfork\","
    "\"execve\",\"exit\",\"wait4\",\"uname\",\"exit_group\",\"getppid\",\"futex\","
    "\"openat\",\"newfstatat\"],\"action\":\"SCMP_ACT_ALLOW\"},"
    "{\"names\":[\"personality\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,"
    "\"value\":65535,\"valueTwo\":8,\"op\":\"SCMP_CMP_MASKED_EQ\"}]},"
    "{\"names\":[\"socket\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,\"value\":16,"
    "\"op\":\"SCMP_CMP_NE\"},{\"index\":1,\"value\":5,\"op\":\"SCMP_CMP_LT\"}]},"
    "{\"names\":[\"mmap\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":2,\"value\":4,"
    "\"op\":\"SCMP_CMP_GE\"}]},"
    "{\"names\":[\"mprotect\"],\"action\":\"SCMP_ACT_LOG\",\"args\":[{\"index\":2,"
    "\"value\":4294967296,\"op\":\"SCMP_CMP_GT\"}]},"
    "{\"names\":[\"kill\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":13,\"args\":[{\"index\":1,"
    "\"value\":9,\"op\":\"SCMP_CMP_EQ\"}]},"
    "{\"names\":[\"ptrace\"],\"action\":\"SCMP_ACT_KILL\"},"
    "{\"names\":[\"kexec_load\",\"reboot\"],\"action\":\"SCMP_ACT_KILL_PROCESS\"},"
    "{\"names\":[\"acct\"],\"action\":\"SCMP_ACT_TRAP\"},"
    "{\"names\":[\"mount\",\"umount2\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":13},"
    "{\"names\":[\"clone\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,"
    "\"value\":2114060288,\"valueTwo\":0,\"op\":\"SCMP_CMP_MASKED_EQ\"}]},"
    "{\"names\":[\"getrandom\"],\"action\":\"SCMP_ACT_LOG\"}]}";

/* A default of allow with a few denials, scattered: libseccomp's tree is
 * as short as ranges get, so the program is kept. */
static const char deny_json[] =
    "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":["
    "{\"names\":[\"unshare\",\"setns\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":1},"
    "{\"names\":[\"kill\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":1,\"args\":[{\"index\":1,"
    "\"value\":9,\"op\":\"SCMP_CMP_EQ\"}]},"
    "{\"names\":[\"ioctl\"],\"action\":\"SCMP_ACT_TRAP\",\"args\":[{\"index\":1,"
    "\"value\":21524,\"op\":\"SCMP_CMP_EQ\"}]}]}";

static void test_profiles(void)
{
    const struct wr_seccomp_profile *def = wr_seccomp_default_profile();
    check_profile("Docker's default", def, DEFAULT_CAPS, false, true);
    check_profile("Docker's default with x32", def, DEFAULT_CAPS, true, true);
    check_profile("Docker's default, --cap-add SYS_ADMIN", def, DEFAULT_CAPS | CAP_SYS_ADMIN_BIT,
                  false, true);
    check_profile("Docker's default, every capability", def, (1ULL << 41) - 1, true, true);
    check_profile("Docker's default, --cap-drop ALL", def, 0, false, true);
    static const char *const texts[] = {custom_json, deny_json};
    static const char *const names[] = {"a profile with masks, NE, LT, GE, GT and five actions",
                                        "a deny list with argument rules"};
    for (size_t i = 0; i < 2; i++) {
        struct wr_seccomp_profile prof;
        wr_error err = {0};
        if (wr_seccomp_profile_parse(texts[i], strlen(texts[i]), &prof, &err) < 0) {
            ok(0, "%s parses: %s", names[i], err.msg);
            continue;
        }
        check_profile(names[i], &prof, DEFAULT_CAPS, true, i == 0);
        check_profile(names[i], &prof, DEFAULT_CAPS, false, i == 0);
        wr_seccomp_profile_free(&prof);
    }
}

/* Shapes the pass does not model come back unchanged (*out NULL, 0). */
static void test_gives_up(void)
{
    struct sock_filter uses_x[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0),
        BPF_STMT(BPF_MISC | BPF_TAX, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 39, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 1),
    };
    struct sock_filter jset_nr[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0),
        BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x40000000, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 2, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 1),
    };
    struct sock_filter alu_nr[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0),
        BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0xff),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 1),
    };
    struct sock_filter short_already[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 4),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    /* BPF_MAXINSNS + 1: the kernel would refuse it; not ours to fix */
    static struct sock_filter too_long[BPF_MAXINSNS + 1];
    too_long[0] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0);
    for (size_t i = 1; i < BPF_MAXINSNS; i++)
        too_long[i] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)i, 0, 0);
    too_long[BPF_MAXINSNS] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    struct {
        const char *what;
        struct sock_filter *f;
        size_t n;
    } cases[] = {
        {"a program that uses X (TAX)", uses_x, sizeof uses_x / sizeof uses_x[0]},
        {"JSET on nr", jset_nr, sizeof jset_nr / sizeof jset_nr[0]},
        {"arithmetic on nr", alu_nr, sizeof alu_nr / sizeof alu_nr[0]},
        {"a program already as short", short_already,
         sizeof short_already / sizeof short_already[0]},
        {"a program longer than BPF_MAXINSNS", too_long, BPF_MAXINSNS + 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct sock_filter *out = (struct sock_filter *)1;
        wr_error err = {0};
        long n = wr_seccomp_shorten(cases[i].f, cases[i].n, &out, &err);
        ok(n == 0 && out == NULL, "%s: kept as it is (%ld)", cases[i].what, n);
    }
}

/* The default profile as the shim prepares it: shortened, and the kernel
 * accepts and enforces it (allowed, denied, denied on an argument). */
static void test_kernel(void)
{
    struct wr_security_profile p;
    struct wr_seccomp_filter f;
    wr_error err = {0};
    wr_security_profile_default(&p);
    struct sock_filter *lib;
    long n_lib = compile_to(wr_seccomp_default_profile(), p.caps, wr_seccomp_kernel_x32(), &lib);
    free(lib);
    if (wr_seccomp_filter_prepare(&p, &f, &err) < 0)
        bail_out("prepare: %s", err.msg);
    ok(f.insns && (long)f.len < n_lib,
       "the shim's default filter is the shortened one (%zu instructions, libseccomp's %ld)", f.len,
       n_lib);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        struct sock_fprog prog = {.len = (unsigned short)f.len, .filter = f.insns};
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
            syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
            _exit(100);
        int bits = 0;
        bits |= (getppid() == parent) << 0;
        bits |= (syscall(SYS_acct, NULL) < 0 && errno == EPERM) << 1;
        bits |= (syscall(SYS_personality, 0xffffffffUL) >= 0) << 2;
        bits |= (syscall(SYS_personality, 0x1234UL) < 0 && errno == EPERM) << 3;
        bits |= (syscall(SYS_unshare, 0x10000000UL) < 0 && errno == EPERM) << 4;
        /* not a system call of any table: the filter's default */
        bits |= (syscall(0x3fffffff) < 0 && errno == EPERM) << 5;
        _exit(bits);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    int bits = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    ok(bits != 100, "the kernel accepts the shortened filter");
    ok(bits >= 0 && (bits & 1), "getppid allowed");
    ok(bits >= 0 && (bits & 2), "acct denied with EPERM");
    ok(bits >= 0 && (bits & 4), "personality(0xffffffff) allowed (an argument rule)");
    ok(bits >= 0 && (bits & 8), "personality(0x1234) denied with EPERM (a bad argument)");
    ok(bits >= 0 && (bits & 16), "unshare(CLONE_NEWUSER) denied with EPERM");
    ok(bits >= 0 && (bits & 32), "an unknown system call number gets the default, EPERM");
    free(f.insns);
}

int main(void)
{
    test_profiles();
    test_gives_up();
    test_kernel();
    return done_testing();
}
