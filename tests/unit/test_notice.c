// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the guest driver's notice.c, built from that very file
 * with kshim.h: compile this file together with guest/pvrecover/notice.c,
 * with -I for tests/unit, guest/pvrecover and include/uapi.
 *
 * Prints "PASS unit/<name>" or "FAIL unit/<name>" per case and exits
 * non-zero if any case failed.
 */
#include <stdio.h>
#include <string.h>

#include "notice.h"

static int failures;
static int cur_failed;

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "  %s:%d: check failed: %s\n",		\
			__FILE__, __LINE__, #cond);			\
		cur_failed = 1;					\
	}								\
} while (0)

static void begin(void)
{
	cur_failed = 0;
}

static void end(const char *name)
{
	printf("%s unit/%s\n", cur_failed ? "FAIL" : "PASS", name);
	if (cur_failed)
		failures++;
}

/* A well-formed notice: 0000:00 / 1c.0 / 00.0, seq 0x01020304. */
static struct virtio_pvrecover_notice good(u16 type, u16 flags)
{
	struct virtio_pvrecover_notice raw;

	memset(&raw, 0, sizeof(raw));
	raw.seq = cpu_to_le32(0x01020304);
	raw.type = cpu_to_le16(type);
	raw.flags = cpu_to_le16(flags);
	raw.addr.segment = cpu_to_le16(0x0001);
	raw.addr.root_bus = 0x80;
	raw.addr.depth = 2;
	raw.addr.path[0] = 0xe0;
	raw.addr.path[1] = 0x01;
	return raw;
}

static void test_layout(void)
{
	begin();
	CHECK(sizeof(struct virtio_pvrecover_notice) == PVR_NOTICE_SIZE);
	CHECK(sizeof(struct virtio_pvrecover_ack) == PVR_ACK_SIZE);
	CHECK(sizeof(struct virtio_pvrecover_addr) == PVR_ADDR_SIZE);
	CHECK(offsetof(struct virtio_pvrecover_notice, type) ==
	      PVR_NOTICE_END_SEQ);
	CHECK(offsetof(struct virtio_pvrecover_notice, flags) ==
	      PVR_NOTICE_END_TYPE);
	CHECK(offsetof(struct virtio_pvrecover_notice, addr) ==
	      PVR_NOTICE_END_FLAGS);
	CHECK(offsetof(struct virtio_pvrecover_notice, deadline_ms) ==
	      PVR_NOTICE_END_ADDR);
	CHECK(offsetof(struct virtio_pvrecover_notice, reserved) ==
	      PVR_NOTICE_END_DEADLINE);
	CHECK(offsetof(struct virtio_pvrecover_ack, method) == 20);
	CHECK(offsetof(struct virtio_pvrecover_ack, guest_us) == 24);
	end("layout");
}

static void test_parse_good(void)
{
	struct virtio_pvrecover_notice raw;
	struct pvr_notice n;
	u16 t;

	begin();
	for (t = VIRTIO_PVRECOVER_N_ERROR_DETECTED;
	     t <= VIRTIO_PVRECOVER_N_PREPARE_RESET; t++) {
		raw = good(t, 0);
		CHECK(pvr_parse_notice(&raw, sizeof(raw), &n) == PVR_PARSE_OK);
		CHECK(n.type == t);
	}
	raw = good(VIRTIO_PVRECOVER_N_PREPARE_RESET, VIRTIO_PVRECOVER_NF_FATAL);
	raw.deadline_ms = cpu_to_le32(2500);
	CHECK(pvr_parse_notice(&raw, sizeof(raw), &n) == PVR_PARSE_OK);
	CHECK(n.seq == 0x01020304);
	CHECK(n.flags == VIRTIO_PVRECOVER_NF_FATAL);
	CHECK(n.segment == 1);
	CHECK(n.root_bus == 0x80);
	CHECK(n.depth == 2);
	CHECK(n.path[0] == 0xe0 && n.path[1] == 0x01 && n.path[2] == 0);
	CHECK(n.deadline_ms == 2500);
	CHECK(n.valid == (PVR_VALID_SEQ | PVR_VALID_TYPE | PVR_VALID_FLAGS |
			  PVR_VALID_ADDR | PVR_VALID_DEADLINE));
	/* The device claiming more than the buffer is clamped. */
	CHECK(pvr_parse_notice(&raw, 4096, &n) == PVR_PARSE_OK);
	end("parse-good");
}

static void test_parse_short(void)
{
	struct virtio_pvrecover_notice raw = good(1, 1);
	struct pvr_notice n;
	u32 len;

	begin();
	for (len = 0; len < PVR_NOTICE_SIZE; len++) {
		CHECK(pvr_parse_notice(&raw, len, &n) == PVR_PARSE_SHORT);
		CHECK(!!(n.valid & PVR_VALID_SEQ) == (len >= 4));
		CHECK(!!(n.valid & PVR_VALID_TYPE) == (len >= 6));
		CHECK(!!(n.valid & PVR_VALID_FLAGS) == (len >= 8));
		CHECK(!!(n.valid & PVR_VALID_ADDR) == (len >= 20));
		CHECK(!!(n.valid & PVR_VALID_DEADLINE) == (len >= 24));
		CHECK(n.seq == (len >= 4 ? 0x01020304u : 0));
		CHECK(n.type == (len >= 6 ? 1 : 0));
		CHECK(n.depth == (len >= 20 ? 2 : 0));
	}
	end("parse-short");
}

static void test_parse_flags(void)
{
	struct virtio_pvrecover_notice raw;
	struct pvr_notice n;
	unsigned int bit;

	begin();
	for (bit = 1; bit < 16; bit++) {
		raw = good(1, 1u << bit);
		CHECK(pvr_parse_notice(&raw, sizeof(raw), &n) ==
		      PVR_PARSE_FLAGS);
		CHECK(n.seq == 0x01020304);
	}
	/* A short buffer is reported as short even with bad flags. */
	raw = good(1, 0x8000);
	CHECK(pvr_parse_notice(&raw, 31, &n) == PVR_PARSE_SHORT);
	end("parse-unknown-flags");
}

static void test_parse_depth(void)
{
	struct virtio_pvrecover_notice raw = good(1, 1);
	struct pvr_notice n;
	unsigned int d;

	begin();
	raw.addr.depth = 0;
	raw.addr.path[0] = 0;
	raw.addr.path[1] = 0;
	CHECK(pvr_parse_notice(&raw, sizeof(raw), &n) == PVR_PARSE_DEPTH);
	CHECK(n.valid & PVR_VALID_ADDR);
	raw.addr.depth = 9;
	CHECK(pvr_parse_notice(&raw, sizeof(raw), &n) == PVR_PARSE_DEPTH);
	raw.addr.depth = 255;
	CHECK(pvr_parse_notice(&raw, sizeof(raw), &n) == PVR_PARSE_DEPTH);
	for (d = 1; d <= VIRTIO_PVRECOVER_PATH_MAX; d++) {
		memset(raw.addr.path, 0, sizeof(raw.addr.path));
		memset(raw.addr.path, 0xff, d);
		raw.addr.depth = d;
		CHECK(pvr_parse_notice(&raw, sizeof(raw), &n) == PVR_PARSE_OK);
		CHECK(n.path[d - 1] == 0xff);
	}
	end("parse-depth");
}

static void test_parse_path(void)
{
	struct virtio_pvrecover_notice raw = good(2, 0);
	struct pvr_notice n;

	begin();
	raw.addr.path[2] = 0x08;	/* depth is 2 */
	CHECK(pvr_parse_notice(&raw, sizeof(raw), &n) == PVR_PARSE_PATH);
	raw.addr.path[2] = 0;
	raw.addr.path[7] = 1;
	CHECK(pvr_parse_notice(&raw, sizeof(raw), &n) == PVR_PARSE_PATH);
	end("parse-unused-path");
}

static void test_parse_reserved(void)
{
	struct virtio_pvrecover_notice raw = good(2, 0);
	struct pvr_notice n;

	begin();
	raw.reserved[0] = cpu_to_le32(1);
	CHECK(pvr_parse_notice(&raw, sizeof(raw), &n) == PVR_PARSE_RESERVED);
	raw.reserved[0] = 0;
	raw.reserved[1] = cpu_to_le32(0x80000000);
	CHECK(pvr_parse_notice(&raw, sizeof(raw), &n) == PVR_PARSE_RESERVED);
	/* Malformed wins over an unknown type. */
	raw.type = cpu_to_le16(77);
	CHECK(pvr_parse_notice(&raw, sizeof(raw), &n) == PVR_PARSE_RESERVED);
	end("parse-reserved");
}

static void test_parse_type(void)
{
	static const u16 bad[] = { 0, 6, 7, 0x100, 0xffff };
	struct virtio_pvrecover_notice raw;
	struct pvr_notice n;
	unsigned int i;

	begin();
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		raw = good(bad[i], 0);
		CHECK(pvr_parse_notice(&raw, sizeof(raw), &n) ==
		      PVR_PARSE_TYPE);
		CHECK(n.type == bad[i]);
		CHECK(!strcmp(pvr_notice_name(n.type), "unknown"));
	}
	end("parse-unknown-type");
}

/*
 * Spec 7.10, check 1 before check 2: a notice that is malformed and of an
 * unknown type is MALFORMED, for each of the malformations in their order.
 */
static void test_parse_order(void)
{
	struct virtio_pvrecover_notice raw;
	struct pvr_notice n;

	begin();
	raw = good(0x7777, 0x8000);
	CHECK(pvr_parse_notice(&raw, 31, &n) == PVR_PARSE_SHORT);
	CHECK(pvr_parse_notice(&raw, sizeof(raw), &n) == PVR_PARSE_FLAGS);
	raw = good(0x7777, 0);
	raw.addr.depth = 9;
	CHECK(pvr_parse_notice(&raw, sizeof(raw), &n) == PVR_PARSE_DEPTH);
	raw = good(0x7777, 0);
	raw.addr.path[7] = 1;
	CHECK(pvr_parse_notice(&raw, sizeof(raw), &n) == PVR_PARSE_PATH);
	raw = good(0x7777, 0);
	raw.reserved[1] = cpu_to_le32(1);
	CHECK(pvr_parse_notice(&raw, sizeof(raw), &n) == PVR_PARSE_RESERVED);
	end("order-malformed-before-type");
}

#define IN_ALL	(PVR_IN_PLANNED_OK | PVR_IN_HAS_DRIVER)
#define ED	VIRTIO_PVRECOVER_N_ERROR_DETECTED
#define RD	VIRTIO_PVRECOVER_N_RESET_DONE
#define SL	VIRTIO_PVRECOVER_N_STATE_LOST
#define PF	VIRTIO_PVRECOVER_N_PERM_FAILURE
#define PR	VIRTIO_PVRECOVER_N_PREPARE_RESET
#define FATAL	VIRTIO_PVRECOVER_NF_FATAL
#define S(x)	VIRTIO_PVRECOVER_S_##x

/* The design contract's table, written out independently of notice.c. */
static const struct sm_case {
	const char *name;
	enum pvr_state state;
	u16 type;
	u16 flags;
	unsigned int in;
	enum pvr_action action;
	enum pvr_state next;
	u16 status;
} sm_cases[] = {
	{ "sm-fatal-idle", PVR_STATE_IDLE, ED, FATAL, IN_ALL,
	  PVR_ACT_QUIESCE_ERROR, PVR_STATE_QUIESCED, S(PREPARED) },
	{ "sm-fatal-quiesced", PVR_STATE_QUIESCED, ED, FATAL, IN_ALL,
	  PVR_ACT_NONE, PVR_STATE_QUIESCED, S(PREPARED) },
	{ "sm-fatal-offline", PVR_STATE_OFFLINE, ED, FATAL, IN_ALL,
	  PVR_ACT_NONE, PVR_STATE_OFFLINE, S(OFFLINE) },
	{ "sm-nonfatal-idle", PVR_STATE_IDLE, ED, 0, IN_ALL,
	  PVR_ACT_NONFATAL, PVR_STATE_IDLE, S(RECOVERED) },
	{ "sm-nonfatal-quiesced", PVR_STATE_QUIESCED, ED, 0, IN_ALL,
	  PVR_ACT_NONE, PVR_STATE_QUIESCED, S(PREPARED) },
	{ "sm-nonfatal-offline", PVR_STATE_OFFLINE, ED, 0, IN_ALL,
	  PVR_ACT_NONE, PVR_STATE_OFFLINE, S(OFFLINE) },
	{ "sm-prepare-idle", PVR_STATE_IDLE, PR, 0, IN_ALL,
	  PVR_ACT_QUIESCE_PLANNED, PVR_STATE_QUIESCED, S(PREPARED) },
	{ "sm-prepare-quiesced", PVR_STATE_QUIESCED, PR, 0, IN_ALL,
	  PVR_ACT_NONE, PVR_STATE_QUIESCED, S(PREPARED) },
	{ "sm-prepare-offline", PVR_STATE_OFFLINE, PR, 0, IN_ALL,
	  PVR_ACT_NONE, PVR_STATE_OFFLINE, S(OFFLINE) },
	{ "sm-prepare-unnegotiated-idle", PVR_STATE_IDLE, PR, 0,
	  PVR_IN_HAS_DRIVER,
	  PVR_ACT_NONE, PVR_STATE_IDLE, S(UNSUPPORTED) },
	{ "sm-prepare-unnegotiated-quiesced", PVR_STATE_QUIESCED, PR, 0,
	  PVR_IN_HAS_DRIVER,
	  PVR_ACT_NONE, PVR_STATE_QUIESCED, S(UNSUPPORTED) },
	{ "sm-prepare-unnegotiated-offline", PVR_STATE_OFFLINE, PR, 0, 0,
	  PVR_ACT_NONE, PVR_STATE_OFFLINE, S(UNSUPPORTED) },
	/*
	 * Spec 7.10, check 8 before check 9: a PREPARE_RESET without the
	 * feature is UNSUPPORTED, not NO_DRIVER, in IDLE with no driver.
	 */
	{ "order-unsupported-before-no-driver", PVR_STATE_IDLE, PR, 0, 0,
	  PVR_ACT_NONE, PVR_STATE_IDLE, S(UNSUPPORTED) },
	{ "order-unknown-type-before-no-driver", PVR_STATE_IDLE, 6, 0, 0,
	  PVR_ACT_NONE, PVR_STATE_IDLE, S(UNSUPPORTED) },
	{ "sm-reset-done-idle", PVR_STATE_IDLE, RD, 0, IN_ALL,
	  PVR_ACT_FULL, PVR_STATE_IDLE, S(RECOVERED) },
	{ "sm-reset-done-quiesced", PVR_STATE_QUIESCED, RD, 0, IN_ALL,
	  PVR_ACT_REINIT, PVR_STATE_IDLE, S(RECOVERED) },
	{ "sm-reset-done-offline", PVR_STATE_OFFLINE, RD, 0, IN_ALL,
	  PVR_ACT_REPROBE, PVR_STATE_IDLE, S(RECOVERED) },
	{ "sm-state-lost-idle", PVR_STATE_IDLE, SL, 0, IN_ALL,
	  PVR_ACT_FULL, PVR_STATE_IDLE, S(RECOVERED) },
	{ "sm-state-lost-quiesced", PVR_STATE_QUIESCED, SL, 0, IN_ALL,
	  PVR_ACT_REINIT, PVR_STATE_IDLE, S(RECOVERED) },
	{ "sm-state-lost-offline", PVR_STATE_OFFLINE, SL, 0, IN_ALL,
	  PVR_ACT_REPROBE, PVR_STATE_IDLE, S(RECOVERED) },
	{ "sm-perm-idle", PVR_STATE_IDLE, PF, 0, IN_ALL,
	  PVR_ACT_OFFLINE, PVR_STATE_OFFLINE, S(OFFLINE) },
	{ "sm-perm-quiesced", PVR_STATE_QUIESCED, PF, 0, IN_ALL,
	  PVR_ACT_OFFLINE, PVR_STATE_OFFLINE, S(OFFLINE) },
	{ "sm-perm-offline", PVR_STATE_OFFLINE, PF, 0, IN_ALL,
	  PVR_ACT_NONE, PVR_STATE_OFFLINE, S(OFFLINE) },
	{ "sm-unknown-idle", PVR_STATE_IDLE, 9, 0, IN_ALL,
	  PVR_ACT_NONE, PVR_STATE_IDLE, S(UNSUPPORTED) },
	{ "sm-unknown-quiesced", PVR_STATE_QUIESCED, 0, FATAL, IN_ALL,
	  PVR_ACT_NONE, PVR_STATE_QUIESCED, S(UNSUPPORTED) },
	{ "sm-unknown-offline", PVR_STATE_OFFLINE, 0xffff, 0, 0,
	  PVR_ACT_NONE, PVR_STATE_OFFLINE, S(UNSUPPORTED) },
	/* No driver bound: IDLE answers NO_DRIVER, state unchanged. */
	{ "sm-nodriver-fatal-idle", PVR_STATE_IDLE, ED, FATAL,
	  PVR_IN_PLANNED_OK,
	  PVR_ACT_NONE, PVR_STATE_IDLE, S(NO_DRIVER) },
	{ "sm-nodriver-nonfatal-idle", PVR_STATE_IDLE, ED, 0,
	  PVR_IN_PLANNED_OK,
	  PVR_ACT_NONE, PVR_STATE_IDLE, S(NO_DRIVER) },
	{ "sm-nodriver-prepare-idle", PVR_STATE_IDLE, PR, 0,
	  PVR_IN_PLANNED_OK,
	  PVR_ACT_NONE, PVR_STATE_IDLE, S(NO_DRIVER) },
	{ "sm-nodriver-perm-idle", PVR_STATE_IDLE, PF, 0, PVR_IN_PLANNED_OK,
	  PVR_ACT_NONE, PVR_STATE_IDLE, S(NO_DRIVER) },
	{ "sm-nodriver-reset-done-idle", PVR_STATE_IDLE, RD, 0,
	  PVR_IN_PLANNED_OK,
	  PVR_ACT_RESTORE, PVR_STATE_IDLE, S(NO_DRIVER) },
	{ "sm-nodriver-state-lost-idle", PVR_STATE_IDLE, SL, 0, 0,
	  PVR_ACT_RESTORE, PVR_STATE_IDLE, S(NO_DRIVER) },
	/* Released for a planned reset / detached: the table applies. */
	{ "sm-nodriver-reset-done-quiesced", PVR_STATE_QUIESCED, RD, 0,
	  PVR_IN_PLANNED_OK,
	  PVR_ACT_REINIT, PVR_STATE_IDLE, S(RECOVERED) },
	{ "sm-nodriver-perm-quiesced", PVR_STATE_QUIESCED, PF, 0, 0,
	  PVR_ACT_OFFLINE, PVR_STATE_OFFLINE, S(OFFLINE) },
	{ "sm-nodriver-reset-done-offline", PVR_STATE_OFFLINE, RD, 0, 0,
	  PVR_ACT_REPROBE, PVR_STATE_IDLE, S(RECOVERED) },
	{ "sm-nodriver-fatal-offline", PVR_STATE_OFFLINE, ED, FATAL, 0,
	  PVR_ACT_NONE, PVR_STATE_OFFLINE, S(OFFLINE) },
};

static void test_state_machine(void)
{
	const struct sm_case *c;
	struct pvr_step step;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(sm_cases); i++) {
		c = &sm_cases[i];
		begin();
		memset(&step, 0xa5, sizeof(step));
		CHECK(pvr_transition(c->state, c->type, c->flags, c->in,
				     &step) == 0);
		CHECK(step.action == c->action);
		CHECK(step.next == c->next);
		CHECK(step.status == c->status);
		if (cur_failed)
			fprintf(stderr, "  got %s -> %s, %s\n",
				pvr_action_name(step.action),
				pvr_state_name(step.next),
				pvr_status_name(step.status));
		end(c->name);
	}
}

/*
 * Spec 7.2.2: NF_FATAL outside ERROR_DETECTED is ignored: the notice is
 * well-formed and every state and input gives the step it gives without
 * the flag.
 */
static void test_fatal_ignored(void)
{
	static const u16 types[] = {
		VIRTIO_PVRECOVER_N_RESET_DONE, VIRTIO_PVRECOVER_N_STATE_LOST,
		VIRTIO_PVRECOVER_N_PERM_FAILURE, VIRTIO_PVRECOVER_N_PREPARE_RESET,
	};
	struct virtio_pvrecover_notice raw;
	struct pvr_step with, without;
	unsigned int i, st, in;
	struct pvr_notice n;

	begin();
	for (i = 0; i < ARRAY_SIZE(types); i++) {
		raw = good(types[i], VIRTIO_PVRECOVER_NF_FATAL);
		CHECK(pvr_parse_notice(&raw, sizeof(raw), &n) == PVR_PARSE_OK);
		CHECK(n.flags == VIRTIO_PVRECOVER_NF_FATAL);
		for (st = 0; st < PVR_STATE_NR; st++) {
			for (in = 0; in < 4; in++) {
				CHECK(pvr_transition(st, types[i],
						     VIRTIO_PVRECOVER_NF_FATAL,
						     in, &with) == 0);
				CHECK(pvr_transition(st, types[i], 0, in,
						     &without) == 0);
				CHECK(with.action == without.action &&
				      with.next == without.next &&
				      with.status == without.status);
			}
		}
	}
	end("fatal-flag-ignored");
}

static void test_bad_state(void)
{
	struct pvr_step step = { PVR_ACT_NONE, PVR_STATE_IDLE, 42 };

	begin();
	CHECK(pvr_transition(PVR_STATE_NR, ED, FATAL, IN_ALL, &step) ==
	      -EINVAL);
	CHECK(pvr_transition((enum pvr_state)-1, ED, 0, 0, &step) == -EINVAL);
	CHECK(step.status == 42);
	end("sm-bad-state");
}

static void test_step_status(void)
{
	static const enum pvr_outcome outs[] = {
		PVR_OUT_OK, PVR_OUT_FAILED, PVR_OUT_NEED_RESET,
	};
	struct pvr_step step = { .next = PVR_STATE_IDLE, .status = 99 };
	unsigned int a, o;
	u16 s;

	begin();
	for (a = 0; a < PVR_ACT_NR; a++) {
		for (o = 0; o < 3; o++) {
			step.action = a;
			s = pvr_step_status(&step, outs[o]);
			switch (a) {
			case PVR_ACT_REINIT:
			case PVR_ACT_FULL:
			case PVR_ACT_REPROBE:
				CHECK(s == (outs[o] == PVR_OUT_OK ?
					    S(RECOVERED) : S(FAILED)));
				break;
			case PVR_ACT_NONFATAL:
				CHECK(s == (outs[o] == PVR_OUT_OK ? S(RECOVERED) :
					    outs[o] == PVR_OUT_NEED_RESET ?
					    S(NEED_RESET) : S(FAILED)));
				break;
			default:
				CHECK(s == 99);
				break;
			}
		}
	}
	end("sm-step-status");
}

/* A non-fatal error that still needs a reset leaves the driver quiesced. */
static void test_step_next(void)
{
	static const enum pvr_outcome outs[] = {
		PVR_OUT_OK, PVR_OUT_FAILED, PVR_OUT_NEED_RESET,
	};
	struct pvr_step step = { .next = PVR_STATE_OFFLINE };
	unsigned int a, o;

	begin();
	for (a = 0; a < PVR_ACT_NR; a++) {
		for (o = 0; o < 3; o++) {
			step.action = a;
			if (a == PVR_ACT_NONFATAL &&
			    outs[o] == PVR_OUT_NEED_RESET)
				CHECK(pvr_step_next(&step, outs[o]) ==
				      PVR_STATE_QUIESCED);
			else
				CHECK(pvr_step_next(&step, outs[o]) ==
				      PVR_STATE_OFFLINE);
		}
	}
	/* ... and the RESET_DONE that follows re-initialises it. */
	CHECK(pvr_transition(PVR_STATE_QUIESCED,
			     VIRTIO_PVRECOVER_N_RESET_DONE, 0,
			     PVR_IN_HAS_DRIVER, &step) == 0);
	CHECK(step.action == PVR_ACT_REINIT && step.next == PVR_STATE_IDLE);
	end("sm-step-next");
}

/* Walk whole recoveries through the table. */
static void test_sequences(void)
{
	static const struct {
		u16 type;
		u16 flags;
		enum pvr_state expect;
	} seq[] = {
		{ ED, FATAL, PVR_STATE_QUIESCED },
		{ ED, FATAL, PVR_STATE_QUIESCED },	/* coalesced */
		{ RD, 0, PVR_STATE_IDLE },
		{ PR, 0, PVR_STATE_QUIESCED },
		{ SL, 0, PVR_STATE_IDLE },
		{ PF, 0, PVR_STATE_OFFLINE },
		{ ED, FATAL, PVR_STATE_OFFLINE },
		{ PR, 0, PVR_STATE_OFFLINE },
		{ RD, 0, PVR_STATE_IDLE },
		{ ED, 0, PVR_STATE_IDLE },
	};
	enum pvr_state state = PVR_STATE_IDLE;
	struct pvr_step step;
	unsigned int i;

	begin();
	for (i = 0; i < ARRAY_SIZE(seq); i++) {
		CHECK(pvr_transition(state, seq[i].type, seq[i].flags, IN_ALL,
				     &step) == 0);
		state = step.next;
		CHECK(state == seq[i].expect);
	}
	end("sm-sequence");
}

static void test_ack_encode(void)
{
	struct virtio_pvrecover_notice raw = good(PR, 0);
	struct virtio_pvrecover_ack ack;
	const u8 *b = (const u8 *)&ack;
	struct pvr_notice n;
	unsigned int i;

	begin();
	raw.addr.depth = 8;
	for (i = 0; i < 8; i++)
		raw.addr.path[i] = 0x10 + i;
	CHECK(pvr_parse_notice(&raw, sizeof(raw), &n) == PVR_PARSE_OK);
	memset(&ack, 0xa5, sizeof(ack));
	pvr_encode_ack(&ack, &n, S(PREPARED), VIRTIO_PVRECOVER_M_AER,
		       0x11223344);
	/* Little-endian on the wire, whatever the host order. */
	CHECK(b[0] == 0x04 && b[1] == 0x03 && b[2] == 0x02 && b[3] == 0x01);
	CHECK(b[4] == PR && b[5] == 0);
	CHECK(b[6] == S(PREPARED) && b[7] == 0);
	CHECK(b[8] == 0x01 && b[9] == 0x00);	/* segment */
	CHECK(b[10] == 0x80 && b[11] == 8);
	for (i = 0; i < 8; i++)
		CHECK(b[12 + i] == 0x10 + i);
	CHECK(b[20] == VIRTIO_PVRECOVER_M_AER && b[21] == 0);
	CHECK(b[22] == 0 && b[23] == 0);	/* reserved */
	CHECK(b[24] == 0x44 && b[25] == 0x33 && b[26] == 0x22 &&
	      b[27] == 0x11);
	CHECK(b[28] == 0 && b[29] == 0 && b[30] == 0 && b[31] == 0);
	end("ack-encode");
}

static void test_ack_malformed(void)
{
	struct virtio_pvrecover_notice raw = good(ED, FATAL);
	struct virtio_pvrecover_ack ack;
	struct pvr_notice n;
	const u8 *b = (const u8 *)&ack;
	unsigned int i, nz;

	begin();
	/* Under 4 bytes: nothing can be echoed, seq 0. */
	CHECK(pvr_parse_notice(&raw, 3, &n) == PVR_PARSE_SHORT);
	memset(&ack, 0xa5, sizeof(ack));
	pvr_encode_ack(&ack, &n, S(MALFORMED), VIRTIO_PVRECOVER_M_NONE, 7);
	CHECK(le32_to_cpu(ack.seq) == 0);
	CHECK(le16_to_cpu(ack.status) == S(MALFORMED));
	for (i = 4, nz = 0; i < 20; i++)
		nz += b[i] != 0 && i != 6;
	CHECK(nz == 0);
	/* Seq and type readable, address not. */
	CHECK(pvr_parse_notice(&raw, 10, &n) == PVR_PARSE_SHORT);
	pvr_encode_ack(&ack, &n, S(MALFORMED), VIRTIO_PVRECOVER_M_NONE, 7);
	CHECK(le32_to_cpu(ack.seq) == 0x01020304);
	CHECK(le16_to_cpu(ack.type) == ED);
	CHECK(ack.addr.depth == 0 && ack.addr.root_bus == 0);
	/* Bad depth: the address is echoed as received. */
	raw.addr.depth = 9;
	CHECK(pvr_parse_notice(&raw, 32, &n) == PVR_PARSE_DEPTH);
	pvr_encode_ack(&ack, &n, S(MALFORMED), VIRTIO_PVRECOVER_M_NONE, 7);
	CHECK(ack.addr.depth == 9 && ack.addr.path[0] == 0xe0);
	end("ack-malformed-echo");
}

static void test_names(void)
{
	static const char * const status[] = {
		"invalid", "prepared", "recovered", "failed", "no-driver",
		"unknown-device", "unsupported", "malformed", "need-reset",
		"offline", "busy", "invalid",
	};
	static const char * const method[] = {
		"none", "reset-hooks", "aer", "reprobe", "invalid",
	};
	static const char * const notice[] = {
		"unknown", "error-detected", "reset-done", "state-lost",
		"perm-failure", "prepare-reset", "unknown",
	};
	unsigned int i;

	begin();
	for (i = 0; i < ARRAY_SIZE(status); i++)
		CHECK(!strcmp(pvr_status_name(i), status[i]));
	for (i = 0; i < ARRAY_SIZE(method); i++)
		CHECK(!strcmp(pvr_method_name(i), method[i]));
	for (i = 0; i < ARRAY_SIZE(notice); i++)
		CHECK(!strcmp(pvr_notice_name(i), notice[i]));
	CHECK(!strcmp(pvr_state_name(PVR_STATE_NR), "invalid"));
	CHECK(!strcmp(pvr_action_name(PVR_ACT_NR), "invalid"));
	CHECK(!strcmp(pvr_parse_name(PVR_PARSE_NR), "invalid"));
	for (i = 0; i < PVR_ACT_NR; i++)
		CHECK(strcmp(pvr_action_name(i), "invalid"));
	for (i = 0; i < PVR_PARSE_NR; i++)
		CHECK(strcmp(pvr_parse_name(i), "invalid"));
	end("names");
}

int main(void)
{
	test_layout();
	test_parse_good();
	test_parse_short();
	test_parse_flags();
	test_parse_depth();
	test_parse_path();
	test_parse_reserved();
	test_parse_type();
	test_parse_order();
	test_state_machine();
	test_fatal_ignored();
	test_bad_state();
	test_step_status();
	test_step_next();
	test_sequences();
	test_ack_encode();
	test_ack_malformed();
	test_names();
	return failures ? 1 : 0;
}
