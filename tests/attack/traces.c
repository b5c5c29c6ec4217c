/* A tenant that leaves every kind of trace it can, and the check the next
 * tenant runs (tests/integration/86-fill-hygiene.t). Static, no warmrun code.
 *
 *   traces leave TAG   files in /, /tmp, /dev/shm; a SysV shared memory
 *                      segment, semaphore set and message queue; a POSIX
 *                      message queue; a listening abstract unix socket; a
 *                      background process (its own session, ignoring
 *                      SIGHUP and SIGTERM); the hostname; its rlimits
 *                      (NOFILE, NPROC, CORE, STACK lowered); a sysctl of its
 *                      network namespace, if writable. Prints what it left.
 *   traces check TAG   prints one line per trace of TAG found, then
 *                      "clean" if none; also the rlimits it starts with.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/resource.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define KEY_BASE  0x5e7ace00
#define SYSCTL    "/proc/sys/net/ipv4/ip_default_ttl"
#define TTL_VALUE "42"

static const int limits[] = {RLIMIT_NOFILE, RLIMIT_NPROC, RLIMIT_CORE, RLIMIT_STACK};
static const char *const limit_names[] = {"nofile", "nproc", "core", "stack"};

static void touch(const char *dir, const char *tag)
{
    char path[256];
    snprintf(path, sizeof path, "%s/trace-%s", dir, tag);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
        (void)!write(fd, tag, strlen(tag));
        close(fd);
        printf("left file %s\n", path);
    }
}

static int abstract_addr(const char *tag, struct sockaddr_un *a, socklen_t *len)
{
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    int n = snprintf(a->sun_path + 1, sizeof a->sun_path - 1, "trace-%s", tag);
    *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
    return 0;
}

static int leave(const char *tag)
{
    touch("", tag);
    touch("/tmp", tag);
    touch("/dev/shm", tag);
    if (shmget(KEY_BASE + 1, 4096, IPC_CREAT | 0666) >= 0)
        printf("left sysv shm\n");
    if (semget(KEY_BASE + 2, 1, IPC_CREAT | 0666) >= 0)
        printf("left sysv sem\n");
    int q = msgget(KEY_BASE + 3, IPC_CREAT | 0666);
    if (q >= 0) {
        struct {
            long type;
            char text[16];
        } m = {1, "trace"};
        msgsnd(q, &m, sizeof m.text, IPC_NOWAIT);
        printf("left sysv msg\n");
    }
    char name[64];
    snprintf(name, sizeof name, "/trace-%s", tag);
    struct mq_attr attr = {.mq_maxmsg = 1, .mq_msgsize = 16};
    mqd_t mq = mq_open(name, O_CREAT | O_RDWR, 0666, &attr);
    if (mq != (mqd_t)-1)
        printf("left mqueue %s\n", name);
    char host[64];
    snprintf(host, sizeof host, "trace-%.20s", tag);
    if (sethostname(host, strlen(host)) == 0)
        printf("left hostname %s\n", host);
    int fd = open(SYSCTL, O_WRONLY);
    if (fd >= 0 && write(fd, TTL_VALUE, 2) == 2)
        printf("left sysctl %s\n", SYSCTL);
    else
        printf("sysctl %s not writable (%s)\n", SYSCTL, strerror(errno));
    if (fd >= 0)
        close(fd);
    for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++) {
        struct rlimit r = {.rlim_cur = 7, .rlim_max = 7};
        if (limits[i] == RLIMIT_STACK)
            r.rlim_cur = r.rlim_max = 1 << 20;
        if (setrlimit(limits[i], &r) == 0)
            printf("left rlimit %s\n", limit_names[i]);
    }
    /* The background process: listens on the abstract socket, ignores the
     * signals a polite shutdown sends, and outlives its parent. */
    pid_t pid = fork();
    if (pid == 0) {
        setsid();
        signal(SIGHUP, SIG_IGN);
        signal(SIGTERM, SIG_IGN);
        int s = socket(AF_UNIX, SOCK_STREAM, 0);
        struct sockaddr_un a;
        socklen_t len;
        abstract_addr(tag, &a, &len);
        if (s >= 0 && bind(s, (struct sockaddr *)&a, len) == 0 && listen(s, 1) == 0) {
            int out = open("/tmp/bg-ready", O_WRONLY | O_CREAT, 0644);
            if (out >= 0)
                close(out);
        }
        for (;;)
            pause();
    }
    for (int i = 0; i < 200 && access("/tmp/bg-ready", F_OK) != 0; i++)
        usleep(10000);
    if (pid > 0)
        printf("left process %d and abstract socket @trace-%s\n", (int)pid, tag);
    fflush(stdout);
    return 0;
}

static int found;

static void report(const char *what)
{
    printf("found %s\n", what);
    found++;
}

static int check(const char *tag)
{
    char path[256], line[512];
    const char *dirs[] = {"", "/tmp", "/dev/shm"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/trace-%s", dirs[i], tag);
        if (access(path, F_OK) == 0)
            report(path);
    }
    if (shmget(KEY_BASE + 1, 0, 0) >= 0)
        report("sysv shm");
    if (semget(KEY_BASE + 2, 0, 0) >= 0)
        report("sysv sem");
    if (msgget(KEY_BASE + 3, 0) >= 0)
        report("sysv msg");
    /* Any SysV object at all, not only ours. */
    const char *ipc[] = {"/proc/sysvipc/shm", "/proc/sysvipc/sem", "/proc/sysvipc/msg"};
    for (size_t i = 0; i < 3; i++) {
        FILE *f = fopen(ipc[i], "re");
        int lines = 0;
        while (f && fgets(line, sizeof line, f))
            lines++;
        if (f)
            fclose(f);
        if (lines > 1)
            report(ipc[i]);
    }
    DIR *d = opendir("/dev/mqueue");
    struct dirent *de;
    while (d && (de = readdir(d)))
        if (de->d_name[0] != '.')
            report("a POSIX mqueue");
    if (d)
        closedir(d);
    char name[64];
    snprintf(name, sizeof name, "/trace-%s", tag);
    if (mq_open(name, O_RDONLY) != (mqd_t)-1)
        report("mqueue by name");
    FILE *f = fopen("/proc/net/unix", "re");
    while (f && fgets(line, sizeof line, f))
        if (strstr(line, "@trace-"))
            report("an abstract socket");
    if (f)
        fclose(f);
    d = opendir("/proc");
    int procs = 0;
    while (d && (de = readdir(d)))
        if (de->d_name[0] >= '1' && de->d_name[0] <= '9')
            procs++;
    if (d)
        closedir(d);
    if (procs != 1) {
        snprintf(line, sizeof line, "%d processes (only pid 1 expected)", procs);
        report(line);
    }
    char host[128] = "";
    gethostname(host, sizeof host);
    if (strncmp(host, "trace-", 6) == 0)
        report("the hostname");
    int fd = open(SYSCTL, O_RDONLY);
    char v[16] = "";
    if (fd >= 0) {
        ssize_t n = read(fd, v, sizeof v - 1);
        v[n > 0 ? n : 0] = '\0';
        close(fd);
        if (strncmp(v, TTL_VALUE, 2) == 0)
            report("the sysctl");
    }
    for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++) {
        struct rlimit r;
        getrlimit(limits[i], &r);
        if (r.rlim_cur == 7 || (limits[i] == RLIMIT_STACK && r.rlim_max == 1 << 20)) {
            snprintf(line, sizeof line, "rlimit %s", limit_names[i]);
            report(line);
        }
    }
    if (!found)
        printf("clean\n");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "leave") == 0)
        return leave(argv[2]);
    if (argc == 3 && strcmp(argv[1], "check") == 0)
        return check(argv[2]);
    fprintf(stderr, "usage: traces leave|check TAG\n");
    return 2;
}
