/* Signal dispositions back to the default for the workload, resetting
 * only those that may differ from it.
 *
 * Setting one disposition is one rt_sigaction(2) system call, and there
 * are 62 settable signals: resetting them all costs a shim and its pid 1
 * ~9 us each per fill, though a shim forked by the shim server knows
 * exactly which few are not the default (shim_server.c). */
#ifndef WR_CONTAINER_SIGNAL_RESET_H
#define WR_CONTAINER_SIGNAL_RESET_H

#include <stdint.h>

/* The signals (bit sig - 1, 1..64) whose disposition in this process may
 * not be SIG_DFL with no flags and an empty mask. All of them unless the
 * process knows better: a shim started by execve(2) inherits its parent's
 * ignored signals, and nothing tells which without a system call each. */
extern uint64_t wr_signals_not_default;

/* The rt_sigaction(2) structure of the kernel (x86-64 and arm64 share
 * it: handler, flags, restorer, a 64-bit mask), for raw calls: glibc's
 * sigaction refuses 32 and 33 (its own SIGCANCEL and SIGSETXID). */
struct wr_kernel_sigaction {
    void *handler;
    unsigned long flags;
    void *restorer;
    uint64_t mask;
};

/* Records that this process set SIG's disposition (1..64). */
void wr_signal_noted(int sig);

/* Every signal of wr_signals_not_default to SIG_DFL, then an empty signal
 * mask: the state runc leaves for the workload. Raw system calls; errors
 * are not possible for valid signals and are ignored. */
void wr_signals_reset_default(void);

#endif
