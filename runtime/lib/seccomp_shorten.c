/* Shortening libseccomp's program (seccomp_shorten.h). The kernel pays
 * for a filter's length at every install: the cBPF -> eBPF conversion
 * (bpf_convert_filter), the JIT and the run over every system call number
 * for its cache (seccomp_cache_prepare) all grow with it, once per
 * container (docs/benchmarks.md, "Seccomp programs by ranges"). */
#include "seccomp_shorten.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define OFF_NR   offsetof(struct seccomp_data, nr)
#define OFF_ARCH offsetof(struct seccomp_data, arch)
#define JUMP_MAX 255 /* jt and jf are 8 bits */
/* A binary search of at most this many groups (below) is laid out in one
 * piece with its RET instructions after it, so that most jumps inside stay
 * under JUMP_MAX (relax() adds a BPF_JA for any that does not). */
#define CHUNK      24
#define EXCEPTIONS 4          /* single values tested with JEQ in one group */
#define MAX_PAIRS  (1u << 18) /* (arch, nr) intervals run, at most */

/* What the accumulator may hold (a may-analysis per instruction). */
enum { ACC_NR = 1, ACC_ARCH = 2, ACC_OTHER = 4 };

/* The outcome of one (arch, nr): a RET constant, or the pc of the first
 * load of an argument or of instruction_pointer, where the rest of the
 * decision depends on more than arch and nr. */
enum { OUT_RET, OUT_TAIL };
struct outcome {
    uint8_t kind;
    uint32_t v;
};

static bool same_outcome(struct outcome a, struct outcome b)
{
    return a.kind == b.kind && a.v == b.v;
}

struct u32set {
    uint32_t *v;
    size_t n, cap;
};

static int u32set_add(struct u32set *s, uint32_t x)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        uint32_t *v = realloc(s->v, cap * sizeof *v);
        if (!v)
            return -1;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = x;
    return 0;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static void u32set_sort(struct u32set *s)
{
    qsort(s->v, s->n, sizeof *s->v, cmp_u32);
    size_t m = 0;
    for (size_t i = 0; i < s->n; i++)
        if (m == 0 || s->v[m - 1] != s->v[i])
            s->v[m++] = s->v[i];
    s->n = m;
}

/* The instructions the pass understands, with every jump inside the
 * program; anything else (X, scratch memory, other loads) gives up. */
static bool supported(const struct sock_filter *f, size_t len)
{
    if (len == 0 || len > BPF_MAXINSNS)
        return false;
    for (size_t i = 0; i < len; i++) {
        uint16_t c = f[i].code;
        if (c == (BPF_LD | BPF_W | BPF_ABS)) {
            if (f[i].k % 4 || f[i].k >= sizeof(struct seccomp_data))
                return false;
        } else if (c == (BPF_ALU | BPF_AND | BPF_K)) {
        } else if (c == (BPF_JMP | BPF_JA)) {
            if (f[i].k >= len - i - 1)
                return false;
            continue;
        } else if (c == (BPF_JMP | BPF_JEQ | BPF_K) || c == (BPF_JMP | BPF_JGT | BPF_K) ||
                   c == (BPF_JMP | BPF_JGE | BPF_K) || c == (BPF_JMP | BPF_JSET | BPF_K)) {
            if ((size_t)f[i].jt >= len - i - 1 || (size_t)f[i].jf >= len - i - 1)
                return false;
            continue;
        } else if (c == (BPF_RET | BPF_K)) {
            continue;
        } else {
            return false;
        }
        if (i + 1 == len) /* would run off the end */
            return false;
    }
    return true;
}

/* Every constant nr and arch are compared with, as the first value of an
 * interval of equal truth: JEQ K gives K and K+1, JGT K gives K+1, JGE K
 * gives K. Forward jumps only: one pass propagates what A may hold. */
static int breakpoints(const struct sock_filter *f, size_t len, struct u32set *nr,
                       struct u32set *arch)
{
    unsigned char *acc = calloc(len, 1);
    if (!acc)
        return -1;
    int rc = -1;
    if (u32set_add(nr, 0) < 0 || u32set_add(arch, 0) < 0)
        goto out;
    acc[0] = ACC_OTHER; /* A starts at 0 */
    for (size_t i = 0; i < len; i++) {
        unsigned char a = acc[i];
        uint16_t c = f[i].code;
        if (BPF_CLASS(c) == BPF_RET || !a)
            continue;
        if (c == (BPF_JMP | BPF_JA)) {
            acc[i + 1 + f[i].k] |= a;
            continue;
        }
        if (BPF_CLASS(c) == BPF_JMP) {
            uint32_t k = f[i].k;
            for (int which = 0; which < 2; which++) {
                struct u32set *s = which ? arch : nr;
                if (!(a & (which ? ACC_ARCH : ACC_NR)))
                    continue;
                bool next = (BPF_OP(c) == BPF_JEQ || BPF_OP(c) == BPF_JGT) && k != UINT32_MAX;
                if ((BPF_OP(c) != BPF_JGT && u32set_add(s, k) < 0) ||
                    (next && u32set_add(s, k + 1) < 0))
                    goto out;
            }
            acc[i + 1 + f[i].jt] |= a;
            acc[i + 1 + f[i].jf] |= a;
            continue;
        }
        if (BPF_CLASS(c) == BPF_LD)
            a = f[i].k == OFF_NR ? ACC_NR : f[i].k == OFF_ARCH ? ACC_ARCH : ACC_OTHER;
        else
            a = ACC_OTHER;
        acc[i + 1] |= a;
    }
    u32set_sort(nr);
    u32set_sort(arch);
    rc = 0;
out:
    free(acc);
    return rc;
}

/* Runs f for (arch, nr) up to a RET or the first load of anything else.
 * Returns -1 on what the pass does not model there: arithmetic, or JSET
 * on nr or arch. */
static int walk(const struct sock_filter *f, size_t len, uint32_t arch, uint32_t nr,
                struct outcome *o)
{
    uint32_t a = 0;
    for (size_t pc = 0; pc < len;) {
        const struct sock_filter *in = &f[pc];
        uint16_t c = in->code;
        if (c == (BPF_RET | BPF_K)) {
            *o = (struct outcome){OUT_RET, in->k};
            return 0;
        }
        if (c == (BPF_LD | BPF_W | BPF_ABS)) {
            if (in->k != OFF_NR && in->k != OFF_ARCH) {
                *o = (struct outcome){OUT_TAIL, (uint32_t)pc};
                return 0;
            }
            a = in->k == OFF_NR ? nr : arch;
            pc++;
        } else if (c == (BPF_JMP | BPF_JA)) {
            pc += 1 + in->k;
        } else if (BPF_CLASS(c) == BPF_JMP && BPF_SRC(c) == BPF_K) {
            bool t;
            switch (BPF_OP(c)) {
            case BPF_JEQ:
                t = a == in->k;
                break;
            case BPF_JGT:
                t = a > in->k;
                break;
            case BPF_JGE:
                t = a >= in->k;
                break;
            default:
                return -1; /* JSET on nr or arch: not piecewise constant */
            }
            pc += 1 + (t ? in->jt : in->jf);
        } else {
            return -1;
        }
    }
    return -1;
}

/* The program being built: nodes with symbolic targets (node ids), laid
 * out in `order`; positions are known only at the end. */
struct node {
    uint16_t code;
    uint32_t k;
    int jt, jf; /* node ids; JA: jt */
};

struct ir {
    struct node *nodes;
    size_t n, cap;
    int *order;
    size_t n_order, cap_order;
    bool failed;
};

static int node_new(struct ir *ir, uint16_t code, uint32_t k)
{
    if (ir->n == ir->cap) {
        size_t cap = ir->cap ? ir->cap * 2 : 256;
        struct node *v = realloc(ir->nodes, cap * sizeof *v);
        if (!v) {
            ir->failed = true;
            return -1;
        }
        ir->nodes = v;
        ir->cap = cap;
    }
    ir->nodes[ir->n] = (struct node){code, k, -1, -1};
    return (int)ir->n++;
}

static void place(struct ir *ir, int id)
{
    if (id < 0)
        return;
    if (ir->n_order == ir->cap_order) {
        size_t cap = ir->cap_order ? ir->cap_order * 2 : 256;
        int *v = realloc(ir->order, cap * sizeof *v);
        if (!v) {
            ir->failed = true;
            return;
        }
        ir->order = v;
        ir->cap_order = cap;
    }
    ir->order[ir->n_order++] = id;
}

/* An interval [lo, next lo) of one key (arch or nr) and where it goes:
 * a RET constant or a node. */
enum { LEAF_RET, LEAF_NODE };
struct span {
    uint32_t lo;
    uint8_t kind;
    uint32_t v;
};

static bool same_leaf(const struct span *a, const struct span *b)
{
    return a->kind == b->kind && a->v == b->v;
}

/* The RET instructions of one chunk, placed after it. */
struct pool {
    struct {
        uint32_t k;
        int id;
    } ret[CHUNK * (EXCEPTIONS + 1)];
    size_t n;
};

static int leaf_id(struct ir *ir, const struct span *s, struct pool *pool)
{
    if (s->kind == LEAF_NODE)
        return (int)s->v;
    for (size_t i = 0; i < pool->n; i++)
        if (pool->ret[i].k == s->v)
            return pool->ret[i].id;
    int id = node_new(ir, BPF_RET | BPF_K, s->v);
    pool->ret[pool->n].k = s->v;
    pool->ret[pool->n++].id = id;
    return id;
}

/* A group: spans[first, end) where every value has one outcome (base)
 * but up to EXCEPTIONS single values: a denied call among allowed ones,
 * an architecture among others. Tested with one JEQ each, where a search
 * would spend two JGEs; the bound keeps a call's path short. */
struct group {
    size_t first, end;
    struct span base;
};

static bool single(const struct span *sp, size_t i, size_t n)
{
    return i + 1 < n ? sp[i + 1].lo == sp[i].lo + 1 : sp[i].lo == UINT32_MAX;
}

/* The longest group from spans[first]; *g gets it. */
static void group_at(const struct span *sp, size_t n, size_t first, struct group *g)
{
    const struct span *base = NULL;
    size_t end = first;
    for (; end < n; end++) {
        bool one = single(sp, end, n);
        if (!one && base && !same_leaf(&sp[end], base))
            break;
        const struct span *b = base ? base : one ? NULL : &sp[end];
        size_t exc = 0;
        for (size_t i = first; i <= end; i++)
            exc += single(sp, i, n) && (!b || !same_leaf(&sp[i], b));
        if (exc > EXCEPTIONS)
            break;
        base = b;
    }
    /* Only single values: the last one is the base, the others tested. */
    g->first = first;
    g->end = end;
    g->base = base ? *base : sp[end - 1];
}

/* Places the JEQ tests of a group's exceptions; returns its entry. */
static int group_tests(struct ir *ir, const struct span *sp, size_t n, const struct group *g,
                       struct pool *pool)
{
    int entry = -1, prev = -1;
    for (size_t i = g->first; i < g->end; i++) {
        if (!single(sp, i, n) || same_leaf(&sp[i], &g->base))
            continue;
        int id = node_new(ir, BPF_JMP | BPF_JEQ | BPF_K, sp[i].lo);
        place(ir, id);
        int t = leaf_id(ir, &sp[i], pool);
        if (id < 0 || t < 0)
            return -1;
        ir->nodes[id].jt = t;
        if (prev >= 0)
            ir->nodes[prev].jf = id;
        else
            entry = id;
        prev = id;
    }
    int base = leaf_id(ir, &g->base, pool);
    if (prev >= 0)
        ir->nodes[prev].jf = base;
    return entry >= 0 ? entry : base;
}

/* Places a balanced binary search over groups[lo, hi) of spans sp[0, n)
 * (A holds the key) and returns the node to jump to. Children come
 * after their parent. */
static int search(struct ir *ir, const struct span *sp, size_t n, const struct group *gr, size_t lo,
                  size_t hi, struct pool *pool)
{
    size_t count = hi - lo;
    if (!pool && count <= CHUNK) {
        struct pool *own = calloc(1, sizeof *own);
        if (!own)
            return -1;
        int id = search(ir, sp, n, gr, lo, hi, own);
        for (size_t i = 0; i < own->n; i++)
            place(ir, own->ret[i].id);
        free(own);
        return id;
    }
    if (count == 1)
        return group_tests(ir, sp, n, &gr[lo], pool);
    size_t mid = lo + count / 2;
    int id = node_new(ir, BPF_JMP | BPF_JGE | BPF_K, sp[gr[mid].first].lo);
    place(ir, id);
    int f = search(ir, sp, n, gr, lo, mid, pool);
    int t = search(ir, sp, n, gr, mid, hi, pool);
    if (id < 0 || f < 0 || t < 0)
        return -1;
    ir->nodes[id].jt = t;
    ir->nodes[id].jf = f;
    return id;
}

/* The search over spans sp[0, n), by groups. */
static int search_spans(struct ir *ir, const struct span *sp, size_t n)
{
    struct group *gr = malloc(n * sizeof *gr);
    if (!gr)
        return -1;
    size_t n_gr = 0;
    for (size_t i = 0; i < n; i = gr[n_gr++].end)
        group_at(sp, n, i, &gr[n_gr]);
    int id = search(ir, sp, n, gr, 0, n_gr, NULL);
    free(gr);
    return id;
}

/* Gives every conditional jump longer than JUMP_MAX a BPF_JA right after
 * it (32-bit offset), until all fit; positions into *pos (by node id). */
static int relax(struct ir *ir, int **pos_out)
{
    int *pos = NULL;
    for (;;) {
        free(pos);
        pos = malloc((ir->n + 1) * sizeof *pos);
        int *order = malloc((ir->n_order * 3 + 1) * sizeof *order);
        if (!pos || !order) {
            free(order);
            free(pos);
            return -1;
        }
        for (size_t i = 0; i < ir->n; i++)
            pos[i] = -1;
        for (size_t p = 0; p < ir->n_order; p++)
            pos[ir->order[p]] = (int)p;
        size_t n = 0;
        bool changed = false;
        for (size_t p = 0; p < ir->n_order; p++) {
            int id = ir->order[p];
            order[n++] = id;
            struct node nd = ir->nodes[id];
            if (BPF_CLASS(nd.code) != BPF_JMP)
                continue;
            int targets[2] = {nd.jt, nd.jf};
            for (int b = 0; b < (nd.code == (BPF_JMP | BPF_JA) ? 1 : 2); b++) {
                if (targets[b] < 0 || pos[targets[b]] <= (int)p) {
                    free(order);
                    free(pos);
                    return 1; /* a backward or missing target: a bug, keep prog */
                }
                if (nd.code == (BPF_JMP | BPF_JA) || pos[targets[b]] - (int)p - 1 <= JUMP_MAX)
                    continue;
                int t = node_new(ir, BPF_JMP | BPF_JA, 0);
                if (t < 0) {
                    free(order);
                    free(pos);
                    return -1;
                }
                ir->nodes[t].jt = targets[b];
                if (b == 0)
                    ir->nodes[id].jt = t;
                else
                    ir->nodes[id].jf = t;
                order[n++] = t;
                changed = true;
            }
        }
        free(ir->order);
        ir->order = order;
        ir->n_order = n;
        ir->cap_order = n;
        if (!changed) {
            for (size_t p = 0; p < n; p++)
                pos[order[p]] = (int)p;
            *pos_out = pos;
            return 0;
        }
        if (n > BPF_MAXINSNS) {
            free(pos);
            return 1;
        }
    }
}

/* Where a jump lands once chains of BPF_JA are followed. */
static size_t landing(const struct sock_filter *f, size_t pc)
{
    while (f[pc].code == (BPF_JMP | BPF_JA))
        pc += 1 + f[pc].k;
    return pc;
}

struct shorten {
    const struct sock_filter *prog;
    size_t len;
    struct u32set nr, arch;
    struct outcome *out;  /* [arch interval][nr interval] */
    struct span *nr_span; /* [arch interval][nr interval], merged: n_span[a] used */
    size_t *n_span;
    int *tree;    /* per arch interval: the entry of its nr search, or -1 */
    int *tail_id; /* per pc of prog: its copy's node, or -1 */
    int *new_pos; /* per node id: its position in the result */
    struct ir ir;
};

static void shorten_free(struct shorten *s)
{
    free(s->nr.v);
    free(s->arch.v);
    free(s->out);
    free(s->nr_span);
    free(s->n_span);
    free(s->tree);
    free(s->tail_id);
    free(s->new_pos);
    free(s->ir.nodes);
    free(s->ir.order);
}

/* The outcome of every (arch interval, nr interval), merged along nr;
 * marks the copied tails (everything reachable from a first argument
 * load). Returns 1 to give up. */
static int outcomes(struct shorten *s)
{
    size_t na = s->arch.n, nn = s->nr.n;
    /* libseccomp compares arch with the few it was given: Docker's
     * default makes 5 x ~1,700 pairs. A program far beyond that is not
     * libseccomp's shape; its runs could cost seconds: kept. */
    if (na * nn > MAX_PAIRS)
        return 1;
    s->out = malloc(na * nn * sizeof *s->out);
    s->nr_span = malloc(na * nn * sizeof *s->nr_span);
    s->n_span = calloc(na, sizeof *s->n_span);
    s->tail_id = malloc(s->len * sizeof *s->tail_id);
    if (!s->out || !s->nr_span || !s->n_span || !s->tail_id)
        return -1;
    for (size_t i = 0; i < s->len; i++)
        s->tail_id[i] = -1;
    for (size_t a = 0; a < na; a++)
        for (size_t j = 0; j < nn; j++) {
            struct outcome *o = &s->out[a * nn + j];
            if (walk(s->prog, s->len, s->arch.v[a], s->nr.v[j], o) < 0)
                return 1;
            if (o->kind == OUT_TAIL)
                s->tail_id[o->v] = 0; /* reached: marked */
            struct span *sp = &s->nr_span[a * nn];
            size_t *n = &s->n_span[a];
            if (j > 0 && same_outcome(s->out[a * nn + j - 1], *o))
                continue;
            sp[(*n)++] = (struct span){s->nr.v[j], o->kind == OUT_RET ? LEAF_RET : LEAF_NODE, o->v};
        }
    /* The closure of the tails: forward jumps only, one pass. */
    for (size_t i = 0; i < s->len; i++) {
        if (s->tail_id[i] < 0)
            continue;
        const struct sock_filter *in = &s->prog[i];
        if (in->code == (BPF_JMP | BPF_JA)) {
            s->tail_id[i + 1 + in->k] = 0;
        } else if (BPF_CLASS(in->code) == BPF_JMP) {
            s->tail_id[i + 1 + in->jt] = 0;
            s->tail_id[i + 1 + in->jf] = 0;
        } else if (BPF_CLASS(in->code) != BPF_RET) {
            s->tail_id[i + 1] = 0;
        }
    }
    return 0;
}

static bool same_spans(const struct shorten *s, size_t a, size_t b)
{
    size_t nn = s->nr.n;
    if (s->n_span[a] != s->n_span[b])
        return false;
    for (size_t i = 0; i < s->n_span[a]; i++) {
        const struct span *x = &s->nr_span[a * nn + i], *y = &s->nr_span[b * nn + i];
        if (x->lo != y->lo || !same_leaf(x, y))
            return false;
    }
    return true;
}

/* Lays out: load arch, the search over arch, per distinct arch outcome
 * the load of nr and the search over nr, then the copied tails in their
 * original order (distances between them only shrink). */
static int build(struct shorten *s)
{
    struct ir *ir = &s->ir;
    size_t na = s->arch.n, nn = s->nr.n;
    /* outcomes() marked the copied pcs with 0; the ir is still empty, so
     * the ids given here in pc order never meet a mark not yet replaced. */
    for (size_t i = 0; i < s->len; i++)
        if (s->tail_id[i] == 0 && (s->tail_id[i] = node_new(ir, s->prog[i].code, s->prog[i].k)) < 0)
            return -1;
    for (size_t i = 0; i < s->len; i++) {
        const struct sock_filter *in = &s->prog[i];
        int id = s->tail_id[i];
        if (id < 0)
            continue;
        if (in->code == (BPF_JMP | BPF_JA)) {
            ir->nodes[id].jt = s->tail_id[i + 1 + in->k];
        } else if (BPF_CLASS(in->code) == BPF_JMP) {
            ir->nodes[id].jt = s->tail_id[i + 1 + in->jt];
            ir->nodes[id].jf = s->tail_id[i + 1 + in->jf];
        } else if (BPF_CLASS(in->code) != BPF_RET) {
            /* falls through: an explicit target, kept next in order */
            ir->nodes[id].jt = s->tail_id[i + 1];
        }
    }
    for (size_t a = 0; a < na; a++)
        for (size_t j = a * nn; j < a * nn + s->n_span[a]; j++)
            if (s->nr_span[j].kind == LEAF_NODE)
                s->nr_span[j].v = (uint32_t)s->tail_id[s->nr_span[j].v];
    /* The arch intervals, merged; each leads to its nr search (an arch
     * with one outcome for every nr leads to that outcome directly). */
    s->tree = malloc(na * sizeof *s->tree);
    struct span *asp = malloc(na * sizeof *asp);
    if (!s->tree || !asp) {
        free(asp);
        return -1;
    }
    size_t n_asp = 0;
    for (size_t a = 0; a < na; a++) {
        s->tree[a] = -1;
        struct span leaf = s->nr_span[a * nn];
        if (s->n_span[a] > 1) {
            for (size_t b = 0; b < a && s->tree[a] < 0; b++)
                if (s->tree[b] >= 0 && same_spans(s, a, b))
                    s->tree[a] = s->tree[b];
            if (s->tree[a] < 0 &&
                (s->tree[a] = node_new(ir, BPF_LD | BPF_W | BPF_ABS, OFF_NR)) < 0) {
                free(asp);
                return -1;
            }
            leaf = (struct span){0, LEAF_NODE, (uint32_t)s->tree[a]};
        }
        leaf.lo = s->arch.v[a];
        if (n_asp == 0 || !same_leaf(&asp[n_asp - 1], &leaf))
            asp[n_asp++] = leaf;
    }
    /* The search over arch (A holds arch); with one outcome for every
     * arch, a jump there instead. */
    int first = node_new(ir, n_asp > 1 ? BPF_LD | BPF_W | BPF_ABS : BPF_JMP | BPF_JA,
                         n_asp > 1 ? OFF_ARCH : 0);
    place(ir, first);
    int root = search_spans(ir, asp, n_asp);
    free(asp);
    if (first < 0 || root < 0)
        return -1;
    ir->nodes[first].jt = root;
    for (size_t a = 0; a < na; a++) {
        bool fresh = s->tree[a] >= 0;
        for (size_t b = 0; b < a && fresh; b++)
            fresh = s->tree[b] != s->tree[a];
        if (!fresh)
            continue;
        place(ir, s->tree[a]);
        int entry = search_spans(ir, &s->nr_span[a * nn], s->n_span[a]);
        if (entry < 0)
            return -1;
        ir->nodes[s->tree[a]].jt = entry;
    }
    for (size_t i = 0; i < s->len; i++)
        if (s->tail_id[i] >= 0)
            place(ir, s->tail_id[i]);
    return ir->failed ? -1 : 0;
}

/* The result, with its offsets; a load's or an ALU's explicit successor
 * must be the next instruction (a copy's may not be if a trampoline were
 * ever placed between: it never is, but checked). */
static int emit(struct shorten *s, struct sock_filter **out)
{
    struct ir *ir = &s->ir;
    size_t n = ir->n_order;
    struct sock_filter *f = calloc(n, sizeof *f);
    if (!f)
        return -1;
    for (size_t p = 0; p < n; p++) {
        const struct node *nd = &ir->nodes[ir->order[p]];
        f[p].code = nd->code;
        f[p].k = nd->k;
        if (nd->code == (BPF_JMP | BPF_JA)) {
            f[p].k = (uint32_t)(s->new_pos[nd->jt] - (int)p - 1);
        } else if (BPF_CLASS(nd->code) == BPF_JMP) {
            f[p].jt = (uint8_t)(s->new_pos[nd->jt] - (int)p - 1);
            f[p].jf = (uint8_t)(s->new_pos[nd->jf] - (int)p - 1);
        } else if (nd->jt >= 0 && s->new_pos[nd->jt] != (int)p + 1) {
            free(f);
            return 1;
        }
    }
    *out = f;
    return 0;
}

/* The proof the pass carries with it: the new program decides every
 * (arch, nr) interval as prog does, and its copies are prog's
 * instructions with the same successors. */
static bool equivalent(const struct shorten *s, const struct sock_filter *f, size_t n)
{
    if (!supported(f, n))
        return false;
    for (size_t a = 0; a < s->arch.n; a++)
        for (size_t j = 0; j < s->nr.n; j++) {
            struct outcome o, want = s->out[a * s->nr.n + j];
            if (walk(f, n, s->arch.v[a], s->nr.v[j], &o) < 0 || o.kind != want.kind)
                return false;
            if (o.kind == OUT_RET ? o.v != want.v : (int)o.v != s->new_pos[s->tail_id[want.v]])
                return false;
        }
    for (size_t i = 0; i < s->len; i++) {
        if (s->tail_id[i] < 0)
            continue;
        const struct sock_filter *in = &s->prog[i];
        size_t p = (size_t)s->new_pos[s->tail_id[i]];
        if (in->code == (BPF_JMP | BPF_JA))
            continue; /* followed through by landing() below */
        if (f[p].code != in->code || f[p].k != in->k)
            return false;
        if (BPF_CLASS(in->code) == BPF_JMP &&
            (landing(f, p + 1 + f[p].jt) !=
                 (size_t)s->new_pos[s->tail_id[landing(s->prog, i + 1 + in->jt)]] ||
             landing(f, p + 1 + f[p].jf) !=
                 (size_t)s->new_pos[s->tail_id[landing(s->prog, i + 1 + in->jf)]]))
            return false;
    }
    return true;
}

long wr_seccomp_shorten(const struct sock_filter *prog, size_t len, struct sock_filter **out,
                        wr_error *err)
{
    *out = NULL;
    if (!supported(prog, len))
        return 0;
    struct shorten s = {.prog = prog, .len = len};
    struct sock_filter *f = NULL;
    long rc = -1;
    int r = breakpoints(prog, len, &s.nr, &s.arch);
    if (r == 0)
        r = outcomes(&s);
    if (r == 0)
        r = build(&s);
    if (r == 0)
        r = relax(&s.ir, &s.new_pos);
    if (r == 0)
        r = emit(&s, &f);
    if (r < 0) {
        wr_error_set(err, ENOMEM, "shortening the seccomp program");
        goto out;
    }
    rc = 0;
    if (r == 0 && s.ir.n_order < len && equivalent(&s, f, s.ir.n_order)) {
        rc = (long)s.ir.n_order;
        *out = f;
        f = NULL;
    }
out:
    free(f);
    shorten_free(&s);
    return rc;
}
