#!/bin/sh
# The Debian kernel the project builds against and boots in its guests:
# $KVER if set, else the newest installed kernel (image and headers) of
# the default series.  Never the running kernel, and never whatever
# kernel happens to be newest: installing another kernel's headers must
# not change what "make check" tests.  A kernel of a series the project
# does not support is refused.
set -eu
# Series the modules are built and tested on, the default first.
SUPPORTED="6.1"
default=${SUPPORTED%% *}

series() {	# 6.1.0-57-amd64 -> 6.1
	echo "$1" | sed -n 's/^\([0-9]*\.[0-9]*\)[.-].*/\1/p'
}

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
for d in $(ls -1 /lib/modules 2>/dev/null | sort -rV); do
	if [ "$(series "$d")" = "$default" ] && [ -d "/lib/modules/$d/build" ] &&
	   [ -f "/boot/vmlinuz-$d" ]; then
		echo "$d"
		exit 0
	fi
done
echo "kver: no Linux $default kernel with headers and image; run 'make setup'" >&2
exit 1
