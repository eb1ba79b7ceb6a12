"""A sysfs reset of a quiesced function.  A fatal error-detected
quiesces the nvme through reset_prepare and the guest waits for
reset-done; a write of 1 to the function's sysfs reset meanwhile must not
reach the nvme driver (a second reset_prepare would wait forever for its
controller to leave the resetting state, with the device lock held, and
pvrecover's reset_done could never be delivered): while quiesced the
function offers no reset method, so the write fails at once with ENOTTY.
A system suspend meanwhile is refused too (EBUSY, spec 7.12.1): the nvme
driver's suspend callback would meet a function it was told to leave
alone.  Reset-done then recovers the nvme through reset_done, its data
intact; the reset methods are back and a sysfs reset works again.
Quiesced once more, the nvme driver is unbound and bound again (allowed,
7.12.1): the driver bound now gets no callback meant for the one
quiesced, reset-done is answered recovered with method none, and the
data is intact."""

import pvr
from _common import (assert_data_and_new_io, nvme_guest, read_digest, steps,
                     write_pattern)

NAME = "single/quiesced-sysfs-reset"
BDF = "0000:01:00.0"
DEV = "/sys/bus/pci/devices/" + BDF


def sysfs_reset(g, timeout=30):
    """Write 1 to the function's reset in the guest's background; return
    (exit status, error message) once the write has returned."""
    g.run("rm -f /tmp/reset.rc; ( (echo 1 > %s/reset 2>/tmp/reset.err; "
          "echo rc=$? > /tmp/reset.rc) </dev/null >/dev/null 2>&1 & )" % DEV)
    try:
        g.wait_guest("[ -s /tmp/reset.rc ]", timeout)
    except pvr.TestFailure:
        raise pvr.TestFailure("the sysfs reset did not return within %ds" % timeout)
    return int(g.value("cat /tmp/reset.rc", r"rc=(\d+)")), g.run("cat /tmp/reset.err")


def suspend(g, timeout=30):
    """Ask for a suspend to idle in the guest's background; return (exit
    status, error message) once the write has returned."""
    g.run("rm -f /tmp/pm.rc; ( (echo freeze > /sys/power/state 2>/tmp/pm.err; "
          "echo rc=$? > /tmp/pm.rc) </dev/null >/dev/null 2>&1 & )")
    try:
        g.wait_guest("[ -s /tmp/pm.rc ]", timeout)
    except pvr.TestFailure:
        raise pvr.TestFailure("the suspend did not return within %ds" % timeout)
    return int(g.value("cat /tmp/pm.rc", r"rc=(\d+)")), g.run("cat /tmp/pm.err")


def rebound(g, data):
    """The nvme driver unbound and bound again while quiesced: the driver
    bound now (the same pci_driver) was never quiesced, so reset-done
    restores the configuration and makes no callback (spec 7.11.1)."""
    seq = g.notify("nvme0", "error-detected", fatal=True)
    a = g.wait_ack(seq)
    pvr.check((a["status"], a["method"]) == ("prepared", "reset-hooks"),
              "error-detected answered %r" % a)
    g.run("echo %s > /sys/bus/pci/drivers/nvme/unbind" % BDF, timeout=120)
    g.run("echo %s > /sys/bus/pci/drivers/nvme/bind" % BDF, timeout=120)
    g.wait_guest("[ -b /dev/nvme0n1 ]", 60)
    mark = g.mark()
    done = g.notify("nvme0", "reset-done")
    d = g.wait_ack(done, timeout=120)
    pvr.check((d["status"], d["method"]) == ("recovered", "none"),
              "reset-done to a rebound driver answered %r" % d)
    pvr.wait_trace(g, "pvrecover_notice_answered", 30, mark, seq=done)
    cbs = pvr.traces(g, "pvrecover_callback_start", mark, seq=done)
    pvr.check(not cbs, "callbacks made to the rebound driver: %r"
              % [c.fields["callback"] for c in cbs])
    assert_data_and_new_io(g, "/dev/nvme0n1", data)


def run():
    g, _ = nvme_guest(NAME)
    try:
        data = write_pattern(g, "/dev/nvme0n1")
        methods = g.run("cat %s/reset_method" % DEV)
        pvr.check(methods != "", "the nvme has no reset method to begin with")

        seq = g.notify("nvme0", "error-detected", fatal=True)
        a = g.wait_ack(seq)
        pvr.check((a["status"], a["method"]) == ("prepared", "reset-hooks"),
                  "error-detected answered %r" % a)

        # Quiesced: the reset is refused, the nvme driver is not called.
        rc, err = sysfs_reset(g)
        pvr.check(rc != 0 and "Inappropriate ioctl" in err,
                  "sysfs reset while quiesced: rc %d, %r" % (rc, err))
        pvr.check(g.run("cat %s/reset_method" % DEV) == "",
                  "reset methods offered while quiesced")
        # And so is a system suspend, before anything is frozen: the
        # recovery device's own freeze, which resets it, never runs while
        # a function is quiesced (spec 7.9.2).
        mark = g.mark()
        rc, err = suspend(g)
        pvr.check(rc != 0 and "busy" in err,
                  "suspend while quiesced: rc %d, %r" % (rc, err))
        g.wait_console(r"PM: suspend exit", 30, mark)
        pvr.check("Freezing" not in g.console[mark:],
                  "the refused suspend froze tasks or devices")

        seq = g.notify("nvme0", "reset-done")
        a = g.wait_ack(seq, timeout=120)
        pvr.check((a["status"], a["method"]) == ("recovered", "reset-hooks"),
                  "reset-done answered %r" % a)
        pvr.check(steps(g, seq)[:1] == ["reset_done"], "reset-done steps %r"
                  % steps(g, seq))
        assert_data_and_new_io(g, "/dev/nvme0n1", data)

        # Back in service: the methods are back and a reset goes through.
        pvr.check(g.run("cat %s/reset_method" % DEV) == methods,
                  "reset methods after recovery differ from %r" % methods)
        rc, err = sysfs_reset(g, 120)
        pvr.check(rc == 0, "sysfs reset after recovery: rc %d, %r" % (rc, err))
        pvr.check(read_digest(g, "/dev/nvme0n1") == data,
                  "data differs after the sysfs reset")

        rebound(g, data)
        g.assert_kernel_healthy()
    finally:
        g.close()
