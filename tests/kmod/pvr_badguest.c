// SPDX-License-Identifier: GPL-2.0
/*
 * pvr_badguest: a hostile guest driver for the pvrecover device, for tests
 * only.  It binds to the recovery device in place of pvrecover.ko and
 * writes acknowledgments a host must never trust: wrong sizes, values out
 * of range, answers to notices never sent (seq 0 among them), answers that
 * do not echo the notice they name, and a flood.  The host must count them and carry on.
 *
 * Every notice it receives is answered with the wrong type, so that a
 * real notice stays outstanding and times out on the host.
 *
 * With bad_notice_bufs=1 it also posts two notice buffers the host cannot
 * use (device-readable, and too short) ahead of the good ones.
 *
 * With zero_notice_buf=1 it first posts a notice buffer of 0 bytes, which
 * a virtio device must treat as an error of the driver's: QEMU marks
 * itself DEVICE_NEEDS_RESET when it takes it, and must then use noticeq no
 * more until it is reset (spec 6.1).
 *
 * With chained_notice_bufs=1 each good notice buffer is two descriptors of
 * 16 bytes, which the host must fill as one (spec 7.4.1); every notice is
 * logged as received, with its used length.
 *
 * The used length of every ack buffer the host gives back must be 0
 * (7.4.1): the others are counted and logged before "done".
 *
 * With guess_seq=N it answers seq N before it posts any notice buffer, so
 * before the host can have sent notice N: a guess at a queued notice,
 * which the host must not match.
 *
 * Prints "pvr_badguest: done <acks posted>" once the host has taken them
 * all.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/delay.h>
#include <linux/module.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/virtio.h>
#include <linux/virtio_config.h>
#include <linux/virtio_pvrecover.h>
#include <linux/workqueue.h>

/* The guest driver's: the test modules build on the same kernels. */
#include "../../guest/pvrecover/compat.h"

#define BAD_FLOOD	5000
#define BAD_NBUFS	8

struct bad_dev {
	struct virtio_device *vdev;
	struct virtqueue *nvq, *avq;
	struct virtio_pvrecover_notice nbuf[BAD_NBUFS];
	/* Posted first with bad_notice_bufs: device-readable, and short. */
	struct virtio_pvrecover_notice badn[2];
	/* Posted first of all with zero_notice_buf, with length 0. */
	struct virtio_pvrecover_notice zeron;
	struct work_struct script;
	struct work_struct answer;
	/* One ack buffer per slot of the ack queue, reused. */
	u8 (*abuf)[64];
	unsigned int nabuf;
	unsigned int next;
	/* Ack buffers given back with a used length other than 0. */
	unsigned int ack_len_bad;
};

static unsigned int flood = BAD_FLOOD;
module_param(flood, uint, 0444);
MODULE_PARM_DESC(flood, "unmatched acks sent as fast as the queue allows");

static unsigned int guess_seq;
module_param(guess_seq, uint, 0444);
MODULE_PARM_DESC(guess_seq,
		 "answer this seq before posting any notice buffer (0: none)");

static bool bad_notice_bufs;
module_param(bad_notice_bufs, bool, 0444);
MODULE_PARM_DESC(bad_notice_bufs,
		 "first post a device-readable and a short notice buffer");

static bool zero_notice_buf;
module_param(zero_notice_buf, bool, 0444);
MODULE_PARM_DESC(zero_notice_buf, "first post a notice buffer of 0 bytes");

static bool chained_notice_bufs;
module_param(chained_notice_bufs, bool, 0444);
MODULE_PARM_DESC(chained_notice_bufs,
		 "post each notice buffer as two descriptors of 16 bytes");

/* Take back the ack buffers the host consumed, checking their length. */
static void bad_reclaim(struct bad_dev *bd)
{
	unsigned int len;

	while (virtqueue_get_buf(bd->avq, &len))
		if (len)
			bd->ack_len_bad++;
}

/* Post one good notice buffer: one descriptor, or two halves. */
static void bad_post_notice(struct bad_dev *bd,
			    struct virtio_pvrecover_notice *n)
{
	struct scatterlist sg[2];

	if (!chained_notice_bufs) {
		sg_init_one(sg, n, sizeof(*n));
		virtqueue_add_inbuf(bd->nvq, sg, 1, n, GFP_KERNEL);
		return;
	}
	sg_init_table(sg, 2);
	sg_set_buf(&sg[0], n, sizeof(*n) / 2);
	sg_set_buf(&sg[1], (u8 *)n + sizeof(*n) / 2, sizeof(*n) / 2);
	virtqueue_add_inbuf(bd->nvq, sg, 2, n, GFP_KERNEL);
}

/* Wait for a free ack slot: reclaim what the host consumed. */
static u8 *bad_slot(struct bad_dev *bd)
{
	int tries;

	for (tries = 0; tries < 10000; tries++) {
		bad_reclaim(bd);
		if (bd->avq->num_free)
			return bd->abuf[bd->next++ % bd->nabuf];
		usleep_range(100, 200);
	}
	return NULL;
}

/* Post @len bytes of @ack on the ack queue, readable or (@in) writable. */
static int bad_post(struct bad_dev *bd, const void *ack, unsigned int len,
		    bool in)
{
	struct scatterlist sg;
	u8 *slot = bad_slot(bd);
	int err;

	if (!slot)
		return -ETIMEDOUT;
	memcpy(slot, ack, len);
	sg_init_one(&sg, slot, len);
	if (in)
		err = virtqueue_add_inbuf(bd->avq, &sg, 1, slot, GFP_KERNEL);
	else
		err = virtqueue_add_outbuf(bd->avq, &sg, 1, slot, GFP_KERNEL);
	if (!err)
		virtqueue_kick(bd->avq);
	return err;
}

static void bad_ack(struct virtio_pvrecover_ack *a, u32 seq, u16 status,
		    u16 method)
{
	memset(a, 0, sizeof(*a));
	a->seq = cpu_to_le32(seq);
	a->type = cpu_to_le16(VIRTIO_PVRECOVER_N_ERROR_DETECTED);
	a->status = cpu_to_le16(status);
	a->addr.depth = 1;
	a->method = cpu_to_le16(method);
}

/* Post the notice buffers: the bad ones first if asked for. */
static void bad_fill_notices(struct bad_dev *bd)
{
	struct scatterlist sg;
	unsigned int i;

	if (zero_notice_buf) {
		sg_init_one(&sg, &bd->zeron, 0);
		virtqueue_add_inbuf(bd->nvq, &sg, 1, &bd->zeron, GFP_KERNEL);
	}
	if (bad_notice_bufs) {
		sg_init_one(&sg, &bd->badn[0], sizeof(bd->badn[0]));
		virtqueue_add_outbuf(bd->nvq, &sg, 1, &bd->badn[0], GFP_KERNEL);
		sg_init_one(&sg, &bd->badn[1], sizeof(bd->badn[1]) / 2);
		virtqueue_add_inbuf(bd->nvq, &sg, 1, &bd->badn[1], GFP_KERNEL);
	}
	for (i = 0; i < BAD_NBUFS; i++)
		bad_post_notice(bd, &bd->nbuf[i]);
	virtqueue_kick(bd->nvq);
}

static void bad_script(struct work_struct *work)
{
	struct bad_dev *bd = container_of(work, struct bad_dev, script);
	struct virtio_pvrecover_ack a;
	u8 longer[sizeof(a) + 16];
	unsigned int i, posted = 0;

	/* Malformed: short, status 0, status 99, method 77, reserved set. */
	bad_ack(&a, 1, VIRTIO_PVRECOVER_S_RECOVERED, 0);
	posted += !bad_post(bd, &a, 16, false);
	bad_ack(&a, 2, 0, 0);
	posted += !bad_post(bd, &a, sizeof(a), false);
	bad_ack(&a, 3, 99, 0);
	posted += !bad_post(bd, &a, sizeof(a), false);
	bad_ack(&a, 4, VIRTIO_PVRECOVER_S_RECOVERED, 77);
	posted += !bad_post(bd, &a, sizeof(a), false);
	bad_ack(&a, 5, VIRTIO_PVRECOVER_S_RECOVERED, 0);
	a.reserved2 = cpu_to_le32(1);
	posted += !bad_post(bd, &a, sizeof(a), false);
	/* Malformed: a buffer the host could write, not read. */
	bad_ack(&a, 6, VIRTIO_PVRECOVER_S_RECOVERED, 0);
	posted += !bad_post(bd, &a, sizeof(a), true);
	/* Too long: one ack and then some (zeroes, from a buffer that big). */
	bad_ack(&a, 7, VIRTIO_PVRECOVER_S_RECOVERED, 0);
	memset(longer, 0, sizeof(longer));
	memcpy(longer, &a, sizeof(a));
	posted += !bad_post(bd, longer, sizeof(longer), false);

	/*
	 * Well-formed answers to notices never sent: seq 0, which no notice
	 * carries, then the flood.
	 */
	bad_ack(&a, 0, VIRTIO_PVRECOVER_S_RECOVERED,
		VIRTIO_PVRECOVER_M_RESET_HOOKS);
	posted += !bad_post(bd, &a, sizeof(a), false);
	for (i = 0; i < flood; i++) {
		bad_ack(&a, 0x80000000 + i, VIRTIO_PVRECOVER_S_RECOVERED,
			VIRTIO_PVRECOVER_M_RESET_HOOKS);
		if (bad_post(bd, &a, sizeof(a), false))
			break;
		posted++;
	}
	/* A guess at a notice the host cannot have sent yet. */
	if (guess_seq) {
		bad_ack(&a, guess_seq, VIRTIO_PVRECOVER_S_RECOVERED,
			VIRTIO_PVRECOVER_M_RESET_HOOKS);
		posted += !bad_post(bd, &a, sizeof(a), false);
	}
	/* Done once the host has taken every one of them. */
	for (i = 0; i < 10000 && bd->avq->num_free < bd->nabuf; i++) {
		bad_reclaim(bd);
		usleep_range(100, 200);
	}
	if (guess_seq)
		bad_fill_notices(bd);
	pr_info("ack buffers given back with a used length: %u\n",
		bd->ack_len_bad);
	pr_info("done %u\n", posted);
}

/* Answer every notice with the wrong type: never a valid echo. */
static void bad_answer(struct work_struct *work)
{
	struct bad_dev *bd = container_of(work, struct bad_dev, answer);
	struct virtio_pvrecover_notice *n;
	struct virtio_pvrecover_ack a;
	struct scatterlist sg;
	unsigned int len;

	while ((n = virtqueue_get_buf(bd->nvq, &len))) {
		if (len < sizeof(*n)) {
			/* A bad buffer the host gave back: reuse it, whole. */
			pr_info("notice buffer given back with %u bytes\n", len);
			sg_init_one(&sg, n, sizeof(*n));
			virtqueue_add_inbuf(bd->nvq, &sg, 1, n, GFP_KERNEL);
			virtqueue_kick(bd->nvq);
			continue;
		}
		pr_info("notice seq %u type %u depth %u path %*phN, %u bytes\n",
			le32_to_cpu(n->seq), le16_to_cpu(n->type), n->addr.depth,
			(int)sizeof(n->addr.path), n->addr.path, len);
		memset(&a, 0, sizeof(a));
		a.seq = n->seq;
		a.type = cpu_to_le16(le16_to_cpu(n->type) + 1);
		a.status = cpu_to_le16(VIRTIO_PVRECOVER_S_RECOVERED);
		a.addr = n->addr;
		pr_info("answering seq %u with a wrong echo\n",
			le32_to_cpu(n->seq));
		bad_post(bd, &a, sizeof(a), false);
		bad_post_notice(bd, n);
		virtqueue_kick(bd->nvq);
	}
}

static void bad_notice_done(struct virtqueue *vq)
{
	struct bad_dev *bd = vq->vdev->priv;

	schedule_work(&bd->answer);
}

static void bad_ack_done(struct virtqueue *vq)
{
}

static int bad_probe(struct virtio_device *vdev)
{
	vq_callback_t *cbs[] = { bad_notice_done, bad_ack_done };
	static const char * const names[] = { "notice", "ack" };
	struct virtqueue *vqs[2];
	struct bad_dev *bd;
	int err;

	bd = kzalloc(sizeof(*bd), GFP_KERNEL);
	if (!bd)
		return -ENOMEM;
	bd->vdev = vdev;
	vdev->priv = bd;
	INIT_WORK(&bd->script, bad_script);
	INIT_WORK(&bd->answer, bad_answer);

	err = pvr_find_vqs(vdev, 2, vqs, cbs, names);
	if (err)
		goto err_free;
	bd->nvq = vqs[0];
	bd->avq = vqs[1];
	bd->nabuf = virtqueue_get_vring_size(bd->avq);
	bd->abuf = kcalloc(bd->nabuf, sizeof(*bd->abuf), GFP_KERNEL);
	if (!bd->abuf) {
		err = -ENOMEM;
		goto err_vqs;
	}
	virtio_device_ready(vdev);
	if (!guess_seq)
		bad_fill_notices(bd);
	schedule_work(&bd->script);
	return 0;

err_vqs:
	vdev->config->del_vqs(vdev);
err_free:
	kfree(bd);
	return err;
}

static void bad_remove(struct virtio_device *vdev)
{
	struct bad_dev *bd = vdev->priv;

	virtio_reset_device(vdev);
	cancel_work_sync(&bd->script);
	cancel_work_sync(&bd->answer);
	vdev->config->del_vqs(vdev);
	kfree(bd->abuf);
	kfree(bd);
}

static const struct virtio_device_id bad_id_table[] = {
	{ VIRTIO_ID_PVRECOVER, VIRTIO_DEV_ANY_ID },
	{ 0 },
};

static struct virtio_driver bad_driver = {
	.driver.name	= KBUILD_MODNAME,
	.driver.owner	= THIS_MODULE,
	.id_table	= bad_id_table,
	.probe		= bad_probe,
	.remove		= bad_remove,
};

module_virtio_driver(bad_driver);
MODULE_DESCRIPTION("Hostile guest driver for virtio-pvrecover (tests only)");
MODULE_LICENSE("GPL");
