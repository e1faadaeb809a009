/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* S31 / DESIGN decision 3: readers walk without locks while one writer maps, unmaps and
 * splits.  Proves, under ASan/UBSan in CI:
 *  - no torn read: every translation is a frame the writer really mapped at that page;
 *  - no use of a freed table: freed table pages are filled with 0xA5 and ASan-poisoned
 *    (DMAR_PHYSMEM_POISON_FREED), so a late reader either crashes ASan or walks garbage
 *    that fails the checks below;
 *  - linearisable unmap: once unmap has returned (the page's state says "unmapped" and
 *    stayed so across the walk) no reader gets the old page, and a map that fails
 *    (overlap) is never visible.
 * The writer publishes, per 4 KiB page, state = gen << 2 | mapped << 1 | busy, where busy
 * is set before the table changes and cleared after the call returns (a seqlock); a reader
 * that sees the same non-busy state before and after its walk must get exactly what that
 * state says.  The frame a mapping uses encodes the generation that mapped it. */
#include <pthread.h>
#include <time.h>

#include "check.h"

#define K4 (1ull << 12)
#define M2 (1ull << 21)
#define G1 (1ull << 30)
#define IOVA_BASE (4 * G1)
#define SLOTS 4 /* 1 GiB slots */
#define NPAGES (SLOTS * (G1 / K4))
#define PBASE (1ull << 44)
#define REGION (SLOTS * G1)
#define NGEN 8 /* frames cycle through NGEN copies of the region */
#define NREADERS 2

static uint64_t *state;      /* per page, atomically accessed */
static uint8_t *big;         /* writer only: per 2 MiB block, leaf size lg2 or 0 */
static dmar_pgtable *pt;
static int stop;
static uint64_t hot;          /* a page near the writer's latest operation */
static uint64_t fails, stable_mapped, stable_unmapped, racy;
static char first_failure[256];

static uint64_t frame(uint64_t gen, uint64_t page)
{
	return PBASE + (gen % NGEN) * REGION + page * K4;
}

static void fail(const char *what, uint64_t page, uint64_t s1, dmar_status st,
		 const dmar_walk_result *r)
{
	if (__atomic_fetch_add(&fails, 1, __ATOMIC_RELAXED) == 0)
		snprintf(first_failure, sizeof(first_failure),
			 "%s: page %" PRIu64 " state %#" PRIx64 " -> %s fault %s pa %#" PRIx64, what,
			 page, s1, dmar_status_str(st), dmar_fault_str(r->fault), r->pa);
}

static void *reader(void *arg)
{
	uint64_t seed = 0x1234567ull * (uintptr_t)arg + 1, sm = 0, su = 0, rc = 0;

	dmar_thread_register();
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		uint64_t page = test_xorshift(&seed) % 2 ? test_xorshift(&seed) % NPAGES
						     : (__atomic_load_n(&hot, __ATOMIC_RELAXED) +
							test_xorshift(&seed) % 1024) % NPAGES;
		uint64_t off = test_xorshift(&seed) % K4 & ~7ull, s1, s2;
		dmar_walk_result r;
		dmar_status st;

		s1 = __atomic_load_n(&state[page], __ATOMIC_ACQUIRE);
		st = dmar_pgtable_walk(pt, IOVA_BASE + page * K4 + off, DMAR_ACCESS_WRITE, &r);
		__atomic_thread_fence(__ATOMIC_ACQUIRE); /* the walk's loads before s2 */
		s2 = __atomic_load_n(&state[page], __ATOMIC_RELAXED);

		if (s1 == s2 && !(s1 & 1)) {
			if (s1 & 2) {
				sm++;
				if (st != DMAR_OK || r.pa != frame(s1 >> 2, page) + off)
					fail("stable mapped page", page, s1, st, &r);
			} else {
				su++;
				if (st != DMAR_E_FAULT || r.fault != DMAR_FAULT_NOT_PRESENT)
					fail("stable unmapped page", page, s1, st, &r);
			}
		} else {
			rc++;
			/* mid-change: either outcome, but a frame must be one this page had */
			if (st == DMAR_OK && (r.pa < PBASE || (r.pa - PBASE) % REGION != page * K4 + off ||
					      (r.pa - PBASE) / REGION >= NGEN))
				fail("racing walk", page, s1, st, &r);
			else if (st != DMAR_OK && r.fault != DMAR_FAULT_NOT_PRESENT)
				fail("racing walk fault", page, s1, st, &r);
		}
		dmar_thread_quiescent();
	}
	__atomic_fetch_add(&stable_mapped, sm, __ATOMIC_RELAXED);
	__atomic_fetch_add(&stable_unmapped, su, __ATOMIC_RELAXED);
	__atomic_fetch_add(&racy, rc, __ATOMIC_RELAXED);
	dmar_thread_unregister();
	return NULL;
}

static void set_busy(uint64_t first, uint64_t n, int only_mapped)
{
	for (uint64_t p = first; p < first + n; p++) {
		uint64_t s = state[p];

		if (!only_mapped || (s & 2))
			__atomic_store_n(&state[p], s | 1, __ATOMIC_RELAXED);
	}
	/* busy marks become visible before any entry the operation stores (release stores) */
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

/* Large leaves that an unmap of [first, first + n) cuts through get split. */
static unsigned note_splits(uint64_t first, uint64_t n)
{
	unsigned splits = 0;
	const uint64_t per2m = M2 / K4, per1g = G1 / K4;
	const uint64_t ends[2] = { first, first + n };

	for (int e = 0; e < 2; e++) {
		uint64_t p = ends[e];

		if (p >= NPAGES)
			continue;
		if (big[p / per2m] == 30 && p % per1g) {
			for (uint64_t b = p / per1g * (per1g / per2m); b < (p / per1g + 1) * (per1g / per2m); b++)
				big[b] = 21;
			splits++;
		}
		if (big[p / per2m] == 21 && p % per2m) {
			big[p / per2m] = 0;
			splits++;
		}
	}
	return splits;
}

TEST(S31_readers_vs_writer_map_unmap_split)
{
	const char *env = getenv("DMAR_STRESS_SECONDS");
	const double seconds = env ? atof(env) : 2.0;
	dmar_physmem *pm = test_physmem(DMAR_PHYSMEM_POISON_FREED);
	dmar_pgtable_config cfg;
	pthread_t th[NREADERS];
	uint64_t seed = 42, gen = 0, maps = 0, exists = 0, unmaps = 0, splits = 0;
	struct timespec t0, t;
	dmar_physmem_stats st;

	state = calloc(NPAGES, sizeof(*state));
	big = calloc(NPAGES / (M2 / K4), 1);
	REQUIRE(state && big);
	dmar_pgtable_config_default(&cfg);
	REQUIRE(dmar_pgtable_create(pm, &cfg, &pt) == DMAR_OK);
	for (uintptr_t i = 0; i < NREADERS; i++)
		REQUIRE(pthread_create(&th[i], NULL, reader, (void *)i) == 0);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		uint64_t r = test_xorshift(&seed), first, n, mapped = 0, done = 0;
		int kind = (int)(r % 100);

		/* size class: 1 GiB slot, 2 MiB block, unaligned 2 MiB span, or 1-64 pages */
		if (kind < 4) {
			first = test_xorshift(&seed) % SLOTS * (G1 / K4);
			n = G1 / K4;
		} else if (kind < 30) {
			first = test_xorshift(&seed) % (NPAGES / 512) * 512;
			n = 512;
		} else if (kind < 45) {
			first = test_xorshift(&seed) % (NPAGES - 512);
			n = 512;
		} else {
			first = test_xorshift(&seed) % (NPAGES - 64);
			n = 1 + test_xorshift(&seed) % 64;
		}
		for (uint64_t p = first; p < first + n; p++)
			mapped += (state[p] >> 1) & 1;
		__atomic_store_n(&hot, first, __ATOMIC_RELAXED);
		gen++;

		if (test_xorshift(&seed) % 2 && (first + n) * K4 <= REGION) {
			dmar_status want = mapped ? DMAR_E_EXISTS : DMAR_OK, got;

			if (want == DMAR_OK)
				set_busy(first, n, 0);
			got = dmar_pgtable_map(pt, IOVA_BASE + first * K4, frame(gen, first), n * K4,
					       DMAR_PROT_READ | DMAR_PROT_WRITE);
			CHECK_ST(got, want);
			if (got != DMAR_OK) {
				exists++;
				continue;
			}
			maps++;
			if (n == G1 / K4)
				memset(big + first / 512, 30, 512);
			else if (n == 512 && first % 512 == 0)
				big[first / 512] = 21;
			for (uint64_t p = first; p < first + n; p++)
				__atomic_store_n(&state[p], gen << 2 | 2, __ATOMIC_RELEASE);
		} else {
			set_busy(first, n, 1);
			splits += note_splits(first, n);
			CHECK_ST(dmar_pgtable_unmap(pt, IOVA_BASE + first * K4, n * K4, &done), DMAR_OK);
			CHECK_EQ(done, mapped * K4);
			unmaps++;
			for (uint64_t p = first; p < first + n; p++)
				if (state[p] & 2)
					__atomic_store_n(&state[p], gen << 2, __ATOMIC_RELEASE);
			for (uint64_t b = first / 512; b <= (first + n - 1) / 512; b++)
				if (first <= b * 512 && (b + 1) * 512 <= first + n)
					big[b] = 0;
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) * 1e-9 < seconds);

	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < NREADERS; i++)
		pthread_join(th[i], NULL);
	printf("# writer: %" PRIu64 " maps, %" PRIu64 " refused overlaps, %" PRIu64
	       " unmaps, %" PRIu64 " splits; readers: %" PRIu64 " stable-mapped, %" PRIu64
	       " stable-unmapped, %" PRIu64 " racing checks; %" PRIu64 " table pages\n",
	       maps, exists, unmaps, splits, stable_mapped, stable_unmapped, racy,
	       dmar_pgtable_table_pages(pt));
	if (fails)
		printf("#   %" PRIu64 " failures, first: %s\n", fails, first_failure);
	CHECK_EQ(fails, 0);
	/* the run must have exercised what it claims */
	CHECK(maps > 50 && unmaps > 50 && exists > 10 && splits > 5);
	CHECK(stable_mapped > 1000 && stable_unmapped > 1000);

	CHECK_ST(dmar_pgtable_unmap(pt, IOVA_BASE, REGION, NULL), DMAR_OK);
	dmar_pgtable_destroy(pt);
	dmar_physmem_get_stats(pm, &st);
	CHECK_EQ(st.allocated_frames, 0); /* every table page came back after its grace period */
	dmar_physmem_destroy(pm);
	free(state);
	free(big);
}

RUN_TESTS(T(S31_readers_vs_writer_map_unmap_split))
