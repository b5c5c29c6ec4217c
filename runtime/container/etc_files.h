/* The files a runtime provides in every container (etc_files.c):
 * /etc/hosts, /etc/hostname and /etc/resolv.conf, as Docker does. */
#ifndef WARMRUN_ETC_FILES_H
#define WARMRUN_ETC_FILES_H

#include "container.h"
#include "lib/error.h"

#include <stdint.h>

/* Writes the three files on the container's staging tmpfs (cfg->staging_dir,
 * already mounted) and bind-mounts each onto its name in root_fd's etc/,
 * before pivot_root. /etc must be a real directory (made 0755 if missing);
 * a target that is a symlink or another non-directory is replaced (unlinked
 * in the overlay: a whiteout in the container's upper layer, the image's
 * layers untouched), a directory is refused. Read-only with --read-only.
 * Keeps close-on-exec descriptors on hosts and hostname for
 * wr_etc_files_set_hostname. Errors: errno of the failing call. */
int wr_etc_files_setup(const struct wr_container_config *cfg, int root_fd, wr_error *err);

/* Reads the host's /etc/resolv.conf now (at most 4 KiB), for
 * wr_etc_files_setup to use instead of the file: for a pid 1 whose
 * mount namespace is about to become a copy of the mount template
 * (mnt_template.h), which holds no /etc. Missing or unreadable: as in
 * wr_etc_files_setup, nothing of it. */
void wr_etc_files_read_host(void);

/* At activation with --hostname: rewrites /etc/hosts and /etc/hostname
 * (through the descriptors kept at setup, so also under --read-only) to
 * name hostname. Two pwrite + ftruncate pairs. */
int wr_etc_files_set_hostname(const char *hostname, wr_error *err);

/* On a cni: network, once the shim knows eth0's address (host byte order;
 * 0: none, the file stays as it is): rewrites /etc/hosts through the kept
 * descriptor to name the hostname on it instead of 127.0.1.1; a later
 * wr_etc_files_set_hostname keeps it. One pwrite + ftruncate. */
int wr_etc_files_set_address(uint32_t address, wr_error *err);

#endif
