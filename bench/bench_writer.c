/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Translate throughput of 1 and 2 reader threads while a writer maps and unmaps in the same
 * domain, and how fast the writer goes beside them (the target, a writer doing >= 1 M
 * operations per second beside the readers, and the results are in docs/performance.md).
 *
 *  writer/readers:R     R reader threads (Google Benchmark threads) translate with
 *                       dmar_device_translate_batch() (64 requests per call) through a device
 *                       attached to one remapped domain: random hits on a working set of 4096
 *                       4 KiB pages (16 MiB, all in the IOTLB).  Meanwhile a controller
 *                       thread cycles the rest of the machine through three phases of
 *                       PHASE_MS each:
 *                         idle:   nothing else runs (the other threads sleep on a condvar);
 *                         spin:   a thread spins on arithmetic that shares nothing (the
 *                                 control: what one more busy thread costs by itself);
 *                         writer: a thread maps and unmaps 4 KiB pages of the SAME domain
 *                                 (pages 1..511 of a 2 MiB region 8 GiB away from the working
 *                                 set, whose table page stays): dmar_domain_map() then
 *                                 dmar_domain_unmap(), each unmap invalidating the IOMMU's
 *                                 IOTLB through the domain (the IOTLB the readers hit).
 *                       Every reader keeps its own translations and nanoseconds per phase
 *                       (it reads the phase before each call and takes the time only when
 *                       the phase changes), so the three figures come from the same run,
 *                       interleaved every PHASE_MS, under the same background noise.
 *
 * Counters (set once per run; aggregates over the readers):
 *   Mxlate_s_idle, Mxlate_s_spin, Mxlate_s_writer   millions of translations per second, all
 *                                                   readers together, in each phase
 *   kept_writer    Mxlate_s_writer / Mxlate_s_idle  (translation with the writer, against
 *                                                    without it)
 *   kept_spin      Mxlate_s_spin / Mxlate_s_idle    (what a busy thread costs by itself)
 *   writer_vs_spin Mxlate_s_writer / Mxlate_s_spin  (the writer's own cost beyond that)
 *   writer_Mops_s  the writer's map and unmap calls per second (each call one operation,
 *                  a 4 KiB page) while its phase ran; writer_Mpairs_s = half of it
 *   writer_cpu_share, spin_cpu_share   the CPU time the writer (spinner) got during its
 *                  phases, as a fraction of their wall time (1: a whole core)
 *   l0_share_idle, l0_share_spin, l0_share_writer   the fraction of translations answered
 *                  by the readers' per-thread L0 in front of the IOTLB, by phase (an
 *                  invalidation empties every L0, so the writer's unmaps defeat it)
 *   hit_rate       IOTLB hits / translations over the run
 * With R = 2 the readers and the writer (or spinner) are three threads on a 2-core machine:
 * oversubscribed, so kept_spin is about 2/3 by construction; R = 1 gives the writer a core.
 *
 * Correctness: every request is checked before timing; in the timed loop the last result of
 * every call is compared with the mapping (an xor), and any wrong or refused translation
 * fails the benchmark; the writer fails it on any map or unmap error.
 *
 * Environment: DMAR_BENCH_SMALL=1 as the other benchmarks (bench_env.h).
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <dmar.h>

#include "bench.h"
#include "bench_env.h"

#define K4 4096ull
#define GiB (1ull << 30)
#define WS_PAGES 4096u                 /* readers' working set */
#define NREQ (1u << 16)                /* random requests per reader (a power of two) */
#define BATCH 64                       /* requests per dmar_device_translate_batch() */
#define CALLS 4                        /* calls per bench_keep_running_batch() */
#define IOVA_BASE (1ull << 40)         /* the working set */
#define WR_IOVA (IOVA_BASE + 8 * GiB)  /* the writer's 2 MiB region */
#define WR_PAGES 512u                  /* page 0 stays mapped, 1..511 churn */
#define PHASE_MS 20
#define MAX_READERS 2

enum phase { PH_IDLE, PH_SPIN, PH_WRITER, PH_COUNT };
static const char *const phase_name[PH_COUNT] = { "idle", "spin", "writer" };

static struct bench_env env;
static dmar_iommu *iommu;
static dmar_domain *dom;
static dmar_device *dev;
static dmar_pa_t ws_pa;   /* WS_PAGES frames, contiguous */
static dmar_pa_t wr_pa;   /* WR_PAGES frames for the writer */
static dmar_request *reqs[MAX_READERS];

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static uint64_t cpu_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

static inline dmar_pa_t want_pa(dmar_iova_t iova)
{
	return ws_pa + (iova - IOVA_BASE);
}

/* 0, or -1 after a message on stderr. */
static int setup(void)
{
	const unsigned prot = DMAR_PROT_READ | DMAR_PROT_WRITE;
	dmar_pgtable_config pc;
	dmar_iommu_config ic;

	if (bench_env_init(&env, "bench_writer") != 0)
		return -1;
	dmar_iommu_config_default(&ic);
	dmar_pgtable_config_default(&pc);
	pc.pgsizes = 1ull << 12; /* 4 KiB leaves only, as a driver mapping buffers gets */
	if (dmar_iommu_create(env.pm, &ic, &iommu) != DMAR_OK ||
	    dmar_physmem_alloc(env.pm, WS_PAGES, 12, DMAR_PLACE_ANY, 0, &ws_pa) != DMAR_OK ||
	    dmar_physmem_alloc(env.pm, WR_PAGES, 12, DMAR_PLACE_ANY, 0, &wr_pa) != DMAR_OK ||
	    dmar_domain_create(iommu, DMAR_DOMAIN_REMAPPED, &pc, &dom) != DMAR_OK ||
	    dmar_domain_map(dom, IOVA_BASE, ws_pa, WS_PAGES * K4, prot) != DMAR_OK ||
	    dmar_domain_map(dom, WR_IOVA, wr_pa, K4, prot) != DMAR_OK ||
	    dmar_device_create(iommu, 0x100, 48, &dev) != DMAR_OK ||
	    dmar_device_attach(dev, dom) != DMAR_OK) {
		fprintf(stderr, "bench_writer: setup failed\n");
		return -1;
	}
	for (int r = 0; r < MAX_READERS; r++) {
		uint64_t seed = 0x9e3779b97f4a7c15ull * (uint64_t)(r + 1);

		reqs[r] = malloc(NREQ * sizeof(*reqs[r]));
		if (!reqs[r]) {
			fprintf(stderr, "bench_writer: out of memory\n");
			return -1;
		}
		for (uint32_t i = 0; i < NREQ; i++)
			reqs[r][i] = (dmar_request){
				.iova = IOVA_BASE + rnd(&seed) % WS_PAGES * K4 + 0x40,
				.access = DMAR_ACCESS_READ,
				.pasid = DMAR_NO_PASID,
			};
	}
	return 0;
}

/* ---- the other threads: controller, writer, spinner -------------------------------------- */

struct run {
	pthread_mutex_t lock;
	pthread_cond_t cv;
	int phase;         /* atomic; enum phase */
	int stop;          /* atomic */
	dmar_status werr;  /* the writer's first failure */
	uint64_t wops;     /* writer: map and unmap calls in its phases */
	uint64_t wns;      /* writer: nanoseconds of its phases */
	uint64_t wcpu;     /* writer: its CPU time in them */
	uint64_t sns, scpu; /* spinner: the same */
	uint64_t xl[PH_COUNT], l0[PH_COUNT]; /* controller: IOTLB translations, L0 hits by phase */
	pthread_t ctl, wr, sp;
	/* readers' results, for thread 0 */
	uint64_t items[MAX_READERS][PH_COUNT], ns[MAX_READERS][PH_COUNT];
	bench_barrier bar; /* the run's threads meet here */
	int failed;
	char err[200];
};

static struct run g_run = { .lock = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER,
			    .bar = BENCH_BARRIER_INIT };

/* Sleep until the phase is @want or the run stops; 0 when it is @want. */
static int wait_phase(struct run *r, int want)
{
	int ok;

	pthread_mutex_lock(&r->lock);
	while (__atomic_load_n(&r->phase, __ATOMIC_ACQUIRE) != want &&
	       !__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE))
		pthread_cond_wait(&r->cv, &r->lock);
	ok = !__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE);
	pthread_mutex_unlock(&r->lock);
	return ok ? 0 : -1;
}

static void set_phase(struct run *r, int p)
{
	pthread_mutex_lock(&r->lock);
	__atomic_store_n(&r->phase, p, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->lock);
}

static void *controller_main(void *arg)
{
	struct run *r = arg;
	const dmar_iotlb *tlb = dmar_iommu_iotlb(iommu);
	dmar_iotlb_stats a, b;
	int p = PH_IDLE;

	dmar_iotlb_get_stats(tlb, &a);
	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		struct timespec ts = { 0, PHASE_MS * 1000000L };

		nanosleep(&ts, NULL);
		dmar_iotlb_get_stats(tlb, &b); /* what the phase that ends saw */
		r->xl[p] += b.translations - a.translations;
		r->l0[p] += b.l0_hits - a.l0_hits;
		a = b;
		p = (p + 1) % PH_COUNT;
		set_phase(r, p);
	}
	return NULL;
}

static void *spinner_main(void *arg)
{
	struct run *r = arg;
	uint64_t x = 1, ns = 0, cpu = 0;

	while (wait_phase(r, PH_SPIN) == 0) {
		const uint64_t t0 = now_ns(), c0 = cpu_ns();

		while (__atomic_load_n(&r->phase, __ATOMIC_RELAXED) == PH_SPIN) {
			for (int i = 0; i < 256; i++)
				x = x * 6364136223846793005ull + 1442695040888963407ull;
			BENCH_USE(x);
		}
		ns += now_ns() - t0;
		cpu += cpu_ns() - c0;
	}
	r->sns = ns;
	r->scpu = cpu;
	return NULL;
}

static void *writer_main(void *arg)
{
	const unsigned prot = DMAR_PROT_READ | DMAR_PROT_WRITE;
	struct run *r = arg;
	uint64_t ops = 0, ns = 0, cpu = 0, page = 0;

	dmar_thread_register();
	dmar_thread_offline(); /* qsbr: asleep between its phases */
	while (wait_phase(r, PH_WRITER) == 0) {
		const uint64_t t0 = now_ns(), c0 = cpu_ns();

		dmar_thread_online();
		while (__atomic_load_n(&r->phase, __ATOMIC_RELAXED) == PH_WRITER) {
			const uint64_t pg = 1 + page++ % (WR_PAGES - 1);
			dmar_status s = dmar_domain_map(dom, WR_IOVA + pg * K4, wr_pa + pg * K4, K4, prot);

			if (s == DMAR_OK)
				s = dmar_domain_unmap(dom, WR_IOVA + pg * K4, K4, NULL);
			if (s != DMAR_OK) {
				r->werr = s;
				__atomic_store_n(&r->stop, 1, __ATOMIC_RELEASE);
				break;
			}
			ops += 2;
		}
		dmar_thread_offline();
		ns += now_ns() - t0;
		cpu += cpu_ns() - c0;
	}
	dmar_thread_online();
	dmar_thread_unregister();
	r->wops = ops;
	r->wns = ns;
	r->wcpu = cpu;
	return NULL;
}

static int start_others(struct run *r)
{
	r->phase = PH_IDLE;
	r->stop = 0;
	r->werr = DMAR_OK;
	r->wops = r->wns = r->wcpu = r->sns = r->scpu = 0;
	memset(r->xl, 0, sizeof(r->xl));
	memset(r->l0, 0, sizeof(r->l0));
	if (pthread_create(&r->wr, NULL, writer_main, r) != 0)
		return -1;
	if (pthread_create(&r->sp, NULL, spinner_main, r) != 0) {
		__atomic_store_n(&r->stop, 1, __ATOMIC_RELEASE);
		set_phase(r, PH_IDLE);
		pthread_join(r->wr, NULL);
		return -1;
	}
	if (pthread_create(&r->ctl, NULL, controller_main, r) != 0) {
		__atomic_store_n(&r->stop, 1, __ATOMIC_RELEASE);
		set_phase(r, PH_IDLE);
		pthread_join(r->wr, NULL);
		pthread_join(r->sp, NULL);
		return -1;
	}
	return 0;
}

static void stop_others(struct run *r)
{
	__atomic_store_n(&r->stop, 1, __ATOMIC_RELEASE);
	pthread_join(r->ctl, NULL);
	set_phase(r, PH_IDLE); /* wakes the sleepers, ends the busy loops */
	pthread_join(r->wr, NULL);
	pthread_join(r->sp, NULL);
}

/* ---- readers ------------------------------------------------------------------------------ */

/* Translate reqs[k .. k + n) and check every result; 0, or -1 with a message in @err. */
static int check_all(const dmar_request *q, size_t n, char *err, size_t errsz)
{
	dmar_result res[BATCH];

	for (size_t k = 0; k < n; k += BATCH) {
		if (dmar_device_translate_batch(dev, q + k, res, BATCH, NULL) != DMAR_OK)
			goto bad;
		for (int i = 0; i < BATCH; i++)
			if (res[i].fault != DMAR_FAULT_NONE || res[i].pa != want_pa(q[k + i].iova)) {
				snprintf(err, errsz, "iova %#" PRIx64 " -> pa %#" PRIx64
					 " fault %u, want %#" PRIx64, q[k + i].iova, res[i].pa,
					 res[i].fault, want_pa(q[k + i].iova));
				return -1;
			}
	}
	return 0;
bad:
	snprintf(err, errsz, "dmar_device_translate_batch failed");
	return -1;
}

static void bm_writer(bench_state *st, void *arg)
{
	struct run *r = &g_run;
	const int tidx = bench_thread_index(st), nthr = bench_threads_count(st);
	const dmar_request *q = reqs[tidx];
	dmar_result res[BATCH] __attribute__((aligned(64)));
	uint64_t items[PH_COUNT] = { 0 }, ns[PH_COUNT] = { 0 };
	uint64_t bad = 0, fails = 0, k = 0, t_last = 0;
	dmar_iotlb_stats s0, s1;
	int p_last = -1;
	char err[200] = "";

	(void)arg;
	if (nthr > MAX_READERS) {
		bench_skip_with_error(st, "too many readers");
		return;
	}
	dmar_thread_register();
	if (check_all(q, NREQ, err, sizeof(err)) != 0) /* also warms the IOTLB */
		r->failed = 1;
	bench_barrier_wait(&r->bar, nthr);
	if (tidx == 0 && !r->failed) {
		dmar_iotlb_get_stats(dmar_iommu_iotlb(iommu), &s0);
		if (start_others(r) != 0) {
			r->failed = 1;
			snprintf(err, sizeof(err), "cannot start the other threads");
		}
	}
	bench_barrier_wait(&r->bar, nthr);
	if (r->failed) {
		bench_skip_with_error(st, err[0] ? err : "another thread could not set up");
		goto out;
	}

	while (bench_keep_running_batch(st, BATCH * CALLS)) {
		for (int c = 0; c < CALLS; c++) {
			const int p = __atomic_load_n(&r->phase, __ATOMIC_RELAXED);

			if (p != p_last) {
				const uint64_t t = now_ns();

				if (p_last >= 0)
					ns[p_last] += t - t_last;
				t_last = t;
				p_last = p;
			}
			fails |= (uint64_t)dmar_device_translate_batch(dev, q + k, res, BATCH, NULL);
			bad |= res[BATCH - 1].pa ^ want_pa(q[k + BATCH - 1].iova);
			items[p] += BATCH;
			k = (k + BATCH) & (NREQ - 1);
		}
	}
	if (p_last >= 0)
		ns[p_last] += now_ns() - t_last;
	memcpy(r->items[tidx], items, sizeof(items));
	memcpy(r->ns[tidx], ns, sizeof(ns));

	bench_barrier_wait(&r->bar, nthr);
	if (tidx == 0) {
		double rate[PH_COUNT] = { 0 };
		char name[32];

		stop_others(r);
		dmar_iotlb_get_stats(dmar_iommu_iotlb(iommu), &s1);
		if (r->werr != DMAR_OK) {
			snprintf(err, sizeof(err), "writer: %s", dmar_status_str(r->werr));
			bench_skip_with_error(st, err);
			goto out;
		}
		for (int p = 0; p < PH_COUNT; p++) {
			for (int t = 0; t < nthr; t++)
				if (r->ns[t][p])
					rate[p] += (double)r->items[t][p] * 1e3 / (double)r->ns[t][p];
			snprintf(name, sizeof(name), "Mxlate_s_%s", phase_name[p]);
			bench_counter(st, name, rate[p], BENCH_CTR_DEFAULT);
			snprintf(name, sizeof(name), "l0_share_%s", phase_name[p]);
			bench_counter(st, name, r->xl[p] ? (double)r->l0[p] / (double)r->xl[p] : 0.0,
				      BENCH_CTR_DEFAULT);
		}
		if (rate[PH_IDLE] > 0 && rate[PH_SPIN] > 0) {
			bench_counter(st, "kept_writer", rate[PH_WRITER] / rate[PH_IDLE], BENCH_CTR_DEFAULT);
			bench_counter(st, "kept_spin", rate[PH_SPIN] / rate[PH_IDLE], BENCH_CTR_DEFAULT);
			bench_counter(st, "writer_vs_spin", rate[PH_WRITER] / rate[PH_SPIN],
				      BENCH_CTR_DEFAULT);
		}
		bench_counter(st, "writer_Mops_s",
			      r->wns ? (double)r->wops * 1e3 / (double)r->wns : 0.0, BENCH_CTR_DEFAULT);
		bench_counter(st, "writer_Mpairs_s",
			      r->wns ? (double)r->wops * 0.5e3 / (double)r->wns : 0.0, BENCH_CTR_DEFAULT);
		bench_counter(st, "writer_cpu_share", r->wns ? (double)r->wcpu / (double)r->wns : 0.0,
			      BENCH_CTR_DEFAULT);
		bench_counter(st, "spin_cpu_share", r->sns ? (double)r->scpu / (double)r->sns : 0.0,
			      BENCH_CTR_DEFAULT);
		bench_counter(st, "hit_rate", s1.translations > s0.translations ?
			      (double)(s1.hits - s0.hits) / (double)(s1.translations - s0.translations)
			      : 0.0, BENCH_CTR_DEFAULT);
	}
	if (bad || fails) {
		snprintf(err, sizeof(err), "a timed translation was wrong or refused (bad %#" PRIx64
			 ", status %#" PRIx64 ")", bad, fails);
		bench_skip_with_error(st, err);
	} else if (check_all(q, BATCH, err, sizeof(err)) != 0) {
		bench_skip_with_error(st, err);
	}
out:
	bench_set_items_processed(st, bench_iterations_done(st));
	bench_barrier_wait(&r->bar, nthr);
	if (tidx == 0)
		r->failed = 0;
	dmar_thread_unregister();
}

int main(int argc, char **argv)
{
	char buf[128];
	int rc;

	dmar_thread_register(); /* setup maps: a table writer's thread is registered */
	if (setup() != 0)
		return 1;
	bench_add_context("dmar_physmem", env.desc);
	bench_add_context("dmar_rcu_flavor", dmar_rcu_flavor());
	bench_add_context("dmar_simd", dmar_iotlb_simd());
	snprintf(buf, sizeof(buf), "%u pages, batches of %d, phases of %d ms: idle, spin, writer",
		 WS_PAGES, BATCH, PHASE_MS);
	bench_add_context("bench_writer", buf);
	for (int t = 1; t <= MAX_READERS; t++)
		bench_use_real_time(bench_threads(bench_register("writer/readers", bm_writer, NULL), t));
	rc = bench_main(argc, argv);
	(void)dmar_device_destroy(dev);
	(void)dmar_domain_destroy(dom);
	dmar_iommu_destroy(iommu);
	dmar_thread_unregister();
	dmar_physmem_destroy(env.pm);
	return rc;
}
