/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The probe variants: the IOTLB stage of a batch, one implementation per ISA (probe_c.c,
 * probe_sse42.c, probe_avx2.c, probe_avx512.c from the template probe_tmpl.c), and the
 * choice (probe.c). */
#ifndef IOTLB_PROBE_H
#define IOTLB_PROBE_H

#include "cache.h"
#include "l0.h"

/* The hit pass of a batch: for each request, a hit whose permissions allow the access fills
 * res[i]; every other index (miss, not allowed, outside the space's cached window: @bias,
 * cache.h) is appended to miss[].  Returns the number of misses.  @asid != 0. */
typedef size_t (*dmar_probe_batch_fn)(const struct dmar_cache *c, uint64_t asid, uint64_t bias,
				      const dmar_request *req, dmar_result *res, size_t n,
				      uint32_t *miss);

/* The IOTLB stage of the requests listed in todo[0..nt) (indices into req and res; what an
 * L0 pass did not answer): as dmar_probe_batch_fn, the hits copied into @l0 (not NULL), the
 * indices of the rest appended to miss[]. */
typedef size_t (*dmar_probe_list_fn)(const struct dmar_cache *c, uint64_t asid, uint64_t bias,
				     const dmar_request *req, dmar_result *res,
				     const uint16_t *todo, size_t nt, uint32_t *miss,
				     struct dmar_l0 *l0);

struct dmar_probe_ops {
	const char *name;
	dmar_find_way_fn find_way;
	dmar_probe_batch_fn probe_batch;
	dmar_probe_list_fn probe_list;
};

extern const struct dmar_probe_ops dmar_probe_c, dmar_probe_sse42, dmar_probe_avx2,
	dmar_probe_avx512;
/* probe_avx512.c on SIMDe's portable intrinsics: linked into the tests only, where it runs
 * on any CPU (it is never one of dmar_probe_variants()). */
extern const struct dmar_probe_ops dmar_probe_avx512_simde;

/* The hit pass of a batch with the calling thread's L0 bank @l0 (bound to the space's current
 * key) in front: for each run of up to DMAR_L0_PASS_MAX requests the L0 pass, then @ops' IOTLB
 * stage of what it did not answer, whose hits fill the bank.  Otherwise as
 * dmar_probe_batch_fn. */
static inline size_t dmar_probe_l0(const struct dmar_probe_ops *ops, const struct dmar_cache *c,
				   uint64_t asid, uint64_t bias, const dmar_request *req, dmar_result *res,
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
		k = ops->probe_list(c, asid, bias, req + base, res + base, todo, nt, miss + nmiss, l0);
		for (size_t i = nmiss; i < nmiss + k; i++)
			miss[i] += (uint32_t)base;
		nmiss += k;
	}
	return nmiss;
}

/* The variant ::dmar_simd @want names (::DMAR_SIMD_DEFAULT: DMAR_SIMD from the environment,
 * else the best of c, sse42 and avx2 the CPU runs; avx512 by name only, probe.c): DMAR_OK with *out set; DMAR_E_INVALID for an unknown value;
 * DMAR_E_NOT_SUPPORTED for a variant the CPU cannot run. */
dmar_status dmar__probe_select(int want, const struct dmar_probe_ops **out);
/* All variants this CPU can run, in the order c, sse42, avx2, avx512, for tests (checkasm
 * habit); returns how many. */
size_t dmar_probe_variants(const struct dmar_probe_ops **out, size_t max);

#endif
