"""An emulated nvme loses its state in a real reset; the nvme driver
recovers through reset_prepare/reset_done and the data is intact.  Also:
the device offers VIRTIO_F_VERSION_1 (spec 4.1), its first notices have
seq 1 and 2 (7.2.1), and it keeps the VM from migrating (9.1)."""

import pvr
from _common import (assert_order, host_digest, nvme_guest, read_digest,
                     recovery_uevents, start_uevent_log, steps, write_pattern)

NAME = "single/nvme-state-lost"


def run():
    g, img = nvme_guest(NAME)
    try:
        # The features the driver accepted, bit 0 first: bit 32 is
        # VIRTIO_F_VERSION_1.
        feats = g.value("cat /sys/bus/virtio/drivers/pvrecover/virtio*/features",
                        r"([01]{32,})")
        pvr.check(feats[32] == "1", "VIRTIO_F_VERSION_1 not negotiated: %s" % feats)
        before = write_pattern(g, "/dev/nvme0n1")
        pvr.check(host_digest(img) == before, "pattern did not reach the disk image")
        start_uevent_log(g)

        seq = g.notify("nvme0", "error-detected", fatal=True, reset=True)
        prep = g.wait_ack(seq)
        pvr.check(prep["device"] == "nvme0", "ack names %r" % prep["device"])
        pvr.check((prep["status"], prep["method"]) == ("prepared", "reset-hooks"),
                  "error-detected answered %s/%s" % (prep["status"], prep["method"]))
        _, ev = g.qmp.wait_event("PVRECOVER_ACK", 120, device="nvme0",
                                 notice="reset-done")
        done = ev["data"]
        pvr.check((done["status"], done["method"]) == ("recovered", "reset-hooks"),
                  "reset-done answered %s/%s" % (done["status"], done["method"]))
        pvr.check((seq, done["seq"]) == (1, 2), "seqs %d, %d" % (seq, done["seq"]))

        # The callbacks ran, in the contract's order.
        pvr.check(steps(g, seq)[:1] == ["reset_prepare"],
                  "error-detected steps %r" % steps(g, seq))
        pvr.check("reset_done" in steps(g, done["seq"]),
                  "reset-done steps %r" % steps(g, done["seq"]))
        assert_order(g, seq, "reset_prepare", done["seq"], "reset_done")

        # udev sees the PCI core's own recovery events, on the nvme function.
        ev = recovery_uevents(g, "SUCCESSFUL_RECOVERY")
        pvr.check([(e[1], e[2]) for e in ev] ==
                  [("BEGIN_RECOVERY", "0"), ("SUCCESSFUL_RECOVERY", "1")],
                  "recovery uevents %r" % ev)
        pvr.check(all(e[0].endswith("/0000:01:00.0") for e in ev),
                  "uevents not on the nvme function: %r" % ev)

        # Data written before the reset reads back identical; new I/O works.
        pvr.check(read_digest(g, "/dev/nvme0n1") == before,
                  "data read back after recovery differs")
        after = write_pattern(g, "/dev/nvme0n1", offset_kb=4096)
        pvr.check(read_digest(g, "/dev/nvme0n1", offset_kb=4096) == after,
                  "new I/O after recovery reads back wrong")
        pvr.check(host_digest(img, offset_kb=4096) == after,
                  "new I/O after recovery did not reach the disk")

        c = g.pvr_sysfs()
        pvr.check(c.get("notices") == 2 and c.get("recovered_reset_hooks") == 1
                  and c.get("failed") == 0,
                  "guest counters %r" % c)
        pvr.check(g.qmp.cmd("query-status")["status"] == "running", "VM not running")
        # Not migratable (spec 9.1): QEMU lists the recovery device among
        # what blocks a migration (the emulated nvme is another) and
        # refuses one at once.
        reasons = g.qmp.cmd("query-migrate").get("blocked-reasons", [])
        pvr.check([r for r in reasons if "virtio-pvrecover" in r],
                  "migration blockers %r" % reasons)
        r = g.qmp.cmd_raw("migrate", uri="exec:cat >/dev/null")
        pvr.check("error" in r and "non-migratable" in r["error"]["desc"],
                  "migrate: %r" % r)
        pvr.check(g.qmp.cmd("query-status")["status"] == "running",
                  "VM not running after the refused migration")
        g.assert_kernel_healthy()
    finally:
        g.close()
