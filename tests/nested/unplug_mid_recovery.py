"""L2 unplugs its assigned nvme in the middle of a recovery.  With QEMU's
userspace device, which resets a vfio function vfio-reset-delay-ms after
the error (set to 20 s here), L0's fatal error leaves L2's nvme quiesced
through reset_prepare, waiting for reset-done.  Then L2's QEMU unplugs it
(QMP device_del, L2's pciehp removes it): the unplug completes, QEMU drops
the reset it had pending and sends no reset-done, L2's pvrecover.ko lets
the function go (its module unloads), and both guests stay healthy and
running."""

import nested
import pvr
from _common import write_pattern

NAME = "nested/unplug-mid-recovery"


def run():
    img = pvr.blank_disk(NAME, "nvme.img", size_mb=16)
    n = nested.Nested(NAME, img)
    try:
        n.boot(backend="virtio", props={"vfio-reset-delay-ms": 20000})
        write_pattern(n.l2, "/dev/nvme0n1")

        l1_mark = n.l0.mark()
        n.inject_fatal()
        _, prep = n.qmp2.wait_event("PVRECOVER_ACK", 60, device="hostdev0",
                                    notice="error-detected")
        pvr.check((prep["data"]["status"], prep["data"]["method"]) ==
                  ("prepared", "reset-hooks"), "error-detected answered %r" % prep["data"])
        n.l0.wait_console(r"AER: device recovery successful", 30, l1_mark)

        # Quiesced, reset-done 20 s away: unplug it.
        ev_mark = len(n.qmp2.events)
        n.qmp2.cmd("device_del", id="hostdev0")
        n.qmp2.wait_event("DEVICE_DELETED", 60, ev_mark, device="hostdev0")
        n.l2.wait_guest("[ ! -e /sys/bus/pci/devices/0000:01:00.0 ]", 30)
        events = [e["event"] for e in n.qmp2.events[ev_mark:]
                  if e["event"].startswith("PVRECOVER")]
        pvr.check(not events, "events after the unplug: %r" % events)
        q = n.qmp2.cmd("query-pvrecover")
        pvr.check(q[0]["queued"] == 0, "query-pvrecover %r" % q)
        # Nothing of pvrecover's pins the removed function.
        n.l2.run("rmmod pvrecover")
        nested.l2_running(n)
        nested.l1_answers(n)
        n.l2.assert_kernel_healthy()
        n.l0.assert_kernel_healthy()
    finally:
        n.close()
