/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Harness 1: ADLs (S19, S23): construction, AdlOffset arithmetic, contiguous and array forms,
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
 * A model (the same entries, kept separately) is compared after every step. */
#include "fuzz_common.h"

#define SLOTS 8
#define PAGE_LAST (UINT64_MAX >> 12) /* the page of address 2^64 - 1 */

struct madl {
	dmar_adl *adl;
	uint64_t count, base;
	uint32_t flags;
	uint64_t e[64]; /* the first entries written (array form) */
};

static dmar_physmem *pm;

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
	static const dmar_ram_range r[] = {
		{ .base = 0x100000, .size = 64ull << 20 },
		{ .base = 1ull << 40, .size = 64ull << 20 },
	};
	struct fz f = { data, size };
	dmar_physmem_config pc = { .ranges = r, .nranges = 2, .pa_bits = 48 };
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
		const uint8_t op = fz_u8(&f) % 5;
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
		default: { /* AdlOffset arithmetic of MAP_APERTURE_SEGMENT2 */
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
		}
	}
	dmar_adapter_destroy(ad); /* takes every ADL, mapping and object with it */
	dmar_iommu_destroy(iommu);
	return 0;
}
