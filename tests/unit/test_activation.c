/* TAP test of runtime/lib/activation.c (the activation message writer and its
 * in-place decoder) and runtime/lib/activation_compose.c (image defaults plus an
 * activate request). Pure memory: needs no privileges and no files. */
#include "lib/activation.h"
#include "lib/activation_compose.h"
#include "tap.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Big enough for any valid message; static so that the stack stays small. */
static char buf[WR_ACTIVATION_MAX];
static char copy[WR_ACTIVATION_MAX + 16];
static char *vec[WR_ACTIVATION_VEC_MAX];

#define MAGIC 0x77726131u /* "wra1", the header's first word */

/* Decodes len bytes of src from a private copy, so that src can be reused
 * and a read past the end is caught by ASan on the heap copy. */
static int decode_copy(const char *src, size_t len, struct wr_activation *act, wr_error *err,
                       char **heap)
{
    *heap = malloc(len ? len : 1);
    if (!*heap)
        bail_out("out of memory");
    memcpy(*heap, src, len);
    memset(err, 0, sizeof *err);
    return wr_activation_decode(*heap, len, vec, WR_ACTIVATION_VEC_MAX, act, err);
}

/* A decode that must fail with EINVAL and leave *act zeroed. */
static void decode_fails(const char *src, size_t len, const char *what)
{
    struct wr_activation act;
    wr_error err;
    char *heap;
    int r = decode_copy(src, len, &act, &err, &heap);
    ok(r < 0 && err.errnum == EINVAL && err.msg[0] && !act.argv && !act.envp,
       "decode rejects %s (%s)", what, err.msg);
    free(heap);
}

static size_t vec_len(char **v)
{
    size_t n = 0;
    while (v && v[n])
        n++;
    return n;
}

/* ---- writer and decoder ---------------------------------------------- */

static void test_round_trip(void)
{
    struct wr_activation_writer w;
    struct wr_activation act;
    wr_error err = {0};
    static const char *const args[] = {"/bin/echo", "hello world", "", "\xc3\xbcn\xc3\xaf"};
    static const char *const envs[] = {"A=1", "EMPTY=", "C=x=y", "PATH=/bin:/usr/bin"};

    wr_activation_writer_init(&w, buf, sizeof buf);
    int r = 0;
    for (size_t i = 0; i < 4; i++)
        r |= wr_activation_add_arg(&w, args[i], &err);
    for (size_t i = 0; i < 4; i++)
        r |= wr_activation_add_env(&w, envs[i], &err);
    is_int(r, 0, "4 args and 4 env entries are added (%s)", err.msg);
    ssize_t len = wr_activation_finish(&w, "/srv/app", "box-1", &err);
    size_t want_len = 16;
    for (size_t i = 0; i < 4; i++)
        want_len += strlen(args[i]) + 1 + strlen(envs[i]) + 1;
    want_len += strlen("/srv/app") + 1 + strlen("box-1") + 1;
    is_int(len, (long long)want_len, "finish returns the message length");

    uint32_t header[4];
    memcpy(header, buf, sizeof header);
    ok(header[0] == MAGIC && header[1] == 4 && header[2] == 4 && header[3] == 0,
       "header holds magic, argc, envc and a zero reserved word");

    char *heap;
    r = decode_copy(buf, (size_t)len, &act, &err, &heap);
    if (!ok(r == 0, "the message decodes (%s)", err.msg)) {
        skip(6, "decode failed");
        free(heap);
        return;
    }
    bool same = vec_len(act.argv) == 4;
    for (size_t i = 0; same && i < 4; i++)
        same = strcmp(act.argv[i], args[i]) == 0;
    ok(same, "argv survives, empty and non-ASCII arguments included");
    same = vec_len(act.envp) == 4;
    for (size_t i = 0; same && i < 4; i++)
        same = strcmp(act.envp[i], envs[i]) == 0;
    ok(same, "envp survives");
    is_str(act.cwd, "/srv/app", "cwd survives");
    is_str(act.hostname, "box-1", "hostname survives");
    ok(act.argv[0] >= heap && act.argv[0] < heap + len && act.cwd > act.argv[0] &&
           act.hostname < heap + len,
       "strings point into the buffer (decoded in place)");
    ok((char *)act.argv == (char *)vec && act.envp == vec + 5,
       "argv and envp are laid out in the caller's vector");
    free(heap);

    /* No environment at all and an empty hostname (keep the fill-time one). */
    wr_activation_writer_init(&w, buf, sizeof buf);
    wr_activation_add_arg(&w, "sh", &err);
    len = wr_activation_finish(&w, "/", "", &err);
    r = len > 0 ? decode_copy(buf, (size_t)len, &act, &err, &heap) : -1;
    ok(r == 0 && vec_len(act.argv) == 1 && act.envp && !act.envp[0] && !strcmp(act.cwd, "/") &&
           !strcmp(act.hostname, ""),
       "a message without env and with an empty hostname round-trips (%s)", err.msg);
    if (len > 0)
        free(heap);

    /* The decoder must not assume any alignment of the buffer. */
    memcpy(copy + 1, buf, (size_t)len);
    memset(&err, 0, sizeof err);
    r = wr_activation_decode(copy + 1, (size_t)len, vec, WR_ACTIVATION_VEC_MAX, &act, &err);
    ok(r == 0 && !strcmp(act.argv[0], "sh"), "a message at an odd address decodes (%s)", err.msg);
}

static void test_writer_limits(void)
{
    struct wr_activation_writer w;
    wr_error err = {0};
    char name[32];
    int r = 0;

    /* 4096 arguments and 4096 variables: the container's static vector. */
    wr_activation_writer_init(&w, buf, sizeof buf);
    for (int i = 0; i < 4096 && r == 0; i++)
        r = wr_activation_add_arg(&w, "a", &err);
    for (int i = 0; i < 4096 && r == 0; i++) {
        snprintf(name, sizeof name, "V%d=", i);
        r = wr_activation_add_env(&w, name, &err);
    }
    is_int(r, 0, "4096 arguments and 4096 environment entries are accepted");
    ssize_t len = wr_activation_finish(&w, "/", "h", &err);
    struct wr_activation act;
    char *heap = NULL;
    r = len > 0 ? decode_copy(buf, (size_t)len, &act, &err, &heap) : -1;
    ok(r == 0 && vec_len(act.argv) == 4096 && vec_len(act.envp) == 4096,
       "they decode into a WR_ACTIVATION_VEC_MAX vector (%s)", err.msg);
    is_int((int)wr_activation_vec_needed(buf, (size_t)len), WR_ACTIVATION_VEC_MAX,
           "wr_activation_vec_needed counts them and the two NULLs");
    memset(&err, 0, sizeof err);
    ok(wr_activation_decode(heap, (size_t)len, vec, WR_ACTIVATION_VEC_MAX - 1, &act, &err) < 0 &&
           err.errnum == ENOBUFS,
       "a vector one entry short is refused with ENOBUFS (%s)", err.msg);
    free(heap);

    /* The kernel's limits (exec_limits.h), in a buffer that holds them. */
    char *big = malloc(WR_ACTIVATION_BIG_MAX);
    char *arg = malloc(WR_ARG_STRLEN_MAX + 1);
    if (!big || !arg)
        bail_out("out of memory");
    memset(arg, 'x', WR_ARG_STRLEN_MAX);
    arg[WR_ARG_STRLEN_MAX - 1] = '\0';
    wr_activation_writer_init(&w, big, WR_ACTIVATION_BIG_MAX);
    is_int(wr_activation_add_arg(&w, arg, &err), 0,
           "an argument of MAX_ARG_STRLEN - 1 bytes is accepted (%s)", err.msg);
    arg[WR_ARG_STRLEN_MAX - 1] = 'x';
    arg[WR_ARG_STRLEN_MAX] = '\0';
    memset(&err, 0, sizeof err);
    ok(wr_activation_add_arg(&w, arg, &err) < 0 && err.errnum == E2BIG,
       "one of MAX_ARG_STRLEN bytes is refused with E2BIG (%s)", err.msg);
    arg[WR_ARG_STRLEN_MAX - 1] = '\0';
    size_t limit = wr_exec_args_limit();
    r = 0;
    while (r == 0 && w.exec_bytes + WR_ARG_STRLEN_MAX + 8 * (w.argc + 1) <= limit)
        r = wr_activation_add_arg(&w, arg, &err);
    is_int(r, 0, "arguments up to the stack limit's quarter are accepted (%zu bytes)",
           w.exec_bytes);
    memset(&err, 0, sizeof err);
    ok(wr_activation_add_arg(&w, arg, &err) < 0 && err.errnum == E2BIG,
       "the one past it is refused with E2BIG (%s)", err.msg);
    len = wr_activation_finish(&w, "/", "", &err);
    ok(len > WR_ACTIVATION_MAX, "the accepted ones make a message larger than in band (%zd)", len);
    size_t need = wr_activation_vec_needed(big, (size_t)len);
    char **bigvec = calloc(need, sizeof *bigvec);
    ok(bigvec && wr_activation_decode(big, (size_t)len, bigvec, need, &act, &err) == 0 &&
           strlen(act.argv[0]) == WR_ARG_STRLEN_MAX - 1,
       "and it decodes (%s)", err.msg);
    free(bigvec);
    char *argv_over[] = {arg, arg, NULL};
    memset(&err, 0, sizeof err);
    ok(wr_exec_args_check(argv_over, NULL, &err) == 0, "wr_exec_args_check takes two of them");
    arg[WR_ARG_STRLEN_MAX - 1] = 'x';
    ok(wr_exec_args_check(argv_over, NULL, &err) < 0 && err.errnum == E2BIG,
       "and refuses a string of MAX_ARG_STRLEN bytes (%s)", err.msg);
    free(arg);
    free(big);

    /* A buffer too small: 16 bytes of header plus "abc\0" fills 20. */
    char small[20];
    wr_activation_writer_init(&w, small, sizeof small);
    is_int(wr_activation_add_arg(&w, "abc", &err), 0, "an argument that exactly fills the buffer");
    memset(&err, 0, sizeof err);
    ok(wr_activation_add_arg(&w, "", &err) < 0 && err.errnum == ENOBUFS,
       "one more byte is refused with ENOBUFS (%s)", err.msg);
    memset(&err, 0, sizeof err);
    ok(wr_activation_finish(&w, "/", "", &err) < 0 && err.errnum == ENOBUFS,
       "finish fails when cwd and hostname do not fit (%s)", err.msg);
    char tiny[8];
    wr_activation_writer_init(&w, tiny, sizeof tiny);
    memset(&err, 0, sizeof err);
    ok(wr_activation_add_arg(&w, "", &err) < 0 && err.errnum == ENOBUFS,
       "a buffer smaller than the header takes nothing (%s)", err.msg);

    /* Environment entries must be KEY=VALUE with a non-empty key. */
    static const char *const bad_env[] = {"FOO", "=x", "", "="};
    for (size_t i = 0; i < sizeof bad_env / sizeof bad_env[0]; i++) {
        wr_activation_writer_init(&w, buf, sizeof buf);
        wr_activation_add_arg(&w, "sh", &err);
        memset(&err, 0, sizeof err);
        ok(wr_activation_add_env(&w, bad_env[i], &err) < 0 && err.errnum == EINVAL,
           "env entry \"%s\" is refused (%s)", bad_env[i], err.msg);
    }
    ok(wr_env_entry_valid("A=") && wr_env_entry_valid("A==") && !wr_env_entry_valid("=A=") &&
           !wr_env_entry_valid("A"),
       "wr_env_entry_valid");

    /* Stages: arguments, then environment, then finish. */
    wr_activation_writer_init(&w, buf, sizeof buf);
    wr_activation_add_arg(&w, "sh", &err);
    wr_activation_add_env(&w, "A=1", &err);
    memset(&err, 0, sizeof err);
    ok(wr_activation_add_arg(&w, "late", &err) < 0 && err.errnum == EINVAL,
       "an argument after the environment is refused (%s)", err.msg);
    ok(wr_activation_finish(&w, "/", "", &err) > 0, "finish after the refusal still works");
    memset(&err, 0, sizeof err);
    ok(wr_activation_add_env(&w, "B=2", &err) < 0, "env after finish is refused (%s)", err.msg);

    wr_activation_writer_init(&w, buf, sizeof buf);
    memset(&err, 0, sizeof err);
    ok(wr_activation_finish(&w, "/", "", &err) < 0 && err.errnum == EINVAL,
       "finish without arguments is refused (%s)", err.msg);

    /* cwd must be absolute; the hostname at most 64 bytes. */
    static const char *const bad_cwd[] = {"srv", "", "./x"};
    for (size_t i = 0; i < sizeof bad_cwd / sizeof bad_cwd[0]; i++) {
        wr_activation_writer_init(&w, buf, sizeof buf);
        wr_activation_add_arg(&w, "sh", &err);
        memset(&err, 0, sizeof err);
        ok(wr_activation_finish(&w, bad_cwd[i], "", &err) < 0 && err.errnum == EINVAL,
           "relative cwd \"%s\" is refused (%s)", bad_cwd[i], err.msg);
    }
    char host[80];
    memset(host, 'h', 64);
    host[64] = '\0';
    wr_activation_writer_init(&w, buf, sizeof buf);
    wr_activation_add_arg(&w, "sh", &err);
    ok(wr_activation_finish(&w, "/", host, &err) > 0, "a 64-byte hostname is accepted");
    host[64] = 'h';
    host[65] = '\0';
    wr_activation_writer_init(&w, buf, sizeof buf);
    wr_activation_add_arg(&w, "sh", &err);
    memset(&err, 0, sizeof err);
    ok(wr_activation_finish(&w, "/", host, &err) < 0 && err.errnum == EINVAL,
       "a 65-byte hostname is refused (%s)", err.msg);
}

/* Builds a raw message: header words then the given bytes. */
static size_t raw_message(char *out, uint32_t magic, uint32_t argc, uint32_t envc, const char *body,
                          size_t body_len)
{
    uint32_t header[4] = {magic, argc, envc, 0};
    memcpy(out, header, sizeof header);
    memcpy(out + sizeof header, body, body_len);
    return sizeof header + body_len;
}

/* The body of a valid message with 2 args, 1 env entry: "sh -c" A=1 / h. */
#define BODY     "sh\0-c\0A=1\0/\0h"
#define BODY_LEN sizeof(BODY) /* with the final NUL */

static void test_decode_rejects(void)
{
    char msg[256];
    struct wr_activation act;
    wr_error err;
    char *heap;

    size_t len = raw_message(msg, MAGIC, 2, 1, BODY, BODY_LEN);
    int r = decode_copy(msg, len, &act, &err, &heap);
    ok(r == 0 && vec_len(act.argv) == 2 && !strcmp(act.argv[1], "-c") &&
           !strcmp(act.envp[0], "A=1") && !strcmp(act.hostname, "h"),
       "a hand-built message decodes (%s)", err.msg);
    free(heap);

    decode_fails(msg, 0, "an empty message");
    decode_fails(msg, 15, "a truncated header");
    decode_fails(msg, 16, "a header without strings");
    len = raw_message(msg, MAGIC ^ 1, 2, 1, BODY, BODY_LEN);
    decode_fails(msg, len, "a bad magic");
    len = raw_message(msg, 0x31617277u, 2, 1, BODY, BODY_LEN);
    decode_fails(msg, len, "a byte-swapped magic");
    len = raw_message(msg, MAGIC, 0, 1, BODY, BODY_LEN);
    decode_fails(msg, len, "argc 0");
    len = raw_message(msg, MAGIC, WR_MAX_ARGS + 1, 1, BODY, BODY_LEN);
    decode_fails(msg, len, "argc beyond WR_MAX_ARGS");
    len = raw_message(msg, MAGIC, UINT32_MAX, 1, BODY, BODY_LEN);
    decode_fails(msg, len, "argc UINT32_MAX");
    len = raw_message(msg, MAGIC, 2, WR_MAX_ENV + 1, BODY, BODY_LEN);
    decode_fails(msg, len, "envc beyond WR_MAX_ENV");
    len = raw_message(msg, MAGIC, 2, UINT32_MAX, BODY, BODY_LEN);
    decode_fails(msg, len, "envc UINT32_MAX");
    len = raw_message(msg, MAGIC, 3, 1, BODY, BODY_LEN);
    decode_fails(msg, len, "argc larger than the strings present");
    len = raw_message(msg, MAGIC, 1, 3, BODY, BODY_LEN);
    decode_fails(msg, len, "envc larger than the strings present");

    len = raw_message(msg, MAGIC, 2, 1, BODY, BODY_LEN);
    decode_fails(msg, len - 1, "a message missing its final NUL");
    decode_fails(msg, len - 2, "a message missing its hostname");
    msg[len] = 'x';
    decode_fails(msg, len + 1, "a trailing byte");
    msg[len + 1] = '\0';
    decode_fails(msg, len + 2, "a trailing string");

    len = raw_message(msg, MAGIC, 2, 1, "sh\0-c\0A1\0/\0h", BODY_LEN - 1);
    decode_fails(msg, len, "an env entry without '='");
    len = raw_message(msg, MAGIC, 2, 1, "sh\0-c\0=1\0/\0h", BODY_LEN - 1);
    decode_fails(msg, len, "an env entry starting with '='");
    len = raw_message(msg, MAGIC, 2, 1, "sh\0-c\0\0/\0h", BODY_LEN - 3);
    decode_fails(msg, len, "an empty env entry");
    len = raw_message(msg, MAGIC, 2, 1, "sh\0-c\0A=1\0.\0h", BODY_LEN);
    decode_fails(msg, len, "a relative cwd");
    len = raw_message(msg, MAGIC, 2, 1, "sh\0-c\0A=1\0\0h", BODY_LEN - 1);
    decode_fails(msg, len, "an empty cwd");

    char body[128];
    size_t n = 0;
    memcpy(body, "sh\0/\0", 5);
    n = 5;
    memset(body + n, 'h', 65);
    n += 65;
    body[n++] = '\0';
    len = raw_message(msg, MAGIC, 1, 0, body, n);
    decode_fails(msg, len, "a 65-byte hostname");
    body[n - 2] = '\0';
    len = raw_message(msg, MAGIC, 1, 0, body, n - 1);
    r = decode_copy(msg, len, &act, &err, &heap);
    ok(r == 0 && strlen(act.hostname) == 64, "a 64-byte hostname decodes (%s)", err.msg);
    free(heap);
}

/* ---- compose ---------------------------------------------------------- */

#define CID "0123456789ab"

static struct wr_activation composed;
static char *compose_heap;

/* Composes and decodes; returns the length or -1 with err set. */
static ssize_t compose(const struct wr_image *img, const struct wr_request *req, wr_error *err)
{
    free(compose_heap);
    compose_heap = NULL;
    memset(&composed, 0, sizeof composed);
    memset(err, 0, sizeof *err);
    ssize_t len = wr_activation_compose(img, req, CID, buf, sizeof buf, err);
    if (len < 0)
        return -1;
    if (decode_copy(buf, (size_t)len, &composed, err, &compose_heap) < 0)
        return -2;
    return len;
}

/* The value of key in envp, NULL when unset; *times counts its entries. */
static const char *env_get(char **envp, const char *key, int *times)
{
    const char *val = NULL;
    size_t k = strlen(key);
    *times = 0;
    for (size_t i = 0; envp && envp[i]; i++)
        if (strncmp(envp[i], key, k) == 0 && envp[i][k] == '=') {
            val = envp[i] + k + 1;
            (*times)++;
        }
    return val;
}

static void is_env(const char *key, const char *want, const char *what)
{
    int times;
    const char *got = env_get(composed.envp, key, &times);
    if (!is_str(got, want, "%s: %s", what, key))
        return;
    if (want && times != 1)
        diag("%s appears %d times", key, times);
}

/* argv equals the NULL-terminated list want. */
static bool argv_is(char *const *want)
{
    size_t n = 0;
    for (; want[n]; n++)
        if (!composed.argv || !composed.argv[n] || strcmp(composed.argv[n], want[n]) != 0)
            return false;
    return composed.argv && composed.argv[n] == NULL;
}

static void show_argv(void)
{
    for (size_t i = 0; composed.argv && composed.argv[i]; i++)
        diag("  argv[%zu] = \"%s\"", i, composed.argv[i]);
}

static void test_compose_argv(void)
{
    char *entrypoint[] = {"/bin/app", "--flag", NULL};
    char *cmd[] = {"serve", "--port=80", NULL};
    char *command[] = {"migrate", "up", NULL};
    char *empty[] = {NULL};
    char *no_env[] = {NULL};
    struct wr_image img = {.name = "app",
                           .tag = "v1",
                           .entrypoint = entrypoint,
                           .cmd = cmd,
                           .env = no_env,
                           .workdir = "/",
                           .user = ""};
    struct wr_request req = {.op = WR_OP_ACTIVATE, .image = "app:v1"};
    wr_error err;

    ok(compose(&img, &req, &err) > 0 &&
           argv_is((char *[]){"/bin/app", "--flag", "serve", "--port=80", NULL}),
       "no command: Entrypoint + Cmd (%s)", err.msg);
    req.argv = command;
    req.argc = 2;
    if (!ok(compose(&img, &req, &err) > 0 &&
                argv_is((char *[]){"/bin/app", "--flag", "migrate", "up", NULL}),
            "a command replaces Cmd, after Entrypoint (%s)", err.msg))
        show_argv();

    img.entrypoint = NULL;
    ok(compose(&img, &req, &err) > 0 && argv_is(command), "no Entrypoint: the command alone (%s)",
       err.msg);
    req.argv = NULL;
    req.argc = 0;
    ok(compose(&img, &req, &err) > 0 && argv_is(cmd), "no Entrypoint, no command: Cmd (%s)",
       err.msg);

    img.entrypoint = entrypoint;
    img.cmd = NULL;
    ok(compose(&img, &req, &err) > 0 && argv_is(entrypoint),
       "no Cmd, no command: Entrypoint alone (%s)", err.msg);
    img.cmd = empty;
    ok(compose(&img, &req, &err) > 0 && argv_is(entrypoint),
       "empty Cmd, no command: Entrypoint alone (%s)", err.msg);

    img.entrypoint = NULL;
    img.cmd = NULL;
    ok(compose(&img, &req, &err) == -1 && err.errnum == EINVAL && strstr(err.msg, "app:v1"),
       "no Entrypoint, no Cmd, no command is refused, naming the image (%s)", err.msg);
    img.entrypoint = empty;
    img.cmd = empty;
    ok(compose(&img, &req, &err) == -1 && err.errnum == EINVAL,
       "empty Entrypoint and Cmd, no command is refused (%s)", err.msg);

    /* argc counts, not only the NULL terminator: an empty argv with argc 0
     * still means "the image's default". */
    req.argv = empty;
    req.argc = 0;
    img.cmd = cmd;
    ok(compose(&img, &req, &err) > 0 && argv_is(cmd), "argv [] with argc 0 uses Cmd (%s)", err.msg);

    /* --entrypoint, as docker run: replaces Entrypoint and drops Cmd. */
    img.entrypoint = entrypoint;
    req.entrypoint = "/bin/other";
    ok(compose(&img, &req, &err) > 0 && argv_is((char *[]){"/bin/other", NULL}),
       "--entrypoint without a command: it alone, the image's Cmd dropped (%s)", err.msg);
    req.argv = command;
    req.argc = 2;
    ok(compose(&img, &req, &err) > 0 && argv_is((char *[]){"/bin/other", "migrate", "up", NULL}),
       "--entrypoint with a command: it, then the command (%s)", err.msg);
    req.entrypoint = "";
    ok(compose(&img, &req, &err) > 0 && argv_is(command), "--entrypoint '': the command alone (%s)",
       err.msg);
    req.argv = empty;
    req.argc = 0;
    ok(compose(&img, &req, &err) == -1 && err.errnum == EINVAL,
       "--entrypoint '' and no command: nothing to run (%s)", err.msg);
    req.entrypoint = NULL;

    /* Too large for the caller's buffer. */
    req.argv = command;
    req.argc = 2;
    char small[40];
    memset(&err, 0, sizeof err);
    ok(wr_activation_compose(&img, &req, CID, small, sizeof small, &err) < 0 &&
           err.errnum == ENOBUFS,
       "a message larger than the buffer is refused (%s)", err.msg);
    const char *at;
    char *heap = NULL;
    ssize_t len =
        wr_activation_compose_any(&img, &req, NULL, CID, small, sizeof small, &heap, &at, &err);
    ok(len > 0 && heap && at == heap, "compose_any puts it in a heap buffer instead (%s)", err.msg);
    free(heap);
}

static void test_compose_env(void)
{
    char *cmd[] = {"sh", NULL};
    char *no_env[] = {NULL};
    char *img_env[] = {"PATH=/img/bin", "FOO=img", "FOO=img2", "PATHX=1", "KEEP=img", NULL};
    char *req_env[] = {"FOO=req", "BAR=1", "BAR=2", "NEW=", NULL};
    struct wr_image img = {
        .name = "app", .tag = "v1", .cmd = cmd, .env = no_env, .workdir = "/srv", .user = ""};
    struct wr_request req = {.op = WR_OP_ACTIVATE, .image = "app:v1"};
    wr_error err;

    ok(compose(&img, &req, &err) > 0, "compose with defaults only (%s)", err.msg);
    is_env("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "default");
    is_env("HOSTNAME", CID, "default is the container id");
    is_env("HOME", NULL, "none: the container adds the user's own");
    is_int(vec_len(composed.envp), 2, "two default variables, nothing else");
    is_str(composed.cwd, "/srv", "cwd is the image's WorkingDir");
    is_str(composed.hostname, "", "no request hostname: keep the fill-time one");

    img.env = img_env;
    ok(compose(&img, &req, &err) > 0, "compose with an image Env (%s)", err.msg);
    is_env("PATH", "/img/bin", "image Env overrides the default");
    is_env("FOO", "img2", "a key twice in the image Env keeps the last");
    is_env("PATHX", "1", "a key with a default's name as prefix is its own variable:");
    is_env("HOSTNAME", CID, "untouched default");
    is_int(vec_len(composed.envp), 5, "PATH HOSTNAME FOO PATHX KEEP, each once");

    req.env = req_env;
    req.envc = 4;
    req.cwd = "/data";
    req.hostname = "web-1";
    ok(compose(&img, &req, &err) > 0, "compose with a request env (%s)", err.msg);
    is_env("FOO", "req", "request env overrides the image's");
    is_env("BAR", "2", "a key twice in the request keeps the last");
    is_env("NEW", "", "request adds an empty variable");
    is_env("KEEP", "img", "image variable the request does not set");
    is_env("PATH", "/img/bin", "image PATH still set");
    is_env("HOSTNAME", "web-1", "HOSTNAME follows the request hostname");
    is_int(vec_len(composed.envp), 7, "7 variables, each once");
    is_str(composed.cwd, "/data", "cwd from the request wins over WorkingDir");
    is_str(composed.hostname, "web-1", "the request hostname is in the message");

    /* Later layers win even for the defaults. */
    char *img_env2[] = {"HOME=/home/app", "HOSTNAME=img", NULL};
    char *req_env2[] = {"HOME=/tmp", "PATH=/req", NULL};
    img.env = img_env2;
    req.env = req_env2;
    req.envc = 2;
    req.hostname = NULL;
    req.cwd = NULL;
    ok(compose(&img, &req, &err) > 0, "compose overriding defaults (%s)", err.msg);
    is_env("HOME", "/tmp", "request beats image beats default");
    is_env("PATH", "/req", "request beats default");
    is_env("HOSTNAME", "img", "image Env beats the default");
    is_int(vec_len(composed.envp), 3, "each variable once");

    /* getenv() returns the first match, so a later layer can only win if
     * the earlier entry is gone: no key may appear twice. */
    bool unique = true;
    for (size_t i = 0; composed.envp[i]; i++)
        for (size_t j = i + 1; composed.envp[j]; j++) {
            size_t ki = strcspn(composed.envp[i], "=");
            if (ki == strcspn(composed.envp[j], "=") &&
                strncmp(composed.envp[i], composed.envp[j], ki) == 0)
                unique = false;
        }
    ok(unique, "no variable appears twice");

    /* An invalid request env entry reaches the writer and is refused. */
    char *bad_req_env[] = {"=oops", NULL};
    req.env = bad_req_env;
    req.envc = 1;
    ok(compose(&img, &req, &err) == -1 && err.errnum == EINVAL,
       "a request env entry with an empty key is refused (%s)", err.msg);

    /* An image without WorkingDir set has "/" (image_store's default). */
    req.env = NULL;
    req.envc = 0;
    img.workdir = "/";
    ok(compose(&img, &req, &err) > 0 && !strcmp(composed.cwd, "/"), "WorkingDir / (%s)", err.msg);
    img.workdir = "relative";
    ok(compose(&img, &req, &err) == -1 && err.errnum == EINVAL,
       "a relative WorkingDir is refused by the writer (%s)", err.msg);
}

/* --init travels as flag bit 0 of the header; unknown bits are refused. */
static void test_init_flag(void)
{
    char *cmd[] = {"sleep", "1", NULL};
    char *no_env[] = {NULL};
    struct wr_image img = {
        .name = "a", .tag = "b", .cmd = cmd, .env = no_env, .workdir = "/", .user = ""};
    struct wr_request req = {.op = WR_OP_ACTIVATE, .image = "a:b"};
    wr_error err;

    ok(compose(&img, &req, &err) > 0 && composed.flags == 0, "no --init: flags 0 (%s)", err.msg);
    req.init = true;
    ok(compose(&img, &req, &err) > 0 && composed.flags == WR_ACTIVATION_FLAG_INIT,
       "--init: the init flag is decoded (%s)", err.msg);

    uint32_t header[4];
    ssize_t len = wr_activation_compose(&img, &req, CID, buf, sizeof buf, &err);
    memcpy(header, buf, sizeof header);
    header[3] |= 0x80;
    memcpy(buf, header, sizeof header);
    decode_fails(buf, (size_t)len, "an unknown flag bit");
}

int main(void)
{
    test_round_trip();
    test_writer_limits();
    test_decode_rejects();
    test_compose_argv();
    test_compose_env();
    test_init_flag();
    free(compose_heap);
    return done_testing();
}
