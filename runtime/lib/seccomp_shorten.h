/* A shorter classic-BPF seccomp program with the same decisions: a binary
 * search over ranges of system call numbers that share one outcome,
 * instead of libseccomp's tree that tests one number per node. Linked only
 * into the shim, next to the compiler (seccomp_compile.c). */
#ifndef WARMRUN_SECCOMP_SHORTEN_H
#define WARMRUN_SECCOMP_SHORTEN_H

#include "error.h"

#include <linux/filter.h>
#include <stddef.h>

/* Rewrites prog (len instructions, struct sock_filter, over the
 * seccomp_data of linux/seccomp.h) as: a dispatch on `arch`, then per
 * architecture a balanced binary search over the intervals of `nr` (the
 * whole 32-bit space) of equal outcome; an outcome is a RET constant, or
 * a jump into a verbatim copy of prog from its first load of an argument
 * or of instruction_pointer, so the argument checks stay libseccomp's.
 *
 * The outcome of every (arch, nr) interval is found by running prog on one
 * representative (the program compares both only with constants:
 * piecewise constant between them), and the result is checked the same
 * way before it is returned. Gives up on anything it does not model: X or
 * scratch memory (LDX, ST, STX, TAX, TXA), arithmetic or JSET on nr or
 * arch, loads other than 32-bit absolute ones inside seccomp_data, RET A.
 *
 * Returns the new length (< len, <= BPF_MAXINSNS) with the program in
 * *out (malloc'd, the caller frees); 0 with *out NULL when prog must be
 * kept as it is (a shape given up on, or nothing shorter); -1 with err set
 * when memory ran out. */
long wr_seccomp_shorten(const struct sock_filter *prog, size_t len, struct sock_filter **out,
                        wr_error *err);

#endif
