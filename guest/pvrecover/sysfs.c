// SPDX-License-Identifier: GPL-2.0
/*
 * pvrecover: read-only counters on the virtio device (driver.dev_groups).
 */
#include <linux/device.h>
#include <linux/sysfs.h>

#include "pvrecover.h"

/**
 * struct pvr_attr - a counter attribute
 * @attr: the device attribute.
 * @idx: the enum pvr_counter it shows.
 */
struct pvr_attr {
	struct device_attribute attr;
	enum pvr_counter idx;
};

static struct pvr_dev *pvr_from_dev(struct device *dev)
{
	return dev_to_virtio(dev)->priv;
}

static ssize_t pvr_counter_show(struct device *dev,
				struct device_attribute *attr, char *buf)
{
	struct pvr_attr *pa = container_of(attr, struct pvr_attr, attr);
	struct pvr_dev *pv = pvr_from_dev(dev);

	return sysfs_emit(buf, "%lld\n",
			  (long long)atomic64_read(&pv->cnt[pa->idx]));
}

static ssize_t last_recovery_us_show(struct device *dev,
				     struct device_attribute *attr, char *buf)
{
	struct pvr_dev *pv = pvr_from_dev(dev);

	return sysfs_emit(buf, "%lld\n",
			  (long long)atomic64_read(&pv->last_recovery_us));
}
static DEVICE_ATTR_RO(last_recovery_us);

#define PVR_ATTR(_name, _idx) {						\
	.attr = __ATTR(_name, 0444, pvr_counter_show, NULL),		\
	.idx = (_idx),							\
}

static struct pvr_attr pvr_attrs[] = {
	PVR_ATTR(notices, PVR_CNT_NOTICES),
	PVR_ATTR(recovered_reset_hooks, PVR_CNT_RECOVERED_RESET_HOOKS),
	PVR_ATTR(recovered_aer, PVR_CNT_RECOVERED_AER),
	PVR_ATTR(recovered_reprobe, PVR_CNT_RECOVERED_REPROBE),
	PVR_ATTR(failed, PVR_CNT_FAILED),
	PVR_ATTR(no_driver, PVR_CNT_NO_DRIVER),
	PVR_ATTR(unknown_device, PVR_CNT_UNKNOWN_DEVICE),
	PVR_ATTR(unsupported, PVR_CNT_UNSUPPORTED),
	PVR_ATTR(malformed, PVR_CNT_MALFORMED),
	PVR_ATTR(busy, PVR_CNT_BUSY),
	PVR_ATTR(quiesce_expired, PVR_CNT_QUIESCE_EXPIRED),
	PVR_ATTR(stale, PVR_CNT_STALE),
	PVR_ATTR(acks_dropped, PVR_CNT_ACKS_DROPPED),
};

static struct attribute *pvr_attr_list[] = {
	&pvr_attrs[0].attr.attr,
	&pvr_attrs[1].attr.attr,
	&pvr_attrs[2].attr.attr,
	&pvr_attrs[3].attr.attr,
	&pvr_attrs[4].attr.attr,
	&pvr_attrs[5].attr.attr,
	&pvr_attrs[6].attr.attr,
	&pvr_attrs[7].attr.attr,
	&pvr_attrs[8].attr.attr,
	&pvr_attrs[9].attr.attr,
	&pvr_attrs[10].attr.attr,
	&pvr_attrs[11].attr.attr,
	&pvr_attrs[12].attr.attr,
	&dev_attr_last_recovery_us.attr,
	NULL,
};

static_assert(ARRAY_SIZE(pvr_attrs) == PVR_CNT_NR);
/* Every counter listed, and last_recovery_us, and the NULL. */
static_assert(ARRAY_SIZE(pvr_attr_list) == PVR_CNT_NR + 2);

static const struct attribute_group pvr_group = {
	.attrs = pvr_attr_list,
};

const struct attribute_group *pvr_groups[] = {
	&pvr_group,
	NULL,
};
