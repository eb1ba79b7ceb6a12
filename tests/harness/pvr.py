"""Test harness: boot a guest under the patched QEMU and drive it.

A Guest owns one QEMU process.  Its serial console (kernel log and an
interactive busybox shell) is read by a thread into a transcript; tests wait
for explicit markers in it with bounded timeouts.  QMP is JSON over a unix
socket; events are collected by a second thread.  Nothing here sleeps to
synchronise: every wait is for a marker, an event or a reply, with a bound.
"""

import base64
import json
import os
import re
import shlex
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.path.join(TOP, "build")
QEMU = os.environ.get("PVR_QEMU", os.path.join(BUILD, "qemu", "qemu-system-x86_64"))
FIRMWARE = ["/usr/share/seabios", "/usr/share/qemu", "/usr/lib/ipxe/qemu"]

# Lines that mean the guest kernel is in trouble; any of them fails a test.
KERNEL_TROUBLE = re.compile(r"(BUG: |Oops|WARNING: CPU|general protection|"
                            r"Kernel panic|hung_task|soft lockup|"
                            r"unreferenced object|Call Trace)")

# make check-debug: the guests run a kernel built with KASAN, lockdep,
# UBSAN, debug objects and kmemleak (scripts/build-debug-kernel.sh).  Any
# report of theirs in any console of a test fails it, whether or not the
# test looked (tests/run.py); leaks are looked for when a guest is closed,
# after our modules are unloaded (Console.kmemleak()).
DEBUG = os.environ.get("PVR_DEBUG") == "1"
DEBUG_REPORT = re.compile(
    r"(BUG: KASAN|UBSAN:|WARNING: possible (?:circular|recursive) locking|"
    r"WARNING: inconsistent lock state|WARNING: suspicious RCU usage|"
    r"WARNING: bad unlock balance|WARNING: held lock freed|"
    r"WARNING: lock held when returning|WARNING: Nested lock was not taken|"
    r"INFO: possible irq lock inversion|BUG: sleeping function called|"
    r"BUG: scheduling while atomic|BUG: workqueue leaked lock|ODEBUG: |"
    r"list_(?:add|del) corruption|BUG: |Oops|WARNING: CPU|Call Trace)")
# Modules of ours; a leak whose allocation trace is in one of them (or in
# module text already unloaded) is ours.
OUR_MODULES = ("pvr_badguest", "pvr_leak", "pvr_msix", "pvrecover", "vhost_recover")
_OURS = re.compile(r"\[(?:%s)\]|\b(?:pvr|vrec)_\w+\+0x|\b0xffffffff[0-9a-f]{8}\b"
                   % "|".join(OUR_MODULES))
_consoles = []
debug_findings = []
# What the harness logs when it finds a guest CPU whose timer interrupt
# never came (Console.probe_lost_timer()); tests/run.py reads it as it
# reads the kernel's own message.
LOST_TIMER_SAID = "pvr: lost timer interrupt"
# What the harness logs when a QEMU that runs none of the project's code
# (L0 of the nested tests: stock devices only) dies of a signal: a defect
# of the emulator, which tests/run.py treats as it treats a lost timer.
EMULATOR_DIED_SAID = "pvr: QEMU without the project's devices died of signal"
# Every wait of the harness is bounded; a debug kernel (KASAN, lockdep,
# kmemleak under TCG) does the same work several times slower, so its
# bounds are that much longer.  PVR_TIME_SCALE overrides.
TIME_SCALE = float(os.environ.get("PVR_TIME_SCALE") or (5 if DEBUG else 1))


def scaled(timeout):
    """A wait's bound on this run's kernels."""
    return timeout * TIME_SCALE


def debug_reset():
    """Forget the consoles and findings of the test before."""
    del _consoles[:]
    del debug_findings[:]


# Reports of the debug kernel about Linux's own code, with none of ours in
# them, that a test's scenario provokes and this project cannot change
# (README, "Debug kernels"): (what it is, the report's title, patterns its
# first lines all match).  Such a report is logged, and neither fails the
# test nor counts as kernel trouble; anything else in the console still
# does.  Lockdep reports once per boot: after one of these, it is off.
KNOWN_UPSTREAM = [
    ("vfio-pci's AER callback takes igate under pci_bus_sem, a bus hot "
     "reset takes pci_bus_sem under memory_lock (Linux 6.1 and 6.12)",
     "WARNING: possible circular locking dependency detected",
     [r"is trying to acquire lock:\r?\n[^\n]*\(&vdev->igate\)[^\n]*"
      r"at: vfio_pci_core_aer_err_detected\+",
      r"but task is already holding lock:\r?\n[^\n]*\(pci_bus_sem\)"]),
]


def known_upstream(text):
    """[(start, end, what)] of the KNOWN_UPSTREAM reports in `text`: from
    the report's title to the end of its stack dump."""
    spans = []
    for what, title, needles in KNOWN_UPSTREAM:
        pos = 0
        while True:
            start = text.find(title, pos)
            if start < 0:
                break
            head = text[start:start + 3000]
            end = text.find("</TASK>", start)
            end = len(text) if end < 0 else end + len("</TASK>")
            if all(re.search(n, head) for n in needles):
                spans.append((start, end, what))
            pos = start + len(title)
    return spans


def search_unknown(rx, text, spans=None):
    """The first match of `rx` in `text` outside KNOWN_UPSTREAM reports
    (`spans`, known_upstream(text) if not given)."""
    if spans is None:
        spans = known_upstream(text)
    for m in rx.finditer(text):
        if not any(a <= m.start() < b for a, b, _ in spans):
            return m
    return None


def debug_reports():
    """What the debug kernel reported during the test just run: leaks of
    ours, then the first report in each console, with its context."""
    out = list(debug_findings)
    for c in _consoles:
        spans = known_upstream(c.console)
        for _, _, what in spans:
            # Said in the run's output: the guest's log is closed by now.
            print("# %s: known report of Linux's own, not failing the test: %s"
                  % (c.tag, what), flush=True)
        m = search_unknown(DEBUG_REPORT, c.console, spans)
        if m:
            out.append("%s: %s" % (c.tag, c.console[max(0, m.start() - 300):m.start() + 2500]))
    return out


# The modules' tracepoints, as /init streams trace_pipe to the console
# (tests/harness/guest-init.sh): "<task>-<pid> [<cpu>] <flags> <time>:
# <event>: key=value ...", <time> on the clock of the kernel log's
# timestamps (trace_clock "global").  The lines come through a reader
# process, a moment after the kernel log's: wait for them, and order them
# against log lines by time, never by position.  This and the events' definitions (guest/pvrecover/trace.h,
# host/vhost-recover/trace.h) are the modules' contract with the tests and
# the demo; the kernel log keeps one line per recovery and the failures
# (tests/harness/nested.py lists the host's).
#   pvrecover_notice_received   bdf seq type flags deadline_ms   (bdf "-": none)
#   pvrecover_callback_start    bdf seq type callback result
#   pvrecover_callback_finish   bdf seq type callback result
#   pvrecover_notice_answered   bdf seq type status method us
#   vhost_recover_notice_queued    bdf seq type flags deadline_ms merged carried
#   vhost_recover_notice_sent      bdf seq type
#   vhost_recover_notice_answered  bdf seq type status method guest_us late
#   vhost_recover_notice_timed_out bdf seq type
#   vhost_recover_notice_dropped   bdf seq type reason
# Only whole lines: one still being written may lack the fields asked for.
TRACE_LINE = r"(?m)^[^\n]*?\s(\d+\.\d+): (%s): (%s[^\n]*?)\r?(?=\n)"
# The kernel writes its log to the serial port directly, between two bytes
# of what a process writes there: a log record can split a trace line.
# Records are whole; those that do not start a line are taken out first,
# two or more in a row as well.
KLOG_INSIDE = re.compile(r"(?<=[^\n])(?:\[\s*\d+\.\d+\] [^\n]*\n)+")
TRACE_ANY = re.compile(r"^.*\[\d+\] .*\s\d+\.\d+: (?:pvrecover|vhost_recover)_\w+: ")


class TraceEvent:
    """One trace line of the console: .event, .time (seconds, the kernel
    log's clock), .fields (str values), .pos (its order among trace lines:
    about its offset in the transcript)."""

    def __init__(self, m, offset=0):
        self.m = m
        self.time = float(m.group(1))
        self.event = m.group(2)
        self.fields = dict(re.findall(r"(\w+)=(\S*)", m.group(3)))
        self.pos = offset + m.start()

    def start(self):
        return self.pos

    def __getitem__(self, key):
        v = self.fields[key]
        return int(v) if re.fullmatch(r"\d+", v) else v

    def __repr__(self):
        return "%s %s" % (self.event, " ".join("%s=%s" % kv for kv in self.fields.items()))


def trace_rx(event, fields):
    """The regex of a trace line of `event` (a regex) whose fields match:
    ints exactly, strings as regexes."""
    look = "".join(r"(?=[^\n]*\b%s=%s(?:\s|$))"
                   % (k, str(v) if isinstance(v, int) else v)
                   for k, v in fields.items())
    return re.compile(TRACE_LINE % (event, look))


def _trace_text(con, start):
    """The console from `start` with log records inside lines taken out
    (KLOG_INSIDE); positions of events in it are offset by `start`."""
    return KLOG_INSIDE.sub("", con.console[start:])


def traces(con, event, start=0, **fields):
    """The trace lines of `event` matching `fields` on console `con`."""
    return [TraceEvent(m, start) for m in trace_rx(event, fields).finditer(_trace_text(con, start))]


def wait_trace(con, event, timeout, start=0, **fields):
    """Wait for a trace line of `event` matching `fields` on `con`."""
    rx = trace_rx(event, fields)
    with con.cond:
        m = None

        def find():
            nonlocal m
            m = rx.search(_trace_text(con, start))
            return m is not None or con.exited
        con.cond.wait_for(find, scaled(timeout))
    if m is None:
        raise TestFailure("%s: no trace %s %s within %ss" % (con.tag, event, fields,
                                                             scaled(timeout)))
    return TraceEvent(m, start)


class TestFailure(Exception):
    """An assertion about the system under test did not hold."""


def check(cond, what):
    if not cond:
        raise TestFailure(what)


def event_time(ev):
    """A QMP event's timestamp in seconds (the wall clock of its QEMU's
    host, like QEMU's trace timestamps)."""
    return ev["timestamp"]["seconds"] + ev["timestamp"]["microseconds"] / 1e6


def _kver_sh(*args):
    p = subprocess.run([os.path.join(TOP, "scripts", "kver.sh")] + list(args),
                       capture_output=True, text=True)
    if p.returncode:
        raise TestFailure(p.stderr.strip() or "scripts/kver.sh failed")
    return p.stdout.split()


def kver():
    """The Debian kernel the guest runs (L2 in the nested tests): $PVR_KVER,
    else the project's default (scripts/kver.sh, the one place that
    decides; never simply the newest kernel installed)."""
    return os.environ.get("PVR_KVER") or _kver_sh()[0]


def l1_kver():
    """The Debian kernel of L1, the host of the nested tests: $PVR_L1_KVER,
    else the guest's."""
    return os.environ.get("PVR_L1_KVER") or kver()


def kvers():
    """The matrix: $PVR_KVERS, else every supported series' newest
    kernel (scripts/kver.sh --all), the default first."""
    return os.environ.get("PVR_KVERS", "").split() or _kver_sh("--all")


def kimage(k):
    """The image of kernel `k`: Debian's in /boot, or one built here in the
    private root $PVR_KROOT (scripts/build-debug-kernel.sh)."""
    return os.path.join(os.environ.get("PVR_KROOT") or "/", "boot", "vmlinuz-" + k)


def series(k):
    """6.1.0-57-amd64 -> "6.1", as test names carry it."""
    return ".".join(re.split(r"[.-]", k)[:2])


def kbuild(k, *path):
    """build/k/KVER/...: a kernel's modules and images (make initramfs)."""
    return os.path.join(BUILD, "k", k, *path)


def why_not(closed, what, qemu, timeout):
    """Why a wait on `what` (a console, a QMP connection) ended without
    what it waited for: its time ran out, or it closed, and then how
    `qemu` (the Guest serving it, if known) ended."""
    if not closed:
        return "within %ss" % scaled(timeout)
    if qemu is None:
        return "before %s closed" % what
    return "before %s closed: %s" % (what, qemu.exit_status())


class Qmp:
    """A minimal QMP client: commands in order, events collected."""

    def __init__(self, path, log, greeting_timeout=30, tag="qmp", qemu=None):
        """`qemu`: the Guest whose QEMU serves `path`, to say why the
        connection closed."""
        self.log = lambda text: log("%s %s" % (tag, text))
        self.qemu = qemu
        self.sock = connect_unix(path)
        # The greeting comes when the QEMU behind the socket starts.
        self.sock.settimeout(scaled(greeting_timeout))
        self.file = self.sock.makefile("rwb")
        self.cond = threading.Condition()
        self.events = []
        self.replies = []
        self.closed = False
        try:
            greeting = json.loads(self._line())
        except (OSError, ValueError):
            raise TestFailure("no QMP greeting on %s" % path)
        check("QMP" in greeting, "bad QMP greeting")
        self.sock.settimeout(None)
        threading.Thread(target=self._reader, daemon=True).start()
        # QEMU answers its first command once the machine is built (for
        # L2's QEMU: vfio mapping all of L2's memory, seconds under TCG).
        self.cmd("qmp_capabilities", timeout=greeting_timeout)

    def _line(self):
        """One JSON line; anything before a '{' (a serial line's noise) is
        dropped."""
        while True:
            line = self.file.readline()
            if not line:
                raise OSError("QMP connection closed")
            i = line.find(b"{")
            if i >= 0:
                return line[i:]

    def _reader(self):
        try:
            self._read_messages()
        except (OSError, ValueError):
            pass
        with self.cond:
            self.closed = True
            self.cond.notify_all()

    def _read_messages(self):
        while True:
            msg = json.loads(self._line())
            with self.cond:
                if "event" in msg:
                    msg["_t"] = time.monotonic()
                    self.events.append(msg)
                    self.log("event %s %s" % (msg["event"],
                                                  json.dumps(msg.get("data"))))
                else:
                    self.replies.append(msg)
                self.cond.notify_all()

    def cmd_raw(self, name, timeout=30, **args):
        msg = {"execute": name}
        if args:
            msg["arguments"] = args
        self.log("-> %s" % json.dumps(msg))
        with self.cond:
            try:
                self.file.write(json.dumps(msg).encode() + b"\n")
                self.file.flush()
            except OSError:
                self.closed = True
            self.cond.wait_for(lambda: self.replies or self.closed, scaled(timeout))
            if not self.replies:
                raise TestFailure("QMP %s: no reply %s" % (name, self._why_not(timeout)))
            reply = self.replies.pop(0)
        self.log("<- %s" % json.dumps(reply))
        return reply

    def cmd(self, name, timeout=30, **args):
        reply = self.cmd_raw(name, timeout, **args)
        if "error" in reply:
            raise TestFailure("QMP %s failed: %s" % (name, reply["error"]["desc"]))
        return reply["return"]

    def wait_event(self, name, timeout, start=0, **match):
        """Wait for event `name` (or any of a tuple of names) whose data has
        the given values.

        Only events at index >= start are considered; returns (index, event).
        """
        names = name if isinstance(name, tuple) else (name,)

        def find():
            for i in range(start, len(self.events)):
                ev = self.events[i]
                if ev["event"] not in names:
                    continue
                data = ev.get("data", {})
                if all(data.get(k.replace("_", "-")) == v for k, v in match.items()):
                    return i, ev
            return None

        with self.cond:
            found = None

            def seen():
                nonlocal found
                found = find()
                return found is not None or self.closed
            self.cond.wait_for(seen, scaled(timeout))
        if not found:
            raise TestFailure("no QMP event %s %s %s" % (name, match, self._why_not(timeout)))
        return found

    def _why_not(self, timeout):
        return why_not(self.closed, "the QMP connection", self.qemu, timeout)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def connect_unix(path, timeout=30):
    """Connect to a unix socket a QEMU just started is about to listen on."""
    deadline = time.monotonic() + timeout
    while True:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(path)
            return sock
        except (FileNotFoundError, ConnectionRefusedError):
            sock.close()
            if time.monotonic() > deadline:
                raise TestFailure("socket %s never appeared" % path)
            time.sleep(0.05)  # polling for the socket file, bounded


class Console:
    """A serial console: a transcript fed by a reader thread, and a busybox
    shell driven through it with explicit end markers."""

    def __init__(self, log, tag="con", qemu=None):
        self.log = log
        self.tag = tag
        self.console = ""
        self.cond = threading.Condition()
        self.seq = 0
        self.exited = False
        # The Guest whose QEMU serves this line, to say why it closed.
        self.qemu = qemu
        self._partial = ""
        # (host time.monotonic(), line) of every whole line: the bench maps
        # a guest's kernel clock onto the host's with them.
        self.lines = []
        if DEBUG:
            _consoles.append(self)

    def write(self, data):
        raise NotImplementedError

    def feed(self, data):
        """Append bytes read from the serial line (None: it closed)."""
        if data is None:
            if self._partial:
                self.log("%s %s" % (self.tag, self._partial))
            with self.cond:
                self.exited = True
                self.cond.notify_all()
            return
        text = data.decode("utf-8", "replace").replace("\r", "")
        with self.cond:
            self.console += text
            self.cond.notify_all()
        # The log gets whole lines, stamped when they complete.
        lines = (self._partial + text).split("\n")
        self._partial = lines.pop()
        now = time.monotonic()
        for line in lines:
            self.lines.append((now, line))
            self.log("%s %s" % (self.tag, line))

    def wait_console(self, pattern, timeout, start=0):
        """Wait for regex `pattern` in the console from offset `start`.

        Returns the match object (positions relative to the transcript).
        """
        rx = re.compile(pattern)
        with self.cond:
            m = None

            def find():
                nonlocal m
                m = rx.search(self.console, start)
                return m is not None or self.exited
            self.cond.wait_for(find, scaled(timeout))
        if m is None:
            raise TestFailure("%s: no /%s/ %s" % (self.tag, pattern, self._why_not(timeout)))
        return m

    def _why_not(self, timeout):
        return why_not(self.exited, "the line", self.qemu, timeout)

    def wait_for(self, pred, timeout, what):
        """Wait until pred() holds (it reads the transcript); returns its
        value."""
        with self.cond:
            v = None

            def find():
                nonlocal v
                v = pred()
                return bool(v) or self.exited
            self.cond.wait_for(find, scaled(timeout))
        if not v:
            raise TestFailure("%s: no %s %s" % (self.tag, what, self._why_not(timeout)))
        return v

    def mark(self):
        """Current end of the transcript, to wait for things after it."""
        with self.cond:
            return len(self.console)

    def boot(self, timeout=120):
        self.wait_console(r"PVR-READY", timeout)
        self.run("true", timeout=30)

    def run(self, command, timeout=60, check_rc=True):
        """Run a shell command in the guest; return its output (kernel log
        lines removed).  Waits for an explicit end marker."""
        self.seq += 1
        n = self.seq
        start = self.mark()
        line = "%s; echo @@END:%d:$?@@\n" % (command, n)
        self.log("%s run %s" % (self.tag, command))
        self.write(line.encode())
        m = self.wait_console(r"@@END:%d:(\d+)@@" % n, timeout, start)
        rc = int(m.group(1))
        out = self.console[start:m.start()]
        out = "\n".join(l for l in out.splitlines()
                        if not re.match(r"^\[\s*\d+\.\d+\]", l)
                        and not TRACE_ANY.match(l)
                        and "@@END:%d:$?@@" % n not in l)
        if check_rc and rc != 0:
            raise TestFailure("%s: guest command failed (rc %d): %s\n%s"
                              % (self.tag, rc, command, out))
        return out.strip()

    def value(self, command, pattern, timeout=60):
        out = self.run(command, timeout)
        m = re.search(pattern, out)
        check(m is not None, "no /%s/ in output of %s: %r" % (pattern, command, out))
        return m.group(1)

    def wait_guest(self, condition, timeout=30):
        """Wait until a shell condition holds in the guest (bounded loop run
        inside the guest; polls a kernel-provided state, not a clock)."""
        tries = int(scaled(timeout) * 10)
        self.run("i=0; until %s; do i=$((i+1)); [ $i -ge %d ] && exit_code=1 && break; "
                 "usleep 100000; done; [ -z \"$exit_code\" ]; r=$?; unset exit_code; (exit $r)"
                 % (condition, tries), timeout=timeout + 30)

    def kmemleak(self, unload=OUR_MODULES, timeout=60):
        """A debug kernel's leaks: unload `unload` (those loaded), scan,
        and record the unreferenced objects allocated by our modules in
        debug_findings (the kernel's own are logged).  Needs this console's
        shell; a guest that no longer answers is reported as such."""
        try:
            # A user that just exited may still be letting go of the
            # module's files (vhost's worker ends after its owner): wait,
            # bounded, for the module's references to go.
            out = self.run("for m in %s; do grep -q \"^$m \" /proc/modules || continue; "
                           "i=0; while [ \"$(cat /sys/module/$m/refcnt)\" != 0 ] && "
                           "[ $i -lt %d ]; do i=$((i+1)); usleep 100000; done; "
                           "rmmod $m || echo \"pvr-debug: rmmod $m failed\"; done; "
                           "echo scan > /sys/kernel/debug/kmemleak && "
                           "cat /sys/kernel/debug/kmemleak" % (" ".join(unload),
                                                              int(scaled(30) * 10)),
                           timeout=timeout, check_rc=False)
        except TestFailure as e:
            debug_findings.append("%s: no kmemleak scan: %s" % (self.tag, e))
            return
        for line in re.findall(r"^pvr-debug: .*$", out, re.M):
            debug_findings.append("%s: %s" % (self.tag, line))
        for rec in re.split(r"(?m)^(?=unreferenced object)", out):
            if not rec.startswith("unreferenced object"):
                continue
            if _OURS.search(rec):
                debug_findings.append("%s: kmemleak: %s" % (self.tag, rec[:2000]))
            else:
                self.log("%s kmemleak, not ours: %s" % (self.tag, rec.splitlines()[0]))

    def probe_lost_timer(self, timeout=20):
        """After a failure: is a CPU of this guest waiting for a timer
        interrupt that never came?  Under multi-threaded TCG an idle vCPU
        now and then misses one and sleeps until another interrupt wakes
        it, and all that waits on that CPU (a sleep, a work, L2's vCPU)
        waits with it, often without a word from the kernel.  Such a CPU's
        next timer event lies seconds in the past when another CPU reads
        the clock.  Said in the log (LOST_TIMER_SAID); True if found.
        Best effort: a shell that does not answer, or never came up, is
        no finding."""
        if "PVR-READY" not in self.console:
            return False
        try:
            out = self.run("grep -E '^now at|^cpu:|expires_next' /proc/timer_list",
                           timeout=timeout)
        except TestFailure:
            return False
        m = re.search(r"^now at (\d+) nsecs", out, re.M)
        if not m:
            return False
        now = int(m.group(1))
        late = [(int(c), (now - int(e)) / 1e9) for c, e in
                re.findall(r"^cpu: (\d+)\n(?:.*\n)*?\s*\.expires_next\s*: (\d+) nsecs",
                           out, re.M)]
        late = [(c, s) for c, s in late if s > 2]
        for c, s in late:
            self.log("%s %s: cpu=%d, its next timer event %.1f s in the past"
                     % (self.tag, LOST_TIMER_SAID, c, s))
        return bool(late)

    def pvr_sysfs(self):
        """The pvrecover counters of the guest, as a dict of ints."""
        out = self.run("cd /sys/bus/virtio/drivers/pvrecover/virtio*/ && "
                       "for f in notices recovered_* failed no_driver unknown_device "
                       "unsupported malformed busy quiesce_expired stale acks_dropped "
                       "last_recovery_us; do "
                       "echo \"$f=$(cat $f)\"; done; cd /")
        vals = {}
        for m in re.finditer(r"^(\w+)=(\d+)$", out, re.M):
            vals[m.group(1)] = int(m.group(2))
        return vals

    def assert_kernel_healthy(self):
        m = search_unknown(KERNEL_TROUBLE, self.console)
        check(m is None, "%s: kernel trouble: %r" % (
            self.tag, self.console[max(0, m.start() - 200):m.start() + 400] if m else ""))


class SocketConsole(Console):
    """A serial port QEMU exposes as a unix socket server."""

    def __init__(self, path, log, tag, qemu=None):
        super().__init__(log, tag, qemu)
        self.sock = connect_unix(path)
        threading.Thread(target=self._reader, daemon=True).start()

    def write(self, data):
        self.sock.sendall(data)

    def _reader(self):
        while True:
            try:
                data = self.sock.recv(4096)
            except OSError:
                data = b""
            if not data:
                break
            self.feed(data)
        self.feed(None)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class Guest(Console):
    """One guest: the patched QEMU, a Debian kernel, our initramfs.  The
    guest's ttyS0 is QEMU's stdio: kernel log and the shell."""

    def __init__(self, name, devices, modules=("virtio_pci",), pvrecover=True,
                 mem=512, append="", machine="q35", accel="tcg", cpu="max",
                 initrd=None, serials=(), kernel=None, project_devices=True):
        """`project_devices` False: `devices` hold none of the project's
        (nested L0), so this QEMU dying of a signal is the emulator's
        defect, logged as EMULATOR_DIED_SAID."""
        self.name = name
        self.dir = workdir(name)
        self.logf = open(os.path.join(self.dir, "log.txt"), "w")
        self.t0 = time.monotonic()
        super().__init__(self.log, qemu=self)
        self.project_devices = project_devices
        # close() stops QEMU: its exit is then no finding.
        self.stopping = False
        self._exit_said = False
        self._exit_lock = threading.Lock()
        k = kernel or kver()
        if initrd is None:
            initrd = os.environ.get("PVR_INITRD") or kbuild(k, "initramfs.cpio.gz")
        qmp_path = os.path.join(self.dir, "qmp.sock")
        # A KASAN kernel with 5-level paging can take an interrupt in
        # early boot before its shadow covers the direct map, and reports a
        # wild access (seen in a single-level guest under TCG, and in every
        # L2 under KVM nested in TCG): debug guests boot with 4 levels.
        cmdline = "console=ttyS0 panic=-1 pvr.modules=%s %s %s%s" % (
            ",".join(modules), "" if pvrecover else "pvr.pvrecover=0", append,
            " no5lvl" if DEBUG else "")
        argv = [QEMU, "-accel", accel, "-machine", machine, "-cpu", cpu,
                "-m", str(mem), "-smp", "2", "-nodefaults", "-display", "none",
                "-no-reboot", "-serial", "stdio"]
        # Further serial ports (ttyS1...) as unix socket servers.
        self.serial_paths = []
        for i, _ in enumerate(serials):
            path = os.path.join(self.dir, "ttyS%d.sock" % (i + 1))
            self.serial_paths.append(path)
            argv += ["-serial", "unix:%s,server=on,wait=off" % path]
        argv += ["-kernel", kimage(k), "-initrd", initrd,
                 "-append", cmdline, "-qmp", "unix:%s,server=on,wait=off" % qmp_path]
        for path in [qmp_path] + self.serial_paths:
            if os.path.exists(path):
                os.unlink(path)
        for fw in FIRMWARE:
            argv += ["-L", fw]
        argv += devices
        # The shell runs on the console unless sent elsewhere.
        self.has_shell = "pvr.shell=" not in append
        self.log("argv %s" % " ".join(shlex.quote(a) for a in argv))
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        threading.Thread(target=self._reader, daemon=True).start()
        self.qmp = Qmp(qmp_path, self.log, qemu=self)

    def now(self):
        return time.monotonic() - self.t0

    def log(self, text):
        self.logf.write("%9.3f %s\n" % (self.now(), text))
        self.logf.flush()

    def write(self, data):
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def _reader(self):
        fd = self.proc.stdout.fileno()
        while True:
            data = os.read(fd, 4096)
            if not data:
                break
            self.feed(data)
        # QEMU closed its stdout: it is exiting.  Said before the waits
        # wake, so that a failure's log has it.
        if not self.stopping:
            self._say_exit()
        self.feed(None)

    def _say_exit(self):
        """Log how QEMU ended, once (tests/run.py reads it)."""
        with self._exit_lock:
            if not self._exit_said:
                self._exit_said = True
                self.log("qemu: %s" % self.exit_status())

    def exit_status(self):
        """How this QEMU ended, in words (waits a little for it to)."""
        try:
            rc = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            return "QEMU still running"
        if rc >= 0:
            return "QEMU exited with status %d" % rc
        try:
            sig = signal.Signals(-rc).name
        except ValueError:
            sig = "?"
        if self.project_devices or self.stopping:
            return "QEMU died of signal %d (%s)" % (-rc, sig)
        return "%s %d (%s)" % (EMULATOR_DIED_SAID, -rc, sig)

    # -- pvrecover helpers ---------------------------------------------------

    def notify(self, device, notice, **args):
        args = {k.replace("_", "-"): v for k, v in args.items()}
        r = self.qmp.cmd("pvrecover-notify", device=device, notice=notice, **args)
        return r["seq"]

    def send_raw(self, data, timeout=60):
        """Post raw bytes as one notice.  QEMU refuses more than a few
        notices waiting for guest buffers; then wait for the guest to take
        some (a bounded retry on an explicit refusal)."""
        deadline = time.monotonic() + timeout
        while True:
            r = self.qmp.cmd_raw("x-pvrecover-send-raw",
                                 data=base64.b64encode(data).decode())
            if "return" in r:
                return r["return"]["seq"]
            if "Too many" not in r["error"]["desc"] or time.monotonic() > deadline:
                raise TestFailure("x-pvrecover-send-raw: %s" % r["error"]["desc"])
            self.qmp.wait_event("PVRECOVER_ACK", 10, start=len(self.qmp.events))

    def wait_ack(self, seq, timeout=60, **match):
        _, ev = self.qmp.wait_event("PVRECOVER_ACK", timeout, seq=seq, **match)
        return ev["data"]

    def close(self):
        try:
            if sys.exc_info()[0] and self.has_shell and self.proc.poll() is None:
                self.probe_lost_timer()  # the test is failing: was it TCG?
            # A shell that never came up answers nothing: not asked.
            if (DEBUG and self.has_shell and "PVR-READY" in self.console
                    and self.proc.poll() is None and not self.exited):
                self.kmemleak()
        finally:
            # QEMU stops whatever went wrong before: one left running
            # would slow every test after it.  One that has ended already
            # is said to have, before the log closes.
            if self.proc.poll() is not None:
                self._say_exit()
            self.stopping = True
            try:
                if self.proc.poll() is None:
                    try:
                        self.qmp.cmd("quit", timeout=10)
                    except (TestFailure, OSError):
                        pass
                    try:
                        self.proc.wait(timeout=15)
                    except subprocess.TimeoutExpired:
                        self.proc.kill()
                        self.proc.wait()
            finally:
                self.qmp.close()
                self.logf.close()


def notice_bytes(seq, ntype, flags=0, path=(0,), root_bus=0, segment=0,
                 deadline_ms=0, reserved=(0, 0), depth=None):
    """A struct virtio_pvrecover_notice, little-endian, 32 bytes."""
    p = list(path) + [0] * (8 - len(path))
    return struct.pack("<IHHHBB8BIII", seq, ntype, flags, segment, root_bus,
                       len(path) if depth is None else depth, *p[:8],
                       deadline_ms, *reserved)


def workdir(name):
    """The per-test scratch directory (logs, sockets, disk images)."""
    # QEMU's socket paths take no ',' or '='; ':' is kept out too.
    d = os.path.join(BUILD, "test-run", re.sub(r"[/:]", "-", name))
    os.makedirs(d, exist_ok=True)
    return d


def blank_disk(name, file, size_mb=16):
    path = os.path.join(workdir(name), file)
    with open(path, "wb") as f:
        f.truncate(0)
        f.truncate(size_mb << 20)
    return path
