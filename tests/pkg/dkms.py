"""The DKMS packages of `make deb` (scripts/build-debs.sh), installed on
this build machine with apt: each builds and installs its module for every
kernel of the matrix (scripts/kver.sh --all), with its kernel's vermagic
and its autoload aliases in modules.alias/modules.devname.

Packages of an earlier run are purged first, so the install really builds
(about 80 s for both packages and both kernels); the packages stay
installed afterwards.  Runs on the build machine, no QEMU."""

import filecmp
import os
import subprocess

import pvr

NAME = "pkg/dkms"
TOP = pvr.TOP
DEB_DIR = os.path.join(TOP, "build", "deb")

# package -> (dkms module, kernel module name, module file, aliases,
# modules.devname line).  pvrecover: the virtio modalias of device ID 63;
# vhost-recover: /dev/vhost-recover, misc char 10:243.
PACKAGES = {
    "pvrecover-dkms": ("pvrecover", "pvrecover", "pvrecover.ko",
                       ["virtio:d0000003Fv*"], None),
    "vhost-recover-dkms": ("vhost-recover", "vhost_recover", "vhost-recover.ko",
                           ["devname:vhost-recover", "char-major-10-243"],
                           "vhost_recover vhost-recover c10:243"),
}
APT_ENV = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
APT_OPTS = ["-y", "-q", "-o", "DPkg::Lock::Timeout=120"]


class Log:
    def __init__(self):
        self.path = os.path.join(pvr.workdir(NAME), "log.txt")
        self.f = open(self.path, "w")

    def run(self, argv, timeout, env=None):
        """(exit status, output) of a command; both go to the log."""
        self.f.write("$ %s\n" % " ".join(argv))
        self.f.flush()
        try:
            p = subprocess.run(argv, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True,
                               timeout=timeout, env=env)
        except subprocess.TimeoutExpired as e:
            out = e.stdout or ""
            if isinstance(out, bytes):
                out = out.decode(errors="replace")
            self.f.write(out + "\n(timed out after %d s)\n" % timeout)
            self.f.flush()
            raise pvr.TestFailure("%s: no result after %d s; its output: %s"
                                  % (" ".join(argv), timeout, tail(out)))
        self.f.write(p.stdout + "(exit status %d)\n" % p.returncode)
        self.f.flush()
        return p.returncode, p.stdout

    def close(self):
        self.f.close()


def tail(text, n=25):
    lines = [l for l in text.splitlines() if l.strip()
             and "readelf: Warning" not in l]
    return "\n    " + "\n    ".join(lines[-n:]) if lines else "(none)"


def installed_version(pkg):
    p = subprocess.run(["dpkg-query", "-W", "-f=${db:Status-Status} ${Version}", pkg],
                       capture_output=True, text=True)
    word = p.stdout.split()
    return word[1] if p.returncode == 0 and len(word) == 2 and word[0] == "installed" else None


def build_failures(module, version):
    """What dkms kept of a failed build: the errors of its make.log."""
    log = "/var/lib/dkms/%s/%s/build/make.log" % (module, version)
    if not os.path.exists(log):
        return ""
    with open(log, errors="replace") as f:
        errors = [l.rstrip() for l in f if "error" in l.lower()]
    return "\n  %s (errors):%s" % (log, tail("\n".join(errors), 8))


def run():
    log = Log()
    try:
        check(log)
    finally:
        log.close()


def check(log):
    rc, out = log.run([os.path.join(TOP, "scripts", "kver.sh"), "--all"], 30)
    kernels = out.split()
    pvr.check(rc == 0 and kernels, "scripts/kver.sh --all: %s" % tail(out))
    rc, out = log.run([os.path.join(TOP, "scripts", "build-debs.sh"), "--version"], 30)
    pvr.check(rc == 0 and out.strip(), "build-debs.sh --version: %s" % tail(out))
    version = out.strip()
    debs = [os.path.join(DEB_DIR, "%s_%s_all.deb" % (p, version)) for p in PACKAGES]
    if not all(os.path.exists(d) for d in debs):
        rc, out = log.run([os.path.join(TOP, "scripts", "build-debs.sh")], 180)
        pvr.check(rc == 0, "scripts/build-debs.sh failed: %s" % tail(out))
        missing = [d for d in debs if not os.path.exists(d)]
        pvr.check(not missing, "build-debs.sh made no %s" % " ".join(missing))

    # A fresh installation, so that apt really builds the modules.
    old = [p for p in PACKAGES if installed_version(p)]
    if old:
        rc, out = log.run(["apt-get", "purge"] + APT_OPTS + old, 120, APT_ENV)
        pvr.check(rc == 0, "apt-get purge %s failed: %s" % (" ".join(old), tail(out)))
    rc, out = log.run(["apt-get", "install"] + APT_OPTS + debs, 240, APT_ENV)
    if rc != 0:
        raise pvr.TestFailure(
            "apt-get install of %s failed (exit status %d): %s%s"
            % (" ".join(os.path.basename(d) for d in debs), rc, tail(out),
               "".join(build_failures(m[0], version) for m in PACKAGES.values())))
    for p in PACKAGES:
        v = installed_version(p)
        pvr.check(v == version, "%s is %s after apt-get install, not %s" % (p, v, version))

    problems = []
    _, status = log.run(["dkms", "status"], 60)
    for pkg, (module, modname, kofile, aliases, devname) in PACKAGES.items():
        for k in kernels:
            where = "%s on %s" % (module, k)
            prefix = "%s/%s, %s, " % (module, version, k)
            lines = [l for l in status.splitlines() if l.startswith(prefix)]
            if not any(l.split(": ", 1)[-1].startswith("installed") for l in lines):
                problems.append("%s: dkms status says %r, not installed%s"
                                % (where, lines[0] if lines else "nothing",
                                   build_failures(module, version)))
                continue
            # The module modprobe finds for this kernel is the DKMS one.
            rc, path = log.run(["modinfo", "-k", k, "-n", modname], 30)
            path = path.strip()
            if rc or not path.startswith("/lib/modules/%s/updates/dkms/%s" % (k, kofile)):
                problems.append("%s: modprobe would load %r, not DKMS's "
                                "updates/dkms/%s" % (where, path, kofile))
                continue
            rc, vermagic = log.run(["modinfo", "-F", "vermagic", path], 30)
            got = vermagic.split()[0] if vermagic.split() else ""
            if rc or got != k:
                problems.append("%s: %s has vermagic %r" % (where, path, vermagic.strip()))
            rc, have = log.run(["modinfo", "-F", "alias", path], 30)
            for a in aliases:
                if a not in have.split():
                    problems.append("%s: %s lacks alias %s (has: %s)"
                                    % (where, path, a, " ".join(have.split()) or "none"))
            built = os.path.join("/var/lib/dkms", module, version, k, os.uname().machine,
                                 "module")
            kept = os.path.join(built, os.path.basename(path))
            if not (os.path.exists(kept) and filecmp.cmp(path, kept, shallow=False)):
                problems.append("%s: %s is not the module DKMS built, %s"
                                % (where, path, kept))
            # What udev and modprobe read, after dkms' depmod.
            with open("/lib/modules/%s/modules.alias" % k) as f:
                table = f.read().splitlines()
            for a in aliases:
                if "alias %s %s" % (a, modname) not in table:
                    problems.append("%s: modules.alias has no 'alias %s %s'"
                                    % (where, a, modname))
            if devname:
                with open("/lib/modules/%s/modules.devname" % k) as f:
                    if devname not in f.read().splitlines():
                        problems.append("%s: modules.devname has no '%s'" % (where, devname))
    pvr.check(not problems, "\n".join(problems))
