#include "signal_fd.h"

#include <signal.h>
#include <sys/signalfd.h>

int wr_signalfd_open(const int *signals, size_t n)
{
    sigset_t mask;
    sigemptyset(&mask);
    for (size_t i = 0; i < n; i++)
        sigaddset(&mask, signals[i]);
    if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
        return -1;
    return signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
}

void wr_sigchld_default(void)
{
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    sigaction(SIGCHLD, &dfl, NULL);
}
