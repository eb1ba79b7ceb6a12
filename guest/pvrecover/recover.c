// SPDX-License-Identifier: GPL-2.0
/*
 * pvrecover: the PCI side.  Resolves notice addresses to PCI functions,
 * keeps one recovery context per function and walks the recovery ladder of
 * the design contract: reset_prepare/reset_done, the AER callbacks, or
 * unbind and probe again.
 *
 * Locking: pvr_dev.ctx_lock (a mutex) protects the list of contexts and is
 * taken under device_lock() of a PCI function (from the bus notifier), never
 * the other way round.  pvr_ctx.lock (a spinlock) protects a context's
 * notice queue.  Driver callbacks are called under device_lock(), as the
 * PCI core does; device_release_driver() and device_attach() take it
 * themselves and are called without it.
 *
 * Removal: a function's removal is seen by the bus notifier twice, at
 * BUS_NOTIFY_DEL_DEVICE (the removal has begun; the driver is already
 * unbound) and at BUS_NOTIFY_REMOVED_DEVICE (the function is off the bus's
 * list, so pvr_resolve() no longer finds it).  From the first the context
 * is marked removed (it is created for that if there was none: a
 * tombstone), and every notice about the function is answered
 * UNKNOWN_DEVICE; from the second it is freed, by the notifier or by its
 * work once idle.  pvr_dispatch() resolves the address and looks the
 * context up under ctx_lock, which both notifications take: a function it
 * finds has not passed the second, so either its context is already
 * marked removed or the first has not run yet and will mark it.  No
 * context is thus created for a removed function, nor any left behind.
 *
 * Addition: every function has a context from BUS_NOTIFY_ADD_DEVICE (or,
 * for those present at probe, from pvr_recover_init()) until it is off the
 * bus, and pvr_dispatch() never creates one.  A function the guest adds
 * takes the place of any that was at its address before; the notices the
 * device wrote before the addition are about that one, not this one (spec
 * 7.8).  The notifier takes them off the notice queue first
 * (pvr_notices_mark()) and records in the context where the notices
 * written since begin; a notice from before, or about a function whose
 * context is not there yet, is answered UNKNOWN_DEVICE.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/acpi.h>
#include <linux/delay.h>
#include <linux/device.h>
#include <linux/kobject.h>
#include <linux/moduleparam.h>
#include <linux/pm_runtime.h>
#include <linux/string.h>
#include <linux/suspend.h>
#include <linux/slab.h>

#include "pvrecover.h"
#include "trace.h"

/*
 * For tests only: widen the window between resolving a notice's address
 * and looking up the function's context, so that a test can remove the
 * function in it.
 */
static unsigned int test_dispatch_delay_ms;
module_param(test_dispatch_delay_ms, uint, 0644);
MODULE_PARM_DESC(test_dispatch_delay_ms,
		 "for tests only: sleep this long in dispatch once a notice's function is found (default 0)");

/*
 * A kernel log line about a notice: "pvrecover: seq <seq> <notice>: <what>".
 * Only for what an administrator must see (a recovery's outcome, a
 * failure); each step is a tracepoint (trace.h).
 */
static __printf(3, 4) void pvr_log(struct pci_dev *pdev,
				   const struct pvr_queued *q,
				   const char *fmt, ...)
{
	struct va_format vaf;
	va_list args;

	va_start(args, fmt);
	vaf.fmt = fmt;
	vaf.va = &args;
	dev_info(&pdev->dev, "pvrecover: seq %u %s: %pV\n", q->n.seq,
		 pvr_notice_name(q->n.type), &vaf);
	va_end(args);
}

enum pvr_uevent {
	PVR_UEV_BEGIN,
	PVR_UEV_SUCCESS,
	PVR_UEV_FAILED,
};

/* The same keys as the PCI core's pci_uevent_ers(), which is not exported. */
static void pvr_uevent(struct pci_dev *pdev, enum pvr_uevent which)
{
	static const char * const events[] = {
		[PVR_UEV_BEGIN]		= "BEGIN_RECOVERY",
		[PVR_UEV_SUCCESS]	= "SUCCESSFUL_RECOVERY",
		[PVR_UEV_FAILED]	= "FAILED_RECOVERY",
	};
	char event[40], online[20];
	char *envp[3];

	envp[0] = event;
	envp[1] = online;
	envp[2] = NULL;

	snprintf(event, sizeof(event), "ERROR_EVENT=%s", events[which]);
	snprintf(online, sizeof(online), "DEVICE_ONLINE=%d",
		 which == PVR_UEV_SUCCESS);
	kobject_uevent_env(&pdev->dev.kobj, KOBJ_CHANGE, envp);
}

/*
 * Whether @bus is the root bus @root_bus of the firmware's segment group
 * @seg (spec 7.1).  Linux numbers the domain of a host bridge the firmware
 * describes by its segment group (ACPI's _SEG), and such a bridge is
 * scanned by the architecture (no parent device) or described by ACPI or
 * the device tree.  A host bridge that a driver makes for a device of its
 * own (Intel VMD, Hyper-V's virtual PCI) has a domain number of Linux's
 * choosing, which names nothing the host knows.
 */
static bool pvr_is_root(struct pci_bus *bus, u16 seg, u8 root_bus)
{
	struct pci_host_bridge *bridge;
	struct device *parent;

	if (!pci_is_root_bus(bus) || pci_domain_nr(bus) != seg ||
	    bus->number != root_bus)
		return false;
	bridge = pci_find_host_bridge(bus);
	parent = bridge->dev.parent;
	return has_acpi_companion(&bridge->dev) || !parent ||
	       has_acpi_companion(parent) || dev_of_node(parent);
}

/*
 * Find the function @devfn on the root bus @seg:@root_bus (@parent NULL) or
 * on the secondary bus of the bridge @parent.  Walks the device list with
 * references rather than bus pointers, so a concurrent hot unplug cannot
 * pull a bus away under us.  Returns a referenced pci_dev or NULL.
 */
static struct pci_dev *pvr_find_child(u16 seg, u8 root_bus,
				      struct pci_dev *parent, u8 devfn)
{
	struct pci_dev *dev = NULL;

	for_each_pci_dev(dev) {
		if (dev->devfn != devfn)
			continue;
		if (parent) {
			if (!pci_is_root_bus(dev->bus) && dev->bus->self == parent)
				return dev;
		} else if (pvr_is_root(dev->bus, seg, root_bus)) {
			return dev;
		}
	}
	return NULL;
}

/* Resolve a notice address by walking the path.  Returns a reference. */
static struct pci_dev *pvr_resolve(const struct pvr_notice *n)
{
	struct pci_dev *pdev = NULL, *parent = NULL;
	unsigned int i;

	for (i = 0; i < n->depth && i < VIRTIO_PVRECOVER_PATH_MAX; i++) {
		pdev = pvr_find_child(n->segment, n->root_bus, parent,
				      n->path[i]);
		pci_dev_put(parent);
		if (!pdev)
			return NULL;
		parent = pdev;
	}
	return pdev;
}

/*
 * Keep a copy of the config space of a healthy function, for a reset that
 * loses it when no saved state is around.  Called with the device lock
 * held.  A state saved by the driver is copied as it is; otherwise the
 * state is saved and the device's state_saved flag put back, so that the PM
 * core still saves the state itself at suspend.
 */
static void pvr_snapshot(struct pvr_ctx *ctx)
{
	struct pci_dev *pdev = ctx->pdev;
	struct pci_saved_state *state;
	bool saved = pdev->state_saved;

	if (pdev->error_state != pci_channel_io_normal ||
	    pdev->current_state != PCI_D0 || !pci_device_is_present(pdev))
		return;
	if (!saved && pci_save_state(pdev))
		return;
	state = pci_store_saved_state(pdev);
	if (!saved)
		pdev->state_saved = false;
	if (!state)
		return;
	kfree(ctx->snap);
	ctx->snap = state;
}

/*
 * A function the PCI core marked disconnected (perm_failure: a surprise
 * removal, or its own recovery gave up) is gone for good, as far as the
 * guest is concerned; the core never takes that mark back, and neither
 * does pvrecover.  perm_failure set by pvrecover itself for PERM_FAILURE
 * (ctx->perm_ours) is not such a mark: a later RESET_DONE takes it back.
 */
static bool pvr_disconnected(struct pvr_ctx *ctx)
{
	return pci_dev_is_disconnected(ctx->pdev) && !ctx->perm_ours;
}

/*
 * Write MSI and MSI-X disabled, as the reset left them, before restoring
 * them.  Under a hypervisor the reset may have happened behind the back of
 * whoever emulates the function's configuration: vfio-pci's VMM keeps the
 * MSI-X enable bit it last saw, and the host's link reset cleared the real
 * one.  The PCI core restores MSI-X by writing enable over what it reads,
 * which to that VMM is no change, so it would never enable the function's
 * vectors again, and a driver that keeps its vectors across reset_done()
 * would get no interrupts.  Written disabled first, the restore is an
 * enable for the VMM too.  Harmless where the reset was seen: the bits
 * are clear already.
 */
static void pvr_msi_as_reset(struct pci_dev *pdev)
{
	u16 ctrl;

	if (pdev->msix_cap) {
		pci_read_config_word(pdev, pdev->msix_cap + PCI_MSIX_FLAGS, &ctrl);
		if (ctrl & PCI_MSIX_FLAGS_ENABLE)
			pci_write_config_word(pdev, pdev->msix_cap + PCI_MSIX_FLAGS,
					      ctrl & ~PCI_MSIX_FLAGS_ENABLE);
	}
	if (pdev->msi_cap) {
		pci_read_config_word(pdev, pdev->msi_cap + PCI_MSI_FLAGS, &ctrl);
		if (ctrl & PCI_MSI_FLAGS_ENABLE)
			pci_write_config_word(pdev, pdev->msi_cap + PCI_MSI_FLAGS,
					      ctrl & ~PCI_MSI_FLAGS_ENABLE);
	}
}

/*
 * Restore config space after a reset.  Called with the device lock held.
 * The channel goes back to normal first: config accessors drop writes to
 * a function marked perm_failure (pci_dev_is_disconnected()).  The
 * channel state moves as the PCI core's pci_dev_set_io_state() moves it
 * (frozen to normal; perm_failure is final) except for a perm_failure of
 * pvrecover's own.  Returns false, restoring nothing, if the PCI core has
 * marked the function disconnected.
 */
static bool pvr_restore_config(struct pvr_ctx *ctx)
{
	struct pci_dev *pdev = ctx->pdev;
	pci_channel_state_t old;

	old = cmpxchg(&pdev->error_state, pci_channel_io_frozen,
		      pci_channel_io_normal);
	if (old == pci_channel_io_perm_failure) {
		if (!ctx->perm_ours)
			return false;
		cmpxchg(&pdev->error_state, pci_channel_io_perm_failure,
			pci_channel_io_normal);
	}
	ctx->perm_ours = false;
	if (!pdev->state_saved && ctx->snap)
		pci_load_saved_state(pdev, ctx->snap);
	pvr_msi_as_reset(pdev);
	pci_restore_state(pdev);
	return true;
}

/*
 * The quiesced window.  Between quiesce and reinit (state QUIESCED) the
 * device lock is not held: the host may take any time to send RESET_DONE.
 * What else may reach the function meanwhile:
 *
 * - A reset through the PCI core (sysfs "reset", pci_reset_function()):
 *   refused.  It would call reset_prepare() again on a driver already
 *   quiesced, which the error recovery contract never does and drivers do
 *   not expect: nvme's waits, with the device lock held, for its
 *   controller to leave the resetting state it is in, so pvrecover's
 *   reset_done() could never be delivered.  pvrecover cannot intercept the
 *   reset, but the PCI core refuses with ENOTTY to reset a function that
 *   has no reset method: the function's reset methods are hidden while
 *   QUIESCED (as writing "" to reset_method does) and put back when it
 *   leaves QUIESCED, or at unload.  A reset that had passed the core's
 *   check before quiesce took the device lock is not stopped; the PCI
 *   core's own recovery has the same race.
 * - An unbind (or the function's removal): allowed.  The driver's remove()
 *   runs after reset_prepare() or error_detected(), as it can after the PCI
 *   core's; reinit restores the configuration and gives a driver bound
 *   meanwhile no callbacks meant for the old one (RECOVERED, method NONE).
 * - A system suspend: refused (see pvr_pm_notify()), for the same reason
 *   as a reset: a quiesced driver's suspend callback may wait for the
 *   function forever, nvme's does.
 */
static void pvr_hide_reset(struct pvr_ctx *ctx)
{
	struct pci_dev *pdev = ctx->pdev;

	if (ctx->reset_hidden)
		return;
	memcpy(ctx->reset_methods, pdev->reset_methods,
	       sizeof(ctx->reset_methods));
	WRITE_ONCE(pdev->reset_methods[0], 0);
	ctx->reset_hidden = true;
}

/* Unless someone chose reset methods meanwhile (sysfs reset_method). */
static void pvr_unhide_reset(struct pvr_ctx *ctx)
{
	struct pci_dev *pdev = ctx->pdev;

	if (!ctx->reset_hidden)
		return;
	if (!READ_ONCE(pdev->reset_methods[0]))
		memcpy(pdev->reset_methods, ctx->reset_methods,
		       sizeof(pdev->reset_methods));
	ctx->reset_hidden = false;
}

static const struct pci_error_handlers *pvr_eh(struct pci_dev *pdev)
{
	return pdev->driver ? pdev->driver->err_handler : NULL;
}

/*
 * reset_prepare() after a fatal error (@host_resetting): the host is
 * resetting the function's link now, and on the host an access to the
 * function waits until that reset is over (vfio-pci's config accesses
 * wait for the reset; BAR accesses then wait for vfio to restore the
 * BARs): hundreds of ms, where on bare metal the same access fails at
 * once on a link that is down.  Drivers stop a frozen function with a
 * read or two (nvme reads its status register, and config space to see
 * whether the function is present) and by freeing its interrupt vectors.
 * For the length of reset_prepare() the function is marked disconnected,
 * which is what it is until the host's reset ends: the PCI core then
 * fails config accesses and skips the MSI-X hardware, and drivers skip
 * the function (pci_device_is_present() is false).  Its state is lost to
 * the reset in any case, and reinit restores config space.  The PCI core
 * sets perm_failure under the device lock, which is held here: a mark of
 * its own cannot be undone by the frozen put back below.
 */
static void pvr_reset_prepare(struct pci_dev *pdev,
			      const struct pci_error_handlers *eh,
			      bool host_resetting)
{
	host_resetting = host_resetting &&
		cmpxchg(&pdev->error_state, pci_channel_io_frozen,
			pci_channel_io_perm_failure) == pci_channel_io_frozen;
	eh->reset_prepare(pdev);
	if (host_resetting)
		cmpxchg(&pdev->error_state, pci_channel_io_perm_failure,
			pci_channel_io_frozen);
}

/*
 * QUIESCE: stop the driver before (planned) or after (error) a reset, by
 * the best method the driver offers.  The method is kept for REINIT.
 */
static void pvr_quiesce(struct pvr_ctx *ctx, const struct pvr_queued *q,
			bool planned)
{
	struct pci_dev *pdev = ctx->pdev;
	const struct pci_error_handlers *eh;
	bool bound;

	ctx->planned = planned;
	ctx->released = false;
	ctx->vote = PCI_ERS_RESULT_NONE;

	device_lock(&pdev->dev);
	/* No reset through the PCI core while quiesced (see above). */
	pvr_hide_reset(ctx);
	/* Before a planned reset the device still works: keep its state. */
	if (planned)
		pvr_snapshot(ctx);
	else
		cmpxchg(&pdev->error_state, pci_channel_io_normal,
			pci_channel_io_frozen);
	eh = pvr_eh(pdev);
	bound = pdev->driver;
	ctx->drv = pdev->driver;
	if (eh && eh->reset_prepare) {
		ctx->method = VIRTIO_PVRECOVER_M_RESET_HOOKS;
		trace_pvrecover_callback_start(pdev, &q->n, PVR_CB_RESET_PREPARE, 0);
		pvr_reset_prepare(pdev, eh, !planned &&
				  q->n.type == VIRTIO_PVRECOVER_N_ERROR_DETECTED);
		trace_pvrecover_callback_finish(pdev, &q->n, PVR_CB_RESET_PREPARE, 0);
	} else if (eh && eh->error_detected) {
		ctx->method = VIRTIO_PVRECOVER_M_AER;
		trace_pvrecover_callback_start(pdev, &q->n, PVR_CB_ERROR_DETECTED, 0);
		ctx->vote = eh->error_detected(pdev, planned ?
					       pci_channel_io_normal :
					       pci_channel_io_frozen);
		trace_pvrecover_callback_finish(pdev, &q->n, PVR_CB_ERROR_DETECTED,
						(__force int)ctx->vote);
	} else {
		ctx->method = VIRTIO_PVRECOVER_M_REPROBE;
	}
	device_unlock(&pdev->dev);

	pvr_uevent(pdev, PVR_UEV_BEGIN);

	/*
	 * Without callbacks a planned reset unbinds the driver now, while
	 * the device works.  After an error the device may already be reset
	 * and a remove() against it could spin: unbind at REINIT instead,
	 * once config space is back.
	 */
	if (ctx->method == VIRTIO_PVRECOVER_M_REPROBE && planned && bound) {
		trace_pvrecover_callback_start(pdev, &q->n, PVR_CB_UNBIND, 0);
		device_release_driver(&pdev->dev);
		trace_pvrecover_callback_finish(pdev, &q->n, PVR_CB_UNBIND, 0);
		ctx->released = true;
	}
}

/* REPROBE: unbind the driver if still bound, then probe again. */
static enum pvr_outcome pvr_reprobe(struct pvr_ctx *ctx,
				    const struct pvr_queued *q)
{
	struct pci_dev *pdev = ctx->pdev;
	int ret;

	if (!ctx->released && READ_ONCE(pdev->dev.driver)) {
		trace_pvrecover_callback_start(pdev, &q->n, PVR_CB_UNBIND, 0);
		device_release_driver(&pdev->dev);
		trace_pvrecover_callback_finish(pdev, &q->n, PVR_CB_UNBIND, 0);
	}
	ctx->released = false;
	trace_pvrecover_callback_start(pdev, &q->n, PVR_CB_PROBE, 0);
	ret = device_attach(&pdev->dev);
	trace_pvrecover_callback_finish(pdev, &q->n, PVR_CB_PROBE, ret);
	return ret > 0 ? PVR_OUT_OK : PVR_OUT_FAILED;
}

/*
 * The second half of the AER callbacks: slot_reset(), then resume() if
 * the driver recovered.  Called with the device lock held.
 */
static enum pvr_outcome pvr_slot_reset_resume(struct pci_dev *pdev,
					      const struct pci_error_handlers *eh,
					      const struct pvr_queued *q)
{
	pci_ers_result_t vote;

	if (eh->slot_reset) {
		trace_pvrecover_callback_start(pdev, &q->n, PVR_CB_SLOT_RESET, 0);
		vote = eh->slot_reset(pdev);
		trace_pvrecover_callback_finish(pdev, &q->n, PVR_CB_SLOT_RESET,
						(__force int)vote);
		if (vote != PCI_ERS_RESULT_RECOVERED)
			return PVR_OUT_FAILED;
	}
	if (eh->resume) {
		trace_pvrecover_callback_start(pdev, &q->n, PVR_CB_RESUME, 0);
		eh->resume(pdev);
		trace_pvrecover_callback_finish(pdev, &q->n, PVR_CB_RESUME, 0);
	}
	return PVR_OUT_OK;
}

/*
 * REINIT: restore config space, then bring the driver back by the method
 * used at quiesce.  *method gets the method actually used.
 */
static enum pvr_outcome pvr_reinit(struct pvr_ctx *ctx,
				   const struct pvr_queued *q, u16 *method)
{
	struct pci_dev *pdev = ctx->pdev;
	const struct pci_error_handlers *eh;
	enum pvr_outcome out = PVR_OUT_OK;

	*method = ctx->method;
	device_lock(&pdev->dev);
	if (!pvr_restore_config(ctx)) {
		/* Disconnected meanwhile: its removal takes the driver away. */
		device_unlock(&pdev->dev);
		pvr_log(pdev, q, "disconnected");
		*method = VIRTIO_PVRECOVER_M_NONE;
		return PVR_OUT_FAILED;
	}
	/* Only the driver that was quiesced gets the matching callbacks. */
	eh = pdev->driver == ctx->drv ? pvr_eh(pdev) : NULL;
	switch (ctx->method) {
	case VIRTIO_PVRECOVER_M_RESET_HOOKS:
		if (!eh || !eh->reset_done) {
			/* The driver went away or changed meanwhile. */
			*method = VIRTIO_PVRECOVER_M_NONE;
			break;
		}
		trace_pvrecover_callback_start(pdev, &q->n, PVR_CB_RESET_DONE, 0);
		eh->reset_done(pdev);
		trace_pvrecover_callback_finish(pdev, &q->n, PVR_CB_RESET_DONE, 0);
		break;
	case VIRTIO_PVRECOVER_M_AER:
		if (!eh || !eh->error_detected) {
			*method = VIRTIO_PVRECOVER_M_NONE;
			break;
		}
		if (ctx->vote == PCI_ERS_RESULT_DISCONNECT ||
		    ctx->vote == PCI_ERS_RESULT_NO_AER_DRIVER) {
			/* The driver gave up in error_detected(). */
			out = PVR_OUT_FAILED;
			break;
		}
		out = pvr_slot_reset_resume(pdev, eh, q);
		break;
	default:
		break;
	}
	device_unlock(&pdev->dev);

	if (ctx->method == VIRTIO_PVRECOVER_M_REPROBE)
		out = pvr_reprobe(ctx, q);
	return out;
}

/*
 * A non-fatal error whose driver voted NEED_RESET: reset the function from
 * the guest, as the PCI core's AER recovery resets below the port, then
 * slot_reset() and resume().  In a VM the reset goes through the
 * hypervisor's emulation of FLR or bus reset, so the host stays in charge
 * of the real device.  Called without the device lock:
 * pci_reset_function() takes it, saves and restores config space.
 */
static enum pvr_outcome pvr_nonfatal_reset(struct pvr_ctx *ctx,
					   const struct pvr_queued *q)
{
	struct pci_dev *pdev = ctx->pdev;
	const struct pci_error_handlers *eh;
	enum pvr_outcome out = PVR_OUT_OK;
	int err;

	trace_pvrecover_callback_start(pdev, &q->n, PVR_CB_RESET_FUNCTION, 0);
	err = pci_reset_function(pdev);
	trace_pvrecover_callback_finish(pdev, &q->n, PVR_CB_RESET_FUNCTION, err);
	if (err) {
		/* Stay quiesced: the host's RESET_DONE completes this. */
		pvr_log(pdev, q, "no reset method (%d), waiting for the host",
			err);
		return PVR_OUT_NEED_RESET;
	}

	device_lock(&pdev->dev);
	eh = pdev->driver == ctx->drv ? pvr_eh(pdev) : NULL;
	if (eh)
		out = pvr_slot_reset_resume(pdev, eh, q);
	device_unlock(&pdev->dev);
	return out;
}

/* NONFATAL: the device kept its state; run the AER non-fatal sequence. */
static enum pvr_outcome pvr_nonfatal(struct pvr_ctx *ctx,
				     const struct pvr_queued *q, u16 *method)
{
	struct pci_dev *pdev = ctx->pdev;
	const struct pci_error_handlers *eh;
	enum pvr_outcome out = PVR_OUT_OK;
	pci_ers_result_t vote;

	*method = VIRTIO_PVRECOVER_M_NONE;
	device_lock(&pdev->dev);
	eh = pvr_eh(pdev);
	if (eh && eh->error_detected) {
		*method = VIRTIO_PVRECOVER_M_AER;
		trace_pvrecover_callback_start(pdev, &q->n, PVR_CB_ERROR_DETECTED, 0);
		vote = eh->error_detected(pdev, pci_channel_io_normal);
		trace_pvrecover_callback_finish(pdev, &q->n, PVR_CB_ERROR_DETECTED,
						(__force int)vote);
		if (vote == PCI_ERS_RESULT_CAN_RECOVER && eh->mmio_enabled) {
			trace_pvrecover_callback_start(pdev, &q->n,
						       PVR_CB_MMIO_ENABLED, 0);
			vote = eh->mmio_enabled(pdev);
			trace_pvrecover_callback_finish(pdev, &q->n,
							PVR_CB_MMIO_ENABLED,
							(__force int)vote);
		}
		if (vote == PCI_ERS_RESULT_NEED_RESET) {
			out = PVR_OUT_NEED_RESET;
			/* For the REINIT of a later RESET_DONE. */
			ctx->method = VIRTIO_PVRECOVER_M_AER;
			ctx->drv = pdev->driver;
			ctx->vote = vote;
			ctx->released = false;
		} else if (vote == PCI_ERS_RESULT_DISCONNECT ||
			   vote == PCI_ERS_RESULT_NO_AER_DRIVER) {
			out = PVR_OUT_FAILED;
		} else if (eh->resume) {
			trace_pvrecover_callback_start(pdev, &q->n, PVR_CB_RESUME,
						       0);
			eh->resume(pdev);
			trace_pvrecover_callback_finish(pdev, &q->n, PVR_CB_RESUME,
							0);
		}
	}
	device_unlock(&pdev->dev);

	if (out == PVR_OUT_NEED_RESET) {
		pvr_uevent(pdev, PVR_UEV_BEGIN);
		out = pvr_nonfatal_reset(ctx, q);
		if (out == PVR_OUT_NEED_RESET) {
			device_lock(&pdev->dev);
			pvr_hide_reset(ctx);
			device_unlock(&pdev->dev);
			return out;
		}
	}
	if (*method == VIRTIO_PVRECOVER_M_AER)
		pvr_uevent(pdev, out == PVR_OUT_OK ? PVR_UEV_SUCCESS :
						     PVR_UEV_FAILED);
	return out;
}

/* OFFLINE: permanent failure; tell the driver and detach it. */
static void pvr_offline(struct pvr_ctx *ctx, const struct pvr_queued *q,
			u16 *method)
{
	struct pci_dev *pdev = ctx->pdev;
	const struct pci_error_handlers *eh;
	pci_ers_result_t vote;
	bool bound;

	*method = VIRTIO_PVRECOVER_M_NONE;
	device_lock(&pdev->dev);
	pdev->error_state = pci_channel_io_perm_failure;
	ctx->perm_ours = true;
	eh = pvr_eh(pdev);
	if (eh && eh->error_detected) {
		*method = VIRTIO_PVRECOVER_M_AER;
		trace_pvrecover_callback_start(pdev, &q->n, PVR_CB_ERROR_DETECTED, 0);
		vote = eh->error_detected(pdev, pci_channel_io_perm_failure);
		trace_pvrecover_callback_finish(pdev, &q->n, PVR_CB_ERROR_DETECTED,
						(__force int)vote);
	}
	bound = pdev->driver;
	device_unlock(&pdev->dev);

	if (bound) {
		trace_pvrecover_callback_start(pdev, &q->n, PVR_CB_UNBIND, 0);
		device_release_driver(&pdev->dev);
		trace_pvrecover_callback_finish(pdev, &q->n, PVR_CB_UNBIND, 0);
	}
	ctx->released = true;
	pvr_uevent(pdev, PVR_UEV_FAILED);
}

/* Keep the device runtime-active while recovering it (see pvr_ctx.pm_held). */
static void pvr_pm_hold(struct pvr_ctx *ctx)
{
	if (!ctx->pm_held) {
		pm_runtime_get_sync(&ctx->pdev->dev);
		ctx->pm_held = true;
	}
}

static void pvr_pm_release(struct pvr_ctx *ctx)
{
	if (ctx->pm_held) {
		pm_runtime_put(&ctx->pdev->dev);
		ctx->pm_held = false;
	}
}

/*
 * The kernel log keeps one line per recovery, rate limited, and every
 * failure; every answer is traced (pvrecover_notice_answered).
 */
static void pvr_log_final(struct pci_dev *pdev, const struct pvr_queued *q,
			  u16 status, u16 method, u32 us)
{
	const char *m = pvr_method_name(method);

	switch (status) {
	case VIRTIO_PVRECOVER_S_RECOVERED:
		dev_info_ratelimited(&pdev->dev,
				     "pvrecover: seq %u %s: recovered (%s) in %u us\n",
				     q->n.seq, pvr_notice_name(q->n.type), m,
				     us);
		break;
	case VIRTIO_PVRECOVER_S_FAILED:
		pvr_log(pdev, q, "failed (%s)", m);
		break;
	default:
		break;
	}
}

/* The first half of a notice pair: what quiesces, and starts the timeout. */
static bool pvr_first_half(u16 type)
{
	return type == VIRTIO_PVRECOVER_N_ERROR_DETECTED ||
	       type == VIRTIO_PVRECOVER_N_PREPARE_RESET;
}

/* Queue ctx->work unless it is already.  Called with ctx->lock held. */
static void pvr_ctx_kick(struct pvr_ctx *ctx)
{
	if (!ctx->scheduled) {
		ctx->scheduled = true;
		queue_work(ctx->pv->wq, &ctx->work);
	}
}

/* Out of QUIESCED: reset methods back, runtime PM reference dropped. */
static void pvr_left_quiesced(struct pvr_ctx *ctx)
{
	cancel_delayed_work(&ctx->expire);
	if (ctx->reset_hidden) {
		device_lock(&ctx->pdev->dev);
		pvr_unhide_reset(ctx);
		device_unlock(&ctx->pdev->dev);
	}
	pvr_pm_release(ctx);
}

/* After a re-initialisation: a new snapshot if it worked, and a uevent. */
static void pvr_reinit_done(struct pvr_ctx *ctx, enum pvr_outcome out)
{
	struct pci_dev *pdev = ctx->pdev;

	if (out == PVR_OUT_OK) {
		device_lock(&pdev->dev);
		pvr_snapshot(ctx);
		device_unlock(&pdev->dev);
	}
	pvr_uevent(pdev, out == PVR_OUT_OK ? PVR_UEV_SUCCESS : PVR_UEV_FAILED);
}

/*
 * The quiesce timeout (spec 7.12).  A function QUIESCED waits for the
 * second half of its notice pair, which the host may never send: a notice
 * refused on a full queue or answered BUSY, a planned reset abandoned, a
 * NEED_RESET the host had no reason to act on.  The device promises the
 * second half within quiesce_timeout_ms of the first, so once that much has
 * passed since the driver took the first (later than the device queued
 * it), the driver resumes the function as for STATE_LOST, answering
 * nothing: there is no notice to answer.  A second half that comes later
 * after all finds the function IDLE and is handled as STATE_LOST.
 *
 * @expire only sets expire_due and kicks the context's work, which acts
 * once the notices already queued are handled: a RESET_DONE among them
 * ends the quiesce the ordinary way.
 */
static void pvr_expire_arm(struct pvr_ctx *ctx, u32 ms)
{
	spin_lock(&ctx->lock);
	if (!ctx->expire_off && !ctx->removed)
		mod_delayed_work(ctx->pv->wq, &ctx->expire,
				 msecs_to_jiffies(ms));
	spin_unlock(&ctx->lock);
}

static void pvr_expire_fn(struct work_struct *work)
{
	struct pvr_ctx *ctx = container_of(to_delayed_work(work),
					   struct pvr_ctx, expire);

	spin_lock(&ctx->lock);
	if (!ctx->expire_off && !ctx->removed) {
		ctx->expire_due = true;
		pvr_ctx_kick(ctx);
	}
	spin_unlock(&ctx->lock);
}

/*
 * Leave QUIESCED without a second half: re-initialise as for STATE_LOST,
 * answering nothing (no notice is being handled).  From ctx->work, or at
 * removal once no work runs.
 */
static void pvr_resume(struct pvr_ctx *ctx)
{
	struct pci_dev *pdev = ctx->pdev;
	const struct pvr_queued *q = &ctx->first;
	enum pvr_outcome out;
	u16 method;

	out = pvr_reinit(ctx, q, &method);
	ctx->state = PVR_STATE_IDLE;
	pvr_reinit_done(ctx, out);
	pvr_left_quiesced(ctx);
	pvr_log(pdev, q, "%s (%s) without a second half",
		out == PVR_OUT_OK ? "resumed" : "failed",
		pvr_method_name(method));
}

/* The quiesce timeout fired (see pvr_expire_arm()).  In ctx->work. */
static void pvr_expire(struct pvr_ctx *ctx)
{
	u32 timeout = ctx->pv->quiesce_timeout_ms;
	ktime_t taken;
	s64 waited;

	if (ctx->state != PVR_STATE_QUIESCED)
		return;
	spin_lock(&ctx->lock);
	taken = ctx->first_taken;
	spin_unlock(&ctx->lock);
	waited = ktime_ms_delta(ktime_get(), taken);
	if (waited < timeout) {
		/*
		 * Early: a timer of an earlier quiesce, a first half answered
		 * BUSY since, or jiffies rounding.
		 */
		pvr_expire_arm(ctx, timeout - waited);
		return;
	}
	if (pvr_disconnected(ctx)) {
		/*
		 * The PCI core gave the function up (a failed recovery of its
		 * own, or a surprise removal): no callback into it, but no
		 * holds on it either.
		 */
		pvr_log(ctx->pdev, &ctx->first,
			"disconnected: no longer quiesced");
		ctx->state = PVR_STATE_IDLE;
		pvr_left_quiesced(ctx);
		return;
	}

	pvr_count(ctx->pv, PVR_CNT_QUIESCE_EXPIRED);
	pvr_log(ctx->pdev, &ctx->first,
		"no second half after %lld ms (quiesce timeout %u ms)",
		(long long)waited, timeout);
	pvr_resume(ctx);
}

/* Carry out one notice for a context and answer it.  Runs in ctx->work. */
static void pvr_handle(struct pvr_ctx *ctx, const struct pvr_queued *q)
{
	struct pci_dev *pdev = ctx->pdev;
	enum pvr_outcome out = PVR_OUT_OK;
	u16 method = VIRTIO_PVRECOVER_M_NONE;
	struct pvr_step step;
	unsigned int in = 0;
	bool removed;
	u16 status;
	u32 us;

	spin_lock(&ctx->lock);
	removed = ctx->removed;
	spin_unlock(&ctx->lock);
	if (removed || pvr_disconnected(ctx)) {
		/*
		 * Removed since the notice was queued, or marked gone by the
		 * PCI core (its removal follows): nothing to recover, and
		 * the function is not touched.
		 */
		status = VIRTIO_PVRECOVER_S_UNKNOWN_DEVICE;
		us = pvr_elapsed_us(q->start);
		pvr_log_final(pdev, q, status, method, us);
		pvr_send_ack(ctx->pv, pdev, &q->n, status, method, us);
		return;
	}

	if (ctx->pv->planned_ok)
		in |= PVR_IN_PLANNED_OK;
	if (READ_ONCE(pdev->driver))
		in |= PVR_IN_HAS_DRIVER;
	if (pvr_transition(ctx->state, q->n.type, q->n.flags, in, &step)) {
		/* Cannot happen: ctx->state is always in range. */
		step.action = PVR_ACT_NONE;
		step.next = PVR_STATE_IDLE;
		step.status = VIRTIO_PVRECOVER_S_FAILED;
	}

	if (step.action != PVR_ACT_NONE)
		pvr_pm_hold(ctx);

	switch (step.action) {
	case PVR_ACT_NONE:
		break;
	case PVR_ACT_QUIESCE_ERROR:
	case PVR_ACT_QUIESCE_PLANNED:
		pvr_quiesce(ctx, q, step.action == PVR_ACT_QUIESCE_PLANNED);
		method = ctx->method;
		break;
	case PVR_ACT_NONFATAL:
		out = pvr_nonfatal(ctx, q, &method);
		break;
	case PVR_ACT_FULL:
		pvr_quiesce(ctx, q, false);
		out = pvr_reinit(ctx, q, &method);
		break;
	case PVR_ACT_REINIT:
		out = pvr_reinit(ctx, q, &method);
		break;
	case PVR_ACT_REPROBE:
		/* The driver was detached when the device went offline. */
		ctx->method = VIRTIO_PVRECOVER_M_REPROBE;
		ctx->released = true;
		out = pvr_reinit(ctx, q, &method);
		break;
	case PVR_ACT_OFFLINE:
		pvr_offline(ctx, q, &method);
		break;
	case PVR_ACT_RESTORE:
		device_lock(&pdev->dev);
		pvr_restore_config(ctx);
		device_unlock(&pdev->dev);
		break;
	default:
		break;
	}

	status = pvr_step_status(&step, out);
	ctx->state = pvr_step_next(&step, out);

	if (step.action == PVR_ACT_FULL || step.action == PVR_ACT_REINIT ||
	    step.action == PVR_ACT_REPROBE)
		pvr_reinit_done(ctx, out);
	if (ctx->state == PVR_STATE_QUIESCED && pvr_first_half(q->n.type)) {
		/* A first half (again): the quiesce timeout starts over. */
		ctx->first = *q;
		pvr_expire_arm(ctx, ctx->pv->quiesce_timeout_ms);
	}
	if (ctx->state != PVR_STATE_QUIESCED)
		pvr_left_quiesced(ctx);

	us = pvr_elapsed_us(q->start);
	pvr_log_final(pdev, q, status, method, us);
	pvr_send_ack(ctx->pv, pdev, &q->n, status, method, us);
}

/*
 * Called with pv->ctx_lock held and ctx->work neither queued nor running,
 * or from ctx->work itself as its last act.
 */
static void pvr_ctx_free(struct pvr_ctx *ctx)
{
	cancel_delayed_work_sync(&ctx->expire);
	list_del(&ctx->node);
	pvr_pm_release(ctx);
	pci_dev_put(ctx->pdev);
	kfree(ctx->snap);
	kfree(ctx);
}

static void pvr_ctx_work(struct work_struct *work)
{
	struct pvr_ctx *ctx = container_of(work, struct pvr_ctx, work);
	struct pvr_queued q;
	bool snap, gone;

	spin_lock(&ctx->lock);
	snap = ctx->want_snapshot;
	ctx->want_snapshot = false;
	spin_unlock(&ctx->lock);
	if (snap) {
		device_lock(&ctx->pdev->dev);
		pvr_snapshot(ctx);
		device_unlock(&ctx->pdev->dev);
	}

	for (;;) {
		spin_lock(&ctx->lock);
		if (!ctx->count && ctx->expire_due && !ctx->removed) {
			ctx->expire_due = false;
			spin_unlock(&ctx->lock);
			pvr_expire(ctx);
			continue;
		}
		if (!ctx->count) {
			ctx->expire_due = false;
			ctx->scheduled = false;
			gone = ctx->gone;
			spin_unlock(&ctx->lock);
			/*
			 * Off the bus, and the notifier left it to us: nobody
			 * queues on a removed context, so this is the end.
			 */
			if (gone) {
				mutex_lock(&ctx->pv->ctx_lock);
				pvr_ctx_free(ctx);
				mutex_unlock(&ctx->pv->ctx_lock);
			}
			return;
		}
		q = ctx->queue[ctx->head];
		ctx->head = (ctx->head + 1) % PVR_CTX_QUEUE_LEN;
		ctx->count--;
		spin_unlock(&ctx->lock);

		pvr_handle(ctx, &q);
	}
}

/* Called with pv->ctx_lock held. */
static struct pvr_ctx *pvr_ctx_find(struct pvr_dev *pv, struct pci_dev *pdev)
{
	struct pvr_ctx *ctx;

	list_for_each_entry(ctx, &pv->ctxs, node)
		if (ctx->pdev == pdev)
			return ctx;
	return NULL;
}

/* Find or create the context of @pdev.  Called with pv->ctx_lock held. */
static struct pvr_ctx *pvr_ctx_get(struct pvr_dev *pv, struct pci_dev *pdev,
				   gfp_t gfp)
{
	struct pvr_ctx *ctx = pvr_ctx_find(pv, pdev);

	if (ctx)
		return ctx;
	ctx = kzalloc(sizeof(*ctx), gfp);
	if (!ctx)
		return NULL;
	ctx->pv = pv;
	ctx->pdev = pci_dev_get(pdev);
	ctx->state = PVR_STATE_IDLE;
	ctx->vote = PCI_ERS_RESULT_NONE;
	spin_lock_init(&ctx->lock);
	INIT_WORK(&ctx->work, pvr_ctx_work);
	INIT_DELAYED_WORK(&ctx->expire, pvr_expire_fn);
	list_add_tail(&ctx->node, &pv->ctxs);
	return ctx;
}

/*
 * Queue @q on @ctx unless the function is being removed.  Called with
 * pv->ctx_lock held.  Returns 0 (queued), or the status to answer with.
 */
static u16 pvr_ctx_queue(struct pvr_ctx *ctx, const struct pvr_queued *q)
{
	u16 status = 0;

	spin_lock(&ctx->lock);
	/* The quiesce timeout counts from it, answered BUSY or not. */
	if (pvr_first_half(q->n.type))
		ctx->first_taken = q->start;
	if (ctx->removed) {
		status = VIRTIO_PVRECOVER_S_UNKNOWN_DEVICE;
	} else if (ctx->count < PVR_CTX_QUEUE_LEN) {
		ctx->queue[(ctx->head + ctx->count) % PVR_CTX_QUEUE_LEN] = *q;
		ctx->count++;
		pvr_ctx_kick(ctx);
	} else {
		status = VIRTIO_PVRECOVER_S_BUSY;
	}
	spin_unlock(&ctx->lock);
	return status;
}

/**
 * pvr_dispatch() - hand a valid notice to its function's context
 * @pv: the pvrecover device.
 * @n: the notice, well-formed and of a known type.
 * @start: when it was taken off the notice queue.
 * @idx: its place in the order notices were taken off the queue.
 *
 * Resolves the address and queues the notice on the function's context,
 * whose work carries it out and answers it.  Answers at once when the
 * address names no function, a function being removed or one the guest
 * added after the device wrote the notice (UNKNOWN_DEVICE), names the
 * function carrying pvrecover itself (FAILED: recovering it would mean
 * resetting the channel the notice came on) or when the context's queue
 * is full (BUSY).  The address is resolved and the context looked up under
 * ctx_lock, as the bus notifier marks removals and additions (see the top
 * of this file).  Called from the rx work.
 */
void pvr_dispatch(struct pvr_dev *pv, const struct pvr_notice *n,
		  ktime_t start, u64 idx)
{
	struct pvr_queued q = { .n = *n, .start = start };
	u16 status = VIRTIO_PVRECOVER_S_UNKNOWN_DEVICE;
	struct pvr_ctx *ctx;
	struct pci_dev *pdev;
	unsigned int delay;
	bool stale = false;

	mutex_lock(&pv->ctx_lock);
	pdev = pvr_resolve(n);
	trace_pvrecover_notice_received(pdev, n);
	if (pdev && pdev == pv->self) {
		status = VIRTIO_PVRECOVER_S_FAILED;
	} else if (pdev) {
		delay = READ_ONCE(test_dispatch_delay_ms);
		if (delay) {
			pvr_log(pdev, &q, "dispatch delayed %u ms (test)", delay);
			msleep(delay);
		}
		/*
		 * Every function has a context from its BUS_NOTIFY_ADD_DEVICE
		 * (or from pvr_recover_init()) on.  Without one it is being
		 * added, and a notice written before it was added, or with
		 * one born later than the notice, is not about it (7.8).
		 */
		ctx = pvr_ctx_find(pv, pdev);
		stale = !ctx || idx < ctx->born;
		if (!stale)
			status = pvr_ctx_queue(ctx, &q);
	}
	mutex_unlock(&pv->ctx_lock);

	if (stale) {
		pvr_count(pv, PVR_CNT_STALE);
		dev_info_ratelimited(&pdev->dev,
				     "pvrecover: seq %u %s: unknown-device (written before this function was added)\n",
				     n->seq, pvr_notice_name(n->type));
	}

	switch (status) {
	case 0:
		break;
	case VIRTIO_PVRECOVER_S_FAILED:
		dev_warn_ratelimited(&pdev->dev,
				     "pvrecover: seq %u %s: refusing to recover the device carrying pvrecover\n",
				     n->seq, pvr_notice_name(n->type));
		pvr_log(pdev, &q, "failed (%s)",
			pvr_method_name(VIRTIO_PVRECOVER_M_NONE));
		break;
	default:
		if (stale)
			break;
		if (pdev)
			dev_info_ratelimited(&pdev->dev,
					     "pvrecover: seq %u %s: %s\n", n->seq,
					     pvr_notice_name(n->type),
					     pvr_status_name(status));
		else
			dev_info_ratelimited(&pv->vdev->dev,
					     "pvrecover: seq %u %s: %s\n", n->seq,
					     pvr_notice_name(n->type),
					     pvr_status_name(status));
		break;
	}
	if (status)
		pvr_send_ack(pv, pdev, n, status, VIRTIO_PVRECOVER_M_NONE,
			     pvr_elapsed_us(start));
	pci_dev_put(pdev);
}

static int pvr_bus_notify(struct notifier_block *nb, unsigned long action,
			  void *data)
{
	struct pvr_dev *pv = container_of(nb, struct pvr_dev, nb);
	struct pci_dev *pdev = to_pci_dev(data);
	struct pvr_ctx *ctx;
	bool idle;
	u64 mark;

	if (pdev == pv->self)
		return NOTIFY_DONE;

	switch (action) {
	case BUS_NOTIFY_ADD_DEVICE:
		/*
		 * A notice the device wrote before now is about whatever was
		 * at this address before (spec 7.8): mark where the notices
		 * written since begin.  Until the context exists,
		 * pvr_dispatch() answers notices about the function
		 * UNKNOWN_DEVICE.  Small and rare enough not to fail, as the
		 * tombstone below.
		 */
		mark = pvr_notices_mark(pv);
		mutex_lock(&pv->ctx_lock);
		ctx = pvr_ctx_get(pv, pdev, GFP_KERNEL | __GFP_NOFAIL);
		ctx->born = mark;
		mutex_unlock(&pv->ctx_lock);
		break;
	case BUS_NOTIFY_BOUND_DRIVER:
		/* The driver core holds the device lock here. */
		mutex_lock(&pv->ctx_lock);
		ctx = pvr_ctx_get(pv, pdev, GFP_KERNEL);
		if (ctx) {
			pvr_snapshot(ctx);
			/*
			 * A driver bound now was not quiesced, even if it is
			 * the same pci_driver again (an unbind and a bind):
			 * it gets no callback meant for the one that was.
			 */
			ctx->drv = NULL;
		}
		mutex_unlock(&pv->ctx_lock);
		break;
	case BUS_NOTIFY_DEL_DEVICE:
		/*
		 * Removal has begun; pvr_resolve() still finds the function
		 * until it is off the bus, so the mark must be there for
		 * pvr_dispatch() to see: a tombstone if there was no context.
		 * Small and rare enough not to fail.
		 */
		mutex_lock(&pv->ctx_lock);
		ctx = pvr_ctx_get(pv, pdev, GFP_KERNEL | __GFP_NOFAIL);
		spin_lock(&ctx->lock);
		ctx->removed = true;
		spin_unlock(&ctx->lock);
		mutex_unlock(&pv->ctx_lock);
		break;
	case BUS_NOTIFY_REMOVED_DEVICE:
		/* Off the bus: the context goes, now or when its work ends. */
		mutex_lock(&pv->ctx_lock);
		ctx = pvr_ctx_find(pv, pdev);
		if (ctx) {
			spin_lock(&ctx->lock);
			ctx->removed = true;
			ctx->gone = true;
			idle = !ctx->scheduled;
			spin_unlock(&ctx->lock);
			if (idle)
				pvr_ctx_free(ctx);
		}
		mutex_unlock(&pv->ctx_lock);
		break;
	default:
		break;
	}
	return NOTIFY_DONE;
}

/*
 * A system suspend while a function is QUIESCED is refused: its driver's
 * suspend callback would meet a function it was told to leave alone (see
 * the quiesced window above).  The state is read without the work's
 * serialisation: a quiesce that starts after this check is not seen.
 */
static int pvr_pm_notify(struct notifier_block *nb, unsigned long action,
			 void *data)
{
	struct pvr_dev *pv = container_of(nb, struct pvr_dev, pm_nb);
	struct pvr_ctx *ctx;
	int ret = NOTIFY_DONE;

	if (action != PM_SUSPEND_PREPARE && action != PM_HIBERNATION_PREPARE)
		return NOTIFY_DONE;
	mutex_lock(&pv->ctx_lock);
	list_for_each_entry(ctx, &pv->ctxs, node) {
		if (READ_ONCE(ctx->state) == PVR_STATE_QUIESCED &&
		    !ctx->removed) {
			dev_warn(&ctx->pdev->dev,
				 "pvrecover: quiesced, waiting for reset-done: refusing to suspend\n");
			ret = notifier_from_errno(-EBUSY);
			break;
		}
	}
	mutex_unlock(&pv->ctx_lock);
	return ret;
}

/**
 * pvr_recover_init() - start watching PCI functions
 * @pv: the pvrecover device.
 *
 * Registers the PCI bus notifier (contexts for functions added, config
 * space snapshots when a driver binds, contexts dropped when a function
 * goes away) and creates a context for every function present, each
 * taking a first snapshot from its work.  A function without a context
 * would have every notice refused.
 *
 * Return: 0 or a negative errno (then nothing is left registered).
 */
int pvr_recover_init(struct pvr_dev *pv)
{
	struct pci_dev *pdev = NULL;
	struct pvr_ctx *ctx;
	int err;

	pv->nb.notifier_call = pvr_bus_notify;
	err = bus_register_notifier(&pci_bus_type, &pv->nb);
	if (err)
		return err;
	pv->pm_nb.notifier_call = pvr_pm_notify;
	err = register_pm_notifier(&pv->pm_nb);
	if (err) {
		bus_unregister_notifier(&pci_bus_type, &pv->nb);
		return err;
	}

	/*
	 * Under ctx_lock, as in pvr_dispatch(): a function found here gets
	 * its BUS_NOTIFY_REMOVED_DEVICE after its context exists.
	 */
	mutex_lock(&pv->ctx_lock);
	for_each_pci_dev(pdev) {
		if (pdev == pv->self)
			continue;
		ctx = pvr_ctx_get(pv, pdev, GFP_KERNEL);
		if (!ctx) {
			/* Notices about it would be refused (pvr_dispatch()). */
			pci_dev_put(pdev);
			err = -ENOMEM;
			break;
		}
		spin_lock(&ctx->lock);
		ctx->want_snapshot = true;
		pvr_ctx_kick(ctx);
		spin_unlock(&ctx->lock);
	}
	mutex_unlock(&pv->ctx_lock);
	if (err)
		pvr_recover_exit(pv);
	return err;
}

/**
 * pvr_recover_stop() - drop queued notices and wait for work in progress
 * @pv: the pvrecover device, already stopped: no callbacks, rx work
 *	cancelled.
 *
 * Notices not yet started are dropped unanswered (the device was reset);
 * a notice being carried out finishes.  Contexts keep their state.
 */
void pvr_recover_stop(struct pvr_dev *pv)
{
	unsigned int dropped = 0;
	struct pvr_ctx *ctx;

	mutex_lock(&pv->ctx_lock);
	list_for_each_entry(ctx, &pv->ctxs, node) {
		spin_lock(&ctx->lock);
		dropped += ctx->count;
		ctx->count = 0;
		spin_unlock(&ctx->lock);
	}
	mutex_unlock(&pv->ctx_lock);
	if (dropped)
		dev_info(&pv->vdev->dev,
			 "pvrecover: dropped %u queued notices\n", dropped);

	flush_workqueue(pv->wq);
}

/**
 * pvr_recover_exit() - stop watching PCI functions and free all contexts
 * @pv: the pvrecover device, stopped with pvr_recover_stop().
 */
void pvr_recover_exit(struct pvr_dev *pv)
{
	struct pvr_ctx *ctx, *tmp;

	unregister_pm_notifier(&pv->pm_nb);
	bus_unregister_notifier(&pci_bus_type, &pv->nb);
	/* No quiesce timeout may kick a context's work from now on. */
	mutex_lock(&pv->ctx_lock);
	list_for_each_entry(ctx, &pv->ctxs, node) {
		spin_lock(&ctx->lock);
		ctx->expire_off = true;
		spin_unlock(&ctx->lock);
		cancel_delayed_work_sync(&ctx->expire);
	}
	mutex_unlock(&pv->ctx_lock);
	flush_workqueue(pv->wq);

	/*
	 * A function left QUIESCED would wait for a second half that no
	 * driver takes: the next driver starts it IDLE (spec 7.9).  Resume it
	 * now.  The notifiers are gone and no work runs, so the list and the
	 * contexts are ours; no ctx_lock, which reinit's device lock precedes.
	 */
	list_for_each_entry(ctx, &pv->ctxs, node) {
		if (ctx->state != PVR_STATE_QUIESCED || ctx->removed ||
		    !device_is_registered(&ctx->pdev->dev) ||
		    pvr_disconnected(ctx))
			continue;
		pvr_log(ctx->pdev, &ctx->first, "driver removed while quiesced");
		pvr_resume(ctx);
	}

	mutex_lock(&pv->ctx_lock);
	list_for_each_entry_safe(ctx, tmp, &pv->ctxs, node) {
		if (ctx->state != PVR_STATE_IDLE && !ctx->removed)
			dev_warn(&ctx->pdev->dev,
				 "pvrecover: left %s at unload\n",
				 pvr_state_name(ctx->state));
		/*
		 * Without the device lock, which is taken before ctx_lock;
		 * the PCI core writes reset methods without it too.
		 */
		if (!ctx->removed)
			pvr_unhide_reset(ctx);
		if (!ctx->removed && !device_is_registered(&ctx->pdev->dev))
			dev_warn(&ctx->pdev->dev,
				 "pvrecover: context of a removed function held until unload\n");
		pvr_ctx_free(ctx);
	}
	mutex_unlock(&pv->ctx_lock);
}
