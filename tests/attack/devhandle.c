/* A device node opened through another mount of its filesystem, for
 * tests/integration/102-review-fill.t. Built static: it runs in the test's
 * busybox image. The workload makes NODE (a character device MAJOR:MINOR)
 * where it may, then tries to open it twice: by its path (on a nodev mount
 * it must fail) and by its file handle through MOUNT, an open file of the
 * same filesystem whose mount allows devices (open_by_handle_at opens the
 * inode on MOUNT's mount, with MOUNT's flags). Prints one line:
 *
 *   devhandle NODE MAJOR MINOR MOUNT
 *     -> "path ERRNO handle ERRNO" (ERRNO "OK" when the open succeeded) */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static const char *errname(int rc)
{
    if (rc >= 0)
        return "OK";
    const char *n = strerrorname_np(errno);
    return n ? n : "?";
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: devhandle NODE MAJOR MINOR MOUNT\n");
        return 2;
    }
    const char *node = argv[1], *mnt = argv[4];
    if (mknod(node, S_IFCHR | 0600, makedev(atoi(argv[2]), atoi(argv[3]))) < 0 && errno != EEXIST) {
        printf("mknod %s\n", errname(-1));
        return 1;
    }
    int by_path = open(node, O_RDONLY);
    const char *path_result = errname(by_path);
    struct {
        struct file_handle fh;
        unsigned char bytes[128];
    } h = {.fh.handle_bytes = 128};
    int mount_id;
    int mnt_fd = open(mnt, O_RDONLY);
    if (mnt_fd < 0) {
        printf("path %s mount %s\n", path_result, errname(-1));
        return 1;
    }
    if (name_to_handle_at(AT_FDCWD, node, &h.fh, &mount_id, 0) < 0) {
        printf("path %s name_to_handle_at %s\n", path_result, errname(-1));
        return 1;
    }
    int by_handle = open_by_handle_at(mnt_fd, &h.fh, O_RDONLY);
    printf("path %s handle %s\n", path_result, errname(by_handle));
    return 0;
}
