/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* S29: the fault queue is bounded, lock-free for producers, and never loses a fault silently. */
#include <pthread.h>

#include "check.h"

static dmar_fault_record rec(uint64_t addr, uint8_t reason)
{
	dmar_fault_record r = { .addr = addr, .pasid = DMAR_NO_PASID, .requester = 0x0300,
				.access = DMAR_ACCESS_WRITE, .reason = reason };
	return r;
}

static int cb_calls, cb_stored;
static void cb(void *ctx, const dmar_fault_record *r, int stored)
{
	(void)ctx;
	(void)r;
	cb_calls++;
	cb_stored += stored;
}

TEST(S29_overflow_is_counted_and_visible_in_sequence_numbers)
{
	dmar_faultq *q;
	dmar_fault_record out[16], r;
	dmar_faultq_stats st;

	REQUIRE(dmar_faultq_create(8, &q) == DMAR_OK);
	dmar_faultq_set_callback(q, cb, NULL);
	for (int i = 0; i < 10; i++) {
		r = rec(0x1000u * (unsigned)i, DMAR_FAULT_NOT_PRESENT);
		CHECK_ST(dmar_faultq_push(q, &r), i < 8 ? DMAR_OK : DMAR_E_BUSY);
	}
	dmar_faultq_get_stats(q, &st);
	CHECK_EQ(st.faults, 10);
	CHECK_EQ(st.stored, 8);
	CHECK_EQ(st.dropped, 2);
	CHECK_EQ(cb_calls, 10);
	CHECK_EQ(cb_stored, 8);
	CHECK_EQ(dmar_faultq_drain(q, out, 3), 3);
	CHECK_EQ(out[0].seq, 1);
	CHECK_EQ(out[2].addr, 0x2000);
	CHECK_EQ(out[2].requester, 0x0300);
	CHECK_EQ(out[2].reason, DMAR_FAULT_NOT_PRESENT);
	r = rec(0xabc000, DMAR_FAULT_WRITE);
	CHECK_ST(dmar_faultq_push(q, &r), DMAR_OK);
	CHECK_EQ(dmar_faultq_drain(q, out, 16), 6);
	CHECK_EQ(out[4].seq, 8);
	CHECK_EQ(out[5].seq, 11); /* 9 and 10 were dropped: the gap shows it */
	CHECK_EQ(out[5].reason, DMAR_FAULT_WRITE);
	CHECK_EQ(dmar_faultq_drain(q, out, 16), 0);
	dmar_faultq_get_stats(q, &st);
	CHECK_EQ(st.drained, 9);
	dmar_faultq_destroy(q);
	CHECK_ST(dmar_faultq_create(6, &q), DMAR_E_INVALID);
	CHECK_ST(dmar_faultq_create(1, &q), DMAR_E_INVALID);
}

#define PER_PRODUCER 200000
static dmar_faultq *sq;
static int done_producers;

static void *producer(void *arg)
{
	for (uint64_t i = 0; i < PER_PRODUCER; i++) {
		dmar_fault_record r = rec((uintptr_t)arg << 40 | i, DMAR_FAULT_NOT_PRESENT);

		(void)dmar_faultq_push(sq, &r);
	}
	__atomic_fetch_add(&done_producers, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* fault.h: a snapshot taken while producers and a consumer run has faults = stored +
 * dropped and never more drained than stored */
static void *snapshots(void *arg)
{
	uint64_t *bad = arg;

	while (__atomic_load_n(&done_producers, __ATOMIC_ACQUIRE) < 2) {
		dmar_faultq_stats st;

		dmar_faultq_get_stats(sq, &st);
		*bad += st.drained > st.stored || st.faults != st.stored + st.dropped;
	}
	return NULL;
}

TEST(S29_producers_and_a_consumer_lose_nothing_silently)
{
	pthread_t th[2], snap;
	uint64_t bad_snapshots = 0;
	uint8_t *seen = calloc(2 * PER_PRODUCER + 1, 1);
	uint64_t last[2] = { 0, 0 }, drained = 0, dup = 0, order = 0;
	dmar_fault_record out[256];
	dmar_faultq_stats st;

	REQUIRE(seen && dmar_faultq_create(1024, &sq) == DMAR_OK);
	for (uintptr_t i = 0; i < 2; i++)
		REQUIRE(pthread_create(&th[i], NULL, producer, (void *)(i + 1)) == 0);
	REQUIRE(pthread_create(&snap, NULL, snapshots, &bad_snapshots) == 0);
	for (;;) {
		int finished = __atomic_load_n(&done_producers, __ATOMIC_ACQUIRE) == 2;
		size_t n = dmar_faultq_drain(sq, out, 256);

		for (size_t k = 0; k < n; k++) {
			uint64_t p = (out[k].addr >> 40) - 1, i = out[k].addr & ((1ull << 40) - 1);

			dup += seen[out[k].seq]++;
			order += i < last[p] && last[p]; /* one producer's records stay in order */
			last[p] = i;
		}
		drained += n;
		if (finished && n == 0)
			break;
	}
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	pthread_join(snap, NULL);
	CHECK_EQ(bad_snapshots, 0);
	dmar_faultq_get_stats(sq, &st);
	printf("# %" PRIu64 " faults: %" PRIu64 " stored, %" PRIu64 " dropped, %" PRIu64 " drained\n",
	       st.faults, st.stored, st.dropped, drained);
	CHECK_EQ(st.faults, 2 * PER_PRODUCER);
	CHECK_EQ(st.stored + st.dropped, 2 * PER_PRODUCER);
	CHECK_EQ(drained, st.stored);
	CHECK_EQ(dup, 0);
	CHECK_EQ(order, 0);
	dmar_faultq_destroy(sq);
	free(seen);
}

RUN_TESTS(T(S29_overflow_is_counted_and_visible_in_sequence_numbers),
	  T(S29_producers_and_a_consumer_lose_nothing_silently))
