/* `activate --init`: pid 1 as a minimal init (container_init.c). */
#ifndef WARMRUN_CONTAINER_INIT_H
#define WARMRUN_CONTAINER_INIT_H

#include "container.h"

/* Forks the workload as pid 2 and serves as its init (see container_init.c). */
_Noreturn void wr_exec_with_init(char *const argv[], char *const envp[], int init_sock,
                                 struct wr_exec_stamp *stamp);

#endif
