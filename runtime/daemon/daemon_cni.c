/* See daemon_cni.h. The plugin protocol (CNI spec 1.0, "Execution
 * Protocol" and "Execution of Network Configurations"): each plugin of the
 * list is executed with CNI_COMMAND, CNI_CONTAINERID, CNI_NETNS,
 * CNI_IFNAME and CNI_PATH in its environment and its configuration on
 * stdin (the plugin's object with the list's name and cniVersion, the
 * previous plugin's result as prevResult, runtimeConfig for the
 * capabilities it declares); a result or an error JSON on stdout. */
#include "daemon_cni.h"

#include "lib/cleanup.h"
#include "lib/container_id.h"
#include "lib/net_config.h"
#include "lib/net_publish.h"
#include "lib/state_file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <stdbool.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CNI_DEFAULT_CONF_DIR "/etc/cni/net.d"
#define CNI_DEFAULT_PATH     "/usr/lib/cni"
#define CNI_TIMEOUT_MS       30000 /* per plugin: a hung plugin fails the fill */
#define CNI_OUTPUT_MAX       (1 << 20)

static void json_decref_p(json_t **j)
{
    if (*j)
        json_decref(*j);
}
#define cleanup_json __attribute__((cleanup(json_decref_p)))

static const char *env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    return v && *v ? v : fallback;
}

/* The conflist whose "name" is NAME in dir (files *.conflist, in name
 * order as libcni does). */
static json_t *load_conflist(const char *dir, const char *name, wr_error *err)
{
    struct dirent **names;
    int n = scandir(dir, &names, NULL, alphasort);
    if (n < 0)
        return wr_error_set(err, errno, "cni:%s: read the CNI configuration directory %s", name,
                            dir),
               NULL;
    json_t *found = NULL;
    for (int i = 0; i < n; i++) {
        size_t len = strlen(names[i]->d_name);
        if (!found && len > 9 && strcmp(names[i]->d_name + len - 9, ".conflist") == 0) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
            json_t *j = json_load_file(path, 0, NULL);
            const char *jn = json_string_value(json_object_get(j, "name"));
            if (jn && strcmp(jn, name) == 0)
                found = j;
            else if (j)
                json_decref(j);
        }
        free(names[i]);
    }
    free(names);
    if (!found)
        return wr_error_set(err, 0, "cni:%s: no conflist named %s in %s", name, name, dir), NULL;
    json_t *plugins = json_object_get(found, "plugins");
    if (!json_is_array(plugins) || json_array_size(plugins) == 0 ||
        !json_is_string(json_object_get(found, "cniVersion"))) {
        json_decref(found);
        return wr_error_set(err, 0, "cni:%s: the conflist needs cniVersion and plugins", name),
               NULL;
    }
    size_t i;
    json_t *p;
    json_array_foreach(plugins, i, p)
    {
        const char *type = json_string_value(json_object_get(p, "type"));
        if (!type || !*type || strchr(type, '/') || strcmp(type, "..") == 0) {
            json_decref(found);
            return wr_error_set(err, 0, "cni:%s: plugin %zu has no valid \"type\"", name, i), NULL;
        }
    }
    return found;
}

/* The executable TYPE in one of CNI_PATH's directories. */
static int find_plugin(const char *cni_path, const char *type, char *out, size_t cap, wr_error *err)
{
    const char *d = cni_path;
    while (*d) {
        size_t len = strcspn(d, ":");
        if (len && snprintf(out, cap, "%.*s/%s", (int)len, d, type) < (int)cap &&
            access(out, X_OK) == 0)
            return 0;
        d += len + (d[len] == ':');
    }
    return wr_error_set(err, 0, "plugin %s not found in CNI_PATH %s", type, cni_path);
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Writes conf to the plugin's stdin and reads its stdout until EOF, both
 * within the deadline. Returns the output (malloc'd) or NULL on timeout. */
static char *exchange(int in, int out, const char *conf, long long deadline, wr_error *err)
{
    size_t conf_len = strlen(conf), sent = 0, len = 0, cap = 4096;
    char *buf = malloc(cap);
    if (!buf)
        return wr_error_set(err, ENOMEM, "plugin output"), NULL;
    fcntl(in, F_SETFL, O_NONBLOCK);
    for (;;) {
        struct pollfd p[2] = {{.fd = out, .events = POLLIN}, {.fd = in, .events = POLLOUT}};
        long long left = deadline - now_ms();
        if (left <= 0) {
            free(buf);
            return wr_error_set(err, ETIMEDOUT, "timed out after %d s", CNI_TIMEOUT_MS / 1000),
                   NULL;
        }
        if (poll(p, in >= 0 ? 2 : 1, (int)left) < 0) {
            if (errno == EINTR)
                continue;
            free(buf);
            return wr_error_set(err, errno, "poll"), NULL;
        }
        if (in >= 0 && p[1].revents) {
            ssize_t w = write(in, conf + sent, conf_len - sent);
            if (w > 0)
                sent += (size_t)w;
            if (w < 0 && errno != EAGAIN && errno != EINTR)
                sent = conf_len; /* EPIPE: it does not read: its exit says why */
            if (sent == conf_len) {
                close(in);
                in = -1;
            }
        }
        if (p[0].revents) {
            if (len + 4096 > cap) {
                char *more = cap < CNI_OUTPUT_MAX ? realloc(buf, cap *= 2) : NULL;
                if (!more) {
                    free(buf);
                    if (in >= 0)
                        close(in);
                    return wr_error_set(err, EFBIG, "output too large"), NULL;
                }
                buf = more;
            }
            ssize_t r = read(out, buf + len, cap - len - 1);
            if (r == 0)
                break;
            if (r > 0)
                len += (size_t)r;
        }
    }
    if (in >= 0)
        close(in);
    buf[len] = '\0';
    return buf;
}

/* One plugin execution. *result: its stdout JSON for ADD (NULL for DEL).
 * Errors: "plugin TYPE: MSG" from its error JSON (msg, details, code), or
 * its exit status. */
static int exec_plugin(const char *cni_path, const char *command, const char *id, const char *netns,
                       json_t *conf, json_t **result, wr_error *err)
{
    const char *type = json_string_value(json_object_get(conf, "type"));
    char exe[4096], e_cmd[64], e_id[128], e_ns[4200], e_path[4200];
    if (result)
        *result = NULL;
    if (find_plugin(cni_path, type, exe, sizeof exe, err) < 0)
        return -1;
    cleanup_free char *text = json_dumps(conf, JSON_COMPACT);
    if (!text)
        return wr_error_set(err, ENOMEM, "plugin %s: configuration", type);
    snprintf(e_cmd, sizeof e_cmd, "CNI_COMMAND=%s", command);
    snprintf(e_id, sizeof e_id, "CNI_CONTAINERID=%s", id);
    snprintf(e_ns, sizeof e_ns, "CNI_NETNS=%s", netns ? netns : "");
    snprintf(e_path, sizeof e_path, "CNI_PATH=%s", cni_path);
    /* PATH: plugins run iptables and the like (portmap, bridge's ipMasq). */
    char *envp[] = {e_cmd,  e_id,
                    e_ns,   (char *)"CNI_IFNAME=eth0",
                    e_path, (char *)"PATH=/usr/sbin:/usr/bin:/sbin:/bin",
                    NULL};
    char *argv[] = {(char *)type, NULL};
    int in[2], out[2];
    /* A plugin that exits without reading its configuration must fail
     * alone, not kill the network manager with SIGPIPE. */
    signal(SIGPIPE, SIG_IGN);
    if (pipe2(in, O_CLOEXEC) < 0)
        return wr_error_set(err, errno, "pipe");
    if (pipe2(out, O_CLOEXEC) < 0) {
        close(in[0]);
        close(in[1]);
        return wr_error_set(err, errno, "pipe");
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    int rc = posix_spawn(&pid, exe, &fa, NULL, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    close(in[0]);
    close(out[1]);
    if (rc != 0) {
        close(in[1]);
        close(out[0]);
        return wr_error_set(err, rc, "plugin %s: run %s", type, exe);
    }
    wr_error xerr = {0};
    cleanup_free char *output = exchange(in[1], out[0], text, now_ms() + CNI_TIMEOUT_MS, &xerr);
    close(out[0]);
    if (!output)
        kill(pid, SIGKILL);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!output)
        return wr_error_set(err, 0, "plugin %s: %s", type, xerr.msg);
    cleanup_json json_t *j = json_loads(output, 0, NULL);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        const char *msg = json_string_value(json_object_get(j, "msg"));
        const char *details = json_string_value(json_object_get(j, "details"));
        json_int_t code = json_integer_value(json_object_get(j, "code"));
        if (msg)
            return wr_error_set(err, 0, "plugin %s: %s%s%s (CNI error %lld)", type, msg,
                                details && *details ? ": " : "", details ? details : "",
                                (long long)code);
        if (WIFSIGNALED(status))
            return wr_error_set(err, 0, "plugin %s: killed by signal %d", type, WTERMSIG(status));
        return wr_error_set(err, 0, "plugin %s: exit status %d", type, WEXITSTATUS(status));
    }
    if (result) {
        if (!json_is_object(j))
            return wr_error_set(err, 0, "plugin %s: its result is not a JSON object", type);
        *result = steal_pointer(&j);
    }
    return 0;
}

/* The plugin's configuration: its object, the list's name and
 * cniVersion, prevResult, runtimeConfig.portMappings when it declares the
 * capability and there are any. */
static json_t *plugin_conf(json_t *list, json_t *plugin, json_t *prev, json_t *ports)
{
    json_t *c = json_deep_copy(plugin);
    if (!c)
        return NULL;
    json_object_set(c, "name", json_object_get(list, "name"));
    json_object_set(c, "cniVersion", json_object_get(list, "cniVersion"));
    json_object_del(c, "capabilities");
    if (prev)
        json_object_set(c, "prevResult", prev);
    json_t *caps = json_object_get(plugin, "capabilities");
    if (json_is_true(json_object_get(caps, "portMappings")) && json_array_size(ports))
        json_object_set_new(c, "runtimeConfig", json_pack("{s:O}", "portMappings", ports));
    return c;
}

/* DEL for each plugin, in reverse order, each with prev (the ADD's result
 * or what it got to) as prevResult. Every plugin runs; the first error is
 * reported. */
static int run_del(json_t *list, const char *cni_path, const char *id, const char *netns,
                   json_t *prev, json_t *ports, wr_error *err)
{
    json_t *plugins = json_object_get(list, "plugins");
    int rc = 0;
    for (size_t i = json_array_size(plugins); i-- > 0;) {
        cleanup_json json_t *c = plugin_conf(list, json_array_get(plugins, i), prev, ports);
        wr_error e = {0};
        if (!c || exec_plugin(cni_path, "DEL", id, netns, c, NULL, &e) < 0)
            if (rc == 0) {
                rc = -1;
                *err = e;
            }
    }
    return rc;
}

static int record_path(const char *state_dir, const char *id, char *out, size_t cap, wr_error *err)
{
    if (!wr_container_id_valid(id))
        return wr_error_set(err, EINVAL, "\"%s\" is not a container id", id);
    int len = snprintf(out, cap, "%s/cni/%s.json", state_dir, id);
    if (len < 0 || (size_t)len >= cap)
        return wr_error_set(err, ENAMETOOLONG, "state dir %s", state_dir);
    return 0;
}

/* Atomically (tmp + rename): a reconciler reads either the old or the new. */
static int record_write(const char *path, json_t *rec, wr_error *err)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    if (json_dump_file(rec, tmp, JSON_COMPACT) < 0 || rename(tmp, path) < 0) {
        int e = errno;
        unlink(tmp);
        return wr_error_set(err, e ? e : EIO, "write %s", path);
    }
    return 0;
}

static json_t *port_mappings(char **specs, size_t count, wr_error *err)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < count; i++) {
        struct wr_publish p;
        if (wr_publish_parse(specs[i], &p, err) < 0) {
            json_decref(a);
            return NULL;
        }
        char ip[16];
        snprintf(ip, sizeof ip, "%u.%u.%u.%u", p.host_ip >> 24, (p.host_ip >> 16) & 255,
                 (p.host_ip >> 8) & 255, p.host_ip & 255);
        json_t *m = json_pack("{s:i,s:i,s:s}", "hostPort", p.host_port, "containerPort",
                              p.container_port, "protocol", p.udp ? "udp" : "tcp");
        if (m && p.host_ip)
            json_object_set_new(m, "hostIP", json_string(ip));
        json_array_append_new(a, m);
    }
    return a;
}

int daemon_cni_add(const char *state_dir, const char *name, const char *id, const char *netns,
                   pid_t holder, char **specs, size_t count, wr_error *err)
{
    char dir[4096], path[4200];
    uint64_t start;
    const char *conf_dir = env_or("WARMRUN_CNI_CONF_DIR", CNI_DEFAULT_CONF_DIR);
    const char *cni_path = env_or("WARMRUN_CNI_PATH", CNI_DEFAULT_PATH);
    if (!wr_cni_name_valid(name))
        return wr_error_set(err, EINVAL, "\"%s\" is not a CNI network name", name);
    cleanup_json json_t *list = load_conflist(conf_dir, name, err);
    cleanup_json json_t *ports = port_mappings(specs, count, err);
    if (!list || !ports)
        return -1;
    json_t *plugins = json_object_get(list, "plugins");
    size_t i;
    json_t *p;
    /* Every plugin present before anything is made. */
    json_array_foreach(plugins, i, p)
    {
        if (find_plugin(cni_path, json_string_value(json_object_get(p, "type")), path, sizeof path,
                        err) < 0)
            return wr_error_prefix(err, "cni:%s", name);
    }
    daemon_cni_reconcile(state_dir); /* a gone container's ports are free again */
    snprintf(dir, sizeof dir, "%s/cni", state_dir);
    if ((mkdir(dir, 0700) < 0 && errno != EEXIST) ||
        record_path(state_dir, id, path, sizeof path, err) < 0)
        return err->msg[0] ? -1 : wr_error_set(err, errno, "mkdir %s", dir);
    if (wr_proc_start_time(holder, &start, err) < 0)
        return -1;
    /* The record before the first ADD: whatever a killed shim leaves, a
     * reconciler finds and DELs. */
    cleanup_json json_t *rec =
        json_pack("{s:s,s:s,s:O,s:O,s:I,s:I}", "name", name, "cniPath", cni_path, "conflist", list,
                  "portMappings", ports, "pid", (json_int_t)holder, "start", (json_int_t)start);
    if (!rec || record_write(path, rec, err) < 0)
        return rec ? -1 : wr_error_set(err, ENOMEM, "cni record");
    cleanup_json json_t *prev = NULL;
    json_array_foreach(plugins, i, p)
    {
        cleanup_json json_t *c = plugin_conf(list, p, prev, ports);
        json_t *result = NULL;
        if (!c || exec_plugin(cni_path, "ADD", id, netns, c, &result, err) < 0) {
            /* The spec: DEL for the whole list after a failed ADD. */
            wr_error ignored;
            if (!c)
                wr_error_set(err, ENOMEM, "plugin configuration");
            run_del(list, cni_path, id, netns, prev, ports, &ignored);
            unlink(path);
            return wr_error_prefix(err, "cni:%s", name);
        }
        if (prev)
            json_decref(prev);
        prev = result;
    }
    json_object_set(rec, "result", prev);
    if (record_write(path, rec, err) < 0) {
        wr_error ignored;
        run_del(list, cni_path, id, netns, prev, ports, &ignored);
        unlink(path);
        return -1;
    }
    return 0;
}

/* A record of <state>/cni, read as a state file is (wr_fopen_regular: a
 * FIFO there would block the daemon's start); NULL when unreadable. */
static json_t *load_record(const char *path)
{
    cleanup_fclose FILE *f = wr_fopen_regular(path);
    return f ? json_loadf(f, 0, NULL) : NULL;
}

int daemon_cni_del(const char *state_dir, const char *id, const char *netns, wr_error *err)
{
    char path[4200];
    if (record_path(state_dir, id, path, sizeof path, err) < 0)
        return -1;
    cleanup_json json_t *rec = load_record(path);
    if (!rec) {
        if (access(path, F_OK) < 0)
            return 0;
        unlink(path); /* unreadable: nothing to DEL with */
        return wr_error_set(err, EINVAL, "%s: not a CNI record", path);
    }
    json_t *list = json_object_get(rec, "conflist");
    const char *cni_path = json_string_value(json_object_get(rec, "cniPath"));
    int rc = run_del(list, cni_path ? cni_path : CNI_DEFAULT_PATH, id, netns,
                     json_object_get(rec, "result"), json_object_get(rec, "portMappings"), err);
    if (rc < 0)
        wr_error_prefix(err, "cni:%s", json_string_value(json_object_get(rec, "name")));
    /* A DEL that failed is not retried: the spec's DEL is best effort, and
     * a record kept forever would hold nothing the plugins still track. */
    unlink(path);
    return rc;
}

/* Whether pid is still the process that started at start, and not a
 * zombie: a SIGKILLed shim whose parent (a killed daemon's heir) has not
 * reaped it yet is gone for our purpose. */
static bool holder_alive(pid_t pid, json_int_t start)
{
    return start >= 0 && wr_proc_alive_since(pid, (uint64_t)start);
}

void daemon_cni_reconcile(const char *state_dir)
{
    char dir[4096], path[4400];
    snprintf(dir, sizeof dir, "%s/cni", state_dir);
    cleanup_closedir DIR *d = opendir(dir);
    struct dirent *de;
    if (!d)
        return;
    while ((de = readdir(d))) {
        char id[64];
        size_t len = strlen(de->d_name);
        if (len < 6 || len - 5 >= sizeof id || strcmp(de->d_name + len - 5, ".json") != 0)
            continue;
        snprintf(id, sizeof id, "%.*s", (int)(len - 5), de->d_name);
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        cleanup_json json_t *rec = load_record(path);
        wr_error ignored;
        if (holder_alive((pid_t)json_integer_value(json_object_get(rec, "pid")),
                         json_integer_value(json_object_get(rec, "start"))))
            continue;
        daemon_cni_del(state_dir, id, NULL, &ignored);
    }
}
