"""Interrupts after the host's link reset, for a function driver that keeps
its MSI-X vector across reset_done (tests/kmod/pvr_msix.ko, on a
virtio-balloon-pci function of L0 assigned to L2 through L1's vfio; L0's
QMP "balloon" command raises its vector).  L0 injects a fatal error above
it; L1 resets the link, which clears the function's MSI-X enable behind
the back of L2's QEMU, and vfio-pci in L1 restores none of it.  L2
recovers through reset_prepare/reset_done, and the function must
interrupt again without its driver requesting its vector anew: pvrecover
restores the configuration from the state a reset leaves (MSI-X
disabled), so that the restore's enable reaches L1's vfio as an enable."""

import nested
import pvr

NAME = "nested/msix-kept-vectors"
BDF = nested.BALLOON_BDF
IRQS = "/sys/bus/pci/devices/%s/irqs" % BDF


def interrupt(n, i, when):
    """Make L0 raise the function's vector and wait for L2's driver to
    count it."""
    before = int(n.l2.value("cat %s" % IRQS, r"(\d+)"))
    # Any new target changes the balloon's configuration.
    n.l0.qmp.cmd("balloon", value=(2048 - i) << 20)
    try:
        n.l2.wait_guest("[ $(cat %s) -gt %d ]" % (IRQS, before), 20)
    except pvr.TestFailure:
        raise pvr.TestFailure("no interrupt %s (count stays %d)" % (when, before))


def run():
    img = pvr.blank_disk(NAME, "nvme.img", size_mb=16)
    n = nested.Nested(NAME, img, balloon=True)
    try:
        n.boot(backend="vhost")
        n.l2.run("insmod /lib/modules/$(uname -r)/extra/pvr_msix.ko")
        n.l2.run("echo pvr_msix > /sys/bus/pci/devices/%s/driver_override && "
                 "{ [ ! -e /sys/bus/pci/devices/%s/driver ] || "
                 "echo %s > /sys/bus/pci/devices/%s/driver/unbind; } && "
                 "echo %s > /sys/bus/pci/drivers_probe" % ((BDF,) * 5))
        n.l2.wait_guest("[ -e /sys/bus/pci/drivers/pvr_msix/%s ]" % BDF, 30)
        interrupt(n, 1, "before the error")

        l1_mark = n.l0.mark()
        l2_mark = n.l2.mark()
        n.inject_fatal(port="rp2")
        p, d = nested.fatal_answers(n, 0, timeout=60, device="balloon0")
        pvr.check((p["status"], p["method"]) == ("prepared", "reset-hooks"),
                  "error-detected answered %r" % p)
        pvr.check((d["status"], d["method"]) == ("recovered", "reset-hooks"),
                  "reset-done answered %r" % d)
        n.l0.wait_console(r"AER: Root Port link has been reset", 10, l1_mark)
        n.l2.wait_console(r"pvr_msix: reset_prepare", 10, l2_mark)
        n.l2.wait_console(r"pvr_msix: reset_done: device ready", 10, l2_mark)

        for i in (2, 3):
            interrupt(n, i, "after the recovery")
        # The nvme beside it was not touched.
        pvr.check(not any(e["data"]["device"] == "hostdev0" for e in n.qmp2.events
                          if e["event"].startswith("PVRECOVER")),
                  "the nvme got notices")
        nested.l2_running(n)
        n.l2.assert_kernel_healthy()
        n.l0.assert_kernel_healthy()
    finally:
        n.close()
