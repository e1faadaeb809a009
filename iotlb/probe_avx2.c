/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* AVX2 probe: four tags per compare, a whole 4-way set in one.  Built with -mavx2 and
 * BMI1/2 (every AVX2 CPU has them; the dispatcher checks all three). */
#include <immintrin.h>

#include <string.h>

#include "probe.h"

static int find_way_avx2(const uint64_t *set, unsigned ways, uint64_t tag)
{
	const __m256i t = _mm256_set1_epi64x((long long)tag);
	__m256i v = _mm256_load_si256((const __m256i *)set);
	int mask = _mm256_movemask_pd(_mm256_castsi256_pd(_mm256_cmpeq_epi64(v, t)));

	if (ways == 8) {
		v = _mm256_load_si256((const __m256i *)(set + 4));
		mask |= _mm256_movemask_pd(_mm256_castsi256_pd(_mm256_cmpeq_epi64(v, t))) << 4;
	}
	return mask ? __builtin_ctz((unsigned)mask) : -1;
}

#define FIND_WAY find_way_avx2
#define PROBE_BATCH probe_batch_avx2
#define PROBE_LIST probe_list_avx2
#include "probe_tmpl.c"

const struct dmar_probe_ops dmar_probe_avx2 = { "avx2", find_way_avx2, probe_batch_avx2,
						    probe_list_avx2 };
