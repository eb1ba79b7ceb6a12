"""L2 without pvrecover.ko: nobody takes or answers the notices.  L1's
kernel still recovers the function, vhost-recover.ko still queues
RESET_DONE after it, nothing in L1 waits on L2 (spec 7.6), and the notices
time out after ack-timeout-ms and are reported to L1's QEMU."""

import re

import nested
import pvr

NAME = "nested/guest-silent"
ACK_TIMEOUT_MS = 2000


def run():
    img = pvr.blank_disk(NAME, "nvme.img", size_mb=16)
    n = nested.Nested(NAME, img)
    try:
        n.boot(backend="vhost", ack_timeout_ms=ACK_TIMEOUT_MS, pvrecover=False)
        pvr.check(not re.search(r"^pvrecover ", n.l2.run("cat /proc/modules"), re.M),
                  "pvrecover.ko loaded in L2")

        l1_mark = n.l0.mark()
        n.inject_fatal()
        n.l0.wait_console(r"AER: device recovery successful", 30, l1_mark)
        ed = n.wait_trace("notice_queued", 10, l1_mark, type="error-detected",
                          flags="fatal")
        rd = n.wait_module(r"host recovery finished in \d+ ms, seq (\d+) reset-done queued",
                           30, l1_mark)
        seqs = ed["seq"], int(rd.group(1))
        # With notices outstanding, L1 and L2's QEMU answer at once.
        took = nested.l1_answers(n, within=15)
        pvr.check(n.qmp2.cmd("query-status", timeout=15)["status"] == "running",
                  "L2 stopped")
        n.log("L1's shell answered in %.3f s with the notices outstanding" % took)

        # With no driver in L2 there are no noticeq buffers: both notices
        # wait in the module's queue, which may merge them into one
        # STATE_LOST under the first one's seq (spec 7.5).  Each notice
        # queued times out once, ack-timeout-ms after it was queued.
        if seqs[0] == seqs[1]:
            expect = {seqs[0]: ("state-lost", ed)}
        else:
            expect = {seqs[0]: ("error-detected", ed), seqs[1]: ("reset-done", rd)}
        for seq, (notice, queued) in sorted(expect.items()):
            n.qmp2.wait_event("PVRECOVER_ACK_TIMEOUT", 60, device="hostdev0",
                              seq=seq, notice=notice)
            to = n.wait_trace("notice_timed_out", 10, l1_mark, seq=seq, type=notice)
            waited = n.ktime(to) - n.ktime(queued)
            pvr.check(waited >= ACK_TIMEOUT_MS / 1000.0 - 0.01,
                      "seq %d timed out %.3f s after it was queued" % (seq, waited))
        timeouts = [e["data"] for e in n.qmp2.events
                    if e["event"] == "PVRECOVER_ACK_TIMEOUT"]
        pvr.check(len(timeouts) == len(expect), "timeouts reported: %r" % timeouts)
        q = n.qmp2.cmd("query-pvrecover")
        pvr.check(len(q) == 1 and q[0]["timeouts"] == len(expect) and q[0]["acks"] == 0,
                  "query-pvrecover %r" % q)
        pvr.check(not any(e["event"] == "PVRECOVER_ACK" for e in n.qmp2.events),
                  "an acknowledgment from an L2 without the driver")
        nested.l2_running(n)
        pvr.check(n.l2.run("echo alive", timeout=30) == "alive", "L2's shell stuck")
        nested.l1_answers(n, within=15)
        n.l0.assert_kernel_healthy()
    finally:
        n.close()
