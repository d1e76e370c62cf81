#ifndef VIRTHOST_CLIBVIRT_SHIM_H
#define VIRTHOST_CLIBVIRT_SHIM_H
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <libvirt/libvirt-qemu.h>
#endif
