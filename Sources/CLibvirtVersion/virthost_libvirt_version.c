// Only the macro is used: nothing here links against libvirt.
#include <libvirt/libvirt.h>
#include "virthost_libvirt_version.h"

unsigned long virthost_libvirt_headers_version(void) {
    return LIBVIR_VERSION_NUMBER;
}
