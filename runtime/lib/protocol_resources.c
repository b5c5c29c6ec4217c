/* JSON form of the resource settings (see protocol_resources.h). */
#include "protocol_resources.h"

#include <stdio.h>
#include <string.h>

int wr_resources_from_json(json_t *obj, struct wr_resources *r, wr_error *err)
{
    const char *key;
    json_t *v;
    char num[32];
    if (!json_is_object(obj))
        return wr_error_set(err, 0, "\"resources\" must be an object");
    json_object_foreach(obj, key, v)
    {
        const char *value;
        if (!wr_resources_known(key))
            return wr_error_set(err, 0, "unknown resource \"%.40s\"", key);
        if (json_is_string(v)) {
            value = json_string_value(v);
            if (strlen(value) != json_string_length(v) ||
                json_string_length(v) >= WR_RESOURCE_VALUE_MAX)
                return wr_error_set(err, 0, "resource \"%s\": bad string", key);
        } else if (json_is_integer(v)) {
            snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
            value = num;
        } else if (json_is_true(v) && wr_resources_is_flag(key)) {
            value = NULL;
        } else if (json_is_false(v) && wr_resources_is_flag(key)) {
            continue;
        } else {
            return wr_error_set(err, 0, "resource \"%s\" must be a string or a number", key);
        }
        if (wr_resources_set(r, key, value, err) < 0)
            return -1;
    }
    return 0;
}

static int add_member(const char *key, const char *value, void *ctx)
{
    json_t *obj = ctx;
    json_object_set_new(obj, key, wr_resources_is_flag(key) ? json_true() : json_string(value));
    return 0;
}

json_t *wr_resources_to_json(const struct wr_resources *r)
{
    json_t *obj = json_object();
    wr_resources_each(r, add_member, obj);
    return obj;
}
