#include "cpumask.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

static const char hex_digits[] = "0123456789abcdef";

int wr_cpumask_format(const cpu_set_t *set, char *out, size_t cap, wr_error *err)
{
    int top = -1;
    for (int cpu = CPU_SETSIZE - 1; cpu >= 0 && top < 0; cpu--)
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
    if (n == 0 || n > CPU_SETSIZE / 4)
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
