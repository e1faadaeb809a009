/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The WDDM layer's objects.  Everything here is changed under the adapter's lock, except
 * the aperture segment entries, which translators read lock-free (64-bit atomic stores). */
#ifndef REMAP_INTERNAL_H
#define REMAP_INTERNAL_H

#include <pthread.h>

#include <dmar/remap.h>

#include "ptrset.h"

/* What a live handle is (the adapter validates every handle it is given against this set,
 * so a stale or foreign pointer gets DMAR_E_INVALID / DMAR_E_NOT_FOUND, never a read): the
 * tag each handle carries in the adapter's ptrset. */
enum handle_kind {
	H_NONE = 0,    /* not a handle (ptrset_get()'s answer for an unknown pointer) */
	H_PMO,
	H_ADL,         /* allocated with dmar_adl_allocate() */
	H_ADL_MAPPING, /* owned by a GPU mapping */
	H_ALLOCATION,
	H_PROCESS,
	H_CONTEXT,
};

struct adl_box {
	dmar_adl adl; /* first: the public pointer is the box's */
	struct gpu_map *map; /* H_ADL_MAPPING: its mapping */
	uint64_t storage[];
};

struct gpu_map {
	struct dmar_pmo *pmo;
	uint64_t first, npages, iova_pages; /* iova_pages: what the allocator handed out */
	unsigned prot;
	int legacy;       /* made by dmar_legacy_map_mdl_to_iommu() */
	dmar_iova_t iova; /* remapped mode: the logical range */
	struct adl_box *adl;
	struct gpu_map *next;
};

struct cpu_map {
	void *va;
	uint64_t npages;
	dmar_cpu_mode mode;
	dmar_cache_type cache;
	struct cpu_map *next;
};

/* Isolation (S8): the 1:1 entry of one page of an object and who holds it.  Its permissions
 * are the union of its holders' (each GPU mapping's prot, READ|WRITE for the start's, S10),
 * so they widen when a holder asks for more and narrow again when it goes. */
struct idpage {
	uint16_t n;      /* holders: GPU mappings, and the start's mapping (S10) */
	uint16_t by[4];  /* of those, the ones granting READ, WRITE, EXEC, USER (::dmar_prot) */
	uint8_t prot;    /* what the entry grants now; 0: there is no entry */
};

struct dmar_pmo {
	struct dmar_adapter *ad;
	struct dmar_allocation *al; /* the allocation that owns it, or NULL */
	dmar_pmo_kind kind;
	uint64_t npages;
	dmar_pa_t *pages;  /* frames; for a trimmed section object, NULL */
	uint8_t *backing;  /* section: contents while trimmed (NULL: all zero) */
	unsigned opens;
	uint64_t locks;    /* GPU + CPU mappings (a section object is resident while > 0) */
	struct idpage *idmap; /* isolation: per page, its 1:1 entry */
	int prestart;      /* created before start: mapped 1:1 at start in isolation (S10) */
	int idstart;       /* holds the start's 1:1 mapping (S10): until destroyed or trimmed */
	dmar_placement place;
	dmar_pa_t limit;
	struct gpu_map *gpu;
	struct cpu_map *cpu;
	struct dmar_pmo *next;
};

struct ap_map {
	int live;
	uint32_t seg;
	uint64_t off, n;
	void *cpu_va; /* MapApertureCpuVisible (S21) */
};

struct dmar_allocation {
	struct dmar_adapter *ad;
	dmar_allocation_params p;
	uint32_t segment;
	struct dmar_pmo *pmo;
	const dmar_adl *adl;
	struct ap_map ap;
	struct dmar_allocation *next;
};

struct dmar_process {
	struct dmar_adapter *ad;
	uint32_t pasid;
	unsigned contexts;
	struct dmar_process *next;
};

struct dmar_gpu_context {
	struct dmar_process *proc;
	uint32_t pasid;
};

#define AP_VALID 1ull
#define AP_READONLY 2ull

struct aperture {
	uint64_t npages;
	uint64_t *entry; /* (page number << 12) | AP_*; 0 = unmapped */
};

struct dmar_adapter {
	dmar_iommu *iommu;
	dmar_physmem *pm;
	dmar_adapter_config cfg;
	dmar_start_decision dec;
	dmar_device *dev[DMAR_MAX_LINKED];
	unsigned ndev;
	dmar_domain *dom;
	dmar_iovad *iovad;
	int started;
	int all_mapped; /* EnableMappings: all RAM is mapped 1:1 */
	pthread_mutex_t lock;
	struct ptrset handles;
	struct dmar_pmo *pmos;
	struct dmar_allocation *allocs;
	struct dmar_process *procs;
	struct aperture ap[DMAR_MAX_APERTURE_SEGMENTS];
	dmar_adapter_stats st; /* under lock, except aperture_faults (atomic) */
};

/* Take the adapter's lock (dmar__lock(): offline while waiting; release it with
 * dmar__unlock()).  No grace period is waited for while it is held (design decision 3):
 * unbinding a process's PASID happens after it is released. */
void dmar__adapter_lock(dmar_adapter *ad);

/* The adapter's lock taken for a call on handle @h: DMAR_OK with the lock held when @h is a
 * live handle of @kind (with H_NONE, whatever @h is), else DMAR_E_INVALID without it. */
dmar_status dmar__adapter_enter(dmar_adapter *ad, const void *h, enum handle_kind kind);

/* The entry of a callback (@what: its DDI name): DMAR_E_INVALID for a NULL @ad, or a NULL
 * @h where @kind is not H_NONE; then its IRQL checked (S26); then dmar__adapter_enter().
 * DMAR_OK with the lock held; anything else without it. */
dmar_status dmar__callback_enter(dmar_adapter *ad, dmar_irql irql, const char *what,
				 const void *h, enum handle_kind kind);
/* The same for a callback that runs once more (dmar__retry_after_drain()) when @again: its
 * IRQL is checked again, but counted (irql_unverified) only the first time. */
dmar_status dmar__callback_reenter(dmar_adapter *ad, dmar_irql irql, const char *what,
				   const void *h, enum handle_kind kind, int again);

/* The exit of both: the adapter's lock released, @st returned. */
dmar_status dmar__adapter_leave(dmar_adapter *ad, dmar_status st);

/* Memory objects (memory.c), called with ad->lock held. */
dmar_status dmar__pmo_create(dmar_adapter *ad, const dmar_pmo_params *p, dmar_pmo **out);
dmar_status dmar__pmo_destroy(dmar_adapter *ad, dmar_pmo *pmo);
dmar_status dmar__pmo_map_gpu(dmar_adapter *ad, dmar_pmo *pmo, uint64_t first, uint64_t npages,
			      unsigned prot, int legacy, const dmar_adl **adl);
dmar_status dmar__pmo_unmap_gpu(dmar_adapter *ad, struct adl_box *box);
dmar_status dmar__pmo_map_identity(dmar_adapter *ad, dmar_pmo *pmo); /* S10 at start */
void dmar__pmo_unmap_identity(dmar_adapter *ad, dmar_pmo *pmo);
void dmar__pmo_teardown(dmar_adapter *ad, dmar_pmo *pmo); /* adapter, allocation destroy */

/* Aperture (aperture.c), with ad->lock held. */
void dmar__allocation_teardown(dmar_adapter *ad, dmar_allocation *al);

/* Whether a callback that answered @st runs once more: it found no free logical addresses
 * while holding the adapter's lock, where the allocator drains only what needs no grace
 * period (iova.h).  The rest is drained here, the lock released (design decision 3), and
 * the callback runs again from its entry, which checks everything anew.  *@tried starts 0. */
static inline int dmar__retry_after_drain(dmar_adapter *ad, dmar_status st, int *tried)
{
	if (st != DMAR_E_NOSPACE || *tried || !ad->iovad)
		return 0;
	*tried = 1;
	dmar_iovad_flush(ad->iovad);
	return 1;
}

#endif
