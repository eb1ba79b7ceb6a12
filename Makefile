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
#   make bench    pvrecover against native, silent host and the limit, as ratios
#   make lint     checkpatch (kernel and QEMU), W=1 -Werror, sparse
#   make fuzz-soak  the fuzzer of /dev/vhost-recover alone, SECONDS=1800
#   make debug-kernel  a 6.1 debug kernel (KASAN, lockdep, kmemleak) for
#                 the guests, in build/debug-kernel/root
#   make check-debug  the suites and the fuzzer on that kernel
#
# The Debian kernels: by default the matrix of scripts/kver.sh --all (the
# newest installed 6.1 and 6.12; modules are built and the suites run on
# each), KVER=... for one (other series are refused); never the running
# kernel.  Each kernel's modules and images go to build/k/KVER.

SHELL := /bin/sh
TOP := $(CURDIR)
B := $(TOP)/build
ifeq ($(origin KVER),undefined)
KVERS = $(shell $(TOP)/scripts/kver.sh --all 2>/dev/null)
KVER = $(firstword $(KVERS))
else
KVERS = $(KVER)
endif
PYTHON ?= python3

GUEST := $(TOP)/guest/pvrecover
UAPI := $(TOP)/include/uapi

UNIT_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Werror \
	-fsanitize=address,undefined -fno-sanitize-recover=all \
	-I$(UAPI) -I$(TOP)/tests/unit -I$(GUEST)
UNIT_BINS := $(B)/unit/test_notice $(B)/unit/fuzz_notice
# Test programs that run inside the guests (static: the images have no
# libc): the vhost ioctl test and fuzzer in L1, a writer that keeps a disk
# busy.
PROGS := $(B)/progs/vhost_ioctl $(B)/progs/vhost_fuzz $(B)/progs/io_writer \
	$(B)/progs/io_reader

.PHONY: all modules setup qemu initramfs unit check demo bench lint clean

all: modules

setup:
	@$(TOP)/scripts/setup.sh

modules:
	@for k in $(KVERS); do $(TOP)/scripts/build-modules.sh $$k || exit 1; done

qemu: setup
	@$(TOP)/scripts/build-qemu.sh

# A debug kernel for the guests (KASAN, lockdep, kmemleak, UBSAN) from
# Debian's linux-source-6.1, into build/debug-kernel/root
# (scripts/build-debug-kernel.sh, scripts/debug-kernel.config).
.PHONY: debug-kernel
debug-kernel: setup
	@$(TOP)/scripts/build-debug-kernel.sh

# Per kernel: a guest image, an L1 image (a host: vfio, KVM,
# vhost-recover.ko, the patched QEMU) and L2's kernel and image for L1 to
# boot (tests/harness/build-images.sh).
initramfs: modules $(PROGS)
	@for k in $(KVERS); do $(TOP)/tests/harness/build-images.sh $$k || exit 1; done

$(B)/unit/%: $(TOP)/tests/unit/%.c $(GUEST)/notice.c $(GUEST)/notice.h \
		$(TOP)/tests/unit/kshim.h $(UAPI)/linux/virtio_pvrecover.h
	@mkdir -p $(dir $@)
	$(CC) $(UNIT_CFLAGS) -o $@ $< $(GUEST)/notice.c

unit: $(UNIT_BINS)

$(B)/progs/%: $(TOP)/tests/progs/%.c $(UAPI)/linux/vhost_recover.h \
		$(UAPI)/linux/virtio_pvrecover.h $(TOP)/tests/progs/vfio_function.h
	@mkdir -p $(dir $@)
	$(CC) -static -O2 -Wall -Wextra -Werror -I$(UAPI) -o $@ $<

# setup and qemu run first on their own: the kernels are only known once
# the Debian kernel packages are installed.  tests/run.py runs the suites
# over the matrix of kernels.
check: setup qemu
	@$(MAKE) --no-print-directory unit initramfs
	@PVR_KVERS="$(KVERS)" $(PYTHON) $(TOP)/tests/run.py $(TESTS)

# The single-level and nested suites and the fuzzer with L1 and L2 on the
# debug kernel (make debug-kernel): tests are named debug:..., and a
# report of KASAN, lockdep, UBSAN, debug objects or kmemleak fails the test
# that produced it (tests/harness/pvr.py, DEBUG_REPORT).  TESTS=...
# narrows it, as for check.
DEBUG_KROOT := $(B)/debug-kernel/root
.PHONY: check-debug
check-debug: setup qemu debug-kernel
	@k=$$(cat $(DEBUG_KROOT)/KVER) && export PVR_KROOT=$(DEBUG_KROOT) && \
	$(MAKE) --no-print-directory KVER=$$k initramfs && \
	PVR_DEBUG=1 PVR_KVERS=$$k PVR_FUZZ_SECONDS=$${PVR_FUZZ_SECONDS:-180} \
		$(PYTHON) $(TOP)/tests/run.py $(TESTS)

# The fuzzer of /dev/vhost-recover alone, for longer: SECONDS (default
# 1800) of fuzzing; PVR_FUZZ_SEED=N replays a seed a failure named.
.PHONY: fuzz-soak
fuzz-soak: setup qemu
	@$(MAKE) --no-print-directory initramfs
	@PVR_KVERS="$(KVERS)" PVR_FUZZ_SECONDS=$${SECONDS:-1800} \
		$(PYTHON) $(TOP)/tests/run.py 'fuzz/*'

# DEMO: nested (vhost-recover.ko), planned, single or nested-qemu; see
# tests/demo.py.
DEMO ?= nested

demo: setup qemu
	@$(MAKE) --no-print-directory initramfs KVER=$(KVER)
	@PVR_KVER=$(KVER) $(PYTHON) $(TOP)/tests/demo.py $(DEMO)

bench: setup qemu
	@$(MAKE) --no-print-directory initramfs KVER=$(KVER)
	@PVR_KVER=$(KVER) $(PYTHON) $(TOP)/tests/bench/main.py

lint: setup
	@$(TOP)/scripts/lint.sh

# The DKMS packages pvrecover-dkms and vhost-recover-dkms, into build/deb/
# (scripts/build-debs.sh; packaging/).
.PHONY: deb
deb: setup
	@$(TOP)/scripts/build-debs.sh

clean:
	rm -rf $(B)/k $(B)/unit $(B)/progs $(B)/guest $(B)/test-run
