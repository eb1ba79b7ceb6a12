"""pvrecover.ko is unloaded in L2 when the error comes (L1's QEMU stops
the kernel backend's virtqueues): vhost-recover.ko keeps the notices, and
as L2 has taken no buffer it merges error-detected and reset-done into one
state-lost (spec 7.5).  When the driver is loaded again QEMU restarts the
backend, the notice is delivered and L2's nvme recovers, data intact."""

import nested
import pvr
from _common import assert_data_and_new_io, steps, write_pattern

NAME = "nested/vhost-driver-reload"


def run():
    img = pvr.blank_disk(NAME, "nvme.img", size_mb=16)
    n = nested.Nested(NAME, img)
    try:
        n.boot(backend="vhost", ack_timeout_ms=60000)
        data = write_pattern(n.l2, "/dev/nvme0n1")
        n.l2.run("rmmod pvrecover")

        l1_mark = n.l0.mark()
        ev_mark = len(n.qmp2.events)
        n.inject_fatal()
        ed = n.wait_trace("notice_queued", 30, l1_mark, type="error-detected",
                          flags="fatal")
        n.l0.wait_console(r"AER: device recovery successful", 30, l1_mark)
        rd = n.wait_module(r"host recovery finished in \d+ ms, seq (\d+) reset-done "
                           r"queued \(merged into state-lost\)", 30, l1_mark)
        seq = ed["seq"]
        pvr.check(int(rd.group(1)) == seq, "reset-done not merged: %s" % rd.group(0))
        n.wait_trace("notice_queued", 10, l1_mark, seq=seq, type="reset-done", merged=1,
                     carried="state-lost")
        pvr.check(not any(e["event"].startswith("PVRECOVER_ACK")
                          for e in n.qmp2.events[ev_mark:]),
                  "an answer or timeout before the driver came back")

        n.l2.run("modprobe pvrecover")
        _, ack = n.qmp2.wait_event("PVRECOVER_ACK", 60, ev_mark, device="hostdev0")
        ack = ack["data"]
        pvr.check((ack["seq"], ack["notice"], ack["status"], ack["method"]) ==
                  (seq, "state-lost", "recovered", "reset-hooks"),
                  "answer %r" % ack)
        s = steps(n.l2, seq)
        pvr.check(s[:2] == ["reset_prepare", "reset_done"], "state-lost steps %r" % s)

        assert_data_and_new_io(n.l2, "/dev/nvme0n1", data)
        nested.l2_running(n)
        n.l0.assert_kernel_healthy()
        n.l2.assert_kernel_healthy()
    finally:
        n.close()
