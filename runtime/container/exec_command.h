/* The workload's execve with a PATH search in its own environment
 * (exec_command.c). */
#ifndef WARMRUN_EXEC_COMMAND_H
#define WARMRUN_EXEC_COMMAND_H

#include "lib/error.h"

/* Runs argv[0] searched in the PATH of envp, as execvpe would but with the
 * container's PATH. Returns only on failure, with the exit code docker uses
 * (127 not found, 126 not executable) and err set. */
int wr_exec_command(char *const argv[], char *const envp[], wr_error *err);

#endif
