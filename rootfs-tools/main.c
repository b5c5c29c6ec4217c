/* warmrun-image: the image store's command line. Parses arguments, calls the
 * library, and is the only place that prints an error (one line, then exit
 * status 1; usage errors exit 2). */
#include "busybox_image.h"
#include "daemon_notify.h"
#include "store_json.h"
#include "image_import.h"
#include "lib/image_store.h"
#include "lib/resources.h"
#include "store_admin.h"
#include "store_write.h"
#include "lib/paths.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The name our messages go under: the command the user typed. `warmrun
 * image` executes us with argv[0] "warmrun image" (main takes it then);
 * run by hand, our own. */
static const char *self_name = "warmrun-image";

enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 2 };

/* After "usage: " and the program's name (print_usage). */
static const char usage_text[] =
    " [--root DIR] [--socket PATH] COMMAND [ARGS]\n"
    "\n"
    "Manages the warmrun image store: DIR, else $WARMRUN_ROOT, else " WR_DEFAULT_STORE_ROOT ".\n"
    "build-busybox and import tell the daemon at PATH (else $WARMRUN_SOCKET, else\n"
    "the state directory's warmrun.sock), whose pool of the tag rolls over.\n"
    "\n"
    "commands:\n"
    "  build-busybox [--tag TAG] [--busybox PATH]\n"
    "                 build busybox:TAG (default latest) from a static busybox\n"
    "                 (default " WR_BUSYBOX_DEFAULT_PATH ", from Debian's busybox-static)\n"
    "  import PATH [--name NAME[:TAG]] [--max-size SIZE] [--flatten] [--progress]\n"
    "                 import a docker save archive, an OCI image layout (tar or\n"
    "                 directory), a rootfs tarball (docker export; plain, gzip,\n"
    "                 zstd, xz) or a rootfs directory; SIZE bounds the decompressed\n"
    "                 size of each archive (k/m/g suffixes; default 8g); PATH - is\n"
    "                 standard input (e.g. docker save IMAGE | ... import -)\n"
    "  ls [--json]    list the stored images\n"
    "  inspect IMAGE  print an image's manifest (JSON)\n"
    "  rm IMAGE       remove an image, and the layers no other image uses\n";

static void print_usage(void)
{
    printf("usage: %s%s", self_name, usage_text);
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", self_name);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " (see '%s --help')\n", self_name);
    va_end(ap);
    return EXIT_USAGE;
}

static int failed(const wr_error *err)
{
    fprintf(stderr, "%s: %s\n", self_name, err->msg);
    return EXIT_FAILED;
}

/* getopt_long() with its own messages silenced: ours fit on one line. */
static int bad_option(char *const argv[], int opt)
{
    const char *arg = argv[optind - 1];
    if (opt == ':')
        return usage_error("option '%s' needs an argument", arg);
    return usage_error("unknown option '%s'", arg);
}

/* The daemon's socket (--socket, else the environment's): set by main. */
static const char *daemon_socket;

/* After a tag was written: the daemon's pool of it rolls over before this
 * returns; says which did. A daemon that cannot roll is a failed command. */
static int tell_daemon(const char *ref)
{
    char rolled[1024];
    bool no_daemon;
    wr_error err = {0};
    if (wr_image_notify_daemon(daemon_socket, ref, &no_daemon, rolled, sizeof rolled, &err) < 0) {
        if (err.errnum != EOPNOTSUPP)
            return failed(&err);
        fprintf(stderr, "%s: warning: %s\n", self_name, err.msg);
    }
    /* Not an error (the store is the truth), but the user should know the
     * running pools were not rolled: no daemon listens there now. */
    if (no_daemon)
        fprintf(stderr,
                "%s: note: no daemon at %s was told; its pools and functions of %s roll over at "
                "its next start\n",
                self_name, daemon_socket, ref);
    if (rolled[0])
        printf("rolled over pool %s\n", rolled);
    return EXIT_OK;
}

static int cmd_build_busybox(const char *root, int argc, char *argv[])
{
    static const struct option opts[] = {
        {"tag", required_argument, NULL, 't'},
        {"busybox", required_argument, NULL, 'b'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    const char *tag = "latest";
    const char *busybox = NULL;
    int opt;
    optind = 0; /* restart getopt on the command's own arguments */
    while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (opt) {
        case 't':
            tag = optarg;
            break;
        case 'b':
            busybox = optarg;
            break;
        case 'h':
            print_usage();
            return EXIT_OK;
        default:
            return bad_option(argv, opt);
        }
    }
    if (optind < argc)
        return usage_error("build-busybox: unexpected argument '%s'", argv[optind]);

    /* A bad tag is a usage error: check it before any work. */
    wr_error err = {0};
    char ref[160];
    char *name = NULL, *t = NULL;
    if (strlen(tag) > 128)
        return usage_error("invalid tag: longer than 128 characters");
    snprintf(ref, sizeof ref, "%s:%s", WR_BUSYBOX_IMAGE_NAME, tag);
    if (wr_image_ref_parse(ref, &name, &t, &err) < 0)
        return usage_error("%s", err.msg);
    free(name);
    free(t);

    struct wr_busybox_result res;
    if (wr_busybox_image_build(root, tag, busybox, &res, &err) < 0)
        return failed(&err);
    printf("%s:%s %.19s (%zu files, %" PRIu64 " KiB)\n", WR_BUSYBOX_IMAGE_NAME, tag, res.id,
           res.n_files, (res.bytes + 1023) / 1024);
    fflush(stdout);
    return tell_daemon(ref);
}

/* Decimal units, as docker prints them; "-" when unknown. */
static void human_size(uint64_t b, char *out, size_t size)
{
    static const char *const units[] = {"B", "kB", "MB", "GB", "TB"};
    double v = (double)b;
    size_t u = 0;
    if (b == 0) {
        snprintf(out, size, "-");
        return;
    }
    while (v >= 1000 && u < 4) {
        v /= 1000;
        u++;
    }
    snprintf(out, size, u ? "%.1f%s" : "%.0f%s", v, units[u]);
}

struct progress {
    bool enabled, shown;
    struct timespec start, last;
};

static void show_progress(void *arg, size_t layer, size_t n, uint64_t bytes)
{
    struct progress *p = arg;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    /* After a second, then at most four times a second. */
    if (!p->enabled || now.tv_sec - p->start.tv_sec < 1 ||
        (now.tv_sec - p->last.tv_sec) * 1000000000L + (now.tv_nsec - p->last.tv_nsec) < 250000000L)
        return;
    p->last = now;
    if (layer == 0)
        fprintf(stderr, "\rimporting: reading the archive, %.1f MiB   ", (double)bytes / (1 << 20));
    else
        fprintf(stderr, "\rimporting: layer %zu/%zu, %.1f MiB   ", layer, n,
                (double)bytes / (1 << 20));
    p->shown = true;
}

static int cmd_import(const char *root, int argc, char *argv[])
{
    static const struct option opts[] = {
        {"name", required_argument, NULL, 'n'}, {"max-size", required_argument, NULL, 'm'},
        {"flatten", no_argument, NULL, 'f'},    {"progress", no_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},       {0},
    };
    struct progress prog = {.enabled = isatty(STDERR_FILENO)};
    struct wr_import_opts o = {.progress = show_progress, .progress_arg = &prog};
    int opt;
    optind = 0;
    while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (opt) {
        case 'n':
            o.ref = optarg;
            break;
        case 'm':
            if (wr_parse_bytes(optarg, 1, UINT64_MAX, &o.max_bytes) < 0)
                return usage_error("--max-size %s: expected a size such as 512m or 8g", optarg);
            break;
        case 'f':
            o.flatten = true;
            break;
        case 'p':
            prog.enabled = true;
            break;
        case 'h':
            print_usage();
            return EXIT_OK;
        default:
            return bad_option(argv, opt);
        }
    }
    if (optind != argc - 1)
        return usage_error("import: expected one PATH");
    wr_error err = {0};
    if (o.ref) {
        char *name = NULL, *tag = NULL;
        if (wr_image_ref_parse(o.ref, &name, &tag, &err) < 0)
            return usage_error("%s", err.msg);
        free(name);
        free(tag);
    }
    clock_gettime(CLOCK_MONOTONIC, &prog.start);
    struct wr_import_result res;
    int r = wr_image_import(root, argv[optind], &o, &res, &err);
    if (prog.shown)
        fputc('\n', stderr);
    if (r < 0)
        return failed(&err);
    char size[32];
    human_size(res.size, size, sizeof size);
    printf("%s %.19s (%s, %zu layer%s%s, %zu new, %s)\n", res.ref, res.id, res.format, res.n_layers,
           res.n_layers == 1 ? "" : "s", res.flattened ? ", flattened" : "", res.new_layers, size);
    fflush(stdout);
    return tell_daemon(res.ref);
}

/* Commands that take no option but --help. Returns 0 to go on, -1 when the
 * help was printed (exit 0), or the exit status of a bad option. */
static int no_options(int argc, char *argv[])
{
    static const struct option opts[] = {
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    int opt;
    optind = 0;
    while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (opt != 'h')
            return bad_option(argv, opt);
        print_usage();
        return -1;
    }
    return 0;
}

/* One IMAGE argument and no option: inspect, rm. */
static int one_image_arg(int argc, char *argv[], const char *cmd, char **name, char **tag)
{
    int r = no_options(argc, argv);
    if (r != 0)
        return r;
    if (optind != argc - 1)
        return usage_error("%s: expected one IMAGE", cmd);
    wr_error err = {0};
    if (wr_image_ref_parse(argv[optind], name, tag, &err) < 0)
        return usage_error("%s", err.msg);
    return 0;
}

static int cmd_inspect(const char *root, int argc, char *argv[])
{
    char *name = NULL, *tag = NULL;
    int r = one_image_arg(argc, argv, "inspect", &name, &tag);
    if (r != 0)
        return r < 0 ? EXIT_OK : r;
    char ref[400], path[4096];
    snprintf(ref, sizeof ref, "%s:%s", name, tag);
    snprintf(path, sizeof path, "%.*s/images/%s/%s.json", wr_store_root_len(root), root, name, tag);
    free(name);
    free(tag);
    /* Loading checks it as the runtime would; then the file is printed. */
    wr_error err = {0};
    struct wr_image *img = NULL;
    if (wr_image_load(root, ref, &img, &err) < 0)
        return failed(&err);
    wr_image_free(img);
    FILE *f = fopen(path, "re");
    if (!f) {
        wr_error_set(&err, errno, "open %s", path);
        return failed(&err);
    }
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        fwrite(buf, 1, n, stdout);
    fclose(f);
    if (fflush(stdout) != 0) {
        wr_error_set(&err, 0, "write error on standard output");
        return failed(&err);
    }
    return EXIT_OK;
}

static int cmd_rm(const char *root, int argc, char *argv[])
{
    char *name = NULL, *tag = NULL;
    int r = one_image_arg(argc, argv, "rm", &name, &tag);
    if (r != 0)
        return r < 0 ? EXIT_OK : r;
    wr_error err = {0};
    size_t freed = 0;
    int lock = wr_store_lock(root, &err);
    r = lock < 0 ? -1 : wr_store_image_remove(root, name, tag, &err);
    if (r == 0 && wr_store_gc(root, &freed, &err) < 0)
        fprintf(stderr, "%s: warning: %s\n", self_name, err.msg);
    if (lock >= 0)
        close(lock);
    if (r == 0)
        printf("removed %s:%s (%zu layer%s freed)\n", name, tag, freed, freed == 1 ? "" : "s");
    free(name);
    free(tag);
    return r < 0 ? failed(&err) : EXIT_OK;
}

static int cmd_ls(const char *root, int argc, char *argv[])
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    bool json = false;
    int opt;
    optind = 0;
    while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (opt == 'j') {
            json = true;
            continue;
        }
        if (opt != 'h')
            return bad_option(argv, opt);
        print_usage();
        return EXIT_OK;
    }
    if (optind < argc)
        return usage_error("ls: unexpected argument '%s'", argv[optind]);

    wr_error err = {0};
    struct wr_store_entry *e = NULL;
    size_t n = 0;
    if (wr_store_list(root, &e, &n, &err) < 0)
        return failed(&err);
    if (json) {
        char *text = wr_store_list_json(e, n);
        wr_store_list_free(e, n);
        if (!text) {
            wr_error_set(&err, ENOMEM, "encoding the list as JSON");
            return failed(&err);
        }
        puts(text);
        free(text);
        if (fflush(stdout) != 0) {
            wr_error_set(&err, 0, "write error on standard output");
            return failed(&err);
        }
        return EXIT_OK;
    }

    int wname = 4, wtag = 3;
    for (size_t i = 0; i < n; i++) {
        if ((int)strlen(e[i].name) > wname)
            wname = (int)strlen(e[i].name);
        if ((int)strlen(e[i].tag) > wtag)
            wtag = (int)strlen(e[i].tag);
    }
    /* IDs shortened like the build line: "sha256:" and 12 hex digits. */
    printf("%-*s  %-*s  %-19s  %-8s  %-6s  %s\n", wname, "NAME", wtag, "TAG", "ID", "SIZE",
           "LAYERS", "CREATED");
    for (size_t i = 0; i < n; i++) {
        char layers[24] = "-", size[32];
        if (e[i].id)
            snprintf(layers, sizeof layers, "%zu", e[i].n_layers);
        human_size(e[i].size, size, sizeof size);
        printf("%-*s  %-*s  %-19.19s  %-8s  %-6s  %s\n", wname, e[i].name, wtag, e[i].tag,
               e[i].id ? e[i].id : "<invalid>", size, layers, e[i].created ? e[i].created : "-");
    }
    wr_store_list_free(e, n);
    if (fflush(stdout) != 0) {
        wr_error_set(&err, 0, "write error on standard output");
        return failed(&err);
    }
    return EXIT_OK;
}

static const struct {
    const char *name;
    int (*run)(const char *root, int argc, char *argv[]);
} commands[] = {
    {"build-busybox", cmd_build_busybox},
    {"ls", cmd_ls},
    {"import", cmd_import},
    {"inspect", cmd_inspect},
    {"rm", cmd_rm},
};

int main(int argc, char *argv[])
{
    if (argc > 0 && strcmp(argv[0], "warmrun image") == 0)
        self_name = argv[0];
    static const struct option opts[] = {
        {"root", required_argument, NULL, 'r'},
        {"socket", required_argument, NULL, 'S'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    struct wr_paths paths;
    const char *socket_opt = NULL;
    wr_paths_from_env(&paths);
    const char *root = getenv("WARMRUN_ROOT");
    if (!root || !*root)
        root = WR_DEFAULT_STORE_ROOT;

    int opt;
    /* '+': stop at the command, whose options are its own. */
    while ((opt = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
        switch (opt) {
        case 'r':
            root = optarg;
            break;
        case 'S':
            socket_opt = optarg;
            break;
        case 'h':
            print_usage();
            return EXIT_OK;
        default:
            return bad_option(argv, opt);
        }
    }
    wr_error perr = {0};
    if (wr_paths_set_socket(&paths, socket_opt, &perr) < 0)
        return usage_error("%s", perr.msg);
    daemon_socket = paths.socket;
    if (optind >= argc)
        return usage_error("%s", "no command given");

    /* Checked before any command runs: a root overlayfs cannot mount from
     * is useless, and must not be half-created. */
    wr_error err = {0};
    if (wr_store_root_valid(root, &err) < 0)
        return usage_error("%s", err.msg);

    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[optind], commands[i].name) == 0)
            return commands[i].run(root, argc - optind, argv + optind);
    return usage_error("unknown command '%s'", argv[optind]);
}
