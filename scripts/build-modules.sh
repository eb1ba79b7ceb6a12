#!/bin/sh
# Build the kernel modules (pvrecover.ko, vhost-recover.ko and the test
# modules) for one Debian kernel, in a tree of its own, so that the
# kernels of the matrix never overwrite each other's objects:
#
#   build/k/KVER/src/{guest/pvrecover,host/vhost-recover,tests/kmod}
#
# holds links to the sources laid out as in the repository (the Kbuild
# files' relative include paths work unchanged), and
# build/k/KVER/src/build/kernel-private this kernel's private vhost header.
# The modules land in build/k/KVER/*.ko.
#
# Usage: build-modules.sh [--clean] KVER [MAKE ARGS...]
#   --clean     rebuild every object (for W=1 and sparse: make lint)
#   MAKE ARGS   e.g. W=1 C=2 CHECK=sparse KCFLAGS=-Werror
#
# With $PVR_KROOT the kernel is the one built here in that private root
# (scripts/kver.sh).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
clean=0
if [ "${1:-}" = --clean ]; then
	clean=1
	shift
fi
kver=$(KVER=$1 "$top/scripts/kver.sh")
shift
out=$top/build/k/$kver
src=$out/src
kdir=${PVR_KROOT:-}/lib/modules/$kver/build

"$top/scripts/kernel-private.sh" "$kver" "$src/build/kernel-private" "$kdir"
ln -sfn "$top/include" "$src/include"
for d in guest/pvrecover tests/kmod host/vhost-recover; do
	mkdir -p "$src/$d"
	# Links to what is in the repository now; links whose source is gone
	# are dropped.
	for l in "$src/$d"/*.[ch] "$src/$d/Kbuild"; do
		[ -L "$l" ] && [ ! -e "$l" ] && rm -f "$l"
	done
	for f in "$top/$d"/*.[ch] "$top/$d/Kbuild"; do
		case $f in *.mod.c) continue ;; esac
		[ -f "$f" ] && ln -sfn "$f" "$src/$d/$(basename "$f")"
	done
	[ $clean = 0 ] || make -s -C "$kdir" M="$src/$d" clean
	make -s -C "$kdir" M="$src/$d" "$@" modules
	for k in "$src/$d"/*.ko; do
		cp -p "$k" "$out/"
	done
done
