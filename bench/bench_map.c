/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Mapping, unmapping, domain switches and page-table memory.  The targets they are held to,
 * and the reference figures of Linux's in-kernel x86-64 page-table code those are set
 * against, are in docs/performance.md.
 *
 *  map/4k                 dmar_domain_map of one 4 KiB page, next page each time
 *  unmap/4k               dmar_domain_unmap of one 4 KiB page, IOTLB invalidation included
 *                         (the domain's flush hook runs before it returns)
 *  map/256x4k, unmap/256x4k   one call for 1 MiB of 4 KiB pages (256 PTEs of one table)
 *  switch/pages:N         begin_exclusive + switch_domain + end_exclusive on a device whose
 *                         domains each have N pages mapped (and cached in the IOTLB): O(1)
 *                         in N is the target (the same time within 2x at 1 K and 1 M)
 *  table_memory/...       page-table bytes per mapped byte for 4 KiB, 2 MiB and 1 GiB
 *                         mappings (counters; the time is the mapping of 1 GiB)
 *  flat/map/4k, flat/unmap/4k, flat/map/256x4k, flat/unmap/256x4k
 *                         the peer the mapping targets are ratios to: the same entries
 *                         written (a leaf entry's word, stored with release order; unmap
 *                         stores 0) into a flat array indexed by page number, with no table
 *                         to find, no lock and no invalidation: what mapping costs when it
 *                         costs nothing but its stores
 * Each timed loop maps (or unmaps) fresh pages; the undo runs with the timer paused, every
 * 4096 operations. */
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"
#include "bench_env.h"

#define K4 4096ull
#define MiB (1ull << 20)
#define GiB (1ull << 30)
#define ROUND 4096 /* operations between pauses */

static struct bench_env env;
static dmar_iommu *iommu;
static dmar_pa_t frames; /* 1 GiB of frames mapped over and over */

static dmar_domain *new_domain(unsigned pgsizes_mask_4k_only)
{
	dmar_pgtable_config pc;
	dmar_domain *d;

	dmar_pgtable_config_default(&pc);
	if (pgsizes_mask_4k_only)
		pc.pgsizes = 1ull << 12;
	if (dmar_domain_create(iommu, DMAR_DOMAIN_REMAPPED, &pc, &d) != DMAR_OK)
		abort();
	return d;
}

/* Map @arg's pages (1: map/4k, 256: map/256x4k) per call, the next range each time; 1 GiB
 * mapped, everything is unmapped with the timer paused and it starts over. */
static void bm_map(bench_state *st, void *arg)
{
	const uint64_t pages = *(const unsigned *)arg, slots = (GiB / K4) / pages;
	dmar_domain *d = new_domain(pages > 1);
	uint64_t i = 0;

	dmar_thread_register();
	while (bench_keep_running_batch(st, ROUND / (int64_t)pages)) {
		for (uint64_t k = 0; k < ROUND / pages; k++, i++)
			if (dmar_domain_map(d, GiB + (i % slots) * pages * K4,
					    frames + (pages == 1 ? (i % 4096) * K4 : 0), pages * K4,
					    DMAR_PROT_READ | DMAR_PROT_WRITE) != DMAR_OK) {
				bench_skip_with_error(st, "map failed");
				goto out;
			}
		if (i % slots == 0) {
			bench_pause_timing(st);
			(void)dmar_domain_unmap(d, GiB, GiB, NULL);
			bench_resume_timing(st);
		}
	}
out:
	bench_set_items_processed(st, bench_iterations_done(st));
	dmar_thread_unregister();
	(void)dmar_domain_destroy(d);
}

static void bm_unmap4k(bench_state *st, void *arg)
{
	dmar_domain *d = new_domain(1);
	dmar_device *dev;
	uint64_t i = 0;

	(void)arg;
	dmar_thread_register();
	/* attached, so that there is an IOTLB to invalidate, with its entries filled */
	if (dmar_device_create(iommu, 0x200, 48, &dev) != DMAR_OK || dmar_device_attach(dev, d) != DMAR_OK)
		abort();
	while (bench_keep_running_batch(st, ROUND)) {
		bench_pause_timing(st);
		if (dmar_domain_map(d, GiB, frames, ROUND * K4, DMAR_PROT_READ | DMAR_PROT_WRITE) != DMAR_OK)
			abort();
		for (uint64_t k = 0; k < ROUND; k += 64) {
			dmar_request q = { .iova = GiB + k * K4, .access = DMAR_ACCESS_READ,
					   .pasid = DMAR_NO_PASID };
			dmar_result r;

			(void)dmar_device_translate(dev, &q, &r);
		}
		bench_resume_timing(st);
		for (int k = 0; k < ROUND; k++, i++)
			(void)dmar_domain_unmap(d, GiB + (uint64_t)k * K4, K4, NULL);
	}
	bench_set_items_processed(st, bench_iterations_done(st));
	(void)dmar_device_destroy(dev);
	dmar_thread_unregister();
	(void)dmar_domain_destroy(d);
}

static void bm_unmap256(bench_state *st, void *arg)
{
	dmar_domain *d = new_domain(1);

	(void)arg;
	dmar_thread_register();
	while (bench_keep_running_batch(st, 256)) {
		bench_pause_timing(st);
		for (int k = 0; k < 256; k++)
			if (dmar_domain_map(d, GiB + (uint64_t)k * MiB, frames, MiB,
					    DMAR_PROT_READ | DMAR_PROT_WRITE) != DMAR_OK)
				abort();
		bench_resume_timing(st);
		for (int k = 0; k < 256; k++)
			(void)dmar_domain_unmap(d, GiB + (uint64_t)k * MiB, MiB, NULL);
	}
	bench_set_items_processed(st, bench_iterations_done(st));
	dmar_thread_unregister();
	(void)dmar_domain_destroy(d);
}

/* Two domains with N pages each, both cached; switch back and forth under exclusive access. */
static void bm_switch(bench_state *st, void *arg)
{
	uint64_t n = (uint64_t)bench_range(st, 0);
	dmar_domain *a = new_domain(1), *b = new_domain(1), *cur;
	dmar_device *dev;

	(void)arg;
	dmar_thread_register();
	if (dmar_device_create(iommu, 0x300, 48, &dev) != DMAR_OK)
		abort();
	for (int w = 0; w < 2; w++) {
		dmar_domain *d = w ? b : a;

		for (uint64_t k = 0; k < n; k += 4096) {
			uint64_t m = n - k < 4096 ? n - k : 4096;

			if (dmar_domain_map(d, GiB + k * K4, frames, m * K4, DMAR_PROT_READ) != DMAR_OK)
				abort();
		}
		if (dmar_device_attach(dev, d) != DMAR_OK)
			abort();
		for (uint64_t k = 0; k < n && k < 32768; k++) { /* fill the IOTLB */
			dmar_request q = { .iova = GiB + k * K4, .access = DMAR_ACCESS_READ,
					   .pasid = DMAR_NO_PASID };
			dmar_result r;

			(void)dmar_device_translate(dev, &q, &r);
		}
		if (!w)
			(void)dmar_device_detach(dev);
	}
	cur = b;
	dmar_thread_offline();
	while (bench_keep_running(st)) {
		cur = cur == a ? b : a;
		if (dmar_device_begin_exclusive(dev) != DMAR_OK ||
		    dmar_device_switch_domain(dev, cur) != DMAR_OK ||
		    dmar_device_end_exclusive(dev) != DMAR_OK) {
			bench_skip_with_error(st, "switch failed");
			break;
		}
	}
	dmar_thread_online();
	bench_set_items_processed(st, bench_iterations_done(st));
	(void)dmar_device_destroy(dev);
	dmar_thread_unregister();
	(void)dmar_domain_destroy(a);
	(void)dmar_domain_destroy(b);
}

/* The flat peer: @arg's pages per call (1 or 256), map or unmap, over the same 1 GiB of page
 * numbers as bm_map; unmap's entries are written back with the timer paused. */
static uint64_t *flat; /* GiB / K4 entries */

struct flat_case {
	unsigned pages;
	int unmap;
};

static void bm_flat(bench_state *st, void *arg)
{
	const struct flat_case *fc = arg;
	const uint64_t pages = fc->pages, slots = (GiB / K4) / pages;
	const int unmap = fc->unmap;
	const uint64_t pte = DMAR_PROT_READ | DMAR_PROT_WRITE;
	uint64_t i = 0;

	while (bench_keep_running_batch(st, ROUND / (int64_t)pages)) {
		if (unmap && i % slots == 0) {
			bench_pause_timing(st);
			for (uint64_t k = 0; k < GiB / K4; k++)
				flat[k] = frames + (k % 4096) * K4 + pte;
			bench_resume_timing(st);
		}
		for (uint64_t k = 0; k < ROUND / pages; k++, i++) {
			uint64_t *e = &flat[(i % slots) * pages];

			for (uint64_t j = 0; j < pages; j++)
				__atomic_store_n(&e[j], unmap ? 0 : frames + (j % 4096) * K4 + pte,
						 __ATOMIC_RELEASE);
			bench_clobber_memory();
		}
	}
	bench_set_items_processed(st, bench_iterations_done(st));
}

/* Page-table bytes per mapped byte, for 1 GiB mapped with 4 KiB, 2 MiB or 1 GiB pages (one
 * iteration: the time is that of mapping 1 GiB in one call). */
static void bm_table_memory(bench_state *st, void *arg)
{
	unsigned lg2 = (unsigned)bench_range(st, 0);
	dmar_pgtable_config pc;
	dmar_pgtable *pt = NULL;
	uint64_t tables = 0;

	(void)arg;
	dmar_thread_register(); /* table writers refuse unregistered threads */
	dmar_pgtable_config_default(&pc);
	pc.pgsizes = 1ull << lg2 | 1ull << 12;
	if (dmar_pgtable_create(env.pm, &pc, &pt) != DMAR_OK) {
		bench_skip_with_error(st, "no table");
		dmar_thread_unregister();
		return;
	}
	while (bench_keep_running(st))
		if (dmar_pgtable_map(pt, GiB, frames, GiB, DMAR_PROT_READ) != DMAR_OK)
			bench_skip_with_error(st, "map failed");
	tables = dmar_pgtable_table_pages(pt);
	dmar_pgtable_destroy(pt);
	dmar_thread_unregister();
	bench_counter(st, "table_bytes", (double)(tables * K4), BENCH_CTR_DEFAULT);
	bench_counter(st, "table_percent_of_mapped", 100.0 * (double)(tables * K4) / (double)GiB,
		      BENCH_CTR_DEFAULT);
}

static const unsigned one = 1, range = 256; /* pages per call of map/4k, map/256x4k */
static const struct flat_case flat_cases[4] = { { 1, 0 }, { 1, 1 }, { 256, 0 }, { 256, 1 } };

int main(int argc, char **argv)
{
	dmar_iommu_config ic;

	if (bench_env_init(&env, argv[0]) != 0)
		return 1;
	bench_add_context("memory", env.desc);
	dmar_iommu_config_default(&ic);
	if (dmar_iommu_create(env.pm, &ic, &iommu) != DMAR_OK ||
	    dmar_physmem_alloc(env.pm, GiB / K4, 30, DMAR_PLACE_ANY, 0, &frames) != DMAR_OK) {
		fprintf(stderr, "bench_map: setup failed\n");
		return 1;
	}
	bench_register("map/4k", bm_map, (void *)&one);
	bench_register("unmap/4k", bm_unmap4k, NULL);
	bench_register("map/256x4k", bm_map, (void *)&range);
	bench_register("unmap/256x4k", bm_unmap256, NULL);
	flat = calloc(GiB / K4, sizeof(*flat));
	if (!flat)
		return 1;
	bench_register("flat/map/4k", bm_flat, (void *)&flat_cases[0]);
	bench_register("flat/unmap/4k", bm_flat, (void *)&flat_cases[1]);
	bench_register("flat/map/256x4k", bm_flat, (void *)&flat_cases[2]);
	bench_register("flat/unmap/256x4k", bm_flat, (void *)&flat_cases[3]);
	bench_use_real_time(bench_arg(bench_arg(bench_arg(bench_arg_name(
		bench_register("switch", bm_switch, NULL), "pages"), 1024), 32768), 1 << 20));
	bench_iterations(bench_arg(bench_arg(bench_arg(bench_arg_name(
		bench_register("table_memory", bm_table_memory, NULL), "page_lg2"), 12), 21), 30), 1);
	return bench_main(argc, argv);
}
