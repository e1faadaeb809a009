/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Nanoseconds per page walk, per table format (x86-64 4-level and 5-level, and with
 * accessed/dirty updates; VT-d second stage 4-level; AMD-Vi v1 4-level and 6-level), warm and
 * cold.  The names: walk/<api>/<format>/<warm|cold>/<mode>, format L4 and L5 (x86-64),
 * L4-ad (x86-64 with DMAR_PT_AD: the bits are set by the first walk, so later ones check
 * them), vtd-L4, amd-L4, amd-L6.
 *
 *  warm: 64 pages inside one last-level table, walked in a random order: every table line
 *        is in L1, so this is the walker's own cost.
 *  cold: 4 KiB leaves packed densely over a large IOVA range (default 128 GiB: 256 MiB of
 *        last-level tables, every line of them a PTE in use) and walked at random addresses
 *        from a precomputed order, so the PTE line is almost never in the last-level cache
 *        (nor its host page in the TLB).  Dense packing matters: one page per 2 MiB would
 *        touch one 64-byte line per table page, a few MiB of lines that the LLC holds.
 *
 * Each case runs two ways:
 *  tput: the next walk's address does not depend on this walk, so the CPU overlaps the
 *        misses of consecutive walks (throughput, what a busy translator sustains);
 *  lat:  the next address depends on this walk's result, so walks run one after another
 *        (latency, what one DMA waits for).
 * "pgtable" is dmar_pgtable_walk() (registration check + RCU read section + walk); "raw" is
 * dmar_walk() on the same table (argument checks + walk, no RCU).
 *
 * Environment: DMAR_BENCH_SMALL=1 uses a 32 GiB physical memory (instead of the 2 TiB
 * workstation map, which valgrind cannot reserve; it is also the fallback when that fails)
 * and a 16 GiB cold range (32 MiB of tables: about the LLC, so "cold" is only cool there).
 * DMAR_BENCH_COLD_GIB=N sets the cold range (1 .. 512 GiB of IOVA, 2 MiB of tables each).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dmar/pgtable.h>
#include <dmar/physmem.h>
#include <dmar/thread.h>

#include "bench.h"
#include "bench_env.h"

#define K4 (1ull << 12)
#define M2 (1ull << 21)
#define G1 (1ull << 30)

#define IOVA_BASE (1ull << 40)     /* PML4 index 2: not the first entry of any level */
#define PA_BASE (4 * G1 + K4)      /* 4 KiB off every larger alignment: 4 KiB leaves only */
#define WARM_PAGES 64u             /* 256 KiB: 64 PTEs, 8 lines of one table page */
#define WARM_ORDER (1u << 12)      /* entries of the warm walk order (random pages of 64) */
#define COLD_ORDER (1u << 20)      /* entries of the cold walk order (4 MiB, streamed) */
#define BATCH 64                   /* walks per bench_keep_running_batch() call */
#define IOVA_OFFSET 0x40u          /* byte offset inside the page: the walker must keep it */

static dmar_physmem *g_pm;
static uint64_t g_cold_bytes = 128 * G1;

struct fixture {
	const char *name;
	unsigned kind, levels, flags;
	int cold;
	bench_fixture once; /* built on first use (build()) */
	dmar_pgtable *pt;
	uint64_t npages; /* pages mapped from IOVA_BASE */
	uint32_t *order; /* page numbers (from IOVA_BASE) in walk order */
	uint32_t norder; /* a power of two */
	char err[128];
};

#define FX(nm, k, l, f, c) { .name = nm, .kind = k, .levels = l, .flags = f, .cold = c, \
			    .once = BENCH_FIXTURE_INIT }
#define NFMT 6
static struct fixture g_fx[NFMT][2] = {
	{ FX("L4", DMAR_PT_X86_64, 4, 0, 0), FX("L4", DMAR_PT_X86_64, 4, 0, 1) },
	{ FX("L5", DMAR_PT_X86_64, 5, 0, 0), FX("L5", DMAR_PT_X86_64, 5, 0, 1) },
	{ FX("L4-ad", DMAR_PT_X86_64, 4, DMAR_PT_AD, 0), FX("L4-ad", DMAR_PT_X86_64, 4, DMAR_PT_AD, 1) },
	{ FX("vtd-L4", DMAR_PT_VTD_SS, 4, 0, 0), FX("vtd-L4", DMAR_PT_VTD_SS, 4, 0, 1) },
	{ FX("amd-L4", DMAR_PT_AMDV1, 4, 0, 0), FX("amd-L4", DMAR_PT_AMDV1, 4, 0, 1) },
	{ FX("amd-L6", DMAR_PT_AMDV1, 6, 0, 0), FX("amd-L6", DMAR_PT_AMDV1, 6, 0, 1) },
};

/* xorshift64*: a fixed, cheap pseudo-random sequence. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

static int fixture_fail(struct fixture *fx, const char *what, dmar_status st)
{
	snprintf(fx->err, sizeof(fx->err), "%s %s: %s: %s", fx->name,
		 fx->cold ? "cold" : "warm", what, dmar_status_str(st));
	return -1;
}

/* The table and walk order of @arg (a struct fixture), checked.  The caller is registered. */
static int build(void *arg)
{
	struct fixture *fx = arg;
	const unsigned prot = DMAR_PROT_READ | DMAR_PROT_WRITE;
	dmar_pgtable_config cfg;
	uint64_t seed = 0x9e3779b97f4a7c15ull ^ fx->levels ^ ((uint64_t)fx->cold << 8);
	dmar_status st;

	dmar_pgtable_config_default(&cfg);
	cfg.format.kind = fx->kind;
	cfg.format.levels = fx->levels;
	cfg.format.flags = fx->flags;
	cfg.pgsizes = 1ull << 12;
	st = dmar_pgtable_create(g_pm, &cfg, &fx->pt);
	if (st != DMAR_OK)
		return fixture_fail(fx, "dmar_pgtable_create", st);

	fx->npages = fx->cold ? g_cold_bytes / K4 : WARM_PAGES;
	/* One call: pa is 4 KiB aligned only, so every leaf is a 4 KiB one and every table
	 * line is filled. */
	st = dmar_pgtable_map(fx->pt, IOVA_BASE, PA_BASE, fx->npages * K4, prot);
	if (st != DMAR_OK)
		return fixture_fail(fx, "dmar_pgtable_map", st);

	fx->norder = fx->cold ? COLD_ORDER : WARM_ORDER;
	fx->order = malloc(fx->norder * sizeof(fx->order[0]));
	if (!fx->order)
		return fixture_fail(fx, "malloc", DMAR_E_NOMEM);
	for (uint32_t i = 0; i < fx->norder; i++)
		fx->order[i] = (uint32_t)(rnd(&seed) % fx->npages);

	/* Check what the benchmark will walk: right address, 4 KiB leaf. */
	for (uint32_t i = 0; i < fx->norder; i += fx->cold ? 61 : 1) {
		uint64_t off = (uint64_t)fx->order[i] * K4 + IOVA_OFFSET;
		dmar_walk_result r;

		st = dmar_pgtable_walk(fx->pt, IOVA_BASE + off, DMAR_ACCESS_READ, &r);
		if (st != DMAR_OK)
			return fixture_fail(fx, "dmar_pgtable_walk", st);
		if (r.pa != PA_BASE + off || r.page_lg2 != DMAR_PAGE_4K_LG2 || r.level != 1) {
			snprintf(fx->err, sizeof(fx->err),
				 "%s: iova %#llx -> pa %#llx (lg2 %u), want %#llx",
				 fx->name, (unsigned long long)(IOVA_BASE + off),
				 (unsigned long long)r.pa, r.page_lg2,
				 (unsigned long long)(PA_BASE + off));
			return -1;
		}
	}
	return 0;
}

static void fixture_free(struct fixture *fx)
{
	dmar_pgtable_destroy(fx->pt);
	free(fx->order);
	fx->pt = NULL;
	fx->order = NULL;
	bench_fixture_reset(&fx->once);
}

enum walk_api { API_PGTABLE, API_RAW };
enum walk_mode { MODE_TPUT, MODE_LAT };

struct walk_case {
	struct fixture *fx;
	enum walk_api api;
	enum walk_mode mode;
};

/* The timed loop, instantiated per (api, mode) so that neither is a run-time branch. */
static inline __attribute__((always_inline)) void
walk_loop(bench_state *st, const struct fixture *fx, enum walk_api api, enum walk_mode mode)
{
	const dmar_pgtable *pt = fx->pt;
	const dmar_physmem *pm = g_pm;
	const dmar_pa_t root = dmar_pgtable_root(pt);
	const dmar_pt_format *fmt = dmar_pgtable_format(pt);
	const uint32_t *order = fx->order;
	const uint32_t mask = fx->norder - 1;
	uint32_t k = ((uint32_t)bench_thread_index(st) * 7919u) & mask;
	uint64_t sink = 0;
	unsigned bad = 0;

	while (bench_keep_running_batch(st, BATCH)) {
		for (int i = 0; i < BATCH; i++) {
			const uint64_t iova = IOVA_BASE + ((uint64_t)order[k] << 12) + IOVA_OFFSET;
			dmar_walk_result r;
			dmar_status s;

			if (api == API_PGTABLE)
				s = dmar_pgtable_walk(pt, iova, DMAR_ACCESS_READ, &r);
			else
				s = dmar_walk(pm, root, fmt, iova, DMAR_ACCESS_READ, &r);
			bad |= (unsigned)s;
			sink += r.pa;
			/* lat: r.pa < 2^52, so the added term is 0, but the compiler cannot
			 * know it and the CPU must wait for the walk to compute it. */
			if (mode == MODE_LAT)
				k = (k + 1u + (uint32_t)(r.pa >> 63)) & mask;
			else
				k = (k + 1u) & mask;
		}
	}
	BENCH_USE(sink);
	if (bad)
		bench_skip_with_error(st, "a walk failed");
}

static void loop_pgtable_tput(bench_state *st, const struct fixture *fx)
{
	walk_loop(st, fx, API_PGTABLE, MODE_TPUT);
}

static void loop_pgtable_lat(bench_state *st, const struct fixture *fx)
{
	walk_loop(st, fx, API_PGTABLE, MODE_LAT);
}

static void loop_raw_tput(bench_state *st, const struct fixture *fx)
{
	walk_loop(st, fx, API_RAW, MODE_TPUT);
}

static void loop_raw_lat(bench_state *st, const struct fixture *fx)
{
	walk_loop(st, fx, API_RAW, MODE_LAT);
}

static void bm_walk(bench_state *st, void *arg)
{
	const struct walk_case *c = arg;
	const int was_registered = dmar_thread_registered();

	/* Google Benchmark's extra threads are new for each run: register them here (the
	 * table walk refuses unregistered threads) and unregister before they exit. */
	if (!was_registered && dmar_thread_register() != DMAR_OK) {
		bench_skip_with_error(st, "dmar_thread_register failed");
		return;
	}
	if (bench_fixture_get(&c->fx->once, build, c->fx) != 0) {
		bench_skip_with_error(st, c->fx->err);
	} else {
		if (c->api == API_PGTABLE)
			(c->mode == MODE_LAT ? loop_pgtable_lat : loop_pgtable_tput)(st, c->fx);
		else
			(c->mode == MODE_LAT ? loop_raw_lat : loop_raw_tput)(st, c->fx);
		bench_set_items_processed(st, bench_iterations_done(st));
		bench_counter(st, "tables_MiB",
			      (double)dmar_pgtable_table_pages(c->fx->pt) * (double)K4 / (1 << 20),
			      BENCH_CTR_AVG_THREADS);
	}
	if (!was_registered)
		dmar_thread_unregister();
}


int main(int argc, char **argv)
{
	static struct walk_case cases[2][NFMT][2][2];
	static const char *const api_name[] = { "pgtable", "raw" };
	static const char *const mode_name[] = { "tput", "lat" };
	struct bench_env env;
	const char *pm_desc;
	char buf[128];
	int rc;

	if (bench_env_init(&env, "bench_walk") != 0)
		return 1;
	g_pm = env.pm;
	pm_desc = env.desc;
	g_cold_bytes = env.cold_bytes;

	bench_add_context("dmar_rcu_flavor", dmar_rcu_flavor());
	bench_add_context("dmar_physmem", pm_desc);
	snprintf(buf, sizeof(buf), "%llu GiB of 4 KiB pages, %llu MiB of last-level tables",
		 (unsigned long long)(g_cold_bytes / G1),
		 (unsigned long long)(g_cold_bytes / K4 * 8 >> 20));
	bench_add_context("dmar_cold_range", buf);

	for (int a = 0; a < 2; a++)
		for (int l = 0; l < NFMT; l++)
			for (int c = 0; c < 2; c++)
				for (int m = 0; m < 2; m++) {
					struct walk_case *wc = &cases[a][l][c][m];

					wc->fx = &g_fx[l][c];
					wc->api = (enum walk_api)a;
					wc->mode = (enum walk_mode)m;
					snprintf(buf, sizeof(buf), "walk/%s/%s/%s/%s", api_name[a],
						 wc->fx->name, c ? "cold" : "warm", mode_name[m]);
					bench_register(buf, bm_walk, wc);
				}
	/* Two translators at once on one table: the RCU read side must not make them share
	 * a written line. */
	bench_use_real_time(bench_threads(
		bench_register("walk/pgtable/L4/warm/tput", bm_walk, &cases[0][0][0][0]), 2));

	rc = bench_main(argc, argv);

	for (int l = 0; l < NFMT; l++)
		for (int c = 0; c < 2; c++)
			fixture_free(&g_fx[l][c]);
	dmar_physmem_destroy(g_pm);
	return rc;
}
