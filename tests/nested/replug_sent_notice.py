"""Notices the kernel backend wrote before an unplug never reach the
function plugged after it (spec 7.8).  L2 holds its notices in the used
ring (pvrecover's test_hold_notices) while L0 injects a fatal error:
vhost-recover.ko writes error-detected and, once L1 recovered the
function, reset-done.  L2's QEMU then unplugs the function and plugs it
again at the same slot (the module detaches it, dropping both, and
attaches it again).  Taken after that, both are answered unknown-device
with no callback on the function (stale 2), and the module counts their
answers unmatched.  The function works, its data intact, and the next
fatal error is recovered as usual."""

import nested
import pvr
from _common import assert_data_and_new_io, hold_notices, write_pattern

NAME = "nested/replug-sent-notice"


def run():
    img = pvr.blank_disk(NAME, "nvme.img", size_mb=16)
    n = nested.Nested(NAME, img)
    try:
        # No notice times out while L2's pciehp takes its 5 s to unplug:
        # a dropped one is then traced as dropped.
        n.boot(backend="vhost", ack_timeout_ms=60000)
        data = write_pattern(n.l2, "/dev/nvme0n1")
        base = n.l2.pvr_sysfs()

        hold_notices(n.l2, True)
        l1_mark = n.l0.mark()
        n.inject_fatal()
        ed = n.wait_trace("notice_sent", 60, l1_mark, type="error-detected")["seq"]
        rd = n.wait_trace("notice_sent", 120, l1_mark, type="reset-done")["seq"]

        l1_mark = n.l0.mark()
        ev_mark = len(n.qmp2.events)
        n.qmp2.cmd("device_del", id="hostdev0")
        n.qmp2.wait_event("DEVICE_DELETED", 60, ev_mark, device="hostdev0")
        n.l2.wait_guest("[ ! -e /sys/bus/pci/devices/%s ]" % nested.NVME_BDF, 30)
        n.wait_module(r"detached", 30, l1_mark)
        for seq in (ed, rd):
            n.wait_trace("notice_dropped", 10, l1_mark, seq=seq, reason="detached")
        l1_mark = n.l0.mark()
        n.qmp2.cmd("device_add", driver="vfio-pci", host=nested.NVME_BDF,
                   id="hostdev0", bus="rp1")
        n.wait_module(r"attached as cookie \d+", 30, l1_mark)
        n.l2.wait_guest("[ -b /dev/nvme0n1 ]", 60)

        q = n.qmp2.cmd("query-pvrecover")[0]
        mark = n.l2.mark()
        hold_notices(n.l2, False)
        for seq in (ed, rd):
            a = pvr.wait_trace(n.l2, "pvrecover_notice_answered", 60, mark, seq=seq)
            pvr.check(a["status"] == "unknown-device",
                      "seq %d, written before the replug: %r" % (seq, a))
            cbs = pvr.traces(n.l2, r"pvrecover_callback_\w+", mark, seq=seq)
            pvr.check(not cbs, "seq %d ran callbacks: %r" % (seq, cbs))
        c = n.l2.pvr_sysfs()
        pvr.check(c["stale"] - base["stale"] == 2, "stale %r, before %r" % (c, base))

        # The function plugged again works and recovers as any other.
        ev_mark = len(n.qmp2.events)
        n.inject_fatal()
        prep, done = nested.fatal_answers(n, ev_mark)
        pvr.check((prep["status"], done["status"]) == ("prepared", "recovered"),
                  "answers %r %r" % (prep, done))
        # The answers to the two old notices came before these on the ack
        # queue, and matched nothing.
        q2 = n.qmp2.cmd("query-pvrecover")[0]
        pvr.check(q2["unmatched-acks"] - q["unmatched-acks"] == 2,
                  "unmatched acks %r, before %r" % (q2, q))
        assert_data_and_new_io(n.l2, "/dev/nvme0n1", data)
        nested.l2_running(n)
        n.l0.assert_kernel_healthy()
        n.l2.assert_kernel_healthy()
    finally:
        n.close()
