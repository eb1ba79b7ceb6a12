// SPDX-License-Identifier: GPL-2.0
/*
 * pvrecover: paravirtual PCI error recovery, guest side.
 *
 * The virtio part: the notice and ack virtqueues, the work item that drains
 * notices, and the life cycle of the device (probe, remove, freeze,
 * restore).  The PCI side is in recover.c, the counters in sysfs.c and the
 * protocol logic in notice.c.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/build_bug.h>
#include <linux/delay.h>
#include <linux/module.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/stddef.h>
#include <linux/string.h>
#include <linux/virtio_config.h>

#include "compat.h"
#include "pvrecover.h"

/*
 * For tests only: leave notices in the used ring until this is cleared,
 * as a guest slow to take them would (a notice the device wrote before an
 * unplug, taken after a replug at the same slot: spec 7.8).
 */
static bool test_hold_notices;
module_param(test_hold_notices, bool, 0644);
MODULE_PARM_DESC(test_hold_notices,
		 "for tests only: take no notice off the queue while set (default 0)");

#define CREATE_TRACE_POINTS
#include "trace.h"

/**
 * pvr_count() - bump a counter
 * @pv: the pvrecover device.
 * @c: which counter.
 */
void pvr_count(struct pvr_dev *pv, enum pvr_counter c)
{
	atomic64_inc(&pv->cnt[c]);
}

/**
 * pvr_elapsed_us() - microseconds since a notice was taken off the queue
 * @start: when it was.
 *
 * Return: the time elapsed, clamped to the range of a u32.
 */
u32 pvr_elapsed_us(ktime_t start)
{
	s64 us = ktime_us_delta(ktime_get(), start);

	return clamp_t(s64, us, 0, U32_MAX);
}

static void pvr_count_status(struct pvr_dev *pv, u16 status, u16 method,
			     u32 guest_us)
{
	switch (status) {
	case VIRTIO_PVRECOVER_S_RECOVERED:
		if (method == VIRTIO_PVRECOVER_M_RESET_HOOKS)
			pvr_count(pv, PVR_CNT_RECOVERED_RESET_HOOKS);
		else if (method == VIRTIO_PVRECOVER_M_AER)
			pvr_count(pv, PVR_CNT_RECOVERED_AER);
		else if (method == VIRTIO_PVRECOVER_M_REPROBE)
			pvr_count(pv, PVR_CNT_RECOVERED_REPROBE);
		atomic64_set(&pv->last_recovery_us, guest_us);
		break;
	case VIRTIO_PVRECOVER_S_FAILED:
		pvr_count(pv, PVR_CNT_FAILED);
		break;
	case VIRTIO_PVRECOVER_S_NO_DRIVER:
		pvr_count(pv, PVR_CNT_NO_DRIVER);
		break;
	case VIRTIO_PVRECOVER_S_UNKNOWN_DEVICE:
		pvr_count(pv, PVR_CNT_UNKNOWN_DEVICE);
		break;
	case VIRTIO_PVRECOVER_S_UNSUPPORTED:
		pvr_count(pv, PVR_CNT_UNSUPPORTED);
		break;
	case VIRTIO_PVRECOVER_S_MALFORMED:
		pvr_count(pv, PVR_CNT_MALFORMED);
		break;
	case VIRTIO_PVRECOVER_S_BUSY:
		pvr_count(pv, PVR_CNT_BUSY);
		break;
	default:
		break;
	}
}

/* Free the acks the device has consumed.  Called with pv->lock held. */
static void pvr_ack_reclaim(struct pvr_dev *pv)
{
	struct pvr_ack_buf *b;
	unsigned int len;

	while ((b = virtqueue_get_buf(pv->ack_vq, &len)))
		kfree(b);
}

/* Post one ack.  Called with pv->lock held. */
static int pvr_ack_post(struct pvr_dev *pv, struct pvr_ack_buf *b)
{
	struct scatterlist sg;

	sg_init_one(&sg, &b->ack, sizeof(b->ack));
	return virtqueue_add_outbuf(pv->ack_vq, &sg, 1, b, GFP_ATOMIC);
}

/*
 * Post as many pending acks as fit, oldest first.  Called with pv->lock
 * held.  Returns true if anything was posted.
 */
static bool pvr_ack_flush(struct pvr_dev *pv)
{
	struct pvr_ack_buf *b, *tmp;
	bool posted = false;

	list_for_each_entry_safe(b, tmp, &pv->ack_pending, node) {
		if (pvr_ack_post(pv, b))
			break;
		list_del(&b->node);
		pv->nr_ack_pending--;
		posted = true;
	}
	return posted;
}

/**
 * pvr_send_ack() - answer a notice
 * @pv: the pvrecover device.
 * @pdev: the function the notice named, or NULL (for the trace).
 * @n: the notice answered (fields not marked valid are sent as zero).
 * @status: an enum virtio_pvrecover_status value.
 * @method: an enum virtio_pvrecover_method value.
 * @guest_us: time the guest spent on the notice.
 *
 * Counts the status, then posts the ack, or queues it on the bounded
 * pending list if the ack virtqueue is full.  An ack that can be neither
 * posted nor queued, or that comes after the device stopped, is dropped and
 * counted.  Must be called from process context.
 */
void pvr_send_ack(struct pvr_dev *pv, const struct pci_dev *pdev,
		  const struct pvr_notice *n, u16 status, u16 method,
		  u32 guest_us)
{
	struct pvr_ack_buf *b;
	unsigned long flags;
	bool kick = false;

	trace_pvrecover_notice_answered(pdev, n, status, method, guest_us);
	pvr_count_status(pv, status, method, guest_us);

	b = kmalloc(sizeof(*b), GFP_KERNEL);
	if (!b) {
		pvr_count(pv, PVR_CNT_ACKS_DROPPED);
		return;
	}
	pvr_encode_ack(&b->ack, n, status, method, guest_us);

	spin_lock_irqsave(&pv->lock, flags);
	if (pv->ready) {
		pvr_ack_reclaim(pv);
		kick = pvr_ack_flush(pv);
		if (list_empty(&pv->ack_pending) && !pvr_ack_post(pv, b)) {
			kick = true;
			b = NULL;
		} else if (pv->nr_ack_pending < PVR_ACK_PENDING_MAX) {
			list_add_tail(&b->node, &pv->ack_pending);
			pv->nr_ack_pending++;
			b = NULL;
		}
		if (kick)
			virtqueue_kick(pv->ack_vq);
	}
	spin_unlock_irqrestore(&pv->lock, flags);

	if (b) {
		dev_warn_ratelimited(&pv->vdev->dev,
				     "pvrecover: seq %u %s: ack dropped\n",
				     n->seq, pvr_notice_name(n->type));
		pvr_count(pv, PVR_CNT_ACKS_DROPPED);
		kfree(b);
	}
}

/* Ack virtqueue callback: reclaim used acks and post pending ones. */
static void pvr_ack_done(struct virtqueue *vq)
{
	struct pvr_dev *pv = vq->vdev->priv;
	unsigned long flags;

	spin_lock_irqsave(&pv->lock, flags);
	if (pv->ready) {
		pvr_ack_reclaim(pv);
		if (pvr_ack_flush(pv))
			virtqueue_kick(pv->ack_vq);
	}
	spin_unlock_irqrestore(&pv->lock, flags);
}

/* Notice virtqueue callback: only schedules the rx work. */
static void pvr_notice_done(struct virtqueue *vq)
{
	struct pvr_dev *pv = vq->vdev->priv;
	unsigned long flags;

	spin_lock_irqsave(&pv->lock, flags);
	if (pv->ready)
		queue_work(pv->wq, &pv->rx_work);
	spin_unlock_irqrestore(&pv->lock, flags);
}

static int pvr_post_notice(struct pvr_dev *pv,
			   struct virtio_pvrecover_notice *buf)
{
	struct scatterlist sg;

	memset(buf, 0, sizeof(*buf));
	sg_init_one(&sg, buf, sizeof(*buf));
	return virtqueue_add_inbuf(pv->notice_vq, &sg, 1, buf, GFP_KERNEL);
}

/*
 * Handle one notice the device wrote (@raw, a copy of the buffer, whose
 * first @len bytes the device wrote), the @idx-th buffer taken.
 */
static void pvr_rx_one(struct pvr_dev *pv,
		       const struct virtio_pvrecover_notice *raw,
		       unsigned int len, u64 idx)
{
	ktime_t start = ktime_get();
	enum pvr_parse_result res;
	struct pvr_notice n;
	u16 status;

	pvr_count(pv, PVR_CNT_NOTICES);

	res = pvr_parse_notice(raw, len, &n);
	if (res == PVR_PARSE_OK) {
		pvr_dispatch(pv, &n, start, idx);
		return;
	}

	if (res == PVR_PARSE_TYPE) {
		status = VIRTIO_PVRECOVER_S_UNSUPPORTED;
		dev_info_ratelimited(&pv->vdev->dev,
				     "pvrecover: seq %u %s: unsupported (type %u)\n",
				     n.seq, pvr_notice_name(n.type), n.type);
	} else {
		status = VIRTIO_PVRECOVER_S_MALFORMED;
		dev_warn_ratelimited(&pv->vdev->dev,
				     "pvrecover: seq %u %s: malformed (%s, %u bytes)\n",
				     n.seq, pvr_notice_name(n.type),
				     pvr_parse_name(res), len);
	}
	pvr_send_ack(pv, NULL, &n, status, VIRTIO_PVRECOVER_M_NONE,
		     pvr_elapsed_us(start));
}

static bool pvr_is_ready(struct pvr_dev *pv)
{
	unsigned long flags;
	bool ready;

	spin_lock_irqsave(&pv->lock, flags);
	ready = pv->ready;
	spin_unlock_irqrestore(&pv->lock, flags);
	return ready;
}

/*
 * Take the next notice, those pvr_notices_mark() set aside first, and post
 * its buffer again.  Called with pv->rx_lock held.  Returns false if there
 * is none.
 */
static bool pvr_take(struct pvr_dev *pv, struct virtio_pvrecover_notice *raw,
		     unsigned int *len, u64 *idx)
{
	struct pvr_taken t;

	if (pv->early_count) {
		t = pv->early[pv->early_head];
		pv->early_head = (pv->early_head + 1) % ARRAY_SIZE(pv->early);
		pv->early_count--;
	} else {
		t.buf = virtqueue_get_buf(pv->notice_vq, &t.len);
		if (!t.buf)
			return false;
		t.idx = pv->taken++;
	}
	*raw = *t.buf;
	*len = t.len;
	*idx = t.idx;
	if (pvr_post_notice(pv, t.buf))
		dev_warn_ratelimited(&pv->vdev->dev,
				     "pvrecover: cannot repost a notice buffer\n");
	return true;
}

/**
 * pvr_notices_mark() - the index of the next notice the device writes
 * @pv: the pvrecover device.
 *
 * Takes every buffer the device has used so far off the notice queue (they
 * are handled by the rx work, in order, before any other), so that each
 * notice written before this call has a lower index than any written
 * after it.  Called when the guest adds a PCI function: a notice with a
 * lower index was written before the function existed in the guest
 * (spec 7.8).
 *
 * Return: the index the next buffer taken will have.
 */
u64 pvr_notices_mark(struct pvr_dev *pv)
{
	struct pvr_taken *t;
	bool more = false;
	u64 mark;

	mutex_lock(&pv->rx_lock);
	while (pvr_is_ready(pv) && pv->early_count < ARRAY_SIZE(pv->early)) {
		t = &pv->early[(pv->early_head + pv->early_count) %
			       ARRAY_SIZE(pv->early)];
		t->buf = virtqueue_get_buf(pv->notice_vq, &t->len);
		if (!t->buf)
			break;
		t->idx = pv->taken++;
		pv->early_count++;
		more = true;
	}
	mark = pv->taken;
	mutex_unlock(&pv->rx_lock);
	if (more)
		pvr_notice_done(pv->notice_vq);
	return mark;
}

/*
 * Drain the notice virtqueue.  The only user of it once the device is live,
 * with pvr_notices_mark().  At most PVR_RX_BUDGET notices per run: a
 * device that keeps the queue full gets the rest handled by a fresh run,
 * queued behind other work.
 */
static void pvr_rx_work(struct work_struct *work)
{
	struct pvr_dev *pv = container_of(work, struct pvr_dev, rx_work);
	struct virtqueue *vq = pv->notice_vq;
	struct virtio_pvrecover_notice raw;
	unsigned int budget = PVR_RX_BUDGET;
	unsigned int len;
	bool got, more;
	u64 idx;

	if (READ_ONCE(test_hold_notices)) {
		dev_info(&pv->vdev->dev, "pvrecover: holding notices (test)\n");
		while (READ_ONCE(test_hold_notices) && pvr_is_ready(pv))
			msleep(20);
	}
	do {
		if (!pvr_is_ready(pv))
			return;
		mutex_lock(&pv->rx_lock);
		virtqueue_disable_cb(vq);
		mutex_unlock(&pv->rx_lock);
		for (;;) {
			mutex_lock(&pv->rx_lock);
			got = pvr_take(pv, &raw, &len, &idx);
			/*
			 * Tell the device its buffer is back before the notice
			 * is handled, which may take seconds: a notice it could
			 * not place must not wait for that (spec 7.10.1).
			 */
			if (got) {
				budget--;
				virtqueue_kick(vq);
			}
			mutex_unlock(&pv->rx_lock);
			if (!got)
				break;
			pvr_rx_one(pv, &raw, len, idx);
			if (!pvr_is_ready(pv))
				return;
			if (!budget) {
				queue_work(pv->wq, &pv->rx_work);
				return;
			}
			cond_resched();
		}
		mutex_lock(&pv->rx_lock);
		virtqueue_kick(vq);
		more = !virtqueue_enable_cb(vq);
		mutex_unlock(&pv->rx_lock);
	} while (more);
}

static int pvr_init_vqs(struct pvr_dev *pv)
{
	struct virtqueue *vqs[VIRTIO_PVRECOVER_VQ_MAX];
	vq_callback_t *cbs[VIRTIO_PVRECOVER_VQ_MAX] = {
		[VIRTIO_PVRECOVER_VQ_NOTICE] = pvr_notice_done,
		[VIRTIO_PVRECOVER_VQ_ACK] = pvr_ack_done,
	};
	static const char * const names[VIRTIO_PVRECOVER_VQ_MAX] = {
		[VIRTIO_PVRECOVER_VQ_NOTICE] = "notice",
		[VIRTIO_PVRECOVER_VQ_ACK] = "ack",
	};
	int err;

	err = pvr_find_vqs(pv->vdev, VIRTIO_PVRECOVER_VQ_MAX, vqs, cbs, names);
	if (err)
		return err;
	pv->notice_vq = vqs[VIRTIO_PVRECOVER_VQ_NOTICE];
	pv->ack_vq = vqs[VIRTIO_PVRECOVER_VQ_ACK];
	return 0;
}

/* Post the notice buffers (allocating them the first time); no kick. */
static int pvr_fill_notices(struct pvr_dev *pv)
{
	unsigned int i, n;
	int err;

	n = min_t(unsigned int, virtqueue_get_vring_size(pv->notice_vq),
		  PVR_NOTICE_BUFS_MAX);
	for (i = 0; i < n; i++) {
		if (!pv->nbufs[i]) {
			pv->nbufs[i] = kmalloc(sizeof(*pv->nbufs[i]),
					       GFP_KERNEL);
			if (!pv->nbufs[i])
				break;
			pv->nr_nbufs = i + 1;
		}
		err = pvr_post_notice(pv, pv->nbufs[i]);
		if (err)
			break;
	}
	return i ? 0 : -ENOMEM;
}

/* Release the virtqueues and every ack still held.  The device is reset. */
static void pvr_del_vqs(struct pvr_dev *pv)
{
	struct pvr_ack_buf *b, *tmp;

	while ((b = virtqueue_detach_unused_buf(pv->ack_vq)))
		kfree(b);
	list_for_each_entry_safe(b, tmp, &pv->ack_pending, node) {
		list_del(&b->node);
		kfree(b);
	}
	pv->nr_ack_pending = 0;
	pv->vdev->config->del_vqs(pv->vdev);
	pv->notice_vq = NULL;
	pv->ack_vq = NULL;
}

static void pvr_go_live(struct pvr_dev *pv)
{
	spin_lock_irq(&pv->lock);
	pv->ready = true;
	spin_unlock_irq(&pv->lock);
	virtio_device_ready(pv->vdev);
	virtqueue_kick(pv->notice_vq);
}

/*
 * Stop the device: no more callbacks, no more acks, no more notices taken.
 * Work in progress for a PCI function finishes; queued notices are dropped.
 */
static void pvr_stop(struct pvr_dev *pv)
{
	spin_lock_irq(&pv->lock);
	pv->ready = false;
	spin_unlock_irq(&pv->lock);
	/* A pvr_notices_mark() that saw the device live is done with it. */
	mutex_lock(&pv->rx_lock);
	mutex_unlock(&pv->rx_lock);

	virtio_reset_device(pv->vdev);
	cancel_work_sync(&pv->rx_work);
	/* Notices set aside are lost with the device's state (spec 7.9). */
	mutex_lock(&pv->rx_lock);
	pv->early_count = 0;
	mutex_unlock(&pv->rx_lock);
	pvr_recover_stop(pv);
}

static void pvr_free(struct pvr_dev *pv)
{
	unsigned int i;

	for (i = 0; i < pv->nr_nbufs; i++)
		kfree(pv->nbufs[i]);
	destroy_workqueue(pv->wq);
	kfree(pv);
}

static int pvr_probe(struct virtio_device *vdev)
{
	struct device *parent = vdev->dev.parent;
	struct pvr_dev *pv;
	u32 version;
	int err;

	BUILD_BUG_ON(sizeof(struct virtio_pvrecover_notice) != PVR_NOTICE_SIZE);
	BUILD_BUG_ON(sizeof(struct virtio_pvrecover_ack) != PVR_ACK_SIZE);
	BUILD_BUG_ON(sizeof(struct virtio_pvrecover_addr) != PVR_ADDR_SIZE);
	BUILD_BUG_ON(sizeof(struct virtio_pvrecover_config) != 16);
	BUILD_BUG_ON(offsetofend(struct virtio_pvrecover_notice, seq) !=
		     PVR_NOTICE_END_SEQ);
	BUILD_BUG_ON(offsetofend(struct virtio_pvrecover_notice, type) !=
		     PVR_NOTICE_END_TYPE);
	BUILD_BUG_ON(offsetofend(struct virtio_pvrecover_notice, flags) !=
		     PVR_NOTICE_END_FLAGS);
	BUILD_BUG_ON(offsetofend(struct virtio_pvrecover_notice, addr) !=
		     PVR_NOTICE_END_ADDR);
	BUILD_BUG_ON(offsetofend(struct virtio_pvrecover_notice, deadline_ms) !=
		     PVR_NOTICE_END_DEADLINE);

	if (!virtio_has_feature(vdev, VIRTIO_F_VERSION_1)) {
		dev_err(&vdev->dev, "pvrecover: device is not VIRTIO 1.0\n");
		return -ENODEV;
	}
	if (!vdev->config->get) {
		dev_err(&vdev->dev, "pvrecover: config space not readable\n");
		return -EINVAL;
	}
	/*
	 * The version stays 1 for good: what a device can do is in its
	 * feature bits (spec 5.2), so another value is only worth a line.
	 */
	virtio_cread_le(vdev, struct virtio_pvrecover_config, version,
			&version);
	if (version != VIRTIO_PVRECOVER_VERSION)
		dev_notice(&vdev->dev, "pvrecover: config version %u, not %u\n",
			   version, VIRTIO_PVRECOVER_VERSION);

	pv = kzalloc(sizeof(*pv), GFP_KERNEL);
	if (!pv)
		return -ENOMEM;
	pv->vdev = vdev;
	pv->version = version;
	pv->self = parent && dev_is_pci(parent) ? to_pci_dev(parent) : NULL;
	pv->planned_ok = virtio_has_feature(vdev,
					    VIRTIO_PVRECOVER_F_PLANNED_RESET);
	virtio_cread_le(vdev, struct virtio_pvrecover_config, ack_timeout_ms,
			&pv->ack_timeout_ms);
	virtio_cread_le(vdev, struct virtio_pvrecover_config, max_deadline_ms,
			&pv->max_deadline_ms);
	pv->quiesce_timeout_ms = PVR_QUIESCE_TIMEOUT_DEFAULT_MS;
	if (virtio_has_feature(vdev, VIRTIO_PVRECOVER_F_QUIESCE_TIMEOUT)) {
		virtio_cread_le(vdev, struct virtio_pvrecover_config,
				quiesce_timeout_ms, &pv->quiesce_timeout_ms);
		/* Out of range (spec 5.1): the driver's own bound instead. */
		if (pv->quiesce_timeout_ms < PVR_QUIESCE_TIMEOUT_MIN_MS ||
		    pv->quiesce_timeout_ms > PVR_QUIESCE_TIMEOUT_MAX_MS ||
		    pv->quiesce_timeout_ms <= pv->max_deadline_ms) {
			dev_notice(&vdev->dev,
				   "pvrecover: quiesce timeout %u ms out of range, using %u\n",
				   pv->quiesce_timeout_ms,
				   PVR_QUIESCE_TIMEOUT_DEFAULT_MS);
			pv->quiesce_timeout_ms = PVR_QUIESCE_TIMEOUT_DEFAULT_MS;
		}
	}
	spin_lock_init(&pv->lock);
	mutex_init(&pv->rx_lock);
	INIT_LIST_HEAD(&pv->ack_pending);
	mutex_init(&pv->ctx_lock);
	INIT_LIST_HEAD(&pv->ctxs);
	INIT_WORK(&pv->rx_work, pvr_rx_work);

	pv->wq = alloc_workqueue("pvrecover%d", WQ_UNBOUND, 0, vdev->index);
	if (!pv->wq) {
		kfree(pv);
		return -ENOMEM;
	}
	vdev->priv = pv;

	err = pvr_init_vqs(pv);
	if (err)
		goto err_free;
	err = pvr_fill_notices(pv);
	if (err)
		goto err_vqs;
	err = pvr_recover_init(pv);
	if (err)
		goto err_vqs;

	pvr_go_live(pv);
	pr_info("ready, version %u, planned-reset %s, quiesce timeout %u ms\n",
		version, pv->planned_ok ? "on" : "off",
		pv->quiesce_timeout_ms);
	return 0;

err_vqs:
	virtio_reset_device(vdev);
	pvr_del_vqs(pv);
err_free:
	vdev->priv = NULL;
	pvr_free(pv);
	return err;
}

static void pvr_remove(struct virtio_device *vdev)
{
	struct pvr_dev *pv = vdev->priv;

	pvr_stop(pv);
	pvr_recover_exit(pv);
	pvr_del_vqs(pv);
	vdev->priv = NULL;
	pvr_free(pv);
}

#ifdef CONFIG_PM_SLEEP
static int pvr_freeze(struct virtio_device *vdev)
{
	struct pvr_dev *pv = vdev->priv;

	pvr_stop(pv);
	pvr_del_vqs(pv);
	return 0;
}

static int pvr_restore(struct virtio_device *vdev)
{
	struct pvr_dev *pv = vdev->priv;
	int err;

	err = pvr_init_vqs(pv);
	if (err)
		return err;
	err = pvr_fill_notices(pv);
	if (err) {
		virtio_reset_device(vdev);
		pvr_del_vqs(pv);
		return err;
	}
	pvr_go_live(pv);
	return 0;
}
#endif

static unsigned int pvr_features[] = {
	VIRTIO_PVRECOVER_F_PLANNED_RESET,
	VIRTIO_PVRECOVER_F_QUIESCE_TIMEOUT,
};

static const struct virtio_device_id pvr_id_table[] = {
	{ VIRTIO_ID_PVRECOVER, VIRTIO_DEV_ANY_ID },
	{ 0 },
};

static struct virtio_driver pvr_driver = {
	.feature_table		= pvr_features,
	.feature_table_size	= ARRAY_SIZE(pvr_features),
	.driver.name		= KBUILD_MODNAME,
	.driver.owner		= THIS_MODULE,
	.driver.dev_groups	= pvr_groups,
	.id_table		= pvr_id_table,
	.probe			= pvr_probe,
	.remove			= pvr_remove,
#ifdef CONFIG_PM_SLEEP
	.freeze			= pvr_freeze,
	.restore		= pvr_restore,
#endif
};

module_virtio_driver(pvr_driver);
MODULE_DEVICE_TABLE(virtio, pvr_id_table);
MODULE_DESCRIPTION("Paravirtual PCI error recovery (virtio-pvrecover) guest driver");
MODULE_LICENSE("GPL");
