/* openat2(2) as every lookup inside a root uses it (the container's working
 * directory and mount targets, the image's /etc/passwd and /etc/group). */
#ifndef WARMRUN_OPENAT2_H
#define WARMRUN_OPENAT2_H

struct open_how;

/* openat2(2) (how's size passed for the caller), called again while it
 * fails with EAGAIN (a ".." that raced with a rename or mount on the host),
 * at most 64 times. Returns the descriptor, or -1 with errno. */
int wr_openat2(int dirfd, const char *path, const struct open_how *how);

#endif
