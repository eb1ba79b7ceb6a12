// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-recover: host kernel backend of the paravirtual PCI recovery device
 * (spec/pv-recovery.txt).
 *
 * /dev/vhost-recover is a vhost device with two virtqueues: noticeq, which
 * the guest fills with empty buffers for notices, and ackq, on which it
 * answers.  The owner attaches vfio-pci functions; the host's own error
 * recovery of those functions then reaches the guest without passing
 * through the owner's main loop, and the host never waits on the guest.
 * Modelled on vhost-vsock.
 */
#define pr_fmt(fmt) "vhost-recover: " fmt

#include <linux/compat.h>
#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "recover.h"

/*
 * Char major 10 minors 243-254 are reserved for local use
 * (Documentation/admin-guide/devices.txt); a fixed minor lets the module
 * be loaded on first open through its devname alias.
 */
#define VHOST_RECOVER_MINOR	243

/*
 * No VHOST_F_LOG_ALL: the device never logs the guest pages it writes, so
 * it must not claim it can (the device is not migratable anyway).
 */
enum {
	VHOST_RECOVER_FEATURES = (VHOST_FEATURES & ~(1ULL << VHOST_F_LOG_ALL)) |
				 (1ULL << VIRTIO_F_ACCESS_PLATFORM) |
				 (1ULL << VIRTIO_PVRECOVER_F_PLANNED_RESET),
};

enum {
	VHOST_RECOVER_BACKEND_FEATURES = (1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2),
};

static int vrec_start(struct vhost_recover *vrec)
{
	struct vhost_virtqueue *vq;
	size_t i;
	int ret;

	mutex_lock(&vrec->dev.mutex);
	ret = vhost_dev_check_owner(&vrec->dev);
	if (ret)
		goto err;

	for (i = 0; i < ARRAY_SIZE(vrec->vqs); i++) {
		vq = &vrec->vqs[i];
		mutex_lock(&vq->mutex);
		if (!vhost_vq_access_ok(vq)) {
			ret = -EFAULT;
			goto err_vq;
		}
		if (!vhost_vq_get_backend(vq)) {
			vhost_vq_set_backend(vq, vrec);
			ret = vhost_vq_init_access(vq);
			if (ret)
				goto err_vq;
		}
		mutex_unlock(&vq->mutex);
	}

	/* Notices queued while stopped go out now; answers may be waiting. */
	vrec_work_queue(&vrec->vqs[VIRTIO_PVRECOVER_VQ_NOTICE],
			&vrec->send_work);
	vhost_poll_queue(&vrec->vqs[VIRTIO_PVRECOVER_VQ_ACK].poll);
	mutex_unlock(&vrec->dev.mutex);
	return 0;

err_vq:
	vhost_vq_set_backend(vq, NULL);
	mutex_unlock(&vq->mutex);
	for (i = 0; i < ARRAY_SIZE(vrec->vqs); i++) {
		vq = &vrec->vqs[i];
		mutex_lock(&vq->mutex);
		vhost_vq_set_backend(vq, NULL);
		mutex_unlock(&vq->mutex);
	}
err:
	mutex_unlock(&vrec->dev.mutex);
	return ret;
}

static int vrec_stop(struct vhost_recover *vrec, bool check_owner)
{
	struct vhost_virtqueue *vq;
	size_t i;
	int ret = 0;

	mutex_lock(&vrec->dev.mutex);
	if (check_owner) {
		ret = vhost_dev_check_owner(&vrec->dev);
		if (ret)
			goto out;
	}
	for (i = 0; i < ARRAY_SIZE(vrec->vqs); i++) {
		vq = &vrec->vqs[i];
		mutex_lock(&vq->mutex);
		vhost_vq_set_backend(vq, NULL);
		mutex_unlock(&vq->mutex);
	}
out:
	mutex_unlock(&vrec->dev.mutex);
	return ret;
}

static int vrec_open(struct inode *inode, struct file *file)
{
	struct vhost_virtqueue **vqs;
	struct vhost_recover *vrec;

	/* struct vhost_virtqueue is large: allow vmalloc. */
	vrec = kvzalloc(sizeof(*vrec), GFP_KERNEL | __GFP_RETRY_MAYFAIL);
	if (!vrec)
		return -ENOMEM;
	vqs = kmalloc_array(ARRAY_SIZE(vrec->vqs), sizeof(*vqs), GFP_KERNEL);
	if (!vqs) {
		kvfree(vrec);
		return -ENOMEM;
	}

	vqs[VIRTIO_PVRECOVER_VQ_NOTICE] = &vrec->vqs[VIRTIO_PVRECOVER_VQ_NOTICE];
	vqs[VIRTIO_PVRECOVER_VQ_ACK] = &vrec->vqs[VIRTIO_PVRECOVER_VQ_ACK];
	vrec->vqs[VIRTIO_PVRECOVER_VQ_NOTICE].handle_kick =
		vrec_handle_notice_kick;
	vrec->vqs[VIRTIO_PVRECOVER_VQ_ACK].handle_kick = vrec_handle_ack_kick;
	vhost_dev_init(&vrec->dev, vqs, ARRAY_SIZE(vrec->vqs), UIO_MAXIOV,
		       VREC_PKT_WEIGHT, VREC_BYTE_WEIGHT, true, NULL);
	vrec_queue_init(vrec);
	vrec_plan_init(vrec);
	file->private_data = vrec;
	return 0;
}

/*
 * The owner went away (closed the file or was killed), possibly in the
 * middle of a host recovery or a planned reset: the host's recovery does
 * not depend on us, and a planned reset is the owner's, so stop the
 * virtqueues, stop listening to the functions (which ends their plans),
 * free the plans once their work is done, then tear down in vhost-vsock's
 * order.
 */
static int vrec_release(struct inode *inode, struct file *file)
{
	struct vhost_recover *vrec = file->private_data;

	vrec_stop(vrec, false);
	vrec_detach_all(vrec);
	vrec_plan_cleanup(vrec);
	vhost_dev_flush(&vrec->dev);
	vhost_dev_stop(&vrec->dev);
	vrec_queue_cleanup(vrec);
	vhost_dev_cleanup(&vrec->dev);
	kfree(vrec->dev.vqs);
	kvfree(vrec);
	return 0;
}

static int vrec_set_features(struct vhost_recover *vrec, u64 features)
{
	struct vhost_virtqueue *vq;
	size_t i;

	if (features & ~VHOST_RECOVER_FEATURES)
		return -EOPNOTSUPP;

	mutex_lock(&vrec->dev.mutex);
	if ((features & (1ULL << VIRTIO_F_ACCESS_PLATFORM)) &&
	    vrec_init_device_iotlb(&vrec->dev))
		goto err;
	for (i = 0; i < ARRAY_SIZE(vrec->vqs); i++) {
		vq = &vrec->vqs[i];
		mutex_lock(&vq->mutex);
		vq->acked_features = features;
		mutex_unlock(&vq->mutex);
	}
	mutex_unlock(&vrec->dev.mutex);
	return 0;
err:
	mutex_unlock(&vrec->dev.mutex);
	return -EFAULT;
}

static int vrec_set_event_fd(struct vhost_recover *vrec, int fd)
{
	struct eventfd_ctx *ctx = NULL, *old;

	if (fd != -1) {
		ctx = eventfd_ctx_fdget(fd);
		if (IS_ERR(ctx))
			return PTR_ERR(ctx);
	}
	spin_lock(&vrec->lock);
	old = vrec->event_ctx;
	vrec->event_ctx = ctx;
	if (ctx && vrec->ev_count)
		vrec_eventfd_signal(ctx);
	spin_unlock(&vrec->lock);
	if (old)
		eventfd_ctx_put(old);
	return 0;
}

/* Ioctls that need the caller to own the device, under its mutex. */
/*
 * VHOST_RECOVER_GUEST_RESET: the owner reset the guest.  What was meant for
 * the old guest goes; the functions stay attached and watched.
 */
static int vrec_guest_reset(struct vhost_recover *vrec)
{
	unsigned int plans = vrec_plan_forget(vrec);
	unsigned int notices = vrec_queue_forget(vrec);

	if (plans || notices)
		pr_info("guest reset: %u notice(s) and %u planned reset(s) forgotten\n",
			notices, plans);
	return 0;
}

static long vrec_owner_ioctl(struct vhost_recover *vrec, unsigned int ioctl,
			     void __user *argp)
{
	struct vhost_recover_reset_done done;
	struct vhost_recover_attach attach;
	struct vhost_recover_reset reset;
	u32 cookie;
	int fd, r;

	switch (ioctl) {
	case VHOST_RECOVER_ATTACH:
		if (copy_from_user(&attach, argp, sizeof(attach)))
			return -EFAULT;
		return vrec_attach(vrec, &attach);
	case VHOST_RECOVER_DETACH:
		if (copy_from_user(&cookie, argp, sizeof(cookie)))
			return -EFAULT;
		return vrec_detach(vrec, cookie);
	case VHOST_RECOVER_SET_EVENT_FD:
		if (copy_from_user(&fd, argp, sizeof(fd)))
			return -EFAULT;
		return vrec_set_event_fd(vrec, fd);
	case VHOST_RECOVER_PLAN_RESET:
		if (copy_from_user(&reset, argp, sizeof(reset)))
			return -EFAULT;
		r = vrec_plan_reset(vrec, &reset);
		/* Started all the same: the owner gets the record. */
		if (!r && copy_to_user(argp, &reset, sizeof(reset)))
			r = -EFAULT;
		return r;
	case VHOST_RECOVER_RESET_DONE:
		if (copy_from_user(&done, argp, sizeof(done)))
			return -EFAULT;
		return vrec_plan_done(vrec, &done);
	case VHOST_RECOVER_GUEST_RESET:
		return vrec_guest_reset(vrec);
	}
	return -ENOIOCTLCMD;
}

static long vrec_ioctl(struct file *f, unsigned int ioctl, unsigned long arg)
{
	struct vhost_recover *vrec = f->private_data;
	void __user *argp = (void __user *)arg;
	struct vhost_recover_stats stats;
	u64 features;
	u32 ms;
	int start;
	long r;

	switch (ioctl) {
	case VHOST_RECOVER_SET_RUNNING:
		if (copy_from_user(&start, argp, sizeof(start)))
			return -EFAULT;
		return start ? vrec_start(vrec) : vrec_stop(vrec, true);
	case VHOST_RECOVER_SET_ACK_TIMEOUT:
		if (copy_from_user(&ms, argp, sizeof(ms)))
			return -EFAULT;
		if (!ms || ms > VREC_ACK_TIMEOUT_MAX)
			return -EINVAL;
		WRITE_ONCE(vrec->ack_timeout_ms, ms);
		/* Applies at once to the notices already outstanding. */
		mod_delayed_work(system_wq, &vrec->timeout_work, 0);
		return 0;
	case VHOST_RECOVER_GET_STATS:
		spin_lock(&vrec->lock);
		stats = vrec->stats;
		stats.outstanding = vrec->nsent;
		stats.queued = vrec->npending;
		spin_unlock(&vrec->lock);
		return copy_to_user(argp, &stats, sizeof(stats)) ? -EFAULT : 0;
	case VHOST_RECOVER_GET_EVENTS:
		return vrec_get_events(vrec, argp);
	case VHOST_RECOVER_ATTACH:
	case VHOST_RECOVER_DETACH:
	case VHOST_RECOVER_SET_EVENT_FD:
	case VHOST_RECOVER_PLAN_RESET:
	case VHOST_RECOVER_RESET_DONE:
	case VHOST_RECOVER_GUEST_RESET:
		mutex_lock(&vrec->dev.mutex);
		r = vhost_dev_check_owner(&vrec->dev);
		if (!r)
			r = vrec_owner_ioctl(vrec, ioctl, argp);
		mutex_unlock(&vrec->dev.mutex);
		return r;
	case VHOST_GET_FEATURES:
		features = VHOST_RECOVER_FEATURES;
		return copy_to_user(argp, &features, sizeof(features)) ?
		       -EFAULT : 0;
	case VHOST_SET_FEATURES:
		if (copy_from_user(&features, argp, sizeof(features)))
			return -EFAULT;
		return vrec_set_features(vrec, features);
	case VHOST_GET_BACKEND_FEATURES:
		features = VHOST_RECOVER_BACKEND_FEATURES;
		return copy_to_user(argp, &features, sizeof(features)) ?
		       -EFAULT : 0;
	case VHOST_SET_BACKEND_FEATURES:
		if (copy_from_user(&features, argp, sizeof(features)))
			return -EFAULT;
		if (features & ~VHOST_RECOVER_BACKEND_FEATURES)
			return -EOPNOTSUPP;
		vhost_set_backend_features(&vrec->dev, features);
		return 0;
	default:
		/* Not a vhost ioctl: say so rather than fault on its argument. */
		if (_IOC_TYPE(ioctl) != VHOST_VIRTIO)
			return -ENOTTY;
		mutex_lock(&vrec->dev.mutex);
		r = vhost_dev_ioctl(&vrec->dev, ioctl, argp);
		if (r == -ENOIOCTLCMD)
			r = vhost_vring_ioctl(&vrec->dev, ioctl, argp);
		else
			vhost_dev_flush(&vrec->dev);
		mutex_unlock(&vrec->dev.mutex);
		return r;
	}
}

/* IOTLB messages, for VIRTIO_F_ACCESS_PLATFORM, as in vhost-vsock. */
static ssize_t vrec_chr_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	struct vhost_recover *vrec = iocb->ki_filp->private_data;

	return vhost_chr_read_iter(&vrec->dev, to,
				   iocb->ki_filp->f_flags & O_NONBLOCK);
}

static ssize_t vrec_chr_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	struct vhost_recover *vrec = iocb->ki_filp->private_data;

	return vhost_chr_write_iter(&vrec->dev, from);
}

static __poll_t vrec_chr_poll(struct file *file, poll_table *wait)
{
	struct vhost_recover *vrec = file->private_data;

	return vhost_chr_poll(file, &vrec->dev, wait);
}

static const struct file_operations vrec_fops = {
	.owner		= THIS_MODULE,
	.open		= vrec_open,
	.release	= vrec_release,
	.llseek		= noop_llseek,
	.unlocked_ioctl	= vrec_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.read_iter	= vrec_chr_read_iter,
	.write_iter	= vrec_chr_write_iter,
	.poll		= vrec_chr_poll,
};

static struct miscdevice vrec_misc = {
	.minor	= VHOST_RECOVER_MINOR,
	.name	= "vhost-recover",
	.fops	= &vrec_fops,
};

module_misc_device(vrec_misc);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vhost backend of the paravirtual PCI recovery device");
MODULE_ALIAS_MISCDEV(VHOST_RECOVER_MINOR);
MODULE_ALIAS("devname:vhost-recover");
