# pvrecover: guest and host kernel modules, QEMU patches, tests.
#
#   make          build the kernel modules against Debian's headers
#   make check    every test (installs dependencies and builds QEMU first)
#   make demo     the main scenario inside QEMU, with a timeline: a real AER
#                 error under an nvme assigned to a nested guest, recovered
#                 through vhost-recover.ko (DEMO=single: one guest, QEMU
#                 resets its nvme; DEMO=nested-qemu: the nested chain with
#                 QEMU's userspace device; DEMO=planned: a planned reset
#                 that fans out over two functions of one device)
#   make bench    protocol and recovery cost, as ratios to a baseline
#   make lint     checkpatch (kernel and QEMU), W=1 -Werror, sparse
#
# KVER selects the Debian kernel (default: the newest installed 6.1, see
# scripts/kver.sh; other series are refused); never the running kernel.

SHELL := /bin/sh
TOP := $(CURDIR)
B := $(TOP)/build
KVER ?= $(shell $(TOP)/scripts/kver.sh 2>/dev/null)
KDIR = /lib/modules/$(KVER)/build
PYTHON ?= python3

GUEST := $(TOP)/guest/pvrecover
GUEST_KO := $(GUEST)/pvrecover.ko
HOST := $(TOP)/host/vhost-recover
HOST_KO := $(HOST)/vhost-recover.ko
# Test-only kernel modules (a hostile guest driver, a driver that keeps its
# MSI-X vector across resets), never shipped.
TEST_KMOD := $(TOP)/tests/kmod
INITRD := $(B)/guest/initramfs.cpio.gz
# A guest that is itself a host (L1): vfio, KVM, vhost and vhost-recover.ko,
# the patched QEMU, and the L2 kernel and initramfs; nvme (not loaded at
# boot) for the tests that compare with L1's own recovery.
INITRD_L1 := $(B)/guest/initramfs-l1.cpio.gz
L1_MODULES := vfio vfio_iommu_type1 vfio_pci kvm_amd vhost vhost_iotlb nvme
UAPI := $(TOP)/include/uapi

UNIT_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Werror \
	-fsanitize=address,undefined -fno-sanitize-recover=all \
	-I$(UAPI) -I$(TOP)/tests/unit -I$(GUEST)
UNIT_BINS := $(B)/unit/test_notice $(B)/unit/fuzz_notice
# Test programs that run inside the guests (static: the images have no
# libc): the vhost ioctl test in L1, a writer that keeps a disk busy.
PROGS := $(B)/progs/vhost_ioctl $(B)/progs/io_writer

.PHONY: all modules test-modules setup qemu initramfs unit check demo bench lint clean

all: modules

setup:
	@$(TOP)/scripts/setup.sh

modules:
	@KVER=$(KVER) $(TOP)/scripts/kver.sh >/dev/null
	@$(TOP)/scripts/kernel-private.sh $(KVER) $(B)/kernel-private
	$(MAKE) -C $(KDIR) M=$(GUEST) modules
	$(MAKE) -C $(KDIR) M=$(HOST) modules

test-modules:
	$(MAKE) -C $(KDIR) M=$(TEST_KMOD) modules

qemu: setup
	@$(TOP)/scripts/build-qemu.sh

# `modules` builds $(HOST_KO) too: L1's image carries it.
initramfs: modules test-modules $(PROGS)
	@mkdir -p $(dir $(INITRD))
	$(TOP)/tests/harness/mkinitramfs.sh \
		-f $(TEST_KMOD)/pvr_badguest.ko:/lib/modules/$(KVER)/extra/pvr_badguest.ko \
		-f $(TEST_KMOD)/pvr_msix.ko:/lib/modules/$(KVER)/extra/pvr_msix.ko \
		-b $(B)/progs/io_writer \
		$(KVER) $(GUEST_KO) $(INITRD)
	$(TOP)/tests/harness/mkinitramfs.sh -m "$(L1_MODULES)" -k $(HOST_KO) \
		-b $(B)/qemu/qemu-system-x86_64 -b $(B)/progs/vhost_ioctl \
		-b $(B)/progs/io_writer \
		-f /boot/vmlinuz-$(KVER):/l2/vmlinuz -f $(INITRD):/l2/initramfs.cpio.gz \
		-f /usr/share/seabios/bios-256k.bin:/usr/share/qemu/bios-256k.bin \
		-f /usr/share/qemu/linuxboot_dma.bin:/usr/share/qemu/linuxboot_dma.bin \
		-f /usr/share/qemu/kvmvapic.bin:/usr/share/qemu/kvmvapic.bin \
		$(KVER) $(GUEST_KO) $(INITRD_L1)

$(B)/unit/%: $(TOP)/tests/unit/%.c $(GUEST)/notice.c $(GUEST)/notice.h \
		$(TOP)/tests/unit/kshim.h $(UAPI)/linux/virtio_pvrecover.h
	@mkdir -p $(dir $@)
	$(CC) $(UNIT_CFLAGS) -o $@ $< $(GUEST)/notice.c

unit: $(UNIT_BINS)

$(B)/progs/%: $(TOP)/tests/progs/%.c $(UAPI)/linux/vhost_recover.h \
		$(UAPI)/linux/virtio_pvrecover.h
	@mkdir -p $(dir $@)
	$(CC) -static -O2 -Wall -Wextra -Werror -I$(UAPI) -o $@ $<

# setup and qemu run first on their own: KVER is only known once the
# Debian kernel packages are installed.
check: setup qemu
	@$(MAKE) --no-print-directory unit initramfs
	@KVER=$(KVER) PVR_INITRD=$(INITRD) $(PYTHON) $(TOP)/tests/run.py $(TESTS)

# DEMO: nested (vhost-recover.ko), planned, single or nested-qemu; see
# tests/demo.py.
DEMO ?= nested

demo: setup qemu
	@$(MAKE) --no-print-directory initramfs
	@KVER=$(KVER) PVR_INITRD=$(INITRD) $(PYTHON) $(TOP)/tests/demo.py $(DEMO)

bench: setup qemu
	@$(MAKE) --no-print-directory initramfs
	@KVER=$(KVER) PVR_INITRD=$(INITRD) $(PYTHON) $(TOP)/tests/bench.py

lint: setup
	@$(TOP)/scripts/lint.sh

clean:
	$(MAKE) -C $(KDIR) M=$(GUEST) clean
	$(MAKE) -C $(KDIR) M=$(HOST) clean
	$(MAKE) -C $(KDIR) M=$(TEST_KMOD) clean
	rm -rf $(B)/unit $(B)/progs $(B)/guest $(B)/test-run
