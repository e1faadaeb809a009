/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The batch hit pass, instantiated once per ISA file with its FIND_WAY (the only part that
 * differs).  Kept in one place so the variants cannot drift apart; probe_c.c is the
 * reference that tests compare the others with. */

/* Chunk of requests whose sets are computed and prefetched before any is compared. */
#define PROBE_CHUNK 32

static size_t PROBE_BATCH(const struct dmar_cache *c, uint64_t asid, const dmar_request *req,
			  dmar_result *res, size_t n, uint32_t *miss)
{
	/* locals: the result stores may alias anything, so nothing is reloaded from *c */
	const uint64_t atag = dmar_cache_tag(asid, 0), ahash = asid * 0x9E3779B1u;
	const unsigned ways = c->ways;
	const size_t stride = 2 * (size_t)ways;
	const uint32_t mask = c->mask;
	const uint64_t *const slots = c->slots;
	size_t nmiss = 0;

	for (size_t base = 0; base < n; base += PROBE_CHUNK) {
		const size_t m = n - base < PROBE_CHUNK ? n - base : PROBE_CHUNK;
		const uint64_t *setp[PROBE_CHUNK];

		for (size_t j = 0; j < m; j++) {
			const uint64_t vpn = req[base + j].iova >> 12;

			setp[j] = slots + (size_t)((uint32_t)(vpn ^ ahash) & mask) * stride;
			__builtin_prefetch(setp[j]);
		}
		for (size_t j = 0; j < m; j++) {
			const size_t i = base + j;
			const uint64_t iova = req[i].iova;
			const uint64_t tag = atag | ((iova >> 12) & DMAR_VPN_MASK);
			const int w = FIND_WAY(setp[j], ways, tag);
			uint64_t d;

			if (w < 0 || !dmar_cache_iova_ok(iova))
				goto missed;
			d = __atomic_load_n(&setp[j][ways + (unsigned)w], __ATOMIC_ACQUIRE);
			if (__atomic_load_n(&setp[j][w], __ATOMIC_ACQUIRE) != tag ||
			    (req[i].access & ~d & 0xf))
				goto missed;
			dmar_cache_hit_result(d, iova, &res[i]);
			continue;
missed:
			miss[nmiss++] = (uint32_t)i;
		}
	}
	return nmiss;
}
