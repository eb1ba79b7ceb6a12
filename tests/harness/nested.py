"""Nested device assignment: L0 (the patched QEMU under TCG) runs L1, a
Debian guest with an IOMMU, vfio, vhost and KVM; L1 runs the patched QEMU
again and assigns L0's emulated nvme to L2 with vfio-pci.  An AER error
injected at the nvme's root port in L0 is a real error for L1's kernel.

Serial lines of L1, all reachable from the harness:
  ttyS0  L1's kernel console (L0's stdio)     Nested.l0
  ttyS1  L1's shell                           Nested.l1
  ttyS2  L2's console (L2's serial, via L1)   Nested.l2
  ttyS3  L2's QEMU monitor (QMP, via L1)      Nested.qmp2

The recovery device of L2 has two back ends (start_l2(backend=...)):
"virtio", QEMU's userspace device virtio-pvrecover-pci, and "vhost",
vhost-recover-pci, whose notices come from vhost-recover.ko in L1's kernel.
vhost-recover.ko traces each notice (queued, sent, answered, timed out,
dropped) and L1's /init streams the trace to L1's console (wait_trace();
the events are listed at pvr.TRACE_LINE); it logs one line per host
recovery or planned reset, and the failures, as "vhost-recover: <BDF>:
<what>" (see MODULE_LINE).
"""

import json
import os
import re
import subprocess
import sys
import time

import pvr

# Loaded by L1's /init.  vhost_recover is only used by the "vhost" back end
# and idles otherwise; tests that need it check that it loaded.
L1_MODULES = ("vfio", "vfio_iommu_type1", "vfio_pci", "kvm_amd", "vhost_recover")
# The nvme as L1 sees it: behind L0's root port rp1.  With a second nvme
# (Nested(nvme2_img=...)) the two are functions 0 and 1 of one
# multi-function device there: one reset domain; more_imgs adds functions
# 2, 3, ... (at most 8 in all), function i at 0000:01:00.i (nvme_bdf(i)).
NVME_BDF = "0000:01:00.0"
NVME2_BDF = "0000:01:00.1"
# L1 (2 vCPUs, 3 GB) and L2 (512 MB) hold all 8: each is one small nvme
# probe, and vfio pins L2's memory once for all (one container).
MAX_FUNCTIONS = 8


def nvme_bdf(i):
    """Function i of L0's nvme device, as L1 sees it."""
    return "0000:01:00.%d" % i

# With Nested(balloon=True): a virtio-balloon-pci behind L0's second root
# port rp2, assigned to L2 as "balloon0" behind L2's rp2 (the same address
# in L1 and L2).  tests/kmod/pvr_msix.ko drives it in L2: a function with
# MSI-X whose interrupt L0's QMP "balloon" command raises.
BALLOON_BDF = "0000:02:00.0"
# The recovery devices, by back end.
RECOVERY_DRIVERS = {"virtio": "virtio-pvrecover-pci", "vhost": "vhost-recover-pci"}
# L0's emulated nvme stands in for a physical one, so it offers what
# physical controllers offer: no Doorbell Buffer Config (NVMe base spec:
# "intended for emulated controllers", which physical ones do not support).
# With the doorbell buffer, a Debian 6.1 guest driver stalls after any
# controller reset that has a request requeued (pvrecover's or its own
# timeout reset alike): it unquiesces its queues before configuring the
# buffer again, and submissions made in between only reach the shadow
# doorbell (see tests/nested/io_in_flight.py).
L0_NVME_PROPS = "dbcs=off"
# Errors pcie_aer_inject_error knows, by the severity the root port's AER
# capability gives them by default (PCIe base spec, uncorrectable error
# severity register), and what L1's AER driver logs for each: 6.1 says
# "Uncorrected (Fatal)", 6.12 "Uncorrectable (Fatal)".
FATAL_ERROR = "MALF_TLP"
NONFATAL_ERROR = "POISON_TLP"
AER_FATAL_LINE = r"AER: Uncorrect(?:ed|able) \(Fatal\) error"
AER_NONFATAL_LINE = r"AER: Uncorrect(?:ed|able) \(Non-Fatal\) error"

# vhost-recover.ko's kernel log lines on L1's console, after
# "vhost-recover: <BDF>: " (the module's contract with the tests and the
# demo, with its tracepoints, pvr.TRACE_LINE; N are numbers).  Each
# notice queued, sent, answered, timed out or dropped is traced; the log
# keeps one line per host recovery or planned reset and the failures:
#   attached as cookie N
#   host recovery finished in N ms, seq N reset-done queued   (rate limited)
#   host recovery failed[ in N ms], seq N perm-failure queued
#   host recovery did not finish in N ms, seq N perm-failure queued
#   host recovery finished late in N ms, seq N reset-done queued
#   seq N timed out                            (rate limited)
#   detached                                   (" during host recovery")
#   seq N dropped, function detached           (queued or sent, unanswered)
#   planned reset ended: guest reset          (the owner reset the guest)
#   host recovery end held, at most N ms (test)     (test_watch_hold_ms)
#   host recovery end released after N ms (test)
# and, about no function: "vhost-recover: guest reset: N notice(s) and N
# planned reset(s) forgotten".
#   planned reset of N function(s), deadline N ms       (the function named)
#   planned reset due: all N function(s) answered in N ms
#   planned reset due: deadline N ms passed (N ms), N of N function(s) answered
#   planned reset done, seq N reset-done queued
#   planned reset failed (error N), seq N perm-failure queued
#   noticeq: unusable buffer (...), given back empty    (no BDF)
# A notice merged into one still queued (spec 7.5) is logged (and traced,
# merged=1) with the seq of the one it joined; reset-done merged into its
# error-detected adds " (merged into state-lost)" (carried=state-lost).
MODULE_LINE = r"vhost-recover: %s: %s"
# The kernel's timestamp at the start of a console line.
KTIME = re.compile(r"^\[\s*(\d+\.\d+)\]")


def require_backend(backend):
    """Fail at once, saying why, when a piece the back end needs is not
    built, rather than after booting two guests."""
    if backend != "vhost":
        return
    host_ko = pvr.kbuild(pvr.l1_kver(), "vhost-recover.ko")
    pvr.check(os.path.exists(host_ko) or "PVR_INITRD_L1" in os.environ,
              "%s is not built (make modules)" % os.path.relpath(host_ko, pvr.TOP))
    try:
        out = subprocess.run([pvr.QEMU, "-device", "help"], capture_output=True,
                             text=True, timeout=60).stdout
    except (OSError, subprocess.TimeoutExpired) as e:
        raise pvr.TestFailure("%s -device help: %s" % (pvr.QEMU, e))
    pvr.check('"%s"' % RECOVERY_DRIVERS[backend] in out,
              "%s has no %s device (QEMU front end not built)"
              % (os.path.relpath(pvr.QEMU, pvr.TOP), RECOVERY_DRIVERS[backend]))


def l1_initrd():
    """L1's image with L2's kernel and image appended under /l2: $PVR_INITRD_L1,
    else the one made of build/k/L1/initramfs-l1.cpio.gz and
    build/k/L2/l2.cpio.gz (the kernel unpacks concatenated archives), kept
    in build/k/L1 while both parts are older."""
    if os.environ.get("PVR_INITRD_L1"):
        return os.environ["PVR_INITRD_L1"]
    l1, l2 = pvr.l1_kver(), pvr.kver()
    parts = [pvr.kbuild(l1, "initramfs-l1.cpio.gz"), pvr.kbuild(l2, "l2.cpio.gz")]
    for p in parts:
        pvr.check(os.path.exists(p), "%s is not built (make initramfs)"
                  % os.path.relpath(p, pvr.TOP))
    out = pvr.kbuild(l1, "initramfs-l1+%s.cpio.gz" % l2)
    if not os.path.exists(out) or any(os.path.getmtime(p) > os.path.getmtime(out)
                                       for p in parts):
        with open(out + ".tmp", "wb") as f:
            for p in parts:
                with open(p, "rb") as src:
                    f.write(src.read())
        os.replace(out + ".tmp", out)
    return out


class Nested:
    def __init__(self, name, nvme_img, nvme2_img=None, l0_trace=(), balloon=False,
                 more_imgs=()):
        """`l0_trace`: QEMU trace events L0 logs to a file of its own (read
        with l0_trace()), e.g. pci_nvme_pci_reset: the emulated nvme was
        really reset.  `nvme2_img` and `more_imgs` are the disks of the
        further functions of the nvme device, in order (function 1, 2,
        ...), each assigned to L2 as hostdev<i>."""
        imgs = [nvme_img] + ([nvme2_img] if nvme2_img else []) + list(more_imgs)
        pvr.check(len(imgs) <= MAX_FUNCTIONS, "%d nvme functions: a device has at most %d"
                  % (len(imgs), MAX_FUNCTIONS))
        self.bdfs = [nvme_bdf(i) for i in range(len(imgs))]
        nvme = "nvme,serial=pvr-nested,drive=nv0,id=nvme0,bus=rp1,%s" % L0_NVME_PROPS
        if len(imgs) > 1:
            nvme += ",addr=0.0,multifunction=on"
        devices = [
            "-device", "intel-iommu,intremap=on,caching-mode=on",
            # Without it L1's root port never reports DLActive and L1's AER
            # link reset fails.
            "-global", "ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off",
            "-device", "pcie-root-port,id=rp1,chassis=1,slot=1",
            "-drive", "file=%s,if=none,id=nv0,format=raw" % nvme_img,
            "-device", nvme,
        ]
        self.l0_trace_path = os.path.join(pvr.workdir(name), "l0-trace.log")
        if l0_trace:
            devices += ["-D", self.l0_trace_path, "-msg", "timestamp=on"]
            for t in l0_trace:
                devices += ["-trace", t]
        self.balloon = balloon
        if balloon:
            devices += ["-device", "pcie-root-port,id=rp2,chassis=2,slot=2",
                        "-device", "virtio-balloon-pci,id=bal0,bus=rp2"]
        for i, img in enumerate(imgs[1:], 1):
            devices += ["-drive", "file=%s,if=none,id=nv%d,format=raw" % (img, i),
                        "-device", "nvme,serial=pvr-nested%d,drive=nv%d,id=nvme%d,"
                                   "bus=rp1,addr=0.%d,%s" % (i + 1, i, i, i, L0_NVME_PROPS)]
        self.l0 = pvr.Guest(name, devices, modules=L1_MODULES, pvrecover=False,
                            mem=3072, machine="q35,kernel-irqchip=split",
                            accel="tcg,thread=multi", cpu="max",
                            initrd=l1_initrd(), kernel=pvr.l1_kver(),
                            append="intel_iommu=on pvr.shell=ttyS1 pvr.trace_hook=1",
                            serials=("l1", "l2", "qmp2"),
                            # stock devices only: the project runs in L1
                            project_devices=False)
        self.log = self.l0.log
        self.dir = self.l0.dir
        self.l0.tag = "l1k"
        self.l1 = pvr.SocketConsole(self.l0.serial_paths[0], self.log, "l1", self.l0)
        self.l2 = pvr.SocketConsole(self.l0.serial_paths[1], self.log, "l2", self.l0)
        self.qmp2 = None
        # The test killed L2's QEMU (wait_l2_qemu_gone): nothing to ask L2.
        self.l2_gone = False
        self.backend = None

    def boot_l1(self, need_modules=(), function_reset=True):
        """Boot L1 and bind the nvme function(s) to vfio-pci.  With
        `function_reset` False, L1's kernel is told the functions have no
        reset of their own (an empty reset_method), as many multi-function
        devices have none: vfio-pci then offers no VFIO_DEVICE_RESET and a
        reset means a hot reset of the bus."""
        self.l1.boot(timeout=180)
        for m in need_modules:
            self.require_l1_module(m)
        for bdf in self.bdfs + ([BALLOON_BDF] if self.balloon else []):
            if not function_reset:
                self.l1.run("echo > /sys/bus/pci/devices/%s/reset_method" % bdf)
            # vfio-pci takes the nvme; L1 loads no nvme driver to race it.
            # A driver built into L1's kernel has one already (6.12's
            # virtio_pci takes the balloon at boot): it lets go first.
            self.l1.run("d=/sys/bus/pci/devices/%s; "
                        "if [ -e $d/driver ]; then echo %s > $d/driver/unbind; fi; "
                        "echo vfio-pci > $d/driver_override && "
                        "echo %s > /sys/bus/pci/drivers_probe" % (bdf, bdf, bdf))
            self.l1.wait_guest("[ -e /sys/bus/pci/drivers/vfio-pci/%s ]" % bdf)

    def start_l2(self, recovery=True, backend="virtio", cover=None,
                 ack_timeout_ms=None, l2_modules=("virtio_pci", "nvme"),
                 pvrecover=True, trace=(), plugged=True, extra=(), props=None, smp=1):
        """Start L2's QEMU in L1 (KVM) with the nvme function(s) assigned
        (hostdev0, hostdev1, ...), and boot L2 with `smp` vCPUs (at most
        L1's 2: more starve each other under TCG and L2 stalls in RCU at
        boot).  With `recovery`, L2 has a
        recovery device covering `cover` (default: every function), of the
        `backend` "virtio" (QEMU's userspace device) or "vhost" (the front
        end of vhost-recover.ko); `ack_timeout_ms` sets its ack-timeout-ms.
        `pvrecover` False boots L2 without pvrecover.ko.  `trace` names
        QEMU trace events to log, with timestamps (see l2_qemu_trace()).
        `plugged` False leaves the nvme function(s) out, for the test to
        hot-plug (device_add vfio-pci ... bus=rp1); `extra` are more
        arguments for L2's QEMU; `props` more properties of the recovery
        device."""
        argv = ["qemu-system-x86_64", "-accel", "kvm", "-cpu", "host",
                "-machine", "q35", "-m", "512", "-smp", str(smp), "-nodefaults",
                "-display", "none", "-no-reboot", "-L", "/usr/share/qemu",
                "-chardev", "serial,id=con,path=/dev/ttyS2", "-serial", "chardev:con",
                "-chardev", "serial,id=qmp,path=/dev/ttyS3",
                "-mon", "chardev=qmp,mode=control",
                "-kernel", "/l2/vmlinuz", "-initrd", "/l2/initramfs.cpio.gz",
                # A quiet boot (guest-init.sh, pvr.loglevel).
                "-append", "console=ttyS0 panic=-1 loglevel=5 pvr.loglevel=7 "
                "pvr.modules=%s%s%s" % (
                    ",".join(l2_modules), "" if pvrecover else " pvr.pvrecover=0",
                    # A KASAN kernel in L2 (KVM nested in TCG) with 5-level
                    # paging reports wild accesses in its first interrupt.
                    " no5lvl" if pvr.DEBUG else ""),
                "-device", "pcie-root-port,id=rp1,chassis=1,slot=1"]
        # L2 sees the functions as L1 does: one device behind one port.
        multi = len(self.bdfs) > 1
        for i, bdf in enumerate(self.bdfs if plugged else ()):
            argv += ["-device", "vfio-pci,host=%s,id=hostdev%d,bus=rp1%s"
                     % (bdf, i, ",addr=0.%d%s" % (i, ",multifunction=on" if i == 0 else "")
                        if multi else "")]
        if self.balloon:
            argv += ["-device", "pcie-root-port,id=rp2,chassis=2,slot=2",
                     "-device", "vfio-pci,host=%s,id=balloon0,bus=rp2" % BALLOON_BDF]
        argv += list(extra)
        if trace:
            argv += ["-msg", "timestamp=on"]
            for t in trace:
                argv += ["-trace", t]
        self.backend = backend if recovery else None
        if recovery:
            if cover is None:
                cover = ["hostdev%d" % i for i in range(len(self.bdfs))]
                if self.balloon:
                    cover.append("balloon0")
            dev = {"driver": RECOVERY_DRIVERS[backend], "id": "pvr0",
                   "cover": list(cover)}
            if ack_timeout_ms is None and pvr.DEBUG:
                # A debug L2 takes seconds over one recovery (KASAN,
                # lockdep, kmemleak under nested TCG): no test that does
                # not ask for a timeout should see one.
                ack_timeout_ms = 60000
            if ack_timeout_ms is not None:
                dev["ack-timeout-ms"] = ack_timeout_ms
            dev.update(props or {})
            argv += ["-device", json.dumps(dev)]
        cmd = " ".join("'%s'" % a for a in argv)
        l1k_mark = self.l0.mark()
        # QEMU must not share the shell's stdin: it makes fd 0 non-blocking.
        self.l1.run("(%s </dev/null >/tmp/l2-qemu.log 2>&1 &)" % cmd)
        try:
            self.qmp2 = pvr.Qmp(self.l0.serial_paths[2], self.log,
                                greeting_timeout=120, tag="qmp2", qemu=self.l0)
        except pvr.TestFailure as e:
            raise pvr.TestFailure("%s; L2's QEMU says: %s" % (e, self.l2_qemu_log()))
        self.l2.boot(timeout=180)
        if self.backend == "vhost":
            # QEMU handed the functions it covers to the module.
            names = ["hostdev%d" % i for i in range(len(self.bdfs))] if plugged else []
            bdfs = list(self.bdfs) if plugged else []
            if self.balloon:
                names.append("balloon0")
                bdfs.append(BALLOON_BDF)
            for name, bdf in zip(names, bdfs):
                if name not in cover:
                    continue
                try:
                    self.wait_module(r"attached as cookie \d+", 60, l1k_mark, bdf=bdf)
                except pvr.TestFailure:
                    raise pvr.TestFailure("vhost-recover.ko never attached %s (no "
                                          "'attached as cookie' line in L1's log); "
                                          "L2's QEMU says: %s" % (bdf, self.l2_qemu_log()))

    def boot(self, function_reset=True, **l2_args):
        """L1 up with the nvme function(s) on vfio-pci, L2 up with their
        disks."""
        backend = l2_args.get("backend", "virtio") if l2_args.get("recovery", True) else None
        require_backend(backend)
        self.boot_l1(need_modules=("vhost_recover",) if backend == "vhost" else (),
                     function_reset=function_reset)
        self.start_l2(**l2_args)
        for i in range(len(self.bdfs)):
            self.l2.wait_guest("[ -b /dev/nvme%dn1 ]" % i, 60)

    # -- planned resets -----------------------------------------------------

    def plan_reset(self, device="hostdev0", deadline_ms=None):
        """Ask L2's QEMU for a planned reset (QMP pvrecover-reset)."""
        args = {"device": device}
        if deadline_ms is not None:
            args["deadline-ms"] = deadline_ms
        return self.qmp2.cmd("pvrecover-reset", **args)

    # -- errors ---------------------------------------------------------------

    def inject(self, error, port="rp1"):
        """An uncorrectable error of the default severity of `error` at L0's
        root port above the nvme (the emulated nvme has no AER capability)."""
        self.l0.qmp.cmd("human-monitor-command",
                        **{"command-line": "pcie_aer_inject_error %s %s" % (port, error)})

    def inject_fatal(self, port="rp1", error=FATAL_ERROR):
        """A fatal uncorrectable error at L0's root port above the nvme."""
        self.inject(error, port)

    def inject_nonfatal(self, port="rp1", error=NONFATAL_ERROR):
        """A non-fatal uncorrectable error: L1 recovers without a reset."""
        self.inject(error, port)

    # -- L1 ---------------------------------------------------------------------

    def l1_module_loaded(self, name):
        return re.search(r"^%s " % name, self.l1.run("cat /proc/modules"), re.M) is not None

    def require_l1_module(self, name):
        if not self.l1_module_loaded(name):
            why = re.findall(r"^.*(?:PVR-MODPROBE-FAILED %s|modprobe: .*%s).*$"
                             % (name, name), self.l0.console, re.M)
            raise pvr.TestFailure("%s is not loaded in L1: %s" % (
                name, "; ".join(l.strip() for l in why) or "no trace of it"))

    def l1_rmmod(self, name, timeout=60):
        """rmmod in L1; returns (exit status, output)."""
        out = self.l1.run("rmmod %s 2>&1; echo rc=$?" % name, timeout=timeout)
        m = re.search(r"rc=(\d+)\s*$", out)
        return int(m.group(1)), out[:m.start()].strip()

    def l1_dmesg(self):
        """L1's kernel log as dmesg prints it ("[ time] text" lines), read
        through L1's shell: everything logged before the call."""
        # The shell's run() drops kernel-log-looking lines: hide the "[".
        out = self.l1.run("dmesg | sed 's/^/K /'", timeout=120)
        return "\n".join(l[2:] for l in out.splitlines() if l.startswith("K "))

    def l2_qemu_pid(self):
        return int(self.l1.value("pidof qemu-system-x86_64", r"(\d+)"))

    def kill_l2_qemu(self, sig="KILL"):
        """Kill L2's QEMU in L1 and wait until it has exited (zombie or
        reaped: its files are closed either way)."""
        pid = self.l2_qemu_pid()
        self.l1.run("kill -%s %d" % (sig, pid))
        self.wait_l2_qemu_gone(pid)

    def arm_kill_on_trace(self, event, pattern):
        """Make L1 SIGKILL L2's QEMU the moment vhost-recover.ko traces
        `event` (e.g. "vhost_recover_notice_queued") with fields matching
        `pattern` (a shell pattern): L1's trace streamer (/init,
        pvr.trace_hook=1) kills at once when it reads the line, with no
        harness round trip in between, and logs "pvr-test: killed L2's
        QEMU" to L1's kernel log right after the kill.  Returns QEMU's
        pid once armed."""
        pid = self.l2_qemu_pid()
        self.l1.run("printf '%%s\\n' '*%s: %s*' "
                    "'kill -KILL %d && echo \"pvr-test: killed L2'\\''s QEMU\" > /dev/kmsg' "
                    "> /tmp/pvr-on-trace.new && mv /tmp/pvr-on-trace.new /tmp/pvr-on-trace"
                    % (event, pattern, pid))
        return pid

    def wait_l2_qemu_gone(self, pid, timeout=60):
        """L2's QEMU has exited: gone, or a zombie with no thread left but
        its leader.  A leader turns zombie while its other threads (vCPUs,
        6.12's vhost workers) are still exiting and holding its files; the
        last of them releases /dev/vhost-recover."""
        self.l1.wait_guest("{ [ ! -e /proc/%d ] || { grep -q '^State:.*Z' /proc/%d/status "
                           "&& [ \"$(ls /proc/%d/task 2>/dev/null | wc -l)\" -le 1 ]; }; }"
                           % (pid, pid, pid), timeout)
        self.l2_gone = True

    def l2_qemu_trace(self, event):
        """(time, text) of every line of trace `event` that L2's QEMU
        logged (start_l2(trace=...)); time is L1's wall clock in seconds,
        the clock of QMP event timestamps."""
        rx = re.compile(r"^\d+@(\d+)\.(\d{6}):%s (.*)$" % re.escape(event), re.M)
        return [(int(m.group(1)) + int(m.group(2)) / 1e6, m.group(3))
                for m in rx.finditer(self.l2_qemu_log())]

    def l0_trace(self, event):
        """How many lines of trace `event` L0 has logged (Nested(l0_trace=))."""
        try:
            with open(self.l0_trace_path) as f:
                return len(re.findall(r"^\d+@\d+\.\d+:%s " % re.escape(event),
                                      f.read(), re.M))
        except FileNotFoundError:
            return 0

    def l2_qemu_log(self):
        try:
            return self.l1.run("cat /tmp/l2-qemu.log", check_rc=False, timeout=30)
        except pvr.TestFailure as e:
            return "(unreadable: %s)" % e

    # -- L1's console ---------------------------------------------------------

    def wait_module(self, what, timeout, start=0, bdf=NVME_BDF):
        """Wait for vhost-recover.ko's line `what` (a regex) about `bdf` on
        L1's console; returns the match."""
        return self.l0.wait_console(MODULE_LINE % (re.escape(bdf), what), timeout, start)

    def wait_trace(self, event, timeout, start=0, bdf=NVME_BDF, **fields):
        """Wait for vhost-recover.ko's trace event `event` (the name
        without "vhost_recover_") about `bdf` on L1's console, its fields
        matching `fields` (pvr.wait_trace); returns a pvr.TraceEvent."""
        return pvr.wait_trace(self.l0, "vhost_recover_" + event, timeout, start,
                              bdf=re.escape(bdf), **fields)

    def traces(self, event, start=0, bdf=NVME_BDF, **fields):
        """vhost-recover.ko's trace events `event` about `bdf`, in order."""
        return pvr.traces(self.l0, "vhost_recover_" + event, start,
                          bdf=re.escape(bdf), **fields)

    def module_lines(self, start=0, bdf=NVME_BDF):
        """vhost-recover.ko's log lines and trace events about `bdf` on L1's
        console (events as "notice_sent seq=N type=..."), in the order of
        L1's clock: they come on two streams."""
        rx = re.compile(MODULE_LINE % (re.escape(bdf), r"([^\n]*)"))
        found = [((self.ktime(m), m.start()), m.group(1).strip())
                 for m in rx.finditer(self.l0.console, start)]
        for ev in self.traces(r"\w+", start, bdf):
            found.append(((ev.time, ev.pos), "%s %s" % (ev.event[len("vhost_recover_"):],
                                             " ".join("%s=%s" % kv for kv in
                                                      ev.fields.items() if kv[0] != "bdf"))))
        return [t for _, t in sorted(found)]

    def ktime(self, m):
        """L1's kernel timestamp (seconds) of the console line holding the
        match `m` of Nested.l0, or of the trace event `m`."""
        if isinstance(m, pvr.TraceEvent):
            return m.time
        text = self.l0.console
        line = text[text.rfind("\n", 0, m.start()) + 1:]
        t = KTIME.match(line)
        if t is None:
            # A log record written into a trace line (pvr.KLOG_INSIDE): its
            # timestamp is the last one before the match.
            ts = re.findall(r"\[\s*(\d+\.\d+)\]", line[:m.start() - len(text) + len(line)])
            pvr.check(ts, "L1 console line without a timestamp: %r"
                      % line.split("\n", 1)[0])
            return float(ts[-1])
        return float(t.group(1))

    def line_time(self, tag, text):
        """Host time at which a console line holding `text` was logged."""
        with open(self.l0.logf.name) as f:
            for line in f:
                t, _, rest = line.strip().partition(" ")
                if rest.startswith(tag + " ") and text in rest:
                    return float(t)
        raise pvr.TestFailure("line %r of %s not logged" % (text, tag))

    def l2_answers(self):
        """Whether L2 can answer its shell: its QEMU runs, and the VM is not
        paused (tests in which QEMU pauses it on purpose, or kills it)."""
        if not self.qmp2 or self.qmp2.closed or self.l2_gone:
            return False
        try:
            return self.qmp2.cmd("query-status", timeout=10)["status"] == "running"
        except (pvr.TestFailure, OSError):
            return False

    def debug_teardown(self):
        """make check-debug: L2's leaks, then L2's QEMU stopped (it holds
        vhost-recover.ko) and L1's leaks, each after our modules are
        unloaded."""
        if "PVR-READY" in self.l2.console and self.l2_answers():
            self.l2.kmemleak()
        if self.l0.proc.poll() is None and "PVR-READY" in self.l1.console:
            try:
                self.l1.run("killall qemu-system-x86_64; i=0; while pidof qemu-system-x86_64 "
                            ">/dev/null && [ $i -lt 300 ]; do i=$((i+1)); usleep 100000; done",
                            timeout=60, check_rc=False)
            except pvr.TestFailure as e:
                pvr.debug_findings.append("l1: L2's QEMU would not stop: %s" % e)
                return
            self.l1.kmemleak()

    def close(self):
        # L0's QEMU is stopped whatever goes wrong before: one left running
        # would slow every test after it.
        try:
            if sys.exc_info()[0] and self.l0.proc.poll() is None:
                # The test is failing: was it a timer interrupt TCG lost?
                # L2's timers are hrtimers of L1's KVM, so a CPU of L1
                # that lost its own stalls L2 as well; look there first.
                if not self.l1.probe_lost_timer() and self.l2_answers():
                    self.l2.probe_lost_timer()
            if pvr.DEBUG:
                self.debug_teardown()
            for c in (self.l1, self.l2):
                c.close()
            if self.qmp2:
                self.qmp2.close()
        finally:
            self.l0.close()


def l2_running(n):
    """L2 runs and was never paused."""
    st = n.qmp2.cmd("query-status")
    pvr.check(st["status"] == "running", "L2 status %r" % st)
    stops = [e for e in n.qmp2.events if e["event"] == "STOP"]
    pvr.check(not stops, "L2 was paused: %r" % stops)


def fatal_answers(n, ev_mark, timeout=120, device="hostdev0"):
    """L2's answers to the error-detected and reset-done of a fatal error
    injected after `ev_mark` (an index into n.qmp2.events): the data of
    both PVRECOVER_ACK events."""
    _, prep = n.qmp2.wait_event("PVRECOVER_ACK", timeout, ev_mark, device=device,
                                notice="error-detected")
    _, done = n.qmp2.wait_event("PVRECOVER_ACK", timeout, ev_mark, device=device,
                                notice="reset-done")
    return prep["data"], done["data"]


def l1_answers(n, within=15):
    """L1's shell answers a command within `within` seconds: nothing in
    L1 is blocked.  Returns the seconds it took."""
    t = time.monotonic()
    out = n.l1.run("echo alive", timeout=within)
    took = time.monotonic() - t
    pvr.check(out == "alive", "L1's shell answered %r" % out)
    return took
