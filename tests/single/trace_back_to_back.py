"""Errors back to back, about 0.5 s apart: every notice is traced in the
guest (taken, each callback started and finished, answered), though the
kernel log keeps only one line per recovery, rate limited (10 per 5 s per
call site).  Before the tracepoints, the steps were log lines and the tests
lost them once the rate limit struck."""

import re
import time

import pvr
from _common import nvme_guest, read_digest, steps, write_pattern

NAME = "single/trace-back-to-back"
ROUNDS = 12
PACE_S = 0.5


def run():
    g, _ = nvme_guest(NAME)
    try:
        before = write_pattern(g, "/dev/nvme0n1")
        mark = g.mark()
        seqs = []
        for _ in range(ROUNDS):
            t = time.monotonic()
            at = len(g.qmp.events)
            # A real reset of the emulated nvme between the two notices.
            ed = g.notify("nvme0", "error-detected", fatal=True, reset=True)
            pvr.check(g.wait_ack(ed)["status"] == "prepared", "seq %d not prepared" % ed)
            _, ev = g.qmp.wait_event("PVRECOVER_ACK", 60, start=at, device="nvme0",
                                     notice="reset-done")
            pvr.check(ev["data"]["status"] == "recovered", "reset-done %r" % ev["data"])
            seqs += [ed, ev["data"]["seq"]]
            time.sleep(max(0.0, PACE_S - (time.monotonic() - t)))  # pacing only

        # Every notice: taken, its callback started and finished, answered.
        want = {"error-detected": ("reset_prepare", "prepared"),
                "reset-done": ("reset_done", "recovered")}
        for i, seq in enumerate(seqs):
            kind = "error-detected" if i % 2 == 0 else "reset-done"
            cb, status = want[kind]
            for event, fields in (("pvrecover_notice_received", {"type": kind}),
                                  ("pvrecover_callback_start", {"callback": cb}),
                                  ("pvrecover_callback_finish", {"callback": cb}),
                                  ("pvrecover_notice_answered",
                                   {"status": status, "method": "reset-hooks"})):
                pvr.wait_trace(g, event, 10, mark, seq=seq, **fields)
            pvr.check(steps(g, seq, mark)[0] == cb, "seq %d steps %r"
                      % (seq, steps(g, seq, mark)))

        # The kernel log: no line per step, at most one per recovery.
        klog = [l for l in g.console[mark:].splitlines()
                if re.match(r"^\[\s*\d+\.\d+\]", l) and "pvrecover" in l]
        per_step = [l for l in klog if re.search(r"reset_prepare|reset_done|prepared", l)]
        pvr.check(not per_step, "per-step kernel log lines: %r" % per_step[:3])
        recovered = [l for l in klog if "recovered (reset-hooks)" in l]
        pvr.check(0 < len(recovered) <= ROUNDS, "%d recovered lines for %d rounds"
                  % (len(recovered), ROUNDS))
        g.log("%d notices traced, %d recovery lines in the kernel log"
              % (len(seqs), len(recovered)))
        pvr.check(read_digest(g, "/dev/nvme0n1") == before, "data changed")
        g.assert_kernel_healthy()
    finally:
        g.close()
