#!/bin/sh
# Install everything the build and the tests need, idempotently, from the
# machine's configured Debian (bookworm) archive.  QEMU's source comes
# later, from scripts/build-qemu.sh, through a private apt state.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)

pkgs="
	build-essential binutils git make gcc perl python3 ca-certificates xz-utils
	cpio gzip kmod busybox-static
	linux-image-amd64 linux-headers-amd64 linux-source-6.1
	sparse
	libglib2.0-dev libpixman-1-dev libslirp-dev ninja-build python3-venv
	pkg-config dpkg-dev
	seabios ipxe-qemu qemu-system-data
"

missing=""
for p in $pkgs; do
	s=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$s" = installed ] || missing="$missing $p"
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "setup: need root to install:$missing" >&2
		exit 1
	fi
	echo "setup: installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get -q update >/dev/null
	# shellcheck disable=SC2086
	apt-get -q -y install --no-install-recommends $missing >/dev/null
fi

# The kernel's checkpatch.pl and kernel-doc, from Debian's linux-source
# package.
cp_dir=$top/build/checkpatch
if [ ! -x "$cp_dir/checkpatch.pl" ] || [ ! -f "$cp_dir/kernel-doc" ]; then
	tarball=$(ls /usr/src/linux-source-6.1.tar.* | head -n 1)
	mkdir -p "$cp_dir"
	tar -C "$cp_dir" --strip-components=2 -xf "$tarball" \
		linux-source-6.1/scripts/checkpatch.pl \
		linux-source-6.1/scripts/kernel-doc \
		linux-source-6.1/scripts/spelling.txt \
		linux-source-6.1/scripts/const_structs.checkpatch
fi
"$top/scripts/kver.sh" >/dev/null
