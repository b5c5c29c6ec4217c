/* The PATH: its default, and the one walk over it that every program uses
 * (the container's execve of the workload, the daemon's prefault of the
 * image's command, the benchmarks' search for crun, runc and dockerd).
 *
 * An empty entry (a leading, trailing or doubled ':', or an empty PATH) is
 * the current directory, as POSIX specifies for execvp ("a zero-length
 * prefix ... shall indicate the current working directory") and as glibc's
 * execvp, Go's exec.LookPath (runc, Docker) and which(1) treat it: an
 * image whose PATH ends in ':' runs in warmrun what it runs in Docker. */
#ifndef WARMRUN_PATH_SEARCH_H
#define WARMRUN_PATH_SEARCH_H

/* Docker's and runc's PATH for a container whose image sets none. */
#define WR_DEFAULT_PATH     "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define WR_DEFAULT_PATH_ENV "PATH=" WR_DEFAULT_PATH

/* Calls try(candidate, ctx) with "<entry>/<file>" for each entry of the
 * ':'-separated path (NULL: WR_DEFAULT_PATH), in order, "./<file>" for an
 * empty entry, until try returns non-zero; returns that value, or 0 once
 * every entry was tried. A candidate of PATH_MAX bytes or more is skipped.
 * No allocation (the candidate is on the stack): usable in the container's
 * pid 1 right before its execve. file must not contain '/': a name with a
 * slash is used as it is, without a search. */
int wr_path_search(const char *path, const char *file, int (*try)(const char *candidate, void *ctx),
                   void *ctx);

#endif
