/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ADLs (S19, S23): construction, AdlOffset arithmetic, contiguous and array forms,
 * Allocate/Free sequences, and the ADLs that GPU mappings hand out.
 *
 * Input: u8 mode (0 remapped, 1 1:1 isolation, 2 pass-through), then operations:
 *   0 AllocateAdl: u8 slot, u32 count (sometimes huge), u8 flags, then the entries
 *   1 FreeAdl: u8 slot, u8 how (live / twice / a pointer that is no ADL / a mapping's ADL)
 *   2 read entries: u8 slot, u32 index (past the end too)
 *   3 MapPhysicalMemory: u8 slot, u8 pages, u8 first: its ADL, checked entry by entry
 *     against the object's pages and the device's translations
 *   4 MAP_APERTURE_SEGMENT2 with the allocation's ADL and fuzzed AdlOffset / NumberOfPages /
 *     OffsetInPages near the 64-bit edges: accepted exactly when the model says it fits
 *   5 near-2^64 values (u8 slot, unused; u8 what; three fz_edge values) at one entry point:
 *     AllocateAdl's count, a contiguous ADL's base page and index, MapPhysicalMemory's first
 *     page, page count and prot (GPU and CPU), an IO-space object's base and size, and
 *     MAP_APERTURE_SEGMENT2 with a caller's contiguous ADL based there: the status the
 *     model says, and a refused call changes nothing (object and mapping counts, allocated
 *     frames, the logical allocator's pages in use); what succeeds is undone at once
 * A model (the same entries, kept separately) is compared after every step. */
#include "fuzz_common.h"

#define SLOTS 8
#define PAGE_LAST (UINT64_MAX >> 12) /* the page of address 2^64 - 1 */
#define PA_BITS 48

static const dmar_ram_range ram[] = {
	{ .base = 0x100000, .size = 64ull << 20 },
	{ .base = 1ull << 40, .size = 64ull << 20 },
};

/* A value at an edge of 64-bit arithmetic: 2^64 - k, 2^64 - k pages, the last page
 * numbers, 2^63 and 2^32 within 128, 2^48 - k pages (the top of a 4-level table), a small
 * k, or anything (k: a u8). */
static uint64_t fz_edge(struct fz *f)
{
	const uint8_t sel = fz_u8(f);
	const uint64_t k = fz_u8(f);

	switch (sel % 8) {
	case 0: return 0 - k;
	case 1: return (0 - k) << 12;
	case 2: return PAGE_LAST - k;
	case 3: return (1ull << 63) + k - 128;
	case 4: return (1ull << 32) + k - 128;
	case 5: return (1ull << PA_BITS) - (k << 12);
	case 6: return k;
	default: return fz_u64(f);
	}
}

/* What a refused call must leave as it was. */
struct snap {
	dmar_adapter_stats st;
	uint64_t frames, iova_pages;
};

static dmar_physmem *pm;

static void snap_take(dmar_adapter *ad, struct snap *s)
{
	dmar_physmem_stats ps;

	memset(s, 0, sizeof(*s));
	dmar_adapter_get_stats(ad, &s->st);
	dmar_physmem_get_stats(pm, &ps);
	s->frames = ps.allocated_frames;
	if (dmar_adapter_iovad(ad)) {
		dmar_iovad_stats is;

		dmar_iovad_get_stats(dmar_adapter_iovad(ad), &is);
		s->iova_pages = is.pages_in_use;
	}
}

/* After a refused call (@refused) or a call and its undo: the same objects and mappings,
 * the same logical pages in use.  Frames only after a refused call (a call that succeeded
 * may leave table pages, or a section object's frames, behind its undo), and they may only
 * fall meanwhile: table pages that earlier unmaps unlinked are freed after a grace period,
 * by the RCU thread. */
static void snap_check(dmar_adapter *ad, const struct snap *a, int refused)
{
	struct snap b;

	snap_take(ad, &b);
	FZ_CHECK_EQ(b.st.pmos, a->st.pmos);
	FZ_CHECK_EQ(b.st.gpu_mappings, a->st.gpu_mappings);
	FZ_CHECK_EQ(b.st.cpu_mappings, a->st.cpu_mappings);
	FZ_CHECK_EQ(b.st.adls, a->st.adls);
	FZ_CHECK_EQ(b.st.allocations, a->st.allocations);
	FZ_CHECK_EQ(b.st.aperture_mappings, a->st.aperture_mappings);
	FZ_CHECK_EQ(b.iova_pages, a->iova_pages);
	if (refused)
		FZ_CHECK(b.frames <= a->frames);
}

/* Whether [base, base + size) shares a byte with RAM (128-bit sums: no wrap). */
static int meets_ram(uint64_t base, uint64_t size)
{
	for (size_t i = 0; i < sizeof(ram) / sizeof(ram[0]); i++)
		if ((unsigned __int128)base < (unsigned __int128)ram[i].base + ram[i].size &&
		    ram[i].base < (unsigned __int128)base + size)
			return 1;
	return 0;
}

/* One near-2^64 call (op 5); the model's answer, and nothing changed when it is refused. */
static void edge_op(struct fz *f, dmar_adapter *ad, dmar_allocation *al)
{
	const unsigned what = fz_u8(f) % 6;
	const uint64_t v1 = fz_edge(f), v2 = fz_edge(f), v3 = fz_edge(f);
	dmar_pmo *o = dmar_allocation_pmo(al); /* 16 pages */
	struct snap before;
	dmar_status st;

	snap_take(ad, &before);
	switch (what) {
	case 0: { /* AllocateAdl: a count near the edges */
		const uint32_t flags = (uint32_t)(v3 & 3);
		const uint64_t max = flags & DMAR_ADL_CONTIGUOUS ? DMAR_ADL_MAX_PAGES : DMAR_ADL_MAX_ARRAY;
		const int fits = v1 >= 1 && v1 <= max;
		dmar_adl *a = NULL;

		st = dmar_adl_allocate(ad, DMAR_PASSIVE_LEVEL, v1, flags, &a);
		if (!fits) {
			FZ_CHECK_ST(st, DMAR_E_INVALID);
		} else if (st == DMAR_OK) {
			FZ_CHECK_EQ(a->page_count, v1);
			FZ_CHECK_ST(dmar_adl_free(ad, DMAR_PASSIVE_LEVEL, a), DMAR_OK);
		} else {
			FZ_CHECK_ST(st, DMAR_E_NOMEM);
		}
		break;
	}
	case 1: { /* a contiguous ADL based near 2^64, entries near it */
		const dmar_adl a = { .page_count = v1, .flags = DMAR_ADL_CONTIGUOUS, .base_page = v2 };
		uint64_t page = 0x5a;

		st = dmar_adl_page(&a, v3, &page);
		if (v3 < v1 && v2 <= PAGE_LAST && v3 <= PAGE_LAST - v2) {
			FZ_CHECK_ST(st, DMAR_OK);
			FZ_CHECK_EQ(page, v2 + v3);
		} else {
			FZ_CHECK_ST(st, DMAR_E_RANGE);
			FZ_CHECK_EQ(page, 0x5a);
		}
		break;
	}
	case 2: /* MapPhysicalMemory, GPU: first page, count and prot */
	case 3: { /* ... and CPU */
		const unsigned prot = (unsigned)(v3 & 0x3f);
		const int fits = v2 >= 1 && v1 < 16 && v2 <= 16 - v1;
		const unsigned known = DMAR_PROT_READ | DMAR_PROT_WRITE | DMAR_PROT_EXEC | DMAR_PROT_USER;
		const dmar_adl *g = NULL;
		void *va = NULL;

		if (what == 2) {
			st = dmar_pmo_map_gpu(ad, DMAR_PASSIVE_LEVEL, o, v1, v2, prot, &g);
			/* remap.h: the prot the domain's table can express, READ for an x86-64
			 * table; a pass-through adapter (no table) takes READ or WRITE */
			if (!fits || !(prot & gpu_prot_needs(ad)) || (prot & ~known)) {
				FZ_CHECK_ST(st, DMAR_E_INVALID);
				break;
			}
			FZ_CHECK_ST(st, DMAR_OK);
			FZ_CHECK_EQ(g->page_count, v2);
			FZ_CHECK_ST(dmar_pmo_unmap_gpu(ad, DMAR_PASSIVE_LEVEL, g), DMAR_OK);
		} else {
			st = dmar_pmo_map_cpu(ad, DMAR_PASSIVE_LEVEL, o, v1, v2, DMAR_CPU_KERNEL,
					      DMAR_CACHE_CACHED, &va);
			if (!fits) {
				FZ_CHECK_ST(st, DMAR_E_INVALID);
				break;
			}
			FZ_CHECK_ST(st, DMAR_OK);
			FZ_CHECK_ST(dmar_pmo_unmap_cpu(ad, DMAR_PASSIVE_LEVEL, o, va), DMAR_OK);
		}
		break;
	}
	case 4: { /* IO space: a base and size near the edges (S7, S24) */
		const dmar_pmo_params p = { .kind = DMAR_PMO_IO_SPACE, .size = v2, .io_base = v1 };
		dmar_pmo *io = NULL;

		st = dmar_pmo_create(ad, DMAR_PASSIVE_LEVEL, &p, &io);
		if (v2 == 0 || (v2 & 0xfff) || v2 > DMAR_PMO_MAX_SIZE || (v1 & 0xfff) ||
		    (unsigned __int128)v1 + v2 > (unsigned __int128)1 << PA_BITS) {
			FZ_CHECK_ST(st, DMAR_E_INVALID);
		} else if (meets_ram(v1, v2)) {
			FZ_CHECK_ST(st, DMAR_E_RANGE);
		} else {
			dmar_pa_t pa;

			FZ_CHECK_ST(st, DMAR_OK);
			FZ_CHECK_ST(dmar_pmo_page(io, v2 / 4096 - 1, &pa), DMAR_OK);
			FZ_CHECK_EQ(pa, v1 + v2 - 4096);
			FZ_CHECK_ST(dmar_pmo_destroy(ad, DMAR_PASSIVE_LEVEL, io), DMAR_OK);
		}
		if (st != DMAR_OK)
			FZ_CHECK(io == NULL);
		break;
	}
	default: { /* MAP_APERTURE_SEGMENT2 with a caller's contiguous ADL based near 2^64 */
		dmar_op_map_aperture_segment2 op = {
			.h_allocation = al, .segment_id = 1, .offset_in_pages = v3 % 64,
			.number_of_pages = 1 + v3 % 4, .adl_offset = v3 % 16,
			.adl = { .page_count = v1, .flags = dmar_allocation_adl(al)->flags,
				 .base_page = v2 } };

		op.adl.flags |= DMAR_ADL_CONTIGUOUS;
		st = dmar_map_aperture_segment2(ad, DMAR_PASSIVE_LEVEL, &op);
		if (st == DMAR_OK) { /* only the allocation's own pages, at their own indexes */
			dmar_op_unmap_aperture_segment u = {
				.h_allocation = al, .segment_id = 1,
				.offset_in_pages = op.offset_in_pages,
				.number_of_pages = op.number_of_pages };

			for (uint64_t i = 0; i < op.number_of_pages; i++) {
				uint64_t mine, given;

				FZ_CHECK_ST(dmar_adl_page(dmar_allocation_adl(al), op.adl_offset + i,
							  &mine), DMAR_OK);
				FZ_CHECK_ST(dmar_adl_page(&op.adl, op.adl_offset + i, &given), DMAR_OK);
				FZ_CHECK_EQ(mine, given);
			}
			FZ_CHECK_ST(dmar_unmap_aperture_segment(ad, DMAR_PASSIVE_LEVEL, &u), DMAR_OK);
		} else {
			FZ_CHECK(st == DMAR_E_INVALID || st == DMAR_E_RANGE || st == DMAR_E_EXISTS);
		}
		break;
	}
	}
	FZ_CHECK((unsigned)st < DMAR_STATUS_COUNT);
	snap_check(ad, &before, st != DMAR_OK);
}

struct madl {
	dmar_adl *adl;
	uint64_t count, base;
	uint32_t flags;
	uint64_t e[64]; /* the first entries written (array form) */
};

static void on_bugcheck(void *ctx, uint32_t code, uint64_t p1, uint64_t p2, const char *what)
{
	(void)ctx;
	(void)code;
	(void)p1;
	(void)p2;
	(void)what;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	dmar_physmem_config pc = { .ranges = ram, .nranges = 2, .pa_bits = PA_BITS };
	dmar_iommu_config ic;
	dmar_adapter_config ac;
	dmar_iommu *iommu;
	dmar_adapter *ad = NULL;
	struct madl m[SLOTS] = { 0 };
	const dmar_adl *gadl[SLOTS] = { 0 };
	dmar_pmo *gpmo[SLOTS] = { 0 };
	dmar_allocation *al = NULL;
	unsigned mode;

	fz_thread();
	if (!pm && dmar_physmem_create(&pc, &pm) != DMAR_OK)
		abort();
	dmar_iommu_config_default(&ic);
	if (dmar_iommu_create(pm, &ic, &iommu) != DMAR_OK)
		abort();
	dmar_adapter_config_default(&ac);
	ac.bugcheck = on_bugcheck;
	ac.aperture_pages[0] = 64;
	mode = fz_u8(&f) % 3;
	if (mode) { /* a driver without remapping, a device that reaches everything */
		ac.start.remap_caps_physical = false;
		ac.start.dma_bits = 48;
		ac.start.iommu_flags = mode == 1 ? 0x07 : 0;
	}
	if (dmar_adapter_create(iommu, &ac, &ad, NULL) != DMAR_OK || dmar_adapter_start(ad) != DMAR_OK)
		FZ_FAIL("the adapter of mode %u did not start", mode);
	{
		dmar_allocation_params p = { .npages = 16, .segment_set = 1u << 1,
					     .flags = DMAR_ALLOC_ACCESSED_PHYSICALLY };

		FZ_CHECK_ST(dmar_allocation_create(ad, DMAR_PASSIVE_LEVEL, &p, &al), DMAR_OK);
		/* S23: when remapped, VidMm's ADL is initialised and contiguous */
		if (mode == 0)
			FZ_CHECK_EQ(dmar_allocation_adl(al)->flags, DMAR_ADL_CONTIGUOUS | DMAR_ADL_LOGICAL);
	}

	while (f.n) {
		const uint8_t op = fz_u8(&f) % 6;
		const unsigned s = fz_u8(&f) % SLOTS;

		switch (op) {
		case 0: { /* AllocateAdl */
			const uint8_t sel = fz_u8(&f);
			const uint64_t count = sel & 1 ? fz_u32(&f) + ((uint64_t)(sel & 2) << 31)
						       : fz_u8(&f) % 70;
			const uint32_t flags = fz_u8(&f) % 5;
			dmar_adl *a = NULL;
			dmar_status st;

			if (m[s].adl)
				break;
			st = dmar_adl_allocate(ad, DMAR_PASSIVE_LEVEL, count, flags, &a);
			if (count == 0 || flags > 3 ||
			    count > (flags & DMAR_ADL_CONTIGUOUS ? DMAR_ADL_MAX_PAGES : DMAR_ADL_MAX_ARRAY)) {
				FZ_CHECK(st != DMAR_OK);
				break;
			}
			if (st == DMAR_E_NOMEM)
				break;
			FZ_CHECK_ST(st, DMAR_OK);
			FZ_CHECK_EQ(a->page_count, count);
			FZ_CHECK_EQ(a->flags, flags);
			m[s] = (struct madl){ .adl = a, .count = count, .flags = flags };
			if (flags & DMAR_ADL_CONTIGUOUS) {
				m[s].base = fz_u64(&f) >> (fz_u8(&f) % 64);
				a->base_page = m[s].base;
			} else {
				for (uint64_t i = 0; i < count && i < 64; i++) {
					FZ_CHECK_EQ(a->pages[i], 0); /* zeroed for the caller */
					a->pages[i] = m[s].e[i] = fz_u64(&f);
				}
			}
			break;
		}
		case 1: { /* FreeAdl */
			static uint64_t fake[4];
			const unsigned how = fz_u8(&f) % 4;

			if (how == 2) {
				FZ_CHECK_ST(dmar_adl_free(ad, DMAR_PASSIVE_LEVEL, (dmar_adl *)fake),
					    DMAR_E_NOT_FOUND);
			} else if (how == 3 && gadl[s]) {
				FZ_CHECK_ST(dmar_adl_free(ad, DMAR_PASSIVE_LEVEL,
							  (dmar_adl *)(uintptr_t)gadl[s]), DMAR_E_BUSY);
			} else if (m[s].adl) {
				FZ_CHECK_ST(dmar_adl_free(ad, DMAR_PASSIVE_LEVEL, m[s].adl), DMAR_OK);
				if (how == 1) /* (a freed pointer is only compared, never read) */
					FZ_CHECK_ST(dmar_adl_free(ad, DMAR_PASSIVE_LEVEL, m[s].adl),
						    DMAR_E_NOT_FOUND);
				memset(&m[s], 0, sizeof(m[s]));
			}
			break;
		}
		case 2: { /* entries, both forms, past the end too */
			const uint64_t i = fz_u8(&f) & 1 ? fz_u32(&f) : fz_u8(&f) % 70;
			uint64_t page = 0;

			if (!m[s].adl)
				break;
			/* a contiguous ADL ends at the last page of the address space */
			if (i >= m[s].count || ((m[s].flags & DMAR_ADL_CONTIGUOUS) &&
						(m[s].base > PAGE_LAST || i > PAGE_LAST - m[s].base))) {
				FZ_CHECK_ST(dmar_adl_page(m[s].adl, i, &page), DMAR_E_RANGE);
			} else {
				FZ_CHECK_ST(dmar_adl_page(m[s].adl, i, &page), DMAR_OK);
				if (m[s].flags & DMAR_ADL_CONTIGUOUS)
					FZ_CHECK_EQ(page, m[s].base + i);
				else if (i < 64)
					FZ_CHECK_EQ(page, m[s].e[i]);
			}
			break;
		}
		case 3: { /* a GPU mapping's ADL */
			const uint64_t n = 1 + fz_u8(&f) % 24, first = fz_u8(&f) % 8;
			dmar_pmo_params p = { .kind = fz_u8(&f) & 1 ? DMAR_PMO_CONTIGUOUS : DMAR_PMO_NONPAGED,
					      .size = (n + first) * 4096 };

			if (gadl[s]) { /* unmap it instead; its ADL goes with it */
				FZ_CHECK_ST(dmar_pmo_unmap_gpu(ad, DMAR_PASSIVE_LEVEL, gadl[s]), DMAR_OK);
				FZ_CHECK_ST(dmar_pmo_unmap_gpu(ad, DMAR_PASSIVE_LEVEL, gadl[s]),
					    DMAR_E_NOT_FOUND);
				FZ_CHECK_ST(dmar_pmo_destroy(ad, DMAR_PASSIVE_LEVEL, gpmo[s]), DMAR_OK);
				gadl[s] = NULL;
				gpmo[s] = NULL;
				break;
			}
			if (dmar_pmo_create(ad, DMAR_PASSIVE_LEVEL, &p, &gpmo[s]) != DMAR_OK)
				break;
			FZ_CHECK_ST(dmar_pmo_map_gpu(ad, DMAR_PASSIVE_LEVEL, gpmo[s], first, n,
						     DMAR_PROT_READ, &gadl[s]), DMAR_OK);
			FZ_CHECK_EQ(gadl[s]->page_count, n);
			FZ_CHECK_EQ(!!(gadl[s]->flags & DMAR_ADL_LOGICAL), mode == 0);
			if (mode == 0) /* S13, S23: one logically contiguous range */
				FZ_CHECK(gadl[s]->flags & DMAR_ADL_CONTIGUOUS);
			for (uint64_t i = 0; i < n; i++) {
				dmar_request q = { .access = DMAR_ACCESS_READ, .pasid = DMAR_NO_PASID };
				dmar_result res;
				uint64_t page;
				dmar_pa_t pa;

				FZ_CHECK_ST(dmar_adl_page(gadl[s], i, &page), DMAR_OK);
				FZ_CHECK_ST(dmar_pmo_page(gpmo[s], first + i, &pa), DMAR_OK);
				if (mode) /* 1:1 and pass-through: the entries are the physical pages */
					FZ_CHECK_EQ(page * 4096, pa);
				q.iova = page * 4096 + 0x10;
				FZ_CHECK_ST(dmar_device_translate(dmar_adapter_device(ad, 0), &q, &res), DMAR_OK);
				FZ_CHECK_EQ(res.pa, pa + 0x10);
			}
			break;
		}
		case 4: { /* AdlOffset arithmetic of MAP_APERTURE_SEGMENT2 */
			dmar_op_map_aperture_segment2 op = { .h_allocation = al, .segment_id = 1 };
			const uint8_t sel = fz_u8(&f);
			const uint64_t pc16 = dmar_allocation_adl(al)->page_count;
			unsigned __int128 adl_end, seg_end;
			dmar_status st;

			op.adl = *dmar_allocation_adl(al);
			op.adl_offset = sel & 1 ? ~0ull - fz_u8(&f) : fz_u8(&f) % 20;
			op.number_of_pages = sel & 2 ? ~0ull - fz_u8(&f) : fz_u8(&f) % 20;
			op.offset_in_pages = sel & 4 ? ~0ull - fz_u8(&f) : fz_u8(&f) % 70;
			adl_end = (unsigned __int128)op.adl_offset + op.number_of_pages;
			seg_end = (unsigned __int128)op.offset_in_pages + op.number_of_pages;
			st = dmar_map_aperture_segment2(ad, DMAR_PASSIVE_LEVEL, &op);
			if (op.number_of_pages == 0 || adl_end > pc16 || seg_end > 64) {
				FZ_CHECK(st != DMAR_OK);
				break;
			}
			if (st == DMAR_E_EXISTS) /* mapped by an earlier step */
				break;
			FZ_CHECK_ST(st, DMAR_OK);
			{
				dmar_op_unmap_aperture_segment u = {
					.h_allocation = al, .segment_id = 1,
					.offset_in_pages = op.offset_in_pages,
					.number_of_pages = op.number_of_pages };
				dmar_result res;
				dmar_pa_t pa;

				FZ_CHECK_ST(dmar_aperture_translate(ad, 1, op.offset_in_pages * 4096,
								    DMAR_ACCESS_READ, &res), DMAR_OK);
				FZ_CHECK_ST(dmar_pmo_page(dmar_allocation_pmo(al), op.adl_offset, &pa),
					    DMAR_OK);
				FZ_CHECK_EQ(res.pa, pa);
				if (sel & 8)
					FZ_CHECK_ST(dmar_unmap_aperture_segment(ad, DMAR_PASSIVE_LEVEL, &u),
						    DMAR_OK);
			}
			break;
		}
		default:
			edge_op(&f, ad, al);
			break;
		}
	}
	dmar_adapter_destroy(ad); /* takes every ADL, mapping and object with it */
	dmar_iommu_destroy(iommu);
	return 0;
}
