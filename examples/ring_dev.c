/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ringdev: the device side.  One thread per device executes the ring, as an emulator's
 * device thread (or a QEMU bottom half) would.
 *
 * How it uses the IOMMU, compared with QEMU: QEMU's dma_memory_rw() ends in
 * address_space_translate(), which asks the IOMMU region for ONE translation (an
 * IOMMUTLBEntry: translated_addr, addr_mask, perm), clamps the access to that page, and
 * turns a refused permission into a decode error (MEMTX_ERROR for the device).  ringdev does
 * the same per 4 KiB page, but asks for all pages of up to RINGDEV_GROUP descriptors in one
 * dmar_device_translate_batch() call, so the IOTLB probes and any page walks overlap and the
 * whole group is translated through one snapshot of the device's domain.  Descriptors are
 * fetched the way devices fetch them, in a burst of up to RINGDEV_GROUP: one translation per
 * ring page the burst touches, not one per slot.  No translation outlives its round: every
 * byte (descriptor, data, status) moves through a translation of the batch made for it in
 * that round, so an unmap or a domain switch between rounds is seen by the next one.  A
 * round is one read section (dmar_read_begin/end): an unmap followed by dmar_sync() returns
 * only after every copy that used the old translation is done, as with dmar_device_dma().
 *
 * Fault handling: a descriptor any of whose pages faults completes with an error status
 * and copies nothing (every host pointer is obtained before the first byte moves).  A batch
 * refused because the driver holds exclusive access (DMAR_FAULT_EXCLUSIVE, S18) is not an
 * error of the descriptor: the device backs off and translates it again after the window.
 * The fault records the IOMMU queued are drained after every batch that faulted.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ring_dev.h"

#define PAGE 4096ull
#define RINGDEV_GROUP 32u /* descriptors fetched per round */
#define MAX_PAGES (RINGDEV_MAX_LEN / PAGE + 1)
#define MAX_REQ 512u /* requests per batch: a full group of small descriptors, or 3 big ones */
#define LOGGED_MAX 16u

struct ringdev {
	dmar_physmem *pm;
	dmar_device *dev; /* NULL: no IOMMU, device addresses are physical */
	dmar_faultq *fq;
	uint64_t reg[RINGDEV_REG_COUNT]; /* accessed with __atomic builtins only */
	int stop;
	int started;
	pthread_t th;

	/* device thread only */
	struct ringdev_stats st;
	dmar_fault_record logged[LOGGED_MAX];
	unsigned nlogged;
	struct ringdev_desc desc[RINGDEV_GROUP];
	uint32_t *status_ptr[RINGDEV_GROUP];
	/* the fetch: per request (ring page), its first slot in the burst and the span of the
	 * burst's slots in the page (offsets lo..hi) */
	unsigned fetch_first[RINGDEV_GROUP + 1];
	uint32_t span_lo[RINGDEV_GROUP], span_hi[RINGDEV_GROUP];
	unsigned first[RINGDEV_GROUP + 1]; /* each descriptor's requests: [first[k], first[k+1]) */
	dmar_request req[MAX_REQ];
	dmar_result res[MAX_REQ];
};

int ringdev_create(dmar_physmem *pm, dmar_device *iommu_dev, dmar_faultq *fq,
		   struct ringdev **out)
{
	struct ringdev *d = calloc(1, sizeof(*d));

	if (!d)
		return -1;
	d->pm = pm;
	d->dev = iommu_dev;
	d->fq = fq;
	*out = d;
	return 0;
}

void ringdev_destroy(struct ringdev *d)
{
	if (d && d->started)
		ringdev_stop(d);
	free(d);
}

void ringdev_mmio_write(struct ringdev *d, enum ringdev_reg reg, uint64_t val)
{
	if (reg == RINGDEV_REG_HEAD || reg == RINGDEV_REG_ERROR || reg >= RINGDEV_REG_COUNT)
		return; /* read-only registers: writes are ignored, as on hardware */
	/* release: the descriptors written before the doorbell are visible to the device */
	__atomic_store_n(&d->reg[reg], val, __ATOMIC_RELEASE);
}

uint64_t ringdev_mmio_read(struct ringdev *d, enum ringdev_reg reg)
{
	return reg < RINGDEV_REG_COUNT ? __atomic_load_n(&d->reg[reg], __ATOMIC_ACQUIRE) : ~0ull;
}

void ringdev_get_stats(struct ringdev *d, struct ringdev_stats *st)
{
	*st = d->st;
}

void ringdev_print_faults(struct ringdev *d, unsigned max)
{
	for (unsigned i = 0; i < d->nlogged && i < max; i++) {
		const dmar_fault_record *r = &d->logged[i];

		printf("  fault #%" PRIu64 ": rid %04x addr 0x%" PRIx64 " %s: %s\n", r->seq,
		       r->requester, r->addr, (r->access & DMAR_ACCESS_WRITE) ? "write" : "read",
		       dmar_fault_str((dmar_fault)r->reason));
	}
}

/* The IOMMU's fault queue, drained on the thread that produced the faults. */
static void drain_faults(struct ringdev *d)
{
	dmar_fault_record r[64];
	dmar_faultq_stats fs;
	size_t k;

	if (!d->fq)
		return;
	while ((k = dmar_faultq_drain(d->fq, r, 64)) > 0) {
		for (size_t i = 0; i < k; i++) {
			d->st.faults_drained++;
			if (r[i].reason < DMAR_FAULT_COUNT)
				d->st.fault_reasons[r[i].reason]++;
			if (r[i].reason != DMAR_FAULT_EXCLUSIVE && d->nlogged < LOGGED_MAX)
				d->logged[d->nlogged++] = r[i];
		}
	}
	dmar_faultq_get_stats(d->fq, &fs);
	d->st.fault_queue_dropped = fs.dropped;
}

/* Translate n requests; 0, or -1 when the library refused the call itself (an
 * unregistered thread, a malformed request): a device bug, not a DMA fault. */
static int translate(struct ringdev *d, size_t n)
{
	size_t nfaults = 0;
	dmar_status st;

	if (!n)
		return 0;
	d->st.requests += n;
	if (!d->dev) { /* no IOMMU: device addresses are physical addresses */
		for (size_t i = 0; i < n; i++) {
			memset(&d->res[i], 0, sizeof(d->res[i]));
			d->res[i].pa = d->req[i].iova;
			d->res[i].page_lg2 = DMAR_PAGE_4K_LG2;
		}
		return 0;
	}
	d->st.batches++;
	st = dmar_device_translate_batch(d->dev, d->req, d->res, n, &nfaults);
	if (st != DMAR_OK) {
		fprintf(stderr, "ringdev: translate_batch: %s\n", dmar_status_str(st));
		return -1;
	}
	if (nfaults)
		drain_faults(d);
	return 0;
}

static void halt(struct ringdev *d, uint64_t slot_addr)
{
	__atomic_store_n(&d->reg[RINGDEV_REG_ERROR], slot_addr | 1, __ATOMIC_RELEASE);
}

static uint64_t npages(uint64_t addr, uint64_t len)
{
	return ((addr & (PAGE - 1)) + len + PAGE - 1) / PAGE;
}

/* Host pointers for every page of [addr, addr + len) from its translations; 0, or -1 when a
 * page is not RAM.  p[j] points at the first byte of the buffer in page j. */
static int host_pages(struct ringdev *d, uint64_t addr, uint64_t len, const dmar_result *res,
		      uint8_t **p)
{
	const uint64_t n = npages(addr, len);

	for (uint64_t j = 0; j < n; j++) {
		const uint64_t start = j ? 0 : (addr & (PAGE - 1));
		const uint64_t end = j + 1 < n ? PAGE : ((addr & (PAGE - 1)) + len - j * PAGE);

		p[j] = dmar_physmem_host_ptr(d->pm, res[j].pa + start, end - start);
		if (!p[j])
			return -1;
	}
	return 0;
}

/* Execute one translated descriptor: copy, or nothing when a page is not RAM. */
static uint32_t copy_desc(struct ringdev *d, const struct ringdev_desc *ds, const dmar_result *rs)
{
	const uint64_t ps = npages(ds->src, ds->len);
	uint8_t *hs[MAX_PAGES], *hd[MAX_PAGES];
	const uint64_t s0 = ds->src & (PAGE - 1), d0 = ds->dst & (PAGE - 1);

	if (host_pages(d, ds->src, ds->len, rs, hs) || host_pages(d, ds->dst, ds->len, rs + ps, hd))
		return RINGDEV_ST_BUS_ERROR;
	for (uint64_t o = 0; o < ds->len;) {
		const uint64_t sa = s0 + o, da = d0 + o; /* offsets from the first pages */
		uint64_t seg = ds->len - o;

		if (seg > PAGE - (sa & (PAGE - 1)))
			seg = PAGE - (sa & (PAGE - 1));
		if (seg > PAGE - (da & (PAGE - 1)))
			seg = PAGE - (da & (PAGE - 1));
		/* memmove: a guest may point src and dst at the same page */
		memmove(hd[da / PAGE] + (da & (PAGE - 1)) - (da < PAGE ? d0 : 0),
			hs[sa / PAGE] + (sa & (PAGE - 1)) - (sa < PAGE ? s0 : 0), seg);
		o += seg;
	}
	d->st.bytes += ds->len;
	return RINGDEV_ST_OK;
}

static int desc_ok(const struct ringdev_desc *ds)
{
	return ds->len && ds->len <= RINGDEV_MAX_LEN && !ds->flags &&
	       ds->src + ds->len > ds->src && ds->dst + ds->len > ds->dst;
}

enum { RUN_IDLE = -1, RUN_RETRY = -2, RUN_HALTED = -3 };

static uint64_t slot_addr(uint64_t base, uint64_t idx, uint64_t mask)
{
	return base + (idx & mask) * RINGDEV_DESC_SIZE;
}

/* One round: fetch up to RINGDEV_GROUP descriptors, translate all their pages in one batch,
 * execute them in order.  Returns the number completed or a RUN_* value. */
static int run_once(struct ringdev *d)
{
	const uint64_t head = __atomic_load_n(&d->reg[RINGDEV_REG_HEAD], __ATOMIC_RELAXED);
	const uint64_t tail = __atomic_load_n(&d->reg[RINGDEV_REG_TAIL], __ATOMIC_ACQUIRE);
	const uint64_t base = __atomic_load_n(&d->reg[RINGDEV_REG_RING_BASE], __ATOMIC_RELAXED);
	const uint64_t order = __atomic_load_n(&d->reg[RINGDEV_REG_RING_ORDER], __ATOMIC_RELAXED);
	const uint64_t mask = (1ull << (order > RINGDEV_MAX_ORDER ? RINGDEV_MAX_ORDER : order)) - 1;
	uint64_t n = tail - head;
	unsigned r = 0, done = 0;

	if (__atomic_load_n(&d->reg[RINGDEV_REG_ERROR], __ATOMIC_RELAXED))
		return RUN_HALTED;
	if (!n)
		return RUN_IDLE;
	if (n > mask + 1 || order > RINGDEV_MAX_ORDER || (base & (PAGE - 1))) {
		halt(d, base); /* the driver overran the ring or programmed it wrong */
		return RUN_HALTED;
	}
	if (n > RINGDEV_GROUP)
		n = RINGDEV_GROUP;

	/* 1. Fetch, as devices fetch descriptors: a burst, with one request per ring page it
	 *    touches (read and write: the statuses are written back there).  Slots are 32-byte
	 *    aligned, so none crosses a page.  The burst's slots run to the end of a page or of
	 *    the ring, then on from the next page or the ring's start; a ring within one page
	 *    that wraps asks for its page once. */
	for (unsigned i = 0; i < n;) {
		const uint64_t idx = (head + i) & mask, a = base + idx * RINGDEV_DESC_SIZE;
		const uint32_t off = (uint32_t)(a & (PAGE - 1));
		uint64_t c = (PAGE - off) / RINGDEV_DESC_SIZE; /* slots to the end of the page */

		if (c > mask + 1 - idx)
			c = mask + 1 - idx; /* ... or of the ring */
		if (c > n - i)
			c = n - i;
		if (r && !((a ^ d->req[r - 1].iova) & ~(PAGE - 1))) { /* wrapped in one page */
			d->span_lo[r - 1] = off;
		} else {
			d->req[r].iova = a;
			d->req[r].access = DMAR_ACCESS_READ | DMAR_ACCESS_WRITE;
			d->req[r].pasid = DMAR_NO_PASID;
			d->span_lo[r] = off;
			d->span_hi[r] = off + (uint32_t)c * RINGDEV_DESC_SIZE;
			d->fetch_first[r++] = i;
		}
		i += (unsigned)c;
	}
	d->fetch_first[r] = (unsigned)n;
	if (translate(d, r)) {
		halt(d, d->req[0].iova);
		return RUN_HALTED;
	}
	/* the descriptors, read through their page's translation of this round */
	for (unsigned k = 0; k < r; k++) {
		const unsigned lo = d->span_lo[k];
		uint8_t *const host = d->res[k].fault == DMAR_FAULT_NONE
			? dmar_physmem_host_ptr(d->pm, (d->res[k].pa & ~(PAGE - 1)) + lo,
						d->span_hi[k] - lo)
			: NULL;

		if (!host) { /* refused, or not RAM */
			n = d->fetch_first[k];
			if (!n && d->res[k].fault != DMAR_FAULT_EXCLUSIVE) {
				/* the ring itself faults: nothing to report a status into */
				halt(d, d->req[k].iova);
				return RUN_HALTED;
			}
			break;
		}
		for (unsigned i = d->fetch_first[k]; i < d->fetch_first[k + 1]; i++) {
			const uint64_t off = slot_addr(base, head + i, mask) & (PAGE - 1);
			uint8_t *const slot = host + (off - lo);

			memcpy(&d->desc[i], slot, RINGDEV_DESC_SIZE); /* the DMA read of the descriptor */
			d->status_ptr[i] = (uint32_t *)(slot + offsetof(struct ringdev_desc, status));
		}
	}
	if (!n) {
		d->st.retries++;
		return RUN_RETRY;
	}

	/* 2. Every page of every descriptor, in one batch. */
	r = 0;
	for (unsigned k = 0; k < n; k++) {
		const struct ringdev_desc *ds = &d->desc[k];
		uint64_t ps, pd;

		d->first[k] = r;
		if (!desc_ok(ds))
			continue;
		ps = npages(ds->src, ds->len);
		pd = npages(ds->dst, ds->len);
		if (r + ps + pd > MAX_REQ) { /* the rest waits for the next round */
			n = k;
			break;
		}
		for (uint64_t j = 0; j < ps; j++, r++) {
			d->req[r].iova = (ds->src & ~(PAGE - 1)) + j * PAGE;
			d->req[r].access = DMAR_ACCESS_READ;
			d->req[r].pasid = DMAR_NO_PASID;
		}
		for (uint64_t j = 0; j < pd; j++, r++) {
			d->req[r].iova = (ds->dst & ~(PAGE - 1)) + j * PAGE;
			d->req[r].access = DMAR_ACCESS_WRITE;
			d->req[r].pasid = DMAR_NO_PASID;
		}
	}
	d->first[n] = r;
	if (translate(d, r)) {
		halt(d, d->req[0].iova);
		return RUN_HALTED;
	}

	/* 3. Execute in order; stop at the first descriptor an exclusive window refused. */
	for (unsigned k = 0; k < n; k++) {
		uint32_t status = RINGDEV_ST_OK;
		int excl = 0;

		if (!desc_ok(&d->desc[k])) {
			status = RINGDEV_ST_BAD_DESC;
		} else {
			for (unsigned j = d->first[k]; j < d->first[k + 1]; j++) {
				const dmar_fault f = (dmar_fault)d->res[j].fault;

				if (f == DMAR_FAULT_EXCLUSIVE)
					excl = 1;
				else if (f != DMAR_FAULT_NONE && status == RINGDEV_ST_OK)
					status = (d->req[j].access & DMAR_ACCESS_WRITE)
						? RINGDEV_ST_DST_FAULT : RINGDEV_ST_SRC_FAULT;
			}
			if (excl)
				break;
			if (status == RINGDEV_ST_OK)
				status = copy_desc(d, &d->desc[k], d->res + d->first[k]);
		}
		/* the completion: a DMA write of the status, ordered after the data */
		__atomic_store_n(d->status_ptr[k], status, __ATOMIC_RELEASE);
		d->st.completed[status]++;
		done++;
	}
	__atomic_store_n(&d->reg[RINGDEV_REG_HEAD], head + done, __ATOMIC_RELEASE);
	if (done < n) {
		d->st.retries_data++;
		return done ? (int)done : RUN_RETRY;
	}
	return (int)done;
}

static void pause_us(long us)
{
	struct timespec t = { 0, us * 1000 };

	/* a thread about to sleep goes offline, so that a qsbr grace period (an exclusive
	 * window beginning, a table page being freed) does not wait for it */
	dmar_thread_offline();
	nanosleep(&t, NULL);
	dmar_thread_online();
}

static void *device_thread(void *arg)
{
	struct ringdev *d = arg;
	unsigned idle = 0;

	if (dmar_thread_register() != DMAR_OK) {
		fprintf(stderr, "ringdev: cannot register the device thread\n");
		halt(d, 0);
		return NULL;
	}
	while (!__atomic_load_n(&d->stop, __ATOMIC_ACQUIRE)) {
		int r;

		/* a round translates and then copies through the results: one read section, so
		 * that an unmap followed by dmar_sync() returns only once no copy of this round
		 * can still reach the old page (dmar_read_begin; a round never blocks) */
		if (dmar_read_begin() != DMAR_OK) {
			halt(d, 0);
			break;
		}
		r = run_once(d);
		dmar_read_end();
		/* between rounds the thread holds no translation: a quiescent state (qsbr) */
		dmar_thread_quiescent();
		if (r == RUN_RETRY) {
			pause_us(20); /* inside an exclusive window: come back after it */
		} else if (r == RUN_IDLE || r == RUN_HALTED) {
			if (++idle < 64)
				sched_yield();
			else
				pause_us(50);
		} else {
			idle = 0;
		}
	}
	dmar_thread_unregister();
	return NULL;
}

int ringdev_start(struct ringdev *d)
{
	int e;

	__atomic_store_n(&d->stop, 0, __ATOMIC_RELAXED);
	e = pthread_create(&d->th, NULL, device_thread, d);
	if (!e)
		d->started = 1;
	return e;
}

void ringdev_stop(struct ringdev *d)
{
	if (!d->started)
		return;
	__atomic_store_n(&d->stop, 1, __ATOMIC_RELEASE);
	pthread_join(d->th, NULL);
	d->started = 0;
	if (d->fq)
		drain_faults(d);
}
