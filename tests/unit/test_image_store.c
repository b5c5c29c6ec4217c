/* TAP test of runtime/lib/image_store.c against a temporary store holding
 * hand-written manifests. Needs no privileges: only plain files and
 * directories under $TMPDIR. */
#include "lib/image_store.h"
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[256];

/* Two layer digests: 64 'a' (the bottom layer) and 64 'b' (the top). */
#define HEX_A  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define HEX_B  "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define HEX_C  "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
#define IMG_ID "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void mkdirs(const char *path)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *s = buf + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(buf, 0755) < 0 && errno != EEXIST)
            bail_out("mkdir %s: %s", buf, strerror(errno));
        *s = '/';
    }
    if (mkdir(buf, 0755) < 0 && errno != EEXIST)
        bail_out("mkdir %s: %s", buf, strerror(errno));
}

static void write_file(const char *path, const char *content, size_t len)
{
    FILE *f = fopen(path, "w");
    if (!f || fwrite(content, 1, len, f) != len || fclose(f) != 0)
        bail_out("write %s: %s", path, strerror(errno));
}

static void make_layer(const char *hex)
{
    char path[512];
    snprintf(path, sizeof path, "%s/layers/sha256/%s/root", root, hex);
    mkdirs(path);
}

/* Writes images/<name>/<tag>.json with the given text. */
static void put_manifest(const char *name, const char *tag, const char *json)
{
    char path[512];
    snprintf(path, sizeof path, "%s/images/%s", root, name);
    mkdirs(path);
    snprintf(path, sizeof path, "%s/images/%s/%s.json", root, name, tag);
    write_file(path, json, strlen(json));
}

/* A complete manifest around a layers array and a config object. */
static void put_image(const char *name, const char *tag, const char *layers, const char *config)
{
    char json[4096];
    snprintf(json, sizeof json,
             "{\"schema\": 1, \"name\": \"%s\", \"tag\": \"%s\", \"id\": \"%s\", "
             "\"created\": \"2026-11-28T00:00:00Z\", \"layers\": %s, \"config\": %s}\n",
             name, tag, IMG_ID, layers, config);
    put_manifest(name, tag, json);
}

/* ---- references ------------------------------------------------------- */

static void check_ref_ok(const char *ref, const char *want_name, const char *want_tag)
{
    wr_error err = {0};
    char *name = NULL, *tag = NULL;
    int r = wr_image_ref_parse(ref, &name, &tag, &err);
    if (ok(r == 0, "ref \"%s\" is valid", ref)) {
        is_str(name, want_name, "  name of \"%s\"", ref);
        is_str(tag, want_tag, "  tag of \"%s\"", ref);
    } else {
        diag("error: %s", err.msg);
    }
    free(name);
    free(tag);
}

static void check_ref_bad(const char *ref)
{
    wr_error err = {0};
    char *name = NULL, *tag = NULL;
    int r = wr_image_ref_parse(ref, &name, &tag, &err);
    ok(r < 0 && err.errnum == EINVAL && err.msg[0] && !strchr(err.msg, '\n'),
       "ref \"%.40s\" is rejected (%s)", ref, err.msg);
    if (r == 0) {
        free(name);
        free(tag);
    }
}

static void test_refs(void)
{
    char long_tag[200], long_name[300];

    check_ref_ok("busybox", "busybox", "latest");
    check_ref_ok("busybox:1.36", "busybox", "1.36");
    check_ref_ok("library/busybox:v1.0_rc-1", "library/busybox", "v1.0_rc-1");
    check_ref_ok("a.b-c_d/0e/f:Tag_X", "a.b-c_d/0e/f", "Tag_X");
    check_ref_ok("x:_", "x", "_");
    snprintf(long_tag, sizeof long_tag, "x:%0128d", 0);
    check_ref_ok(long_tag, "x", long_tag + 2);

    check_ref_bad("");
    check_ref_bad("..");
    check_ref_bad(".");
    check_ref_bad("a//b");
    check_ref_bad("/a");
    check_ref_bad("a/");
    check_ref_bad("a/../b");
    check_ref_bad("a/./b");
    check_ref_bad(".hidden");
    check_ref_bad("UPPER");
    check_ref_bad("Busybox:latest");
    check_ref_bad("x:");
    check_ref_bad(":tag");
    check_ref_bad("a:b:c");
    check_ref_bad("a:..");
    check_ref_bad("a:.x");
    check_ref_bad("a:-x");
    check_ref_bad("a:b/c");
    check_ref_bad("a b");
    check_ref_bad("-a");
    snprintf(long_tag, sizeof long_tag, "x:%0129d", 0);
    check_ref_bad(long_tag);
    memset(long_name, 'a', 256);
    long_name[256] = '\0';
    check_ref_bad(long_name);
}

static void test_root_valid(void)
{
    static const char *const bad[] = {"",      "relative", "./x",   "/a:b", "/a,b",
                                      "/a\\b", "/a b",     "/a\tb", "/a\nb"};
    wr_error err = {0};
    is_int(wr_store_root_valid("/var/lib/warmrun", &err), 0, "/var/lib/warmrun is a valid root");
    is_int(wr_store_root_valid("/", &err), 0, "/ is a valid root");
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ok(wr_store_root_valid(bad[i], &err) < 0 && !strchr(err.msg, '\n'),
           "root #%zu is rejected on one line (%s)", i, err.msg);
    ok(wr_store_root_valid(NULL, &err) < 0, "NULL root is rejected");
}

/* ---- loading ---------------------------------------------------------- */

static struct wr_image *load(const char *ref, wr_error *err)
{
    struct wr_image *img = NULL;
    memset(err, 0, sizeof *err);
    if (wr_image_load(root, ref, &img, err) < 0)
        return NULL;
    return img;
}

static void test_two_layers(void)
{
    char want[1024];
    wr_error err;
    put_image("app", "v1", "[\"sha256:" HEX_A "\", \"sha256:" HEX_B "\"]",
              "{\"Entrypoint\": [\"/bin/app\", \"--flag\"], \"Cmd\": null, "
              "\"Env\": [\"PATH=/bin\", \"EMPTY=\", \"A=b=c\"], \"WorkingDir\": \"/srv\", "
              "\"User\": \"1000:1000\"}");
    struct wr_image *img = load("app:v1", &err);
    if (!ok(img != NULL, "2-layer image loads")) {
        diag("error: %s", err.msg);
        skip(13, "image did not load");
        return;
    }
    snprintf(want, sizeof want, "%s/layers/sha256/%s/root:%s/layers/sha256/%s/root", root, HEX_B,
             root, HEX_A);
    is_str(img->lowerdir, want, "lowerdir is topmost first");
    is_int(img->n_layers, 2, "n_layers");
    is_str(img->name, "app", "name");
    is_str(img->tag, "v1", "tag");
    is_str(img->id, IMG_ID, "id");
    ok(img->entrypoint && !strcmp(img->entrypoint[0], "/bin/app") &&
           !strcmp(img->entrypoint[1], "--flag") && !img->entrypoint[2],
       "Entrypoint copied");
    ok(img->cmd == NULL, "Cmd null gives NULL");
    ok(img->env && !strcmp(img->env[0], "PATH=/bin") && !strcmp(img->env[1], "EMPTY=") &&
           !strcmp(img->env[2], "A=b=c") && !img->env[3],
       "Env copied");
    is_str(img->workdir, "/srv", "WorkingDir");
    is_str(img->user, "1000:1000", "User");
    wr_image_free(img);

    /* The same image under a trailing-slash root gives the same lowerdir. */
    char slash_root[300];
    snprintf(slash_root, sizeof slash_root, "%s/", root);
    img = NULL;
    ok(wr_image_load(slash_root, "app:v1", &img, &err) == 0 && img &&
           strcmp(img->lowerdir, want) == 0,
       "a trailing '/' on the root changes nothing");
    wr_image_free(img);

    put_image("library/nested", "latest", "[\"sha256:" HEX_A "\"]", "{\"Cmd\": [\"sh\"]}");
    img = load("library/nested", &err);
    ok(img && img->cmd && !strcmp(img->cmd[0], "sh") && !img->cmd[1],
       "nested name with the default tag loads (%s)", img ? "" : err.msg);
    snprintf(want, sizeof want, "%s/layers/sha256/%s/root", root, HEX_A);
    is_str(img ? img->lowerdir : NULL, want, "1-layer lowerdir has no ':'");
    wr_image_free(img);
}

static void test_defaults(void)
{
    wr_error err;
    put_image("defaults", "latest", "[\"sha256:" HEX_A "\"]", "{\"Cmd\": [\"sh\"]}");
    struct wr_image *img = load("defaults", &err);
    ok(img != NULL, "image without WorkingDir/User/Env loads (%s)", img ? "" : err.msg);
    is_str(img ? img->workdir : NULL, "/", "missing WorkingDir defaults to /");
    is_str(img ? img->user : NULL, "", "missing User defaults to \"\"");
    ok(img && img->env && img->env[0] == NULL, "missing Env gives an empty array");
    ok(img && img->entrypoint == NULL, "missing Entrypoint gives NULL");
    wr_image_free(img);

    put_image("defaults", "empty", "[\"sha256:" HEX_A "\"]",
              "{\"WorkingDir\": \"\", \"User\": null, \"Env\": null, \"Cmd\": []}");
    img = load("defaults:empty", &err);
    is_str(img ? img->workdir : NULL, "/", "empty WorkingDir defaults to / (%s)",
           img ? "" : err.msg);
    is_str(img ? img->user : NULL, "", "null User defaults to \"\"");
    ok(img && img->env && !img->env[0], "null Env gives an empty array");
    ok(img && img->cmd && !img->cmd[0], "empty Cmd stays an empty array");
    wr_image_free(img);

    put_manifest("defaults", "noconfig",
                 "{\"schema\": 1, \"id\": \"" IMG_ID "\", \"layers\": [\"sha256:" HEX_A "\"]}");
    img = load("defaults:noconfig", &err);
    ok(img && !img->cmd && !img->entrypoint && img->env && !img->env[0] &&
           !strcmp(img->workdir, "/") && !strcmp(img->user, ""),
       "manifest without config gets every default (%s)", img ? "" : err.msg);
    wr_image_free(img);
}

/* Loading ref must fail; want_errnum 0 accepts any errnum. */
static void load_fails(const char *ref, int want_errnum, const char *what)
{
    wr_error err;
    struct wr_image *img = load(ref, &err);
    ok(img == NULL && err.msg[0] && !strchr(err.msg, '\n') &&
           (want_errnum == 0 || err.errnum == want_errnum),
       "%s: %s", what, err.msg);
    wr_image_free(img);
}

static void test_failures(void)
{
    char want[1024];
    wr_error err;

    struct wr_image *img = load("nope", &err);
    /* The message ends with what to run to get the image (one line). */
    snprintf(want, sizeof want,
             "image \"nope\" not found in %s; import it with: warmrun --root %s image import PATH "
             "--name nope:latest",
             root, root);
    ok(img == NULL && err.errnum == ENOENT, "unknown image gives ENOENT");
    is_str(err.msg, want, "unknown image message");
    wr_image_free(img);
    img = load("busybox:v2", &err);
    snprintf(want, sizeof want,
             "image \"busybox:v2\" not found in %s; build it with: warmrun --root %s image "
             "build-busybox --tag v2",
             root, root);
    is_str(err.msg, want, "the default image's own command");
    wr_image_free(img);
    load_fails("app:v2", ENOENT, "unknown tag of a known name");
    load_fails("Bad..Ref", EINVAL, "invalid reference");

    put_image("missing", "latest", "[\"sha256:" HEX_A "\", \"sha256:" HEX_C "\"]", "{}");
    load_fails("missing", ENOENT, "missing layer directory");

    char path[512];
    snprintf(path, sizeof path, "%s/layers/sha256/%s", root, HEX_C);
    mkdirs(path);
    snprintf(path, sizeof path, "%s/layers/sha256/%s/root", root, HEX_C);
    write_file(path, "", 0);
    load_fails("missing", ENOTDIR, "layer root/ that is a file");

    put_manifest("bad", "json", "{\"schema\": 1, \"layers\": [");
    load_fails("bad:json", 0, "truncated JSON");
    put_manifest("bad", "array", "[1, 2]");
    load_fails("bad:array", 0, "manifest that is not an object");
    put_manifest("bad", "dup",
                 "{\"schema\": 1, \"schema\": 1, \"id\": \"" IMG_ID
                 "\", \"layers\": [\"sha256:" HEX_A "\"]}");
    load_fails("bad:dup", 0, "duplicate key");
    put_manifest("bad", "schema2",
                 "{\"schema\": 2, \"id\": \"" IMG_ID "\", \"layers\": [\"sha256:" HEX_A "\"]}");
    load_fails("bad:schema2", 0, "schema 2");
    put_manifest("bad", "noschema", "{\"id\": \"" IMG_ID "\", \"layers\": [\"sha256:" HEX_A "\"]}");
    load_fails("bad:noschema", 0, "missing schema");
    put_manifest("bad", "noid", "{\"schema\": 1, \"layers\": [\"sha256:" HEX_A "\"]}");
    load_fails("bad:noid", 0, "missing id");

    put_image("bad", "upperhex",
              "[\"sha256:"
              "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
              "\"]",
              "{}");
    load_fails("bad:upperhex", EINVAL, "uppercase layer digest");
    put_image("bad", "shorthex", "[\"sha256:abc\"]", "{}");
    load_fails("bad:shorthex", EINVAL, "short layer digest");
    put_image("bad", "sha512", "[\"sha512:" HEX_A "\"]", "{}");
    load_fails("bad:sha512", EINVAL, "other digest algorithm");
    put_image("bad", "dotdot", "[\"sha256:../../../../etc\"]", "{}");
    load_fails("bad:dotdot", EINVAL, "path in a layer id");
    put_image("bad", "nolayers", "[]", "{}");
    load_fails("bad:nolayers", EINVAL, "no layers");
    put_image("bad", "layersobj", "{}", "{}");
    load_fails("bad:layersobj", EINVAL, "layers not an array");
    put_image("bad", "twice", "[\"sha256:" HEX_A "\", \"sha256:" HEX_A "\"]", "{}");
    load_fails("bad:twice", EINVAL, "same layer twice");

    put_image("env", "noeq", "[\"sha256:" HEX_A "\"]", "{\"Env\": [\"PATH=/bin\", \"FOO\"]}");
    load_fails("env:noeq", EINVAL, "Env entry without '='");
    put_image("env", "eqfirst", "[\"sha256:" HEX_A "\"]", "{\"Env\": [\"=foo\"]}");
    load_fails("env:eqfirst", EINVAL, "Env entry starting with '='");
    put_image("env", "notstr", "[\"sha256:" HEX_A "\"]", "{\"Env\": [\"A=1\", 2]}");
    load_fails("env:notstr", EINVAL, "Env entry that is not a string");
    put_image("env", "notarr", "[\"sha256:" HEX_A "\"]", "{\"Env\": \"A=1\"}");
    load_fails("env:notarr", EINVAL, "Env that is not an array");
    put_image("env", "nul", "[\"sha256:" HEX_A "\"]", "{\"Cmd\": [\"a\\u0000b\"]}");
    load_fails("env:nul", EINVAL, "string with an embedded NUL");

    put_image("cfg", "relwd", "[\"sha256:" HEX_A "\"]", "{\"WorkingDir\": \"srv\"}");
    load_fails("cfg:relwd", EINVAL, "relative WorkingDir");
    put_image("cfg", "userint", "[\"sha256:" HEX_A "\"]", "{\"User\": 0}");
    load_fails("cfg:userint", EINVAL, "User that is not a string");
    put_image("cfg", "cfgarr", "[\"sha256:" HEX_A "\"]", "[]");
    load_fails("cfg:cfgarr", EINVAL, "config that is not an object");

    /* Bigger than 1 MiB, even though it would parse. */
    size_t big = 1024 * 1024 + 2;
    char *text = malloc(big);
    if (!text)
        bail_out("out of memory");
    memset(text, ' ', big);
    text[0] = '{';
    text[big - 1] = '}';
    snprintf(path, sizeof path, "%s/images/bad/huge.json", root);
    write_file(path, text, big);
    free(text);
    load_fails("bad:huge", EFBIG, "manifest over 1 MiB");

    snprintf(path, sizeof path, "%s/images/bad/dir.json", root);
    mkdirs(path);
    load_fails("bad:dir", 0, "manifest that is a directory");

    img = NULL;
    ok(wr_image_load("relative/root", "app:v1", &img, &err) < 0 && img == NULL,
       "relative store root is refused");
    wr_image_free(NULL); /* must be a no-op */
}

/* A manifest whose layers array is the unterminated list plus "]" (too
 * long for put_image's buffer). */
static void put_many(const char *tag, const char *layers)
{
    static char json[130 * 80 + 512];
    snprintf(json, sizeof json, "{\"schema\": 1, \"id\": \"" IMG_ID "\", \"layers\": %s]}", layers);
    put_manifest("many", tag, json);
}

/* 128 layers load; 129 are refused with a clear message. */
static void test_layer_limit(void)
{
    static char layers[130 * 80];
    char hex[65];
    wr_error err;
    size_t pos = 0;

    pos += (size_t)snprintf(layers + pos, sizeof layers - pos, "[");
    for (int i = 0; i < 129; i++) {
        snprintf(hex, sizeof hex, "%064x", i + 1);
        make_layer(hex);
        pos += (size_t)snprintf(layers + pos, sizeof layers - pos, "%s\"sha256:%s\"", i ? ", " : "",
                                hex);
        if (i == 127)
            put_many("l128", layers);
    }
    put_many("l129", layers);

    struct wr_image *img = load("many:l128", &err);
    ok(img && img->n_layers == 128, "128 layers load (%s)", img ? "" : err.msg);
    /* topmost first: layer 128 (hex ...80) leads */
    snprintf(hex, sizeof hex, "%064x", 128);
    ok(img && strstr(img->lowerdir, hex) == img->lowerdir + strlen(root) + 15,
       "the last listed layer leads the lowerdir");
    wr_image_free(img);
    img = load("many:l129", &err);
    ok(img == NULL && err.errnum == E2BIG && strstr(err.msg, "128"), "129 layers are refused: %s",
       err.msg);
    wr_image_free(img);
}

int main(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(root, sizeof root, "%s/wr-image-store-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(root))
        bail_out("mkdtemp %s: %s", root, strerror(errno));

    make_layer(HEX_A);
    make_layer(HEX_B);

    test_refs();
    test_root_valid();
    test_two_layers();
    test_defaults();
    test_failures();
    test_layer_limit();

    tap_rm_tree(root);
    return done_testing();
}
