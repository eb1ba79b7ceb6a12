"""Nested device assignment: L0 (the patched QEMU under TCG) runs L1, a
Debian guest with an IOMMU, vfio and KVM; L1 runs the patched QEMU again
and assigns L0's emulated nvme to L2 with vfio-pci.  An AER error injected
at the nvme's root port in L0 is a real error for L1's kernel.

Serial lines of L1, all reachable from the harness:
  ttyS0  L1's kernel console (L0's stdio)     Nested.l0
  ttyS1  L1's shell                           Nested.l1
  ttyS2  L2's console (L2's serial, via L1)   Nested.l2
  ttyS3  L2's QEMU monitor (QMP, via L1)      Nested.qmp2
"""

import json
import os

import pvr

L1_INITRD = os.environ.get("PVR_INITRD_L1",
                           os.path.join(pvr.BUILD, "guest", "initramfs-l1.cpio.gz"))
L1_MODULES = ("vfio", "vfio_iommu_type1", "vfio_pci", "kvm_amd")
# The nvme as L1 sees it: behind L0's root port rp1.
NVME_BDF = "0000:01:00.0"


class Nested:
    def __init__(self, name, nvme_img):
        devices = [
            "-device", "intel-iommu,intremap=on,caching-mode=on",
            # Without it L1's root port never reports DLActive and L1's AER
            # link reset fails.
            "-global", "ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off",
            "-device", "pcie-root-port,id=rp1,chassis=1,slot=1",
            "-drive", "file=%s,if=none,id=nv0,format=raw" % nvme_img,
            "-device", "nvme,serial=pvr-nested,drive=nv0,id=nvme0,bus=rp1",
        ]
        self.l0 = pvr.Guest(name, devices, modules=L1_MODULES, pvrecover=False,
                            mem=3072, machine="q35,kernel-irqchip=split",
                            accel="tcg,thread=multi", cpu="max",
                            initrd=L1_INITRD,
                            append="intel_iommu=on pvr.shell=ttyS1",
                            serials=("l1", "l2", "qmp2"))
        self.log = self.l0.log
        self.dir = self.l0.dir
        self.l0.tag = "l1k"
        self.l1 = pvr.SocketConsole(self.l0.serial_paths[0], self.log, "l1")
        self.l2 = pvr.SocketConsole(self.l0.serial_paths[1], self.log, "l2")
        self.qmp2 = None

    def boot_l1(self):
        self.l1.boot(timeout=180)
        # vfio-pci takes the nvme; L1 has no nvme driver to race it.
        self.l1.run("echo vfio-pci > /sys/bus/pci/devices/%s/driver_override && "
                    "echo %s > /sys/bus/pci/drivers_probe" % (NVME_BDF, NVME_BDF))
        self.l1.wait_guest("[ -e /sys/bus/pci/drivers/vfio-pci/%s ]" % NVME_BDF)

    def start_l2(self, recovery=True, cover=("hostdev0",),
                 l2_modules=("virtio_pci", "nvme"), pvrecover=True):
        """Start L2's QEMU in L1 (KVM) with the nvme assigned, and boot L2.
        With `recovery`, L2 has a virtio-pvrecover device covering `cover`."""
        argv = ["qemu-system-x86_64", "-accel", "kvm", "-cpu", "host",
                "-machine", "q35", "-m", "512", "-smp", "1", "-nodefaults",
                "-display", "none", "-no-reboot", "-L", "/usr/share/qemu",
                "-chardev", "serial,id=con,path=/dev/ttyS2", "-serial", "chardev:con",
                "-chardev", "serial,id=qmp,path=/dev/ttyS3",
                "-mon", "chardev=qmp,mode=control",
                "-kernel", "/l2/vmlinuz", "-initrd", "/l2/initramfs.cpio.gz",
                "-append", "console=ttyS0 panic=-1 pvr.modules=%s%s" % (
                    ",".join(l2_modules), "" if pvrecover else " pvr.pvrecover=0"),
                "-device", "pcie-root-port,id=rp1,chassis=1,slot=1",
                "-device", "vfio-pci,host=%s,id=hostdev0,bus=rp1" % NVME_BDF]
        if recovery:
            argv += ["-device", json.dumps({"driver": "virtio-pvrecover-pci",
                                            "id": "pvr0", "cover": list(cover)})]
        cmd = " ".join("'%s'" % a for a in argv)
        # QEMU must not share the shell's stdin: it makes fd 0 non-blocking.
        self.l1.run("(%s </dev/null >/tmp/l2-qemu.log 2>&1 &)" % cmd)
        self.qmp2 = pvr.Qmp(self.l0.serial_paths[2], self.log, greeting_timeout=120,
                            tag="qmp2")
        self.l2.boot(timeout=180)

    def boot(self, **l2_args):
        """L1 up with the nvme on vfio-pci, L2 up with the nvme's disk."""
        self.boot_l1()
        self.start_l2(**l2_args)
        self.l2.wait_guest("[ -b /dev/nvme0n1 ]", 60)

    def inject_fatal(self, port="rp1", error="MALF_TLP"):
        """A fatal uncorrectable error at L0's root port above the nvme."""
        self.l0.qmp.cmd("human-monitor-command",
                        **{"command-line": "pcie_aer_inject_error %s %s" % (port, error)})

    def l2_qemu_log(self):
        return self.l1.run("cat /tmp/l2-qemu.log", check_rc=False)

    def close(self):
        for c in (self.l1, self.l2):
            c.close()
        if self.qmp2:
            self.qmp2.close()
        self.l0.close()
