/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cache.h"

#include <stdlib.h>
#include <string.h>

int dmar_cache_init(struct dmar_cache *c, uint32_t nsets, uint32_t ways)
{
	size_t words = (size_t)nsets * 2 * ways;

	memset(c, 0, sizeof(*c));
	if (posix_memalign((void **)&c->slots, 64, words * 8) != 0)
		return -1;
	c->seq = calloc(nsets, sizeof(*c->seq));
	if (!c->seq) {
		free(c->slots);
		c->slots = NULL;
		return -1;
	}
	memset(c->slots, 0, words * 8);
	c->nsets = nsets;
	c->ways = ways;
	c->mask = nsets - 1;
	return 0;
}

void dmar_cache_fini(struct dmar_cache *c)
{
	free(c->slots);
	free(c->seq);
	memset(c, 0, sizeof(*c));
}

int dmar_cache_lookup(const struct dmar_cache *c, uint32_t set, uint64_t tag, uint64_t *data)
{
	const uint64_t *s = dmar_cache_setp(c, set);
	int w = dmar_probe_ops()->find_way(s, c->ways, tag);
	uint64_t d;

	if (w < 0)
		return 0;
	d = __atomic_load_n(&s[c->ways + (unsigned)w], __ATOMIC_ACQUIRE);
	if (__atomic_load_n(&s[w], __ATOMIC_ACQUIRE) != tag)
		return 0;
	*data = d;
	return 1;
}

int dmar_cache_fill(struct dmar_cache *c, uint32_t set, uint64_t tag, uint64_t data,
		    uint64_t seq, uint64_t *rng)
{
	uint64_t *s = dmar_cache_setp(c, set);
	uint64_t pending = tag | DMAR_TAG_PENDING;
	int w = dmar_probe_ops()->find_way(s, c->ways, tag);

	if (w < 0)
		w = dmar_probe_ops()->find_way(s, c->ways, 0);
	if (w < 0) { /* no free way: a pseudo-random victim, from the filler's own state */
		*rng ^= *rng << 13;
		*rng ^= *rng >> 7;
		*rng ^= *rng << 17;
		w = (int)(*rng % c->ways);
	}
	__atomic_store_n(&s[w], 0, __ATOMIC_RELAXED);
	__atomic_store_n(&s[c->ways + (unsigned)w], data, __ATOMIC_RELEASE);
	/* a locked exchange: the store-load barrier between publishing and re-checking */
	(void)__atomic_exchange_n(&s[w], pending, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&c->seq[set], __ATOMIC_SEQ_CST) != seq) {
		/* raced an invalidation: drop it unless someone replaced it meanwhile */
		(void)__atomic_compare_exchange_n(&s[w], &pending, 0, 0, __ATOMIC_SEQ_CST,
						  __ATOMIC_RELAXED);
		return 0;
	}
	/* fails only if an invalidation (or another filler) took the way meanwhile */
	return __atomic_compare_exchange_n(&s[w], &pending, tag, 0, __ATOMIC_SEQ_CST,
					   __ATOMIC_RELAXED);
}

void dmar_cache_inval_tag(struct dmar_cache *c, uint32_t set, uint64_t tag)
{
	uint64_t *s = dmar_cache_setp(c, set);

	__atomic_fetch_add(&c->seq[set], 1, __ATOMIC_SEQ_CST);
	for (unsigned w = 0; w < c->ways; w++) {
		uint64_t t = __atomic_load_n(&s[w], __ATOMIC_SEQ_CST);

		if ((t & ~DMAR_TAG_PENDING) == tag)
			__atomic_store_n(&s[w], 0, __ATOMIC_RELEASE);
	}
}

void dmar_cache_inval_all(struct dmar_cache *c)
{
	for (uint32_t set = 0; set < c->nsets; set++) {
		uint64_t *s = dmar_cache_setp(c, set);

		__atomic_fetch_add(&c->seq[set], 1, __ATOMIC_SEQ_CST);
		for (unsigned w = 0; w < c->ways; w++)
			__atomic_store_n(&s[w], 0, __ATOMIC_RELEASE);
	}
}
