/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tracepoints of pvrecover.ko: every notice taken, every driver callback
 * around it and every answer, so that a recovery can be followed with
 * tracefs, perf or trace-cmd without any log line (the kernel log keeps
 * one rate-limited line per recovery and the failures).  Enable with
 * "echo 1 > /sys/kernel/tracing/events/pvrecover/enable".
 *
 * Each event names the PCI function (bdf, "-" when the notice named none),
 * the notice's seq and its type; types, statuses, methods and callbacks are
 * printed by name, as in the protocol (spec/pv-recovery.txt) and QMP.  The
 * tests read these events (tests/harness/pvr.py, TRACE_LINE): keep the
 * "key=value" output.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM pvrecover

#ifndef _PVRECOVER_TRACE_DEFS_H
#define _PVRECOVER_TRACE_DEFS_H

#include <linux/pci.h>
#include <linux/string.h>
#include <linux/tracepoint.h>

#include "notice.h"

/**
 * enum pvr_callback - what pvrecover calls on a function, for the trace
 * @PVR_CB_RESET_PREPARE: the driver's reset_prepare()
 * @PVR_CB_RESET_DONE: the driver's reset_done()
 * @PVR_CB_ERROR_DETECTED: the driver's error_detected()
 * @PVR_CB_MMIO_ENABLED: the driver's mmio_enabled()
 * @PVR_CB_SLOT_RESET: the driver's slot_reset()
 * @PVR_CB_RESUME: the driver's resume()
 * @PVR_CB_UNBIND: device_release_driver()
 * @PVR_CB_PROBE: device_attach()
 * @PVR_CB_RESET_FUNCTION: pci_reset_function()
 */
enum pvr_callback {
	PVR_CB_RESET_PREPARE,
	PVR_CB_RESET_DONE,
	PVR_CB_ERROR_DETECTED,
	PVR_CB_MMIO_ENABLED,
	PVR_CB_SLOT_RESET,
	PVR_CB_RESUME,
	PVR_CB_UNBIND,
	PVR_CB_PROBE,
	PVR_CB_RESET_FUNCTION,
};

#define PVR_TRACE_BDF_LEN	16

#define pvr_show_type(t) __print_symbolic(t,				\
	{ VIRTIO_PVRECOVER_N_ERROR_DETECTED, "error-detected" },	\
	{ VIRTIO_PVRECOVER_N_RESET_DONE, "reset-done" },		\
	{ VIRTIO_PVRECOVER_N_STATE_LOST, "state-lost" },		\
	{ VIRTIO_PVRECOVER_N_PERM_FAILURE, "perm-failure" },		\
	{ VIRTIO_PVRECOVER_N_PREPARE_RESET, "prepare-reset" })

#define pvr_show_status(s) __print_symbolic(s,				\
	{ VIRTIO_PVRECOVER_S_PREPARED, "prepared" },			\
	{ VIRTIO_PVRECOVER_S_RECOVERED, "recovered" },			\
	{ VIRTIO_PVRECOVER_S_FAILED, "failed" },			\
	{ VIRTIO_PVRECOVER_S_NO_DRIVER, "no-driver" },			\
	{ VIRTIO_PVRECOVER_S_UNKNOWN_DEVICE, "unknown-device" },	\
	{ VIRTIO_PVRECOVER_S_UNSUPPORTED, "unsupported" },		\
	{ VIRTIO_PVRECOVER_S_MALFORMED, "malformed" },			\
	{ VIRTIO_PVRECOVER_S_NEED_RESET, "need-reset" },		\
	{ VIRTIO_PVRECOVER_S_OFFLINE, "offline" },			\
	{ VIRTIO_PVRECOVER_S_BUSY, "busy" })

#define pvr_show_method(m) __print_symbolic(m,				\
	{ VIRTIO_PVRECOVER_M_NONE, "none" },				\
	{ VIRTIO_PVRECOVER_M_RESET_HOOKS, "reset-hooks" },		\
	{ VIRTIO_PVRECOVER_M_AER, "aer" },				\
	{ VIRTIO_PVRECOVER_M_REPROBE, "reprobe" })

#define pvr_show_callback(c) __print_symbolic(c,			\
	{ PVR_CB_RESET_PREPARE, "reset_prepare" },			\
	{ PVR_CB_RESET_DONE, "reset_done" },				\
	{ PVR_CB_ERROR_DETECTED, "error_detected" },			\
	{ PVR_CB_MMIO_ENABLED, "mmio_enabled" },			\
	{ PVR_CB_SLOT_RESET, "slot_reset" },				\
	{ PVR_CB_RESUME, "resume" },					\
	{ PVR_CB_UNBIND, "unbind" },					\
	{ PVR_CB_PROBE, "probe" },					\
	{ PVR_CB_RESET_FUNCTION, "reset_function" })

#endif /* _PVRECOVER_TRACE_DEFS_H */

#if !defined(_PVRECOVER_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _PVRECOVER_TRACE_H

#include <linux/tracepoint.h>

/* A notice taken off the notice queue, well-formed, its function found. */
TRACE_EVENT(pvrecover_notice_received,
	    TP_PROTO(const struct pci_dev *pdev, const struct pvr_notice *n),
	    TP_ARGS(pdev, n),
	    TP_STRUCT__entry(__array(char, bdf, PVR_TRACE_BDF_LEN)
			     __field(u32, seq)
			     __field(u16, type)
			     __field(u16, flags)
			     __field(u32, deadline_ms)),
	    TP_fast_assign(strscpy(__entry->bdf, pdev ? pci_name(pdev) : "-", PVR_TRACE_BDF_LEN);
			   __entry->seq = n->seq;
			   __entry->type = n->type;
			   __entry->flags = n->flags;
			   __entry->deadline_ms = n->deadline_ms;),
	    TP_printk("bdf=%s seq=%u type=%s flags=%s deadline_ms=%u",
		      __entry->bdf, __entry->seq, pvr_show_type(__entry->type),
		      __print_flags(__entry->flags, "|",
				    { VIRTIO_PVRECOVER_NF_FATAL, "fatal" }),
		      __entry->deadline_ms)
);

DECLARE_EVENT_CLASS(pvrecover_callback_class,
		    TP_PROTO(const struct pci_dev *pdev, const struct pvr_notice *n,
			     enum pvr_callback cb, int result),
		    TP_ARGS(pdev, n, cb, result),
		    TP_STRUCT__entry(__array(char, bdf, PVR_TRACE_BDF_LEN)
				     __field(u32, seq)
				     __field(u16, type)
				     __field(u16, callback)
				     __field(int, result)),
		    TP_fast_assign(strscpy(__entry->bdf, pci_name(pdev), PVR_TRACE_BDF_LEN);
				   __entry->seq = n->seq;
				   __entry->type = n->type;
				   __entry->callback = cb;
				   __entry->result = result;),
		    TP_printk("bdf=%s seq=%u type=%s callback=%s result=%d",
			      __entry->bdf, __entry->seq, pvr_show_type(__entry->type),
			      pvr_show_callback(__entry->callback), __entry->result)
);

/* About to call @cb for notice @n; @result is always 0. */
DEFINE_EVENT(pvrecover_callback_class, pvrecover_callback_start,
	     TP_PROTO(const struct pci_dev *pdev, const struct pvr_notice *n,
		      enum pvr_callback cb, int result),
	     TP_ARGS(pdev, n, cb, result)
);

/*
 * @cb returned: @result is its pci_ers_result_t (error_detected,
 * mmio_enabled, slot_reset), its return value (probe: device_attach(),
 * reset_function: pci_reset_function()) or 0.
 */
DEFINE_EVENT(pvrecover_callback_class, pvrecover_callback_finish,
	     TP_PROTO(const struct pci_dev *pdev, const struct pvr_notice *n,
		      enum pvr_callback cb, int result),
	     TP_ARGS(pdev, n, cb, result)
);

/* The answer to a notice, as it goes to the ack queue. */
TRACE_EVENT(pvrecover_notice_answered,
	    TP_PROTO(const struct pci_dev *pdev, const struct pvr_notice *n,
		     u16 status, u16 method, u32 guest_us),
	    TP_ARGS(pdev, n, status, method, guest_us),
	    TP_STRUCT__entry(__array(char, bdf, PVR_TRACE_BDF_LEN)
			     __field(u32, seq)
			     __field(u16, type)
			     __field(u16, status)
			     __field(u16, method)
			     __field(u32, guest_us)),
	    TP_fast_assign(strscpy(__entry->bdf, pdev ? pci_name(pdev) : "-", PVR_TRACE_BDF_LEN);
			   __entry->seq = n->seq;
			   __entry->type = n->type;
			   __entry->status = status;
			   __entry->method = method;
			   __entry->guest_us = guest_us;),
	    TP_printk("bdf=%s seq=%u type=%s status=%s method=%s us=%u",
		      __entry->bdf, __entry->seq, pvr_show_type(__entry->type),
		      pvr_show_status(__entry->status),
		      pvr_show_method(__entry->method), __entry->guest_us)
);

#endif /* _PVRECOVER_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
