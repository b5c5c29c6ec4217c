/* See protocol_network.h. */
#include "protocol_network.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

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

/* A key as nft's syntax writes it: 8080, "1.2.3.4", or a concat of them. */
static int key_text(json_t *v, char *out, size_t cap)
{
    if (json_is_integer(v))
        return snprintf(out, cap, "%lld", (long long)json_integer_value(v)) < (int)cap ? 0 : -1;
    if (json_is_string(v))
        return snprintf(out, cap, "%s", json_string_value(v)) < (int)cap ? 0 : -1;
    json_t *parts = json_object_get(v, "concat");
    size_t i, len = 0;
    json_t *p;
    if (!json_is_array(parts))
        return -1;
    out[0] = '\0';
    json_array_foreach(parts, i, p)
    {
        char one[64];
        if (key_text(p, one, sizeof one) < 0)
            return -1;
        int m = snprintf(out + len, cap - len, "%s%s", i ? " . " : "", one);
        if (m < 0 || (size_t)m >= cap - len)
            return -1;
        len += (size_t)m;
    }
    return 0;
}

int wr_nft_delete_commented(const char *json, const char *id, const char *table, const char *map,
                            char *script, size_t cap)
{
    json_t *root = json_loads(json ? json : "", 0, NULL);
    json_t *items = json_object_get(root, "nftables"), *item, *pair;
    size_t i, j, len = strlen(script);
    int rc = root ? 0 : -1;
    json_array_foreach(items, i, item)
    {
        json_t *elems = json_object_get(json_object_get(item, "map"), "elem");
        json_array_foreach(elems, j, pair)
        {
            json_t *e = json_object_get(json_array_get(pair, 0), "elem");
            const char *comment = json_string_value(json_object_get(e, "comment"));
            char key[128];
            if (!comment || strcmp(comment, id) != 0)
                continue;
            if (key_text(json_object_get(e, "val"), key, sizeof key) < 0) {
                rc = -1;
                continue;
            }
            int m = snprintf(script + len, cap - len, "delete element ip %s %s { %s }\n", table,
                             map, key);
            if (m < 0 || (size_t)m >= cap - len) {
                rc = -1;
                break;
            }
            len += (size_t)m;
        }
    }
    json_decref(root);
    return rc;
}

/* One element's key: 8080, or {"concat": ["1.2.3.4", 8080]}. */
static int port_key(json_t *v, struct wr_publish *p)
{
    wr_error ignored;
    json_t *parts = json_object_get(v, "concat");
    if (parts) {
        const char *ip = json_string_value(json_array_get(parts, 0));
        if (!ip || wr_ipv4_parse(ip, &p->host_ip, &ignored) < 0)
            return -1;
        v = json_array_get(parts, 1);
    }
    if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 65535)
        return -1;
    p->host_port = (uint16_t)json_integer_value(v);
    return 0;
}

int wr_nft_map_ports(const char *json, struct wr_nft_port *out, size_t cap, size_t *n)
{
    json_t *root = json_loads(json ? json : "", 0, NULL);
    json_t *items = json_object_get(root, "nftables"), *item, *pair;
    size_t i, j;
    int rc = root ? 0 : -1;
    json_array_foreach(items, i, item)
    {
        json_t *map = json_object_get(item, "map");
        const char *name = json_string_value(json_object_get(map, "name"));
        json_array_foreach(json_object_get(map, "elem"), j, pair)
        {
            json_t *e = json_object_get(json_array_get(pair, 0), "elem");
            const char *comment = json_string_value(json_object_get(e, "comment"));
            struct wr_nft_port found = {.p.udp = name && strncmp(name, "udp", 3) == 0};
            if (*n >= cap || port_key(json_object_get(e, "val"), &found.p) < 0)
                continue;
            snprintf(found.id, sizeof found.id, "%s", comment ? comment : "");
            out[(*n)++] = found;
        }
    }
    json_decref(root);
    return rc;
}

void wr_nft_each_guard(const char *json, const struct wr_nft_guard_fn *g)
{
    json_t *root = json_loads(json ? json : "", 0, NULL);
    json_t *items = json_object_get(root, "nftables"), *item, *e;
    size_t i, j;
    json_array_foreach(items, i, item)
    {
        json_array_foreach(json_object_get(json_object_get(item, "set"), "elem"), j, e)
        {
            if (json_is_string(e)) { /* the set ports: an ifname */
                g->fn(json_string_value(e), NULL, NULL, g->arg);
                continue;
            }
            json_t *parts = json_object_get(e, "concat");
            const char *ifname = json_string_value(json_array_get(parts, 0));
            const char *mac = json_string_value(json_array_get(parts, 1));
            const char *addr = json_string_value(json_array_get(parts, 2));
            if (ifname && mac && addr)
                g->fn(ifname, mac, addr, g->arg);
        }
    }
    json_decref(root);
}
