#!/bin/sh
# The Debian kernel the project builds against and boots in its guests:
# $KVER if set, else the newest version under /lib/modules that has a
# build directory (from linux-headers-amd64).  Never the running kernel.
set -eu
if [ -n "${KVER:-}" ]; then
	echo "$KVER"
	exit 0
fi
for d in $(ls -1 /lib/modules 2>/dev/null | sort -rV); do
	if [ -d "/lib/modules/$d/build" ] && [ -f "/boot/vmlinuz-$d" ]; then
		echo "$d"
		exit 0
	fi
done
echo "kver: no kernel with headers and image; run 'make setup'" >&2
exit 1
