"""A planned reset whose guest does not answer: L2 is paused (QMP stop), so
it takes no notice and answers nothing.  The host does not wait for it: the
reset is due when the deadline passes, not later, L1's QEMU resets the nvme
and reports the deadline hit, and L1 stays responsive throughout.  The
prepare-reset L2 never took is merged with its reset-done into one
state-lost (spec 7.5); once L2 runs again it recovers the nvme from that,
data intact."""

import nested
import pvr
from _common import assert_data_and_new_io, steps, write_pattern

NAME = "nested/planned-reset-deadline"
DEADLINE_MS = 3000
# How late the module may make the reset due, on L1's clock: its deadline
# is an hrtimer, so what remains is the scheduling of one work item.  (A
# timer-wheel timeout of 3 s may fire up to 256 ms late at HZ=250; about
# 100 ms was seen here before the module used an hrtimer.)
LATE_MS = 250


def run():
    img = pvr.blank_disk(NAME, "nvme.img", size_mb=16)
    n = nested.Nested(NAME, img, l0_trace=("pci_nvme_pci_reset",))
    try:
        # The prepare-reset must not time out before the deadline passes.
        n.boot(backend="vhost", ack_timeout_ms=60000, trace=("vfio_pci_reset_flr",))
        data = write_pattern(n.l2, "/dev/nvme0n1")
        # L2's QEMU reset the function once already, when it started L2.
        flr_mark = len(n.l2_qemu_trace("vfio_pci_reset_flr"))
        l0_resets = n.l0_trace("pci_nvme_pci_reset")
        n.qmp2.cmd("stop")

        l1_mark = n.l0.mark()
        ev_mark = len(n.qmp2.events)
        plan = n.plan_reset("hostdev0", DEADLINE_MS)
        pvr.check(plan["functions"] == 1 and plan["deadline-ms"] == DEADLINE_MS,
                  "pvrecover-reset returned %r" % plan)
        start = n.wait_module(r"planned reset of 1 function\(s\), deadline %d ms"
                              % DEADLINE_MS, 10, l1_mark)
        seq = n.wait_trace("notice_queued", 10, l1_mark, type="prepare-reset",
                           deadline_ms=DEADLINE_MS)["seq"]
        # L1 answers at once while the reset waits for its deadline.
        nested.l1_answers(n)

        _, reset = n.qmp2.wait_event("PVRECOVER_RESET", DEADLINE_MS / 1000 + 60,
                                     ev_mark, device="hostdev0")
        r = reset["data"]
        pvr.check((r["deadline-hit"], r["answered"], r["functions"], r["success"]) ==
                  (True, 0, 1, True), "PVRECOVER_RESET %r" % r)
        due = n.wait_module(r"planned reset due: deadline %d ms passed \((\d+) ms\), "
                            r"0 of 1 function\(s\) answered" % DEADLINE_MS, 10, l1_mark)
        waited = int(due.group(1))
        t_wait = n.ktime(due) - n.ktime(start)
        pvr.check(DEADLINE_MS <= waited < DEADLINE_MS + LATE_MS and
                  DEADLINE_MS / 1000 - 0.01 <= t_wait < (DEADLINE_MS + LATE_MS) / 1000,
                  "reset due after %d ms (%.3f s on L1's clock), deadline %d ms"
                  % (waited, t_wait, DEADLINE_MS))
        pvr.check(DEADLINE_MS <= r["wait-ms"] < DEADLINE_MS + LATE_MS,
                  "QEMU reset after %d ms" % r["wait-ms"])
        n.log("reset due %d ms after the plan (deadline %d ms), QEMU reset after %d ms"
              % (waited, DEADLINE_MS, r["wait-ms"]))
        flr = n.l2_qemu_trace("vfio_pci_reset_flr")[flr_mark:]
        pvr.check(len(flr) == 1, "FLRs traced by L2's QEMU: %r" % flr)
        pvr.check(n.l0_trace("pci_nvme_pci_reset") == l0_resets + 1,
                  "L0's nvme was not reset once")
        n.wait_module(r"planned reset done, seq %d reset-done queued "
                      r"\(merged into state-lost\)" % seq, 10, l1_mark)
        # Nothing from L2 meanwhile: it was paused all along.
        st = n.qmp2.cmd("query-status")
        pvr.check(st["status"] == "paused", "L2 status %r" % st)
        pvr.check(not any(e["event"].startswith("PVRECOVER_ACK")
                          for e in n.qmp2.events[ev_mark:]),
                  "an answer or timeout while L2 was paused")
        nested.l1_answers(n)

        n.qmp2.cmd("cont")
        _, ack = n.qmp2.wait_event("PVRECOVER_ACK", 60, ev_mark, device="hostdev0")
        a = ack["data"]
        pvr.check((a["seq"], a["notice"], a["status"], a["method"]) ==
                  (seq, "state-lost", "recovered", "reset-hooks"), "answer %r" % a)
        s = steps(n.l2, seq)
        pvr.check(s[:2] == ["reset_prepare", "reset_done"], "state-lost steps %r" % s)

        assert_data_and_new_io(n.l2, "/dev/nvme0n1", data)
        n.l2.assert_kernel_healthy()
        n.l0.assert_kernel_healthy()
    finally:
        n.close()
