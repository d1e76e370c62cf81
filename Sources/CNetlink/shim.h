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
#include <netlink/route/addr.h>
#include <netlink/route/route.h>
#include <netlink/route/nexthop.h>
#include <linux/rtnetlink.h>
#include <linux/if_addr.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <time.h>
#include <sys/socket.h>
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
    VH_NLM_F_CREATE = NLM_F_CREATE,
    VH_IFA_F_PERMANENT = IFA_F_PERMANENT,
    VH_IFA_F_SECONDARY = IFA_F_SECONDARY,
    VH_IFA_F_TENTATIVE = IFA_F_TENTATIVE,
    VH_IFA_F_DADFAILED = IFA_F_DADFAILED,
    VH_IFA_F_DEPRECATED = IFA_F_DEPRECATED,
    VH_RT_TABLE_MAIN = RT_TABLE_MAIN,
    VH_RT_TABLE_LOCAL = RT_TABLE_LOCAL,
    VH_RTPROT_KERNEL = RTPROT_KERNEL,
    VH_RTPROT_STATIC = RTPROT_STATIC,
    VH_RT_SCOPE_UNIVERSE = RT_SCOPE_UNIVERSE,
    VH_RT_SCOPE_LINK = RT_SCOPE_LINK,
    VH_RTN_UNICAST = RTN_UNICAST,
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

/// Sends ICMP (or ICMPv6) echo requests to `address` (4 or 16 bytes) out of
/// interface `ifname` until one is answered or `timeout_ms` passes, one
/// request every 200 ms. `scope_id` is the interface index for an IPv6
/// link-local target, else 0. Returns 0 when answered, -ETIMEDOUT when not,
/// or -errno when the socket cannot be made. Needs CAP_NET_RAW.
static inline int vh_icmp_echo(const unsigned char *address, int length, const char *ifname, unsigned scope_id, int timeout_ms) {
    int v6 = length == 16;
    int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_RAW | SOCK_CLOEXEC, v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP);
    if (fd < 0) return -errno;
    if (ifname && *ifname && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, (socklen_t)strlen(ifname) + 1) < 0) {
        int e = errno; close(fd); return -e;
    }
    struct sockaddr_storage to;
    memset(&to, 0, sizeof to);
    socklen_t tolen;
    if (v6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&to;
        a->sin6_family = AF_INET6; memcpy(&a->sin6_addr, address, 16); a->sin6_scope_id = scope_id; tolen = sizeof *a;
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&to;
        a->sin_family = AF_INET; memcpy(&a->sin_addr, address, 4); tolen = sizeof *a;
    }
    unsigned short ident = (unsigned short)(getpid() ^ (long)&to);
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    long next_send = 0;
    unsigned short seq = 0;
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        long elapsed = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
        if (elapsed >= timeout_ms) { close(fd); return -ETIMEDOUT; }
        if (elapsed >= next_send) {
            unsigned char packet[16];
            memset(packet, 0, sizeof packet);
            packet[0] = v6 ? 128 : 8;
            packet[4] = ident >> 8; packet[5] = ident & 0xff;
            seq++; packet[6] = seq >> 8; packet[7] = seq & 0xff;
            memcpy(packet + 8, "virthost", 8);
            if (!v6) {
                unsigned long sum = 0;
                for (int i = 0; i < 16; i += 2) sum += (packet[i] << 8) | packet[i + 1];
                while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
                unsigned short check = (unsigned short)~sum;
                packet[2] = check >> 8; packet[3] = check & 0xff;
            }
            (void)sendto(fd, packet, sizeof packet, 0, (struct sockaddr *)&to, tolen);
            next_send = elapsed + 200;
        }
        long wait = next_send - elapsed;
        if (wait > timeout_ms - elapsed) wait = timeout_ms - elapsed;
        struct pollfd p = { .fd = fd, .events = POLLIN };
        if (poll(&p, 1, (int)(wait > 0 ? wait : 1)) <= 0) continue;
        unsigned char reply[1500];
        struct sockaddr_storage from;
        socklen_t fromlen = sizeof from;
        ssize_t n = recvfrom(fd, reply, sizeof reply, 0, (struct sockaddr *)&from, &fromlen);
        if (n <= 0) continue;
        unsigned char *icmp = reply;
        if (!v6) {
            int ihl = (reply[0] & 0x0f) * 4;
            if (n < ihl + 8) continue;
            icmp = reply + ihl; n -= ihl;
            if (memcmp(&((struct sockaddr_in *)&from)->sin_addr, address, 4) != 0) continue;
        } else {
            if (n < 8) continue;
            if (memcmp(&((struct sockaddr_in6 *)&from)->sin6_addr, address, 16) != 0) continue;
        }
        if (icmp[0] == (v6 ? 129 : 0) && ((icmp[4] << 8) | icmp[5]) == ident) { close(fd); return 0; }
    }
}

#endif
