/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file dmar/iotlb.h
 * @brief The IOTLB, address spaces, and translation through them (design decisions 4-5, S28, S30).
 *
 * A ::dmar_iotlb is one emulated IOMMU's translation cache: set-associative, lock-free for
 * lookups, and tagged rather than flushed.  Each live address space (a domain's table, or a
 * PASID's process table; ::dmar_space) holds a small address-space id (ASID) that goes into
 * every tag, so invalidating a whole space retires its ASID in O(1).
 *
 * Entries are 4 KiB-granular: a hit on a 2 MiB or 1 GiB leaf is cached for the 4 KiB page
 * that was used (the result still reports the leaf's size, and invalidating any page of the
 * leaf drops them all, dmar_space_invalidate_range()), and a page-walk cache of the
 * upper levels (PML4E, PDPTE, PDE) makes a miss under a cached large leaf cost no PTE read
 * and a miss under a cached table cost one.
 *
 * Correctness contract (S28): after a table change and the matching dmar_space_invalidate*()
 * call have returned, no translation that starts afterwards returns the old page, because a
 * fill computed from a walk that raced the invalidation is dropped, never inserted stale.
 * Permission denials and not-present results are never cached.
 */
#ifndef DMAR_IOTLB_H
#define DMAR_IOTLB_H

#include <dmar/pgtable.h>
#include <dmar/physmem.h>
#include <dmar/status.h>
#include <dmar/types.h>

#include <dmar/export.h>

#ifdef __cplusplus
extern "C" {
#endif

/** An IOTLB and its page-walk cache (opaque): one per emulated IOMMU. */
typedef struct dmar_iotlb dmar_iotlb;
/** An address space cached in an IOTLB under its own ASID (opaque): a table root and format. */
typedef struct dmar_space dmar_space;

/** Which probe variant an IOTLB compares tags with (design decision 5: chosen per IOTLB,
 *  every variant answers exactly as the scalar one). */
typedef enum dmar_simd {
	/** The environment variable DMAR_SIMD (c, sse42, avx2 or avx512) if set, else the
	 *  best of c, sse42 and avx2 this CPU runs (AVX-512 is taken by name only, until it
	 *  has been measured not losing to AVX2). */
	DMAR_SIMD_DEFAULT = 0,
	DMAR_SIMD_C,     /**< the scalar reference */
	DMAR_SIMD_SSE42, /**< SSE4.2: two tags per compare */
	DMAR_SIMD_AVX2,  /**< AVX2 (with BMI1/2): four tags per compare */
	DMAR_SIMD_AVX512, /**< AVX-512F (with BMI1/2): a whole set's tags in one compare */
	DMAR_SIMD_COUNT  /**< (the number of values) */
} dmar_simd;

/** How an IOTLB uses the threads' L0 banks: small per-thread caches in front of it. */
typedef enum dmar_l0_mode {
	/** The environment variable DMAR_L0 (adaptive, always or off) if set, else adaptive. */
	DMAR_L0_DEFAULT = 0,
	/** A bank stands aside while it answers fewer lookups than it misses, and grows while
	 *  it evicts pages the IOTLB holds. */
	DMAR_L0_ADAPTIVE,
	DMAR_L0_ALWAYS, /**< banks never stand aside (for tests and measurements) */
	DMAR_L0_OFF,    /**< no L0: every lookup goes to the IOTLB */
	DMAR_L0_MODE_COUNT /**< (the number of values) */
} dmar_l0_mode;

/** Geometry and behaviour of an IOTLB. */
typedef struct dmar_iotlb_config {
	uint32_t sets;     /**< power of two, 1 .. 2^20 */
	uint32_t ways;     /**< 4 or 8 */
	uint32_t pwc_sets; /**< sets of each page-walk-cache level (4 ways each), power of two,
			        1 .. 2^16 */
	/** Width of the address-space ids, 1..17 (0 means 17): 2^asid_bits - 1 ASIDs.  Every
	 *  whole-space invalidation takes a fresh one; when they run out the IOTLB rolls over
	 *  (counted in dmar_iotlb_stats.asid_rollovers): every space translates uncached until
	 *  an RCU grace period has passed, then the caches are flushed and the spaces get fresh
	 *  ASIDs.  A registered caller does not wait for that grace period (the rollover
	 *  completes from an RCU callback); an unregistered one, which cannot queue a callback,
	 *  waits for it inside the call that started the rollover, once that call holds no
	 *  library lock, so that the rollover has finished when it returns.  More live spaces than
	 *  ASIDs leave the rest uncached.  Small values are for tests that reach rollover fast. */
	uint32_t asid_bits;
	dmar_simd simd;    /**< the probe variant (::DMAR_SIMD_DEFAULT: environment or CPU) */
	dmar_l0_mode l0;   /**< the L0 banks (::DMAR_L0_DEFAULT: environment or adaptive) */
} dmar_iotlb_config;

/** Defaults: 4096 sets x 8 ways (32 K entries, 128 MiB of 4 KiB pages), 256 x 4 per
 *  walk-cache level, 17-bit ASIDs, the default probe variant and L0 mode.
 *  @param cfg  filled in
 *  @threadsafety Thread-safe (writes only @p cfg). */
DMAR_API void dmar_iotlb_config_default(dmar_iotlb_config *cfg);

/** Create an empty IOTLB.
 *  @param cfg  its geometry
 *  @param out  receives the IOTLB
 *  @return ::DMAR_OK; ::DMAR_E_INVALID for a bad geometry, an unknown @c simd or @c l0
 *          value, or NULL arguments; ::DMAR_E_NOT_SUPPORTED when @c simd names a variant
 *          this CPU cannot run (the default falls back to the best it can, with a message
 *          on stderr, when DMAR_SIMD names one it cannot); ::DMAR_E_NOMEM.
 *  @threadsafety Thread-safe. */
DMAR_API dmar_status dmar_iotlb_create(const dmar_iotlb_config *cfg, dmar_iotlb **out);

/** Destroy an IOTLB.
 *  @param tlb  the IOTLB; NULL is accepted
 *  @return ::DMAR_OK; ::DMAR_E_BUSY (nothing done) while it still has spaces: destroy them
 *          first.
 *  @threadsafety No translation through it may be running; nothing may use it afterwards. */
DMAR_API dmar_status dmar_iotlb_destroy(dmar_iotlb *tlb);

/** Invalidate every entry of every space.
 *  @param tlb  the IOTLB
 *  @threadsafety Thread-safe (serialised with other writers, lock-free for translators;
 *  from an unregistered thread it may wait for an RCU grace period: the ASID rollover it
 *  may begin, ::dmar_iotlb_config.asid_bits). */
DMAR_API void dmar_iotlb_invalidate_all(dmar_iotlb *tlb);

/** Counters, summed over the threads that translated (no shared counter on the hit path). */
typedef struct dmar_iotlb_stats {
	uint64_t translations;   /**< requests translated (batches count each request) */
	uint64_t hits;           /**< answered from the IOTLB */
	uint64_t misses;         /**< needed a walk */
	uint64_t pwc_hits;       /**< misses whose walk started from the page-walk cache */
	uint64_t pte_reads;      /**< entries read from simulated memory by walks */
	uint64_t faults;         /**< requests refused */
	uint64_t fills_dropped;  /**< fills abandoned because an invalidation raced them */
	uint64_t l0_hits;        /**< hits answered by a thread's own L0 (counted in @c hits too) */
	uint64_t invalidations;  /**< invalidation calls of any kind */
	uint64_t asid_rollovers; /**< times the ASID space wrapped (a full flush each) */
} dmar_iotlb_stats;

/** Read the counters.
 *  @param tlb  the IOTLB
 *  @param st   filled in
 *  @threadsafety Thread-safe; a snapshot that may miss increments in flight. */
DMAR_API void dmar_iotlb_get_stats(const dmar_iotlb *tlb, dmar_iotlb_stats *st);

/** Name of the probe variant an IOTLB created with ::DMAR_SIMD_DEFAULT uses now (from the
 *  environment variable DMAR_SIMD and CPUID, read at each call).
 *  @return "c", "sse42" or "avx2" (a static string; "avx512" only when DMAR_SIMD asks for
 *          it and the CPU runs it).
 *  @threadsafety Thread-safe. */
DMAR_API const char *dmar_iotlb_simd(void);

/** Name of the probe variant @p tlb uses (fixed at its creation).
 *  @param tlb  the IOTLB
 *  @return "c", "sse42", "avx2" or "avx512" (a static string); NULL for a NULL @p tlb.
 *  @threadsafety Thread-safe. */
DMAR_API const char *dmar_iotlb_variant(const dmar_iotlb *tlb);

/** The L0 mode @p tlb uses (fixed at its creation; never ::DMAR_L0_DEFAULT).
 *  @param tlb  the IOTLB
 *  @return ::DMAR_L0_ADAPTIVE, ::DMAR_L0_ALWAYS or ::DMAR_L0_OFF; ::DMAR_L0_DEFAULT for a
 *          NULL @p tlb.
 *  @threadsafety Thread-safe. */
DMAR_API dmar_l0_mode dmar_iotlb_l0_mode(const dmar_iotlb *tlb);

/**
 * Create an address space: the table rooted at @p root in @p pm, of format @p fmt, cached
 * in @p tlb under a fresh ASID.  The table may be one a ::dmar_pgtable manages or one
 * written by anyone else (a process's CPU table, S2).
 * @param tlb   the IOTLB that caches it
 * @param pm    the memory the table lives in
 * @param root  physical address of the top-level table
 * @param fmt   the table's format (copied)
 * @param out   receives the space
 * @return ::DMAR_OK; ::DMAR_E_INVALID for a bad format or NULL arguments; ::DMAR_E_NOMEM.
 * @threadsafety Thread-safe.
 */
DMAR_API dmar_status dmar_space_create(dmar_iotlb *tlb, const dmar_physmem *pm, dmar_pa_t root,
			      const dmar_pt_format *fmt, dmar_space **out);

/** Destroy a space (its ASID is retired).
 *  @param sp  the space; NULL is accepted
 *  @threadsafety No translation through it may be running; nothing may use it afterwards. */
DMAR_API void dmar_space_destroy(dmar_space *sp);

/** Point the space at another root (another table), invalidating everything it cached.
 *  Translations that start after the call returns use the new table.
 *  @param sp    the space
 *  @param root  physical address of the new top-level table (same format)
 *  @return ::DMAR_OK; ::DMAR_E_INVALID for NULL @p sp.
 *  @threadsafety Thread-safe (serialised with other writers, lock-free for translators;
 *  from an unregistered thread it may wait for an RCU grace period: the ASID rollover it
 *  may begin, ::dmar_iotlb_config.asid_bits). */
DMAR_API dmar_status dmar_space_set_root(dmar_space *sp, dmar_pa_t root);

/** Invalidate everything cached for this space: O(1), its ASID is retired.
 *  @param sp  the space
 *  @threadsafety Thread-safe (from an unregistered thread it may wait for an RCU grace
 *  period: the ASID rollover it may begin, ::dmar_iotlb_config.asid_bits). */
DMAR_API void dmar_space_invalidate(dmar_space *sp);

/**
 * Page-selective invalidation of [iova, iova + size) (any size, any alignment): every cached
 * translation whose page meets the range, where a translation from a 2 MiB or 1 GiB leaf
 * counts as the whole leaf's page whichever 4 KiB page it was cached for (as x86 INVLPG,
 * VT-d page-selective and AMD-Vi invalidation drop a large entry that meets the range: so
 * invalidating any one page of a changed large leaf is enough), and walk-cache entries whose
 * span meets the range.  Ranges of more than 64 pages retire the ASID instead (the space
 * refills), which is cheaper than visiting their sets; so does a range that meets a region
 * where the space caches a large leaf.
 * @param sp    the space
 * @param iova  first address
 * @param size  bytes, > 0
 * @return ::DMAR_OK; ::DMAR_E_INVALID for NULL @p sp, size 0 or a range that runs past 2^64
 *         (one that ends exactly at 2^64 is taken).
 * @threadsafety Thread-safe (from an unregistered thread it may wait for an RCU grace period:
 * the ASID rollover it may begin, ::dmar_iotlb_config.asid_bits).  When it returns, no
 * translation that starts afterwards uses an
 * entry it removed (S28).
 */
DMAR_API dmar_status dmar_space_invalidate_range(dmar_space *sp, dmar_iova_t iova, uint64_t size);

/**
 * Put a space in the embedder's group @p tag (0, the group every space starts in, included),
 * for dmar_iotlb_invalidate_tag() and dmar_iotlb_invalidate_tag_range(): an IOMMU's domain id
 * (VT-d DID, AMD-Vi DomainID), whose spaces (one per table the domain's devices use) its
 * driver invalidates together.
 * @param sp   the space
 * @param tag  its group
 * @return ::DMAR_OK; ::DMAR_E_INVALID for NULL @p sp.
 * @threadsafety Thread-safe (serialised with the invalidations of groups).
 */
DMAR_API dmar_status dmar_space_set_tag(dmar_space *sp, uint32_t tag);
/** The group of a space (dmar_space_set_tag()).
 *  @param sp  the space
 *  @return its tag; 0 for NULL @p sp.
 *  @threadsafety Thread-safe. */
DMAR_API uint32_t dmar_space_tag(const dmar_space *sp);
/**
 * Invalidate everything cached for every space of group @p tag, as dmar_space_invalidate()
 * does for each (a domain-selective invalidation): O(1) a space, whatever it cached.
 * @param tlb      the IOTLB
 * @param tag      the group
 * @param nspaces  receives how many spaces the group had (may be NULL)
 * @return ::DMAR_OK (also for a group with no space); ::DMAR_E_INVALID for NULL @p tlb.
 * @threadsafety Thread-safe (from an unregistered thread it may wait for an RCU grace period:
 * the ASID rollover it may begin, ::dmar_iotlb_config.asid_bits).  Spaces created,
 * destroyed or retagged concurrently are
 * invalidated or not as they were in the group at the moment the call took the IOTLB's
 * writer lock.  When it returns, no translation that starts afterwards through a space that
 * was in the group uses an entry cached before the call (S28).
 */
DMAR_API dmar_status dmar_iotlb_invalidate_tag(dmar_iotlb *tlb, uint32_t tag, size_t *nspaces);
/**
 * dmar_space_invalidate_range() of [iova, iova + size) in every space of group @p tag (a
 * page-selective invalidation within a domain).
 * @param tlb      the IOTLB
 * @param tag      the group
 * @param iova     first address
 * @param size     bytes, > 0
 * @param nspaces  receives how many spaces the group had (may be NULL)
 * @return ::DMAR_OK (also for a group with no space); ::DMAR_E_INVALID for NULL @p tlb,
 *         size 0 or a range that runs past 2^64 (one that ends exactly at 2^64 is taken),
 *         with nothing invalidated.
 * @threadsafety As dmar_iotlb_invalidate_tag().
 */
DMAR_API dmar_status dmar_iotlb_invalidate_tag_range(dmar_iotlb *tlb, uint32_t tag,
						     dmar_iova_t iova, uint64_t size,
						     size_t *nspaces);
/** One request of a batch. */
typedef struct dmar_request {
	dmar_iova_t iova; /**< the address the device puts on the bus */
	uint32_t access; /**< ::dmar_access flags */
	uint32_t pasid;  /**< device-level calls only (::DMAR_NO_PASID for none); spaces ignore it */
} dmar_request;

/** The outcome of one request: 16 bytes. */
typedef struct dmar_result {
	dmar_pa_t pa;     /**< translated address; 0 when refused */
	uint8_t fault;    /**< ::dmar_fault, ::DMAR_FAULT_NONE when translated */
	uint8_t page_lg2; /**< log2 of the size of the leaf that maps it: 12, 21 or 30; any of
			       12..51 in an AMD-Vi table */
	uint16_t prot;    /**< effective ::dmar_prot */
	uint32_t flags;   /**< ::dmar_result_flags */
} dmar_result;

/** Flags of a ::dmar_result. */
enum dmar_result_flags {
	/** answered from the IOTLB (or a thread's L0) without a walk; a repeat of a page that
	 *  missed in the same batch is walked again and not flagged (dmar_translate_batch()) */
	DMAR_RESULT_HIT = 1u << 0,
};

/**
 * Translate one access through @p sp.
 * @param sp      the space
 * @param iova    the address
 * @param access  ::dmar_access flags
 * @param res     the outcome
 * @return ::DMAR_OK with @p res filled; ::DMAR_E_FAULT with @c res->fault set;
 *         ::DMAR_E_THREAD from an unregistered thread; ::DMAR_E_INVALID for NULL arguments
 *         or unknown access bits.
 * @threadsafety Lock-free; registered thread; concurrently with any writer.
 */
DMAR_API dmar_status dmar_translate(dmar_space *sp, dmar_iova_t iova, unsigned access, dmar_result *res);

/** Where the walk of a refused request stopped (dmar_translate_detail()): what dmar_walk()
 *  reports in ::dmar_walk_result.level and ::dmar_walk_result.pte for the same table. */
typedef struct dmar_fault_info {
	uint64_t entry; /**< the entry where the walk stopped, as read: for a permission
			     fault the leaf, for a table that is not RAM the entry that pointed
			     to it; 0 when there is none (the root is not RAM, or the address is
			     outside the format's width) */
	uint8_t level;  /**< the level the walk stopped at (1 = the 4 KiB table): of the faulting
			     entry, or of the table that is not RAM; the top level when the
			     address is outside the format's width */
} dmar_fault_info;
/**
 * dmar_translate(), and for a refused request the level and the entry its walk stopped at (an
 * emulator's fault record: VT-d tells a bad root from a bad lower table by it).  The request
 * is translated as dmar_translate() does it, caches included; one refused that way is walked
 * once more from the root, every entry read from memory (not from the page-walk cache), and
 * that walk's outcome is what the call returns, with where it stopped.  It is the same
 * refusal unless the memory now allows the access (a walk-cache entry older than the table,
 * its invalidation not yet made): then it is that translation.  The second walk is not
 * counted in dmar_iotlb_stats and fills no cache (the cached path refuses until the
 * invalidation is made, as before the call).
 * @param sp      the space
 * @param iova    the address
 * @param access  ::dmar_access flags
 * @param res     the outcome, as dmar_translate() gives it
 * @param info    filled in when the request is refused; zeroed when it is translated
 * @return as dmar_translate(); ::DMAR_E_INVALID also for NULL @p info; @p info is left
 *         untouched when the call is refused (::DMAR_E_INVALID, ::DMAR_E_THREAD).
 * @threadsafety Lock-free; registered thread; concurrently with any writer.
 */
DMAR_API dmar_status dmar_translate_detail(dmar_space *sp, dmar_iova_t iova, unsigned access,
					   dmar_result *res, dmar_fault_info *info);
/**
 * Translate @p n requests through @p sp in one RCU read section: tags and sets for all,
 * prefetch, SIMD tag compare, then the misses walked interleaved so their memory latency
 * overlaps.  Each result equals what dmar_translate() gives for its request (S30) in
 * @c pa, @c fault, @c page_lg2 and @c prot, bit for bit, whatever the SIMD variant.  Only
 * @c flags may differ: ::DMAR_RESULT_HIT says this call found the translation cached, and
 * a batch probes all its requests before it walks any, so a page that missed earlier in
 * the same batch is walked again rather than hit (singles in sequence would hit).  A batch of
 * one is answered as dmar_translate() answers it, at about the same cost.
 * @param sp       the space
 * @param req      @p n requests (their @c pasid is ignored)
 * @param res      @p n outcomes, one per request
 * @param n        requests; any number, 0 included
 * @param nfaults  receives the number of refused requests (may be NULL)
 * @return ::DMAR_OK, also when some requests were refused (see each @c res[i].fault);
 *         ::DMAR_E_THREAD / ::DMAR_E_INVALID as dmar_translate(), with nothing translated.
 * @threadsafety Lock-free; registered thread; concurrently with any writer.
 */
DMAR_API dmar_status dmar_translate_batch(dmar_space *sp, const dmar_request *req, dmar_result *res,
				 size_t n, size_t *nfaults);

#ifdef __cplusplus
}
#endif
#endif
