/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The logical address allocator (S13, S14): per-thread magazines over a mutex-protected
 * hierarchical bitmap.  See include/dmar/iova.h for the contract.
 *
 * Per page of the range one state byte says who holds it: 0 free or cached, ORDER_BASE + o
 * at the first page of a live cached-size allocation of order o, BIG_HEAD / BIG_TAIL at the
 * first / last page of a live larger one.  The owner of a range is the only writer of its
 * bytes, so the fast path writes them with plain (relaxed) stores; no atomic instruction on
 * the way from a thread's magazine to the caller and back. */
#include "rcu.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <dmar/iova.h>

#include "bitmap.h"

#define NORDERS 6 /* 1 .. 32 pages */
#define MAG_SIZE 128
#define DEPOT_MAX 32
#define ORDER_BASE 1
#define BIG_HEAD 0xF0
#define BIG_TAIL 0xF1
#define NSLOTS (DMAR_MAX_THREADS - 1) /* the last, shared slot takes the slow path */

struct mag {
	uint32_t n;
	uint64_t pfn[MAG_SIZE]; /* page index within the range */
};

struct order_cache {
	struct mag *loaded, *prev;
};

/* One thread's cache.  Written only by the thread that owns the slot, except while
 * `disabled` is nonzero and a grace period has passed since it became so (then by a
 * drainer, under the lock).  `disabled` counts the drainers at work on it. */
struct slot_cache {
	int disabled;
	struct order_cache c[NORDERS];
	/* the owner's counters (relaxed stores; summed by get_stats): allocations served from
	 * the cache and frees into it, by order (pages follow from the order) */
	uint64_t hits[NORDERS], frees[NORDERS];
} __attribute__((aligned(64)));

struct dmar_iovad {
	uint64_t base_pfn, npages;
	uint8_t *state; /* npages bytes, reserved lazily */
	size_t state_bytes;
	struct slot_cache *slots[NSLOTS]; /* created by their owner on first use */

	/* the bitmap, the depot, the slow counters; taken inside the fast path's read section
	 * (dmar__lock_in_section), so never held across a grace period */
	pthread_mutex_t lock;
	struct dmar_hbm used;
	struct mag *depot[NORDERS][DEPOT_MAX];
	unsigned ndepot[NORDERS];
	uint64_t allocs, frees, failures, bad_frees, flushes, pages_alloc, pages_freed;
};

static inline unsigned order_of(uint64_t npages)
{
	return npages <= 1 ? 0 : 64u - (unsigned)__builtin_clzll(npages - 1);
}

static inline uint8_t st_get(const dmar_iovad *a, uint64_t i)
{
	return __atomic_load_n(&a->state[i], __ATOMIC_RELAXED);
}

static inline void st_set(dmar_iovad *a, uint64_t i, uint8_t v)
{
	__atomic_store_n(&a->state[i], v, __ATOMIC_RELAXED);
}

static inline void ctr_add(uint64_t *c, uint64_t v) /* owner-only counter */
{
	__atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + v, __ATOMIC_RELAXED);
}

dmar_status dmar_iovad_create(dmar_iova_t base, dmar_iova_t limit, dmar_iovad **out)
{
	dmar_iovad *a;

	if (!out || base >= limit || (base | limit) & (DMAR_PAGE_SIZE - 1) ||
	    (limit - base) / DMAR_PAGE_SIZE > DMAR_IOVA_MAX_PAGES)
		return DMAR_E_INVALID;
	a = calloc(1, sizeof(*a));
	if (!a)
		return DMAR_E_NOMEM;
	a->base_pfn = base / DMAR_PAGE_SIZE;
	a->npages = (limit - base) / DMAR_PAGE_SIZE;
	a->state_bytes = (a->npages + 4095) & ~(size_t)4095;
	a->state = mmap(NULL, a->state_bytes, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (a->state == MAP_FAILED) {
		free(a);
		return DMAR_E_NOMEM;
	}
	if (dmar_hbm_init(&a->used, a->npages) != 0) {
		munmap(a->state, a->state_bytes);
		free(a);
		return DMAR_E_NOMEM;
	}
	pthread_mutex_init(&a->lock, NULL);
	*out = a;
	return DMAR_OK;
}

void dmar_iovad_destroy(dmar_iovad *a)
{
	if (!a)
		return;
	for (unsigned s = 0; s < NSLOTS; s++) {
		if (!a->slots[s])
			continue;
		for (unsigned o = 0; o < NORDERS; o++) {
			free(a->slots[s]->c[o].loaded);
			free(a->slots[s]->c[o].prev);
		}
		free(a->slots[s]);
	}
	for (unsigned o = 0; o < NORDERS; o++)
		for (unsigned i = 0; i < a->ndepot[o]; i++)
			free(a->depot[o][i]);
	dmar_hbm_fini(&a->used);
	munmap(a->state, a->state_bytes);
	pthread_mutex_destroy(&a->lock);
	free(a);
}

/* ---- slow path (a->lock held) -------------------------------------------------------- */

static int64_t range_take(dmar_iovad *a, uint64_t n, uint64_t align)
{
	int64_t s = dmar_hbm_find_run_down(&a->used, 0, a->npages, n, align, a->base_pfn);

	if (s >= 0)
		dmar_hbm_set_range(&a->used, (uint64_t)s, n);
	return s;
}

static void mag_release(dmar_iovad *a, struct mag *m, unsigned order)
{
	for (uint32_t i = 0; i < m->n; i++)
		dmar_hbm_clear_range(&a->used, m->pfn[i], 1ull << order);
	m->n = 0;
}

/* Drain every cache and the depot into the bitmap.  Called without the lock; takes it. */
static void drain_all(dmar_iovad *a)
{
	struct slot_cache *sc[NSLOTS];

	/* Drainers count themselves into every cache and wait holding no lock (design decision
	 * 3: no grace period under a lock a registered thread may wait on); several may drain
	 * at once, and a cache is used again once none counts in it. */
	for (unsigned s = 0; s < NSLOTS; s++) {
		sc[s] = __atomic_load_n(&a->slots[s], __ATOMIC_ACQUIRE);
		if (sc[s])
			__atomic_fetch_add(&sc[s]->disabled, 1, __ATOMIC_SEQ_CST);
	}
	/* After the grace period no thread is inside its cache, and any that starts sees
	 * `disabled` and takes the slow path. */
	dmar__rcu_synchronize();
	dmar__lock(&a->lock);
	for (unsigned s = 0; s < NSLOTS; s++) {
		if (!sc[s])
			continue;
		for (unsigned o = 0; o < NORDERS; o++) {
			if (sc[s]->c[o].loaded)
				mag_release(a, sc[s]->c[o].loaded, o);
			if (sc[s]->c[o].prev)
				mag_release(a, sc[s]->c[o].prev, o);
		}
	}
	for (unsigned o = 0; o < NORDERS; o++) {
		for (unsigned i = 0; i < a->ndepot[o]; i++) {
			mag_release(a, a->depot[o][i], o);
			free(a->depot[o][i]);
		}
		a->ndepot[o] = 0;
	}
	a->flushes++;
	dmar__unlock(&a->lock);
	for (unsigned s = 0; s < NSLOTS; s++)
		if (sc[s])
			__atomic_fetch_sub(&sc[s]->disabled, 1, __ATOMIC_RELEASE);
}

/* Drain what needs no grace period into the bitmap: the depot and the calling thread's own
 * caches (it is not inside them now).  For a caller that holds a library lock and so may
 * not wait for one (drain_all). */
static void drain_local(dmar_iovad *a)
{
	const int slot = dmar__thread_slot();
	struct slot_cache *sc = dmar__thread_ok() && (unsigned)slot < NSLOTS
					? __atomic_load_n(&a->slots[slot], __ATOMIC_ACQUIRE)
					: NULL;

	dmar__lock(&a->lock);
	for (unsigned o = 0; sc && o < NORDERS; o++) {
		if (sc->c[o].loaded)
			mag_release(a, sc->c[o].loaded, o);
		if (sc->c[o].prev)
			mag_release(a, sc->c[o].prev, o);
	}
	for (unsigned o = 0; o < NORDERS; o++) {
		for (unsigned i = 0; i < a->ndepot[o]; i++) {
			mag_release(a, a->depot[o][i], o);
			free(a->depot[o][i]);
		}
		a->ndepot[o] = 0;
	}
	dmar__unlock(&a->lock);
}

void dmar_iovad_flush(dmar_iovad *a)
{
	if (a)
		drain_all(a);
}

static dmar_status slow_alloc(dmar_iovad *a, uint64_t n, unsigned order, dmar_iova_t *out)
{
	uint64_t align = order < NORDERS ? 1ull << order : 1;
	int64_t s;

	for (int attempt = 0;; attempt++) {
		dmar__lock(&a->lock);
		s = range_take(a, n, align);
		if (s >= 0) {
			if (order < NORDERS) {
				st_set(a, (uint64_t)s, (uint8_t)(ORDER_BASE + order));
			} else {
				st_set(a, (uint64_t)s, BIG_HEAD);
				if (n > 1)
					st_set(a, (uint64_t)s + n - 1, BIG_TAIL);
			}
			a->allocs++;
			a->pages_alloc += n;
			dmar__unlock(&a->lock);
			*out = (a->base_pfn + (uint64_t)s) * DMAR_PAGE_SIZE;
			return DMAR_OK;
		}
		if (attempt == 1) {
			a->failures++;
			dmar__unlock(&a->lock);
			return DMAR_E_NOSPACE;
		}
		dmar__unlock(&a->lock);
		/* cached ranges may make room (Linux drains too); all of them only after a grace
		 * period, which a caller holding a library lock may not wait for: it gets what
		 * needs none, and the WDDM layer drains the rest once it released its lock */
		if (dmar__locks_held())
			drain_local(a);
		else
			drain_all(a);
	}
}

/* Whether the state bytes of pages [i, i + n) are all 0: no allocation starts or ends there
 * (a live larger allocation's inner pages are; under the lock). */
static int st_all_clear(const dmar_iovad *a, uint64_t i, uint64_t n)
{
	for (uint64_t k = i; k < i + n; k++)
		if (st_get(a, k))
			return 0;
	return 1;
}

static dmar_status slow_free(dmar_iovad *a, uint64_t i, uint64_t n, unsigned order)
{
	dmar_status st = DMAR_OK;

	dmar__lock(&a->lock);
	if (order < NORDERS) {
		if (st_get(a, i) != ORDER_BASE + order)
			st = DMAR_E_NOT_FOUND;
	} else if (st_get(a, i) != BIG_HEAD || (n > 1 && st_get(a, i + n - 1) != BIG_TAIL) ||
		   !dmar_hbm_all_set(&a->used, i, n) || (n > 2 && !st_all_clear(a, i + 1, n - 2))) {
		/* (the inner pages' check: a head and a tail of two allocations, the tail's own
		 * head inside the range, are not one allocation of n pages) */
		st = DMAR_E_NOT_FOUND;
	}
	if (st == DMAR_OK) {
		st_set(a, i, 0);
		if (order >= NORDERS && n > 1)
			st_set(a, i + n - 1, 0);
		dmar_hbm_clear_range(&a->used, i, n);
		a->frees++;
		a->pages_freed += n;
	} else {
		a->bad_frees++;
	}
	dmar__unlock(&a->lock);
	return st;
}

/* ---- fast path ------------------------------------------------------------------------ */

/* First use by a slot's owner: only the owner creates its cache, so no race.  Out of line,
 * so that the fast path below stays a few instructions with no frame to set up. */
static __attribute__((noinline)) struct slot_cache *cache_create(dmar_iovad *a, int slot)
{
	struct slot_cache *sc;

	if (posix_memalign((void **)&sc, 64, sizeof(*sc)) != 0)
		return NULL;
	memset(sc, 0, sizeof(*sc));
	for (unsigned o = 0; o < NORDERS; o++) {
		sc->c[o].loaded = calloc(1, sizeof(struct mag));
		sc->c[o].prev = calloc(1, sizeof(struct mag));
		if (!sc->c[o].loaded || !sc->c[o].prev) {
			for (unsigned k = 0; k <= o; k++) {
				free(sc->c[k].loaded);
				free(sc->c[k].prev);
			}
			free(sc);
			return NULL;
		}
	}
	__atomic_store_n(&a->slots[slot], sc, __ATOMIC_RELEASE);
	return sc;
}

static inline struct slot_cache *my_cache(dmar_iovad *a)
{
	struct slot_cache *sc;
	int slot;

	if (!dmar__thread_ok())
		return NULL;
	slot = dmar__thread_slot();
	if ((unsigned)slot >= NSLOTS)
		return NULL;
	sc = __atomic_load_n(&a->slots[slot], __ATOMIC_ACQUIRE);
	if (__builtin_expect(sc != NULL, 1))
		return sc;
	return cache_create(a, slot);
}

/* Refill an empty loaded magazine from the depot: the empty one goes, a full one comes. */
static int depot_get(dmar_iovad *a, struct order_cache *c, unsigned order)
{
	struct mag *full = NULL;

	dmar__lock_in_section(&a->lock); /* (inside the fast path's read section) */
	if (a->ndepot[order])
		full = a->depot[order][--a->ndepot[order]];
	dmar__unlock(&a->lock);
	if (!full)
		return 0;
	free(c->loaded);
	c->loaded = full;
	return 1;
}

/* Nothing cached and nothing in the depot: take REFILL ranges of the order at once, as one
 * aligned run, into the (empty) loaded magazine.  Each thread then works in runs of its own,
 * so two threads never write state bytes in one cache line.  When no such run is left, the
 * caller falls back to a single range from the slow path. */
#define REFILL 64
static __attribute__((noinline)) int refill(dmar_iovad *a, struct order_cache *c, unsigned order)
{
	uint64_t n = (uint64_t)REFILL << order;
	int64_t s;

	dmar__lock_in_section(&a->lock); /* (inside the fast path's read section) */
	s = range_take(a, n, n);
	dmar__unlock(&a->lock);
	if (s < 0)
		return 0;
	for (unsigned k = 0; k < REFILL; k++) /* the highest first out (top-down) */
		c->loaded->pfn[k] = (uint64_t)s + ((uint64_t)k << order);
	c->loaded->n = REFILL;
	return 1;
}

/* Make room in a full loaded magazine: push it to the depot (or, the depot full, give its
 * ranges back to the bitmap) and continue with an empty one. */
static int depot_put(dmar_iovad *a, struct order_cache *c, unsigned order)
{
	struct mag *empty = calloc(1, sizeof(*empty));

	if (!empty)
		return 0;
	dmar__lock_in_section(&a->lock); /* (inside the fast path's read section) */
	if (a->ndepot[order] < DEPOT_MAX) {
		a->depot[order][a->ndepot[order]++] = c->loaded;
		c->loaded = empty;
		empty = NULL;
	} else {
		mag_release(a, c->loaded, order);
	}
	dmar__unlock(&a->lock);
	free(empty);
	return 1;
}

dmar_status dmar_iova_alloc(dmar_iovad *a, uint64_t npages, dmar_iova_t *out)
{
	struct slot_cache *sc;
	unsigned order;

	if (!a || !out || npages == 0)
		return DMAR_E_INVALID;
	if (npages > a->npages)
		goto nospace;
	order = order_of(npages);
	if (order >= NORDERS)
		return slow_alloc(a, npages, NORDERS, out);
	sc = my_cache(a);
	if (sc) {
		struct order_cache *c = &sc->c[order];
		int hit = 0;
		uint64_t pfn = 0;

		dmar__rcu_read_lock();
		if (!__atomic_load_n(&sc->disabled, __ATOMIC_ACQUIRE)) {
			if (c->loaded->n == 0 && c->prev->n) {
				struct mag *t = c->loaded;

				c->loaded = c->prev;
				c->prev = t;
			}
			if (c->loaded->n || depot_get(a, c, order) || refill(a, c, order)) {
				pfn = c->loaded->pfn[--c->loaded->n];
				st_set(a, pfn, (uint8_t)(ORDER_BASE + order));
				hit = 1;
			}
		}
		dmar__rcu_read_unlock();
		/* qsbr: the thread holds nothing now (a no-op with memb; not inside an
		 * embedder's read section, which this would end) */
		if (dmar__tls_read_depth == 0)
			dmar__rcu_quiescent();
		if (hit) {
			ctr_add(&sc->hits[order], 1);
			*out = (a->base_pfn + pfn) * DMAR_PAGE_SIZE;
			return DMAR_OK;
		}
	}
	return slow_alloc(a, 1ull << order, order, out);
nospace:
	dmar__lock(&a->lock);
	a->failures++;
	dmar__unlock(&a->lock);
	return DMAR_E_NOSPACE;
}

dmar_status dmar_iova_free(dmar_iovad *a, dmar_iova_t iova, uint64_t npages)
{
	struct slot_cache *sc;
	unsigned order;
	uint64_t i;

	if (!a || npages == 0 || iova & (DMAR_PAGE_SIZE - 1) || iova / DMAR_PAGE_SIZE < a->base_pfn)
		return DMAR_E_INVALID;
	i = iova / DMAR_PAGE_SIZE - a->base_pfn;
	order = order_of(npages);
	if (order < NORDERS)
		npages = 1ull << order;
	if (i >= a->npages || npages > a->npages - i)
		return DMAR_E_INVALID;
	if (order >= NORDERS)
		return slow_free(a, i, npages, NORDERS);
	sc = my_cache(a);
	if (sc) {
		struct order_cache *c = &sc->c[order];
		int done = 0, bad = 0;

		dmar__rcu_read_lock();
		if (!__atomic_load_n(&sc->disabled, __ATOMIC_ACQUIRE)) {
			if (st_get(a, i) != ORDER_BASE + order) {
				bad = 1;
			} else {
				if (c->loaded->n == MAG_SIZE) {
					if (c->prev->n < MAG_SIZE) {
						struct mag *t = c->loaded;

						c->loaded = c->prev;
						c->prev = t;
					} else if (!depot_put(a, c, order)) {
						goto out; /* no memory for a magazine: slow path */
					}
				}
				st_set(a, i, 0);
				c->loaded->pfn[c->loaded->n++] = i;
				done = 1;
			}
		}
out:
		dmar__rcu_read_unlock();
		if (dmar__tls_read_depth == 0) /* (as in dmar_iova_alloc) */
			dmar__rcu_quiescent();
		if (done) {
			ctr_add(&sc->frees[order], 1);
			return DMAR_OK;
		}
		if (bad) {
			dmar__lock(&a->lock);
			a->bad_frees++;
			dmar__unlock(&a->lock);
			return DMAR_E_NOT_FOUND;
		}
	}
	return slow_free(a, i, npages, order);
}

void dmar_iovad_get_stats(dmar_iovad *a, dmar_iovad_stats *st)
{
	uint64_t pa, pf;

	if (!st)
		return;
	memset(st, 0, sizeof(*st));
	if (!a)
		return;
	dmar__lock(&a->lock);
	st->allocs = a->allocs;
	st->frees = a->frees;
	st->failures = a->failures;
	st->bad_frees = a->bad_frees;
	st->flushes = a->flushes;
	pa = a->pages_alloc;
	pf = a->pages_freed;
	dmar__unlock(&a->lock);
	for (unsigned s = 0; s < NSLOTS; s++) {
		struct slot_cache *sc = __atomic_load_n(&a->slots[s], __ATOMIC_ACQUIRE);

		if (!sc)
			continue;
		for (unsigned o = 0; o < NORDERS; o++) {
			uint64_t h = __atomic_load_n(&sc->hits[o], __ATOMIC_RELAXED);
			uint64_t f = __atomic_load_n(&sc->frees[o], __ATOMIC_RELAXED);

			st->allocs += h;
			st->cache_hits += h;
			st->frees += f;
			pa += h << o;
			pf += f << o;
		}
	}
	st->pages_in_use = pa - pf;
	st->pages_total = a->npages;
}
