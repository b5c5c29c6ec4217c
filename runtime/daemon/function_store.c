/* Stored definitions: a function's create request in
 * <state>/functions/NAME.json, written via NAME.json.tmp, created again by
 * the next daemon (function_internal.h). */
#include "daemon_function.h"

#include "daemon_log.h"
#include "function_internal.h"

#include "lib/cleanup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* A stored definition is created again; one that no longer works is
 * logged and kept (its image may come back). */
void fn_store_restore(struct daemon *d)
{
    cleanup_closedir DIR *dir = opendir(d->functions->dir);
    struct dirent *de;
    while (dir && (de = readdir(dir))) {
        size_t n = strlen(de->d_name);
        if (n < 6 || strcmp(de->d_name + n - 5, ".json") != 0)
            continue;
        char path[4400], buf[WR_API_MSG_MAX];
        snprintf(path, sizeof path, "%s/%s", d->functions->dir, de->d_name);
        cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        ssize_t len = fd >= 0 ? read(fd, buf, sizeof buf) : -1;
        struct wr_request req;
        wr_error err;
        if (len <= 0 || wr_request_parse(buf, (size_t)len, &req, &err) < 0 ||
            req.op != WR_OP_FUNCTION_CREATE) {
            daemon_log("function definition %s: unreadable", path);
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
