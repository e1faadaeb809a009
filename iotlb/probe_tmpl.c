/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The batch hit pass, instantiated once per ISA file with its FIND_WAY (the only part that
 * differs).  Kept in one place so the variants cannot drift apart; probe_c.c is the
 * reference that tests compare the others with. */

/* Chunk of requests whose sets are computed and prefetched before any is compared. */
#define PROBE_CHUNK 32

/* The IOTLB stage for request @i whose set is @sp: a hit whose permissions allow the access
 * fills res[i] (and the L0, if any); anything else goes to the miss list. */
#define PROBE_ONE(i, sp)                                                                   \
	do {                                                                               \
		const uint64_t iova_ = req[i].iova;                                        \
		const uint64_t tag_ = atag | ((iova_ >> 12) & DMAR_VPN_MASK);              \
		const int w_ = FIND_WAY((sp), ways, tag_);                                 \
		uint64_t d_;                                                               \
                                                                                           \
		if (w_ < 0 || !dmar_cache_iova_ok(iova_, bias))                                  \
			goto missed_##i;                                                   \
		d_ = __atomic_load_n(&(sp)[ways + (unsigned)w_], __ATOMIC_ACQUIRE);        \
		if (__atomic_load_n(&(sp)[w_], __ATOMIC_ACQUIRE) != tag_)                  \
			goto missed_##i;                                                   \
		if (l0) /* a checked (tag, data) pair: kept whatever the access */         \
			dmar_l0_fill(l0, iova_, &(sp)[w_], tag_, d_, &fills[nfill++]);     \
		if (req[i].access & ~d_ & DMAR_ACCESS_ALL)                                 \
			goto missed_##i;                                                   \
		dmar_cache_hit_result(d_, iova_, &res[i]);                                 \
		break;                                                                     \
missed_##i:                                                                                \
		miss[nmiss++] = (uint32_t)(i);                                             \
	} while (0)

/* The locals PROBE_ONE uses, from the cache @c and @asid.  Locals, because the result stores
 * may alias anything, so nothing is reloaded from *c. */
#define PROBE_LOCALS(c, asid)                                                              \
	const uint64_t atag = dmar_cache_tag((asid), 0), ahash = dmar_cache_asid_hash(asid); \
	const unsigned ways = (c)->ways;                                                   \
	const size_t stride = 2 * (size_t)ways;                                            \
	const uint32_t mask = (c)->mask;                                                   \
	const uint64_t *const slots = (c)->slots;                                          \
	const uint64_t *setp[PROBE_CHUNK];                                                 \
	size_t nmiss = 0

/* The set of @iova (dmar_cache_setp of dmar_cache_set, from the locals). */
#define PROBE_SET(iova) (slots + (size_t)dmar_cache_set_hashed((iova) >> 12, ahash, mask) * stride)

/* The IOTLB stage of the requests listed in todo[0..nt) (indices into req/res), their hits
 * copied into @l0 (not NULL) and checked a chunk at a time. */
static size_t PROBE_LIST(const struct dmar_cache *c, uint64_t asid, uint64_t bias,
			 const dmar_request *req,
			 dmar_result *res, const uint16_t *todo, size_t nt, uint32_t *miss,
			 struct dmar_l0 *l0)
{
	PROBE_LOCALS(c, asid);

	for (size_t tb = 0; tb < nt; tb += PROBE_CHUNK) {
		const size_t mt = nt - tb < PROBE_CHUNK ? nt - tb : PROBE_CHUNK;
		struct dmar_l0_fill fills[PROBE_CHUNK];
		size_t nfill = 0;

		for (size_t t = 0; t < mt; t++) {
			setp[t] = PROBE_SET(req[todo[tb + t]].iova);
			__builtin_prefetch(setp[t]);
		}
		for (size_t t = 0; t < mt; t++) {
			const size_t k = todo[tb + t];

			PROBE_ONE(k, setp[t]);
		}
		dmar_l0_check(l0, fills, nfill, ways);
	}
	return nmiss;
}

/* The IOTLB stage of a whole batch, without an L0 (dmar_probe_l0 puts one in front). */
static size_t PROBE_BATCH(const struct dmar_cache *c, uint64_t asid, uint64_t bias,
			  const dmar_request *req,
			  dmar_result *res, size_t n, uint32_t *miss)
{
	PROBE_LOCALS(c, asid);
	struct dmar_l0 *const l0 = NULL; /* for PROBE_ONE: nothing is filled */
	struct dmar_l0_fill *const fills = NULL;
	size_t nfill = 0;

	for (size_t base = 0; base < n; base += PROBE_CHUNK) {
		const size_t m = n - base < PROBE_CHUNK ? n - base : PROBE_CHUNK;

		/* sets computed and fetched for all, then compared */
		for (size_t j = 0; j < m; j++) {
			setp[j] = PROBE_SET(req[base + j].iova);
			__builtin_prefetch(setp[j]);
		}
		for (size_t j = 0; j < m; j++) {
			const size_t i = base + j;

			PROBE_ONE(i, setp[j]);
		}
	}
	(void)fills;
	(void)nfill;
	return nmiss;
}
#undef PROBE_ONE
#undef PROBE_SET
#undef PROBE_LOCALS
