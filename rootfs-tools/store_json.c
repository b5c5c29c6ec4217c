/* See store_json.h. */
#include "store_json.h"

#include <jansson.h>

static json_t *string_or_null(const char *s)
{
    json_t *j = s ? json_string(s) : NULL;
    return j ? j : json_null();
}

char *wr_store_list_json(const struct wr_store_entry *e, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "name", string_or_null(e[i].name));
        json_object_set_new(o, "tag", string_or_null(e[i].tag));
        json_object_set_new(o, "id", string_or_null(e[i].id));
        json_object_set_new(o, "created", string_or_null(e[i].created));
        json_object_set_new(o, "layers", json_integer((json_int_t)e[i].n_layers));
        json_object_set_new(o, "size", json_integer((json_int_t)e[i].size));
        json_array_append_new(a, o);
    }
    char *text = a ? json_dumps(a, JSON_COMPACT) : NULL;
    json_decref(a);
    return text;
}
