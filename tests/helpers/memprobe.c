/* A static probe run inside test and bench containers (copied into the
 * image): measures the first touch of memory and reports how it is backed.
 *   memprobe hugepage   maps WARMRUN_HUGEPAGE_FD, touches every 4 KiB,
 *                       prints "touch_ns=N kernel_page_kb=K rss_kb=R hugetlb_kb=H"
 *   memprobe anon MIB   the same for MIB of fresh anonymous memory
 *   memprobe mlock      maps WARMRUN_MLOCK_FD, mlocks it, prints VmLck
 * Built by the tests with `cc -static`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* KernelPageSize and Rss of the mapping that contains addr. */
static void smaps_of(void *addr, long *page_kb, long *rss_kb, long *huge_kb)
{
    char line[256];
    int in = 0;
    FILE *f = fopen("/proc/self/smaps", "r");
    long shared = 0, private = 0;
    *page_kb = *rss_kb = -1;
    while (f && fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' ')) {
            in = (unsigned long)addr >= lo && (unsigned long)addr < hi;
            continue;
        }
        if (in) {
            sscanf(line, "KernelPageSize: %ld kB", page_kb);
            sscanf(line, "Rss: %ld kB", rss_kb);
            sscanf(line, "Shared_Hugetlb: %ld kB", &shared);
            sscanf(line, "Private_Hugetlb: %ld kB", &private);
        }
    }
    if (f)
        fclose(f);
    *huge_kb = shared + private;
}

static int touch(char *p, size_t bytes)
{
    long page_kb, rss_kb, huge_kb;
    long long t0 = now_ns();
    for (size_t i = 0; i < bytes; i += 4096)
        p[i] = 1;
    long long t1 = now_ns();
    smaps_of(p, &page_kb, &rss_kb, &huge_kb);
    printf("touch_ns=%lld kernel_page_kb=%ld rss_kb=%ld hugetlb_kb=%ld\n", t1 - t0, page_kb, rss_kb,
           huge_kb);
    return 0;
}

static void *map_env_fd(const char *fd_var, const char *size_var, size_t *bytes)
{
    const char *fd = getenv(fd_var), *size = getenv(size_var);
    if (!fd || !size) {
        fprintf(stderr, "memprobe: %s/%s not set\n", fd_var, size_var);
        exit(2);
    }
    *bytes = strtoull(size, NULL, 10);
    void *p = mmap(NULL, *bytes, PROT_READ | PROT_WRITE, MAP_SHARED, atoi(fd), 0);
    if (p == MAP_FAILED) {
        perror("memprobe: mmap");
        exit(1);
    }
    return p;
}

int main(int argc, char **argv)
{
    size_t bytes;
    if (argc >= 2 && strcmp(argv[1], "hugepage") == 0) {
        char *p = map_env_fd("WARMRUN_HUGEPAGE_FD", "WARMRUN_HUGEPAGE_SIZE", &bytes);
        return touch(p, bytes);
    }
    if (argc >= 3 && strcmp(argv[1], "anon") == 0) {
        bytes = strtoull(argv[2], NULL, 10) << 20;
        void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        return p == MAP_FAILED ? 1 : touch(p, bytes);
    }
    if (argc >= 2 && strcmp(argv[1], "mlock") == 0) {
        char *p = map_env_fd("WARMRUN_MLOCK_FD", "WARMRUN_MLOCK_SIZE", &bytes);
        if (mlock(p, bytes) < 0) {
            perror("memprobe: mlock");
            return 1;
        }
        char line[256];
        FILE *f = fopen("/proc/self/status", "r");
        while (f && fgets(line, sizeof line, f))
            if (strncmp(line, "VmLck:", 6) == 0)
                fputs(line, stdout);
        return 0;
    }
    fprintf(stderr, "usage: memprobe hugepage | anon MIB | mlock\n");
    return 2;
}
