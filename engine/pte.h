/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* x86-64 entry layout helpers shared by the walker and the table writer.  Levels count
 * from the leaf: level 1 holds 4 KiB PTEs, 2 PDEs (2 MiB leaves), 3 PDPTEs (1 GiB leaves),
 * 4 PML4Es, 5 PML5Es. */
#ifndef ENGINE_PTE_H
#define ENGINE_PTE_H

#include <stdint.h>

#include <dmar/pgtable.h>

#define PT_ENTRIES 512u
#define PT_LEVEL_LG2 9u

/* log2 of the span one entry at @level covers (12, 21, 30, 39, 48). */
static inline unsigned pt_shift(unsigned level)
{
	return DMAR_PAGE_4K_LG2 + PT_LEVEL_LG2 * (level - 1);
}

static inline unsigned pt_index(uint64_t va, unsigned level)
{
	return (unsigned)(va >> pt_shift(level)) & (PT_ENTRIES - 1);
}

/* Input width of a format: 48 or 57 bits. */
static inline unsigned pt_va_bits(unsigned levels)
{
	return pt_shift(levels) + PT_LEVEL_LG2;
}

/* An entry at @level that maps a page rather than pointing to a table. */
static inline int pte_is_leaf(uint64_t pte, unsigned level)
{
	return level == 1 || ((level == 2 || level == 3) && (pte & DMAR_PTE_PS));
}

/* Entries are read and written whole, with single atomic accesses (S31).  Acquire on the
 * read pairs with the release that published a table page after it was filled. */
static inline uint64_t pte_load(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline void pte_store(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/* Reserved physical-address bits for MAXPHYADDR = pa_bits (bits pa_bits..51). */
static inline uint64_t pt_rsvd_addr_mask(unsigned pa_bits)
{
	return DMAR_PTE_ADDR_MASK & ~((1ull << pa_bits) - 1);
}

#endif
