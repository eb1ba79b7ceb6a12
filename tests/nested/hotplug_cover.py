"""A covered function hot-plugged after L2 started is covered too.  L2's
recovery device (vhost-recover-pci) lists hostdev0 and hostdev9 in
"cover", neither present when the machine is built.  device_add of the
nvme as vfio-pci hostdev0 attaches it to vhost-recover.ko at once; a fatal
error on it is then recovered by L2 through the kernel backend, data
intact, L2 never paused.  A covered id that is no vfio function
(pci-testdev hostdev9) cannot be attached: QEMU reports it
(PVRECOVER_UNCOVERED).  device_del of hostdev0 detaches it."""

import nested
import pvr
from _common import assert_data_and_new_io, write_pattern

NAME = "nested/hotplug-cover"


def run():
    img = pvr.blank_disk(NAME, "nvme.img", size_mb=16)
    n = nested.Nested(NAME, img)
    try:
        nested.require_backend("vhost")
        n.boot_l1(need_modules=("vhost_recover",))
        n.start_l2(backend="vhost", cover=["hostdev0", "hostdev9"], plugged=False,
                   extra=["-device", "pcie-root-port,id=rp2,chassis=2,slot=2"])
        pvr.check(not [e for e in n.qmp2.events if e["event"] == "PVRECOVER_UNCOVERED"],
                  "absent functions reported: %r" % n.qmp2.events)

        l1_mark = n.l0.mark()
        n.qmp2.cmd("device_add", driver="vfio-pci", host=nested.NVME_BDF,
                   id="hostdev0", bus="rp1")
        n.wait_module(r"attached as cookie 1", 30, l1_mark)
        n.l2.wait_guest("[ -b /dev/nvme0n1 ]", 60)
        data = write_pattern(n.l2, "/dev/nvme0n1")

        ev_mark = len(n.qmp2.events)
        n.inject_fatal()
        prep, done = nested.fatal_answers(n, ev_mark, timeout=60)
        pvr.check((prep["status"], done["status"]) == ("prepared", "recovered"),
                  "answers %r %r" % (prep, done))
        n.wait_module(r"host recovery finished in \d+ ms, seq %d reset-done queued"
                      % done["seq"], 10, l1_mark)
        assert_data_and_new_io(n.l2, "/dev/nvme0n1", data)
        nested.l2_running(n)

        # A covered id that is no vfio function is reported, not covered.
        ev_mark = len(n.qmp2.events)
        n.qmp2.cmd("device_add", driver="pci-testdev", id="hostdev9", bus="rp2")
        _, un = n.qmp2.wait_event("PVRECOVER_UNCOVERED", 10, ev_mark)
        pvr.check(un["data"]["device"] == "hostdev9" and un["data"]["recovery"] == "pvr0",
                  "PVRECOVER_UNCOVERED %r" % un["data"])

        # Unplugged: the module lets go of it.
        l1_mark = n.l0.mark()
        ev_mark = len(n.qmp2.events)
        n.qmp2.cmd("device_del", id="hostdev0")
        n.qmp2.wait_event("DEVICE_DELETED", 60, ev_mark, device="hostdev0")
        n.wait_module(r"detached", 30, l1_mark)
        nested.l2_running(n)
        n.l0.assert_kernel_healthy()
        n.l2.assert_kernel_healthy()
    finally:
        n.close()
