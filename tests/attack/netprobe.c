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
 *   netprobe flowlabel N  creates N IPv6 flow labels (IPV6_FLOWLABEL_MGR,
 *                     shared with any socket, lingering 150 s) on sockets
 *                     it closes at once; prints "left N".
 *   netprobe noroute N  N UDP connects to an address with no route (the
 *                     IP MIB's OutNoRoutes); prints "left N".
 * (The last two for tests/integration/97-review-net-fn.t: state left with
 * no socket open and no packet on lo.)
 *   netprobe fastopen  a listen with TCP Fast Open on 127.0.0.1 (no
 *                     connection): the namespace's TFO key is made; prints
 *                     "left fastopen".
 *   netprobe mcast N  joins N IPv4 groups (239.82.65.0..) on lo and exits
 *                     at once, without leaving them; prints "left N".
 *   netprobe route6   a UDP connect to [::1]:9 on each CPU, no packet (the
 *                     namespace's per-CPU route cache); prints "left route6".
 * (The last three for tests/integration/116-review-round4.t.)
 */
#define _GNU_SOURCE /* sched_setaffinity */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <linux/in6.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
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

static int flowlabels(int n)
{
    int made = 0;
    while (made < n) {
        int fd = socket(AF_INET6, SOCK_DGRAM, 0);
        if (fd < 0)
            break;
        /* At most 32 labels per socket (FL_MAX_PER_SOCK). */
        for (int i = 0; i < 32 && made < n; i++) {
            struct in6_flowlabel_req r;
            memset(&r, 0, sizeof r);
            inet_pton(AF_INET6, "::1", &r.flr_dst);
            r.flr_label = htonl(0x12340 + (uint32_t)made) & IPV6_FLOWINFO_FLOWLABEL;
            r.flr_action = IPV6_FL_A_GET;
            r.flr_flags = IPV6_FL_F_CREATE;
            r.flr_share = IPV6_FL_S_ANY;
            r.flr_linger = 150;
            r.flr_expires = 150;
            if (setsockopt(fd, IPPROTO_IPV6, IPV6_FLOWLABEL_MGR, &r, sizeof r) < 0) {
                fprintf(stderr, "netleft: IPV6_FLOWLABEL_MGR: %s\n", strerror(errno));
                close(fd);
                goto out;
            }
            made++;
        }
        close(fd);
    }
out:
    printf("left %d\n", made);
    return made == n ? 0 : 1;
}

static int noroute(int n)
{
    for (int i = 0; i < n; i++) {
        int fd = socket(AF_INET, SOCK_DGRAM, 0);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(9)};
        inet_pton(AF_INET, "10.254.253.252", &sa.sin_addr);
        if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0)
            return 1;
        close(fd);
    }
    printf("left %d\n", n);
    return 0;
}

static int fastopen(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0), qlen = 5;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (s < 0 || setsockopt(s, IPPROTO_TCP, TCP_FASTOPEN, &qlen, sizeof qlen) < 0 ||
        bind(s, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(s, 1) < 0) {
        perror("fastopen");
        return 1;
    }
    close(s);
    printf("left fastopen\n");
    return 0;
}

static int mcast(int n)
{
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    for (int i = 0; i < n && s >= 0; i++) {
        struct ip_mreqn m = {.imr_ifindex = 1}; /* lo */
        m.imr_multiaddr.s_addr = htonl(0xef524100u + (uint32_t)i);
        if (setsockopt(s, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof m) < 0) {
            perror("IP_ADD_MEMBERSHIP");
            return 1;
        }
    }
    printf("left %d\n", n);
    fflush(stdout);
    _exit(0); /* the kernel leaves the groups */
}

static int route6(void)
{
    long cpus = sysconf(_SC_NPROCESSORS_CONF);
    for (long cpu = 0; cpu < cpus && cpu < CPU_SETSIZE; cpu++) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET((int)cpu, &set);
        if (sched_setaffinity(0, sizeof set, &set) < 0)
            continue; /* not ours (a cpuset) */
        int fd = socket(AF_INET6, SOCK_DGRAM, 0);
        struct sockaddr_in6 sa = {.sin6_family = AF_INET6, .sin6_port = htons(9)};
        sa.sin6_addr = in6addr_loopback;
        if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
            perror("connect [::1]:9");
            return 1;
        }
        close(fd);
    }
    printf("left route6\n");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "route6") == 0)
        return route6();
    if (argc == 2 && strcmp(argv[1], "fastopen") == 0)
        return fastopen();
    if (argc == 3 && strcmp(argv[1], "mcast") == 0)
        return mcast(atoi(argv[2]));
    if (argc == 3 && strcmp(argv[1], "flowlabel") == 0)
        return flowlabels(atoi(argv[2]));
    if (argc == 3 && strcmp(argv[1], "noroute") == 0)
        return noroute(atoi(argv[2]));
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
    fprintf(stderr, "usage: netprobe cookie|leave|flowlabel N|noroute N|fastopen|mcast N|route6\n");
    return 2;
}
