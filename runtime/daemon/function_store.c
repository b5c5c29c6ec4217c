/* Stored definitions: a function's create request in
 * <state>/functions/NAME.json, written via NAME.json.tmp, created again by
 * the next daemon (function_internal.h). */
#include "daemon_function.h"

#include "daemon_log.h"
#include "daemon_persist.h"
#include "function_internal.h"

#include "lib/cleanup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* A stored definition is created again; one that no longer works is
 * logged and kept (its image may come back). One that is not a
 * definition (not a regular file of root's, a FIFO (which blocked the
 * daemon's start for good), too large, not JSON, another request, or
 * another function's name than its file's) is refused, saying why, and
 * the rest are restored. */
void fn_store_restore(struct daemon *d)
{
    cleanup_closedir DIR *dir = opendir(d->functions->dir);
    struct dirent *de;
    while (dir && (de = readdir(dir))) {
        size_t n = strlen(de->d_name);
        if (n < 6 || strcmp(de->d_name + n - 5, ".json") != 0)
            continue;
        size_t len;
        struct wr_request req;
        wr_error err;
        cleanup_free char *text = daemon_record_read(dirfd(dir), de->d_name, &len, &err);
        if (!text || wr_request_parse(text, len, &req, &err) < 0) {
            daemon_log("function definition %s/%s: refused: %s", d->functions->dir, de->d_name,
                       err.msg);
            continue;
        }
        if (req.op != WR_OP_FUNCTION_CREATE || strncmp(de->d_name, req.name, n - 5) != 0 ||
            req.name[n - 5] != '\0') {
            daemon_log("function definition %s/%s: refused: not the function_create request of "
                       "function %.*s",
                       d->functions->dir, de->d_name, (int)(n - 5), de->d_name);
            wr_request_free(&req);
            continue;
        }
        if (fn_create(d, &req, &err) < 0)
            daemon_log("function %s: not restored: %s", req.name, err.msg);
        wr_request_free(&req);
    }
}

void fn_store_save(struct daemon *d, const struct function *f)
{
    char path[4200], tmp[4210];
    size_t len = strlen(f->request);
    snprintf(path, sizeof path, "%s/%s.json", d->functions->dir, f->name);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    cleanup_close int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, f->request, len) != (ssize_t)len || rename(tmp, path) < 0)
        daemon_log("function %s: cannot store its definition: %s", f->name, strerror(errno));
}

void fn_store_remove(struct daemon *d, const char *name)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s.json", d->functions->dir, name);
    unlink(path);
}
