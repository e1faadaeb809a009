/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The logical address allocator against a global-mutex free list: alloc+free on the
 * per-thread fast path, the slow path, and a long run (the targets they are held to, and the
 * results, are in docs/performance.md).
 *
 *  iova/engine/pair/pages:N     alloc N pages then free them, one thread or two (each its own
 *                               cache), 1 <= N <= 32: the fast path
 *  iova/engine/mixed            a working set of 256 live ranges of mixed sizes (1..32 pages
 *                               mostly, 1 in 16 between 33 and 300: the slow path), each
 *                               iteration frees one at random and allocates a new one
 *  iova/mutex_list/...          the same through the peer: one pthread mutex around a
 *                               first-fit free list of ranges (sorted, coalescing), what an
 *                               allocator without per-thread caches does
 *  iova/bare_list/pair/pages:N  the lower bound of any design: each thread pops a range of
 *                               N pages from a free list of its own holding nothing but
 *                               ranges of that size (an array used as a stack, filled from a
 *                               bump pointer of the thread's own) and pushes it back; no
 *                               lock, no sharing, no size classes, no checks
 *  iova/engine/long             whether the allocator slows down as it ages under alloc/free
 *                               of mixed sizes: one run of N pairs (N = DMAR_IOVA_LONG,
 *                               default 2e7 so that CI stays short; 1e9 when measuring) on a
 *                               fresh allocator with `live` ranges allocated (256 as
 *                               iova/engine/mixed, or 4096: more fragmentation) of the mixed
 *                               sizes above, each pair freeing one at random and allocating a
 *                               new one.  Counters: ns per pair (the thread's CPU time, so
 *                               that time descheduled by other work on the machine does not
 *                               count) over the first and the last 10% of the pairs
 *                               (ns_first10, ns_last10), their difference in percent
 *                               (slowdown_pct, the target is <= 10), ns per pair in each tenth
 *                               (ns_tenth0 .. ns_tenth9) and over all (ns_per_pair)
 * items_per_second counts alloc+free pairs. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <dmar.h>

#include "bench.h"

#define K4 4096ull
#define SPACE_PAGES (1ull << 28) /* a 40-bit device: 1 TiB of logical space */

/* ---- the peer: a global mutex over a free list ------------------------------------------ */

struct frange {
	uint64_t start, n;
	struct frange *next;
};

struct mutex_list {
	pthread_mutex_t lock;
	struct frange *free; /* sorted by start */
};

static void ml_init(struct mutex_list *m, uint64_t npages)
{
	pthread_mutex_init(&m->lock, NULL);
	m->free = malloc(sizeof(*m->free));
	*m->free = (struct frange){ 0, npages, NULL };
}

static int ml_alloc(struct mutex_list *m, uint64_t n, uint64_t *out)
{
	int ok = 0;

	pthread_mutex_lock(&m->lock);
	for (struct frange **p = &m->free; *p; p = &(*p)->next) {
		struct frange *f = *p;

		if (f->n < n)
			continue;
		*out = f->start + f->n - n; /* from the top of the first fit */
		f->n -= n;
		if (!f->n) {
			*p = f->next;
			free(f);
		}
		ok = 1;
		break;
	}
	pthread_mutex_unlock(&m->lock);
	return ok;
}

static void ml_free(struct mutex_list *m, uint64_t start, uint64_t n)
{
	struct frange **p, *prev = NULL;

	pthread_mutex_lock(&m->lock);
	for (p = &m->free; *p && (*p)->start < start; p = &(*p)->next)
		prev = *p;
	if (prev && prev->start + prev->n == start) {
		prev->n += n;
		if (*p && start + n == (*p)->start) { /* bridges two */
			struct frange *nx = *p;

			prev->n += nx->n;
			prev->next = nx->next;
			free(nx);
		}
	} else if (*p && start + n == (*p)->start) {
		(*p)->start = start;
		(*p)->n += n;
	} else {
		struct frange *f = malloc(sizeof(*f));

		*f = (struct frange){ start, n, *p };
		*p = f;
	}
	pthread_mutex_unlock(&m->lock);
}

/* ---- fixtures ------------------------------------------------------------------------ */

static dmar_iovad *iovad;
static struct mutex_list mlist;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void setup(void)
{
	if (dmar_iovad_create(0, SPACE_PAGES * K4, &iovad) != DMAR_OK)
		abort();
	ml_init(&mlist, SPACE_PAGES);
}

static void bm_engine_pair(bench_state *st, void *arg)
{
	uint64_t n = (uint64_t)bench_range(st, 0);
	dmar_iova_t x;

	(void)arg;
	pthread_once(&once, setup);
	dmar_thread_register();
	while (bench_keep_running_batch(st, 64))
		for (int i = 0; i < 64; i++) {
			if (dmar_iova_alloc(iovad, n, &x) != DMAR_OK ||
			    dmar_iova_free(iovad, x, n) != DMAR_OK) {
				bench_skip_with_error(st, "allocator failed");
				break;
			}
		}
	dmar_thread_unregister();
	bench_set_items_processed(st, bench_iterations_done(st));
}

static void bm_list_pair(bench_state *st, void *arg)
{
	uint64_t n = (uint64_t)bench_range(st, 0), x;

	(void)arg;
	pthread_once(&once, setup);
	while (bench_keep_running_batch(st, 64))
		for (int i = 0; i < 64; i++) {
			if (!ml_alloc(&mlist, n, &x)) {
				bench_skip_with_error(st, "allocator failed");
				break;
			}
			ml_free(&mlist, x, n);
		}
	bench_set_items_processed(st, bench_iterations_done(st));
}

/* The bare per-thread free list of fixed-size ranges (the lower bound). */
#define BARE_DEPTH 64

struct bare_list {
	uint64_t top;               /* ranges on the stack */
	uint64_t next;              /* the thread's bump pointer (pages) */
	uint64_t stack[BARE_DEPTH];
};

static inline uint64_t bare_alloc(struct bare_list *b, uint64_t n)
{
	if (b->top)
		return b->stack[--b->top];
	b->next += n;
	return b->next - n;
}

static inline void bare_free(struct bare_list *b, uint64_t x)
{
	if (b->top < BARE_DEPTH)
		b->stack[b->top++] = x;
}

static void bm_bare_pair(bench_state *st, void *arg)
{
	uint64_t n = (uint64_t)bench_range(st, 0);
	/* each thread its own list and its own quarter of the space */
	struct bare_list b = { .next = (uint64_t)bench_thread_index(st) * (SPACE_PAGES / 4) };

	(void)arg;
	while (bench_keep_running_batch(st, 64))
		for (int i = 0; i < 64; i++) {
			uint64_t x = bare_alloc(&b, n);

			bench_do_not_optimize(&x);
			bare_free(&b, x);
		}
	bench_set_items_processed(st, bench_iterations_done(st));
}

#define WS 256

static uint64_t mixed_size(uint64_t *s)
{
	uint64_t r;

	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	r = *s;
	return (r & 15) == 0 ? 33 + (r >> 8) % 268 : 1 + (r >> 8) % 32;
}

static void bm_engine_mixed(bench_state *st, void *arg)
{
	dmar_iova_t live[WS];
	uint64_t sz[WS], seed = 0x9e3779b97f4a7c15ull + (uint64_t)bench_thread_index(st);

	(void)arg;
	pthread_once(&once, setup);
	dmar_thread_register();
	for (int i = 0; i < WS; i++) {
		sz[i] = mixed_size(&seed);
		if (dmar_iova_alloc(iovad, sz[i], &live[i]) != DMAR_OK)
			abort();
	}
	while (bench_keep_running_batch(st, 64))
		for (int i = 0; i < 64; i++) {
			unsigned k = (unsigned)(seed >> 32) % WS;

			(void)dmar_iova_free(iovad, live[k], sz[k]);
			sz[k] = mixed_size(&seed);
			if (dmar_iova_alloc(iovad, sz[k], &live[k]) != DMAR_OK) {
				bench_skip_with_error(st, "allocator failed");
				break;
			}
		}
	for (int i = 0; i < WS; i++)
		(void)dmar_iova_free(iovad, live[i], sz[i]);
	dmar_thread_unregister();
	bench_set_items_processed(st, bench_iterations_done(st));
}

static void bm_list_mixed(bench_state *st, void *arg)
{
	uint64_t live[WS], sz[WS], seed = 0x9e3779b97f4a7c15ull + (uint64_t)bench_thread_index(st);

	(void)arg;
	pthread_once(&once, setup);
	for (int i = 0; i < WS; i++) {
		sz[i] = mixed_size(&seed);
		if (!ml_alloc(&mlist, sz[i], &live[i]))
			abort();
	}
	while (bench_keep_running_batch(st, 64))
		for (int i = 0; i < 64; i++) {
			unsigned k = (unsigned)(seed >> 32) % WS;

			ml_free(&mlist, live[k], sz[k]);
			sz[k] = mixed_size(&seed);
			if (!ml_alloc(&mlist, sz[k], &live[k])) {
				bench_skip_with_error(st, "allocator failed");
				break;
			}
		}
	for (int i = 0; i < WS; i++)
		ml_free(&mlist, live[i], sz[i]);
	bench_set_items_processed(st, bench_iterations_done(st));
}

/* ---- the long run ---------------------------------------------------------------------- */

#define LONG_WS 4096 /* live ranges at most */

static uint64_t long_pairs = 20000000;

/* The thread's CPU time: on a machine shared with other work, time spent descheduled would
 * otherwise land in whichever tenth it happened to hit. */
static uint64_t cpu_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static void bm_engine_long(bench_state *st, void *arg)
{
	static dmar_iova_t live[LONG_WS];
	static uint64_t sz[LONG_WS];
	uint64_t seed = 0x2545f4914f6cdd1dull, ns[10] = { 0 }, total = 0;
	const uint64_t tenth = long_pairs / 10;
	const unsigned ws = (unsigned)bench_range(st, 0);
	dmar_iovad *a;
	char buf[48];
	int failed = 0;

	(void)arg;
	if (tenth == 0 || ws < 1 || ws > LONG_WS) {
		bench_skip_with_error(st, "DMAR_IOVA_LONG must be at least 10, live 1 .. 4096");
		return;
	}
	dmar_thread_register();
	if (dmar_iovad_create(0, SPACE_PAGES * K4, &a) != DMAR_OK) {
		dmar_thread_unregister();
		bench_skip_with_error(st, "dmar_iovad_create failed");
		return;
	}
	for (unsigned i = 0; i < ws; i++) {
		sz[i] = mixed_size(&seed);
		if (dmar_iova_alloc(a, sz[i], &live[i]) != DMAR_OK)
			abort();
	}
	while (bench_keep_running(st)) {
		for (int d = 0; d < 10 && !failed; d++) {
			const uint64_t t0 = cpu_ns();

			for (uint64_t i = 0; i < tenth; i++) {
				unsigned k = (unsigned)(seed >> 32) % ws;

				if (dmar_iova_free(a, live[k], sz[k]) != DMAR_OK) {
					failed = 1;
					break;
				}
				sz[k] = mixed_size(&seed);
				if (dmar_iova_alloc(a, sz[k], &live[k]) != DMAR_OK) {
					failed = 1;
					break;
				}
			}
			ns[d] += cpu_ns() - t0;
		}
		total += tenth * 10;
	}
	for (unsigned i = 0; i < ws; i++)
		(void)dmar_iova_free(a, live[i], sz[i]);
	dmar_iovad_destroy(a);
	dmar_thread_unregister();
	if (failed) {
		bench_skip_with_error(st, "allocator failed");
		return;
	}
	{
		const double runs = (double)bench_iterations_done(st);
		const double first = (double)ns[0] / ((double)tenth * runs);
		const double last = (double)ns[9] / ((double)tenth * runs);
		uint64_t all = 0;

		for (int d = 0; d < 10; d++) {
			snprintf(buf, sizeof(buf), "ns_tenth%d", d);
			bench_counter(st, buf, (double)ns[d] / ((double)tenth * runs), BENCH_CTR_DEFAULT);
			all += ns[d];
		}
		bench_counter(st, "ns_first10", first, BENCH_CTR_DEFAULT);
		bench_counter(st, "ns_last10", last, BENCH_CTR_DEFAULT);
		bench_counter(st, "slowdown_pct", 100.0 * (last - first) / first, BENCH_CTR_DEFAULT);
		bench_counter(st, "ns_per_pair", (double)all / (double)total, BENCH_CTR_DEFAULT);
		bench_counter(st, "pairs", (double)total / runs, BENCH_CTR_DEFAULT);
	}
	bench_set_items_processed(st, (int64_t)total);
}

int main(int argc, char **argv)
{
	const char *n = getenv("DMAR_IOVA_LONG");

	if (n && *n) {
		char *end;
		const double v = strtod(n, &end); /* 1e9 or 1000000000 */

		if (*end || !(v >= 10 && v <= 1e13)) {
			fprintf(stderr, "bench_iova: DMAR_IOVA_LONG must be a number of pairs, 10 .. 1e13\n");
			return 1;
		}
		long_pairs = (uint64_t)v;
	}
	for (int t = 1; t <= 2; t++) {
		bench_threads(bench_arg(bench_arg(bench_arg(bench_arg_name(bench_register(
			"iova/engine/pair", bm_engine_pair, NULL), "pages"), 1), 4), 32), t);
		bench_threads(bench_arg(bench_arg(bench_arg(bench_arg_name(bench_register(
			"iova/mutex_list/pair", bm_list_pair, NULL), "pages"), 1), 4), 32), t);
		bench_threads(bench_arg(bench_arg(bench_arg(bench_arg_name(bench_register(
			"iova/bare_list/pair", bm_bare_pair, NULL), "pages"), 1), 4), 32), t);
		bench_threads(bench_register("iova/engine/mixed", bm_engine_mixed, NULL), t);
		bench_threads(bench_register("iova/mutex_list/mixed", bm_list_mixed, NULL), t);
	}
	bench_time_unit(bench_iterations(bench_arg(bench_arg(bench_arg_name(bench_register(
		"iova/engine/long", bm_engine_long, NULL), "live"), 256), LONG_WS), 1), BENCH_MS);
	return bench_main(argc, argv);
}
