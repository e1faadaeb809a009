/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Tables built here: map, unmap with splits, deferred freeing of unlinked table pages.
 *
 * Ordering (S31): a new table page is zeroed or filled completely before the release store
 * that links it, and the walker reads entries with acquire, so a reader sees either the old
 * entry or a finished table, never a half-built one.  A table page that leaves the tree is
 * handed to RCU and returns to the allocator only after every walk that could still hold it
 * has ended.  Only the writer (under pt->lock) stores entries. */
#include "rcu.h"

#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "physmem_internal.h"
#include "fmt.h"
#include "range.h"
#include "walk.h"

struct dmar_pgtable {
	dmar_physmem *pm;
	dmar_pt_format fmt;
	struct pt_fmt pf; /* fmt, resolved */
	uint64_t pgsizes;
	dmar_placement place;
	dmar_pa_t place_limit;
	dmar_pa_t root;
	dmar_pgtable_flush_fn flush;
	void *flush_ctx;
	/* what writers write, away from what walkers read */
	pthread_mutex_t lock __attribute__((aligned(64))); /* one writer at a time */
	uint64_t table_pages; /* atomic: pages linked in the tree */
	const struct pm_range *hint; /* atomic: the RAM range of the last table page looked up */
};

/* Table pages unlinked by one writer call, freed together after a grace period.  The record,
 * with room for every page the call can unlink, is made before it changes anything
 * (fl_reserve), so that recording them never needs memory (or a grace period) half-way. */
struct freelist {
	struct dmar__frames *fr; /* NULL: the call unlinks nothing */
};

/* Frames for new table pages, reserved before a writer changes anything, so that it cannot
 * run out half-way ("anything but DMAR_OK changed nothing"). */
#define RSV_SMALL 8
struct reserve {
	dmar_pa_t *v;
	size_t n, used;
	dmar_pa_t small[RSV_SMALL];
};

void dmar_pgtable_config_default(dmar_pgtable_config *cfg)
{
	if (!cfg)
		return;
	memset(cfg, 0, sizeof(*cfg));
	cfg->format.levels = 4;
	cfg->format.pa_bits = DMAR_PA_BITS_MAX;
	cfg->pgsizes = DMAR_PGSIZES_ALL;
	cfg->place = DMAR_PLACE_ANY;
}

static inline uint64_t *tbl(const struct dmar_pgtable *pt, dmar_pa_t pa)
{
	struct dmar_pgtable *w = (struct dmar_pgtable *)(uintptr_t)pt;
	const struct pm_range *h = __atomic_load_n(&w->hint, __ATOMIC_RELAXED), *r;

	/* Our own table pages come from pm's allocator: always RAM, nearly always in the
	 * range of the previous one (any range is a valid hint: ranges never move). */
	r = dmar__pm_find(pt->pm, pa, DMAR_PAGE_SIZE, h);
	if (r != h)
		__atomic_store_n(&w->hint, r, __ATOMIC_RELAXED);
	return (uint64_t *)(void *)(r->host + (pa - r->base));
}

static void table_zero(struct dmar_pgtable *pt, dmar_pa_t pa)
{
	memset(tbl(pt, pa), 0, DMAR_PAGE_SIZE);
	__atomic_fetch_add(&pt->table_pages, 1, __ATOMIC_RELAXED);
}

/* A frame for a table page where the configuration places them and below 2^pa_bits, where
 * the format can point to it (a frame above it would make the table unwalkable). */
static dmar_status frame_alloc(struct dmar_pgtable *pt, dmar_pa_t *out)
{
	const dmar_pa_t top = 1ull << pt->pf.pa_bits;
	dmar_placement place = pt->place;
	dmar_pa_t limit = pt->place_limit, pa;
	dmar_status st;

	if (pt->pf.pa_bits < DMAR_PA_BITS_MAX && place != DMAR_PLACE_ABOVE &&
	    (place == DMAR_PLACE_ANY || limit > top)) {
		place = DMAR_PLACE_BELOW;
		limit = top;
	}
	st = dmar_physmem_alloc(pt->pm, 1, DMAR_PAGE_4K_LG2, place, limit, &pa);
	if (st == DMAR_OK && pa >= top) {
		(void)dmar_physmem_free(pt->pm, pa, 1);
		return DMAR_E_NOMEM;
	}
	if (st == DMAR_OK)
		*out = pa;
	return st;
}

/* Reserve @n frames, all or none: ::DMAR_E_NOMEM (and nothing held) without them. */
static dmar_status rsv_get(struct dmar_pgtable *pt, struct reserve *r, uint64_t n)
{
	r->v = r->small;
	r->n = r->used = 0;
	if (n > RSV_SMALL) {
		r->v = n <= SIZE_MAX / sizeof(*r->v) ? malloc((size_t)n * sizeof(*r->v)) : NULL;
		if (!r->v) {
			r->v = r->small;
			return DMAR_E_NOMEM;
		}
	}
	for (; r->n < n; r->n++) {
		if (frame_alloc(pt, &r->v[r->n]) != DMAR_OK) {
			for (size_t i = 0; i < r->n; i++)
				(void)dmar_physmem_free(pt->pm, r->v[i], 1);
			if (r->v != r->small)
				free(r->v);
			r->v = r->small;
			r->n = 0;
			return DMAR_E_NOMEM;
		}
	}
	return DMAR_OK;
}

/* Give back what was reserved and not used (never linked: no reader saw it). */
static void rsv_put(struct dmar_pgtable *pt, struct reserve *r)
{
	for (size_t i = r->used; i < r->n; i++)
		(void)dmar_physmem_free(pt->pm, r->v[i], 1);
	if (r->v != r->small)
		free(r->v);
	r->v = r->small;
	r->n = r->used = 0;
}

/* A zeroed table page from the reservation (which holds one: the plan counted it). */
static dmar_pa_t alloc_table(struct dmar_pgtable *pt, struct reserve *r)
{
	const dmar_pa_t pa = r->v[r->used++];

	table_zero(pt, pa);
	return pa;
}

static void fl_init(struct freelist *fl)
{
	fl->fr = NULL;
}

/* Room for @n unlinked pages: ::DMAR_E_NOMEM (nothing held) without host memory. */
static dmar_status fl_reserve(struct dmar_pgtable *pt, struct freelist *fl, uint64_t n)
{
	fl->fr = NULL;
	if (n == 0)
		return DMAR_OK;
	fl->fr = n <= ULONG_MAX ? dmar__frames_new(pt->pm, (unsigned long)n) : NULL;
	return fl->fr ? DMAR_OK : DMAR_E_NOMEM;
}

/* Hand the recorded pages to RCU (a registered caller never waits). */
static void fl_flush(struct freelist *fl)
{
	dmar__frames_free_later(fl->fr);
	fl->fr = NULL;
}

/* Record an unlinked table page, in the room fl_reserve() made.  (The reservation bounds
 * every caller's pages; should it ever fall short, the page is kept allocated, never
 * reused, rather than freed while a reader may hold it.) */
static void fl_push(struct dmar_pgtable *pt, struct freelist *fl, dmar_pa_t pa)
{
	__atomic_fetch_sub(&pt->table_pages, 1, __ATOMIC_RELAXED);
	(void)dmar__frames_push(fl->fr, pa);
}

/* Table pages a change of [iova, iova + size) can unlink: those whose whole span lies in
 * the range (2 MiB, 1 GiB, 512 GiB, 256 TiB spans), and never more than the tree holds. */
static uint64_t unlink_bound(const struct dmar_pgtable *pt, uint64_t size)
{
	const uint64_t b = (size >> 21) + (size >> 30) + (size >> 39) + (size >> 48) + (size >> 57);
	const uint64_t have = __atomic_load_n(&pt->table_pages, __ATOMIC_RELAXED);

	return b < have ? b : have;
}

/* Calls fn for each entry of the table at @level that [va, last] touches. */
#define FOR_EACH_SLOT(level, va, last, cur, slot_first, slot_last, chunk_last)               \
	for (uint64_t cur = (va), slot_first, slot_last, chunk_last, span_ = 1ull << pt_shift(level); \
	     slot_first = cur & ~(span_ - 1), slot_last = slot_first + span_ - 1,                 \
		      chunk_last = slot_last < (last) ? slot_last : (last), 1;                    \
	     cur = chunk_last + 1)

/* Whether any page in [va, last] is mapped below the table @table at @level. */
static int range_mapped(const struct dmar_pgtable *pt, dmar_pa_t table, unsigned level,
			uint64_t va, uint64_t last)
{
	const uint64_t *t = tbl(pt, table);

	if (level == 1) { /* the leaf table: one pass over the entries */
		uint64_t any = 0;

		for (unsigned i = pt_index(va, 1), end = pt_index(last, 1); i <= end; i++)
			any |= t[i];
		return pt_present(&pt->pf, any);
	}
	FOR_EACH_SLOT(level, va, last, cur, first, slot_last, chunk_last)
	{
		uint64_t e = t[pt_index(cur, level)];

		if (pt_present(&pt->pf, e) &&
		    (pt_is_leaf(&pt->pf, e, level) ||
		     range_mapped(pt, pt_table_addr(e), level - 1, cur, chunk_last)))
			return 1;
		if (chunk_last == last)
			break;
	}
	return 0;
}

/* Unlink accounting for a whole subtree: its pages go to @fl, its mapped bytes are added. */
static void collect(struct dmar_pgtable *pt, dmar_pa_t table, unsigned level,
		    struct freelist *fl, uint64_t *mapped)
{
	const uint64_t *t = tbl(pt, table);

	for (unsigned i = 0; i < PT_ENTRIES; i++) {
		uint64_t e = t[i];

		if (!pt_present(&pt->pf, e))
			continue;
		if (pt_is_leaf(&pt->pf, e, level))
			*mapped += 1ull << pt_shift(level);
		else
			collect(pt, pt_table_addr(e), level - 1, fl, mapped);
	}
	fl_push(pt, fl, table);
}

/* Whether map puts a leaf in the slot at @level for [cur, chunk_last] of [slot_first,
 * slot_last] at @pa: the largest allowed size that the range covers and @pa is aligned to. */
static int leaf_fits(const struct dmar_pgtable *pt, unsigned level, uint64_t cur,
		     uint64_t slot_first, uint64_t chunk_last, uint64_t slot_last, dmar_pa_t pa)
{
	const uint64_t span = 1ull << pt_shift(level);

	return level > 1 && (pt->pgsizes & span) && cur == slot_first &&
	       chunk_last == slot_last && !(pa & (span - 1));
}

/* What map_level() will do to [va, last] below the table @t at @level (NULL: a table that
 * does not exist yet), without doing it: ::DMAR_E_EXISTS if any page is mapped, else
 * ::DMAR_OK with the table pages it will allocate added to *need. */
static dmar_status map_plan(const struct dmar_pgtable *pt, const uint64_t *t, unsigned level,
			    uint64_t va, uint64_t last, dmar_pa_t pa, uint64_t *need)
{
	if (level == 1) {
		uint64_t any = 0;

		for (unsigned i = pt_index(va, 1), end = pt_index(last, 1); t && i <= end; i++)
			any |= t[i];
		return pt_present(&pt->pf, any) ? DMAR_E_EXISTS : DMAR_OK;
	}
	FOR_EACH_SLOT(level, va, last, cur, first, slot_last, chunk_last)
	{
		const uint64_t old = t ? t[pt_index(cur, level)] : 0;
		const uint64_t *child = pt_present(&pt->pf, old) && !pt_is_leaf(&pt->pf, old, level)
						? tbl(pt, pt_table_addr(old))
						: NULL;
		dmar_status st = DMAR_OK;

		if (pt_present(&pt->pf, old) && pt_is_leaf(&pt->pf, old, level))
			return DMAR_E_EXISTS;
		if (leaf_fits(pt, level, cur, first, chunk_last, slot_last, pa)) {
			/* an empty table there is replaced by the leaf */
			if (child && range_mapped(pt, pt_table_addr(old), level - 1, cur,
						  chunk_last))
				return DMAR_E_EXISTS;
		} else {
			*need += !child;
			st = map_plan(pt, child, level - 1, cur, chunk_last, pa, need);
		}
		if (st != DMAR_OK)
			return st;
		pa += chunk_last - cur + 1;
		if (chunk_last == last)
			break;
	}
	return DMAR_OK;
}

/* Map [va, last] below @table at @level, as map_plan() found possible: its table pages come
 * from @r, which holds what the plan counted, so this cannot fail. */
static void map_level(struct dmar_pgtable *pt, dmar_pa_t table, unsigned level, uint64_t va,
		      uint64_t last, dmar_pa_t pa, unsigned prot, struct freelist *fl,
		      struct reserve *r)
{
	uint64_t *t = tbl(pt, table);

	if (level == 1) { /* 4 KiB leaves: one entry template, consecutive frames */
		const unsigned i0 = pt_index(va, 1), end = pt_index(last, 1);
		const uint64_t e0 = pt_enc_leaf(&pt->pf, 1, DMAR_PAGE_4K_LG2, pa, prot);

		for (unsigned i = i0; i <= end; i++)
			pte_store(&t[i], e0 + (uint64_t)(i - i0) * DMAR_PAGE_SIZE);
		return;
	}
	FOR_EACH_SLOT(level, va, last, cur, first, slot_last, chunk_last)
	{
		uint64_t *slot = &t[pt_index(cur, level)];
		const uint64_t old = *slot;

		if (leaf_fits(pt, level, cur, first, chunk_last, slot_last, pa)) {
			uint64_t none = 0;

			pte_store(slot, pt_enc_leaf(&pt->pf, level, pt_shift(level), pa, prot));
			if (pt_present(&pt->pf, old)) /* the empty table it replaced: freed after a grace period */
				collect(pt, pt_table_addr(old), level - 1, fl, &none);
		} else {
			dmar_pa_t child;

			if (!pt_present(&pt->pf, old)) {
				child = alloc_table(pt, r);
				pte_store(slot, pt_enc_table(&pt->pf, level, child));
			} else {
				child = pt_table_addr(old);
			}
			map_level(pt, child, level - 1, cur, chunk_last, pa, prot, fl, r);
		}
		pa += chunk_last - cur + 1;
		if (chunk_last == last)
			break;
	}
}

/* map for [va, last] inside one 2 MiB block and smaller than it (4 KiB leaves only, the usual
 * map): one descent finds the conflicts and the tables missing on the way, then the tables
 * are reserved and made and the leaves stored, without a second descent. */
static dmar_status map_small(struct dmar_pgtable *pt, uint64_t va, uint64_t last, dmar_pa_t pa,
			     unsigned prot)
{
	const unsigned i0 = pt_index(va, 1), end = pt_index(last, 1);
	dmar_pa_t table = pt->root;
	uint64_t *slot = NULL, *t;
	unsigned level = pt->pf.levels;
	struct reserve r;
	dmar_status st;

	for (; level > 1; level--) {
		uint64_t e;

		slot = &tbl(pt, table)[pt_index(va, level)];
		e = *slot;
		if (!pt_present(&pt->pf, e))
			break; /* tables for levels level - 1 .. 1 are missing */
		if (pt_is_leaf(&pt->pf, e, level))
			return DMAR_E_EXISTS;
		table = pt_table_addr(e);
	}
	if (level == 1) {
		uint64_t any = 0;

		t = tbl(pt, table);
		for (unsigned i = i0; i <= end; i++)
			any |= t[i];
		if (pt_present(&pt->pf, any))
			return DMAR_E_EXISTS;
	} else {
		st = rsv_get(pt, &r, level - 1);
		if (st != DMAR_OK)
			return st;
		for (; level > 1; level--) { /* each linked once it is zeroed (alloc_table) */
			table = alloc_table(pt, &r);
			pte_store(slot, pt_enc_table(&pt->pf, level, table));
			slot = &tbl(pt, table)[pt_index(va, level - 1)];
		}
		rsv_put(pt, &r);
		t = tbl(pt, table);
	}
	{
		const uint64_t e0 = pt_enc_leaf(&pt->pf, 1, DMAR_PAGE_4K_LG2, pa, prot);

		for (unsigned i = i0; i <= end; i++)
			pte_store(&t[i], e0 + (uint64_t)(i - i0) * DMAR_PAGE_SIZE);
	}
	return DMAR_OK;
}

/* Replace the large leaf @old in @slot (at @level) by a table of the next size down that
 * translates every address the same way, so readers cannot tell when it happens.  Returns
 * the new table (its page from @r). */
static dmar_pa_t split_leaf(struct dmar_pgtable *pt, uint64_t *slot, uint64_t old,
			    unsigned level, struct reserve *r)
{
	const unsigned child_level = level - 1, clg2 = pt_shift(child_level);
	const dmar_pa_t child = alloc_table(pt, r);
	uint64_t *t = tbl(pt, child);

	/* Built from the leaf's value and swapped in only if it still holds that value: a walk
	 * that set its accessed or dirty bit (DMAR_PT_AD) meanwhile is not lost. */
	for (;;) {
		const uint64_t ad = old & (pt->pf.a_bit | pt->pf.d_bit);
		uint64_t n = 0;

		(void)pt_decode(&pt->pf, old, level, 0, &n); /* our own leaf: well formed */
		for (unsigned i = 0; i < PT_ENTRIES; i++)
			t[i] = pt_enc_leaf(&pt->pf, child_level, clg2,
					   (n & PTN_ADDR) + ((uint64_t)i << clg2),
					   (unsigned)(n & PTN_PROT)) |
			       ad;
		if (__atomic_compare_exchange_n(slot, &old, pt_enc_table(&pt->pf, level, child), 0,
						__ATOMIC_RELEASE, __ATOMIC_RELAXED))
			return child;
	}
}

/* Where the splits for @va start: the slot of the leaf that maps @va and that leaf's level
 * (0 when nothing maps it).  Found once for each end of an unmap, before any split. */
struct split_site {
	uint64_t *slot;
	unsigned level;
};

static void split_find(const struct dmar_pgtable *pt, uint64_t va, struct split_site *s)
{
	dmar_pa_t table = pt->root;

	s->level = 0;
	for (unsigned level = pt->pf.levels; level >= 1; level--) {
		uint64_t *slot = &tbl(pt, table)[pt_index(va, level)];
		const uint64_t e = *slot;

		if (!pt_present(&pt->pf, e))
			return;
		if (pt_is_leaf(&pt->pf, e, level)) {
			s->slot = slot;
			s->level = level;
			return;
		}
		table = pt_table_addr(e);
	}
}

/* Whether the splits for @va split the leaf at @level: @va is not its first byte, nor the
 * first byte of any larger leaf above it on the way down from @top (the level of the leaf
 * that maps it before any split). */
static int splits_at(uint64_t va, unsigned top, unsigned level)
{
	return level >= 2 && level <= top && (va & ((1ull << pt_shift(level)) - 1));
}

/* Table pages the splits for @va (whose leaf is at @top) allocate, after those for @prev
 * (whose leaf is at @ptop) when @has_prev. */
static uint64_t split_plan(uint64_t va, unsigned top, int has_prev, uint64_t prev, unsigned ptop)
{
	uint64_t need = 0;

	for (unsigned level = top; splits_at(va, top, level); level--)
		/* the leaf at this level was split already if prev's descent split the same one */
		need += !(has_prev && ptop == top && splits_at(prev, ptop, level) &&
			  (prev >> pt_shift(level)) == (va >> pt_shift(level)));
	return need;
}

/* Make @va the first byte of a leaf (or of an unmapped slot) by splitting the large leaves
 * around it, from its site @s down, with the pages split_plan() counted from @r.  (The
 * other end's splits may have split the site's leaf already: then its slot holds a table
 * and the descent goes on below it.)  Changes representation only, never a translation,
 * but a cached translation of any page of a split leaf still names the old leaf size:
 * *split_lg2 receives the size of the largest leaf split (0 if none), whose whole span the
 * caller flushes (S28, S30). */
static void split_at(struct dmar_pgtable *pt, const struct split_site *s, uint64_t va,
		     unsigned *split_lg2, struct reserve *r)
{
	uint64_t *slot = s->slot;

	for (unsigned level = s->level; level >= 2; level--) {
		const uint64_t e = *slot;
		dmar_pa_t table;

		if (pt_is_leaf(&pt->pf, e, level)) {
			if (!(va & ((1ull << pt_shift(level)) - 1)))
				return;
			if (!*split_lg2) /* the first split, from the top, is the largest */
				*split_lg2 = pt_shift(level);
			table = split_leaf(pt, slot, e, level, r);
		} else {
			table = pt_table_addr(e);
		}
		slot = &tbl(pt, table)[pt_index(va, level - 1)];
	}
}

static void unmap_level(struct dmar_pgtable *pt, dmar_pa_t table, unsigned level, uint64_t va,
			uint64_t last, uint64_t *unmapped, struct freelist *fl)
{
	uint64_t *t = tbl(pt, table);

	if (level == 1) { /* 4 KiB leaves */
		uint64_t n = 0;

		for (unsigned i = pt_index(va, 1), end = pt_index(last, 1); i <= end; i++)
			if (pt_present(&pt->pf, t[i])) {
				pte_store(&t[i], 0);
				n++;
			}
		*unmapped += n << DMAR_PAGE_4K_LG2;
		return;
	}
	FOR_EACH_SLOT(level, va, last, cur, first, slot_last, chunk_last)
	{
		uint64_t *slot = &t[pt_index(cur, level)];
		uint64_t e = *slot;
		int covered = cur == first && chunk_last == slot_last;

		if (pt_present(&pt->pf, e)) {
			if (pt_is_leaf(&pt->pf, e, level)) {
				/* split_at() made every leaf in range covered */
				pte_store(slot, 0);
				*unmapped += 1ull << pt_shift(level);
			} else if (covered) {
				pte_store(slot, 0);
				collect(pt, pt_table_addr(e), level - 1, fl, unmapped);
			} else {
				unmap_level(pt, pt_table_addr(e), level - 1, cur, chunk_last,
					    unmapped, fl);
			}
		}
		if (chunk_last == last)
			break;
	}
}

/* [iova, iova + size) is a non-empty, page-aligned range that does not wrap and lies inside
 * one window of the table's input range (pt_input_range). */
static dmar_status check_iova_range(const struct dmar_pgtable *pt, dmar_iova_t iova,
				    uint64_t size)
{
	uint64_t last, low_last, high_first;

	if (size == 0 || (iova | size) % DMAR_PAGE_SIZE)
		return DMAR_E_INVALID;
	if (!dmar__range_last(iova, size, &last))
		return DMAR_E_RANGE;
	pt_input_range(&pt->pf, &low_last, &high_first);
	if (last <= low_last || (high_first && iova >= high_first))
		return DMAR_OK;
	return DMAR_E_RANGE;
}

/* Free a whole tree at once, children first (destroy, when there is no host memory to list
 * its pages: nothing walks it any more). */
static void free_tree(struct dmar_pgtable *pt, dmar_pa_t table, unsigned level)
{
	const uint64_t *t = tbl(pt, table);

	for (unsigned i = 0; level > 1 && i < PT_ENTRIES; i++)
		if (pt_present(&pt->pf, t[i]) && !pt_is_leaf(&pt->pf, t[i], level))
			free_tree(pt, pt_table_addr(t[i]), level - 1);
	(void)dmar_physmem_free(pt->pm, table, 1);
}

dmar_status dmar_pgtable_create(dmar_physmem *pm, const dmar_pgtable_config *cfg,
				dmar_pgtable **out)
{
	struct dmar_pgtable *pt;
	dmar_status st;

	struct pt_fmt pf;

	if (!pm || !cfg || !out || !pt_fmt_init(&pf, &cfg->format) ||
	    !(cfg->pgsizes & (1ull << DMAR_PAGE_4K_LG2)) || (cfg->pgsizes & ~pt_page_sizes(&pf)) ||
	    cfg->place > DMAR_PLACE_ABOVE)
		return DMAR_E_INVALID;
	if (posix_memalign((void **)&pt, 64, sizeof(*pt)) != 0)
		return DMAR_E_NOMEM;
	memset(pt, 0, sizeof(*pt));
	pt->pm = pm;
	pt->fmt = cfg->format;
	if (!pt->fmt.pa_bits)
		pt->fmt.pa_bits = DMAR_PA_BITS_MAX;
	pt->pf = pf;
	pt->pgsizes = cfg->pgsizes;
	pt->place = cfg->place;
	pt->place_limit = cfg->place_limit;
	st = frame_alloc(pt, &pt->root);
	if (st != DMAR_OK) {
		free(pt);
		return st;
	}
	table_zero(pt, pt->root);
	pthread_mutex_init(&pt->lock, NULL);
	*out = pt;
	return DMAR_OK;
}

void dmar_pgtable_destroy(dmar_pgtable *pt)
{
	struct freelist fl;
	uint64_t none = 0;

	if (!pt)
		return;
	/* Earlier unmaps may have frees pending in RCU callbacks that use pt->pm. */
	dmar__rcu_barrier();
	if (fl_reserve(pt, &fl, dmar_pgtable_table_pages(pt)) == DMAR_OK && fl.fr) {
		collect(pt, pt->root, pt->pf.levels, &fl, &none);
		dmar__frames_free_now(fl.fr); /* (nothing walks it any more) */
	} else {
		free_tree(pt, pt->root, pt->pf.levels);
	}
	pthread_mutex_destroy(&pt->lock);
	free(pt);
}

void dmar_pgtable_set_flush(dmar_pgtable *pt, dmar_pgtable_flush_fn fn, void *ctx)
{
	if (!pt)
		return;
	dmar__lock(&pt->lock);
	pt->flush = fn;
	pt->flush_ctx = ctx;
	dmar__unlock(&pt->lock);
}

static void flush_range(struct dmar_pgtable *pt, dmar_iova_t iova, uint64_t size)
{
	if (pt->flush)
		pt->flush(pt->flush_ctx, iova, size);
}

dmar_pa_t dmar_pgtable_root(const dmar_pgtable *pt)
{
	return pt ? pt->root : 0;
}

const dmar_pt_format *dmar_pgtable_format(const dmar_pgtable *pt)
{
	return pt ? &pt->fmt : NULL;
}

uint64_t dmar_pgtable_table_pages(const dmar_pgtable *pt)
{
	return pt ? __atomic_load_n(&pt->table_pages, __ATOMIC_RELAXED) : 0;
}

dmar_status dmar_pgtable_map(dmar_pgtable *pt, dmar_iova_t iova, dmar_pa_t pa, uint64_t size,
			     unsigned prot)
{
	struct freelist fl;
	struct reserve r;
	uint64_t need = 0;
	dmar_status st;

	if (!pt || !pt_prot_ok(&pt->pf, prot) || pa % DMAR_PAGE_SIZE)
		return DMAR_E_INVALID;
	st = check_iova_range(pt, iova, size);
	if (st != DMAR_OK)
		return st;
	if (!dmar__range_within(pa, size, 0, (1ull << pt->pf.pa_bits) - 1))
		return DMAR_E_RANGE;
	if (!dmar__thread_ok())
		return DMAR_E_THREAD;

	fl_init(&fl);
	dmar__lock(&pt->lock);
	if ((iova >> DMAR_PAGE_2M_LG2) == ((iova + (size - 1)) >> DMAR_PAGE_2M_LG2) &&
	    size < (1ull << DMAR_PAGE_2M_LG2)) {
		st = map_small(pt, iova, iova + (size - 1), pa, prot);
		dmar__unlock(&pt->lock);
		return st;
	}
	/* Plan first (conflicts, table pages), reserve what the change needs, then change: a
	 * map that fails stores nothing, so no reader ever sees part of it. */
	st = map_plan(pt, tbl(pt, pt->root), pt->pf.levels, iova, iova + (size - 1), pa, &need);
	if (st == DMAR_OK)
		st = fl_reserve(pt, &fl, unlink_bound(pt, size));
	if (st == DMAR_OK) {
		st = rsv_get(pt, &r, need);
		if (st == DMAR_OK) {
			map_level(pt, pt->root, pt->pf.levels, iova, iova + (size - 1), pa, prot,
				  &fl, &r);
			rsv_put(pt, &r);
			if (dmar__frames_count(fl.fr))
				flush_range(pt, iova, size); /* cached pointers to the replaced tables */
		}
	}
	dmar__unlock(&pt->lock);
	fl_flush(&fl);
	return st;
}

dmar_status dmar_pgtable_unmap(dmar_pgtable *pt, dmar_iova_t iova, uint64_t size,
			       uint64_t *unmapped)
{
	struct freelist fl;
	struct reserve r;
	struct split_site first, end;
	uint64_t done = 0, last, need;
	unsigned lg2_first = 0, lg2_end = 0;
	int split;
	dmar_status st;

	if (unmapped)
		*unmapped = 0;
	if (!pt)
		return DMAR_E_INVALID;
	st = check_iova_range(pt, iova, size);
	if (st != DMAR_OK)
		return st;
	if (!dmar__thread_ok())
		return DMAR_E_THREAD;
	last = iova + (size - 1); /* (checked: no wrap) */

	fl_init(&fl);
	dmar__lock(&pt->lock);
	/* The leaves that straddle either end are split first; the frames and the room to
	 * record unlinked pages are reserved before anything changes, so an unmap that fails
	 * leaves every leaf as it was. */
	split_find(pt, iova, &first);
	end.level = 0;
	if (last != UINT64_MAX)
		split_find(pt, last + 1, &end);
	need = split_plan(iova, first.level, 0, 0, 0) +
	       split_plan(last + 1, end.level, 1, iova, first.level);
	st = fl_reserve(pt, &fl, unlink_bound(pt, size));
	if (st == DMAR_OK) {
		st = rsv_get(pt, &r, need);
		if (st != DMAR_OK)
			fl_flush(&fl); /* (empty: gives the room back) */
	}
	if (st != DMAR_OK) {
		dmar__unlock(&pt->lock);
		return st;
	}
	split_at(pt, &first, iova, &lg2_first, &r);
	split_at(pt, &end, last + 1, &lg2_end, &r);
	split = r.used != 0;
	rsv_put(pt, &r);
	unmap_level(pt, pt->root, pt->pf.levels, iova, last, &done, &fl);
	if (done || split || dmar__frames_count(fl.fr))
		flush_range(pt, iova, size);
	/* the pages of a split leaf that stay mapped were cached with the leaf's old size */
	if (lg2_first)
		flush_range(pt, iova & ~((1ull << lg2_first) - 1), 1ull << lg2_first);
	if (lg2_end)
		flush_range(pt, (last + 1) & ~((1ull << lg2_end) - 1), 1ull << lg2_end);
	dmar__unlock(&pt->lock);
	fl_flush(&fl);
	if (unmapped)
		*unmapped = done;
	return DMAR_OK;
}

dmar_status dmar_pgtable_walk(const dmar_pgtable *pt, dmar_iova_t iova, unsigned access,
			      dmar_walk_result *result)
{
	dmar_fault f;

	if (!pt || !result || (access & ~DMAR_ACCESS_ALL))
		return DMAR_E_INVALID;
	if (!dmar__thread_ok())
		return DMAR_E_THREAD;
	dmar__rcu_read_lock();
	f = dmar__walk(pt->pm, pt->root, &pt->pf, iova, access, result);
	dmar__rcu_read_unlock();
	return f == DMAR_FAULT_NONE ? DMAR_OK : DMAR_E_FAULT;
}

dmar_status dmar_pgtable_iova_to_phys(const dmar_pgtable *pt, dmar_iova_t iova, dmar_pa_t *pa)
{
	dmar_walk_result r;
	dmar_status st;

	if (!pa)
		return DMAR_E_INVALID;
	st = dmar_pgtable_walk(pt, iova, DMAR_ACCESS_READ, &r);
	*pa = st == DMAR_OK ? r.pa : 0;
	return st;
}
