/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The walker: one path from root to leaf through the physical memory model, for any format
 * (the entries are read through fmt.h's decoder).  Bounded (at most `levels` reads, and
 * PT_AD_TRIES restarts when accessed/dirty updates race a writer), and every table address
 * is checked against the memory map before it is read, so hostile tables produce faults,
 * never host accesses.  This is the reference the cached, batched walker
 * (iotlb/translate.c) is tested against. */
#include "walk.h"

#include "fmt.h"
#include "physmem_internal.h"

/* The walk, instantiated once per format by dmar__walk() so that no level of it switches on
 * the format. */
static inline __attribute__((always_inline)) dmar_fault
walk_as(unsigned kind, const struct dmar_physmem *pm, dmar_pa_t root, const struct pt_fmt *f,
	uint64_t va, unsigned access, dmar_walk_result *r)
{
	const struct pm_range *hint = NULL;
	unsigned tries = 0;
	dmar_fault fault;

	r->pa = 0;
	r->pte = 0;
	r->prot = 0;
	r->page_lg2 = 0;
	r->level = f->levels;
	fault = pt_check_input(va, f);
	if (fault != DMAR_FAULT_NONE)
		return r->fault = fault;
	if (pt_root_outside(root, f))
		return r->fault = DMAR_FAULT_TABLE_ADDR;
restart:
	{
		uint64_t table = root & PTN_ADDR, pte, n = 0, perm = PTN_ACCESS;
		unsigned level = f->levels;
		const uint64_t *p;

		for (;;) {
			const dmar_pa_t at = table + 8u * pt_index(va, level);

			hint = dmar__pm_find(pm, at, 8, hint);
			r->level = (uint8_t)level;
			if (!hint)
				return r->fault = DMAR_FAULT_TABLE_ADDR;
			p = (const uint64_t *)(hint->host + (at - hint->base));
			pte = pte_load(p);
			r->pte = pte;
			fault = pt_decode_as(kind, f, pte, level, va, &n);
			if (fault != DMAR_FAULT_NONE)
				return r->fault = fault;
			perm &= n;
			if (n & PTN_LEAF)
				break;
			if (f->a_bit && !(pte & f->a_bit)) {
				const int ad = pt_ad_set(hint, p, pte, f->a_bit);

				if (ad < 0 || (ad > 0 && ++tries >= PT_AD_TRIES))
					return r->fault = DMAR_FAULT_AD;
				if (ad > 0)
					goto restart;
				r->pte = pte | f->a_bit; /* (reported as it now is, as the leaf) */
			}
			table = pt_next_table(kind, pte, n);
			level = pt_next_level(kind, n, level);
		}
		fault = pt_check_access(access, perm);
		if (fault != DMAR_FAULT_NONE)
			return r->fault = fault;
		if (f->a_bit) {
			const uint64_t need =
				(f->a_bit | ((access & DMAR_ACCESS_WRITE) ? f->d_bit : 0)) & ~pte;
			const int ad = need ? pt_ad_set(hint, p, pte, need) : 0;

			if (ad < 0 || (ad > 0 && ++tries >= PT_AD_TRIES))
				return r->fault = DMAR_FAULT_AD;
			if (ad > 0)
				goto restart;
			r->pte = pte | need;
		}
		{
			const unsigned lg2 = ptn_sz(n);

			r->page_lg2 = (uint8_t)lg2;
			r->pa = (n & PTN_ADDR) | (va & ((1ull << lg2) - 1));
			r->prot = (uint16_t)((perm & PTN_ACCESS) | (n & PTN_ATTRS));
		}
	}
	return r->fault = DMAR_FAULT_NONE;
}

dmar_fault dmar__walk(const struct dmar_physmem *pm, dmar_pa_t root, const struct pt_fmt *f,
		      uint64_t va, unsigned access, dmar_walk_result *r)
{
	switch (f->kind) {
	case DMAR_PT_VTD_SS:
		return walk_as(DMAR_PT_VTD_SS, pm, root, f, va, access, r);
	case DMAR_PT_AMDV1:
		return walk_as(DMAR_PT_AMDV1, pm, root, f, va, access, r);
	default:
		return walk_as(DMAR_PT_X86_64, pm, root, f, va, access, r);
	}
}

dmar_status dmar_walk(const dmar_physmem *pm, dmar_pa_t root, const dmar_pt_format *fmt,
		      uint64_t va, unsigned access, dmar_walk_result *result)
{
	struct pt_fmt f;

	if (!pm || !result || !pt_fmt_init(&f, fmt) || (access & ~DMAR_ACCESS_ALL))
		return DMAR_E_INVALID;
	return dmar__walk(pm, root, &f, va, access, result) == DMAR_FAULT_NONE ? DMAR_OK
										: DMAR_E_FAULT;
}
