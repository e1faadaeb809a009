/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef PT_WALK_H
#define PT_WALK_H

#include <dmar/pgtable.h>

#include "fmt.h"
#include "physmem_internal.h"

struct dmar_physmem;

/* The walk itself, with no argument checks (the format resolved by pt_fmt_init). */
dmar_fault dmar__walk(const struct dmar_physmem *pm, dmar_pa_t root, const struct pt_fmt *f,
		      uint64_t va, unsigned access, dmar_walk_result *r);

/* Walks give up setting accessed and dirty bits on an entry that keeps changing under them
 * after this many tries (::DMAR_FAULT_AD). */
#define PT_AD_TRIES 16

/* ::DMAR_PT_AD: set the bits @need on the entry at @p (in the range @r) that held @old, as
 * hardware does, with an atomic compare-and-exchange.  0 when done; 1 when the entry changed
 * meanwhile (the walk reads it again); -1 when the memory is read-only. */
static inline int pt_ad_set(const struct pm_range *r, const uint64_t *p, uint64_t old,
			    uint64_t need)
{
	if (r->desc.flags & DMAR_RAM_READONLY)
		return -1;
	return __atomic_compare_exchange_n((uint64_t *)(uintptr_t)p, &old, old | need, 0,
					   __ATOMIC_SEQ_CST, __ATOMIC_RELAXED)
		       ? 0
		       : 1;
}

#endif
