#!/bin/sh
# vhost-recover.ko includes drivers/vhost/vhost.h, which Debian's
# linux-headers packages do not ship.  Take it from Debian's linux-source
# package of the same upload as the kernel we build against, so the
# structures match the vhost.ko that kernel runs, and refuse otherwise.
#
# A kernel built here from source (scripts/build-debug-kernel.sh) has the
# header in the tree it was built from: KDIR/source.
#
# Usage: kernel-private.sh KVER OUTDIR [KDIR]   (OUTDIR/drivers/vhost/vhost.h)
set -eu
kver=$1
out=$2
hdr=$out/drivers/vhost/vhost.h
own=${3:-}/source/drivers/vhost/vhost.h
if [ -n "${3:-}" ] && [ -f "$own" ]; then
	mkdir -p "$(dirname "$hdr")"
	cmp -s "$own" "$hdr" || cp "$own" "$hdr"
	exit 0
fi

img=$(dpkg-query -W -f='${Version}' "linux-image-$kver" 2>/dev/null ||
	dpkg-query -W -f='${Version}' "linux-image-$kver-unsigned" 2>/dev/null || true)
# 6.1.0-57-amd64 and 6.12.117+deb12-amd64 come from linux-source-6.1 and
# linux-source-6.12.
series=$(echo "$kver" | sed -n 's/^\([0-9]*\.[0-9]*\)[.-].*/\1/p')
src_pkg=linux-source-$series
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
