/* The CLI's security options, mapped onto wr_security_option. */
#include "cli_security.h"

#include "cli.h"

int cli_security_option(struct wr_security_profile *p, int c, const char *arg)
{
    static const char *const names[] = {"cap-add",      "cap-drop",  "privileged",
                                        "security-opt", "read-only", "user",
                                        "ulimit",       "umask",     "userns"};
    if (c == 'u')
        c = CLI_SEC_USER;
    if (c < CLI_SEC_CAP_ADD || c > CLI_SEC_USERNS)
        return 0;
    wr_error err;
    if (wr_security_option(p, names[c - CLI_SEC_CAP_ADD], arg, &err) < 0) {
        cli_error("%s", err.msg);
        return -1;
    }
    return 1;
}
