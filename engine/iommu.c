/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* IOMMU instances: their IOTLB, fault queue, PASID and domain-id spaces, statistics. */
#include "rcu.h"

#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "iommu_internal.h"

void dmar_iommu_config_default(dmar_iommu_config *cfg)
{
	if (!cfg)
		return;
	dmar_iotlb_config_default(&cfg->iotlb);
	cfg->fault_queue = 1024;
	cfg->pasid_bits = 20;
}

dmar_status dmar_iommu_create(dmar_physmem *pm, const dmar_iommu_config *cfg, dmar_iommu **out)
{
	struct dmar_iommu *m;
	dmar_status st;

	if (!pm || !cfg || !out || cfg->pasid_bits < 1 || cfg->pasid_bits > 20)
		return DMAR_E_INVALID;
	m = calloc(1, sizeof(*m));
	if (!m)
		return DMAR_E_NOMEM;
	m->pm = pm;
	m->pasid_bits = cfg->pasid_bits;
	st = dmar_iotlb_create(&cfg->iotlb, &m->tlb);
	if (st == DMAR_OK)
		st = dmar_faultq_create(cfg->fault_queue, &m->fq);
	if (st == DMAR_OK && (dmar_hbm_init(&m->pasids, 1ull << cfg->pasid_bits) != 0 ||
			      dmar_hbm_init(&m->pasids_taken, 1ull << cfg->pasid_bits) != 0 ||
			      dmar_hbm_init(&m->domain_ids, 1ull << 16) != 0))
		st = DMAR_E_NOMEM;
	if (st != DMAR_OK) {
		dmar_hbm_fini(&m->pasids);
		dmar_hbm_fini(&m->pasids_taken);
		dmar_hbm_fini(&m->domain_ids);
		dmar_faultq_destroy(m->fq);
		(void)dmar_iotlb_destroy(m->tlb);
		free(m);
		return st;
	}
	dmar_hbm_set_range(&m->pasids_taken, 0, 1); /* PASID 0 is not handed out */
	dmar_hbm_set_range(&m->domain_ids, 0, 1); /* neither is domain id 0 */
	pthread_mutex_init(&m->lock, NULL);
	*out = m;
	return DMAR_OK;
}

dmar_faultq *dmar_iommu_faults(dmar_iommu *iommu)
{
	return iommu ? iommu->fq : NULL;
}

dmar_iotlb *dmar_iommu_iotlb(dmar_iommu *iommu)
{
	return iommu ? iommu->tlb : NULL;
}

void dmar_iommu_destroy(dmar_iommu *m)
{
	if (!m)
		return;
	while (m->devices) {
		struct dmar_device *d = m->devices;

		/* members before their leader */
		while (d->lead == d && d->member_next)
			d = d->member_next;
		(void)dmar_device_destroy(d);
	}
	while (m->domains)
		(void)dmar_domain_destroy(m->domains);
	(void)dmar_iotlb_destroy(m->tlb);
	dmar_faultq_destroy(m->fq);
	dmar_hbm_fini(&m->pasids);
	dmar_hbm_fini(&m->pasids_taken);
	dmar_hbm_fini(&m->domain_ids);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

void dmar_iommu_get_stats(dmar_iommu *m, dmar_iommu_stats *st)
{
	if (!st)
		return;
	memset(st, 0, sizeof(*st));
	if (!m)
		return;
	dmar_iotlb_get_stats(m->tlb, &st->iotlb);
	dmar_faultq_get_stats(m->fq, &st->fault_queue);
	dmar__lock(&m->lock);
	st->translations = m->gone.translations;
	memcpy(st->faults, m->gone.faults, sizeof(st->faults));
	st->switches = m->gone.switches;
	for (const struct dmar_device *d = m->devices; d; d = d->next) {
		dmar_device_stats ds;

		dmar_device_get_stats(d, &ds);
		st->translations += ds.translations;
		for (int f = 1; f < DMAR_FAULT_COUNT; f++)
			st->faults[f] += ds.faults[f];
		if (d->lead == d)
			st->switches += ds.switches;
	}
	dmar__unlock(&m->lock);
}

/* for the WDDM layer (iommu_internal.h) */
dmar_physmem *dmar__iommu_physmem(dmar_iommu *m)
{
	return m->pm;
}

