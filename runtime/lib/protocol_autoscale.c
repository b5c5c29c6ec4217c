/* JSON of a pool's autoscale settings (see protocol_autoscale.h). */
#include "protocol_autoscale.h"

#include "protocol.h"

static int member(json_t *obj, const char *key, long *out, bool required, wr_error *err)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return required ? wr_error_set(err, 0, "autoscale: \"%s\" is required", key) : 0;
    if (!json_is_integer(v))
        return wr_error_set(err, 0, "autoscale: \"%s\" must be an integer", key);
    *out = (long)json_integer_value(v); /* json_int_t is long long: 64 bits, as long here */
    return 0;
}

int wr_autoscale_from_json(json_t *obj, struct wr_autoscale *a, wr_error *err)
{
    *a = (struct wr_autoscale){.on = true, .idle_ttl_s = WR_IDLE_TTL_DEFAULT_S};
    if (!json_is_object(obj))
        return wr_error_set(err, 0, "\"autoscale\" must be an object");
    if (member(obj, "min", &a->min, true, err) < 0 || member(obj, "max", &a->max, true, err) < 0 ||
        member(obj, "idle_ttl_s", &a->idle_ttl_s, false, err) < 0)
        return -1;
    return wr_autoscale_validate(a, err);
}

json_t *wr_autoscale_to_json(const struct wr_autoscale *a)
{
    if (!a->on)
        return NULL;
    return json_pack("{s:I, s:I, s:I}", "min", (json_int_t)a->min, "max", (json_int_t)a->max,
                     "idle_ttl_s", (json_int_t)a->idle_ttl_s);
}
