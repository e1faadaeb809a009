/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Tables built by dmar_pgtable_*, in the style of Linux's io-pgtable self-tests: an empty
 * table translates nothing; map, overlapping map fails, translate every offset, unmap,
 * remap; the last page of the address width; every level and page size (S13, S31). */
#include <pthread.h>

#include "check.h"

#define K4 (1ull << 12)
#define M2 (1ull << 21)
#define G1 (1ull << 30)
#define TiB (1ull << 40)

static const unsigned RW = DMAR_PROT_READ | DMAR_PROT_WRITE;

static dmar_pgtable *make(dmar_physmem *pm, unsigned levels, unsigned flags)
{
	dmar_pgtable_config cfg;
	dmar_pgtable *pt = NULL;

	dmar_pgtable_config_default(&cfg);
	cfg.format.levels = levels;
	cfg.format.flags = flags;
	if (dmar_pgtable_create(pm, &cfg, &pt) != DMAR_OK) {
		printf("Bail out! dmar_pgtable_create\n");
		exit(2);
	}
	return pt;
}

/* iova translates to pa with the given page size, for read. */
static int xlates(dmar_pgtable *pt, uint64_t iova, uint64_t pa, unsigned lg2)
{
	dmar_walk_result r;

	return dmar_pgtable_walk(pt, iova, DMAR_ACCESS_READ, &r) == DMAR_OK && r.pa == pa &&
	       r.page_lg2 == lg2 && r.fault == DMAR_FAULT_NONE;
}

static int unmapped(dmar_pgtable *pt, uint64_t iova)
{
	dmar_walk_result r;

	return dmar_pgtable_walk(pt, iova, DMAR_ACCESS_READ, &r) == DMAR_E_FAULT &&
	       r.fault == DMAR_FAULT_NOT_PRESENT && r.pa == 0;
}

TEST(empty_table_translates_nothing)
{
	dmar_physmem *pm = test_physmem(0);

	for (unsigned levels = 4; levels <= 5; levels++) {
		dmar_pgtable *pt = make(pm, levels, 0);
		dmar_pa_t pa = 1;

		for (unsigned sh = 12; sh < (levels == 4 ? 47u : 56u); sh++) {
			CHECK(unmapped(pt, 1ull << sh));
			CHECK(unmapped(pt, (1ull << sh) - K4));
		}
		CHECK(unmapped(pt, 0));
		CHECK_ST(dmar_pgtable_iova_to_phys(pt, 0x1000, &pa), DMAR_E_FAULT);
		CHECK_EQ(pa, 0);
		CHECK_EQ(dmar_pgtable_table_pages(pt), 1);
		dmar_pgtable_destroy(pt);
	}
	dmar_physmem_destroy(pm);
}

/* For each level count and each page size: map, overlap fails, every 4 KiB offset (and
 * bytes at the edges) translates, unmap, translate nothing, remap elsewhere. */
TEST(map_overlap_translate_unmap_remap_every_size)
{
	dmar_physmem *pm = test_physmem(0);
	static const unsigned lg2s[] = { 12, 21, 30 };

	for (unsigned levels = 4; levels <= 5; levels++) {
		dmar_pgtable *pt = make(pm, levels, 0);

		for (size_t i = 0; i < 3; i++) {
			const uint64_t sz = 1ull << lg2s[i];
			const uint64_t iova = 7 * G1 + 5 * sz % G1 * (sz < G1), pa = 0x3456ull << 30;
			uint64_t n = 0;

			CHECK_ST(dmar_pgtable_map(pt, iova, pa, sz, RW), DMAR_OK);
			CHECK_ST(dmar_pgtable_map(pt, iova, pa + sz, sz, RW), DMAR_E_EXISTS);
			CHECK_ST(dmar_pgtable_map(pt, iova + sz - K4, pa, K4, RW), DMAR_E_EXISTS);
			if (sz > K4) /* a bigger range that contains it */
				CHECK_ST(dmar_pgtable_map(pt, iova & ~(sz * 2 - 1), pa, sz * 2, RW),
					 DMAR_E_EXISTS);
			for (uint64_t off = 0; off < sz; off += (sz >> 12 > 4096 ? sz >> 12 : K4))
				CHECK(xlates(pt, iova + off, pa + off, lg2s[i]));
			CHECK(xlates(pt, iova + sz - 1, pa + sz - 1, lg2s[i]));
			CHECK(unmapped(pt, iova - 1));
			CHECK(unmapped(pt, iova + sz));
			CHECK_ST(dmar_pgtable_unmap(pt, iova, sz, &n), DMAR_OK);
			CHECK_EQ(n, sz);
			CHECK(unmapped(pt, iova));
			CHECK(unmapped(pt, iova + sz - 1));
			CHECK_ST(dmar_pgtable_unmap(pt, iova, sz, &n), DMAR_OK);
			CHECK_EQ(n, 0); /* nothing left */
			CHECK_ST(dmar_pgtable_map(pt, iova, pa + sz, sz, RW), DMAR_OK); /* remap */
			CHECK(xlates(pt, iova, pa + sz, lg2s[i]));
			CHECK_ST(dmar_pgtable_unmap(pt, iova, sz, &n), DMAR_OK);
			CHECK_EQ(n, sz);
		}
		dmar_pgtable_destroy(pt);
	}
	dmar_physmem_destroy(pm);
}

TEST(map_picks_largest_page_sizes)
{
	dmar_physmem *pm = test_physmem(0);
	dmar_pgtable *pt = make(pm, 4, 0);
	/* [1G - 4K - 2M, 2G + 2M + 4K): 4K, 2M, 1G, 2M, 4K leaves */
	const uint64_t iova = G1 - M2 - K4, size = G1 + 2 * M2 + 2 * K4;
	const uint64_t pa = (1ull << 40) + iova;
	uint64_t n;

	CHECK_ST(dmar_pgtable_map(pt, iova, pa, size, RW), DMAR_OK);
	CHECK(xlates(pt, iova, pa, 12));
	CHECK(xlates(pt, iova + K4, pa + K4, 21));
	CHECK(xlates(pt, G1, pa + M2 + K4, 30));
	CHECK(xlates(pt, 2 * G1, pa + G1 + M2 + K4, 21));
	CHECK(xlates(pt, 2 * G1 + M2, pa + G1 + 2 * M2 + K4, 12));
	CHECK(unmapped(pt, 2 * G1 + M2 + K4));
	CHECK(unmapped(pt, iova - K4));
	/* root + PDPT + 2 PDs + 2 PTs */
	CHECK_EQ(dmar_pgtable_table_pages(pt), 6);
	/* pa aligned differently from iova: only 4 KiB leaves fit */
	CHECK_ST(dmar_pgtable_map(pt, 8 * G1, 0x5000, M2, RW), DMAR_OK);
	CHECK(xlates(pt, 8 * G1 + M2 - K4, 0x5000 + M2 - K4, 12));
	CHECK_ST(dmar_pgtable_unmap(pt, 0, 16 * G1, &n), DMAR_OK);
	CHECK_EQ(n, size + M2);
	/* every table whose span was covered went away; the PDPT spans 512 GiB and stays */
	CHECK_EQ(dmar_pgtable_table_pages(pt), 2);
	dmar_pgtable_destroy(pt);
	dmar_physmem_destroy(pm);
}

TEST(page_size_config_is_honoured)
{
	dmar_physmem *pm = test_physmem(0);
	dmar_pgtable_config cfg;
	dmar_pgtable *pt;

	dmar_pgtable_config_default(&cfg);
	cfg.pgsizes = (1ull << 12) | (1ull << 21); /* no 1 GiB leaves */
	REQUIRE(dmar_pgtable_create(pm, &cfg, &pt) == DMAR_OK);
	CHECK_ST(dmar_pgtable_map(pt, G1, G1, G1, RW), DMAR_OK);
	CHECK(xlates(pt, G1 + 5 * M2 + 3, G1 + 5 * M2 + 3, 21));
	dmar_pgtable_destroy(pt);
	cfg.pgsizes = 1ull << 21; /* 4 KiB is mandatory */
	CHECK_ST(dmar_pgtable_create(pm, &cfg, &pt), DMAR_E_INVALID);
	cfg.pgsizes = DMAR_PGSIZES_ALL;
	cfg.format.levels = 3;
	CHECK_ST(dmar_pgtable_create(pm, &cfg, &pt), DMAR_E_INVALID);
	dmar_physmem_destroy(pm);
}

TEST(last_page_of_the_address_width)
{
	dmar_physmem *pm = test_physmem(0);

	for (unsigned levels = 4; levels <= 5; levels++) {
		const uint64_t half = 1ull << (levels == 4 ? 47 : 56);
		dmar_pgtable *pt = make(pm, levels, 0), *up = make(pm, levels, DMAR_PT_UPPER_HALF);
		dmar_walk_result r;

		CHECK_ST(dmar_pgtable_map(pt, half - K4, 0xabc000, K4, RW), DMAR_OK);
		CHECK(xlates(pt, half - 1, 0xabcfff, 12));
		CHECK_ST(dmar_pgtable_map(pt, half, 0xabc000, K4, RW), DMAR_E_RANGE);
		CHECK_ST(dmar_pgtable_map(pt, half - K4, 0xabc000, 2 * K4, RW), DMAR_E_RANGE);
		/* the same table does not take the upper half: beyond its width */
		CHECK_ST(dmar_pgtable_walk(pt, 0 - K4, DMAR_ACCESS_READ, &r), DMAR_E_FAULT);
		CHECK_EQ(r.fault, DMAR_FAULT_ADDR_WIDTH);
		CHECK_ST(dmar_pgtable_walk(pt, half, DMAR_ACCESS_READ, &r), DMAR_E_FAULT);
		CHECK_EQ(r.fault, DMAR_FAULT_NONCANONICAL);
		/* a table that takes the upper half maps its very last page */
		CHECK_ST(dmar_pgtable_map(up, 0 - K4, 0xdef000, K4, RW), DMAR_OK);
		CHECK(xlates(up, ~0ull, 0xdeffff, 12));
		CHECK_ST(dmar_pgtable_map(up, 0 - half, 0x1000, K4, RW), DMAR_OK);
		CHECK(xlates(up, 0 - half, 0x1000, 12));
		CHECK_ST(dmar_pgtable_map(up, 0 - half - K4, 0x1000, K4, RW), DMAR_E_RANGE);
		CHECK_ST(dmar_pgtable_map(up, half - K4, 0x1000, 2 * K4, RW), DMAR_E_RANGE);
		CHECK_ST(dmar_pgtable_unmap(up, 0 - K4, K4, NULL), DMAR_OK);
		CHECK(unmapped(up, ~0ull));
		/* and 2^51-ish physical addresses */
		CHECK_ST(dmar_pgtable_map(pt, 0, (1ull << 52) - G1, G1, RW), DMAR_OK);
		CHECK(xlates(pt, G1 - 1, (1ull << 52) - 1, 30));
		CHECK_ST(dmar_pgtable_map(pt, G1, (1ull << 52) - K4, 2 * K4, RW), DMAR_E_RANGE);
		dmar_pgtable_destroy(pt);
		dmar_pgtable_destroy(up);
	}
	dmar_physmem_destroy(pm);
}

TEST(five_level_reaches_above_2_to_47)
{
	dmar_physmem *pm = test_physmem(0);
	dmar_pgtable *p4 = make(pm, 4, 0), *p5 = make(pm, 5, 0);
	const uint64_t high = 0x00ab123456789000ull; /* bit 55 clear, above 2^47 */

	CHECK_ST(dmar_pgtable_map(p4, high, 0x1000, K4, RW), DMAR_E_RANGE);
	CHECK_ST(dmar_pgtable_map(p5, high, 0x1000, K4, RW), DMAR_OK);
	CHECK(xlates(p5, high + 0x10, 0x1010, 12));
	CHECK(unmapped(p5, high & ((1ull << 48) - 1))); /* index bits 48-56 matter */
	CHECK_EQ(dmar_pgtable_table_pages(p5), 5);
	dmar_pgtable_destroy(p4);
	dmar_pgtable_destroy(p5);
	dmar_physmem_destroy(pm);
}

TEST(unmap_splits_large_leaves)
{
	dmar_physmem *pm = test_physmem(0);
	dmar_pgtable *pt = make(pm, 4, 0);
	const uint64_t pa = 0x40000000000ull; /* 4 TiB: beyond RAM, legal (MMIO) */
	uint64_t n;

	CHECK_ST(dmar_pgtable_map(pt, G1, pa, G1, RW | DMAR_PROT_USER), DMAR_OK);
	/* take one 4 KiB page out of the middle of a 1 GiB leaf */
	CHECK_ST(dmar_pgtable_unmap(pt, G1 + 3 * M2 + 5 * K4, K4, &n), DMAR_OK);
	CHECK_EQ(n, K4);
	CHECK(unmapped(pt, G1 + 3 * M2 + 5 * K4));
	CHECK(xlates(pt, G1 + 3 * M2 + 4 * K4, pa + 3 * M2 + 4 * K4, 12));
	CHECK(xlates(pt, G1 + 3 * M2 + 6 * K4 + 7, pa + 3 * M2 + 6 * K4 + 7, 12));
	CHECK(xlates(pt, G1 + 2 * M2, pa + 2 * M2, 21));
	CHECK(xlates(pt, 2 * G1 - 1, pa + G1 - 1, 21));
	{
		dmar_walk_result r;

		CHECK_ST(dmar_pgtable_walk(pt, G1 + 3 * M2, DMAR_ACCESS_WRITE | DMAR_ACCESS_USER, &r),
			 DMAR_OK);
		CHECK_EQ(r.prot & (DMAR_PROT_WRITE | DMAR_PROT_USER), DMAR_PROT_WRITE | DMAR_PROT_USER);
	}
	/* unmap a range that straddles two 2 MiB leaves */
	CHECK_ST(dmar_pgtable_unmap(pt, G1 + 8 * M2 - 3 * K4, 6 * K4, &n), DMAR_OK);
	CHECK_EQ(n, 6 * K4);
	for (int i = -3; i < 3; i++)
		CHECK(unmapped(pt, G1 + 8 * M2 + (uint64_t)(int64_t)i * K4));
	CHECK(xlates(pt, G1 + 8 * M2 - 4 * K4, pa + 8 * M2 - 4 * K4, 12));
	CHECK(xlates(pt, G1 + 8 * M2 + 3 * K4, pa + 8 * M2 + 3 * K4, 12));
	/* root, PDPT, PD (from the 1 GiB split) and three PTs */
	CHECK_EQ(dmar_pgtable_table_pages(pt), 6);
	/* the rest goes in one call */
	CHECK_ST(dmar_pgtable_unmap(pt, G1, G1, &n), DMAR_OK);
	CHECK_EQ(n, G1 - 7 * K4);
	CHECK_EQ(dmar_pgtable_table_pages(pt), 2);
	dmar_pgtable_destroy(pt);
	dmar_physmem_destroy(pm);
}

TEST(overlapping_map_changes_nothing)
{
	dmar_physmem *pm = test_physmem(0);
	dmar_pgtable *pt = make(pm, 4, 0);
	uint64_t pages;

	CHECK_ST(dmar_pgtable_map(pt, 10 * M2 + 100 * K4, 0x1000000, K4, RW), DMAR_OK);
	pages = dmar_pgtable_table_pages(pt);
	/* 4 MiB from 9 MiB: the single mapped page in the middle makes it fail whole */
	CHECK_ST(dmar_pgtable_map(pt, 9 * M2, 0x2000000, 2 * M2, RW), DMAR_E_EXISTS);
	for (uint64_t a = 9 * M2; a < 11 * M2; a += K4)
		if (a != 10 * M2 + 100 * K4)
			CHECK(unmapped(pt, a));
	CHECK(xlates(pt, 10 * M2 + 100 * K4, 0x1000000, 12));
	CHECK_EQ(dmar_pgtable_table_pages(pt), pages);
	/* a 2 MiB leaf over a table with one live page is refused too */
	CHECK_ST(dmar_pgtable_map(pt, 10 * M2, 0x2000000, M2, RW), DMAR_E_EXISTS);
	CHECK(xlates(pt, 10 * M2 + 100 * K4, 0x1000000, 12));
	dmar_pgtable_destroy(pt);
	dmar_physmem_destroy(pm);
}

TEST(empty_table_is_replaced_by_a_large_leaf)
{
	dmar_physmem *pm = test_physmem(0);
	dmar_pgtable *pt = make(pm, 4, 0);

	CHECK_ST(dmar_pgtable_map(pt, 4 * M2 + K4, 0x1000, K4, RW), DMAR_OK);
	CHECK_ST(dmar_pgtable_unmap(pt, 4 * M2 + K4, K4, NULL), DMAR_OK);
	CHECK_EQ(dmar_pgtable_table_pages(pt), 4); /* the empty PT stays, as in Linux */
	CHECK_ST(dmar_pgtable_map(pt, 4 * M2, 6 * M2, M2, RW), DMAR_OK);
	CHECK(xlates(pt, 4 * M2 + K4, 6 * M2 + K4, 21));
	CHECK_EQ(dmar_pgtable_table_pages(pt), 3);
	dmar_pgtable_destroy(pt);
	dmar_physmem_destroy(pm);
}

TEST(permissions_combine_over_levels)
{
	dmar_physmem *pm = test_physmem(0);
	dmar_pgtable *pt = make(pm, 4, 0);
	dmar_walk_result r;

	CHECK_ST(dmar_pgtable_map(pt, 0x10000, 0x20000, K4, DMAR_PROT_READ), DMAR_OK);
	CHECK_ST(dmar_pgtable_walk(pt, 0x10008, DMAR_ACCESS_WRITE, &r), DMAR_E_FAULT);
	CHECK_EQ(r.fault, DMAR_FAULT_WRITE);
	CHECK_EQ(r.pa, 0);
	CHECK_ST(dmar_pgtable_walk(pt, 0x10008, DMAR_ACCESS_USER, &r), DMAR_E_FAULT);
	CHECK_EQ(r.fault, DMAR_FAULT_USER);
	CHECK_ST(dmar_pgtable_walk(pt, 0x10008, DMAR_ACCESS_EXEC, &r), DMAR_E_FAULT);
	CHECK_EQ(r.fault, DMAR_FAULT_EXEC);
	CHECK_ST(dmar_pgtable_walk(pt, 0x10008, DMAR_ACCESS_READ, &r), DMAR_OK);
	CHECK_EQ(r.prot, DMAR_PROT_READ);
	CHECK_EQ(r.pte & (DMAR_PTE_XD | DMAR_PTE_RW | DMAR_PTE_P), DMAR_PTE_XD | DMAR_PTE_P);
	CHECK_ST(dmar_pgtable_map(pt, 0x11000, 0x21000, K4,
				  DMAR_PROT_READ | DMAR_PROT_WRITE | DMAR_PROT_EXEC | DMAR_PROT_USER |
					  DMAR_PROT_PCD | DMAR_PROT_PWT | DMAR_PROT_GLOBAL),
		 DMAR_OK);
	CHECK_ST(dmar_pgtable_walk(pt, 0x11008,
				   DMAR_ACCESS_WRITE | DMAR_ACCESS_USER | DMAR_ACCESS_EXEC, &r),
		 DMAR_OK);
	CHECK_EQ(r.pa, 0x21008);
	CHECK_EQ(r.prot, 0x7f);
	CHECK_EQ(r.level, 1);
	dmar_pgtable_destroy(pt);
	dmar_physmem_destroy(pm);
}

TEST(bad_arguments_change_nothing)
{
	dmar_physmem *pm = test_physmem(0);
	dmar_pgtable *pt = make(pm, 4, 0);
	dmar_walk_result r;
	uint64_t n = 77;

	CHECK_ST(dmar_pgtable_map(pt, 0x1001, 0x1000, K4, RW), DMAR_E_INVALID);
	CHECK_ST(dmar_pgtable_map(pt, 0x1000, 0x1001, K4, RW), DMAR_E_INVALID);
	CHECK_ST(dmar_pgtable_map(pt, 0x1000, 0x1000, 100, RW), DMAR_E_INVALID);
	CHECK_ST(dmar_pgtable_map(pt, 0x1000, 0x1000, 0, RW), DMAR_E_INVALID);
	CHECK_ST(dmar_pgtable_map(pt, 0x1000, 0x1000, K4, DMAR_PROT_WRITE), DMAR_E_INVALID);
	CHECK_ST(dmar_pgtable_map(pt, 0x1000, 0x1000, K4, RW | 0x100), DMAR_E_INVALID);
	CHECK_ST(dmar_pgtable_map(pt, 0x1000, 1ull << 52, K4, RW), DMAR_E_RANGE);
	CHECK_ST(dmar_pgtable_map(pt, 0 - K4, 0x1000, 2 * K4, RW), DMAR_E_RANGE); /* wraps */
	CHECK_ST(dmar_pgtable_map(NULL, 0x1000, 0x1000, K4, RW), DMAR_E_INVALID);
	CHECK_ST(dmar_pgtable_unmap(pt, 0x1000, 0, &n), DMAR_E_INVALID);
	CHECK_EQ(n, 0);
	CHECK_ST(dmar_pgtable_unmap(pt, 0x1800, K4, NULL), DMAR_E_INVALID);
	CHECK_ST(dmar_pgtable_unmap(pt, 1ull << 47, K4, NULL), DMAR_E_RANGE);
	CHECK_ST(dmar_pgtable_walk(pt, 0x1000, 0x10, &r), DMAR_E_INVALID);
	CHECK_ST(dmar_pgtable_walk(pt, 0x1000, DMAR_ACCESS_READ, NULL), DMAR_E_INVALID);
	CHECK_EQ(dmar_pgtable_table_pages(pt), 1);
	dmar_pgtable_destroy(pt);
	dmar_physmem_destroy(pm);
}

TEST(out_of_frames_changes_nothing)
{
	/* 6 allocatable frames: root + 5 more */
	const dmar_ram_range r = { .base = 1ull << 32, .size = 6 * K4 };
	dmar_physmem_config cfg = { .ranges = &r, .nranges = 1 };
	dmar_physmem *pm;
	dmar_pgtable *pt;
	uint64_t n;

	REQUIRE(dmar_physmem_create(&cfg, &pm) == DMAR_OK);
	pt = make(pm, 4, 0);
	CHECK_ST(dmar_pgtable_map(pt, 0, 0x100000, M2 - K4, RW), DMAR_OK); /* PDPT, PD, PT */
	/* 4 KiB pages in three more 2 MiB slots need three PTs; only two frames remain */
	CHECK_ST(dmar_pgtable_map(pt, M2 + K4, 0x100000, 3 * M2, RW), DMAR_E_NOMEM);
	for (uint64_t a = M2; a < 5 * M2; a += 64 * K4)
		CHECK(unmapped(pt, a));
	CHECK(xlates(pt, M2 - 2 * K4, 0x100000 + M2 - 2 * K4, 12));
	/* a split that cannot get a frame leaves the leaf whole */
	CHECK_ST(dmar_pgtable_map(pt, G1, G1, G1, RW), DMAR_OK);
	{
		dmar_pa_t hog[8];
		int k = 0;

		while (k < 8 && dmar_physmem_alloc(pm, 1, 12, DMAR_PLACE_ANY, 0, &hog[k]) == DMAR_OK)
			k++;
		CHECK_ST(dmar_pgtable_unmap(pt, G1 + K4, K4, &n), DMAR_E_NOMEM);
		CHECK_EQ(n, 0);
		CHECK(xlates(pt, G1 + K4, G1 + K4, 30));
		while (k > 0)
			CHECK_ST(dmar_physmem_free(pm, hog[--k], 1), DMAR_OK);
	}
	dmar_pgtable_destroy(pt);
	{
		dmar_physmem_stats st;

		dmar_physmem_get_stats(pm, &st);
		CHECK_EQ(st.allocated_frames, 0); /* every table page came back */
	}
	dmar_physmem_destroy(pm);
}

static void *unregistered_walk(void *arg)
{
	dmar_walk_result r;

	return (void *)(uintptr_t)dmar_pgtable_walk(arg, 0x1000, DMAR_ACCESS_READ, &r);
}

TEST(unregistered_thread_gets_a_status)
{
	dmar_physmem *pm = test_physmem(0);
	dmar_pgtable *pt = make(pm, 4, 0);
	pthread_t th;
	void *ret = NULL;

	CHECK_ST(dmar_pgtable_map(pt, 0x1000, 0x1000, K4, RW), DMAR_OK);
	REQUIRE(pthread_create(&th, NULL, unregistered_walk, pt) == 0);
	pthread_join(th, &ret);
	CHECK_EQ((uintptr_t)ret, DMAR_E_THREAD);
	dmar_pgtable_destroy(pt);
	dmar_physmem_destroy(pm);
}

/* Allocate every free frame of @pm but @keep; *hog receives them (@cap at most). */
static int hog_all_but(dmar_physmem *pm, unsigned keep, dmar_pa_t *hog, int cap)
{
	int k = 0;

	while (k < cap && dmar_physmem_alloc(pm, 1, 12, DMAR_PLACE_ANY, 0, &hog[k]) == DMAR_OK)
		k++;
	for (unsigned i = 0; i < keep && k > 0; i++)
		(void)dmar_physmem_free(pm, hog[--k], 1);
	return k;
}

static void unhog(dmar_physmem *pm, dmar_pa_t *hog, int k)
{
	while (k > 0)
		(void)dmar_physmem_free(pm, hog[--k], 1);
}

static uint64_t frames_allocated(dmar_physmem *pm)
{
	dmar_physmem_stats st;

	dmar_physmem_get_stats(pm, &st);
	return st.allocated_frames;
}

/* A map that runs out of frames leaves no table page behind (status.h: anything but
 * DMAR_OK changed nothing), whether it ran out at the first table it needed or later. */
TEST(S7_map_out_of_frames_leaves_no_table_behind)
{
	const dmar_ram_range r = { .base = 1ull << 32, .size = 64 * K4 };
	dmar_physmem_config cfg = { .ranges = &r, .nranges = 1 };
	dmar_physmem *pm;
	dmar_pgtable *pt;
	dmar_pa_t hog[64];
	int k;

	REQUIRE(dmar_physmem_create(&cfg, &pm) == DMAR_OK);
	pt = make(pm, 4, 0);
	CHECK_ST(dmar_pgtable_map(pt, 0, 0x100000, K4, RW), DMAR_OK); /* PDPT, PD, PT */
	CHECK_EQ(dmar_pgtable_table_pages(pt), 4);
	for (unsigned keep = 0; keep < 3; keep++) {
		/* a new 512 GiB slot needs PDPT, PD and PT: three frames */
		k = hog_all_but(pm, keep, hog, 64);
		CHECK_ST(dmar_pgtable_map(pt, 1ull << 39, 0x100000, K4, RW), DMAR_E_NOMEM);
		CHECK_EQ(dmar_pgtable_table_pages(pt), 4);
		CHECK_EQ(frames_allocated(pm), 4 + (uint64_t)k);
		CHECK(unmapped(pt, 1ull << 39));
		/* 4 KiB pages over three more 2 MiB slots need three PTs */
		CHECK_ST(dmar_pgtable_map(pt, M2 + K4, 0x100000, 3 * M2, RW), DMAR_E_NOMEM);
		CHECK_EQ(dmar_pgtable_table_pages(pt), 4);
		CHECK_EQ(frames_allocated(pm), 4 + (uint64_t)k);
		CHECK(unmapped(pt, M2 + K4));
		unhog(pm, hog, k);
	}
	k = hog_all_but(pm, 3, hog, 64);
	CHECK_ST(dmar_pgtable_map(pt, 1ull << 39, 0x100000, K4, RW), DMAR_OK);
	CHECK_EQ(dmar_pgtable_table_pages(pt), 7);
	CHECK(xlates(pt, 1ull << 39, 0x100000, 12));
	unhog(pm, hog, k);
	dmar_pgtable_destroy(pt);
	CHECK_EQ(frames_allocated(pm), 0);
	dmar_physmem_destroy(pm);
}

/* An unmap of one 4 KiB page inside a 1 GiB leaf needs two splits (1 GiB -> 2 MiB -> 4 KiB):
 * with one frame it fails before splitting anything, so every page keeps its leaf size and
 * no frame is gone; splits at both ends of one range that share a leaf need no more frames
 * than they use. */
TEST(S7_unmap_out_of_frames_half_way_changes_nothing)
{
	const dmar_ram_range r = { .base = 1ull << 32, .size = 64 * K4 };
	dmar_physmem_config cfg = { .ranges = &r, .nranges = 1 };
	dmar_physmem *pm;
	dmar_pgtable *pt;
	dmar_pa_t hog[64];
	uint64_t n = 99;
	int k;

	REQUIRE(dmar_physmem_create(&cfg, &pm) == DMAR_OK);
	pt = make(pm, 4, 0);
	CHECK_ST(dmar_pgtable_map(pt, G1, 8 * G1, G1, RW), DMAR_OK);
	CHECK_EQ(dmar_pgtable_table_pages(pt), 2); /* root, PDPT */
	k = hog_all_but(pm, 1, hog, 64);
	CHECK_ST(dmar_pgtable_unmap(pt, G1 + K4, K4, &n), DMAR_E_NOMEM);
	CHECK_EQ(n, 0);
	CHECK_EQ(dmar_pgtable_table_pages(pt), 2);
	CHECK_EQ(frames_allocated(pm), 2 + (uint64_t)k);
	CHECK(xlates(pt, G1 + K4, 8 * G1 + K4, 30));
	CHECK(xlates(pt, G1 + M2 + K4, 8 * G1 + M2 + K4, 30));
	unhog(pm, hog, k);

	/* [G1 + 4K, G1 + 8K): the end's split is inside what the start's made: two frames */
	k = hog_all_but(pm, 2, hog, 64);
	CHECK_ST(dmar_pgtable_unmap(pt, G1 + K4, K4, &n), DMAR_OK);
	CHECK_EQ(n, K4);
	CHECK(unmapped(pt, G1 + K4));
	CHECK(xlates(pt, G1, 8 * G1, 12));
	CHECK(xlates(pt, G1 + 2 * K4, 8 * G1 + 2 * K4, 12));
	CHECK(xlates(pt, G1 + M2, 8 * G1 + M2, 21));
	unhog(pm, hog, k);
	CHECK_EQ(dmar_pgtable_table_pages(pt), 4);

	/* ends in two 2 MiB leaves of one (now split) 1 GiB: one more split each side */
	CHECK_ST(dmar_pgtable_map(pt, G1 + K4, 8 * G1 + K4, K4, RW), DMAR_OK);
	CHECK_ST(dmar_pgtable_unmap(pt, 0, 4 * G1, NULL), DMAR_OK);
	CHECK_ST(dmar_pgtable_map(pt, G1, 8 * G1, G1, RW), DMAR_OK);
	k = hog_all_but(pm, 2, hog, 64);
	CHECK_ST(dmar_pgtable_unmap(pt, G1 + K4, M2, &n), DMAR_E_NOMEM); /* needs three */
	CHECK_EQ(n, 0);
	CHECK(xlates(pt, G1 + K4, 8 * G1 + K4, 30));
	CHECK(xlates(pt, G1 + M2 + K4, 8 * G1 + M2 + K4, 30));
	unhog(pm, hog, k);
	k = hog_all_but(pm, 3, hog, 64);
	CHECK_ST(dmar_pgtable_unmap(pt, G1 + K4, M2, &n), DMAR_OK);
	CHECK_EQ(n, M2);
	CHECK(xlates(pt, G1, 8 * G1, 12));
	CHECK(unmapped(pt, G1 + M2));
	CHECK(xlates(pt, G1 + M2 + K4, 8 * G1 + M2 + K4, 12));
	CHECK(xlates(pt, G1 + 2 * M2, 8 * G1 + 2 * M2, 21));
	unhog(pm, hog, k);
	dmar_pgtable_destroy(pt);
	CHECK_EQ(frames_allocated(pm), 0);
	dmar_physmem_destroy(pm);
}

struct unreg_args {
	dmar_pgtable *pt;
	dmar_domain *dom;
	dmar_status st[6];
};

static void *unregistered_writes(void *arg)
{
	struct unreg_args *a = arg;
	uint64_t n = 5;

	a->st[0] = dmar_pgtable_map(a->pt, 0x2000, 0x2000, K4, RW);
	a->st[1] = dmar_pgtable_unmap(a->pt, 0x1000, K4, &n);
	a->st[2] = dmar_domain_map(a->dom, 0x2000, 0x2000, K4, RW);
	a->st[3] = dmar_domain_unmap(a->dom, 0x1000, K4, NULL);
	a->st[4] = n == 0 ? DMAR_OK : DMAR_E_INVALID;
	a->st[5] = (dmar_status)dmar_thread_registered();
	return NULL;
}

/* thread.h: table-changing calls from a thread that is not registered answer
 * DMAR_E_THREAD and change nothing. */
TEST(S31_table_writers_refuse_unregistered_threads)
{
	dmar_physmem *pm = test_physmem(0);
	dmar_pgtable *pt = make(pm, 4, 0);
	dmar_iommu_config ic;
	dmar_iommu *iommu;
	struct unreg_args a = { .pt = pt };
	pthread_t th;

	dmar_iommu_config_default(&ic);
	REQUIRE(dmar_iommu_create(pm, &ic, &iommu) == DMAR_OK);
	REQUIRE(dmar_domain_create(iommu, DMAR_DOMAIN_REMAPPED, NULL, &a.dom) == DMAR_OK);
	CHECK_ST(dmar_pgtable_map(pt, 0x1000, 0x1000, K4, RW), DMAR_OK);
	CHECK_ST(dmar_domain_map(a.dom, 0x1000, 0x1000, K4, RW), DMAR_OK);
	REQUIRE(pthread_create(&th, NULL, unregistered_writes, &a) == 0);
	pthread_join(th, NULL);
	for (int i = 0; i < 4; i++)
		CHECK_ST(a.st[i], DMAR_E_THREAD);
	CHECK_ST(a.st[4], DMAR_OK); /* *unmapped is zeroed */
	CHECK_EQ(a.st[5], 0);
	CHECK(xlates(pt, 0x1000, 0x1000, 12));
	CHECK(unmapped(pt, 0x2000));
	CHECK(xlates(dmar_domain_pgtable(a.dom), 0x1000, 0x1000, 12));
	CHECK(unmapped(dmar_domain_pgtable(a.dom), 0x2000));
	CHECK_EQ(dmar_pgtable_table_pages(pt), 4);
	dmar_iommu_destroy(iommu);
	dmar_pgtable_destroy(pt);
	dmar_physmem_destroy(pm);
}

/* S13 and pgtable.h: an I/O virtual address table has no canonical hole; a CPU table keeps
 * x86 rules.  dmar_pt_input_range() tells each. */
TEST(S13_iova_table_takes_its_whole_input_width)
{
	dmar_physmem *pm = test_physmem(0);

	for (unsigned levels = 4; levels <= 5; levels++) {
		const unsigned bits = levels == 4 ? 48 : 57;
		const uint64_t top = 1ull << bits;
		const dmar_pt_format cpu = { .levels = levels }, up = { .levels = levels,
			.flags = DMAR_PT_UPPER_HALF }, io = { .levels = levels, .flags = DMAR_PT_IOVA },
			     bad = { .levels = levels, .flags = DMAR_PT_IOVA | DMAR_PT_UPPER_HALF };
		dmar_pgtable *pt = make(pm, levels, DMAR_PT_IOVA);
		dmar_pgtable_config cfg;
		dmar_pgtable *none = NULL;
		dmar_iova_t lo = 1, hi = 1;
		dmar_walk_result r;

		CHECK_ST(dmar_pt_input_range(&cpu, &lo, &hi), DMAR_OK);
		CHECK_EQ(lo, top / 2 - 1);
		CHECK_EQ(hi, 0);
		CHECK_ST(dmar_pt_input_range(&up, &lo, &hi), DMAR_OK);
		CHECK_EQ(lo, top / 2 - 1);
		CHECK_EQ(hi, 0 - top / 2);
		CHECK_ST(dmar_pt_input_range(&io, &lo, NULL), DMAR_OK);
		CHECK_EQ(lo, top - 1);
		CHECK_ST(dmar_pt_input_range(dmar_pgtable_format(pt), &lo, &hi), DMAR_OK);
		CHECK_EQ(lo, top - 1);
		CHECK_EQ(hi, 0);
		CHECK_ST(dmar_pt_input_range(&bad, &lo, &hi), DMAR_E_INVALID);
		CHECK_ST(dmar_pt_input_range(&io, NULL, &hi), DMAR_E_INVALID);
		dmar_pgtable_config_default(&cfg);
		cfg.format = bad;
		CHECK_ST(dmar_pgtable_create(pm, &cfg, &none), DMAR_E_INVALID);

		/* the upper half of the width, the canonical hole of a CPU table, maps */
		CHECK_ST(dmar_pgtable_map(pt, top / 2, 0x5000, K4, RW), DMAR_OK);
		CHECK(xlates(pt, top / 2 + 0x123, 0x5123, 12));
		CHECK_ST(dmar_pgtable_map(pt, top / 2 - K4, 0x7000, 2 * K4, RW), DMAR_E_EXISTS);
		CHECK_ST(dmar_pgtable_map(pt, top - K4, 0x6000, K4, RW), DMAR_OK);
		CHECK(xlates(pt, top - 1, 0x6fff, 12));
		CHECK_ST(dmar_pgtable_map(pt, top, 0x6000, K4, RW), DMAR_E_RANGE);
		CHECK_ST(dmar_pgtable_map(pt, top - K4, 0x6000, 2 * K4, RW), DMAR_E_RANGE);
		CHECK_ST(dmar_pgtable_map(pt, 0 - K4, 0x6000, K4, RW), DMAR_E_RANGE);
		CHECK_ST(dmar_walk(pm, dmar_pgtable_root(pt), &io, top, DMAR_ACCESS_READ, &r),
			 DMAR_E_FAULT);
		CHECK_EQ(r.fault, DMAR_FAULT_ADDR_WIDTH);
		CHECK_ST(dmar_pgtable_walk(pt, 0 - K4, DMAR_ACCESS_READ, &r), DMAR_E_FAULT);
		CHECK_EQ(r.fault, DMAR_FAULT_ADDR_WIDTH);
		/* the same entries read as a CPU table: the upper half is not canonical there */
		CHECK_ST(dmar_walk(pm, dmar_pgtable_root(pt), &cpu, top / 2, DMAR_ACCESS_READ, &r),
			 DMAR_E_FAULT);
		CHECK_EQ(r.fault, DMAR_FAULT_NONCANONICAL);
		CHECK_ST(dmar_pgtable_unmap(pt, 0, top, NULL), DMAR_OK);
		CHECK(unmapped(pt, top - 1));
		CHECK_EQ(dmar_pgtable_table_pages(pt), 1);
		dmar_pgtable_destroy(pt);
	}
	dmar_physmem_destroy(pm);
}

TEST(table_pages_return_to_the_allocator)
{
	dmar_physmem *pm = test_physmem(0);
	dmar_pgtable *pt = make(pm, 4, 0);
	dmar_physmem_stats st;

	for (int i = 0; i < 64; i++)
		CHECK_ST(dmar_pgtable_map(pt, (uint64_t)i * G1 + K4, 0x1000, K4, RW), DMAR_OK);
	CHECK_EQ(dmar_pgtable_table_pages(pt), 1 + 1 + 64 + 64);
	CHECK_ST(dmar_pgtable_unmap(pt, 0, 64 * G1, NULL), DMAR_OK);
	CHECK_EQ(dmar_pgtable_table_pages(pt), 2);
	dmar_pgtable_destroy(pt);
	dmar_physmem_get_stats(pm, &st);
	CHECK_EQ(st.allocated_frames, 0);
	dmar_physmem_destroy(pm);
}

RUN_TESTS(T(empty_table_translates_nothing), T(map_overlap_translate_unmap_remap_every_size),
	  T(map_picks_largest_page_sizes), T(page_size_config_is_honoured),
	  T(last_page_of_the_address_width), T(five_level_reaches_above_2_to_47),
	  T(unmap_splits_large_leaves), T(overlapping_map_changes_nothing),
	  T(empty_table_is_replaced_by_a_large_leaf), T(permissions_combine_over_levels),
	  T(bad_arguments_change_nothing), T(out_of_frames_changes_nothing),
	  T(unregistered_thread_gets_a_status), T(table_pages_return_to_the_allocator),
	  T(S7_map_out_of_frames_leaves_no_table_behind),
	  T(S7_unmap_out_of_frames_half_way_changes_nothing),
	  T(S31_table_writers_refuse_unregistered_threads),
	  T(S13_iova_table_takes_its_whole_input_width))
