/* Detection of the cgroup hierarchies and the per-container cgroup's life:
 * plan, create, attach, OOM count, remove, sweep (see cgroup.h). */
#include "cgroup.h"

#include "cgroup_tree.h"
#include "cgroup_v1.h"
#include "cgroup_v2.h"
#include "cleanup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

/* A cgroup younger than this may belong to a shim that has not written its
 * state record yet: a sweep leaves it alone. */
#define SWEEP_MIN_AGE_S 10
#define REMOVE_TRIES    50

static void read_v2_controllers(struct wr_cgroup_layout *l)
{
    char path[WR_CG_PATH_MAX], buf[512];
    snprintf(path, sizeof path, "%s/cgroup.controllers", l->v2);
    cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
    if (n <= 0)
        return;
    buf[n] = '\0';
    for (char *tok = strtok(buf, " \n"); tok; tok = strtok(NULL, " \n")) {
        int c = wr_cgroup_ctrl_by_name(tok, strlen(tok));
        if (c >= 0)
            l->v2_has[c] = true;
    }
}

/* The controllers among a v1 mount's options ("rw,cpu,cpuacct" ->
 * "cpu,cpuacct"): what mounting the same hierarchy again must name. */
static void v1_controllers(const char *super, char *out, size_t cap)
{
    static const char *const all[] = {"cpu",      "cpuacct",    "cpuset",  "memory", "pids",
                                      "hugetlb",  "devices",    "freezer", "blkio",  "net_cls",
                                      "net_prio", "perf_event", "rdma",    "misc"};
    size_t used = 0;
    out[0] = '\0';
    for (const char *t = super; *t;) {
        size_t n = strcspn(t, ",");
        for (size_t i = 0; i < sizeof all / sizeof *all; i++) {
            if (strlen(all[i]) != n || strncmp(all[i], t, n) != 0)
                continue;
            int w = snprintf(out + used, cap - used, "%s%s", used ? "," : "", all[i]);
            if (w > 0 && (size_t)w < cap - used)
                used += (size_t)w;
        }
        t += n + (t[n] == ',');
    }
}

/* The layout wr_cgroup_pin_layout detected, handed out instead of reading
 * mountinfo again. */
static struct wr_cgroup_layout pinned_layout;
static bool layout_pinned;

int wr_cgroup_detect(struct wr_cgroup_layout *l, wr_error *err)
{
    if (layout_pinned) {
        *l = pinned_layout;
        return 0;
    }
    const char *path = getenv("WARMRUN_MOUNTINFO");
    char line[1024];
    memset(l, 0, sizeof *l);
    cleanup_fclose FILE *f = fopen(path && *path ? path : "/proc/self/mountinfo", "re");
    if (!f)
        return wr_error_set(err, errno, "open mountinfo");
    while (fgets(line, sizeof line, f)) {
        /* id parent maj:min root mountpoint options ... - fstype source superoptions */
        char root[256], mnt[256], fstype[32], super[512];
        char *dash = strstr(line, " - ");
        if (!dash || sscanf(line, "%*s %*s %*s %255s %255s", root, mnt) != 2 ||
            sscanf(dash + 3, "%31s %*s %511s", fstype, super) != 2)
            continue;
        if (strcmp(root, "/") != 0 || strlen(mnt) >= sizeof l->v2)
            continue; /* a bind of a sub-tree is not a hierarchy's root */
        if (strcmp(fstype, "cgroup2") == 0 && !l->v2[0]) {
            memcpy(l->v2, mnt, strlen(mnt) + 1); /* fits: checked above */
            continue;
        }
        if (strcmp(fstype, "cgroup") != 0)
            continue;
        for (char *opt = super; opt && *opt;) {
            char *comma = strchr(opt, ',');
            size_t len = comma ? (size_t)(comma - opt) : strlen(opt);
            int c = wr_cgroup_ctrl_by_name(opt, len);
            if (c >= 0 && !l->v1[c][0]) {
                memcpy(l->v1[c], mnt, strlen(mnt) + 1);
                v1_controllers(super, l->v1_opts[c], sizeof l->v1_opts[c]);
            }
            opt = comma ? comma + 1 : NULL;
        }
    }
    if (l->v2[0])
        read_v2_controllers(l);
    return 0;
}

int wr_cgroup_pin_layout(wr_error *err)
{
    layout_pinned = false;
    if (wr_cgroup_detect(&pinned_layout, err) < 0)
        return -1;
    layout_pinned = true;
    return 0;
}

void wr_cgroup_scope(const char *state_dir, char out[16])
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const char *p = state_dir; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    snprintf(out, 16, "%08x", h);
}

static unsigned needed_controllers(const struct wr_resources *r)
{
    unsigned m = 0;
    if (r->cpus_milli || r->cpu_shares)
        m |= 1u << WR_CG_CPU | 1u << WR_CG_CPUACCT;
    if (r->has_cpuset_cpus || r->cpuset_mems[0])
        m |= 1u << WR_CG_CPUSET;
    if (r->memory || r->memory_swap || r->memory_reserve)
        m |= 1u << WR_CG_MEMORY;
    if (r->pids_limit)
        m |= 1u << WR_CG_PIDS;
    if (r->hugepages_limit)
        m |= 1u << WR_CG_HUGETLB;
    return m;
}

static int check_writable(const char *mnt, const char *ctrl, wr_error *err)
{
    struct statvfs sv;
    if (statvfs(mnt, &sv) < 0)
        return wr_error_set(err, errno, "cgroup hierarchy %s (%s)", mnt, ctrl);
    if ((sv.f_flag & ST_RDONLY) || access(mnt, W_OK) < 0)
        return wr_error_set(err, 0, "cgroup hierarchy %s (controller %s) is read-only", mnt, ctrl);
    return 0;
}

/* Controllers every container is placed in, limits or not, so that its
 * CPU, memory, pids and block I/O can be read (warmrun stats, metrics,
 * profile): where the host has them, never an error where it does not.
 * Not the cpu controller: its usage is cpuacct's (v1) or the core
 * cpu.stat (v2), and what only it counts (throttling) is 0 without a CPU
 * limit, so a container gets a cpu cgroup only with --cpus/--cpu-shares.
 * On a v1 host with separate hierarchies that is one mkdir, rmdir and
 * in-container cgroup mount less per container (docs/benchmarks.md,
 * "Cheaper cgroups and teardown"). */
#define ACCOUNTING_MASK                                                                            \
    (1u << WR_CG_CPUACCT | 1u << WR_CG_MEMORY | 1u << WR_CG_PIDS | 1u << WR_CG_BLKIO)

static void plan_accounting(struct wr_cgroup *cg)
{
    for (int c = 0; c < WR_CG_N; c++) {
        unsigned bit = 1u << c;
        if (!(ACCOUNTING_MASK & bit) || ((cg->v1_mask | cg->v2_mask) & bit))
            continue;
        if (cg->layout.v1[c][0] && access(cg->layout.v1[c], W_OK) == 0)
            cg->v1_mask |= bit;
        else if (cg->layout.v2[0] && cg->layout.v2_has[c] && c != WR_CG_CPUACCT &&
                 access(cg->layout.v2, W_OK) == 0)
            cg->v2_mask |= bit;
    }
}

int wr_cgroup_plan(struct wr_cgroup *cg, const struct wr_resources *r, wr_error *err)
{
    unsigned need = needed_controllers(r);
    cg->v1_mask = cg->v2_mask = 0;
    cg->limit_mask = need;
    cg->v2_fd = -1;
    if ((need || r->hugepages) && wr_cgroup_detect(&cg->layout, err) < 0)
        return -1;
    for (int c = 0; c < WR_CG_N; c++) {
        if (!(need & (1u << c)))
            continue;
        const char *mnt;
        if (cg->layout.v1[c][0]) {
            cg->v1_mask |= 1u << c;
            mnt = cg->layout.v1[c];
        } else if (cg->layout.v2[0] && cg->layout.v2_has[c]) {
            cg->v2_mask |= 1u << c;
            mnt = cg->layout.v2;
        } else if (c == WR_CG_CPUACCT) {
            continue; /* accounting only: v2's cpu.stat has it */
        } else {
            return wr_error_set(err, 0,
                                "cgroup controller %s is not available on this host "
                                "(neither a v1 hierarchy nor offered by cgroup2)",
                                wr_cgroup_ctrl_name(c));
        }
        if (check_writable(mnt, wr_cgroup_ctrl_name(c), err) < 0)
            return -1;
    }
    /* Hugetlb is optional for --hugepages alone: limit it where we can. */
    if (r->hugepages && !(need & (1u << WR_CG_HUGETLB))) {
        if (cg->layout.v1[WR_CG_HUGETLB][0])
            cg->v1_mask |= 1u << WR_CG_HUGETLB;
        else if (cg->layout.v2[0] && cg->layout.v2_has[WR_CG_HUGETLB])
            cg->v2_mask |= 1u << WR_CG_HUGETLB;
    }
    return 0;
}

/* <mount>/warmrun[/<scope>[/<id>]] */
void wr_cgroup_path(char *out, size_t cap, const char *mnt, const char *scope, const char *id)
{
    if (!scope)
        snprintf(out, cap, "%s/warmrun", mnt);
    else if (!id)
        snprintf(out, cap, "%s/warmrun/%s", mnt, scope);
    else
        snprintf(out, cap, "%s/warmrun/%s/%s", mnt, scope, id);
}

static int make_parent_v1(const char *mnt, enum wr_cg_ctrl c, const char *scope, wr_error *err)
{
    char path[WR_CG_PATH_MAX];
    for (int level = 0; level < 2; level++) {
        wr_cgroup_path(path, sizeof path, mnt, level ? scope : NULL, NULL);
        /* An existing parent is checked too: one made by a run that died
         * before initialising it would refuse every container. */
        if (mkdir(path, 0755) < 0 && errno != EEXIST)
            return wr_error_set(err, errno, "mkdir %s", path);
        if (wr_cgroup_v1_init_parent(path, c, err) < 0)
            return -1;
    }
    return 0;
}

static int make_parent_v2(const struct wr_cgroup *cg, wr_error *err)
{
    char path[WR_CG_PATH_MAX];
    for (int level = 0; level < 3; level++) {
        if (level == 0)
            snprintf(path, sizeof path, "%s", cg->layout.v2);
        else
            wr_cgroup_path(path, sizeof path, cg->layout.v2, level == 2 ? cg->scope : NULL, NULL);
        if (level > 0 && mkdir(path, 0755) < 0 && errno != EEXIST)
            return wr_error_set(err, errno, "mkdir %s", path);
        for (int c = 0; c < WR_CG_N; c++)
            if ((cg->v2_mask & (1u << c)) && wr_cgroup_v2_enable(path, c, err) < 0)
                return -1;
    }
    return 0;
}

/* A v1 mount may carry several controllers (cpu,cpuacct): its directory
 * is made once, by the first of them. */
static bool first_on_mount(const struct wr_cgroup *cg, int c)
{
    for (int o = 0; o < c; o++)
        if ((cg->v1_mask & (1u << o)) && strcmp(cg->layout.v1[o], cg->layout.v1[c]) == 0)
            return false;
    return true;
}

/* A container without a CPU limit is not placed in the cpu controller
 * for accounting (ACCOUNTING_MASK), but it must have a cpu cgroup of its
 * own: left in its shim's, the daemon's, each of its threads weighed as
 * much as the daemon's whole group (a tenant with 24 busy threads slowed
 * every activation of the host 2-4 times), and in one shared cgroup every
 * tenant's threads would weigh alike (a container of 24 busy threads took
 * 24 times the CPU of its neighbour: 7 times slower activations of the
 * neighbour, docs/security.md). Where cpu shares a v1 mount with an
 * accounting controller (cpu,cpuacct) the container is in it already; on
 * cgroup2 it has its own cgroup. So only a v1 cpu hierarchy of its own
 * needs this: one mkdir and rmdir per container, no limit written, no
 * mount in the container. */
static bool plan_cpu_weight_only(struct wr_cgroup *cg)
{
    const char *mnt = cg->layout.v1[WR_CG_CPU];
    cg->cpu_weight_only = false;
    if (!mnt[0] || (cg->v1_mask & (1u << WR_CG_CPU)) || access(mnt, W_OK) < 0)
        return false;
    for (int c = 0; c < WR_CG_N; c++)
        if ((cg->v1_mask & (1u << c)) && strcmp(cg->layout.v1[c], mnt) == 0)
            return false;
    cg->cpu_weight_only = true;
    return true;
}

/* The scope directory <mnt>/warmrun/<scope> of controller c's v1
 * hierarchy, opened O_PATH (held in scope_fd[c]), made with its parent
 * only when it is not there: an existing one is not made again (two
 * mkdir calls that fail EEXIST, per hierarchy and container), except
 * cpuset's, whose parents make_parent_v1 checks every time. */
static int open_scope_v1(struct wr_cgroup *cg, enum wr_cg_ctrl c, wr_error *err)
{
    char path[WR_CG_PATH_MAX];
    const char *mnt = cg->layout.v1[c];
    wr_cgroup_path(path, sizeof path, mnt, cg->scope, NULL);
    int fd = c == WR_CG_CPUSET ? -1 : open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        if (make_parent_v1(mnt, c, cg->scope, err) < 0)
            return -1;
        fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
            return wr_error_set(err, errno, "open %s", path);
    }
    cg->scope_fd[c] = fd;
    return 0;
}

/* The container's directory in controller c's v1 hierarchy, under its
 * scope directory. */
static int make_dir_v1(struct wr_cgroup *cg, enum wr_cg_ctrl c, wr_error *err)
{
    for (int attempt = 0;; attempt++) {
        if (open_scope_v1(cg, c, err) < 0)
            return -1;
        if (mkdirat(cg->scope_fd[c], cg->id, 0755) == 0 || errno == EEXIST)
            return 0;
        /* The scope directory went between its open and the mkdir (a
         * daemon's shutdown removes it once empty): made again, once. */
        if (errno != ENOENT || attempt > 0)
            return wr_error_set(err, errno, "mkdir %s/warmrun/%s/%s", cg->layout.v1[c], cg->scope,
                                cg->id);
        close(cg->scope_fd[c]);
        cg->scope_fd[c] = -1;
    }
}

int wr_cgroup_create(struct wr_cgroup *cg, const char *state_dir, const char *id,
                     const struct wr_resources *r, wr_error *err)
{
    char path[WR_CG_PATH_MAX];
    memset(cg, 0, sizeof *cg);
    cg->v2_fd = -1;
    for (int c = 0; c < WR_CG_N; c++)
        cg->scope_fd[c] = -1;
    cg->scope_fds = true;
    wr_cgroup_scope(state_dir, cg->scope);
    snprintf(cg->id, sizeof cg->id, "%s", id);
    if (wr_cgroup_plan(cg, r, err) < 0)
        return -1;
    if (!cg->limit_mask && !r->hugepages && wr_cgroup_detect(&cg->layout, err) < 0)
        return -1;
    if (cg->limit_mask & (1u << WR_CG_HUGETLB) || r->hugepages)
        cg->limit_mask |= 1u << WR_CG_HUGETLB;
    plan_accounting(cg);
    cg->created = true;
    if (plan_cpu_weight_only(cg) && make_dir_v1(cg, WR_CG_CPU, err) < 0)
        goto fail;
    for (int c = 0; c < WR_CG_N; c++) {
        if (!(cg->v1_mask & (1u << c)))
            continue;
        wr_cgroup_path(path, sizeof path, cg->layout.v1[c], cg->scope, id);
        if (first_on_mount(cg, c) && make_dir_v1(cg, c, err) < 0)
            goto fail;
        if ((cg->limit_mask & (1u << c)) && wr_cgroup_v1_apply(path, c, r, err) < 0)
            goto fail;
    }
    if (cg->v2_mask) {
        if (make_parent_v2(cg, err) < 0)
            goto fail;
        wr_cgroup_path(path, sizeof path, cg->layout.v2, cg->scope, id);
        if (mkdir(path, 0755) < 0 && errno != EEXIST) {
            wr_error_set(err, errno, "mkdir %s", path);
            goto fail;
        }
        for (int c = 0; c < WR_CG_N; c++)
            if ((cg->v2_mask & cg->limit_mask & (1u << c)) &&
                wr_cgroup_v2_apply(path, c, r, err) < 0)
                goto fail;
        cg->v2_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (cg->v2_fd < 0) {
            wr_error_set(err, errno, "open %s", path);
            goto fail;
        }
    }
    return 0;
fail:
    wr_cgroup_remove(cg);
    return -1;
}

/* <id>/<file> of controller c's hierarchy: relative to its scope
 * directory when held (*dirfd), else the whole path from /. */
static void v1_file(const struct wr_cgroup *cg, enum wr_cg_ctrl c, const char *file, int *dirfd,
                    char *out, size_t cap)
{
    if (cg->scope_fds && cg->scope_fd[c] >= 0) {
        *dirfd = cg->scope_fd[c];
        snprintf(out, cap, "%s/%s", cg->id, file);
        return;
    }
    char dir[WR_CG_PATH_MAX];
    *dirfd = AT_FDCWD;
    wr_cgroup_path(dir, sizeof dir, cg->layout.v1[c], cg->scope, cg->id);
    snprintf(out, cap, "%s/%s", dir, file);
}

int wr_cgroup_attach_v1(const struct wr_cgroup *cg, pid_t pid, wr_error *err)
{
    char path[WR_CG_PATH_MAX + 64], value[16];
    int dirfd;
    snprintf(value, sizeof value, "%d", (int)pid);
    for (int c = 0; c < WR_CG_N; c++) {
        bool weight = c == WR_CG_CPU && cg->cpu_weight_only;
        if (!weight && (!(cg->v1_mask & (1u << c)) || !first_on_mount(cg, c)))
            continue;
        v1_file(cg, (enum wr_cg_ctrl)c, "cgroup.procs", &dirfd, path, sizeof path);
        if (wr_cgroup_write_at(dirfd, path, value, err) < 0)
            return -1;
    }
    return 0;
}

long wr_cgroup_oom_kills(const struct wr_cgroup *cg)
{
    char path[WR_CG_PATH_MAX];
    if (cg->v1_mask & (1u << WR_CG_MEMORY)) {
        char file[WR_CG_PATH_MAX + 64];
        int dirfd;
        v1_file(cg, WR_CG_MEMORY, "memory.oom_control", &dirfd, file, sizeof file);
        return wr_cgroup_read_key_at(dirfd, file, "oom_kill");
    }
    if (cg->v2_mask & (1u << WR_CG_MEMORY)) {
        wr_cgroup_path(path, sizeof path, cg->layout.v2, cg->scope, cg->id);
        return wr_cgroup_v2_oom_kills(path);
    }
    return 0;
}

static void remove_dir(const char *path)
{
    /* The container's pid 1 is reaped, but its last tasks may still be on
     * their way out of the cgroup: retry briefly on EBUSY. With the child
     * cgroups a workload may have made in it (cgroup_tree.h). */
    for (int i = 0; i < REMOVE_TRIES; i++) {
        if (wr_cgroup_rmdir_tree(path) == 0 || errno != EBUSY)
            return;
        usleep(2000);
    }
}

/* Removes controller c's directory of the container: first by one rmdir
 * relative to its scope directory, where held; the path from / when that
 * is not enough (EBUSY: tasks on their way out, or child cgroups). */
static void remove_v1(struct wr_cgroup *cg, enum wr_cg_ctrl c)
{
    char path[WR_CG_PATH_MAX];
    int fd = cg->scope_fds ? cg->scope_fd[c] : -1;
    if (fd >= 0) {
        cg->scope_fd[c] = -1;
        int rc = unlinkat(fd, cg->id, AT_REMOVEDIR);
        int saved = errno;
        close(fd);
        if (rc == 0 || saved != EBUSY)
            return;
    }
    wr_cgroup_path(path, sizeof path, cg->layout.v1[c], cg->scope, cg->id);
    remove_dir(path);
}

void wr_cgroup_remove(struct wr_cgroup *cg)
{
    char path[WR_CG_PATH_MAX];
    if (cg->v2_fd >= 0)
        close(cg->v2_fd);
    cg->v2_fd = -1;
    if (!cg->created) {
        for (int c = 0; cg->scope_fds && c < WR_CG_N; c++)
            if (cg->scope_fd[c] >= 0) {
                close(cg->scope_fd[c]);
                cg->scope_fd[c] = -1;
            }
        return;
    }
    for (int c = 0; c < WR_CG_N; c++) {
        if (!(cg->v1_mask & (1u << c)) || !first_on_mount(cg, c))
            continue;
        remove_v1(cg, (enum wr_cg_ctrl)c);
    }
    if (cg->cpu_weight_only)
        remove_v1(cg, WR_CG_CPU);
    if (cg->v2_mask) {
        wr_cgroup_path(path, sizeof path, cg->layout.v2, cg->scope, cg->id);
        remove_dir(path);
    }
    cg->created = false;
}

long wr_cgroup_oom_kills_of(const char *state_dir, const char *id)
{
    /* Asked for every container of a ps: detect the hierarchies once. */
    static struct wr_cgroup_layout l;
    static int detected;
    char scope[16], path[WR_CG_PATH_MAX];
    wr_error err;
    if (!detected)
        detected = wr_cgroup_detect(&l, &err) == 0 ? 1 : -1;
    if (detected < 0)
        return 0;
    wr_cgroup_scope(state_dir, scope);
    if (l.v1[WR_CG_MEMORY][0]) {
        wr_cgroup_path(path, sizeof path, l.v1[WR_CG_MEMORY], scope, id);
        return wr_cgroup_v1_oom_kills(path);
    }
    if (l.v2[0]) {
        wr_cgroup_path(path, sizeof path, l.v2, scope, id);
        return wr_cgroup_v2_oom_kills(path);
    }
    return 0;
}

void wr_cgroup_remove_by_id(const char *state_dir, const char *id)
{
    struct wr_cgroup cg = {.v2_fd = -1, .created = true};
    wr_error err;
    if (wr_cgroup_detect(&cg.layout, &err) < 0)
        return;
    wr_cgroup_scope(state_dir, cg.scope);
    snprintf(cg.id, sizeof cg.id, "%s", id);
    for (int c = 0; c < WR_CG_N; c++) {
        char path[WR_CG_PATH_MAX];
        if (!cg.layout.v1[c][0])
            continue;
        wr_cgroup_path(path, sizeof path, cg.layout.v1[c], cg.scope, id);
        if (access(path, F_OK) == 0)
            cg.v1_mask |= 1u << c;
    }
    cg.v2_mask = cg.layout.v2[0] ? 1u : 0;
    wr_cgroup_remove(&cg);
}

/* Every distinct hierarchy mount (v1 ones of our controllers, and v2). */
static size_t hierarchy_mounts(const struct wr_cgroup_layout *l, const char *out[WR_CG_N + 1])
{
    size_t n = 0;
    for (int c = 0; c < WR_CG_N; c++) {
        if (!l->v1[c][0])
            continue;
        bool seen = false;
        for (size_t i = 0; i < n; i++)
            seen |= strcmp(out[i], l->v1[c]) == 0;
        if (!seen)
            out[n++] = l->v1[c];
    }
    if (l->v2[0])
        out[n++] = l->v2;
    return n;
}

static size_t walk_scope(const char *state_dir, bool (*live)(const char *id, void *ctx), void *ctx,
                         bool remove)
{
    struct wr_cgroup_layout l;
    const char *mounts[WR_CG_N + 1];
    char scope[16], dir[WR_CG_PATH_MAX], path[WR_CG_PATH_MAX * 2];
    wr_error err;
    size_t count = 0;
    if (wr_cgroup_detect(&l, &err) < 0)
        return 0;
    wr_cgroup_scope(state_dir, scope);
    size_t n = hierarchy_mounts(&l, mounts);
    time_t now = time(NULL);
    for (size_t i = 0; i < n; i++) {
        wr_cgroup_path(dir, sizeof dir, mounts[i], scope, NULL);
        cleanup_closedir DIR *d = opendir(dir);
        struct dirent *de;
        while (d && (de = readdir(d))) {
            struct stat st;
            if (de->d_type != DT_DIR || de->d_name[0] == '.')
                continue;
            snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
            if (!remove) {
                count++;
                continue;
            }
            if ((live && live(de->d_name, ctx)) || stat(path, &st) < 0 ||
                now - st.st_mtime < SWEEP_MIN_AGE_S)
                continue;
            if (wr_cgroup_rmdir_tree(path) == 0)
                count++;
        }
    }
    return count;
}

size_t wr_cgroup_sweep(const char *state_dir, bool (*live)(const char *id, void *ctx), void *ctx)
{
    return walk_scope(state_dir, live, ctx, true);
}

/* This state dir's scope directory in every hierarchy: removed where
 * empty (remove), or only looked for. Returns how many went, or how many
 * exist. */
static size_t scope_dirs(const char *state_dir, bool remove)
{
    struct wr_cgroup_layout l;
    const char *mounts[WR_CG_N + 1];
    char scope[16], dir[WR_CG_PATH_MAX];
    wr_error err;
    size_t count = 0;
    if (wr_cgroup_detect(&l, &err) < 0)
        return 0;
    wr_cgroup_scope(state_dir, scope);
    size_t n = hierarchy_mounts(&l, mounts);
    for (size_t i = 0; i < n; i++) {
        wr_cgroup_path(dir, sizeof dir, mounts[i], scope, NULL);
        /* rmdir(2) of a cgroup fails (EBUSY, ENOTEMPTY) while it has a
         * child cgroup or a task: exactly the ones to keep. */
        count += remove ? rmdir(dir) == 0 : access(dir, F_OK) == 0;
    }
    return count;
}

size_t wr_cgroup_scope_remove(const char *state_dir)
{
    return scope_dirs(state_dir, true);
}

size_t wr_cgroup_scope_left(const char *state_dir)
{
    return scope_dirs(state_dir, false);
}

size_t wr_cgroup_count(const char *state_dir)
{
    return walk_scope(state_dir, NULL, NULL, false);
}
