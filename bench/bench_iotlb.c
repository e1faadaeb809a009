/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Nanoseconds per translation through the dmar IOTLB, side by side with two peer caches built
 * on the libraries their designs use (peers.h): "qemu" (GLib GHashTable keyed as QEMU's VT-d
 * IOTLB, one global mutex) and "rculfhash" (liburcu's lock-free cds_lfht).  All three cache
 * the same tables, get the same precomputed requests, walk with the same walker on a miss,
 * and hold the same number of entries (dmar_iotlb_config_default: 4096 sets x 8 ways).
 *
 *  iotlb/hit/small/...      256 contiguous pages, requested in a random order (all hits)
 *  iotlb/hit/large/...      16384 contiguous pages (64 MiB: fits the IOTLB; all hits)
 *  iotlb/hit/scattered/...  16384 pages scattered at random over 4 GiB (set conflicts)
 *  iotlb/hit/stride64k/...  16384 pages 64 KiB apart (the 128 GiB table of miss/cold)
 *  iotlb/hit/stride2m/...   16384 pages 2 MiB apart
 *  iotlb/hit/tile/...       16384 pages of a tiled surface's column: 4 consecutive pages (a
 *                           16 KiB tile row) every 256 KiB (the row pitch)
 *                           (the strided ones hit as the contiguous hit/large does when the
 *                           caches' index spreads strides: iotlb/cache.h)
 *  iotlb/miss/warm/...      random pages over 4 GiB of 4 KiB mappings (1 Mi pages, 32 times
 *                           the IOTLB; 8 MiB of last-level tables, which stay in the LLC)
 *  iotlb/miss/cold/...      random pages over 128 GiB of 4 KiB mappings (256 MiB of tables,
 *                           far beyond the LLC, as bench_walk's cold set)
 *  iotlb/probe/<variant>/<ws>/{dmar_batch/64,dmar_single}
 *                           hit/large and hit/scattered through an IOTLB created with each
 *                           probe variant this CPU runs (c, sse42, avx2, avx512)
 *  iotlb/writer/<ws>/<impl>/{idle,spin,busy}
 *                           one reader translating the hit working set <ws> (small, large)
 *                           idle:  alone;
 *                           busy:  while a writer thread on the other core maps and unmaps
 *                                  4 KiB pages of the same table (in a 2 MiB region outside
 *                                  the working set, whose table page stays) as fast as it
 *                                  can, each unmap invalidating the cache under test through
 *                                  the table's flush hook (dmar_space_invalidate_range(), or
 *                                  the peer's own page invalidation);
 *                           spin:  the control: the other core runs arithmetic that shares
 *                                  nothing, so busy/spin is the writer's own cost and
 *                                  spin/idle what a second busy core costs by itself.
 *
 * <impl>: dmar_batch/N  dmar_translate_batch() of N requests (N = 1 .. 256)
 *         dmar_single   dmar_translate(), one request per call
 *         qemu          peer_translate() on the QEMU-style peer, one at a time
 *         rculfhash     peer_translate() on the rculfhash peer, one at a time
 *         nocache_walk  (miss workloads) dmar_pgtable_walk() per request, no cache at all:
 *                       what a miss costs beyond the walk itself
 * Writer benchmarks use dmar_batch with N = 64 (named dmar_batch there).
 *
 * Counters: items_per_second counts translations; ns_per_xlate is the wall time per
 * translation of each translating thread, averaged over threads (per core); Mxlate_s_total is
 * the aggregate rate of all threads; hit_rate the fraction answered from the cache while
 * timed; writer_Mops_s the writer's map + unmap pairs (millions per second) meanwhile.
 * Each run of a benchmark empties the cache under test first (dmar: dmar_space_invalidate(),
 * a fresh ASID; peers: their invalidate-all) and, for the hit workloads, fills it with the
 * working set.
 *
 * Correctness, outside the timed loop: before timing, every benchmark translates (part of)
 * its request array and checks every result (pa = the mapped frame + offset, 4 KiB leaf, no
 * fault); in the loop the last result of every call is checked (cheap), and the last batch in
 * full afterwards.  A wrong translation fails the benchmark with the request and the result.
 *
 * Environment: DMAR_BENCH_SMALL=1 (32 GiB physical memory, 16 GiB cold range) and
 * DMAR_BENCH_COLD_GIB=N (1 .. 512) as bench_walk.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <dmar.h>
#include <dmar/pgtable.h>
#include <dmar/physmem.h>
#include <dmar/thread.h>

#include "bench.h"
#include "bench_env.h"
#include "peers.h"

#define K4 (1ull << 12)
#define G1 (1ull << 30)

#define IOVA_BASE (1ull << 40)   /* PML4 index 2: not the first entry of any level */
#define PA_BASE (4 * G1 + K4)    /* 4 KiB off every larger alignment: 4 KiB leaves only */
#define XLATE_DELTA ((uint64_t)(PA_BASE - IOVA_BASE)) /* pa = iova + XLATE_DELTA (mod 2^64) everywhere */
#define IOVA_OFFSET 0x40u        /* byte offset inside the page: must come back in pa */
#define WARM_BYTES (4 * G1)      /* the table of the hit and miss/warm workloads */
#define SMALL_PAGES 256u
#define LARGE_PAGES 16384u
#define WR_IOVA (IOVA_BASE + 8 * G1) /* writer's 2 MiB region: outside every working set */
#define WR_PA (PA_BASE + 64 * G1)
#define WR_PAGES 512u            /* page 0 stays mapped (keeps the table page), 1..511 churn */
#define VERIFY_MAX 65536u        /* requests checked before each timed run */
#define MAX_BATCH 256
#define INNER 64                 /* translations per bench_keep_running_batch() at least */

static dmar_physmem *g_pm;
static uint64_t g_cold_bytes = 128 * G1;

/* IMPL_WALK (no cache: dmar_pgtable_walk() per request) is the miss workloads' baseline. */
enum impl { IMPL_DMAR_BATCH, IMPL_DMAR_SINGLE, IMPL_QEMU, IMPL_LFHT, IMPL_COUNT,
	    IMPL_WALK = IMPL_COUNT, IMPL_ALL };
static const char *const impl_name[IMPL_COUNT + 1] = { "dmar_batch", "dmar_single", "qemu",
						       "rculfhash", "nocache_walk" };

/* ---- tables and caches ------------------------------------------------------------------- */

struct table {
	const char *name;
	uint64_t bytes;       /* mapped from IOVA_BASE with 4 KiB leaves */
	int writer_region;    /* also map the writer's anchor page */
	uint32_t asid;        /* the peers' ASID for this table */
	bench_fixture once;   /* built on first use (table_build()) */
	char err[160];
	dmar_pgtable *pt;
	dmar_pa_t root;
	const dmar_pt_format *fmt;
	dmar_iotlb *tlb;
	dmar_space *sp;
	peer *peers[PEER_KIND_COUNT];
	int flush_target;     /* enum impl, or IMPL_ALL: which cache the flush hook invalidates */
};

static struct table g_warm = { .name = "warm", .writer_region = 1, .asid = 1,
			       .once = BENCH_FIXTURE_INIT, .flush_target = IMPL_ALL };
static struct table g_cold = { .name = "cold", .asid = 2, .once = BENCH_FIXTURE_INIT,
			       .flush_target = IMPL_ALL };

static peer *impl_peer(const struct table *t, int impl)
{
	return impl == IMPL_QEMU ? t->peers[PEER_QEMU] : t->peers[PEER_RCULFHASH];
}

/* The table's flush hook (called by unmap with the table's writer lock held). */
static void table_flush(void *ctx, dmar_iova_t iova, uint64_t size)
{
	struct table *t = ctx;
	const int target = __atomic_load_n(&t->flush_target, __ATOMIC_ACQUIRE);

	if (target == IMPL_ALL || target == IMPL_DMAR_BATCH || target == IMPL_DMAR_SINGLE)
		(void)dmar_space_invalidate_range(t->sp, iova, size);
	if (target == IMPL_ALL || target == IMPL_QEMU)
		peer_invalidate_range(t->peers[PEER_QEMU], t->asid, iova, size);
	if (target == IMPL_ALL || target == IMPL_LFHT)
		peer_invalidate_range(t->peers[PEER_RCULFHASH], t->asid, iova, size);
}

static int table_fail(struct table *t, const char *what, dmar_status st)
{
	snprintf(t->err, sizeof(t->err), "%s table: %s: %s", t->name, what, dmar_status_str(st));
	return -1;
}

static int table_build(void *arg)
{
	struct table *t = arg;
	const unsigned prot = DMAR_PROT_READ | DMAR_PROT_WRITE;
	dmar_iotlb_config tc;
	dmar_pgtable_config cfg;
	dmar_status st;

	dmar_pgtable_config_default(&cfg);
	st = dmar_pgtable_create(g_pm, &cfg, &t->pt);
	if (st != DMAR_OK)
		return table_fail(t, "dmar_pgtable_create", st);
	/* one call: pa is 4 KiB aligned only, so every leaf is a 4 KiB one */
	st = dmar_pgtable_map(t->pt, IOVA_BASE, PA_BASE, t->bytes, prot);
	if (st != DMAR_OK)
		return table_fail(t, "dmar_pgtable_map", st);
	if (t->writer_region) {
		st = dmar_pgtable_map(t->pt, WR_IOVA, WR_PA, K4, prot);
		if (st != DMAR_OK)
			return table_fail(t, "dmar_pgtable_map (writer anchor)", st);
	}
	t->root = dmar_pgtable_root(t->pt);
	t->fmt = dmar_pgtable_format(t->pt);

	dmar_iotlb_config_default(&tc);
	st = dmar_iotlb_create(&tc, &t->tlb);
	if (st != DMAR_OK)
		return table_fail(t, "dmar_iotlb_create", st);
	st = dmar_space_create(t->tlb, g_pm, t->root, t->fmt, &t->sp);
	if (st != DMAR_OK)
		return table_fail(t, "dmar_space_create", st);
	for (int k = 0; k < PEER_KIND_COUNT; k++) {
		t->peers[k] = peer_create((peer_kind)k, (size_t)tc.sets * tc.ways);
		if (!t->peers[k])
			return table_fail(t, "peer_create", DMAR_E_NOMEM);
	}
	dmar_pgtable_set_flush(t->pt, table_flush, t);
	return 0;
}

static void table_free(struct table *t)
{
	for (int k = 0; k < PEER_KIND_COUNT; k++) {
		peer_destroy(t->peers[k]);
		t->peers[k] = NULL;
	}
	dmar_space_destroy(t->sp);
	(void)dmar_iotlb_destroy(t->tlb);
	dmar_pgtable_destroy(t->pt);
	t->sp = NULL;
	t->tlb = NULL;
	t->pt = NULL;
	bench_fixture_reset(&t->once);
}

/* ---- workloads: precomputed requests ----------------------------------------------------- */

struct workload {
	const char *name;
	struct table *t;
	int hit;              /* warm the cache before timing: every request should hit */
	int scattered;        /* working-set pages at random over the table, not contiguous */
	uint32_t stride;      /* else, with stride > 0: runs of @run pages @stride pages apart */
	uint32_t run;
	uint32_t ws;          /* working-set pages; 0 = every page of the table */
	uint32_t norder;      /* requests (a power of two) */
	bench_fixture once;   /* built on first use (workload_build()) */
	char err[160];
	uint32_t npages;      /* working-set pages */
	uint32_t *pages;      /* page numbers (from IOVA_BASE) of the working set */
	dmar_request *req;    /* norder random requests over the working set */
};

enum { WL_SMALL, WL_LARGE, WL_SCATTERED, WL_STRIDE64K, WL_STRIDE2M, WL_TILE, WL_WARM, WL_COLD,
       WL_COUNT };
static struct workload g_wl[WL_COUNT] = {
	[WL_SMALL] = { .name = "hit/small", .t = &g_warm, .hit = 1, .ws = SMALL_PAGES,
		       .norder = 1u << 12, .once = BENCH_FIXTURE_INIT },
	[WL_LARGE] = { .name = "hit/large", .t = &g_warm, .hit = 1, .ws = LARGE_PAGES,
		       .norder = 1u << 16, .once = BENCH_FIXTURE_INIT },
	[WL_SCATTERED] = { .name = "hit/scattered", .t = &g_warm, .hit = 1, .scattered = 1,
			   .ws = LARGE_PAGES, .norder = 1u << 16,
			   .once = BENCH_FIXTURE_INIT },
	[WL_STRIDE64K] = { .name = "hit/stride64k", .t = &g_cold, .hit = 1, .stride = 16, .run = 1,
			   .ws = LARGE_PAGES, .norder = 1u << 16, .once = BENCH_FIXTURE_INIT },
	[WL_STRIDE2M] = { .name = "hit/stride2m", .t = &g_cold, .hit = 1, .stride = 512, .run = 1,
			  .ws = LARGE_PAGES, .norder = 1u << 16, .once = BENCH_FIXTURE_INIT },
	[WL_TILE] = { .name = "hit/tile", .t = &g_cold, .hit = 1, .stride = 64, .run = 4,
		      .ws = LARGE_PAGES, .norder = 1u << 16, .once = BENCH_FIXTURE_INIT },
	[WL_WARM] = { .name = "miss/warm", .t = &g_warm, .norder = 1u << 20,
		      .once = BENCH_FIXTURE_INIT },
	[WL_COLD] = { .name = "miss/cold", .t = &g_cold, .norder = 1u << 20,
		      .once = BENCH_FIXTURE_INIT },
};

/* xorshift64*: a fixed, cheap pseudo-random sequence. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

/* A read request (no PASID: spaces ignore it). */
static void make_req(dmar_request *r, dmar_iova_t iova)
{
	memset(r, 0, sizeof(*r));
	r->iova = iova;
	r->access = DMAR_ACCESS_READ;
#ifdef DMAR_NO_PASID
	r->pasid = DMAR_NO_PASID;
#endif
}

static int workload_build(void *arg)
{
	struct workload *w = arg;
	const uint64_t tpages = w->t->bytes / K4;
	uint64_t seed = 0x9e3779b97f4a7c15ull ^ (uint64_t)(w - g_wl) * 0x100000001b3ull;

	w->npages = w->ws ? w->ws : (uint32_t)tpages;
	if (w->npages > tpages) {
		snprintf(w->err, sizeof(w->err), "%s: working set beyond the table", w->name);
		return -1;
	}
	w->req = malloc((size_t)w->norder * sizeof(w->req[0]));
	w->pages = malloc((size_t)w->npages * sizeof(w->pages[0]));
	if (!w->req || !w->pages) {
		snprintf(w->err, sizeof(w->err), "%s: out of memory", w->name);
		return -1;
	}
	if (w->scattered) {
		/* distinct random pages: a bitmap of the ones taken */
		uint64_t *taken = calloc((tpages + 63) / 64, 8);

		if (!taken) {
			snprintf(w->err, sizeof(w->err), "%s: out of memory", w->name);
			return -1;
		}
		for (uint32_t i = 0; i < w->npages;) {
			const uint64_t p = rnd(&seed) % tpages;

			if (taken[p / 64] >> (p % 64) & 1)
				continue;
			taken[p / 64] |= 1ull << (p % 64);
			w->pages[i++] = (uint32_t)p;
		}
		free(taken);
	} else if (w->stride) {
		/* (a smaller cold table, DMAR_BENCH_SMALL or DMAR_BENCH_COLD_GIB, holds fewer) */
		if ((uint64_t)w->npages / w->run * w->stride > tpages)
			w->npages = (uint32_t)(tpages / w->stride * w->run);
		for (uint32_t i = 0; i < w->npages; i++)
			w->pages[i] = i / w->run * w->stride + i % w->run;
	} else {
		for (uint32_t i = 0; i < w->npages; i++)
			w->pages[i] = i;
	}
	for (uint32_t i = 0; i < w->norder; i++) {
		const uint32_t p = w->pages[rnd(&seed) % w->npages];

		make_req(&w->req[i], IOVA_BASE + (uint64_t)p * K4 + IOVA_OFFSET);
	}
	return 0;
}

/* The workload and its table, built on first use; 0, or -1 with the reason in *@err. */
static int workload_get(struct workload *w, const char **err)
{
	if (bench_fixture_get(&w->t->once, table_build, w->t) != 0) {
		*err = w->t->err;
		return -1;
	}
	*err = w->err;
	return bench_fixture_get(&w->once, workload_build, w);
}

static void workload_free(struct workload *w)
{
	free(w->req);
	free(w->pages);
	w->req = NULL;
	w->pages = NULL;
	bench_fixture_reset(&w->once);
}

/* ---- one translation path, the same for warm-up, checks and the timed loop ---------------- */

struct ctx {
	const struct workload *w;
	struct table *t;
	int impl;
	int batch;
	dmar_simd simd; /* the dmar IOTLB's probe variant (::DMAR_SIMD_DEFAULT: the default) */
	peer *p;
	char err[200];
};

/* The baseline: a walk of the table for every request, no cache. */
static inline dmar_status walk_xlate(const dmar_pgtable *pt, dmar_iova_t iova, unsigned access,
				     dmar_result *res)
{
	dmar_walk_result wr;
	const dmar_status st = dmar_pgtable_walk(pt, iova, access, &wr);

	res->pa = wr.pa;
	res->fault = (uint8_t)wr.fault;
	res->page_lg2 = wr.page_lg2;
	res->prot = wr.prot;
	res->flags = 0;
	return st;
}

/* Translate req[0 .. n) (n <= MAX_BATCH for batches); status of the first failure or DMAR_OK. */
static dmar_status xlate(const struct ctx *c, const dmar_request *req, dmar_result *res, size_t n)
{
	const struct table *t = c->t;
	dmar_status st, first = DMAR_OK;

	switch (c->impl) {
	case IMPL_DMAR_BATCH:
		return dmar_translate_batch(t->sp, req, res, n, NULL);
	case IMPL_WALK:
		for (size_t i = 0; i < n; i++) {
			st = walk_xlate(t->pt, req[i].iova, req[i].access, &res[i]);
			if (st != DMAR_OK && first == DMAR_OK)
				first = st;
		}
		return first;
	case IMPL_DMAR_SINGLE:
		for (size_t i = 0; i < n; i++) {
			st = dmar_translate(t->sp, req[i].iova, req[i].access, &res[i]);
			if (st != DMAR_OK && first == DMAR_OK)
				first = st;
		}
		return first;
	default:
		for (size_t i = 0; i < n; i++) {
			st = peer_translate(c->p, g_pm, t->root, t->fmt, t->asid, req[i].iova,
					    req[i].access, &res[i]);
			if (st != DMAR_OK && first == DMAR_OK)
				first = st;
		}
		return first;
	}
}

/* Check results against the mapping; on the first wrong one describe it in c->err. */
static int check(struct ctx *c, const dmar_request *req, const dmar_result *res, size_t n,
		 uint64_t *hits)
{
	for (size_t i = 0; i < n; i++) {
		const dmar_result *r = &res[i];

		if (r->pa != req[i].iova + XLATE_DELTA || r->fault != DMAR_FAULT_NONE ||
		    r->page_lg2 != 12 || !(r->prot & DMAR_PROT_READ)) {
			snprintf(c->err, sizeof(c->err),
				 "%s/%s: iova %#" PRIx64 " -> pa %#" PRIx64
				 " fault %u lg2 %u prot %#x flags %#x, want pa %#" PRIx64
				 " (4 KiB, no fault)",
				 c->w->name, impl_name[c->impl], req[i].iova, r->pa, r->fault,
				 r->page_lg2, r->prot, r->flags, req[i].iova + XLATE_DELTA);
			return -1;
		}
		if (hits)
			*hits += r->flags & DMAR_RESULT_HIT;
	}
	return 0;
}

/* Translate and check req[0 .. n) in chunks. */
static int xlate_check(struct ctx *c, const dmar_request *req, size_t n, uint64_t *hits)
{
	dmar_result res[MAX_BATCH];

	for (size_t i = 0; i < n; i += MAX_BATCH) {
		const size_t m = n - i < MAX_BATCH ? n - i : MAX_BATCH;
		const dmar_status st = xlate(c, req + i, res, m);

		if (check(c, req + i, res, m, hits) != 0)
			return -1;
		if (st != DMAR_OK) {
			snprintf(c->err, sizeof(c->err), "%s/%s: %s", c->w->name, impl_name[c->impl],
				 dmar_status_str(st));
			return -1;
		}
	}
	return 0;
}

/* Empty the cache under test, then (hit workloads) fill it with every working-set page. */
/* A fresh, empty cache of the kind under test, so that every run of every implementation
 * starts from the same state (a GHashTable keeps its grown bucket arrays after remove_all,
 * and retired ASIDs keep their IOTLB ways until evicted).  No thread translates meanwhile. */
static int reset_cache(struct ctx *c)
{
	struct table *t = c->t;
	dmar_iotlb_config tc;
	dmar_status st;

	dmar_iotlb_config_default(&tc);
	tc.simd = c->simd;
	if (c->impl == IMPL_DMAR_BATCH || c->impl == IMPL_DMAR_SINGLE) {
		dmar_space_destroy(t->sp);
		t->sp = NULL;
		st = dmar_iotlb_destroy(t->tlb);
		t->tlb = NULL;
		if (st == DMAR_OK)
			st = dmar_iotlb_create(&tc, &t->tlb);
		if (st == DMAR_OK)
			st = dmar_space_create(t->tlb, g_pm, t->root, t->fmt, &t->sp);
		if (st != DMAR_OK) {
			snprintf(c->err, sizeof(c->err), "recreating the IOTLB: %s",
				 dmar_status_str(st));
			return -1;
		}
	} else if (c->impl == IMPL_QEMU || c->impl == IMPL_LFHT) {
		const peer_kind k = c->impl == IMPL_QEMU ? PEER_QEMU : PEER_RCULFHASH;

		peer_destroy(t->peers[k]);
		t->peers[k] = peer_create(k, (size_t)tc.sets * tc.ways);
		if (!t->peers[k]) {
			snprintf(c->err, sizeof(c->err), "recreating the %s peer: out of memory",
				 peer_kind_name(k));
			return -1;
		}
	}
	return 0;
}

/* Fill the cache under test with every working-set page (hit workloads). */
static int warm(struct ctx *c)
{
	const struct workload *w = c->w;
	dmar_request req[MAX_BATCH];

	if (!w->hit)
		return 0;
	for (int pass = 0; pass < 2; pass++)
		for (uint32_t i = 0; i < w->npages; i += MAX_BATCH) {
			const uint32_t m = w->npages - i < MAX_BATCH ? w->npages - i : MAX_BATCH;

			for (uint32_t j = 0; j < m; j++)
				make_req(&req[j], IOVA_BASE + (uint64_t)w->pages[i + j] * K4);
			if (xlate_check(c, req, m, NULL) != 0)
				return -1;
		}
	return 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t dmar_hits(const struct table *t, uint64_t *xlates)
{
	dmar_iotlb_stats s;

	dmar_iotlb_get_stats(t->tlb, &s);
	*xlates = s.translations;
	return s.hits;
}

/* Where thread @tidx starts in the request array (a multiple of MAX_BATCH). */
static uint32_t loop_start(const struct workload *w, int tidx)
{
	return ((uint32_t)tidx * (w->norder / 2 + 4096)) & (w->norder - 1) & ~(uint32_t)(MAX_BATCH - 1);
}

struct loop_out {
	uint64_t items, ns, hits, bad, fails;
	uint64_t last_k; /* index of the last call's first request */
	size_t last_n;
};

/* The timed loop.  Each implementation is its own instantiation (no run-time dispatch in
 * the loop).  k walks the request array from a per-thread start; every call's last result
 * is checked against the mapping (a load, an add and an xor). */
static inline __attribute__((always_inline)) void
timed_loop(bench_state *st, struct ctx *c, int impl, dmar_result *res, struct loop_out *o)
{
	const struct table *t = c->t;
	const dmar_request *req = c->w->req;
	const uint32_t mask = c->w->norder - 1;
	const size_t n = impl == IMPL_DMAR_BATCH ? (size_t)c->batch : 1;
	const int calls = n >= INNER ? 1 : (int)(INNER / n);
	const int64_t step = (int64_t)n * calls;
	dmar_space *sp = t->sp;
	peer *p = c->p;
	const dmar_physmem *pm = g_pm;
	const dmar_pa_t root = t->root;
	const dmar_pt_format *fmt = t->fmt;
	const uint32_t asid = t->asid;
	uint64_t k = loop_start(c->w, bench_thread_index(st));
	uint64_t bad = 0, fails = 0, hits = 0, t0 = 0, last_k = k;

	if (bench_keep_running_batch(st, step)) {
		t0 = now_ns();
		do {
			for (int i = 0; i < calls; i++) {
				dmar_status s;

				last_k = k;
				if (impl == IMPL_DMAR_BATCH) {
					s = dmar_translate_batch(sp, req + k, res, n, NULL);
				} else if (impl == IMPL_DMAR_SINGLE) {
					s = dmar_translate(sp, req[k].iova, DMAR_ACCESS_READ, res);
				} else if (impl == IMPL_WALK) {
					s = walk_xlate(t->pt, req[k].iova, DMAR_ACCESS_READ, res);
				} else {
					s = peer_translate(p, pm, root, fmt, asid, req[k].iova,
							   DMAR_ACCESS_READ, res);
					hits += res[0].flags & DMAR_RESULT_HIT;
				}
				fails |= (uint64_t)s;
				bad |= res[n - 1].pa ^ (req[k + n - 1].iova + XLATE_DELTA);
				k = (k + n) & mask;
			}
		} while (bench_keep_running_batch(st, step));
		o->ns = now_ns() - t0;
	}
	o->items = (uint64_t)bench_iterations_done(st);
	o->hits = hits;
	o->bad = bad;
	o->fails = fails;
	o->last_k = last_k;
	o->last_n = n;
}

static void loop_batch(bench_state *st, struct ctx *c, dmar_result *res, struct loop_out *o)
{
	timed_loop(st, c, IMPL_DMAR_BATCH, res, o);
}

static void loop_single(bench_state *st, struct ctx *c, dmar_result *res, struct loop_out *o)
{
	timed_loop(st, c, IMPL_DMAR_SINGLE, res, o);
}

static void loop_peer(bench_state *st, struct ctx *c, dmar_result *res, struct loop_out *o)
{
	timed_loop(st, c, IMPL_QEMU, res, o); /* either peer: c->p */
}

static void loop_walk(bench_state *st, struct ctx *c, dmar_result *res, struct loop_out *o)
{
	timed_loop(st, c, IMPL_WALK, res, o);
}

/* ---- the writer ------------------------------------------------------------------------ */

/* On a block of its own (two lines: the adjacent-line prefetcher pairs them): it lives on the
 * reader's stack, and the count the writer stores after every map + unmap pair would
 * otherwise take the line of whatever reader state sits beside it, so that the readers would
 * pay for false sharing on top of what the writer's work costs them. */
struct writer {
	struct table *t;
	pthread_t thread;
	int stop;         /* atomic */
	uint64_t ops;     /* atomic: map + unmap pairs done (spin: rounds of the loop) */
	dmar_status err;  /* first failure */
} __attribute__((aligned(128)));

/* The control: the other core busy with arithmetic on its own registers, sharing nothing
 * (what two busy cores cost by themselves: clocks, shared caches, SMT siblings). */
static void *spinner_main(void *arg)
{
	struct writer *wr = arg;
	uint64_t ops = 0, x = 1;

	while (!__atomic_load_n(&wr->stop, __ATOMIC_ACQUIRE)) {
		for (int i = 0; i < 256; i++)
			x = x * 6364136223846793005ull + 1442695040888963407ull;
		BENCH_USE(x);
		__atomic_store_n(&wr->ops, ++ops, __ATOMIC_RELEASE);
	}
	return NULL;
}

static void *writer_main(void *arg)
{
	struct writer *wr = arg;
	const unsigned prot = DMAR_PROT_READ | DMAR_PROT_WRITE;
	uint64_t ops = 0;

	dmar_thread_register();
	peer_thread_register();
	while (!__atomic_load_n(&wr->stop, __ATOMIC_ACQUIRE)) {
		const uint64_t page = 1 + ops % (WR_PAGES - 1);
		dmar_status s;

		s = dmar_pgtable_map(wr->t->pt, WR_IOVA + page * K4, WR_PA + page * K4, K4, prot);
		if (s == DMAR_OK)
			s = dmar_pgtable_unmap(wr->t->pt, WR_IOVA + page * K4, K4, NULL);
		if (s != DMAR_OK) {
			__atomic_store_n(&wr->err, s, __ATOMIC_RELEASE);
			break;
		}
		__atomic_store_n(&wr->ops, ++ops, __ATOMIC_RELEASE);
	}
	peer_thread_unregister();
	dmar_thread_unregister();
	return NULL;
}

/* ---- benchmark functions --------------------------------------------------------------- */

enum wstate { W_IDLE, W_SPIN, W_BUSY, W_COUNT };

struct bcase {
	bench_barrier bar; /* the run's threads meet here */
	int failed;        /* thread 0 could not set the run up: every thread skips it */
	struct workload *w;
	int impl;
	int batch;   /* dmar_batch: requests per call (bench_range(0) when registered with args) */
	int writer;  /* 0: not a writer benchmark; else 1 + enum wstate */
	dmar_simd simd; /* dmar: the IOTLB's probe variant (0: the default) */
};

static void run_case(bench_state *st, struct bcase *bc)
{
	struct ctx c = { .w = bc->w, .t = bc->w->t, .impl = bc->impl, .simd = bc->simd };
	dmar_result res[MAX_BATCH] __attribute__((aligned(64)));
	struct loop_out o = { 0 };
	struct writer wr = { 0 };
	uint64_t x0 = 0, x1 = 0, h0 = 0, h1 = 0, ops0 = 0, ops1 = 0, w_t0 = 0;
	const char *err;
	const int tidx = bench_thread_index(st);
	const int nthreads = bench_threads_count(st);
	int writer_started = 0;

	if (workload_get(bc->w, &err) != 0) {
		bench_skip_with_error(st, err);
		return;
	}
	c.batch = bc->impl == IMPL_DMAR_BATCH ? (bc->batch ? bc->batch : (int)bench_range(st, 0)) : 1;
	if (c.batch < 1 || c.batch > MAX_BATCH) {
		bench_skip_with_error(st, "batch size out of range");
		return;
	}
	/* Thread 0 makes a fresh cache and warms it while the others wait; then every thread
	 * checks its requests.  (A failure in thread 0 must still meet the others.) */
	bench_barrier_wait(&bc->bar, nthreads);
	if (tidx == 0) {
		if (reset_cache(&c) == 0) {
			if (bc->impl == IMPL_QEMU || bc->impl == IMPL_LFHT)
				c.p = impl_peer(c.t, bc->impl);
			if (warm(&c) != 0)
				bc->failed = 1;
		} else {
			bc->failed = 1;
		}
	}
	bench_barrier_wait(&bc->bar, nthreads);
	if (bc->failed) {
		bench_skip_with_error(st, tidx == 0 ? c.err : "thread 0 could not set up");
		return;
	}
	if (bc->impl == IMPL_QEMU || bc->impl == IMPL_LFHT)
		c.p = impl_peer(c.t, bc->impl);
	{
		/* the nv requests just before where this thread's timed loop starts: a miss
		 * workload meets them again only after going round the whole array */
		const uint32_t mask = c.w->norder - 1;
		const uint32_t nv = c.w->norder < VERIFY_MAX ? c.w->norder : VERIFY_MAX;
		const uint32_t start = (loop_start(c.w, tidx) - nv) & mask;
		const uint32_t nfirst = nv < c.w->norder - start ? nv : c.w->norder - start;

		if (xlate_check(&c, c.w->req + start, nfirst, NULL) != 0 ||
		    xlate_check(&c, c.w->req, nv - nfirst, NULL) != 0) {
			bench_skip_with_error(st, c.err);
			return;
		}
	}
	if (bc->writer == 1 + W_BUSY || bc->writer == 1 + W_SPIN) {
		const int busy = bc->writer == 1 + W_BUSY;

		wr.t = c.t;
		if (busy)
			__atomic_store_n(&c.t->flush_target, bc->impl, __ATOMIC_RELEASE);
		if (pthread_create(&wr.thread, NULL, busy ? writer_main : spinner_main, &wr) != 0) {
			__atomic_store_n(&c.t->flush_target, IMPL_ALL, __ATOMIC_RELEASE);
			bench_skip_with_error(st, "cannot start the writer thread");
			return;
		}
		writer_started = 1;
		while (__atomic_load_n(&wr.ops, __ATOMIC_ACQUIRE) == 0 &&
		       __atomic_load_n(&wr.err, __ATOMIC_ACQUIRE) == DMAR_OK)
			;
	}

	if (bc->impl == IMPL_DMAR_BATCH || bc->impl == IMPL_DMAR_SINGLE)
		h0 = dmar_hits(c.t, &x0);
	ops0 = __atomic_load_n(&wr.ops, __ATOMIC_ACQUIRE);
	w_t0 = now_ns();
	if (bc->impl == IMPL_DMAR_BATCH)
		loop_batch(st, &c, res, &o);
	else if (bc->impl == IMPL_DMAR_SINGLE)
		loop_single(st, &c, res, &o);
	else if (bc->impl == IMPL_WALK)
		loop_walk(st, &c, res, &o);
	else
		loop_peer(st, &c, res, &o);
	ops1 = __atomic_load_n(&wr.ops, __ATOMIC_ACQUIRE);
	{
		const uint64_t w_ns = now_ns() - w_t0;

		if (writer_started) {
			const int busy = bc->writer == 1 + W_BUSY;

			__atomic_store_n(&wr.stop, 1, __ATOMIC_RELEASE);
			pthread_join(wr.thread, NULL);
			__atomic_store_n(&c.t->flush_target, IMPL_ALL, __ATOMIC_RELEASE);
			if (wr.err != DMAR_OK) {
				snprintf(c.err, sizeof(c.err), "writer: %s", dmar_status_str(wr.err));
				bench_skip_with_error(st, c.err);
				return;
			}
			if (busy)
				bench_counter(st, "writer_Mops_s",
					      w_ns ? (double)(ops1 - ops0) * 1e3 / (double)w_ns : 0.0,
					      BENCH_CTR_DEFAULT);
		}
	}
	if (bc->impl == IMPL_DMAR_BATCH || bc->impl == IMPL_DMAR_SINGLE) {
		h1 = dmar_hits(c.t, &x1);
		o.hits = x1 > x0 ? h1 - h0 : 0;
		/* the counters are global: with several threads each sees (about) all of them */
		bench_counter(st, "hit_rate", x1 > x0 ? (double)(h1 - h0) / (double)(x1 - x0) : 0.0,
			      BENCH_CTR_AVG_THREADS);
	} else {
		bench_counter(st, "hit_rate", o.items ? (double)o.hits / (double)o.items : 0.0,
			      BENCH_CTR_AVG_THREADS);
	}

	/* The timed loop's last call in full (its results are still in res[]), and what the
	 * loop saw of the others. */
	if (o.items) {
		if (check(&c, c.w->req + o.last_k, res, o.last_n, NULL) != 0 || o.bad || o.fails) {
			if (!c.err[0])
				snprintf(c.err, sizeof(c.err),
					 "%s/%s: a timed translation was wrong (bad %#" PRIx64
					 ", status %#" PRIx64 ")",
					 c.w->name, impl_name[c.impl], o.bad, o.fails);
			bench_skip_with_error(st, c.err);
			return;
		}
	}
	bench_set_items_processed(st, (int64_t)o.items);
	if (o.ns && o.items) {
		bench_counter(st, "ns_per_xlate", (double)o.ns / (double)o.items,
			      BENCH_CTR_AVG_THREADS);
		bench_counter(st, "Mxlate_s_total", (double)o.items * 1e3 / (double)o.ns,
			      BENCH_CTR_DEFAULT);
	}
}

static void bm_case(bench_state *st, void *arg)
{
	const int was_registered = dmar_thread_registered();

	/* Google Benchmark's extra threads are new for each run: register them here and
	 * unregister before they exit. */
	if (!was_registered && dmar_thread_register() != DMAR_OK) {
		bench_skip_with_error(st, "dmar_thread_register failed");
		return;
	}
	peer_thread_register();
	run_case(st, arg);
	peer_thread_unregister();
	if (!was_registered)
		dmar_thread_unregister();
}

/* ---- registration ---------------------------------------------------------------------- */

#define MAX_CASES 128
static struct bcase g_cases[MAX_CASES];
static int g_ncases;

static struct bcase *new_case(struct workload *w, int impl, int batch, int writer)
{
	struct bcase *bc;

	if (g_ncases == MAX_CASES) {
		fprintf(stderr, "bench_iotlb: too many cases\n");
		abort();
	}
	bc = &g_cases[g_ncases++];
	bench_barrier_init(&bc->bar);
	bc->w = w;
	bc->impl = impl;
	bc->batch = batch;
	bc->writer = writer;
	return bc;
}

/* <prefix>/{dmar_batch/1..256, dmar_single, qemu, rculfhash[, nocache_walk]}, one thread;
 * then batch 64, single and the peers on two threads. */
static void register_xlate(struct workload *w, int sweep, int two_threads, int walk)
{
	char name[128];

	if (walk) {
		snprintf(name, sizeof(name), "iotlb/%s/%s", w->name, impl_name[IMPL_WALK]);
		bench_register(name, bm_case, new_case(w, IMPL_WALK, 0, 0));
	}
	snprintf(name, sizeof(name), "iotlb/%s/dmar_batch", w->name);
	if (sweep) {
		bench_def *b = bench_register(name, bm_case, new_case(w, IMPL_DMAR_BATCH, 0, 0));

		for (int n = 1; n <= MAX_BATCH; n *= 2)
			bench_arg(b, n);
	} else {
		bench_arg(bench_register(name, bm_case, new_case(w, IMPL_DMAR_BATCH, 0, 0)), 64);
	}
	for (int i = IMPL_DMAR_SINGLE; i < IMPL_COUNT; i++) {
		snprintf(name, sizeof(name), "iotlb/%s/%s", w->name, impl_name[i]);
		bench_register(name, bm_case, new_case(w, i, 0, 0));
	}
	if (!two_threads)
		return;
	snprintf(name, sizeof(name), "iotlb/%s/dmar_batch", w->name);
	bench_use_real_time(bench_threads(
		bench_arg(bench_register(name, bm_case, new_case(w, IMPL_DMAR_BATCH, 0, 0)), 64), 2));
	for (int i = IMPL_DMAR_SINGLE; i < IMPL_COUNT; i++) {
		snprintf(name, sizeof(name), "iotlb/%s/%s", w->name, impl_name[i]);
		bench_use_real_time(bench_threads(bench_register(name, bm_case, new_case(w, i, 0, 0)),
						  2));
	}
}

/* iotlb/probe/<variant>/<prefix>/{dmar_batch/64, dmar_single}: the same workload through an
 * IOTLB created with each probe variant this CPU runs (dmar_iotlb_config.simd), side by side
 * in one run: a variant becomes a default only where it does not lose to the one before it
 * (iotlb/probe.c). */
static void register_probes(struct workload *w)
{
	static const char *const names[DMAR_SIMD_COUNT] = { NULL, "c", "sse42", "avx2", "avx512" };
	char name[128];

	for (int k = DMAR_SIMD_C; k < DMAR_SIMD_COUNT; k++) {
		dmar_iotlb_config tc;
		dmar_iotlb *tlb = NULL;
		struct bcase *bc;

		dmar_iotlb_config_default(&tc);
		tc.simd = (dmar_simd)k;
		if (dmar_iotlb_create(&tc, &tlb) != DMAR_OK)
			continue; /* not on this CPU */
		(void)dmar_iotlb_destroy(tlb);
		snprintf(name, sizeof(name), "iotlb/probe/%s/%s/dmar_batch", names[k], w->name);
		bc = new_case(w, IMPL_DMAR_BATCH, 64, 0);
		bc->simd = (dmar_simd)k;
		bench_arg(bench_register(name, bm_case, bc), 64);
		snprintf(name, sizeof(name), "iotlb/probe/%s/%s/dmar_single", names[k], w->name);
		bc = new_case(w, IMPL_DMAR_SINGLE, 0, 0);
		bc->simd = (dmar_simd)k;
		bench_register(name, bm_case, bc);
	}
}

static void register_writer(struct workload *w, const char *ws)
{
	static const char *const state[W_COUNT] = { "idle", "spin", "busy" };
	char name[128];

	for (int i = 0; i < IMPL_COUNT; i++)
		for (int s = 0; s < W_COUNT; s++) {
			snprintf(name, sizeof(name), "iotlb/writer/%s/%s/%s", ws, impl_name[i],
				 state[s]);
			bench_use_real_time(bench_register(
				name, bm_case, new_case(w, i, i == IMPL_DMAR_BATCH ? 64 : 0, s + 1)));
		}
}

static void *noop_thread(void *arg)
{
	return arg;
}


int main(int argc, char **argv)
{
	struct bench_env env;
	const char *pm_desc;
	char buf[160];
	dmar_iotlb_config tc;
	int rc;

	if (bench_env_init(&env, "bench_iotlb") != 0)
		return 1;
	g_pm = env.pm;
	pm_desc = env.desc;
	g_cold_bytes = env.cold_bytes;
	g_warm.bytes = WARM_BYTES;
	g_cold.bytes = g_cold_bytes;

	dmar_iotlb_config_default(&tc);
	bench_add_context("dmar_rcu_flavor", dmar_rcu_flavor());
	bench_add_context("dmar_simd", dmar_iotlb_simd());
	bench_add_context("dmar_physmem", pm_desc);
	snprintf(buf, sizeof(buf), "%u sets x %u ways = %u entries (peers: the same capacity)",
		 tc.sets, tc.ways, tc.sets * tc.ways);
	bench_add_context("dmar_iotlb", buf);
	snprintf(buf, sizeof(buf), "%llu GiB of 4 KiB pages, %llu MiB of last-level tables",
		 (unsigned long long)(g_cold_bytes / G1),
		 (unsigned long long)(g_cold_bytes / K4 * 8 >> 20));
	bench_add_context("dmar_cold_range", buf);

	register_xlate(&g_wl[WL_SMALL], 1, 1, 0);
	register_xlate(&g_wl[WL_LARGE], 1, 1, 0);
	register_xlate(&g_wl[WL_SCATTERED], 0, 0, 0);
	register_xlate(&g_wl[WL_STRIDE64K], 0, 0, 0);
	register_xlate(&g_wl[WL_STRIDE2M], 0, 0, 0);
	register_xlate(&g_wl[WL_TILE], 0, 0, 0);
	register_xlate(&g_wl[WL_WARM], 1, 1, 1);
	register_xlate(&g_wl[WL_COLD], 1, 0, 1);
	register_probes(&g_wl[WL_LARGE]);
	register_probes(&g_wl[WL_SCATTERED]);
	register_writer(&g_wl[WL_SMALL], "small");
	register_writer(&g_wl[WL_LARGE], "large");

	/* Become a multi-threaded process before anything is measured, as every emulator is:
	 * glibc's locks skip their bus lock while a process has never had a second thread,
	 * which would make the QEMU-style peer's mutex cheaper in the runs that happen to
	 * come before the first threaded benchmark than in those after it. */
	{
		pthread_t th;

		if (pthread_create(&th, NULL, noop_thread, NULL) == 0)
			pthread_join(th, NULL);
	}

	rc = bench_main(argc, argv);

	/* Teardown from a registered thread (the rculfhash peer unlinks under a read lock). */
	dmar_thread_register();
	peer_thread_register();
	for (int i = 0; i < WL_COUNT; i++)
		workload_free(&g_wl[i]);
	table_free(&g_warm);
	table_free(&g_cold);
	peer_thread_unregister();
	dmar_thread_unregister();
	dmar_physmem_destroy(g_pm);
	return rc;
}
