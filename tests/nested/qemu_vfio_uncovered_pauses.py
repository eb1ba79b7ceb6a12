"""Today's behaviour is kept for a function the recovery device does not
cover: the same AER error pauses L2 (internal-error), as stock QEMU does."""

import nested
import pvr

NAME = "nested/qemu-vfio-uncovered-pauses"


def run():
    img = pvr.blank_disk(NAME, "nvme.img", size_mb=16)
    n = nested.Nested(NAME, img)
    try:
        n.boot(cover=())
        n.inject_fatal()
        n.qmp2.wait_event("STOP", 60)
        st = n.qmp2.cmd("query-status")
        pvr.check(st["status"] == "internal-error", "L2 status %r" % st)
        pvr.check("Unrecoverable error detected" in n.l2_qemu_log(),
                  "L1's QEMU log lacks the vfio error")
        pvr.check(not any(e["event"] == "PVRECOVER_ACK" for e in n.qmp2.events),
                  "a notice went out for an uncovered function")
    finally:
        n.close()
