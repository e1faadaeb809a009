/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The physical memory's layout, for the walker's inlined address lookup. */
#ifndef ENGINE_PHYSMEM_INTERNAL_H
#define ENGINE_PHYSMEM_INTERNAL_H

#include <pthread.h>

#include <dmar/physmem.h>

#include "bitmap.h"

struct pm_range {
	dmar_pa_t base;
	uint64_t size;
	uint8_t *host;
	size_t map_len;     /* bytes this library mapped (to unmap), 0 for a caller's buffer */
	struct dmar_hbm *used; /* frame allocator bitmap, NULL when not allocatable */
	uint64_t poison_lo, poison_hi; /* offsets poisoned so far (DMAR_PHYSMEM_POISON_FREED) */
	dmar_ram_range desc;
};

struct dmar_physmem {
	unsigned nranges;
	unsigned pa_bits;
	unsigned flags;
	struct pm_range r[DMAR_PHYSMEM_MAX_RANGES]; /* sorted by base, disjoint */
	pthread_mutex_t alloc_lock;
	uint64_t allocated_frames; /* under alloc_lock; read atomically for stats */
};

/* dmar_physmem_alloc() whose run also ends at or below the byte @cap (a table page a
 * format with a narrower physical width can point to). */
dmar_status dmar__physmem_alloc_capped(dmar_physmem *pm, uint64_t npages, unsigned align_lg2,
				       dmar_placement place, dmar_pa_t limit, dmar_pa_t cap,
				       dmar_pa_t *out);

/* Range holding [pa, pa + len), or NULL.  @hint (may be NULL) is tried first: callers that
 * read several nearby addresses (the walker) pass the previous answer.  The span is compared
 * as offsets into the range, never as pa + len, so a span that would run past 2^64 is held
 * by no range; len 0 asks only whether pa is RAM. */
static inline const struct pm_range *dmar__pm_find(const struct dmar_physmem *pm, dmar_pa_t pa,
						   uint64_t len, const struct pm_range *hint)
{
	unsigned lo = 0, hi = pm->nranges;

	if (hint && pa - hint->base < hint->size && len <= hint->size - (pa - hint->base))
		return hint;
	while (hi - lo > 1) {
		unsigned mid = (lo + hi) / 2;

		if (pm->r[mid].base <= pa)
			lo = mid;
		else
			hi = mid;
	}
	if (hi == 0)
		return NULL;
	hint = &pm->r[lo];
	if (pa - hint->base < hint->size && len <= hint->size - (pa - hint->base))
		return hint;
	return NULL;
}

/* Map the frames pages[0..n) at consecutive host addresses: a CPU view of scattered
 * physical pages that aliases them (writes through it are writes to the frames).
 * DMAR_E_NOT_SUPPORTED when a page lives in a caller's buffer (private memory cannot be
 * aliased), DMAR_E_RANGE when one is not RAM.  Undo with dmar__physmem_unalias(). */
dmar_status dmar__physmem_alias(const struct dmar_physmem *pm, const dmar_pa_t *pages, uint64_t n,
				int writable, void **out);
void dmar__physmem_unalias(void *va, uint64_t n);

/* Zero [pa, pa + len) (one range); lazy RAM is zeroed by giving its host pages back. */
dmar_status dmar__physmem_zero(const struct dmar_physmem *pm, dmar_pa_t pa, uint64_t len);

/* Frames of @pm to free after a grace period (defer.c): made before the change that unlinks
 * them, with room for @cap (NULL without memory); push returns -1 when full (or NULL).
 * free_later hands them to RCU (a registered caller never waits) and takes the record;
 * free_now frees them at once (nothing may read them any more).  NULL is ignored. */
struct dmar__frames;
struct dmar__frames *dmar__frames_new(struct dmar_physmem *pm, unsigned long cap);
int dmar__frames_push(struct dmar__frames *fr, dmar_pa_t pa);
unsigned long dmar__frames_count(const struct dmar__frames *fr);
void dmar__frames_free_later(struct dmar__frames *fr);
void dmar__frames_free_now(struct dmar__frames *fr);

#endif
