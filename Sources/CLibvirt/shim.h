// Umbrella header for libvirt's public C API (libvirt-dev). Only the Libvirt
// Swift module imports this.
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
