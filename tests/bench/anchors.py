"""The anchors of make bench: one fatal AER error at L0's root port above
the nvme, the same injection for every path, and the time from it to the
first read that completes after it, on the host's clock (timeline.py).

- native: the nvme bound to L1's own nvme driver; L1's AER recovers it
  (L1 is the bare metal).  A reader in L1.
- pvrecover: the nvme assigned to L2 and covered by the recovery device,
  recovered through vhost-recover.ko (run_pvrecover("vhost")) or QEMU's
  userspace device ("virtio").  A reader in L2.
- silent host: the same boot, pvrecover.ko unloaded: L2 keeps running
  and finds out through nvme's I/O timeout, at its default.
- limit: the host's own recovery (injection to L1's "device recovery
  successful", from the pvrecover rounds) plus L2's own reset_prepare and
  reset_done around a reset L2 asks for itself with the channel idle
  (sysfs reset, timed by kprobes on nvme's callbacks): no paravirtual
  scheme can do better on this rig.
The reader (tests/progs/io_reader.c) reads one 4 KiB block at a time with
O_DIRECT and logs each read that completed 100 ms or more after the one
before it to the kernel log; the first such read to end after the host's
link reset is the one that waited for the recovery.  Not the longest: a
read after it can stall as long behind the trace's read-out.
"""

import re
import time

import nested
import pvr
import timeline
from _common import Writer
from timeline import Round

DEV = "/dev/nvme0n1"
BDF = nested.NVME_BDF
# Reads and writes the recovery held up are logged: longer than a read or
# write on this rig ever takes otherwise (reads in L2 take up to about
# 50 ms, four writers' writes up to about 400 ms), shorter than any
# recovery (native: about 200 ms).
READ_STALL_MS = 100
WRITE_STALL_MS = 150
# nvme's default I/O timeout is 30 s; a silent round waits for its abort
# and the controller reset after it.
SILENT_TIMEOUT = 150
# The read that waited for a recovery ends by this long after it.
MARGIN = 0.5
RECOVERY_DONE = r"pcieport [^\n]*AER: device recovery successful"
LINK_RESET = r"pcieport [^\n]*AER: (?:Root Port|Downstream Port) link has been reset"
TRACING = "/sys/kernel/tracing"
# L2's trace events go to a buffer of their own, read after each round
# (read_traces).  Streamed to the console as the tests have them
# (guest-init.sh), every line is written to L2's serial port, which L1's
# QEMU emulates and passes on through L1's own: tens of ms a line on L2's
# one vCPU, the one re-initialising the device, and on L1's, which serve
# its config and MMIO exits.  A user's guest streams nothing.
BUFFER = TRACING + "/instances/pvrb"
# The split's rows main.py reads back.
OVERHEAD = "paravirtual overhead"
OVERHEAD_BEYOND_RESTORE = "paravirtual overhead beyond L2's config restore"


def start_reader(con, dev=DEV):
    con.run("(io_reader -s %d %s >/tmp/io_reader.out 2>&1 </dev/null &)" % (READ_STALL_MS, dev))
    con.wait_guest("grep -q 'io_reader: running' /tmp/io_reader.out", 60)


def stop_reader(con):
    con.run("killall io_reader; true")


def first_read(r, con, mark, after, before=None, prog="io_reader"):
    """(round time at which it ended, seconds it waited, whether a read
    failed first) of the read (or write) of `prog` that waited for the
    recovery: the first stalled one logged from `mark` on that ended
    after round time `after` (the host's link reset: the one in flight
    then) and, if given, by `before` (the end of the recovery and a
    margin); if that one failed, the first that succeeded after it,
    waiting from the failed one's start.  None if there is none yet."""
    k = r.on(con, mark)
    lines = sorted((k(end), took, failed) for end, took, failed
                   in timeline.stalls(con, mark, prog) if after < k(end))
    found = [x for x in lines if before is None or x[0] <= before]
    if not found:
        return None
    end, took, failed = found[0]
    if not failed:
        return end, took, False
    start, failed_end = end - took, end
    for end, _, failed in lines:
        if end > failed_end and not failed:
            return end, end - start, True
    return None


def await_read(r, con, mark, after, before=None, timeout=60, prog="io_reader"):
    """first_read(), waiting for its line (it comes when the read ends)."""
    return con.wait_for(lambda: first_read(r, con, mark, after, before, prog), timeout,
                        "%s line of the read that waited for the recovery" % prog)


# -- native -------------------------------------------------------------------

def native_round(n):
    """One fatal error under L1's own nvme driver with the reader running
    in L1 (started by the caller).  Returns a Round."""
    mark = n.l0.mark()
    t0 = time.monotonic()
    n.inject_fatal()
    n.l0.wait_console(RECOVERY_DONE, 60, mark)
    r = Round(t0)
    k = r.on(n.l0, mark)
    aer = r.event(k(timeline.log_lines(n.l0, mark, nested.AER_FATAL_LINE)[0][0]),
                  "L1 kernel", "AER error")
    for pat, what in ((r"nvme nvme\d: frozen state error detected", "nvme error_detected"),
                      (LINK_RESET, "link reset"),
                      (r"nvme nvme\d: restart after slot reset", "nvme slot_reset")):
        for t, _ in timeline.log_lines(n.l0, mark, pat)[:1]:
            r.event(k(t), "L1 nvme driver" if "nvme" in what else "L1 kernel", what)
    link = r.first("link reset") or aer
    done = k(timeline.log_lines(n.l0, mark, RECOVERY_DONE)[0][0])
    r.span("L1 kernel", "AER recovery", aer, done)
    r.host_done = done
    fr = await_read(r, n.l0, mark, link, done + MARGIN)
    r.span("L1 reader", "read waits", fr[0] - fr[1], fr[0])
    r.total = fr[0]
    return r


def run_native(name, rounds, load_rounds):
    img = pvr.blank_disk(name, "nvme.img", size_mb=64)
    n = nested.Nested(name, img)
    out = {"rounds": [], "load": []}
    try:
        n.l1.boot(timeout=180)
        n.l1.run("modprobe nvme")
        n.l1.wait_guest("[ -b %s ]" % DEV, 60)
        start_reader(n.l1)
        for _ in range(rounds):
            out["rounds"].append(native_round(n))
        stop_reader(n.l1)
        for i in range(load_rounds):
            out["load"].append(load_round(n, n.l1, n.l0, "native%d" % i, i, native=True))
        n.l0.assert_kernel_healthy()
    finally:
        n.close()
    return out


# -- pvrecover ----------------------------------------------------------------

def _traces(con, prefix, mark, **fields):
    return pvr.traces(con, prefix + r"\w+", mark, bdf=re.escape(BDF), **fields)


def pv_round(n):
    """One fatal error under the nvme assigned to L2, the reader running in
    L2.  Returns a Round with the split of where the time went."""
    l0m, l2m = n.l0.mark(), n.l2.mark()
    ev = len(n.qmp2.events)
    t0 = time.monotonic()
    n.inject_fatal()
    for notice, status in (("error-detected", "prepared"), ("reset-done", "recovered")):
        _, ack = n.qmp2.wait_event("PVRECOVER_ACK", 60, ev, device="hostdev0", notice=notice)
        pvr.check(ack["data"]["status"] == status, "%s answered %r" % (notice, ack["data"]))
    n.l0.wait_console(RECOVERY_DONE, 30, l0m)
    # The read that waited has ended (a stall line) before the read-out
    # of the trace, which takes L2's vCPU for a second, can delay it.
    n.l2.wait_console(r"pvr-stall: io_reader read", 30, l2m)
    # The guest traced its answer before it sent it; L1's trace lines
    # come a moment after the answers they describe.
    read_traces(n.l2)
    pvr.check(pvr.traces(n.l2, "pvrecover_notice_answered", l2m, type="reset-done"),
              "L2's trace buffer holds no answer to reset-done")
    if n.backend == "vhost":
        n.wait_trace("notice_answered", 30, l0m, type="reset-done")

    r = Round(t0)
    k1, k2 = r.on(n.l0, l0m), r.on(n.l2, l2m)
    aer = r.event(k1(timeline.log_lines(n.l0, l0m, nested.AER_FATAL_LINE)[0][0]),
                  "L1 kernel", "AER error")
    for t, _ in timeline.log_lines(n.l0, l0m, LINK_RESET)[:1]:
        r.event(k1(t), "L1 kernel", "link reset")
    link = r.first("link reset") or aer
    r.host_done = k1(timeline.log_lines(n.l0, l0m, RECOVERY_DONE)[0][0])
    r.span("L1 kernel", "host AER recovery", aer, r.host_done)
    host = {}
    if n.backend == "vhost":
        for e in _traces(n.l0, "vhost_recover_notice_", l0m):
            what = e.event[len("vhost_recover_notice_"):]
            host.setdefault((e["type"], what), k1(e.time))
            r.event(k1(e.time), "vhost-recover.ko", "%s %s" % (e["type"], what))
    l2_events = _traces(n.l2, "pvrecover_", l2m)
    # L2's lines reach the host through L1's serial port, later than L1's:
    # its clock offset from them is an upper bound, and so is the one its
    # answers give, which L1 traces after L2 sent them.  The tighter wins.
    fix = 0.0
    for e in l2_events:
        got = host.get((e["type"], "answered"))
        if e.event == "pvrecover_notice_answered" and got is not None:
            fix = min(fix, got - k2(e.time))
    r.l2_clock_fix = fix
    guest = {}
    for e in l2_events:
        what = e.event[len("pvrecover_"):]
        key = (e["type"], what, e.fields.get("callback"))
        guest.setdefault(key, k2(e.time) + fix)
        if what in ("notice_received", "notice_answered"):
            r.event(k2(e.time) + fix, "L2 pvrecover", "%s %s" % (e["type"], what[7:]))
    cbs = []
    for typ, cb in (("error-detected", "reset_prepare"), ("reset-done", "reset_done")):
        s = guest.get((typ, "callback_start", cb))
        f = guest.get((typ, "callback_finish", cb))
        pvr.check(s is not None and f is not None,
                  "%s: no trace of %s around it" % (typ, cb))
        r.span("L2 nvme driver", cb, s, f)
        cbs.append((s, f))
    fr = await_read(r, n.l2, l2m, link - fix,
                    guest[("reset-done", "notice_answered", None)] - fix + MARGIN)
    r.span("L2 reader", "read waits", fr[0] - fr[1] + fix, fr[0] + fix)
    r.total = fr[0] + fix

    # The split.  Everything outside the host's recovery and the driver's
    # own callbacks is what the paravirtual path adds.
    split = r.split = {"total": r.total, "host recovery": r.host_done,
                       "reset_prepare": cbs[0][1] - cbs[0][0],
                       "reset_done": cbs[1][1] - cbs[1][0]}
    for typ, name in (("error-detected", "ED"), ("reset-done", "RD")):
        cb = cbs[0][0] if typ == "error-detected" else cbs[1][0]
        q = host.get((typ, "queued"))
        if q is not None:
            split["%s notice latency (queued to callback)" % name] = cb - q
        ans = guest.get((typ, "notice_answered", None))
        got = host.get((typ, "answered"))
        if ans is not None and got is not None:
            split["%s answer latency (guest to module)" % name] = got - ans
    ed_ans = guest.get(("error-detected", "notice_answered", None))
    if ed_ans is not None:
        split["gap: ED answered to reset_done"] = cbs[1][0] - ed_ans
    if host.get(("reset-done", "queued")) is not None:
        split["host done to RD queued"] = host[("reset-done", "queued")] - r.host_done
    # Reset-done's latency, taken apart: its way from L1's worker to L2's
    # rx work; a wait behind the function's reset_prepare, when that
    # outlasts the host's recovery; pvrecover's own step before
    # reset_done (restoring config space), on L2's clock alone.
    rd_got = guest.get(("reset-done", "notice_received", None))
    rd_sent = host.get(("reset-done", "sent"))
    if rd_got is not None:
        # The last interrupt before it is the one that queued the rx
        # work that took it: its way splits there, the second part on
        # L2's clock alone.
        irqs = [k2(e.time) + fix for e in pvr.traces(n.l2, "pvrb_vq_irq", l2m)]
        irq = max((t for t in irqs if t <= rd_got), default=None)
        if rd_sent is not None:
            split["RD sent (L1) to received (L2)"] = rd_got - rd_sent
            if irq is not None:
                split["RD sent (L1) to L2's interrupt"] = irq - rd_sent
                split["RD L2's interrupt to received"] = rd_got - irq
        free = max(rd_got, ed_ans if ed_ans is not None else rd_got)
        split["RD waits behind reset_prepare"] = free - rd_got
        split["RD config restore (received or free to reset_done)"] = cbs[1][0] - free
    # Negative when the read completed inside reset_done (nvme resubmits
    # what reset_prepare requeued before reset_done returns).
    split["reset_done's end to first read"] = r.total - cbs[1][1]
    covered = union([(0.0, r.host_done)] + cbs, r.total)
    split[OVERHEAD] = r.total - covered
    if rd_got is not None:
        # The config restore is work L2's own reset does as well (the
        # limit rounds time it): counted as L2's, what is left over.
        covered = union([(0.0, r.host_done), (free, cbs[1][0])] + cbs, r.total)
        split[OVERHEAD_BEYOND_RESTORE] = r.total - covered
    return r


def union(intervals, end):
    """Length of the union of `intervals`, clipped to [0, end]."""
    total, cur = 0.0, None
    for s, f in sorted((max(0.0, s), min(end, f)) for s, f in intervals):
        if f <= s:
            continue
        if cur is None or s > cur[1]:
            if cur:
                total += cur[1] - cur[0]
            cur = [s, f]
        else:
            cur[1] = max(cur[1], f)
    if cur:
        total += cur[1] - cur[0]
    return total


def limit_round(n):
    """L2 resets the function itself, channel idle: the durations of its
    nvme driver's reset_prepare and reset_done, from the kprobes, and of
    the PCI core's config restore between the reset and reset_done
    ("restore", None if no reset method was seen)."""
    l2m = n.l2.mark()
    # The write returns once reset_done() has.
    n.l2.run("echo 1 > /sys/bus/pci/devices/%s/reset" % BDF, timeout=60)
    read_traces(n.l2)
    got = {}
    for ev in ("pvrb_prep_in", "pvrb_prep_out", "pvrb_done_in", "pvrb_done_out"):
        t = pvr.traces(n.l2, ev, l2m)
        pvr.check(len(t) == 1, "limit: %d %s lines in L2's trace buffer" % (len(t), ev))
        got[ev] = t[0].time
    resets = [e.time for e in pvr.traces(n.l2, r"pvrb_reset_\w+", l2m)
              if e.time <= got["pvrb_done_in"]]
    return {"prep": got["pvrb_prep_out"] - got["pvrb_prep_in"],
            "done": got["pvrb_done_out"] - got["pvrb_done_in"],
            "restore": got["pvrb_done_in"] - max(resets) if resets else None}


def buffer_traces(con):
    """pvrecover's events into BUFFER, on the kernel log's clock, and no
    longer into the buffer streamed to the console."""
    con.run("mkdir %s && echo global > %s/trace_clock && "
            "echo 0 > %s/events/pvrecover/enable && echo 1 > %s/events/pvrecover/enable"
            % (BUFFER, BUFFER, TRACING, BUFFER))


def read_traces(con):
    """BUFFER's lines onto the console, where pvr.traces() finds them;
    the buffer starts empty again."""
    con.run("cat %s/trace && echo > %s/trace" % (BUFFER, BUFFER))


def arm_irq_probe(con):
    """A kprobe on vring_interrupt(): in L2 only the recovery device is a
    virtio device, so it marks each of its interrupts (noticeq or ackq)."""
    con.run("echo 'p:pvrb/pvrb_vq_irq vring_interrupt' >> %s/kprobe_events && "
            "echo 1 > %s/events/pvrb/pvrb_vq_irq/enable" % (TRACING, BUFFER))


def arm_kprobes(con):
    """Kprobes on nvme's reset callbacks, and on the return of the PCI
    core's reset methods (called through a table, so never inlined): the
    restore of config space runs between that and reset_done()."""
    con.run("for f in prepare done; do "
            "echo \"p:pvrb/pvrb_${f%%are}_in nvme_reset_$f\" >> %s/kprobe_events && "
            "echo \"r:pvrb/pvrb_${f%%are}_out nvme_reset_$f\" >> %s/kprobe_events; done && "
            "for m in pcie_reset_flr pci_af_flr pci_pm_reset pci_reset_bus_function; do "
            "echo \"r:pvrb/pvrb_reset_$m $m\" >> %s/kprobe_events 2>/dev/null; done; "
            "echo 1 > %s/events/pvrb/enable" % (TRACING, TRACING, TRACING, BUFFER))


def link_reset(n, k1, l0m):
    """Round time (L1's kernel time mapped by `k1`) of L1's link reset
    after console offset `l0m`; of its AER line if it printed none."""
    lines = (timeline.log_lines(n.l0, l0m, LINK_RESET)
             or timeline.log_lines(n.l0, l0m, nested.AER_FATAL_LINE))
    return k1(lines[0][0])


def silent_round(n):
    """pvrecover.ko is not loaded: L2's nvme finds out by its timeout."""
    l0m, l2m = n.l0.mark(), n.l2.mark()
    t0 = time.monotonic()
    n.inject_fatal()
    n.l0.wait_console(RECOVERY_DONE, 60, l0m)
    r = Round(t0)
    k1 = r.on(n.l0, l0m)
    link = link_reset(n, k1, l0m)
    fr = await_read(r, n.l2, l2m, link, timeout=SILENT_TIMEOUT)
    r.failed = fr[2]
    r.total = fr[0]
    return r


def load_round(n, con, kcon, name, i, native=False):
    """Four writers with requests always in flight through a fatal error,
    in the guest whose shell is `con` and kernel console `kcon`: (longest
    write, round time of the first write that completed after L1's link
    reset: every write in flight waited for the reset and the recovery
    after it).  Not after L1's last AER line: natively nvme resumes its
    queues a moment before the AER core prints it."""
    l0m, mark = n.l0.mark(), kcon.mark()
    w = Writer(con, DEV, name, 4, 8 + 8 * i, stall_ms=WRITE_STALL_MS)
    ev = len(n.qmp2.events) if n.qmp2 else 0
    t0 = time.monotonic()
    n.inject_fatal()
    n.l0.wait_console(RECOVERY_DONE, 60, l0m)
    if not native:
        _, ack = n.qmp2.wait_event("PVRECOVER_ACK", 60, ev, device="hostdev0",
                                   notice="reset-done")
        pvr.check(ack["data"]["status"] == "recovered", "load: %r" % ack["data"])
    r = Round(t0)
    k1 = r.on(n.l0, l0m)
    link = link_reset(n, k1, l0m)

    def first_write():
        # The first write that completes once L1 has reset the link.
        k = r.on(kcon, mark)
        ends = [k(end) for end, _, _ in timeline.stalls(kcon, mark, "io_writer")
                if k(end) > link]
        return min(ends) if ends else None
    first = kcon.wait_for(first_write, 60, "%s: a write after the recovery" % name)
    longest = w.finish(n.log) / 1e3
    return longest, first


def run_pvrecover(name, backend, rounds, load_rounds=0, limit_rounds=0,
                  silent_rounds=0, idle=None):
    """Everything measured on one L1+L2 boot of `backend`.  `idle`, if
    given, is called with the booted Nested before the silent rounds."""
    img = pvr.blank_disk(name, "nvme.img", size_mb=64)
    n = nested.Nested(name, img)
    out = {"rounds": [], "limit": [], "load": [], "silent": [], "idle": None}
    try:
        n.boot(backend=backend)
        buffer_traces(n.l2)
        arm_irq_probe(n.l2)
        start_reader(n.l2)
        for _ in range(rounds):
            out["rounds"].append(pv_round(n))
        if limit_rounds:
            # The reader goes on: the driver re-initialises with reads
            # waiting, as in the rounds above.
            arm_kprobes(n.l2)
            for _ in range(limit_rounds):
                out["limit"].append(limit_round(n))
        stop_reader(n.l2)
        for i in range(load_rounds):
            out["load"].append(load_round(n, n.l2, n.l2, "pv%d" % i, i))
        if idle:
            out["idle"] = idle(n)
        if silent_rounds:
            n.l2.run("rmmod pvrecover")
            start_reader(n.l2)
            for _ in range(silent_rounds):
                out["silent"].append(silent_round(n))
            stop_reader(n.l2)
        n.l0.assert_kernel_healthy()
    finally:
        n.close()
    return out
