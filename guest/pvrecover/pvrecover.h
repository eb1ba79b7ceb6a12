/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pvrecover: internal definitions of the guest driver.
 */
#ifndef _PVRECOVER_H
#define _PVRECOVER_H

#include <linux/atomic.h>
#include <linux/ktime.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/notifier.h>
#include <linux/pci.h>
#include <linux/spinlock.h>
#include <linux/sysfs.h>
#include <linux/virtio.h>
#include <linux/workqueue.h>

#include "notice.h"

/* Notices queued for one PCI function before new ones are answered BUSY. */
#define PVR_CTX_QUEUE_LEN	16
/* Acks waiting for room in the ack virtqueue before new ones are dropped. */
#define PVR_ACK_PENDING_MAX	64
/* Notice buffers kept posted (bounded by the virtqueue size too). */
#define PVR_NOTICE_BUFS_MAX	64
/* Notices taken off the queue per run of the rx work. */
#define PVR_RX_BUDGET		64
/*
 * How long a function stays QUIESCED without a second half when the device
 * does not offer VIRTIO_PVRECOVER_F_QUIESCE_TIMEOUT (spec 7.12).
 */
#define PVR_QUIESCE_TIMEOUT_DEFAULT_MS	600000
/* The range a device may set (spec 5.1). */
#define PVR_QUIESCE_TIMEOUT_MIN_MS	1000
#define PVR_QUIESCE_TIMEOUT_MAX_MS	3600000

/**
 * enum pvr_counter - statistics shown in sysfs
 * @PVR_CNT_NOTICES: notices taken off the notice queue.
 * @PVR_CNT_RECOVERED_RESET_HOOKS: recovered with reset_prepare/reset_done.
 * @PVR_CNT_RECOVERED_AER: recovered with the AER callbacks.
 * @PVR_CNT_RECOVERED_REPROBE: recovered by unbinding and probing again.
 * @PVR_CNT_FAILED: answered FAILED.
 * @PVR_CNT_NO_DRIVER: answered NO_DRIVER.
 * @PVR_CNT_UNKNOWN_DEVICE: answered UNKNOWN_DEVICE.
 * @PVR_CNT_UNSUPPORTED: answered UNSUPPORTED.
 * @PVR_CNT_MALFORMED: answered MALFORMED.
 * @PVR_CNT_BUSY: answered BUSY.
 * @PVR_CNT_ACKS_DROPPED: acks that could not be sent (no memory, ack queue
 *	and pending list full, or the device going away).
 * @PVR_CNT_QUIESCE_EXPIRED: functions resumed because no second half came
 *	within the quiesce timeout.
 * @PVR_CNT_STALE: notices answered UNKNOWN_DEVICE because the device wrote
 *	them before the guest added the function their address names now.
 * @PVR_CNT_NR: number of counters.
 */
enum pvr_counter {
	PVR_CNT_NOTICES,
	PVR_CNT_RECOVERED_RESET_HOOKS,
	PVR_CNT_RECOVERED_AER,
	PVR_CNT_RECOVERED_REPROBE,
	PVR_CNT_FAILED,
	PVR_CNT_NO_DRIVER,
	PVR_CNT_UNKNOWN_DEVICE,
	PVR_CNT_UNSUPPORTED,
	PVR_CNT_MALFORMED,
	PVR_CNT_BUSY,
	PVR_CNT_ACKS_DROPPED,
	PVR_CNT_QUIESCE_EXPIRED,
	PVR_CNT_STALE,
	PVR_CNT_NR,
};

/**
 * struct pvr_queued - a valid notice waiting for its device's work
 * @n: the notice.
 * @start: when it was taken off the notice queue.
 */
struct pvr_queued {
	struct pvr_notice n;
	ktime_t start;
};

/**
 * struct pvr_taken - a noticeq buffer taken off the used ring
 * @buf: the buffer, not yet posted again.
 * @len: the used length the device wrote.
 * @idx: its place in the order buffers were taken (pvr_dev.taken).
 */
struct pvr_taken {
	struct virtio_pvrecover_notice *buf;
	unsigned int len;
	u64 idx;
};

struct pvr_dev;

/**
 * struct pvr_ctx - recovery context of one PCI function
 * @node: entry in pvr_dev.ctxs, under pvr_dev.ctx_lock.
 * @pv: the pvrecover device.
 * @pdev: the function; a reference is held while the context lives.
 * @work: processes @queue; runs on pvr_dev.wq, one at a time per context.
 * @expire: fires when the function has been QUIESCED for the quiesce
 *	timeout; sets @expire_due and kicks @work.
 * @lock: protects @queue, @head, @count, @scheduled, @want_snapshot,
 *	@expire_due, @expire_off, @first_taken, @removed and @gone.
 * @queue: ring of notices not yet processed.
 * @head: index of the oldest entry of @queue.
 * @count: number of entries in @queue.
 * @scheduled: @work is queued or running.
 * @want_snapshot: @work should snapshot config space first.
 * @expire_due: @work should check whether the quiesce timed out, once
 *	@queue is empty.
 * @expire_off: @expire is neither armed nor acted on any more (unload).
 * @removed: the function is being or was removed from the system
 *	(BUS_NOTIFY_DEL_DEVICE): notices about it are answered UNKNOWN_DEVICE
 *	and none is queued any more.
 * @gone: the function is off the bus (BUS_NOTIFY_REMOVED_DEVICE): the
 *	context is freed once @work is idle.
 * @state: recovery state; only touched by @work.
 * @first: the last ERROR_DETECTED or PREPARE_RESET handled that left the
 *	function QUIESCED (named in the log when the quiesce times out);
 *	only touched by @work.
 * @first_taken: when the last ERROR_DETECTED or PREPARE_RESET about the
 *	function was taken, queued or answered BUSY: the quiesce timeout
 *	counts from it.
 * @method: method used at quiesce; only touched by @work.
 * @planned: the quiesce was for a planned reset; only touched by @work.
 * @released: the driver was released at quiesce; only touched by @work.
 * @vote: error_detected() result at quiesce; only touched by @work.
 * @drv: driver bound at quiesce, compared (never dereferenced) at REINIT
 *	so that a driver bound meanwhile is not called back; set by @work,
 *	cleared when a driver binds, both under the device lock.
 * @perm_ours: pvrecover itself set the channel state to perm_failure
 *	(PERM_FAILURE), so a later RESET_DONE may set it back; a perm_failure
 *	set by the PCI core (a disconnected function) is never set back.
 *	Only touched by @work.
 * @reset_hidden: the function's reset methods are hidden while it is
 *	QUIESCED, so that the PCI core refuses to reset it (see recover.c);
 *	under device_lock(&@pdev->dev), only touched by @work.
 * @reset_methods: the methods hidden, put back when it leaves QUIESCED.
 * @pm_held: a runtime PM reference is held on @pdev: from the start of an
 *	action until the device is back to IDLE or OFFLINE, as the AER core
 *	does for the length of a recovery; only touched by @work.
 * @snap: config space snapshot, under device_lock(&@pdev->dev).
 * @born: for a function the guest added while pvrecover ran, the index
 *	(pvr_dev.taken) of the first noticeq buffer the device used after
 *	that: a notice in an earlier one was written before the function
 *	existed in the guest, so it is about whatever was at its address
 *	then (spec 7.8).  Zero for the functions found at probe.  Under
 *	pvr_dev.ctx_lock.
 */
struct pvr_ctx {
	struct list_head node;
	struct pvr_dev *pv;
	struct pci_dev *pdev;
	struct work_struct work;
	struct delayed_work expire;
	spinlock_t lock; /* see above */
	struct pvr_queued queue[PVR_CTX_QUEUE_LEN];
	unsigned int head;
	unsigned int count;
	bool scheduled;
	bool want_snapshot;
	bool expire_due;
	bool expire_off;
	bool removed;
	bool gone;
	enum pvr_state state;
	struct pvr_queued first;
	ktime_t first_taken;
	u16 method;
	bool planned;
	bool released;
	pci_ers_result_t vote;
	const struct pci_driver *drv;
	bool perm_ours;
	bool reset_hidden;
	u8 reset_methods[PCI_NUM_RESET_METHODS];
	bool pm_held;
	struct pci_saved_state *snap;
	u64 born;
};

/**
 * struct pvr_ack_buf - one ack in flight
 * @node: entry in pvr_dev.ack_pending while waiting for room.
 * @ack: the wire struct the device reads.
 */
struct pvr_ack_buf {
	struct list_head node;
	struct virtio_pvrecover_ack ack;
};

/**
 * struct pvr_dev - one virtio-pvrecover device
 * @vdev: the virtio device.
 * @self: the PCI function carrying @vdev (NULL if not on PCI); never
 *	recovered by this driver.
 * @notice_vq: device-to-driver notices; only touched by @rx_work once
 *	the device is live.
 * @ack_vq: driver-to-device acks, under @lock.
 * @nbufs: notice buffers.
 * @nr_nbufs: number of @nbufs allocated.
 * @rx_lock: serialises the uses of @notice_vq once it is live (@rx_work
 *	and pvr_notices_mark()), and protects @early and @taken.
 * @early: buffers pvr_notices_mark() took off @notice_vq, oldest first,
 *	for @rx_work to handle before any other; a ring.  Never longer than
 *	the number of buffers, which are posted again only once handled.
 * @early_head: index of the oldest entry of @early.
 * @early_count: entries in @early.
 * @taken: buffers taken off @notice_vq so far.
 * @rx_work: drains @early and @notice_vq.
 * @wq: unbound workqueue for @rx_work and the contexts' work.
 * @lock: protects @ack_vq, @ack_pending, @nr_ack_pending and @ready.
 * @ack_pending: acks waiting for room in @ack_vq.
 * @nr_ack_pending: length of @ack_pending.
 * @ready: the virtqueues are live: callbacks may schedule work, acks may be
 *	sent.
 * @planned_ok: VIRTIO_PVRECOVER_F_PLANNED_RESET was negotiated.
 * @version: protocol version from the config space.
 * @ack_timeout_ms: from the config space (informative).
 * @max_deadline_ms: from the config space (informative).
 * @quiesce_timeout_ms: from the config space with
 *	VIRTIO_PVRECOVER_F_QUIESCE_TIMEOUT, else
 *	PVR_QUIESCE_TIMEOUT_DEFAULT_MS: how long a function stays QUIESCED
 *	without a second half before it is resumed.
 * @ctx_lock: protects @ctxs; taken under device_lock() of a PCI function,
 *	never the other way round.
 * @ctxs: list of struct pvr_ctx.
 * @nb: PCI bus notifier.
 * @pm_nb: system sleep notifier: no suspend while a function is quiesced.
 * @cnt: counters, see enum pvr_counter.
 * @last_recovery_us: duration of the last successful recovery.
 */
struct pvr_dev {
	struct virtio_device *vdev;
	struct pci_dev *self;
	struct virtqueue *notice_vq;
	struct virtqueue *ack_vq;
	struct virtio_pvrecover_notice *nbufs[PVR_NOTICE_BUFS_MAX];
	unsigned int nr_nbufs;
	struct mutex rx_lock; /* see above */
	struct pvr_taken early[PVR_NOTICE_BUFS_MAX];
	unsigned int early_head;
	unsigned int early_count;
	u64 taken;
	struct work_struct rx_work;
	struct workqueue_struct *wq;
	spinlock_t lock; /* see above */
	struct list_head ack_pending;
	unsigned int nr_ack_pending;
	bool ready;
	bool planned_ok;
	u32 version;
	u32 ack_timeout_ms;
	u32 max_deadline_ms;
	u32 quiesce_timeout_ms;
	struct mutex ctx_lock; /* see above */
	struct list_head ctxs;
	struct notifier_block nb;
	struct notifier_block pm_nb;
	atomic64_t cnt[PVR_CNT_NR];
	atomic64_t last_recovery_us;
};

extern const struct attribute_group *pvr_groups[];

void pvr_count(struct pvr_dev *pv, enum pvr_counter c);
u32 pvr_elapsed_us(ktime_t start);
void pvr_send_ack(struct pvr_dev *pv, const struct pci_dev *pdev,
		  const struct pvr_notice *n, u16 status, u16 method,
		  u32 guest_us);

int pvr_recover_init(struct pvr_dev *pv);
void pvr_recover_stop(struct pvr_dev *pv);
void pvr_recover_exit(struct pvr_dev *pv);
void pvr_dispatch(struct pvr_dev *pv, const struct pvr_notice *n,
		  ktime_t start, u64 idx);
u64 pvr_notices_mark(struct pvr_dev *pv);

#endif /* _PVRECOVER_H */
