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

/* IOTLB data word: the accesses a hit allows (bits 0-3, lined up with ::dmar_access), the
 * leaf's ::dmar_prot (bits 4-11), the frame of the 4 KiB page (bits 12-51) and the leaf's
 * page_lg2 (bits 52-57), so that a hit checks the access with one mask and builds its result
 * with two masks and shifts.  The allowed accesses are the prot's but for a write through a
 * leaf whose dirty bit is still clear (::DMAR_PT_AD): that write misses, and its walk sets D. */
#define DMAR_DATA_ALLOW_MASK 0xfull
#define DMAR_DATA_PROT_SHIFT 4
#define DMAR_DATA_PROT_MASK (0xffull << DMAR_DATA_PROT_SHIFT)
#define DMAR_DATA_LG2_SHIFT 52

/* The data word's allowed bits are ::dmar_access, which lines up with ::dmar_prot. */
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
 * cache of @mask + 1 sets: the pages of an aligned block of one space land in distinct sets,
 * strided ones too (dmar_cache_spread); spaces are spread apart.  The one definition every
 * lookup, fill and invalidation uses (the probes hash the ASID once a batch). */
static inline uint64_t dmar_cache_asid_hash(uint64_t asid)
{
	return asid * 0x9E3779B1u;
}

/* The set index of the set-associative caches (the IOTLB and the page-walk cache), for a
 * cache of @mask + 1 sets (a power of two, 2^b): the page number's next b bits folded onto
 * its low b, so that strided pages (64 KiB, 2 MiB, which leave the low bits alike) spread as
 * consecutive ones do: a stride of 2^s pages with s <= b gives 2^b pages 2^b distinct sets.
 * On an aligned block of 2^b consecutive pages the fold is a bijection, so a dense working
 * set is spread exactly as the page number itself would spread it.  (The threads' L0 banks
 * fold only once plain indexing has failed them, l0.h: their pass is about 16 instructions
 * a request, and the fold's two, always on, would cost a dense batch more than a strided one
 * gains.) */
static inline uint32_t dmar_cache_spread(uint64_t vpn, uint32_t mask)
{
	return (uint32_t)(vpn ^ (vpn >> __builtin_ctz(mask + 1))) & mask;
}

static inline uint32_t dmar_cache_set_hashed(uint64_t vpn, uint64_t ahash, uint32_t mask)
{
	return dmar_cache_spread(vpn ^ ahash, mask);
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
	return (d >> DMAR_DATA_LG2_SHIFT) << 8 | (d & DMAR_DATA_PROT_MASK) << (16 - DMAR_DATA_PROT_SHIFT) |
	       (uint64_t)DMAR_RESULT_HIT << 32;
}

static inline void dmar_cache_hit_result(uint64_t d, uint64_t iova, dmar_result *res)
{
	const uint64_t meta = dmar_cache_hit_meta(d);

	res->pa = (d & DMAR_PTE_ADDR_MASK) | (iova & 0xfff);
	memcpy(&res->fault, &meta, 8);
}

/* The IOTLB's tag holds 45 bits of page number (address bits 12-56), so each space caches a
 * window of 2^57 addresses that map one-to-one onto them, chosen by its @bias: an x86-64 CPU
 * table the addresses canonical for 57 bits ([0, 2^56) and the top 2^56: bias 2^56), an I/O
 * virtual address table [0, 2^57) (bias 0).  An address outside its space's window is never
 * filled nor answered (it would alias one inside): it is walked every time.  Filling and
 * probing use this one predicate. */
#define DMAR_CACHE_BIAS_CPU (1ull << 56)

static inline int dmar_cache_iova_ok(uint64_t iova, uint64_t bias)
{
	return ((iova + bias) >> (DMAR_VPN_BITS + 12)) == 0;
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
