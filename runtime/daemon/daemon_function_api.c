/* See daemon_function_api.h. */
#include "daemon_function_api.h"

#include "daemon_client.h"
#include "daemon_function.h"

#include "lib/cleanup.h"
#include "lib/fdpass.h"
#include "lib/volumes.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static void send_reply(int fd, const struct wr_reply *r, int body_fd)
{
    size_t len;
    wr_error err;
    cleanup_free char *text = wr_reply_encode(r, &len);
    if (!text)
        return;
    if (body_fd >= 0)
        (void)wr_send_fds(fd, text, len, &body_fd, 1, &err);
    else
        (void)send(fd, text, len, MSG_NOSIGNAL | MSG_DONTWAIT);
}

static void send_error(int fd, const char *code, const char *msg)
{
    struct wr_reply r = {.ok = false};
    snprintf(r.code, sizeof r.code, "%s", code);
    snprintf(r.error, sizeof r.error, "%s", msg);
    send_reply(fd, &r, -1);
}

/* The error codes of the API for the invoke's errno values. */
static const char *invoke_code(int errnum)
{
    switch (errnum) {
    case ENOENT:
        return "not_found";
    case E2BIG:
        return "too_large";
    case EBADMSG:
        return "invalid_content";
    case EBUSY:
        return "busy";
    default:
        return "internal";
    }
}

static void invoke_done(struct daemon *d, void *arg, const char *code, const char *msg,
                        const struct wr_invoke_result *result, const void *body, size_t len)
{
    (void)d;
    int fd = (int)(intptr_t)arg;
    if (code) {
        send_error(fd, code, msg);
        close(fd);
        return;
    }
    cleanup_close int mfd = memfd_create("warmrun-response", MFD_CLOEXEC);
    size_t off = 0;
    while (mfd >= 0 && off < len) {
        ssize_t n = write(mfd, (const char *)body + off, len - off);
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    if (mfd < 0 || off < len) {
        send_error(fd, "internal", "cannot pass the response body");
    } else {
        struct wr_reply r = {.ok = true, .kind = WR_REPLY_INVOKE, .invoke = *result};
        send_reply(fd, &r, mfd);
    }
    close(fd);
}

/* The payload: a regular file (memfd) of at most 6 MB, read from offset 0.
 * Returns its malloc'd bytes, NULL with *len 7 MB when too large, NULL on
 * error. */
static char *read_payload(int fd, size_t *len)
{
    struct stat st;
    *len = 0;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
        return NULL;
    if (st.st_size > WR_INVOKE_PAYLOAD_MAX) {
        *len = (size_t)st.st_size;
        return NULL;
    }
    char *buf = malloc((size_t)st.st_size + 1);
    ssize_t n = buf ? pread(fd, buf, (size_t)st.st_size, 0) : -1;
    if (n != (ssize_t)st.st_size) {
        free(buf);
        return NULL;
    }
    *len = (size_t)n;
    return buf;
}

static void invoke(struct daemon *d, struct client *c, struct wr_request *req, const int *fds,
                   size_t nfds)
{
    wr_error err;
    size_t len = 0;
    cleanup_free char *payload = NULL;
    if (nfds == 1) {
        payload = read_payload(fds[0], &len);
        if (!payload && len > WR_INVOKE_PAYLOAD_MAX) {
            daemon_send_error(c, "too_large",
                              "RequestEntityTooLargeException: Request must be smaller than "
                              "6291456 bytes for the InvokeFunction operation");
            return;
        }
        if (!payload) {
            daemon_send_error(c, "invalid", "the payload must be a regular file or a memfd");
            return;
        }
    } else if (nfds > 1) {
        daemon_send_error(c, "invalid", "invoke carries at most one descriptor, its payload");
        return;
    }
    const char *type = req->invocation_type ? req->invocation_type : "RequestResponse";
    if (strcmp(type, "DryRun") == 0) {
        if (!daemon_function_exists(d, req->name)) {
            daemon_send_error(c, "not_found", "Function not found");
            return;
        }
        struct wr_reply r = {.ok = true};
        send_reply(c->fd, &r, -1);
        return;
    }
    bool event = strcmp(type, "Event") == 0;
    int fd = event ? -1 : fcntl(c->fd, F_DUPFD_CLOEXEC, 3);
    if (!event && fd < 0) {
        daemon_send_error(c, "internal", "out of descriptors");
        return;
    }
    if (daemon_function_invoke(d, req->name, payload ? payload : "{}", payload ? len : 2,
                               req->log_tail, event ? NULL : invoke_done, (void *)(intptr_t)fd,
                               &err) < 0) {
        if (fd >= 0)
            close(fd);
        /* Lambda's own words for the throttle, the size and the content
         * (API_Invoke). */
        if (err.errnum == EBADMSG)
            wr_error_prefix(&err, "InvalidRequestContentException");
        daemon_send_error(c, invoke_code(err.errnum),
                          err.errnum == EBUSY   ? "TooManyRequestsException: Rate Exceeded."
                          : err.errnum == E2BIG ? "RequestEntityTooLargeException: Request must "
                                                  "be smaller than 6291456 bytes"
                                                : err.msg);
        return;
    }
    if (event) {
        struct wr_reply r = {.ok = true};
        send_reply(c->fd, &r, -1);
    }
}

void daemon_function_request(struct daemon *d, struct client *c, struct wr_request *req,
                             const int *fds, size_t nfds)
{
    wr_error err;
    if (req->op != WR_OP_INVOKE && nfds > 0) {
        daemon_send_error(c, "invalid", "only activate and invoke carry file descriptors");
        return;
    }
    switch (req->op) {
    case WR_OP_FUNCTION_CREATE:
        /* A bind source that is not there: refused before any container. */
        if (wr_volumes_check_sources(&req->volumes, &err) < 0)
            daemon_send_error(c, "invalid", err.msg);
        else if (daemon_function_create(d, req, &err) < 0)
            daemon_send_error(c,
                              err.errnum == EEXIST   ? "conflict"
                              : err.errnum == ENOENT ? "not_found"
                                                     : "invalid",
                              err.msg);
        else
            send_reply(c->fd, &(struct wr_reply){.ok = true}, -1);
        break;
    case WR_OP_FUNCTION_RM:
        if (daemon_function_remove(d, req->name, &err) < 0)
            daemon_send_error(c, "not_found", err.msg);
        else
            send_reply(c->fd, &(struct wr_reply){.ok = true}, -1);
        break;
    case WR_OP_FUNCTION_LS: {
        struct wr_reply r = {.ok = true, .kind = WR_REPLY_FUNCTIONS};
        r.functions = daemon_function_list(d, &r.n_functions);
        if (!r.functions)
            daemon_send_error(c, "internal", "out of memory");
        else
            send_reply(c->fd, &r, -1);
        free(r.functions);
        break;
    }
    case WR_OP_INVOKE:
        invoke(d, c, req, fds, nfds);
        break;
    default:
        break;
    }
}
