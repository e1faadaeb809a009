/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Physical memory objects and their GPU and CPU mappings (S24), ADLs (S19, S23), and the
 * legacy callbacks (S25). */
#include "rcu.h"

#include <stdlib.h>
#include <string.h>

#include "remap_internal.h"
#include "physmem_internal.h"
#include "fmt.h"
#include "iommu_internal.h"
#include "range.h"

#define PAGE DMAR_PAGE_SIZE

/* ---- frames ----------------------------------------------------------------------------- */

static void frames_free(dmar_adapter *ad, dmar_pmo *o)
{
	if (!o->pages)
		return;
	if (o->kind == DMAR_PMO_CONTIGUOUS) {
		(void)dmar_physmem_free(ad->pm, o->pages[0], o->npages);
	} else if (o->kind != DMAR_PMO_IO_SPACE) {
		for (uint64_t i = 0; i < o->npages; i++)
			if (o->pages[i])
				(void)dmar_physmem_free(ad->pm, o->pages[i], 1);
	}
	free(o->pages);
	o->pages = NULL;
}

/* Zero the frames, one call per physically contiguous run (either direction). */
static void frames_zero(dmar_adapter *ad, const dmar_pmo *o)
{
	for (uint64_t i = 0; i < o->npages;) {
		uint64_t run = 1;
		dmar_pa_t lo = o->pages[i];

		while (i + run < o->npages && o->pages[i + run] == o->pages[i] - run * PAGE)
			run++;
		if (run > 1) {
			lo = o->pages[i + run - 1];
		} else {
			while (i + run < o->npages && o->pages[i + run] == o->pages[i] + run * PAGE)
				run++;
		}
		(void)dmar__physmem_zero(ad->pm, lo, run * PAGE);
		i += run;
	}
}

static dmar_status frames_alloc(dmar_adapter *ad, dmar_pmo *o, unsigned align_lg2, dmar_pa_t io_base)
{
	dmar_status st = DMAR_OK;
	dmar_pa_t base;

	o->pages = calloc(o->npages, sizeof(*o->pages));
	if (!o->pages)
		return DMAR_E_NOMEM;
	switch (o->kind) {
	case DMAR_PMO_IO_SPACE:
		for (uint64_t i = 0; i < o->npages; i++)
			o->pages[i] = io_base + i * PAGE;
		return DMAR_OK;
	case DMAR_PMO_CONTIGUOUS:
		st = dmar_physmem_alloc(ad->pm, o->npages, align_lg2, o->place, o->limit, &base);
		for (uint64_t i = 0; st == DMAR_OK && i < o->npages; i++)
			o->pages[i] = base + i * PAGE;
		break;
	default: /* page by page: the pages of the object need not be contiguous (S13) */
		for (uint64_t i = 0; st == DMAR_OK && i < o->npages; i++)
			st = dmar_physmem_alloc(ad->pm, 1, 12, o->place, o->limit, &o->pages[i]);
		break;
	}
	if (st != DMAR_OK) {
		if (o->kind == DMAR_PMO_CONTIGUOUS) {
			free(o->pages);
			o->pages = NULL;
		} else {
			frames_free(ad, o);
		}
		return st == DMAR_E_RANGE ? DMAR_E_NOMEM : st;
	}
	frames_zero(ad, o); /* no data of an earlier owner is ever handed out */
	return DMAR_OK;
}

/* A section object's pages exist while it is locked: bring them back.  *fresh says whether
 * this call did; its contents then stay in o->backing as well until the caller either took
 * the lock (section_settle) or failed (section_unfetch: the object is as it was before). */
static dmar_status section_resident(dmar_adapter *ad, dmar_pmo *o, int *fresh)
{
	dmar_status st;

	*fresh = 0;
	if (o->kind != DMAR_PMO_SECTION || o->pages)
		return DMAR_OK;
	st = frames_alloc(ad, o, 12, 0);
	if (st != DMAR_OK)
		return st;
	if (o->backing)
		for (uint64_t i = 0; i < o->npages; i++)
			(void)dmar_physmem_write(ad->pm, o->pages[i], o->backing + i * PAGE, PAGE);
	*fresh = 1;
	return DMAR_OK;
}

static void section_settle(dmar_pmo *o, int fresh)
{
	if (fresh) {
		free(o->backing);
		o->backing = NULL;
	}
}

static void section_unfetch(dmar_adapter *ad, dmar_pmo *o, int fresh)
{
	if (fresh)
		frames_free(ad, o); /* the contents are still in o->backing (NULL: all zero) */
}

/* ---- objects --------------------------------------------------------------------------- */

/* Whether the IO range [base, last] shares a byte with RAM (ranges by their last byte,
 * range.h: no sum here wraps). */
static int io_overlaps_ram(const dmar_physmem *pm, dmar_pa_t base, dmar_pa_t last)
{
	for (unsigned i = 0;; i++) {
		const dmar_ram_range *r = dmar_physmem_range(pm, i);
		uint64_t r_last;

		if (!r)
			return 0;
		if (dmar__range_last(r->base, r->size, &r_last) &&
		    dmar__ranges_meet(base, last, r->base, r_last))
			return 1;
	}
}

dmar_status dmar__pmo_create(dmar_adapter *ad, const dmar_pmo_params *p, dmar_pmo **out)
{
	dmar_physmem_stats ps;
	unsigned align = p->align_lg2 ? p->align_lg2 : 12;
	dmar_pmo *o;
	dmar_status st = DMAR_OK;

	dmar_physmem_get_stats(ad->pm, &ps);
	if ((unsigned)p->kind >= DMAR_PMO_KIND_COUNT || p->size == 0 || p->size & (PAGE - 1) ||
	    p->size > DMAR_PMO_MAX_SIZE || (unsigned)p->place > DMAR_PLACE_ABOVE || align < 12 ||
	    align > 30)
		return DMAR_E_INVALID;
	if (p->kind == DMAR_PMO_IO_SPACE) {
		/* S7, S24: IO space lies below the physical width, held by its last byte: a
		 * range that runs past 2^64 would wrap onto RAM at physical 0 */
		const uint64_t pa_last = ps.pa_bits >= 64 ? UINT64_MAX : (1ull << ps.pa_bits) - 1;
		uint64_t last;

		if (p->io_base & (PAGE - 1) || !dmar__range_within(p->io_base, p->size, 0, pa_last))
			return DMAR_E_INVALID;
		(void)dmar__range_last(p->io_base, p->size, &last);
		if (io_overlaps_ram(ad->pm, p->io_base, last))
			return DMAR_E_RANGE;
	} else if (p->size > ps.allocatable_bytes) {
		return DMAR_E_NOMEM;
	}
	o = calloc(1, sizeof(*o));
	if (!o)
		return DMAR_E_NOMEM;
	o->ad = ad;
	o->kind = p->kind;
	o->npages = p->size / PAGE;
	o->place = p->place;
	o->limit = p->limit;
	if (p->kind != DMAR_PMO_SECTION) /* a section's pages come when it is first locked */
		st = frames_alloc(ad, o, align, p->io_base);
	if (st == DMAR_OK && ad->dec.mode == DMAR_START_ISOLATION &&
	    !(o->idmap = calloc(o->npages, sizeof(*o->idmap))))
		st = DMAR_E_NOMEM;
	if (st == DMAR_OK && ptrset_add(&ad->handles, o, H_PMO) != 0)
		st = DMAR_E_NOMEM;
	if (st != DMAR_OK) {
		frames_free(ad, o);
		free(o->idmap);
		free(o);
		return st;
	}
	o->prestart = !ad->started;
	o->next = ad->pmos;
	ad->pmos = o;
	ad->st.pmos++;
	*out = o;
	return DMAR_OK;
}

static void pmo_unlink_free(dmar_adapter *ad, dmar_pmo *o)
{
	for (dmar_pmo **q = &ad->pmos; *q; q = &(*q)->next)
		if (*q == o) {
			*q = o->next;
			break;
		}
	ptrset_del(&ad->handles, o);
	frames_free(ad, o);
	free(o->backing);
	free(o->idmap);
	free(o);
	ad->st.pmos--;
}

dmar_status dmar__pmo_destroy(dmar_adapter *ad, dmar_pmo *o)
{
	if (o->gpu || o->cpu || o->opens)
		return DMAR_E_BUSY;
	dmar__pmo_unmap_identity(ad, o); /* what the start mapped (S10) */
	pmo_unlink_free(ad, o);
	return DMAR_OK;
}

dmar_status dmar_pmo_create(dmar_adapter *ad, dmar_irql irql, const dmar_pmo_params *p, dmar_pmo **out)
{
	dmar_status st;

	if (!p || !out)
		return DMAR_E_INVALID;
	st = dmar__callback_enter(ad, irql, "CreatePhysicalMemoryObject", NULL, H_NONE);
	if (st != DMAR_OK)
		return st;
	return dmar__adapter_leave(ad, dmar__pmo_create(ad, p, out));
}

dmar_status dmar_pmo_open(dmar_adapter *ad, dmar_irql irql, dmar_pmo *o)
{
	dmar_status st = dmar__callback_enter(ad, irql, "OpenPhysicalMemoryObject", o, H_PMO);

	if (st != DMAR_OK)
		return st;
	if (o->opens >= DMAR_PMO_MAX_OPENS)
		st = DMAR_E_BUSY;
	else
		o->opens++;
	return dmar__adapter_leave(ad, st);
}

dmar_status dmar_pmo_close(dmar_adapter *ad, dmar_irql irql, dmar_pmo *o)
{
	dmar_status st = dmar__callback_enter(ad, irql, "ClosePhysicalMemoryObject", o, H_PMO);

	if (st != DMAR_OK)
		return st;
	if (o->opens == 0)
		st = DMAR_E_INVALID;
	else
		o->opens--;
	return dmar__adapter_leave(ad, st);
}

dmar_status dmar_pmo_destroy(dmar_adapter *ad, dmar_irql irql, dmar_pmo *o)
{
	dmar_status st = dmar__callback_enter(ad, irql, "DestroyPhysicalMemoryObject", o, H_PMO);

	if (st != DMAR_OK)
		return st;
	if (o->al) /* an allocation's object: dmar_allocation_destroy() frees it */
		return dmar__adapter_leave(ad, DMAR_E_BUSY);
	return dmar__adapter_leave(ad, dmar__pmo_destroy(ad, o));
}

dmar_status dmar_pmo_page(dmar_pmo *o, uint64_t i, dmar_pa_t *pa)
{
	dmar_status st = DMAR_OK;

	if (!o || !pa)
		return DMAR_E_INVALID;
	dmar__adapter_lock(o->ad);
	if (i >= o->npages)
		st = DMAR_E_RANGE;
	else if (!o->pages)
		st = DMAR_E_BUSY;
	else
		*pa = o->pages[i];
	dmar__unlock(&o->ad->lock);
	return st;
}

/* ---- 1:1 entries (isolation, S8, S10) -------------------------------------------------------- */

/* The permissions the holders of a page's 1:1 entry give it together. */
static unsigned idpage_union(const struct idpage *p)
{
	unsigned prot = 0;

	for (unsigned b = 0; b < 4; b++)
		if (p->by[b])
			prot |= 1u << b;
	return prot;
}

/* Give the 1:1 entry of frame @pa the permissions @want (0: no entry), p->prot what it has.
 * A table entry's permissions change by unmap (which invalidates the IOTLB, S28) and map.
 * Should the map find no frame for a table page, the old permissions are put back when they
 * are narrower (a widening that failed), else, or if even that fails, the page is left
 * unmapped (p->prot 0: the next holder maps it again): a device never gets more than the
 * mappings ask for. */
static dmar_status idpage_set(dmar_adapter *ad, struct idpage *p, dmar_pa_t pa, unsigned want)
{
	dmar_status st;

	if (want == p->prot)
		return DMAR_OK;
	if (p->prot)
		(void)dmar_domain_unmap(ad->dom, pa, PAGE, NULL); /* a 4 KiB leaf: no split */
	if (!want) {
		p->prot = 0;
		return DMAR_OK;
	}
	st = dmar_domain_map(ad->dom, pa, pa, PAGE, want);
	if (st == DMAR_OK)
		p->prot = (uint8_t)want;
	else if (!p->prot || (p->prot & ~want) ||
		 dmar_domain_map(ad->dom, pa, pa, PAGE, p->prot) != DMAR_OK)
		p->prot = 0;
	return st;
}

/* One holder asking @prot joins (@d = 1) or leaves (@d = -1) the entry's holders. */
static void idpage_hold(struct idpage *p, unsigned prot, int d)
{
	p->n = (uint16_t)(p->n + d);
	for (unsigned b = 0; b < 4; b++)
		if (prot & 1u << b)
			p->by[b] = (uint16_t)(p->by[b] + d);
}

static void identity_put(dmar_adapter *ad, dmar_pmo *o, uint64_t first, uint64_t n, unsigned prot)
{
	for (uint64_t i = first; i < first + n; i++) {
		struct idpage *p = &o->idmap[i];

		if (!p->n)
			continue;
		idpage_hold(p, prot, -1);
		/* the permissions narrow to what the remaining holders ask (S8) */
		(void)idpage_set(ad, p, o->pages[i], p->n ? idpage_union(p) : 0);
	}
}

static dmar_status identity_get(dmar_adapter *ad, dmar_pmo *o, uint64_t first, uint64_t n,
				unsigned prot)
{
	for (uint64_t i = first; i < first + n; i++) {
		struct idpage *p = &o->idmap[i];
		dmar_status st = DMAR_OK;

		if (p->n == UINT16_MAX)
			st = DMAR_E_BUSY; /* the holders' count is 16 bits (remap.h) */
		else /* the union of every holder's permissions, this one's included */
			st = idpage_set(ad, p, o->pages[i], idpage_union(p) | prot);
		if (st != DMAR_OK) {
			identity_put(ad, o, first, i - first, prot);
			return st;
		}
		idpage_hold(p, prot, 1);
	}
	return DMAR_OK;
}

/* The start's 1:1 mapping of an object allocated before it (S10): READ|WRITE, the most a
 * driver's pages get. */
#define START_PROT (DMAR_PROT_READ | DMAR_PROT_WRITE)

dmar_status dmar__pmo_map_identity(dmar_adapter *ad, dmar_pmo *o)
{
	dmar_status st;

	if (!o->pages || !o->idmap || o->idstart)
		return DMAR_OK; /* a trimmed section object has nothing to map */
	st = identity_get(ad, o, 0, o->npages, START_PROT);
	if (st == DMAR_OK) {
		o->idstart = 1;
		ad->st.pages_mapped_at_start += o->npages;
	}
	return st;
}

void dmar__pmo_unmap_identity(dmar_adapter *ad, dmar_pmo *o)
{
	if (o->idstart)
		identity_put(ad, o, 0, o->npages, START_PROT);
	o->idstart = 0;
}

/* Whether the GPU mappings of @o hold 1:1 entries: in isolation, except where EnableMappings
 * mapped the object's pages already (all RAM, S9: IO space is not RAM). */
static int identity_held(const dmar_adapter *ad, const dmar_pmo *o)
{
	return ad->dec.mode == DMAR_START_ISOLATION &&
	       (!ad->all_mapped || o->kind == DMAR_PMO_IO_SPACE);
}

/* ---- GPU mappings (S24 (2)) ------------------------------------------------------------------ */

static struct adl_box *adl_box_new(uint64_t n, int array)
{
	struct adl_box *b;

	if (n > (SIZE_MAX - sizeof(*b)) / sizeof(uint64_t))
		return NULL;
	b = calloc(1, sizeof(*b) + (array ? n * sizeof(uint64_t) : 0));
	if (!b)
		return NULL;
	b->adl.page_count = n;
	if (array)
		b->adl.pages = b->storage;
	else
		b->adl.flags = DMAR_ADL_CONTIGUOUS;
	return b;
}

/* The ADL of physical pages [first, first + n): contiguous when they are. */
static struct adl_box *adl_of_pages(const dmar_pa_t *pages, uint64_t n)
{
	int contiguous = 1;
	struct adl_box *b;

	for (uint64_t i = 1; i < n && contiguous; i++)
		contiguous = pages[i] == pages[0] + i * PAGE;
	b = adl_box_new(n, !contiguous);
	if (!b)
		return NULL;
	if (contiguous)
		b->adl.base_page = pages[0] / PAGE;
	else
		for (uint64_t i = 0; i < n; i++)
			b->storage[i] = pages[i] / PAGE;
	return b;
}

static dmar_status remap_pages(dmar_adapter *ad, const dmar_pa_t *pages, uint64_t n,
			       dmar_iova_t iova, unsigned prot)
{
	for (uint64_t i = 0; i < n;) {
		uint64_t run = 1;
		dmar_status st;

		while (i + run < n && pages[i + run] == pages[i] + run * PAGE)
			run++;
		st = dmar_domain_map(ad->dom, iova + i * PAGE, pages[i], run * PAGE, prot);
		if (st != DMAR_OK) {
			if (i)
				(void)dmar_domain_unmap(ad->dom, iova, i * PAGE, NULL);
			return st;
		}
		i += run;
	}
	return DMAR_OK;
}

/* S24 (2): the permissions of a GPU mapping are what the domain's table can express (an
 * x86-64 entry has no page that is not readable; VT-d and AMD-Vi have write-only ones);
 * checked before anything is allocated, whatever the start mode. */
static int gpu_prot_ok(dmar_adapter *ad, unsigned prot)
{
	const dmar_pgtable *pt = dmar_domain_pgtable(ad->dom);
	struct pt_fmt f;

	if (prot & ~(unsigned)(DMAR_PROT_READ | DMAR_PROT_WRITE | DMAR_PROT_EXEC | DMAR_PROT_USER))
		return 0;
	if (!pt)
		return (prot & (DMAR_PROT_READ | DMAR_PROT_WRITE)) != 0;
	return pt_fmt_init(&f, dmar_pgtable_format(pt)) && pt_prot_ok(&f, prot);
}

dmar_status dmar__pmo_map_gpu(dmar_adapter *ad, dmar_pmo *o, uint64_t first, uint64_t npages,
			      unsigned prot, int legacy, const dmar_adl **adl)
{
	struct gpu_map *m;
	struct adl_box *b = NULL;
	int fresh = 0;
	dmar_status st;

	if (npages == 0 || first >= o->npages || npages > o->npages - first ||
	    !gpu_prot_ok(ad, prot))
		return DMAR_E_INVALID;
	if (!ad->started)
		return DMAR_E_BUSY; /* S17: the device maps memory once it is started */
	if (dmar__device_exclusive(ad->dev[0]))
		return DMAR_E_BUSY; /* S18: no other driver call inside the window */
	m = calloc(1, sizeof(*m));
	if (!m)
		return DMAR_E_NOMEM;
	st = section_resident(ad, o, &fresh); /* S24: the pages are locked while mapped */
	if (st != DMAR_OK)
		goto fail;
	switch (ad->dec.mode) {
	case DMAR_START_REMAPPED: /* S13: a logical range over whatever pages */
		st = dmar_iova_alloc(ad->iovad, npages, &m->iova);
		if (st != DMAR_OK)
			goto fail;
		m->iova_pages = npages;
		st = remap_pages(ad, o->pages + first, npages, m->iova, prot);
		if (st != DMAR_OK) {
			(void)dmar_iova_free(ad->iovad, m->iova, npages);
			goto fail;
		}
		b = adl_box_new(npages, 0); /* S23: contiguous logical pages */
		if (b) {
			b->adl.flags |= DMAR_ADL_LOGICAL;
			b->adl.base_page = m->iova / PAGE;
		}
		break;
	case DMAR_START_ISOLATION: /* S8: the same page numbers, only these pages */
		if (identity_held(ad, o)) {
			st = identity_get(ad, o, first, npages, prot);
			if (st != DMAR_OK)
				goto fail;
		}
		b = adl_of_pages(o->pages + first, npages);
		break;
	default: /* pass-through: the device uses physical addresses */
		b = adl_of_pages(o->pages + first, npages);
		break;
	}
	if (!b || ptrset_add(&ad->handles, b, H_ADL_MAPPING) != 0) {
		st = DMAR_E_NOMEM;
		free(b);
		b = NULL;
		goto undo;
	}
	m->pmo = o;
	m->first = first;
	m->npages = npages;
	m->prot = prot;
	m->adl = b;
	b->map = m;
	m->legacy = legacy;
	m->next = o->gpu;
	o->gpu = m;
	o->locks++;
	section_settle(o, fresh);
	ad->st.gpu_mappings++;
	*adl = &b->adl;
	return DMAR_OK;
undo:
	if (ad->dec.mode == DMAR_START_REMAPPED) {
		(void)dmar_domain_unmap(ad->dom, m->iova, npages * PAGE, NULL);
		(void)dmar_iova_free(ad->iovad, m->iova, npages);
	} else if (identity_held(ad, o)) {
		identity_put(ad, o, first, npages, prot);
	}
fail:
	section_unfetch(ad, o, fresh);
	free(m);
	return st;
}

dmar_status dmar__pmo_unmap_gpu(dmar_adapter *ad, struct adl_box *b)
{
	struct gpu_map *m = b->map;
	dmar_pmo *o = m->pmo;

	if (ad->dec.mode == DMAR_START_REMAPPED) {
		/* the table's flush hook invalidates the IOTLB before this returns (S28) */
		(void)dmar_domain_unmap(ad->dom, m->iova, m->npages * PAGE, NULL);
		(void)dmar_iova_free(ad->iovad, m->iova, m->iova_pages);
	} else if (identity_held(ad, o)) {
		identity_put(ad, o, m->first, m->npages, m->prot);
	}
	for (struct gpu_map **q = &o->gpu; *q; q = &(*q)->next)
		if (*q == m) {
			*q = m->next;
			break;
		}
	o->locks--;
	ptrset_del(&ad->handles, b);
	free(b);
	free(m);
	ad->st.gpu_mappings--;
	return DMAR_OK;
}

static dmar_status pmo_map_gpu_once(dmar_adapter *ad, dmar_irql irql, dmar_pmo *o,
				    uint64_t first, uint64_t npages, unsigned prot,
				    const dmar_adl **adl, int again)
{
	dmar_status st = dmar__callback_reenter(ad, irql, "MapPhysicalMemory", o, H_PMO, again);

	if (st != DMAR_OK)
		return st;
	return dmar__adapter_leave(ad, dmar__pmo_map_gpu(ad, o, first, npages, prot, 0, adl));
}

dmar_status dmar_pmo_map_gpu(dmar_adapter *ad, dmar_irql irql, dmar_pmo *o, uint64_t first,
			     uint64_t npages, unsigned prot, const dmar_adl **adl)
{
	dmar_status st;
	int tried = 0;

	if (!adl)
		return DMAR_E_INVALID;
	do
		st = pmo_map_gpu_once(ad, irql, o, first, npages, prot, adl, tried);
	while (dmar__retry_after_drain(ad, st, &tried));
	return st;
}

/* Whether the live GPU mapping ADL @adl is an allocation's own (dmar_allocation_adl()). */
static int pmo_owner_adl(const dmar_adl *adl)
{
	const struct adl_box *b = (const struct adl_box *)(uintptr_t)adl;
	const dmar_pmo *o = b->map->pmo;

	return o->al && o->al->adl == adl;
}

dmar_status dmar_pmo_unmap_gpu(dmar_adapter *ad, dmar_irql irql, const dmar_adl *adl)
{
	dmar_status st;

	if (!adl)
		return DMAR_E_INVALID;
	st = dmar__callback_enter(ad, irql, "UnmapPhysicalMemory", NULL, H_NONE);
	if (st != DMAR_OK)
		return st;
	if (ptrset_get(&ad->handles, adl) != H_ADL_MAPPING)
		st = DMAR_E_NOT_FOUND;
	else if (pmo_owner_adl(adl))
		st = DMAR_E_BUSY; /* an allocation's ADL: dmar_allocation_destroy() frees it */
	else if (dmar__device_exclusive(ad->dev[0]))
		st = DMAR_E_BUSY; /* S18 */
	else
		st = dmar__pmo_unmap_gpu(ad, (struct adl_box *)(uintptr_t)adl);
	return dmar__adapter_leave(ad, st);
}

/* ---- CPU mappings (S24 (3)) ------------------------------------------------------------------ */

dmar_status dmar_pmo_map_cpu(dmar_adapter *ad, dmar_irql irql, dmar_pmo *o, uint64_t first,
			     uint64_t npages, dmar_cpu_mode mode, dmar_cache_type cache, void **va)
{
	struct cpu_map *c = NULL;
	int fresh = 0;
	dmar_status st;

	if (!va || (unsigned)mode > DMAR_CPU_USER || (unsigned)cache > DMAR_CACHE_WRITE_COMBINED)
		return DMAR_E_INVALID;
	st = dmar__callback_enter(ad, irql, "MapPhysicalMemory", o, H_PMO);
	if (st != DMAR_OK)
		return st;
	if (npages == 0 || first >= o->npages || npages > o->npages - first) {
		st = DMAR_E_INVALID;
		goto out;
	}
	if (o->kind == DMAR_PMO_IO_SPACE) {
		st = DMAR_E_NOT_SUPPORTED; /* no host memory behind an MMIO range */
		goto out;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		st = DMAR_E_NOMEM;
		goto out;
	}
	st = section_resident(ad, o, &fresh);
	if (st == DMAR_OK)
		st = dmar__physmem_alias(ad->pm, o->pages + first, npages, 1, &c->va);
	if (st != DMAR_OK) {
		section_unfetch(ad, o, fresh);
		free(c);
		goto out;
	}
	section_settle(o, fresh);
	c->npages = npages;
	c->mode = mode;
	c->cache = cache;
	c->next = o->cpu;
	o->cpu = c;
	o->locks++;
	ad->st.cpu_mappings++;
	*va = c->va;
out:
	return dmar__adapter_leave(ad, st);
}

dmar_status dmar_pmo_unmap_cpu(dmar_adapter *ad, dmar_irql irql, dmar_pmo *o, void *va)
{
	dmar_status st;

	if (!va)
		return DMAR_E_INVALID;
	st = dmar__callback_enter(ad, irql, "UnmapPhysicalMemory", o, H_PMO);
	if (st != DMAR_OK)
		return st;
	st = DMAR_E_NOT_FOUND;
	for (struct cpu_map **q = &o->cpu; *q; q = &(*q)->next) {
		struct cpu_map *c = *q;

		if (c->va != va)
			continue;
		*q = c->next;
		dmar__physmem_unalias(c->va, c->npages);
		free(c);
		o->locks--;
		ad->st.cpu_mappings--;
		st = DMAR_OK;
		break;
	}
	return dmar__adapter_leave(ad, st);
}

dmar_status dmar_pmo_trim(dmar_adapter *ad, dmar_irql irql, dmar_pmo *o)
{
	dmar_status st = dmar__callback_enter(ad, irql, "TrimPhysicalMemoryObject", o, H_PMO);

	if (st != DMAR_OK)
		return st;
	if (o->kind != DMAR_PMO_SECTION)
		st = DMAR_E_NOT_SUPPORTED;
	else if (o->locks)
		st = DMAR_E_BUSY; /* S24: locked while mapped */
	else if (o->pages) {
		o->backing = malloc(o->npages * PAGE);
		if (!o->backing) {
			st = DMAR_E_NOMEM;
		} else {
			for (uint64_t i = 0; i < o->npages; i++)
				(void)dmar_physmem_read(ad->pm, o->pages[i], o->backing + i * PAGE, PAGE);
			/* S8, S10: the 1:1 entries the start gave these frames go with them (no
			 * GPU mapping holds any: it would lock the object); the frames that
			 * come back are mapped by the GPU mappings that lock them */
			dmar__pmo_unmap_identity(ad, o);
			frames_free(ad, o);
		}
	}
	return dmar__adapter_leave(ad, st);
}

void dmar__pmo_teardown(dmar_adapter *ad, dmar_pmo *o)
{
	while (o->gpu)
		(void)dmar__pmo_unmap_gpu(ad, o->gpu->adl);
	while (o->cpu) {
		struct cpu_map *c = o->cpu;

		o->cpu = c->next;
		dmar__physmem_unalias(c->va, c->npages);
		free(c);
		ad->st.cpu_mappings--;
	}
	o->locks = 0;
	o->opens = 0;
	(void)dmar__pmo_destroy(ad, o);
}

/* ---- ADLs (S19) ----------------------------------------------------------------------------- */

dmar_status dmar_adl_allocate(dmar_adapter *ad, dmar_irql irql, uint64_t page_count, uint32_t flags,
			      dmar_adl **out)
{
	struct adl_box *b;
	dmar_status st = DMAR_OK;

	if (!out || page_count == 0 || flags & ~(uint32_t)(DMAR_ADL_CONTIGUOUS | DMAR_ADL_LOGICAL) ||
	    page_count > (flags & DMAR_ADL_CONTIGUOUS ? DMAR_ADL_MAX_PAGES : DMAR_ADL_MAX_ARRAY))
		return DMAR_E_INVALID;
	st = dmar__callback_enter(ad, irql, "AllocateAdl", NULL, H_NONE);
	if (st != DMAR_OK)
		return st;
	b = adl_box_new(page_count, !(flags & DMAR_ADL_CONTIGUOUS));
	if (!b) {
		st = DMAR_E_NOMEM;
	} else if (ptrset_add(&ad->handles, b, H_ADL) != 0) {
		free(b);
		st = DMAR_E_NOMEM;
	} else {
		b->adl.flags = flags;
		ad->st.adls++;
		*out = &b->adl;
	}
	return dmar__adapter_leave(ad, st);
}

dmar_status dmar_adl_free(dmar_adapter *ad, dmar_irql irql, dmar_adl *adl)
{
	dmar_status st = DMAR_OK;

	if (!adl)
		return DMAR_E_INVALID;
	st = dmar__callback_enter(ad, irql, "FreeAdl", NULL, H_NONE);
	if (st != DMAR_OK)
		return st;
	switch (ptrset_get(&ad->handles, adl)) {
	case H_ADL:
		ptrset_del(&ad->handles, adl);
		free(adl);
		ad->st.adls--;
		break;
	case H_ADL_MAPPING:
		st = DMAR_E_BUSY; /* the mapping owns it: unmapping frees it */
		break;
	default:
		st = DMAR_E_NOT_FOUND;
	}
	return dmar__adapter_leave(ad, st);
}

/* ---- legacy callbacks (S25) ----------------------------------------------------------------- */

/* The entry of a legacy callback (S25): that of any callback (dmar__callback_enter()), then
 * refused with DMAR_E_DEPRECATED (and counted) in remapped mode, then @o, when not NULL,
 * checked to be a live memory object.  DMAR_OK with the adapter's lock held; anything else
 * without it. */
static dmar_status legacy_enter(dmar_adapter *ad, dmar_irql irql, const char *what,
				const dmar_pmo *o, int again)
{
	dmar_status st = dmar__callback_reenter(ad, irql, what, NULL, H_NONE, again);

	if (st != DMAR_OK)
		return st;
	if (ad->dec.mode == DMAR_START_REMAPPED) {
		ad->st.deprecated_calls++;
		st = DMAR_E_DEPRECATED;
	} else if (o && ptrset_get(&ad->handles, o) != H_PMO) {
		st = DMAR_E_INVALID;
	}
	if (st != DMAR_OK)
		dmar__unlock(&ad->lock);
	return st;
}

/* The legacy allocations: a memory object as @p says. */
static dmar_status legacy_create(dmar_adapter *ad, dmar_irql irql, const char *what,
				 const dmar_pmo_params *p, dmar_pmo **out)
{
	dmar_status st;

	if (!out)
		return DMAR_E_INVALID;
	st = legacy_enter(ad, irql, what, NULL, 0);
	if (st != DMAR_OK)
		return st;
	return dmar__adapter_leave(ad, dmar__pmo_create(ad, p, out));
}

dmar_status dmar_legacy_allocate_pages_for_mdl(dmar_adapter *ad, dmar_irql irql, uint64_t size,
					       dmar_pmo **out)
{
	const dmar_pmo_params p = { .kind = DMAR_PMO_NONPAGED, .size = size };

	return legacy_create(ad, irql, "DxgkCbAllocatePagesForMdl", &p, out);
}

dmar_status dmar_legacy_allocate_contiguous_memory(dmar_adapter *ad, dmar_irql irql, uint64_t size,
						   dmar_pa_t highest, dmar_pmo **out)
{
	const dmar_pmo_params p = { .kind = DMAR_PMO_CONTIGUOUS, .size = size,
				    .place = highest ? DMAR_PLACE_BELOW : DMAR_PLACE_ANY,
				    .limit = highest };

	return legacy_create(ad, irql, "DxgkCbAllocateContiguousMemory", &p, out);
}

static dmar_status legacy_map_once(dmar_adapter *ad, dmar_irql irql, dmar_pmo *o,
				   dmar_iova_t *logical, int again)
{
	const dmar_adl *adl;
	dmar_status st = legacy_enter(ad, irql, "DxgkCbMapMdlToIoMmu", o, again);

	if (st != DMAR_OK)
		return st;
	st = dmar__pmo_map_gpu(ad, o, 0, o->npages, DMAR_PROT_READ | DMAR_PROT_WRITE, 1, &adl);
	if (st == DMAR_OK) {
		uint64_t page;

		(void)dmar_adl_page(adl, 0, &page);
		*logical = page * PAGE;
	}
	return dmar__adapter_leave(ad, st);
}

dmar_status dmar_legacy_map_mdl_to_iommu(dmar_adapter *ad, dmar_irql irql, dmar_pmo *o,
					 dmar_iova_t *logical)
{
	dmar_status st;
	int tried = 0;

	if (!o || !logical)
		return DMAR_E_INVALID;
	do
		st = legacy_map_once(ad, irql, o, logical, tried);
	while (dmar__retry_after_drain(ad, st, &tried));
	return st;
}

dmar_status dmar_legacy_unmap_mdl_from_iommu(dmar_adapter *ad, dmar_irql irql, dmar_pmo *o)
{
	dmar_status st;

	if (!o)
		return DMAR_E_INVALID;
	st = legacy_enter(ad, irql, "DxgkCbUnmapMdlFromIoMmu", o, 0);
	if (st != DMAR_OK)
		return st;
	if (dmar__device_exclusive(ad->dev[0]))
		return dmar__adapter_leave(ad, DMAR_E_BUSY); /* S18, as dmar_pmo_unmap_gpu() */
	st = DMAR_E_NOT_FOUND;
	for (struct gpu_map *m = o->gpu, *next; m; m = next) {
		next = m->next;
		if (m->legacy) {
			(void)dmar__pmo_unmap_gpu(ad, m->adl);
			st = DMAR_OK;
		}
	}
	return dmar__adapter_leave(ad, st);
}
