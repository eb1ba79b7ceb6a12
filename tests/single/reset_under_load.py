"""Hundreds of real resets of an emulated nvme while the guest's vCPUs are
busy, under multi-threaded TCG: QEMU must not abort.  QEMU's resets of a
function (pvrecover-notify reset=true here; planned resets and the vfio
error path use the same) tear down and map again the function's memory
regions; done from the main loop while vCPUs run, a vCPU could take an
access through a stale TLB entry (physmem.c: iotlb_to_section: Assertion
'section_index < d->map.sections_nb' about once in 150-200 resets).  Each
reset is answered, the nvme works after the last, data intact."""

import pvr
from _common import nvme_guest, read_digest, write_pattern

NAME = "single/reset-under-load"
# On the debug kernel a reset takes some ten times as long; what the
# checkers there look at (the guest driver's paths, its locks, its memory)
# is the same at every reset, so a hundred of them do.
RESETS = 100 if pvr.DEBUG else 800
# What this tests is QEMU's side, so it runs on the default guest kernel
# only.  A Debian 6.12 guest under TCG loses CPU 0's timer tick for good
# after some hundred of these paused resets (twice of two: at reset 772
# and 420; an RCU stall on CPU 0 with the spinner in user mode and no tick
# taken, so the recovery's work on that CPU never runs): open, see README.
DEFAULT_KERNEL_ONLY = True


def run():
    # Requests are in flight at every reset: the nvme offers no doorbell
    # buffer, which Debian 6.1's driver mishandles across resets (spec 7.13).
    g, _ = nvme_guest(NAME, accel="tcg,thread=multi", nvme_props=",dbcs=off")
    try:
        data = write_pattern(g, "/dev/nvme0n1")
        # Both vCPUs busy: one spinning shell per CPU, and reads of the
        # disk so that the nvme's BAR is in use when it goes away.
        g.run("for c in 0 1; do (taskset -c $c sh -c 'echo $$ >>/tmp/load; "
              "while :; do :; done' </dev/null >/dev/null 2>&1 &); done")
        g.run("(sh -c 'echo $$ >>/tmp/load; while :; do dd if=/dev/nvme0n1 "
              "of=/dev/null bs=4k count=64 iflag=direct 2>/dev/null; done' "
              "</dev/null >/dev/null 2>&1 &)")
        g.wait_guest("[ $(wc -l </tmp/load) = 3 ]")
        for i in range(RESETS):
            seq = g.notify("nvme0", "state-lost", reset=True)
            try:
                a = g.wait_ack(seq, timeout=60)
            except pvr.TestFailure:
                said = [l for l in g.console.splitlines() if "qemu-system" in l]
                pvr.check(g.proc.poll() is None,
                          "QEMU exited (status %s) at reset %d of %d: %s"
                          % (g.proc.poll(), i + 1, RESETS, said[-1:]))
                raise
            pvr.check((a["status"], a["method"]) == ("recovered", "reset-hooks"),
                      "reset %d answered %r" % (i + 1, a))
        g.log("%d resets answered" % RESETS)
        g.run("kill $(cat /tmp/load)")
        pvr.check(read_digest(g, "/dev/nvme0n1") == data, "data differs after the resets")
        pvr.check(g.qmp.cmd("query-status")["status"] == "running", "VM not running")
        g.assert_kernel_healthy()
    finally:
        g.close()
