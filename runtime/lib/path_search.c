/* See path_search.h. */
#include "path_search.h"

#include <linux/limits.h>
#include <stdio.h>
#include <string.h>

int wr_path_search(const char *path, const char *file, int (*try)(const char *candidate, void *ctx),
                   void *ctx)
{
    char candidate[PATH_MAX];
    const char *p = path ? path : WR_DEFAULT_PATH;
    for (;;) {
        const char *end = strchrnul(p, ':');
        size_t len = (size_t)(end - p);
        int n = len ? snprintf(candidate, sizeof candidate, "%.*s/%s", (int)len, p, file)
                    : snprintf(candidate, sizeof candidate, "./%s", file);
        if (n > 0 && (size_t)n < sizeof candidate) {
            int rc = try(candidate, ctx);
            if (rc)
                return rc;
        }
        if (!*end)
            return 0; /* a trailing ':' left one more, empty, entry: "." */
        p = end + 1;
    }
}
