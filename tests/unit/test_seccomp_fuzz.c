/* A differential fuzzer of the seccomp program by ranges
 * (seccomp_shorten.c), independent of test_seccomp_shorten.c: random
 * profiles in Docker's JSON format (every action, errno, operator, several
 * rules and arguments per call, unknown and i386-only names, capability
 * conditions) and Docker's default under random capability sets are
 * compiled by libseccomp (wr_seccomp_compile) and shortened; random
 * classic-BPF programs of the shape the pass accepts (and some it must
 * refuse) are shortened too. Each original and its shortened program are
 * checked as the kernel's loader does (bpf_check_classic,
 * seccomp_check_filter) and run by an interpreter of this file on inputs
 * built from every constant the program compares with (and its
 * neighbours) and on random ones. Then the kernel itself runs both
 * programs of some profiles in children, for x86-64 and i386 (int $0x80)
 * calls, under an outer filter that turns every allowed call into an
 * error, so that no call of a random number or argument ever executes.
 *
 * Bounded by default (fixed seed, < 20 s); longer:
 *   WR_FUZZ_SEED=123 WR_FUZZ_ROUNDS=50 build/tests/test_seccomp_fuzz
 * (ROUNDS multiplies the number of profiles and programs; SEED 0 takes
 * the time). */
#include "tap.h"

#include "lib/seccomp_profile.h"
#include "lib/seccomp_shorten.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <setjmp.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DOCKER_CAPS 0xa80425fbULL
#define NWORDS      16          /* struct seccomp_data in 32-bit words */
#define INVALID     0xfffffffeu /* not a valid run (off the end, bad load) */
#define OUTER_ERRNO 4093        /* the outer filter's answer: "allowed" */

/* Under LeakSanitizer: libseccomp 2.5.4 loses tree nodes inside
 * seccomp_rule_add_array for some of the rules random profiles give it
 * (every frame is libseccomp's; seccomp_release does not reach them). The
 * compiling processes are short-lived shims; not this test's concern. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libseccomp.so\n";
}

/* ---- a PRNG (xorshift64*) --------------------------------------------- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dULL;
}

static uint32_t below(uint32_t n)
{
    return n ? (uint32_t)(rnd() % n) : 0;
}

/* ---- the kernel's loader checks and an interpreter --------------------- */

/* bpf_check_classic (net/core/filter.c) as far as seccomp programs go,
 * and seccomp_check_filter (kernel/seccomp.c): forward jumps inside the
 * program, the last instruction a RET, loads of whole aligned words of
 * seccomp_data only, no division by a constant 0, M[] read only after a
 * store on every path. */
static bool kernel_accepts(const struct sock_filter *f, size_t n)
{
    if (n == 0 || n > BPF_MAXINSNS)
        return false;
    uint16_t *stored = calloc(n + 1, sizeof *stored); /* bits of M[] set on every path */
    bool *seen = calloc(n + 1, sizeof *seen);
    bool ok = stored && seen;
    if (ok)
        seen[0] = true;
    for (size_t i = 0; ok && i < n; i++) {
        const struct sock_filter *in = &f[i];
        uint16_t c = in->code;
        uint16_t m = seen[i] ? stored[i] : 0xffff; /* the kernel's masks of unreachable code */
        switch (BPF_CLASS(c)) {
        case BPF_LD:
        case BPF_LDX:
            if (BPF_MODE(c) == BPF_ABS)
                ok = c == (BPF_LD | BPF_W | BPF_ABS) && in->k % 4 == 0 && in->k < NWORDS * 4;
            else if (BPF_MODE(c) == BPF_MEM)
                ok = in->k < BPF_MEMWORDS && (m >> in->k & 1);
            else if (BPF_MODE(c) == BPF_LEN)
                ok = BPF_SIZE(c) == BPF_W;
            else
                ok = BPF_MODE(c) == BPF_IMM;
            break;
        case BPF_ST:
        case BPF_STX:
            ok = in->k < BPF_MEMWORDS;
            m |= (uint16_t)(1u << (in->k & 15));
            break;
        case BPF_ALU:
            if ((BPF_OP(c) == BPF_DIV || BPF_OP(c) == BPF_MOD) && BPF_SRC(c) == BPF_K)
                ok = in->k != 0;
            if ((BPF_OP(c) == BPF_LSH || BPF_OP(c) == BPF_RSH) && BPF_SRC(c) == BPF_K)
                ok = ok && in->k < 32;
            break;
        case BPF_JMP:
            if (BPF_OP(c) == BPF_JA) {
                ok = in->k < n - i - 1;
                if (ok) {
                    size_t t = i + 1 + in->k;
                    stored[t] = seen[t] ? stored[t] & m : m;
                    seen[t] = true;
                }
                continue;
            }
            ok = (size_t)in->jt + i + 1 < n && (size_t)in->jf + i + 1 < n &&
                 (BPF_OP(c) == BPF_JEQ || BPF_OP(c) == BPF_JGT || BPF_OP(c) == BPF_JGE ||
                  BPF_OP(c) == BPF_JSET);
            if (ok)
                for (int b = 0; b < 2; b++) {
                    size_t t = i + 1 + (b ? in->jf : in->jt);
                    stored[t] = seen[t] ? stored[t] & m : m;
                    seen[t] = true;
                }
            continue;
        case BPF_RET:
            ok = BPF_RVAL(c) == BPF_K || BPF_RVAL(c) == BPF_A;
            continue;
        case BPF_MISC:
            ok = BPF_MISCOP(c) == BPF_TAX || BPF_MISCOP(c) == BPF_TXA;
            break;
        default:
            ok = false;
        }
        if (ok && i + 1 < n) {
            stored[i + 1] = seen[i + 1] ? stored[i + 1] & m : m;
            seen[i + 1] = true;
        }
    }
    ok = ok && BPF_CLASS(f[n - 1].code) == BPF_RET;
    free(stored);
    free(seen);
    return ok;
}

/* Runs a program kernel_accepts() took on d (NWORDS words). */
static uint32_t interpret(const struct sock_filter *f, size_t n, const uint32_t *d)
{
    uint32_t a = 0, x = 0, m[BPF_MEMWORDS];
    memset(m, 0, sizeof m);
    size_t pc = 0;
    while (pc < n) {
        const struct sock_filter in = f[pc++];
        uint32_t s = BPF_SRC(in.code) == BPF_X ? x : in.k;
        switch (BPF_CLASS(in.code)) {
        case BPF_LD:
        case BPF_LDX: {
            uint32_t v = BPF_MODE(in.code) == BPF_ABS   ? d[in.k / 4]
                         : BPF_MODE(in.code) == BPF_MEM ? m[in.k]
                         : BPF_MODE(in.code) == BPF_LEN ? NWORDS * 4
                                                        : in.k;
            *(BPF_CLASS(in.code) == BPF_LD ? &a : &x) = v;
            break;
        }
        case BPF_ST:
            m[in.k] = a;
            break;
        case BPF_STX:
            m[in.k] = x;
            break;
        case BPF_ALU:
            switch (BPF_OP(in.code)) {
            case BPF_ADD:
                a += s;
                break;
            case BPF_SUB:
                a -= s;
                break;
            case BPF_MUL:
                a *= s;
                break;
            case BPF_DIV:
                if (!s)
                    return 0;
                a /= s;
                break;
            case BPF_MOD:
                if (!s)
                    return 0;
                a %= s;
                break;
            case BPF_OR:
                a |= s;
                break;
            case BPF_AND:
                a &= s;
                break;
            case BPF_XOR:
                a ^= s;
                break;
            case BPF_LSH:
                a = s < 32 ? a << s : 0;
                break;
            case BPF_RSH:
                a = s < 32 ? a >> s : 0;
                break;
            case BPF_NEG:
                a = 0 - a;
                break;
            default:
                return INVALID;
            }
            break;
        case BPF_JMP:
            switch (BPF_OP(in.code)) {
            case BPF_JA:
                pc += in.k;
                break;
            case BPF_JEQ:
                pc += a == s ? in.jt : in.jf;
                break;
            case BPF_JGT:
                pc += a > s ? in.jt : in.jf;
                break;
            case BPF_JGE:
                pc += a >= s ? in.jt : in.jf;
                break;
            case BPF_JSET:
                pc += (a & s) ? in.jt : in.jf;
                break;
            default:
                return INVALID;
            }
            break;
        case BPF_RET:
            return BPF_RVAL(in.code) == BPF_A ? a : in.k;
        case BPF_MISC:
            if (BPF_MISCOP(in.code) == BPF_TAX)
                x = a;
            else
                a = x;
            break;
        default:
            return INVALID;
        }
    }
    return INVALID;
}

/* ---- inputs ------------------------------------------------------------ */

struct consts {
    uint32_t *v;
    size_t n;
};

/* Every constant of a comparison or an AND, with its neighbours, and the
 * values a boundary hides behind. */
static void consts_of(const struct sock_filter *f, size_t n, struct consts *c)
{
    static const uint32_t fixed[] = {0,
                                     1,
                                     0x7fffffff,
                                     0x80000000,
                                     0xfffffffe,
                                     0xffffffff,
                                     0x40000000,
                                     0x3fffffff,
                                     AUDIT_ARCH_X86_64,
                                     AUDIT_ARCH_I386,
                                     AUDIT_ARCH_AARCH64,
                                     AUDIT_ARCH_X86_64 & ~0x80000000u};
    c->v = malloc((n * 3 + sizeof fixed / 4) * sizeof *c->v);
    c->n = 0;
    for (size_t i = 0; i < sizeof fixed / 4; i++)
        c->v[c->n++] = fixed[i];
    for (size_t i = 0; i < n; i++) {
        uint16_t cl = BPF_CLASS(f[i].code);
        if ((cl == BPF_JMP && BPF_OP(f[i].code) != BPF_JA) || cl == BPF_ALU) {
            c->v[c->n++] = f[i].k - 1;
            c->v[c->n++] = f[i].k;
            c->v[c->n++] = f[i].k + 1;
        }
    }
}

static uint32_t word(const struct consts *c)
{
    switch (below(4)) {
    case 0:
        return (uint32_t)rnd();
    case 1:
        return c->v[below((uint32_t)c->n)] | (uint32_t)rnd() >> below(32) << 1; /* bits on top */
    default:
        return c->v[below((uint32_t)c->n)];
    }
}

static void random_input(const struct consts *c, uint32_t *d)
{
    for (int i = 0; i < NWORDS; i++)
        d[i] = word(c);
    if (below(2))
        d[1] = below(2) ? AUDIT_ARCH_X86_64 : AUDIT_ARCH_I386;
}

static unsigned long long runs, programs_compared, programs_kept, programs_with_ja;
static size_t longest;
static double t_compile;
static unsigned dense_ok;

/* Compares orig and short on the product of the interesting nr and arch
 * values and on `extra` random inputs; 0 when they agree. */
static int compare(const struct sock_filter *o, size_t on, const struct sock_filter *s, size_t sn,
                   size_t extra, uint32_t *bad)
{
    struct consts c;
    consts_of(o, on, &c);
    uint32_t d[NWORDS];
    int rc = 0;
    /* Every nr candidate with the fixed architectures (the first 12) and
     * 16 candidates picked at random. */
    uint32_t arch[28];
    for (size_t j = 0; j < 28; j++)
        arch[j] = j < 12 ? c.v[j] : c.v[below((uint32_t)c.n)];
    for (size_t i = 0; i < c.n && !rc; i++)
        for (size_t j = 0; j < 28 && !rc; j++) {
            for (int w = 0; w < NWORDS; w++)
                d[w] = word(&c);
            d[0] = c.v[i];
            d[1] = arch[j];
            runs++;
            if (interpret(o, on, d) != interpret(s, sn, d))
                rc = -1;
        }
    for (size_t r = 0; r < extra && !rc; r++) {
        random_input(&c, d);
        runs++;
        if (interpret(o, on, d) != interpret(s, sn, d))
            rc = -1;
    }
    if (rc)
        memcpy(bad, d, sizeof d);
    free(c.v);
    return rc;
}

/* Shortens and compares; 0 when every check held. */
static int check_program(const struct sock_filter *o, size_t on, size_t extra, const char *what)
{
    struct sock_filter *s = NULL;
    wr_error err = {0};
    long n = wr_seccomp_shorten(o, on, &s, &err);
    if (n < 0) {
        diag("%s: shorten failed: %s", what, err.msg);
        return -1;
    }
    if (n == 0) {
        programs_kept++;
        return s == NULL ? 0 : -1;
    }
    int rc = 0;
    uint32_t bad[NWORDS];
    if ((size_t)n >= on || !kernel_accepts(s, (size_t)n)) {
        diag("%s: shortened program of %ld (from %zu) the kernel would refuse", what, n, on);
        rc = -1;
    } else if (compare(o, on, s, (size_t)n, extra, bad) < 0) {
        diag("%s: decisions differ at nr %#x arch %#x args0 %#x:%#x: %#x != %#x", what, bad[0],
             bad[1], bad[5], bad[4], interpret(o, on, bad), interpret(s, (size_t)n, bad));
        rc = -1;
    }
    programs_compared++;
    for (long i = 0; i < n; i++)
        if (s[i].code == (BPF_JMP | BPF_JA)) {
            programs_with_ja++;
            break;
        }
    if ((size_t)n > longest)
        longest = (size_t)n;
    free(s);
    return rc;
}

/* ---- random profiles --------------------------------------------------- */

static const char *names[1200];
static size_t n_names;

static void names_init(void)
{
    static const char *const odd[] = {"no_such_call", "",           "x32_only",
                                      "SOCKET",       "socketcall", "ipc",
                                      "_llseek",      "waitpid",    "sigreturn"};
    for (size_t i = 0; i < sizeof odd / sizeof *odd; i++)
        names[n_names++] = odd[i];
    const uint32_t arches[] = {SCMP_ARCH_X86_64, SCMP_ARCH_X86};
    for (size_t a = 0; a < 2; a++)
        for (int nr = 0; nr < 470 && n_names < sizeof names / sizeof *names; nr++) {
            char *s = seccomp_syscall_resolve_num_arch(arches[a], nr);
            bool seen = false;
            for (size_t i = 0; s && i < n_names && !seen; i++)
                seen = strcmp(names[i], s) == 0;
            if (s && !seen)
                names[n_names++] = s; /* kept for the run */
            else
                free(s);
        }
}

static const char *const actions[] = {
    "SCMP_ACT_ALLOW",        "SCMP_ACT_ERRNO", "SCMP_ACT_KILL",       "SCMP_ACT_TRAP",
    "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_LOG",   "SCMP_ACT_KILL_THREAD"};
static const char *const ops[] = {"SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE",       "SCMP_CMP_EQ",
                                  "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ"};
static const char *const capnames[] = {"CAP_SYS_ADMIN", "CAP_NET_ADMIN", "CAP_SYS_PTRACE",
                                       "CAP_CHOWN",     "CAP_SYS_BOOT",  "CAP_AUDIT_WRITE"};

static long long value(void)
{
    static const long long v[] = {
        0,  1,  2,          3,       0x7fffffff, 0x80000000, 0xffffffff,        0x100000000,
        -1, -2, 0x40000000, 0x10000, 0x7e020000, 0x2000000,  0x80000000LL << 32};
    switch (below(3)) {
    case 0:
        return (long long)rnd();
    case 1:
        return below(64);
    default:
        return v[below(sizeof v / sizeof *v)];
    }
}

static int errno_value(void)
{
    static const int v[] = {0, 1, EPERM, ENOSYS, EACCES, 4094, 38, 22};
    return below(3) ? v[below(sizeof v / sizeof *v)] : (int)below(4000);
}

struct buf {
    char *s;
    size_t n, cap;
};

static void put(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int m = vsnprintf(b->s + b->n, b->cap - b->n, fmt, ap);
        va_end(ap);
        if ((size_t)m < b->cap - b->n) {
            b->n += (size_t)m;
            return;
        }
        b->cap = b->cap * 2 + (size_t)m + 64;
        b->s = realloc(b->s, b->cap);
    }
}

/* A profile; dense: one rule for most known calls, each with its own
 * action (hundreds of ranges, searches whose jumps need BPF_JA). */
static void random_profile(struct buf *b, bool dense)
{
    b->n = 0;
    put(b, "{\"defaultAction\":\"%s\"", actions[below(7)]);
    if (below(2))
        put(b, ",\"defaultErrnoRet\":%d", errno_value());
    put(b, ",\"syscalls\":[");
    uint32_t rules = dense ? (uint32_t)n_names : below(3) ? below(25) : below(120);
    unsigned conditions = 0;
    for (uint32_t r = 0, none = 1; r < rules; r++) {
        if (dense && below(4) == 0)
            continue;
        put(b, "%s{\"names\":[", none ? "" : ",");
        none = 0;
        uint32_t nn = dense ? 1 : 1 + below(below(4) ? 4 : 40);
        for (uint32_t i = 0; i < nn; i++)
            put(b, "%s\"%s\"", i ? "," : "", names[dense ? r : below((uint32_t)n_names)]);
        /* Mostly allow rules, as in Docker's: the shape the pass shortens. */
        put(b, "],\"action\":\"%s\"", below(2) ? actions[0] : actions[below(7)]);
        if (below(3) == 0)
            put(b, ",\"errnoRet\":%d", errno_value());
        /* Bounded: libseccomp's time grows steeply with the conditions
         * on one call across rules (minutes for some profiles of 100
         * rules of 40 names; the daemon bounds a compile in time). */
        if (below(dense ? 6 : 2) == 0 && (conditions += 4) <= 60) {
            uint32_t na = 1 + below(4);
            unsigned first = below(6);
            put(b, ",\"args\":[");
            for (uint32_t i = 0; i < na; i++) {
                unsigned index = below(3) ? (first + i) % 6 : below(6); /* repeats too */
                put(b, "%s{\"index\":%u,\"value\":%lld,\"valueTwo\":%lld,\"op\":\"%s\"}",
                    i ? "," : "", index, value(), value(), ops[below(7)]);
            }
            put(b, "]");
        }
        bool caps = below(5) == 0, arches = below(15) == 0;
        if (caps || arches)
            put(b, ",\"includes\":{");
        if (caps)
            put(b, "\"caps\":[\"%s\"]%s", capnames[below(6)], arches ? "," : "}");
        if (arches)
            put(b, "\"arches\":[\"%s\"]}", below(2) ? "amd64" : "arm64");
        if (below(6) == 0)
            put(b, ",\"excludes\":{\"caps\":[\"%s\"]}", capnames[below(6)]);
        put(b, "}");
    }
    put(b, "]}");
}

/* libseccomp's program for prof; 0 instructions when it refused. */
static size_t compile(const struct wr_seccomp_profile *prof, uint64_t caps, bool x32,
                      struct sock_filter **out)
{
    int fd = memfd_create("fuzz", MFD_CLOEXEC);
    wr_error err = {0};
    size_t n = 0;
    *out = NULL;
    if (fd >= 0 && wr_seccomp_compile(prof, caps, x32, fd, &err) < 0 && getenv("WR_FUZZ_VERBOSE"))
        diag("libseccomp refused: %s", err.msg);
    if (fd >= 0 && err.msg[0] == '\0') {
        struct stat st;
        if (fstat(fd, &st) == 0 && st.st_size > 0 && (*out = malloc((size_t)st.st_size)) &&
            pread(fd, *out, (size_t)st.st_size, 0) == st.st_size)
            n = (size_t)st.st_size / sizeof **out;
    }
    if (fd >= 0)
        close(fd);
    return n;
}

static uint64_t random_caps(void)
{
    switch (below(4)) {
    case 0:
        return DOCKER_CAPS;
    case 1:
        return DOCKER_CAPS | 1ULL << below(41);
    case 2:
        return 0;
    default:
        return rnd() & ((1ULL << 41) - 1);
    }
}

/* ---- random programs of the pass's shape ------------------------------- */

static size_t random_program(struct sock_filter *f, size_t cap)
{
    size_t n = 2 + below((uint32_t)cap - 1);
    static const uint32_t arch[] = {AUDIT_ARCH_X86_64, AUDIT_ARCH_I386, 0, 0xffffffff};
    for (size_t i = 0; i < n; i++) {
        size_t left = n - i - 1; /* instructions after i */
        uint32_t pick = left ? below(20) : 0;
        struct sock_filter *in = &f[i];
        uint32_t k = below(3)   ? below(8) + (below(2) ? 0 : 0x40000000)
                     : below(2) ? (uint32_t)rnd()
                                : arch[below(4)];
        if (below(12) == 0)
            k = below(2) ? 0xffffffff : 0;
        if (pick == 0) {
            static const uint32_t rets[] = {
                SECCOMP_RET_ALLOW,     SECCOMP_RET_KILL_PROCESS, SECCOMP_RET_KILL_THREAD,
                SECCOMP_RET_TRAP | 7,  SECCOMP_RET_ERRNO | 1,    SECCOMP_RET_ERRNO | 38,
                SECCOMP_RET_TRACE | 3, SECCOMP_RET_LOG,          SECCOMP_RET_USER_NOTIF};
            *in = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, rets[below(9)]);
        } else if (pick <= 6) {
            uint32_t off = below(3) ? below(2) * 4 : below(16) * 4;
            if (below(60) == 0) /* not a whole aligned word: to be refused */
                off = below(2) ? 2 : 64;
            *in = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, off);
        } else if (pick <= 16) {
            static const uint16_t j[] = {BPF_JEQ, BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET};
            uint32_t span = left - 1 < 300 ? (uint32_t)left - 1 : 300;
            uint8_t jt = (uint8_t)below(span < 255 ? span + 1 : 256);
            uint8_t jf = below(4) == 0 ? jt : (uint8_t)below(span < 255 ? span + 1 : 256);
            *in = (struct sock_filter)BPF_JUMP(BPF_JMP | j[below(5)] | BPF_K, k, jt, jf);
        } else if (pick == 17) {
            *in = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JA, below((uint32_t)left), 0, 0);
        } else if (pick == 18) {
            *in = (struct sock_filter)BPF_STMT(BPF_ALU | BPF_AND | BPF_K, (uint32_t)rnd());
        } else {
            static const struct sock_filter odd[] = {BPF_STMT(BPF_RET | BPF_A, 0),
                                                     BPF_STMT(BPF_MISC | BPF_TAX, 0),
                                                     BPF_STMT(BPF_ALU | BPF_ADD | BPF_K, 1),
                                                     BPF_STMT(BPF_LD | BPF_IMM, 5),
                                                     BPF_STMT(BPF_ST, 0),
                                                     BPF_STMT(BPF_LD | BPF_W | BPF_LEN, 0)};
            *in = odd[below(6)];
            if (BPF_CLASS(in->code) == BPF_RET && left)
                in->code = BPF_LD | BPF_IMM;
        }
        if (BPF_CLASS(in->code) != BPF_RET && BPF_CLASS(in->code) != BPF_JMP && !left)
            *in = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    }
    /* Most programs start as libseccomp's do: the arch, then nr. */
    if (below(3) && n > 3) {
        f[0] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 4);
        f[1] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1,
                                            (uint8_t)below((uint32_t)n - 3));
        f[2] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0);
    }
    return n;
}

/* ---- the kernel runs both ---------------------------------------------- */

struct kin {
    bool i386;
    uint32_t nr;
    uint64_t a[6];
};

struct kshared {
    volatile int next; /* the input the child is at */
    volatile int done;
    volatile long res[]; /* per input: -errno, or 1000000 + signal data on SIGSYS */
};

static sigjmp_buf trap_env;
static volatile long trap_data;

static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)uc;
    trap_data = si->si_errno;
    siglongjmp(trap_env, 1); /* no mask to restore: SA_NODEFER, savemask 0 */
}

static long call64(uint32_t nr, const uint64_t *a)
{
    long r;
    __asm__ volatile("mov %[a3], %%r10\n\tmov %[a4], %%r8\n\tmov %[a5], %%r9\n\tsyscall"
                     : "=a"(r)
                     : "a"((uint64_t)nr), "D"(a[0]), "S"(a[1]),
                       "d"(a[2]), [a3] "r"(a[3]), [a4] "r"(a[4]), [a5] "r"(a[5])
                     : "rcx", "r11", "r8", "r9", "r10", "memory");
    return r;
}

static long call32(uint32_t nr, const uint64_t *a)
{
    int r;
    uint32_t a5 = (uint32_t)a[5];
    /* ebp is the sixth argument; the red zone is kept clear of the push */
    __asm__ volatile("sub $128, %%rsp\n\tpush %%rbp\n\tmov %[a5], %%ebp\n\tint $0x80\n\t"
                     "pop %%rbp\n\tadd $128, %%rsp"
                     : "=a"(r)
                     : "a"(nr), "b"((uint32_t)a[0]), "c"((uint32_t)a[1]), "d"((uint32_t)a[2]),
                       "S"((uint32_t)a[3]), "D"((uint32_t)a[4]), [a5] "r"(a5)
                     : "memory");
    return r;
}

/* In a child: the outer filter (every call an error, OUTER_ERRNO), then
 * prog, then the inputs from sh->next on. Never returns. */
static void kernel_child(const struct sock_filter *prog, size_t n, const struct kin *in, int count,
                         struct kshared *sh)
{
    struct sock_fprog p = {(unsigned short)n, (struct sock_filter *)prog};
    /* The outer filter lets through only the seccomp() call installing p
     * (x86-64, its exact pointer: no random input is that call). */
    uint64_t pp = (uint64_t)(uintptr_t)&p;
    struct sock_filter outer[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 7),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_seccomp, 0, 5),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[2])),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)pp, 0, 3),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[2]) + 4),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)(pp >> 32), 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | OUTER_ERRNO),
    };
    struct sock_fprog o = {sizeof outer / sizeof *outer, outer};
    struct sigaction sa = {.sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO | SA_NODEFER};
    sigaction(SIGSYS, &sa, NULL);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
        syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &o) < 0 ||
        syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &p) < 0) {
        sh->done = -1;
        _exit(1);
    }
    for (;;) {
        int i = sh->next;
        if (i >= count)
            break;
        if (sigsetjmp(trap_env, 0)) {
            sh->res[i] = 1000000 + trap_data;
        } else {
            sh->res[i] = in[i].i386 ? call32(in[i].nr, in[i].a) : call64(in[i].nr, in[i].a);
        }
        sh->next = i + 1;
    }
    sh->done = 1;
    for (;;) /* exit itself may be refused: the parent kills */
        ;
}

/* The kernel's answers to every input under prog into res; -1 when the
 * kernel refused the program. */
static int kernel_run(const struct sock_filter *prog, size_t n, const struct kin *in, int count,
                      long *res)
{
    size_t bytes = sizeof(struct kshared) + (size_t)count * sizeof(long);
    struct kshared *sh =
        mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED)
        return -1;
    sh->next = 0;
    int rc = 0;
    while (sh->next < count && rc == 0) {
        sh->done = 0;
        pid_t pid = fork();
        if (pid == 0)
            kernel_child(prog, n, in, count, sh);
        if (pid < 0) {
            rc = -1;
            break;
        }
        int status;
        for (;;) {
            pid_t w = waitpid(pid, &status, WNOHANG);
            if (w == pid)
                break;
            if (sh->done) {
                kill(pid, SIGKILL);
                waitpid(pid, &status, 0);
                break;
            }
            struct timespec t = {0, 200000};
            nanosleep(&t, NULL);
        }
        if (sh->done < 0)
            rc = -1;
        else if (!sh->done && WIFSIGNALED(status)) /* killed at sh->next */
            sh->res[sh->next] = 2000000 + WTERMSIG(status), sh->next = sh->next + 1;
    }
    for (int i = 0; i < count; i++)
        res[i] = sh->res[i];
    munmap(sh, bytes);
    return rc;
}

/* The calls whose arguments Docker's profile checks, x86-64 and i386
 * numbers (the x32 ones: | 0x40000000), and some it allows or denies
 * whole. */
static const struct kin targeted[] = {
    {false, 135, {0}},              /* personality(PER_LINUX) */
    {false, 135, {8}},              /* PER_LINUX32 */
    {false, 135, {0x20000}},        /* UNAME26 */
    {false, 135, {0x20008}},        /* PER_LINUX32 | UNAME26 */
    {false, 135, {0xffffffff}},     /* the query */
    {false, 135, {1}},              /* another personality: denied */
    {false, 135, {0x100000000ULL}}, /* high word set: denied */
    {true, 136, {0}},               /* i386 personality */
    {true, 136, {0xffffffff}},
    {true, 136, {2}},
    {false, 56, {0x11}},           /* clone(SIGCHLD | ...) */
    {false, 56, {0x10000000}},     /* CLONE_NEWUSER: denied without CAP_SYS_ADMIN */
    {false, 56, {0x7e020000}},     /* every namespace flag */
    {false, 56, {0x200000011ULL}}, /* bits above 32 */
    {true, 120, {0x11}},           /* i386 clone */
    {true, 120, {0x10000000}},
    {false, 435, {0}},       /* clone3: ENOSYS */
    {false, 41, {2, 1, 0}},  /* socket(AF_INET, SOCK_STREAM) */
    {false, 41, {16, 3, 9}}, /* NETLINK_AUDIT: denied without CAP_AUDIT_WRITE */
    {false, 41, {16, 3, 0}},
    {false, 41, {40, 1, 0}},       /* AF_VSOCK */
    {true, 359, {16, 3, 9}},       /* i386 socket */
    {true, 102, {1, 0}},           /* i386 socketcall */
    {false, 16, {0, 0x5401}},      /* ioctl(TCGETS) */
    {false, 16, {0, 0x541c}},      /* ioctl(TIOCLINUX) */
    {false, 39, {0}},              /* getpid */
    {false, 169, {0}},             /* reboot: denied */
    {false, 0x40000000 | 39, {0}}, /* x32 getpid */
    {false, 0x40000000 | 135, {0}},
    {false, 0x40000000 | 512, {0}}, /* x32 rt_sigaction */
    {false, 0xffffffff, {0}},
    {true, 0xffffffff, {0}},
    {false, 0x3fffffff, {0}},
    {false, 0x80000000, {0}},
    {false, 425, {0}}, /* io_uring_setup: denied */
    {false, 321, {0}}, /* bpf */
    {false, 317, {0}}, /* seccomp */
    {false, 101, {0}}, /* ptrace */
    {true, 26, {0}},   /* i386 ptrace */
};

static void kernel_inputs(const struct sock_filter *f, size_t n, struct kin *in, int count)
{
    struct consts c;
    consts_of(f, n, &c);
    int fixed = (int)(sizeof targeted / sizeof *targeted);
    for (int i = 0; i < count && i < fixed; i++)
        in[i] = targeted[i];
    for (int i = fixed; i < count; i++) {
        in[i].i386 = below(3) == 0;
        in[i].nr = below(3) ? below(460) : word(&c);
        if (below(5) == 0)
            in[i].nr = 0x40000000 | below(560);
        for (int a = 0; a < 6; a++)
            in[i].a[a] = below(2) ? (uint64_t)word(&c) << 32 | word(&c) : word(&c);
    }
    free(c.v);
}

static unsigned long long kernel_calls;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Both programs under the kernel; 0 when every answer is the same. */
static int kernel_compare(const struct sock_filter *o, size_t on, int count, const char *what)
{
    struct sock_filter *s = NULL;
    wr_error err = {0};
    long sn = wr_seccomp_shorten(o, on, &s, &err);
    if (sn <= 0)
        return sn < 0 ? -1 : 0; /* kept: nothing to compare */
    struct kin *in = calloc((size_t)count, sizeof *in);
    long *ro = calloc((size_t)count, sizeof *ro), *rs = calloc((size_t)count, sizeof *rs);
    kernel_inputs(o, on, in, count);
    int rc = kernel_run(o, on, in, count, ro) < 0 || kernel_run(s, (size_t)sn, in, count, rs) < 0
                 ? -1
                 : 0;
    if (rc)
        diag("%s: the kernel refused a program", what);
    for (int i = 0; i < count && !rc; i++)
        if (ro[i] != rs[i]) {
            diag("%s: %s nr %#x: kernel answers %ld != %ld", what, in[i].i386 ? "i386" : "x86-64",
                 in[i].nr, ro[i], rs[i]);
            rc = -1;
        }
    kernel_calls += 2 * (unsigned long long)count;
    free(in);
    free(ro);
    free(rs);
    free(s);
    return rc < 0 ? -1 : 1;
}

/* ---- the runs ---------------------------------------------------------- */

int main(void)
{
    const char *env = getenv("WR_FUZZ_SEED");
    uint64_t seed = env ? strtoull(env, NULL, 0) : 0x5eccb0f;
    if (seed == 0)
        seed = (uint64_t)time(NULL);
    env = getenv("WR_FUZZ_ROUNDS");
    unsigned rounds = env ? (unsigned)strtoul(env, NULL, 0) : 1;
    rng_state = seed | 1;
    diag("seed %#llx, rounds %u", (unsigned long long)seed, rounds);
    names_init();
    double t0 = now();

    /* errnoRet: libseccomp takes 0 to 4094; the parser refuses more
     * (4095 once passed and failed at compile time as "Cannot allocate
     * memory"). */
    static const char *const errno_profiles[][2] = {
        {"{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":", "}"},
        {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"getpid\"],"
         "\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":",
         "}]}"}};
    for (int i = 0; i < 2; i++) {
        char text[256];
        struct wr_seccomp_profile prof;
        wr_error err = {0};
        snprintf(text, sizeof text, "%s%d%s", errno_profiles[i][0], 4095, errno_profiles[i][1]);
        bool refused = wr_seccomp_profile_parse(text, strlen(text), &prof, &err) < 0;
        if (!refused)
            wr_seccomp_profile_free(&prof);
        ok(refused && strstr(err.msg, "errnoRet") != NULL, "errnoRet 4095 refused (%s)", err.msg);
        snprintf(text, sizeof text, "%s%d%s", errno_profiles[i][0], 4094, errno_profiles[i][1]);
        struct sock_filter *f = NULL;
        size_t n = 0;
        if (wr_seccomp_profile_parse(text, strlen(text), &prof, &err) == 0) {
            n = compile(&prof, DOCKER_CAPS, false, &f);
            wr_seccomp_profile_free(&prof);
        }
        ok(n > 0, "errnoRet 4094 compiles");
        free(f);
    }

    /* Docker's default under random capability sets, with and without x32. */
    int bad = 0;
    for (unsigned i = 0; i < 12 * rounds && bad < 3; i++) {
        struct sock_filter *f;
        uint64_t caps = i == 0 ? DOCKER_CAPS : random_caps();
        bool x32 = i < 2 ? i == 1 : below(2);
        size_t n = compile(wr_seccomp_default_profile(), caps, x32, &f);
        char what[96];
        snprintf(what, sizeof what, "default, caps %#llx, x32 %d", (unsigned long long)caps, x32);
        if (!n || !kernel_accepts(f, n) || check_program(f, n, 200000, what) < 0)
            bad++;
        free(f);
    }
    diag("%.1f s", now() - t0);
    t0 = now();
    ok(bad == 0, "Docker's default under %u capability sets: same decisions", 12 * rounds);

    /* Random profiles. */
    struct buf b = {0};
    unsigned profiles = 0, refused = 0;
    bad = 0;
    unsigned long long compared0 = programs_compared;
    for (unsigned i = 0; i < 1500 * rounds && bad < 3; i++) {
        random_profile(&b, i % 32 == 31);
        struct wr_seccomp_profile prof;
        wr_error err = {0};
        if (wr_seccomp_profile_parse(b.s, b.n, &prof, &err) < 0) {
            diag("profile refused by the parser: %s", err.msg);
            bad++;
            continue;
        }
        struct sock_filter *f;
        double tc = now();
        size_t n = compile(&prof, random_caps(), below(2), &f);
        t_compile += now() - tc;
        wr_seccomp_profile_free(&prof);
        dense_ok += n && i % 32 == 31;
        if (!n) {
            refused++;
            continue;
        }
        profiles++;
        char what[64];
        snprintf(what, sizeof what, "random profile %u", i);
        if (!kernel_accepts(f, n) || check_program(f, n, 20000, what) < 0) {
            diag("the profile: %.*s", (int)(b.n < 4000 ? b.n : 4000), b.s);
            bad++;
        }
        free(f);
    }
    diag("%.1f s", now() - t0);
    t0 = now();
    diag("libseccomp: %.1f s; %u dense profiles compiled; %llu shortened", t_compile, dense_ok,
         programs_compared - compared0);
    ok(bad == 0 && profiles > 900 * rounds,
       "%u random profiles compiled (%u refused by libseccomp): same decisions", profiles, refused);

    /* Random programs of the pass's shape, and some beyond it. */
    bad = 0;
    struct sock_filter prog[600];
    unsigned taken = 0;
    for (unsigned i = 0; i < 10000 * rounds && bad < 3; i++) {
        size_t n = random_program(prog, below(4) ? 40 : 600);
        if (!kernel_accepts(prog, n))
            continue;
        taken++;
        char what[64];
        snprintf(what, sizeof what, "random program %u", i);
        if (check_program(prog, n, 300, what) < 0) {
            for (size_t j = 0; j < n && j < 80; j++)
                diag("  %3zu: code %#06x jt %3u jf %3u k %#x", j, prog[j].code, prog[j].jt,
                     prog[j].jf, prog[j].k);
            bad++;
        }
    }
    diag("%.1f s", now() - t0);
    t0 = now();
    ok(bad == 0 && taken > 1000, "%u random programs: same decisions", taken);
    diag("%llu programs shortened and compared (%llu with BPF_JA, longest %zu), %llu kept as they "
         "were, %llu runs",
         programs_compared, programs_with_ja, longest, programs_kept, runs);

    /* The harness itself: the kernel, under the shortened default (no
     * x32), answers as Docker's profile says. */
    {
        struct sock_filter *f = NULL, *sf = NULL;
        size_t n = compile(wr_seccomp_default_profile(), DOCKER_CAPS, false, &f);
        wr_error err = {0};
        long sn = n ? wr_seccomp_shorten(f, n, &sf, &err) : -1;
        static const struct {
            int index; /* in targeted[] */
            long want;
        } expect[] = {
            {0, -OUTER_ERRNO},  {4, -OUTER_ERRNO},  {5, -EPERM},   {6, -EPERM},
            {7, -OUTER_ERRNO},  {10, -OUTER_ERRNO}, {11, -EPERM},  {16, -ENOSYS},
            {25, -OUTER_ERRNO}, {26, -EPERM},       {27, -ENOSYS}, {34, -EPERM},
        };
        long res[sizeof targeted / sizeof *targeted];
        int wrong = -1;
        if (sn > 0 && kernel_run(sf, (size_t)sn, targeted,
                                 (int)(sizeof targeted / sizeof *targeted), res) == 0) {
            wrong = 0;
            for (size_t i = 0; i < sizeof expect / sizeof *expect; i++)
                if (res[expect[i].index] != expect[i].want) {
                    diag("targeted[%d]: %ld, want %ld", expect[i].index, res[expect[i].index],
                         expect[i].want);
                    wrong++;
                }
        }
        ok(wrong == 0, "the kernel under the shortened default answers as Docker's profile says");
        free(f);
        free(sf);
    }

    /* The kernel runs both: Docker's default and some random profiles. */
    bad = 0;
    unsigned kprofiles = 0;
    for (unsigned i = 0; i < 100 * rounds && kprofiles < 10 * rounds && bad < 3; i++) {
        struct sock_filter *f = NULL;
        size_t n = 0;
        if (i < 2 || i % 4 == 0) {
            n = compile(wr_seccomp_default_profile(), i < 2 ? DOCKER_CAPS : random_caps(),
                        i < 2 ? i == 1 : below(2), &f);
        } else {
            random_profile(&b, i % 3 == 2);
            struct wr_seccomp_profile prof;
            wr_error err = {0};
            if (wr_seccomp_profile_parse(b.s, b.n, &prof, &err) == 0) {
                n = compile(&prof, random_caps(), below(2), &f);
                wr_seccomp_profile_free(&prof);
            }
        }
        char what[64];
        snprintf(what, sizeof what, "kernel, profile %u", i);
        int r = n ? kernel_compare(f, n, 2000, what) : 0;
        if (getenv("WR_FUZZ_VERBOSE"))
            diag("%s: %zu instructions, %d", what, n, r);
        if (getenv("WR_FUZZ_DUMP") && n && r == 0) {
            char path[128];
            snprintf(path, sizeof path, "%s/%u.bpf", getenv("WR_FUZZ_DUMP"), i);
            FILE *fp = fopen(path, "w");
            if (fp) {
                fwrite(f, sizeof *f, n, fp);
                fclose(fp);
            }
        }
        bad += r < 0;
        kprofiles += r > 0;
        free(f);
    }
    diag("%.1f s", now() - t0);
    t0 = now();
    ok(bad == 0 && kprofiles >= 10 * rounds,
       "the kernel decides %llu calls of %u shortened profiles the same", kernel_calls, kprofiles);
    free(b.s);
    return done_testing();
}
