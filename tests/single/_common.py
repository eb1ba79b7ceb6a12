"""Pieces shared by the single-level tests (and the nested ones)."""

import hashlib
import re

import pvr

PATTERN_KB = 1024


def recovery_device(**props):
    """The userspace recovery device, JSON syntax (needed for arrays)."""
    import json
    d = {"driver": "virtio-pvrecover-pci", "id": "pvr0"}
    d.update(props)
    return ["-device", json.dumps(d)]


def nvme(name, bus_slot=1, ident="nvme0", props=""):
    """An emulated nvme behind a root port of its own; `props` are more
    properties of the nvme (",dbcs=off": no doorbell buffer, as a physical
    controller; see spec 7.13)."""
    img = pvr.blank_disk(name, "%s.img" % ident)
    return img, ["-device", "pcie-root-port,id=rp%d,chassis=%d,slot=%d"
                 % (bus_slot, bus_slot, bus_slot),
                 "-drive", "file=%s,if=none,id=drv-%s,format=raw" % (img, ident),
                 "-device", "nvme,serial=pvr-%s,drive=drv-%s,id=%s,bus=rp%d%s"
                 % (ident, ident, ident, bus_slot, props)]


def nvme_guest(name, extra=(), recovery=None, nvme_props="", **guest_args):
    """Boot a guest with the recovery device (properties `recovery`) and
    an nvme behind a root port, and wait for its disk.  Returns (guest,
    disk image path); the caller closes the guest."""
    img, disk = nvme(name, props=nvme_props)
    guest_args.setdefault("modules", ("virtio_pci", "nvme"))
    g = pvr.Guest(name, recovery_device(**(recovery or {})) + disk + list(extra),
                  **guest_args)
    try:
        g.boot()
        g.wait_guest("[ -b /dev/nvme0n1 ]")
    except BaseException:
        g.close()
        raise
    return g, img


def plug_nvme(g, ident, drive, bdf, bus="rp1"):
    """Hot-plug an nvme (QMP device_add) and wait until the guest's pciehp
    found it at `bdf`, the nvme driver bound it and its disk is there."""
    g.qmp.cmd("device_add", driver="nvme", id=ident, bus=bus, drive=drive,
              serial="pvr-" + ident)
    g.wait_guest("[ -e /sys/bus/pci/drivers/nvme/%s ]" % bdf, 60)
    g.wait_guest("[ -b /dev/nvme0n1 ]", 60)


def unplug(g, ident, bdf=None):
    """Hot-unplug `ident` (QMP device_del) and wait for QEMU to say it is
    gone; with `bdf`, for the guest's function to be gone too."""
    mark = len(g.qmp.events)
    g.qmp.cmd("device_del", id=ident)
    g.qmp.wait_event("DEVICE_DELETED", 60, mark, device=ident)
    if bdf:
        g.wait_guest("[ ! -e /sys/bus/pci/devices/%s ]" % bdf, 60)


def hold_notices(g, on):
    """pvrecover's test_hold_notices: while set, notices the device writes
    stay in the used ring, as with a guest slow to take them."""
    g.run("echo %d > /sys/module/pvrecover/parameters/test_hold_notices"
          % (1 if on else 0))


def devfn(bdf):
    """A path entry (spec 7.1) from a guest BDF: '0000:00:03.0' -> 0x18."""
    dev, fn = bdf.split(":")[2].split(".")
    return int(dev, 16) << 3 | int(fn)


def write_pattern(g, dev, offset_kb=0, kb=PATTERN_KB):
    """Write random data to a block device, bypassing the page cache;
    return its md5."""
    g.run("dd if=/dev/urandom of=/tmp/pat bs=1k count=%d 2>/dev/null" % kb)
    digest = g.value("md5sum /tmp/pat", r"([0-9a-f]{32})")
    g.run("dd if=/tmp/pat of=%s bs=64k seek=%d oflag=direct conv=fsync 2>/dev/null"
          % (dev, offset_kb // 64))
    return digest


def read_digest(g, dev, offset_kb=0, kb=PATTERN_KB):
    """md5 of a region read from the device itself (page cache dropped,
    direct I/O)."""
    g.run("echo 3 > /proc/sys/vm/drop_caches")
    return g.value("dd if=%s bs=64k skip=%d count=%d iflag=direct 2>/dev/null | md5sum"
                   % (dev, offset_kb // 64, kb // 64), r"([0-9a-f]{32})", timeout=120)


def assert_data_and_new_io(g, dev, data):
    """The pattern written before the recovery reads back identical, and a
    new one written after it at 4 MiB reads back too."""
    pvr.check(read_digest(g, dev) == data, "data differs after recovery")
    new = write_pattern(g, dev, offset_kb=4096)
    pvr.check(read_digest(g, dev, offset_kb=4096) == new,
              "new I/O after recovery reads back wrong")


def host_digest(img, offset_kb=0, kb=PATTERN_KB):
    with open(img, "rb") as f:
        f.seek(offset_kb * 1024)
        return hashlib.md5(f.read(kb * 1024)).hexdigest()


def _step_text(ev):
    """A pvrecover event as a recovery step: the callback called, or the
    answer ("recovered (reset-hooks) in N us", "prepared (aer)", "busy")."""
    if ev.event == "pvrecover_callback_start":
        return ev.fields["callback"]
    st, m = ev.fields["status"], ev.fields["method"]
    if st == "recovered":
        return "recovered (%s) in %s us" % (m, ev.fields["us"])
    if st in ("failed", "prepared"):
        return "%s (%s)" % (st, m)
    return st


def step_events(g, seq, start=0):
    """(event, step) of notice `seq`, in order, from pvrecover's trace:
    every callback it started and its answer."""
    return [(ev, _step_text(ev)) for ev in
            pvr.traces(g, "pvrecover_callback_start|pvrecover_notice_answered",
                       start, seq=seq)]


def steps(g, seq, start=0, timeout=30):
    """The recovery steps of notice `seq`, in order (see step_events).
    Its answer is awaited first (the trace lines lag the ack a little);
    without one, the steps so far."""
    try:
        pvr.wait_trace(g, "pvrecover_notice_answered", timeout, start, seq=seq)
    except pvr.TestFailure:
        pass
    return [t for _, t in step_events(g, seq, start)]


def wait_step(g, seq, text, timeout=60, start=0):
    """Wait for the step `text` (its start) of notice `seq`; returns its
    trace event."""
    def find():
        for ev, t in step_events(g, seq, start):
            if t.startswith(text):
                return ev
        return None
    return g.wait_for(find, timeout, "step %r of seq %d" % (text, seq))


def assert_order(g, seq_a, step_a, seq_b, step_b):
    a = wait_step(g, seq_a, step_a)
    b = wait_step(g, seq_b, step_b)
    pvr.check(a.start() < b.start(), "%s (seq %d) traced after %s (seq %d)"
              % (step_a, seq_a, step_b, seq_b))


def start_uevent_log(g):
    """Record every uevent the guest kernel sends, as udev would see it."""
    g.run("(uevent sh -c 'echo \"UEV|$ACTION|$DEVPATH|$ERROR_EVENT|$DEVICE_ONLINE\" "
          ">> /tmp/uevents' </dev/null >/dev/null 2>&1 &)")
    # Listening once a uevent of ours shows up; re-sent until it does.
    g.wait_guest("{ echo change > /sys/devices/system/cpu/cpu0/uevent; "
                 "grep -q cpu0 /tmp/uevents 2>/dev/null; }")


def recovery_uevents(g, until, timeout=30):
    """(devpath, ERROR_EVENT, DEVICE_ONLINE) of the recovery uevents seen,
    in order, once one with ERROR_EVENT=`until` has arrived."""
    g.wait_guest("grep -q '|%s|' /tmp/uevents 2>/dev/null" % until, timeout)
    out = g.run("cat /tmp/uevents")
    events = []
    for line in out.splitlines():
        parts = line.strip().split("|")
        if len(parts) == 5 and parts[0] == "UEV" and parts[3]:
            pvr.check(parts[1] == "change", "recovery uevent %r" % line)
            events.append((parts[2], parts[3], parts[4]))
    return events


# A request the nvme driver timed out: the stall a recovery must not leave.
NVME_TIMEOUT = re.compile(r"nvme\d+: I/O \d+ (?:\(.*\) )?QID \d+ timeout")


class Writer:
    """tests/progs/io_writer.c running in a guest's background on a region
    of its own: `jobs` O_DIRECT writers (1: one synchronous writer, more:
    that many requests outstanding), each on `blocks` 4 KiB blocks from
    `region_mb` MiB on.  Start it, cause the recovery, then finish()."""

    def __init__(self, g, dev, name, jobs, region_mb, blocks=256, after=200,
                 stall_ms=None):
        """`stall_ms`: log each write that took that long to the kernel
        log (io_writer -s; make bench times recoveries by it)."""
        self.g, self.name, self.after = g, name, after
        self.out = "/tmp/%s.out" % name
        self.mark = "/tmp/%s.mark" % name
        g.run("(io_writer -j %d -b %d -o %d -k %d -m %s %s%s >%s 2>&1 </dev/null &)"
              % (jobs, blocks, region_mb * 1024, after, self.mark,
                 "-s %d " % stall_ms if stall_ms else "", dev, self.out))
        # Every writer has written: requests are in flight from now on.
        g.wait_guest("grep -q 'io_writer: running' %s" % self.out, 60)

    def finish(self, log):
        """Once the recovery is over: let each writer write `after` more
        blocks, wait for the report and check it: no write failed, every
        block reads back as last written.  Returns the longest time one
        write took, in ms."""
        self.g.run("touch %s" % self.mark)
        self.g.wait_guest("grep -q 'io_writer: done' %s" % self.out, 120)
        out = self.g.run("cat %s" % self.out)
        log("%s: %s" % (self.name, out))
        m = re.search(r"io_writer: done writes (\d+) errors (\d+) bad (\d+) "
                      r"max_stall_ms (\d+)", out)
        pvr.check(m is not None, "%s reported %r" % (self.name, out))
        pvr.check(m.group(2) == "0", "%s: writes failed: %r" % (self.name, out))
        pvr.check(m.group(3) == "0", "%s: blocks read back wrong: %r" % (self.name, out))
        after = [int(a) for a in re.findall(r"after_mark (\d+)", out)]
        pvr.check(after and all(a == self.after for a in after),
                  "%s: writes after recovery %r, want %d each"
                  % (self.name, after, self.after))
        return int(m.group(4))


def assert_no_io_timeout(con, start, what):
    """The nvme driver timed no request out since `start` on `con`."""
    m = NVME_TIMEOUT.search(con.console, start)
    pvr.check(m is None, "%s: the nvme driver timed a request out: %r"
              % (what, con.console[m.start():m.start() + 200] if m else ""))
