/* See daemon_notify.h. */
#include "daemon_notify.h"

#include "lib/api_client.h"
#include "lib/cleanup.h"
#include "lib/protocol.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int wr_image_notify_daemon(const char *socket_path, const char *ref, bool *no_daemon, char *rolled,
                           size_t cap, wr_error *err)
{
    *no_daemon = false;
    rolled[0] = '\0';
    cleanup_close int sock = wr_api_connect(socket_path, err);
    if (sock < 0) {
        *no_daemon = err->errnum == ENOENT || err->errnum == ECONNREFUSED;
        return *no_daemon ? 0 : -1;
    }
    struct wr_request req = {.op = WR_OP_IMAGE_UPDATED, .image = (char *)ref};
    struct wr_reply r;
    if (wr_api_send_request(sock, &req, NULL, 0, err) < 0 || wr_api_read_reply(sock, &r, err) < 0)
        return wr_error_prefix(err, "telling the daemon at %s", socket_path);
    int rc = 0;
    if (!r.ok && strcmp(r.code, "invalid") == 0) {
        /* A daemon older than this op: it cannot roll, and says so. */
        rc = wr_error_set(err, EOPNOTSUPP, "the daemon at %s cannot roll pools over (%s)",
                          socket_path, r.error);
    } else if (!r.ok) {
        rc = wr_error_set(err, 0, "the daemon at %s could not roll its pool over: %s (%s)",
                          socket_path, r.error, r.code);
    } else {
        size_t used = 0;
        for (size_t i = 0; i < r.n_pools && used < cap; i++) {
            int n = snprintf(rolled + used, cap - used, "%s%s", i ? ", " : "", r.pools[i].image);
            used += n > 0 ? (size_t)n : 0;
        }
    }
    wr_reply_free(&r);
    return rc;
}
