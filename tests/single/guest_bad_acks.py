"""A hostile guest driver writes acknowledgments the host must never
trust: malformed ones, answers to notices never sent (seq 0 among them,
spec 7.3.2), answers that do not
echo their notice, a flood, and a guess at the seq of a notice still
queued.  QEMU counts them, reports none of them as an acknowledgment, acts
on no device, and stays responsive.  It also posts two notice buffers QEMU
cannot use (device-readable, too short): they come back empty and the
notice goes in the next good one, which is two descriptors of 16 bytes:
QEMU fills it as one (spec 7.4.1).  Every ack buffer comes back with used
length 0 (7.4.1).  Last, a notice buffer of 0 bytes makes QEMU mark itself
DEVICE_NEEDS_RESET: it writes nothing more until a new driver resets it,
then delivers what it queued meanwhile (6.1)."""

import re

import pvr
from _common import nvme_guest, read_digest, write_pattern

NAME = "single/guest-bad-acks"
NEEDS_RESET = 0x40  # VIRTIO_CONFIG_S_NEEDS_RESET
MALFORMED = 7       # short, status 0, status 99, method 77, reserved,
                    # device-writable, too long: see tests/kmod
UNSENT = 1          # an answer to seq 0, which no notice carries
FLOOD = 5000


def needs_reset(g):
    """A notice buffer of 0 bytes is the driver's error: QEMU marks itself
    DEVICE_NEEDS_RESET on taking it, and writes no notice until the device
    is reset; the notices queued meanwhile reach the next driver (spec
    6.1)."""
    g.run("rmmod pvr_badguest")
    mark = g.mark()
    g.run("insmod /lib/modules/$(uname -r)/extra/pvr_badguest.ko flood=0 "
          "zero_notice_buf=1")
    g.wait_console(r"pvr_badguest: done \d+\r?\n", 60, mark)
    seqs = [g.notify("nvme0", "state-lost")]
    g.wait_guest("s=$(cat /sys/bus/virtio/drivers/pvr_badguest/virtio*/status); "
                 "[ $((s & %d)) -ne 0 ]" % NEEDS_RESET)
    seqs.append(g.notify("nvme0", "state-lost"))
    # Both wait in QEMU's queue, though the driver posted good buffers.
    q = g.qmp.cmd("query-pvrecover")[0]
    pvr.check(q["queued"] == 2, "notices written after DEVICE_NEEDS_RESET: %r" % q)
    pvr.check(not re.search(r"pvr_badguest: notice seq (%d|%d) " % tuple(seqs),
                            g.console[mark:]),
              "the broken device wrote a notice")
    # The reset a new driver makes brings it back; both are delivered.
    g.run("rmmod pvr_badguest")
    g.run("modprobe pvrecover")
    for seq in seqs:
        a = g.wait_ack(seq, timeout=120)
        pvr.check(a["status"] == "recovered", "seq %d answered %r" % (seq, a))
    pvr.check(g.qmp.cmd("query-pvrecover")[0]["queued"] == 0, "still queued")


def run():
    g, _ = nvme_guest(NAME, recovery={"ack-timeout-ms": 2000}, pvrecover=False)
    try:
        data = write_pattern(g, "/dev/nvme0n1")
        mark = g.mark()
        g.run("insmod /lib/modules/$(uname -r)/extra/pvr_badguest.ko flood=%d "
              "bad_notice_bufs=1 chained_notice_bufs=1" % FLOOD)
        m = g.wait_console(r"pvr_badguest: done (\d+)\r?\n", 300, mark)
        acklen = g.wait_console(r"given back with a used length: (\d+)", 10, mark)
        pvr.check(acklen.group(1) == "0",
                  "%s ack buffers given back with a used length" % acklen.group(1))
        pvr.check(int(m.group(1)) == MALFORMED + UNSENT + FLOOD,
                  "posted %s acks" % m.group(1))

        # Every ack taken (the module waited for that), counted, none
        # reported or trusted.
        q = g.qmp.cmd("query-pvrecover")[0]
        pvr.check(q["malformed-acks"] == MALFORMED, "malformed %r" % q)
        pvr.check(q["unmatched-acks"] == UNSENT + FLOOD, "unmatched %r" % q)
        pvr.check(q["acks"] == 0, "acks trusted: %r" % q)

        # A real notice answered with a wrong echo stays outstanding and
        # times out; the function is untouched.
        seq = g.notify("nvme0", "error-detected", fatal=True)
        # The two bad buffers came back empty; the notice took the next one.
        g.wait_console(r"(?s)notice buffer given back with 0 bytes.*"
                       r"notice buffer given back with 0 bytes", 30, mark)
        g.wait_console(r"answering seq %d with a wrong echo" % seq, 30, mark)
        # Whole, through the chain: type error-detected, the nvme two hops
        # down (its root port, then device 0 function 0), 32 bytes.
        g.wait_console(r"notice seq %d type 1 depth 2 path [0-9a-f]{2}00000000000000,"
                       r" 32 bytes" % seq, 10, mark)
        g.qmp.wait_event("PVRECOVER_ACK_TIMEOUT", 30, seq=seq)
        q = g.qmp.cmd("query-pvrecover")[0]
        pvr.check(q["malformed-acks"] == MALFORMED + 1 and q["acks"] == 0,
                  "wrong echo %r" % q)
        pvr.check(not any(e["event"] == "PVRECOVER_ACK" for e in g.qmp.events),
                  "a bad ack was reported")
        pvr.check(g.qmp.cmd("query-status")["status"] == "running", "VM not running")

        # A guess at a notice still queued (spec 7.3.2).  With no driver the
        # notice waits; the hostile driver answers its seq (method
        # reset-hooks) before it posts a notice buffer: unmatched.  Only
        # the answer it gives once the notice is sent (a wrong echo, method
        # none; a raw notice's echo is not checked) is matched.
        g.run("rmmod pvr_badguest")
        guess = 0x7000_0000
        g.send_raw(pvr.notice_bytes(guess, 1, path=(0,)))
        mark = g.mark()
        g.run("insmod /lib/modules/$(uname -r)/extra/pvr_badguest.ko flood=0 "
              "guess_seq=%d" % guess)
        g.wait_console(r"pvr_badguest: done %d\r?\n" % (MALFORMED + UNSENT + 1), 60, mark)
        g.wait_console(r"answering seq %d with a wrong echo" % guess, 30, mark)
        a = g.wait_ack(guess, timeout=30)
        pvr.check((a["status"], a["method"]) == ("recovered", "none"),
                  "the guess, not the answer, was matched: %r" % a)
        q = g.qmp.cmd("query-pvrecover")[0]
        pvr.check(q["acks"] == 1 and q["unmatched-acks"] == 2 * UNSENT + FLOOD + 1,
                  "after the answer %r" % q)
        pvr.check(len([e for e in g.qmp.events if e["event"] == "PVRECOVER_ACK"]) == 1,
                  "more than the answer reported")

        needs_reset(g)
        g.assert_kernel_healthy()
    finally:
        g.close()
