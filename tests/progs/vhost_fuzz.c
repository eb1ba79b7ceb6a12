// SPDX-License-Identifier: GPL-2.0
/*
 * A seeded, time-bounded fuzzer for /dev/vhost-recover, run as root inside
 * a guest that is a host (L1) with one or two functions bound to vfio-pci
 * (two functions of one device share one VFIO group).
 *
 * Usage: vhost_fuzz [-s SEED] [-t SECONDS] [-n MAX_EXECS] BDF [BDF2]
 *
 * It drives several open files of the device at once with random
 * operations: the standard vhost ioctls (owner, fork owner, features,
 * memory tables, vrings, log, IOTLB messages), the module's own (attach
 * and detach with the real VFIO group file and error eventfds and with
 * garbage, stats, events, planned resets, reset done, guest reset,
 * running, ack timeout), unknown ioctls and bad pointers, closes and
 * re-opens with functions attached and plans pending, bursts of notices
 * that fill a function's queue, children that are not the owner or that
 * die owning a file, the module's recovery_timeout_ms, and error signals,
 * both written to the error eventfds and raised by vfio itself
 * (VFIO_DEVICE_SET_IRQS).  Each file has a small vhost user of its own:
 * guest memory is a region of this process (guest physical address ==
 * user address), and split virtqueues take random descriptor chains,
 * valid and not, on noticeq and ackq.  Notices that arrive are checked and
 * most are answered, correctly or not.  The functions are opened through
 * vfio once: their devices are never reset by the program.
 *
 * What the module promises is checked as it goes, and every breach is an
 * "anomaly" line: errnos outside the ones vhost_recover.h documents (or
 * not the one a request must get), stats counters that go backwards or
 * exceed what was posted, used ring entries the device never got, notice
 * and event records that are malformed, about functions never attached
 * or answers never sent, a child that cannot be reaped, the VFIO group
 * still held once every file is closed.  The first anomalies come with
 * the file's recent history ("history" lines).  A watchdog thread reports
 * an operation that makes no progress for 30 s, with the blocked tasks'
 * stacks.
 *
 * Output: "seed N" first, so that a run can be replayed with -s N; at the
 * end "execs N", "pairs N" (distinct (operation, outcome) pairs, outcome
 * the errno or 0), one "pair OP OUTCOME COUNT" line per pair, what
 * reached the vhost user ("notices N answers N records N" and the kinds
 * of records), "anomalies N" and "done".  The exit status is 0 unless the
 * program itself failed; the test decides from the anomalies and the
 * kernel's health.
 *
 * Reproducibility: every execution takes its operation and a seed of its
 * own from one splitmix64 stream before it looks at what the kernel
 * answered, so a seed always gives the same sequence of operations and
 * arguments.  The kernel's answers still vary with timing (its workers,
 * the ack timeout, the deadlines of planned resets, how far the vhost
 * worker got), and the operations follow them (a notice is answered only
 * once it has arrived, a cookie detached only if attached): a seed replays
 * the same attempts, not always the same interleaving.
 */
#define _GNU_SOURCE		/* pipe2() */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/vfio.h>
#include <linux/vhost.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>
#include <linux/vhost_recover.h>
#include <linux/virtio_pvrecover.h>

#include "vfio_function.h"

#define NSLOTS		4	/* files open at once */
#define NFNS		2	/* vfio functions: BDF and BDF2 */
#define NCOOKIES	9	/* cookies used: 1..8, and 0 */
#define QMAX		256	/* largest ring laid out */
#define CHAIN_MAX	16	/* descriptors in one chain */
#define SEGS_MAX	16	/* device-writable pieces of a notice buffer */

/*
 * A file's guest memory, one mapping: its two rings, a buffer per
 * descriptor, junk that bogus descriptors may point to (never read back,
 * so that a bogus chain cannot spoil a buffer that is; one per queue, so
 * that an acknowledgment is never read from where a notice was written),
 * and at the end a read-only area and a hole, for buffers the device
 * cannot write or read.
 */
#define MEM_SIZE	0x100000UL
#define RING_OFF(q)	((q) * 0x4000UL)
#define RING_SIZE	0x4000UL
#define AVAIL_OFF	0x1000UL
#define USED_OFF	0x2000UL
#define BUF_SIZE	0x200UL
#define BUF_OFF(q, d)	(0x10000UL + (q) * 0x20000UL + (d) * BUF_SIZE)
#define JUNK_OFF(q)	(0x50000UL + (q) * 0x48000UL)
#define JUNK_SIZE	0x48000UL
#define RO_OFF		0xe0000UL
#define HOLE_OFF	0xf0000UL
#define AREA_SIZE	0x10000UL
/* Inside a buffer: an indirect table first, then its pieces. */
#define IND_MAX		8
#define IND_DATA	0x80UL
#define IND_PIECE	0x30UL

#define BAD_FD		987654		/* above RLIMIT_NOFILE: never open */
#define KERNEL_PTR	((void *)0xffff888000000000UL)
#define SEQ_BITS	(1U << 20)	/* seqs checked for duplicates */
#define ACKS_KEPT	1024
#define TODO_MAX	32
#define ANSWERED_KEPT	8
#define ADDRS_MAX	64
#define PAIRS_MAX	4096
#define ANOMALIES_SHOWN	60
#define HIST_LEN	160	/* requests remembered per file, for an anomaly */
#define HIST_DUMPS	3
#define HANG_SECONDS	30
#define CHILD_WAIT_MS	10000

#define NOTICE_SIZE	sizeof(struct virtio_pvrecover_notice)
#define ACK_SIZE	sizeof(struct virtio_pvrecover_ack)

/* Absent from older uapi headers; only the numbers matter here. */
#ifndef VIRTIO_F_ACCESS_PLATFORM
#define VIRTIO_F_ACCESS_PLATFORM	33
#endif
#ifndef VHOST_SET_FORK_FROM_OWNER
#define VHOST_SET_FORK_FROM_OWNER	_IOW(VHOST_VIRTIO, 0x84, __u8)
#define VHOST_GET_FORK_FROM_OWNER	_IOR(VHOST_VIRTIO, 0x85, __u8)
#endif

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* A list of errnos, for what a request may answer (-1 ends it).  A
 * compound literal: only as an argument, it lives no longer than its block.
 */
#define ERRS(...)	((const int[]){ __VA_ARGS__, -1 })

/* ... and the lists an ATTACH that passed the field checks may meet. */
static const int attach_badf[] = { EBADF, -1 };
static const int attach_exists[] = { EEXIST, EBUSY, -1 };
static const int attach_fresh[] = { 0, EBUSY, -1 };
static const int attach_foreign[] = { ENODEV, EPERM, EBUSY, -1 };

struct rng {
	uint64_t s;
};

/* One buffer the device holds, by its head descriptor. */
struct head {
	bool posted;
	bool parse;		/* noticeq: a notice lands in @segs */
	uint8_t ndescs;
	uint8_t nsegs;
	uint16_t descs[CHAIN_MAX];
	uint8_t *segs[SEGS_MAX];
	uint32_t seglen[SEGS_MAX];
};

struct vq {
	unsigned int num;	/* 0: not laid out */
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t avail_idx;
	uint16_t used_idx;	/* next used entry to look at */
	unsigned int inflight;
	bool dirty;		/* changed behind the layout: no checks */
	bool stuck;		/* a chain the device refuses was posted */
	bool poisoned;		/* avail entries without descriptors: full */
	bool busy[QMAX];
	struct head heads[QMAX];
	int kick, call, err;
};

/* What was done lately to a file, to print with the first anomalies. */
struct hist {
	unsigned long exec;
	const char *what;
	long val;
	bool is_errno;
};

/*
 * Acknowledgments sent, by seq modulo ACKS_KEPT.  Two seqs on one entry
 * (a random seq lands on it) make it unknown for good: an answer the
 * device takes late may be to either.
 */
struct ack_sent {
	uint32_t seq;
	uint16_t statuses;	/* bit per status sent */
	uint8_t methods;
	bool collided;
};

/* One /dev/vhost-recover file and the vhost user around it. */
struct slot {
	int fd;
	bool owner;
	bool running;
	bool rings_ok;		/* the kernel took our layout */
	bool iotlb;		/* ACCESS_PLATFORM was set once: IOTLB for ever */
	bool counts_exact;	/* the stats can be checked against ours */
	uint64_t features;
	uint8_t *mem;
	struct vq vq[2];
	uint32_t attached[NFNS];	/* cookie of each function, 0: none */
	uint16_t ever;			/* cookies ever attached, a bit each */
	struct vhost_recover_pci_addr addrs[ADDRS_MAX];
	unsigned int naddrs;
	bool addrs_full;
	int event_efd;
	uint32_t due_cookie;
	struct vhost_recover_stats last;
	bool have_last;
	uint64_t ack_posted, ack_reaped, acks_wf, notice_posted;
	struct virtio_pvrecover_notice todo[TODO_MAX];
	unsigned int ntodo;
	struct virtio_pvrecover_notice answered[ANSWERED_KEPT];
	unsigned int nanswered;
	uint8_t seen[SEQ_BITS / 8];
	uint8_t acked[SEQ_BITS / 8];
	struct ack_sent acks[ACKS_KEPT];
	struct hist hist[HIST_LEN];
	unsigned int nhist;
};

struct pair {
	const char *op;
	int err;
	unsigned long count;
};

struct vfio {
	int container, group;
	int dev[NFNS];
	int efd[NFNS];		/* registered at VFIO_PCI_ERR_IRQ_INDEX */
	int own_efd[NFNS];	/* eventfds vfio knows nothing of */
};

struct fuzz {
	uint64_t seed;
	int nfns;
	const char *bdf[NFNS];
	unsigned int seg[NFNS], bus[NFNS], devfn[NFNS];
	struct vfio v;
	struct slot slot[NSLOTS];
	uint64_t offered;	/* VHOST_GET_FEATURES */
	int pipe_fd;		/* a file that is no eventfd */
	uint8_t *guard;		/* a page, then an unmapped one */
	char old_timeout[32];
	unsigned long execs, anomalies;
	unsigned long notices, answers, records;
	/* Records: answer, late, timeout, dropped, reset, at the deadline. */
	unsigned long rec_kind[6];
	struct pair pairs[PAIRS_MAX];
	unsigned int npairs;
	unsigned int dumps;
	int cur_slot;		/* the slot an operation works on, for hist */
};

static struct fuzz fz;

/* What the watchdog reads: progress and the operation running. */
static unsigned long heartbeat;
static const char *current_op = "start";
static int stopping;

/* -- random numbers ------------------------------------------------------ */

/* splitmix64: tiny, and every 64-bit seed is a good one. */
static uint64_t rnd(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint32_t below(struct rng *r, uint32_t n)
{
	return n ? (uint32_t)(rnd(r) % n) : 0;
}

static bool chance(struct rng *r, unsigned int percent)
{
	return below(r, 100) < percent;
}

/* -- outcomes: pairs and anomalies --------------------------------------- */

static const char *errname(int e)
{
	static char buf[16];

	switch (e) {
	case 0: return "0";
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case EINTR: return "EINTR";
	case EIO: return "EIO";
	case E2BIG: return "E2BIG";
	case EBADF: return "EBADF";
	case EAGAIN: return "EAGAIN";
	case ENOMEM: return "ENOMEM";
	case EACCES: return "EACCES";
	case EFAULT: return "EFAULT";
	case EBUSY: return "EBUSY";
	case EEXIST: return "EEXIST";
	case ENODEV: return "ENODEV";
	case EINVAL: return "EINVAL";
	case ENOTTY: return "ENOTTY";
	case ENOSPC: return "ENOSPC";
	case ERANGE: return "ERANGE";
	case ENOSYS: return "ENOSYS";
	case ENOBUFS: return "ENOBUFS";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	}
	snprintf(buf, sizeof(buf), "E%d", e);
	return buf;
}

/* Operations that touch no file (signals, vfio, children) go unrecorded. */
static void hist_add(const char *what, long val, bool is_errno)
{
	struct slot *s;

	if (fz.cur_slot < 0)
		return;
	s = &fz.slot[fz.cur_slot];
	s->hist[s->nhist++ % HIST_LEN] = (struct hist){
		fz.execs, what, val, is_errno };
}

/* Print what led to an anomaly on a file, oldest first. */
static void hist_dump(void)
{
	const struct slot *s;
	const struct hist *h;
	unsigned int i;

	if (fz.cur_slot < 0 || fz.dumps++ >= HIST_DUMPS)
		return;
	s = &fz.slot[fz.cur_slot];
	for (i = s->nhist > HIST_LEN ? s->nhist - HIST_LEN : 0; i < s->nhist;
	     i++) {
		h = &s->hist[i % HIST_LEN];
		printf("history slot %d exec %lu %s %s%ld\n", fz.cur_slot,
		       h->exec, h->what, h->is_errno ? "errno " : "", h->val);
	}
}

static void pair_add(const char *op, int err)
{
	unsigned int i;

	hist_add(op, err, true);
	for (i = 0; i < fz.npairs; i++) {
		if (fz.pairs[i].err == err && !strcmp(fz.pairs[i].op, op)) {
			fz.pairs[i].count++;
			return;
		}
	}
	if (fz.npairs < PAIRS_MAX)
		fz.pairs[fz.npairs++] = (struct pair){ op, err, 1 };
}

static void anomaly(const char *fmt, ...)
{
	va_list ap;

	if (++fz.anomalies > ANOMALIES_SHOWN)
		return;
	hist_dump();
	printf("anomaly exec %lu: ", fz.execs);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static void expect_errno(const char *op, int got, int want)
{
	if (got != want)
		anomaly("%s returned %s, expected %s", op, errname(got),
			errname(want));
}

static void expect_one_of(const char *op, int got, const int *ok)
{
	const int *e;

	for (e = ok; *e >= 0; e++)
		if (*e == got)
			return;
	anomaly("%s returned %s, not one it may return", op, errname(got));
}

/* One ioctl, its outcome recorded as a pair. */
static int xioctl(const char *name, int fd, unsigned long req, void *arg)
{
	int e = ioctl(fd, req, arg) < 0 ? errno : 0;

	pair_add(name, e);
	return e;
}

static int note(const char *name, int ret)
{
	int e = ret < 0 ? errno : 0;

	pair_add(name, e);
	return e;
}

/* -- small helpers ------------------------------------------------------- */

static long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec t = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&t, NULL);
}

static uint64_t gpa(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

static bool bit_test_set(uint8_t *map, uint32_t bit)
{
	bool was;

	if (bit >= SEQ_BITS)
		return false;
	was = map[bit / 8] & (1U << (bit % 8));
	map[bit / 8] |= 1U << (bit % 8);
	return was;
}

static bool bit_test(const uint8_t *map, uint32_t bit)
{
	return bit < SEQ_BITS && (map[bit / 8] & (1U << (bit % 8)));
}

/* A pointer the kernel must refuse: NULL, unmapped, kernel, or straddling
 * the end of a read-only page into an unmapped one.
 */
static void *bad_ptr(struct rng *r, size_t size)
{
	switch (below(r, 4)) {
	case 0:
		return NULL;
	case 1:
		return fz.guard + 4096;
	case 2:
		return KERNEL_PTR;
	}
	return fz.guard + 4096 - (size > 1 ? size / 2 : 1);
}

static struct slot *pick_slot(struct rng *r)
{
	fz.cur_slot = below(r, NSLOTS);
	return &fz.slot[fz.cur_slot];
}

static struct slot *pick_open_slot(struct rng *r)
{
	struct slot *s = pick_slot(r);

	return s->fd >= 0 ? s : NULL;
}

static unsigned int nattached(const struct slot *s)
{
	unsigned int i, n = 0;

	for (i = 0; i < NFNS; i++)
		n += s->attached[i] != 0;
	return n;
}

static int fn_of_cookie(const struct slot *s, uint32_t cookie)
{
	int i;

	for (i = 0; cookie && i < NFNS; i++)
		if (s->attached[i] == cookie)
			return i;
	return -1;
}

/* A cookie attached to @s if there is one (mostly), else any. */
static uint32_t pick_cookie(struct rng *r, const struct slot *s,
			    unsigned int percent_attached)
{
	uint32_t c = s->attached[below(r, NFNS)];

	if (c && chance(r, percent_attached))
		return c;
	return below(r, NCOOKIES);
}

static int eventfd_nb(void)
{
	return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

static void drain_eventfd(int fd)
{
	uint64_t v;

	if (fd >= 0 && read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		anomaly("read of an eventfd: %s", errname(errno));
}

/* -- the vfio functions --------------------------------------------------- */

/* Point the function's vfio error trigger at @efd (-1: none). */
static int vfio_set_err(int i, int efd)
{
	char buf[sizeof(struct vfio_irq_set) + sizeof(int)];
	struct vfio_irq_set *irq = (struct vfio_irq_set *)buf;

	memset(buf, 0, sizeof(buf));
	irq->argsz = sizeof(buf);
	irq->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
	irq->index = VFIO_PCI_ERR_IRQ_INDEX;
	irq->count = 1;
	memcpy(irq->data, &efd, sizeof(efd));
	return xioctl("VFIO_DEVICE_SET_IRQS", fz.v.dev[i], VFIO_DEVICE_SET_IRQS,
		      irq);
}

static void vfio_close_all(void)
{
	int i;

	for (i = 0; i < NFNS; i++) {
		if (fz.v.dev[i] >= 0)
			close(fz.v.dev[i]);
		fz.v.dev[i] = -1;
	}
	if (fz.v.group >= 0)
		close(fz.v.group);
	if (fz.v.container >= 0)
		close(fz.v.container);
	fz.v.group = fz.v.container = -1;
}

/*
 * Open the group, its container and the functions' devices as a VMM does,
 * and register the error eventfds.  Once per run: opening and closing a
 * device resets its function, and L0's QEMU (TCG) aborted in
 * iotlb_to_section() when L1 did that a few dozen times in ten seconds.
 */
static int vfio_open_all(void)
{
	int i, e;

	fz.v.group = group_open(fz.bdf[0]);
	e = note("vfio_group_open", fz.v.group);
	if (e)
		return e;
	fz.v.container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (fz.v.container < 0 ||
	    ioctl(fz.v.group, VFIO_GROUP_SET_CONTAINER, &fz.v.container) < 0 ||
	    (ioctl(fz.v.container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) < 0 &&
	     ioctl(fz.v.container, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU) < 0))
		return note("vfio_container", -1);
	for (i = 0; i < fz.nfns; i++) {
		fz.v.dev[i] = ioctl(fz.v.group, VFIO_GROUP_GET_DEVICE_FD,
				    fz.bdf[i]);
		e = note("VFIO_GROUP_GET_DEVICE_FD", fz.v.dev[i]);
		if (!e)
			vfio_set_err(i, fz.v.efd[i]);
	}
	return 0;
}

/* -- rings ---------------------------------------------------------------- */

static uint8_t *buf_of(struct slot *s, int q, unsigned int d)
{
	return s->mem + BUF_OFF(q, d);
}

/* Lay a ring out afresh in @s's memory, empty, its indexes at @base. */
static void vq_layout(struct slot *s, int q, unsigned int num, uint16_t base)
{
	struct vq *v = &s->vq[q];
	uint8_t *ring = s->mem + RING_OFF(q);

	memset(ring, 0, RING_SIZE);
	v->num = num;
	v->desc = (struct vring_desc *)ring;
	v->avail = (struct vring_avail *)(ring + AVAIL_OFF);
	v->used = (struct vring_used *)(ring + USED_OFF);
	v->avail->idx = base;
	v->used->idx = base;
	v->avail_idx = base;
	v->used_idx = base;
	v->inflight = 0;
	v->dirty = false;
	v->stuck = false;
	v->poisoned = false;
	memset(v->busy, 0, sizeof(v->busy));
	memset(v->heads, 0, sizeof(v->heads));
}

static void vq_forget(struct vq *v)
{
	v->num = 0;
	v->inflight = 0;
}

/* Take @n free descriptors, in random order; false if there are not. */
static bool vq_alloc(struct rng *r, struct vq *v, unsigned int n,
		     uint16_t *out)
{
	unsigned int i, k, free = 0;

	for (i = 0; i < v->num; i++)
		free += !v->busy[i];
	if (!v->num || n > free || n > CHAIN_MAX)
		return false;
	for (k = 0; k < n; k++) {
		i = below(r, v->num);
		while (v->busy[i])
			i = (i + 1) % v->num;
		v->busy[i] = true;
		out[k] = i;
	}
	return true;
}

static void vq_free_head(struct vq *v, unsigned int h)
{
	struct head *hd = &v->heads[h];
	unsigned int i;

	for (i = 0; i < hd->ndescs; i++)
		v->busy[hd->descs[i]] = false;
	memset(hd, 0, sizeof(*hd));
	v->inflight--;
}

static void desc_set(struct vring_desc *d, uint64_t addr, uint32_t len,
		     uint16_t flags, uint16_t next)
{
	d->addr = addr;
	d->len = len;
	d->flags = flags;
	d->next = next;
}

/* Link @n descriptors @idx of the ring into a chain, in order. */
static void vq_link(struct vq *v, const uint16_t *idx, unsigned int n)
{
	unsigned int i;

	for (i = 0; i + 1 < n; i++) {
		v->desc[idx[i]].flags |= VRING_DESC_F_NEXT;
		v->desc[idx[i]].next = idx[i + 1];
	}
}

/* Make the chain starting at @head available: the entry, then the index. */
static void vq_publish(struct vq *v, uint16_t head)
{
	v->avail->ring[v->avail_idx % v->num] = head;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	v->avail_idx++;
	__atomic_store_n(&v->avail->idx, v->avail_idx, __ATOMIC_RELEASE);
}

static void vq_record(struct vq *v, const uint16_t *idx, unsigned int n)
{
	struct head *hd = &v->heads[idx[0]];

	hd->posted = true;
	hd->ndescs = n;
	memcpy(hd->descs, idx, n * sizeof(*idx));
	v->inflight++;
}

static void vq_add_seg(struct vq *v, uint16_t head, uint8_t *p, uint32_t len)
{
	struct head *hd = &v->heads[head];

	if (hd->nsegs < SEGS_MAX) {
		hd->segs[hd->nsegs] = p;
		hd->seglen[hd->nsegs++] = len;
	}
}

static void vq_kick(struct vq *v)
{
	uint64_t one = 1;

	note("kick", write(v->kick, &one, sizeof(one)));
}

/* Split @total bytes into @n random lengths, each at least 1 if it can. */
static void split(struct rng *r, uint32_t total, unsigned int n,
		  uint32_t *len)
{
	unsigned int i;
	uint32_t left = total;

	for (i = 0; i + 1 < n; i++) {
		len[i] = left > n - i ? 1 + below(r, left - (n - i) + 1) : 0;
		if (len[i] > left)
			len[i] = left;
		left -= len[i];
	}
	len[n - 1] = left;
}

/*
 * Post one buffer of @total bytes (device-writable if @write) holding
 * @data (if not NULL), laid out as one descriptor, a chain of @pieces, or
 * an indirect table of @pieces.  Returns the head, or -1 if the ring is
 * full.
 */
static int vq_post_buffer(struct rng *r, struct slot *s, int q, bool write,
			  uint32_t total, const void *data, unsigned int pieces,
			  bool indirect)
{
	uint16_t flags = write ? VRING_DESC_F_WRITE : 0;
	struct vq *v = &s->vq[q];
	uint32_t len[CHAIN_MAX];
	struct vring_desc *tab;
	uint16_t idx[CHAIN_MAX];
	uint32_t off = 0;
	unsigned int i, n;
	uint8_t *p;

	if (indirect && pieces > IND_MAX)
		pieces = IND_MAX;
	n = indirect ? 1 : pieces;
	if (!vq_alloc(r, v, n, idx))
		return -1;
	split(r, total, pieces, len);
	if (indirect) {
		p = buf_of(s, q, idx[0]);
		tab = (struct vring_desc *)p;
		for (i = 0; i < pieces; i++) {
			uint8_t *piece = p + IND_DATA + i * IND_PIECE;

			if (len[i] > IND_PIECE)
				len[i] = IND_PIECE;
			desc_set(&tab[i], gpa(piece), len[i],
				 flags | (i + 1 < pieces ? VRING_DESC_F_NEXT : 0),
				 i + 1);
			if (data)
				memcpy(piece, (const uint8_t *)data + off, len[i]);
			vq_add_seg(v, idx[0], piece, len[i]);
			off += len[i];
		}
		desc_set(&v->desc[idx[0]], gpa(tab), pieces * sizeof(*tab),
			 VRING_DESC_F_INDIRECT, 0);
	} else {
		for (i = 0; i < n; i++) {
			p = buf_of(s, q, idx[i]);
			if (len[i] > BUF_SIZE)
				len[i] = BUF_SIZE;
			desc_set(&v->desc[idx[i]], gpa(p), len[i], flags, 0);
			if (data)
				memcpy(p, (const uint8_t *)data + off, len[i]);
			vq_add_seg(v, idx[0], p, len[i]);
			off += len[i];
		}
		vq_link(v, idx, n);
	}
	vq_record(v, idx, n);
	vq_publish(v, idx[0]);
	hist_add(q ? "ackq buffer, head" : "noticeq buffer, head", idx[0], false);
	return idx[0];
}

/* -- slots: open, close, owner, features ---------------------------------- */

static void slot_reset_state(struct slot *s)
{
	int q;

	s->owner = s->running = s->rings_ok = s->iotlb = false;
	s->counts_exact = true;
	s->features = 0;
	memset(s->attached, 0, sizeof(s->attached));
	s->ever = 0;
	s->naddrs = 0;
	s->addrs_full = false;
	s->due_cookie = 0;
	s->have_last = false;
	s->ack_posted = s->ack_reaped = s->acks_wf = s->notice_posted = 0;
	s->ntodo = s->nanswered = 0;
	memset(s->seen, 0, sizeof(s->seen));
	memset(s->acked, 0, sizeof(s->acked));
	memset(s->acks, 0, sizeof(s->acks));
	for (q = 0; q < 2; q++)
		vq_forget(&s->vq[q]);
}

static void slot_close(struct slot *s)
{
	if (s->fd < 0)
		return;
	note("close", close(s->fd));
	s->fd = -1;
	slot_reset_state(s);
}

/*
 * O_NONBLOCK: a read of the IOTLB message queue must never wait (the
 * flag only matters to read()).
 */
static void slot_open(struct slot *s)
{
	slot_close(s);
	s->fd = open("/dev/vhost-recover", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (note("open", s->fd))
		s->fd = -1;
	slot_reset_state(s);
}

static int set_owner(struct slot *s)
{
	int e = xioctl("VHOST_SET_OWNER", s->fd, VHOST_SET_OWNER, NULL);

	expect_one_of("VHOST_SET_OWNER", e, ERRS(0, EBUSY, ENOMEM));
	if (!e && s->owner)
		anomaly("VHOST_SET_OWNER twice on one file succeeded");
	if (!e)
		s->owner = true;
	return e;
}

static int set_features(struct slot *s, uint64_t features)
{
	int e = xioctl("VHOST_SET_FEATURES", s->fd, VHOST_SET_FEATURES,
		       &features);

	if (features & ~fz.offered)
		expect_errno("VHOST_SET_FEATURES", e, EOPNOTSUPP);
	else
		expect_one_of("VHOST_SET_FEATURES", e, ERRS(0, EFAULT));
	if (!e) {
		s->features = features;
		if (features & (1ULL << VIRTIO_F_ACCESS_PLATFORM))
			s->iotlb = true;
	}
	return e;
}

/* An IOTLB message written to the file: v1 or v2, as the backend said. */
static int iotlb_write(struct slot *s, bool v2, uint8_t type, uint64_t iova,
		       uint64_t size, uint64_t uaddr, uint8_t perm,
		       size_t trim)
{
	struct vhost_msg_v2 m2;
	struct vhost_msg m1;
	struct vhost_iotlb_msg *t = v2 ? &m2.iotlb : &m1.iotlb;
	void *p = v2 ? (void *)&m2 : (void *)&m1;
	size_t len = v2 ? sizeof(m2) : sizeof(m1);

	memset(&m1, 0, sizeof(m1));
	memset(&m2, 0, sizeof(m2));
	m1.type = VHOST_IOTLB_MSG;
	m2.type = VHOST_IOTLB_MSG_V2;
	t->iova = iova;
	t->size = size;
	t->uaddr = uaddr;
	t->perm = perm;
	t->type = type;
	return note("iotlb_write", write(s->fd, p, len > trim ? len - trim : 0));
}

/* With an IOTLB, the rings and buffers are reached through it: map the
 * memory onto itself.
 */
static void iotlb_identity(struct slot *s)
{
	iotlb_write(s, false, VHOST_IOTLB_UPDATE, gpa(s->mem), MEM_SIZE,
		    gpa(s->mem), VHOST_ACCESS_RW, 0);
}

/* -- memory tables -------------------------------------------------------- */

static int set_mem(struct slot *s, struct vhost_memory *m)
{
	int e = xioctl("VHOST_SET_MEM_TABLE", s->fd, VHOST_SET_MEM_TABLE, m);

	if (!s->owner)
		expect_errno("VHOST_SET_MEM_TABLE", e, EPERM);
	return e;
}

static void region(struct vhost_memory *m, uint64_t gpa_, uint64_t size,
		   uint64_t uaddr)
{
	struct vhost_memory_region *rg = &m->regions[m->nregions++];

	rg->guest_phys_addr = gpa_;
	rg->memory_size = size;
	rg->userspace_addr = uaddr;
	rg->flags_padding = 0;
}

/* The one valid table: all of the slot's memory, at its own address. */
static int mem_valid(struct slot *s)
{
	union {
		struct vhost_memory m;
		uint8_t b[sizeof(struct vhost_memory) +
			  sizeof(struct vhost_memory_region)];
	} u;

	memset(&u, 0, sizeof(u));
	region(&u.m, gpa(s->mem), MEM_SIZE, gpa(s->mem));
	return set_mem(s, &u.m);
}

/*
 * A table the device can live with or not, but that never sends a guest
 * address of ours to memory of ours other than its own: what the device
 * writes must land where this program expects it, or nowhere.
 */
static void mem_random(struct rng *r, struct slot *s)
{
	static uint8_t big[sizeof(struct vhost_memory) +
			   600 * sizeof(struct vhost_memory_region)];
	struct vhost_memory *m = (struct vhost_memory *)big;
	uint64_t base = gpa(s->mem);
	unsigned int i, n;
	int e;

	memset(big, 0, sizeof(struct vhost_memory) +
	       8 * sizeof(struct vhost_memory_region));
	switch (below(r, 12)) {
	case 0:		/* two halves */
		region(m, base, MEM_SIZE / 2, base);
		region(m, base + MEM_SIZE / 2, MEM_SIZE / 2,
		       base + MEM_SIZE / 2);
		break;
	case 1:		/* none at all */
		break;
	case 2:		/* empty region */
		region(m, base, 0, base);
		break;
	case 3:		/* overlapping */
		region(m, base, MEM_SIZE, base);
		region(m, base + 0x1000, 0x2000, base + 0x1000);
		break;
	case 4:		/* too many */
		n = 65 + below(r, 500);
		memset(big, 0, sizeof(big));
		for (i = 0; i < n; i++)
			region(m, base + i * 0x1000, 0x1000, base + i * 0x1000);
		break;
	case 5:		/* a count far beyond what was passed */
		m->nregions = 0xffffffff - below(r, 3);
		break;
	case 6:		/* the rings only: buffers untranslatable */
		region(m, base, 0x10000, base);
		break;
	case 7:		/* the start backed by the read-only area */
		region(m, base, AREA_SIZE, base + RO_OFF);
		break;
	case 8:		/* backed by the hole, or the kernel */
		region(m, base, AREA_SIZE,
		       chance(r, 50) ? base + HOLE_OFF : gpa(KERNEL_PTR));
		break;
	case 9:		/* guest addresses that wrap */
		region(m, 0xfffffffffffff000ULL, 0x2000, base);
		break;
	case 10:	/* padding and flags set */
		region(m, base, MEM_SIZE, base);
		m->padding = (uint32_t)rnd(r);
		m->regions[0].flags_padding = rnd(r);
		break;
	default:	/* garbage, away from our memory */
		region(m, rnd(r) | 1ULL << 63, rnd(r), rnd(r) & 0xffff);
		break;
	}
	if (chance(r, 5)) {
		e = set_mem(s, bad_ptr(r, sizeof(struct vhost_memory)));
		if (s->owner)
			expect_errno("VHOST_SET_MEM_TABLE", e, EFAULT);
		return;
	}
	e = set_mem(s, m);
	/* vhost's max_mem_regions, 64 unless changed. */
	if (s->owner && m->nregions > 64)
		expect_errno("VHOST_SET_MEM_TABLE", e, E2BIG);
}

/* -- vrings ---------------------------------------------------------------- */

static int vring_state(struct slot *s, const char *name, unsigned long req,
		       unsigned int idx, unsigned int num)
{
	struct vhost_vring_state st = { .index = idx, .num = num };
	int e = xioctl(name, s->fd, req, &st);

	if (!s->owner)
		expect_errno(name, e, EPERM);
	else if (idx >= 2)
		expect_errno(name, e, ENOBUFS);
	return e;
}

static int vring_file(struct slot *s, const char *name, unsigned long req,
		      unsigned int idx, int fd)
{
	struct vhost_vring_file f = { .index = idx, .fd = fd };
	int e = xioctl(name, s->fd, req, &f);

	if (!s->owner)
		expect_errno(name, e, EPERM);
	else if (idx >= 2)
		expect_errno(name, e, ENOBUFS);
	else if (fd == BAD_FD)
		expect_errno(name, e, EBADF);
	return e;
}

static int vring_addr(struct slot *s, unsigned int idx, uint64_t desc,
		      uint64_t avail, uint64_t used, unsigned int flags,
		      uint64_t log)
{
	struct vhost_vring_addr a = {
		.index = idx, .flags = flags, .desc_user_addr = desc,
		.avail_user_addr = avail, .used_user_addr = used,
		.log_guest_addr = log,
	};
	int e = xioctl("VHOST_SET_VRING_ADDR", s->fd, VHOST_SET_VRING_ADDR,
		       &a);

	if (!s->owner)
		expect_errno("VHOST_SET_VRING_ADDR", e, EPERM);
	else if (idx >= 2)
		expect_errno("VHOST_SET_VRING_ADDR", e, ENOBUFS);
	return e;
}

static int set_running(struct slot *s, int on)
{
	int e = xioctl("VHOST_RECOVER_SET_RUNNING", s->fd,
		       VHOST_RECOVER_SET_RUNNING, &on);

	if (!s->owner)
		expect_errno("VHOST_RECOVER_SET_RUNNING", e, EPERM);
	else if (!on)
		expect_errno("VHOST_RECOVER_SET_RUNNING", e, 0);
	else
		expect_one_of("VHOST_RECOVER_SET_RUNNING", e,
			      ERRS(0, EFAULT, EINVAL, ENOMEM));
	if (!e)
		s->running = on != 0;
	return e;
}

static unsigned int ring_num(struct rng *r)
{
	return 1U << below(r, 9);	/* 1 .. 256 */
}

static uint16_t ring_base(struct rng *r)
{
	switch (below(r, 4)) {
	case 0:
		return (uint16_t)rnd(r);
	case 1:
		return 0xffff - below(r, 8);	/* wraps soon */
	}
	return 0;
}

/* Give queue @q our layout: size, addresses, base, eventfds. */
static bool ring_setup(struct rng *r, struct slot *s, int q)
{
	unsigned int num = ring_num(r);
	uint16_t base = ring_base(r);
	struct vq *v = &s->vq[q];
	bool ok;

	vq_layout(s, q, num, base);
	hist_add(q ? "layout ackq num" : "layout noticeq num", num, false);
	hist_add("... base", base, false);
	ok = !vring_state(s, "VHOST_SET_VRING_NUM", VHOST_SET_VRING_NUM, q,
			  num);
	ok &= !vring_addr(s, q, gpa(v->desc), gpa(v->avail), gpa(v->used), 0,
			  0);
	ok &= !vring_state(s, "VHOST_SET_VRING_BASE", VHOST_SET_VRING_BASE, q,
			   base);
	ok &= !vring_file(s, "VHOST_SET_VRING_KICK", VHOST_SET_VRING_KICK, q,
			  v->kick);
	ok &= !vring_file(s, "VHOST_SET_VRING_CALL", VHOST_SET_VRING_CALL, q,
			  v->call);
	ok &= !vring_file(s, "VHOST_SET_VRING_ERR", VHOST_SET_VRING_ERR, q,
			  v->err);
	if (!ok)
		vq_forget(v);
	return ok;
}

/*
 * Stop the device, lay both rings out afresh (the device forgets every
 * buffer it held, and one it refused) and start it again if @start.
 * Stopping first keeps the device out of the memory being rewritten.
 */
static void rings_reset(struct rng *r, struct slot *s, bool start)
{
	bool ok;

	if (s->fd < 0 || !s->owner)
		return;
	if (s->running && set_running(s, 0))
		return;
	ok = ring_setup(r, s, 0);
	ok &= ring_setup(r, s, 1);
	s->rings_ok = ok;
	if (start)
		set_running(s, 1);
}

/* -- notices and acknowledgments ----------------------------------------- */

static bool addr_known(const struct slot *s,
		       const struct virtio_pvrecover_addr *a)
{
	unsigned int i;

	if (s->addrs_full)
		return true;
	for (i = 0; i < s->naddrs; i++) {
		const struct vhost_recover_pci_addr *g = &s->addrs[i];

		if (le16toh(a->segment) == g->segment &&
		    a->root_bus == g->root_bus && a->depth == g->depth &&
		    !memcmp(a->path, g->path, sizeof(a->path)))
			return true;
	}
	return false;
}

/* A notice the device wrote must be one the spec allows, about a function
 * attached to this file, and never seen before.
 */
static void check_notice(struct slot *s, const struct virtio_pvrecover_notice *n)
{
	uint32_t seq = le32toh(n->seq);
	uint16_t type = le16toh(n->type), flags = le16toh(n->flags);
	uint32_t deadline = le32toh(n->deadline_ms);

	if (!seq)
		anomaly("notice with seq 0");
	if (type < VIRTIO_PVRECOVER_N_ERROR_DETECTED ||
	    type > VIRTIO_PVRECOVER_N_PREPARE_RESET)
		anomaly("notice seq %u of type %u", seq, type);
	if ((flags & ~VIRTIO_PVRECOVER_NF_ALL) ||
	    (flags && type != VIRTIO_PVRECOVER_N_ERROR_DETECTED))
		anomaly("notice seq %u type %u flags 0x%x", seq, type, flags);
	if (type == VIRTIO_PVRECOVER_N_PREPARE_RESET ?
	    !deadline || deadline > VHOST_RECOVER_DEADLINE_MAX_MS : deadline)
		anomaly("notice seq %u type %u deadline %u ms", seq, type,
			deadline);
	if (n->reserved[0] || n->reserved[1])
		anomaly("notice seq %u with reserved fields set", seq);
	if (!addr_known(s, &n->addr))
		anomaly("notice seq %u about a function never attached (depth %u)",
			seq, n->addr.depth);
	if (bit_test_set(s->seen, seq))
		anomaly("notice seq %u delivered twice", seq);
}

static void todo_push(struct slot *s, const struct virtio_pvrecover_notice *n)
{
	if (s->ntodo == TODO_MAX) {
		memmove(s->todo, s->todo + 1, (TODO_MAX - 1) * sizeof(*n));
		s->ntodo--;
	}
	s->todo[s->ntodo++] = *n;
}

/* Gather what the device wrote into a notice buffer. */
static void gather(const struct head *hd, uint8_t *out, size_t size)
{
	size_t off = 0, k;
	unsigned int i;

	memset(out, 0, size);
	for (i = 0; i < hd->nsegs && off < size; i++) {
		k = hd->seglen[i] < size - off ? hd->seglen[i] : size - off;
		memcpy(out + off, hd->segs[i], k);
		off += k;
	}
}

static void used_notice(struct slot *s, const struct head *hd, uint32_t len)
{
	struct virtio_pvrecover_notice n;

	if (len != 0 && len != NOTICE_SIZE)
		anomaly("noticeq: used length %u", len);
	if (len != NOTICE_SIZE || !hd->parse)
		return;
	gather(hd, (uint8_t *)&n, sizeof(n));
	check_notice(s, &n);
	fz.notices++;
	todo_push(s, &n);
}

/* Take what the device returned on queue @q. */
static void vq_reap(struct slot *s, int q)
{
	struct vq *v = &s->vq[q];
	struct vring_used_elem e;
	uint16_t idx, n;

	if (!v->num)
		return;
	idx = __atomic_load_n(&v->used->idx, __ATOMIC_ACQUIRE);
	n = idx - v->used_idx;
	if (n > v->inflight) {
		if (!v->dirty)
			anomaly("queue %d: used index moved by %u with %u buffers posted",
				q, n, v->inflight);
		/* Once is enough: no more checks on this ring and file. */
		v->used_idx = idx;
		v->dirty = true;
		s->counts_exact = false;
		return;
	}
	while (v->used_idx != idx) {
		e = v->used->ring[v->used_idx % v->num];
		v->used_idx++;
		hist_add(q ? "ackq used, head" : "noticeq used, head", e.id, false);
		if (e.id >= v->num || !v->heads[e.id].posted) {
			if (!v->dirty)
				anomaly("queue %d: used id %u never posted", q,
					e.id);
			v->dirty = true;
			s->counts_exact = false;
			continue;
		}
		if (q == VIRTIO_PVRECOVER_VQ_NOTICE && !v->dirty) {
			used_notice(s, &v->heads[e.id], e.len);
		} else if (!v->dirty) {
			if (e.len)
				anomaly("ackq: used length %u", e.len);
			s->ack_reaped++;
		}
		vq_free_head(v, e.id);
	}
}

static void slot_reap(struct slot *s)
{
	if (s->fd < 0)
		return;
	vq_reap(s, VIRTIO_PVRECOVER_VQ_NOTICE);
	vq_reap(s, VIRTIO_PVRECOVER_VQ_ACK);
}

/* The checks vrec_take_ack() makes before it looks for the notice. */
static bool ack_well_formed(const struct virtio_pvrecover_ack *a)
{
	uint16_t status = le16toh(a->status);

	return status >= VIRTIO_PVRECOVER_S_PREPARED &&
	       status <= VIRTIO_PVRECOVER_S_BUSY &&
	       le16toh(a->method) <= VIRTIO_PVRECOVER_M_REPROBE &&
	       !a->reserved && !a->reserved2;
}

static void ack_remember(struct slot *s, const struct virtio_pvrecover_ack *a)
{
	uint32_t seq = le32toh(a->seq);
	struct ack_sent *k = &s->acks[seq % ACKS_KEPT];

	s->acks_wf++;
	if (!k->statuses)
		k->seq = seq;
	else if (k->seq != seq)
		k->collided = true;
	k->statuses |= 1U << (le16toh(a->status) & 15);
	k->methods |= 1U << (le16toh(a->method) & 7);
	bit_test_set(s->acked, seq);
}

static void ack_from(struct rng *r, struct virtio_pvrecover_ack *a,
		     const struct virtio_pvrecover_notice *n)
{
	memset(a, 0, sizeof(*a));
	a->seq = n->seq;
	a->type = n->type;
	a->addr = n->addr;
	a->status = htole16(le16toh(n->type) == VIRTIO_PVRECOVER_N_PREPARE_RESET &&
			    chance(r, 80) ? VIRTIO_PVRECOVER_S_PREPARED :
			    1 + below(r, VIRTIO_PVRECOVER_S_BUSY));
	a->method = htole16(below(r, VIRTIO_PVRECOVER_M_REPROBE + 1));
	a->guest_us = htole32(below(r, 2000000));
}

static void remember_answered(struct slot *s,
			      const struct virtio_pvrecover_notice *n)
{
	if (s->nanswered == ANSWERED_KEPT) {
		memmove(s->answered, s->answered + 1,
			(ANSWERED_KEPT - 1) * sizeof(*n));
		s->nanswered--;
	}
	s->answered[s->nanswered++] = *n;
}

/* The right answer to the oldest notice not answered yet. */
static bool ack_answer(struct rng *r, struct slot *s,
		       struct virtio_pvrecover_ack *a)
{
	if (!s->ntodo)
		return false;
	ack_from(r, a, &s->todo[0]);
	remember_answered(s, &s->todo[0]);
	memmove(s->todo, s->todo + 1, --s->ntodo * sizeof(s->todo[0]));
	fz.answers++;
	return true;
}

/* Acknowledgments that are wrong in one way or another. */
static void ack_wrong(struct rng *r, struct slot *s,
		      struct virtio_pvrecover_ack *a)
{
	struct virtio_pvrecover_notice n;
	unsigned int i;

	memset(&n, 0, sizeof(n));
	if (s->nanswered)
		n = s->answered[below(r, s->nanswered)];
	ack_from(r, a, &n);
	switch (below(r, 7)) {
	case 0:		/* answered already, or never sent */
		break;
	case 1:		/* a nearby or random seq */
		a->seq = htole32(chance(r, 50) ? le32toh(n.seq) + below(r, 7) - 3 :
				 (uint32_t)rnd(r));
		break;
	case 2:
		a->type = htole16(below(r, 8));
		break;
	case 3:
		a->addr.depth = below(r, 12);
		a->addr.path[below(r, 8)] ^= 1 + below(r, 255);
		break;
	case 4:
		a->status = htole16(chance(r, 50) ? 0 :
				    VIRTIO_PVRECOVER_S_BUSY + 1 + below(r, 70000));
		break;
	case 5:
		a->method = htole16(VIRTIO_PVRECOVER_M_REPROBE + 1 + below(r, 100));
		a->reserved = htole16(below(r, 2));
		a->reserved2 = htole32(below(r, 2) << below(r, 32));
		break;
	default:
		for (i = 0; i < sizeof(*a); i++)
			((uint8_t *)a)[i] = (uint8_t)rnd(r);
		break;
	}
}

/* Post one acknowledgment, as a well-formed buffer of ACK_SIZE bytes. */
static void post_ack(struct rng *r, struct slot *s,
		     const struct virtio_pvrecover_ack *a)
{
	unsigned int pieces = chance(r, 70) ? 1 : 2 + below(r, 3);

	if (vq_post_buffer(r, s, VIRTIO_PVRECOVER_VQ_ACK, false, ACK_SIZE, a,
			   pieces, chance(r, 15)) < 0)
		return;
	s->ack_posted++;
	if (ack_well_formed(a))
		ack_remember(s, a);
}

static bool can_post(const struct slot *s, int q)
{
	return s->fd >= 0 && s->rings_ok && s->vq[q].num && !s->vq[q].dirty &&
	       !s->vq[q].poisoned;
}

/* Empty notice buffers, laid out in the ways a driver may. */
static void post_notice_bufs(struct rng *r, struct slot *s, unsigned int k)
{
	struct vq *v = &s->vq[VIRTIO_PVRECOVER_VQ_NOTICE];
	uint32_t total;
	unsigned int pieces;
	bool indirect;
	int h;

	while (k--) {
		total = NOTICE_SIZE + (chance(r, 50) ? 0 : below(r, 200));
		pieces = chance(r, 70) ? 1 : 2 + below(r, 4);
		indirect = chance(r, 15);
		if (chance(r, 3)) {
			total = NOTICE_SIZE;
			pieces = NOTICE_SIZE / 2;	/* two bytes each */
			indirect = false;
		}
		h = vq_post_buffer(r, s, VIRTIO_PVRECOVER_VQ_NOTICE, true,
				   total, NULL, pieces, indirect);
		if (h < 0)
			return;
		v->heads[h].parse = true;
		s->notice_posted++;
	}
}

/* -- bogus buffers ---------------------------------------------------------- */

static uint64_t junk_addr(struct rng *r, struct slot *s, int q)
{
	switch (below(r, 5)) {
	case 0:
		return gpa(s->mem + RO_OFF + below(r, AREA_SIZE));
	case 1:
		return gpa(s->mem + HOLE_OFF + below(r, AREA_SIZE));
	case 2:
		return gpa(s->mem) + MEM_SIZE + below(r, 1 << 20);
	case 3:
		return rnd(r);
	}
	return gpa(s->mem + JUNK_OFF(q) + below(r, JUNK_SIZE - 64));
}

/*
 * One buffer the spec forbids, or that the device cannot use, on queue @q.
 * Its descriptors point at junk only and link only among themselves, so
 * no other buffer of ours is touched.  Many of these make the device stop
 * at them for good (vhost_get_vq_desc() fails and does not move on): the
 * queue is stuck until the rings are laid out again.
 */
static const char *const bogus_names[2][17] = {
	{ "noticeq:zero-length", "noticeq:short", "noticeq:readable",
	  "noticeq:readable-then-writable", "noticeq:writable-then-readable",
	  "noticeq:read-only-memory", "noticeq:hole", "noticeq:outside-table",
	  "noticeq:huge", "noticeq:loop", "noticeq:next-past-ring",
	  "noticeq:indirect-odd-length", "noticeq:indirect-outside",
	  "noticeq:indirect-nested", "noticeq:indirect-empty-or-huge",
	  "noticeq:head-past-ring", "noticeq:avail-index-jump" },
	{ "ackq:zero-length", "ackq:short", "ackq:device-writable",
	  "ackq:readable-then-writable", "ackq:writable-then-readable",
	  "ackq:read-only-memory", "ackq:hole", "ackq:outside-table",
	  "ackq:huge", "ackq:loop", "ackq:next-past-ring",
	  "ackq:indirect-odd-length", "ackq:indirect-outside",
	  "ackq:indirect-nested", "ackq:indirect-empty-or-huge",
	  "ackq:head-past-ring", "ackq:avail-index-jump" },
};

static void post_bogus(struct rng *r, struct slot *s, int q)
{
	uint16_t dir = q == VIRTIO_PVRECOVER_VQ_NOTICE ? VRING_DESC_F_WRITE : 0;
	struct vq *v = &s->vq[q];
	uint16_t idx[4];
	struct vring_desc *d, *tab;
	unsigned int kind = below(r, 17), i;
	uint8_t *p;

	pair_add(bogus_names[q][kind], 0);
	hist_add("avail index", v->avail_idx, false);
	/*
	 * These two publish avail entries that hold no descriptor, so the
	 * ring may now hold more entries than descriptors: one more post
	 * could overwrite an entry the device has not read yet, and vhost,
	 * which caches the avail index, would take a head twice.  Nothing
	 * more is posted on the ring until it is laid out again.
	 */
	if (kind == 15) {		/* an index past the ring */
		v->avail->ring[v->avail_idx % v->num] = v->num + below(r, 60000);
		v->avail_idx++;
		__atomic_store_n(&v->avail->idx, v->avail_idx, __ATOMIC_RELEASE);
		v->stuck = v->poisoned = true;
		return;
	}
	if (kind == 16) {		/* more buffers than the ring holds */
		v->avail_idx += v->num + 1 + below(r, 1000);
		__atomic_store_n(&v->avail->idx, v->avail_idx, __ATOMIC_RELEASE);
		v->stuck = v->poisoned = true;
		return;
	}
	if (!vq_alloc(r, v, 2, idx))
		return;
	d = &v->desc[idx[0]];
	p = buf_of(s, q, idx[0]);
	desc_set(d, gpa(p), q ? ACK_SIZE : NOTICE_SIZE, dir, 0);
	desc_set(&v->desc[idx[1]], gpa(buf_of(s, q, idx[1])), 16, dir, 0);
	switch (kind) {
	case 0:
		d->len = 0;
		break;
	case 1:
		d->len = (q ? ACK_SIZE : NOTICE_SIZE) - 1 - below(r, 8);
		break;
	case 2:				/* the wrong direction */
		d->flags ^= VRING_DESC_F_WRITE;
		break;
	case 3:				/* readable, then writable */
		d->flags = 0;
		v->desc[idx[1]].flags = VRING_DESC_F_WRITE;
		vq_link(v, idx, 2);
		break;
	case 4:				/* writable, then readable */
		d->flags = VRING_DESC_F_WRITE;
		v->desc[idx[1]].flags = 0;
		vq_link(v, idx, 2);
		v->stuck = true;
		break;
	case 5:				/* memory the device cannot write */
	case 6:				/* ... or reach */
		d->addr = gpa(s->mem + (kind == 5 ? RO_OFF : HOLE_OFF) +
			      below(r, AREA_SIZE - 64));
		break;
	case 7:				/* outside the memory table */
		d->addr = gpa(s->mem) + MEM_SIZE + below(r, 1 << 30);
		v->stuck = true;
		break;
	case 8:
		d->len = 0x80000000U + below(r, 0x7fffffff);
		v->stuck = true;
		break;
	case 9:				/* a loop */
		vq_link(v, idx, 2);
		v->desc[idx[1]].flags |= VRING_DESC_F_NEXT;
		v->desc[idx[1]].next = idx[0];
		v->stuck = true;
		break;
	case 10:			/* next past the ring */
		d->flags |= VRING_DESC_F_NEXT;
		d->next = v->num + below(r, 1000);
		v->stuck = true;
		break;
	case 11:			/* indirect tables: odd length, */
	case 12:			/* outside the table, nested, empty */
	case 13:
	case 14:
		tab = (struct vring_desc *)p;
		for (i = 0; i < 4; i++)
			desc_set(&tab[i], junk_addr(r, s, q), 8,
				 dir | VRING_DESC_F_NEXT, i + 1);
		tab[3].flags &= ~VRING_DESC_F_NEXT;
		desc_set(d, gpa(tab), 4 * sizeof(*tab), VRING_DESC_F_INDIRECT, 0);
		if (kind == 11)
			d->len = 1 + below(r, 63) * 16 + below(r, 15);
		else if (kind == 12)
			d->addr = junk_addr(r, s, q);
		else if (kind == 13)
			tab[below(r, 4)].flags |= VRING_DESC_F_INDIRECT;
		else
			d->len = chance(r, 50) ? 0 : 0x100000 * 16;
		v->stuck = true;
		break;
	}
	if (chance(r, 20)) {		/* random fields, linked only here */
		d->addr = junk_addr(r, s, q);
		d->len = (uint32_t)rnd(r);
		d->flags = (uint16_t)rnd(r);
		d->next = chance(r, 50) ? idx[1] : v->num + below(r, 100);
		v->stuck = true;
	}
	vq_record(v, idx, 2);
	vq_publish(v, idx[0]);
	if (q == VIRTIO_PVRECOVER_VQ_ACK)
		s->ack_posted++;
	else
		s->notice_posted++;
}

/* -- stats and event records ------------------------------------------------ */

/* Counters only grow; what is outstanding is bounded; the device cannot
 * have taken more buffers than were posted, nor fewer than it gave back.
 */
static void check_stats(struct slot *s, const struct vhost_recover_stats *st)
{
	const uint64_t *now = (const uint64_t *)st;
	const uint64_t *was = (const uint64_t *)&s->last;
	uint64_t ackq = st->acks + st->acks_invalid + st->acks_unmatched;
	unsigned int i;

	if (st->queued > 256 || st->outstanding > 256)
		anomaly("stats: %u queued, %u outstanding", st->queued,
			st->outstanding);
	for (i = 0; s->have_last && i < offsetof(struct vhost_recover_stats,
						  outstanding) / 8; i++)
		if (now[i] < was[i])
			anomaly("stats: counter %u went from %llu to %llu", i,
				(unsigned long long)was[i],
				(unsigned long long)now[i]);
	if (s->counts_exact &&
	    (ackq > s->ack_posted || ackq < s->ack_reaped ||
	     st->acks > s->acks_wf ||
	     st->notices_sent + st->buffers_invalid > s->notice_posted)) {
		s->counts_exact = false;	/* once per file */
		anomaly("stats: ackq %llu buffers counted, %llu posted, %llu returned; acks %llu of %llu well-formed; noticeq %llu+%llu of %llu posted",
			(unsigned long long)ackq,
			(unsigned long long)s->ack_posted,
			(unsigned long long)s->ack_reaped,
			(unsigned long long)st->acks,
			(unsigned long long)s->acks_wf,
			(unsigned long long)st->notices_sent,
			(unsigned long long)st->buffers_invalid,
			(unsigned long long)s->notice_posted);
	}
	s->last = *st;
	s->have_last = true;
}

static int get_stats(struct slot *s)
{
	struct vhost_recover_stats st;
	int e;

	/* What the device gave back first: then the counts cover it. */
	slot_reap(s);
	e = xioctl("VHOST_RECOVER_GET_STATS", s->fd, VHOST_RECOVER_GET_STATS,
		   &st);
	expect_errno("VHOST_RECOVER_GET_STATS", e, 0);
	if (!e)
		check_stats(s, &st);
	return e;
}

static void check_answer_record(struct slot *s,
				const struct vhost_recover_event *ev)
{
	const struct ack_sent *k = &s->acks[ev->seq % ACKS_KEPT];

	if (!bit_test(s->acked, ev->seq) && ev->seq < SEQ_BITS) {
		anomaly("record: an answer to seq %u, which was never answered",
			ev->seq);
		return;
	}
	if (k->seq == ev->seq && !k->collided &&
	    (!(k->statuses & (1U << (ev->status & 15))) ||
	     !(k->methods & (1U << (ev->method & 7)))))
		anomaly("record: seq %u answered status %u method %u, never sent (sent statuses 0x%x methods 0x%x)",
			ev->seq, ev->status, ev->method, k->statuses,
			k->methods);
}

/* One record, as vhost_recover.h describes them. */
static void check_record(struct slot *s, const struct vhost_recover_event *ev)
{
	uint16_t f = ev->flags;

	if (ev->cookie >= 16 || !(s->ever & (1U << ev->cookie)))
		anomaly("record about cookie %u, never attached", ev->cookie);
	if (ev->notice < VIRTIO_PVRECOVER_N_ERROR_DETECTED ||
	    ev->notice > VIRTIO_PVRECOVER_N_PREPARE_RESET)
		anomaly("record: notice type %u", ev->notice);
	if (f == VHOST_RECOVER_EV_RESET ||
	    f == (VHOST_RECOVER_EV_RESET | VHOST_RECOVER_EV_DEADLINE)) {
		if (ev->notice != VIRTIO_PVRECOVER_N_PREPARE_RESET ||
		    ev->status > ev->method || !ev->method ||
		    ev->method > (unsigned int)fz.nfns)
			anomaly("reset record: notice %u, %u of %u answered",
				ev->notice, ev->status, ev->method);
		s->due_cookie = ev->cookie;
		fz.rec_kind[f == VHOST_RECOVER_EV_RESET ? 4 : 5]++;
	} else if (f == VHOST_RECOVER_EV_TIMEOUT ||
		   f == VHOST_RECOVER_EV_DROPPED) {
		if (ev->status || ev->method || ev->guest_us)
			anomaly("record flags 0x%x with status %u method %u",
				f, ev->status, ev->method);
		fz.rec_kind[f == VHOST_RECOVER_EV_TIMEOUT ? 2 : 3]++;
	} else if (f == 0 || f == VHOST_RECOVER_EV_LATE) {
		check_answer_record(s, ev);
		fz.rec_kind[f ? 1 : 0]++;
	} else {
		anomaly("record with flags 0x%x", f);
	}
	fz.records++;
}

static void take_events(struct rng *r, struct slot *s)
{
	static struct vhost_recover_event ev[VHOST_RECOVER_EVENTS_MAX + 8];
	struct vhost_recover_events evs;
	uint32_t want = chance(r, 80) ? VHOST_RECOVER_EVENTS_MAX :
			below(r, 300);
	unsigned int i;
	int e;

	drain_eventfd(s->event_efd);
	evs = (struct vhost_recover_events){ .count = want,
		.events = (uintptr_t)ev };
	if (want > VHOST_RECOVER_EVENTS_MAX + 8)
		evs.count = VHOST_RECOVER_EVENTS_MAX + 8;
	e = xioctl("VHOST_RECOVER_GET_EVENTS", s->fd,
		   VHOST_RECOVER_GET_EVENTS, &evs);
	expect_one_of("VHOST_RECOVER_GET_EVENTS", e, ERRS(0, ENOMEM));
	if (e)
		return;
	if (evs.count > want || evs.count > VHOST_RECOVER_EVENTS_MAX)
		anomaly("GET_EVENTS gave %u records for room for %u", evs.count,
			want);
	for (i = 0; i < evs.count && i < VHOST_RECOVER_EVENTS_MAX; i++)
		check_record(s, &ev[i]);
}

/* -- operations ----------------------------------------------------------- */

static void op_open(struct rng *r)
{
	slot_open(pick_slot(r));
}

static void op_close(struct rng *r)
{
	slot_close(pick_slot(r));
}

static void op_set_owner(struct rng *r)
{
	struct slot *s = pick_open_slot(r);

	if (s)
		set_owner(s);
}

/* Not a request of this device: vhost's core answers it. */
static void op_reset_owner(struct rng *r)
{
	struct slot *s = pick_open_slot(r);
	int e;

	if (!s)
		return;
	e = xioctl("VHOST_RESET_OWNER", s->fd, VHOST_RESET_OWNER, NULL);
	if (!s->owner)
		expect_errno("VHOST_RESET_OWNER", e, EPERM);
	else
		expect_one_of("VHOST_RESET_OWNER", e, ERRS(EFAULT, ENOTTY));
}

static uint64_t features_valid(struct rng *r)
{
	uint64_t f = 1ULL << VIRTIO_F_VERSION_1;

	if (chance(r, 70))
		f |= 1ULL << VIRTIO_PVRECOVER_F_PLANNED_RESET;
	if (chance(r, 30))
		f |= 1ULL << VIRTIO_RING_F_INDIRECT_DESC;
	if (chance(r, 30))
		f |= 1ULL << VIRTIO_RING_F_EVENT_IDX;
	if (chance(r, 20))
		f |= 1ULL << VIRTIO_F_NOTIFY_ON_EMPTY;
	if (chance(r, 10))
		f &= ~(1ULL << VIRTIO_F_VERSION_1);
	return f & fz.offered;
}

static void op_features(struct rng *r)
{
	struct slot *s = pick_open_slot(r);
	uint64_t f = 0;
	int e;

	if (!s)
		return;
	switch (below(r, 6)) {
	case 0:
		e = xioctl("VHOST_GET_FEATURES", s->fd, VHOST_GET_FEATURES, &f);
		expect_errno("VHOST_GET_FEATURES", e, 0);
		if (!e && (f != fz.offered || (f & (1ULL << VHOST_F_LOG_ALL))))
			anomaly("features 0x%llx, were 0x%llx",
				(unsigned long long)f,
				(unsigned long long)fz.offered);
		return;
	case 1:
		set_features(s, 1ULL << VHOST_F_LOG_ALL | features_valid(r));
		return;
	case 2:
		set_features(s, rnd(r) & rnd(r));
		return;
	case 3:
		set_features(s, features_valid(r) |
			     (1ULL << VIRTIO_F_ACCESS_PLATFORM & fz.offered));
		return;
	case 4:
		if (chance(r, 50))
			e = xioctl("VHOST_SET_FEATURES", s->fd,
				   VHOST_SET_FEATURES, bad_ptr(r, 8));
		else
			e = xioctl("VHOST_GET_FEATURES", s->fd,
				   VHOST_GET_FEATURES, bad_ptr(r, 8));
		expect_errno("VHOST_SET/GET_FEATURES", e, EFAULT);
		return;
	}
	set_features(s, features_valid(r));
}

static void op_backend_features(struct rng *r)
{
	struct slot *s = pick_open_slot(r);
	uint64_t f = 0;
	int e;

	if (!s)
		return;
	if (chance(r, 40)) {
		e = xioctl("VHOST_GET_BACKEND_FEATURES", s->fd,
			   VHOST_GET_BACKEND_FEATURES, &f);
		expect_errno("VHOST_GET_BACKEND_FEATURES", e, 0);
		if (!e && f != 1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2)
			anomaly("backend features 0x%llx",
				(unsigned long long)f);
		return;
	}
	f = chance(r, 70) ? below(r, 2) << VHOST_BACKEND_F_IOTLB_MSG_V2 :
	    rnd(r) >> below(r, 64);
	e = xioctl("VHOST_SET_BACKEND_FEATURES", s->fd,
		   VHOST_SET_BACKEND_FEATURES, chance(r, 5) ? bad_ptr(r, 8) : &f);
	expect_one_of("VHOST_SET_BACKEND_FEATURES", e,
		      f & ~(1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2) ?
		      ERRS(EOPNOTSUPP, EFAULT) : ERRS(0, EFAULT));
}

static void op_mem_table(struct rng *r)
{
	struct slot *s = pick_open_slot(r);

	if (!s)
		return;
	if (chance(r, 50))
		mem_valid(s);
	else
		mem_random(r, s);
}

/*
 * The dirty log is never offered; its base and fd are vhost's core.  A
 * base is only ever an address that faults: with VHOST_VRING_F_LOG the
 * core would set bits there.
 */
static void op_log(struct rng *r)
{
	struct slot *s = pick_open_slot(r);
	uint64_t base;
	int fd, e;

	if (!s)
		return;
	if (chance(r, 50)) {
		base = chance(r, 50) ? 0 : gpa(s->mem + HOLE_OFF);
		e = xioctl("VHOST_SET_LOG_BASE", s->fd, VHOST_SET_LOG_BASE,
			   &base);
		if (!s->owner)
			expect_errno("VHOST_SET_LOG_BASE", e, EPERM);
		return;
	}
	fd = chance(r, 50) ? s->event_efd : chance(r, 50) ? -1 : BAD_FD;
	e = xioctl("VHOST_SET_LOG_FD", s->fd, VHOST_SET_LOG_FD, &fd);
	if (!s->owner)
		expect_errno("VHOST_SET_LOG_FD", e, EPERM);
}

static unsigned int vq_index(struct rng *r)
{
	switch (below(r, 10)) {
	case 0:
		return 2 + below(r, 3);
	case 1:
		return (uint32_t)rnd(r) | 0x10000;
	}
	return below(r, 2);
}

/*
 * An fd for a vring: ours, none, bad ones, and eventfds that belong to
 * something else: another file's records, or a function's error eventfd,
 * which makes every used buffer an error signal (legal: the module cannot
 * tell).
 */
static int vq_fd(struct rng *r, struct slot *s, int ours)
{
	switch (below(r, 9)) {
	case 0:
		return -1;
	case 1:
		return BAD_FD;
	case 2:
		return fz.pipe_fd;
	case 3:
		return s->fd;
	case 4:
		return fz.slot[below(r, NSLOTS)].event_efd;
	case 5:
		return fz.v.efd[below(r, fz.nfns)];
	}
	return ours;
}

/* One vring request, valid or not.  A successful change of size, address
 * or base leaves the rings where this program no longer knows them: a
 * larger ring, or a shifted one, has the device write used entries over
 * the other queue and the buffers too.  No checks on either until they
 * are laid out again, and none on the counts for this file.
 */
static void op_vring(struct rng *r)
{
	struct slot *s = pick_open_slot(r);
	unsigned int idx = vq_index(r), num;
	struct vq *v;
	uint64_t base;
	int e;

	if (!s)
		return;
	v = &s->vq[idx & 1];
	base = gpa(s->mem + RING_OFF(idx & 1));
	switch (below(r, 11)) {
	case 0:
		num = chance(r, 60) ? ring_num(r) :
		      chance(r, 50) ? 0 : (uint32_t)rnd(r) >> below(r, 32);
		e = vring_state(s, "VHOST_SET_VRING_NUM", VHOST_SET_VRING_NUM,
				idx, num);
		break;
	case 1:
		e = vring_addr(s, idx, base + 16 * below(r, 3),
			       base + AVAIL_OFF + 2 * below(r, 3),
			       base + USED_OFF + 2 * below(r, 5),
			       chance(r, 90) ? 0 : 1U << below(r, 4), 0);
		break;
	case 2:
		e = vring_addr(s, idx, chance(r, 50) ? gpa(KERNEL_PTR) :
			       gpa(s->mem + HOLE_OFF), base + AVAIL_OFF,
			       gpa(s->mem + RO_OFF), 0, 0);
		break;
	case 3:
		e = vring_state(s, "VHOST_SET_VRING_BASE", VHOST_SET_VRING_BASE,
				idx, chance(r, 80) ? ring_base(r) :
				0x10000 + below(r, 100));
		break;
	case 4:
		e = vring_state(s, "VHOST_GET_VRING_BASE", VHOST_GET_VRING_BASE,
				idx, 0);
		return;
	case 5:
		vring_file(s, "VHOST_SET_VRING_KICK", VHOST_SET_VRING_KICK, idx,
			   vq_fd(r, s, v->kick));
		return;
	case 6:
		vring_file(s, "VHOST_SET_VRING_CALL", VHOST_SET_VRING_CALL, idx,
			   vq_fd(r, s, v->call));
		return;
	case 7:
		vring_file(s, "VHOST_SET_VRING_ERR", VHOST_SET_VRING_ERR, idx,
			   vq_fd(r, s, v->err));
		return;
	case 8:				/* little-endian or invalid only */
		vring_state(s, "VHOST_SET_VRING_ENDIAN", VHOST_SET_VRING_ENDIAN,
			    idx, chance(r, 50) ? VHOST_VRING_LITTLE_ENDIAN :
			    2 + below(r, 100));
		return;
	case 9:
		vring_state(s, "VHOST_GET_VRING_ENDIAN", VHOST_GET_VRING_ENDIAN,
			    idx, 0);
		return;
	default:
		if (chance(r, 50))
			vring_state(s, "VHOST_SET_VRING_BUSYLOOP_TIMEOUT",
				    VHOST_SET_VRING_BUSYLOOP_TIMEOUT, idx,
				    below(r, 1000));
		else
			vring_state(s, "VHOST_GET_VRING_BUSYLOOP_TIMEOUT",
				    VHOST_GET_VRING_BUSYLOOP_TIMEOUT, idx, 0);
		return;
	}
	if (!e && idx < 2) {
		s->vq[0].dirty = s->vq[1].dirty = true;
		s->counts_exact = false;
	}
}

static void op_running(struct rng *r)
{
	struct slot *s = pick_open_slot(r);
	int e;

	if (!s)
		return;
	if (chance(r, 5)) {
		e = xioctl("VHOST_RECOVER_SET_RUNNING", s->fd,
			   VHOST_RECOVER_SET_RUNNING, bad_ptr(r, 4));
		expect_errno("VHOST_RECOVER_SET_RUNNING", e, EFAULT);
		return;
	}
	set_running(s, chance(r, 60) ? 1 : chance(r, 70) ? 0 : (int)rnd(r));
}

static void op_reset_rings(struct rng *r)
{
	struct slot *s = pick_open_slot(r);

	if (s)
		rings_reset(r, s, chance(r, 90));
}

static void op_ack_timeout(struct rng *r)
{
	struct slot *s = pick_open_slot(r);
	uint32_t ms;
	int e;

	if (!s)
		return;
	switch (below(r, 8)) {
	case 0:
		ms = 0;
		break;
	case 1:
		ms = VHOST_RECOVER_DEADLINE_MAX_MS * 10 + 1 + below(r, 1000000);
		break;
	case 2:
		ms = 600000;
		break;
	case 3:
		ms = 1 + below(r, 20);
		break;
	default:
		ms = 20 + below(r, 3000);
		break;
	}
	if (chance(r, 5)) {
		e = xioctl("VHOST_RECOVER_SET_ACK_TIMEOUT", s->fd,
			   VHOST_RECOVER_SET_ACK_TIMEOUT, bad_ptr(r, 4));
		expect_errno("VHOST_RECOVER_SET_ACK_TIMEOUT", e, EFAULT);
		return;
	}
	e = xioctl("VHOST_RECOVER_SET_ACK_TIMEOUT", s->fd,
		   VHOST_RECOVER_SET_ACK_TIMEOUT, &ms);
	expect_errno("VHOST_RECOVER_SET_ACK_TIMEOUT", e,
		     !ms || ms > 600000 ? EINVAL : 0);
}

static struct vhost_recover_pci_addr guest_addr(struct rng *r)
{
	struct vhost_recover_pci_addr g;
	unsigned int i;

	memset(&g, 0, sizeof(g));
	g.segment = chance(r, 80) ? 0 : (uint16_t)rnd(r);
	g.root_bus = chance(r, 80) ? 0 : (uint8_t)rnd(r);
	g.depth = 1 + below(r, VIRTIO_PVRECOVER_PATH_MAX);
	for (i = 0; i < g.depth; i++)
		g.path[i] = chance(r, 50) ? 8 * i : (uint8_t)rnd(r);
	return g;
}

static void remember_attached(struct slot *s, int fn,
			      const struct vhost_recover_attach *a)
{
	s->attached[fn] = a->cookie;
	s->ever |= 1U << a->cookie;
	if (s->naddrs < ADDRS_MAX)
		s->addrs[s->naddrs++] = a->guest;
	else
		s->addrs_full = true;
}

/* The expected outcome of an ATTACH that passed the field checks. */
static const int *attach_outcomes(const struct slot *s, int fn, uint32_t cookie)
{
	if (fz.v.group < 0)
		return attach_badf;
	if (fn_of_cookie(s, cookie) >= 0 || s->attached[fn])
		return attach_exists;
	return attach_fresh;
}

/*
 * ATTACH, valid or garbage.  Every kind of garbage gets one errno the
 * header promises; a valid one may still meet EBUSY (the host holds the
 * function's device lock for a moment, say when vfio resets it).
 */
static void op_attach(struct rng *r)
{
	struct slot *s = pick_open_slot(r);
	struct vhost_recover_attach a;
	int fn = below(r, fz.nfns), want = -1, e;
	unsigned int kind = below(r, 100);
	const int *ok = NULL;
	void *arg = &a;

	if (!s)
		return;
	if (fz.v.group < 0 && chance(r, 30))
		vfio_open_all();
	memset(&a, 0, sizeof(a));
	a.group_fd = fz.v.group;
	a.error_fd = chance(r, 70) ? fz.v.efd[fn] : fz.v.own_efd[fn];
	a.cookie = 1 + below(r, NCOOKIES - 1);
	a.host_segment = fz.seg[fn];
	a.host_bus = fz.bus[fn];
	a.host_devfn = fz.devfn[fn];
	a.guest = guest_addr(r);
	if (kind < 50) {
		ok = attach_outcomes(s, fn, a.cookie);
	} else if (kind < 60) {
		want = EINVAL;
		switch (below(r, 5)) {
		case 0:
			a.cookie = 0;
			break;
		case 1:
			a.flags = 1U << below(r, 32);
			break;
		case 2:
			a.reserved[below(r, 4)] = 1U << below(r, 32);
			break;
		case 3:
			a.guest.depth = chance(r, 50) ? 0 : 9 + below(r, 247);
			break;
		default:
			a.guest.depth = 1 + below(r, 7);
			a.guest.path[a.guest.depth + below(r, 8 - a.guest.depth)] =
				1 + below(r, 255);
			break;
		}
	} else if (kind < 72) {
		want = EBADF;
		switch (below(r, 6)) {
		case 0:
			a.group_fd = chance(r, 50) ? -1 : BAD_FD;
			break;
		case 1:
			a.group_fd = chance(r, 50) ? fz.v.efd[fn] : s->fd;
			break;
		case 2:
			a.group_fd = fz.v.container >= 0 ? fz.v.container :
				     fz.pipe_fd;
			break;
		case 3:
			a.error_fd = chance(r, 50) ? -1 : BAD_FD;
			break;
		default:
			a.error_fd = chance(r, 50) ? s->fd : fz.pipe_fd;
			break;
		}
	} else if (kind < 84) {
		/* Someone else's function, or none. */
		a.host_segment = chance(r, 80) ? 0 : (uint16_t)rnd(r);
		a.host_bus = chance(r, 50) ? 0 : (uint8_t)rnd(r);
		a.host_devfn = (uint8_t)rnd(r);
		if (a.host_segment == fz.seg[fn] && a.host_bus == fz.bus[fn])
			a.host_bus ^= 0x80;
		ok = fz.v.group < 0 ? attach_badf : attach_foreign;
	} else if (kind < 90) {
		arg = bad_ptr(r, sizeof(a));
		want = EFAULT;
	} else {
		/* A cookie already attached, for either function. */
		a.cookie = pick_cookie(r, s, 90);
		if (!a.cookie)
			a.cookie = 1;
		ok = attach_outcomes(s, fn, a.cookie);
	}
	/* The checks come in this order: owner, fields, descriptors (a
	 * closed group is a bad one too), function, ownership, cookie.
	 */
	e = xioctl("VHOST_RECOVER_ATTACH", s->fd, VHOST_RECOVER_ATTACH, arg);
	if (!s->owner)
		expect_errno("VHOST_RECOVER_ATTACH", e, EPERM);
	else if (want >= 0)
		expect_errno("VHOST_RECOVER_ATTACH", e, want);
	else
		expect_one_of("VHOST_RECOVER_ATTACH", e, ok);
	if (!e && arg == &a)
		remember_attached(s, fn, &a);
}

static void op_detach(struct rng *r)
{
	struct slot *s = pick_open_slot(r);
	uint32_t cookie;
	int fn, e;

	if (!s)
		return;
	cookie = pick_cookie(r, s, 70);
	fn = fn_of_cookie(s, cookie);
	if (chance(r, 5)) {
		e = xioctl("VHOST_RECOVER_DETACH", s->fd, VHOST_RECOVER_DETACH,
			   bad_ptr(r, 4));
		expect_errno("VHOST_RECOVER_DETACH", e,
			     s->owner ? EFAULT : EPERM);
		return;
	}
	e = xioctl("VHOST_RECOVER_DETACH", s->fd, VHOST_RECOVER_DETACH,
		   &cookie);
	expect_errno("VHOST_RECOVER_DETACH", e,
		     !s->owner ? EPERM : fn < 0 ? ENOENT : 0);
	if (!e && fn >= 0)
		s->attached[fn] = 0;
}

static void op_stats(struct rng *r)
{
	struct slot *s = pick_open_slot(r);
	int e;

	if (!s)
		return;
	if (chance(r, 90)) {
		get_stats(s);
		return;
	}
	e = xioctl("VHOST_RECOVER_GET_STATS", s->fd, VHOST_RECOVER_GET_STATS,
		   bad_ptr(r, sizeof(struct vhost_recover_stats)));
	expect_errno("VHOST_RECOVER_GET_STATS", e, EFAULT);
}

static void op_event_fd(struct rng *r)
{
	struct slot *s = pick_open_slot(r);
	int fd, want, e;

	if (!s)
		return;
	switch (below(r, 8)) {
	case 0:
		fd = -1;
		want = 0;
		break;
	case 1:
		fd = BAD_FD;
		want = EBADF;
		break;
	case 2:
		fd = chance(r, 50) ? fz.pipe_fd : s->fd;
		want = EINVAL;
		break;
	case 3:			/* records become error signals */
		fd = fz.v.efd[below(r, fz.nfns)];
		want = 0;
		break;
	default:
		fd = s->event_efd;
		want = 0;
		break;
	}
	if (chance(r, 5)) {
		e = xioctl("VHOST_RECOVER_SET_EVENT_FD", s->fd,
			   VHOST_RECOVER_SET_EVENT_FD, bad_ptr(r, 4));
		want = EFAULT;
	} else {
		e = xioctl("VHOST_RECOVER_SET_EVENT_FD", s->fd,
			   VHOST_RECOVER_SET_EVENT_FD, &fd);
	}
	expect_errno("VHOST_RECOVER_SET_EVENT_FD", e, s->owner ? want : EPERM);
}

/*
 * GET_EVENTS, and its garbage.  Records are taken by the call even when
 * the copy out fails, so the garbage kinds go only where there are none
 * or losing them is fine.
 */
static void op_events(struct rng *r)
{
	struct vhost_recover_events evs;
	struct slot *s = pick_open_slot(r);
	int e;

	if (!s)
		return;
	if (chance(r, 85)) {
		take_events(r, s);
		return;
	}
	if (chance(r, 50)) {
		e = xioctl("VHOST_RECOVER_GET_EVENTS", s->fd,
			   VHOST_RECOVER_GET_EVENTS,
			   bad_ptr(r, sizeof(evs)));
		expect_errno("VHOST_RECOVER_GET_EVENTS", e, EFAULT);
		return;
	}
	evs = (struct vhost_recover_events){ .count = chance(r, 50) ? 0 : 1 +
		below(r, 1000), .lost = (uint32_t)rnd(r),
		.events = gpa(bad_ptr(r, 16)) };
	e = xioctl("VHOST_RECOVER_GET_EVENTS", s->fd,
		   VHOST_RECOVER_GET_EVENTS, &evs);
	expect_one_of("VHOST_RECOVER_GET_EVENTS", e, ERRS(0, EFAULT, ENOMEM));
	if (!e && evs.count)
		anomaly("GET_EVENTS copied %u records to a bad address",
			evs.count);
}

static uint32_t deadline_ms(struct rng *r)
{
	switch (below(r, 10)) {
	case 0:
		return 0;
	case 1:
		return 60000;
	case 2:
		return 2000;
	case 3:
	case 4:
	case 5:
		return 1 + below(r, 50);
	}
	return 50 + below(r, 500);
}

static void op_plan(struct rng *r)
{
	struct slot *s = pick_open_slot(r);
	struct vhost_recover_reset p;
	bool bad = false;
	int fn, e;

	if (!s)
		return;
	memset(&p, 0, sizeof(p));
	p.cookie = pick_cookie(r, s, 85);
	p.deadline_ms = deadline_ms(r);
	p.flags = chance(r, 50) ? VHOST_RECOVER_RESET_BUS : 0;
	p.count = (uint32_t)rnd(r);
	switch (below(r, 20)) {
	case 0:
		p.flags |= 2U << below(r, 31);
		bad = true;
		break;
	case 1:
		p.deadline_ms = VHOST_RECOVER_DEADLINE_MAX_MS + 1 +
				below(r, 0x7fffffff);
		bad = true;
		break;
	case 2:
		p.reserved[below(r, 4)] = 1U << below(r, 32);
		bad = true;
		break;
	case 3:
		e = xioctl("VHOST_RECOVER_PLAN_RESET", s->fd,
			   VHOST_RECOVER_PLAN_RESET, bad_ptr(r, sizeof(p)));
		expect_errno("VHOST_RECOVER_PLAN_RESET", e,
			     s->owner ? EFAULT : EPERM);
		return;
	}
	fn = fn_of_cookie(s, p.cookie);
	e = xioctl("VHOST_RECOVER_PLAN_RESET", s->fd, VHOST_RECOVER_PLAN_RESET,
		   &p);
	if (!s->owner)
		expect_errno("VHOST_RECOVER_PLAN_RESET", e, EPERM);
	else if (bad)
		expect_errno("VHOST_RECOVER_PLAN_RESET", e, EINVAL);
	else if (fn < 0)
		expect_errno("VHOST_RECOVER_PLAN_RESET", e, ENOENT);
	else
		expect_one_of("VHOST_RECOVER_PLAN_RESET", e,
			      ERRS(0, EBUSY, ENOMEM));
	if (!e && p.count != ((p.flags & VHOST_RECOVER_RESET_BUS) ?
			      nattached(s) : 1))
		anomaly("planned reset reaches %u function(s) of %u attached (flags 0x%x)",
			p.count, nattached(s), p.flags);
}

static void op_reset_done(struct rng *r)
{
	struct slot *s = pick_open_slot(r);
	struct vhost_recover_reset_done d;
	bool bad = false;
	int fn, e;

	if (!s)
		return;
	memset(&d, 0, sizeof(d));
	d.cookie = s->due_cookie && chance(r, 60) ? s->due_cookie :
		   pick_cookie(r, s, 80);
	switch (below(r, 12)) {
	case 0:
		d.error = -EIO;
		break;
	case 1:
		d.error = chance(r, 50) ? INT_MIN : -(int)below(r, 4096);
		break;
	case 2:
		d.error = 1 + below(r, INT_MAX);
		bad = true;
		break;
	case 3:
		d.reserved[below(r, 2)] = 1U << below(r, 32);
		bad = true;
		break;
	case 4:
		e = xioctl("VHOST_RECOVER_RESET_DONE", s->fd,
			   VHOST_RECOVER_RESET_DONE, bad_ptr(r, sizeof(d)));
		expect_errno("VHOST_RECOVER_RESET_DONE", e,
			     s->owner ? EFAULT : EPERM);
		return;
	}
	fn = fn_of_cookie(s, d.cookie);
	e = xioctl("VHOST_RECOVER_RESET_DONE", s->fd, VHOST_RECOVER_RESET_DONE,
		   &d);
	if (!s->owner)
		expect_errno("VHOST_RECOVER_RESET_DONE", e, EPERM);
	else if (bad)
		expect_errno("VHOST_RECOVER_RESET_DONE", e, EINVAL);
	else if (fn < 0)
		expect_errno("VHOST_RECOVER_RESET_DONE", e, ENOENT);
	else
		expect_one_of("VHOST_RECOVER_RESET_DONE", e, ERRS(0, EINVAL));
	if (!e && d.cookie == s->due_cookie)
		s->due_cookie = 0;
}

static void op_guest_reset(struct rng *r)
{
	struct slot *s = pick_open_slot(r);
	int e;

	if (!s)
		return;
	e = xioctl("VHOST_RECOVER_GUEST_RESET", s->fd,
		   VHOST_RECOVER_GUEST_RESET, NULL);
	expect_errno("VHOST_RECOVER_GUEST_RESET", e, s->owner ? 0 : EPERM);
}

/* Numbers vhost-recover and vhost's core act on: left to the other ops,
 * whose bookkeeping a random hit would upset.
 */
static bool known_nr(unsigned int nr)
{
	return nr <= 0x04 || nr == 0x07 || (nr >= 0x10 && nr <= 0x14) ||
	       (nr >= 0x20 && nr <= 0x26) || nr == 0x84 || nr == 0x85 ||
	       (nr >= 0xa0 && nr <= 0xa9);
}

static void op_unknown(struct rng *r)
{
	/* Types the VFS itself answers for some numbers ('T', 'X', 'f',
	 * 0x94, 0) are left out: their answer is not the device's.
	 */
	static const uint8_t types[] = { 0x01, 0x3b, 0x41, 0x56, 0xae, 0xfe };
	static uint8_t buf[0x4000];
	struct slot *s = pick_open_slot(r);
	unsigned int type = chance(r, 70) ? VHOST_VIRTIO :
			    types[below(r, sizeof(types))];
	unsigned int nr = below(r, 256), size = below(r, 0x4000);
	unsigned long req;
	void *arg = buf;
	int e;

	if (!s)
		return;
	if (type == VHOST_VIRTIO && known_nr(nr))
		nr = 0xb0 + (nr & 0xf);
	req = _IOC(below(r, 4), type, nr, size);
	if (chance(r, 30))
		arg = bad_ptr(r, size);
	else
		memset(buf, chance(r, 50) ? 0 : (int)below(r, 256), sizeof(buf));
	e = xioctl("unknown_ioctl", s->fd, req, arg);
	if (type != VHOST_VIRTIO)
		expect_errno("unknown_ioctl (not vhost's type)", e, ENOTTY);
	else if (!s->owner)
		expect_errno("unknown_ioctl", e, EPERM);
	else
		expect_one_of("unknown_ioctl", e, ERRS(ENOTTY, EFAULT, ENOBUFS));
}

struct known_req {
	const char *name;
	unsigned long req;
	bool owner;		/* the owner check comes before the copy */
};

static void op_bad_pointer(struct rng *r)
{
	static const struct known_req reqs[] = {
		{ "VHOST_GET_FEATURES", VHOST_GET_FEATURES, false },
		{ "VHOST_SET_FEATURES", VHOST_SET_FEATURES, false },
		{ "VHOST_SET_MEM_TABLE", VHOST_SET_MEM_TABLE, true },
		{ "VHOST_SET_LOG_BASE", VHOST_SET_LOG_BASE, true },
		{ "VHOST_SET_LOG_FD", VHOST_SET_LOG_FD, true },
		{ "VHOST_SET_VRING_NUM", VHOST_SET_VRING_NUM, true },
		{ "VHOST_SET_VRING_ADDR", VHOST_SET_VRING_ADDR, true },
		{ "VHOST_SET_VRING_BASE", VHOST_SET_VRING_BASE, true },
		{ "VHOST_GET_VRING_BASE", VHOST_GET_VRING_BASE, true },
		{ "VHOST_SET_VRING_KICK", VHOST_SET_VRING_KICK, true },
		{ "VHOST_SET_VRING_CALL", VHOST_SET_VRING_CALL, true },
		{ "VHOST_SET_VRING_ERR", VHOST_SET_VRING_ERR, true },
		{ "VHOST_GET_BACKEND_FEATURES", VHOST_GET_BACKEND_FEATURES, false },
		{ "VHOST_SET_BACKEND_FEATURES", VHOST_SET_BACKEND_FEATURES, false },
		{ "VHOST_RECOVER_SET_RUNNING", VHOST_RECOVER_SET_RUNNING, false },
		{ "VHOST_RECOVER_SET_ACK_TIMEOUT", VHOST_RECOVER_SET_ACK_TIMEOUT, false },
		{ "VHOST_RECOVER_ATTACH", VHOST_RECOVER_ATTACH, true },
		{ "VHOST_RECOVER_DETACH", VHOST_RECOVER_DETACH, true },
		{ "VHOST_RECOVER_GET_STATS", VHOST_RECOVER_GET_STATS, false },
		{ "VHOST_RECOVER_SET_EVENT_FD", VHOST_RECOVER_SET_EVENT_FD, true },
		{ "VHOST_RECOVER_GET_EVENTS", VHOST_RECOVER_GET_EVENTS, false },
		{ "VHOST_RECOVER_PLAN_RESET", VHOST_RECOVER_PLAN_RESET, true },
		{ "VHOST_RECOVER_RESET_DONE", VHOST_RECOVER_RESET_DONE, true },
	};
	const struct known_req *k = &reqs[below(r, ARRAY_SIZE(reqs))];
	struct slot *s = pick_open_slot(r);
	int e;

	if (!s)
		return;
	e = xioctl(k->name, s->fd, k->req, bad_ptr(r, _IOC_SIZE(k->req)));
	if (k->owner && !s->owner)
		expect_errno(k->name, e, EPERM);
	else
		expect_one_of(k->name, e, ERRS(EFAULT, EBUSY));
}

/* Error signals, as vfio-pci's error_detected makes them, or as the
 * owner can fake them: the module takes the eventfd's count.
 */
static void op_signal(struct rng *r)
{
	int fn = below(r, fz.nfns);
	int efd = chance(r, 75) ? fz.v.efd[fn] : fz.v.own_efd[fn];
	unsigned int n = chance(r, 85) ? 1 : 2 + below(r, 64);
	uint64_t v;

	while (n--) {
		v = chance(r, 95) ? 1 : chance(r, 50) ? rnd(r) >> 8 :
		    0xfffffffffffffffeULL;
		note("eventfd_write", write(efd, &v, sizeof(v)));
	}
	/* The module reads the count; nobody else does, when unattached. */
	if (chance(r, 10))
		drain_eventfd(efd);
}

/* vfio's own ways to the error eventfd: a trigger, and (un)registering. */
static void op_vfio_irq(struct rng *r)
{
	char buf[sizeof(struct vfio_irq_set) + sizeof(int)];
	struct vfio_irq_set *irq = (struct vfio_irq_set *)buf;
	int fn = below(r, fz.nfns);
	uint8_t on = 1;

	if (fz.v.dev[fn] < 0)
		return;
	switch (below(r, 8)) {
	case 0:
		vfio_set_err(fn, chance(r, 80) ? fz.v.efd[fn] : -1);
		return;
	case 1:
		vfio_set_err(fn, fz.v.efd[fn]);
		return;
	}
	memset(buf, 0, sizeof(buf));
	irq->argsz = sizeof(buf);
	irq->index = VFIO_PCI_ERR_IRQ_INDEX;
	irq->count = 1;
	irq->flags = VFIO_IRQ_SET_ACTION_TRIGGER;
	if (chance(r, 30)) {
		irq->flags |= VFIO_IRQ_SET_DATA_BOOL;
		memcpy(irq->data, &on, sizeof(on));
	} else {
		irq->flags |= VFIO_IRQ_SET_DATA_NONE;
		irq->argsz = sizeof(*irq);
	}
	xioctl("VFIO_DEVICE_SET_IRQS", fz.v.dev[fn], VFIO_DEVICE_SET_IRQS, irq);
}

static void op_post_notice(struct rng *r)
{
	struct slot *s = pick_open_slot(r);

	if (!s)
		return;
	if (s->vq[0].stuck && chance(r, 50))
		rings_reset(r, s, true);
	if (!can_post(s, VIRTIO_PVRECOVER_VQ_NOTICE))
		return;
	slot_reap(s);
	post_notice_bufs(r, s, 1 + below(r, 8));
	pair_add("post_notice_buffers", 0);
	if (chance(r, 90))
		vq_kick(&s->vq[VIRTIO_PVRECOVER_VQ_NOTICE]);
}

/* Answers, right ones first, then wrong ones, on ackq. */
static void op_post_ack(struct rng *r)
{
	struct slot *s = pick_open_slot(r);
	struct virtio_pvrecover_ack a;
	unsigned int k = 1 + below(r, 4);

	if (!s)
		return;
	if (s->vq[1].stuck && chance(r, 50))
		rings_reset(r, s, true);
	if (!can_post(s, VIRTIO_PVRECOVER_VQ_ACK))
		return;
	slot_reap(s);
	while (k--) {
		if (!(chance(r, 60) && ack_answer(r, s, &a)))
			ack_wrong(r, s, &a);
		post_ack(r, s, &a);
	}
	pair_add("post_acks", 0);
	if (chance(r, 90))
		vq_kick(&s->vq[VIRTIO_PVRECOVER_VQ_ACK]);
}

static void op_post_bogus(struct rng *r)
{
	struct slot *s = pick_open_slot(r);
	int q = below(r, 2);

	if (!s || !can_post(s, q))
		return;
	slot_reap(s);
	post_bogus(r, s, q);
	vq_kick(&s->vq[q]);
}

/*
 * Notices that cannot be merged, one after the other, with nobody taking
 * them: error-detected, then a planned reset's end (state-lost or
 * perm-failure), and again, until the function's queue is full and the
 * module drops them (a VHOST_RECOVER_EV_DROPPED record with seq 0).
 */
static void op_burst(struct rng *r)
{
	struct slot *s = pick_open_slot(r);
	struct vhost_recover_reset_done d;
	struct vhost_recover_reset p;
	unsigned int k = 4 + below(r, 14);
	uint64_t one = 1;
	int fn, e;

	if (!s || !s->owner)
		return;
	fn = below(r, fz.nfns);
	if (!s->attached[fn])
		return;
	if (s->running && chance(r, 70))
		set_running(s, 0);
	while (k--) {
		note("eventfd_write", write(fz.v.efd[fn], &one, sizeof(one)));
		if (chance(r, 30))
			sleep_ms(1);
		p = (struct vhost_recover_reset){ .cookie = s->attached[fn],
			.deadline_ms = 1 + below(r, 5) };
		e = xioctl("VHOST_RECOVER_PLAN_RESET", s->fd,
			   VHOST_RECOVER_PLAN_RESET, &p);
		expect_one_of("VHOST_RECOVER_PLAN_RESET", e,
			      ERRS(0, EBUSY, ENOMEM));
		if (chance(r, 50))
			sleep_ms(1 + below(r, 8));
		d = (struct vhost_recover_reset_done){ .cookie = s->attached[fn],
			.error = chance(r, 70) ? 0 : -EIO };
		e = xioctl("VHOST_RECOVER_RESET_DONE", s->fd,
			   VHOST_RECOVER_RESET_DONE, &d);
		expect_one_of("VHOST_RECOVER_RESET_DONE", e, ERRS(0, EINVAL));
	}
}

static void op_kick(struct rng *r)
{
	struct slot *s = pick_open_slot(r);

	if (s && s->vq[0].kick >= 0)
		vq_kick(&s->vq[below(r, 2)]);
}

/*
 * Wait a little for the device (calls, records), then take what it gave
 * back, and answer some of the notices at once, correctly.
 */
static void op_reap(struct rng *r)
{
	struct pollfd p[NSLOTS * 2];
	struct virtio_pvrecover_ack a;
	unsigned int i, n = 0;
	struct slot *s;

	for (i = 0; i < NSLOTS; i++) {
		s = &fz.slot[i];
		if (s->fd < 0)
			continue;
		p[n++] = (struct pollfd){ .fd = s->vq[0].call, .events = POLLIN };
		p[n++] = (struct pollfd){ .fd = s->event_efd, .events = POLLIN };
	}
	note("poll", poll(p, n, below(r, 20)));
	for (i = 0; i < NSLOTS; i++) {
		s = &fz.slot[i];
		fz.cur_slot = i;
		drain_eventfd(s->vq[0].call);
		drain_eventfd(s->vq[1].call);
		slot_reap(s);
		while (can_post(s, VIRTIO_PVRECOVER_VQ_ACK) && s->ntodo &&
		       chance(r, 50) && ack_answer(r, s, &a))
			post_ack(r, s, &a);
		if (can_post(s, VIRTIO_PVRECOVER_VQ_ACK) && chance(r, 50))
			vq_kick(&s->vq[VIRTIO_PVRECOVER_VQ_ACK]);
		if (can_post(s, VIRTIO_PVRECOVER_VQ_NOTICE) &&
		    s->vq[0].inflight < 2)
			post_notice_bufs(r, s, 2);
	}
}

/* Let time pass for the module's timers: deadlines, ack timeouts. */
static void op_idle(struct rng *r)
{
	sleep_ms(1 + below(r, 40));
	op_reap(r);
}

static void op_iotlb(struct rng *r)
{
	struct slot *s = pick_open_slot(r);
	static const uint8_t types[] = {
		VHOST_IOTLB_UPDATE, VHOST_IOTLB_INVALIDATE, VHOST_IOTLB_MISS,
		VHOST_IOTLB_ACCESS_FAIL, VHOST_IOTLB_BATCH_BEGIN,
		VHOST_IOTLB_BATCH_END, 0, 0x7f,
	};
	uint64_t base, size, uaddr;
	uint8_t buf[256];

	if (!s)
		return;
	if (chance(r, 30)) {
		note("iotlb_read", read(s->fd, buf, chance(r, 80) ?
					sizeof(buf) : below(r, 80)));
		return;
	}
	/*
	 * Our memory onto itself, or onto what faults (the hole, the
	 * kernel): never past its end, nor onto other memory of ours, which
	 * the device would then write behind this program's back.
	 */
	base = gpa(s->mem) + (chance(r, 50) ? 0 : below(r, MEM_SIZE));
	size = MEM_SIZE - (base - gpa(s->mem));
	if (chance(r, 30))
		size = below(r, size + 1);
	switch (below(r, 6)) {
	case 0:
		uaddr = gpa(s->mem + HOLE_OFF);
		size = size > AREA_SIZE ? AREA_SIZE : size;
		break;
	case 1:
		uaddr = gpa(KERNEL_PTR);
		size = chance(r, 50) ? size : rnd(r);
		break;
	default:
		uaddr = base;
		break;
	}
	iotlb_write(s, chance(r, 50), types[below(r, sizeof(types))], base,
		    size, uaddr, below(r, 4), chance(r, 10) ? below(r, 80) : 0);
}

/*
 * Whether the worker is a thread of the owner or a kthread (6.12 with
 * CONFIG_VHOST_ENABLE_FORK_OWNER_CONTROL; an unknown request on 6.1):
 * only before VHOST_SET_OWNER.
 */
static void op_fork_owner(struct rng *r)
{
	struct slot *s = pick_open_slot(r);
	uint8_t v = chance(r, 80) ? below(r, 2) : 2 + below(r, 250);
	int e;

	if (!s)
		return;
	if (chance(r, 30))
		e = xioctl("VHOST_GET_FORK_FROM_OWNER", s->fd,
			   VHOST_GET_FORK_FROM_OWNER, chance(r, 90) ? &v :
			   bad_ptr(r, 1));
	else
		e = xioctl("VHOST_SET_FORK_FROM_OWNER", s->fd,
			   VHOST_SET_FORK_FROM_OWNER, chance(r, 90) ? &v :
			   bad_ptr(r, 1));
	expect_one_of("VHOST_SET/GET_FORK_FROM_OWNER", e,
		      ERRS(0, EINVAL, EBUSY, EFAULT, EPERM, ENOTTY, ENOBUFS));
}

static void op_poll(struct rng *r)
{
	struct slot *s = pick_open_slot(r);
	struct pollfd p;

	if (!s)
		return;
	p = (struct pollfd){ .fd = s->fd, .events = POLLIN | POLLOUT };
	note("poll_vhost", poll(&p, 1, below(r, 3)));
}

/* recovery_timeout_ms also bounds how long a due planned reset waits for
 * its owner: short ones end plans with PERM_FAILURE while fuzzing.
 */
static void op_param(struct rng *r)
{
	static const char *const vals[] = { "10", "50", "300", "2000", "30000" };
	const char *v = vals[below(r, 5)];
	int fd = open("/sys/module/vhost_recover/parameters/recovery_timeout_ms",
		      O_WRONLY | O_CLOEXEC);

	if (note("param_open", fd))
		return;
	note("param_write", write(fd, v, strlen(v)));
	close(fd);
}

/* -- setting a file up, as a VMM would --------------------------------------- */

static void attach_valid(struct rng *r, struct slot *s, int fn)
{
	struct vhost_recover_attach a;
	uint32_t cookie = 1 + below(r, NCOOKIES - 1);
	int e;

	if (s->attached[fn] || fn_of_cookie(s, cookie) >= 0)
		return;
	memset(&a, 0, sizeof(a));
	a.group_fd = fz.v.group;
	a.error_fd = fz.v.efd[fn];
	a.cookie = cookie;
	a.host_segment = fz.seg[fn];
	a.host_bus = fz.bus[fn];
	a.host_devfn = fz.devfn[fn];
	a.guest = guest_addr(r);
	e = xioctl("VHOST_RECOVER_ATTACH", s->fd, VHOST_RECOVER_ATTACH, &a);
	if (s->owner)
		expect_one_of("VHOST_RECOVER_ATTACH", e, attach_outcomes(s, fn,
									 cookie));
	if (!e)
		remember_attached(s, fn, &a);
}

/*
 * Everything a VMM does before the guest runs: owner, features, memory,
 * rings, event eventfd, ack timeout, start, functions, buffers.  A file
 * some other process owns is replaced.
 */
static void op_setup(struct rng *r)
{
	struct slot *s = pick_slot(r);
	uint32_t ms = chance(r, 30) ? 1 + below(r, 100) : 100 + below(r, 5000);
	int fn, e;

	if (s->fd < 0 || (!s->owner && chance(r, 50)))
		slot_open(s);
	if (s->fd < 0)
		return;
	if (!s->owner && set_owner(s) == EBUSY) {
		slot_open(s);
		if (s->fd >= 0)
			set_owner(s);
	}
	if (!s->owner)
		return;
	set_features(s, features_valid(r));
	if (s->iotlb)
		iotlb_identity(s);
	mem_valid(s);
	rings_reset(r, s, false);
	e = xioctl("VHOST_RECOVER_SET_EVENT_FD", s->fd,
		   VHOST_RECOVER_SET_EVENT_FD, &s->event_efd);
	expect_errno("VHOST_RECOVER_SET_EVENT_FD", e, 0);
	e = xioctl("VHOST_RECOVER_SET_ACK_TIMEOUT", s->fd,
		   VHOST_RECOVER_SET_ACK_TIMEOUT, &ms);
	expect_errno("VHOST_RECOVER_SET_ACK_TIMEOUT", e, 0);
	set_running(s, 1);
	if (fz.v.group < 0)
		vfio_open_all();
	for (fn = 0; fn < fz.nfns; fn++)
		if (fz.v.group >= 0 && chance(r, 70))
			attach_valid(r, s, fn);
	if (can_post(s, VIRTIO_PVRECOVER_VQ_NOTICE)) {
		post_notice_bufs(r, s, 4);
		vq_kick(&s->vq[VIRTIO_PVRECOVER_VQ_NOTICE]);
	}
}

/* -- children ---------------------------------------------------------------- */

struct child_rec {
	uint8_t req;
	uint8_t pad[3];
	int32_t err;
};

static const struct known_req child_reqs[] = {
	{ "child:VHOST_RECOVER_ATTACH", VHOST_RECOVER_ATTACH, true },
	{ "child:VHOST_RECOVER_DETACH", VHOST_RECOVER_DETACH, true },
	{ "child:VHOST_RECOVER_PLAN_RESET", VHOST_RECOVER_PLAN_RESET, true },
	{ "child:VHOST_RECOVER_RESET_DONE", VHOST_RECOVER_RESET_DONE, true },
	{ "child:VHOST_RECOVER_GUEST_RESET", VHOST_RECOVER_GUEST_RESET, true },
	{ "child:VHOST_RECOVER_SET_EVENT_FD", VHOST_RECOVER_SET_EVENT_FD, true },
	{ "child:VHOST_RECOVER_SET_RUNNING", VHOST_RECOVER_SET_RUNNING, true },
	{ "child:VHOST_SET_MEM_TABLE", VHOST_SET_MEM_TABLE, true },
	{ "child:VHOST_SET_VRING_NUM", VHOST_SET_VRING_NUM, true },
	{ "child:VHOST_RECOVER_GET_STATS", VHOST_RECOVER_GET_STATS, false },
	/* The owner's file, in a process that owns files of its own. */
	{ "child-owner:open", 0, false },
	{ "child-owner:VHOST_SET_OWNER", VHOST_SET_OWNER, false },
	{ "child-owner:VHOST_RECOVER_ATTACH", VHOST_RECOVER_ATTACH, false },
	{ "child-owner:VHOST_RECOVER_PLAN_RESET", VHOST_RECOVER_PLAN_RESET, false },
	{ "child-owner:eventfd_write", 0, false },
	{ "child-owner:VHOST_RECOVER_SET_RUNNING", VHOST_RECOVER_SET_RUNNING, false },
};

#define CHILD_OWNER_FIRST	10

static void child_report(int pfd, unsigned int req, int ret)
{
	struct child_rec c = { .req = req, .err = ret < 0 ? errno : 0 };

	if (write(pfd, &c, sizeof(c)) != sizeof(c))
		_exit(3);
}

/* A process that is not the owner tries the owner's requests. */
static void child_foreign(struct rng *r, int pfd)
{
	union {
		struct vhost_recover_attach a;
		struct vhost_recover_reset p;
		struct vhost_recover_stats st;
		struct vhost_memory m;
		uint8_t b[256];
	} u;
	unsigned int n = 1 + below(r, 4), k;
	struct slot *s;

	while (n--) {
		s = pick_open_slot(r);
		if (!s)
			continue;
		k = below(r, CHILD_OWNER_FIRST);
		memset(&u, 0, sizeof(u));
		u.a.group_fd = fz.v.group;
		u.a.error_fd = fz.v.efd[0];
		u.a.cookie = 1;
		u.a.host_segment = fz.seg[0];
		u.a.host_bus = fz.bus[0];
		u.a.host_devfn = fz.devfn[0];
		u.a.guest.depth = 1;
		child_report(pfd, k, ioctl(s->fd, child_reqs[k].req, &u));
	}
}

/*
 * A process that owns a file, attaches a function, queues notices and a
 * planned reset, and dies without closing anything: the file is released
 * as it exits (on 6.12, after its vhost worker was killed with it).
 */
static void child_owner(struct rng *r, int pfd)
{
	struct vhost_recover_reset p = { .cookie = 1,
		.deadline_ms = 1 + below(r, 3000) };
	struct vhost_recover_attach a;
	uint64_t one = 1;
	int fd, on = 1, i = CHILD_OWNER_FIRST;

	fd = open("/dev/vhost-recover", O_RDWR | O_CLOEXEC);
	child_report(pfd, i++, fd);
	if (fd < 0)
		return;
	child_report(pfd, i++, ioctl(fd, VHOST_SET_OWNER, NULL));
	memset(&a, 0, sizeof(a));
	a.group_fd = fz.v.group;
	a.error_fd = chance(r, 50) ? fz.v.efd[0] : fz.v.own_efd[0];
	a.cookie = 1;
	a.host_segment = fz.seg[0];
	a.host_bus = fz.bus[0];
	a.host_devfn = fz.devfn[0];
	a.guest.depth = 1;
	child_report(pfd, i++, ioctl(fd, VHOST_RECOVER_ATTACH, &a));
	child_report(pfd, i++, ioctl(fd, VHOST_RECOVER_PLAN_RESET, &p));
	child_report(pfd, i++, write(a.error_fd, &one, sizeof(one)));
	if (chance(r, 50))
		child_report(pfd, i, ioctl(fd, VHOST_RECOVER_SET_RUNNING, &on));
}

/* What the child got: pairs, and the owner check on the parent's files. */
static void child_collect(int pfd)
{
	struct child_rec c;
	const struct known_req *k;

	while (read(pfd, &c, sizeof(c)) == sizeof(c)) {
		if (c.req >= ARRAY_SIZE(child_reqs))
			continue;
		k = &child_reqs[c.req];
		pair_add(k->name, c.err);
		if (c.req < CHILD_OWNER_FIRST)
			expect_errno(k->name, c.err, k->owner ? EPERM : 0);
	}
}

/* Reap @pid within the bound, killing it half way; false if it stays. */
static bool child_reap(pid_t pid)
{
	long t0 = now_ms();
	bool killed = false;
	int st;

	for (;;) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return true;
		if (!killed && now_ms() - t0 > CHILD_WAIT_MS / 2) {
			kill(pid, SIGKILL);
			killed = true;
		}
		if (now_ms() - t0 > CHILD_WAIT_MS)
			return false;
		sleep_ms(2);
	}
}

static void op_child(struct rng *r)
{
	struct rng cr = { rnd(r) };
	bool owner = chance(r, 50);
	int pfd[2];
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC | O_NONBLOCK) < 0) {
		note("pipe", -1);
		return;
	}
	fflush(stdout);
	pid = fork();
	if (!pid) {
		if (owner)
			child_owner(&cr, pfd[1]);
		else
			child_foreign(&cr, pfd[1]);
		_exit(0);
	}
	if (!note("fork", pid) && !child_reap(pid))
		anomaly("child %d neither exited nor died in %d ms", pid,
			CHILD_WAIT_MS);
	child_collect(pfd[0]);
	close(pfd[0]);
	close(pfd[1]);
}

/* -- the run -------------------------------------------------------------- */

struct op {
	const char *name;
	unsigned int weight;
	void (*fn)(struct rng *r);
};

static const struct op ops[] = {
	{ "setup", 40, op_setup },
	{ "open", 6, op_open },
	{ "close", 6, op_close },
	{ "set_owner", 6, op_set_owner },
	{ "reset_owner", 3, op_reset_owner },
	{ "features", 12, op_features },
	{ "backend_features", 4, op_backend_features },
	{ "mem_table", 10, op_mem_table },
	{ "log", 3, op_log },
	{ "vring", 20, op_vring },
	{ "running", 12, op_running },
	{ "reset_rings", 25, op_reset_rings },
	{ "ack_timeout", 8, op_ack_timeout },
	{ "attach", 50, op_attach },
	{ "detach", 25, op_detach },
	{ "stats", 20, op_stats },
	{ "event_fd", 8, op_event_fd },
	{ "events", 30, op_events },
	{ "plan", 35, op_plan },
	{ "reset_done", 30, op_reset_done },
	{ "guest_reset", 6, op_guest_reset },
	{ "unknown", 15, op_unknown },
	{ "bad_pointer", 15, op_bad_pointer },
	{ "signal", 60, op_signal },
	{ "vfio_irq", 12, op_vfio_irq },
	{ "post_notice", 70, op_post_notice },
	{ "post_ack", 60, op_post_ack },
	{ "post_bogus", 25, op_post_bogus },
	{ "kick", 8, op_kick },
	{ "burst", 6, op_burst },
	{ "reap", 60, op_reap },
	{ "idle", 12, op_idle },
	{ "iotlb", 8, op_iotlb },
	{ "poll", 4, op_poll },
	{ "fork_owner", 4, op_fork_owner },
	{ "child", 3, op_child },
	{ "param", 3, op_param },
};

#define NOPS	ARRAY_SIZE(ops)

static const struct op *pick_op(struct rng *r)
{
	unsigned int total = 0, i, x;

	for (i = 0; i < NOPS; i++)
		total += ops[i].weight;
	x = below(r, total);
	for (i = 0; x >= ops[i].weight; i++)
		x -= ops[i].weight;
	return &ops[i];
}

/* Reports an operation that makes no progress, with the kernel's view. */
static void report_hang(void)
{
	static char log[1 << 17];
	int n, fd, start;

	printf("hang: no progress for %d s in %s (exec %lu, seed %" PRIu64 ")\n",
	       HANG_SECONDS, __atomic_load_n(&current_op, __ATOMIC_RELAXED),
	       __atomic_load_n(&heartbeat, __ATOMIC_RELAXED), fz.seed);
	fd = open("/proc/sysrq-trigger", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, "w", 1) != 1)
			perror("sysrq");
		close(fd);
	}
	n = klogctl(3, log, sizeof(log) - 1);	/* SYSLOG_ACTION_READ_ALL */
	if (n > 0) {
		log[n] = 0;
		start = n > 16384 ? n - 16384 : 0;
		printf("hang: kernel log tail:\n%s\n", log + start);
	}
	fflush(stdout);
}

static void *watchdog(void *arg)
{
	unsigned long last = ~0UL, beat;
	int still = 0;

	(void)arg;
	while (!__atomic_load_n(&stopping, __ATOMIC_RELAXED)) {
		sleep_ms(1000);
		beat = __atomic_load_n(&heartbeat, __ATOMIC_RELAXED);
		if (beat != last) {
			last = beat;
			still = 0;
		} else if (++still == HANG_SECONDS) {
			report_hang();
		}
	}
	return NULL;
}

static int slot_init(struct slot *s)
{
	int q;

	s->fd = -1;
	s->mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (s->mem == MAP_FAILED)
		return -1;
	if (mprotect(s->mem + RO_OFF, AREA_SIZE, PROT_READ) ||
	    mprotect(s->mem + HOLE_OFF, AREA_SIZE, PROT_NONE))
		return -1;
	s->event_efd = eventfd_nb();
	for (q = 0; q < 2; q++) {
		s->vq[q].kick = eventfd_nb();
		s->vq[q].call = eventfd_nb();
		s->vq[q].err = eventfd_nb();
		if (s->vq[q].kick < 0 || s->vq[q].call < 0 || s->vq[q].err < 0)
			return -1;
	}
	slot_reset_state(s);
	return s->event_efd < 0 ? -1 : 0;
}

/* What the device offers, from a file of its own. */
static int probe_features(void)
{
	int fd = open("/dev/vhost-recover", O_RDWR | O_CLOEXEC);

	if (fd < 0 || ioctl(fd, VHOST_GET_FEATURES, &fz.offered) < 0)
		return -1;
	close(fd);
	if (fz.offered & (1ULL << VHOST_F_LOG_ALL))
		anomaly("VHOST_F_LOG_ALL offered");
	return 0;
}

static void save_param(void)
{
	int fd = open("/sys/module/vhost_recover/parameters/recovery_timeout_ms",
		      O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, fz.old_timeout,
				   sizeof(fz.old_timeout) - 1) : -1;

	fz.old_timeout[n > 0 ? n : 0] = 0;
	if (fd >= 0)
		close(fd);
}

static void restore_param(void)
{
	int fd;

	if (!fz.old_timeout[0])
		return;
	fd = open("/sys/module/vhost_recover/parameters/recovery_timeout_ms",
		  O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, fz.old_timeout, strlen(fz.old_timeout)) < 0)
		perror("recovery_timeout_ms");
	if (fd >= 0)
		close(fd);
}

static int setup(void)
{
	int i, pfd[2];

	for (i = 0; i < NFNS; i++) {
		fz.v.dev[i] = -1;
		fz.v.efd[i] = eventfd_nb();
		fz.v.own_efd[i] = eventfd_nb();
		if (fz.v.efd[i] < 0 || fz.v.own_efd[i] < 0)
			return -1;
	}
	fz.v.group = fz.v.container = -1;
	fz.cur_slot = -1;
	for (i = 0; i < NSLOTS; i++)
		if (slot_init(&fz.slot[i]))
			return -1;
	if (pipe2(pfd, O_CLOEXEC | O_NONBLOCK) < 0)
		return -1;
	fz.pipe_fd = pfd[0];
	fz.guard = mmap(NULL, 8192, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
			-1, 0);
	if (fz.guard == MAP_FAILED || munmap(fz.guard + 4096, 4096))
		return -1;
	save_param();
	if (probe_features())
		return -1;
	if (vfio_open_all())
		return -1;
	return 0;
}

/* Close everything; the group must then be free: no attachment kept it. */
static void finish(void)
{
	struct rng r = { fz.seed };
	unsigned int i;
	int g;

	for (i = 0; i < NSLOTS; i++) {
		if (fz.slot[i].fd < 0)
			continue;
		fz.cur_slot = i;
		get_stats(&fz.slot[i]);
		take_events(&r, &fz.slot[i]);
		slot_close(&fz.slot[i]);
	}
	restore_param();
	vfio_close_all();
	g = group_open(fz.bdf[0]);
	if (g < 0)
		anomaly("the VFIO group cannot be opened once every file is closed: %s",
			errname(errno));
	else
		close(g);
}

static int cmp_pairs(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;
	int c = strcmp(x->op, y->op);

	return c ? c : x->err - y->err;
}

static void print_summary(void)
{
	unsigned int i;

	qsort(fz.pairs, fz.npairs, sizeof(fz.pairs[0]), cmp_pairs);
	printf("execs %lu\n", fz.execs);
	printf("pairs %u\n", fz.npairs);
	for (i = 0; i < fz.npairs; i++)
		printf("pair %s %s %lu\n", fz.pairs[i].op,
		       errname(fz.pairs[i].err), fz.pairs[i].count);
	printf("notices %lu answers %lu records %lu\n", fz.notices, fz.answers,
	       fz.records);
	printf("records: answered %lu late %lu timeout %lu dropped %lu reset %lu reset-at-deadline %lu\n",
	       fz.rec_kind[0], fz.rec_kind[1], fz.rec_kind[2], fz.rec_kind[3],
	       fz.rec_kind[4], fz.rec_kind[5]);
	printf("anomalies %lu\n", fz.anomalies);
	printf("done\n");
}

static void usage(void)
{
	fprintf(stderr, "usage: vhost_fuzz [-s SEED] [-t SECONDS] [-n MAX_EXECS] BDF [BDF2]\n");
	exit(2);
}

static void parse_args(int argc, char **argv, long *seconds,
		       unsigned long *max)
{
	struct timespec t;
	int c, i;

	clock_gettime(CLOCK_REALTIME, &t);
	fz.seed = (uint64_t)t.tv_sec * 1000000007ULL ^ (uint64_t)t.tv_nsec ^
		  (uint64_t)getpid() << 32;
	while ((c = getopt(argc, argv, "s:t:n:")) != -1) {
		switch (c) {
		case 's':
			fz.seed = strtoull(optarg, NULL, 0);
			break;
		case 't':
			*seconds = strtol(optarg, NULL, 0);
			break;
		case 'n':
			*max = strtoul(optarg, NULL, 0);
			break;
		default:
			usage();
		}
	}
	fz.nfns = argc - optind;
	if (fz.nfns < 1 || fz.nfns > NFNS)
		usage();
	for (i = 0; i < fz.nfns; i++) {
		fz.bdf[i] = argv[optind + i];
		if (!parse_bdf(fz.bdf[i], &fz.seg[i], &fz.bus[i], &fz.devfn[i]))
			usage();
	}
	/* One function: its twin stands in for the second everywhere. */
	if (fz.nfns == 1) {
		fz.bdf[1] = fz.bdf[0];
		fz.seg[1] = fz.seg[0];
		fz.bus[1] = fz.bus[0];
		fz.devfn[1] = fz.devfn[0];
	}
}

int main(int argc, char **argv)
{
	unsigned long max = ULONG_MAX;
	long seconds = 60, t0, next_progress;
	const struct op *op;
	struct rng main_rng, r;
	pthread_t wd;

	parse_args(argc, argv, &seconds, &max);
	printf("seed %" PRIu64 "\n", fz.seed);
	fflush(stdout);
	main_rng.s = fz.seed;
	if (setup()) {
		perror("vhost_fuzz: setup");
		return 1;
	}
	if (pthread_create(&wd, NULL, watchdog, NULL)) {
		fprintf(stderr, "vhost_fuzz: no watchdog thread\n");
		return 1;
	}
	t0 = now_ms();
	next_progress = t0 + 10000;
	while (fz.execs < max && now_ms() - t0 < seconds * 1000) {
		/* The operation and its seed first, whatever comes back. */
		op = pick_op(&main_rng);
		r.s = rnd(&main_rng);
		fz.cur_slot = -1;
		__atomic_store_n(&current_op, op->name, __ATOMIC_RELAXED);
		op->fn(&r);
		fz.execs++;
		__atomic_store_n(&heartbeat, fz.execs, __ATOMIC_RELAXED);
		if (now_ms() >= next_progress) {
			printf("progress %ld s: execs %lu notices %lu anomalies %lu\n",
			       (now_ms() - t0) / 1000, fz.execs, fz.notices,
			       fz.anomalies);
			fflush(stdout);
			next_progress += 10000;
		}
	}
	__atomic_store_n(&current_op, "finish", __ATOMIC_RELAXED);
	finish();
	__atomic_store_n(&stopping, 1, __ATOMIC_RELAXED);
	pthread_join(wd, NULL);
	print_summary();
	return 0;
}
