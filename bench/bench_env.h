/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The simulated memory every engine benchmark runs on, chosen the same way everywhere:
 * the 2 TiB workstation map, or with DMAR_BENCH_SMALL=1 (and as the fallback when the host
 * cannot reserve 2 TiB, as under valgrind) 32 GiB at 4 GiB; DMAR_BENCH_COLD_GIB=N sets the
 * size of the cold working set (default 128 GiB, 16 GiB with the small map). */
#ifndef DMAR_BENCH_ENV_H
#define DMAR_BENCH_ENV_H

#include <stdint.h>

#include <dmar.h>

struct bench_env {
	dmar_physmem *pm;
	const char *desc;    /* for bench_add_context() */
	uint64_t cold_bytes; /* cold working set, in bytes */
};

/* Fills @env; 0, or -1 after a message on stderr naming @prog. */
int bench_env_init(struct bench_env *env, const char *prog);

#endif
