// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-recover: planned resets (spec 7.7).
 *
 * The owner names a function it is going to reset, alone or with its bus
 * (VHOST_RECOVER_PLAN_RESET).  The functions the reset reaches are worked
 * out here from the host's topology and each is sent PREPARE_RESET.  The
 * reset is due as soon as all of them have answered, or when the deadline
 * has passed: the owner then gets a VHOST_RECOVER_EV_RESET record, resets
 * and says so (VHOST_RECOVER_RESET_DONE), and every function reached is
 * sent RESET_DONE, or PERM_FAILURE if the reset failed or the owner did not
 * report within recovery_timeout_ms.  The module only decides when: the
 * reset is the owner's, since vfio-pci must fence the owner's mappings of
 * the function around it.
 *
 * The deadline is an hrtimer: the spec promises the reset never comes
 * later than the deadline, and a timer-wheel timeout may fire up to an
 * eighth of its length late.  The timer only queues the work that makes
 * the plan due; the owner's time to report is a plain delayed work.
 *
 * Locking: a plan becomes due under vrec->lock, from the ack path in the
 * vhost worker (which must not sleep), from its deadline work, or when a
 * member leaves.  All else, and everything that sleeps (queueing notices,
 * ending a plan), runs under vrec->plan_mutex, which also keeps the
 * members from being freed.  An ended plan stays on vrec->plans until a
 * reaper, which never runs in the plan's own works, cancels its timer and
 * works synchronously and frees it.
 */
#define pr_fmt(fmt) "vhost-recover: " fmt

#include <linux/hrtimer.h>
#include <linux/jiffies.h>
#include <linux/ktime.h>
#include <linux/slab.h>

#include "recover.h"

enum vrec_plan_state {
	VREC_PLAN_WAITING,	/* for the answers or the deadline */
	VREC_PLAN_DUE,		/* the owner was told to reset */
	VREC_PLAN_ENDED,	/* over: waits for the reaper */
};

/**
 * struct vrec_member - one function a planned reset reaches
 * @fn: the function; it leaves the plan before it is freed.
 * @seq: its PREPARE_RESET, or 0 if none was queued.
 * @answered: the guest answered @seq.
 */
struct vrec_member {
	struct vrec_fn *fn;
	u32 seq;
	bool answered;
};

/**
 * struct vrec_plan - a planned reset, from VHOST_RECOVER_PLAN_RESET to its end
 * @node: in vhost_recover.plans.
 * @vrec: the file.
 * @state: enum vrec_plan_state; changed under vrec->lock.
 * @prepare: the guest negotiated VIRTIO_PVRECOVER_F_PLANNED_RESET, so the
 *	members were sent PREPARE_RESET.
 * @deadline_ms: the deadline announced.
 * @owner_ms: how long the owner has for the reset once it is due.
 * @start: when it was planned.
 * @deadline: fires at the deadline and queues @deadline_work.
 * @deadline_work: makes the plan due, unless it is already.
 * @work: once due, ends the plan if the owner did not report in time.
 * @nanswered: members that answered their PREPARE_RESET.
 * @count: members; zero once ended.
 * @members: the requested function first, while the plan lasts.
 *
 * @members and @count change with both vrec->plan_mutex and vrec->lock
 * held; @nanswered and the members' @seq and @answered under vrec->lock.
 */
struct vrec_plan {
	struct list_head node;
	struct vhost_recover *vrec;
	enum vrec_plan_state state;
	bool prepare;
	u32 deadline_ms;
	unsigned int owner_ms;
	ktime_t start;
	struct hrtimer deadline;
	struct work_struct deadline_work;
	struct delayed_work work;
	unsigned int nanswered;
	unsigned int count;
	struct vrec_member members[VHOST_RECOVER_MAX_ATTACH];
};

static const char *vrec_plan_name(const struct vrec_plan *plan)
{
	return pci_name(plan->members[0].fn->pdev);
}

static unsigned int vrec_plan_ms(const struct vrec_plan *plan)
{
	s64 ms = ktime_ms_delta(ktime_get(), plan->start);

	return clamp_t(s64, ms, 0, UINT_MAX);
}

/*
 * Tell the owner to reset now (the record is described in vhost_recover.h)
 * and give it recovery_timeout_ms to report the reset done.
 */
static void vrec_plan_due(struct vhost_recover *vrec, struct vrec_plan *plan,
			  bool deadline)
{
	struct vrec_notice rec = {
		.cookie = plan->members[0].fn->cookie,
		.seq = plan->members[0].seq,
		.type = VIRTIO_PVRECOVER_N_PREPARE_RESET,
		.queued = plan->start,
	};
	u16 flags = VHOST_RECOVER_EV_RESET;

	lockdep_assert_held(&vrec->lock);
	/* Answered in time: the deadline has nothing left to do. */
	hrtimer_try_to_cancel(&plan->deadline);
	plan->state = VREC_PLAN_DUE;
	plan->owner_ms = vrec_recovery_timeout();
	vrec->stats.resets_planned++;
	if (deadline) {
		flags |= VHOST_RECOVER_EV_DEADLINE;
		vrec->stats.resets_deadline++;
		pr_info("%s: planned reset due: deadline %u ms passed (%u ms), %u of %u function(s) answered\n",
			vrec_plan_name(plan), plan->deadline_ms,
			vrec_plan_ms(plan), plan->nanswered, plan->count);
	} else if (plan->prepare) {
		pr_info("%s: planned reset due: all %u function(s) answered in %u ms\n",
			vrec_plan_name(plan), plan->count, vrec_plan_ms(plan));
	}
	vrec_event(vrec, &rec, plan->nanswered, plan->count, flags, 0);
	mod_delayed_work(system_wq, &plan->work,
			 msecs_to_jiffies(plan->owner_ms));
}

/* The plan is over for its members.  Called with vrec->lock held. */
static void vrec_plan_release(struct vrec_plan *plan)
{
	unsigned int i;

	lockdep_assert_held(&plan->vrec->lock);
	for (i = 0; i < plan->count; i++)
		plan->members[i].fn->plan = NULL;
	plan->count = 0;
}

/*
 * Tell every member how the reset went, now that the plan is over:
 * @owner_late if the owner never reported, else @error as reported.
 * @abandoned: the owner can no longer report the reset, which may or may
 * not have happened; the members are sent RESET_DONE (STATE_LOST) all the
 * same, the one notice that brings a quiesced function back into service,
 * and harmless to one that was not reset.
 */
static void vrec_plan_end(struct vhost_recover *vrec, struct vrec_plan *plan,
			  int error, bool owner_late, bool abandoned)
{
	/* A prepare-reset still queued becomes a state-lost with it. */
	u16 type = plan->prepare ? VIRTIO_PVRECOVER_N_RESET_DONE :
				   VIRTIO_PVRECOVER_N_STATE_LOST;
	char what[64] = "planned reset done";
	unsigned int i;

	lockdep_assert_held(&vrec->plan_mutex);
	if (owner_late) {
		type = VIRTIO_PVRECOVER_N_PERM_FAILURE;
		snprintf(what, sizeof(what),
			 "planned reset not done by the owner in %u ms",
			 plan->owner_ms);
	} else if (error) {
		type = VIRTIO_PVRECOVER_N_PERM_FAILURE;
		snprintf(what, sizeof(what), "planned reset failed (error %d)",
			 error);
	} else if (abandoned) {
		strscpy(what, "planned reset abandoned", sizeof(what));
	}
	for (i = 0; i < plan->count; i++)
		vrec_queue_plan(plan->members[i].fn, type, 0, NULL, what);

	spin_lock(&vrec->lock);
	vrec_plan_release(plan);
	spin_unlock(&vrec->lock);
}

/* Free ended plans, after their work; never called from that work. */
static void vrec_plan_reap(struct vhost_recover *vrec)
{
	struct vrec_plan *plan, *tmp;
	LIST_HEAD(ended);

	mutex_lock(&vrec->plan_mutex);
	spin_lock(&vrec->lock);
	list_for_each_entry_safe(plan, tmp, &vrec->plans, node)
		if (plan->state == VREC_PLAN_ENDED)
			list_move_tail(&plan->node, &ended);
	spin_unlock(&vrec->lock);
	mutex_unlock(&vrec->plan_mutex);

	list_for_each_entry_safe(plan, tmp, &ended, node) {
		/*
		 * The timer queues the deadline work, which may queue the
		 * owner's, so in that order.  A run waiting for plan_mutex
		 * finds the plan ended: a no-op.
		 */
		hrtimer_cancel(&plan->deadline);
		cancel_work_sync(&plan->deadline_work);
		cancel_delayed_work_sync(&plan->work);
		kfree(plan);
	}
}

/* Hard interrupt context: only queue the work that takes the locks. */
static enum hrtimer_restart vrec_plan_deadline(struct hrtimer *timer)
{
	struct vrec_plan *plan = container_of(timer, struct vrec_plan,
					      deadline);

	queue_work(system_highpri_wq, &plan->deadline_work);
	return HRTIMER_NORESTART;
}

/* The deadline passed: due now if the answers have not made it so. */
static void vrec_plan_deadline_work(struct work_struct *work)
{
	struct vrec_plan *plan = container_of(work, struct vrec_plan,
					      deadline_work);
	struct vhost_recover *vrec = plan->vrec;

	/* A deadline before the notices are queued waits for them. */
	mutex_lock(&vrec->plan_mutex);
	spin_lock(&vrec->lock);
	if (plan->state == VREC_PLAN_WAITING)
		vrec_plan_due(vrec, plan, true);
	spin_unlock(&vrec->lock);
	mutex_unlock(&vrec->plan_mutex);
}

/* The owner's time to report the reset it was told to do is up. */
static void vrec_plan_work(struct work_struct *work)
{
	struct vrec_plan *plan = container_of(to_delayed_work(work),
					      struct vrec_plan, work);
	struct vhost_recover *vrec = plan->vrec;
	bool owner_late = false;

	mutex_lock(&vrec->plan_mutex);
	spin_lock(&vrec->lock);
	if (plan->state == VREC_PLAN_DUE) {
		plan->state = VREC_PLAN_ENDED;
		owner_late = true;
	}
	spin_unlock(&vrec->lock);
	if (owner_late)
		vrec_plan_end(vrec, plan, 0, true, false);
	mutex_unlock(&vrec->plan_mutex);
}

static bool vrec_negotiated(struct vhost_recover *vrec)
{
	struct vhost_virtqueue *vq = &vrec->vqs[VIRTIO_PVRECOVER_VQ_NOTICE];
	bool ret;

	/* As the owner last set it with VHOST_SET_FEATURES. */
	mutex_lock(&vq->mutex);
	ret = vhost_has_feature(vq, VIRTIO_PVRECOVER_F_PLANNED_RESET);
	mutex_unlock(&vq->mutex);
	return ret;
}

static bool vrec_bus_below(const struct pci_bus *bus, const struct pci_bus *top)
{
	for (; bus; bus = bus->parent)
		if (bus == top)
			return true;
	return false;
}

/*
 * The functions the reset reaches: @target, and with a bus reset every
 * attached function on its bus or below it.  There are at most
 * VHOST_RECOVER_MAX_ATTACH attached functions, so they fit.
 */
static int vrec_plan_members(struct vhost_recover *vrec,
			     struct vrec_plan *plan, struct vrec_fn *target,
			     bool bus)
{
	struct vrec_fn *fn;
	unsigned int i;

	lockdep_assert_held(&vrec->lock);
	plan->members[plan->count++].fn = target;
	if (bus)
		list_for_each_entry(fn, &vrec->fns, node)
			if (fn != target &&
			    vrec_bus_below(fn->pdev->bus, target->pdev->bus))
				plan->members[plan->count++].fn = fn;
	for (i = 0; i < plan->count; i++) {
		fn = plan->members[i].fn;
		if (fn->plan || READ_ONCE(fn->watching))
			return -EBUSY;
	}
	return 0;
}

/**
 * vrec_plan_reset - VHOST_RECOVER_PLAN_RESET
 * @vrec: the file
 * @r: the argument, copied from the caller; @r->count is filled in
 *
 * Called with the vhost device mutex held, so functions are neither
 * attached nor detached meanwhile.
 *
 * Return: 0 or a negative errno, as listed in vhost_recover.h.
 */
int vrec_plan_reset(struct vhost_recover *vrec, struct vhost_recover_reset *r)
{
	struct vrec_fn *target;
	struct vrec_plan *plan;
	struct vrec_member *m;
	unsigned int i;
	int ret;

	if ((r->flags & ~VHOST_RECOVER_RESET_BUS) ||
	    r->deadline_ms > VHOST_RECOVER_DEADLINE_MAX_MS)
		return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(r->reserved); i++)
		if (r->reserved[i])
			return -EINVAL;

	plan = kzalloc(sizeof(*plan), GFP_KERNEL);
	if (!plan)
		return -ENOMEM;
	plan->vrec = vrec;
	plan->deadline_ms = r->deadline_ms ?: VHOST_RECOVER_DEADLINE_DEFAULT_MS;
	plan->prepare = vrec_negotiated(vrec);
	hrtimer_init(&plan->deadline, CLOCK_MONOTONIC, HRTIMER_MODE_REL);
	plan->deadline.function = vrec_plan_deadline;
	INIT_WORK(&plan->deadline_work, vrec_plan_deadline_work);
	INIT_DELAYED_WORK(&plan->work, vrec_plan_work);

	vrec_plan_reap(vrec);
	mutex_lock(&vrec->plan_mutex);
	spin_lock(&vrec->lock);
	target = vrec_find_fn(vrec, r->cookie, NULL);
	ret = target ? vrec_plan_members(vrec, plan, target,
					 r->flags & VHOST_RECOVER_RESET_BUS) :
		       -ENOENT;
	if (!ret) {
		for (i = 0; i < plan->count; i++)
			plan->members[i].fn->plan = plan;
		plan->start = ktime_get();
		list_add_tail(&plan->node, &vrec->plans);
		/*
		 * Without the feature there is nothing to wait for.  Else the
		 * deadline runs from now; a run before the notices are queued
		 * waits for plan_mutex.
		 */
		if (plan->prepare)
			hrtimer_start(&plan->deadline,
				      ms_to_ktime(plan->deadline_ms),
				      HRTIMER_MODE_REL);
		else
			vrec_plan_due(vrec, plan, false);
	}
	spin_unlock(&vrec->lock);
	if (ret) {
		mutex_unlock(&vrec->plan_mutex);
		kfree(plan);
		return ret;
	}

	r->count = plan->count;
	if (plan->prepare)
		pr_info("%s: planned reset of %u function(s), deadline %u ms\n",
			pci_name(target->pdev), plan->count, plan->deadline_ms);
	else
		pr_info("%s: planned reset of %u function(s), no prepare-reset (not negotiated)\n",
			pci_name(target->pdev), plan->count);
	for (i = 0; plan->prepare && i < plan->count; i++) {
		m = &plan->members[i];
		vrec_queue_plan(m->fn, VIRTIO_PVRECOVER_N_PREPARE_RESET,
				plan->deadline_ms, &m->seq, NULL);
	}
	mutex_unlock(&vrec->plan_mutex);
	return 0;
}

/**
 * vrec_plan_done - VHOST_RECOVER_RESET_DONE
 * @vrec: the file
 * @d: the argument, copied from the caller
 *
 * Called with the vhost device mutex held.  Ends the plan: its members are
 * sent RESET_DONE (STATE_LOST if they were sent no PREPARE_RESET), or
 * PERM_FAILURE if the reset failed.
 *
 * Return: 0 or a negative errno, as listed in vhost_recover.h.
 */
int vrec_plan_done(struct vhost_recover *vrec,
		   const struct vhost_recover_reset_done *d)
{
	struct vrec_plan *plan = NULL;
	struct vrec_fn *fn;
	unsigned int i;
	int ret = 0;

	if (d->error > 0)
		return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(d->reserved); i++)
		if (d->reserved[i])
			return -EINVAL;

	mutex_lock(&vrec->plan_mutex);
	spin_lock(&vrec->lock);
	fn = vrec_find_fn(vrec, d->cookie, NULL);
	if (!fn) {
		ret = -ENOENT;
	} else {
		plan = fn->plan;
		if (plan && plan->members[0].fn == fn &&
		    plan->state == VREC_PLAN_DUE)
			plan->state = VREC_PLAN_ENDED;
		else
			ret = -EINVAL;
	}
	spin_unlock(&vrec->lock);
	if (!ret)
		vrec_plan_end(vrec, plan, d->error, false, false);
	mutex_unlock(&vrec->plan_mutex);
	if (!ret)
		vrec_plan_reap(vrec);
	return ret;
}

/**
 * vrec_plan_ack - an answer to a notice may make a planned reset due
 * @vrec: the file
 * @n: the notice answered
 *
 * Called with @vrec->lock held, from the ack path.  Any answer to a
 * member's PREPARE_RESET counts: the guest will do no more for it.
 */
void vrec_plan_ack(struct vhost_recover *vrec, const struct vrec_notice *n)
{
	struct vrec_plan *plan;
	struct vrec_member *m;
	unsigned int i;

	lockdep_assert_held(&vrec->lock);
	if (n->type != VIRTIO_PVRECOVER_N_PREPARE_RESET)
		return;
	list_for_each_entry(plan, &vrec->plans, node) {
		if (plan->state != VREC_PLAN_WAITING)
			continue;
		for (i = 0; i < plan->count; i++) {
			m = &plan->members[i];
			if (m->answered || m->seq != n->seq ||
			    m->fn->cookie != n->cookie)
				continue;
			m->answered = true;
			plan->nanswered++;
			if (plan->nanswered == plan->count)
				vrec_plan_due(vrec, plan, false);
			return;
		}
	}
}

/**
 * vrec_plan_leave - a function being detached leaves its planned reset
 * @fn: the function
 *
 * Process context, before @fn is freed.  If @fn is the function the owner
 * asked to reset, the owner cannot do it any more: the plan ends, and the
 * other members, which may be quiesced, are sent RESET_DONE (a reset the
 * owner did just before is covered by it too).  Otherwise the plan goes on
 * without @fn, and is due if the others have all answered.
 */
void vrec_plan_leave(struct vrec_fn *fn)
{
	struct vhost_recover *vrec = fn->vrec;
	struct vrec_plan *plan;
	bool abandoned = false;
	unsigned int i;

	mutex_lock(&vrec->plan_mutex);
	plan = fn->plan;
	if (!plan) {
		mutex_unlock(&vrec->plan_mutex);
		return;
	}
	spin_lock(&vrec->lock);
	if (plan->members[0].fn == fn) {
		pr_info("%s: planned reset ended: detached\n",
			vrec_plan_name(plan));
		plan->state = VREC_PLAN_ENDED;
		abandoned = true;
	}
	for (i = 0; i < plan->count && plan->members[i].fn != fn; i++)
		;
	if (!WARN_ON(i == plan->count)) {
		if (plan->members[i].answered)
			plan->nanswered--;
		plan->count--;
		memmove(&plan->members[i], &plan->members[i + 1],
			(plan->count - i) * sizeof(plan->members[0]));
	}
	fn->plan = NULL;
	if (plan->state == VREC_PLAN_WAITING &&
	    plan->nanswered == plan->count)
		vrec_plan_due(vrec, plan, false);
	spin_unlock(&vrec->lock);
	if (abandoned)
		vrec_plan_end(vrec, plan, 0, false, true);
	mutex_unlock(&vrec->plan_mutex);
	vrec_plan_reap(vrec);
}

/**
 * vrec_plan_forget - end every planned reset: the owner reset the guest
 * @vrec: the file
 *
 * Called with the vhost device mutex held.  The guest's reset resets every
 * function a plan reaches anyway, and the notices the plans sent go with
 * the old guest: the plans end at once and send nothing.  A later
 * VHOST_RECOVER_RESET_DONE for one of them gets EINVAL.
 *
 * Return: how many plans ended.
 */
unsigned int vrec_plan_forget(struct vhost_recover *vrec)
{
	struct vrec_plan *plan;
	unsigned int ended = 0;

	mutex_lock(&vrec->plan_mutex);
	spin_lock(&vrec->lock);
	list_for_each_entry(plan, &vrec->plans, node) {
		if (plan->state == VREC_PLAN_ENDED)
			continue;
		pr_info("%s: planned reset ended: guest reset\n",
			vrec_plan_name(plan));
		plan->state = VREC_PLAN_ENDED;
		vrec_plan_release(plan);
		ended++;
	}
	spin_unlock(&vrec->lock);
	mutex_unlock(&vrec->plan_mutex);
	vrec_plan_reap(vrec);
	return ended;
}

void vrec_plan_init(struct vhost_recover *vrec)
{
	mutex_init(&vrec->plan_mutex);
	INIT_LIST_HEAD(&vrec->plans);
}

/* Called once every function is detached: only ended plans are left. */
void vrec_plan_cleanup(struct vhost_recover *vrec)
{
	vrec_plan_reap(vrec);
	WARN_ON(!list_empty(&vrec->plans));
	mutex_destroy(&vrec->plan_mutex);
}
