/* The two lenient getters the protocol's reply parsers share: a reply is
 * the daemon's own, so a missing or mistyped member reads as empty or 0
 * rather than failing the whole reply. */
#ifndef WARMRUN_PROTOCOL_JSON_H
#define WARMRUN_PROTOCOL_JSON_H

#include <jansson.h>
#include <stdio.h>

/* obj[key] as a string into dst (cap bytes, truncated, always
 * terminated); "" when absent or not a string. */
static inline void wr_json_copy_str(char *dst, size_t cap, json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    snprintf(dst, cap, "%s", s ? s : "");
}

/* obj[key] as an integer; 0 when absent or not an integer. */
static inline long wr_json_get_long(json_t *obj, const char *key)
{
    return (long)json_integer_value(json_object_get(obj, key));
}

#endif
