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

/* Levels whose entries may be large leaves with PS set: 2 (2 MiB) and 3 (1 GiB).  Level 1
 * entries are always 4 KiB leaves; above level 3, PS is reserved. */
static inline int pt_level_large(unsigned level)
{
	return level == 2 || level == 3;
}

/* An entry at @level that maps a page rather than pointing to a table. */
static inline int pte_is_leaf(uint64_t pte, unsigned level)
{
	return level == 1 || (pt_level_large(level) && (pte & DMAR_PTE_PS));
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

/* Bits 29:13 of a 1 GiB leaf and 20:13 of a 2 MiB leaf are reserved (the PAT bit is 12). */
#define PTE_RSVD_1G 0x3fffe000ull
#define PTE_RSVD_2M 0x1fe000ull

static inline int pte_leaf_rsvd(uint64_t pte, unsigned level)
{
	return (level == 3 && (pte & PTE_RSVD_1G)) || (level == 2 && (pte & PTE_RSVD_2M));
}

/* Fault (or none) of an entry just read at @level, before permissions. */
static inline dmar_fault pte_check(uint64_t pte, unsigned level, uint64_t rsvd_addr)
{
	if (!(pte & DMAR_PTE_P))
		return DMAR_FAULT_NOT_PRESENT;
	if ((pte & rsvd_addr) || (level > 1 && !pt_level_large(level) && (pte & DMAR_PTE_PS)) ||
	    (pte_is_leaf(pte, level) && pte_leaf_rsvd(pte, level)))
		return DMAR_FAULT_RESERVED;
	return DMAR_FAULT_NONE;
}

/* The input addresses a format translates: [0, *low_last] and, for a CPU table with the
 * upper half, [*high_first, 2^64 - 1] (else *high_first = 0).  An I/O virtual address table
 * (DMAR_PT_IOVA) takes every address below 2^bits; a CPU table only the canonical ones. */
static inline void pt_input_range(const dmar_pt_format *fmt, uint64_t *low_last,
				  uint64_t *high_first)
{
	const unsigned bits = pt_va_bits(fmt->levels);

	if (fmt->flags & DMAR_PT_IOVA) {
		*low_last = (1ull << bits) - 1;
		*high_first = 0;
		return;
	}
	*low_last = (1ull << (bits - 1)) - 1;
	*high_first = (fmt->flags & DMAR_PT_UPPER_HALF) ? ~0ull << (bits - 1) : 0;
}

/* Whether an input address is inside the format's width (S2: a CPU table is canonical and
 * takes the upper half only when asked; an IOVA table has no canonical hole). */
static inline dmar_fault pt_check_input(uint64_t va, const dmar_pt_format *fmt)
{
	unsigned bits = pt_va_bits(fmt->levels);
	uint64_t top = va >> (bits - 1); /* bit bits-1 and everything above it */

	if (top == 0)
		return DMAR_FAULT_NONE;
	if (fmt->flags & DMAR_PT_IOVA)
		return top == 1 ? DMAR_FAULT_NONE : DMAR_FAULT_ADDR_WIDTH;
	if (top != ~0ull >> (bits - 1))
		return DMAR_FAULT_NONCANONICAL;
	return (fmt->flags & DMAR_PT_UPPER_HALF) ? DMAR_FAULT_NONE : DMAR_FAULT_ADDR_WIDTH;
}

/* Access check against the permissions combined over the levels (rw/us: the bit if every
 * level had it; xd: the bit if any level had it). */
static inline dmar_fault pt_check_access(unsigned access, uint64_t rw, uint64_t us, uint64_t xd)
{
	if ((access & DMAR_ACCESS_WRITE) && !(rw & DMAR_PTE_RW))
		return DMAR_FAULT_WRITE;
	if ((access & DMAR_ACCESS_USER) && !(us & DMAR_PTE_US))
		return DMAR_FAULT_USER;
	if ((access & DMAR_ACCESS_EXEC) && (xd & DMAR_PTE_XD))
		return DMAR_FAULT_EXEC;
	return DMAR_FAULT_NONE;
}

/* ::dmar_prot of a leaf given the combined permissions. */
static inline uint16_t pt_prot(uint64_t leaf, uint64_t rw, uint64_t us, uint64_t xd)
{
	return (uint16_t)(DMAR_PROT_READ | ((rw & DMAR_PTE_RW) ? DMAR_PROT_WRITE : 0) |
			  ((us & DMAR_PTE_US) ? DMAR_PROT_USER : 0) |
			  ((xd & DMAR_PTE_XD) ? 0 : DMAR_PROT_EXEC) |
			  ((leaf & DMAR_PTE_PWT) ? DMAR_PROT_PWT : 0) |
			  ((leaf & DMAR_PTE_PCD) ? DMAR_PROT_PCD : 0) |
			  ((leaf & DMAR_PTE_G) ? DMAR_PROT_GLOBAL : 0));
}

#endif
