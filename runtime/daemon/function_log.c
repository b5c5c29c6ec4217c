/* See function_log.h. */
#include "function_log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static int open_log(const char *path, int extra)
{
    return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | extra, 0600);
}

void function_log_open(struct function_log *l, const char *path)
{
    struct stat st;
    snprintf(l->path, sizeof l->path, "%s", path);
    l->fd = open_log(path, 0);
    l->size = l->fd >= 0 && fstat(l->fd, &st) == 0 ? st.st_size : 0;
}

static int rotate(struct function_log *l)
{
    char old[sizeof l->path + 2];
    snprintf(old, sizeof old, "%s.1", l->path);
    if (rename(l->path, old) < 0)
        return -1;
    close(l->fd);
    l->size = 0;
    l->fd = open_log(l->path, O_TRUNC);
    return l->fd < 0 ? -1 : 0;
}

int function_log_write(struct function_log *l, const char *buf, size_t n)
{
    if (l->fd < 0)
        return 0;
    if (l->size > 0 && l->size + (off_t)n > FUNCTION_LOG_MAX && rotate(l) < 0)
        return -1;
    ssize_t w = write(l->fd, buf, n);
    if (w < 0)
        return -1;
    l->size += w;
    return 0;
}

void function_log_close(struct function_log *l)
{
    if (l->fd >= 0)
        close(l->fd);
    l->fd = -1;
}
