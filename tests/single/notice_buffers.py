"""How the driver takes notices, and what QEMU's userspace device does with
notices it has written, checked against the spec's rules.
pvrecover's test_hold_notices leaves written notices in the used ring, as
a slow guest would; test_dispatch_delay_ms makes the handling of a notice
about a function take seconds.

1. Buffers (6.2, 7.10.1): while the guest holds its notices the device
   writes 64 of them (the driver posted at least 16) and queues the 65th.
   Released, the guest takes the first, about the nvme, whose handling is
   delayed 4 s: its buffer is back with the device before the handling
   ends, so the 65th is written before the first is answered.
2. seq wraps to 1, never 0 (7.2.1: QEMU's x-first-seq starts it near
   the top), and the driver does not care (7.2.2).  One at a time per
   function (7.10.1): three notices about the nvme, seqs 0xfffffffe,
   0xffffffff and 1, taken at once, are handled in the order sent, each
   answered before the next one's first callback.
3. Sent notices unchanged (7.5.1): a planned reset whose prepare-reset
   the guest holds resets at its deadline; the reset-done is a notice of
   its own, and the guest gets both as the device sent them.
4. A machine reset (7.9.1): notices written and held, and a planned reset
   waiting for its answer, are forgotten: the new boot takes no notice,
   nothing is answered, reset or timed out for them, and the nvme keeps
   its driver."""

import time

import pvr
from _common import (assert_data_and_new_io, hold_notices, nvme_guest, read_digest,
                     write_pattern)

NAME = "single/notice-buffers"
DEFAULT_KERNEL_ONLY = True   # the device's and the driver's rules, not the kernel's
BDF = "0000:01:00.0"
PARAMS = "/sys/module/pvrecover/parameters/"
ERROR_DETECTED = 1
RAW = 0x70000000             # seqs of hand-made notices, far from QEMU's own
NOWHERE = (29 << 3,)         # a path to an empty slot: unknown-device
FIRST_SEQ = 0xfffffffd       # the first part's notice; the second wraps
BUFFERS = 64                 # the Linux driver posts min(queue size, 64)
DISPATCH_DELAY_MS = 4000
# Longer than the first part holds a notice (fewer than 64 timed-out
# notices are remembered, 7.6), shorter than the canary's wait in the last.
ACK_TIMEOUT_MS = 9000


def queued(g):
    return g.qmp.cmd("query-pvrecover")[0]["queued"]


def wait_queued(g, want, timeout):
    """Poll QEMU's queue length until it is `want` (bounded); returns the
    number of QMP events received by then."""
    deadline = time.monotonic() + pvr.scaled(timeout)
    while True:
        if queued(g) == want:
            return len(g.qmp.events)
        if time.monotonic() > deadline:
            raise pvr.TestFailure("QEMU's queue never held %d notice(s) within %ss"
                                  % (want, timeout))
        time.sleep(0.05)


def acked(g, seq, start=0, end=None):
    return [e for e in g.qmp.events[start:end]
            if e["event"] == "PVRECOVER_ACK" and e["data"]["seq"] == seq]


def buffers(g):
    mark = g.mark()
    hold_notices(g, True)
    first = g.notify("nvme0", "error-detected", fatal=False)
    g.wait_console(r"pvrecover: holding notices", 30, mark)
    for i in range(BUFFERS):
        g.send_raw(pvr.notice_bytes(RAW + i, ERROR_DETECTED, path=NOWHERE))
    # 64 written while the guest took none: at least 16 posted (6.2).
    pvr.check(queued(g) == 1, "not %d notices written: %r"
              % (BUFFERS, g.qmp.cmd("query-pvrecover")))

    g.run("echo %d > %stest_dispatch_delay_ms" % (DISPATCH_DELAY_MS, PARAMS))
    ev_mark = len(g.qmp.events)
    hold_notices(g, False)
    # The first notice's buffer is back while its handling sleeps.
    seen = wait_queued(g, 0, DISPATCH_DELAY_MS / 1000 - 1)
    pvr.check(not acked(g, first, ev_mark, seen),
              "the first notice was answered before its buffer came back")
    pvr.check(not pvr.traces(g, "pvrecover_notice_answered", mark, seq=first),
              "the first notice's answer was traced before the last was written")
    a = g.wait_ack(first, timeout=60)
    pvr.check((a["status"], a["method"]) == ("recovered", "aer"),
              "the delayed non-fatal error answered %r" % a)
    g.run("echo 0 > %stest_dispatch_delay_ms" % PARAMS)
    for i in range(BUFFERS):
        g.wait_ack(RAW + i, timeout=60, status="unknown-device")
    # Its trace line too, before the next part reads the trace.
    pvr.wait_trace(g, "pvrecover_notice_answered", 30, mark, seq=first)


def one_at_a_time(g):
    mark = g.mark()
    hold_notices(g, True)
    seqs = [g.notify("nvme0", "error-detected", fatal=False),
            g.notify("nvme0", "state-lost"),
            g.notify("nvme0", "error-detected", fatal=False)]
    pvr.check(seqs == [0xfffffffe, 0xffffffff, 1],
              "seqs %r: not 0xfffffffe, 0xffffffff, then 1 (7.2.1)" % seqs)
    g.wait_console(r"pvrecover: holding notices", 30, mark)
    hold_notices(g, False)
    for s in seqs:
        a = g.wait_ack(s, timeout=120)
        pvr.check(a["status"] == "recovered", "seq %d answered %r" % (s, a))
    pvr.wait_trace(g, "pvrecover_notice_answered", 30, mark, seq=seqs[-1])
    evs = pvr.traces(g, "pvrecover_callback_start|pvrecover_notice_answered",
                     mark, bdf=BDF)
    order = [(int(e.fields["seq"]), e.event) for e in evs]
    # Each notice's callbacks, then its answer, then the next notice's:
    # in the order sent, across the wrap of seq.
    sent = [seqs.index(s) for s, _ in order]
    pvr.check(sent == sorted(sent),
              "notices of one function interleaved: %r" % order)
    for s in seqs:
        mine = [ev for q, ev in order if q == s]
        pvr.check(mine and mine[-1] == "pvrecover_notice_answered"
                  and mine.count("pvrecover_notice_answered") == 1
                  and len(mine) > 1,
                  "seq %d: %r" % (s, mine))


def sent_unchanged(g, data):
    mark = g.mark()
    ev_mark = len(g.qmp.events)
    hold_notices(g, True)
    g.qmp.cmd("pvrecover-reset", device="nvme0", **{"deadline-ms": 1000})
    g.wait_console(r"pvrecover: holding notices", 30, mark)
    _, reset = g.qmp.wait_event("PVRECOVER_RESET", 30, ev_mark, device="nvme0")
    pvr.check(reset["data"]["deadline-hit"] and reset["data"]["success"],
              "reset %r" % reset["data"])
    hold_notices(g, False)
    _, done = g.qmp.wait_event("PVRECOVER_ACK", 120, ev_mark, device="nvme0",
                               notice="reset-done")
    answers = [e["data"] for e in g.qmp.events[ev_mark:]
               if e["event"] == "PVRECOVER_ACK"]
    pvr.check([(a["notice"], a["status"]) for a in answers] ==
              [("prepare-reset", "prepared"), ("reset-done", "recovered")],
              "answers %r" % answers)
    got = [e.fields["type"] for e in
           pvr.traces(g, "pvrecover_notice_received", mark, bdf=BDF)]
    pvr.check(got == ["prepare-reset", "reset-done"], "the guest took %r" % got)
    pvr.check(done["data"]["seq"] == answers[0]["seq"] + 1,
              "seqs %r" % [a["seq"] for a in answers])
    assert_data_and_new_io(g, "/dev/nvme0n1", data)


def machine_reset(g, data):
    mark = g.mark()
    hold_notices(g, True)
    old = [g.notify("nvme0", "state-lost"), g.notify("nvme0", "state-lost")]
    g.qmp.cmd("pvrecover-reset", device="nvme0", **{"deadline-ms": 2000})
    g.wait_console(r"pvrecover: holding notices", 30, mark)
    pvr.check(queued(g) == 0, "the notices were not written")

    ev_mark = len(g.qmp.events)
    boot = g.mark()
    g.qmp.cmd("set-action", reboot="reset")    # QEMU runs with -no-reboot
    g.qmp.cmd("system_reset")
    g.wait_console(r"PVR-READY", 120, boot)
    g.run("true")
    g.wait_console(r"pvrecover: ready", 60, boot)
    g.wait_guest("[ -b /dev/nvme0n1 ]", 60)
    pvr.check(queued(g) == 0, "notices queued after the reset")

    # A notice of the new boot that times out: the forgotten ones, queued
    # before it with the same timeout, and the plan, due before it, would
    # have been reported by then.
    hold_notices(g, True)
    canary = g.notify("nvme0", "error-detected", fatal=False)
    g.qmp.wait_event("PVRECOVER_ACK_TIMEOUT", 60, ev_mark, seq=canary)
    late = [e for e in g.qmp.events[ev_mark:]
            if e["event"].startswith("PVRECOVER") and e["data"].get("seq") != canary]
    pvr.check(not late, "reported after the machine reset: %r" % late)
    hold_notices(g, False)
    g.wait_ack(canary, timeout=60, status="recovered")
    pvr.wait_trace(g, "pvrecover_notice_answered", 30, boot, seq=canary)
    taken = [int(e.fields["seq"]) for e in
             pvr.traces(g, "pvrecover_notice_received", boot)]
    pvr.check(taken == [canary], "the new boot took %r (old %r)" % (taken, old))
    g.run("[ -e /sys/bus/pci/drivers/nvme/%s ]" % BDF)
    pvr.check(read_digest(g, "/dev/nvme0n1") == data, "data differs after the reboot")


def run():
    g, _ = nvme_guest(NAME, recovery={"ack-timeout-ms": ACK_TIMEOUT_MS,
                                      "x-first-seq": FIRST_SEQ,
                                      "cover": ["nvme0"]})
    try:
        g.wait_console(r"pvrecover: ready", 30)
        data = write_pattern(g, "/dev/nvme0n1")
        buffers(g)
        one_at_a_time(g)
        sent_unchanged(g, data)
        data = write_pattern(g, "/dev/nvme0n1")
        machine_reset(g, data)
        g.assert_kernel_healthy()
    finally:
        g.close()
