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
	dkms dh-dkms debhelper fakeroot
	seabios ipxe-qemu qemu-system-data
"

need_who=setup
. "$top/scripts/apt-need.sh"

# shellcheck disable=SC2086
need $pkgs

# The second kernel of the matrix (scripts/kver.sh): Debian 13's 6.12,
# which Debian 12 carries in bookworm-security.  Image, headers and source
# of one upload: the one linux-source-6.12 is at, installed or else the
# archive's candidate (6.12.117-1~deb12u1 is ABI 6.12.117+deb12).
v612=$(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null || true)
if [ -z "$v612" ]; then
	[ -n "$updated" ] || { apt-get -q update >/dev/null; updated=1; }
	v612=$(apt-cache policy linux-source-6.12 | sed -n 's/^ *Candidate: //p')
fi
abi612=$(echo "$v612" | sed -n 's/^\(6\.12\.[0-9]*\)-.*~deb\([0-9]*\)u[0-9]*$/\1+deb\2/p')
if [ -z "$abi612" ]; then
	echo "setup: no linux-source-6.12 in the configured archive ('$v612')" >&2
	exit 1
fi
need linux-source-6.12 "linux-image-$abi612-amd64" "linux-headers-$abi612-amd64"

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
"$top/scripts/kver.sh" --all >/dev/null
