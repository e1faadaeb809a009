/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* AVX-512 probe: a whole set's tags (4 or 8 ways) in one masked compare into a mask
 * register.  A set is 2 * ways words, 64-byte aligned (cache.h), so the 64-byte load is in
 * bounds for 4 ways too; the ways past @ways (that set's data words) are masked off.  Built
 * with -mavx512f and BMI1/2; the dispatcher checks all three and that the OS saves the
 * AVX-512 state.
 *
 * Built a second time for the tests with DMAR_PROBE_SIMDE: the same source on SIMDe's
 * portable definitions of the intrinsics, so the equivalence test checks this variant's
 * logic against the scalar reference on CPUs without AVX-512 (the native build is checked
 * where the CPU runs it). */
#ifdef DMAR_PROBE_SIMDE
#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/x86/avx512.h>
#define PROBE_OPS dmar_probe_avx512_simde
#define PROBE_NAME "avx512-simde"
#else
#include <immintrin.h>
#define PROBE_OPS dmar_probe_avx512
#define PROBE_NAME "avx512"
#endif

#include <string.h>

#include "probe.h"

static int find_way_avx512(const uint64_t *set, unsigned ways, uint64_t tag)
{
	const __m512i t = _mm512_set1_epi64((long long)tag);
	const __m512i v = _mm512_load_si512((const void *)set);
	const unsigned mask = _mm512_mask_cmpeq_epi64_mask((uint8_t)((1u << ways) - 1), v, t);

	return mask ? __builtin_ctz(mask) : -1;
}

#define FIND_WAY find_way_avx512
#define PROBE_BATCH probe_batch_avx512
#define PROBE_LIST probe_list_avx512
#include "probe_tmpl.c"

const struct dmar_probe_ops PROBE_OPS = { PROBE_NAME, find_way_avx512, probe_batch_avx512,
					  probe_list_avx512 };
