#!/usr/bin/env python3
"""make bench, item 5: idle cost.  Both modules idle for `seconds` (60)
with functions attached; their wakeups are counted in the same window in
L1 (vhost-recover.ko) and in L2 (pvrecover.ko).  The goal is zero.

Counted, in a tracefs instance of each kernel (instances/pvr-idle, its own
buffer and events: /init streams the top-level trace_pipe to the console,
which must not be flooded):
- timer:timer_expire_entry and timer:hrtimer_expire_entry whose function
  is the module's; a delayed work's timer runs the kernel's
  delayed_work_timer_fn, so it is counted apart, by the work it queues
  (the workqueue_queue_work that follows it on the same CPU);
- workqueue:workqueue_queue_work and workqueue_execute_start whose work
  function is the module's;
- L1: sched:sched_wakeup of the vhost worker of L2's QEMU (vhost-<pid>,
  filtered in the kernel by comm);
- L2: the interrupts of pvrecover's virtio device (its virtioN-* lines
  of /proc/interrupts, before and after);
- both: every entry into a function of the module (the function tracer of
  the instance, set_ftrace_filter :mod:<module>): whatever path wakes the
  module (an eventfd's wait-queue callback, a virtqueue callback, an
  ioctl) runs some function of it; the eventfd and interrupt paths are
  also shown by name: in L1 the vfio error eventfd's wait-queue callback
  and the virtqueue kick handlers (ioeventfd), in L2 the virtqueue
  callbacks (the call eventfd's interrupt).
Functions are attributed to a module by symbol: the events print them with
%ps ("name [module]"), checked against the module's symbols in
/proc/kallsyms.  Everything else in the trace is counted too, as the whole
kernel's figures: they show the events were recorded.

A control window follows: one notice is exchanged (a non-fatal AER error
injected in L0: vhost-recover.ko sends error-detected, L2 answers) and the
same counters must see it, or the method is broken (pvr.TestFailure).

Standalone: python3 tests/bench/idle.py (boots its own L1 and L2; run it
under flock /tmp/qemu.lock).  PVR_IDLE_SECONDS changes the window.
"""

import os
import re
import shlex
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "harness"))
sys.path.insert(0, os.path.join(HERE, "..", "single"))

import nested  # noqa: E402
import pvr  # noqa: E402

NAME = "bench-idle"
INSTANCE = "/sys/kernel/tracing/instances/pvr-idle"
GDIR = "/tmp/pvr-idle"
# Per CPU.  The busiest of the two kernels records some thousand events a
# second (every timer of the system); the stats must show no overrun.
BUFFER_KB = {"L1": 32768, "L2": 16384}
MODULES = {"L1": "vhost_recover", "L2": "pvrecover"}
MODULE_FILES = {"L1": "vhost-recover.ko", "L2": "pvrecover.ko"}
# How long the read-out of a window's trace may take after it (under TCG),
# and the control's notice.
READOUT_TIMEOUT = 300
CONTROL_TIMEOUT = 90

# The guests' side, as files in GDIR (busybox sh and awk).
SETUP_SH = r"""
# setup.sh MODULE BUFFER_KB COMM: the instance, its events, tracing off.
I=/sys/kernel/tracing/instances/pvr-idle
D=/tmp/pvr-idle
[ -d $I ] || mkdir $I || exit 1
echo 0 > $I/tracing_on
echo nop > $I/current_tracer
echo "$2" > $I/buffer_size_kb || exit 1
for e in timer/timer_expire_entry timer/hrtimer_expire_entry \
	workqueue/workqueue_queue_work workqueue/workqueue_execute_start; do
	echo 1 > $I/events/$e/enable || exit 1
done
if [ "$3" != - ]; then
	echo "comm == \"$3\"" > $I/events/sched/sched_wakeup/filter || exit 1
	echo 1 > $I/events/sched/sched_wakeup/enable || exit 1
fi
# The function tracer only with a filter that took: unfiltered it would
# trace every function of the kernel.
ft=0
if echo ":mod:$1" > $I/set_ftrace_filter 2>/dev/null &&
   grep -qv '^#' $I/set_ftrace_filter &&
   echo function > $I/current_tracer 2>/dev/null; then
	ft=$(grep -cv '^#' $I/set_ftrace_filter)
fi
echo "ftrace=$ft"
rm -f $D/fifo && mkfifo $D/fifo || exit 1
echo > $I/trace
"""

JOB_SH = r"""
# job.sh TAG WINDOW VIRTIO: one window (WINDOW seconds, or "fifo": until
# a line is written to $D/fifo), then the counts into $D/TAG.out.
I=/sys/kernel/tracing/instances/pvr-idle
D=/tmp/pvr-idle
echo $$ > $D/$1.pid
irqs() { [ "$1" = - ] || awk -v p="$1-" -f $D/irq.awk /proc/interrupts; }
{ echo "U0 $(cut -d' ' -f1 /proc/uptime)"; irqs "$3" | sed 's/^/I0 /'; } > $D/$1.pre
echo 1 > $I/tracing_on
echo "PVR-IDLE-START-$1"
if [ "$2" = fifo ]; then read -r x < $D/fifo; else sleep "$2"; fi
echo 0 > $I/tracing_on
{
	cat $D/$1.pre
	echo "U1 $(cut -d' ' -f1 /proc/uptime)"
	irqs "$3" | sed 's/^/I1 /'
	cat $I/per_cpu/cpu*/stats | awk -f $D/stats.awk
	awk -f $D/trace.awk $I/trace
	echo E
} > $D/$1.out 2>&1
rm -f $D/$1.pid
echo "PVR-IDLE-DONE-$1"
"""

TEARDOWN_SH = r"""
I=/sys/kernel/tracing/instances/pvr-idle
D=/tmp/pvr-idle
for f in $D/*.pid; do [ -e "$f" ] && kill "$(cat "$f")" 2>/dev/null; rm -f "$f"; done
if [ -d $I ]; then
	echo 0 > $I/tracing_on
	echo nop > $I/current_tracer
	rmdir $I
fi
true
"""

# /proc/interrupts: the lines whose name starts with p ("virtio1-"),
# summed over the CPUs.
IRQ_AWK = r"""
NR == 1 { n = NF; next }
index($NF, p) == 1 {
	s = 0
	for (i = 2; i <= n + 1; i++) s += $i
	print $NF, s
}
"""

STATS_AWK = r"""
/^entries:/ { e += $2 }
/^overrun:/ { o += $2 }
/^dropped events:/ { d += $3 }
END { print "S entries", e + 0; print "S overrun", o + 0; print "S dropped", d + 0 }
"""

# "C event function module count" per (event, function); the function
# tracer's lines as event "function"; sched_wakeup by comm; a delayed
# work's timer (delayed_work_timer_fn followed on its CPU by the
# queue_work it makes) as "dwork" by the work's function.
TRACE_AWK = r"""
/^#/ { next }
{
	if (!match($0, /\[[0-9]+\] /)) next
	cpu = substr($0, RSTART + 1, RLENGTH - 3)
	rest = substr($0, RSTART + RLENGTH)
	if (!match(rest, /[0-9]+\.[0-9]+: /)) next
	body = substr(rest, RSTART + RLENGTH)
	if (!match(body, /^[a-z_0-9]+: /)) {
		split(body, w, " ")
		c["function " w[1] " -"]++
		next
	}
	ev = substr(body, 1, RLENGTH - 2)
	args = substr(body, RLENGTH + 1)
	if (ev == "sched_wakeup") {
		match(args, /comm=[^ ]*/)
		c["sched_wakeup " substr(args, RSTART + 5, RLENGTH - 5) " -"]++
		next
	}
	fn = "?"
	md = "-"
	if (match(args, /function[= ][^ ]+/)) {
		fn = substr(args, RSTART + 9, RLENGTH - 9)
		tail = substr(args, RSTART + RLENGTH)
		if (match(tail, /^ \[[a-z_0-9]+\]/)) md = substr(tail, 3, RLENGTH - 3)
	}
	if (ev == "workqueue_queue_work" && pend[cpu]) c["dwork " fn " " md]++
	pend[cpu] = (ev == "timer_expire_entry" && fn == "delayed_work_timer_fn")
	c[ev " " fn " " md]++
}
END {
	for (k in c) print "C", k, c[k]
	print "S lines", NR
}
"""

GUEST_FILES = {"setup.sh": SETUP_SH, "job.sh": JOB_SH, "teardown.sh": TEARDOWN_SH,
               "irq.awk": IRQ_AWK, "stats.awk": STATS_AWK, "trace.awk": TRACE_AWK}

# Rows of the table: (level, kind key, label).
KINDS = [
    ("timer", "timers (timer_expire_entry, function in module)"),
    ("dwork", "delayed-work timers (their work in module)"),
    ("hrtimer", "hrtimers (hrtimer_expire_entry)"),
    ("queue", "works queued (workqueue_queue_work)"),
    ("work", "works run (workqueue_execute_start)"),
    ("wakeup", "vhost worker wake-ups (sched_wakeup)"),
    ("irq", "interrupts of its virtio device"),
    ("function", "module function entries (function tracer)"),
]
EVENT_OF = {"timer": "timer_expire_entry", "dwork": "dwork",
            "hrtimer": "hrtimer_expire_entry", "queue": "workqueue_queue_work",
            "work": "workqueue_execute_start", "wakeup": "sched_wakeup",
            "function": "function"}
# The eventfd and interrupt paths into the modules, as entries into the
# functions they call (function tracer): "fn:" and the names.
FN_KINDS = {
    "L1": [("fn:vrec_error_wakeup", "vfio error eventfd wake-ups (vrec_error_wakeup)"),
           ("fn:vrec_handle_notice_kick,vrec_handle_ack_kick",
            "virtqueue kicks, ioeventfd (vrec_handle_*_kick)")],
    "L2": [("fn:pvr_notice_done,pvr_ack_done", "virtqueue callbacks (pvr_*_done)")],
}
# Kinds the control's notice must show, per level (the method is broken
# otherwise): the vfio error eventfd wakes vhost-recover.ko, works run on
# both sides, the vhost worker handles the send and L2's kick with the
# answer, L2 takes the notice's interrupt.
CONTROL_MUST = {"L1": ("work", "wakeup", "function", "fn:vrec_error_wakeup",
                       "fn:vrec_handle_notice_kick,vrec_handle_ack_kick"),
                "L2": ("work", "irq", "function", "fn:pvr_notice_done,pvr_ack_done")}


def put_file(con, path, text):
    """Write `text` to `path` in a guest through its shell, in short
    commands (the shell's line editor takes about 1 KiB a line)."""
    lines = text.strip("\n").split("\n")
    con.run(": > %s" % path)
    chunk = []
    for line in lines + [None]:
        if line is not None:
            chunk.append(shlex.quote(line))
        if chunk and (line is None or sum(len(c) + 1 for c in chunk) > 500):
            con.run("printf '%%s\\n' %s >> %s" % (" ".join(chunk), path))
            chunk = []


def guarded(con, cmd, timeout=60):
    """Run `cmd` and return its lines: prefixed in the guest so that
    run() keeps them whatever they look like."""
    out = con.run("%s | sed 's/^/R /'" % cmd, timeout=timeout)
    return [l[2:] for l in out.splitlines() if l.startswith("R ")]


def wait_marker(con, marker, start, timeout):
    """Wait for a line `marker` on `con` from `start` (log records written
    into it are taken out first); returns the host time it was seen."""
    rx = re.compile(r"(?m)^%s\r?$" % re.escape(marker))
    con.wait_for(lambda: rx.search(pvr.KLOG_INSIDE.sub("", con.console[start:])),
                 timeout, marker)
    return time.monotonic()


def line_time(con, marker, since, fallback):
    """Host time of the console line `marker` among the lines from index
    `since` of Console.lines (where the harness stamps whole lines, a
    moment after the transcript has them), else `fallback`."""
    for t, line in (getattr(con, "lines", None) or [])[since:]:
        if line.strip() == marker:
            return t
    return fallback


class Level:
    """One kernel's side: L1 (vhost-recover.ko) or L2 (pvrecover.ko)."""

    def __init__(self, tag, con, comm="-", virtio="-"):
        self.tag = tag
        self.con = con
        self.module = MODULES[tag]
        self.comm = comm
        self.virtio = virtio
        self.syms = set()
        self.ftrace = 0

    def setup(self):
        self.con.run("mkdir -p %s" % GDIR)
        for name, text in GUEST_FILES.items():
            put_file(self.con, "%s/%s" % (GDIR, name), text)
        # Its functions (t, T): what timers, works and the tracer name.
        self.syms = set(guarded(self.con, "grep '\\[%s\\]$' /proc/kallsyms | "
                                          "awk '$2 ~ /^[tT]$/ {print $3}' | sort -u"
                                % self.module))
        pvr.check(self.syms, "%s: no symbols of %s in /proc/kallsyms"
                  % (self.tag, self.module))
        out = self.con.run("sh %s/setup.sh %s %d '%s' 2>&1" % (
            GDIR, self.module, BUFFER_KB[self.tag], self.comm), timeout=120)
        m = re.search(r"ftrace=(\d+)", out)
        pvr.check(m, "%s: tracefs instance setup failed: %s" % (self.tag, out))
        self.ftrace = int(m.group(1))

    def clear(self):
        self.con.run("echo > %s/trace" % INSTANCE)

    def start(self, window):
        """Start the window as a background job (no wait: see window())."""
        self.mark = self.con.mark()
        self.line_mark = len(getattr(self.con, "lines", None) or [])
        self.con.write(("(sh %s/job.sh %s %s %s &)\n"
                        % (GDIR, self.tag, window, self.virtio)).encode())

    def readout(self):
        """The job's counts, read back (again if a log record broke a
        line on the way)."""
        for _ in range(3):
            lines = guarded(self.con, "cat %s/%s.out" % (GDIR, self.tag), timeout=120)
            if lines and lines[-1] == "E" and all(
                    re.fullmatch(r"(U[01] \d+\.\d+|I[01] \S+ \d+|S \w+ \d+|"
                                 r"C \S+ \S+ \S+ \d+|E)", l) for l in lines):
                return Counts(lines)
        raise pvr.TestFailure("%s: unreadable counts: %r" % (self.tag, lines[-20:]))

    def teardown(self):
        try:
            self.con.run("[ -e %s/teardown.sh ] && sh %s/teardown.sh" % (GDIR, GDIR),
                         timeout=60, check_rc=False)
        except pvr.TestFailure:
            pass

    def mine(self, fn, md):
        return md == self.module or (md == "-" and fn in self.syms)


class Counts:
    """One window's figures of one level, parsed from the job's lines."""

    def __init__(self, lines):
        self.c = {}
        self.irq = [{}, {}]
        self.uptime = [0.0, 0.0]
        self.stats = {}
        for l in lines:
            w = l.split()
            if w[0] == "C":
                self.c[(w[1], w[2], w[3])] = self.c.get((w[1], w[2], w[3]), 0) + int(w[4])
            elif w[0] in ("I0", "I1"):
                self.irq[int(w[0][1])][w[1]] = int(w[2])
            elif w[0] in ("U0", "U1"):
                self.uptime[int(w[0][1])] = float(w[1])
            elif w[0] == "S":
                self.stats[w[1]] = int(w[2])

    def length(self):
        return self.uptime[1] - self.uptime[0]

    def irqs(self):
        return sum(v - self.irq[0].get(k, 0) for k, v in self.irq[1].items())

    def kind(self, level, kind):
        """The module's count of `kind`, and {function: count}."""
        if kind == "irq":
            return self.irqs(), {k: v - self.irq[0].get(k, 0)
                                 for k, v in self.irq[1].items()
                                 if v != self.irq[0].get(k, 0)}
        if kind.startswith("fn:"):
            names = kind[3:].split(",")
            by = {}
            for (e, fn, _), n in self.c.items():
                if e == "function" and fn in names:
                    by[fn] = by.get(fn, 0) + n
            return sum(by.values()), by
        ev = EVENT_OF[kind]
        by = {}
        for (e, fn, md), n in self.c.items():
            if e != ev:
                continue
            if kind == "wakeup":
                ok = fn == level.comm
            elif kind == "function":
                ok = True  # the tracer is filtered to the module's functions
            else:
                ok = level.mine(fn, md)
            if ok:
                by[fn] = by.get(fn, 0) + n
        return sum(by.values()), by

    def total(self, ev):
        """The whole kernel's count of event `ev` in the window."""
        return sum(n for (e, _, _), n in self.c.items() if e == ev)

    def lost(self):
        return self.stats.get("overrun", 0) + self.stats.get("dropped", 0)


def applies(level, kind):
    if kind == "wakeup":
        return level.comm != "-"
    if kind == "irq":
        return level.virtio != "-"
    if kind == "function":
        return level.ftrace > 0
    if kind.startswith("fn:"):
        return level.ftrace > 0 and all(f in level.syms for f in kind[3:].split(","))
    return True


def window(levels, length, during=None, timeout=None):
    """One window in every level at once: each level's job is started with
    one command (written to both serial lines back to back), `during()`
    runs once all have started, then wait for all to end.  Returns
    ({tag: Counts}, start skew in seconds between the levels)."""
    for lv in levels:
        lv.start(length)
    seen = {lv.tag: wait_marker(lv.con, "PVR-IDLE-START-%s" % lv.tag, lv.mark, 60)
            for lv in levels}
    starts = [line_time(lv.con, "PVR-IDLE-START-%s" % lv.tag, lv.line_mark, seen[lv.tag])
              for lv in levels]
    if during:
        during()
    for lv in levels:
        wait_marker(lv.con, "PVR-IDLE-DONE-%s" % lv.tag, lv.mark,
                    timeout or (float(length) + READOUT_TIMEOUT))
    return {lv.tag: lv.readout() for lv in levels}, max(starts) - min(starts)


def idle_cost(n, seconds=60):
    """Count vhost-recover.ko's (L1) and pvrecover.ko's (L2) wakeups while
    both idle for `seconds` with the nvme attached, then check the method
    with a control window in which one notice is exchanged.  `n` is a
    booted nested.Nested with the "vhost" back end.  Returns the bench's
    sections."""
    t0 = time.monotonic()
    pvr.check(n.backend == "vhost", "idle_cost needs the vhost back end, not %r" % n.backend)
    qpid = n.l2_qemu_pid()
    comm = "vhost-%d" % qpid
    workers = int(n.l1.value("grep -lx '%s' /proc/[0-9]*/task/[0-9]*/comm 2>/dev/null "
                             "| wc -l" % comm, r"(\d+)"))
    pvr.check(workers >= 1, "L1: no vhost worker %s of L2's QEMU" % comm)
    virtio = n.l2.value("ls /sys/bus/virtio/drivers/pvrecover/ | grep '^virtio' "
                        "| sed 's/^/V /'", r"V (virtio\d+)")
    irq_lines = guarded(n.l2, "grep ' %s-' /proc/interrupts | awk '{print $NF}'" % virtio)
    pvr.check(irq_lines, "L2: %s has no line in /proc/interrupts" % virtio)
    l1 = Level("L1", n.l1, comm=comm)
    l2 = Level("L2", n.l2, virtio=virtio)
    levels = [l1, l2]
    try:
        for lv in levels:
            lv.setup()
        t_setup = time.monotonic() - t0

        t = time.monotonic()
        idle, idle_skew = window(levels, str(int(seconds)))
        t_idle = time.monotonic() - t

        # Control: the same counters, one notice exchanged.
        for lv in levels:
            lv.clear()
        acks = []

        def exchange():
            mark = len(n.qmp2.events)
            n.inject_nonfatal()
            _, ev = n.qmp2.wait_event("PVRECOVER_ACK", CONTROL_TIMEOUT, mark,
                                      device="hostdev0", notice="error-detected")
            acks.append(ev["data"])
            for lv in levels:
                lv.con.run("echo stop > %s/fifo" % GDIR, timeout=30)

        t = time.monotonic()
        control, ctl_skew = window(levels, "fifo", during=exchange,
                                   timeout=CONTROL_TIMEOUT + READOUT_TIMEOUT)
        t_control = time.monotonic() - t
    finally:
        for lv in levels:
            lv.teardown()

    # The method's own checks.
    for lv in levels:
        for what, counts in (("idle", idle), ("control", control)):
            c = counts[lv.tag]
            pvr.check(c.lost() == 0, "%s %s window: the trace lost %d events (overrun %s, "
                      "dropped %s): buffer_size_kb too small" % (
                          lv.tag, what, c.lost(), c.stats.get("overrun"),
                          c.stats.get("dropped")))
        for ev in ("timer_expire_entry", "hrtimer_expire_entry", "workqueue_execute_start"):
            pvr.check(idle[lv.tag].total(ev) > 0,
                      "%s: no %s at all in the idle window: events not recorded"
                      % (lv.tag, ev))
        for kind in CONTROL_MUST[lv.tag]:
            if applies(lv, kind):
                pvr.check(control[lv.tag].kind(lv, kind)[0] > 0,
                          "%s: the control's notice shows no %s of %s: the method "
                          "is broken" % (lv.tag, kind, lv.module))

    # The sections.
    idle_len = {lv.tag: idle[lv.tag].length() for lv in levels}
    ctl_len = {lv.tag: control[lv.tag].length() for lv in levels}
    rows = []
    by_fn = []
    for lv in levels:
        for kind, label in KINDS + FN_KINDS[lv.tag]:
            if not applies(lv, kind):
                continue
            ni, bi = idle[lv.tag].kind(lv, kind)
            nc, bc = control[lv.tag].kind(lv, kind)
            ev = EVENT_OF.get(kind)
            whole = (str(idle[lv.tag].total(ev))
                     if ev in ("timer_expire_entry", "hrtimer_expire_entry",
                               "workqueue_queue_work", "workqueue_execute_start") else "-")
            if kind == "wakeup":
                label += ", %s" % lv.comm
            if kind == "irq":
                label += ", %s-*" % lv.virtio
            rows.append([MODULE_FILES[lv.tag] + " (%s)" % lv.tag, label,
                         str(ni), str(nc), whole])
            if kind.startswith("fn:") or (kind == "function" and not bi):
                continue  # by name already; the control's many entries: in the row
            for fn in sorted(set(bi) | set(bc)):
                by_fn.append([MODULE_FILES[lv.tag], kind, fn, str(bi.get(fn, 0)),
                              "%.1f" % (bi.get(fn, 0) * 60.0 / idle_len[lv.tag])
                              if idle_len[lv.tag] else "-", str(bc.get(fn, 0))])
    idle_total = sum(int(r[2]) for r in rows)
    ack = acks[0] if acks else {}
    notes = [
        "Measured in the same window in L1 and L2: in each kernel a tracefs "
        "instance (instances/pvr-idle, %d/%d KiB a CPU, not the top-level "
        "buffer) records timer:timer_expire_entry, timer:hrtimer_expire_entry, "
        "workqueue:workqueue_queue_work and workqueue_execute_start of the "
        "whole kernel, in L1 sched:sched_wakeup filtered to comm %s (the "
        "vhost worker of L2's QEMU, %d task(s)), and the function tracer "
        "filtered to the module's functions (:mod:, %d in L1, %d in L2); "
        "functions are attributed to the module by symbol (%%ps names, the "
        "module's /proc/kallsyms symbols); L2's interrupts are the %s-* lines "
        "of /proc/interrupts before and after the window."
        % (BUFFER_KB["L1"], BUFFER_KB["L2"], l1.comm, workers, l1.ftrace,
           l2.ftrace, virtio),
        "A delayed work's timer runs the kernel's delayed_work_timer_fn: it is "
        "counted as a delayed-work timer of the module whose work it queues "
        "(the next event on its CPU); the eventfd paths into the module (the "
        "vfio error eventfd's wait-queue callback, the kick of a virtqueue, "
        "the ioctls) all enter a module function, and L2's side of the call "
        "eventfd is its virtio device's interrupt.",
        "Idle window: %d s asked, %.1f s in L1 and %.1f s in L2 (their own "
        "clocks), started %.2f s apart (host clock of their start lines); "
        "the traces lost no event (ring buffer overrun and dropped 0)."
        % (seconds, idle_len["L1"], idle_len["L2"], idle_skew),
        "Idle: %s." % ("no wakeup of either module" if idle_total == 0 else
                       "%d wakeup(s) of the modules, by function below" % idle_total),
        "Control window right after (%.1f s in L1, %.1f s in L2, started "
        "%.2f s apart, open from before the injection until L2's QEMU "
        "reported the answer): a non-fatal AER error injected in L0 at the "
        "nvme's root port; vhost-recover.ko sent error-detected (seq %s) and L2 answered "
        "%s (%s); the same counters saw it, so a zero above is a measured zero."
        % (ctl_len["L1"], ctl_len["L2"], ctl_skew, ack.get("seq"),
           ack.get("status"), ack.get("method")),
        "The whole kernel's figures (last column, idle) show the events were "
        "recorded: L1 traced %d events, L2 %d."
        % (idle["L1"].stats.get("lines", 0), idle["L2"].stats.get("lines", 0)),
        "Took %.0f s: setup %.0f s, idle window with read-out %.0f s, control "
        "with read-out %.0f s." % (time.monotonic() - t0, t_setup, t_idle, t_control),
    ]
    sections = [{
        "title": "Idle cost: wakeups of the modules in %d s idle, functions attached"
                 % seconds,
        "headers": ["module", "kind", "idle", "control (one notice)",
                    "whole kernel, idle"],
        "rows": rows,
        "notes": notes,
    }, {
        "title": "Idle cost by function (module wakeups seen in either window)",
        "headers": ["module", "kind", "function", "idle", "idle per minute", "control"],
        "rows": by_fn,
        "notes": ["Function tracer entries are listed here only for the idle "
                  "window (the control's are counted in the first table)."],
    }]
    n.l0.assert_kernel_healthy()
    n.l2.assert_kernel_healthy()
    return sections


def print_sections(sections):
    for s in sections:
        print(s["title"])
        table = [s["headers"]] + s["rows"]
        widths = [max(len(r[i]) for r in table) for i in range(len(s["headers"]))]
        for i, r in enumerate(table):
            print("  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
            if i == 0:
                print("  " + "  ".join("-" * w for w in widths))
        if not s["rows"]:
            print("  (none)")
        for note in s["notes"]:
            print("  - " + note)
        print()


def main():
    if not os.environ.get("PVR_L1_KVER"):
        # The nested suite's host is 6.12 (README, Kernels).
        l1 = [k for k in pvr.kvers() if pvr.series(k) == "6.12"]
        if l1:
            os.environ["PVR_L1_KVER"] = l1[0]
    seconds = int(os.environ.get("PVR_IDLE_SECONDS", "60"))
    print("# L1 %s, L2 %s" % (pvr.l1_kver(), pvr.kver()), flush=True)
    t = time.monotonic()
    n = nested.Nested(NAME, pvr.blank_disk(NAME, "nvme.img"))
    try:
        n.boot(backend="vhost")
        print("# booted in %.0f s" % (time.monotonic() - t), flush=True)
        sections = idle_cost(n, seconds)
    finally:
        n.close()
    print_sections(sections)
    print("# took %.0f s in all; log: %s" % (time.monotonic() - t,
                                             os.path.relpath(os.path.join(
                                                 pvr.workdir(NAME), "log.txt"), pvr.TOP)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
