/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The device model's fetch and its IOMMU traffic, exactly: descriptors are fetched in bursts
 * with one translation per ring page the burst touches, a ring page that faults stops the
 * device at its first slot (the slots before it complete), nothing is translated once and
 * used in a later round (an unmap between rounds is seen), a ring inside one page that wraps
 * asks for its page once, and a burst refused by an exclusive window (S18) is retried after
 * it with one fault per refused fetch.  ring_demo checks the copies at scale. */
#define _POSIX_C_SOURCE 200809L
#include <sched.h>
#include <time.h>

#include "check.h"
#include "ring_dev.h"

#define K4 4096ull
#define RING_IOVA 0x100000ull
#define SRC_IOVA 0x200000ull
#define DST_IOVA 0x300000ull
#define LEN 64u
#define RW (DMAR_PROT_READ | DMAR_PROT_WRITE)

struct fx {
	struct test_fx sys; /* a remapped domain, a 32-bit device */
	struct ringdev *rd;
	unsigned order;
	uint8_t *ring[2];  /* host addresses of the ring's pages */
	uint8_t *src, *dst; /* one page each */
	uint64_t submitted;
};

static uint8_t *map_page(struct fx *f, uint64_t iova, unsigned prot)
{
	dmar_pa_t pa;

	if (dmar_physmem_alloc(f->sys.pm, 1, 12, DMAR_PLACE_ANY, 0, &pa) != DMAR_OK ||
	    dmar_domain_map(f->sys.dom, iova, pa, K4, prot) != DMAR_OK) {
		printf("Bail out! map_page\n");
		exit(2);
	}
	return dmar_physmem_host_ptr(f->sys.pm, pa, K4);
}

/* A remapped 32-bit device with a ring of 2^order slots (one page, or two), a source and a
 * destination page; @drain: the device drains the IOMMU's fault queue itself. */
static void setup(struct fx *f, unsigned order, int drain)
{
	memset(f, 0, sizeof(*f));
	f->order = order;
	test_fx_setup(&f->sys, DMAR_DOMAIN_REMAPPED, 32, 64);
	f->ring[0] = map_page(f, RING_IOVA, RW);
	if (((1ull << order) * RINGDEV_DESC_SIZE) > K4)
		f->ring[1] = map_page(f, RING_IOVA + K4, RW);
	f->src = map_page(f, SRC_IOVA, DMAR_PROT_READ);
	f->dst = map_page(f, DST_IOVA, RW);
	for (unsigned i = 0; i < K4; i++)
		f->src[i] = (uint8_t)(i * 7 + 1);
	if (ringdev_create(f->sys.pm, f->sys.dev, drain ? dmar_iommu_faults(f->sys.mmu) : NULL,
			   &f->rd) ||
	    ringdev_start(f->rd)) {
		printf("Bail out! ringdev\n");
		exit(2);
	}
	ringdev_mmio_write(f->rd, RINGDEV_REG_RING_BASE, RING_IOVA);
	ringdev_mmio_write(f->rd, RINGDEV_REG_RING_ORDER, order);
}

static void teardown(struct fx *f)
{
	ringdev_destroy(f->rd); /* stops it */
	test_fx_teardown(&f->sys);
}

static struct ringdev_desc *slot(struct fx *f, uint64_t idx)
{
	const uint64_t off = (idx & ((1ull << f->order) - 1)) * RINGDEV_DESC_SIZE;

	return (struct ringdev_desc *)(void *)(f->ring[off / K4] + off % K4);
}

/* Descriptor idx copies LEN bytes from src + 64 * (idx % 64) to dst + 64 * (idx % 64). */
static void fill(struct fx *f, uint64_t idx)
{
	struct ringdev_desc *d = slot(f, idx);
	const uint64_t off = LEN * (idx % (K4 / LEN));

	d->src = SRC_IOVA + off;
	d->dst = DST_IOVA + off;
	d->len = LEN;
	d->flags = 0;
	d->cookie = (uint32_t)idx;
	__atomic_store_n(&d->status, RINGDEV_ST_PENDING, __ATOMIC_RELAXED);
}

/* Fill up to @tail and ring the doorbell once. */
static void submit(struct fx *f, uint64_t tail)
{
	while (f->submitted < tail)
		fill(f, f->submitted++);
	ringdev_mmio_write(f->rd, RINGDEV_REG_TAIL, tail);
}

/* Wait until HEAD reaches @head or the device halts (at most 10 s); returns HEAD. */
static uint64_t wait_head(struct fx *f, uint64_t head)
{
	for (unsigned i = 0; i < 1000000; i++) {
		const uint64_t h = ringdev_mmio_read(f->rd, RINGDEV_REG_HEAD);
		struct timespec t = { 0, 10000 };

		if (h >= head || ringdev_mmio_read(f->rd, RINGDEV_REG_ERROR))
			return h;
		dmar_thread_quiescent();
		nanosleep(&t, NULL);
	}
	return ringdev_mmio_read(f->rd, RINGDEV_REG_HEAD);
}

static uint32_t status(struct fx *f, uint64_t idx)
{
	return __atomic_load_n(&slot(f, idx)->status, __ATOMIC_ACQUIRE);
}

static void stop(struct fx *f)
{
	dmar_thread_offline(); /* about to join the device thread */
	ringdev_stop(f->rd);
	dmar_thread_online();
}

TEST(ring_fetch_asks_once_per_ring_page_per_burst)
{
	struct fx f;
	struct ringdev_stats st;
	dmar_device_stats ds;
	int copied = 1;

	setup(&f, 8, 1); /* 256 slots: two pages, slot 128 starts the second */
	submit(&f, 112);  /* rounds of 32, 32, 32, 16 slots, all in the first page */
	REQUIRE(wait_head(&f, 112) == 112);
	submit(&f, 144);  /* one burst of 32 across the page boundary: two fetch requests */
	CHECK_EQ(wait_head(&f, 144), 144);
	stop(&f);
	ringdev_get_stats(f.rd, &st);
	dmar_device_get_stats(f.sys.dev, &ds);
	CHECK_EQ(st.completed[RINGDEV_ST_OK], 144);
	CHECK_EQ(st.batches, 2 * 5);           /* a fetch batch and a data batch per round */
	CHECK_EQ(st.requests, 4 + 2 + 2 * 144); /* a ring page per round (two in the last) */
	CHECK_EQ(ds.translations, st.requests);
	for (uint64_t i = 0; i < 144; i++)
		CHECK_EQ(status(&f, i), RINGDEV_ST_OK);
	for (unsigned i = 0; i < K4; i++)
		copied &= f.dst[i] == f.src[i];
	CHECK(copied);
	CHECK_EQ(ringdev_mmio_read(f.rd, RINGDEV_REG_ERROR), 0);
	teardown(&f);
}

TEST(ring_page_that_faults_stops_the_device_at_its_first_slot)
{
	struct fx f;
	dmar_fault_record r[8];
	uint64_t unmapped = 0;

	setup(&f, 8, 0); /* the test drains the fault queue */
	CHECK_ST(dmar_domain_unmap(f.sys.dom, RING_IOVA + K4, K4, &unmapped), DMAR_OK);
	CHECK_EQ(unmapped, K4);
	submit(&f, 112);
	REQUIRE(wait_head(&f, 112) == 112);
	submit(&f, 144); /* a burst across into the unmapped page */
	CHECK_EQ(wait_head(&f, 144), 128); /* slots 112..127 complete, 128 is never fetched */
	stop(&f);
	CHECK_EQ(ringdev_mmio_read(f.rd, RINGDEV_REG_HEAD), 128);
	CHECK_EQ(ringdev_mmio_read(f.rd, RINGDEV_REG_ERROR), (RING_IOVA + K4) | 1);
	for (uint64_t i = 112; i < 128; i++)
		CHECK_EQ(status(&f, i), RINGDEV_ST_OK);
	/* one fault per fetch of the page, not per slot: the burst that completed 112..127,
	 * then the one that halted */
	REQUIRE(dmar_faultq_drain(dmar_iommu_faults(f.sys.mmu), r, 8) == 2);
	for (unsigned i = 0; i < 2; i++) {
		CHECK_EQ(r[i].addr, RING_IOVA + K4);
		CHECK_EQ(r[i].reason, DMAR_FAULT_NOT_PRESENT);
		CHECK_EQ(r[i].access, DMAR_ACCESS_READ | DMAR_ACCESS_WRITE);
		CHECK_EQ(r[i].requester, TEST_FX_RID);
	}
	teardown(&f);
}

TEST(ring_unmapped_between_rounds_is_seen_by_the_next_round)
{
	struct fx f;
	uint64_t unmapped = 0;

	setup(&f, 8, 1);
	submit(&f, 32);
	REQUIRE(wait_head(&f, 32) == 32);
	CHECK_ST(dmar_domain_unmap(f.sys.dom, RING_IOVA, K4, &unmapped), DMAR_OK);
	submit(&f, 64); /* the same ring page: translated again, and refused */
	CHECK_EQ(wait_head(&f, 64), 32);
	stop(&f);
	CHECK_EQ(ringdev_mmio_read(f.rd, RINGDEV_REG_ERROR), (RING_IOVA + 32 * RINGDEV_DESC_SIZE) | 1);
	CHECK_EQ(status(&f, 32), RINGDEV_ST_PENDING);
	{
		struct ringdev_stats st;

		ringdev_get_stats(f.rd, &st);
		CHECK_EQ(st.fault_reasons[DMAR_FAULT_NOT_PRESENT], 1);
		CHECK_EQ(st.completed[RINGDEV_ST_OK], 32);
	}
	teardown(&f);
}

TEST(ring_within_one_page_that_wraps_asks_for_its_page_once)
{
	struct fx f;
	struct ringdev_stats st;

	setup(&f, 3, 1); /* 8 slots, 256 bytes */
	submit(&f, 5);
	REQUIRE(wait_head(&f, 5) == 5);
	submit(&f, 13); /* slots 5, 6, 7, 0, 1, 2, 3, 4 in one burst */
	CHECK_EQ(wait_head(&f, 13), 13);
	stop(&f);
	ringdev_get_stats(f.rd, &st);
	CHECK_EQ(st.completed[RINGDEV_ST_OK], 13);
	CHECK_EQ(st.batches, 4);
	CHECK_EQ(st.requests, 1 + 2 * 5 + 1 + 2 * 8);
	for (uint64_t i = 5; i < 13; i++)
		CHECK_EQ(status(&f, i), RINGDEV_ST_OK);
	CHECK(!memcmp(f.dst, f.src, 13 * LEN));
	teardown(&f);
}

TEST(S18_ring_fetch_refused_in_an_exclusive_window_is_retried_after_it)
{
	struct fx f;
	struct ringdev_stats st;
	dmar_device_stats ds;
	struct timespec t = { 0, 100000 };
	unsigned waited = 0;

	setup(&f, 8, 1);
	CHECK_ST(dmar_device_begin_exclusive(f.sys.dev), DMAR_OK);
	submit(&f, 8);
	do { /* the device asks, and is refused (a few times: 100 us here, 20 us its back-off) */
		dmar_thread_offline();
		nanosleep(&t, NULL);
		dmar_thread_online();
		dmar_device_get_stats(f.sys.dev, &ds);
	} while (ds.faults[DMAR_FAULT_EXCLUSIVE] < 3 && ++waited < 100000);
	CHECK(ds.faults[DMAR_FAULT_EXCLUSIVE] >= 3);
	CHECK_EQ(ringdev_mmio_read(f.rd, RINGDEV_REG_HEAD), 0);
	CHECK_EQ(status(&f, 0), RINGDEV_ST_PENDING);
	CHECK_ST(dmar_device_end_exclusive(f.sys.dev), DMAR_OK);
	CHECK_EQ(wait_head(&f, 8), 8);
	stop(&f);
	ringdev_get_stats(f.rd, &st);
	dmar_device_get_stats(f.sys.dev, &ds);
	CHECK(st.retries >= 3);
	CHECK_EQ(st.retries_data, 0);
	/* one request, so one fault, per refused fetch; every one drained and counted */
	CHECK_EQ(st.fault_reasons[DMAR_FAULT_EXCLUSIVE], st.retries);
	CHECK_EQ(ds.faults[DMAR_FAULT_EXCLUSIVE], st.retries);
	CHECK_EQ(st.faults_drained, st.retries);
	CHECK_EQ(st.completed[RINGDEV_ST_OK], 8);
	CHECK_EQ(ringdev_mmio_read(f.rd, RINGDEV_REG_ERROR), 0);
	teardown(&f);
}

RUN_TESTS(T(ring_fetch_asks_once_per_ring_page_per_burst),
	  T(ring_page_that_faults_stops_the_device_at_its_first_slot),
	  T(ring_unmapped_between_rounds_is_seen_by_the_next_round),
	  T(ring_within_one_page_that_wraps_asks_for_its_page_once),
	  T(S18_ring_fetch_refused_in_an_exclusive_window_is_retried_after_it))
