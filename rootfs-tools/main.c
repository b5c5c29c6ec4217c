/* warmrun-image: the image store's command line. Parses arguments, calls the
 * library, and is the only place that prints an error (one line, then exit
 * status 1; usage errors exit 2). */
#include "busybox_image.h"
#include "image_store.h"
#include "store_write.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROG "warmrun-image"

enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 2 };

static const char usage_text[] =
    "usage: " PROG " [--root DIR] COMMAND [ARGS]\n"
    "\n"
    "Manages the warmrun image store: DIR, else $WARMRUN_ROOT, else " WR_DEFAULT_STORE_ROOT ".\n"
    "\n"
    "commands:\n"
    "  build-busybox [--tag TAG] [--busybox PATH]\n"
    "                 build busybox:TAG (default latest) from a static busybox\n"
    "                 (default " WR_BUSYBOX_DEFAULT_PATH ", from Debian's busybox-static)\n"
    "  ls             list the stored images\n";

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs(PROG ": ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs(" (see '" PROG " --help')\n", stderr);
    va_end(ap);
    return EXIT_USAGE;
}

static int failed(const wr_error *err)
{
    fprintf(stderr, PROG ": %s\n", err->msg);
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
            fputs(usage_text, stdout);
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
    return EXIT_OK;
}

static int cmd_ls(const char *root, int argc, char *argv[])
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
        fputs(usage_text, stdout);
        return EXIT_OK;
    }
    if (optind < argc)
        return usage_error("ls: unexpected argument '%s'", argv[optind]);

    wr_error err = {0};
    struct wr_store_entry *e = NULL;
    size_t n = 0;
    if (wr_store_list(root, &e, &n, &err) < 0)
        return failed(&err);

    int wname = 4, wtag = 3;
    for (size_t i = 0; i < n; i++) {
        if ((int)strlen(e[i].name) > wname)
            wname = (int)strlen(e[i].name);
        if ((int)strlen(e[i].tag) > wtag)
            wtag = (int)strlen(e[i].tag);
    }
    /* IDs shortened like the build line: "sha256:" and 12 hex digits. */
    printf("%-*s  %-*s  %-19s  %-6s  %s\n", wname, "NAME", wtag, "TAG", "ID", "LAYERS", "CREATED");
    for (size_t i = 0; i < n; i++) {
        char layers[24] = "-";
        if (e[i].id)
            snprintf(layers, sizeof layers, "%zu", e[i].n_layers);
        printf("%-*s  %-*s  %-19.19s  %-6s  %s\n", wname, e[i].name, wtag, e[i].tag,
               e[i].id ? e[i].id : "<invalid>", layers, e[i].created ? e[i].created : "-");
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
};

int main(int argc, char *argv[])
{
    static const struct option opts[] = {
        {"root", required_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
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
        case 'h':
            fputs(usage_text, stdout);
            return EXIT_OK;
        default:
            return bad_option(argv, opt);
        }
    }
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
