"""The guest side of a planned, two-phase reset: on prepare-reset the guest
quiesces the driver while the function still works (reset_prepare for
nvme; for virtio-blk, with no callbacks, an unbind before the reset) and
answers prepared; QEMU resets on that answer, sends reset-done, and the
driver comes back with its data.  (The host side of planned resets, with
deadlines and fan-out, is a later milestone.)"""

import pvr
from _common import (host_digest, nvme_guest, read_digest, steps,
                     write_pattern)

NAME = "single/prepare-reset"
BLK = ("for d in /sys/block/vd*; do [ \"$(cat $d/serial 2>/dev/null)\" = pvrblk ] "
       "&& echo DISK=${d##*/}; done")


def planned(g, device, deadline_ms=5000):
    seq = g.notify(device, "prepare-reset", reset=True, deadline_ms=deadline_ms)
    prep = g.wait_ack(seq)
    _, ev = g.qmp.wait_event("PVRECOVER_ACK", 120, device=device, notice="reset-done")
    return seq, prep, ev["data"]


def run():
    blk = pvr.blank_disk(NAME, "blk.img")
    g, img = nvme_guest(NAME, extra=[
        "-device", "pcie-root-port,id=rp2,chassis=2,slot=2",
        "-drive", "file=%s,if=none,id=drv-blk,format=raw" % blk,
        "-device", "virtio-blk-pci,drive=drv-blk,id=blk0,serial=pvrblk,"
                   "disable-legacy=on,bus=rp2"],
        modules=("virtio_pci", "nvme", "virtio_blk"))
    try:
        nv = write_pattern(g, "/dev/nvme0n1")
        g.wait_guest("ls /sys/block | grep -q vd")
        vd = "/dev/" + g.value(BLK, r"DISK=(\w+)")
        bd = write_pattern(g, vd)

        seq, prep, done = planned(g, "nvme0")
        pvr.check((prep["status"], prep["method"]) == ("prepared", "reset-hooks"),
                  "nvme prepare answered %r" % prep)
        pvr.check(steps(g, seq)[:1] == ["reset_prepare"], "nvme steps %r" % steps(g, seq))
        pvr.check((done["status"], done["method"]) == ("recovered", "reset-hooks"),
                  "nvme reset-done answered %r" % done)
        pvr.check(read_digest(g, "/dev/nvme0n1") == nv, "nvme data differs")

        # No callbacks: the driver is unbound while the function still
        # works, before the reset, and probed again after it.
        seq, prep, done = planned(g, "blk0")
        pvr.check((prep["status"], prep["method"]) == ("prepared", "reprobe"),
                  "virtio-blk prepare answered %r" % prep)
        pvr.check(steps(g, seq)[:1] == ["unbind"], "virtio-blk steps %r" % steps(g, seq))
        pvr.check((done["status"], done["method"]) == ("recovered", "reprobe"),
                  "virtio-blk reset-done answered %r" % done)
        pvr.check("probe" in steps(g, done["seq"]) and
                  "unbind" not in steps(g, done["seq"]),
                  "virtio-blk reset-done steps %r" % steps(g, done["seq"]))
        g.wait_guest("ls /sys/block | grep -q vd")
        vd = "/dev/" + g.value(BLK, r"DISK=(\w+)")
        pvr.check(read_digest(g, vd) == bd and host_digest(blk) == bd,
                  "virtio-blk data differs")
        g.assert_kernel_healthy()
    finally:
        g.close()
