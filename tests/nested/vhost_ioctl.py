"""The ioctl interface of /dev/vhost-recover, from inside L1 where the
nvme is bound to vfio-pci: good requests work; garbage ioctls, foreign file
descriptors, malformed addresses, unknown and unowned functions get the
errno the uapi header promises; error signals become queued, coalesced,
timed-out notices without any guest; planned resets are due at once
without the feature, at the deadline with it, and end as the owner reports
(or fails to); closing the file with a function attached, a notice queued
and a planned reset due is clean, and the module unloads after.  L1 has
two functions of one nvme device (one VFIO group): a bus reset of either
reaches both, a function-level reset one, and a plan whose named function
is detached is abandoned, the other told reset-done all the same."""

import re

import nested
import pvr

NAME = "nested/vhost-ioctl"


def run():
    imgs = [pvr.blank_disk(NAME, "nvme%d.img" % i, size_mb=16) for i in range(2)]
    n = nested.Nested(NAME, imgs[0], nvme2_img=imgs[1])
    try:
        n.boot_l1()
        n.l1.run("modprobe vhost_recover")
        out = n.l1.run("vhost_ioctl %s %s" % (nested.NVME_BDF, nested.NVME2_BDF),
                       timeout=120, check_rc=False)
        bad = [l for l in out.splitlines() if l.startswith("not ok")]
        pvr.check(not bad, "failed cases: %s" % "; ".join(bad))
        cases = len(re.findall(r"^ok ", out, re.M))
        pvr.check(cases >= 30 and "done 0 failed" in out,
                  "ioctl program did not run through: %r" % out[-400:])

        # The module said what happened, and forgot the function on close.
        n.l0.wait_console(r"vhost-recover: %s: attached as cookie 1" %
                          re.escape(nested.NVME_BDF), 10)
        n.wait_trace("notice_timed_out", 10)
        # Prepare-reset queued for the planned resets with a deadline.
        for deadline in (200, 60000):
            n.wait_trace("notice_queued", 10, type="prepare-reset", deadline_ms=deadline)
        # The planned resets' log lines, in order.
        pos = 0
        for line in (
                r"planned reset of 1 function\(s\), no prepare-reset "
                r"\(not negotiated\)",
                r"planned reset done, seq \d+ state-lost queued",
                r"planned reset of 1 function\(s\), deadline 200 ms",
                r"planned reset due: deadline 200 ms passed \(\d+ ms\), "
                r"0 of 1 function\(s\) answered",
                r"planned reset failed \(error -5\), seq \d+ perm-failure "
                r"queued",
                r"planned reset due: deadline 50 ms passed",
                r"planned reset done, seq \d+ reset-done queued "
                r"\(merged into state-lost\)",
                r"planned reset not done by the owner in 100 ms, "
                r"seq \d+ perm-failure queued"):
            pos = n.l0.wait_console(r"vhost-recover: %s: %s" %
                                    (re.escape(nested.NVME_BDF), line),
                                    10, pos).end()
        pos = n.l0.wait_console(r"vhost-recover: %s: planned reset ended: detached" %
                                re.escape(nested.NVME_BDF), 10, pos).end()
        # The fan-out: both functions prepared, then the abandoned plan.
        for bdf, line in (
                (nested.NVME2_BDF, r"planned reset of 2 function\(s\), deadline 50 ms"),
                (nested.NVME_BDF, r"planned reset of 2 function\(s\), deadline 60000 ms"),
                (nested.NVME_BDF, r"planned reset ended: detached"),
                (nested.NVME2_BDF, r"planned reset abandoned, seq \d+ reset-done queued "
                                   r"\(merged into state-lost\)"),
                (nested.NVME2_BDF, r"planned reset of 1 function\(s\), deadline 50 ms")):
            pos = n.l0.wait_console(r"vhost-recover: %s: %s" % (re.escape(bdf), line),
                                    10, pos).end()
        n.l0.wait_console(r"vhost-recover: %s: detached" %
                          re.escape(nested.NVME_BDF), 10)
        n.l1.run("rmmod vhost_recover")
        n.l1.run("! grep -q '^vhost_recover ' /proc/modules")
        # The function is still vfio's and L1 is fine.
        n.l1.run("[ -e /sys/bus/pci/drivers/vfio-pci/%s ]" % nested.NVME_BDF)
        n.l0.assert_kernel_healthy()
    finally:
        n.close()
