"""A planned, two-phase reset through the host kernel backend: L1's QEMU
is asked (QMP pvrecover-reset) to reset the nvme it assigned to L2.
vhost-recover.ko sends L2 prepare-reset; L2's nvme driver quiesces through
reset_prepare and answers prepared; only then is the reset due, and L1's
QEMU resets the function for real (VFIO_DEVICE_RESET, an FLR) and reports
it; the module sends reset-done and L2's nvme comes back through
reset_done with its data.  The order is asserted on L1's clock: prepared
answered, then the FLR, then reset-done queued."""

import nested
import pvr
from _common import assert_data_and_new_io, steps, write_pattern

NAME = "nested/planned-reset"
DEADLINE_MS = 8000


def run():
    img = pvr.blank_disk(NAME, "nvme.img", size_mb=16)
    n = nested.Nested(NAME, img, l0_trace=("pci_nvme_pci_reset",))
    try:
        n.boot(backend="vhost", trace=("vfio_pci_reset_flr",))
        data = write_pattern(n.l2, "/dev/nvme0n1")

        # L2's QEMU reset the function once already, when it started L2.
        flr_mark = len(n.l2_qemu_trace("vfio_pci_reset_flr"))
        l0_resets = n.l0_trace("pci_nvme_pci_reset")
        l1_mark = n.l0.mark()
        plan = n.plan_reset("hostdev0", DEADLINE_MS)
        pvr.check(plan == {"deadline-ms": DEADLINE_MS, "bus-reset": False,
                           "functions": 1}, "pvrecover-reset returned %r" % plan)
        i_prep, prep = n.qmp2.wait_event("PVRECOVER_ACK", 60, device="hostdev0",
                                         notice="prepare-reset")
        i_reset, reset = n.qmp2.wait_event("PVRECOVER_RESET", 60, device="hostdev0")
        i_done, done = n.qmp2.wait_event("PVRECOVER_ACK", 60, device="hostdev0",
                                         notice="reset-done")
        p, r, d = prep["data"], reset["data"], done["data"]
        pvr.check((p["status"], p["method"]) == ("prepared", "reset-hooks"),
                  "prepare-reset answered %r" % p)
        pvr.check(r == {"recovery": "pvr0", "device": "hostdev0", "bus-reset": False,
                        "functions": 1, "answered": 1, "deadline-hit": False,
                        "wait-ms": r["wait-ms"], "success": True},
                  "PVRECOVER_RESET %r" % r)
        pvr.check(r["wait-ms"] < DEADLINE_MS, "reset waited %d ms" % r["wait-ms"])
        pvr.check((d["status"], d["method"]) == ("recovered", "reset-hooks"),
                  "reset-done answered %r" % d)
        pvr.check(i_prep < i_reset < i_done, "events out of order: prepared #%d, "
                  "reset #%d, reset-done #%d" % (i_prep, i_reset, i_done))

        # The module's side, in order: prepare queued and sent, answered,
        # due with every function answered, then reset-done after the reset.
        # Log lines and trace events are two streams: ordered on L1's clock.
        lines = [
            r"planned reset of 1 function\(s\), deadline %d ms" % DEADLINE_MS,
            ("notice_queued", dict(seq=p["seq"], type="prepare-reset",
                                   deadline_ms=DEADLINE_MS)),
            ("notice_sent", dict(seq=p["seq"])),
            ("notice_answered", dict(seq=p["seq"], type="prepare-reset",
                                     status="prepared")),
            r"planned reset due: all 1 function\(s\) answered in \d+ ms",
            r"planned reset done, seq %d reset-done queued" % d["seq"],
            ("notice_sent", dict(seq=d["seq"])),
        ]
        t = 0.0
        for what in lines:
            if isinstance(what, str):
                m = n.wait_module(what, 10, l1_mark)
            else:
                m = n.wait_trace(what[0], 10, l1_mark, **what[1])
            pvr.check(n.ktime(m) >= t, "%r at %.6f, before the step before it (%.6f)"
                      % (what, n.ktime(m), t))
            t = n.ktime(m)
        pvr.check(not any("deadline" in l and "passed" in l or "perm-failure" in l
                          or "timed_out" in l for l in n.module_lines(l1_mark)),
                  "module lines %r" % n.module_lines(l1_mark))

        # The function was really reset (an FLR through vfio), after the
        # answer and before the event, on L1's wall clock.
        flr = n.l2_qemu_trace("vfio_pci_reset_flr")[flr_mark:]
        pvr.check(len(flr) == 1 and flr[0][1].startswith(nested.NVME_BDF),
                  "FLRs traced by L2's QEMU: %r" % flr)
        t_prep, t_flr, t_reset = pvr.event_time(prep), flr[0][0], pvr.event_time(reset)
        pvr.check(t_prep <= t_flr <= t_reset,
                  "prepared answered at %.6f, FLR at %.6f, reset reported at %.6f"
                  % (t_prep, t_flr, t_reset))
        pvr.check(n.l0_trace("pci_nvme_pci_reset") == l0_resets + 1,
                  "L0's nvme was reset %d times, not once"
                  % (n.l0_trace("pci_nvme_pci_reset") - l0_resets))
        n.log("L1 wall clock from prepared: FLR %+.6f, reset reported %+.6f"
              % (t_flr - t_prep, t_reset - t_prep))

        # L2: quiesced through reset_prepare, back through reset_done.
        pvr.check(steps(n.l2, p["seq"]) == ["reset_prepare", "prepared (reset-hooks)"],
                  "prepare-reset steps %r" % steps(n.l2, p["seq"]))
        s = steps(n.l2, d["seq"])
        pvr.check(s[:1] == ["reset_done"] and len(s) == 2
                  and s[1].startswith("recovered (reset-hooks)"),
                  "reset-done steps %r" % s)

        assert_data_and_new_io(n.l2, "/dev/nvme0n1", data)
        nested.l2_running(n)
        pvr.check(not any(e["event"] == "PVRECOVER_ACK_TIMEOUT" for e in n.qmp2.events),
                  "a notice timed out")
        n.l2.assert_kernel_healthy()
        n.l0.assert_kernel_healthy()
    finally:
        n.close()
