/* Resource settings: parsing with its errors, canonical round trips
 * (argv and JSON), environment tuning, cgroup detection from a mountinfo,
 * the cgroup v2 backend against the host's real cgroup2 mount (when it is
 * writable), and prefault's ELF walk against the host's own /bin/ls. */
#include "lib/cgroup.h"
#include "lib/image_store.h"
#include "daemon/prefault.h"
#include "lib/protocol.h"
#include "lib/resources.h"
#include "tap.h"
#include "lib/cpumask.h"
#include "lib/cgroup_v2.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void test_sizes(void)
{
    uint64_t v;
    wr_error err;
    ok(wr_parse_size("512m", &v, &err) == 0 && v == 512ULL << 20, "512m");
    ok(wr_parse_size("1g", &v, &err) == 0 && v == 1ULL << 30, "1g");
    ok(wr_parse_size("64MB", &v, &err) == 0 && v == 64ULL << 20, "64MB");
    ok(wr_parse_size("4096", &v, &err) == 0 && v == 4096, "plain bytes");
    ok(wr_parse_size("12Q", &v, &err) < 0 && strstr(err.msg, "suffix \"Q\""), "12Q: %s", err.msg);
    ok(wr_parse_size("-5m", &v, &err) < 0 && strstr(err.msg, "negative"), "-5m: %s", err.msg);
    ok(wr_parse_size("99999999999999t", &v, &err) < 0 && strstr(err.msg, "too large"),
       "overflow: %s", err.msg);
    ok(wr_parse_size("", &v, &err) < 0, "empty refused");
    ok(wr_parse_size("1.5g", &v, &err) < 0, "fractions refused");
}

static void test_set_errors(void)
{
    struct wr_resources r = {0};
    wr_error err;
    ok(wr_resources_set(&r, "cpus", "1.5", &err) == 0 && r.cpus_milli == 1500, "--cpus 1.5");
    ok(wr_resources_set(&r, "cpus", "0.25", &err) == 0 && r.cpus_milli == 250, "--cpus 0.25");
    ok(wr_resources_set(&r, "cpus", "0", &err) < 0, "--cpus 0 refused");
    ok(wr_resources_set(&r, "cpus", "-1", &err) < 0 && strstr(err.msg, "--cpus -1"),
       "--cpus -1: %s", err.msg);
    ok(wr_resources_set(&r, "cpus", "x", &err) < 0, "--cpus x refused");
    ok(wr_resources_set(&r, "memory", "12Q", &err) < 0 && strstr(err.msg, "--memory 12Q"),
       "error names the option: %s", err.msg);
    ok(wr_resources_set(&r, "pids-limit", "0", &err) < 0, "--pids-limit 0 refused");
    ok(wr_resources_set(&r, "pids-limit", "-1", &err) == 0 && r.pids_limit == -1,
       "--pids-limit -1 is unlimited");
    ok(wr_resources_set(&r, "cpu-shares", "1", &err) < 0, "--cpu-shares 1 refused");
    ok(wr_resources_set(&r, "cpuset-cpus", "3-1", &err) < 0, "descending range refused");
    ok(wr_resources_set(&r, "cpuset-cpus", "0,", &err) < 0, "trailing comma refused");
    ok(wr_resources_set(&r, "cpu-spread-policy", "random", &err) < 0, "unknown policy refused");
    ok(wr_resources_set(&r, "prefault-files", "bin/sh", &err) < 0, "relative prefault path");
    ok(wr_resources_set(&r, "bogus", "1", &err) < 0 && strstr(err.msg, "unknown"), "unknown knob");
    ok(wr_resources_set(&r, "memory", NULL, &err) < 0, "a value is required");
}

static void test_cpu_lists(void)
{
    cpu_set_t set;
    char out[64];
    wr_error err;
    ok(wr_parse_cpu_list("0-3,6,8-9", &set, &err) == 0 && CPU_COUNT(&set) == 7, "parse list");
    wr_format_cpu_list(&set, out, sizeof out);
    is_str(out, "0-3,6,8-9", "format list");
    ok(wr_parse_cpu_list("2000", &set, &err) < 0, "CPU beyond CPU_SETSIZE refused");
}

static int collect(const char *key, const char *value, void *ctx)
{
    struct wr_resources *r = ctx;
    wr_error err;
    return wr_resources_set(r, key, value, &err);
}

static void test_round_trips(void)
{
    struct wr_resources r = {0}, back = {0};
    wr_error err;
    const char *in[][2] = {{"cpus", "1.5"},
                           {"cpu-shares", "512"},
                           {"cpuset-cpus", "0-1"},
                           {"cpuset-mems", "0"},
                           {"memory", "512m"},
                           {"memory-swap", "-1"},
                           {"memory-reservation", "256m"},
                           {"pids-limit", "100"},
                           {"hugepages-limit", "8m"},
                           {"hugepages", "4m"},
                           {"hugepages-reserve", NULL},
                           {"mlock", "1m"},
                           {"cpu-spread", "0,1"},
                           {"cpu-spread-policy", "least-loaded"},
                           {"no-prefault", NULL},
                           {"prefault-files", "/bin/sh,/lib/x"},
                           {"tune-env", NULL}};
    bool all = true;
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++)
        all &= wr_resources_set(&r, in[i][0], in[i][1], &err) == 0;
    ok(all, "every knob sets");
    ok(wr_resources_each(&r, collect, &back) == 0 && memcmp(&r, &back, sizeof r) == 0,
       "canonical values give the same settings back");

    struct wr_request req = {
        .op = WR_OP_POOL_CREATE, .image = (char *)"busybox", .size = 2, .resources = r};
    size_t len;
    char *json = wr_request_encode(&req, &len, &err);
    struct wr_request parsed;
    ok(json && wr_request_parse(json, len, &parsed, &err) == 0 &&
           memcmp(&parsed.resources, &r, sizeof r) == 0,
       "pool_create resources survive JSON");
    wr_request_free(&parsed);
    free(json);

    const char *bad = "{\"op\":\"pool_create\",\"image\":\"b\",\"size\":1,"
                      "\"resources\":{\"memory\":\"12Q\"}}";
    ok(wr_request_parse(bad, strlen(bad), &parsed, &err) < 0 && strstr(err.msg, "12Q"),
       "bad resource in JSON: %s", err.msg);
    const char *num = "{\"op\":\"pool_create\",\"image\":\"b\",\"size\":1,"
                      "\"resources\":{\"memory\":67108864,\"tune-env\":true}}";
    ok(wr_request_parse(num, strlen(num), &parsed, &err) == 0 &&
           parsed.resources.memory == 64 << 20 && parsed.resources.tune_env,
       "numbers and flags in JSON");
    wr_request_free(&parsed);
}

static void test_env(void)
{
    struct wr_resources r = {0};
    struct wr_resources_env env;
    wr_error err;
    wr_resources_env(&r, &env);
    ok(env.vec[0] == NULL, "no environment unless asked");
    wr_resources_set(&r, "tune-env", NULL, &err);
    wr_resources_set(&r, "cpuset-cpus", "0", &err);
    wr_resources_set(&r, "hugepages", "2m", &err);
    wr_resources_env(&r, &env);
    bool gomax = false, huge = false;
    for (size_t i = 0; env.vec[i]; i++) {
        gomax |= strcmp(env.vec[i], "GOMAXPROCS=1") == 0;
        huge |= strcmp(env.vec[i], "WARMRUN_HUGEPAGE_FD=100") == 0;
    }
    ok(gomax, "GOMAXPROCS follows the cpuset");
    ok(huge, "WARMRUN_HUGEPAGE_FD is set");
}

static void test_detect(void)
{
    char path[] = "/tmp/wr-mountinfo-XXXXXX";
    int fd = mkstemp(path);
    const char *text = "30 22 0:27 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n"
                       "31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
                       "34 30 0:31 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
                       "35 30 0:31 /sub /mnt/x rw - cgroup cgroup rw,pids\n"
                       "40 30 0:37 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n";
    ok(fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text), "fake mountinfo");
    close(fd);
    setenv("WARMRUN_MOUNTINFO", path, 1);
    struct wr_cgroup_layout l;
    wr_error err;
    ok(wr_cgroup_detect(&l, &err) == 0, "detect");
    is_str(l.v1[WR_CG_CPU], "/sys/fs/cgroup/cpu,cpuacct", "cpu on its v1 hierarchy");
    is_str(l.v1[WR_CG_CPUACCT], "/sys/fs/cgroup/cpu,cpuacct", "cpuacct co-mounted");
    is_str(l.v1[WR_CG_MEMORY], "/sys/fs/cgroup/memory", "memory on v1");
    is_str(l.v1[WR_CG_PIDS], "", "a bind of a sub-tree is not a hierarchy");
    is_str(l.v2, "/sys/fs/cgroup/unified", "cgroup2 found");
    unsetenv("WARMRUN_MOUNTINFO");
    unlink(path);
}

/* The v2 backend on the host's cgroup2 mount: a cgroup with a pids or
 * hugetlb limit, a child cloned into it, the limit read back, removal. */
static void test_v2_backend(void)
{
    struct wr_cgroup_layout l;
    wr_error err;
    if (wr_cgroup_detect(&l, &err) < 0 || !l.v2[0] || access(l.v2, W_OK) < 0 ||
        (!l.v2_has[WR_CG_HUGETLB] && !l.v2_has[WR_CG_PIDS])) {
        skip(5, "no writable cgroup2 mount with pids or hugetlb");
        return;
    }
    enum wr_cg_ctrl c = l.v2_has[WR_CG_PIDS] ? WR_CG_PIDS : WR_CG_HUGETLB;
    struct wr_resources r = {0};
    r.pids_limit = 7;
    r.hugepages_limit = 8 << 20;
    char dir[256], state[64], file[300], buf[64] = "";
    snprintf(state, sizeof state, "/test-resources-%d", (int)getpid());
    char scope[16];
    wr_cgroup_scope(state, scope);
    snprintf(dir, sizeof dir, "%s/warmrun/%s", l.v2, scope);
    mkdir(l.v2 + 0, 0755);
    snprintf(file, sizeof file, "%s/warmrun", l.v2);
    mkdir(file, 0755);
    mkdir(dir, 0755);
    int rc = wr_cgroup_v2_enable(l.v2, c, &err);
    if (rc == 0)
        rc = wr_cgroup_v2_enable(file, c, &err);
    if (rc == 0)
        rc = wr_cgroup_v2_enable(dir, c, &err);
    ok(rc == 0, "enable %s down to the scope: %s", wr_cgroup_ctrl_name(c), rc ? err.msg : "");
    strcat(dir, "/abcdef012345");
    ok(mkdir(dir, 0755) == 0 && wr_cgroup_v2_apply(dir, c, &r, &err) == 0, "apply the limit");
    snprintf(file, sizeof file, "%s/%s", dir, c == WR_CG_PIDS ? "pids.max" : "hugetlb.2MB.max");
    int fd = open(file, O_RDONLY);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
    if (fd >= 0)
        close(fd);
    buf[n > 0 ? n : 0] = '\0';
    ok(strtoull(buf, NULL, 10) == (c == WR_CG_PIDS ? 7ULL : 8ULL << 20), "limit reads back: %s",
       buf);
    int cgfd = open(dir, O_RDONLY | O_DIRECTORY);
    struct clone_args args = {
        .flags = CLONE_INTO_CGROUP, .exit_signal = SIGCHLD, .cgroup = (uint64_t)cgfd};
    pid_t pid = (pid_t)syscall(SYS_clone3, &args, sizeof args);
    if (pid == 0) {
        char line[256];
        FILE *f = fopen("/proc/self/cgroup", "r");
        while (f && fgets(line, sizeof line, f))
            if (strncmp(line, "0::", 3) == 0 && strstr(line, "abcdef012345"))
                _exit(0);
        _exit(1);
    }
    int status = -1;
    if (pid > 0)
        waitpid(pid, &status, 0);
    ok(pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0, "clone3 CLONE_INTO_CGROUP");
    close(cgfd);
    ok(rmdir(dir) == 0, "the cgroup is removed once empty");
    snprintf(file, sizeof file, "%s/warmrun/%s", l.v2, scope);
    rmdir(file);
}

static void test_prefault(void)
{
    if (access("/bin/ls", R_OK) < 0) {
        skip(3, "no /bin/ls");
        return;
    }
    char *ep[] = {(char *)"ls", NULL}, *env[] = {(char *)"PATH=/bin", NULL};
    struct wr_image img = {.lowerdir = (char *)"/nonexistent:/", .entrypoint = ep, .env = env};
    struct wr_prefault_stats st;
    size_t n = wr_prefault_image(&img, "/etc/hostname,/missing", &st);
    bool ls = false, interp = false, libc = false, extra = false;
    for (size_t i = 0; i < n; i++) {
        ls |= strcmp(st.paths[i], "/bin/ls") == 0;
        interp |= strstr(st.paths[i], "ld-linux") != NULL;
        libc |= strstr(st.paths[i], "libc.so") != NULL;
        extra |= strcmp(st.paths[i], "/etc/hostname") == 0;
    }
    ok(ls && extra, "the command and the configured file (%zu files, %zu bytes)", n, st.bytes);
    ok(interp, "the ELF interpreter");
    ok(libc, "DT_NEEDED libraries");
}

int main(void)
{
    test_sizes();
    test_set_errors();
    test_cpu_lists();
    test_round_trips();
    test_env();
    test_detect();
    test_v2_backend();
    test_prefault();
    return done_testing();
}
