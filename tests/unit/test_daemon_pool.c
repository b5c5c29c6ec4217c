/* TAP test of the daemon's pool state machine (runtime/daemon/daemon_pool.c)
 * and of what drives it: a shim's messages (daemon_shim.c), the activation
 * hot path (daemon_api.c), a start for a waiting activation
 * (daemon_start.c). No container is made: the daemon's spawn hook
 * (daemon.spawn, its one test-only seam) gets fake_spawn below, which makes
 * the two socketpairs a real spawn makes and no process; the test holds the
 * shim's and the container's ends and speaks the shim's protocol itself
 * (WARM with a pidfd, FAILED, EXITED, a hang-up). The pidfd a WARM carries
 * is of a child of this test that pauses: SIGCONT and SIGKILL reach it, and
 * nothing else. Everything else is the daemon's real code, on a real image
 * store in a temporary directory. Needs no privileges. */
#include "tap.h"
#include "paused_child.h"
#include "daemon/daemon.h"
#include "daemon/daemon_api.h"
#include "daemon/daemon_client.h"
#include "daemon/daemon_pool.h"
#include "daemon/daemon_shim.h"
#include "daemon/daemon_start.h"
#include "lib/activation.h"
#include "lib/api_client.h"
#include "lib/clock.h"
#include "lib/container_id.h"
#include "lib/fdpass.h"
#include "lib/shim_msg.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define IMAGE     "test:latest"
#define HEX       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define MAX_FAKES 64

static char tmp[256];
static struct daemon d;
static struct wr_paths paths;
static struct wr_security_profile unconfined;
static struct wr_resources no_prefault;

/* ---- fake shims: the test-only part ---------------------------------------- */

struct fake {
    char id[WR_ID_LEN + 1];
    int ctl;     /* the shim's end of the control socket */
    int act;     /* the container's end of the activation socket */
    pid_t child; /* the "container" (a paused child of this test) once WARM */
    bool idle;   /* spawned for a background fill (SCHED_IDLE) */
};
static struct fake fakes[MAX_FAKES];
static int n_fakes;
static bool refuse_spawn;

/* In place of wr_shim_spawn: the same socketpairs, no process. */
static int fake_spawn(const struct wr_shim_spec *spec, struct wr_shim *s, wr_error *err)
{
    int ctl[2], act[2];
    wr_shim_init(s);
    if (refuse_spawn || n_fakes == MAX_FAKES)
        return wr_error_set(err, EAGAIN, "fake spawn refused");
    if (wr_container_id_new(s->id, err) < 0 ||
        socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ctl) < 0 ||
        socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, act) < 0)
        bail_out("fake spawn: %s", strerror(errno));
    struct fake *f = &fakes[n_fakes];
    snprintf(f->id, sizeof f->id, "%s", s->id);
    f->ctl = ctl[1];
    f->act = act[1];
    f->idle = spec->fill_idle;
    s->ctl_fd = ctl[0];
    s->act_fd = act[0];
    s->shim_pid = 4000000 + n_fakes++; /* above pid_max: never a process */
    return 0;
}

/* ---- helpers ------------------------------------------------------------------ */

static void mkdirs(const char *path)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *s = buf + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        mkdir(buf, 0755);
        *s = '/';
    }
    if (mkdir(buf, 0755) < 0 && errno != EEXIST)
        bail_out("mkdir %s: %s", buf, strerror(errno));
}

/* A store with one image of one (empty) layer and no default command. */
static void make_store(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/layers/sha256/%s/root", tmp, HEX);
    mkdirs(path);
    snprintf(path, sizeof path, "%s/images/test", tmp);
    mkdirs(path);
    snprintf(path, sizeof path, "%s/images/test/latest.json", tmp);
    FILE *f = fopen(path, "w");
    if (!f)
        bail_out("%s: %s", path, strerror(errno));
    fprintf(f,
            "{\"schema\": 1, \"name\": \"test\", \"tag\": \"latest\", \"id\": \"sha256:%s\", "
            "\"created\": \"2026-11-28T00:00:00Z\", \"layers\": [\"sha256:%s\"], \"config\": "
            "{\"Entrypoint\": null, \"Cmd\": null, \"Env\": [], \"WorkingDir\": \"/\"}}\n",
            HEX, HEX);
    fclose(f);
    snprintf(path, sizeof path, "%s/state", tmp);
    mkdirs(path);
}

static struct fake *fake_of(const struct entry *e)
{
    for (int i = 0; i < n_fakes; i++)
        if (strcmp(fakes[i].id, e->shim.id) == 0)
            return &fakes[i];
    bail_out("no fake shim for %s", e->shim.id);
}

static struct entry *entry_of(const struct fake *f)
{
    return daemon_find_entry(&d, f->id);
}

static struct pool *pool(void)
{
    return daemon_find_pool(&d, IMAGE);
}

/* The shim reports WARM, with the pidfd of a fresh paused child. */
static void send_warm(struct fake *f)
{
    pid_t pid = paused_child();
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    struct wr_msg m = {.type = WR_MSG_WARM, .num = pid};
    wr_error err;
    if (pidfd < 0 || wr_send_fds(f->ctl, &m, sizeof m, &pidfd, 1, &err) < 0)
        bail_out("send WARM: %s", pidfd < 0 ? strerror(errno) : err.msg);
    close(pidfd);
    f->child = pid;
    daemon_on_shim(&d, entry_of(f));
}

static void send_msg(struct fake *f, uint32_t type, const char *text, int64_t v1, int64_t v2)
{
    struct wr_msg m = {.type = type, .value = v1, .value2 = v2};
    wr_error err;
    snprintf(m.text, sizeof m.text, "%s", text);
    if (wr_send_fds(f->ctl, &m, sizeof m, NULL, 0, &err) < 0)
        bail_out("send to the daemon: %s", err.msg);
    daemon_on_shim(&d, entry_of(f));
}

/* A message the daemon sent the shim (or the container), if one waits. */
static bool read_from_daemon(int fd, void *buf, size_t cap, int *fds, size_t *nfds)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    wr_error err;
    size_t none = 0;
    if (poll(&p, 1, 0) != 1)
        return false;
    ssize_t n = wr_recv_fds(fd, buf, cap, fds, nfds ? nfds : &none, &err);
    return n > 0;
}

static struct client *last_client;

/* A client connection: the test's end; the daemon's is served at once. */
static int client_send(const struct wr_request *req)
{
    int sv[2], stdio[3];
    wr_error err;
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        bail_out("socketpair: %s", strerror(errno));
    fcntl(sv[1], F_SETFL, O_NONBLOCK);
    struct client *c = last_client = daemon_client_new(&d, sv[1]);
    if (!c)
        bail_out("daemon_client_new");
    for (int i = 0; i < 3; i++)
        stdio[i] = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (wr_api_send_request(sv[0], req, stdio, req->op == WR_OP_ACTIVATE ? 3 : 0, &err) < 0)
        bail_out("send request: %s", err.msg);
    for (int i = 0; i < 3; i++)
        close(stdio[i]);
    daemon_on_client(&d, c);
    daemon_start_answer(&d);
    return sv[0];
}

/* The daemon's side of the newest connection (closed ones stay readable
 * until bury()). */
static struct client *client_of(int test_end)
{
    (void)test_end;
    return last_client;
}

/* The reply waiting on the test's end: its code ("" for ok), "none" when
 * no reply waits, "closed" when the daemon hung up without one. */
static const char *reply_code(int fd)
{
    static char code[64];
    struct pollfd p = {.fd = fd, .events = POLLIN};
    struct wr_reply r;
    wr_error err;
    if (poll(&p, 1, 0) != 1)
        return "none";
    if (wr_api_read_reply(fd, &r, &err) < 0)
        return "closed";
    snprintf(code, sizeof code, "%s", r.ok ? "" : r.code);
    wr_reply_free(&r);
    return code;
}

static int activate(const char *cmd, bool no_cold)
{
    char *argv[] = {(char *)cmd, NULL};
    struct wr_request req = {.op = WR_OP_ACTIVATE,
                             .image = (char *)IMAGE,
                             .argv = cmd ? argv : NULL,
                             .argc = cmd ? 1 : 0,
                             .no_cold = no_cold};
    return client_send(&req);
}

static void create_pool(long size, uint64_t tmpfs)
{
    wr_error err;
    if (daemon_pool_create(&d, IMAGE, size, true, tmpfs, &unconfined, &no_prefault, NULL, NULL,
                           &err) < 0)
        bail_out("pool create: %s", err.msg);
}

static void bury(void)
{
    daemon_pool_bury(&d);
    daemon_client_bury(&d);
}

static bool child_killed(pid_t pid)
{
    int st;
    return waitpid(pid, &st, 0) == pid && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL;
}

/* ---- the tests ------------------------------------------------------------------- */

static void fill_warm_fail_backoff(void)
{
    struct pool *p;
    create_pool(2, 1 << 20);
    p = pool();
    daemon_fill_pools(&d);
    ok(n_fakes == 2 && p->filling == 2 && d.filling_total == 2 && fakes[0].idle && fakes[1].idle,
       "spawn: two background fills (SCHED_IDLE), filling 2, fills in flight 2");
    ok(entry_of(&fakes[0])->state == ENTRY_FILLING, "  FILLING");
    send_warm(&fakes[0]);
    ok(entry_of(&fakes[0])->state == ENTRY_WARM && p->warm == 1 && p->filling == 1 &&
           d.filling_total == 1 && p->warm_head == entry_of(&fakes[0]),
       "ready: FILLING -> WARM at the FIFO's tail");
    send_msg(&fakes[1], WR_MSG_FAILED, "no such layer", 0, 0);
    ok(entry_of(&fakes[1])->state == ENTRY_GONE && p->filling == 0 && d.filling_total == 0 &&
           p->failures == 1 && strcmp(p->last_error, "no such layer") == 0,
       "FAILED: counted, with the shim's reason, and the entry is GONE");
    daemon_entry_reaped(&d, entry_of(&fakes[1]));
    ok(!entry_of(&fakes[1]), "reaped: a GONE entry leaves the list (freed after the batch)");
    bury();
    /* Two more failures in a row: the backoff starts at the third. */
    for (int i = 0; i < 2; i++) {
        daemon_fill_pools(&d);
        struct fake *f = &fakes[n_fakes - 1];
        send_msg(f, WR_MSG_FAILED, "again", 0, 0);
        daemon_entry_reaped(&d, entry_of(f));
    }
    bury();
    int before = n_fakes;
    daemon_fill_pools(&d);
    ok(p->consecutive_failures == 3 && p->retry_at_ns > wr_monotonic_ns() && n_fakes == before &&
           daemon_next_fill_ns(&d) == p->retry_at_ns,
       "the third failure in a row: no fill before the backoff's end");
    create_pool(2, 1 << 20);
    ok(p->consecutive_failures == 0 && p->retry_at_ns == 0, "pool create clears the backoff");
    daemon_fill_pools(&d);
    send_warm(&fakes[n_fakes - 1]);
    ok(p->warm == 2 && p->filling == 0, "and the pool fills up: 2 warm");
}

static void take_and_return(void)
{
    struct pool *p = pool();
    struct entry *head = p->warm_head;
    struct entry *e = daemon_pool_take_warm(p);
    ok(e == head && e->state == ENTRY_TAKEN && p->warm == 1 && p->warm_head != e,
       "take_warm: the FIFO's head -> TAKEN");
    daemon_entry_return_warm(e);
    ok(e->state == ENTRY_WARM && p->warm == 2 && p->warm_head == e,
       "return_warm: TAKEN -> WARM at the head");
    /* Through the API: a request the container cannot take (no command:
     * the image has none) puts it back the same way. */
    int fd = activate(NULL, true);
    ok(strcmp(reply_code(fd), "invalid") == 0 && p->warm == 2 && p->warm_head == e &&
           e->state == ENTRY_WARM && p->activations == 0,
       "a request at fault: `invalid`, the container back at the head, nothing counted");
    close(fd);
}

static void hot_path(void)
{
    struct pool *p = pool();
    struct entry *e = p->warm_head;
    struct fake *f = fake_of(e);
    int64_t before = wr_monotonic_ns();
    int fd = activate("/bin/true", true);
    char buf[WR_ACTIVATION_MAX];
    int fds[4];
    size_t nfds = 4;
    struct wr_msg m;
    ok(e->state == ENTRY_RUNNING && p->running == 1 && p->warm == 1 && p->activations == 1 &&
           d.warm_hits == 1 && !e->cold,
       "activate: take_warm, hand-over, TAKEN -> RUNNING");
    ok(read_from_daemon(f->act, buf, sizeof buf, fds, &nfds) && nfds == 3,
       "  the container got the activation message and the 3 stdio");
    for (size_t i = 0; i < nfds; i++)
        close(fds[i]);
    nfds = 4;
    ok(read_from_daemon(f->ctl, &m, sizeof m, fds, &nfds) && m.type == WR_MSG_CLIENT && nfds == 1 &&
           m.num == 0,
       "  the shim got the client connection (CLIENT, warm)");
    ok(strcmp(e->command, "/bin/true") == 0 && p->retry_at_ns >= before + 2000000,
       "  ps shows its command; the refill waits 2 ms after the request");
    ok(strcmp(reply_code(fd), "none") == 0, "  the daemon answers nothing: the shim will");
    if (nfds == 1)
        close(fds[0]);
    close(fd);
    bury();
    int64_t now = wr_monotonic_ns();
    send_msg(f, WR_MSG_EXITED, "", now, now - 1000);
    ok(e->state == ENTRY_GONE && p->running == 0 && d.latency.count == 1,
       "EXITED: RUNNING -> GONE, one latency sample");
    daemon_entry_reaped(&d, e);
    bury();
}

static void failed_hand_over(void)
{
    struct pool *p = pool();
    create_pool(2, 1 << 20); /* no waiting for the refill's delay */
    daemon_fill_pools(&d);
    send_warm(&fakes[n_fakes - 1]);
    ok(p->warm == 2, "refilled: 2 warm");
    struct entry *dead = p->warm_head, *next = dead->warm_next;
    close(fake_of(dead)->act); /* it died while warm */
    fake_of(dead)->act = -1;
    long activations = p->activations;
    int fd = activate("/bin/true", true);
    ok(dead->state == ENTRY_GONE && next->state == ENTRY_RUNNING &&
           p->activations == activations + 1 && p->warm == 0 && p->running == 1,
       "a dead warm container: discarded without being counted, the next one runs");
    close(fd);
    /* A fixed pool of size 0 fills nothing: --no-cold has nothing to wait for. */
    p->size = 0;
    int fd2 = activate("/bin/true", true);
    ok(strcmp(reply_code(fd2), "no_warm") == 0, "none warm, size 0 and --no-cold: no_warm");
    close(fd2);
    p->size = 2;
    daemon_entry_reaped(&d, dead);
    bury();
}

/* --no-cold with none warm: the activation takes the pool's fill in
 * flight (the oldest no one waits for), which leaves SCHED_IDLE, and is
 * handed it when it is ready; the pool refills behind. */
static void no_cold_claims_fill(void)
{
    wr_error err;
    if (daemon_find_pool(&d, IMAGE))
        daemon_pool_remove(&d, IMAGE, &err);
    bury();
    create_pool(2, 3 << 20);
    struct pool *p = pool();
    daemon_fill_pools(&d);
    ok(p->filling == 2 && p->warm == 0, "two fills in flight, none warm");
    struct fake *oldest = &fakes[n_fakes - 2];
    int fd = activate("/bin/true", true);
    struct client *c = client_of(fd);
    struct entry *e = c ? c->starting : NULL;
    ok(e && e == entry_of(oldest) && e->state == ENTRY_STARTING && e->waiter == c && c->claimed &&
           p->filling == 1 && p->starting == 1 && d.starting_total == 1,
       "--no-cold, none warm: it claims the oldest fill (FILLING -> STARTING), no new spawn");
    ok(strcmp(reply_code(fd), "none") == 0, "  and waits: nothing answered yet");
    if (!e) {
        close(fd);
        skip(4, "no claimed fill");
        return;
    }
    send_warm(oldest);
    ok(e->state == ENTRY_RUNNING && p->starting == 0 && d.starting_total == 0 && p->running >= 1,
       "  the fill is ready: handed to the waiting activation");
    char buf[WR_ACTIVATION_MAX];
    int fds[4];
    size_t nfds = 4;
    struct wr_msg m;
    ok(read_from_daemon(oldest->act, buf, sizeof buf, fds, &nfds) && nfds == 3,
       "  activation sent");
    for (size_t i = 0; i < nfds; i++)
        close(fds[i]);
    nfds = 4;
    bool client_msg = read_from_daemon(oldest->ctl, &m, sizeof m, fds, &nfds) &&
                      m.type == WR_MSG_CLIENT &&
                      strstr(m.text, "waited for the one it was filling");
    if (nfds == 1)
        close(fds[0]);
    ok(client_msg, "  CLIENT says it waited for the pool's fill");
    close(fd);
    bury();
}

static void settings_change(void)
{
    struct pool *p = pool();
    create_pool(2, 1 << 20); /* no waiting for the refill's delay */
    daemon_fill_pools(&d);
    send_warm(&fakes[n_fakes - 2]);
    struct entry *warm = p->warm_head, *filling = entry_of(&fakes[n_fakes - 1]);
    struct entry *running = NULL;
    for (struct entry *e = d.entries; e; e = e->next)
        if (e->state == ENTRY_RUNNING)
            running = e;
    ok(warm && filling->state == ENTRY_FILLING && running, "a warm, a filling, a running one");
    create_pool(2, 2 << 20);
    ok(warm->state == ENTRY_GONE && filling->state == ENTRY_GONE &&
           running->state == ENTRY_RUNNING && p->warm == 0 && p->filling == 0 && p->running == 1 &&
           d.filling_total == 0,
       "new settings: warm and filling ones GONE, the running one untouched");
}

static void waiting_activation(void)
{
    struct pool *p = pool();
    create_pool(0, 2 << 20);
    int fd = activate("/bin/sh", false);
    struct client *c = client_of(fd);
    struct entry *e = c->starting;
    struct fake *f = e ? fake_of(e) : NULL;
    ok(e && e->state == ENTRY_STARTING && e->waiter == c && p->starting == 1 && p->filling == 0 &&
           d.starting_total == 1 && d.filling_total == 1 && f && !f->idle,
       "a pool without a warm one: STARTING for its client, at normal priority");
    struct wr_request sig = {.op = WR_OP_SIGNAL, .signal = SIGUSR1};
    wr_error err;
    wr_api_send_request(fd, &sig, NULL, 0, &err);
    daemon_on_client(&d, c);
    ok(c->n_signals == 1 && strcmp(reply_code(fd), "none") == 0,
       "  a signal meanwhile is kept, nothing answered");
    send_warm(f);
    char buf[WR_ACTIVATION_MAX];
    int fds[4];
    size_t nfds = 4;
    struct wr_msg m;
    ok(e->state == ENTRY_RUNNING && e->cold && p->starting == 0 && d.starting_total == 0 &&
           d.filling_total == 0 && p->running == 2 && p->warm == 0,
       "ready: STARTING -> TAKEN -> RUNNING, handed to its client, cold");
    ok(read_from_daemon(f->act, buf, sizeof buf, fds, &nfds) && nfds == 3, "  activation sent");
    for (size_t i = 0; i < nfds; i++)
        close(fds[i]);
    nfds = 4;
    bool client_msg = read_from_daemon(f->ctl, &m, sizeof m, fds, &nfds) &&
                      m.type == WR_MSG_CLIENT && m.num == 1 && strstr(m.text, "no warm container");
    if (nfds == 1)
        close(fds[0]);
    ok(client_msg, "  CLIENT says why it is cold");
    ok(read_from_daemon(f->ctl, &m, sizeof m, NULL, NULL) && m.type == WR_MSG_KILL &&
           m.num == SIGUSR1,
       "  then the kept signal");
    close(fd);
    bury();
}

static void waiting_client_goes(void)
{
    struct pool *p = pool();
    int fd = activate("/bin/sh", false);
    struct entry *e = client_of(fd)->starting;
    close(fd);
    daemon_on_client(&d, client_of(fd));
    ok(e->state == ENTRY_GONE && p->starting == 0 && p->filling == 0 && d.starting_total == 0 &&
           d.filling_total == 0,
       "its client hangs up, the pool has no room: abandon -> discarded");
    create_pool(1, 2 << 20);
    fd = activate("/bin/sh", false);
    ok(p->filling == 0, "size 1, no warm one: a start for the waiting client");
    e = client_of(fd)->starting;
    close(fd);
    daemon_on_client(&d, client_of(fd));
    ok(e->state == ENTRY_FILLING && !e->waiter && p->filling == 1 && p->starting == 0 &&
           d.filling_total == 1,
       "  it hangs up, the pool wants one: abandon -> an ordinary FILLING");
    bury();
}

static void waiting_client_lost(void)
{
    struct pool *p = pool();
    create_pool(0, 3 << 20); /* new settings: the filling one goes */
    ok(p->filling == 0 && d.filling_total == 0, "new settings, size 0: nothing filling");
    int fd = activate("/bin/sh", false);
    struct client *c = client_of(fd);
    struct entry *old = c->starting;
    if (!old)
        bail_out("no start for the waiting client");
    create_pool(0, 4 << 20);
    struct entry *restarted = c->starting;
    ok(old->state == ENTRY_GONE && restarted && restarted != old &&
           restarted->state == ENTRY_STARTING && restarted->waiter == c && p->starting == 1 &&
           d.starting_total == 1 && strcmp(reply_code(fd), "none") == 0,
       "new settings under a start: started again for the same client");
    send_msg(fake_of(restarted), WR_MSG_FAILED, "mount: ENOSPC", 0, 0);
    daemon_start_answer(&d);
    ok(strcmp(reply_code(fd), "internal") == 0 && p->starting == 0 && d.starting_total == 0 &&
           d.filling_total == 0,
       "its setup fails: the client gets `internal`, once, and is closed");
    close(fd);
    bury();

    d.max_starting = 1;
    fd = activate("/bin/sh", false);
    struct client *waiting = client_of(fd);
    int fd2 = activate("/bin/sh", false);
    ok(strcmp(reply_code(fd2), "busy") == 0, "--max-cold-starts reached: busy");
    close(fd2);
    refuse_spawn = true;
    struct wr_request kill = {
        .op = WR_OP_KILL, .id = waiting->starting->shim.id, .signal = SIGKILL};
    int k = client_send(&kill);
    ok(strcmp(reply_code(k), "") == 0 && strcmp(reply_code(fd), "internal") == 0,
       "kill of a STARTING one: ok, and its client gets `internal`");
    close(k);
    close(fd);
    fd = activate("/bin/sh", false);
    ok(strcmp(reply_code(fd), "internal") == 0 && d.starting_total == 0,
       "a start that cannot spawn: `internal`, nothing counted");
    close(fd);
    refuse_spawn = false;
    d.max_starting = 16;
    bury();
}

static void pool_removed(void)
{
    struct pool *p = pool();
    struct entry *running = NULL;
    for (struct entry *e = d.entries; e; e = e->next)
        if (e->state == ENTRY_RUNNING)
            running = e;
    int fd = activate("/bin/sh", false);
    struct entry *starting = client_of(fd)->starting;
    wr_error err;
    ok(p->running == 2 && starting, "two running, one starting");
    ok(daemon_pool_remove(&d, IMAGE, &err) == 0, "pool rm");
    daemon_start_answer(&d);
    ok(!pool() && running->state == ENTRY_RUNNING && !running->pool &&
           starting->state == ENTRY_GONE && strcmp(reply_code(fd), "not_found") == 0 &&
           d.starting_total == 0 && d.filling_total == 0,
       "  the running ones carry on without it; the waiting client gets not_found");
    close(fd);
    bury();
}

static void shrink_and_hang_up(void)
{
    create_pool(2, 1 << 20);
    struct pool *p = pool();
    daemon_fill_pools(&d);
    send_warm(&fakes[n_fakes - 2]);
    send_warm(&fakes[n_fakes - 1]);
    struct entry *oldest = p->warm_head;
    create_pool(1, 1 << 20);
    daemon_fill_pools(&d);
    ok(p->warm == 1 && oldest->state == ENTRY_GONE, "resized down: the oldest warm one goes");
    struct fake *f = fake_of(p->warm_head);
    struct entry *e = p->warm_head;
    close(f->ctl); /* the shim dies */
    f->ctl = -1;
    daemon_on_shim(&d, e);
    ok(e->state == ENTRY_GONE && p->warm == 0 && child_killed(f->child),
       "a warm shim gone without an exit report: GONE, its container killed by pidfd");
    f->child = 0;
}

int main(void)
{
    snprintf(tmp, sizeof tmp, "/tmp/wr-pool-XXXXXX");
    if (!mkdtemp(tmp))
        bail_out("mkdtemp: %s", strerror(errno));
    make_store();
    static char state[300];
    snprintf(state, sizeof state, "%s/state", tmp);
    paths.root = tmp;
    paths.state_dir = state;
    wr_security_profile_default(&unconfined);
    wr_error err;
    if (wr_security_option(&unconfined, "security-opt", "seccomp=unconfined", &err) < 0)
        bail_out("profile: %s", err.msg);
    no_prefault.no_prefault = true;
    d.g = &paths;
    d.spawn = fake_spawn;
    d.pin_cpu = -1;
    d.max_parallel_fills = 8;
    d.max_starting = 16;
    d.listen_fd = d.sigfd = -1;
    d.epfd = epoll_create1(EPOLL_CLOEXEC);
    wr_shim_exe_init(&d.shim_exe);

    fill_warm_fail_backoff();
    take_and_return();
    hot_path();
    failed_hand_over();
    settings_change();
    waiting_activation();
    waiting_client_goes();
    waiting_client_lost();
    pool_removed();
    shrink_and_hang_up();
    no_cold_claims_fill();

    d.stopping = true;
    daemon_release_idle(&d);
    for (int i = 0; i < n_fakes; i++) {
        if (fakes[i].child > 0) {
            kill(fakes[i].child, SIGKILL);
            waitpid(fakes[i].child, NULL, 0);
        }
        if (fakes[i].ctl >= 0)
            close(fakes[i].ctl);
        if (fakes[i].act >= 0)
            close(fakes[i].act);
    }
    for (struct entry *e = d.entries, *next; e; e = next) {
        next = e->next;
        daemon_entry_reaped(&d, e);
    }
    bury();
    ok(!d.entries && d.filling_total == 0 && d.starting_total == 0, "all entries gone at the end");
    close(d.epfd);
    tap_rm_tree(tmp);
    return done_testing();
}
