/* Tries, from inside a container, what a hostile workload would, and
 * prints one line per attempt: "NAME ERRNO" (the errno's name, or "OK" when
 * the call succeeded). Built static (no libc in the test image).
 * usage: attack HOST_PID HOST_PATH */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/keyctl.h>
#include <linux/perf_event.h>
#include <linux/reboot.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif

static void report(const char *name, long rc)
{
    const char *e = rc < 0 ? strerrorname_np(errno) : "OK";
    printf("%s %s\n", name, e ? e : "?");
    fflush(stdout);
}

int main(int argc, char **argv)
{
    pid_t host_pid = argc > 1 ? (pid_t)atoi(argv[1]) : 1;
    const char *host_path = argc > 2 ? argv[2] : "/nonexistent";
    char path[4096];

    report("mount", mount("none", "/mnt", "tmpfs", 0, NULL));
    report("umount2", umount2("/proc", MNT_DETACH));
    report("pivot_root", syscall(SYS_pivot_root, ".", "."));
    report("unshare", unshare(CLONE_NEWNS));
    report("unshare_user", unshare(CLONE_NEWUSER));
    int ns = open("/proc/self/ns/net", O_RDONLY);
    report("setns", setns(ns, CLONE_NEWNET));
    long pid = syscall(SYS_clone, CLONE_NEWNS | SIGCHLD, NULL, NULL, NULL, NULL);
    if (pid == 0)
        _exit(0);
    report("clone_newns", pid);
    report("clone3", syscall(SYS_clone3, NULL, 0));
    report("ptrace_host", ptrace(PTRACE_ATTACH, host_pid, NULL, NULL));
    report("kexec_load", syscall(SYS_kexec_load, 0, 0, NULL, 0));
    report("init_module", syscall(SYS_init_module, NULL, 0, ""));
    report("finit_module", syscall(SYS_finit_module, 0, "", 0));
    report("reboot", syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2,
                             LINUX_REBOOT_CMD_CAD_OFF, NULL));
    report("swapon", swapon("/tmp", 0));
    report("keyctl", syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0));
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    report("bpf", syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof attr));
    struct perf_event_attr pe;
    memset(&pe, 0, sizeof pe);
    pe.size = sizeof pe;
    pe.type = PERF_TYPE_SOFTWARE;
    report("perf_event_open", syscall(SYS_perf_event_open, &pe, 0, -1, -1, 0));
    report("open_by_handle_at", syscall(SYS_open_by_handle_at, AT_FDCWD, NULL, O_RDONLY));
    /* io_uring: its requests bypass per-call filtering; denied since Docker 25. */
    char ring[120] = {0};
    report("io_uring_setup", syscall(SYS_io_uring_setup, 4, ring));
    report("socket_vsock", socket(AF_VSOCK, SOCK_STREAM, 0));
    report("personality", syscall(SYS_personality, 0x0040000));
    report("mknod_block", mknod("/tmp/sda", S_IFBLK | 0600, makedev(8, 0)));
    report("open_block", open("/tmp/sda", O_RDONLY));
    report("sysrq_trigger", open("/proc/sysrq-trigger", O_WRONLY));
    int kcore = open("/proc/kcore", O_RDONLY);
    char buf[16];
    long got = kcore < 0 ? -1 : read(kcore, buf, sizeof buf);
    printf("kcore_bytes %ld\n", got);
    report("write_sys", open("/sys/kernel/uevent_helper", O_WRONLY));
    report("mkdir_sys", mkdir("/sys/x", 0755));
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_max != RLIM_INFINITY)
        rl.rlim_max += 1;
    report("raise_rlimit", setrlimit(RLIMIT_NOFILE, &rl));
    report("kill_host", kill(host_pid, 0));
    snprintf(path, sizeof path, "/proc/self/root%s", host_path);
    report("self_root_host", open(path, O_RDONLY));
    snprintf(path, sizeof path, "/proc/1/root%s", host_path);
    report("pid1_root_host", open(path, O_RDONLY));
    report("setuid0", setuid(0));
    return 0;
}
