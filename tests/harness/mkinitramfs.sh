#!/bin/sh
# Build a small initramfs for the test guests: busybox, Debian kernel
# modules (with their dependencies, resolved from modules.dep), pvrecover.ko
# and, for a guest that runs guests itself, more modules, files and
# programs.
#
# Usage: mkinitramfs.sh [-m MODULES] [-k KO]... [-f SRC:DEST]... [-b PROGRAM]...
#                       KVER PVRECOVER_KO OUT.cpio.gz
#   -m  space-separated module names (default: the single-level drivers)
#   -k  a module built here, installed as /lib/modules/KVER/extra/NAME.ko;
#       the Debian modules it depends on (modinfo -F depends) come along,
#       and modules.dep gets its line, so that modprobe loads it by name
#       (PVRECOVER_KO is one of these)
#   -f  copy SRC to DEST inside the image
#   -b  copy PROGRAM to /bin with the shared libraries it needs
set -eu
PATH=$PATH:/usr/sbin:/sbin

here=$(cd "$(dirname "$0")" && pwd)
# Drivers the test devices bind to.
want="nvme e1000e virtio_pci virtio_blk"
files=""
progs=""
kos=""
while getopts m:k:f:b: opt; do
	case $opt in
	m) want=$OPTARG ;;
	k) kos="$kos $OPTARG" ;;
	f) files="$files $OPTARG" ;;
	b) progs="$progs $OPTARG" ;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
kver=$1
kos="$2 $kos"
out=$3
mods=/lib/modules/$kver
# Where the kernel's modules are on this machine: under $PVR_KROOT for a
# kernel built here (scripts/build-debug-kernel.sh).
src=${PVR_KROOT:-}$mods

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

mkdir -p "$root/bin" "$root/etc" "$root/proc" "$root/sys" "$root/dev" "$root/tmp" \
	"$root/run" "$root/$mods/extra"
cp /bin/busybox "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
cp "$here/guest-init.sh" "$root/init"
chmod 755 "$root/init"

# The modules built here: "NAME extra/FILE DEP..." per line, names with
# '_' as the kernel spells them.
extras=$root/extras
: > "$extras"
for k in $kos; do
	if [ ! -f "$k" ]; then
		echo "mkinitramfs: $k: no such module (not built?)" >&2
		exit 1
	fi
	file=$(basename "$k")
	name=$(echo "${file%.ko}" | tr - _)
	echo "$name extra/$file $(modinfo -F depends "$k" | tr ,- ' _')" >> "$extras"
	cp "$k" "$root/$mods/extra/$file"
done

# Transitive closure of the wanted modules and of the dependencies of the
# extra ones over modules.dep.  Prints the Debian modules to copy
# ("copy PATH") and the lines of the image's modules.dep ("dep LINE"):
# Debian's own lines, and for an extra module its dependencies ordered as
# depmod does, every module before the ones it needs (busybox modprobe
# loads them from the end of the line).
plan=$(awk -v want="$want" '
	function norm(p) { sub(/.*\//, "", p); sub(/\.ko.*$/, "", p); gsub(/-/, "_", p); return p }
	# Post-order walk: what m needs comes before m in order[].
	function visit(m,   k, f, i) {
		if (m in seen) return
		seen[m] = 1
		k = split(needs[m], f, " ")
		for (i = 1; i <= k; i++) visit(f[i])
		order[++n] = m
	}
	FILENAME == ARGV[1] {
		extra[$1] = 1; file[$1] = $2
		for (i = 3; i <= NF; i++) { needs[$1] = needs[$1] " " $i; start[$i] = 1 }
		next
	}
	{
		if (FILENAME == ARGV[3]) { builtin[norm($1)] = 1; next }
		path = $1; sub(/:$/, "", path)
		name = norm(path)
		# A module built here wins over one installed under that name
		# (by the DKMS packages, say).
		if (name in extra) next
		line[name] = $0; file[name] = path
		for (i = 2; i <= NF; i++) needs[name] = needs[name] " " norm($i)
	}
	END {
		k = split(want, w, " ")
		for (i = 1; i <= k; i++) start[w[i]] = 1
		for (m in start) visit(m)
		for (i = 1; i <= n; i++) {
			m = order[i]
			if (m in builtin) continue
			if (!(m in file)) print "missing " m
			else if (!(m in extra)) print "copy " file[m] "\ndep " line[m]
		}
		for (m in extra) {
			delete seen; n = 0
			k = split(needs[m], f, " ")
			for (i = 1; i <= k; i++) visit(f[i])
			deps = file[m] ":"
			for (i = n; i >= 1; i--) deps = deps " " file[order[i]]
			print "dep " deps
		}
	}' "$extras" "$src/modules.dep" "$src/modules.builtin")

missing=$(echo "$plan" | sed -n 's/^missing //p' | tr '\n' ' ')
if [ -n "$missing" ]; then
	echo "mkinitramfs: not in $src/modules.dep: $missing" >&2
	exit 1
fi
for f in $(echo "$plan" | sed -n 's/^copy //p'); do
	mkdir -p "$root/$mods/$(dirname "$f")"
	cp "$src/$f" "$root/$mods/$f"
done
# busybox modprobe resolves names through modules.dep alone.
echo "$plan" | sed -n 's/^dep //p' > "$root/$mods/modules.dep"
# What the kernel has built in counts as loaded (guest-init.sh).
cp "$src/modules.builtin" "$root/$mods/modules.builtin"
rm "$extras"

for f in $files; do
	mkdir -p "$root/$(dirname "${f#*:}")"
	cp "${f%%:*}" "$root/${f#*:}"
done
for p in $progs; do
	cp "$p" "$root/bin/"
	strip "$root/bin/$(basename "$p")"
	# The loader and every library, at the paths the program expects.
	for lib in $(ldd "$p" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 }
				      $1 ~ /^\// { print $1 }'); do
		mkdir -p "$root/$(dirname "$lib")"
		cp -L "$lib" "$root/$lib"
	done
done

(cd "$root" && find . | cpio -o -H newc --quiet) | gzip -1 > "$out.tmp"
mv "$out.tmp" "$out"
