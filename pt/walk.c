/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The walker: one path from root to leaf through the physical memory model (design decision 1).
 * Bounded (at most `levels` reads), and every table address is checked against the memory
 * map before it is read, so hostile tables produce faults, never host accesses.  This is
 * the reference the cached, batched walker (translate.c) is tested against. */
#include "walk.h"

#include "physmem_internal.h"
#include "pte.h"

dmar_fault dmar__walk(const struct dmar_physmem *pm, dmar_pa_t root, const dmar_pt_format *fmt,
		      uint64_t va, unsigned access, dmar_walk_result *r)
{
	const unsigned pa_bits = fmt->pa_bits ? fmt->pa_bits : DMAR_PA_BITS_MAX;
	const uint64_t rsvd = pt_rsvd_addr_mask(pa_bits);
	const struct pm_range *hint = NULL;
	uint64_t table = root & DMAR_PTE_ADDR_MASK, pte = 0;
	uint64_t rw = DMAR_PTE_RW, us = DMAR_PTE_US, xd = 0;
	unsigned level = fmt->levels;
	dmar_fault f;

	r->pa = 0;
	r->pte = 0;
	r->prot = 0;
	r->page_lg2 = 0;
	r->level = (uint8_t)level;
	f = pt_check_input(va, fmt);
	if (f != DMAR_FAULT_NONE)
		return r->fault = f;
	if (table & rsvd)
		return r->fault = DMAR_FAULT_TABLE_ADDR;

	for (;; level--) {
		const dmar_pa_t at = table + 8u * pt_index(va, level);

		hint = dmar__pm_find(pm, at, 8, hint);
		r->level = (uint8_t)level;
		if (!hint)
			return r->fault = DMAR_FAULT_TABLE_ADDR;
		pte = pte_load((const uint64_t *)(hint->host + (at - hint->base)));
		r->pte = pte;
		f = pte_check(pte, level, rsvd);
		if (f != DMAR_FAULT_NONE)
			return r->fault = f;
		rw &= pte;
		us &= pte;
		xd |= pte;
		if (pte_is_leaf(pte, level))
			break;
		table = pte & DMAR_PTE_ADDR_MASK;
	}
	f = pt_check_access(access, rw, us, xd);
	if (f != DMAR_FAULT_NONE)
		return r->fault = f;
	{
		const unsigned lg2 = pt_shift(level);
		const uint64_t mask = (1ull << lg2) - 1;

		r->page_lg2 = (uint8_t)lg2;
		r->pa = ((pte & DMAR_PTE_ADDR_MASK) & ~mask) | (va & mask);
		r->prot = pt_prot(pte, rw, us, xd);
	}
	return r->fault = DMAR_FAULT_NONE;
}

int dmar__format_ok(const dmar_pt_format *fmt)
{
	return fmt && (fmt->levels == 4 || fmt->levels == 5) &&
	       (fmt->pa_bits == 0 || (fmt->pa_bits >= 32 && fmt->pa_bits <= DMAR_PA_BITS_MAX)) &&
	       !(fmt->flags & ~(unsigned)(DMAR_PT_UPPER_HALF | DMAR_PT_IOVA)) &&
	       (fmt->flags & (DMAR_PT_UPPER_HALF | DMAR_PT_IOVA)) !=
		       (DMAR_PT_UPPER_HALF | DMAR_PT_IOVA);
}

dmar_status dmar_pt_input_range(const dmar_pt_format *fmt, dmar_iova_t *low_last,
				dmar_iova_t *high_first)
{
	uint64_t lo, hi;

	if (!dmar__format_ok(fmt) || !low_last)
		return DMAR_E_INVALID;
	pt_input_range(fmt, &lo, &hi);
	*low_last = lo;
	if (high_first)
		*high_first = hi;
	return DMAR_OK;
}

dmar_status dmar_walk(const dmar_physmem *pm, dmar_pa_t root, const dmar_pt_format *fmt,
		      uint64_t va, unsigned access, dmar_walk_result *result)
{
	if (!pm || !result || !dmar__format_ok(fmt) || (access & ~DMAR_ACCESS_ALL))
		return DMAR_E_INVALID;
	return dmar__walk(pm, root, fmt, va, access, result) == DMAR_FAULT_NONE ? DMAR_OK
										 : DMAR_E_FAULT;
}
