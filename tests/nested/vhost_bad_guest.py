"""A hostile L2 driver against the kernel backend: in place of pvrecover.ko,
tests/kmod/pvr_badguest.ko writes acknowledgments vhost-recover.ko must
never trust (wrong sizes, device-writable, values out of range, answers to
notices never sent, a flood of 5000), puts two unusable buffers (one
device-readable, one too short) ahead of its good ones on noticeq, and
answers a real notice with a wrong echo.  The module counts the answers,
reports none of them to L1's QEMU as an acknowledgment, gives the bad
buffers back empty and still delivers the notice in the next good one,
touches no device, and L1 stays healthy."""

import nested
import pvr
from _common import read_digest, write_pattern

NAME = "nested/vhost-bad-guest"
MALFORMED = 7       # see tests/kmod/pvr_badguest.c
UNSENT = 1          # an answer to seq 0, which no notice carries
FLOOD = 5000


def run():
    img = pvr.blank_disk(NAME, "nvme.img", size_mb=16)
    n = nested.Nested(NAME, img)
    try:
        n.boot(backend="vhost", pvrecover=False, ack_timeout_ms=2000)
        data = write_pattern(n.l2, "/dev/nvme0n1")
        mark = n.l2.mark()
        n.l2.run("insmod /lib/modules/$(uname -r)/extra/pvr_badguest.ko flood=%d "
                 "bad_notice_bufs=1"
                 % FLOOD)
        m = n.l2.wait_console(r"pvr_badguest: done (\d+)\r?\n", 300, mark)
        pvr.check(int(m.group(1)) == MALFORMED + UNSENT + FLOOD,
                  "posted %s acks" % m.group(1))

        # The module took every ack (pvr_badguest waited for that).
        q = n.qmp2.cmd("query-pvrecover")[0]
        pvr.check(q["malformed-acks"] == MALFORMED, "malformed %r" % q)
        pvr.check(q["unmatched-acks"] == UNSENT + FLOOD, "unmatched %r" % q)
        pvr.check(q["acks"] == 0, "acks trusted: %r" % q)

        # A real error: the notice is answered with a wrong echo, so it is
        # counted as invalid, stays outstanding and times out.
        l1_mark = n.l0.mark()
        ev_mark = len(n.qmp2.events)
        n.inject_nonfatal()
        seq = n.wait_trace("notice_queued", 60, l1_mark, type="error-detected",
                           flags="")["seq"]
        # The two bad buffers came back empty; the notice took the next one.
        for what in (r"1 readable, 0 writable descriptors, 0 bytes",
                     r"0 readable, 1 writable descriptors, 16 bytes"):
            n.l0.wait_console(r"vhost-recover: noticeq: unusable buffer \(%s\), "
                              r"given back empty" % what, 30, l1_mark)
        n.l2.wait_console(r"(?s)notice buffer given back with 0 bytes.*"
                          r"notice buffer given back with 0 bytes", 30, mark)
        n.l2.wait_console(r"answering seq %d with a wrong echo" % seq, 30, mark)
        n.qmp2.wait_event("PVRECOVER_ACK_TIMEOUT", 30, ev_mark, seq=seq)
        n.wait_trace("notice_timed_out", 10, l1_mark, seq=seq)
        pvr.check(not n.traces("notice_answered", l1_mark),
                  "answers traced: %r" % n.traces("notice_answered", l1_mark))
        q = n.qmp2.cmd("query-pvrecover")[0]
        pvr.check(q["malformed-acks"] == MALFORMED + 1 and q["acks"] == 0,
                  "wrong echo %r" % q)
        pvr.check(not any(e["event"] == "PVRECOVER_ACK" for e in n.qmp2.events),
                  "a bad ack was reported")

        # Nothing acted on the nvme; both levels carry on.
        pvr.check(read_digest(n.l2, "/dev/nvme0n1") == data, "nvme data changed")
        nested.l2_running(n)
        n.l0.assert_kernel_healthy()
        n.l2.assert_kernel_healthy()
    finally:
        n.close()
