#ifndef VIRTHOST_SYS_H
#define VIRTHOST_SYS_H
#include <stdint.h>

/// The layout of Linux's `struct ucred` (SO_PEERCRED), which glibc only
/// declares under _GNU_SOURCE and Swift's Glibc module therefore hides.
struct virthost_ucred {
    int32_t pid;
    uint32_t uid;
    uint32_t gid;
};

#endif
