/* The workload's user: "-u uid[:gid]" or "name[:group]", or the image's
 * User, resolved on the fill path against the container's own /etc/passwd
 * and /etc/group (never the host's), and taken on at activation, just
 * before the execve (three system calls). Docker's rules: a numeric uid
 * without a passwd entry runs with gid 0; supplementary groups are those
 * of /etc/group that list the user's name. */
#include "workload_user.h"

#include "cleanup.h"
#include "openat2.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Larger than any real account database; a bigger file is not read. */
#define DB_MAX_BYTES (16 << 20)

/* Opens /etc/passwd or /etc/group of the current root for reading. In a
 * container this runs as host root with every capability, on a file the
 * image controls: it is looked up inside the root and through no magic
 * link, must be a regular file (a FIFO would stall the fill) and must not
 * be a kernel interface (an image's "/etc/passwd -> /proc/kmsg" would have
 * host root drain the kernel log). NULL: absent or refused; *refused says
 * which, with err set. */
static FILE *open_db(const char *path, bool *refused, wr_error *err)
{
    *refused = false;
    struct open_how how = {
        .flags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC,
        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
    };
    cleanup_close int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root < 0)
        return NULL;
    cleanup_close int fd = wr_openat2(root, path, &how);
    if (fd < 0)
        return NULL;
    struct stat st;
    struct statfs fs;
    if (fstat(fd, &st) < 0 || fstatfs(fd, &fs) < 0 || !S_ISREG(st.st_mode) ||
        st.st_size > DB_MAX_BYTES || fs.f_type == PROC_SUPER_MAGIC || fs.f_type == SYSFS_MAGIC ||
        fs.f_type == CGROUP_SUPER_MAGIC || fs.f_type == CGROUP2_SUPER_MAGIC ||
        fs.f_type == DEVPTS_SUPER_MAGIC || fs.f_type == DEBUGFS_MAGIC ||
        fs.f_type == SECURITYFS_MAGIC || fs.f_type == TRACEFS_MAGIC) {
        *refused = true;
        wr_error_set(err, 0, "%s is not a regular file of the image: refused", path);
        return NULL;
    }
    FILE *fp = fdopen(fd, "r");
    if (fp)
        fd = -1; /* the stream owns it now */
    return fp;
}

static bool numeric(const char *s, unsigned long *out)
{
    char *end;
    if (!isdigit((unsigned char)s[0]))
        return false;
    errno = 0;
    *out = strtoul(s, &end, 10);
    return !errno && !*end && *out < 0xffffffffUL;
}

/* Splits a passwd or group line into at most max fields (in place). */
static size_t split(char *line, char **fields, size_t max)
{
    size_t n = 0;
    line[strcspn(line, "\n")] = '\0';
    while (n < max) {
        fields[n++] = line;
        char *colon = strchr(line, ':');
        if (!colon)
            break;
        *colon = '\0';
        line = colon + 1;
    }
    return n;
}

/* passwd: name:pw:uid:gid:gecos:home:shell matched by name or, when
 * numeric, by uid; home (cap WR_HOME_ENV_MAX) gets "HOME=<home>". */
static int find_passwd(const char *user, char *name, size_t cap, uid_t *uid, gid_t *gid, char *home,
                       bool *found, wr_error *err)
{
    char line[1024], *f[7];
    unsigned long num = 0;
    bool by_uid = numeric(user, &num);
    *found = false;
    bool refused;
    cleanup_fclose FILE *fp = open_db("/etc/passwd", &refused, err);
    if (!fp)
        return refused ? -1 : 0;
    while (fgets(line, sizeof line, fp)) {
        unsigned long u, g;
        size_t split_n = split(line, f, 7);
        if (split_n < 4 || !numeric(f[2], &u) || !numeric(f[3], &g))
            continue;
        if (by_uid ? u != num : strcmp(f[0], user) != 0)
            continue;
        snprintf(name, cap, "%s", f[0]);
        *uid = (uid_t)u;
        *gid = (gid_t)g;
        /* An entry without a home directory: "/", as without an entry. */
        if (split_n > 5 && f[5][0])
            snprintf(home, WR_HOME_ENV_MAX, "HOME=%s", f[5]);
        *found = true;
        return 0;
    }
    return 0;
}

int wr_group_id(const char *group, gid_t *gid, wr_error *err)
{
    char line[4096], *f[4];
    unsigned long num;
    if (numeric(group, &num)) {
        *gid = (gid_t)num;
        return 0;
    }
    bool refused;
    cleanup_fclose FILE *fp = open_db("/etc/group", &refused, err);
    if (!fp && refused)
        return -1;
    while (fp && fgets(line, sizeof line, fp)) {
        unsigned long g;
        if (split(line, f, 4) >= 3 && strcmp(f[0], group) == 0 && numeric(f[2], &g)) {
            *gid = (gid_t)g;
            return 0;
        }
    }
    return wr_error_set(err, 0, "unable to find group %s: no matching entries in group file",
                        group);
}

static void add_group(struct wr_workload_user *w, gid_t g)
{
    for (size_t i = 0; i < w->n_groups; i++)
        if (w->groups[i] == g)
            return;
    if (w->n_groups < WR_GROUPS_MAX)
        w->groups[w->n_groups++] = g;
}

static int member_groups(struct wr_workload_user *w, const char *name, wr_error *err)
{
    char line[4096], *f[4];
    bool refused;
    cleanup_fclose FILE *fp = open_db("/etc/group", &refused, err);
    if (!fp && refused)
        return -1;
    while (fp && fgets(line, sizeof line, fp)) {
        unsigned long g;
        if (split(line, f, 4) < 4 || !numeric(f[2], &g))
            continue;
        for (char *save = NULL, *m = strtok_r(f[3], ",", &save); m; m = strtok_r(NULL, ",", &save))
            if (strcmp(m, name) == 0)
                add_group(w, (gid_t)g);
    }
    return 0;
}

int wr_workload_user_resolve(const char *spec, struct wr_workload_user *w, wr_error *err)
{
    char user[256], name[256] = "";
    bool found;
    memset(w, 0, sizeof *w);
    snprintf(w->home_env, sizeof w->home_env, "HOME=/"); /* runc: no entry, "/" */
    snprintf(user, sizeof user, "%s", spec && spec[0] ? spec : "0");
    char *group = strchr(user, ':');
    if (group)
        *group++ = '\0';
    unsigned long num;
    if (find_passwd(user, name, sizeof name, &w->uid, &w->gid, w->home_env, &found, err) < 0)
        return -1;
    if (!found) {
        if (!numeric(user, &num))
            return wr_error_set(err, 0,
                                "unable to find user %s: no matching entries in passwd file", user);
        w->uid = (uid_t)num;
        w->gid = 0;
    }
    if (group && wr_group_id(group, &w->gid, err) < 0)
        return -1;
    add_group(w, w->gid);
    if (found && !group && member_groups(w, name, err) < 0)
        return -1;
    w->set = true;
    return 0;
}
