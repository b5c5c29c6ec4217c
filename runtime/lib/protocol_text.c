/* See protocol_text.h. */
#include "protocol_text.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

char *wr_text_reply_encode(const char *text, size_t n, bool more, size_t *len)
{
    json_t *o = json_pack("{s:b, s:s%, s:b}", "ok", 1, "text", text, n, "more", more);
    if (!o)
        return NULL;
    char *out = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (out)
        *len = strlen(out);
    return out;
}

int wr_text_reply_parse(const char *buf, size_t len, char **text, bool *more, wr_error *err)
{
    json_error_t jerr;
    *text = NULL;
    json_t *o = json_loadb(buf, len, 0, &jerr);
    if (!o || !json_is_object(o)) {
        json_decref(o);
        return wr_error_set(err, 0, "malformed reply from the daemon");
    }
    if (!json_is_true(json_object_get(o, "ok"))) {
        const char *msg = json_string_value(json_object_get(o, "error"));
        wr_error_set(err, 0, "%s", msg ? msg : "the daemon refused");
        json_decref(o);
        return -1;
    }
    json_t *t = json_object_get(o, "text");
    *more = json_is_true(json_object_get(o, "more"));
    if (json_is_string(t)) {
        size_t n = json_string_length(t);
        *text = malloc(n + 1);
        if (*text) {
            memcpy(*text, json_string_value(t), n);
            (*text)[n] = '\0';
        }
    } else {
        *text = strdup("");
    }
    json_decref(o);
    if (!*text)
        return wr_error_set(err, ENOMEM, "reading the daemon's reply");
    return 0;
}

char *wr_event_line(const struct wr_event *e)
{
    char when[64];
    time_t secs = (time_t)(e->time_ns / 1000000000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    size_t n = strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(when + n, sizeof when - n, ".%09lldZ", (long long)(e->time_ns % 1000000000));
    json_t *attrs = json_object();
    for (size_t i = 0; i < e->n_attrs; i++)
        json_object_set_new(attrs, e->key[i], json_string(e->value[i]));
    json_t *o = json_pack("{s:I, s:s, s:I, s:s, s:o}", "seq", (json_int_t)e->seq, "time", when,
                          "time_ns", (json_int_t)e->time_ns, "type", e->type, "attributes", attrs);
    if (!o)
        return NULL;
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!text)
        return NULL;
    size_t len = strlen(text);
    char *line = realloc(text, len + 2);
    if (!line) {
        free(text);
        return NULL;
    }
    line[len] = '\n';
    line[len + 1] = '\0';
    return line;
}

int wr_event_line_parse(const char *line, size_t len, struct wr_event *e, wr_error *err)
{
    json_error_t jerr;
    memset(e, 0, sizeof *e);
    json_t *o = json_loadb(line, len, 0, &jerr);
    if (!o || !json_is_object(o)) {
        json_decref(o);
        return wr_error_set(err, 0, "malformed event from the daemon");
    }
    e->seq = (uint64_t)json_integer_value(json_object_get(o, "seq"));
    e->time_ns = (int64_t)json_integer_value(json_object_get(o, "time_ns"));
    const char *type = json_string_value(json_object_get(o, "type"));
    snprintf(e->type, sizeof e->type, "%s", type ? type : "");
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(o, "attributes"), k, v)
    {
        if (e->n_attrs == WR_EVENT_ATTRS || !json_is_string(v))
            continue;
        snprintf(e->key[e->n_attrs], WR_EVENT_KEY_MAX, "%s", k);
        snprintf(e->value[e->n_attrs], WR_EVENT_VAL_MAX, "%s", json_string_value(v));
        e->n_attrs++;
    }
    json_decref(o);
    return 0;
}
