/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The IOTLB object: its caches, ASIDs, the spaces that hold them, invalidation, statistics. */
#include "rcu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iotlb_internal.h"
#include "fmt.h"
#include "range.h"
#include "walk.h"

/* Page-selective invalidation visits one set per page and per walk-cache block (and each
 * thread's L0 bank); beyond this many pages retiring the ASID (O(1), but the space refills
 * and every thread's bank empties) is cheaper.  64: a Linux guest in strict mode unmaps and
 * invalidates up to 32 pages per I/O (128 KiB), and at 16 each of those retired the ASID:
 * in a replayed trace of one (bench_replay, replay/guest) a sixth of its hits were lost
 * that way.  Visiting costs about 140 instructions a page. */
#define INVAL_PAGES_MAX 64

void dmar_iotlb_config_default(dmar_iotlb_config *cfg)
{
	if (!cfg)
		return;
	memset(cfg, 0, sizeof(*cfg)); /* every field a later version adds starts at its default */
	cfg->sets = 4096;
	cfg->ways = 8;
	cfg->pwc_sets = 256;
	cfg->asid_bits = DMAR_ASID_BITS;
	cfg->simd = DMAR_SIMD_DEFAULT;
	cfg->l0 = DMAR_L0_DEFAULT;
}

static void rollover_after_locks(struct dmar__after *a);

static int pow2(uint32_t x)
{
	return x && !(x & (x - 1));
}

/* The L0 mode ::dmar_l0_mode @want names (::DMAR_L0_DEFAULT: DMAR_L0 from the environment,
 * else adaptive), or -1 for an unknown value. */
static int l0_mode_select(int want)
{
	const char *m;

	if (want < 0 || want >= DMAR_L0_MODE_COUNT)
		return -1;
	if (want != DMAR_L0_DEFAULT)
		return want;
	m = getenv("DMAR_L0");
	if (!m || !*m || strcmp(m, "adaptive") == 0)
		return DMAR_L0_ADAPTIVE;
	if (strcmp(m, "always") == 0)
		return DMAR_L0_ALWAYS;
	if (strcmp(m, "off") == 0)
		return DMAR_L0_OFF;
	fprintf(stderr, "dmar: DMAR_L0=%s is not adaptive, always or off; using adaptive\n", m);
	return DMAR_L0_ADAPTIVE;
}

dmar_status dmar_iotlb_create(const dmar_iotlb_config *cfg, dmar_iotlb **out)
{
	const struct dmar_probe_ops *ops;
	struct dmar_iotlb *tlb;
	dmar_status st;
	int l0_mode;

	if (!cfg || !out || !pow2(cfg->sets) || cfg->sets > (1u << 20) ||
	    (cfg->ways != 4 && cfg->ways != 8) || !pow2(cfg->pwc_sets) ||
	    cfg->pwc_sets > (1u << 16) || cfg->asid_bits > DMAR_ASID_BITS)
		return DMAR_E_INVALID;
	l0_mode = l0_mode_select((int)cfg->l0);
	if (l0_mode < 0)
		return DMAR_E_INVALID;
	st = dmar__probe_select((int)cfg->simd, &ops);
	if (st != DMAR_OK)
		return st;
	if (posix_memalign((void **)&tlb, 64, sizeof(*tlb)) != 0)
		return DMAR_E_NOMEM;
	memset(tlb, 0, sizeof(*tlb));
	tlb->ops = ops;
	tlb->l0_mode = l0_mode;
	if (posix_memalign((void **)&tlb->stats, 64, DMAR_MAX_THREADS * sizeof(*tlb->stats)) != 0)
		goto nomem;
	memset(tlb->stats, 0, DMAR_MAX_THREADS * sizeof(*tlb->stats));
	if (dmar_cache_init(&tlb->tlb, cfg->sets, cfg->ways, ops->find_way) != 0)
		goto nomem;
	for (int k = 0; k < DMAR_PWC_LEVELS; k++)
		if (dmar_cache_init(&tlb->pwc[k], cfg->pwc_sets, 4, ops->find_way) != 0)
			goto nomem;
	pthread_mutex_init(&tlb->lock, NULL);
	tlb->next_asid = 1;
	tlb->asid_limit = 1ull << (cfg->asid_bits ? cfg->asid_bits : DMAR_ASID_BITS);
	tlb->rollover_after.fn = rollover_after_locks;
	*out = tlb;
	return DMAR_OK;
nomem:
	for (int k = 0; k < DMAR_PWC_LEVELS; k++)
		dmar_cache_fini(&tlb->pwc[k]);
	dmar_cache_fini(&tlb->tlb);
	free(tlb->stats);
	free(tlb);
	return DMAR_E_NOMEM;
}

dmar_status dmar_iotlb_destroy(dmar_iotlb *tlb)
{
	if (!tlb)
		return DMAR_OK;
	dmar__lock(&tlb->lock);
	if (tlb->spaces) {
		dmar__unlock(&tlb->lock);
		return DMAR_E_BUSY;
	}
	dmar__unlock(&tlb->lock);
	/* a rollover's completion may still be queued as an RCU callback, or be running in one
	 * (it clears rollover_pending before it releases the lock): wait for every callback */
	if (__atomic_load_n(&tlb->rollovers, __ATOMIC_RELAXED))
		dmar__rcu_barrier();
	pthread_mutex_destroy(&tlb->lock);
	for (int t = 0; t < DMAR_MAX_THREADS; t++)
		for (unsigned b = 0; b < DMAR_L0_BANKS; b++)
			dmar__l0_free(tlb->l0[t][b]);
	for (int k = 0; k < DMAR_PWC_LEVELS; k++)
		dmar_cache_fini(&tlb->pwc[k]);
	dmar_cache_fini(&tlb->tlb);
	free(tlb->stats);
	free(tlb);
	return DMAR_OK;
}

const char *dmar_iotlb_variant(const dmar_iotlb *tlb)
{
	return tlb ? tlb->ops->name : NULL;
}

dmar_l0_mode dmar_iotlb_l0_mode(const dmar_iotlb *tlb)
{
	return tlb ? (dmar_l0_mode)tlb->l0_mode : DMAR_L0_DEFAULT;
}

/* A key for @tlb's L0 banks (cache.h): never 0, never handed out twice. */
static uint64_t l0_key_new(struct dmar_iotlb *tlb)
{
	return __atomic_add_fetch(&tlb->l0_keys, 1, __ATOMIC_RELAXED);
}

/* Give @sp ASID @asid, then a new L0 key (in this order: a reader that sees the new key sees
 * the new ASID), so that what the L0 banks hold under the old one is dropped by the first
 * batch that sees the key.  (The record of large leaves the space caches is kept: clearing
 * it here would let an invalidation that reads it between the clear and the new ASID skip
 * the widening while old entries are still reachable; a stale bit only widens.) */
static void set_asid(struct dmar_space *sp, uint64_t asid)
{
	__atomic_store_n(&sp->asid, asid, __ATOMIC_RELEASE);
	__atomic_store_n(&sp->l0key, l0_key_new(sp->tlb), __ATOMIC_RELEASE);
}

static void flush_caches(struct dmar_iotlb *tlb)
{
	dmar_cache_inval_all(&tlb->tlb);
	for (int k = 0; k < DMAR_PWC_LEVELS; k++)
		dmar_cache_inval_all(&tlb->pwc[k]);
}

/* The ASID space wrapped.  Old ASIDs may be handed out again only once no entry and no
 * translation in flight can carry them, so a rollover has two halves:
 *  - begin (here, under the lock): every space goes uncached (ASID 0: translations walk and
 *    fill nothing), and the second half is arranged;
 *  - finish, after a grace period (every batch that read an old ASID has ended and its
 *    fills have landed): flush everything, hand the spaces fresh ASIDs.
 * Nobody waits for that grace period holding a lock (design decision 3): a registered
 * thread queues the finish as an RCU callback; an unregistered one (which cannot) waits
 * once it has released every library lock it holds.  Retirements while it is under way
 * find the space uncached already and hand out nothing. */
static void rollover_finish(struct dmar_iotlb *tlb)
{
	dmar__lock(&tlb->lock);
	flush_caches(tlb);
	tlb->next_asid = 1;
	for (struct dmar_space *sp = tlb->spaces; sp; sp = sp->next) {
		/* nothing is cached under any ASID now, nor being filled (every space has been
		 * uncached for a grace period): the large-leaf records start empty */
		for (unsigned k = 0; k < DMAR_LARGE_CLASSES; k++)
			__atomic_store_n(&sp->large[k], 0, __ATOMIC_RELAXED);
		if (tlb->next_asid < tlb->asid_limit) /* (more spaces than ASIDs: uncached) */
			set_asid(sp, tlb->next_asid++);
	}
	__atomic_store_n(&tlb->rollover_pending, 0, __ATOMIC_RELEASE);
	dmar__unlock(&tlb->lock);
}

static void rollover_rcu_cb(struct rcu_head *head)
{
	rollover_finish(caa_container_of(head, struct dmar_iotlb, rollover_rcu));
}

static void rollover_after_locks(struct dmar__after *a)
{
	dmar__rcu_synchronize();
	rollover_finish(caa_container_of(a, struct dmar_iotlb, rollover_after));
}

static void rollover_begin_locked(struct dmar_iotlb *tlb)
{
	/* uncached, and a new L0 key each: a bank entry a batch that read an old ASID fills
	 * during the rollover is bound to a key no space has any more */
	for (struct dmar_space *sp = tlb->spaces; sp; sp = sp->next)
		set_asid(sp, 0);
	__atomic_store_n(&tlb->rollover_pending, 1, __ATOMIC_RELEASE);
	__atomic_fetch_add(&tlb->rollovers, 1, __ATOMIC_RELAXED);
	if (dmar__thread_ok())
		dmar__rcu_call(&tlb->rollover_rcu, rollover_rcu_cb);
	else
		dmar__after_locks(&tlb->rollover_after);
}

/* A fresh ASID, or 0 (uncached) while a rollover is under way. */
static uint64_t asid_alloc_locked(struct dmar_iotlb *tlb)
{
	if (tlb->rollover_pending)
		return 0;
	if (tlb->next_asid >= tlb->asid_limit) {
		rollover_begin_locked(tlb);
		return 0;
	}
	return tlb->next_asid++;
}

/* Give @sp a fresh ASID: everything cached under the old one becomes unreachable. */
static void retire_asid(struct dmar_space *sp)
{
	struct dmar_iotlb *tlb = sp->tlb;

	dmar__lock(&tlb->lock);
	set_asid(sp, asid_alloc_locked(tlb));
	dmar__unlock(&tlb->lock);
}

/* One more invalidation call (dmar_iotlb_stats.invalidations). */
static void count_invalidation(struct dmar_iotlb *tlb)
{
	__atomic_fetch_add(&tlb->invalidations, 1, __ATOMIC_RELAXED);
}

void dmar_iotlb_invalidate_all(dmar_iotlb *tlb)
{
	if (!tlb)
		return;
	dmar__lock(&tlb->lock);
	for (struct dmar_space *sp = tlb->spaces; sp; sp = sp->next)
		set_asid(sp, asid_alloc_locked(tlb));
	dmar__unlock(&tlb->lock);
	__atomic_fetch_add(&tlb->invalidations, 1, __ATOMIC_RELAXED);
}

void dmar__iotlb_account(struct dmar_iotlb *tlb, const uint64_t *local)
{
	const int slot = dmar__thread_slot();

	for (int i = 0; i < ST_COUNT; i++)
		if (local[i])
			dmar__stat_add(tlb, slot, i, local[i]);
}

void dmar_iotlb_get_stats(const dmar_iotlb *tlb, dmar_iotlb_stats *st)
{
	uint64_t sum[ST_COUNT] = { 0 };

	if (!st)
		return;
	if (!tlb) {
		memset(st, 0, sizeof(*st));
		return;
	}
	for (int t = 0; t < DMAR_MAX_THREADS; t++)
		for (int i = 0; i < ST_COUNT; i++)
			sum[i] += __atomic_load_n(&tlb->stats[t].v[i], __ATOMIC_RELAXED);
	/* the requests the threads' L0 banks answered before any read-side section (single ones
	 * and small batches, translate.c) */
	for (int t = 0; t < __atomic_load_n(&tlb->l0_slots, __ATOMIC_ACQUIRE); t++)
		for (unsigned b = 0; b < DMAR_L0_BANKS; b++) {
			const struct dmar_l0 *l0 = __atomic_load_n(&tlb->l0[t][b], __ATOMIC_ACQUIRE);
			const uint64_t q = l0 ? __atomic_load_n(&l0->quick, __ATOMIC_RELAXED) : 0;

			sum[ST_XLATE] += q;
			sum[ST_HIT] += q;
			sum[ST_L0_HIT] += q;
		}
	memset(st, 0, sizeof(*st));
	st->translations = sum[ST_XLATE];
	st->hits = sum[ST_HIT];
	st->misses = sum[ST_MISS];
	st->pwc_hits = sum[ST_PWC_HIT];
	st->pte_reads = sum[ST_PTE_READS];
	st->faults = sum[ST_FAULT];
	st->fills_dropped = sum[ST_FILL_DROP];
	st->l0_hits = sum[ST_L0_HIT];
	st->invalidations = __atomic_load_n(&tlb->invalidations, __ATOMIC_RELAXED);
	st->asid_rollovers = __atomic_load_n(&tlb->rollovers, __ATOMIC_RELAXED);
}

dmar_status dmar_space_create(dmar_iotlb *tlb, const dmar_physmem *pm, dmar_pa_t root,
			      const dmar_pt_format *fmt, dmar_space **out)
{
	struct dmar_space *sp;

	struct pt_fmt pf;

	if (!tlb || !pm || !out || !pt_fmt_init(&pf, fmt))
		return DMAR_E_INVALID;
	sp = calloc(1, sizeof(*sp));
	if (!sp)
		return DMAR_E_NOMEM;
	sp->tlb = tlb;
	sp->pm = pm;
	sp->pf = pf;
	sp->cache_bias = pf.kind == DMAR_PT_X86_64 && !(pf.flags & DMAR_PT_IOVA) ? DMAR_CACHE_BIAS_CPU
										 : 0;
	sp->root = root;
	sp->l0key = l0_key_new(tlb);
	/* spaces dealt round a thread's banks, in creation order */
	sp->l0bank = __atomic_fetch_add(&tlb->l0_banks, 1, __ATOMIC_RELAXED) % DMAR_L0_BANKS;
	dmar__lock(&tlb->lock);
	sp->asid = asid_alloc_locked(tlb);
	sp->next = tlb->spaces;
	if (tlb->spaces)
		tlb->spaces->prev = sp;
	tlb->spaces = sp;
	dmar__unlock(&tlb->lock);
	*out = sp;
	return DMAR_OK;
}

void dmar_space_destroy(dmar_space *sp)
{
	struct dmar_iotlb *tlb;

	if (!sp)
		return;
	tlb = sp->tlb;
	/* Its entries stay until evicted: unreachable, since the ASID is not handed out again
	 * before a rollover, which flushes everything. */
	dmar__lock(&tlb->lock);
	if (sp->prev)
		sp->prev->next = sp->next;
	else
		tlb->spaces = sp->next;
	if (sp->next)
		sp->next->prev = sp->prev;
	dmar__unlock(&tlb->lock);
	free(sp);
}

dmar_status dmar_space_set_root(dmar_space *sp, dmar_pa_t root)
{
	if (!sp)
		return DMAR_E_INVALID;
	/* root first, then the new ASID (release): a reader that sees the new ASID (acquire)
	 * sees the new root, so nothing walked in the old table is cached under the new ASID */
	__atomic_store_n(&sp->root, root, __ATOMIC_RELEASE);
	retire_asid(sp);
	count_invalidation(sp->tlb);
	return DMAR_OK;
}

void dmar_space_invalidate(dmar_space *sp)
{
	if (sp) {
		retire_asid(sp);
		count_invalidation(sp->tlb);
	}
}

/* Whether the record @rec (bit r % 64 per region r of 2^@lg2 bytes) has a region of
 * [first, last]. */
static int large_record_meets(uint64_t rec, unsigned lg2, uint64_t first, uint64_t last)
{
	const uint64_t a = first >> lg2, b = last >> lg2;

	if (!rec)
		return 0;
	if (b - a >= 63)
		return 1;
	for (uint64_t r = a; r <= b; r++)
		if (rec >> (r & 63) & 1)
			return 1;
	return 0;
}

/* Widen [*first, *last] to the regions of the leaves larger than 4 KiB the space may have
 * cached translations of there (the record of translate.c's large_leaf_may_fill, read after
 * the count), the largest first: a region widened to may meet more of a smaller class. */
static void widen_to_large_leaves(struct dmar_space *sp, uint64_t *first, uint64_t *last)
{
	for (unsigned k = DMAR_LARGE_CLASSES; k-- > 0;) {
		const uint64_t rec = __atomic_load_n(&sp->large[k], __ATOMIC_SEQ_CST);
		const unsigned lg2 = dmar_large_region_lg2(k);
		const uint64_t m = (1ull << lg2) - 1;

		if (large_record_meets(rec, lg2, *first, *last)) {
			*first &= ~m;
			*last |= m;
		}
	}
}

static void invalidate_pages(struct dmar_space *sp, uint64_t iova, uint64_t last, int locked);

/* dmar_space_invalidate_range() of [iova, last], with tlb->lock held (@locked) or not. */
static void invalidate_range(struct dmar_space *sp, uint64_t iova, uint64_t last, int locked)
{
	/* a cached translation from a large leaf that meets the range goes too, whichever of its
	 * pages it was cached for (as INVLPG and VT-d page-selective invalidation drop it) */
	__atomic_fetch_add(&sp->inval_gen, 1, __ATOMIC_SEQ_CST);
	widen_to_large_leaves(sp, &iova, &last);
	invalidate_pages(sp, iova, last, locked);
}

dmar_status dmar_space_invalidate_range(dmar_space *sp, dmar_iova_t iova, uint64_t size)
{
	uint64_t last;

	if (!sp || !dmar__range_last(iova, size, &last))
		return DMAR_E_INVALID;
	invalidate_range(sp, iova, last, 0);
	count_invalidation(sp->tlb);
	return DMAR_OK;
}

dmar_status dmar_space_set_tag(dmar_space *sp, uint32_t tag)
{
	if (!sp)
		return DMAR_E_INVALID;
	dmar__lock(&sp->tlb->lock);
	sp->tag = tag;
	dmar__unlock(&sp->tlb->lock);
	return DMAR_OK;
}

uint32_t dmar_space_tag(const dmar_space *sp)
{
	uint32_t tag;

	if (!sp)
		return 0;
	dmar__lock(&sp->tlb->lock);
	tag = sp->tag;
	dmar__unlock(&sp->tlb->lock);
	return tag;
}

/* The spaces tagged @tag, each invalidated whole (@whole) or in [iova, last]; under the
 * lock, so that none is destroyed or retagged meanwhile.  Their number. */
static size_t invalidate_tagged(struct dmar_iotlb *tlb, uint32_t tag, int whole, uint64_t iova,
				uint64_t last)
{
	size_t n = 0;

	dmar__lock(&tlb->lock);
	for (struct dmar_space *sp = tlb->spaces; sp; sp = sp->next) {
		if (sp->tag != tag)
			continue;
		if (whole)
			set_asid(sp, asid_alloc_locked(tlb));
		else
			invalidate_range(sp, iova, last, 1);
		n++;
	}
	dmar__unlock(&tlb->lock);
	count_invalidation(tlb);
	return n;
}

dmar_status dmar_iotlb_invalidate_tag(dmar_iotlb *tlb, uint32_t tag, size_t *nspaces)
{
	size_t n;

	if (!tlb)
		return DMAR_E_INVALID;
	n = invalidate_tagged(tlb, tag, 1, 0, 0);
	if (nspaces)
		*nspaces = n;
	return DMAR_OK;
}

dmar_status dmar_iotlb_invalidate_tag_range(dmar_iotlb *tlb, uint32_t tag, dmar_iova_t iova,
					    uint64_t size, size_t *nspaces)
{
	uint64_t last;
	size_t n;

	if (!tlb || !dmar__range_last(iova, size, &last))
		return DMAR_E_INVALID;
	n = invalidate_tagged(tlb, tag, 0, iova, last);
	if (nspaces)
		*nspaces = n;
	return DMAR_OK;
}

void dmar__space_invalidate_leaves(struct dmar_space *sp, uint64_t iova, uint64_t size)
{
	if (size) {
		invalidate_pages(sp, iova, iova + (size - 1), 0);
		count_invalidation(sp->tlb);
	}
}

/* Invalidate the pages of [iova, last] (the large leaves that meet it already taken in),
 * with tlb->lock held (@locked: a large range retires the ASID under it) or not. */
static void invalidate_pages(struct dmar_space *sp, uint64_t iova, uint64_t last, int locked)
{
	struct dmar_iotlb *tlb = sp->tlb;
	uint64_t asid;

	if ((last >> 12) - (iova >> 12) >= INVAL_PAGES_MAX) {
		if (locked)
			set_asid(sp, asid_alloc_locked(tlb));
		else
			retire_asid(sp);
		return;
	}
	for (;;) {
		/* key before ASID: a key is published after its ASID (set_asid) */
		const uint64_t key = __atomic_load_n(&sp->l0key, __ATOMIC_ACQUIRE);
		int nslots;

		/* With ASID 0 a rollover is under way and will flush everything. */
		asid = __atomic_load_n(&sp->asid, __ATOMIC_ACQUIRE);
		if (asid) {
			/* top down: walk-cache levels from the highest, the IOTLB last (cache.h) */
			for (unsigned k = DMAR_PWC_MIN_LEVEL + DMAR_PWC_LEVELS; k-- > DMAR_PWC_MIN_LEVEL;) {
				struct dmar_cache *c = &tlb->pwc[k - DMAR_PWC_MIN_LEVEL];
				unsigned sh = pt_shift(k);

				for (uint64_t b = iova >> sh; b <= last >> sh; b++)
					dmar_cache_inval_tag(c, dmar_cache_set(c, asid, b),
							     dmar_cache_tag(asid, b));
			}
			for (uint64_t vpn = iova >> 12; vpn <= last >> 12; vpn++)
				dmar_cache_inval_tag(&tlb->tlb, dmar_cache_set(&tlb->tlb, asid, vpn),
						     dmar_cache_tag(asid, vpn));
		}
		/* then the threads' L0 banks bound to the space (cache.h).  No fence: the IOTLB
		 * clears above are seq_cst read-modify-writes and the scan's loads are seq_cst, so
		 * against the filler's seq_cst fence either side sees the other (with a way
		 * another filler evicted, its seq_cst CAS plays the clear's part) */
		nslots = __atomic_load_n(&tlb->l0_slots, __ATOMIC_SEQ_CST);
		for (int t = 0; t < nslots; t++) {
			struct dmar_l0 *l0 = __atomic_load_n(&tlb->l0[t][sp->l0bank],
							     __ATOMIC_SEQ_CST);

			if (l0)
				dmar_l0_shootdown(l0, key, iova >> 12, last >> 12);
		}
		/* an ASID retired meanwhile (another invalidator): what a reader filled under the
		 * new one may come from a walk that raced this change, so clear it there too */
		if (__atomic_load_n(&sp->asid, __ATOMIC_ACQUIRE) == asid &&
		    __atomic_load_n(&sp->l0key, __ATOMIC_ACQUIRE) == key)
			break;
	}
}
