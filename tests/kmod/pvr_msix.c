// SPDX-License-Identifier: GPL-2.0
/*
 * pvr_msix: a PCI function driver that keeps its MSI-X vector across a
 * reset, for tests only.
 *
 * Drivers such as nvme free and request their interrupt vectors again when
 * their function is reset; many do not, and keep the vector they got at
 * probe through reset_done().  This driver is one of those.  It drives a
 * virtio-pci function (any modern one; bind it with driver_override) only
 * as far as needed to get an interrupt on command: the device is brought
 * to DRIVER_OK with configuration changes signalled on MSI-X vector 0,
 * and QEMU's "balloon" command, say, then raises that vector.
 *
 * Interrupts taken are counted in the function's sysfs file "irqs".
 * reset_done() sets the device up again (the reset cleared its status),
 * and logs "pvr_msix: BDF: reset_done: device ready" or an error; the
 * vector is never touched after probe.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/delay.h>
#include <linux/interrupt.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>

#define PVR_MSIX_RESET_POLLS	1000	/* 1 ms each */

struct pvr_msix {
	struct pci_dev *pdev;
	void __iomem *common;
	atomic_t irqs;
};

#define COMMON(field)	offsetof(struct virtio_pci_common_cfg, field)

static irqreturn_t pvr_msix_irq(int irq, void *data)
{
	struct pvr_msix *m = data;

	atomic_inc(&m->irqs);
	return IRQ_HANDLED;
}

static int pvr_msix_map_common(struct pvr_msix *m)
{
	struct pci_dev *pdev = m->pdev;
	u32 offset, length;
	u8 type, bar;
	int pos;

	for (pos = pci_find_capability(pdev, PCI_CAP_ID_VNDR); pos > 0;
	     pos = pci_find_next_capability(pdev, pos, PCI_CAP_ID_VNDR)) {
		pci_read_config_byte(pdev, pos +
				     offsetof(struct virtio_pci_cap, cfg_type),
				     &type);
		if (type != VIRTIO_PCI_CAP_COMMON_CFG)
			continue;
		pci_read_config_byte(pdev, pos +
				     offsetof(struct virtio_pci_cap, bar), &bar);
		pci_read_config_dword(pdev, pos +
				      offsetof(struct virtio_pci_cap, offset),
				      &offset);
		pci_read_config_dword(pdev, pos +
				      offsetof(struct virtio_pci_cap, length),
				      &length);
		m->common = pci_iomap_range(pdev, bar, offset, length);
		return m->common ? 0 : -ENOMEM;
	}
	return -ENODEV;
}

/*
 * Reset the device and bring it to DRIVER_OK with configuration changes on
 * vector 0: at probe, and after every reset of the function, which cleared
 * the device's status but not the vector this driver holds.
 */
static int pvr_msix_setup(struct pvr_msix *m)
{
	void __iomem *c = m->common;
	u8 status;
	int i;

	iowrite8(0, c + COMMON(device_status));
	for (i = 0; ioread8(c + COMMON(device_status)); i++) {
		if (i == PVR_MSIX_RESET_POLLS)
			return -ETIMEDOUT;
		usleep_range(1000, 2000);
	}
	status = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER;
	iowrite8(status, c + COMMON(device_status));
	/* VIRTIO_F_VERSION_1 (bit 32) and nothing else. */
	iowrite32(1, c + COMMON(guest_feature_select));
	iowrite32(BIT(VIRTIO_F_VERSION_1 - 32), c + COMMON(guest_feature));
	iowrite32(0, c + COMMON(guest_feature_select));
	iowrite32(0, c + COMMON(guest_feature));
	status |= VIRTIO_CONFIG_S_FEATURES_OK;
	iowrite8(status, c + COMMON(device_status));
	if (!(ioread8(c + COMMON(device_status)) & VIRTIO_CONFIG_S_FEATURES_OK))
		return -ENODEV;
	iowrite16(0, c + COMMON(msix_config));
	if (ioread16(c + COMMON(msix_config)) != 0)
		return -EIO;
	iowrite8(status | VIRTIO_CONFIG_S_DRIVER_OK, c + COMMON(device_status));
	return 0;
}

static ssize_t irqs_show(struct device *dev, struct device_attribute *attr,
			 char *buf)
{
	struct pvr_msix *m = pci_get_drvdata(to_pci_dev(dev));

	return sysfs_emit(buf, "%d\n", atomic_read(&m->irqs));
}
static DEVICE_ATTR_RO(irqs);

static struct attribute *pvr_msix_attrs[] = {
	&dev_attr_irqs.attr,
	NULL,
};
ATTRIBUTE_GROUPS(pvr_msix);

static int pvr_msix_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct pvr_msix *m;
	int ret;

	m = devm_kzalloc(&pdev->dev, sizeof(*m), GFP_KERNEL);
	if (!m)
		return -ENOMEM;
	m->pdev = pdev;
	pci_set_drvdata(pdev, m);

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	pci_set_master(pdev);
	ret = pvr_msix_map_common(m);
	if (ret)
		return ret;
	ret = pci_alloc_irq_vectors(pdev, 1, 1, PCI_IRQ_MSIX);
	if (ret < 0)
		goto unmap;
	ret = request_irq(pci_irq_vector(pdev, 0), pvr_msix_irq, 0,
			  KBUILD_MODNAME, m);
	if (ret)
		goto free_vectors;
	ret = pvr_msix_setup(m);
	if (ret)
		goto free_irq;
	pci_info(pdev, "pvr_msix: bound, MSI-X vector %d\n",
		 pci_irq_vector(pdev, 0));
	return 0;

free_irq:
	free_irq(pci_irq_vector(pdev, 0), m);
free_vectors:
	pci_free_irq_vectors(pdev);
unmap:
	pci_iounmap(pdev, m->common);
	return ret;
}

static void pvr_msix_remove(struct pci_dev *pdev)
{
	struct pvr_msix *m = pci_get_drvdata(pdev);

	iowrite8(0, m->common + COMMON(device_status));
	free_irq(pci_irq_vector(pdev, 0), m);
	pci_free_irq_vectors(pdev);
	pci_iounmap(pdev, m->common);
}

static void pvr_msix_reset_prepare(struct pci_dev *pdev)
{
	pci_info(pdev, "pvr_msix: reset_prepare\n");
}

/* The vector stays as it is: only the device is set up again. */
static void pvr_msix_reset_done(struct pci_dev *pdev)
{
	struct pvr_msix *m = pci_get_drvdata(pdev);
	int ret = pvr_msix_setup(m);

	if (ret)
		pci_warn(pdev, "pvr_msix: reset_done: setup failed: %d\n", ret);
	else
		pci_info(pdev, "pvr_msix: reset_done: device ready\n");
}

static const struct pci_error_handlers pvr_msix_err_handler = {
	.reset_prepare	= pvr_msix_reset_prepare,
	.reset_done	= pvr_msix_reset_done,
};

/* No IDs: it binds only where driver_override names it. */
static const struct pci_device_id pvr_msix_ids[] = {
	{ }
};

static struct pci_driver pvr_msix_driver = {
	.name		= KBUILD_MODNAME,
	.id_table	= pvr_msix_ids,
	.probe		= pvr_msix_probe,
	.remove		= pvr_msix_remove,
	.err_handler	= &pvr_msix_err_handler,
	.dev_groups	= pvr_msix_groups,
};
module_pci_driver(pvr_msix_driver);

MODULE_DESCRIPTION("Test driver that keeps its MSI-X vector across resets");
MODULE_LICENSE("GPL");
