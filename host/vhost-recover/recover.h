/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vhost-recover: internal interfaces between the device file (main.c), the
 * attached vfio-pci functions (attach.c), the notice queues (queue.c) and
 * planned resets (plan.c).
 */
#ifndef _VHOST_RECOVER_H
#define _VHOST_RECOVER_H

#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/ratelimit.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/virtio_pvrecover.h>
#include <linux/vhost_recover.h>

#include "vhost.h"
#include "compat.h"

/* Notices waiting for a guest buffer: per function, and in all. */
#define VREC_QUEUE_PER_FN	16
#define VREC_QUEUE_MAX		256
/* Notices sent and waiting for an acknowledgment. */
#define VREC_SENT_MAX		256
/* Timed-out notices remembered so that a late answer is still matched. */
#define VREC_LATE_MAX		64
/* Buffers a virtqueue handler takes per run before it yields. */
#define VREC_PKT_WEIGHT		64
#define VREC_BYTE_WEIGHT	(VREC_PKT_WEIGHT * 32)
/*
 * How often the host's own recovery of a function is checked, in jiffies:
 * every tick (4 ms at HZ=250), since the PCI core tells no one when it
 * is done and reset-done waits for the check that sees it.  Only while a
 * recovery runs, at most recovery_timeout_ms.
 */
#define VREC_WATCH_JIFFIES	1
/* ... and, once it took longer than recovery_timeout_ms, how often. */
#define VREC_OVERDUE_MS		1000
/* How often outstanding notices are checked for the ack timeout. */
#define VREC_TIMEOUT_POLL_MS	100

#define VREC_ACK_TIMEOUT_MS	5000
#define VREC_ACK_TIMEOUT_MAX	600000

struct vrec_fn;

/**
 * struct vrec_notice - one notice, from queueing until answered or forgotten
 * @node: in its function's pending list, in vrec.sent or in vrec.late.
 * @seq: sequence number.
 * @type: VIRTIO_PVRECOVER_N_*.
 * @flags: VIRTIO_PVRECOVER_NF_*.
 * @cookie: the function's cookie.
 * @addr: the function's guest address, as sent.
 * @host: the function's host name, for log lines after it is detached.
 * @deadline_ms: PREPARE_RESET only: the deadline announced; zero otherwise.
 * @queued: when it was queued; the ack timeout and round trip start here.
 * @timed_out: the timeout was reported.
 * @sending: the send loop is writing it; coalescing must leave it alone.
 */
struct vrec_notice {
	struct list_head node;
	u32 seq;
	u16 type;
	u16 flags;
	u32 cookie;
	struct virtio_pvrecover_addr addr;
	char host[16];
	u32 deadline_ms;
	ktime_t queued;
	bool timed_out;
	bool sending;
};

struct vhost_recover;
struct vrec_plan;

/**
 * struct vrec_fn - a vfio-pci function attached to a vhost-recover file
 * @node: in vhost_recover.fns.
 * @vrec: the file.
 * @pdev: the host function (a reference is held).
 * @group: the VFIO group file that proved ownership at attach, held until
 *	detach: vfio lets a group be open once, so the function cannot be
 *	given to another owner while it is attached here.
 * @cookie: the owner's name for it.
 * @addr: its identity in the guest.
 * @error_ctx: its vfio error eventfd.
 * @wait: our entry on @error_ctx's wait queue.
 * @pt: used once, to add @wait.
 * @error_bits: VREC_ERR_* seen by the wakeup, taken by @error_work.
 * @error_work: turns error signals into notices.
 * @state_lock: serialises @error_work and @watch, which run on system_wq
 *	and could otherwise run at once: @watch_start, @watching and
 *	@overdue change, and the notices they decide are queued, under it.
 *	Never taken in the host's recovery: the wakeup only queues work.
 * @error_rs: limits the rate of its log lines: the owner can signal the
 *	eventfd as often as it likes.
 * @watch: polls the host's own recovery of @pdev.
 * @watch_start: when @watch started (jiffies); under @state_lock.
 * @watching: @watch is between an error and the end of recovery; changed
 *	under @state_lock, read without it by planned resets.
 * @overdue: the recovery took too long and PERM_FAILURE went out; a late
 *	end still sends RESET_DONE; under @state_lock.
 * @pending: notices not yet in a guest buffer, oldest first.
 * @npending: their number.
 * @plan: the planned reset it is in, or NULL; under vhost_recover.plan_mutex.
 */
struct vrec_fn {
	struct list_head node;
	struct vhost_recover *vrec;
	struct pci_dev *pdev;
	struct file *group;
	u32 cookie;
	struct virtio_pvrecover_addr addr;
	struct eventfd_ctx *error_ctx;
	wait_queue_entry_t wait;
	poll_table pt;
	unsigned long error_bits;
	struct work_struct error_work;
	struct mutex state_lock;	/* see @state_lock above */
	struct ratelimit_state error_rs;
	struct delayed_work watch;
	unsigned long watch_start;
	bool watching;
	bool overdue;
	struct list_head pending;
	unsigned int npending;
	struct vrec_plan *plan;
};

/* vrec_fn.error_bits */
#define VREC_ERR_NONFATAL	0	/* signalled with error_state normal */
#define VREC_ERR_FATAL		1	/* ... frozen: the host resets it */
#define VREC_ERR_FAILED		2	/* ... perm_failure */

/**
 * struct vhost_recover - one open /dev/vhost-recover
 * @dev: the vhost device.
 * @vqs: noticeq and ackq.
 * @send_work: writes pending notices to noticeq buffers.
 * @timeout_work: reports notices not acknowledged in time.
 * @plan_mutex: serialises the planned resets' changes that sleep (start,
 *	end, a function leaving, the plan's work) and protects vrec_fn.plan.
 *	Taken before @lock and never in the vhost worker.
 * @lock: protects everything below, and the pending lists of @fns.
 * @fns: attached functions.
 * @nfns: their number.
 * @next_seq: sequence number of the next notice; never 0.
 * @npending: notices pending over all functions.
 * @sent: notices in guest buffers waiting for an answer, oldest first.
 * @nsent: their number.
 * @late: timed-out notices still matched by a late answer, oldest first.
 * @nlate: their number.
 * @ack_timeout_ms: set by VHOST_RECOVER_SET_ACK_TIMEOUT.
 * @event_ctx: signalled when @events has records.
 * @events: records for the owner, a ring.
 * @ev_head: index of the oldest record.
 * @ev_count: records in the ring.
 * @ev_lost: records dropped since the owner last read them.
 * @stats: counters, as reported by VHOST_RECOVER_GET_STATS.
 * @plans: planned resets, struct vrec_plan; changed with @plan_mutex held
 *	too, so either lock keeps it stable.
 */
struct vhost_recover {
	struct vhost_dev dev;
	struct vhost_virtqueue vqs[VIRTIO_PVRECOVER_VQ_MAX];
	struct vhost_work send_work;
	struct delayed_work timeout_work;
	struct mutex plan_mutex;	/* see @plan_mutex above */

	spinlock_t lock;	/* see @lock above */
	struct list_head fns;
	unsigned int nfns;
	u32 next_seq;
	unsigned int npending;
	struct list_head sent;
	unsigned int nsent;
	struct list_head late;
	unsigned int nlate;
	u32 ack_timeout_ms;
	struct eventfd_ctx *event_ctx;
	struct vhost_recover_event events[VHOST_RECOVER_EVENTS_MAX];
	unsigned int ev_head;
	unsigned int ev_count;
	unsigned int ev_lost;
	struct vhost_recover_stats stats;
	struct list_head plans;
};

/* queue.c */
void vrec_queue_init(struct vhost_recover *vrec);
u32 vrec_queue_notice(struct vrec_fn *fn, u16 type, u16 flags,
		      const char *what, struct ratelimit_state *rs);
u32 vrec_queue_plan(struct vrec_fn *fn, u16 type, u32 deadline_ms, u32 *seqp,
		    const char *what);
void vrec_event(struct vhost_recover *vrec, const struct vrec_notice *n,
		u16 status, u16 method, u16 flags, u32 guest_us);
void vrec_handle_ack_kick(struct vhost_work *work);
void vrec_handle_notice_kick(struct vhost_work *work);
void vrec_drop_pending(struct vrec_fn *fn);
unsigned int vrec_queue_forget(struct vhost_recover *vrec);
void vrec_queue_cleanup(struct vhost_recover *vrec);
int vrec_get_events(struct vhost_recover *vrec,
		    struct vhost_recover_events __user *argp);
const char *vrec_notice_name(u16 type);

/* attach.c */
int vrec_attach(struct vhost_recover *vrec,
		const struct vhost_recover_attach *a);
int vrec_detach(struct vhost_recover *vrec, u32 cookie);
void vrec_detach_all(struct vhost_recover *vrec);
struct vrec_fn *vrec_find_fn(struct vhost_recover *vrec, u32 cookie,
			     struct pci_dev *pdev);
unsigned int vrec_recovery_timeout(void);

/* plan.c */
void vrec_plan_init(struct vhost_recover *vrec);
int vrec_plan_reset(struct vhost_recover *vrec, struct vhost_recover_reset *r);
int vrec_plan_done(struct vhost_recover *vrec,
		   const struct vhost_recover_reset_done *d);
void vrec_plan_ack(struct vhost_recover *vrec, const struct vrec_notice *n);
void vrec_plan_leave(struct vrec_fn *fn);
unsigned int vrec_plan_forget(struct vhost_recover *vrec);
void vrec_plan_cleanup(struct vhost_recover *vrec);

#endif /* _VHOST_RECOVER_H */
