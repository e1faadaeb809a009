/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Devices and logical adapters (S14, S15), exclusive access (S18), translation.
 *
 * A logical adapter's state (domain, exclusive flag) is one immutable record published with
 * RCU: a translation reads it once, so a batch never mixes two domains, and
 * dmar_device_begin_exclusive() returns only after a grace period, i.e. after every
 * translation that could have seen the old state has finished.  That is how it knows no
 * translation of the adapter is in flight (S18), at no cost to the translation path. */
#include "rcu.h"

#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "iommu_internal.h"
#include "iotlb_internal.h"

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
		/* the switches it counted as its own adapter's leader stay in the IOMMU's sum */
		m->gone.switches += __atomic_load_n(&dev->switches, __ATOMIC_RELAXED);
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
	{
		/* its counts stay in the IOMMU's (a member's switches are its leader's) */
		dmar_device_stats ds;

		dmar_device_get_stats(dev, &ds);
		m->gone.translations += ds.translations;
		for (int f = 1; f < DMAR_FAULT_COUNT; f++)
			m->gone.faults[f] += ds.faults[f];
		if (dev->lead == dev)
			m->gone.switches += ds.switches;
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
			: (req[i].pasid < (1u << 20) ? dmar__pasid_space(d, req[i].pasid) : NULL);
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

