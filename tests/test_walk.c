/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The walker on tables written by someone else (S2: a process's CPU table; a guest's),
 * including hostile ones: every fault reason, and arbitrary bytes never crash it. */
#include "check.h"

#define K4 (1ull << 12)
#define M2 (1ull << 21)
#define G1 (1ull << 30)
#define P DMAR_PTE_P
#define RW DMAR_PTE_RW
#define US DMAR_PTE_US
#define PS DMAR_PTE_PS

static void put(dmar_physmem *pm, dmar_pa_t table, unsigned idx, uint64_t v)
{
	if (dmar_physmem_write(pm, table + 8ull * idx, &v, 8) != DMAR_OK) {
		printf("Bail out! cannot write a test table\n");
		exit(2);
	}
}

static dmar_fault walk(dmar_physmem *pm, dmar_pa_t root, unsigned levels, unsigned pa_bits,
		       uint64_t va, unsigned access, dmar_walk_result *r)
{
	const dmar_pt_format fmt = { .levels = levels, .pa_bits = pa_bits };
	dmar_status st = dmar_walk(pm, root, &fmt, va, access, r);

	if ((st == DMAR_OK) != (r->fault == DMAR_FAULT_NONE))
		return DMAR_FAULT_COUNT; /* status and reason disagree */
	return r->fault;
}

/* A 4-level chain at 0x10000 (PML4) -> 0x11000 (PDPT) -> 0x12000 (PD) -> 0x13000 (PT) for
 * va 0 (index 0 everywhere). */
static dmar_physmem *chain(void)
{
	dmar_physmem *pm = test_physmem(0);

	put(pm, 0x10000, 0, 0x11000 | P | RW | US);
	put(pm, 0x11000, 0, 0x12000 | P | RW | US);
	put(pm, 0x12000, 0, 0x13000 | P | RW | US);
	put(pm, 0x13000, 0, 0xfee00000ull | P | RW | US); /* a leaf at the LAPIC: MMIO is legal */
	return pm;
}

TEST(foreign_table_translates_and_mmio_leaf_is_legal)
{
	dmar_physmem *pm = chain();
	dmar_walk_result r;

	CHECK_EQ(walk(pm, 0x10000, 4, 0, 0x123, DMAR_ACCESS_WRITE | DMAR_ACCESS_USER, &r),
		 DMAR_FAULT_NONE);
	CHECK_EQ(r.pa, 0xfee00123ull);
	CHECK_EQ(r.page_lg2, 12);
	CHECK_EQ(r.level, 1);
	CHECK(!dmar_physmem_is_ram(pm, r.pa, 1));
	/* CR3-style low bits (PWT/PCD) in the root are ignored */
	CHECK_EQ(walk(pm, 0x10000 | 0x18, 4, 0, 0x123, DMAR_ACCESS_READ, &r), DMAR_FAULT_NONE);
	dmar_physmem_destroy(pm);
}

TEST(not_present_at_every_level_reports_the_level)
{
	dmar_physmem *pm = chain();
	dmar_walk_result r;
	const dmar_pa_t tables[4] = { 0x13000, 0x12000, 0x11000, 0x10000 };

	for (unsigned level = 1; level <= 4; level++) {
		uint64_t save;

		dmar_physmem_read(pm, tables[level - 1], &save, 8);
		put(pm, tables[level - 1], 0, save & ~P);
		CHECK_EQ(walk(pm, 0x10000, 4, 0, 0, DMAR_ACCESS_READ, &r), DMAR_FAULT_NOT_PRESENT);
		CHECK_EQ(r.level, level);
		CHECK_EQ(r.pa, 0);
		CHECK_EQ(r.pte, save & ~P);
		put(pm, tables[level - 1], 0, save);
	}
	dmar_physmem_destroy(pm);
}

TEST(reserved_bits_fault)
{
	dmar_physmem *pm = chain();
	dmar_walk_result r;

	/* PS in a PML4E is reserved */
	put(pm, 0x10000, 1, 0x11000 | P | PS);
	CHECK_EQ(walk(pm, 0x10000, 4, 0, 1ull << 39, DMAR_ACCESS_READ, &r), DMAR_FAULT_RESERVED);
	CHECK_EQ(r.level, 4);
	/* a 1 GiB leaf with bit 29 set (its address must be 1 GiB aligned) */
	put(pm, 0x11000, 1, G1 | (1ull << 29) | P | PS);
	CHECK_EQ(walk(pm, 0x10000, 4, 0, G1, DMAR_ACCESS_READ, &r), DMAR_FAULT_RESERVED);
	CHECK_EQ(r.level, 3);
	/* a 2 MiB leaf with bit 13 set */
	put(pm, 0x12000, 1, 4 * M2 | (1ull << 13) | P | PS);
	CHECK_EQ(walk(pm, 0x10000, 4, 0, M2, DMAR_ACCESS_READ, &r), DMAR_FAULT_RESERVED);
	CHECK_EQ(r.level, 2);
	/* ... but bit 12 there is PAT, not address: fine */
	put(pm, 0x12000, 1, 4 * M2 | DMAR_PTE_PAT_LARGE | P | PS);
	CHECK_EQ(walk(pm, 0x10000, 4, 0, M2 + 0x1234, DMAR_ACCESS_READ, &r), DMAR_FAULT_NONE);
	CHECK_EQ(r.pa, 4 * M2 + 0x1234);
	CHECK_EQ(r.page_lg2, 21);
	/* address bits at or above MAXPHYADDR (46 here) */
	put(pm, 0x13000, 2, (1ull << 46) | P);
	CHECK_EQ(walk(pm, 0x10000, 4, 46, 2 * K4, DMAR_ACCESS_READ, &r), DMAR_FAULT_RESERVED);
	CHECK_EQ(walk(pm, 0x10000, 4, 52, 2 * K4, DMAR_ACCESS_READ, &r), DMAR_FAULT_NONE);
	CHECK_EQ(r.pa, 1ull << 46);
	/* PS in a PML5E */
	put(pm, 0x14000, 0, 0x10000 | P | PS);
	CHECK_EQ(walk(pm, 0x14000, 5, 0, 0, DMAR_ACCESS_READ, &r), DMAR_FAULT_RESERVED);
	CHECK_EQ(r.level, 5);
	put(pm, 0x14000, 0, 0x10000 | P);
	CHECK_EQ(walk(pm, 0x14000, 5, 0, 0x10, DMAR_ACCESS_READ, &r), DMAR_FAULT_NONE);
	CHECK_EQ(r.pa, 0xfee00010ull);
	dmar_physmem_destroy(pm);
}

TEST(table_pointer_outside_memory_faults)
{
	dmar_physmem *pm = chain();
	dmar_walk_result r;

	put(pm, 0x11000, 2, 0xc0000000ull | P); /* PD in the hole between the test ranges */
	CHECK_EQ(walk(pm, 0x10000, 4, 0, 2 * G1, DMAR_ACCESS_READ, &r), DMAR_FAULT_TABLE_ADDR);
	CHECK_EQ(r.level, 2);
	put(pm, 0x12000, 3, ((1ull << 52) - K4) | P); /* PT at the top of the PA space */
	CHECK_EQ(walk(pm, 0x10000, 4, 0, 3 * M2, DMAR_ACCESS_READ, &r), DMAR_FAULT_TABLE_ADDR);
	CHECK_EQ(walk(pm, 0xc0000000ull, 4, 0, 0, DMAR_ACCESS_READ, &r), DMAR_FAULT_TABLE_ADDR);
	CHECK_EQ(walk(pm, 1ull << 47, 4, 46, 0, DMAR_ACCESS_READ, &r), DMAR_FAULT_TABLE_ADDR);
	/* a root whose bits 52..63 are set is no address at all: it does not wrap into memory
	 * (the root 0x10000 with any of them), in every format and width */
	for (int b = 52; b < 64; b++)
		for (unsigned pa_bits = 40; pa_bits <= 52; pa_bits += 12) {
			CHECK_EQ(walk(pm, 0x10000 | 1ull << b, 4, pa_bits, 0x123, DMAR_ACCESS_READ,
				      &r), DMAR_FAULT_TABLE_ADDR);
			CHECK_EQ(r.level, 4);
			CHECK_EQ(r.pa, 0);
		}
	CHECK_EQ(walk(pm, 0x10000, 4, 52, 0x123, DMAR_ACCESS_READ, &r), DMAR_FAULT_NONE);
	dmar_physmem_destroy(pm);
}

TEST(address_width_and_canonical_form)
{
	dmar_physmem *pm = chain();
	dmar_walk_result r;
	const dmar_pt_format up = { .levels = 4, .flags = DMAR_PT_UPPER_HALF };

	CHECK_EQ(walk(pm, 0x10000, 4, 0, 1ull << 47, DMAR_ACCESS_READ, &r),
		 DMAR_FAULT_NONCANONICAL);
	CHECK_EQ(walk(pm, 0x10000, 4, 0, 0xffff800000000000ull, DMAR_ACCESS_READ, &r),
		 DMAR_FAULT_ADDR_WIDTH);
	CHECK_EQ(walk(pm, 0x10000, 5, 0, 1ull << 56, DMAR_ACCESS_READ, &r),
		 DMAR_FAULT_NONCANONICAL);
	CHECK_EQ(walk(pm, 0x10000, 5, 0, 0xff00000000000000ull, DMAR_ACCESS_READ, &r),
		 DMAR_FAULT_ADDR_WIDTH);
	/* the upper half walks through PML4[256..511] when the format takes it */
	put(pm, 0x10000, 256, 0x11000 | P);
	CHECK_ST(dmar_walk(pm, 0x10000, &up, 0xffff800000000042ull, DMAR_ACCESS_READ, &r), DMAR_OK);
	CHECK_EQ(r.pa, 0xfee00042ull);
	dmar_physmem_destroy(pm);
}

TEST(self_referencing_table_is_bounded)
{
	/* PML4[511] -> PML4 itself (the recursive-mapping trick): the walk ends after four
	 * reads, landing on a table page as data. */
	dmar_physmem *pm = chain();
	dmar_walk_result r;
	const dmar_pt_format up = { .levels = 4, .flags = DMAR_PT_UPPER_HALF };

	put(pm, 0x10000, 511, 0x10000 | P | RW);
	CHECK_ST(dmar_walk(pm, 0x10000, &up, 0xfffffffffffff008ull, DMAR_ACCESS_READ, &r), DMAR_OK);
	CHECK_EQ(r.pa, 0x10008);
	CHECK_EQ(r.page_lg2, 12);
	dmar_physmem_destroy(pm);
}

TEST(bad_format_is_invalid)
{
	dmar_physmem *pm = chain();
	dmar_walk_result r;
	dmar_pt_format f = { .levels = 3 };

	CHECK_ST(dmar_walk(pm, 0x10000, &f, 0, DMAR_ACCESS_READ, &r), DMAR_E_INVALID);
	f.levels = 4;
	f.pa_bits = 60;
	CHECK_ST(dmar_walk(pm, 0x10000, &f, 0, DMAR_ACCESS_READ, &r), DMAR_E_INVALID);
	f.pa_bits = 0;
	f.flags = 0x80;
	CHECK_ST(dmar_walk(pm, 0x10000, &f, 0, DMAR_ACCESS_READ, &r), DMAR_E_INVALID);
	f.flags = 0;
	CHECK_ST(dmar_walk(pm, 0x10000, &f, 0, 0x20, &r), DMAR_E_INVALID);
	CHECK_ST(dmar_walk(pm, 0x10000, NULL, 0, DMAR_ACCESS_READ, &r), DMAR_E_INVALID);
	CHECK_ST(dmar_walk(NULL, 0x10000, &f, 0, DMAR_ACCESS_READ, &r), DMAR_E_INVALID);
	dmar_physmem_destroy(pm);
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next(void)
{
	return test_xorshift(&rng);
}

/* Random words as tables, biased so that walks go deep: pointers into the table pages,
 * into holes, beyond memory, with random flag bits.  Every walk ends with a consistent
 * result; a translation's frame is the leaf's address field. */
TEST(arbitrary_table_bytes_never_crash)
{
	dmar_physmem *pm = test_physmem(0);
	const dmar_pa_t base = 0x200000; /* 16 table pages */
	unsigned outcome[DMAR_FAULT_COUNT] = { 0 };

	for (int round = 0; round < 40; round++) {
		for (unsigned i = 0; i < 16 * 512; i++) {
			uint64_t v = next();

			switch (v % 8) {
			default: /* into the table pages, mostly present, PS now and then */
				v = (base + (next() % 16) * K4) | (v & 0x8000000000000f7eull) |
				    (next() % 8 ? P : 0) | (next() % 4 ? 0 : PS);
				break;
			case 6: /* anywhere below 2^52 */
				v &= 0x800fffffffffffffull;
				break;
			case 7: /* anything */
				break;
			}
			put(pm, base + 8ull * i, 0, v);
		}
		for (int w = 0; w < 2000; w++) {
			unsigned levels = 4 + (unsigned)(next() & 1);
			unsigned pa_bits = 36 + (unsigned)(next() % 17);
			dmar_walk_result r;
			uint64_t va = next() % 8 ? next() & ((1ull << 47) - 1) : next();
			dmar_fault f = walk(pm, base + (next() % 16) * K4, levels, pa_bits, va,
					    (unsigned)(next() & 0xf), &r);

			REQUIRE(f < DMAR_FAULT_COUNT);
			outcome[f]++;
			CHECK(r.level >= 1 && r.level <= levels);
			if (f == DMAR_FAULT_NONE) {
				uint64_t mask = (1ull << r.page_lg2) - 1;

				CHECK(r.page_lg2 == 12 || r.page_lg2 == 21 || r.page_lg2 == 30);
				CHECK_EQ(r.pa & ~mask, r.pte & DMAR_PTE_ADDR_MASK & ~mask);
				CHECK(r.pa < (1ull << pa_bits));
			} else {
				CHECK_EQ(r.pa, 0);
			}
		}
	}
	printf("# outcomes:");
	for (int f = 0; f < DMAR_FAULT_COUNT; f++)
		printf(" %s=%u", dmar_fault_str((dmar_fault)f), outcome[f]);
	printf("\n");
	/* the bias must reach translations and the deep fault kinds, or the test tests little */
	CHECK(outcome[DMAR_FAULT_NONE] > 0);
	CHECK(outcome[DMAR_FAULT_RESERVED] > 0);
	CHECK(outcome[DMAR_FAULT_TABLE_ADDR] > 0);
	CHECK(outcome[DMAR_FAULT_NOT_PRESENT] > 0);
	dmar_physmem_destroy(pm);
}

RUN_TESTS(T(foreign_table_translates_and_mmio_leaf_is_legal),
	  T(not_present_at_every_level_reports_the_level), T(reserved_bits_fault),
	  T(table_pointer_outside_memory_faults), T(address_width_and_canonical_form),
	  T(self_referencing_table_is_bounded), T(bad_format_is_invalid),
	  T(arbitrary_table_bytes_never_crash))
