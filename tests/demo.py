#!/usr/bin/env python3
"""make demo: an emulated nvme loses its state in a real reset while the
guest runs; pvrecover makes the nvme driver recover, and the data written
before the reset reads back identical.  Prints a timeline."""

import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "harness"))
sys.path.insert(0, os.path.join(HERE, "single"))

import pvr  # noqa: E402
from _common import host_digest, nvme_guest, read_digest, write_pattern  # noqa: E402

NAME = "demo"

# What the timeline shows: (regex on a harness log line, label).
SHOWN = [
    (r"^run (dd if=/tmp/pat of=/dev/nvme0n1 bs=64k seek=0 .*)",
     "guest  writes a 1 MiB random pattern to the nvme"),
    (r"^qmp -> .*\"pvrecover-notify\".*", "host   QMP pvrecover-notify error-detected "
                                           "(fatal, with a real reset of the nvme)"),
    (r"^con .*pvrecover: (seq \d+ [\w-]+: .*)", "guest  pvrecover %s"),
    (r"^con .*nvme nvme0: (.*)", "guest  nvme driver: %s"),
    (r"^qmp event PVRECOVER_ACK (.*)", None),
    (r"^run (dd if=/dev/nvme0n1 bs=64k skip=0 .*)",
     "guest  reads the pattern back from the nvme (direct I/O, cache dropped)"),
    (r"^run (dd if=/tmp/pat of=/dev/nvme0n1 bs=64k seek=64 .*)",
     "guest  new I/O: writes a second pattern at 4 MiB"),
]


def ack_label(text):
    a = json.loads(text)
    return ("host   ack seq %d %s: %s (%s), %.1f ms in the guest, %.1f ms round trip"
            % (a["seq"], a["notice"], a["status"], a["method"],
               a["guest-us"] / 1000.0, a["rtt-us"] / 1000.0))


def timeline(logfile, since):
    rows = []
    with open(logfile) as f:
        for line in f:
            t, _, text = line.rstrip("\n").strip().partition(" ")
            t = float(t)
            if t < since:
                continue
            for rx, label in SHOWN:
                m = re.search(rx, text)
                if m:
                    if label is None:
                        label = ack_label(m.group(1))
                    elif "%s" in label:
                        label = label % m.group(1)
                    rows.append((t, label))
                    break
    return rows


def main():
    print("booting Debian %s under TCG with pvrecover.ko ..." % pvr.kver(), flush=True)
    g, img = nvme_guest(NAME)
    ok = False
    try:
        t_start = g.now()
        before = write_pattern(g, "/dev/nvme0n1")
        seq = g.notify("nvme0", "error-detected", fatal=True, reset=True)
        g.wait_ack(seq)
        _, ev = g.qmp.wait_event("PVRECOVER_ACK", 120, device="nvme0", notice="reset-done")
        after = read_digest(g, "/dev/nvme0n1")
        new = write_pattern(g, "/dev/nvme0n1", offset_kb=4096)
        new_ok = read_digest(g, "/dev/nvme0n1", offset_kb=4096) == new
        t_end = g.now()
        ok = (after == before and host_digest(img) == before and new_ok
              and ev["data"]["status"] == "recovered")
        g.assert_kernel_healthy()
    finally:
        g.close()
    print("\ntimeline (seconds from the first write; host clock)")
    for t, label in timeline(os.path.join(g.dir, "log.txt"), t_start):
        print("  %+8.3f  %s" % (t - t_start, label))
    print("\npattern md5 before the reset: %s" % before)
    print("pattern md5 after recovery:   %s" % after)
    print("new I/O after recovery:       %s" % ("reads back identical" if new_ok else "BROKEN"))
    print("recovery: %s in %.1f s; full log: %s" % (
        "OK, data intact" if ok else "FAILED", t_end - t_start,
        os.path.relpath(os.path.join(g.dir, "log.txt"))))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
