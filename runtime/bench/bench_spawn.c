/* Timed runs of whole commands: fork, exec, wait, as hyperfine -N does.
 * fork rather than posix_spawn because a peer may need to enter a prepared
 * mount namespace first (crun on hybrid cgroups); the bench's heap is small,
 * so fork costs it little. */
#include "bench.h"

#include "lib/cleanup.h"
#include "lib/path_search.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* One PATH candidate: 1 when it is an executable regular file. */
static int executable_file(const char *candidate, void *ctx)
{
    struct stat st;
    char **found = ctx;
    if (stat(candidate, &st) != 0 || !S_ISREG(st.st_mode) || access(candidate, X_OK) != 0)
        return 0;
    *found = strdup(candidate);
    return 1;
}

char *bench_which(const char *word)
{
    char *found = NULL;
    if (strchr(word, '/'))
        executable_file(word, &found);
    else
        wr_path_search(getenv("PATH"), word, executable_file, &found);
    return found;
}

static int devnull_fd(void)
{
    static int fd = -1;
    if (fd < 0)
        fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    return fd;
}

/* In the child: stdio, namespace, exec. Only async-signal-safe calls. */
static void __attribute__((noreturn))
child_exec(const struct bench_cmd *c, int in, int out, int errfd)
{
    if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(errfd, 2) < 0)
        _exit(126);
    if (c->mntns_fd >= 0 && setns(c->mntns_fd, CLONE_NEWNS) < 0)
        _exit(126);
    execve(c->path, c->argv, c->envp ? c->envp : environ);
    _exit(127);
}

static int wait_child(pid_t pid, int *status)
{
    bool forwarded = false;
    while (waitpid(pid, status, 0) < 0) {
        if (errno != EINTR)
            return -1;
        if (bench_stop && !forwarded) {
            kill(pid, (int)bench_stop);
            forwarded = true;
        }
    }
    return 0;
}

int bench_run_timed(const struct bench_cmd *c, double *ms, int *status)
{
    int nul = devnull_fd();
    int errfd = c->stderr_fd >= 0 ? c->stderr_fd : nul;
    int64_t t0 = bench_now_ns();
    pid_t pid = fork();
    if (pid == 0)
        child_exec(c, nul, nul, errfd);
    if (pid < 0) {
        *status = -errno;
        return -1;
    }
    if (wait_child(pid, status) < 0)
        return -1;
    int64_t t1 = bench_now_ns();
    *ms = (double)(t1 - t0) / 1e6;
    return WIFEXITED(*status) && WEXITSTATUS(*status) == 0 ? 0 : -1;
}

int bench_run_stdin(char *const argv[], int in_fd, int log_fd)
{
    cleanup_free char *path = bench_which(argv[0]);
    if (!path)
        return -1;
    struct bench_cmd c = {.argv = (char **)argv, .path = path, .mntns_fd = -1};
    int nul = devnull_fd();
    int out = log_fd >= 0 ? log_fd : nul;
    pid_t pid = fork();
    if (pid == 0)
        child_exec(&c, in_fd >= 0 ? in_fd : nul, out, out);
    if (pid < 0)
        return -1;
    int status;
    if (wait_child(pid, &status) < 0)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int bench_run_quiet(char *const argv[], int log_fd)
{
    return bench_run_stdin(argv, -1, log_fd);
}

void bench_describe_status(int status, char *buf, size_t size)
{
    if (status < 0)
        snprintf(buf, size, "fork: %s", strerror(-status));
    else if (WIFEXITED(status))
        snprintf(buf, size, "exit status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(buf, size, "killed by signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    else
        snprintf(buf, size, "wait status 0x%x", (unsigned)status);
}

void bench_last_line(int fd, char *buf, size_t size)
{
    buf[0] = '\0';
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || st.st_size == 0)
        return;
    char tail[1024];
    off_t off = st.st_size > (off_t)sizeof tail - 1 ? st.st_size - (off_t)sizeof tail + 1 : 0;
    ssize_t n = pread(fd, tail, sizeof tail - 1, off);
    if (n <= 0)
        return;
    tail[n] = '\0';
    while (n > 0 && (tail[n - 1] == '\n' || tail[n - 1] == ' '))
        tail[--n] = '\0';
    char *start = strrchr(tail, '\n');
    snprintf(buf, size, "%s", start ? start + 1 : tail);
}
