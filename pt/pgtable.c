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
	dmar_placement place;
	dmar_pa_t place_limit;
	dmar_pa_t root;
	dmar_pgtable_flush_fn flush;
	void *flush_ctx;
	/* the smallest page size between 4 KiB and 2 MiB (2 MiB when there is none): a smaller
	 * map, or one whose iova and pa differ below it, has 4 KiB leaves only */
	uint64_t small_limit;
	/* the leaf sizes map() may put at each level: pgsizes in [span(level), span(level + 1)) */
	uint64_t leaf_sizes[PT_MAX_LEVELS + 1];
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
	cfg->pgsizes = 0; /* every size of the format */
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
	return dmar__physmem_alloc_capped(pt->pm, 1, DMAR_PAGE_4K_LG2, pt->place, pt->place_limit,
					  (1ull << pt->pf.pa_bits) - 1, out);
}

/* Frames the allocator has free now (an upper bound of what a reservation can get). */
static uint64_t free_frames(const struct dmar_pgtable *pt)
{
	dmar_physmem_stats st;

	dmar_physmem_get_stats(pt->pm, &st);
	return st.allocatable_bytes / DMAR_PAGE_SIZE - st.allocated_frames;
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

/* Table pages a change of [iova, iova + size) can unlink: those whose whole span lies in the
 * range (a table at level l spans one entry of level l + 1: 2 MiB up to 2^57 for the tables
 * below a six-level root), and never more than the tree holds. */
static uint64_t unlink_bound(const struct dmar_pgtable *pt, uint64_t size)
{
	const uint64_t have = __atomic_load_n(&pt->table_pages, __ATOMIC_RELAXED);
	uint64_t b = 0;

	for (unsigned level = 2; level <= pt->pf.levels; level++)
		b += size >> pt_shift(level);
	return b < have ? b : have;
}

/* The writer's read of an entry.  Relaxed: only the writer (under pt->lock) changes what an
 * entry holds, but with DMAR_PT_AD walkers set accessed and dirty bits in it concurrently,
 * with compare-and-exchange; a change built from the value read is then made with a
 * compare-and-exchange too (split_leaf, split_run), so that no such bit is lost. */
static inline uint64_t pte_read(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

/* Entries of a table built here, through the format layer (fmt.h). */
static inline int ent_present(const struct dmar_pgtable *pt, uint64_t e)
{
	return pt_present(&pt->pf, e);
}

static inline int ent_leaf(const struct dmar_pgtable *pt, uint64_t e, unsigned level)
{
	return pt_present(&pt->pf, e) && pt_is_leaf(&pt->pf, e, level);
}

static inline int ent_table(const struct dmar_pgtable *pt, uint64_t e, unsigned level)
{
	return pt_present(&pt->pf, e) && !pt_is_leaf(&pt->pf, e, level);
}

/* The leaf @e at @level: its page's first byte, its ::dmar_prot and its size (log2, larger
 * than the level's span for an AMD-Vi leaf repeated over several slots). */
static inline unsigned leaf_info(const struct dmar_pgtable *pt, uint64_t e, unsigned level,
				 dmar_pa_t *base, unsigned *prot)
{
	uint64_t n = 0;

	(void)pt_decode(&pt->pf, e, level, 0, &n); /* our own leaf: well formed */
	if (base)
		*base = n & PTN_ADDR;
	if (prot)
		*prot = (unsigned)(n & PTN_PROT);
	return ptn_sz(n);
}

/* The size (log2) of the leaf @e at @level: the level's span, unless the table may hold
 * larger leaves there (AMD-Vi, pgsizes). */
static inline unsigned leaf_lg2(const struct dmar_pgtable *pt, uint64_t e, unsigned level)
{
	if (!(pt->leaf_sizes[level] & ~(1ull << pt_shift(level))))
		return pt_shift(level);
	return leaf_info(pt, e, level, NULL, NULL);
}

/* The last input address the root table's entries index (its whole span). */
static inline uint64_t root_last(const struct dmar_pgtable *pt)
{
	const unsigned lg2 = pt_shift(pt->pf.levels) + PT_LEVEL_LG2;

	return lg2 >= 64 ? ~0ull : (1ull << lg2) - 1;
}

/* The entries of one table that a range touches, in order, as Linux's generic_pt iterates
 * (pt_iter.h):
 *
 *	for (pt_iter_first(&it, pt, table, level, va, last); !pt_iter_done(&it);
 *	     pt_iter_next(&it))
 *
 * For each entry: its index, the part of the range it holds ([va, end]), its whole span
 * ([slot_va, slot_last]) and its value (pte_read).  [va, last] lies inside the table's span;
 * the pass ends at the entry holding @last, so a range ending at 2^64 - 1 never wraps. */
struct pt_iter {
	uint64_t *table;     /* host view of the table; NULL: no table yet, every entry 0 */
	dmar_pa_t table_pa;  /* PT_NO_TABLE with table NULL */
	unsigned level;
	unsigned index;      /* of the current entry */
	uint64_t va, end;    /* the range's part in the current entry */
	uint64_t slot_va, slot_last; /* the current entry's span */
	uint64_t last;       /* the range's last address */
	uint64_t entry;      /* the current entry */
	int done;
};

#define PT_NO_TABLE (~(dmar_pa_t)0) /* never a table's address (not page aligned) */

static inline void pt_iter_read(struct pt_iter *it)
{
	it->end = it->slot_last < it->last ? it->slot_last : it->last;
	it->entry = it->table ? pte_read(&it->table[it->index]) : 0;
}

static inline void pt_iter_first(struct pt_iter *it, const struct dmar_pgtable *pt,
				 dmar_pa_t table, unsigned level, uint64_t va, uint64_t last)
{
	const uint64_t mask = (1ull << pt_shift(level)) - 1;

	it->table = table == PT_NO_TABLE ? NULL : tbl(pt, table);
	it->table_pa = table;
	it->level = level;
	it->index = pt_index(va, level);
	it->va = va;
	it->slot_va = va & ~mask;
	it->slot_last = va | mask;
	it->last = last;
	it->done = 0;
	pt_iter_read(it);
}

static inline int pt_iter_done(const struct pt_iter *it)
{
	return it->done;
}

static inline void pt_iter_next(struct pt_iter *it)
{
	if (it->end == it->last) {
		it->done = 1;
		return;
	}
	it->index++;
	it->va = it->slot_va = it->slot_last + 1;
	it->slot_last += 1ull << pt_shift(it->level);
	pt_iter_read(it);
}

/* Whether the range holds the current entry's whole span. */
static inline int pt_iter_covers(const struct pt_iter *it)
{
	return it->va == it->slot_va && it->end == it->slot_last;
}

static inline uint64_t *pt_iter_slot(const struct pt_iter *it)
{
	return &it->table[it->index];
}

/* The rest of a pass over a leaf table (level 1: every entry a leaf), in one go: the entries
 * from the current one to the one holding the range's last address.  These loops are the
 * bulk of large maps and unmaps. */
static inline unsigned pt_iter_last_index(const struct pt_iter *it)
{
	return pt_index(it->last, it->level);
}

/* Whether any of them is present (none when there is no table yet): the OR of entries is
 * present when one of them is.  Without DMAR_PT_AD only this writer stores entries (under the
 * table's lock), so plain loads, which the compiler may vectorize; with it walkers set bits
 * concurrently, so relaxed atomic loads, in two chains. */
static inline int leaves_any_present(const struct dmar_pgtable *pt, const struct pt_iter *it)
{
	const struct pt_fmt f = pt->pf; /* (a copy no store can change: kept in registers) */
	const unsigned end = pt_iter_last_index(it);
	const uint64_t *t = it->table;
	uint64_t a = 0, b = 0;
	unsigned i = it->index;

	if (!t)
		return 0;
	if (!f.a_bit) {
		for (; i + 3 <= end; i += 4) /* (four a round: the bulk of a large map's check) */
			a |= t[i] | t[i + 1] | t[i + 2] | t[i + 3];
		for (; i <= end; i++)
			a |= t[i];
		return pt_present(&f, a);
	}
	for (; i + 1 <= end; i += 2) {
		a |= pte_read(&t[i]);
		b |= pte_read(&t[i + 1]);
	}
	if (i == end)
		a |= pte_read(&t[i]);
	return pt_present(&f, a | b);
}

/* How many of them are present. */
static inline uint64_t leaves_count(const struct dmar_pgtable *pt, const struct pt_iter *it)
{
	const struct pt_fmt f = pt->pf;
	const unsigned end = pt_iter_last_index(it);
	uint64_t n = 0;

	for (unsigned i = it->index; i <= end; i++)
		n += (uint64_t)pt_present(&f, pte_read(&it->table[i]));
	return n;
}

/* Clear the present ones; how many they were. */
static inline uint64_t leaves_clear(const struct dmar_pgtable *pt, const struct pt_iter *it)
{
	const struct pt_fmt f = pt->pf;
	const unsigned end = pt_iter_last_index(it);
	uint64_t n = 0;

	for (unsigned i = it->index; i <= end; i++)
		if (pt_present(&f, pte_read(&it->table[i]))) {
			pte_store(&it->table[i], 0);
			n++;
		}
	return n;
}

/* Store 4 KiB leaves for [pa, ...) with @prot in them. */
static inline void leaves_fill_4k(const struct dmar_pgtable *pt, const struct pt_iter *it,
				  dmar_pa_t pa, unsigned prot)
{
	const uint64_t e0 = pt_enc_leaf(&pt->pf, 1, DMAR_PAGE_4K_LG2, 0, prot) | pa;
	const unsigned end = pt_iter_last_index(it);

	for (unsigned i = it->index; i <= end; i++)
		pte_store(&it->table[i], e0 + (uint64_t)(i - it->index) * DMAR_PAGE_SIZE);
}

/* Whether map() writes only 4 KiB leaves in a leaf table (no larger size at level 1). */
static inline int leaf_table_4k_only(const struct dmar_pgtable *pt)
{
	return pt->leaf_sizes[1] == 1ull << DMAR_PAGE_4K_LG2;
}

/* Whether any page in [va, last] is mapped below the table @table at @level. */
static int range_mapped(const struct dmar_pgtable *pt, dmar_pa_t table, unsigned level,
			uint64_t va, uint64_t last)
{
	struct pt_iter it;

	pt_iter_first(&it, pt, table, level, va, last);
	if (level == 1)
		return leaves_any_present(pt, &it);
	for (; !pt_iter_done(&it); pt_iter_next(&it))
		if (ent_present(pt, it.entry) &&
		    (pt_is_leaf(&pt->pf, it.entry, level) ||
		     range_mapped(pt, pt_table_addr(it.entry), level - 1, it.va, it.end)))
			return 1;
	return 0;
}

/* Unlink accounting for a whole subtree, the table @table at @level spanning [va, last]:
 * its pages go to @fl, its mapped bytes are added to *mapped. */
static void collect(struct dmar_pgtable *pt, dmar_pa_t table, unsigned level, uint64_t va,
		    uint64_t last, struct freelist *fl, uint64_t *mapped)
{
	struct pt_iter it;

	pt_iter_first(&it, pt, table, level, va, last);
	if (level == 1) {
		*mapped += leaves_count(pt, &it) << DMAR_PAGE_4K_LG2;
		fl_push(pt, fl, table);
		return;
	}
	for (; !pt_iter_done(&it); pt_iter_next(&it)) {
		if (!ent_present(pt, it.entry))
			continue;
		if (pt_is_leaf(&pt->pf, it.entry, level))
			*mapped += 1ull << pt_shift(level);
		else
			collect(pt, pt_table_addr(it.entry), level - 1, it.slot_va, it.slot_last, fl,
				mapped);
	}
	fl_push(pt, fl, table);
}

/* Free a whole tree at once, children first (destroy, when there is no host memory to list
 * its pages: nothing walks it any more). */
static void free_tree(struct dmar_pgtable *pt, dmar_pa_t table, unsigned level, uint64_t va,
		      uint64_t last)
{
	struct pt_iter it;

	for (pt_iter_first(&it, pt, table, level, va, last); level > 1 && !pt_iter_done(&it);
	     pt_iter_next(&it))
		if (ent_table(pt, it.entry, level))
			free_tree(pt, pt_table_addr(it.entry), level - 1, it.slot_va, it.slot_last);
	(void)dmar_physmem_free(pt->pm, table, 1);
}

/* The size (log2) of the leaf map() starts at @va, mapped to @pa, at @level, for a range
 * ending at @last: the largest of the table's page sizes that the level holds (its span,
 * and for AMD-Vi the sizes up to the next level's span) that @va and @pa are aligned to and
 * the range holds; 0 when none (the range goes on in a table below). */
static unsigned leaf_size_at(const struct dmar_pgtable *pt, unsigned level, uint64_t va,
			     dmar_pa_t pa, uint64_t last)
{
	const uint64_t len_m1 = last - va;
	uint64_t sizes = pt->leaf_sizes[level];
	unsigned lim, fit;

	if (!sizes)
		return 0;
	lim = (va | pa) ? (unsigned)__builtin_ctzll(va | pa) : 63;
	fit = len_m1 == ~0ull ? 64 : 63 - (unsigned)__builtin_clzll(len_m1 + 1);
	if (fit < lim)
		lim = fit;
	if (lim < 63)
		sizes &= (2ull << lim) - 1;
	return sizes ? 63 - (unsigned)__builtin_clzll(sizes) : 0;
}

/* A leaf map() writes at one level: the slots it still covers after the current one, its
 * size and its first byte. */
struct leaf_run {
	unsigned left, lg2;
	dmar_pa_t pa;
};

/* The size of the leaf map() writes in the entry of @it (at @pa), 0 to go on below it.  An
 * AMD-Vi leaf larger than the level's span starts at its first slot and fills the next ones
 * of the same table (@run). */
static unsigned map_leaf_here(const struct dmar_pgtable *pt, const struct pt_iter *it,
			      dmar_pa_t pa, struct leaf_run *run)
{
	unsigned lg2;

	if (run->left) {
		run->left--;
		return run->lg2;
	}
	lg2 = leaf_size_at(pt, it->level, it->va, pa, it->last);
	if (lg2) {
		run->left = (1u << (lg2 - pt_shift(it->level))) - 1;
		run->lg2 = lg2;
		run->pa = pa;
	}
	return lg2;
}

/* What map_level() will do to [va, last] below the table @table at @level (PT_NO_TABLE: a
 * table that does not exist yet), without doing it: ::DMAR_E_EXISTS if any page is mapped,
 * else ::DMAR_OK with the table pages it will allocate added to *need. */
static dmar_status map_plan(const struct dmar_pgtable *pt, dmar_pa_t table, unsigned level,
			    uint64_t va, uint64_t last, dmar_pa_t pa, uint64_t budget,
			    uint64_t *need)
{
	struct leaf_run run = { 0 };
	struct pt_iter it;

	if (level == 1 && table == PT_NO_TABLE)
		return DMAR_OK; /* a leaf table still to make: nothing in it, none below it */
	pt_iter_first(&it, pt, table, level, va, last);
	if (level == 1 && leaf_table_4k_only(pt))
		return leaves_any_present(pt, &it) ? DMAR_E_EXISTS : DMAR_OK;
	for (; !pt_iter_done(&it); pt_iter_next(&it)) {
		const uint64_t e = it.entry;
		const dmar_pa_t spa = pa + (it.va - va);
		dmar_status st;

		if (ent_leaf(pt, e, level))
			return DMAR_E_EXISTS;
		if (map_leaf_here(pt, &it, spa, &run)) {
			/* an empty table there is replaced by the leaf */
			if (ent_present(pt, e) &&
			    range_mapped(pt, pt_table_addr(e), level - 1, it.va, it.end))
				return DMAR_E_EXISTS;
			continue;
		}
		if (!ent_present(pt, e) && ++*need > budget)
			continue; /* (nothing below to conflict with; the count is past what is free) */
		st = map_plan(pt, ent_present(pt, e) ? pt_table_addr(e) : PT_NO_TABLE, level - 1,
			      it.va, it.end, spa, budget, need);
		if (st != DMAR_OK)
			return st;
	}
	return DMAR_OK;
}

/* Map [va, last] below @table at @level, as map_plan() found possible: its table pages come
 * from @r, which holds what the plan counted, so this cannot fail. */
static void map_level(struct dmar_pgtable *pt, dmar_pa_t table, unsigned level, uint64_t va,
		      uint64_t last, dmar_pa_t pa, unsigned prot, struct freelist *fl,
		      struct reserve *r)
{
	/* a leaf of the level's own size is this template with its address */
	const uint64_t own = pt_enc_leaf(&pt->pf, level, pt_shift(level), 0, prot);
	struct leaf_run run = { 0 };
	struct pt_iter it;

	pt_iter_first(&it, pt, table, level, va, last);
	if (level == 1 && leaf_table_4k_only(pt)) {
		leaves_fill_4k(pt, &it, pa, prot);
		return;
	}
	for (; !pt_iter_done(&it); pt_iter_next(&it)) {
		const dmar_pa_t spa = pa + (it.va - va);
		const unsigned lg2 = map_leaf_here(pt, &it, spa, &run);
		dmar_pa_t child;

		if (lg2) {
			uint64_t none = 0;

			pte_store(pt_iter_slot(&it),
				  lg2 == pt_shift(level) ? own | spa
							 : pt_enc_leaf(&pt->pf, level, lg2, run.pa, prot));
			if (ent_present(pt, it.entry)) /* the empty table it replaced: freed after a grace period */
				collect(pt, pt_table_addr(it.entry), level - 1, it.slot_va, it.slot_last,
					fl, &none);
			continue;
		}
		if (!ent_present(pt, it.entry)) {
			child = alloc_table(pt, r);
			pte_store(pt_iter_slot(&it), pt_enc_table(&pt->pf, level, child));
		} else {
			child = pt_table_addr(it.entry);
		}
		map_level(pt, child, level - 1, it.va, it.end, spa, prot, fl, r);
	}
}

/* map for [va, last] inside one 2 MiB block and smaller than it, with 4 KiB leaves only (the
 * usual map): one descent finds the conflicts and the tables missing on the way, then the
 * tables are reserved and made and the leaves stored, without a second descent. */
static dmar_status map_small(struct dmar_pgtable *pt, uint64_t va, uint64_t last, dmar_pa_t pa,
			     unsigned prot)
{
	dmar_pa_t table = pt->root;
	uint64_t *slot = NULL;
	unsigned level = pt->pf.levels;
	struct pt_iter it;
	struct reserve r;
	dmar_status st;

	for (; level > 1; level--) {
		uint64_t e;

		slot = &tbl(pt, table)[pt_index(va, level)];
		e = pte_read(slot);
		if (!ent_present(pt, e))
			break; /* tables for levels level - 1 .. 1 are missing */
		if (pt_is_leaf(&pt->pf, e, level))
			return DMAR_E_EXISTS;
		table = pt_table_addr(e);
	}
	if (level == 1) {
		pt_iter_first(&it, pt, table, 1, va, last);
		if (leaves_any_present(pt, &it))
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
		pt_iter_first(&it, pt, table, 1, va, last);
	}
	leaves_fill_4k(pt, &it, pa, prot);
	return DMAR_OK;
}

/* Replace the leaf @old of the level's own size in @slot (at @level) by a table of the next
 * size down that translates every address the same way, so readers cannot tell when it
 * happens.  Returns the new table (its page from @r). */
static dmar_pa_t split_leaf(struct dmar_pgtable *pt, uint64_t *slot, uint64_t old,
			    unsigned level, struct reserve *r)
{
	const unsigned child_level = level - 1, clg2 = pt_shift(child_level);
	const uint64_t adm = pt->pf.a_bit | pt->pf.d_bit;
	const dmar_pa_t child = alloc_table(pt, r);
	uint64_t *t = tbl(pt, child);

	/* Built from the leaf's value and swapped in only if it still holds that value: a walk
	 * that set its accessed or dirty bit (DMAR_PT_AD) meanwhile is not lost. */
	for (;;) {
		dmar_pa_t base;
		unsigned prot;
		uint64_t own;

		(void)leaf_info(pt, old, level, &base, &prot);
		own = pt_enc_leaf(&pt->pf, child_level, clg2, 0, prot) | (old & adm);
		for (unsigned i = 0; i < PT_ENTRIES; i++)
			t[i] = own | (base + ((uint64_t)i << clg2));
		if (__atomic_compare_exchange_n(slot, &old, pt_enc_table(&pt->pf, level, child), 0,
						__ATOMIC_RELEASE, __ATOMIC_RELAXED))
			return child;
	}
}

/* Rewrite the AMD-Vi leaf of 2^@lg2 bytes that the slots of @t at @level around @va repeat
 * as one leaf of the level's own size per slot, in place: each slot with one
 * compare-and-exchange from the value it holds, so every state on the way translates every
 * address the same, and no accessed or dirty bit a walk set meanwhile is lost.  Every new
 * leaf takes the accessed and dirty bits of the whole page (a walk sets them in the slot it
 * read), as a split leaf's pieces do. */
static void split_run(struct dmar_pgtable *pt, uint64_t *t, unsigned level, uint64_t va,
		      unsigned lg2)
{
	const uint64_t adm = pt->pf.a_bit | pt->pf.d_bit;
	const unsigned n = 1u << (lg2 - pt_shift(level)), first = pt_index(va, level) & ~(n - 1);
	uint64_t ad = 0;

	for (unsigned i = 0; i < n; i++)
		ad |= pte_read(&t[first + i]) & adm;
	for (unsigned i = 0; i < n; i++) {
		uint64_t *p = &t[first + i], old = pte_read(p), e;

		do {
			dmar_pa_t base;
			unsigned prot;

			(void)leaf_info(pt, old, level, &base, &prot);
			e = pt_enc_leaf(&pt->pf, level, pt_shift(level),
					base + ((uint64_t)i << pt_shift(level)), prot) |
			    ad | (old & adm);
		} while (!__atomic_compare_exchange_n(p, &old, e, 0, __ATOMIC_RELEASE,
						      __ATOMIC_RELAXED));
	}
}

/* Where the splits for @va start: the table holding the leaf that maps @va and that leaf's
 * level (0 when nothing maps it).  Found once for each end of an unmap, before any split. */
struct split_site {
	uint64_t *table;
	unsigned level;
};

static void split_find(const struct dmar_pgtable *pt, uint64_t va, struct split_site *s)
{
	dmar_pa_t table = pt->root;

	s->level = 0;
	for (unsigned level = pt->pf.levels; level >= 1; level--) {
		uint64_t *t = tbl(pt, table);
		const uint64_t e = pte_read(&t[pt_index(va, level)]);

		if (!ent_present(pt, e))
			return;
		if (pt_is_leaf(&pt->pf, e, level)) {
			s->table = t;
			s->level = level;
			return;
		}
		table = pt_table_addr(e);
	}
}

/* Whether the splits for @va split the leaf at @level into a table: @va is not its first
 * byte, nor the first byte of any larger leaf above it on the way down from @top (the level
 * of the leaf that maps it before any split).  (An AMD-Vi leaf repeated over several slots
 * is first rewritten as one leaf per slot, in place: no table page.) */
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

/* Make @va the first byte of a leaf (or of an unmapped slot) by splitting the leaves around
 * it, from its site @s down, with the pages split_plan() counted from @r.  (The other end's
 * splits may have split the site's leaf already: then its slot holds a table, or a leaf of
 * the slot's own size, and the descent goes on from there.)  Changes representation only,
 * never a translation, but a cached translation of any page of a split leaf still names the
 * old leaf size: *split_lg2 receives the size of the largest leaf split (0 if none), whose
 * whole span the caller flushes (S28, S30). */
static void split_at(struct dmar_pgtable *pt, const struct split_site *s, uint64_t va,
		     unsigned *split_lg2, struct reserve *r)
{
	uint64_t *t = s->table;

	for (unsigned level = s->level; level >= 1; level--) {
		const uint64_t span = 1ull << pt_shift(level);
		uint64_t *slot, e;
		unsigned lg2;

		/* aligned to the span here: to every leaf below, and to this one unless it is
		 * larger than the span */
		if (!(va & (span - 1)) && !(pt->leaf_sizes[level] & ~span))
			return;
		slot = &t[pt_index(va, level)];
		e = pte_read(slot);
		if (!pt_is_leaf(&pt->pf, e, level)) {
			t = tbl(pt, pt_table_addr(e));
			continue;
		}
		lg2 = leaf_lg2(pt, e, level);
		if (!(va & ((1ull << lg2) - 1)))
			return;
		if (!*split_lg2) /* the first split, from the top, is the largest */
			*split_lg2 = lg2;
		if (lg2 > pt_shift(level)) {
			split_run(pt, t, level, va, lg2);
			if (!(va & (span - 1)))
				return;
			e = pte_read(slot);
		}
		t = tbl(pt, split_leaf(pt, slot, e, level, r));
	}
}

/* Unmap [va, last] below @table at @level, where split_at() left no leaf that the range
 * holds only in part. */
static void unmap_level(struct dmar_pgtable *pt, dmar_pa_t table, unsigned level, uint64_t va,
			uint64_t last, uint64_t *unmapped, struct freelist *fl)
{
	struct pt_iter it;

	pt_iter_first(&it, pt, table, level, va, last);
	if (level == 1) { /* each leaf 4 KiB, or one slot of a larger one the range holds */
		*unmapped += leaves_clear(pt, &it) << DMAR_PAGE_4K_LG2;
		return;
	}
	for (; !pt_iter_done(&it); pt_iter_next(&it)) {
		if (!ent_present(pt, it.entry))
			continue;
		if (pt_is_leaf(&pt->pf, it.entry, level)) {
			pte_store(pt_iter_slot(&it), 0);
			*unmapped += 1ull << pt_shift(level);
		} else if (pt_iter_covers(&it)) {
			pte_store(pt_iter_slot(&it), 0);
			collect(pt, pt_table_addr(it.entry), level - 1, it.slot_va, it.slot_last, fl,
				unmapped);
		} else {
			unmap_level(pt, pt_table_addr(it.entry), level - 1, it.va, it.end, unmapped,
				    fl);
		}
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

dmar_status dmar_pgtable_create(dmar_physmem *pm, const dmar_pgtable_config *cfg,
				dmar_pgtable **out)
{
	struct dmar_pgtable *pt;
	struct pt_fmt pf;
	uint64_t pgsizes;
	dmar_status st;

	if (!pm || !cfg || !out || !pt_fmt_init(&pf, &cfg->format))
		return DMAR_E_INVALID;
	pgsizes = cfg->pgsizes ? cfg->pgsizes : pt_page_sizes(&pf); /* 0: all of them */
	if (!(pgsizes & (1ull << DMAR_PAGE_4K_LG2)) || (pgsizes & ~pt_page_sizes(&pf)) ||
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
	for (unsigned level = 1; level <= pf.levels; level++) {
		const unsigned hi = pt_shift(level + 1);

		pt->leaf_sizes[level] = pgsizes & ~((1ull << pt_shift(level)) - 1) &
					(hi >= 64 ? ~0ull : (1ull << hi) - 1);
	}
	pt->small_limit = 1ull << DMAR_PAGE_2M_LG2;
	if (pt->leaf_sizes[1] & ~(1ull << DMAR_PAGE_4K_LG2))
		pt->small_limit = 1ull << __builtin_ctzll(pt->leaf_sizes[1] &
							  ~(1ull << DMAR_PAGE_4K_LG2));
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
		collect(pt, pt->root, pt->pf.levels, 0, root_last(pt), &fl, &none);
		dmar__frames_free_now(fl.fr); /* (nothing walks it any more) */
	} else {
		free_tree(pt, pt->root, pt->pf.levels, 0, root_last(pt));
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
	    size < (1ull << DMAR_PAGE_2M_LG2) &&
	    (size < pt->small_limit || ((iova ^ pa) & (pt->small_limit - 1)))) {
		st = map_small(pt, iova, iova + (size - 1), pa, prot);
		dmar__unlock(&pt->lock);
		return st;
	}
	/* Plan first (conflicts, table pages), reserve what the change needs, then change: a
	 * map that fails stores nothing, so no reader ever sees part of it. */
	/* (its count stops at the frames free now: a map too large for them fails in time
	 * bounded by what exists, not by its size) */
	st = map_plan(pt, pt->root, pt->pf.levels, iova, iova + (size - 1), pa, free_frames(pt),
		      &need);
	if (st == DMAR_OK && need > free_frames(pt))
		st = DMAR_E_NOMEM;
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
	if (last != UINT64_MAX && pt_check_input(last + 1, &pt->pf) == DMAR_FAULT_NONE)
		split_find(pt, last + 1, &end); /* (none past the end of the input) */
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
	rsv_put(pt, &r);
	unmap_level(pt, pt->root, pt->pf.levels, iova, last, &done, &fl);
	if (done || lg2_first || lg2_end || dmar__frames_count(fl.fr))
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
	/* no access asked for: any page that is mapped answers, a write-only one too */
	st = dmar_pgtable_walk(pt, iova, 0, &r);
	*pa = st == DMAR_OK ? r.pa : 0;
	return st;
}
