/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The format layer (docs/design.md, "The format layer"): what each table format's entries
 * mean, in one place, for the walker (walk.c), the batched walker and its page-walk cache
 * (iotlb/translate.c) and the table writer (pgtable.c).
 *
 * Reading: pt_decode() turns an entry of any format, read at a level, into a normalized
 * word (below) or a fault.  The walkers only ever look at normalized words, so the walk
 * loop, the permission fold and the page-walk cache are the same code for every format.
 * Writing: pt_enc_table() / pt_enc_leaf() make the entries a table built here holds, and
 * pt_present() says whether a raw entry holds anything.
 *
 * Levels count from the leaf: level 1 holds 4 KiB entries, each level above spans 512 times
 * more (2 MiB, 1 GiB, 512 GiB, 256 TiB, 2^57).  AMD-Vi's sixth level indexes bits 57-63. */
#ifndef PT_FMT_H
#define PT_FMT_H

#include <stdint.h>

#include <dmar/pgtable.h>
#include <dmar/physmem.h>

#define PT_ENTRIES 512u
#define PT_LEVEL_LG2 9u
#define PT_MAX_LEVELS 6u

/* log2 of the span one entry at @level covers (12, 21, 30, 39, 48, 57). */
static inline unsigned pt_shift(unsigned level)
{
	return DMAR_PAGE_4K_LG2 + PT_LEVEL_LG2 * (level - 1);
}

static inline unsigned pt_index(uint64_t va, unsigned level)
{
	return (unsigned)(va >> pt_shift(level)) & (PT_ENTRIES - 1);
}

/* Normalized entry: what pt_decode() makes of an entry of any format, and what the page-walk
 * cache keeps (with the permissions of the levels above folded in).
 *   bits 0-7    ::dmar_prot: the access bits (0-3, lined up with ::dmar_access) this entry
 *               grants, and for a leaf its attributes (PWT, PCD, GLOBAL, SNOOP)
 *   bit 8       a leaf
 *   bit 9       a leaf whose dirty bit is set, or whose format does not track it (no
 *               ::DMAR_PT_AD): a write through it needs no walk
 *   bits 12-51  the table's address, or the leaf's first byte (aligned to its size)
 *   bits 52-57  a leaf's page size (log2), or a table's level */
#define PTN_PROT 0xffull
#define PTN_ACCESS 0xfull
#define PTN_LEAF (1ull << 8)
#define PTN_DIRTY (1ull << 9)
#define PTN_ADDR DMAR_PTE_ADDR_MASK
#define PTN_SZ_SHIFT 52
#define PTN_ATTRS (DMAR_PROT_PWT | DMAR_PROT_PCD | DMAR_PROT_GLOBAL | DMAR_PROT_SNOOP)

static inline unsigned ptn_sz(uint64_t n)
{
	return (unsigned)(n >> PTN_SZ_SHIFT) & 63;
}

/* A format, resolved once from a ::dmar_pt_format (pt_fmt_init) for the code that walks and
 * writes it. */
struct pt_fmt {
	uint8_t kind;    /* ::dmar_pt_kind */
	uint8_t levels;
	uint8_t va_bits; /* input width: 12 + 9 * levels, at most 64 */
	uint8_t exec;    /* VT-d: the X bit is honoured */
	uint8_t large1g; /* VT-d: PS at level 3 is a 1 GiB leaf */
	uint8_t pa_bits;
	unsigned flags;  /* ::dmar_pt_flags */
	uint64_t rsvd_addr; /* address bits at or above pa_bits (to bit 51): reserved */
	uint64_t present;   /* an entry holds something when it has one of these bits */
	uint64_t a_bit, d_bit; /* the format's accessed and dirty bits; 0 without ::DMAR_PT_AD */
};

/* x86-64: bits 29:13 of a 1 GiB leaf and 20:13 of a 2 MiB leaf are reserved (PAT is 12). */
#define PT_X86_RSVD_1G 0x3fffe000ull
#define PT_X86_RSVD_2M 0x1fe000ull

/* AMD-Vi: bits 52-58 are reserved in every entry. */
#define PT_AMD_RSVD 0x07f0000000000000ull

/* Resolve @fmt (0 if it is not a valid format).  The valid ones: x86-64 with 4 or 5 levels
 * and at most one of UPPER_HALF and IOVA; VT-d second stage with 3 to 5 levels; AMD-Vi with
 * 1 to 6; pa_bits 0 (52) or 32..52; AD for every kind, EXEC and 1G for VT-d only. */
int pt_fmt_init(struct pt_fmt *f, const dmar_pt_format *fmt);

/* The input addresses a format translates: [0, *low_last] and, for an x86-64 CPU table with
 * the upper half, [*high_first, 2^64 - 1] (else *high_first = 0). */
static inline void pt_input_range(const struct pt_fmt *f, uint64_t *low_last,
				  uint64_t *high_first)
{
	const unsigned bits = f->va_bits;

	*high_first = 0;
	if (f->kind != DMAR_PT_X86_64 || (f->flags & DMAR_PT_IOVA)) {
		*low_last = bits >= 64 ? ~0ull : (1ull << bits) - 1;
		return;
	}
	*low_last = (1ull << (bits - 1)) - 1;
	if (f->flags & DMAR_PT_UPPER_HALF)
		*high_first = ~0ull << (bits - 1);
}

/* Whether an input address is inside the format's width (S2: a CPU table is canonical and
 * takes the upper half only when asked; an I/O virtual address table has no hole). */
static inline dmar_fault pt_check_input(uint64_t va, const struct pt_fmt *f)
{
	const unsigned bits = f->va_bits;
	uint64_t top;

	if (bits >= 64)
		return DMAR_FAULT_NONE;
	top = va >> (bits - 1); /* bit bits-1 and everything above it */
	if (top == 0)
		return DMAR_FAULT_NONE;
	if (f->kind != DMAR_PT_X86_64 || (f->flags & DMAR_PT_IOVA))
		return top == 1 ? DMAR_FAULT_NONE : DMAR_FAULT_ADDR_WIDTH;
	if (top != ~0ull >> (bits - 1))
		return DMAR_FAULT_NONCANONICAL;
	return (f->flags & DMAR_PT_UPPER_HALF) ? DMAR_FAULT_NONE : DMAR_FAULT_ADDR_WIDTH;
}

/* A leaf's normalized word: its first byte @base (aligned), size 2^@lg2, @prot, and whether
 * a write through it needs no walk (@dirty). */
static inline uint64_t ptn_leaf(uint64_t base, unsigned lg2, uint64_t prot, int dirty)
{
	return base | prot | PTN_LEAF | (dirty ? PTN_DIRTY : 0) | (uint64_t)lg2 << PTN_SZ_SHIFT;
}

static inline dmar_fault pt_decode_x86(const struct pt_fmt *f, uint64_t pte, unsigned level,
				       uint64_t *n)
{
	/* R/W (bit 1) is WRITE's bit already; U/S (bit 2) moves to USER (bit 3); XD (bit 63)
	 * clear gives EXEC (bit 2). */
	const uint64_t access = DMAR_PROT_READ | (pte & DMAR_PTE_RW) | (pte & DMAR_PTE_US) << 1 |
				(~pte >> 63) << 2;

	_Static_assert(DMAR_PTE_RW == DMAR_PROT_WRITE && DMAR_PTE_US << 1 == DMAR_PROT_USER &&
			       DMAR_PTE_XD == 1ull << 63 && DMAR_PROT_EXEC == 1u << 2,
		       "x86-64 access bits");
	if (!(pte & DMAR_PTE_P))
		return DMAR_FAULT_NOT_PRESENT;
	if (pte & f->rsvd_addr)
		return DMAR_FAULT_RESERVED;
	if (level == 1 || ((pte & DMAR_PTE_PS) && level - 2 < 2)) {
		const unsigned lg2 = pt_shift(level);
		const uint64_t attrs = ((pte & DMAR_PTE_PWT) ? DMAR_PROT_PWT : 0) |
				       ((pte & DMAR_PTE_PCD) ? DMAR_PROT_PCD : 0) |
				       ((pte & DMAR_PTE_G) ? DMAR_PROT_GLOBAL : 0);

		if ((level == 3 && (pte & PT_X86_RSVD_1G)) || (level == 2 && (pte & PT_X86_RSVD_2M)))
			return DMAR_FAULT_RESERVED;
		*n = ptn_leaf(pte & PTN_ADDR & ~((1ull << lg2) - 1), lg2, access | attrs,
			      !f->d_bit || (pte & f->d_bit));
		return DMAR_FAULT_NONE;
	}
	if (pte & DMAR_PTE_PS) /* PS above level 3 */
		return DMAR_FAULT_RESERVED;
	*n = (pte & PTN_ADDR) | access | (uint64_t)(level - 1) << PTN_SZ_SHIFT;
	return DMAR_FAULT_NONE;
}

static inline dmar_fault pt_decode_vtd(const struct pt_fmt *f, uint64_t pte, unsigned level,
				       uint64_t *n)
{
	const uint64_t r = (pte & DMAR_VTD_SS_R) ? DMAR_PROT_READ : 0;
	const uint64_t x = f->exec ? ((pte & DMAR_VTD_SS_X) ? DMAR_PROT_EXEC : 0)
				   : (r ? DMAR_PROT_EXEC : 0);
	const uint64_t access = r | ((pte & DMAR_VTD_SS_W) ? DMAR_PROT_WRITE : 0) | x |
				DMAR_PROT_USER;

	if (!(pte & (DMAR_VTD_SS_R | DMAR_VTD_SS_W)))
		return DMAR_FAULT_NOT_PRESENT;
	if (pte & f->rsvd_addr)
		return DMAR_FAULT_RESERVED;
	if (level == 1 ||
	    ((pte & DMAR_VTD_SS_PS) && (level == 2 || (level == 3 && f->large1g)))) {
		const unsigned lg2 = pt_shift(level);

		if (pte & PTN_ADDR & ((1ull << lg2) - 1))
			return DMAR_FAULT_RESERVED;
		*n = ptn_leaf(pte & PTN_ADDR, lg2,
			      access | ((pte & DMAR_VTD_SS_SNP) ? DMAR_PROT_SNOOP : 0),
			      !f->d_bit || (pte & f->d_bit));
		return DMAR_FAULT_NONE;
	}
	if (pte & DMAR_VTD_SS_PS) /* above level 3, or at 3 without 1 GiB leaves */
		return DMAR_FAULT_RESERVED;
	*n = (pte & PTN_ADDR) | access | (uint64_t)(level - 1) << PTN_SZ_SHIFT;
	return DMAR_FAULT_NONE;
}

/* AMD-Vi's size-encoded leaf (next level 7) at @level: the page size the run of ones in the
 * low address bits gives, or 0 when it is not larger than the level's span and smaller than
 * the next level's (nor fits the 52-bit address field). */
static inline unsigned pt_amd_size_lg2(uint64_t pte, unsigned level)
{
	const uint64_t field = (pte & PTN_ADDR) >> DMAR_PAGE_4K_LG2;
	const unsigned lg2 = DMAR_PAGE_4K_LG2 + (unsigned)__builtin_ctzll(~field) + 1;

	return lg2 > pt_shift(level) && lg2 < pt_shift(level + 1) && lg2 < DMAR_PA_BITS_MAX
		       ? lg2
		       : 0;
}

static inline dmar_fault pt_decode_amd(const struct pt_fmt *f, uint64_t pte, unsigned level,
				       uint64_t va, uint64_t *n)
{
	const unsigned nl = (unsigned)(pte >> 9) & 7;
	const uint64_t access = ((pte & DMAR_AMDV1_IR) ? DMAR_PROT_READ | DMAR_PROT_EXEC : 0) |
				((pte & DMAR_AMDV1_IW) ? DMAR_PROT_WRITE : 0) | DMAR_PROT_USER;

	if (!(pte & DMAR_AMDV1_PR))
		return DMAR_FAULT_NOT_PRESENT;
	if (pte & (f->rsvd_addr | PT_AMD_RSVD))
		return DMAR_FAULT_RESERVED;
	if (nl == 0 || nl == DMAR_AMDV1_NL_SIZE) {
		const unsigned lg2 = nl == 0 ? pt_shift(level) : pt_amd_size_lg2(pte, level);

		/* the sixth level holds no leaves; a default-size leaf has no low address bits */
		if (level == PT_MAX_LEVELS || !lg2 ||
		    (nl == 0 && (pte & PTN_ADDR & ((1ull << lg2) - 1))))
			return DMAR_FAULT_RESERVED;
		*n = ptn_leaf(pte & PTN_ADDR & ~((1ull << lg2) - 1), lg2,
			      access | ((pte & DMAR_AMDV1_FC) ? DMAR_PROT_SNOOP : 0),
			      !f->d_bit || (pte & f->d_bit));
		return DMAR_FAULT_NONE;
	}
	if (nl >= level) /* a table at or above this level (level 1 holds only leaves) */
		return DMAR_FAULT_RESERVED;
	/* the levels skipped between this one and the table's translate no address bits: they
	 * must be zero */
	if (nl + 1 < level && ((va >> pt_shift(nl + 1)) & ((1ull << (pt_shift(level) - pt_shift(nl + 1))) - 1)))
		return DMAR_FAULT_ADDR_WIDTH;
	*n = (pte & PTN_ADDR) | access | (uint64_t)nl << PTN_SZ_SHIFT;
	return DMAR_FAULT_NONE;
}

/* Decode the entry @pte read at @level on the way to @va: its normalized word in *n (the
 * access bits this entry alone grants), or why the walk stops there.  @kind is the format's
 * ::dmar_pt_kind: a constant where the caller is instantiated per format (the switch folds),
 * else one well-predicted branch per entry (pt_decode). */
static inline __attribute__((always_inline)) dmar_fault
pt_decode_as(unsigned kind, const struct pt_fmt *f, uint64_t pte, unsigned level, uint64_t va,
	     uint64_t *n)
{
	switch (kind) {
	case DMAR_PT_VTD_SS:
		return pt_decode_vtd(f, pte, level, n);
	case DMAR_PT_AMDV1:
		return pt_decode_amd(f, pte, level, va, n);
	default:
		return pt_decode_x86(f, pte, level, n);
	}
}

static inline dmar_fault pt_decode(const struct pt_fmt *f, uint64_t pte, unsigned level,
				   uint64_t va, uint64_t *n)
{
	return pt_decode_as(f->kind, f, pte, level, va, n);
}

/* Where a walk goes from the table entry @pte at @level (normalized @n; @kind the format's
 * ::dmar_pt_kind): the next table's address and level.  Only AMD-Vi entries may skip
 * levels; elsewhere both come straight from the entry and the count, not through its
 * decoding (a shorter chain from one load to the next). */
static inline __attribute__((always_inline)) uint64_t pt_next_table(unsigned kind, uint64_t pte,
								    uint64_t n)
{
	return kind == DMAR_PT_AMDV1 ? n & PTN_ADDR : pte & PTN_ADDR;
}

static inline __attribute__((always_inline)) unsigned pt_next_level(unsigned kind, uint64_t n,
								    unsigned level)
{
	return kind == DMAR_PT_AMDV1 ? ptn_sz(n) : level - 1;
}

/* The skipped-level check of a table entry cached at @level (normalized @n) for @va: what
 * pt_decode_amd() checks, for a page-walk-cache hit that does not decode again. */
static inline dmar_fault ptn_check_skip(uint64_t n, unsigned level, uint64_t va)
{
	const unsigned next = ptn_sz(n);

	if (next + 1 < level &&
	    ((va >> pt_shift(next + 1)) & ((1ull << (pt_shift(level) - pt_shift(next + 1))) - 1)))
		return DMAR_FAULT_ADDR_WIDTH;
	return DMAR_FAULT_NONE;
}

/* The fault of @access against the access bits @perm every level granted (the order the
 * x86-64 walk reports them in, with read, which only the IOMMU formats can deny, first). */
static inline dmar_fault pt_check_access(unsigned access, uint64_t perm)
{
	const uint64_t deny = access & ~perm;

	if (!deny)
		return DMAR_FAULT_NONE;
	if (deny & DMAR_ACCESS_READ)
		return DMAR_FAULT_READ;
	if (deny & DMAR_ACCESS_WRITE)
		return DMAR_FAULT_WRITE;
	if (deny & DMAR_ACCESS_USER)
		return DMAR_FAULT_USER;
	return DMAR_FAULT_EXEC;
}

/* Whether a raw entry holds anything (a table or a leaf) - for the writer, whose own entries
 * are always well formed. */
static inline int pt_present(const struct pt_fmt *f, uint64_t pte)
{
	return (pte & f->present) != 0; /* (P, R or W, PR: pt_fmt_init) */
}

/* Whether the present entry @pte (of a table built here) at @level is a leaf. */
static inline int pt_is_leaf(const struct pt_fmt *f, uint64_t pte, unsigned level)
{
	if (level == 1)
		return 1;
	switch (f->kind) {
	case DMAR_PT_VTD_SS:
		return (pte & DMAR_VTD_SS_PS) != 0;
	case DMAR_PT_AMDV1: {
		const unsigned nl = (unsigned)(pte >> 9) & 7;

		return nl == 0 || nl == DMAR_AMDV1_NL_SIZE;
	}
	default:
		return (pte & DMAR_PTE_PS) != 0;
	}
}

/* The table address in a table entry of any format. */
static inline dmar_pa_t pt_table_addr(uint64_t pte)
{
	return pte & PTN_ADDR;
}

/* A table entry at @level pointing to the (level - 1) table at @pa: every permission, so
 * that the leaves alone decide (as Linux writes them). */
static inline uint64_t pt_enc_table(const struct pt_fmt *f, unsigned level, dmar_pa_t pa)
{
	switch (f->kind) {
	case DMAR_PT_VTD_SS:
		return pa | DMAR_VTD_SS_R | DMAR_VTD_SS_W | (f->exec ? DMAR_VTD_SS_X : 0);
	case DMAR_PT_AMDV1:
		return pa | DMAR_AMDV1_PR | DMAR_AMDV1_NL(level - 1) | DMAR_AMDV1_IR |
		       DMAR_AMDV1_IW;
	default:
		/* A set as the CPU would leave it, unless the walker is to set it */
		return pa | DMAR_PTE_P | DMAR_PTE_RW | DMAR_PTE_US | (f->a_bit ? 0 : DMAR_PTE_A);
	}
}

/* A leaf entry at @level for the page [pa, pa + 2^lg2) with ::dmar_prot @prot (checked by
 * the caller against the format: pt_prot_ok).  lg2 is the level's span, or for AMD-Vi any
 * size the level can encode (then this is the value of each of its repeated slots).  With
 * ::DMAR_PT_AD the accessed and dirty bits start clear; without, x86-64 leaves have them set
 * (as the CPU would leave a used page). */
static inline uint64_t pt_enc_leaf(const struct pt_fmt *f, unsigned level, unsigned lg2,
				   dmar_pa_t pa, unsigned prot)
{
	uint64_t e;

	switch (f->kind) {
	case DMAR_PT_VTD_SS:
		e = pa | ((prot & DMAR_PROT_READ) ? DMAR_VTD_SS_R : 0) |
		    ((prot & DMAR_PROT_WRITE) ? DMAR_VTD_SS_W : 0) |
		    ((f->exec && (prot & DMAR_PROT_EXEC)) ? DMAR_VTD_SS_X : 0) |
		    ((prot & DMAR_PROT_SNOOP) ? DMAR_VTD_SS_SNP : 0);
		return level > 1 ? e | DMAR_VTD_SS_PS : e;
	case DMAR_PT_AMDV1:
		e = pa | DMAR_AMDV1_PR | ((prot & DMAR_PROT_READ) ? DMAR_AMDV1_IR : 0) |
		    ((prot & DMAR_PROT_WRITE) ? DMAR_AMDV1_IW : 0) |
		    ((prot & DMAR_PROT_SNOOP) ? DMAR_AMDV1_FC : 0);
		if (lg2 == pt_shift(level))
			return e; /* next level 0: the level's own size */
		return e | DMAR_AMDV1_NL(DMAR_AMDV1_NL_SIZE) |
		       (((1ull << (lg2 - DMAR_PAGE_4K_LG2 - 1)) - 1) << DMAR_PAGE_4K_LG2);
	default:
		e = pa | DMAR_PTE_P | (f->a_bit ? 0 : DMAR_PTE_A | DMAR_PTE_D);
		if (prot & DMAR_PROT_WRITE)
			e |= DMAR_PTE_RW;
		if (prot & DMAR_PROT_USER)
			e |= DMAR_PTE_US;
		if (!(prot & DMAR_PROT_EXEC))
			e |= DMAR_PTE_XD;
		if (prot & DMAR_PROT_PWT)
			e |= DMAR_PTE_PWT;
		if (prot & DMAR_PROT_PCD)
			e |= DMAR_PTE_PCD;
		if (prot & DMAR_PROT_GLOBAL)
			e |= DMAR_PTE_G;
		return level > 1 ? e | DMAR_PTE_PS : e;
	}
}

/* Whether map() takes @prot for this format (pgtable.h, dmar_pgtable_map). */
static inline int pt_prot_ok(const struct pt_fmt *f, unsigned prot)
{
	const unsigned x86_only = DMAR_PROT_PWT | DMAR_PROT_PCD | DMAR_PROT_GLOBAL;
	const unsigned all = DMAR_ACCESS_ALL | x86_only | DMAR_PROT_SNOOP;

	if (prot & ~all)
		return 0;
	if (f->kind == DMAR_PT_X86_64)
		return (prot & DMAR_PROT_READ) && !(prot & DMAR_PROT_SNOOP);
	return (prot & (DMAR_PROT_READ | DMAR_PROT_WRITE)) && !(prot & x86_only);
}

/* What a walk reports for a page mapped with @prot (pt_prot_ok): pgtable.h's rule. */
static inline unsigned pt_prot_reported(const struct pt_fmt *f, unsigned prot)
{
	if (f->kind == DMAR_PT_X86_64)
		return prot;
	prot |= DMAR_PROT_USER;
	if (!(f->kind == DMAR_PT_VTD_SS && f->exec))
		prot = (prot & ~DMAR_PROT_EXEC) | ((prot & DMAR_PROT_READ) ? DMAR_PROT_EXEC : 0);
	return prot;
}

/* The leaf sizes of the format (dmar_pt_page_sizes). */
uint64_t pt_page_sizes(const struct pt_fmt *f);

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

/* Reserved physical-address bits for a width of pa_bits (bits pa_bits..51). */
static inline uint64_t pt_rsvd_addr_mask(unsigned pa_bits)
{
	return DMAR_PTE_ADDR_MASK & ~((1ull << pa_bits) - 1);
}

/* Whether a root address is outside the format's physical width: any of bits pa_bits..63
 * set (its low 12 bits are ignored, as a CR3's are; bits 52..63 are no address at all, so
 * they do not wrap it into memory). */
static inline int pt_root_outside(uint64_t root, const struct pt_fmt *f)
{
	return (root & f->rsvd_addr) || (root >> 52);
}

#endif
