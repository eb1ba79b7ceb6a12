"""A notice reaches only the function the device meant (spec 7.8), even
one the guest is slow to take.  pvrecover's test_hold_notices leaves
notices in the used ring, as a slow guest would.

1. A notice about nvme2, the first the device sends about it, is written
   while the guest holds its notices; nvme2 is unplugged and another nvme
   plugged at the same slot before the guest takes it.  Taken then, it is
   answered unknown-device: no callback runs on the new function, `stale`
   counts it, and QEMU counts the answer unmatched.  A notice about the
   new function then recovers it, its data intact.
2. The guest removes the function and finds it again (sysfs remove and
   rescan): the first notice after that recovers it.
3. A notice written while the guest has removed the function, and taken
   after the rescan added it back, is answered unknown-device: the driver
   cannot know it was about this function."""

import pvr
from _common import (hold_notices, plug_nvme, read_digest, recovery_device, unplug,
                     write_pattern)

NAME = "single/replug-sent-notice"
BDF = "0000:01:00.0"


def recovered(g, device, what):
    seq = g.notify(device, "state-lost", reset=True)
    a = g.wait_ack(seq, timeout=60)
    pvr.check((a["status"], a["method"]) == ("recovered", "reset-hooks"),
              "%s answered %r" % (what, a))
    return seq


def held(g, device):
    """A notice about `device` written while the guest holds notices."""
    hold_notices(g, True)
    mark = g.mark()
    seq = g.notify(device, "state-lost")
    g.wait_console(r"pvrecover: holding notices", 30, mark)
    q = g.qmp.cmd("query-pvrecover")[0]
    pvr.check(q["queued"] == 0, "the notice was not written: %r" % q)
    return seq, q


def stale(g, seq, what):
    """Release the held notices; `seq` is answered unknown-device, with
    no callback."""
    base = g.pvr_sysfs()
    mark = g.mark()
    hold_notices(g, False)
    a = pvr.wait_trace(g, "pvrecover_notice_answered", 30, mark, seq=seq)
    pvr.check((a["bdf"], a["status"]) == (BDF, "unknown-device"),
              "%s: %r" % (what, a))
    cbs = pvr.traces(g, r"pvrecover_callback_\w+", mark, seq=seq)
    pvr.check(not cbs, "%s ran callbacks: %r" % (what, cbs))
    c = g.pvr_sysfs()
    pvr.check(c["stale"] - base["stale"] == 1, "stale %r, before %r" % (c, base))


def run():
    imgs = [pvr.blank_disk(NAME, "disk%d.img" % i) for i in range(2)]
    devices = recovery_device() + [
        "-device", "pcie-root-port,id=rp1,chassis=1,slot=1"]
    for i, img in enumerate(imgs):
        devices += ["-drive", "file=%s,if=none,id=drv%d,format=raw" % (img, i)]
    devices += ["-device", "nvme,serial=pvr-nvme2,drive=drv0,id=nvme2,bus=rp1"]
    g = pvr.Guest(NAME, devices, modules=("virtio_pci", "nvme"))
    try:
        g.boot()
        g.wait_console(r"pvrecover: ready", 30)
        g.wait_guest("[ -b /dev/nvme0n1 ]", 60)

        # 1. Written before the unplug, taken after the replug.
        seq, q = held(g, "nvme2")
        unplug(g, "nvme2", BDF)
        g.qmp.wait_event("PVRECOVER_DROPPED", 30, seq=seq)
        plug_nvme(g, "nvme3", "drv1", BDF)
        data = write_pattern(g, "/dev/nvme0n1")
        stale(g, seq, "the old function's notice, on the new function")
        probe = recovered(g, "nvme3", "the new function's first notice")
        # The old notice's answer came before the probe's on the ack queue.
        q2 = g.qmp.cmd("query-pvrecover")[0]
        pvr.check(q2["unmatched-acks"] - q["unmatched-acks"] == 1,
                  "unmatched acks %r, before %r" % (q2, q))
        pvr.check(not [e for e in g.qmp.events if e["event"] == "PVRECOVER_ACK"
                       and e["data"]["seq"] == seq],
                  "the dropped notice %d was reported answered" % seq)
        pvr.check(read_digest(g, "/dev/nvme0n1") == data,
                  "data differs after the recovery (probe %d)" % probe)

        # 2. Found again by the guest: its next notice recovers it.
        g.run("echo 1 > /sys/bus/pci/devices/%s/remove" % BDF)
        g.run("echo 1 > /sys/bus/pci/rescan")
        g.wait_guest("[ -b /dev/nvme0n1 ]", 60)
        recovered(g, "nvme3", "the first notice after a rescan")

        # 3. Written while the guest had no function there, taken after
        # the rescan added it back.
        g.run("echo 1 > /sys/bus/pci/devices/%s/remove" % BDF)
        seq, _ = held(g, "nvme3")
        g.run("echo 1 > /sys/bus/pci/rescan")
        g.wait_guest("[ -b /dev/nvme0n1 ]", 60)
        stale(g, seq, "a notice from before the rescan")
        recovered(g, "nvme3", "the notice after the rescan")
        pvr.check(read_digest(g, "/dev/nvme0n1") == data, "data differs at the end")
        g.assert_kernel_healthy()
    finally:
        g.close()
