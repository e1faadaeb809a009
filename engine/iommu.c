/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* IOMMU instances, domains, devices and logical adapters, PASID binding, exclusive access.
 *
 * A logical adapter's state (domain, exclusive flag) is one immutable record published with
 * RCU: a translation reads it once, so a batch never mixes two domains, and a state change
 * returns only after a grace period, i.e. after every translation that could have seen the
 * old state has finished.  That is how dmar_device_begin_exclusive() knows no translation of
 * the adapter is in flight (S18), at no cost to the translation path. */
#include "rcu.h"

#include <stdlib.h>
#include <string.h>

#include <dmar/iommu.h>

#include "bitmap.h"
#include "range.h"
#include "iommu_internal.h"
#include "iotlb_internal.h"

#define PASID_LEAF_BITS 10
#define PASID_LEAF (1u << PASID_LEAF_BITS)

struct adapter_state {
	struct dmar_domain *domain; /* NULL: not attached */
	int exclusive;
	/* freed after a grace period, by whichever way retire_state() picks */
	struct rcu_head rcu;
	struct dmar__after after;
};

struct dmar_domain {
	struct dmar_iommu *iommu;
	uint16_t id;
	dmar_domain_kind kind;
	dmar_pgtable *pt;   /* NULL for pass-through */
	dmar_space *space;  /* NULL for pass-through */
	unsigned attached;  /* adapters attached (under iommu->lock) */
	dmar_space **pasid_dir[1u << (20 - PASID_LEAF_BITS)]; /* RCU: leaves of spaces */
	struct dmar_domain *next;
};

/* One thread's count of a device's requests, alone on its cache line: a batch adds to its
 * own thread's slot (as the IOTLB's statistics, iotlb_internal.h), so devices driven from
 * several threads share no written line; readers sum the slots. */
struct dev_tstat {
	uint64_t translations;
} __attribute__((aligned(64)));

struct dmar_device {
	struct dmar_iommu *iommu;
	uint16_t rid;
	unsigned dma_bits;
	struct dmar_device *lead;        /* leader of its logical adapter (itself when alone) */
	struct dmar_device *member_next; /* leader's chain of the other members */
	struct adapter_state *state;     /* leader only; RCU */
	int pinned;                      /* leader only: attach/detach refused (S12) */
	struct dmar_device *next;
	struct dev_tstat *tstat;         /* DMAR_MAX_THREADS, by dmar__thread_slot() */
	uint64_t switches;               /* atomic */
	uint64_t faults[DMAR_FAULT_COUNT]; /* atomic (faults only) */
};

struct dmar_iommu {
	dmar_physmem *pm;
	dmar_iotlb *tlb;
	dmar_faultq *fq;
	unsigned pasid_bits;
	pthread_mutex_t lock; /* configuration */
	/* PASIDs: @pasids holds the ones dmar_pasid_alloc() handed out (the caller owns them
	 * until dmar_pasid_free()); @pasids_taken those and every PASID bound in some domain,
	 * so that alloc never hands out a PASID a caller bound explicitly */
	struct dmar_hbm pasids, pasids_taken, domain_ids;
	struct dmar_domain *domains;
	struct dmar_device *devices;
};

void dmar_iommu_config_default(dmar_iommu_config *cfg)
{
	if (!cfg)
		return;
	dmar_iotlb_config_default(&cfg->iotlb);
	cfg->fault_queue = 1024;
	cfg->pasid_bits = 20;
}

dmar_status dmar_iommu_create(dmar_physmem *pm, const dmar_iommu_config *cfg, dmar_iommu **out)
{
	struct dmar_iommu *m;
	dmar_status st;

	if (!pm || !cfg || !out || cfg->pasid_bits < 1 || cfg->pasid_bits > 20)
		return DMAR_E_INVALID;
	m = calloc(1, sizeof(*m));
	if (!m)
		return DMAR_E_NOMEM;
	m->pm = pm;
	m->pasid_bits = cfg->pasid_bits;
	st = dmar_iotlb_create(&cfg->iotlb, &m->tlb);
	if (st == DMAR_OK)
		st = dmar_faultq_create(cfg->fault_queue, &m->fq);
	if (st == DMAR_OK && (dmar_hbm_init(&m->pasids, 1ull << cfg->pasid_bits) != 0 ||
			      dmar_hbm_init(&m->pasids_taken, 1ull << cfg->pasid_bits) != 0 ||
			      dmar_hbm_init(&m->domain_ids, 1ull << 16) != 0))
		st = DMAR_E_NOMEM;
	if (st != DMAR_OK) {
		dmar_hbm_fini(&m->pasids);
		dmar_hbm_fini(&m->pasids_taken);
		dmar_hbm_fini(&m->domain_ids);
		dmar_faultq_destroy(m->fq);
		(void)dmar_iotlb_destroy(m->tlb);
		free(m);
		return st;
	}
	dmar_hbm_set_range(&m->pasids_taken, 0, 1); /* PASID 0 is not handed out */
	dmar_hbm_set_range(&m->domain_ids, 0, 1); /* neither is domain id 0 */
	pthread_mutex_init(&m->lock, NULL);
	*out = m;
	return DMAR_OK;
}

dmar_faultq *dmar_iommu_faults(dmar_iommu *iommu)
{
	return iommu ? iommu->fq : NULL;
}

dmar_iotlb *dmar_iommu_iotlb(dmar_iommu *iommu)
{
	return iommu ? iommu->tlb : NULL;
}

/* ---- domains ---------------------------------------------------------------------- */

static void domain_flush(void *ctx, dmar_iova_t iova, uint64_t size)
{
	struct dmar_domain *d = ctx;

	/* the table's writer flushes whole every leaf it changed (pgtable.h) */
	dmar__space_invalidate_leaves(d->space, iova, size);
}

dmar_status dmar_domain_create(dmar_iommu *iommu, dmar_domain_kind kind,
			       const dmar_pgtable_config *ptc, dmar_domain **out)
{
	struct dmar_domain *d;
	dmar_pgtable_config def;
	dmar_status st = DMAR_OK;
	int64_t id;

	if (!iommu || !out || kind > DMAR_DOMAIN_REMAPPED)
		return DMAR_E_INVALID;
	d = calloc(1, sizeof(*d));
	if (!d)
		return DMAR_E_NOMEM;
	d->iommu = iommu;
	d->kind = kind;
	if (kind != DMAR_DOMAIN_PASSTHROUGH) {
		if (ptc)
			def = *ptc;
		else
			dmar_pgtable_config_default(&def);
		/* a remapping table is an IOVA table: no canonical hole, no upper half */
		if (def.format.flags & DMAR_PT_UPPER_HALF) {
			free(d);
			return DMAR_E_INVALID;
		}
		def.format.flags |= DMAR_PT_IOVA;
		st = dmar_pgtable_create(iommu->pm, &def, &d->pt);
		if (st == DMAR_OK)
			st = dmar_space_create(iommu->tlb, iommu->pm, dmar_pgtable_root(d->pt),
					       dmar_pgtable_format(d->pt), &d->space);
		if (st != DMAR_OK) {
			dmar_pgtable_destroy(d->pt);
			free(d);
			return st;
		}
		dmar_pgtable_set_flush(d->pt, domain_flush, d);
	}
	dmar__lock(&iommu->lock);
	id = dmar_hbm_find_run_down(&iommu->domain_ids, 0, 1u << 16, 1, 1, 0);
	if (id > 0) {
		dmar_hbm_set_range(&iommu->domain_ids, (uint64_t)id, 1);
		d->id = (uint16_t)id;
		d->next = iommu->domains;
		iommu->domains = d;
	}
	dmar__unlock(&iommu->lock);
	if (id <= 0) {
		dmar_space_destroy(d->space);
		dmar_pgtable_destroy(d->pt);
		free(d);
		return DMAR_E_NOMEM;
	}
	*out = d;
	return DMAR_OK;
}

static dmar_space *pasid_space(const struct dmar_domain *d, uint32_t pasid)
{
	dmar_space **leaf = __atomic_load_n(&d->pasid_dir[pasid >> PASID_LEAF_BITS], __ATOMIC_ACQUIRE);

	return leaf ? __atomic_load_n(&leaf[pasid & (PASID_LEAF - 1)], __ATOMIC_ACQUIRE) : NULL;
}

/* A PASID that no domain (in m->domains) binds any more and that dmar_pasid_alloc() did not
 * hand out is free for alloc again (lock held). */
static void pasid_untake_if_unbound(struct dmar_iommu *m, uint32_t pasid)
{
	if (dmar_hbm_test(&m->pasids, pasid))
		return;
	for (const struct dmar_domain *o = m->domains; o; o = o->next)
		if (pasid_space(o, pasid))
			return;
	dmar_hbm_clear_range(&m->pasids_taken, pasid, 1);
}

static void domain_free(struct dmar_domain *d)
{
	for (size_t i = 0; i < sizeof(d->pasid_dir) / sizeof(d->pasid_dir[0]); i++) {
		if (!d->pasid_dir[i])
			continue;
		for (unsigned j = 0; j < PASID_LEAF; j++)
			dmar_space_destroy(d->pasid_dir[i][j]);
		free(d->pasid_dir[i]);
	}
	dmar_space_destroy(d->space);
	dmar_pgtable_destroy(d->pt);
	free(d);
}

dmar_status dmar_domain_destroy(dmar_domain *d)
{
	struct dmar_iommu *m;

	if (!d)
		return DMAR_OK;
	m = d->iommu;
	dmar__lock(&m->lock);
	if (d->attached) {
		dmar__unlock(&m->lock);
		return DMAR_E_BUSY;
	}
	for (struct dmar_domain **p = &m->domains; *p; p = &(*p)->next) {
		if (*p == d) {
			*p = d->next;
			break;
		}
	}
	dmar_hbm_clear_range(&m->domain_ids, d->id, 1);
	/* its explicit bindings no longer keep their PASIDs from dmar_pasid_alloc() */
	for (size_t i = 0; i < sizeof(d->pasid_dir) / sizeof(d->pasid_dir[0]); i++)
		for (unsigned j = 0; d->pasid_dir[i] && j < PASID_LEAF; j++) {
			if (d->pasid_dir[i][j])
				pasid_untake_if_unbound(m, (uint32_t)(i * PASID_LEAF + j));
		}
	dmar__unlock(&m->lock);
	/* not attached, so no translation can reach it any more: free at once */
	domain_free(d);
	return DMAR_OK;
}

uint16_t dmar_domain_id(const dmar_domain *d)
{
	return d ? d->id : 0;
}

dmar_domain_kind dmar_domain_kind_of(const dmar_domain *d)
{
	return d ? d->kind : (dmar_domain_kind)0;
}

dmar_pgtable *dmar_domain_pgtable(dmar_domain *d)
{
	return d ? d->pt : NULL;
}

dmar_status dmar_domain_input_range(const dmar_domain *d, dmar_iova_t *last)
{
	if (!d || !last)
		return DMAR_E_INVALID;
	if (!d->pt) {
		*last = UINT64_MAX; /* pass-through: pa = logical address */
		return DMAR_OK;
	}
	return dmar_pt_input_range(dmar_pgtable_format(d->pt), last, NULL);
}

dmar_status dmar_domain_map(dmar_domain *d, dmar_iova_t iova, dmar_pa_t pa, uint64_t size,
			    unsigned prot)
{
	if (!d)
		return DMAR_E_INVALID;
	if (d->kind == DMAR_DOMAIN_PASSTHROUGH)
		return DMAR_E_NOT_SUPPORTED;
	if (d->kind == DMAR_DOMAIN_IDENTITY && iova != pa)
		return DMAR_E_INVALID; /* S8: logical page == physical page */
	return dmar_pgtable_map(d->pt, iova, pa, size, prot);
}

dmar_status dmar_domain_unmap(dmar_domain *d, dmar_iova_t iova, uint64_t size,
			      uint64_t *unmapped)
{
	if (unmapped)
		*unmapped = 0;
	if (!d)
		return DMAR_E_INVALID;
	if (d->kind == DMAR_DOMAIN_PASSTHROUGH)
		return DMAR_E_NOT_SUPPORTED;
	/* the table's flush hook (domain_flush) invalidates before unmap returns */
	return dmar_pgtable_unmap(d->pt, iova, size, unmapped);
}

/* ---- PASIDs ----------------------------------------------------------------------- */

static int pasid_ok(const struct dmar_iommu *m, uint32_t pasid)
{
	return pasid != 0 && pasid < (1u << m->pasid_bits);
}

dmar_status dmar_pasid_alloc(dmar_iommu *m, uint32_t *pasid)
{
	int64_t p;

	if (!m || !pasid)
		return DMAR_E_INVALID;
	dmar__lock(&m->lock);
	p = dmar_hbm_find_run_down(&m->pasids_taken, 1, 1ull << m->pasid_bits, 1, 1, 0);
	if (p > 0) {
		dmar_hbm_set_range(&m->pasids, (uint64_t)p, 1);
		dmar_hbm_set_range(&m->pasids_taken, (uint64_t)p, 1);
	}
	dmar__unlock(&m->lock);
	if (p <= 0)
		return DMAR_E_NOMEM;
	*pasid = (uint32_t)p;
	return DMAR_OK;
}

dmar_status dmar_pasid_free(dmar_iommu *m, uint32_t pasid)
{
	dmar_status st = DMAR_OK;

	if (!m || !pasid_ok(m, pasid))
		return DMAR_E_INVALID;
	dmar__lock(&m->lock);
	for (struct dmar_domain *d = m->domains; d; d = d->next)
		if (pasid_space(d, pasid))
			st = DMAR_E_BUSY;
	if (!dmar_hbm_test(&m->pasids, pasid)) /* (bound explicitly or not: never allocated) */
		st = DMAR_E_NOT_FOUND;
	if (st == DMAR_OK) {
		dmar_hbm_clear_range(&m->pasids, pasid, 1);
		dmar_hbm_clear_range(&m->pasids_taken, pasid, 1);
	}
	dmar__unlock(&m->lock);
	return st;
}

dmar_status dmar_domain_bind_pasid(dmar_domain *d, uint32_t pasid, dmar_pa_t root,
				   const dmar_pt_format *fmt)
{
	struct dmar_iommu *m;
	dmar_space *sp = NULL;
	dmar_space **leaf;
	dmar_status st;

	if (!d)
		return DMAR_E_INVALID;
	m = d->iommu;
	if (!pasid_ok(m, pasid) || (fmt && (fmt->flags & DMAR_PT_IOVA)))
		return DMAR_E_INVALID; /* S2: a process table is a CPU table */
	st = dmar_space_create(m->tlb, m->pm, root, fmt, &sp);
	if (st != DMAR_OK)
		return st;
	dmar__lock(&m->lock);
	leaf = d->pasid_dir[pasid >> PASID_LEAF_BITS];
	if (!leaf) {
		leaf = calloc(PASID_LEAF, sizeof(*leaf));
		if (!leaf) {
			st = DMAR_E_NOMEM;
			goto out;
		}
		__atomic_store_n(&d->pasid_dir[pasid >> PASID_LEAF_BITS], leaf, __ATOMIC_RELEASE);
	}
	if (leaf[pasid & (PASID_LEAF - 1)]) {
		st = DMAR_E_EXISTS;
		goto out;
	}
	/* a binding allocates nothing, but alloc hands out no PASID that is bound */
	dmar_hbm_set_range(&m->pasids_taken, pasid, 1);
	__atomic_store_n(&leaf[pasid & (PASID_LEAF - 1)], sp, __ATOMIC_RELEASE);
	sp = NULL;
out:
	dmar__unlock(&m->lock);
	dmar_space_destroy(sp);
	return st;
}

dmar_status dmar_domain_unbind_pasid(dmar_domain *d, uint32_t pasid)
{
	struct dmar_iommu *m;
	dmar_space *sp;

	if (!d || !pasid_ok(d->iommu, pasid))
		return DMAR_E_INVALID;
	m = d->iommu;
	dmar__lock(&m->lock);
	sp = pasid_space(d, pasid);
	if (sp) {
		__atomic_store_n(&d->pasid_dir[pasid >> PASID_LEAF_BITS][pasid & (PASID_LEAF - 1)],
				 NULL, __ATOMIC_RELEASE);
		pasid_untake_if_unbound(m, pasid);
	}
	dmar__unlock(&m->lock);
	if (!sp)
		return DMAR_E_NOT_FOUND;
	/* invalidate (its ASID is retired) and wait out translations still using it */
	dmar_space_invalidate(sp);
	dmar__rcu_synchronize();
	dmar_space_destroy(sp);
	return DMAR_OK;
}

dmar_status dmar_domain_invalidate_pasid(dmar_domain *d, uint32_t pasid, dmar_iova_t iova,
					 uint64_t size)
{
	dmar_space *sp;
	dmar_status st;

	if (!d || !pasid_ok(d->iommu, pasid))
		return DMAR_E_INVALID;
	dmar__lock(&d->iommu->lock);
	sp = pasid_space(d, pasid);
	st = sp ? dmar_space_invalidate_range(sp, iova, size) : DMAR_E_NOT_FOUND;
	dmar__unlock(&d->iommu->lock);
	return st;
}

/* ---- devices, adapters, exclusive access ---------------------------------------------- */

dmar_status dmar_device_create(dmar_iommu *m, uint16_t rid, unsigned dma_bits, dmar_device **out)
{
	struct dmar_device *dev;
	dmar_status st = DMAR_OK;

	if (!m || !out || dma_bits < 32 || dma_bits > 64)
		return DMAR_E_INVALID;
	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return DMAR_E_NOMEM;
	dev->tstat = aligned_alloc(sizeof(struct dev_tstat),
				   DMAR_MAX_THREADS * sizeof(struct dev_tstat));
	if (!dev->tstat) {
		free(dev);
		return DMAR_E_NOMEM;
	}
	memset(dev->tstat, 0, DMAR_MAX_THREADS * sizeof(struct dev_tstat));
	dev->iommu = m;
	dev->rid = rid;
	dev->dma_bits = dma_bits;
	dev->lead = dev;
	dmar__lock(&m->lock);
	for (struct dmar_device *o = m->devices; o; o = o->next)
		if (o->rid == rid)
			st = DMAR_E_EXISTS;
	if (st == DMAR_OK) {
		dev->next = m->devices;
		m->devices = dev;
	}
	dmar__unlock(&m->lock);
	if (st != DMAR_OK) {
		free(dev->tstat);
		free(dev);
		return st;
	}
	*out = dev;
	return DMAR_OK;
}

/* Publish a new state for @lead's adapter (iommu lock held).  Returns the old one, to free
 * after a grace period; NULL with *st set when out of memory. */
static struct adapter_state *publish(struct dmar_device *lead, struct dmar_domain *dom,
				     int exclusive, dmar_status *st, int *changed)
{
	struct adapter_state *old = lead->state, *s = malloc(sizeof(*s));

	*changed = 0;
	if (!s) {
		*st = DMAR_E_NOMEM;
		return NULL;
	}
	s->domain = dom;
	s->exclusive = exclusive;
	if (old && old->domain != dom && old->domain)
		old->domain->attached--;
	if (dom && (!old || old->domain != dom))
		dom->attached++;
	__atomic_store_n(&lead->state, s, __ATOMIC_RELEASE);
	*changed = 1;
	*st = DMAR_OK;
	return old;
}

static void state_free_rcu(struct rcu_head *h)
{
	free(caa_container_of(h, struct adapter_state, rcu));
}

static void state_free_after(struct dmar__after *a)
{
	dmar__rcu_synchronize();
	free(caa_container_of(a, struct adapter_state, after));
}

/* Common tail of state changes (no lock held).  With @wait, return only once no translation
 * can still see the old state (what attach over a domain, detach and begin_exclusive
 * promise); otherwise the old record is freed after a grace period nobody waits for (an RCU
 * callback, or on an unregistered thread once it holds no library lock). */
static dmar_status retire_state(struct adapter_state *old, int changed, int wait, dmar_status st)
{
	if (!changed)
		return st;
	if (wait) {
		dmar__rcu_synchronize();
		free(old);
	} else if (old && dmar__thread_ok()) {
		dmar__rcu_call(&old->rcu, state_free_rcu);
	} else if (old) {
		old->after.fn = state_free_after;
		dmar__after_locks(&old->after);
	}
	return st;
}

enum state_op { OP_ATTACH, OP_DETACH, OP_BEGIN, OP_SWITCH, OP_END };

static dmar_status change_state(struct dmar_device *dev, enum state_op op, struct dmar_domain *dom)
{
	struct dmar_iommu *m;
	struct dmar_device *lead;
	struct adapter_state *cur, *old = NULL;
	struct dmar_domain *before;
	dmar_status st = DMAR_OK;
	int changed = 0, excl, wait;

	if (!dev || ((op == OP_ATTACH || op == OP_SWITCH) && (!dom || dom->iommu != dev->iommu)))
		return DMAR_E_INVALID;
	m = dev->iommu;
	dmar__lock(&m->lock);
	lead = dev->lead;
	cur = lead->state;
	excl = cur && cur->exclusive;
	before = cur ? cur->domain : NULL;
	switch (op) {
	case OP_ATTACH:
	case OP_DETACH:
	case OP_BEGIN:
		if (excl) /* S18: nothing else on the adapter inside the window */
			st = DMAR_E_BUSY;
		else if (lead->pinned && op != OP_BEGIN) /* S12: an enabled IOMMU stays on */
			st = DMAR_E_BUSY;
		else
			old = publish(lead, op == OP_ATTACH ? dom : op == OP_DETACH ? NULL : before,
				      op == OP_BEGIN, &st, &changed);
		break;
	case OP_SWITCH:
		/* S12: once the adapter's IOMMU is on, no switch turns isolation off (an identity
		 * domain still isolates, S8; pass-through does not) */
		if (!excl || (lead->pinned && dom->kind == DMAR_DOMAIN_PASSTHROUGH)) {
			st = DMAR_E_BUSY;
			break;
		}
		old = publish(lead, dom, 1, &st, &changed);
		if (changed && before && before != dom) {
			/* what the IOTLB holds for the old domain goes (S18) */
			if (before->space)
				dmar_space_invalidate(before->space);
			for (struct dmar_device *d = lead; d; d = d->member_next)
				__atomic_fetch_add(&d->switches, 1, __ATOMIC_RELAXED);
		}
		break;
	case OP_END:
		if (!excl)
			st = DMAR_E_BUSY;
		else
			old = publish(lead, before, 0, &st, &changed);
		break;
	}
	/* S18: begin returns once nothing of the adapter is in flight; attach and detach once
	 * nothing translates through the domain they took away */
	wait = op == OP_BEGIN || ((op == OP_ATTACH || op == OP_DETACH) && before && before != dom);
	dmar__unlock(&m->lock);
	return retire_state(old, changed, wait, st);
}

dmar_status dmar_device_attach(dmar_device *dev, dmar_domain *dom)
{
	return change_state(dev, OP_ATTACH, dom);
}

dmar_status dmar_device_detach(dmar_device *dev)
{
	return change_state(dev, OP_DETACH, NULL);
}

dmar_status dmar_device_begin_exclusive(dmar_device *dev)
{
	return change_state(dev, OP_BEGIN, NULL);
}

dmar_status dmar_device_switch_domain(dmar_device *dev, dmar_domain *dom)
{
	return change_state(dev, OP_SWITCH, dom);
}

dmar_status dmar_device_end_exclusive(dmar_device *dev)
{
	return change_state(dev, OP_END, NULL);
}

dmar_status dmar_device_link(dmar_device *lead, dmar_device *dev)
{
	struct dmar_iommu *m;
	struct adapter_state *old;
	dmar_status st = DMAR_OK;

	if (!lead || !dev || lead == dev || lead->iommu != dev->iommu)
		return DMAR_E_INVALID;
	m = dev->iommu;
	dmar__lock(&m->lock);
	lead = lead->lead;
	old = dev->state;
	/* attached (or inside a window), already linked, or leading others; a device that was
	 * attached once and detached since is alone again */
	if (dev->lead != dev || dev->member_next || lead == dev ||
	    (old && (old->domain || old->exclusive)) || dev->pinned)
		st = DMAR_E_BUSY;
	else if (lead->state && lead->state->exclusive)
		st = DMAR_E_BUSY;
	if (st == DMAR_OK) {
		/* publish the member's leader: its translations read the adapter's state from now,
		 * and its own (detached) record goes once none can still read it */
		dev->member_next = lead->member_next;
		lead->member_next = dev;
		__atomic_store_n(&dev->lead, lead, __ATOMIC_RELEASE);
		__atomic_store_n(&dev->state, NULL, __ATOMIC_RELEASE);
	}
	dmar__unlock(&m->lock);
	return retire_state(old, st == DMAR_OK && old, 0, st);
}

dmar_status dmar_device_destroy(dmar_device *dev)
{
	struct dmar_iommu *m;
	struct adapter_state *old = NULL;

	if (!dev)
		return DMAR_OK;
	m = dev->iommu;
	dmar__lock(&m->lock);
	if (dev->lead == dev && dev->member_next) {
		dmar__unlock(&m->lock);
		return DMAR_E_BUSY; /* it leads an adapter: destroy the members first */
	}
	if (dev->lead != dev) {
		for (struct dmar_device **p = &dev->lead->member_next; *p; p = &(*p)->member_next)
			if (*p == dev) {
				*p = dev->member_next;
				break;
			}
	} else if (dev->state) {
		old = dev->state;
		if (old->domain)
			old->domain->attached--;
		__atomic_store_n(&dev->state, NULL, __ATOMIC_RELEASE);
	}
	for (struct dmar_device **p = &m->devices; *p; p = &(*p)->next)
		if (*p == dev) {
			*p = dev->next;
			break;
		}
	dmar__unlock(&m->lock);
	dmar__rcu_synchronize(); /* no translation of it still running */
	free(old);
	free(dev->tstat);
	free(dev);
	return DMAR_OK;
}

void dmar_iommu_destroy(dmar_iommu *m)
{
	if (!m)
		return;
	while (m->devices) {
		struct dmar_device *d = m->devices;

		/* members before their leader */
		while (d->lead == d && d->member_next)
			d = d->member_next;
		(void)dmar_device_destroy(d);
	}
	while (m->domains)
		(void)dmar_domain_destroy(m->domains);
	(void)dmar_iotlb_destroy(m->tlb);
	dmar_faultq_destroy(m->fq);
	dmar_hbm_fini(&m->pasids);
	dmar_hbm_fini(&m->pasids_taken);
	dmar_hbm_fini(&m->domain_ids);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

void dmar_device_get_stats(const dmar_device *dev, dmar_device_stats *st)
{
	if (!st)
		return;
	memset(st, 0, sizeof(*st));
	if (!dev)
		return;
	for (int t = 0; t < DMAR_MAX_THREADS; t++)
		st->translations += __atomic_load_n(&dev->tstat[t].translations, __ATOMIC_RELAXED);
	st->switches = __atomic_load_n(&dev->switches, __ATOMIC_RELAXED);
	for (int f = 1; f < DMAR_FAULT_COUNT; f++)
		st->faults[f] = __atomic_load_n(&dev->faults[f], __ATOMIC_RELAXED);
}

void dmar_iommu_get_stats(dmar_iommu *m, dmar_iommu_stats *st)
{
	if (!st)
		return;
	memset(st, 0, sizeof(*st));
	if (!m)
		return;
	dmar_iotlb_get_stats(m->tlb, &st->iotlb);
	dmar_faultq_get_stats(m->fq, &st->fault_queue);
	dmar__lock(&m->lock);
	for (const struct dmar_device *d = m->devices; d; d = d->next) {
		dmar_device_stats ds;

		dmar_device_get_stats(d, &ds);
		st->translations += ds.translations;
		for (int f = 1; f < DMAR_FAULT_COUNT; f++)
			st->faults[f] += ds.faults[f];
		if (d->lead == d)
			st->switches += ds.switches;
	}
	dmar__unlock(&m->lock);
}

/* ---- for the WDDM layer (iommu_internal.h) ---------------------------------------- */

dmar_physmem *dmar__iommu_physmem(dmar_iommu *m)
{
	return m->pm;
}

int dmar__device_exclusive(dmar_device *dev)
{
	int excl;

	dmar__lock(&dev->iommu->lock);
	excl = dev->lead->state && dev->lead->state->exclusive;
	dmar__unlock(&dev->iommu->lock);
	return excl;
}

void dmar__device_pin(dmar_device *dev, int pinned)
{
	dmar__lock(&dev->iommu->lock);
	dev->lead->pinned = pinned;
	dmar__unlock(&dev->iommu->lock);
}

/* ---- translation ------------------------------------------------------------------- */

/* Add @n to the calling thread's count of @dev's requests. */
static void count_translations(struct dmar_device *dev, size_t n)
{
	const int slot = dmar__thread_slot();

	dmar__slot_counter_add(&dev->tstat[slot].translations, slot, n);
}

/* Whether request @r breaks a run of @pasid within the device's reach (@limit is 2^k - 1,
 * so beyond it means a bit of ~limit set): nonzero if so. */
static inline uint64_t run_breaks(const dmar_request *r, uint32_t pasid, uint64_t limit)
{
	return (r->iova & ~limit) | (uint64_t)(r->pasid ^ pasid);
}

/* End of the run of requests from @i that one call to the space can take: same PASID, within
 * the device's reach.  Eight at a time with one branch (the compiler vectorises the block),
 * then one at a time in the block that ends the run. */
static __attribute__((noinline)) size_t run_end(const dmar_request *req, size_t i, size_t n,
						   uint64_t limit)
{
	const uint32_t pasid = req[i].pasid;
	size_t j = i + 1;

	for (; j + 8 <= n; j += 8) {
		uint64_t brk = 0;

		for (unsigned k = 0; k < 8; k++)
			brk |= run_breaks(&req[j + k], pasid, limit);
		if (brk)
			break;
	}
	while (j < n && !run_breaks(&req[j], pasid, limit))
		j++;
	return j;
}

dmar_status dmar_device_translate_batch(dmar_device *dev, const dmar_request *req,
					dmar_result *res, size_t n, size_t *nfaults)
{
	const struct adapter_state *s;
	const struct dmar_device *lead;
	const struct dmar_domain *d;
	uint64_t limit;
	size_t faults = 0;
	dmar_status st = dmar__check_batch(dev, req, res, n, nfaults);

	if (st != DMAR_OK)
		return st;
	limit = dev->dma_bits >= 64 ? ~0ull : (1ull << dev->dma_bits) - 1;

	dmar__rcu_read_lock();
	lead = __atomic_load_n(&dev->lead, __ATOMIC_ACQUIRE);
	s = __atomic_load_n(&lead->state, __ATOMIC_ACQUIRE); /* one snapshot for the batch */
	d = s && !s->exclusive ? s->domain : NULL;
	if (!d) {
		const dmar_fault why = s && s->domain ? DMAR_FAULT_EXCLUSIVE : DMAR_FAULT_NO_DOMAIN;

		for (size_t i = 0; i < n; i++)
			dmar__result_fault(&res[i], why);
		faults = n;
	}
	for (size_t i = 0; d && i < n;) {
		dmar_space *sp;
		size_t j, nf;

		if (req[i].iova > limit) { /* S14: beyond what the device can put on the bus */
			dmar__result_fault(&res[i++], DMAR_FAULT_DEVICE_WIDTH);
			faults++;
			continue;
		}
		if (d->kind == DMAR_DOMAIN_PASSTHROUGH && req[i].pasid == DMAR_NO_PASID) {
			res[i].pa = req[i].iova;
			res[i].fault = DMAR_FAULT_NONE;
			res[i].page_lg2 = DMAR_PAGE_4K_LG2;
			res[i].prot = DMAR_PROT_READ | DMAR_PROT_WRITE | DMAR_PROT_EXEC | DMAR_PROT_USER;
			res[i].flags = 0;
			i++;
			continue;
		}
		sp = req[i].pasid == DMAR_NO_PASID ? d->space
			: (req[i].pasid < (1u << 20) ? pasid_space(d, req[i].pasid) : NULL);
		if (!sp) {
			dmar__result_fault(&res[i++], DMAR_FAULT_PASID);
			faults++;
			continue;
		}
		j = run_end(req, i, n, limit);
		/* nf: the requests it refused (dmar_translate_batch's contract), so that a batch
		 * without a fault can skip the scan below */
		(void)dmar__translate_space(sp, req + i, res + i, j - i, &nf);
		faults += nf;
		i = j;
	}
	dmar__rcu_read_unlock();

	if (n)
		count_translations(dev, n);
	if (faults) { /* count and queue them; a batch without a fault skips this scan */
		faults = 0;
		for (size_t i = 0; i < n; i++) {
			dmar_fault_record rec;

			if (res[i].fault == DMAR_FAULT_NONE)
				continue;
			faults++;
			__atomic_fetch_add(&dev->faults[res[i].fault], 1, __ATOMIC_RELAXED);
			rec.addr = req[i].iova;
			rec.pasid = req[i].pasid;
			rec.requester = dev->rid;
			rec.access = (uint8_t)req[i].access;
			rec.reason = res[i].fault;
			(void)dmar_faultq_push(dev->iommu->fq, &rec); /* a full queue counts it */
		}
	}
	if (nfaults)
		*nfaults = faults;
	return DMAR_OK;
}

dmar_status dmar_device_translate(dmar_device *dev, const dmar_request *req, dmar_result *res)
{
	size_t nf;
	dmar_status st;

	if (!req || !res)
		return DMAR_E_INVALID;
	st = dmar_device_translate_batch(dev, req, res, 1, &nf);
	return st == DMAR_OK && nf ? DMAR_E_FAULT : st;
}

/* ---- DMA: translate and copy in one read section ------------------------------------ */

#define DMA_PAGES 64

dmar_status dmar_device_dma(dmar_device *dev, dmar_iova_t iova, uint32_t pasid, dmar_dma_dir dir,
			    void *buf, size_t len, size_t *done, dmar_result *fault)
{
	const unsigned access = dir == DMAR_DMA_WRITE ? DMAR_ACCESS_WRITE : DMAR_ACCESS_READ;
	dmar_request req[DMA_PAGES];
	dmar_result res[DMA_PAGES];
	uint8_t *b = buf;
	size_t moved = 0;
	dmar_status st = DMAR_OK;

	uint64_t last = iova;

	if (done)
		*done = 0;
	/* (a buffer may end exactly at 2^64, not run past it) */
	if (!dev || (!buf && len) || (unsigned)dir > DMAR_DMA_WRITE ||
	    (len && !dmar__range_last(iova, len, &last)))
		return DMAR_E_INVALID;
	if (!dmar__thread_ok())
		return DMAR_E_THREAD;
	dmar__rcu_read_lock(); /* the translations and the copies: one section (nests inside) */
	while (moved < len && st == DMAR_OK) {
		const uint64_t at = iova + moved, first = at & ~(DMAR_PAGE_SIZE - 1);
		const uint64_t left = (last >> DMAR_PAGE_4K_LG2) - (first >> DMAR_PAGE_4K_LG2) + 1;
		const size_t n = left < DMA_PAGES ? (size_t)left : DMA_PAGES;
		size_t nf;

		for (size_t k = 0; k < n; k++) {
			req[k].iova = k ? first + k * DMAR_PAGE_SIZE : at;
			req[k].access = access;
			req[k].pasid = pasid;
		}
		st = dmar_device_translate_batch(dev, req, res, n, &nf);
		for (size_t i = 0; i < n && st == DMAR_OK; i++) {
			const uint64_t at = iova + moved;
			const size_t chunk = (size_t)(DMAR_PAGE_SIZE - (at & (DMAR_PAGE_SIZE - 1))) <
						     len - moved
						     ? (size_t)(DMAR_PAGE_SIZE - (at & (DMAR_PAGE_SIZE - 1)))
						     : len - moved;
			uint8_t *host;

			if (res[i].fault != DMAR_FAULT_NONE) {
				if (fault)
					*fault = res[i];
				st = DMAR_E_FAULT;
				break;
			}
			host = dmar_physmem_host_ptr(dev->iommu->pm, res[i].pa, chunk);
			if (!host) {
				if (fault)
					*fault = res[i];
				st = DMAR_E_RANGE;
				break;
			}
			if (dir == DMAR_DMA_WRITE) {
				st = dmar_physmem_write(dev->iommu->pm, res[i].pa, b + moved, chunk);
				if (st != DMAR_OK) { /* read-only RAM: the page that refused */
					if (fault)
						*fault = res[i];
					break;
				}
			} else {
				memcpy(b + moved, host, chunk);
			}
			moved += chunk;
		}
	}
	dmar__rcu_read_unlock();
	if (done)
		*done = moved;
	return st;
}
