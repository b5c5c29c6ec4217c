/* Security profiles: defaults, options, validation and the shim encoding
 * (see security_profile.h). */
#include "security_profile.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>

static const char *const cap_names[] = {
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_ADMIN",
    "NET_RAW",
    "IPC_LOCK",
    "IPC_OWNER",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_CHROOT",
    "SYS_PTRACE",
    "SYS_PACCT",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_NICE",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "MKNOD",
    "LEASE",
    "AUDIT_WRITE",
    "AUDIT_CONTROL",
    "SETFCAP",
    "MAC_OVERRIDE",
    "MAC_ADMIN",
    "SYSLOG",
    "WAKE_ALARM",
    "BLOCK_SUSPEND",
    "AUDIT_READ",
    "PERFMON",
    "BPF",
    "CHECKPOINT_RESTORE",
};
#define N_CAPS ((int)(sizeof cap_names / sizeof cap_names[0]))

static const struct {
    const char *name;
    int resource;
} rlimit_names[] = {
    {"core", RLIMIT_CORE},         {"cpu", RLIMIT_CPU},
    {"data", RLIMIT_DATA},         {"fsize", RLIMIT_FSIZE},
    {"locks", RLIMIT_LOCKS},       {"memlock", RLIMIT_MEMLOCK},
    {"msgqueue", RLIMIT_MSGQUEUE}, {"nice", RLIMIT_NICE},
    {"nofile", RLIMIT_NOFILE},     {"nproc", RLIMIT_NPROC},
    {"rss", RLIMIT_RSS},           {"rtprio", RLIMIT_RTPRIO},
    {"rttime", RLIMIT_RTTIME},     {"sigpending", RLIMIT_SIGPENDING},
    {"stack", RLIMIT_STACK},       {"as", RLIMIT_AS},
};
#define N_RLIMITS (sizeof rlimit_names / sizeof rlimit_names[0])

uint64_t wr_default_capabilities(void)
{
    static const int docker[] = {
        CAP_CHOWN,   CAP_DAC_OVERRIDE, CAP_FSETID,           CAP_FOWNER,
        CAP_MKNOD,   CAP_NET_RAW,      CAP_SETGID,           CAP_SETUID,
        CAP_SETFCAP, CAP_SETPCAP,      CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT,
        CAP_KILL,    CAP_AUDIT_WRITE,
    };
    uint64_t mask = 0;
    for (size_t i = 0; i < sizeof docker / sizeof docker[0]; i++)
        mask |= 1ULL << docker[i];
    return mask;
}

static uint64_t all_capabilities(void)
{
    return (1ULL << N_CAPS) - 1;
}

void wr_security_profile_default(struct wr_security_profile *p)
{
    memset(p, 0, sizeof *p);
    p->caps = wr_default_capabilities();
    p->seccomp_mode = WR_SECCOMP_DEFAULT;
    p->umask = 022;
}

bool wr_security_profile_is_default(const struct wr_security_profile *p)
{
    struct wr_security_profile d;
    wr_security_profile_default(&d);
    return p->caps == d.caps && !p->privileged && !p->read_only &&
           p->seccomp_mode == WR_SECCOMP_DEFAULT && !p->user[0] && p->umask == d.umask &&
           p->n_ulimits == 0 && p->userns_size == 0;
}

int wr_capability_from_name(const char *name)
{
    if (strncasecmp(name, "CAP_", 4) == 0)
        name += 4;
    if (strcasecmp(name, "ALL") == 0)
        return -2;
    for (int i = 0; i < N_CAPS; i++)
        if (strcasecmp(name, cap_names[i]) == 0)
            return i;
    return -1;
}

const char *wr_capability_name(int cap)
{
    return cap >= 0 && cap < N_CAPS ? cap_names[cap] : NULL;
}

int wr_rlimit_from_name(const char *name)
{
    for (size_t i = 0; i < N_RLIMITS; i++)
        if (strcmp(name, rlimit_names[i].name) == 0)
            return rlimit_names[i].resource;
    return -1;
}

const char *wr_rlimit_name(int resource)
{
    for (size_t i = 0; i < N_RLIMITS; i++)
        if (rlimit_names[i].resource == resource)
            return rlimit_names[i].name;
    return NULL;
}

static int parse_limit(const char *s, uint64_t *out)
{
    if (strcmp(s, "unlimited") == 0 || strcmp(s, "-1") == 0) {
        *out = WR_RLIM_INFINITY;
        return 0;
    }
    char *end;
    errno = 0;
    if (!isdigit((unsigned char)s[0]))
        return -1;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v == ULLONG_MAX)
        return -1;
    *out = v;
    return 0;
}

/* "nofile=1024:2048", "nofile=1024" (hard = soft). */
static int add_ulimit(struct wr_security_profile *p, const char *spec, wr_error *err)
{
    char buf[128], *eq, *colon;
    struct wr_ulimit u;
    if (strlen(spec) >= sizeof buf || !(eq = strchr(strcpy(buf, spec), '=')))
        return wr_error_set(err, 0, "--ulimit %.64s: expected NAME=SOFT[:HARD]", spec);
    *eq = '\0';
    if ((u.resource = wr_rlimit_from_name(buf)) < 0)
        return wr_error_set(err, 0, "--ulimit: unknown limit \"%.32s\"", buf);
    if ((colon = strchr(eq + 1, ':')))
        *colon = '\0';
    if (parse_limit(eq + 1, &u.soft) < 0 || parse_limit(colon ? colon + 1 : eq + 1, &u.hard) < 0)
        return wr_error_set(err, 0, "--ulimit %.64s: limits are numbers or \"unlimited\"", spec);
    if (u.soft > u.hard)
        return wr_error_set(err, 0, "--ulimit %.64s: the soft limit exceeds the hard limit", spec);
    for (size_t i = 0; i < p->n_ulimits; i++)
        if (p->ulimits[i].resource == u.resource) {
            p->ulimits[i] = u;
            return 0;
        }
    if (p->n_ulimits >= WR_ULIMITS_MAX)
        return wr_error_set(err, 0, "more than %d ulimits", WR_ULIMITS_MAX);
    p->ulimits[p->n_ulimits++] = u;
    return 0;
}

/* uid[:gid] or name[:group]: letters, digits, '.', '_', '-', one ':'. */
static bool user_valid(const char *u)
{
    size_t n = strlen(u), colons = 0;
    if (n == 0 || n > WR_USER_MAX || u[0] == ':' || u[n - 1] == ':')
        return false;
    for (size_t i = 0; i < n; i++) {
        if (u[i] == ':')
            colons++;
        else if (!isalnum((unsigned char)u[i]) && u[i] != '.' && u[i] != '_' && u[i] != '-')
            return false;
    }
    return colons <= 1;
}

static bool seccomp_path_valid(const char *path)
{
    size_t n = strlen(path);
    if (n == 0 || n > WR_SECCOMP_MAX || path[0] != '/')
        return false;
    for (size_t i = 0; i < n; i++)
        if (path[i] == ';' || iscntrl((unsigned char)path[i]))
            return false;
    return true;
}

static int set_seccomp(struct wr_security_profile *p, const char *v, wr_error *err)
{
    if (strcmp(v, "unconfined") == 0) {
        p->seccomp_mode = WR_SECCOMP_UNCONFINED;
        p->seccomp[0] = '\0';
        return 0;
    }
    if (strcmp(v, "default") == 0) {
        p->seccomp_mode = WR_SECCOMP_DEFAULT;
        p->seccomp[0] = '\0';
        return 0;
    }
    if (!seccomp_path_valid(v))
        return wr_error_set(err, 0,
                            "seccomp=%.64s: expected unconfined, default or an absolute path "
                            "without ';' or control characters",
                            v);
    p->seccomp_mode = WR_SECCOMP_FILE;
    snprintf(p->seccomp, sizeof p->seccomp, "%s", v);
    return 0;
}

static bool userns_overlaps_owners(uint64_t base, uint64_t size)
{
    return base < (uint64_t)WR_USERNS_OWNER_BASE + WR_USERNS_OWNER_COUNT &&
           WR_USERNS_OWNER_BASE < base + size;
}

/* auto | host | BASE[:SIZE] */
static int set_userns(struct wr_security_profile *p, const char *v, wr_error *err)
{
    if (strcmp(v, "host") == 0 || strcmp(v, "") == 0) {
        p->userns_base = p->userns_size = 0;
        p->userns_explicit = v[0] != '\0';
        return 0;
    }
    if (strcmp(v, "auto") == 0) {
        p->userns_base = WR_USERNS_AUTO_BASE;
        p->userns_size = WR_USERNS_AUTO_SIZE;
        p->userns_explicit = true;
        return 0;
    }
    char *end;
    errno = 0;
    unsigned long long base = strtoull(v, &end, 10), size = WR_USERNS_AUTO_SIZE;
    if (!errno && end != v && *end == ':') {
        const char *s = end + 1;
        size = strtoull(s, &end, 10);
        if (end == s)
            errno = EINVAL;
    }
    if (errno || end == v || *end || !isdigit((unsigned char)v[0]) || base == 0 || size == 0 ||
        base + size > 0xffffffffULL)
        return wr_error_set(err, 0,
                            "--userns %.32s: expected auto, host or BASE[:SIZE] (a host uid "
                            "range above 0)",
                            v);
    if (userns_overlaps_owners(base, size))
        return wr_error_set(err, 0, "--userns %.32s: overlaps the namespace owners' uids %u-%u", v,
                            WR_USERNS_OWNER_BASE, WR_USERNS_OWNER_BASE + WR_USERNS_OWNER_COUNT - 1);
    p->userns_base = (uint32_t)base;
    p->userns_size = (uint32_t)size;
    p->userns_explicit = true;
    return 0;
}

int wr_security_option(struct wr_security_profile *p, const char *name, const char *value,
                       wr_error *err)
{
    bool flag = strcmp(name, "privileged") == 0 || strcmp(name, "read-only") == 0;
    if (flag != !value)
        return wr_error_set(err, 0, "--%s %s", name, flag ? "takes no value" : "needs a value");
    if (strcmp(name, "privileged") == 0) {
        p->privileged = true;
        p->caps = all_capabilities();
        return 0;
    }
    if (strcmp(name, "read-only") == 0) {
        p->read_only = true;
        return 0;
    }
    if (strcmp(name, "cap-add") == 0 || strcmp(name, "cap-drop") == 0) {
        int cap = wr_capability_from_name(value);
        if (cap == -1)
            return wr_error_set(err, 0, "--%s: unknown capability \"%.40s\"", name, value);
        uint64_t mask = cap == -2 ? all_capabilities() : 1ULL << cap;
        if (name[4] == 'a')
            p->caps |= mask;
        else
            p->caps &= ~mask;
        return 0;
    }
    if (strcmp(name, "security-opt") == 0) {
        if (strncmp(value, "seccomp=", 8) == 0 || strncmp(value, "seccomp:", 8) == 0)
            return set_seccomp(p, value + 8, err);
        if (strcmp(value, "no-new-privileges") == 0 ||
            strcmp(value, "no-new-privileges=true") == 0 ||
            strcmp(value, "no-new-privileges:true") == 0)
            return 0; /* always on */
        return wr_error_set(err, 0, "--security-opt %.64s: supported: seccomp=unconfined|PATH",
                            value);
    }
    if (strcmp(name, "user") == 0) {
        if (!user_valid(value))
            return wr_error_set(err, 0, "--user %.64s: expected uid[:gid] or name[:group]", value);
        snprintf(p->user, sizeof p->user, "%s", value);
        return 0;
    }
    if (strcmp(name, "ulimit") == 0)
        return add_ulimit(p, value, err);
    if (strcmp(name, "userns") == 0)
        return set_userns(p, value, err);
    if (strcmp(name, "umask") == 0) {
        char *end;
        errno = 0;
        unsigned long m = strtoul(value, &end, 8);
        if (errno || end == value || *end || m > 0777)
            return wr_error_set(err, 0, "--umask %.16s: expected an octal mask up to 0777", value);
        p->umask = (unsigned)m;
        return 0;
    }
    return wr_error_set(err, 0, "unknown security option \"%.32s\"", name);
}

int wr_security_profile_validate(const struct wr_security_profile *p, wr_error *err)
{
    if (p->caps & ~all_capabilities())
        return wr_error_set(err, 0, "unknown capability bits %#" PRIx64, p->caps);
    if (p->umask > 0777)
        return wr_error_set(err, 0, "umask %o out of range", p->umask);
    if (memchr(p->user, '\0', sizeof p->user) == NULL || (p->user[0] && !user_valid(p->user)))
        return wr_error_set(err, 0, "invalid user");
    if (memchr(p->seccomp, '\0', sizeof p->seccomp) == NULL)
        return wr_error_set(err, 0, "invalid seccomp path");
    switch (p->seccomp_mode) {
    case WR_SECCOMP_DEFAULT:
    case WR_SECCOMP_UNCONFINED:
        if (p->seccomp[0])
            return wr_error_set(err, 0, "seccomp mode takes no path");
        break;
    case WR_SECCOMP_FILE:
    case WR_SECCOMP_BPF:
        if (!seccomp_path_valid(p->seccomp))
            return wr_error_set(err, 0, "invalid seccomp path");
        break;
    default:
        return wr_error_set(err, 0, "invalid seccomp mode");
    }
    if (p->n_ulimits > WR_ULIMITS_MAX)
        return wr_error_set(err, 0, "too many ulimits");
    if ((p->userns_size == 0) != (p->userns_base == 0) ||
        (uint64_t)p->userns_base + p->userns_size > 0xffffffffULL ||
        (p->userns_size && userns_overlaps_owners(p->userns_base, p->userns_size)))
        return wr_error_set(err, 0, "invalid userns range");
    for (size_t i = 0; i < p->n_ulimits; i++) {
        const struct wr_ulimit *u = &p->ulimits[i];
        if (!wr_rlimit_name(u->resource) || u->soft > u->hard)
            return wr_error_set(err, 0, "invalid ulimit %zu", i);
        for (size_t j = 0; j < i; j++)
            if (p->ulimits[j].resource == u->resource)
                return wr_error_set(err, 0, "ulimit %s given twice", wr_rlimit_name(u->resource));
    }
    return 0;
}

static const char *const seccomp_modes[] = {"default", "unconfined", "file", "bpf"};

int wr_security_encode(const struct wr_security_profile *p, char *out, size_t cap, wr_error *err)
{
    if (wr_security_profile_validate(p, err) < 0)
        return -1;
    size_t used = 0;
    int n = snprintf(out, cap, "caps=%" PRIx64 ";privileged=%d;read_only=%d;seccomp=%s:%s;umask=%o",
                     p->caps, p->privileged, p->read_only, seccomp_modes[p->seccomp_mode],
                     p->seccomp, p->umask);
    if (n < 0 || (size_t)n >= cap)
        return wr_error_set(err, E2BIG, "security profile too long");
    used = (size_t)n;
    if (p->userns_size) {
        n = snprintf(out + used, cap - used, ";userns=%u:%u", p->userns_base, p->userns_size);
        if (n < 0 || (size_t)n >= cap - used)
            return wr_error_set(err, E2BIG, "security profile too long");
        used += (size_t)n;
    }
    if (p->user[0]) {
        n = snprintf(out + used, cap - used, ";user=%s", p->user);
        if (n < 0 || (size_t)n >= cap - used)
            return wr_error_set(err, E2BIG, "security profile too long");
        used += (size_t)n;
    }
    for (size_t i = 0; i < p->n_ulimits; i++) {
        char soft[24] = "unlimited", hard[24] = "unlimited";
        if (p->ulimits[i].soft != WR_RLIM_INFINITY)
            snprintf(soft, sizeof soft, "%" PRIu64, p->ulimits[i].soft);
        if (p->ulimits[i].hard != WR_RLIM_INFINITY)
            snprintf(hard, sizeof hard, "%" PRIu64, p->ulimits[i].hard);
        n = snprintf(out + used, cap - used, ";ulimit=%s:%s:%s",
                     wr_rlimit_name(p->ulimits[i].resource), soft, hard);
        if (n < 0 || (size_t)n >= cap - used)
            return wr_error_set(err, E2BIG, "security profile too long");
        used += (size_t)n;
    }
    return 0;
}

int wr_security_encode_for(const struct wr_security_profile *p, const char *image_user, char *out,
                           size_t cap, wr_error *err)
{
    struct wr_security_profile q = *p;
    if (!q.user[0] && image_user && image_user[0]) {
        if (!user_valid(image_user))
            return wr_error_set(
                err, 0, "the image's User \"%.64s\" is not uid[:gid] or name[:group]", image_user);
        snprintf(q.user, sizeof q.user, "%s", image_user);
    }
    return wr_security_encode(&q, out, cap, err);
}

static int decode_pair(struct wr_security_profile *p, const char *key, char *val, wr_error *err)
{
    char *end;
    errno = 0;
    if (strcmp(key, "caps") == 0) {
        p->caps = strtoull(val, &end, 16);
        return errno || end == val || *end ? wr_error_set(err, 0, "caps") : 0;
    }
    if (strcmp(key, "privileged") == 0 || strcmp(key, "read_only") == 0) {
        if (strcmp(val, "0") != 0 && strcmp(val, "1") != 0)
            return wr_error_set(err, 0, "%s", key);
        *(key[0] == 'p' ? &p->privileged : &p->read_only) = val[0] == '1';
        return 0;
    }
    if (strcmp(key, "umask") == 0) {
        unsigned long m = strtoul(val, &end, 8);
        if (errno || end == val || *end || m > 0777)
            return wr_error_set(err, 0, "umask");
        p->umask = (unsigned)m;
        return 0;
    }
    if (strcmp(key, "seccomp") == 0) {
        char *colon = strchr(val, ':');
        if (!colon)
            return wr_error_set(err, 0, "seccomp");
        *colon = '\0';
        size_t m;
        for (m = 0; m < 4; m++)
            if (strcmp(val, seccomp_modes[m]) == 0)
                break;
        if (m == 4 || strlen(colon + 1) > WR_SECCOMP_MAX)
            return wr_error_set(err, 0, "seccomp");
        p->seccomp_mode = (enum wr_seccomp_mode)m;
        snprintf(p->seccomp, sizeof p->seccomp, "%s", colon + 1);
        return 0;
    }
    if (strcmp(key, "user") == 0) {
        if (strlen(val) > WR_USER_MAX)
            return wr_error_set(err, 0, "user");
        snprintf(p->user, sizeof p->user, "%s", val);
        return 0;
    }
    if (strcmp(key, "ulimit") == 0) {
        /* name:soft:hard -> the option form name=soft:hard */
        char *colon = strchr(val, ':');
        if (!colon)
            return wr_error_set(err, 0, "ulimit");
        *colon = '=';
        return add_ulimit(p, val, err);
    }
    if (strcmp(key, "userns") == 0)
        return set_userns(p, val, err);
    return wr_error_set(err, 0, "unknown key \"%.32s\"", key);
}

int wr_security_decode(const char *text, struct wr_security_profile *p, wr_error *err)
{
    char buf[WR_PROFILE_TEXT];
    wr_security_profile_default(p);
    if (strlen(text) >= sizeof buf)
        return wr_error_set(err, 0, "security profile too long");
    strcpy(buf, text);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ";", &save); tok; tok = strtok_r(NULL, ";", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq)
            return wr_error_set(err, 0, "security profile: \"%.32s\" is not key=value", tok);
        *eq = '\0';
        if (decode_pair(p, tok, eq + 1, err) < 0)
            return wr_error_prefix(err, "security profile");
    }
    if (wr_security_profile_validate(p, err) < 0)
        return wr_error_prefix(err, "security profile");
    return 0;
}
