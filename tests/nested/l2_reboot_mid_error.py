"""Nothing meant for the old guest reaches the next boot.  With pvrecover.ko
unloaded in L2 (the backend keeps notices for the next driver), a planned
reset waits for an answer and a fatal error leaves a state-lost queued in
vhost-recover.ko.  Then L2 is reset (QMP system_reset): the machine reset
makes L1's QEMU tell the backend to forget them (VHOST_RECOVER_GUEST_RESET).
The new boot loads pvrecover.ko and hears nothing: no notice is handled,
none is answered, the nvme keeps its driver.  A fatal error afterwards is
recovered as usual, data intact: the backend still watches the function."""

import nested
import pvr
from _common import assert_data_and_new_io, steps, write_pattern

NAME = "nested/l2-reboot-mid-error"


def run():
    img = pvr.blank_disk(NAME, "nvme.img", size_mb=16)
    n = nested.Nested(NAME, img)
    try:
        n.boot(backend="vhost", ack_timeout_ms=60000)
        data = write_pattern(n.l2, "/dev/nvme0n1")
        n.l2.run("rmmod pvrecover")

        # A plan that waits for an answer nobody gives (the driver
        # negotiated planned resets before it went) ...
        l1_mark = n.l0.mark()
        n.plan_reset("hostdev0", 10000)
        prep = n.wait_trace("notice_queued", 30, l1_mark, type="prepare-reset")
        # ... and an error whose two notices merge into one state-lost.
        n.inject_fatal()
        n.wait_module(r"host recovery finished in \d+ ms, seq (\d+) reset-done "
                      r"queued \(merged into state-lost\)", 30, l1_mark)

        ev_mark = len(n.qmp2.events)
        l1_mark = n.l0.mark()
        l2_mark = n.l2.mark()
        # L2's QEMU runs with -no-reboot: make this reset a reset.
        n.qmp2.cmd("set-action", reboot="reset")
        n.qmp2.cmd("system_reset")
        forgot = n.l0.wait_console(r"vhost-recover: guest reset: (\d+) notice\(s\) and "
                                   r"(\d+) planned reset\(s\) forgotten", 30, l1_mark)
        pvr.check((int(forgot.group(1)), int(forgot.group(2))) == (2, 1),
                  "the backend forgot %s" % forgot.group(0))
        n.wait_module(r"planned reset ended: guest reset", 10, l1_mark)
        n.l2.wait_console(r"PVR-READY", 180, l2_mark)
        n.l2.run("true")
        n.l2.wait_console(r"pvrecover: ready", 60, l2_mark)
        n.l2.wait_guest("[ -b /dev/nvme0n1 ]", 60)

        # The new boot heard nothing, its nvme kept its driver.
        handled = pvr.traces(n.l2, r"pvrecover_\w+", l2_mark)
        pvr.check(not handled, "the new boot handled %r" % handled)
        pvr.check(not [e for e in n.qmp2.events[ev_mark:]
                       if e["event"].startswith("PVRECOVER")],
                  "events after the reset: %r" % n.qmp2.events[ev_mark:])
        n.l2.run("[ -e /sys/bus/pci/drivers/nvme/0000:01:00.0 ]")
        q = n.qmp2.cmd("query-pvrecover")
        pvr.check(q[0]["queued"] == 0, "query-pvrecover %r" % q)

        # The backend still watches the function: a new error recovers.
        ev_mark = len(n.qmp2.events)
        n.inject_fatal()
        _, ack = n.qmp2.wait_event("PVRECOVER_ACK", 60, ev_mark, device="hostdev0",
                                   notice="reset-done")
        pvr.check((ack["data"]["status"], ack["data"]["method"]) ==
                  ("recovered", "reset-hooks"), "reset-done answered %r" % ack["data"])
        pvr.check(prep["seq"] not in [
                      e["data"]["seq"] for e in n.qmp2.events
                      if e["event"] == "PVRECOVER_ACK"],
                  "the old prepare-reset was answered")
        pvr.check("reset_done" in steps(n.l2, ack["data"]["seq"]), "no reset_done")
        assert_data_and_new_io(n.l2, "/dev/nvme0n1", data)
        n.l0.assert_kernel_healthy()
        n.l2.assert_kernel_healthy()
    finally:
        n.close()
