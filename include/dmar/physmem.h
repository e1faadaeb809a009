/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file dmar/physmem.h
 * @brief The simulated physical memory: a memory map with holes, lazy backing, a frame allocator.
 *
 * design decision 2.  A ::dmar_physmem is a set of RAM ranges at physical addresses below
 * 2^pa_bits (at most 2^52).  Everything else is a hole: reads and writes there return
 * ::DMAR_E_RANGE and touch no host memory.  A range is backed one of three ways:
 *  - lazily (the default): host address space is reserved and pages become resident only
 *    when written, so a map of several TiB costs what is touched;
 *  - by a caller's buffer (an emulator's guest RAM);
 *  - by a file mapped at a file offset (a memory dump), read-only or shared.
 *
 * The set of ranges is fixed at creation, so looking an address up takes no lock.
 *
 * A range, and every span [pa, pa + len) a function is given, is held by its first and last
 * byte: a span whose end would pass 2^64 is not RAM (it does not wrap around to address 0).
 *
 * Limit: lazy ranges reserve host virtual address space equal to their size.  The total
 * must fit the host's address space (about 100 TiB on x86-64 Linux with 4-level paging);
 * creation reports ::DMAR_E_NOMEM otherwise.  Under valgrind, whose address space is
 * smaller, use maps of a few tens of GiB.
 */
#ifndef DMAR_PHYSMEM_H
#define DMAR_PHYSMEM_H

#include <dmar/status.h>
#include <dmar/types.h>

#include <dmar/export.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A simulated physical memory (opaque): its memory map, backing and frame allocator. */
typedef struct dmar_physmem dmar_physmem;

/** How a RAM range is backed. */
typedef enum dmar_ram_kind {
	DMAR_RAM_LAZY = 0, /**< reserved host memory, resident on first write */
	DMAR_RAM_BUFFER,   /**< the caller's buffer at ::dmar_ram_range.host */
	DMAR_RAM_FILE,     /**< the file ::dmar_ram_range.fd from ::dmar_ram_range.fd_offset */
} dmar_ram_kind;

/** Flags of a RAM range. */
enum dmar_ram_flags {
	DMAR_RAM_READONLY = 1u << 0,    /**< writes answer ::DMAR_E_READONLY (walks still read it) */
	DMAR_RAM_ALLOCATABLE = 1u << 1, /**< the frame allocator may hand out its pages */
	DMAR_RAM_NOT_ALLOCATABLE = 1u << 2, /**< force off the default of lazy ranges */
};

/** One RAM range of the memory map. */
typedef struct dmar_ram_range {
	dmar_pa_t base;       /**< 4 KiB aligned */
	uint64_t size;        /**< 4 KiB multiple, > 0 */
	dmar_ram_kind kind;   /**< how the range is backed */
	unsigned flags;       /**< ::dmar_ram_flags; lazy ranges are allocatable by default
				   (read-only ones never) */
	void *host;           /**< DMAR_RAM_BUFFER: at least @c size bytes, page aligned */
	/** DMAR_RAM_FILE: an open descriptor of a regular file or a block device, open for
	 *  reading, and for writing unless ::DMAR_RAM_READONLY (not kept open: the mapping
	 *  keeps the file).  [fd_offset, fd_offset + size) must lie inside the file, or the
	 *  device, when the memory is created, and the file must not shrink below it while the
	 *  memory exists: an access past a file's end raises SIGBUS in the process. */
	int fd;
	uint64_t fd_offset;   /**< DMAR_RAM_FILE: page aligned offset in the file */
} dmar_ram_range;

/** Flags of the whole memory. */
enum dmar_physmem_flags {
	/** Debug aid: a freed frame is filled with 0xA5 and, under AddressSanitizer, poisoned
	 *  until it is allocated again, so a reader that uses a freed page table is caught. */
	DMAR_PHYSMEM_POISON_FREED = 1u << 0,
};

/** Creation parameters; start from dmar_physmem_config_workstation() or fill by hand. */
typedef struct dmar_physmem_config {
	const dmar_ram_range *ranges; /**< sorted or not; must not overlap */
	size_t nranges;               /**< 1 .. DMAR_PHYSMEM_MAX_RANGES */
	unsigned pa_bits;             /**< physical address width, 32..52; 0 means 52 */
	unsigned flags;               /**< ::dmar_physmem_flags */
} dmar_physmem_config;

/** Most RAM ranges one memory map may have. */
#define DMAR_PHYSMEM_MAX_RANGES 64

/**
 * Fill @p cfg with the default "workstation" map: 2 TiB installed in four ranges with the
 * legacy hole below 1 MiB, the PCI hole at 2-4 GiB and a 64 GiB gap at 1 TiB between two
 * NUMA nodes; the highest address is 0x2107fffffff (above 2^41), so memory above what a
 * 40-bit device reaches is the normal case.  The first MiB is not allocatable.
 * @param cfg  filled in; its @c ranges point at static constants
 * @threadsafety Thread-safe (writes only @p cfg; the ranges are static constants).
 */
DMAR_API void dmar_physmem_config_workstation(dmar_physmem_config *cfg);

/**
 * Create a physical memory from a memory map.
 * @param cfg  the map; the ranges are copied, @p cfg need not outlive the call
 * @param out  receives the memory; untouched on failure, when nothing is created
 * @return ::DMAR_OK;
 *         ::DMAR_E_INVALID for a NULL argument or a malformed or overlapping map:
 *          - no ranges, more than ::DMAR_PHYSMEM_MAX_RANGES, pa_bits outside 32..52 (0
 *            aside), unknown ::dmar_physmem_flags, ranges that share a byte;
 *          - a range that is empty or not 4 KiB aligned in base or size, of an unknown
 *            kind, with unknown flags, or with ::DMAR_RAM_ALLOCATABLE and
 *            ::DMAR_RAM_NOT_ALLOCATABLE or ::DMAR_RAM_READONLY (a read-only range is never
 *            allocatable: tables are written into the frames handed out);
 *          - a buffer range whose @c host is NULL, not page aligned, or whose @c size bytes
 *            would run past the top of the host's address space;
 *          - a file range whose @c fd_offset is not page aligned, or whose @c fd is negative,
 *            not an open descriptor, not open for reading (write-only or O_PATH), open
 *            read-only while the range is writable (no ::DMAR_RAM_READONLY), or neither a
 *            regular file nor a block device (a character device, a pipe, a directory);
 *          - a file the host refuses to map as the flags ask for another reason than address
 *            space (a write-sealed memfd for a writable range, a file system without mmap);
 *         ::DMAR_E_RANGE for a range beyond 2^pa_bits (a range may end exactly at it), and
 *         for a file range the file does not hold: fd_offset + size past the size of the
 *         regular file or the block device, including a sum that would pass 2^64;
 *         ::DMAR_E_NOMEM when the host's address space or memory runs out: a lazy range's
 *         reservation or a file range's mapping does not fit (mmap's ENOMEM), or the
 *         bookkeeping cannot be allocated.
 * @threadsafety Thread-safe.
 */
DMAR_API dmar_status dmar_physmem_create(const dmar_physmem_config *cfg, dmar_physmem **out);

/** Destroy a physical memory and release its host memory.
 *  @param pm  the memory; NULL is ignored
 *  @threadsafety Not thread-safe against anything: nothing may use @p pm any more, RCU
 *  callbacks included (destroy its page tables, spaces and IOMMUs first). */
DMAR_API void dmar_physmem_destroy(dmar_physmem *pm);

/**
 * Host pointer for [pa, pa + len) when the whole span lies in one RAM range.  The fast path
 * every PTE read uses: no lock, no system call.
 * @param pm   the memory
 * @param pa   first byte
 * @param len  bytes the caller will access from the pointer (0 is taken as 1)
 * @return the host address of @p pa, valid until dmar_physmem_destroy(); NULL when any byte
 *         of the span is outside RAM, the span crosses from one range into another, or it
 *         would run past 2^64.
 * @threadsafety Thread-safe and lock-free; plain memory semantics for what is accessed
 * through the pointer.
 */
DMAR_API void *dmar_physmem_host_ptr(const dmar_physmem *pm, dmar_pa_t pa, uint64_t len);

/** Copy out of simulated memory.
 *  @param pm   the memory
 *  @param pa   first byte to read
 *  @param buf  destination, @p len bytes
 *  @param len  bytes; 0 reads nothing and answers ::DMAR_OK whatever @p pa and @p buf are
 *  @return ::DMAR_OK; ::DMAR_E_INVALID for NULL @p pm, or NULL @p buf with @p len > 0;
 *          ::DMAR_E_RANGE when any byte is outside RAM, the span crosses from one range
 *          into another or would run past 2^64 (nothing is copied).
 *  @threadsafety Thread-safe (plain memory semantics for racing writers). */
DMAR_API dmar_status dmar_physmem_read(const dmar_physmem *pm, dmar_pa_t pa, void *buf, uint64_t len);

/** Copy into simulated memory.
 *  @param pm   the memory
 *  @param pa   first byte to write
 *  @param buf  source, @p len bytes
 *  @param len  bytes; 0 writes nothing and answers ::DMAR_OK whatever @p pa and @p buf are
 *  @return ::DMAR_OK; ::DMAR_E_INVALID for NULL @p pm, or NULL @p buf with @p len > 0;
 *          ::DMAR_E_RANGE when any byte is outside RAM, the span crosses from one range
 *          into another or would run past 2^64; ::DMAR_E_READONLY for a span in a
 *          read-only range.  Nothing is written on failure.
 *  @threadsafety Thread-safe (plain memory semantics for racing readers and writers). */
DMAR_API dmar_status dmar_physmem_write(dmar_physmem *pm, dmar_pa_t pa, const void *buf, uint64_t len);

/** Whether [pa, pa + len) is entirely RAM of one range.
 *  @param pm   the memory
 *  @param pa   first byte
 *  @param len  bytes (0 is taken as 1)
 *  @return 1 if it is, else 0 (also for a span that would run past 2^64).
 *  @threadsafety Thread-safe. */
DMAR_API int dmar_physmem_is_ram(const dmar_physmem *pm, dmar_pa_t pa, uint64_t len);

/** Where the frame allocator may place an allocation. */
typedef enum dmar_placement {
	DMAR_PLACE_ANY = 0, /**< anywhere; the highest free frames first (like Linux memblock) */
	DMAR_PLACE_BELOW,   /**< the whole allocation ends at or below @c limit (its last
			       byte is below @c limit) */
	DMAR_PLACE_ABOVE,   /**< the allocation starts at or above @c limit */
} dmar_placement;

/**
 * Allocate @p npages physically contiguous 4 KiB frames aligned to 2^@p align_lg2 bytes
 * from the allocatable ranges.  The frames' contents are unspecified.
 * @param pm         the memory
 * @param npages     frames, 1 .. 2^40 (the frames of 2^52 bytes)
 * @param align_lg2  log2 of the alignment, 12..30
 * @param place      where the run may lie (::dmar_placement)
 * @param limit      the address @p place refers to (ignored for ::DMAR_PLACE_ANY); any
 *                   64-bit value
 * @param out        receives the physical address of the first frame; untouched on failure
 * @return ::DMAR_OK; ::DMAR_E_INVALID for NULL @p pm or @p out, npages 0 or above 2^40,
 *         align_lg2 outside 12..30, an unknown placement; ::DMAR_E_NOMEM when no run fits
 *         (nothing is allocated).
 * @threadsafety Thread-safe (one lock per memory; frees come from RCU callbacks too).
 */
DMAR_API dmar_status dmar_physmem_alloc(dmar_physmem *pm, uint64_t npages, unsigned align_lg2,
			       dmar_placement place, dmar_pa_t limit, dmar_pa_t *out);

/**
 * Free frames from dmar_physmem_alloc() (any sub-run of what was allocated).
 * @param pm      the memory
 * @param pa      first frame, 4 KiB aligned
 * @param npages  frames, >= 1
 * @return ::DMAR_OK; ::DMAR_E_INVALID (and nothing freed) for NULL @p pm, npages 0, an
 *         unaligned @p pa, or when any of the frames is not allocatable RAM of one range
 *         (a hole, RAM the allocator does not use, a run across two ranges or past 2^64)
 *         or is not allocated.
 * @threadsafety Thread-safe.
 */
DMAR_API dmar_status dmar_physmem_free(dmar_physmem *pm, dmar_pa_t pa, uint64_t npages);

/** Counters of a physical memory. */
typedef struct dmar_physmem_stats {
	uint64_t installed_bytes;  /**< sum of the RAM ranges */
	dmar_pa_t highest_addr;    /**< last byte of the highest range */
	uint64_t allocatable_bytes; /**< bytes of the ranges the frame allocator may use */
	uint64_t allocated_frames; /**< frames handed out by the allocator now */
	unsigned nranges;          /**< RAM ranges in the map */
	unsigned pa_bits;          /**< physical address width */
} dmar_physmem_stats;

/** Read the counters.
 *  @param pm  the memory
 *  @param st  filled in
 *  @threadsafety Thread-safe (a snapshot). */
DMAR_API void dmar_physmem_get_stats(const dmar_physmem *pm, dmar_physmem_stats *st);

/** The i-th RAM range, in address order.
 *  @param pm  the memory
 *  @param i   index, below dmar_physmem_stats.nranges
 *  @return the range (valid until dmar_physmem_destroy()); NULL past the end.
 *  @threadsafety Thread-safe (the map is fixed at creation). */
DMAR_API const dmar_ram_range *dmar_physmem_range(const dmar_physmem *pm, unsigned i);

#ifdef __cplusplus
}
#endif
#endif
