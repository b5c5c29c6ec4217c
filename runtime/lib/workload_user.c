/* The workload's user: "-u uid[:gid]" or "name[:group]", or the image's
 * User, resolved on the fill path against the container's own /etc/passwd
 * and /etc/group (never the host's), and taken on at activation, just
 * before the execve (three system calls). Docker's rules: a numeric uid
 * without a passwd entry runs with gid 0; supplementary groups are those
 * of /etc/group that list the user's name. */
#include "workload_user.h"

#include "cleanup.h"

#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* passwd: name:pw:uid:gid:... matched by name or, when numeric, by uid. */
static int find_passwd(const char *user, char *name, size_t cap, uid_t *uid, gid_t *gid,
                       bool *found)
{
    char line[1024], *f[7];
    unsigned long num = 0;
    bool by_uid = numeric(user, &num);
    *found = false;
    cleanup_fclose FILE *fp = fopen("/etc/passwd", "re");
    if (!fp)
        return 0;
    while (fgets(line, sizeof line, fp)) {
        unsigned long u, g;
        if (split(line, f, 7) < 4 || !numeric(f[2], &u) || !numeric(f[3], &g))
            continue;
        if (by_uid ? u != num : strcmp(f[0], user) != 0)
            continue;
        snprintf(name, cap, "%s", f[0]);
        *uid = (uid_t)u;
        *gid = (gid_t)g;
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
    cleanup_fclose FILE *fp = fopen("/etc/group", "re");
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

static void member_groups(struct wr_workload_user *w, const char *name)
{
    char line[4096], *f[4];
    cleanup_fclose FILE *fp = fopen("/etc/group", "re");
    while (fp && fgets(line, sizeof line, fp)) {
        unsigned long g;
        if (split(line, f, 4) < 4 || !numeric(f[2], &g))
            continue;
        for (char *save = NULL, *m = strtok_r(f[3], ",", &save); m; m = strtok_r(NULL, ",", &save))
            if (strcmp(m, name) == 0)
                add_group(w, (gid_t)g);
    }
}

int wr_workload_user_resolve(const char *spec, struct wr_workload_user *w, wr_error *err)
{
    char user[256], name[256] = "";
    bool found;
    memset(w, 0, sizeof *w);
    snprintf(user, sizeof user, "%s", spec && spec[0] ? spec : "0");
    char *group = strchr(user, ':');
    if (group)
        *group++ = '\0';
    unsigned long num;
    find_passwd(user, name, sizeof name, &w->uid, &w->gid, &found);
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
    if (found && !group)
        member_groups(w, name);
    w->set = true;
    return 0;
}
