#!/usr/bin/env python3
"""Run the pvrecover tests and print one PASS/FAIL line per test.

Usage: run.py [PATTERN...]   (shell-style patterns on test names, e.g.
'single/*'; default: all).  Unit test binaries under build/unit print their
own PASS/FAIL lines; QEMU-based tests are Python modules under tests/single
(one guest), tests/nested (a guest that assigns a device to its own
guest) and tests/fuzz (fuzzers run inside such a guest) with a NAME and a
run() that raises on failure.  The last line is
"N passed, N failed"; the exit status is non-zero if anything failed.
"""

import fnmatch
import importlib.util
import os
import re
import subprocess
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(HERE, "harness"))
sys.path.insert(0, os.path.join(HERE, "single"))
# A nested test may run another's steps with other parameters.
sys.path.insert(0, os.path.join(HERE, "nested"))

import pvr  # noqa: E402

UNIT_BINARIES = ["test_notice", "fuzz_notice"]
SUITES = ["single", "nested", "fuzz", "pkg"]
# The nested tests that also run with the kernels' roles swapped (L1 on the
# default series, L2 on the newest): the main scenarios of the kernel
# backend, and a guest busy with I/O through either back end.
NESTED_BOTH_WAYS = {"nested/aer-fatal-nvme", "nested/planned-reset",
                    "nested/bus-reset-fanout", "nested/io-in-flight",
                    "nested/io-in-flight-qemu"}


def selected(name, patterns):
    """A pattern names a test with or without its kernels ("@...")."""
    base = name.split("@")[0]
    return not patterns or any(fnmatch.fnmatch(name, p) or fnmatch.fnmatch(base, p)
                               for p in patterns)


def runs(mod, kvers):
    """(name, guest kernel, L1 kernel) for each run of a test over the
    kernel matrix: a package test once (it covers every kernel itself), a
    single-level test on every kernel (DEFAULT_KERNEL_ONLY ones on the
    default); a nested one with
    L1 (the host) on the newest series and L2 on the default, and the
    NESTED_BOTH_WAYS ones the other way round as well.  A fuzzer runs once,
    as a nested test that boots no L2: with L1 on the newest series, the
    host of the nested suite, where the module meets the most of vhost's
    newer machinery (its worker a thread of the owner, killed with it; the
    worker and fork-owner requests it must refuse or pass on).  Names
    carry the kernels where a test runs more than once."""
    if mod.NAME.startswith("pkg/"):
        return [(mod.NAME, kvers[0], kvers[-1])]
    if mod.NAME.startswith("fuzz/"):
        return [(mod.NAME, kvers[0], kvers[-1])]
    if mod.NAME.startswith("single/"):
        if len(kvers) == 1 or getattr(mod, "DEFAULT_KERNEL_ONLY", False):
            return [(mod.NAME, kvers[0], kvers[0])]
        return [("%s@%s" % (mod.NAME, pvr.series(k)), k, k) for k in kvers]
    l1, l2 = kvers[-1], kvers[0]
    combos = [(l2, l1)]
    if mod.NAME in NESTED_BOTH_WAYS and l1 != l2:
        combos.append((l1, l2))
    if len(combos) == 1:
        return [(mod.NAME, l2, l1)]
    return [("%s@l1-%s+l2-%s" % (mod.NAME, pvr.series(h), pvr.series(g)), g, h)
            for g, h in combos]


def run_unit(binary, patterns, results):
    path = os.path.join(TOP, "build", "unit", binary)
    if not selected("unit/" + binary, patterns) and not any(
            p.startswith("unit") for p in patterns):
        return
    try:
        p = subprocess.run([path], capture_output=True, text=True, timeout=600)
        out, rc = p.stdout + p.stderr, p.returncode
    except (OSError, subprocess.TimeoutExpired) as e:
        out, rc = str(e), -1
    seen = False
    for line in out.splitlines():
        word = line.split(" ", 1)
        if len(word) == 2 and word[0] in ("PASS", "FAIL"):
            seen = True
            print(line, flush=True)
            results.append(word[0] == "PASS")
        elif line.strip():
            print("  " + line)
    if rc != 0 and (not seen or all(results[-1:])):
        print("FAIL unit/%s (exit status %d)" % (binary, rc), flush=True)
        results.append(False)


def load_tests():
    tests = []
    for suite in SUITES:
        d = os.path.join(HERE, suite)
        for f in sorted(os.listdir(d)):
            if not f.endswith(".py") or f.startswith("_"):
                continue
            spec = importlib.util.spec_from_file_location(
                "%s_%s" % (suite, f[:-3]), os.path.join(d, f))
            mod = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(mod)
            if hasattr(mod, "NAME"):
                tests.append(mod)
    return tests


# The emulator's defects, not the code under test's: a test that fails
# with one of these in its log is run once more (README, "Three failures
# are the emulator's").  Each: (what it is called in the output, the log's
# name when kept, the pattern).
EMULATOR_FAULTS = [
    # What a kernel under multi-threaded TCG prints when an idle vCPU's
    # timer interrupt never came (seen with 6.12, L1 of the nested tests,
    # one run in thirty or so), or what the harness found in
    # /proc/timer_list after the failure when the kernel said nothing.
    ("a vCPU's timer interrupt was lost (TCG)", "lost-timer",
     re.compile(r"rcu_preempt kthread timer wakeup didn't happen.*\n"
                r".*Possible timer handling issue on cpu=|"
                + re.escape(pvr.LOST_TIMER_SAID))),
    # A QEMU that runs only QEMU's own devices (L0 of the nested tests)
    # killed by a signal (seen once in CI: L0 gone without a word while
    # L1 bound the nvme to vfio-pci).
    ("L0's QEMU died of a signal", "emulator-died",
     re.compile(re.escape(pvr.EMULATOR_DIED_SAID))),
    # QEMU's soft MMU looking up a memory section in a dispatch map that
    # changed under it, in QEMU's core (system/physmem.c), never in a
    # device (seen once under make check-debug: a guest entering S3 in
    # single/suspend-resume).
    ("QEMU's TCG memory dispatch failed an assertion", "emulator-died",
     re.compile(r"physmem\.c:\d+: iotlb_to_section: Assertion")),
]


# Lines of a failed test's log printed with the failure.
LOG_TAIL = 40


def emulator_fault(name, since):
    """The failed run of `name`, started at time.time() `since`, met one
    of EMULATOR_FAULTS, in its log or in one of the steps it ran under
    names of its own (pkg/dkms-images): that log is kept as
    log-<fault>.txt for the run once more.  Returns (what the fault is
    called, the kept log's name), or None."""
    top = pvr.workdir(name)
    runs = os.path.dirname(top)
    for d in [top] + sorted(os.path.join(runs, e) for e in os.listdir(runs)
                            if e.startswith(os.path.basename(top) + "-")):
        log = os.path.join(d, "log.txt")
        try:
            if os.path.getmtime(log) < since:
                continue  # another test's, or an older run's
            with open(log, errors="replace") as f:
                text = f.read()
        except OSError:
            continue
        for what, kept, rx in EMULATOR_FAULTS:
            if rx.search(text):
                os.replace(log, os.path.join(d, "log-%s.txt" % kept))
                return what, "log-%s.txt" % kept
    return None


def run_test(mod, retry=True):
    t = time.monotonic()
    started = time.time()
    pvr.debug_reset()
    try:
        mod.run()
        ok = True
    except pvr.TestFailure as e:
        ok = False
        why = str(e)
    except Exception:  # a broken test is a failed test
        ok = False
        why = traceback.format_exc()
    # make check-debug: what the debug kernel reported fails the test,
    # passed or not (the report comes first: it is the likelier cause).
    reports = pvr.debug_reports() if pvr.DEBUG else []
    if reports:
        why = "debug kernel: %s%s" % ("\n".join(reports), "" if ok else "\n" + why)
        ok = False
    took = time.monotonic() - t
    print("# %s took %.0f s" % (mod.NAME, took))
    fault = emulator_fault(mod.NAME, started) if not ok and retry else None
    if fault:
        # Said, with the reason, and run once more: a second failure counts.
        print("# %s: %s, not this test's subject; its log is %s; "
              "running it once more" % ((mod.NAME,) + fault), flush=True)
        return run_test(mod, retry=False)
    if ok:
        print("PASS %s" % mod.NAME, flush=True)
    else:
        print("FAIL %s" % mod.NAME, flush=True)
        lines = why.splitlines()
        for line in lines[:80] if reports else lines[-20:]:
            print("  " + line)
        log = os.path.join(pvr.workdir(mod.NAME), "log.txt")
        print("  log: %s" % os.path.relpath(log, TOP))
        # The log's end, for a failure seen only in CI's output.
        try:
            with open(log, errors="replace") as f:
                tail = f.readlines()[-LOG_TAIL:]
        except OSError:
            tail = []
        for line in tail:
            print("  | " + line.rstrip()[:200])
    return ok


def main():
    patterns = sys.argv[1:]
    if pvr.DEBUG:
        # make check-debug: the suites that run our modules, on the debug
        # kernel only; "debug:" names these runs apart.
        patterns = patterns or ["single/*", "nested/*", "fuzz/*"]
    results = []
    t0 = time.monotonic()
    for binary in UNIT_BINARIES:
        run_unit(binary, patterns, results)
    kvers = pvr.kvers()
    print("# kernels: %s" % " ".join(kvers), flush=True)
    for mod in load_tests():
        base = mod.NAME
        # A test of make check-debug's own checks runs there only.
        if getattr(mod, "DEBUG_ONLY", False) and not pvr.DEBUG:
            continue
        for name, guest, host in runs(mod, kvers):
            if not selected(name, patterns):
                continue
            os.environ["PVR_KVER"] = guest
            os.environ["PVR_L1_KVER"] = host
            # the test's logs go to its own directory
            mod.NAME = "debug:" + name if pvr.DEBUG else name
            results.append(run_test(mod))
            mod.NAME = base
    passed = sum(results)
    failed = len(results) - passed
    print("# took %.0f s" % (time.monotonic() - t0))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed or not results else 0


if __name__ == "__main__":
    sys.exit(main())
