/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "bench_env.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define G1 (1ull << 30)
#define SMALL_GIB 32ull
#define SMALL_COLD_GIB 16ull /* 32 MiB of last-level tables */

static dmar_status create_small(dmar_physmem **out)
{
	static const dmar_ram_range r[] = {
		{ .base = 4 * G1, .size = SMALL_GIB * G1 },
	};
	dmar_physmem_config cfg = { .ranges = r, .nranges = 1, .pa_bits = 46 };

	return dmar_physmem_create(&cfg, out);
}

int bench_env_init(struct bench_env *env, const char *prog)
{
	const char *small = getenv("DMAR_BENCH_SMALL");
	const char *cold_gib = getenv("DMAR_BENCH_COLD_GIB");
	dmar_status st = DMAR_E_INVALID;

	memset(env, 0, sizeof(*env));
	env->cold_bytes = 128 * G1;
	if (!(small && *small && strcmp(small, "0") != 0)) {
		dmar_physmem_config cfg;

		dmar_physmem_config_workstation(&cfg);
		st = dmar_physmem_create(&cfg, &env->pm);
		env->desc = "workstation (2 TiB, lazy)";
	}
	if (st != DMAR_OK) {
		if (!small)
			fprintf(stderr, "%s: workstation physmem: %s; using %llu GiB\n", prog,
				dmar_status_str(st), SMALL_GIB);
		st = create_small(&env->pm);
		env->desc = "small (32 GiB, lazy)";
		env->cold_bytes = SMALL_COLD_GIB * G1;
	}
	if (st != DMAR_OK) {
		fprintf(stderr, "%s: cannot create physical memory: %s\n", prog, dmar_status_str(st));
		return -1;
	}
	if (cold_gib) {
		unsigned long g = strtoul(cold_gib, NULL, 0);

		if (g < 1 || g > 512) {
			fprintf(stderr, "%s: DMAR_BENCH_COLD_GIB must be 1 .. 512\n", prog);
			dmar_physmem_destroy(env->pm);
			env->pm = NULL;
			return -1;
		}
		env->cold_bytes = g * G1;
	}
	return 0;
}
