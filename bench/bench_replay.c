/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Replay of recorded GPU-like DMA traffic: a recorded dmagen trace, so that the numbers
 * describe GPU-like traffic and not only synthetic loops.
 *
 *  replay/data:0     the trace's requests through dmar_gen_execute(): translate (the
 *                    device's dmar_device_translate_batch(), the aperture path for the
 *                    display engine) and check every outcome against its expectation
 *  replay/data:1     the same with data mode: the bytes of every request really moved
 *                    through the translated addresses
 * each on 1 thread (every engine) and on 2 threads (engine e on thread e % 2, as dmar-sim's
 * workers).  Thread 0 also drains the IOMMU's fault queue every 64 records, as the OS
 * thread of dmar-sim does.
 *
 * The system is the one dmar-sim builds (sim/system.c, shared), without domain B: the 2 TiB
 * workstation, a linked pair of 40-bit discrete GPUs started remapped, memory objects mapped
 * for the devices and the CPU, three processes with PASIDs, eight engines (copy, 3D,
 * compute, display through the aperture, command ring, three compute engines over PASIDs),
 * 2000 bad accesses per million.
 *
 * The trace: DMAR_BENCH_TRACE=FILE replays a trace made by `dmar-sim --trace-out FILE`; the
 * system is built from the scenario in its header.  Without it the benchmark generates one
 * in-process: dmar-sim's default scenario, DMAR_BENCH_TRACE_ROUNDS rounds (default 2048) of
 * one batch of 64 requests per engine, recorded with dmar_trace_create()/dmar_trace_write()
 * into a temporary file, read back with dmar_trace_read() and the file removed.  Either way
 * the records are held in memory (nothing of the file is read while timed) and replayed
 * round and round.  Requests inside an exclusive-access window of a dmar-sim trace are left
 * out (they test S18, not throughput; bench_map measures domain switches): context
 * "replay_skipped".
 *
 * One iteration is one record (one engine's batch); items_per_second counts requests.
 * Counters: Mxlate_s (millions of requests per second, all threads), ns_per_xlate (wall time
 * per request of each thread), Mxlate_cpu_s (millions of requests per second of each
 * thread's CPU time, summed over the threads: the rate had every thread a core of its own,
 * which a machine shared with other work does not give), hit_rate (the IOMMU's IOTLB over the
 * run), faults_per_M (refused requests per million), MiB_s moved (data mode; also
 * bytes_per_second).
 *
 * A guest's trace (recorded inside an emulator: contrib/qemu's x-dmar-trace) is replayed
 * against dmar and the peer caches instead (guest_replay.c: replay/guest/...): the one
 * DMAR_BENCH_TRACE names, alone, or beside the above the one DMAR_BENCH_GUEST_TRACE names,
 * by default bench/traces/qemu-guest.dmartrace (a Linux guest's virtio-blk and edu traffic
 * through QEMU's Intel IOMMU) when it is there; DMAR_BENCH_GUEST_TRACE= (empty) leaves it out.
 *
 * Correctness: before timing, one pass over the whole trace; every run then checks its
 * counts: no wrong translation, no unexpected fault, every injected bad access refused, and
 * in data mode dmar_gen_verify() (every region read back through its CPU mapping) finds no
 * corrupt byte.  Any of these fails the benchmark.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>

#include <dmar.h>

#include "bench.h"
#include "guest_replay.h"
#include "system.h"

#define MAX_THREADS 2
#define DRAIN_EVERY 64          /* records between fault-queue drains */
#define MAX_TRACE_REQS (1u << 23) /* 256 MiB of requests in memory at most */

struct record {
	uint32_t first; /* index of its first request in g_req */
	uint16_t n;
	uint8_t engine;
};

static struct scenario g_sc;          /* the scenario of the trace */
static dmar_gen_req *g_req;
static uint64_t g_nreq;
static struct record *g_rec;
static uint64_t g_nrec, g_skipped;
/* records of each thread when the trace is split over T threads: g_idx[T - 1][t] */
static uint32_t *g_idx[MAX_THREADS][MAX_THREADS];
static uint64_t g_nidx[MAX_THREADS][MAX_THREADS];
static char g_source[300];

static int load_trace(const char *path)
{
	dmar_gen_req *buf = malloc(65535 * sizeof(*buf));
	uint64_t cap_req = 1u << 16, cap_rec = 1u << 12;
	dmar_trace *t;
	unsigned type, e;
	size_t n;
	dmar_status st;
	int in_window = 0;

	g_req = malloc(cap_req * sizeof(*g_req));
	g_rec = malloc(cap_rec * sizeof(*g_rec));
	if (!buf || !g_req || !g_rec)
		return sim_fail("trace", DMAR_E_NOMEM);
	st = dmar_trace_open(path, &t);
	if (st != DMAR_OK) {
		free(buf);
		fprintf(stderr, "bench_replay: %s: %s\n", path, dmar_status_str(st));
		return -1;
	}
	while ((st = dmar_trace_read(t, &type, &e, buf, 65535, &n)) == DMAR_OK &&
	       type != DMAR_TRACE_END) {
		if (type == DMAR_TRACE_EXCLUSIVE_BEGIN || type == DMAR_TRACE_EXCLUSIVE_END) {
			in_window = type == DMAR_TRACE_EXCLUSIVE_BEGIN;
			continue;
		}
		if (type != DMAR_TRACE_REQUESTS || n == 0)
			continue;
		if (in_window || e >= MAX_ENGINES) {
			g_skipped += n;
			continue;
		}
		if (g_nreq + n > MAX_TRACE_REQS)
			break; /* enough */
		if (g_nreq + n > cap_req) {
			while (g_nreq + n > cap_req)
				cap_req *= 2;
			g_req = realloc(g_req, cap_req * sizeof(*g_req));
		}
		if (g_nrec == cap_rec) {
			cap_rec *= 2;
			g_rec = realloc(g_rec, cap_rec * sizeof(*g_rec));
		}
		if (!g_req || !g_rec) {
			dmar_trace_close(t);
			free(buf);
			return sim_fail("trace", DMAR_E_NOMEM);
		}
		memcpy(g_req + g_nreq, buf, n * sizeof(*buf));
		g_rec[g_nrec++] = (struct record){ .first = (uint32_t)g_nreq, .n = (uint16_t)n,
						   .engine = (uint8_t)e };
		g_nreq += n;
	}
	dmar_trace_close(t);
	free(buf);
	if (st != DMAR_OK && st != DMAR_E_RANGE)
		return sim_fail("trace: damaged", st);
	if (!g_nrec) {
		fprintf(stderr, "bench_replay: %s: no requests\n", path);
		return -1;
	}
	for (int T = 1; T <= MAX_THREADS; T++)
		for (int th = 0; th < T; th++) {
			g_idx[T - 1][th] = malloc(g_nrec * sizeof(uint32_t));
			if (!g_idx[T - 1][th])
				return sim_fail("trace", DMAR_E_NOMEM);
			for (uint64_t i = 0; i < g_nrec; i++)
				if (g_rec[i].engine % T == (unsigned)th)
					g_idx[T - 1][th][g_nidx[T - 1][th]++] = (uint32_t)i;
		}
	return 0;
}

/* The scenario of a trace's header into g_sc. */
static int trace_scenario(const char *path)
{
	const char *text;
	dmar_trace *t;
	int rc;

	if (dmar_trace_open(path, &t) != DMAR_OK) {
		fprintf(stderr, "bench_replay: %s: not a dmar trace\n", path);
		return -1;
	}
	dmar_trace_header(t, NULL, NULL, &text);
	/* dmar-sim's own reading of a scenario: the same refusals, localized keys included */
	rc = sim_scenario_load(&g_sc, text, strlen(text), path);
	dmar_trace_close(t);
	return rc ? rc : sim_scenario_check(&g_sc);
}

/* dmar-sim's default scenario, ROUNDS rounds of one batch per engine, recorded to a file. */
static int record_trace(const char *path, uint64_t rounds)
{
	struct sys s = { 0 };
	GKeyFile *k;
	gchar *text;
	dmar_trace *t;
	dmar_gen_req *req;
	dmar_status st;
	int rc = 0;

	s.sc = g_sc;
	s.sc.data = false; /* the requests do not depend on it; building is faster */
	s.sc.do_switch = false; /* no domain B: exclusive windows are not replayed */
	if (sim_build(&s)) {
		sim_teardown(&s);
		return -1;
	}
	k = sim_scenario_keyfile(&g_sc);
	text = g_key_file_to_data(k, NULL, NULL);
	st = dmar_trace_create(path, g_sc.seed, g_sc.data, text, &t);
	g_free(text);
	g_key_file_free(k);
	req = malloc(g_sc.batch * sizeof(*req));
	if (st != DMAR_OK || !req) {
		free(req);
		sim_teardown(&s);
		return sim_fail("trace create", st != DMAR_OK ? st : DMAR_E_NOMEM);
	}
	for (uint64_t r = 0; r < rounds && !rc; r++)
		for (unsigned e = 0; e < s.neng && !rc; e++) {
			size_t n = dmar_gen_next(s.gen, e, req, g_sc.batch);

			if (dmar_trace_write(t, DMAR_TRACE_REQUESTS, e, req, n) != DMAR_OK)
				rc = sim_fail("trace write", DMAR_E_NOMEM);
		}
	if (dmar_trace_close(t) != DMAR_OK && !rc)
		rc = sim_fail("trace close", DMAR_E_NOMEM);
	free(req);
	sim_teardown(&s);
	return rc;
}

/* ---- the two systems and the benchmark ----------------------------------------------------- */

struct mode {
	bool data;
	bench_fixture once; /* the system, built and checked on first use (mode_build()) */
	struct sys s;
	/* the run's threads */
	bench_barrier bar;
	dmar_gen_counts counts[MAX_THREADS];
	char err[200];
};

static struct mode g_mode[2] = {
	{ .data = false, .once = BENCH_FIXTURE_INIT, .bar = BENCH_BARRIER_INIT },
	{ .data = true, .once = BENCH_FIXTURE_INIT, .bar = BENCH_BARRIER_INIT },
};

/* What a correct replay must show; 0, or -1 with a message in @err. */
static int judge(const dmar_gen_counts *c, char *err, size_t errsz)
{
	uint64_t injected = 0;

	for (int k = 1; k < DMAR_GEN_BAD_COUNT; k++)
		injected += c->injected[k];
	if (c->wrong || c->not_refused || c->corrupt || sim_sum_faults(c->faults_unexpected) ||
	    injected != sim_sum_faults(c->faults_expected)) {
		snprintf(err, errsz, "replay: %" PRIu64 " wrong, %" PRIu64 " not refused, %" PRIu64
			 " unexpected faults, %" PRIu64" corrupt bytes, %" PRIu64 " injected / %"
			 PRIu64 " refused", c->wrong, c->not_refused, sim_sum_faults(c->faults_unexpected),
			 c->corrupt, injected, sim_sum_faults(c->faults_expected));
		return -1;
	}
	return 0;
}

/* Build the system of @arg (a struct mode) and replay the trace once through it, checked;
 * 0, or -1 with the reason in its err. */
static int mode_build(void *arg)
{
	struct mode *m = arg;
	dmar_gen_counts c = { 0 };
	uint64_t i;

	m->s.sc = g_sc;
	m->s.sc.data = m->data;
	m->s.sc.do_switch = false;
	if (sim_build(&m->s) != 0) {
		snprintf(m->err, sizeof(m->err), "cannot build the system");
		return -1;
	}
	for (i = 0; i < g_nrec; i++) {
		const struct record *r = &g_rec[i];

		if (r->engine >= m->s.neng ||
		    dmar_gen_execute(m->s.gen, r->engine, g_req + r->first, r->n, &c) != DMAR_OK)
			break;
		if (i % DRAIN_EVERY == 0)
			sim_drain_faults(&m->s);
	}
	sim_drain_faults(&m->s);
	dmar_gen_verify(m->s.gen, &c);
	if (i < g_nrec) {
		snprintf(m->err, sizeof(m->err), "record %" PRIu64 " does not fit the scenario", i);
		return -1;
	}
	return judge(&c, m->err, sizeof(m->err));
}

static void bm_replay(bench_state *st, void *arg)
{
	struct mode *m = arg;
	const int tidx = bench_thread_index(st), nthr = bench_threads_count(st);
	dmar_gen_counts *c;
	const uint32_t *idx;
	uint64_t nidx, k = 0, items = 0, t0 = 0, ns = 0, c0 = 0, cpu = 0;
	dmar_iommu_stats s0, s1;
	struct timespec ts;
	int failed;

	if (nthr > MAX_THREADS) {
		bench_skip_with_error(st, "too many threads");
		return;
	}
	dmar_thread_register();
	failed = bench_fixture_get(&m->once, mode_build, m) != 0;
	bench_barrier_wait(&m->bar, nthr);
	if (failed) {
		bench_skip_with_error(st, m->err);
		goto out;
	}
	idx = g_idx[nthr - 1][tidx];
	nidx = g_nidx[nthr - 1][tidx];
	c = &m->counts[tidx];
	memset(c, 0, sizeof(*c));
	if (tidx == 0)
		dmar_iommu_get_stats(m->s.iommu, &s0);
	bench_barrier_wait(&m->bar, nthr);
	if (!nidx) {
		bench_skip_with_error(st, "no records for this thread");
		goto out;
	}
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	c0 = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t0 = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	while (bench_keep_running(st)) {
		const struct record *r = &g_rec[idx[k]];

		(void)dmar_gen_execute(m->s.gen, r->engine, g_req + r->first, r->n, c);
		items += r->n;
		if (++k == nidx)
			k = 0;
		if (tidx == 0 && k % DRAIN_EVERY == 0)
			sim_drain_faults(&m->s);
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec - t0;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	cpu = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec - c0;
	bench_barrier_wait(&m->bar, nthr);
	if (tidx == 0) {
		dmar_gen_counts total = { 0 };

		sim_drain_faults(&m->s);
		dmar_iommu_get_stats(m->s.iommu, &s1);
		for (int t = 0; t < nthr; t++)
			dmar_gen_counts_add(&total, &m->counts[t]);
		if (m->data)
			dmar_gen_verify(m->s.gen, &total);
		if (judge(&total, m->err, sizeof(m->err)) != 0) {
			bench_skip_with_error(st, m->err);
			goto out;
		}
		bench_counter(st, "hit_rate", s1.iotlb.translations > s0.iotlb.translations ?
			      (double)(s1.iotlb.hits - s0.iotlb.hits) /
			      (double)(s1.iotlb.translations - s0.iotlb.translations) : 0.0,
			      BENCH_CTR_DEFAULT);
		bench_counter(st, "faults_per_M", total.requests ?
			      1e6 * (double)(sim_sum_faults(total.faults_expected)) / (double)total.requests
			      : 0.0, BENCH_CTR_DEFAULT);
	}
	bench_set_items_processed(st, (int64_t)items);
	if (ns) {
		bench_counter(st, "Mxlate_s", (double)items * 1e3 / (double)ns, BENCH_CTR_DEFAULT);
		bench_counter(st, "ns_per_xlate", items ? (double)ns / (double)items : 0.0,
			      BENCH_CTR_AVG_THREADS);
		if (cpu)
			bench_counter(st, "Mxlate_cpu_s", (double)items * 1e3 / (double)cpu,
				      BENCH_CTR_DEFAULT);
		if (m->data) {
			bench_set_bytes_processed(st, (int64_t)(c->bytes_read + c->bytes_written));
			bench_counter(st, "MiB_s", (double)(c->bytes_read + c->bytes_written) * 1e9 /
				      (double)ns / (double)MiB, BENCH_CTR_DEFAULT);
		}
	}
out:
	bench_barrier_wait(&m->bar, nthr);
	dmar_thread_unregister();
}

int main(int argc, char **argv)
{
	const char *path = getenv("DMAR_BENCH_TRACE");
	const char *rounds_s = getenv("DMAR_BENCH_TRACE_ROUNDS");
	const char *guest = getenv("DMAR_BENCH_GUEST_TRACE") ? getenv("DMAR_BENCH_GUEST_TRACE")
							     : DMAR_GUEST_TRACE_DEFAULT;
	uint64_t rounds = rounds_s ? strtoull(rounds_s, NULL, 0) : 2048;
	char tmp[] = "/tmp/bench_replay.XXXXXX";
	char buf[200];
	int rc;

	sim_prog = "bench_replay";
	sim_scenario_default(&g_sc);
	/* a guest's trace (recorded inside an emulator): replayed against the peers, alone */
	if (path && *path && guest_replay_is_guest_trace(path))
		return guest_replay_register(path) == 0 ? bench_main(argc, argv) : 1;
	if (guest && *guest && access(guest, R_OK) == 0 && guest_replay_register(guest) != 0)
		return 1;
	dmar_thread_register();
	if (path && *path) {
		if (trace_scenario(path) != 0 || load_trace(path) != 0)
			return 1;
		snprintf(g_source, sizeof(g_source), "%s (DMAR_BENCH_TRACE)", path);
	} else {
		int fd = mkstemp(tmp);

		if (fd < 0 || rounds < 1 || rounds > 1u << 20) {
			fprintf(stderr, "bench_replay: no temporary file, or DMAR_BENCH_TRACE_ROUNDS "
				"not in 1 .. 2^20\n");
			return 1;
		}
		close(fd);
		rc = record_trace(tmp, rounds) == 0 ? load_trace(tmp) : -1;
		unlink(tmp);
		if (rc)
			return 1;
		snprintf(g_source, sizeof(g_source), "generated in-process: dmar-sim's default "
			 "scenario, %" PRIu64 " rounds of a batch of %u per engine", rounds, g_sc.batch);
	}
	dmar_thread_unregister();
	bench_add_context("replay_trace", g_source);
	snprintf(buf, sizeof(buf), "%" PRIu64 " records, %" PRIu64 " requests in memory",
		 g_nrec, g_nreq);
	bench_add_context("replay_requests", buf);
	snprintf(buf, sizeof(buf), "%" PRIu64 " requests inside exclusive windows left out",
		 g_skipped);
	bench_add_context("replay_skipped", buf);
	bench_add_context("dmar_rcu_flavor", dmar_rcu_flavor());
	bench_add_context("dmar_simd", dmar_iotlb_simd());

	for (int d = 0; d < 2; d++)
		for (int t = 1; t <= MAX_THREADS; t++)
			bench_use_real_time(bench_threads(bench_arg(bench_arg_name(bench_register(
				"replay", bm_replay, &g_mode[d]), "data"), d), t));
	rc = bench_main(argc, argv);

	dmar_thread_register();
	for (int d = 0; d < 2; d++)
		if (bench_fixture_tried(&g_mode[d].once))
			sim_teardown(&g_mode[d].s);
	dmar_thread_unregister();
	for (int T = 0; T < MAX_THREADS; T++)
		for (int th = 0; th < MAX_THREADS; th++)
			free(g_idx[T][th]);
	free(g_req);
	free(g_rec);
	return rc;
}
