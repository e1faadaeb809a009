/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The three table formats of pgtable.h (x86-64, Intel VT-d second stage, AMD-Vi v1), checked
 * against that header's rules and the hardware specifications (Intel SDM vol. 3 ch. 4; VT-d
 * 3.x, second-stage paging entries; AMD IOMMU, I/O page tables for host translations):
 *  - a sweep over format x levels x pa_bits x page size in the style of Linux's io-pgtable
 *    self-tests: an empty table translates nothing; map, walk, overlap, unmap, remap, the
 *    last page of the input width, ranges past the width or 2^64 or 2^pa_bits refused;
 *  - tables written by hand, entry by entry, as a guest driver would, walked (dmar_walk)
 *    and translated through an IOTLB (miss, then hit);
 *  - accessed and dirty bits (DMAR_PT_AD), in writable and read-only memory, and through an
 *    IOTLB;
 *  - batch equal to single, and every probe variant and L0 mode alike, per format;
 *  - devices of domains whose tables are in the IOMMU formats (S13, S28, S30). */
#include "check.h"

#define K4 (1ull << 12)
#define M2 (1ull << 21)
#define G1 (1ull << 30)

enum { X86 = DMAR_PT_X86_64, VTD = DMAR_PT_VTD_SS, AMD = DMAR_PT_AMDV1 };

static const unsigned R = DMAR_PROT_READ, W = DMAR_PROT_WRITE, X = DMAR_PROT_EXEC,
		      U = DMAR_PROT_USER;
static const unsigned AR = DMAR_ACCESS_READ, AW = DMAR_ACCESS_WRITE, AX = DMAR_ACCESS_EXEC,
		      AU = DMAR_ACCESS_USER;

static uint64_t rng = 0x5eed0f0f1a2b3c4dull;
static uint64_t next(void)
{
	return test_xorshift(&rng);
}

/* ---- what the headers promise, computed from their text ---- */

static unsigned pa_bits_of(const dmar_pt_format *f)
{
	return f->pa_bits ? f->pa_bits : 52;
}

static const char *fmt_name(const dmar_pt_format *f)
{
	static char buf[4][96];
	static int k;
	static const char *kinds[] = { "x86-64", "vtd-ss", "amd-v1" };
	char *b = buf[k++ & 3];

	snprintf(b, sizeof(buf[0]), "%s %u-level pa_bits %u flags %#x",
		 f->kind < 3 ? kinds[f->kind] : "?", f->levels, f->pa_bits, f->flags);
	return b;
}

/* The prot a walk reports for a page mapped with @given (pgtable.h, dmar_pgtable_map): the
 * prot given, plus USER in the IOMMU formats and EXEC = READ where execution follows read
 * (AMD-Vi, VT-d without DMAR_PT_EXEC). */
static unsigned want_prot(const dmar_pt_format *f, unsigned given)
{
	if (f->kind == X86)
		return given;
	given |= U;
	if (f->kind == AMD || !(f->flags & DMAR_PT_EXEC))
		given = (given & ~X) | (given & R ? X : 0);
	return given;
}

/* The level holding a leaf of 2^lg2 bytes: x86-64 and VT-d 1, 2, 3 for 4 KiB, 2 MiB, 1 GiB;
 * AMD-Vi the level whose entries span the largest power of 512 times 4 KiB not above it. */
static unsigned leaf_level(unsigned lg2)
{
	return 1 + (lg2 - 12) / 9;
}

/* dmar_pt_page_sizes() as pgtable.h states it. */
static uint64_t documented_sizes(const dmar_pt_format *f)
{
	uint64_t s = 0;
	unsigned top, max;

	switch (f->kind) {
	case X86:
		return (1ull << 12) | (1ull << 21) | (1ull << 30);
	case VTD:
		return (1ull << 12) | (1ull << 21) | (f->flags & DMAR_PT_1G ? 1ull << 30 : 0);
	default:
		/* every power of two from 4 KiB up to half the span of (an entry of) the level
		 * above the highest leaf level, at most 2^51 */
		top = f->levels < 5 ? f->levels : 5;
		max = 12 + 9 * top - 1;
		if (max > 51)
			max = 51;
		for (unsigned l = 12; l <= max; l++)
			s |= 1ull << l;
		return s;
	}
}

/* dmar_pt_input_range() as pgtable.h states it. */
static void documented_range(const dmar_pt_format *f, uint64_t *last, uint64_t *high)
{
	unsigned w;

	*high = 0;
	if (f->kind == X86 && !(f->flags & DMAR_PT_IOVA)) {
		w = f->levels == 4 ? 47 : 56;
		*last = (1ull << w) - 1;
		if (f->flags & DMAR_PT_UPPER_HALF)
			*high = ~0ull << w;
		return;
	}
	w = 12 + 9 * f->levels; /* x86-64 IOVA 48/57, VT-d 39/48/57, AMD-Vi 21 .. 66 (all 64) */
	*last = w >= 64 ? UINT64_MAX : (1ull << w) - 1;
}

/* ---- checking a result against what is wanted, with both printed on a mismatch ---- */

struct want {
	unsigned fault;
	dmar_pa_t pa;
	int lg2;   /* < 0: not checked */
	int prot;  /* < 0: not checked */
	int level; /* <= 0: not checked */
	int any_hit; /* hw_expect_: the second translation need not be a hit */
};

static int check_result_(int line, const char *what, const char *fmt, uint64_t va,
			 unsigned access, dmar_status st, unsigned fault, dmar_pa_t pa,
			 unsigned lg2, unsigned prot, int level, const struct want *w)
{
	int bad;

	if (w->fault == DMAR_FAULT_NONE)
		bad = st != DMAR_OK || fault != DMAR_FAULT_NONE || pa != w->pa ||
		      (w->lg2 >= 0 && lg2 != (unsigned)w->lg2) ||
		      (w->prot >= 0 && prot != (unsigned)w->prot);
	else
		bad = st != DMAR_E_FAULT || fault != w->fault || pa != 0;
	if (level >= 0 && w->level > 0 && level != w->level)
		bad = 1;
	if (!bad)
		return 0;
	printf("#   line %d: %s (%s) va %#" PRIx64 " access %#x:\n"
	       "#     got  %s fault %s pa %#" PRIx64 " lg2 %u prot %#x level %d\n"
	       "#     want %s fault %s pa %#" PRIx64 " lg2 %d prot %#x level %d\n",
	       line, what, fmt, va, access, dmar_status_str(st),
	       dmar_fault_str((dmar_fault)fault), pa, lg2, prot, level,
	       w->fault ? "DMAR_E_FAULT" : "DMAR_OK", dmar_fault_str((dmar_fault)w->fault), w->pa,
	       w->lg2, (unsigned)w->prot, w->level);
	check_failed_ = 1;
	return 1;
}

#define WANT_OK(pa, lg2, prot) ((struct want){ DMAR_FAULT_NONE, (pa), (lg2), (int)(prot), -1, 0 })
#define WANT_FAULT(f, level) ((struct want){ (f), 0, -1, -1, (level), 0 })

/* Walk a table built here (dmar_pgtable_walk; for a read also dmar_pgtable_iova_to_phys,
 * which asks for no access: a read refused for the page's permissions is checked apart). */
static dmar_walk_result pt_expect_(int line, const dmar_pgtable *pt, uint64_t va, unsigned access,
				   struct want w)
{
	dmar_walk_result r;
	dmar_status st;
	dmar_pa_t pa = 1;

	memset(&r, 0xee, sizeof(r));
	st = dmar_pgtable_walk(pt, va, access, &r);
	if (check_result_(line, "dmar_pgtable_walk", fmt_name(dmar_pgtable_format(pt)), va, access,
			  st, r.fault, r.pa, r.page_lg2, r.prot, r.level, &w))
		return r;
	if (access == AR && w.fault != DMAR_FAULT_READ) {
		st = dmar_pgtable_iova_to_phys(pt, va, &pa);
		if (st != (w.fault ? DMAR_E_FAULT : DMAR_OK) || pa != w.pa) {
			printf("#   line %d: iova_to_phys(%#" PRIx64 ") -> %s pa %#" PRIx64
			       ", want pa %#" PRIx64 "\n",
			       line, va, dmar_status_str(st), pa, w.pa);
			check_failed_ = 1;
		}
	}
	return r;
}
#define PT_OK(pt, va, acc, pa, lg2, prot) pt_expect_(__LINE__, pt, va, acc, WANT_OK(pa, lg2, prot))
#define PT_FAULT(pt, va, acc, f) pt_expect_(__LINE__, pt, va, acc, WANT_FAULT(f, -1))

/* ---- hand-written tables ---- */

/* Memory, and an IOTLB whose fresh spaces translate hand-written tables. */
struct hw {
	dmar_physmem *pm;
	dmar_iotlb *tlb;
};

static void hw_setup(struct hw *h)
{
	dmar_iotlb_config c;

	h->pm = test_physmem(0);
	dmar_iotlb_config_default(&c);
	c.sets = 64;
	c.ways = 4;
	if (dmar_iotlb_create(&c, &h->tlb) != DMAR_OK) {
		printf("Bail out! cannot create an IOTLB\n");
		exit(2);
	}
}

static void hw_teardown(struct hw *h)
{
	CHECK_ST(dmar_iotlb_destroy(h->tlb), DMAR_OK);
	dmar_physmem_destroy(h->pm);
}

/* A zeroed 4 KiB frame below 4 GiB (inside every pa_bits from 32 up), as a driver gets one. */
static dmar_pa_t frame(dmar_physmem *pm)
{
	static const uint8_t zero[4096];
	dmar_pa_t pa;

	if (dmar_physmem_alloc(pm, 1, 12, DMAR_PLACE_BELOW, 1ull << 32, &pa) != DMAR_OK ||
	    dmar_physmem_write(pm, pa, zero, sizeof(zero)) != DMAR_OK) {
		printf("Bail out! cannot allocate a table frame\n");
		exit(2);
	}
	return pa;
}

static void put(dmar_physmem *pm, dmar_pa_t table, unsigned idx, uint64_t v)
{
	if (dmar_physmem_write(pm, table + 8ull * idx, &v, 8) != DMAR_OK) {
		printf("Bail out! cannot write a table entry\n");
		exit(2);
	}
}

static uint64_t get(const dmar_physmem *pm, dmar_pa_t table, unsigned idx)
{
	uint64_t v = 0;

	if (dmar_physmem_read(pm, table + 8ull * idx, &v, 8) != DMAR_OK) {
		printf("Bail out! cannot read a table entry\n");
		exit(2);
	}
	return v;
}

/* The index of @va in a table of @level (bits 12 + 9 (level - 1) and up, 9 of them; the
 * 6th AMD-Vi level has 7). */
static unsigned idx(uint64_t va, unsigned level)
{
	return (unsigned)(va >> (12 + 9 * (level - 1))) & 511;
}

/* dmar_walk() of a hand-written table, then the same request twice through a fresh space of
 * the IOTLB: both answer as the walk, the second a hit when it translated (faults are never
 * cached, S28). */
static void hw_expect_(int line, struct hw *h, dmar_pa_t root, const dmar_pt_format *fmt,
		       uint64_t va, unsigned access, struct want w)
{
	const char *name = fmt_name(fmt);
	dmar_walk_result r;
	dmar_space *sp = NULL;
	dmar_status st;

	memset(&r, 0xee, sizeof(r));
	st = dmar_walk(h->pm, root, fmt, va, access, &r);
	check_result_(line, "dmar_walk", name, va, access, st, r.fault, r.pa, r.page_lg2, r.prot,
		      r.level, &w);
	if (dmar_space_create(h->tlb, h->pm, root, fmt, &sp) != DMAR_OK) {
		printf("#   line %d: dmar_space_create failed (%s)\n", line, name);
		check_failed_ = 1;
		return;
	}
	for (int pass = 0; pass < 2; pass++) {
		dmar_result t;
		const unsigned hit = pass && !w.fault ? DMAR_RESULT_HIT : 0;
		const unsigned mask = w.any_hit ? 0 : DMAR_RESULT_HIT;

		memset(&t, 0xee, sizeof(t));
		st = dmar_translate(sp, va, access, &t);
		if (check_result_(line, pass ? "dmar_translate (2nd)" : "dmar_translate (1st)", name,
				  va, access, st, t.fault, t.pa, t.page_lg2, t.prot, -1, &w))
			break;
		if ((t.flags & mask) != (hit & mask)) {
			printf("#   line %d: dmar_translate pass %d va %#" PRIx64
			       ": hit flag %u, want %u\n",
			       line, pass, va, t.flags & DMAR_RESULT_HIT, hit);
			check_failed_ = 1;
		}
	}
	dmar_space_destroy(sp);
}
#define HW_OK(h, root, fmt, va, acc, pa, lg2, prot)                                    \
	hw_expect_(__LINE__, h, root, fmt, va, acc, WANT_OK(pa, lg2, prot))
#define HW_FAULT(h, root, fmt, va, acc, f, level)                                      \
	hw_expect_(__LINE__, h, root, fmt, va, acc, WANT_FAULT(f, level))
/* as HW_OK, but the second translation may walk again (an address the IOTLB does not
 * cache: see S28_amdv1_addresses_above_2_to_56_are_cached) */
#define HW_OK_ANY_HIT(h, root, fmt, va, acc, pa, lg2, prot)                            \
	hw_expect_(__LINE__, h, root, fmt, va, acc,                                    \
		   (struct want){ DMAR_FAULT_NONE, (pa), (lg2), (int)(prot), -1, 1 })

/* One translation through a space that has translated before (its IOTLB and page-walk cache
 * warm), checked as a walk would be; the hit flag is not checked. */
static void sp_expect_(int line, dmar_space *sp, const dmar_pt_format *fmt, uint64_t va,
		       unsigned access, struct want w)
{
	dmar_result t;
	dmar_status st;

	memset(&t, 0xee, sizeof(t));
	st = dmar_translate(sp, va, access, &t);
	check_result_(line, "dmar_translate (warm)", fmt_name(fmt), va, access, st, t.fault, t.pa,
		      t.page_lg2, t.prot, -1, &w);
}
#define SP_OK(sp, fmt, va, acc, pa, lg2, prot)                                         \
	sp_expect_(__LINE__, sp, fmt, va, acc, WANT_OK(pa, lg2, prot))
#define SP_FAULT(sp, fmt, va, acc, f) sp_expect_(__LINE__, sp, fmt, va, acc, WANT_FAULT(f, -1))

/* ======================================================================================
 * 0. What the formats are: input ranges, page sizes, the formats a table may have.
 * ====================================================================================== */

TEST(S13_input_ranges_and_page_sizes_as_documented)
{
	dmar_pt_format f;
	uint64_t last, high, wl, wh;

	for (unsigned kind = 0; kind < DMAR_PT_KIND_COUNT; kind++) {
		for (unsigned levels = 1; levels <= 6; levels++) {
			static const unsigned fl[] = { 0, DMAR_PT_IOVA, DMAR_PT_UPPER_HALF, DMAR_PT_1G,
						       DMAR_PT_EXEC | DMAR_PT_1G | DMAR_PT_AD };

			for (size_t i = 0; i < sizeof(fl) / sizeof(fl[0]); i++) {
				const int ok = kind == X86   ? levels >= 4 && levels <= 5
					       : kind == VTD ? levels >= 3 && levels <= 5
							     : 1;

				memset(&f, 0, sizeof(f));
				f.kind = kind;
				f.levels = levels;
				f.flags = fl[i];
				/* the VT-d and AMD-Vi flags on x86-64, the upper half outside it:
				 * not stated either way; only the plain shapes are checked */
				if ((kind == X86 && (fl[i] & (DMAR_PT_1G | DMAR_PT_EXEC))) ||
				    (kind != X86 && (fl[i] & DMAR_PT_UPPER_HALF)) ||
				    (kind == AMD && (fl[i] & (DMAR_PT_1G | DMAR_PT_EXEC))))
					continue;
				high = 7;
				CHECK_ST(dmar_pt_input_range(&f, &last, &high),
					 ok ? DMAR_OK : DMAR_E_INVALID);
				if (!ok) {
					CHECK_EQ(dmar_pt_page_sizes(&f), 0);
					continue;
				}
				documented_range(&f, &wl, &wh);
				if (last != wl || high != wh) {
					printf("#   %s: input range [0, %#" PRIx64 "] high %#" PRIx64
					       ", want [0, %#" PRIx64 "] high %#" PRIx64 "\n",
					       fmt_name(&f), last, high, wl, wh);
					check_failed_ = 1;
				}
				if (dmar_pt_page_sizes(&f) != documented_sizes(&f)) {
					printf("#   %s: page sizes %#" PRIx64 ", want %#" PRIx64 "\n",
					       fmt_name(&f), dmar_pt_page_sizes(&f),
					       documented_sizes(&f));
					check_failed_ = 1;
				}
			}
		}
	}
	/* bad shapes */
	memset(&f, 0, sizeof(f));
	f.kind = DMAR_PT_KIND_COUNT;
	f.levels = 4;
	CHECK_ST(dmar_pt_input_range(&f, &last, NULL), DMAR_E_INVALID);
	CHECK_EQ(dmar_pt_page_sizes(&f), 0);
	f.kind = AMD;
	f.levels = 0;
	CHECK_ST(dmar_pt_input_range(&f, &last, NULL), DMAR_E_INVALID);
	f.levels = 7;
	CHECK_ST(dmar_pt_input_range(&f, &last, NULL), DMAR_E_INVALID);
	f.levels = 4;
	f.pa_bits = 53;
	CHECK_ST(dmar_pt_input_range(&f, &last, NULL), DMAR_E_INVALID);
	f.pa_bits = 31;
	CHECK_ST(dmar_pt_input_range(&f, &last, NULL), DMAR_E_INVALID);
	f.pa_bits = 0;
	f.flags = DMAR_PT_IOVA; /* accepted and implied */
	CHECK_ST(dmar_pt_input_range(&f, &last, NULL), DMAR_OK);
	CHECK_EQ(last, (1ull << 48) - 1);
	f.kind = X86;
	f.flags = DMAR_PT_IOVA | DMAR_PT_UPPER_HALF; /* not together */
	CHECK_ST(dmar_pt_input_range(&f, &last, NULL), DMAR_E_INVALID);
}

/* pgtable.h, dmar_pgtable_config: a table may be in any format, with the leaf sizes the
 * format has; a shape the format does not have is refused. */
TEST(S13_tables_are_created_in_every_format_and_only_its_shapes)
{
	dmar_physmem *pm = test_physmem(0);
	static const dmar_pt_format bad[] = {
		{ .levels = 3, .kind = X86 },
		{ .levels = 6, .kind = X86 },
		{ .levels = 2, .kind = VTD },
		{ .levels = 6, .kind = VTD },
		{ .levels = 0, .kind = AMD },
		{ .levels = 7, .kind = AMD },
		{ .levels = 4, .kind = DMAR_PT_KIND_COUNT },
		{ .levels = 4, .kind = X86, .flags = DMAR_PT_IOVA | DMAR_PT_UPPER_HALF },
		{ .levels = 4, .kind = VTD, .pa_bits = 53 },
	};

	for (unsigned kind = 0; kind < DMAR_PT_KIND_COUNT; kind++) {
		for (unsigned levels = 1; levels <= 6; levels++) {
			dmar_pgtable_config pc;
			dmar_pgtable *pt = NULL;
			const int ok = kind == X86   ? levels >= 4 && levels <= 5
				       : kind == VTD ? levels >= 3 && levels <= 5
						     : 1;

			if (!ok)
				continue;
			dmar_pgtable_config_default(&pc);
			pc.format.kind = kind;
			pc.format.levels = levels;
			pc.pgsizes = dmar_pt_page_sizes(&pc.format);
			CHECK_ST(dmar_pgtable_create(pm, &pc, &pt), DMAR_OK);
			if (!pt)
				continue;
			CHECK_EQ(dmar_pgtable_format(pt)->kind, kind);
			CHECK_EQ(dmar_pgtable_format(pt)->levels, levels);
			CHECK_EQ(dmar_pgtable_table_pages(pt), 1);
			dmar_pgtable_destroy(pt);
		}
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		dmar_pgtable_config pc;
		dmar_pgtable *pt = NULL;

		dmar_pgtable_config_default(&pc);
		pc.format = bad[i];
		pc.pgsizes = K4;
		CHECK_ST(dmar_pgtable_create(pm, &pc, &pt), DMAR_E_INVALID);
		CHECK(pt == NULL);
	}
	/* pgsizes: only sizes the format has (VT-d has 1 GiB leaves only with DMAR_PT_1G; a
	 * 1-level AMD-Vi table none above 1 MiB) */
	{
		dmar_pgtable_config pc;
		dmar_pgtable *pt = NULL;

		dmar_pgtable_config_default(&pc);
		pc.format.kind = VTD;
		pc.format.levels = 4;
		pc.pgsizes = DMAR_PGSIZES_ALL;
		CHECK_ST(dmar_pgtable_create(pm, &pc, &pt), DMAR_E_INVALID);
		pc.format.flags = DMAR_PT_1G;
		CHECK_ST(dmar_pgtable_create(pm, &pc, &pt), DMAR_OK);
		dmar_pgtable_destroy(pt);
		pt = NULL;
		pc.format.kind = AMD;
		pc.format.levels = 1;
		pc.format.flags = 0;
		pc.pgsizes = K4 | M2;
		CHECK_ST(dmar_pgtable_create(pm, &pc, &pt), DMAR_E_INVALID);
		pc.pgsizes = K4 | (1ull << 20) | (1ull << 15);
		CHECK_ST(dmar_pgtable_create(pm, &pc, &pt), DMAR_OK);
		dmar_pgtable_destroy(pt);
	}
	dmar_physmem_destroy(pm);
}

/* pgtable.h, dmar_pgtable_map's prot: x86-64 needs READ, the IOMMU formats READ or WRITE;
 * bits that hold for every page of the format anyway are accepted, bits naming a control the
 * format lacks are refused; a walk reports what the table grants. */
TEST(S13_map_prot_rules_per_format)
{
	dmar_physmem *pm = test_physmem(0);
	static const dmar_pt_format fmts[] = {
		{ .levels = 4, .kind = X86, .flags = DMAR_PT_IOVA },
		{ .levels = 4, .kind = VTD },
		{ .levels = 4, .kind = VTD, .flags = DMAR_PT_EXEC },
		{ .levels = 3, .kind = AMD },
	};
	const uint64_t iova = 0x40000000, pa = 0x7654000;

	for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		const dmar_pt_format *f = &fmts[i];
		const int x86 = f->kind == X86, vexec = f->kind == VTD && (f->flags & DMAR_PT_EXEC);
		dmar_pgtable_config pc;
		dmar_pgtable *pt;
		uint64_t n;
		struct {
			unsigned prot;
			int ok;
		} cases[] = {
			{ R, 1 },
			{ W, !x86 },
			{ 0, 0 },
			{ X, 0 },
			{ U, 0 },
			{ R | W | X | U, 1 },
			{ R | DMAR_PROT_PWT, x86 },
			{ R | DMAR_PROT_PCD, x86 },
			{ R | DMAR_PROT_GLOBAL, x86 },
			{ R | DMAR_PROT_SNOOP, !x86 },
			{ W | DMAR_PROT_SNOOP, !x86 },
			{ R | (1u << 8), 0 },
			{ R | (1u << 31), 0 },
		};

		dmar_pgtable_config_default(&pc);
		pc.format = *f;
		pc.pgsizes = K4;
		REQUIRE(dmar_pgtable_create(pm, &pc, &pt) == DMAR_OK);
		for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
			dmar_status st = dmar_pgtable_map(pt, iova, pa, K4, cases[k].prot);

			if (st != (cases[k].ok ? DMAR_OK : DMAR_E_INVALID)) {
				printf("#   %s: map prot %#x -> %s, want %s\n", fmt_name(f),
				       cases[k].prot, dmar_status_str(st),
				       cases[k].ok ? "DMAR_OK" : "DMAR_E_INVALID");
				check_failed_ = 1;
			}
			if (!cases[k].ok) {
				PT_FAULT(pt, iova, AW, DMAR_FAULT_NOT_PRESENT);
				continue;
			}
			if (cases[k].prot & R)
				PT_OK(pt, iova + 8, AR, pa + 8, 12, want_prot(f, cases[k].prot));
			else
				PT_FAULT(pt, iova + 8, AR, DMAR_FAULT_READ);
			if (cases[k].prot & W)
				PT_OK(pt, iova + 8, AW, pa + 8, 12, want_prot(f, cases[k].prot));
			else
				PT_FAULT(pt, iova + 8, AW, DMAR_FAULT_WRITE);
			/* the raw leaf: SNOOP is VT-d's SNP, AMD-Vi's FC; PWT/PCD/G are x86's */
			if (st == DMAR_OK) {
				dmar_walk_result q;

				CHECK_ST(dmar_pgtable_walk(pt, iova, cases[k].prot & R ? AR : AW, &q),
					 DMAR_OK);
				if (f->kind == VTD)
					CHECK_EQ(!!(q.pte & DMAR_VTD_SS_SNP),
						 !!(cases[k].prot & DMAR_PROT_SNOOP));
				if (f->kind == AMD)
					CHECK_EQ(!!(q.pte & DMAR_AMDV1_FC),
						 !!(cases[k].prot & DMAR_PROT_SNOOP));
				if (x86) {
					CHECK_EQ(!!(q.pte & DMAR_PTE_PWT), !!(cases[k].prot & DMAR_PROT_PWT));
					CHECK_EQ(!!(q.pte & DMAR_PTE_PCD), !!(cases[k].prot & DMAR_PROT_PCD));
					CHECK_EQ(!!(q.pte & DMAR_PTE_G), !!(cases[k].prot & DMAR_PROT_GLOBAL));
				}
				if (vexec && (cases[k].prot & X))
					CHECK(q.pte & DMAR_VTD_SS_X);
			}
			n = 0;
			CHECK_ST(dmar_pgtable_unmap(pt, iova, K4, &n), DMAR_OK);
			CHECK_EQ(n, K4);
		}
		/* EXEC: x86-64 honours XD, VT-d with DMAR_PT_EXEC honours X; elsewhere execution
		 * follows read */
		CHECK_ST(dmar_pgtable_map(pt, iova, pa, K4, R), DMAR_OK);
		if (x86 || vexec)
			PT_FAULT(pt, iova, AX, DMAR_FAULT_EXEC);
		else
			PT_OK(pt, iova, AX, pa, 12, want_prot(f, R));
		CHECK_ST(dmar_pgtable_unmap(pt, iova, K4, NULL), DMAR_OK);
		CHECK_ST(dmar_pgtable_map(pt, iova, pa, K4, R | X), DMAR_OK);
		PT_OK(pt, iova, AX, pa, 12, want_prot(f, R | X));
		CHECK_ST(dmar_pgtable_unmap(pt, iova, K4, NULL), DMAR_OK);
		/* USER: x86-64 honours U/S; every page of an IOMMU format is a user page */
		CHECK_ST(dmar_pgtable_map(pt, iova, pa, K4, R), DMAR_OK);
		if (x86)
			PT_FAULT(pt, iova, AR | AU, DMAR_FAULT_USER);
		else
			PT_OK(pt, iova, AR | AU, pa, 12, want_prot(f, R));
		CHECK_ST(dmar_pgtable_unmap(pt, iova, K4, NULL), DMAR_OK);
		dmar_pgtable_destroy(pt);
	}
	dmar_physmem_destroy(pm);
}

/* ======================================================================================
 * 1. The sweep: format x levels x pa_bits x page size.
 * ====================================================================================== */

/* The leaf a walk stopped at encodes the page as its hardware reads it: present, the size
 * (x86-64 and VT-d PS above level 1; AMD-Vi next level 0 for its level's size, else 7 with
 * the size as a run of ones in the address bits), the address, and the permission bits each
 * granted access needs at every level. */
static void check_leaf_(int line, const dmar_pt_format *f, const dmar_walk_result *r,
			dmar_pa_t page, unsigned lg2, unsigned prot)
{
	const uint64_t e = r->pte, addr = e & DMAR_PTE_ADDR_MASK;
	const unsigned level = leaf_level(lg2);
	uint64_t want_addr = page;
	int bad = 0;

	switch (f->kind) {
	case X86:
		bad |= !(e & DMAR_PTE_P);
		bad |= !!(e & DMAR_PTE_PS) != (level > 1);
		bad |= (prot & W) && !(e & DMAR_PTE_RW);
		bad |= (prot & U) && !(e & DMAR_PTE_US);
		bad |= (prot & X) && (e & DMAR_PTE_XD);
		break;
	case VTD:
		bad |= !!(e & DMAR_VTD_SS_PS) != (level > 1);
		bad |= (prot & R) && !(e & DMAR_VTD_SS_R);
		bad |= (prot & W) && !(e & DMAR_VTD_SS_W);
		bad |= (f->flags & DMAR_PT_EXEC) && (prot & X) && !(e & DMAR_VTD_SS_X);
		bad |= !(e & (DMAR_VTD_SS_R | DMAR_VTD_SS_W));
		break;
	default: {
		const unsigned nl = (unsigned)((e & DMAR_AMDV1_NL_MASK) >> 9);
		const int sized = lg2 != 12 + 9 * (level - 1);

		bad |= !(e & DMAR_AMDV1_PR);
		bad |= nl != (sized ? DMAR_AMDV1_NL_SIZE : 0);
		if (sized)
			want_addr |= ((1ull << (lg2 - 1)) - 1) & ~(K4 - 1);
		bad |= (prot & R) && !(e & DMAR_AMDV1_IR);
		bad |= (prot & W) && !(e & DMAR_AMDV1_IW);
		break;
	}
	}
	bad |= addr != want_addr;
	bad |= r->level != level;
	if (bad) {
		printf("#   line %d: %s leaf of 2^%u at %#" PRIx64 " prot %#x: entry %#" PRIx64
		       " at level %u (want address field %#" PRIx64 ", level %u)\n",
		       line, fmt_name(f), lg2, page, prot, e, r->level, want_addr, level);
		check_failed_ = 1;
	}
}
#define CHECK_LEAF(f, r, page, lg2, prot) check_leaf_(__LINE__, f, r, page, lg2, prot)

static int sampled_size(const dmar_pt_format *f, unsigned lg2, uint64_t sizes)
{
	unsigned max = 63 - (unsigned)__builtin_clzll(sizes);

	if (f->kind != AMD)
		return 1;
	return lg2 == 12 || lg2 == 13 || lg2 == 15 || lg2 == 20 || lg2 == 21 || lg2 == 22 ||
	       lg2 == 30 || lg2 == 39 || lg2 == max;
}

static void sweep_size(dmar_pgtable *pt, const dmar_pt_format *f, uint64_t last, unsigned lg2)
{
	const uint64_t S = 1ull << lg2, top = 1ull << pa_bits_of(f);
	const dmar_pa_t pa1 = top - S, pa2 = top / 2 - S; /* the highest page, and one below */
	const uint64_t mid = ((last >> 1) + 1) & ~(S - 1), lastpg = last - S + 1;
	const unsigned rwx = R | W | X, lvl = leaf_level(lg2);
	const uint64_t slot = 1ull << (12 + 9 * (lvl - 1)), nslots = S / slot;
	const unsigned p_rwx = want_prot(f, rwx), p_r = want_prot(f, R);
	dmar_walk_result r, r0;
	uint64_t n;
	dmar_status st;

	/* map one page; it translates at its edges and in every slot, for every access it
	 * grants, with the leaf encoded as the hardware reads it */
	st = dmar_pgtable_map(pt, mid, pa1, S, rwx);
	if (st != DMAR_OK) {
		printf("#   %s: map(%#" PRIx64 ", %#" PRIx64 ", 2^%u) -> %s\n", fmt_name(f), mid,
		       pa1, lg2, dmar_status_str(st));
		check_failed_ = 1;
		return;
	}
	r0 = PT_OK(pt, mid, AR, pa1, (int)lg2, p_rwx);
	CHECK_LEAF(f, &r0, pa1, lg2, p_rwx);
	PT_OK(pt, mid + 0x123, AW, pa1 + 0x123, (int)lg2, p_rwx);
	PT_OK(pt, mid + S / 2 + 0x40, AX, pa1 + S / 2 + 0x40, (int)lg2, p_rwx);
	PT_OK(pt, mid + S - 1, AR | AW | AX, pa1 + S - 1, (int)lg2, p_rwx);
	if (f->kind == X86)
		PT_FAULT(pt, mid + S - 1, AR | AU, DMAR_FAULT_USER);
	else
		PT_OK(pt, mid + S - 1, AR | AU, pa1 + S - 1, (int)lg2, p_rwx);
	for (uint64_t k = 0; k < nslots; k += nslots > 16 ? nslots / 16 : 1) {
		for (int end = 0; end < 2; end++) {
			const uint64_t s = end ? nslots - 1 - k : k, off = s * slot + 0x10;

			r = PT_OK(pt, mid + off, AR, pa1 + off, (int)lg2, p_rwx);
			if (r.pte != r0.pte) { /* a repeated AMD-Vi entry: every slot alike */
				printf("#   %s 2^%u: slot %" PRIu64 " holds %#" PRIx64
				       ", slot 0 %#" PRIx64 "\n",
				       fmt_name(f), lg2, s, r.pte, r0.pte);
				check_failed_ = 1;
			}
		}
	}
	if (mid >= K4)
		PT_FAULT(pt, mid - 1, AR, DMAR_FAULT_NOT_PRESENT);
	if (mid + S - 1 < last)
		PT_FAULT(pt, mid + S, AR, DMAR_FAULT_NOT_PRESENT);

	/* a map overlapping it in any way is DMAR_E_EXISTS and changes nothing */
	CHECK_ST(dmar_pgtable_map(pt, mid, pa2, S, R), DMAR_E_EXISTS);
	CHECK_ST(dmar_pgtable_map(pt, mid + S - K4, pa2, K4, R), DMAR_E_EXISTS);
	if (mid >= K4)
		CHECK_ST(dmar_pgtable_map(pt, mid - K4, pa2, 2 * K4, R), DMAR_E_EXISTS);
	if (2 * S - 1 <= last)
		CHECK_ST(dmar_pgtable_map(pt, mid & ~(2 * S - 1), pa2, 2 * S, R), DMAR_E_EXISTS);
	PT_OK(pt, mid + S - 1, AW, pa1 + S - 1, (int)lg2, p_rwx);
	if (mid >= K4)
		PT_FAULT(pt, mid - K4, AR, DMAR_FAULT_NOT_PRESENT);

	/* unmap returns the size; then nothing; again nothing */
	n = 0;
	CHECK_ST(dmar_pgtable_unmap(pt, mid, S, &n), DMAR_OK);
	CHECK_EQ(n, S);
	PT_FAULT(pt, mid, AR, DMAR_FAULT_NOT_PRESENT);
	PT_FAULT(pt, mid + S - 1, AW, DMAR_FAULT_NOT_PRESENT);
	n = 1;
	CHECK_ST(dmar_pgtable_unmap(pt, mid, S, &n), DMAR_OK);
	CHECK_EQ(n, 0);

	/* a large leaf unmapped in part is split: its other pages still translate */
	if (S > K4) {
		const uint64_t hole = (S / 2 + 5 * K4) & (S - 1);

		n = 0;
		CHECK_ST(dmar_pgtable_map(pt, mid, pa1, S, rwx), DMAR_OK);
		CHECK_ST(dmar_pgtable_unmap(pt, mid + hole, K4, &n), DMAR_OK);
		CHECK_EQ(n, K4);
		PT_FAULT(pt, mid + hole, AR, DMAR_FAULT_NOT_PRESENT);
		PT_FAULT(pt, mid + hole + K4 - 1, AW, DMAR_FAULT_NOT_PRESENT);
		for (uint64_t off = 0; off < S; off += S / 8 > K4 ? S / 8 : K4) {
			if (off == hole)
				continue;
			pt_expect_(__LINE__, pt, mid + off + 0x18, AR | AW,
				   (struct want){ DMAR_FAULT_NONE, pa1 + off + 0x18, -1, (int)p_rwx,
						  -1, 0 });
		}
		if (hole >= K4)
			pt_expect_(__LINE__, pt, mid + hole - 1, AR,
				   (struct want){ DMAR_FAULT_NONE, pa1 + hole - 1, -1, (int)p_rwx, -1, 0 });
		if (hole + K4 < S)
			pt_expect_(__LINE__, pt, mid + hole + K4, AW,
				   (struct want){ DMAR_FAULT_NONE, pa1 + hole + K4, -1, (int)p_rwx, -1, 0 });
		n = 0;
		CHECK_ST(dmar_pgtable_unmap(pt, mid, S, &n), DMAR_OK);
		CHECK_EQ(n, S - K4);
		PT_FAULT(pt, mid, AR, DMAR_FAULT_NOT_PRESENT);
	}

	/* remapped elsewhere, read-only */
	CHECK_ST(dmar_pgtable_map(pt, mid, pa2, S, R), DMAR_OK);
	r = PT_OK(pt, mid + S - 1, AR, pa2 + S - 1, (int)lg2, p_r);
	CHECK_LEAF(f, &r, pa2, lg2, p_r);
	PT_FAULT(pt, mid, AW, DMAR_FAULT_WRITE);
	if (p_r & X)
		PT_OK(pt, mid, AX, pa2, (int)lg2, p_r);
	else
		PT_FAULT(pt, mid, AX, DMAR_FAULT_EXEC);
	n = 0;
	CHECK_ST(dmar_pgtable_unmap(pt, mid, S, &n), DMAR_OK);
	CHECK_EQ(n, S);

	/* write-only: legal in the IOMMU formats, a read faults DMAR_FAULT_READ */
	if (f->kind == X86) {
		CHECK_ST(dmar_pgtable_map(pt, mid, pa2, S, W), DMAR_E_INVALID);
		PT_FAULT(pt, mid, AW, DMAR_FAULT_NOT_PRESENT);
	} else {
		CHECK_ST(dmar_pgtable_map(pt, mid, pa2, S, W), DMAR_OK);
		r = PT_OK(pt, mid + 8, AW, pa2 + 8, (int)lg2, want_prot(f, W));
		CHECK_LEAF(f, &r, pa2, lg2, want_prot(f, W));
		PT_FAULT(pt, mid + 8, AR, DMAR_FAULT_READ);
		{
			/* mapped all the same: iova_to_phys answers it */
			dmar_pa_t got = 0;

			CHECK_ST(dmar_pgtable_iova_to_phys(pt, mid + 8, &got), DMAR_OK);
			CHECK_EQ(got, pa2 + 8);
		}
		n = 0;
		CHECK_ST(dmar_pgtable_unmap(pt, mid, S, &n), DMAR_OK);
		CHECK_EQ(n, S);
	}

	/* the last page of the input width */
	CHECK_ST(dmar_pgtable_map(pt, lastpg, pa1, S, R | W), DMAR_OK);
	PT_OK(pt, last, AR, pa1 + S - 1, (int)lg2, want_prot(f, R | W));
	PT_OK(pt, lastpg, AW, pa1, (int)lg2, want_prot(f, R | W));
	n = 0;
	CHECK_ST(dmar_pgtable_unmap(pt, lastpg, S, &n), DMAR_OK);
	CHECK_EQ(n, S);
	PT_FAULT(pt, last, AR, DMAR_FAULT_NOT_PRESENT);

	/* past the input width, and wrapping past 2^64: refused, nothing changes */
	if (last != UINT64_MAX) {
		CHECK_ST(dmar_pgtable_map(pt, last + 1, pa1, S, R), DMAR_E_RANGE);
		CHECK_ST(dmar_pgtable_map(pt, last + 1 - K4, pa1, 2 * K4, R), DMAR_E_RANGE);
		CHECK_ST(dmar_pgtable_map(pt, lastpg, pa2, 2 * S, R), DMAR_E_RANGE);
		CHECK_ST(dmar_pgtable_unmap(pt, last + 1, S, NULL), DMAR_E_RANGE);
		CHECK_ST(dmar_pgtable_unmap(pt, last + 1 - K4, 2 * K4, NULL), DMAR_E_RANGE);
		CHECK_ST(dmar_pgtable_map(pt, 0 - S, pa1, S, R), DMAR_E_RANGE);
	}
	CHECK_ST(dmar_pgtable_map(pt, 0 - K4, pa1, 2 * K4, R), DMAR_E_RANGE);
	CHECK_ST(dmar_pgtable_map(pt, 0 - S, pa2, 2 * S, R), DMAR_E_RANGE);
	CHECK_ST(dmar_pgtable_unmap(pt, 0 - K4, 2 * K4, NULL), DMAR_E_RANGE);
	CHECK_ST(dmar_pgtable_unmap(pt, 0 - S, 2 * S, NULL), DMAR_E_RANGE);
	PT_FAULT(pt, last, AR, DMAR_FAULT_NOT_PRESENT);
	PT_FAULT(pt, lastpg, AR, DMAR_FAULT_NOT_PRESENT);

	/* physical addresses at or above 2^pa_bits (or past 2^64) */
	CHECK_ST(dmar_pgtable_map(pt, mid, top, S, R), DMAR_E_RANGE);
	CHECK_ST(dmar_pgtable_map(pt, mid, top - K4, 2 * K4, R), DMAR_E_RANGE);
	CHECK_ST(dmar_pgtable_map(pt, mid, pa1 + K4, S, R), DMAR_E_RANGE);
	CHECK_ST(dmar_pgtable_map(pt, mid, 0 - K4, 2 * K4, R), DMAR_E_RANGE);
	CHECK_ST(dmar_pgtable_map(pt, mid, 1ull << 63, S, R), DMAR_E_RANGE);
	PT_FAULT(pt, mid, AR, DMAR_FAULT_NOT_PRESENT);
	PT_FAULT(pt, mid + S - 1, AR, DMAR_FAULT_NOT_PRESENT);
}

static void sweep_format(dmar_physmem *pm, const dmar_pt_format *f, unsigned *ncases)
{
	dmar_pgtable_config pc;
	dmar_pgtable *pt = NULL;
	dmar_iova_t last = 0, high = 0;
	uint64_t sizes = dmar_pt_page_sizes(f);
	const int cpu = f->kind == X86 && !(f->flags & DMAR_PT_IOVA);
	dmar_status st;

	dmar_pgtable_config_default(&pc);
	pc.format = *f;
	pc.pgsizes = sizes; /* default placement: a table walks, whatever its pa_bits */
	st = dmar_pgtable_create(pm, &pc, &pt);
	if (st != DMAR_OK) {
		printf("#   %s: dmar_pgtable_create -> %s (sizes %#" PRIx64 ")\n", fmt_name(f),
		       dmar_status_str(st), sizes);
		check_failed_ = 1;
		return;
	}
	CHECK_ST(dmar_pt_input_range(f, &last, &high), DMAR_OK);

	/* an empty table translates nothing, anywhere in its input range */
	{
		uint64_t probes[12] = { 0, K4, last >> 1, (last >> 1) + 1, last & ~(K4 - 1), last };

		for (int i = 6; i < 12; i++)
			probes[i] = next() & last;
		for (int i = 0; i < 12; i++) {
			PT_FAULT(pt, probes[i], AR, DMAR_FAULT_NOT_PRESENT);
			PT_FAULT(pt, probes[i], AW | AX, DMAR_FAULT_NOT_PRESENT);
		}
		if (last != UINT64_MAX) {
			PT_FAULT(pt, last + 1, AR, cpu ? DMAR_FAULT_NONCANONICAL : DMAR_FAULT_ADDR_WIDTH);
			PT_FAULT(pt, UINT64_MAX, AR, DMAR_FAULT_ADDR_WIDTH);
		}
		CHECK_EQ(dmar_pgtable_table_pages(pt), 1);
	}
	for (unsigned lg2 = 12; lg2 <= 51; lg2++) {
		if (!(sizes & (1ull << lg2)) || !sampled_size(f, lg2, sizes) ||
		    lg2 >= pa_bits_of(f))
			continue;
		sweep_size(pt, f, last, lg2);
		++*ncases;
	}
	dmar_pgtable_destroy(pt);
}

static void sweep_kind(unsigned kind)
{
	static const unsigned pa_bits[] = { 36, 48, 0 /* 52 */ };
	dmar_physmem *pm = test_physmem(0);
	unsigned lo = kind == X86 ? 4 : kind == VTD ? 3 : 1, hi = kind == AMD ? 6 : 5;
	unsigned flagsets[2] = { 0, kind == X86 ? DMAR_PT_IOVA : kind == VTD ? DMAR_PT_1G | DMAR_PT_EXEC : 0 };
	unsigned ncases = 0;

	for (unsigned levels = lo; levels <= hi; levels++)
		for (int fl = 0; fl < (kind == AMD ? 1 : 2); fl++)
			for (size_t p = 0; p < 3; p++) {
				const dmar_pt_format f = { .levels = levels, .pa_bits = pa_bits[p],
							   .flags = flagsets[fl], .kind = kind };

				sweep_format(pm, &f, &ncases);
			}
	printf("# %u format x page size cases\n", ncases);
	dmar_physmem_destroy(pm);
}

TEST(S13_sweep_x86_64_levels_pa_bits_page_sizes)
{
	sweep_kind(X86);
}

TEST(S13_sweep_vtd_ss_levels_pa_bits_page_sizes)
{
	sweep_kind(VTD);
}

TEST(S13_sweep_amdv1_levels_pa_bits_page_sizes)
{
	sweep_kind(AMD);
}

/* ======================================================================================
 * 2. Tables written by hand.
 * ====================================================================================== */

#define XP DMAR_PTE_P
#define XRW DMAR_PTE_RW
#define XUS DMAR_PTE_US
#define XPS DMAR_PTE_PS

/* x86-64: 4 KiB, 2 MiB and 1 GiB leaves of one 4-level table; permissions ANDed down the
 * levels (R/W, U/S, XD); PWT, PCD and G reported; PAT of a large leaf is not address. */
TEST(S2_x86_64_hand_written_leaves_of_every_size)
{
	struct hw h;
	const dmar_pt_format f = { .levels = 4 };
	const uint64_t va4k = 0x00007f1234567000ull, va2m = 0x00007f1234800000ull,
		       va1g = 0x00007f1280000000ull;
	const unsigned all = XP | XRW | XUS;
	dmar_pa_t l4, l3, l2, l1, l2b;

	hw_setup(&h);
	l4 = frame(h.pm), l3 = frame(h.pm), l2 = frame(h.pm), l1 = frame(h.pm), l2b = frame(h.pm);
	put(h.pm, l4, idx(va4k, 4), l3 | all);
	put(h.pm, l3, idx(va4k, 3), l2 | all);
	put(h.pm, l2, idx(va4k, 2), l1 | all);
	put(h.pm, l1, idx(va4k, 1), 0x5000000ull | all);
	put(h.pm, l2, idx(va2m, 2), 0x40000000ull | all | XPS);
	put(h.pm, l3, idx(va1g, 3), (5ull << 30) | XP | XPS | DMAR_PTE_PAT_LARGE);

	HW_OK(&h, l4, &f, va4k + 0xabc, AR | AW | AX | AU, 0x5000abcull, 12, R | W | X | U);
	HW_OK(&h, l4, &f, va2m + 0x1abcde, AW, 0x401abcdeull, 21, R | W | X | U);
	HW_OK(&h, l4, &f, va1g + 0x3abcdef0, AR | AX, (5ull << 30) + 0x3abcdef0, 30, R | X);
	HW_FAULT(&h, l4, &f, va1g, AW, DMAR_FAULT_WRITE, 3);
	HW_FAULT(&h, l4, &f, va1g, AR | AU, DMAR_FAULT_USER, 3);
	/* the leaf's controls */
	put(h.pm, l1, idx(va4k, 1) + 1,
	    0x5001000ull | all | DMAR_PTE_PWT | DMAR_PTE_PCD | DMAR_PTE_G | DMAR_PTE_XD);
	HW_OK(&h, l4, &f, va4k + K4, AR, 0x5001000ull, 12,
	      R | W | U | DMAR_PROT_PWT | DMAR_PROT_PCD | DMAR_PROT_GLOBAL);
	HW_FAULT(&h, l4, &f, va4k + K4, AX, DMAR_FAULT_EXEC, 1);
	/* XD and R/W in a table entry bind every page below it */
	put(h.pm, l3, idx(va4k, 3) + 1, l2b | XP | XUS | DMAR_PTE_XD);
	put(h.pm, l2b, 0, 0x600000ull | all | XPS);
	HW_OK(&h, l4, &f, va4k - (va4k & (G1 - 1)) + G1 + 0x10, AR | AU, 0x600010ull, 21, R | U);
	HW_FAULT(&h, l4, &f, va4k - (va4k & (G1 - 1)) + G1, AW, DMAR_FAULT_WRITE, -1);
	HW_FAULT(&h, l4, &f, va4k - (va4k & (G1 - 1)) + G1, AX, DMAR_FAULT_EXEC, -1);
	/* not present at each level */
	HW_FAULT(&h, l4, &f, va4k + 2 * K4, AR, DMAR_FAULT_NOT_PRESENT, 1);
	HW_FAULT(&h, l4, &f, va2m + M2, AR, DMAR_FAULT_NOT_PRESENT, 2);
	HW_FAULT(&h, l4, &f, va1g + G1, AR, DMAR_FAULT_NOT_PRESENT, 3);
	HW_FAULT(&h, l4, &f, 0, AR, DMAR_FAULT_NOT_PRESENT, 4);
	hw_teardown(&h);
}

#define VR DMAR_VTD_SS_R
#define VW DMAR_VTD_SS_W
#define VX DMAR_VTD_SS_X
#define VPS DMAR_VTD_SS_PS

/* A 4-level VT-d second-stage chain for @va ending in a level-1 table; returns the root and
 * the tables (t[4] root .. t[1]).  Table entries grant R, W and X. */
static dmar_pa_t vtd_chain(dmar_physmem *pm, uint64_t va, dmar_pa_t t[5])
{
	for (int l = 4; l >= 1; l--)
		t[l] = frame(pm);
	for (int l = 4; l >= 2; l--)
		put(pm, t[l], idx(va, (unsigned)l), t[l - 1] | VR | VW | VX);
	return t[4];
}

/* VT-d: W = 1, R = 0 is a write-only page: writes translate, reads fault DMAR_FAULT_READ,
 * also after the write's translation was cached. */
TEST(S13_vtd_ss_write_only_leaf_faults_reads)
{
	struct hw h;
	const dmar_pt_format f = { .levels = 4, .kind = VTD };
	const uint64_t va = 0x0000123456789000ull;
	dmar_pa_t t[5], root;
	dmar_space *sp;
	dmar_result res;

	hw_setup(&h);
	root = vtd_chain(h.pm, va, t);
	put(h.pm, t[1], idx(va, 1), 0x7000000ull | VW);
	HW_OK(&h, root, &f, va + 0x18, AW, 0x7000018ull, 12, W | U);
	HW_OK(&h, root, &f, va + 0x18, AW | AU, 0x7000018ull, 12, W | U);
	HW_FAULT(&h, root, &f, va + 0x18, AR, DMAR_FAULT_READ, 1);
	HW_FAULT(&h, root, &f, va + 0x18, AR | AW, DMAR_FAULT_READ, 1);
	/* a read never hits the cached write-only translation */
	REQUIRE(dmar_space_create(h.tlb, h.pm, root, &f, &sp) == DMAR_OK);
	CHECK_ST(dmar_translate(sp, va, AW, &res), DMAR_OK);
	CHECK_ST(dmar_translate(sp, va, AW, &res), DMAR_OK);
	CHECK_EQ(res.flags & DMAR_RESULT_HIT, DMAR_RESULT_HIT);
	CHECK_ST(dmar_translate(sp, va, AR, &res), DMAR_E_FAULT);
	CHECK_EQ(res.fault, DMAR_FAULT_READ);
	CHECK_EQ(res.pa, 0);
	dmar_space_destroy(sp);
	/* an execute request needs read without DMAR_PT_EXEC: refused here */
	{
		dmar_walk_result r;

		CHECK_ST(dmar_walk(h.pm, root, &f, va, AX, &r), DMAR_E_FAULT);
		CHECK(r.fault == DMAR_FAULT_READ || r.fault == DMAR_FAULT_EXEC);
	}
	/* R only in a table entry makes every page below it read-only; W only, write-only */
	put(h.pm, t[1], idx(va, 1) + 1, 0x7001000ull | VR | VW);
	put(h.pm, t[2], idx(va, 2), t[1] | VR);
	HW_OK(&h, root, &f, va + K4, AR, 0x7001000ull, 12, R | X | U);
	HW_FAULT(&h, root, &f, va + K4, AW, DMAR_FAULT_WRITE, -1);
	put(h.pm, t[2], idx(va, 2), t[1] | VW);
	HW_OK(&h, root, &f, va + K4, AW, 0x7001000ull, 12, W | U);
	HW_FAULT(&h, root, &f, va + K4, AR, DMAR_FAULT_READ, -1);
	hw_teardown(&h);
}

/* VT-d: an entry with R = W = 0 is not present, whatever else it holds (X included), at a
 * leaf and in a table, with or without DMAR_PT_EXEC. */
TEST(S13_vtd_ss_entry_without_r_and_w_is_not_present)
{
	struct hw h;
	const uint64_t va = 0x0000007654321000ull;
	dmar_pa_t t[5], root;

	hw_setup(&h);
	root = vtd_chain(h.pm, va, t);
	for (int exec = 0; exec < 2; exec++) {
		const dmar_pt_format f = { .levels = 4, .kind = VTD,
					   .flags = exec ? DMAR_PT_EXEC : 0 };

		put(h.pm, t[1], idx(va, 1), 0x7000000ull | VX);
		HW_FAULT(&h, root, &f, va, AR, DMAR_FAULT_NOT_PRESENT, 1);
		HW_FAULT(&h, root, &f, va, AX, DMAR_FAULT_NOT_PRESENT, 1);
		HW_FAULT(&h, root, &f, va, AW, DMAR_FAULT_NOT_PRESENT, 1);
		put(h.pm, t[1], idx(va, 1), 0x7000000ull | VX | DMAR_VTD_SS_SNP | DMAR_VTD_SS_A);
		HW_FAULT(&h, root, &f, va, AX, DMAR_FAULT_NOT_PRESENT, 1);
		put(h.pm, t[1], idx(va, 1), 0x7000000ull | VR | VW | VX);
		HW_OK(&h, root, &f, va, AX, 0x7000000ull, 12, R | W | X | U);
		put(h.pm, t[3], idx(va, 3), t[2] | VX);
		HW_FAULT(&h, root, &f, va, AX, DMAR_FAULT_NOT_PRESENT, 3);
		put(h.pm, t[3], idx(va, 3), t[2] | VR | VW | VX);
		HW_OK(&h, root, &f, va, AR, 0x7000000ull, 12, R | W | X | U);
	}
	hw_teardown(&h);
}

/* VT-d: PS at level 3 is a reserved bit without DMAR_PT_1G and a 1 GiB leaf with it; at level
 * 2 a 2 MiB leaf either way; at level 4 reserved either way (a second-stage PML4E has no
 * PS).  A large leaf's address bits below its size are reserved. */
TEST(S13_vtd_ss_ps_at_level_3_needs_1g)
{
	struct hw h;
	const dmar_pt_format f0 = { .levels = 4, .kind = VTD };
	const dmar_pt_format f1 = { .levels = 4, .kind = VTD, .flags = DMAR_PT_1G };
	const dmar_pt_format f3 = { .levels = 3, .kind = VTD, .flags = DMAR_PT_1G };
	const uint64_t va = 0x0000004000000000ull; /* PML4 index 0, PDPT index 256 */
	dmar_pa_t t[5], root;

	hw_setup(&h);
	root = vtd_chain(h.pm, va, t);
	put(h.pm, t[3], idx(va, 3), (3ull << 30) | VR | VW | VPS);
	HW_FAULT(&h, root, &f0, va + 0x1234, AR, DMAR_FAULT_RESERVED, 3);
	HW_OK(&h, root, &f1, va + 0x3fedcba9, AR, (3ull << 30) + 0x3fedcba9, 30, R | W | X | U);
	/* the same 1 GiB leaf in the root of a 3-level table */
	HW_OK(&h, t[3], &f3, va + 0x123, AW, (3ull << 30) + 0x123, 30, R | W | X | U);
	/* address bits below 1 GiB (bit 21) are reserved in a 1 GiB leaf */
	put(h.pm, t[3], idx(va, 3), (3ull << 30) | M2 | VR | VW | VPS);
	HW_FAULT(&h, root, &f1, va, AR, DMAR_FAULT_RESERVED, 3);
	/* a 2 MiB leaf (and bit 13 reserved in one) */
	put(h.pm, t[2], idx(va, 2) + 1, (7ull << 21) | VR | VPS);
	put(h.pm, t[3], idx(va, 3), t[2] | VR | VW);
	HW_OK(&h, root, &f0, va + M2 + 0x1f0000, AR, (7ull << 21) + 0x1f0000, 21, R | X | U);
	HW_OK(&h, root, &f1, va + M2, AR, 7ull << 21, 21, R | X | U);
	put(h.pm, t[2], idx(va, 2) + 2, (8ull << 21) | (1ull << 13) | VR | VPS);
	HW_FAULT(&h, root, &f0, va + 2 * M2, AR, DMAR_FAULT_RESERVED, 2);
	/* PS at level 4 */
	put(h.pm, t[4], idx(va, 4) + 1, VR | VW | VPS);
	HW_FAULT(&h, root, &f0, va + (1ull << 39), AR, DMAR_FAULT_RESERVED, 4);
	HW_FAULT(&h, root, &f1, va + (1ull << 39), AR, DMAR_FAULT_RESERVED, 4);
	hw_teardown(&h);
}

/* VT-d: X is honoured only with DMAR_PT_EXEC, and then needed at every level; without it an
 * execute request needs read, and a readable page reports EXEC. */
TEST(S13_vtd_ss_x_honoured_only_with_exec)
{
	struct hw h;
	const dmar_pt_format f0 = { .levels = 4, .kind = VTD };
	const dmar_pt_format fx = { .levels = 4, .kind = VTD, .flags = DMAR_PT_EXEC };
	const uint64_t va = 0x0000000123456000ull;
	dmar_pa_t t[5], root;

	hw_setup(&h);
	root = vtd_chain(h.pm, va, t);
	put(h.pm, t[1], idx(va, 1), 0x7000000ull | VR | VW); /* X = 0 */
	HW_OK(&h, root, &f0, va + 4, AX, 0x7000004ull, 12, R | W | X | U);
	HW_OK(&h, root, &fx, va + 4, AR, 0x7000004ull, 12, R | W | U);
	HW_FAULT(&h, root, &fx, va + 4, AX, DMAR_FAULT_EXEC, 1);
	HW_FAULT(&h, root, &fx, va + 4, AR | AX, DMAR_FAULT_EXEC, 1);
	put(h.pm, t[1], idx(va, 1), 0x7000000ull | VR | VX);
	HW_OK(&h, root, &fx, va + 4, AX, 0x7000004ull, 12, R | X | U);
	HW_OK(&h, root, &f0, va + 4, AX, 0x7000004ull, 12, R | X | U);
	/* X = 0 in a table entry */
	put(h.pm, t[2], idx(va, 2), t[1] | VR | VW);
	HW_FAULT(&h, root, &fx, va + 4, AX, DMAR_FAULT_EXEC, -1);
	{
		dmar_space *sp;

		put(h.pm, t[1], idx(va, 1) ^ 1, 0x7001000ull | VR | VX);
		REQUIRE(dmar_space_create(h.tlb, h.pm, root, &fx, &sp) == DMAR_OK);
		SP_OK(sp, &fx, va, AR, 0x7000000ull, 12, R | U);
		SP_FAULT(sp, &fx, va ^ K4, AX, DMAR_FAULT_EXEC);
		SP_OK(sp, &fx, va ^ K4, AR, 0x7001000ull, 12, R | U);
		dmar_space_destroy(sp);
	}
	HW_OK(&h, root, &fx, va + 4, AR, 0x7000004ull, 12, R | U);
	HW_OK(&h, root, &f0, va + 4, AX, 0x7000004ull, 12, R | X | U);
	hw_teardown(&h);
}

/* VT-d: SNP in a leaf is reported as DMAR_PROT_SNOOP. */
TEST(S13_vtd_ss_snp_reported_as_snoop)
{
	struct hw h;
	const dmar_pt_format f = { .levels = 3, .kind = VTD };
	const uint64_t va = 0x0000004321000000ull;
	dmar_pa_t t[4];

	hw_setup(&h);
	for (int l = 3; l >= 1; l--)
		t[l] = frame(h.pm);
	put(h.pm, t[3], idx(va, 3), t[2] | VR | VW);
	put(h.pm, t[2], idx(va, 2), t[1] | VR | VW);
	put(h.pm, t[1], idx(va, 1), 0x2000000ull | VR | VW | DMAR_VTD_SS_SNP);
	put(h.pm, t[1], idx(va, 1) + 1, 0x2001000ull | VR | VW);
	put(h.pm, t[2], idx(va, 2) + 1, (9ull << 21) | VW | VPS | DMAR_VTD_SS_SNP);
	HW_OK(&h, t[3], &f, va + 0x77, AR, 0x2000077ull, 12, R | W | X | U | DMAR_PROT_SNOOP);
	HW_OK(&h, t[3], &f, va + K4, AR, 0x2001000ull, 12, R | W | X | U);
	HW_OK(&h, t[3], &f, va + M2 + 5, AW, (9ull << 21) + 5, 21, W | U | DMAR_PROT_SNOOP);
	hw_teardown(&h);
}

/* VT-d: address bits at or above pa_bits (the host address width) are reserved, in a leaf
 * and in a table pointer; the input width is 39, 48 or 57 bits. */
TEST(S13_vtd_ss_address_bits_above_pa_bits_are_reserved)
{
	struct hw h;
	const dmar_pt_format f39 = { .levels = 4, .kind = VTD, .pa_bits = 39 };
	const dmar_pt_format f52 = { .levels = 4, .kind = VTD };
	const dmar_pt_format f3 = { .levels = 3, .kind = VTD };
	const uint64_t va = 0x0000000fedcba000ull;
	dmar_pa_t t[5], root;

	hw_setup(&h);
	root = vtd_chain(h.pm, va, t);
	put(h.pm, t[1], idx(va, 1), (1ull << 40) | 0x3000 | VR | VW);
	HW_FAULT(&h, root, &f39, va, AR, DMAR_FAULT_RESERVED, 1);
	HW_OK(&h, root, &f52, va + 1, AR, (1ull << 40) + 0x3001, 12, R | W | X | U);
	put(h.pm, t[1], idx(va, 1), ((1ull << 39) - K4) | VR | VW);
	HW_OK(&h, root, &f39, va + 1, AR, (1ull << 39) - K4 + 1, 12, R | W | X | U);
	put(h.pm, t[1], idx(va, 1), (1ull << 51) | VR | VW);
	HW_FAULT(&h, root, &f39, va, AR, DMAR_FAULT_RESERVED, 1);
	HW_OK(&h, root, &f52, va, AR, 1ull << 51, 12, R | W | X | U);
	/* a table pointer with bit 45 set */
	put(h.pm, t[3], idx(va, 3), t[2] | (1ull << 45) | VR | VW);
	HW_FAULT(&h, root, &f39, va, AR, DMAR_FAULT_RESERVED, 3);
	HW_FAULT(&h, root, &f52, va, AR, DMAR_FAULT_TABLE_ADDR, -1);
	put(h.pm, t[3], idx(va, 3), t[2] | VR | VW);
	/* input widths */
	HW_FAULT(&h, root, &f52, 1ull << 48, AR, DMAR_FAULT_ADDR_WIDTH, -1);
	HW_FAULT(&h, t[3], &f3, 1ull << 39, AR, DMAR_FAULT_ADDR_WIDTH, -1);
	HW_FAULT(&h, t[3], &f3, UINT64_MAX, AR, DMAR_FAULT_ADDR_WIDTH, -1);
	hw_teardown(&h);
}

#define APR DMAR_AMDV1_PR
#define AIR DMAR_AMDV1_IR
#define AIW DMAR_AMDV1_IW
#define ANL(l) DMAR_AMDV1_NL(l)
#define ARW (APR | AIR | AIW)

/* AMD-Vi: a level-4 entry whose next level is 2 skips level 3: it translates when the
 * address bits level 3 would have indexed (30-38) are zero and faults DMAR_FAULT_ADDR_WIDTH
 * when they are not.  The same from the root straight to level 1. */
TEST(S13_amdv1_skipped_level_needs_zero_address_bits)
{
	struct hw h;
	const dmar_pt_format f = { .levels = 4, .kind = AMD };
	const uint64_t va = (5ull << 39) | (7ull << 21) | (9ull << 12);
	const uint64_t vb = (6ull << 39) | (3ull << 12);
	dmar_pa_t l4, l2, l1, l1b;

	hw_setup(&h);
	l4 = frame(h.pm), l2 = frame(h.pm), l1 = frame(h.pm), l1b = frame(h.pm);
	put(h.pm, l4, idx(va, 4), l2 | ARW | ANL(2));
	put(h.pm, l2, idx(va, 2), l1 | ARW | ANL(1));
	put(h.pm, l1, idx(va, 1), 0x3000000ull | ARW | ANL(0));
	HW_OK(&h, l4, &f, va + 0x123, AR, 0x3000123ull, 12, R | W | X | U);
	HW_OK(&h, l4, &f, va + 0x123, AW, 0x3000123ull, 12, R | W | X | U);
	HW_FAULT(&h, l4, &f, va | (1ull << 30), AR, DMAR_FAULT_ADDR_WIDTH, -1);
	HW_FAULT(&h, l4, &f, va | (1ull << 38), AR, DMAR_FAULT_ADDR_WIDTH, -1);
	HW_FAULT(&h, l4, &f, va | (0x1ffull << 30), AW, DMAR_FAULT_ADDR_WIDTH, -1);
	/* root -> level 1: bits 21-38 must be zero */
	put(h.pm, l4, idx(vb, 4), l1b | ARW | ANL(1));
	put(h.pm, l1b, idx(vb, 1), 0x3100000ull | ARW);
	HW_OK(&h, l4, &f, vb + 0xfff, AR, 0x3100fffull, 12, R | W | X | U);
	HW_FAULT(&h, l4, &f, vb | (1ull << 21), AR, DMAR_FAULT_ADDR_WIDTH, -1);
	HW_FAULT(&h, l4, &f, vb | (1ull << 35), AR, DMAR_FAULT_ADDR_WIDTH, -1);
	/* input width 48 */
	HW_FAULT(&h, l4, &f, va | (1ull << 48), AR, DMAR_FAULT_ADDR_WIDTH, -1);
	/* with the skipping entry in the page-walk cache: the skipped bits still checked */
	{
		dmar_space *sp;
		dmar_request q[4] = { { va, AR, 0 }, { va | (1ull << 31), AR, 0 },
				      { vb | (1ull << 22), AW, 0 }, { vb + 8, AW, 0 } };
		dmar_result res[4];
		size_t nf = 0;

		REQUIRE(dmar_space_create(h.tlb, h.pm, l4, &f, &sp) == DMAR_OK);
		for (int pass = 0; pass < 2; pass++) {
			SP_OK(sp, &f, va + 1, AR, 0x3000001ull, 12, R | W | X | U);
			SP_OK(sp, &f, vb + 2, AR, 0x3100002ull, 12, R | W | X | U);
			SP_FAULT(sp, &f, va | (1ull << 30), AR, DMAR_FAULT_ADDR_WIDTH);
			SP_FAULT(sp, &f, (va | (1ull << 33)) + K4, AW, DMAR_FAULT_ADDR_WIDTH);
			SP_FAULT(sp, &f, vb | (1ull << 21), AR, DMAR_FAULT_ADDR_WIDTH);
			SP_FAULT(sp, &f, vb | (1ull << 29), AR, DMAR_FAULT_ADDR_WIDTH);
			SP_FAULT(sp, &f, vb | (1ull << 30), AR, DMAR_FAULT_ADDR_WIDTH);
		}
		CHECK_ST(dmar_translate_batch(sp, q, res, 4, &nf), DMAR_OK);
		CHECK_EQ(nf, 2);
		CHECK_EQ(res[0].pa, 0x3000000ull);
		CHECK_EQ(res[1].fault, DMAR_FAULT_ADDR_WIDTH);
		CHECK_EQ(res[2].fault, DMAR_FAULT_ADDR_WIDTH);
		CHECK_EQ(res[3].pa, 0x3100008ull);
		dmar_space_destroy(sp);
	}
	hw_teardown(&h);
}

/* AMD-Vi: next level 7 is a page of the size its address bits encode (the first zero bit n
 * above bit 11 gives 2^(n+1)), its entry repeated in every slot: 32 KiB from 8 level-1
 * entries (bits 12, 13 = 1, bit 14 = 0), 4 MiB from 2 level-2 entries (bits 12-20 = 1,
 * bit 21 = 0), 8 KiB (bit 12 = 0) from 2; next level 0 a page of its level's size. */
TEST(S13_amdv1_32k_and_4m_pages_from_repeated_entries)
{
	struct hw h;
	const dmar_pt_format f = { .levels = 3, .kind = AMD };
	const uint64_t base = 0x0000001240000000ull; /* level-3 index 73 */
	const dmar_pa_t p32k = 0x3418000ull, p4m = 0x6c00000ull, p8k = 0x3422000ull;
	dmar_pa_t l3, l2, l1;

	hw_setup(&h);
	l3 = frame(h.pm), l2 = frame(h.pm), l1 = frame(h.pm);
	put(h.pm, l3, idx(base, 3), l2 | ARW | ANL(2));
	put(h.pm, l2, 0, l1 | ARW | ANL(1));
	for (unsigned s = 8; s < 16; s++) /* va base + 32 KiB .. + 64 KiB */
		put(h.pm, l1, s, p32k | 0x3000 | ARW | ANL(7));
	for (unsigned s = 16; s < 18; s++) /* 8 KiB at base + 64 KiB */
		put(h.pm, l1, s, p8k | APR | AIR | ANL(7));
	put(h.pm, l1, 20, 0x3500000ull | ARW); /* next level 0: 4 KiB */
	for (unsigned s = 4; s < 6; s++) /* va base + 8 MiB .. + 12 MiB */
		put(h.pm, l2, s, p4m | 0x1ff000 | ARW | ANL(7));
	put(h.pm, l2, 7, (0x1full << 21) | APR | AIW); /* next level 0: 2 MiB, write-only */

	for (unsigned k = 0; k < 8; k++) {
		const uint64_t off = k * K4 + 0x10 * k + 8;

		HW_OK(&h, l3, &f, base + 0x8000 + off, AR, p32k + off, 15, R | W | X | U);
	}
	HW_OK(&h, l3, &f, base + 0xffff, AW, p32k + 0x7fff, 15, R | W | X | U);
	HW_OK(&h, l3, &f, base + 0x10000, AR, p8k, 13, R | X | U);
	HW_OK(&h, l3, &f, base + 0x11fff, AR, p8k + 0x1fff, 13, R | X | U);
	HW_FAULT(&h, l3, &f, base + 0x11000, AW, DMAR_FAULT_WRITE, 1);
	HW_OK(&h, l3, &f, base + 20 * K4 + 1, AR, 0x3500001ull, 12, R | W | X | U);
	HW_FAULT(&h, l3, &f, base + 0x12000, AR, DMAR_FAULT_NOT_PRESENT, 1);
	for (unsigned k = 0; k < 2; k++)
		for (uint64_t off = 0; off < M2; off += 0x7f001) {
			const uint64_t o = k * M2 + off;

			HW_OK(&h, l3, &f, base + 4 * M2 + o, AR, p4m + o, 22, R | W | X | U);
		}
	HW_OK(&h, l3, &f, base + 6 * M2 - 1, AW, p4m + 2 * M2 - 1, 22, R | W | X | U);
	HW_OK(&h, l3, &f, base + 7 * M2 + 0x1234, AW, (0x1full << 21) + 0x1234, 21, W | U);
	HW_FAULT(&h, l3, &f, base + 7 * M2, AR, DMAR_FAULT_READ, 2);
	HW_FAULT(&h, l3, &f, base + 6 * M2, AR, DMAR_FAULT_NOT_PRESENT, 2);
	/* through one space: every slot of the 32 KiB and 4 MiB pages, twice */
	{
		dmar_space *sp;

		REQUIRE(dmar_space_create(h.tlb, h.pm, l3, &f, &sp) == DMAR_OK);
		for (int pass = 0; pass < 2; pass++) {
			for (unsigned k = 0; k < 8; k++)
				SP_OK(sp, &f, base + 0x8000 + k * K4 + 0x44, k & 1 ? AW : AR,
				      p32k + k * K4 + 0x44, 15, R | W | X | U);
			for (uint64_t o = 0; o < 2 * M2; o += 0x3f000)
				SP_OK(sp, &f, base + 4 * M2 + o + 3, AR, p4m + o + 3, 22,
				      R | W | X | U);
		}
		dmar_space_destroy(sp);
	}
	/* next level 0 at level 3: 1 GiB */
	put(h.pm, l3, idx(base, 3) + 1, (2ull << 30) | ARW | DMAR_AMDV1_FC);
	HW_OK(&h, l3, &f, base + G1 + 0x3ffffff0, AR, (2ull << 30) + 0x3ffffff0, 30,
	      R | W | X | U | DMAR_PROT_SNOOP);
	hw_teardown(&h);
}

/* AMD-Vi: IR and IW are ANDed down the levels: a table entry without IW makes its pages
 * read-only (DMAR_FAULT_WRITE), one without IR write-only (DMAR_FAULT_READ); PR = 0 is not
 * present; a leaf with neither IR nor IW refuses both. */
TEST(S13_amdv1_ir_iw_anded_down_the_levels)
{
	struct hw h;
	const dmar_pt_format f = { .levels = 3, .kind = AMD };
	const uint64_t va = 0x0000000ab4567000ull;
	dmar_pa_t l3, l2, l1;

	hw_setup(&h);
	l3 = frame(h.pm), l2 = frame(h.pm), l1 = frame(h.pm);
	put(h.pm, l3, idx(va, 3), l2 | ARW | ANL(2));
	put(h.pm, l2, idx(va, 2), l1 | APR | AIR | ANL(1)); /* no IW */
	put(h.pm, l1, idx(va, 1), 0x3000000ull | ARW);
	HW_OK(&h, l3, &f, va + 9, AR, 0x3000009ull, 12, R | X | U);
	HW_FAULT(&h, l3, &f, va + 9, AW, DMAR_FAULT_WRITE, -1);
	put(h.pm, l2, idx(va, 2), l1 | APR | AIW | ANL(1)); /* no IR */
	HW_OK(&h, l3, &f, va + 9, AW, 0x3000009ull, 12, W | U);
	HW_FAULT(&h, l3, &f, va + 9, AR, DMAR_FAULT_READ, -1);
	put(h.pm, l2, idx(va, 2), l1 | ARW | ANL(1));
	put(h.pm, l3, idx(va, 3), l2 | APR | AIR | ANL(2)); /* the root's entry too */
	HW_FAULT(&h, l3, &f, va + 9, AW, DMAR_FAULT_WRITE, -1);
	HW_OK(&h, l3, &f, va + 9, AR, 0x3000009ull, 12, R | X | U);
	put(h.pm, l3, idx(va, 3), l2 | ARW | ANL(2));
	HW_OK(&h, l3, &f, va + 9, AR | AW | AX | AU, 0x3000009ull, 12, R | W | X | U);
	/* through a warm page-walk cache: a sibling page under the same tables */
	{
		dmar_space *sp;

		put(h.pm, l1, idx(va, 1) ^ 1, 0x3001000ull | ARW);
		REQUIRE(dmar_space_create(h.tlb, h.pm, l3, &f, &sp) == DMAR_OK);
		put(h.pm, l2, idx(va, 2), l1 | APR | AIR | ANL(1)); /* no IW */
		dmar_space_invalidate(sp);
		SP_OK(sp, &f, va, AR, 0x3000000ull, 12, R | X | U);
		SP_FAULT(sp, &f, va ^ K4, AW, DMAR_FAULT_WRITE);
		SP_OK(sp, &f, va ^ K4, AR, 0x3001000ull, 12, R | X | U);
		SP_FAULT(sp, &f, va, AW, DMAR_FAULT_WRITE);
		put(h.pm, l2, idx(va, 2), l1 | APR | AIW | ANL(1)); /* no IR */
		dmar_space_invalidate(sp);
		SP_OK(sp, &f, va, AW, 0x3000000ull, 12, W | U);
		SP_FAULT(sp, &f, va ^ K4, AR, DMAR_FAULT_READ);
		SP_OK(sp, &f, va ^ K4, AW, 0x3001000ull, 12, W | U);
		SP_FAULT(sp, &f, va, AR, DMAR_FAULT_READ);
		put(h.pm, l2, idx(va, 2), l1 | ARW | ANL(1));
		dmar_space_destroy(sp);
	}
	/* a leaf with neither */
	put(h.pm, l1, idx(va, 1), 0x3000000ull | APR);
	HW_FAULT(&h, l3, &f, va, AR, DMAR_FAULT_READ, 1);
	HW_FAULT(&h, l3, &f, va, AW, DMAR_FAULT_WRITE, 1);
	/* PR = 0 with everything else set */
	put(h.pm, l1, idx(va, 1), 0x3000000ull | AIR | AIW);
	HW_FAULT(&h, l3, &f, va, AR, DMAR_FAULT_NOT_PRESENT, 1);
	put(h.pm, l2, idx(va, 2), l1 | AIR | AIW | ANL(1));
	HW_FAULT(&h, l3, &f, va, AR, DMAR_FAULT_NOT_PRESENT, 2);
	hw_teardown(&h);
}

/* AMD-Vi: a next level at or above the entry's own level is reserved (levels only go down);
 * next level 0 and 7 are leaves.  Address bits at or above pa_bits are reserved. */
TEST(S13_amdv1_next_level_at_or_above_own_level_is_reserved)
{
	struct hw h;
	const dmar_pt_format f = { .levels = 4, .kind = AMD };
	const dmar_pt_format f40 = { .levels = 4, .kind = AMD, .pa_bits = 40 };
	const uint64_t va = 0x0000456789abc000ull;
	dmar_pa_t t[5];

	hw_setup(&h);
	for (int l = 4; l >= 1; l--)
		t[l] = frame(h.pm);
	for (int l = 4; l >= 2; l--)
		put(h.pm, t[l], idx(va, (unsigned)l), t[l - 1] | ARW | ANL(l - 1));
	put(h.pm, t[1], idx(va, 1), 0x3000000ull | ARW);
	HW_OK(&h, t[4], &f, va, AR, 0x3000000ull, 12, R | W | X | U);
	for (unsigned l = 1; l <= 4; l++) {
		const uint64_t keep = get(h.pm, t[l], idx(va, l));

		for (unsigned nl = l; nl <= 6; nl++) {
			put(h.pm, t[l], idx(va, l), (keep & ~DMAR_AMDV1_NL_MASK) | ANL(nl));
			HW_FAULT(&h, t[4], &f, va, AR, DMAR_FAULT_RESERVED, (int)l);
		}
		put(h.pm, t[l], idx(va, l), keep);
	}
	HW_OK(&h, t[4], &f, va + 1, AR, 0x3000001ull, 12, R | W | X | U);
	/* address bits at or above pa_bits */
	put(h.pm, t[1], idx(va, 1), (1ull << 44) | ARW);
	HW_FAULT(&h, t[4], &f40, va, AR, DMAR_FAULT_RESERVED, 1);
	HW_OK(&h, t[4], &f, va, AR, 1ull << 44, 12, R | W | X | U);
	put(h.pm, t[3], idx(va, 3), t[2] | (1ull << 41) | ARW | ANL(2));
	HW_FAULT(&h, t[4], &f40, va, AR, DMAR_FAULT_RESERVED, 3);
	hw_teardown(&h);
}

/* AMD-Vi: a 6-level table takes all 64 bits: the root's index is bits 57-63. */
TEST(S13_amdv1_six_levels_reach_the_top_of_2_to_64)
{
	struct hw h;
	const dmar_pt_format f6 = { .levels = 6, .kind = AMD };
	const dmar_pt_format f5 = { .levels = 5, .kind = AMD };
	const uint64_t va = 0xfffffffffffff000ull;
	dmar_pa_t t[7];

	hw_setup(&h);
	for (int l = 6; l >= 1; l--)
		t[l] = frame(h.pm);
	CHECK_EQ(idx(va, 6), 127);
	for (int l = 6; l >= 2; l--)
		put(h.pm, t[l], idx(va, (unsigned)l), t[l - 1] | ARW | ANL(l - 1));
	put(h.pm, t[1], idx(va, 1), 0x3ff0000ull | ARW);
	/* (above the 2^57 addresses an I/O virtual address space's IOTLB entries hold: walked
	 * every time, cache.h) */
	HW_OK_ANY_HIT(&h, t[6], &f6, va + 0xfff, AW, 0x3ff0fffull, 12, R | W | X | U);
	HW_OK_ANY_HIT(&h, t[6], &f6, va + 0x123, AR, 0x3ff0123ull, 12, R | W | X | U);
	HW_FAULT(&h, t[6], &f6, va - K4, AR, DMAR_FAULT_NOT_PRESENT, 1);
	HW_FAULT(&h, t[6], &f6, va - (1ull << 57), AR, DMAR_FAULT_NOT_PRESENT, 6);
	{
		/* root slot 126 to a level-5 leaf of 2^48 (next level 0) */
		const uint64_t vc = 0xfc00000000000000ull;

		put(h.pm, t[6], idx(vc, 6), t[5] | ARW | ANL(5));
		put(h.pm, t[5], idx(vc, 5), (1ull << 48) | ARW);
		HW_OK_ANY_HIT(&h, t[6], &f6, vc + 0x123456789abull, AR,
			      (1ull << 48) + 0x123456789abull, 48, R | W | X | U);
	}
	/* a 5-level table takes 57 bits */
	HW_FAULT(&h, t[5], &f5, 1ull << 57, AR, DMAR_FAULT_ADDR_WIDTH, -1);
	hw_teardown(&h);
}

/* AMD-Vi: leaves only at levels 1 to 5; a level-6 entry with next level 0 or 7 is refused. */
TEST(S13_amdv1_no_leaf_at_level_6)
{
	struct hw h;
	const dmar_pt_format f6 = { .levels = 6, .kind = AMD };
	dmar_pa_t root;
	dmar_walk_result r;

	hw_setup(&h);
	root = frame(h.pm);
	put(h.pm, root, 1, ARW); /* next level 0 at level 6 */
	put(h.pm, root, 2, ((1ull << 51) - K4) | ARW | ANL(7));
	for (int i = 1; i <= 2; i++) {
		CHECK_ST(dmar_walk(h.pm, root, &f6, (uint64_t)i << 57, AR, &r), DMAR_E_FAULT);
		if (r.fault != DMAR_FAULT_RESERVED)
			printf("#   level-6 leaf %d: fault %s (reserved expected)\n", i,
			       dmar_fault_str(r.fault));
		CHECK_EQ(r.fault, DMAR_FAULT_RESERVED);
	}
	hw_teardown(&h);
}

/* iotlb.h, dmar_space_invalidate_range: invalidating any one 4 KiB page of a changed large
 * leaf drops every cached translation of that leaf, whichever page it was cached for (as
 * AMD-Vi invalidation drops a large entry that meets the range) - for the sizes only AMD-Vi
 * has too (8 KiB to 2^51), at the edges of each size class the IOTLB may keep. */
TEST(S28_invalidating_one_page_drops_a_whole_amdv1_leaf_of_any_size)
{
	static const unsigned lg2s[] = { 13, 15, 20, 21, 22, 29, 30, 39, 40, 48, 49, 51 };
	const dmar_pt_format f = { .levels = 5, .kind = AMD };

	for (size_t i = 0; i < sizeof(lg2s) / sizeof(lg2s[0]); i++) {
		const unsigned lg2 = lg2s[i];
		const uint64_t S = 1ull << lg2, frames = (1ull << 52) >> lg2;
		const uint64_t iova = (lg2 < 39 ? 3 * (1ull << 39) : 0) + 5 * S;
		const dmar_pa_t pa1 = (frames > 9 ? 7 : frames - 1) * S, pa2 = (frames > 9 ? 9 : 0) * S;
		/* a few pages cached from the leaf (a power-of-two stride would put them all in
		 * one set, and the last one invalidated is none of them) */
		const uint64_t offs[3] = { 0, (S / 3) & ~(K4 - 1), (S / 2 + 3 * K4) & (S - 1) };
		dmar_physmem *pm = test_physmem(0);
		dmar_pgtable_config pc;
		dmar_pgtable *pt;
		dmar_iotlb *tlb;
		dmar_space *sp;
		uint64_t n = 0;

		dmar_pgtable_config_default(&pc);
		pc.format = f;
		pc.pgsizes = dmar_pt_page_sizes(&f);
		REQUIRE(dmar_pgtable_create(pm, &pc, &pt) == DMAR_OK);
		REQUIRE(dmar_iotlb_create(&(dmar_iotlb_config){ .sets = 1024, .ways = 8,
								.pwc_sets = 16 },
					  &tlb) == DMAR_OK);
		REQUIRE(dmar_space_create(tlb, pm, dmar_pgtable_root(pt), &f, &sp) == DMAR_OK);
		/* no flush hook: this test invalidates by hand, one page */
		CHECK_ST(dmar_pgtable_map(pt, iova, pa1, S, R | W), DMAR_OK);
		for (int pass = 0; pass < 2; pass++)
			for (int k = 0; k < 3; k++) {
				dmar_result res;

				SP_OK(sp, &f, iova + offs[k], AR, pa1 + offs[k], (int)lg2, R | W | X | U);
				CHECK_ST(dmar_translate(sp, iova + offs[k] + 8, AR, &res), DMAR_OK);
				CHECK_EQ(res.flags & DMAR_RESULT_HIT, DMAR_RESULT_HIT); /* cached */
			}
		CHECK_ST(dmar_pgtable_unmap(pt, iova, S, &n), DMAR_OK);
		CHECK_EQ(n, S);
		CHECK_ST(dmar_pgtable_map(pt, iova, pa2, S, R), DMAR_OK);
		CHECK_ST(dmar_space_invalidate_range(sp, iova + S - K4, K4), DMAR_OK);
		for (int k = 0; k < 3; k++) {
			SP_OK(sp, &f, iova + offs[k], AR, pa2 + offs[k], (int)lg2, R | X | U);
			SP_FAULT(sp, &f, iova + offs[k], AW, DMAR_FAULT_WRITE);
		}
		dmar_space_destroy(sp);
		CHECK_ST(dmar_iotlb_destroy(tlb), DMAR_OK);
		dmar_pgtable_destroy(pt);
		dmar_physmem_destroy(pm);
	}
}

/* A 6-level AMD-Vi table takes every 64-bit address.  The IOTLB's entries hold the 2^57
 * addresses from 0 of an I/O virtual address space (iotlb/cache.h: its tags hold 45 bits of
 * page number), [2^56, 2^57) included, so the same request again is a hit there; above,
 * every address still translates right, and is walked every time.  No address above aliases
 * one below (an entry filled for one is never the answer to the other). */
TEST(S28_amdv1_addresses_of_every_width_are_cached_in_their_window_and_never_alias)
{
	struct hw h;
	const dmar_pt_format f6 = { .levels = 6, .kind = AMD };
	static const uint64_t vas[] = { 0x0100000000000000ull, 0x7fff000000001000ull,
					0x8000000000000000ull, 0xfc00000000000000ull,
					0xfe00000000000000ull, 0xff00000000000000ull };
	dmar_pa_t root = 0;
	dmar_pgtable_config pc;
	dmar_pgtable *pt;

	hw_setup(&h);
	dmar_pgtable_config_default(&pc);
	pc.format = f6;
	pc.pgsizes = dmar_pt_page_sizes(&f6);
	REQUIRE(dmar_pgtable_create(h.pm, &pc, &pt) == DMAR_OK);
	root = dmar_pgtable_root(pt);
	for (size_t i = 0; i < sizeof(vas) / sizeof(vas[0]); i++) {
		CHECK_ST(dmar_pgtable_map(pt, vas[i], 0x100000ull * (i + 1), K4, R | W), DMAR_OK);
		if (vas[i] < (1ull << 57))
			HW_OK(&h, root, &f6, vas[i] + 0x10, AR, 0x100000ull * (i + 1) + 0x10, 12,
			      R | W | X | U);
		else
			HW_OK_ANY_HIT(&h, root, &f6, vas[i] + 0x10, AR,
				      0x100000ull * (i + 1) + 0x10, 12, R | W | X | U);
	}
	/* each address above 2^57 again, after the one below with the same bits 12-56 was
	 * cached: its own page, never the other's */
	for (size_t i = 0; i < sizeof(vas) / sizeof(vas[0]); i++) {
		const uint64_t low = vas[i] & ((1ull << 57) - 1);
		dmar_walk_result lw;

		if (vas[i] < (1ull << 57))
			continue;
		if (dmar_pgtable_walk(pt, low, AR, &lw) != DMAR_OK) /* (else mapped above) */
			CHECK_ST(dmar_pgtable_map(pt, low, 0x4000000ull + 0x1000 * i, K4, R), DMAR_OK);
		CHECK_ST(dmar_pgtable_walk(pt, low + 0x10, AR, &lw), DMAR_OK);
		HW_OK_ANY_HIT(&h, root, &f6, low + 0x10, AR, lw.pa, 12, lw.prot);
		HW_OK_ANY_HIT(&h, root, &f6, vas[i] + 0x10, AR, 0x100000ull * (i + 1) + 0x10, 12,
			      R | W | X | U);
	}
	CHECK_ST(dmar_pgtable_map(pt, 0xfc00000000000000ull + (1ull << 48), 1ull << 48, 1ull << 48,
				  R),
		 DMAR_OK);
	HW_OK_ANY_HIT(&h, root, &f6, 0xfc00000000000000ull + (1ull << 48) + 0x12345, AR,
		      (1ull << 48) + 0x12345, 48, R | X | U);
	dmar_pgtable_destroy(pt);
	hw_teardown(&h);
}

/* ======================================================================================
 * 3. Accessed and dirty bits.
 * ====================================================================================== */

struct adfmt {
	dmar_pt_format f;
	uint64_t a, d;
};

static const struct adfmt adfmts[] = {
	{ { .levels = 4, .flags = DMAR_PT_AD }, DMAR_PTE_A, DMAR_PTE_D },
	{ { .levels = 4, .kind = VTD, .flags = DMAR_PT_AD }, DMAR_VTD_SS_A, DMAR_VTD_SS_D },
	{ { .levels = 4, .kind = AMD, .flags = DMAR_PT_AD }, DMAR_AMDV1_A, DMAR_AMDV1_D },
};

/* A table entry and a 4 KiB leaf granting everything, in format @kind at @level. */
static uint64_t ent_table(unsigned kind, unsigned level, dmar_pa_t next)
{
	return kind == X86 ? next | XP | XRW | XUS
	       : kind == VTD ? next | VR | VW
			     : next | ARW | ANL(level - 1);
}

static uint64_t ent_leaf(unsigned kind, dmar_pa_t pa, unsigned prot)
{
	if (kind == X86)
		return pa | XP | XUS | (prot & W ? XRW : 0);
	if (kind == VTD)
		return pa | (prot & R ? VR : 0) | (prot & W ? VW : 0);
	return pa | APR | (prot & R ? AIR : 0) | (prot & W ? AIW : 0);
}

/* A 4-level chain for va in @kind, t[4] the root; a sibling entry in every table. */
static void ad_chain(dmar_physmem *pm, unsigned kind, uint64_t va, dmar_pa_t t[5],
		     dmar_pa_t leaf_pa, unsigned prot)
{
	for (int l = 4; l >= 1; l--)
		t[l] = frame(pm);
	for (unsigned l = 4; l >= 2; l--) {
		put(pm, t[l], idx(va, l), ent_table(kind, l, t[l - 1]));
		put(pm, t[l], idx(va, l) ^ 1, ent_table(kind, l, t[l - 1]));
	}
	put(pm, t[1], idx(va, 1), ent_leaf(kind, leaf_pa, prot));
	put(pm, t[1], idx(va, 1) ^ 1, ent_leaf(kind, leaf_pa + K4, prot));
}

/* Whether every entry on va's path has A, the leaf D iff @dirty, no table entry D, and
 * every sibling entry is untouched (A and D clear). */
static void check_ad_(int line, dmar_physmem *pm, const struct adfmt *a, const dmar_pa_t t[5],
		      uint64_t va, int accessed, int dirty)
{
	for (unsigned l = 4; l >= 1; l--) {
		const uint64_t e = get(pm, t[l], idx(va, l)), s = get(pm, t[l], idx(va, l) ^ 1);
		const int want_d = l == 1 && dirty;

		if (!!(e & a->a) != accessed || !!(e & a->d) != want_d || (s & (a->a | a->d))) {
			printf("#   line %d: %s level %u: entry %#" PRIx64 " (A %d D %d, want A %d"
			       " D %d), sibling %#" PRIx64 "\n",
			       line, fmt_name(&a->f), l, e, !!(e & a->a), !!(e & a->d), accessed,
			       want_d, s);
			check_failed_ = 1;
		}
	}
}
#define CHECK_AD(pm, a, t, va, acc, dirty) check_ad_(__LINE__, pm, a, t, va, acc, dirty)

/* DMAR_PT_AD: a walk sets A on every entry it reads and D on the leaf of a write only (x86
 * A 5 D 6, VT-d A 8 D 9, AMD-Vi A 5 D 6); a refused write sets no D. */
TEST(S13_walks_set_accessed_and_dirty_bits_per_format)
{
	for (size_t i = 0; i < sizeof(adfmts) / sizeof(adfmts[0]); i++) {
		const struct adfmt *a = &adfmts[i];
		const unsigned kind = a->f.kind;
		const uint64_t va = 0x00001234deadb000ull;
		dmar_physmem *pm = test_physmem(0);
		dmar_walk_result r;
		dmar_pa_t t[5];

		ad_chain(pm, kind, va, t, 0x3000000ull, R | W);
		CHECK_AD(pm, a, t, va, 0, 0);
		CHECK_ST(dmar_walk(pm, t[4], &a->f, va + 8, AR, &r), DMAR_OK);
		CHECK_EQ(r.pa, 0x3000008ull);
		CHECK_AD(pm, a, t, va, 1, 0);
		CHECK_ST(dmar_walk(pm, t[4], &a->f, va + 8, AR, &r), DMAR_OK);
		CHECK_AD(pm, a, t, va, 1, 0);
		CHECK_ST(dmar_walk(pm, t[4], &a->f, va + 8, AW, &r), DMAR_OK);
		CHECK_AD(pm, a, t, va, 1, 1);
		/* the bits in the leaf the walk reports */
		CHECK(r.pte & a->a);
		CHECK(r.pte & a->d);
		dmar_physmem_destroy(pm);

		/* a write first sets both at once */
		pm = test_physmem(0);
		ad_chain(pm, kind, va, t, 0x3000000ull, R | W);
		CHECK_ST(dmar_walk(pm, t[4], &a->f, va, AW, &r), DMAR_OK);
		CHECK_AD(pm, a, t, va, 1, 1);
		dmar_physmem_destroy(pm);

		/* a refused write (read-only leaf) sets no D */
		pm = test_physmem(0);
		ad_chain(pm, kind, va, t, 0x3000000ull, R);
		CHECK_ST(dmar_walk(pm, t[4], &a->f, va, AW, &r), DMAR_E_FAULT);
		CHECK_EQ(r.fault, DMAR_FAULT_WRITE);
		CHECK_EQ(get(pm, t[1], idx(va, 1)) & a->d, 0);
		dmar_physmem_destroy(pm);

		/* a 2 MiB leaf: three entries read, D on the level-2 leaf */
		pm = test_physmem(0);
		ad_chain(pm, kind, va, t, 0x3000000ull, R | W);
		{
			const uint64_t big = kind == X86 ? (4ull << 21) | XP | XRW | XUS | XPS
					     : kind == VTD ? (4ull << 21) | VR | VW | VPS
							   : (4ull << 21) | ARW;
			const unsigned i2 = idx(va, 2) ^ 2;
			const uint64_t vbig = (va & ~(G1 - 1)) | ((uint64_t)i2 << 21);

			put(pm, t[2], i2, big);
			CHECK_ST(dmar_walk(pm, t[4], &a->f, vbig + 0x1234, AR, &r), DMAR_OK);
			CHECK_EQ(r.pa, (4ull << 21) + 0x1234);
			CHECK_EQ(r.page_lg2, 21);
			CHECK(get(pm, t[2], i2) & a->a);
			CHECK_EQ(get(pm, t[2], i2) & a->d, 0);
			CHECK(get(pm, t[3], idx(va, 3)) & a->a);
			CHECK(get(pm, t[4], idx(va, 4)) & a->a);
			CHECK_EQ(get(pm, t[2], idx(va, 2)) & a->a, 0); /* not read */
			CHECK_ST(dmar_walk(pm, t[4], &a->f, vbig, AW, &r), DMAR_OK);
			CHECK(get(pm, t[2], i2) & a->d);
			CHECK_EQ(get(pm, t[3], idx(va, 3)) & a->d, 0);
		}
		dmar_physmem_destroy(pm);
	}
}

/* Without DMAR_PT_AD a walk never writes an entry. */
TEST(S13_without_the_ad_flag_entries_are_never_written)
{
	for (size_t i = 0; i < sizeof(adfmts) / sizeof(adfmts[0]); i++) {
		dmar_pt_format f = adfmts[i].f;
		const uint64_t va = 0x00001234deadb000ull;
		dmar_physmem *pm = test_physmem(0);
		static uint8_t before[4][4096], after[4][4096];
		dmar_walk_result r;
		dmar_iotlb *tlb;
		dmar_space *sp;
		dmar_result res;
		dmar_pa_t t[5];

		f.flags &= ~DMAR_PT_AD;
		ad_chain(pm, f.kind, va, t, 0x3000000ull, R | W);
		for (int l = 1; l <= 4; l++)
			dmar_physmem_read(pm, t[l], before[l - 1], 4096);
		CHECK_ST(dmar_walk(pm, t[4], &f, va, AR, &r), DMAR_OK);
		CHECK_ST(dmar_walk(pm, t[4], &f, va, AW, &r), DMAR_OK);
		CHECK_ST(dmar_walk(pm, t[4], &f, va ^ K4, AW | AR, &r), DMAR_OK);
		CHECK_ST(dmar_walk(pm, t[4], &f, va + 2 * K4, AW, &r), DMAR_E_FAULT);
		REQUIRE(dmar_iotlb_create(&(dmar_iotlb_config){ .sets = 64, .ways = 4,
								.pwc_sets = 16 },
					  &tlb) == DMAR_OK);
		REQUIRE(dmar_space_create(tlb, pm, t[4], &f, &sp) == DMAR_OK);
		CHECK_ST(dmar_translate(sp, va, AR, &res), DMAR_OK);
		CHECK_ST(dmar_translate(sp, va, AW, &res), DMAR_OK);
		for (int l = 1; l <= 4; l++) {
			dmar_physmem_read(pm, t[l], after[l - 1], 4096);
			CHECK(memcmp(before[l - 1], after[l - 1], 4096) == 0);
		}
		dmar_space_destroy(sp);
		CHECK_ST(dmar_iotlb_destroy(tlb), DMAR_OK);
		dmar_physmem_destroy(pm);
	}
}

/* A table in read-only memory (DMAR_RAM_READONLY): with DMAR_PT_AD a walk that must set a
 * bit faults DMAR_FAULT_AD; one that finds the bits set already, or runs without the flag,
 * translates.  Through an IOTLB, a read cached from a leaf whose D is clear does not let a
 * write pass. */
TEST(S13_ad_in_read_only_memory_faults_ad)
{
	static uint64_t rom[4][512] __attribute__((aligned(4096)));
	const dmar_pa_t rbase = 1ull << 32;
	const uint64_t va = 0x00001234deadb000ull;

	for (size_t i = 0; i < sizeof(adfmts) / sizeof(adfmts[0]); i++) {
		const struct adfmt *a = &adfmts[i];
		const unsigned kind = a->f.kind;
		dmar_pt_format noad = a->f;

		noad.flags &= ~DMAR_PT_AD;
		/* 0: A clear everywhere; 1: A set, leaf D clear; 2: A and D set */
		for (int state = 0; state < 3; state++) {
			const dmar_ram_range rr[] = {
				{ .base = 0, .size = 64ull << 20 },
				{ .base = rbase, .size = sizeof(rom), .kind = DMAR_RAM_BUFFER,
				  .flags = DMAR_RAM_READONLY, .host = rom },
			};
			const dmar_physmem_config pc = { .ranges = rr, .nranges = 2 };
			dmar_physmem *pm;
			dmar_walk_result r;
			dmar_iotlb *tlb;
			dmar_space *sp;
			dmar_result res;
			const uint64_t abit = state >= 1 ? a->a : 0, dbit = state == 2 ? a->d : 0;

			memset(rom, 0, sizeof(rom));
			/* rom[0] level 4 .. rom[3] level 1 */
			for (unsigned l = 4; l >= 2; l--)
				rom[4 - l][idx(va, l)] =
					ent_table(kind, l, rbase + (5 - l) * K4) | abit;
			rom[3][idx(va, 1)] = ent_leaf(kind, 0x3000000ull, R | W) | abit | dbit;
			REQUIRE(dmar_physmem_create(&pc, &pm) == DMAR_OK);

			CHECK_ST(dmar_walk(pm, rbase, &noad, va, AW, &r), DMAR_OK);
			CHECK_ST(dmar_walk(pm, rbase, &a->f, va + 4, AR, &r),
				 state == 0 ? DMAR_E_FAULT : DMAR_OK);
			CHECK_EQ(r.fault, state == 0 ? DMAR_FAULT_AD : DMAR_FAULT_NONE);
			CHECK_EQ(r.pa, state == 0 ? 0 : 0x3000004ull);
			CHECK_ST(dmar_walk(pm, rbase, &a->f, va + 4, AW, &r),
				 state < 2 ? DMAR_E_FAULT : DMAR_OK);
			CHECK_EQ(r.fault, state < 2 ? DMAR_FAULT_AD : DMAR_FAULT_NONE);
			CHECK_EQ(r.pa, state < 2 ? 0 : 0x3000004ull);

			/* through an IOTLB: read (cached), read (hit), write (must walk) */
			REQUIRE(dmar_iotlb_create(&(dmar_iotlb_config){ .sets = 64, .ways = 4,
									.pwc_sets = 16 },
						  &tlb) == DMAR_OK);
			REQUIRE(dmar_space_create(tlb, pm, rbase, &a->f, &sp) == DMAR_OK);
			if (state >= 1) {
				CHECK_ST(dmar_translate(sp, va, AR, &res), DMAR_OK);
				CHECK_ST(dmar_translate(sp, va, AR, &res), DMAR_OK);
				CHECK_EQ(res.flags & DMAR_RESULT_HIT, DMAR_RESULT_HIT);
				CHECK_ST(dmar_translate(sp, va + 8, AW, &res),
					 state == 1 ? DMAR_E_FAULT : DMAR_OK);
				CHECK_EQ(res.fault, state == 1 ? DMAR_FAULT_AD : DMAR_FAULT_NONE);
				CHECK_ST(dmar_translate(sp, va + 8, AW, &res),
					 state == 1 ? DMAR_E_FAULT : DMAR_OK);
				CHECK_EQ(res.fault, state == 1 ? DMAR_FAULT_AD : DMAR_FAULT_NONE);
			} else {
				CHECK_ST(dmar_translate(sp, va, AR, &res), DMAR_E_FAULT);
				CHECK_EQ(res.fault, DMAR_FAULT_AD);
			}
			dmar_space_destroy(sp);
			CHECK_ST(dmar_iotlb_destroy(tlb), DMAR_OK);
			dmar_physmem_destroy(pm);
		}
	}
}

/* Through an IOTLB with DMAR_PT_AD: a read fills the cache (A set, D clear); a write to the
 * same page must walk again and set D (the cached read must not let it skip the walk); a
 * second write is a hit.  The same in one batch, and singles after a batch. */
TEST(S28_cached_read_does_not_let_a_write_skip_the_dirty_bit)
{
	for (size_t i = 0; i < sizeof(adfmts) / sizeof(adfmts[0]); i++) {
		const struct adfmt *a = &adfmts[i];
		const uint64_t va = 0x00001234deadb000ull;
		for (int l0 = DMAR_L0_ADAPTIVE; l0 <= DMAR_L0_OFF; l0++) {
			dmar_physmem *pm = test_physmem(0);
			dmar_iotlb_config c;
			dmar_iotlb *tlb;
			dmar_space *sp;
			dmar_result res, b[4];
			dmar_request req[4];
			dmar_pa_t t[5];

			dmar_iotlb_config_default(&c);
			c.sets = 64;
			c.l0 = (dmar_l0_mode)l0;
			ad_chain(pm, a->f.kind, va, t, 0x3000000ull, R | W);
			REQUIRE(dmar_iotlb_create(&c, &tlb) == DMAR_OK);
			REQUIRE(dmar_space_create(tlb, pm, t[4], &a->f, &sp) == DMAR_OK);
			CHECK_ST(dmar_translate(sp, va + 1, AR, &res), DMAR_OK);
			CHECK_EQ(res.flags & DMAR_RESULT_HIT, 0);
			CHECK_AD(pm, a, t, va, 1, 0);
			CHECK_ST(dmar_translate(sp, va + 2, AR, &res), DMAR_OK);
			CHECK_EQ(res.flags & DMAR_RESULT_HIT, DMAR_RESULT_HIT);
			CHECK_ST(dmar_translate(sp, va + 3, AW, &res), DMAR_OK);
			CHECK_EQ(res.pa, 0x3000003ull);
			CHECK_EQ(res.flags & DMAR_RESULT_HIT, 0);
			CHECK_AD(pm, a, t, va, 1, 1);
			CHECK_ST(dmar_translate(sp, va + 4, AW, &res), DMAR_OK);
			CHECK_EQ(res.flags & DMAR_RESULT_HIT, DMAR_RESULT_HIT);
			CHECK_ST(dmar_translate(sp, va + 5, AR, &res), DMAR_OK);
			CHECK_EQ(res.flags & DMAR_RESULT_HIT, DMAR_RESULT_HIT);

			/* the sibling page, in batches: read+read, then write */
			for (int k = 0; k < 4; k++) {
				req[k].iova = (va ^ K4) + (uint64_t)k;
				req[k].access = k < 2 ? AR : AW;
				req[k].pasid = DMAR_NO_PASID;
			}
			CHECK_ST(dmar_translate_batch(sp, req, b, 2, NULL), DMAR_OK);
			CHECK(get(pm, t[1], idx(va, 1) ^ 1) & a->a);
			CHECK_EQ(get(pm, t[1], idx(va, 1) ^ 1) & a->d, 0);
			CHECK_ST(dmar_translate_batch(sp, req + 2, b + 2, 1, NULL), DMAR_OK);
			CHECK_EQ(b[2].fault, DMAR_FAULT_NONE);
			CHECK_EQ(b[2].flags & DMAR_RESULT_HIT, 0);
			CHECK(get(pm, t[1], idx(va, 1) ^ 1) & a->d);
			CHECK_ST(dmar_translate_batch(sp, req + 3, b + 3, 1, NULL), DMAR_OK);
			CHECK_EQ(b[3].flags & DMAR_RESULT_HIT, DMAR_RESULT_HIT);
			dmar_space_destroy(sp);
			CHECK_ST(dmar_iotlb_destroy(tlb), DMAR_OK);

			/* one batch: read then write of a fresh page sets D */
			REQUIRE(dmar_iotlb_create(&c, &tlb) == DMAR_OK);
			REQUIRE(dmar_space_create(tlb, pm, t[4], &a->f, &sp) == DMAR_OK);
			put(pm, t[1], 7, ent_leaf(a->f.kind, 0x3007000ull, R | W));
			req[0].iova = (va & ~(M2 - 1)) + 7 * K4;
			req[0].access = AR;
			req[1].iova = req[0].iova + 8;
			req[1].access = AW;
			CHECK_ST(dmar_translate_batch(sp, req, b, 2, NULL), DMAR_OK);
			CHECK_EQ(b[1].fault, DMAR_FAULT_NONE);
			CHECK(get(pm, t[1], 7) & a->d);
			dmar_space_destroy(sp);
			CHECK_ST(dmar_iotlb_destroy(tlb), DMAR_OK);
			dmar_physmem_destroy(pm);
		}
	}
}

/* ======================================================================================
 * 4. Batch equal to single, every probe variant and L0 mode alike, per format.
 * ====================================================================================== */

static const dmar_pt_format eqfmts[] = {
	{ .levels = 4, .kind = X86, .flags = DMAR_PT_IOVA },
	{ .levels = 5, .kind = X86 },
	{ .levels = 3, .kind = VTD, .flags = DMAR_PT_1G | DMAR_PT_EXEC },
	{ .levels = 4, .kind = VTD },
	{ .levels = 5, .kind = VTD, .pa_bits = 46, .flags = DMAR_PT_1G },
	{ .levels = 2, .kind = AMD },
	{ .levels = 3, .kind = AMD, .pa_bits = 40 },
	{ .levels = 4, .kind = AMD },
	{ .levels = 6, .kind = AMD },
};

struct eqworld {
	dmar_physmem *pm;
	dmar_pgtable *pt;
	uint64_t at[512], size[512];
	int n;
	uint64_t window, last;
};

/* A random prot the format takes. */
static unsigned random_prot(const dmar_pt_format *f)
{
	unsigned p = (unsigned)next();

	if (f->kind == X86)
		return R | (p & (W | X | U | DMAR_PROT_PCD | DMAR_PROT_GLOBAL));
	p &= R | W | X | DMAR_PROT_SNOOP;
	if (!(p & (R | W)))
		p |= R;
	if (!(p & R) && !(f->kind == VTD && (f->flags & DMAR_PT_EXEC)))
		p &= ~X;
	return p;
}

static void eq_build(struct eqworld *e, const dmar_pt_format *f)
{
	dmar_pgtable_config pc;
	uint64_t sizes = dmar_pt_page_sizes(f);
	unsigned lg2s[8], nl = 0;

	e->pm = test_physmem(0);
	dmar_pgtable_config_default(&pc);
	pc.format = *f;
	pc.pgsizes = sizes;
	pc.place = DMAR_PLACE_BELOW;
	pc.place_limit = 1ull << 32;
	if (dmar_pgtable_create(e->pm, &pc, &e->pt) != DMAR_OK) {
		printf("Bail out! dmar_pgtable_create (%s)\n", fmt_name(f));
		exit(2);
	}
	dmar_pt_input_range(f, &e->last, NULL);
	e->window = e->last < (64ull << 30) ? e->last + 1 : 64ull << 30;
	for (unsigned l = 12; l <= 51 && nl < 8; l++)
		if ((sizes & (1ull << l)) && (1ull << l) <= e->window / 16 &&
		    (l == 12 || l == 13 || l == 15 || l == 21 || l == 22 || l == 30 || l == 20))
			lg2s[nl++] = l;
	e->n = 0;
	for (int i = 0; i < 400; i++) {
		const unsigned lg2 = lg2s[next() % (i % 3 ? 1 : nl)]; /* mostly 4 KiB */
		const uint64_t sz = (1ull << lg2) * (lg2 == 12 ? 1 + next() % 8 : 1);
		const uint64_t iova = next() % (e->window / sz) * sz;
		const uint64_t pa = (next() % ((1ull << (pa_bits_of(f) - 1)) >> lg2)) << lg2;

		if (iova + sz - 1 > e->last)
			continue;
		if (dmar_pgtable_map(e->pt, iova, pa, sz, random_prot(f)) == DMAR_OK && e->n < 512) {
			e->at[e->n] = iova;
			e->size[e->n++] = sz;
		}
	}
	/* the last page of the input range too */
	if (dmar_pgtable_map(e->pt, e->last - K4 + 1, 0x5000000, K4, R) == DMAR_OK && e->n < 512) {
		e->at[e->n] = e->last - K4 + 1;
		e->size[e->n++] = K4;
	}
}

static void eq_requests(struct eqworld *e, dmar_request *req, int n)
{
	for (int i = 0; i < n; i++) {
		const uint64_t r = next() % 100;
		uint64_t a;

		if (r < 4)
			a = next();
		else if (r < 8 && e->last != UINT64_MAX)
			a = e->last + 1 + next() % K4;
		else if (r < 20)
			a = next() % e->window;
		else if (r < 45 && i > 0)
			a = req[next() % (uint64_t)i].iova; /* a repeat */
		else if (e->n == 0)
			a = next() % e->window;
		else {
			const int k = (int)(next() % (uint64_t)e->n);

			a = e->at[k] + next() % (e->size[k] < 32 * K4 ? e->size[k] : 32 * K4);
		}
		req[i].iova = a;
		req[i].access = (uint32_t)(next() & DMAR_ACCESS_ALL);
		req[i].pasid = DMAR_NO_PASID;
	}
}

static int same_but_flags(const dmar_result *a, const dmar_result *b)
{
	return a->pa == b->pa && a->fault == b->fault && a->page_lg2 == b->page_lg2 &&
	       a->prot == b->prot;
}

static void print_mismatch(const char *what, const dmar_pt_format *f, const dmar_request *q,
			   const dmar_result *got, const dmar_result *want)
{
	printf("#   %s (%s) iova %#" PRIx64 " access %#x: got pa %#" PRIx64
	       " fault %u lg2 %u prot %#x flags %#x, want pa %#" PRIx64
	       " fault %u lg2 %u prot %#x flags %#x\n",
	       what, fmt_name(f), q->iova, q->access, got->pa, got->fault, got->page_lg2,
	       got->prot, got->flags, want->pa, want->fault, want->page_lg2, want->prot,
	       want->flags);
	check_failed_ = 1;
}

/* S30 per format: singles equal the table walk; a batch equals the singles but for the hit
 * flag; the whole run twice (warm). */
TEST(S30_batch_equals_single_per_format)
{
	enum { N = 1500 };
	static dmar_request req[N];
	static dmar_result single[N], batch[N];

	for (size_t fi = 0; fi < sizeof(eqfmts) / sizeof(eqfmts[0]); fi++) {
		const dmar_pt_format *f = &eqfmts[fi];
		struct eqworld e;
		dmar_iotlb *ta, *tb;
		dmar_space *sa, *sb;
		unsigned hits = 0, faults = 0, ok = 0;
		int bad = 0;

		eq_build(&e, f);
		eq_requests(&e, req, N);
		REQUIRE(dmar_iotlb_create(&(dmar_iotlb_config){ .sets = 64, .ways = 4,
								.pwc_sets = 16 },
					  &ta) == DMAR_OK);
		REQUIRE(dmar_iotlb_create(&(dmar_iotlb_config){ .sets = 64, .ways = 4,
								.pwc_sets = 16 },
					  &tb) == DMAR_OK);
		REQUIRE(dmar_space_create(ta, e.pm, dmar_pgtable_root(e.pt), dmar_pgtable_format(e.pt),
					  &sa) == DMAR_OK);
		REQUIRE(dmar_space_create(tb, e.pm, dmar_pgtable_root(e.pt), dmar_pgtable_format(e.pt),
					  &sb) == DMAR_OK);
		for (int round = 0; round < 2; round++) {
			size_t nf = 0, nf1 = 0;

			for (int i = 0; i < N && bad < 5; i++) {
				dmar_walk_result w;
				dmar_status ws = dmar_pgtable_walk(e.pt, req[i].iova, req[i].access, &w);
				dmar_status ts = dmar_translate(sa, req[i].iova, req[i].access,
								&single[i]);
				const dmar_result wr = { .pa = w.pa, .fault = (uint8_t)w.fault,
							 .page_lg2 = ws == DMAR_OK ? w.page_lg2 : 0,
							 .prot = ws == DMAR_OK ? w.prot : 0 };
				dmar_result sr = single[i];

				if (ts != DMAR_OK)
					sr.page_lg2 = 0, sr.prot = 0; /* unspecified on a fault */
				if (ts != ws || !same_but_flags(&sr, &wr)) {
					print_mismatch("dmar_translate vs walk", f, &req[i], &sr, &wr);
					bad++;
				}
				nf1 += ts != DMAR_OK;
				hits += (single[i].flags & DMAR_RESULT_HIT) != 0;
				faults += ts != DMAR_OK;
				ok += ts == DMAR_OK;
			}
			/* batches of varying sizes */
			for (int i = 0; i < N;) {
				const int want = (int)(1 + next() % 300), k = want < N - i ? want : N - i;
				size_t part = 0;

				CHECK_ST(dmar_translate_batch(sb, req + i, batch + i, (size_t)k, &part),
					 DMAR_OK);
				nf += part;
				i += k;
			}
			CHECK_EQ(nf, nf1);
			for (int i = 0; i < N && bad < 5; i++) {
				dmar_result a = batch[i], b = single[i];

				if (a.fault)
					a.page_lg2 = b.page_lg2, a.prot = b.prot;
				if (!same_but_flags(&a, &b)) {
					print_mismatch("batch vs single", f, &req[i], &batch[i],
						       &single[i]);
					bad++;
				}
			}
		}
		printf("# %s: %u translated (%u hits), %u refused\n", fmt_name(f), ok, hits, faults);
		CHECK(ok > N / 4 && faults > N / 20 && hits > N / 10);
		dmar_space_destroy(sa);
		dmar_space_destroy(sb);
		CHECK_ST(dmar_iotlb_destroy(ta), DMAR_OK);
		CHECK_ST(dmar_iotlb_destroy(tb), DMAR_OK);
		dmar_pgtable_destroy(e.pt);
		dmar_physmem_destroy(e.pm);
	}
}

/* S30 per format: one IOTLB per probe variant this CPU runs (dmar_iotlb_config.simd) and L0
 * mode (.l0), fed the same requests: with the L0 off or always on, every variant alike bit
 * for bit, flags included; across L0 modes (adaptive included, whose banks stand aside by
 * their own measure) alike but for the hit flag. */
TEST(S30_every_variant_and_l0_mode_alike_per_format)
{
	enum { N = 1024, PASSES = 3 };
	static const dmar_simd simds[] = { DMAR_SIMD_C, DMAR_SIMD_SSE42, DMAR_SIMD_AVX2 };
	static const dmar_l0_mode l0s[] = { DMAR_L0_OFF, DMAR_L0_ALWAYS, DMAR_L0_ADAPTIVE };
	static dmar_request req[N];
	static dmar_result ref[PASSES][N], refmode[PASSES][N], got[N];

	for (size_t fi = 0; fi < sizeof(eqfmts) / sizeof(eqfmts[0]); fi++) {
		const dmar_pt_format *f = &eqfmts[fi];
		struct eqworld e;
		int bad = 0, nvar = 0;

		eq_build(&e, f);
		eq_requests(&e, req, N);
		for (size_t m = 0; m < 3; m++) {
			for (size_t s = 0; s < 3; s++) {
				dmar_iotlb_config c;
				dmar_iotlb *tlb;
				dmar_space *sp;
				dmar_status st;
				const int first = s == 0;

				dmar_iotlb_config_default(&c);
				c.sets = 128;
				c.simd = simds[s];
				c.l0 = l0s[m];
				st = dmar_iotlb_create(&c, &tlb);
				if (st == DMAR_E_NOT_SUPPORTED)
					continue;
				REQUIRE(st == DMAR_OK);
				nvar++;
				REQUIRE(dmar_space_create(tlb, e.pm, dmar_pgtable_root(e.pt),
							  dmar_pgtable_format(e.pt), &sp) == DMAR_OK);
				for (int p = 0; p < PASSES; p++) {
					dmar_result *out = first ? refmode[p] : got;

					if (p == 1) /* the middle pass one at a time */
						for (int i = 0; i < N; i++)
							(void)dmar_translate(sp, req[i].iova, req[i].access,
									     &out[i]);
					else
						CHECK_ST(dmar_translate_batch(sp, req, out, N, NULL),
							 DMAR_OK);
					if (m == 0 && first)
						memcpy(ref[p], out, sizeof(ref[p]));
					for (int i = 0; i < N && bad < 5; i++) {
						if (!first && l0s[m] != DMAR_L0_ADAPTIVE &&
						    memcmp(&out[i], &refmode[p][i], sizeof(out[i])) != 0) {
							print_mismatch(dmar_iotlb_variant(tlb), f, &req[i],
								       &out[i], &refmode[p][i]);
							bad++;
						}
						if (!same_but_flags(&out[i], &ref[p][i])) {
							print_mismatch("across L0 modes", f, &req[i],
								       &out[i], &ref[p][i]);
							bad++;
						}
					}
				}
				dmar_space_destroy(sp);
				CHECK_ST(dmar_iotlb_destroy(tlb), DMAR_OK);
			}
		}
		CHECK(nvar >= 3); /* the scalar variant in every mode at least */
		dmar_pgtable_destroy(e.pt);
		dmar_physmem_destroy(e.pm);
	}
}

/* ======================================================================================
 * 5. Devices of domains in the IOMMU formats.
 * ====================================================================================== */

/* A domain whose table is VT-d second stage or AMD-Vi v1, a device attached: its requests
 * (one at a time and in batches) get what the table walk gives; its input range is the
 * format's. */
/* S7, S28: an address beyond a 57-bit I/O virtual address table's width faults whatever its
 * IOTLB holds: after the page at 2^56 (bits 12-56 equal to those of 0xff00000000000000) is
 * cached, 0xff00000000000000 and 0xfe00000000000000 | 2^56 still fault DMAR_FAULT_ADDR_WIDTH,
 * singly and in a batch, for every format with a 57-bit input. */
TEST(S7_S28_beyond_a_57_bit_table_nothing_hits_what_an_address_inside_cached)
{
	static const dmar_pt_format fmts[] = {
		{ .levels = 5, .flags = DMAR_PT_IOVA },
		{ .levels = 5, .kind = DMAR_PT_VTD_SS },
		{ .levels = 5, .kind = DMAR_PT_AMDV1 },
	};
	static const uint64_t beyond[] = { 0xff00000000000000ull, 0xfe00000000000000ull | (1ull << 56),
					   0x8100000000000000ull };

	for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		dmar_pgtable_config pc;
		dmar_pgtable *pt;
		dmar_space *sp;
		dmar_result r, rb[4];
		dmar_request q[4];
		size_t nf;
		struct hw h;

		hw_setup(&h);
		dmar_pgtable_config_default(&pc);
		pc.format = fmts[i];
		REQUIRE(dmar_pgtable_create(h.pm, &pc, &pt) == DMAR_OK);
		CHECK_ST(dmar_pgtable_map(pt, 1ull << 56, 0x200000, K4, R | W), DMAR_OK);
		REQUIRE(dmar_space_create(h.tlb, h.pm, dmar_pgtable_root(pt), dmar_pgtable_format(pt),
					  &sp) == DMAR_OK);
		for (int k = 0; k < 2; k++) {
			CHECK_ST(dmar_translate(sp, (1ull << 56) + 0x10, AR, &r), DMAR_OK);
			CHECK_EQ(r.pa, 0x200010);
		}
		CHECK(r.flags & DMAR_RESULT_HIT); /* cached */
		for (size_t k = 0; k < sizeof(beyond) / sizeof(beyond[0]); k++) {
			CHECK_ST(dmar_translate(sp, beyond[k] + 0x10, AR, &r), DMAR_E_FAULT);
			CHECK_EQ(r.fault, DMAR_FAULT_ADDR_WIDTH);
			q[k] = (dmar_request){ .iova = beyond[k] + 0x10, .access = AR,
					       .pasid = DMAR_NO_PASID };
		}
		q[3] = (dmar_request){ .iova = (1ull << 56) + 0x20, .access = AR, .pasid = DMAR_NO_PASID };
		CHECK_ST(dmar_translate_batch(sp, q, rb, 4, &nf), DMAR_OK);
		CHECK_EQ(nf, 3);
		for (int k = 0; k < 3; k++)
			CHECK_EQ(rb[k].fault, DMAR_FAULT_ADDR_WIDTH);
		CHECK_EQ(rb[3].pa, 0x200020);
		dmar_space_destroy(sp);
		dmar_pgtable_destroy(pt);
		hw_teardown(&h);
	}
}

TEST(S13_devices_translate_through_vtd_and_amdv1_domains)
{
	static const dmar_pt_format fmts[] = {
		{ .levels = 4, .kind = VTD, .flags = DMAR_PT_1G | DMAR_PT_EXEC },
		{ .levels = 3, .kind = VTD },
		{ .levels = 3, .kind = AMD },
		{ .levels = 6, .kind = AMD, .pa_bits = 44 },
	};
	enum { N = 800 };
	static dmar_request req[N];
	static dmar_result one[N], many[N];

	for (size_t fi = 0; fi < sizeof(fmts) / sizeof(fmts[0]); fi++) {
		const dmar_pt_format *f = &fmts[fi];
		dmar_physmem *pm = test_physmem(0);
		dmar_iommu *mmu = test_iommu(pm, 64);
		dmar_pgtable_config pc;
		dmar_domain *dom;
		dmar_device *dev;
		dmar_pgtable *pt;
		dmar_iova_t last, plast;
		struct eqworld e;
		size_t nf = 0, nf1 = 0;
		int bad = 0;

		dmar_pgtable_config_default(&pc);
		pc.format = *f;
		pc.pgsizes = dmar_pt_page_sizes(f);
		pc.place = DMAR_PLACE_BELOW;
		pc.place_limit = 1ull << 32;
		REQUIRE(dmar_domain_create(mmu, DMAR_DOMAIN_REMAPPED, &pc, &dom) == DMAR_OK);
		REQUIRE(dmar_device_create(mmu, 0x300, 64, &dev) == DMAR_OK);
		REQUIRE(dmar_device_attach(dev, dom) == DMAR_OK);
		pt = dmar_domain_pgtable(dom);
		REQUIRE(pt != NULL);
		CHECK_EQ(dmar_pgtable_format(pt)->kind, f->kind);
		CHECK_ST(dmar_domain_input_range(dom, &last), DMAR_OK);
		CHECK_ST(dmar_pt_input_range(dmar_pgtable_format(pt), &plast, NULL), DMAR_OK);
		CHECK_EQ(last, plast);

		/* random mappings through the domain (its own table's walk is the reference) */
		memset(&e, 0, sizeof(e));
		e.pm = pm;
		e.pt = pt;
		e.last = last;
		e.window = last < (64ull << 30) ? last + 1 : 64ull << 30;
		for (int i = 0; i < 300; i++) {
			const int big = i % 4 == 0;
			const uint64_t sz = big ? M2 : (1 + next() % 4) * K4;
			const uint64_t iova = next() % (e.window / sz) * sz;
			const uint64_t pa = (next() % (1ull << (pa_bits_of(f) - 22))) << 21;

			if (dmar_domain_map(dom, iova, pa, sz, random_prot(f)) == DMAR_OK && e.n < 512) {
				e.at[e.n] = iova;
				e.size[e.n++] = sz;
			}
		}
		REQUIRE(e.n > 100);
		eq_requests(&e, req, N);
		for (int i = 0; i < N; i++) {
			dmar_walk_result w;
			dmar_status ws = dmar_pgtable_walk(pt, req[i].iova, req[i].access, &w);
			dmar_status ds = dmar_device_translate(dev, &req[i], &one[i]);
			dmar_result wr = { .pa = w.pa, .fault = (uint8_t)w.fault,
					   .page_lg2 = w.page_lg2, .prot = w.prot };
			dmar_result got = one[i];

			if (ws != DMAR_OK)
				wr.page_lg2 = got.page_lg2, wr.prot = got.prot;
			nf1 += ds != DMAR_OK;
			if ((ds != ws || !same_but_flags(&got, &wr)) && bad++ < 5)
				print_mismatch("dmar_device_translate vs walk", f, &req[i], &got, &wr);
		}
		CHECK_ST(dmar_device_translate_batch(dev, req, many, N, &nf), DMAR_OK);
		CHECK_EQ(nf, nf1);
		for (int i = 0; i < N; i++) {
			dmar_result a = many[i];

			if (a.fault)
				a.page_lg2 = one[i].page_lg2, a.prot = one[i].prot;
			if (!same_but_flags(&a, &one[i]) && bad++ < 5)
				print_mismatch("dmar_device_translate_batch vs single", f, &req[i],
					       &many[i], &one[i]);
		}
		CHECK_EQ(bad, 0);
		/* past the input range: the width fault, not the device's (it reaches 2^64) */
		if (last != UINT64_MAX) {
			dmar_request q = { .iova = last + 1, .access = AR, .pasid = DMAR_NO_PASID };
			dmar_result r;

			CHECK_ST(dmar_device_translate(dev, &q, &r), DMAR_E_FAULT);
			CHECK_EQ(r.fault, DMAR_FAULT_ADDR_WIDTH);
		}
		CHECK_ST(dmar_device_detach(dev), DMAR_OK);
		CHECK_ST(dmar_device_destroy(dev), DMAR_OK);
		CHECK_ST(dmar_domain_destroy(dom), DMAR_OK);
		dmar_iommu_destroy(mmu);
		dmar_physmem_destroy(pm);
	}
}

int main(int argc, char **argv)
{
	static const struct test_case cases[] = {
		T(S13_input_ranges_and_page_sizes_as_documented),
		T(S13_tables_are_created_in_every_format_and_only_its_shapes),
		T(S13_map_prot_rules_per_format),
		T(S13_sweep_x86_64_levels_pa_bits_page_sizes),
		T(S13_sweep_vtd_ss_levels_pa_bits_page_sizes),
		T(S13_sweep_amdv1_levels_pa_bits_page_sizes),
		T(S2_x86_64_hand_written_leaves_of_every_size),
		T(S13_vtd_ss_write_only_leaf_faults_reads),
		T(S13_vtd_ss_entry_without_r_and_w_is_not_present),
		T(S13_vtd_ss_ps_at_level_3_needs_1g),
		T(S13_vtd_ss_x_honoured_only_with_exec),
		T(S13_vtd_ss_snp_reported_as_snoop),
		T(S13_vtd_ss_address_bits_above_pa_bits_are_reserved),
		T(S13_amdv1_skipped_level_needs_zero_address_bits),
		T(S13_amdv1_32k_and_4m_pages_from_repeated_entries),
		T(S13_amdv1_ir_iw_anded_down_the_levels),
		T(S13_amdv1_next_level_at_or_above_own_level_is_reserved),
		T(S13_amdv1_six_levels_reach_the_top_of_2_to_64),
		T(S13_amdv1_no_leaf_at_level_6),
		T(S28_invalidating_one_page_drops_a_whole_amdv1_leaf_of_any_size),
		T(S13_walks_set_accessed_and_dirty_bits_per_format),
		T(S13_without_the_ad_flag_entries_are_never_written),
		T(S13_ad_in_read_only_memory_faults_ad),
		T(S28_cached_read_does_not_let_a_write_skip_the_dirty_bit),
		T(S30_batch_equals_single_per_format),
		T(S30_every_variant_and_l0_mode_alike_per_format),
		T(S13_devices_translate_through_vtd_and_amdv1_domains),
		T(S28_amdv1_addresses_of_every_width_are_cached_in_their_window_and_never_alias),
		T(S7_S28_beyond_a_57_bit_table_nothing_hits_what_an_address_inside_cached),
	};

	return test_run_(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
