"""Unknown devices, unsupported notice types, malformed notices and a flood
are counted and answered; the guest keeps working."""

import re

import pvr
from _common import nvme_guest

NAME = "single/bad-input"

ERROR_DETECTED, RESET_DONE = 1, 2
FLOOD = 200
BURST = 40
RAW = 0x40000000    # seqs of hand-made notices, far from QEMU's own


def run():
    # edu: a function with no driver in the guest, two bridges down (root
    # port, PCIe-to-PCI bridge): its address is a path of depth 3.
    g, _ = nvme_guest(NAME, extra=[
        "-device", "pcie-root-port,id=rp2,chassis=2,slot=2",
        "-device", "pcie-pci-bridge,id=br2,bus=rp2",
        "-device", "edu,id=edu0,bus=br2,addr=3"])
    try:
        base = g.pvr_sysfs()

        def ack_of(data):
            # Raw notices go out verbatim: the ack echoes the seq inside.
            g.send_raw(data)
            return g.wait_ack(int.from_bytes(data[:4], "little"), timeout=60)

        # Nothing at slot 29 of the root bus.
        a = ack_of(pvr.notice_bytes(RAW + 1, ERROR_DETECTED, path=(29 << 3,)))
        pvr.check(a["status"] == "unknown-device", "unknown device: %r" % a)
        # A path through a function that is not a bridge.
        a = ack_of(pvr.notice_bytes(RAW + 2, ERROR_DETECTED, path=(0, 0)))
        pvr.check(a["status"] == "unknown-device", "path through endpoint: %r" % a)
        a = ack_of(pvr.notice_bytes(RAW + 3, 99, path=(0,)))
        pvr.check(a["status"] == "unsupported", "unknown type: %r" % a)
        # The host bridge at 00.0 of root bus 0: in segment group 0 a
        # function with no driver; in segment group 1, which the firmware
        # does not describe, nothing (spec 7.1).
        a = ack_of(pvr.notice_bytes(RAW + 9, ERROR_DETECTED, path=(0,)))
        pvr.check(a["status"] == "no-driver", "host bridge in segment 0: %r" % a)
        a = ack_of(pvr.notice_bytes(RAW + 10, ERROR_DETECTED, path=(0,), segment=1))
        pvr.check(a["status"] == "unknown-device", "segment 1: %r" % a)

        malformed = [
            pvr.notice_bytes(RAW + 4, ERROR_DETECTED)[:10],           # short
            pvr.notice_bytes(RAW + 5, ERROR_DETECTED, flags=0x80),    # unknown flag
            pvr.notice_bytes(RAW + 6, ERROR_DETECTED, depth=0),       # empty path
            pvr.notice_bytes(RAW + 7, ERROR_DETECTED, depth=9),       # too deep
            pvr.notice_bytes(RAW + 8, ERROR_DETECTED, reserved=(0, 1)),
        ]
        for data in malformed:
            a = ack_of(data)
            pvr.check(a["status"] == "malformed", "malformed %r: %r" % (data, a))

        # A real function with no driver bound.
        seq = g.notify("edu0", "error-detected", fatal=True)
        a = g.wait_ack(seq)
        pvr.check(a["status"] == "no-driver", "no driver: %r" % a)
        # Resolved to the right function, whatever bus numbers the guest chose.
        edu = g.value("grep -l 0x11e8 /sys/bus/pci/devices/*/device", r"devices/([^/]+)/")
        pvr.wait_trace(g, "pvrecover_notice_answered", 10, bdf=re.escape(edu),
                       seq=seq, type="error-detected", status="no-driver")

        # A flood: every notice is answered, the log stays bounded.
        mark = g.mark()
        first = RAW + 1000
        for i in range(FLOOD):
            g.send_raw(pvr.notice_bytes(first + i, 77, path=(0,)))
        g.wait_ack(first + FLOOD - 1, timeout=120)
        for i in range(FLOOD):
            _, ev = g.qmp.wait_event("PVRECOVER_ACK", 30, seq=first + i)
            pvr.check(ev["data"]["status"] == "unsupported",
                      "flood ack %r" % ev["data"])
        g.run("true")
        # Kernel log lines; each notice is traced (pvrecover_notice_answered).
        lines = len(re.findall(r"(?m)^\[[^\n]*pvrecover", g.console[mark:]))
        pvr.check(lines < FLOOD // 2, "%d log lines for %d bad notices" % (lines, FLOOD))

        # A flood about one function whose recoveries take time: beyond the
        # guest's per-function queue, notices are answered BUSY at once.
        seqs = [g.notify("nvme0", "state-lost") for _ in range(BURST)]
        statuses = [g.wait_ack(s, timeout=120)["status"] for s in seqs]
        pvr.check(set(statuses) <= {"recovered", "busy"}, "burst statuses %r" % statuses)
        busy = statuses.count("busy")
        pvr.check(busy >= 1 and statuses[0] == "recovered",
                  "no back-pressure in a burst of %d: %r" % (BURST, statuses))

        c = g.pvr_sysfs()
        delta = {k: c[k] - base.get(k, 0) for k in c}
        pvr.check(delta["busy"] == busy, "busy count %r, %d answered busy" % (delta, busy))
        pvr.check(delta["malformed"] == len(malformed), "malformed count %r" % delta)
        pvr.check(delta["unknown_device"] == 3, "unknown_device count %r" % delta)
        pvr.check(delta["unsupported"] == FLOOD + 1, "unsupported count %r" % delta)
        pvr.check(delta["no_driver"] == 2, "no_driver count %r" % delta)

        # Still working: a real recovery of the nvme afterwards.
        seq = g.notify("nvme0", "state-lost", reset=True)
        a = g.wait_ack(seq, timeout=120)
        pvr.check(a["status"] == "recovered", "recovery after bad input: %r" % a)
        g.run("dd if=/dev/nvme0n1 of=/dev/null bs=64k count=16 iflag=direct")
        g.assert_kernel_healthy()
    finally:
        g.close()
