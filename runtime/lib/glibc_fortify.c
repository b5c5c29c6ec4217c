/* glibc's fortify entry points that Debian's libjansson.a and
 * libseccomp.a call, for the CLI and the shim linked with musl (Makefile,
 * MUSL_STATIC): compiled into those builds only.
 *
 * Why this file exists: bin/warmrun and bin/warmrun-shim are linked
 * statically with musl, whose start-up does not probe the caches with
 * cpuid as glibc's does (a VM exit each here, ~0.45 ms per exec;
 * docs/benchmarks.md). Debian ships jansson, libseccomp and libcap built
 * against glibc with _FORTIFY_SOURCE=2 and no musl build of them (nor a
 * source package here to make one), and musl has no fortify functions.
 * The undefined symbols of the archive members these programs link
 * (`nm -u`) are standard C plus exactly these four: __snprintf_chk,
 * __vsnprintf_chk, __strncpy_chk (jansson) and __fprintf_chk
 * (libseccomp's gen_pfc.o, its seccomp_export_pfc, linked because api.o
 * refers to it). libcap's cap_text.o would also need __sprintf_chk,
 * __asprintf_chk and glibc's ctype tables, but the shim calls nothing of
 * it (the links use --no-undefined: a call added later fails the link).
 *
 * Each checks its object size argument as glibc does (debug/
 * snprintf_chk.c, vsnprintf_chk.c, strncpy_chk.c) and aborts on overflow
 * like glibc's __chk_fail (SIGABRT), then does the plain call. glibc's flag argument
 * (> 0: refuse %n in a writable format) is not checked: jansson's formats
 * are string constants without %n. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The prototypes glibc's <bits/stdio2.h> and <bits/string_fortified.h>
 * give these (musl's headers have none). */
int __snprintf_chk(char *s, size_t maxlen, int flag, size_t slen, const char *format, ...);
int __vsnprintf_chk(char *s, size_t maxlen, int flag, size_t slen, const char *format, va_list ap);
char *__strncpy_chk(char *dest, const char *src, size_t n, size_t destlen);
int __fprintf_chk(FILE *stream, int flag, const char *format, ...);

/* glibc's __chk_fail: its message, then abort (SIGABRT, no atexit
 * handlers, no stdio flush of a possibly corrupt state): glibc_abort.c's,
 * which signals this process even in a raw clone3 child. */
__attribute__((noreturn)) static void chk_fail(void)
{
    static const char msg[] = "*** buffer overflow detected ***: terminated\n";
    ssize_t n = write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)n;
    abort();
}

/* snprintf with the compiler's idea of the size of s (slen, (size_t)-1
 * when unknown): a maxlen beyond it would write past s. */
int __vsnprintf_chk(char *s, size_t maxlen, int flag, size_t slen, const char *format, va_list ap)
{
    (void)flag;
    if (slen < maxlen)
        chk_fail();
    return vsnprintf(s, maxlen, format, ap);
}

int __snprintf_chk(char *s, size_t maxlen, int flag, size_t slen, const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    int n = __vsnprintf_chk(s, maxlen, flag, slen, format, ap);
    va_end(ap);
    return n;
}

/* strncpy writes exactly n bytes: more than destlen overflows dest. */
char *__strncpy_chk(char *dest, const char *src, size_t n, size_t destlen)
{
    if (destlen < n)
        chk_fail();
    return strncpy(dest, src, n);
}

/* fprintf to a stream has no object size to check (glibc's
 * debug/fprintf_chk.c checks only the flag's %n rule). */
int __fprintf_chk(FILE *stream, int flag, const char *format, ...)
{
    (void)flag;
    va_list ap;
    va_start(ap, format);
    int n = vfprintf(stream, format, ap);
    va_end(ap);
    return n;
}
