"""Functions that go away mid-recovery.  An nvme quiesced through
reset_prepare (a fatal error, reset-done not yet sent) is hot-unplugged
with QMP device_del (the guest's pciehp removes it); a later reset-done
about the vanished function is answered unknown-device.  A second nvme is
removed through the guest's sysfs while a notice about it is half way
through dispatch (test_dispatch_delay_ms holds it between resolving the
address and looking up the function's context) with two more queued
behind it: every one is answered as about a vanished function, no context
is left pinning the removed function (pvrecover warns at unload if one
is), rmmod succeeds and the kernel log stays clean."""

import re

import pvr
from _common import nvme, nvme_guest, steps

NAME = "single/unplug-mid-recovery"
RESET_DONE = 2
RAW = 0x50000000    # seq of the hand-made notice, far from QEMU's own
DELAY_MS = 4000
PARAM = "/sys/module/pvrecover/parameters/test_dispatch_delay_ms"
GONE = ("unknown-device", "no-driver")
PINNED = "context of a removed function held until unload"


def locate(g, serial):
    """(BDF, devfn of its root port) of the nvme with this serial."""
    path = g.value("for c in /sys/class/nvme/nvme*; do grep -q %s $c/serial && "
                   "echo P=$(readlink -f $c/device); done; true" % serial, r"P=(\S+)")
    rp, bdf = path.split("/")[-2:]
    m = re.match(r"[0-9a-f]{4}:00:([0-9a-f]{2})\.([0-7])$", rp)
    pvr.check(m is not None, "%s is not behind a root port: %s" % (serial, path))
    return bdf, int(m.group(1), 16) << 3 | int(m.group(2))


def run():
    _, disk1 = nvme(NAME, bus_slot=2, ident="nvme1")
    g, _ = nvme_guest(NAME, extra=disk1)
    try:
        g.wait_guest("[ -b /dev/nvme1n1 ]")
        bdf0, rp0 = locate(g, "pvr-nvme0")
        bdf1, _ = locate(g, "pvr-nvme1")
        base = g.pvr_sysfs()

        # 1. Half a recovery: quiesced, waiting for reset-done, when the
        # host unplugs the function (native PCIe hotplug in the guest).
        seq = g.notify("nvme0", "error-detected", fatal=True)
        a = g.wait_ack(seq)
        pvr.check((a["status"], a["method"]) == ("prepared", "reset-hooks"),
                  "error-detected answered %r" % a)
        g.qmp.cmd("device_del", id="nvme0")
        g.qmp.wait_event("DEVICE_DELETED", 60, device="nvme0")
        g.wait_guest("[ ! -e /sys/bus/pci/devices/%s ]" % bdf0)
        # The second half, about a function the guest no longer has.
        g.send_raw(pvr.notice_bytes(RAW, RESET_DONE, path=(rp0, 0)))
        a = g.wait_ack(RAW)
        pvr.check(a["status"] == "unknown-device", "reset-done after unplug: %r" % a)

        # 2. Removed while a notice about it is being dispatched, with
        # more queued behind it.
        g.run("echo %d > %s" % (DELAY_MS, PARAM))
        mark = g.mark()
        seqs = [g.notify("nvme1", "error-detected", fatal=True),
                g.notify("nvme1", "reset-done"),
                g.notify("nvme1", "state-lost")]
        g.wait_console(r"pvrecover: seq %d [\w-]+: dispatch delayed" % seqs[0], 60, mark)
        g.run("echo 1 > /sys/bus/pci/devices/%s/remove" % bdf1, timeout=60)
        g.run("[ ! -e /sys/bus/pci/devices/%s ]" % bdf1)
        for s in seqs:
            a = g.wait_ack(s, timeout=60)
            pvr.check(a["status"] in GONE and a["method"] == "none",
                      "seq %d about a removed function answered %r (steps %r)"
                      % (s, a, steps(g, s)))
        g.run("echo 0 > %s" % PARAM)
        now = g.pvr_sysfs()
        pvr.check(now["unknown_device"] + now["no_driver"] -
                  base["unknown_device"] - base["no_driver"] == 4,
                  "counters %r, before %r" % (now, base))

        # Nothing pins a removed function: unload is clean.
        mark = g.mark()
        g.run("rmmod pvrecover", timeout=60)
        pvr.check("pvrecover" not in g.run("cat /proc/modules"), "still loaded")
        pvr.check(PINNED not in g.console[mark:],
                  "a context outlived its function: %r"
                  % g.console[g.console.find(PINNED, mark) - 200:][:400])
        g.assert_kernel_healthy()
    finally:
        g.close()
