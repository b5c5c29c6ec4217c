/* The profile's chart: hand-written SVG, three panels over time (memory
 * usage and limit; CPU % and throttled periods; I/O rates by source). */
#include "profile.h"

#include <errno.h>
#include <stddef.h>

#define W       900
#define PANEL_H 200
#define LEFT    70
#define TOP     40

struct line {
    const char *label, *color;
    size_t offset;
    double scale;
};

static void panel(FILE *out, int y0, const char *title, const struct line *lines, size_t n_lines,
                  const struct profile_sample *s, size_t n)
{
    double tmax = n ? s[n - 1].t_s : 0, vmax = 0;
    for (size_t l = 0; l < n_lines; l++)
        for (size_t i = 0; i < n; i++)
            if (profile_at(&s[i], lines[l].offset) / lines[l].scale > vmax)
                vmax = profile_at(&s[i], lines[l].offset) / lines[l].scale;
    if (tmax <= 0)
        tmax = 1;
    if (vmax <= 0)
        vmax = 1;
    int pw = W - LEFT - 20, ph = PANEL_H - 40;
    fprintf(out,
            "<g transform=\"translate(%d,%d)\">\n<text x=\"0\" y=\"-8\" font-size=\"13\">%s "
            "(max %.2f)</text>\n<rect width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#999\"/>\n",
            LEFT, y0, title, vmax, pw, ph);
    for (size_t l = 0; l < n_lines; l++) {
        fprintf(out, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" points=\"",
                lines[l].color);
        for (size_t i = 0; i < n; i++)
            fprintf(out, "%.1f,%.1f ", pw * s[i].t_s / tmax,
                    ph - ph * (profile_at(&s[i], lines[l].offset) / lines[l].scale) / vmax);
        fprintf(out, "\"/>\n<text x=\"%zu\" y=\"%d\" font-size=\"11\" fill=\"%s\">%s</text>\n",
                10 + 230 * l, ph + 16, lines[l].color, lines[l].label);
    }
    fprintf(out,
            "<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"end\">%.1f s</text>\n</g>\n",
            pw, ph + 30, tmax);
}

int profile_svg(FILE *out, const struct profile_run *run, const struct profile_sample *s, size_t n)
{
#define L(label, color, field, scale)                                                              \
    {                                                                                              \
        label, color, offsetof(struct profile_sample, field), scale                                \
    }
    static const struct line mem[] = {L("usage MiB (cgroup)", "#1f77b4", mem_usage, 1048576.0),
                                      L("rss MiB (cgroup)", "#2ca02c", mem_rss, 1048576.0),
                                      L("cache MiB (cgroup)", "#9467bd", mem_cache, 1048576.0)};
    static const struct line cpu[] = {L("CPU % of one CPU (cgroup)", "#d62728", cpu_pct, 1),
                                      L("throttled periods (cgroup)", "#ff7f0e", throttled, 1)};
    static const struct line io[] = {
        L("block write KiB/s (cgroup)", "#8c564b", blk_write_bps, 1024),
        L("block read KiB/s (cgroup)", "#e377c2", blk_read_bps, 1024),
        L("wchar KiB/s (proc)", "#17becf", proc_wchar_bps, 1024),
        L("rchar KiB/s (proc)", "#bcbd22", proc_rchar_bps, 1024)};
#undef L
    fprintf(out,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" "
            "width=\"%d\" height=\"%d\" font-family=\"sans-serif\">\n<text x=\"%d\" y=\"20\" "
            "font-size=\"15\">warmrun profile of %s%s</text>\n",
            W, TOP + 3 * PANEL_H, LEFT, run->id, run->partial ? " (partial)" : "");
    panel(out, TOP + 10, "memory, MiB", mem, 3, s, n);
    panel(out, TOP + 10 + PANEL_H, "CPU: % of one CPU; throttled periods per interval", cpu, 2, s,
          n);
    panel(out, TOP + 10 + 2 * PANEL_H, "I/O, KiB/s", io, 4, s, n);
    fputs("</svg>\n", out);
    if (ferror(out)) {
        errno = errno ? errno : EIO;
        return -1;
    }
    return 0;
}
