/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* translate and translate_batch: the IOTLB probe (per-ISA, iotlb/probe_*.c), then the
 * misses walked in groups, one level per round for every walk of the group, the next
 * entry of each prefetched before any is read, so their memory latencies overlap.  A walk
 * starts from the deepest page-walk-cache entry it finds.  A single request (and a batch of
 * one) takes the thread's L0, then the IOTLB, then the same walk steps (translate_one), and
 * fills the caches the same way: what makes single and batched answers bit-identical (S30,
 * checked by S30_batch_equals_single and fuzz_batch). */
#include "rcu.h"

#include <stdlib.h>
#include <string.h>

#include <dmar/fault.h>

#include "iotlb_internal.h"
#include "physmem_internal.h"
#include "fmt.h"
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
	uint8_t read;      /* levels whose entries this walk read from memory (bit per level) */
	uint8_t tries;     /* restarts after an accessed/dirty update raced a writer */
	uint8_t access;
	dmar_fault fault;
	uint64_t va, table;
	uint64_t perm; /* access bits every level so far granted */
	uint64_t leaf; /* the leaf's normalized word (fmt.h), perm folded in */
	unsigned leaf_level;
	const uint64_t *next; /* host address of the next entry, found and prefetched */
	const struct pm_range *range; /* the memory it lies in */
	uint64_t fpte;   /* the last entry read (what dmar_fault_info reports) */
	uint8_t flevel;  /* the level a fault stopped the walk at */
	uint64_t seq_tlb, seq_pwc[DMAR_PWC_LEVELS];
	uint64_t eff[PT_MAX_LEVELS + 1]; /* normalized entries read, perm folded in, by level
					    (what the page-walk cache keeps) */
};

struct xctx {
	struct dmar_iotlb *tlb;
	struct dmar_space *sp;
	uint64_t gen; /* sp->inval_gen before any walk (large-leaf fills, iotlb.c) */
	const struct dmar_physmem *pm;
	const struct pt_fmt *pf;
	uint64_t root, asid;
	const struct pm_range *hint;
	uint64_t st[ST_COUNT]; /* this batch's walk counters */
	uint64_t rng;
	/* dmar_translate_detail(): where its one request's walk stopped; NULL otherwise (the
	 * walks then start from the page-walk cache) */
	dmar_fault_info *info;
};

static inline __attribute__((always_inline)) void
walk_start(struct xctx *x, struct walk *w, uint64_t va, uint32_t idx, unsigned access)
{
	/* every field a walk reads; eff[] and the sequence numbers are written before use */
	w->idx = idx;
	w->level = 0;
	w->read = 0;
	w->tries = 0;
	w->access = (uint8_t)access;
	w->va = va;
	w->table = 0;
	w->perm = PTN_ACCESS;
	w->leaf = 0;
	w->leaf_level = 0;
	w->next = NULL;
	w->fpte = 0;
	w->flevel = x->pf->levels;
	w->fault = pt_check_input(va, x->pf);
	if (w->fault != DMAR_FAULT_NONE)
		return;
	w->level = x->pf->levels;
	w->table = x->root & PTN_ADDR;
	/* a root beyond the width (bits pa_bits..63), as dmar_walk() */
	if (__builtin_expect(pt_root_outside(x->root, x->pf), 0)) {
		w->fault = DMAR_FAULT_TABLE_ADDR;
		w->level = 0;
		return;
	}
	if (x->asid && !x->info) {
		struct dmar_iotlb *tlb = x->tlb;

		/* sequence numbers first: whatever a fill is computed from (walk-cache entries
		 * included) is newer than its sequence number, so a fill is dropped iff an
		 * invalidation may have raced it.  Going up, a level's number is read before the
		 * lookups above it, whose entry the walk below it starts from; the levels above
		 * a hit are neither read nor filled, so their numbers (lines of their own) are
		 * never needed. */
		w->seq_tlb = dmar_cache_seq(&tlb->tlb, dmar_cache_set(&tlb->tlb, x->asid, va >> 12));
		for (unsigned k = 0; k < DMAR_PWC_LEVELS; k++) {
			const unsigned lv = k + DMAR_PWC_MIN_LEVEL;
			const struct dmar_cache *c = &tlb->pwc[k];
			const uint64_t b = va >> pt_shift(lv);
			const uint32_t set = dmar_cache_set(c, x->asid, b);
			uint64_t e;

			if (lv > x->pf->levels)
				break;
			w->seq_pwc[k] = dmar_cache_seq(c, set);
			if (!dmar_cache_lookup(c, set, dmar_cache_tag(x->asid, b), &e))
				continue;
			/* a write through a clean leaf walks to it, to set its dirty bit */
			if ((e & PTN_LEAF) && !(e & PTN_DIRTY) && (access & DMAR_ACCESS_WRITE))
				continue;
			x->st[ST_PWC_HIT]++;
			w->perm = e & PTN_ACCESS;
			if (e & PTN_LEAF) {
				w->leaf = e;
				w->leaf_level = lv;
				w->level = 0;
			} else {
				w->fault = ptn_check_skip(e, lv, va);
				w->table = e & PTN_ADDR;
				w->level = w->fault == DMAR_FAULT_NONE ? (uint8_t)ptn_sz(e) : 0;
			}
			return;
		}
	}
}

/* Find the next entry's host address and prefetch it. */
static inline __attribute__((always_inline)) void walk_prepare(struct xctx *x, struct walk *w)
{
	const dmar_pa_t at = w->table + 8u * pt_index(w->va, w->level);
	const struct pm_range *r = dmar__pm_find(x->pm, at, 8, x->hint);

	if (!r) {
		w->fault = DMAR_FAULT_TABLE_ADDR;
		w->flevel = w->level;
		w->level = 0;
		return;
	}
	x->hint = r;
	w->range = r;
	w->next = (const uint64_t *)(r->host + (at - r->base));
	__builtin_prefetch(w->next);
}

/* ::DMAR_PT_AD: set @need on the entry just read (@pte).  1 when the walk goes on; 0 when it
 * was restarted (the entry changed meanwhile) or stopped with ::DMAR_FAULT_AD. */
static int walk_ad(struct xctx *x, struct walk *w, uint64_t pte, uint64_t need)
{
	const int ad = pt_ad_set(w->range, w->next, pte, need);

	if (ad == 0)
		return 1;
	if (ad < 0 || ++w->tries >= PT_AD_TRIES) {
		w->fault = DMAR_FAULT_AD;
		w->flevel = w->level;
		w->level = 0;
	} else {
		const unsigned tries = w->tries;

		walk_start(x, w, w->va, w->idx, w->access);
		w->tries = (uint8_t)tries;
	}
	return 0;
}

/* Read the prepared entry: one level down, a leaf, or a fault. */
static inline __attribute__((always_inline)) void walk_step(struct xctx *x, struct walk *w)
{
	const struct pt_fmt *pf = x->pf;
	const unsigned level = w->level;
	const uint64_t pte = pte_load(w->next);
	uint64_t n, eff;

	x->st[ST_PTE_READS]++;
	w->fpte = pte;
	w->fault = pt_decode(pf, pte, level, w->va, &n);
	if (w->fault != DMAR_FAULT_NONE) {
		w->flevel = (uint8_t)level;
		w->level = 0;
		return;
	}
	w->perm &= n;
	eff = (n & ~PTN_ACCESS) | w->perm;
	if (n & PTN_LEAF) {
		/* accessed (and on a write dirty) once the access is known to be allowed */
		if (pf->a_bit && pt_check_access(w->access, w->perm) == DMAR_FAULT_NONE) {
			const uint64_t need =
				(pf->a_bit | ((w->access & DMAR_ACCESS_WRITE) ? pf->d_bit : 0)) & ~pte;

			if (need && !walk_ad(x, w, pte, need))
				return;
			if (need & pf->d_bit)
				eff |= PTN_DIRTY;
		}
		w->leaf = eff;
		w->leaf_level = level;
		w->level = 0;
	} else {
		if (pf->a_bit && !(pte & pf->a_bit)) {
			if (!walk_ad(x, w, pte, pf->a_bit))
				return;
			w->fpte = pte | pf->a_bit; /* (as it is now, as the walker reports it) */
		}
		w->table = pt_next_table(pf->kind, pte, n);
		w->level = (uint8_t)pt_next_level(pf->kind, n, level);
	}
	w->eff[level] = eff;
	w->read |= (uint8_t)(1u << level);
}

/* Before a translation from a leaf larger than 4 KiB is cached: record that the space caches
 * one in that region, then check that no page-selective invalidation began since the batch's
 * walks did.  With the invalidator's side (dmar_space_invalidate_range: count, then read the
 * record) either the invalidation sees the record and clears the whole leaf's pages, or this
 * sees the count move and caches nothing (Dekker: seq_cst on both sides). */
static int large_leaf_may_fill(struct xctx *x, uint64_t va, unsigned lg2)
{
	const unsigned k = dmar_large_class(lg2);
	uint64_t *const rec = &x->sp->large[k];
	const uint64_t bit = 1ull << ((va >> dmar_large_region_lg2(k)) & 63);

	if (!(__atomic_load_n(rec, __ATOMIC_RELAXED) & bit))
		__atomic_fetch_or(rec, bit, __ATOMIC_SEQ_CST);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return __atomic_load_n(&x->sp->inval_gen, __ATOMIC_RELAXED) == x->gen;
}

/* Result and fills of a finished walk. */
static inline __attribute__((always_inline)) void
walk_finish(struct xctx *x, struct walk *w, dmar_result *res)
{
	uint64_t mask, frame, allow;
	unsigned lg2;

	if (w->fault == DMAR_FAULT_NONE) {
		w->fault = pt_check_access(w->access, w->perm);
		w->flevel = (uint8_t)w->leaf_level;
	}
	if (w->fault != DMAR_FAULT_NONE) {
		dmar__result_fault(res, w->fault);
		x->st[ST_FAULT]++;
		if (x->info) {
			x->info->entry = w->fpte;
			x->info->level = w->flevel;
		}
		return;
	}
	lg2 = ptn_sz(w->leaf);
	mask = (1ull << lg2) - 1;
	frame = (w->leaf & PTN_ADDR) | (w->va & mask & ~0xfffull);
	res->pa = frame | (w->va & 0xfff);
	res->fault = DMAR_FAULT_NONE;
	res->page_lg2 = (uint8_t)lg2;
	res->prot = (uint16_t)(w->leaf & PTN_PROT);
	res->flags = 0;
	/* (dmar_translate_detail's walk from memory fills nothing: it read no sequence
	 * numbers, walk_start) */
	if (!x->asid || x->info)
		return;
	if (lg2 > DMAR_PAGE_4K_LG2 && !large_leaf_may_fill(x, w->va, lg2)) {
		x->st[ST_FILL_DROP]++;
		return;
	}
	/* a clean leaf's write goes to the walker, which sets its dirty bit */
	allow = w->leaf & PTN_ACCESS & ((w->leaf & PTN_DIRTY) ? ~0ull : ~(uint64_t)DMAR_ACCESS_WRITE);
	{
		struct dmar_iotlb *tlb = x->tlb;
		const uint64_t vpn = w->va >> 12;
		const uint64_t data = frame | allow | (w->leaf & PTN_PROT) << DMAR_DATA_PROT_SHIFT |
				      (uint64_t)lg2 << DMAR_DATA_LG2_SHIFT;

		/* (an address outside the space's window would alias one inside: cache.h) */
		if (dmar_cache_iova_ok(w->va, x->sp->cache_bias) &&
		    !dmar_cache_fill(&tlb->tlb, dmar_cache_set(&tlb->tlb, x->asid, vpn),
				     dmar_cache_tag(x->asid, vpn), data, w->seq_tlb, &x->rng))
			x->st[ST_FILL_DROP]++;
		for (unsigned lv = DMAR_PWC_MIN_LEVEL; lv < DMAR_PWC_MIN_LEVEL + DMAR_PWC_LEVELS; lv++) {
			struct dmar_cache *c = &tlb->pwc[lv - DMAR_PWC_MIN_LEVEL];
			const uint64_t b = w->va >> pt_shift(lv);

			if (!(w->read & (1u << lv)))
				continue;
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
			walk_start(x, &w[j], req[miss[g + j]].iova, miss[g + j],
				   req[miss[g + j]].access);
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
			walk_finish(x, &w[j], &res[w[j].idx]);
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
		dmar__l0_reset(l0, key, DMAR_L0_ENTRIES, 0);
	return dmar_l0_use(l0, n);
}

/* The walk context of @sp for walks after the ASID @asid and root @root were read (in that
 * order), made just before the first walk: a large-leaf fill checks that the space's
 * invalidation count has not moved since; the slot's victim-choice state picks a fill's way
 * when every way is taken. */
static inline __attribute__((always_inline)) void
walk_ctx_init(struct xctx *x, dmar_space *sp, uint64_t asid, uint64_t root, int slot,
	      dmar_fault_info *info)
{
	memset(x->st, 0, sizeof(x->st));
	x->tlb = sp->tlb;
	x->sp = sp;
	x->gen = __atomic_load_n(&sp->inval_gen, __ATOMIC_ACQUIRE);
	x->pm = sp->pm;
	x->pf = &sp->pf;
	x->asid = asid;
	x->root = root;
	x->hint = NULL;
	x->rng = __atomic_load_n(&sp->tlb->stats[slot].rng, __ATOMIC_RELAXED) | 1;
	x->info = info;
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
			nmiss = dmar_probe_l0(ops, &tlb->tlb, asid, sp->cache_bias, req + base,
					      res + base, m, miss, l0);
		} else if (asid) {
			nmiss = ops->probe_batch(&tlb->tlb, asid, sp->cache_bias, req + base, res + base,
						 m, miss);
		} else {
			for (size_t j = 0; j < m; j++)
				miss[j] = (uint32_t)j;
			nmiss = m;
		}
		if (!nmiss)
			continue;
		if (!walked) { /* the walk context, only when something missed */
			walk_ctx_init(&x, sp, asid, root, dmar__thread_slot(), NULL);
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

static inline __attribute__((always_inline)) dmar_status
translate_one(dmar_space *sp, dmar_iova_t iova, unsigned access, dmar_result *res);

dmar_status dmar_translate_batch(dmar_space *sp, const dmar_request *req, dmar_result *res,
				 size_t n, size_t *nfaults)
{
	dmar_status st;

	if (n == 1) { /* what dmar_translate() does, without the batch machinery around it */
		if (nfaults)
			*nfaults = 0;
		if (!sp || !req || !res || (req->access & ~DMAR_ACCESS_ALL))
			return DMAR_E_INVALID;
		st = translate_one(sp, req->iova, req->access, res);
		if (st == DMAR_E_FAULT) {
			if (nfaults)
				*nfaults = 1;
			return DMAR_OK;
		}
		return st;
	}
	st = dmar__check_batch(sp, req, res, n, nfaults);
	return st == DMAR_OK ? dmar__translate_space(sp, req, res, n, nfaults) : st;
}

/* The IOTLB's answer to one request translate_quick() did not answer, without the batch
 * machinery: 1 if answered.  The thread's bank is bound or made, or stands aside, as for a
 * batch of one (thread_l0), and an IOTLB hit fills it; it is not looked up again: after
 * translate_quick() missed it cannot hold the page (only this thread fills it; a rebind
 * empties it).  Reads nothing an invalidation of other pages writes. */
static int translate_hit(dmar_space *sp, dmar_iova_t iova, unsigned access, dmar_result *res)
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

	if (!asid || !dmar_cache_iova_ok(iova, sp->cache_bias))
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

/* A request translate_hit() did not answer: its walk alone, without a batch's second probe
 * and machinery (what a device model's single translations meet on every new page).  The
 * same answer and fills as translate_many() gives a batch of one; the L0 is not consulted
 * again (translate_quick() just did) and walks do not fill it.  With @info
 * (dmar_translate_detail's second look at a request already refused and counted) the walk
 * reads every entry from memory, records where it stopped, and is not counted.  Inside a
 * read-side section: the caller's, which looked the request up. */
static __attribute__((noinline)) dmar_status translate_miss(dmar_space *sp, dmar_iova_t iova,
							   unsigned access, dmar_result *res,
							   dmar_fault_info *info)
{
	const int slot = dmar__thread_slot();
	struct walk w;
	struct xctx x;
	uint64_t asid, root;

	/* (inside the caller's read-side section) in translate_many()'s order: the ASID before
	 * the root */
	asid = __atomic_load_n(&sp->asid, __ATOMIC_ACQUIRE);
	root = __atomic_load_n(&sp->root, __ATOMIC_ACQUIRE);
	walk_ctx_init(&x, sp, asid, root, slot, info);
	walk_start(&x, &w, iova, 0, access);
	while (w.level) {
		walk_prepare(&x, &w);
		if (w.level)
			walk_step(&x, &w);
	}
	walk_finish(&x, &w, res);
	if (!info) {
		__atomic_store_n(&sp->tlb->stats[slot].rng, x.rng, __ATOMIC_RELAXED);
		x.st[ST_XLATE] = 1;
		x.st[ST_MISS] = 1;
		dmar__iotlb_account(sp->tlb, x.st);
	}
	return res->fault == DMAR_FAULT_NONE ? DMAR_OK : DMAR_E_FAULT;
}

/* The quickest answer to requests at the front of @req[0 .. n): the calling thread's L0
 * bank, found once, when it is bound to the space's current key and does not stand aside,
 * answers each request whose page it holds with the access allowed, until one it does not;
 * returns how many it answered (counted in the bank, l0.h), the rest left untouched.
 * It needs no read-side section: it reads the space (the caller's to keep), the IOTLB's
 * bank table and the bank (they live as long as the IOTLB) and nothing freed after a grace
 * period.  Its answers are ones the space gave at the moment its key was read: the bank
 * holds only translations of this space copied under that key (keys are never reused), and
 * every page-selective invalidation that returned before that moment cleared its pages from
 * every bank bound to the key (l0.h; a flush of the space changes the key).  The ASID is
 * not read: while an ASID rollover is under way the key stays and invalidations keep
 * clearing the banks bound to it (iotlb.c, invalidate_pages). */
static inline __attribute__((always_inline)) size_t
translate_quick_many(dmar_space *sp, const dmar_request *req, dmar_result *res, size_t n)
{
	const uint64_t key = __atomic_load_n(&sp->l0key, __ATOMIC_ACQUIRE);
	struct dmar_l0 *const l0 =
		__atomic_load_n(&sp->tlb->l0[dmar__thread_slot()][sp->l0bank], __ATOMIC_RELAXED);
	const struct dmar_l0_entry *e0;
	uint32_t mask, fold;
	size_t k = 0;

	if (__builtin_expect(!l0, 0) || __atomic_load_n(&l0->key, __ATOMIC_RELAXED) != key ||
	    l0->skip)
		return 0;
	e0 = l0->e;
	mask = l0->mask;
	fold = l0->fold;
	while (k < n && dmar_l0_lookup(e0, mask, fold, req[k].iova, req[k].access, &res[k]))
		k++;
	if (k) {
		__atomic_store_n(&l0->quick, l0->quick + k, __ATOMIC_RELAXED);
		dmar_l0_after(l0, k);
	}
	return k;
}

/* The same for one request: 1 if answered. */
static inline __attribute__((always_inline)) int
translate_quick(dmar_space *sp, dmar_iova_t iova, unsigned access, dmar_result *res)
{
	const dmar_request q = { .iova = iova, .access = access };

	return (int)translate_quick_many(sp, &q, res, 1);
}

/* Batches (dmar_translate_batch, and the device path's few requests at a time: a device
 * model's descriptor and its data pages, two to eight a call): up to DMAR_QUICK_BATCH, those
 * at the front that the thread's L0 answers are answered as translate_quick() answers one,
 * and only the rest go through the batch machinery. */
#define DMAR_QUICK_BATCH 16

dmar_status dmar__translate_space(dmar_space *sp, const dmar_request *req, dmar_result *res,
				  size_t n, size_t *nfaults)
{
	if (n <= DMAR_QUICK_BATCH) {
		const size_t k = translate_quick_many(sp, req, res, n);

		if (k == n) {
			if (nfaults)
				*nfaults = 0;
			return DMAR_OK;
		}
		req += k;
		res += k;
		n -= k;
	}
	return translate_many(sp, req, res, n, nfaults);
}

/* A request translate_quick() did not answer: the IOTLB under a read-side section, then the
 * walk.  Out of line, so that the quick answer saves no registers. */
static __attribute__((noinline)) dmar_status translate_cached(dmar_space *sp, dmar_iova_t iova,
							     unsigned access, dmar_result *res)
{
	dmar_status st;

	dmar__rcu_read_lock();
	if (!translate_hit(sp, iova, access, res)) {
		/* a miss (or a request the IOTLB must not answer): walked in the same section */
		st = translate_miss(sp, iova, access, res, NULL);
		dmar__rcu_read_unlock();
		return st;
	}
	dmar__rcu_read_unlock();
	{
		/* the slot's counters found once for the two */
		const int slot = dmar__thread_slot();
		uint64_t *const v = sp->tlb->stats[slot].v;

		dmar__slot_counter_add(&v[ST_XLATE], slot, 1);
		dmar__slot_counter_add(&v[ST_HIT], slot, 1);
	}
	return DMAR_OK;
}

/* dmar_translate() after its argument checks. */
static inline __attribute__((always_inline)) dmar_status
translate_one(dmar_space *sp, dmar_iova_t iova, unsigned access, dmar_result *res)
{
	if (!dmar__thread_ok())
		return DMAR_E_THREAD;
	if (translate_quick(sp, iova, access, res))
		return DMAR_OK;
	return translate_cached(sp, iova, access, res);
}

dmar_status dmar_translate(dmar_space *sp, dmar_iova_t iova, unsigned access, dmar_result *res)
{
	if (!sp || !res || (access & ~DMAR_ACCESS_ALL))
		return DMAR_E_INVALID;
	return translate_one(sp, iova, access, res);
}

dmar_status dmar_translate_detail(dmar_space *sp, dmar_iova_t iova, unsigned access,
				  dmar_result *res, dmar_fault_info *info)
{
	dmar_status st;

	if (!sp || !res || !info || (access & ~DMAR_ACCESS_ALL))
		return DMAR_E_INVALID;
	if (!dmar__thread_ok())
		return DMAR_E_THREAD; /* (before @info is touched: nothing changes) */
	memset(info, 0, sizeof(*info));
	st = translate_one(sp, iova, access, res);
	/* refused: once more from the root, every entry from memory, to say where */
	if (st == DMAR_E_FAULT) {
		dmar__rcu_read_lock();
		st = translate_miss(sp, iova, access, res, info);
		dmar__rcu_read_unlock();
	}
	return st;
}
