/* libFuzzer target (`make fuzz`): the API request parser, the security
 * profile's shim encoding, and the container's activation decoder, on
 * arbitrary bytes. Whatever parses must encode again and be freed. */
#include "lib/activation.h"
#include "lib/protocol.h"
#include "lib/security_profile.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct wr_request req;
    wr_error err;
    if (wr_request_parse((const char *)data, size, &req, &err) == 0) {
        size_t len;
        free(wr_request_encode(&req, &len, &err));
        wr_request_free(&req);
    }
    char text[WR_PROFILE_TEXT];
    struct wr_security_profile p;
    size_t n = size < sizeof text - 1 ? size : sizeof text - 1;
    memcpy(text, data, n);
    text[n] = '\0';
    if (wr_security_decode(text, &p, &err) == 0)
        (void)wr_security_encode(&p, text, sizeof text, &err);
    static char buf[WR_ACTIVATION_MAX];
    static char *vec[WR_ACTIVATION_VEC_MAX];
    struct wr_activation act;
    n = size < sizeof buf ? size : sizeof buf;
    memcpy(buf, data, n);
    (void)wr_activation_decode(buf, n, vec, WR_ACTIVATION_VEC_MAX, &act, &err);
    return 0;
}
