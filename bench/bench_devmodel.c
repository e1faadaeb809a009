/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The examples/ device model (examples/ring_dev.c, linked in unchanged) driven the way
 * `examples/ring_demo --bench` drives it, in three configurations measured in one run
 * (issue 9: remapped >= 95% of pass-through; the figure set against it, a vhost-style device
 * IOTLB, keeps 63-82%).
 *
 *  devmodel/remapped/LEN     a remapped domain, a 32-bit device (as ring_demo: guest RAM at
 *                            4 GiB, out of its reach without remapping), every buffer page at
 *                            a shuffled frame, mapped at contiguous logical addresses
 *  devmodel/passthrough/LEN  a pass-through domain, a 64-bit device, buffers physically
 *                            contiguous (the device still calls translate)
 *  devmodel/no_iommu/LEN     no IOMMU: the device uses physical addresses directly
 *  LEN: 64-512 or 4096-16384, copy lengths drawn uniformly from that range; source offsets
 *  anywhere in a 2 MiB pool, destinations anywhere in the slot's area (ring_demo's fill()).
 *
 * As in --bench: a ring of 256, no bad descriptors, no domain switches, statuses checked
 * (every one must be OK), bytes not verified.  The driver is this benchmark's thread; the
 * device runs on its own thread (ringdev_start), so times are wall time (real_time).  One
 * iteration is one descriptor completed; the ring is kept full across batches, and what is
 * still in flight when the timer stops is drained untimed.  Counters: copied bytes/s, and on
 * IOMMU runs the translation requests per descriptor and (remapped) the IOTLB hit rate;
 * dev_cpu_ns, the device thread's CPU time per descriptor (less disturbed by other work on
 * the machine than the wall-time rate, which needs both threads scheduled). */
#define _POSIX_C_SOURCE 200809L
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "ring_dev.h"

#define PAGE 4096ull
#define GUEST_BASE (1ull << 32) /* guest RAM starts at 4 GiB (ring_demo) */
#define IOVA_BASE (1ull << 20)
#define GUARD 64u
#define RID 0x0810
#define RING_ORDER 8u
#define SRC_BYTES (2ull << 20)
#define REMAP_DEV_BITS 32 /* ring_demo's remapped device */

enum mode { MODE_REMAPPED, MODE_PASSTHROUGH, MODE_NO_IOMMU };

struct cfg {
	enum mode mode;
	uint32_t min_len, max_len;
};

struct buf {
	uint64_t addr;
	uint64_t npages;
	uint8_t **page;
};

/* ring_demo's struct driver, less what --bench does not use */
struct drv {
	struct cfg c;
	uint8_t *ram;
	uint64_t ram_size;
	dmar_physmem *pm;
	dmar_iommu *iommu;
	dmar_domain *dom;
	dmar_device *dev;
	struct ringdev *rd;
	uint64_t next_iova, seed, dst_stride;
	struct buf ring, src, dst;
	uint32_t len[1u << RING_ORDER];
	uint64_t submitted, reaped, bad;
};

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* ring_demo's dma_alloc(): physically contiguous without remapping; otherwise single frames
 * in shuffled order at contiguous logical addresses, a guard page after each buffer. */
static int dma_alloc(struct drv *v, uint64_t bytes, unsigned prot, struct buf *b)
{
	const uint64_t n = (bytes + PAGE - 1) / PAGE;
	dmar_pa_t *pa;

	b->npages = n;
	b->page = calloc(n, sizeof(*b->page));
	if (!b->page)
		return -1;
	if (v->c.mode != MODE_REMAPPED) {
		dmar_pa_t p;

		if (dmar_physmem_alloc(v->pm, n, 12, DMAR_PLACE_ANY, 0, &p) != DMAR_OK)
			return -1;
		b->addr = p;
		for (uint64_t i = 0; i < n; i++)
			b->page[i] = dmar_physmem_host_ptr(v->pm, p + i * PAGE, PAGE);
		return 0;
	}
	pa = calloc(n, sizeof(*pa));
	if (!pa)
		return -1;
	for (uint64_t i = 0; i < n; i++)
		if (dmar_physmem_alloc(v->pm, 1, 12, DMAR_PLACE_ANY, 0, &pa[i]) != DMAR_OK)
			goto fail;
	for (uint64_t i = n; i > 1; i--) {
		const uint64_t j = rnd(&v->seed) % i;
		const dmar_pa_t t = pa[i - 1];

		pa[i - 1] = pa[j];
		pa[j] = t;
	}
	b->addr = v->next_iova;
	v->next_iova += (n + 1) * PAGE;
	for (uint64_t i = 0; i < n; i++) {
		if (dmar_domain_map(v->dom, b->addr + i * PAGE, pa[i], PAGE, prot) != DMAR_OK)
			goto fail;
		b->page[i] = dmar_physmem_host_ptr(v->pm, pa[i], PAGE);
	}
	free(pa);
	return 0;
fail:
	free(pa);
	return -1;
}

static uint8_t *at(const struct buf *b, uint64_t off)
{
	return b->page[off / PAGE] + off % PAGE;
}

/* ring_demo's setup() for one domain, the device not started. */
static int setup(struct drv *v)
{
	const uint64_t ring_bytes = (1ull << RING_ORDER) * RINGDEV_DESC_SIZE;
	dmar_ram_range r;
	dmar_physmem_config pc;

	v->seed = 0x9e3779b97f4a7c15ull;
	v->dst_stride = (v->c.max_len + 2 * GUARD + PAGE - 1) / PAGE * PAGE;
	v->ram_size = ring_bytes + SRC_BYTES + (v->dst_stride << RING_ORDER) + PAGE;
	v->ram_size += v->ram_size / 256 + (16u << 20);
	v->ram_size = (v->ram_size + (2u << 20) - 1) & ~((2ull << 20) - 1);
	v->ram = aligned_alloc(PAGE, v->ram_size);
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
	if (dmar_physmem_create(&pc, &v->pm) != DMAR_OK)
		return -1;
	if (v->c.mode != MODE_NO_IOMMU) {
		const int pt = v->c.mode == MODE_PASSTHROUGH;
		dmar_iommu_config ic;

		dmar_iommu_config_default(&ic);
		if (dmar_iommu_create(v->pm, &ic, &v->iommu) != DMAR_OK ||
		    dmar_domain_create(v->iommu, pt ? DMAR_DOMAIN_PASSTHROUGH : DMAR_DOMAIN_REMAPPED,
				       NULL, &v->dom) != DMAR_OK ||
		    dmar_device_create(v->iommu, RID, pt ? 64 : REMAP_DEV_BITS, &v->dev) != DMAR_OK ||
		    dmar_device_attach(v->dev, v->dom) != DMAR_OK)
			return -1;
	}
	v->next_iova = IOVA_BASE;
	if (dma_alloc(v, ring_bytes, DMAR_PROT_READ | DMAR_PROT_WRITE, &v->ring) ||
	    dma_alloc(v, SRC_BYTES, DMAR_PROT_READ, &v->src) ||
	    dma_alloc(v, v->dst_stride << RING_ORDER, DMAR_PROT_READ | DMAR_PROT_WRITE, &v->dst))
		return -1;
	for (uint64_t i = 0; i < v->src.npages; i++)
		for (uint64_t j = 0; j < PAGE; j += 8) {
			const uint64_t x = rnd(&v->seed);

			memcpy(v->src.page[i] + j, &x, 8);
		}
	for (uint64_t i = 0; i < v->dst.npages; i++)
		memset(v->dst.page[i], 0xEE, PAGE);
	for (uint64_t i = 0; i < v->ring.npages; i++)
		memset(v->ring.page[i], 0, PAGE);
	if (ringdev_create(v->pm, v->dev, v->iommu ? dmar_iommu_faults(v->iommu) : NULL, &v->rd))
		return -1;
	ringdev_mmio_write(v->rd, RINGDEV_REG_RING_BASE, v->ring.addr);
	ringdev_mmio_write(v->rd, RINGDEV_REG_RING_ORDER, RING_ORDER);
	return 0;
}

static void teardown(struct drv *v)
{
	ringdev_destroy(v->rd);
	if (v->dev)
		dmar_device_destroy(v->dev);
	if (v->dom)
		dmar_domain_destroy(v->dom);
	dmar_iommu_destroy(v->iommu);
	dmar_physmem_destroy(v->pm);
	free(v->ram);
	free(v->ring.page);
	free(v->src.page);
	free(v->dst.page);
}

static struct ringdev_desc *slot_desc(struct drv *v, uint64_t idx)
{
	const uint64_t slot = idx & ((1ull << RING_ORDER) - 1);

	return (struct ringdev_desc *)(void *)at(&v->ring, slot * RINGDEV_DESC_SIZE);
}

/* ring_demo's fill() with --bad-every 0 and --no-verify */
static void fill(struct drv *v, uint64_t idx)
{
	const uint64_t slot = idx & ((1ull << RING_ORDER) - 1);
	struct ringdev_desc *d = slot_desc(v, idx);
	const uint64_t span = v->c.max_len - v->c.min_len + 1;
	const uint32_t len = v->c.min_len + (uint32_t)(rnd(&v->seed) % span);
	const uint64_t src_off = rnd(&v->seed) % (v->src.npages * PAGE - len + 1);
	const uint64_t dst_off = GUARD + rnd(&v->seed) % (v->dst_stride - 2 * GUARD - len + 1);

	d->src = v->src.addr + src_off;
	d->dst = v->dst.addr + slot * v->dst_stride + dst_off;
	d->flags = 0;
	d->cookie = (uint32_t)idx;
	d->len = len;
	v->len[slot] = len;
	__atomic_store_n(&d->status, RINGDEV_ST_PENDING, __ATOMIC_RELAXED);
}

/* 1 when descriptor idx has completed (counted bad unless OK), 0 while pending. */
static int reap(struct drv *v, uint64_t idx)
{
	const uint32_t s = __atomic_load_n(&slot_desc(v, idx)->status, __ATOMIC_ACQUIRE);

	if (s == RINGDEV_ST_PENDING)
		return 0;
	v->bad += s != RINGDEV_ST_OK;
	return 1;
}

/* Reap up to @p target, keeping the ring full; 0, or -1 when the device halted or stalled. */
static int drive(struct drv *v, uint64_t target, uint64_t *bytes)
{
	const uint64_t slots = 1ull << RING_ORDER;
	unsigned idle = 0;

	while (v->reaped < target) {
		const uint64_t before = v->reaped;

		while (v->reaped < target && v->reaped < v->submitted && reap(v, v->reaped)) {
			*bytes += v->len[v->reaped & (slots - 1)];
			v->reaped++;
		}
		if (v->submitted - v->reaped < slots) {
			while (v->submitted - v->reaped < slots)
				fill(v, v->submitted++);
			ringdev_mmio_write(v->rd, RINGDEV_REG_TAIL, v->submitted); /* doorbell */
		}
		dmar_thread_quiescent();
		if (v->reaped == before) {
			if (ringdev_mmio_read(v->rd, RINGDEV_REG_ERROR))
				return -1;
			if (++idle > 50000000u)
				return -1;
			sched_yield();
		} else {
			idle = 0;
		}
	}
	return 0;
}

static double cpu_s(clockid_t id)
{
	struct timespec t;

	clock_gettime(id, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void bm_devmodel(bench_state *st, void *arg)
{
	double proc0, self0, proc1 = 0, self1 = 0;
	struct drv *v = calloc(1, sizeof(*v));
	uint64_t target = 0, bytes = 0, spare = 0;
	int err = 0;

	if (!v) {
		bench_skip_with_error(st, "out of memory");
		return;
	}
	v->c = *(const struct cfg *)arg;
	dmar_thread_register(); /* the driver maps, and reports quiescent states */
	if (setup(v) || ringdev_start(v->rd)) {
		bench_skip_with_error(st, "set-up failed");
		goto out;
	}
	/* a warm-up ring's worth, untimed: first touches, IOTLB fills */
	if (drive(v, 4ull << RING_ORDER, &spare)) {
		bench_skip_with_error(st, "the device halted or stalled");
		err = 1;
		goto stop;
	}
	target = v->reaped;
	proc0 = cpu_s(CLOCK_PROCESS_CPUTIME_ID);
	self0 = cpu_s(CLOCK_THREAD_CPUTIME_ID);
	while (bench_keep_running_batch(st, 64)) {
		target += 64;
		if (drive(v, target, &bytes)) {
			err = 1;
			break;
		}
	}
	proc1 = cpu_s(CLOCK_PROCESS_CPUTIME_ID);
	self1 = cpu_s(CLOCK_THREAD_CPUTIME_ID);
	if (err)
		bench_skip_with_error(st, "the device halted or stalled");
	/* drain what is in flight (the timer is stopped) */
	else if (drive(v, v->submitted, &spare))
		bench_skip_with_error(st, "the device did not drain");
	else if (v->bad)
		bench_skip_with_error(st, "a descriptor completed with an error status");
	bench_set_items_processed(st, bench_iterations_done(st));
	bench_set_bytes_processed(st, (int64_t)bytes);
stop:
	dmar_thread_offline(); /* about to wait for the device thread */
	ringdev_stop(v->rd);
	dmar_thread_online();
	/* the device thread's CPU time per descriptor: the process's less this (the driver's)
	 * thread's, the two being the only threads; a preempted thread is not charged, so this
	 * moves less than wall time with other work on the machine (its idle spinning counts) */
	if (!err && bench_iterations_done(st))
		bench_counter(st, "dev_cpu_ns", 1e9 * ((proc1 - proc0) - (self1 - self0)) /
			      (double)bench_iterations_done(st), BENCH_CTR_DEFAULT);
	if (v->iommu && !err) {
		struct ringdev_stats ds;
		dmar_iommu_stats is;

		ringdev_get_stats(v->rd, &ds);
		bench_counter(st, "req_per_desc", (double)ds.requests / (double)v->reaped,
			      BENCH_CTR_DEFAULT);
		if (v->c.mode == MODE_REMAPPED) {
			dmar_iommu_get_stats(v->iommu, &is);
			if (is.iotlb.translations)
				bench_counter(st, "iotlb_hit_rate",
					      (double)is.iotlb.hits / (double)is.iotlb.translations,
					      BENCH_CTR_DEFAULT);
		}
	}
out:
	teardown(v);
	free(v);
	dmar_thread_unregister();
}

int main(int argc, char **argv)
{
	static const char *const mode_name[] = { "remapped", "passthrough", "no_iommu" };
	static const uint32_t sizes[][2] = { { 64, 512 }, { 4096, 16384 } };
	static struct cfg cfgs[3 * 2];
	char name[64];

	for (unsigned s = 0; s < 2; s++)
		for (unsigned m = 0; m < 3; m++) {
			struct cfg *c = &cfgs[s * 3 + m];

			c->mode = (enum mode)m;
			c->min_len = sizes[s][0];
			c->max_len = sizes[s][1];
			snprintf(name, sizeof(name), "devmodel/%s/%u-%u", mode_name[m], c->min_len,
				 c->max_len);
			bench_time_unit(bench_use_real_time(bench_register(name, bm_devmodel, c)),
					BENCH_NS);
		}
	bench_add_context("device_model", "examples/ring_dev.c, ring of 256, 32 descriptors "
			  "per translate batch");
	return bench_main(argc, argv);
}
