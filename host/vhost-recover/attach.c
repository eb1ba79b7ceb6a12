// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-recover: vfio-pci functions attached to a vhost-recover file.
 *
 * vfio-pci's error_detected callback signals the function's error eventfd
 * from inside the host's AER/DPC recovery, after the PCI core set the
 * function's error_state.  The wakeup reads that state: frozen means the
 * host is resetting the function (fatal), normal means it is not
 * (non-fatal), perm_failure means it is gone.  ERROR_DETECTED is queued at
 * once.  After a fatal error the recovery is watched, never waited for: the
 * PCI core sets error_state back to normal with the function's device lock
 * held, in report_resume() (6.12 already in report_slot_reset(), if that
 * walk runs: compat.h), and then does nothing more to a vfio-pci function,
 * which has no slot_reset or resume handler; so "normal and the device
 * lock is free" means the host's recovery of this function has finished.
 * Only then is RESET_DONE queued (spec 7.5).  A failed recovery leaves it
 * frozen (perm_failure comes only from pci_dev_set_disconnected(), when
 * the function is gone): the guest is told PERM_FAILURE once
 * recovery_timeout_ms has passed.
 */
#define pr_fmt(fmt) "vhost-recover: " fmt

#include <linux/delay.h>
#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/module.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/vfio.h>
#include <linux/vfio_pci_core.h>

#include "recover.h"

static unsigned int recovery_timeout_ms = 30000;
module_param(recovery_timeout_ms, uint, 0644);
MODULE_PARM_DESC(recovery_timeout_ms,
		 "how long the host's recovery of a function may take before the guest is told it failed; a later end still revives it (default 30000)");

static unsigned int test_watch_delay_ms;
module_param(test_watch_delay_ms, uint, 0644);
MODULE_PARM_DESC(test_watch_delay_ms,
		 "tests only: first look at the next host recovery this many ms after its error, not 10; then back to 0 (default 0)");

static unsigned int test_watch_hold_ms;
module_param(test_watch_hold_ms, uint, 0644);
MODULE_PARM_DESC(test_watch_hold_ms,
		 "tests only: hold the next end of a host recovery the watch sees until another error of the function is signalled, at most this many ms; then back to 0 (default 0)");

/**
 * vrec_recovery_timeout - the recovery_timeout_ms module parameter
 *
 * It also bounds how long the owner may take to do a planned reset that is
 * due: the guest sees no difference between the two.
 *
 * Return: milliseconds.
 */
unsigned int vrec_recovery_timeout(void)
{
	return READ_ONCE(recovery_timeout_ms);
}

/*
 * Runs in the signaller's context with the eventfd's wait queue locked:
 * vfio-pci's error_detected, with the device lock held (and vfio-pci's
 * igate mutex on 6.1, rcu_read_lock() on 6.12), or the owner.  Never sleeps.
 */
static int vrec_error_wakeup(wait_queue_entry_t *wait, unsigned int mode,
			     int sync, void *key)
{
	struct vrec_fn *fn = container_of(wait, struct vrec_fn, wait);
	__poll_t events = key_to_poll(key);
	pci_channel_state_t state;
	u64 cnt;

	if (!(events & EPOLLIN))
		return 0;
	eventfd_ctx_do_read(fn->error_ctx, &cnt);
	state = READ_ONCE(fn->pdev->error_state);
	if (state == pci_channel_io_frozen)
		set_bit(VREC_ERR_FATAL, &fn->error_bits);
	else if (state == pci_channel_io_perm_failure)
		set_bit(VREC_ERR_FAILED, &fn->error_bits);
	else
		set_bit(VREC_ERR_NONFATAL, &fn->error_bits);
	queue_work(system_wq, &fn->error_work);
	return 0;
}

static void vrec_error_ptable(struct file *file, wait_queue_head_t *wqh,
			      poll_table *pt)
{
	struct vrec_fn *fn = container_of(pt, struct vrec_fn, pt);

	add_wait_queue(wqh, &fn->wait);
}

/*
 * When the watch first looks at a host recovery.  Tests only
 * (test_watch_delay_ms): later, once, so that something the test does
 * right after the error (kill the owner) lands while the module is still
 * watching, however slow the kernel is to let the test act.
 */
static unsigned long vrec_first_watch(void)
{
	unsigned int ms = xchg(&test_watch_delay_ms, 0);

	return ms ? msecs_to_jiffies(ms) : VREC_WATCH_JIFFIES;
}

static void vrec_error_work(struct work_struct *work)
{
	struct vrec_fn *fn = container_of(work, struct vrec_fn, error_work);
	struct vhost_recover *vrec = fn->vrec;
	unsigned long bits;
	bool fatal, failed;

	mutex_lock(&fn->state_lock);
	bits = xchg(&fn->error_bits, 0);
	fatal = bits & BIT(VREC_ERR_FATAL);
	/* A running watch sees perm_failure itself and says so once. */
	failed = (bits & BIT(VREC_ERR_FAILED)) && !fatal && !fn->watching;
	if (fatal) {
		/*
		 * A second error during recovery restarts the clock.  The
		 * watch runs before or after us, never beside: either it has
		 * yet to look, or it has reported the end of the recovery
		 * before and looks once more, so every fatal error gets its
		 * own end.  Watching before the error is counted: whoever sees
		 * the count sees the function watched.
		 */
		fn->watch_start = jiffies;
		fn->overdue = false;
		WRITE_ONCE(fn->watching, true);
	}

	spin_lock(&vrec->lock);
	vrec->stats.errors += hweight_long(bits);
	spin_unlock(&vrec->lock);

	/* The eventfd is the owner's too: it can flood us, so rate limit. */
	if (bits & BIT(VREC_ERR_NONFATAL))
		vrec_queue_notice(fn, VIRTIO_PVRECOVER_N_ERROR_DETECTED, 0,
				  NULL, NULL);
	if (fatal) {
		vrec_queue_notice(fn, VIRTIO_PVRECOVER_N_ERROR_DETECTED,
				  VIRTIO_PVRECOVER_NF_FATAL, NULL, NULL);
		queue_delayed_work(system_wq, &fn->watch, vrec_first_watch());
	}
	if (failed)
		vrec_queue_notice(fn, VIRTIO_PVRECOVER_N_PERM_FAILURE, 0,
				  "host recovery failed", &fn->error_rs);
	mutex_unlock(&fn->state_lock);
}

/* Queue RESET_DONE or PERM_FAILURE for the end of a host recovery. */
static void vrec_recovery_end(struct vrec_fn *fn, u16 type,
			      const char *outcome, unsigned int ms)
{
	struct vhost_recover *vrec = fn->vrec;
	char what[48];

	spin_lock(&vrec->lock);
	if (type == VIRTIO_PVRECOVER_N_RESET_DONE)
		vrec->stats.host_recoveries++;
	else
		vrec->stats.host_failures++;
	spin_unlock(&vrec->lock);
	/* The one line per recovery, rate limited as the errors the owner
	 * may fake are; a failure always.  A guest that took no buffers gets
	 * one state-lost for both halves, and the line says so.
	 */
	snprintf(what, sizeof(what), "host recovery %s in %u ms", outcome, ms);
	vrec_queue_notice(fn, type, 0, what,
			  type == VIRTIO_PVRECOVER_N_RESET_DONE ?
			  &fn->error_rs : NULL);
}

/*
 * Tests only (test_watch_hold_ms): widen the window in which an error
 * lands as the host's recovery of the one before ends.  The end the watch
 * has just seen is held back until the function's eventfd is signalled
 * again and that error's work has queued the watch once more (or 50 ms
 * have passed since the signal), at most test_watch_hold_ms; once.  With
 * the work serialised by state_lock only the latter can happen: the work
 * waits for the watch.
 */
static void vrec_test_hold(struct vrec_fn *fn)
{
	unsigned int ms = xchg(&test_watch_hold_ms, 0);
	unsigned long start = jiffies, signalled = 0;

	if (!ms)
		return;
	pr_info("%s: host recovery end held, at most %u ms (test)\n",
		pci_name(fn->pdev), ms);
	while (time_before(jiffies, start + msecs_to_jiffies(ms))) {
		if (delayed_work_pending(&fn->watch))
			break;
		if (!signalled && READ_ONCE(fn->error_bits))
			signalled = jiffies;
		if (signalled &&
		    time_after(jiffies, signalled + msecs_to_jiffies(50)))
			break;
		usleep_range(2000, 3000);
	}
	pr_info("%s: host recovery end released after %u ms (test)\n",
		pci_name(fn->pdev), jiffies_to_msecs(jiffies - start));
}

/*
 * Poll the host's recovery of the function; see the comment at the top.
 * A recovery that takes longer than recovery_timeout_ms is reported to the
 * guest as a permanent failure, but still watched, slowly: if the host
 * gets the function back after all, RESET_DONE revives it in the guest
 * (spec 7.2, PERM_FAILURE).
 */
static void vrec_watch_work(struct work_struct *work)
{
	struct vrec_fn *fn = container_of(to_delayed_work(work), struct vrec_fn,
					  watch);
	pci_channel_state_t state;
	unsigned int ms;
	bool overdue;

	mutex_lock(&fn->state_lock);
	/* Queued by an error whose end a run before us has reported. */
	if (!fn->watching)
		goto out;
	ms = jiffies_to_msecs(jiffies - fn->watch_start);
	overdue = fn->overdue;
	state = READ_ONCE(fn->pdev->error_state);
	if (state == pci_channel_io_frozen || !device_trylock(&fn->pdev->dev)) {
		if (!overdue && ms >= recovery_timeout_ms) {
			fn->overdue = true;
			vrec_recovery_end(fn, VIRTIO_PVRECOVER_N_PERM_FAILURE,
					  "did not finish", ms);
		}
		queue_delayed_work(system_wq, &fn->watch,
				   fn->overdue ?
				   msecs_to_jiffies(VREC_OVERDUE_MS) :
				   VREC_WATCH_JIFFIES);
		goto out;
	}
	device_unlock(&fn->pdev->dev);
	vrec_test_hold(fn);

	if (state == pci_channel_io_normal)
		vrec_recovery_end(fn, VIRTIO_PVRECOVER_N_RESET_DONE,
				  overdue ? "finished late" : "finished", ms);
	else if (!overdue)
		vrec_recovery_end(fn, VIRTIO_PVRECOVER_N_PERM_FAILURE,
				  "failed", ms);
	/* Only now: a planned reset is refused until the end is queued. */
	fn->overdue = false;
	WRITE_ONCE(fn->watching, false);
out:
	mutex_unlock(&fn->state_lock);
}

static bool vrec_addr_valid(const struct vhost_recover_pci_addr *g)
{
	unsigned int i;

	if (g->depth < 1 || g->depth > VIRTIO_PVRECOVER_PATH_MAX)
		return false;
	for (i = g->depth; i < VIRTIO_PVRECOVER_PATH_MAX; i++)
		if (g->path[i])
			return false;
	return true;
}

/*
 * The caller owns the function through vfio if it holds the VFIO group
 * file the function's vfio device belongs to: the check vfio-pci's own hot
 * reset makes (vfio_file_has_dev()).  The device lock keeps the driver
 * bound, and so its data valid, while we look at them; but it is only
 * tried, never waited for.  Its holder may be waiting for our caller: an
 * unbind of the function from vfio-pci holds it while vfio-pci's remove
 * waits for the owner to close the device, and the owner is in this
 * ioctl.  So -EBUSY while the driver core, a reset or the host's error
 * recovery has the function; the owner may try again.
 */
static int vrec_check_owner(struct pci_dev *pdev, struct file *group)
{
	struct vfio_pci_core_device *core;
	int ret = -EPERM;

	if (!device_trylock(&pdev->dev))
		return -EBUSY;
	if (pdev->driver &&
	    pdev->driver->err_handler == &vfio_pci_core_err_handlers) {
		core = dev_get_drvdata(&pdev->dev);
		if (core && vfio_file_has_dev(group, &core->vdev))
			ret = 0;
	}
	device_unlock(&pdev->dev);
	return ret;
}

/**
 * vrec_find_fn - the attached function with this cookie, or this function
 * @vrec: the file
 * @cookie: its cookie
 * @pdev: if not NULL, also match the function itself
 *
 * Called with @vrec->lock held.
 *
 * Return: the function, or NULL.
 */
struct vrec_fn *vrec_find_fn(struct vhost_recover *vrec, u32 cookie,
			     struct pci_dev *pdev)
{
	struct vrec_fn *fn;

	lockdep_assert_held(&vrec->lock);
	list_for_each_entry(fn, &vrec->fns, node)
		if (fn->cookie == cookie || (pdev && fn->pdev == pdev))
			return fn;
	return NULL;
}

/**
 * vrec_attach - VHOST_RECOVER_ATTACH
 * @vrec: the file
 * @a: the argument, copied from the caller
 *
 * Called with the vhost device mutex held.  Ownership is checked once and
 * then held: the function keeps the VFIO group file until it is detached.
 * vfio opens a group once at a time, so while the function is attached
 * nobody else can open the group and be given the function, even after
 * the owner closed its own descriptor; the proof cannot go stale.
 *
 * Return: 0 or a negative errno, as listed in vhost_recover.h.
 */
int vrec_attach(struct vhost_recover *vrec, const struct vhost_recover_attach *a)
{
	struct file *group, *efile = NULL;
	struct pci_dev *pdev = NULL;
	struct vrec_fn *fn = NULL;
	unsigned int i;
	int ret;

	if (!a->cookie || a->flags || !vrec_addr_valid(&a->guest))
		return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(a->reserved); i++)
		if (a->reserved[i])
			return -EINVAL;

	group = fget(a->group_fd);
	if (!group)
		return -EBADF;
	ret = -EBADF;
	if (!vfio_file_is_group(group))
		goto out;
	efile = eventfd_fget(a->error_fd);
	if (IS_ERR(efile)) {
		efile = NULL;
		goto out;
	}

	ret = -ENODEV;
	pdev = pci_get_domain_bus_and_slot(a->host_segment, a->host_bus,
					   a->host_devfn);
	if (!pdev)
		goto out;
	ret = vrec_check_owner(pdev, group);
	if (ret)
		goto out;

	ret = -ENOMEM;
	fn = kzalloc(sizeof(*fn), GFP_KERNEL);
	if (!fn)
		goto out;
	fn->error_ctx = eventfd_ctx_fileget(efile);
	if (IS_ERR(fn->error_ctx)) {
		ret = PTR_ERR(fn->error_ctx);
		goto out;
	}
	fn->vrec = vrec;
	fn->pdev = pdev;
	fn->group = group;
	fn->cookie = a->cookie;
	fn->addr.segment = cpu_to_le16(a->guest.segment);
	fn->addr.root_bus = a->guest.root_bus;
	fn->addr.depth = a->guest.depth;
	memcpy(fn->addr.path, a->guest.path, sizeof(fn->addr.path));
	INIT_LIST_HEAD(&fn->pending);
	mutex_init(&fn->state_lock);
	INIT_WORK(&fn->error_work, vrec_error_work);
	ratelimit_state_init(&fn->error_rs, DEFAULT_RATELIMIT_INTERVAL,
			     DEFAULT_RATELIMIT_BURST);
	INIT_DELAYED_WORK(&fn->watch, vrec_watch_work);
	init_waitqueue_func_entry(&fn->wait, vrec_error_wakeup);
	init_poll_funcptr(&fn->pt, vrec_error_ptable);

	spin_lock(&vrec->lock);
	if (vrec_find_fn(vrec, a->cookie, pdev))
		ret = -EEXIST;
	else if (vrec->nfns >= VHOST_RECOVER_MAX_ATTACH)
		ret = -ENOSPC;
	else
		ret = 0;
	if (!ret) {
		list_add_tail(&fn->node, &vrec->fns);
		vrec->nfns++;
	}
	spin_unlock(&vrec->lock);
	if (ret) {
		eventfd_ctx_put(fn->error_ctx);
		goto out;
	}

	/*
	 * From here on the wakeup reads the count.  One left from before was
	 * the owner's to read, as every signal until now was.
	 */
	vfs_poll(efile, &fn->pt);
	pr_info("%s: attached as cookie %u\n", pci_name(pdev), fn->cookie);
	fn = NULL;
	pdev = NULL;
	group = NULL;	/* the function holds it now */
out:
	kfree(fn);
	pci_dev_put(pdev);
	if (efile)
		fput(efile);
	if (group)
		fput(group);
	return ret;
}

/* Stop listening and watching, then forget the function. */
static void vrec_release_fn(struct vhost_recover *vrec, struct vrec_fn *fn)
{
	struct vhost_virtqueue *vq = &vrec->vqs[VIRTIO_PVRECOVER_VQ_NOTICE];
	u64 cnt;

	eventfd_ctx_remove_wait_queue(fn->error_ctx, &fn->wait, &cnt);
	/* The error work may start the watch, so it goes first. */
	cancel_work_sync(&fn->error_work);
	cancel_delayed_work_sync(&fn->watch);
	/* Before its notices go: a plan's end may still queue some. */
	vrec_plan_leave(fn);

	mutex_lock(&vq->mutex);
	vrec_drop_pending(fn);
	spin_lock(&vrec->lock);
	list_del(&fn->node);
	vrec->nfns--;
	spin_unlock(&vrec->lock);
	mutex_unlock(&vq->mutex);

	pr_info("%s: detached%s\n", pci_name(fn->pdev),
		fn->watching ? " during host recovery" : "");
	eventfd_ctx_put(fn->error_ctx);
	/* The group is free again once its owner has closed it too. */
	fput(fn->group);
	pci_dev_put(fn->pdev);
	mutex_destroy(&fn->state_lock);
	kfree(fn);
}

/**
 * vrec_detach - VHOST_RECOVER_DETACH
 * @vrec: the file
 * @cookie: the function's cookie
 *
 * Called with the vhost device mutex held, which serialises attach and
 * detach.  Whatever state the host's recovery is in, the function is
 * forgotten at once: its queued notices are dropped, and those already
 * sent no longer match an answer (spec 7.8), each reported to the owner.
 *
 * Return: 0, or -ENOENT.
 */
int vrec_detach(struct vhost_recover *vrec, u32 cookie)
{
	struct vrec_fn *fn;

	spin_lock(&vrec->lock);
	fn = vrec_find_fn(vrec, cookie, NULL);
	spin_unlock(&vrec->lock);
	if (!fn)
		return -ENOENT;
	vrec_release_fn(vrec, fn);
	return 0;
}

void vrec_detach_all(struct vhost_recover *vrec)
{
	struct vrec_fn *fn;

	for (;;) {
		spin_lock(&vrec->lock);
		fn = list_first_entry_or_null(&vrec->fns, struct vrec_fn, node);
		spin_unlock(&vrec->lock);
		if (!fn)
			break;
		vrec_release_fn(vrec, fn);
	}
}
