/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Domains (pass-through, identity, remapped: S8, S13) and the PASIDs bound in them (S2, S3). */
#include "rcu.h"

#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "iotlb_internal.h"

static void domain_flush(void *ctx, dmar_iova_t iova, uint64_t size)
{
	struct dmar_domain *d = ctx;

	/* the table's writer flushes whole every leaf it changed (pgtable.h) */
	dmar__space_invalidate_leaves(d->space, iova, size);
}

dmar_status dmar_domain_create(dmar_iommu *iommu, dmar_domain_kind kind,
			       const dmar_pgtable_config *ptc, dmar_domain **out)
{
	struct dmar_domain *d;
	dmar_pgtable_config def;
	dmar_status st = DMAR_OK;
	int64_t id;

	if (!iommu || !out || kind > DMAR_DOMAIN_REMAPPED)
		return DMAR_E_INVALID;
	d = calloc(1, sizeof(*d));
	if (!d)
		return DMAR_E_NOMEM;
	d->iommu = iommu;
	d->kind = kind;
	if (kind != DMAR_DOMAIN_PASSTHROUGH) {
		if (ptc)
			def = *ptc;
		else
			dmar_pgtable_config_default(&def);
		/* a remapping table is an IOVA table: no canonical hole, no upper half */
		if (def.format.flags & DMAR_PT_UPPER_HALF) {
			free(d);
			return DMAR_E_INVALID;
		}
		def.format.flags |= DMAR_PT_IOVA;
		st = dmar_pgtable_create(iommu->pm, &def, &d->pt);
		if (st == DMAR_OK)
			st = dmar_space_create(iommu->tlb, iommu->pm, dmar_pgtable_root(d->pt),
					       dmar_pgtable_format(d->pt), &d->space);
		if (st != DMAR_OK) {
			dmar_pgtable_destroy(d->pt);
			free(d);
			return st;
		}
		dmar_pgtable_set_flush(d->pt, domain_flush, d);
	}
	dmar__lock(&iommu->lock);
	id = dmar_hbm_find_run_down(&iommu->domain_ids, 0, 1u << 16, 1, 1, 0);
	if (id > 0) {
		dmar_hbm_set_range(&iommu->domain_ids, (uint64_t)id, 1);
		d->id = (uint16_t)id;
		d->next = iommu->domains;
		iommu->domains = d;
	}
	dmar__unlock(&iommu->lock);
	if (id <= 0) {
		dmar_space_destroy(d->space);
		dmar_pgtable_destroy(d->pt);
		free(d);
		return DMAR_E_NOMEM;
	}
	*out = d;
	return DMAR_OK;
}

/* A PASID that no domain (in m->domains) binds any more and that dmar_pasid_alloc() did not
 * hand out is free for alloc again (lock held). */
static void pasid_untake_if_unbound(struct dmar_iommu *m, uint32_t pasid)
{
	if (dmar_hbm_test(&m->pasids, pasid))
		return;
	for (const struct dmar_domain *o = m->domains; o; o = o->next)
		if (dmar__pasid_space(o, pasid))
			return;
	dmar_hbm_clear_range(&m->pasids_taken, pasid, 1);
}

static void domain_free(struct dmar_domain *d)
{
	for (size_t i = 0; i < sizeof(d->pasid_dir) / sizeof(d->pasid_dir[0]); i++) {
		if (!d->pasid_dir[i])
			continue;
		for (unsigned j = 0; j < PASID_LEAF; j++)
			dmar_space_destroy(d->pasid_dir[i][j]);
		free(d->pasid_dir[i]);
	}
	dmar_space_destroy(d->space);
	dmar_pgtable_destroy(d->pt);
	free(d);
}

dmar_status dmar_domain_destroy(dmar_domain *d)
{
	struct dmar_iommu *m;

	if (!d)
		return DMAR_OK;
	m = d->iommu;
	dmar__lock(&m->lock);
	if (d->attached) {
		dmar__unlock(&m->lock);
		return DMAR_E_BUSY;
	}
	for (struct dmar_domain **p = &m->domains; *p; p = &(*p)->next) {
		if (*p == d) {
			*p = d->next;
			break;
		}
	}
	dmar_hbm_clear_range(&m->domain_ids, d->id, 1);
	/* its explicit bindings no longer keep their PASIDs from dmar_pasid_alloc() */
	for (size_t i = 0; i < sizeof(d->pasid_dir) / sizeof(d->pasid_dir[0]); i++)
		for (unsigned j = 0; d->pasid_dir[i] && j < PASID_LEAF; j++) {
			if (d->pasid_dir[i][j])
				pasid_untake_if_unbound(m, (uint32_t)(i * PASID_LEAF + j));
		}
	dmar__unlock(&m->lock);
	/* Not attached, so no translation that starts now reaches it; but one that read an
	 * adapter state naming it just before a detach or switch published the next may still
	 * be walking its tables (those changes need not wait): free after a grace period. */
	dmar__rcu_synchronize();
	domain_free(d);
	return DMAR_OK;
}

uint16_t dmar_domain_id(const dmar_domain *d)
{
	return d ? d->id : 0;
}

dmar_domain_kind dmar_domain_kind_of(const dmar_domain *d)
{
	return d ? d->kind : (dmar_domain_kind)0;
}

dmar_pgtable *dmar_domain_pgtable(dmar_domain *d)
{
	return d ? d->pt : NULL;
}

dmar_status dmar_domain_input_range(const dmar_domain *d, dmar_iova_t *last)
{
	if (!d || !last)
		return DMAR_E_INVALID;
	if (!d->pt) {
		*last = UINT64_MAX; /* pass-through: pa = logical address */
		return DMAR_OK;
	}
	return dmar_pt_input_range(dmar_pgtable_format(d->pt), last, NULL);
}

dmar_status dmar_domain_map(dmar_domain *d, dmar_iova_t iova, dmar_pa_t pa, uint64_t size,
			    unsigned prot)
{
	if (!d)
		return DMAR_E_INVALID;
	if (d->kind == DMAR_DOMAIN_PASSTHROUGH)
		return DMAR_E_NOT_SUPPORTED;
	if (d->kind == DMAR_DOMAIN_IDENTITY && iova != pa)
		return DMAR_E_INVALID; /* S8: logical page == physical page */
	return dmar_pgtable_map(d->pt, iova, pa, size, prot);
}

dmar_status dmar_domain_unmap(dmar_domain *d, dmar_iova_t iova, uint64_t size,
			      uint64_t *unmapped)
{
	if (unmapped)
		*unmapped = 0;
	if (!d)
		return DMAR_E_INVALID;
	if (d->kind == DMAR_DOMAIN_PASSTHROUGH)
		return DMAR_E_NOT_SUPPORTED;
	/* the table's flush hook (domain_flush) invalidates before unmap returns */
	return dmar_pgtable_unmap(d->pt, iova, size, unmapped);
}

/* ---- PASIDs ----------------------------------------------------------------------- */

static int pasid_ok(const struct dmar_iommu *m, uint32_t pasid)
{
	return pasid != 0 && pasid < (1u << m->pasid_bits);
}

dmar_status dmar_pasid_alloc(dmar_iommu *m, uint32_t *pasid)
{
	int64_t p;

	if (!m || !pasid)
		return DMAR_E_INVALID;
	dmar__lock(&m->lock);
	p = dmar_hbm_find_run_down(&m->pasids_taken, 1, 1ull << m->pasid_bits, 1, 1, 0);
	if (p > 0) {
		dmar_hbm_set_range(&m->pasids, (uint64_t)p, 1);
		dmar_hbm_set_range(&m->pasids_taken, (uint64_t)p, 1);
	}
	dmar__unlock(&m->lock);
	if (p <= 0)
		return DMAR_E_NOMEM;
	*pasid = (uint32_t)p;
	return DMAR_OK;
}

dmar_status dmar_pasid_free(dmar_iommu *m, uint32_t pasid)
{
	dmar_status st = DMAR_OK;

	if (!m || !pasid_ok(m, pasid))
		return DMAR_E_INVALID;
	dmar__lock(&m->lock);
	for (struct dmar_domain *d = m->domains; d; d = d->next)
		if (dmar__pasid_space(d, pasid))
			st = DMAR_E_BUSY;
	if (!dmar_hbm_test(&m->pasids, pasid)) /* (bound explicitly or not: never allocated) */
		st = DMAR_E_NOT_FOUND;
	if (st == DMAR_OK) {
		dmar_hbm_clear_range(&m->pasids, pasid, 1);
		dmar_hbm_clear_range(&m->pasids_taken, pasid, 1);
	}
	dmar__unlock(&m->lock);
	return st;
}

dmar_status dmar_domain_bind_pasid(dmar_domain *d, uint32_t pasid, dmar_pa_t root,
				   const dmar_pt_format *fmt)
{
	struct dmar_iommu *m;
	dmar_space *sp = NULL;
	dmar_space **leaf;
	dmar_status st;

	if (!d)
		return DMAR_E_INVALID;
	m = d->iommu;
	if (!pasid_ok(m, pasid) ||
	    (fmt && ((fmt->flags & DMAR_PT_IOVA) || fmt->kind != DMAR_PT_X86_64)))
		return DMAR_E_INVALID; /* S2: a process table is an x86-64 CPU table */
	st = dmar_space_create(m->tlb, m->pm, root, fmt, &sp);
	if (st != DMAR_OK)
		return st;
	dmar__lock(&m->lock);
	leaf = d->pasid_dir[pasid >> PASID_LEAF_BITS];
	if (!leaf) {
		leaf = calloc(PASID_LEAF, sizeof(*leaf));
		if (!leaf) {
			st = DMAR_E_NOMEM;
			goto out;
		}
		__atomic_store_n(&d->pasid_dir[pasid >> PASID_LEAF_BITS], leaf, __ATOMIC_RELEASE);
	}
	if (leaf[pasid & (PASID_LEAF - 1)]) {
		st = DMAR_E_EXISTS;
		goto out;
	}
	/* a binding allocates nothing, but alloc hands out no PASID that is bound */
	dmar_hbm_set_range(&m->pasids_taken, pasid, 1);
	__atomic_store_n(&leaf[pasid & (PASID_LEAF - 1)], sp, __ATOMIC_RELEASE);
	sp = NULL;
out:
	dmar__unlock(&m->lock);
	dmar_space_destroy(sp);
	return st;
}

dmar_status dmar_domain_unbind_pasid(dmar_domain *d, uint32_t pasid)
{
	struct dmar_iommu *m;
	dmar_space *sp;

	if (!d || !pasid_ok(d->iommu, pasid))
		return DMAR_E_INVALID;
	m = d->iommu;
	dmar__lock(&m->lock);
	sp = dmar__pasid_space(d, pasid);
	if (sp) {
		__atomic_store_n(&d->pasid_dir[pasid >> PASID_LEAF_BITS][pasid & (PASID_LEAF - 1)],
				 NULL, __ATOMIC_RELEASE);
		pasid_untake_if_unbound(m, pasid);
	}
	dmar__unlock(&m->lock);
	if (!sp)
		return DMAR_E_NOT_FOUND;
	/* invalidate (its ASID is retired) and wait out translations still using it */
	dmar_space_invalidate(sp);
	dmar__rcu_synchronize();
	dmar_space_destroy(sp);
	return DMAR_OK;
}

dmar_status dmar_domain_invalidate_pasid(dmar_domain *d, uint32_t pasid, dmar_iova_t iova,
					 uint64_t size)
{
	dmar_space *sp;
	dmar_status st;

	/* the range is checked before the binding: bad arguments answer as bad arguments */
	if (!d || !pasid_ok(d->iommu, pasid) || size == 0 || size - 1 > ~iova)
		return DMAR_E_INVALID;
	dmar__lock(&d->iommu->lock);
	sp = dmar__pasid_space(d, pasid);
	st = sp ? dmar_space_invalidate_range(sp, iova, size) : DMAR_E_NOT_FOUND;
	dmar__unlock(&d->iommu->lock);
	return st;
}

