/* System calls through the other entries of an x86-64 kernel, from a
 * 64-bit program: the i386 one (`int $0x80`, what a 32-bit binary uses;
 * seccomp sees AUDIT_ARCH_I386 and i386 numbers) and x32 (`syscall` with
 * the x32 bit, 0x40000000, in the number). Prints one line per call,
 * "NAME ERRNO" (the errno's name, or "OK"), as attack.c does. Only integer
 * arguments: `int $0x80` truncates pointers to 32 bits. Built static.
 * usage: abi */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define X32_BIT 0x40000000L
/* arch/x86/entry/syscalls/syscall_32.tbl */
#define I386_GETPID      20
#define I386_MOUNT       21
#define I386_GETPPID     64
#define I386_PERSONALITY 136
#define I386_UNSHARE     310

static long i386_call(long nr, long a, long b)
{
    long r;
    __asm__ volatile("int $0x80" : "=a"(r) : "a"(nr), "b"(a), "c"(b) : "memory");
    return r;
}

/* A raw x86-64 `syscall` (no libc errno): -errno on failure. */
static long x64_call(long nr, long a)
{
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "a"(nr), "D"(a) : "rcx", "r11", "memory");
    return r;
}

static void report(const char *name, long rc)
{
    const char *e = rc < 0 && rc > -4096 ? strerrorname_np((int)-rc) : "OK";
    printf("%s %s\n", name, e ? e : "?");
}

int main(void)
{
    long pid = x64_call(SYS_getpid, 0);
    long r = i386_call(I386_GETPID, 0, 0);
    report("i386_getpid", r == pid ? 0 : r < 0 ? r : -1000);
    report("i386_getppid", i386_call(I386_GETPPID, 0, 0));
    report("i386_personality_query", i386_call(I386_PERSONALITY, 0xffffffffL, 0));
    report("i386_personality_set",
           i386_call(I386_PERSONALITY, 0x0040000L /* ADDR_NO_RANDOMIZE */, 0));
    report("i386_unshare", i386_call(I386_UNSHARE, CLONE_NEWUSER, 0));
    report("i386_mount", i386_call(I386_MOUNT, 0, 0));
    r = x64_call(X32_BIT | SYS_getpid, 0);
    report("x32_getpid", r == pid ? 0 : r < 0 ? r : -1000);
    report("x32_unshare", x64_call(X32_BIT | SYS_unshare, CLONE_NEWUSER));
    report("x32_mount", x64_call(X32_BIT | SYS_mount, 0));
    report("x64_unshare", x64_call(SYS_unshare, CLONE_NEWUSER));
    report("x64_mount", x64_call(SYS_mount, 0));
    return 0;
}
