/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The logical address allocator (S13, S14): ranges inside [base, limit), never overlapping,
 * exhaustion reported, everything reusable after free, per-thread caches that give their
 * ranges back when another thread runs short. */
#include <pthread.h>

#include "check.h"
#include "rcu.h" /* dmar__lock: what the WDDM layer holds */

#define K4 4096ull

/* one byte per page: who holds it; an allocation must find its pages free */
static int claim(uint8_t *owner, uint64_t base, dmar_iova_t iova, uint64_t n, uint8_t who)
{
	uint64_t first = (iova - base) / K4;

	for (uint64_t i = 0; i < n; i++)
		if (__atomic_exchange_n(&owner[first + i], who, __ATOMIC_RELAXED) != 0)
			return 0;
	return 1;
}

static void unclaim(uint8_t *owner, uint64_t base, dmar_iova_t iova, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		__atomic_store_n(&owner[(iova - base) / K4 + i], 0, __ATOMIC_RELAXED);
}

static uint64_t rounded(uint64_t n)
{
	uint64_t r = 1;

	if (n > DMAR_IOVA_CACHED_MAX_PAGES)
		return n;
	while (r < n)
		r <<= 1;
	return r;
}

/* Allocate @n pages into held[*nheld] / sz[*nheld] and claim them for @who in @owner (whose
 * first page is @base): 1 if taken; NOSPACE is not an error, anything else or a page some
 * other holder has counts one in *errors. */
static int alloc_claimed(dmar_iovad *a, uint8_t *owner, uint64_t base, uint8_t who, uint64_t n,
			 dmar_iova_t *held, uint64_t *sz, int *nheld, int *errors)
{
	dmar_iova_t x;
	const dmar_status st = dmar_iova_alloc(a, n, &x);

	if (st == DMAR_E_NOSPACE)
		return 0;
	if (st != DMAR_OK || !claim(owner, base, x, rounded(n), who)) {
		(*errors)++;
		return 0;
	}
	held[*nheld] = x;
	sz[(*nheld)++] = n;
	return 1;
}

TEST(S14_ranges_inside_the_limit_size_aligned_and_disjoint)
{
	const uint64_t base = 0x100000, limit = base + 4096 * K4;
	uint8_t *owner = calloc(4096, 1);
	dmar_iovad *a;
	dmar_iova_t iova[600];
	uint64_t sz[600], seed = 7, pages = 0;
	dmar_iovad_stats st;
	int n = 0;

	REQUIRE(dmar_iovad_create(base, limit, &a) == DMAR_OK);
	for (; n < 600; n++) {
		sz[n] = 1 + test_xorshift(&seed) % (n % 5 == 0 ? 70 : 9);
		if (dmar_iova_alloc(a, sz[n], &iova[n]) != DMAR_OK)
			break;
		CHECK(iova[n] >= base && iova[n] + rounded(sz[n]) * K4 <= limit);
		if (sz[n] <= DMAR_IOVA_CACHED_MAX_PAGES)
			CHECK_EQ(iova[n] % (rounded(sz[n]) * K4), 0);
		CHECK(claim(owner, base, iova[n], rounded(sz[n]), 1));
		pages += rounded(sz[n]);
	}
	dmar_iovad_get_stats(a, &st);
	CHECK_EQ(st.pages_in_use, pages);
	CHECK_EQ(st.pages_total, 4096);
	for (int i = 0; i < n; i++) {
		CHECK_ST(dmar_iova_free(a, iova[i], sz[i]), DMAR_OK);
		unclaim(owner, base, iova[i], rounded(sz[i]));
	}
	dmar_iovad_get_stats(a, &st);
	CHECK_EQ(st.pages_in_use, 0);
	dmar_iovad_destroy(a);
	free(owner);
}

TEST(exhaustion_is_reported_and_everything_is_reusable_after_free)
{
	const uint64_t npages = 1024;
	dmar_iovad *a;
	dmar_iova_t iova[1024], big;
	dmar_iovad_stats st;

	REQUIRE(dmar_iovad_create(0, npages * K4, &a) == DMAR_OK);
	for (unsigned round = 0; round < 3; round++) {
		for (uint64_t i = 0; i < npages; i++)
			CHECK_ST(dmar_iova_alloc(a, 1, &iova[i]), DMAR_OK);
		CHECK_ST(dmar_iova_alloc(a, 1, &big), DMAR_E_NOSPACE);
		for (uint64_t i = 0; i < npages; i++)
			CHECK_ST(dmar_iova_free(a, iova[i], 1), DMAR_OK);
		/* again: now every page comes from this thread's cache and depot */
		for (uint64_t i = 0; i < npages; i++)
			CHECK_ST(dmar_iova_alloc(a, 1, &iova[i]), DMAR_OK);
		for (uint64_t i = 0; i < npages; i++)
			CHECK_ST(dmar_iova_free(a, iova[i], 1), DMAR_OK);
		/* the freed pages sit in this thread's cache; one range of all of them must
		 * still be found (the caches are drained when the bitmap runs short) */
		CHECK_ST(dmar_iova_alloc(a, npages, &big), DMAR_OK);
		CHECK_EQ(big, 0);
		CHECK_ST(dmar_iova_free(a, big, npages), DMAR_OK);
	}
	CHECK_ST(dmar_iova_alloc(a, npages + 1, &big), DMAR_E_NOSPACE);
	dmar_iovad_get_stats(a, &st);
	CHECK_EQ(st.failures, 4);
	CHECK(st.flushes >= 3);
	CHECK(st.cache_hits >= 3 * npages); /* every second pass came from the cache */
	CHECK_EQ(st.pages_in_use, 0);
	dmar_iovad_destroy(a);
}

TEST(bad_frees_get_a_status_and_change_nothing)
{
	dmar_iovad *a;
	dmar_iova_t x, y, big;
	dmar_iovad_stats st;

	REQUIRE(dmar_iovad_create(0x10000, 0x10000 + 256 * K4, &a) == DMAR_OK);
	CHECK_ST(dmar_iovad_create(0x10000, 0x10000, &a), DMAR_E_INVALID);
	CHECK_ST(dmar_iovad_create(0x10001, 0x20000, &a), DMAR_E_INVALID);
	CHECK_ST(dmar_iova_alloc(a, 0, &x), DMAR_E_INVALID);
	CHECK_ST(dmar_iova_alloc(a, 40, &big), DMAR_OK); /* the top 40 pages */
	CHECK_ST(dmar_iova_alloc(a, 4, &x), DMAR_OK);    /* the 4 below, 4-aligned */
	CHECK_EQ(x, 0x10000 + 212 * K4);
	CHECK_ST(dmar_iova_free(a, x, 8), DMAR_E_NOT_FOUND);   /* wrong size class */
	CHECK_ST(dmar_iova_free(a, x + K4, 4), DMAR_E_NOT_FOUND); /* not its start */
	CHECK_ST(dmar_iova_free(a, x + 1, 4), DMAR_E_INVALID);   /* misaligned */
	CHECK_ST(dmar_iova_free(a, 0, 1), DMAR_E_INVALID);       /* below the base */
	CHECK_ST(dmar_iova_free(a, 0x10000 + 300 * K4, 1), DMAR_E_INVALID); /* beyond */
	CHECK_ST(dmar_iova_free(a, big, 39), DMAR_E_NOT_FOUND);  /* big: wrong size */
	{
		/* a larger size reaching another larger allocation's last page: not one of
		 * them, nothing freed (each is freed with its own size after) */
		dmar_iova_t big2, z;

		CHECK_ST(dmar_iova_alloc(a, 40, &big2), DMAR_OK);
		REQUIRE(big2 < x); /* below the 4 pages, which lie below big */
		CHECK_ST(dmar_iova_free(a, big2, (big + 40 * K4 - big2) / K4), DMAR_E_NOT_FOUND);
		dmar_iovad_get_stats(a, &st);
		CHECK_EQ(st.pages_in_use, 84);
		CHECK_ST(dmar_iova_alloc(a, 40, &z), DMAR_OK); /* neither's pages */
		CHECK(z + 40 * K4 <= big2 || z >= big2 + 40 * K4);
		CHECK(z + 40 * K4 <= big || z >= big + 40 * K4);
		CHECK_ST(dmar_iova_free(a, z, 40), DMAR_OK);
		CHECK_ST(dmar_iova_free(a, big2, 40), DMAR_OK);
	}
	CHECK_ST(dmar_iova_free(a, big, 40), DMAR_OK);
	CHECK_ST(dmar_iova_free(a, big, 40), DMAR_E_NOT_FOUND);  /* double free */
	CHECK_ST(dmar_iova_free(a, x, 3), DMAR_OK);              /* 3 rounds to 4 */
	CHECK_ST(dmar_iova_free(a, x, 4), DMAR_E_NOT_FOUND);     /* double free (cached) */
	CHECK_ST(dmar_iova_alloc(a, 4, &y), DMAR_OK);            /* the cache gives x back once */
	CHECK_EQ(y, x);
	CHECK_ST(dmar_iova_free(a, y, 4), DMAR_OK);
	dmar_iovad_get_stats(a, &st);
	CHECK_EQ(st.bad_frees, 6);
	CHECK_EQ(st.pages_in_use, 0);
	dmar_iovad_destroy(a);
}

/* S14: the allocator's arithmetic at the top of the 64-bit space.  A range [base, limit)
 * just below 2^64 hands out its pages there; addresses and sizes whose sums would run past
 * 2^64 get a status and change nothing, and a limit cannot stand for 2^64 itself. */
TEST(S14_ranges_at_the_top_of_64_bits_never_wrap)
{
	const uint64_t base = 0 - 64 * K4, limit = 0 - K4; /* the 63 pages below the last */
	dmar_iovad *a, *b = NULL;
	dmar_iova_t x, y;
	dmar_iovad_stats before, after;

	REQUIRE(dmar_iovad_create(base, limit, &a) == DMAR_OK);
	CHECK_ST(dmar_iovad_create(0 - K4, 0, &b), DMAR_E_INVALID); /* 0 is no 2^64 */
	CHECK_ST(dmar_iovad_create(0, 0 - K4, &b), DMAR_E_INVALID); /* too many pages */
	CHECK(b == NULL);
	CHECK_ST(dmar_iova_alloc(a, 40, &x), DMAR_OK); /* the top 40: ends at limit exactly */
	CHECK_EQ(x, limit - 40 * K4);
	CHECK_ST(dmar_iova_alloc(a, 8, &y), DMAR_OK);
	CHECK(y >= base && y + 8 * K4 <= x);
	dmar_iovad_get_stats(a, &before);
	CHECK_ST(dmar_iova_alloc(a, UINT64_MAX, &y), DMAR_E_NOSPACE);
	CHECK_ST(dmar_iova_alloc(a, 64, &y), DMAR_E_NOSPACE); /* more than it holds */
	CHECK_ST(dmar_iova_free(a, x, UINT64_MAX), DMAR_E_INVALID); /* x + that wraps */
	CHECK_ST(dmar_iova_free(a, x, (UINT64_MAX >> 12) + 1), DMAR_E_INVALID);
	CHECK_ST(dmar_iova_free(a, x, 41), DMAR_E_INVALID); /* one page past the limit */
	CHECK_ST(dmar_iova_free(a, limit, 1), DMAR_E_INVALID);
	CHECK_ST(dmar_iova_free(a, 0 - K4, 1), DMAR_E_INVALID); /* the last page of all */
	CHECK_ST(dmar_iova_free(a, 0, 1), DMAR_E_INVALID);
	dmar_iovad_get_stats(a, &after);
	CHECK_EQ(after.pages_in_use, before.pages_in_use);
	CHECK_EQ(after.allocs, before.allocs);
	CHECK_EQ(after.frees, before.frees);
	CHECK_EQ(after.failures, before.failures + 2);
	CHECK_ST(dmar_iova_free(a, x, 40), DMAR_OK);
	CHECK_ST(dmar_iova_alloc(a, 63, &x), DMAR_E_NOSPACE); /* y still holds 8 */
	CHECK_ST(dmar_iova_free(a, y, 8), DMAR_OK);
	CHECK_ST(dmar_iova_alloc(a, 63, &x), DMAR_OK); /* all of it (y drained from the cache) */
	CHECK_EQ(x, base);
	CHECK_ST(dmar_iova_free(a, x, 63), DMAR_OK);
	dmar_iovad_get_stats(a, &after);
	CHECK_EQ(after.pages_in_use, 0);
	CHECK_EQ(after.pages_total, 63);
	dmar_iovad_destroy(a);
}

TEST(unregistered_threads_use_the_slow_path)
{
	dmar_iovad *a;
	dmar_iova_t x;
	dmar_iovad_stats st;

	REQUIRE(dmar_iovad_create(0, 64 * K4, &a) == DMAR_OK);
	dmar_thread_unregister();
	CHECK_ST(dmar_iova_alloc(a, 2, &x), DMAR_OK);
	CHECK_ST(dmar_iova_free(a, x, 2), DMAR_OK);
	CHECK_ST(dmar_iova_free(a, x, 2), DMAR_E_NOT_FOUND);
	dmar_thread_register();
	dmar_iovad_get_stats(a, &st);
	CHECK_EQ(st.cache_hits, 0);
	CHECK_EQ(st.allocs, 1);
	dmar_iovad_destroy(a);
}

/* Two threads allocate mixed sizes, free some of the other's ranges, and run the range dry
 * now and then; every allocation must find its pages unowned. */
struct worker {
	dmar_iovad *a;
	uint8_t *owner;
	uint64_t base;
	uint8_t who;
	int iters, errors;
	dmar_iova_t *mailbox; /* ranges handed to the other thread (size 1 page) */
};

static void *worker(void *arg)
{
	struct worker *w = arg;
	dmar_iova_t held[64];
	uint64_t sz[64], seed = w->who * 977u + 1;
	int nheld = 0;

	dmar_thread_register();
	for (int it = 0; it < w->iters; it++) {
		uint64_t r = test_xorshift(&seed);

		if (nheld < 64 && (r & 3) != 0) {
			(void)alloc_claimed(w->a, w->owner, w->base, w->who,
					    1 + (r >> 8) % ((r & 0x30) ? 8 : 48), held, sz, &nheld,
					    &w->errors);
		} else if (nheld) {
			int k = (int)((r >> 16) % (uint64_t)nheld);
			dmar_iova_t x = held[k];
			uint64_t n = sz[k];

			held[k] = held[--nheld];
			sz[k] = sz[nheld];
			unclaim(w->owner, w->base, x, rounded(n));
			if (n == 1) { /* swap with the other thread: cross-thread frees */
				x = __atomic_exchange_n(w->mailbox, x, __ATOMIC_ACQ_REL);
				if (!x)
					continue;
			}
			if (dmar_iova_free(w->a, x, n) != DMAR_OK)
				w->errors++;
		}
	}
	while (nheld--) {
		unclaim(w->owner, w->base, held[nheld], rounded(sz[nheld]));
		if (dmar_iova_free(w->a, held[nheld], sz[nheld]) != DMAR_OK)
			w->errors++;
	}
	dmar_thread_unregister();
	return NULL;
}

struct cache_fill {
	dmar_iovad *a;
	dmar_iova_t got[64];
	int n;
};

/* A registered thread that takes single pages until none is left and frees them: they sit in
 * its own magazines (and the depot) afterwards. */
static void *fill_own_cache(void *arg)
{
	struct cache_fill *c = arg;

	dmar_thread_register();
	while (c->n < 64 && dmar_iova_alloc(c->a, 1, &c->got[c->n]) == DMAR_OK)
		c->n++;
	for (int i = 0; i < c->n; i++)
		(void)dmar_iova_free(c->a, c->got[i], 1);
	dmar_thread_unregister();
	return NULL;
}

/* iova.h and design decision 3: a caller that holds one of the library's locks (as the WDDM
 * layer's callbacks do) is never made to wait for a grace period: when the ranges left sit
 * in another thread's cache, its allocation answers DMAR_E_NOSPACE at once; without the
 * lock, the same allocation drains every cache (a grace period) and succeeds. */
TEST(S14_a_caller_holding_a_library_lock_never_waits_to_drain_other_caches)
{
	static pthread_mutex_t held = PTHREAD_MUTEX_INITIALIZER;
	struct cache_fill c = { 0 };
	dmar_iovad_stats st;
	uint64_t flushes;
	dmar_iova_t x;
	pthread_t th;

	REQUIRE(dmar_iovad_create(0, 32 * K4, &c.a) == DMAR_OK); /* 32 pages */
	REQUIRE(pthread_create(&th, NULL, fill_own_cache, &c) == 0);
	dmar_thread_offline();
	pthread_join(th, NULL);
	dmar_thread_online();
	CHECK_EQ(c.n, 32);
	dmar_iovad_get_stats(c.a, &st);
	flushes = st.flushes; /* (the filler drained when it ran out) */
	dmar__lock(&held);
	CHECK_ST(dmar_iova_alloc(c.a, 1, &x), DMAR_E_NOSPACE);
	dmar__unlock(&held);
	dmar_iovad_get_stats(c.a, &st);
	CHECK_EQ(st.flushes, flushes); /* no drain that waits */
	CHECK_ST(dmar_iova_alloc(c.a, 1, &x), DMAR_OK);
	dmar_iovad_get_stats(c.a, &st);
	CHECK_EQ(st.flushes, flushes + 1);
	CHECK_ST(dmar_iova_free(c.a, x, 1), DMAR_OK);
	dmar_iovad_destroy(c.a);
}

TEST(two_threads_with_caches_and_cross_frees_never_overlap)
{
	const uint64_t base = K4, npages = 2048; /* small: the threads run it dry often */
	uint8_t *owner = calloc(npages, 1);
	dmar_iova_t mailbox = 0, big;
	struct worker w[2];
	pthread_t t[2];
	dmar_iovad *a;
	dmar_iovad_stats st;

	REQUIRE(dmar_iovad_create(base, base + npages * K4, &a) == DMAR_OK);
	for (int i = 0; i < 2; i++) {
		w[i] = (struct worker){ .a = a, .owner = owner, .base = base, .who = (uint8_t)(i + 1),
					.iters = 200000, .mailbox = &mailbox };
		pthread_create(&t[i], NULL, worker, &w[i]);
	}
	dmar_thread_offline(); /* qsbr: blocked threads must not hold up grace periods */
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	dmar_thread_online();
	for (int i = 0; i < 2; i++)
		CHECK_EQ(w[i].errors, 0);
	if (mailbox)
		CHECK_ST(dmar_iova_free(a, mailbox, 1), DMAR_OK);
	dmar_iovad_get_stats(a, &st);
	CHECK_EQ(st.pages_in_use, 0);
	CHECK(st.cache_hits > 0);
	/* everything is back: the whole range in one piece */
	CHECK_ST(dmar_iova_alloc(a, npages, &big), DMAR_OK);
	CHECK_EQ(big, base);
	dmar_iovad_destroy(a);
	free(owner);
}

/* iova.h, dmar_iovad_create: base and limit both 4 KiB aligned (an unaligned limit is
 * DMAR_E_INVALID), at most DMAR_IOVA_MAX_PAGES pages: exactly that many is an allocator
 * (its pages all usable, up to the limit), one page more is DMAR_E_INVALID. */
TEST(S14_create_takes_exactly_max_pages_and_an_aligned_limit)
{
	const uint64_t max_bytes = DMAR_IOVA_MAX_PAGES * K4;
	dmar_iovad *a = NULL, *b = NULL;
	dmar_iovad_stats st;
	dmar_iova_t x, y;

	CHECK_ST(dmar_iovad_create(0, 0x10001, &b), DMAR_E_INVALID);
	CHECK_ST(dmar_iovad_create(0x1000, 0x20800, &b), DMAR_E_INVALID);
	CHECK_ST(dmar_iovad_create(0x1000, 0x2fff, &b), DMAR_E_INVALID);
	CHECK_ST(dmar_iovad_create(0, max_bytes + K4, &b), DMAR_E_INVALID);
	CHECK_ST(dmar_iovad_create(K4, K4 + max_bytes + K4, &b), DMAR_E_INVALID);
	CHECK(b == NULL);
	CHECK_ST(dmar_iovad_create(K4, K4 + max_bytes, &b), DMAR_OK);
	dmar_iovad_destroy(b);
	CHECK_ST(dmar_iovad_create(0, max_bytes, &a), DMAR_OK);
	REQUIRE(a);
	dmar_iovad_get_stats(a, &st);
	CHECK_EQ(st.pages_total, DMAR_IOVA_MAX_PAGES);
	CHECK_ST(dmar_iova_alloc(a, 40, &x), DMAR_OK); /* highest first: the top 40 pages */
	CHECK_EQ(x, max_bytes - 40 * K4);
	CHECK_ST(dmar_iova_alloc(a, 1, &y), DMAR_OK);
	CHECK(y < x);
	CHECK_ST(dmar_iova_free(a, y, 1), DMAR_OK);
	CHECK_ST(dmar_iova_free(a, x, 40), DMAR_OK);
	dmar_iovad_destroy(a);
}

static int same_stats(const dmar_iovad_stats *a, const dmar_iovad_stats *b)
{
	return a->allocs == b->allocs && a->frees == b->frees && a->cache_hits == b->cache_hits &&
	       a->failures == b->failures && a->bad_frees == b->bad_frees &&
	       a->flushes == b->flushes && a->pages_in_use == b->pages_in_use &&
	       a->pages_total == b->pages_total;
}

/* iova.h, dmar_iova_free: npages 0 is DMAR_E_INVALID, and a range that was never allocated,
 * lying in free space, is DMAR_E_NOT_FOUND; neither changes anything (the counters but
 * bad_frees, which counts the NOT_FOUND answers only; the free space stays one free run). */
TEST(S14_free_of_zero_pages_or_of_free_space_changes_nothing)
{
	const uint64_t npages = 256;
	static const struct {
		uint64_t page, n;
	} never[] = { { 0, 1 }, { 16, 4 }, { 64, 16 }, { 96, 32 }, { 0, 33 }, { 100, 40 } };
	dmar_iovad *a;
	dmar_iova_t x, big, rest;
	dmar_iovad_stats before, after;

	REQUIRE(dmar_iovad_create(0, npages * K4, &a) == DMAR_OK);
	CHECK_ST(dmar_iova_alloc(a, 40, &big), DMAR_OK);
	CHECK_EQ(big, (npages - 40) * K4);
	CHECK_ST(dmar_iova_alloc(a, 4, &x), DMAR_OK);
	CHECK_EQ(x, (npages - 44) * K4); /* the pages below 212 are free */
	dmar_iovad_get_stats(a, &before);
	CHECK_ST(dmar_iova_free(a, x, 0), DMAR_E_INVALID);
	CHECK_ST(dmar_iova_free(a, big, 0), DMAR_E_INVALID);
	CHECK_ST(dmar_iova_free(a, 0, 0), DMAR_E_INVALID);
	dmar_iovad_get_stats(a, &after);
	CHECK(same_stats(&before, &after));
	for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++) {
		CHECK_ST(dmar_iova_free(a, never[i].page * K4, never[i].n), DMAR_E_NOT_FOUND);
		dmar_iovad_get_stats(a, &after);
		before.bad_frees++;
		CHECK(same_stats(&before, &after));
	}
	/* the free space is still all free, in one piece, and x and big still allocated */
	CHECK_ST(dmar_iova_alloc(a, npages - 44, &rest), DMAR_OK);
	CHECK_EQ(rest, 0);
	CHECK_ST(dmar_iova_free(a, rest, npages - 44), DMAR_OK);
	CHECK_ST(dmar_iova_free(a, x, 4), DMAR_OK);
	CHECK_ST(dmar_iova_free(a, big, 40), DMAR_OK);
	dmar_iovad_get_stats(a, &after);
	CHECK_EQ(after.pages_in_use, 0);
	dmar_iovad_destroy(a);
}

/* iova.h: sizes up to DMAR_IOVA_CACHED_MAX_PAGES are rounded up to a power of two and
 * aligned to it: the address itself, not its distance from the base.  Over [3, 11) pages
 * the only 4-page-aligned run is [4, 8), the only 2-page-aligned run besides it [8, 10),
 * and no 8-page-aligned run fits (8 free pages or not). */
TEST(S14_size_alignment_is_of_the_address_when_the_base_is_not_aligned)
{
	dmar_iovad *a, *b;
	dmar_iova_t x4, x2, x1, y, z;
	dmar_iovad_stats st;

	REQUIRE(dmar_iovad_create(3 * K4, 11 * K4, &a) == DMAR_OK);
	CHECK_ST(dmar_iova_alloc(a, 8, &y), DMAR_E_NOSPACE);
	CHECK_ST(dmar_iova_alloc(a, 5, &y), DMAR_E_NOSPACE); /* rounds to 8 */
	CHECK_ST(dmar_iova_alloc(a, 3, &x4), DMAR_OK);       /* rounds to 4 */
	CHECK_EQ(x4, 4 * K4);
	CHECK_ST(dmar_iova_alloc(a, 4, &y), DMAR_E_NOSPACE);
	CHECK_ST(dmar_iova_alloc(a, 2, &x2), DMAR_OK);
	CHECK_EQ(x2, 8 * K4);
	CHECK_ST(dmar_iova_alloc(a, 2, &y), DMAR_E_NOSPACE);
	CHECK_ST(dmar_iova_alloc(a, 1, &x1), DMAR_OK);
	CHECK(x1 == 3 * K4 || x1 == 10 * K4);
	CHECK_ST(dmar_iova_free(a, x1, 1), DMAR_OK);
	CHECK_ST(dmar_iova_free(a, x2, 2), DMAR_OK);
	CHECK_ST(dmar_iova_free(a, x4, 3), DMAR_OK);
	dmar_iovad_get_stats(a, &st);
	CHECK_EQ(st.pages_in_use, 0);
	CHECK_EQ(st.failures, 4);
	dmar_iovad_destroy(a);
	/* every cached size, many times, from a base 3 pages past a 64-page boundary */
	REQUIRE(dmar_iovad_create(67 * K4, 67 * K4 + 512 * K4, &b) == DMAR_OK);
	for (uint64_t n = 1; n <= DMAR_IOVA_CACHED_MAX_PAGES; n++) {
		for (int k = 0; k < 3; k++) {
			CHECK_ST(dmar_iova_alloc(b, n, &z), DMAR_OK);
			CHECK_EQ(z % (rounded(n) * K4), 0);
			CHECK(z >= 67 * K4 && z + rounded(n) * K4 <= 67 * K4 + 512 * K4);
			CHECK_ST(dmar_iova_free(b, z, n), DMAR_OK);
		}
	}
	dmar_iovad_destroy(b);
}

/* iova.h, dmar_iovad_flush: every cached range goes back to the shared pool, and the drain
 * is counted in flushes (explicit drains count; so does one with nothing cached).  The
 * freed pages sit in this thread's cache; after the flush one range of all of them is found
 * without another drain (flushes stays), which without it needs one. */
TEST(S14_flush_returns_cached_ranges_and_is_counted)
{
	const uint64_t npages = 64;
	dmar_iovad *a;
	dmar_iova_t iova[64], big;
	dmar_iovad_stats before, after;

	REQUIRE(dmar_iovad_create(0, npages * K4, &a) == DMAR_OK);
	for (int round = 0; round < 2; round++) {
		for (uint64_t i = 0; i < npages; i++)
			CHECK_ST(dmar_iova_alloc(a, 1, &iova[i]), DMAR_OK);
		for (uint64_t i = 0; i < npages; i++)
			CHECK_ST(dmar_iova_free(a, iova[i], 1), DMAR_OK);
		dmar_iovad_get_stats(a, &before);
		CHECK_EQ(before.pages_in_use, 0);
		dmar_iovad_flush(a);
		dmar_iovad_get_stats(a, &after);
		CHECK_EQ(after.flushes, before.flushes + 1);
		before.flushes++;
		CHECK(same_stats(&before, &after)); /* nothing else changed */
		CHECK_ST(dmar_iova_alloc(a, npages, &big), DMAR_OK);
		CHECK_EQ(big, 0);
		dmar_iovad_get_stats(a, &after);
		CHECK_EQ(after.flushes, before.flushes); /* the pages were back already */
		CHECK_ST(dmar_iova_free(a, big, npages), DMAR_OK);
	}
	/* a flush with nothing cached is a drain all the same */
	dmar_iovad_get_stats(a, &before);
	dmar_iovad_flush(a);
	dmar_iovad_get_stats(a, &after);
	CHECK_EQ(after.flushes, before.flushes + 1);
	/* and without a flush, the same whole range needs a drain */
	for (uint64_t i = 0; i < npages; i++)
		CHECK_ST(dmar_iova_alloc(a, 1, &iova[i]), DMAR_OK);
	for (uint64_t i = 0; i < npages; i++)
		CHECK_ST(dmar_iova_free(a, iova[i], 1), DMAR_OK);
	dmar_iovad_get_stats(a, &before);
	CHECK_ST(dmar_iova_alloc(a, npages, &big), DMAR_OK);
	dmar_iovad_get_stats(a, &after);
	CHECK_EQ(after.flushes, before.flushes + 1);
	CHECK_ST(dmar_iova_free(a, big, npages), DMAR_OK);
	dmar_iovad_destroy(a);
}

/* Flush while two registered threads allocate and free: they call nothing but the
 * allocator (and never go offline), so under qsbr each flush's grace period completes only
 * because every allocator call is a quiescent state for its thread (iova.h); with memb it
 * needs nothing.  The main thread flushes until each thread made FLUSH_MIN_OPS calls; each
 * thread stops once the flushes are done, or after FLUSH_MAX_OPS calls (which would mean
 * the flushes waited for the threads to finish). */
#define FLUSH_MIN_OPS 2000
#define FLUSH_MAX_OPS 1000000

struct flusher_worker {
	dmar_iovad *a;
	uint8_t *owner;
	uint64_t base;
	uint8_t who;
	int *stop;
	int ops, errors;
};

static void *flush_worker(void *arg)
{
	struct flusher_worker *w = arg;
	dmar_iova_t held[16];
	uint64_t sz[16], seed = w->who * 7919u + 3;
	int nheld = 0;

	dmar_thread_register();
	while (w->ops < FLUSH_MAX_OPS &&
	       (w->ops < FLUSH_MIN_OPS || !__atomic_load_n(w->stop, __ATOMIC_ACQUIRE))) {
		uint64_t r = test_xorshift(&seed);

		__atomic_store_n(&w->ops, w->ops + 1, __ATOMIC_RELAXED); /* (main reads it) */
		if (nheld < 16 && (r & 1)) {
			(void)alloc_claimed(w->a, w->owner, w->base, w->who,
					    1 + (r >> 8) % ((r & 0x70) ? 8 : 40), held, sz, &nheld,
					    &w->errors);
		} else if (nheld) {
			int k = (int)((r >> 16) % (uint64_t)nheld);

			unclaim(w->owner, w->base, held[k], rounded(sz[k]));
			if (dmar_iova_free(w->a, held[k], sz[k]) != DMAR_OK)
				w->errors++;
			held[k] = held[--nheld];
			sz[k] = sz[nheld];
		}
	}
	while (nheld--) {
		unclaim(w->owner, w->base, held[nheld], rounded(sz[nheld]));
		if (dmar_iova_free(w->a, held[nheld], sz[nheld]) != DMAR_OK)
			w->errors++;
	}
	dmar_thread_unregister();
	return NULL;
}

/* iova.h, dmar_iovad_flush (thread-safe) and the qsbr note: explicit flushes while two other
 * registered threads allocate and free never hand out a page twice, each is counted, and
 * at the end every range is back: the whole range allocatable in one piece. */
TEST(S14_flush_while_two_threads_allocate_and_free)
{
	const uint64_t base = 5 * K4, npages = 512;
	uint8_t *owner = calloc(npages, 1);
	struct flusher_worker w[2];
	dmar_iovad_stats before, after;
	dmar_iova_t big;
	dmar_iovad *a;
	pthread_t t[2];
	int stop = 0, nflush = 0;

	REQUIRE(owner);
	REQUIRE(dmar_iovad_create(base, base + npages * K4, &a) == DMAR_OK);
	dmar_iovad_get_stats(a, &before);
	for (int i = 0; i < 2; i++) {
		w[i] = (struct flusher_worker){ .a = a, .owner = owner, .base = base,
						.who = (uint8_t)(i + 1), .stop = &stop };
		REQUIRE(pthread_create(&t[i], NULL, flush_worker, &w[i]) == 0);
	}
	/* flush until both threads made FLUSH_MIN_OPS calls, 8 times at least */
	while (nflush < 8 || __atomic_load_n(&w[0].ops, __ATOMIC_RELAXED) < FLUSH_MIN_OPS ||
	       __atomic_load_n(&w[1].ops, __ATOMIC_RELAXED) < FLUSH_MIN_OPS) {
		dmar_iovad_flush(a);
		nflush++;
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	dmar_thread_offline(); /* qsbr: blocked threads must not hold up grace periods */
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	dmar_thread_online();
	printf("# %d flushes while the threads made %d and %d calls\n", nflush, w[0].ops, w[1].ops);
	for (int i = 0; i < 2; i++) {
		CHECK_EQ(w[i].errors, 0);
		CHECK(w[i].ops >= FLUSH_MIN_OPS);
		CHECK(w[i].ops < FLUSH_MAX_OPS); /* the flushes did not wait for the end */
	}
	dmar_iovad_get_stats(a, &after);
	CHECK(after.flushes >= before.flushes + (uint64_t)nflush);
	CHECK_EQ(after.pages_in_use, 0);
	CHECK_EQ(after.allocs, after.frees);
	CHECK_ST(dmar_iova_alloc(a, npages, &big), DMAR_OK);
	CHECK_EQ(big, base);
	CHECK_ST(dmar_iova_free(a, big, npages), DMAR_OK);
	dmar_iovad_destroy(a);
	free(owner);
}

RUN_TESTS(T(S14_ranges_inside_the_limit_size_aligned_and_disjoint),
	  T(S14_a_caller_holding_a_library_lock_never_waits_to_drain_other_caches),
	  T(exhaustion_is_reported_and_everything_is_reusable_after_free),
	  T(bad_frees_get_a_status_and_change_nothing),
	  T(S14_ranges_at_the_top_of_64_bits_never_wrap),
	  T(unregistered_threads_use_the_slow_path),
	  T(two_threads_with_caches_and_cross_frees_never_overlap),
	  T(S14_create_takes_exactly_max_pages_and_an_aligned_limit),
	  T(S14_free_of_zero_pages_or_of_free_space_changes_nothing),
	  T(S14_size_alignment_is_of_the_address_when_the_base_is_not_aligned),
	  T(S14_flush_returns_cached_ranges_and_is_counted),
	  T(S14_flush_while_two_threads_allocate_and_free))
