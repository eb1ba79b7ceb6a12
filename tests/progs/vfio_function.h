/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A PCI function named by its BDF, as the test programs that run in L1
 * take it on their command line, and the VFIO group it belongs to.
 */
#ifndef PVR_TESTS_VFIO_FUNCTION_H
#define PVR_TESTS_VFIO_FUNCTION_H

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* "0000:01:00.0" into segment, bus and devfn; 0 if it is no BDF. */
static inline int parse_bdf(const char *bdf, unsigned int *seg,
			    unsigned int *bus, unsigned int *devfn)
{
	unsigned int dev, fn;

	if (sscanf(bdf, "%x:%x:%x.%x", seg, bus, &dev, &fn) != 4 ||
	    dev > 31 || fn > 7)
		return 0;
	*devfn = dev << 3 | fn;
	return 1;
}

/* Open the VFIO group file of @bdf (/dev/vfio/N); -1 on failure. */
static inline int group_open(const char *bdf)
{
	char link[PATH_MAX], path[PATH_MAX + 32];
	const char *num;
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group",
		 bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -1;
	link[n] = 0;
	num = strrchr(link, '/');
	snprintf(path, sizeof(path), "/dev/vfio/%s", num ? num + 1 : link);
	return open(path, O_RDWR | O_CLOEXEC);
}

#endif
