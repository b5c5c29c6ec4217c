/* A function runtime that makes the daemon buffer request bodies, for
 * tests/integration/97-review-net-fn.t. Static, no warmrun code.
 *
 *   rtflood N   opens N connections to the Runtime API (127.0.0.1:9001),
 *               on each sends a POST .../init/error announcing a 6 MiB
 *               body and all of it but its last 100 bytes, then holds
 *               them all open; prints "holding N" to stderr.
 *   rtflood idleN  opens N connections and sends nothing; two seconds
 *               later prints "holding K" (the K the daemon did not close).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BODY (6u << 20)

int main(int argc, char **argv)
{
    static char chunk[65536];
    const char *head = "POST /2018-06-01/runtime/init/error HTTP/1.1\r\nHost: runtime\r\n"
                       "Content-Length: 6291456\r\n\r\n";
    int n = argc > 1 ? atoi(argv[1]) : 32, held = 0;
    memset(chunk, 'x', sizeof chunk);
    if (argc > 1 && strncmp(argv[1], "idle", 4) == 0) {
        n = atoi(argv[1] + 4);
        static int fds[4096];
        int m = 0;
        for (int i = 0; i < n && m < 4096; i++) {
            struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(9001)};
            sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            int fd = socket(AF_INET, SOCK_STREAM, 0);
            if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0)
                fds[m++] = fd;
        }
        sleep(2);
        for (int i = 0; i < m; i++) {
            struct pollfd p = {.fd = fds[i], .events = POLLIN | POLLRDHUP};
            if (poll(&p, 1, 0) == 0)
                held++;
        }
        fprintf(stderr, "holding %d\n", held);
        for (;;)
            pause();
    }
    for (int i = 0; i < n; i++) {
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(9001)};
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
            write(fd, head, strlen(head)) != (ssize_t)strlen(head))
            continue;
        size_t sent = 0;
        while (sent + sizeof chunk + 100 <= BODY) {
            ssize_t w = write(fd, chunk, sizeof chunk);
            if (w <= 0)
                break;
            sent += (size_t)w;
        }
        held++;
    }
    fprintf(stderr, "holding %d\n", held);
    for (;;)
        pause();
}
