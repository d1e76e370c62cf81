#ifndef VIRTHOST_LIBVIRT_VERSION_H
#define VIRTHOST_LIBVIRT_VERSION_H

/// The version of the libvirt headers this program was compiled with
/// (LIBVIR_VERSION_NUMBER: major * 1,000,000 + minor * 1,000 + micro).
///
/// It lets a program that does not link libvirt (the virthost CLI) say which
/// libvirt it was built against: the constant is fixed at compile time, from
/// the same headers the agent is compiled with.
unsigned long virthost_libvirt_headers_version(void);

#endif
