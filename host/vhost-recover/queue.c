// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-recover: notices from queueing to answer.
 *
 * A notice is queued on its function (bounded, coalesced), written to a
 * noticeq buffer by the vhost worker, and then waits on the sent list for
 * the guest's acknowledgment until the ack timeout moves it to the late
 * list.  Nothing here ever waits for the guest, and nothing the guest writes
 * makes the host act on a function: acknowledgments are only matched,
 * counted and reported to the owner as event records.  The one exception
 * (spec 7.6) is an answer to PREPARE_RESET, which may bring a planned reset
 * forward; plan.c decides that.
 */
#define pr_fmt(fmt) "vhost-recover: " fmt

#include <linux/eventfd.h>
#include <linux/ktime.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/uio.h>

#include "recover.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

const char *vrec_notice_name(u16 type)
{
	switch (type) {
	case VIRTIO_PVRECOVER_N_ERROR_DETECTED:
		return "error-detected";
	case VIRTIO_PVRECOVER_N_RESET_DONE:
		return "reset-done";
	case VIRTIO_PVRECOVER_N_STATE_LOST:
		return "state-lost";
	case VIRTIO_PVRECOVER_N_PERM_FAILURE:
		return "perm-failure";
	case VIRTIO_PVRECOVER_N_PREPARE_RESET:
		return "prepare-reset";
	}
	return "unknown";
}

static u32 vrec_since_us(ktime_t t)
{
	s64 us = ktime_us_delta(ktime_get(), t);

	return clamp_t(s64, us, 0, U32_MAX);
}

/**
 * vrec_event - add a record for the owner
 * @vrec: the file
 * @n: the notice it is about: cookie, seq, type, and queueing time for
 *	rtt_us
 * @status: the record's status
 * @method: the record's method
 * @flags: VHOST_RECOVER_EV_*
 * @guest_us: the record's guest_us
 *
 * Called with @vrec->lock held.  The oldest record goes if the owner has not
 * read them.
 */
void vrec_event(struct vhost_recover *vrec, const struct vrec_notice *n,
		u16 status, u16 method, u16 flags, u32 guest_us)
{
	struct vhost_recover_event *ev;

	lockdep_assert_held(&vrec->lock);
	if (vrec->ev_count == VHOST_RECOVER_EVENTS_MAX) {
		vrec->ev_head = (vrec->ev_head + 1) % VHOST_RECOVER_EVENTS_MAX;
		vrec->ev_count--;
		vrec->stats.events_lost++;
		vrec->ev_lost++;
	}
	ev = &vrec->events[(vrec->ev_head + vrec->ev_count) %
			   VHOST_RECOVER_EVENTS_MAX];
	vrec->ev_count++;
	*ev = (struct vhost_recover_event) {
		.cookie = n->cookie,
		.seq = n->seq,
		.notice = n->type,
		.status = status,
		.method = method,
		.flags = flags,
		.guest_us = guest_us,
		.rtt_us = vrec_since_us(n->queued),
	};
	if (vrec->event_ctx)
		vrec_eventfd_signal(vrec->event_ctx);
}

static void vrec_arm_timeout(struct vhost_recover *vrec)
{
	queue_delayed_work(system_wq, &vrec->timeout_work,
			   msecs_to_jiffies(READ_ONCE(vrec->ack_timeout_ms)));
}

/* The first half of a reset that RESET_DONE completes. */
static bool vrec_announces_reset(const struct vrec_notice *n)
{
	return (n->type == VIRTIO_PVRECOVER_N_ERROR_DETECTED &&
		(n->flags & VIRTIO_PVRECOVER_NF_FATAL)) ||
	       n->type == VIRTIO_PVRECOVER_N_PREPARE_RESET;
}

/*
 * Coalesce with the last queued notice of the function (spec 7.5): an
 * identical notice adds nothing, and ERROR_DETECTED(fatal) or PREPARE_RESET
 * followed by its RESET_DONE is the one-shot STATE_LOST: the guest that
 * took neither half in time has a function that was already reset.
 * Notices being written to a buffer, or already reported as timed out, are
 * left alone.
 */
static struct vrec_notice *vrec_coalesce(struct vrec_fn *fn, u16 type,
					 u16 flags, u32 deadline_ms)
{
	struct vrec_notice *last;

	if (list_empty(&fn->pending))
		return NULL;
	last = list_last_entry(&fn->pending, struct vrec_notice, node);
	if (last->sending || last->timed_out)
		return NULL;
	if (last->type == type && last->flags == flags &&
	    last->deadline_ms == deadline_ms)
		return last;
	if (vrec_announces_reset(last) &&
	    type == VIRTIO_PVRECOVER_N_RESET_DONE) {
		last->type = VIRTIO_PVRECOVER_N_STATE_LOST;
		last->flags = 0;
		last->deadline_ms = 0;
		return last;
	}
	return NULL;
}

/* Both of vrec_queue_notice() and vrec_queue_plan(); see there. */
static u32 vrec_queue(struct vrec_fn *fn, u16 type, u16 flags,
		      u32 deadline_ms, u32 *seqp, const char *what,
		      struct ratelimit_state *rs)
{
	struct vhost_recover *vrec = fn->vrec;
	struct vrec_notice *n, *joined;
	bool merged = false;
	u16 carried = type;
	u32 seq = 0;

	n = kzalloc(sizeof(*n), GFP_KERNEL);

	spin_lock(&vrec->lock);
	joined = vrec_coalesce(fn, type, flags, deadline_ms);
	if (joined) {
		vrec->stats.notices_coalesced++;
		merged = true;
		seq = joined->seq;
		carried = joined->type;
		goto out;
	}
	if (!n || fn->npending >= VREC_QUEUE_PER_FN ||
	    vrec->npending >= VREC_QUEUE_MAX) {
		struct vrec_notice dropped = {
			.cookie = fn->cookie, .type = type, .queued = ktime_get(),
		};

		vrec->stats.notices_dropped++;
		vrec_event(vrec, &dropped, 0, 0, VHOST_RECOVER_EV_DROPPED, 0);
		trace_vhost_recover_notice_dropped(pci_name(fn->pdev), 0, type,
						   VREC_DROP_QUEUE_FULL);
		pr_warn_ratelimited("%s: queue full, %s dropped\n",
				    pci_name(fn->pdev), vrec_notice_name(type));
		goto out;
	}

	seq = vrec->next_seq++;
	if (!vrec->next_seq)
		vrec->next_seq = 1;
	n->seq = seq;
	n->type = type;
	n->flags = flags;
	n->cookie = fn->cookie;
	n->addr = fn->addr;
	strscpy(n->host, pci_name(fn->pdev), sizeof(n->host));
	n->deadline_ms = deadline_ms;
	n->queued = ktime_get();
	list_add_tail(&n->node, &fn->pending);
	fn->npending++;
	vrec->npending++;
	vrec->stats.notices_queued++;
	n = NULL;
	vrec_arm_timeout(vrec);
out:
	if (seqp)
		*seqp = seq;
	/* A dropped notice was logged above, rate limited. */
	if (seq)
		trace_vhost_recover_notice_queued(pci_name(fn->pdev), seq, type,
						  flags, deadline_ms, carried,
						  merged);
	if (seq && what && (!rs || __ratelimit(rs)))
		pr_info("%s: %s, seq %u %s queued%s\n", pci_name(fn->pdev), what,
			seq, vrec_notice_name(type),
			carried != type ? " (merged into state-lost)" : "");
	spin_unlock(&vrec->lock);
	kfree(n);
	if (seq)
		vrec_work_queue(&vrec->vqs[VIRTIO_PVRECOVER_VQ_NOTICE],
				&vrec->send_work);
	return seq;
}

/**
 * vrec_queue_notice - queue a notice about an attached function, and say so
 * @fn: the function
 * @type: VIRTIO_PVRECOVER_N_*, not PREPARE_RESET
 * @flags: VIRTIO_PVRECOVER_NF_*
 * @what: NULL, or a kernel log line's start: "<BDF>: @what, seq S <type>
 *	queued" follows, with " (merged into state-lost)" if it was merged
 *	into one.  Only for the line of a host recovery (once per recovery)
 *	or a failure: each notice is traced (vhost_recover_notice_queued).
 * @rs: if not NULL, limits the rate of those lines
 *
 * Process context.  The notice goes to the guest as soon as the worker
 * finds a noticeq buffer.  It is traced and logged with @fn->vrec->lock
 * held: its "sent" event, and its answer, both taken under that lock,
 * cannot overtake it.
 *
 * Return: the sequence number that carries it (that of the notice it was
 * merged into, if coalesced), or 0 if the function's queue was full.
 */
u32 vrec_queue_notice(struct vrec_fn *fn, u16 type, u16 flags,
		      const char *what, struct ratelimit_state *rs)
{
	return vrec_queue(fn, type, flags, 0, NULL, what, rs);
}

/**
 * vrec_queue_plan - queue a notice of a planned reset, and say so
 * @fn: the function
 * @type: VIRTIO_PVRECOVER_N_*
 * @deadline_ms: PREPARE_RESET: the deadline it announces; else zero
 * @seqp: if not NULL, receives the sequence number that carries it
 * @what: as for vrec_queue_notice(): the end of a planned reset, NULL for
 *	its prepare-reset; never rate limited, as only the owner's planned
 *	resets make these lines
 *
 * Process context.  The sequence number is stored, and the notice traced
 * and logged, with @fn->vrec->lock held: its "sent" event and its answer,
 * both taken under that lock, cannot overtake them.
 *
 * Return: as vrec_queue_notice().
 */
u32 vrec_queue_plan(struct vrec_fn *fn, u16 type, u32 deadline_ms, u32 *seqp,
		    const char *what)
{
	return vrec_queue(fn, type, 0, deadline_ms, seqp, what, NULL);
}

/* The oldest pending notice of the function that was served longest ago. */
static struct vrec_notice *vrec_next_pending(struct vhost_recover *vrec,
					     struct vrec_fn **fnp)
{
	struct vrec_notice *n;
	struct vrec_fn *fn;

	list_for_each_entry(fn, &vrec->fns, node) {
		n = list_first_entry_or_null(&fn->pending, struct vrec_notice,
					     node);
		if (n) {
			*fnp = fn;
			return n;
		}
	}
	return NULL;
}

static void vrec_to_wire(const struct vrec_notice *n,
			 struct virtio_pvrecover_notice *w)
{
	memset(w, 0, sizeof(*w));
	w->seq = cpu_to_le32(n->seq);
	w->type = cpu_to_le16(n->type);
	w->flags = cpu_to_le16(n->flags);
	w->addr = n->addr;
	w->deadline_ms = cpu_to_le32(n->deadline_ms);
}

/* Keep at most VREC_LATE_MAX timed-out notices for late answers. */
static void vrec_add_late(struct vhost_recover *vrec, struct vrec_notice *n)
{
	struct vrec_notice *old;

	list_add_tail(&n->node, &vrec->late);
	if (++vrec->nlate > VREC_LATE_MAX) {
		old = list_first_entry(&vrec->late, struct vrec_notice, node);
		list_del(&old->node);
		vrec->nlate--;
		kfree(old);
	}
}

static void vrec_report_timeout(struct vhost_recover *vrec,
				struct vrec_notice *n)
{
	n->timed_out = true;
	vrec->stats.timeouts++;
	vrec_event(vrec, n, 0, 0, VHOST_RECOVER_EV_TIMEOUT, 0);
	trace_vhost_recover_notice_timed_out(n);
	pr_info_ratelimited("%s: seq %u timed out\n", n->host, n->seq);
}

/* The notice is in a guest buffer: it now waits for its answer. */
static void vrec_mark_sent(struct vhost_recover *vrec, struct vrec_fn *fn,
			   struct vrec_notice *n)
{
	struct vrec_notice *old;

	list_del(&n->node);
	fn->npending--;
	vrec->npending--;
	n->sending = false;
	vrec->stats.notices_sent++;
	/* Served: let the other functions go first next time. */
	list_move_tail(&fn->node, &vrec->fns);

	if (n->timed_out) {
		vrec_add_late(vrec, n);
		return;
	}
	list_add_tail(&n->node, &vrec->sent);
	if (++vrec->nsent > VREC_SENT_MAX) {
		/* A guest that takes notices but never answers. */
		old = list_first_entry(&vrec->sent, struct vrec_notice, node);
		list_del(&old->node);
		vrec->nsent--;
		vrec_report_timeout(vrec, old);
		vrec_add_late(vrec, old);
	}
}

/*
 * Write one notice into the buffer @head.  A buffer the guest made
 * unusable (device-readable, too small, faulting) is given back empty and
 * counted; the notice then waits for the next one.
 */
static bool vrec_fill(struct vhost_recover *vrec, struct vhost_virtqueue *vq,
		      int head, unsigned int out, unsigned int in,
		      const struct virtio_pvrecover_notice *wire)
{
	size_t len = iov_length(vq->iov + out, in);
	struct iov_iter iter;

	if (!out && len >= sizeof(*wire)) {
		iov_iter_init(&iter, ITER_DEST, vq->iov, in, sizeof(*wire));
		if (copy_to_iter(wire, sizeof(*wire), &iter) == sizeof(*wire)) {
			vhost_add_used(vq, head, sizeof(*wire));
			return true;
		}
	}
	vq_err(vq, "noticeq: unusable buffer (%u readable, %u writable descriptors, %zu bytes)\n",
	       out, in, len);
	pr_info_ratelimited("noticeq: unusable buffer (%u readable, %u writable descriptors, %zu bytes), given back empty\n",
			    out, in, len);
	vhost_add_used(vq, head, 0);
	spin_lock(&vrec->lock);
	vrec->stats.buffers_invalid++;
	spin_unlock(&vrec->lock);
	return false;
}

/* The notice stays first in its queue, for the next buffer. */
static void vrec_unsend(struct vhost_recover *vrec, struct vrec_notice *n)
{
	spin_lock(&vrec->lock);
	n->sending = false;
	spin_unlock(&vrec->lock);
}

/* Write pending notices to noticeq buffers; the guest posts them empty. */
static void vrec_send(struct vhost_recover *vrec)
{
	struct vhost_virtqueue *vq = &vrec->vqs[VIRTIO_PVRECOVER_VQ_NOTICE];
	struct virtio_pvrecover_notice wire;
	int pkts = 0, total_len = 0;
	struct vrec_notice *n;
	struct vrec_fn *fn;
	unsigned int out, in;
	bool added = false;
	bool sent;
	int head;

	mutex_lock(&vq->mutex);
	if (!vhost_vq_get_backend(vq))
		goto out;
	if (!vq_meta_prefetch(vq))
		goto out;
	vhost_disable_notify(&vrec->dev, vq);

	for (;;) {
		spin_lock(&vrec->lock);
		n = vrec_next_pending(vrec, &fn);
		if (n) {
			n->sending = true;
			vrec_to_wire(n, &wire);
		}
		spin_unlock(&vrec->lock);
		if (!n) {
			vhost_enable_notify(&vrec->dev, vq);
			break;
		}

		head = vhost_get_vq_desc(vq, vq->iov, ARRAY_SIZE(vq->iov),
					 &out, &in, NULL, NULL);
		if (head == vq->num || head < 0) {
			vrec_unsend(vrec, n);
			/* Buffers may have come in while notifications were off. */
			if (head == vq->num &&
			    unlikely(vhost_enable_notify(&vrec->dev, vq))) {
				vhost_disable_notify(&vrec->dev, vq);
				continue;
			}
			/* No buffer (or a broken ring): the notice waits. */
			break;
		}
		sent = vrec_fill(vrec, vq, head, out, in, &wire);
		added = true;

		if (!sent) {
			vrec_unsend(vrec, n);
		} else {
			spin_lock(&vrec->lock);
			vrec_mark_sent(vrec, fn, n);
			trace_vhost_recover_notice_sent(n);
			spin_unlock(&vrec->lock);
		}

		total_len += sizeof(wire);
		if (vhost_exceeds_weight(vq, ++pkts, total_len))
			break;
	}
	if (added)
		vhost_signal(&vrec->dev, vq);
out:
	mutex_unlock(&vq->mutex);
}

static void vrec_send_work(struct vhost_work *work)
{
	vrec_send(container_of(work, struct vhost_recover, send_work));
}

void vrec_handle_notice_kick(struct vhost_work *work)
{
	struct vhost_virtqueue *vq = container_of(work, struct vhost_virtqueue,
						  poll.work);

	vrec_send(container_of(vq->dev, struct vhost_recover, dev));
}

static struct vrec_notice *vrec_find(struct list_head *list, u32 seq)
{
	struct vrec_notice *n;

	list_for_each_entry(n, list, node)
		if (n->seq == seq)
			return n;
	return NULL;
}

static bool vrec_ack_well_formed(const struct virtio_pvrecover_ack *a)
{
	u16 status = le16_to_cpu(a->status);

	return status >= VIRTIO_PVRECOVER_S_PREPARED &&
	       status <= VIRTIO_PVRECOVER_S_BUSY &&
	       le16_to_cpu(a->method) <= VIRTIO_PVRECOVER_M_REPROBE &&
	       !a->reserved && !a->reserved2;
}

/*
 * Match one acknowledgment (spec 7.6); it is only counted and reported,
 * and an answer to PREPARE_RESET may make a planned reset due.
 */
static void vrec_take_ack(struct vhost_recover *vrec,
			  const struct virtio_pvrecover_ack *a)
{
	u32 seq = le32_to_cpu(a->seq);
	struct vrec_notice *n;
	bool late = false;

	spin_lock(&vrec->lock);
	if (!vrec_ack_well_formed(a)) {
		vrec->stats.acks_invalid++;
		goto out;
	}
	n = vrec_find(&vrec->sent, seq);
	if (!n) {
		n = vrec_find(&vrec->late, seq);
		late = true;
	}
	if (!n) {
		vrec->stats.acks_unmatched++;
		goto out;
	}
	if (le16_to_cpu(a->type) != n->type ||
	    memcmp(&a->addr, &n->addr, sizeof(n->addr))) {
		vrec->stats.acks_invalid++;
		goto out;
	}
	vrec->stats.acks++;
	trace_vhost_recover_notice_answered(n, le16_to_cpu(a->status),
					    le16_to_cpu(a->method),
					    le32_to_cpu(a->guest_us), late);
	vrec_event(vrec, n, le16_to_cpu(a->status), le16_to_cpu(a->method),
		   late ? VHOST_RECOVER_EV_LATE : 0, le32_to_cpu(a->guest_us));
	vrec_plan_ack(vrec, n);
	list_del(&n->node);
	if (late)
		vrec->nlate--;
	else
		vrec->nsent--;
	kfree(n);
out:
	spin_unlock(&vrec->lock);
}

void vrec_handle_ack_kick(struct vhost_work *work)
{
	struct vhost_virtqueue *vq = container_of(work, struct vhost_virtqueue,
						  poll.work);
	struct vhost_recover *vrec = container_of(vq->dev, struct vhost_recover,
						  dev);
	struct virtio_pvrecover_ack ack;
	int pkts = 0, total_len = 0;
	struct iov_iter iter;
	unsigned int out, in;
	bool added = false;
	size_t len;
	int head;

	mutex_lock(&vq->mutex);
	if (!vhost_vq_get_backend(vq))
		goto out;
	if (!vq_meta_prefetch(vq))
		goto out;
	vhost_disable_notify(&vrec->dev, vq);

	for (;;) {
		head = vhost_get_vq_desc(vq, vq->iov, ARRAY_SIZE(vq->iov),
					 &out, &in, NULL, NULL);
		if (head < 0)
			break;
		if (head == vq->num) {
			if (unlikely(vhost_enable_notify(&vrec->dev, vq))) {
				vhost_disable_notify(&vrec->dev, vq);
				continue;
			}
			break;
		}

		len = iov_length(vq->iov, out);
		iov_iter_init(&iter, ITER_SOURCE, vq->iov, out, len);
		if (in || len != sizeof(ack) ||
		    copy_from_iter(&ack, sizeof(ack), &iter) != sizeof(ack)) {
			spin_lock(&vrec->lock);
			vrec->stats.acks_invalid++;
			spin_unlock(&vrec->lock);
			pr_info_ratelimited("ackq: invalid buffer (%u out, %u in, %zu bytes)\n",
					    out, in, len);
		} else {
			vrec_take_ack(vrec, &ack);
		}
		vhost_add_used(vq, head, 0);
		added = true;

		total_len += min_t(size_t, len, sizeof(ack));
		if (vhost_exceeds_weight(vq, ++pkts, total_len))
			break;
	}
	if (added)
		vhost_signal(&vrec->dev, vq);
out:
	mutex_unlock(&vq->mutex);
}

static bool vrec_expired(const struct vrec_notice *n, ktime_t now, s64 ms)
{
	return !n->timed_out && ktime_ms_delta(now, n->queued) >= ms;
}

/*
 * Report notices the guest did not answer in time.  Queued ones stay queued
 * (the next driver still gets them); sent ones go to the late list.
 */
static void vrec_timeout_work(struct work_struct *work)
{
	struct vhost_recover *vrec = container_of(to_delayed_work(work),
						  struct vhost_recover,
						  timeout_work);
	s64 ms = READ_ONCE(vrec->ack_timeout_ms);
	struct vrec_notice *n, *tmp;
	ktime_t now = ktime_get();
	bool more = false;
	struct vrec_fn *fn;

	spin_lock(&vrec->lock);
	list_for_each_entry(fn, &vrec->fns, node)
		list_for_each_entry(n, &fn->pending, node) {
			if (vrec_expired(n, now, ms))
				vrec_report_timeout(vrec, n);
			more |= !n->timed_out;
		}
	list_for_each_entry_safe(n, tmp, &vrec->sent, node) {
		if (!vrec_expired(n, now, ms)) {
			more = true;
			continue;
		}
		vrec_report_timeout(vrec, n);
		list_del(&n->node);
		vrec->nsent--;
		vrec_add_late(vrec, n);
	}
	/* Check again while anything is outstanding: cheap, and a timeout
	 * is reported at most VREC_TIMEOUT_POLL_MS late.
	 */
	if (more)
		queue_delayed_work(system_wq, &vrec->timeout_work,
				   msecs_to_jiffies(VREC_TIMEOUT_POLL_MS));
	spin_unlock(&vrec->lock);
}

/* Forget one notice of a detached function; the owner hears of it. */
static void vrec_drop(struct vhost_recover *vrec, struct vrec_notice *n)
{
	list_del(&n->node);
	if (!n->timed_out) {
		vrec_event(vrec, n, 0, 0, VHOST_RECOVER_EV_DROPPED, 0);
		trace_vhost_recover_notice_dropped(n->host, n->seq, n->type,
						   VREC_DROP_DETACHED);
		pr_info_ratelimited("%s: seq %u dropped, function detached\n",
				    n->host, n->seq);
	}
	kfree(n);
}

/* Drop @cookie's notices from @list; returns how many went. */
static unsigned int vrec_drop_of(struct vhost_recover *vrec,
				 struct list_head *list, u32 cookie)
{
	struct vrec_notice *n, *tmp;
	unsigned int dropped = 0;

	list_for_each_entry_safe(n, tmp, list, node) {
		if (n->cookie == cookie) {
			vrec_drop(vrec, n);
			dropped++;
		}
	}
	return dropped;
}

/**
 * vrec_drop_pending - forget the notices of a function being detached
 * @fn: the function
 *
 * Queued notices are never sent, and notices sent but not answered are no
 * longer matched to answers: the function may be gone, and whatever the
 * guest finds at its address later is not what they are about.  Each is
 * reported to the owner as a VHOST_RECOVER_EV_DROPPED record with its
 * seq; notices already reported as timed out go silently.  The caller
 * holds noticeq's mutex, so the send loop is not using them.
 */
void vrec_drop_pending(struct vrec_fn *fn)
{
	struct vhost_recover *vrec = fn->vrec;
	struct vrec_notice *n, *tmp;

	spin_lock(&vrec->lock);
	list_for_each_entry_safe(n, tmp, &fn->pending, node) {
		vrec->npending--;
		vrec_drop(vrec, n);
	}
	fn->npending = 0;
	vrec->nsent -= vrec_drop_of(vrec, &vrec->sent, fn->cookie);
	vrec->nlate -= vrec_drop_of(vrec, &vrec->late, fn->cookie);
	spin_unlock(&vrec->lock);
}

static void vrec_free_list(struct list_head *list)
{
	struct vrec_notice *n, *tmp;

	list_for_each_entry_safe(n, tmp, list, node)
		kfree(n);
	INIT_LIST_HEAD(list);
}

/**
 * vrec_queue_forget - forget every notice: the owner reset the guest
 * @vrec: the file
 *
 * Called with the vhost device mutex held.  Notices queued and notices
 * awaiting an answer were meant for the guest that is gone: none may
 * reach the next one (a stale PERM_FAILURE would unbind its driver), and
 * an answer from the old one no longer matches.  No record is made: the
 * owner reset the guest and knows.
 *
 * Return: how many notices were queued or awaiting an answer.
 */
unsigned int vrec_queue_forget(struct vhost_recover *vrec)
{
	struct vhost_virtqueue *vq = &vrec->vqs[VIRTIO_PVRECOVER_VQ_NOTICE];
	unsigned int forgotten;
	struct vrec_fn *fn;

	/* The send loop takes queued notices under noticeq's mutex. */
	mutex_lock(&vq->mutex);
	spin_lock(&vrec->lock);
	forgotten = vrec->npending + vrec->nsent;
	list_for_each_entry(fn, &vrec->fns, node) {
		vrec_free_list(&fn->pending);
		fn->npending = 0;
	}
	vrec->npending = 0;
	vrec_free_list(&vrec->sent);
	vrec->nsent = 0;
	vrec_free_list(&vrec->late);
	vrec->nlate = 0;
	spin_unlock(&vrec->lock);
	mutex_unlock(&vq->mutex);
	return forgotten;
}

void vrec_queue_init(struct vhost_recover *vrec)
{
	spin_lock_init(&vrec->lock);
	INIT_LIST_HEAD(&vrec->fns);
	INIT_LIST_HEAD(&vrec->sent);
	INIT_LIST_HEAD(&vrec->late);
	vrec->next_seq = 1;
	vrec->ack_timeout_ms = VREC_ACK_TIMEOUT_MS;
	vhost_work_init(&vrec->send_work, vrec_send_work);
	INIT_DELAYED_WORK(&vrec->timeout_work, vrec_timeout_work);
}

/* Called once every function is detached and the worker is stopped. */
void vrec_queue_cleanup(struct vhost_recover *vrec)
{
	cancel_delayed_work_sync(&vrec->timeout_work);
	vrec_free_list(&vrec->sent);
	vrec_free_list(&vrec->late);
	vrec->nsent = 0;
	vrec->nlate = 0;
	if (vrec->event_ctx)
		eventfd_ctx_put(vrec->event_ctx);
	vrec->event_ctx = NULL;
}

/* VHOST_RECOVER_GET_EVENTS */
int vrec_get_events(struct vhost_recover *vrec,
		    struct vhost_recover_events __user *argp)
{
	struct vhost_recover_event *buf;
	struct vhost_recover_events arg;
	unsigned int i, n;

	if (copy_from_user(&arg, argp, sizeof(arg)))
		return -EFAULT;
	n = min_t(u32, arg.count, VHOST_RECOVER_EVENTS_MAX);
	buf = kmalloc_array(max(n, 1U), sizeof(*buf), GFP_KERNEL);
	if (!buf)
		return -ENOMEM;

	spin_lock(&vrec->lock);
	n = min(n, vrec->ev_count);
	for (i = 0; i < n; i++)
		buf[i] = vrec->events[(vrec->ev_head + i) %
				      VHOST_RECOVER_EVENTS_MAX];
	vrec->ev_head = (vrec->ev_head + n) % VHOST_RECOVER_EVENTS_MAX;
	vrec->ev_count -= n;
	arg.lost = vrec->ev_lost;
	vrec->ev_lost = 0;
	spin_unlock(&vrec->lock);

	arg.count = n;
	if (copy_to_user(u64_to_user_ptr(arg.events), buf, n * sizeof(*buf)) ||
	    copy_to_user(argp, &arg, sizeof(arg))) {
		/*
		 * Taken off the ring but never delivered: the next call
		 * reports them lost, with those it would have reported now.
		 */
		spin_lock(&vrec->lock);
		vrec->stats.events_lost += n;
		vrec->ev_lost += n + arg.lost;
		spin_unlock(&vrec->lock);
		kfree(buf);
		return -EFAULT;
	}
	kfree(buf);
	return 0;
}
