#!/bin/sh
# Print include/uapi/linux/virtio_pvrecover.h the way QEMU carries Linux
# headers in include/standard-headers/: what "make headers_install" and
# then QEMU's scripts/update-linux-headers.sh (cp_portable) would make of it.
# The QEMU series must carry exactly this; scripts/lint.sh checks it.
#
# With --diff, compare that with standard input instead (exit 1 if differs).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
if [ "${1:-}" = --diff ]; then
	tmp=$(mktemp)
	trap 'rm -f "$tmp"' EXIT
	"$0" > "$tmp"
	diff -u "$tmp" -
	exit
fi
sed -e 's/_UAPI_LINUX_/_LINUX_/' \
    -e 's/__u\([0-9][0-9]*\)/uint\1_t/g' \
    -e 's/__s\([0-9][0-9]*\)/int\1_t/g' \
    -e 's/__le\([0-9][0-9]*\)/uint\1_t/g' \
    -e 's/__be\([0-9][0-9]*\)/uint\1_t/g' \
    -e 's/<linux\/\([^>]*\)>/"standard-headers\/linux\/\1"/' \
    "$top/include/uapi/linux/virtio_pvrecover.h"
