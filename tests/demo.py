#!/usr/bin/env python3
"""make demo: an nvme loses its state in a real reset while its guest runs;
pvrecover makes the nvme driver recover, and the data written before the
reset reads back identical.  Prints a timeline.

  demo.py [nested]    L0 injects a real fatal AER error above an nvme that
                      L1 assigns to L2 with vfio-pci; L1's kernel recovers
                      the link and vhost-recover.ko in L1's kernel tells L2
                      (under a minute)
  demo.py nested-qemu the same chain with QEMU's userspace device
                      virtio-pvrecover-pci in L1 instead of the kernel back end
  demo.py planned     L1 assigns L2 two nvme functions of one device that
                      has no function-level reset; QMP pvrecover-reset asks
                      for a planned reset of one: vhost-recover.ko prepares
                      both, L1's QEMU resets the bus once both answered
  demo.py single      one guest; QEMU resets its emulated nvme (about 10 s)
"""

import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "harness"))
sys.path.insert(0, os.path.join(HERE, "single"))

import nested  # noqa: E402
import pvr  # noqa: E402
from _common import host_digest, nvme_guest, read_digest, write_pattern  # noqa: E402

NAME = "demo"
WRITE = r"run (dd if=/tmp/pat of=/dev/nvme\dn1 bs=64k seek=0 .*)"
READ = r"run (dd if=/dev/nvme\dn1 bs=64k skip=0 .*)"
NEW_IO = r"run (dd if=/tmp/pat of=/dev/nvme\dn1 bs=64k seek=64 .*)"

# The modules' trace events as the consoles carry them (pvr.TRACE_LINE).
TRACE = r" (\d+\.\d+): %s_(\w+): (.*)"


def guest_step(m):
    """A pvrecover event as the step it was a log line of before."""
    f = dict(re.findall(r"(\w+)=(\S*)", m.group(3)))
    if m.group(2) == "callback_start":
        what = f["callback"]
    elif f["status"] == "recovered":
        what = "recovered (%s) in %s us" % (f["method"], f["us"])
    elif f["status"] in ("prepared", "failed"):
        what = "%s (%s)" % (f["status"], f["method"])
    else:
        what = f["status"]
    return "seq %s %s: %s" % (f["seq"], f["type"], what)


def host_step(m):
    """A vhost-recover event: "<BDF>: seq N <type> queued" and so on."""
    f = dict(re.findall(r"(\w+)=(\S*)", m.group(3)))
    what = {"queued": "queued" + (" (fatal)" if f.get("flags") == "fatal" else "")
            + (" (merged into %s)" % f["carried"] if f.get("merged") == "1" else ""),
            "sent": "sent", "timed_out": "timed out",
            "dropped": "dropped (%s)" % f.get("reason"),
            "answered": "answered %s (%s)" % (f.get("status"), f.get("method")),
            }[m.group(2).replace("notice_", "")]
    return "%s: seq %s %s %s" % (f["bdf"], f["seq"], f["type"], what)


# What the timelines show: (regex on a harness log line, label); a label
# None means the line is a QMP acknowledgment event, shown decoded, a
# function makes the label of the match.  Times are relative to the first
# line matching ZERO: the injection.
SINGLE = [
    (r"^con " + WRITE, "guest  writes a 1 MiB random pattern to the nvme"),
    (r"^qmp -> .*\"pvrecover-notify\".*",
     "host   QMP pvrecover-notify error-detected (fatal, with a real reset of the nvme)"),
    (r"^con .*" + TRACE % "pvrecover(?=_callback_start|_notice_answered)",
     lambda m: "guest  pvrecover " + guest_step(m)),
    (r"^con .*nvme nvme0: (.*)", "guest  nvme driver: %s"),
    (r"^qmp event PVRECOVER_ACK (.*)", None),
    (r"^con " + READ, "guest  reads the pattern back (direct I/O, cache dropped)"),
    (r"^con " + NEW_IO, "guest  new I/O: writes a second pattern at 4 MiB"),
]
SINGLE_ZERO = r"^qmp -> .*\"pvrecover-notify\""
NESTED = [
    (r"^l2 " + WRITE, "L2     writes a 1 MiB random pattern to its assigned nvme"),
    (r"^qmp -> .*pcie_aer_inject_error.*",
     "L0     injects a fatal MalfTLP at the root port above the nvme"),
    (r"^l1k .*AER: (Uncorrect(?:ed|able).*)", "L1     kernel AER: %s"),
    (r"^l1k .*AER: (Root Port link has been reset.*)", "L1     kernel AER: %s"),
    (r"^l1k .*AER: (device recovery successful)", "L1     kernel AER: %s"),
    (r"^l1k .*" + TRACE % "vhost_recover(?=_notice_(?:queued|sent|timed))",
     lambda m: "L1     vhost-recover.ko: " + host_step(m).split(": ", 1)[1]),
    (r"^l1k .*vhost-recover: [\w:.]+: (.*)", "L1     vhost-recover.ko: %s"),
    (r"^l1k .*vfio-pci .*: (.*)", "L1     vfio-pci: %s"),
    (r"^l2 .*" + TRACE % "pvrecover(?=_callback_start|_notice_answered)",
     lambda m: "L2     pvrecover " + guest_step(m)),
    (r"^l2 .*nvme nvme0: (.*)", "L2     nvme driver: %s"),
    (r"^qmp2 event PVRECOVER_ACK (.*)", None),
    (r"^qmp2 event (STOP.*)", "L1     QEMU paused L2: %s"),
    (r"^l2 " + READ, "L2     reads the pattern back (direct I/O, cache dropped)"),
    (r"^l2 " + NEW_IO, "L2     new I/O: writes a second pattern at 4 MiB"),
]
NESTED_ZERO = r"^qmp -> .*pcie_aer_inject_error"
PLANNED = [
    (r"^l2 " + WRITE, "L2     writes a 1 MiB random pattern to an nvme"),
    (r"^qmp2 -> .*(\"pvrecover-reset\".*)", "L1     QMP to L2's QEMU: %s"),
    (r"^l1k .*" + TRACE % "vhost_recover(?=_notice_(?:queued|sent|answered|timed))",
     lambda m: "L1     vhost-recover.ko: " + host_step(m)),
    (r"^l1k .*vhost-recover: ([\w:.]+: .*)", "L1     vhost-recover.ko: %s"),
    (r"^l2 .*" + TRACE % "pvrecover(?=_callback_start|_notice_answered)",
     lambda m: "L2     pvrecover " + guest_step(m)),
    (r"^l2 .*nvme (nvme\d: .*)", "L2     nvme driver: %s"),
    (r"^qmp2 event PVRECOVER_ACK (.*)", None),
    (r"^qmp2 event PVRECOVER_RESET (.*)", "L1     QEMU did the hot reset: %s"),
    (r"^l2 " + READ, "L2     reads a pattern back (direct I/O, cache dropped)"),
    (r"^l2 " + NEW_IO, "L2     new I/O: writes a second pattern at 4 MiB"),
]
PLANNED_ZERO = r"^qmp2 -> .*\"pvrecover-reset\""
KTIME = re.compile(r"^l1k \[\s*(\d+\.\d+)\]")


def ack_label(text, who):
    a = json.loads(text)
    return ("%s ack seq %d %s: %s (%s), %.1f ms in the guest, %.1f ms round trip"
            % (who, a["seq"], a["notice"], a["status"], a["method"],
               a["guest-us"] / 1000.0, a["rtt-us"] / 1000.0))


def timeline(logfile, since, shown, zero, who):
    """Rows (host time, L1 kernel time or None, label) of the log lines
    from host time `since` on that `shown` names; times relative to the
    first line matching `zero`, L1's kernel times to L1's first line."""
    rows = []
    t0 = k0 = None
    with open(logfile) as f:
        for line in f:
            t, _, text = line.rstrip("\n").strip().partition(" ")
            t = float(t)
            if t < since:
                continue
            if t0 is None and re.search(zero, text):
                t0 = t
            for rx, label in shown:
                m = re.search(rx, text)
                if m:
                    if label is None:
                        label = ack_label(m.group(1), who)
                    elif callable(label):
                        label = label(m)
                    elif "%s" in label:
                        label = label % m.group(1)
                    k = KTIME.match(text) or (text.startswith("l1k ") and
                                              re.search(r"\] \S+ +(\d+\.\d+): ", text))
                    k = float(k.group(1)) if k else None
                    if k is not None and k0 is None:
                        k0 = k
                    rows.append((t, None if k is None else k - k0, label))
                    break
    t0 = since if t0 is None else t0
    return [(t - t0, k, label) for t, k, label in rows]


def recover_single():
    print("booting Debian %s under TCG with pvrecover.ko ..." % pvr.kver(), flush=True)
    g, img = nvme_guest(NAME)
    try:
        t_start = g.now()
        before = write_pattern(g, "/dev/nvme0n1")
        seq = g.notify("nvme0", "error-detected", fatal=True, reset=True)
        g.wait_ack(seq)
        _, ev = g.qmp.wait_event("PVRECOVER_ACK", 120, device="nvme0", notice="reset-done")
        after = read_digest(g, "/dev/nvme0n1")
        new = write_pattern(g, "/dev/nvme0n1", offset_kb=4096)
        new_ok = read_digest(g, "/dev/nvme0n1", offset_kb=4096) == new
        ok = (after == before and host_digest(img) == before and new_ok
              and ev["data"]["status"] == "recovered")
        g.assert_kernel_healthy()
        return g, t_start, g.now(), before, after, new_ok, ok, []
    finally:
        g.close()


def recover_nested(backend):
    what = {"vhost": "vhost-recover.ko in L1's kernel",
            "virtio": "QEMU's userspace device in L1"}[backend]
    print("booting L1 (Debian %s, TCG, IOMMU, vfio, KVM) and L2 (KVM in L1); "
          "recovery device: %s ..." % (pvr.kver(), what), flush=True)
    img = pvr.blank_disk(NAME, "nvme.img")
    n = nested.Nested(NAME, img)
    try:
        n.boot(backend=backend)
        t_start = n.l0.now()
        before = write_pattern(n.l2, "/dev/nvme0n1")
        n.inject_fatal()
        _, ev = n.qmp2.wait_event("PVRECOVER_ACK", 60, device="hostdev0",
                                  notice="reset-done")
        # L1's console is caught up with what the timeline shows.
        n.l0.wait_console(r"AER: device recovery successful", 30)
        after = read_digest(n.l2, "/dev/nvme0n1")
        new = write_pattern(n.l2, "/dev/nvme0n1", offset_kb=4096)
        new_ok = read_digest(n.l2, "/dev/nvme0n1", offset_kb=4096) == new
        running = n.qmp2.cmd("query-status")["status"] == "running"
        paused = any(e["event"] == "STOP" for e in n.qmp2.events)
        ok = (after == before and new_ok and running and not paused
              and ev["data"]["status"] == "recovered")
        n.l2.assert_kernel_healthy()
        n.l0.assert_kernel_healthy()
        extra = ["L2 during the recovery:       %s" % (
            "running, never paused" if running and not paused else "PAUSED")]
        return n.l0, t_start, n.l0.now(), before, after, new_ok, ok, extra
    finally:
        n.close()


def planned_fanout():
    print("booting L1 (Debian %s, TCG, IOMMU, vfio, KVM) with a two-function "
          "nvme device, and L2 (KVM in L1) with both functions ..." % pvr.kver(),
          flush=True)
    imgs = [pvr.blank_disk(NAME, "nvme%d.img" % i) for i in range(2)]
    n = nested.Nested(NAME, imgs[0], nvme2_img=imgs[1])
    disks = ("/dev/nvme0n1", "/dev/nvme1n1")
    try:
        n.boot(backend="vhost", function_reset=False)
        t_start = n.l0.now()
        before = [write_pattern(n.l2, d) for d in disks]
        mark = len(n.qmp2.events)
        n.plan_reset("hostdev0", 5000)
        acks = [n.qmp2.wait_event("PVRECOVER_ACK", 60, mark, device=dev,
                                  notice="reset-done")[1]["data"]
                for dev in ("hostdev0", "hostdev1")]
        _, reset = n.qmp2.wait_event("PVRECOVER_RESET", 10, mark)
        n.wait_module(r"planned reset done, seq %d reset-done queued" % acks[1]["seq"],
                      30, bdf=nested.NVME2_BDF)
        after = [read_digest(n.l2, d) for d in disks]
        new_ok = True
        for d in disks:
            new = write_pattern(n.l2, d, offset_kb=4096)
            new_ok = new_ok and read_digest(n.l2, d, offset_kb=4096) == new
        ok = (after == before and new_ok and reset["data"]["success"]
              and all(a["status"] == "recovered" for a in acks))
        n.l2.assert_kernel_healthy()
        n.l0.assert_kernel_healthy()
        r = reset["data"]
        extra = ["reset: one bus reset reaching %d functions, %d answered prepare-reset, "
                 "after %d ms%s" % (r["functions"], r["answered"], r["wait-ms"],
                                    " (deadline hit)" if r["deadline-hit"] else "")]
        return (n.l0, t_start, n.l0.now(), " ".join(before), " ".join(after),
                new_ok, ok, extra)
    finally:
        n.close()


def main():
    args = sys.argv[1:] or ["nested"]
    if len(args) != 1 or args[0] not in ("nested", "nested-qemu", "single", "planned"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    scenario = args[0]
    try:
        if scenario == "single":
            shown, zero, who = SINGLE, SINGLE_ZERO, "host  "
            g, t_start, t_end, before, after, new_ok, ok, extra = recover_single()
        elif scenario == "planned":
            shown, zero, who = PLANNED, PLANNED_ZERO, "L1    "
            g, t_start, t_end, before, after, new_ok, ok, extra = planned_fanout()
        else:
            shown, zero, who = NESTED, NESTED_ZERO, "L1    "
            g, t_start, t_end, before, after, new_ok, ok, extra = recover_nested(
                "vhost" if scenario == "nested" else "virtio")
    except pvr.TestFailure as e:
        print("demo failed: %s\nlog: %s" % (
            e, os.path.relpath(os.path.join(pvr.workdir(NAME), "log.txt"))))
        return 1
    rows = timeline(os.path.join(g.dir, "log.txt"), t_start, shown, zero, who)
    if scenario == "single":
        print("\ntimeline (seconds from the notice; host clock)")
    elif scenario == "planned":
        print("\ntimeline (seconds from the QMP command, host clock; in brackets "
              "L1's kernel clock from its first line shown)")
    else:
        print("\ntimeline (seconds from the injection, host clock; in brackets "
              "L1's kernel clock from its first line shown)")
    for t, k, label in rows:
        print("  %+8.3f %-10s %s" % (t, "" if k is None else "[%+.3f]" % k, label))
    print("\npattern md5 before the reset: %s" % before)
    print("pattern md5 after recovery:   %s" % after)
    print("new I/O after recovery:       %s" % ("reads back identical" if new_ok else "BROKEN"))
    for line in extra:
        print(line)
    print("recovery: %s in %.1f s; full log: %s" % (
        "OK, data intact" if ok else "FAILED", t_end - t_start,
        os.path.relpath(os.path.join(g.dir, "log.txt"))))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
