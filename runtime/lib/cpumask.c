/* CPU sets as hex masks and as lists; the host's online CPUs. */
#include "cpumask.h"

#include "cleanup.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char hex_digits[] = "0123456789abcdef";

int wr_cpumask_format(const cpu_set_t *set, char *out, size_t cap, wr_error *err)
{
    int top = -1;
    for (int cpu = WR_CPU_SETSIZE - 1; cpu >= 0 && top < 0; cpu--)
        if (CPU_ISSET(cpu, set))
            top = cpu;
    if (top < 0)
        return wr_error_set(err, EINVAL, "empty CPU set");
    size_t digits = (size_t)top / 4 + 1;
    if (digits + 1 > cap)
        return wr_error_set(err, ENAMETOOLONG, "CPU mask buffer too small");
    for (size_t i = 0; i < digits; i++) {
        int nibble = 0;
        for (int bit = 0; bit < 4; bit++)
            if (CPU_ISSET((int)i * 4 + bit, set))
                nibble |= 1 << bit;
        out[digits - 1 - i] = hex_digits[nibble];
    }
    out[digits] = '\0';
    return 0;
}

int wr_cpumask_parse(const char *hex, cpu_set_t *set, wr_error *err)
{
    size_t n = strlen(hex);
    CPU_ZERO(set);
    if (n == 0 || n > WR_CPU_SETSIZE / 4)
        return wr_error_set(err, EINVAL, "bad CPU mask \"%.32s\"", hex);
    for (size_t i = 0; i < n; i++) {
        char c = (char)tolower((unsigned char)hex[n - 1 - i]);
        const char *p = strchr(hex_digits, c);
        if (!p || c == '\0')
            return wr_error_set(err, EINVAL, "bad CPU mask \"%.32s\"", hex);
        int nibble = (int)(p - hex_digits);
        for (int bit = 0; bit < 4; bit++)
            if (nibble & (1 << bit))
                CPU_SET((int)i * 4 + bit, set);
    }
    if (CPU_COUNT(set) == 0)
        return wr_error_set(err, EINVAL, "empty CPU mask \"%.32s\"", hex);
    return 0;
}

int wr_parse_cpu_list(const char *s, cpu_set_t *set, wr_error *err)
{
    CPU_ZERO(set);
    const char *p = s;
    if (!*p)
        return wr_error_set(err, 0, "empty CPU list");
    while (*p) {
        char *end;
        if (!isdigit((unsigned char)*p))
            return wr_error_set(err, 0, "not a CPU list (expected e.g. 0-3,6)");
        errno = 0;
        unsigned long lo = strtoul(p, &end, 10), hi = lo;
        if (*end == '-') {
            if (!isdigit((unsigned char)end[1]))
                return wr_error_set(err, 0, "not a CPU list (expected e.g. 0-3,6)");
            hi = strtoul(end + 1, &end, 10);
        }
        if (errno || lo > hi || hi >= WR_CPU_SETSIZE)
            return wr_error_set(err, 0, "CPU numbers must be ascending ranges below %d",
                                WR_CPU_SETSIZE);
        for (unsigned long c = lo; c <= hi; c++)
            CPU_SET((int)c, set);
        if (*end == ',' && end[1])
            end++;
        else if (*end)
            return wr_error_set(err, 0, "not a CPU list (expected e.g. 0-3,6)");
        p = end;
    }
    return 0;
}

int wr_format_cpu_list(const cpu_set_t *set, char *out, size_t cap)
{
    size_t len = 0;
    out[0] = '\0';
    for (int c = 0; c < WR_CPU_SETSIZE; c++) {
        if (!CPU_ISSET(c, set))
            continue;
        int hi = c;
        while (hi + 1 < WR_CPU_SETSIZE && CPU_ISSET(hi + 1, set))
            hi++;
        int n = hi == c ? snprintf(out + len, cap - len, "%s%d", len ? "," : "", c)
                        : snprintf(out + len, cap - len, "%s%d-%d", len ? "," : "", c, hi);
        if (n < 0 || (size_t)n >= cap - len)
            return -1;
        len += (size_t)n;
        c = hi;
    }
    return 0;
}

int wr_online_cpus(cpu_set_t *set, wr_error *err)
{
    char buf[1024];
    cleanup_close int fd = open("/sys/devices/system/cpu/online", O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
    if (n < 0)
        return wr_error_set(err, errno, "read /sys/devices/system/cpu/online");
    while (n > 0 && buf[n - 1] == '\n')
        n--;
    buf[n] = '\0';
    return wr_parse_cpu_list(buf, set, err);
}
