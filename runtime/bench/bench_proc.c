/* Readers of /proc for the load and scale benches: CPU time and memory. */
#include "bench.h"

#include "lib/cleanup.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int bench_proc_cpu(pid_t pid, double *self_s, double *children_s)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    bool got = fgets(buf, sizeof buf, f) != NULL;
    fclose(f);
    if (!got)
        return -1;
    /* The command name may hold spaces: fields count from the last ')'. */
    const char *p = strrchr(buf, ')');
    if (!p)
        return -1;
    unsigned long long ut, st;
    long long cut, cst;
    /* after ')': state(3) ppid pgrp session tty tpgid flags minflt cminflt
     * majflt cmajflt utime(14) stime cutime cstime */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %lld %lld", &ut, &st,
               &cut, &cst) != 4)
        return -1;
    double hz = (double)sysconf(_SC_CLK_TCK);
    *self_s = (double)(ut + st) / hz;
    *children_s = (double)(cut + cst) / hz;
    return 0;
}

pid_t bench_shim_server_pid(pid_t daemon_pid)
{
    DIR *dir = opendir("/proc");
    if (!dir)
        return 0;
    pid_t found = 0;
    struct dirent *de;
    while (!found && (de = readdir(dir))) {
        char path[300], buf[256];
        if (de->d_name[0] < '0' || de->d_name[0] > '9')
            continue;
        snprintf(path, sizeof path, "/proc/%s/stat", de->d_name);
        FILE *f = fopen(path, "re");
        if (!f)
            continue;
        bool got = fgets(buf, sizeof buf, f) != NULL;
        fclose(f);
        const char *p = got ? strrchr(buf, ')') : NULL;
        int ppid;
        if (p && strstr(buf, "(warmrun-shimsrv)") && sscanf(p + 2, "%*c %d", &ppid) == 1 &&
            ppid == daemon_pid)
            found = (pid_t)atoi(de->d_name);
    }
    closedir(dir);
    return found;
}

static long meminfo_field(const char *path, const char *key)
{
    cleanup_fclose FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    char line[256];
    size_t len = strlen(key);
    while (fgets(line, sizeof line, f)) {
        long v;
        if (strncmp(line, key, len) == 0 && sscanf(line + len, " %ld", &v) == 1)
            return v;
    }
    return -1;
}

long bench_proc_pss_kb(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/smaps_rollup", (int)pid);
    return meminfo_field(path, "Pss:");
}

long bench_mem_available_kb(void)
{
    return meminfo_field("/proc/meminfo", "MemAvailable:");
}

int bench_kernel_mem(struct bench_kernel_mem *out)
{
    out->slab_kb = meminfo_field("/proc/meminfo", "Slab:");
    out->stacks_kb = meminfo_field("/proc/meminfo", "KernelStack:");
    out->page_tables_kb = meminfo_field("/proc/meminfo", "PageTables:");
    out->percpu_kb = meminfo_field("/proc/meminfo", "Percpu:");
    return out->slab_kb < 0 || out->stacks_kb < 0 || out->page_tables_kb < 0 || out->percpu_kb < 0
               ? -1
               : 0;
}
