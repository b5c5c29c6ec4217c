/* TAP test of runtime/lib/state_defaults.c in a temporary directory: the
 * daemon's published defaults are written, read back and withdrawn, and a
 * file that does not parse is an error, never "no defaults". Needs no
 * privileges. */
#include "lib/state_defaults.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[256];

static void write_file(const char *text)
{
    char path[320];
    snprintf(path, sizeof path, "%s/defaults", dir);
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void refuses(const char *text, const char *what)
{
    struct wr_daemon_defaults d;
    wr_error err;
    write_file(text);
    ok(wr_defaults_read(dir, &d, &err) < 0 && strstr(err.msg, "malformed"),
       "a defaults file with %s is an error", what);
}

int main(void)
{
    struct wr_daemon_defaults d = {.userns_base = 7, .userns_size = 7}, back;
    wr_error err;
    char path[320];
    struct stat st;
    snprintf(dir, sizeof dir, "%s/wr-defaults.XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(dir))
        return 1;
    snprintf(path, sizeof path, "%s/defaults", dir);

    ok(wr_defaults_read(dir, &back, &err) == 0 && back.userns_size == 0 && back.userns_base == 0,
       "no file: no defaults");
    d.userns_base = 1000000000;
    d.userns_size = 65536;
    ok(wr_defaults_publish(dir, &d, &err) == 0, "publish userns 1000000000:65536");
    ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "the file is mode 0600");
    ok(wr_defaults_read(dir, &back, &err) == 0 && back.userns_base == 1000000000 &&
           back.userns_size == 65536,
       "read back");
    struct wr_daemon_defaults none = {0};
    ok(wr_defaults_publish(dir, &none, &err) == 0 && stat(path, &st) < 0,
       "publishing no defaults removes the file");
    ok(wr_defaults_publish(dir, &d, &err) == 0, "publish again");
    wr_defaults_withdraw(dir);
    ok(stat(path, &st) < 0, "withdraw removes it");

    refuses("", "nothing in it");
    refuses("userns=0:65536\n", "base 0");
    refuses("userns=5:0\n", "size 0");
    refuses("userns=4294967295:2\n", "a range past 2^32");
    refuses("userns=1000:10 trailing\n", "trailing text");
    refuses("uid=1000:10\n", "an unknown key");

    unlink(path);
    rmdir(dir);
    return done_testing();
}
