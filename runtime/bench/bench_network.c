/* A private bridge network for a bench run (bench.h): the default network
 * (warmrun0, 10.88.0.0/16) belongs to one state directory, and a bench's
 * private state directory cannot make it while another holds that bridge
 * and subnet (after `make run`, say). So `--network bridge` benches run on
 * a network of their own, made before and removed after. */
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* `warmrun --root .. --state-dir .. network ARGS...`, its output dropped.
 * Its exit status, or -1 when it could not run. */
static int network_cmd(const struct bench_env *e, char *const *args, size_t n)
{
    char *argv[16];
    size_t k = 0;
    argv[k++] = (char *)e->warmrun;
    argv[k++] = (char *)"--root";
    argv[k++] = (char *)e->store;
    argv[k++] = (char *)"--state-dir";
    argv[k++] = (char *)e->state;
    argv[k++] = (char *)"network";
    for (size_t i = 0; i < n && k < 15; i++)
        argv[k++] = args[i];
    argv[k] = NULL;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    int rc = posix_spawn(&pid, e->warmrun, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        return -1;
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int bench_network_create(struct bench_env *e, wr_error *err)
{
    snprintf(e->net_name, sizeof e->net_name, "wrbench%ld", (long)getpid() % 100000);
    char bridge[16], subnet[32];
    snprintf(bridge, sizeof bridge, "wrbb%ld", (long)getpid() % 100000);
    /* /24s in 10.240.0.0/12, from a start drawn from the pid: the first
     * that overlaps no network and no host address is taken (network
     * create checks both). */
    for (long i = 0; i < 64; i++) {
        long k = ((long)getpid() + i * 37) % 4096;
        snprintf(subnet, sizeof subnet, "10.%ld.%ld.0/24", 240 + k / 256, k % 256);
        char *args[] = {(char *)"create", e->net_name,        (char *)"--subnet",
                        subnet,           (char *)"--bridge", bridge};
        if (network_cmd(e, args, 6) == 0) {
            snprintf(e->net_mode, sizeof e->net_mode, "bridge=%s", e->net_name);
            e->network = e->net_mode;
            return 0;
        }
    }
    e->net_name[0] = '\0';
    return wr_error_set(err, EADDRINUSE,
                        "no free /24 in 10.240.0.0/12 for the bench's private network");
}

void bench_network_remove(struct bench_env *e)
{
    if (!e->net_name[0])
        return;
    char *args[] = {(char *)"rm", e->net_name};
    if (network_cmd(e, args, 2) != 0)
        bench_msg("could not remove the bench's network %s", e->net_name);
    e->net_name[0] = '\0';
}
