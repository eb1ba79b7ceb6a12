/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What differs between the kernels pvrecover.ko builds on: Debian's 6.1
 * (bookworm) and 6.12 (trixie, and bookworm-security).  The rest of the
 * driver is written against one API; each difference is wrapped here once.
 * Kbuild tells which API the kernel has (PVR_HAVE_*) by looking at its
 * headers, rather than by version: distribution kernels backport.
 *
 *   virtio_find_vqs()  6.11 took the callback and name arrays into one
 *                      array of struct virtqueue_info.
 */
#ifndef _PVRECOVER_COMPAT_H
#define _PVRECOVER_COMPAT_H

#include <linux/virtio_config.h>

/* The most virtqueues a driver built with this header asks for. */
#define PVR_COMPAT_MAX_VQS	2

/**
 * pvr_find_vqs - find a virtio device's virtqueues, on either API
 * @vdev: the device
 * @n: how many, at most PVR_COMPAT_MAX_VQS
 * @vqs: filled with the virtqueues
 * @cbs: their callbacks
 * @names: their names
 *
 * Return: 0 or a negative errno, as virtio_find_vqs().
 */
static inline int pvr_find_vqs(struct virtio_device *vdev, unsigned int n,
			       struct virtqueue *vqs[], vq_callback_t *cbs[],
			       const char * const names[])
{
#ifdef PVR_HAVE_VQ_INFO
	struct virtqueue_info info[PVR_COMPAT_MAX_VQS] = {};
	unsigned int i;

	if (WARN_ON(n > PVR_COMPAT_MAX_VQS))
		return -EINVAL;
	for (i = 0; i < n; i++) {
		info[i].name = names[i];
		info[i].callback = cbs[i];
	}
	return virtio_find_vqs(vdev, n, vqs, info, NULL);
#else
	return virtio_find_vqs(vdev, n, vqs, cbs, names, NULL);
#endif
}

#endif /* _PVRECOVER_COMPAT_H */
