"""L1's recovery takes longer than vhost-recover.ko's recovery_timeout_ms
(set to 1 ms here, so any real recovery is late): the module tells L2
PERM_FAILURE without waiting further, and L2 takes the nvme out of
service.  It keeps watching, and when L1's recovery does end well it sends
RESET_DONE, which brings the nvme back in L2 by re-probe, its data
intact."""

import nested
import pvr
from _common import assert_data_and_new_io, write_pattern

NAME = "nested/host-recovery-overdue"
PARAM = "/sys/module/vhost_recover/parameters/recovery_timeout_ms"


def ack(n, notice, ev_mark):
    _, e = n.qmp2.wait_event("PVRECOVER_ACK", 90, ev_mark, device="hostdev0",
                             notice=notice)
    return e["data"]


def run():
    img = pvr.blank_disk(NAME, "nvme.img", size_mb=16)
    n = nested.Nested(NAME, img)
    try:
        n.boot(backend="vhost")
        data = write_pattern(n.l2, "/dev/nvme0n1")
        n.l1.run("echo 1 > %s" % PARAM)

        l1_mark = n.l0.mark()
        ev_mark = len(n.qmp2.events)
        n.inject_fatal()
        ed = n.wait_trace("notice_queued", 30, l1_mark, type="error-detected",
                          flags="fatal")
        pf = n.wait_module(r"host recovery did not finish in \d+ ms, seq (\d+) "
                           r"perm-failure queued", 30, l1_mark)
        ok = n.l0.wait_console(r"AER: device recovery successful", 30, l1_mark)
        rd = n.wait_module(r"host recovery finished late in \d+ ms, seq (\d+) "
                           r"reset-done queued", 30, l1_mark)
        # perm-failure went out while L1 was still recovering, reset-done
        # only after it finished.
        pvr.check(pf.start() < ok.start() < rd.start(),
                  "module lines out of order around L1's recovery")

        a_ed, a_pf, a_rd = (ack(n, t, ev_mark) for t in
                            ("error-detected", "perm-failure", "reset-done"))
        pvr.check([a["seq"] for a in (a_ed, a_pf, a_rd)] ==
                  [ed["seq"]] + [int(m.group(1)) for m in (pf, rd)],
                  "acknowledged seqs %r" % [a_ed, a_pf, a_rd])
        pvr.check(a_pf["status"] == "offline", "perm-failure answered %r" % a_pf)
        pvr.check((a_rd["status"], a_rd["method"]) == ("recovered", "reprobe"),
                  "reset-done answered %r" % a_rd)

        # The nvme is back, with its data, and takes new I/O.
        n.l2.wait_guest("[ -b /dev/nvme0n1 ]", 60)
        assert_data_and_new_io(n.l2, "/dev/nvme0n1", data)
        nested.l2_running(n)
        n.l0.assert_kernel_healthy()
        n.l2.assert_kernel_healthy()
    finally:
        n.close()
