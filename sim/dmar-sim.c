/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* dmar-sim: the main program.  Until the DMA generator lands (dmagen/) it runs one built-in
 * scenario on the engine: a workstation with 2 TiB installed, a remapping table for a
 * 40-bit device that maps memory above 1 TiB at logical addresses below 1 TiB (S13, S14),
 * translator threads that translate batches through the IOTLB, data written through the
 * translations and read back, and faults injected on purpose (S7). */
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <dmar.h>

#define K4 (1ull << 12)
#define M2 (1ull << 21)
#define TiB (1ull << 40)

struct opts {
	double seconds;
	unsigned threads;
	unsigned levels;
	unsigned device_bits;
	uint64_t seed;
	unsigned buffers;
};

struct buffer {
	dmar_iova_t iova;
	dmar_pa_t pa;
	uint64_t size;
	unsigned prot;
};

struct sim {
	struct opts o;
	dmar_physmem *pm;
	dmar_pgtable *pt;
	dmar_iotlb *tlb;
	dmar_space *sp;
	struct buffer *buf;
	unsigned nbuf;
	int stop;
};

struct worker {
	struct sim *s;
	pthread_t th;
	uint64_t seed;
	unsigned id;
	uint64_t walks, ok, wrong, corrupt, bytes;
	uint64_t faults_expected[DMAR_FAULT_COUNT], faults_unexpected[DMAR_FAULT_COUNT];
};

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

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

#define SIM_BATCH 32

/* One translator: batches of mostly valid accesses (checked against the buffer's known
 * frame, with a data round trip now and then) and some bad ones on purpose, which must
 * fault with the expected reason. */
static void *translator(void *arg)
{
	struct worker *w = arg;
	struct sim *s = w->s;
	const uint64_t limit = 1ull << s->o.device_bits;

	dmar_thread_register();
	while (!__atomic_load_n(&s->stop, __ATOMIC_RELAXED)) {
		dmar_request req[SIM_BATCH];
		dmar_result res[SIM_BATCH];
		const struct buffer *b[SIM_BATCH];
		dmar_fault want[SIM_BATCH];
		unsigned n = 0;

		for (unsigned i = 0; i < SIM_BATCH; i++) {
			const struct buffer *bb = &s->buf[xorshift(&w->seed) % s->nbuf];
			uint64_t off = xorshift(&w->seed) % bb->size & ~7ull;
			uint64_t r = xorshift(&w->seed) % 100;
			dmar_iova_t iova = bb->iova + off;
			unsigned access = DMAR_ACCESS_READ;
			dmar_fault f = DMAR_FAULT_NONE;

			if (r < 2) { /* the guard page after a buffer: never mapped */
				iova = bb->iova + bb->size + off % K4;
				f = DMAR_FAULT_NOT_PRESENT;
			} else if (r < 4) {
				access = DMAR_ACCESS_WRITE;
				if (!(bb->prot & DMAR_PROT_WRITE))
					f = DMAR_FAULT_WRITE;
			} else if (r < 5) { /* beyond the device's reach */
				iova = limit + off;
				f = DMAR_FAULT_ADDR_WIDTH;
			}
			w->walks++;
			if (iova >= limit) {
				/* the device model refuses what its address width cannot carry */
				if (f == DMAR_FAULT_ADDR_WIDTH)
					w->faults_expected[f]++;
				else
					w->faults_unexpected[DMAR_FAULT_ADDR_WIDTH]++;
				continue;
			}
			req[n].iova = iova;
			req[n].access = access;
			req[n].pasid = DMAR_NO_PASID;
			b[n] = bb;
			want[n++] = f;
		}
		if (dmar_translate_batch(s->sp, req, res, n, NULL) != DMAR_OK) {
			w->wrong += n;
			continue;
		}
		for (unsigned i = 0; i < n; i++) {
			const uint64_t off = req[i].iova - b[i]->iova;

			if (res[i].fault != DMAR_FAULT_NONE) {
				if (res[i].fault == want[i])
					w->faults_expected[res[i].fault]++;
				else
					w->faults_unexpected[res[i].fault]++;
				continue;
			}
			if (want[i] != DMAR_FAULT_NONE || res[i].pa != b[i]->pa + off) {
				w->wrong++;
				continue;
			}
			w->ok++;
			if (xorshift(&w->seed) % 10 == 0 && (b[i]->prot & DMAR_PROT_WRITE)) {
				/* each thread its own 8-byte lane of the page, so that threads
				 * never overwrite each other's pattern */
				const uint64_t span = 8ull * s->o.threads;
				const uint64_t lane = (off & 0xfff) / span * span + 8ull * w->id;
				uint64_t v = req[i].iova ^ w->seed, back = 0;

				if (lane + 8 > K4)
					continue;
				if (dmar_physmem_write(s->pm, (res[i].pa & ~(K4 - 1)) + lane, &v, 8) != DMAR_OK ||
				    dmar_physmem_read(s->pm, ((b[i]->pa + off) & ~(K4 - 1)) + lane, &back,
						      8) != DMAR_OK ||
				    back != v)
					w->corrupt++;
				else
					w->bytes += 8;
			}
		}
	}
	dmar_thread_unregister();
	return NULL;
}

static void flush_hook(void *ctx, dmar_iova_t iova, uint64_t size)
{
	dmar_space_invalidate_range(ctx, iova, size);
}

static int setup(struct sim *s)
{
	dmar_physmem_config pcfg;
	dmar_pgtable_config tcfg;
	uint64_t seed = s->o.seed, iova = 1ull << 30;
	dmar_status st;

	dmar_physmem_config_workstation(&pcfg);
	st = dmar_physmem_create(&pcfg, &s->pm);
	if (st != DMAR_OK) {
		fprintf(stderr, "dmar-sim: physical memory: %s\n", dmar_status_str(st));
		return -1;
	}
	dmar_pgtable_config_default(&tcfg);
	tcfg.format.levels = s->o.levels;
	st = dmar_pgtable_create(s->pm, &tcfg, &s->pt);
	if (st != DMAR_OK) {
		fprintf(stderr, "dmar-sim: page table: %s\n", dmar_status_str(st));
		return -1;
	}
	{
		dmar_iotlb_config icfg;

		dmar_iotlb_config_default(&icfg);
		st = dmar_iotlb_create(&icfg, &s->tlb);
		if (st == DMAR_OK)
			st = dmar_space_create(s->tlb, s->pm, dmar_pgtable_root(s->pt),
					       dmar_pgtable_format(s->pt), &s->sp);
		if (st != DMAR_OK) {
			fprintf(stderr, "dmar-sim: iotlb: %s\n", dmar_status_str(st));
			return -1;
		}
		dmar_pgtable_set_flush(s->pt, flush_hook, s->sp);
	}
	s->buf = calloc(s->o.buffers, sizeof(*s->buf));
	if (!s->buf)
		return -1;
	/* Buffers of 4 KiB .. 4 MiB, physically scattered above 1 TiB, logically packed below
	 * the device limit with a one-page guard hole after each. */
	for (unsigned i = 0; i < s->o.buffers; i++) {
		struct buffer *b = &s->buf[i];
		uint64_t pages = 1ull << (xorshift(&seed) % 10);

		b->size = pages * K4;
		b->prot = DMAR_PROT_READ | (i % 4 ? DMAR_PROT_WRITE : 0);
		st = dmar_physmem_alloc(s->pm, pages, pages >= 512 ? 21 : 12, DMAR_PLACE_ABOVE,
					TiB, &b->pa);
		if (st == DMAR_OK) {
			iova = (iova + b->size - 1) & ~(b->size < M2 ? K4 - 1 : M2 - 1);
			b->iova = iova;
			st = dmar_pgtable_map(s->pt, iova, b->pa, b->size, b->prot);
		}
		if (st != DMAR_OK || iova + b->size >= (1ull << s->o.device_bits)) {
			fprintf(stderr, "dmar-sim: buffer %u: %s\n", i, dmar_status_str(st));
			return -1;
		}
		iova += b->size + K4;
		s->nbuf++;
	}
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: dmar-sim [--seconds S] [--threads N] [--levels 4|5] [--device-bits B]\n"
		   "                [--buffers N] [--seed X]\n"
		   "Runs the built-in scenario: a 2 TiB workstation, a 40-bit device whose buffers\n"
		   "live above 1 TiB, translator threads with injected faults, and a report.\n");
}

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "seconds", required_argument, NULL, 's' }, { "threads", required_argument, NULL, 't' },
		{ "levels", required_argument, NULL, 'l' },  { "device-bits", required_argument, NULL, 'd' },
		{ "buffers", required_argument, NULL, 'b' }, { "seed", required_argument, NULL, 'x' },
		{ "help", no_argument, NULL, 'h' },          { NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "s:t:l:d:b:x:h", longopts, NULL)) != -1) {
		switch (c) {
		case 's': o->seconds = atof(optarg); break;
		case 't': o->threads = (unsigned)atoi(optarg); break;
		case 'l': o->levels = (unsigned)atoi(optarg); break;
		case 'd': o->device_bits = (unsigned)atoi(optarg); break;
		case 'b': o->buffers = (unsigned)atoi(optarg); break;
		case 'x': o->seed = strtoull(optarg, NULL, 0); break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
	}
	if (optind != argc || o->seconds <= 0 || o->seconds > 3600 || o->threads < 1 ||
	    o->threads > 64 || (o->levels != 4 && o->levels != 5) || o->device_bits < 32 ||
	    o->device_bits > 47 || o->buffers < 1 || o->buffers > 100000 || o->seed == 0) {
		usage(stderr);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sim s = { .o = { .seconds = 1.0, .threads = 2, .levels = 4, .device_bits = 40,
				.seed = 0x5eed, .buffers = 2000 } };
	struct worker *w;
	dmar_physmem_stats ps;
	uint64_t walks = 0, ok = 0, wrong = 0, corrupt = 0, bytes = 0, unexpected = 0, expected = 0;
	uint64_t fe[DMAR_FAULT_COUNT] = { 0 }, fu[DMAR_FAULT_COUNT] = { 0 }, mapped = 0;
	double t0, dt;

	if (parse(argc, argv, &s.o) != 0)
		return 2;
	dmar_thread_register();
	if (setup(&s) != 0)
		return 1;
	dmar_physmem_get_stats(s.pm, &ps);
	for (unsigned i = 0; i < s.nbuf; i++)
		mapped += s.buf[i].size;

	printf("dmar-sim: built-in scenario (RCU flavor %s)\n\n", dmar_rcu_flavor());
	printf("system     %.2f TiB installed in %u ranges, highest address %#" PRIx64 "\n",
	       (double)ps.installed_bytes / (double)TiB, ps.nranges, ps.highest_addr);
	printf("device     %u-bit DMA: reaches %#" PRIx64 "; RAM above that: %s\n",
	       s.o.device_bits, (uint64_t)((1ull << s.o.device_bits) - 1),
	       ps.highest_addr >= (1ull << s.o.device_bits) ? "yes" : "no");
	printf("decision   %s (S14)\n",
	       ps.highest_addr >= (1ull << s.o.device_bits)
		       ? "remapped: logical addresses below the device limit, frames anywhere"
		       : "the device reaches all memory");
	printf("mappings   %u buffers, %.1f MiB, all frames above 1 TiB, %d-level table, "
	       "%" PRIu64 " table pages (%.3f%% of mapped bytes)\n",
	       s.nbuf, (double)mapped / (1 << 20), s.o.levels, dmar_pgtable_table_pages(s.pt),
	       100.0 * (double)(dmar_pgtable_table_pages(s.pt) * K4) / (double)mapped);

	w = calloc(s.o.threads, sizeof(*w));
	if (!w)
		return 1;
	t0 = now();
	for (unsigned i = 0; i < s.o.threads; i++) {
		w[i].s = &s;
		w[i].id = i;
		w[i].seed = s.o.seed * (i + 1) * 0x9e3779b97f4a7c15ull | 1;
		if (pthread_create(&w[i].th, NULL, translator, &w[i]) != 0)
			return 1;
	}
	while (now() - t0 < s.o.seconds)
		usleep(10000);
	__atomic_store_n(&s.stop, 1, __ATOMIC_RELAXED);
	for (unsigned i = 0; i < s.o.threads; i++) {
		pthread_join(w[i].th, NULL);
		walks += w[i].walks;
		ok += w[i].ok;
		wrong += w[i].wrong;
		corrupt += w[i].corrupt;
		bytes += w[i].bytes;
		for (int f = 0; f < DMAR_FAULT_COUNT; f++) {
			fe[f] += w[i].faults_expected[f];
			fu[f] += w[i].faults_unexpected[f];
		}
	}
	dt = now() - t0;
	for (int f = 0; f < DMAR_FAULT_COUNT; f++) {
		expected += fe[f];
		unexpected += fu[f];
	}

	printf("traffic    %u threads, %.2f s: %" PRIu64 " requests, %.1f M/s\n", s.o.threads,
	       dt, walks, (double)walks / dt / 1e6);
	printf("results    %" PRIu64 " translated correctly, %" PRIu64 " wrong\n", ok, wrong);
	printf("faults     %" PRIu64 " expected, %" PRIu64 " unexpected\n", expected, unexpected);
	for (int f = 1; f < DMAR_FAULT_COUNT; f++)
		if (fe[f] || fu[f])
			printf("           %-22s %10" PRIu64 " expected %6" PRIu64 " unexpected\n",
			       dmar_fault_str((dmar_fault)f), fe[f], fu[f]);
	{
		dmar_iotlb_stats ts;

		dmar_iotlb_get_stats(s.tlb, &ts);
		printf("iotlb      %s probe, hit rate %.1f%%, %" PRIu64 " walks (%.1f%% from the walk "
		       "cache), %.2f entries read per walk\n",
		       dmar_iotlb_simd(), ts.translations ? 100.0 * (double)ts.hits / (double)ts.translations : 0.0,
		       ts.misses, ts.misses ? 100.0 * (double)ts.pwc_hits / (double)ts.misses : 0.0,
		       ts.misses ? (double)ts.pte_reads / (double)ts.misses : 0.0);
	}
	printf("data       %" PRIu64 " bytes written through translations and verified, %" PRIu64
	       " corrupted\n", bytes, corrupt);
	printf("memory     resident %.1f MiB while simulating %.2f TiB\n", (double)rss_kib() / 1024,
	       (double)ps.installed_bytes / (double)TiB);

	dmar_pgtable_set_flush(s.pt, NULL, NULL);
	dmar_space_destroy(s.sp);
	dmar_iotlb_destroy(s.tlb);
	dmar_pgtable_destroy(s.pt);
	dmar_physmem_destroy(s.pm);
	free(s.buf);
	free(w);
	dmar_thread_unregister();
	if (wrong || unexpected || corrupt) {
		printf("\nFAIL: unexpected faults, wrong translations or corrupted bytes\n");
		return 1;
	}
	printf("\nOK\n");
	return 0;
}
