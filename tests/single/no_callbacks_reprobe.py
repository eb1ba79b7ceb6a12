"""A virtio-blk disk: virtio_pci has none of the error callbacks, so the
guest recovers it by unbinding the driver and probing it again."""

import pvr
from _common import (assert_order, host_digest, read_digest, recovery_device,
                     steps, write_pattern)

NAME = "single/no-callbacks-reprobe"

FIND = ("for d in /sys/block/vd*; do [ \"$(cat $d/serial 2>/dev/null)\" = pvrblk ] "
        "&& echo DISK=${d##*/}; done")


def disk(g):
    return "/dev/" + g.value(FIND, r"DISK=(\w+)")


def run():
    img = pvr.blank_disk(NAME, "blk.img")
    devices = recovery_device() + [
        "-device", "pcie-root-port,id=rp1,chassis=1,slot=1",
        "-drive", "file=%s,if=none,id=drv-blk,format=raw" % img,
        "-device", "virtio-blk-pci,drive=drv-blk,id=blk0,serial=pvrblk,"
                   "disable-legacy=on,bus=rp1"]
    g = pvr.Guest(NAME, devices, modules=("virtio_pci", "virtio_blk"))
    try:
        g.boot()
        g.wait_guest("ls /sys/block | grep -q vd")
        dev = disk(g)
        before = write_pattern(g, dev)
        pvr.check(host_digest(img) == before, "pattern did not reach the disk image")

        seq = g.notify("blk0", "error-detected", fatal=True, reset=True)
        prep = g.wait_ack(seq)
        pvr.check((prep["status"], prep["method"]) == ("prepared", "reprobe"),
                  "error-detected answered %s/%s" % (prep["status"], prep["method"]))
        _, ev = g.qmp.wait_event("PVRECOVER_ACK", 120, device="blk0",
                                 notice="reset-done")
        done = ev["data"]
        pvr.check((done["status"], done["method"]) == ("recovered", "reprobe"),
                  "reset-done answered %s/%s" % (done["status"], done["method"]))
        after = steps(g, done["seq"])
        pvr.check("unbind" in after and "probe" in after, "reset-done steps %r" % after)
        for cb in ("reset_prepare", "error_detected", "slot_reset"):
            pvr.check(cb not in steps(g, seq) + after, "%s called on virtio_pci" % cb)
        assert_order(g, done["seq"], "unbind", done["seq"], "probe")

        # The disk is back (possibly under another name) with its data.
        g.wait_guest("ls /sys/block | grep -q vd")
        dev = disk(g)
        pvr.check(read_digest(g, dev) == before, "data read back after re-probe differs")
        new = write_pattern(g, dev, offset_kb=4096)
        pvr.check(read_digest(g, dev, offset_kb=4096) == new, "new I/O reads back wrong")
        c = g.pvr_sysfs()
        pvr.check(c.get("recovered_reprobe") == 1 and c.get("failed") == 0,
                  "guest counters %r" % c)
        g.assert_kernel_healthy()
    finally:
        g.close()
