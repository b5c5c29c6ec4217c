/* The shim server's code and read-only data, mapped once for every fork.
 *
 * fork() copies no page table entries of a private file mapping that has
 * no anonymous page (mm/memory.c, vma_needs_copy: "don't copy ptes where a
 * page fault will fill them correctly"): every code page a forked shim runs,
 * and again every one its container's pid 1 runs, costs a minor fault
 * (filemap_map_pages, fault-around). On the fill path that was the largest
 * class of page faults (docs/benchmarks.md, "Shorter filter, fewer
 * faults"). Here the server gives each such mapping of its own (text,
 * read-only data) one anonymous page, by writing one byte with its own
 * value through /proc/self/mem, as a debugger sets a breakpoint (the
 * mapping stays read-only, never writable and executable), and maps all
 * of it (MADV_POPULATE_READ): from then on each fork copies the entries,
 * which costs far less than faulting them in. Best effort: where
 * /proc/self/mem cannot write (proc_mem.force_override=never) nothing
 * changes but the cost. A forked shim's container's pid 1 then skips its
 * own populating of the code (container_main.c), which would only walk
 * entries already there. */
#include "shim.h"

#include "lib/cleanup.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* One byte of the mapping at start rewritten with its own value. */
static bool give_anon_page(int mem, unsigned long start)
{
    unsigned char byte;
    return pread(mem, &byte, 1, (off_t)start) == 1 && pwrite(mem, &byte, 1, (off_t)start) == 1;
}

bool shim_text_shared;

void shim_text_share(void)
{
    cleanup_fclose FILE *maps = fopen("/proc/self/maps", "re");
    cleanup_close int mem = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
    if (!maps || mem < 0)
        return;
    bool all = true;
    char line[512];
    while (fgets(line, sizeof line, maps)) {
        unsigned long start, end, inode;
        char perms[8];
        /* start-end perms offset dev inode path */
        if (sscanf(line, "%lx-%lx %7s %*s %*s %lu", &start, &end, perms, &inode) != 4)
            continue;
        /* Private, not writable, file-backed: code and read-only data. */
        if (inode == 0 || perms[1] != '-' || perms[3] != 'p' || perms[0] != 'r')
            continue;
        all &= give_anon_page(mem, start) &&
               madvise((void *)start, end - start, MADV_POPULATE_READ) == 0;
    }
    shim_text_shared = all && !ferror(maps);
}
