/* See net_publish.h. */
#include "net_publish.h"

#include "net_cidr.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int port(const char *s, size_t len, uint16_t *out)
{
    unsigned v = 0;
    if (len == 0 || len > 5 || s[0] == '0')
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v > 65535)
        return -1;
    *out = (uint16_t)v;
    return 0;
}

int wr_publish_parse(const char *s, struct wr_publish *p, wr_error *err)
{
    char buf[64];
    memset(p, 0, sizeof p[0]);
    if (strlen(s) >= sizeof buf)
        goto bad;
    snprintf(buf, sizeof buf, "%s", s);
    char *proto = strchr(buf, '/');
    if (proto) {
        *proto++ = '\0';
        if (strcmp(proto, "udp") == 0)
            p->udp = true;
        else if (strcmp(proto, "tcp") != 0)
            goto bad;
    }
    char *last = strrchr(buf, ':');
    if (!last)
        goto bad;
    if (port(last + 1, strlen(last + 1), &p->container_port) < 0)
        goto bad;
    *last = '\0';
    char *first = strrchr(buf, ':');
    const char *hp = first ? first + 1 : buf;
    if (port(hp, strlen(hp), &p->host_port) < 0)
        goto bad;
    if (first) {
        *first = '\0';
        wr_error ignored;
        if (strlen(buf) > WR_IPV4_TEXT - 1 || wr_ipv4_parse(buf, &p->host_ip, &ignored) < 0)
            goto bad;
    }
    return 0;
bad:
    return wr_error_set(
        err, EINVAL, "-p %s: expected [HOSTIP:]HOSTPORT:CONTAINERPORT[/tcp|udp], ports 1 to 65535",
        s);
}

void wr_publish_format(const struct wr_publish *p, char *out)
{
    char ip[WR_IPV4_TEXT];
    wr_ipv4_format(p->host_ip, ip);
    snprintf(out, WR_PUBLISH_TEXT, "%s%s%u:%u/%s", p->host_ip ? ip : "", p->host_ip ? ":" : "",
             p->host_port, p->container_port, p->udp ? "udp" : "tcp");
}

bool wr_publish_overlap(const struct wr_publish *a, const struct wr_publish *b)
{
    return a->udp == b->udp && a->host_port == b->host_port &&
           (!a->host_ip || !b->host_ip || a->host_ip == b->host_ip);
}

int wr_publish_set_add(struct wr_publish_set *set, const char *s, wr_error *err)
{
    struct wr_publish p, q;
    if (set->n >= WR_PUBLISH_MAX)
        return wr_error_set(err, E2BIG, "at most %d -p options", WR_PUBLISH_MAX);
    if (wr_publish_parse(s, &p, err) < 0)
        return -1;
    for (size_t i = 0; i < set->n; i++) {
        wr_error ignored;
        if (wr_publish_parse(set->text[i], &q, &ignored) == 0 && wr_publish_overlap(&p, &q))
            return wr_error_set(err, EINVAL, "-p %s: host port %u/%s is given twice", s,
                                p.host_port, p.udp ? "udp" : "tcp");
    }
    wr_publish_format(&p, set->text[set->n++]);
    return 0;
}
