#!/bin/sh
# Build QEMU 10.0 from Debian's source package with the project's patch
# series (qemu-patches/*.patch) applied by "git am".
#
# Everything lives under build/: the downloaded source package, a git tree
# of the Debian-patched source (tag "debian-base"), the build directory and
# a stamp.  The series is re-applied and QEMU rebuilt only when the patches
# or this script change; otherwise this exits at once.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
b=$top/build
src=$b/qemu-src
out=$b/qemu
stamp=$out/.stamp

source_only=0
[ "${1:-}" = --source-only ] && source_only=1

want=$(cat "$0" "$top"/qemu-patches/*.patch 2>/dev/null | sha256sum | cut -d' ' -f1)
if [ -x "$out/qemu-system-x86_64" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
	exit 0
fi
# --source-only: just make sure a Debian-patched source tree exists (for
# QEMU's checkpatch.pl); never touch a tree that is already there.
if [ $source_only = 1 ] && [ -x "$src/scripts/checkpatch.pl" ]; then
	exit 0
fi

mkdir -p "$b/dl" "$b/pydeps"

# 1. Source package and the Python build tools the +ds tarball lacks.
if [ ! -f "$b/dl/.done" ]; then
	(cd "$b/dl" && "$top/scripts/apt-private.sh" source qemu &&
	 "$top/scripts/apt-private.sh" download meson python3-pycotap)
	touch "$b/dl/.done"
fi
if [ ! -d "$b/pydeps/usr" ]; then
	for deb in "$b"/dl/meson_*.deb "$b"/dl/python3-pycotap_*.deb; do
		dpkg-deb -x "$deb" "$b/pydeps"
	done
fi
PYTHONPATH=$b/pydeps/usr/lib/python3/dist-packages
export PYTHONPATH

# 2. A git tree of the Debian-patched source, made once.
if ! git -C "$src" rev-parse -q --verify debian-base >/dev/null 2>&1; then
	rm -rf "$src"
	mkdir -p "$src"
	tar -C "$src" --strip-components=1 -xf "$b"/dl/qemu_*.orig.tar.xz
	tar -C "$src" -xf "$b"/dl/qemu_*.debian.tar.xz
	(cd "$src" && while read -r p; do
		case $p in ''|'#'*) continue ;; esac
		patch -s -p1 < "debian/patches/$p"
	done < debian/patches/series)
	git -C "$src" init -q
	git -C "$src" -c user.name=pvrecover -c user.email=pvrecover@localhost \
		add -A -f . >/dev/null
	git -C "$src" -c user.name=pvrecover -c user.email=pvrecover@localhost \
		commit -q -m "Debian QEMU source with Debian patches"
	git -C "$src" tag debian-base
fi

[ $source_only = 1 ] && exit 0

# 3. Our series, applied exactly as a maintainer would: git am.
git -C "$src" am --abort >/dev/null 2>&1 || true
git -C "$src" reset -q --hard debian-base
git -C "$src" clean -qfd -e /build
if ls "$top"/qemu-patches/*.patch >/dev/null 2>&1; then
	git -C "$src" -c user.name=pvrecover -c user.email=pvrecover@localhost \
		am -q "$top"/qemu-patches/*.patch
fi

# 4. Configure once, then let ninja rebuild what changed.
if [ ! -f "$src/build/build.ninja" ]; then
	(cd "$src" && mkdir -p build && cd build && ../configure \
		--python=/usr/bin/python3 --target-list=x86_64-softmmu \
		--without-default-features --disable-download \
		--disable-install-blobs --enable-tcg --enable-kvm \
		--enable-slirp --enable-pixman --enable-vhost-kernel \
		--enable-vhost-net --disable-docs --disable-tools \
		--disable-guest-agent -Dfdt=disabled --audio-drv-list= \
		--disable-werror >/dev/null)
fi
jobs=$(nproc 2>/dev/null || echo 2)
ninja -C "$src/build" -j "$jobs" qemu-system-x86_64 >"$b/qemu-build.log" 2>&1 || {
	tail -n 40 "$b/qemu-build.log" >&2
	exit 1
}
mkdir -p "$out"
cp "$src/build/qemu-system-x86_64" "$out/qemu-system-x86_64.new"
mv "$out/qemu-system-x86_64.new" "$out/qemu-system-x86_64"
echo "$want" > "$stamp"
