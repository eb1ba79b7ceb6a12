// SPDX-License-Identifier: GPL-2.0
/*
 * pvrecover: notice parsing, the per-device state machine and ack
 * encoding.  Pure logic: built into the module and into the userspace unit
 * tests (tests/unit) from this very file.
 */
#include "notice.h"

/**
 * pvr_parse_notice() - validate a notice buffer and convert it to CPU order
 * @raw: the notice buffer; always a full struct, of which only the first
 *	@len bytes were written by the device.
 * @len: bytes the device wrote (the used length); values above the size of
 *	the struct are treated as the size of the struct.
 * @out: receives every field that could be read, in CPU byte order, and in
 *	@out->valid which ones those are.  Fields that could not be read are
 *	zero.
 *
 * The checks run in a fixed order: length, flags, depth, unused path
 * entries, reserved fields, type.  The first that fails gives the result.
 *
 * Return: PVR_PARSE_OK for a well-formed notice of a known type,
 * PVR_PARSE_TYPE for a well-formed notice of an unknown type, any other
 * value for a malformed notice.
 */
enum pvr_parse_result pvr_parse_notice(const struct virtio_pvrecover_notice *raw,
				       u32 len, struct pvr_notice *out)
{
	static const struct pvr_notice zero;
	unsigned int i;

	*out = zero;
	if (len > PVR_NOTICE_SIZE)
		len = PVR_NOTICE_SIZE;

	if (len >= PVR_NOTICE_END_SEQ) {
		out->seq = le32_to_cpu(raw->seq);
		out->valid |= PVR_VALID_SEQ;
	}
	if (len >= PVR_NOTICE_END_TYPE) {
		out->type = le16_to_cpu(raw->type);
		out->valid |= PVR_VALID_TYPE;
	}
	if (len >= PVR_NOTICE_END_FLAGS) {
		out->flags = le16_to_cpu(raw->flags);
		out->valid |= PVR_VALID_FLAGS;
	}
	if (len >= PVR_NOTICE_END_ADDR) {
		out->segment = le16_to_cpu(raw->addr.segment);
		out->root_bus = raw->addr.root_bus;
		out->depth = raw->addr.depth;
		for (i = 0; i < VIRTIO_PVRECOVER_PATH_MAX; i++)
			out->path[i] = raw->addr.path[i];
		out->valid |= PVR_VALID_ADDR;
	}
	if (len >= PVR_NOTICE_END_DEADLINE) {
		out->deadline_ms = le32_to_cpu(raw->deadline_ms);
		out->valid |= PVR_VALID_DEADLINE;
	}
	if (len < PVR_NOTICE_SIZE)
		return PVR_PARSE_SHORT;

	if (out->flags & ~VIRTIO_PVRECOVER_NF_ALL)
		return PVR_PARSE_FLAGS;
	if (out->depth == 0 || out->depth > VIRTIO_PVRECOVER_PATH_MAX)
		return PVR_PARSE_DEPTH;
	for (i = out->depth; i < VIRTIO_PVRECOVER_PATH_MAX; i++)
		if (out->path[i])
			return PVR_PARSE_PATH;
	if (raw->reserved[0] || raw->reserved[1])
		return PVR_PARSE_RESERVED;
	if (out->type < VIRTIO_PVRECOVER_N_ERROR_DETECTED ||
	    out->type > VIRTIO_PVRECOVER_N_PREPARE_RESET)
		return PVR_PARSE_TYPE;
	return PVR_PARSE_OK;
}

/* Notice class: the rows of the transition table. */
enum pvr_class {
	PVR_CLASS_FATAL,	/* ERROR_DETECTED with NF_FATAL */
	PVR_CLASS_NONFATAL,	/* ERROR_DETECTED without NF_FATAL */
	PVR_CLASS_PREPARE,	/* PREPARE_RESET */
	PVR_CLASS_RESET_DONE,	/* RESET_DONE */
	PVR_CLASS_STATE_LOST,	/* STATE_LOST */
	PVR_CLASS_PERM,		/* PERM_FAILURE */
	PVR_CLASS_NR,
};

#define S_PREP		VIRTIO_PVRECOVER_S_PREPARED
#define S_RCVD		VIRTIO_PVRECOVER_S_RECOVERED
#define S_OFFL		VIRTIO_PVRECOVER_S_OFFLINE

#define STEP(a, n, s)	{ .action = PVR_ACT_##a, .next = PVR_STATE_##n, \
			  .status = (s) }

/* The design contract's state machine: [class][state]. */
static const struct pvr_step pvr_table[PVR_CLASS_NR][PVR_STATE_NR] = {
	[PVR_CLASS_FATAL] = {
		[PVR_STATE_IDLE]	= STEP(QUIESCE_ERROR, QUIESCED, S_PREP),
		[PVR_STATE_QUIESCED]	= STEP(NONE, QUIESCED, S_PREP),
		[PVR_STATE_OFFLINE]	= STEP(NONE, OFFLINE, S_OFFL),
	},
	[PVR_CLASS_NONFATAL] = {
		[PVR_STATE_IDLE]	= STEP(NONFATAL, IDLE, S_RCVD),
		[PVR_STATE_QUIESCED]	= STEP(NONE, QUIESCED, S_PREP),
		[PVR_STATE_OFFLINE]	= STEP(NONE, OFFLINE, S_OFFL),
	},
	[PVR_CLASS_PREPARE] = {
		[PVR_STATE_IDLE]	= STEP(QUIESCE_PLANNED, QUIESCED, S_PREP),
		[PVR_STATE_QUIESCED]	= STEP(NONE, QUIESCED, S_PREP),
		[PVR_STATE_OFFLINE]	= STEP(NONE, OFFLINE, S_OFFL),
	},
	[PVR_CLASS_RESET_DONE] = {
		[PVR_STATE_IDLE]	= STEP(FULL, IDLE, S_RCVD),
		[PVR_STATE_QUIESCED]	= STEP(REINIT, IDLE, S_RCVD),
		[PVR_STATE_OFFLINE]	= STEP(REPROBE, IDLE, S_RCVD),
	},
	[PVR_CLASS_STATE_LOST] = {
		[PVR_STATE_IDLE]	= STEP(FULL, IDLE, S_RCVD),
		[PVR_STATE_QUIESCED]	= STEP(REINIT, IDLE, S_RCVD),
		[PVR_STATE_OFFLINE]	= STEP(REPROBE, IDLE, S_RCVD),
	},
	[PVR_CLASS_PERM] = {
		[PVR_STATE_IDLE]	= STEP(OFFLINE, OFFLINE, S_OFFL),
		[PVR_STATE_QUIESCED]	= STEP(OFFLINE, OFFLINE, S_OFFL),
		[PVR_STATE_OFFLINE]	= STEP(NONE, OFFLINE, S_OFFL),
	},
};

/* Actions that need a bound driver, and what to do instead without one. */
static const struct {
	bool needs_driver;
	enum pvr_action instead;
} pvr_driverless[PVR_ACT_NR] = {
	[PVR_ACT_QUIESCE_ERROR]		= { true, PVR_ACT_NONE },
	[PVR_ACT_QUIESCE_PLANNED]	= { true, PVR_ACT_NONE },
	[PVR_ACT_NONFATAL]		= { true, PVR_ACT_NONE },
	[PVR_ACT_FULL]			= { true, PVR_ACT_RESTORE },
	[PVR_ACT_OFFLINE]		= { true, PVR_ACT_NONE },
};

static int pvr_classify(u16 type, u16 flags, unsigned int in)
{
	switch (type) {
	case VIRTIO_PVRECOVER_N_ERROR_DETECTED:
		return (flags & VIRTIO_PVRECOVER_NF_FATAL) ?
			PVR_CLASS_FATAL : PVR_CLASS_NONFATAL;
	case VIRTIO_PVRECOVER_N_RESET_DONE:
		return PVR_CLASS_RESET_DONE;
	case VIRTIO_PVRECOVER_N_STATE_LOST:
		return PVR_CLASS_STATE_LOST;
	case VIRTIO_PVRECOVER_N_PERM_FAILURE:
		return PVR_CLASS_PERM;
	case VIRTIO_PVRECOVER_N_PREPARE_RESET:
		if (in & PVR_IN_PLANNED_OK)
			return PVR_CLASS_PREPARE;
		return -EOPNOTSUPP;
	default:
		return -EOPNOTSUPP;
	}
}

/**
 * pvr_transition() - look up what to do for a notice
 * @state: current state of the device.
 * @type: notice type.
 * @flags: notice flags.
 * @in: PVR_IN_* bits: whether planned resets were negotiated and whether a
 *	driver is bound to the device.
 * @step: receives the action, the next state and the status.
 *
 * Unknown types and PREPARE_RESET without VIRTIO_PVRECOVER_F_PLANNED_RESET
 * give PVR_ACT_NONE with status UNSUPPORTED and the state unchanged.  In the
 * IDLE state, notices that need a driver give NO_DRIVER with the state
 * unchanged when none is bound; a reset of such a device still restores its
 * config space (PVR_ACT_RESTORE).
 *
 * Return: 0, or -EINVAL if @state is out of range (@step is then left
 * untouched).
 */
int pvr_transition(enum pvr_state state, u16 type, u16 flags,
		   unsigned int in, struct pvr_step *step)
{
	int class;

	if ((unsigned int)state >= PVR_STATE_NR)
		return -EINVAL;

	class = pvr_classify(type, flags, in);
	if (class < 0) {
		step->action = PVR_ACT_NONE;
		step->next = state;
		step->status = VIRTIO_PVRECOVER_S_UNSUPPORTED;
		return 0;
	}

	*step = pvr_table[class][state];
	if (state == PVR_STATE_IDLE && !(in & PVR_IN_HAS_DRIVER) &&
	    pvr_driverless[step->action].needs_driver) {
		step->action = pvr_driverless[step->action].instead;
		step->next = state;
		step->status = VIRTIO_PVRECOVER_S_NO_DRIVER;
	}
	return 0;
}

/**
 * pvr_step_status() - ack status once an action was carried out
 * @step: the step from pvr_transition().
 * @outcome: how the action went.
 *
 * Re-initialising actions answer RECOVERED or FAILED; a non-fatal error
 * answers RECOVERED, NEED_RESET or FAILED; every other step answers its
 * fixed status.
 *
 * Return: an enum virtio_pvrecover_status value.
 */
u16 pvr_step_status(const struct pvr_step *step, enum pvr_outcome outcome)
{
	switch (step->action) {
	case PVR_ACT_REINIT:
	case PVR_ACT_FULL:
	case PVR_ACT_REPROBE:
		return outcome == PVR_OUT_OK ? VIRTIO_PVRECOVER_S_RECOVERED :
					       VIRTIO_PVRECOVER_S_FAILED;
	case PVR_ACT_NONFATAL:
		if (outcome == PVR_OUT_OK)
			return VIRTIO_PVRECOVER_S_RECOVERED;
		if (outcome == PVR_OUT_NEED_RESET)
			return VIRTIO_PVRECOVER_S_NEED_RESET;
		return VIRTIO_PVRECOVER_S_FAILED;
	default:
		return step->status;
	}
}

/**
 * pvr_step_next() - state once an action was carried out
 * @step: the step from pvr_transition().
 * @outcome: how the action went.
 *
 * A non-fatal error whose driver still needs a reset leaves the driver
 * quiesced, waiting for the host's RESET_DONE; every other step goes to
 * its fixed next state.
 *
 * Return: the next state.
 */
enum pvr_state pvr_step_next(const struct pvr_step *step,
			     enum pvr_outcome outcome)
{
	if (step->action == PVR_ACT_NONFATAL && outcome == PVR_OUT_NEED_RESET)
		return PVR_STATE_QUIESCED;
	return step->next;
}

/**
 * pvr_encode_ack() - fill in an ack
 * @ack: the buffer to fill; every byte is written.
 * @n: the notice answered; only the fields marked in @n->valid are echoed,
 *	the others are sent as zero.
 * @status: an enum virtio_pvrecover_status value.
 * @method: an enum virtio_pvrecover_method value.
 * @guest_us: microseconds the guest spent on the notice.
 */
void pvr_encode_ack(struct virtio_pvrecover_ack *ack,
		    const struct pvr_notice *n, u16 status, u16 method,
		    u32 guest_us)
{
	unsigned int i;
	bool addr = n->valid & PVR_VALID_ADDR;

	ack->seq = cpu_to_le32((n->valid & PVR_VALID_SEQ) ? n->seq : 0);
	ack->type = cpu_to_le16((n->valid & PVR_VALID_TYPE) ? n->type : 0);
	ack->status = cpu_to_le16(status);
	ack->addr.segment = cpu_to_le16(addr ? n->segment : 0);
	ack->addr.root_bus = addr ? n->root_bus : 0;
	ack->addr.depth = addr ? n->depth : 0;
	for (i = 0; i < VIRTIO_PVRECOVER_PATH_MAX; i++)
		ack->addr.path[i] = addr ? n->path[i] : 0;
	ack->method = cpu_to_le16(method);
	ack->reserved = cpu_to_le16(0);
	ack->guest_us = cpu_to_le32(guest_us);
	ack->reserved2 = cpu_to_le32(0);
}

/**
 * pvr_notice_name() - log name of a notice type
 * @type: an enum virtio_pvrecover_notice_type value.
 *
 * Return: the name used in log lines and by QMP, "unknown" if out of range.
 */
const char *pvr_notice_name(u16 type)
{
	switch (type) {
	case VIRTIO_PVRECOVER_N_ERROR_DETECTED:
		return "error-detected";
	case VIRTIO_PVRECOVER_N_RESET_DONE:
		return "reset-done";
	case VIRTIO_PVRECOVER_N_STATE_LOST:
		return "state-lost";
	case VIRTIO_PVRECOVER_N_PERM_FAILURE:
		return "perm-failure";
	case VIRTIO_PVRECOVER_N_PREPARE_RESET:
		return "prepare-reset";
	default:
		return "unknown";
	}
}

/**
 * pvr_status_name() - log name of an ack status
 * @status: an enum virtio_pvrecover_status value.
 *
 * Return: the name used in log lines and by QMP, "invalid" if out of range.
 */
const char *pvr_status_name(u16 status)
{
	switch (status) {
	case VIRTIO_PVRECOVER_S_PREPARED:
		return "prepared";
	case VIRTIO_PVRECOVER_S_RECOVERED:
		return "recovered";
	case VIRTIO_PVRECOVER_S_FAILED:
		return "failed";
	case VIRTIO_PVRECOVER_S_NO_DRIVER:
		return "no-driver";
	case VIRTIO_PVRECOVER_S_UNKNOWN_DEVICE:
		return "unknown-device";
	case VIRTIO_PVRECOVER_S_UNSUPPORTED:
		return "unsupported";
	case VIRTIO_PVRECOVER_S_MALFORMED:
		return "malformed";
	case VIRTIO_PVRECOVER_S_NEED_RESET:
		return "need-reset";
	case VIRTIO_PVRECOVER_S_OFFLINE:
		return "offline";
	case VIRTIO_PVRECOVER_S_BUSY:
		return "busy";
	default:
		return "invalid";
	}
}

/**
 * pvr_method_name() - log name of a recovery method
 * @method: an enum virtio_pvrecover_method value.
 *
 * Return: the name used in log lines and by QMP, "invalid" if out of range.
 */
const char *pvr_method_name(u16 method)
{
	switch (method) {
	case VIRTIO_PVRECOVER_M_NONE:
		return "none";
	case VIRTIO_PVRECOVER_M_RESET_HOOKS:
		return "reset-hooks";
	case VIRTIO_PVRECOVER_M_AER:
		return "aer";
	case VIRTIO_PVRECOVER_M_REPROBE:
		return "reprobe";
	default:
		return "invalid";
	}
}

/**
 * pvr_state_name() - log name of a per-device state
 * @state: the state.
 *
 * Return: "idle", "quiesced", "offline" or "invalid".
 */
const char *pvr_state_name(enum pvr_state state)
{
	switch (state) {
	case PVR_STATE_IDLE:
		return "idle";
	case PVR_STATE_QUIESCED:
		return "quiesced";
	case PVR_STATE_OFFLINE:
		return "offline";
	default:
		return "invalid";
	}
}

/**
 * pvr_action_name() - log name of an action
 * @action: the action.
 *
 * Return: a short name, "invalid" if out of range.
 */
const char *pvr_action_name(enum pvr_action action)
{
	static const char * const names[PVR_ACT_NR] = {
		[PVR_ACT_NONE]			= "none",
		[PVR_ACT_QUIESCE_ERROR]		= "quiesce-error",
		[PVR_ACT_QUIESCE_PLANNED]	= "quiesce-planned",
		[PVR_ACT_NONFATAL]		= "nonfatal",
		[PVR_ACT_REINIT]		= "reinit",
		[PVR_ACT_FULL]			= "full",
		[PVR_ACT_REPROBE]		= "reprobe",
		[PVR_ACT_OFFLINE]		= "offline",
		[PVR_ACT_RESTORE]		= "restore",
	};

	if ((unsigned int)action >= PVR_ACT_NR)
		return "invalid";
	return names[action];
}

/**
 * pvr_parse_name() - log name of a parse result
 * @res: the result of pvr_parse_notice().
 *
 * Return: why a notice was refused ("ok" if it was not).
 */
const char *pvr_parse_name(enum pvr_parse_result res)
{
	static const char * const names[PVR_PARSE_NR] = {
		[PVR_PARSE_OK]		= "ok",
		[PVR_PARSE_SHORT]	= "short buffer",
		[PVR_PARSE_FLAGS]	= "unknown flags",
		[PVR_PARSE_DEPTH]	= "bad depth",
		[PVR_PARSE_PATH]	= "unused path entry not zero",
		[PVR_PARSE_RESERVED]	= "reserved field not zero",
		[PVR_PARSE_TYPE]	= "unknown type",
	};

	if ((unsigned int)res >= PVR_PARSE_NR)
		return "invalid";
	return names[res];
}
