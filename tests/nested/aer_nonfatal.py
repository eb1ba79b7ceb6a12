"""A non-fatal uncorrectable error (a poisoned TLP, non-fatal by default)
takes the spec's no-reset path (sections 7.2 and 7.10): L1's kernel recovers
without resetting anything, vhost-recover.ko sends L2 one ERROR_DETECTED
without the fatal flag and no RESET_DONE, and L2's nvme driver checks and
resumes through its AER callbacks, its data intact."""

import re

import nested
import pvr
from _common import assert_data_and_new_io, steps, write_pattern

NAME = "nested/aer-nonfatal"


def run():
    img = pvr.blank_disk(NAME, "nvme.img", size_mb=16)
    n = nested.Nested(NAME, img)
    try:
        n.boot(backend="vhost")
        data = write_pattern(n.l2, "/dev/nvme0n1")

        l1_mark = n.l0.mark()
        ev_mark = len(n.qmp2.events)
        n.inject_nonfatal()
        n.l0.wait_console(nested.AER_NONFATAL_LINE, 30, l1_mark)
        _, ack = n.qmp2.wait_event("PVRECOVER_ACK", 60, ev_mark, device="hostdev0",
                                   notice="error-detected")
        ack = ack["data"]
        pvr.check((ack["status"], ack["method"]) == ("recovered", "aer"),
                  "error-detected answered %r" % ack)
        # L1 recovered without a reset ...
        n.l0.wait_console(r"AER: device recovery successful", 30, l1_mark)
        # ... and the module sent one notice, without the fatal flag.
        n.wait_trace("notice_queued", 10, l1_mark, seq=ack["seq"],
                     type="error-detected", flags="")
        n.wait_trace("notice_sent", 10, l1_mark, seq=ack["seq"])
        pvr.check(len(n.traces("notice_queued", l1_mark)) == 1,
                  "notices queued: %r" % n.traces("notice_queued", l1_mark))

        # L2: error_detected(normal) then resume, no reset hooks, no reset.
        s = steps(n.l2, ack["seq"])
        pvr.check(s[:1] == ["error_detected"] and "resume" in s
                  and s[-1].startswith("recovered (aer)")
                  and not any(x in s for x in ("reset_prepare", "reset_done",
                                               "reset_function", "slot_reset")),
                  "error-detected steps %r" % s)
        assert_data_and_new_io(n.l2, "/dev/nvme0n1", data)

        # No second half: by now L1's recovery is long over and L2 has done
        # its I/O; whatever the module would send after it has been logged.
        dmesg = n.l1_dmesg()
        at = re.search(nested.AER_NONFATAL_LINE, dmesg)
        pvr.check(at, "L1's dmesg has no non-fatal error")
        since = dmesg[at.start():]
        pvr.check("Root Port link has been reset" not in since,
                  "L1 reset the link for a non-fatal error")
        lines = [l for l in since.splitlines() if "vhost-recover:" in l]
        pvr.check(not any("reset-done" in l or "perm-failure" in l
                          or ": fatal error" in l for l in lines),
                  "module lines %r" % lines)
        pvr.check([e["event"] for e in n.qmp2.events[ev_mark:]
                   if e["event"].startswith("PVRECOVER")] == ["PVRECOVER_ACK"],
                  "events %r" % n.qmp2.events[ev_mark:])
        q = n.qmp2.cmd("query-pvrecover")
        pvr.check(len(q) == 1 and q[0]["notices-sent"] == 1 and q[0]["acks"] == 1
                  and q[0]["timeouts"] == 0, "query-pvrecover %r" % q)
        nested.l2_running(n)
        n.l2.assert_kernel_healthy()
        n.l0.assert_kernel_healthy()
    finally:
        n.close()
