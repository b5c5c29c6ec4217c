/* Which pools the running daemon has, for the commands that must not go
 * around one: `image rm` (a pool's containers mount the image's layers)
 * and an activation that cannot be sent to the daemon (cli_activate.c: a
 * cold start of the CLI's own would not have the pool's settings). */
#include "cli.h"

#include "lib/api_client.h"
#include "lib/cleanup.h"
#include "lib/image_store.h"

#include <stdio.h>
#include <string.h>

int cli_find_pool(const struct wr_reply *r, const char *image)
{
    cleanup_free char *name = NULL, *tag = NULL;
    char key[WR_IMAGE_REF_MAX + 1];
    wr_error err;
    if (wr_image_ref_parse(image, &name, &tag, &err) < 0)
        return -1;
    snprintf(key, sizeof key, "%s:%s", name, tag);
    for (size_t i = 0; i < r->n_pools; i++)
        if (strcmp(r->pools[i].image, key) == 0)
            return (int)i;
    return -1;
}

int cli_daemon_has_pool(const struct wr_paths *g, const char *image, wr_error *err)
{
    cleanup_close int sock = wr_api_connect(g->socket, err);
    if (sock < 0)
        return 0;
    struct wr_request ls = {.op = WR_OP_POOL_LS};
    struct wr_reply r;
    if (wr_api_send_request(sock, &ls, NULL, 0, err) < 0 || wr_api_read_reply(sock, &r, err) < 0)
        return -1;
    int i = r.ok ? cli_find_pool(&r, image) : -1;
    wr_reply_free(&r);
    return i >= 0;
}
