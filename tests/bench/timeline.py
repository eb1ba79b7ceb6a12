"""One clock for a run that spans three kernels: the host's.

Each guest stamps its kernel log and trace events with its own clock.  The
harness records when each console line reached the host (Console.lines,
time.monotonic()).  A kernel log line is written to the serial port as it
is logged, so (arrival - kernel timestamp) is the clock offset plus a
delay that is never negative: the smallest difference over the lines
around a round is the offset, to within that round's fastest line.  Only
the lines within a few seconds of the round count: a TCG guest's clock
source is calibrated at boot against emulated timers and runs up to a
few per mille off the host's, tens of ms over a minute.  Trace
lines come through a reader process and arrive later; they are placed by
their own timestamps, never by their arrival.

Events are (host time, lane, label); spans (lane, label, start, end), in
seconds, both relative to the injection of the error when a round is cut
out with Round.
"""

import re
import statistics

import pvr

KTIME = re.compile(r"^\[\s*(\d+\.\d+)\]")


def offset(con, around=None, window=5.0):
    """host time - kernel time for console `con`, from its kernel log lines
    within `window` seconds of host time `around` (all lines if None)."""
    best = None
    for host, line in list(con.lines):
        if around is not None and abs(host - around) > window:
            continue
        m = KTIME.match(line)
        if m:
            d = host - float(m.group(1))
            best = d if best is None or d < best else best
    if best is None and around is not None:
        return offset(con)
    pvr.check(best is not None, "%s: no kernel log line to set its clock by" % con.tag)
    return best


class Round:
    """The events of one round on the host clock, t = 0 at the injection."""

    def __init__(self, t0):
        self.t0 = t0
        self.events = []        # (t, lane, label)
        self.spans = []         # (lane, label, start, end)

    def on(self, con, mark):
        """Kernel time to round time for console `con`."""
        off = offset(con, self.t0)
        return lambda k: k + off - self.t0

    def event(self, t, lane, label):
        self.events.append((t, lane, label))
        return t

    def span(self, lane, label, start, end):
        self.spans.append((lane, label, start, end))
        return end - start

    def first(self, label):
        ts = [t for t, _, l in self.events if l == label]
        return min(ts) if ts else None


def log_lines(con, mark, pattern):
    """(kernel time, match) of kernel log lines matching `pattern` (a regex
    applied to the text after the timestamp) from console offset `mark`."""
    rx = re.compile(r"(?m)^\[\s*(\d+\.\d+)\] [^\n]*?(?:%s)" % pattern)
    return [(float(m.group(1)), m) for m in rx.finditer(con.console, mark)]


def stalls(con, mark, prog):
    """(kernel end time, took seconds, failed) of each stall line `prog`
    (io_reader, io_writer) logged from `mark` on."""
    out = []
    for m in re.finditer(r"(?m)^\[\s*(\d+\.\d+)\] pvr-stall: %s(?: job \d+)? "
                         r"(?:read|write) (took|failed)[^\n]*?(\d+) us" % prog,
                         con.console[mark:]):
        out.append((float(m.group(1)), int(m.group(3)) / 1e6, m.group(2) == "failed"))
    return out


def ms(s):
    return "%.1f" % (s * 1e3)


def spread(values):
    """'median (min-max)' of seconds, in ms."""
    if not values:
        return "-"
    return "%.1f (%.1f-%.1f)" % (statistics.median(values) * 1e3,
                                 min(values) * 1e3, max(values) * 1e3)


def med(values):
    return statistics.median(values) if values else float("nan")
