/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The IOTLB and translate paths (S28, S30): equal to the reference walker on random tables,
 * every SIMD probe equal to the scalar one (checkasm), batch equal to single, invalidation
 * by range / space / everything, the page-walk cache's cost, ASID rollover. */
#include <pthread.h>
#include <time.h>

#include "check.h"
#include "iotlb_internal.h"

#define K4 (1ull << 12)
#define M2 (1ull << 21)
#define G1 (1ull << 30)
#define RW (DMAR_PROT_READ | DMAR_PROT_WRITE)

static uint64_t rng = 0x8badf00d12345ull;
static uint64_t next(void)
{
	return test_xorshift(&rng);
}

struct fixture {
	dmar_physmem *pm;
	dmar_pgtable *pt;
	dmar_iotlb *tlb;
	dmar_space *sp;
};

static void flush_hook(void *ctx, dmar_iova_t iova, uint64_t size)
{
	dmar_space_invalidate_range(ctx, iova, size);
}

/* A table of @levels levels and a space over it in an IOTLB of @sets x @ways whose L0 mode
 * is @l0; no flush hook. */
static void setup_l0(struct fixture *f, unsigned levels, uint32_t sets, uint32_t ways,
		     dmar_l0_mode l0)
{
	dmar_pgtable_config pc;
	dmar_iotlb_config tc;

	f->pm = test_physmem(0);
	dmar_pgtable_config_default(&pc);
	pc.format.levels = levels;
	dmar_iotlb_config_default(&tc);
	tc.sets = sets;
	tc.ways = ways;
	tc.l0 = l0;
	if (dmar_pgtable_create(f->pm, &pc, &f->pt) != DMAR_OK ||
	    dmar_iotlb_create(&tc, &f->tlb) != DMAR_OK ||
	    dmar_space_create(f->tlb, f->pm, dmar_pgtable_root(f->pt), dmar_pgtable_format(f->pt),
			      &f->sp) != DMAR_OK) {
		printf("Bail out! fixture\n");
		exit(2);
	}
}

/* The same with the default L0 mode, the table's flush hook invalidating the space. */
static void setup(struct fixture *f, unsigned levels, uint32_t sets, uint32_t ways)
{
	setup_l0(f, levels, sets, ways, DMAR_L0_DEFAULT);
	dmar_pgtable_set_flush(f->pt, flush_hook, f->sp);
}

static void teardown(struct fixture *f)
{
	dmar_space_destroy(f->sp);
	CHECK_ST(dmar_iotlb_destroy(f->tlb), DMAR_OK);
	dmar_pgtable_destroy(f->pt);
	dmar_physmem_destroy(f->pm);
}

/* Where random_mappings() put something, for requests that mostly land on mapped pages. */
static uint64_t mapped_at[1024], mapped_size[1024];
static int nmapped;

/* A random mix of 4 KiB runs, 2 MiB and 1 GiB leaves with random permissions in [0, 64 GiB). */
static void random_mappings(struct fixture *f, int count)
{
	nmapped = 0;
	for (int i = 0; i < count; i++) {
		uint64_t kind = next() % 10, size, iova;
		unsigned prot = DMAR_PROT_READ | (unsigned)(next() & (DMAR_PROT_WRITE | DMAR_PROT_EXEC |
								    DMAR_PROT_USER | DMAR_PROT_PCD));

		if (kind == 0) {
			size = G1;
			iova = next() % 64 * G1;
		} else if (kind < 4) {
			size = M2;
			iova = next() % (64 * 512) * M2;
		} else {
			size = (1 + next() % 16) * K4;
			iova = next() % (64ull * G1 / K4 - 16) * K4;
		}
		if (dmar_pgtable_map(f->pt, iova, (0x1234ull << 30) + iova, size, prot) == DMAR_OK &&
		    nmapped < 1024) {
			mapped_at[nmapped] = iova;
			mapped_size[nmapped++] = size;
		}
	}
}

/* Requests that land on mapped pages most of the time, with every access kind. */
static dmar_iova_t random_iova(void)
{
	static uint64_t recent[256];
	uint64_t r = next() % 100, a;

	if (r < 3)
		return next(); /* mostly non-canonical */
	if (r < 5)
		return (1ull << 47) - K4 + next() % K4;
	if (r < 15)
		return next() % (64 * G1); /* mostly unmapped */
	if (r < 55)
		return recent[next() % 256]; /* again: an IOTLB hit when it was mapped */
	if (nmapped == 0)
		return 0;
	r = next() % (uint64_t)nmapped;
	/* mostly the first 64 pages of a large leaf, so that they repeat */
	a = mapped_at[r] + next() % (mapped_size[r] < 64 * K4 ? mapped_size[r] : 64 * K4);
	recent[next() % 256] = a;
	return a;
}

static int same(const dmar_result *a, const dmar_walk_result *w, dmar_status st)
{
	if (st == DMAR_OK)
		return a->fault == DMAR_FAULT_NONE && a->pa == w->pa && a->page_lg2 == w->page_lg2 &&
		       a->prot == w->prot;
	return a->fault == w->fault && a->pa == 0;
}

TEST(S30_translate_equals_reference_walker)
{
	for (unsigned levels = 4; levels <= 5; levels++) {
		struct fixture f;
		unsigned hits = 0, faults = 0;

		setup(&f, levels, 64, 4); /* small: evictions happen */
		random_mappings(&f, 400);
		for (int i = 0; i < 60000; i++) {
			dmar_iova_t iova = random_iova();
			unsigned access = (unsigned)(next() & 0xf);
			dmar_walk_result w;
			dmar_result r;
			dmar_status ref = dmar_walk(f.pm, dmar_pgtable_root(f.pt),
						    dmar_pgtable_format(f.pt), iova, access, &w);
			dmar_status got = dmar_translate(f.sp, iova, access, &r);

			CHECK_ST(got, ref);
			if (!same(&r, &w, ref)) {
				printf("#   iova %#" PRIx64 " access %u: got pa %#" PRIx64
				       " fault %u lg2 %u prot %#x, want pa %#" PRIx64 " fault %u lg2 %u prot %#x\n",
				       iova, access, r.pa, r.fault, r.page_lg2, r.prot, w.pa, w.fault,
				       w.page_lg2, w.prot);
				CHECK(0);
				break;
			}
			hits += (r.flags & DMAR_RESULT_HIT) != 0;
			faults += ref != DMAR_OK;
		}
		printf("# %u-level: %u hits, %u faults of 60000\n", levels, hits, faults);
		CHECK(hits > 1000 && faults > 1000);
		teardown(&f);
	}
}

TEST(S30_batch_equals_single)
{
	struct fixture f;
	enum { N = 3000 };
	static dmar_request req[N];
	static dmar_result a[N], b[N];
	size_t nf = 0, nf2 = 0;

	setup(&f, 4, 256, 8);
	random_mappings(&f, 300);
	for (int i = 0; i < N; i++) {
		req[i].iova = i % 3 ? random_iova() : req[i / 2].iova; /* repeats: hits in-batch */
		req[i].access = (uint32_t)(next() & 0xf);
	}
	for (int round = 0; round < 2; round++) {
		CHECK_ST(dmar_translate_batch(f.sp, req, a, N, &nf), DMAR_OK);
		nf2 = 0;
		for (int i = 0; i < N; i++) {
			dmar_status st = dmar_translate(f.sp, req[i].iova, req[i].access, &b[i]);

			nf2 += st != DMAR_OK;
			CHECK_EQ(a[i].pa, b[i].pa);
			CHECK_EQ(a[i].fault, b[i].fault);
			CHECK_EQ(a[i].page_lg2, b[i].page_lg2);
			CHECK_EQ(a[i].prot, b[i].prot);
		}
		CHECK_EQ(nf, nf2);
	}
	teardown(&f);
}

static void *batch_of_one_unregistered(void *arg)
{
	const dmar_request q = { .iova = 0, .access = DMAR_ACCESS_READ };
	dmar_result r = { .pa = 0x5a5a };
	size_t nf = 7;
	const dmar_status st = dmar_translate_batch(arg, &q, &r, 1, &nf);

	/* nothing translated, no refusal counted */
	return (void *)(uintptr_t)(st == DMAR_E_THREAD && r.pa == 0x5a5a && nf == 0);
}

/* S30, iotlb.h: a batch of one request answers as dmar_translate() does, flags included (two
 * IOTLBs over one table go through the same cache states), a refusal is DMAR_OK with one
 * fault counted, and bad arguments or an unregistered thread are refused with nothing
 * translated. */
TEST(S30_batch_of_one_is_dmar_translate)
{
	struct fixture f;
	dmar_iotlb_config tc;
	dmar_iotlb *tlb2;
	dmar_space *sp2;
	dmar_request q;
	dmar_result a, b;
	size_t nf, faults = 0, hits = 0;
	pthread_t th;
	void *ret;

	setup(&f, 4, 256, 8);
	random_mappings(&f, 300);
	dmar_iotlb_config_default(&tc);
	tc.sets = 256;
	REQUIRE(dmar_iotlb_create(&tc, &tlb2) == DMAR_OK);
	REQUIRE(dmar_space_create(tlb2, f.pm, dmar_pgtable_root(f.pt), dmar_pgtable_format(f.pt),
				  &sp2) == DMAR_OK);
	for (int i = 0; i < 20000; i++) {
		dmar_status sa, sb;

		q.iova = i % 4 ? random_iova() : q.iova; /* repeats: hits from the L0 */
		q.access = (uint32_t)(next() & DMAR_ACCESS_ALL);
		q.pasid = DMAR_NO_PASID;
		memset(&a, 0xcc, sizeof(a));
		memset(&b, 0xcc, sizeof(b));
		sa = dmar_translate(f.sp, q.iova, q.access, &a);
		nf = 99;
		sb = dmar_translate_batch(sp2, &q, &b, 1, &nf);
		CHECK_ST(sb, DMAR_OK);
		CHECK_EQ(nf, sa == DMAR_E_FAULT);
		CHECK(sa == DMAR_OK || sa == DMAR_E_FAULT);
		CHECK(memcmp(&a, &b, sizeof(a)) == 0);
		faults += sa == DMAR_E_FAULT;
		hits += (a.flags & DMAR_RESULT_HIT) != 0;
	}
	CHECK(faults > 1000 && hits > 1000); /* both kinds were compared */
	CHECK_ST(dmar_translate_batch(sp2, &q, &b, 1, NULL), DMAR_OK); /* nfaults may be NULL */
	/* refused arguments: nothing translated, no fault counted */
	memset(&b, 0x5a, sizeof(b));
	q.access = 0x10;
	nf = 7;
	CHECK_ST(dmar_translate_batch(sp2, &q, &b, 1, &nf), DMAR_E_INVALID);
	CHECK_EQ(nf, 0);
	q.access = DMAR_ACCESS_READ;
	CHECK_ST(dmar_translate_batch(NULL, &q, &b, 1, &nf), DMAR_E_INVALID);
	CHECK_ST(dmar_translate_batch(sp2, NULL, &b, 1, &nf), DMAR_E_INVALID);
	CHECK_ST(dmar_translate_batch(sp2, &q, NULL, 1, &nf), DMAR_E_INVALID);
	CHECK_EQ(b.pa, 0x5a5a5a5a5a5a5a5aull);
	REQUIRE(pthread_create(&th, NULL, batch_of_one_unregistered, sp2) == 0);
	pthread_join(th, &ret);
	CHECK_EQ((uintptr_t)ret, 1);
	dmar_space_destroy(sp2);
	CHECK_ST(dmar_iotlb_destroy(tlb2), DMAR_OK);
	teardown(&f);
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* The names of the ::dmar_simd values (iotlb.h). */
static const char *const simd_names[DMAR_SIMD_COUNT] = { NULL, "c", "sse42", "avx2", "avx512" };

static dmar_simd simd_id(const char *name)
{
	for (int k = DMAR_SIMD_C; k < DMAR_SIMD_COUNT; k++)
		if (strcmp(simd_names[k], name) == 0)
			return (dmar_simd)k;
	return DMAR_SIMD_COUNT;
}

/* iotlb.h: the default is the best of c, sse42 and avx2 that the CPU runs (of the @nv
 * variants of dmar_probe_variants(), in that order); AVX-512 only by name. */
static const char *simd_default_name(const struct dmar_probe_ops *const *v, size_t nv)
{
	const char *best = "c";

	for (size_t i = 0; i < nv; i++)
		if (strcmp(v[i]->name, "sse42") == 0 || strcmp(v[i]->name, "avx2") == 0)
			best = v[i]->name;
	return best;
}

/* iotlb.h's smaller promises: the NULL answers of the getters, unknown DMAR_SIMD and DMAR_L0
 * values falling back to the defaults, asid_bits 0 meaning 17, and a space's page-selective
 * range that ends exactly at 2^64 (taken) or runs past it (refused, nothing invalidated). */
TEST(iotlb_h_getters_defaults_and_range_ends)
{
	const struct dmar_probe_ops *v[DMAR_SIMD_COUNT];
	const size_t nv = dmar_probe_variants(v, DMAR_SIMD_COUNT);
	dmar_iotlb_config c;
	dmar_iotlb *t;
	dmar_iotlb_stats a, b;
	struct fixture f;

	CHECK(dmar_iotlb_variant(NULL) == NULL);
	CHECK_EQ(dmar_iotlb_l0_mode(NULL), DMAR_L0_DEFAULT);
	setenv("DMAR_SIMD", "neon", 1);
	setenv("DMAR_L0", "sometimes", 1);
	dmar_iotlb_config_default(&c);
	REQUIRE(dmar_iotlb_create(&c, &t) == DMAR_OK); /* (a warning on stderr for each) */
	CHECK(strcmp(dmar_iotlb_variant(t), simd_default_name(v, nv)) == 0);
	CHECK_EQ(dmar_iotlb_l0_mode(t), DMAR_L0_ADAPTIVE);
	CHECK_ST(dmar_iotlb_destroy(t), DMAR_OK);
	unsetenv("DMAR_SIMD");
	unsetenv("DMAR_L0");

	/* asid_bits 0 is 17: 2^17 - 1 ASIDs before the first rollover; 16 gives 2^16 - 1 */
	for (unsigned bits = 16; bits <= 17; bits++) {
		dmar_space *sp;

		setup(&f, 4, 64, 4);
		dmar_iotlb_config_default(&c);
		c.sets = 64;
		c.asid_bits = bits == 17 ? 0 : bits;
		REQUIRE(dmar_iotlb_create(&c, &t) == DMAR_OK);
		REQUIRE(dmar_space_create(t, f.pm, dmar_pgtable_root(f.pt), dmar_pgtable_format(f.pt),
					  &sp) == DMAR_OK);
		for (uint32_t i = 0; i < (1u << 16); i++)
			dmar_space_invalidate(sp);
		dmar_iotlb_get_stats(t, &a);
		CHECK_EQ(a.asid_rollovers, bits == 16 ? 1 : 0);
		for (uint32_t i = 0; i < (1u << 16); i++)
			dmar_space_invalidate(sp);
		dmar_iotlb_get_stats(t, &a);
		CHECK(a.asid_rollovers >= 1 && a.asid_rollovers <= (bits == 16 ? 2 : 1));
		dmar_space_destroy(sp);
		CHECK_ST(dmar_iotlb_destroy(t), DMAR_OK);
		teardown(&f);
	}

	/* ranges at the top of the input */
	setup(&f, 4, 256, 8);
	dmar_iotlb_get_stats(f.tlb, &a);
	CHECK_ST(dmar_space_invalidate_range(f.sp, ~0ull - 0xfff, K4), DMAR_OK);
	CHECK_ST(dmar_space_invalidate_range(f.sp, ~0ull, 1), DMAR_OK);
	dmar_iotlb_get_stats(f.tlb, &b);
	CHECK_EQ(b.invalidations, a.invalidations + 2);
	CHECK_ST(dmar_space_invalidate_range(f.sp, ~0ull - 0xfff, 0x2000), DMAR_E_INVALID);
	CHECK_ST(dmar_space_invalidate_range(f.sp, ~0ull, 2), DMAR_E_INVALID);
	CHECK_ST(dmar_space_invalidate_range(f.sp, 0x1000, 0), DMAR_E_INVALID);
	CHECK_ST(dmar_space_invalidate_range(NULL, 0x1000, K4), DMAR_E_INVALID);
	dmar_iotlb_get_stats(f.tlb, &a);
	CHECK_EQ(a.invalidations, b.invalidations);
	teardown(&f);
}

/* checkasm: every probe variant this CPU has, on the same cache contents and requests,
 * gives bit-identical results and miss lists; with --bench, each is timed on them too.
 * The AVX-512 variant's source also runs on SIMDe's portable intrinsics, on any CPU. */
TEST(S30_every_simd_probe_matches_scalar)
{
	const struct dmar_probe_ops *v[DMAR_SIMD_COUNT + 1];
	size_t nv = dmar_probe_variants(v, DMAR_SIMD_COUNT);
	enum { N = 4096 };
	static dmar_request req[N];
	static dmar_result ref[N], got[N];
	static uint32_t mref[N], mgot[N];

	CHECK(nv >= 1 && nv < DMAR_SIMD_COUNT);
	for (size_t i = 1; i < nv; i++) /* in the order of dmar_simd */
		CHECK(simd_id(v[i]->name) > simd_id(v[i - 1]->name));
#ifdef DMAR_TEST_PROBE_SIMDE
	v[nv++] = &dmar_probe_avx512_simde;
#else
	printf("# avx512-simde: not built (no SIMDe headers)\n");
#endif
	printf("# variants:");
	for (size_t i = 0; i < nv; i++)
		printf(" %s", v[i]->name);
	printf(" (default: %s)\n", dmar_iotlb_simd());
	CHECK(strcmp(v[0]->name, "c") == 0);
	for (uint32_t ways = 4; ways <= 8; ways += 4) {
		struct fixture f;
		uint64_t asid;

		setup(&f, 4, 128, ways);
		random_mappings(&f, 300);
		for (int i = 0; i < N; i++) { /* warm the cache with hits of every size */
			dmar_result r;

			(void)dmar_translate(f.sp, random_iova(), DMAR_ACCESS_READ, &r);
		}
		for (int i = 0; i < N; i++) {
			req[i].iova = random_iova();
			req[i].access = (uint32_t)(next() & 0xf);
		}
		asid = f.sp->asid;
		for (size_t n = 1; n <= N; n = n * 4 + 1) {
			size_t kref = dmar_probe_c.probe_batch(&f.tlb->tlb, asid, f.sp->cache_bias,
					req, ref, n, mref);

			for (size_t i = 1; i < nv; i++) {
				size_t k;

				memset(got, 0xcc, sizeof(got));
				memcpy(got, ref, sizeof(ref)); /* misses keep whatever was there */
				k = v[i]->probe_batch(&f.tlb->tlb, asid, f.sp->cache_bias,
						req, got, n, mgot);
				CHECK_EQ(k, kref);
				CHECK(memcmp(mgot, mref, k * sizeof(mref[0])) == 0);
				CHECK(memcmp(got, ref, n * sizeof(ref[0])) == 0);
			}
			CHECK(kref < n || n < 16); /* there were hits to compare */
		}
		if (test_bench_) { /* each variant's hit pass, on the same cache and requests */
			printf("# bench, %u ways, ns per request (hit pass of %d):", ways, N);
			for (size_t i = 0; i < nv; i++) {
				const double t0 = now_s();

				for (int k = 0; k < 2000; k++)
					(void)v[i]->probe_batch(&f.tlb->tlb, asid, f.sp->cache_bias,
							req, got, N, mgot);
				printf(" %s %.2f", v[i]->name, (now_s() - t0) * 1e9 / (2000.0 * N));
			}
			printf("\n");
		}
		/* and with a thread L0 in front: every variant starts from the same L0 (a copy
		 * half filled by a first pass) and must answer, miss and fill it identically */
		{
			const size_t bytes = dmar_l0_bytes(DMAR_L0_ENTRIES);
			struct dmar_l0 *l0ref = aligned_alloc(64, bytes), *l0got = aligned_alloc(64, bytes);
			struct dmar_l0 *l0start = aligned_alloc(64, bytes);
			size_t kref, k;

			REQUIRE(l0ref && l0got && l0start);
			memset(l0start, 0, bytes);
			l0start->mode = DMAR_L0_ADAPTIVE; /* (row and clock NULL: in no thread's row) */
			l0start->mask = DMAR_L0_ENTRIES - 1;
			dmar__l0_reset(l0start, 1, DMAR_L0_ENTRIES, 0);
			(void)dmar_probe_l0(&dmar_probe_c, &f.tlb->tlb, asid, f.sp->cache_bias,
					req, ref, N / 2, mref,
					    l0start);
			memcpy(l0ref, l0start, bytes);
			kref = dmar_probe_l0(&dmar_probe_c, &f.tlb->tlb, asid, f.sp->cache_bias,
					req, ref, N, mref, l0ref);
			CHECK(l0ref->hits > 0);
			for (size_t i = 1; i < nv; i++) {
				memcpy(got, ref, sizeof(ref));
				memcpy(l0got, l0start, bytes);
				k = dmar_probe_l0(v[i], &f.tlb->tlb, asid, f.sp->cache_bias,
						req, got, N, mgot, l0got);
				CHECK_EQ(k, kref);
				CHECK(memcmp(mgot, mref, k * sizeof(mref[0])) == 0);
				CHECK(memcmp(got, ref, N * sizeof(ref[0])) == 0);
				CHECK(memcmp(l0got, l0ref, bytes) == 0);
			}
			free(l0ref);
			free(l0got);
			free(l0start);
			/* with the L0 or without: the same answers */
			memcpy(got, ref, sizeof(ref));
			k = dmar_probe_c.probe_batch(&f.tlb->tlb, asid, f.sp->cache_bias,
					req, got, N, mgot);
			CHECK_EQ(k, kref);
			CHECK(memcmp(got, ref, N * sizeof(ref[0])) == 0);
		}
		/* find_way on random sets, duplicates and empty ways included */
		for (int t = 0; t < 20000; t++) {
			uint64_t set[16] __attribute__((aligned(64)));
			uint64_t tag = next() % 8;

			for (unsigned w = 0; w < 2 * ways; w++)
				set[w] = next() % 8;
			for (size_t i = 1; i < nv; i++)
				CHECK_EQ(v[i]->find_way(set, ways, tag), dmar_probe_c.find_way(set, ways, tag));
		}
		teardown(&f);
	}
}

/* design decision 6 and iotlb.h: two IOTLBs in one process share nothing; each keeps the
 * probe variant and L0 mode it was created with, whatever the other and the environment
 * say, and both answer alike. */
TEST(S30_two_iotlbs_keep_their_own_probe_variant_and_l0_mode)
{
	const struct dmar_probe_ops *v[DMAR_SIMD_COUNT];
	const size_t nv = dmar_probe_variants(v, DMAR_SIMD_COUNT);
	dmar_physmem *pm = test_physmem(0);
	dmar_pgtable_config pc;
	dmar_pgtable *pt;
	dmar_iotlb_config ca, cb;
	dmar_iotlb *a, *b, *t = NULL;
	dmar_space *sa, *sb;
	dmar_iotlb_stats st_a, st_b;
	dmar_request q[64];
	dmar_result ra[64], rb[64], r;

	dmar_pgtable_config_default(&pc);
	REQUIRE(dmar_pgtable_create(pm, &pc, &pt) == DMAR_OK);
	CHECK_ST(dmar_pgtable_map(pt, 0x40000000, 0x10000000, 64 * K4, RW), DMAR_OK);
	/* a: the scalar probe, no L0; b: the best variant here, L0 always; the environment
	 * asks for the opposite of both, and is only a default */
	setenv("DMAR_SIMD", "c", 1);
	setenv("DMAR_L0", "always", 1);
	dmar_iotlb_config_default(&ca);
	ca.simd = DMAR_SIMD_C;
	ca.l0 = DMAR_L0_OFF;
	cb = ca;
	cb.simd = simd_id(v[nv - 1]->name);
	cb.l0 = DMAR_L0_ALWAYS;
	REQUIRE(dmar_iotlb_create(&ca, &a) == DMAR_OK);
	REQUIRE(dmar_iotlb_create(&cb, &b) == DMAR_OK);
	CHECK(strcmp(dmar_iotlb_variant(a), "c") == 0);
	CHECK(strcmp(dmar_iotlb_variant(b), simd_names[cb.simd]) == 0);
	CHECK_EQ(dmar_iotlb_l0_mode(a), DMAR_L0_OFF);
	CHECK_EQ(dmar_iotlb_l0_mode(b), DMAR_L0_ALWAYS);
	/* the defaults follow the environment */
	ca.simd = DMAR_SIMD_DEFAULT;
	ca.l0 = DMAR_L0_DEFAULT;
	REQUIRE(dmar_iotlb_create(&ca, &t) == DMAR_OK);
	CHECK(strcmp(dmar_iotlb_variant(t), "c") == 0);
	CHECK_EQ(dmar_iotlb_l0_mode(t), DMAR_L0_ALWAYS);
	CHECK(strcmp(dmar_iotlb_simd(), "c") == 0);
	CHECK_ST(dmar_iotlb_destroy(t), DMAR_OK);
	/* AVX-512 by name: taken where the CPU runs it, else the default (with a warning) */
	setenv("DMAR_SIMD", "avx512", 1);
	CHECK(strcmp(dmar_iotlb_simd(), strcmp(v[nv - 1]->name, "avx512") == 0 ? "avx512" :
				simd_default_name(v, nv)) == 0);
	unsetenv("DMAR_SIMD");
	unsetenv("DMAR_L0");
	CHECK(strcmp(dmar_iotlb_simd(), simd_default_name(v, nv)) == 0);
	/* every variant by name: taken if this CPU runs it, else not supported; unknown values
	 * are invalid */
	for (int k = DMAR_SIMD_C; k < DMAR_SIMD_COUNT; k++) {
		int here = 0;

		for (size_t i = 0; i < nv; i++)
			here |= strcmp(v[i]->name, simd_names[k]) == 0;
		t = NULL;
		ca.simd = (dmar_simd)k;
		CHECK_ST(dmar_iotlb_create(&ca, &t), here ? DMAR_OK : DMAR_E_NOT_SUPPORTED);
		CHECK_ST(dmar_iotlb_destroy(t), DMAR_OK);
	}
	ca.simd = (dmar_simd)DMAR_SIMD_COUNT;
	CHECK_ST(dmar_iotlb_create(&ca, &t), DMAR_E_INVALID);
	ca.simd = DMAR_SIMD_DEFAULT;
	ca.l0 = (dmar_l0_mode)DMAR_L0_MODE_COUNT;
	CHECK_ST(dmar_iotlb_create(&ca, &t), DMAR_E_INVALID);

	/* side by side over one table: the same answers, each from its own caches */
	REQUIRE(dmar_space_create(a, pm, dmar_pgtable_root(pt), dmar_pgtable_format(pt), &sa) ==
		DMAR_OK);
	REQUIRE(dmar_space_create(b, pm, dmar_pgtable_root(pt), dmar_pgtable_format(pt), &sb) ==
		DMAR_OK);
	for (int i = 0; i < 64; i++)
		q[i] = (dmar_request){ .iova = 0x40000000 + (uint64_t)i * K4 + 8,
				       .access = DMAR_ACCESS_READ };
	for (int round = 0; round < 100; round++) {
		CHECK_ST(dmar_translate_batch(sa, q, ra, 64, NULL), DMAR_OK);
		CHECK_ST(dmar_translate_batch(sb, q, rb, 64, NULL), DMAR_OK);
		for (int i = 0; i < 64; i++) {
			CHECK_EQ(ra[i].pa, 0x10000000 + (uint64_t)i * K4 + 8);
			CHECK_EQ(rb[i].pa, ra[i].pa);
		}
		CHECK_ST(dmar_translate(sb, q[round % 64].iova, DMAR_ACCESS_READ, &r), DMAR_OK);
		CHECK_EQ(r.pa, ra[round % 64].pa);
	}
	dmar_iotlb_get_stats(a, &st_a);
	dmar_iotlb_get_stats(b, &st_b);
	CHECK_EQ(st_a.translations, 6400);
	CHECK_EQ(st_b.translations, 6500);
	CHECK_EQ(st_a.l0_hits, 0);
	CHECK(st_b.l0_hits >= 6000);
	CHECK_EQ(st_a.misses, 64); /* each walked its pages once, on its own */
	CHECK_EQ(st_b.misses, 64);
	/* an invalidation in one leaves the other's caches alone */
	dmar_space_invalidate(sa);
	CHECK_ST(dmar_translate(sb, q[3].iova, DMAR_ACCESS_READ, &r), DMAR_OK);
	CHECK_EQ(r.flags & DMAR_RESULT_HIT, DMAR_RESULT_HIT);
	CHECK_ST(dmar_translate(sa, q[3].iova, DMAR_ACCESS_READ, &r), DMAR_OK);
	CHECK_EQ(r.flags & DMAR_RESULT_HIT, 0);
	dmar_space_destroy(sa);
	dmar_space_destroy(sb);
	CHECK_ST(dmar_iotlb_destroy(a), DMAR_OK);
	CHECK_ST(dmar_iotlb_destroy(b), DMAR_OK);
	dmar_pgtable_destroy(pt);
	dmar_physmem_destroy(pm);
}

/* checkasm, end to end: one IOTLB per probe variant this CPU runs (dmar_iotlb_config.simd),
 * each with the L0 off and always, over one table, fed the same requests in the same order,
 * gives every result bit for bit (flags included: the caches go through the same states).
 * With --bench it also times each variant on the same warm requests, side by side. */
TEST(S30_every_variant_per_iotlb_translates_alike)
{
	const struct dmar_probe_ops *v[DMAR_SIMD_COUNT];
	const size_t nv = dmar_probe_variants(v, DMAR_SIMD_COUNT);
	enum { N = 2048, ROUNDS = 2000 };
	static dmar_request req[N];
	static dmar_result ref[N], got[N];
	struct fixture f;

	setup(&f, 4, 256, 8);
	random_mappings(&f, 300);
	for (int i = 0; i < N; i++) {
		req[i].iova = random_iova();
		req[i].access = (uint32_t)(next() & DMAR_ACCESS_ALL);
	}
	for (int l0 = DMAR_L0_ALWAYS; l0 <= DMAR_L0_OFF; l0++) {
		dmar_iotlb *tlb[DMAR_SIMD_COUNT];
		dmar_space *sp[DMAR_SIMD_COUNT];
		double ns[DMAR_SIMD_COUNT] = { 0 };

		for (size_t k = 0; k < nv; k++) {
			dmar_iotlb_config c;

			dmar_iotlb_config_default(&c);
			c.sets = 256;
			c.simd = simd_id(v[k]->name);
			c.l0 = (dmar_l0_mode)l0;
			REQUIRE(dmar_iotlb_create(&c, &tlb[k]) == DMAR_OK);
			CHECK(strcmp(dmar_iotlb_variant(tlb[k]), v[k]->name) == 0);
			REQUIRE(dmar_space_create(tlb[k], f.pm, dmar_pgtable_root(f.pt),
						  dmar_pgtable_format(f.pt), &sp[k]) == DMAR_OK);
		}
		for (int pass = 0; pass < 4; pass++) { /* cold, then warmer */
			for (size_t k = 0; k < nv; k++) {
				dmar_result *r = k ? got : ref;
				size_t nf = 0;

				CHECK_ST(dmar_translate_batch(sp[k], req, r, N, &nf), DMAR_OK);
				if (k)
					CHECK(memcmp(got, ref, sizeof(ref)) == 0);
			}
		}
		for (size_t k = 0; test_bench_ && k < nv; k++) {
			const double t0 = now_s();

			for (int i = 0; i < ROUNDS; i++)
				(void)dmar_translate_batch(sp[k], req, got, N, NULL);
			ns[k] = (now_s() - t0) * 1e9 / ((double)ROUNDS * N);
		}
		if (test_bench_) {
			printf("# bench, L0 %s, ns per request (batches of %d, warm):", l0 == DMAR_L0_OFF
			       ? "off" : "always", N);
			for (size_t k = 0; k < nv; k++)
				printf(" %s %.2f", v[k]->name, ns[k]);
			printf("\n");
		}
		for (size_t k = 0; k < nv; k++) {
			dmar_space_destroy(sp[k]);
			CHECK_ST(dmar_iotlb_destroy(tlb[k]), DMAR_OK);
		}
	}
	teardown(&f);
}

TEST(S28_stale_until_invalidated_then_gone)
{
	struct fixture f;
	dmar_result r;

	setup(&f, 4, 4096, 8);
	dmar_pgtable_set_flush(f.pt, NULL, NULL); /* this test invalidates by hand */
	CHECK_ST(dmar_pgtable_map(f.pt, 0x10000, 0x777000, K4, RW), DMAR_OK);
	CHECK_ST(dmar_translate(f.sp, 0x10010, DMAR_ACCESS_READ, &r), DMAR_OK);
	CHECK_EQ(r.flags & DMAR_RESULT_HIT, 0);
	CHECK_ST(dmar_translate(f.sp, 0x10010, DMAR_ACCESS_READ, &r), DMAR_OK);
	CHECK_EQ(r.flags & DMAR_RESULT_HIT, DMAR_RESULT_HIT);
	CHECK_ST(dmar_pgtable_unmap(f.pt, 0x10000, K4, NULL), DMAR_OK);
	/* a real IOTLB: the cached translation outlives the table change ... */
	CHECK_ST(dmar_translate(f.sp, 0x10010, DMAR_ACCESS_READ, &r), DMAR_OK);
	CHECK_EQ(r.pa, 0x777010);
	/* ... until the invalidation */
	CHECK_ST(dmar_space_invalidate_range(f.sp, 0x10000, K4), DMAR_OK);
	CHECK_ST(dmar_translate(f.sp, 0x10010, DMAR_ACCESS_READ, &r), DMAR_E_FAULT);
	CHECK_EQ(r.fault, DMAR_FAULT_NOT_PRESENT);
	/* a write to a read-only page is never answered from the cache */
	CHECK_ST(dmar_pgtable_map(f.pt, 0x20000, 0x888000, K4, DMAR_PROT_READ), DMAR_OK);
	CHECK_ST(dmar_translate(f.sp, 0x20000, DMAR_ACCESS_READ, &r), DMAR_OK);
	CHECK_ST(dmar_translate(f.sp, 0x20000, DMAR_ACCESS_WRITE, &r), DMAR_E_FAULT);
	CHECK_EQ(r.fault, DMAR_FAULT_WRITE);
	teardown(&f);
}

/* The thread L0 (cache.h) in front of the IOTLB: an entry never outlives an invalidation,
 * and what one IOTLB left in it is never an answer of another (even at the same address). */
#define L0_ROUNDS (4 * (DMAR_L0_SKIP + DMAR_L0_WINDOW) / 8)
TEST(S28_thread_l0_never_outlives_an_invalidation)
{
	struct fixture f;
	dmar_result r;
	dmar_request q[8];
	dmar_result rs[8];

	setup(&f, 4, 128, 8);
	CHECK_ST(dmar_pgtable_map(f.pt, 0x40000000, 0x10000000, K4, RW), DMAR_OK);
	for (int i = 0; i < 8; i++) {
		q[i] = (dmar_request){ .iova = 0x40000000 + 8u * (unsigned)i, .access = DMAR_ACCESS_READ,
				       .pasid = DMAR_NO_PASID };
	}
	for (int round = 0; round < 3; round++) { /* walk, IOTLB hit (fills the L0), L0 hit */
		CHECK_ST(dmar_translate(f.sp, 0x40000000, DMAR_ACCESS_READ, &r), DMAR_OK);
		CHECK_EQ(r.pa, 0x10000000);
		CHECK_ST(dmar_translate_batch(f.sp, q, rs, 8, NULL), DMAR_OK);
		CHECK_EQ(rs[7].pa, 0x10000038);
	}
	/* past any skip the thread is in (a window that missed more than it hit, DMAR_L0_SKIP
	 * requests without the L0 follow), the L0 answers every request */
	for (int round = 0; round < L0_ROUNDS; round++)
		CHECK_ST(dmar_translate_batch(f.sp, q, rs, 8, NULL), DMAR_OK);
	{
		dmar_iotlb_stats st;

		dmar_iotlb_get_stats(f.tlb, &st);
		CHECK(st.l0_hits > 8 * L0_ROUNDS / 2);
	}
	/* remapped elsewhere: the unmap invalidates (flush hook), the L0 entry must go too */
	CHECK_ST(dmar_pgtable_unmap(f.pt, 0x40000000, K4, NULL), DMAR_OK);
	CHECK_ST(dmar_translate(f.sp, 0x40000000, DMAR_ACCESS_READ, &r), DMAR_E_FAULT);
	CHECK_ST(dmar_translate_batch(f.sp, q, rs, 8, NULL), DMAR_OK);
	CHECK_EQ(rs[0].fault, DMAR_FAULT_NOT_PRESENT);
	CHECK_ST(dmar_pgtable_map(f.pt, 0x40000000, 0x20000000, K4, RW), DMAR_OK);
	for (int round = 0; round < L0_ROUNDS; round++) {
		CHECK_ST(dmar_translate_batch(f.sp, q, rs, 8, NULL), DMAR_OK);
		CHECK_EQ(rs[1].pa, 0x20000008);
	}
	teardown(&f);

	/* a new IOTLB (at the old one's address, likely) with another table: never the old pa */
	for (int t = 0; t < 4; t++) {
		setup(&f, 4, 128, 8);
		CHECK_ST(dmar_pgtable_map(f.pt, 0x40000000, 0x10000000 + (uint64_t)t * K4, K4, RW), DMAR_OK);
		for (int round = 0; round < L0_ROUNDS; round++) {
			CHECK_ST(dmar_translate(f.sp, 0x40000000, DMAR_ACCESS_READ, &r), DMAR_OK);
			CHECK_EQ(r.pa, 0x10000000 + (uint64_t)t * K4);
			CHECK_ST(dmar_translate_batch(f.sp, q, rs, 8, NULL), DMAR_OK);
			CHECK_EQ(rs[1].pa, 0x10000008 + (uint64_t)t * K4);
		}
		teardown(&f);
	}
}

/* An unmap that splits a large leaf must flush the leaf's
 * whole span, or the IOTLB keeps its other pages with the old size (page_lg2 21 for pages
 * a 4 KiB leaf now maps), and cached and walked translations disagree (S28, S30). */
TEST(S28_splitting_a_large_leaf_flushes_its_other_pages)
{
	struct fixture f;
	dmar_result r, w;
	dmar_walk_result wr;

	setup(&f, 4, 128, 8);
	CHECK_ST(dmar_pgtable_map(f.pt, 0x40000000, 0x10000000, 1ull << 21, RW), DMAR_OK);
	for (int round = 0; round < 3; round++) { /* cached, L0 included */
		CHECK_ST(dmar_translate(f.sp, 0x40001000, DMAR_ACCESS_READ, &r), DMAR_OK);
		CHECK_EQ(r.page_lg2, 21);
	}
	CHECK_ST(dmar_pgtable_unmap(f.pt, 0x40100000, K4, NULL), DMAR_OK); /* splits the leaf */
	CHECK_ST(dmar_translate(f.sp, 0x40001000, DMAR_ACCESS_READ, &r), DMAR_OK);
	CHECK_ST(dmar_pgtable_walk(f.pt, 0x40001000, DMAR_ACCESS_READ, &wr), DMAR_OK);
	CHECK_EQ(r.page_lg2, wr.page_lg2);
	CHECK_EQ(r.page_lg2, 12);
	CHECK_EQ(r.pa, 0x10001000);
	{
		dmar_request q = { .iova = 0x40001000, .access = DMAR_ACCESS_READ, .pasid = DMAR_NO_PASID };

		CHECK_ST(dmar_translate_batch(f.sp, &q, &w, 1, NULL), DMAR_OK);
		CHECK_EQ(w.page_lg2, 12);
	}
	CHECK_ST(dmar_translate(f.sp, 0x40100000, DMAR_ACCESS_READ, &r), DMAR_E_FAULT);
	teardown(&f);
}

TEST(S28_range_invalidation_any_alignment_and_large_pages)
{
	struct fixture f;
	dmar_result r;

	setup(&f, 4, 4096, 8);
	CHECK_ST(dmar_pgtable_map(f.pt, G1, 5 * G1, G1, RW), DMAR_OK);
	for (uint64_t a = G1; a < 2 * G1; a += 7 * M2 + 3 * K4)
		CHECK_ST(dmar_translate(f.sp, a, DMAR_ACCESS_READ, &r), DMAR_OK);
	/* the hook invalidates [G1 + 5 MiB + 4 KiB, +12 KiB) as unmap splits the 1 GiB leaf */
	CHECK_ST(dmar_pgtable_unmap(f.pt, G1 + 5 * (1ull << 20) + K4, 3 * K4, NULL), DMAR_OK);
	for (uint64_t a = G1 + 5 * (1ull << 20); a < G1 + 5 * (1ull << 20) + 5 * K4; a += K4) {
		dmar_status want = a >= G1 + 5 * (1ull << 20) + K4 && a < G1 + 5 * (1ull << 20) + 4 * K4
					   ? DMAR_E_FAULT : DMAR_OK;

		CHECK_ST(dmar_translate(f.sp, a + 8, DMAR_ACCESS_READ, &r), want);
		if (want == DMAR_OK) {
			CHECK_EQ(r.pa, a + 8 + 4 * G1);
			CHECK_EQ(r.page_lg2, 12); /* the split made 4 KiB leaves here */
		}
	}
	CHECK_ST(dmar_translate(f.sp, G1 + 100 * M2 + 5, DMAR_ACCESS_READ, &r), DMAR_OK);
	CHECK_EQ(r.page_lg2, 21);
	CHECK_EQ(r.pa, 5 * G1 + 100 * M2 + 5);
	/* an unaligned 1-byte invalidation still covers its page */
	CHECK_ST(dmar_space_invalidate_range(f.sp, G1 + 100 * M2 + 77, 1), DMAR_OK);
	CHECK_ST(dmar_space_invalidate_range(f.sp, 0, 0), DMAR_E_INVALID);
	CHECK_ST(dmar_space_invalidate_range(f.sp, ~0ull, 2), DMAR_E_INVALID);
	teardown(&f);
}

/* S28 with large leaves, as an emulated IOMMU's guest does it: the table changes under a
 * 2 MiB or 1 GiB leaf (no flush hook here: the guest writes its tables and invalidates on its
 * own), then ONE 4 KiB page of the leaf is invalidated.  Like INVLPG and VT-d page-selective
 * invalidation, that drops every cached translation of the leaf, whichever page it was
 * cached for: no page of the old leaf translates to its old frame afterwards, through the
 * single path or a batch. */
TEST(S28_invalidating_one_page_drops_its_whole_large_leaf)
{
	for (unsigned lg2 = DMAR_PAGE_2M_LG2; lg2 <= DMAR_PAGE_1G_LG2; lg2 += 9) {
		const uint64_t span = 1ull << lg2, base = 4 * G1, old_pa = 8 * G1, new_pa = 12 * G1;
		const uint64_t pages[4] = { 0, 5, 77, span / K4 - 1 };
		struct fixture f;
		dmar_result r;
		dmar_request q[4];
		dmar_result rs[4];

		setup(&f, 4, 4096, 8);
		dmar_pgtable_set_flush(f.pt, NULL, NULL);
		CHECK_ST(dmar_pgtable_map(f.pt, base, old_pa, span, RW), DMAR_OK);
		for (int round = 0; round < 2; round++)
			for (int i = 0; i < 4; i++) {
				CHECK_ST(dmar_translate(f.sp, base + pages[i] * K4, DMAR_ACCESS_READ, &r),
					 DMAR_OK);
				CHECK_EQ(r.pa, old_pa + pages[i] * K4);
				CHECK_EQ(r.page_lg2, lg2);
			}
		CHECK(r.flags & DMAR_RESULT_HIT);
		/* the guest points the leaf elsewhere; the cache does not know yet */
		CHECK_ST(dmar_pgtable_unmap(f.pt, base, span, NULL), DMAR_OK);
		CHECK_ST(dmar_pgtable_map(f.pt, base, new_pa, span, RW), DMAR_OK);
		CHECK_ST(dmar_translate(f.sp, base + 5 * K4, DMAR_ACCESS_READ, &r), DMAR_OK);
		CHECK_EQ(r.pa, old_pa + 5 * K4); /* stale until invalidated (S28) */
		/* one page, not one of those cached */
		CHECK_ST(dmar_space_invalidate_range(f.sp, base + 9 * K4, K4), DMAR_OK);
		for (int i = 0; i < 4; i++) {
			CHECK_ST(dmar_translate(f.sp, base + pages[i] * K4 + 8, DMAR_ACCESS_READ, &r),
				 DMAR_OK);
			CHECK_EQ(r.pa, new_pa + pages[i] * K4 + 8);
			q[i] = (dmar_request){ .iova = base + pages[i] * K4 + 16,
					       .access = DMAR_ACCESS_READ };
		}
		/* again, for a batch, with the translations cached from the new leaf */
		CHECK_ST(dmar_pgtable_unmap(f.pt, base, span, NULL), DMAR_OK);
		CHECK_ST(dmar_pgtable_map(f.pt, base, old_pa, span, RW), DMAR_OK);
		CHECK_ST(dmar_space_invalidate_range(f.sp, base + span - 1, 1), DMAR_OK);
		CHECK_ST(dmar_translate_batch(f.sp, q, rs, 4, NULL), DMAR_OK);
		for (int i = 0; i < 4; i++)
			CHECK_EQ(rs[i].pa, old_pa + pages[i] * K4 + 16);
		/* an invalidation elsewhere leaves the leaf's translations cached */
		CHECK_ST(dmar_translate_batch(f.sp, q, rs, 4, NULL), DMAR_OK);
		CHECK_ST(dmar_space_invalidate_range(f.sp, base + 2 * G1 + 3 * span, K4), DMAR_OK);
		CHECK_ST(dmar_translate(f.sp, base + 77 * K4, DMAR_ACCESS_READ, &r), DMAR_OK);
		CHECK(r.flags & DMAR_RESULT_HIT);
		CHECK_EQ(r.pa, old_pa + 77 * K4);
		teardown(&f);
	}
}

/* iotlb.h, S30: a batch's results equal the singles' in every field but flags, and flags
 * differ exactly where the header says: a page that missed earlier in the same batch is
 * walked again, not hit. */
TEST(S30_batch_results_equal_singles_but_for_the_hit_flag_of_repeats)
{
	struct fixture f, g;
	dmar_request q[6];
	dmar_result b[6], s1[6];

	setup(&f, 4, 256, 8);
	setup(&g, 4, 256, 8);
	CHECK_ST(dmar_pgtable_map(f.pt, 0x40000000, 0x10000000, 4 * K4, RW), DMAR_OK);
	CHECK_ST(dmar_pgtable_map(g.pt, 0x40000000, 0x10000000, 4 * K4, RW), DMAR_OK);
	/* P, Q, P, P, unmapped, Q: all cold */
	for (int i = 0; i < 6; i++)
		q[i] = (dmar_request){ .iova = 0x40000000 + (i == 1 || i == 5 ? K4 : 0) + 8 * (unsigned)i,
				       .access = DMAR_ACCESS_READ };
	q[4].iova = 0x50000000;
	CHECK_ST(dmar_translate_batch(f.sp, q, b, 6, NULL), DMAR_OK);
	for (int i = 0; i < 6; i++)
		(void)dmar_translate(g.sp, q[i].iova, q[i].access, &s1[i]);
	for (int i = 0; i < 6; i++) {
		CHECK_EQ(b[i].pa, s1[i].pa);
		CHECK_EQ(b[i].fault, s1[i].fault);
		CHECK_EQ(b[i].page_lg2, s1[i].page_lg2);
		CHECK_EQ(b[i].prot, s1[i].prot);
		CHECK_EQ(b[i].flags, 0); /* nothing was cached when the batch probed */
	}
	CHECK_EQ(s1[0].flags, 0);
	CHECK_EQ(s1[2].flags, DMAR_RESULT_HIT); /* the singles' repeats hit */
	CHECK_EQ(s1[3].flags, DMAR_RESULT_HIT);
	CHECK_EQ(s1[5].flags, DMAR_RESULT_HIT);
	CHECK_EQ(s1[4].flags, 0);
	/* warm, a batch hits everything mapped */
	CHECK_ST(dmar_translate_batch(f.sp, q, b, 6, NULL), DMAR_OK);
	for (int i = 0; i < 6; i++)
		CHECK_EQ(b[i].flags, i == 4 ? 0u : (unsigned)DMAR_RESULT_HIT);
	teardown(&f);
	teardown(&g);
}

/* iotlb.h: a range of up to 64 pages is invalidated page by page (the space's other pages
 * stay cached, its ASID stays), a larger one retires the ASID (everything refills).  Either
 * way the pages of the range are gone. */
TEST(S28_ranges_up_to_64_pages_are_visited_larger_ones_retire_the_asid)
{
	struct fixture f;
	dmar_result r;

	setup(&f, 4, 4096, 8);
	CHECK_ST(dmar_pgtable_map(f.pt, 0, 0x100000000ull, 256 * K4, RW), DMAR_OK);
	for (uint64_t n = 63; n <= 66; n++) {
		const uint64_t asid = f.sp->asid;

		for (uint64_t a = 0; a < 256 * K4; a += K4)
			CHECK_ST(dmar_translate(f.sp, a, DMAR_ACCESS_READ, &r), DMAR_OK);
		/* unaligned: n + 1 pages met when the range starts mid-page */
		CHECK_ST(dmar_space_invalidate_range(f.sp, 8 * K4 + (n == 64 ? 0 : 100),
						     n == 64 ? 64 * K4 : (n - 1) * K4), DMAR_OK);
		CHECK_EQ(f.sp->asid == asid, n <= 64);
		for (uint64_t p = 8; p < 8 + n; p++) {
			CHECK_ST(dmar_translate(f.sp, p * K4, DMAR_ACCESS_READ, &r), DMAR_OK);
			CHECK_EQ(r.flags & DMAR_RESULT_HIT, 0);
		}
		CHECK_ST(dmar_translate(f.sp, 200 * K4, DMAR_ACCESS_READ, &r), DMAR_OK);
		CHECK_EQ(!!(r.flags & DMAR_RESULT_HIT), n <= 64);
		CHECK_EQ(r.pa, 0x100000000ull + 200 * K4);
	}
	teardown(&f);
}

TEST(S28_space_and_global_invalidation_are_o1)
{
	struct fixture f;
	dmar_iotlb_stats a, b;
	dmar_result r;
	uint64_t asid;

	setup(&f, 4, 4096, 8);
	CHECK_ST(dmar_pgtable_map(f.pt, 0, 0x100000000ull, 64 * K4, RW), DMAR_OK);
	for (int round = 0; round < 2; round++)
		for (uint64_t a = 0; a < 64 * K4; a += K4)
			CHECK_ST(dmar_translate(f.sp, a, DMAR_ACCESS_READ, &r), DMAR_OK);
	CHECK(r.flags & DMAR_RESULT_HIT);
	asid = f.sp->asid;
	dmar_space_invalidate(f.sp);
	CHECK(f.sp->asid != asid);
	dmar_iotlb_get_stats(f.tlb, &a);
	for (uint64_t a2 = 0; a2 < 64 * K4; a2 += K4) {
		CHECK_ST(dmar_translate(f.sp, a2, DMAR_ACCESS_READ, &r), DMAR_OK);
		CHECK_EQ(r.flags & DMAR_RESULT_HIT, 0);
	}
	dmar_iotlb_invalidate_all(f.tlb);
	CHECK_ST(dmar_translate(f.sp, 0, DMAR_ACCESS_READ, &r), DMAR_OK);
	CHECK_EQ(r.flags & DMAR_RESULT_HIT, 0);
	dmar_iotlb_get_stats(f.tlb, &b);
	CHECK_EQ(b.hits, a.hits);
	CHECK_EQ(b.misses, a.misses + 65);
	CHECK_EQ(b.translations, b.hits + b.misses);
	CHECK(b.invalidations >= a.invalidations + 1);
	teardown(&f);
}

/* A VT-d second-stage table (4 levels, 48-bit, accessed/dirty bits), cached in @tlb under
 * group @tag, with 4 KiB pages at @iova. */
static dmar_pgtable *vtd_table(dmar_physmem *pm, dmar_iotlb *tlb, uint32_t tag, dmar_space **sp)
{
	dmar_pgtable_config pc;
	dmar_pgtable *pt = NULL;

	dmar_pgtable_config_default(&pc);
	pc.format = (dmar_pt_format){ .kind = DMAR_PT_VTD_SS, .levels = 4, .pa_bits = 48,
				      .flags = DMAR_PT_AD | DMAR_PT_1G };
	CHECK_ST(dmar_pgtable_create(pm, &pc, &pt), DMAR_OK);
	CHECK_ST(dmar_space_create(tlb, pm, dmar_pgtable_root(pt), dmar_pgtable_format(pt), sp),
		 DMAR_OK);
	CHECK_ST(dmar_space_set_tag(*sp, tag), DMAR_OK);
	return pt;
}

/* Translate @iova for a read through @sp: its address (0 when refused). */
static uint64_t pa_of(dmar_space *sp, uint64_t iova)
{
	dmar_result r;

	return dmar_translate(sp, iova, DMAR_ACCESS_READ, &r) == DMAR_OK ? r.pa : 0;
}

/* The guest points @iova's page of @pt elsewhere (@pa) and tells the IOTLB nothing. */
static void repoint(dmar_pgtable *pt, uint64_t iova, uint64_t size, uint64_t pa)
{
	CHECK_ST(dmar_pgtable_unmap(pt, iova, size, NULL), DMAR_OK);
	CHECK_ST(dmar_pgtable_map(pt, iova, pa, size, RW), DMAR_OK);
}

/* iotlb.h, S28: a group (an IOMMU's domain id) is invalidated as a whole, every space in it
 * and no other, by domain and by page; what the call did not cover stays cached. */
TEST(S28_a_tag_invalidates_every_space_of_its_group_and_no_other)
{
	dmar_physmem *pm = test_physmem(0);
	dmar_iotlb_config tc;
	dmar_iotlb *tlb;
	dmar_space *sp[3];
	dmar_pgtable *pt[3];
	const uint32_t tags[3] = { 7, 7, 0x10007 };
	const uint64_t a = 0x10000, b = 0x5000000, c = 0x7ffffffff000ull;
	dmar_iotlb_stats st0, st1;
	size_t n = 99;

	dmar_iotlb_config_default(&tc);
	CHECK_ST(dmar_iotlb_create(&tc, &tlb), DMAR_OK);
	for (int i = 0; i < 3; i++) {
		pt[i] = vtd_table(pm, tlb, tags[i], &sp[i]);
		CHECK_EQ(dmar_space_tag(sp[i]), tags[i]);
		CHECK_ST(dmar_pgtable_map(pt[i], a, 0x100000 * (i + 1), K4, RW), DMAR_OK);
		CHECK_ST(dmar_pgtable_map(pt[i], b, 0x200000 * (i + 1), K4, RW), DMAR_OK);
		CHECK_ST(dmar_pgtable_map(pt[i], c, 0x300000 * (i + 1), K4, RW), DMAR_OK);
		for (int k = 0; k < 2; k++) {
			CHECK_EQ(pa_of(sp[i], a), 0x100000 * (i + 1));
			CHECK_EQ(pa_of(sp[i], b), 0x200000 * (i + 1));
			CHECK_EQ(pa_of(sp[i], c), 0x300000 * (i + 1));
		}
		repoint(pt[i], a, K4, 0x1100000 * (i + 1));
		repoint(pt[i], b, K4, 0x1200000 * (i + 1));
		repoint(pt[i], c, K4, 0x1300000 * (i + 1));
		CHECK_EQ(pa_of(sp[i], a), 0x100000 * (i + 1)); /* stale until invalidated */
	}
	CHECK_EQ(dmar_space_tag(NULL), 0);
	CHECK_ST(dmar_space_set_tag(NULL, 1), DMAR_E_INVALID);

	/* page-selective in group 7: that page of both spaces, nothing else */
	dmar_iotlb_get_stats(tlb, &st0);
	CHECK_ST(dmar_iotlb_invalidate_tag_range(tlb, 7, a + 5, 1, &n), DMAR_OK);
	dmar_iotlb_get_stats(tlb, &st1);
	CHECK_EQ(n, 2);
	CHECK_EQ(st1.invalidations, st0.invalidations + 1);
	for (int i = 0; i < 2; i++) {
		CHECK_EQ(pa_of(sp[i], a), 0x1100000 * (i + 1));
		CHECK_EQ(pa_of(sp[i], b), 0x200000 * (i + 1));
	}
	CHECK_EQ(pa_of(sp[2], a), 0x300000);
	/* the last page of the 48-bit input; a range that ends at 2^64 */
	CHECK_ST(dmar_iotlb_invalidate_tag_range(tlb, 7, c, K4, NULL), DMAR_OK);
	for (int i = 0; i < 2; i++)
		CHECK_EQ(pa_of(sp[i], c), 0x1300000 * (i + 1));
	CHECK_ST(dmar_iotlb_invalidate_tag_range(tlb, 7, ~0ull - 0xfff, K4, &n), DMAR_OK);
	CHECK_EQ(n, 2);
	/* bad ranges: a status, nothing invalidated */
	dmar_iotlb_get_stats(tlb, &st0);
	n = 99;
	CHECK_ST(dmar_iotlb_invalidate_tag_range(tlb, 7, b, 0, &n), DMAR_E_INVALID);
	CHECK_ST(dmar_iotlb_invalidate_tag_range(tlb, 7, ~0ull - 0xfff, 0x2000, &n), DMAR_E_INVALID);
	CHECK_ST(dmar_iotlb_invalidate_tag_range(NULL, 7, b, K4, &n), DMAR_E_INVALID);
	CHECK_ST(dmar_iotlb_invalidate_tag(NULL, 7, &n), DMAR_E_INVALID);
	CHECK_EQ(n, 99);
	dmar_iotlb_get_stats(tlb, &st1);
	CHECK_EQ(st1.invalidations, st0.invalidations);
	for (int i = 0; i < 2; i++)
		CHECK_EQ(pa_of(sp[i], b), 0x200000 * (i + 1));

	/* domain-selective: group 7 whole; a group nobody is in; the tag compared whole */
	CHECK_ST(dmar_iotlb_invalidate_tag(tlb, 7, &n), DMAR_OK);
	CHECK_EQ(n, 2);
	for (int i = 0; i < 2; i++)
		CHECK_EQ(pa_of(sp[i], b), 0x1200000 * (i + 1));
	CHECK_EQ(pa_of(sp[2], b), 0x600000);
	CHECK_ST(dmar_iotlb_invalidate_tag(tlb, 0xdead, &n), DMAR_OK);
	CHECK_EQ(n, 0);
	CHECK_EQ(pa_of(sp[2], b), 0x600000);
	CHECK_ST(dmar_iotlb_invalidate_tag(tlb, 0x10007, NULL), DMAR_OK);
	CHECK_EQ(pa_of(sp[2], a), 0x3300000);
	CHECK_EQ(pa_of(sp[2], b), 0x3600000);

	/* a space leaves a group when retagged, and a destroyed one is no longer counted */
	CHECK_ST(dmar_space_set_tag(sp[1], 8), DMAR_OK);
	CHECK_EQ(pa_of(sp[1], a), 0x2200000);
	repoint(pt[1], a, K4, 0x100000);
	CHECK_EQ(pa_of(sp[1], a), 0x2200000);
	CHECK_ST(dmar_iotlb_invalidate_tag(tlb, 7, &n), DMAR_OK);
	CHECK_EQ(n, 1);
	CHECK_EQ(pa_of(sp[1], a), 0x2200000);
	CHECK_ST(dmar_iotlb_invalidate_tag(tlb, 8, &n), DMAR_OK);
	CHECK_EQ(pa_of(sp[1], a), 0x100000);
	dmar_space_destroy(sp[0]);
	CHECK_ST(dmar_iotlb_invalidate_tag(tlb, 7, &n), DMAR_OK);
	CHECK_EQ(n, 0);
	for (int i = 1; i < 3; i++)
		dmar_space_destroy(sp[i]);
	CHECK_ST(dmar_iotlb_destroy(tlb), DMAR_OK);
	for (int i = 0; i < 3; i++)
		dmar_pgtable_destroy(pt[i]);
	dmar_physmem_destroy(pm);
}

/* iotlb.h: a page-selective invalidation of a group drops a large leaf's translations
 * whichever page of it they were cached for, as dmar_space_invalidate_range() does. */
TEST(S28_a_tag_range_drops_the_whole_large_leaf_it_meets)
{
	dmar_physmem *pm = test_physmem(0);
	dmar_iotlb_config tc;
	dmar_iotlb *tlb;
	dmar_space *sp;
	dmar_pgtable *pt;
	const uint64_t base = 3 * G1;

	dmar_iotlb_config_default(&tc);
	CHECK_ST(dmar_iotlb_create(&tc, &tlb), DMAR_OK);
	for (unsigned lg2 = DMAR_PAGE_2M_LG2; lg2 <= DMAR_PAGE_1G_LG2; lg2 += 9) {
		const uint64_t span = 1ull << lg2;

		pt = vtd_table(pm, tlb, 3, &sp);
		CHECK_ST(dmar_pgtable_map(pt, base, 1ull << 40, span, RW), DMAR_OK);
		for (int k = 0; k < 2; k++)
			CHECK_EQ(pa_of(sp, base + 5 * K4), (1ull << 40) + 5 * K4);
		repoint(pt, base, span, 4 * G1 - (lg2 == DMAR_PAGE_1G_LG2 ? G1 : 0));
		CHECK_EQ(pa_of(sp, base + 5 * K4), (1ull << 40) + 5 * K4);
		CHECK_ST(dmar_iotlb_invalidate_tag_range(tlb, 3, base + span - K4, K4, NULL), DMAR_OK);
		CHECK_EQ(pa_of(sp, base + 5 * K4),
			 4 * G1 - (lg2 == DMAR_PAGE_1G_LG2 ? G1 : 0) + 5 * K4);
		dmar_space_destroy(sp);
		dmar_pgtable_destroy(pt);
	}
	CHECK_ST(dmar_iotlb_destroy(tlb), DMAR_OK);
	dmar_physmem_destroy(pm);
}

/* The physical address of the entry a walk of VT-d table @root reads at @level for @iova. */
static uint64_t vtd_entry_pa(dmar_physmem *pm, uint64_t root, uint64_t iova, unsigned level)
{
	uint64_t table = root, e = 0;

	for (unsigned l = 4; l > level; l--) {
		CHECK_ST(dmar_physmem_read(pm, table + 8 * ((iova >> (12 + 9 * (l - 1))) & 511), &e,
					   8), DMAR_OK);
		table = e & 0x000ffffffffff000ull;
	}
	return table + 8 * ((iova >> (12 + 9 * (level - 1))) & 511);
}

/* iotlb.h, dmar_translate_detail(): when the cached path refuses and memory now allows (the
 * invalidation not made yet), the call returns memory's translation, and its walk from
 * memory changes no cache (S28: what the caches hold changes with invalidations only, and a
 * fill must be checked against the invalidations that raced it); from an unregistered thread
 * it is refused with nothing changed. */
static void *detail_unregistered(void *arg)
{
	dmar_fault_info info;
	dmar_result r;
	dmar_status st;

	memset(&info, 0xa5, sizeof(info));
	st = dmar_translate_detail(arg, 0, DMAR_ACCESS_READ, &r, &info);
	return (void *)(uintptr_t)(st == DMAR_E_THREAD && info.level == 0xa5);
}

TEST(S28_translate_detail_fills_no_cache_from_its_walk)
{
	dmar_physmem *pm = test_physmem(0);
	dmar_iotlb_config tc;
	dmar_iotlb *tlb;
	dmar_space *sp;
	dmar_pgtable *pt;
	dmar_fault_info info;
	dmar_iotlb_stats a, b;
	dmar_result r;
	uint64_t root, l2a, l2b, was, other;
	pthread_t th;
	void *ret;

	dmar_iotlb_config_default(&tc);
	CHECK_ST(dmar_iotlb_create(&tc, &tlb), DMAR_OK);
	pt = vtd_table(pm, tlb, 1, &sp);
	root = dmar_pgtable_root(pt);
	CHECK_ST(dmar_pgtable_map(pt, 2 * M2, 0x888000, K4, RW), DMAR_OK);
	CHECK_ST(dmar_pgtable_map(pt, 4 * M2 + K4, 0x999000, K4, RW), DMAR_OK);
	/* the walk cache holds the level-2 entry of 2 MiB; in memory it now points at the
	 * 4 KiB table of 4 MiB, whose second entry is mapped */
	CHECK_ST(dmar_translate(sp, 2 * M2, DMAR_ACCESS_READ, &r), DMAR_OK);
	l2a = vtd_entry_pa(pm, root, 2 * M2, 2);
	l2b = vtd_entry_pa(pm, root, 4 * M2, 2);
	CHECK_ST(dmar_physmem_read(pm, l2a, &was, 8), DMAR_OK);
	CHECK_ST(dmar_physmem_read(pm, l2b, &other, 8), DMAR_OK);
	CHECK_ST(dmar_physmem_write(pm, l2a, &other, 8), DMAR_OK);
	CHECK_ST(dmar_translate(sp, 2 * M2 + K4, DMAR_ACCESS_READ, &r), DMAR_E_FAULT);
	dmar_iotlb_get_stats(tlb, &a);
	memset(&info, 0xa5, sizeof(info));
	CHECK_ST(dmar_translate_detail(sp, 2 * M2 + K4 + 8, DMAR_ACCESS_READ, &r, &info), DMAR_OK);
	CHECK_EQ(r.pa, 0x999008);
	CHECK(info.level == 0 && info.entry == 0);
	dmar_iotlb_get_stats(tlb, &b);
	CHECK_EQ(b.fills_dropped, a.fills_dropped);
	/* nothing cached from it: the cached path still refuses, until the invalidation */
	for (int i = 0; i < 3; i++) {
		CHECK_ST(dmar_translate(sp, 2 * M2 + K4, DMAR_ACCESS_READ, &r), DMAR_E_FAULT);
		CHECK_EQ(r.flags, 0);
	}
	dmar_space_invalidate(sp);
	CHECK_ST(dmar_translate(sp, 2 * M2 + K4 + 8, DMAR_ACCESS_READ, &r), DMAR_OK);
	CHECK_EQ(r.pa, 0x999008);
	REQUIRE(pthread_create(&th, NULL, detail_unregistered, sp) == 0);
	pthread_join(th, &ret);
	CHECK_EQ((uintptr_t)ret, 1);
	dmar_space_destroy(sp);
	CHECK_ST(dmar_iotlb_destroy(tlb), DMAR_OK);
	CHECK_ST(dmar_physmem_write(pm, l2a, &was, 8), DMAR_OK); /* the table is its own again */
	dmar_pgtable_destroy(pt);
	dmar_physmem_destroy(pm);
}

/* iotlb.h, dmar_translate_detail(): where a refused walk stopped, as dmar_walk() reports it
 * for the same table, and read from memory even where the page-walk cache holds the path. */
TEST(S29_translate_detail_names_the_level_and_entry_a_walk_stopped_at)
{
	dmar_physmem *pm = test_physmem(0);
	dmar_iotlb_config tc;
	dmar_iotlb *tlb;
	dmar_space *sp, *bad;
	dmar_pgtable *pt;
	dmar_fault_info info;
	dmar_walk_result w;
	dmar_result r;
	const uint64_t ro = 0x10000, hole = 0x7f0000000000ull | DMAR_VTD_SS_R | DMAR_VTD_SS_W;
	uint64_t root, l2, l3, e, junk = 0x123000, l2_was, l3_was;
	struct {
		uint64_t iova;
		unsigned access;
		dmar_fault fault;
		unsigned level;
	} cases[] = {
		{ ro, DMAR_ACCESS_WRITE, DMAR_FAULT_WRITE, 1 },
		{ G1 + ro, DMAR_ACCESS_READ, DMAR_FAULT_NOT_PRESENT, 3 },
		{ 1ull << 48, DMAR_ACCESS_READ, DMAR_FAULT_ADDR_WIDTH, 4 },
		{ 2 * M2, DMAR_ACCESS_READ, DMAR_FAULT_TABLE_ADDR, 1 },
		{ 8 * M2 + ro, DMAR_ACCESS_WRITE, DMAR_FAULT_WRITE, 2 },
	};

	dmar_iotlb_config_default(&tc);
	CHECK_ST(dmar_iotlb_create(&tc, &tlb), DMAR_OK);
	pt = vtd_table(pm, tlb, 1, &sp);
	root = dmar_pgtable_root(pt);
	CHECK_ST(dmar_pgtable_map(pt, ro, 0x777000, K4, DMAR_PROT_READ), DMAR_OK);
	CHECK_ST(dmar_pgtable_map(pt, 2 * M2, 0x888000, K4, RW), DMAR_OK);
	CHECK_ST(dmar_pgtable_map(pt, 8 * M2, 0, M2, DMAR_PROT_READ), DMAR_OK);
	/* translated: nothing to report */
	memset(&info, 0xa5, sizeof(info));
	CHECK_ST(dmar_translate_detail(sp, ro + 8, DMAR_ACCESS_READ, &r, &info), DMAR_OK);
	CHECK_EQ(r.pa, 0x777008);
	CHECK(info.level == 0 && info.entry == 0);
	/* the walk cache holds the path to 2 MiB; then its level-2 entry points into a hole
	 * and a junk entry (R = W = 0: not present in VT-d) goes into level 3 */
	CHECK_ST(dmar_translate(sp, 2 * M2, DMAR_ACCESS_READ, &r), DMAR_OK);
	l2 = vtd_entry_pa(pm, root, 2 * M2, 2);
	CHECK_ST(dmar_physmem_read(pm, l2, &l2_was, 8), DMAR_OK);
	CHECK_ST(dmar_physmem_write(pm, l2, &hole, 8), DMAR_OK);
	l3 = vtd_entry_pa(pm, root, G1 + ro, 3);
	CHECK_ST(dmar_physmem_read(pm, l3, &l3_was, 8), DMAR_OK);
	CHECK_ST(dmar_physmem_write(pm, l3, &junk, 8), DMAR_OK);
	dmar_space_invalidate(sp);
	CHECK_ST(dmar_translate(sp, ro, DMAR_ACCESS_READ, &r), DMAR_OK); /* the walk cache again */
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* (the detail first: the accessed bits it reports are the ones its walk set) */
		memset(&info, 0xa5, sizeof(info));
		CHECK_ST(dmar_translate_detail(sp, cases[i].iova, cases[i].access, &r, &info),
			 DMAR_E_FAULT);
		CHECK_ST(dmar_walk(pm, root, dmar_pgtable_format(pt), cases[i].iova, cases[i].access,
				   &w), DMAR_E_FAULT);
		CHECK_EQ(r.fault, cases[i].fault);
		CHECK_EQ(w.fault, cases[i].fault);
		CHECK_EQ(info.level, cases[i].level);
		CHECK_EQ(info.level, w.level);
		CHECK_EQ(info.entry, w.pte);
	}
	/* the entries themselves: the read-only leaf (accessed by the read above), the junk, the
	 * level-2 entry that points into the hole with the accessed bit the walk set on it */
	CHECK_ST(dmar_translate_detail(sp, ro, DMAR_ACCESS_WRITE, &r, &info), DMAR_E_FAULT);
	CHECK_ST(dmar_physmem_read(pm, vtd_entry_pa(pm, root, ro, 1), &e, 8), DMAR_OK);
	CHECK_EQ(info.entry, e);
	CHECK_EQ(info.entry & ~0xfffull, 0x777000);
	CHECK(info.entry & DMAR_VTD_SS_A);
	CHECK_ST(dmar_translate_detail(sp, G1 + ro, DMAR_ACCESS_READ, &r, &info), DMAR_E_FAULT);
	CHECK_EQ(info.entry, junk);
	CHECK_ST(dmar_translate_detail(sp, 2 * M2, DMAR_ACCESS_READ, &r, &info), DMAR_E_FAULT);
	CHECK_EQ(info.entry, hole | DMAR_VTD_SS_A);
	CHECK_ST(dmar_physmem_read(pm, l2, &e, 8), DMAR_OK);
	CHECK_EQ(e, hole | DMAR_VTD_SS_A);
	CHECK_ST(dmar_translate_detail(sp, 1ull << 48, DMAR_ACCESS_READ, &r, &info), DMAR_E_FAULT);
	CHECK_EQ(info.entry, 0);
	/* one request counted once, the second walk of a refusal not at all */
	{
		dmar_iotlb_stats a, b;

		dmar_iotlb_get_stats(tlb, &a);
		CHECK_ST(dmar_translate_detail(sp, G1 + ro, DMAR_ACCESS_READ, &r, &info),
			 DMAR_E_FAULT);
		dmar_iotlb_get_stats(tlb, &b);
		CHECK_EQ(b.translations, a.translations + 1);
		CHECK_EQ(b.faults, a.faults + 1);
		CHECK_EQ(b.misses, a.misses + 1);
	}
	/* the walk cache holds a path memory no longer has (no invalidation yet): a translation
	 * from it still succeeds, the detailed one reads memory and stops at the hole */
	CHECK_ST(dmar_physmem_write(pm, l2, &l2_was, 8), DMAR_OK);
	dmar_space_invalidate(sp);
	CHECK_ST(dmar_translate(sp, 2 * M2, DMAR_ACCESS_READ, &r), DMAR_OK);
	CHECK_ST(dmar_physmem_write(pm, l2, &hole, 8), DMAR_OK);
	CHECK_ST(dmar_translate_detail(sp, 2 * M2 + K4, DMAR_ACCESS_READ, &r, &info),
		 DMAR_E_FAULT);
	CHECK_EQ(r.fault, DMAR_FAULT_TABLE_ADDR);
	CHECK_EQ(info.level, 1);
	CHECK_ST(dmar_translate(sp, 2 * M2 + K4, DMAR_ACCESS_READ, &r), DMAR_E_FAULT);
	CHECK_EQ(r.fault, DMAR_FAULT_NOT_PRESENT); /* (the cached path: an empty leaf slot) */
	/* a root that is not RAM: the top level, no entry */
	CHECK_ST(dmar_space_create(tlb, pm, 0x7f0000000000ull, dmar_pgtable_format(pt), &bad),
		 DMAR_OK);
	CHECK_ST(dmar_translate_detail(bad, ro, DMAR_ACCESS_READ, &r, &info), DMAR_E_FAULT);
	CHECK_EQ(r.fault, DMAR_FAULT_TABLE_ADDR);
	CHECK(info.level == 4 && info.entry == 0);
	dmar_space_destroy(bad);
	/* nor is the real root with a bit of 52..63 set: it does not wrap into memory */
	for (int b = 52; b < 64; b += 11) {
		CHECK_ST(dmar_space_create(tlb, pm, root | 1ull << b, dmar_pgtable_format(pt), &bad),
			 DMAR_OK);
		CHECK_ST(dmar_translate(bad, ro, DMAR_ACCESS_READ, &r), DMAR_E_FAULT);
		CHECK_EQ(r.fault, DMAR_FAULT_TABLE_ADDR);
		CHECK_ST(dmar_translate_detail(bad, ro, DMAR_ACCESS_READ, &r, &info), DMAR_E_FAULT);
		CHECK(info.level == 4 && info.entry == 0);
		if (b < 63)
			dmar_space_destroy(bad);
	}
	/* bad arguments */
	CHECK_ST(dmar_translate_detail(sp, ro, DMAR_ACCESS_READ, &r, NULL), DMAR_E_INVALID);
	CHECK_ST(dmar_translate_detail(NULL, ro, DMAR_ACCESS_READ, &r, &info), DMAR_E_INVALID);
	CHECK_ST(dmar_translate_detail(sp, ro, DMAR_ACCESS_READ, NULL, &info), DMAR_E_INVALID);
	CHECK_ST(dmar_translate_detail(sp, ro, 0x10, &r, &info), DMAR_E_INVALID);
	dmar_space_destroy(bad);
	dmar_space_destroy(sp);
	CHECK_ST(dmar_iotlb_destroy(tlb), DMAR_OK);
	/* the table is this library's own again before it frees it */
	CHECK_ST(dmar_physmem_write(pm, l2, &l2_was, 8), DMAR_OK);
	CHECK_ST(dmar_physmem_write(pm, l3, &l3_was, 8), DMAR_OK);
	dmar_pgtable_destroy(pt);
	dmar_physmem_destroy(pm);
}

#define STRIDED_BASE (1ull << 40)
#define STRIDED_PAGES 16384u

/* The fixture for a strided working set: STRIDED_PAGES pages @stride pages apart from
 * STRIDED_BASE, page i mapped read-only to frame 0x100000 + (i % 64) pages, in an IOTLB of
 * 4096 x 8 whose L0 mode is @l0. */
static void setup_strided(struct fixture *f, uint64_t stride, dmar_l0_mode l0)
{
	setup_l0(f, 4, 4096, 8, l0);
	for (uint64_t i = 0; i < STRIDED_PAGES; i++)
		CHECK_ST(dmar_pgtable_map(f->pt, STRIDED_BASE + i * stride * K4,
					  0x100000 + (i % 64) * K4, K4, DMAR_PROT_READ), DMAR_OK);
}

/* iotlb/cache.h: strided pages spread over the IOTLB's sets as consecutive ones do, so a
 * working set the IOTLB holds stays cached whatever its stride (64 KiB: 16 pages, 2 MiB: 512,
 * 16 MiB: 4096): 16384 pages of a 4096 x 8 IOTLB, translated twice, all hits the second
 * time.  Page-number bits alone would put a 64 KiB stride in 1/16 of the sets. */
TEST(S30_strided_working_sets_spread_over_the_sets)
{
	static const uint64_t strides[] = { 1, 16, 512, 4096 };

	for (size_t k = 0; k < sizeof(strides) / sizeof(strides[0]); k++) {
		struct fixture f;
		dmar_iotlb_stats a, b;
		dmar_result r;

		setup_strided(&f, strides[k], DMAR_L0_OFF);
		for (uint64_t i = 0; i < STRIDED_PAGES; i++)
			CHECK_ST(dmar_translate(f.sp, STRIDED_BASE + i * strides[k] * K4,
						DMAR_ACCESS_READ, &r), DMAR_OK);
		dmar_iotlb_get_stats(f.tlb, &a);
		for (uint64_t i = 0; i < STRIDED_PAGES; i++)
			CHECK_ST(dmar_translate(f.sp, STRIDED_BASE + i * strides[k] * K4,
						DMAR_ACCESS_READ, &r), DMAR_OK);
		dmar_iotlb_get_stats(f.tlb, &b);
		printf("# stride %" PRIu64 " pages: %" PRIu64 " of %u hit\n", strides[k],
		       b.hits - a.hits, STRIDED_PAGES);
		CHECK_EQ(b.hits - a.hits, STRIDED_PAGES);
		teardown(&f);
	}
}

/* l0.h: a thread's L0 bank holds a strided working set once it has grown as far as it may
 * and folds its index (dmar_l0_index); a dense set never folds it.  16384 pages, dense, 64
 * KiB and 2 MiB apart, in batches of 64, adaptive L0: after the warm-up rounds (the bank
 * grows from 2048 to 32768 entries, then folds at half that size), the L0 answers nearly
 * every request and every answer is right. */
TEST(S30_strided_working_sets_are_held_by_the_l0_once_it_folds)
{
	static const uint64_t strides[] = { 1, 16, 512 };
	static dmar_request q[STRIDED_PAGES];
	static dmar_result rs[64];

	for (size_t k = 0; k < sizeof(strides) / sizeof(strides[0]); k++) {
		struct fixture f;
		dmar_iotlb_stats a, b;
		const struct dmar_l0 *l0;

		setup_strided(&f, strides[k], DMAR_L0_ADAPTIVE);
		for (uint64_t i = 0; i < STRIDED_PAGES; i++)
			q[i] = (dmar_request){ .iova = STRIDED_BASE + i * strides[k] * K4 + 8,
					       .access = DMAR_ACCESS_READ, .pasid = DMAR_NO_PASID };
		for (int round = 0; round < 12; round++)
			for (uint64_t i = 0; i < STRIDED_PAGES; i += 64)
				CHECK_ST(dmar_translate_batch(f.sp, q + i, rs, 64, NULL), DMAR_OK);
		dmar_iotlb_get_stats(f.tlb, &a);
		for (uint64_t i = 0; i < STRIDED_PAGES; i += 64) {
			CHECK_ST(dmar_translate_batch(f.sp, q + i, rs, 64, NULL), DMAR_OK);
			CHECK_EQ(rs[63].pa, 0x100000 + ((i + 63) % 64) * K4 + 8);
		}
		dmar_iotlb_get_stats(f.tlb, &b);
		l0 = dmar__iotlb_thread_bank(f.tlb, f.sp->l0bank);
		printf("# stride %" PRIu64 " pages: %" PRIu64 " of %u from the L0 (bank of %u"
		       " entries, %s)\n", strides[k], b.l0_hits - a.l0_hits, STRIDED_PAGES,
		       l0 ? l0->mask + 1 : 0, l0 && dmar_l0_folded(l0) ? "folded" : "not folded");
		CHECK(b.l0_hits - a.l0_hits >= STRIDED_PAGES - STRIDED_PAGES / 64);
		REQUIRE(l0);
		CHECK_EQ(dmar_l0_folded(l0), strides[k] > 1);
		teardown(&f);
	}
}

TEST(page_walk_cache_makes_a_miss_cost_one_read)
{
	struct fixture f;
	dmar_iotlb_stats a, b;
	dmar_result r;

	setup(&f, 5, 4096, 8);
	CHECK_ST(dmar_pgtable_map(f.pt, 0x40000000, 0x200000000ull, M2 - K4, RW), DMAR_OK);
	CHECK_ST(dmar_pgtable_map(f.pt, 0x80000000, 0x400000000ull, M2, RW), DMAR_OK);
	CHECK_ST(dmar_translate(f.sp, 0x40000000, DMAR_ACCESS_READ, &r), DMAR_OK);
	dmar_iotlb_get_stats(f.tlb, &a);
	CHECK_EQ(a.pte_reads, 5);
	/* another page under the same PDE: one PTE read */
	CHECK_ST(dmar_translate(f.sp, 0x40001000, DMAR_ACCESS_READ, &r), DMAR_OK);
	dmar_iotlb_get_stats(f.tlb, &b);
	CHECK_EQ(b.pte_reads - a.pte_reads, 1);
	CHECK_EQ(b.pwc_hits - a.pwc_hits, 1);
	/* a 2 MiB leaf in another PDPT slot: the PML4E is cached, so PDPTE and PDE: 2 reads */
	CHECK_ST(dmar_translate(f.sp, 0x80000000, DMAR_ACCESS_READ, &r), DMAR_OK);
	dmar_iotlb_get_stats(f.tlb, &a);
	CHECK_EQ(a.pte_reads - b.pte_reads, 2);
	/* then another 4 KiB of the same leaf costs no read at all */
	CHECK_ST(dmar_translate(f.sp, 0x80123000, DMAR_ACCESS_READ, &r), DMAR_OK);
	CHECK_EQ(r.pa, 0x400123000ull);
	CHECK_EQ(r.page_lg2, 21);
	dmar_iotlb_get_stats(f.tlb, &b);
	CHECK_EQ(b.pte_reads, a.pte_reads);
	teardown(&f);
}

TEST(set_root_switches_tables)
{
	struct fixture f;
	dmar_pgtable *other;
	dmar_pgtable_config pc;
	dmar_result r;

	setup(&f, 4, 4096, 8);
	dmar_pgtable_config_default(&pc);
	REQUIRE(dmar_pgtable_create(f.pm, &pc, &other) == DMAR_OK);
	CHECK_ST(dmar_pgtable_map(f.pt, 0x5000, 0xa000, K4, RW), DMAR_OK);
	CHECK_ST(dmar_pgtable_map(other, 0x5000, 0xb000, K4, RW), DMAR_OK);
	CHECK_ST(dmar_translate(f.sp, 0x5000, DMAR_ACCESS_READ, &r), DMAR_OK);
	CHECK_ST(dmar_translate(f.sp, 0x5000, DMAR_ACCESS_READ, &r), DMAR_OK);
	CHECK_EQ(r.pa, 0xa000);
	CHECK_ST(dmar_space_set_root(f.sp, dmar_pgtable_root(other)), DMAR_OK);
	CHECK_ST(dmar_translate(f.sp, 0x5000, DMAR_ACCESS_READ, &r), DMAR_OK);
	CHECK_EQ(r.pa, 0xb000);
	dmar_pgtable_set_flush(f.pt, NULL, NULL);
	dmar_pgtable_destroy(other);
	CHECK_ST(dmar_space_set_root(f.sp, dmar_pgtable_root(f.pt)), DMAR_OK);
	teardown(&f);
}

/* Two spaces over different tables map the same address to different pages; retiring one
 * ASID half a million times wraps the ASID space, and nothing leaks between them. */
TEST(S28_asid_rollover_keeps_spaces_apart)
{
	struct fixture f;
	dmar_pgtable *other;
	dmar_pgtable_config pc;
	dmar_space *sp2;
	dmar_iotlb_stats st;
	dmar_result r;

	setup(&f, 4, 1024, 8);
	dmar_pgtable_config_default(&pc);
	REQUIRE(dmar_pgtable_create(f.pm, &pc, &other) == DMAR_OK);
	REQUIRE(dmar_space_create(f.tlb, f.pm, dmar_pgtable_root(other), dmar_pgtable_format(other),
				  &sp2) == DMAR_OK);
	CHECK_ST(dmar_pgtable_map(f.pt, 0, 0x10000000, 16 * K4, RW), DMAR_OK);
	CHECK_ST(dmar_pgtable_map(other, 0, 0x20000000, 16 * K4, RW), DMAR_OK);
	for (uint64_t i = 0; i < DMAR_ASID_LIMIT + 10; i++) {
		dmar_space_invalidate(f.sp);
		if (i % 65536 == 0 || i > DMAR_ASID_LIMIT - 4) {
			uint64_t a = i % 16 * K4;

			CHECK_ST(dmar_translate(f.sp, a, DMAR_ACCESS_READ, &r), DMAR_OK);
			CHECK_EQ(r.pa, 0x10000000 + a);
			CHECK_ST(dmar_translate(sp2, a, DMAR_ACCESS_READ, &r), DMAR_OK);
			CHECK_EQ(r.pa, 0x20000000 + a);
		}
	}
	dmar_iotlb_get_stats(f.tlb, &st);
	CHECK_EQ(st.asid_rollovers, 1);
	CHECK_ST(dmar_iotlb_destroy(f.tlb), DMAR_E_BUSY); /* spaces still live */
	dmar_space_destroy(sp2);
	dmar_pgtable_destroy(other);
	teardown(&f);
}

struct ro_args {
	dmar_space *sp, *sp2;
};

/* An unregistered thread's rollovers finish before its call returns (it cannot queue an
 * RCU callback, and holds no lock by then): a translation right after hits again. */
static void *rollover_unregistered(void *arg)
{
	struct ro_args *a = arg;

	for (int i = 0; i < 100; i++)
		dmar_space_invalidate(a->sp);
	return NULL;
}

/* iotlb.h: asid_bits; a rollover never makes a caller wait for a grace period, translations
 * stay right through it, and it finishes whichever kind of thread started it. */
TEST(S28_asid_rollover_with_few_asids_on_every_kind_of_thread)
{
	struct fixture f;
	dmar_pgtable *other;
	dmar_pgtable_config pc;
	dmar_iotlb_config tc;
	dmar_iotlb *bad = NULL;
	struct ro_args a = { 0 };
	dmar_iotlb_stats st;
	dmar_result r;
	pthread_t th;
	uint64_t before;

	dmar_iotlb_config_default(&tc);
	CHECK_EQ(tc.asid_bits, 17);
	tc.asid_bits = 18;
	CHECK_ST(dmar_iotlb_create(&tc, &bad), DMAR_E_INVALID);
	CHECK(bad == NULL);
	f.pm = test_physmem(0);
	dmar_pgtable_config_default(&pc);
	tc.asid_bits = 2; /* ASIDs 1..3 */
	REQUIRE(dmar_pgtable_create(f.pm, &pc, &f.pt) == DMAR_OK);
	REQUIRE(dmar_pgtable_create(f.pm, &pc, &other) == DMAR_OK);
	REQUIRE(dmar_iotlb_create(&tc, &f.tlb) == DMAR_OK);
	REQUIRE(dmar_space_create(f.tlb, f.pm, dmar_pgtable_root(f.pt), dmar_pgtable_format(f.pt),
				  &f.sp) == DMAR_OK);
	REQUIRE(dmar_space_create(f.tlb, f.pm, dmar_pgtable_root(other), dmar_pgtable_format(other),
				  &a.sp2) == DMAR_OK);
	dmar_pgtable_set_flush(f.pt, flush_hook, f.sp);
	CHECK_ST(dmar_pgtable_map(f.pt, 0, 0x10000000, 16 * K4, RW), DMAR_OK);
	CHECK_ST(dmar_pgtable_map(other, 0, 0x20000000, 16 * K4, RW), DMAR_OK);
	for (int i = 0; i < 200; i++) {
		const uint64_t va = (uint64_t)(i % 16) * K4;

		dmar_space_invalidate(f.sp); /* registered: rollovers finish from RCU callbacks */
		for (int k = 0; k < 2; k++) {
			CHECK_ST(dmar_translate(f.sp, va, DMAR_ACCESS_READ, &r), DMAR_OK);
			CHECK_EQ(r.pa, 0x10000000 + va);
			CHECK_ST(dmar_translate(a.sp2, va, DMAR_ACCESS_READ, &r), DMAR_OK);
			CHECK_EQ(r.pa, 0x20000000 + va);
		}
	}
	dmar_iotlb_get_stats(f.tlb, &st);
	CHECK(st.asid_rollovers >= 1);
	/* the RCU callback finishes the last one: the space caches again (within seconds) */
	for (int tries = 0; tries < 5000; tries++) {
		struct timespec ms = { 0, 1000 * 1000 };

		(void)dmar_translate(f.sp, 0x2000, DMAR_ACCESS_READ, &r);
		CHECK_ST(dmar_translate(f.sp, 0x2000, DMAR_ACCESS_READ, &r), DMAR_OK);
		if (r.flags & DMAR_RESULT_HIT)
			break;
		dmar_thread_quiescent(); /* qsbr: the grace period the callback waits for */
		nanosleep(&ms, NULL);
	}
	CHECK_EQ(r.flags & DMAR_RESULT_HIT, DMAR_RESULT_HIT);
	dmar_iotlb_get_stats(f.tlb, &st);
	before = st.asid_rollovers;
	a.sp = f.sp;
	REQUIRE(pthread_create(&th, NULL, rollover_unregistered, &a) == 0);
	dmar_thread_offline(); /* (thread.h: offline while blocked in a join) */
	pthread_join(th, NULL);
	dmar_thread_online();
	dmar_iotlb_get_stats(f.tlb, &st);
	CHECK(st.asid_rollovers >= before + 30); /* two spaces, three ASIDs: every other call */
	/* the last rollover is finished: both spaces cache again */
	CHECK_ST(dmar_translate(f.sp, 0x3000, DMAR_ACCESS_READ, &r), DMAR_OK);
	CHECK_ST(dmar_translate(f.sp, 0x3000, DMAR_ACCESS_READ, &r), DMAR_OK);
	CHECK_EQ(r.pa, 0x10003000);
	CHECK_EQ(r.flags & DMAR_RESULT_HIT, DMAR_RESULT_HIT);
	CHECK_ST(dmar_translate(a.sp2, 0x5000, DMAR_ACCESS_READ, &r), DMAR_OK);
	CHECK_ST(dmar_translate(a.sp2, 0x5000, DMAR_ACCESS_READ, &r), DMAR_OK);
	CHECK_EQ(r.pa, 0x20005000);
	CHECK_EQ(r.flags & DMAR_RESULT_HIT, DMAR_RESULT_HIT);
	dmar_space_destroy(a.sp2);
	dmar_pgtable_destroy(other);
	teardown(&f);
}

static void *unregistered(void *arg)
{
	dmar_result r;

	return (void *)(uintptr_t)dmar_translate(arg, 0, DMAR_ACCESS_READ, &r);
}

/* DMAR_L0 (cache.h) is honoured: off, the L0 never answers; always, it answers every repeat
 * (the meson runs iotlb-l0-off and iotlb-l0-always; adaptive: the same answers either way). */
TEST(l0_mode_is_honoured)
{
	const char *m = getenv("DMAR_L0");
	struct fixture f;
	dmar_request q[8];
	dmar_result rs[8];
	dmar_iotlb_stats st;

	setup(&f, 4, 128, 8);
	CHECK_ST(dmar_pgtable_map(f.pt, 0x40000000, 0x10000000, 8 * K4, RW), DMAR_OK);
	for (int i = 0; i < 8; i++)
		q[i] = (dmar_request){ .iova = 0x40000000 + K4 * (unsigned)i + 8,
				       .access = DMAR_ACCESS_READ, .pasid = DMAR_NO_PASID };
	for (int round = 0; round < 200; round++) {
		CHECK_ST(dmar_translate_batch(f.sp, q, rs, 8, NULL), DMAR_OK);
		CHECK_EQ(rs[7].pa, 0x10000000 + 7 * K4 + 8);
		CHECK_ST(dmar_translate(f.sp, q[3].iova, DMAR_ACCESS_READ, &rs[0]), DMAR_OK);
		CHECK_EQ(rs[0].pa, 0x10000000 + 3 * K4 + 8);
	}
	dmar_iotlb_get_stats(f.tlb, &st);
	printf("# DMAR_L0=%s: %" PRIu64 " of %" PRIu64 " translations from the L0\n",
	       m ? m : "(adaptive)", st.l0_hits, st.translations);
	if (m && strcmp(m, "off") == 0)
		CHECK_EQ(st.l0_hits, 0);
	if (m && strcmp(m, "always") == 0) /* all but the first two rounds (walk, IOTLB hit) */
		CHECK(st.l0_hits >= 198 * 9);
	teardown(&f);
}

/* iotlb.h: translations = hits + misses and L0 hits are counted in hits, whichever path
 * answered: a single request or a small batch answered by the thread's L0 before any
 * read-side section counts in its bank, and dmar_iotlb_get_stats adds the banks up. */
TEST(S30_statistics_count_every_path_exactly)
{
	struct fixture f;
	dmar_iotlb_config tc;
	dmar_request q[2];
	dmar_result rs[2];
	dmar_iotlb_stats st;

	f.pm = test_physmem(0);
	{
		dmar_pgtable_config pc;

		dmar_pgtable_config_default(&pc);
		dmar_iotlb_config_default(&tc);
		tc.l0 = DMAR_L0_ALWAYS;
		REQUIRE(dmar_pgtable_create(f.pm, &pc, &f.pt) == DMAR_OK);
		REQUIRE(dmar_iotlb_create(&tc, &f.tlb) == DMAR_OK);
		REQUIRE(dmar_space_create(f.tlb, f.pm, dmar_pgtable_root(f.pt),
					  dmar_pgtable_format(f.pt), &f.sp) == DMAR_OK);
	}
	CHECK_ST(dmar_pgtable_map(f.pt, 0x40000000, 0x10000000, K4, RW), DMAR_OK);
	/* 1: a walk (walks do not fill the L0); 2: an IOTLB hit, which fills it; 3-10: the L0 */
	for (int i = 0; i < 10; i++) {
		CHECK_ST(dmar_translate(f.sp, 0x40000000 + 8 * (unsigned)i, DMAR_ACCESS_READ, &rs[0]),
			 DMAR_OK);
		CHECK_EQ(rs[0].pa, 0x10000000 + 8 * (unsigned)i);
	}
	/* five batches of two requests for the same page: the L0, ten times */
	q[0] = (dmar_request){ .iova = 0x40000010, .access = DMAR_ACCESS_WRITE,
			       .pasid = DMAR_NO_PASID };
	q[1] = (dmar_request){ .iova = 0x40000ff8, .access = DMAR_ACCESS_READ,
			       .pasid = DMAR_NO_PASID };
	for (int i = 0; i < 5; i++) {
		CHECK_ST(dmar_translate_batch(f.sp, q, rs, 2, NULL), DMAR_OK);
		CHECK_EQ(rs[0].pa, 0x10000010);
		CHECK_EQ(rs[1].pa, 0x10000ff8);
	}
	dmar_iotlb_get_stats(f.tlb, &st);
	CHECK_EQ(st.translations, 20);
	CHECK_EQ(st.misses, 1);
	CHECK_EQ(st.hits, 19);
	CHECK_EQ(st.l0_hits, 18);
	CHECK_EQ(st.translations, st.hits + st.misses);
	teardown(&f);
}

#define GROW_PAGES 16384u

/* Translate pages [0, GROW_PAGES) of the space at 0x40000000 in order, in batches of 256 (or
 * one at a time): every answer right. */
static void grow_pass(dmar_space *sp, int single)
{
	static dmar_request q[256];
	static dmar_result rs[256];

	for (uint32_t p = 0; p < GROW_PAGES; p += 256) {
		for (uint32_t i = 0; i < 256; i++)
			q[i] = (dmar_request){ .iova = 0x40000000 + (uint64_t)(p + i) * K4 + 0x10,
					       .access = DMAR_ACCESS_READ, .pasid = DMAR_NO_PASID };
		if (single) {
			for (uint32_t i = 0; i < 256; i++)
				CHECK_ST(dmar_translate(sp, q[i].iova, DMAR_ACCESS_READ, &rs[i]), DMAR_OK);
		} else {
			CHECK_ST(dmar_translate_batch(sp, q, rs, 256, NULL), DMAR_OK);
		}
		for (uint32_t i = 0; i < 256; i += 17)
			CHECK_EQ(rs[i].pa, 0x10000000 + (uint64_t)(p + i) * K4 + 0x10);
	}
}

/* The entries of the calling thread's banks in @tlb, those not made yet at their starting
 * size. */
static uint64_t row_entries(const dmar_iotlb *tlb)
{
	uint64_t sum = 0;

	for (unsigned b = 0; b < DMAR_L0_BANKS; b++) {
		const struct dmar_l0 *l0 = dmar__iotlb_thread_bank(tlb, b);

		sum += l0 ? l0->mask + 1 : DMAR_L0_ENTRIES;
	}
	return sum;
}

/* A working set the IOTLB holds but a bank of DMAR_L0_ENTRIES does not: the bank grows until
 * it stops evicting (cache.h), answers from the L0, still obeys invalidations at its new size,
 * and starts small again when rebound; a thread's banks stay within DMAR_L0_ROW_ENTRIES,
 * taking the room from the bank idle longest (batch and single paths). */
TEST(l0_bank_grows_to_what_the_iotlb_holds)
{
	const char *m = getenv("DMAR_L0");
	const int off = m && strcmp(m, "off") == 0;
	struct fixture f;
	dmar_space *more[9];
	dmar_iotlb_stats a, b;
	dmar_result r;

	setup(&f, 4, 4096, 8); /* 32768 entries */
	CHECK_ST(dmar_pgtable_map(f.pt, 0x40000000, 0x10000000, GROW_PAGES * K4, RW), DMAR_OK);
	for (int single = 0; single < 2; single++) {
		struct dmar_l0 *l0;

		dmar_space_invalidate(f.sp); /* a new key: the bank rebinds, small */
		for (int pass = 0; pass < 12; pass++)
			grow_pass(f.sp, single);
		dmar_iotlb_get_stats(f.tlb, &a);
		grow_pass(f.sp, single);
		dmar_iotlb_get_stats(f.tlb, &b);
		l0 = dmar__iotlb_thread_bank(f.tlb, f.sp->l0bank);
		printf("# %s: bank of %u entries, %" PRIu64 " of %u from the L0\n",
		       single ? "single" : "batch", l0 ? l0->mask + 1 : 0, b.l0_hits - a.l0_hits,
		       GROW_PAGES);
		if (off) {
			CHECK(l0 == NULL);
			CHECK_EQ(b.l0_hits, 0);
			continue;
		}
		REQUIRE(l0 != NULL);
		CHECK(l0->mask + 1 >= GROW_PAGES && l0->mask + 1 <= DMAR_L0_MAX_ENTRIES);
		CHECK(b.l0_hits - a.l0_hits >= GROW_PAGES * 9 / 10);
		/* the grown bank obeys a page-selective invalidation of page P = 2048 + 5, which
		 * shares an entry with page 5 at the starting size and not now (a shootdown with
		 * the starting mask would clear page 5's entry and leave P's), then P mapped
		 * elsewhere, then back */
		CHECK_ST(dmar_pgtable_unmap(f.pt, 0x40000000 + 2053 * K4, K4, NULL), DMAR_OK);
		CHECK_ST(dmar_translate(f.sp, 0x40000000 + 2053 * K4, DMAR_ACCESS_READ, &r),
			 DMAR_E_FAULT);
		CHECK_ST(dmar_translate(f.sp, 0x40000000 + 5 * K4, DMAR_ACCESS_READ, &r), DMAR_OK);
		CHECK_EQ(r.pa, 0x10000000 + 5 * K4);
		CHECK_ST(dmar_pgtable_map(f.pt, 0x40000000 + 2053 * K4, 0x30000000, K4, RW), DMAR_OK);
		for (int i = 0; i < 4; i++) {
			CHECK_ST(dmar_translate(f.sp, 0x40000000 + 2053 * K4, DMAR_ACCESS_READ, &r),
				 DMAR_OK);
			CHECK_EQ(r.pa, 0x30000000);
		}
		CHECK_ST(dmar_pgtable_unmap(f.pt, 0x40000000 + 2053 * K4, K4, NULL), DMAR_OK);
		CHECK_ST(dmar_pgtable_map(f.pt, 0x40000000 + 2053 * K4, 0x10000000 + 2053 * K4, K4, RW),
			 DMAR_OK);
	}
	if (!off) {
		/* rebound (the space's ASID retired): small again */
		dmar_space_invalidate(f.sp);
		CHECK_ST(dmar_translate(f.sp, 0x40000000, DMAR_ACCESS_READ, &r), DMAR_OK);
		CHECK_EQ(dmar__iotlb_thread_bank(f.tlb, f.sp->l0bank)->mask + 1, DMAR_L0_ENTRIES);
	}
	/* nine more spaces on the same table, each on a bank of its own, used one after another:
	 * the row never passes its budget, and the bank in use still grows (from idle ones) */
	for (int s = 0; s < 9; s++) {
		CHECK_ST(dmar_space_create(f.tlb, f.pm, dmar_pgtable_root(f.pt),
					   dmar_pgtable_format(f.pt), &more[s]), DMAR_OK);
		for (int pass = 0; pass < 12; pass++) {
			grow_pass(more[s], 0);
			CHECK(row_entries(f.tlb) <= DMAR_L0_ROW_ENTRIES);
		}
		if (!off)
			CHECK(dmar__iotlb_thread_bank(f.tlb, more[s]->l0bank)->mask + 1 >= GROW_PAGES);
	}
	printf("# row: %" PRIu64 " entries in its banks (at most %u)\n", off ? 0 : row_entries(f.tlb),
	       DMAR_L0_ROW_ENTRIES);
	for (int s = 0; s < 9; s++)
		dmar_space_destroy(more[s]);
	teardown(&f);
}

TEST(bad_arguments_get_a_status)
{
	struct fixture f;
	dmar_iotlb_config c;
	dmar_iotlb *t;
	dmar_request q = { .iova = 0, .access = 0x10 };
	dmar_result r;
	pthread_t th;
	void *ret;

	setup(&f, 4, 4096, 8);
	dmar_iotlb_config_default(&c);
	c.ways = 6;
	CHECK_ST(dmar_iotlb_create(&c, &t), DMAR_E_INVALID);
	c.ways = 8;
	c.sets = 1000;
	CHECK_ST(dmar_iotlb_create(&c, &t), DMAR_E_INVALID);
	/* iotlb.h's ranges: sets 1 .. 2^20, pwc_sets 1 .. 2^16, asid_bits 0 .. 17 */
	c.sets = 0;
	CHECK_ST(dmar_iotlb_create(&c, &t), DMAR_E_INVALID);
	c.sets = 1u << 21;
	CHECK_ST(dmar_iotlb_create(&c, &t), DMAR_E_INVALID);
	c.sets = 1;
	c.pwc_sets = 1u << 16;
	c.asid_bits = 17;
	CHECK_ST(dmar_iotlb_create(&c, &t), DMAR_OK);
	CHECK_ST(dmar_iotlb_destroy(t), DMAR_OK);
	for (int k = 0; k < 4; k++) {
		dmar_iotlb_config_default(&c);
		if (k == 0)
			c.pwc_sets = 0;
		else if (k == 1)
			c.pwc_sets = 1u << 17;
		else if (k == 2)
			c.pwc_sets = 48;
		else
			c.asid_bits = 18;
		t = NULL;
		CHECK_ST(dmar_iotlb_create(&c, &t), DMAR_E_INVALID);
		CHECK(t == NULL);
	}
	dmar_iotlb_config_default(&c);
	c.pwc_sets = 1;
	c.asid_bits = 1;
	CHECK_ST(dmar_iotlb_create(&c, &t), DMAR_OK);
	CHECK_ST(dmar_iotlb_destroy(t), DMAR_OK);
	CHECK_ST(dmar_translate_batch(f.sp, &q, &r, 1, NULL), DMAR_E_INVALID);
	CHECK_ST(dmar_translate_batch(f.sp, NULL, &r, 1, NULL), DMAR_E_INVALID);
	CHECK_ST(dmar_translate_batch(f.sp, NULL, NULL, 0, NULL), DMAR_OK);
	CHECK_ST(dmar_translate(f.sp, 0, 0x10, &r), DMAR_E_INVALID);
	CHECK_ST(dmar_translate(NULL, 0, 0, &r), DMAR_E_INVALID);
	REQUIRE(pthread_create(&th, NULL, unregistered, f.sp) == 0);
	pthread_join(th, &ret);
	CHECK_EQ((uintptr_t)ret, DMAR_E_THREAD);
	teardown(&f);
}

RUN_TESTS(T(S30_translate_equals_reference_walker), T(S30_batch_equals_single),
	  T(S30_batch_of_one_is_dmar_translate), T(iotlb_h_getters_defaults_and_range_ends), T(S28_translate_detail_fills_no_cache_from_its_walk),
	  T(S28_thread_l0_never_outlives_an_invalidation),
	  T(S28_splitting_a_large_leaf_flushes_its_other_pages),
	  T(S30_every_simd_probe_matches_scalar), T(S28_stale_until_invalidated_then_gone),
	  T(S28_range_invalidation_any_alignment_and_large_pages),
	  T(S28_invalidating_one_page_drops_its_whole_large_leaf),
	  T(S30_batch_results_equal_singles_but_for_the_hit_flag_of_repeats),
	  T(S30_two_iotlbs_keep_their_own_probe_variant_and_l0_mode),
	  T(S30_every_variant_per_iotlb_translates_alike),
	  T(S28_ranges_up_to_64_pages_are_visited_larger_ones_retire_the_asid),
	  T(S28_space_and_global_invalidation_are_o1),
	  T(S28_a_tag_invalidates_every_space_of_its_group_and_no_other),
	  T(S28_a_tag_range_drops_the_whole_large_leaf_it_meets),
	  T(S29_translate_detail_names_the_level_and_entry_a_walk_stopped_at),
	  T(S30_strided_working_sets_spread_over_the_sets),
	  T(S30_strided_working_sets_are_held_by_the_l0_once_it_folds),
	  T(page_walk_cache_makes_a_miss_cost_one_read),
	  T(set_root_switches_tables), T(S28_asid_rollover_keeps_spaces_apart),
	  T(S28_asid_rollover_with_few_asids_on_every_kind_of_thread),
	  T(S30_statistics_count_every_path_exactly), T(l0_mode_is_honoured), T(l0_bank_grows_to_what_the_iotlb_holds),
	  T(bad_arguments_get_a_status))
