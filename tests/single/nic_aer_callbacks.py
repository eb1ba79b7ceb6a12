"""An e1000e NIC (AER callbacks, no reset_prepare) loses its state in a real
reset; it recovers through error_detected/slot_reset/resume and its link and
traffic come back.

Then the end of the ladder a NIC reaches (spec 7.11): a non-fatal error
on a function the guest cannot reset (its reset methods cleared) is
answered need-reset with the function left quiesced, and the host's
reset-done completes it with slot_reset/resume."""

import pvr
from _common import assert_order, recovery_device, steps

NAME = "single/nic-aer-callbacks"
BDF = "0000:01:00.0"
DEV = "/sys/bus/pci/devices/" + BDF


def traffic(g):
    """A DHCP exchange with QEMU's user-mode network: frames both ways."""
    g.run("udhcpc -i eth0 -n -q -t 5 -T 2 -s /bin/true >/dev/null 2>&1", timeout=60)


def wait_carrier(g):
    g.wait_guest("[ \"$(cat /sys/class/net/eth0/carrier 2>/dev/null)\" = 1 ]")


def link_up(g):
    g.run("ip link set eth0 up")
    wait_carrier(g)


def need_reset(g):
    """A non-fatal error the guest cannot answer with a reset of its own:
    NEED_RESET, quiesced until the host's reset-done (spec 7.11)."""
    g.run("echo > %s/reset_method" % DEV)     # no reset method at all
    seq = g.notify("nic0", "error-detected", fatal=False)
    a = g.wait_ack(seq, timeout=120)
    pvr.check((a["status"], a["method"]) == ("need-reset", "aer"),
              "non-fatal error without a reset answered %s/%s"
              % (a["status"], a["method"]))
    pvr.check(steps(g, seq)[:2] == ["error_detected", "reset_function"],
              "need-reset steps %r" % steps(g, seq))
    done = g.notify("nic0", "reset-done")
    d = g.wait_ack(done, timeout=120)
    pvr.check((d["status"], d["method"]) == ("recovered", "aer"),
              "reset-done after need-reset answered %s/%s"
              % (d["status"], d["method"]))
    pvr.check(steps(g, done)[:2] == ["slot_reset", "resume"],
              "reset-done steps %r" % steps(g, done))
    g.run("echo default > %s/reset_method" % DEV)
    link_up(g)
    traffic(g)


def run():
    devices = recovery_device() + [
        "-device", "pcie-root-port,id=rp1,chassis=1,slot=1",
        "-netdev", "user,id=n0",
        "-device", "e1000e,netdev=n0,id=nic0,bus=rp1,romfile="]
    g = pvr.Guest(NAME, devices, modules=("virtio_pci", "e1000e"))
    try:
        g.boot()
        g.wait_guest("[ -e /sys/class/net/eth0 ]")
        link_up(g)
        traffic(g)

        seq = g.notify("nic0", "error-detected", fatal=True, reset=True)
        prep = g.wait_ack(seq)
        pvr.check((prep["status"], prep["method"]) == ("prepared", "aer"),
                  "error-detected answered %s/%s" % (prep["status"], prep["method"]))
        _, ev = g.qmp.wait_event("PVRECOVER_ACK", 120, device="nic0",
                                 notice="reset-done")
        done = ev["data"]
        pvr.check((done["status"], done["method"]) == ("recovered", "aer"),
                  "reset-done answered %s/%s" % (done["status"], done["method"]))

        pvr.check(steps(g, seq)[:1] == ["error_detected"],
                  "error-detected steps %r" % steps(g, seq))
        after = steps(g, done["seq"])
        pvr.check("slot_reset" in after and "resume" in after,
                  "reset-done steps %r" % after)
        pvr.check("reset_prepare" not in steps(g, seq) + after,
                  "reset hooks used on a driver without them")
        assert_order(g, seq, "error_detected", done["seq"], "slot_reset")
        assert_order(g, done["seq"], "slot_reset", done["seq"], "resume")

        # The link comes back and frames flow again.
        wait_carrier(g)
        traffic(g)

        # A non-fatal error: e1000e votes NEED_RESET, so the guest resets the
        # function itself (through QEMU's emulation), then slot_reset/resume.
        seq = g.notify("nic0", "error-detected", fatal=False)
        a = g.wait_ack(seq, timeout=120)
        pvr.check((a["status"], a["method"]) == ("recovered", "aer"),
                  "non-fatal error answered %s/%s" % (a["status"], a["method"]))
        pvr.check(steps(g, seq)[:4] == ["error_detected", "reset_function",
                                        "slot_reset", "resume"],
                  "non-fatal steps %r" % steps(g, seq))
        wait_carrier(g)
        traffic(g)

        need_reset(g)

        c = g.pvr_sysfs()
        pvr.check(c.get("recovered_aer") == 3 and c.get("failed") == 0,
                  "guest counters %r" % c)
        g.assert_kernel_healthy()
    finally:
        g.close()
