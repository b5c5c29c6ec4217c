/* `warmrun-shim --compile-seccomp PROFILE OUT`: compiles the seccomp
 * filter of an encoded security profile (see security_profile.h) to OUT,
 * once per pool, so that the daemon (static, without libseccomp) never
 * links the compiler and no shim of the pool compiles it again. */
#include "shim.h"
#include "shim_log.h"
#include "shim_seccomp_cache.h"

#include "lib/cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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
 * load it, when it is whole and nobody else's (shim_seccomp_cache.c);
 * else they compile it again and replace it. Bump the version when the
 * default table, the way it is compiled or the file's format changes. */
#define DEFAULT_PROFILE_VERSION                                                                    \
    5 /* 2: io_uring denied; 3: x32 only if the kernel has it; 4: by ranges; 5: a header with      \
         the length and a checksum, written crash-safe */

int shim_seccomp_prepare(struct shim *sh, wr_error *err)
{
    struct wr_security_profile *p = &sh->opt.security;
    if (p->privileged || p->seccomp_mode != WR_SECCOMP_DEFAULT)
        return wr_seccomp_filter_prepare(p, &sh->seccomp, err);
    char dir[WR_SECCOMP_MAX], name[NAME_MAX + 1];
    int n = snprintf(dir, sizeof dir, "%s/seccomp", sh->opt.state_dir);
    const struct scmp_version *lib = seccomp_version();
    int m = snprintf(name, sizeof name, "default-%llx%s-v%d-libseccomp-%u.%u.%u.bpf",
                     (unsigned long long)p->caps, wr_seccomp_kernel_x32() ? "-x32" : "",
                     DEFAULT_PROFILE_VERSION, lib->major, lib->minor, lib->micro);
    if (n < 0 || (size_t)n >= sizeof dir || m < 0 || (size_t)m >= sizeof name)
        return wr_seccomp_filter_prepare(p, &sh->seccomp, err);
    cleanup_close int dirfd = shim_seccomp_cache_dir(dir);
    if (dirfd >= 0 && shim_seccomp_cache_load(dirfd, name, &sh->seccomp))
        return 0;
    if (wr_seccomp_filter_prepare(p, &sh->seccomp, err) < 0)
        return -1;
    /* Best effort: a failure to cache costs the next cold start only. */
    if (dirfd >= 0)
        shim_seccomp_cache_store(dirfd, name, &sh->seccomp);
    return 0;
}
