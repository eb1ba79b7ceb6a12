"""Recovery of a busy device: L2 writes to its assigned nvme with O_DIRECT,
continuously, while L0 injects the error above it.  Four rounds in one
boot, each with writers of their own on a region of their own
(tests/progs/io_writer.c): a fatal error under one synchronous writer, a
fatal error under four writers (four requests outstanding), a non-fatal
error under four, and a planned reset under four; through vhost-recover.ko
(nested/io-in-flight-qemu: through QEMU's userspace device).

After each recovery the writers must go on: each writes 200 more blocks
once the recovery was answered, no write fails, every block reads back as
last written, and L2's nvme driver never times a request out.  The
longest time one write took in each round is logged; its bound belongs to
make bench.

The stall this test was written for: L2 keeps submitting to the function
while L1 resets its link, before L2 hears of the error, so a request is
always lost in the reset and requeued by reset_prepare.  Debian 6.1's
nvme driver dispatches requeued requests before it configures the
controller's doorbell buffer again, and with a controller that offers one
(QEMU's emulated nvme did, in L0) every later submission went only to the
shadow doorbell: a 30 s timeout, a controller reset, and the same again.
Physical controllers offer no doorbell buffer, and L0's stand-in no longer
does (nested.L0_NVME_PROPS)."""

import nested
import pvr
from _common import Writer, assert_data_and_new_io, assert_no_io_timeout, write_pattern

NAME = "nested/io-in-flight"
DEV = "/dev/nvme0n1"


def answered(n, ev_mark, notice, status):
    _, ack = n.qmp2.wait_event("PVRECOVER_ACK", 60, ev_mark, device="hostdev0",
                               notice=notice)
    ack = ack["data"]
    pvr.check(ack["status"] == status, "%s answered %r" % (notice, ack))
    return ack


def error_round(n, name, jobs, region_mb, fatal):
    w = Writer(n.l2, DEV, name, jobs, region_mb)
    ev_mark = len(n.qmp2.events)
    l1_mark = n.l0.mark()
    if fatal:
        n.inject_fatal()
    else:
        n.inject_nonfatal()
    if fatal or n.backend == "virtio":
        # QEMU's userspace device cannot tell a vfio error's severity: it
        # resets the function after every one.
        answered(n, ev_mark, "error-detected", "prepared")
        answered(n, ev_mark, "reset-done", "recovered")
    else:
        answered(n, ev_mark, "error-detected", "recovered")
    n.l0.wait_console(r"AER: device recovery successful", 30, l1_mark)
    return w.finish(n.log)


def planned_round(n, name, jobs, region_mb):
    w = Writer(n.l2, DEV, name, jobs, region_mb)
    ev_mark = len(n.qmp2.events)
    n.plan_reset("hostdev0", 8000)
    answered(n, ev_mark, "prepare-reset", "prepared")
    _, r = n.qmp2.wait_event("PVRECOVER_RESET", 60, ev_mark, device="hostdev0")
    pvr.check(r["data"]["success"] and not r["data"]["deadline-hit"],
              "PVRECOVER_RESET %r" % r["data"])
    answered(n, ev_mark, "reset-done", "recovered")
    return w.finish(n.log)


def run_rounds(name, backend):
    img = pvr.blank_disk(name, "nvme.img", size_mb=64)
    n = nested.Nested(name, img)
    try:
        n.boot(backend=backend)
        data = write_pattern(n.l2, DEV)
        stalls = []
        for i, (kind, jobs) in enumerate((("fatal", 1), ("fatal", 4),
                                          ("nonfatal", 4), ("planned", 4))):
            round_name = "%s-j%d" % (kind, jobs)
            l2_mark = n.l2.mark()
            if kind == "planned":
                stall = planned_round(n, round_name, jobs, 8 + 8 * i)
            else:
                stall = error_round(n, round_name, jobs, 8 + 8 * i, kind == "fatal")
            stalls.append((round_name, stall))
            assert_no_io_timeout(n.l2, l2_mark, round_name)
        n.log("longest write per round: %s" % ", ".join(
            "%s %d ms" % s for s in stalls))

        assert_data_and_new_io(n.l2, DEV, data)
        nested.l2_running(n)
        pvr.check(not any(e["event"] == "PVRECOVER_ACK_TIMEOUT" for e in n.qmp2.events),
                  "a notice timed out")
        n.l2.assert_kernel_healthy()
        n.l0.assert_kernel_healthy()
    finally:
        n.close()


def run():
    run_rounds(NAME, "vhost")
