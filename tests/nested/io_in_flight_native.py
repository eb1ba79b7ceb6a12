"""The baseline for nested/io-in-flight: the same writers through the same
errors, with the nvme bound to L1's own nvme driver: the kernel's native
AER recovery (6.1) in L1 instead of pvrecover in L2, and a sysfs reset of
the function (reset_prepare/reset_done) for the planned one.  What a user
gets on bare metal, on the rig's stand-in for a physical controller:
every write goes on after recovery, none fails, none is timed out, every
block reads back as last written.  The longest write per round is logged
beside nested/io-in-flight's."""

import nested
import pvr
from _common import Writer, assert_no_io_timeout

NAME = "nested/io-in-flight-native"
DEV = "/dev/nvme0n1"


def run():
    img = pvr.blank_disk(NAME, "nvme.img", size_mb=64)
    n = nested.Nested(NAME, img)
    try:
        n.l1.boot(timeout=180)
        n.l1.run("modprobe nvme")
        n.l1.wait_guest("[ -b %s ]" % DEV, 60)
        stalls = []
        for i, (kind, jobs) in enumerate((("fatal", 1), ("fatal", 4),
                                          ("nonfatal", 4), ("sysfs-reset", 4))):
            name = "%s-j%d" % (kind, jobs)
            mark = n.l0.mark()
            w = Writer(n.l1, DEV, name, jobs, 8 + 8 * i)
            if kind == "sysfs-reset":
                n.l1.run("echo 1 > /sys/bus/pci/devices/%s/reset" % nested.NVME_BDF)
            else:
                n.inject(nested.FATAL_ERROR if kind == "fatal" else nested.NONFATAL_ERROR)
                n.l0.wait_console(r"AER: device recovery successful", 60, mark)
            stalls.append((name, w.finish(n.log)))
            assert_no_io_timeout(n.l0, mark, name)
        n.log("longest write per round: %s" % ", ".join("%s %d ms" % s for s in stalls))
        nested.l1_answers(n)
        n.l0.assert_kernel_healthy()
    finally:
        n.close()
