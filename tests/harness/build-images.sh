#!/bin/sh
# The test images of one Debian kernel, in build/k/KVER (its modules are
# built there by scripts/build-modules.sh):
#   initramfs.cpio.gz     a guest: single-level tests, and L2 in the nested
#                         ones; pvrecover.ko, the test modules, io_writer
#   initramfs-l1.cpio.gz  a guest that is itself a host (L1): vfio, KVM,
#                         vhost and vhost-recover.ko, the patched QEMU, the
#                         test programs; nvme (not loaded at boot) for the
#                         tests that compare with L1's own recovery
#   l2.cpio.gz            L2's kernel and image under /l2, for L1 to boot.
#                         An L1 of any kernel boots an L2 of any other:
#                         the kernel unpacks concatenated archives, so the
#                         harness appends this one to L1's.
#
# Usage: build-images.sh [-m MODDIR] [-o OUTDIR] KVER
#   -m  take the modules (*.ko) from MODDIR instead (the ones DKMS built,
#       say: tests/pkg/dkms_images.py)
#   -o  write the images to OUTDIR instead
# With $PVR_KROOT the kernel is one built here, installed in that private
# root (scripts/kver.sh).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
b=$top/build
mod=""
outdir=""
while getopts m:o: opt; do
	case $opt in
	m) mod=$OPTARG ;;
	o) outdir=$OPTARG ;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
kver=$1
m=${mod:-$b/k/$kver}
k=${outdir:-$b/k/$kver}
mkdir -p "$k"
mk=$top/tests/harness/mkinitramfs.sh
l1_modules="vfio vfio_iommu_type1 vfio_pci kvm_amd vhost vhost_iotlb nvme"

"$mk" -f "$m/pvr_badguest.ko:/lib/modules/$kver/extra/pvr_badguest.ko" \
	-f "$m/pvr_msix.ko:/lib/modules/$kver/extra/pvr_msix.ko" \
	-f "$m/pvr_leak.ko:/lib/modules/$kver/extra/pvr_leak.ko" \
	-b "$b/progs/io_writer" -b "$b/progs/io_reader" \
	"$kver" "$m/pvrecover.ko" "$k/initramfs.cpio.gz"
"$mk" -m "$l1_modules" -k "$m/vhost-recover.ko" \
	-b "$b/qemu/qemu-system-x86_64" -b "$b/progs/vhost_ioctl" \
	-b "$b/progs/vhost_fuzz" \
	-b "$b/progs/io_writer" -b "$b/progs/io_reader" \
	-f /usr/share/seabios/bios-256k.bin:/usr/share/qemu/bios-256k.bin \
	-f /usr/share/qemu/linuxboot_dma.bin:/usr/share/qemu/linuxboot_dma.bin \
	-f /usr/share/qemu/kvmvapic.bin:/usr/share/qemu/kvmvapic.bin \
	"$kver" "$m/pvrecover.ko" "$k/initramfs-l1.cpio.gz"

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/l2"
cp "${PVR_KROOT:-}/boot/vmlinuz-$kver" "$root/l2/vmlinuz"
cp "$k/initramfs.cpio.gz" "$root/l2/initramfs.cpio.gz"
(cd "$root" && find . | cpio -o -H newc --quiet) | gzip -1 > "$k/l2.cpio.gz.tmp"
mv "$k/l2.cpio.gz.tmp" "$k/l2.cpio.gz"
