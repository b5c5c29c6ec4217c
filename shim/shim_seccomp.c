/* `warmrun-shim --compile-seccomp PROFILE OUT`: compiles the seccomp
 * filter of an encoded security profile (see security_profile.h) to OUT,
 * once per pool, so that the daemon (static, without libseccomp) never
 * links the compiler and no shim of the pool compiles it again. */
#include "shim.h"
#include "shim_log.h"

#include "lib/cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <seccomp.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static int compile(const char *profile, const char *out, wr_error *err)
{
    struct wr_security_profile p;
    struct wr_seccomp_filter f;
    if (wr_security_decode(profile, &p, err) < 0 || wr_seccomp_filter_prepare(&p, &f, err) < 0)
        return -1;
    cleanup_free void *insns = f.insns;
    if (!insns)
        return wr_error_set(err, 0, "the profile has no seccomp filter");
    cleanup_close int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return wr_error_set(err, errno, "create %s", out);
    size_t bytes = f.len * sizeof(struct sock_filter);
    if (write(fd, insns, bytes) != (ssize_t)bytes)
        return wr_error_set(err, errno, "write %s", out);
    return 0;
}

int shim_compile_seccomp(int argc, char **argv)
{
    wr_error err = {0};
    if (argc != 4) {
        fprintf(stderr, "usage: warmrun-shim --compile-seccomp PROFILE OUT\n");
        return 2;
    }
    if (compile(argv[2], argv[3], &err) < 0) {
        shim_log(NULL, "seccomp: %s", err.msg);
        return 1;
    }
    return 0;
}

/* A cold start would compile Docker's profile in every shim (tens of ms):
 * the result depends only on the capabilities, on whether the kernel has
 * the x32 ABI and on the libseccomp that compiled it, so the first cold
 * start keeps it in
 * <state>/seccomp/default-<caps>[-x32]-v<N>-libseccomp-<version>.bpf (the
 * state directory is root's alone, and may outlive a boot into another
 * kernel or an upgrade of libseccomp, whose fixes change programs: 2.4.0
 * fixed comparisons of 64-bit arguments, CVE-2019-9893) and later ones
 * load it. Bump the version when the default table or the way it is
 * compiled changes. */
#define DEFAULT_PROFILE_VERSION                                                                    \
    4 /* 2: io_uring denied; 3: x32 only if the kernel has it; 4: by ranges */

int shim_seccomp_prepare(struct shim *sh, wr_error *err)
{
    struct wr_security_profile *p = &sh->opt.security;
    if (p->privileged || p->seccomp_mode != WR_SECCOMP_DEFAULT)
        return wr_seccomp_filter_prepare(p, &sh->seccomp, err);
    char dir[WR_SECCOMP_MAX - 64], path[WR_SECCOMP_MAX + 1], tmp[WR_SECCOMP_MAX + 16];
    int n = snprintf(dir, sizeof dir, "%s/seccomp", sh->opt.state_dir);
    const struct scmp_version *lib = seccomp_version();
    int m = snprintf(path, sizeof path, "%s/default-%llx%s-v%d-libseccomp-%u.%u.%u.bpf", dir,
                     (unsigned long long)p->caps, wr_seccomp_kernel_x32() ? "-x32" : "",
                     DEFAULT_PROFILE_VERSION, lib->major, lib->minor, lib->micro);
    if (n < 0 || (size_t)n >= sizeof dir || m < 0 || (size_t)m >= sizeof path)
        return wr_seccomp_filter_prepare(p, &sh->seccomp, err);
    struct wr_security_profile cached = *p;
    cached.seccomp_mode = WR_SECCOMP_BPF;
    snprintf(cached.seccomp, sizeof cached.seccomp, "%s", path);
    if (wr_seccomp_filter_prepare(&cached, &sh->seccomp, err) == 0)
        return 0;
    if (wr_seccomp_filter_prepare(p, &sh->seccomp, err) < 0)
        return -1;
    /* Best effort: a failure to cache costs the next cold start only. */
    snprintf(tmp, sizeof tmp, "%s.%d", path, (int)getpid());
    if (mkdir(dir, 0700) < 0 && errno != EEXIST)
        return 0;
    cleanup_close int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    size_t bytes = sh->seccomp.len * sizeof(struct sock_filter);
    if (fd >= 0 && write(fd, sh->seccomp.insns, bytes) == (ssize_t)bytes)
        (void)rename(tmp, path);
    else
        (void)unlink(tmp);
    return 0;
}
