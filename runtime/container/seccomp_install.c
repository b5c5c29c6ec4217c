/* Installing a compiled seccomp filter: one raw seccomp(2) call, no
 * library, so that it can run in the container child on the fill path. */
#include "seccomp_install.h"

#include "lib/seccomp_profile.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/syscall.h>
#include <unistd.h>

int wr_seccomp_filter_install(const struct wr_seccomp_filter *f, wr_error *err)
{
    if (!f || !f->insns)
        return 0;
    struct sock_fprog prog = {.len = (unsigned short)f->len, .filter = f->insns};
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
        return wr_error_set(err, errno, "install the seccomp filter");
    return 0;
}
