"""L1's QEMU (the owner of /dev/vhost-recover) is SIGKILLed between the two
notices of a fatal error: after vhost-recover.ko queued ERROR_DETECTED and
before L1's recovery ended.  L1's kernel must not care: its AER recovery
succeeds, the module lets go of the function without a trace on the
console, it can be unloaded, and L1's shell stays responsive.

The kill is made deterministic by a watcher in L1 blocked on /dev/kmsg: it
kills QEMU the moment the module logs "error-detected queued".  L1's link
reset takes about 160 ms under TCG, less than the watcher takes to act on
the debug kernel (about 250 ms), so the module is told to look at L1's
recovery only WATCH_DELAY_MS after the error (test_watch_delay_ms): at the
kill it is still watching, whatever the kernel's speed."""

import nested
import pvr

NAME = "nested/qemu-killed-mid-recovery"
KILLED = r"pvr-test: killed L2's QEMU"
WATCH_DELAY_MS = 5000
PARAM = "/sys/module/vhost_recover/parameters/test_watch_delay_ms"


def run():
    img = pvr.blank_disk(NAME, "nvme.img", size_mb=16)
    n = nested.Nested(NAME, img)
    try:
        n.boot(backend="vhost")
        pid = n.arm_kill_on_trace("vhost_recover_notice_queued",
                                  r"bdf=%s seq=* type=error-detected flags=fatal *"
                                  % nested.NVME_BDF)

        n.l1.run("echo %d > %s" % (WATCH_DELAY_MS, PARAM))
        l1_mark = n.l0.mark()
        n.inject_fatal()
        ed = n.wait_trace("notice_queued", 30, l1_mark, type="error-detected",
                          flags="fatal")
        killed = n.l0.wait_console(KILLED, 30, l1_mark)
        n.wait_l2_qemu_gone(pid)
        # L1's own recovery is unaffected, and the module let go.
        link = n.l0.wait_console(r"AER: Root Port link has been reset", 30, l1_mark)
        n.l0.wait_console(r"AER: device recovery successful", 30, l1_mark)
        # It let go while it was still watching L1's recovery.
        detached = n.wait_module(r"detached during host recovery", 30, l1_mark)

        # The kill fell between the notices: no RESET_DONE was queued.
        dmesg = n.l1_dmesg()  # everything logged until now
        t_ed, t_kill, t_link = n.ktime(ed), n.ktime(killed), n.ktime(link)
        n.log("L1 clock from error-detected queued: killed %+.6f, link reset %+.6f; "
              "module: %s" % (t_kill - t_ed, t_link - t_ed, detached.group(0)))
        lines = [l for l in dmesg.splitlines() if "vhost-recover: %s:" % nested.NVME_BDF in l]
        lines += n.module_lines(l1_mark)
        pvr.check(not any("reset-done" in l or "perm-failure" in l for l in lines),
                  "a second notice was queued although QEMU was killed %.3f s after "
                  "error-detected (L1's link reset came %.3f s after it): %r"
                  % (t_kill - t_ed, t_link - t_ed, lines))
        n.l0.assert_kernel_healthy()

        # Nothing holds the module: it unloads.
        took = nested.l1_answers(n, within=15)
        n.log("L1's shell answered in %.3f s" % took)
        n.l1.wait_guest('[ "$(cat /sys/module/vhost_recover/refcnt)" = 0 ]', 30)
        rc, out = n.l1_rmmod("vhost_recover")
        pvr.check(rc == 0, "rmmod vhost_recover failed (%d): %s" % (rc, out))
        pvr.check(not n.l1_module_loaded("vhost_recover"), "vhost_recover still loaded")
        pvr.check("vhost_recover" not in n.l1.run("lsmod"), "lsmod lists vhost_recover")
        n.l0.assert_kernel_healthy()
        nested.l1_answers(n, within=15)
    finally:
        n.close()
