"""pvrecover.ko unloads and reloads, idle and with notices pending.  The
seqs QEMU gives run on from 1 across the device resets the reloads make,
and a notice QEMU refuses takes none (spec 7.2.1).  The configuration the
driver reads at each probe is version 1 with the same values (5.1)."""

import re

import pvr
from _common import nvme_guest, read_digest, write_pattern

NAME = "single/module-reload"
BURST = 6


def recover_once(g):
    seq = g.notify("nvme0", "state-lost", reset=True)
    a = g.wait_ack(seq, timeout=120)
    pvr.check((a["status"], a["method"]) == ("recovered", "reset-hooks"),
              "state-lost answered %r" % a)
    return seq


def run():
    g, _ = nvme_guest(NAME, recovery={"ack-timeout-ms": 3000})
    try:
        data = write_pattern(g, "/dev/nvme0n1")

        # Idle unload and reload, then the driver still works.
        g.run("rmmod pvrecover")
        pvr.check("pvrecover" not in g.run("cat /proc/modules"), "still loaded")
        mark = g.mark()
        g.run("modprobe pvrecover")
        g.wait_console(r"pvrecover: ready", 30, mark)
        first = recover_once(g)
        pvr.check(first == 1, "the first notice has seq %d" % first)

        # Unload with a burst of notices in flight: rmmod must return.
        seqs = [g.notify("nvme0", "state-lost", reset=True) for _ in range(BURST)]
        pvr.check(seqs == list(range(first + 1, first + 1 + BURST)), "seqs %r" % seqs)
        g.run("rmmod pvrecover", timeout=120)
        pvr.check("pvrecover" not in g.run("cat /proc/modules"), "still loaded")
        # Every notice is either answered or reported as timed out.
        for s in seqs:
            g.qmp.wait_event(("PVRECOVER_ACK", "PVRECOVER_ACK_TIMEOUT"), 30, seq=s)

        # Reload; the device is recovered again and the data is intact.
        # The seq runs on across the device reset; a refused notice (a
        # prepare-reset with deadline 0) takes none.
        g.run("modprobe pvrecover")
        r = g.qmp.cmd_raw("pvrecover-notify", device="nvme0", notice="prepare-reset",
                          **{"deadline-ms": 0})
        pvr.check("error" in r, "prepare-reset with deadline 0 accepted: %r" % r)
        last = recover_once(g)
        pvr.check(last == seqs[-1] + 1, "seq %d after %d" % (last, seqs[-1]))
        pvr.check(read_digest(g, "/dev/nvme0n1") == data, "data differs after reloads")
        g.run("dd if=/dev/nvme0n1 of=/dev/null bs=64k count=16 iflag=direct")
        # The configuration the driver read at each of the three probes,
        # across two device resets: version 1, the same values (5.1).
        ready = re.findall(r"pvrecover: ready, version (\d+), planned-reset (\w+), "
                           r"quiesce timeout (\d+) ms", g.console)
        pvr.check(len(ready) == 3 and set(ready) == {("1", "on", "60000")},
                  "configuration read at the probes: %r" % ready)
        g.assert_kernel_healthy()
    finally:
        g.close()
