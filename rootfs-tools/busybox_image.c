/* Builds the default busybox image; see busybox_image.h.
 *
 * The layer is built in a staging directory, named by a digest of the tree
 * itself, then installed into the store: rebuilding from the same busybox
 * finds the layer already there and the manifest unchanged. */
#include "busybox_image.h"

#include "lib/cleanup.h"
#include "store_admin.h"
#include "store_write.h"
#include "lib/path_search.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* `busybox --list-full` prints ~300 short lines; anything far bigger is not
 * a busybox. */
#define APPLET_LIST_MAX (1024 * 1024)
#define APPLET_PATH_MAX 255
#define ELF_MAX_PHNUM   4096
#define COPY_CHUNK      (64 * 1024)
#define HASH_CHUNK      (16 * 1024)
/* Versions the tree serialization: changing it must change every id. */
#define TREE_DIGEST_TAG "warmrun-tree-v1"

static const char *const image_cmd[] = {"sh", NULL};
static const char *const image_env[] = {WR_DEFAULT_PATH_ENV, NULL};

static const struct {
    const char *path;
    mode_t mode;
} image_dirs[] = {
    {"bin", 0755}, {"sbin", 0755}, {"usr", 0755},  {"usr/bin", 0755}, {"usr/sbin", 0755},
    {"etc", 0755}, {"root", 0700}, {"tmp", 01777}, {"var", 0755},     {"proc", 0755},
    {"sys", 0755}, {"dev", 0755},  {"home", 0755},
};

static const struct {
    const char *path;
    const char *content;
} image_files[] = {
    {"etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"
                   "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"},
    {"etc/group", "root:x:0:\n"
                  "nogroup:x:65534:\n"},
    {"etc/hosts", "127.0.0.1\tlocalhost\n"
                  "::1\tlocalhost\n"},
};

static inline void md_ctx_freep(EVP_MD_CTX **ctx)
{
    EVP_MD_CTX_free(*ctx);
}
#define cleanup_md_ctx __attribute__((cleanup(md_ctx_freep)))

/* Removes a staging directory left behind by a failure. */
static inline void unstagep(char **dir)
{
    if (*dir) {
        wr_store_unstage(*dir);
        free(*dir);
    }
}
#define cleanup_unstage __attribute__((cleanup(unstagep)))

static int write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* ---- the busybox binary ----------------------------------------------- */

/* A dynamically linked busybox would not run in an image that has no libc:
 * the binary must have no PT_INTERP (static or static-pie). Reads native
 * ELF32/ELF64 only; a foreign binary cannot run here either. */
static int check_static_elf(const char *path, bool is_default, wr_error *err)
{
    cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT && is_default)
            return wr_error_set(err, 0,
                                "busybox-static is not installed (apt-get install busybox-static)");
        return wr_error_set(err, errno, "open %s", path);
    }
    union {
        unsigned char ident[EI_NIDENT];
        Elf64_Ehdr e64;
        Elf32_Ehdr e32;
    } h;
    struct stat st;
    if (fstat(fd, &st) < 0)
        return wr_error_set(err, errno, "stat %s", path);
    if (!S_ISREG(st.st_mode) || pread(fd, &h, sizeof h, 0) != (ssize_t)sizeof h ||
        memcmp(h.ident, ELFMAG, SELFMAG) != 0)
        return wr_error_set(err, ENOEXEC, "%s is not an ELF executable", path);

    const bool is64 = h.ident[EI_CLASS] == ELFCLASS64;
    const unsigned char native =
        __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? ELFDATA2LSB : ELFDATA2MSB;
    if ((!is64 && h.ident[EI_CLASS] != ELFCLASS32) || h.ident[EI_DATA] != native)
        return wr_error_set(err, ENOEXEC, "%s is not an ELF executable for this machine", path);

    uint64_t phoff = is64 ? h.e64.e_phoff : h.e32.e_phoff;
    size_t phentsize = is64 ? h.e64.e_phentsize : h.e32.e_phentsize;
    size_t phnum = is64 ? h.e64.e_phnum : h.e32.e_phnum;
    size_t need = is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
    if (phnum == 0 || phnum > ELF_MAX_PHNUM || phentsize < need)
        return wr_error_set(err, ENOEXEC, "%s has no usable program headers", path);

    for (size_t i = 0; i < phnum; i++) {
        union {
            Elf64_Phdr p64;
            Elf32_Phdr p32;
        } ph;
        if (pread(fd, &ph, need, (off_t)(phoff + i * phentsize)) != (ssize_t)need)
            return wr_error_set(err, ENOEXEC, "%s: truncated program headers", path);
        if ((is64 ? ph.p64.p_type : ph.p32.p_type) == PT_INTERP)
            return wr_error_set(err, 0,
                                "%s is dynamically linked; a static busybox is needed "
                                "(apt-get install busybox-static)",
                                path);
    }
    return 0;
}

/* Runs `busybox --list-full` and returns its output (NUL-terminated).
 * posix_spawn, not system(): no shell, and the path is never parsed. */
static int list_applets(const char *busybox, char **out, wr_error *err)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return wr_error_set(err, errno, "pipe");
    cleanup_close int rd = p[0];
    cleanup_close int wr = p[1];

    posix_spawn_file_actions_t fa;
    if (posix_spawn_file_actions_init(&fa) != 0)
        return wr_error_set(err, ENOMEM, "spawn %s", busybox);
    /* dup2 clears O_CLOEXEC on the child's stdout; stderr goes nowhere:
     * only main() prints, and the exit status says enough. */
    int r = posix_spawn_file_actions_adddup2(&fa, wr, STDOUT_FILENO);
    if (r == 0)
        r = posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    if (r == 0)
        r = posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    pid_t pid = -1;
    char *argv[] = {"busybox", "--list-full", NULL};
    char *envp[] = {NULL};
    if (r == 0)
        r = posix_spawn(&pid, busybox, &fa, NULL, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    if (r != 0)
        return wr_error_set(err, r, "run %s --list-full", busybox);
    close(steal_fd(&wr));

    size_t len = 0;
    cleanup_free char *buf = malloc(APPLET_LIST_MAX + 1);
    int read_errno = buf ? 0 : ENOMEM;
    while (buf && len < APPLET_LIST_MAX) {
        ssize_t n = read(rd, buf + len, APPLET_LIST_MAX - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            read_errno = n < 0 ? errno : 0;
            break;
        }
        len += (size_t)n;
    }
    /* Closing first makes a child that still writes die of SIGPIPE rather
     * than block us in waitpid(). */
    close(steal_fd(&rd));
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return wr_error_set(err, errno, "wait for %s", busybox);
    if (read_errno)
        return wr_error_set(err, read_errno, "read the output of %s --list-full", busybox);
    if (len == APPLET_LIST_MAX)
        return wr_error_set(err, EFBIG, "%s --list-full printed more than %d bytes", busybox,
                            APPLET_LIST_MAX);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return wr_error_set(err, 0, "%s --list-full failed (status 0x%x)", busybox,
                            (unsigned)status);
    buf[len] = '\0';
    *out = steal_pointer(&buf);
    return 0;
}

/* ---- the tree --------------------------------------------------------- */

static int mkdir_at(int rootfd, const char *rel, mode_t mode, wr_error *err)
{
    struct stat st;
    if (mkdirat(rootfd, rel, mode) < 0) {
        if (errno != EEXIST)
            return wr_error_set(err, errno, "mkdir %s", rel);
        if (fstatat(rootfd, rel, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
            return wr_error_set(err, EEXIST, "%s exists and is not a directory", rel);
    }
    /* Exact modes whatever the umask: they are part of the layer digest. */
    if (fchmodat(rootfd, rel, mode, 0) < 0)
        return wr_error_set(err, errno, "chmod %s", rel);
    return 0;
}

/* Creates the missing parents of rel (0755), e.g. usr/bin for usr/bin/env. */
static int mkdir_parents_at(int rootfd, const char *rel, wr_error *err)
{
    char buf[APPLET_PATH_MAX + 1];
    snprintf(buf, sizeof buf, "%s", rel);
    for (char *s = strchr(buf, '/'); s; s = strchr(s + 1, '/')) {
        struct stat st;
        *s = '\0';
        if (fstatat(rootfd, buf, &st, AT_SYMLINK_NOFOLLOW) < 0 &&
            mkdir_at(rootfd, buf, 0755, err) < 0)
            return -1;
        *s = '/';
    }
    return 0;
}

static int write_file_at(int rootfd, const char *rel, const char *content, mode_t mode,
                         wr_error *err)
{
    cleanup_close int fd =
        openat(rootfd, rel, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0)
        return wr_error_set(err, errno, "create %s", rel);
    if (write_all(fd, content, strlen(content)) < 0 || fchmod(fd, mode) < 0)
        return wr_error_set(err, errno, "write %s", rel);
    if (close(steal_fd(&fd)) < 0)
        return wr_error_set(err, errno, "write %s", rel);
    return 0;
}

static int copy_file_at(int rootfd, const char *rel, const char *src, mode_t mode, wr_error *err)
{
    cleanup_close int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return wr_error_set(err, errno, "open %s", src);
    cleanup_close int out =
        openat(rootfd, rel, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (out < 0)
        return wr_error_set(err, errno, "create %s", rel);
    cleanup_free char *buf = malloc(COPY_CHUNK);
    if (!buf)
        return wr_error_set(err, ENOMEM, "copy %s", src);
    for (;;) {
        ssize_t n = read(in, buf, COPY_CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return wr_error_set(err, errno, "read %s", src);
        if (n == 0)
            break;
        if (write_all(out, buf, (size_t)n) < 0)
            return wr_error_set(err, errno, "write %s", rel);
    }
    if (fchmod(out, mode) < 0)
        return wr_error_set(err, errno, "chmod %s", rel);
    if (close(steal_fd(&out)) < 0)
        return wr_error_set(err, errno, "write %s", rel);
    return 0;
}

/* A --list-full line is trusted only as far as it stays a plain relative
 * path inside the layer. */
static bool applet_path_valid(const char *p)
{
    size_t len = strlen(p);
    if (len == 0 || len > APPLET_PATH_MAX || p[0] == '/' || p[len - 1] == '/')
        return false;
    for (const char *c = p; *c; c++)
        if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f)
            return false;
    for (const char *comp = p; comp; comp = strchr(comp, '/') ? strchr(comp, '/') + 1 : NULL) {
        size_t n = strcspn(comp, "/");
        if (n == 0 || (n == 1 && comp[0] == '.') || (n == 2 && comp[0] == '.' && comp[1] == '.'))
            return false;
    }
    return true;
}

/* Relative targets, so that the layer also reads right from the host:
 * bin/sh -> busybox, usr/bin/env -> ../../bin/busybox, linuxrc -> bin/busybox. */
static void applet_target(const char *rel, char *buf, size_t size)
{
    size_t depth = 0;
    for (const char *c = rel; *c; c++)
        depth += *c == '/';
    if (depth == 1 && strncmp(rel, "bin/", 4) == 0) {
        snprintf(buf, size, "busybox");
        return;
    }
    buf[0] = '\0';
    for (size_t i = 0; i < depth && strlen(buf) + 3 < size; i++)
        strcat(buf, "../");
    snprintf(buf + strlen(buf), size - strlen(buf), "bin/busybox");
}

static int add_applets(int rootfd, char *list, wr_error *err)
{
    size_t count = 0;
    char *next;
    for (char *line = list; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        if (strcmp(line, "bin/busybox") == 0)
            continue;
        if (!applet_path_valid(line))
            return wr_error_set(err, EINVAL, "busybox --list-full printed \"%.64s\"", line);
        char target[3 * APPLET_PATH_MAX + 16];
        applet_target(line, target, sizeof target);
        if (mkdir_parents_at(rootfd, line, err) < 0)
            return -1;
        /* A name listed twice is harmless; keep the first. */
        if (symlinkat(target, rootfd, line) < 0 && errno != EEXIST)
            return wr_error_set(err, errno, "symlink %s", line);
        count++;
    }
    if (count == 0)
        return wr_error_set(err, EINVAL, "busybox --list-full printed no applets");
    return 0;
}

static int populate(const char *tree, const char *busybox, char *applets, wr_error *err)
{
    cleanup_close int rootfd = open(tree, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        return wr_error_set(err, errno, "open %s", tree);
    for (size_t i = 0; i < sizeof image_dirs / sizeof image_dirs[0]; i++)
        if (mkdir_at(rootfd, image_dirs[i].path, image_dirs[i].mode, err) < 0)
            return -1;
    if (copy_file_at(rootfd, "bin/busybox", busybox, 0755, err) < 0)
        return -1;
    for (size_t i = 0; i < sizeof image_files / sizeof image_files[0]; i++)
        if (write_file_at(rootfd, image_files[i].path, image_files[i].content, 0644, err) < 0)
            return -1;
    if (add_applets(rootfd, applets, err) < 0)
        return -1;
    /* The layer root is the container's "/". */
    if (fchmod(rootfd, 0755) < 0)
        return wr_error_set(err, errno, "chmod %s", tree);
    return 0;
}

/* ---- the tree digest -------------------------------------------------- */

struct path_list {
    char **v;
    size_t n, cap;
};

static void path_list_free(struct path_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
}
#define cleanup_path_list __attribute__((cleanup(path_list_free)))

static int path_list_add(struct path_list *l, char *path, wr_error *err)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 256;
        char **v = realloc(l->v, cap * sizeof *v);
        if (!v) {
            free(path);
            return wr_error_set(err, ENOMEM, "list the layer");
        }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = path;
    return 0;
}

/* Collects every path below rel ("." for the top), relative to rootfd. */
static int collect(int rootfd, const char *rel, struct path_list *l, wr_error *err)
{
    int fd = openat(rootfd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return wr_error_set(err, errno, "open %s", rel);
    cleanup_closedir DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return wr_error_set(err, errno, "open %s", rel);
    }
    struct dirent *de;
    while ((errno = 0, de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        char *path = NULL;
        if (strcmp(rel, ".") == 0 ? asprintf(&path, "%s", de->d_name) < 0
                                  : asprintf(&path, "%s/%s", rel, de->d_name) < 0)
            return wr_error_set(err, ENOMEM, "list the layer");
        if (path_list_add(l, path, err) < 0)
            return -1;
        struct stat st;
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            return wr_error_set(err, errno, "stat %s", path);
        if (S_ISDIR(st.st_mode) && collect(rootfd, path, l, err) < 0)
            return -1;
    }
    if (errno != 0)
        return wr_error_set(err, errno, "read %s", rel);
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One record per entry: path NUL type SP mode SP, then the link target and
 * a NUL, or the size, LF and the content; then LF. The content is
 * length-prefixed, so no two trees serialize alike. Owners and times are
 * left out: they depend on who builds, not on what is built. */
static int hash_entry(EVP_MD_CTX *ctx, int rootfd, const char *rel, struct wr_busybox_result *res,
                      wr_error *err)
{
    struct stat st;
    if (fstatat(rootfd, rel, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return wr_error_set(err, errno, "stat %s", rel);
    char type = S_ISDIR(st.st_mode)   ? 'd'
                : S_ISREG(st.st_mode) ? 'f'
                : S_ISLNK(st.st_mode) ? 'l'
                                      : 0;
    if (!type)
        return wr_error_set(err, EINVAL, "%s: unexpected file type", rel);
    char head[64];
    int hn = snprintf(head, sizeof head, "%c %04o ", type, (unsigned)(st.st_mode & 07777));
    if (!EVP_DigestUpdate(ctx, rel, strlen(rel) + 1) || !EVP_DigestUpdate(ctx, head, (size_t)hn))
        return wr_error_set(err, EIO, "sha256 failed");

    if (type == 'l') {
        char target[PATH_MAX];
        ssize_t n = readlinkat(rootfd, rel, target, sizeof target);
        if (n < 0 || (size_t)n >= sizeof target)
            return wr_error_set(err, n < 0 ? errno : ENAMETOOLONG, "readlink %s", rel);
        if (!EVP_DigestUpdate(ctx, target, (size_t)n) || !EVP_DigestUpdate(ctx, "", 1))
            return wr_error_set(err, EIO, "sha256 failed");
    } else if (type == 'f') {
        hn = snprintf(head, sizeof head, "%jd\n", (intmax_t)st.st_size);
        char buf[HASH_CHUNK];
        cleanup_close int fd = openat(rootfd, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
            return wr_error_set(err, errno, "read %s", rel);
        if (!EVP_DigestUpdate(ctx, head, (size_t)hn))
            return wr_error_set(err, EIO, "sha256 failed");
        off_t total = 0;
        for (;;) {
            ssize_t n = read(fd, buf, sizeof buf);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                return wr_error_set(err, errno, "read %s", rel);
            if (n == 0)
                break;
            if (!EVP_DigestUpdate(ctx, buf, (size_t)n))
                return wr_error_set(err, EIO, "sha256 failed");
            total += n;
        }
        if (total != st.st_size)
            return wr_error_set(err, EIO, "%s changed while being hashed", rel);
        res->bytes += (uint64_t)st.st_size;
    }
    if (!EVP_DigestUpdate(ctx, "\n", 1))
        return wr_error_set(err, EIO, "sha256 failed");
    return 0;
}

/* The layer id: sha256 over the sorted serialization of the whole tree, so
 * it depends only on content, never on readdir order. */
static int tree_digest(const char *tree, char hex[WR_DIGEST_HEX_LEN + 1],
                       struct wr_busybox_result *res, wr_error *err)
{
    cleanup_close int rootfd = open(tree, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        return wr_error_set(err, errno, "open %s", tree);
    cleanup_path_list struct path_list l = {0};
    if (collect(rootfd, ".", &l, err) < 0)
        return -1;
    if (l.n > 0)
        qsort(l.v, l.n, sizeof *l.v, cmp_str);

    cleanup_md_ctx EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) ||
        !EVP_DigestUpdate(ctx, TREE_DIGEST_TAG, sizeof TREE_DIGEST_TAG))
        return wr_error_set(err, EIO, "sha256 failed");
    res->bytes = 0;
    if (hash_entry(ctx, rootfd, ".", res, err) < 0)
        return -1;
    for (size_t i = 0; i < l.n; i++)
        if (hash_entry(ctx, rootfd, l.v[i], res, err) < 0)
            return -1;

    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    if (!EVP_DigestFinal_ex(ctx, md, &md_len) || md_len * 2 != WR_DIGEST_HEX_LEN)
        return wr_error_set(err, EIO, "sha256 failed");
    for (unsigned int i = 0; i < md_len; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    res->n_files = l.n;
    return 0;
}

/* ---- the image -------------------------------------------------------- */

static int build(const char *root, const char *tag, const char *busybox, char *applets,
                 struct wr_busybox_result *res, wr_error *err)
{
    if (wr_store_init(root, err) < 0)
        return -1;
    cleanup_close int lock = wr_store_lock(root, err);
    if (lock < 0)
        return -1;
    cleanup_unstage char *staged = NULL;
    cleanup_free char *tree = NULL;
    if (wr_store_stage(root, &staged, err) < 0)
        return -1;
    if (asprintf(&tree, "%s/root", staged) < 0) {
        tree = NULL;
        return wr_error_set(err, ENOMEM, "build");
    }
    char hex[WR_DIGEST_HEX_LEN + 1];
    if (populate(tree, busybox, applets, err) < 0 || tree_digest(tree, hex, res, err) < 0)
        return wr_error_prefix(err, "build the layer");
    if (wr_store_layer_install(root, staged, hex, &res->layer_existed, err) < 0)
        return -1;
    free(steal_pointer(&staged)); /* installed or removed: nothing to clean up */

    snprintf(res->layer, sizeof res->layer, "sha256:%s", hex);
    const char *layers[] = {res->layer};
    const struct wr_manifest m = {
        .name = WR_BUSYBOX_IMAGE_NAME,
        .tag = tag,
        .layers = layers,
        .n_layers = 1,
        .cmd = image_cmd,
        .size = res->bytes,
        .env = image_env,
        .workdir = "/",
    };
    return wr_store_manifest_write(root, &m, res->id, err);
}

int wr_busybox_image_build(const char *root, const char *tag, const char *busybox,
                           struct wr_busybox_result *res, wr_error *err)
{
    const bool is_default = busybox == NULL;
    if (is_default)
        busybox = WR_BUSYBOX_DEFAULT_PATH;
    memset(res, 0, sizeof *res);

    /* Check the binary before touching the store: a missing busybox-static
     * must not leave an empty store behind. */
    cleanup_free char *applets = NULL;
    if (check_static_elf(busybox, is_default, err) < 0 || list_applets(busybox, &applets, err) < 0)
        return -1;
    if (build(root, tag, busybox, applets, res, err) < 0)
        return wr_error_prefix(err, "build %s:%s", WR_BUSYBOX_IMAGE_NAME, tag);
    return 0;
}
