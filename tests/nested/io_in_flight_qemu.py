"""nested/io-in-flight through QEMU's userspace device instead of
vhost-recover.ko: the same writers through the same errors and planned
reset.  That device resets the function itself vfio-reset-delay-ms after
the vfio error, and treats a non-fatal error like a fatal one."""

from io_in_flight import run_rounds

NAME = "nested/io-in-flight-qemu"


def run():
    run_rounds(NAME, "virtio")
