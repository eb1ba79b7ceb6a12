"""ARI in addresses (spec 7.1): with ARI a device has up to 256 functions
and no device number, and a path entry holds the 8-bit function number,
the low byte of the routing ID.  An nvme with SR-IOV and ARI behind a root
port gets nine virtual functions, function numbers 1 to 9 on the physical
function's bus (8 and 9 would read as device 1 without ARI), no driver
bound to them.  A notice about function 9 resolves to that VF and is
answered no-driver; one about function 10, which does not exist,
unknown-device.  (VFs on the physical function's own bus are named like
any function; open item 3 is about VFs beyond it.)"""

import re

import pvr
from _common import devfn, recovery_device

NAME = "single/ari-functions"
VFS = 9
ERROR_DETECTED = 1
RAW = 0x60000000    # seqs of hand-made notices, far from QEMU's own


def run():
    # The SR-IOV nvme alone: it has no namespace, so no disk to wait for.
    g = pvr.Guest(NAME, recovery_device() + [
        "-device", "pcie-root-port,id=rp2,chassis=2,slot=2",
        "-device", "nvme-subsys,id=subsys0",
        "-device", "nvme,serial=pvr-sriov,id=sriov0,bus=rp2,subsys=subsys0,"
                   "sriov_max_vfs=%d,sriov_vq_flexible=%d,sriov_vi_flexible=%d"
                   % (VFS, 2 * VFS, VFS)], modules=("virtio_pci", "nvme"))
    try:
        g.boot()
        pf = g.value("for d in /sys/bus/pci/devices/*; do "
                     "[ -e $d/sriov_totalvfs ] && echo PF=${d##*/}; done; true",
                     r"PF=(\S+)")
        port = g.value("readlink -f /sys/bus/pci/devices/%s" % pf,
                       r"/([0-9a-f:.]+)/[0-9a-f:.]+$")
        sysfs = "/sys/bus/pci/devices/%s" % pf
        # The nvme driver enables VFs (sriov_configure); they get none.
        g.wait_guest("[ -e %s/driver ]" % sysfs, 60)
        g.run("echo 0 > %s/sriov_drivers_autoprobe" % sysfs)
        g.run("echo %d > %s/sriov_numvfs" % (VFS, sysfs))
        bus = pf.rsplit(":", 1)[0]
        vf9 = "%s:01.1" % bus
        g.wait_guest("[ -e /sys/bus/pci/devices/%s/physfn ]" % vf9, 60)
        pvr.check(g.run("ls /sys/bus/pci/devices/%s/ | grep -c '^virtfn'" % pf) == str(VFS),
                  "not %d VFs" % VFS)

        def notice(seq, fn):
            g.send_raw(pvr.notice_bytes(seq, ERROR_DETECTED, path=(devfn(port), fn)))
            return g.wait_ack(seq, timeout=60)

        a = notice(RAW + 1, VFS)
        pvr.check(a["status"] == "no-driver", "function %d answered %r" % (VFS, a))
        pvr.wait_trace(g, "pvrecover_notice_answered", 10, bdf=re.escape(vf9),
                       seq=RAW + 1, status="no-driver")
        a = notice(RAW + 2, VFS + 1)
        pvr.check(a["status"] == "unknown-device",
                  "function %d (none) answered %r" % (VFS + 1, a))
        g.assert_kernel_healthy()
    finally:
        g.close()
