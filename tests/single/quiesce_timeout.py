"""The quiesce timeout (spec 7.12).  A function quiesced by a first half
(error-detected, prepare-reset) whose second half never comes is not left
quiesced for ever: the driver resumes it itself once the device's
quiesce_timeout_ms has passed since it took the last first half, and not
before; a second half that comes after all finds the function idle and
recovers it as state-lost.  A driver removed while a function is quiesced
resumes it first, so the next driver does not quiesce it a second time."""

import re
import time

import pvr
from _common import assert_data_and_new_io, nvme_guest, step_events, steps, write_pattern

NAME = "single/quiesce-timeout"
TIMEOUT_MS = 12000
NVME = "/dev/nvme0n1"


def quiesce(g):
    """A fatal error-detected with no reset behind it: the nvme quiesces
    through reset_prepare and is answered prepared.  Returns its seq."""
    seq = g.notify("nvme0", "error-detected", fatal=True)
    a = g.wait_ack(seq)
    pvr.check((a["status"], a["method"]) == ("prepared", "reset-hooks"),
              "error-detected answered %r" % a)
    return seq


def line_time(g, rx, timeout=10):
    """When (host monotonic clock) the first console line matching `rx`
    completed.  The console's reader records a line just after it shows
    in the transcript: a bounded wait for that record."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for t, line in list(g.lines):
            if re.search(rx, line):
                return t
        time.sleep(0.05)
    raise pvr.TestFailure("no line /%s/ recorded" % rx)


def callbacks(g, seq):
    return [t for _, t in step_events(g, seq) if not t.startswith("prepared")]


# Configurations spec 5.1 forbids, and the property QEMU names refusing each.
BAD_CONFIG = [
    ({"quiesce-timeout-ms": 999}, "quiesce-timeout-ms"),
    ({"quiesce-timeout-ms": 3600001}, "quiesce-timeout-ms"),
    ({"quiesce-timeout-ms": 5000, "max-deadline-ms": 5000}, "quiesce-timeout-ms"),
    ({"ack-timeout-ms": 600001}, "ack-timeout-ms"),
    ({"max-deadline-ms": 60001}, "max-deadline-ms"),
    # A covered vfio function's reset-done would come after it (7.12.2).
    ({"vfio-reset-delay-ms": 60000}, "vfio-reset-delay-ms"),
]


def refuses_bad_config(g):
    """QEMU refuses a prepare-reset with deadline 0 (spec 7.2.1) and, at
    device_add, a recovery device whose configuration space would be out
    of range (spec 5.1)."""
    r = g.qmp.cmd_raw("pvrecover-notify", device="nvme0", notice="prepare-reset",
                      **{"deadline-ms": 0})
    pvr.check("error" in r and "deadline-ms" in r["error"]["desc"],
              "prepare-reset with deadline 0: %r" % r)
    for props, name in BAD_CONFIG:
        r = g.qmp.cmd_raw("device_add", driver="virtio-pvrecover-pci",
                          id="pvrbad", bus="rpfree", **props)
        pvr.check("error" in r and name in r["error"]["desc"],
                  "device_add %r: %r" % (props, r))


def run():
    g, _ = nvme_guest(NAME, recovery={"quiesce-timeout-ms": TIMEOUT_MS,
                                      "max-deadline-ms": 2000},
                      extra=["-device", "pcie-root-port,id=rpfree,chassis=9,slot=9"])
    try:
        # The value QEMU was given is the one the driver runs with.
        g.wait_console(r"pvrecover: ready, .*quiesce timeout %d ms" % TIMEOUT_MS, 30)
        refuses_bad_config(g)
        data = write_pattern(g, NVME)

        # The driver goes away while the nvme is quiesced: it resumes it.
        mark = g.mark()
        seq = quiesce(g)
        g.run("rmmod pvrecover", timeout=120)
        g.wait_console(r"seq %d error-detected: resumed \(reset-hooks\) without "
                       r"a second half" % seq, 30, mark)
        pvr.check("driver removed while quiesced" in g.console[mark:],
                  "no removal line for seq %d" % seq)
        pvr.check("no second half after" not in g.console[mark:],
                  "the quiesce timed out before the driver was removed")
        # (Its trace events go with the module: "(reset-hooks)" says that
        # reset_done was called, and the I/O below that it worked.)
        assert_data_and_new_io(g, NVME, data)
        data = write_pattern(g, NVME)

        # Loaded again: quiesced, then a second first half (prepare-reset,
        # answered prepared with no action) starts the timeout over.
        mark = g.mark()
        g.run("modprobe pvrecover")
        g.wait_console(r"pvrecover: ready", 30, mark)
        first = quiesce(g)
        # Not a wait for an event: the gap between the two first halves is
        # what is under test (a timeout counted from the first would end
        # half a timeout early).
        time.sleep(TIMEOUT_MS / 2000)
        t_second = time.monotonic()
        second = g.notify("nvme0", "prepare-reset", deadline_ms=2000)
        a = g.wait_ack(second)
        pvr.check((a["status"], a["method"]) == ("prepared", "none"),
                  "prepare-reset while quiesced answered %r" % a)
        m = g.wait_console(r"seq (\d+) [\w-]+: no second half after (\d+) ms", 120, mark)
        pvr.check(int(m.group(1)) == second,
                  "the timeout counted from seq %s, not the last first half %d"
                  % (m.group(1), second))
        # On the host's clock: the guest took the second first half after
        # t_second, so it may not resume before t_second + the timeout.
        waited = line_time(g, r"seq %d [\w-]+: no second half after" % second) - t_second
        pvr.check(waited >= TIMEOUT_MS / 1000,
                  "resumed %.1f s after the second first half, before the "
                  "quiesce timeout" % waited)
        g.wait_console(r"seq %d prepare-reset: resumed \(reset-hooks\) without "
                       r"a second half" % second, 60, mark)
        pvr.check(callbacks(g, first) == ["reset_prepare"] and
                  callbacks(g, second) == ["reset_done"],
                  "steps %r then %r" % (callbacks(g, first), callbacks(g, second)))
        pvr.check(g.pvr_sysfs().get("quiesce_expired") == 1,
                  "counters %r" % g.pvr_sysfs())
        assert_data_and_new_io(g, NVME, data)

        # The second half after all: the function is idle, so it is a
        # state-lost: quiesced and re-initialised, recovered.
        late = g.notify("nvme0", "reset-done")
        a = g.wait_ack(late)
        pvr.check((a["status"], a["method"]) == ("recovered", "reset-hooks"),
                  "late reset-done answered %r" % a)
        pvr.check(steps(g, late)[:2] == ["reset_prepare", "reset_done"],
                  "late reset-done steps %r" % steps(g, late))
        assert_data_and_new_io(g, NVME, data)
        pvr.check(not re.search(r"pvrecover: left \w+ at unload", g.console),
                  "a context was left at unload")
        g.assert_kernel_healthy()
    finally:
        g.close()
