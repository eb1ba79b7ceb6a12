#!/usr/bin/env python3
"""make bench: cost of the protocol and of recoveries, as ratios against a
baseline measured in the same run (absolute times under TCG mean little).

- baseline: round trip of a notice the guest answers without recovering
  anything (a function with no driver);
- one nvme recovered through reset_prepare/reset_done, as a multiple of
  the baseline;
- N nvme functions recovered one after the other versus all at once: the
  guest handles different functions in parallel, so the ratio shows how
  much of that parallelism survives (1.0 = none);
- the nested chain (a real AER error in L1 under an nvme assigned to L2)
  with each back end of the recovery device: QEMU's userspace device is the
  baseline, vhost-recover.ko is given as a ratio to it, for a fatal error
  from the injection to L2's answers to error-detected and to reset-done
  (the userspace device resets vfio-reset-delay-ms after the error; the
  kernel backend as soon as L1's recovery is over);
- planned resets through vhost-recover.ko (QMP pvrecover-reset to the
  last reset-done answered, and the prepare phase alone): a bus reset that
  fans out over two functions of one device, as a ratio to the planned
  FLR of one function.
PVR_BENCH_NESTED=0 skips the nested parts.
"""

import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "harness"))
sys.path.insert(0, os.path.join(HERE, "single"))

import nested  # noqa: E402
import pvr  # noqa: E402
from _common import nvme, recovery_device  # noqa: E402

NAME = "bench"
FUNCTIONS = 4
ROUNDS = int(os.environ.get("PVR_BENCH_ROUNDS", "5"))
BASELINE_NOTICES = 50


def recover(g, devices):
    """Send state-lost with a real reset to every device at once; return
    the wall time until the last one is answered, in seconds."""
    t = time.monotonic()
    start = len(g.qmp.events)
    seqs = [g.notify(d, "state-lost", reset=True) for d in devices]
    for s in seqs:
        _, ev = g.qmp.wait_event("PVRECOVER_ACK", 120, start=start, seq=s)
        pvr.check(ev["data"]["status"] == "recovered", "bench recovery %r" % ev["data"])
    return time.monotonic() - t


def nested_chain(backend):
    """Medians, over fatal errors injected in L0, of the time from the
    injection to L2's answers to error-detected and to reset-done, in
    seconds (host clock)."""
    img = pvr.blank_disk(NAME, "nvme-%s.img" % backend, size_mb=16)
    n = nested.Nested("%s-%s" % (NAME, backend), img)
    prepared, done = [], []
    try:
        n.boot(backend=backend)
        for _ in range(ROUNDS):
            start = len(n.qmp2.events)
            t = time.monotonic()
            n.inject_fatal()
            _, ev = n.qmp2.wait_event("PVRECOVER_ACK", 60, start,
                                      notice="error-detected")
            prepared.append(time.monotonic() - t)
            _, ev = n.qmp2.wait_event("PVRECOVER_ACK", 60, start,
                                      notice="reset-done")
            done.append(time.monotonic() - t)
            pvr.check(ev["data"]["status"] == "recovered",
                      "bench recovery %r" % ev["data"])
            n.l2.wait_guest("dd if=/dev/nvme0n1 of=/dev/null bs=4k count=1 "
                            "iflag=direct 2>/dev/null", 60)
        n.l0.assert_kernel_healthy()
    finally:
        n.close()
    return statistics.median(prepared), statistics.median(done)


def planned_chain(functions):
    """Medians, over planned resets of hostdev0, of the time from QMP
    pvrecover-reset to L2's last answer to reset-done, and of the prepare
    phase as QEMU reports it (wait-ms), in seconds.  Two functions share
    one device without a function-level reset: a bus reset reaches both."""
    imgs = [pvr.blank_disk(NAME, "planned%d.img" % i, size_mb=16)
            for i in range(functions)]
    n = nested.Nested("%s-planned%d" % (NAME, functions), imgs[0],
                      nvme2_img=imgs[1] if functions > 1 else None)
    total, prepare = [], []
    try:
        n.boot(backend="vhost", function_reset=functions == 1)
        for _ in range(ROUNDS):
            start = len(n.qmp2.events)
            t = time.monotonic()
            n.plan_reset("hostdev0", 5000)
            for i in range(functions):
                _, ev = n.qmp2.wait_event("PVRECOVER_ACK", 60, start,
                                          device="hostdev%d" % i, notice="reset-done")
                pvr.check(ev["data"]["status"] == "recovered",
                          "bench planned reset %r" % ev["data"])
            total.append(time.monotonic() - t)
            _, ev = n.qmp2.wait_event("PVRECOVER_RESET", 10, start)
            pvr.check(not ev["data"]["deadline-hit"], "bench: deadline hit")
            prepare.append(ev["data"]["wait-ms"] / 1e3)
        n.l0.assert_kernel_healthy()
    finally:
        n.close()
    return statistics.median(total), statistics.median(prepare)


def report_planned():
    one = planned_chain(1)
    two = planned_chain(2)
    print("  nested planned reset through vhost-recover.ko (baseline: FLR of one function)")
    for i, what in enumerate(("to the last reset-done answer", "prepare phase")):
        print("    %-34s one %8.2f ms  bus, two functions %8.2f ms %6.2fx"
              % (what, one[i] * 1e3, two[i] * 1e3, two[i] / one[i]))


def report_nested():
    user = nested_chain("virtio")
    kern = nested_chain("vhost")
    print("  nested chain, fatal AER in L1 (baseline: QEMU's userspace device)")
    for i, what in enumerate(("error-detected answered", "reset-done answered")):
        print("    injection to %-24s userspace %8.2f ms  vhost %8.2f ms %6.2fx"
              % (what, user[i] * 1e3, kern[i] * 1e3, kern[i] / user[i]))


def main():
    devices, names = [], []
    for i in range(FUNCTIONS):
        _, d = nvme(NAME, bus_slot=i + 1, ident="nvme%d" % i)
        devices += d
        names.append("nvme%d" % i)
    devices += ["-device", "pcie-root-port,id=rp9,chassis=9,slot=9",
                "-device", "edu,id=edu0,bus=rp9"]
    g = pvr.Guest(NAME, recovery_device() + devices, modules=("virtio_pci", "nvme"))
    try:
        g.boot()
        g.wait_guest("[ $(ls /dev/nvme*n1 | wc -l) = %d ]" % FUNCTIONS)

        rtts = []
        for _ in range(BASELINE_NOTICES):
            s = g.notify("edu0", "error-detected", fatal=False)
            rtts.append(g.wait_ack(s)["rtt-us"])
        base = statistics.median(rtts) / 1e6

        one = statistics.median(recover(g, names[:1]) for _ in range(ROUNDS))
        serial = statistics.median(
            sum(recover(g, [n]) for n in names) for _ in range(ROUNDS))
        together = statistics.median(recover(g, names) for _ in range(ROUNDS))
        g.assert_kernel_healthy()
    finally:
        g.close()

    print("pvrecover bench (%s, TCG, %d rounds, medians)" % (pvr.kver(), ROUNDS))
    print("  baseline: notice round trip, no recovery     %8.2f ms   1.0x" % (base * 1e3))
    print("  one nvme recovery (reset hooks)              %8.2f ms %6.1fx baseline"
          % (one * 1e3, one / base))
    print("  %d nvme, one after the other                  %8.2f ms %6.1fx baseline"
          % (FUNCTIONS, serial * 1e3, serial / base))
    print("  %d nvme, all at once                          %8.2f ms %6.1fx baseline"
          % (FUNCTIONS, together * 1e3, together / base))
    print("  concurrent / serial                                        %6.2f"
          % (together / serial))
    if os.environ.get("PVR_BENCH_NESTED", "1") != "0":
        report_nested()
        report_planned()
    return 0


if __name__ == "__main__":
    sys.exit(main())
