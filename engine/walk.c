/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The walker: one path from root to leaf through the physical memory model (DESIGN 1).
 * Bounded (at most `levels` reads), and every table address is checked against the memory
 * map before it is read, so hostile tables produce faults, never host accesses. */
#include "walk.h"

#include "physmem_internal.h"
#include "pte.h"

/* Bits 29:13 of a 1 GiB leaf and 20:13 of a 2 MiB leaf are reserved (the PAT bit is 12). */
#define RSVD_1G 0x3fffe000ull
#define RSVD_2M 0x1fe000ull

static dmar_fault check_input(uint64_t va, const dmar_pt_format *fmt)
{
	unsigned bits = pt_va_bits(fmt->levels);
	uint64_t top = va >> (bits - 1); /* bit bits-1 and everything above it */

	if (top == 0)
		return DMAR_FAULT_NONE;
	if (top != ~0ull >> (bits - 1))
		return DMAR_FAULT_NONCANONICAL;
	return (fmt->flags & DMAR_PT_UPPER_HALF) ? DMAR_FAULT_NONE : DMAR_FAULT_ADDR_WIDTH;
}

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
	f = check_input(va, fmt);
	if (f != DMAR_FAULT_NONE)
		return r->fault = f;
	if (table & rsvd)
		return r->fault = DMAR_FAULT_TABLE_ADDR;

	for (;; level--) {
		const uint64_t *p;

		hint = dmar__pm_find(pm, table + 8u * pt_index(va, level), 8, hint);
		r->level = (uint8_t)level;
		if (!hint)
			return r->fault = DMAR_FAULT_TABLE_ADDR;
		p = (const uint64_t *)(hint->host + (table + 8u * pt_index(va, level) - hint->base));
		pte = pte_load(p);
		r->pte = pte;
		if (!(pte & DMAR_PTE_P))
			return r->fault = DMAR_FAULT_NOT_PRESENT;
		if (pte & rsvd)
			return r->fault = DMAR_FAULT_RESERVED;
		if (level >= 4 && (pte & DMAR_PTE_PS))
			return r->fault = DMAR_FAULT_RESERVED;
		rw &= pte;
		us &= pte;
		xd |= pte;
		if (pte_is_leaf(pte, level))
			break;
		table = pte & DMAR_PTE_ADDR_MASK;
	}
	if ((level == 3 && (pte & RSVD_1G)) || (level == 2 && (pte & RSVD_2M)))
		return r->fault = DMAR_FAULT_RESERVED;

	if ((access & DMAR_ACCESS_WRITE) && !rw)
		return r->fault = DMAR_FAULT_WRITE;
	if ((access & DMAR_ACCESS_USER) && !us)
		return r->fault = DMAR_FAULT_USER;
	if ((access & DMAR_ACCESS_EXEC) && (xd & DMAR_PTE_XD))
		return r->fault = DMAR_FAULT_EXEC;

	{
		unsigned lg2 = pt_shift(level);
		uint64_t mask = (1ull << lg2) - 1;

		r->page_lg2 = (uint8_t)lg2;
		r->pa = ((pte & DMAR_PTE_ADDR_MASK) & ~mask) | (va & mask);
		r->prot = (uint16_t)(DMAR_PROT_READ | (rw ? DMAR_PROT_WRITE : 0) |
				     (us ? DMAR_PROT_USER : 0) |
				     ((xd & DMAR_PTE_XD) ? 0 : DMAR_PROT_EXEC) |
				     ((pte & DMAR_PTE_PWT) ? DMAR_PROT_PWT : 0) |
				     ((pte & DMAR_PTE_PCD) ? DMAR_PROT_PCD : 0) |
				     ((pte & DMAR_PTE_G) ? DMAR_PROT_GLOBAL : 0));
	}
	return r->fault = DMAR_FAULT_NONE;
}

int dmar__format_ok(const dmar_pt_format *fmt)
{
	return fmt && (fmt->levels == 4 || fmt->levels == 5) &&
	       (fmt->pa_bits == 0 || (fmt->pa_bits >= 32 && fmt->pa_bits <= DMAR_PA_BITS_MAX)) &&
	       !(fmt->flags & ~(unsigned)DMAR_PT_UPPER_HALF);
}

dmar_status dmar_walk(const dmar_physmem *pm, dmar_pa_t root, const dmar_pt_format *fmt,
		      uint64_t va, unsigned access, dmar_walk_result *result)
{
	if (!pm || !result || !dmar__format_ok(fmt) || (access & ~0xfu))
		return DMAR_E_INVALID;
	return dmar__walk(pm, root, fmt, va, access, result) == DMAR_FAULT_NONE ? DMAR_OK
										 : DMAR_E_FAULT;
}
