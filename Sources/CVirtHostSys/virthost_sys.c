// Linux calls Swift's Glibc module hides (see include/virthost_sys.h).
#define _GNU_SOURCE
#include <pthread.h>
#include <string.h>
#include "virthost_sys.h"

int virthost_set_thread_name(const char *name) {
    char truncated[16];
    strncpy(truncated, name, sizeof truncated - 1);
    truncated[sizeof truncated - 1] = 0;
    return pthread_setname_np(pthread_self(), truncated);
}
