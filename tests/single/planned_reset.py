"""The two-phase planned reset with QEMU's userspace recovery device and
emulated functions (QMP pvrecover-reset):

1. nvme, cooperative: prepare-reset, the driver quiesces through
   reset_prepare and answers prepared; QEMU resets the nvme at once on
   that answer (well before the deadline), reports it (PVRECOVER_RESET),
   then sends reset-done; the driver comes back with its data.
2. nvme, silent guest: the guest is paused, so nobody answers; QEMU
   resets at the deadline, not later, and reports the deadline hit.  The
   prepare-reset never taken is merged with its reset-done into one
   state-lost under the prepare-reset's seq, from which the guest
   recovers once it runs again.
3. virtio-blk, no callbacks: unbound on prepare-reset while it still
   works, reset, probed again after reset-done.

The emulated nvme logs each reset it gets (trace pci_nvme_pci_reset): it
is reset exactly once per planned reset, after the answer."""

import os
import re

import pvr
from _common import (assert_data_and_new_io, host_digest, nvme_guest,
                     read_digest, steps, write_pattern)

NAME = "single/planned-reset"
BLK = ("for d in /sys/block/vd*; do [ \"$(cat $d/serial 2>/dev/null)\" = pvrblk ] "
       "&& echo DISK=${d##*/}; done")
DEADLINE_MS = 8000
SILENT_DEADLINE_MS = 2000
# QEMU's timer at the deadline runs in its main loop, milliseconds late.
LATE_MS = 250


def nvme_resets(path):
    """Host wall-clock times of the emulated nvme's resets."""
    with open(path) as f:
        return [int(m.group(1)) + int(m.group(2)) / 1e6 for m in re.finditer(
            r"^\d+@(\d+)\.(\d{6}):pci_nvme_pci_reset ", f.read(), re.M)]


def plan(g, device, deadline_ms):
    r = g.qmp.cmd("pvrecover-reset", device=device, **{"deadline-ms": deadline_ms})
    pvr.check(r == {"deadline-ms": deadline_ms, "bus-reset": False, "functions": 1},
              "pvrecover-reset %s returned %r" % (device, r))


def check_reset_event(ev, device, answered, deadline_hit):
    r = ev["data"]
    pvr.check(r == {"recovery": "pvr0", "device": device, "bus-reset": False,
                    "functions": 1, "answered": answered,
                    "deadline-hit": deadline_hit, "wait-ms": r["wait-ms"],
                    "success": True}, "PVRECOVER_RESET %r" % r)
    return r["wait-ms"]


def cooperative(g, device, method):
    """A planned reset of `device` that the guest answers: prepared, then
    the reset, then recovered, all by `method`, in that order.  Returns
    the events (prepare-reset answer, PVRECOVER_RESET, reset-done answer)."""
    mark = len(g.qmp.events)
    plan(g, device, DEADLINE_MS)
    i_prep, prep = g.qmp.wait_event("PVRECOVER_ACK", 60, mark, device=device,
                                    notice="prepare-reset")
    i_reset, reset = g.qmp.wait_event("PVRECOVER_RESET", 60, mark, device=device)
    i_done, done = g.qmp.wait_event("PVRECOVER_ACK", 120, mark, device=device,
                                    notice="reset-done")
    p, d = prep["data"], done["data"]
    pvr.check((p["status"], p["method"]) == ("prepared", method),
              "%s: prepare-reset answered %r" % (device, p))
    waited = check_reset_event(reset, device, 1, False)
    pvr.check(waited < DEADLINE_MS, "%s: reset waited %d ms" % (device, waited))
    pvr.check((d["status"], d["method"]) == ("recovered", method),
              "%s: reset-done answered %r" % (device, d))
    pvr.check(i_prep < i_reset < i_done, "%s: events out of order" % device)
    return prep, reset, done


def cooperative_nvme(g, trace, data):
    before = nvme_resets(trace)
    prep, reset, done = cooperative(g, "nvme0", "reset-hooks")
    p, d = prep["data"], done["data"]
    # One reset of the nvme, between the answer and the report.
    resets = nvme_resets(trace)[len(before):]
    pvr.check(len(resets) == 1, "nvme reset %d times" % len(resets))
    pvr.check(pvr.event_time(prep) <= resets[0] <= pvr.event_time(reset),
              "nvme reset at %.6f, prepared answered at %.6f, reported at %.6f"
              % (resets[0], pvr.event_time(prep), pvr.event_time(reset)))
    pvr.check(steps(g, p["seq"])[:1] == ["reset_prepare"],
              "prepare-reset steps %r" % steps(g, p["seq"]))
    pvr.check(steps(g, d["seq"])[:1] == ["reset_done"],
              "reset-done steps %r" % steps(g, d["seq"]))
    assert_data_and_new_io(g, "/dev/nvme0n1", data)


def silent_nvme(g, trace, data):
    before = nvme_resets(trace)
    # The seq the prepare-reset gets: the one after this notice's.
    last = g.notify("nvme0", "error-detected", fatal=False)
    g.wait_ack(last, timeout=60, status="recovered")
    g.qmp.cmd("stop")
    mark = len(g.qmp.events)
    plan(g, "nvme0", SILENT_DEADLINE_MS)
    _, reset = g.qmp.wait_event("PVRECOVER_RESET", 60, mark, device="nvme0")
    waited = check_reset_event(reset, "nvme0", 0, True)
    pvr.check(SILENT_DEADLINE_MS <= waited < SILENT_DEADLINE_MS + LATE_MS,
              "reset after %d ms, deadline %d ms" % (waited, SILENT_DEADLINE_MS))
    pvr.check(len(nvme_resets(trace)) == len(before) + 1, "nvme not reset once")
    pvr.check(g.qmp.cmd("query-status")["status"] == "paused", "guest not paused")
    pvr.check(not any(e["event"].startswith("PVRECOVER_ACK")
                      for e in g.qmp.events[mark:]), "an answer while paused")
    g.qmp.cmd("cont")
    _, ack = g.qmp.wait_event("PVRECOVER_ACK", 60, mark, device="nvme0")
    a = ack["data"]
    pvr.check((a["notice"], a["status"], a["method"]) ==
              ("state-lost", "recovered", "reset-hooks"), "answer %r" % a)
    # The merged notice kept the prepare-reset's seq; the reset-done had
    # none of its own (spec 7.2.1, 7.5).
    pvr.check(a["seq"] == last + 1, "state-lost seq %d, prepare-reset's %d"
              % (a["seq"], last + 1))
    nxt = g.notify("nvme0", "error-detected", fatal=False)
    pvr.check(nxt == last + 2, "the next notice got seq %d, not %d" % (nxt, last + 2))
    g.wait_ack(nxt, timeout=60, status="recovered")
    assert_data_and_new_io(g, "/dev/nvme0n1", data)


def no_callbacks_blk(g, blk_img, data):
    prep, _, done = cooperative(g, "blk0", "reprobe")
    p, d = prep["data"], done["data"]
    pvr.check(steps(g, p["seq"])[:1] == ["unbind"], "steps %r" % steps(g, p["seq"]))
    # Unbound before the reset, so only probed again after it.
    pvr.check("probe" in steps(g, d["seq"]) and "unbind" not in steps(g, d["seq"]),
              "reset-done steps %r" % steps(g, d["seq"]))
    g.wait_guest("ls /sys/block | grep -q vd")
    vd = "/dev/" + g.value(BLK, r"DISK=(\w+)")
    pvr.check(read_digest(g, vd) == data and host_digest(blk_img) == data,
              "virtio-blk data differs")


def run():
    blk = pvr.blank_disk(NAME, "blk.img")
    trace = os.path.join(pvr.workdir(NAME), "qemu-trace.log")
    g, _ = nvme_guest(NAME, extra=[
        "-D", trace, "-msg", "timestamp=on", "-trace", "pci_nvme_pci_reset",
        "-device", "pcie-root-port,id=rp2,chassis=2,slot=2",
        "-drive", "file=%s,if=none,id=drv-blk,format=raw" % blk,
        "-device", "virtio-blk-pci,drive=drv-blk,id=blk0,serial=pvrblk,"
                   "disable-legacy=on,bus=rp2"],
        recovery={"ack-timeout-ms": 60000, "cover": ["nvme0", "blk0"]},
        modules=("virtio_pci", "nvme", "virtio_blk"))
    try:
        nv = write_pattern(g, "/dev/nvme0n1")
        g.wait_guest("ls /sys/block | grep -q vd")
        bd = write_pattern(g, "/dev/" + g.value(BLK, r"DISK=(\w+)"))

        cooperative_nvme(g, trace, nv)
        silent_nvme(g, trace, nv)
        no_callbacks_blk(g, blk, bd)

        pvr.check(not any(e["event"] == "PVRECOVER_ACK_TIMEOUT" for e in g.qmp.events),
                  "a notice timed out")
        g.assert_kernel_healthy()
    finally:
        g.close()
