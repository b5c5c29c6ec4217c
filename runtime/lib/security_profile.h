/* A pool's security profile: what a workload may do. One plain struct,
 * fixed-size (no allocation, so that it can travel in a fork child and be
 * fuzzed), built from CLI or API options, encoded into one argv string for
 * the shim, and applied by the container on the fill path. See
 * docs/security.md for what each setting weakens. */
#ifndef WARMRUN_SECURITY_PROFILE_H
#define WARMRUN_SECURITY_PROFILE_H

#include "error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WR_ULIMITS_MAX   16
#define WR_USER_MAX      255
#define WR_SECCOMP_MAX   1023
#define WR_PROFILE_TEXT  4096 /* room for an encoded profile */
#define WR_RLIM_INFINITY UINT64_MAX

enum wr_seccomp_mode {
    WR_SECCOMP_DEFAULT,    /* Docker's default profile */
    WR_SECCOMP_UNCONFINED, /* no filter */
    WR_SECCOMP_FILE,       /* a profile in Docker's JSON format: seccomp = its path */
    WR_SECCOMP_BPF,        /* already compiled: seccomp = path of the BPF program */
};

struct wr_ulimit {
    int resource; /* RLIMIT_* */
    uint64_t soft, hard;
};

struct wr_security_profile {
    uint64_t caps;   /* bounding = permitted = effective set of the workload */
    bool privileged; /* every capability, no seccomp, no masked paths */
    bool read_only;  /* the root filesystem is mounted read-only */
    enum wr_seccomp_mode seccomp_mode;
    char seccomp[WR_SECCOMP_MAX + 1];
    char user[WR_USER_MAX + 1]; /* "uid[:gid]" or names; "" = the image's User */
    unsigned umask;             /* of the workload; 022 by default */
    size_t n_ulimits;
    struct wr_ulimit ulimits[WR_ULIMITS_MAX];
    /* --userns: container uids and gids 0..size-1 are host base..base+size-1
     * (size 0: no user namespace). */
    uint32_t userns_base, userns_size;
    /* --userns was given (host included): a daemon's --userns-default does
     * not replace it. Not part of the shim encoding. */
    bool userns_explicit;
};

/* --userns=auto: a range no host account uses (documented in security.md). */
#define WR_USERNS_AUTO_BASE 1000000000U
#define WR_USERNS_AUTO_SIZE 65536U

/* Owners of the user namespaces (userns.h): host uid and gid
 * WR_USERNS_OWNER_BASE + the shim's pid (below PID_MAX_LIMIT, 2^22 on
 * 64-bit), so that each container's per-user kernel counts are its own. No
 * account uses them, and no --userns range may overlap them: a host
 * process running as a namespace's owner would hold every capability in
 * that namespace. */
#define WR_USERNS_OWNER_BASE  2000000000U
#define WR_USERNS_OWNER_COUNT 4194304U

/* Docker's 14 default capabilities. */
uint64_t wr_default_capabilities(void);
void wr_security_profile_default(struct wr_security_profile *p);
bool wr_security_profile_is_default(const struct wr_security_profile *p);

/* "NET_ADMIN", "CAP_NET_ADMIN", "net_admin" -> its number; "ALL" -> -2;
 * unknown -> -1. */
int wr_capability_from_name(const char *name);
const char *wr_capability_name(int cap);

/* Applies one option as the CLI takes it (docs/cli.md):
 *   cap-add NAME|ALL, cap-drop NAME|ALL, privileged, read-only,
 *   security-opt seccomp=unconfined|default|PATH, user SPEC, ulimit
 *   name=soft[:hard], umask OCTAL, userns auto|host|BASE[:SIZE].
 * value is NULL for flags. Capabilities: drops and adds apply in order. */
int wr_security_option(struct wr_security_profile *p, const char *name, const char *value,
                       wr_error *err);

/* Checks every field (a decoded or parsed profile is never trusted). */
int wr_security_profile_validate(const struct wr_security_profile *p, wr_error *err);

/* One line of "key=value;" pairs, the shim's --security argument. */
int wr_security_encode(const struct wr_security_profile *p, char *out, size_t cap, wr_error *err);
/* The same, with image_user (the image config's User) as the user when the
 * profile names none. */
int wr_security_encode_for(const struct wr_security_profile *p, const char *image_user, char *out,
                           size_t cap, wr_error *err);
int wr_security_decode(const char *text, struct wr_security_profile *p, wr_error *err);

/* ulimit names (nofile, nproc, ...) <-> RLIMIT_* */
int wr_rlimit_from_name(const char *name);
const char *wr_rlimit_name(int resource);

#endif
