#!/bin/sh
# Build a debug kernel for the test guests (KASAN, lockdep, kmemleak,
# debug objects, UBSAN) from Debian's linux-source-6.1: x86_64_defconfig
# with scripts/debug-kernel.config merged over it.  Everything lives
# under build/debug-kernel/:
#
#   src/    the source, extracted from /usr/src/linux-source-6.1.tar.*
#   obj/    the objects (make O=obj); external modules build against it
#   root/   the result, laid out as a system's:
#             boot/vmlinuz-KVER (bzImage), boot/config-KVER, boot/System.map-KVER
#             lib/modules/KVER/ (make modules_install, depmod'ed), whose
#               build is a link to obj/: make -C .../build M=... works
#             KVER (the release, 6.1.N-pvrdebug)
#   stamp   the inputs of the last complete build
#
# The kernel is rebuilt (incrementally) only when an input changes: the
# linux-source-6.1 version, the fragment, this script or the compiler;
# otherwise this exits at once.  The release is the last line on stdout
# (and the only one: the build's output goes to build/debug-kernel/build.log).
#
# Usage: build-debug-kernel.sh [--config]
#   --config   stop once the .config is made and checked (obj/.config)
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
b=$top/build/debug-kernel
src=$b/src
obj=$b/obj
root=$b/root
frag=$top/scripts/debug-kernel.config
stamp=$b/stamp
log=$b/build.log

config_only=0
[ "${1:-}" = --config ] && config_only=1

# What the build needs, installed as scripts/setup.sh does (so that this
# runs on its own too): objtool wants libelf, the certificate tools
# OpenSSL, Kconfig flex and bison; depmod is kmod's.
need_who=build-debug-kernel
. "$top/scripts/apt-need.sh"
need build-essential flex bison bc libelf-dev libssl-dev kmod xz-utils \
	linux-source-6.1

mkdir -p "$b"
# One build at a time: two callers would share src/ and obj/.
exec 9>"$b/.lock"
flock 9

mk() {	# make in the source tree, objects in obj/
	make -C "$src" O="$obj" --no-print-directory "$@"
}

version=$(dpkg-query -W -f='${Version}' linux-source-6.1)
want=$(printf '%s\n' "linux-source-6.1 $version" \
	"fragment $(sha256sum < "$frag" | cut -d' ' -f1)" \
	"script $(sha256sum < "$0" | cut -d' ' -f1)" \
	"cc $(gcc --version | head -n 1)")

# Up to date: the stamp matches and the results are all there.
if [ $config_only = 0 ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ] &&
   [ -s "$root/KVER" ]; then
	kver=$(cat "$root/KVER")
	if [ -f "$root/boot/vmlinuz-$kver" ] &&
	   [ -f "$root/lib/modules/$kver/modules.dep" ] &&
	   [ -f "$root/lib/modules/$kver/build/Module.symvers" ]; then
		echo "$kver"
		exit 0
	fi
fi
rm -f "$stamp"

# 1. The source, extracted again only when the package changed.  The
# objects go with it: the tarball's files keep their old times, so make
# would take objects of the previous version for up to date.
if [ "$(cat "$b/src.version" 2>/dev/null)" != "$version" ] ||
   [ ! -f "$src/Makefile" ]; then
	echo "build-debug-kernel: extracting linux-source-6.1 $version" >&2
	rm -rf "$src" "$src.tmp" "$obj"
	mkdir -p "$src.tmp"
	set -- /usr/src/linux-source-6.1.tar.*
	tar -C "$src.tmp" --strip-components=1 -xf "$1"
	mv "$src.tmp" "$src"
	echo "$version" > "$b/src.version"
fi
mkdir -p "$obj"

# 2. The configuration: defconfig, the fragment over it, the rest
# defaulted.  Made afresh each time, so that it is exactly what these
# inputs give; Kconfig marks only the options that changed, so the
# build after it stays incremental.
mk -s x86_64_defconfig >/dev/null
"$src/scripts/kconfig/merge_config.sh" -m -O "$obj" "$obj/.config" "$frag" \
	>"$log" 2>&1 || { cat "$log" >&2; exit 1; }
mk -s olddefconfig >>"$log" 2>&1 || { cat "$log" >&2; exit 1; }

# Kconfig drops without a word what the fragment asks for and cannot be
# (a dependency missing, a symbol renamed): every line of the fragment
# must be in .config as written, and "is not set" means off or absent.
bad=$(awk '
	FNR == NR {
		if (/^CONFIG_[A-Za-z0-9_]+=/) {
			n = $0; sub(/=.*/, "", n); want[n] = $0
		} else if (/^# CONFIG_[A-Za-z0-9_]+ is not set$/)
			want[$2] = ""
		next
	}
	/^CONFIG_[A-Za-z0-9_]+=/ { n = $0; sub(/=.*/, "", n); have[n] = $0 }
	END {
		for (n in want)
			if (have[n] != want[n])
				printf "  %s: asked \"%s\", got \"%s\"\n", n,
					want[n] == "" ? "not set" : want[n],
					have[n] == "" ? "not set" : have[n]
	}' "$frag" "$obj/.config" | sort)
if [ -n "$bad" ]; then
	echo "build-debug-kernel: options of $frag that the .config does not have:" >&2
	echo "$bad" >&2
	exit 1
fi
# syncconfig brings include/config/auto.conf, where kernelrelease reads
# the local version, up to date (the build would do it first thing).
mk -s syncconfig >>"$log" 2>&1 || { cat "$log" >&2; exit 1; }
kver=$(mk -s kernelrelease)
if [ $config_only = 1 ]; then
	echo "build-debug-kernel: $obj/.config checked" >&2
	echo "$kver"
	exit 0
fi

# 3. The kernel and its modules (Module.symvers and what modules_prepare
# makes come with them, for building external modules against obj/).
jobs=$(nproc 2>/dev/null || echo 2)
echo "build-debug-kernel: building $kver with $jobs jobs (log: $log)" >&2
mk -j"$jobs" bzImage modules >>"$log" 2>&1 || {
	tail -n 40 "$log" >&2
	exit 1
}

# 4. Install into a fresh root: modules_install runs depmod (it wants
# System.map, which the build leaves in obj/) and links build and source.
rm -rf "$root.new"
mkdir -p "$root.new/boot"
mk INSTALL_MOD_PATH="$root.new" DEPMOD=/sbin/depmod modules_install \
	>>"$log" 2>&1 || { tail -n 40 "$log" >&2; exit 1; }
cp "$obj/arch/x86/boot/bzImage" "$root.new/boot/vmlinuz-$kver"
cp "$obj/.config" "$root.new/boot/config-$kver"
cp "$obj/System.map" "$root.new/boot/System.map-$kver"
echo "$kver" > "$root.new/KVER"
mods=$root.new/lib/modules/$kver
for f in modules.dep modules.builtin build/Module.symvers \
	 build/scripts/mod/modpost build/include/generated/autoconf.h; do
	if [ ! -e "$mods/$f" ]; then
		echo "build-debug-kernel: $mods/$f missing after the install" >&2
		exit 1
	fi
done
rm -rf "$root"
mv "$root.new" "$root"

echo "$want" > "$stamp"
echo "$kver"
