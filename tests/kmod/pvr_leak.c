// SPDX-License-Identifier: GPL-2.0
/*
 * pvr_leak: leaks one allocation on load, for tests only.
 *
 * make check-debug fails a test when kmemleak finds an object one of our
 * modules allocated and nobody references (tests/harness/pvr.py,
 * Console.kmemleak()).  debug:single/debug-checks loads this module and
 * unloads it again to show that such a leak is found and attributed: the
 * check itself can fail.
 */
#include <linux/module.h>
#include <linux/slab.h>

static int __init pvr_leak_init(void)
{
	char *p = kmalloc(64, GFP_KERNEL);

	if (!p)
		return -ENOMEM;
	strscpy(p, "pvr_leak: leaked on purpose", 64);
	/* The only reference goes with this frame. */
	pr_info("pvr_leak: leaked 64 bytes on purpose\n");
	return 0;
}

static void __exit pvr_leak_exit(void)
{
}

module_init(pvr_leak_init);
module_exit(pvr_leak_exit);
MODULE_DESCRIPTION("Leaks one allocation on load (tests only)");
MODULE_LICENSE("GPL");
