/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Tables built here: map, unmap with splits, deferred freeing of unlinked table pages.
 *
 * Ordering (S31): a new table page is zeroed or filled completely before the release store
 * that links it, and the walker reads entries with acquire, so a reader sees either the old
 * entry or a finished table, never a half-built one.  A table page that leaves the tree is
 * handed to RCU and returns to the allocator only after every walk that could still hold it
 * has ended.  Only the writer (under pt->lock) stores entries. */
#include "rcu.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "physmem_internal.h"
#include "pte.h"
#include "range.h"
#include "walk.h"

#define TABLE_BITS (DMAR_PTE_P | DMAR_PTE_RW | DMAR_PTE_US | DMAR_PTE_A)
#define PROT_KNOWN                                                                        \
	(DMAR_PROT_READ | DMAR_PROT_WRITE | DMAR_PROT_EXEC | DMAR_PROT_USER | DMAR_PROT_PWT | \
	 DMAR_PROT_PCD | DMAR_PROT_GLOBAL)

struct dmar_pgtable {
	dmar_physmem *pm;
	dmar_pt_format fmt;
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

/* Table pages unlinked by one writer call, freed together after a grace period. */
struct freelist {
	unsigned long long *v;
	size_t n, cap;
};

void dmar_pgtable_config_default(dmar_pgtable_config *cfg)
{
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

static dmar_status alloc_table(struct dmar_pgtable *pt, dmar_pa_t *out)
{
	dmar_status st = dmar_physmem_alloc(pt->pm, 1, DMAR_PAGE_4K_LG2, pt->place,
					    pt->place_limit, out);

	if (st != DMAR_OK)
		return st;
	memset(tbl(pt, *out), 0, DMAR_PAGE_SIZE);
	__atomic_fetch_add(&pt->table_pages, 1, __ATOMIC_RELAXED);
	return DMAR_OK;
}

static void fl_flush(struct dmar_pgtable *pt, struct freelist *fl)
{
	dmar__defer_free_frames(pt->pm, fl->v, fl->n);
	free(fl->v);
	fl->v = NULL;
	fl->n = fl->cap = 0;
}

/* Record an unlinked table page.  Without host memory to record it, wait for a grace
 * period now: then this page and every page recorded so far may be freed at once. */
static void fl_push(struct dmar_pgtable *pt, struct freelist *fl, dmar_pa_t pa)
{
	__atomic_fetch_sub(&pt->table_pages, 1, __ATOMIC_RELAXED);
	if (fl->n == fl->cap) {
		size_t cap = fl->cap ? 2 * fl->cap : 16;
		unsigned long long *v = realloc(fl->v, cap * sizeof(*v));

		if (!v) {
			dmar__rcu_synchronize();
			for (size_t i = 0; i < fl->n; i++)
				(void)dmar_physmem_free(pt->pm, fl->v[i], 1);
			(void)dmar_physmem_free(pt->pm, pa, 1);
			fl->n = 0;
			return;
		}
		fl->v = v;
		fl->cap = cap;
	}
	fl->v[fl->n++] = pa;
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
		return (any & DMAR_PTE_P) != 0;
	}
	FOR_EACH_SLOT(level, va, last, cur, first, slot_last, chunk_last)
	{
		uint64_t e = t[pt_index(cur, level)];

		if ((e & DMAR_PTE_P) &&
		    (pte_is_leaf(e, level) ||
		     range_mapped(pt, e & DMAR_PTE_ADDR_MASK, level - 1, cur, chunk_last)))
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

		if (!(e & DMAR_PTE_P))
			continue;
		if (pte_is_leaf(e, level))
			*mapped += 1ull << pt_shift(level);
		else
			collect(pt, e & DMAR_PTE_ADDR_MASK, level - 1, fl, mapped);
	}
	fl_push(pt, fl, table);
}

static uint64_t leaf_entry(dmar_pa_t pa, unsigned prot, unsigned level)
{
	uint64_t e = pa | DMAR_PTE_P | DMAR_PTE_A | DMAR_PTE_D;

	if (prot & DMAR_PROT_WRITE)
		e |= DMAR_PTE_RW;
	if (prot & DMAR_PROT_USER)
		e |= DMAR_PTE_US;
	if (!(prot & DMAR_PROT_EXEC))
		e |= DMAR_PTE_XD;
	if (prot & DMAR_PROT_PWT)
		e |= DMAR_PTE_PWT;
	if (prot & DMAR_PROT_PCD)
		e |= DMAR_PTE_PCD;
	if (prot & DMAR_PROT_GLOBAL)
		e |= DMAR_PTE_G;
	if (level > 1)
		e |= DMAR_PTE_PS;
	return e;
}

static dmar_status map_level(struct dmar_pgtable *pt, dmar_pa_t table, unsigned level,
			     uint64_t va, uint64_t last, dmar_pa_t pa, unsigned prot,
			     struct freelist *fl)
{
	uint64_t *t = tbl(pt, table);
	const uint64_t span = 1ull << pt_shift(level);

	if (level == 1) { /* 4 KiB leaves: one entry template, consecutive frames */
		const unsigned i0 = pt_index(va, 1), end = pt_index(last, 1);
		const uint64_t e0 = leaf_entry(pa, prot, 1);

		for (unsigned i = i0; i <= end; i++)
			if (t[i] & DMAR_PTE_P)
				return DMAR_E_EXISTS; /* (the caller checked ranges of several) */
		for (unsigned i = i0; i <= end; i++)
			pte_store(&t[i], e0 + (uint64_t)(i - i0) * DMAR_PAGE_SIZE);
		return DMAR_OK;
	}
	FOR_EACH_SLOT(level, va, last, cur, first, slot_last, chunk_last)
	{
		uint64_t *slot = &t[pt_index(cur, level)];
		uint64_t old = *slot;
		dmar_status st;

		if (level <= 3 && (pt->pgsizes & span) && cur == first && chunk_last == slot_last &&
		    !(pa & (span - 1))) {
			if (old & DMAR_PTE_P) {
				uint64_t none = 0;

				if (pte_is_leaf(old, level) ||
				    range_mapped(pt, old & DMAR_PTE_ADDR_MASK, level - 1, cur,
						 chunk_last))
					return DMAR_E_EXISTS;
				/* an empty table where a leaf goes: replace it, free it later */
				collect(pt, old & DMAR_PTE_ADDR_MASK, level - 1, fl, &none);
			}
			pte_store(slot, leaf_entry(pa, prot, level));
		} else {
			dmar_pa_t child;

			if (!(old & DMAR_PTE_P)) {
				st = alloc_table(pt, &child);
				if (st != DMAR_OK)
					return st;
				pte_store(slot, child | TABLE_BITS);
			} else if (pte_is_leaf(old, level)) {
				return DMAR_E_EXISTS;
			} else {
				child = old & DMAR_PTE_ADDR_MASK;
			}
			st = map_level(pt, child, level - 1, cur, chunk_last, pa, prot, fl);
			if (st != DMAR_OK)
				return st;
		}
		pa += chunk_last - cur + 1;
		if (chunk_last == last)
			break;
	}
	return DMAR_OK;
}

/* Replace the large leaf @old in @slot (at @level) by a table of the next size down that
 * translates every address the same way, so readers cannot tell when it happens. */
static dmar_status split_leaf(struct dmar_pgtable *pt, uint64_t *slot, uint64_t old,
			      unsigned level, dmar_pa_t *child_out)
{
	const unsigned child_level = level - 1;
	const uint64_t cspan = 1ull << pt_shift(child_level);
	const dmar_pa_t base = old & DMAR_PTE_ADDR_MASK & ~((1ull << pt_shift(level)) - 1);
	uint64_t attrs = old & ~(DMAR_PTE_ADDR_MASK | DMAR_PTE_PS);
	dmar_pa_t child;
	uint64_t *t;
	dmar_status st;

	/* PAT sits at bit 12 in large leaves and at bit 7 in 4 KiB ones. */
	if (old & DMAR_PTE_PAT_LARGE)
		attrs |= child_level == 1 ? DMAR_PTE_PS : DMAR_PTE_PAT_LARGE;
	if (child_level > 1)
		attrs |= DMAR_PTE_PS;
	st = alloc_table(pt, &child);
	if (st != DMAR_OK)
		return st;
	t = tbl(pt, child);
	for (unsigned i = 0; i < PT_ENTRIES; i++)
		t[i] = (base + i * cspan) | attrs;
	pte_store(slot, child | TABLE_BITS);
	*child_out = child;
	return DMAR_OK;
}

/* Make @va the first byte of a leaf (or of an unmapped slot) by splitting the large leaves
 * around it.  Changes representation only, never a translation, but a cached translation
 * of any page of a split leaf still names the old leaf size: *split_lg2 receives the size
 * of the largest leaf split (0 if none), whose whole span the caller flushes (S28, S30). */
static dmar_status split_at(struct dmar_pgtable *pt, uint64_t va, unsigned *split_lg2)
{
	dmar_pa_t table = pt->root;

	for (unsigned level = pt->fmt.levels; level >= 1; level--) {
		uint64_t *slot = &tbl(pt, table)[pt_index(va, level)];
		uint64_t e = *slot;

		if (!(e & DMAR_PTE_P))
			return DMAR_OK;
		if (pte_is_leaf(e, level)) {
			dmar_status st;

			if (!(va & ((1ull << pt_shift(level)) - 1)))
				return DMAR_OK;
			if (!*split_lg2) /* the first split, from the top, is the largest */
				*split_lg2 = pt_shift(level);
			st = split_leaf(pt, slot, e, level, &table);
			if (st != DMAR_OK)
				return st;
		} else {
			table = e & DMAR_PTE_ADDR_MASK;
		}
	}
	return DMAR_OK;
}

static void unmap_level(struct dmar_pgtable *pt, dmar_pa_t table, unsigned level, uint64_t va,
			uint64_t last, uint64_t *unmapped, struct freelist *fl)
{
	uint64_t *t = tbl(pt, table);

	if (level == 1) { /* 4 KiB leaves */
		uint64_t n = 0;

		for (unsigned i = pt_index(va, 1), end = pt_index(last, 1); i <= end; i++)
			if (t[i] & DMAR_PTE_P) {
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

		if (e & DMAR_PTE_P) {
			if (pte_is_leaf(e, level)) {
				/* split_at() made every leaf in range covered */
				pte_store(slot, 0);
				*unmapped += 1ull << pt_shift(level);
			} else if (covered) {
				pte_store(slot, 0);
				collect(pt, e & DMAR_PTE_ADDR_MASK, level - 1, fl, unmapped);
			} else {
				unmap_level(pt, e & DMAR_PTE_ADDR_MASK, level - 1, cur, chunk_last,
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
	pt_input_range(&pt->fmt, &low_last, &high_first);
	if (last <= low_last || (high_first && iova >= high_first))
		return DMAR_OK;
	return DMAR_E_RANGE;
}

dmar_status dmar_pgtable_create(dmar_physmem *pm, const dmar_pgtable_config *cfg,
				dmar_pgtable **out)
{
	struct dmar_pgtable *pt;
	dmar_status st;

	if (!pm || !cfg || !out || !dmar__format_ok(&cfg->format) ||
	    !(cfg->pgsizes & (1ull << DMAR_PAGE_4K_LG2)) || (cfg->pgsizes & ~DMAR_PGSIZES_ALL) ||
	    cfg->place > DMAR_PLACE_ABOVE)
		return DMAR_E_INVALID;
	if (posix_memalign((void **)&pt, 64, sizeof(*pt)) != 0)
		return DMAR_E_NOMEM;
	memset(pt, 0, sizeof(*pt));
	pt->pm = pm;
	pt->fmt = cfg->format;
	if (!pt->fmt.pa_bits)
		pt->fmt.pa_bits = DMAR_PA_BITS_MAX;
	pt->pgsizes = cfg->pgsizes;
	pt->place = cfg->place;
	pt->place_limit = cfg->place_limit;
	st = alloc_table(pt, &pt->root);
	if (st != DMAR_OK) {
		free(pt);
		return st;
	}
	pthread_mutex_init(&pt->lock, NULL);
	*out = pt;
	return DMAR_OK;
}

void dmar_pgtable_destroy(dmar_pgtable *pt)
{
	struct freelist fl = { 0 };
	uint64_t none = 0;

	if (!pt)
		return;
	/* Earlier unmaps may have frees pending in RCU callbacks that use pt->pm. */
	dmar__rcu_barrier();
	collect(pt, pt->root, pt->fmt.levels, &fl, &none);
	for (size_t i = 0; i < fl.n; i++)
		(void)dmar_physmem_free(pt->pm, fl.v[i], 1);
	free(fl.v);
	pthread_mutex_destroy(&pt->lock);
	free(pt);
}

void dmar_pgtable_set_flush(dmar_pgtable *pt, dmar_pgtable_flush_fn fn, void *ctx)
{
	pthread_mutex_lock(&pt->lock);
	pt->flush = fn;
	pt->flush_ctx = ctx;
	pthread_mutex_unlock(&pt->lock);
}

static void flush_range(struct dmar_pgtable *pt, dmar_iova_t iova, uint64_t size)
{
	if (pt->flush)
		pt->flush(pt->flush_ctx, iova, size);
}

dmar_pa_t dmar_pgtable_root(const dmar_pgtable *pt)
{
	return pt->root;
}

const dmar_pt_format *dmar_pgtable_format(const dmar_pgtable *pt)
{
	return &pt->fmt;
}

uint64_t dmar_pgtable_table_pages(const dmar_pgtable *pt)
{
	return __atomic_load_n(&pt->table_pages, __ATOMIC_RELAXED);
}

/* Whether the range is exactly one leaf of the largest size alignment allows. */
static int single_leaf(const struct dmar_pgtable *pt, dmar_iova_t iova, dmar_pa_t pa,
		       uint64_t size)
{
	for (unsigned lg2 = DMAR_PAGE_1G_LG2;; lg2 -= PT_LEVEL_LG2) {
		uint64_t s = 1ull << lg2;

		if ((pt->pgsizes & s) && !((iova | pa) & (s - 1)) && size >= s)
			return size == s;
		if (lg2 == DMAR_PAGE_4K_LG2)
			return 0;
	}
}

static void unmap_locked(struct dmar_pgtable *pt, dmar_iova_t iova, uint64_t size,
			 uint64_t *unmapped, struct freelist *fl)
{
	unmap_level(pt, pt->root, pt->fmt.levels, iova, iova + size - 1, unmapped, fl);
}

dmar_status dmar_pgtable_map(dmar_pgtable *pt, dmar_iova_t iova, dmar_pa_t pa, uint64_t size,
			     unsigned prot)
{
	struct freelist fl = { 0 };
	dmar_status st;

	if (!pt || !(prot & DMAR_PROT_READ) || (prot & ~PROT_KNOWN) || pa % DMAR_PAGE_SIZE)
		return DMAR_E_INVALID;
	st = check_iova_range(pt, iova, size);
	if (st != DMAR_OK)
		return st;
	if (!dmar__range_within(pa, size, 0, (1ull << pt->fmt.pa_bits) - 1))
		return DMAR_E_RANGE;

	pthread_mutex_lock(&pt->lock);
	/* One leaf: the descent finds any conflict before it stores anything.  Several: check
	 * the whole range first, so that no reader ever sees part of a map that fails. */
	if (!single_leaf(pt, iova, pa, size) &&
	    range_mapped(pt, pt->root, pt->fmt.levels, iova, iova + size - 1)) {
		st = DMAR_E_EXISTS;
	} else {
		st = map_level(pt, pt->root, pt->fmt.levels, iova, iova + size - 1, pa, prot, &fl);
		if (st == DMAR_E_NOMEM) {
			uint64_t none = 0;

			unmap_locked(pt, iova, size, &none, &fl);
			flush_range(pt, iova, size);
		} else if (fl.n) {
			flush_range(pt, iova, size); /* cached pointers to the replaced tables */
		}
	}
	pthread_mutex_unlock(&pt->lock);
	fl_flush(pt, &fl);
	return st;
}

dmar_status dmar_pgtable_unmap(dmar_pgtable *pt, dmar_iova_t iova, uint64_t size,
			       uint64_t *unmapped)
{
	struct freelist fl = { 0 };
	uint64_t done = 0, split;
	unsigned lg2_first = 0, lg2_end = 0;
	dmar_status st;

	if (unmapped)
		*unmapped = 0;
	if (!pt)
		return DMAR_E_INVALID;
	st = check_iova_range(pt, iova, size);
	if (st != DMAR_OK)
		return st;

	pthread_mutex_lock(&pt->lock);
	split = dmar_pgtable_table_pages(pt);
	st = split_at(pt, iova, &lg2_first);
	if (st == DMAR_OK && iova + size != 0)
		st = split_at(pt, iova + size, &lg2_end);
	split = dmar_pgtable_table_pages(pt) != split;
	if (st == DMAR_OK)
		unmap_locked(pt, iova, size, &done, &fl);
	if (done || split || fl.n)
		flush_range(pt, iova, size);
	/* the pages of a split leaf that stay mapped were cached with the leaf's old size */
	if (lg2_first)
		flush_range(pt, iova & ~((1ull << lg2_first) - 1), 1ull << lg2_first);
	if (lg2_end)
		flush_range(pt, (iova + size) & ~((1ull << lg2_end) - 1), 1ull << lg2_end);
	pthread_mutex_unlock(&pt->lock);
	fl_flush(pt, &fl);
	if (unmapped)
		*unmapped = done;
	return st;
}

dmar_status dmar_pgtable_walk(const dmar_pgtable *pt, dmar_iova_t iova, unsigned access,
			      dmar_walk_result *result)
{
	dmar_fault f;

	if (!pt || !result || (access & ~0xfu))
		return DMAR_E_INVALID;
	if (!dmar__thread_ok())
		return DMAR_E_THREAD;
	dmar__rcu_read_lock();
	f = dmar__walk(pt->pm, pt->root, &pt->fmt, iova, access, result);
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
