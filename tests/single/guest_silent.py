"""pvrecover.ko is not loaded: the host side reports the acknowledgment
timeouts and nothing waits on the guest.  Notices about the nvme wait in
QEMU's queue up to its bound of 16, and the next is refused (spec 7.5.1).
When pvrecover.ko is loaded at last, it takes them all: the answers to the
notices that timed out are still matched and reported (7.6.1), and the
nvme, whose configuration the reset wiped, is recovered."""

import pvr
from _common import nvme_guest

QUEUE_PER_FUNCTION = 16     # QEMU's VIRTIO_PVRECOVER_QUEUE_PER_DEVICE

NAME = "single/guest-silent"
MEM_ENABLE = 0x2


def command_register(g):
    """The nvme's PCI command register, read from its configuration space."""
    # A line of its own: trace lines stream to the same console.
    out = g.value("od -An -tx1 -j4 -N2 /sys/class/nvme/nvme0/device/config",
                  r"(?m)^[ \t]*([0-9a-f]{2} [0-9a-f]{2})[ \t\r]*$")
    lo, hi = out.split()
    return int(hi + lo, 16)


def run():
    g, _ = nvme_guest(NAME, recovery={"ack-timeout-ms": 2000}, pvrecover=False)
    try:
        pvr.check("pvrecover" not in g.run("cat /proc/modules"), "module loaded")
        pvr.check(command_register(g) & MEM_ENABLE, "nvme memory decoding off at start")

        # No driver, so no planned resets negotiated: no prepare-reset
        # (spec 4.1), not even from pvrecover-notify.
        r = g.qmp.cmd_raw("pvrecover-notify", device="nvme0", notice="prepare-reset")
        pvr.check("error" in r and "planned resets" in r["error"]["desc"],
                  "prepare-reset without the feature: %r" % r)

        seq = g.notify("nvme0", "error-detected", fatal=True, reset=True)
        # The monitor answers while the notices are outstanding.
        q = g.qmp.cmd("query-pvrecover")
        pvr.check(len(q) == 1, "query-pvrecover %r" % q)
        pvr.check(g.qmp.cmd("query-status")["status"] == "running", "VM stopped")

        g.qmp.wait_event("PVRECOVER_ACK_TIMEOUT", 60, seq=seq, device="nvme0",
                         notice="error-detected")
        g.qmp.wait_event("PVRECOVER_ACK_TIMEOUT", 60, device="nvme0",
                         notice="reset-done")
        q = g.qmp.cmd("query-pvrecover")[0]
        pvr.check(q["timeouts"] == 2 and q["acks"] == 0, "counters %r" % q)
        pvr.check(not any(e["event"] == "PVRECOVER_ACK" for e in g.qmp.events),
                  "an ack from a guest without the driver")
        # The reset was real: the function's configuration is gone (memory
        # decoding off), and with no driver to restore it, it stays gone.
        pvr.check(not command_register(g) & MEM_ENABLE,
                  "nvme configuration survived the reset")
        # Neither the VM nor the guest is blocked.
        pvr.check(g.qmp.cmd("query-status")["status"] == "running", "VM stopped")
        pvr.check(g.run("echo alive") == "alive", "guest shell stuck")

        # Both still wait for a buffer; fill the queue up to its bound.
        pvr.check(q["queued"] == 2, "queued %r" % q)
        more = [g.notify("nvme0", "state-lost")
                for _ in range(QUEUE_PER_FUNCTION - q["queued"])]
        r = g.qmp.cmd_raw("pvrecover-notify", device="nvme0", notice="state-lost")
        pvr.check("error" in r and "Too many" in r["error"]["desc"],
                  "a notice beyond the bound: %r" % r)

        # The driver comes: every notice is answered, late or not, and the
        # nvme recovers from the reset it missed.
        g.run("modprobe pvrecover")
        _, ev = g.qmp.wait_event("PVRECOVER_ACK", 120, seq=seq)
        pvr.check((ev["data"]["notice"], ev["data"]["status"]) ==
                  ("error-detected", "prepared"), "late answer %r" % ev["data"])
        _, ev = g.qmp.wait_event("PVRECOVER_ACK", 120, notice="reset-done")
        pvr.check(ev["data"]["status"] == "recovered", "late answer %r" % ev["data"])
        for s in more:
            g.qmp.wait_event("PVRECOVER_ACK", 120, seq=s)
        # The guest's trace of the last answer is out too: nothing more
        # streams to the console while the register is read.
        pvr.wait_trace(g, "pvrecover_notice_answered", 30, seq=more[-1])
        q = g.qmp.cmd("query-pvrecover")[0]
        pvr.check(q["acks"] == 2 + len(more) and q["queued"] == 0, "counters %r" % q)
        pvr.check(command_register(g) & MEM_ENABLE, "nvme configuration not restored")
        g.run("dd if=/dev/nvme0n1 of=/dev/null bs=64k count=16 iflag=direct", timeout=120)
        g.assert_kernel_healthy()
    finally:
        g.close()
