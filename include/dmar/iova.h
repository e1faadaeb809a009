/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file dmar/iova.h
 * @brief The logical address allocator (S13, S14): logically contiguous ranges of pages
 *        inside [base, limit), with per-thread caches.
 *
 * The design follows Linux's IOVA allocator and its "rcache": sizes up to 32 pages are
 * rounded up to a power of two and aligned to it, and a freed range of such a size goes to
 * the freeing thread's magazine, from which the next allocation of that size is served
 * without a lock or an atomic instruction.  Full magazines spill into a shared depot; bigger
 * sizes and empty caches take the slow path, a mutex over a hierarchical bitmap that hands
 * out the highest free range first (top-down, like Linux).  When the slow path finds no
 * room, every cache is drained back first (after an RCU grace period, so no thread is still
 * inside its own cache), so that freeing everything makes the whole range allocatable again.
 *
 * Threads: the fast path is taken by threads registered with dmar_thread_register(); any
 * other thread is served by the slow path (correct, just slower).  Under the qsbr RCU flavor
 * the draining described above waits for registered threads to pass a quiescent state; every
 * allocator call is one for the calling thread, and a registered thread that blocks must go
 * offline first (dmar_thread_offline()), as everywhere under qsbr.
 *
 * Checks: a free of a range that is not allocated with that size (double free, wrong size,
 * never allocated) answers ::DMAR_E_NOT_FOUND and changes nothing.  The check is exact for
 * a thread freeing its own ranges; two threads racing to free the same range at the same
 * instant is a caller bug the fast path does not serialise.
 */
#ifndef DMAR_IOVA_H
#define DMAR_IOVA_H

#include <dmar/export.h>
#include <dmar/status.h>
#include <dmar/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A logical address allocator over one range. */
typedef struct dmar_iovad dmar_iovad;

/** Sizes up to this many pages are cached per thread (and size-aligned). */
#define DMAR_IOVA_CACHED_MAX_PAGES 32u

/** At most this many pages are managed by one allocator (2^36 pages = 256 TiB). */
#define DMAR_IOVA_MAX_PAGES (1ull << 36)

/**
 * Create an allocator for [@p base, @p limit): both 4 KiB aligned, base < limit, at most
 * ::DMAR_IOVA_MAX_PAGES pages.  Page 0 is a valid address: an embedder that wants 0 to mean
 * "none" passes base = 4096.
 * @param base   first logical address managed
 * @param limit  end of the range (exclusive)
 * @param out    receives the allocator
 * @return ::DMAR_OK, ::DMAR_E_INVALID for a bad range or NULL @p out, ::DMAR_E_NOMEM.
 * @threadsafety Thread-safe.
 */
DMAR_API dmar_status dmar_iovad_create(dmar_iova_t base, dmar_iova_t limit, dmar_iovad **out);

/** Destroy an allocator (the per-thread caches' ranges included).
 *  @param a  the allocator; NULL is ignored
 *  @threadsafety No thread may use it any more. */
DMAR_API void dmar_iovad_destroy(dmar_iovad *a);

/**
 * Allocate @p npages logically contiguous pages.  Sizes up to ::DMAR_IOVA_CACHED_MAX_PAGES
 * are rounded up to a power of two and aligned to it; free with the same @p npages.
 * @param a       the allocator
 * @param npages  pages, > 0
 * @param out     receives the first address
 * @return ::DMAR_OK with the first address in @p out; ::DMAR_E_INVALID for npages 0 or
 * NULL; ::DMAR_E_NOSPACE when no free range of that size is left (even after draining the
 * caches; when the caller holds a lock of the library, as the WDDM layer's callbacks do,
 * only the shared depot and the calling thread's own caches, which needs no grace period:
 * the WDDM layer then drains the rest with dmar_iovad_flush() after it released its lock,
 * and tries once more).
 * @threadsafety Thread-safe; lock-free and atomic-free on a registered thread's cache hit.
 * Not inside an RCU read section (draining the caches waits for a grace period).
 */
DMAR_API dmar_status dmar_iova_alloc(dmar_iovad *a, uint64_t npages, dmar_iova_t *out);

/**
 * Free a range allocated with the same @p npages.
 * @param a       the allocator
 * @param iova    the address dmar_iova_alloc() returned
 * @param npages  the size it was allocated with
 * @return ::DMAR_OK; ::DMAR_E_INVALID for a misaligned or out-of-range address or npages
 * 0; ::DMAR_E_NOT_FOUND when [iova, iova + npages pages) is not allocated with that size.
 * @threadsafety Thread-safe (see the file comment for two threads freeing one range).
 */
DMAR_API dmar_status dmar_iova_free(dmar_iovad *a, dmar_iova_t iova, uint64_t npages);

/** Return every cached range to the shared pool (waits for an RCU grace period).
 *  @param a  the allocator
 *  @threadsafety Thread-safe; blocks.  Must not be called from inside an RCU read-side
 *  section. */
DMAR_API void dmar_iovad_flush(dmar_iovad *a);

/** Counters.  Fields are summed from per-thread counters without stopping anyone, so a
 *  snapshot taken while others allocate is approximate (each counter is exact by itself). */
typedef struct dmar_iovad_stats {
	uint64_t allocs;        /**< successful allocations */
	uint64_t frees;         /**< successful frees */
	uint64_t cache_hits;    /**< allocations served from a thread's cache */
	uint64_t failures;      /**< allocations answered ::DMAR_E_NOSPACE */
	uint64_t bad_frees;     /**< frees answered ::DMAR_E_NOT_FOUND */
	uint64_t flushes;       /**< cache drains (explicit or on exhaustion) */
	uint64_t pages_in_use;  /**< pages allocated and not freed */
	uint64_t pages_total;   /**< size of the range in pages */
} dmar_iovad_stats;

/** Read the counters.
 *  @param a   the allocator
 *  @param st  filled in
 *  @threadsafety Thread-safe (approximate while others allocate, see ::dmar_iovad_stats). */
DMAR_API void dmar_iovad_get_stats(dmar_iovad *a, dmar_iovad_stats *st);

#ifdef __cplusplus
}
#endif
#endif
