/* TAP test of wr_path_search (runtime/lib/path_search.c), the one PATH walk
 * of the tree: the candidates in order, an empty entry as the current
 * directory (leading, doubled, trailing, a whole empty PATH), NULL as the
 * default PATH, the early stop, and a candidate too long skipped. */
#include "tap.h"
#include "lib/path_search.h"

#include <linux/limits.h>
#include <string.h>

struct seen {
    char list[4096]; /* candidates joined by '|' */
    int stop_at;     /* stop (return 7) at this candidate, 1-based; 0: never */
    int n;
};

static int record(const char *candidate, void *ctx)
{
    struct seen *s = ctx;
    size_t len = strlen(s->list);
    snprintf(s->list + len, sizeof s->list - len, "%s%s", len ? "|" : "", candidate);
    return ++s->n == s->stop_at ? 7 : 0;
}

static const char *walk(const char *path, const char *file, int stop_at, int *rc)
{
    static struct seen s;
    memset(&s, 0, sizeof s);
    s.stop_at = stop_at;
    *rc = wr_path_search(path, file, record, &s);
    return s.list;
}

int main(void)
{
    int rc;
    is_str(walk("/a:/b/c", "sh", 0, &rc), "/a/sh|/b/c/sh", "entries in order");
    is_int(rc, 0, "  0 once every entry was tried");
    is_str(walk(":/a", "sh", 0, &rc), "./sh|/a/sh", "a leading ':' is the current directory");
    is_str(walk("/a::/b", "sh", 0, &rc), "/a/sh|./sh|/b/sh", "so is a doubled one");
    is_str(walk("/a:", "sh", 0, &rc), "/a/sh|./sh", "and a trailing one");
    is_str(walk("", "sh", 0, &rc), "./sh", "an empty PATH: the current directory alone");
    is_str(walk(NULL, "sh", 0, &rc),
           "/usr/local/sbin/sh|/usr/local/bin/sh|/usr/sbin/sh|/usr/bin/sh|/sbin/sh|/bin/sh",
           "NULL: the default PATH");
    is_str(WR_DEFAULT_PATH_ENV, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
           "WR_DEFAULT_PATH_ENV: Docker's default");
    is_str(walk("/a:/b:/c", "sh", 2, &rc), "/a/sh|/b/sh", "the walk stops where try says");
    is_int(rc, 7, "  and returns what try returned");
    static char longdir[PATH_MAX + 16], path[PATH_MAX + 32];
    memset(longdir, 'x', PATH_MAX);
    longdir[0] = '/';
    snprintf(path, sizeof path, "%s:/ok", longdir);
    is_str(walk(path, "sh", 0, &rc), "/ok/sh", "a candidate of PATH_MAX bytes or more is skipped");
    return done_testing();
}
