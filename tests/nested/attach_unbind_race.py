"""Issue 10 item 2: the host module never blocks on the driver core.

In L1, with the nvme bound to vfio-pci: a program holding the function's
VFIO device file (as a VMM does) starts an unbind of it from vfio-pci, so
vfio-pci's remove waits for the program with the function's device lock
held (vfio-pci logs "blocked until released by user"), then attaches the
function to /dev/vhost-recover.  ATTACH must return at once with EBUSY:
it used to sleep on the device lock, uninterruptibly, and the program
could never release the device (tests/progs/vhost_ioctl.c --unbind-race
gives it 2 s, then lets go to show the deadlock).  Once the program closes
its files the unbind completes.  Then the function, bound to vfio-pci
again, is hot-unplugged in L1 (sysfs remove) while attached: the removal
completes, the module still takes an error signal and detaches it
(--unplug), and vhost_recover unloads."""

import nested
import pvr

NAME = "nested/attach-unbind-race"


def prog(n, mode):
    out = n.l1.run("vhost_ioctl --%s %s" % (mode, nested.NVME_BDF), timeout=120,
                   check_rc=False)
    n.log("vhost_ioctl --%s:\n%s" % (mode, out))
    bad = [l for l in out.splitlines() if l.startswith("not ok")]
    pvr.check(not bad, "--%s failed cases: %s" % (mode, "; ".join(bad)))
    pvr.check("done 0 failed" in out, "--%s did not run through: %r" % (mode, out[-400:]))


def run():
    img = pvr.blank_disk(NAME, "nvme.img", size_mb=16)
    n = nested.Nested(NAME, img)
    bdf = nested.NVME_BDF
    try:
        n.boot_l1(need_modules=("vhost_recover",))
        mark = n.l0.mark()
        prog(n, "unbind-race")
        n.l0.wait_console(r"vfio-pci %s: No device request channel registered, "
                          r"blocked until released by user" % bdf, 10, mark)
        n.wait_module(r"attached as cookie 1", 10, mark)
        n.wait_module(r"detached(?! during)", 10, mark)
        nested.l1_answers(n)

        # The unbind left the function driverless; vfio-pci takes it back.
        n.l1.run("echo %s > /sys/bus/pci/drivers_probe" % bdf)
        n.l1.wait_guest("[ -e /sys/bus/pci/drivers/vfio-pci/%s ]" % bdf)

        mark = n.l0.mark()
        prog(n, "unplug")
        n.wait_module(r"attached as cookie 1", 10, mark)
        n.wait_trace("notice_queued", 10, mark, type="error-detected", flags="")
        n.wait_module(r"detached", 10, mark)
        rc, out = n.l1_rmmod("vhost_recover")
        pvr.check(rc == 0, "rmmod vhost_recover failed (%d): %s" % (rc, out))
        n.l0.assert_kernel_healthy()
        nested.l1_answers(n)
    finally:
        n.close()
