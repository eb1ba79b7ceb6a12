#!/usr/bin/env python3
"""Run the pvrecover tests and print one PASS/FAIL line per test.

Usage: run.py [PATTERN...]   (shell-style patterns on test names, e.g.
'single/*'; default: all).  Unit test binaries under build/unit print their
own PASS/FAIL lines; QEMU-based tests are Python modules under tests/single
(one guest) and tests/nested (a guest that assigns a device to its own
guest) with a NAME and a run() that raises on failure.  The last line is
"N passed, N failed"; the exit status is non-zero if anything failed.
"""

import fnmatch
import importlib.util
import os
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
SUITES = ["single", "nested"]


def selected(name, patterns):
    return not patterns or any(fnmatch.fnmatch(name, p) for p in patterns)


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


def main():
    patterns = sys.argv[1:]
    results = []
    t0 = time.monotonic()
    for binary in UNIT_BINARIES:
        run_unit(binary, patterns, results)
    for mod in load_tests():
        if not selected(mod.NAME, patterns):
            continue
        t = time.monotonic()
        try:
            mod.run()
            ok = True
        except pvr.TestFailure as e:
            ok = False
            why = str(e)
        except Exception:  # a broken test is a failed test
            ok = False
            why = traceback.format_exc()
        took = time.monotonic() - t
        print("# %s took %.0f s" % (mod.NAME, took))
        if ok:
            print("PASS %s" % mod.NAME, flush=True)
        else:
            print("FAIL %s" % mod.NAME, flush=True)
            for line in why.splitlines()[-20:]:
                print("  " + line)
            print("  log: build/test-run/%s/log.txt" % mod.NAME.replace("/", "-"))
        results.append(ok)
    passed = sum(results)
    failed = len(results) - passed
    print("# took %.0f s" % (time.monotonic() - t0))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed or not results else 0


if __name__ == "__main__":
    sys.exit(main())
