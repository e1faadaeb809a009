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

/* The hit path writes a result's second word (fault, page_lg2, prot, flags) at once. */
_Static_assert(sizeof(dmar_result) == 16 && offsetof(dmar_result, fault) == 8 &&
		       offsetof(dmar_result, page_lg2) == 9 && offsetof(dmar_result, prot) == 10 &&
		       offsetof(dmar_result, flags) == 12,
	       "dmar_result layout");

struct dmar_cache {
	uint64_t *slots;   /* nsets * 2 * ways words, 64-byte aligned */
	uint64_t *seq;     /* per set: bumped by every invalidation that touches it */
	uint32_t nsets, ways, mask;
};

static inline uint64_t dmar_cache_tag(uint64_t asid, uint64_t vpn)
{
	return asid << DMAR_VPN_BITS | (vpn & DMAR_VPN_MASK);
}

/* Consecutive pages of one space land in consecutive sets; spaces are spread apart. */
static inline uint32_t dmar_cache_set(const struct dmar_cache *c, uint64_t asid, uint64_t vpn)
{
	return (uint32_t)(vpn ^ (asid * 0x9E3779B1u)) & c->mask;
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

int dmar_cache_init(struct dmar_cache *c, uint32_t nsets, uint32_t ways);
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

/* ---- the per-thread L0: a tiny translation cache in front of the shared IOTLB ------- */

/* A registered thread's own direct-mapped cache of IOTLB hits (tag, the IOTLB's invalidation
 * generation when the hit was seen, and the result it gives, ready to store).  Only its thread reads or writes
 * it, so it needs no atomics; an entry counts only while its generation is the IOTLB's
 * current one, and every invalidation bumps the generation after it has cleared the IOTLB,
 * so an entry can never outlive an invalidation that returned before the batch began. */
#define DMAR_L0_ENTRIES 256
struct dmar_l0 {
	/* The L0 pays only when it answers more lookups than it misses (a miss costs a look and
	 * a fill): a thread whose L0 missed more than it hit over a batch goes without it for
	 * DMAR_L0_SKIP batches, then tries again. */
	uint32_t hits, skip;
	/* (entries of another IOTLB never match: each IOTLB's generations are its own range) */
	struct {
		uint64_t tag, gen;
		uint64_t page; /* the frame (dmar_result.pa without the offset) */
		uint64_t meta; /* the result's second word (dmar_cache_hit_meta): prot at bit 16 */
	} e[DMAR_L0_ENTRIES];
};

#define DMAR_L0_SKIP 64

/* Whether this batch uses the L0 (NULL: no), and the bookkeeping after it. */
static inline struct dmar_l0 *dmar_l0_use(struct dmar_l0 *l0)
{
	if (!l0 || l0->skip == 0)
		return l0;
	l0->skip--;
	return NULL;
}

static inline void dmar_l0_after(struct dmar_l0 *l0, size_t n)
{
	if (2 * (size_t)l0->hits < n)
		l0->skip = DMAR_L0_SKIP;
	l0->hits = 0;
}

static inline unsigned dmar_l0_index(uint64_t vpn)
{
	return (unsigned)vpn & (DMAR_L0_ENTRIES - 1);
}

/* ---- probes: one implementation per ISA (probe_c.c, probe_sse42.c, probe_avx2.c) ---- */

/* Way of @set whose tag is @tag (the lowest if several), or -1. */
typedef int (*dmar_find_way_fn)(const uint64_t *set, unsigned ways, uint64_t tag);

/* The hit pass of a batch: for each request, a hit whose permissions allow the access fills
 * res[i]; every other index (miss, not allowed, non-canonical) is appended to miss[].
 * Returns the number of misses.  @asid != 0.  @l0 (may be NULL) is the calling thread's L0,
 * looked up first and filled with the IOTLB's hits, valid for generation @gen. */
typedef size_t (*dmar_probe_batch_fn)(const struct dmar_cache *c, uint64_t asid,
				      const dmar_request *req, dmar_result *res, size_t n,
				      uint32_t *miss, struct dmar_l0 *l0, uint64_t gen);

struct dmar_probe_ops {
	const char *name;
	dmar_find_way_fn find_way;
	dmar_probe_batch_fn probe_batch;
};

extern const struct dmar_probe_ops dmar_probe_c, dmar_probe_sse42, dmar_probe_avx2;

/* The variant chosen at start-up from CPUID, or forced by DMAR_SIMD=c|sse42|avx2. */
const struct dmar_probe_ops *dmar_probe_ops(void);
/* All variants this CPU can run, for tests (checkasm habit); returns how many. */
size_t dmar_probe_variants(const struct dmar_probe_ops **out, size_t max);

/* Look @tag up in @set: 1 with its data in *data, or 0 on a miss.  Uses the selected
 * probe; the tag is read again after the data, so the pair is never torn. */
static inline int dmar_cache_lookup(const struct dmar_cache *c, uint32_t set, uint64_t tag,
				    uint64_t *data)
{
	const uint64_t *s = dmar_cache_setp(c, set);
	const int w = dmar_probe_ops()->find_way(s, c->ways, tag);
	uint64_t d;

	if (w < 0)
		return 0;
	d = __atomic_load_n(&s[c->ways + (unsigned)w], __ATOMIC_ACQUIRE);
	if (__atomic_load_n(&s[w], __ATOMIC_ACQUIRE) != tag)
		return 0;
	*data = d;
	return 1;
}

#endif
