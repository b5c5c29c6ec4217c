/* See protocol_usage.h. */
#include "protocol_usage.h"

#include <jansson.h>
#include <stdlib.h>

static json_t *row_json(const struct wr_usage_row *r)
{
    const struct wr_cg_usage *u = &r->u;
    json_t *percpu = json_array();
    for (unsigned i = 0; i < u->n_percpu; i++)
        json_array_append_new(percpu, json_integer((json_int_t)u->percpu_ns[i]));
    json_t *o = json_pack(
        "{s:s, s:s, s:s, s:f, s:I, s:o, s:I, s:I, s:I, s:I, s:I, s:b, s:f, s:I, s:I, s:I, s:I,"
        " s:I, s:I, s:I, s:o, s:o}",
        "id", r->id, "image", r->image, "state", r->state, "cpu_percent", r->cpu_percent,
        "cpu_usage_ns", (json_int_t)u->cpu_ns, "cpu_percpu_ns", percpu, "cpu_nr_periods",
        (json_int_t)u->nr_periods, "cpu_nr_throttled", (json_int_t)u->nr_throttled,
        "cpu_throttled_ns", (json_int_t)u->throttled_ns, "memory_usage_bytes",
        (json_int_t)u->mem_usage, "memory_limit_bytes", (json_int_t)r->mem_limit_shown,
        "memory_limited", u->mem_limit != 0, "memory_percent", r->mem_percent, "memory_cache_bytes",
        (json_int_t)u->mem_cache, "memory_rss_bytes", (json_int_t)u->mem_rss, "block_read_bytes",
        (json_int_t)u->io_read_bytes, "block_write_bytes", (json_int_t)u->io_write_bytes, "pids",
        (json_int_t)u->pids, "pids_limit", u->pids_limit ? (json_int_t)u->pids_limit : 0,
        "oom_kills", (json_int_t)u->oom_kills, "net_rx_bytes",
        r->has_net ? json_integer((json_int_t)r->net_rx_bytes) : json_null(), "net_tx_bytes",
        r->has_net ? json_integer((json_int_t)r->net_tx_bytes) : json_null());
    return o;
}

char *wr_usage_json(const struct wr_usage_row *rows, size_t n)
{
    json_t *a = json_array();
    if (!a)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        json_t *o = row_json(&rows[i]);
        if (!o || json_array_append_new(a, o) < 0) {
            json_decref(a);
            return NULL;
        }
    }
    char *text = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    return text;
}
