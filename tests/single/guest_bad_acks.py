"""A hostile guest driver writes acknowledgments the host must never
trust: malformed ones, answers to notices never sent, answers that do not
echo their notice, and a flood.  QEMU counts them, reports none of them as
an acknowledgment, acts on no device, and stays responsive."""

import pvr
from _common import nvme_guest, read_digest, write_pattern

NAME = "single/guest-bad-acks"
MALFORMED = 7       # short, status 0, status 99, method 77, reserved,
                    # device-writable, too long: see tests/kmod
FLOOD = 5000


def run():
    g, _ = nvme_guest(NAME, recovery={"ack-timeout-ms": 2000}, pvrecover=False)
    try:
        data = write_pattern(g, "/dev/nvme0n1")
        mark = g.mark()
        g.run("insmod /lib/modules/$(uname -r)/extra/pvr_badguest.ko flood=%d" % FLOOD)
        m = g.wait_console(r"pvr_badguest: done (\d+)\r?\n", 300, mark)
        pvr.check(int(m.group(1)) == MALFORMED + FLOOD, "posted %s acks" % m.group(1))

        # Every ack taken (the module waited for that), counted, none
        # reported or trusted.
        q = g.qmp.cmd("query-pvrecover")[0]
        pvr.check(q["malformed-acks"] == MALFORMED, "malformed %r" % q)
        pvr.check(q["unmatched-acks"] == FLOOD, "unmatched %r" % q)
        pvr.check(q["acks"] == 0, "acks trusted: %r" % q)

        # A real notice answered with a wrong echo stays outstanding and
        # times out; the function is untouched.
        seq = g.notify("nvme0", "error-detected", fatal=True)
        g.wait_console(r"answering seq %d with a wrong echo" % seq, 30, mark)
        g.qmp.wait_event("PVRECOVER_ACK_TIMEOUT", 30, seq=seq)
        q = g.qmp.cmd("query-pvrecover")[0]
        pvr.check(q["malformed-acks"] == MALFORMED + 1 and q["acks"] == 0,
                  "wrong echo %r" % q)
        pvr.check(not any(e["event"] == "PVRECOVER_ACK" for e in g.qmp.events),
                  "a bad ack was reported")
        pvr.check(g.qmp.cmd("query-status")["status"] == "running", "VM not running")
        pvr.check(read_digest(g, "/dev/nvme0n1") == data, "nvme data changed")
        g.assert_kernel_healthy()
    finally:
        g.close()
