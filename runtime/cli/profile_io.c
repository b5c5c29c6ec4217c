/* The I/O pattern, from the best source that saw any I/O. The cgroup's
 * block I/O counts what reaches a block device; a container's writes to
 * its tmpfs (the overlay's upper layer, /dev/shm, /tmp) never do. So when
 * block I/O is idle the per-process counters decide: first read_bytes /
 * write_bytes (storage, page cache included), then rchar / wchar (every
 * read(2) and write(2), tmpfs and pipes included). */
#include "profile.h"

static void means(const struct profile_sample *s, size_t n, size_t rd, size_t wr, double *r,
                  double *w)
{
    *r = *w = 0;
    for (size_t i = 0; i < n; i++) {
        *r += profile_at(&s[i], rd);
        *w += profile_at(&s[i], wr);
    }
    if (n) {
        *r /= (double)n;
        *w /= (double)n;
    }
}

void profile_io_pattern(const struct profile_sample *s, size_t n, struct profile_io *o)
{
    static const struct {
        const char *name;
        size_t rd, wr;
    } sources[] = {
        {"cgroup block I/O", offsetof(struct profile_sample, blk_read_bps),
         offsetof(struct profile_sample, blk_write_bps)},
        {"proc read_bytes/write_bytes", offsetof(struct profile_sample, proc_read_bps),
         offsetof(struct profile_sample, proc_write_bps)},
        {"proc rchar/wchar", offsetof(struct profile_sample, proc_rchar_bps),
         offsetof(struct profile_sample, proc_wchar_bps)},
    };
    for (size_t i = 0; i < sizeof sources / sizeof sources[0]; i++) {
        o->source = sources[i].name;
        means(s, n, sources[i].rd, sources[i].wr, &o->read_bps, &o->write_bps);
        if (o->read_bps + o->write_bps >= PROFILE_IO_IDLE_BPS)
            break;
    }
    double total = o->read_bps + o->write_bps;
    double share = total > 0 ? o->write_bps / total : 0;
    o->pattern = total < PROFILE_IO_IDLE_BPS             ? "idle"
                 : share >= PROFILE_IO_HEAVY_SHARE       ? "write-heavy"
                 : share <= 1.0 - PROFILE_IO_HEAVY_SHARE ? "read-heavy"
                                                         : "balanced";
}
