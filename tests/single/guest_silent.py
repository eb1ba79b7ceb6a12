"""pvrecover.ko is not loaded: the host side reports the acknowledgement
timeouts and nothing waits on the guest."""

import pvr
from _common import nvme, recovery_device

NAME = "single/guest-silent"


def run():
    img, disk = nvme(NAME)
    g = pvr.Guest(NAME, recovery_device(**{"ack-timeout-ms": 2000}) + disk,
                  modules=("virtio_pci", "nvme"), pvrecover=False)
    try:
        g.boot()
        g.wait_guest("[ -b /dev/nvme0n1 ]")
        pvr.check("pvrecover" not in g.run("cat /proc/modules"), "module loaded")

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
        # Neither the VM nor the guest is blocked.
        pvr.check(g.qmp.cmd("query-status")["status"] == "running", "VM stopped")
        pvr.check(g.run("echo alive") == "alive", "guest shell stuck")
    finally:
        g.close()
