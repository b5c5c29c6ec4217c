/* A workload that clears the parent-death signal its pid 1 was given, then
 * runs argv[1..]: as a hostile pid 1 would, to outlive its shim
 * (tests/integration/77-escape-orphan.t). Static: it runs in test images. */
#include <stdio.h>
#include <sys/prctl.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: nopdeath COMMAND [ARG...]\n");
        return 2;
    }
    if (prctl(PR_SET_PDEATHSIG, 0) < 0) {
        perror("prctl");
        return 1;
    }
    execv(argv[1], argv + 1);
    perror("execv");
    return 127;
}
