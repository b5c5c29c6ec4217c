/* See container_id.h. */
#include "container_id.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

int wr_container_id_new(char out[WR_ID_LEN + 1], wr_error *err)
{
    unsigned char raw[WR_ID_LEN / 2];
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
        return wr_error_set(err, errno, "getrandom");
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(out + 2 * i, 3, "%02x", raw[i]);
    return 0;
}

bool wr_container_id_valid(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > WR_ID_LEN)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)id[i]) || isupper((unsigned char)id[i]))
            return false;
    return true;
}
