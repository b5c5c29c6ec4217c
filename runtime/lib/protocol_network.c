/* See protocol_network.h. */
#include "protocol_network.h"

#include <jansson.h>

char *wr_network_list_json(const struct wr_network *list, const size_t *live, size_t count)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < count; i++) {
        char subnet[WR_CIDR_TEXT], gw[WR_IPV4_TEXT];
        wr_cidr_format(&list[i].subnet, subnet);
        wr_ipv4_format(list[i].gateway, gw);
        json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s, s:I}", "name", list[i].name,
                                           "bridge", list[i].bridge, "subnet", subnet, "gateway",
                                           gw, "containers", (json_int_t)live[i]));
    }
    char *text = a ? json_dumps(a, JSON_COMPACT) : NULL;
    json_decref(a);
    return text;
}
