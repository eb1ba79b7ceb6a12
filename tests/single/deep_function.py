"""A function's address has at most 8 hops (spec 7.1.1): a bridge 8 hops
down, below a root port and three PCIe switches, is named to the guest,
which resolves the whole path (no driver is bound to it: no-driver); the
function behind that bridge, 9 hops down, cannot be named, so QEMU
refuses to notify about it or plan its reset, though it is covered, and
the guest hears nothing about it."""

import pvr
from _common import recovery_device

NAME = "single/deep-function"
DEFAULT_KERNEL_ONLY = True   # QEMU's rule; the guest side is the same code


def chain():
    """rp9 (hop 1), three switches (hops 2-7), a PCIe-to-PCI bridge
    (hop 8) and an edu device behind it (hop 9)."""
    d = ["-device", "pcie-root-port,id=rp9,chassis=9,slot=9"]
    parent = "rp9"
    for i in range(3):
        d += ["-device", "x3130-upstream,id=up%d,bus=%s" % (i, parent),
              "-device", "xio3130-downstream,id=dn%d,bus=up%d,chassis=%d,slot=0"
              % (i, i, 20 + i)]
        parent = "dn%d" % i
    d += ["-device", "pcie-pci-bridge,id=deep8,bus=%s" % parent,
          "-device", "edu,id=deep9,bus=deep8,addr=3"]
    return d


def run():
    g = pvr.Guest(NAME, recovery_device(cover=["deep9"]) + chain(),
                  modules=("virtio_pci",))
    try:
        g.boot()
        g.wait_console(r"pvrecover: ready", 30)
        mark = g.mark()

        seq = g.notify("deep8", "state-lost")
        a = g.wait_ack(seq)
        pvr.check(a["status"] == "no-driver", "the bridge 8 hops down: %r" % a)
        ev = pvr.wait_trace(g, "pvrecover_notice_received", 30, mark, seq=seq)
        bdf = ev.fields["bdf"]
        pvr.check(bdf != "-", "the guest did not resolve the path")
        dev = g.value("cat /sys/bus/pci/devices/%s/device" % bdf, r"(0x[0-9a-f]{4})")
        pvr.check(dev == "0x000e", "the guest resolved the path to %s (device %s),"
                  " not the PCIe-to-PCI bridge" % (bdf, dev))

        r = g.qmp.cmd_raw("pvrecover-notify", device="deep9", notice="state-lost")
        pvr.check("error" in r and "bridges away" in r["error"]["desc"],
                  "a notice about a function 9 hops down: %r" % r)
        r = g.qmp.cmd_raw("pvrecover-reset", device="deep9")
        pvr.check("error" in r and "bridges away" in r["error"]["desc"],
                  "a planned reset of a function 9 hops down: %r" % r)
        q = g.qmp.cmd("query-pvrecover")[0]
        pvr.check(q["notices-sent"] == 1 and q["queued"] == 0,
                  "query-pvrecover %r" % q)
        pvr.check(len(pvr.traces(g, "pvrecover_notice_received", mark)) == 1,
                  "the guest took more than the one notice")
        g.assert_kernel_healthy()
    finally:
        g.close()
