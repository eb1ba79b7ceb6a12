#!/bin/sh
# DKMS PRE_BUILD step of vhost-recover-dkms (runs in the DKMS build tree).
#
# vhost-recover.ko includes drivers/vhost/vhost.h, which Debian's
# linux-headers packages do not ship.  Take it from Debian's linux-source
# package of the kernel's series (linux-source-6.1, linux-source-6.12),
# and only if that package is of the same upload as the kernel's image, so
# the structures match the vhost.ko that kernel runs (as the repository's
# scripts/kernel-private.sh does).
#
# DKMS does not stop on a failed PRE_BUILD step, so a failure also leaves
# a vhost.h that is one #error with the reason: the build then fails with
# that reason in its make.log, never with a header of another kernel.
#
# Usage: vhost-header.sh KERNELVER
set -u
kver=${1:?usage: vhost-header.sh KERNELVER}
out=build/kernel-private/drivers/vhost
hdr=$out/vhost.h

fail() {
	echo "vhost-recover-dkms: cannot build for $kver: $*" >&2
	mkdir -p "$out"
	printf '#error "vhost-recover-dkms: cannot build for %s: %s"\n' \
		"$kver" "$*" >"$hdr"
	exit 1
}

# 6.1.0-57-amd64 and 6.12.117+deb12-amd64 come from linux-source-6.1
# and linux-source-6.12.
series=$(echo "$kver" | sed -n 's/^\([0-9]*\.[0-9]*\)[.-].*/\1/p')
[ -n "$series" ] || fail "cannot tell the kernel's series"
src_pkg=linux-source-$series
installed() {	# package: its version if installed
	dpkg-query -W -f='${db:Status-Status} ${Version}\n' "$1" 2>/dev/null |
		sed -n 's/^installed //p'
}
img=$(installed "linux-image-$kver")
[ -n "$img" ] || img=$(installed "linux-image-$kver-unsigned")
src=$(installed "$src_pkg")
[ -n "$img" ] || fail "no Debian package linux-image-$kver is installed, so no linux-source package can be matched to it"
[ -n "$src" ] || fail "$src_pkg is not installed; it carries drivers/vhost/vhost.h: apt install $src_pkg=$img"
[ "$src" = "$img" ] || fail "$src_pkg is $src but linux-image-$kver is $img; vhost.h must come from the same upload: install $src_pkg=$img, or the kernel of $src_pkg $src"
tarball=/usr/src/$src_pkg.tar.xz
[ -f "$tarball" ] || fail "$tarball is missing (reinstall $src_pkg)"

mkdir -p "$out"
rm -f "$hdr"
if ! tar -xJf "$tarball" --occurrence -O "$src_pkg/drivers/vhost/vhost.h" >"$hdr.tmp" ||
   [ ! -s "$hdr.tmp" ]; then
	rm -f "$hdr.tmp"
	fail "could not extract $src_pkg/drivers/vhost/vhost.h from $tarball"
fi
mv "$hdr.tmp" "$hdr"
echo "vhost-recover-dkms: drivers/vhost/vhost.h for $kver from $src_pkg $src"
