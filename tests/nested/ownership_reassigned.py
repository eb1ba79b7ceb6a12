"""Issue 10 item 4: ownership is held for the life of the attachment.

In L1 (tests/progs/vhost_ioctl.c --reassign): a program attaches the nvme
with its VFIO group file and closes that file.  Another open of the group,
what another VM would do to be given the function, must fail with EBUSY:
the attachment holds the group (before, the module kept nothing, the group
was free, and the module went on reporting errors and planning resets of a
function that could now belong to someone else).  Detaching, or closing
/dev/vhost-recover, lets go of the group, whether the owner closed its own
group file before or after; the module unloads after."""

import nested
import pvr

NAME = "nested/ownership-reassigned"


def run():
    img = pvr.blank_disk(NAME, "nvme.img", size_mb=16)
    n = nested.Nested(NAME, img)
    bdf = nested.NVME_BDF
    try:
        n.boot_l1(need_modules=("vhost_recover",))
        mark = n.l0.mark()
        out = n.l1.run("vhost_ioctl --reassign %s" % bdf, timeout=120, check_rc=False)
        n.log("vhost_ioctl --reassign:\n%s" % out)
        bad = [l for l in out.splitlines() if l.startswith("not ok")]
        pvr.check(not bad, "failed cases: %s" % "; ".join(bad))
        pvr.check("done 0 failed" in out, "did not run through: %r" % out[-400:])
        lines = n.module_lines(mark)
        pvr.check(lines.count("attached as cookie 1") == 3 and
                  lines.count("detached") == 3,
                  "module lines: %r" % lines)
        rc, out = n.l1_rmmod("vhost_recover")
        pvr.check(rc == 0, "rmmod vhost_recover failed (%d): %s" % (rc, out))
        # Nobody holds the group now, and the function is still vfio's.
        n.l1.run("[ -e /sys/bus/pci/drivers/vfio-pci/%s ]" % bdf)
        n.l0.assert_kernel_healthy()
        nested.l1_answers(n)
    finally:
        n.close()
