#include "activation.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#define WR_ACTIVATION_MAGIC 0x77726131u /* "wra1" */
#define HEADER_WORDS        4
#define HEADER_SIZE         (HEADER_WORDS * sizeof(uint32_t))

void wr_activation_writer_init(struct wr_activation_writer *w, char *buf, size_t cap)
{
    memset(w, 0, sizeof *w);
    w->buf = buf;
    w->cap = cap;
    w->len = HEADER_SIZE;
    w->exec_limit = wr_exec_args_limit();
}

static int append_string(struct wr_activation_writer *w, const char *s, wr_error *err)
{
    size_t n = strlen(s) + 1;
    if (n > w->cap || w->len > w->cap - n)
        return wr_error_set(err, ENOBUFS, "activation larger than %zu bytes", w->cap);
    memcpy(w->buf + w->len, s, n);
    w->len += n;
    return 0;
}

static int too_big(const struct wr_activation_writer *w, size_t bytes, size_t n, wr_error *err)
{
    return wr_error_set(err, E2BIG,
                        "the arguments and environment take %zu bytes or more; the kernel takes "
                        "at most %zu (a quarter of the stack limit, less %d reserved)",
                        wr_exec_args_cost(n, bytes), w->exec_limit, WR_EXEC_ARGS_RESERVE);
}

/* An argument or environment string: what execve will copy. */
static int append_exec_string(struct wr_activation_writer *w, const char *s, const char *what,
                              unsigned index, wr_error *err)
{
    size_t n = strlen(s) + 1;
    if (n > WR_ARG_STRLEN_MAX)
        return wr_error_set(err, E2BIG,
                            "%s %u is %zu bytes long; the kernel takes at most %d per string "
                            "(MAX_ARG_STRLEN)",
                            what, index, n - 1, WR_ARG_STRLEN_MAX - 1);
    /* Checked as it grows: the caller learns E2BIG (not ENOBUFS) even
     * when the strings would not fit the largest buffer either. */
    if (wr_exec_args_cost(w->argc + w->envc + 1, w->exec_bytes + n) > w->exec_limit)
        return too_big(w, w->exec_bytes + n, w->argc + w->envc + 1, err);
    if (append_string(w, s, err) < 0)
        return -1;
    w->exec_bytes += n;
    return 0;
}

int wr_activation_add_arg(struct wr_activation_writer *w, const char *arg, wr_error *err)
{
    if (w->stage != 0)
        return wr_error_set(err, EINVAL, "arguments must come before the environment");
    if (w->argc >= WR_MAX_ARGS)
        return wr_error_set(err, E2BIG, "more than %zu arguments", (size_t)WR_MAX_ARGS);
    if (append_exec_string(w, arg, "argument", w->argc, err) < 0)
        return -1;
    w->argc++;
    return 0;
}

int wr_env_entry_valid(const char *kv)
{
    const char *eq = strchr(kv, '=');
    return eq != NULL && eq != kv;
}

int wr_activation_add_env(struct wr_activation_writer *w, const char *kv, wr_error *err)
{
    if (w->stage > 1)
        return wr_error_set(err, EINVAL, "activation already finished");
    w->stage = 1;
    if (!wr_env_entry_valid(kv))
        return wr_error_set(err, EINVAL, "environment entry \"%.64s\" is not KEY=VALUE", kv);
    if (w->envc >= WR_MAX_ENV)
        return wr_error_set(err, E2BIG, "more than %zu environment entries", (size_t)WR_MAX_ENV);
    if (append_exec_string(w, kv, "environment entry", w->envc, err) < 0)
        return -1;
    w->envc++;
    return 0;
}

ssize_t wr_activation_finish(struct wr_activation_writer *w, const char *cwd, const char *hostname,
                             wr_error *err)
{
    if (w->argc == 0)
        return wr_error_code(err, EINVAL, "no command to run");
    if (cwd[0] != '/')
        return wr_error_set(err, EINVAL, "working directory \"%.64s\" is not absolute", cwd);
    if (strlen(hostname) > WR_HOSTNAME_MAX)
        return wr_error_set(err, EINVAL, "hostname longer than %d bytes", WR_HOSTNAME_MAX);
    if (append_string(w, cwd, err) < 0 || append_string(w, hostname, err) < 0)
        return -1;
    uint32_t header[HEADER_WORDS] = {WR_ACTIVATION_MAGIC, w->argc, w->envc, w->flags};
    memcpy(w->buf, header, sizeof header);
    w->stage = 2;
    return (ssize_t)w->len;
}

/* Returns the string at *pos and advances past its NUL, or NULL when the
 * buffer ends before one. */
static char *next_string(const char *buf, size_t len, size_t *pos)
{
    if (*pos >= len)
        return NULL;
    char *s = (char *)buf + *pos;
    char *nul = memchr(s, '\0', len - *pos);
    if (!nul)
        return NULL;
    *pos = (size_t)(nul - buf) + 1;
    return s;
}

size_t wr_activation_vec_needed(const char *buf, size_t len)
{
    uint32_t header[HEADER_WORDS];
    if (len < HEADER_SIZE)
        return 0;
    memcpy(header, buf, sizeof header);
    if (header[0] != WR_ACTIVATION_MAGIC || header[1] > WR_MAX_ARGS || header[2] > WR_MAX_ENV)
        return 0;
    return (size_t)header[1] + header[2] + 2;
}

int wr_activation_decode(const char *buf, size_t len, char **vec, size_t vec_cap,
                         struct wr_activation *out, wr_error *err)
{
    uint32_t header[HEADER_WORDS];
    memset(out, 0, sizeof *out);
    if (len < HEADER_SIZE)
        return wr_error_set(err, EINVAL, "activation message truncated");
    memcpy(header, buf, sizeof header);
    if (header[0] != WR_ACTIVATION_MAGIC)
        return wr_error_set(err, EINVAL, "activation message has a bad magic");
    uint32_t argc = header[1], envc = header[2];
    if (argc == 0 || argc > WR_MAX_ARGS || envc > WR_MAX_ENV)
        return wr_error_set(err, EINVAL, "activation message has bad counts");
    if (header[3] & ~WR_ACTIVATION_FLAG_INIT)
        return wr_error_set(err, EINVAL, "activation message has unknown flags");
    if ((size_t)argc + envc + 2 > vec_cap)
        return wr_error_set(err, ENOBUFS, "activation message has more strings than room");

    size_t pos = HEADER_SIZE;
    char **argv = vec, **envp = vec + argc + 1;
    for (uint32_t i = 0; i < argc; i++)
        if (!(argv[i] = next_string(buf, len, &pos)))
            goto bad;
    argv[argc] = NULL;
    for (uint32_t i = 0; i < envc; i++)
        if (!(envp[i] = next_string(buf, len, &pos)) || !wr_env_entry_valid(envp[i]))
            goto bad;
    envp[envc] = NULL;
    if (!(out->cwd = next_string(buf, len, &pos)) || out->cwd[0] != '/')
        goto bad;
    if (!(out->hostname = next_string(buf, len, &pos)) || strlen(out->hostname) > WR_HOSTNAME_MAX)
        goto bad;
    if (pos != len)
        goto bad;
    out->argv = argv;
    out->envp = envp;
    out->flags = header[3];
    return 0;
bad:
    return wr_error_set(err, EINVAL, "activation message is malformed");
}
