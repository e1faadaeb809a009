/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Choose the probe variant once: the best the CPU has, or DMAR_SIMD=c|sse42|avx2 (a level
 * the CPU lacks falls back to the best it has, with a message on stderr). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"

static const struct dmar_probe_ops *chosen;
static pthread_once_t once = PTHREAD_ONCE_INIT;

size_t dmar_probe_variants(const struct dmar_probe_ops **out, size_t max)
{
	size_t n = 0;

	__builtin_cpu_init();
	if (n < max)
		out[n++] = &dmar_probe_c;
	if (n < max && __builtin_cpu_supports("sse4.2"))
		out[n++] = &dmar_probe_sse42;
	if (n < max && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi") &&
	    __builtin_cpu_supports("bmi2"))
		out[n++] = &dmar_probe_avx2;
	return n;
}

static void choose(void)
{
	const struct dmar_probe_ops *v[3];
	size_t n = dmar_probe_variants(v, 3);
	const char *want = getenv("DMAR_SIMD");
	const struct dmar_probe_ops *pick = v[n - 1];

	if (want && *want) {
		size_t i;

		for (i = 0; i < n && strcmp(v[i]->name, want) != 0; i++)
			;
		if (i < n)
			pick = v[i];
		else
			fprintf(stderr, "dmar: DMAR_SIMD=%s is not available here; using %s\n", want,
				pick->name);
	}
	__atomic_store_n(&chosen, pick, __ATOMIC_RELEASE);
}

const struct dmar_probe_ops *dmar_probe_ops(void)
{
	const struct dmar_probe_ops *ops = __atomic_load_n(&chosen, __ATOMIC_ACQUIRE);

	if (__builtin_expect(ops != NULL, 1))
		return ops;
	pthread_once(&once, choose);
	return chosen;
}

const char *dmar_iotlb_simd(void)
{
	return dmar_probe_ops()->name;
}
