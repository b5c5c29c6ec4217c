/* See protocol_publish.h. */
#include "protocol_publish.h"

#include <errno.h>
#include <string.h>

int wr_publish_set_from_json(json_t *arr, struct wr_publish_set *set, wr_error *err)
{
    size_t i;
    json_t *v;
    memset(set, 0, sizeof *set);
    if (!json_is_array(arr))
        return wr_error_set(err, EINVAL, "\"publish\" must be an array of strings");
    json_array_foreach(arr, i, v)
    {
        if (!json_is_string(v))
            return wr_error_set(err, EINVAL, "\"publish\" must be an array of strings");
        if (wr_publish_set_add(set, json_string_value(v), err) < 0)
            return -1;
    }
    return 0;
}

json_t *wr_publish_set_to_json(const struct wr_publish_set *set)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < set->n; i++)
        json_array_append_new(a, json_string(set->text[i]));
    return a;
}
