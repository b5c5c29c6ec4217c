/* The one cleanup idiom of the tree: scope-bound ownership with
 * __attribute__((cleanup)). A variable marked cleanup_free/cleanup_close is
 * released when it leaves scope unless ownership was moved out with
 * steal_pointer()/steal_fd(). File descriptors start at -1. */
#ifndef WARMRUN_CLEANUP_H
#define WARMRUN_CLEANUP_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline void wr_freep(void *p)
{
    free(*(void **)p);
}

static inline void wr_closep(int *fd)
{
    if (*fd >= 0)
        close(*fd);
}

static inline void wr_fclosep(FILE **f)
{
    if (*f)
        fclose(*f);
}

static inline void wr_closedirp(DIR **d)
{
    if (*d)
        closedir(*d);
}

#define cleanup_free     __attribute__((cleanup(wr_freep)))
#define cleanup_close    __attribute__((cleanup(wr_closep)))
#define cleanup_fclose   __attribute__((cleanup(wr_fclosep)))
#define cleanup_closedir __attribute__((cleanup(wr_closedirp)))

#define steal_pointer(pp)                                                                          \
    ({                                                                                             \
        __typeof__(*(pp)) stolen_ = *(pp);                                                         \
        *(pp) = NULL;                                                                              \
        stolen_;                                                                                   \
    })

static inline int steal_fd(int *fd)
{
    int stolen = *fd;
    *fd = -1;
    return stolen;
}

#endif
