/* TAP test of runtime/lib/nft_batch.c's answers, against the kernel:
 *  - a batch the kernel refuses as a whole (no CAP_NET_ADMIN over the
 *    socket's network namespace: one answer, to the batch's begin) fails
 *    at once with EPERM, not after the receive timeout waiting for the
 *    answers of its elements (then EAGAIN);
 *  - a batch for a table that does not exist fails with ENOENT, and the
 *    next batch on the same socket is not confused by earlier answers;
 *  - a forked child gets a socket of its own (it does not read the
 *    parent's answers). */
#include "lib/nft_batch.h"
#include "tap.h"

#include <errno.h>
#include <linux/netfilter.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Two elements of a table that does not exist: errnum of the batch. */
static int two_elems(wr_error *err)
{
    static const uint8_t mac[6] = {2, 0, 0, 0, 0, 1};
    struct wr_nft_elem e[2] = {{.set = "allowed"}, {.set = "ports"}};
    char table[64];
    snprintf(table, sizeof table, "warmrun_nosuch%d", (int)getpid());
    wr_nft_key_guard(&e[0], "wrnosuch", mac, 0x0a000002);
    wr_nft_key_ifname(&e[1], "wrnosuch");
    return wr_nft_elems(NFPROTO_BRIDGE, table, true, e, 2, err) < 0 ? err->errnum : 0;
}

int main(void)
{
    wr_error err;
    if (geteuid() != 0) {
        printf("1..0 # SKIP needs root\n");
        return 0;
    }
    is_int(two_elems(&err), ENOENT, "a batch for a missing table: ENOENT");
    is_int(two_elems(&err), ENOENT, "  and again on the same socket");

    /* In a child of its own user namespace: the host's network namespace
     * is not its to change. */
    int pipefd[2];
    if (pipe(pipefd) < 0)
        return 1;
    pid_t pid = fork();
    if (pid == 0) {
        int r[2] = {-1, 0};
        if (unshare(CLONE_NEWUSER) == 0) {
            r[0] = two_elems(&err);
        }
        _exit(write(pipefd[1], r, sizeof r) == sizeof r ? 0 : 1);
    }
    int r[2] = {0, 0}, status;
    close(pipefd[1]);
    ok(read(pipefd[0], r, sizeof r) == sizeof r, "the unprivileged child reported");
    waitpid(pid, &status, 0);
    is_int(r[0], EPERM, "a batch refused as a whole: EPERM (the answer to its begin)");
    /* The parent's socket still answers its own batches. */
    is_int(two_elems(&err), ENOENT, "the parent's socket after a fork: its own answers");
    return done_testing();
}
