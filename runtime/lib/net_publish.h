/* Published ports (`-p [HOSTIP:]HOSTPORT:CONTAINERPORT[/tcp|udp]`, Docker's
 * syntax; IPv4 only): parsed once, carried as the canonical text. */
#ifndef WARMRUN_NET_PUBLISH_H
#define WARMRUN_NET_PUBLISH_H

#include "error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WR_PUBLISH_MAX  16 /* -p options per container */
#define WR_PUBLISH_TEXT 32 /* "255.255.255.255:65535:65535/udp" and its NUL */

struct wr_publish {
    uint32_t host_ip; /* host byte order; 0: every local address */
    uint16_t host_port, container_port;
    bool udp;
};

/* Errors name the value and what is expected. Ports 1 to 65535. */
int wr_publish_parse(const char *s, struct wr_publish *p, wr_error *err);
/* Canonical "[HOSTIP:]HOSTPORT:CONTAINERPORT/PROTO" (WR_PUBLISH_TEXT bytes). */
void wr_publish_format(const struct wr_publish *p, char *out);

/* A container's -p set, canonical texts. */
struct wr_publish_set {
    char text[WR_PUBLISH_MAX][WR_PUBLISH_TEXT]; /* canonical */
    size_t n;
};

/* Adds the -p text s to set, canonical. Errors: more than WR_PUBLISH_MAX,
 * a malformed s (wr_publish_parse), a host port that set takes already. */
int wr_publish_set_add(struct wr_publish_set *set, const char *s, wr_error *err);
/* Whether a and b take one host port: the same protocol and port, on the
 * same address or either on every address (Docker's rule). */
bool wr_publish_overlap(const struct wr_publish *a, const struct wr_publish *b);

#endif
