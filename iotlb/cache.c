/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cache.h"

#include <stdlib.h>
#include <string.h>

int dmar_cache_init(struct dmar_cache *c, uint32_t nsets, uint32_t ways, dmar_find_way_fn find_way)
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
	c->find_way = find_way;
	return 0;
}

void dmar_cache_fini(struct dmar_cache *c)
{
	free(c->slots);
	free(c->seq);
	memset(c, 0, sizeof(*c));
}

/* A way to claim for @tag: the one holding it, else a free one, else a pseudo-random victim
 * (from the filler's own state: no shared write).  Pending ways belong to other fillers. */
static int pick_way(const struct dmar_cache *c, const uint64_t *s, uint64_t tag, uint64_t *rng)
{
	int w = c->find_way(s, c->ways, tag);

	if (w < 0)
		w = c->find_way(s, c->ways, 0);
	if (w < 0) {
		*rng ^= *rng << 13;
		*rng ^= *rng >> 7;
		*rng ^= *rng << 17;
		w = (int)(*rng % c->ways);
	}
	return w;
}

int dmar_cache_fill(struct dmar_cache *c, uint32_t set, uint64_t tag, uint64_t data,
		    uint64_t seq, uint64_t *rng)
{
	uint64_t *s = dmar_cache_setp(c, set);
	const uint64_t pending = tag | DMAR_TAG_PENDING;
	const int w = pick_way(c, s, tag, rng);
	uint64_t old = __atomic_load_n(&s[w], __ATOMIC_RELAXED), want = pending;

	/* claim (a locked CAS: also the barrier before the sequence re-check) */
	if ((old & DMAR_TAG_PENDING) ||
	    !__atomic_compare_exchange_n(&s[w], &old, pending, 0, __ATOMIC_SEQ_CST,
					 __ATOMIC_RELAXED))
		return 0;
	__atomic_store_n(&s[c->ways + (unsigned)w], data, __ATOMIC_RELEASE);
	if (__atomic_load_n(&c->seq[set], __ATOMIC_SEQ_CST) == seq &&
	    __atomic_compare_exchange_n(&s[w], &want, tag, 0, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
		return 1;
	/* raced an invalidation (or was cancelled by one): release the way we own */
	__atomic_store_n(&s[w], 0, __ATOMIC_RELEASE);
	return 0;
}

/* Clear way @w if it holds @tag, or cancel it if someone is filling @tag there. */
static void inval_way(uint64_t *s, unsigned w, uint64_t tag)
{
	uint64_t t = __atomic_load_n(&s[w], __ATOMIC_SEQ_CST);

	for (;;) {
		uint64_t to;

		if (t == tag)
			to = 0;
		else if (t == (tag | DMAR_TAG_PENDING))
			to = t | DMAR_TAG_CANCEL; /* the owner releases it */
		else
			return;
		/* on failure t is reloaded: a promotion to tag since is cleared next round */
		if (__atomic_compare_exchange_n(&s[w], &t, to, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
			return;
	}
}

void dmar_cache_inval_tag(struct dmar_cache *c, uint32_t set, uint64_t tag)
{
	uint64_t *s = dmar_cache_setp(c, set);

	__atomic_fetch_add(&c->seq[set], 1, __ATOMIC_SEQ_CST);
	for (unsigned w = 0; w < c->ways; w++)
		inval_way(s, w, tag);
}

void dmar_cache_inval_all(struct dmar_cache *c)
{
	for (uint32_t set = 0; set < c->nsets; set++) {
		uint64_t *s = dmar_cache_setp(c, set);

		__atomic_fetch_add(&c->seq[set], 1, __ATOMIC_SEQ_CST);
		for (unsigned w = 0; w < c->ways; w++) {
			uint64_t t = __atomic_load_n(&s[w], __ATOMIC_SEQ_CST);

			while (t && !(t & DMAR_TAG_CANCEL)) {
				uint64_t to = (t & DMAR_TAG_PENDING) ? t | DMAR_TAG_CANCEL : 0;

				if (__atomic_compare_exchange_n(&s[w], &t, to, 0, __ATOMIC_SEQ_CST,
								__ATOMIC_SEQ_CST))
					break;
			}
		}
	}
}
