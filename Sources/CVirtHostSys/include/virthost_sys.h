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

/// Sets the calling thread's name as the kernel shows it (`top -H`, perf,
/// /proc/PID/task/TID/comm): at most 15 bytes are kept. pthread_setname_np
/// is another _GNU_SOURCE declaration. Returns 0 or an errno value.
int virthost_set_thread_name(const char *name);

#endif
