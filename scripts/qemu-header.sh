#!/bin/sh
# Print one of the project's uapi headers the way QEMU carries Linux
# headers: what "make headers_install" and then QEMU's
# scripts/update-linux-headers.sh would make of it.
#
#   virtio_pvrecover.h -> include/standard-headers/linux/  (the wire format,
#       needed by device emulation on every host: cp_portable rewrites the
#       kernel types and includes)
#   vhost_recover.h    -> linux-headers/linux/  (host ioctls, Linux hosts
#       only: copied as installed, like vhost.h and vfio.h)
#
# The QEMU series must carry exactly this; scripts/lint.sh checks it.
#
#   qemu-header.sh [NAME]          print the rendering (NAME defaults to
#                                  virtio_pvrecover.h)
#   qemu-header.sh --diff [NAME]   compare it with standard input instead
#                                  (exit 1 if it differs)
#   qemu-header.sh --list          "NAME PATH-IN-QEMU" for every header
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)

list() {
	echo "virtio_pvrecover.h include/standard-headers/linux/virtio_pvrecover.h"
	echo "vhost_recover.h linux-headers/linux/vhost_recover.h"
}

case "${1:-}" in
--list)
	list
	exit
	;;
--diff)
	shift
	tmp=$(mktemp)
	trap 'rm -f "$tmp"' EXIT
	"$0" "$@" > "$tmp"
	diff -u "$tmp" -
	exit
	;;
esac

name=${1:-virtio_pvrecover.h}
dest=$(list | awk -v n="$name" '$1 == n { print $2 }')
if [ -z "$dest" ]; then
	echo "qemu-header.sh: unknown header $name" >&2
	exit 2
fi
src=$top/include/uapi/linux/$name

# headers_install strips __KERNEL__ sections with unifdef; none of ours
# has one, so that step is a no-op we refuse to pretend to do.
if grep -q '__KERNEL__' "$src"; then
	echo "qemu-header.sh: $name uses __KERNEL__: unifdef needed" >&2
	exit 2
fi

# The sed of the kernel's scripts/headers_install.sh.
headers_install() {
	sed -E -e '
		s/([[:space:](])(__user|__force|__iomem)[[:space:]]/\1/g
		s/__attribute_const__([[:space:]]|$)/\1/g
		s@^#include <linux/compiler(|_types).h>@@
		s/(^|[^a-zA-Z0-9])__packed([^a-zA-Z0-9_]|$)/\1__attribute__((packed))\2/g
		s/(^|[[:space:](])(inline|asm|volatile)([[:space:](]|$)/\1__\2__\3/g
		s@#(ifndef|define|endif[[:space:]]*/[*])[[:space:]]*_UAPI@#\1 @
	' "$1"
}

# What cp_portable in QEMU's update-linux-headers.sh changes in ours.
cp_portable() {
	sed -e 's/__u\([0-9][0-9]*\)/uint\1_t/g' \
	    -e 's/__s\([0-9][0-9]*\)/int\1_t/g' \
	    -e 's/__le\([0-9][0-9]*\)/uint\1_t/g' \
	    -e 's/__be\([0-9][0-9]*\)/uint\1_t/g' \
	    -e 's/<linux\/\([^>]*\)>/"standard-headers\/linux\/\1"/'
}

case $dest in
include/standard-headers/*)
	headers_install "$src" | cp_portable
	;;
linux-headers/*)
	headers_install "$src"
	;;
esac
