/* TAP test of wr_exec_command (runtime/container/exec_command.c): PATH lookup in the
 * given environment (not the caller's), and docker's exit codes 127/126.
 * Each call runs in a forked child, since it execs on success; the child's
 * stdout (the workload's, or the error message) comes back through a pipe
 * and its exit status through waitpid. Needs no privileges. */
#include "tap.h"
#include "container/exec_command.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char tmp[256];
static char bin[320], bin2[320], empty[320];

struct result {
    int status; /* exit code, or 128 + signal */
    char out[1024];
};

/* Runs wr_exec_command(argv, envp) in a child with cwd dir (NULL: keep).
 * When it returns, the child prints its error message and exits with the
 * returned code. */
static void run(char *const argv[], char *const envp[], const char *dir, struct result *res)
{
    int p[2];
    memset(res, 0, sizeof *res);
    if (pipe2(p, O_CLOEXEC) < 0)
        bail_out("pipe2: %s", strerror(errno));
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0)
        bail_out("fork: %s", strerror(errno));
    if (pid == 0) {
        wr_error err = {0};
        if (dup2(p[1], 1) < 0 || (dir && chdir(dir) < 0))
            _exit(99);
        int code = wr_exec_command(argv, envp, &err);
        dprintf(1, "%s", err.msg);
        _exit(code);
    }
    close(p[1]);
    size_t len = 0;
    ssize_t n;
    while ((n = read(p[0], res->out + len, sizeof res->out - 1 - len)) > 0)
        len += (size_t)n;
    res->out[len] = '\0';
    close(p[0]);
    int st;
    if (waitpid(pid, &st, 0) != pid)
        bail_out("waitpid: %s", strerror(errno));
    res->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void write_file(const char *dir, const char *name, const char *text, mode_t mode)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0 || chmod(path, mode) < 0)
        bail_out("write %s: %s", path, strerror(errno));
}

/* A script that prints its name, its first argument and $WHO, then exits 42. */
#define SCRIPT "#!/bin/sh\necho \"${0##*/}|$1|$WHO\"\nexit 42\n"

static void test_found(void)
{
    struct result r;
    char path_env[1024];
    snprintf(path_env, sizeof path_env, "PATH=/nonexistent:%s:%s", empty, bin);
    char *envp[] = {"WHO=world", path_env, NULL};

    char *argv[] = {"wrtest-hello", "arg1", NULL};
    run(argv, envp, NULL, &r);
    is_int(r.status, 42, "a command in the envp PATH runs (exit 42 from the script)");
    is_str(r.out, "wrtest-hello|arg1|world\n", "  with its argv and envp");

    /* The first match in PATH order wins. */
    char path2[1024];
    snprintf(path2, sizeof path2, "PATH=%s:%s", bin2, bin);
    char *envp2[] = {path2, NULL};
    char *argv2[] = {"wrtest-both", NULL};
    run(argv2, envp2, NULL, &r);
    is_str(r.out, "second\n", "the first directory in PATH wins");
    snprintf(path2, sizeof path2, "PATH=%s:%s", bin, bin2);
    run(argv2, envp2, NULL, &r);
    is_str(r.out, "first\n", "  in either order");

    /* A non-executable match does not hide an executable one later. */
    snprintf(path2, sizeof path2, "PATH=%s:%s", bin, bin2);
    char *argv3[] = {"wrtest-later", NULL};
    run(argv3, envp2, NULL, &r);
    ok(r.status == 0 && !strcmp(r.out, "later\n"),
       "a non-executable match is skipped for a later executable one (exit %d)", r.status);

    /* The test's own PATH is not consulted: sh is in it, not in envp's. */
    snprintf(path2, sizeof path2, "PATH=%s", bin);
    char *argv4[] = {"sh", "-c", "exit 3", NULL};
    run(argv4, envp2, NULL, &r);
    ok(r.status == 127 && strstr(r.out, "\"sh\""),
       "sh is not found when envp's PATH lacks it (%d: %s)", r.status, r.out);

    /* No PATH in envp: the default one, which holds sh. */
    char *no_path[] = {"WHO=x", NULL};
    run(argv4, no_path, NULL, &r);
    is_int(r.status, 3, "without PATH in envp the default PATH finds sh");

    /* A name with a slash is run as is, without PATH. */
    char script[512];
    snprintf(script, sizeof script, "%s/wrtest-hello", bin);
    char *argv5[] = {script, "x", NULL};
    char *empty_env[] = {"PATH=/nonexistent", NULL};
    run(argv5, empty_env, NULL, &r);
    is_int(r.status, 42, "an absolute path runs without PATH");
    char *argv6[] = {"./wrtest-hello", "y", NULL};
    run(argv6, empty_env, bin, &r);
    ok(r.status == 42 && !strcmp(r.out, "wrtest-hello|y|\n"), "a relative path with a slash runs");

    /* An empty PATH element is the current directory (POSIX). */
    char *lead[] = {"PATH=:/nonexistent", NULL};
    run(argv, lead, bin, &r);
    is_int(r.status, 42, "a leading empty PATH element is the current directory");
    char *mid[] = {"PATH=/nonexistent::/nonexistent2", NULL};
    run(argv, mid, bin, &r);
    is_int(r.status, 42, "an empty PATH element in the middle is the current directory");
    char *trail[] = {"PATH=/nonexistent:", NULL};
    run(argv, trail, bin, &r);
    ok(r.status == 42, "a trailing empty PATH element is the current directory (got %d: %s)",
       r.status, r.out);
}

static void test_failures(void)
{
    struct result r;
    char path_env[1024];
    snprintf(path_env, sizeof path_env, "PATH=%s:%s", empty, bin);
    char *envp[] = {path_env, NULL};

    char *missing[] = {"wrtest-missing", NULL};
    run(missing, envp, NULL, &r);
    is_int(r.status, 127, "a command not in PATH exits 127");
    ok(strstr(r.out, "\"wrtest-missing\"") && strstr(r.out, "not found"),
       "  the message names it: %s", r.out);

    char *noexec[] = {"wrtest-noexec", NULL};
    run(noexec, envp, NULL, &r);
    is_int(r.status, 126, "a non-executable file in PATH exits 126");
    ok(strstr(r.out, "wrtest-noexec") && strstr(r.out, "ermission"), "  the message says why: %s",
       r.out);

    char *dir[] = {"wrtest-dir", NULL};
    run(dir, envp, NULL, &r);
    is_int(r.status, 126, "a directory in PATH exits 126");
    ok(strstr(r.out, "wrtest-dir") != NULL, "  the message names it: %s", r.out);

    char abs_missing[512], abs_noexec[512], abs_dir[512];
    snprintf(abs_missing, sizeof abs_missing, "%s/wrtest-missing", bin);
    snprintf(abs_noexec, sizeof abs_noexec, "%s/wrtest-noexec", bin);
    snprintf(abs_dir, sizeof abs_dir, "%s/wrtest-dir", bin);
    char *a1[] = {abs_missing, NULL};
    run(a1, envp, NULL, &r);
    ok(r.status == 127 && strstr(r.out, abs_missing), "a missing absolute path exits 127: %s",
       r.out);
    char *a2[] = {abs_noexec, NULL};
    run(a2, envp, NULL, &r);
    ok(r.status == 126 && strstr(r.out, abs_noexec), "a non-executable absolute path exits 126: %s",
       r.out);
    char *a3[] = {abs_dir, NULL};
    run(a3, envp, NULL, &r);
    ok(r.status == 126 && strstr(r.out, abs_dir), "a directory as absolute path exits 126: %s",
       r.out);
    char a4p[600];
    snprintf(a4p, sizeof a4p, "%s/wrtest-noexec/x", bin);
    char *a4[] = {a4p, NULL};
    run(a4, envp, NULL, &r);
    ok(r.status == 127, "a path through a regular file (ENOTDIR) exits 127: %s", r.out);

    char *empty_cmd[] = {"", NULL};
    run(empty_cmd, envp, NULL, &r);
    ok(r.status == 127 && strstr(r.out, "empty"), "an empty command exits 127: %s", r.out);

    char *empty_path[] = {"PATH=", NULL};
    char *sh[] = {"sh", NULL};
    run(sh, empty_path, NULL, &r);
    ok(r.status == 127, "an empty PATH finds nothing: %s", r.out);

    /* A file without a #! line cannot be exec'd: 126 like docker. */
    char *noshebang[] = {"wrtest-noshebang", NULL};
    run(noshebang, envp, NULL, &r);
    ok(r.status == 126 && strstr(r.out, "wrtest-noshebang"),
       "an executable without #! exits 126: %s", r.out);
}

int main(void)
{
    const char *t = getenv("TMPDIR");
    snprintf(tmp, sizeof tmp, "%s/wr-exec-XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(tmp))
        bail_out("mkdtemp %s: %s", tmp, strerror(errno));
    snprintf(bin, sizeof bin, "%s/bin", tmp);
    snprintf(bin2, sizeof bin2, "%s/bin2", tmp);
    snprintf(empty, sizeof empty, "%s/empty", tmp);
    char dir[512];
    snprintf(dir, sizeof dir, "%s/wrtest-dir", bin);
    if (mkdir(bin, 0755) < 0 || mkdir(bin2, 0755) < 0 || mkdir(empty, 0755) < 0 ||
        mkdir(dir, 0755) < 0)
        bail_out("mkdir: %s", strerror(errno));

    write_file(bin, "wrtest-hello", SCRIPT, 0755);
    write_file(bin, "wrtest-noexec", SCRIPT, 0644);
    write_file(bin, "wrtest-noshebang",
               "\x7f"
               "ELFjunk",
               0755);
    write_file(bin, "wrtest-both", "#!/bin/sh\necho first\n", 0755);
    write_file(bin2, "wrtest-both", "#!/bin/sh\necho second\n", 0755);
    write_file(bin, "wrtest-later", SCRIPT, 0644);
    write_file(bin2, "wrtest-later", "#!/bin/sh\necho later\n", 0755);

    test_found();
    test_failures();

    tap_rm_tree(tmp);
    return done_testing();
}
