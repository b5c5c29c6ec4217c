/* Security profiles: options, validation, the shim encoding, Docker's JSON
 * seccomp format, and compiling to BPF. */
#include "tap.h"

#include "lib/protocol.h"
#include "lib/seccomp_profile.h"
#include "lib/security_profile.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void test_options(void)
{
    struct wr_security_profile p;
    wr_error err;
    wr_security_profile_default(&p);
    is_int((long long)p.caps, 0xa80425fbLL, "the default: Docker's 14 capabilities");
    ok(wr_security_profile_is_default(&p), "is_default");
    ok(wr_security_option(&p, "cap-drop", "ALL", &err) == 0 &&
           wr_security_option(&p, "cap-add", "cap_net_bind_service", &err) == 0,
       "cap-drop ALL, cap-add cap_net_bind_service");
    is_int((long long)p.caps, 0x400LL, "only NET_BIND_SERVICE left");
    ok(wr_security_option(&p, "cap-add", "NOPE", &err) < 0, "unknown capability refused");
    ok(wr_security_option(&p, "ulimit", "nofile=10:5", &err) < 0, "soft above hard refused");
    ok(wr_security_option(&p, "ulimit", "nofile=10", &err) == 0 && p.n_ulimits == 1 &&
           p.ulimits[0].hard == 10,
       "ulimit NAME=N sets both");
    ok(wr_security_option(&p, "ulimit", "bogus=1", &err) < 0, "unknown ulimit refused");
    ok(wr_security_option(&p, "user", "a:b:c", &err) < 0, "user with two colons refused");
    ok(wr_security_option(&p, "user", "../x", &err) < 0, "user with a slash refused");
    ok(wr_security_option(&p, "security-opt", "seccomp=relative.json", &err) < 0,
       "relative seccomp path refused");
    ok(wr_security_option(&p, "security-opt", "seccomp=/a;b", &err) < 0,
       "seccomp path with ';' refused");
    ok(wr_security_option(&p, "security-opt", "apparmor=x", &err) < 0,
       "unsupported security-opt refused");
    ok(wr_security_option(&p, "privileged", "x", &err) < 0, "a flag with a value refused");
    ok(wr_security_option(&p, "umask", "999", &err) < 0, "umask beyond 0777 refused");
    ok(wr_security_option(&p, "userns", "auto", &err) == 0 &&
           p.userns_base == WR_USERNS_AUTO_BASE && p.userns_size == WR_USERNS_AUTO_SIZE,
       "userns auto");
    ok(wr_security_option(&p, "userns", "100000:5", &err) == 0 && p.userns_base == 100000 &&
           p.userns_size == 5,
       "userns BASE:SIZE");
    ok(wr_security_option(&p, "userns", "4294967295:2", &err) < 0, "userns past 2^32 refused");
    ok(wr_security_option(&p, "userns", "0", &err) < 0, "userns base 0 refused");
    ok(wr_security_option(&p, "userns", "12:", &err) < 0, "userns without a size refused");
    ok(wr_security_option(&p, "userns", "host", &err) == 0 && p.userns_size == 0, "userns host");
    ok(p.userns_explicit,
       "userns host is an explicit choice (a daemon default does not replace it)");
    struct wr_security_profile fresh;
    wr_security_profile_default(&fresh);
    ok(!fresh.userns_explicit, "the default profile has not chosen a user namespace");
    ok(wr_security_option(&p, "userns", "1999999999:2", &err) < 0 &&
           wr_security_option(&p, "userns", "2004194303", &err) < 0,
       "userns over the namespace owners' uids refused (either end)");
    ok(wr_security_option(&p, "userns", "1999934464", &err) == 0 &&
           wr_security_option(&p, "userns", "2004194304", &err) == 0,
       "userns next to the namespace owners' uids allowed");
    ok(wr_security_decode("userns=2000000005:10", &p, &err) < 0,
       "a decoded profile over the owners' uids refused");
}

static void test_encoding(void)
{
    struct wr_security_profile p, q;
    char text[WR_PROFILE_TEXT];
    wr_error err;
    wr_security_profile_default(&p);
    wr_security_option(&p, "read-only", NULL, &err);
    wr_security_option(&p, "user", "1000:1000", &err);
    wr_security_option(&p, "ulimit", "nofile=100:unlimited", &err);
    wr_security_option(&p, "security-opt", "seccomp=/etc/p.json", &err);
    wr_security_option(&p, "userns", "auto", &err);
    ok(wr_security_encode(&p, text, sizeof text, &err) == 0, "encode: %s", text);
    ok(wr_security_decode(text, &q, &err) == 0, "decode");
    char again[WR_PROFILE_TEXT];
    ok(wr_security_encode(&q, again, sizeof again, &err) == 0 && strcmp(text, again) == 0 &&
           q.read_only && q.ulimits[0].hard == WR_RLIM_INFINITY &&
           q.userns_base == WR_USERNS_AUTO_BASE,
       "round trip");
    ok(wr_security_decode("", &q, &err) == 0 && wr_security_profile_is_default(&q),
       "empty text is the default");
    ok(wr_security_decode("caps=zz", &q, &err) < 0, "bad caps refused");
    ok(wr_security_decode("seccomp=bpf:relative", &q, &err) < 0, "relative bpf path refused");
    ok(wr_security_decode("nokey", &q, &err) < 0, "a token without '=' refused");
    ok(wr_security_decode("ulimit=nofile:1:2;ulimit=nofile:3:4", &q, &err) == 0 &&
           q.n_ulimits == 1 && q.ulimits[0].soft == 3,
       "a repeated ulimit replaces the first");
    ok(wr_security_encode_for(&p, "root", text, sizeof text, &err) == 0 &&
           strstr(text, "user=1000:1000"),
       "an explicit user beats the image's");
    wr_security_profile_default(&q);
    ok(wr_security_encode_for(&q, "nobody", text, sizeof text, &err) == 0 &&
           strstr(text, "user=nobody"),
       "the image's User is the default");
}

static void test_request(void)
{
    const char *good = "{\"op\":\"pool_create\",\"image\":\"busybox\",\"size\":1,\"security\":"
                       "{\"capabilities\":[\"CHOWN\"],\"read_only\":true,\"user\":\"1000\","
                       "\"ulimits\":[{\"name\":\"nofile\",\"soft\":10,\"hard\":-1}]}}";
    struct wr_request req;
    wr_error err;
    ok(wr_request_parse(good, strlen(good), &req, &err) == 0 && req.security, "security parsed");
    if (req.security) {
        is_int((long long)req.security->caps, 1LL, "capabilities");
        ok(req.security->read_only && strcmp(req.security->user, "1000") == 0, "read_only, user");
        ok(req.security->ulimits[0].hard == WR_RLIM_INFINITY, "-1 is unlimited");
        size_t len;
        char *enc = wr_request_encode(&req, &len, &err);
        struct wr_request again;
        ok(enc && wr_request_parse(enc, len, &again, &err) == 0 && again.security &&
               again.security->caps == req.security->caps &&
               again.security->ulimits[0].hard == WR_RLIM_INFINITY,
           "request encode/parse round trip");
        wr_request_free(&again);
        free(enc);
    }
    wr_request_free(&req);
    static const char *const bad[] = {
        "{\"op\":\"pool_create\",\"image\":\"b\",\"size\":1,\"security\":[]}",
        "{\"op\":\"pool_create\",\"image\":\"b\",\"size\":1,\"security\":{\"capabilities\":[\"X\"]}"
        "}",
        "{\"op\":\"pool_create\",\"image\":\"b\",\"size\":1,\"security\":{\"privileged\":1}}",
        "{\"op\":\"pool_create\",\"image\":\"b\",\"size\":1,\"security\":{\"seccomp\":\"rel\"}}",
        "{\"op\":\"pool_create\",\"image\":\"b\",\"size\":1,\"security\":{\"umask\":4096}}",
        "{\"op\":\"pool_create\",\"image\":\"b\",\"size\":1,\"security\":{\"user\":\"a b\"}}",
        "{\"op\":\"pool_create\",\"image\":\"b\",\"size\":1,\"security\":{\"ulimits\":[{\"name\":"
        "\"nofile\",\"soft\":5,\"hard\":1}]}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ok(wr_request_parse(bad[i], strlen(bad[i]), &req, &err) < 0, "refused: %s", err.msg);
        wr_request_free(&req);
    }
}

/* Compiles prof into *insns (malloc'd); returns the number of
 * instructions, or -1. */
static long compile_to(const struct wr_seccomp_profile *prof, uint64_t caps, bool x32,
                       struct sock_filter **insns)
{
    wr_error err;
    int fd = memfd_create("t", 0);
    struct stat st;
    long n = -1;
    *insns = NULL;
    if (fd < 0 || wr_seccomp_compile(prof, caps, x32, fd, &err) < 0 || fstat(fd, &st) < 0) {
        diag("compile: %s", err.msg);
    } else if ((*insns = malloc((size_t)st.st_size)) &&
               pread(fd, *insns, (size_t)st.st_size, 0) == st.st_size) {
        n = (long)st.st_size / (long)sizeof **insns;
    }
    if (fd >= 0)
        close(fd);
    return n;
}

static long compiled_size(const struct wr_seccomp_profile *prof, uint64_t caps)
{
    struct sock_filter *insns;
    long n = compile_to(prof, caps, true, &insns);
    free(insns);
    return n < 0 ? -1 : n * (long)sizeof *insns;
}

/* What a program compares: system call numbers with the x32 bit (while
 * the accumulator may hold seccomp_data.nr, offset 0) and the i386
 * architecture (while it may hold .arch, offset 4). Classic BPF jumps
 * only forward, so one pass propagates what each instruction may see. */
struct bpf_summary {
    int x32_numbers, i386_arch;
};

enum { ACC_NR = 1, ACC_ARCH = 2, ACC_OTHER = 4 };

static struct bpf_summary summarize(const struct sock_filter *f, long n)
{
    struct bpf_summary s = {0};
    unsigned char *acc = calloc((size_t)n + 1, 1);
    if (!acc || n <= 0) {
        free(acc);
        return s;
    }
    acc[0] = ACC_OTHER;
    for (long i = 0; i < n; i++) {
        unsigned char a = acc[i];
        unsigned cls = BPF_CLASS(f[i].code);
        if (cls == BPF_RET)
            continue;
        if (cls == BPF_JMP && BPF_OP(f[i].code) == BPF_JA) {
            if (i + 1 + (long)f[i].k < n)
                acc[i + 1 + f[i].k] |= a;
            continue;
        }
        if (cls == BPF_JMP) {
            s.x32_numbers += (a & ACC_NR) && f[i].k > 0x40000000u && f[i].k < 0x80000000u;
            s.i386_arch += (a & ACC_ARCH) && f[i].k == AUDIT_ARCH_I386;
            if (i + 1 + f[i].jt < n && i + 1 + f[i].jf < n) {
                acc[i + 1 + f[i].jt] |= a;
                acc[i + 1 + f[i].jf] |= a;
            }
            continue;
        }
        if (f[i].code == (BPF_LD | BPF_W | BPF_ABS))
            a = f[i].k == 0 ? ACC_NR : f[i].k == 4 ? ACC_ARCH : ACC_OTHER;
        else if (cls == BPF_LD || cls == BPF_ALU || cls == BPF_MISC)
            a = ACC_OTHER;
        acc[i + 1] |= a;
    }
    free(acc);
    return s;
}

/* Without the x32 ABI the program leaves x32 out, keeps i386, and is
 * shorter (what x32 numbers then get is tested in 108-seccomp-short.t). */
static void test_seccomp_arches(void)
{
    struct sock_filter *all, *short_;
    long n_all = compile_to(wr_seccomp_default_profile(), 0xa80425fb, true, &all);
    long n_short = compile_to(wr_seccomp_default_profile(), 0xa80425fb, false, &short_);
    struct bpf_summary a = summarize(all, n_all), s = summarize(short_, n_short);
    ok(n_short > 0 && n_short < n_all, "without x32: %ld instructions instead of %ld", n_short,
       n_all);
    ok(a.x32_numbers > 100 && s.x32_numbers == 0,
       "x32 system call numbers compared: %d with x32, %d without", a.x32_numbers, s.x32_numbers);
    ok(a.i386_arch == 1 && s.i386_arch == 1, "both keep the i386 section");
    free(all);
    free(short_);
}

static void test_seccomp(void)
{
    struct wr_seccomp_profile prof;
    wr_error err;
    long size = compiled_size(wr_seccomp_default_profile(), 0xa80425fb);
    ok(size > 0 && size % 8 == 0, "Docker's default compiles to BPF (%ld instructions)", size / 8);
    const char *json = "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":1,"
                       "\"syscalls\":[{\"names\":[\"read\",\"write\"],\"action\":"
                       "\"SCMP_ACT_ALLOW\"},{\"name\":\"socket\",\"action\":\"SCMP_ACT_ALLOW\","
                       "\"args\":[{\"index\":0,\"value\":40,\"op\":\"SCMP_CMP_NE\"}]},"
                       "{\"names\":[\"mount\"],\"action\":\"SCMP_ACT_ALLOW\",\"includes\":"
                       "{\"caps\":[\"CAP_SYS_ADMIN\"]}},{\"names\":[\"x\"],\"action\":"
                       "\"SCMP_ACT_ALLOW\",\"includes\":{\"arches\":[\"s390x\"]}}]}";
    ok(wr_seccomp_profile_parse(json, strlen(json), &prof, &err) == 0, "a Docker JSON profile");
    is_int((long long)prof.n_rules, 4LL, "its 4 rules");
    ok(prof.rules[2].caps_include == 1ULL << 21, "includes.caps");
    ok(prof.rules[3].caps_include == ~0ULL, "a rule for another architecture never applies");
    ok(compiled_size(&prof, 0) > 0, "compiles");
    wr_seccomp_profile_free(&prof);
    static const char *const bad[] = {
        "[]",
        "{\"defaultAction\":\"SCMP_ACT_NOPE\"}",
        "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":{}}",
        "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"action\":\"SCMP_ACT_ERRNO\"}]}",
        "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"a\"],\"action\":"
        "\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":9,\"value\":1,\"op\":\"SCMP_CMP_EQ\"}]}]}",
        "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"a\"],\"action\":"
        "\"SCMP_ACT_ERRNO\",\"errnoRet\":99999}]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ok(wr_seccomp_profile_parse(bad[i], strlen(bad[i]), &prof, &err) < 0, "refused: %s",
           err.msg);
        wr_seccomp_profile_free(&prof);
    }
}

/* Under a seccomp filter that kills x32 calls (libseccomp's default
 * bad-architecture action, x86-64 only), the probe's child dies, the
 * caller goes on and leaves x32 out. Before any probe in this process:
 * the answer is kept per process. */
static void test_x32_probe_under_filter(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
        if (!ctx || seccomp_load(ctx) < 0)
            _exit(3);
        _exit(wr_seccomp_kernel_x32() ? 1 : 0);
    }
    int status = -1;
    waitpid(pid, &status, 0);
    ok(pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
       "under a filter that kills x32 calls, the probe answers no and its caller lives (status "
       "%#x)",
       (unsigned)status);
    bool direct = wr_seccomp_kernel_x32();
    diag("this kernel's x32 ABI: %s", direct ? "yes" : "no");
}

int main(void)
{
    test_options();
    test_encoding();
    test_request();
    test_seccomp();
    test_seccomp_arches();
    test_x32_probe_under_filter();
    return done_testing();
}
