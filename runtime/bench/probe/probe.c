/* warmrun-probe: prints CLOCK_MONOTONIC, in nanoseconds, as the first thing
 * its main does, then exits 0. Static, so that it runs in any image and
 * its start-up costs no dynamic loading. `warmrun bench activation` runs
 * it in a container and on the host. */
#include <time.h>
#include <unistd.h>

int main(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    unsigned long long ns =
        (unsigned long long)t.tv_sec * 1000000000ULL + (unsigned long long)t.tv_nsec;
    char buf[32];
    int i = (int)sizeof buf;
    buf[--i] = '\n';
    do {
        buf[--i] = (char)('0' + ns % 10);
        ns /= 10;
    } while (ns);
    return write(1, buf + i, sizeof buf - (size_t)i) < 0;
}
