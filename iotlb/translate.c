/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* translate and translate_batch: the IOTLB probe (per-ISA, iotlb/probe_*.c), then the
 * misses walked in groups, one level per round for every walk of the group, the next
 * entry of each prefetched before any is read, so their memory latencies overlap.  A walk
 * starts from the deepest page-walk-cache entry it finds.  The same code serves one
 * request and many, which is what makes them bit-identical (S30). */
#include "rcu.h"

#include <stdlib.h>
#include <string.h>

#include <dmar/fault.h>

#include "iotlb_internal.h"
#include "physmem_internal.h"
#include "pte.h"
#include "walk.h"

/* Walks interleaved at once: enough independent memory accesses in flight to cover a cold
 * table's latency (more walks kept getting cheaper per walk up to this many), for about
 * 10 KiB of stack. */
#define WALK_GROUP 64
/* Requests probed per pass (bounds the miss index array on the stack). */
#define BATCH_CHUNK 256

struct walk {
	uint32_t idx;      /* request index in the chunk */
	uint8_t level;     /* level of the entry to read next; 0 when finished */
	uint8_t top_read;  /* highest level this walk read from memory (PWC fills below it) */
	dmar_fault fault;
	uint64_t va, table, rw, us, xd, leaf;
	unsigned leaf_level;
	const uint64_t *next; /* host address of the next entry, found and prefetched */
	uint64_t seq_tlb, seq_pwc[DMAR_PWC_LEVELS];
	uint64_t eff[6]; /* effective entries read, by level (what the PWC caches) */
};

struct xctx {
	struct dmar_iotlb *tlb;
	struct dmar_space *sp;
	uint64_t gen; /* sp->inval_gen before any walk (large-leaf fills, iotlb.c) */
	const struct dmar_physmem *pm;
	const dmar_pt_format *fmt;
	uint64_t root, asid, rsvd;
	const struct pm_range *hint;
	uint64_t st[ST_COUNT]; /* this batch's walk counters */
	uint64_t rng;
};

/* Entry as the page-walk cache keeps it: the permissions of the levels above folded in. */
static uint64_t effective(uint64_t pte, uint64_t rw, uint64_t us, uint64_t xd)
{
	return (pte & ~(DMAR_PTE_RW | DMAR_PTE_US | DMAR_PTE_XD)) | (rw & DMAR_PTE_RW) |
	       (us & DMAR_PTE_US) | (xd & DMAR_PTE_XD);
}

static void walk_start(struct xctx *x, struct walk *w, uint64_t va, uint32_t idx)
{
	/* every field a walk reads; eff[] and the sequence numbers are written before use */
	w->idx = idx;
	w->level = 0;
	w->top_read = 0;
	w->va = va;
	w->table = 0;
	w->rw = DMAR_PTE_RW;
	w->us = DMAR_PTE_US;
	w->xd = 0;
	w->leaf = 0;
	w->leaf_level = 0;
	w->next = NULL;
	w->fault = pt_check_input(va, x->fmt);
	if (w->fault != DMAR_FAULT_NONE)
		return;
	w->level = (uint8_t)x->fmt->levels;
	w->table = x->root & DMAR_PTE_ADDR_MASK;
	w->top_read = w->level;
	if (x->asid) {
		struct dmar_iotlb *tlb = x->tlb;

		/* sequence numbers first: whatever this walk reads (walk cache included) is
		 * newer than them, so a fill is dropped iff an invalidation may have raced it */
		w->seq_tlb = dmar_cache_seq(&tlb->tlb, dmar_cache_set(&tlb->tlb, x->asid, va >> 12));
		for (unsigned k = 0; k < DMAR_PWC_LEVELS; k++) {
			const struct dmar_cache *c = &tlb->pwc[k];
			uint64_t b = va >> pt_shift(k + DMAR_PWC_MIN_LEVEL);

			w->seq_pwc[k] = dmar_cache_seq(c, dmar_cache_set(c, x->asid, b));
		}
		for (unsigned k = 0; k < DMAR_PWC_LEVELS; k++) {
			const unsigned lv = k + DMAR_PWC_MIN_LEVEL;
			const struct dmar_cache *c = &tlb->pwc[k];
			uint64_t b = va >> pt_shift(lv), e;

			if (lv > x->fmt->levels)
				break;
			if (!dmar_cache_lookup(c, dmar_cache_set(c, x->asid, b),
					       dmar_cache_tag(x->asid, b), &e))
				continue;
			x->st[ST_PWC_HIT]++;
			w->rw = e & DMAR_PTE_RW;
			w->us = e & DMAR_PTE_US;
			w->xd = e & DMAR_PTE_XD;
			w->top_read = (uint8_t)(lv - 1);
			if (pte_is_leaf(e, lv)) {
				w->leaf = e;
				w->leaf_level = lv;
				w->level = 0;
			} else {
				w->table = e & DMAR_PTE_ADDR_MASK;
				w->level = (uint8_t)(lv - 1);
			}
			return;
		}
	}
	if (w->table & x->rsvd) {
		w->fault = DMAR_FAULT_TABLE_ADDR;
		w->level = 0;
	}
}

/* Find the next entry's host address and prefetch it. */
static void walk_prepare(struct xctx *x, struct walk *w)
{
	const dmar_pa_t at = w->table + 8u * pt_index(w->va, w->level);
	const struct pm_range *r = dmar__pm_find(x->pm, at, 8, x->hint);

	if (!r) {
		w->fault = DMAR_FAULT_TABLE_ADDR;
		w->level = 0;
		return;
	}
	x->hint = r;
	w->next = (const uint64_t *)(r->host + (at - r->base));
	__builtin_prefetch(w->next);
}

/* Read the prepared entry: one level down, a leaf, or a fault. */
static void walk_step(struct xctx *x, struct walk *w)
{
	const unsigned level = w->level;
	const uint64_t pte = pte_load(w->next);

	x->st[ST_PTE_READS]++;
	w->fault = pte_check(pte, level, x->rsvd);
	if (w->fault != DMAR_FAULT_NONE) {
		w->level = 0;
		return;
	}
	w->rw &= pte;
	w->us &= pte;
	w->xd |= pte;
	w->eff[level] = effective(pte, w->rw, w->us, w->xd);
	if (pte_is_leaf(pte, level)) {
		w->leaf = pte;
		w->leaf_level = level;
		w->level = 0;
	} else {
		w->table = pte & DMAR_PTE_ADDR_MASK;
		w->level = (uint8_t)(level - 1);
	}
}

/* Before a translation from a 2 MiB or 1 GiB leaf is cached: record that the space caches one
 * in that region, then check that no page-selective invalidation began since the batch's
 * walks did.  With the invalidator's side (dmar_space_invalidate_range: count, then read the
 * record) either the invalidation sees the record and clears the whole leaf's pages, or this
 * sees the count move and caches nothing (Dekker: seq_cst on both sides). */
static int large_leaf_may_fill(struct xctx *x, uint64_t va, unsigned leaf_level)
{
	const unsigned k = leaf_level == 2 ? 0 : 1;
	uint64_t *const rec = &x->sp->large[k];
	const uint64_t bit = 1ull << ((va >> (k ? DMAR_PAGE_1G_LG2 : DMAR_PAGE_2M_LG2)) & 63);

	if (!(__atomic_load_n(rec, __ATOMIC_RELAXED) & bit))
		__atomic_fetch_or(rec, bit, __ATOMIC_SEQ_CST);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return __atomic_load_n(&x->sp->inval_gen, __ATOMIC_RELAXED) == x->gen;
}

/* Result and fills of a finished walk. */
static void walk_finish(struct xctx *x, struct walk *w, unsigned access, dmar_result *res)
{
	uint64_t mask, frame;

	if (w->fault == DMAR_FAULT_NONE)
		w->fault = pt_check_access(access, w->rw, w->us, w->xd);
	if (w->fault != DMAR_FAULT_NONE) {
		dmar__result_fault(res, w->fault);
		x->st[ST_FAULT]++;
		return;
	}
	mask = (1ull << pt_shift(w->leaf_level)) - 1;
	frame = ((w->leaf & DMAR_PTE_ADDR_MASK) & ~mask) | (w->va & mask & ~0xfffull);
	res->pa = frame | (w->va & 0xfff);
	res->fault = DMAR_FAULT_NONE;
	res->page_lg2 = (uint8_t)pt_shift(w->leaf_level);
	res->prot = pt_prot(w->leaf, w->rw, w->us, w->xd);
	res->flags = 0;
	if (!x->asid)
		return;
	if (w->leaf_level > 1 && !large_leaf_may_fill(x, w->va, w->leaf_level)) {
		x->st[ST_FILL_DROP]++;
		return;
	}
	{
		struct dmar_iotlb *tlb = x->tlb;
		const uint64_t vpn = w->va >> 12;
		const uint64_t data = frame | res->prot |
				      (uint64_t)res->page_lg2 << DMAR_DATA_LG2_SHIFT;

		if (!dmar_cache_fill(&tlb->tlb, dmar_cache_set(&tlb->tlb, x->asid, vpn),
				     dmar_cache_tag(x->asid, vpn), data, w->seq_tlb, &x->rng))
			x->st[ST_FILL_DROP]++;
		for (unsigned lv = w->leaf_level > DMAR_PWC_MIN_LEVEL ? w->leaf_level : DMAR_PWC_MIN_LEVEL;
		     lv <= w->top_read && lv < DMAR_PWC_MIN_LEVEL + DMAR_PWC_LEVELS; lv++) {
			struct dmar_cache *c = &tlb->pwc[lv - DMAR_PWC_MIN_LEVEL];
			const uint64_t b = w->va >> pt_shift(lv);

			if (!dmar_cache_fill(c, dmar_cache_set(c, x->asid, b), dmar_cache_tag(x->asid, b),
					     w->eff[lv], w->seq_pwc[lv - DMAR_PWC_MIN_LEVEL], &x->rng))
				x->st[ST_FILL_DROP]++;
		}
	}
}

/* (out of line: the hit path's frame stays small) */
static __attribute__((noinline)) void walk_misses(struct xctx *x, const dmar_request *req,
						  dmar_result *res, const uint32_t *miss,
						  size_t nmiss)
{
	for (size_t g = 0; g < nmiss; g += WALK_GROUP) {
		const size_t m = nmiss - g < WALK_GROUP ? nmiss - g : WALK_GROUP;
		struct walk w[WALK_GROUP];
		int active;

		for (size_t j = 0; j < m; j++)
			walk_start(x, &w[j], req[miss[g + j]].iova, miss[g + j]);
		do {
			active = 0;
			for (size_t j = 0; j < m; j++)
				if (w[j].level)
					walk_prepare(x, &w[j]);
			for (size_t j = 0; j < m; j++) {
				if (!w[j].level)
					continue;
				walk_step(x, &w[j]);
				active |= w[j].level != 0;
			}
		} while (active);
		for (size_t j = 0; j < m; j++)
			walk_finish(x, &w[j], req[w[j].idx].access, &res[w[j].idx]);
	}
}

/* A new L0 bank @bank for the calling thread's slot @slot in @tlb, or NULL without memory.
 * (The slot's owner only: nobody else makes banks in its row.) */
static struct dmar_l0 *l0_bank_new(struct dmar_iotlb *tlb, int slot, unsigned bank)
{
	struct dmar_l0 *l0 = dmar__l0_new(tlb->l0[slot], &tlb->stats[slot].clock, tlb->l0_mode);
	int seen;

	if (!l0)
		return NULL;
	__atomic_store_n(&tlb->l0[slot][bank], l0, __ATOMIC_RELEASE);
	/* invalidators scan slots below l0_slots: raise it past ours */
	seen = __atomic_load_n(&tlb->l0_slots, __ATOMIC_RELAXED);
	while (seen <= slot && !__atomic_compare_exchange_n(&tlb->l0_slots, &seen, slot + 1, 0,
							     __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
		;
	return l0;
}

/* The calling (registered) thread's L0 bank in @tlb for @sp, bound to @key, or NULL (the
 * shared overflow slot, the L0 off, no memory, or the bank stands aside this batch). */
static inline __attribute__((always_inline)) struct dmar_l0 *
thread_l0(struct dmar_iotlb *tlb, const struct dmar_space *sp, uint64_t key, size_t n)
{
	const int slot = dmar__thread_slot();
	struct dmar_l0 *l0 = tlb->l0[slot][sp->l0bank];

	if (__builtin_expect(l0 == NULL, 0) &&
	    (slot == DMAR_MAX_THREADS - 1 || tlb->l0_mode == DMAR_L0_OFF ||
	     !(l0 = l0_bank_new(tlb, slot, sp->l0bank))))
		return NULL;
	if (__builtin_expect(__atomic_load_n(&l0->key, __ATOMIC_RELAXED) != key, 0))
		dmar__l0_reset(l0, key, DMAR_L0_ENTRIES);
	return dmar_l0_use(l0, n);
}

static dmar_status translate_many(dmar_space *sp, const dmar_request *req, dmar_result *res,
				  size_t n, size_t *nfaults)
{
	struct dmar_iotlb *tlb = sp->tlb;
	const struct dmar_probe_ops *ops = tlb->ops;
	uint32_t miss[BATCH_CHUNK];
	struct xctx x;
	int walked = 0;
	uint64_t asid, root, key, nmiss_total = 0;
	struct dmar_l0 *l0;
	uint32_t l0_hits0;

	dmar__rcu_read_lock();
	/* the L0 key first, then the ASID: a key is published after its ASID, so entries filled
	 * under this key never come from an ASID older than it (iotlb.c, set_asid) */
	key = __atomic_load_n(&sp->l0key, __ATOMIC_ACQUIRE);
	/* ASID before root: a new root is published before its ASID (dmar_space_set_root) */
	asid = __atomic_load_n(&sp->asid, __ATOMIC_ACQUIRE);
	root = __atomic_load_n(&sp->root, __ATOMIC_ACQUIRE);
	l0 = asid ? thread_l0(tlb, sp, key, n) : NULL;
	l0_hits0 = l0 ? l0->hits : 0;
	for (size_t base = 0; base < n; base += BATCH_CHUNK) {
		const size_t m = n - base < BATCH_CHUNK ? n - base : BATCH_CHUNK;
		size_t nmiss;

		if (l0) {
			nmiss = dmar_probe_l0(ops, &tlb->tlb, asid, req + base, res + base, m, miss, l0);
		} else if (asid) {
			nmiss = ops->probe_batch(&tlb->tlb, asid, req + base, res + base, m, miss);
		} else {
			for (size_t j = 0; j < m; j++)
				miss[j] = (uint32_t)j;
			nmiss = m;
		}
		if (!nmiss)
			continue;
		if (!walked) { /* the walk context, only when something missed */
			memset(&x, 0, sizeof(x));
			x.tlb = tlb;
			x.sp = sp;
			/* before any walk: a large-leaf fill checks it has not moved since */
			x.gen = __atomic_load_n(&sp->inval_gen, __ATOMIC_ACQUIRE);
			x.pm = sp->pm;
			x.fmt = &sp->fmt;
			x.rsvd = pt_rsvd_addr_mask(sp->fmt.pa_bits);
			/* the slot's victim-choice state (a fill's way when every way is taken) */
			x.rng = __atomic_load_n(&tlb->stats[dmar__thread_slot()].rng,
						__ATOMIC_RELAXED) | 1;
			x.asid = asid;
			x.root = root;
			walked = 1;
		}
		nmiss_total += nmiss;
		walk_misses(&x, req + base, res + base, miss, nmiss);
	}
	dmar__rcu_read_unlock();

	{
		const int slot = dmar__thread_slot();

		if (l0) {
			dmar__stat_add(tlb, slot, ST_L0_HIT, l0->hits - l0_hits0);
			dmar_l0_after(l0, n);
		}

		dmar__stat_add(tlb, slot, ST_XLATE, n);
		dmar__stat_add(tlb, slot, ST_HIT, n - nmiss_total);
		if (walked) {
			/* (relaxed: the shared overflow slot's threads race here, any value will do) */
			__atomic_store_n(&tlb->stats[slot].rng, x.rng, __ATOMIC_RELAXED);
			x.st[ST_MISS] = nmiss_total;
			dmar__iotlb_account(tlb, x.st);
		}
		if (nfaults)
			*nfaults = walked ? x.st[ST_FAULT] : 0;
	}
	return DMAR_OK;
}

dmar_status dmar__translate_space(dmar_space *sp, const dmar_request *req, dmar_result *res,
				  size_t n, size_t *nfaults)
{
	return translate_many(sp, req, res, n, nfaults);
}

dmar_status dmar__check_batch(const void *owner, const dmar_request *req,
			      const dmar_result *res, size_t n, size_t *nfaults)
{
	uint32_t acc = 0;
	size_t i = 0;

	if (nfaults)
		*nfaults = 0;
	if (!owner || (n && (!req || !res)))
		return DMAR_E_INVALID;
	for (; i + 4 <= n; i += 4) /* (four at a time: this loop is a fair part of a hit batch) */
		acc |= req[i].access | req[i + 1].access | req[i + 2].access | req[i + 3].access;
	for (; i < n; i++)
		acc |= req[i].access;
	if (acc & ~DMAR_ACCESS_ALL)
		return DMAR_E_INVALID;
	return dmar__thread_ok() ? DMAR_OK : DMAR_E_THREAD;
}

dmar_status dmar_translate_batch(dmar_space *sp, const dmar_request *req, dmar_result *res,
				 size_t n, size_t *nfaults)
{
	dmar_status st = dmar__check_batch(sp, req, res, n, nfaults);

	return st == DMAR_OK ? translate_many(sp, req, res, n, nfaults) : st;
}

/* The hit path of one request, without the batch machinery: 1 if answered (*l0hit: by the
 * thread's L0).  The L0 is looked up and filled as by a batch of one (cache.h); it reads
 * nothing an invalidation of other pages writes. */
static int translate_hit(dmar_space *sp, dmar_iova_t iova, unsigned access, dmar_result *res,
			 int *l0hit)
{
	struct dmar_iotlb *const tlb = sp->tlb;
	const struct dmar_cache *c = &tlb->tlb;
	const uint64_t key = __atomic_load_n(&sp->l0key, __ATOMIC_ACQUIRE); /* as translate_many */
	const uint64_t asid = __atomic_load_n(&sp->asid, __ATOMIC_ACQUIRE);
	const uint64_t vpn = iova >> 12;
	struct dmar_l0 *const l0 = asid ? thread_l0(tlb, sp, key, 1) : NULL;
	const uint64_t tag = dmar_cache_tag(asid, vpn);
	const uint64_t *way;
	int hit = 0;
	uint64_t d;

	*l0hit = 0;
	if (l0 && dmar_l0_lookup(l0->e, l0->mask, iova, access, res)) {
		l0->hits++;
		dmar_l0_after(l0, 1);
		*l0hit = 1;
		return 1;
	}
	if (!asid || !dmar_cache_iova_ok(iova))
		goto out;
	way = dmar_cache_lookup_way(c, dmar_cache_set(c, asid, vpn), tag, &d);
	if (!way)
		goto out;
	if (l0) {
		struct dmar_l0_fill f;

		dmar_l0_fill(l0, iova, way, tag, d, &f);
		dmar_l0_check(l0, &f, 1, c->ways);
	}
	if (!(access & ~d & DMAR_ACCESS_ALL)) {
		dmar_cache_hit_result(d, iova, res);
		hit = 1;
	}
out:
	if (l0)
		dmar_l0_after(l0, 1);
	return hit;
}

dmar_status dmar_translate(dmar_space *sp, dmar_iova_t iova, unsigned access, dmar_result *res)
{
	size_t nf;
	dmar_status st;
	int hit, l0hit;

	if (!sp || !res || (access & ~DMAR_ACCESS_ALL))
		return DMAR_E_INVALID;
	if (!dmar__thread_ok())
		return DMAR_E_THREAD;
	dmar__rcu_read_lock();
	hit = translate_hit(sp, iova, access, res, &l0hit);
	dmar__rcu_read_unlock();
	if (hit) {
		/* the slot's counters found once for the three */
		const int slot = dmar__thread_slot();
		uint64_t *const v = sp->tlb->stats[slot].v;

		dmar__slot_counter_add(&v[ST_XLATE], slot, 1);
		dmar__slot_counter_add(&v[ST_HIT], slot, 1);
		dmar__slot_counter_add(&v[ST_L0_HIT], slot, (unsigned)l0hit);
		return DMAR_OK;
	}
	/* a miss (or a request the IOTLB must not answer): the whole path, same as a batch */
	{
		const dmar_request r = { .iova = iova, .access = access, .pasid = DMAR_NO_PASID };

		st = translate_many(sp, &r, res, 1, &nf);
	}
	return st == DMAR_OK && nf ? DMAR_E_FAULT : st;
}
