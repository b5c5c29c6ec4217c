/* A tenant that leaves network traces, and the namespace's identity, for
 * tests/integration/94-netns-recycle.t. Static, no warmrun code.
 *
 *   netprobe cookie   prints the network namespace's cookie (SO_NETNS_COOKIE:
 *                     64 bits, never reused while the host runs, unlike the
 *                     nsfs inode number).
 *   netprobe leave    in a background process (its own session, ignoring
 *                     SIGHUP and SIGTERM): a listening TCP socket on
 *                     127.0.0.1 and on ::1, a bound UDP socket, a listening
 *                     abstract unix socket; then a TCP connection over lo
 *                     that this process closes first (TIME_WAIT, 60 s);
 *                     tries a network sysctl. Prints "left WHAT" for each.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

static int tcp_listen(int family, const char *addr, int port)
{
    struct sockaddr_storage ss;
    socklen_t len;
    memset(&ss, 0, sizeof ss);
    if (family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)port);
        inet_pton(AF_INET, addr, &a->sin_addr);
        len = sizeof *a;
    } else {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)port);
        inet_pton(AF_INET6, addr, &a->sin6_addr);
        len = sizeof *a;
    }
    int s = socket(family, SOCK_STREAM, 0);
    if (s < 0 || bind(s, (struct sockaddr *)&ss, len) < 0 || listen(s, 4) < 0)
        return -1;
    return s;
}

static int background(void)
{
    int ready[2];
    if (pipe(ready) < 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid > 0) {
        char c;
        close(ready[1]);
        return read(ready[0], &c, 1) == 1 ? 0 : -1;
    }
    setsid();
    signal(SIGHUP, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    close(ready[0]);
    int t4 = tcp_listen(AF_INET, "127.0.0.1", 7001);
    int t6 = tcp_listen(AF_INET6, "::1", 7002);
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in ua = {.sin_family = AF_INET, .sin_port = htons(7003)};
    inet_pton(AF_INET, "127.0.0.1", &ua.sin_addr);
    int ub = u >= 0 && bind(u, (struct sockaddr *)&ua, sizeof ua) == 0;
    int x = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un xa = {.sun_family = AF_UNIX};
    int n = snprintf(xa.sun_path + 1, sizeof xa.sun_path - 1, "netprobe-trace");
    int xb = x >= 0 &&
             bind(x, (struct sockaddr *)&xa,
                  (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n)) == 0 &&
             listen(x, 1) == 0;
    printf("%s%s%s%s", t4 >= 0 ? "left tcp listener 127.0.0.1:7001\n" : "",
           t6 >= 0 ? "left tcp listener [::1]:7002\n" : "",
           ub ? "left udp socket 127.0.0.1:7003\n" : "",
           xb ? "left abstract unix socket @netprobe-trace\n" : "");
    fflush(stdout);
    (void)!write(ready[1], "r", 1);
    close(ready[1]);
    close(1);
    close(2);
    for (;;)
        pause();
}

/* A connection over lo that we close first: our side stays in TIME_WAIT. */
static int time_wait(void)
{
    int l = tcp_listen(AF_INET, "127.0.0.1", 7004);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(7004)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    int c = socket(AF_INET, SOCK_STREAM, 0);
    if (l < 0 || c < 0 || connect(c, (struct sockaddr *)&a, sizeof a) < 0)
        return -1;
    int s = accept(l, NULL, NULL);
    if (s < 0)
        return -1;
    (void)!write(c, "x", 1);
    close(s); /* active close: s goes FIN_WAIT -> TIME_WAIT once c closes */
    char buf[4];
    while (read(c, buf, sizeof buf) > 0)
        ;
    close(c);
    close(l);
    usleep(100000);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "cookie") == 0) {
        uint64_t cookie;
        socklen_t len = sizeof cookie;
        int s = socket(AF_INET, SOCK_DGRAM, 0);
        if (s < 0 || getsockopt(s, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len) < 0) {
            perror("SO_NETNS_COOKIE");
            return 1;
        }
        close(s);
        printf("%llu\n", (unsigned long long)cookie);
        return 0;
    }
    if (argc == 2 && strcmp(argv[1], "leave") == 0) {
        if (background() < 0)
            perror("background");
        if (time_wait() == 0)
            printf("left tcp time_wait 127.0.0.1:7004\n");
        int fd = open("/proc/sys/net/ipv4/ip_default_ttl", O_WRONLY);
        if (fd >= 0 && write(fd, "42", 2) == 2)
            printf("left sysctl ip_default_ttl\n");
        else
            printf("sysctl ip_default_ttl not writable (%s)\n", strerror(errno));
        return 0;
    }
    fprintf(stderr, "usage: netprobe cookie|leave\n");
    return 2;
}
