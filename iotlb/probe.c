/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The probe variants this CPU runs, and the one an IOTLB asks for (dmar_iotlb_config.simd,
 * with DMAR_SIMD=c|sse42|avx2|avx512 as an override of the default only, as DPDK selects a
 * lookup per object).  Nothing is chosen for the process: each IOTLB keeps its own.
 *
 * The default is the best of c, sse42 and avx2 the CPU runs.  The AVX-512 variant is taken
 * by name only: a variant becomes a default where bench_iotlb has measured it not losing to
 * the one before it (bench/ratios.py prints that comparison), and AVX-512 has not been timed on
 * a CPU that runs it yet (docs/performance.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe.h"

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
	/* (libgcc's check of avx512f includes the OS saving the opmask and ZMM state, XCR0) */
	if (n < max && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("bmi") &&
	    __builtin_cpu_supports("bmi2"))
		out[n++] = &dmar_probe_avx512;
	return n;
}

/* The default among the @n variants of dmar_probe_variants(): the last one that is not
 * taken by name only. */
static const struct dmar_probe_ops *probe_default(const struct dmar_probe_ops *const *v, size_t n)
{
	while (n > 1 && v[n - 1] == &dmar_probe_avx512)
		n--;
	return v[n - 1];
}

dmar_status dmar__probe_select(int want, const struct dmar_probe_ops **out)
{
	static const char *const names[DMAR_SIMD_COUNT] = { NULL, "c", "sse42", "avx2", "avx512" };
	const struct dmar_probe_ops *v[DMAR_SIMD_COUNT];
	const size_t n = dmar_probe_variants(v, DMAR_SIMD_COUNT);
	const char *name;

	if (want < 0 || want >= DMAR_SIMD_COUNT)
		return DMAR_E_INVALID;
	name = names[want];
	if (!name) { /* the default: the environment's, or the best the CPU runs */
		name = getenv("DMAR_SIMD");
		if (!name || !*name) {
			*out = probe_default(v, n);
			return DMAR_OK;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i]->name, name) == 0) {
			*out = v[i];
			return DMAR_OK;
		}
	if (want != DMAR_SIMD_DEFAULT)
		return DMAR_E_NOT_SUPPORTED;
	*out = probe_default(v, n);
	fprintf(stderr, "dmar: DMAR_SIMD=%s is not available here; using %s\n", name,
		(*out)->name);
	return DMAR_OK;
}

const char *dmar_iotlb_simd(void)
{
	const struct dmar_probe_ops *ops = NULL;

	(void)dmar__probe_select(DMAR_SIMD_DEFAULT, &ops);
	return ops->name;
}
