/* execvpe() with the container's PATH (glibc's searches the caller's own
 * environment) and docker's exit codes for the failures. */
#include "exec_command.h"

#include "lib/path_search.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The workload's PATH; NULL (the default) when its environment has none. */
static const char *env_path(char *const envp[])
{
    for (size_t i = 0; envp[i]; i++)
        if (strncmp(envp[i], "PATH=", 5) == 0)
            return envp[i] + 5;
    return NULL;
}

static int exit_code_for(int errnum)
{
    return errnum == ENOENT || errnum == ENOTDIR ? 127 : 126;
}

struct exec_search {
    char *const *argv, *const *envp;
    wr_error *err;
    /* Remember EACCES: a match that is not executable beats "not found". */
    bool seen_eacces;
};

/* One PATH candidate: returns only if its execve failed; non-zero (the
 * exit code) stops the search. */
static int try_exec(const char *candidate, void *ctx)
{
    struct exec_search *s = ctx;
    execve(candidate, s->argv, s->envp);
    if (errno == EACCES)
        s->seen_eacces = true;
    else if (errno != ENOENT && errno != ENOTDIR) {
        int e = errno;
        wr_error_set(s->err, e, "exec \"%s\"", candidate);
        return exit_code_for(e);
    }
    return 0;
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

    struct exec_search search = {.argv = argv, .envp = envp, .err = err};
    int code = wr_path_search(env_path(envp), file, try_exec, &search);
    if (code)
        return code;
    if (search.seen_eacces) {
        wr_error_set(err, EACCES, "exec \"%s\"", file);
        return 126;
    }
    wr_error_set(err, 0, "exec \"%s\": executable file not found in $PATH", file);
    return 127;
}
