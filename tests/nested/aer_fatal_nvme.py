"""The whole chain through the host kernel backend: a fatal AER error
injected in L0 at the root port above the nvme makes L1's kernel reset the
link; vfio-pci signals the error to vhost-recover.ko, which sends L2
ERROR_DETECTED at once and RESET_DONE only once L1's own recovery has
finished.  L2's nvme driver recovers through reset_prepare/reset_done with
its data, and L2 never pauses.  L2's QEMU refuses to migrate it."""

import nested
import pvr
from _common import assert_data_and_new_io, steps, write_pattern

NAME = "nested/aer-fatal-nvme"


def run():
    img = pvr.blank_disk(NAME, "nvme.img", size_mb=16)
    n = nested.Nested(NAME, img)
    try:
        n.boot(backend="vhost")
        # vhost-recover-pci offers its quiesce timeout (a front-end feature).
        n.l2.wait_console(r"pvrecover: ready, .*quiesce timeout 60000 ms", 10)
        data = write_pattern(n.l2, "/dev/nvme0n1")

        l1_mark = n.l0.mark()
        n.inject_fatal()
        _, prep = n.qmp2.wait_event("PVRECOVER_ACK", 60, device="hostdev0",
                                    notice="error-detected")
        prep = prep["data"]
        pvr.check((prep["status"], prep["method"]) == ("prepared", "reset-hooks"),
                  "error-detected answered %r" % prep)
        _, done = n.qmp2.wait_event("PVRECOVER_ACK", 60, device="hostdev0",
                                    notice="reset-done")
        done = done["data"]
        pvr.check((done["status"], done["method"]) == ("recovered", "reset-hooks"),
                  "reset-done answered %r" % done)

        # L1's kernel saw the error and recovered the link ...
        n.l0.wait_console(nested.AER_FATAL_LINE, 10, l1_mark)
        link = n.l0.wait_console(r"AER: Root Port link has been reset", 10, l1_mark)
        ok = n.l0.wait_console(r"AER: device recovery successful", 10, l1_mark)
        # ... the module sent both notices, the ones L2 answered ...
        ed = n.wait_trace("notice_queued", 10, l1_mark, seq=prep["seq"],
                          type="error-detected", flags="fatal")
        n.wait_trace("notice_sent", 10, l1_mark, seq=prep["seq"])
        rd = n.wait_module(r"host recovery finished in \d+ ms, seq %d reset-done queued"
                           % done["seq"], 10, l1_mark)
        t_rdq = n.wait_trace("notice_queued", 10, l1_mark, seq=done["seq"],
                             type="reset-done").time
        n.wait_trace("notice_sent", 10, l1_mark, seq=done["seq"])
        for seq, status in ((prep["seq"], "prepared"), (done["seq"], "recovered")):
            n.wait_trace("notice_answered", 10, l1_mark, seq=seq, status=status,
                         method="reset-hooks")
        lines = n.module_lines(l1_mark)
        pvr.check(not any("error-detected flags= " in l or "perm-failure" in l or "timed" in l
                          for l in lines), "module lines %r" % lines)
        # ... and RESET_DONE only once L1's recovery was over, on L1's clock:
        # after the link reset (the module may see the function back in
        # service a moment before the AER core prints its last line).
        t_ed, t_link, t_ok, t_rd = (n.ktime(m) for m in (ed, link, ok, rd))
        pvr.check(abs(t_rdq - t_rd) < 0.5, "reset-done traced at %.6f, logged at %.6f"
                  % (t_rdq, t_rd))
        pvr.check(t_ed <= t_link, "error-detected queued at %.6f, after the link "
                  "reset at %.6f" % (t_ed, t_link))
        pvr.check(t_rd >= t_link and rd.start() > link.start(),
                  "reset-done queued at %.6f, before L1's link reset at %.6f"
                  % (t_rd, t_link))
        n.log("L1 clock from error-detected queued: link reset %+.6f, recovery "
              "successful %+.6f, reset-done queued %+.6f (%s the last AER line)"
              % (t_link - t_ed, t_ok - t_ed, t_rd - t_ed,
                 "after" if rd.start() > ok.start() else "before"))

        # L2: the reset hooks ran, in order, and reset_done after L1's recovery.
        pvr.check(steps(n.l2, prep["seq"]) == ["reset_prepare", "prepared (reset-hooks)"],
                  "error-detected steps %r" % steps(n.l2, prep["seq"]))
        done_line = pvr.wait_trace(n.l2, "pvrecover_callback_start", 10,
                                   seq=done["seq"], callback="reset_done")
        s = steps(n.l2, done["seq"])
        pvr.check(s[:1] == ["reset_done"] and len(s) == 2
                  and s[1].startswith("recovered (reset-hooks)"),
                  "reset-done steps %r" % s)
        t_rec = n.line_time("l1k", ok.group(0))
        t_link_host = n.line_time("l1k", link.group(0))
        t_done = n.line_time("l2", done_line.m.group(0).strip())
        pvr.check(t_link_host < t_done and t_rec <= t_done,
                  "reset_done ran in L2 (%.3f) before L1 finished its recovery "
                  "(link reset %.3f, successful %.3f)" % (t_done, t_link_host, t_rec))

        # Data intact, new I/O works, L2 never stopped.
        assert_data_and_new_io(n.l2, "/dev/nvme0n1", data)
        nested.l2_running(n)
        acks = [e["data"] for e in n.qmp2.events if e["event"] == "PVRECOVER_ACK"]
        pvr.check(len(acks) == 2, "acknowledgments %r" % acks)
        pvr.check(not any(e["event"] == "PVRECOVER_ACK_TIMEOUT" for e in n.qmp2.events),
                  "a notice timed out")
        # Not migratable (spec 9.1): L2's QEMU names vhost-recover-pci among
        # what blocks a migration (the vfio-pci function is another) and
        # refuses one, and L2 runs on.
        reasons = n.qmp2.cmd("query-migrate").get("blocked-reasons", [])
        pvr.check([r for r in reasons if "vhost-recover" in r],
                  "migration blockers %r" % reasons)
        r = n.qmp2.cmd_raw("migrate", uri="exec:cat >/dev/null")
        pvr.check("error" in r, "migrate: %r" % r)
        nested.l2_running(n)
        n.l2.assert_kernel_healthy()
        n.l0.assert_kernel_healthy()
    finally:
        n.close()
