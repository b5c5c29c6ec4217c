/* See daemon_function_http.h. Status codes, headers and error bodies as
 * API_Invoke documents them: 200 (X-Amz-Function-Error: Unhandled for a
 * function error, X-Amz-Log-Result with X-Amz-Log-Type: Tail,
 * X-Amz-Executed-Version), 202 for Event, 204 for DryRun; errors
 * {"Type":"User","message":...} with X-Amzn-ErrorType: 404
 * ResourceNotFoundException, 400 InvalidRequestContentException (a
 * payload that is not JSON), 413 RequestEntityTooLargeException, 429
 * TooManyRequestsException, 500 ServiceException. */
#include "daemon_function_http.h"

#include "daemon_function.h"
#include "daemon_http.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PREFIX "/2015-03-31/functions/"
/* Bodies up to here get Lambda's own 413; larger ones the listener's. */
#define MAX_BODY (WR_INVOKE_PAYLOAD_MAX + (1 << 20))

struct http_invoke {
    struct daemon_http_request *req;
    bool cancelled;
};

/* The body is JSON whatever msg holds: a message can quote what the
 * client sent (jansson's parse error quotes the token, '"' included), and
 * the SDKs parse this body to name the error. */
static void error_reply(struct daemon_http_request *req, int status, const char *type,
                        const char *msg)
{
    const char *headers[] = {"X-Amzn-ErrorType", type, NULL};
    json_t *o = json_pack("{s:s,s:s?}", "Type", "User", "message", msg);
    char *body = o ? json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
    json_decref(o);
    if (body)
        daemon_http_respond(req, status, "application/json", body, strlen(body), headers);
    else
        daemon_http_respond(req, status, "application/json", "{\"Type\":\"User\"}", 15, headers);
    free(body);
}

/* RFC 4648 base64, for X-Amz-Log-Result. */
static void base64(const unsigned char *in, size_t len, char *out)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (i + 1 < len ? (unsigned)in[i + 1] << 8 : 0) |
                     (i + 2 < len ? in[i + 2] : 0);
        out[o++] = tab[v >> 18 & 63];
        out[o++] = tab[v >> 12 & 63];
        out[o++] = i + 1 < len ? tab[v >> 6 & 63] : '=';
        out[o++] = i + 2 < len ? tab[v & 63] : '=';
    }
    out[o] = '\0';
}

static void on_done(struct daemon *d, void *arg, const char *code, const char *msg,
                    const struct wr_invoke_result *result, const void *body, size_t len)
{
    (void)d;
    struct http_invoke *hi = arg;
    if (hi->cancelled) {
        free(hi);
        return;
    }
    struct daemon_http_request *req = hi->req;
    free(hi);
    if (code) {
        error_reply(req, 500, "ServiceException", msg);
        return;
    }
    static char tail[(WR_LOG_TAIL_MAX + 2) / 3 * 4 + 1];
    const char *headers[12];
    size_t h = 0;
    headers[h++] = "X-Amz-Executed-Version";
    headers[h++] = "$LATEST";
    headers[h++] = "X-Amzn-RequestId";
    headers[h++] = result->request_id;
    if (result->function_error[0]) {
        headers[h++] = "X-Amz-Function-Error";
        headers[h++] = result->function_error;
    }
    if (result->log_tail[0]) {
        base64((const unsigned char *)result->log_tail, strlen(result->log_tail), tail);
        headers[h++] = "X-Amz-Log-Result";
        headers[h++] = tail;
    }
    headers[h] = NULL;
    daemon_http_respond(req, 200, "application/json", body, len, headers);
}

static void on_cancel(void *arg)
{
    ((struct http_invoke *)arg)->cancelled = true;
}

static int hex(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* A version or alias: $LATEST is the only one a function has here. */
static bool qualifier_ok(const char *q)
{
    return !q || strcmp(q, "$LATEST") == 0;
}

/* {FunctionName}: a name, "NAME:QUALIFIER", or a function ARN (maybe with
 * its qualifier), maybe percent-encoded. A qualifier other than $LATEST
 * names a version this function does not have: not found, as Lambda
 * answers for a version that does not exist (it was once taken for the
 * name, and the name refused: the same 404, now for the right reason). */
static bool function_name(const char *path, char *out, size_t cap)
{
    const char *start = path + strlen(PREFIX), *end = strstr(start, "/invocations");
    if (!end || strcmp(end, "/invocations") != 0 || end == start)
        return false;
    char decoded[512];
    size_t n = 0;
    for (const char *p = start; p < end; p++) {
        if (n + 1 >= sizeof decoded)
            return false;
        if (*p == '%' && p + 2 < end + 1 && hex(p[1]) >= 0 && hex(p[2]) >= 0) {
            decoded[n++] = (char)(hex(p[1]) << 4 | hex(p[2]));
            p += 2;
        } else {
            decoded[n++] = *p;
        }
    }
    decoded[n] = '\0';
    char *name = decoded;
    if (strncmp(decoded, "arn:", 4) == 0) {
        char *fn = strstr(decoded, ":function:");
        if (!fn)
            return false;
        name = fn + strlen(":function:");
    }
    char *qual = strchr(name, ':');
    if (qual) {
        *qual++ = '\0';
        if (!qualifier_ok(qual))
            return false;
    }
    if (strlen(name) >= cap)
        return false;
    memcpy(out, name, strlen(name) + 1);
    return wr_function_name_valid(out);
}

static void on_invoke(struct daemon *d, struct daemon_http_request *req, void *arg)
{
    (void)arg;
    char name[WR_FUNCTION_NAME_MAX + 1], msg[256];
    wr_error err;
    /* ?Qualifier=: a version or alias, which was ignored: the invocation
     * ran $LATEST whatever it named. */
    if (!function_name(daemon_http_path(req), name, sizeof name) ||
        !qualifier_ok(daemon_http_query(req, "Qualifier"))) {
        error_reply(req, 404, "ResourceNotFoundException", "Function not found");
        return;
    }
    const char *type = daemon_http_header(req, "X-Amz-Invocation-Type");
    const char *log = daemon_http_header(req, "X-Amz-Log-Type");
    if (!type)
        type = "RequestResponse";
    if (strcmp(type, "RequestResponse") != 0 && strcmp(type, "Event") != 0 &&
        strcmp(type, "DryRun") != 0) {
        error_reply(req, 400, "InvalidParameterValueException",
                    "X-Amz-Invocation-Type must be RequestResponse, Event or DryRun");
        return;
    }
    size_t len;
    const void *body = daemon_http_body(req, &len);
    snprintf(msg, sizeof msg,
             "Function not found: arn:aws:lambda:us-east-1:000000000000:function:%s", name);
    if (!daemon_function_exists(d, name)) {
        error_reply(req, 404, "ResourceNotFoundException", msg);
        return;
    }
    if (strcmp(type, "DryRun") == 0) {
        daemon_http_respond(req, 204, NULL, NULL, 0, NULL);
        return;
    }
    bool event = strcmp(type, "Event") == 0;
    struct http_invoke *hi = event ? NULL : calloc(1, sizeof *hi);
    if (!event && !hi) {
        error_reply(req, 500, "ServiceException", "out of memory");
        return;
    }
    if (hi) {
        /* Before the invoke: it may end within it (an init error). */
        hi->req = req;
        daemon_http_on_cancel(req, on_cancel, hi);
    }
    if (daemon_function_invoke(d, name, body ? body : "{}", body ? len : 2,
                               log && strcasecmp(log, "Tail") == 0, event ? NULL : on_done, hi,
                               &err) < 0) {
        free(hi);
        if (err.errnum == E2BIG)
            error_reply(req, 413, "RequestEntityTooLargeException",
                        "Request must be smaller than 6291456 bytes for the InvokeFunction "
                        "operation");
        else if (err.errnum == EBADMSG)
            error_reply(req, 400, "InvalidRequestContentException", err.msg);
        else if (err.errnum == EBUSY)
            error_reply(req, 429, "TooManyRequestsException", "Rate Exceeded.");
        else if (err.errnum == ENOENT)
            error_reply(req, 404, "ResourceNotFoundException", msg);
        else
            error_reply(req, 500, "ServiceException", err.msg);
        return;
    }
    if (event)
        daemon_http_respond(req, 202, NULL, NULL, 0, NULL);
}

int daemon_function_http_routes(struct daemon *d, wr_error *err)
{
    return daemon_http_route(d, "POST", PREFIX, MAX_BODY, on_invoke, NULL, err);
}
