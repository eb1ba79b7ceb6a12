"""A seeded fuzzer against /dev/vhost-recover, inside L1.

L1 boots as for nested/vhost-ioctl, with two nvme functions of one device
bound to vfio-pci (one VFIO group), and runs tests/progs/vhost_fuzz.c for
PVR_FUZZ_SECONDS (default 60) with the seed PVR_FUZZ_SEED (default: a
random one, chosen here so that a failure can always name it).  The
program drives several files of the device at once with random requests,
valid and not, a vhost user of its own with random descriptor chains and
acknowledgments, real VFIO group files and error eventfds, children that
are not the owner or die owning a file, closes with functions attached
and plans pending (see the program's header).  Meanwhile L0 injects
PVR_FUZZ_AER (default one a minute, two at least) fatal AER errors at the
root port above the functions, spread over the run: L1 really recovers
them, so the module's watch of the host's recovery (error-detected fatal,
reset-done or perm-failure, plans refused while it runs) meets the
fuzzing too.

What passes: the program ran through ("done", more than
EXECS_PER_SECOND_MIN operations a second, more than PAIRS_MIN distinct
(operation, outcome) pairs,
notices delivered into its buffers and answered), it saw no anomaly (an
errno the uapi header does not promise, a counter or ring entry the
module should not have produced, a malformed notice or record, the VFIO
group still held once every file was closed, a child or an operation
that hung), L1's kernel log is clean (no BUG, Oops, WARNING, Call Trace),
every injected error was recovered by L1 (its AER driver says so), the
module unloads, and the functions are still bound to vfio-pci.  Every
failure names the seed; PVR_FUZZ_SEED=N replays its operations (the
kernel's timing may still differ).

The module's trace events are switched off for the run: L1's trace
streamer is a shell loop that takes about 0.1 s a line under TCG, and the
run makes thousands of notices.
"""

import os
import random
import re
import threading

import nested
import pvr

NAME = "fuzz/vhost-recover"
# Floors well below what a 60 s run does here under TCG (about 75000
# operations, 200 pairs): they catch a fuzzer that stalls or stops
# reaching much of the interface, not a slower machine.
EXECS_PER_SECOND_MIN = 50
PAIRS_MIN = 150


def fuzz_seconds():
    return int(os.environ.get("PVR_FUZZ_SECONDS", "60"))


def fuzz_aer(seconds):
    """Injections: PVR_FUZZ_AER, else one a minute (two at least)."""
    return int(os.environ.get("PVR_FUZZ_AER", max(2, seconds // 60)))


def fuzz_seed():
    seed = os.environ.get("PVR_FUZZ_SEED")
    return int(seed) if seed else random.SystemRandom().getrandbits(63)


def value(out, key):
    m = re.search(r"^%s (\d+)$" % key, out, re.M)
    return int(m.group(1)) if m else None


def run():
    seconds, seed = fuzz_seconds(), fuzz_seed()
    replay = "seed %d (replay: PVR_FUZZ_SEED=%d PVR_FUZZ_SECONDS=%d make check TESTS=%s)" % (
        seed, seed, seconds, NAME.split("@")[0])
    imgs = [pvr.blank_disk(NAME, "nvme%d.img" % i, size_mb=16) for i in range(2)]
    n = nested.Nested(NAME, imgs[0], nvme2_img=imgs[1])

    def check(cond, what):
        if not cond:
            trouble = pvr.search_unknown(pvr.KERNEL_TROUBLE, n.l0.console)
            if trouble:
                what += "; L1's kernel log: %r" % n.l0.console[
                    max(0, trouble.start() - 300):trouble.start() + 1500]
            raise pvr.TestFailure("%s: %s" % (replay, what))

    try:
        n.boot_l1()
        n.l1.run("modprobe vhost_recover")
        n.l1.run("echo 0 > /sys/kernel/tracing/events/vhost_recover/enable")
        aer = fuzz_aer(seconds)
        n.log("fuzz: %s, %d s, %d AER errors" % (replay, seconds, aer))
        l1k_mark = n.l0.mark()
        injected = []

        def inject():
            try:
                n.inject_fatal()
                injected.append(True)
                n.log("fuzz: fatal AER error injected at L0's rp1")
            except (pvr.TestFailure, OSError) as e:  # the run's end says why
                n.log("fuzz: injection failed: %s" % e)

        timers = [threading.Timer(seconds * (i + 1) / (aer + 1), inject)
                  for i in range(aer)]
        for t in timers:
            t.start()
        try:
            out = n.l1.run("vhost_fuzz -s %d -t %d %s %s; echo rc=$?" % (
                seed, seconds, nested.NVME_BDF, nested.NVME2_BDF),
                timeout=seconds + 150)
        except pvr.TestFailure as e:
            hang = re.findall(r"^hang: .*$", n.l1.console, re.M)
            check(False, "vhost_fuzz did not finish: %s%s" % (
                e, "; " + "; ".join(hang) if hang else ""))
        finally:
            for t in timers:
                t.cancel()
                t.join()
        execs, pairs = value(out, "execs"), value(out, "pairs")
        anomalies = value(out, "anomalies")
        m = re.search(r"^notices (\d+) answers (\d+) records (\d+)$", out, re.M)
        notices, answers, records = (int(x) for x in m.groups()) if m else (0, 0, 0)
        n.log("fuzz: seed %d execs %s pairs %s anomalies %s notices %d answers %d records %d"
              % (seed, execs, pairs, anomalies, notices, answers, records))
        kinds = re.search(r"^records: (.*)$", out, re.M)
        n.log("fuzz: records: %s" % (kinds.group(1) if kinds else "?"))
        check(re.search(r"^rc=0$", out, re.M) and re.search(r"^done$", out, re.M),
              "vhost_fuzz did not run through: %r" % out[-600:])
        check(execs is not None and execs > EXECS_PER_SECOND_MIN * seconds,
              "only %s operations in %d s" % (execs, seconds))
        check(pairs is not None and pairs > PAIRS_MIN,
              "only %s (operation, outcome) pairs" % pairs)
        check(notices > 0 and answers > 0 and records > 0,
              "the fuzzer's vhost user got %d notices, answered %d, read %d records"
              % (notices, answers, records))
        check(anomalies == 0, "%s anomalies: %s" % (anomalies, "; ".join(
            re.findall(r"^anomaly (.*)$", out, re.M)[:10])))
        # Each injected error was a real one for L1, and L1 recovered.
        errors = len(re.findall(nested.AER_FATAL_LINE, n.l0.console[l1k_mark:]))
        check(errors >= len(injected), "%d AER errors injected, L1 saw %d"
              % (len(injected), errors))
        for _ in injected:
            l1k_mark = n.l0.wait_console(r"AER: device recovery (?:successful|failed)",
                                         30, l1k_mark).end()
        check(not re.search(r"AER: device recovery failed", n.l0.console),
              "L1's recovery of an injected AER error failed")
        n.log("fuzz: %d AER errors injected and recovered; module: %d host recoveries"
              % (len(injected), len(re.findall(r"vhost-recover: \S+: host recovery",
                                               n.l0.console))))

        rc, why = n.l1_rmmod("vhost_recover")
        check(rc == 0, "rmmod vhost_recover: %s" % why)
        n.l1.run("! grep -q '^vhost_recover ' /proc/modules")
        for bdf in (nested.NVME_BDF, nested.NVME2_BDF):
            check(n.l1.run("[ -e /sys/bus/pci/drivers/vfio-pci/%s ] && echo bound"
                           % bdf, check_rc=False) == "bound",
                  "%s is no longer bound to vfio-pci" % bdf)
        nested.l1_answers(n)
        try:
            n.l0.assert_kernel_healthy()
        except pvr.TestFailure as e:
            raise pvr.TestFailure("%s: %s" % (replay, e))
    finally:
        n.close()
