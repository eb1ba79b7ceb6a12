/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pvrecover: pure protocol logic shared by the guest driver and the
 * userspace unit tests.  Nothing in here may use kernel API beyond basic
 * types, byte order helpers and errno values, so that tests/unit can build
 * notice.c unchanged against tests/unit/kshim.h.
 */
#ifndef _PVRECOVER_NOTICE_H
#define _PVRECOVER_NOTICE_H

#ifdef __KERNEL__
#include <linux/bits.h>
#include <linux/types.h>
#include <linux/errno.h>
#include <asm/byteorder.h>
#else
#include "kshim.h"
#endif

#include <linux/virtio_pvrecover.h>

/* Byte offsets in struct virtio_pvrecover_notice where each field ends. */
#define PVR_NOTICE_END_SEQ	4
#define PVR_NOTICE_END_TYPE	6
#define PVR_NOTICE_END_FLAGS	8
#define PVR_NOTICE_END_ADDR	20
#define PVR_NOTICE_END_DEADLINE	24
#define PVR_NOTICE_SIZE		32
#define PVR_ACK_SIZE		32
#define PVR_ADDR_SIZE		12

/* struct pvr_notice.valid: which fields could be read from the buffer. */
#define PVR_VALID_SEQ		BIT(0)
#define PVR_VALID_TYPE		BIT(1)
#define PVR_VALID_FLAGS		BIT(2)
#define PVR_VALID_ADDR		BIT(3)
#define PVR_VALID_DEADLINE	BIT(4)

/**
 * struct pvr_notice - a notice in CPU byte order
 * @seq: sequence number.
 * @type: notice type as received (enum virtio_pvrecover_notice_type).
 * @flags: VIRTIO_PVRECOVER_NF_* bits as received.
 * @segment: PCI segment of the root bus.
 * @root_bus: number of the root bus.
 * @depth: valid entries in @path.
 * @path: devfn of each hop from the root bus down to the function.
 * @deadline_ms: PREPARE_RESET deadline.
 * @valid: PVR_VALID_* bits: the fields that were present in the buffer.
 */
struct pvr_notice {
	u32 seq;
	u16 type;
	u16 flags;
	u16 segment;
	u8 root_bus;
	u8 depth;
	u8 path[VIRTIO_PVRECOVER_PATH_MAX];
	u32 deadline_ms;
	u32 valid;
};

/**
 * enum pvr_parse_result - outcome of pvr_parse_notice()
 * @PVR_PARSE_OK: well-formed notice of a known type.
 * @PVR_PARSE_SHORT: fewer than 32 bytes were written (malformed).
 * @PVR_PARSE_FLAGS: unknown flag bits are set (malformed).
 * @PVR_PARSE_DEPTH: address depth is 0 or above the maximum (malformed).
 * @PVR_PARSE_PATH: an unused path entry is not zero (malformed).
 * @PVR_PARSE_RESERVED: a reserved field is not zero (malformed).
 * @PVR_PARSE_TYPE: well-formed but of an unknown type (unsupported).
 * @PVR_PARSE_NR: number of results.
 */
enum pvr_parse_result {
	PVR_PARSE_OK,
	PVR_PARSE_SHORT,
	PVR_PARSE_FLAGS,
	PVR_PARSE_DEPTH,
	PVR_PARSE_PATH,
	PVR_PARSE_RESERVED,
	PVR_PARSE_TYPE,
	PVR_PARSE_NR,
};

/**
 * enum pvr_state - per-device recovery state
 * @PVR_STATE_IDLE: the driver runs the device normally.
 * @PVR_STATE_QUIESCED: the driver was quiesced, waiting for RESET_DONE.
 * @PVR_STATE_OFFLINE: permanent failure handled, the driver was detached.
 * @PVR_STATE_NR: number of states.
 */
enum pvr_state {
	PVR_STATE_IDLE,
	PVR_STATE_QUIESCED,
	PVR_STATE_OFFLINE,
	PVR_STATE_NR,
};

/**
 * enum pvr_action - what the guest does for a notice
 * @PVR_ACT_NONE: nothing; answer with the step's status.
 * @PVR_ACT_QUIESCE_ERROR: quiesce the driver after an error.
 * @PVR_ACT_QUIESCE_PLANNED: quiesce the driver for a planned reset.
 * @PVR_ACT_NONFATAL: non-fatal error: error_detected(normal), mmio_enabled,
 *	resume.
 * @PVR_ACT_REINIT: restore config space and re-initialise the driver by the
 *	method used at quiesce.
 * @PVR_ACT_FULL: quiesce (error) and re-initialise in one go.
 * @PVR_ACT_REPROBE: restore config space and probe a driver again (the
 *	device was offline).
 * @PVR_ACT_OFFLINE: tell the driver about a permanent failure and detach it.
 * @PVR_ACT_RESTORE: no driver is bound: only restore config space.
 * @PVR_ACT_NR: number of actions.
 */
enum pvr_action {
	PVR_ACT_NONE,
	PVR_ACT_QUIESCE_ERROR,
	PVR_ACT_QUIESCE_PLANNED,
	PVR_ACT_NONFATAL,
	PVR_ACT_REINIT,
	PVR_ACT_FULL,
	PVR_ACT_REPROBE,
	PVR_ACT_OFFLINE,
	PVR_ACT_RESTORE,
	PVR_ACT_NR,
};

/**
 * enum pvr_outcome - result of carrying out an action
 * @PVR_OUT_OK: the action succeeded.
 * @PVR_OUT_FAILED: the action failed.
 * @PVR_OUT_NEED_RESET: a non-fatal error needs a reset (driver vote) and
 *	the guest could not reset the function itself: the driver stays
 *	quiesced until the host resets it.
 */
enum pvr_outcome {
	PVR_OUT_OK,
	PVR_OUT_FAILED,
	PVR_OUT_NEED_RESET,
};

/* Inputs of pvr_transition() besides the state and the notice. */
#define PVR_IN_PLANNED_OK	BIT(0)	/* F_PLANNED_RESET negotiated */
#define PVR_IN_HAS_DRIVER	BIT(1)	/* a driver is bound */

/**
 * struct pvr_step - one transition of the per-device state machine
 * @action: what to do.
 * @next: state after the action (whatever its outcome).
 * @status: ack status for PVR_ACT_NONE and for actions whose status does
 *	not depend on the outcome; see pvr_step_status().
 */
struct pvr_step {
	enum pvr_action action;
	enum pvr_state next;
	u16 status;
};

enum pvr_parse_result pvr_parse_notice(const struct virtio_pvrecover_notice *raw,
				       u32 len, struct pvr_notice *out);
int pvr_transition(enum pvr_state state, u16 type, u16 flags,
		   unsigned int in, struct pvr_step *step);
u16 pvr_step_status(const struct pvr_step *step, enum pvr_outcome outcome);
enum pvr_state pvr_step_next(const struct pvr_step *step,
			     enum pvr_outcome outcome);
void pvr_encode_ack(struct virtio_pvrecover_ack *ack,
		    const struct pvr_notice *n, u16 status, u16 method,
		    u32 guest_us);

const char *pvr_notice_name(u16 type);
const char *pvr_status_name(u16 status);
const char *pvr_method_name(u16 method);
const char *pvr_state_name(enum pvr_state state);
const char *pvr_action_name(enum pvr_action action);
const char *pvr_parse_name(enum pvr_parse_result res);

#endif /* _PVRECOVER_NOTICE_H */
