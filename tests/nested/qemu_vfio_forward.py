"""The whole chain with the QEMU userspace device: a fatal AER error
injected in L0 at the root port above the nvme is handled by L1's kernel
(link reset), vfio-pci signals L1's QEMU, which forwards it to L2 as
notices instead of stopping L2; L2's nvme driver recovers with its data."""

import nested
import pvr
from _common import assert_data_and_new_io, steps, write_pattern

NAME = "nested/qemu-vfio-forward"


def run():
    img = pvr.blank_disk(NAME, "nvme.img", size_mb=16)
    n = nested.Nested(NAME, img)
    try:
        n.boot()
        data = write_pattern(n.l2, "/dev/nvme0n1")

        l1_mark = n.l0.mark()
        n.inject_fatal()
        _, prep = n.qmp2.wait_event("PVRECOVER_ACK", 60, device="hostdev0",
                                    notice="error-detected")
        pvr.check((prep["data"]["status"], prep["data"]["method"]) ==
                  ("prepared", "reset-hooks"), "error-detected answered %r" % prep["data"])
        _, done = n.qmp2.wait_event("PVRECOVER_ACK", 60, device="hostdev0",
                                    notice="reset-done")
        pvr.check((done["data"]["status"], done["data"]["method"]) ==
                  ("recovered", "reset-hooks"), "reset-done answered %r" % done["data"])

        # L1's kernel really saw and recovered from the error ...
        n.l0.wait_console(nested.AER_FATAL_LINE, 10, l1_mark)
        rec = n.l0.wait_console(r"AER: device recovery successful", 10, l1_mark)
        # ... before L2 was told the device is usable again.
        # (Its trace line reaches the console a moment after the call: the
        # check below is only as strict as that lag.)
        done_line = pvr.wait_trace(n.l2, "pvrecover_callback_start", 10,
                                   seq=done["data"]["seq"], callback="reset_done")
        pvr.check(steps(n.l2, prep["data"]["seq"])[:1] == ["reset_prepare"],
                  "error-detected steps %r" % steps(n.l2, prep["data"]["seq"]))
        t_rec = n.line_time("l1k", rec.group(0))
        t_done = n.line_time("l2", done_line.m.group(0).strip())
        pvr.check(t_rec < t_done, "reset-done reached L2 (%.3f) before L1 finished "
                  "its recovery (%.3f)" % (t_done, t_rec))

        # Data intact, new I/O works, L2 never stopped.
        assert_data_and_new_io(n.l2, "/dev/nvme0n1", data)
        pvr.check(n.qmp2.cmd("query-status")["status"] == "running", "L2 not running")
        pvr.check(not any(e["event"] == "STOP" for e in n.qmp2.events), "L2 was paused")
        pvr.check("forwarded to the guest" in n.l2_qemu_log(), "L1's QEMU did not forward")
        n.l2.assert_kernel_healthy()
    finally:
        n.close()
