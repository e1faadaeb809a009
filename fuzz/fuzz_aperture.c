/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* MAP_APERTURE_SEGMENT2 and the memory-object callbacks, every field fuzzed,
 * IRQL and caps flags included (S20-S26).
 *
 * Input: a configuration header, then operations until the input ends.
 *   header: u8 caps (bit 0 IoMmuSupported, 1 remap cap set 1, 2 remap cap set 2,
 *           3 MapAperture2Supported, 4 integrated, 5 DmaRemappingCompatible = 3, 6 secure VM,
 *           7 legacy WDDM 3.1), u8 IOMMUFlags, u8 dma_bits (32 + x % 33), u8 aperture pages
 *           (x * 16), u8 linked (1 + x % 2)
 *   op:     u8 opcode (x % 13), u8 irql (x % 17), then its fields; opcode 12 feeds
 *           near-2^64 values (u8 what, then three fz_edge values) to one entry point:
 *           CreatePhysicalMemoryObject (IO base and size, frame size and limit),
 *           MapPhysicalMemory GPU and CPU (first page, count, prot), CreateAllocation
 *           (pages, limit), MAP_APERTURE_SEGMENT2 and UNMAP_APERTURE_SEGMENT (every offset
 *           and count), an aperture access (offset), the legacy allocations (size, highest)
 * A model keeps what was created and mapped; checks:
 *  - every call answers a status, and a refused call (bad IRQL included) changes no counter;
 *  - a logical address of a live GPU mapping translates to its object's page, one of a gone
 *    mapping never does (S7);
 *  - an aperture page translates to the page of the allocation mapped there, and faults
 *    where nothing is (S4, S20);
 *  - a CPU mapping and the physical pages hold the same bytes (S24);
 *  - MapApertureCpuVisible without MapAperture2Supported never creates (S21);
 *  - a near-2^64 call answers the status the model says (an IO range that runs past 2^64
 *    is refused, S7) and, refused, changes nothing: object and mapping counts, allocated
 *    frames, the logical allocator's pages in use; what succeeds is undone at once. */
#include "fuzz_common.h"

#define MAXH 8
#define PA_BITS 48

static const dmar_ram_range ram[] = {
	{ .base = 0x100000, .size = 128ull << 20 },
	{ .base = 1ull << 40, .size = 128ull << 20 }, /* above a 40-bit device's reach */
};

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
	dmar_physmem_config cfg = { .ranges = ram, .nranges = 2, .pa_bits = PA_BITS };

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

/* A value at an edge of 64-bit arithmetic: 2^64 - k, 2^64 - k pages, the last page
 * numbers, 2^63 and 2^32 within 128, 2^48 - k pages, a small k, or anything (k: a u8). */
static uint64_t fz_edge(struct fz *f)
{
	const uint8_t sel = fz_u8(f);
	const uint64_t k = fz_u8(f);

	switch (sel % 8) {
	case 0: return 0 - k;
	case 1: return (0 - k) << 12;
	case 2: return (UINT64_MAX >> 12) - k;
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

/* An object's pages: the first index dmar_pmo_page() answers DMAR_E_RANGE for. */
static uint64_t pmo_pages(dmar_pmo *o)
{
	dmar_pa_t pa;
	uint64_t n = 0;

	while (dmar_pmo_page(o, n, &pa) != DMAR_E_RANGE)
		n++;
	return n;
}

/* Opcode 12: one near-2^64 call at @irql (PASSIVE or APC: the edges, not the IRQL, are
 * under test).  @o, @al: the slot's object and allocation (may be NULL), @a: the slot's
 * aperture mapping in the model. */
static void edge_op(struct fz *f, dmar_adapter *ad, const dmar_adapter_config *ac, dmar_irql irql,
		    dmar_pmo *o, dmar_allocation *al, struct ap *a)
{
	const unsigned what = fz_u8(f) % 8;
	const uint64_t v1 = fz_edge(f), v2 = fz_edge(f), v3 = fz_edge(f);
	const uint64_t ap_pages = ac->aperture_pages[0];
	struct snap before;
	dmar_status st = DMAR_OK;

	snap_take(ad, &before);
	switch (what) {
	case 0: { /* CreatePhysicalMemoryObject: IO space, or frames, near the edges */
		const int io = v3 & 1;
		dmar_pmo_params p = { .kind = io ? DMAR_PMO_IO_SPACE : (dmar_pmo_kind)((v3 >> 1) % 3),
				      .size = v2, .io_base = io ? v1 : 0,
				      .place = io ? DMAR_PLACE_ANY : (dmar_placement)((v3 >> 3) % 3),
				      .limit = v1 };
		const int outside = (unsigned __int128)v1 + v2 > (unsigned __int128)1 << PA_BITS;
		dmar_pmo *n = NULL;

		st = dmar_pmo_create(ad, irql, &p, &n);
		if (v2 == 0 || (v2 & 0xfff) || v2 > DMAR_PMO_MAX_SIZE || (io && ((v1 & 0xfff) || outside)))
			FZ_CHECK_ST(st, DMAR_E_INVALID);
		else if (io && meets_ram(v1, v2)) /* S7, S24: IO space is not RAM */
			FZ_CHECK_ST(st, DMAR_E_RANGE);
		else if (io)
			FZ_CHECK_ST(st, DMAR_OK);
		else
			FZ_CHECK(st == DMAR_OK || st == DMAR_E_NOMEM);
		if (st == DMAR_OK) {
			FZ_CHECK_EQ(pmo_pages(n), v2 / 4096);
			FZ_CHECK_ST(dmar_pmo_destroy(ad, irql, n), DMAR_OK);
		} else {
			FZ_CHECK(n == NULL);
		}
		break;
	}
	case 1: /* MapPhysicalMemory, GPU */
	case 2: { /* ... and CPU: first page and count near the edges */
		const unsigned known = DMAR_PROT_READ | DMAR_PROT_WRITE | DMAR_PROT_EXEC | DMAR_PROT_USER;
		const unsigned prot = (unsigned)(v3 & 0x3f);
		const dmar_adl *g = NULL;
		uint64_t n;
		void *va = NULL;
		int fits;

		if (!o)
			break;
		n = pmo_pages(o);
		fits = v2 >= 1 && v1 < n && v2 <= n - v1;
		if (what == 1) {
			st = dmar_pmo_map_gpu(ad, irql, o, v1, v2, prot, &g);
			/* remap.h: the prot the domain's table can express, READ for an x86-64
			 * table; a pass-through adapter (no table) takes READ or WRITE */
			if (!fits || !(prot & gpu_prot_needs(ad)) || (prot & ~known))
				FZ_CHECK_ST(st, DMAR_E_INVALID);
			else
				FZ_CHECK(st == DMAR_OK || st == DMAR_E_NOSPACE || st == DMAR_E_NOMEM);
			if (st == DMAR_OK) {
				FZ_CHECK_EQ(g->page_count, v2);
				FZ_CHECK_ST(dmar_pmo_unmap_gpu(ad, irql, g), DMAR_OK);
			}
		} else {
			st = dmar_pmo_map_cpu(ad, irql, o, v1, v2, DMAR_CPU_USER,
					      DMAR_CACHE_WRITE_COMBINED, &va);
			if (!fits)
				FZ_CHECK_ST(st, DMAR_E_INVALID);
			else
				FZ_CHECK(st == DMAR_OK || st == DMAR_E_NOT_SUPPORTED || st == DMAR_E_NOMEM);
			if (st == DMAR_OK)
				FZ_CHECK_ST(dmar_pmo_unmap_cpu(ad, irql, o, va), DMAR_OK);
		}
		break;
	}
	case 3: { /* CreateAllocation: pages and limit near the edges */
		dmar_allocation_params p = { .npages = v1, .segment_set = 1u | (uint32_t)(v3 & 2),
					     .place = (dmar_placement)((v3 >> 3) % 3), .limit = v2 };
		dmar_allocation *n = NULL;

		if (v3 & 4)
			p.flags = DMAR_ALLOC_ACCESSED_PHYSICALLY;
		st = dmar_allocation_create(ad, irql, &p, &n);
		if (v1 == 0 || v1 > DMAR_PMO_MAX_SIZE / 4096 || ((v3 & 2) && !ap_pages))
			FZ_CHECK_ST(st, DMAR_E_INVALID);
		else
			FZ_CHECK(st == DMAR_OK || st == DMAR_E_NOMEM || st == DMAR_E_NOSPACE);
		if (st == DMAR_OK)
			FZ_CHECK_ST(dmar_allocation_destroy(ad, irql, n), DMAR_OK);
		break;
	}
	case 4: { /* MAP_APERTURE_SEGMENT2: every offset and count near the edges */
		dmar_op_map_aperture_segment2 m = {
			.h_allocation = al ? al : (dmar_allocation *)&m, .segment_id = 1,
			.offset_in_pages = v1, .number_of_pages = v2, .adl_offset = v3 };

		if (al && !(v3 & 1))
			m.adl = *dmar_allocation_adl(al);
		else
			m.adl = (dmar_adl){ .page_count = v2 ^ v3, .flags = DMAR_ADL_CONTIGUOUS,
					    .base_page = v1 };
		st = dmar_map_aperture_segment2(ad, irql, &m);
		if (st != DMAR_OK)
			break;
		/* it fits, without a sum past 2^64, and it is undone at once */
		FZ_CHECK(al && !a->live && v2 >= 1 &&
			 (unsigned __int128)v1 + v2 <= ap_pages &&
			 (unsigned __int128)v3 + v2 <= dmar_allocation_adl(al)->page_count);
		{
			const dmar_op_unmap_aperture_segment u = {
				.h_allocation = al, .segment_id = 1, .offset_in_pages = v1,
				.number_of_pages = v2 };

			FZ_CHECK_ST(dmar_unmap_aperture_segment(ad, irql, &u), DMAR_OK);
		}
		break;
	}
	case 5: { /* UNMAP_APERTURE_SEGMENT: offsets and counts near the edges */
		const dmar_op_unmap_aperture_segment u = {
			.h_allocation = al ? al : (dmar_allocation *)&u, .segment_id = 1,
			.offset_in_pages = v1, .number_of_pages = v2 };

		st = dmar_unmap_aperture_segment(ad, irql, &u);
		if (st == DMAR_OK) { /* only the exact range it was mapped with */
			FZ_CHECK(al && a->live && a->seg == 1 && a->off == v1 && a->n == v2);
			memset(a, 0, sizeof(*a));
			before.st.aperture_mappings--;
		}
		break;
	}
	case 6: { /* a device access through the aperture at an offset near the edges */
		const unsigned access = v3 & 1 ? DMAR_ACCESS_WRITE : DMAR_ACCESS_READ;
		dmar_result r;

		st = dmar_aperture_translate(ad, 1, v1, access, &r);
		if (!ap_pages) {
			FZ_CHECK_ST(st, DMAR_E_INVALID);
		} else if (v1 / 4096 >= ap_pages) {
			FZ_CHECK_ST(st, DMAR_E_FAULT);
			FZ_CHECK_EQ(r.fault, DMAR_FAULT_APERTURE);
		} else {
			FZ_CHECK(st == DMAR_OK || st == DMAR_E_FAULT);
		}
		break;
	}
	default: { /* the legacy allocations: size and highest address near the edges */
		dmar_pmo *n = NULL;

		st = v3 & 1 ? dmar_legacy_allocate_contiguous_memory(ad, irql, v1, v2, &n)
			    : dmar_legacy_allocate_pages_for_mdl(ad, irql, v1, &n);
		if (st == DMAR_E_DEPRECATED) /* S25: a remapping driver's adapter */
			break;
		if (v1 == 0 || (v1 & 0xfff) || v1 > DMAR_PMO_MAX_SIZE)
			FZ_CHECK_ST(st, DMAR_E_INVALID);
		else
			FZ_CHECK(st == DMAR_OK || st == DMAR_E_NOMEM);
		if (st == DMAR_OK) {
			FZ_CHECK_EQ(pmo_pages(n), v1 / 4096);
			FZ_CHECK_ST(dmar_pmo_destroy(ad, irql, n), DMAR_OK);
		}
		break;
	}
	}
	FZ_CHECK((unsigned)st < DMAR_STATUS_COUNT);
	snap_check(ad, &before, st != DMAR_OK);
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
		const uint8_t op = fz_u8(&f) % 13;
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
		case 12: /* near-2^64 values at one entry point */
			called = 0;
			edge_op(&f, ad, &ac, irql <= DMAR_APC_LEVEL ? irql : DMAR_PASSIVE_LEVEL, pmo[h],
				al[h], &ap[h]);
			break;
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
