/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The allocator's hierarchical bitmap against a brute-force reference (io-pgtable habit:
 * bit tricks checked against the obvious loop). */
#include "bitmap.h"
#include "check.h"

static uint64_t rng = 88172645463325252ull;
static uint64_t next(void)
{
	return test_xorshift(&rng);
}

static int64_t ref_prev_zero(const uint8_t *b, uint64_t pos)
{
	for (uint64_t i = pos + 1; i-- > 0;)
		if (!b[i])
			return (int64_t)i;
	return -1;
}

static int64_t ref_run_down(const uint8_t *b, uint64_t lo, uint64_t hi, uint64_t n, uint64_t al,
			    uint64_t off)
{
	if (n > hi - lo)
		return -1;
	for (uint64_t s = hi - n + 1; s-- > lo;) {
		int ok = (s + off) % al == 0;

		for (uint64_t i = 0; ok && i < n; i++)
			ok = !b[s + i];
		if (ok)
			return (int64_t)s;
	}
	return -1;
}

TEST(random_ops_match_reference)
{
	static const uint64_t sizes[] = { 1, 63, 64, 65, 4096, 4097, 70000, 300000 };

	for (size_t si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
		uint64_t nbits = sizes[si];
		struct dmar_hbm h;
		uint8_t *ref = calloc(nbits, 1);

		REQUIRE(ref && dmar_hbm_init(&h, nbits) == 0);
		for (int op = 0; op < 3000; op++) {
			uint64_t a = next() % nbits, n = 1 + next() % (nbits - a < 200 ? nbits - a : 200);

			switch (next() % 4) {
			case 0:
				dmar_hbm_set_range(&h, a, n);
				memset(ref + a, 1, n);
				break;
			case 1:
				dmar_hbm_clear_range(&h, a, n);
				memset(ref + a, 0, n);
				break;
			case 2: {
				uint64_t lo = next() % nbits, hi = lo + 1 + next() % (nbits - lo);
				uint64_t al = 1ull << (next() % 4), off = next() % al;

				CHECK_EQ(dmar_hbm_find_run_down(&h, lo, hi, n, al, off),
					 ref_run_down(ref, lo, hi, n, al, off));
				break;
			}
			default:
				CHECK_EQ(dmar_hbm_prev_zero(&h, a), ref_prev_zero(ref, a));
				break;
			}
			CHECK_EQ(dmar_hbm_test(&h, a), ref[a]);
		}
		dmar_hbm_fini(&h);
		free(ref);
	}
}

TEST(full_and_empty_edges)
{
	struct dmar_hbm h;

	REQUIRE(dmar_hbm_init(&h, 1ull << 20) == 0);
	CHECK_EQ(dmar_hbm_prev_zero(&h, (1ull << 20) - 1), (1ull << 20) - 1);
	dmar_hbm_set_range(&h, 0, 1ull << 20);
	CHECK_EQ(dmar_hbm_prev_zero(&h, (1ull << 20) - 1), (uint64_t)-1);
	CHECK(dmar_hbm_all_set(&h, 0, 1ull << 20));
	dmar_hbm_clear_range(&h, 777, 1);
	CHECK_EQ(dmar_hbm_prev_zero(&h, (1ull << 20) - 1), 777);
	CHECK_EQ(dmar_hbm_prev_zero(&h, 776), (uint64_t)-1);
	CHECK_EQ(dmar_hbm_find_run_down(&h, 0, 1ull << 20, 2, 1, 0), (uint64_t)-1);
	dmar_hbm_fini(&h);
	CHECK(dmar_hbm_init(&h, 0) != 0);
}

RUN_TESTS(T(random_ops_match_reference), T(full_and_empty_edges))
