// SPDX-License-Identifier: GPL-2.0
/*
 * The ioctl interface of /dev/vhost-recover, run inside a guest that is a
 * host (L1) with a function bound to vfio-pci.
 *
 * Usage: vhost_ioctl BDF [SIBLING]   (the vfio-pci function, e.g.
 * 0000:01:00.0, and optionally another function of the same device, in
 * the same VFIO group, for the fan-out of bus resets)
 *        vhost_ioctl --unbind-race BDF | --unplug BDF | --watch-race BDF |
 *                    --reassign BDF   (one scenario each; see mode_*())
 *
 * Prints "ok NAME" or "not ok NAME: why" per case, then "done N failed".
 * Good requests work, bad ones get the errno vhost_recover.h promises, and
 * errors signalled on the eventfd become notices that are queued,
 * coalesced and timed out without a guest.  Planned resets without a guest:
 * due at once if the feature is not negotiated, else at the deadline; the
 * end of each as the owner reports it, or fails to.  With a sibling: a bus
 * reset reaches both, a function-level one only the one named, and a plan
 * whose named function is detached is abandoned, its other members told
 * RESET_DONE all the same.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <linux/vfio.h>
#include <linux/vhost.h>
#include <linux/vhost_recover.h>
#include <linux/virtio_pvrecover.h>

#include "vfio_function.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The module's bound on one function's queue (VREC_QUEUE_PER_FN). */
#define QUEUE_PER_FN 16

static int failed;

static void result(const char *name, int ok, const char *fmt, long a, long b)
{
	if (ok) {
		printf("ok %s\n", name);
		return;
	}
	printf("not ok %s: ", name);
	printf(fmt, a, b);
	printf("\n");
	failed++;
}

/* The ioctl must fail with errno @want (0: must succeed). */
static void expect(const char *name, int fd, unsigned long req, void *arg,
		   int want)
{
	int r = ioctl(fd, req, arg);
	int got = r < 0 ? errno : 0;

	result(name, got == want, "errno %ld, want %ld", got, want);
}

static struct vhost_recover_attach attach_arg(int group, int efd,
					      unsigned int seg, unsigned int bus,
					      unsigned int devfn)
{
	struct vhost_recover_attach a = {
		.group_fd = group, .error_fd = efd, .cookie = 1,
		.host_segment = seg, .host_bus = bus, .host_devfn = devfn,
		.guest = { .segment = 0, .root_bus = 0, .depth = 2,
			   .path = { 0x08, 0x00 } },
	};
	return a;
}

static struct vhost_recover_stats stats(int fd)
{
	struct vhost_recover_stats s;

	memset(&s, 0xff, sizeof(s));
	if (ioctl(fd, VHOST_RECOVER_GET_STATS, &s) < 0)
		memset(&s, 0xff, sizeof(s));
	return s;
}

/* Wait, bounded, for the module's workers to reach a counter value. */
static int wait_stat(int fd, size_t off, unsigned long long want)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	struct vhost_recover_stats s;
	int i;

	for (i = 0; i < 500; i++) {
		s = stats(fd);
		if (*(unsigned long long *)((char *)&s + off) >= want)
			return 1;
		nanosleep(&ts, NULL);
	}
	return 0;
}

static long ms_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t0->tv_sec) * 1000 +
	       (now.tv_nsec - t0->tv_nsec) / 1000000;
}

/* VHOST_RECOVER_EV_DROPPED records wait_reset() skipped, of each notice. */
static unsigned int dropped_skipped[VIRTIO_PVRECOVER_N_PREPARE_RESET + 1];

/*
 * Wait, at most @ms, for a VHOST_RECOVER_EV_RESET record, polling the event
 * eventfd @evfd; other records are skipped (dropped ones counted in
 * dropped_skipped).  0: none came.
 */
static int wait_reset(int fd, int evfd, long ms,
		      struct vhost_recover_event *out)
{
	struct pollfd p = { .fd = evfd, .events = POLLIN };
	struct vhost_recover_event ev[16];
	struct vhost_recover_events evs;
	struct timespec t0;
	unsigned int i;
	uint64_t cnt;
	long left;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		/* Read the counter first: a record added after is not missed. */
		if (read(evfd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
			return 0;
		evs = (struct vhost_recover_events){ .count = 16,
			.events = (unsigned long)ev };
		if (ioctl(fd, VHOST_RECOVER_GET_EVENTS, &evs) < 0)
			return 0;
		for (i = 0; i < evs.count; i++) {
			if (ev[i].flags & VHOST_RECOVER_EV_RESET) {
				*out = ev[i];
				return 1;
			}
			if (ev[i].flags == VHOST_RECOVER_EV_DROPPED &&
			    ev[i].notice < ARRAY_SIZE(dropped_skipped))
				dropped_skipped[ev[i].notice]++;
		}
		if (evs.count == 16)
			continue;
		left = ms - ms_since(&t0);
		if (left <= 0 || poll(&p, 1, left) < 0)
			return 0;
	}
}

/* Set a module parameter; @old, if not NULL, receives its value before. */
static int set_param(const char *name, const char *val, char *old,
		     size_t size)
{
	char path[128];
	ssize_t n = 1;
	int pfd, ok;

	snprintf(path, sizeof(path), "/sys/module/vhost_recover/parameters/%s",
		 name);
	pfd = open(path, O_RDWR);
	if (pfd < 0)
		return 0;
	if (old) {
		n = read(pfd, old, size - 1);
		old[n > 0 ? n : 0] = 0;
	}
	ok = pwrite(pfd, val, strlen(val), 0) == (ssize_t)strlen(val);
	close(pfd);
	return ok && (!old || n > 0);
}

#define STAT(field) offsetof(struct vhost_recover_stats, field)

/*
 * A function's queue is bounded (spec 7.5.1).  With no guest, each planned
 * reset adds one notice (its PREPARE_RESET, merged with its RESET_DONE into
 * a STATE_LOST) until the module's 16 per function; then both halves of
 * the next are refused, counted and reported, and nothing waits.
 */
static void queue_bound(int fd, int evfd, __u32 cookie)
{
	struct vhost_recover_reset_done d = { .cookie = cookie };
	unsigned int i, full = 0, reported;
	struct vhost_recover_stats s0, s;
	struct vhost_recover_event ev[8];
	struct vhost_recover_events evs;
	struct vhost_recover_reset r;
	int ok = 1;

	expect("bound-start-empty", fd, VHOST_RECOVER_GUEST_RESET, NULL, 0);
	reported = dropped_skipped[VIRTIO_PVRECOVER_N_PREPARE_RESET];
	for (i = 0; i <= QUEUE_PER_FN && ok; i++) {
		s0 = stats(fd);
		r = (struct vhost_recover_reset){ .cookie = cookie,
			.deadline_ms = 10 };
		ok = !ioctl(fd, VHOST_RECOVER_PLAN_RESET, &r) &&
		     wait_reset(fd, evfd, 5000, &ev[0]) &&
		     !ioctl(fd, VHOST_RECOVER_RESET_DONE, &d);
		s = stats(fd);
		if (i < QUEUE_PER_FN)
			ok = ok && s.queued == i + 1 &&
			     s.notices_dropped == s0.notices_dropped;
		else
			full = ok && s.queued == QUEUE_PER_FN &&
			       s.notices_dropped == s0.notices_dropped + 2;
	}
	result("bound-per-function", ok && full, "plan %ld queued %ld", i,
	       (long)stats(fd).queued);
	/* The prepare-reset's record came before the reset was due. */
	evs = (struct vhost_recover_events){ .count = 8,
		.events = (unsigned long)ev };
	expect("get-events-bound", fd, VHOST_RECOVER_GET_EVENTS, &evs, 0);
	result("bound-refusal-reported",
	       dropped_skipped[VIRTIO_PVRECOVER_N_PREPARE_RESET] == reported + 1 &&
	       evs.count == 1 && ev[0].cookie == cookie && ev[0].seq == 0 &&
	       ev[0].flags == VHOST_RECOVER_EV_DROPPED &&
	       ev[0].notice == VIRTIO_PVRECOVER_N_RESET_DONE,
	       "records %ld then %ld",
	       dropped_skipped[VIRTIO_PVRECOVER_N_PREPARE_RESET] - reported,
	       evs.count);
	expect("bound-guest-reset", fd, VHOST_RECOVER_GUEST_RESET, NULL, 0);
}

/*
 * Planned resets of the function attached as @cookie, with no guest: every
 * PREPARE_RESET stays queued.  @evfd is the event eventfd (non-blocking).
 */
static void planned_resets(int fd, int evfd, __u32 cookie)
{
	struct vhost_recover_reset_done d;
	struct vhost_recover_event ev;
	struct vhost_recover_reset r;
	struct vhost_recover_stats s0, s;
	struct timespec t0;
	char timeout[32];
	__u64 features;
	__u32 u32;
	long ms;
	int ok;

	/* Long enough that nothing queued here times out, so it can merge. */
	u32 = 600000;
	expect("plan-ack-timeout-long", fd, VHOST_RECOVER_SET_ACK_TIMEOUT, &u32,
	       0);

	r = (struct vhost_recover_reset){ .cookie = cookie };
	r.reserved[2] = 1;
	expect("plan-reserved", fd, VHOST_RECOVER_PLAN_RESET, &r, EINVAL);
	r = (struct vhost_recover_reset){ .cookie = cookie, .flags = 2 };
	expect("plan-unknown-flag", fd, VHOST_RECOVER_PLAN_RESET, &r, EINVAL);
	r = (struct vhost_recover_reset){ .cookie = cookie,
		.deadline_ms = VHOST_RECOVER_DEADLINE_MAX_MS + 1 };
	expect("plan-deadline-huge", fd, VHOST_RECOVER_PLAN_RESET, &r, EINVAL);
	r = (struct vhost_recover_reset){ .cookie = 7 };
	expect("plan-unknown-cookie", fd, VHOST_RECOVER_PLAN_RESET, &r, ENOENT);
	d = (struct vhost_recover_reset_done){ .cookie = cookie };
	expect("reset-done-nothing-due", fd, VHOST_RECOVER_RESET_DONE, &d,
	       EINVAL);
	d.cookie = 7;
	expect("reset-done-unknown-cookie", fd, VHOST_RECOVER_RESET_DONE, &d,
	       ENOENT);
	d = (struct vhost_recover_reset_done){ .cookie = cookie };
	d.reserved[1] = 1;
	expect("reset-done-reserved", fd, VHOST_RECOVER_RESET_DONE, &d, EINVAL);
	d = (struct vhost_recover_reset_done){ .cookie = cookie, .error = EIO };
	expect("reset-done-error-positive", fd, VHOST_RECOVER_RESET_DONE, &d,
	       EINVAL);

	/* Features never set: no PREPARE_RESET, the reset is due at once. */
	r = (struct vhost_recover_reset){ .cookie = cookie };
	expect("plan-not-negotiated", fd, VHOST_RECOVER_PLAN_RESET, &r, 0);
	result("plan-not-negotiated-count", r.count == 1, "count %ld%ld",
	       r.count, 0);
	ok = wait_reset(fd, evfd, 0, &ev);
	result("plan-not-negotiated-due-at-once", ok && ev.cookie == cookie &&
	       ev.flags == VHOST_RECOVER_EV_RESET && ev.seq == 0 &&
	       ev.notice == VIRTIO_PVRECOVER_N_PREPARE_RESET &&
	       ev.status == 0 && ev.method == 1,
	       "record %ld flags %ld", ok, ok ? ev.flags : 0);
	expect("plan-due-busy", fd, VHOST_RECOVER_PLAN_RESET, &r, EBUSY);
	s0 = stats(fd);
	d = (struct vhost_recover_reset_done){ .cookie = cookie };
	expect("reset-done", fd, VHOST_RECOVER_RESET_DONE, &d, 0);
	s = stats(fd);
	result("reset-done-state-lost", s.resets_planned == 1 &&
	       s.resets_deadline == 0 &&
	       s.notices_queued + s.notices_coalesced ==
	       s0.notices_queued + s0.notices_coalesced + 1,
	       "resets_planned %ld queued %ld", (long)s.resets_planned,
	       (long)(s.notices_queued - s0.notices_queued));
	expect("reset-done-again", fd, VHOST_RECOVER_RESET_DONE, &d, EINVAL);

	/* Negotiated, but no guest takes the notice: due at the deadline. */
	features = 1ULL << VIRTIO_F_VERSION_1 |
		   1ULL << VIRTIO_PVRECOVER_F_PLANNED_RESET;
	expect("set-features-planned-reset", fd, VHOST_SET_FEATURES, &features,
	       0);
	s0 = stats(fd);
	r = (struct vhost_recover_reset){ .cookie = cookie,
		.deadline_ms = 200 };
	clock_gettime(CLOCK_MONOTONIC, &t0);
	expect("plan-deadline", fd, VHOST_RECOVER_PLAN_RESET, &r, 0);
	s = stats(fd);
	result("plan-deadline-prepare-queued", r.count == 1 &&
	       s.notices_queued == s0.notices_queued + 1,
	       "count %ld queued %ld", r.count,
	       (long)(s.notices_queued - s0.notices_queued));
	expect("plan-running-busy", fd, VHOST_RECOVER_PLAN_RESET, &r, EBUSY);
	d = (struct vhost_recover_reset_done){ .cookie = cookie };
	expect("reset-done-before-due", fd, VHOST_RECOVER_RESET_DONE, &d,
	       EINVAL);
	ok = wait_reset(fd, evfd, 5000, &ev);
	ms = ms_since(&t0);
	result("plan-deadline-due", ok && ev.cookie == cookie &&
	       ev.flags == (VHOST_RECOVER_EV_RESET | VHOST_RECOVER_EV_DEADLINE) &&
	       ev.seq != 0 && ev.notice == VIRTIO_PVRECOVER_N_PREPARE_RESET &&
	       ev.status == 0 && ev.method == 1 && ev.rtt_us >= 200000,
	       "record %ld flags %ld", ok, ok ? ev.flags : 0);
	result("plan-deadline-timing", ok && ms >= 200 && ms < 3000,
	       "%ld ms, module says %ld us", ms, ok ? ev.rtt_us : 0);
	s0 = stats(fd);
	result("plan-deadline-counted", s0.resets_planned == 2 &&
	       s0.resets_deadline == 1, "planned %ld deadline %ld",
	       (long)s0.resets_planned, (long)s0.resets_deadline);
	d = (struct vhost_recover_reset_done){ .cookie = cookie,
		.error = -EIO };
	expect("reset-done-failed", fd, VHOST_RECOVER_RESET_DONE, &d, 0);
	s = stats(fd);
	result("reset-done-failed-perm-failure",
	       s.notices_queued == s0.notices_queued + 1 &&
	       s.notices_coalesced == s0.notices_coalesced,
	       "queued %ld coalesced %ld",
	       (long)(s.notices_queued - s0.notices_queued),
	       (long)(s.notices_coalesced - s0.notices_coalesced));

	/* A bus reset reaching only this function; the prepare-reset still
	 * queued and its reset-done become one state-lost.
	 */
	r = (struct vhost_recover_reset){ .cookie = cookie, .deadline_ms = 50,
		.flags = VHOST_RECOVER_RESET_BUS };
	expect("plan-bus", fd, VHOST_RECOVER_PLAN_RESET, &r, 0);
	result("plan-bus-count", r.count == 1, "count %ld%ld", r.count, 0);
	ok = wait_reset(fd, evfd, 5000, &ev);
	result("plan-bus-due", ok && (ev.flags & VHOST_RECOVER_EV_DEADLINE),
	       "record %ld flags %ld", ok, ok ? ev.flags : 0);
	s0 = stats(fd);
	d = (struct vhost_recover_reset_done){ .cookie = cookie };
	expect("reset-done-bus", fd, VHOST_RECOVER_RESET_DONE, &d, 0);
	s = stats(fd);
	result("reset-done-merged",
	       s.notices_coalesced == s0.notices_coalesced + 1 &&
	       s.queued == s0.queued, "coalesced %ld queued %ld",
	       (long)(s.notices_coalesced - s0.notices_coalesced),
	       (long)s.queued - (long)s0.queued);

	/* An owner that never reports: perm-failure, and the plan is over. */
	result("owner-timeout-set", set_param("recovery_timeout_ms", "100",
					      timeout, sizeof(timeout)),
	       "errno %ld%ld", errno, 0);
	s0 = stats(fd);
	r = (struct vhost_recover_reset){ .cookie = cookie, .deadline_ms = 50 };
	expect("plan-owner-late", fd, VHOST_RECOVER_PLAN_RESET, &r, 0);
	ok = wait_reset(fd, evfd, 5000, &ev);
	result("plan-owner-late-due", ok, "record %ld%ld", ok, 0);
	/* The prepare-reset, then the perm-failure. */
	result("owner-timeout-perm-failure",
	       wait_stat(fd, STAT(notices_queued), s0.notices_queued + 2),
	       "queued %ld%ld",
	       (long)(stats(fd).notices_queued - s0.notices_queued), 0);
	result("owner-timeout-restore", set_param("recovery_timeout_ms",
						  timeout, NULL, 0),
	       "errno %ld%ld", errno, 0);
	expect("reset-done-after-owner-timeout", fd, VHOST_RECOVER_RESET_DONE,
	       &d, EINVAL);

	queue_bound(fd, evfd, cookie);

	/* Left due: closing the file must clean it up (see the end). */
	r = (struct vhost_recover_reset){ .cookie = cookie, .deadline_ms = 50 };
	expect("plan-left-due", fd, VHOST_RECOVER_PLAN_RESET, &r, 0);
	ok = wait_reset(fd, evfd, 5000, &ev);
	result("plan-left-due-due", ok, "record %ld%ld", ok, 0);
}

/* Attach @bdf of @group to @fd as @cookie, with an eventfd of its own. */
static void attach_as(const char *name, int fd, int group, const char *bdf,
		      __u32 cookie)
{
	unsigned int seg, bus, devfn;
	struct vhost_recover_attach a;

	if (!parse_bdf(bdf, &seg, &bus, &devfn)) {
		result(name, 0, "bad BDF%ld%ld", 0, 0);
		return;
	}
	a = attach_arg(group, eventfd(0, EFD_CLOEXEC), seg, bus, devfn);
	a.cookie = cookie;
	expect(name, fd, VHOST_RECOVER_ATTACH, &a, 0);
}

/*
 * Fan-out over two functions of one device, @bdf and @sibling, both in
 * VFIO group @group (a group opens once), on a file of their own, with no
 * guest: every notice stays queued.
 */
static void fanout(int group, const char *bdf, const char *sibling)
{
	struct vhost_recover_reset_done d;
	struct vhost_recover_stats s0, s;
	struct vhost_recover_event ev;
	struct vhost_recover_reset r;
	int fd, evfd, ok;
	__u64 features;
	__u32 u32;

	fd = open("/dev/vhost-recover", O_RDWR);
	evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	result("fanout-open", fd >= 0 && evfd >= 0, "errno %ld%ld", errno, 0);
	if (fd < 0 || evfd < 0)
		return;
	expect("fanout-set-owner", fd, VHOST_SET_OWNER, NULL, 0);
	features = 1ULL << VIRTIO_F_VERSION_1 |
		   1ULL << VIRTIO_PVRECOVER_F_PLANNED_RESET;
	expect("fanout-set-features", fd, VHOST_SET_FEATURES, &features, 0);
	u32 = 600000;
	expect("fanout-ack-timeout", fd, VHOST_RECOVER_SET_ACK_TIMEOUT, &u32, 0);
	expect("fanout-event-fd", fd, VHOST_RECOVER_SET_EVENT_FD, &evfd, 0);
	attach_as("fanout-attach", fd, group, bdf, 1);
	attach_as("fanout-attach-sibling", fd, group, sibling, 2);

	/* A function-level reset reaches the function named only. */
	r = (struct vhost_recover_reset){ .cookie = 1, .deadline_ms = 50 };
	expect("fanout-plan-function", fd, VHOST_RECOVER_PLAN_RESET, &r, 0);
	result("fanout-plan-function-count", r.count == 1, "count %ld%ld",
	       r.count, 0);
	ok = wait_reset(fd, evfd, 5000, &ev);
	result("fanout-plan-function-due", ok && ev.method == 1,
	       "record %ld functions %ld", ok, ok ? ev.method : 0);
	d = (struct vhost_recover_reset_done){ .cookie = 1 };
	expect("fanout-reset-done-function", fd, VHOST_RECOVER_RESET_DONE, &d,
	       0);

	/* A bus reset of either reaches both; each is sent PREPARE_RESET. */
	s0 = stats(fd);
	r = (struct vhost_recover_reset){ .cookie = 2, .deadline_ms = 50,
		.flags = VHOST_RECOVER_RESET_BUS };
	expect("fanout-plan-bus", fd, VHOST_RECOVER_PLAN_RESET, &r, 0);
	s = stats(fd);
	result("fanout-plan-bus-both", r.count == 2 &&
	       s.notices_queued == s0.notices_queued + 2,
	       "count %ld queued %ld", r.count,
	       (long)(s.notices_queued - s0.notices_queued));
	r = (struct vhost_recover_reset){ .cookie = 1 };
	expect("fanout-member-busy", fd, VHOST_RECOVER_PLAN_RESET, &r, EBUSY);
	ok = wait_reset(fd, evfd, 5000, &ev);
	result("fanout-plan-bus-due", ok && ev.cookie == 2 && ev.method == 2 &&
	       ev.status == 0 && (ev.flags & VHOST_RECOVER_EV_DEADLINE),
	       "record %ld functions %ld", ok, ok ? ev.method : 0);
	s0 = stats(fd);
	d = (struct vhost_recover_reset_done){ .cookie = 2 };
	expect("fanout-reset-done-bus", fd, VHOST_RECOVER_RESET_DONE, &d, 0);
	s = stats(fd);
	result("fanout-reset-done-both", s.notices_coalesced ==
	       s0.notices_coalesced + 2, "coalesced %ld%ld",
	       (long)(s.notices_coalesced - s0.notices_coalesced), 0);

	/*
	 * The function named is detached before the reset: the plan is
	 * abandoned, and the sibling, which may be quiesced, is told
	 * RESET_DONE (merged with its queued PREPARE_RESET) and is free.
	 */
	r = (struct vhost_recover_reset){ .cookie = 1, .deadline_ms = 60000,
		.flags = VHOST_RECOVER_RESET_BUS };
	expect("fanout-plan-abandoned", fd, VHOST_RECOVER_PLAN_RESET, &r, 0);
	s0 = stats(fd);
	u32 = 1;
	expect("fanout-detach-named", fd, VHOST_RECOVER_DETACH, &u32, 0);
	s = stats(fd);
	result("fanout-abandoned-reset-done", s.notices_coalesced ==
	       s0.notices_coalesced + 1 && s.resets_planned == s0.resets_planned,
	       "coalesced %ld planned %ld",
	       (long)(s.notices_coalesced - s0.notices_coalesced),
	       (long)(s.resets_planned - s0.resets_planned));
	r = (struct vhost_recover_reset){ .cookie = 2, .deadline_ms = 50,
		.flags = VHOST_RECOVER_RESET_BUS };
	expect("fanout-sibling-free", fd, VHOST_RECOVER_PLAN_RESET, &r, 0);
	result("fanout-sibling-alone", r.count == 1, "count %ld%ld", r.count, 0);
	close(fd);
	close(evfd);
}

/* A function's VFIO device, opened as a VMM opens it. */
struct vfio_fds {
	int container, group, device;
};

static int vfio_open(const char *bdf, struct vfio_fds *v)
{
	v->container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	v->group = group_open(bdf);
	v->device = -1;
	if (v->container < 0 || v->group < 0)
		return 0;
	if (ioctl(v->group, VFIO_GROUP_SET_CONTAINER, &v->container) < 0)
		return 0;
	if (ioctl(v->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) < 0 &&
	    ioctl(v->container, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU) < 0)
		return 0;
	v->device = ioctl(v->group, VFIO_GROUP_GET_DEVICE_FD, bdf);
	return v->device >= 0;
}

static void vfio_close(struct vfio_fds *v)
{
	if (v->device >= 0)
		close(v->device);
	if (v->group >= 0)
		close(v->group);
	if (v->container >= 0)
		close(v->container);
	v->device = v->group = v->container = -1;
}

/* /dev/kmsg, positioned after the records logged so far. */
static int kmsg_open(void)
{
	int k = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (k >= 0)
		lseek(k, 0, SEEK_END);
	return k;
}

/* Wait, at most @ms, for a kernel log record that holds @text. */
static int kmsg_wait(int k, const char *text, long ms)
{
	struct pollfd p = { .fd = k, .events = POLLIN };
	struct timespec t0;
	char rec[2048];
	ssize_t n;
	long left;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		n = read(k, rec, sizeof(rec) - 1);
		if (n > 0) {
			rec[n] = 0;
			if (strstr(rec, text))
				return 1;
			continue;
		}
		/* Records overwritten before we read them: go on. */
		if (n < 0 && errno == EPIPE)
			continue;
		if (n < 0 && errno != EAGAIN)
			return 0;
		left = ms - ms_since(&t0);
		if (left <= 0 || poll(&p, 1, left) < 0)
			return 0;
	}
}

/*
 * A call that may block, made in a thread of its own so that the program
 * can say how long it blocked; its return is signalled on a pipe.
 */
struct bg {
	pthread_t thread;
	int pipe[2];
	int (*fn)(struct bg *b);
	int ret, err;
	int fd;
	unsigned long req;
	void *arg;
	const char *path, *val;
};

static void *bg_main(void *p)
{
	struct bg *b = p;

	b->ret = b->fn(b);
	b->err = b->ret < 0 ? errno : 0;
	if (write(b->pipe[1], "x", 1) != 1)
		b->err = errno;
	return NULL;
}

static int bg_start(struct bg *b, int (*fn)(struct bg *b))
{
	b->fn = fn;
	if (pipe(b->pipe) < 0)
		return 0;
	return pthread_create(&b->thread, NULL, bg_main, b) == 0;
}

/* Wait, at most @ms, for the call to return.  1: it returned. */
static int bg_wait(struct bg *b, long ms)
{
	struct pollfd p = { .fd = b->pipe[0], .events = POLLIN };

	if (poll(&p, 1, ms) != 1)
		return 0;
	pthread_join(b->thread, NULL);
	close(b->pipe[0]);
	close(b->pipe[1]);
	b->pipe[0] = -1;
	return 1;
}

static int bg_ioctl(struct bg *b)
{
	return ioctl(b->fd, b->req, b->arg);
}

/* Write @val to the sysfs file @path. */
static int bg_write(struct bg *b)
{
	size_t len = strlen(b->val);
	int f = open(b->path, O_WRONLY | O_CLOEXEC), e;
	ssize_t n;

	if (f < 0)
		return -1;
	n = write(f, b->val, len);
	e = errno;
	close(f);
	errno = e;
	return n == (ssize_t)len ? 0 : -1;
}

/*
 * Issue 10 item 2: an admin unbinds the function from vfio-pci while the
 * VMM holds its device file, so vfio-pci's remove waits for the VMM with
 * the function's device lock held; the VMM then attaches it.  ATTACH must
 * return at once with EBUSY (it used to sleep on the device lock for
 * ever: the VMM could never release the device); once the VMM closes its
 * files the unbind completes.
 */
static int mode_unbind_race(const char *bdf, unsigned int seg,
			    unsigned int bus, unsigned int devfn)
{
	struct bg unbind = { .path = "/sys/bus/pci/drivers/vfio-pci/unbind",
			     .val = bdf };
	struct vhost_recover_attach a;
	struct bg att = { 0 };
	char path[PATH_MAX];
	struct vfio_fds v;
	struct timespec t0;
	int fd, efd, k, ok, returned;
	__u32 u32;
	long ms;

	k = kmsg_open();
	ok = vfio_open(bdf, &v);
	result("race-vfio-open", ok && k >= 0, "errno %ld%ld", errno, 0);
	fd = open("/dev/vhost-recover", O_RDWR | O_CLOEXEC);
	efd = eventfd(0, EFD_CLOEXEC);
	if (!ok || k < 0 || fd < 0 || efd < 0)
		return 1;
	expect("race-set-owner", fd, VHOST_SET_OWNER, NULL, 0);
	a = attach_arg(v.group, efd, seg, bus, devfn);
	expect("race-attach-bound", fd, VHOST_RECOVER_ATTACH, &a, 0);
	u32 = 1;
	expect("race-detach-bound", fd, VHOST_RECOVER_DETACH, &u32, 0);

	ok = bg_start(&unbind, bg_write) &&
	     kmsg_wait(k, "blocked until released by user", 30000);
	result("race-unbind-waits-for-user", ok && !bg_wait(&unbind, 0),
	       "waiting %ld%ld", ok, 0);
	printf("unbind waiting\n");
	fflush(stdout);

	att.fd = fd;
	att.req = VHOST_RECOVER_ATTACH;
	att.arg = &a;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	returned = bg_start(&att, bg_ioctl) && bg_wait(&att, 2000);
	ms = ms_since(&t0);
	result("race-attach-returns", returned,
	       "ATTACH still blocked after %ld ms%.0ld", ms, 0);
	if (returned)
		result("race-attach-ebusy", att.ret < 0 && att.err == EBUSY,
		       "ret %ld errno %ld", att.ret, att.err);

	/* The VMM lets go of the function: the unbind completes. */
	vfio_close(&v);
	ok = bg_wait(&unbind, 30000);
	result("race-unbind-completes", ok && unbind.ret == 0,
	       "returned %ld errno %ld", ok, ok ? unbind.err : 0);
	if (!returned)
		result("race-attach-returns-after-unbind", bg_wait(&att, 30000),
		       "still blocked%ld%ld", 0, 0);
	snprintf(path, sizeof(path), "/sys/bus/pci/drivers/vfio-pci/%s", bdf);
	result("race-unbound", access(path, F_OK) < 0, "still bound%ld%ld", 0,
	       0);
	close(fd);
	close(efd);
	close(k);
	return 0;
}

/*
 * Issue 10 item 2, the other half: the function is hot-unplugged on the
 * host while attached.  The removal completes, the module keeps working
 * (an error signal is still taken, detach works), and nothing blocks.
 */
static int mode_unplug(const char *bdf, unsigned int seg, unsigned int bus,
		       unsigned int devfn)
{
	struct vhost_recover_attach a;
	struct vhost_recover_stats s0;
	char path[PATH_MAX], dev[PATH_MAX];
	struct bg rm = { .val = "1" };
	int fd, group, efd, ok;
	uint64_t one = 1;
	__u32 u32;

	snprintf(dev, sizeof(dev), "/sys/bus/pci/devices/%s", bdf);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/remove", bdf);
	rm.path = path;
	fd = open("/dev/vhost-recover", O_RDWR | O_CLOEXEC);
	group = group_open(bdf);
	efd = eventfd(0, EFD_CLOEXEC);
	result("unplug-open", fd >= 0 && group >= 0 && efd >= 0, "errno %ld%ld",
	       errno, 0);
	if (fd < 0 || group < 0 || efd < 0)
		return 1;
	expect("unplug-set-owner", fd, VHOST_SET_OWNER, NULL, 0);
	a = attach_arg(group, efd, seg, bus, devfn);
	expect("unplug-attach", fd, VHOST_RECOVER_ATTACH, &a, 0);

	ok = bg_start(&rm, bg_write) && bg_wait(&rm, 30000);
	result("unplug-remove-completes", ok && rm.ret == 0,
	       "returned %ld errno %ld", ok, ok ? rm.err : 0);
	result("unplug-gone", access(dev, F_OK) < 0, "still there%ld%ld", 0, 0);

	s0 = stats(fd);
	if (write(efd, &one, sizeof(one)) != sizeof(one))
		perror("write");
	result("unplug-signal-taken", wait_stat(fd, STAT(errors), s0.errors + 1),
	       "errors %ld%ld", (long)(stats(fd).errors - s0.errors), 0);
	u32 = 1;
	expect("unplug-detach", fd, VHOST_RECOVER_DETACH, &u32, 0);
	close(fd);
	close(group);
	close(efd);
	return 0;
}

/* Wait, at most @ms, until the stats satisfy @cond. */
static int wait_stats(int fd, long ms,
		      int (*cond)(const struct vhost_recover_stats *s),
		      struct vhost_recover_stats *s)
{
	struct timespec ts = { 0, 1000 * 1000 }, t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		*s = stats(fd);
		if (cond(s))
			return 1;
		if (ms_since(&t0) >= ms)
			return 0;
		nanosleep(&ts, NULL);
	}
}

static int second_error_first_end(const struct vhost_recover_stats *s)
{
	return s->errors >= 2 && s->host_recoveries >= 1;
}

static int second_end(const struct vhost_recover_stats *s)
{
	return s->host_recoveries + s->host_failures >= 2;
}

/*
 * Issue 10 item 3: a fatal error lands as the host's recovery of the one
 * before ends (the test holds that end back with the module parameter
 * test_watch_hold_ms until the second error is signalled; the harness
 * injects the errors).  Between the first end and the second, the second
 * error is being watched: a planned reset must be refused (EBUSY), and
 * each error gets one end, neither a failure.  The function's real vfio
 * error eventfd is attached, as QEMU does.  Prints "ready" once attached.
 */
static int mode_watch_race(const char *bdf, unsigned int seg, unsigned int bus,
			   unsigned int devfn)
{
	char buf[sizeof(struct vfio_irq_set) + sizeof(int)];
	struct vfio_irq_set *irq = (struct vfio_irq_set *)buf;
	struct vhost_recover_stats s, s1;
	struct vhost_recover_attach a;
	struct vhost_recover_reset r;
	struct vfio_fds v;
	int fd, efd, ok, rc, err;

	ok = vfio_open(bdf, &v);
	result("wr-vfio-open", ok, "errno %ld%ld", errno, 0);
	efd = eventfd(0, EFD_CLOEXEC);
	fd = open("/dev/vhost-recover", O_RDWR | O_CLOEXEC);
	if (!ok || efd < 0 || fd < 0)
		return 1;
	memset(buf, 0, sizeof(buf));
	irq->argsz = sizeof(buf);
	irq->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
	irq->index = VFIO_PCI_ERR_IRQ_INDEX;
	irq->count = 1;
	memcpy(irq->data, &efd, sizeof(efd));
	expect("wr-error-eventfd", v.device, VFIO_DEVICE_SET_IRQS, irq, 0);
	expect("wr-set-owner", fd, VHOST_SET_OWNER, NULL, 0);
	a = attach_arg(v.group, efd, seg, bus, devfn);
	expect("wr-attach", fd, VHOST_RECOVER_ATTACH, &a, 0);
	printf("ready\n");
	fflush(stdout);

	ok = wait_stats(fd, 180000, second_error_first_end, &s);
	result("wr-second-error-and-first-end", ok,
	       "errors %ld host recoveries %ld", (long)s.errors,
	       (long)s.host_recoveries);
	r = (struct vhost_recover_reset){ .cookie = 1 };
	rc = ioctl(fd, VHOST_RECOVER_PLAN_RESET, &r);
	err = rc < 0 ? errno : 0;
	s1 = stats(fd);
	printf("plan tried with %llu error(s), %llu end(s) reported; %llu after\n",
	       (unsigned long long)s.errors,
	       (unsigned long long)s.host_recoveries,
	       (unsigned long long)s1.host_recoveries);
	result("wr-plan-refused-while-watching", ok && rc < 0 && err == EBUSY,
	       "ret %ld errno %ld (a planned reset let through while the "
	       "host recovers the function)", rc, err);
	ok = wait_stats(fd, 120000, second_end, &s);
	result("wr-second-end", ok && s.host_recoveries == 2 &&
	       s.host_failures == 0, "recoveries %ld failures %ld",
	       (long)s.host_recoveries, (long)s.host_failures);
	close(fd);
	vfio_close(&v);
	close(efd);
	return 0;
}

/*
 * Issue 10 item 4: the owner attaches the function with its group file
 * and then closes that file.  The attachment holds the group: another VM
 * cannot open it (EBUSY, vfio's rule for an open group) and so cannot be
 * given the function while this file reports its errors.  Detaching, or
 * closing /dev/vhost-recover, lets go of the group, in either order with
 * the owner's own close.
 */
static int mode_reassign(const char *bdf, unsigned int seg, unsigned int bus,
			 unsigned int devfn)
{
	struct vhost_recover_attach a;
	int fd, group, other, efd;
	__u32 u32 = 1;

	fd = open("/dev/vhost-recover", O_RDWR | O_CLOEXEC);
	efd = eventfd(0, EFD_CLOEXEC);
	group = group_open(bdf);
	result("reassign-open", fd >= 0 && efd >= 0 && group >= 0,
	       "errno %ld%ld", errno, 0);
	if (fd < 0 || efd < 0 || group < 0)
		return 1;
	expect("reassign-set-owner", fd, VHOST_SET_OWNER, NULL, 0);

	/* Attached, then the owner closes its group file. */
	a = attach_arg(group, efd, seg, bus, devfn);
	expect("reassign-attach", fd, VHOST_RECOVER_ATTACH, &a, 0);
	close(group);
	other = group_open(bdf);
	result("reassign-other-vm-refused", other < 0 && errno == EBUSY,
	       "another open of the group: fd %ld errno %ld", other,
	       other < 0 ? errno : 0);
	if (other >= 0)
		close(other);
	expect("reassign-detach", fd, VHOST_RECOVER_DETACH, &u32, 0);
	other = group_open(bdf);
	result("reassign-free-after-detach", other >= 0, "errno %ld%ld", errno,
	       0);
	if (other >= 0)
		close(other);

	/* QEMU's order: detach, then close the group. */
	group = group_open(bdf);
	a = attach_arg(group, efd, seg, bus, devfn);
	expect("reassign-attach-2", fd, VHOST_RECOVER_ATTACH, &a, 0);
	expect("reassign-detach-2", fd, VHOST_RECOVER_DETACH, &u32, 0);
	close(group);
	other = group_open(bdf);
	result("reassign-free-detach-then-close", other >= 0, "errno %ld%ld",
	       errno, 0);
	if (other >= 0)
		close(other);

	/* The owner goes away: closing /dev/vhost-recover lets go too. */
	group = group_open(bdf);
	a = attach_arg(group, efd, seg, bus, devfn);
	expect("reassign-attach-3", fd, VHOST_RECOVER_ATTACH, &a, 0);
	close(group);
	close(fd);
	other = group_open(bdf);
	result("reassign-free-after-close", other >= 0, "errno %ld%ld", errno,
	       0);
	if (other >= 0)
		close(other);
	close(efd);
	return 0;
}

static int run_mode(const char *mode, const char *bdf)
{
	unsigned int seg, bus, devfn;
	int rc;

	if (!parse_bdf(bdf, &seg, &bus, &devfn))
		return 2;
	if (!strcmp(mode, "--unbind-race"))
		rc = mode_unbind_race(bdf, seg, bus, devfn);
	else if (!strcmp(mode, "--unplug"))
		rc = mode_unplug(bdf, seg, bus, devfn);
	else if (!strcmp(mode, "--watch-race"))
		rc = mode_watch_race(bdf, seg, bus, devfn);
	else if (!strcmp(mode, "--reassign"))
		rc = mode_reassign(bdf, seg, bus, devfn);
	else
		return 2;
	printf("done %d failed\n", failed);
	return rc || failed;
}

int main(int argc, char **argv)
{
	struct vhost_recover_event ev[8];
	struct vhost_recover_events evs;
	struct vhost_recover_attach a;
	struct vhost_recover_stats s;
	unsigned int seg, bus, dev, fn, devfn;
	__u32 u32;
	__u64 u64;
	int fd, group, efd, evfd, i;
	uint64_t one = 1;

	if (argc == 3 && !strncmp(argv[1], "--", 2)) {
		i = run_mode(argv[1], argv[2]);
		if (i == 2)
			fprintf(stderr, "usage: vhost_ioctl --MODE BDF\n");
		return i;
	}
	if (argc < 2 || argc > 3 ||
	    sscanf(argv[1], "%x:%x:%x.%x", &seg, &bus, &dev, &fn) != 4) {
		fprintf(stderr, "usage: vhost_ioctl SEGMENT:BUS:DEV.FN [SIBLING]\n");
		return 2;
	}
	devfn = dev << 3 | fn;
	fd = open("/dev/vhost-recover", O_RDWR);
	result("open", fd >= 0, "errno %ld%ld", errno, 0);
	group = group_open(argv[1]);
	result("open-vfio-group", group >= 0, "errno %ld%ld", errno, 0);
	efd = eventfd(0, EFD_CLOEXEC);
	if (fd < 0 || group < 0 || efd < 0)
		return 1;

	a = attach_arg(group, efd, seg, bus, devfn);
	expect("attach-before-set-owner", fd, VHOST_RECOVER_ATTACH, &a, EPERM);
	expect("set-owner", fd, VHOST_SET_OWNER, NULL, 0);

	/* The device logs no dirty pages, so it does not offer to. */
	u64 = 0;
	expect("get-features", fd, VHOST_GET_FEATURES, &u64, 0);
	result("features-no-log-all", !(u64 & (1ULL << VHOST_F_LOG_ALL)) &&
	       (u64 & (1ULL << VIRTIO_F_VERSION_1)), "features 0x%lx%ld",
	       (long)u64, 0);
	u64 = 1ULL << VIRTIO_F_VERSION_1 | 1ULL << VHOST_F_LOG_ALL;
	expect("set-features-log-all", fd, VHOST_SET_FEATURES, &u64,
	       EOPNOTSUPP);
	memset(ev, 0, sizeof(ev));
	expect("garbage-ioctl", fd, _IOW(VHOST_VIRTIO, 0xEE, int), ev, ENOTTY);
	expect("garbage-ioctl-2", fd, 0xdeadbeef, NULL, ENOTTY);
	expect("bad-pointer", fd, VHOST_RECOVER_ATTACH, (void *)16, EFAULT);

	a.group_fd = efd;
	expect("group-not-vfio", fd, VHOST_RECOVER_ATTACH, &a, EBADF);
	a.group_fd = -1;
	expect("group-closed", fd, VHOST_RECOVER_ATTACH, &a, EBADF);
	a = attach_arg(group, group, seg, bus, devfn);
	expect("error-fd-not-eventfd", fd, VHOST_RECOVER_ATTACH, &a, EBADF);

	a = attach_arg(group, efd, seg, bus, devfn);
	a.cookie = 0;
	expect("cookie-zero", fd, VHOST_RECOVER_ATTACH, &a, EINVAL);
	a = attach_arg(group, efd, seg, bus, devfn);
	a.guest.depth = 0;
	expect("depth-zero", fd, VHOST_RECOVER_ATTACH, &a, EINVAL);
	a.guest.depth = 9;
	expect("depth-nine", fd, VHOST_RECOVER_ATTACH, &a, EINVAL);
	a = attach_arg(group, efd, seg, bus, devfn);
	a.guest.path[5] = 1;
	expect("path-beyond-depth", fd, VHOST_RECOVER_ATTACH, &a, EINVAL);
	a = attach_arg(group, efd, seg, bus, devfn);
	a.flags = 1;
	expect("flags", fd, VHOST_RECOVER_ATTACH, &a, EINVAL);
	a = attach_arg(group, efd, seg, bus, devfn);
	a.reserved[3] = 1;
	expect("reserved", fd, VHOST_RECOVER_ATTACH, &a, EINVAL);

	a = attach_arg(group, efd, seg, 0x7e, 0);
	expect("no-such-function", fd, VHOST_RECOVER_ATTACH, &a, ENODEV);
	/* The host bridge exists but is not this group's, nor vfio's. */
	a = attach_arg(group, efd, 0, 0, 0);
	expect("not-owned", fd, VHOST_RECOVER_ATTACH, &a, EPERM);

	a = attach_arg(group, efd, seg, bus, devfn);
	expect("attach", fd, VHOST_RECOVER_ATTACH, &a, 0);
	expect("attach-again", fd, VHOST_RECOVER_ATTACH, &a, EEXIST);
	a.cookie = 2;
	expect("attach-same-function", fd, VHOST_RECOVER_ATTACH, &a, EEXIST);

	u32 = 7;
	expect("detach-unknown", fd, VHOST_RECOVER_DETACH, &u32, ENOENT);
	u32 = 0;
	expect("ack-timeout-zero", fd, VHOST_RECOVER_SET_ACK_TIMEOUT, &u32, EINVAL);
	u32 = 600001;
	expect("ack-timeout-huge", fd, VHOST_RECOVER_SET_ACK_TIMEOUT, &u32, EINVAL);
	i = group;
	expect("event-fd-not-eventfd", fd, VHOST_RECOVER_SET_EVENT_FD, &i, EINVAL);

	s = stats(fd);
	result("stats-idle", s.errors == 0 && s.notices_queued == 0 &&
	       s.queued == 0, "errors %ld queued %ld", (long)s.errors,
	       (long)s.queued);

	/*
	 * An error signal on the eventfd with the function healthy is a
	 * non-fatal error: one notice, queued since no guest is running.
	 */
	if (write(efd, &one, sizeof(one)) != sizeof(one))
		perror("write");
	result("error-queues-notice",
	       wait_stat(fd, offsetof(struct vhost_recover_stats, notices_queued), 1),
	       "notices_queued %ld%ld", (long)stats(fd).notices_queued, 0);

	/* A flood is coalesced and bounded, never a queue per signal. */
	for (i = 0; i < 20000; i++)
		if (write(efd, &one, sizeof(one)) != sizeof(one))
			break;
	wait_stat(fd, offsetof(struct vhost_recover_stats, notices_coalesced), 1);
	s = stats(fd);
	result("flood-coalesced", s.notices_coalesced >= 1 && s.queued == 1 &&
	       s.notices_queued == 1, "coalesced %ld queued %ld",
	       (long)s.notices_coalesced, (long)s.queued);

	/* Nobody answers: the timeout is counted and reported. */
	u32 = 50;
	expect("ack-timeout", fd, VHOST_RECOVER_SET_ACK_TIMEOUT, &u32, 0);
	evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	expect("event-fd", fd, VHOST_RECOVER_SET_EVENT_FD, &evfd, 0);
	/* The first notice was queued long ago with the 5 s default. */
	result("timeout-counted",
	       wait_stat(fd, offsetof(struct vhost_recover_stats, timeouts), 1),
	       "timeouts %ld%ld", (long)stats(fd).timeouts, 0);
	evs = (struct vhost_recover_events){ .count = 8,
		.events = (unsigned long)ev };
	expect("get-events", fd, VHOST_RECOVER_GET_EVENTS, &evs, 0);
	result("timeout-event", evs.count >= 1 && ev[0].cookie == 1 &&
	       (ev[0].flags & VHOST_RECOVER_EV_TIMEOUT) &&
	       ev[0].notice == VIRTIO_PVRECOVER_N_ERROR_DETECTED,
	       "count %ld flags %ld", evs.count, evs.count ? ev[0].flags : 0);
	evs.count = 8;
	evs.events = 8;
	expect("get-events-bad-pointer-empty", fd, VHOST_RECOVER_GET_EVENTS,
	       &evs, 0);

	/*
	 * Records a call takes off the ring but cannot copy out are not
	 * lost silently: the next call and the stats count them.
	 */
	s = stats(fd);
	if (write(efd, &one, sizeof(one)) != sizeof(one))
		perror("write");
	wait_stat(fd, STAT(timeouts), s.timeouts + 1);
	evs.count = 8;
	evs.events = 8;
	expect("get-events-bad-pointer", fd, VHOST_RECOVER_GET_EVENTS, &evs,
	       EFAULT);
	evs = (struct vhost_recover_events){ .count = 8,
		.events = (unsigned long)ev };
	expect("get-events-after-fault", fd, VHOST_RECOVER_GET_EVENTS, &evs, 0);
	result("get-events-fault-counted", evs.count == 0 && evs.lost == 1 &&
	       stats(fd).events_lost == s.events_lost + 1,
	       "count %ld lost %ld", evs.count, evs.lost);

	/*
	 * The owner reset the guest: a notice queued for the old one is
	 * forgotten, without a record; the function stays attached.
	 */
	s = stats(fd);
	if (write(efd, &one, sizeof(one)) != sizeof(one))
		perror("write");
	wait_stat(fd, STAT(notices_queued), s.notices_queued + 1);
	expect("guest-reset", fd, VHOST_RECOVER_GUEST_RESET, NULL, 0);
	s = stats(fd);
	evs = (struct vhost_recover_events){ .count = 8,
		.events = (unsigned long)ev };
	expect("get-events-guest-reset", fd, VHOST_RECOVER_GET_EVENTS, &evs, 0);
	result("guest-reset-forgets", s.queued == 0 && s.outstanding == 0 &&
	       evs.count == 0, "queued %ld records %ld", (long)s.queued,
	       evs.count);

	/*
	 * A notice still queued when its function is detached is dropped and
	 * reported with its seq: no function found later at the address may
	 * receive it.  The one that timed out above goes silently.
	 */
	u32 = 60000;
	expect("ack-timeout-long", fd, VHOST_RECOVER_SET_ACK_TIMEOUT, &u32, 0);
	s = stats(fd);
	if (write(efd, &one, sizeof(one)) != sizeof(one))
		perror("write");
	result("detach-notice-queued",
	       wait_stat(fd, STAT(notices_queued), s.notices_queued + 1),
	       "notices_queued %ld%ld",
	       (long)(stats(fd).notices_queued - s.notices_queued), 0);
	u32 = 1;
	expect("detach", fd, VHOST_RECOVER_DETACH, &u32, 0);
	evs = (struct vhost_recover_events){ .count = 8,
		.events = (unsigned long)ev };
	expect("get-events-detached", fd, VHOST_RECOVER_GET_EVENTS, &evs, 0);
	result("detach-drops-queued",
	       evs.count == 1 && ev[0].cookie == 1 && ev[0].seq &&
	       ev[0].flags == VHOST_RECOVER_EV_DROPPED &&
	       ev[0].notice == VIRTIO_PVRECOVER_N_ERROR_DETECTED,
	       "count %ld flags %ld", evs.count, evs.count ? ev[0].flags : 0);
	expect("detach-again", fd, VHOST_RECOVER_DETACH, &u32, ENOENT);
	a.cookie = 3;
	expect("reattach", fd, VHOST_RECOVER_ATTACH, &a, 0);
	planned_resets(fd, evfd, 3);
	/* Closed with a function attached, a notice queued, a reset due. */
	s = stats(fd);
	if (write(efd, &one, sizeof(one)) != sizeof(one))
		perror("write");
	wait_stat(fd, STAT(notices_queued), s.notices_queued + 1);
	close(fd);
	if (argc == 3)
		fanout(group, argv[1], argv[2]);
	printf("done %d failed\n", failed);
	return failed != 0;
}
