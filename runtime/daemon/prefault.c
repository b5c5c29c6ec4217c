/* See prefault.h. */
#include "prefault.h"

#include "lib/cleanup.h"
#include "lib/path_search.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_LAYERS 128
#define MAX_DEPTH  4

static const char *const lib_dirs[] = {
    "/lib/x86_64-linux-gnu",
    "/usr/lib/x86_64-linux-gnu",
    "/lib64",
    "/usr/lib64",
    "/lib",
    "/usr/lib",
    "/usr/local/lib",
};

struct image_fs {
    int layers[MAX_LAYERS];
    size_t n;
    struct wr_prefault_stats *st;
};

static int open_in_image(const struct image_fs *fs, const char *path)
{
    /* O_NONBLOCK and regular files only: the daemon runs this, and a FIFO
     * or device node an image puts at a library path must not block it. */
    struct open_how how = {.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
                           .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
    for (size_t i = 0; i < fs->n; i++) {
        int fd = (int)syscall(SYS_openat2, fs->layers[i], path, &how, sizeof how);
        if (fd < 0)
            continue;
        struct stat st;
        if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
            return fd;
        close(fd);
        return -1;
    }
    return -1;
}

static bool seen(const struct wr_prefault_stats *st, const char *path)
{
    for (size_t i = 0; i < st->files; i++)
        if (strcmp(st->paths[i], path) == 0)
            return true;
    return false;
}

/* Starts the readahead of a whole file; returns its fd (for the ELF walk). */
static int warm(struct image_fs *fs, const char *path)
{
    struct stat sb;
    if (fs->st->files >= WR_PREFAULT_MAX_FILES || strlen(path) >= sizeof fs->st->paths[0] ||
        seen(fs->st, path))
        return -1;
    int fd = open_in_image(fs, path);
    if (fd < 0)
        return -1;
    if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return -1;
    }
    posix_fadvise(fd, 0, 0, POSIX_FADV_WILLNEED);
    snprintf(fs->st->paths[fs->st->files++], sizeof fs->st->paths[0], "%s", path);
    fs->st->bytes += (size_t)sb.st_size;
    return fd;
}

static bool read_at(int fd, void *buf, size_t len, off_t off)
{
    return pread(fd, buf, len, off) == (ssize_t)len;
}

/* File offset of a virtual address, through the PT_LOAD headers. */
static off_t vaddr_to_offset(const Elf64_Phdr *ph, size_t n, Elf64_Addr addr)
{
    for (size_t i = 0; i < n; i++)
        if (ph[i].p_type == PT_LOAD && addr >= ph[i].p_vaddr &&
            addr < ph[i].p_vaddr + ph[i].p_filesz)
            return (off_t)(addr - ph[i].p_vaddr + ph[i].p_offset);
    return -1;
}

static void warm_elf(struct image_fs *fs, int fd, int depth);

static void warm_library(struct image_fs *fs, const char *name, int depth)
{
    char path[256];
    if (strchr(name, '/')) {
        cleanup_close int fd = warm(fs, name);
        if (fd >= 0)
            warm_elf(fs, fd, depth + 1);
        return;
    }
    for (size_t i = 0; i < sizeof lib_dirs / sizeof *lib_dirs; i++) {
        int n = snprintf(path, sizeof path, "%s/%s", lib_dirs[i], name);
        if (n < 0 || (size_t)n >= sizeof path || seen(fs->st, path))
            return;
        cleanup_close int fd = warm(fs, path);
        if (fd >= 0) {
            warm_elf(fs, fd, depth + 1);
            return;
        }
    }
}

/* The ELF interpreter and the DT_NEEDED libraries of a 64-bit ELF file. */
static void warm_elf(struct image_fs *fs, int fd, int depth)
{
    Elf64_Ehdr eh;
    Elf64_Phdr ph[64];
    if (depth > MAX_DEPTH || !read_at(fd, &eh, sizeof eh, 0) ||
        memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
        eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 || eh.e_phnum > 64 ||
        !read_at(fd, ph, eh.e_phnum * sizeof *ph, (off_t)eh.e_phoff))
        return;
    size_t n = eh.e_phnum;
    char name[256];
    for (size_t i = 0; i < n; i++) {
        if (ph[i].p_type != PT_INTERP || ph[i].p_filesz == 0 || ph[i].p_filesz >= sizeof name)
            continue;
        if (read_at(fd, name, ph[i].p_filesz, (off_t)ph[i].p_offset)) {
            name[ph[i].p_filesz] = '\0';
            cleanup_close int interp = warm(fs, name);
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (ph[i].p_type != PT_DYNAMIC)
            continue;
        Elf64_Dyn dyn[256];
        size_t nd = ph[i].p_filesz / sizeof(Elf64_Dyn);
        if (nd > 256)
            nd = 256;
        if (!read_at(fd, dyn, nd * sizeof *dyn, (off_t)ph[i].p_offset))
            return;
        Elf64_Addr strtab = 0;
        for (size_t k = 0; k < nd && dyn[k].d_tag != DT_NULL; k++)
            if (dyn[k].d_tag == DT_STRTAB)
                strtab = dyn[k].d_un.d_ptr;
        off_t str_off = vaddr_to_offset(ph, n, strtab);
        if (str_off < 0)
            return;
        for (size_t k = 0; k < nd && dyn[k].d_tag != DT_NULL; k++) {
            if (dyn[k].d_tag != DT_NEEDED)
                continue;
            ssize_t got = pread(fd, name, sizeof name - 1, str_off + (off_t)dyn[k].d_un.d_val);
            if (got <= 0)
                continue;
            name[got] = '\0';
            if (strnlen(name, sizeof name - 1) < (size_t)got)
                warm_library(fs, name, depth);
        }
    }
}

/* The image's PATH; NULL (the default) when its Env sets none. */
static const char *image_path_env(const struct wr_image *img)
{
    for (size_t i = 0; img->env && img->env[i]; i++)
        if (strncmp(img->env[i], "PATH=", 5) == 0)
            return img->env[i] + 5;
    return NULL;
}

struct command_search {
    struct image_fs *fs;
    const struct wr_image *img;
};

/* One PATH candidate; 1 once the command is found. A relative one (an
 * empty PATH entry: the working directory) is looked up in the image's
 * WorkingDir, where the workload starts unless its activation names
 * another. */
static int warm_candidate(const char *candidate, void *ctx)
{
    struct command_search *s = ctx;
    char path[256];
    if (candidate[0] != '/') {
        int n = snprintf(path, sizeof path, "%s/%s", s->img->workdir, candidate);
        if (n < 0 || (size_t)n >= sizeof path)
            return 0;
        candidate = path;
    }
    cleanup_close int fd = warm(s->fs, candidate);
    if (fd < 0)
        return 0;
    warm_elf(s->fs, fd, 0);
    return 1;
}

static void warm_command(struct image_fs *fs, const struct wr_image *img)
{
    const char *cmd = img->entrypoint && img->entrypoint[0] ? img->entrypoint[0]
                      : img->cmd && img->cmd[0]             ? img->cmd[0]
                                                            : NULL;
    if (!cmd || !cmd[0])
        return;
    if (strchr(cmd, '/')) {
        cleanup_close int fd = warm(fs, cmd);
        if (fd >= 0)
            warm_elf(fs, fd, 0);
        return;
    }
    struct command_search s = {.fs = fs, .img = img};
    wr_path_search(image_path_env(img), cmd, warm_candidate, &s);
}

size_t wr_prefault_image(const struct wr_image *img, const char *extra,
                         struct wr_prefault_stats *st)
{
    struct image_fs fs = {.st = st};
    char dir[4096];
    memset(st, 0, sizeof *st);
    for (const char *p = img->lowerdir; *p && fs.n < MAX_LAYERS;) {
        size_t len = strcspn(p, ":");
        snprintf(dir, sizeof dir, "%.*s", (int)len, p);
        int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0)
            fs.layers[fs.n++] = fd;
        p += len + (p[len] == ':');
    }
    warm_command(&fs, img);
    for (const char *p = extra ? extra : ""; *p;) {
        size_t len = strcspn(p, ",");
        snprintf(dir, sizeof dir, "%.*s", (int)len, p);
        cleanup_close int fd = warm(&fs, dir);
        if (fd >= 0)
            warm_elf(&fs, fd, 0);
        p += len + (p[len] == ',');
    }
    for (size_t i = 0; i < fs.n; i++)
        close(fs.layers[i]);
    return st->files;
}
