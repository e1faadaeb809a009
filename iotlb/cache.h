/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A set-associative cache of 64-bit (tag -> data) pairs: the IOTLB and each level of the
 * page-walk cache are one each.  A set is 2 * ways words: the tags, then the data, so one
 * SIMD load compares 4 tags (AVX2); with 4 ways a set is exactly one cache line.
 *
 * Tag = asid << 45 | vpn (45 bits of page number: enough for 57-bit inputs; 17 bits of
 * ASID; bit 63 marks a pending fill, bit 62 a cancelled one).  Tag 0 is an empty way (ASIDs start at 1).  ASID 0
 * means "do not cache" and never reaches a cache.
 *
 * Concurrency: lookups take no lock and write nothing.  Writers keep these rules:
 *  - a filler owns a way from the moment it swaps the way's tag for its *pending* tag
 *    (tag | DMAR_TAG_PENDING, which no lookup matches) with a CAS, and only the owner ever
 *    stores into a pending way or releases it.  So no two writers ever write one way's
 *    data at once, and a (tag, data) pair is never torn: readers load tag, data, then the
 *    tag again, and a way's data changes only while its tag is someone's pending tag.
 *  - each set has a sequence number that invalidations bump (a locked add, a full barrier)
 *    before they scan the ways.  A filler reads it before its walk and again after its
 *    claim (a locked CAS); if it moved, the walk may have raced the invalidation and the
 *    entry is dropped.  Otherwise the scan comes later and sees the pending way, which it
 *    marks cancelled (DMAR_TAG_CANCEL) instead of touching it, and the owner's promotion
 *    (a CAS from its pending tag to the tag) fails.  Either way no entry computed from a
 *    stale walk becomes visible (Dekker).
 *  - an invalidation clears the upper walk-cache levels before the lower ones and the IOTLB
 *    last, so a walk that read a bumped lower-level sequence cannot have started from a
 *    stale upper-level entry. */
#ifndef IOTLB_CACHE_H
#define IOTLB_CACHE_H

#include <stddef.h>
#include <string.h>
#include <stdint.h>

#include <dmar/iotlb.h>

#include "rcu.h"

#define DMAR_VPN_BITS 45
#define DMAR_VPN_MASK ((1ull << DMAR_VPN_BITS) - 1)
#define DMAR_ASID_BITS 17
#define DMAR_ASID_LIMIT (1ull << DMAR_ASID_BITS)
#define DMAR_TAG_PENDING (1ull << 63)
#define DMAR_TAG_CANCEL (1ull << 62)

/* IOTLB data word: frame of the 4 KiB page (bits 12-51), prot (bits 0-6, ::dmar_prot, whose
 * low four bits line up with ::dmar_access), the leaf's page_lg2 (bits 7-11), so that a hit
 * builds its result with two masks and shifts. */
#define DMAR_DATA_PROT_MASK 0x7full
#define DMAR_DATA_LG2_SHIFT 7
#define DMAR_DATA_LG2_MASK (0x1full << DMAR_DATA_LG2_SHIFT)

/* The data word's prot bits are ::dmar_prot, whose access bits line up with ::dmar_access. */
_Static_assert((unsigned)DMAR_PROT_READ == (unsigned)DMAR_ACCESS_READ &&
		       (unsigned)DMAR_PROT_WRITE == (unsigned)DMAR_ACCESS_WRITE &&
		       (unsigned)DMAR_PROT_EXEC == (unsigned)DMAR_ACCESS_EXEC &&
		       (unsigned)DMAR_PROT_USER == (unsigned)DMAR_ACCESS_USER,
	       "dmar_prot and dmar_access bits");

/* The hit path writes a result's second word (fault, page_lg2, prot, flags) at once. */
_Static_assert(sizeof(dmar_result) == 16 && offsetof(dmar_result, fault) == 8 &&
		       offsetof(dmar_result, page_lg2) == 9 && offsetof(dmar_result, prot) == 10 &&
		       offsetof(dmar_result, flags) == 12,
	       "dmar_result layout");

/* Way of @set whose tag is @tag (the lowest if several), or -1: the one part of a lookup
 * each probe variant does its own way (probe_*.c). */
typedef int (*dmar_find_way_fn)(const uint64_t *set, unsigned ways, uint64_t tag);

struct dmar_cache {
	uint64_t *slots;   /* nsets * 2 * ways words, 64-byte aligned */
	uint64_t *seq;     /* per set: bumped by every invalidation that touches it */
	uint32_t nsets, ways, mask;
	dmar_find_way_fn find_way; /* its IOTLB's probe variant's */
};

static inline uint64_t dmar_cache_tag(uint64_t asid, uint64_t vpn)
{
	return asid << DMAR_VPN_BITS | (vpn & DMAR_VPN_MASK);
}

/* The set of page @vpn of the space whose ASID hashes to @ahash (dmar_cache_asid_hash), in a
 * cache of @mask + 1 sets: consecutive pages of one space land in consecutive sets; spaces
 * are spread apart.  The one definition every lookup, fill and invalidation uses (the
 * probes hash the ASID once a batch). */
static inline uint64_t dmar_cache_asid_hash(uint64_t asid)
{
	return asid * 0x9E3779B1u;
}

static inline uint32_t dmar_cache_set_hashed(uint64_t vpn, uint64_t ahash, uint32_t mask)
{
	return (uint32_t)(vpn ^ ahash) & mask;
}

static inline uint32_t dmar_cache_set(const struct dmar_cache *c, uint64_t asid, uint64_t vpn)
{
	return dmar_cache_set_hashed(vpn, dmar_cache_asid_hash(asid), c->mask);
}

static inline uint64_t *dmar_cache_setp(const struct dmar_cache *c, uint32_t set)
{
	return c->slots + (size_t)set * 2 * c->ways;
}

/* The result of an IOTLB hit whose data word is @d: the second word (fault = none, page_lg2,
 * prot, flags = hit) is written at once. */
static inline uint64_t dmar_cache_hit_meta(uint64_t d)
{
	return (d & DMAR_DATA_LG2_MASK) << (8 - DMAR_DATA_LG2_SHIFT) |
	       (d & DMAR_DATA_PROT_MASK) << 16 | (uint64_t)DMAR_RESULT_HIT << 32;
}

static inline void dmar_cache_hit_result(uint64_t d, uint64_t iova, dmar_result *res)
{
	const uint64_t meta = dmar_cache_hit_meta(d);

	res->pa = (d & DMAR_PTE_ADDR_MASK) | (iova & 0xfff);
	memcpy(&res->fault, &meta, 8);
}

/* Whether the IOTLB may answer @iova at all: canonical for 57 bits (a wider address could
 * alias a canonical one in the 45-bit page number of the tag). */
static inline int dmar_cache_iova_ok(uint64_t iova)
{
	return (uint64_t)((int64_t)(iova << 7) >> 7) == iova;
}

int dmar_cache_init(struct dmar_cache *c, uint32_t nsets, uint32_t ways, dmar_find_way_fn find_way);
void dmar_cache_fini(struct dmar_cache *c);


/* Sequence number of @set, to read before a walk whose result will be filled. */
static inline uint64_t dmar_cache_seq(const struct dmar_cache *c, uint32_t set)
{
	return __atomic_load_n(&c->seq[set], __ATOMIC_ACQUIRE);
}

/* Insert (tag, data) computed by a walk that started after dmar_cache_seq() returned @seq.
 * Returns 1 if it is in, 0 if not: an invalidation raced it, or every way it could take was
 * being filled by someone else. */
int dmar_cache_fill(struct dmar_cache *c, uint32_t set, uint64_t tag, uint64_t data,
		    uint64_t seq, uint64_t *rng);

/* Invalidate @tag in @set (bumps the set's sequence first). */
void dmar_cache_inval_tag(struct dmar_cache *c, uint32_t set, uint64_t tag);

/* Invalidate everything (bumps every sequence).  Writers only. */
void dmar_cache_inval_all(struct dmar_cache *c);

/* ---- the per-thread L0: a small translation cache in front of the shared IOTLB ------- */

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
 * pages in bench_devmodel's 4-16 KiB case) fit without two pages sharing an entry; 512
 * fitted neither that nor the 770 pages of its small case, and a bank that thrashes costs more
 * than it saves (measured: remapped fell from 78% to 65% of pass-through, 91-97% with 2048).
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

static inline unsigned dmar_l0_index(uint64_t vpn, uint32_t mask)
{
	return (unsigned)vpn & mask;
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
/* Empty the bank, give it @entries entries (a power of two, at most DMAR_L0_MAX_ENTRIES) and
 * bind it to @key.  The owner only. */
void dmar__l0_reset(struct dmar_l0 *l0, uint64_t key, uint32_t entries);

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

/* The L0 answer for one request from the entries @e0 of a bank whose mask is @mask, if the
 * entry holds its page and allows the access: 1 with *res filled, else 0. */
static inline int dmar_l0_lookup(const struct dmar_l0_entry *e0, uint32_t mask, uint64_t iova,
				 unsigned access, dmar_result *res)
{
	const uint64_t vpn = iova >> 12;
	const struct dmar_l0_entry *e = e0 + dmar_l0_index(vpn, mask);

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
 * chooses): 5% slower on a bank that fits, up to 7% faster a descriptor (bench_devmodel's
 * 4-16 KiB copies, 1800 pages) on one that does not. */
#define DMAR_L0_PASS_BODY(PF)                                                                  \
	size_t nt = 0, j = 0;                                                                  \
                                                                                               \
	for (; j + 4 <= n; j += 4) {                                                           \
		if (PF && j + 20 <= n) {                                                       \
			__builtin_prefetch(&e0[dmar_l0_index(req[j + 16].iova >> 12, mask)]);      \
			__builtin_prefetch(&e0[dmar_l0_index(req[j + 17].iova >> 12, mask)]);      \
			__builtin_prefetch(&e0[dmar_l0_index(req[j + 18].iova >> 12, mask)]);      \
			__builtin_prefetch(&e0[dmar_l0_index(req[j + 19].iova >> 12, mask)]);      \
		}                                                                              \
		L0_ONE(j);                                                                     \
		L0_ONE(j + 1);                                                                 \
		L0_ONE(j + 2);                                                                 \
		L0_ONE(j + 3);                                                                 \
	}                                                                                      \
	for (; j < n; j++)                                                                     \
		L0_ONE(j);                                                                     \
	return nt

#define L0_ONE(i)                                                                              \
	do {                                                                                   \
		if (!dmar_l0_lookup(e0, mask, req[i].iova, req[i].access, &res[i]))            \
			todo[nt++] = (uint16_t)(i);                                            \
	} while (0)

static __attribute__((noinline, unused)) size_t
dmar_l0_pass_l1(const struct dmar_l0_entry *e0, uint32_t mask, const dmar_request *req,
		dmar_result *res, size_t n, uint16_t *todo)
{
	DMAR_L0_PASS_BODY(0);
}

static __attribute__((noinline, unused)) size_t
dmar_l0_pass_pf(const struct dmar_l0_entry *e0, uint32_t mask, const dmar_request *req,
		dmar_result *res, size_t n, uint16_t *todo)
{
	DMAR_L0_PASS_BODY(1);
}
#undef L0_ONE
#undef DMAR_L0_PASS_BODY

/* Entries in use beyond which a bank is bigger than L1 (32 KiB of them). */
#define DMAR_L0_PREFETCH_AT 1024

static inline size_t dmar_l0_pass(const struct dmar_l0 *l0, const dmar_request *req,
				  dmar_result *res, size_t n, uint16_t *todo)
{
	return l0->used > DMAR_L0_PREFETCH_AT ? dmar_l0_pass_pf(l0->e, l0->mask, req, res, n, todo)
					       : dmar_l0_pass_l1(l0->e, l0->mask, req, res, n, todo);
}

/* Copy the IOTLB hit (@tag, @d) of @iova, found in the way whose tag word is @way, into the
 * L0, and note it in @f for dmar_l0_check. */
static inline void dmar_l0_fill(struct dmar_l0 *l0, uint64_t iova, const uint64_t *way,
				uint64_t tag, uint64_t d, struct dmar_l0_fill *f)
{
	const unsigned k = dmar_l0_index(iova >> 12, l0->mask);
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
	uint32_t mask;

	if (__atomic_load_n(&l0->key, __ATOMIC_SEQ_CST) != key)
		return;
	/* the mask a fill this must see used: it was stored before that fill's fence, so a
	 * seq_cst load after the IOTLB clear reads it (or a later one, whose reset emptied the
	 * bank) whenever the fill's check did not see the clear */
	mask = __atomic_load_n(&l0->mask, __ATOMIC_SEQ_CST);
	for (uint64_t vpn = first; vpn <= last; vpn++) {
		uint64_t *p = &l0->e[dmar_l0_index(vpn, mask)].vpn;
		uint64_t v = __atomic_load_n(p, __ATOMIC_SEQ_CST);

		/* a failed CAS means the owner refilled it since: that fill has its own check */
		if (v == vpn)
			__atomic_compare_exchange_n(p, &v, DMAR_L0_EMPTY, 0, __ATOMIC_SEQ_CST,
						    __ATOMIC_RELAXED);
	}
}

/* ---- probes: one implementation per ISA (probe_c.c, probe_sse42.c, probe_avx2.c) ---- */

/* The hit pass of a batch: for each request, a hit whose permissions allow the access fills
 * res[i]; every other index (miss, not allowed, non-canonical) is appended to miss[].
 * Returns the number of misses.  @asid != 0. */
typedef size_t (*dmar_probe_batch_fn)(const struct dmar_cache *c, uint64_t asid,
				      const dmar_request *req, dmar_result *res, size_t n,
				      uint32_t *miss);

/* The IOTLB stage of the requests listed in todo[0..nt) (indices into req and res; what an
 * L0 pass did not answer): as dmar_probe_batch_fn, the hits copied into @l0 (not NULL), the
 * indices of the rest appended to miss[]. */
typedef size_t (*dmar_probe_list_fn)(const struct dmar_cache *c, uint64_t asid,
				     const dmar_request *req, dmar_result *res,
				     const uint16_t *todo, size_t nt, uint32_t *miss,
				     struct dmar_l0 *l0);

struct dmar_probe_ops {
	const char *name;
	dmar_find_way_fn find_way;
	dmar_probe_batch_fn probe_batch;
	dmar_probe_list_fn probe_list;
};

extern const struct dmar_probe_ops dmar_probe_c, dmar_probe_sse42, dmar_probe_avx2;

/* The hit pass of a batch with the calling thread's L0 bank @l0 (bound to the space's current
 * key) in front: for each run of up to DMAR_L0_PASS_MAX requests the L0 pass, then @ops' IOTLB
 * stage of what it did not answer, whose hits fill the bank.  Otherwise as
 * dmar_probe_batch_fn. */
static inline size_t dmar_probe_l0(const struct dmar_probe_ops *ops, const struct dmar_cache *c,
				   uint64_t asid, const dmar_request *req, dmar_result *res,
				   size_t n, uint32_t *miss, struct dmar_l0 *l0)
{
	size_t nmiss = 0;

	for (size_t base = 0; base < n; base += DMAR_L0_PASS_MAX) {
		const size_t m = n - base < DMAR_L0_PASS_MAX ? n - base : DMAR_L0_PASS_MAX;
		uint16_t todo[DMAR_L0_PASS_MAX];
		const size_t nt = dmar_l0_pass(l0, req + base, res + base, m, todo);
		size_t k;

		l0->hits += (uint32_t)(m - nt);
		if (!nt)
			continue;
		k = ops->probe_list(c, asid, req + base, res + base, todo, nt, miss + nmiss, l0);
		for (size_t i = nmiss; i < nmiss + k; i++)
			miss[i] += (uint32_t)base;
		nmiss += k;
	}
	return nmiss;
}

/* The variant ::dmar_simd @want names (::DMAR_SIMD_DEFAULT: DMAR_SIMD from the environment,
 * else the best the CPU runs): DMAR_OK with *out set; DMAR_E_INVALID for an unknown value;
 * DMAR_E_NOT_SUPPORTED for a variant the CPU cannot run. */
dmar_status dmar__probe_select(int want, const struct dmar_probe_ops **out);
/* All variants this CPU can run, for tests (checkasm habit); returns how many. */
size_t dmar_probe_variants(const struct dmar_probe_ops **out, size_t max);

/* Look @tag up in @set: the way holding it (its tag word; the data word is way[ways]) with
 * its data in *data, or NULL on a miss.  Uses the cache's probe variant; the tag is read
 * again after the data, so the pair is never torn. */
static inline const uint64_t *dmar_cache_lookup_way(const struct dmar_cache *c, uint32_t set,
						    uint64_t tag, uint64_t *data)
{
	const uint64_t *s = dmar_cache_setp(c, set);
	const int w = c->find_way(s, c->ways, tag);
	uint64_t d;

	if (w < 0)
		return NULL;
	d = __atomic_load_n(&s[c->ways + (unsigned)w], __ATOMIC_ACQUIRE);
	if (__atomic_load_n(&s[w], __ATOMIC_ACQUIRE) != tag)
		return NULL;
	*data = d;
	return &s[w];
}

/* dmar_cache_lookup_way when the way does not matter: 1 with the data in *data, or 0. */
static inline int dmar_cache_lookup(const struct dmar_cache *c, uint32_t set, uint64_t tag,
				    uint64_t *data)
{
	return dmar_cache_lookup_way(c, set, tag, data) != NULL;
}

#endif
