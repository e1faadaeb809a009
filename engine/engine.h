/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The engine's objects (iommu.c, domain.c, device.c, dma.c): what its files share. */
#ifndef ENGINE_ENGINE_H
#define ENGINE_ENGINE_H

#include "rcu.h"

#include <dmar/iommu.h>

#include "bitmap.h"

#define PASID_LEAF_BITS 10
#define PASID_LEAF (1u << PASID_LEAF_BITS)

struct adapter_state {
	struct dmar_domain *domain; /* NULL: not attached */
	int exclusive;
	/* freed after a grace period, by whichever way retire_state() picks */
	struct rcu_head rcu;
	struct dmar__after after;
};

struct dmar_domain {
	struct dmar_iommu *iommu;
	uint16_t id;
	dmar_domain_kind kind;
	dmar_pgtable *pt;   /* NULL for pass-through */
	dmar_space *space;  /* NULL for pass-through */
	unsigned attached;  /* adapters attached (under iommu->lock) */
	dmar_space **pasid_dir[1u << (20 - PASID_LEAF_BITS)]; /* RCU: leaves of spaces */
	struct dmar_domain *next;
};

/* One thread's count of a device's requests, alone on its cache line: a batch adds to its
 * own thread's slot (as the IOTLB's statistics, iotlb_internal.h), so devices driven from
 * several threads share no written line; readers sum the slots. */
struct dev_tstat {
	uint64_t translations;
} __attribute__((aligned(64)));

struct dmar_device {
	struct dmar_iommu *iommu;
	uint16_t rid;
	unsigned dma_bits;
	struct dmar_device *lead;        /* leader of its logical adapter (itself when alone) */
	struct dmar_device *member_next; /* leader's chain of the other members */
	struct adapter_state *state;     /* leader only; RCU */
	int pinned;                      /* leader only: attach/detach refused (S12) */
	struct dmar_device *next;
	struct dev_tstat *tstat;         /* DMAR_MAX_THREADS, by dmar__thread_slot() */
	uint64_t switches;               /* atomic */
	uint64_t faults[DMAR_FAULT_COUNT]; /* atomic (faults only) */
};

struct dmar_iommu {
	dmar_physmem *pm;
	dmar_iotlb *tlb;
	dmar_faultq *fq;
	unsigned pasid_bits;
	pthread_mutex_t lock; /* configuration */
	/* PASIDs: @pasids holds the ones dmar_pasid_alloc() handed out (the caller owns them
	 * until dmar_pasid_free()); @pasids_taken those and every PASID bound in some domain,
	 * so that alloc never hands out a PASID a caller bound explicitly */
	struct dmar_hbm pasids, pasids_taken, domain_ids;
	struct dmar_domain *domains;
	struct dmar_device *devices;
	/* what devices destroyed since counted, and the switches of devices that led an adapter
	 * before they joined another (under the lock): dmar_iommu_get_stats' counts never go
	 * down */
	dmar_device_stats gone;
};

/* The space bound to @pasid in @d, or NULL (any thread; inside a read section for a
 * translation, under the IOMMU's lock for a writer). */
static inline dmar_space *dmar__pasid_space(const struct dmar_domain *d, uint32_t pasid)
{
	dmar_space **leaf = __atomic_load_n(&d->pasid_dir[pasid >> PASID_LEAF_BITS], __ATOMIC_ACQUIRE);

	return leaf ? __atomic_load_n(&leaf[pasid & (PASID_LEAF - 1)], __ATOMIC_ACQUIRE) : NULL;
}

#endif
