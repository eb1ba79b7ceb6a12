/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause) */
/*
 * Wire format of the paravirtual PCI recovery device (virtio-pvrecover).
 *
 * The host tells the guest that a PCI device assigned to it lost its state
 * (an error was detected, the host reset it, or it is about to); the guest
 * makes the bound driver recover and answers with an acknowledgment.
 * spec/pv-recovery.txt is the normative description; this header is its
 * C rendering and is shared by the guest driver, the host backend, QEMU and
 * the userspace tests.  Everything on the wire is little-endian.
 */
#ifndef _UAPI_LINUX_VIRTIO_PVRECOVER_H
#define _UAPI_LINUX_VIRTIO_PVRECOVER_H

#include <linux/types.h>

/* Provisional: unassigned in the virtio specification's device ID table. */
#define VIRTIO_ID_PVRECOVER		63

/*
 * The config space's version field.  It stays 1: the protocol grows by
 * feature bits only, and a driver never refuses a device for its version.
 */
#define VIRTIO_PVRECOVER_VERSION	1

/* Virtqueue indexes. */
#define VIRTIO_PVRECOVER_VQ_NOTICE	0	/* device -> driver */
#define VIRTIO_PVRECOVER_VQ_ACK		1	/* driver -> device */
#define VIRTIO_PVRECOVER_VQ_MAX		2

/* Feature bits (in addition to VIRTIO_F_VERSION_1, which is required). */
/* The device may send VIRTIO_PVRECOVER_N_PREPARE_RESET. */
#define VIRTIO_PVRECOVER_F_PLANNED_RESET	0
/* The config space's quiesce_timeout_ms is valid. */
#define VIRTIO_PVRECOVER_F_QUIESCE_TIMEOUT	1

/**
 * struct virtio_pvrecover_config - device configuration space
 * @version: VIRTIO_PVRECOVER_VERSION, always.
 * @ack_timeout_ms: how long the device keeps a notice outstanding before it
 *	counts the guest as silent; informative for the driver.
 * @max_deadline_ms: upper bound of any deadline_ms the device announces.
 * @quiesce_timeout_ms: with VIRTIO_PVRECOVER_F_QUIESCE_TIMEOUT: the device
 *	queues the second half (RESET_DONE, STATE_LOST or PERM_FAILURE) of an
 *	ERROR_DETECTED or PREPARE_RESET, if it sends one, within this many
 *	milliseconds of queueing the first; a driver that has waited longer
 *	resumes the function on its own.  Zero without the feature.
 */
struct virtio_pvrecover_config {
	__le32 version;
	__le32 ack_timeout_ms;
	__le32 max_deadline_ms;
	__le32 quiesce_timeout_ms;
};

/* Longest bridge chain from a root bus to a device that can be named. */
#define VIRTIO_PVRECOVER_PATH_MAX	8

/**
 * struct virtio_pvrecover_addr - identity of a PCI function in the guest
 * @segment: PCI segment (domain) of the root bus.
 * @root_bus: number of the root bus.  Root bus numbers are fixed by the
 *	platform, not programmed by the guest.
 * @depth: number of valid entries in @path, 1 to VIRTIO_PVRECOVER_PATH_MAX.
 * @path: devfn of each hop: path[0] is on the root bus, each following
 *	entry is on the secondary bus of the bridge named by the previous
 *	one, and path[depth - 1] is the function itself.  Unused entries are
 *	zero.
 *
 * A path of devfns rather than a bus number stays correct whatever bus
 * numbers the guest programs into its bridges.
 */
struct virtio_pvrecover_addr {
	__le16 segment;
	__u8 root_bus;
	__u8 depth;
	__u8 path[VIRTIO_PVRECOVER_PATH_MAX];
};

/* Notice types (struct virtio_pvrecover_notice.type). */
enum virtio_pvrecover_notice_type {
	/* An error was detected; see VIRTIO_PVRECOVER_NF_FATAL. */
	VIRTIO_PVRECOVER_N_ERROR_DETECTED	= 1,
	/* The host finished resetting the device: usable again, state lost. */
	VIRTIO_PVRECOVER_N_RESET_DONE		= 2,
	/* One-shot: the device was reset with no earlier notice. */
	VIRTIO_PVRECOVER_N_STATE_LOST		= 3,
	/* The device is gone for good; stop using it. */
	VIRTIO_PVRECOVER_N_PERM_FAILURE		= 4,
	/* The host will reset the device after deadline_ms; quiesce it. */
	VIRTIO_PVRECOVER_N_PREPARE_RESET	= 5,
};

/* Notice flags (struct virtio_pvrecover_notice.flags). */
/* ERROR_DETECTED: uncorrectable fatal, the host resets the device. */
#define VIRTIO_PVRECOVER_NF_FATAL	0x0001
#define VIRTIO_PVRECOVER_NF_ALL		VIRTIO_PVRECOVER_NF_FATAL

/**
 * struct virtio_pvrecover_notice - host to guest, one per notice buffer
 * @seq: sequence number; the device increments it for every notice it
 *	queues, wrapping at 2^32.  Echoed in the acknowledgment.
 * @type: an enum virtio_pvrecover_notice_type value.
 * @flags: VIRTIO_PVRECOVER_NF_* bits; unknown bits must be zero.
 * @addr: the PCI function the notice is about.
 * @deadline_ms: PREPARE_RESET only: the host resets the device at the
 *	latest this many milliseconds after queueing the notice; zero
 *	otherwise.
 * @reserved: zero.
 */
struct virtio_pvrecover_notice {
	__le32 seq;
	__le16 type;
	__le16 flags;
	struct virtio_pvrecover_addr addr;
	__le32 deadline_ms;
	__le32 reserved[2];
};

/* Acknowledgment statuses (struct virtio_pvrecover_ack.status). */
enum virtio_pvrecover_status {
	/* The driver is quiesced and waits for RESET_DONE. */
	VIRTIO_PVRECOVER_S_PREPARED		= 1,
	/* The driver re-initialised the device; it is in service again. */
	VIRTIO_PVRECOVER_S_RECOVERED		= 2,
	/* Recovery was attempted and failed; the device is out of service. */
	VIRTIO_PVRECOVER_S_FAILED		= 3,
	/* The function exists in the guest but no driver is bound to it. */
	VIRTIO_PVRECOVER_S_NO_DRIVER		= 4,
	/* The address names no function in the guest. */
	VIRTIO_PVRECOVER_S_UNKNOWN_DEVICE	= 5,
	/* The notice type is unknown or not negotiated. */
	VIRTIO_PVRECOVER_S_UNSUPPORTED		= 6,
	/* The notice was malformed (short, bad flags or address). */
	VIRTIO_PVRECOVER_S_MALFORMED		= 7,
	/* Non-fatal error: the driver asks for a reset it did not get. */
	VIRTIO_PVRECOVER_S_NEED_RESET		= 8,
	/* Permanent failure handled: the driver was detached. */
	VIRTIO_PVRECOVER_S_OFFLINE		= 9,
	/* Too many notices outstanding for the function; this one dropped. */
	VIRTIO_PVRECOVER_S_BUSY			= 10,
};

/* Recovery methods (struct virtio_pvrecover_ack.method). */
enum virtio_pvrecover_method {
	VIRTIO_PVRECOVER_M_NONE			= 0,
	/* pci_error_handlers reset_prepare() / reset_done() */
	VIRTIO_PVRECOVER_M_RESET_HOOKS		= 1,
	/* error_detected(), mmio_enabled(), slot_reset(), resume() */
	VIRTIO_PVRECOVER_M_AER			= 2,
	/* driver unbound and the device probed again */
	VIRTIO_PVRECOVER_M_REPROBE		= 3,
};

/**
 * struct virtio_pvrecover_ack - guest to host, one per ack buffer
 * @seq: seq of the notice answered (zero if it was too short to carry one).
 * @type: type of the notice answered, as received.
 * @status: an enum virtio_pvrecover_status value.
 * @addr: address of the notice answered, as received.
 * @method: an enum virtio_pvrecover_method value: how the guest acted.
 * @reserved: zero.
 * @guest_us: microseconds from the guest taking the notice off the queue to
 *	writing this acknowledgment.
 * @reserved2: zero.
 */
struct virtio_pvrecover_ack {
	__le32 seq;
	__le16 type;
	__le16 status;
	struct virtio_pvrecover_addr addr;
	__le16 method;
	__le16 reserved;
	__le32 guest_us;
	__le32 reserved2;
};

#endif /* _UAPI_LINUX_VIRTIO_PVRECOVER_H */
