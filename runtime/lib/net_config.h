/* A container's network mode (`--network`) and the records of warmrun's
 * bridge networks (`warmrun network create`), kept as files under the
 * state directory: <state>/networks/NAME.net, key=value lines. The daemon,
 * a cold-starting CLI and the shims all read them; only the network
 * manager (runtime/daemon/daemon_network.c) writes them. */
#ifndef WARMRUN_NET_CONFIG_H
#define WARMRUN_NET_CONFIG_H

#include "error.h"
#include "net_cidr.h"

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>

#define WR_NET_NAME_MAX  24 /* the nftables table is "warmrun_" NAME */
#define WR_NET_MODE_TEXT (WR_NET_NAME_MAX + 8)

/* Docker's default bridge network, under warmrun's names. */
#define WR_NET_DEFAULT_NAME   "bridge"
#define WR_NET_DEFAULT_BRIDGE "warmrun0"
#define WR_NET_DEFAULT_SUBNET "10.88.0.0/16"

enum wr_net_kind {
    WR_NET_NONE,   /* a network namespace with lo only (the default) */
    WR_NET_HOST,   /* the host's network namespace */
    WR_NET_BRIDGE, /* a veth on a warmrun bridge network */
    WR_NET_CNI,    /* the CNI plugins of a conflist (`cni:NAME`) */
};

struct wr_net_mode {
    enum wr_net_kind kind;
    char name[WR_NET_NAME_MAX + 1]; /* the network's name (bridge), the conflist's (cni) */
};

/* Network names: a lower-case letter, then lower-case letters, digits and
 * '_' (they name an nftables table), at most WR_NET_NAME_MAX. */
bool wr_net_name_valid(const char *name);

/* CNI network names (the conflist's "name"): a letter or digit, then
 * letters, digits, '_', '.', '-' (the CNI spec's), at most WR_NET_NAME_MAX. */
bool wr_cni_name_valid(const char *name);

/* "none", "host", "bridge" (the default network), "bridge=NAME" or
 * "cni:NAME". NULL
 * or "" is none. Errors say what is accepted. */
int wr_net_mode_parse(const char *s, struct wr_net_mode *m, wr_error *err);
/* The canonical text (wr_net_mode_parse gives m back): out of
 * WR_NET_MODE_TEXT bytes. */
void wr_net_mode_format(const struct wr_net_mode *m, char *out);

struct wr_network {
    char name[WR_NET_NAME_MAX + 1];
    char bridge[IFNAMSIZ];
    struct wr_cidr subnet;
    uint32_t gateway; /* the bridge's address: the subnet's first */
};

/* The default network's record, before it exists. */
void wr_network_default(struct wr_network *n);
/* <state>/networks (made 0700 if missing when create is true). */
int wr_network_dir(const char *state_dir, bool create, char *out, size_t cap, wr_error *err);
/* Reads NAME's record. ENOENT: "no network NAME". */
int wr_network_load(const char *state_dir, const char *name, struct wr_network *n, wr_error *err);
/* Writes a new record (EEXIST if there is one), atomically (tmp + rename). */
int wr_network_save(const char *state_dir, const struct wr_network *n, wr_error *err);
/* Removes NAME's record, its lease file and its lock file. */
int wr_network_remove_record(const char *state_dir, const char *name, wr_error *err);
/* Every record, sorted by name; *out is malloc'd (free it). */
int wr_network_list(const char *state_dir, struct wr_network **out, size_t *count, wr_error *err);
/* Bridge interface names: 1 to 15 of [A-Za-z0-9_.-], not "." or "..". */
bool wr_ifname_valid(const char *name);

#endif
