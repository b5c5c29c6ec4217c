/* A minimal TAP producer for the unit tests: one program per module, run by
 * `prove --exec ''`. Everything is static, so include it from the one
 * source file of a test program.
 *
 *   plan(n);                        optional: done_testing() prints it otherwise
 *   ok(cond, "fmt", ...);           returns cond
 *   is_int(got, want, "fmt", ...);  integers, shown on failure
 *   is_str(got, want, "fmt", ...);  strings, NULL-safe, shown on failure
 *   skip(n, "why");                 n skipped tests
 *   diag("fmt", ...);               "# ..." on stderr
 *   tap_rm_tree(dir);               remove a temporary tree
 *   bail_out("fmt", ...);           aborts the whole run (setup failures)
 *   return done_testing();          0 iff every test passed and the plan held
 */
#ifndef WARMRUN_TAP_H
#define WARMRUN_TAP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <ftw.h>
#include <string.h>

static int tap_run_;
static int tap_failed_;
static int tap_planned_ = -1;

static inline void plan(int n)
{
    tap_planned_ = n;
    printf("1..%d\n", n);
    fflush(stdout);
}

static inline void tap_vdiag_(const char *fmt, va_list ap)
{
    fflush(stdout); /* keep the diagnostics next to their test */
    fputs("# ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

static inline __attribute__((format(printf, 1, 2))) void diag(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tap_vdiag_(fmt, ap);
    va_end(ap);
}

static inline __attribute__((format(printf, 1, 2), noreturn)) void bail_out(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("Bail out! ");
    vprintf(fmt, ap);
    putchar('\n');
    va_end(ap);
    fflush(stdout);
    exit(255);
}

static inline bool tap_vresult_(bool pass, const char *file, int line, const char *fmt, va_list ap)
{
    printf("%sok %d - ", pass ? "" : "not ", ++tap_run_);
    vprintf(fmt, ap);
    putchar('\n');
    fflush(stdout);
    if (!pass) {
        tap_failed_++;
        diag("  Failed test at %s line %d.", file, line);
    }
    return pass;
}

static inline __attribute__((format(printf, 4, 5))) bool tap_ok_(bool pass, const char *file,
                                                                 int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tap_vresult_(pass, file, line, fmt, ap);
    va_end(ap);
    return pass;
}

static inline __attribute__((format(printf, 5, 6))) bool
tap_is_int_(long long got, long long want, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    bool pass = tap_vresult_(got == want, file, line, fmt, ap);
    va_end(ap);
    if (!pass)
        diag("         got: %lld\n#     expected: %lld", got, want);
    return pass;
}

static inline __attribute__((format(printf, 5, 6))) bool
tap_is_str_(const char *got, const char *want, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    bool same = (got == NULL && want == NULL) || (got && want && strcmp(got, want) == 0);
    va_start(ap, fmt);
    bool pass = tap_vresult_(same, file, line, fmt, ap);
    va_end(ap);
    if (!pass)
        diag("         got: %s%s%s\n#     expected: %s%s%s", got ? "\"" : "", got ? got : "NULL",
             got ? "\"" : "", want ? "\"" : "", want ? want : "NULL", want ? "\"" : "");
    return pass;
}

#define ok(cond, ...) tap_ok_(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define is_int(got, want, ...)                                                                     \
    tap_is_int_((long long)(got), (long long)(want), __FILE__, __LINE__, __VA_ARGS__)
#define is_str(got, want, ...) tap_is_str_((got), (want), __FILE__, __LINE__, __VA_ARGS__)

static inline void skip(int n, const char *why)
{
    for (int i = 0; i < n; i++)
        printf("ok %d # skip %s\n", ++tap_run_, why);
    fflush(stdout);
}

/* Prints the plan if none was given; returns the exit status. */
static inline int done_testing(void)
{
    if (tap_planned_ < 0)
        plan(tap_run_);
    else if (tap_planned_ != tap_run_)
        diag("planned %d tests but ran %d", tap_planned_, tap_run_);
    if (tap_failed_)
        diag("failed %d of %d tests", tap_failed_, tap_run_);
    return tap_failed_ == 0 && tap_planned_ == tap_run_ ? 0 : 1;
}

/* Removes a test's temporary tree (not crossing into mounts). */
static int tap_rm_one_(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    remove(path);
    return 0;
}

static inline void tap_rm_tree(const char *dir)
{
    nftw(dir, tap_rm_one_, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

#endif
