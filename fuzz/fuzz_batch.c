/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Batch against one-at-a-time (S30).  A table is built from the input
 * (any page sizes, permissions, 4 or 5 levels, upper half), then rounds of requests go
 * through dmar_translate_batch(), through dmar_translate() one by one and through the
 * uncached walker; all three must agree (pa, fault, page size, permissions), a second batch
 * (now mostly hits) too.  Then the hit pass of every SIMD probe this CPU has runs on the
 * same cache contents and requests as the scalar one, the AVX-512 one on SIMDe's portable
 * intrinsics too: results and miss lists bit-identical (the checkasm habit of
 * tests/test_iotlb.c).  Between rounds: unmaps (the flush hook
 * invalidates, S28) and invalidations of everything, of the space, of a range.  The full
 * translate_batch path of each variant runs when the harness runs under
 * DMAR_SIMD=c|sse42|avx2|avx512 (the meson tests do; a variant the CPU lacks falls back to
 * the default).
 *
 * Input: [config:1][nmaps:1] nmaps x [addr:3][size:1][pa:4][prot:1], then rounds; config
 * bit 0: 5 levels, bit 1: 8 ways, bits 2-4: log2 of the sets, bits 5-6: page sizes, bit 7:
 * the upper half.  Rounds:
 *   [kind:1] kind%4 in {0,1}: requests, n = 1 + [n:1] (+ 256 if kind bit 2) x [addr:3][access:1]
 *            kind%4 == 2: unmap [addr:3][size:1]
 *            kind%4 == 3: invalidate: (kind >> 2) % 3 = all, space, range [addr:3][size:1] */
#include "fuzz_common.h"

#include "iotlb_internal.h"

#define REQ_MAX 512

static dmar_request req[REQ_MAX];
static dmar_result rb[REQ_MAX], rb2[REQ_MAX], rs, rv[REQ_MAX], rc[REQ_MAX];
static uint32_t mv[REQ_MAX], mc[REQ_MAX];

static void flush_hook(void *ctx, dmar_iova_t iova, uint64_t size)
{
	FZ_CHECK_ST(dmar_space_invalidate_range(ctx, iova, size), DMAR_OK);
}

static void same(const dmar_result *a, const dmar_result *b)
{
	FZ_CHECK_EQ(a->fault, b->fault);
	FZ_CHECK_EQ(a->pa, b->pa);
	FZ_CHECK_EQ(a->page_lg2, b->page_lg2);
	FZ_CHECK_EQ(a->prot, b->prot);
}

static void round_of_requests(dmar_pgtable *pt, dmar_space *sp, size_t n)
{
	const struct dmar_probe_ops *v[DMAR_SIMD_COUNT + 1];
	size_t nv = dmar_probe_variants(v, DMAR_SIMD_COUNT);
	size_t nf = 0, nf2 = 0, want_nf = 0;
	uint64_t asid;

	FZ_CHECK_ST(dmar_translate_batch(sp, req, rb, n, &nf), DMAR_OK);
	for (size_t i = 0; i < n; i++) {
		dmar_walk_result w;
		dmar_status st = dmar_translate(sp, req[i].iova, req[i].access, &rs);
		dmar_status wst = dmar_pgtable_walk(pt, req[i].iova, req[i].access, &w);

		FZ_CHECK_ST(st, wst);
		same(&rb[i], &rs);
		FZ_CHECK_EQ(rb[i].fault, w.fault);
		FZ_CHECK_EQ(rb[i].pa, w.pa);
		FZ_CHECK_EQ(rb[i].page_lg2, w.page_lg2);
		FZ_CHECK_EQ(rb[i].prot, w.prot);
		FZ_CHECK((rb[i].flags & ~(uint32_t)DMAR_RESULT_HIT) == 0);
		if (rb[i].fault != DMAR_FAULT_NONE)
			FZ_CHECK(rb[i].flags == 0 && rb[i].page_lg2 == 0 && rb[i].prot == 0);
		want_nf += rb[i].fault != DMAR_FAULT_NONE;
	}
	FZ_CHECK_EQ(nf, want_nf);
	FZ_CHECK_ST(dmar_translate_batch(sp, req, rb2, n, &nf2), DMAR_OK);
	FZ_CHECK_EQ(nf2, nf);
	for (size_t i = 0; i < n; i++)
		same(&rb2[i], &rb[i]);

	/* every probe variant on the very same cache contents (with the AVX-512 one on SIMDe's
	 * portable intrinsics, where built) */
#ifdef DMAR_TEST_PROBE_SIMDE
	v[nv++] = &dmar_probe_avx512_simde;
#endif
	asid = __atomic_load_n(&sp->asid, __ATOMIC_ACQUIRE);
	if (!asid)
		return;
	for (size_t i = 0; i < n; i++) /* what a miss leaves untouched must match too */
		rc[i] = (dmar_result){ .pa = 0xdeadbeef000ull + i, .fault = 0xcc, .flags = 0xcc };
	{
		const size_t kc = dmar_probe_c.probe_batch(&sp->tlb->tlb, asid, sp->cache_bias,
				req, rc, n, mc);

		for (size_t k = 0; k < nv; k++) {
			size_t kv;

			for (size_t i = 0; i < n; i++)
				rv[i] = (dmar_result){ .pa = 0xdeadbeef000ull + i, .fault = 0xcc,
						       .flags = 0xcc };
			kv = v[k]->probe_batch(&sp->tlb->tlb, asid, sp->cache_bias, req, rv, n, mv);
			if (kv != kc || memcmp(mv, mc, kc * sizeof(mc[0])) != 0 ||
			    memcmp(rv, rc, n * sizeof(rc[0])) != 0)
				FZ_FAIL("probe %s differs from c (%zu vs %zu misses)", v[k]->name, kv,
					kc);
			for (size_t i = 0; i < kc; i++) /* a miss is a request, in order */
				FZ_CHECK(mc[i] < n && (i == 0 || mc[i] > mc[i - 1]));
		}
		/* a hit of the probe is what the translation gave */
		for (size_t i = 0, m = 0; i < n; i++) {
			if (m < kc && mc[m] == i) {
				m++;
				continue;
			}
			same(&rc[i], &rb2[i]);
			FZ_CHECK_EQ(rc[i].flags, DMAR_RESULT_HIT);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t pgsizes[4] = {
		DMAR_PGSIZES_ALL, 1ull << 12, (1ull << 12) | (1ull << 21), (1ull << 12) | (1ull << 30),
	};
	static const dmar_ram_range ram = { .base = 0, .size = 256ull << 20 };
	/* The memory and the tables live on (destroying a table waits for an RCU barrier, up
	 * to 10 ms): one per shape, emptied at the end of each input (FUZZ_FRESH_WORLD=1: a
	 * fresh table every input). */
	static dmar_physmem *pm;
	static dmar_pgtable *tables[16];
	struct fz f = { data, size };
	const uint8_t cfg = fz_u8(&f);
	const unsigned nmaps = fz_u8(&f) % 32;
	const unsigned shape = (cfg & 1) | (cfg >> 6 & 2) | (cfg >> 3 & 0xc);
	dmar_physmem_config pc = { .ranges = &ram, .nranges = 1, .pa_bits = 52 };
	dmar_pgtable_config ptc;
	dmar_iotlb_config tc;
	dmar_pgtable *pt;
	dmar_iotlb *tlb = NULL;
	dmar_space *sp = NULL;
	unsigned rounds = 0;

	fz_thread();
	if (!pm)
		FZ_CHECK_ST(dmar_physmem_create(&pc, &pm), DMAR_OK);
	dmar_pgtable_config_default(&ptc);
	ptc.format.levels = (cfg & 1) ? 5 : 4;
	ptc.format.flags = (cfg & 0x80) ? DMAR_PT_UPPER_HALF : 0;
	ptc.pgsizes = pgsizes[(cfg >> 5) & 3];
	if (!tables[shape])
		FZ_CHECK_ST(dmar_pgtable_create(pm, &ptc, &tables[shape]), DMAR_OK);
	pt = tables[shape];
	dmar_iotlb_config_default(&tc);
	tc.sets = 1u << ((cfg >> 2) & 7);
	tc.ways = (cfg & 2) ? 8 : 4;
	tc.pwc_sets = 2;
	FZ_CHECK_ST(dmar_iotlb_create(&tc, &tlb), DMAR_OK);
	FZ_CHECK_ST(dmar_space_create(tlb, pm, dmar_pgtable_root(pt), dmar_pgtable_format(pt), &sp),
		    DMAR_OK);
	dmar_pgtable_set_flush(pt, flush_hook, sp);

	for (unsigned i = 0; i < nmaps; i++) {
		const uint64_t iova = fz_addr(&f), sz = fz_size(&f);
		const uint64_t pa = (uint64_t)fz_u32(&f) << 12;
		const unsigned prot = fz_u8(&f) & 0x7f;
		dmar_status st;

		/* more than 1024 leaves of 4 KiB is slow and adds nothing: skipped */
		if (sz > (4ull << 20) && (((iova | pa) & ((2ull << 20) - 1)) ||
					  !(ptc.pgsizes & ~(1ull << 12))))
			continue;
		st = dmar_pgtable_map(pt, iova, pa, sz, prot | DMAR_PROT_READ);
		FZ_CHECK(st == DMAR_OK || st == DMAR_E_EXISTS || st == DMAR_E_RANGE ||
			 st == DMAR_E_INVALID);
	}
	while (f.n && rounds++ < 64) {
		const uint8_t kind = fz_u8(&f);

		switch (kind % 4) {
		case 0:
		case 1: {
			size_t n = 1 + fz_u8(&f) + ((kind & 4) ? 256 : 0);
			int bad = 0;

			if (n > REQ_MAX)
				n = REQ_MAX;
			for (size_t i = 0; i < n; i++) {
				const uint64_t a = fz_addr(&f);
				const uint8_t acc = fz_u8(&f);

				/* and some byte offset in the page, from the access byte */
				req[i] = (dmar_request){ .iova = a | (uint64_t)(acc >> 4) << 8,
							 .access = acc & 0xf, .pasid = DMAR_NO_PASID };
				bad |= (acc & 0xf0) == 0xf0;
			}
			if (bad) { /* bad input: a clear status, nothing translated */
				size_t nf = 7;

				req[n - 1].access |= 0x10;
				memset(rb, 0xa5, n * sizeof(rb[0]));
				memset(rb2, 0xa5, n * sizeof(rb2[0]));
				FZ_CHECK_ST(dmar_translate_batch(sp, req, rb, n, &nf), DMAR_E_INVALID);
				FZ_CHECK_EQ(nf, 0);
				FZ_CHECK(memcmp(rb, rb2, n * sizeof(rb[0])) == 0);
				FZ_CHECK_ST(dmar_translate(sp, req[n - 1].iova, req[n - 1].access, &rs),
					    DMAR_E_INVALID);
				req[n - 1].access &= 0xf;
			}
			round_of_requests(pt, sp, n);
			break;
		}
		case 2: {
			const uint64_t iova = fz_addr(&f), sz = fz_size(&f);
			uint64_t done = 0;
			dmar_status st = dmar_pgtable_unmap(pt, iova, sz, &done);

			FZ_CHECK(st == DMAR_OK || st == DMAR_E_RANGE || st == DMAR_E_INVALID);
			break;
		}
		default:
			switch ((kind >> 2) % 3) {
			case 0:
				dmar_iotlb_invalidate_all(tlb);
				break;
			case 1:
				dmar_space_invalidate(sp);
				break;
			default: {
				const uint64_t iova = fz_addr(&f), sz = fz_size(&f);
				dmar_status st = dmar_space_invalidate_range(sp, iova, sz);

				FZ_CHECK_ST(st, sz == 0 || iova + sz - 1 < iova ? DMAR_E_INVALID
										 : DMAR_OK);
				break;
			}
			}
			break;
		}
	}

	{ /* empty the table for the next input */
		const uint64_t half = 1ull << ((ptc.format.levels == 5 ? 57 : 48) - 1);

		FZ_CHECK_ST(dmar_pgtable_unmap(pt, 0, half, NULL), DMAR_OK);
		if (ptc.format.flags & DMAR_PT_UPPER_HALF)
			FZ_CHECK_ST(dmar_pgtable_unmap(pt, 0 - half, half, NULL), DMAR_OK);
	}
	dmar_pgtable_set_flush(pt, NULL, NULL);
	dmar_space_destroy(sp);
	FZ_CHECK_ST(dmar_iotlb_destroy(tlb), DMAR_OK);
	if (getenv("FUZZ_FRESH_WORLD")) {
		dmar_pgtable_destroy(pt);
		tables[shape] = NULL;
	}
	return 0;
}
