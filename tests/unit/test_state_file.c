/* TAP test of runtime/lib/state_file.c in a temporary directory: state dir
 * preparation, record write/read/remove, malformed records, and the
 * pid + start time liveness check. Needs no privileges (as root, the
 * records' tmpfs is mounted and checked too). */
#include "lib/state_file.h"
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

static char tmp[256];
static char state[320];

/* The starttime field (22) of /proc/<pid>/stat, parsed independently of the
 * code under test: fields are counted after the last ')'. 0 on failure. */
static uint64_t real_start_time(pid_t pid)
{
    char path[64], buf[2048];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    if (!p)
        return 0;
    /* p + 2 is field 3 (state); advance 19 fields to reach field 22. */
    p += 2;
    for (int field = 3; field < 22; field++) {
        p = strchr(p, ' ');
        if (!p)
            return 0;
        p++;
    }
    return strtoull(p, NULL, 10);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0)
        bail_out("write %s: %s", path, strerror(errno));
}

static bool is_dir_0700(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0700;
}

static void test_prepare(void)
{
    char path[512];
    wr_error err = {0};

    wr_error note;
    is_int(wr_state_dir_prepare(state, &note, &err), 0, "wr_state_dir_prepare creates %s (%s)",
           state, err.msg);
    ok(is_dir_0700(state), "  the state dir is a directory with mode 0700");
    snprintf(path, sizeof path, "%s/containers", state);
    ok(is_dir_0700(path), "  containers/ is a directory with mode 0700");
    struct statfs sf;
    ok(statfs(path, &sf) == 0 && (sf.f_type == TMPFS_MAGIC) == (note.msg[0] == '\0'),
       "  containers/ is a tmpfs, or the note says why not (%s)", note.msg);
    snprintf(path, sizeof path, "%s/mnt", state);
    ok(is_dir_0700(path), "  mnt/ is a directory with mode 0700");
    snprintf(path, sizeof path, "%s/empty", state);
    ok(is_dir_0700(path), "  empty/ is a directory with mode 0700");
    is_int(wr_state_dir_prepare(state, NULL, &err), 0, "preparing again is harmless (%s)", err.msg);

    static const char *const rel[] = {"relative/state", "rel-state", "./rel-dot", ""};
    for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
        memset(&err, 0, sizeof err);
        ok(wr_state_dir_prepare(rel[i], NULL, &err) < 0 && err.msg[0],
           "relative path \"%s\" is refused (%s)", rel[i], err.msg);
    }
    struct stat st;
    ok(stat("relative", &st) < 0 && stat("rel-state", &st) < 0 && stat("rel-dot", &st) < 0,
       "  and nothing was created");

    /* A parent that does not exist is an error, not a crash. */
    snprintf(path, sizeof path, "%s/no/such/parent", tmp);
    memset(&err, 0, sizeof err);
    ok(wr_state_dir_prepare(path, NULL, &err) < 0 && err.errnum == ENOENT,
       "a missing parent gives ENOENT (%s)", err.msg);
    /* A state dir that is a file. */
    snprintf(path, sizeof path, "%s/file", tmp);
    write_text(path, "");
    memset(&err, 0, sizeof err);
    ok(wr_state_dir_prepare(path, NULL, &err) < 0 && err.errnum == ENOTDIR,
       "a state dir that is a regular file is refused (%s)", err.msg);
}

/* A record's pid 1 is told apart from a reused pid by its start time. */
static void test_child_pidfd(void)
{
    struct wr_state_record rec = {.child_pid = getpid()};
    wr_error err = {0};
    ok(wr_state_child_pidfd(&rec) < 0, "no pidfd for a record without child_start");
    ok(wr_proc_start_time(getpid(), &rec.child_start, &err) == 0, "our own start time");
    int fd = wr_state_child_pidfd(&rec);
    ok(fd >= 0, "a pidfd for a record naming a live process and its start time");
    if (fd >= 0)
        close(fd);
    rec.child_start++;
    ok(wr_state_child_pidfd(&rec) < 0, "none when the start time differs (a reused pid)");
}

static void test_round_trip(void)
{
    struct wr_state_record in = {.id = "0123456789ab",
                                 .shim_pid = 4242,
                                 .shim_start = 18446744073709551615ULL,
                                 .child_pid = 4243,
                                 .child_start = 123456789012ULL,
                                 .created = -1700000000,
                                 .image = "library/busybox:1.36"};
    struct wr_state_record out;
    char path[512];
    wr_error err = {0};
    struct stat st;

    is_int(wr_state_write(state, &in, &err), 0, "write a record (%s)", err.msg);
    snprintf(path, sizeof path, "%s/containers/0123456789ab", state);
    ok(stat(path, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0777) == 0600,
       "  containers/<id> is a regular file with mode 0600");
    snprintf(path, sizeof path, "%s/containers/0123456789ab.tmp", state);
    ok(stat(path, &st) < 0 && errno == ENOENT, "  no .tmp file is left behind");
    memset(&out, 0xa5, sizeof out);
    is_int(wr_state_read(state, "0123456789ab", &out, &err), 0, "read it back (%s)", err.msg);
    is_str(out.id, in.id, "  id");
    is_int(out.shim_pid, in.shim_pid, "  shim_pid");
    ok(out.shim_start == in.shim_start, "  shim_start (UINT64_MAX) survives: %" PRIu64,
       out.shim_start);
    is_int(out.child_pid, in.child_pid, "  child_pid");
    ok(out.child_start == in.child_start, "  child_start");
    is_int(out.created, in.created, "  created (negative)");
    is_str(out.image, in.image, "  image");

    /* Writing again replaces the record. */
    in.child_pid = 99;
    snprintf(in.image, sizeof in.image, "alpine");
    wr_state_write(state, &in, &err);
    ok(wr_state_read(state, "0123456789ab", &out, &err) == 0 && out.child_pid == 99 &&
           !strcmp(out.image, "alpine"),
       "a second write replaces the record");

    /* The longest image fits. */
    memset(in.image, 'i', sizeof in.image - 1);
    in.image[sizeof in.image - 1] = '\0';
    ok(wr_state_write(state, &in, &err) == 0 &&
           wr_state_read(state, "0123456789ab", &out, &err) == 0 &&
           strlen(out.image) == sizeof in.image - 1,
       "a 255-byte image survives (%s)", err.msg);

    /* Remove. */
    wr_state_remove(state, "0123456789ab");
    snprintf(path, sizeof path, "%s/containers/0123456789ab", state);
    ok(stat(path, &st) < 0 && errno == ENOENT, "wr_state_remove deletes the record");
    memset(&err, 0, sizeof err);
    ok(wr_state_read(state, "0123456789ab", &out, &err) < 0 && err.errnum == ENOENT,
       "reading a removed record gives ENOENT (%s)", err.msg);
    wr_state_remove(state, "0123456789ab");
    ok(1, "removing a missing record is harmless");

    /* Writing into a state dir that was never prepared fails cleanly. */
    char missing[400];
    snprintf(missing, sizeof missing, "%s/unprepared", tmp);
    memset(&err, 0, sizeof err);
    ok(wr_state_write(missing, &in, &err) < 0 && err.errnum == ENOENT,
       "writing without containers/ gives ENOENT (%s)", err.msg);
}

/* Writes containers/<id> with the given text and expects the read to fail. */
static void malformed(const char *id, const char *text, const char *what)
{
    char path[512];
    struct wr_state_record out;
    wr_error err = {0};
    snprintf(path, sizeof path, "%s/containers/%s", state, id);
    write_text(path, text);
    ok(wr_state_read(state, id, &out, &err) < 0 && err.msg[0] && strstr(err.msg, "malformed"),
       "rejects %s (%s)", what, err.msg);
    unlink(path);
}

static void test_malformed(void)
{
    malformed("aaaaaaaaaaaa", "", "an empty file");
    malformed("aaaaaaaaaaaa", "garbage\nmore garbage\n", "lines without '='");
    malformed("aaaaaaaaaaaa", "\x01\x02\xff\xfe", "binary junk");
    malformed("aaaaaaaaaaaa", "id=aaaaaaaaaaaa\n", "a record without shim_pid");
    malformed("aaaaaaaaaaaa", "id=aaaaaaaaaaaa\nshim_pid=0\n", "shim_pid 0");
    malformed("aaaaaaaaaaaa", "id=aaaaaaaaaaaa\nshim_pid=-5\n", "a negative shim_pid");
    malformed("aaaaaaaaaaaa", "id=aaaaaaaaaaaa\nshim_pid=abc\n", "a shim_pid that is not a number");
    malformed("aaaaaaaaaaaa", "shim_pid=5\n", "a record without id");
    malformed("aaaaaaaaaaaa", "id=bbbbbbbbbbbb\nshim_pid=5\n", "a record naming another id");
    malformed("aaaaaaaaaaaa", "id=aaaaaaaaaaaax\nshim_pid=5\n", "an id with a suffix");

    /* Unknown keys are ignored; a minimal record is enough. */
    char path[512];
    struct wr_state_record out;
    wr_error err = {0};
    snprintf(path, sizeof path, "%s/containers/cccccccccccc", state);
    write_text(path, "future=1\nid=cccccccccccc\nshim_pid=7\n");
    ok(wr_state_read(state, "cccccccccccc", &out, &err) == 0 && out.shim_pid == 7 &&
           out.shim_start == 0 && !out.image[0],
       "a minimal record with an unknown key is read (%s)", err.msg);
    unlink(path);
}

static void test_alive(void)
{
    wr_error err = {0};
    uint64_t start = 0, real = real_start_time(getpid());
    if (real == 0)
        bail_out("cannot parse /proc/self/stat");

    ok(wr_proc_start_time(getpid(), &start, &err) == 0, "wr_proc_start_time(getpid()) (%s)",
       err.msg);
    ok(start == real,
       "  it is starttime, field 22 of /proc/self/stat (got %" PRIu64 ", want %" PRIu64 ")", start,
       real);

    struct wr_state_record rec = {.id = "0123456789ab", .shim_pid = getpid(), .shim_start = real};
    ok(wr_state_shim_alive(&rec), "the live test process with its real start time is alive");

    /* The start time of a process does not change as its memory grows: a
     * record written earlier must still match. */
    uint64_t before = 0, after = 0;
    wr_proc_start_time(getpid(), &before, &err);
    size_t big = 64 << 20;
    void *m = mmap(NULL, big, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        bail_out("mmap: %s", strerror(errno));
    wr_proc_start_time(getpid(), &after, &err);
    munmap(m, big);
    ok(before == after,
       "the recorded start time is stable across a 64 MiB mmap (%" PRIu64 " vs %" PRIu64 ")",
       before, after);

    rec.shim_start = real + 1;
    ok(!wr_state_shim_alive(&rec), "a wrong start time (a reused pid) is not alive");
    rec.shim_start = 0;
    ok(!wr_state_shim_alive(&rec), "start time 0 is not alive");

    /* A dead pid: fork a child, reap it, use its pid. */
    pid_t pid = fork();
    if (pid < 0)
        bail_out("fork: %s", strerror(errno));
    if (pid == 0)
        _exit(0);
    waitpid(pid, NULL, 0);
    rec.shim_pid = pid;
    rec.shim_start = real;
    ok(!wr_state_shim_alive(&rec), "a reaped child's pid is not alive");
    memset(&err, 0, sizeof err);
    ok(wr_proc_start_time(pid, &start, &err) < 0 && err.errnum == ENOENT,
       "wr_proc_start_time of a dead pid gives ENOENT (%s)", err.msg);

    /* A live child whose name holds spaces and parentheses, which a naive
     * field split of /proc/PID/stat gets wrong. */
    int go[2], done[2];
    if (pipe(go) < 0 || pipe(done) < 0)
        bail_out("pipe: %s", strerror(errno));
    pid = fork();
    if (pid < 0)
        bail_out("fork: %s", strerror(errno));
    if (pid == 0) {
        char c;
        prctl(PR_SET_NAME, "a) b (c) d");
        if (write(go[1], "g", 1) != 1)
            _exit(1);
        if (read(done[0], &c, 1) < 0)
            _exit(1);
        _exit(0);
    }
    char c;
    if (read(go[0], &c, 1) != 1)
        bail_out("child did not start");
    uint64_t child_real = real_start_time(pid);
    start = 0;
    memset(&err, 0, sizeof err);
    int r = wr_proc_start_time(pid, &start, &err);
    ok(r == 0 && start == child_real && child_real != 0,
       "the start time of a child named \"a) b (c) d\" (got %" PRIu64 ", want %" PRIu64 ")", start,
       child_real);
    struct wr_state_record crec = {.id = "abc", .shim_pid = pid, .shim_start = child_real};
    ok(wr_state_shim_alive(&crec), "that child is alive with its real start time");
    if (write(done[1], "d", 1) != 1)
        bail_out("write: %s", strerror(errno));
    waitpid(pid, NULL, 0);
    close(go[0]);
    close(go[1]);
    close(done[0]);
    close(done[1]);
    ok(!wr_state_shim_alive(&crec), "once reaped it is not alive");
}

static void count_visit(const struct wr_state_record *rec, void *ctx)
{
    (void)rec;
    (*(int *)ctx)++;
}

/* A record of another boot (boot_id differs) names a pid and start time
 * that an unrelated process of this boot can have: it is not alive, its
 * child is never signalled, and a scan removes it. A record of this boot
 * is written with this boot's id. */
static void test_boot_id(void)
{
    char now[64] = "", path[512];
    FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");
    if (!f || !fgets(now, sizeof now, f))
        bail_out("read boot_id: %s", strerror(errno));
    fclose(f);
    now[strcspn(now, "\n")] = '\0';

    wr_error err = {0};
    uint64_t start = 0;
    if (wr_proc_start_time(getpid(), &start, &err) < 0)
        bail_out("start time: %s", err.msg);
    /* A live child standing for an unrelated process of this boot. */
    pid_t victim = fork();
    if (victim < 0)
        bail_out("fork: %s", strerror(errno));
    if (victim == 0) {
        pause();
        _exit(0);
    }
    uint64_t vstart = 0;
    while (wr_proc_start_time(victim, &vstart, &err) < 0)
        usleep(1000);

    struct wr_state_record rec = {.id = "b00700000001",
                                  .shim_pid = getpid(),
                                  .shim_start = start,
                                  .child_pid = victim,
                                  .child_start = vstart,
                                  .created = 1};
    snprintf(rec.image, sizeof rec.image, "busybox:latest");
    ok(wr_state_write(state, &rec, &err) == 0, "a record of this boot written (%s)", err.msg);
    struct wr_state_record back;
    ok(wr_state_read(state, rec.id, &back, &err) == 0 && strcmp(back.boot_id, now) == 0,
       "  it carries this boot's id (%s)", back.boot_id);
    ok(wr_state_shim_alive(&back), "  and is alive");

    snprintf(path, sizeof path, "%s/containers/%s", state, rec.id);
    f = fopen(path, "w");
    if (!f)
        bail_out("open %s: %s", path, strerror(errno));
    fprintf(f,
            "id=%s\nshim_pid=%d\nshim_start=%" PRIu64 "\nchild_pid=%d\nchild_start=%" PRIu64
            "\ncreated=1\nimage=busybox:latest\nboot_id=00000000-0000-0000-0000-000000000000\n",
            rec.id, (int)getpid(), start, (int)victim, vstart);
    fclose(f);
    ok(wr_state_read(state, rec.id, &back, &err) == 0, "a record of another boot reads (%s)",
       err.msg);
    ok(!wr_state_shim_alive(&back), "  its shim is not alive, though pid and start time match");
    ok(wr_state_child_pidfd(&back) < 0, "  no pidfd for its child");
    int visited = 0;
    size_t removed = wr_state_scan(state, count_visit, &visited);
    ok(visited == 0 && removed == 1, "  a scan removes it without visiting (%d, %zu)", visited,
       removed);
    ok(access(path, F_OK) < 0, "  it is gone");
    int status = 0;
    ok(waitpid(victim, &status, WNOHANG) == 0, "  and the process it named was not signalled");
    kill(victim, SIGKILL);
    waitpid(victim, NULL, 0);
}

int main(void)
{
    const char *t = getenv("TMPDIR");
    snprintf(tmp, sizeof tmp, "%s/wr-state-file-XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(tmp))
        bail_out("mkdtemp %s: %s", tmp, strerror(errno));
    if (chdir(tmp) < 0)
        bail_out("chdir %s: %s", tmp, strerror(errno));
    snprintf(state, sizeof state, "%s/state", tmp);
    umask(022);

    test_prepare();
    test_round_trip();
    test_child_pidfd();
    test_malformed();
    test_alive();
    test_boot_id();

    if (chdir("/") < 0)
        diag("chdir /: %s", strerror(errno));
    /* The records' tmpfs, mounted when run as root (state_tmpfs.h). */
    char records[400];
    snprintf(records, sizeof records, "%s/containers", state);
    umount2(records, MNT_DETACH);
    tap_rm_tree(tmp);
    return done_testing();
}
