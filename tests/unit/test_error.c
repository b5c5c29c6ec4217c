/* TAP test of runtime/lib/error.c: an OS failure carries strerror's text, a
 * condition (wr_error_code) only its own words, and a prefix keeps both. */
#include "lib/error.h"
#include "tap.h"

#include <errno.h>
#include <string.h>

int main(void)
{
    wr_error err;

    is_int(wr_error_set(&err, ENOENT, "open %s", "/x"), -1, "wr_error_set returns -1");
    is_str(err.msg, "open /x: No such file or directory", "an OS failure appends strerror");
    is_int(err.errnum, ENOENT, "  and keeps errno");

    is_int(wr_error_code(&err, ENOENT, "no pool for image %s", "redis"), -1,
           "wr_error_code returns -1");
    is_str(err.msg, "no pool for image redis", "a condition is one plain line, no strerror");
    is_int(err.errnum, ENOENT, "  its errnum classifies it (the API's not_found)");

    wr_error_prefix(&err, "activate");
    is_str(err.msg, "activate: no pool for image redis", "a prefix goes in front");

    wr_error_set(&err, 0, "plain");
    is_str(err.msg, "plain", "errnum 0: no strerror either");
    return done_testing();
}
