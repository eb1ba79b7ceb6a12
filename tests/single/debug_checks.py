"""make check-debug's own checks can fail (debug kernel only).

A leak: tests/kmod/pvr_leak.c allocates 64 bytes on load and drops the
pointer.  Console.kmemleak(), as every guest's close() runs it, must find
that object, attribute it to our modules (its allocation trace is in the
module's init code, freed after load: kmemleak prints a bare address
there) and record it.  A report: a lockdep-style report line in a console
must be caught by the scan tests/run.py applies to every console.  Both
findings are then taken back, and kmemleak is told to forget the leak, so
that this test passes only if the checks worked.
"""

import re

import pvr
from _common import nvme_guest

NAME = "single/debug-checks"
DEBUG_ONLY = True


def run():
    g, _ = nvme_guest(NAME)
    try:
        g.run("insmod /lib/modules/$(uname -r)/extra/pvr_leak.ko")
        g.wait_console(r"pvr_leak: leaked 64 bytes on purpose", 30)
        # kmemleak reports an object only once it is 5 s old (its own
        # clock): a scan takes seconds here, so a few rounds suffice.
        found = []
        for _ in range(6):
            g.kmemleak(unload=("pvr_leak",))
            found = [f for f in pvr.debug_findings if "kmemleak" in f]
            if found:
                break
        pvr.check(found, "kmemleak did not find pvr_leak's object")
        pvr.check(any("leaked on purpose" in f or re.search(r"pvr_leak", f) or
                      re.search(r"0xffffffff[0-9a-f]{8}", f) for f in found),
                  "the leak was not attributed: %r" % found)
        g.log("debug-checks: the leak was found and attributed: %s"
              % found[0].splitlines()[0])
        del pvr.debug_findings[:]
        g.run("echo clear > /sys/kernel/debug/kmemleak")

        # A report in a console fails the test that saw it.
        mark = g.mark()
        g.run("echo 'WARNING: possible circular locking dependency detected "
              "(pvr debug-checks, on purpose)' > /dev/kmsg")
        g.wait_console(r"on purpose\)", 10, mark)
        reports = pvr.debug_reports()
        pvr.check(any("on purpose" in r for r in reports),
                  "a lockdep report line was not caught: %r" % reports)
        with g.cond:
            g.console = g.console[:mark]
    finally:
        g.close()
