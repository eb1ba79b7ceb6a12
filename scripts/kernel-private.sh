#!/bin/sh
# vhost-recover.ko includes drivers/vhost/vhost.h, which Debian's
# linux-headers packages do not ship.  Take it from Debian's linux-source
# package of the same upload as the kernel we build against, so the
# structures match the vhost.ko that kernel runs, and refuse otherwise.
#
# Usage: kernel-private.sh KVER OUTDIR   (OUTDIR/drivers/vhost/vhost.h)
set -eu
kver=$1
out=$2
hdr=$out/drivers/vhost/vhost.h

img=$(dpkg-query -W -f='${Version}' "linux-image-$kver" 2>/dev/null ||
	dpkg-query -W -f='${Version}' "linux-image-$kver-unsigned" 2>/dev/null || true)
src_pkg=$(dpkg-query -W -f='${Package}\n' 'linux-source-*' 2>/dev/null |
	grep -E '^linux-source-[0-9.]+$' | sort -V | tail -n 1)
src=$(dpkg-query -W -f='${Version}' "$src_pkg" 2>/dev/null || true)
if [ -z "$img" ] || [ "$img" != "$src" ]; then
	echo "kernel-private: linux-image-$kver is '$img' but $src_pkg is '$src';" \
		"install matching versions (make setup)" >&2
	exit 1
fi
stamp=$out/.version
if [ -f "$hdr" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$kver $src" ]; then
	exit 0
fi
tarball=$(ls "/usr/src/$src_pkg.tar."* | head -n 1)
mkdir -p "$out"
tar -C "$out" --strip-components=1 -xf "$tarball" "$src_pkg/drivers/vhost/vhost.h"
echo "$kver $src" > "$stamp"
