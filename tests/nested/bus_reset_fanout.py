"""Fan-out over a reset domain: L0 gives L1 a multi-function device, two
nvme functions below one root port, without a reset of their own (an
empty reset_method in L1), and L1 assigns both to L2 under one recovery
device.  A reset of either is a bus reset that reaches both.

1. Planned: L1's QEMU is asked to reset hostdev0.  vhost-recover.ko works
   out the domain itself and sends prepare-reset to both functions; L2
   quiesces both and answers; then, and only then, L1's QEMU does one hot
   reset of the bus and the module sends reset-done to both.
2. From an error: a fatal AER error at the root port makes L1's kernel
   reset the link below it; both functions are signalled and each gets
   error-detected and reset-done.

After each reset both recover, each answer reported per function, and
both disks read back what was written before."""

import nested
import pvr
from _common import assert_data_and_new_io, steps, write_pattern

NAME = "nested/bus-reset-fanout"
DEADLINE_MS = 8000
FUNCTIONS = (("hostdev0", nested.NVME_BDF, "/dev/nvme0n1"),
             ("hostdev1", nested.NVME2_BDF, "/dev/nvme1n1"))


def answers(n, notice, start):
    """The PVRECOVER_ACK of `notice` for each function, by device."""
    got = {}
    for dev, _, _ in FUNCTIONS:
        _, ev = n.qmp2.wait_event("PVRECOVER_ACK", 60, start, device=dev,
                                  notice=notice)
        got[dev] = ev["data"]
    return got


def check_recovered(n, notice, acks):
    for dev, ack in acks.items():
        pvr.check((ack["status"], ack["method"]) == ("recovered", "reset-hooks"),
                  "%s: %s answered %r" % (dev, notice, ack))
        s = steps(n.l2, ack["seq"])
        pvr.check(s[:1] == ["reset_done"] and s[-1].startswith("recovered"),
                  "%s: %s steps %r" % (dev, notice, s))


def planned_bus_reset(n):
    # L2's QEMU reset the bus once already, when it started L2.
    hot_mark = len(n.l2_qemu_trace("vfio_pci_hot_reset_result"))
    flr_mark = len(n.l2_qemu_trace("vfio_pci_reset_flr"))
    l0_resets = n.l0_trace("pci_nvme_pci_reset")
    l1_mark = n.l0.mark()
    ev_mark = len(n.qmp2.events)
    plan = n.plan_reset("hostdev0", DEADLINE_MS)
    pvr.check(plan == {"deadline-ms": DEADLINE_MS, "bus-reset": True, "functions": 2},
              "pvrecover-reset returned %r" % plan)
    preps = answers(n, "prepare-reset", ev_mark)
    i_reset, reset = n.qmp2.wait_event("PVRECOVER_RESET", 60, ev_mark)
    dones = answers(n, "reset-done", ev_mark)
    r = reset["data"]
    pvr.check(r == {"recovery": "pvr0", "device": "hostdev0", "bus-reset": True,
                    "functions": 2, "answered": 2, "deadline-hit": False,
                    "wait-ms": r["wait-ms"], "success": True},
              "PVRECOVER_RESET %r" % r)
    for dev, p in preps.items():
        pvr.check((p["status"], p["method"]) == ("prepared", "reset-hooks"),
                  "%s: prepare-reset answered %r" % (dev, p))
        pvr.check(steps(n.l2, p["seq"])[:1] == ["reset_prepare"],
                  "%s: prepare-reset steps %r" % (dev, steps(n.l2, p["seq"])))
    check_recovered(n, "reset-done", dones)
    # Both answers came before the reset, both reset-dones after it.
    idx = {(e["data"]["device"], e["data"]["notice"]): i
           for i, e in enumerate(n.qmp2.events)
           if i >= ev_mark and e["event"] == "PVRECOVER_ACK"}
    for dev, _, _ in FUNCTIONS:
        pvr.check(idx[(dev, "prepare-reset")] < i_reset < idx[(dev, "reset-done")],
                  "%s: events out of order %r (reset #%d)" % (dev, idx, i_reset))

    # The module found the domain, and made the reset due only when both
    # functions had answered.
    n.wait_module(r"planned reset of 2 function\(s\), deadline %d ms" % DEADLINE_MS,
                  10, l1_mark)
    due = n.wait_module(r"planned reset due: all 2 function\(s\) answered in \d+ ms",
                        10, l1_mark)
    for dev, bdf, _ in FUNCTIONS:
        q = n.wait_trace("notice_queued", 10, l1_mark, bdf=bdf, seq=preps[dev]["seq"],
                         type="prepare-reset", deadline_ms=DEADLINE_MS)
        a = n.wait_trace("notice_answered", 10, l1_mark, bdf=bdf, seq=preps[dev]["seq"],
                         type="prepare-reset", status="prepared")
        d = n.wait_module(r"planned reset done, seq %d reset-done queued"
                          % dones[dev]["seq"], 10, l1_mark, bdf=bdf)
        # On L1's clock: the trace and the kernel log are two streams.
        pvr.check(q.time <= a.time <= n.ktime(due) <= n.ktime(d),
                  "%s: queued %.6f, answered %.6f, due %.6f, done %.6f: out of order"
                  % (bdf, q.time, a.time, n.ktime(due), n.ktime(d)))

    # One hot reset of the bus by L1's QEMU, no function-level reset.
    hot = n.l2_qemu_trace("vfio_pci_hot_reset_result")[hot_mark:]
    pvr.check(len(hot) == 1 and "Success" in hot[0][1],
              "hot resets traced by L2's QEMU: %r" % hot)
    pvr.check(not n.l2_qemu_trace("vfio_pci_reset_flr")[flr_mark:], "an FLR was traced")
    # ... which reset both of L0's nvme functions, once each.
    pvr.check(n.l0_trace("pci_nvme_pci_reset") == l0_resets + 2,
              "L0's nvme functions were reset %d times, not twice"
              % (n.l0_trace("pci_nvme_pci_reset") - l0_resets))
    t_preps = max(pvr.event_time(n.qmp2.events[idx[(dev, "prepare-reset")]])
                  for dev, _, _ in FUNCTIONS)
    pvr.check(t_preps <= hot[0][0] <= pvr.event_time(reset),
              "hot reset at %.6f, prepared by %.6f, reported %.6f"
              % (hot[0][0], t_preps, pvr.event_time(reset)))


def error_fanout(n):
    l0_resets = n.l0_trace("pci_nvme_pci_reset")
    l1_mark = n.l0.mark()
    ev_mark = len(n.qmp2.events)
    n.inject_fatal()
    eds = answers(n, "error-detected", ev_mark)
    dones = answers(n, "reset-done", ev_mark)
    for dev, ack in eds.items():
        pvr.check((ack["status"], ack["method"]) == ("prepared", "reset-hooks"),
                  "%s: error-detected answered %r" % (dev, ack))
    check_recovered(n, "reset-done", dones)
    n.l0.wait_console(r"AER: Root Port link has been reset", 10, l1_mark)
    # One link reset reached both functions.
    pvr.check(n.l0_trace("pci_nvme_pci_reset") == l0_resets + 2,
              "L0's nvme functions were reset %d times by the link reset"
              % (n.l0_trace("pci_nvme_pci_reset") - l0_resets))
    for dev, bdf, _ in FUNCTIONS:
        n.wait_trace("notice_queued", 10, l1_mark, bdf=bdf, seq=eds[dev]["seq"],
                     type="error-detected", flags="fatal")
        n.wait_module(r"host recovery finished in \d+ ms, seq %d reset-done queued"
                      % dones[dev]["seq"], 10, l1_mark, bdf=bdf)


def run():
    imgs = [pvr.blank_disk(NAME, "nvme%d.img" % i, size_mb=16) for i in range(2)]
    n = nested.Nested(NAME, imgs[0], nvme2_img=imgs[1],
                      l0_trace=("pci_nvme_pci_reset",))
    try:
        n.boot(backend="vhost", function_reset=False,
               trace=("vfio_pci_hot_reset_result", "vfio_pci_reset_flr"))
        data = {disk: write_pattern(n.l2, disk) for _, _, disk in FUNCTIONS}

        planned_bus_reset(n)
        for disk, digest in data.items():
            assert_data_and_new_io(n.l2, disk, digest)

        error_fanout(n)
        for disk, digest in data.items():
            assert_data_and_new_io(n.l2, disk, digest)

        nested.l2_running(n)
        pvr.check(not any(e["event"] == "PVRECOVER_ACK_TIMEOUT" for e in n.qmp2.events),
                  "a notice timed out")
        n.l2.assert_kernel_healthy()
        n.l0.assert_kernel_healthy()
    finally:
        n.close()
