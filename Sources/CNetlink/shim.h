#ifndef VIRTHOST_CNETLINK_SHIM_H
#define VIRTHOST_CNETLINK_SHIM_H
// libnl-route-3 (Debian: libnl-route-3-dev) for rtnetlink, plus the few
// /dev/net/tun ioctls TAP devices need: their request numbers are macro
// expressions Swift does not import, and ioctl is variadic.
#include <netlink/netlink.h>
#include <netlink/errno.h>
#include <netlink/cache.h>
#include <netlink/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/vlan.h>
#include <netlink/route/link/bonding.h>
#include <netlink/route/link/veth.h>
#include <net/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <fcntl.h>
#include <unistd.h>
#include <string.h>
#include <errno.h>

enum {
    VH_IFF_UP = IFF_UP,
    VH_IFF_LOOPBACK = IFF_LOOPBACK,
    VH_IFF_TUN = IFF_TUN,
    VH_IFF_TAP = IFF_TAP,
    VH_IFF_NO_PI = IFF_NO_PI,
    VH_IFF_MULTI_QUEUE = IFF_MULTI_QUEUE,
    VH_IFF_PERSIST = IFF_PERSIST,
    VH_IFF_VNET_HDR = IFF_VNET_HDR,
    VH_NLM_F_CREATE_EXCL = NLM_F_CREATE | NLM_F_EXCL,
};

/// Creates a persistent TAP device (ip tuntap add mode tap). owner/group < 0
/// leave them unset. Returns 0 or -errno; on failure nothing is left behind
/// (the device only becomes persistent as the last step).
static inline int vh_tap_create(const char *name, int multi_queue, long owner, long group) {
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (fd < 0) return -errno;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | (multi_queue ? IFF_MULTI_QUEUE : 0);
    strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
    int result = 0;
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) result = -errno;
    if (result == 0 && owner >= 0 && ioctl(fd, TUNSETOWNER, (unsigned long)owner) < 0) result = -errno;
    if (result == 0 && group >= 0 && ioctl(fd, TUNSETGROUP, (unsigned long)group) < 0) result = -errno;
    if (result == 0 && ioctl(fd, TUNSETPERSIST, 1UL) < 0) result = -errno;
    close(fd);
    return result;
}

/// Clears a TUN/TAP device's persist flag (ip tuntap del): the device goes
/// away when its last user closes it, at once when it has none. `flags` are
/// the device's own (from /sys/class/net/NAME/tun_flags): attaching with a
/// different TUN/TAP or multi-queue flag fails. Returns 0 or -errno (-EBUSY:
/// a single-queue device is open by a process).
static inline int vh_tap_unpersist(const char *name, int flags) {
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (fd < 0) return -errno;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = (short)(flags & (IFF_TUN | IFF_TAP | IFF_NO_PI | IFF_MULTI_QUEUE | IFF_VNET_HDR));
    strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
    int result = 0;
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) result = -errno;
    if (result == 0 && ioctl(fd, TUNSETPERSIST, 0UL) < 0) result = -errno;
    close(fd);
    return result;
}

#endif
