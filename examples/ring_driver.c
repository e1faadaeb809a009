/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The guest driver of ringdev (ring_driver.h). */
#include "ring_driver.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE RING_PAGE
#define GUARD RING_GUARD
#define GUEST_BASE (1ull << 32) /* guest RAM starts at 4 GiB */
#define IOVA_BASE (1ull << 20)  /* logical addresses the driver hands out start here */
#define CANARY 0xEEu
#define RID 0x0810              /* bus 08, device 02, function 0 */

enum bad_kind { BAD_SRC_UNMAPPED, BAD_DST_READONLY, BAD_DST_BEYOND_WIDTH, BAD_LEN_ZERO, BAD_KINDS };

void ring_opts_default(struct ring_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->mode = RING_REMAPPED;
	o->min_len = 1;
	o->max_len = 16384;
	o->ring_order = 8;
	o->bad_every = 37;
	o->verify = 1;
	o->seed = 0x9e3779b97f4a7c15ull;
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static int fail(const char *what, dmar_status st)
{
	fprintf(stderr, "ring_driver: %s: %s\n", what, dmar_status_str(st));
	return -1;
}

/* ---- guest memory: allocate, map, access through per-page pointers -------------------- */

static int dma_alloc(struct ring_driver *v, uint64_t bytes, unsigned prot, struct ring_buf *b)
{
	const uint64_t n = (bytes + PAGE - 1) / PAGE;
	dmar_status st;

	b->npages = n;
	b->page = calloc(n, sizeof(*b->page));
	if (!b->page)
		return -1;
	if (v->o.mode != RING_REMAPPED) {
		/* without remapping a device needs physically contiguous memory */
		dmar_pa_t pa;

		st = dmar_physmem_alloc(v->pm, n, 12, DMAR_PLACE_ANY, 0, &pa);
		if (st != DMAR_OK)
			return fail("physmem_alloc", st);
		b->addr = pa;
		for (uint64_t i = 0; i < n; i++)
			b->page[i] = dmar_physmem_host_ptr(v->pm, pa + i * PAGE, PAGE);
		return 0;
	}
	/* remapped: any frames, in a shuffled order, at contiguous logical addresses, with an
	 * unmapped guard page after the buffer */
	dmar_pa_t *pa = calloc(n, sizeof(*pa));

	if (!pa)
		return -1;
	for (uint64_t i = 0; i < n; i++) {
		st = dmar_physmem_alloc(v->pm, 1, 12, DMAR_PLACE_ANY, 0, &pa[i]);
		if (st != DMAR_OK) {
			free(pa);
			return fail("physmem_alloc", st);
		}
	}
	for (uint64_t i = n; i > 1; i--) {
		const uint64_t j = rnd(&v->seed) % i;
		const dmar_pa_t t = pa[i - 1];

		pa[i - 1] = pa[j];
		pa[j] = t;
	}
	b->addr = v->next_iova;
	v->next_iova += (n + 1) * PAGE;
	for (uint64_t i = 0; i < n; i++) {
		for (unsigned d = 0; d < v->ndom; d++) {
			st = dmar_domain_map(v->dom[d], b->addr + i * PAGE, pa[i], PAGE, prot);
			if (st != DMAR_OK) {
				free(pa);
				return fail("domain_map", st);
			}
		}
		b->page[i] = dmar_physmem_host_ptr(v->pm, pa[i], PAGE);
	}
	free(pa);
	return 0;
}

static uint8_t *at(const struct ring_buf *b, uint64_t off)
{
	return b->page[off / PAGE] + off % PAGE;
}

/* The largest run from @p off that stays in one page. */
static uint64_t run_len(uint64_t off, uint64_t len)
{
	const uint64_t r = PAGE - off % PAGE;

	return len < r ? len : r;
}

static void buf_fill(struct ring_buf *b, uint64_t off, int c, uint64_t len)
{
	while (len) {
		const uint64_t n = run_len(off, len);

		memset(at(b, off), c, n);
		off += n;
		len -= n;
	}
}

/* Bytes of @p b at @p off that differ from @p c. */
static uint64_t buf_count_not(const struct ring_buf *b, uint64_t off, uint8_t c, uint64_t len)
{
	uint64_t bad = 0;

	while (len) {
		const uint64_t n = run_len(off, len);
		const uint8_t *p = at(b, off);

		for (uint64_t i = 0; i < n; i++)
			bad += p[i] != c;
		off += n;
		len -= n;
	}
	return bad;
}

/* Whether a's bytes at aoff equal b's at boff (both scattered). */
static int buf_equal(const struct ring_buf *a, uint64_t aoff, const struct ring_buf *b,
		     uint64_t boff, uint64_t len)
{
	while (len) {
		uint64_t n = run_len(aoff, len);

		n = run_len(boff, n);
		if (memcmp(at(a, aoff), at(b, boff), n))
			return 0;
		aoff += n;
		boff += n;
		len -= n;
	}
	return 1;
}

/* ---- set-up ------------------------------------------------------------------------------ */

int ring_driver_setup(struct ring_driver *v)
{
	const uint64_t ring_bytes = (1ull << v->o.ring_order) * RINGDEV_DESC_SIZE;
	const uint64_t src_bytes = 2 * (uint64_t)v->o.max_len > (2u << 20) ? 2 * (uint64_t)v->o.max_len
									  : (2u << 20);
	dmar_ram_range r;
	dmar_physmem_config pc;
	dmar_status st;

	v->seed = v->o.seed;
	v->dst_stride = (v->o.max_len + 2 * GUARD + PAGE - 1) / PAGE * PAGE;
	/* buffers + page tables (at most 4 table pages per 2 MiB mapped, per domain) + slack */
	v->ram_size = ring_bytes + src_bytes + (v->dst_stride << v->o.ring_order) + PAGE;
	v->ram_size += v->ram_size / 256 + (16u << 20);
	v->ram_size = (v->ram_size + (2u << 20) - 1) & ~((2ull << 20) - 1);
	v->ram = aligned_alloc(PAGE, v->ram_size); /* the emulator's guest RAM */
	if (!v->ram)
		return -1;

	memset(&r, 0, sizeof(r));
	r.base = GUEST_BASE;
	r.size = v->ram_size;
	r.kind = DMAR_RAM_BUFFER;
	r.flags = DMAR_RAM_ALLOCATABLE;
	r.host = v->ram;
	memset(&pc, 0, sizeof(pc));
	pc.ranges = &r;
	pc.nranges = 1;
	st = dmar_physmem_create(&pc, &v->pm);
	if (st != DMAR_OK)
		return fail("physmem_create", st);

	if (v->o.mode != RING_NO_IOMMU) {
		dmar_iommu_config ic;

		dmar_iommu_config_default(&ic);
		st = dmar_iommu_create(v->pm, &ic, &v->iommu);
		if (st != DMAR_OK)
			return fail("iommu_create", st);
		if (v->o.mode == RING_PASSTHROUGH) {
			v->ndom = 1;
			st = dmar_domain_create(v->iommu, DMAR_DOMAIN_PASSTHROUGH, NULL, &v->dom[0]);
		} else {
			v->ndom = v->o.second_domain ? 2 : 1;
			st = dmar_domain_create(v->iommu, DMAR_DOMAIN_REMAPPED, NULL, &v->dom[0]);
			if (st == DMAR_OK && v->ndom == 2)
				st = dmar_domain_create(v->iommu, DMAR_DOMAIN_REMAPPED, NULL, &v->dom[1]);
		}
		if (st != DMAR_OK)
			return fail("domain_create", st);
		/* pass-through needs a device that reaches all memory (S14); remapping lets a
		 * 32-bit device reach guest RAM above 4 GiB */
		st = dmar_device_create(v->iommu, RID, v->o.mode == RING_PASSTHROUGH ? 64 : 32, &v->dev);
		if (st == DMAR_OK)
			st = dmar_device_attach(v->dev, v->dom[0]);
		if (st != DMAR_OK)
			return fail("device", st);
	}

	v->next_iova = IOVA_BASE;
	if (dma_alloc(v, ring_bytes, DMAR_PROT_READ | DMAR_PROT_WRITE, &v->ring) ||
	    dma_alloc(v, src_bytes, DMAR_PROT_READ, &v->src) ||
	    dma_alloc(v, v->dst_stride << v->o.ring_order, DMAR_PROT_READ | DMAR_PROT_WRITE, &v->dst) ||
	    dma_alloc(v, PAGE, DMAR_PROT_READ, &v->ro))
		return -1;
	v->unmapped = v->next_iova; /* the next logical page: never mapped */
	v->next_iova += 2 * PAGE;

	for (uint64_t i = 0; i < v->src.npages; i++)
		for (uint64_t j = 0; j < PAGE; j += 8) {
			const uint64_t x = rnd(&v->seed);

			memcpy(v->src.page[i] + j, &x, 8);
		}
	for (uint64_t j = 0; j < PAGE; j++)
		v->ro_pattern[j] = (uint8_t)(j * 7 + 3);
	memcpy(v->ro.page[0], v->ro_pattern, PAGE);
	buf_fill(&v->dst, 0, CANARY, v->dst.npages * PAGE);
	buf_fill(&v->ring, 0, 0, v->ring.npages * PAGE);
	v->exp = calloc(1ull << v->o.ring_order, sizeof(*v->exp));
	if (!v->exp)
		return -1;

	if (ringdev_create(v->pm, v->dev, v->iommu ? dmar_iommu_faults(v->iommu) : NULL, &v->rd))
		return -1;
	ringdev_mmio_write(v->rd, RINGDEV_REG_RING_BASE, v->ring.addr);
	ringdev_mmio_write(v->rd, RINGDEV_REG_RING_ORDER, v->o.ring_order);
	return 0;
}

void ring_driver_teardown(struct ring_driver *v)
{
	ringdev_destroy(v->rd);
	if (v->dev)
		dmar_device_destroy(v->dev);
	for (unsigned d = 0; d < v->ndom; d++)
		if (v->dom[d])
			dmar_domain_destroy(v->dom[d]);
	dmar_iommu_destroy(v->iommu);
	dmar_physmem_destroy(v->pm);
	free(v->ram);
	free(v->ring.page);
	free(v->src.page);
	free(v->dst.page);
	free(v->ro.page);
	free(v->exp);
}

/* ---- the ring ---------------------------------------------------------------------------- */

static struct ringdev_desc *slot_desc(struct ring_driver *v, uint64_t idx)
{
	const uint64_t slot = idx & ((1ull << v->o.ring_order) - 1);

	/* 32-byte slots in a page-aligned ring never straddle a page */
	return (struct ringdev_desc *)(void *)at(&v->ring, slot * RINGDEV_DESC_SIZE);
}

static void fill(struct ring_driver *v, uint64_t idx)
{
	const uint64_t slot = idx & ((1ull << v->o.ring_order) - 1);
	struct ringdev_desc *d = slot_desc(v, idx);
	struct ring_expect *e = &v->exp[slot];
	const uint64_t span = v->o.max_len - v->o.min_len + 1;
	uint32_t len = v->o.min_len + (uint32_t)(rnd(&v->seed) % span);
	const uint64_t src_room = v->src.npages * PAGE - len;

	e->kind = -1;
	if (v->o.bad_every && idx % v->o.bad_every == v->o.bad_every - 1) {
		e->kind = (int)((idx / v->o.bad_every) % BAD_KINDS);
		if (v->o.mode != RING_REMAPPED && (e->kind == BAD_DST_READONLY ||
						   e->kind == BAD_DST_BEYOND_WIDTH))
			e->kind = BAD_LEN_ZERO; /* nothing to refuse those without remapping */
	}
	e->src_off = rnd(&v->seed) % (src_room + 1);
	e->dst_off = GUARD + rnd(&v->seed) % (v->dst_stride - 2 * GUARD - len + 1);
	d->src = v->src.addr + e->src_off;
	d->dst = v->dst.addr + slot * v->dst_stride + e->dst_off;
	d->flags = 0;
	d->cookie = (uint32_t)idx;
	e->status = RINGDEV_ST_OK;
	switch (e->kind) {
	case BAD_SRC_UNMAPPED: /* within one page: exactly one refused request */
		len = len > 256 ? 256 : len;
		if (v->o.mode == RING_REMAPPED) {
			d->src = v->unmapped + rnd(&v->seed) % (PAGE - len + 1);
			e->status = RINGDEV_ST_SRC_FAULT;
			v->want_faults[DMAR_FAULT_NOT_PRESENT]++;
		} else { /* physical: the hole below guest RAM is no memory at all */
			d->src = 0x1000;
			e->status = RINGDEV_ST_BUS_ERROR;
		}
		break;
	case BAD_DST_READONLY:
		len = len > 256 ? 256 : len;
		d->dst = v->ro.addr + rnd(&v->seed) % (PAGE - len + 1);
		e->status = RINGDEV_ST_DST_FAULT;
		v->want_faults[DMAR_FAULT_WRITE]++;
		break;
	case BAD_DST_BEYOND_WIDTH: /* a 32-bit device cannot put this address on the bus */
		len = len > 256 ? 256 : len;
		d->dst = (1ull << 32) + 0x1000;
		e->status = RINGDEV_ST_DST_FAULT;
		v->want_faults[DMAR_FAULT_DEVICE_WIDTH]++;
		break;
	case BAD_LEN_ZERO:
		len = 0;
		e->status = RINGDEV_ST_BAD_DESC;
		break;
	default:
		break;
	}
	d->len = len;
	e->len = len;
	if (v->o.verify)
		buf_fill(&v->dst, slot * v->dst_stride + e->dst_off - GUARD, CANARY, len + 2 * GUARD);
	__atomic_store_n(&d->status, RINGDEV_ST_PENDING, __ATOMIC_RELAXED);
}

/* Check a completed descriptor; 1 if it was, 0 if still pending. */
static int reap(struct ring_driver *v, uint64_t idx)
{
	const uint64_t slot = idx & ((1ull << v->o.ring_order) - 1);
	struct ringdev_desc *d = slot_desc(v, idx);
	const struct ring_expect *e = &v->exp[slot];
	/* acquire: pairs with the device's release store, so the data is visible */
	const uint32_t status = __atomic_load_n(&d->status, __ATOMIC_ACQUIRE);
	const uint64_t dbase = slot * v->dst_stride + e->dst_off;

	if (status == RINGDEV_ST_PENDING)
		return 0;
	if (status < RINGDEV_ST_COUNT)
		v->by_status[status]++;
	if (status != e->status) {
		if (v->wrong_status++ < 5)
			fprintf(stderr, "ring_driver: descriptor %" PRIu64 " (kind %d): status %u, "
				"want %u\n", idx, e->kind, status, e->status);
		return 1;
	}
	if (status == RINGDEV_ST_OK)
		v->ok_bytes += e->len;
	if (!v->o.verify)
		return 1;
	if (status == RINGDEV_ST_OK && !buf_equal(&v->dst, dbase, &v->src, e->src_off, e->len)) {
		if (v->wrong_bytes++ < 5)
			fprintf(stderr, "ring_driver: descriptor %" PRIu64 ": copied bytes differ\n",
				idx);
	}
	if (status != RINGDEV_ST_OK && buf_count_not(&v->dst, dbase, CANARY, e->len)) {
		if (v->wrong_bytes++ < 5)
			fprintf(stderr, "ring_driver: descriptor %" PRIu64 ": failed but wrote\n", idx);
	}
	if (buf_count_not(&v->dst, dbase - GUARD, CANARY, GUARD) ||
	    buf_count_not(&v->dst, dbase + e->len, CANARY, GUARD)) {
		if (v->wrong_guard++ < 5)
			fprintf(stderr, "ring_driver: descriptor %" PRIu64 ": wrote outside "
				"[dst, dst+len)\n", idx);
	}
	return 1;
}

int ring_driver_pump(struct ring_driver *v, uint64_t reap_to, uint64_t submit_to)
{
	const uint64_t slots = 1ull << v->o.ring_order;
	const uint64_t before = v->reaped;

	while (v->reaped < reap_to && v->reaped < v->submitted && reap(v, v->reaped))
		v->reaped++;
	if (v->submitted < submit_to && v->submitted - v->reaped < slots) {
		while (v->submitted < submit_to && v->submitted - v->reaped < slots)
			fill(v, v->submitted++);
		ringdev_mmio_write(v->rd, RINGDEV_REG_TAIL, v->submitted); /* doorbell */
	}
	dmar_thread_quiescent();
	if (v->reaped == before && ringdev_mmio_read(v->rd, RINGDEV_REG_ERROR))
		return -1;
	return (int)(v->reaped - before);
}
