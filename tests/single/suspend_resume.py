"""The guest suspends to RAM and resumes (pvrecover's freeze/restore): a
notice sent while it sleeps waits in QEMU and is answered after resume,
and a real recovery works afterwards."""

import pvr
from _common import nvme_guest, read_digest, write_pattern

NAME = "single/suspend-resume"


def run():
    g, _ = nvme_guest(NAME, extra=["-device", "pcie-root-port,id=rp2,chassis=2,slot=2",
                                   "-device", "edu,id=edu0,bus=rp2"])
    try:
        data = write_pattern(g, "/dev/nvme0n1")
        pvr.check("mem" in g.run("cat /sys/power/state"), "no suspend to RAM")

        mark = g.mark()
        g.log("run echo mem > /sys/power/state")
        g.write(b"echo mem > /sys/power/state; echo @@RESUMED@@\n")
        g.qmp.wait_event("SUSPEND", 60)
        seq = g.notify("edu0", "error-detected", fatal=True)
        q = g.qmp.cmd("query-pvrecover")[0]
        pvr.check(q["queued"] == 1, "notice not held while the guest sleeps: %r" % q)

        g.qmp.cmd("system_wakeup")
        g.qmp.wait_event("WAKEUP", 60)
        g.wait_console(r"@@RESUMED@@", 60, mark)
        a = g.wait_ack(seq, timeout=60)
        pvr.check(a["status"] == "no-driver", "notice sent during sleep: %r" % a)

        # The nvme driver re-initialises its controller on resume; a reset
        # racing that is the nvme driver's business, not this test's.
        g.run("dd if=/dev/nvme0n1 of=/dev/null bs=4k count=1 iflag=direct",
              timeout=120)
        seq = g.notify("nvme0", "state-lost", reset=True)
        a = g.wait_ack(seq, timeout=120)
        pvr.check((a["status"], a["method"]) == ("recovered", "reset-hooks"),
                  "recovery after resume: %r" % a)
        pvr.check(read_digest(g, "/dev/nvme0n1") == data, "data differs after resume")
        g.assert_kernel_healthy()
    finally:
        g.close()
