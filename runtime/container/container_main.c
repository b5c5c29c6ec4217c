/* pid 1 of a container, from clone to the workload's execve. Setup runs on
 * the fill path; after READY the child blocks in recvmsg and is stopped by
 * its shim. Activation is one recvmsg, a few dup2s and the execve. */
#include "container.h"

#include "lib/activation.h"
#include "lib/fdpass.h"
#include "lib/sealed_fd.h"
#include "lib/shim_msg.h"
#include "lib/clock.h"
#include "rootfs.h"
#include "container_fds.h"
#include "container_paths.h"
#include "etc_files.h"
#include "netlink_link.h"
#include "exec_command.h"
#include "security_setup.h"
#include "container_init.h"
#include "seccomp_install.h"
#include "sysfs_mount.h"
#include "container_resources.h"
#include "mnt_template.h"
#include "signal_reset.h"

#include <errno.h>
#include <link.h>
#include <fcntl.h>
#include <sched.h>
#include <linux/close_range.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* What the hot path touches lives in .bss and is written once on the fill
 * path (prefault_hot_path), so that activation takes no page faults and
 * never calls the allocator. */
static char activation_buf[WR_ACTIVATION_MAX];
/* One more than a message can fill: room for the HOME the container adds. */
static char *activation_vec[WR_ACTIVATION_VEC_MAX + 1];

/* How much of each is written ahead: what a usual activation touches (a
 * message of a few KiB, a few hundred argv/env pointers, the hot path's
 * stack), not the whole of each. Every page written here stays in every
 * warm container (its PSS); a larger activation takes a minor fault per
 * further page (~0.5 us each), as the kernel hands it out. */
#define STACK_PREFAULT_BYTES (32 * 1024)
#define BUF_PREFAULT_BYTES   (8 * 1024)
#define VEC_PREFAULT_BYTES   (4 * 1024)
_Static_assert(BUF_PREFAULT_BYTES <= WR_ACTIVATION_MAX, "prefault within activation_buf");
_Static_assert(VEC_PREFAULT_BYTES <= sizeof(char *) * (WR_ACTIVATION_VEC_MAX + 1),
               "prefault within activation_vec");

/* fork-like clone copies no page table entries for file mappings: each
 * code page of the shim and libc would take a minor fault on its first use
 * in the child, some of them on the hot path. Populate them now: every
 * executable PT_LOAD segment of the program, its libraries and the vDSO,
 * as the loader placed them (dl_iterate_phdr: no /proc/self/maps to open,
 * have the kernel format and parse back). */
static int populate_segments(struct dl_phdr_info *info, size_t size, void *ctx)
{
    (void)size;
    const ElfW(Phdr) **vdso_phdr = ctx;
    if (*vdso_phdr == info->dlpi_phdr)
        *vdso_phdr = NULL; /* reported: populated here */
    const uintptr_t page = 4096;
    for (ElfW(Half) i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X) || !ph->p_memsz)
            continue;
        uintptr_t start = (info->dlpi_addr + ph->p_vaddr) & ~(page - 1);
        uintptr_t end = (info->dlpi_addr + ph->p_vaddr + ph->p_memsz + page - 1) & ~(page - 1);
        madvise((void *)start, end - start, MADV_POPULATE_READ);
    }
    return 0;
}

/* glibc's dl_iterate_phdr reports the vDSO, musl's in a static program
 * (the shim's, Makefile MUSL_STATIC) only the program itself: the vDSO
 * from its ELF header (AT_SYSINFO_EHDR) when the walk left it out. Its
 * load bias is the header's address less the vaddr of its first PT_LOAD,
 * the one that maps the header (ELF gABI; glibc's setup_vdso does the
 * same). */
static void populate_code_mappings(void)
{
    const ElfW(Ehdr) *vdso = (const ElfW(Ehdr) *)getauxval(AT_SYSINFO_EHDR);
    const ElfW(Phdr) *vdso_phdr =
        vdso ? (const ElfW(Phdr) *)((const char *)vdso + vdso->e_phoff) : NULL;
    dl_iterate_phdr(populate_segments, &vdso_phdr);
    if (!vdso_phdr)
        return;
    struct dl_phdr_info info = {.dlpi_phdr = vdso_phdr, .dlpi_phnum = vdso->e_phnum};
    for (ElfW(Half) i = 0; i < vdso->e_phnum; i++)
        if (vdso_phdr[i].p_type == PT_LOAD) {
            info.dlpi_addr = (uintptr_t)vdso - vdso_phdr[i].p_vaddr;
            break;
        }
    const ElfW(Phdr) *reported = NULL;
    populate_segments(&info, sizeof info, &reported);
}

/* The child shares its pages copy-on-write with the shim: the first write
 * to each would fault on the hot path. Write them now instead. */
static void __attribute__((noinline)) prefault_hot_path(struct wr_exec_stamp *stamp)
{
    populate_code_mappings();
    /* The stamp page is shared memory: fork copied no entry for it either. */
    stamp->woke_ns = 0;
    stamp->exec_ns = 0;
    volatile char stack[STACK_PREFAULT_BYTES];
    for (size_t i = 0; i < sizeof stack; i += 4096)
        stack[i] = 0;
    memset(activation_buf, 0, BUF_PREFAULT_BYTES);
    memset(activation_vec, 0, VEC_PREFAULT_BYTES);
}

static _Noreturn void report_and_exit(int init_sock, enum wr_msg_type type, int code,
                                      const wr_error *err)
{
    struct wr_msg m;
    wr_msg_from_error(&m, type, err);
    if (type == WR_MSG_EXEC_FAILED)
        m.num = code;
    /* Best effort: if the shim is gone there is nobody left to tell. */
    (void)send(init_sock, &m, sizeof m, MSG_NOSIGNAL);
    _exit(code);
}

/* Our command line is the shim's, full of host paths; inside the container
 * (where pid 1 stays ours with --init) it should read "warmrun-init". The
 * kernel shows whatever the argument area holds, so overwrite it. */
static void hide_host_command_line(const struct wr_container_config *cfg)
{
    static const char name[] = "warmrun-init";
    if (!cfg->cmdline_area || cfg->cmdline_len < sizeof name)
        return;
    memset(cfg->cmdline_area, 0, cfg->cmdline_len);
    memcpy(cfg->cmdline_area, name, sizeof name);
}

static int setup(const struct wr_container_config *cfg, int init_sock, struct wr_exec_stamp *stamp,
                 wr_error *err)
{
    /* First: nothing may be mounted in the shim's namespace, which we
     * share until then. Whatever of the host pid 1 reads before its
     * pivot_root and the template lacks is read before. */
    if (cfg->mnt_template_fd >= 0) {
        wr_etc_files_read_host();
        if (wr_mnt_template_enter(cfg->mnt_template_fd, err) < 0)
            return -1;
    }
    if (cfg->netns_fd >= 0) {
        if (setns(cfg->netns_fd, CLONE_NEWNET) < 0)
            return wr_error_set(err, errno, "enter the recycled network namespace");
        close(cfg->netns_fd);
    }
    if (cfg->resources &&
        wr_resources_container_enter(cfg->resources, cfg->cgroup, init_sock, err) < 0)
        return -1;
    if (wr_rootfs_setup(cfg, err) < 0)
        return -1;
    if (cfg->resources && wr_resources_container_mounts(cfg->resources, cfg->cgroup, err) < 0)
        return -1;
    if (sethostname(cfg->hostname, strlen(cfg->hostname)) < 0)
        return wr_error_set(err, errno, "sethostname");
    if (!cfg->host_network && wr_link_up("lo", err) < 0)
        return -1;
    /* The daemon's shims are shielded from the OOM killer; the workload
     * must not be. Raising the score needs no privilege. */
    int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, "0", 1) != 1) {
        wr_error_set(err, errno, "reset oom_score_adj");
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    /* A pool's fill runs under SCHED_IDLE to the end of this set-up: the
     * shim resets the policy once it has stopped us (shim_create.c). */
    /* Late: entering a user namespace gives up the host's privileges. */
    if (wr_security_setup(cfg, init_sock, err) < 0)
        return -1;
    /* The workload starts with default signal handling, as runc leaves
     * it; sigaction calls are too slow for the hot path, so do it now. */
    wr_signals_reset_default();
    prefault_hot_path(stamp);
    /* Last: from here on (activation included) every system call passes
     * the workload's filter, so the hot path pays nothing to install it. */
    return wr_seccomp_filter_install(cfg->seccomp, err);
}

/* cni: the one message the shim sends after READY, once ADD has given
 * eth0 its address (shim_cni.c); /etc/hosts names it, then READY again
 * tells the shim it may stop us. A closed socket: the shim is gone. */
static int take_address(int init_sock, const struct wr_msg *ready, wr_error *err)
{
    struct wr_msg m;
    ssize_t n;
    do
        n = recv(init_sock, &m, sizeof m, 0);
    while (n < 0 && errno == EINTR);
    if (n == 0)
        _exit(0);
    if (n != (ssize_t)sizeof m || m.type != WR_MSG_ADDRESS || m.value < 0 || m.value > UINT32_MAX)
        return wr_error_set(err, n < 0 ? errno : EPROTO, "receive the container's address");
    if (wr_etc_files_set_address((uint32_t)m.value, err) < 0)
        return -1;
    if (send(init_sock, ready, sizeof *ready, MSG_NOSIGNAL) < 0)
        _exit(1);
    return 0;
}

/* An activation too large for one message (sealed_fd.h): mapped from its
 * sealed memfd, checked as if it came from anyone, with a vector of its
 * size (the workload's execve drops both). Off the common path. */
static int take_large_activation(int memfd, const char **msg, size_t *len, char ***vec,
                                 wr_error *err)
{
    struct wr_oob_header h;
    struct wr_sealed_map m;
    memcpy(&h, *msg, sizeof h);
    int r = wr_sealed_fd_map(memfd, h.len, WR_ACTIVATION_BIG_MAX, &m, err);
    close(memfd);
    if (r < 0)
        return -1;
    /* One more than decoding needs: room for the HOME the container adds. */
    size_t need = wr_activation_vec_needed(m.data, m.len);
    if (need == 0)
        return wr_error_set(err, EINVAL, "activation message is malformed");
    if (need + 1 > WR_ACTIVATION_VEC_MAX + 1) {
        void *v = mmap(NULL, (need + 1) * sizeof(char *), PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (v == MAP_FAILED)
            return wr_error_set(err, errno, "mmap");
        *vec = v;
    }
    *msg = m.data;
    *len = m.len;
    return 0;
}

/* Puts a received descriptor on target, without close-on-exec. */
static int install_stdio(int fd, int target, wr_error *err)
{
    if (fd == target)
        return fcntl(fd, F_SETFD, 0) < 0 ? wr_error_set(err, errno, "fcntl") : 0;
    if (dup2(fd, target) < 0)
        return wr_error_set(err, errno, "dup2 onto %d", target);
    return 0;
}

_Noreturn void wr_container_main(const struct wr_container_config *cfg, int init_sock, int act_sock,
                                 struct wr_exec_stamp *stamp)
{
    wr_error err = {0};
    struct wr_msg ready = {.type = WR_MSG_READY};
    struct wr_activation act;
    int fds[4] = {-1, -1, -1, -1};
    size_t nfds = 4;

    /* If the shim dies, so do we (the kernel delivers this SIGKILL even to a
     * pid 1, since it comes from outside the namespace). */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    prctl(PR_SET_NAME, "warmrun-init");
    if (setup(cfg, init_sock, stamp, &err) < 0)
        report_and_exit(init_sock, WR_MSG_ERROR, 1, &err);
    /* Last: cfg's strings live in that area. */
    hide_host_command_line(cfg);
    /* Whom the shim's spawner hands the stdio to (shim_msg.h). */
    uint32_t uid, gid;
    wr_security_stdio_owner(&uid, &gid);
    ready.value = (int64_t)uid + 1;
    ready.value2 = (int64_t)gid + 1;
    /* A sysfs mount made to travel with the network namespace goes to the
     * shim before READY, in a message of its own, and is closed here before
     * READY goes: the shim stops us on READY, and a stop between the send
     * and the close left the mount open in the warm pid 1. Never the
     * workload's. A filter that refuses sendmsg (a custom profile) only
     * loses the mount. */
    int kept_sysfs = wr_sysfs_kept_take();
    if (kept_sysfs >= 0) {
        struct wr_msg sysfs = {.type = WR_MSG_SYSFS};
        (void)wr_send_fds(init_sock, &sysfs, sizeof sysfs, &kept_sysfs, 1, &err);
        close(kept_sysfs);
    }
    if (send(init_sock, &ready, sizeof ready, MSG_NOSIGNAL) < 0)
        _exit(1);
    if (cfg->cni_network && take_address(init_sock, &ready, &err) < 0)
        report_and_exit(init_sock, WR_MSG_ERROR, 1, &err);

    /* The shim stops us here; the activator queues the message and SIGCONTs. */
    ssize_t n = wr_recv_fds(act_sock, activation_buf, sizeof activation_buf, fds, &nfds, &err);
    if (n == 0)
        _exit(0); /* the pool let go of this container without using it */
    if (n < 0)
        report_and_exit(init_sock, WR_MSG_EXEC_FAILED, 125, &err);
    stamp->woke_ns = wr_monotonic_ns();
    if (cfg->workload_cpus)
        sched_setaffinity(0, sizeof(cpu_set_t), cfg->workload_cpus);
    if (nfds != 3 && !(nfds == 4 && wr_oob_header_is(activation_buf, (size_t)n))) {
        wr_error_set(&err, 0, "activation carried %zu descriptors, not 3", nfds);
        report_and_exit(init_sock, WR_MSG_EXEC_FAILED, 125, &err);
    }
    /* Before the caller's descriptors go anywhere near the workload. */
    if (wr_stdio_check(fds, &err) < 0)
        report_and_exit(init_sock, WR_MSG_EXEC_FAILED, 125, &err);
    const char *msg = activation_buf;
    size_t msg_len = (size_t)n;
    char **vec = activation_vec;
    if (nfds == 4 && take_large_activation(fds[3], &msg, &msg_len, &vec, &err) < 0)
        report_and_exit(init_sock, WR_MSG_EXEC_FAILED, 125, &err);
    size_t vec_cap =
        vec == activation_vec ? WR_ACTIVATION_VEC_MAX : wr_activation_vec_needed(msg, msg_len);
    if (wr_activation_decode(msg, msg_len, vec, vec_cap, &act, &err) < 0)
        report_and_exit(init_sock, WR_MSG_EXEC_FAILED, 125, &err);
    if (act.hostname[0] && sethostname(act.hostname, strlen(act.hostname)) < 0) {
        wr_error_set(&err, errno, "sethostname");
        report_and_exit(init_sock, WR_MSG_EXEC_FAILED, 125, &err);
    }
    /* Only with --hostname: /etc/hosts and /etc/hostname follow it. */
    if (act.hostname[0] && wr_etc_files_set_hostname(act.hostname, &err) < 0)
        report_and_exit(init_sock, WR_MSG_EXEC_FAILED, 125, &err);
    for (int i = 0; i < 3; i++)
        if (install_stdio(fds[i], i, &err) < 0)
            report_and_exit(init_sock, WR_MSG_EXEC_FAILED, 125, &err);
    wr_security_default_home(act.envp);
    if (wr_enter_cwd(act.cwd, &err) < 0)
        report_and_exit(init_sock, WR_MSG_EXEC_FAILED, 126, &err);
    if (wr_security_enter_user(init_sock, &err) < 0)
        report_and_exit(init_sock, WR_MSG_EXEC_FAILED, 126, &err);
    /* Everything above 2 closes on exec; init_sock stays open until then so
     * that an exec failure can still be reported over it. */
    close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
    if (cfg->resources)
        wr_resources_container_keep_fds(cfg->resources);
    if (act.flags & WR_ACTIVATION_FLAG_INIT)
        wr_exec_with_init(act.argv, act.envp, init_sock, stamp);
    stamp->exec_ns = wr_monotonic_ns();
    int code = wr_exec_command(act.argv, act.envp, &err);
    report_and_exit(init_sock, WR_MSG_EXEC_FAILED, code, &err);
}
