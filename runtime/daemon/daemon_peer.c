/* Who may use the control socket: root, and with `daemon --socket-group G`
 * the members of G (primary or supplementary group of the peer when it
 * connected: SO_PEERCRED, SO_PEERGROUPS). Checked with SO_PEERCRED
 * on every connection; the socket file's mode (0600, or 0660 root:G) is
 * the first gate. Membership of G is root-equivalent: a member can run a
 * --privileged container. */
#include "daemon_peer.h"

#include <sys/socket.h>

/* SO_PEERGROUPS: the peer's supplementary groups as of its connect(). */
static bool in_peer_groups(int fd, gid_t gid)
{
    gid_t groups[256];
    socklen_t len = sizeof groups;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0)
        return false;
    for (size_t i = 0; i < len / sizeof groups[0]; i++)
        if (groups[i] == gid)
            return true;
    return false;
}

bool daemon_peer_allowed(const struct daemon *d, int fd)
{
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
        return false;
    if (cred.uid == 0)
        return true;
    if (!d->socket_group)
        return false;
    return cred.gid == d->socket_gid || in_peer_groups(fd, d->socket_gid);
}
