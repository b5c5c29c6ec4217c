/* The CLI's calls of the daemon, and its one way to print an error. */
#include "cli.h"

#include "lib/cleanup.h"
#include "lib/api_client.h"

#include <stdarg.h>
#include <stdio.h>

void cli_error(const char *fmt, ...)
{
    va_list ap;
    fputs("warmrun: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void cli_blank_controls(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            *s = ' ';
}

int cli_call(const struct wr_paths *g, const struct wr_request *req, struct wr_reply *reply)
{
    wr_error err;
    cleanup_close int sock = wr_api_connect(g->socket, &err);
    if (sock < 0 || wr_api_send_request(sock, req, NULL, 0, &err) < 0 ||
        wr_api_read_reply(sock, reply, &err) < 0) {
        cli_error("%s", err.msg);
        return -1;
    }
    if (!reply->ok) {
        cli_error("%s", reply->error);
        return -1;
    }
    return 0;
}
