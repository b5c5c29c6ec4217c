/* TAP test of runtime/lib/protocol.c: request parsing and validation of every op,
 * request and reply encode/parse round trips, error replies. Pure memory. */
#include "lib/protocol.h"
#include "tap.h"
#include "lib/container_id.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse(const char *json, struct wr_request *req, wr_error *err)
{
    memset(err, 0, sizeof *err);
    return wr_request_parse(json, strlen(json), req, err);
}

/* json must parse; the request is freed by the caller. */
static bool parses(const char *json, struct wr_request *req)
{
    wr_error err;
    int r = parse(json, req, &err);
    if (!ok(r == 0, "accepts %.90s", json))
        diag("error: %s", err.msg);
    return r == 0;
}

/* json must be rejected with a one-line message and nothing left allocated. */
static void rejects(const char *json, const char *what)
{
    struct wr_request req;
    wr_error err;
    int r = parse(json, &req, &err);
    ok(r < 0 && err.msg[0] && !strchr(err.msg, '\n') && !req.image && !req.argv && !req.env &&
           !req.cwd && !req.hostname && !req.id,
       "rejects %s: %s", what, err.msg);
    if (r == 0)
        wr_request_free(&req);
}

static void rejects_len(const char *buf, size_t len, const char *what)
{
    struct wr_request req;
    wr_error err = {0};
    int r = wr_request_parse(buf, len, &req, &err);
    ok(r < 0 && err.msg[0], "rejects %s: %s", what, err.msg);
    if (r == 0)
        wr_request_free(&req);
}

/* ---- parsing every op ------------------------------------------------- */

static void test_parse_ops(void)
{
    struct wr_request req;

    if (parses("{\"op\":\"activate\",\"image\":\"busybox:latest\",\"argv\":[\"echo\",\"hi\"],"
               "\"env\":[\"A=1\",\"B=x=y\",\"C=\"],\"cwd\":\"/tmp\",\"hostname\":\"web-1.local\"}",
               &req)) {
        ok(req.op == WR_OP_ACTIVATE && !strcmp(req.image, "busybox:latest"), "  activate: image");
        ok(req.argc == 2 && !strcmp(req.argv[0], "echo") && !strcmp(req.argv[1], "hi") &&
               !req.argv[2],
           "  activate: argv, NULL-terminated");
        ok(req.envc == 3 && !strcmp(req.env[1], "B=x=y") && !strcmp(req.env[2], "C=") &&
               !req.env[3],
           "  activate: env");
        is_str(req.cwd, "/tmp", "  activate: cwd");
        is_str(req.hostname, "web-1.local", "  activate: hostname");
        wr_request_free(&req);
        ok(!req.image && !req.argv && !req.env, "wr_request_free clears the struct");
    }
    if (parses("{\"op\":\"activate\",\"image\":\"busybox\"}", &req)) {
        ok(req.argc == 0 && !req.argv && req.envc == 0 && !req.env && !req.cwd && !req.hostname,
           "  activate: every optional field absent gives NULL/0");
        wr_request_free(&req);
    }
    if (parses("{\"op\":\"activate\",\"image\":\"busybox\",\"argv\":[],\"env\":null,"
               "\"cwd\":null,\"hostname\":null}",
               &req)) {
        ok(req.argc == 0 && !req.env && !req.cwd && !req.hostname,
           "  activate: [] and null mean the defaults");
        wr_request_free(&req);
    }
    if (parses("{\"op\":\"pool_create\",\"image\":\"busybox\",\"size\":3}", &req)) {
        ok(req.op == WR_OP_POOL_CREATE && req.size == 3 && !strcmp(req.image, "busybox"),
           "  pool_create: image and size");
        wr_request_free(&req);
    }
    if (parses("{\"op\":\"pool_create\",\"image\":\"busybox\",\"size\":0}", &req)) {
        is_int(req.size, 0, "  pool_create: size 0 (lower bound)");
        wr_request_free(&req);
    }
    if (parses("{\"op\":\"pool_create\",\"image\":\"busybox\",\"size\":4096}", &req)) {
        is_int(req.size, WR_POOL_SIZE_MAX, "  pool_create: size WR_POOL_SIZE_MAX");
        wr_request_free(&req);
    }
    if (parses("{\"op\":\"pool_rm\",\"image\":\"library/busybox:1.36\"}", &req)) {
        ok(req.op == WR_OP_POOL_RM && !strcmp(req.image, "library/busybox:1.36"), "  pool_rm");
        wr_request_free(&req);
    }
    static const struct {
        const char *json;
        enum wr_op op;
    } simple[] = {
        {"{\"op\":\"pool_ls\"}", WR_OP_POOL_LS}, {"{\"op\":\"ps\"}", WR_OP_PS},
        {"{\"op\":\"stats\"}", WR_OP_STATS},     {"{\"op\":\"shutdown\"}", WR_OP_SHUTDOWN},
        {" { \"op\" : \"ps\" } ", WR_OP_PS},
    };
    for (size_t i = 0; i < sizeof simple / sizeof simple[0]; i++)
        if (parses(simple[i].json, &req)) {
            is_int(req.op, simple[i].op, "  op value");
            wr_request_free(&req);
        }
    if (parses("{\"op\":\"kill\",\"id\":\"0123456789ab\"}", &req)) {
        ok(req.op == WR_OP_KILL && !strcmp(req.id, "0123456789ab"), "  kill: id");
        is_int(req.signal, SIGKILL, "  kill: signal defaults to SIGKILL");
        wr_request_free(&req);
    }
    if (parses("{\"op\":\"kill\",\"id\":\"abc\",\"signal\":15}", &req)) {
        ok(!strcmp(req.id, "abc") && req.signal == 15, "  kill: short id, explicit signal");
        wr_request_free(&req);
    }
    if (parses("{\"op\":\"signal\",\"signal\":64}", &req)) {
        ok(req.op == WR_OP_SIGNAL && req.signal == 64, "  signal: 64 (upper bound)");
        wr_request_free(&req);
    }
    if (parses("{\"op\":\"signal\",\"signal\":1}", &req)) {
        is_int(req.signal, 1, "  signal: 1 (lower bound)");
        wr_request_free(&req);
    }
}

static void test_parse_rejects(void)
{
    char big[8192];

    rejects("", "an empty message");
    rejects("not json", "text that is not JSON");
    rejects("{\"op\":\"ps\"", "truncated JSON");
    rejects("{\"op\":\"ps\"} {}", "two JSON values");
    rejects("[\"ps\"]", "an array");
    rejects("\"ps\"", "a string");
    rejects("null", "null");
    rejects("{}", "a missing op");
    rejects("{\"op\":null}", "op null");
    rejects("{\"op\":1}", "op that is a number");
    rejects("{\"op\":\"launch\"}", "an unknown op");
    rejects("{\"op\":\"PS\"}", "an op in the wrong case");
    rejects("{\"op\":\"\"}", "an empty op");
    rejects("{\"op\":\"ps\",\"op\":\"ps\"}", "a duplicate op");
    rejects("{\"op\":\"activate\",\"image\":\"a\",\"image\":\"b\"}", "a duplicate image");
    rejects("{\"op\":\"activate\",\"image\":\"a\",\"argv\":[\"x\"],\"argv\":[\"y\"]}",
            "a duplicate argv");

    /* images */
    rejects("{\"op\":\"activate\"}", "activate without image");
    rejects("{\"op\":\"activate\",\"image\":null}", "activate with image null");
    rejects("{\"op\":\"pool_create\",\"size\":1}", "pool_create without image");
    rejects("{\"op\":\"pool_rm\"}", "pool_rm without image");
    rejects("{\"op\":\"activate\",\"image\":5}", "an image that is a number");
    rejects("{\"op\":\"activate\",\"image\":[\"a\"]}", "an image that is an array");
    snprintf(big, sizeof big, "{\"op\":\"pool_rm\",\"image\":\"%0256d\"}", 0);
    rejects(big, "a 256-byte image");
    struct wr_request req;
    snprintf(big, sizeof big, "{\"op\":\"pool_rm\",\"image\":\"%0255d\"}", 0);
    ok(parse(big, &req, &(wr_error){0}) == 0 && strlen(req.image) == 255,
       "accepts a 255-byte image");
    wr_request_free(&req);

    /* argv and env */
    rejects("{\"op\":\"activate\",\"image\":\"a\",\"argv\":\"echo hi\"}", "argv as a string");
    rejects("{\"op\":\"activate\",\"image\":\"a\",\"argv\":[\"echo\",1]}", "argv with a number");
    rejects("{\"op\":\"activate\",\"image\":\"a\",\"argv\":[\"echo\",null]}", "argv with null");
    rejects("{\"op\":\"activate\",\"image\":\"a\",\"argv\":[[\"x\"]]}", "argv nested");
    rejects("{\"op\":\"activate\",\"image\":\"a\",\"argv\":[\"\",\"x\"]}", "an empty argv[0]");
    rejects("{\"op\":\"activate\",\"image\":\"a\",\"argv\":{\"0\":\"x\"}}", "argv as an object");
    rejects("{\"op\":\"activate\",\"image\":\"a\",\"env\":{\"A\":\"1\"}}", "env as an object");
    rejects("{\"op\":\"activate\",\"image\":\"a\",\"env\":[\"A=1\",\"B\"]}", "env B (no '=')");
    rejects("{\"op\":\"activate\",\"image\":\"a\",\"env\":[\"=1\"]}", "env =1 (empty key)");
    rejects("{\"op\":\"activate\",\"image\":\"a\",\"env\":[\"\"]}", "an empty env entry");
    rejects("{\"op\":\"activate\",\"image\":\"a\",\"env\":[true]}", "env with a boolean");

    /* cwd and hostname */
    rejects("{\"op\":\"activate\",\"image\":\"a\",\"cwd\":\"tmp\"}", "a relative cwd");
    rejects("{\"op\":\"activate\",\"image\":\"a\",\"cwd\":\"\"}", "an empty cwd");
    rejects("{\"op\":\"activate\",\"image\":\"a\",\"cwd\":1}", "a cwd that is a number");
    static const char *const bad_hosts[] = {"",      "-web",       ".web", "web_1",
                                            "web 1", "w\303\251b", "a/b"};
    for (size_t i = 0; i < sizeof bad_hosts / sizeof bad_hosts[0]; i++) {
        char what[64];
        snprintf(big, sizeof big, "{\"op\":\"activate\",\"image\":\"a\",\"hostname\":\"%s\"}",
                 bad_hosts[i]);
        snprintf(what, sizeof what, "hostname \"%s\"", bad_hosts[i]);
        rejects(big, what);
    }
    rejects("{\"op\":\"activate\",\"image\":\"a\",\"hostname\":7}", "a hostname that is a number");
    snprintf(big, sizeof big, "{\"op\":\"activate\",\"image\":\"a\",\"hostname\":\"%064d\"}", 0);
    rejects(big, "a 64-byte hostname");
    snprintf(big, sizeof big, "{\"op\":\"activate\",\"image\":\"a\",\"hostname\":\"%063d\"}", 0);
    ok(parse(big, &req, &(wr_error){0}) == 0 && strlen(req.hostname) == 63,
       "accepts a 63-byte hostname");
    wr_request_free(&req);
    ok(wr_hostname_valid("a") && wr_hostname_valid("web-1.example") &&
           wr_hostname_valid("9lives") && !wr_hostname_valid("") && !wr_hostname_valid("-a") &&
           !wr_hostname_valid("a b"),
       "wr_hostname_valid");

    /* size */
    rejects("{\"op\":\"pool_create\",\"image\":\"a\"}", "pool_create without size");
    rejects("{\"op\":\"pool_create\",\"image\":\"a\",\"size\":-1}", "size -1");
    rejects("{\"op\":\"pool_create\",\"image\":\"a\",\"size\":4097}", "size 4097");
    rejects("{\"op\":\"pool_create\",\"image\":\"a\",\"size\":9223372036854775807}",
            "size LLONG_MAX");
    rejects("{\"op\":\"pool_create\",\"image\":\"a\",\"size\":\"3\"}", "size as a string");
    rejects("{\"op\":\"pool_create\",\"image\":\"a\",\"size\":1.5}", "size 1.5");
    rejects("{\"op\":\"pool_create\",\"image\":\"a\",\"size\":2.0}", "size 2.0 (a real)");
    rejects("{\"op\":\"pool_create\",\"image\":\"a\",\"size\":null}", "size null");
    rejects("{\"op\":\"pool_create\",\"image\":\"a\",\"size\":true}", "size true");

    /* signal */
    rejects("{\"op\":\"signal\"}", "signal without signal");
    rejects("{\"op\":\"signal\",\"signal\":0}", "signal 0");
    rejects("{\"op\":\"signal\",\"signal\":65}", "signal 65");
    rejects("{\"op\":\"signal\",\"signal\":-9}", "signal -9");
    rejects("{\"op\":\"signal\",\"signal\":4294967305}", "signal 2^32+9");
    rejects("{\"op\":\"signal\",\"signal\":\"TERM\"}", "signal as a name");
    rejects("{\"op\":\"kill\",\"id\":\"abc\",\"signal\":0}", "kill with signal 0");
    rejects("{\"op\":\"kill\",\"id\":\"abc\",\"signal\":99}", "kill with signal 99");
    {
        /* null is the same as absent (docs/api.md): the default signal */
        struct wr_request kill_req;
        if (parses("{\"op\":\"kill\",\"id\":\"abc\",\"signal\":null}", &kill_req)) {
            ok(kill_req.signal == 9, "kill with signal null: SIGKILL, the default");
            wr_request_free(&kill_req);
        }
    }

    /* id */
    rejects("{\"op\":\"kill\"}", "kill without id");
    rejects("{\"op\":\"kill\",\"id\":\"\"}", "an empty id");
    rejects("{\"op\":\"kill\",\"id\":\"xyz\"}", "an id that is not hex");
    rejects("{\"op\":\"kill\",\"id\":\"ABCDEF\"}", "an uppercase id");
    rejects("{\"op\":\"kill\",\"id\":\"0123456789abc\"}", "a 13-character id");
    rejects("{\"op\":\"kill\",\"id\":\"../../etc\"}", "an id that is a path");
    rejects("{\"op\":\"kill\",\"id\":12}", "an id that is a number");
    ok(wr_container_id_valid("0123456789ab") && wr_container_id_valid("f") &&
           !wr_container_id_valid("") && !wr_container_id_valid("0x12") &&
           !wr_container_id_valid("g"),
       "wr_container_id_valid");

    /* embedded NUL bytes */
    rejects("{\"op\":\"ps\\u0000\"}", "an op with a NUL");
    rejects("{\"op\":\"pool_rm\",\"image\":\"busybox\\u0000x\"}", "an image with a NUL");
    rejects("{\"op\":\"activate\",\"image\":\"a\",\"argv\":[\"sh\\u0000-c\"]}",
            "an argument with a NUL");
    rejects("{\"op\":\"activate\",\"image\":\"a\",\"env\":[\"A=1\\u0000B=2\"]}",
            "an env entry with a NUL");
    rejects("{\"op\":\"activate\",\"image\":\"a\",\"cwd\":\"/tmp\\u0000x\"}", "a cwd with a NUL");
    rejects("{\"op\":\"activate\",\"image\":\"a\",\"hostname\":\"a\\u0000b\"}",
            "a hostname with a NUL");
    rejects("{\"op\":\"kill\",\"id\":\"abc\\u0000\"}", "an id with a NUL");
#define RAW(lit) lit, sizeof(lit) - 1
    rejects_len(RAW("{\"op\":\"ps\"}\0"), "a raw NUL after the object");
    rejects_len(RAW("{\"op\":\"p\0s\"}"), "a raw NUL inside a string");
#undef RAW
    rejects("{\"op\":\"pool_rm\",\"image\":\"\xff\xfe\"}", "invalid UTF-8");
}

/* Requests around WR_API_REQUEST_MAX bytes (a large one travels out of
 * band: sealed_fd.h) and the array counts the kernel's execve allows. */
static void test_parse_sizes(void)
{
    struct wr_request req;
    wr_error err;
    const char *head = "{\"op\":\"ps\"}";
    char *buf = malloc(WR_API_REQUEST_MAX + 2);
    if (!buf)
        bail_out("out of memory");

    memset(buf, ' ', WR_API_REQUEST_MAX + 1);
    memcpy(buf, head, strlen(head));
    memset(&err, 0, sizeof err);
    ok(wr_request_parse(buf, WR_API_REQUEST_MAX, &req, &err) == 0,
       "a request of exactly WR_API_REQUEST_MAX bytes is accepted (%s)", err.msg);
    wr_request_free(&req);
    rejects_len(buf, WR_API_REQUEST_MAX + 1, "a request of WR_API_REQUEST_MAX + 1 bytes");

    /* Far more than 4096 arguments and variables (the kernel counts bytes,
     * not strings): 20000 of each. */
    size_t pos = (size_t)sprintf(buf, "{\"op\":\"activate\",\"image\":\"a\",\"argv\":[");
    for (int i = 0; i < 20000; i++)
        pos += (size_t)sprintf(buf + pos, "%s\"a\"", i ? "," : "");
    pos += (size_t)sprintf(buf + pos, "],\"env\":[");
    for (int i = 0; i < 20000; i++)
        pos += (size_t)sprintf(buf + pos, "%s\"A=\"", i ? "," : "");
    strcpy(buf + pos, "]}");
    memset(&err, 0, sizeof err);
    ok(wr_request_parse(buf, strlen(buf), &req, &err) == 0 && req.argc == 20000 &&
           req.envc == 20000,
       "20000 arguments and 20000 env entries are accepted (%s)", err.msg);
    size_t len;
    char *text = wr_request_encode(&req, &len, &err);
    ok(text && len > WR_API_MSG_MAX, "and encoded, larger than one message (%zu bytes)", len);
    free(text);
    wr_request_free(&req);

    /* cwd up to 4095 bytes. */
    pos = (size_t)sprintf(buf, "{\"op\":\"activate\",\"image\":\"a\",\"cwd\":\"/");
    memset(buf + pos, 'd', 4094);
    strcpy(buf + pos + 4094, "\"}");
    memset(&err, 0, sizeof err);
    ok(wr_request_parse(buf, strlen(buf), &req, &err) == 0 && strlen(req.cwd) == 4095,
       "a 4095-byte cwd is accepted (%s)", err.msg);
    wr_request_free(&req);
    memset(buf + pos, 'd', 4095);
    strcpy(buf + pos + 4095, "\"}");
    rejects_len(buf, strlen(buf), "a 4096-byte cwd");
    free(buf);
}

/* ---- request round trip ---------------------------------------------- */

static void round_trip(const struct wr_request *in, const char *what)
{
    struct wr_request out;
    wr_error err = {0};
    size_t len = 0;
    char *text = wr_request_encode(in, &len, &err);
    if (!ok(text && len == strlen(text), "%s encodes (%s)", what, err.msg)) {
        skip(1, "no text");
        free(text);
        return;
    }
    int r = wr_request_parse(text, len, &out, &err);
    bool same = r == 0 && out.op == in->op;
    same = same && ((!in->image && !out.image) ||
                    (in->image && out.image && !strcmp(in->image, out.image)));
    same = same && out.argc == in->argc && out.envc == in->envc;
    for (size_t i = 0; same && i < in->argc; i++)
        same = !strcmp(in->argv[i], out.argv[i]);
    for (size_t i = 0; same && i < in->envc; i++)
        same = !strcmp(in->env[i], out.env[i]);
    same = same && (in->cwd ? out.cwd && !strcmp(in->cwd, out.cwd) : !out.cwd);
    same = same &&
           (in->hostname ? out.hostname && !strcmp(in->hostname, out.hostname) : !out.hostname);
    same = same && (in->id ? out.id && !strcmp(in->id, out.id) : !out.id);
    if (in->op == WR_OP_POOL_CREATE)
        same = same && out.size == in->size;
    if (in->op == WR_OP_KILL || in->op == WR_OP_SIGNAL)
        same = same && out.signal == in->signal;
    if (!ok(same, "%s survives encode + parse", what))
        diag("text: %s; error: %s", text, r ? err.msg : "");
    free(text);
    if (r == 0)
        wr_request_free(&out);
}

static void test_request_round_trip(void)
{
    char *argv[] = {"sh", "-c", "echo \"quoted\" \\ back\tslash\n", "\xc3\xa9t\xc3\xa9", NULL};
    char *env[] = {"A=1", "JSON={\"k\": [1, 2]}", "E=", NULL};
    struct wr_request act = {.op = WR_OP_ACTIVATE,
                             .image = "library/busybox:1.36",
                             .argv = argv,
                             .argc = 4,
                             .env = env,
                             .envc = 3,
                             .cwd = "/srv/some dir",
                             .hostname = "web-1"};
    round_trip(&act, "activate with everything");
    struct wr_request act_min = {.op = WR_OP_ACTIVATE, .image = "busybox"};
    round_trip(&act_min, "activate with defaults");
    struct wr_request create = {.op = WR_OP_POOL_CREATE, .image = "busybox", .size = 4096};
    round_trip(&create, "pool_create");
    struct wr_request rm = {.op = WR_OP_POOL_RM, .image = "busybox"};
    round_trip(&rm, "pool_rm");
    static const enum wr_op simple[] = {WR_OP_POOL_LS, WR_OP_PS, WR_OP_STATS, WR_OP_SHUTDOWN};
    for (size_t i = 0; i < sizeof simple / sizeof simple[0]; i++) {
        struct wr_request s = {.op = simple[i]};
        round_trip(&s, "a plain op");
    }
    struct wr_request kill_req = {.op = WR_OP_KILL, .id = "0123456789ab", .signal = SIGTERM};
    round_trip(&kill_req, "kill");
    struct wr_request sig = {.op = WR_OP_SIGNAL, .signal = SIGWINCH};
    round_trip(&sig, "signal");

    /* An argument that is not UTF-8 (a Latin-1 file name, say) cannot be
     * carried in JSON: encoding must fail rather than drop it. */
    char *latin1[] = {"rm", "caf\xe9", "-v", NULL};
    struct wr_request bad = {.op = WR_OP_ACTIVATE, .image = "busybox", .argv = latin1, .argc = 3};
    wr_error err = {0};
    size_t len = 0;
    char *text = wr_request_encode(&bad, &len, &err);
    struct wr_request out = {0};
    bool dropped = text && wr_request_parse(text, len, &out, &err) == 0 && out.argc != 3;
    ok(!dropped, "a non-UTF-8 argument is not silently dropped (encoded: %s)",
       text ? text : "NULL");
    if (text)
        wr_request_free(&out);
    free(text);
}

/* ---- replies ----------------------------------------------------------- */

static char *encode_parse(const struct wr_reply *in, struct wr_reply *out, const char *what)
{
    wr_error err = {0};
    size_t len = 0;
    char *text = wr_reply_encode(in, &len);
    memset(out, 0, sizeof *out);
    if (!ok(text && len == strlen(text), "%s reply encodes", what))
        return text;
    ok(wr_reply_parse(text, len, out, &err) == 0, "%s reply parses (%s)", what, err.msg);
    return text;
}

static void test_reply_round_trip(void)
{
    struct wr_reply out;
    char *text;

    struct wr_reply plain = {.ok = true};
    text = encode_parse(&plain, &out, "plain");
    ok(out.ok && out.kind == WR_REPLY_PLAIN && !out.pools && !out.containers, "plain ok reply: %s",
       text);
    wr_reply_free(&out);
    free(text);

    struct wr_pool_info pools[2] = {
        {.image = "busybox:latest",
         .size = 4,
         .warm = 3,
         .filling = 1,
         .running = 7,
         .activations = 123456789012L,
         .failures = 2,
         .last_error = "spawn: \"quoted\" \\ error",
         .autoscale = {.on = true, .min = 1, .max = 8, .idle_ttl_s = 60},
         .autoscale_why = "target 4 (rate 240/s x fill 3.5 ms + burst 3)"},
        {.image = "alpine:3", .size = 0},
    };
    struct wr_reply rp = {.ok = true, .kind = WR_REPLY_POOLS, .pools = pools, .n_pools = 2};
    text = encode_parse(&rp, &out, "pools");
    ok(out.ok && out.kind == WR_REPLY_POOLS && out.n_pools == 2 && out.pools,
       "pools: kind and count");
    if (out.n_pools == 2)
        ok(!memcmp(&out.pools[0], &pools[0], sizeof pools[0]) &&
               !memcmp(&out.pools[1], &pools[1], sizeof pools[1]),
           "pools: every field survives");
    else
        skip(1, "wrong count");
    wr_reply_free(&out);
    ok(!out.pools, "wr_reply_free clears the arrays");
    free(text);

    struct wr_reply rp0 = {.ok = true, .kind = WR_REPLY_POOLS};
    text = encode_parse(&rp0, &out, "empty pools");
    ok(out.kind == WR_REPLY_POOLS && out.n_pools == 0, "no pools: %s", text);
    wr_reply_free(&out);
    free(text);

    struct wr_container_info cs[3] = {
        {.id = "0123456789ab",
         .image = "busybox",
         .state = "running",
         .pid = 4242,
         .shim_pid = 4241,
         .created = 1795000000,
         .command = "sh -c 'echo hi'"},
        {.id = "ba9876543210", .image = "busybox", .state = "warm", .pid = 1, .shim_pid = 2},
        {.id = "abc", .image = "x", .state = "filling", .created = -1},
    };
    struct wr_reply rc = {
        .ok = true, .kind = WR_REPLY_CONTAINERS, .containers = cs, .n_containers = 3};
    text = encode_parse(&rc, &out, "containers");
    ok(out.kind == WR_REPLY_CONTAINERS && out.n_containers == 3 && out.containers,
       "containers: kind and count");
    bool same = out.n_containers == 3;
    for (size_t i = 0; same && i < 3; i++)
        same = !memcmp(&out.containers[i], &cs[i], sizeof cs[i]);
    ok(same, "containers: every field survives");
    wr_reply_free(&out);
    free(text);

    /* The daemon truncates the command line to 255 bytes, which can cut a
     * multi-byte character: the container must still be listed. */
    struct wr_container_info cut = {.id = "0123456789ab", .image = "busybox", .state = "running"};
    memset(cut.command, 'x', 254);
    cut.command[254] = '\xc3'; /* first byte of a 2-byte character */
    struct wr_reply rcut = {
        .ok = true, .kind = WR_REPLY_CONTAINERS, .containers = &cut, .n_containers = 1};
    text = encode_parse(&rcut, &out, "container with a cut command");
    ok(out.n_containers == 1,
       "a container whose command is not valid UTF-8 is still listed (got %zu)", out.n_containers);
    wr_reply_free(&out);
    free(text);

    struct wr_reply rs = {.ok = true,
                          .kind = WR_REPLY_STATS,
                          .stats = {.activations = 10,
                                    .warm_hits = 9,
                                    .misses = 1,
                                    .samples = 9,
                                    .p50_us = 812.25,
                                    .p99_us = 1999.0,
                                    .mean_us = 1.0 / 3.0,
                                    .max_us = 0}};
    text = encode_parse(&rs, &out, "stats");
    ok(out.kind == WR_REPLY_STATS && out.stats.activations == 10 && out.stats.warm_hits == 9 &&
           out.stats.misses == 1 && out.stats.samples == 9,
       "stats: counters survive");
    ok(out.stats.p50_us == 812.25 && out.stats.p99_us == 1999.0 && out.stats.mean_us == 1.0 / 3.0 &&
           out.stats.max_us == 0,
       "stats: doubles survive exactly (%s)", text);
    wr_reply_free(&out);
    free(text);

    struct wr_reply re = {.ok = true,
                          .kind = WR_REPLY_EXIT,
                          .exit = {.id = "0123456789ab",
                                   .exit_code = 137,
                                   .signal = SIGKILL,
                                   .error = "exec \"nope\": not found",
                                   .exec_ns = 1234567890123456789LL}};
    text = encode_parse(&re, &out, "exit event");
    ok(out.kind == WR_REPLY_EXIT && !strcmp(out.exit.id, "0123456789ab") &&
           out.exit.exit_code == 137 && out.exit.signal == SIGKILL &&
           !strcmp(out.exit.error, re.exit.error) && out.exit.exec_ns == re.exit.exec_ns,
       "exit event: every field survives (%s)", text);
    ok(text && strstr(text, "\"event\":\"exit\""), "exit event is tagged");
    wr_reply_free(&out);
    free(text);

    struct wr_reply re0 = {
        .ok = true, .kind = WR_REPLY_EXIT, .exit = {.id = "abc", .exit_code = 0, .exec_ns = 5}};
    text = encode_parse(&re0, &out, "plain exit event");
    ok(out.kind == WR_REPLY_EXIT && out.exit.signal == 0 && !out.exit.error[0] &&
           out.exit.exit_code == 0 && out.exit.exec_ns == 5,
       "exit without signal or error: %s", text);
    ok(text && !strstr(text, "signal") && !strstr(text, "error"),
       "exit: signal and error are omitted when unset");
    wr_reply_free(&out);
    free(text);
}

static void test_error_replies(void)
{
    struct wr_reply out;
    wr_error err = {0};
    size_t len = 0;
    char *text = wr_reply_error("not_found", "no pool for \"busybox\"", &len);
    ok(text && len == strlen(text), "wr_reply_error encodes: %s", text ? text : "NULL");
    ok(text && wr_reply_parse(text, len, &out, &err) == 0 && !out.ok &&
           !strcmp(out.code, "not_found") && !strcmp(out.error, "no pool for \"busybox\""),
       "error reply round-trips code and message");
    free(text);

    struct wr_reply r = {.ok = false};
    snprintf(r.error, sizeof r.error, "boom");
    text = wr_reply_encode(&r, &len);
    ok(text && wr_reply_parse(text, len, &out, &err) == 0 && !out.ok &&
           !strcmp(out.code, "internal") && !strcmp(out.error, "boom"),
       "an error without a code is \"internal\"");
    free(text);

    /* Error messages quote paths and names, which need not be UTF-8: the
     * reply must still carry a message. */
    text = wr_reply_error("invalid", "no such file /tmp/caf\xe9", &len);
    memset(&out, 0, sizeof out);
    bool has_msg = text && wr_reply_parse(text, len, &out, &err) == 0 && out.error[0];
    ok(has_msg, "an error message that is not UTF-8 still reaches the client: %s",
       text ? text : "NULL");
    free(text);

    /* An error reply ignores any payload it carries. */
    struct wr_pool_info p = {.image = "x"};
    struct wr_reply rp = {.ok = false, .kind = WR_REPLY_POOLS, .pools = &p, .n_pools = 1};
    snprintf(rp.code, sizeof rp.code, "busy");
    text = wr_reply_encode(&rp, &len);
    ok(text && !strstr(text, "pools"), "an error reply carries no payload: %s", text);
    free(text);

    /* A message longer than the reply can hold is cut, not refused. */
    char long_msg[2000];
    memset(long_msg, 'm', sizeof long_msg - 1);
    long_msg[sizeof long_msg - 1] = '\0';
    text = wr_reply_error("internal", long_msg, &len);
    ok(text && wr_reply_parse(text, len, &out, &err) == 0 &&
           strlen(out.error) == WR_ERROR_MSG_MAX - 1,
       "a 2000-byte error message is cut to %d bytes", WR_ERROR_MSG_MAX - 1);
    free(text);

    /* Reply parsing rejects what is not a reply. */
    static const char *const bad[] = {"", "[]", "{}", "{\"ok\":1}", "{\"ok\":\"true\"}", "{\"ok\""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&err, 0, sizeof err);
        ok(wr_reply_parse(bad[i], strlen(bad[i]), &out, &err) < 0 && err.msg[0],
           "reply parse rejects '%s' (%s)", bad[i], err.msg);
        wr_reply_free(&out);
    }
    const char *dup = "{\"ok\":true,\"ok\":false}";
    ok(wr_reply_parse(dup, strlen(dup), &out, &err) < 0, "reply parse rejects duplicate keys");
}

/* "init" is an optional boolean that survives encode and parse. */
static void test_init_field(void)
{
    struct wr_request req, back;
    wr_error err;
    if (parses("{\"op\":\"activate\",\"image\":\"a\",\"init\":true}", &req)) {
        ok(req.init, "\"init\":true is read");
        size_t len;
        char *text = wr_request_encode(&req, &len, &err);
        ok(text && parse(text, &back, &err) == 0 && back.init, "init survives a round trip");
        if (text)
            free(text);
        wr_request_free(&back);
        wr_request_free(&req);
    }
    if (parses("{\"op\":\"activate\",\"image\":\"a\"}", &req)) {
        ok(!req.init, "no \"init\": false");
        wr_request_free(&req);
    }
    rejects("{\"op\":\"activate\",\"image\":\"a\",\"init\":1}", "a non-boolean init");
}

/* "no_cold" of activate, and the exit event's "start"/"reason". */
static void test_cold_fields(void)
{
    struct wr_request req, back;
    struct wr_reply out;
    wr_error err;
    if (parses("{\"op\":\"activate\",\"image\":\"a\",\"no_cold\":true}", &req)) {
        ok(req.no_cold, "\"no_cold\":true is read");
        size_t len;
        char *text = wr_request_encode(&req, &len, &err);
        ok(text && parse(text, &back, &err) == 0 && back.no_cold, "no_cold survives a round trip");
        free(text);
        wr_request_free(&back);
        wr_request_free(&req);
    }
    if (parses("{\"op\":\"activate\",\"image\":\"a\"}", &req)) {
        ok(!req.no_cold, "no \"no_cold\": false");
        wr_request_free(&req);
    }
    rejects("{\"op\":\"activate\",\"image\":\"a\",\"no_cold\":\"yes\"}", "a non-boolean no_cold");

    struct wr_reply cold = {.ok = true,
                            .kind = WR_REPLY_EXIT,
                            .exit = {.id = "abc", .cold = true, .reason = "no daemon"}};
    char *text = encode_parse(&cold, &out, "cold exit event");
    ok(out.exit.cold && !strcmp(out.exit.reason, "no daemon"), "cold and its reason survive: %s",
       text);
    ok(text && strstr(text, "\"start\":\"cold\""), "a cold start is tagged \"start\":\"cold\"");
    wr_reply_free(&out);
    free(text);
    struct wr_reply warm = {.ok = true, .kind = WR_REPLY_EXIT, .exit = {.id = "abc"}};
    text = encode_parse(&warm, &out, "warm exit event");
    ok(!out.exit.cold && !out.exit.reason[0], "a warm start parses as warm, without a reason");
    ok(text && strstr(text, "\"start\":\"warm\"") && !strstr(text, "reason"),
       "a warm start is tagged \"start\":\"warm\" and has no reason: %s", text);
    wr_reply_free(&out);
    free(text);
}

/* "tmpfs_size" of pool_create: optional, 1 MiB to 64 GiB. */
static void test_tmpfs_size(void)
{
    struct wr_request req;
    if (parses("{\"op\":\"pool_create\",\"image\":\"a\",\"size\":1,\"tmpfs_size\":8388608}",
               &req)) {
        ok(req.tmpfs_size == 8388608, "tmpfs_size is read");
        wr_request_free(&req);
    }
    if (parses("{\"op\":\"pool_create\",\"image\":\"a\",\"size\":1}", &req)) {
        ok(req.tmpfs_size == 0, "no tmpfs_size: 0 (the default)");
        wr_request_free(&req);
    }
    rejects("{\"op\":\"pool_create\",\"image\":\"a\",\"size\":1,\"tmpfs_size\":1024}",
            "a tmpfs_size below 1 MiB");
    rejects("{\"op\":\"pool_create\",\"image\":\"a\",\"size\":1,\"tmpfs_size\":"
            "99999999999999}",
            "a tmpfs_size above 64 GiB");
}

/* function_create, function_rm, function_ls and invoke; their replies. */
static void test_function_ops(void)
{
    struct wr_request req, back;
    struct wr_reply out;
    wr_error err;
    if (parses("{\"op\":\"function_create\",\"name\":\"f-1_a\",\"image\":\"lambda:1\","
               "\"min\":2,\"max\":4,\"timeout\":9,\"memory\":256,\"handler\":\"index.h\","
               "\"fresh\":true,\"env\":[\"A=1\"],\"tmpfs_size\":8388608,"
               "\"resources\":{\"pids-limit\":\"64\"}}",
               &req)) {
        ok(!strcmp(req.name, "f-1_a") && !strcmp(req.image, "lambda:1") && req.function.min == 2 &&
               req.function.max == 4 && req.function.timeout_s == 9 &&
               req.function.memory_mb == 256 && !strcmp(req.function.handler, "index.h") &&
               req.function.fresh && req.envc == 1 && req.tmpfs_size == 8388608,
           "function_create: every member is read");
        size_t len;
        char *text = wr_request_encode(&req, &len, &err);
        ok(text && parse(text, &back, &err) == 0 && !strcmp(back.name, "f-1_a") &&
               back.function.max == 4 && back.function.fresh && back.envc == 1 &&
               !strcmp(back.function.handler, "index.h") && back.tmpfs_size == 8388608,
           "function_create survives a round trip (it is how a function is stored)");
        free(text);
        wr_request_free(&back);
        wr_request_free(&req);
    }
    if (parses("{\"op\":\"function_create\",\"name\":\"f\",\"image\":\"a\"}", &req)) {
        ok(req.function.min == 1 && req.function.max == 1 && req.function.timeout_s == 3 &&
               req.function.memory_mb == 128 && !req.function.handler && !req.function.fresh,
           "function_create: Lambda's defaults (timeout 3 s, 128 MB), min 1, max = min");
        wr_request_free(&req);
    }
    if (parses("{\"op\":\"function_create\",\"name\":\"f\",\"image\":\"a\","
               "\"network\":\"bridge\",\"volumes\":[{\"type\":\"bind\",\"source\":\"/srv\","
               "\"target\":\"/data\",\"readonly\":true}]}",
               &req)) {
        ok(req.network && !strcmp(req.network, "bridge=bridge") && req.volumes.n == 1 &&
               !strcmp(req.volumes.v[0].target, "/data"),
           "function_create: network and volumes are read");
        size_t len;
        char *text = wr_request_encode(&req, &len, &err);
        ok(text && parse(text, &back, &err) == 0 && back.network &&
               !strcmp(back.network, "bridge=bridge") &&
               wr_volumes_equal(&req.volumes, &back.volumes),
           "function_create keeps network and volumes through a round trip (%s)",
           text ? text : err.msg);
        free(text);
        wr_request_free(&back);
        wr_request_free(&req);
    }
    rejects("{\"op\":\"function_create\",\"name\":\"f\",\"image\":\"a\",\"network\":\"x:y\"}",
            "a function with a network mode that does not exist");
    rejects("{\"op\":\"function_create\",\"name\":\"a b\",\"image\":\"a\"}",
            "a function name with a space");
    rejects("{\"op\":\"function_create\",\"name\":\"../x\",\"image\":\"a\"}",
            "a function name with a slash");
    rejects("{\"op\":\"function_create\",\"name\":\"f\"}", "a function without an image");
    rejects("{\"op\":\"function_create\",\"name\":\"f\",\"image\":\"a\",\"min\":3,"
            "\"max\":2}",
            "max below min");
    rejects("{\"op\":\"function_create\",\"name\":\"f\",\"image\":\"a\",\"timeout\":901}",
            "a timeout above Lambda's 900 s");
    rejects("{\"op\":\"function_create\",\"name\":\"f\",\"image\":\"a\",\"memory\":64}",
            "memory below 128 MB");
    if (parses("{\"op\":\"invoke\",\"name\":\"f\",\"log_tail\":true,"
               "\"invocation_type\":\"Event\"}",
               &req)) {
        ok(req.log_tail && !strcmp(req.invocation_type, "Event"), "invoke: log_tail and type");
        wr_request_free(&req);
    }
    rejects("{\"op\":\"invoke\",\"name\":\"f\",\"invocation_type\":\"Later\"}",
            "an unknown invocation type");
    rejects("{\"op\":\"function_rm\"}", "function_rm without a name");

    struct wr_reply inv = {
        .ok = true,
        .kind = WR_REPLY_INVOKE,
        .invoke = {.request_id = "id-1", .function_error = "Unhandled", .log_tail = "line \xff\n"}};
    char *text = encode_parse(&inv, &out, "invoke reply");
    ok(out.kind == WR_REPLY_INVOKE && !strcmp(out.invoke.request_id, "id-1") &&
           !strcmp(out.invoke.function_error, "Unhandled") &&
           !strcmp(out.invoke.log_tail, "line ?\n"),
       "invoke reply round trip (a log byte that is not UTF-8 becomes '?')");
    free(text);
    wr_reply_free(&out);
    struct wr_function_info fi = {.name = "f", .image = "a:1", .max = 3, .idle = 1};
    struct wr_reply ls = {
        .ok = true, .kind = WR_REPLY_FUNCTIONS, .functions = &fi, .n_functions = 1};
    text = encode_parse(&ls, &out, "function_ls reply");
    ok(out.kind == WR_REPLY_FUNCTIONS && out.n_functions == 1 && out.functions[0].max == 3 &&
           out.functions[0].idle == 1 && !strcmp(out.functions[0].image, "a:1"),
       "function_ls reply round trip");
    free(text);
    wr_reply_free(&out);
}

/* "network" of pool_create: a --network value, kept canonical, and back
 * out of the encoder (so a stored pool request keeps it). */
static void test_network(void)
{
    struct wr_request req;
    if (parses("{\"op\":\"pool_create\",\"image\":\"a\",\"size\":1,\"network\":\"bridge\"}",
               &req)) {
        ok(req.network && strcmp(req.network, "bridge=bridge") == 0,
           "\"bridge\" is the default network, canonically bridge=bridge");
        size_t len;
        char *text = wr_request_encode(&req, &len, NULL);
        struct wr_request back;
        if (ok(text && parses(text, &back), "encodes and parses back")) {
            ok(back.network && strcmp(back.network, "bridge=bridge") == 0, "the network survives");
            wr_request_free(&back);
        }
        free(text);
        wr_request_free(&req);
    }
    if (parses("{\"op\":\"pool_create\",\"image\":\"a\",\"size\":1,\"network\":\"host\"}", &req)) {
        ok(req.network && strcmp(req.network, "host") == 0, "host");
        wr_request_free(&req);
    }
    if (parses("{\"op\":\"pool_create\",\"image\":\"a\",\"size\":1,\"network\":\"none\"}", &req)) {
        ok(req.network == NULL, "none is the default: no network kept");
        wr_request_free(&req);
    }
    rejects("{\"op\":\"pool_create\",\"image\":\"a\",\"size\":1,\"network\":\"bridge=A-B\"}",
            "a bad network name");
    rejects("{\"op\":\"pool_create\",\"image\":\"a\",\"size\":1,\"network\":\"overlay\"}",
            "an unknown network mode");
    rejects("{\"op\":\"pool_create\",\"image\":\"a\",\"size\":1,\"network\":7}",
            "a network that is not a string");
}

/* "publish" of pool_create: -p texts kept canonical, back out of the
 * encoder (a stored pool keeps its ports), and what is refused. */
static void test_publish(void)
{
    struct wr_request req;
    if (parses("{\"op\":\"pool_create\",\"image\":\"a\",\"size\":1,\"network\":\"bridge\","
               "\"publish\":[\"8080:80\",\"127.0.0.1:53:53/udp\"]}",
               &req)) {
        ok(req.publish.n == 2 && strcmp(req.publish.text[0], "8080:80/tcp") == 0 &&
               strcmp(req.publish.text[1], "127.0.0.1:53:53/udp") == 0,
           "publish: two ports, canonical");
        size_t len;
        char *text = wr_request_encode(&req, &len, NULL);
        struct wr_request back;
        if (ok(text && parses(text, &back), "publish: encodes and parses back")) {
            ok(back.publish.n == 2 && strcmp(back.publish.text[1], "127.0.0.1:53:53/udp") == 0,
               "publish: the ports survive");
            wr_request_free(&back);
        }
        free(text);
        wr_request_free(&req);
    }
    rejects("{\"op\":\"pool_create\",\"image\":\"a\",\"size\":1,\"publish\":[\"0:80\"]}",
            "publish: port 0");
    rejects("{\"op\":\"pool_create\",\"image\":\"a\",\"size\":1,\"publish\":\"80:80\"}",
            "publish: not an array");
    rejects("{\"op\":\"pool_create\",\"image\":\"a\",\"size\":1,"
            "\"publish\":[\"80:80\",\"1.2.3.4:80:81\"]}",
            "publish: one host port twice (any address and one address)");
    if (parses("{\"op\":\"pool_create\",\"image\":\"a\",\"size\":1,"
               "\"publish\":[\"80:80\",\"80:80/udp\"]}",
               &req)) {
        ok(req.publish.n == 2, "publish: one port number for tcp and udp");
        wr_request_free(&req);
    }
}

/* "volumes" of pool_create: round trip, persistence as the request, the
 * shim's text form, and what is refused. */
static void test_volumes(void)
{
    struct wr_request in = {.op = WR_OP_POOL_CREATE, .image = "busybox", .size = 1};
    wr_error err = {0};
    ok(wr_volumes_add(&in.volumes, WR_VOLUME_BIND, "/srv/data", "/data", false, 0, 0, &err) == 0 &&
           wr_volumes_add(&in.volumes, WR_VOLUME_BIND, "/srv/a:b,c", "/ro dir", true, 0, 0, &err) ==
               0 &&
           wr_volumes_add(&in.volumes, WR_VOLUME_TMPFS, NULL, "/tmp", false, 1 << 20, 0700, &err) ==
               0,
       "three volumes are added (%s)", err.msg);
    size_t len;
    char *text = wr_request_encode(&in, &len, &err);
    struct wr_request out = {0};
    ok(text && wr_request_parse(text, len, &out, &err) == 0 &&
           wr_volumes_equal(&in.volumes, &out.volumes),
       "they survive encode + parse, in order (%s)", text ? text : err.msg);
    free(text);
    wr_request_free(&out);

    /* The shim's --volume text, paths with ':' ',' and ' ' included. */
    struct wr_volumes back = {0};
    char t[WR_VOLUME_TEXT_MAX];
    bool all = true;
    for (size_t i = 0; i < in.volumes.n; i++)
        all = all && wr_volume_encode(&in.volumes.v[i], t, sizeof t, &err) > 0 &&
              wr_volume_decode_add(&back, t, &err) == 0;
    ok(all && wr_volumes_equal(&in.volumes, &back), "the shim's text form round-trips (%s)",
       err.msg);
    wr_volumes_free(&back);
    static const char *const bad_text[] = {"bind:0:0:0:5:/data",      "nfs:0:0:0:5:/data/src",
                                           "tmpfs:0:0:0:5:/data/src", "bind:2:0:0:5:/data/src",
                                           "bind:0:0:0:99:/data/src", "tmpfs:0:0:17777:4:/tmp",
                                           "bind:0:0:0:5:/data../src"};
    for (size_t i = 0; i < sizeof bad_text / sizeof *bad_text; i++) {
        memset(&err, 0, sizeof err);
        ok(wr_volume_decode_add(&back, bad_text[i], &err) < 0 && back.n == 0,
           "--volume %s is refused (%s)", bad_text[i], err.msg);
    }

    /* Two volumes on one target, relative or unclean paths, "/" as a target. */
    ok(wr_volumes_add(&in.volumes, WR_VOLUME_TMPFS, NULL, "/data", false, 0, 0, &err) < 0,
       "a second volume at /data is refused (%s)", err.msg);
    static const char *const bad_targets[] = {"/", "data", "/a/../b", "/a/./b", "/a//b", "/a/", ""};
    for (size_t i = 0; i < sizeof bad_targets / sizeof *bad_targets; i++)
        ok(wr_volumes_add(&back, WR_VOLUME_TMPFS, NULL, bad_targets[i], false, 0, 0, &err) < 0,
           "target \"%s\" is refused (%s)", bad_targets[i], err.msg);
    ok(wr_volumes_add(&back, WR_VOLUME_BIND, "src", "/x", false, 0, 0, &err) < 0,
       "a relative bind source is refused (%s)", err.msg);
    wr_volumes_free(&in.volumes);

    rejects("{\"op\":\"pool_create\",\"image\":\"b\",\"size\":1,\"volumes\":{}}",
            "volumes that are not an array");
    rejects("{\"op\":\"pool_create\",\"image\":\"b\",\"size\":1,\"volumes\":[{\"type\":"
            "\"volume\",\"target\":\"/x\"}]}",
            "a named volume");
    rejects("{\"op\":\"pool_create\",\"image\":\"b\",\"size\":1,\"volumes\":[{\"type\":"
            "\"bind\",\"target\":\"/x\"}]}",
            "a bind without a source");
    rejects("{\"op\":\"pool_create\",\"image\":\"b\",\"size\":1,\"volumes\":[{\"type\":"
            "\"bind\",\"source\":\"/s\",\"target\":\"/x\",\"size\":5}]}",
            "a bind with a size");
    rejects("{\"op\":\"pool_create\",\"image\":\"b\",\"size\":1,\"volumes\":[{\"type\":"
            "\"tmpfs\",\"target\":\"/x\",\"mode\":4096}]}",
            "a tmpfs mode above 07777");
    rejects("{\"op\":\"pool_create\",\"image\":\"b\",\"size\":1,\"volumes\":[{\"type\":"
            "\"tmpfs\",\"target\":\"/x\",\"readonly\":1}]}",
            "a readonly that is not a boolean");
}

/* pool_create's "autoscale" (--min/--max/--idle-ttl): read, checked, carried. */
static void test_autoscale_fields(void)
{
    struct wr_request req;
    if (parses("{\"op\":\"pool_create\",\"image\":\"a\",\"size\":2,"
               "\"autoscale\":{\"min\":2,\"max\":20,\"idle_ttl_s\":5}}",
               &req)) {
        ok(req.autoscale.on && req.autoscale.min == 2 && req.autoscale.max == 20 &&
               req.autoscale.idle_ttl_s == 5,
           "  autoscale: min, max, idle_ttl_s");
        wr_request_free(&req);
    }
    if (parses("{\"op\":\"pool_create\",\"image\":\"a\",\"size\":0,"
               "\"autoscale\":{\"min\":0,\"max\":1}}",
               &req)) {
        ok(req.autoscale.on && req.autoscale.idle_ttl_s == WR_IDLE_TTL_DEFAULT_S,
           "  autoscale: min 0, max 1, the default idle TTL");
        wr_request_free(&req);
    }
    if (parses("{\"op\":\"pool_create\",\"image\":\"a\",\"size\":3}", &req)) {
        ok(!req.autoscale.on, "  no autoscale: a fixed size");
        wr_request_free(&req);
    }
    static const char *const bad[][2] = {
        {"{\"min\":5,\"max\":3}", "min > max"},
        {"{\"min\":-1,\"max\":3}", "negative min"},
        {"{\"min\":0,\"max\":0}", "max 0"},
        {"{\"min\":1,\"max\":4097}", "max over WR_POOL_SIZE_MAX"},
        {"{\"min\":1,\"max\":2,\"idle_ttl_s\":0}", "idle TTL 0"},
        {"{\"min\":1,\"max\":2,\"idle_ttl_s\":-5}", "negative idle TTL"},
        {"{\"min\":1,\"max\":2,\"idle_ttl_s\":86401}", "idle TTL over a day"},
        {"{\"min\":1}", "no max"},
        {"{\"max\":1}", "no min"},
        {"{\"min\":\"1\",\"max\":2}", "min as a string"},
        {"{\"min\":1.5,\"max\":2}", "min 1.5"},
        {"{\"min\":1,\"max\":9223372036854775807}", "max LLONG_MAX"},
        {"[1,2]", "an array"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char json[256];
        snprintf(json, sizeof json,
                 "{\"op\":\"pool_create\",\"image\":\"a\",\"size\":1,\"autoscale\":%s}", bad[i][0]);
        rejects(json, bad[i][1]);
    }
    struct wr_request create = {.op = WR_OP_POOL_CREATE,
                                .image = "busybox",
                                .size = 1,
                                .autoscale = {.on = true, .min = 1, .max = 64, .idle_ttl_s = 30}};
    wr_error err = {0};
    size_t len = 0;
    char *text = wr_request_encode(&create, &len, &err);
    struct wr_request out = {0};
    ok(text && wr_request_parse(text, len, &out, &err) == 0 && out.autoscale.on &&
           out.autoscale.min == 1 && out.autoscale.max == 64 && out.autoscale.idle_ttl_s == 30,
       "autoscale survives encode + parse: %s", text ? text : err.msg);
    wr_request_free(&out);
    free(text);
}

/* A pool's settings travel as its pool_create request, whole: the stored
 * record, `pool ls --json`'s "settings", and the text back are one thing. */
static void test_pool_settings(void)
{
    struct wr_request req;
    if (parses("{\"op\":\"image_updated\",\"image\":\"app:1\"}", &req)) {
        ok(req.op == WR_OP_IMAGE_UPDATED && !strcmp(req.image, "app:1"), "  image_updated: image");
        wr_request_free(&req);
    }
    rejects("{\"op\":\"image_updated\"}", "image_updated without image");

    struct wr_security_profile sec;
    wr_security_profile_default(&sec);
    sec.read_only = true;
    snprintf(sec.user, sizeof sec.user, "1000");
    struct wr_request in = {.op = WR_OP_POOL_CREATE,
                            .image = "busybox:latest",
                            .size = 3,
                            .tmpfs_size = 64 << 20,
                            .security = &sec};
    wr_error err = {0};
    size_t len;
    char *stored = wr_request_encode(&in, &len, &err);
    ok(stored != NULL, "pool_create encodes (the stored record)");
    struct wr_pool_info pool = {.image = "busybox:latest", .size = 3, .settings = stored};
    struct wr_reply r = {.ok = true, .kind = WR_REPLY_POOLS, .pools = &pool, .n_pools = 1};
    struct wr_reply out;
    char *text = encode_parse(&r, &out, "pools with settings");
    if (ok(out.n_pools == 1 && out.pools[0].settings, "settings survive the reply")) {
        const char *s = out.pools[0].settings;
        ok(strstr(s, "\"read_only\":true") && strstr(s, "\"user\":\"1000\"") &&
               strstr(s, "\"tmpfs_size\":67108864") && !strstr(s, "\"op\"") &&
               !strstr(s, "\"size\":3"),
           "settings: the request's options, without op, image and size: %s", s);
    } else {
        skip(1, "no settings");
    }
    wr_reply_free(&out);
    free(text);
    free(stored);
}

int main(void)
{
    test_function_ops();
    test_network();
    test_publish();
    test_volumes();
    test_pool_settings();
    test_tmpfs_size();
    test_init_field();
    test_cold_fields();
    test_parse_ops();
    test_parse_rejects();
    test_parse_sizes();
    test_request_round_trip();
    test_autoscale_fields();
    test_reply_round_trip();
    test_error_replies();
    return done_testing();
}
