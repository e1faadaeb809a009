/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef IOTLB_INTERNAL_H
#define IOTLB_INTERNAL_H

#include <pthread.h>

#include "fmt.h"
#include "probe.h"
#include "rcu.h"

/* Page-walk cache levels: entries at levels 2 (PDE), 3 (PDPTE) and 4 (PML4E). */
#define DMAR_PWC_MIN_LEVEL 2
#define DMAR_PWC_LEVELS 3

enum dmar_stat_id {
	ST_XLATE,
	ST_HIT,
	ST_MISS,
	ST_PWC_HIT,
	ST_PTE_READS,
	ST_FAULT,
	ST_FILL_DROP,
	ST_L0_HIT,
	ST_COUNT
};

/* One thread slot's counters and state in one IOTLB, alone on its cache lines: only the
 * slot's owner writes them (but the shared overflow slot's counters, with atomic adds). */
struct dmar_tstat {
	uint64_t v[ST_COUNT];
	uint64_t rng;   /* victim choice of its fills (cache.c), never 0 once used */
	uint32_t clock; /* windows its L0 banks ended (l0.c) */
} __attribute__((aligned(64)));

struct dmar_iotlb {
	/* read by every translation, written only at creation */
	struct dmar_cache tlb;
	struct dmar_cache pwc[DMAR_PWC_LEVELS]; /* [k - 2]: entries at level k */
	struct dmar_tstat *stats; /* DMAR_MAX_THREADS, indexed by the thread's slot */
	const struct dmar_probe_ops *ops; /* its probe variant (dmar_iotlb_config.simd) */
	int l0_mode;                      /* ::dmar_l0_mode, resolved (never DEFAULT) */
	/* The threads' L0 banks (cache.h): [slot][bank], each made on first use by the slot's
	 * owner (atomic pointers; the shared overflow slot has none) and kept for the slot's
	 * next threads, whose answers they stay exact for; freed with the IOTLB.  Invalidators
	 * scan the slots below l0_slots (atomic). */
	struct dmar_l0 *l0[DMAR_MAX_THREADS][DMAR_L0_BANKS];
	int l0_slots;
	/* written by writers: on lines of their own, so that an invalidation does not take
	 * the line above away from every translating core */
	pthread_mutex_t lock __attribute__((aligned(64))); /* ASIDs and the list of spaces */
	uint64_t next_asid;
	uint64_t asid_limit;     /* 2^asid_bits: ASIDs are 1 .. asid_limit - 1 */
	struct dmar_space *spaces;
	/* an ASID rollover under way: every space is uncached (ASID 0) until a grace period
	 * has passed, then rollover_finish() flushes and hands out fresh ASIDs (iotlb.c) */
	int rollover_pending;
	struct rcu_head rollover_rcu;
	struct dmar__after rollover_after;
	uint64_t invalidations;  /* atomic (writers only) */
	uint64_t rollovers;      /* atomic */
	uint64_t l0_keys;        /* atomic: the last L0 key handed out (keys are never 0) */
	unsigned l0_banks;       /* atomic: spaces created, to deal them round the banks */
};

/* A space's record of the leaves larger than 4 KiB it may cache translations of, by class:
 * class k holds leaves of 2^(13 + 9k) to 2^(21 + 9k) bytes, in regions of 2^(21 + 9k)
 * (2 MiB, 1 GiB, 512 GiB, 256 TiB, 2^57: AMD-Vi leaves go up to 2^51). */
#define DMAR_LARGE_CLASSES 5

static inline unsigned dmar_large_class(unsigned lg2)
{
	return (lg2 - 13) / 9;
}

static inline unsigned dmar_large_region_lg2(unsigned k)
{
	return 21 + 9 * k;
}

struct dmar_space {
	struct dmar_iotlb *tlb;
	const struct dmar_physmem *pm;
	struct pt_fmt pf; /* its table's format */
	uint64_t cache_bias; /* the addresses its IOTLB entries may hold (cache.h) */
	uint64_t root; /* atomic; published before a new asid */
	uint64_t asid; /* atomic; 0 while an ASID rollover is in progress: do not cache */
	/* atomic: the key the threads' L0 banks bind to (cache.h), a new one whenever the
	 * ASID changes, published after it */
	uint64_t l0key;
	unsigned l0bank; /* which of a thread's L0 banks (in its IOTLB) this space uses */
	uint32_t tag;    /* the embedder's group (dmar_space_set_tag); under tlb->lock */
	struct dmar_space *next, *prev;
	/* Large leaves (iotlb.c, dmar_space_invalidate_range): what invalidators write, on a
	 * line of its own, read by translations only when they walk.  inval_gen counts
	 * page-selective invalidations; large[k] has bit (region % 64) set when a translation
	 * from a leaf of class k (DMAR_LARGE_CLASSES) in that region may be cached (bits only
	 * are only set, and all cleared when an ASID rollover finishes). */
	uint64_t inval_gen __attribute__((aligned(64)));
	uint64_t large[DMAR_LARGE_CLASSES];
};

/* Add to one counter of the calling thread's slot (@slot = dmar__thread_slot()). */
static inline void dmar__stat_add(struct dmar_iotlb *tlb, int slot, int i, uint64_t v)
{
	dmar__slot_counter_add(&tlb->stats[slot].v[i], slot, v);
}

/* A refused request's result: nothing but the reason. */
static inline void dmar__result_fault(dmar_result *r, dmar_fault f)
{
	r->pa = 0;
	r->fault = (uint8_t)f;
	r->page_lg2 = 0;
	r->prot = 0;
	r->flags = 0;
}

/* The argument checks of a batch call: @owner (space or device) and the arrays present,
 * only known access bits, a registered thread.  Zeroes *nfaults (may be NULL). */
dmar_status dmar__check_batch(const void *owner, const dmar_request *req,
			      const dmar_result *res, size_t n, size_t *nfaults);

/* dmar_space_invalidate_range() for a caller whose range covers whole every leaf it changed
 * (a table writer's flush hook: pgtable.h says it flushes the whole span of a leaf it splits
 * or replaces): the widening to cached large leaves, and the count large-leaf fills check,
 * are not needed.  @size > 0 and the range does not wrap. */
void dmar__space_invalidate_leaves(struct dmar_space *sp, uint64_t iova, uint64_t size);

/* translate_batch without argument checks, for callers that checked (engine/device.c).
 * Nests inside a read section.  A batch of a few requests is first answered from the
 * thread's L0 as single translations are (translate.c). */
dmar_status dmar__translate_space(struct dmar_space *sp, const dmar_request *req,
				  dmar_result *res, size_t n, size_t *nfaults);

/* The calling (registered) thread's L0 bank @bank in @tlb, or NULL when it has none yet. */
static inline struct dmar_l0 *dmar__iotlb_thread_bank(const struct dmar_iotlb *tlb, unsigned bank)
{
	return __atomic_load_n(&tlb->l0[dmar__thread_slot()][bank], __ATOMIC_RELAXED);
}

/* Add a batch's local counters to the calling thread's slot. */
void dmar__iotlb_account(struct dmar_iotlb *tlb, const uint64_t *local);

#endif
