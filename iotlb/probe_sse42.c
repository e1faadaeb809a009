/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SSE4.2 probe (pcmpeqq is SSE4.1): two tags per compare.  Built with -msse4.2. */
#include <immintrin.h>

#include <string.h>

#include "probe.h"

static int find_way_sse42(const uint64_t *set, unsigned ways, uint64_t tag)
{
	const __m128i t = _mm_set1_epi64x((long long)tag);
	int mask = 0;

	for (unsigned w = 0; w < ways; w += 2) {
		__m128i v = _mm_load_si128((const __m128i *)(set + w));

		mask |= _mm_movemask_pd(_mm_castsi128_pd(_mm_cmpeq_epi64(v, t))) << w;
	}
	return mask ? __builtin_ctz((unsigned)mask) : -1;
}

#define FIND_WAY find_way_sse42
#define PROBE_BATCH probe_batch_sse42
#define PROBE_LIST probe_list_sse42
#include "probe_tmpl.c"

const struct dmar_probe_ops dmar_probe_sse42 = { "sse42", find_way_sse42, probe_batch_sse42,
						    probe_list_sse42 };
