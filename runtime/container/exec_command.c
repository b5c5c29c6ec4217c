/* execvpe() with the container's PATH (glibc's searches the caller's own
 * environment) and docker's exit codes for the failures. */

#include "exec_command.h"

#include <errno.h>
#include <linux/limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static const char *env_path(char *const envp[])
{
    for (size_t i = 0; envp[i]; i++)
        if (strncmp(envp[i], "PATH=", 5) == 0)
            return envp[i] + 5;
    return DEFAULT_PATH;
}

static int exit_code_for(int errnum)
{
    return errnum == ENOENT || errnum == ENOTDIR ? 127 : 126;
}

int wr_exec_command(char *const argv[], char *const envp[], wr_error *err)
{
    const char *file = argv[0];
    if (file[0] == '\0') {
        wr_error_set(err, 0, "exec: empty command");
        return 127;
    }
    if (strchr(file, '/')) {
        execve(file, argv, envp);
        int e = errno;
        wr_error_set(err, e, "exec \"%s\"", file);
        return exit_code_for(e);
    }

    /* Remember EACCES: a match that is not executable beats "not found". */
    int seen_eacces = 0;
    const char *p = env_path(envp);
    char candidate[PATH_MAX];
    for (;;) {
        const char *end = strchrnul(p, ':');
        size_t dirlen = (size_t)(end - p);
        const char *dir = dirlen ? p : ".";
        if (dirlen == 0)
            dirlen = 1;
        int n = snprintf(candidate, sizeof candidate, "%.*s/%s", (int)dirlen, dir, file);
        if (n > 0 && n < (int)sizeof candidate) {
            execve(candidate, argv, envp);
            if (errno == EACCES)
                seen_eacces = 1;
            else if (errno != ENOENT && errno != ENOTDIR) {
                int e = errno;
                wr_error_set(err, e, "exec \"%s\"", candidate);
                return exit_code_for(e);
            }
        }
        if (!*end)
            break; /* a trailing ':' leaves one more, empty, entry: "." */
        p = end + 1;
    }
    if (seen_eacces) {
        wr_error_set(err, EACCES, "exec \"%s\"", file);
        return 126;
    }
    wr_error_set(err, 0, "exec \"%s\": executable file not found in $PATH", file);
    return 127;
}
