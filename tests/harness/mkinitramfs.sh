#!/bin/sh
# Build a small initramfs for the test guests: busybox, Debian kernel
# modules (with their dependencies, resolved from modules.dep), pvrecover.ko
# and, for a guest that runs guests itself, more files and programs.
#
# Usage: mkinitramfs.sh [-m MODULES] [-f SRC:DEST]... [-b PROGRAM]...
#                       KVER PVRECOVER_KO OUT.cpio.gz
#   -m  space-separated module names (default: the single-level drivers)
#   -f  copy SRC to DEST inside the image
#   -b  copy PROGRAM to /bin with the shared libraries it needs
set -eu

here=$(cd "$(dirname "$0")" && pwd)
# Drivers the test devices bind to.
want="nvme e1000e virtio_pci virtio_blk"
files=""
progs=""
while getopts m:f:b: opt; do
	case $opt in
	m) want=$OPTARG ;;
	f) files="$files $OPTARG" ;;
	b) progs="$progs $OPTARG" ;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
kver=$1
ko=$2
out=$3
mods=/lib/modules/$kver

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

mkdir -p "$root/bin" "$root/etc" "$root/proc" "$root/sys" "$root/dev" "$root/tmp" \
	"$root/run" "$root/$mods/extra"
cp /bin/busybox "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
cp "$here/guest-init.sh" "$root/init"
chmod 755 "$root/init"

# Transitive closure of the wanted modules over modules.dep.
deps=$(awk -v want="$want" '
	BEGIN { n = split(want, w, " "); for (i = 1; i <= n; i++) need[w[i]] = 1 }
	{
		path = $1; sub(/:$/, "", path)
		name = path; sub(/.*\//, "", name); sub(/\.ko.*$/, "", name)
		gsub(/-/, "_", name)
		line[name] = $0; file[name] = path
	}
	END {
		changed = 1
		while (changed) {
			changed = 0
			for (m in need) {
				k = split(line[m], f, " ")
				for (i = 2; i <= k; i++) {
					d = f[i]; sub(/.*\//, "", d); sub(/\.ko.*$/, "", d)
					gsub(/-/, "_", d)
					if (!(d in need)) { need[d] = 1; changed = 1 }
				}
			}
		}
		for (m in need) {
			if (!(m in file)) { print "missing:" m; continue }
			print file[m]
		}
	}' "$mods/modules.dep")

for f in $deps; do
	case $f in missing:*) echo "mkinitramfs: module ${f#missing:} not in $mods" >&2; exit 1 ;; esac
	mkdir -p "$root/$mods/$(dirname "$f")"
	cp "$mods/$f" "$root/$mods/$f"
done
cp "$ko" "$root/$mods/extra/pvrecover.ko"
# busybox modprobe resolves names through modules.dep alone.
{
	grep -F -f /dev/stdin "$mods/modules.dep" <<EOT
$(for f in $deps; do echo "$f:"; done)
EOT
	echo "extra/pvrecover.ko: kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko"
} > "$root/$mods/modules.dep"

for f in $files; do
	mkdir -p "$root/$(dirname "${f#*:}")"
	cp "${f%%:*}" "$root/${f#*:}"
done
for p in $progs; do
	cp "$p" "$root/bin/"
	strip "$root/bin/$(basename "$p")"
	# The loader and every library, at the paths the program expects.
	for lib in $(ldd "$p" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }
				      $1 ~ /^\// { print $1 }'); do
		mkdir -p "$root/$(dirname "$lib")"
		cp -L "$lib" "$root/$lib"
	done
done

(cd "$root" && find . | cpio -o -H newc --quiet) | gzip -1 > "$out.tmp"
mv "$out.tmp" "$out"
