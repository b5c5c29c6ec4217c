/* Setting up crun, runc and Docker for the startup bench. */
#include "bench_peers.h"

#include "lib/cleanup.h"
#include "lib/path_search.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

#define DOCKERD_START_TIMEOUT_S 60
#define DOCKERD_STOP_TIMEOUT_S  30

/* `runc spec` of runc 1.1, with no terminal and a read-only root. */
static const char oci_config[] =
    "{\"ociVersion\":\"1.0.2-dev\",\"process\":{\"terminal\":false,\"user\":{\"uid\":0,\"gid\":0},"
    "\"args\":[\"/bin/true\"],\"env\":[\"" WR_DEFAULT_PATH_ENV
    "\"],\"cwd\":\"/\",\"capabilities\":{\"bounding\":[\"CAP_AUDIT_WRITE\","
    "\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"],\"effective\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\","
    "\"CAP_NET_BIND_SERVICE\"],\"permitted\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_"
    "SERVICE\"],\"ambient\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"]},"
    "\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":1024,\"soft\":1024}],\"noNewPrivileges\":"
    "true},\"root\":{\"path\":\"rootfs\",\"readonly\":true},\"hostname\":\"bench\",\"mounts\":[{"
    "\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},{\"destination\":\"/dev\","
    "\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":[\"nosuid\",\"strictatime\",\"mode=755\","
    "\"size=65536k\"]},{\"destination\":\"/dev/pts\",\"type\":\"devpts\",\"source\":\"devpts\","
    "\"options\":[\"nosuid\",\"noexec\",\"newinstance\",\"ptmxmode=0666\",\"mode=0620\",\"gid=5\"]"
    "},{\"destination\":\"/dev/shm\",\"type\":\"tmpfs\",\"source\":\"shm\",\"options\":[\"nosuid\","
    "\"noexec\",\"nodev\",\"mode=1777\",\"size=65536k\"]},{\"destination\":\"/dev/mqueue\","
    "\"type\":\"mqueue\",\"source\":\"mqueue\",\"options\":[\"nosuid\",\"noexec\",\"nodev\"]},{"
    "\"destination\":\"/sys\",\"type\":\"sysfs\",\"source\":\"sysfs\",\"options\":[\"nosuid\","
    "\"noexec\",\"nodev\",\"ro\"]},{\"destination\":\"/sys/fs/cgroup\",\"type\":\"cgroup\","
    "\"source\":\"cgroup\",\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"relatime\",\"ro\"]}],"
    "\"linux\":{\"resources\":{\"devices\":[{\"allow\":false,\"access\":\"rwm\"}]},\"namespaces\":"
    "[{\"type\":\"pid\"},{\"type\":\"network\"},{\"type\":\"ipc\"},{\"type\":\"uts\"},{\"type\":"
    "\"mount\"}],\"maskedPaths\":[\"/proc/acpi\",\"/proc/asound\",\"/proc/kcore\",\"/proc/keys\","
    "\"/proc/latency_stats\",\"/proc/timer_list\",\"/proc/timer_stats\",\"/proc/sched_debug\","
    "\"/sys/firmware\",\"/proc/scsi\"],\"readonlyPaths\":[\"/proc/bus\",\"/proc/fs\",\"/proc/"
    "irq\",\"/proc/sys\",\"/proc/sysrq-trigger\"]}}";

static int write_config(const char *path, char *const command[], wr_error *err)
{
    json_error_t jerr;
    json_t *root = json_loads(oci_config, 0, &jerr);
    if (!root)
        return wr_error_set(err, 0, "OCI config template: %s", jerr.text);
    json_t *args = json_array();
    for (size_t i = 0; command[i]; i++)
        json_array_append_new(args, json_string(command[i]));
    json_object_set_new(json_object_get(root, "process"), "args", args);
    int rc = json_dump_file(root, path, JSON_INDENT(1));
    json_decref(root);
    if (rc < 0)
        return wr_error_set(err, errno, "write %s", path);
    return 0;
}

int bench_bundle_prepare(const struct bench_env *e, struct bench_peers *p, char *const command[],
                         wr_error *err)
{
    char rootfs[PATH_MAX + 16], config[PATH_MAX + 16];
    bench_path(p->bundle, sizeof p->bundle, "%s/bundle", e->dir);
    bench_path(rootfs, sizeof rootfs, "%s/rootfs", p->bundle);
    bench_path(config, sizeof config, "%s/config.json", p->bundle);
    if (mkdir(p->bundle, 0700) < 0 && errno != EEXIST)
        return wr_error_set(err, errno, "mkdir %s", p->bundle);
    if (access(rootfs, F_OK) != 0) {
        char *cp[] = {(char *)"cp", (char *)"-a", (char *)e->busybox_layer, rootfs, NULL};
        if (bench_run_quiet(cp, -1) != 0)
            return wr_error_set(err, 0, "cp -a %s %s failed", e->busybox_layer, rootfs);
    }
    return write_config(config, command, err);
}

/* apt-get install -y pkg, waiting for a dpkg lock held by someone else. */
static int install_pkg(const char *pkg, wr_error *err)
{
    bench_progress("installing %s (apt-get)", pkg);
    char *argv[] = {(char *)"apt-get", (char *)"-o", (char *)"DPkg::Lock::Timeout=300",
                    (char *)"install", (char *)"-y", (char *)"-q",
                    (char *)pkg,       NULL};
    if (bench_run_quiet(argv, -1) != 0)
        return wr_error_set(err, 0, "apt-get install -y %s failed", pkg);
    return 0;
}

static int need_program(const char *prog, const char *pkg, bool setup, wr_error *err)
{
    cleanup_free char *path = bench_which(prog);
    if (path)
        return 0;
    if (!setup)
        return wr_error_set(err, 0, "%s is not installed (--setup installs %s)", prog, pkg);
    if (install_pkg(pkg, err) < 0)
        return -1;
    cleanup_free char *again = bench_which(prog);
    return again ? 0 : wr_error_set(err, 0, "%s still not found after installing %s", prog, pkg);
}

/* A process that makes a mount namespace with cgroup2 on /sys/fs/cgroup
 * and waits; its namespace is kept by an fd after it is gone. */
static int cgroup2_mntns(wr_error *err)
{
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) < 0)
        return wr_error_set(err, errno, "pipe");
    pid_t pid = fork();
    if (pid < 0) {
        close(pipefd[0]);
        close(pipefd[1]);
        return wr_error_set(err, errno, "fork");
    }
    if (pid == 0) {
        char ok = 'n';
        close(pipefd[0]);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (unshare(CLONE_NEWNS) == 0 && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0 &&
            mount("none", "/sys/fs/cgroup", "cgroup2", 0, NULL) == 0)
            ok = 'y';
        if (write(pipefd[1], &ok, 1) != 1)
            _exit(1);
        pause();
        _exit(0);
    }
    close(pipefd[1]);
    char ok = 'n';
    ssize_t n = read(pipefd[0], &ok, 1);
    close(pipefd[0]);
    int fd = -1;
    if (n == 1 && ok == 'y') {
        char path[64];
        bench_path(path, sizeof path, "/proc/%d/ns/mnt", (int)pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    if (fd < 0)
        return wr_error_set(err, 0, "cannot mount cgroup2 in a private mount namespace");
    return fd;
}

int bench_crun_prepare(const struct bench_env *e, struct bench_peers *p, bool setup, wr_error *err)
{
    if (need_program("crun", "crun", setup, err) < 0)
        return -1;
    bench_path(p->crun_state, sizeof p->crun_state, "%s/crun-state", e->dir);
    struct statfs sf;
    if (statfs("/sys/fs/cgroup", &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC)
        return 0; /* pure cgroup v2: crun runs as it is */
    /* crun 1.8 refuses hybrid cgroups: run it without a cgroup manager, in
     * a mount namespace where /sys/fs/cgroup is a cgroup2 mount. */
    int fd = cgroup2_mntns(err);
    if (fd < 0)
        return wr_error_prefix(err, "crun on hybrid cgroups");
    p->crun_mntns = fd;
    p->crun_no_cgroups = true;
    return 0;
}

int bench_runc_prepare(const struct bench_env *e, struct bench_peers *p, bool setup, wr_error *err)
{
    if (need_program("runc", "runc", setup, err) < 0)
        return -1;
    bench_path(p->runc_state, sizeof p->runc_state, "%s/runc-state", e->dir);
    return 0;
}

static bool docker_answers(const char *host)
{
    char *argv[] = {(char *)"docker", (char *)"-H", (char *)host, (char *)"version", NULL};
    return bench_run_quiet(argv, -1) == 0;
}

static int dockerd_start(const struct bench_env *e, struct bench_peers *p, wr_error *err)
{
    char d[PATH_MAX], sock[PATH_MAX + 16], data[PATH_MAX + 16], exec_root[PATH_MAX + 16],
        pidfile[PATH_MAX + 16], log[PATH_MAX + 16], host_opt[PATH_MAX + 32];
    bench_path(d, sizeof d, "%s/docker", e->dir);
    if (mkdir(d, 0700) < 0 && errno != EEXIST)
        return wr_error_set(err, errno, "mkdir %s", d);
    bench_path(sock, sizeof sock, "%s/docker.sock", d);
    bench_path(data, sizeof data, "%s/data", d);
    bench_path(exec_root, sizeof exec_root, "%s/exec", d);
    bench_path(pidfile, sizeof pidfile, "%s/docker.pid", d);
    bench_path(log, sizeof log, "%s/dockerd.log", d);
    bench_path(p->docker_host, sizeof p->docker_host, "unix://%s", sock);
    bench_path(host_opt, sizeof host_opt, "--host=unix://%s", sock);
    cleanup_free char *dockerd = bench_which("dockerd");
    if (!dockerd)
        return wr_error_set(err, 0, "dockerd is not installed");
    cleanup_close int logfd = open(log, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (logfd < 0)
        return wr_error_set(err, errno, "%s", log);
    char *argv[] = {dockerd,
                    host_opt,
                    (char *)"--data-root",
                    data,
                    (char *)"--exec-root",
                    exec_root,
                    (char *)"--pidfile",
                    pidfile,
                    (char *)"--bridge=none",
                    (char *)"--iptables=false",
                    (char *)"--ip-masq=false",
                    NULL};
    bench_progress("starting a private dockerd (%s)", d);
    pid_t pid = fork();
    if (pid < 0)
        return wr_error_set(err, errno, "fork");
    if (pid == 0) {
        setpgid(0, 0); /* not killed by the terminal's ^C before we stop it */
        int nul = open("/dev/null", O_RDONLY);
        if (nul < 0 || dup2(nul, 0) < 0 || dup2(logfd, 1) < 0 || dup2(logfd, 2) < 0)
            _exit(126);
        execv(dockerd, argv);
        _exit(127);
    }
    p->dockerd_pid = pid;
    for (int i = 0; i < DOCKERD_START_TIMEOUT_S * 10; i++) {
        if (docker_answers(p->docker_host))
            return 0;
        if (waitpid(pid, NULL, WNOHANG) == pid) {
            char line[256];
            p->dockerd_pid = -1;
            bench_last_line(logfd, line, sizeof line);
            return wr_error_set(err, 0, "dockerd exited at start: %s", line);
        }
        if (bench_stop)
            return wr_error_set(err, EINTR, "interrupted");
        usleep(100000);
    }
    char line[256];
    bench_last_line(logfd, line, sizeof line);
    return wr_error_set(err, ETIMEDOUT, "dockerd did not answer within %d s: %s",
                        DOCKERD_START_TIMEOUT_S, line);
}

int bench_docker_prepare(const struct bench_env *e, struct bench_peers *p, bool setup,
                         const char *docker_host, wr_error *err)
{
    if (need_program("docker", "docker.io", setup, err) < 0)
        return -1;
    /* Someone else's dockerd (the host's, DOCKER_HOST's) runs containers of
     * its own: the bench uses it only when told to. */
    if (docker_host) {
        if (!docker_answers(docker_host))
            return wr_error_set(err, 0, "--docker-host %s: no Docker daemon answers there",
                                docker_host);
        bench_path(p->docker_host, sizeof p->docker_host, "%s", docker_host);
    } else if (setup) {
        if (need_program("dockerd", "docker.io", setup, err) < 0 || dockerd_start(e, p, err) < 0)
            return -1;
    } else if (docker_answers("unix:///var/run/docker.sock")) {
        return wr_error_set(err, 0,
                            "the host's Docker daemon is not used without --docker-host "
                            "unix:///var/run/docker.sock (--setup starts a private one)");
    } else {
        return wr_error_set(err, 0, "no Docker daemon is running (--setup starts a private one)");
    }
    char tar[PATH_MAX + 16], name[64];
    bench_path(tar, sizeof tar, "%s/rootfs.tar", e->dir);
    char *tar_argv[] = {(char *)"tar", (char *)"-C", (char *)e->busybox_layer, (char *)"-cf", tar,
                        (char *)".",   NULL};
    if (bench_run_quiet(tar_argv, -1) != 0)
        return wr_error_set(err, 0, "tar of %s failed", e->busybox_layer);
    bench_path(name, sizeof name, "warmrun-bench-busybox:%d", (int)getpid());
    char *imp[] = {
        (char *)"docker", (char *)"-H", p->docker_host, (char *)"import", tar, name, NULL};
    if (bench_run_quiet(imp, -1) != 0)
        return wr_error_set(err, 0, "docker import %s failed", tar);
    bench_path(p->docker_image, sizeof p->docker_image, "%s", name);
    return 0;
}

/* crun/runc list: ids of containers left by an interrupted run. */
static void delete_leftovers(const char *prog, const char *state, const struct bench_peers *p)
{
    if (!state[0] || access(state, F_OK) != 0)
        return;
    cleanup_closedir DIR *d = opendir(state);
    struct dirent *de;
    while (d && (de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char *argv[8];
        int i = 0;
        argv[i++] = (char *)prog;
        argv[i++] = (char *)"--root";
        argv[i++] = (char *)state;
        argv[i++] = (char *)"delete";
        argv[i++] = (char *)"-f";
        argv[i++] = de->d_name;
        argv[i] = NULL;
        bench_msg("removing leftover %s container %s", prog, de->d_name);
        if (strcmp(prog, "crun") == 0 && p->crun_mntns >= 0) {
            cleanup_free char *path = bench_which("crun");
            struct bench_cmd c = {
                .argv = argv, .path = path, .mntns_fd = p->crun_mntns, .stderr_fd = -1};
            double ms;
            int st;
            if (path)
                bench_run_timed(&c, &ms, &st);
        } else {
            bench_run_quiet(argv, -1);
        }
    }
}

void bench_peers_cleanup(const struct bench_env *e, struct bench_peers *p)
{
    (void)e;
    delete_leftovers("crun", p->crun_state, p);
    delete_leftovers("runc", p->runc_state, p);
    if (p->crun_mntns >= 0)
        close(p->crun_mntns);
    p->crun_mntns = -1;
    if (p->docker_image[0]) {
        char *rmi[] = {(char *)"docker", (char *)"-H", p->docker_host, (char *)"rmi", (char *)"-f",
                       p->docker_image,  NULL};
        bench_run_quiet(rmi, -1);
        p->docker_image[0] = '\0';
    }
    if (p->dockerd_pid > 0) {
        bench_progress("stopping the private dockerd");
        kill(p->dockerd_pid, SIGTERM);
        int i;
        for (i = 0; i < DOCKERD_STOP_TIMEOUT_S * 10; i++) {
            if (waitpid(p->dockerd_pid, NULL, WNOHANG) == p->dockerd_pid)
                break;
            usleep(100000);
        }
        if (i == DOCKERD_STOP_TIMEOUT_S * 10) {
            bench_msg("dockerd %d did not stop in %d s: killing it", (int)p->dockerd_pid,
                      DOCKERD_STOP_TIMEOUT_S);
            kill(-p->dockerd_pid, SIGKILL);
            waitpid(p->dockerd_pid, NULL, 0);
        }
        p->dockerd_pid = -1;
    }
}
