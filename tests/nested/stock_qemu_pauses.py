"""The baseline: with no recovery device at all, as with stock QEMU, the
fatal AER error that L1's kernel recovers from pauses L2 (internal-error),
and only a reset of L2 could bring it back."""

import nested
import pvr

NAME = "nested/stock-qemu-pauses"


def run():
    img = pvr.blank_disk(NAME, "nvme.img", size_mb=16)
    n = nested.Nested(NAME, img)
    try:
        n.boot(recovery=False)
        l1_mark = n.l0.mark()
        n.inject_fatal()
        n.qmp2.wait_event("STOP", 60)
        st = n.qmp2.cmd("query-status")
        pvr.check(st["status"] == "internal-error", "L2 status %r" % st)
        # L1 itself recovered: only L2 is lost.
        n.l0.wait_console(nested.AER_FATAL_LINE, 10, l1_mark)
        n.l0.wait_console(r"AER: device recovery successful", 30, l1_mark)
        pvr.check("Unrecoverable error detected" in n.l2_qemu_log(),
                  "L1's QEMU log lacks the vfio error")
        # cont is refused: the guest must be reset.
        r = n.qmp2.cmd_raw("cont")
        pvr.check("error" in r, "cont resumed a VM in internal-error: %r" % r)
        pvr.check(n.qmp2.cmd("query-status")["status"] == "internal-error",
                  "L2 left internal-error")
        pvr.check(not any(e["event"].startswith("PVRECOVER") for e in n.qmp2.events),
                  "a recovery event without a recovery device")
        pvr.check(not n.module_lines(), "vhost-recover.ko acted: %r" % n.module_lines())
        n.l0.assert_kernel_healthy()
    finally:
        n.close()
