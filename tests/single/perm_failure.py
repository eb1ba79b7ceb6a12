"""A permanent failure takes the function out of service (driver told and
detached, udev told); a later state-lost brings it back by re-probe with
its data intact."""

import pvr
from _common import (nvme_guest, read_digest, recovery_uevents,
                     start_uevent_log, steps, write_pattern)

NAME = "single/perm-failure"
BOUND = "[ -e /sys/bus/pci/devices/0000:01:00.0/driver ]"


def run():
    g, _ = nvme_guest(NAME)
    try:
        data = write_pattern(g, "/dev/nvme0n1")
        start_uevent_log(g)

        seq = g.notify("nvme0", "perm-failure")
        a = g.wait_ack(seq)
        pvr.check((a["status"], a["method"]) == ("offline", "aer"),
                  "perm-failure answered %s/%s" % (a["status"], a["method"]))
        pvr.check(steps(g, seq)[:2] == ["error_detected", "unbind"],
                  "perm-failure steps %r" % steps(g, seq))
        g.run("! " + BOUND)
        g.run("[ ! -b /dev/nvme0n1 ]")
        ev = recovery_uevents(g, "FAILED_RECOVERY")
        pvr.check([(e[1], e[2]) for e in ev] == [("FAILED_RECOVERY", "0")],
                  "perm-failure uevents %r" % ev)

        # Notices about an offline function change nothing.
        seq = g.notify("nvme0", "error-detected", fatal=True)
        pvr.check(g.wait_ack(seq)["status"] == "offline", "offline function acted on")

        # The host revives it: re-probe, and the data is still there.
        seq = g.notify("nvme0", "state-lost", reset=True)
        a = g.wait_ack(seq, timeout=120)
        pvr.check((a["status"], a["method"]) == ("recovered", "reprobe"),
                  "revival answered %s/%s" % (a["status"], a["method"]))
        pvr.check("probe" in steps(g, seq), "revival steps %r" % steps(g, seq))
        g.run(BOUND)
        g.wait_guest("[ -b /dev/nvme0n1 ]")
        pvr.check(read_digest(g, "/dev/nvme0n1") == data, "data differs after revival")
        g.assert_kernel_healthy()
    finally:
        g.close()
