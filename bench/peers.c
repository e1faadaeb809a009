/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The peer caches of bench_iotlb (see peers.h).  Both walk with the public dmar_walk() inside
 * a liburcu memb read section (QEMU's own walk reads guest memory through
 * address_space_rw(), which holds the RCU read lock too); with dmar built for memb this is
 * the same RCU domain that defers dmar's table frees, so a walk never reads a freed table. */
#ifndef _LGPL_SOURCE
#define _LGPL_SOURCE /* liburcu's inline read-side fast paths, as dmar uses them */
#endif
#include <urcu/urcu-memb.h>
#include <urcu/rculfhash.h>

#define XXH_INLINE_ALL /* xxHash's documented fast path for short keys: inline XXH3 */
#include <xxhash.h>

#include <glib.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <dmar/thread.h>

#include "peers.h"

struct peer {
	peer_kind kind;
};

const char *peer_kind_name(peer_kind kind)
{
	switch (kind) {
	case PEER_QEMU:
		return "qemu";
	case PEER_RCULFHASH:
		return "rculfhash";
	default:
		return "?";
	}
}

/* Result of a cached or walked translation: the 4 KiB frame (page bits of the leaf above
 * 12 included), the leaf size and the effective protection. */
static void fill_result(dmar_result *out, uint64_t frame4k, dmar_iova_t iova, unsigned lg2,
			unsigned prot, uint32_t flags)
{
	out->pa = frame4k | (iova & 0xfffu);
	out->fault = DMAR_FAULT_NONE;
	out->page_lg2 = (uint8_t)lg2;
	out->prot = (uint16_t)prot;
	out->flags = flags;
}

static dmar_status fault_result(dmar_result *out, dmar_fault f)
{
	out->pa = 0;
	out->fault = (uint8_t)f;
	out->page_lg2 = 0;
	out->prot = 0;
	out->flags = 0;
	return DMAR_E_FAULT;
}

/* What a cached entry's protection refuses to @access, in the walker's order. */
static dmar_fault prot_check(unsigned access, unsigned prot)
{
	if ((access & DMAR_ACCESS_WRITE) && !(prot & DMAR_PROT_WRITE))
		return DMAR_FAULT_WRITE;
	if ((access & DMAR_ACCESS_USER) && !(prot & DMAR_PROT_USER))
		return DMAR_FAULT_USER;
	if ((access & DMAR_ACCESS_EXEC) && !(prot & DMAR_PROT_EXEC))
		return DMAR_FAULT_EXEC;
	return DMAR_FAULT_NONE;
}

/* The walk both peers do on a miss. */
static dmar_status peer_walk(const dmar_physmem *pm, dmar_pa_t root, const dmar_pt_format *fmt,
			     dmar_iova_t iova, unsigned access, dmar_walk_result *wr)
{
	dmar_status st;

	urcu_memb_read_lock();
	st = dmar_walk(pm, root, fmt, iova, access, wr);
	urcu_memb_read_unlock();
	return st;
}

/* ============================================================================================
 * QEMU-style: hw/i386/intel_iommu.c's IOTLB, transcribed (legacy mode, second-level tables)
 * ========================================================================================= */

#define VTD_PAGE_SHIFT_4K 12
#define VTD_LEVEL_BITS 9
#define VTD_PT_LEVEL 1
#define VTD_PML4_LEVEL 4
#define VTD_IOTLB_SID_SHIFT 26
#define VTD_IOTLB_LVL_SHIFT 42
#define VTD_IOTLB_PASID_SHIFT 44
#define VTD_MAMV 18ULL /* largest address mask a page-selective invalidation may carry */
#define PCI_NO_PASID 0xffffffffu

struct vtd_iotlb_key {
	uint64_t gfn;
	uint32_t pasid;
	uint32_t level;
	uint16_t sid;
};

typedef struct VTDIOTLBEntry {
	uint64_t gfn;
	uint16_t domain_id;
	uint32_t pasid;
	uint64_t pte;
	uint64_t mask;
	uint16_t prot; /* QEMU: uint8_t access_flags (R/W); dmar results carry all of ::dmar_prot */
} VTDIOTLBEntry;

typedef struct VTDIOTLBPageInvInfo {
	uint16_t domain_id;
	uint32_t pasid;
	uint64_t addr;
	uint64_t mask;
} VTDIOTLBPageInvInfo;

struct qemu_peer {
	struct peer base;
	pthread_mutex_t iommu_lock; /* QEMU: IntelIOMMUState.iommu_lock, a QemuMutex */
	GHashTable *iotlb;
	guint max_size; /* QEMU: VTD_IOTLB_MAX_SIZE (1024); here the capacity under test */
};

static gboolean vtd_iotlb_equal(gconstpointer v1, gconstpointer v2)
{
	const struct vtd_iotlb_key *key1 = v1;
	const struct vtd_iotlb_key *key2 = v2;

	return key1->sid == key2->sid && key1->pasid == key2->pasid &&
	       key1->level == key2->level && key1->gfn == key2->gfn;
}

static guint vtd_iotlb_hash(gconstpointer v)
{
	const struct vtd_iotlb_key *key = v;
	uint64_t hash64 = key->gfn | ((uint64_t)(key->sid) << VTD_IOTLB_SID_SHIFT) |
			  (uint64_t)(key->level - 1) << VTD_IOTLB_LVL_SHIFT |
			  (uint64_t)(key->pasid) << VTD_IOTLB_PASID_SHIFT;

	return (guint)((hash64 >> 32) ^ (hash64 & 0xffffffffU));
}

static gboolean vtd_hash_remove_by_domain(gpointer key, gpointer value, gpointer user_data)
{
	VTDIOTLBEntry *entry = (VTDIOTLBEntry *)value;
	uint16_t domain_id = *(uint16_t *)user_data;

	(void)key;
	return entry->domain_id == domain_id;
}

static inline uint32_t vtd_pt_level_shift(uint32_t level)
{
	return VTD_PAGE_SHIFT_4K + (level - 1) * VTD_LEVEL_BITS;
}

static inline uint64_t vtd_pt_level_page_mask(uint32_t level)
{
	return ~((1ULL << vtd_pt_level_shift(level)) - 1);
}

static gboolean vtd_hash_remove_by_page(gpointer key, gpointer value, gpointer user_data)
{
	VTDIOTLBEntry *entry = (VTDIOTLBEntry *)value;
	VTDIOTLBPageInvInfo *info = (VTDIOTLBPageInvInfo *)user_data;
	uint64_t gfn = (info->addr >> VTD_PAGE_SHIFT_4K) & info->mask;
	uint64_t gfn_tlb = (info->addr & entry->mask) >> VTD_PAGE_SHIFT_4K;

	(void)key;
	if (entry->domain_id != info->domain_id)
		return false;
	return (entry->gfn & info->mask) == gfn || entry->gfn == gfn_tlb;
}

/* Must be called with IOMMU lock held. */
static void vtd_reset_iotlb_locked(struct qemu_peer *s)
{
	g_hash_table_remove_all(s->iotlb);
}

static uint64_t vtd_get_iotlb_gfn(uint64_t addr, uint32_t level)
{
	return (addr & vtd_pt_level_page_mask(level)) >> VTD_PAGE_SHIFT_4K;
}

/* Must be called with IOMMU lock held */
static VTDIOTLBEntry *vtd_lookup_iotlb(struct qemu_peer *s, uint16_t source_id, uint32_t pasid,
				       uint64_t addr)
{
	struct vtd_iotlb_key key;
	VTDIOTLBEntry *entry = NULL;
	unsigned level;

	memset(&key, 0, sizeof(key)); /* the padding is never read; quiets the analysers */
	for (level = VTD_PT_LEVEL; level < VTD_PML4_LEVEL; level++) {
		key.gfn = vtd_get_iotlb_gfn(addr, level);
		key.level = level;
		key.sid = source_id;
		key.pasid = pasid;
		entry = g_hash_table_lookup(s->iotlb, &key);
		if (entry)
			break;
	}
	return entry;
}

/* Must be with IOMMU lock held */
static void vtd_update_iotlb(struct qemu_peer *s, uint16_t source_id, uint16_t domain_id,
			     uint64_t addr, uint64_t pte, uint16_t prot, uint32_t level,
			     uint32_t pasid)
{
	VTDIOTLBEntry *entry = g_malloc(sizeof(*entry));
	struct vtd_iotlb_key *key = g_malloc0(sizeof(*key));
	uint64_t gfn = vtd_get_iotlb_gfn(addr, level);

	if (g_hash_table_size(s->iotlb) >= s->max_size)
		vtd_reset_iotlb_locked(s); /* QEMU: "iotlb exceeds size limit" */

	entry->gfn = gfn;
	entry->domain_id = domain_id;
	entry->pte = pte;
	entry->prot = prot;
	entry->mask = vtd_pt_level_page_mask(level);
	entry->pasid = pasid;

	key->gfn = gfn;
	key->sid = source_id;
	key->level = level;
	key->pasid = pasid;

	g_hash_table_replace(s->iotlb, key, entry);
}

static peer *qemu_create(size_t capacity)
{
	struct qemu_peer *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->base.kind = PEER_QEMU;
	pthread_mutex_init(&s->iommu_lock, NULL);
	s->iotlb = g_hash_table_new_full(vtd_iotlb_hash, vtd_iotlb_equal, g_free, g_free);
	s->max_size = capacity ? (guint)capacity : 1024;
	return &s->base;
}

static void qemu_destroy(struct qemu_peer *s)
{
	g_hash_table_destroy(s->iotlb);
	pthread_mutex_destroy(&s->iommu_lock);
	free(s);
}

/* vtd_do_iommu_translate(), reduced to the IOTLB and the walk: the lock is held from the
 * lookup to the fill, the walk included, as QEMU does. */
static dmar_status qemu_translate(struct qemu_peer *s, const dmar_physmem *pm, dmar_pa_t root,
				  const dmar_pt_format *fmt, uint32_t asid, dmar_iova_t addr,
				  unsigned access, dmar_result *out)
{
	const uint16_t source_id = (uint16_t)asid;
	VTDIOTLBEntry *iotlb_entry;
	uint64_t pte, page_mask;
	unsigned prot;
	uint32_t flags = 0;
	dmar_fault f;

	pthread_mutex_lock(&s->iommu_lock);
	iotlb_entry = vtd_lookup_iotlb(s, source_id, PCI_NO_PASID, addr);
	if (iotlb_entry) {
		pte = iotlb_entry->pte;
		prot = iotlb_entry->prot;
		page_mask = iotlb_entry->mask;
		flags = DMAR_RESULT_HIT;
	} else {
		dmar_walk_result wr;
		dmar_status st = peer_walk(pm, root, fmt, addr, access, &wr);

		if (st != DMAR_OK) {
			pthread_mutex_unlock(&s->iommu_lock);
			if (st == DMAR_E_FAULT)
				return fault_result(out, wr.fault);
			return st;
		}
		pte = wr.pte;
		prot = wr.prot;
		page_mask = vtd_pt_level_page_mask(wr.level);
		vtd_update_iotlb(s, source_id, source_id, addr, pte, (uint16_t)prot, wr.level,
				 PCI_NO_PASID);
	}
	pthread_mutex_unlock(&s->iommu_lock);

	f = prot_check(access, prot);
	if (f != DMAR_FAULT_NONE)
		return fault_result(out, f);
	fill_result(out, ((pte & DMAR_PTE_ADDR_MASK) & page_mask) | (addr & ~page_mask & ~0xfffull),
		    addr, (unsigned)__builtin_ctzll(page_mask), prot, flags);
	return DMAR_OK;
}

/* vtd_iotlb_page_invalidate(): one pass of g_hash_table_foreach_remove() over the whole
 * table for an aligned power-of-two block of pages (address mask "am"), the smallest that
 * covers the range, as a guest driver sends it; a domain-selective flush beyond VTD_MAMV. */
static void qemu_invalidate_range(struct qemu_peer *s, uint32_t asid, dmar_iova_t iova,
				  uint64_t size)
{
	const uint64_t first = iova >> VTD_PAGE_SHIFT_4K;
	const uint64_t last = (iova + size - 1) >> VTD_PAGE_SHIFT_4K;
	uint16_t domain_id = (uint16_t)asid;
	unsigned am = 0;

	while (am < 64 && (first >> am) != (last >> am))
		am++;
	pthread_mutex_lock(&s->iommu_lock);
	if (am > VTD_MAMV) {
		g_hash_table_foreach_remove(s->iotlb, vtd_hash_remove_by_domain, &domain_id);
	} else {
		VTDIOTLBPageInvInfo info;

		info.domain_id = domain_id;
		info.pasid = PCI_NO_PASID;
		info.addr = (first >> am) << (am + VTD_PAGE_SHIFT_4K);
		info.mask = ~((1ULL << am) - 1);
		g_hash_table_foreach_remove(s->iotlb, vtd_hash_remove_by_page, &info);
	}
	pthread_mutex_unlock(&s->iommu_lock);
}

static void qemu_invalidate_all(struct qemu_peer *s)
{
	pthread_mutex_lock(&s->iommu_lock);
	vtd_reset_iotlb_locked(s);
	pthread_mutex_unlock(&s->iommu_lock);
}

static size_t qemu_size(struct qemu_peer *s)
{
	size_t n;

	pthread_mutex_lock(&s->iommu_lock);
	n = g_hash_table_size(s->iotlb);
	pthread_mutex_unlock(&s->iommu_lock);
	return n;
}

/* ============================================================================================
 * rculfhash: cds_lfht (memb flavor) as a bounded, lock-free-read cache
 * ========================================================================================= */

#define LF_GEN_STRIPES 4096u  /* generation counters, by hash: fills racing invalidations */
#define LF_RANGE_PAGES 64u    /* larger invalidations scan the table instead of looking up */

struct lf_key {
	uint64_t asid;
	uint64_t vpn; /* 4 KiB page number */
};

struct lf_node {
	struct cds_lfht_node node;
	struct lf_key key;
	uint64_t frame;   /* pa of the 4 KiB page */
	uint16_t prot;
	uint8_t page_lg2; /* of the leaf */
	struct rcu_head rcu;
};

struct lf_peer {
	struct peer base;
	struct cds_lfht *ht;
	struct lf_node **ring; /* FIFO of cached nodes: the slot owner frees its node */
	uint64_t ring_mask;
	uint64_t pos __attribute__((aligned(64))); /* next ring slot (fetch-and-add) */
	uint64_t gen_all __attribute__((aligned(64)));
	uint64_t *gen; /* LF_GEN_STRIPES */
};

static inline uint64_t lf_hash(const struct lf_key *k)
{
	return XXH3_64bits(k, sizeof(*k));
}

static inline uint64_t *lf_gen(struct lf_peer *p, uint64_t hash)
{
	return &p->gen[(hash >> 40) & (LF_GEN_STRIPES - 1)];
}

static int lf_match(struct cds_lfht_node *node, const void *key)
{
	const struct lf_node *n = caa_container_of(node, struct lf_node, node);
	const struct lf_key *k = key;

	return n->key.vpn == k->vpn && n->key.asid == k->asid;
}

static void lf_free_cb(struct rcu_head *head)
{
	free(caa_container_of(head, struct lf_node, rcu));
}

static peer *lf_create(size_t capacity)
{
	struct lf_peer *p;
	uint64_t cap = 1;

	while (cap < capacity)
		cap <<= 1;
	if (posix_memalign((void **)&p, 64, sizeof(*p)))
		return NULL;
	memset(p, 0, sizeof(*p));
	p->base.kind = PEER_RCULFHASH;
	p->ring_mask = cap - 1;
	p->ring = calloc(cap, sizeof(p->ring[0]));
	p->gen = calloc(LF_GEN_STRIPES, sizeof(p->gen[0]));
	/* as many buckets as entries, fixed: no resize on the measured paths */
	p->ht = cds_lfht_new_flavor(cap, cap, cap, 0, &urcu_memb_flavor, NULL);
	if (!p->ring || !p->gen || !p->ht) {
		if (p->ht)
			cds_lfht_destroy(p->ht, NULL);
		free(p->ring);
		free(p->gen);
		free(p);
		return NULL;
	}
	return &p->base;
}

/* Unlink every node (they stay in the ring, which frees them when their slot is reused). */
static void lf_del_matching(struct lf_peer *p, int all, uint64_t asid, uint64_t vfirst,
			    uint64_t vlast)
{
	struct cds_lfht_iter iter;
	struct lf_node *n;

	urcu_memb_read_lock();
	cds_lfht_for_each_entry(p->ht, &iter, n, node) {
		if (all || (n->key.asid == asid && n->key.vpn >= vfirst && n->key.vpn <= vlast))
			(void)cds_lfht_del(p->ht, &n->node);
	}
	urcu_memb_read_unlock();
}

static void lf_destroy(struct lf_peer *p)
{
	lf_del_matching(p, 1, 0, 0, 0);
	urcu_memb_synchronize_rcu();
	for (uint64_t i = 0; i <= p->ring_mask; i++)
		free(p->ring[i]);
	urcu_memb_barrier(); /* call_rcu frees still queued */
	cds_lfht_destroy(p->ht, NULL);
	free(p->ring);
	free(p->gen);
	free(p);
}

static dmar_status lf_translate(struct lf_peer *p, const dmar_physmem *pm, dmar_pa_t root,
				const dmar_pt_format *fmt, uint32_t asid, dmar_iova_t iova,
				unsigned access, dmar_result *out)
{
	const struct lf_key key = { .asid = asid, .vpn = iova >> 12 };
	const uint64_t h = lf_hash(&key);
	struct cds_lfht_iter iter;
	struct cds_lfht_node *hit;
	uint64_t g1, g_all1, frame;
	dmar_walk_result wr;
	dmar_status st;
	struct lf_node *n;
	dmar_fault f;

	urcu_memb_read_lock();
	cds_lfht_lookup(p->ht, h, lf_match, &key, &iter);
	hit = cds_lfht_iter_get_node(&iter);
	if (hit) {
		const struct lf_node *e = caa_container_of(hit, struct lf_node, node);
		const unsigned prot = e->prot, lg2 = e->page_lg2;

		frame = e->frame;
		urcu_memb_read_unlock();
		f = prot_check(access, prot);
		if (f != DMAR_FAULT_NONE)
			return fault_result(out, f);
		fill_result(out, frame, iova, lg2, prot, DMAR_RESULT_HIT);
		return DMAR_OK;
	}

	/* Miss: generations before the walk, so a fill that raced an invalidation is dropped. */
	g1 = __atomic_load_n(lf_gen(p, h), __ATOMIC_ACQUIRE);
	g_all1 = __atomic_load_n(&p->gen_all, __ATOMIC_ACQUIRE);
	st = dmar_walk(pm, root, fmt, iova, access, &wr);
	if (st != DMAR_OK) {
		urcu_memb_read_unlock();
		if (st == DMAR_E_FAULT)
			return fault_result(out, wr.fault);
		return st;
	}
	frame = wr.pa & ~0xfffull;
	fill_result(out, frame, iova, wr.page_lg2, wr.prot, 0);

	n = malloc(sizeof(*n));
	if (!n) {
		urcu_memb_read_unlock();
		return DMAR_OK; /* not cached */
	}
	cds_lfht_node_init(&n->node);
	n->key = key;
	n->frame = frame;
	n->prot = wr.prot;
	n->page_lg2 = wr.page_lg2;
	if (cds_lfht_add_unique(p->ht, h, lf_match, &key, &n->node) != &n->node) {
		free(n); /* another thread filled it first; never published */
	} else if (__atomic_load_n(lf_gen(p, h), __ATOMIC_ACQUIRE) != g1 ||
		   __atomic_load_n(&p->gen_all, __ATOMIC_ACQUIRE) != g_all1) {
		/* an invalidation ran since the walk began: unpublish (it may have already) */
		(void)cds_lfht_del(p->ht, &n->node);
		urcu_memb_call_rcu(&n->rcu, lf_free_cb);
	} else {
		const uint64_t slot = __atomic_fetch_add(&p->pos, 1, __ATOMIC_RELAXED) & p->ring_mask;
		struct lf_node *victim = __atomic_exchange_n(&p->ring[slot], n, __ATOMIC_ACQ_REL);

		if (victim) { /* FIFO eviction: ours to unlink (if still linked) and free */
			(void)cds_lfht_del(p->ht, &victim->node);
			urcu_memb_call_rcu(&victim->rcu, lf_free_cb);
		}
	}
	urcu_memb_read_unlock();
	return DMAR_OK;
}

static void lf_invalidate_range(struct lf_peer *p, uint32_t asid, dmar_iova_t iova, uint64_t size)
{
	const uint64_t vfirst = iova >> 12, vlast = (iova + size - 1) >> 12;

	if (vlast - vfirst >= LF_RANGE_PAGES) {
		__atomic_fetch_add(&p->gen_all, 1, __ATOMIC_SEQ_CST);
		lf_del_matching(p, 0, asid, vfirst, vlast);
		return;
	}
	urcu_memb_read_lock();
	for (uint64_t v = vfirst; v <= vlast; v++) {
		const struct lf_key key = { .asid = asid, .vpn = v };
		const uint64_t h = lf_hash(&key);
		struct cds_lfht_iter iter;
		struct cds_lfht_node *node;

		/* bump first (a full barrier), then look: a concurrent fill either sees the
		 * bump and drops itself, or is already linked and found here */
		__atomic_fetch_add(lf_gen(p, h), 1, __ATOMIC_SEQ_CST);
		cds_lfht_lookup(p->ht, h, lf_match, &key, &iter);
		node = cds_lfht_iter_get_node(&iter);
		if (node)
			(void)cds_lfht_del(p->ht, node);
	}
	urcu_memb_read_unlock();
}

static void lf_invalidate_all(struct lf_peer *p)
{
	__atomic_fetch_add(&p->gen_all, 1, __ATOMIC_SEQ_CST);
	lf_del_matching(p, 1, 0, 0, 0);
}

static size_t lf_size(struct lf_peer *p)
{
	struct cds_lfht_iter iter;
	struct lf_node *n;
	size_t count = 0;

	urcu_memb_read_lock();
	cds_lfht_for_each_entry(p->ht, &iter, n, node)
		count++;
	urcu_memb_read_unlock();
	return count;
}

/* ============================================================================================
 * common interface
 * ========================================================================================= */

peer *peer_create(peer_kind kind, size_t capacity)
{
	switch (kind) {
	case PEER_QEMU:
		return qemu_create(capacity);
	case PEER_RCULFHASH:
		return lf_create(capacity);
	default:
		return NULL;
	}
}

void peer_destroy(peer *p)
{
	if (!p)
		return;
	if (p->kind == PEER_QEMU)
		qemu_destroy((struct qemu_peer *)p);
	else
		lf_destroy((struct lf_peer *)p);
}

dmar_status peer_translate(peer *p, const dmar_physmem *pm, dmar_pa_t root,
			   const dmar_pt_format *fmt, uint32_t asid, dmar_iova_t iova,
			   unsigned access, dmar_result *out)
{
	if (!p || !pm || !fmt || !out || asid == 0 || asid > 0xffff || (access & ~0xfu))
		return DMAR_E_INVALID;
	if (p->kind == PEER_QEMU)
		return qemu_translate((struct qemu_peer *)p, pm, root, fmt, asid, iova, access, out);
	return lf_translate((struct lf_peer *)p, pm, root, fmt, asid, iova, access, out);
}

void peer_invalidate_range(peer *p, uint32_t asid, dmar_iova_t iova, uint64_t size)
{
	if (!p || size == 0 || iova + size - 1 < iova)
		return;
	if (p->kind == PEER_QEMU)
		qemu_invalidate_range((struct qemu_peer *)p, asid, iova, size);
	else
		lf_invalidate_range((struct lf_peer *)p, asid, iova, size);
}

void peer_invalidate_all(peer *p)
{
	if (!p)
		return;
	if (p->kind == PEER_QEMU)
		qemu_invalidate_all((struct qemu_peer *)p);
	else
		lf_invalidate_all((struct lf_peer *)p);
}

size_t peer_size(peer *p)
{
	if (!p)
		return 0;
	if (p->kind == PEER_QEMU)
		return qemu_size((struct qemu_peer *)p);
	return lf_size((struct lf_peer *)p);
}

/* With dmar built for memb, dmar_thread_register() has registered us with the same liburcu
 * memb domain already (registering twice is an error there). */
static __thread int peer_tls_own_registration;

void peer_thread_register(void)
{
	if (peer_tls_own_registration)
		return;
	if (strcmp(dmar_rcu_flavor(), "memb") == 0 && dmar_thread_registered())
		return;
	urcu_memb_register_thread();
	peer_tls_own_registration = 1;
}

void peer_thread_unregister(void)
{
	if (!peer_tls_own_registration)
		return;
	urcu_memb_unregister_thread();
	peer_tls_own_registration = 0;
}
