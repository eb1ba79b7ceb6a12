"""Issue 10 item 3: the error work and the recovery watch are serialised.

A fatal error lands as L1's recovery of the one before ends.  The window
is widened with vhost-recover.ko's test-only parameter test_watch_hold_ms:
the watch holds back the end it has just seen ("host recovery end held")
until the function's vfio error eventfd is signalled again, and the
harness injects the second error when it sees that line.  A program in L1
(tests/progs/vhost_ioctl.c --watch-race) owns the function as QEMU does
(its vfio error eventfd attached) and, once the second error is taken and
the first end reported, asks for a planned reset: the module must refuse
it (EBUSY), since the host is recovering the function.  Before the fix the
error work ran beside the held watch, which then marked the function
"not watching" over the second error's recovery and let the plan through.
Each error gets its own end: two reset-done, no perm-failure, in the
order error-detected, reset-done, error-detected, reset-done.

Test-only module lines (besides those documented in nested.py):
  host recovery end held, at most N ms (test)
  host recovery end released after N ms (test)"""


import nested
import pvr

NAME = "nested/watch-race"
PARAM = "/sys/module/vhost_recover/parameters/test_watch_hold_ms"
LOG = "/tmp/watch-race.log"


def run():
    img = pvr.blank_disk(NAME, "nvme.img", size_mb=16)
    n = nested.Nested(NAME, img)
    bdf = nested.NVME_BDF
    try:
        n.boot_l1(need_modules=("vhost_recover",))
        n.l1.run("(vhost_ioctl --watch-race %s </dev/null >%s 2>&1 &)" % (bdf, LOG))
        n.l1.wait_guest("grep -q '^ready' %s" % LOG, 60)
        n.wait_module(r"attached as cookie 1", 30)
        n.l1.run("echo 30000 > %s" % PARAM)

        mark = n.l0.mark()
        n.inject_fatal()
        n.wait_trace("notice_queued", 60, mark, type="error-detected", flags="fatal")
        held = n.wait_module(r"host recovery end held, at most 30000 ms \(test\)",
                             60, mark)
        n.inject_fatal()
        released = n.wait_module(r"host recovery end released after (\d+) ms \(test\)",
                                 60, held.end())
        pvr.check(int(released.group(1)) < 20000,
                  "the second error was not seen during the hold: %s"
                  % released.group(0))
        n.l1.wait_guest("grep -q '^done' %s" % LOG, 150)
        out = n.l1.run("cat %s" % LOG)
        n.log("vhost_ioctl --watch-race:\n%s" % out)
        bad = [l for l in out.splitlines() if l.startswith("not ok")]
        pvr.check(not bad, "failed cases: %s" % "; ".join(bad))
        pvr.check("done 0 failed" in out, "did not run through: %r" % out[-400:])

        n.l0.wait_for(lambda: len(n.traces("notice_queued", mark)) >= 4, 30,
                      "four notices queued")
        steps = [ev["type"] for ev in sorted(n.traces("notice_queued", mark),
                                             key=lambda ev: ev.time)]
        pvr.check(steps == ["error-detected", "reset-done"] * 2,
                  "module steps %r; lines %r" % (steps, n.module_lines(mark)))
        pvr.check(n.l1.run("cat %s" % PARAM) == "0", "the hold was not used up")
        rc, out = n.l1_rmmod("vhost_recover")
        pvr.check(rc == 0, "rmmod vhost_recover failed (%d): %s" % (rc, out))
        n.l0.assert_kernel_healthy()
        nested.l1_answers(n)
    finally:
        n.close()
