/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The batch hit pass, instantiated once per ISA file with its FIND_WAY (the only part that
 * differs).  Kept in one place so the variants cannot drift apart; probe_c.c is the
 * reference that tests compare the others with. */

/* Chunk of requests whose sets are computed and prefetched before any is compared. */
#define PROBE_CHUNK 32

static size_t PROBE_BATCH(const struct dmar_cache *c, uint64_t asid, const dmar_request *req,
			  dmar_result *res, size_t n, uint32_t *miss)
{
	size_t nmiss = 0;

	for (size_t base = 0; base < n; base += PROBE_CHUNK) {
		const size_t m = n - base < PROBE_CHUNK ? n - base : PROBE_CHUNK;
		const uint64_t *setp[PROBE_CHUNK];
		uint64_t tag[PROBE_CHUNK];

		for (size_t j = 0; j < m; j++) {
			uint64_t vpn = req[base + j].iova >> 12;

			tag[j] = dmar_cache_tag(asid, vpn);
			setp[j] = dmar_cache_setp(c, dmar_cache_set(c, asid, vpn));
			__builtin_prefetch(setp[j]);
		}
		for (size_t j = 0; j < m; j++) {
			const size_t i = base + j;
			const uint64_t iova = req[i].iova;
			const int64_t sx = (int64_t)(iova << 7) >> 7; /* canonical for 57 bits */
			int w = FIND_WAY(setp[j], c->ways, tag[j]);
			uint64_t d, t2;

			if (w < 0 || sx != (int64_t)iova)
				goto missed;
			d = __atomic_load_n(&setp[j][c->ways + (unsigned)w], __ATOMIC_ACQUIRE);
			t2 = __atomic_load_n(&setp[j][w], __ATOMIC_ACQUIRE);
			if (t2 != tag[j] || (req[i].access & ~d & 0xf))
				goto missed;
			res[i].pa = (d & DMAR_PTE_ADDR_MASK) | (iova & 0xfff);
			res[i].fault = DMAR_FAULT_NONE;
			res[i].page_lg2 = (uint8_t)(12 + 9 * ((d >> DMAR_DATA_SIZE_SHIFT) & 3));
			res[i].prot = (uint16_t)(d & DMAR_DATA_PROT_MASK);
			res[i].flags = DMAR_RESULT_HIT;
			continue;
missed:
			miss[nmiss++] = (uint32_t)i;
		}
	}
	return nmiss;
}
