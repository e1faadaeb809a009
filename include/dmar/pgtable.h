/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file dmar/pgtable.h
 * @brief Page tables in simulated physical memory, in three formats, and the walker.
 *
 * S2, S13, S31, docs/design.md ("The format layer").  A table is in one of three formats
 * (::dmar_pt_kind), each exactly as its hardware reads it:
 *  - x86-64 long mode: entry bits P(0) R/W(1) U/S(2) PWT(3) PCD(4) A(5) D(6) PS(7) G(8)
 *    address(12-51) XD(63); 4 levels (48-bit input) or 5 (57-bit); 4 KiB, 2 MiB and 1 GiB
 *    leaves.  Process tables (S2) and VT-d's first stage.
 *  - Intel VT-d second stage: R(0) W(1) X(2) PS(7) A(8) D(9) SNP(11) address(12-51); no
 *    present bit (an entry is present when R or W is set); 3, 4 or 5 levels (39, 48, 57-bit
 *    input); 4 KiB and 2 MiB leaves, 1 GiB with ::DMAR_PT_1G.
 *  - AMD-Vi v1 (host tables): PR(0) A(5) D(6) NextLevel(9-11) address(12-51) FC(60) IR(61)
 *    IW(62); 1 to 6 levels (21, 30, 39, 48, 57 or 64-bit input).  Next level 0 is a leaf of
 *    its level's size, 7 a leaf of any larger power of two below the next level's size
 *    (the size is a run of ones in the low address bits: first zero bit n gives 2^(n+1)
 *    bytes; the entry is repeated in every slot the page covers), 1-6 a table of that level
 *    (levels in between are skipped: the address bits they would index must be zero).
 *    Leaves at levels 1 to 5.  Bits 52-58 are reserved.
 * In every format, address bits at or above the physical width (pa_bits) are reserved, and
 * so are the address bits below a leaf's size (x86-64 keeps its PAT bit, bit 12, in 2 MiB and
 * 1 GiB leaves).  A walk reports the first of these it meets, from the root down: a table
 * address outside memory (::DMAR_FAULT_TABLE_ADDR), an entry that is not present, reserved
 * bits; then, at the leaf, the access against the permissions of every level, in the order
 * read (::DMAR_FAULT_READ), write, user, execute: an execute request on a write-only page
 * faults ::DMAR_FAULT_EXEC where execution follows read.  With ::DMAR_PT_AD a walk sets A on
 * each table entry it passes, before it reads the next level (so a walk that faults below
 * has set them), and A and D on the leaf only when the access is allowed; the entry a result
 * reports is as it is after those updates.
 * Table pages live in a ::dmar_physmem, so a table written by anyone (a process's CPU page
 * table, a guest driver) walks the same way as one built here.
 *
 * Concurrency: any number of translators walk without locks while one writer at a time maps
 * and unmaps (writers of one table serialise on its lock).  Entries are published with single
 * atomic stores; a table page that leaves the tree is freed only after an RCU grace period.
 * Linearisable: a walk that starts after dmar_pgtable_unmap() returns never sees the old page.
 * A walk already in flight when unmap is called may still finish with the old page, as a DMA
 * already translated by hardware may; dmar_sync() waits for those (the "drain" of VT-d).
 */
#ifndef DMAR_PGTABLE_H
#define DMAR_PGTABLE_H

#include <dmar/physmem.h>
#include <dmar/status.h>
#include <dmar/types.h>

#include <dmar/export.h>

#ifdef __cplusplus
extern "C" {
#endif

/** x86-64 entry bit: present (P), for callers that write their own tables. */
#define DMAR_PTE_P (1ull << 0)
/** Entry bit: writable (R/W). */
#define DMAR_PTE_RW (1ull << 1)
/** Entry bit: user-accessible (U/S). */
#define DMAR_PTE_US (1ull << 2)
/** Entry bit: page-level write-through (PWT). */
#define DMAR_PTE_PWT (1ull << 3)
/** Entry bit: page-level cache disable (PCD). */
#define DMAR_PTE_PCD (1ull << 4)
/** Entry bit: accessed (A). */
#define DMAR_PTE_A (1ull << 5)
/** Entry bit: dirty (D, leaves only). */
#define DMAR_PTE_D (1ull << 6)
/** Entry bit: page size (PS): a 2 MiB or 1 GiB leaf at levels 2 and 3. */
#define DMAR_PTE_PS (1ull << 7)
/** Entry bit: global (G, leaves only). */
#define DMAR_PTE_G (1ull << 8)
#define DMAR_PTE_PAT_LARGE (1ull << 12) /**< PAT bit of 2 MiB / 1 GiB leaves */
/** Entry bit: execute disable (XD). */
#define DMAR_PTE_XD (1ull << 63)
#define DMAR_PTE_ADDR_MASK 0x000ffffffffff000ull /**< bits 12-51 */

/** VT-d second-stage entry bit: read (R); an entry with R = W = 0 is not present. */
#define DMAR_VTD_SS_R (1ull << 0)
/** VT-d second-stage entry bit: write (W). */
#define DMAR_VTD_SS_W (1ull << 1)
/** VT-d second-stage entry bit: execute (X), honoured with ::DMAR_PT_EXEC. */
#define DMAR_VTD_SS_X (1ull << 2)
/** VT-d second-stage entry bit: page size (PS), a 2 MiB or 1 GiB leaf at levels 2 and 3. */
#define DMAR_VTD_SS_PS (1ull << 7)
/** VT-d second-stage entry bit: accessed (A). */
#define DMAR_VTD_SS_A (1ull << 8)
/** VT-d second-stage entry bit: dirty (D, leaves only). */
#define DMAR_VTD_SS_D (1ull << 9)
/** VT-d second-stage entry bit: snoop (SNP, leaves only). */
#define DMAR_VTD_SS_SNP (1ull << 11)

/** AMD-Vi v1 entry bit: present (PR). */
#define DMAR_AMDV1_PR (1ull << 0)
/** AMD-Vi v1 entry bit: accessed (A). */
#define DMAR_AMDV1_A (1ull << 5)
/** AMD-Vi v1 entry bit: dirty (D, leaves only). */
#define DMAR_AMDV1_D (1ull << 6)
/** AMD-Vi v1 next-level field (bits 9-11) of an entry. */
#define DMAR_AMDV1_NL(level) ((uint64_t)(level) << 9)
#define DMAR_AMDV1_NL_MASK (7ull << 9) /**< the next-level field */
/** AMD-Vi v1 next level of a leaf whose size is encoded in its address bits. */
#define DMAR_AMDV1_NL_SIZE 7u
/** AMD-Vi v1 entry bit: force coherent (FC, leaves only). */
#define DMAR_AMDV1_FC (1ull << 60)
/** AMD-Vi v1 entry bit: I/O read permission (IR), ANDed down the levels. */
#define DMAR_AMDV1_IR (1ull << 61)
/** AMD-Vi v1 entry bit: I/O write permission (IW), ANDed down the levels. */
#define DMAR_AMDV1_IW (1ull << 62)

/** The formats a table can be in (the layouts are in this file's description). */
typedef enum dmar_pt_kind {
	DMAR_PT_X86_64 = 0, /**< x86-64 long mode: CPU tables and VT-d's first stage */
	DMAR_PT_VTD_SS,     /**< Intel VT-d second stage */
	DMAR_PT_AMDV1,      /**< AMD-Vi v1 host page tables */
	DMAR_PT_KIND_COUNT
} dmar_pt_kind;

/** Flags of a table format.  Which input addresses a format translates is what
 *  dmar_pt_input_range() answers. */
enum dmar_pt_flags {
	/** x86-64: a CPU table (the default, S2) that also takes the canonical upper half (the
	 *  kernel half of a process table).  Without it a CPU table takes only [0, 2^47)
	 *  (4 levels) or [0, 2^56) (5 levels): the upper half faults with
	 *  ::DMAR_FAULT_ADDR_WIDTH and any non-canonical address with ::DMAR_FAULT_NONCANONICAL. */
	DMAR_PT_UPPER_HALF = 1u << 0,
	/** An I/O virtual address table, as DMA remapping hardware walks it: no canonical hole,
	 *  the input is every address below 2^(input width), and anything above faults with
	 *  ::DMAR_FAULT_ADDR_WIDTH.  Optional on x86-64 (4 levels: [0, 2^48), 5: [0, 2^57)),
	 *  always so for VT-d second stage and AMD-Vi (the flag is accepted and implied).  A
	 *  domain's own table is always one (dmar_domain_create() sets the flag); a PASID binding
	 *  never is.  Not together with ::DMAR_PT_UPPER_HALF. */
	DMAR_PT_IOVA = 1u << 1,
	/** The walker sets accessed and dirty bits as hardware does: A on every entry it reads,
	 *  D on the leaf of a write, each with an atomic compare-and-exchange on the entry (a
	 *  table in read-only memory faults with ::DMAR_FAULT_AD).  A translation cached from a
	 *  leaf whose D was clear is walked again by the first write.  Off by default: entries
	 *  are then never written by a walk. */
	DMAR_PT_AD = 1u << 2,
	/** VT-d second stage: the X bit is honoured (execute requests need it at every level).
	 *  Without it X is ignored and an execute request needs read permission; x86-64 always
	 *  honours XD; AMD-Vi has no execute control (execute needs IR). */
	DMAR_PT_EXEC = 1u << 3,
	/** VT-d second stage: the IOMMU supports 1 GiB leaves (PS at level 3).  Without it PS at
	 *  level 3 is a reserved bit.  (x86-64 always has 1 GiB leaves.) */
	DMAR_PT_1G = 1u << 4,
};

/** Shape of a table: what the walker needs besides the root. */
typedef struct dmar_pt_format {
	unsigned levels;  /**< x86-64: 4 or 5; VT-d second stage: 3, 4 or 5; AMD-Vi: 1 to 6 */
	unsigned pa_bits; /**< physical address width, 32..52 (MAXPHYADDR, VT-d's host address
			       width): address bits at or above it are reserved; 0 = 52 */
	unsigned flags;   /**< ::dmar_pt_flags */
	unsigned kind;    /**< ::dmar_pt_kind; 0 is x86-64 */
} dmar_pt_format;

/** Outcome of one walk. */
typedef struct dmar_walk_result {
	dmar_pa_t pa;      /**< translated address (page frame | offset); 0 on a fault */
	uint64_t pte;      /**< the leaf entry, or the entry where the walk stopped */
	dmar_fault fault;  /**< ::DMAR_FAULT_NONE on success */
	uint16_t prot;     /**< effective ::dmar_prot of the leaf (all levels combined) */
	uint8_t page_lg2;  /**< log2 of the leaf's page size on success (12, 21, 30; AMD-Vi
				any size from 12 to 51) */
	uint8_t level;     /**< level of the leaf or the faulting entry (1 = 4 KiB table) */
} dmar_walk_result;

/**
 * Walk a table rooted at @p root (any table, built here or not) for an @p access at @p va.
 * Reads at most `levels` entries, each through the physical memory model, so arbitrary
 * table contents give faults, never crashes; a leaf may point anywhere below 2^pa_bits
 * (MMIO is legal).
 * @param pm      the memory the table lives in
 * @param root    physical address of the top-level table (its low 12 bits are ignored, as
 *                a CR3's; one at or beyond 2^pa_bits, any of bits 52..63 included, faults
 *                with ::DMAR_FAULT_TABLE_ADDR at the top level)
 * @param fmt     the table's format
 * @param va      input address
 * @param access  ::dmar_access flags
 * @param result  filled in, on success and on a fault
 * @return ::DMAR_OK with @p result filled; ::DMAR_E_FAULT with @c result->fault set;
 *         ::DMAR_E_INVALID for a bad format or NULL arguments.
 * @threadsafety Thread-safe and lock-free, on any thread; takes no RCU read lock, so for a
 * table that a ::dmar_pgtable may change concurrently use dmar_pgtable_walk().
 */
DMAR_API dmar_status dmar_walk(const dmar_physmem *pm, dmar_pa_t root, const dmar_pt_format *fmt,
		      uint64_t va, unsigned access, dmar_walk_result *result);

/**
 * The input addresses a table of format @p fmt translates: [0, *low_last], and for an x86-64
 * CPU table with ::DMAR_PT_UPPER_HALF also [*high_first, 2^64 - 1].  An I/O virtual address
 * table (VT-d, AMD-Vi, x86-64 with ::DMAR_PT_IOVA) takes [0, 2^w - 1] for its input width w
 * (x86-64: 48 or 57; VT-d: 39, 48, 57; AMD-Vi: 21, 30, 39, 48, 57 or all 64 bits); an x86-64
 * CPU table [0, 2^47 - 1] or [0, 2^56 - 1].  dmar_pgtable_map() and dmar_pgtable_unmap()
 * take ranges inside one of these windows.
 * @param fmt         the format (of a table built here: dmar_pgtable_format())
 * @param low_last    receives the last address of the lower window
 * @param high_first  receives the first address of the upper window, or 0 when there is
 *                    none (may be NULL)
 * @return ::DMAR_OK; ::DMAR_E_INVALID for a bad format or a NULL @p low_last.
 * @threadsafety Thread-safe.
 */
DMAR_API dmar_status dmar_pt_input_range(const dmar_pt_format *fmt, dmar_iova_t *low_last,
					 dmar_iova_t *high_first);

/**
 * The leaf sizes a format can express, as a bitmap of sizes (1 << lg2): x86-64 4 KiB, 2 MiB
 * and 1 GiB; VT-d second stage 4 KiB and 2 MiB, and 1 GiB with ::DMAR_PT_1G; AMD-Vi every
 * power of two from 4 KiB up to half the span of the level above the highest leaf level
 * (levels 1 to 5 hold leaves), and at most 2^51.  What dmar_pgtable_config.pgsizes may hold.
 * @param fmt  the format
 * @return the bitmap; 0 for a bad format.
 * @threadsafety Thread-safe.
 */
DMAR_API uint64_t dmar_pt_page_sizes(const dmar_pt_format *fmt);

/** A page table built and changed here (opaque): its pages live in a ::dmar_physmem. */
typedef struct dmar_pgtable dmar_pgtable;

/** The x86-64 page sizes, as a bitmap of sizes (1 << lg2).  Another format's are what
 *  dmar_pt_page_sizes() answers. */
#define DMAR_PGSIZES_ALL ((1ull << 12) | (1ull << 21) | (1ull << 30))

/** Creation parameters of a table built here. */
typedef struct dmar_pgtable_config {
	dmar_pt_format format;  /**< any format */
	uint64_t pgsizes;       /**< leaf sizes map() may use: 4 KiB and any of
				     dmar_pt_page_sizes() of the format; 0 (the default): all
				     of them */
	dmar_placement place;   /**< where table pages are allocated in physical memory (always
				     below 2^pa_bits, where the format can point) */
	dmar_pa_t place_limit;  /**< the limit @c place refers to */
} dmar_pgtable_config;

/** Defaults: x86-64, 4-level, 52-bit PA, every page size of the format (pgsizes 0), table
 *  pages anywhere.
 *  @param cfg  filled in
 *  @threadsafety Thread-safe (writes only @p cfg). */
DMAR_API void dmar_pgtable_config_default(dmar_pgtable_config *cfg);

/**
 * Create an empty table (one zeroed root page from @p pm's allocator).
 * @param pm   the memory its pages come from
 * @param cfg  shape and placement (start from dmar_pgtable_config_default())
 * @param out  receives the table
 * @return ::DMAR_OK; ::DMAR_E_INVALID for a bad config (an invalid format; pgsizes without
 *         4 KiB or with a size the format cannot express; an unknown placement) or a NULL
 *         argument; ::DMAR_E_NOMEM without frames (below 2^pa_bits) or host memory.
 * @threadsafety Thread-safe.
 */
DMAR_API dmar_status dmar_pgtable_create(dmar_physmem *pm, const dmar_pgtable_config *cfg,
				dmar_pgtable **out);

/** Free every table page.
 *  @param pt  the table; NULL is ignored
 *  @threadsafety Not thread-safe against anything: no walk of it may be running or start,
 *  and no other thread may use it.  Must not be called inside an RCU read section. */
DMAR_API void dmar_pgtable_destroy(dmar_pgtable *pt);

/**
 * Called by map and unmap, with the table's writer lock held, for a range whose cached
 * translations or cached upper-level entries went stale: after the entries changed and
 * before any unlinked table page is handed to RCU, so a cache that points into a freed
 * table is always cleared first (Linux's gather-then-flush order).  unmap calls it for the
 * range it was given when anything was unmapped or split, and for the whole span of every
 * leaf it split (the pages of it that stay mapped were cached with the old page size); map
 * calls it when it replaced an empty table by a large leaf.  So every range it is given
 * covers whole each leaf that changed.  Typically a closure that calls
 * dmar_space_invalidate_range() for every space using this table.
 */
typedef void (*dmar_pgtable_flush_fn)(void *ctx, dmar_iova_t iova, uint64_t size);

/** Install (or with NULL remove) the flush hook.
 *  @param pt   the table
 *  @param fn   the hook, or NULL
 *  @param ctx  passed to @p fn
 *  @threadsafety Call before concurrent use of the table (not synchronised with writers). */
DMAR_API void dmar_pgtable_set_flush(dmar_pgtable *pt, dmar_pgtable_flush_fn fn, void *ctx);

/** Physical address of the root page (to hand to hardware-like consumers).
 *  @param pt  the table
 *  @return the root's physical address (fixed for the table's life).
 *  @threadsafety Thread-safe. */
DMAR_API dmar_pa_t dmar_pgtable_root(const dmar_pgtable *pt);

/** The table's format.
 *  @param pt  the table
 *  @return its format, valid as long as the table.
 *  @threadsafety Thread-safe. */
DMAR_API const dmar_pt_format *dmar_pgtable_format(const dmar_pgtable *pt);

/**
 * Map [iova, iova + size) to [pa, pa + size), using the largest allowed page sizes that
 * alignment permits.
 * @param pt    the table
 * @param iova  first input address, 4 KiB aligned
 * @param pa    first physical address, 4 KiB aligned
 * @param size  bytes, a nonzero multiple of 4 KiB
 * @param prot  ::dmar_prot flags.  x86-64 needs ::DMAR_PROT_READ; VT-d and AMD-Vi need READ
 *              or WRITE (write-only pages are legal there).  Bits that hold for every page
 *              of the format anyway are accepted (USER in VT-d and AMD-Vi; EXEC where
 *              execution follows read: AMD-Vi, VT-d without ::DMAR_PT_EXEC); bits naming a
 *              control the format lacks are refused (PWT, PCD, GLOBAL outside x86-64;
 *              SNOOP on x86-64).  A walk reports what the table grants: the prot given,
 *              plus USER in the IOMMU formats and EXEC = READ where execution follows read.
 * @return ::DMAR_OK; ::DMAR_E_INVALID for unaligned or empty ranges or bad prot;
 *         ::DMAR_E_RANGE when [iova, iova + size) is not inside one window of the input
 *         range (dmar_pt_input_range(), a range that wraps past 2^64 included) or
 *         [pa, pa + size) is not below 2^pa_bits;
 *         ::DMAR_E_EXISTS if any page is mapped already; ::DMAR_E_NOMEM without the frames
 *         for its table pages or host memory; ::DMAR_E_THREAD from an unregistered thread.
 *         On any failure nothing has changed: the table pages and frames it needs are
 *         reserved before any entry is written, so no reader ever sees part of a map that
 *         fails and no table page is left behind.
 * @threadsafety Thread-safe (serialised with other writers of this table, lock-free for
 * walkers); call from a registered thread outside an RCU read section.
 */
DMAR_API dmar_status dmar_pgtable_map(dmar_pgtable *pt, dmar_iova_t iova, dmar_pa_t pa, uint64_t size,
			     unsigned prot);

/**
 * Unmap every mapped page in [iova, iova + size).  A large leaf that the range covers only
 * in part is split first, into leaves that translate every address the same way (an AMD-Vi
 * leaf repeated over several slots is first rewritten in place as one leaf per slot, each
 * with the accessed and dirty bits of the whole page); a table whose whole span is unmapped
 * is freed after a grace period.  Unmapping pages that are not mapped is not an error.
 * @param pt        the table
 * @param iova      first input address, 4 KiB aligned
 * @param size      bytes, a nonzero multiple of 4 KiB
 * @param unmapped  receives the bytes that were mapped (may be NULL)
 * @return ::DMAR_OK; ::DMAR_E_INVALID / ::DMAR_E_RANGE for a bad range (as
 *         dmar_pgtable_map()); ::DMAR_E_NOMEM when the splits at its two ends need more
 *         frames than are free (one per split into a new table: unmapping one 4 KiB page of
 *         a 1 GiB leaf needs two; rewriting a repeated AMD-Vi leaf in place needs none), or
 *         host memory is short; ::DMAR_E_THREAD from an unregistered thread.
 *         Anything but ::DMAR_OK changed nothing: no leaf was split, no page unmapped.
 * @threadsafety As dmar_pgtable_map().
 */
DMAR_API dmar_status dmar_pgtable_unmap(dmar_pgtable *pt, dmar_iova_t iova, uint64_t size,
			       uint64_t *unmapped);

/**
 * Walk this table for @p access at @p iova inside an RCU read section, so that concurrent
 * map and unmap are safe.
 * @param pt      the table
 * @param iova    input address
 * @param access  ::dmar_access flags
 * @param result  filled in, on success and on a fault
 * @return as dmar_walk(), plus ::DMAR_E_THREAD when the calling thread is not registered.
 * @threadsafety Thread-safe and lock-free; registered thread.
 */
DMAR_API dmar_status dmar_pgtable_walk(const dmar_pgtable *pt, dmar_iova_t iova, unsigned access,
			      dmar_walk_result *result);

/** Physical address of @p iova, whatever the page's permissions (a walk that asks for no
 *  access: a write-only page answers too).
 *  @param pt    the table
 *  @param iova  input address
 *  @param pa    receives the physical address, 0 on failure
 *  @return ::DMAR_OK; ::DMAR_E_FAULT when unmapped; ::DMAR_E_INVALID for NULL arguments;
 *          ::DMAR_E_THREAD from an unregistered thread.
 *  @threadsafety Thread-safe and lock-free, as dmar_pgtable_walk(). */
DMAR_API dmar_status dmar_pgtable_iova_to_phys(const dmar_pgtable *pt, dmar_iova_t iova, dmar_pa_t *pa);

/** Table pages the tree holds now (its own memory cost), root included.
 *  @param pt  the table
 *  @return the number of 4 KiB table pages.
 *  @threadsafety Thread-safe (a snapshot while writers run). */
DMAR_API uint64_t dmar_pgtable_table_pages(const dmar_pgtable *pt);

#ifdef __cplusplus
}
#endif
#endif
