/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What differs between the kernels vhost-recover.ko builds on: Debian's
 * 6.1 (bookworm) and 6.12 (trixie, and bookworm-security).  The rest of
 * the module is written against one API; each difference is wrapped here
 * once.  Kbuild tells which API the kernel has (VREC_HAVE_*) by looking
 * at its headers (vhost.h is the private one from linux-source), rather
 * than by version: distribution kernels backport.
 *
 *   vhost_work_queue()         6.5 queues work on a virtqueue's worker
 *                              instead: vhost_vq_work_queue().
 *   vhost_init_device_iotlb()  6.7 dropped its unused "enabled" argument.
 *   eventfd_signal()           6.8 dropped its count argument (always 1).
 *
 * Unchanged, checked against both kernels' source: vhost_dev_init(),
 * vhost_get_vq_desc(), vhost_dev_flush(), vhost_dev_ioctl() and
 * vhost_vring_ioctl(); and what attach.c relies on from the PCI core's
 * error recovery and vfio-pci (README.md, "Kernel differences the host
 * module covers"), but for one thing no wrapper can hide:
 *
 *   error_state                6.12's report_slot_reset() sets it back to
 *                              normal, 6.1 only report_resume().  That walk
 *                              runs when a driver below the bridge votes
 *                              NEED_RESET (pcieport does for a frozen
 *                              error; vfio-pci never): then RESET_DONE may
 *                              go out after the function's slot_reset step
 *                              instead of its resume step, in which the
 *                              host does nothing to a vfio-pci function;
 *                              and if the recovery fails after that walk,
 *                              the function is left normal, not frozen, so
 *                              the guest is told RESET_DONE where 6.1 tells
 *                              PERM_FAILURE after recovery_timeout_ms.  No
 *                              state the module can read tells the two
 *                              steps apart.
 */
#ifndef _VHOST_RECOVER_COMPAT_H
#define _VHOST_RECOVER_COMPAT_H

#include <linux/eventfd.h>

#include "vhost.h"

/**
 * vrec_work_queue - queue work on the vhost worker that serves @vq
 * @vq: the virtqueue the work is for
 * @work: the work
 *
 * Until 6.5 a vhost device had one worker; since, each virtqueue has one,
 * and the owner may give virtqueues workers of their own
 * (VHOST_ATTACH_VRING_WORKER, which this module does not pass on, as
 * vhost-vsock does not): every virtqueue keeps the device's one default
 * worker, as before.  Before VHOST_SET_OWNER, and on 6.12 once the
 * owner was killed, there is no worker and the work is not queued.
 */
static inline void vrec_work_queue(struct vhost_virtqueue *vq,
				   struct vhost_work *work)
{
#ifdef VREC_HAVE_VQ_WORK_QUEUE
	vhost_vq_work_queue(vq, work);
#else
	vhost_work_queue(vq->dev, work);
#endif
}

/**
 * vrec_init_device_iotlb - give the device an IOTLB (VIRTIO_F_ACCESS_PLATFORM)
 * @dev: the vhost device
 *
 * Return: 0 or a negative errno, as vhost_init_device_iotlb().
 */
static inline int vrec_init_device_iotlb(struct vhost_dev *dev)
{
#ifdef VREC_HAVE_IOTLB_NO_ENABLED
	return vhost_init_device_iotlb(dev);
#else
	return vhost_init_device_iotlb(dev, true);
#endif
}

/**
 * vrec_eventfd_signal - add one to an eventfd's count and wake its readers
 * @ctx: the eventfd
 */
static inline void vrec_eventfd_signal(struct eventfd_ctx *ctx)
{
#ifdef VREC_HAVE_EVENTFD_SIGNAL_NO_COUNT
	eventfd_signal(ctx);
#else
	eventfd_signal(ctx, 1);
#endif
}

#endif /* _VHOST_RECOVER_COMPAT_H */
