/* TAP test of the daemon's HTTP listener (runtime/daemon/daemon_http.c) on a
 * real loopback socket: the test's main thread is the daemon's loop (its
 * epoll set, daemon_http_on_event, run_due, bury, as daemon_main's), a
 * second thread is the HTTP client speaking raw HTTP/1.1. Routes: POST
 * /echo (answered in the handler, max_body 16), GET /later (answered by the
 * loop afterwards), GET /hang (never answered: the client hangs up).
 * Needs no privileges. */
#include "tap.h"
#include "daemon/daemon.h"
#include "daemon/daemon_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#define TOKEN "0123456789abcdef-secret"

static struct daemon d;
static struct daemon_http_request *later_req;
static atomic_int hang_seen, hang_cancelled, client_done;

static void on_echo(struct daemon *dd, struct daemon_http_request *req, void *arg)
{
    (void)dd;
    (void)arg;
    size_t len;
    const void *body = daemon_http_body(req, &len);
    static const char *const hdr[] = {"X-Path", NULL, NULL};
    const char *h[] = {hdr[0], daemon_http_path(req), NULL};
    daemon_http_respond(req, 200, "text/plain", body, len, h);
}

static void on_later(struct daemon *dd, struct daemon_http_request *req, void *arg)
{
    (void)dd;
    (void)arg;
    later_req = req;
}

static void hang_cancel(void *arg)
{
    (void)arg;
    atomic_store(&hang_cancelled, 1);
}

static void on_hang(struct daemon *dd, struct daemon_http_request *req, void *arg)
{
    (void)dd;
    (void)arg;
    daemon_http_on_cancel(req, hang_cancel, NULL);
    atomic_store(&hang_seen, 1);
}

/* ---- the client ---------------------------------------------------------- */

struct reply {
    int status;
    char text[4096];
};

static int connect_to(uint16_t port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct timeval tv = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Sends raw, reads until the server closes; status -1: no answer. */
static void exchange(uint16_t port, const char *raw, struct reply *r)
{
    r->status = -1;
    r->text[0] = '\0';
    int fd = connect_to(port);
    if (fd < 0)
        return;
    (void)!write(fd, raw, strlen(raw));
    size_t used = 0;
    ssize_t n;
    while (used < sizeof r->text - 1 &&
           (n = read(fd, r->text + used, sizeof r->text - 1 - used)) > 0)
        used += (size_t)n;
    r->text[used] = '\0';
    close(fd);
    if (!strncmp(r->text, "HTTP/1.1 ", 9))
        r->status = atoi(r->text + 9);
}

static const char *body_of(const struct reply *r)
{
    const char *b = strstr(r->text, "\r\n\r\n");
    return b ? b + 4 : "";
}

static uint16_t port_plain, port_token;
static struct reply r404, r405, recho, r413, rchunk, rlater, rnoauth, rbadauth, rauth;

static void *client(void *arg)
{
    (void)arg;
    exchange(port_plain, "GET /nothing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", &r404);
    exchange(port_plain,
             "POST /later HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
             "Content-Length: 0\r\n\r\n",
             &r405);
    exchange(port_plain,
             "POST /echo/sub HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
             "Content-Length: 5\r\n\r\nhello",
             &recho);
    exchange(port_plain,
             "POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
             "Content-Length: 100000\r\n\r\n0123456789",
             &r413);
    exchange(port_plain,
             "POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
             "Transfer-Encoding: chunked\r\n\r\n"
             "14\r\n01234567890123456789\r\n0\r\n\r\n",
             &rchunk);
    exchange(port_plain, "GET /later HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", &rlater);
    /* /hang: the client goes before the answer. */
    int fd = connect_to(port_plain);
    const char *hang = "GET /hang HTTP/1.1\r\nHost: x\r\n\r\n";
    (void)!write(fd, hang, strlen(hang));
    for (int i = 0; i < 500 && !atomic_load(&hang_seen); i++)
        usleep(10000);
    close(fd);
    for (int i = 0; i < 500 && !atomic_load(&hang_cancelled); i++)
        usleep(10000);
    exchange(port_token, "GET /later HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", &rnoauth);
    exchange(port_token,
             "GET /later HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
             "Authorization: Bearer 0123456789abcdef-secreT\r\n\r\n",
             &rbadauth);
    exchange(port_token,
             "POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
             "Authorization: Bearer " TOKEN "\r\nContent-Length: 2\r\n\r\nok",
             &rauth);
    atomic_store(&client_done, 1);
    return NULL;
}

/* ---- the loop ------------------------------------------------------------ */

static void run_loop(struct daemon *dd, struct daemon *d2)
{
    struct epoll_event ev[16];
    for (int rounds = 0; rounds < 3000 && !atomic_load(&client_done); rounds++) {
        int n = epoll_wait(dd->epfd, ev, 16, 10);
        for (int i = 0; i < n; i++) {
            /* Both listeners share the epoll set: an MHD_run of the other
             * one finds nothing to do. Only the plain one has /hang. */
            struct watch *w = ev[i].data.ptr;
            daemon_http_on_event(dd, w);
            if (w->kind == WATCH_HTTP)
                daemon_http_on_event(d2, w);
        }
        if (later_req) {
            daemon_http_respond(later_req, 202, "text/plain", "later", 5, NULL);
            later_req = NULL;
        }
        daemon_http_run_due(dd);
        daemon_http_run_due(d2);
        daemon_http_bury(dd);
        daemon_http_bury(d2);
    }
}

static int add_routes(struct daemon *dd, wr_error *err)
{
    if (daemon_http_route(dd, "POST", "/echo", 16, on_echo, NULL, err) < 0 ||
        daemon_http_route(dd, "GET", "/later", 0, on_later, NULL, err) < 0 ||
        daemon_http_route(dd, "GET", "/hang", 0, on_hang, NULL, err) < 0)
        return -1;
    return 0;
}

int main(void)
{
    static struct daemon d2;
    wr_error err;
    char dir[] = "/tmp/wr-test-http.XXXXXX", token_file[64], loose_file[64];
    if (!mkdtemp(dir))
        bail_out("mkdtemp");
    snprintf(token_file, sizeof token_file, "%s/token", dir);
    snprintf(loose_file, sizeof loose_file, "%s/loose", dir);
    int fd = open(token_file, O_WRONLY | O_CREAT | O_EXCL, 0600);
    (void)!write(fd, TOKEN "\n", strlen(TOKEN) + 1);
    close(fd);
    fd = open(loose_file, O_WRONLY | O_CREAT | O_EXCL, 0644);
    (void)!write(fd, TOKEN "\n", strlen(TOKEN) + 1);
    close(fd);
    chmod(loose_file, 0644);

    d.epfd = epoll_create1(EPOLL_CLOEXEC);
    d2.epfd = d.epfd;
    if (add_routes(&d, &err) < 0 || add_routes(&d2, &err) < 0)
        bail_out("routes: %s", err.msg);
    is_int(daemon_http_route(&d, "GET", "/hang", 0, on_hang, NULL, &err), -1,
           "the same method and prefix twice: refused");
    is_int(err.errnum, EEXIST, "... EEXIST");
    is_int(daemon_http_route(&d, "GET", "nope", 0, on_hang, NULL, &err), -1,
           "a prefix not starting with /: refused");

    static struct daemon d3;
    d3.epfd = epoll_create1(EPOLL_CLOEXEC);
    is_int(daemon_http_start(&d3, "0.0.0.0:0", NULL, &err), -1,
           "a non-loopback address without a token: refused");
    is_int(err.errnum, EACCES, "... EACCES (%s)", err.msg);
    is_int(daemon_http_start(&d3, "0.0.0.0:0", loose_file, &err), -1,
           "a token file readable by others: refused");
    is_int(err.errnum, EACCES, "... EACCES (%s)", err.msg);
    is_int(daemon_http_start(&d3, "127.0.0.1:99999", NULL, &err), -1, "port 99999: refused");
    is_int(daemon_http_start(&d3, "example.org:80", NULL, &err), -1, "a host name: refused");
    daemon_http_stop(&d3);
    close(d3.epfd);

    if (daemon_http_start(&d, "127.0.0.1:0", NULL, &err) < 0)
        bail_out("start: %s", err.msg);
    if (daemon_http_start(&d2, "127.0.0.1:0", token_file, &err) < 0)
        bail_out("start with a token: %s", err.msg);
    port_plain = daemon_http_port(&d);
    port_token = daemon_http_port(&d2);
    ok(port_plain > 0 && port_token > 0, "port 0: a free port was picked (%u, %u)", port_plain,
       port_token);

    pthread_t t;
    pthread_create(&t, NULL, client, NULL);
    run_loop(&d, &d2);
    pthread_join(t, NULL);

    is_int(r404.status, 404, "an unknown path: 404");
    is_int(r405.status, 405, "a known path with another method: 405");
    ok(strstr(r405.text, "Allow: GET") != NULL, "... with Allow: GET");
    is_int(recho.status, 200, "POST /echo/sub: answered in the handler");
    is_str(body_of(&recho), "hello", "... with the request body");
    ok(strstr(recho.text, "X-Path: /echo/sub") != NULL, "... path and headers passed");
    is_int(r413.status, 413, "a Content-Length over max_body: 413");
    ok(rchunk.status != 200, "a chunked body over max_body is not served (status %d)",
       rchunk.status);
    is_int(rlater.status, 202, "GET /later: answered from the loop after the handler");
    is_str(body_of(&rlater), "later", "... with its body");
    ok(atomic_load(&hang_cancelled), "a client gone before the answer: cancel ran");
    is_int(rnoauth.status, 401, "token set, no Authorization: 401");
    ok(strstr(rnoauth.text, "WWW-Authenticate: Bearer") != NULL, "... WWW-Authenticate: Bearer");
    is_int(rbadauth.status, 401, "a wrong token: 401");
    is_int(rauth.status, 200, "the right token: served");

    /* A request unanswered when the daemon stops is cancelled. */
    daemon_http_stop(&d);
    daemon_http_stop(&d2);
    ok(d.http == NULL && d2.http == NULL, "stopped");
    close(d.epfd);
    tap_rm_tree(dir);
    return done_testing();
}
