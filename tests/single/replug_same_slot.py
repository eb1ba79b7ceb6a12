"""Notices do not outlive their function.  With pvrecover.ko not loaded a
notice about nvme2 waits in QEMU's queue; nvme2 is unplugged (QMP
device_del, the guest's pciehp powers the slot off) and another nvme is
plugged at the same slot.  QEMU drops the notice and reports it
(PVRECOVER_DROPPED); when the driver loads, the new function never
receives it: no step is logged for it, no acknowledgment is reported, the
new controller is not reset.  Twice: the new function under a new qdev
id, then under the old one's.  Afterwards a notice about the new
function is answered and it works."""

import pvr
from _common import plug_nvme, recovery_device, unplug

NAME = "single/replug-same-slot"
BDF = "0000:01:00.0"


def run():
    imgs = [pvr.blank_disk(NAME, "disk%d.img" % i) for i in range(3)]
    devices = recovery_device() + [
        "-device", "pcie-root-port,id=rp1,chassis=1,slot=1"]
    for i, img in enumerate(imgs):
        devices += ["-drive", "file=%s,if=none,id=drv%d,format=raw" % (img, i)]
    devices += ["-device", "nvme,serial=pvr-nvme2,drive=drv0,id=nvme2,bus=rp1"]
    g = pvr.Guest(NAME, devices, modules=("virtio_pci", "nvme"), pvrecover=False)
    try:
        g.boot()
        g.wait_guest("[ -b /dev/nvme0n1 ]", 60)
        old, new_ids = "nvme2", ("nvme3", "nvme3")
        for i, new in enumerate(new_ids):
            # The driver is not loaded: the notice waits in QEMU's queue.
            seq = g.notify(old, "state-lost")
            unplug(g, old)
            _, ev = g.qmp.wait_event("PVRECOVER_DROPPED", 30, seq=seq)
            pvr.check(ev["data"] == {"recovery": "pvr0", "device": old, "seq": seq,
                                     "notice": "state-lost"},
                      "PVRECOVER_DROPPED %r" % ev["data"])
            plug_nvme(g, new, "drv%d" % (i + 1), BDF)
            mark = g.mark()
            g.run("modprobe pvrecover")
            g.wait_console(r"pvrecover: ready", 30, mark)
            # A notice about the new function proves the queue was read
            # through: the old one would have come first.
            probe = g.notify(new, "state-lost", reset=True)
            a = g.wait_ack(probe, timeout=60)
            pvr.check((a["device"], a["status"], a["method"]) ==
                      (new, "recovered", "reset-hooks"), "new function answered %r" % a)
            pvr.check(not [e for e in g.qmp.events if e["event"] == "PVRECOVER_ACK"
                           and e["data"]["seq"] == seq],
                      "the dropped notice %d was answered" % seq)
            pvr.check(not pvr.traces(g, r"pvrecover_\w+", mark, seq=seq),
                      "the guest handled the dropped notice %d" % seq)
            steps = pvr.traces(g, r"pvrecover_\w+", mark)
            pvr.check(steps and all(e["seq"] == probe for e in steps),
                      "notices handled after the replug: %r" % steps)
            g.run("dd if=/dev/nvme0n1 of=/dev/null bs=64k count=16 iflag=direct")
            g.run("rmmod pvrecover")
            old = new
        q = g.qmp.cmd("query-pvrecover")
        pvr.check(q[0]["queued"] == 0, "query-pvrecover %r" % q)
        g.assert_kernel_healthy()
    finally:
        g.close()
