/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The WDDM layer: adapters (S9-S17, S27), processes and PASIDs (S1-S3), IRQL (S26). */
#include "rcu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "remap_internal.h"
#include "iommu_internal.h"

/* ---- the adapter's lock ------------------------------------------------------------------ */

void dmar__adapter_lock(dmar_adapter *ad)
{
	dmar__lock(&ad->lock);
}

dmar_status dmar__adapter_enter(dmar_adapter *ad, const void *h, enum handle_kind kind)
{
	dmar__adapter_lock(ad);
	if (kind != H_NONE && ptrset_get(&ad->handles, h) != kind) {
		dmar__unlock(&ad->lock);
		return DMAR_E_INVALID;
	}
	return DMAR_OK;
}

dmar_status dmar__adapter_leave(dmar_adapter *ad, dmar_status st)
{
	dmar__unlock(&ad->lock);
	return st;
}

/* ---- IRQL (S26) ------------------------------------------------------------------------ */

static void default_bugcheck(void *ctx, uint32_t code, uint64_t p1, uint64_t p2, const char *what)
{
	(void)ctx;
	fprintf(stderr,
		"dmar: *** STOP 0x%08X (IRQL_NOT_LESS_OR_EQUAL): %s called at IRQL %llu, "
		"highest allowed %llu (S26)\n",
		code, what, (unsigned long long)p1, (unsigned long long)p2);
	abort();
}

/* IRQL check of a callback (S26); DMAR_OK when the call may proceed.  @again: the callback
 * runs once more (dmar__retry_after_drain()), its IRQL counted already. */
static dmar_status irql_check(dmar_adapter *ad, dmar_irql irql, const char *what, int again)
{
	if ((unsigned)irql <= DMAR_APC_LEVEL)
		return DMAR_OK;
	if ((unsigned)irql > DMAR_HIGH_LEVEL)
		return DMAR_E_INVALID;
	if (ad->cfg.wddm_version >= DMAR_WDDM(3, 2)) {
		__atomic_fetch_add(&ad->st.irql_bugchecks, 1, __ATOMIC_RELAXED);
		(ad->cfg.bugcheck ? ad->cfg.bugcheck : default_bugcheck)(
			ad->cfg.bugcheck_ctx, DMAR_BUGCHECK_IRQL, (uint64_t)irql, DMAR_APC_LEVEL, what);
		return DMAR_E_IRQL; /* the handler returned: the call changes nothing */
	}
	if (!again) /* one call, counted once */
		__atomic_fetch_add(&ad->st.irql_unverified, 1, __ATOMIC_RELAXED);
	return DMAR_OK;
}

dmar_status dmar__callback_reenter(dmar_adapter *ad, dmar_irql irql, const char *what,
				   const void *h, enum handle_kind kind, int again)
{
	dmar_status st;

	if (!ad || (kind != H_NONE && !h))
		return DMAR_E_INVALID;
	st = irql_check(ad, irql, what, again);
	if (st != DMAR_OK)
		return st;
	return dmar__adapter_enter(ad, h, kind);
}

dmar_status dmar__callback_enter(dmar_adapter *ad, dmar_irql irql, const char *what,
				 const void *h, enum handle_kind kind)
{
	return dmar__callback_reenter(ad, irql, what, h, kind, 0);
}

/* ---- ADL helpers -------------------------------------------------------------------------- */

/* The last page number there is: that of address 2^64 - 1. */
#define LAST_PAGE (UINT64_MAX / DMAR_PAGE_SIZE)

dmar_status dmar_adl_page(const dmar_adl *adl, uint64_t i, uint64_t *page)
{
	if (!adl || !page || (!(adl->flags & DMAR_ADL_CONTIGUOUS) && !adl->pages))
		return DMAR_E_INVALID;
	if (i >= adl->page_count)
		return DMAR_E_RANGE;
	if (!(adl->flags & DMAR_ADL_CONTIGUOUS)) {
		*page = adl->pages[i];
		return DMAR_OK;
	}
	/* a contiguous ADL's pages end at the last page of the address space: no entry past
	 * it, none whose number wraps past 2^64 */
	if (adl->base_page > LAST_PAGE || i > LAST_PAGE - adl->base_page)
		return DMAR_E_RANGE;
	*page = adl->base_page + i;
	return DMAR_OK;
}

/* ---- adapters ----------------------------------------------------------------------------- */

void dmar_adapter_config_default(dmar_adapter_config *cfg)
{
	if (!cfg)
		return;
	memset(cfg, 0, sizeof(*cfg));
	cfg->start.iommu_supported = true;
	cfg->start.remap_caps_physical = true;
	cfg->start.remap_caps_vidmm = true;
	cfg->start.caps_before_start = true;
	cfg->start.dma_remapping_compatible = DMAR_DMA_REMAPPING_COMPATIBLE;
	cfg->start.integrated = false;
	cfg->start.dma_bits = 40;
	cfg->start.platform_iommu = true;
	cfg->wddm_version = DMAR_WDDM(3, 2);
	cfg->nlinked = 1;
	cfg->rid = 0x0100;
	cfg->map_aperture2 = true;
	cfg->aperture_pages[0] = 16384; /* 64 MiB */
}

static dmar_status map_all_ram(dmar_adapter *ad)
{
	for (unsigned i = 0;; i++) {
		const dmar_ram_range *r = dmar_physmem_range(ad->pm, i);
		dmar_status st;

		if (!r)
			return DMAR_OK;
		st = dmar_domain_map(ad->dom, r->base, r->base, r->size,
				     DMAR_PROT_READ | DMAR_PROT_WRITE);
		if (st != DMAR_OK)
			return st;
		ad->st.pages_mapped_at_start += r->size / DMAR_PAGE_SIZE;
	}
}

static void adapter_free(dmar_adapter *ad)
{
	if (ad->ndev)
		dmar__device_pin(ad->dev[0], 0);
	for (unsigned i = ad->ndev; i-- > 0;) {
		(void)dmar_device_detach(ad->dev[i]);
		(void)dmar_device_destroy(ad->dev[i]);
	}
	if (ad->dom)
		(void)dmar_domain_destroy(ad->dom);
	dmar_iovad_destroy(ad->iovad);
	for (unsigned s = 0; s < DMAR_MAX_APERTURE_SEGMENTS; s++)
		free(ad->ap[s].entry);
	ptrset_fini(&ad->handles);
	pthread_mutex_destroy(&ad->lock);
	free(ad);
}

dmar_status dmar_adapter_create(dmar_iommu *iommu, const dmar_adapter_config *cfg,
				dmar_adapter **out, dmar_start_decision *why)
{
	dmar_start_params p;
	dmar_start_decision dec;
	dmar_physmem_stats ps;
	dmar_adapter *ad;
	dmar_domain_kind kind;
	dmar_status st;

	if (!iommu || !cfg || !out || cfg->nlinked < 1 || cfg->nlinked > DMAR_MAX_LINKED ||
	    (unsigned)cfg->rid + cfg->nlinked > 0x10000u)
		return DMAR_E_INVALID;
	for (unsigned s = 0; s < DMAR_MAX_APERTURE_SEGMENTS; s++)
		if (cfg->aperture_pages[s] > (1u << 24)) /* 64 GiB of aperture per segment */
			return DMAR_E_INVALID;
	p = cfg->start;
	dmar_physmem_get_stats(dmar__iommu_physmem(iommu), &ps);
	if (p.highest_installed == 0)
		p.highest_installed = ps.highest_addr;
	/* the VidMm cap set for remapping includes MapApertureSegment2 support (see header) */
	p.remap_caps_vidmm = p.remap_caps_vidmm && cfg->map_aperture2;
	st = dmar_start_decide(&p, &dec);
	if (why)
		*why = dec;
	if (st != DMAR_OK)
		return st;

	ad = calloc(1, sizeof(*ad));
	if (!ad)
		return DMAR_E_NOMEM;
	ad->iommu = iommu;
	ad->pm = dmar__iommu_physmem(iommu);
	ad->cfg = *cfg;
	ad->cfg.start = p;
	ad->dec = dec;
	pthread_mutex_init(&ad->lock, NULL);
	for (unsigned s = 0; s < DMAR_MAX_APERTURE_SEGMENTS; s++) {
		ad->ap[s].npages = cfg->aperture_pages[s];
		if (ad->ap[s].npages &&
		    !(ad->ap[s].entry = calloc(ad->ap[s].npages, sizeof(uint64_t)))) {
			st = DMAR_E_NOMEM;
			goto fail;
		}
	}
	/* the devices of the chain, linked: one logical adapter (S15) */
	for (unsigned i = 0; i < cfg->nlinked; i++) {
		st = dmar_device_create(iommu, (uint16_t)(cfg->rid + i), p.dma_bits, &ad->dev[i]);
		if (st != DMAR_OK)
			goto fail;
		ad->ndev++;
		if (i && (st = dmar_device_link(ad->dev[0], ad->dev[i])) != DMAR_OK)
			goto fail;
	}
	kind = dec.mode == DMAR_START_REMAPPED ? DMAR_DOMAIN_REMAPPED
		: dec.mode == DMAR_START_ISOLATION ? DMAR_DOMAIN_IDENTITY
		: DMAR_DOMAIN_PASSTHROUGH;
	st = dmar_domain_create(iommu, kind, cfg->pt, &ad->dom);
	if (st != DMAR_OK)
		goto fail;
	if (dec.mode == DMAR_START_REMAPPED) {
		/* S14: logical addresses in [0, ceiling), the ceiling the smallest of the device's
		 * reach, what the domain's table takes and what one allocator holds; each held by
		 * its last address, so a 64-bit reach needs no 2^64 */
		uint64_t last = p.dma_bits >= 64 ? UINT64_MAX : (1ull << p.dma_bits) - 1;
		uint64_t table_last;

		st = dmar_domain_input_range(ad->dom, &table_last);
		if (st != DMAR_OK)
			goto fail;
		if (table_last < last)
			last = table_last;
		if (last > DMAR_IOVA_MAX_PAGES * DMAR_PAGE_SIZE - 1)
			last = DMAR_IOVA_MAX_PAGES * DMAR_PAGE_SIZE - 1;
		/* whole pages below it (last < 2^48 now: last + 1 does not wrap) */
		ad->dec.logical_limit = (last + 1) & ~(uint64_t)(DMAR_PAGE_SIZE - 1);
		st = dmar_iovad_create(0, ad->dec.logical_limit, &ad->iovad);
		if (st != DMAR_OK)
			goto fail;
	}
	/* S17: remapped (and pass-through) devices are attached before any memory is touched;
	 * 1:1 isolation waits for dmar_adapter_start() (S10) */
	if (dec.mode != DMAR_START_ISOLATION) {
		st = dmar_device_attach(ad->dev[0], ad->dom);
		if (st != DMAR_OK)
			goto fail;
		if (dec.mode == DMAR_START_REMAPPED)
			dmar__device_pin(ad->dev[0], 1); /* S12 */
	}
	if (why)
		*why = ad->dec; /* the logical limit the allocator was given */
	*out = ad;
	return DMAR_OK;
fail:
	adapter_free(ad);
	return st;
}

dmar_status dmar_adapter_start(dmar_adapter *ad)
{
	dmar_status st = DMAR_OK;

	if (!ad)
		return DMAR_E_INVALID;
	dmar__adapter_lock(ad);
	if (ad->started) {
		dmar__unlock(&ad->lock);
		return DMAR_E_BUSY;
	}
	if (ad->dec.mode == DMAR_START_ISOLATION) {
		/* S10: turned on right after the start, with what was allocated before mapped */
		if (ad->dec.map_all_memory) {
			st = map_all_ram(ad);
			ad->all_mapped = st == DMAR_OK;
		}
		/* with EnableMappings, IO space (not RAM) is still to be mapped */
		for (dmar_pmo *o = ad->pmos; o && st == DMAR_OK; o = o->next)
			if (o->prestart && (!ad->all_mapped || o->kind == DMAR_PMO_IO_SPACE))
				st = dmar__pmo_map_identity(ad, o);
		if (st == DMAR_OK && ad->dec.attached)
			st = dmar_device_attach(ad->dev[0], ad->dom);
		if (st == DMAR_OK && ad->dec.attached)
			dmar__device_pin(ad->dev[0], 1); /* S12 */
		if (st != DMAR_OK) { /* change nothing: undo the 1:1 entries */
			for (unsigned i = 0; ad->dec.map_all_memory; i++) {
				const dmar_ram_range *r = dmar_physmem_range(ad->pm, i);

				if (!r)
					break;
				(void)dmar_domain_unmap(ad->dom, r->base, r->size, NULL);
			}
			for (dmar_pmo *o = ad->pmos; o; o = o->next)
				if (o->prestart)
					dmar__pmo_unmap_identity(ad, o);
			ad->all_mapped = 0;
			ad->st.pages_mapped_at_start = 0;
		}
	}
	if (st == DMAR_OK)
		ad->started = 1;
	dmar__unlock(&ad->lock);
	return st;
}

dmar_status dmar_adapter_disable_iommu(dmar_adapter *ad)
{
	return ad ? DMAR_E_NOT_SUPPORTED : DMAR_E_INVALID; /* S12 */
}

/* Give a process's PASID back: unbound (which waits for a grace period: call it without the
 * adapter's lock), then freed. */
static void process_unbind(dmar_adapter *ad, dmar_process *p)
{
	if (p->pasid == DMAR_NO_PASID)
		return;
	(void)dmar_domain_unbind_pasid(ad->dom, p->pasid);
	(void)dmar_pasid_free(ad->iommu, p->pasid);
}

void dmar_adapter_destroy(dmar_adapter *ad)
{
	dmar_process *procs;

	if (!ad)
		return;
	dmar__adapter_lock(ad);
	while (ad->allocs)
		dmar__allocation_teardown(ad, ad->allocs);
	while (ad->pmos)
		dmar__pmo_teardown(ad, ad->pmos);
	procs = ad->procs;
	ad->procs = NULL;
	/* contexts still alive are freed with the handle set's walk */
	for (size_t i = 0; i < ad->handles.cap; i++)
		if (ad->handles.tags[i] == H_CONTEXT || ad->handles.tags[i] == H_ADL)
			free((void *)ad->handles.keys[i]);
	dmar__unlock(&ad->lock);
	while (procs) { /* (unbinding waits for a grace period: not under the lock) */
		dmar_process *p = procs;

		procs = p->next;
		process_unbind(ad, p);
		free(p);
	}
	adapter_free(ad);
}

const dmar_start_decision *dmar_adapter_decision(const dmar_adapter *ad)
{
	return ad ? &ad->dec : NULL;
}

dmar_device *dmar_adapter_device(dmar_adapter *ad, unsigned i)
{
	return ad && i < ad->ndev ? ad->dev[i] : NULL;
}

dmar_domain *dmar_adapter_domain(dmar_adapter *ad)
{
	return ad ? ad->dom : NULL;
}

dmar_iovad *dmar_adapter_iovad(dmar_adapter *ad)
{
	return ad ? ad->iovad : NULL;
}

void dmar_adapter_get_stats(dmar_adapter *ad, dmar_adapter_stats *st)
{
	if (!st)
		return;
	if (!ad) {
		memset(st, 0, sizeof(*st));
		return;
	}
	dmar__adapter_lock(ad);
	*st = ad->st;
	dmar__unlock(&ad->lock);
	st->aperture_faults = __atomic_load_n(&ad->st.aperture_faults, __ATOMIC_RELAXED);
	st->irql_bugchecks = __atomic_load_n(&ad->st.irql_bugchecks, __ATOMIC_RELAXED);
	st->irql_unverified = __atomic_load_n(&ad->st.irql_unverified, __ATOMIC_RELAXED);
}

/* ---- processes and GPU contexts (S1-S3) ---------------------------------------------------- */


dmar_status dmar_process_create(dmar_adapter *ad, dmar_pa_t root, const dmar_pt_format *fmt,
				dmar_process **out)
{
	dmar_process *p;
	dmar_status st = DMAR_OK;

	if (!ad || !out || (ad->cfg.start.iommu_supported && !fmt))
		return DMAR_E_INVALID;
	p = calloc(1, sizeof(*p));
	if (!p)
		return DMAR_E_NOMEM;
	p->ad = ad;
	p->pasid = DMAR_NO_PASID;
	dmar__adapter_lock(ad);
	if (ad->cfg.start.iommu_supported) {
		/* S3: registered with the IOMMU automatically, with a PASID of its own */
		st = dmar_pasid_alloc(ad->iommu, &p->pasid);
		if (st == DMAR_E_NOMEM)
			st = DMAR_E_NOSPACE;
		if (st == DMAR_OK) {
			st = dmar_domain_bind_pasid(ad->dom, p->pasid, root, fmt);
			if (st != DMAR_OK)
				(void)dmar_pasid_free(ad->iommu, p->pasid);
		}
		/* a PASID freed here (or never had) is no longer this process's: once the lock
		 * is released another process may get the number, and process_unbind() below
		 * must not unbind or free it again */
		if (st != DMAR_OK)
			p->pasid = DMAR_NO_PASID;
	}
	if (st == DMAR_OK && ptrset_add(&ad->handles, p, H_PROCESS) != 0)
		st = DMAR_E_NOMEM;
	if (st == DMAR_OK) {
		p->next = ad->procs;
		ad->procs = p;
		ad->st.processes++;
	}
	dmar__unlock(&ad->lock);
	if (st != DMAR_OK) {
		process_unbind(ad, p);
		free(p);
		return st;
	}
	*out = p;
	return DMAR_OK;
}

dmar_status dmar_process_destroy(dmar_adapter *ad, dmar_process *p)
{
	dmar_status st = DMAR_OK;

	if (!ad || !p)
		return DMAR_E_INVALID;
	st = dmar__adapter_enter(ad, p, H_PROCESS);
	if (st != DMAR_OK)
		return st;
	if (p->contexts) {
		st = DMAR_E_BUSY;
	} else {
		for (dmar_process **q = &ad->procs; *q; q = &(*q)->next)
			if (*q == p) {
				*q = p->next;
				break;
			}
		ptrset_del(&ad->handles, p);
		ad->st.processes--;
	}
	dmar__unlock(&ad->lock);
	if (st == DMAR_OK) {
		/* unreachable now: unbinding waits for a grace period, so not under the lock */
		process_unbind(ad, p);
		free(p);
	}
	return st;
}

uint32_t dmar_process_pasid(const dmar_process *p)
{
	return p ? p->pasid : DMAR_NO_PASID;
}

dmar_status dmar_gpu_context_create(dmar_adapter *ad, dmar_process *p, dmar_gpu_context **out)
{
	dmar_gpu_context *c;
	dmar_status st = DMAR_OK;

	if (!ad || !p || !out)
		return DMAR_E_INVALID;
	c = calloc(1, sizeof(*c));
	if (!c)
		return DMAR_E_NOMEM;
	st = dmar__adapter_enter(ad, p, H_PROCESS);
	if (st == DMAR_OK) {
		if (ptrset_add(&ad->handles, c, H_CONTEXT) != 0) {
			st = DMAR_E_NOMEM;
		} else {
			c->proc = p;
			c->pasid = p->pasid; /* S3: the context receives the process's PASID */
			p->contexts++;
		}
		dmar__unlock(&ad->lock);
	}
	if (st != DMAR_OK) {
		free(c);
		return st;
	}
	*out = c;
	return DMAR_OK;
}

uint32_t dmar_gpu_context_pasid(const dmar_gpu_context *c)
{
	return c ? c->pasid : DMAR_NO_PASID;
}

dmar_status dmar_gpu_context_destroy(dmar_adapter *ad, dmar_gpu_context *c)
{
	dmar_status st;

	if (!ad || !c)
		return DMAR_E_INVALID;
	st = dmar__adapter_enter(ad, c, H_CONTEXT);
	if (st != DMAR_OK)
		return st;
	ptrset_del(&ad->handles, c);
	c->proc->contexts--;
	dmar__unlock(&ad->lock);
	free(c);
	return DMAR_OK;
}
