/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause) */
/*
 * ioctls of /dev/vhost-recover, the host kernel backend of the paravirtual
 * PCI recovery device (spec/pv-recovery.txt, virtio_pvrecover.h).
 *
 * The owner (a VMM such as QEMU) sets the device up with the standard vhost
 * ioctls for the two virtqueues, then attaches each vfio-pci function whose
 * errors the guest should recover from: the module listens on the
 * function's vfio error eventfd, sends ERROR_DETECTED at once and
 * RESET_DONE or PERM_FAILURE once the host's own recovery of the function
 * has finished.  The owner may also plan a cooperative reset
 * (VHOST_RECOVER_PLAN_RESET): the module sends PREPARE_RESET to every
 * attached function the reset reaches, tells the owner when to reset (all
 * answered, or the deadline passed) and sends RESET_DONE once the owner
 * reports the reset done (VHOST_RECOVER_RESET_DONE).  Guest
 * acknowledgments are reported back to the owner as struct
 * vhost_recover_event records; apart from bringing a planned reset
 * forward, they never make the host act on a function.  All fields are in
 * host byte order.
 */
#ifndef _UAPI_LINUX_VHOST_RECOVER_H
#define _UAPI_LINUX_VHOST_RECOVER_H

#include <linux/types.h>
#include <linux/vhost.h>

/* Functions one /dev/vhost-recover file can have attached. */
#define VHOST_RECOVER_MAX_ATTACH	32

/* Outcome records the module keeps until the owner reads them. */
#define VHOST_RECOVER_EVENTS_MAX	256

/* Planned reset deadline when the owner gives none, and its upper bound. */
#define VHOST_RECOVER_DEADLINE_DEFAULT_MS	2000
#define VHOST_RECOVER_DEADLINE_MAX_MS		60000

/**
 * struct vhost_recover_pci_addr - a function as the guest names it
 * @segment: PCI segment of the guest's root bus.
 * @root_bus: the guest's root bus number.
 * @depth: valid entries in @path, 1 to 8.
 * @path: devfn of each hop from the root bus down to the function, as
 *	struct virtio_pvrecover_addr; unused entries zero.
 */
struct vhost_recover_pci_addr {
	__u16 segment;
	__u8 root_bus;
	__u8 depth;
	__u8 path[8];
};

/**
 * struct vhost_recover_attach - argument of VHOST_RECOVER_ATTACH
 * @group_fd: a VFIO group file descriptor of the group the function
 *	belongs to.  It proves the caller owns the function through vfio,
 *	the same proof vfio's own hot reset asks for.
 * @error_fd: the eventfd the caller registered for the function with
 *	VFIO_DEVICE_SET_IRQS at VFIO_PCI_ERR_IRQ_INDEX.  The caller stops
 *	reading it itself: the module consumes its counter.
 * @cookie: the caller's name for the function, non-zero and unique within
 *	the file; echoed in events and used to detach.
 * @host_segment: PCI segment of the function on the host.
 * @host_bus: bus number of the function on the host.
 * @host_devfn: devfn of the function on the host.
 * @flags: zero.
 * @guest: the function's identity in the guest, sent in notices.
 * @reserved: zero.
 */
struct vhost_recover_attach {
	__s32 group_fd;
	__s32 error_fd;
	__u32 cookie;
	__u16 host_segment;
	__u8 host_bus;
	__u8 host_devfn;
	__u32 flags;
	struct vhost_recover_pci_addr guest;
	__u32 reserved[4];
};

/* vhost_recover_event.flags */
/* No acknowledgment within the ack timeout; status and method are zero. */
#define VHOST_RECOVER_EV_TIMEOUT	0x1
/* The acknowledgment came after the notice had timed out. */
#define VHOST_RECOVER_EV_LATE		0x2
/* Dropped: refused on a full queue (@seq 0), or its function detached. */
#define VHOST_RECOVER_EV_DROPPED	0x4
/* Not about a notice: the planned reset of @cookie is due; reset now. */
#define VHOST_RECOVER_EV_RESET		0x8
/* With VHOST_RECOVER_EV_RESET: due because the deadline passed before
 * every function reached had answered its PREPARE_RESET.
 */
#define VHOST_RECOVER_EV_DEADLINE	0x10

/**
 * struct vhost_recover_event - what became of one notice
 * @cookie: the function, as given to VHOST_RECOVER_ATTACH.
 * @seq: the notice's sequence number (zero if refused on a full queue).
 * @notice: its type, VIRTIO_PVRECOVER_N_*.
 * @status: the guest's answer, VIRTIO_PVRECOVER_S_*, or zero.
 * @method: how the guest recovered, VIRTIO_PVRECOVER_M_*.
 * @flags: VHOST_RECOVER_EV_* bits.
 * @guest_us: time the guest reports it took, in microseconds.
 * @rtt_us: from queueing the notice to taking the acknowledgment (or to
 *	the timeout), in microseconds.
 *
 * A record with VHOST_RECOVER_EV_RESET tells the owner that the planned
 * reset of @cookie is due.  Its @seq is that function's PREPARE_RESET (zero
 * if none was sent), @notice is VIRTIO_PVRECOVER_N_PREPARE_RESET, @status
 * the number of functions reached that answered their PREPARE_RESET,
 * @method the number of functions reached, @guest_us zero, and @rtt_us the
 * time since VHOST_RECOVER_PLAN_RESET.
 */
struct vhost_recover_event {
	__u32 cookie;
	__u32 seq;
	__u16 notice;
	__u16 status;
	__u16 method;
	__u16 flags;
	__u32 guest_us;
	__u32 rtt_us;
};

/**
 * struct vhost_recover_events - argument of VHOST_RECOVER_GET_EVENTS
 * @count: in: room in @events, in records; out: records copied, oldest
 *	first.
 * @lost: out: records dropped since the last call because the owner did
 *	not read them in time (the module keeps VHOST_RECOVER_EVENTS_MAX),
 *	or because a call could not copy them out (EFAULT).
 * @events: user address of an array of struct vhost_recover_event.
 */
struct vhost_recover_events {
	__u32 count;
	__u32 lost;
	__u64 events;
};

/* vhost_recover_reset.flags */
/* The owner resets the function's whole bus (or slot), not the function
 * alone: every attached function on or below that bus is reached.
 */
#define VHOST_RECOVER_RESET_BUS		0x1

/**
 * struct vhost_recover_reset - argument of VHOST_RECOVER_PLAN_RESET
 * @cookie: the function the owner is going to reset.
 * @deadline_ms: how long the guest may take to quiesce, announced in
 *	PREPARE_RESET; 0 for VHOST_RECOVER_DEADLINE_DEFAULT_MS, at most
 *	VHOST_RECOVER_DEADLINE_MAX_MS.
 * @flags: VHOST_RECOVER_RESET_BUS, or zero when the owner resets the
 *	function alone (for example with an FLR).
 * @count: out: the attached functions the reset reaches, @cookie
 *	included; each is sent PREPARE_RESET, or nothing if the guest did not
 *	negotiate VIRTIO_PVRECOVER_F_PLANNED_RESET.
 * @reserved: zero.
 *
 * The module tells the owner when to reset with a VHOST_RECOVER_EV_RESET
 * record: as soon as every function reached has answered, or when
 * @deadline_ms has passed, whichever comes first.  The owner then resets
 * and reports with VHOST_RECOVER_RESET_DONE.  An owner that does not
 * report within the module's recovery timeout gets its functions told
 * PERM_FAILURE.
 */
struct vhost_recover_reset {
	__u32 cookie;
	__u32 deadline_ms;
	__u32 flags;
	__u32 count;
	__u32 reserved[4];
};

/**
 * struct vhost_recover_reset_done - argument of VHOST_RECOVER_RESET_DONE
 * @cookie: as in VHOST_RECOVER_PLAN_RESET.
 * @error: zero if the functions were reset and work, else a negative errno:
 *	the reset failed and the functions reached are told PERM_FAILURE.
 * @reserved: zero.
 */
struct vhost_recover_reset_done {
	__u32 cookie;
	__s32 error;
	__u32 reserved[2];
};

/**
 * struct vhost_recover_stats - counters of one /dev/vhost-recover file
 * @errors: vfio error signals taken from attached functions' eventfds.
 * @notices_queued: notices queued for the guest.
 * @notices_sent: notices written to guest buffers.
 * @notices_coalesced: queued notices merged with the one before.
 * @notices_dropped: notices refused because a function's queue was full.
 * @acks: valid acknowledgments that answered a notice.
 * @acks_invalid: ackq buffers that were malformed or did not echo their
 *	notice.
 * @acks_unmatched: valid acknowledgments that answered no known notice.
 * @timeouts: notices not acknowledged within the ack timeout.
 * @host_recoveries: host recoveries of attached functions seen to end
 *	well, each followed by RESET_DONE.
 * @host_failures: host recoveries that failed or did not end in time,
 *	each followed by PERM_FAILURE.
 * @events_lost: event records dropped before the owner read them.
 * @buffers_invalid: noticeq buffers the guest made unusable (device-readable,
 *	too small, or faulting); each was given back empty.
 * @resets_planned: planned resets that became due (VHOST_RECOVER_EV_RESET).
 * @resets_deadline: ... of which because the deadline passed.
 * @outstanding: notices now waiting for an acknowledgment.
 * @queued: notices now waiting for a guest buffer.
 */
struct vhost_recover_stats {
	__u64 errors;
	__u64 notices_queued;
	__u64 notices_sent;
	__u64 notices_coalesced;
	__u64 notices_dropped;
	__u64 acks;
	__u64 acks_invalid;
	__u64 acks_unmatched;
	__u64 timeouts;
	__u64 host_recoveries;
	__u64 host_failures;
	__u64 events_lost;
	__u64 buffers_invalid;
	__u64 resets_planned;
	__u64 resets_deadline;
	__u32 outstanding;
	__u32 queued;
};

/*
 * Device-specific vhost ioctls.  Besides these, /dev/vhost-recover takes
 * VHOST_SET_OWNER, VHOST_GET/SET_FEATURES, the memory table and vring
 * ioctls.
 */

/* Start (1) or stop (0) taking and filling the virtqueues' buffers. */
#define VHOST_RECOVER_SET_RUNNING	_IOW(VHOST_VIRTIO, 0xA0, int)
/* Milliseconds a notice may wait for its acknowledgment (1 to 600000). */
#define VHOST_RECOVER_SET_ACK_TIMEOUT	_IOW(VHOST_VIRTIO, 0xA1, __u32)
/* Attach a vfio-pci function.  EBADF: a descriptor is not a VFIO group or
 * an eventfd; ENODEV: no such host function; EPERM: the group does not
 * hold it or it is not bound to vfio-pci; EBUSY: the host holds the
 * function's device lock (its driver is being bound or unbound, or it is
 * being reset or recovered): try again later; EEXIST: cookie or function
 * already attached; ENOSPC: VHOST_RECOVER_MAX_ATTACH reached; EINVAL: bad
 * guest address, flags or reserved fields.
 */
#define VHOST_RECOVER_ATTACH		_IOW(VHOST_VIRTIO, 0xA2, \
					     struct vhost_recover_attach)
/* Detach the function with this cookie; ENOENT if there is none. */
#define VHOST_RECOVER_DETACH		_IOW(VHOST_VIRTIO, 0xA3, __u32)
#define VHOST_RECOVER_GET_STATS		_IOR(VHOST_VIRTIO, 0xA4, \
					     struct vhost_recover_stats)
/* An eventfd signalled whenever event records are waiting; -1 for none. */
#define VHOST_RECOVER_SET_EVENT_FD	_IOW(VHOST_VIRTIO, 0xA5, int)
/* Take waiting event records. */
#define VHOST_RECOVER_GET_EVENTS	_IOWR(VHOST_VIRTIO, 0xA6, \
					      struct vhost_recover_events)
/* Plan a cooperative reset.  ENOENT: no such cookie; EBUSY: a function
 * reached is in a planned reset already, or the host is recovering it;
 * EINVAL: deadline over VHOST_RECOVER_DEADLINE_MAX_MS, unknown flags or
 * reserved fields set.
 */
#define VHOST_RECOVER_PLAN_RESET	_IOWR(VHOST_VIRTIO, 0xA7, \
					      struct vhost_recover_reset)
/* The owner did the reset that VHOST_RECOVER_EV_RESET asked for.  ENOENT:
 * no such cookie; EINVAL: no reset of it is due, error above zero, or
 * reserved fields set.
 */
#define VHOST_RECOVER_RESET_DONE	_IOW(VHOST_VIRTIO, 0xA8, \
					     struct vhost_recover_reset_done)
/* The owner reset the guest (a machine reset, not a driver reload): every
 * notice queued or awaiting an answer is forgotten, and every planned
 * reset ends without a notice.  The functions stay attached, and a host
 * recovery being watched goes on: its end is news to the next guest.
 */
#define VHOST_RECOVER_GUEST_RESET	_IO(VHOST_VIRTIO, 0xA9)

#endif /* _UAPI_LINUX_VHOST_RECOVER_H */
