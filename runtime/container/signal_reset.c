/* Reset of signal dispositions for the workload: see signal_reset.h. */
#include "signal_reset.h"

#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

uint64_t wr_signals_not_default = ~(uint64_t)0;

void wr_signal_noted(int sig)
{
    if (sig >= 1 && sig <= 64)
        wr_signals_not_default |= (uint64_t)1 << (sig - 1);
}

void wr_signals_reset_default(void)
{
    struct wr_kernel_sigaction dfl = {.handler = SIG_DFL};
    uint64_t none = 0;
    for (int sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP && (wr_signals_not_default >> (sig - 1) & 1))
            syscall(SYS_rt_sigaction, sig, &dfl, NULL, sizeof dfl.mask);
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, sizeof none);
}
