/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The per-thread L0 banks in front of an IOTLB (l0.c makes, rebinds and grows them). */
#ifndef IOTLB_L0_H
#define IOTLB_L0_H

#include "cache.h"

/* In each IOTLB, each registered thread (by its slot) has DMAR_L0_BANKS banks (the IOTLB
 * keeps them, iotlb_internal.h); a bank is bound to one key at a time.  A space's key
 * (dmar_space.l0key, from its IOTLB's counter, never reused) changes whenever its ASID does, so what a bank cached under an
 * ASID since retired is dropped by the first batch that sees the new key (it rewinds the
 * bank).  Entries are direct-mapped by page number and keyed by the whole of iova >> 12.
 *
 * Concurrency (nothing shared is written on a hit):
 *  - only the owning thread fills or reads a bank's entries; invalidators only read vpn
 *    and clear it with a CAS (dmar_l0_shootdown: a page-selective invalidation clears the
 *    pages it invalidated from every bank bound to the space's key);
 *  - a fill copies an IOTLB hit.  After its fills the owner issues a seq_cst fence and
 *    reads each source way again; an entry whose way no longer holds the same (tag, data)
 *    is cleared.  The invalidator clears the way (a seq_cst CAS) and then scans the banks
 *    with seq_cst loads.  So either the owner sees the cleared way, or the invalidator sees
 *    the entry (Dekker): no entry outlives an invalidation that returned;
 *  - the bank's key is read by invalidators, written only by the owner when it rebinds
 *    (on a line of its own); the owner's counters sit on another line. */
/* A bank starts with DMAR_L0_ENTRIES entries (64 KiB) and grows (l0.c) up to
 * DMAR_L0_MAX_ENTRIES (1 MiB, an L2's worth) while it keeps evicting pages the IOTLB holds: a
 * working set bigger than a bank but cached by the IOTLB then runs from the L0 too.  2048
 * entries to start: a device model's descriptor ring, source pool and destinations (1800
 * pages in bench_devmodel's 4-16 KiB case) fit without two pages sharing an entry, where a
 * smaller bank would thrash, and a bank that thrashes costs more than it saves
 * (docs/performance.md, the device model).
 * A thread's banks hold at most DMAR_L0_ROW_ENTRIES (4 MiB) together, the banks it has not
 * made yet counted at their starting size; a bank rebound to another key starts small again
 * (what it grew to is given back to the system). */
#define DMAR_L0_BANKS 16
#define DMAR_L0_ENTRIES 2048
#define DMAR_L0_MAX_ENTRIES 32768
#define DMAR_L0_ROW_ENTRIES 131072
#define DMAR_L0_EMPTY (~0ull) /* no page number: they have at most 52 bits */

struct dmar_l0_entry {
	uint64_t vpn;   /* atomic: iova >> 12, or DMAR_L0_EMPTY */
	uint64_t deny;  /* the access bits the page refuses (~prot & DMAR_ACCESS_ALL) */
	uint64_t delta; /* frame - (iova & ~0xfff), modulo 2^64: pa = iova + delta */
	uint64_t meta;  /* the result's second word (dmar_cache_hit_meta) */
};

struct dmar_l0 {
	uint64_t key __attribute__((aligned(64))); /* atomic: the binding; 0 while rebinding */
	uint32_t mask;  /* atomic: entries - 1 (a power of two); changes only while key is 0 */
	uint32_t fold;  /* atomic: log2(entries) when the index folds the page number's next
			 * bits onto its low ones, else DMAR_L0_NOFOLD (dmar_l0_index); changes
			 * only while key is 0 */
	int mode;       /* its IOTLB's ::dmar_l0_mode (adaptive or always) */
	struct dmar_l0 **row;  /* its thread slot's banks in its IOTLB (NULL: none, a test's) */
	uint32_t *clock;       /* that slot's window clock in its IOTLB (with row) */
	/* the owner's: the L0 pays only when it answers more lookups than it misses (a miss
	 * costs a look and a fill), so a bank that neither hit nor warmed up (filled an empty
	 * entry) for half of a window of DMAR_L0_WINDOW lookups stands aside for the next
	 * DMAR_L0_SKIP requests (twice as many after each window that failed again, up to 128
	 * times), then tries again (what it filled stays); a bank whose fills evicted entries for
	 * an eighth of the window's lookups grows first, if it may (dmar__l0_window_end) */
	uint32_t hits __attribute__((aligned(64)));
	uint32_t looks, skip;
	uint32_t backoff; /* windows failed in a row (the skip doubles with each, up to 2^7) */
	uint32_t used;    /* fills into empty entries since the bank was bound (shootdowns not
			   * counted: an estimate of the bank's size, for dmar_l0_pass) */
	uint32_t used0;   /* used when the window began */
	uint32_t evicts;  /* fills into full entries this window */
	uint32_t stamp;   /* *clock when it last ended a window or was reset (l0.c) */
	/* atomic (owner writes, dmar_iotlb_get_stats reads): requests the bank answered before
	 * any read-side section (translate.c, translate_quick_many), never reset: counted as
	 * translations, hits and L0 hits of the bank's thread slot; quick0: its value when the
	 * window began */
	uint64_t quick, quick0;
	struct dmar_l0_entry e[] __attribute__((aligned(64))); /* mask + 1 of them in use */
};

/* A grown bank idle for this many windows (ended by any bank of its thread slot) may give
 * its room to a bank of the slot that grows (l0.c). */
#define DMAR_L0_IDLE 64

#define DMAR_L0_WINDOW 512
#define DMAR_L0_SKIP 8192
#define DMAR_L0_PASS_MAX 256 /* requests per L0 pass (its miss list is on the stack) */

/* A fill to check once the chunk's fills are done (the way it was copied from). */
struct dmar_l0_fill {
	const uint64_t *way; /* the tag word; the data word is way[ways] */
	uint64_t tag, data;
	uint32_t k;
};

/* struct dmar_l0's fold when the index does not fold: a page number has at most 52 bits, so
 * vpn >> 63 is 0 and the index below is the plain one, with no branch or select (a single
 * hit is a few dozen instructions, and a test and a select were two of them). */
#define DMAR_L0_NOFOLD 63u

/* The entry of page @vpn in a bank of mask @mask and fold @fold.  A bank indexes by the page
 * number's low bits (fold DMAR_L0_NOFOLD) until it has grown as far as it may and still
 * evicts, as strided working sets make it do (pages 64 KiB or 2 MiB apart share a sixteenth
 * or less of the entries); then it folds the next bits onto the low ones, as the IOTLB's set
 * index always does (cache.h: a bijection on aligned dense blocks), so that strides spread.
 * Not from the start: the fold costs the batch pass two instructions of about sixteen a
 * request (its plain variants index with the constant DMAR_L0_NOFOLD, which compiles away),
 * and an unaligned dense set that the plain index holds whole may collide under it. */
static inline unsigned dmar_l0_index(uint64_t vpn, uint32_t mask, uint32_t fold)
{
	return (unsigned)(vpn ^ (vpn >> fold)) & mask;
}

/* Whether bank @l0's index folds (the owner's view, or with the key checked). */
static inline int dmar_l0_folded(const struct dmar_l0 *l0)
{
	return l0->fold != DMAR_L0_NOFOLD;
}

/* Bytes of a bank of @entries entries. */
static inline size_t dmar_l0_bytes(uint32_t entries)
{
	return sizeof(struct dmar_l0) + (size_t)entries * sizeof(struct dmar_l0_entry);
}

/* A new bank of the thread slot whose banks are @row and window clock @clock in an IOTLB
 * (both NULL: a bank of no slot, a test's), for L0 mode @mode (adaptive or always), bound to
 * nothing (key 0, DMAR_L0_ENTRIES entries; room reserved for DMAR_L0_MAX_ENTRIES), or NULL
 * without memory.  A bank lives as long as its IOTLB (invalidators may read one at any
 * time); dmar__l0_free() at its destruction. */
struct dmar_l0 *dmar__l0_new(struct dmar_l0 **row, uint32_t *clock, int mode);
void dmar__l0_free(struct dmar_l0 *l0);
/* Empty the bank, give it @entries entries (a power of two, at most DMAR_L0_MAX_ENTRIES),
 * the folded index if @fold (dmar_l0_index) and bind it to @key.  The owner only. */
void dmar__l0_reset(struct dmar_l0 *l0, uint64_t key, uint32_t entries, int fold);

/* Whether a batch of @n requests uses the bank (NULL: no), and the bookkeeping after it. */
static inline struct dmar_l0 *dmar_l0_use(struct dmar_l0 *l0, size_t n)
{
	if (l0->skip == 0)
		return l0;
	l0->skip = l0->skip > n ? l0->skip - (uint32_t)n : 0;
	return NULL;
}

/* The end of a window: grow, stand aside or carry on (struct dmar_l0).  Out of line. */
void dmar__l0_window_end(struct dmar_l0 *l0);

/* The bookkeeping after a batch of @n requests that used the bank. */
static inline void dmar_l0_after(struct dmar_l0 *l0, size_t n)
{
	l0->looks += (uint32_t)(n < (1u << 30) ? n : (1u << 30));
	if (__builtin_expect(l0->looks >= DMAR_L0_WINDOW, 0))
		dmar__l0_window_end(l0);
}

/* The L0 answer for one request from the entries @e0 of a bank whose mask is @mask and fold
 * @fold, if the entry holds its page and allows the access: 1 with *res filled, else 0. */
static inline int dmar_l0_lookup(const struct dmar_l0_entry *e0, uint32_t mask, uint32_t fold,
				 uint64_t iova, unsigned access, dmar_result *res)
{
	const uint64_t vpn = iova >> 12;
	const struct dmar_l0_entry *e = e0 + dmar_l0_index(vpn, mask, fold);

	if (__builtin_expect(__atomic_load_n(&e->vpn, __ATOMIC_RELAXED) != vpn, 0) ||
	    __builtin_expect((access & e->deny) != 0, 0))
		return 0;
	res->pa = iova + e->delta;
	memcpy(&res->fault, &e->meta, 8);
	return 1;
}

/* The L0 pass of a batch: each request the bank answers (the entry holds its page and allows
 * the access) gets its result; the index of every other one is appended to @todo.  Returns
 * how many were appended.  Kept out of line: its loop keeps everything in registers.  Four
 * at a time, then the rest: written out so that the loop is about 16 instructions a request
 * (one load and compare of the tag, one of the access, two result stores).  The _pf variant
 * prefetches the entry 16 requests on, for banks that hold more than L1 does (dmar_l0_pass
 * chooses): the prefetches cost a bank that fits in L1 more than they save, and save a bank
 * that does not more than they cost.  The _fold variant is _pf for a folded bank (only a
 * bank at its largest folds). */
#define DMAR_L0_PASS_BODY(PF, FOLD)                                                                  \
	size_t nt = 0, j = 0;                                                                  \
                                                                                               \
	for (; j + 4 <= n; j += 4) {                                                           \
		if (PF && j + 20 <= n) {                                                       \
			__builtin_prefetch(&e0[dmar_l0_index(req[j + 16].iova >> 12, mask, FOLD)]);\
			__builtin_prefetch(&e0[dmar_l0_index(req[j + 17].iova >> 12, mask, FOLD)]);\
			__builtin_prefetch(&e0[dmar_l0_index(req[j + 18].iova >> 12, mask, FOLD)]);\
			__builtin_prefetch(&e0[dmar_l0_index(req[j + 19].iova >> 12, mask, FOLD)]);\
		}                                                                              \
		L0_ONE(j, FOLD);                                                               \
		L0_ONE(j + 1, FOLD);                                                           \
		L0_ONE(j + 2, FOLD);                                                           \
		L0_ONE(j + 3, FOLD);                                                           \
	}                                                                                      \
	for (; j < n; j++)                                                                     \
		L0_ONE(j, FOLD);                                                               \
	return nt

#define L0_ONE(i, FOLD)                                                                        \
	do {                                                                                   \
		if (!dmar_l0_lookup(e0, mask, FOLD, req[i].iova, req[i].access, &res[i]))      \
			todo[nt++] = (uint16_t)(i);                                            \
	} while (0)

static __attribute__((noinline, unused)) size_t
dmar_l0_pass_l1(const struct dmar_l0_entry *e0, uint32_t mask, const dmar_request *req,
		dmar_result *res, size_t n, uint16_t *todo)
{
	DMAR_L0_PASS_BODY(0, DMAR_L0_NOFOLD);
}

static __attribute__((noinline, unused)) size_t
dmar_l0_pass_pf(const struct dmar_l0_entry *e0, uint32_t mask, const dmar_request *req,
		dmar_result *res, size_t n, uint16_t *todo)
{
	DMAR_L0_PASS_BODY(1, DMAR_L0_NOFOLD);
}

static __attribute__((noinline, unused)) size_t
dmar_l0_pass_fold(const struct dmar_l0_entry *e0, uint32_t mask, uint32_t fold,
		  const dmar_request *req, dmar_result *res, size_t n, uint16_t *todo)
{
	DMAR_L0_PASS_BODY(1, fold);
}
#undef L0_ONE
#undef DMAR_L0_PASS_BODY

/* Entries in use beyond which a bank is bigger than L1 (32 KiB of them). */
#define DMAR_L0_PREFETCH_AT 1024

static inline size_t dmar_l0_pass(const struct dmar_l0 *l0, const dmar_request *req,
				  dmar_result *res, size_t n, uint16_t *todo)
{
	if (dmar_l0_folded(l0))
		return dmar_l0_pass_fold(l0->e, l0->mask, l0->fold, req, res, n, todo);
	return l0->used > DMAR_L0_PREFETCH_AT ? dmar_l0_pass_pf(l0->e, l0->mask, req, res, n, todo)
					       : dmar_l0_pass_l1(l0->e, l0->mask, req, res, n, todo);
}

/* Copy the IOTLB hit (@tag, @d) of @iova, found in the way whose tag word is @way, into the
 * L0, and note it in @f for dmar_l0_check. */
static inline void dmar_l0_fill(struct dmar_l0 *l0, uint64_t iova, const uint64_t *way,
				uint64_t tag, uint64_t d, struct dmar_l0_fill *f)
{
	const unsigned k = dmar_l0_index(iova >> 12, l0->mask, l0->fold);
	const int empty = __atomic_load_n(&l0->e[k].vpn, __ATOMIC_RELAXED) == DMAR_L0_EMPTY;

	l0->used += empty;
	l0->evicts += !empty;
	l0->e[k].deny = ~d & DMAR_ACCESS_ALL;
	l0->e[k].delta = (d & DMAR_PTE_ADDR_MASK) - (iova & ~0xfffull);
	l0->e[k].meta = dmar_cache_hit_meta(d);
	__atomic_store_n(&l0->e[k].vpn, iova >> 12, __ATOMIC_RELAXED);
	f->way = way;
	f->tag = tag;
	f->data = d;
	f->k = k;
}

/* After fills: keep only those whose way still holds what was copied (see above). */
static inline void dmar_l0_check(struct dmar_l0 *l0, const struct dmar_l0_fill *f, size_t nf,
				 unsigned ways)
{
	if (!nf)
		return;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	for (size_t i = 0; i < nf; i++) {
		/* data, then the tag: the data changes only while the tag is someone's pending tag */
		const uint64_t d = __atomic_load_n(&f[i].way[ways], __ATOMIC_ACQUIRE);

		if (__atomic_load_n(&f[i].way[0], __ATOMIC_ACQUIRE) != f[i].tag || d != f[i].data)
			__atomic_store_n(&l0->e[f[i].k].vpn, DMAR_L0_EMPTY, __ATOMIC_RELAXED);
	}
}

/* Invalidator side: clear pages [first, last] (at most a few) from @l0 if it is bound to
 * @key.  Call after clearing the IOTLB (seq_cst read-modify-writes); the loads here are
 * seq_cst, which is what makes the pair with dmar_l0_check's fence (plain moves on x86). */
static inline void dmar_l0_shootdown(struct dmar_l0 *l0, uint64_t key, uint64_t first,
				     uint64_t last)
{
	uint32_t mask, fold;

	if (__atomic_load_n(&l0->key, __ATOMIC_SEQ_CST) != key)
		return;
	/* the mask and fold a fill this must see used: they were stored before that fill's
	 * fence, so seq_cst loads after the IOTLB clear read them (or later ones, whose reset
	 * emptied the bank: a pair from two resets clears nothing that matters, and an index
	 * past the bank's size lands in its reserved room) whenever the fill's check did not
	 * see the clear */
	mask = __atomic_load_n(&l0->mask, __ATOMIC_SEQ_CST);
	fold = __atomic_load_n(&l0->fold, __ATOMIC_SEQ_CST);
	for (uint64_t vpn = first; vpn <= last; vpn++) {
		uint64_t *p = &l0->e[dmar_l0_index(vpn, mask, fold)].vpn;
		uint64_t v = __atomic_load_n(p, __ATOMIC_SEQ_CST);

		/* a failed CAS means the owner refilled it since: that fill has its own check */
		if (v == vpn)
			__atomic_compare_exchange_n(p, &v, DMAR_L0_EMPTY, 0, __ATOMIC_SEQ_CST,
						    __ATOMIC_RELAXED);
	}
}

#endif
