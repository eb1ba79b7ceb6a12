"""The order of the driver's checks (spec 7.10) where a notice meets more
than one, seen through PREPARE_RESET to a guest that did not negotiate
planned resets (check 8): a notice about no function is UNKNOWN_DEVICE
(check 3 first), about the function carrying the recovery device FAILED
(4 first), about a function whose queue is full BUSY (6 first); about a
function with no driver UNSUPPORTED (8 before 9); about a function with a
driver UNSUPPORTED, and the driver is not touched.  A malformed
perm-failure about the nvme is MALFORMED (check 1) and changes nothing:
the nvme driver stays bound and is not called (spec 7.15.1)."""

import re

import pvr
from _common import devfn, nvme_guest

NAME = "single/check-order"
PREPARE_RESET, STATE_LOST, PERM_FAILURE = 5, 3, 4
RAW = 0x50000000    # seqs of hand-made notices, far from QEMU's own
BURST = 40


def run():
    g, _ = nvme_guest(NAME, recovery={"planned-reset": False})
    try:
        g.wait_console(r"pvrecover: ready, .*planned-reset off", 30)
        # The nvme's and the recovery device's own addresses, from the
        # guest's view of the topology: nvme behind root port rp1.
        nvme = g.value("readlink -f /sys/class/nvme/nvme0/device",
                       r"/([0-9a-f:.]+)$")
        port = g.value("readlink -f /sys/class/nvme/nvme0/device",
                       r"/([0-9a-f:.]+)/[0-9a-f:.]+$")
        nvme_path = (devfn(port), devfn(nvme))
        self_bdf = g.value("readlink -f /sys/bus/virtio/drivers/pvrecover/virtio*",
                           r"/([0-9a-f:.]+)/virtio\d+$")
        seq = [RAW]

        def prepare(path):
            seq[0] += 1
            g.send_raw(pvr.notice_bytes(seq[0], PREPARE_RESET, path=path,
                                        deadline_ms=1000))
            return g.wait_ack(seq[0], timeout=60)["status"]

        pvr.check(prepare((29 << 3,)) == "unknown-device", "3 before 8")
        pvr.check(prepare((devfn(self_bdf),)) == "failed", "4 before 8")
        # The host bridge at 00.0: a function with no driver.
        pvr.check(prepare((0,)) == "unsupported", "8 before 9")
        mark = g.mark()
        pvr.check(prepare(nvme_path) == "unsupported", "8 with a driver")
        pvr.check(not re.search(r"pvrecover_callback_start", g.console[mark:]),
                  "a callback ran for an unsupported notice")

        # Malformed (a reserved field set): no state change, no callback.
        seq[0] += 1
        g.send_raw(pvr.notice_bytes(seq[0], PERM_FAILURE, path=nvme_path,
                                    reserved=(0, 1)))
        pvr.check(g.wait_ack(seq[0], timeout=60)["status"] == "malformed",
                  "malformed perm-failure")
        pvr.check(not re.search(r"pvrecover_callback_start", g.console[mark:]),
                  "a callback ran for a malformed notice")
        g.run("[ -e /sys/bus/pci/drivers/nvme/%s ]" % nvme)

        # A burst about the nvme whose recoveries take time, then
        # prepare-resets about it: beyond the guest's per-function queue
        # they are BUSY, not UNSUPPORTED (6 before 8).
        first = seq[0] + 1
        for i in range(BURST):
            ntype = STATE_LOST if i < BURST // 2 else PREPARE_RESET
            g.send_raw(pvr.notice_bytes(first + i, ntype, path=nvme_path,
                                        deadline_ms=1000 if ntype == PREPARE_RESET else 0))
        answers = [g.wait_ack(first + i, timeout=120)["status"] for i in range(BURST)]
        preps = answers[BURST // 2:]
        pvr.check(set(preps) <= {"busy", "unsupported"} and "busy" in preps,
                  "prepare-resets in a full queue answered %r" % answers)
        pvr.check(set(answers[:BURST // 2]) <= {"recovered", "busy"},
                  "state-losts answered %r" % answers)

        # Still working: a real recovery of the nvme afterwards.
        s = g.notify("nvme0", "state-lost", reset=True)
        a = g.wait_ack(s, timeout=120)
        pvr.check(a["status"] == "recovered", "recovery after the checks: %r" % a)
        g.assert_kernel_healthy()
    finally:
        g.close()
