/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Harness 3: MAP_APERTURE_SEGMENT2 and the memory-object callbacks, every field fuzzed,
 * IRQL and caps flags included (S20-S26).
 *
 * Input: a configuration header, then operations until the input ends.
 *   header: u8 caps (bit 0 IoMmuSupported, 1 remap cap set 1, 2 remap cap set 2,
 *           3 MapAperture2Supported, 4 integrated, 5 DmaRemappingCompatible = 3, 6 secure VM,
 *           7 legacy WDDM 3.1), u8 IOMMUFlags, u8 dma_bits (32 + x % 33), u8 aperture pages
 *           (x * 16), u8 linked (1 + x % 2)
 *   op:     u8 opcode, u8 irql (x % 17), then its fields
 * A model keeps what was created and mapped; checks:
 *  - every call answers a status, and a refused call (bad IRQL included) changes no counter;
 *  - a logical address of a live GPU mapping translates to its object's page, one of a gone
 *    mapping never does (S7);
 *  - an aperture page translates to the page of the allocation mapped there, and faults
 *    where nothing is (S4, S20);
 *  - a CPU mapping and the physical pages hold the same bytes (S24);
 *  - MapApertureCpuVisible without MapAperture2Supported never creates (S21). */
#include "fuzz_common.h"

#define MAXH 8

struct gmap {
	const dmar_adl *adl;
	dmar_pmo *pmo;
	uint64_t first, n;
};

struct cmap {
	void *va;
	dmar_pmo *pmo;
	uint64_t first, n;
};

struct ap {
	int live;
	uint32_t seg;
	uint64_t off, n, adl_off;
	uint32_t flags;
};

static int bugchecks;
static void on_bugcheck(void *ctx, uint32_t code, uint64_t p1, uint64_t p2, const char *what)
{
	(void)ctx;
	(void)p1;
	(void)p2;
	(void)what;
	FZ_CHECK_EQ(code, DMAR_BUGCHECK_IRQL);
	bugchecks++;
}

static dmar_physmem *pm;

static void setup_memory(void)
{
	static const dmar_ram_range r[] = {
		{ .base = 0x100000, .size = 128ull << 20 },
		{ .base = 1ull << 40, .size = 128ull << 20 }, /* above a 40-bit device's reach */
	};
	dmar_physmem_config cfg = { .ranges = r, .nranges = 2, .pa_bits = 48 };

	if (!pm && dmar_physmem_create(&cfg, &pm) != DMAR_OK)
		abort();
}

/* Where a physical page's bytes are, for data checks. */
static uint64_t word_at(dmar_pa_t pa)
{
	uint64_t v = 0;

	FZ_CHECK_ST(dmar_physmem_read(pm, pa, &v, 8), DMAR_OK);
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	dmar_iommu_config ic;
	dmar_adapter_config ac;
	dmar_iommu *iommu = NULL;
	dmar_adapter *ad = NULL;
	dmar_pmo *pmo[MAXH] = { 0 };
	dmar_allocation *al[MAXH] = { 0 };
	struct gmap gm[MAXH] = { 0 };
	struct cmap cm[MAXH] = { 0 };
	struct ap ap[MAXH] = { 0 };
	uint32_t alflags[MAXH] = { 0 };
	uint64_t dead[64];
	unsigned ndead = 0;
	uint8_t caps, flags;

	fz_thread();
	setup_memory();
	dmar_iommu_config_default(&ic);
	ic.fault_queue = 64;
	if (dmar_iommu_create(pm, &ic, &iommu) != DMAR_OK)
		abort();
	dmar_adapter_config_default(&ac);
	caps = fz_u8(&f);
	flags = fz_u8(&f);
	ac.start.iommu_supported = caps & 1;
	ac.start.remap_caps_physical = caps & 2;
	ac.start.remap_caps_vidmm = caps & 4;
	ac.map_aperture2 = caps & 8;
	ac.start.integrated = caps & 16;
	ac.start.dma_remapping_compatible = caps & 32 ? 3 : fz_u8(&f) & 7;
	ac.start.secure_vm = caps & 64;
	ac.wddm_version = caps & 128 ? DMAR_WDDM(3, 1) : DMAR_WDDM(3, 2);
	ac.start.iommu_flags = flags & 0x1f;
	ac.start.dma_bits = 32 + fz_u8(&f) % 33;
	ac.aperture_pages[0] = (uint32_t)fz_u8(&f) * 16;
	ac.nlinked = 1 + fz_u8(&f) % 2;
	ac.bugcheck = on_bugcheck;
	bugchecks = 0;
	if (dmar_adapter_create(iommu, &ac, &ad, NULL) != DMAR_OK ||
	    dmar_adapter_start(ad) != DMAR_OK) {
		dmar_adapter_destroy(ad);
		dmar_iommu_destroy(iommu);
		return 0;
	}

	while (f.n) {
		const uint8_t op = fz_u8(&f) % 12;
		const dmar_irql irql = (dmar_irql)(fz_u8(&f) % 17);
		const unsigned h = fz_u8(&f) % MAXH;
		dmar_adapter_stats before, after;
		dmar_status st = DMAR_OK;
		int called = 1; /* a callback that takes the IRQL was made */

		dmar_adapter_get_stats(ad, &before);
		switch (op) {
		case 0: { /* CreatePhysicalMemoryObject */
			dmar_pmo_params p = { .kind = (dmar_pmo_kind)(fz_u8(&f) % 5),
					      .size = (uint64_t)(fz_u8(&f) % 17) * 4096 +
						      (fz_u8(&f) & 1 ? 0 : 0x10),
					      .place = (dmar_placement)(fz_u8(&f) % 4),
					      .limit = fz_u8(&f) & 1 ? 1ull << 40 : 64ull << 20,
					      .io_base = (uint64_t)fz_u16(&f) << 20 };
			dmar_pmo *o = NULL;

			if (pmo[h]) {
				called = 0;
				break;
			}
			st = dmar_pmo_create(ad, irql, &p, &o);
			if (st == DMAR_OK)
				pmo[h] = o;
			break;
		}
		case 1: { /* Open, Close, Destroy; or a pointer that is no object */
			static uint64_t fake[8];
			dmar_pmo *o = fz_u8(&f) & 7 ? pmo[h] : (dmar_pmo *)fake;
			const unsigned what = fz_u8(&f) % 3;

			if (!o) {
				called = 0;
				break;
			}
			st = what == 0 ? dmar_pmo_open(ad, irql, o)
			   : what == 1 ? dmar_pmo_close(ad, irql, o) : dmar_pmo_destroy(ad, irql, o);
			if (o == (dmar_pmo *)fake)
				FZ_CHECK(st != DMAR_OK);
			if (what == 2 && st == DMAR_OK)
				pmo[h] = NULL;
			break;
		}
		case 2: { /* MapPhysicalMemory to GPU logical addresses */
			const uint64_t first = fz_u8(&f) % 20, n = fz_u8(&f) % 20;
			const unsigned prot = DMAR_PROT_READ | (fz_u8(&f) & 1 ? DMAR_PROT_WRITE : 0);
			const dmar_adl *adl = NULL;

			if (!pmo[h] || gm[h].adl) {
				called = 0;
				break;
			}
			st = dmar_pmo_map_gpu(ad, irql, pmo[h], first, n, prot, &adl);
			if (st == DMAR_OK) {
				FZ_CHECK_EQ(adl->page_count, n);
				gm[h] = (struct gmap){ adl, pmo[h], first, n };
			}
			break;
		}
		case 3: { /* UnmapPhysicalMemory (GPU) */
			uint64_t page;

			if (!gm[h].adl) {
				called = 0;
				break;
			}
			FZ_CHECK_ST(dmar_adl_page(gm[h].adl, 0, &page), DMAR_OK);
			{
				const int logical = gm[h].adl->flags & DMAR_ADL_LOGICAL;

				st = dmar_pmo_unmap_gpu(ad, irql, gm[h].adl);
				if (st == DMAR_OK) {
					if (ndead < 64 && logical)
						dead[ndead++] = page * 4096;
					memset(&gm[h], 0, sizeof(gm[h]));
				}
			}
			break;
		}
		case 4: { /* MapPhysicalMemory to a CPU address, write, compare with the frames */
			const uint64_t first = fz_u8(&f) % 20, n = fz_u8(&f) % 20;
			const uint64_t val = fz_u64(&f);
			const dmar_cpu_mode mode = (dmar_cpu_mode)(fz_u8(&f) % 3);
			const dmar_cache_type cache = (dmar_cache_type)(fz_u8(&f) % 3);
			void *va = NULL;

			if (!pmo[h] || cm[h].va) {
				called = 0;
				break;
			}
			st = dmar_pmo_map_cpu(ad, irql, pmo[h], first, n, mode, cache, &va);
			if (st == DMAR_OK) {
				dmar_pa_t pa;

				cm[h] = (struct cmap){ va, pmo[h], first, n };
				memcpy((uint8_t *)va + (n - 1) * 4096, &val, 8);
				FZ_CHECK_ST(dmar_pmo_page(pmo[h], first + n - 1, &pa), DMAR_OK);
				FZ_CHECK_EQ(word_at(pa), val);
			}
			break;
		}
		case 5: /* UnmapPhysicalMemory (CPU), or trim */
			if (cm[h].va && (fz_u8(&f) & 1)) {
				st = dmar_pmo_unmap_cpu(ad, irql, cm[h].pmo, cm[h].va);
				if (st == DMAR_OK)
					memset(&cm[h], 0, sizeof(cm[h]));
			} else if (pmo[h]) {
				st = dmar_pmo_trim(ad, irql, pmo[h]);
			} else {
				called = 0;
			}
			break;
		case 6: { /* CreateAllocation / DestroyAllocation: segment set and flags fuzzed */
			dmar_allocation_params p = { .npages = fz_u8(&f) % 24, .segment_set = fz_u8(&f),
						     .flags = fz_u8(&f) % 16 };
			dmar_allocation *a = NULL;

			if (al[h]) {
				st = dmar_allocation_destroy(ad, irql, al[h]);
				FZ_CHECK(st != DMAR_OK || !ap[h].live);
				if (st == DMAR_OK)
					al[h] = NULL;
				break;
			}
			st = dmar_allocation_create(ad, irql, &p, &a);
			if (st == DMAR_OK) {
				al[h] = a;
				alflags[h] = p.flags;
				FZ_CHECK(!(p.flags & DMAR_ALLOC_MAP_APERTURE_CPU_VISIBLE) || ac.map_aperture2);
				FZ_CHECK(dmar_allocation_segment(a) == DMAR_SEGMENT_SYSTEM ||
					 (p.flags & DMAR_ALLOC_ACCESSED_PHYSICALLY));
			}
			break;
		}
		case 7: { /* MAP_APERTURE_SEGMENT2, every field */
			dmar_op_map_aperture_segment2 m = { 0 };
			const uint8_t sel = fz_u8(&f);

			m.h_allocation = al[h] ? al[h] : (dmar_allocation *)&m;
			m.segment_id = fz_u8(&f) % 3;
			m.offset_in_pages = sel & 1 ? fz_u64(&f) : fz_u8(&f);
			m.number_of_pages = sel & 2 ? fz_u64(&f) : fz_u8(&f) % 24;
			m.adl_offset = sel & 4 ? fz_u64(&f) : fz_u8(&f) % 24;
			m.flags = fz_u8(&f) % 8;
			if (al[h] && !(sel & 8))
				m.adl = *dmar_allocation_adl(al[h]);
			else
				m.adl = (dmar_adl){ .page_count = fz_u8(&f), .flags = (fz_u8(&f) % 4) | 1,
						    .base_page = fz_u64(&f) };
			st = dmar_map_aperture_segment2(ad, irql, &m);
			if (st == DMAR_OK) {
				FZ_CHECK(ac.map_aperture2 && al[h] && !ap[h].live);
				FZ_CHECK((m.cpu_visible_address != NULL) ==
					 !!(alflags[h] & DMAR_ALLOC_MAP_APERTURE_CPU_VISIBLE));
				ap[h] = (struct ap){ 1, m.segment_id, m.offset_in_pages, m.number_of_pages,
						     m.adl_offset, m.flags };
			}
			break;
		}
		case 8: { /* UNMAP_APERTURE_SEGMENT */
			dmar_op_unmap_aperture_segment u = {
				.h_allocation = al[h] ? al[h] : (dmar_allocation *)&u,
				.segment_id = ap[h].live && (fz_u8(&f) & 1) ? ap[h].seg : fz_u8(&f) % 3,
				.offset_in_pages = ap[h].live && (fz_u8(&f) & 1) ? ap[h].off : fz_u8(&f),
				.number_of_pages = ap[h].live && (fz_u8(&f) & 1) ? ap[h].n : fz_u8(&f) % 24,
			};

			st = dmar_unmap_aperture_segment(ad, irql, &u);
			if (st == DMAR_OK) {
				FZ_CHECK(ap[h].live && u.segment_id == ap[h].seg &&
					 u.offset_in_pages == ap[h].off && u.number_of_pages == ap[h].n);
				memset(&ap[h], 0, sizeof(ap[h]));
			}
			break;
		}
		case 9: { /* a device access through the aperture (S4) */
			const uint32_t seg = 1;
			const uint64_t off = (uint64_t)fz_u16(&f) * 64;
			const unsigned access = fz_u8(&f) & 1 ? DMAR_ACCESS_WRITE : DMAR_ACCESS_READ;
			int k = -1;
			dmar_result r;

			called = 0;
			if (!ac.aperture_pages[0])
				break;
			for (int i = 0; i < MAXH; i++)
				if (ap[i].live && ap[i].seg == seg && off / 4096 >= ap[i].off &&
				    off / 4096 - ap[i].off < ap[i].n)
					k = i;
			st = dmar_aperture_translate(ad, seg, off, access, &r);
			if (k < 0) {
				FZ_CHECK_ST(st, DMAR_E_FAULT); /* nothing mapped there */
			} else if ((ap[k].flags & DMAR_MAPAP_READ_ONLY) && access == DMAR_ACCESS_WRITE) {
				FZ_CHECK_ST(st, DMAR_E_FAULT);
			} else {
				dmar_pa_t pa;

				FZ_CHECK_ST(st, DMAR_OK);
				FZ_CHECK_ST(dmar_pmo_page(dmar_allocation_pmo(al[k]),
							  ap[k].adl_off + off / 4096 - ap[k].off, &pa), DMAR_OK);
				FZ_CHECK_EQ(r.pa, pa + off % 4096);
			}
			st = DMAR_OK;
			break;
		}
		case 10: { /* the isolation property: live mappings translate, gone ones never */
			const unsigned page = fz_u8(&f);
			dmar_request q = { .access = DMAR_ACCESS_READ, .pasid = DMAR_NO_PASID };
			dmar_result r;

			called = 0;
			if (gm[h].adl && (gm[h].adl->flags & DMAR_ADL_LOGICAL)) {
				uint64_t lp;
				dmar_pa_t pa;

				FZ_CHECK_ST(dmar_adl_page(gm[h].adl, page % gm[h].n, &lp), DMAR_OK);
				q.iova = lp * 4096 + 8;
				FZ_CHECK_ST(dmar_device_translate(dmar_adapter_device(ad, page % ac.nlinked), &q, &r),
					    DMAR_OK);
				FZ_CHECK_ST(dmar_pmo_page(gm[h].pmo, gm[h].first + page % gm[h].n, &pa),
					    DMAR_OK);
				FZ_CHECK_EQ(r.pa, pa + 8);
			} else if (ndead) {
				int reused = 0;

				q.iova = dead[page % ndead];
				for (int i = 0; i < MAXH; i++) { /* its range may belong to a newer one */
					const dmar_adl *a = al[i] ? dmar_allocation_adl(al[i]) : NULL;

					if (gm[i].adl && (gm[i].adl->flags & DMAR_ADL_LOGICAL) &&
					    q.iova / 4096 - gm[i].adl->base_page < gm[i].n)
						reused = 1;
					/* (an allocation's own GPU mapping takes logical ranges too) */
					if (a && (a->flags & DMAR_ADL_LOGICAL) &&
					    q.iova / 4096 - a->base_page < a->page_count)
						reused = 1;
				}
				if (!reused)
					FZ_CHECK_ST(dmar_device_translate(dmar_adapter_device(ad, 0), &q, &r),
						    DMAR_E_FAULT);
			}
			st = DMAR_OK;
			break;
		}
		default: { /* legacy callbacks (S25) */
			dmar_pmo *o = NULL;
			dmar_iova_t logical;
			const unsigned which = fz_u8(&f) % 3;

			if (which == 0 || !pmo[h]) {
				if (pmo[h]) {
					called = 0;
					break;
				}
				st = which == 1 ? dmar_legacy_allocate_contiguous_memory(ad, irql, 2 * 4096,
											  1ull << 32, &o)
				   : dmar_legacy_allocate_pages_for_mdl(ad, irql, 3 * 4096, &o);
				if (st == DMAR_OK)
					pmo[h] = o;
			} else if (which == 1) {
				st = dmar_legacy_map_mdl_to_iommu(ad, irql, pmo[h], &logical);
			} else {
				st = dmar_legacy_unmap_mdl_from_iommu(ad, irql, pmo[h]);
			}
			if (st == DMAR_OK)
				FZ_CHECK(dmar_adapter_decision(ad)->mode != DMAR_START_REMAPPED);
			break;
		}
		}
		dmar_adapter_get_stats(ad, &after);
		if (st == DMAR_E_IRQL || st == DMAR_E_INVALID)
			FZ_CHECK(before.pmos == after.pmos && before.gpu_mappings == after.gpu_mappings &&
				 before.cpu_mappings == after.cpu_mappings &&
				 before.allocations == after.allocations &&
				 before.aperture_mappings == after.aperture_mappings);
		/* S26: from WDDM 3.2 a callback above APC_LEVEL is a bugcheck, never a success */
		if (called && (unsigned)irql > DMAR_APC_LEVEL && (unsigned)irql <= DMAR_HIGH_LEVEL &&
		    !(caps & 128))
			FZ_CHECK(st == DMAR_E_IRQL || st == DMAR_E_INVALID || st == DMAR_E_NOT_SUPPORTED ||
				 st == DMAR_E_DEPRECATED);
		if (called && (unsigned)irql > DMAR_HIGH_LEVEL)
			FZ_CHECK(st != DMAR_OK);
	}
	FZ_CHECK(bugchecks == 0 || !(caps & 128));
	dmar_adapter_destroy(ad);
	dmar_iommu_destroy(iommu);
	return 0;
}
