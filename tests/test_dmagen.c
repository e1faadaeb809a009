/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The DMA generator (S32): engines stay inside their regions with the patterns of their
 * kind (copy order, Z-order tiles, Zipf), injected faults are all refused and counted, data
 * lands where the OS mapped it, traces round-trip, bad input is refused. */
#include <math.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include "check.h"

#define K4 4096ull
#define MiB (1ull << 20)

struct fx {
	struct test_fx sys; /* a remapped domain, a 40-bit device */
	dmar_gen *g;
	uint8_t *cpu[4];
	unsigned reg[4];
};

/* Four 1 MiB regions at logical 16 MiB + i * 2 MiB (0, 2 read-only; 1, 3 writable), frames
 * from the allocator, CPU views by the host pointers of the frames (contiguous here). */
static void setup(struct fx *f, uint32_t bad_ppm)
{
	dmar_gen_config gc;

	memset(f, 0, sizeof(*f));
	test_fx_setup(&f->sys, DMAR_DOMAIN_REMAPPED, 40, 1u << 16);
	dmar_gen_config_default(&gc);
	gc.pm = f->sys.pm;
	gc.seed = 42;
	REQUIRE(dmar_gen_create(&gc, &f->g) == DMAR_OK);
	for (unsigned i = 0; i < 4; i++) {
		dmar_pa_t base, pages[256];
		dmar_gen_region r = { 0 };
		bool w = i & 1;

		REQUIRE(dmar_physmem_alloc(f->sys.pm, 256, 12, DMAR_PLACE_ANY, 0, &base) == DMAR_OK);
		for (unsigned k = 0; k < 256; k++)
			pages[k] = base + k * K4;
		REQUIRE(dmar_domain_map(f->sys.dom, (16 + 2 * i) * MiB, base, MiB,
					DMAR_PROT_READ | (w ? DMAR_PROT_WRITE : 0)) == DMAR_OK);
		f->cpu[i] = dmar_physmem_host_ptr(f->sys.pm, base, MiB);
		memset(f->cpu[i], 0, MiB);
		r.name = "r";
		r.path = DMAR_GEN_LOGICAL;
		r.dev = f->sys.dev;
		r.base = (16 + 2 * i) * MiB;
		r.size = MiB;
		r.writable = w;
		r.pages = pages;
		r.cpu = f->cpu[i];
		r.pattern = 1000 + i;
		r.guard = 64 * MiB;
		r.dma_bits = 40;
		REQUIRE(dmar_gen_add_region(f->g, &r, &f->reg[i]) == DMAR_OK);
		if (!w)
			REQUIRE(dmar_gen_fill(f->g, f->reg[i]) == DMAR_OK);
	}
	(void)bad_ppm;
}

static void teardown(struct fx *f)
{
	dmar_gen_destroy(f->g);
	test_fx_teardown(&f->sys);
}

static unsigned engine(struct fx *f, dmar_gen_kind k, unsigned src, unsigned dst, uint32_t bad_ppm)
{
	dmar_gen_engine e = { .kind = k, .src = src, .dst = dst, .bad_ppm = bad_ppm };
	unsigned id = ~0u;

	if (k == DMAR_GEN_3D)
		e.width = 256; /* 256 px wide: 4 tiles per row; 1 MiB = 16 tiles */
	CHECK_ST(dmar_gen_add_engine(f->g, &e, &id), DMAR_OK);
	return id;
}

static void run(struct fx *f, unsigned e, unsigned batches, dmar_gen_counts *c)
{
	dmar_gen_req req[64];

	for (unsigned b = 0; b < batches; b++) {
		size_t n = dmar_gen_next(f->g, e, req, 64);

		CHECK_ST(dmar_gen_execute(f->g, e, req, n, c), DMAR_OK);
	}
}

TEST(S32_copy_engine_copies_every_byte_sequentially)
{
	struct fx f;
	dmar_gen_counts c = { 0 };
	dmar_gen_req req[64];
	unsigned e;

	setup(&f, 0);
	e = engine(&f, DMAR_GEN_COPY, f.reg[0], f.reg[1], 0);
	CHECK_EQ(dmar_gen_peek(f.g, e, req, 64), 64);
	CHECK_EQ(dmar_gen_next(f.g, e, req, 64), 64);
	for (unsigned i = 0; i < 64; i += 2) { /* read src, write dst, same offset, in order */
		CHECK_EQ(req[i].access, DMAR_ACCESS_READ);
		CHECK(req[i].flags & DMAR_GEN_COPY_SRC);
		CHECK_EQ(req[i + 1].access, DMAR_ACCESS_WRITE);
		CHECK_EQ(req[i].offset, (uint64_t)i / 2 * 4096);
		CHECK_EQ(req[i + 1].offset, req[i].offset);
		CHECK_EQ(req[i].addr, 16 * MiB + req[i].offset);
		CHECK_EQ(req[i + 1].addr, 18 * MiB + req[i].offset);
	}
	CHECK_ST(dmar_gen_execute(f.g, e, req, 64, &c), DMAR_OK);
	run(&f, e, 7, &c); /* 8 x 32 pages = all 256 */
	CHECK_EQ(c.requests, 512);
	CHECK_EQ(c.ok, 512);
	CHECK_EQ(c.bytes_written, MiB);
	/* the destination is now the source, byte for byte */
	CHECK(memcmp(f.cpu[0], f.cpu[1], MiB) == 0);
	teardown(&f);
}

TEST(S32_3d_reads_tiles_in_z_order_and_writes_the_render_target)
{
	struct fx f;
	dmar_gen_req req[64];
	dmar_gen_counts c = { 0 };
	uint64_t tiles[4];
	unsigned e, nt = 0;

	setup(&f, 0);
	e = engine(&f, DMAR_GEN_3D, f.reg[0], f.reg[1], 0);
	/* per tile 16 KiB / 256-byte rows = 64 reads; 3 reads per write */
	for (unsigned b = 0; b < 6 && nt < 4; b++) {
		size_t n = dmar_gen_next(f.g, e, req, 64);

		for (size_t i = 0; i < n; i++)
			if (req[i].access == DMAR_ACCESS_READ && req[i].offset % 16384 == 0 && nt < 4)
				tiles[nt++] = req[i].offset / 16384;
		CHECK_ST(dmar_gen_execute(f.g, e, req, n, &c), DMAR_OK);
	}
	REQUIRE(nt == 4);
	CHECK_EQ(tiles[0], 0); /* (0,0) (1,0) (0,1) (1,1) of a 4-tile-wide grid */
	CHECK_EQ(tiles[1], 1);
	CHECK_EQ(tiles[2], 4);
	CHECK_EQ(tiles[3], 5);
	CHECK_EQ(c.corrupt, 0);
	CHECK(c.bytes_verified > 0);
	CHECK(c.bytes_written > 0);
	teardown(&f);
}

TEST(S32_compute_gathers_follow_zipf_or_uniform)
{
	struct fx f;
	dmar_gen_req req[64];
	dmar_gen_engine ez = { .kind = DMAR_GEN_COMPUTE, .zipf_s = 1.2 }, eu = { .kind = DMAR_GEN_COMPUTE };
	unsigned hz[256] = { 0 }, hu[256] = { 0 }, idz, idu, topz = 0, topu = 0;

	setup(&f, 0);
	ez.src = f.reg[0];
	ez.dst = f.reg[1];
	eu.src = f.reg[2];
	eu.dst = f.reg[3];
	REQUIRE(dmar_gen_add_engine(f.g, &ez, &idz) == DMAR_OK);
	REQUIRE(dmar_gen_add_engine(f.g, &eu, &idu) == DMAR_OK);
	for (int b = 0; b < 200; b++) {
		size_t n = dmar_gen_next(f.g, idz, req, 64);

		for (size_t i = 0; i < n; i++)
			if (req[i].access == DMAR_ACCESS_READ)
				hz[req[i].offset / K4]++;
		n = dmar_gen_next(f.g, idu, req, 64);
		for (size_t i = 0; i < n; i++)
			if (req[i].access == DMAR_ACCESS_READ)
				hu[req[i].offset / K4]++;
	}
	for (int p = 0; p < 256; p++) {
		topz = hz[p] > topz ? hz[p] : topz;
		topu = hu[p] > topu ? hu[p] : topu;
	}
	/* 10240 gathers over 256 pages: uniform stays near 40 per page, Zipf piles on a few */
	CHECK(topu < 100);
	CHECK(topz > 1000);
	teardown(&f);
}

TEST(S7_injected_bad_accesses_are_all_refused_and_counted)
{
	struct fx f;
	dmar_gen_counts c = { 0 };
	dmar_faultq_stats qs;
	unsigned e;
	uint64_t inj = 0, exp = 0;

	setup(&f, 0);
	e = engine(&f, DMAR_GEN_COMMAND, f.reg[0], 0, 200000); /* one in five */
	run(&f, e, 100, &c);
	for (int k = 1; k < DMAR_GEN_BAD_COUNT; k++)
		inj += c.injected[k];
	for (int r = 1; r < DMAR_FAULT_COUNT; r++) {
		exp += c.faults_expected[r];
		CHECK_EQ(c.faults_unexpected[r], 0);
	}
	CHECK(inj > 1000 && inj < 1600);
	CHECK_EQ(exp, inj);
	CHECK(c.injected[DMAR_GEN_BAD_UNMAPPED] && c.injected[DMAR_GEN_BAD_LIMIT] &&
	      c.injected[DMAR_GEN_BAD_READONLY]);
	CHECK_EQ(c.faults_expected[DMAR_FAULT_NOT_PRESENT], c.injected[DMAR_GEN_BAD_UNMAPPED]);
	CHECK_EQ(c.faults_expected[DMAR_FAULT_DEVICE_WIDTH], c.injected[DMAR_GEN_BAD_LIMIT]);
	CHECK_EQ(c.faults_expected[DMAR_FAULT_WRITE], c.injected[DMAR_GEN_BAD_READONLY]);
	CHECK_EQ(c.requests, c.ok + exp);
	CHECK_EQ(c.not_refused + c.wrong + c.corrupt, 0);
	dmar_faultq_get_stats(dmar_iommu_faults(f.sys.mmu), &qs);
	CHECK_EQ(qs.faults, exp);
	/* the read-only region is untouched by the refused writes */
	dmar_gen_verify(f.g, &c);
	CHECK_EQ(c.corrupt, 0);
	teardown(&f);
}

TEST(S18_requests_marked_exclusive_must_be_refused)
{
	struct fx f;
	dmar_gen_counts c = { 0 };
	dmar_gen_req req[16];
	unsigned e;
	size_t n;

	setup(&f, 0);
	e = engine(&f, DMAR_GEN_DISPLAY, f.reg[2], 0, 0);
	n = dmar_gen_next(f.g, e, req, 16);
	dmar_gen_mark_exclusive(req, n);
	CHECK_ST(dmar_device_begin_exclusive(f.sys.dev), DMAR_OK);
	CHECK_ST(dmar_gen_execute(f.g, e, req, n, &c), DMAR_OK);
	CHECK_ST(dmar_device_end_exclusive(f.sys.dev), DMAR_OK);
	CHECK_EQ(c.faults_expected[DMAR_FAULT_EXCLUSIVE], 16);
	CHECK_EQ(c.injected[DMAR_GEN_BAD_EXCLUSIVE], 16);
	/* outside the window the same requests would translate: that is a failure to refuse */
	CHECK_ST(dmar_gen_execute(f.g, e, req, n, &c), DMAR_OK);
	CHECK_EQ(c.not_refused, 16);
	teardown(&f);
}

TEST(a_stale_translation_is_counted_wrong_and_moves_no_data)
{
	struct fx f;
	dmar_gen_counts c = { 0 };
	dmar_pa_t other;
	unsigned e;

	setup(&f, 0);
	e = engine(&f, DMAR_GEN_COMPUTE, f.reg[0], f.reg[1], 0);
	/* remap one page of the output somewhere else behind the generator's back */
	REQUIRE(dmar_physmem_alloc(f.sys.pm, 1, 12, DMAR_PLACE_ANY, 0, &other) == DMAR_OK);
	CHECK_ST(dmar_domain_unmap(f.sys.dom, 18 * MiB, K4, NULL), DMAR_OK);
	CHECK_ST(dmar_domain_map(f.sys.dom, 18 * MiB, other, K4, DMAR_PROT_READ | DMAR_PROT_WRITE),
		 DMAR_OK);
	run(&f, e, 10, &c);
	CHECK(c.wrong > 0);
	CHECK_EQ(c.requests, c.ok + c.wrong);
	teardown(&f);
}

TEST(traces_round_trip_and_damaged_ones_are_refused)
{
	char path[] = "/tmp/dmar-trace-XXXXXX";
	int fd = mkstemp(path);
	dmar_trace *t;
	dmar_gen_req a[3] = { { .addr = 0x1234000, .offset = 0x1000, .pasid = 7, .len = 64,
				.access = DMAR_ACCESS_WRITE, .bad = 0, .region = 513, .engine = 9,
				.flags = 1, .expect = 0 } }, b[3];
	unsigned type, e;
	size_t n;
	uint64_t seed;
	bool data;
	const char *scen;
	FILE *fp;

	REQUIRE(fd >= 0);
	close(fd);
	a[1] = a[0];
	a[1].addr = ~0ull;
	a[2] = a[0];
	a[2].expect = DMAR_FAULT_EXCLUSIVE;
	CHECK_ST(dmar_trace_create(path, 99, true, "[run]\nseed=99\n", &t), DMAR_OK);
	CHECK_ST(dmar_trace_write(t, DMAR_TRACE_REQUESTS, 9, a, 3), DMAR_OK);
	CHECK_ST(dmar_trace_write(t, DMAR_TRACE_EXCLUSIVE_BEGIN, 0, NULL, 0), DMAR_OK);
	CHECK_ST(dmar_trace_write(t, DMAR_TRACE_EXCLUSIVE_BEGIN, 0, a, 1), DMAR_E_INVALID);
	CHECK_ST(dmar_trace_write(t, 9, 0, NULL, 0), DMAR_E_INVALID);
	/* an invalidation carries exactly one request */
	CHECK_ST(dmar_trace_write(t, DMAR_TRACE_INVALIDATE, 0, NULL, 0), DMAR_E_INVALID);
	CHECK_ST(dmar_trace_write(t, DMAR_TRACE_INVALIDATE, 0, a, 2), DMAR_E_INVALID);
	CHECK_ST(dmar_trace_write(t, DMAR_TRACE_INVALIDATE, 0, NULL, 1), DMAR_E_INVALID);
	CHECK_ST(dmar_trace_write(t, DMAR_TRACE_INVALIDATE, 0, &a[1], 1), DMAR_OK);
	CHECK_ST(dmar_trace_close(t), DMAR_OK);

	CHECK_ST(dmar_trace_open(path, &t), DMAR_OK);
	dmar_trace_header(t, &seed, &data, &scen);
	CHECK_EQ(seed, 99);
	CHECK(data);
	CHECK(strcmp(scen, "[run]\nseed=99\n") == 0);
	/* 3 do not fit in 2: refused with nothing read or written, and read with room */
	type = e = 77;
	n = 77;
	memset(b, 0x5a, sizeof(b));
	CHECK_ST(dmar_trace_read(t, &type, &e, b, 2, &n), DMAR_E_INVALID);
	CHECK(type == 77 && e == 77 && n == 77 && b[0].addr == 0x5a5a5a5a5a5a5a5aull);
	CHECK_ST(dmar_trace_read(t, &type, &e, NULL, 0, &n), DMAR_E_INVALID);
	CHECK_ST(dmar_trace_read(t, &type, &e, b, 3, &n), DMAR_OK);
	CHECK_EQ(type, DMAR_TRACE_REQUESTS);
	CHECK_EQ(e, 9);
	CHECK_EQ(n, 3);
	CHECK(memcmp(a, b, sizeof(a)) == 0);
	CHECK_ST(dmar_trace_read(t, &type, &e, b, 3, &n), DMAR_OK);
	CHECK_EQ(type, DMAR_TRACE_EXCLUSIVE_BEGIN);
	CHECK_ST(dmar_trace_read(t, &type, &e, b, 3, &n), DMAR_OK);
	CHECK_EQ(type, DMAR_TRACE_INVALIDATE);
	CHECK_EQ(n, 1);
	CHECK(memcmp(&a[1], &b[0], sizeof(b[0])) == 0);
	CHECK_ST(dmar_trace_read(t, &type, &e, b, 3, &n), DMAR_OK);
	CHECK_EQ(type, DMAR_TRACE_END);
	CHECK_ST(dmar_trace_read(t, &type, &e, b, 3, &n), DMAR_E_RANGE);
	dmar_trace_close(t);

	/* dmagen.h's reserved bytes must be zero: one byte set in each (the header's flags past
	 * bit 0 and its reserved bytes refuse the open; a record's reserved word, a request's
	 * pad bytes and unknown flag bits, the first read); then put back */
	{
		const long s0 = 64 + (long)strlen("[run]\nseed=99\n");
		const struct {
			long at;
			int bits, at_open;
		} hit[] = { { 28, 0x02, 1 }, { 40, 0x01, 1 }, { 63, 0x80, 1 }, { s0 + 4, 0x01, 0 },
			    { s0 + 7, 0x80, 0 }, { s0 + 8 + 29, 0x01, 0 }, { s0 + 8 + 31, 0x10, 0 },
			    { s0 + 8 + 27, 0x80, 0 } };

		for (size_t k = 0; k < sizeof(hit) / sizeof(hit[0]); k++) {
			int was;

			fp = fopen(path, "r+b");
			REQUIRE(fp && fseek(fp, hit[k].at, SEEK_SET) == 0);
			was = fgetc(fp);
			REQUIRE(was != EOF && fseek(fp, hit[k].at, SEEK_SET) == 0);
			fputc(was | hit[k].bits, fp);
			fclose(fp);
			if (hit[k].at_open) {
				CHECK_ST(dmar_trace_open(path, &t), DMAR_E_INVALID);
			} else {
				CHECK_ST(dmar_trace_open(path, &t), DMAR_OK);
				CHECK_ST(dmar_trace_read(t, &type, &e, b, 3, &n), DMAR_E_INVALID);
				dmar_trace_close(t);
			}
			fp = fopen(path, "r+b");
			REQUIRE(fp && fseek(fp, hit[k].at, SEEK_SET) == 0);
			fputc(was, fp);
			fclose(fp);
		}
		CHECK_ST(dmar_trace_open(path, &t), DMAR_OK); /* whole again */
		CHECK_ST(dmar_trace_read(t, &type, &e, b, 3, &n), DMAR_OK);
		dmar_trace_close(t);
	}

	/* a record header cut short at the end: damaged, not the end */
	fp = fopen(path, "ab");
	REQUIRE(fp);
	fputs("abc", fp);
	fclose(fp);
	CHECK_ST(dmar_trace_open(path, &t), DMAR_OK);
	for (int i = 0; i < 4; i++)
		CHECK_ST(dmar_trace_read(t, &type, &e, b, 3, &n), DMAR_OK);
	CHECK_EQ(type, DMAR_TRACE_END);
	CHECK_ST(dmar_trace_read(t, &type, &e, b, 3, &n), DMAR_E_INVALID);
	dmar_trace_close(t);

	/* the invalidation record with no request: damaged */
	fp = fopen(path, "r+b");
	REQUIRE(fp);
	REQUIRE(fseek(fp, 64 + (long)strlen("[run]\nseed=99\n") + 8 + 3 * 32 + 8 + 2, SEEK_SET) == 0);
	fputc(0, fp);
	fclose(fp);
	CHECK_ST(dmar_trace_open(path, &t), DMAR_OK);
	CHECK_ST(dmar_trace_read(t, &type, &e, b, 3, &n), DMAR_OK);
	CHECK_ST(dmar_trace_read(t, &type, &e, b, 3, &n), DMAR_OK);
	CHECK_EQ(type, DMAR_TRACE_EXCLUSIVE_BEGIN);
	CHECK_ST(dmar_trace_read(t, &type, &e, b, 3, &n), DMAR_E_INVALID);
	dmar_trace_close(t);

	fp = fopen(path, "r+b"); /* not a trace any more */
	REQUIRE(fp);
	fputs("XXXX", fp);
	fclose(fp);
	CHECK_ST(dmar_trace_open(path, &t), DMAR_E_INVALID);
	CHECK_ST(dmar_trace_open("/nonexistent/x", &t), DMAR_E_NOT_FOUND);
	CHECK_ST(dmar_trace_open("/tmp", &t), DMAR_E_INVALID); /* a directory */
	unlink(path);
	/* a file that cannot be written: the header is refused at once; records show it at the
	 * latest when the trace is closed */
	if (access("/dev/full", W_OK) == 0) {
		CHECK_ST(dmar_trace_create("/dev/full", 1, false, NULL, &t), DMAR_E_NOMEM);
		/* (a scenario over 1 MiB is refused before anything is opened) */
		{
			char *big = malloc((1u << 20) + 2);

			REQUIRE(big);
			memset(big, 'x', (1u << 20) + 1);
			big[(1u << 20) + 1] = 0;
			CHECK_ST(dmar_trace_create("/dev/full", 1, false, big, &t), DMAR_E_INVALID);
			free(big);
		}
	}
	{
		/* the file stops growing at 4 KiB (RLIMIT_FSIZE, its signal ignored) */
		char full_path[] = "/tmp/dmar-trace-XXXXXX";
		const int ffd = mkstemp(full_path);
		struct rlimit was, lim;
		void (*was_sig)(int);
		int failed = 0;

		REQUIRE(ffd >= 0);
		close(ffd);
		REQUIRE(getrlimit(RLIMIT_FSIZE, &was) == 0);
		CHECK_ST(dmar_trace_create(full_path, 1, false, NULL, &t), DMAR_OK);
		was_sig = signal(SIGXFSZ, SIG_IGN);
		lim = was;
		lim.rlim_cur = 4096;
		REQUIRE(setrlimit(RLIMIT_FSIZE, &lim) == 0);
		for (int i = 0; i < 1024; i++)
			failed |= dmar_trace_write(t, DMAR_TRACE_REQUESTS, 0, a, 1) == DMAR_E_NOMEM;
		failed |= dmar_trace_close(t) == DMAR_E_NOMEM;
		REQUIRE(setrlimit(RLIMIT_FSIZE, &was) == 0);
		signal(SIGXFSZ, was_sig);
		CHECK(failed);
		unlink(full_path);
	}
}

TEST(bad_regions_engines_and_requests_are_refused)
{
	struct fx f;
	dmar_gen_region r = { .path = DMAR_GEN_LOGICAL, .base = 0, .size = K4, .dma_bits = 40 };
	dmar_gen_engine e = { .kind = DMAR_GEN_COPY };
	dmar_gen_counts c = { 0 };
	dmar_gen_req req[4];
	dmar_pa_t page = 0;
	unsigned id, ei;

	setup(&f, 0);
	CHECK_ST(dmar_gen_add_region(f.g, &r, &id), DMAR_E_INVALID); /* no pages */
	r.pages = &page;
	CHECK_ST(dmar_gen_add_region(f.g, &r, &id), DMAR_E_INVALID); /* no device */
	r.dev = f.sys.dev;
	r.size = 100;
	CHECK_ST(dmar_gen_add_region(f.g, &r, &id), DMAR_E_INVALID); /* not a page multiple */
	e.src = f.reg[0];
	e.dst = f.reg[2]; /* read-only destination */
	CHECK_ST(dmar_gen_add_engine(f.g, &e, &id), DMAR_E_INVALID);
	e.dst = f.reg[1];
	e.burst = 100;
	CHECK_ST(dmar_gen_add_engine(f.g, &e, &id), DMAR_E_INVALID);
	e.burst = 0;
	e.src = 99;
	CHECK_ST(dmar_gen_add_engine(f.g, &e, &id), DMAR_E_INVALID);
	e.src = f.reg[0];
	CHECK_ST(dmar_gen_add_engine(f.g, &e, &ei), DMAR_OK);
	CHECK_EQ(dmar_gen_next(f.g, ei, req, 4), 4);
	req[1].offset = MiB; /* outside its region */
	req[1].addr = 18 * MiB + MiB;
	CHECK_ST(dmar_gen_execute(f.g, ei, req, 4, &c), DMAR_E_INVALID);
	CHECK_EQ(c.requests, 0); /* nothing of the batch ran */
	CHECK_EQ(dmar_gen_next(f.g, ei, req, 4), 4);
	req[2].access |= 0x10; /* no such dmar_access bit */
	CHECK_ST(dmar_gen_execute(f.g, ei, req, 4, &c), DMAR_E_INVALID);
	CHECK_EQ(c.requests, 0);
	CHECK_ST(dmar_gen_execute(f.g, 7, req, 1, &c), DMAR_E_INVALID);
	dmar_thread_unregister();
	CHECK_ST(dmar_gen_execute(f.g, ei, req, 1, &c), DMAR_E_THREAD);
	dmar_thread_register();
	teardown(&f);
}

/* dmagen.h, dmar_gen_next(): an engine's stream does not depend on how many requests each
 * call asks for (injected bad requests included), and a copy engine never splits a pair. */
TEST(S32_an_engine_stream_is_the_same_whatever_each_call_asks_for)
{
	static const size_t sizes[] = { 3, 7, 1, 8, 2, 5, 64 };
	struct fx f;
	dmar_gen_req ref[512], got[600];

	setup(&f, 0);
	for (int k = DMAR_GEN_COPY; k <= DMAR_GEN_COMPUTE; k++) {
		const unsigned e = engine(&f, (dmar_gen_kind)k, f.reg[0], f.reg[1], 200000);
		const size_t nref = dmar_gen_peek(f.g, e, ref, 512);
		size_t n = 0, bads = 0;

		CHECK(nref >= 511); /* (a copy engine's last pair may not fit) */
		for (size_t c = 0; n < nref; c++) {
			const size_t ask = sizes[c % 7], m = dmar_gen_next(f.g, e, got + n, ask);

			CHECK(m <= ask);
			if (k == DMAR_GEN_COPY) /* short only where a pair did not fit */
				CHECK(m + 1 >= ask);
			else
				CHECK_EQ(m, ask);
			n += m;
		}
		CHECK(memcmp(got, ref, nref * sizeof(ref[0])) == 0);
		for (size_t i = 0; i < nref; i++) {
			bads += ref[i].bad != DMAR_GEN_GOOD;
			/* a copy read is followed by its write */
			if (ref[i].flags & DMAR_GEN_COPY_SRC)
				CHECK(i + 1 < n && got[i + 1].access == DMAR_ACCESS_WRITE &&
				      got[i + 1].offset == got[i].offset);
		}
		CHECK(bads > 40); /* the injected ones were part of it */
	}
	teardown(&f);
}

/* dmagen.h's limits and refusals: dma_bits 32..64, 65535 regions, 255 engines, the regions
 * dmar_gen_fill() takes, and names for values past the last. */
TEST(dmagen_h_limits_and_names)
{
	struct fx f;
	dmar_pa_t page = 0x100000;
	dmar_gen_region r = { .name = "x", .path = DMAR_GEN_LOGICAL, .base = 1ull << 40,
			      .size = K4, .pages = &page, .dma_bits = 31 };
	dmar_gen_engine e = { .kind = DMAR_GEN_COMMAND };
	unsigned id = 99, first, n;

	setup(&f, 0);
	r.dev = f.sys.dev;
	CHECK_ST(dmar_gen_add_region(f.g, &r, &id), DMAR_E_INVALID);
	r.dma_bits = 65;
	CHECK_ST(dmar_gen_add_region(f.g, &r, &id), DMAR_E_INVALID);
	CHECK_EQ(id, 99);
	r.dma_bits = 32;
	CHECK_ST(dmar_gen_add_region(f.g, &r, &first), DMAR_OK);
	r.dma_bits = 64;
	CHECK_ST(dmar_gen_add_region(f.g, &r, &id), DMAR_OK);
	/* dmar_gen_fill: an unknown region, one without a CPU mapping, a writable one */
	CHECK_ST(dmar_gen_fill(f.g, 1000), DMAR_E_INVALID);
	CHECK_ST(dmar_gen_fill(f.g, id), DMAR_E_INVALID);
	CHECK_ST(dmar_gen_fill(f.g, f.reg[1]), DMAR_E_INVALID);
	CHECK_ST(dmar_gen_fill(f.g, f.reg[0]), DMAR_OK);
	/* 255 engines, not 256 */
	e.src = first;
	for (n = 0; n < 300 && dmar_gen_add_engine(f.g, &e, &id) == DMAR_OK; n++)
		;
	CHECK_EQ(n, 255);
	CHECK_EQ(id, 254);
	/* 65535 regions, not 65536 */
	for (n = 6; n < 70000 && dmar_gen_add_region(f.g, &r, &id) == DMAR_OK; n++)
		;
	CHECK_EQ(n, 65535);
	CHECK_EQ(id, 65534);
	CHECK(strcmp(dmar_gen_kind_str(DMAR_GEN_KIND_COUNT), "unknown") == 0);
	CHECK(strcmp(dmar_gen_kind_str((dmar_gen_kind)-1), "unknown") == 0);
	CHECK(strcmp(dmar_gen_bad_str(DMAR_GEN_BAD_COUNT), "unknown") == 0);
	CHECK(strcmp(dmar_gen_kind_str(DMAR_GEN_COPY), "unknown") != 0);
	teardown(&f);
}

/* dmagen.h: burst 0 is the kind's own request size. */
TEST(S32_burst_0_is_each_kind_own_size)
{
	static const unsigned want[DMAR_GEN_KIND_COUNT] = {
		[DMAR_GEN_COPY] = 4096, [DMAR_GEN_3D] = 256, [DMAR_GEN_COMPUTE] = 64,
		[DMAR_GEN_DISPLAY] = 4096, [DMAR_GEN_COMMAND] = 64,
	};
	struct fx f;
	dmar_gen_req req[16];

	setup(&f, 0);
	for (int k = 0; k < DMAR_GEN_KIND_COUNT; k++) {
		const unsigned e = engine(&f, (dmar_gen_kind)k, f.reg[0], f.reg[1], 0);
		const size_t n = dmar_gen_next(f.g, e, req, 16);

		CHECK_EQ(n, 16);
		for (size_t i = 0; i < n; i++)
			CHECK_EQ(req[i].len, want[k]);
	}
	teardown(&f);
}

/* dmagen.h: an aperture region whose segment is none of its adapter's aperture segments is
 * refused by dmar_gen_execute with nothing counted (its translations are refused, and their
 * results are never read); the same region on the adapter's aperture segment runs. */
TEST(S4_an_aperture_region_on_no_aperture_segment_is_refused)
{
	dmar_physmem *pm = test_physmem(0);
	dmar_iommu *mmu = test_iommu(pm, 0);
	dmar_adapter_config ac;
	dmar_adapter *ad;
	dmar_start_decision why;
	dmar_gen_config gc;
	dmar_gen *g;
	dmar_gen_engine e = { .kind = DMAR_GEN_DISPLAY };
	dmar_gen_counts c;
	dmar_gen_req req[8];
	dmar_pa_t pages[4] = { 0x100000, 0x101000, 0x102000, 0x103000 };
	unsigned ids[2], ei;

	dmar_adapter_config_default(&ac);
	REQUIRE(ac.aperture_pages[0] >= 4);
	REQUIRE(dmar_adapter_create(mmu, &ac, &ad, &why) == DMAR_OK);
	REQUIRE(dmar_adapter_start(ad) == DMAR_OK);
	dmar_gen_config_default(&gc);
	gc.pm = pm;
	gc.data = false;
	REQUIRE(dmar_gen_create(&gc, &g) == DMAR_OK);
	for (unsigned k = 0; k < 2; k++) {
		/* segment 1 is the adapter's aperture segment; the last id is none */
		const dmar_gen_region r = { .name = "scanout", .path = DMAR_GEN_APERTURE, .ad = ad,
					    .segment = k ? DMAR_MAX_APERTURE_SEGMENTS : 1,
					    .size = 4 * K4, .pages = pages };

		REQUIRE(ac.aperture_pages[DMAR_MAX_APERTURE_SEGMENTS - 1] == 0);
		CHECK_ST(dmar_gen_add_region(g, &r, &ids[k]), DMAR_OK);
		e.src = ids[k];
		CHECK_ST(dmar_gen_add_engine(g, &e, &ei), DMAR_OK);
		memset(&c, 0, sizeof(c));
		CHECK_EQ(dmar_gen_next(g, ei, req, 8), 8);
		CHECK_ST(dmar_gen_execute(g, ei, req, 8, &c), k ? DMAR_E_INVALID : DMAR_OK);
		CHECK_EQ(c.requests, k ? 0 : 8);
	}
	dmar_gen_destroy(g);
	dmar_adapter_destroy(ad);
	dmar_iommu_destroy(mmu);
	dmar_physmem_destroy(pm);
}

/* A logical region on the fixture's device with @guard; one page behind it, so only a
 * one-page region (or one refused before its pages are read) may be asked for. */
static dmar_status one_page_region(struct fx *f, uint64_t base, uint64_t size, uint64_t guard)
{
	dmar_pa_t page = 0;
	dmar_gen_region r = { .name = "edge", .path = DMAR_GEN_LOGICAL, .dev = f->sys.dev,
			      .base = base, .size = size, .pages = &page, .guard = guard,
			      .dma_bits = 64 };
	unsigned id;

	return dmar_gen_add_region(f->g, &r, &id);
}

TEST(S32_a_region_may_end_at_2_64_but_not_run_past_it)
{
	struct fx f;

	setup(&f, 0);
	/* the last page of the 64-bit space: base + size is 0 in 64 bits, and legal */
	CHECK_ST(one_page_region(&f, 0ull - K4, K4, 0), DMAR_OK);
	/* a second page would wrap to 0; pages are only read for what is added, so none here */
	CHECK_ST(one_page_region(&f, 0ull - K4, 2 * K4, 0), DMAR_E_INVALID);
	CHECK_ST(one_page_region(&f, 0ull - 2 * K4, 0ull - K4, 0), DMAR_E_INVALID);
	CHECK_ST(one_page_region(&f, 2 * K4, 0ull - K4, 0), DMAR_E_INVALID); /* one page past */
	teardown(&f);
}

TEST(S7_an_unmapped_guard_page_that_wraps_or_meets_its_region_is_refused)
{
	struct fx f;

	setup(&f, 0);
	/* injected unmapped reads land in [guard, guard + 4 KiB): past 2^64 they would wrap to
	 * low addresses that may be mapped, and inside the region they are mapped */
	CHECK_ST(one_page_region(&f, 32 * MiB, K4, 0ull - 8), DMAR_E_INVALID);
	CHECK_ST(one_page_region(&f, 32 * MiB, K4, 0ull - K4 + 1), DMAR_E_INVALID);
	CHECK_ST(one_page_region(&f, 32 * MiB, K4, 32 * MiB), DMAR_E_INVALID);
	CHECK_ST(one_page_region(&f, 32 * MiB, K4, 32 * MiB - 1), DMAR_E_INVALID);
	CHECK_ST(one_page_region(&f, 32 * MiB, K4, 32 * MiB - K4), DMAR_OK);
	CHECK_ST(one_page_region(&f, 32 * MiB, K4, 0ull - K4), DMAR_OK); /* the very last page */
	teardown(&f);
}

TEST(S7_a_request_expected_to_land_must_lie_inside_its_region)
{
	struct fx f;
	dmar_gen_counts c = { 0 };
	dmar_gen_req req[4];
	unsigned e;

	setup(&f, 0);
	e = engine(&f, DMAR_GEN_COMMAND, f.reg[0], 0, 0);
	REQUIRE(dmar_gen_next(f.g, e, req, 4) == 4);
	/* a replayed record that says "bad" yet expects a translation, far outside its region:
	 * its offset would index the region's pages */
	req[2].bad = DMAR_GEN_BAD_UNMAPPED;
	req[2].offset = 1ull << 40;
	req[2].addr = 16 * MiB + req[2].offset;
	CHECK_ST(dmar_gen_execute(f.g, e, req, 4, &c), DMAR_E_INVALID);
	req[2].offset = 0ull - K4; /* base + offset wraps to an address below the region */
	req[2].addr = 16 * MiB + req[2].offset;
	CHECK_ST(dmar_gen_execute(f.g, e, req, 4, &c), DMAR_E_INVALID);
	CHECK_EQ(c.requests, 0);
	/* the same record expecting the fault it asks for is fine: nothing indexes its offset */
	req[2].expect = DMAR_FAULT_NOT_PRESENT;
	req[2].addr = 64 * MiB;
	CHECK_ST(dmar_gen_execute(f.g, e, req, 4, &c), DMAR_OK);
	CHECK_EQ(c.requests, 4);
	CHECK_EQ(c.faults_expected[DMAR_FAULT_NOT_PRESENT], 1);
	teardown(&f);
}

TEST(S32_a_nan_zipf_exponent_is_refused)
{
	struct fx f;
	dmar_gen_engine e = { .kind = DMAR_GEN_COMPUTE, .zipf_s = NAN };
	unsigned id;

	setup(&f, 0);
	e.src = f.reg[0];
	e.dst = f.reg[1];
	CHECK_ST(dmar_gen_add_engine(f.g, &e, &id), DMAR_E_INVALID);
	e.zipf_s = INFINITY;
	CHECK_ST(dmar_gen_add_engine(f.g, &e, &id), DMAR_E_INVALID);
	e.zipf_s = -0.5;
	CHECK_ST(dmar_gen_add_engine(f.g, &e, &id), DMAR_E_INVALID);
	e.zipf_s = 4;
	CHECK_ST(dmar_gen_add_engine(f.g, &e, &id), DMAR_OK);
	teardown(&f);
}

TEST(S32_a_trace_whose_scenario_holds_a_nul_byte_is_damaged)
{
	char path[] = "/tmp/dmar-trace-XXXXXX";
	int fd = mkstemp(path);
	dmar_trace *t = NULL;
	FILE *fp;

	REQUIRE(fd >= 0);
	close(fd);
	CHECK_ST(dmar_trace_create(path, 1, false, "[run]\nthreads=1\n", &t), DMAR_OK);
	CHECK_ST(dmar_trace_close(t), DMAR_OK);
	CHECK_ST(dmar_trace_open(path, &t), DMAR_OK);
	dmar_trace_close(t);
	/* byte 5 of the scenario ("[run]" then the newline) becomes a NUL: the text a reader
	 * would see is "[run]", the rest silently lost */
	fp = fopen(path, "r+b");
	REQUIRE(fp);
	CHECK(fseek(fp, 64 + 5, SEEK_SET) == 0);
	CHECK(fputc(0, fp) == 0);
	fclose(fp);
	t = NULL;
	CHECK_ST(dmar_trace_open(path, &t), DMAR_E_INVALID);
	CHECK(t == NULL);
	unlink(path);
}

RUN_TESTS(T(S4_an_aperture_region_on_no_aperture_segment_is_refused),
	  T(S32_an_engine_stream_is_the_same_whatever_each_call_asks_for),
	  T(S32_burst_0_is_each_kind_own_size), T(dmagen_h_limits_and_names),
	  T(S32_copy_engine_copies_every_byte_sequentially),
	  T(S32_3d_reads_tiles_in_z_order_and_writes_the_render_target),
	  T(S32_compute_gathers_follow_zipf_or_uniform),
	  T(S7_injected_bad_accesses_are_all_refused_and_counted),
	  T(S18_requests_marked_exclusive_must_be_refused),
	  T(a_stale_translation_is_counted_wrong_and_moves_no_data),
	  T(traces_round_trip_and_damaged_ones_are_refused),
	  T(bad_regions_engines_and_requests_are_refused),
	  T(S32_a_region_may_end_at_2_64_but_not_run_past_it),
	  T(S7_an_unmapped_guard_page_that_wraps_or_meets_its_region_is_refused),
	  T(S7_a_request_expected_to_land_must_lie_inside_its_region),
	  T(S32_a_nan_zipf_exponent_is_refused),
	  T(S32_a_trace_whose_scenario_holds_a_nul_byte_is_damaged))
