/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tracepoints of vhost-recover.ko: every notice queued, sent, answered,
 * timed out or dropped, so that a recovery can be followed with tracefs,
 * perf or trace-cmd without any log line (the kernel log keeps one line
 * per host recovery or planned reset, rate limited, and the failures).
 * Enable with "echo 1 > /sys/kernel/tracing/events/vhost_recover/enable".
 *
 * Each event names the host's PCI function (bdf), the notice's seq and
 * type; types, flags, statuses and methods are printed by name, as in the
 * protocol (spec/pv-recovery.txt) and QMP.  The tests read these events
 * (tests/harness/pvr.py, TRACE_LINE): keep the "key=value" output.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM vhost_recover

#ifndef _VHOST_RECOVER_TRACE_DEFS_H
#define _VHOST_RECOVER_TRACE_DEFS_H

#include <linux/string.h>
#include <linux/tracepoint.h>

#include "recover.h"

#define VREC_TRACE_BDF_LEN	16

/**
 * enum vrec_drop_reason - why a notice never reached, or was never
 *	answered by, the guest
 * @VREC_DROP_QUEUE_FULL: the function's or the file's queue was full; it
 *	never had a seq
 * @VREC_DROP_DETACHED: its function was detached, queued or sent
 */
enum vrec_drop_reason {
	VREC_DROP_QUEUE_FULL,
	VREC_DROP_DETACHED,
};

#define vrec_show_type(t) __print_symbolic(t,				\
	{ VIRTIO_PVRECOVER_N_ERROR_DETECTED, "error-detected" },	\
	{ VIRTIO_PVRECOVER_N_RESET_DONE, "reset-done" },		\
	{ VIRTIO_PVRECOVER_N_STATE_LOST, "state-lost" },		\
	{ VIRTIO_PVRECOVER_N_PERM_FAILURE, "perm-failure" },		\
	{ VIRTIO_PVRECOVER_N_PREPARE_RESET, "prepare-reset" })

#define vrec_show_status(s) __print_symbolic(s,				\
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

#define vrec_show_method(m) __print_symbolic(m,				\
	{ VIRTIO_PVRECOVER_M_NONE, "none" },				\
	{ VIRTIO_PVRECOVER_M_RESET_HOOKS, "reset-hooks" },		\
	{ VIRTIO_PVRECOVER_M_AER, "aer" },				\
	{ VIRTIO_PVRECOVER_M_REPROBE, "reprobe" })

#define vrec_show_drop(r) __print_symbolic(r,				\
	{ VREC_DROP_QUEUE_FULL, "queue-full" },				\
	{ VREC_DROP_DETACHED, "detached" })

#endif /* _VHOST_RECOVER_TRACE_DEFS_H */

#if !defined(_VHOST_RECOVER_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _VHOST_RECOVER_TRACE_H

#include <linux/tracepoint.h>

/*
 * A notice about @bdf queued for the guest: @type as asked, @carried as it
 * will go out.  A notice merged into one still queued (spec 7.5) has that
 * one's @seq, @merged set, and @carried state-lost when reset-done joined
 * its error-detected.
 */
TRACE_EVENT(vhost_recover_notice_queued,
	    TP_PROTO(const char *bdf, u32 seq, u16 type, u16 flags,
		     u32 deadline_ms, u16 carried, bool merged),
	    TP_ARGS(bdf, seq, type, flags, deadline_ms, carried, merged),
	    TP_STRUCT__entry(__array(char, bdf, VREC_TRACE_BDF_LEN)
			     __field(u32, seq)
			     __field(u16, type)
			     __field(u16, flags)
			     __field(u32, deadline_ms)
			     __field(u16, carried)
			     __field(bool, merged)),
	    TP_fast_assign(strscpy(__entry->bdf, bdf, VREC_TRACE_BDF_LEN);
			   __entry->seq = seq;
			   __entry->type = type;
			   __entry->flags = flags;
			   __entry->deadline_ms = deadline_ms;
			   __entry->carried = carried;
			   __entry->merged = merged;),
	    TP_printk("bdf=%s seq=%u type=%s flags=%s deadline_ms=%u merged=%d carried=%s",
		      __entry->bdf, __entry->seq, vrec_show_type(__entry->type),
		      __print_flags(__entry->flags, "|",
				    { VIRTIO_PVRECOVER_NF_FATAL, "fatal" }),
		      __entry->deadline_ms, __entry->merged,
		      vrec_show_type(__entry->carried))
);

DECLARE_EVENT_CLASS(vhost_recover_notice_class,
		    TP_PROTO(const struct vrec_notice *n),
		    TP_ARGS(n),
		    TP_STRUCT__entry(__array(char, bdf, VREC_TRACE_BDF_LEN)
				     __field(u32, seq)
				     __field(u16, type)),
		    TP_fast_assign(strscpy(__entry->bdf, n->host, VREC_TRACE_BDF_LEN);
				   __entry->seq = n->seq;
				   __entry->type = n->type;),
		    TP_printk("bdf=%s seq=%u type=%s", __entry->bdf, __entry->seq,
			      vrec_show_type(__entry->type))
);

/* The notice is in a guest buffer; its answer is awaited. */
DEFINE_EVENT(vhost_recover_notice_class, vhost_recover_notice_sent,
	     TP_PROTO(const struct vrec_notice *n),
	     TP_ARGS(n)
);

/* No answer within ack-timeout-ms of queueing (it may still come: late). */
DEFINE_EVENT(vhost_recover_notice_class, vhost_recover_notice_timed_out,
	     TP_PROTO(const struct vrec_notice *n),
	     TP_ARGS(n)
);

/* A well-formed answer that matches a notice sent (@late: timed out). */
TRACE_EVENT(vhost_recover_notice_answered,
	    TP_PROTO(const struct vrec_notice *n, u16 status, u16 method,
		     u32 guest_us, bool late),
	    TP_ARGS(n, status, method, guest_us, late),
	    TP_STRUCT__entry(__array(char, bdf, VREC_TRACE_BDF_LEN)
			     __field(u32, seq)
			     __field(u16, type)
			     __field(u16, status)
			     __field(u16, method)
			     __field(u32, guest_us)
			     __field(bool, late)),
	    TP_fast_assign(strscpy(__entry->bdf, n->host, VREC_TRACE_BDF_LEN);
			   __entry->seq = n->seq;
			   __entry->type = n->type;
			   __entry->status = status;
			   __entry->method = method;
			   __entry->guest_us = guest_us;
			   __entry->late = late;),
	    TP_printk("bdf=%s seq=%u type=%s status=%s method=%s guest_us=%u late=%d",
		      __entry->bdf, __entry->seq, vrec_show_type(__entry->type),
		      vrec_show_status(__entry->status),
		      vrec_show_method(__entry->method), __entry->guest_us,
		      __entry->late)
);

/* A notice forgotten unanswered (@seq 0: it never had one). */
TRACE_EVENT(vhost_recover_notice_dropped,
	    TP_PROTO(const char *bdf, u32 seq, u16 type,
		     enum vrec_drop_reason reason),
	    TP_ARGS(bdf, seq, type, reason),
	    TP_STRUCT__entry(__array(char, bdf, VREC_TRACE_BDF_LEN)
			     __field(u32, seq)
			     __field(u16, type)
			     __field(u16, reason)),
	    TP_fast_assign(strscpy(__entry->bdf, bdf, VREC_TRACE_BDF_LEN);
			   __entry->seq = seq;
			   __entry->type = type;
			   __entry->reason = reason;),
	    TP_printk("bdf=%s seq=%u type=%s reason=%s", __entry->bdf,
		      __entry->seq, vrec_show_type(__entry->type),
		      vrec_show_drop(__entry->reason))
);

#endif /* _VHOST_RECOVER_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
