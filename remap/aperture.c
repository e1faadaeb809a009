/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Allocations and aperture segments: MAP_APERTURE_SEGMENT2 (S20-S23), the legacy MDL
 * operation, and device accesses through the aperture (S4). */
#include <stdlib.h>
#include <string.h>

#include "rcu.h"
#include "remap_internal.h"
#include "physmem_internal.h"

#define PAGE DMAR_PAGE_SIZE

static int is_aperture(const dmar_adapter *ad, uint32_t seg)
{
	return seg >= 1 && seg <= DMAR_MAX_APERTURE_SEGMENTS && ad->ap[seg - 1].npages;
}

/* ---- allocations ------------------------------------------------------------------------ */

static dmar_status allocation_create_once(dmar_adapter *ad, dmar_irql irql,
					  const dmar_allocation_params *p, dmar_allocation **out,
					  int again)
{
	const uint32_t known = DMAR_ALLOC_ACCESSED_PHYSICALLY | DMAR_ALLOC_MAP_APERTURE_CPU_VISIBLE |
			       DMAR_ALLOC_PRIMARY;
	dmar_pmo_params pp = { .kind = DMAR_PMO_NONPAGED };
	dmar_allocation *al;
	uint32_t seg = DMAR_SEGMENT_SYSTEM;
	dmar_status st;

	if (!p || !out || p->npages == 0 || p->npages > (1ull << 40) / PAGE ||
	    p->flags & ~known || !p->segment_set ||
	    p->segment_set >> (DMAR_MAX_APERTURE_SEGMENTS + 1) || (unsigned)p->place > DMAR_PLACE_ABOVE)
		return DMAR_E_INVALID;
	st = dmar__callback_reenter(ad, irql, "CreateAllocation", NULL, H_NONE, again);
	if (st != DMAR_OK)
		return st;
	for (uint32_t s = 1; s <= DMAR_MAX_APERTURE_SEGMENTS; s++)
		if (p->segment_set & (1u << s) && !is_aperture(ad, s))
			return dmar__adapter_leave(ad, DMAR_E_INVALID); /* a segment it lacks */
	/* S21: MapApertureCpuVisible is part of the MapApertureSegment2 feature */
	if ((p->flags & DMAR_ALLOC_MAP_APERTURE_CPU_VISIBLE) && !ad->cfg.map_aperture2)
		return dmar__adapter_leave(ad, DMAR_E_NOT_SUPPORTED);
	/* S22: only AccessedPhysically allocations live in an aperture segment; the others are
	 * promoted to the implicit system-memory segment */
	if (p->flags & DMAR_ALLOC_ACCESSED_PHYSICALLY)
		for (uint32_t s = 1; s <= DMAR_MAX_APERTURE_SEGMENTS && !seg; s++)
			if (p->segment_set & (1u << s))
				seg = s;
	al = calloc(1, sizeof(*al));
	if (!al)
		return dmar__adapter_leave(ad, DMAR_E_NOMEM);
	pp.size = p->npages * PAGE;
	pp.place = p->place;
	pp.limit = p->limit;
	if (!ad->started) {
		st = DMAR_E_BUSY;
		goto fail;
	}
	st = dmar__pmo_create(ad, &pp, &al->pmo);
	if (st != DMAR_OK)
		goto fail;
	st = dmar__pmo_map_gpu(ad, al->pmo, 0, p->npages, DMAR_PROT_READ | DMAR_PROT_WRITE, 0,
			       &al->adl);
	if (st == DMAR_OK && ptrset_add(&ad->handles, al, H_ALLOCATION) != 0) {
		(void)dmar__pmo_unmap_gpu(ad, (struct adl_box *)(uintptr_t)al->adl);
		st = DMAR_E_NOMEM;
	}
	if (st != DMAR_OK) {
		(void)dmar__pmo_destroy(ad, al->pmo);
		goto fail;
	}
	al->pmo->al = al; /* its object and ADL are the allocation's to free (remap.h) */
	al->ad = ad;
	al->p = *p;
	al->segment = seg;
	al->next = ad->allocs;
	ad->allocs = al;
	ad->st.allocations++;
	*out = al;
	return dmar__adapter_leave(ad, DMAR_OK);
fail:
	free(al);
	return dmar__adapter_leave(ad, st);
}

dmar_status dmar_allocation_create(dmar_adapter *ad, dmar_irql irql, const dmar_allocation_params *p,
				   dmar_allocation **out)
{
	dmar_status st;
	int tried = 0;

	do
		st = allocation_create_once(ad, irql, p, out, tried);
	while (dmar__retry_after_drain(ad, st, &tried));
	return st;
}

static void ap_clear(dmar_adapter *ad, dmar_allocation *al)
{
	struct aperture *a = &ad->ap[al->ap.seg - 1];

	for (uint64_t i = 0; i < al->ap.n; i++)
		__atomic_store_n(&a->entry[al->ap.off + i], 0, __ATOMIC_RELEASE);
	/* S21: the CPU-visible address is released right after the unmap */
	dmar__physmem_unalias(al->ap.cpu_va, al->ap.n);
	memset(&al->ap, 0, sizeof(al->ap));
	ad->st.aperture_mappings--;
}

void dmar__allocation_teardown(dmar_adapter *ad, dmar_allocation *al)
{
	if (al->ap.live)
		ap_clear(ad, al);
	for (dmar_allocation **q = &ad->allocs; *q; q = &(*q)->next)
		if (*q == al) {
			*q = al->next;
			break;
		}
	ptrset_del(&ad->handles, al);
	/* its own ADL and object go with it; dmar_allocation_destroy() leaves nothing else
	 * (no other mapping or reference of the object), the adapter's destroy everything */
	al->pmo->al = NULL;
	dmar__pmo_teardown(ad, al->pmo);
	free(al);
	ad->st.allocations--;
}

dmar_status dmar_allocation_destroy(dmar_adapter *ad, dmar_irql irql, dmar_allocation *al)
{
	dmar_status st;

	st = dmar__callback_enter(ad, irql, "DestroyAllocation", al, H_ALLOCATION);
	if (st != DMAR_OK)
		return st;
	/* busy while the object is used beyond the allocation's own mapping (its CPU
	 * mappings, more GPU mappings, references): those must end first */
	if (al->ap.live || al->pmo->cpu || al->pmo->opens || al->pmo->gpu->next)
		st = DMAR_E_BUSY;
	else
		dmar__allocation_teardown(ad, al);
	return dmar__adapter_leave(ad, st);
}

uint32_t dmar_allocation_segment(const dmar_allocation *al)
{
	return al ? al->segment : DMAR_SEGMENT_SYSTEM;
}

const dmar_adl *dmar_allocation_adl(const dmar_allocation *al)
{
	return al ? al->adl : NULL;
}

dmar_pmo *dmar_allocation_pmo(dmar_allocation *al)
{
	return al ? al->pmo : NULL;
}

/* ---- MAP_APERTURE_SEGMENT2 (S20-S23) ------------------------------------------------------ */

/* The checks every aperture operation shares, ad->lock held. */
static dmar_status check_target(dmar_adapter *ad, const dmar_gpu_context *dev, const dmar_allocation *al,
				uint32_t seg, uint64_t off, uint64_t n)
{
	if (dev && ptrset_get(&ad->handles, dev) != H_CONTEXT)
		return DMAR_E_INVALID;
	if (ptrset_get(&ad->handles, al) != H_ALLOCATION || !is_aperture(ad, seg))
		return DMAR_E_INVALID;
	/* S22: an allocation that does not live in this aperture segment gets no MAP_APERTURE */
	if (al->segment != seg)
		return DMAR_E_INVALID;
	if (n == 0 || off >= ad->ap[seg - 1].npages || n > ad->ap[seg - 1].npages - off ||
	    n > al->pmo->npages)
		return DMAR_E_RANGE;
	return DMAR_OK;
}

dmar_status dmar_map_aperture_segment2(dmar_adapter *ad, dmar_irql irql, dmar_op_map_aperture_segment2 *op)
{
	const uint32_t known = DMAR_MAPAP_CACHE_COHERENT | DMAR_MAPAP_READ_ONLY;
	dmar_allocation *al;
	struct aperture *a;
	void *cpu = NULL;
	dmar_status st;

	if (!op)
		return DMAR_E_INVALID;
	st = dmar__callback_enter(ad, irql, "MapApertureSegment2", NULL, H_NONE);
	if (st != DMAR_OK)
		return st;
	if (!ad->cfg.map_aperture2) {
		st = DMAR_E_NOT_SUPPORTED; /* S20: such a driver gets the legacy operation */
		goto out;
	}
	if (op->flags & ~known ||
	    op->adl.flags & ~(uint32_t)(DMAR_ADL_CONTIGUOUS | DMAR_ADL_LOGICAL) ||
	    (!(op->adl.flags & DMAR_ADL_CONTIGUOUS) && !op->adl.pages)) {
		st = DMAR_E_INVALID;
		goto out;
	}
	al = op->h_allocation;
	st = check_target(ad, op->h_device, al, op->segment_id, op->offset_in_pages,
			  op->number_of_pages);
	if (st != DMAR_OK)
		goto out;
	if (op->adl_offset >= op->adl.page_count ||
	    op->number_of_pages > op->adl.page_count - op->adl_offset) {
		st = DMAR_E_RANGE;
		goto out;
	}
	/* the driver reads the ADL in whichever form it comes (S23); each entry used must be
	 * the allocation's own page at that index: an aperture page reaches nothing else */
	for (uint64_t i = 0; i < op->number_of_pages; i++) {
		uint64_t mine, given;

		if (dmar_adl_page(al->adl, op->adl_offset + i, &mine) != DMAR_OK ||
		    dmar_adl_page(&op->adl, op->adl_offset + i, &given) != DMAR_OK || mine != given) {
			st = DMAR_E_INVALID;
			goto out;
		}
	}
	a = &ad->ap[op->segment_id - 1];
	if (al->ap.live) {
		st = DMAR_E_EXISTS;
		goto out;
	}
	for (uint64_t i = 0; i < op->number_of_pages; i++)
		if (a->entry[op->offset_in_pages + i]) {
			st = DMAR_E_EXISTS; /* overlaps another mapping */
			goto out;
		}
	/* S21: a kernel address for MapApertureCpuVisible allocations only */
	if (al->p.flags & DMAR_ALLOC_MAP_APERTURE_CPU_VISIBLE) {
		st = dmar__physmem_alias(ad->pm, al->pmo->pages + op->adl_offset, op->number_of_pages,
					 1, &cpu);
		if (st != DMAR_OK)
			goto out;
	}
	op->cpu_visible_address = cpu;
	if (ad->cfg.paging) {
		st = ad->cfg.paging(ad->cfg.paging_ctx, DMAR_OP_MAP_APERTURE_SEGMENT2, op);
		if (st != DMAR_OK) {
			dmar__physmem_unalias(cpu, op->number_of_pages);
			op->cpu_visible_address = NULL;
			goto out;
		}
	}
	for (uint64_t i = 0; i < op->number_of_pages; i++) {
		uint64_t page;

		(void)dmar_adl_page(&op->adl, op->adl_offset + i, &page);
		__atomic_store_n(&a->entry[op->offset_in_pages + i],
				 page << 12 | AP_VALID |
					 (op->flags & DMAR_MAPAP_READ_ONLY ? AP_READONLY : 0),
				 __ATOMIC_RELEASE);
	}
	al->ap.live = 1;
	al->ap.seg = op->segment_id;
	al->ap.off = op->offset_in_pages;
	al->ap.n = op->number_of_pages;
	al->ap.cpu_va = cpu;
	ad->st.aperture_mappings++;
out:
	return dmar__adapter_leave(ad, st);
}

dmar_status dmar_unmap_aperture_segment(dmar_adapter *ad, dmar_irql irql,
					const dmar_op_unmap_aperture_segment *op)
{
	dmar_allocation *al;
	dmar_status st;

	if (!op)
		return DMAR_E_INVALID;
	st = dmar__callback_enter(ad, irql, "UnmapApertureSegment", NULL, H_NONE);
	if (st != DMAR_OK)
		return st;
	al = op->h_allocation;
	st = check_target(ad, op->h_device, al, op->segment_id, op->offset_in_pages,
			  op->number_of_pages);
	if (st == DMAR_OK && (!al->ap.live || al->ap.seg != op->segment_id ||
			      al->ap.off != op->offset_in_pages || al->ap.n != op->number_of_pages))
		st = DMAR_E_NOT_FOUND;
	if (st == DMAR_OK && ad->cfg.paging)
		st = ad->cfg.paging(ad->cfg.paging_ctx, DMAR_OP_UNMAP_APERTURE_SEGMENT, op);
	if (st == DMAR_OK)
		ap_clear(ad, al);
	return dmar__adapter_leave(ad, st);
}

dmar_status dmar_map_aperture_segment_mdl(dmar_adapter *ad, dmar_irql irql, dmar_allocation *al,
					  uint32_t seg, uint64_t off, uint64_t n,
					  const dmar_pa_t *mdl)
{
	struct aperture *a;
	dmar_status st;

	if (!al || !mdl)
		return DMAR_E_INVALID;
	st = dmar__callback_enter(ad, irql, "MapApertureSegment", NULL, H_NONE);
	if (st != DMAR_OK)
		return st;
	/* S20: a MapAperture2 driver never gets it; remapped pages have no MDL */
	if (ad->cfg.map_aperture2 || ad->dec.mode == DMAR_START_REMAPPED)
		st = DMAR_E_NOT_SUPPORTED;
	else
		st = check_target(ad, NULL, al, seg, off, n);
	if (st != DMAR_OK)
		goto out;
	for (uint64_t i = 0; i < n; i++)
		if (mdl[i] != al->pmo->pages[i]) { /* the allocation's own pages only */
			st = DMAR_E_INVALID;
			goto out;
		}
	a = &ad->ap[seg - 1];
	if (al->ap.live) {
		st = DMAR_E_EXISTS;
		goto out;
	}
	for (uint64_t i = 0; i < n; i++)
		if (a->entry[off + i]) {
			st = DMAR_E_EXISTS;
			goto out;
		}
	if (ad->cfg.paging) { /* validated: the driver builds the operation (op 5) */
		const dmar_op_map_aperture_segment op = {
			.h_allocation = al, .segment_id = seg, .offset_in_pages = off,
			.number_of_pages = n, .mdl_pages = mdl,
		};

		st = ad->cfg.paging(ad->cfg.paging_ctx, DMAR_OP_MAP_APERTURE_SEGMENT, &op);
		if (st != DMAR_OK)
			goto out;
	}
	for (uint64_t i = 0; i < n; i++)
		__atomic_store_n(&a->entry[off + i], (mdl[i] & ~(PAGE - 1)) | AP_VALID, __ATOMIC_RELEASE);
	al->ap.live = 1;
	al->ap.seg = seg;
	al->ap.off = off;
	al->ap.n = n;
	ad->st.aperture_mappings++;
out:
	return dmar__adapter_leave(ad, st);
}

/* ---- device accesses through the aperture (S4) ------------------------------------------- */

dmar_status dmar_aperture_translate(dmar_adapter *ad, uint32_t seg, uint64_t offset, unsigned access,
				    dmar_result *res)
{
	dmar_request req;
	uint64_t e;

	if (!ad || !res || !is_aperture(ad, seg) || (access & ~DMAR_ACCESS_ALL))
		return DMAR_E_INVALID;
	if (!dmar__thread_ok())
		return DMAR_E_THREAD;
	memset(res, 0, sizeof(*res));
	/* past the segment's end is an unmapped aperture page as well: counted and queued */
	e = offset / PAGE >= ad->ap[seg - 1].npages
		    ? 0
		    : __atomic_load_n(&ad->ap[seg - 1].entry[offset / PAGE], __ATOMIC_ACQUIRE);
	if (!(e & AP_VALID) || ((e & AP_READONLY) && (access & DMAR_ACCESS_WRITE))) {
		dmar_fault_record rec = { .addr = offset, .pasid = DMAR_NO_PASID,
					  .requester = ad->cfg.rid, .access = (uint8_t)access };

		res->fault = e & AP_VALID ? DMAR_FAULT_WRITE : DMAR_FAULT_APERTURE;
		rec.reason = res->fault;
		__atomic_fetch_add(&ad->st.aperture_faults, 1, __ATOMIC_RELAXED);
		(void)dmar_faultq_push(dmar_iommu_faults(ad->iommu), &rec);
		return DMAR_E_FAULT;
	}
	/* segment page -> logical address -> the IOMMU (which counts and queues its faults) */
	req.iova = (e & ~(PAGE - 1)) | (offset & (PAGE - 1));
	req.access = access;
	req.pasid = DMAR_NO_PASID;
	return dmar_device_translate(ad->dev[0], &req, res);
}
