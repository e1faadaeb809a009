/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* dmar-sim: the main program.  Scenario -> system -> traffic -> report.
 *
 * The default scenario: a workstation with 2 TiB installed (its top above 2^41), a linked pair
 * of 40-bit discrete GPUs started remapped (S14, S15, S16), several processes with PASIDs
 * (S3), engines of every kind (dmagen) on the logical, PASID and aperture paths, bad accesses
 * injected on purpose, a domain switch under exclusive access half-way (S18), every byte moved
 * checked through CPU mappings (S24), and a report.  The exit status is non-zero when any
 * unexpected fault, wrong (stale) translation, unrefused bad access, corrupt byte or lost
 * fault record was seen. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>
#include <json-glib/json-glib.h>

#include <dmar.h>

#include "system.h"

/* ---- running ------------------------------------------------------------------------------ */

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

struct phase {
	struct sys *s;
	double deadline;     /* time mode */
	uint64_t batches;    /* batch mode: per engine in this phase */
	int stop;
	uint64_t done;       /* requests, for the progress bar */
};

struct worker {
	struct phase *ph;
	unsigned id;
	pthread_t th;
};

static void *worker(void *arg)
{
	struct worker *w = arg;
	struct phase *ph = w->ph;
	struct sys *s = ph->s;
	dmar_gen_req *req = malloc(s->sc.batch * sizeof(*req));
	uint64_t rounds = 0;

	if (!req)
		return NULL;
	dmar_thread_register();
	for (;;) {
		int any = 0;

		if (__atomic_load_n(&ph->stop, __ATOMIC_RELAXED) ||
		    (!ph->batches && now() >= ph->deadline))
			break;
		for (unsigned e = w->id; e < s->neng; e += s->sc.threads) {
			size_t n;

			if (ph->batches && rounds >= ph->batches)
				continue;
			n = dmar_gen_next(s->gen, e, req, s->sc.batch);
			if (s->trace_out)
				(void)dmar_trace_write(s->trace_out, DMAR_TRACE_REQUESTS, e, req, n);
			(void)dmar_gen_execute(s->gen, e, req, n, &s->eng[e].counts);
			__atomic_fetch_add(&ph->done, n, __ATOMIC_RELAXED);
			any = 1;
		}
		dmar_thread_quiescent();
		rounds++;
		if (!any)
			break;
	}
	dmar_thread_unregister();
	free(req);
	return NULL;
}

static void progress(double t, double total, uint64_t done, double t0)
{
	int w = 30, fill = total > 0 ? (int)(w * (t < total ? t : total) / total) : w;

	fprintf(stderr, "\r[%.*s%*s] %5.1f/%.1f s  %6.1f M translations/s ", fill,
		"##############################", w - fill, "", t, total,
		t > t0 ? (double)done / (t - t0) / 1e6 : 0.0);
}

/* Run the engines on s->sc.threads translator threads until the deadline or the batches:
 * 0, or -1 with a message when a thread cannot be started (the others are stopped). */
static int run_phase(struct sys *s, double until, uint64_t batches, bool bar, double t0,
		     uint64_t *done_total)
{
	struct phase ph = { .s = s, .deadline = until, .batches = batches };
	struct worker w[SIM_MAX_THREADS];
	int joined[SIM_MAX_THREADS] = { 0 };
	unsigned started;

	for (started = 0; started < s->sc.threads && started < SIM_MAX_THREADS; started++) {
		w[started] = (struct worker){ .ph = &ph, .id = started };
		if (pthread_create(&w[started].th, NULL, worker, &w[started]) != 0)
			break;
	}
	if (started < s->sc.threads)
		__atomic_store_n(&ph.stop, 1, __ATOMIC_RELAXED);
	/* the main thread is the OS reading fault records, and the progress bar */
	for (;;) {
		struct timespec ts = { 0, 50 * 1000 * 1000 };
		int alive = 0;

		nanosleep(&ts, NULL);
		sim_drain_faults(s);
		if (bar)
			progress(now() - t0, s->sc.batches ? 0 : s->sc.seconds,
				 *done_total + __atomic_load_n(&ph.done, __ATOMIC_RELAXED), 0);
		for (unsigned i = 0; i < started; i++) {
			if (!joined[i])
				joined[i] = pthread_tryjoin_np(w[i].th, NULL) == 0;
			alive |= !joined[i];
		}
		if (!alive)
			break;
	}
	sim_drain_faults(s);
	*done_total += ph.done;
	if (started < s->sc.threads) {
		fprintf(stderr, "%s: cannot start translator thread %u of %u\n", sim_prog,
			started + 1, s->sc.threads);
		return -1;
	}
	return 0;
}

/* S18: traffic stopped (the scheduler is suspended), begin exclusive access; what a rogue
 * engine issues now must be refused; switch to domain B; end. */
static int domain_switch(struct sys *s)
{
	dmar_device *lead = dmar_adapter_device(s->ad, 0);
	dmar_gen_req req[ROGUE];

	TRY("begin exclusive", dmar_device_begin_exclusive(lead));
	if (s->trace_out)
		(void)dmar_trace_write(s->trace_out, DMAR_TRACE_EXCLUSIVE_BEGIN, 0, NULL, 0);
	for (unsigned e = 0; e < s->neng; e++) {
		size_t n = dmar_gen_peek(s->gen, e, req, ROGUE), m = 0;

		/* the rogue engine's ordinary requests (an injected one would fault for its own
		 * reason first on the aperture path) */
		for (size_t i = 0; i < n; i++)
			if (req[i].bad == DMAR_GEN_GOOD)
				req[m++] = req[i];
		n = m;
		dmar_gen_mark_exclusive(req, n);
		if (s->trace_out)
			(void)dmar_trace_write(s->trace_out, DMAR_TRACE_REQUESTS, e, req, n);
		(void)dmar_gen_execute(s->gen, e, req, n, &s->eng[e].counts);
		s->exclusive_refused += n;
	}
	TRY("switch domain", dmar_device_switch_domain(lead, s->dom_b));
	if (s->trace_out)
		(void)dmar_trace_write(s->trace_out, DMAR_TRACE_EXCLUSIVE_END, 0, NULL, 0);
	TRY("end exclusive", dmar_device_end_exclusive(lead));
	s->switched = 1;
	sim_drain_faults(s);
	return 0;
}

/* What is wrong with record @recno (from 1) of the trace at @path, which dmar_trace_read()
 * refused as damaged: the file is walked again here, record by record, since the library
 * says no more than DMAR_E_INVALID.  Into @buf; "damaged" when the walk finds nothing. */
static void trace_record_fault(const char *path, uint64_t recno, char *buf, size_t len)
{
	FILE *f = fopen(path, "rb");
	uint8_t h[64], r[8];
	uint64_t off;
	uint32_t hsize, slen;

	snprintf(buf, len, "damaged");
	if (!f)
		return;
	if (fread(h, 1, 64, f) != 64)
		goto out;
	hsize = (uint32_t)h[12] | (uint32_t)h[13] << 8 | (uint32_t)h[14] << 16 | (uint32_t)h[15] << 24;
	slen = (uint32_t)h[24] | (uint32_t)h[25] << 8 | (uint32_t)h[26] << 16 | (uint32_t)h[27] << 24;
	off = (uint64_t)hsize + slen;
	for (uint64_t i = 1; fseek(f, (long)off, SEEK_SET) == 0; i++) {
		size_t got = fread(r, 1, 8, f);
		unsigned type = r[0], count = (unsigned)r[2] | (unsigned)r[3] << 8;
		uint64_t need = 32ull * count, have = 0;
		uint8_t b[32];

		if (i < recno) {
			off += 8 + (type == DMAR_TRACE_REQUESTS || type == DMAR_TRACE_INVALIDATE ? need : 0);
			continue;
		}
		if (got != 8) {
			snprintf(buf, len, "its 8-byte header is cut short at byte %" PRIu64 " (%zu bytes)",
				 off, got);
			break;
		}
		if (type < DMAR_TRACE_REQUESTS || type > DMAR_TRACE_INVALIDATE) {
			snprintf(buf, len, "unknown record type %u at byte %" PRIu64, type, off);
			break;
		}
		if ((type == DMAR_TRACE_INVALIDATE && count != 1) ||
		    (type != DMAR_TRACE_REQUESTS && type != DMAR_TRACE_INVALIDATE && count)) {
			snprintf(buf, len, "a record of type %u with count %u at byte %" PRIu64
				 " (want %u)", type, count, off, type == DMAR_TRACE_INVALIDATE);
			break;
		}
		if (r[4] | r[5] | r[6] | r[7]) {
			snprintf(buf, len, "its reserved bytes 4-7 at byte %" PRIu64 " are not 0", off);
			break;
		}
		for (unsigned k = 0; k < count; k++, have += 32) {
			if (fread(b, 1, 32, f) != 32) {
				snprintf(buf, len, "%u requests (%" PRIu64 " bytes) at byte %" PRIu64
					 ": the file ends after %u of them", count, need, off + 8, k);
				break;
			}
			if ((b[27] & ~(unsigned)DMAR_GEN_COPY_SRC) || b[29] || b[30] || b[31]) {
				snprintf(buf, len, "request %u (byte %" PRIu64 "): unknown flags %#x or "
					 "reserved bytes 29-31 not 0", k + 1, off + 8 + have, b[27]);
				break;
			}
		}
		break;
	}
out:
	fclose(f);
}

/* Replay the trace @t (the file @path, for messages): 0, or -1 with a message naming the file
 * and the record.  A trace must be what dmar-sim records: requests of the scenario's
 * engines, at most one exclusive-access window (BEGIN, then END) and only where the scenario
 * switches domains, the END record, and nothing after it. */
static int replay(struct sys *s, dmar_trace *t, const char *path)
{
	dmar_gen_req *req = malloc(65535 * sizeof(*req));
	dmar_device *lead = dmar_adapter_device(s->ad, 0);
	unsigned type, e;
	size_t n;
	dmar_status st;
	uint64_t recno = 0, begin_at = 0;
	int in_window = 0, rc = -1;
	char why[200];

	if (!req)
		return sim_fail("replay", DMAR_E_NOMEM);
#define BAD(...) (snprintf(why, sizeof(why), __VA_ARGS__), rc = -1)
	for (;;) {
		rc = 0;
		st = dmar_trace_read(t, &type, &e, req, 65535, &n);
		recno++;
		if (st == DMAR_E_RANGE) {
			BAD("the trace ends without its END record (cut short?)");
			break;
		}
		if (st != DMAR_OK) {
			char what[160];

			trace_record_fault(path, recno, what, sizeof(what));
			BAD("%s (%s)", what, dmar_status_str(st));
			break;
		}
		if (type == DMAR_TRACE_END) {
			if (in_window)
				BAD("END of the trace inside the exclusive-access window that record %"
				    PRIu64 " began", begin_at);
			else if (s->dom_b && !s->switched)
				BAD("END of a trace with no exclusive-access window, where the "
				    "scenario switches domains ([run] domain_switch = true)");
			else if (dmar_trace_read(t, &type, &e, req, 65535, &n) != DMAR_E_RANGE)
				BAD("bytes after the END record");
			break;
		}
		if (type == DMAR_TRACE_REQUESTS) {
			if (e >= s->neng) {
				BAD("requests of engine %u; the scenario has %u engines", e, s->neng);
				break;
			}
			st = dmar_gen_execute(s->gen, e, req, n, &s->eng[e].counts);
			if (st != DMAR_OK) {
				BAD("%zu requests of engine %u that do not fit the scenario (a region, "
				    "address, length, access or fault it does not have: %s)", n, e,
				    dmar_status_str(st));
				break;
			}
			if (in_window)
				s->exclusive_refused += n;
		} else if (type == DMAR_TRACE_EXCLUSIVE_BEGIN) {
			if (!s->dom_b) {
				BAD("an exclusive-access window, where the scenario has none ([run] "
				    "domain_switch = false, or a start that is not remapped)");
				break;
			}
			if (in_window || s->switched) {
				BAD("a second exclusive-access window (BEGIN at record %" PRIu64
				    "; a trace has one)", begin_at);
				break;
			}
			(void)dmar_device_begin_exclusive(lead);
			in_window = 1;
			begin_at = recno;
		} else if (type == DMAR_TRACE_EXCLUSIVE_END) {
			if (!in_window) {
				BAD("the end of an exclusive-access window that %s", s->switched
				    ? "has already ended" : "did not begin");
				break;
			}
			(void)dmar_device_switch_domain(lead, s->dom_b);
			(void)dmar_device_end_exclusive(lead);
			s->switched = 1;
			in_window = 0;
		} else {
			BAD("a record of type %u (an emulator's invalidation), which dmar-sim does not "
			    "replay", type);
			break;
		}
		sim_drain_faults(s);
	}
#undef BAD
	if (rc)
		fprintf(stderr, "%s: %s: record %" PRIu64 ": %s\n", sim_prog, path, recno, why);
	if (in_window) { /* leave the device usable for the teardown */
		(void)dmar_device_end_exclusive(lead);
	}
	sim_drain_faults(s);
	free(req);
	return rc;
}

/* ---- the report ------------------------------------------------------------------------- */

static uint64_t rss_kib(void)
{
	unsigned long size = 0, res = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f) {
		if (fscanf(f, "%lu %lu", &size, &res) != 2)
			res = 0;
		fclose(f);
	}
	return (uint64_t)res * (uint64_t)sysconf(_SC_PAGESIZE) / 1024;
}

struct verdict {
	uint64_t unexpected, injected, expected, faults_seen, records;
	int injected_all_reported, records_match, pass;
};

static struct verdict judge(const struct sys *s, const dmar_gen_counts *t, const dmar_faultq_stats *fq)
{
	struct verdict v = { 0 };

	v.unexpected = sim_sum_faults(t->faults_unexpected);
	v.expected = sim_sum_faults(t->faults_expected);
	for (int k = 1; k < DMAR_GEN_BAD_COUNT; k++)
		v.injected += t->injected[k];
	v.faults_seen = v.expected + v.unexpected;
	v.records = sim_sum_faults(s->fault_records);
	v.injected_all_reported = v.injected == v.expected && t->not_refused == 0;
	/* every refusal became a fault record, stored and drained or counted as dropped */
	v.records_match = fq->faults == v.faults_seen && fq->stored == v.records &&
			  fq->faults == fq->stored + fq->dropped;
	v.pass = v.unexpected == 0 && t->wrong == 0 && t->not_refused == 0 && t->corrupt == 0 &&
		 v.injected_all_reported && v.records_match &&
		 t->requests == t->ok + v.expected + v.unexpected + t->not_refused + t->wrong;
	return v;
}

static void report_text(const struct sys *s, const dmar_gen_counts *t, const dmar_iommu_stats *is,
			const struct verdict *v, uint64_t rss, bool replayed)
{
	dmar_physmem_stats ps;
	const dmar_iotlb_stats *tl = &is->iotlb;

	dmar_physmem_get_stats(s->pm, &ps);
	printf("dmar-sim %s%s\n", dmar_version(), replayed ? " (replaying a trace)" : "");
	printf("system     %.2f TiB installed, highest address %#" PRIx64 "; %u linked %u-bit discrete GPU%s\n",
	       (double)ps.installed_bytes / (double)TiB, ps.highest_addr, s->sc.gpus, s->sc.dma_bits,
	       s->sc.gpus > 1 ? "s" : "");
	printf("start      %s", dmar_start_reason_str(s->why.reason));
	if (s->why.mode == DMAR_START_REMAPPED)
		printf(" (memory up to %#" PRIx64 " through logical addresses below %#" PRIx64 ")",
		       ps.highest_addr, s->why.logical_limit);
	printf("\ntraffic    %u engines (%u processes with PASIDs) on %u thread%s, seed %" PRIu64
	       ", %.2f s\n", s->neng, s->sc.processes, replayed ? 1 : s->sc.threads,
	       (replayed || s->sc.threads == 1) ? "" : "s", s->sc.seed, s->elapsed);
	printf("throughput %.2f M translations/s (%" PRIu64 " requests)\n",
	       s->elapsed > 0 ? (double)t->requests / s->elapsed / 1e6 : 0.0, t->requests);
	printf("IOTLB      hit rate %.1f%% (%" PRIu64 " hits, %" PRIu64 " misses), %" PRIu64
	       " walks reading %" PRIu64 " entries, %" PRIu64 " from the walk cache\n",
	       tl->translations ? 100.0 * (double)tl->hits / (double)tl->translations : 0.0,
	       tl->hits, tl->misses, tl->misses, tl->pte_reads, tl->pwc_hits);
	printf("faults     %" PRIu64 " injected, %" PRIu64 " refused as expected:", v->injected, v->expected);
	for (int f = 1; f < DMAR_FAULT_COUNT; f++)
		if (t->faults_expected[f])
			printf(" %s %" PRIu64, dmar_fault_str((dmar_fault)f), t->faults_expected[f]);
	printf("\n           %" PRIu64 " unexpected", v->unexpected);
	for (int f = 1; f < DMAR_FAULT_COUNT; f++)
		if (t->faults_unexpected[f])
			printf(" (%s %" PRIu64 ")", dmar_fault_str((dmar_fault)f), t->faults_unexpected[f]);
	printf(", %" PRIu64 " bad accesses not refused, %" PRIu64 " wrong translations\n",
	       t->not_refused, t->wrong);
	printf("fault queue %" PRIu64 " records: %" PRIu64 " read by the OS, %" PRIu64
	       " dropped and counted\n", is->fault_queue.faults, v->records, is->fault_queue.dropped);
	if (s->switched)
		printf("switch     domain %u -> %u under exclusive access at %.2f s; %" PRIu64
		       " requests inside the window, all refused: %s\n",
		       dmar_domain_id(dmar_adapter_domain(s->ad)), dmar_domain_id(s->dom_b), s->switch_at,
		       s->exclusive_refused,
		       t->faults_expected[DMAR_FAULT_EXCLUSIVE] == s->exclusive_refused ? "yes" : "NO");
	if (s->sc.data)
		printf("data       %.1f MiB written, %.1f MiB read, %.1f MiB verified, %" PRIu64
		       " corrupt bytes\n", (double)t->bytes_written / MiB, (double)t->bytes_read / MiB,
		       (double)t->bytes_verified / MiB, t->corrupt);
	printf("memory     %.1f MiB resident while simulating %.2f TiB\n", (double)rss / 1024.0,
	       (double)ps.installed_bytes / (double)TiB);
	printf("engines   ");
	for (unsigned e = 0; e < s->neng; e++)
		printf(" %s/%s:%" PRIu64, dmar_gen_kind_str(s->eng[e].kind),
		       s->eng[e].path == DMAR_GEN_PASID ? "pasid"
		       : s->eng[e].path == DMAR_GEN_APERTURE ? "aperture" : "logical",
		       s->eng[e].counts.requests);
	printf("\ndigest     %016" PRIx64 "\n", t->digest);
	printf("result     %s\n", v->pass ? "PASS" : "FAIL");
}

static void json_counts(JsonBuilder *b, const char *name, const uint64_t *f)
{
	json_builder_set_member_name(b, name);
	json_builder_begin_object(b);
	for (int i = 1; i < DMAR_FAULT_COUNT; i++) {
		json_builder_set_member_name(b, dmar_fault_str((dmar_fault)i));
		json_builder_add_int_value(b, (gint64)f[i]);
	}
	json_builder_end_object(b);
}

#define JINT(b, k, v) (json_builder_set_member_name(b, k), json_builder_add_int_value(b, (gint64)(v)))
#define JDBL(b, k, v) (json_builder_set_member_name(b, k), json_builder_add_double_value(b, (v)))
#define JSTR(b, k, v) (json_builder_set_member_name(b, k), json_builder_add_string_value(b, (v)))
#define JBOOL(b, k, v) (json_builder_set_member_name(b, k), json_builder_add_boolean_value(b, (v)))

static void report_json(const struct sys *s, const dmar_gen_counts *t, const dmar_iommu_stats *is,
			const struct verdict *v, uint64_t rss, bool replayed)
{
	JsonBuilder *b = json_builder_new();
	JsonGenerator *gen = json_generator_new();
	JsonNode *root;
	dmar_physmem_stats ps;
	char digest[17], seed[21];
	gchar *text;

	dmar_physmem_get_stats(s->pm, &ps);
	json_builder_begin_object(b);
	JSTR(b, "version", dmar_version());
	JBOOL(b, "replayed", replayed);
	json_builder_set_member_name(b, "system");
	json_builder_begin_object(b);
	JINT(b, "installed_bytes", ps.installed_bytes);
	JINT(b, "highest_address", ps.highest_addr);
	JINT(b, "gpus", s->sc.gpus);
	JINT(b, "dma_bits", s->sc.dma_bits);
	json_builder_end_object(b);
	json_builder_set_member_name(b, "start");
	json_builder_begin_object(b);
	JSTR(b, "mode", s->why.mode == DMAR_START_REMAPPED ? "remapped"
	     : s->why.mode == DMAR_START_ISOLATION ? "isolation" : "passthrough");
	JSTR(b, "reason", dmar_start_reason_str(s->why.reason));
	JINT(b, "logical_limit", s->why.logical_limit);
	json_builder_end_object(b);
	/* a string: json-glib's numbers are signed 64-bit, and many readers' are doubles */
	snprintf(seed, sizeof(seed), "%" PRIu64, s->sc.seed);
	JSTR(b, "seed", seed);
	JINT(b, "threads", replayed ? 1 : s->sc.threads);
	JDBL(b, "seconds", s->elapsed);
	JINT(b, "requests", t->requests);
	JDBL(b, "translations_per_second", s->elapsed > 0 ? (double)t->requests / s->elapsed : 0.0);
	JINT(b, "ok", t->ok);
	JINT(b, "wrong", t->wrong);
	JINT(b, "not_refused", t->not_refused);
	json_builder_set_member_name(b, "injected");
	json_builder_begin_object(b);
	for (int k = 1; k < DMAR_GEN_BAD_COUNT; k++) {
		json_builder_set_member_name(b, dmar_gen_bad_str((dmar_gen_bad)k));
		json_builder_add_int_value(b, (gint64)t->injected[k]);
	}
	json_builder_end_object(b);
	json_counts(b, "faults_expected", t->faults_expected);
	json_counts(b, "faults_unexpected", t->faults_unexpected);
	json_builder_set_member_name(b, "fault_queue");
	json_builder_begin_object(b);
	JINT(b, "faults", is->fault_queue.faults);
	JINT(b, "stored", is->fault_queue.stored);
	JINT(b, "dropped", is->fault_queue.dropped);
	JINT(b, "read", v->records);
	json_builder_end_object(b);
	json_builder_set_member_name(b, "iotlb");
	json_builder_begin_object(b);
	JINT(b, "translations", is->iotlb.translations);
	JINT(b, "hits", is->iotlb.hits);
	JINT(b, "misses", is->iotlb.misses);
	JINT(b, "walks", is->iotlb.misses);
	JINT(b, "pte_reads", is->iotlb.pte_reads);
	JDBL(b, "hit_rate", is->iotlb.translations ? (double)is->iotlb.hits / (double)is->iotlb.translations : 0);
	json_builder_end_object(b);
	json_builder_set_member_name(b, "domain_switch");
	json_builder_begin_object(b);
	JBOOL(b, "done", s->switched);
	JDBL(b, "at_seconds", s->switch_at);
	JINT(b, "requests_in_window", s->exclusive_refused);
	json_builder_end_object(b);
	json_builder_set_member_name(b, "data");
	json_builder_begin_object(b);
	JBOOL(b, "enabled", s->sc.data);
	JINT(b, "bytes_written", t->bytes_written);
	JINT(b, "bytes_read", t->bytes_read);
	JINT(b, "bytes_verified", t->bytes_verified);
	JINT(b, "corrupt_bytes", t->corrupt);
	json_builder_end_object(b);
	json_builder_set_member_name(b, "engines");
	json_builder_begin_array(b);
	for (unsigned e = 0; e < s->neng; e++) {
		json_builder_begin_object(b);
		JSTR(b, "kind", dmar_gen_kind_str(s->eng[e].kind));
		JSTR(b, "path", s->eng[e].path == DMAR_GEN_PASID ? "pasid"
		     : s->eng[e].path == DMAR_GEN_APERTURE ? "aperture" : "logical");
		JINT(b, "requests", s->eng[e].counts.requests);
		JINT(b, "faults_expected", sim_sum_faults(s->eng[e].counts.faults_expected));
		JINT(b, "faults_unexpected", sim_sum_faults(s->eng[e].counts.faults_unexpected));
		json_builder_end_object(b);
	}
	json_builder_end_array(b);
	JINT(b, "resident_bytes", rss * 1024);
	snprintf(digest, sizeof(digest), "%016" PRIx64, t->digest);
	JSTR(b, "digest", digest);
	JBOOL(b, "pass", v->pass);
	json_builder_end_object(b);
	root = json_builder_get_root(b);
	json_generator_set_root(gen, root);
	json_generator_set_pretty(gen, TRUE);
	text = json_generator_to_data(gen, NULL);
	printf("%s\n", text);
	g_free(text);
	json_node_unref(root);
	g_object_unref(gen);
	g_object_unref(b);
}

/* ---- main ----------------------------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: dmar-sim [options]\n"
		"Runs a simulated workstation (2 TiB installed) with GPUs whose DMA goes through an\n"
		"emulated IOMMU, and reports.  With no options: the built-in default scenario.\n\n"
		"  --seconds S        run for S seconds (default 3)\n"
		"  --batches N        instead, exactly N batches per engine (deterministic)\n"
		"  --seed N           traffic seed (default 1)\n"
		"  --threads N        translator threads (default 2)\n"
		"  --batch N          requests per batch (default 64)\n"
		"  --gpus N           linked physical GPUs, 1..8 (default 2)\n"
		"  --dma-bits N       the GPUs' DMA address width (default 40)\n"
		"  --processes N      processes with PASIDs, each a compute engine (default 3)\n"
		"  --region-mib N     size of each engine's buffers (default 16)\n"
		"  --bad-ppm N        deliberate bad accesses per million requests (default 2000)\n"
		"  --engines K=N,...  engines per kind: copy, 3d, compute, display, command (default 1\n"
		"                     each; display 0 or 1: there is one primary surface)\n"
		"  --zipf S           compute engines' Zipf exponent, 0 = uniform (default 1.1)\n"
		"  --no-data          translate only, move no bytes\n"
		"  --no-switch        no domain switch half-way\n"
		"  --scenario FILE    read the scenario from a key file; options given after it\n"
		"                     override it.  Its keys, each as its option above:\n"
		"                       [run] seconds batches seed threads batch bad_ppm\n"
		"                             data domain_switch (true/false: --no-data, --no-switch)\n"
		"                       [system] gpus dma_bits processes region_mib\n"
		"                       [engines] zipf copy 3d compute display command\n"
		"  --json             a JSON report instead of the text one\n"
		"  --trace-out FILE   record every request to FILE\n"
		"  --trace-in FILE    replay FILE on one thread: its scenario comes with it, so only\n"
		"                     --json and --no-progress can be given with it\n"
		"  --no-progress      no progress bar (there is none unless stderr is a terminal)\n"
		"  --help, --version\n"
		"Numbers are plain decimal: digits, and for S one optional point (no sign, exponent,\n"
		"hex or space).  A value out of its option's range, in a scenario file or in a\n"
		"trace's scenario too, is refused with the range.  In the --json report the seed is\n"
		"a decimal string (it may exceed what JSON readers hold exactly).\n"
		"Exit status: 0 when everything translated, faulted and landed as expected; 1 when\n"
		"anything did not; 2 for bad usage or a system that cannot be built.\n");
}

struct cli {
	const char *trace_out, *trace_in;
	const char *source; /* the scenario file or trace the scenario came from, for messages */
	const char *not_with_trace_in; /* the first option given that --trace-in excludes */
	bool json, bar;
};

/* Options other than the scenario's fields; a field's option is O_FIELD + its index. */
enum { O_ENGINES = 256, O_NO_DATA, O_NO_SWITCH, O_SCENARIO, O_JSON, O_TRACE_OUT, O_TRACE_IN,
       O_NO_PROGRESS, O_HELP, O_VERSION, O_FIELD };

static const struct option other_opts[] = {
	{ "engines", required_argument, NULL, O_ENGINES },
	{ "no-data", no_argument, NULL, O_NO_DATA },
	{ "no-switch", no_argument, NULL, O_NO_SWITCH },
	{ "scenario", required_argument, NULL, O_SCENARIO },
	{ "json", no_argument, NULL, O_JSON },
	{ "trace-out", required_argument, NULL, O_TRACE_OUT },
	{ "trace-in", required_argument, NULL, O_TRACE_IN },
	{ "no-progress", no_argument, NULL, O_NO_PROGRESS },
	{ "help", no_argument, NULL, O_HELP },
	{ "version", no_argument, NULL, O_VERSION },
};

/* --engines kind=N,...: each count through its field. */
static int set_engines(struct scenario *sc, const char *arg)
{
	gchar **kv = g_strsplit(arg, ",", -1);
	int rc = 0;

	if (!kv[0]) {
		fprintf(stderr, "%s: --engines: empty (want kind=N,...)\n", sim_prog);
		rc = -1;
	}
	for (gchar **p = kv; *p && !rc; p++) {
		const char *eq = strchr(*p, '=');
		gchar *kind = g_strndup(*p, eq ? (gsize)(eq - *p) : 0);
		const struct sim_field *f = NULL;

		for (int k = 0; k < DMAR_GEN_KIND_COUNT && eq; k++)
			if (!strcmp(kind, sim_kind_key[k]))
				f = sim_field_find("engines", kind);
		if (f) {
			gchar *where = g_strdup_printf("--engines %s", kind);

			rc = sim_field_set(sc, f, eq + 1, where);
			g_free(where);
		} else {
			gchar *esc = g_strescape(*p, NULL);

			fprintf(stderr, "%s: --engines: '%s' is not kind=N (kinds: copy, 3d, "
				"compute, display, command)\n", sim_prog, esc);
			g_free(esc);
			rc = -1;
		}
		g_free(kind);
	}
	g_strfreev(kv);
	return rc;
}

#define MAX_SCENARIO_FILE (1u << 20) /* as much as a trace carries */

/* Apply a scenario file: 0, or -1 with a message. */
static int load_scenario_file(struct scenario *sc, const char *path)
{
	FILE *f = fopen(path, "rb");
	char *text;
	size_t len;
	int rc;

	if (!f) {
		fprintf(stderr, "%s: %s: %s\n", sim_prog, path, strerror(errno));
		return -1;
	}
	text = malloc(MAX_SCENARIO_FILE + 1);
	len = text ? fread(text, 1, MAX_SCENARIO_FILE + 1, f) : 0;
	if (!text || ferror(f) || len > MAX_SCENARIO_FILE) {
		fprintf(stderr, "%s: %s: %s\n", sim_prog, path, !text ? "out of memory"
			: ferror(f) ? "cannot be read" : "too large for a scenario");
		rc = -1;
	} else {
		rc = sim_scenario_load(sc, text, len, path);
	}
	free(text);
	fclose(f);
	return rc;
}

/* The command line into *sc and *o: -1 to go on, else the exit status (0 after --help or
 * --version, 2 for bad usage, with a message). */
static int parse_args(int argc, char **argv, struct scenario *sc, struct cli *o)
{
	const size_t nother = sizeof(other_opts) / sizeof(other_opts[0]);
	struct option *opts = calloc(sim_nfields + nother + 1, sizeof(*opts));
	size_t n = 0;
	int c, status = -1;

	if (!opts) {
		sim_fail("options", DMAR_E_NOMEM);
		return 2;
	}
	for (size_t i = 0; i < sim_nfields; i++)
		if (sim_fields[i].option)
			opts[n++] = (struct option){ sim_fields[i].option, required_argument, NULL,
						     O_FIELD + (int)i };
	memcpy(opts + n, other_opts, sizeof(other_opts));
	while (status < 0 && (c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c >= O_FIELD && (size_t)(c - O_FIELD) < sim_nfields) {
			const struct sim_field *f = &sim_fields[c - O_FIELD];
			gchar *where = g_strdup_printf("--%s", f->option);

			if (sim_field_set(sc, f, optarg, where))
				status = 2;
			g_free(where);
			if (!o->not_with_trace_in)
				o->not_with_trace_in = f->option;
			if (!strcmp(f->key, "processes"))
				o->source = NULL; /* the engines' sum is the command line's too */
			continue;
		}
		if (!o->not_with_trace_in)
			o->not_with_trace_in = c == O_ENGINES ? "engines" : c == O_NO_DATA ? "no-data"
					       : c == O_NO_SWITCH ? "no-switch"
					       : c == O_SCENARIO ? "scenario"
					       : c == O_TRACE_OUT ? "trace-out" : NULL;
		switch (c) {
		case O_ENGINES:
			if (set_engines(sc, optarg))
				status = 2;
			o->source = NULL;
			break;
		case O_NO_DATA: sc->data = false; break;
		case O_NO_SWITCH: sc->do_switch = false; break;
		case O_SCENARIO:
			if (load_scenario_file(sc, optarg))
				status = 2;
			o->source = optarg;
			break;
		case O_JSON: o->json = true; break;
		case O_TRACE_OUT: o->trace_out = optarg; break;
		case O_TRACE_IN: o->trace_in = optarg; break;
		case O_NO_PROGRESS: o->bar = false; break;
		case O_HELP: usage(stdout); status = 0; break;
		case O_VERSION: printf("dmar-sim %s\n", dmar_version()); status = 0; break;
		default: usage(stderr); status = 2; break;
		}
	}
	if (status < 0 && optind < argc) {
		gchar *esc = g_strescape(argv[optind], NULL);

		fprintf(stderr, "%s: '%s': not an option (every value follows its option; "
			"--help lists them)\n", sim_prog, esc);
		g_free(esc);
		status = 2;
	}
	if (status < 0 && o->trace_in && o->not_with_trace_in) {
		fprintf(stderr, "%s: --%s cannot be given with --trace-in, which replays the trace's "
			"own scenario (only --json and --no-progress can)\n", sim_prog,
			o->not_with_trace_in);
		status = 2;
	}
	free(opts);
	return status;
}

/* Run the scenario, or replay @tin (the file @path): 0, or -1 with a message.  The thread is online after. */
static int simulate(struct sys *s, dmar_trace *tin, const char *path, bool bar)
{
	uint64_t done = 0;
	double t0;
	int rc = 0;

	dmar_thread_offline(); /* qsbr: the main thread waits a lot */
	t0 = now();
	if (tin) {
		dmar_thread_online();
		rc = replay(s, tin, path);
		dmar_thread_offline();
	} else {
		bool sw = s->sc.do_switch && s->dom_b;
		uint64_t half = s->sc.batches / 2;

		if (s->sc.batches)
			rc = run_phase(s, 0, sw ? half : s->sc.batches, bar, t0, &done);
		else
			rc = run_phase(s, t0 + (sw ? s->sc.seconds / 2 : s->sc.seconds), 0, bar, t0,
				       &done);
		if (sw && !rc) {
			s->switch_at = now() - t0;
			dmar_thread_online();
			rc = domain_switch(s);
			dmar_thread_offline();
		}
		if (sw && !rc) {
			if (s->sc.batches)
				rc = run_phase(s, 0, s->sc.batches - half, bar, t0, &done);
			else
				rc = run_phase(s, t0 + s->sc.seconds, 0, bar, t0, &done);
		}
		if (bar)
			fprintf(stderr, "\n");
	}
	s->elapsed = now() - t0;
	dmar_thread_online();
	return rc;
}

int main(int argc, char **argv)
{
	struct sys s = { 0 };
	struct cli o = { .bar = isatty(2) };
	dmar_trace *tin = NULL;
	dmar_gen_counts total = { 0 };
	dmar_iommu_stats is;
	struct verdict v;
	int status;

	sim_scenario_default(&s.sc);
	status = parse_args(argc, argv, &s.sc, &o);
	if (status >= 0)
		return status;
	if (o.trace_in) { /* the trace brings its own scenario */
		const char *text;
		gchar *where;
		int bad;
		uint64_t seed;
		bool data;
		dmar_status st = dmar_trace_open(o.trace_in, &tin);

		if (st != DMAR_OK) {
			fprintf(stderr, "dmar-sim: %s: %s (%s)\n", o.trace_in,
				st == DMAR_E_INVALID ? "not a dmar trace, or its header is damaged"
				: "cannot be read", dmar_status_str(st));
			return 2;
		}
		dmar_trace_header(tin, NULL, NULL, &text);
		/* its lines are the scenario text's, not the file's */
		where = g_strdup_printf("%s (its scenario)", o.trace_in);
		bad = sim_scenario_load(&s.sc, text, strlen(text), where);
		g_free(where);
		if (bad) {
			dmar_trace_close(tin);
			return 2;
		}
		o.source = o.trace_in;
		dmar_trace_header(tin, &seed, &data, NULL);
		if (seed != s.sc.seed || data != s.sc.data) {
			fprintf(stderr, "dmar-sim: %s: its header (seed %" PRIu64 ", data %s) and its "
				"scenario ([run] seed = %" PRIu64 ", data = %s) differ\n", o.trace_in,
				seed, data ? "true" : "false", s.sc.seed, s.sc.data ? "true" : "false");
			dmar_trace_close(tin);
			return 2;
		}
	}
	if (sim_scenario_check_from(&s.sc, o.source)) {
		dmar_trace_close(tin);
		return 2;
	}
	if (o.json)
		o.bar = false;

	dmar_thread_register();
	status = 2;
	if (sim_build(&s))
		goto out;
	if (o.trace_out) {
		GKeyFile *k = sim_scenario_keyfile(&s.sc);
		gchar *text = g_key_file_to_data(k, NULL, NULL);
		dmar_status st = dmar_trace_create(o.trace_out, s.sc.seed, s.sc.data, text,
						   &s.trace_out);

		g_free(text);
		g_key_file_free(k);
		if (st != DMAR_OK) {
			fprintf(stderr, "dmar-sim: %s: cannot write (%s)\n", o.trace_out,
				dmar_status_str(st));
			goto out;
		}
	}
	if (simulate(&s, tin, o.trace_in, o.bar))
		goto out;
	if (s.trace_out && dmar_trace_close(s.trace_out) != DMAR_OK) {
		s.trace_out = NULL;
		fprintf(stderr, "dmar-sim: %s: cannot write\n", o.trace_out);
		goto out;
	}
	s.trace_out = NULL;

	for (unsigned e = 0; e < s.neng; e++)
		dmar_gen_counts_add(&total, &s.eng[e].counts);
	dmar_gen_verify(s.gen, &total);
	sim_drain_faults(&s);
	dmar_iommu_get_stats(s.iommu, &is);
	v = judge(&s, &total, &is.fault_queue);
	if (o.json)
		report_json(&s, &total, &is, &v, rss_kib(), tin != NULL);
	else
		report_text(&s, &total, &is, &v, rss_kib(), tin != NULL);
	status = v.pass ? 0 : 1;
out:
	dmar_trace_close(s.trace_out);
	dmar_trace_close(tin);
	sim_teardown(&s);
	dmar_thread_unregister();
	return status;
}
