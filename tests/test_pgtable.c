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

/* ---- Every format (pgtable.h: x86-64, VT-d second stage, AMD-Vi v1) ---- */

#define M4 (1ull << 22)

struct fmt_case {
	const char *name;
	dmar_pt_format f;
};

static const struct fmt_case formats[] = {
	{ "x86-64 4 levels", { .levels = 4 } },
	{ "x86-64 4 levels, upper half", { .levels = 4, .flags = DMAR_PT_UPPER_HALF } },
	{ "x86-64 5 levels, iova", { .levels = 5, .flags = DMAR_PT_IOVA } },
	{ "VT-d 3 levels", { .levels = 3, .kind = DMAR_PT_VTD_SS } },
	{ "VT-d 4 levels, 1G", { .levels = 4, .kind = DMAR_PT_VTD_SS, .flags = DMAR_PT_1G } },
	{ "VT-d 5 levels, 1G, exec",
	  { .levels = 5, .kind = DMAR_PT_VTD_SS, .flags = DMAR_PT_1G | DMAR_PT_EXEC } },
	{ "AMD-Vi 1 level", { .levels = 1, .kind = DMAR_PT_AMDV1 } },
	{ "AMD-Vi 2 levels", { .levels = 2, .kind = DMAR_PT_AMDV1 } },
	{ "AMD-Vi 3 levels, 40-bit PA", { .levels = 3, .kind = DMAR_PT_AMDV1, .pa_bits = 40 } },
	{ "AMD-Vi 4 levels", { .levels = 4, .kind = DMAR_PT_AMDV1 } },
	{ "AMD-Vi 5 levels", { .levels = 5, .kind = DMAR_PT_AMDV1 } },
	{ "AMD-Vi 6 levels", { .levels = 6, .kind = DMAR_PT_AMDV1 } },
};
#define NFORMATS (sizeof(formats) / sizeof(formats[0]))

/* Names the format a failed check ran in. */
#define FORMAT_BEGIN(fc) const int failed_before_ = check_failed_
#define FORMAT_END(fc)                                                                    \
	do {                                                                              \
		if (check_failed_ && !failed_before_)                                     \
			printf("#   (format: %s)\n", (fc)->name);                         \
	} while (0)

/* A table of @fmt with the page sizes @pgsizes (0: every size the format has). */
static dmar_pgtable *make_fmt(dmar_physmem *pm, const dmar_pt_format *fmt, uint64_t pgsizes)
{
	dmar_pgtable_config cfg;
	dmar_pgtable *pt = NULL;

	dmar_pgtable_config_default(&cfg);
	cfg.format = *fmt;
	cfg.pgsizes = pgsizes ? pgsizes : dmar_pt_page_sizes(fmt);
	if (dmar_pgtable_create(pm, &cfg, &pt) != DMAR_OK) {
		printf("Bail out! dmar_pgtable_create\n");
		exit(2);
	}
	return pt;
}

static unsigned pa_bits_of(const dmar_pt_format *f)
{
	return f->pa_bits ? f->pa_bits : 52;
}

/* pgtable.h, dmar_pgtable_map: what a walk reports for a page mapped with @prot: the prot
 * given, plus USER in the IOMMU formats, and EXEC = READ where execution follows read
 * (AMD-Vi, VT-d without DMAR_PT_EXEC). */
static unsigned reported(const dmar_pt_format *f, unsigned prot)
{
	if (f->kind == DMAR_PT_X86_64)
		return prot;
	prot |= DMAR_PROT_USER;
	if (f->kind == DMAR_PT_AMDV1 || !(f->flags & DMAR_PT_EXEC))
		prot = (prot & ~DMAR_PROT_EXEC) | ((prot & DMAR_PROT_READ) ? DMAR_PROT_EXEC : 0);
	return prot;
}

/* The format's accessed and dirty bits (pgtable.h's layouts). */
static uint64_t a_bit(const dmar_pt_format *f)
{
	return f->kind == DMAR_PT_VTD_SS ? DMAR_VTD_SS_A
	       : f->kind == DMAR_PT_AMDV1 ? DMAR_AMDV1_A
					  : DMAR_PTE_A;
}

static uint64_t d_bit(const dmar_pt_format *f)
{
	return f->kind == DMAR_PT_VTD_SS ? DMAR_VTD_SS_D
	       : f->kind == DMAR_PT_AMDV1 ? DMAR_AMDV1_D
					  : DMAR_PTE_D;
}

/* The physical address of the entry at @level that a walk of @va reads, in a table built
 * here (each table entry, in any of the formats, holds the next table's address in bits
 * 12-51, and a table built here skips no level). */
static dmar_pa_t entry_pa(dmar_physmem *pm, dmar_pgtable *pt, uint64_t va, unsigned level)
{
	dmar_pa_t table = dmar_pgtable_root(pt);

	for (unsigned l = dmar_pgtable_format(pt)->levels;; l--) {
		const dmar_pa_t at = table + 8 * ((va >> (12 + 9 * (l - 1))) & 511);
		uint64_t e = 0;

		if (l == level)
			return at;
		(void)dmar_physmem_read(pm, at, &e, 8);
		table = e & DMAR_PTE_ADDR_MASK;
	}
}

static uint64_t entry_at(dmar_physmem *pm, dmar_pgtable *pt, uint64_t va, unsigned level)
{
	uint64_t e = 0;

	(void)dmar_physmem_read(pm, entry_pa(pm, pt, va, level), &e, 8);
	return e;
}

/* For every format and each of its page sizes: map, translate (first, middle and last byte,
 * with the prot pgtable.h promises), overlapping maps fail, unmap gives the size back and
 * leaves nothing; write-only pages where the format has them (S13, pgtable.h). */
TEST(S13_every_format_maps_translates_and_unmaps_every_page_size)
{
	dmar_physmem *pm = test_physmem(0);

	for (size_t fi = 0; fi < NFORMATS; fi++) {
		const struct fmt_case *fc = &formats[fi];
		const dmar_pt_format *f = &fc->f;
		const uint64_t sizes = dmar_pt_page_sizes(f);
		const unsigned want = reported(f, RW);
		dmar_pgtable *pt = make_fmt(pm, f, 0);
		dmar_iova_t low_last = 0;
		FORMAT_BEGIN(fc);

		REQUIRE(dmar_pt_input_range(f, &low_last, NULL) == DMAR_OK);
		CHECK(sizes & K4);
		for (unsigned lg2 = 12; lg2 < 64; lg2++) {
			const uint64_t sz = 1ull << lg2;
			uint64_t iova, pa, n = 0;
			dmar_walk_result r;

			if (!(sizes & sz))
				continue;
			/* an aligned page that fits, with room below it; a frame far from iova */
			iova = sz <= low_last / 4 ? 2 * sz : 0;
			pa = sz >= (1ull << 32) ? sz : (1ull << 32) + 3 * sz;
			if (pa + sz - 1 >= (1ull << pa_bits_of(f)))
				continue;
			CHECK_ST(dmar_pgtable_map(pt, iova, pa, sz, RW), DMAR_OK);
			CHECK(xlates(pt, iova, pa, lg2));
			CHECK(xlates(pt, iova + sz / 2 + 0x123, pa + sz / 2 + 0x123, lg2));
			CHECK(xlates(pt, iova + sz - 1, pa + sz - 1, lg2));
			CHECK_ST(dmar_pgtable_walk(pt, iova + sz - 8, DMAR_ACCESS_READ | DMAR_ACCESS_WRITE,
						   &r),
				 DMAR_OK);
			CHECK_EQ(r.prot, want);
			CHECK_ST(dmar_pgtable_map(pt, iova + sz - K4, pa, K4, RW), DMAR_E_EXISTS);
			CHECK_ST(dmar_pgtable_map(pt, iova, pa, K4, RW), DMAR_E_EXISTS);
			if (iova)
				CHECK_ST(dmar_pgtable_map(pt, iova - K4, pa, 2 * K4, RW), DMAR_E_EXISTS);
			if (iova)
				CHECK(unmapped(pt, iova - 1));
			if (iova + sz - 1 < low_last)
				CHECK(unmapped(pt, iova + sz));
			CHECK_ST(dmar_pgtable_unmap(pt, iova, sz, &n), DMAR_OK);
			CHECK_EQ(n, sz);
			CHECK(unmapped(pt, iova));
			CHECK(unmapped(pt, iova + sz - 1));
			CHECK_ST(dmar_pgtable_unmap(pt, iova, sz, &n), DMAR_OK);
			CHECK_EQ(n, 0);
		}
		/* write-only pages: legal in the IOMMU formats, refused on x86-64 */
		if (f->kind == DMAR_PT_X86_64) {
			CHECK_ST(dmar_pgtable_map(pt, 0x5000, 0x9000, K4, DMAR_PROT_WRITE), DMAR_E_INVALID);
		} else {
			dmar_walk_result r;

			CHECK_ST(dmar_pgtable_map(pt, 0x5000, 0x9000, K4, DMAR_PROT_WRITE), DMAR_OK);
			CHECK_ST(dmar_pgtable_walk(pt, 0x5008, DMAR_ACCESS_WRITE, &r), DMAR_OK);
			CHECK_EQ(r.pa, 0x9008);
			CHECK_EQ(r.prot, reported(f, DMAR_PROT_WRITE));
			CHECK_ST(dmar_pgtable_walk(pt, 0x5008, DMAR_ACCESS_READ, &r), DMAR_E_FAULT);
			CHECK_EQ(r.fault, DMAR_FAULT_READ);
			CHECK_ST(dmar_pgtable_unmap(pt, 0x5000, K4, NULL), DMAR_OK);
		}
		dmar_pgtable_destroy(pt);
		FORMAT_END(fc);
	}
	CHECK_EQ(frames_allocated(pm), 0);
	dmar_physmem_destroy(pm);
}

/* pgtable.h, dmar_pgtable_config.pgsizes: what dmar_pt_page_sizes() lists and nothing
 * else (0, the default, all of them): VT-d has 1 GiB leaves only with DMAR_PT_1G; AMD-Vi
 * every power of two up to half the span above its highest leaf level, at most 2^51. */
TEST(S13_page_sizes_of_each_format_and_pgsizes_outside_them_are_refused)
{
	dmar_physmem *pm = test_physmem(0);
	const dmar_pt_format vtd = { .levels = 4, .kind = DMAR_PT_VTD_SS },
			     vtd1g = { .levels = 4, .kind = DMAR_PT_VTD_SS, .flags = DMAR_PT_1G };
	dmar_pgtable_config cfg;
	dmar_pgtable *pt = NULL;

	CHECK_EQ(dmar_pt_page_sizes(&vtd), K4 | M2);
	CHECK_EQ(dmar_pt_page_sizes(&vtd1g), K4 | M2 | G1);
	for (unsigned levels = 1; levels <= 6; levels++) {
		const dmar_pt_format amd = { .levels = levels, .kind = DMAR_PT_AMDV1 };
		const unsigned top = levels < 5 ? levels : 5; /* the highest level with leaves */
		unsigned last = 12 + 9 * top - 1;

		if (last > 51)
			last = 51;
		CHECK_EQ(dmar_pt_page_sizes(&amd), ((2ull << last) - 1) & ~(K4 - 1));
		dmar_pgtable_config_default(&cfg);
		cfg.format = amd;
		cfg.pgsizes = dmar_pt_page_sizes(&amd);
		CHECK_ST(dmar_pgtable_create(pm, &cfg, &pt), DMAR_OK);
		dmar_pgtable_destroy(pt);
		cfg.pgsizes |= 2ull << last;
		CHECK_ST(dmar_pgtable_create(pm, &cfg, &pt), DMAR_E_INVALID);
	}
	/* the default, pgsizes 0, is every size of the format: no 1 GiB leaves on VT-d
	 * without DMAR_PT_1G, which refuses DMAR_PGSIZES_ALL */
	dmar_pgtable_config_default(&cfg);
	CHECK_EQ(cfg.pgsizes, 0);
	cfg.format = vtd;
	CHECK_ST(dmar_pgtable_create(pm, &cfg, &pt), DMAR_OK);
	CHECK_ST(dmar_pgtable_map(pt, G1, 4 * G1, G1, RW), DMAR_OK);
	CHECK(xlates(pt, G1 + G1 / 2, 4 * G1 + G1 / 2, 21)); /* 2 MiB leaves */
	dmar_pgtable_destroy(pt);
	cfg.pgsizes = DMAR_PGSIZES_ALL;
	CHECK_ST(dmar_pgtable_create(pm, &cfg, &pt), DMAR_E_INVALID);
	cfg.pgsizes = K4 | M2;
	CHECK_ST(dmar_pgtable_create(pm, &cfg, &pt), DMAR_OK);
	dmar_pgtable_destroy(pt);
	cfg.format = vtd1g;
	cfg.pgsizes = 0;
	CHECK_ST(dmar_pgtable_create(pm, &cfg, &pt), DMAR_OK);
	CHECK_ST(dmar_pgtable_map(pt, G1, 4 * G1, G1, RW), DMAR_OK);
	CHECK(xlates(pt, G1 + G1 / 2, 4 * G1 + G1 / 2, 30));
	CHECK_EQ(entry_at(pm, pt, G1, 3) & (DMAR_VTD_SS_PS | DMAR_PTE_ADDR_MASK),
		 DMAR_VTD_SS_PS | 4 * G1);
	dmar_pgtable_destroy(pt);
	CHECK_EQ(frames_allocated(pm), 0);
	dmar_physmem_destroy(pm);
}

/* S13, pgtable.h (dmar_pt_input_range, dmar_pgtable_map): the last page of every format's
 * input maps, translates and unmaps; a range past it or wrapping past 2^64 is refused.  An
 * AMD-Vi table of 6 levels takes all 64 bits: its last page is 2^64 - 4096, and an unmap
 * that ends at 2^64 - 1 splits the leaf it starts in. */
TEST(S13_last_page_of_every_input_width_maps_and_unmaps)
{
	dmar_physmem *pm = test_physmem(0);

	for (size_t fi = 0; fi < NFORMATS; fi++) {
		const struct fmt_case *fc = &formats[fi];
		const dmar_pt_format *f = &fc->f;
		dmar_pgtable *pt = make_fmt(pm, f, 0);
		dmar_iova_t low_last = 0, high_first = 0;
		uint64_t n = 0;
		FORMAT_BEGIN(fc);

		REQUIRE(dmar_pt_input_range(f, &low_last, &high_first) == DMAR_OK);
		CHECK_ST(dmar_pgtable_map(pt, low_last - (K4 - 1), 0xabc000, K4, RW), DMAR_OK);
		CHECK(xlates(pt, low_last, 0xabcfff, 12));
		CHECK_ST(dmar_pgtable_map(pt, low_last - (K4 - 1), 0xabc000, 2 * K4, RW),
			 DMAR_E_RANGE);
		if (low_last != ~0ull)
			CHECK_ST(dmar_pgtable_map(pt, low_last + 1, 0xabc000, K4, RW), DMAR_E_RANGE);
		CHECK_ST(dmar_pgtable_map(pt, 0 - K4, 0xabc000, 2 * K4, RW), DMAR_E_RANGE); /* wraps */
		CHECK_ST(dmar_pgtable_unmap(pt, 0 - K4, 2 * K4, NULL), DMAR_E_RANGE);
		CHECK_ST(dmar_pgtable_unmap(pt, low_last - (K4 - 1), K4, &n), DMAR_OK);
		CHECK_EQ(n, K4);
		CHECK(unmapped(pt, low_last));
		if (high_first) { /* the upper half ends at 2^64 - 1 */
			CHECK_ST(dmar_pgtable_map(pt, 0 - K4, 0xdef000, K4, RW), DMAR_OK);
			CHECK(xlates(pt, ~0ull, 0xdeffff, 12));
			CHECK_ST(dmar_pgtable_unmap(pt, 0 - M2, M2, &n), DMAR_OK);
			CHECK_EQ(n, K4);
			CHECK(unmapped(pt, ~0ull));
		}
		/* a large leaf at the top of the input, unmapped in part up to the last byte */
		if (dmar_pt_page_sizes(f) & M2) {
			const uint64_t top = (high_first ? ~0ull : low_last) - (M2 - 1);

			CHECK_ST(dmar_pgtable_map(pt, top, 0x40000000, M2, RW), DMAR_OK);
			CHECK(xlates(pt, top + M2 - 1, 0x40000000 + M2 - 1, 21));
			CHECK_ST(dmar_pgtable_unmap(pt, top + M2 - 2 * K4, 2 * K4, &n), DMAR_OK);
			CHECK_EQ(n, 2 * K4);
			CHECK(unmapped(pt, top + M2 - 1));
			CHECK(unmapped(pt, top + M2 - 2 * K4));
			CHECK(xlates(pt, top + M2 - 3 * K4, 0x40000000 + M2 - 3 * K4, 12));
			CHECK(xlates(pt, top, 0x40000000, 12));
			CHECK_ST(dmar_pgtable_unmap(pt, top, M2, &n), DMAR_OK);
			CHECK_EQ(n, M2 - 2 * K4);
		}
		dmar_pgtable_destroy(pt);
		FORMAT_END(fc);
	}
	CHECK_EQ(frames_allocated(pm), 0);
	dmar_physmem_destroy(pm);
}

/* pgtable.h, AMD-Vi v1: a leaf larger than its level's span is next level 7, its size a run
 * of ones in the low address bits (first zero bit n: 2^(n+1) bytes), repeated in every slot
 * it covers.  map() uses the largest size of pgsizes that alignment and length allow:
 * 8 KiB to 1 MiB at level 1, 4 MiB at level 2. */
TEST(S13_amd_contiguous_leaves_are_repeated_next_level_7_entries)
{
	dmar_physmem *pm = test_physmem(0);
	const dmar_pt_format f = { .levels = 3, .kind = DMAR_PT_AMDV1 };
	dmar_pgtable *pt = make_fmt(pm, &f, 0);

	for (unsigned lg2 = 13; lg2 <= 22; lg2++) {
		const uint64_t sz = 1ull << lg2, iova = 3 * G1 / 2 + 4 * sz, pa = (1ull << 40) + sz;
		const unsigned level = lg2 < 21 ? 1 : 2, slots = 1u << (lg2 - (level == 1 ? 12 : 21));
		const uint64_t ones = ((1ull << (lg2 - 1)) - 1) & ~(K4 - 1);
		uint64_t first = 0, n = 0;
		dmar_walk_result r;

		if (lg2 == 21) /* 2 MiB is level 2's own size: next level 0 */
			continue;
		CHECK_ST(dmar_pgtable_map(pt, iova, pa, sz, DMAR_PROT_READ), DMAR_OK);
		CHECK_ST(dmar_pgtable_walk(pt, iova + sz - 1, DMAR_ACCESS_READ, &r), DMAR_OK);
		CHECK_EQ(r.pa, pa + sz - 1);
		CHECK_EQ(r.page_lg2, lg2);
		CHECK_EQ(r.level, level);
		CHECK_EQ(r.pte & DMAR_PTE_ADDR_MASK, pa | ones);
		CHECK_EQ(r.pte & DMAR_AMDV1_NL_MASK, DMAR_AMDV1_NL(DMAR_AMDV1_NL_SIZE));
		CHECK_EQ(r.pte & (DMAR_AMDV1_PR | DMAR_AMDV1_IR | DMAR_AMDV1_IW),
			 DMAR_AMDV1_PR | DMAR_AMDV1_IR);
		for (unsigned i = 0; i < slots; i++) {
			const uint64_t e = entry_at(pm, pt, iova + ((uint64_t)i << (lg2 - __builtin_ctz(slots))),
						    level);

			if (i == 0)
				first = e;
			CHECK_EQ(e, first);
		}
		CHECK_EQ(first, r.pte);
		/* the slots beside it hold nothing */
		CHECK_EQ(entry_at(pm, pt, iova - K4, level) & DMAR_AMDV1_PR, 0);
		CHECK_EQ(entry_at(pm, pt, iova + sz, level) & DMAR_AMDV1_PR, 0);
		CHECK_ST(dmar_pgtable_unmap(pt, iova, sz, &n), DMAR_OK);
		CHECK_EQ(n, sz);
		CHECK(unmapped(pt, iova));
		CHECK(unmapped(pt, iova + sz - 1));
	}
	/* the largest size alignment and length allow, at every step: 4K up to a 32K
	 * boundary, 32K up to a 64K one, 64K, and the 8K left */
	{
		const uint64_t iova = 0x7000, pa = 0x1000007000ull;

		CHECK_ST(dmar_pgtable_map(pt, iova, pa, 0x1b000, RW), DMAR_OK);
		CHECK(xlates(pt, 0x7000, pa, 12));
		CHECK(xlates(pt, 0x8000, pa + 0x1000, 15));
		CHECK(xlates(pt, 0xffff, pa + 0x8fff, 15));
		CHECK(xlates(pt, 0x10000, pa + 0x9000, 16));
		CHECK(xlates(pt, 0x20000, pa + 0x19000, 13));
		CHECK(xlates(pt, 0x21fff, pa + 0x1afff, 13));
		CHECK(unmapped(pt, 0x22000));
		CHECK_ST(dmar_pgtable_unmap(pt, 0, M2, NULL), DMAR_OK);
		/* pa aligned differently: 16 KiB apart from 32 KiB alignment, so 16 KiB leaves */
		CHECK_ST(dmar_pgtable_map(pt, 0x8000, 0x1000004000ull, 0x10000, RW), DMAR_OK);
		CHECK(xlates(pt, 0x8000, 0x1000004000ull, 14));
		CHECK(xlates(pt, 0x17fff, 0x1000013fffull, 14));
		CHECK_ST(dmar_pgtable_unmap(pt, 0, M2, NULL), DMAR_OK);
	}
	/* empty tables in the slots of a 4 MiB leaf are replaced by it (pgtable.h: map
	 * "replaced an empty table by a large leaf") */
	{
		const uint64_t c = 2 * G1 + 2 * M4;
		uint64_t pages;

		CHECK_ST(dmar_pgtable_map(pt, c + K4, 0x5000, K4, RW), DMAR_OK);
		CHECK_ST(dmar_pgtable_map(pt, c + M2 + K4, 0x5000, K4, RW), DMAR_OK);
		CHECK_ST(dmar_pgtable_unmap(pt, c + K4, K4, NULL), DMAR_OK);
		CHECK_ST(dmar_pgtable_unmap(pt, c + M2 + K4, K4, NULL), DMAR_OK);
		pages = dmar_pgtable_table_pages(pt); /* the two empty tables stay */
		CHECK_ST(dmar_pgtable_map(pt, c, 0x40000000, M4, RW), DMAR_OK);
		CHECK(xlates(pt, c + M2 + K4, 0x40000000 + M2 + K4, 22));
		CHECK_EQ(dmar_pgtable_table_pages(pt), pages - 2);
	}
	dmar_pgtable_destroy(pt);
	/* only the sizes pgsizes holds: 4 KiB and 32 KiB */
	pt = make_fmt(pm, &f, K4 | (1ull << 15));
	CHECK_ST(dmar_pgtable_map(pt, 0x10000, 0x20000, 0x10000 + K4, RW), DMAR_OK);
	CHECK(xlates(pt, 0x10000, 0x20000, 15));
	CHECK(xlates(pt, 0x18000, 0x28000, 15));
	CHECK(xlates(pt, 0x20000, 0x30000, 12));
	dmar_pgtable_destroy(pt);
	CHECK_EQ(frames_allocated(pm), 0);
	dmar_physmem_destroy(pm);
}

struct flush_log {
	unsigned n;
	uint64_t iova[16], size[16];
};

static void log_flush(void *ctx, dmar_iova_t iova, uint64_t size)
{
	struct flush_log *l = ctx;

	if (l->n < 16) {
		l->iova[l->n] = iova;
		l->size[l->n] = size;
	}
	l->n++;
}

/* Whether the flushes logged cover [base, base + size) (each page in one of them). */
static int flushed(const struct flush_log *l, uint64_t base, uint64_t size)
{
	for (uint64_t a = base; a - base < size; a += K4) {
		int in = 0;

		for (unsigned i = 0; i < l->n && i < 16; i++)
			in |= a - l->iova[i] < l->size[i];
		if (!in)
			return 0;
	}
	return 1;
}

/* pgtable.h (dmar_pgtable_unmap: a large leaf covered in part is split first; the flush
 * hook) and docs/design.md ("Splits never change a translation"; a split flushes the leaf's
 * whole span): an unmap of part of an AMD-Vi 32 KiB or 4 MiB leaf leaves every other page
 * translating to the same address, and the flush covers the leaf's whole span. */
TEST(S13_partial_unmap_of_an_amd_contiguous_leaf_keeps_the_rest)
{
	dmar_physmem *pm = test_physmem(0);
	const dmar_pt_format f = { .levels = 3, .kind = DMAR_PT_AMDV1 };
	dmar_pgtable *pt = make_fmt(pm, &f, 0);
	struct flush_log log = { 0 };
	const uint64_t K32 = 8 * K4, a = G1 + 8 * K32, pa = (1ull << 40) + 5 * K32;
	const uint64_t b = 2 * G1 + 6 * M4, pb = (1ull << 41) + 3 * M4;
	uint64_t pages, n = 0;

	dmar_pgtable_set_flush(pt, log_flush, &log);
	CHECK_ST(dmar_pgtable_map(pt, a, pa, K32, RW), DMAR_OK);
	CHECK_ST(dmar_pgtable_map(pt, b, pb, M4, RW), DMAR_OK);
	CHECK(xlates(pt, a + K32 - 1, pa + K32 - 1, 15));
	CHECK(xlates(pt, b + M4 - 1, pb + M4 - 1, 22));
	pages = dmar_pgtable_table_pages(pt);

	/* one page out of the middle of the 32 KiB leaf: no table page, 4 KiB leaves around */
	log.n = 0;
	CHECK_ST(dmar_pgtable_unmap(pt, a + 3 * K4, K4, &n), DMAR_OK);
	CHECK_EQ(n, K4);
	CHECK(unmapped(pt, a + 3 * K4));
	for (unsigned i = 0; i < 8; i++)
		if (i != 3)
			CHECK(xlates(pt, a + i * K4 + 0x10, pa + i * K4 + 0x10, 12));
	CHECK_EQ(dmar_pgtable_table_pages(pt), pages);
	CHECK(flushed(&log, a, K32));
	/* a page of the level's own size per slot: next level 0, its own address */
	CHECK_EQ(entry_at(pm, pt, a + 5 * K4, 1) & (DMAR_AMDV1_NL_MASK | DMAR_PTE_ADDR_MASK),
		 pa + 5 * K4);
	CHECK(unmapped(pt, a - K4));
	CHECK(unmapped(pt, a + K32));

	/* the first 8 KiB of a fresh 32 KiB leaf: the range starts on its first byte */
	CHECK_ST(dmar_pgtable_map(pt, a + 2 * K32, pa, K32, RW), DMAR_OK);
	log.n = 0;
	CHECK_ST(dmar_pgtable_unmap(pt, a + 2 * K32, 2 * K4, &n), DMAR_OK);
	CHECK_EQ(n, 2 * K4);
	CHECK(unmapped(pt, a + 2 * K32 + K4));
	for (unsigned i = 2; i < 8; i++)
		CHECK(xlates(pt, a + 2 * K32 + i * K4, pa + i * K4, 12));
	CHECK(flushed(&log, a + 2 * K32, K32));

	/* 4 KiB out of the second 2 MiB of the 4 MiB leaf: the first half stays one 2 MiB
	 * leaf, the second becomes a table of 4 KiB leaves (one table page) */
	log.n = 0;
	CHECK_ST(dmar_pgtable_unmap(pt, b + M2 + 12 * K4, K4, &n), DMAR_OK);
	CHECK_EQ(n, K4);
	CHECK(unmapped(pt, b + M2 + 12 * K4));
	CHECK(xlates(pt, b, pb, 21));
	CHECK(xlates(pt, b + M2 - 1, pb + M2 - 1, 21));
	CHECK(xlates(pt, b + M2, pb + M2, 12));
	CHECK(xlates(pt, b + M2 + 11 * K4 + 5, pb + M2 + 11 * K4 + 5, 12));
	CHECK(xlates(pt, b + M2 + 13 * K4, pb + M2 + 13 * K4, 12));
	CHECK(xlates(pt, b + M4 - 1, pb + M4 - 1, 12));
	CHECK(unmapped(pt, b - K4));
	CHECK(unmapped(pt, b + M4));
	CHECK_EQ(dmar_pgtable_table_pages(pt), pages + 1);
	CHECK(flushed(&log, b, M4));
	CHECK_EQ(entry_at(pm, pt, b, 2) & (DMAR_AMDV1_NL_MASK | DMAR_PTE_ADDR_MASK), pb);

	/* the first 2 MiB of another 4 MiB leaf: no table page; the other half stays 2 MiB */
	CHECK_ST(dmar_pgtable_map(pt, b + 2 * M4, pb, M4, RW), DMAR_OK);
	log.n = 0;
	CHECK_ST(dmar_pgtable_unmap(pt, b + 2 * M4, M2, &n), DMAR_OK);
	CHECK_EQ(n, M2);
	CHECK(unmapped(pt, b + 2 * M4 + M2 - 1));
	CHECK(xlates(pt, b + 2 * M4 + M2, pb + M2, 21));
	CHECK(xlates(pt, b + 3 * M4 - 1, pb + M4 - 1, 21));
	CHECK_EQ(dmar_pgtable_table_pages(pt), pages + 1);
	CHECK(flushed(&log, b + 2 * M4, M4));

	/* all of it goes in one call */
	CHECK_ST(dmar_pgtable_unmap(pt, G1, 2 * G1, &n), DMAR_OK);
	CHECK_EQ(n, (K32 - K4) + (K32 - 2 * K4) + (M4 - K4) + M2);
	dmar_pgtable_destroy(pt);
	CHECK_EQ(frames_allocated(pm), 0);
	dmar_physmem_destroy(pm);
}

/* pgtable.h, dmar_pgtable_map: DMAR_E_EXISTS if any page is mapped already, and then
 * nothing changed; pages just outside an AMD-Vi 32 KiB or 4 MiB leaf are free. */
TEST(S13_map_over_an_amd_contiguous_leaf_is_refused_exactly)
{
	dmar_physmem *pm = test_physmem(0);
	const dmar_pt_format f = { .levels = 3, .kind = DMAR_PT_AMDV1 };
	dmar_pgtable *pt = make_fmt(pm, &f, 0);
	const uint64_t K32 = 8 * K4, a = 4 * M2 + 8 * K32, b = G1 + 2 * M4;
	uint64_t pages;

	CHECK_ST(dmar_pgtable_map(pt, a, 0x100000000ull, K32, RW), DMAR_OK);
	CHECK_ST(dmar_pgtable_map(pt, b, 0x200000000ull, M4, RW), DMAR_OK);
	pages = dmar_pgtable_table_pages(pt);
	for (unsigned i = 0; i < 8; i++)
		CHECK_ST(dmar_pgtable_map(pt, a + i * K4, 0x300000000ull, K4, RW), DMAR_E_EXISTS);
	CHECK_ST(dmar_pgtable_map(pt, a - K4, 0x300000000ull, 2 * K4, RW), DMAR_E_EXISTS);
	CHECK_ST(dmar_pgtable_map(pt, a + K32 - K4, 0x300000000ull, 2 * K4, RW), DMAR_E_EXISTS);
	CHECK_ST(dmar_pgtable_map(pt, a - K32, 0x300000000ull, 2 * K32, RW), DMAR_E_EXISTS);
	CHECK_ST(dmar_pgtable_map(pt, 4 * M2, 0x300000000ull, M2, RW), DMAR_E_EXISTS);
	CHECK_ST(dmar_pgtable_map(pt, b + M2 + M2 / 2, 0x300000000ull, K4, RW), DMAR_E_EXISTS);
	CHECK_ST(dmar_pgtable_map(pt, b + M4 - K4, 0x300000000ull, 2 * K4, RW), DMAR_E_EXISTS);
	CHECK_ST(dmar_pgtable_map(pt, b - M2, 0x300000000ull, 2 * M2, RW), DMAR_E_EXISTS);
	CHECK_ST(dmar_pgtable_map(pt, G1, 0x300000000ull, G1, RW), DMAR_E_EXISTS);
	CHECK_EQ(dmar_pgtable_table_pages(pt), pages);
	CHECK(unmapped(pt, a - K4));
	CHECK(unmapped(pt, a + K32));
	CHECK(unmapped(pt, b - K4));
	CHECK(unmapped(pt, b + M4));
	CHECK(xlates(pt, a + K4, 0x100001000ull, 15));
	CHECK(xlates(pt, b + M2, 0x200000000ull + M2, 22));
	/* right beside them is free */
	CHECK_ST(dmar_pgtable_map(pt, a - K32, 0x300000000ull, K32, RW), DMAR_OK);
	CHECK_ST(dmar_pgtable_map(pt, a + K32, 0x300000000ull, K4, RW), DMAR_OK);
	CHECK_ST(dmar_pgtable_map(pt, b - M2, 0x300000000ull, M2, RW), DMAR_OK);
	CHECK_ST(dmar_pgtable_map(pt, b + M4, 0x300000000ull, M4, RW), DMAR_OK);
	CHECK(xlates(pt, a - 1, 0x300000000ull + K32 - 1, 15));
	CHECK(xlates(pt, b + M4, 0x300000000ull, 22));
	dmar_pgtable_destroy(pt);
	dmar_physmem_destroy(pm);
}

/* A picture of a table: its page count, the frames in use, and a walk of every 4 KiB page
 * of a few windows. */
#define SNAP_MAX 4096
struct snap {
	uint64_t pages, frames;
	unsigned n;
	dmar_walk_result r[SNAP_MAX];
};

static void snap_take(struct snap *s, dmar_physmem *pm, dmar_pgtable *pt, const uint64_t *win,
		      unsigned nwin)
{
	s->pages = dmar_pgtable_table_pages(pt);
	s->frames = frames_allocated(pm);
	s->n = 0;
	for (unsigned w = 0; w < nwin; w++)
		for (uint64_t a = win[2 * w]; a - win[2 * w] < win[2 * w + 1] && s->n < SNAP_MAX;
		     a += K4) {
			dmar_walk_result *r = &s->r[s->n++];

			memset(r, 0, sizeof(*r));
			(void)dmar_pgtable_walk(pt, a + 0x18, DMAR_ACCESS_READ, r);
		}
}

static int snap_same(const struct snap *a, const struct snap *b)
{
	if (a->pages != b->pages || a->frames != b->frames || a->n != b->n)
		return 0;
	for (unsigned i = 0; i < a->n; i++)
		if (a->r[i].pa != b->r[i].pa || a->r[i].pte != b->r[i].pte ||
		    a->r[i].fault != b->r[i].fault || a->r[i].prot != b->r[i].prot ||
		    a->r[i].page_lg2 != b->r[i].page_lg2 || a->r[i].level != b->r[i].level)
			return 0;
	return 1;
}

static struct snap snap_before, snap_after;

/* pgtable.h and S7: "anything but DMAR_OK changed nothing" and no table page is left
 * behind, in every format: a map that needs table pages and an unmap whose splits need
 * them, with every frame count short of what they need, change neither the table's pages,
 * the frames in use, nor any translation; with enough frames they succeed.  An AMD-Vi
 * leaf repeated over slots needs no frame to be rewritten as per-slot leaves, only for the
 * slots that split further. */
TEST(S7_out_of_frames_half_way_changes_nothing_in_every_format)
{
	for (size_t fi = 0; fi < NFORMATS; fi++) {
		const struct fmt_case *fc = &formats[fi];
		const dmar_pt_format *f = &fc->f;
		const dmar_ram_range ram = { .base = 1ull << 32, .size = 64 * K4 };
		dmar_physmem_config cfg = { .ranges = &ram, .nranges = 1 };
		const uint64_t sizes = dmar_pt_page_sizes(f);
		const int amd = f->kind == DMAR_PT_AMDV1;
		/* a map of 4 KiB leaves (iova and pa an odd number of pages apart) over three
		 * 2 MiB slots (32 KiB in a one-level table, which needs no table page) */
		const uint64_t mbase = f->levels == 1 ? 0x10000 : 6 * M2 + K4,
			       msize = f->levels == 1 ? 0x8000 : 3 * M2,
			       mpa = 0x100000 + ((mbase + K4) & 0xfffff);
		/* a large leaf and an unmap inside it: 1 GiB (two splits), an AMD-Vi 4 MiB leaf
		 * cut in both halves (two splits), 2 MiB (one), an AMD-Vi 32 KiB leaf (none) */
		uint64_t lsz, lbase, ubase, usize;
		unsigned splits;
		dmar_physmem *pm;
		dmar_pgtable *pt;
		dmar_pa_t hog[64];
		uint64_t win[6];
		int k, nomem;
		FORMAT_BEGIN(fc);

		if (sizes & G1) {
			lsz = G1, lbase = G1, ubase = G1 + M2 + K4, usize = K4, splits = 2;
		} else if (amd && (sizes & M4) && f->levels >= 2) {
			lsz = M4, lbase = G1 / 2, ubase = lbase + K4, usize = M2, splits = 2;
		} else if (sizes & M2) {
			lsz = M2, lbase = 16 * M2, ubase = lbase + 7 * K4, usize = K4, splits = 1;
		} else {
			lsz = 0x8000, lbase = 0x40000, ubase = lbase + K4, usize = K4, splits = 0;
		}
		win[0] = mbase - K4, win[1] = msize + 2 * K4;
		win[2] = lbase, win[3] = lsz > 4 * M2 ? 4 * M2 : lsz;
		win[4] = ubase + usize - 4 * K4, win[5] = 8 * K4;
		REQUIRE(dmar_physmem_create(&cfg, &pm) == DMAR_OK);
		pt = make_fmt(pm, f, 0);
		CHECK_ST(dmar_pgtable_map(pt, mbase - K4, 0x77000, K4, RW), DMAR_OK);
		CHECK_ST(dmar_pgtable_map(pt, lbase, 0x80000000ull, lsz, RW), DMAR_OK);

		nomem = 0;
		for (unsigned keep = 0; keep < 8; keep++) {
			dmar_status st;

			k = hog_all_but(pm, keep, hog, 64);
			snap_take(&snap_before, pm, pt, win, 3);
			st = dmar_pgtable_map(pt, mbase, mpa, msize, RW);
			snap_take(&snap_after, pm, pt, win, 3);
			unhog(pm, hog, k);
			if (st == DMAR_OK) {
				CHECK(xlates(pt, mbase + msize - K4, mpa + msize - K4, 12));
				break;
			}
			CHECK_ST(st, DMAR_E_NOMEM);
			CHECK(snap_same(&snap_before, &snap_after));
			nomem++;
		}
		CHECK(f->levels == 1 ? nomem == 0 : nomem >= 1);
		CHECK(xlates(pt, mbase, mpa, 12));

		/* the unmap: exactly `splits` frames */
		for (unsigned keep = 0; keep <= splits; keep++) {
			uint64_t n = 77;
			dmar_status st;

			k = hog_all_but(pm, keep, hog, 64);
			snap_take(&snap_before, pm, pt, win, 3);
			st = dmar_pgtable_unmap(pt, ubase, usize, &n);
			snap_take(&snap_after, pm, pt, win, 3);
			unhog(pm, hog, k);
			if (keep < splits) {
				CHECK_ST(st, DMAR_E_NOMEM);
				CHECK_EQ(n, 0);
				CHECK(snap_same(&snap_before, &snap_after));
				CHECK(xlates(pt, ubase, 0x80000000ull + (ubase - lbase),
					     63 - __builtin_clzll(lsz)));
				continue;
			}
			CHECK_ST(st, DMAR_OK);
			CHECK_EQ(n, usize);
			CHECK_EQ(snap_after.pages, snap_before.pages + splits);
		}
		CHECK(unmapped(pt, ubase));
		CHECK(unmapped(pt, ubase + usize - K4));
		CHECK(xlates(pt, ubase - K4, 0x80000000ull + (ubase - K4 - lbase), 12));
		CHECK(xlates(pt, ubase + usize, 0x80000000ull + (ubase + usize - lbase), 12));
		CHECK(xlates(pt, lbase + lsz - 1, 0x80000000ull + lsz - 1,
			     lsz == M4 ? 12 : lsz == G1 ? 21 : 12));
		dmar_pgtable_destroy(pt);
		CHECK_EQ(frames_allocated(pm), 0);
		dmar_physmem_destroy(pm);
		FORMAT_END(fc);
	}
}

/* pgtable.h, DMAR_PT_AD: the walker sets accessed and dirty bits in the leaf; a split of the
 * leaf (a partial unmap) keeps them: every piece of a leaf that was accessed and written
 * holds A and D, every piece of one never touched holds neither (x86-64 and VT-d 2 MiB
 * leaves; AMD-Vi 2 MiB, 32 KiB and 4 MiB leaves). */
TEST(S31_split_keeps_the_accessed_and_dirty_bits_of_the_leaf)
{
	static const dmar_pt_format fmts[] = {
		{ .levels = 4, .flags = DMAR_PT_AD },
		{ .levels = 4, .kind = DMAR_PT_VTD_SS, .flags = DMAR_PT_AD },
		{ .levels = 3, .kind = DMAR_PT_AMDV1, .flags = DMAR_PT_AD },
	};
	dmar_physmem *pm = test_physmem(0);

	for (size_t fi = 0; fi < sizeof(fmts) / sizeof(fmts[0]); fi++) {
		const dmar_pt_format *f = &fmts[fi];
		const uint64_t ad = a_bit(f) | d_bit(f);
		dmar_pgtable *pt = make_fmt(pm, f, 0);
		static const uint64_t amd_sizes[] = { M2, 8 * K4, M4 };
		const unsigned nsizes = f->kind == DMAR_PT_AMDV1 ? 3 : 1;

		for (unsigned si = 0; si < nsizes; si++) {
			const uint64_t sz = amd_sizes[si], hot = 4 * G1 + 4 * sz, cold = hot + 2 * sz;
			const unsigned lg2 = 63 - __builtin_clzll(sz);
			const unsigned level = sz >= M2 ? 2 : 1, piece_level = sz > M2 ? 2 : 1;
			const uint64_t piece = piece_level == 2 ? M2 : K4;
			dmar_walk_result r;

			CHECK_ST(dmar_pgtable_map(pt, hot, 0x10000000000ull, sz, RW), DMAR_OK);
			CHECK_ST(dmar_pgtable_map(pt, cold, 0x20000000000ull, sz, RW), DMAR_OK);
			CHECK_EQ(entry_at(pm, pt, hot, level) & ad, 0);
			CHECK_ST(dmar_pgtable_walk(pt, hot + sz - 8, DMAR_ACCESS_WRITE, &r), DMAR_OK);
			CHECK_EQ(r.page_lg2, lg2);
			CHECK_EQ(r.pte & ad, ad);
			/* split both: the first piece unmapped */
			CHECK_ST(dmar_pgtable_unmap(pt, hot, piece, NULL), DMAR_OK);
			CHECK_ST(dmar_pgtable_unmap(pt, cold, piece, NULL), DMAR_OK);
			for (uint64_t off = piece; off < sz; off += piece) {
				const unsigned l = sz == M2 ? 1 : piece_level;

				CHECK_EQ(entry_at(pm, pt, hot + off, l) & ad, ad);
				CHECK_EQ(entry_at(pm, pt, cold + off, l) & ad, 0);
			}
			CHECK(xlates(pt, hot + sz - 1, 0x10000000000ull + sz - 1,
				     sz == M2 ? 12 : piece_level == 2 ? 21 : 12));
			CHECK_ST(dmar_pgtable_unmap(pt, hot, 4 * sz, NULL), DMAR_OK);
		}
		dmar_pgtable_destroy(pt);
	}
	CHECK_EQ(frames_allocated(pm), 0);
	dmar_physmem_destroy(pm);
}

struct ad_race {
	dmar_pgtable *pt;
	uint64_t base, piece;
	unsigned pieces, rounds;
	int go;         /* atomic: round number the walker may start */
	int done;       /* atomic: rounds the walker finished */
	int failed;     /* atomic: a write walk that did not translate */
};

static void *ad_race_walker(void *arg)
{
	struct ad_race *a = arg;

	dmar_thread_register();
	for (unsigned round = 1; round <= a->rounds; round++) {
		while (__atomic_load_n(&a->go, __ATOMIC_ACQUIRE) < (int)round)
			;
		for (unsigned i = 1; i < a->pieces; i++) {
			dmar_walk_result r;

			if (dmar_pgtable_walk(a->pt, a->base + i * a->piece + 8, DMAR_ACCESS_WRITE, &r) !=
			    DMAR_OK)
				__atomic_store_n(&a->failed, 1, __ATOMIC_RELAXED);
		}
		__atomic_store_n(&a->done, (int)round, __ATOMIC_RELEASE);
	}
	dmar_thread_unregister();
	return NULL;
}

/* pgtable.h (DMAR_PT_AD: the walker sets A and D with compare-and-exchange while a writer
 * changes the table) and S31: a split that runs while writes set dirty bits in the leaf's
 * slots keeps every one of them: once each write walk has returned, the piece it wrote
 * through is dirty (an AMD-Vi 32 KiB leaf rewritten slot by slot, an x86-64 2 MiB leaf
 * replaced by a table). */
TEST(S31_dirty_bits_set_while_a_leaf_splits_are_kept)
{
	static const dmar_pt_format fmts[] = {
		{ .levels = 3, .kind = DMAR_PT_AMDV1, .flags = DMAR_PT_AD },
		{ .levels = 4, .flags = DMAR_PT_AD },
	};
	dmar_physmem *pm = test_physmem(0);

	for (size_t fi = 0; fi < 2; fi++) {
		const dmar_pt_format *f = &fmts[fi];
		const int amd = f->kind == DMAR_PT_AMDV1;
		struct ad_race a = { .base = 8 * M2, .piece = K4, .pieces = amd ? 8 : 16,
				     .rounds = 200 };
		const uint64_t size = amd ? 8 * K4 : M2;
		pthread_t th;

		a.pt = make_fmt(pm, f, 0);
		REQUIRE(pthread_create(&th, NULL, ad_race_walker, &a) == 0);
		for (unsigned round = 1; round <= a.rounds; round++) {
			CHECK_ST(dmar_pgtable_map(a.pt, a.base, 0x10000000000ull, size, RW), DMAR_OK);
			__atomic_store_n(&a.go, (int)round, __ATOMIC_RELEASE);
			CHECK_ST(dmar_pgtable_unmap(a.pt, a.base, K4, NULL), DMAR_OK); /* the split */
			while (__atomic_load_n(&a.done, __ATOMIC_ACQUIRE) < (int)round)
				;
			for (unsigned i = 1; i < a.pieces; i++)
				CHECK_EQ(entry_at(pm, a.pt, a.base + i * K4, 1) & d_bit(f), d_bit(f));
			CHECK_ST(dmar_pgtable_unmap(a.pt, a.base, size, NULL), DMAR_OK);
			if (check_failed_)
				break;
		}
		__atomic_store_n(&a.go, (int)a.rounds, __ATOMIC_RELEASE);
		pthread_join(th, NULL);
		CHECK_EQ(a.failed, 0);
		dmar_pgtable_destroy(a.pt);
	}
	dmar_physmem_destroy(pm);
}

/* pgtable.h: AMD-Vi's six levels take all 64 bits and its leaves reach 2^51 at level 5.
 * One 4 KiB page out of a 2^51 leaf: the leaf's eight slots become 2^48 leaves, the one
 * around the page splits down to 4 KiB (four table pages), and every other byte translates
 * as before; unmapping the rest gives every table page back (the unlinked tables below a
 * 2^57 entry are counted). */
/* pgtable.h, dmar_pgtable_config.place: a table's pages lie where the format can point to
 * them, below 2^pa_bits, whatever the placement asks; with DMAR_PLACE_ABOVE they lie between
 * the limit and 2^pa_bits (the test memory has 64 MiB at 4 GiB, below 2^36, and 1 GiB at
 * 1 TiB, above it); and when no frame lies there the create says so (DMAR_E_NOMEM). */
/* S7: a map far larger than the frames its tables need fails with DMAR_E_NOMEM in time
 * bounded by the memory that exists, not by its size (2^51 bytes of 4 KiB pages need 2^30
 * table pages; the test memory has about 2^18 frames), and changes nothing. */
TEST(S7_a_map_larger_than_memory_fails_fast_and_changes_nothing)
{
	static const dmar_pt_format fmts[] = {
		{ .levels = 6, .kind = DMAR_PT_AMDV1 },
		{ .levels = 4, .flags = DMAR_PT_IOVA },
		{ .levels = 5, .kind = DMAR_PT_VTD_SS },
	};
	dmar_physmem *pm = test_physmem(0);

	for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		dmar_pgtable_config cfg;
		dmar_pgtable *pt;
		dmar_physmem_stats before, after;
		dmar_pa_t pa;
		const uint64_t size = fmts[i].levels == 4 ? 1ull << 47 : 1ull << 51;

		dmar_pgtable_config_default(&cfg);
		cfg.format = fmts[i];
		REQUIRE(dmar_pgtable_create(pm, &cfg, &pt) == DMAR_OK);
		CHECK_ST(dmar_pgtable_map(pt, 1ull << 30, 0x5000, 0x1000, DMAR_PROT_READ), DMAR_OK);
		dmar_physmem_get_stats(pm, &before);
		/* pa 4 KiB aligned only: every leaf 4 KiB */
		CHECK_ST(dmar_pgtable_map(pt, 1ull << 32, 0x1000, size, DMAR_PROT_READ), DMAR_E_NOMEM);
		dmar_physmem_get_stats(pm, &after);
		CHECK_EQ(after.allocated_frames, before.allocated_frames);
		CHECK_EQ(dmar_pgtable_table_pages(pt), (uint64_t)fmts[i].levels);
		CHECK_ST(dmar_pgtable_iova_to_phys(pt, 1ull << 32, &pa), DMAR_E_FAULT);
		CHECK_ST(dmar_pgtable_iova_to_phys(pt, 1ull << 30, &pa), DMAR_OK);
		CHECK_EQ(pa, 0x5000);
		dmar_pgtable_destroy(pt);
	}
	dmar_physmem_destroy(pm);
}

TEST(S13_table_pages_lie_below_the_formats_physical_width_whatever_the_placement)
{
	static const struct {
		dmar_placement place;
		dmar_pa_t limit;
	} pl[] = { { DMAR_PLACE_ANY, 0 },
		   { DMAR_PLACE_BELOW, 1ull << 41 },
		   { DMAR_PLACE_ABOVE, 1ull << 30 } };
	dmar_physmem *pm = test_physmem(0);

	for (size_t i = 0; i < sizeof(pl) / sizeof(pl[0]); i++) {
		for (unsigned kind = 0; kind < DMAR_PT_KIND_COUNT; kind++) {
			dmar_pgtable_config cfg;
			dmar_pgtable *pt;
			dmar_pa_t table;
			uint64_t e;

			dmar_pgtable_config_default(&cfg);
			cfg.format.kind = kind;
			cfg.format.levels = 4;
			cfg.format.pa_bits = 36;
			cfg.place = pl[i].place;
			cfg.place_limit = pl[i].limit;
			REQUIRE(dmar_pgtable_create(pm, &cfg, &pt) == DMAR_OK);
			CHECK_ST(dmar_pgtable_map(pt, 0x7f00000000ull, 0x100000, 0x1000, DMAR_PROT_READ),
				 DMAR_OK);
			CHECK_ST(dmar_pgtable_iova_to_phys(pt, 0x7f00000000ull, &table), DMAR_OK);
			CHECK_EQ(table, 0x100000);
			/* the root and the level-4 entry's table */
			table = dmar_pgtable_root(pt);
			CHECK(table < (1ull << 36));
			CHECK_ST(dmar_physmem_read(pm, table + 8 * ((0x7f00000000ull >> 39) & 511), &e, 8),
				 DMAR_OK);
			CHECK((e & DMAR_PTE_ADDR_MASK) < (1ull << 36));
			if (pl[i].place == DMAR_PLACE_ABOVE) {
				CHECK(table >= pl[i].limit);
				CHECK((e & DMAR_PTE_ADDR_MASK) >= pl[i].limit);
			}
			dmar_pgtable_destroy(pt);
		}
	}
	/* above 2^36 there is only memory the format cannot point to */
	{
		dmar_pgtable_config cfg;
		dmar_pgtable *pt = NULL;

		dmar_pgtable_config_default(&cfg);
		cfg.format.pa_bits = 36;
		cfg.place = DMAR_PLACE_ABOVE;
		cfg.place_limit = 1ull << 36;
		CHECK_ST(dmar_pgtable_create(pm, &cfg, &pt), DMAR_E_NOMEM);
		CHECK(pt == NULL);
	}
	dmar_physmem_destroy(pm);
}

TEST(S13_amd_six_levels_split_a_2_to_51_leaf_down_to_4k)
{
	dmar_physmem *pm = test_physmem(0);
	const dmar_pt_format f = { .levels = 6, .kind = DMAR_PT_AMDV1 };
	dmar_pgtable *pt = make_fmt(pm, &f, 0);
	const uint64_t sz = 1ull << 51, iova = 1ull << 63, pa = 1ull << 51;
	const uint64_t hole = iova + (1ull << 50) + K4;
	uint64_t pages, n = 0;

	CHECK_ST(dmar_pgtable_map(pt, iova, pa, sz, RW), DMAR_OK);
	CHECK(xlates(pt, iova, pa, 51));
	CHECK(xlates(pt, iova + sz - 1, pa + sz - 1, 51));
	CHECK(unmapped(pt, iova - 1));
	CHECK(unmapped(pt, iova + sz));
	pages = dmar_pgtable_table_pages(pt);
	CHECK_EQ(pages, 2); /* root and one level-5 table */
	CHECK_ST(dmar_pgtable_unmap(pt, hole, K4, &n), DMAR_OK);
	CHECK_EQ(n, K4);
	CHECK_EQ(dmar_pgtable_table_pages(pt), pages + 4);
	CHECK(unmapped(pt, hole));
	CHECK(xlates(pt, hole - K4, pa + (hole - K4 - iova), 12));
	CHECK(xlates(pt, hole + K4, pa + (hole + K4 - iova), 12));
	CHECK(xlates(pt, hole + M2, pa + (hole + M2 - iova), 21));
	CHECK(xlates(pt, hole + G1, pa + (hole + G1 - iova), 30));
	CHECK(xlates(pt, hole + (1ull << 39), pa + (hole + (1ull << 39) - iova), 39));
	CHECK(xlates(pt, hole + (1ull << 48), pa + (hole + (1ull << 48) - iova), 48));
	CHECK(xlates(pt, iova, pa, 48));
	CHECK(xlates(pt, iova + sz - 1, pa + sz - 1, 48));
	CHECK_ST(dmar_pgtable_unmap(pt, iova, sz, &n), DMAR_OK);
	CHECK_EQ(n, sz - K4);
	CHECK_EQ(dmar_pgtable_table_pages(pt), 2);

	/* pages in many 2^57 slots, unmapped by one call over half the input */
	for (uint64_t i = 0; i < 16; i++)
		CHECK_ST(dmar_pgtable_map(pt, (1ull << 62) + (i << 57) + i * G1, 0x5000, K4, RW),
			 DMAR_OK);
	CHECK_EQ(dmar_pgtable_table_pages(pt), 2 + 16 * 5);
	CHECK_ST(dmar_pgtable_unmap(pt, 1ull << 62, 1ull << 62, &n), DMAR_OK);
	CHECK_EQ(n, 16 * K4);
	CHECK_EQ(dmar_pgtable_table_pages(pt), 2); /* root and the level-5 table at 2^63 */
	dmar_pgtable_destroy(pt);
	CHECK_EQ(frames_allocated(pm), 0);
	dmar_physmem_destroy(pm);
}

/* pgtable.h, dmar_pgtable_create: an unknown placement is a bad config (DMAR_E_INVALID),
 * and the refused create takes no frame (status.h: anything but DMAR_OK changed nothing). */
TEST(create_refuses_an_unknown_placement)
{
	dmar_physmem *pm = test_physmem(0);
	dmar_pgtable_config cfg;
	dmar_pgtable *pt = NULL;

	dmar_pgtable_config_default(&cfg);
	cfg.place = (dmar_placement)(DMAR_PLACE_ABOVE + 1);
	CHECK_ST(dmar_pgtable_create(pm, &cfg, &pt), DMAR_E_INVALID);
	cfg.place = (dmar_placement)~0u;
	cfg.place_limit = 1ull << 32;
	CHECK_ST(dmar_pgtable_create(pm, &cfg, &pt), DMAR_E_INVALID);
	CHECK(pt == NULL);
	CHECK_EQ(frames_allocated(pm), 0);
	cfg.place = DMAR_PLACE_BELOW; /* the same config with a known one is fine */
	CHECK_ST(dmar_pgtable_create(pm, &cfg, &pt), DMAR_OK);
	dmar_pgtable_destroy(pt);
	dmar_physmem_destroy(pm);
}

/* S13, pgtable.h: VT-d second stage has 1 GiB leaves only with DMAR_PT_1G, and pgsizes may
 * hold only sizes dmar_pt_page_sizes() lists, so pgsizes with 1 GiB on VT-d without
 * DMAR_PT_1G is a bad config (DMAR_E_INVALID), at every level count; with the flag it is
 * accepted. */
TEST(S13_vtd_pgsizes_with_1g_need_the_1g_flag)
{
	dmar_physmem *pm = test_physmem(0);
	static const uint64_t with_1g[] = { K4 | G1, K4 | M2 | G1 };
	dmar_pgtable_config cfg;
	dmar_pgtable *pt = NULL;

	for (unsigned levels = 3; levels <= 5; levels++) {
		for (size_t i = 0; i < 2; i++) {
			dmar_pgtable_config_default(&cfg);
			cfg.format = (dmar_pt_format){ .levels = levels, .kind = DMAR_PT_VTD_SS };
			cfg.pgsizes = with_1g[i];
			CHECK_ST(dmar_pgtable_create(pm, &cfg, &pt), DMAR_E_INVALID);
			CHECK(pt == NULL);
			cfg.format.flags = DMAR_PT_1G;
			CHECK_ST(dmar_pgtable_create(pm, &cfg, &pt), DMAR_OK);
			dmar_pgtable_destroy(pt);
			pt = NULL;
		}
	}
	CHECK_EQ(frames_allocated(pm), 0);
	dmar_physmem_destroy(pm);
}

/* S13, pgtable.h, dmar_pgtable_map: [pa, pa + size) must lie below 2^pa_bits, and may end
 * exactly at it: a 1 GiB leaf whose last byte is 2^pa_bits - 1 maps as one leaf in every
 * format with 1 GiB leaves; a page at or across 2^pa_bits is DMAR_E_RANGE. */
TEST(S13_a_1g_leaf_ending_exactly_at_2_to_pa_bits)
{
	static const struct fmt_case fmts[] = {
		{ "x86-64 4 levels, 39-bit PA", { .levels = 4, .pa_bits = 39 } },
		{ "VT-d 4 levels, 1G, 39-bit PA",
		  { .levels = 4, .kind = DMAR_PT_VTD_SS, .flags = DMAR_PT_1G, .pa_bits = 39 } },
		{ "AMD-Vi 4 levels, 39-bit PA",
		  { .levels = 4, .kind = DMAR_PT_AMDV1, .pa_bits = 39 } },
		{ "x86-64 5 levels, 32-bit PA", { .levels = 5, .pa_bits = 32 } },
	};
	dmar_physmem *pm = test_physmem(0);

	for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		const struct fmt_case *fc = &fmts[i];
		const uint64_t top = 1ull << fc->f.pa_bits;
		dmar_pgtable *pt = make_fmt(pm, &fc->f, 0);
		uint64_t n = 0;
		FORMAT_BEGIN(fc);

		CHECK_ST(dmar_pgtable_map(pt, 4 * G1, top - G1, G1, RW), DMAR_OK);
		CHECK(xlates(pt, 4 * G1, top - G1, 30));
		CHECK(xlates(pt, 5 * G1 - 1, top - 1, 30));
		CHECK_EQ(dmar_pgtable_table_pages(pt), fc->f.levels - 2); /* down to level 3 */
		/* past it: a 1 GiB leaf starting at 2^pa_bits, pages across or at it */
		CHECK_ST(dmar_pgtable_map(pt, 8 * G1, top, G1, RW), DMAR_E_RANGE);
		CHECK_ST(dmar_pgtable_map(pt, 8 * G1, top - K4, 2 * K4, RW), DMAR_E_RANGE);
		CHECK_ST(dmar_pgtable_map(pt, 8 * G1, top, K4, RW), DMAR_E_RANGE);
		CHECK_ST(dmar_pgtable_map(pt, 8 * G1, top - G1 + K4, G1, RW), DMAR_E_RANGE);
		CHECK(unmapped(pt, 8 * G1));
		CHECK_ST(dmar_pgtable_unmap(pt, 4 * G1, G1, &n), DMAR_OK);
		CHECK_EQ(n, G1);
		CHECK(unmapped(pt, 5 * G1 - 1));
		dmar_pgtable_destroy(pt);
		FORMAT_END(fc);
	}
	CHECK_EQ(frames_allocated(pm), 0);
	dmar_physmem_destroy(pm);
}

/* S13, pgtable.h (dmar_pt_input_range): an AMD-Vi table of 6 levels takes all 64 bits, so
 * its last page, [2^64 - 4096, 2^64), maps, translates to its last byte, and unmaps alone
 * (the page below it stays); the tables under the root's last entry go when an unmap
 * ending at 2^64 - 1 covers their whole span. */
TEST(S13_amd_six_levels_map_and_unmap_the_last_page_below_2_to_64)
{
	dmar_physmem *pm = test_physmem(0);
	const dmar_pt_format f = { .levels = 6, .kind = DMAR_PT_AMDV1 };
	dmar_pgtable *pt = make_fmt(pm, &f, 0);
	const uint64_t last = 0 - K4;
	dmar_iova_t low_last = 0, high_first = 1;
	dmar_walk_result r;
	uint64_t n = 0;

	CHECK_ST(dmar_pt_input_range(&f, &low_last, &high_first), DMAR_OK);
	CHECK_EQ(low_last, ~0ull);
	CHECK_EQ(high_first, 0);
	CHECK_ST(dmar_pgtable_map(pt, last, 0xabc000, K4, RW), DMAR_OK);
	CHECK_ST(dmar_pgtable_map(pt, last - K4, 0x123000, K4, DMAR_PROT_READ), DMAR_OK);
	CHECK_ST(dmar_pgtable_walk(pt, ~0ull, DMAR_ACCESS_READ | DMAR_ACCESS_WRITE, &r), DMAR_OK);
	CHECK_EQ(r.pa, 0xabcfff);
	CHECK_EQ(r.page_lg2, 12);
	CHECK_EQ(r.level, 1);
	CHECK(xlates(pt, last, 0xabc000, 12));
	CHECK(xlates(pt, last - 1, 0x123fff, 12));
	CHECK_EQ(dmar_pgtable_table_pages(pt), 6);
	CHECK_ST(dmar_pgtable_map(pt, last, 0xabc000, K4, RW), DMAR_E_EXISTS);
	CHECK_ST(dmar_pgtable_map(pt, last, 0xabc000, 2 * K4, RW), DMAR_E_RANGE); /* wraps */
	CHECK_ST(dmar_pgtable_unmap(pt, last, K4, &n), DMAR_OK);
	CHECK_EQ(n, K4);
	CHECK(unmapped(pt, ~0ull));
	CHECK(unmapped(pt, last));
	CHECK(xlates(pt, last - 1, 0x123fff, 12));
	CHECK_ST(dmar_pgtable_unmap(pt, last, K4, &n), DMAR_OK);
	CHECK_EQ(n, 0);
	CHECK_EQ(dmar_pgtable_table_pages(pt), 6); /* the page below still needs them */
	/* the whole span of the root's last entry, up to 2^64 - 1: its tables go */
	CHECK_ST(dmar_pgtable_unmap(pt, 0 - (1ull << 57), 1ull << 57, &n), DMAR_OK);
	CHECK_EQ(n, K4);
	CHECK(unmapped(pt, last - K4));
	CHECK_EQ(dmar_pgtable_table_pages(pt), 1);
	dmar_pgtable_destroy(pt);
	CHECK_EQ(frames_allocated(pm), 0);
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
	  T(S13_iova_table_takes_its_whole_input_width),
	  T(S13_every_format_maps_translates_and_unmaps_every_page_size),
	  T(S13_page_sizes_of_each_format_and_pgsizes_outside_them_are_refused),
	  T(S13_last_page_of_every_input_width_maps_and_unmaps),
	  T(S13_amd_contiguous_leaves_are_repeated_next_level_7_entries),
	  T(S13_partial_unmap_of_an_amd_contiguous_leaf_keeps_the_rest),
	  T(S13_map_over_an_amd_contiguous_leaf_is_refused_exactly),
	  T(S7_out_of_frames_half_way_changes_nothing_in_every_format),
	  T(S31_split_keeps_the_accessed_and_dirty_bits_of_the_leaf),
	  T(S31_dirty_bits_set_while_a_leaf_splits_are_kept),
	  T(S13_amd_six_levels_split_a_2_to_51_leaf_down_to_4k),
	  T(S13_table_pages_lie_below_the_formats_physical_width_whatever_the_placement),
	  T(S7_a_map_larger_than_memory_fails_fast_and_changes_nothing),
	  T(create_refuses_an_unknown_placement), T(S13_vtd_pgsizes_with_1g_need_the_1g_flag),
	  T(S13_a_1g_leaf_ending_exactly_at_2_to_pa_bits),
	  T(S13_amd_six_levels_map_and_unmap_the_last_page_below_2_to_64))
