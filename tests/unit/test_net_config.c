/* TAP test of runtime/lib/net_cidr.c, net_config.c and ipam.c: CIDR
 * parsing and overlap, --network parsing, network records, and leases
 * (allocation round-robin, exhaustion, release, a dead holder's lease
 * reclaimed, a live one's never). Files in a temporary directory only. */
#include "lib/ipam.h"
#include "lib/net_cidr.h"
#include "lib/net_config.h"
#include "lib/net_publish.h"
#include "lib/state_file.h"
#include "tap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void test_cidr(void)
{
    struct wr_cidr a, b;
    wr_error err;
    char text[WR_CIDR_TEXT];
    ok(wr_cidr_parse("10.88.0.0/16", &a, &err) == 0 && a.prefix == 16 && a.addr == 0x0a580000,
       "10.88.0.0/16");
    wr_cidr_format(&a, text);
    is_str(text, "10.88.0.0/16", "formats back");
    ok(wr_cidr_parse("10.88.0.1/16", &b, &err) < 0 && strstr(err.msg, "did you mean 10.88.0.0/16"),
       "host bits set: %s", err.msg);
    ok(wr_cidr_parse("10.88.0/16", &b, &err) < 0, "three octets: %s", err.msg);
    ok(wr_cidr_parse("10.88.0.0/31", &b, &err) < 0, "/31: %s", err.msg);
    ok(wr_cidr_parse("10.88.0.0/7", &b, &err) < 0, "/7: %s", err.msg);
    ok(wr_cidr_parse("010.88.0.0/16", &b, &err) < 0, "a leading zero: %s", err.msg);
    ok(wr_cidr_parse("256.0.0.0/8", &b, &err) < 0, "an octet above 255: %s", err.msg);
    ok(wr_cidr_parse("10.88.0.0/16x", &b, &err) < 0, "trailing text: %s", err.msg);
    wr_cidr_parse("10.88.128.0/17", &b, &err);
    ok(wr_cidr_overlap(&a, &b) && wr_cidr_overlap(&b, &a), "a /17 inside a /16 overlaps");
    wr_cidr_parse("10.89.0.0/16", &b, &err);
    ok(!wr_cidr_overlap(&a, &b), "neighbours do not");
    wr_cidr_parse("10.1.2.0/24", &b, &err);
    ok(wr_cidr_first_host(&b) == 0x0a010202 && wr_cidr_last_host(&b) == 0x0a0102fe,
       "hosts of a /24: .2 to .254 (.1 is the gateway)");
}

static void test_mode(void)
{
    struct wr_net_mode m;
    wr_error err;
    char text[WR_NET_MODE_TEXT];
    ok(wr_net_mode_parse(NULL, &m, &err) == 0 && m.kind == WR_NET_NONE, "NULL: none");
    ok(wr_net_mode_parse("none", &m, &err) == 0 && m.kind == WR_NET_NONE, "none");
    ok(wr_net_mode_parse("host", &m, &err) == 0 && m.kind == WR_NET_HOST, "host");
    ok(wr_net_mode_parse("bridge", &m, &err) == 0 && m.kind == WR_NET_BRIDGE &&
           strcmp(m.name, WR_NET_DEFAULT_NAME) == 0,
       "bridge: the default network");
    ok(wr_net_mode_parse("bridge=db_net2", &m, &err) == 0 && strcmp(m.name, "db_net2") == 0,
       "bridge=NAME");
    wr_net_mode_format(&m, text);
    is_str(text, "bridge=db_net2", "canonical text");
    ok(wr_net_mode_parse("bridge=", &m, &err) < 0, "bridge= without a name: %s", err.msg);
    ok(wr_net_mode_parse("bridge=../x", &m, &err) < 0, "a path as name: %s", err.msg);
    ok(wr_net_mode_parse("bridge=aaaaaaaaaaaaaaaaaaaaaaaaa", &m, &err) < 0, "25 characters");
    ok(wr_net_mode_parse("cni:my-net.1", &m, &err) == 0 && m.kind == WR_NET_CNI &&
           strcmp(m.name, "my-net.1") == 0,
       "cni:NAME");
    wr_net_mode_format(&m, text);
    is_str(text, "cni:my-net.1", "cni: canonical text");
    ok(wr_net_mode_parse("cni:", &m, &err) < 0, "cni: without a name: %s", err.msg);
    ok(wr_net_mode_parse("cni:../x", &m, &err) < 0, "cni: a path as name: %s", err.msg);
    ok(wr_net_mode_parse("cni:-x", &m, &err) < 0, "cni: a leading '-'");
    ok(wr_net_mode_parse("container:x", &m, &err) < 0, "unknown mode: %s", err.msg);
}

static void test_publish(void)
{
    struct wr_publish p;
    wr_error err;
    char text[WR_PUBLISH_TEXT];
    ok(wr_publish_parse("8080:80", &p, &err) == 0 && p.host_port == 8080 &&
           p.container_port == 80 && !p.udp && p.host_ip == 0,
       "8080:80");
    wr_publish_format(&p, text);
    is_str(text, "8080:80/tcp", "canonical: /tcp");
    ok(wr_publish_parse("127.0.0.1:53:5353/udp", &p, &err) == 0 && p.udp &&
           p.host_ip == 0x7f000001 && p.host_port == 53 && p.container_port == 5353,
       "127.0.0.1:53:5353/udp");
    wr_publish_format(&p, text);
    is_str(text, "127.0.0.1:53:5353/udp", "formats back");
    static const char *const bad[] = {"80",         "0:80",    "80:0",        "65536:80",
                                      "80:80/sctp", "x:80:80", "1.2.3:80:80", "080:80",
                                      "::1:80:80",  ":80",     "80:",         ""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        ok(wr_publish_parse(bad[i], &p, &err) < 0 && strstr(err.msg, "HOSTPORT"), "rejects \"%s\"",
           bad[i]);
}

/* A holder that is gone: a child that exited and was reaped. */
static struct wr_lease_holder dead_holder(const char *id)
{
    struct wr_lease_holder h = {0};
    wr_error err;
    pid_t pid = fork();
    if (pid == 0)
        _exit(0);
    snprintf(h.id, sizeof h.id, "%s", id);
    h.pid = pid;
    wr_proc_start_time(pid, &h.start, &err);
    waitpid(pid, NULL, 0);
    return h;
}

static void test_records_and_leases(void)
{
    char dir[] = "/tmp/wr-test-net.XXXXXX";
    wr_error err;
    struct wr_network n, back;
    if (!mkdtemp(dir))
        bail_out("mkdtemp");
    memset(&n, 0, sizeof n);
    snprintf(n.name, sizeof n.name, "t1");
    snprintf(n.bridge, sizeof n.bridge, "wrtest0");
    wr_cidr_parse("10.250.1.0/29", &n.subnet, &err); /* hosts .2 to .6 */
    n.gateway = n.subnet.addr + 1;
    ok(wr_network_save(dir, &n, &err) == 0, "a record is saved");
    ok(wr_network_save(dir, &n, &err) < 0, "twice: %s", err.msg);
    ok(wr_network_load(dir, "t1", &back, &err) == 0 && strcmp(back.bridge, "wrtest0") == 0 &&
           back.subnet.prefix == 29 && back.gateway == n.gateway,
       "and loaded back");
    ok(wr_network_load(dir, "t2", &back, &err) < 0 && strstr(err.msg, "no network t2"),
       "an unknown network: %s", err.msg);
    struct wr_network *list;
    size_t count;
    ok(wr_network_list(dir, &list, &count, &err) == 0 && count == 1, "listed");
    free(list);

    struct wr_lease_holder me = {.pid = getpid()};
    wr_proc_start_time(me.pid, &me.start, &err);
    uint32_t a[6];
    int got = 0;
    for (int i = 0; i < 5; i++) {
        snprintf(me.id, sizeof me.id, "00000000000%c", (char)('0' + i));
        got += wr_ipam_allocate(dir, &n, &me, &a[i], &err) == 0;
    }
    ok(got == 5 && a[0] == 0x0afa0102 && a[4] == 0x0afa0106, "five leases: .2 to .6");
    snprintf(me.id, sizeof me.id, "000000000005");
    ok(wr_ipam_allocate(dir, &n, &me, &a[5], &err) < 0 && strstr(err.msg, "no free address"),
       "exhausted: %s", err.msg);
    ok(wr_ipam_release(dir, "t1", "000000000002", &err) == 0 &&
           wr_ipam_allocate(dir, &n, &me, &a[5], &err) == 0 && a[5] == a[2],
       "a released address is handed out again");
    struct wr_lease_holder gone = dead_holder("0000000000ff");
    ok(wr_ipam_release(dir, "t1", "000000000003", &err) == 0 &&
           wr_ipam_allocate(dir, &n, &gone, &a[3], &err) == 0,
       "a lease for a holder that then is gone");
    struct wr_lease_holder h;
    ok(wr_ipam_holder(dir, "t1", "0000000000ff", &h, &err) == 0 && h.pid == gone.pid &&
           h.start == gone.start && strcmp(h.id, "0000000000ff") == 0,
       "wr_ipam_holder: the holder of a lease");
    ok(wr_ipam_holder(dir, "t1", "0000000000fe", &h, &err) < 0 && err.errnum == ENOENT,
       "  none for an id without one: %s", err.msg);
    size_t live;
    ok(wr_ipam_reconcile(dir, "t1", NULL, NULL, &live, &err) == 0 && live == 4,
       "reconcile drops the dead holder's lease, keeps the four live ones");
    snprintf(me.id, sizeof me.id, "000000000006");
    ok(wr_ipam_allocate(dir, &n, &me, &a[0], &err) == 0 && a[0] == a[3],
       "the dead holder's address is handed out");
    snprintf(me.id, sizeof me.id, "000000000007");
    ok(wr_ipam_allocate(dir, &n, &me, &a[0], &err) < 0, "the live holders' addresses never are: %s",
       err.msg);
    ok(wr_network_remove_record(dir, "t1", &err) == 0 &&
           wr_network_load(dir, "t1", &back, &err) < 0,
       "the record, leases and lock are removed");
    char cmd[64];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        diag("could not remove %s", dir);
}

int main(void)
{
    test_cidr();
    test_mode();
    test_publish();
    test_records_and_leases();
    return done_testing();
}
