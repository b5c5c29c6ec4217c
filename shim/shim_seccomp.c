/* `warmrun-shim --compile-seccomp PROFILE OUT`: compiles the seccomp
 * filter of an encoded security profile (see security_profile.h) to OUT,
 * once per pool, so that the daemon (static, without libseccomp) never
 * links the compiler and no shim of the pool compiles it again. */
#include "shim.h"

#include "cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <stdio.h>
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
        fprintf(stderr, "warmrun-shim: seccomp: %s\n", err.msg);
        return 1;
    }
    return 0;
}
