/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* S31 / design decision 3, S28: readers translate without locks while one writer maps,
 * unmaps and splits; three readers' paths: the bare table walk, dmar_translate through the
 * IOTLB and page-walk cache, and dmar_translate_batch.  With the IOTLB, unmap invalidates
 * through the table's flush hook before it returns.  Proves, under ASan/UBSan in CI:
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
#include "iotlb_internal.h"

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

#define BATCH 16

enum reader_mode { WALK, SINGLE, BATCHED };
static enum reader_mode mode;
/* Small world: readers and writer stay within the first SMALL_PAGES pages and the writer maps
 * and unmaps 1-4 pages at a time, so the readers' L0 banks hold every page and every unmap is
 * a page-selective invalidation that must clear them (iotlb/cache.h).  Medium world: the same
 * over MEDIUM_PAGES pages, with an IOTLB that holds them all, so the readers' banks grow while
 * they are shot down, and start small again whenever the writer retires the space's ASID. */
#define SMALL_PAGES 64
#define MEDIUM_PAGES 12288
static uint64_t world; /* pages the readers and writer stay within; 0: everywhere */
/* The table's format (levels 0: the default, x86-64 4 levels). */
static dmar_pt_format under_test;
static uint32_t bank_seen[NREADERS]; /* per reader: the largest size its L0 bank had */
static int fold_banks; /* DMAR_STRESS_L0_FOLD set: readers keep their banks folded */
static dmar_space *space;
static uint64_t *state;      /* per page, atomically accessed */
static uint8_t *big;         /* writer only: per 2 MiB block, leaf size lg2 or 0 */
static dmar_pgtable *pt;
static int stop;
/* The writer's latest operations (first page, page count): readers aim most requests there,
 * where a stale fill would be found. */
#define HOT 16
static uint64_t hot_first[HOT], hot_n[HOT], hot_next;
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
			 "%s: page %" PRIu64 " state %#" PRIx64 " -> %s fault %s pa %#" PRIx64
			 " (flags %#" PRIx64 ", lg2 %u)", what, page, s1, dmar_status_str(st),
			 dmar_fault_str(r->fault), r->pa, r->pte, r->page_lg2);
}

static void check_one(uint64_t page, uint64_t off, uint64_t s1, uint64_t s2, dmar_status st,
		      const dmar_walk_result *r, uint64_t *sm, uint64_t *su, uint64_t *rc)
{
	if (s1 == s2 && !(s1 & 1)) {
		if (s1 & 2) {
			(*sm)++;
			if (st != DMAR_OK || r->pa != frame(s1 >> 2, page) + off)
				fail("stable mapped page", page, s1, st, r);
		} else {
			(*su)++;
			if (st != DMAR_E_FAULT || r->fault != DMAR_FAULT_NOT_PRESENT)
				fail("stable unmapped page", page, s1, st, r);
		}
	} else {
		(*rc)++;
		/* mid-change: either outcome, but a frame must be one this page had */
		if (st == DMAR_OK && (r->pa < PBASE || (r->pa - PBASE) % REGION != page * K4 + off ||
				      (r->pa - PBASE) / REGION >= NGEN))
			fail("racing walk", page, s1, st, r);
		else if (st != DMAR_OK && r->fault != DMAR_FAULT_NOT_PRESENT)
			fail("racing walk fault", page, s1, st, r);
	}
}

static void *reader(void *arg)
{
	uint64_t seed = 0x1234567ull * (uintptr_t)arg + 1, sm = 0, su = 0, rc = 0;
	const unsigned k = mode == BATCHED ? BATCH : 1;
	uint32_t bank = 0; /* the largest size of this thread's L0 bank seen (medium world) */

	dmar_thread_register();
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		uint64_t page[BATCH], off[BATCH], s1[BATCH], s2;
		dmar_request req[BATCH];
		dmar_result res[BATCH];
		dmar_walk_result r[BATCH];
		dmar_status st[BATCH];

		for (unsigned i = 0; i < k; i++) {
			if (world) {
				page[i] = test_xorshift(&seed) % world;
			} else if (test_xorshift(&seed) % 4 == 0) {
				page[i] = test_xorshift(&seed) % NPAGES;
			} else {
				uint64_t h = test_xorshift(&seed) % HOT;
				uint64_t first = __atomic_load_n(&hot_first[h], __ATOMIC_RELAXED);
				uint64_t n = __atomic_load_n(&hot_n[h], __ATOMIC_RELAXED);

				page[i] = (first + test_xorshift(&seed) % (n < 64 ? n + 1 : 64)) % NPAGES;
			}
			off[i] = test_xorshift(&seed) % K4 & ~7ull;
			req[i].iova = IOVA_BASE + page[i] * K4 + off[i];
			req[i].access = DMAR_ACCESS_WRITE;
			s1[i] = __atomic_load_n(&state[page[i]], __ATOMIC_ACQUIRE);
		}
		if (mode == WALK) {
			st[0] = dmar_pgtable_walk(pt, req[0].iova, DMAR_ACCESS_WRITE, &r[0]);
		} else {
			if (mode == SINGLE)
				st[0] = dmar_translate(space, req[0].iova, DMAR_ACCESS_WRITE, &res[0]);
			else if (dmar_translate_batch(space, req, res, k, NULL) != DMAR_OK)
				fail("batch status", 0, 0, DMAR_E_INVALID, &r[0]);
			for (unsigned i = 0; i < k; i++) {
				if (mode == BATCHED)
					st[i] = res[i].fault ? DMAR_E_FAULT : DMAR_OK;
				r[i].pa = res[i].pa;
				r[i].fault = (dmar_fault)res[i].fault;
				r[i].pte = res[i].flags; /* reported on failure */
				r[i].page_lg2 = res[i].page_lg2;
			}
		}
		__atomic_thread_fence(__ATOMIC_ACQUIRE); /* the walk's loads before s2 */
		for (unsigned i = 0; i < k; i++) {
			s2 = __atomic_load_n(&state[page[i]], __ATOMIC_RELAXED);
			check_one(page[i], off[i], s1[i], s2, st[i], &r[i], &sm, &su, &rc);
		}
		dmar_thread_quiescent();
		if (world == MEDIUM_PAGES) {
			const struct dmar_l0 *l0 = dmar__iotlb_thread_bank(space->tlb, space->l0bank);

			if (l0 && l0->mask + 1 > bank)
				bank = l0->mask + 1;
		}
		if (fold_banks) {
			/* DMAR_STRESS_L0_FOLD: the owner re-indexes its bank folded whenever a
			 * rebind made it plain (l0.h), so that the shootdowns meet folded banks */
			struct dmar_l0 *l0 = dmar__iotlb_thread_bank(space->tlb, space->l0bank);
			const uint64_t key = l0 ? __atomic_load_n(&l0->key, __ATOMIC_RELAXED) : 0;

			if (key && !dmar_l0_folded(l0))
				dmar__l0_reset(l0, key, l0->mask + 1, 1);
		}
	}
	bank_seen[(uintptr_t)arg] = bank; /* read after the join */
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

/* Tagged mode: the space is in group TAG and the writer invalidates the group, while a
 * second writer makes, retags, uses and destroys other spaces in that group and the next. */
#define TAG 5
static int tagged;
static dmar_iotlb *tag_tlb;
static uint64_t churned;

static void flush_hook(void *ctx, dmar_iova_t iova, uint64_t size)
{
	if (tagged)
		CHECK_ST(dmar_iotlb_invalidate_tag_range(tag_tlb, TAG, iova, size, NULL), DMAR_OK);
	else
		dmar_space_invalidate_range(ctx, iova, size);
}

static void *churn(void *arg)
{
	const dmar_physmem *pm = arg;
	uint64_t seed = 7, n = 0;

	dmar_thread_register();
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		dmar_space *sp;
		dmar_result r;
		size_t k;

		if (dmar_space_create(tag_tlb, pm, dmar_pgtable_root(pt), dmar_pgtable_format(pt),
				      &sp) != DMAR_OK) {
			CHECK(0);
			break;
		}
		/* it translates only while in the writer's group: a space that caches a table must
		 * get the invalidations of its changes (tables freed after them are poisoned) */
		CHECK_ST(dmar_space_set_tag(sp, TAG), DMAR_OK);
		for (int i = 0; i < 64; i++)
			(void)dmar_translate(sp, IOVA_BASE + test_xorshift(&seed) % NPAGES * K4,
					     DMAR_ACCESS_READ, &r);
		CHECK_ST(dmar_space_set_tag(sp, TAG + 1), DMAR_OK);
		CHECK_ST(dmar_iotlb_invalidate_tag(tag_tlb, TAG + 1, &k), DMAR_OK);
		CHECK_EQ(k, 1);
		dmar_space_destroy(sp);
		dmar_thread_quiescent();
		n++;
	}
	churned = n;
	dmar_thread_unregister();
	return NULL;
}

static void run(enum reader_mode m, uint64_t world_pages)
{
	const char *env = getenv("DMAR_STRESS_SECONDS");
	const double seconds = env ? atof(env) : 2.0;
	dmar_physmem *pm = test_physmem(DMAR_PHYSMEM_POISON_FREED);
	dmar_pgtable_config cfg;
	pthread_t th[NREADERS], churner;
	dmar_iotlb *tlb = NULL;
	uint64_t seed = 42, gen = 0, maps = 0, exists = 0, unmaps = 0, splits = 0;
	struct timespec t0, t;
	dmar_physmem_stats st;

	mode = m;
	fold_banks = getenv("DMAR_STRESS_L0_FOLD") != NULL;
	world = world_pages;
	memset(bank_seen, 0, sizeof(bank_seen));
	stop = 0;
	fails = stable_mapped = stable_unmapped = racy = 0;
	state = calloc(NPAGES, sizeof(*state));
	big = calloc(NPAGES / (M2 / K4), 1);
	REQUIRE(state && big);
	dmar_pgtable_config_default(&cfg);
	if (under_test.levels)
		cfg.format = under_test;
	REQUIRE(dmar_pgtable_create(pm, &cfg, &pt) == DMAR_OK);
	if (mode != WALK) {
		/* small, so that fills and evictions race the writer all the time (but big enough
		 * to hold the medium world) */
		dmar_iotlb_config tc = { .sets = world == MEDIUM_PAGES ? 4096 : 1024,
					 .ways = world == MEDIUM_PAGES ? 8 : 4, .pwc_sets = 64 };

		REQUIRE(dmar_iotlb_create(&tc, &tlb) == DMAR_OK);
		REQUIRE(dmar_space_create(tlb, pm, dmar_pgtable_root(pt), dmar_pgtable_format(pt),
					  &space) == DMAR_OK);
		dmar_pgtable_set_flush(pt, flush_hook, space);
		tag_tlb = tlb;
		if (tagged)
			REQUIRE(dmar_space_set_tag(space, TAG) == DMAR_OK);
	}
	for (uintptr_t i = 0; i < NREADERS; i++)
		REQUIRE(pthread_create(&th[i], NULL, reader, (void *)i) == 0);
	churned = 0;
	if (tagged)
		REQUIRE(pthread_create(&churner, NULL, churn, pm) == 0);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		uint64_t r = test_xorshift(&seed), first, n, mapped = 0, done = 0;
		int kind = (int)(r % 100);

		/* size class: 1 GiB slot, 2 MiB block, unaligned 2 MiB span, or 1-64 pages */
		if (world) {
			first = test_xorshift(&seed) % (world - 4);
			n = 1 + test_xorshift(&seed) % 4;
			if (world == MEDIUM_PAGES && test_xorshift(&seed) % (1 << 20) == 0)
				dmar_space_invalidate(space); /* a new ASID: the banks rebind */
			/* medium world: a pause between changes, so that the readers refill their
			 * banks faster than shootdowns empty them (what makes a bank grow: fills
			 * that evict, not fills into entries a shootdown emptied) on a slow
			 * (sanitized, loaded) machine too */
			for (volatile int spin = 0; world == MEDIUM_PAGES && spin < 2000; spin++)
				;
		} else if (kind < 4) {
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
		__atomic_store_n(&hot_first[hot_next % HOT], first, __ATOMIC_RELAXED);
		__atomic_store_n(&hot_n[hot_next++ % HOT], n, __ATOMIC_RELAXED);
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
	if (tagged) {
		pthread_join(churner, NULL);
		printf("# second writer: %" PRIu64 " spaces made, used, retagged and destroyed\n",
		       churned);
		CHECK(churned > 10);
	}
	printf("# %s, format %u, %u levels, flags %#x: writer: %" PRIu64 " maps, %" PRIu64 " refused overlaps, %" PRIu64
	       " unmaps, %" PRIu64 " splits; readers: %" PRIu64 " stable-mapped, %" PRIu64
	       " stable-unmapped, %" PRIu64 " racing checks; %" PRIu64 " table pages\n",
	       m == WALK ? "walk" : m == SINGLE ? "translate" : "translate_batch",
	       dmar_pgtable_format(pt)->kind, dmar_pgtable_format(pt)->levels,
	       dmar_pgtable_format(pt)->flags, maps, exists,
	       unmaps, splits, stable_mapped, stable_unmapped, racy,
	       dmar_pgtable_table_pages(pt));
	if (fails)
		printf("#   %" PRIu64 " failures, first: %s\n", fails, first_failure);
	CHECK_EQ(fails, 0);
	/* the run must have exercised what it claims */
	CHECK(maps > 50 && unmaps > 50 && exists > 10 && (world || splits > 5));
	CHECK(stable_mapped > 1000 && stable_unmapped > 1000);

	if (tlb) {
		dmar_iotlb_stats ts;

		dmar_iotlb_get_stats(tlb, &ts);
		printf("# iotlb: %" PRIu64 " translations, %" PRIu64 " hits, %" PRIu64
		       " fills dropped for racing an invalidation, %" PRIu64 " invalidations\n",
		       ts.translations, ts.hits, ts.fills_dropped, ts.invalidations);
		CHECK(ts.hits > 1000);
		if (world) {
			/* under this churn an adaptive bank mostly stands aside; the stress-l0 run
			 * (DMAR_L0=always) keeps the banks answering, and shot down, all along, and
			 * in the medium world growing */
			const char *m = getenv("DMAR_L0");
			uint32_t bank_max = 0;

			for (int i = 0; i < NREADERS; i++)
				bank_max = bank_seen[i] > bank_max ? bank_seen[i] : bank_max;
			printf("# l0: %" PRIu64 " hits%s\n", ts.l0_hits,
			       fold_banks ? " (readers' banks folded)" : "");
			if (world == MEDIUM_PAGES)
				printf("# readers' banks grew to %u entries\n", bank_max);
			if (m && strcmp(m, "always") == 0) {
				/* (a share, not a count: a loaded machine gives the readers less time) */
				CHECK(ts.l0_hits > 10000 && ts.l0_hits * 100 > ts.translations);
				if (world == MEDIUM_PAGES)
					CHECK(bank_max > DMAR_L0_ENTRIES);
			}
		}
	}
	CHECK_ST(dmar_pgtable_unmap(pt, IOVA_BASE, REGION, NULL), DMAR_OK);
	if (tlb) {
		dmar_pgtable_set_flush(pt, NULL, NULL);
		dmar_space_destroy(space);
		CHECK_ST(dmar_iotlb_destroy(tlb), DMAR_OK);
	}
	dmar_pgtable_destroy(pt);
	dmar_physmem_get_stats(pm, &st);
	CHECK_EQ(st.allocated_frames, 0); /* every table page came back after its grace period */
	dmar_physmem_destroy(pm);
	free(state);
	free(big);
}

TEST(S31_walkers_vs_writer_map_unmap_split)
{
	run(WALK, 0);
}

TEST(S28_iotlb_translate_vs_writer_unmap_invalidate)
{
	run(SINGLE, 0);
}

TEST(S28_iotlb_batches_vs_writer_unmap_invalidate)
{
	run(BATCHED, 0);
}

/* The same in the IOMMU formats, with accessed and dirty bits: the readers' write requests
 * set A and D with compare-and-exchange on entries the writer is splitting (a VT-d table with
 * 1 GiB leaves; AMD-Vi tables that also hold leaves of any power-of-two size, repeated over
 * the slots they cover, which unmaps rewrite in place before they split them). */
TEST(S31_S28_every_format_with_accessed_dirty_bits_vs_writer)
{
	static const dmar_pt_format fmts[] = {
		{ .levels = 4, .kind = DMAR_PT_VTD_SS, .flags = DMAR_PT_AD | DMAR_PT_1G },
		{ .levels = 4, .kind = DMAR_PT_AMDV1, .flags = DMAR_PT_AD },
		{ .levels = 6, .kind = DMAR_PT_AMDV1, .flags = DMAR_PT_AD },
	};

	for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		under_test = fmts[i];
		run(i == 2 ? WALK : BATCHED, 0);
	}
	memset(&under_test, 0, sizeof(under_test));
}

/* iotlb.h: the writer invalidates through the space's group (dmar_iotlb_invalidate_tag_range)
 * while a second writer creates, retags, uses and destroys spaces of that group and of
 * another, and invalidates the other group whole: nothing stale, nothing torn. */
TEST(S28_group_invalidations_vs_writer_and_space_churn)
{
	tagged = 1;
	run(BATCHED, 0);
	run(SINGLE, SMALL_PAGES);
	tagged = 0;
}

/* The threads' L0 banks (iotlb/cache.h) against page-selective invalidations: a warm L0
 * never answers with a page whose unmap has returned. */
TEST(S28_l0_banks_vs_page_invalidations)
{
	run(BATCHED, SMALL_PAGES);
}

TEST(S28_l0_banks_vs_page_invalidations_single)
{
	run(SINGLE, SMALL_PAGES);
}

/* ... and while they grow (and rebind small) */
TEST(S28_growing_l0_banks_vs_page_invalidations)
{
	run(BATCHED, MEDIUM_PAGES);
}

TEST(S28_growing_l0_banks_vs_page_invalidations_single)
{
	run(SINGLE, MEDIUM_PAGES);
}

/* Static mappings, an IOTLB of 8 sets x 4 ways and two threads whose working set is far
 * bigger: every translation misses and fills, fillers collide on the same ways all the
 * time, and every result must still be exactly the page's frame (no torn tag/data pair). */
struct storm {
	dmar_space *sp;
	uint64_t seed, wrong, hits;
	double seconds;
};

static void *storm_thread(void *arg)
{
	struct storm *st = arg;
	struct timespec t0, t;

	dmar_thread_register();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		for (int k = 0; k < 1000; k++) {
			dmar_request req[8];
			dmar_result res[8];

			for (int i = 0; i < 8; i++) {
				req[i].iova = IOVA_BASE + test_xorshift(&st->seed) % 4096 * K4 + 8 * (uint64_t)i;
				req[i].access = DMAR_ACCESS_READ;
			}
			if (dmar_translate_batch(st->sp, req, res, 8, NULL) != DMAR_OK) {
				st->wrong++;
				continue;
			}
			for (int i = 0; i < 8; i++) {
				st->hits += res[i].flags & DMAR_RESULT_HIT;
				if (res[i].fault || res[i].pa != PBASE + (req[i].iova - IOVA_BASE))
					st->wrong++;
			}
			dmar_thread_quiescent();
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) * 1e-9 <
		 st->seconds);
	dmar_thread_unregister();
	return NULL;
}

TEST(S28_colliding_fills_never_tear)
{
	dmar_physmem *pm = test_physmem(0);
	dmar_pgtable_config cfg;
	dmar_iotlb_config tc = { .sets = 8, .ways = 4, .pwc_sets = 4 };
	dmar_iotlb *t;
	dmar_space *sp;
	struct storm st[2] = { { .seed = 1 }, { .seed = 2 } };
	pthread_t th[2];
	const char *env = getenv("DMAR_STRESS_SECONDS");

	dmar_pgtable_config_default(&cfg);
	REQUIRE(dmar_pgtable_create(pm, &cfg, &pt) == DMAR_OK);
	/* 4 KiB leaves (pa misaligned by one page would do too; these are aligned to 4 KiB only) */
	for (uint64_t p = 0; p < 4096; p++)
		REQUIRE(dmar_pgtable_map(pt, IOVA_BASE + p * K4, PBASE + p * K4, K4, DMAR_PROT_READ) ==
			DMAR_OK);
	REQUIRE(dmar_iotlb_create(&tc, &t) == DMAR_OK);
	REQUIRE(dmar_space_create(t, pm, dmar_pgtable_root(pt), dmar_pgtable_format(pt), &sp) ==
		DMAR_OK);
	for (int i = 0; i < 2; i++) {
		st[i].sp = sp;
		st[i].seconds = env ? atof(env) : 2.0;
		REQUIRE(pthread_create(&th[i], NULL, storm_thread, &st[i]) == 0);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	printf("# %" PRIu64 " + %" PRIu64 " hits, %" PRIu64 " wrong\n", st[0].hits, st[1].hits,
	       st[0].wrong + st[1].wrong);
	CHECK_EQ(st[0].wrong + st[1].wrong, 0);
	CHECK(st[0].hits + st[1].hits > 1000);
	dmar_space_destroy(sp);
	CHECK_ST(dmar_iotlb_destroy(t), DMAR_OK);
	dmar_pgtable_destroy(pt);
	dmar_physmem_destroy(pm);
}

/* S18 under load: a switcher moves a device between domains A and B (which map the same
 * logical pages to different frames) inside begin/end exclusive-access windows, while readers
 * translate batches.  The switcher publishes phase = 4k + {0: settled, 1: about to begin,
 * 2: inside the window (begin returned; switched there), 3: about to end}; domain
 * k % 2 ? B : A is the one of phase 4k.  A batch whose phase was the same before and after
 * it must be: all from the right domain (phase 4k), or all refused with
 * DMAR_FAULT_EXCLUSIVE (4k+2).  Any batch, whatever the phases, is
 * entirely one of: domain A, domain B, refused; never a mix. */
#define SW_PAGES 256
#define SW_A (1ull << 44)
#define SW_B (2ull << 44)
static dmar_device *sw_dev;
/* Per reader: odd while a batch is in flight (inside an outer read section), and what the
 * batch numbered last_id returned; the switcher checks, right after begin_exclusive returns,
 * that a batch still in flight then is refused (it must have started after the window). */
static uint64_t sw_ctr[NREADERS], sw_last_id[NREADERS], sw_last_kind[NREADERS], sw_waited;
static uint64_t sw_phase, sw_stop, sw_fail, sw_strict_ok, sw_strict_excl, sw_lenient;
static char sw_first[200];

static void sw_failure(const char *what, uint64_t p1, uint64_t p2)
{
	if (__atomic_fetch_add(&sw_fail, 1, __ATOMIC_RELAXED) == 0)
		snprintf(sw_first, sizeof(sw_first), "%s (phases %" PRIu64 " .. %" PRIu64 ")", what, p1, p2);
}

static void *sw_reader(void *arg)
{
	uint64_t seed = (uintptr_t)arg + 7, ok = 0, ex = 0, len = 0;
	const uintptr_t me = (uintptr_t)arg;

	dmar_thread_register();
	while (!__atomic_load_n(&sw_stop, __ATOMIC_RELAXED)) {
		uint64_t id;
		dmar_request q[8];
		dmar_result r[8];
		uint64_t p1, p2;
		int kind = -1; /* 0: A, 1: B, 2: refused */

		for (int i = 0; i < 8; i++) {
			q[i].iova = IOVA_BASE + test_xorshift(&seed) % SW_PAGES * K4 + 8 * (uint64_t)i;
			q[i].access = DMAR_ACCESS_READ;
			q[i].pasid = DMAR_NO_PASID;
		}
		p1 = __atomic_load_n(&sw_phase, __ATOMIC_ACQUIRE);
		dmar__rcu_read_lock();
		id = __atomic_add_fetch(&sw_ctr[me], 1, __ATOMIC_SEQ_CST); /* odd: in flight */
		(void)dmar_device_translate_batch(sw_dev, q, r, 8, NULL);
		__atomic_store_n(&sw_last_kind[me], r[0].fault == DMAR_FAULT_EXCLUSIVE, __ATOMIC_RELAXED);
		__atomic_store_n(&sw_last_id[me], id, __ATOMIC_RELEASE);
		__atomic_add_fetch(&sw_ctr[me], 1, __ATOMIC_SEQ_CST);
		dmar__rcu_read_unlock();
		dmar_thread_quiescent(); /* qsbr: or begin_exclusive would wait for ever */
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		p2 = __atomic_load_n(&sw_phase, __ATOMIC_RELAXED);
		for (int i = 0; i < 8; i++) {
			int k;

			if (r[i].fault == DMAR_FAULT_EXCLUSIVE)
				k = 2;
			else if (!r[i].fault && r[i].pa == SW_A + (q[i].iova - IOVA_BASE))
				k = 0;
			else if (!r[i].fault && r[i].pa == SW_B + (q[i].iova - IOVA_BASE))
				k = 1;
			else
				k = 3;
			if (k == 3 || (kind >= 0 && k != kind))
				sw_failure(k == 3 ? "unexpected result" : "a batch mixed two states", p1, p2);
			kind = k;
		}
		if (p1 != p2 || p1 % 2 == 1) {
			len++;
		} else if (p1 % 4 == 0) {
			ok++;
			if (kind != (int)((p1 / 4) % 2)) {
				char m[96];

				snprintf(m, sizeof(m), "wrong domain (kind %d, fault %u)", kind, r[7].fault);
				sw_failure(m, p1, p2);
			}
		} else {
			ex++;
			if (kind != 2)
				sw_failure("translated inside the exclusive window", p1, p2);
		}
	}
	__atomic_fetch_add(&sw_strict_ok, ok, __ATOMIC_RELAXED);
	__atomic_fetch_add(&sw_strict_excl, ex, __ATOMIC_RELAXED);
	__atomic_fetch_add(&sw_lenient, len, __ATOMIC_RELAXED);
	dmar_thread_unregister();
	return NULL;
}

/* Wait until every reader has finished two more batches (each batch bumps its counter
 * twice), or 2 ms have passed: so that each phase sees traffic whatever the scheduler does
 * (the qsbr build's windows are long, its settled phases would otherwise be short). */
static void sw_let_batches_run(void)
{
	uint64_t start[NREADERS];
	struct timespec t0, t;
	int done;

	for (int i = 0; i < NREADERS; i++)
		start[i] = __atomic_load_n(&sw_ctr[i], __ATOMIC_ACQUIRE);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		done = 1;
		for (int i = 0; i < NREADERS; i++)
			done &= __atomic_load_n(&sw_ctr[i], __ATOMIC_ACQUIRE) >= start[i] + 5;
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while (!done && (t.tv_sec - t0.tv_sec) * 1000000000l + (t.tv_nsec - t0.tv_nsec) < 2000000);
}

TEST(S18_domain_switches_under_load_never_mix)
{
	dmar_physmem *pm = test_physmem(0);
	dmar_iommu_config c;
	dmar_iommu *mmu;
	dmar_domain *dom[2];
	pthread_t th[NREADERS];
	const char *env = getenv("DMAR_STRESS_SECONDS");
	const double seconds = env ? atof(env) : 2.0;
	struct timespec t0, t;
	uint64_t switches = 0;
	dmar_device_stats ds;

	dmar_iommu_config_default(&c);
	REQUIRE(dmar_iommu_create(pm, &c, &mmu) == DMAR_OK);
	for (int d = 0; d < 2; d++) {
		REQUIRE(dmar_domain_create(mmu, DMAR_DOMAIN_REMAPPED, NULL, &dom[d]) == DMAR_OK);
		REQUIRE(dmar_domain_map(dom[d], IOVA_BASE, d ? SW_B : SW_A, SW_PAGES * K4,
					DMAR_PROT_READ) == DMAR_OK);
	}
	REQUIRE(dmar_device_create(mmu, 0x0300, 40, &sw_dev) == DMAR_OK);
	REQUIRE(dmar_device_attach(sw_dev, dom[0]) == DMAR_OK);
	for (uintptr_t i = 0; i < NREADERS; i++)
		REQUIRE(pthread_create(&th[i], NULL, sw_reader, (void *)i) == 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		uint64_t p = __atomic_load_n(&sw_phase, __ATOMIC_RELAXED);

		__atomic_store_n(&sw_phase, p + 1, __ATOMIC_RELEASE);
		CHECK_ST(dmar_device_begin_exclusive(sw_dev), DMAR_OK);
		for (int i = 0; i < NREADERS; i++) {
			uint64_t c = __atomic_load_n(&sw_ctr[i], __ATOMIC_SEQ_CST);

			if (!(c & 1))
				continue;
			while (__atomic_load_n(&sw_ctr[i], __ATOMIC_ACQUIRE) == c)
				;
			sw_waited++;
			if (__atomic_load_n(&sw_last_id[i], __ATOMIC_ACQUIRE) == c &&
			    !__atomic_load_n(&sw_last_kind[i], __ATOMIC_RELAXED))
				sw_failure("a translation in flight after begin_exclusive returned", p, p + 1);
		}
		__atomic_store_n(&sw_phase, p + 2, __ATOMIC_RELEASE);
		sw_let_batches_run(); /* batches inside the window */
		CHECK_ST(dmar_device_switch_domain(sw_dev, dom[(p / 4 + 1) % 2]), DMAR_OK);
		__atomic_store_n(&sw_phase, p + 3, __ATOMIC_RELEASE);
		CHECK_ST(dmar_device_end_exclusive(sw_dev), DMAR_OK);
		__atomic_store_n(&sw_phase, p + 4, __ATOMIC_RELEASE);
		switches++;
		sw_let_batches_run(); /* batches in the settled domain */
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) * 1e-9 < seconds);
	__atomic_store_n(&sw_stop, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < NREADERS; i++)
		pthread_join(th[i], NULL);
	dmar_device_get_stats(sw_dev, &ds);
	printf("# %" PRIu64 " batches in flight right after begin_exclusive, all refused\n", sw_waited);
	printf("# %" PRIu64 " switches; batches checked: %" PRIu64 " in a settled domain, %" PRIu64
	       " inside a window, %" PRIu64 " across a change; %" PRIu64 " refused requests counted\n",
	       switches, sw_strict_ok, sw_strict_excl, sw_lenient, ds.faults[DMAR_FAULT_EXCLUSIVE]);
	if (sw_fail)
		printf("#   %" PRIu64 " failures, first: %s\n", sw_fail, sw_first);
	CHECK_EQ(sw_fail, 0);
	CHECK_EQ(ds.switches, switches);
	CHECK(switches > 20 && sw_strict_ok > 100 && sw_strict_excl > 0);
	dmar_iommu_destroy(mmu);
	dmar_physmem_destroy(pm);
}

/* S28 with large leaves changed the way an emulated IOMMU's guest changes them: the writer
 * repoints a 2 MiB or 1 GiB leaf (the table has no flush hook) and then invalidates ONE
 * random 4 KiB page of it.  Readers translate random pages of every leaf; once that single
 * page's invalidation has returned, no page of the leaf may answer with the old frame,
 * however it was cached (IOTLB, L0, page-walk cache) or whichever fill raced the
 * invalidation (translate.c: large_leaf_may_fill).  Per leaf state: gen << 2 | mapped << 1 |
 * busy, busy from before the table changes until after the invalidation returns. */
#define LL_LEAVES 9 /* 8 of 2 MiB, then 1 of 1 GiB */
static uint64_t ll_state[LL_LEAVES], ll_stop, ll_fail, ll_checked;
static char ll_first[200];

static uint64_t ll_base(int l)
{
	return l < 8 ? IOVA_BASE + (uint64_t)l * M2 : IOVA_BASE + G1;
}

static uint64_t ll_span(int l)
{
	return l < 8 ? M2 : G1;
}

static uint64_t ll_frame(uint64_t gen, int l)
{
	return PBASE + (gen % NGEN) * REGION + (uint64_t)l * G1;
}

static void *ll_reader(void *arg)
{
	uint64_t seed = 0x51ull + (uintptr_t)arg, checked = 0;

	dmar_thread_register();
	while (!__atomic_load_n(&ll_stop, __ATOMIC_RELAXED)) {
		dmar_request q[8];
		dmar_result r[8];
		uint64_t s1[8];
		int leaf[8];

		for (int i = 0; i < 8; i++) {
			leaf[i] = (int)(test_xorshift(&seed) % LL_LEAVES);
			/* a few pages of each leaf, so that they are cached and hit */
			q[i].iova = ll_base(leaf[i]) +
				    test_xorshift(&seed) % 16 * (ll_span(leaf[i]) / 16) + 8;
			q[i].access = DMAR_ACCESS_READ;
			s1[i] = __atomic_load_n(&ll_state[leaf[i]], __ATOMIC_ACQUIRE);
		}
		if (mode == SINGLE)
			for (int i = 0; i < 8; i++)
				(void)dmar_translate(space, q[i].iova, DMAR_ACCESS_READ, &r[i]);
		else
			(void)dmar_translate_batch(space, q, r, 8, NULL);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		for (int i = 0; i < 8; i++) {
			const uint64_t s2 = __atomic_load_n(&ll_state[leaf[i]], __ATOMIC_RELAXED);
			const uint64_t off = q[i].iova - ll_base(leaf[i]);

			if (s1[i] != s2 || (s1[i] & 1))
				continue;
			checked++;
			if ((s1[i] & 2) ? r[i].fault || r[i].pa != ll_frame(s1[i] >> 2, leaf[i]) + off
					: r[i].fault != DMAR_FAULT_NOT_PRESENT) {
				if (__atomic_fetch_add(&ll_fail, 1, __ATOMIC_RELAXED) == 0)
					snprintf(ll_first, sizeof(ll_first),
						 "leaf %d state %#" PRIx64 " iova %#" PRIx64
						 " -> fault %u pa %#" PRIx64, leaf[i], s1[i], q[i].iova,
						 r[i].fault, r[i].pa);
			}
		}
		dmar_thread_quiescent();
	}
	__atomic_fetch_add(&ll_checked, checked, __ATOMIC_RELAXED);
	dmar_thread_unregister();
	return NULL;
}

static void ll_run(enum reader_mode m)
{
	const char *env = getenv("DMAR_STRESS_SECONDS");
	const double seconds = env ? atof(env) : 2.0;
	dmar_physmem *pm = test_physmem(DMAR_PHYSMEM_POISON_FREED);
	dmar_pgtable_config cfg;
	/* small: fills and evictions all the time */
	dmar_iotlb_config tc = { .sets = 64, .ways = 4, .pwc_sets = 16 };
	dmar_iotlb *tlb;
	pthread_t th[NREADERS];
	struct timespec t0, t;
	uint64_t seed = 7, gen = 0, changes = 0;
	dmar_iotlb_stats ts;

	mode = m;
	ll_stop = ll_fail = ll_checked = 0;
	memset(ll_state, 0, sizeof(ll_state));
	dmar_pgtable_config_default(&cfg);
	REQUIRE(dmar_pgtable_create(pm, &cfg, &pt) == DMAR_OK);
	REQUIRE(dmar_iotlb_create(&tc, &tlb) == DMAR_OK);
	REQUIRE(dmar_space_create(tlb, pm, dmar_pgtable_root(pt), dmar_pgtable_format(pt), &space) ==
		DMAR_OK);
	for (uintptr_t i = 0; i < NREADERS; i++)
		REQUIRE(pthread_create(&th[i], NULL, ll_reader, (void *)i) == 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		const int l = (int)(test_xorshift(&seed) % LL_LEAVES);
		const uint64_t pages = ll_span(l) / K4, s = ll_state[l];
		const int map = test_xorshift(&seed) % 4 != 0;

		gen++;
		__atomic_store_n(&ll_state[l], s | 1, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		CHECK_ST(dmar_pgtable_unmap(pt, ll_base(l), ll_span(l), NULL), DMAR_OK);
		if (map)
			CHECK_ST(dmar_pgtable_map(pt, ll_base(l), ll_frame(gen, l), ll_span(l),
						  DMAR_PROT_READ), DMAR_OK);
		CHECK_ST(dmar_space_invalidate_range(space, ll_base(l) +
						     test_xorshift(&seed) % pages * K4, K4), DMAR_OK);
		__atomic_store_n(&ll_state[l], gen << 2 | (map ? 2u : 0u), __ATOMIC_RELEASE);
		changes++;
		for (volatile uint64_t spin = test_xorshift(&seed) % 20000; spin; spin--) /* refill */
			;
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) * 1e-9 < seconds);
	__atomic_store_n(&ll_stop, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < NREADERS; i++)
		pthread_join(th[i], NULL);
	dmar_iotlb_get_stats(tlb, &ts);
	printf("# %" PRIu64 " leaf changes, %" PRIu64 " stable answers checked; iotlb: %" PRIu64
	       " hits of %" PRIu64 ", %" PRIu64 " fills dropped, %" PRIu64 " L0 hits\n", changes,
	       ll_checked, ts.hits, ts.translations, ts.fills_dropped, ts.l0_hits);
	if (ll_fail)
		printf("#   %" PRIu64 " failures, first: %s\n", ll_fail, ll_first);
	CHECK_EQ(ll_fail, 0);
	CHECK(changes > 100 && ll_checked > 1000 && ts.hits > 1000);
	dmar_space_destroy(space);
	CHECK_ST(dmar_iotlb_destroy(tlb), DMAR_OK);
	dmar_pgtable_destroy(pt);
	dmar_physmem_destroy(pm);
}

TEST(S28_large_leaf_changes_invalidated_one_page_at_a_time)
{
	ll_run(BATCHED);
}

TEST(S28_large_leaf_changes_invalidated_one_page_at_a_time_single)
{
	ll_run(SINGLE);
}

/* ASID rollover under several writers and readers (design decision 3: no grace period is
 * waited for while holding a lock a registered thread may wait on).  An IOMMU with 3-bit
 * ASIDs (7 of them) rolls over every few retirements.  Writers, all registered:
 *  - two "big" writers, each on its own 2 MiB block, map it (one 2 MiB leaf) and unmap it:
 *    every unmap invalidates 512 pages, which retires the domain's ASID;
 *  - a "small" writer maps and unmaps single 4 KiB pages of its own block, and reports a
 *    quiescent state between calls (it waits for the table lock while a big writer's unmap
 *    may be starting a rollover under it);
 *  - a PASID writer invalidates a bound PASID's whole space (under the IOMMU's lock) and
 *    the whole IOTLB, and rebinds the PASID now and then.
 * Readers translate batches over every block through the device and check each answer
 * against the block's state (a seqlock as in run(): gen << 2 | mapped << 1 | busy).  A
 * watchdog fails the test if the writers stop making progress (a deadlock). */
#define RO_BLOCKS 4 /* 0, 1: big writers; 2: small writer; 3: the PASID's (static) */
#define RO_PASID 5
static dmar_device *ro_dev;
static dmar_domain *ro_dom;
static dmar_iommu *ro_mmu;
static uint64_t ro_state[RO_BLOCKS * 512]; /* per 4 KiB page */
static uint64_t ro_stop, ro_fail, ro_checked, ro_progress, ro_writers_done;
static dmar_pa_t ro_proot;
static char ro_first[200];

static uint64_t ro_frame(uint64_t gen, uint64_t page)
{
	return PBASE + (gen % NGEN) * REGION + page * K4;
}

static void ro_failure(const char *what, uint64_t page, uint64_t s, const dmar_result *r)
{
	if (__atomic_fetch_add(&ro_fail, 1, __ATOMIC_RELAXED) == 0)
		snprintf(ro_first, sizeof(ro_first), "%s: page %" PRIu64 " state %#" PRIx64
			 " -> fault %u pa %#" PRIx64, what, page, s, r->fault, r->pa);
}

static void ro_set(uint64_t first, uint64_t n, uint64_t v)
{
	for (uint64_t p = first; p < first + n; p++)
		__atomic_store_n(&ro_state[p], v, __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

static void *ro_big_writer(void *arg)
{
	const uint64_t block = (uintptr_t)arg, first = block * 512;
	uint64_t gen = block << 40;

	dmar_thread_register();
	while (!__atomic_load_n(&ro_stop, __ATOMIC_RELAXED)) {
		gen++;
		ro_set(first, 512, gen << 2 | 1);
		if (dmar_domain_map(ro_dom, IOVA_BASE + first * K4, ro_frame(gen, first) & ~(M2 - 1),
				    M2, DMAR_PROT_READ) != DMAR_OK)
			ro_failure("big map", first, 0, &(dmar_result){ 0 });
		ro_set(first, 512, gen << 2 | 2);
		dmar_thread_quiescent();
		ro_set(first, 512, gen << 2 | 3);
		if (dmar_domain_unmap(ro_dom, IOVA_BASE + first * K4, M2, NULL) != DMAR_OK)
			ro_failure("big unmap", first, 0, &(dmar_result){ 0 });
		ro_set(first, 512, gen << 2);
		__atomic_fetch_add(&ro_progress, 1, __ATOMIC_RELAXED);
		dmar_thread_quiescent();
	}
	__atomic_fetch_add(&ro_writers_done, 1, __ATOMIC_RELEASE);
	dmar_thread_unregister();
	return NULL;
}

static void *ro_small_writer(void *arg)
{
	uint64_t seed = 99, gen = 0;

	(void)arg;
	dmar_thread_register();
	while (!__atomic_load_n(&ro_stop, __ATOMIC_RELAXED)) {
		const uint64_t p = 2 * 512 + test_xorshift(&seed) % 512;

		gen++;
		ro_set(p, 1, gen << 2 | 1);
		if (dmar_domain_map(ro_dom, IOVA_BASE + p * K4, ro_frame(gen, p), K4,
				    DMAR_PROT_READ) != DMAR_OK)
			ro_failure("small map", p, 0, &(dmar_result){ 0 });
		ro_set(p, 1, gen << 2 | 2);
		dmar_thread_quiescent();
		ro_set(p, 1, gen << 2 | 3);
		if (dmar_domain_unmap(ro_dom, IOVA_BASE + p * K4, K4, NULL) != DMAR_OK)
			ro_failure("small unmap", p, 0, &(dmar_result){ 0 });
		ro_set(p, 1, gen << 2);
		__atomic_fetch_add(&ro_progress, 1, __ATOMIC_RELAXED);
		dmar_thread_quiescent();
	}
	__atomic_fetch_add(&ro_writers_done, 1, __ATOMIC_RELEASE);
	dmar_thread_unregister();
	return NULL;
}

static void *ro_pasid_writer(void *arg)
{
	const dmar_pt_format fmt = { .levels = 4 };
	uint64_t k = 0;

	(void)arg;
	dmar_thread_register();
	while (!__atomic_load_n(&ro_stop, __ATOMIC_RELAXED)) {
		if (dmar_domain_invalidate_pasid(ro_dom, RO_PASID, 0, 1ull << 40) != DMAR_OK)
			ro_failure("invalidate pasid", 0, 0, &(dmar_result){ 0 });
		if (++k % 8 == 0)
			dmar_iotlb_invalidate_all(dmar_iommu_iotlb(ro_mmu));
		if (k % 64 == 0 && (dmar_domain_unbind_pasid(ro_dom, RO_PASID) != DMAR_OK ||
				    dmar_domain_bind_pasid(ro_dom, RO_PASID, ro_proot, &fmt) != DMAR_OK))
			ro_failure("rebind pasid", 0, 0, &(dmar_result){ 0 });
		__atomic_fetch_add(&ro_progress, 1, __ATOMIC_RELAXED);
		dmar_thread_quiescent();
	}
	__atomic_fetch_add(&ro_writers_done, 1, __ATOMIC_RELEASE);
	dmar_thread_unregister();
	return NULL;
}

static void *ro_reader(void *arg)
{
	uint64_t seed = 0x9e37ull + (uintptr_t)arg, checked = 0;

	dmar_thread_register();
	while (!__atomic_load_n(&ro_stop, __ATOMIC_RELAXED)) {
		dmar_request q[16];
		dmar_result r[16];
		uint64_t page[16], s1[16];

		for (int i = 0; i < 16; i++) {
			page[i] = test_xorshift(&seed) % (RO_BLOCKS * 512);
			q[i].iova = IOVA_BASE + page[i] * K4 + 8 * (uint64_t)i;
			q[i].access = DMAR_ACCESS_READ;
			/* the PASID's block goes through the process table, the rest through the domain */
			q[i].pasid = page[i] >= 3 * 512 ? RO_PASID : DMAR_NO_PASID;
			s1[i] = __atomic_load_n(&ro_state[page[i]], __ATOMIC_ACQUIRE);
		}
		(void)dmar_device_translate_batch(ro_dev, q, r, 16, NULL);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		for (int i = 0; i < 16; i++) {
			const uint64_t s2 = __atomic_load_n(&ro_state[page[i]], __ATOMIC_RELAXED);
			const uint64_t off = q[i].iova - IOVA_BASE - page[i] * K4;

			if (page[i] >= 3 * 512) {
				/* the process table maps its block for ever (rebinding aside) */
				if (r[i].fault == DMAR_FAULT_NONE && r[i].pa != PBASE + page[i] * K4 + off)
					ro_failure("pasid page", page[i], 0, &r[i]);
				else if (r[i].fault != DMAR_FAULT_NONE && r[i].fault != DMAR_FAULT_PASID)
					ro_failure("pasid fault", page[i], 0, &r[i]);
				continue;
			}
			if (s1[i] != s2 || (s1[i] & 1))
				continue;
			checked++;
			if ((s1[i] & 2) && (r[i].fault || r[i].pa != ro_frame(s1[i] >> 2, page[i]) + off))
				ro_failure("stable mapped page", page[i], s1[i], &r[i]);
			if (!(s1[i] & 2) && r[i].fault != DMAR_FAULT_NOT_PRESENT)
				ro_failure("stable unmapped page", page[i], s1[i], &r[i]);
		}
		dmar_thread_quiescent();
	}
	__atomic_fetch_add(&ro_checked, checked, __ATOMIC_RELAXED);
	dmar_thread_unregister();
	return NULL;
}

TEST(S28_asid_rollover_under_several_writers_and_readers)
{
	dmar_physmem *pm = test_physmem(0);
	const dmar_pt_format fmt = { .levels = 4 };
	const char *env = getenv("DMAR_STRESS_SECONDS");
	const double seconds = env ? atof(env) : 2.0;
	void *(*const writers[4])(void *) = { ro_big_writer, ro_big_writer, ro_small_writer,
					       ro_pasid_writer };
	dmar_pgtable_config pc;
	dmar_pgtable *proc;
	dmar_iommu_config c;
	dmar_iommu *mmu;
	pthread_t w[4], rd[NREADERS];
	dmar_iotlb_stats ts;
	struct timespec t0, t;
	uint64_t last = 0, stalled = 0;

	memset(ro_state, 0, sizeof(ro_state));
	ro_stop = ro_fail = ro_checked = ro_progress = ro_writers_done = 0;
	dmar_iommu_config_default(&c);
	c.iotlb.asid_bits = 3;
	REQUIRE(dmar_iommu_create(pm, &c, &mmu) == DMAR_OK);
	ro_mmu = mmu;
	REQUIRE(dmar_domain_create(mmu, DMAR_DOMAIN_REMAPPED, NULL, &ro_dom) == DMAR_OK);
	dmar_pgtable_config_default(&pc);
	REQUIRE(dmar_pgtable_create(pm, &pc, &proc) == DMAR_OK);
	REQUIRE(dmar_pgtable_map(proc, IOVA_BASE + 3 * M2, PBASE + 3 * M2, M2, DMAR_PROT_READ) ==
		DMAR_OK);
	ro_proot = dmar_pgtable_root(proc);
	REQUIRE(dmar_domain_bind_pasid(ro_dom, RO_PASID, ro_proot, &fmt) == DMAR_OK);
	REQUIRE(dmar_device_create(mmu, 0x0400, 48, &ro_dev) == DMAR_OK);
	REQUIRE(dmar_device_attach(ro_dev, ro_dom) == DMAR_OK);
	for (uintptr_t i = 0; i < NREADERS; i++)
		REQUIRE(pthread_create(&rd[i], NULL, ro_reader, (void *)i) == 0);
	for (uintptr_t i = 0; i < 4; i++)
		REQUIRE(pthread_create(&w[i], NULL, writers[i], (void *)i) == 0);
	dmar_thread_offline(); /* this thread only watches */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* run for the time asked, then until the writers have left; a watchdog fails the test
	 * when no writer call returns for 10 s */
	while (__atomic_load_n(&ro_writers_done, __ATOMIC_ACQUIRE) < 4) {
		struct timespec nap = { 0, 50 * 1000 * 1000 };
		uint64_t now;

		nanosleep(&nap, NULL);
		now = __atomic_load_n(&ro_progress, __ATOMIC_RELAXED);
		stalled = now == last ? stalled + 1 : 0;
		last = now;
		if (stalled >= 200) {
			printf("# writers stuck after %" PRIu64 " calls: a deadlock\n", now);
			printf("not ok 1 - S28_asid_rollover_under_several_writers_and_readers\n");
			fflush(stdout);
			_exit(1);
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) * 1e-9 >= seconds)
			__atomic_store_n(&ro_stop, 1, __ATOMIC_RELAXED);
	}
	__atomic_store_n(&ro_stop, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < 4; i++)
		pthread_join(w[i], NULL);
	for (int i = 0; i < NREADERS; i++)
		pthread_join(rd[i], NULL);
	dmar_thread_online();
	dmar_iotlb_get_stats(dmar_iommu_iotlb(mmu), &ts);
	printf("# %" PRIu64 " writer calls, %" PRIu64 " ASID rollovers, %" PRIu64
	       " stable answers checked, %" PRIu64 " translations\n",
	       ro_progress, ts.asid_rollovers, ro_checked, ts.translations);
	if (ro_fail)
		printf("#   %" PRIu64 " failures, first: %s\n", ro_fail, ro_first);
	CHECK_EQ(ro_fail, 0);
	CHECK(ts.asid_rollovers > 10);
	CHECK(ro_checked > 1000);
	dmar_iommu_destroy(mmu);
	dmar_pgtable_destroy(proc);
	{
		dmar_physmem_stats st;

		dmar_physmem_get_stats(pm, &st);
		CHECK_EQ(st.allocated_frames, 0);
	}
	dmar_physmem_destroy(pm);
}

/* S28 / design decision 3: single translations answered by the threads' L0 banks outside
 * any read-side section (iotlb/translate.c, translate_quick) across ASID rollovers.  Four
 * spaces of one IOTLB with 7 ASIDs (L0 always on) map the same addresses to frames of their
 * own; a retirer invalidates whole spaces (a fresh ASID each, a rollover every few calls) and
 * the whole IOTLB, a remapper unmaps (its flush hook invalidates the page) and remaps pages
 * to a new generation's frame, publishing per-page states as run() does.  Readers translate
 * one request at a time and check that an answer is always a frame of that space and that
 * page, and exactly the mapped one when the page's state was stable across the call. */
#define RS_SPACES 4
#define RS_PAGES 64
static dmar_space *rs_sp[RS_SPACES];
static dmar_pgtable *rs_pt[RS_SPACES];
static uint64_t rs_state[RS_SPACES][RS_PAGES];
static uint64_t rs_stop, rs_fail, rs_checked, rs_writes;
static char rs_first[200];

static uint64_t rs_frame(uint64_t s, uint64_t gen, uint64_t p)
{
	return PBASE + ((s * NGEN + gen % NGEN) * RS_PAGES + p) * K4;
}

static void rs_failure(const char *what, uint64_t s, uint64_t p, uint64_t st, const dmar_result *r)
{
	if (__atomic_fetch_add(&rs_fail, 1, __ATOMIC_RELAXED) == 0)
		snprintf(rs_first, sizeof(rs_first), "%s: space %" PRIu64 " page %" PRIu64
			 " state %#" PRIx64 " -> fault %u pa %#" PRIx64, what, s, p, st, r->fault,
			 r->pa);
}

static void rs_flush(void *ctx, dmar_iova_t iova, uint64_t size)
{
	(void)dmar_space_invalidate_range(ctx, iova, size);
}

static void *rs_remapper(void *arg)
{
	uint64_t seed = 77, gen = 0;

	(void)arg;
	dmar_thread_register();
	while (!__atomic_load_n(&rs_stop, __ATOMIC_RELAXED)) {
		const uint64_t sp = test_xorshift(&seed) % RS_SPACES, p = test_xorshift(&seed) % RS_PAGES;
		const dmar_iova_t iova = IOVA_BASE + p * K4;
		const uint64_t old = rs_state[sp][p];

		gen++;
		__atomic_store_n(&rs_state[sp][p], old | 1, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (dmar_pgtable_unmap(rs_pt[sp], iova, K4, NULL) != DMAR_OK)
			rs_failure("unmap", sp, p, old, &(dmar_result){ 0 });
		__atomic_store_n(&rs_state[sp][p], gen << 2, __ATOMIC_RELEASE);
		dmar_thread_quiescent();
		__atomic_store_n(&rs_state[sp][p], gen << 2 | 1, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (dmar_pgtable_map(rs_pt[sp], iova, rs_frame(sp, gen, p), K4, DMAR_PROT_READ) != DMAR_OK)
			rs_failure("map", sp, p, old, &(dmar_result){ 0 });
		__atomic_store_n(&rs_state[sp][p], gen << 2 | 2, __ATOMIC_RELEASE);
		__atomic_fetch_add(&rs_writes, 1, __ATOMIC_RELAXED);
		dmar_thread_quiescent();
	}
	dmar_thread_unregister();
	return NULL;
}

static void *rs_retirer(void *arg)
{
	uint64_t seed = 5, k = 0;

	(void)arg;
	dmar_thread_register();
	while (!__atomic_load_n(&rs_stop, __ATOMIC_RELAXED)) {
		dmar_space_invalidate(rs_sp[test_xorshift(&seed) % RS_SPACES]);
		if (++k % 16 == 0)
			dmar_iotlb_invalidate_all(rs_sp[0]->tlb);
		__atomic_fetch_add(&rs_writes, 1, __ATOMIC_RELAXED);
		dmar_thread_quiescent();
		if (k % 4 == 0) /* let the readers fill between retirements */
			sched_yield();
	}
	dmar_thread_unregister();
	return NULL;
}

static void *rs_reader(void *arg)
{
	uint64_t seed = 0x51ull + (uintptr_t)arg, checked = 0;

	dmar_thread_register();
	while (!__atomic_load_n(&rs_stop, __ATOMIC_RELAXED)) {
		for (int i = 0; i < 64; i++) {
			/* mostly a few hot pages per space, so that the banks answer */
			const uint64_t sp = test_xorshift(&seed) % RS_SPACES;
			const uint64_t p = test_xorshift(&seed) % (i % 4 ? 8 : RS_PAGES);
			const uint64_t off = test_xorshift(&seed) % K4 & ~7ull;
			const uint64_t s1 = __atomic_load_n(&rs_state[sp][p], __ATOMIC_ACQUIRE);
			dmar_result r;
			const dmar_status st =
				dmar_translate(rs_sp[sp], IOVA_BASE + p * K4 + off, DMAR_ACCESS_READ, &r);
			uint64_t s2;

			__atomic_thread_fence(__ATOMIC_ACQUIRE);
			s2 = __atomic_load_n(&rs_state[sp][p], __ATOMIC_RELAXED);
			if (st == DMAR_OK && (r.pa < PBASE || (r.pa - PBASE) / K4 % RS_PAGES != p ||
					      (r.pa - PBASE) / K4 / RS_PAGES / NGEN != sp))
				rs_failure("another space's or page's frame", sp, p, s1, &r);
			if (s1 != s2 || (s1 & 1))
				continue;
			checked++;
			if ((s1 & 2) && (st != DMAR_OK || r.pa != rs_frame(sp, s1 >> 2, p) + off))
				rs_failure("stable mapped page", sp, p, s1, &r);
			if (!(s1 & 2) && (st != DMAR_E_FAULT || r.fault != DMAR_FAULT_NOT_PRESENT))
				rs_failure("stable unmapped page", sp, p, s1, &r);
		}
		dmar_thread_quiescent();
	}
	__atomic_fetch_add(&rs_checked, checked, __ATOMIC_RELAXED);
	dmar_thread_unregister();
	return NULL;
}

TEST(S28_asid_rollovers_vs_single_translations_from_the_l0)
{
	dmar_physmem *pm = test_physmem(0);
	const char *env = getenv("DMAR_STRESS_SECONDS");
	const double seconds = env ? atof(env) : 2.0;
	dmar_iotlb_config c;
	dmar_pgtable_config pc;
	dmar_iotlb *tlb;
	dmar_iotlb_stats ts;
	pthread_t w[2], rd[NREADERS];
	struct timespec nap;

	rs_stop = rs_fail = rs_checked = rs_writes = 0;
	dmar_iotlb_config_default(&c);
	c.asid_bits = 3;
	c.l0 = DMAR_L0_ALWAYS;
	REQUIRE(dmar_iotlb_create(&c, &tlb) == DMAR_OK);
	dmar_pgtable_config_default(&pc);
	for (uint64_t s = 0; s < RS_SPACES; s++) {
		REQUIRE(dmar_pgtable_create(pm, &pc, &rs_pt[s]) == DMAR_OK);
		for (uint64_t p = 0; p < RS_PAGES; p++) {
			REQUIRE(dmar_pgtable_map(rs_pt[s], IOVA_BASE + p * K4, rs_frame(s, 0, p), K4,
						 DMAR_PROT_READ) == DMAR_OK);
			rs_state[s][p] = 2;
		}
		REQUIRE(dmar_space_create(tlb, pm, dmar_pgtable_root(rs_pt[s]),
					  dmar_pgtable_format(rs_pt[s]), &rs_sp[s]) == DMAR_OK);
		dmar_pgtable_set_flush(rs_pt[s], rs_flush, rs_sp[s]);
	}
	for (uintptr_t i = 0; i < NREADERS; i++)
		REQUIRE(pthread_create(&rd[i], NULL, rs_reader, (void *)i) == 0);
	REQUIRE(pthread_create(&w[0], NULL, rs_remapper, NULL) == 0);
	REQUIRE(pthread_create(&w[1], NULL, rs_retirer, NULL) == 0);
	dmar_thread_offline(); /* this thread only waits */
	nap.tv_sec = (time_t)seconds;
	nap.tv_nsec = (long)((seconds - (double)nap.tv_sec) * 1e9);
	nanosleep(&nap, NULL);
	__atomic_store_n(&rs_stop, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < 2; i++)
		pthread_join(w[i], NULL);
	for (int i = 0; i < NREADERS; i++)
		pthread_join(rd[i], NULL);
	dmar_thread_online();
	dmar_iotlb_get_stats(tlb, &ts);
	printf("# %" PRIu64 " writer calls, %" PRIu64 " ASID rollovers, %" PRIu64
	       " stable answers checked, %" PRIu64 " translations, %" PRIu64 " L0 hits\n",
	       rs_writes, ts.asid_rollovers, rs_checked, ts.translations, ts.l0_hits);
	if (rs_fail)
		printf("#   %" PRIu64 " failures, first: %s\n", rs_fail, rs_first);
	CHECK_EQ(rs_fail, 0);
	CHECK(ts.asid_rollovers > 10);
	CHECK(rs_checked > 1000);
	CHECK(ts.l0_hits > 1000);
	for (int s = 0; s < RS_SPACES; s++) {
		dmar_pgtable_set_flush(rs_pt[s], NULL, NULL);
		dmar_space_destroy(rs_sp[s]);
		dmar_pgtable_destroy(rs_pt[s]);
	}
	CHECK_EQ(dmar_iotlb_destroy(tlb), DMAR_OK);
	dmar_physmem_destroy(pm);
}

RUN_TESTS(T(S28_colliding_fills_never_tear), T(S18_domain_switches_under_load_never_mix),
	  T(S28_asid_rollover_under_several_writers_and_readers),
	  T(S28_asid_rollovers_vs_single_translations_from_the_l0),
	  T(S28_large_leaf_changes_invalidated_one_page_at_a_time),
	  T(S28_large_leaf_changes_invalidated_one_page_at_a_time_single),
	  T(S31_walkers_vs_writer_map_unmap_split), T(S28_iotlb_translate_vs_writer_unmap_invalidate),
	  T(S28_iotlb_batches_vs_writer_unmap_invalidate),
	  T(S31_S28_every_format_with_accessed_dirty_bits_vs_writer),
	  T(S28_group_invalidations_vs_writer_and_space_churn),
	  T(S28_l0_banks_vs_page_invalidations),
	  T(S28_l0_banks_vs_page_invalidations_single),
	  T(S28_growing_l0_banks_vs_page_invalidations),
	  T(S28_growing_l0_banks_vs_page_invalidations_single))
