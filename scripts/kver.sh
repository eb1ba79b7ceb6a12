#!/bin/sh
# The Debian kernels the project builds against and boots in its guests.
#
#   kver.sh          $KVER if set (refused unless of a supported series),
#                    else the newest installed kernel of the default series
#   kver.sh --all    the matrix: the newest installed kernel of every
#                    supported series, default first, one per line
#
# A kernel counts as installed with its image and its headers.  Never the
# running kernel, and never whatever kernel happens to be newest:
# installing another kernel's headers must not change what "make check"
# tests.
#
# $PVR_KROOT names a private root holding a kernel built here instead
# (boot/vmlinuz-KVER and lib/modules/KVER, as scripts/build-debug-kernel.sh
# installs it): the kernels are then looked up there.
set -eu
root=${PVR_KROOT:-}
# Series the modules are built and tested on, the default first: Debian
# 12's kernel and Debian 13's (in bookworm-security for Debian 12).
SUPPORTED="6.1 6.12"
default=${SUPPORTED%% *}

series() {	# 6.1.0-57-amd64 -> 6.1, 6.12.117+deb12-amd64 -> 6.12
	echo "$1" | sed -n 's/^\([0-9]*\.[0-9]*\)[.-].*/\1/p'
}

newest() {	# series
	for d in $(ls -1 "$root/lib/modules" 2>/dev/null | sort -rV); do
		if [ "$(series "$d")" = "$1" ] && [ -d "$root/lib/modules/$d/build" ] &&
		   [ -f "$root/boot/vmlinuz-$d" ]; then
			echo "$d"
			return 0
		fi
	done
	echo "kver: no Linux $1 kernel with headers and image${root:+ in $root}; run 'make setup'" >&2
	return 1
}

if [ "${1:-}" = --all ]; then
	for s in $SUPPORTED; do
		newest "$s"
	done
	exit 0
fi
if [ -n "${KVER:-}" ]; then
	s=$(series "$KVER")
	for ok in $SUPPORTED; do
		if [ "$s" = "$ok" ]; then
			echo "$KVER"
			exit 0
		fi
	done
	echo "kver: $KVER is Linux ${s:-?}; supported: $SUPPORTED" >&2
	exit 1
fi
newest "$default"
