/* See net_cidr.h. */
#include "net_cidr.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* One octet: 1 to 3 digits, no leading zero (so "010" is not read as 8
 * by one tool and 10 by another). Returns the characters used, or 0. */
static size_t octet(const char *s, unsigned *v)
{
    size_t n = 0;
    *v = 0;
    while (n < 3 && s[n] >= '0' && s[n] <= '9')
        *v = *v * 10 + (unsigned)(s[n++] - '0');
    if (n == 0 || *v > 255 || (n > 1 && s[0] == '0'))
        return 0;
    return n;
}

static int parse_prefix(const char *s, uint32_t *out, const char **end)
{
    uint32_t a = 0;
    for (int i = 0; i < 4; i++) {
        unsigned v;
        size_t n = octet(s, &v);
        if (!n)
            return -1;
        a = a << 8 | v;
        s += n;
        if (i < 3 && *s++ != '.')
            return -1;
    }
    *out = a;
    *end = s;
    return 0;
}

int wr_ipv4_parse(const char *s, uint32_t *out, wr_error *err)
{
    const char *end;
    if (parse_prefix(s, out, &end) < 0 || *end)
        return wr_error_set(err, 0, "\"%s\" is not an IPv4 address", s);
    return 0;
}

void wr_ipv4_format(uint32_t a, char *out)
{
    snprintf(out, WR_IPV4_TEXT, "%u.%u.%u.%u", a >> 24, a >> 16 & 255, a >> 8 & 255, a & 255);
}

uint32_t wr_cidr_mask(const struct wr_cidr *c)
{
    return c->prefix ? 0xffffffffu << (32 - c->prefix) : 0;
}

int wr_cidr_parse(const char *s, struct wr_cidr *out, wr_error *err)
{
    const char *end;
    unsigned prefix = 0;
    size_t n = 0;
    if (parse_prefix(s, &out->addr, &end) < 0 || *end != '/')
        return wr_error_set(err, 0, "subnet \"%s\" is not A.B.C.D/N", s);
    for (end++; n < 3 && end[n] >= '0' && end[n] <= '9'; n++)
        prefix = prefix * 10 + (unsigned)(end[n] - '0');
    if (n == 0 || end[n] || (n > 1 && end[0] == '0'))
        return wr_error_set(err, 0, "subnet \"%s\" is not A.B.C.D/N", s);
    if (prefix < 8 || prefix > 30)
        return wr_error_set(err, 0, "subnet \"%s\": the prefix length must be 8 to 30", s);
    out->prefix = prefix;
    if (out->addr & ~wr_cidr_mask(out)) {
        char net[WR_IPV4_TEXT];
        wr_ipv4_format(out->addr & wr_cidr_mask(out), net);
        return wr_error_set(err, 0, "subnet \"%s\" has host bits set: did you mean %s/%u?", s, net,
                            prefix);
    }
    return 0;
}

void wr_cidr_format(const struct wr_cidr *c, char *out)
{
    char a[WR_IPV4_TEXT];
    wr_ipv4_format(c->addr, a);
    snprintf(out, WR_CIDR_TEXT, "%s/%u", a, c->prefix);
}

bool wr_cidr_contains(const struct wr_cidr *c, uint32_t addr)
{
    return (addr & wr_cidr_mask(c)) == c->addr;
}

bool wr_cidr_overlap(const struct wr_cidr *a, const struct wr_cidr *b)
{
    const struct wr_cidr *wider = a->prefix <= b->prefix ? a : b;
    const struct wr_cidr *other = wider == a ? b : a;
    return wr_cidr_contains(wider, other->addr);
}

uint32_t wr_cidr_first_host(const struct wr_cidr *c)
{
    return c->addr + 2;
}

uint32_t wr_cidr_last_host(const struct wr_cidr *c)
{
    return (c->addr | ~wr_cidr_mask(c)) - 1;
}
