"""The driver drives a device it does not expect (spec 5.2, 7.4.2), made
with QEMU's test-only properties:
- a configuration version of 7: the driver logs it and works on (version
  is never a reason to refuse a device);
- a quiesce_timeout_ms of 500, below the range: the driver uses its own
  bound of 600000 ms, as if the feature were not offered;
- a device that stops reading ackq (x-hold-acks): the driver fills ackq
  (as many buffers as it has entries: QEMU 10.0.13 gives every
  virtqueue 1024), keeps 64 more acknowledgments waiting, and drops and
  counts the rest; when the device reads ackq again, every kept one
  arrives, in order, and none of the dropped ones.
The nvme still recovers afterwards."""

import pvr
from _common import nvme_guest

NAME = "single/driver-tolerance"
RAW = 0x70000000    # seqs of hand-made notices, far from QEMU's own
ERROR_DETECTED = 1
PENDING_MAX = 64    # the driver's PVR_ACK_PENDING_MAX
BATCH = 16          # QEMU queues at most 16 notices per function
HOLD = "/machine/peripheral/pvr0/virtio-backend"


def run():
    g, _ = nvme_guest(NAME, recovery={"x-config-version": 7, "x-unchecked-config": True,
                                      "quiesce-timeout-ms": 500,
                                      "ack-timeout-ms": 600000})
    try:
        g.wait_console(r"pvrecover: config version 7, not 1", 10)
        g.wait_console(r"pvrecover: quiesce timeout 500 ms out of range, using 600000", 10)
        g.wait_console(r"pvrecover: ready, version 7, .*quiesce timeout 600000 ms", 10)
        base = g.pvr_sysfs()
        ackq = g.qmp.cmd("x-query-virtio-queue-status", path=HOLD, queue=1)
        kept = ackq["vring-num"] + PENDING_MAX
        sent = kept + BATCH

        # Answers pile up: hand-made notices about no function, each
        # answered unknown-device at once, in batches the queue takes.
        g.qmp.cmd("qom-set", path=HOLD, property="x-hold-acks", value=True)
        mark = g.mark()
        for first in range(RAW, RAW + sent, BATCH):
            for seq in range(first, min(first + BATCH, RAW + sent)):
                g.send_raw(pvr.notice_bytes(seq, ERROR_DETECTED, path=(29 << 3,)))
            pvr.wait_trace(g, "pvrecover_notice_answered", 60, mark,
                           seq=min(first + BATCH, RAW + sent) - 1)
        c = g.pvr_sysfs()
        dropped = c["acks_dropped"] - base["acks_dropped"]
        pvr.check(dropped == sent - kept, "acks dropped %d, not %d (counters %r, %r)"
                  % (dropped, sent - kept, c, g.qmp.cmd("query-pvrecover")))
        pvr.check(not [e for e in g.qmp.events if e["event"] == "PVRECOVER_ACK"],
                  "the device read ackq while told not to")

        # Read again: the first `kept` answers arrive, in order; no other.
        ev_mark = len(g.qmp.events)
        g.qmp.cmd("qom-set", path=HOLD, property="x-hold-acks", value=False)
        g.wait_ack(RAW + kept - 1, timeout=60)
        acks = [e["data"]["seq"] for e in g.qmp.events[ev_mark:]
                if e["event"] == "PVRECOVER_ACK"]
        pvr.check(acks == list(range(RAW, RAW + kept)),
                  "answers after the hold: %d, %r..." % (len(acks), acks[:4]))
        seq = g.notify("nvme0", "state-lost", reset=True)
        a = g.wait_ack(seq, timeout=60)
        pvr.check((a["status"], a["method"]) == ("recovered", "reset-hooks"),
                  "recovery after the hold: %r" % a)
        late = [e["data"]["seq"] for e in g.qmp.events[ev_mark:]
                if e["event"] == "PVRECOVER_ACK" and e["data"]["seq"] >= RAW + kept]
        pvr.check(not late, "dropped answers arrived: %r" % late)
        g.assert_kernel_healthy()
    finally:
        g.close()
