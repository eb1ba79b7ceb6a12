"""The test images built from the modules DKMS installed (pkg/dkms runs
first and leaves pvrecover-dkms and vhost-recover-dkms installed): what
a guest image builder and a host admin get from the packages recovers a
device as the modules built in the tree do.

For every kernel of the matrix, single/nvme-state-lost runs in a guest
whose pvrecover.ko is the one in /lib/modules/KVER/updates/dkms; then
nested/aer-fatal-nvme runs with both of L1's and L2's modules from there,
L1 (vhost-recover.ko) on the newest kernel and L2 on the default, as the
nested suite runs.  The test-only modules still come from the tree."""

import os
import shutil
import subprocess

import aer_fatal_nvme
import nvme_state_lost
import pvr

NAME = "pkg/dkms-images"
MODULES = ("pvrecover", "vhost-recover")


def dkms_modules(k, into):
    """Copy the DKMS-installed modules of kernel k into `into` as plain
    .ko files (Debian compresses 6.12's), with the tree's test modules."""
    os.makedirs(into, exist_ok=True)
    for m in MODULES:
        base = "/lib/modules/%s/updates/dkms/%s.ko" % (k, m)
        dest = os.path.join(into, m + ".ko")
        if os.path.exists(base):
            shutil.copyfile(base, dest)
        elif os.path.exists(base + ".xz"):
            with open(dest, "wb") as f:
                subprocess.run(["xz", "-dc", base + ".xz"], stdout=f, check=True)
        else:
            raise pvr.TestFailure("%s(.xz) is not installed: run pkg/dkms first "
                                  "(it installs the packages)" % base)
    for t in ("pvr_badguest.ko", "pvr_leak.ko", "pvr_msix.ko"):
        shutil.copyfile(pvr.kbuild(k, t), os.path.join(into, t))


def images(k, d):
    mods = os.path.join(d, "modules")
    dkms_modules(k, mods)
    p = subprocess.run([os.path.join(pvr.TOP, "tests", "harness", "build-images.sh"),
                        "-m", mods, "-o", d, k], capture_output=True, text=True)
    pvr.check(p.returncode == 0, "build-images.sh %s: %s" % (k, p.stderr.strip()))


def run_as(mod, name, env):
    """Run another test's steps under its own name, with these images."""
    saved = {v: os.environ.get(v) for v in env}
    base = mod.NAME
    os.environ.update(env)
    mod.NAME = name
    try:
        mod.run()
    finally:
        mod.NAME = base
        for v, old in saved.items():
            if old is None:
                os.environ.pop(v, None)
            else:
                os.environ[v] = old


def run():
    kvers = pvr.kvers()
    dirs = {}
    for k in kvers:
        dirs[k] = os.path.join(pvr.workdir(NAME), k)
        images(k, dirs[k])
    for k in kvers:
        run_as(nvme_state_lost, "%s/nvme-state-lost@%s" % (NAME, pvr.series(k)),
               {"PVR_KVER": k, "PVR_L1_KVER": k,
                "PVR_INITRD": os.path.join(dirs[k], "initramfs.cpio.gz")})
    l1, l2 = kvers[-1], kvers[0]
    l1_initrd = os.path.join(pvr.workdir(NAME), "l1+l2.cpio.gz")
    with open(l1_initrd, "wb") as f:
        for part in (os.path.join(dirs[l1], "initramfs-l1.cpio.gz"),
                     os.path.join(dirs[l2], "l2.cpio.gz")):
            with open(part, "rb") as src:
                shutil.copyfileobj(src, f)
    run_as(aer_fatal_nvme, "%s/aer-fatal-nvme@l1-%s+l2-%s"
           % (NAME, pvr.series(l1), pvr.series(l2)),
           {"PVR_KVER": l2, "PVR_L1_KVER": l1, "PVR_INITRD_L1": l1_initrd})
