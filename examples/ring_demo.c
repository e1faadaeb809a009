/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ring_demo: the guest driver side of ringdev, and the check that every byte arrived.
 *
 * Set-up, as an emulator with a dmar IOMMU would have it:
 *  - guest RAM is the emulator's own buffer, given to dmar as a DMAR_RAM_BUFFER range at
 *    4 GiB (so a 32-bit device cannot reach any of it without remapping, S14);
 *  - remapped mode (default): the driver allocates buffers page by page from scattered
 *    frames and maps them at logically contiguous addresses below 4 GiB in a remapped domain
 *    (S13); a second domain with the same mappings is what the "driver" switches to, under
 *    exclusive access (S18), while the device runs;
 *  - --passthrough: a pass-through domain, buffers physically contiguous, device addresses
 *    are physical addresses (a 64-bit device); translate calls still happen;
 *  - --no-iommu: no IOMMU at all, the device uses physical addresses without asking anyone
 *    (the baseline the IOMMU's cost is measured against).
 *
 * The driver fills the ring with copies of random lengths from a source pool to per-slot
 * destination areas, some of them bad on purpose (an unmapped source, a read-only or
 * unreachable destination, a zero length), rings the doorbell, and checks every completion:
 * the status, every byte of the destination, guard bytes on both sides, and that faulting
 * descriptors wrote nothing.  At the end, the faults the device drained from the IOMMU must
 * be exactly the ones the bad descriptors cause.  Exit status 0 only if all of it holds.
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ring_dev.h"

#define PAGE 4096ull
#define GUEST_BASE (1ull << 32)   /* guest RAM starts at 4 GiB */
#define IOVA_BASE (1ull << 20)    /* logical addresses the driver hands out start here */
#define CANARY 0xEEu
#define GUARD 64u                 /* bytes checked on each side of a destination */
#define RID 0x0810                /* bus 08, device 02, function 0 */

enum mode { MODE_REMAPPED, MODE_PASSTHROUGH, MODE_NO_IOMMU };

enum bad_kind { BAD_SRC_UNMAPPED, BAD_DST_READONLY, BAD_DST_BEYOND_WIDTH, BAD_LEN_ZERO, BAD_KINDS };

struct opts {
	enum mode mode;
	uint64_t descriptors;
	double seconds;
	uint32_t min_len, max_len;
	unsigned ring_order;
	unsigned bad_every;
	unsigned switch_us, window_us;
	int verify;
	uint64_t seed;
};

/* A DMA buffer as the guest sees it: logically contiguous, a host pointer per page. */
struct buf {
	uint64_t addr; /* device address: logical (remapped) or physical */
	uint64_t npages;
	uint8_t **page;
};

/* What the driver expects of a slot's descriptor. */
struct expect {
	uint32_t status;
	uint32_t len;
	uint64_t src_off; /* in the source pool */
	uint64_t dst_off; /* in the slot's destination area */
	int kind;         /* -1, or the enum bad_kind */
};

struct driver {
	struct opts o;
	uint8_t *ram;
	uint64_t ram_size;
	dmar_physmem *pm;
	dmar_iommu *iommu;
	dmar_domain *dom[2];
	unsigned ndom;
	dmar_device *dev;
	struct ringdev *rd;
	uint64_t next_iova;
	uint64_t seed;

	struct buf ring, src, dst, ro;
	uint64_t unmapped;  /* a logical page nothing maps */
	uint64_t dst_stride;
	uint8_t ro_pattern[PAGE];
	struct expect *exp;

	/* results */
	uint64_t submitted, reaped, ok_bytes;
	uint64_t by_status[RINGDEV_ST_COUNT];
	uint64_t want_faults[DMAR_FAULT_COUNT];
	uint64_t wrong_status, wrong_bytes, wrong_guard;

	/* the switcher ("driver side" thread doing exclusive access) */
	pthread_t sw;
	int sw_started, sw_stop;
	uint64_t switches, switch_errors;
};

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void pause_us(unsigned us)
{
	struct timespec t = { us / 1000000, (long)(us % 1000000) * 1000 };

	dmar_thread_offline(); /* qsbr: a sleeping thread must not hold grace periods up */
	nanosleep(&t, NULL);
	dmar_thread_online();
}

static int fail(const char *what, dmar_status st)
{
	fprintf(stderr, "ring_demo: %s: %s\n", what, dmar_status_str(st));
	return -1;
}

/* ---- guest memory: allocate, map, access through per-page pointers -------------------- */

static int dma_alloc(struct driver *v, uint64_t bytes, unsigned prot, struct buf *b)
{
	const uint64_t n = (bytes + PAGE - 1) / PAGE;
	dmar_status st;

	b->npages = n;
	b->page = calloc(n, sizeof(*b->page));
	if (!b->page)
		return -1;
	if (v->o.mode != MODE_REMAPPED) {
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

static uint8_t *at(const struct buf *b, uint64_t off)
{
	return b->page[off / PAGE] + off % PAGE;
}

/* The largest run from @p off that stays in one page. */
static uint64_t run_len(uint64_t off, uint64_t len)
{
	const uint64_t r = PAGE - off % PAGE;

	return len < r ? len : r;
}

static void buf_fill(struct buf *b, uint64_t off, int c, uint64_t len)
{
	while (len) {
		const uint64_t n = run_len(off, len);

		memset(at(b, off), c, n);
		off += n;
		len -= n;
	}
}

/* Bytes of @p b at @p off that differ from @p c. */
static uint64_t buf_count_not(const struct buf *b, uint64_t off, uint8_t c, uint64_t len)
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
static int buf_equal(const struct buf *a, uint64_t aoff, const struct buf *b, uint64_t boff,
		     uint64_t len)
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

static int setup(struct driver *v)
{
	const uint64_t ring_bytes = (1ull << v->o.ring_order) * RINGDEV_DESC_SIZE;
	const uint64_t src_bytes = 2 * (uint64_t)v->o.max_len > (2u << 20) ? 2 * (uint64_t)v->o.max_len
									  : (2u << 20);
	dmar_ram_range r;
	dmar_physmem_config pc;
	dmar_status st;

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

	if (v->o.mode != MODE_NO_IOMMU) {
		dmar_iommu_config ic;

		dmar_iommu_config_default(&ic);
		st = dmar_iommu_create(v->pm, &ic, &v->iommu);
		if (st != DMAR_OK)
			return fail("iommu_create", st);
		if (v->o.mode == MODE_PASSTHROUGH) {
			v->ndom = 1;
			st = dmar_domain_create(v->iommu, DMAR_DOMAIN_PASSTHROUGH, NULL, &v->dom[0]);
		} else {
			v->ndom = v->o.switch_us ? 2 : 1;
			st = dmar_domain_create(v->iommu, DMAR_DOMAIN_REMAPPED, NULL, &v->dom[0]);
			if (st == DMAR_OK && v->ndom == 2)
				st = dmar_domain_create(v->iommu, DMAR_DOMAIN_REMAPPED, NULL, &v->dom[1]);
		}
		if (st != DMAR_OK)
			return fail("domain_create", st);
		/* pass-through needs a device that reaches all memory (S14); remapping lets a
		 * 32-bit device reach guest RAM above 4 GiB */
		st = dmar_device_create(v->iommu, RID, v->o.mode == MODE_PASSTHROUGH ? 64 : 32, &v->dev);
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

/* ---- the ring ---------------------------------------------------------------------------- */

static struct ringdev_desc *slot_desc(struct driver *v, uint64_t idx)
{
	const uint64_t slot = idx & ((1ull << v->o.ring_order) - 1);

	/* 32-byte slots in a page-aligned ring never straddle a page */
	return (struct ringdev_desc *)(void *)at(&v->ring, slot * RINGDEV_DESC_SIZE);
}

static void fill(struct driver *v, uint64_t idx)
{
	const uint64_t slot = idx & ((1ull << v->o.ring_order) - 1);
	struct ringdev_desc *d = slot_desc(v, idx);
	struct expect *e = &v->exp[slot];
	const uint64_t span = v->o.max_len - v->o.min_len + 1;
	uint32_t len = v->o.min_len + (uint32_t)(rnd(&v->seed) % span);
	const uint64_t src_room = v->src.npages * PAGE - len;

	e->kind = -1;
	if (v->o.bad_every && idx % v->o.bad_every == v->o.bad_every - 1) {
		e->kind = (int)((idx / v->o.bad_every) % BAD_KINDS);
		if (v->o.mode != MODE_REMAPPED && (e->kind == BAD_DST_READONLY ||
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
		if (v->o.mode == MODE_REMAPPED) {
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
static int reap(struct driver *v, uint64_t idx)
{
	const uint64_t slot = idx & ((1ull << v->o.ring_order) - 1);
	struct ringdev_desc *d = slot_desc(v, idx);
	const struct expect *e = &v->exp[slot];
	/* acquire: pairs with the device's release store, so the data is visible */
	const uint32_t status = __atomic_load_n(&d->status, __ATOMIC_ACQUIRE);
	const uint64_t dbase = slot * v->dst_stride + e->dst_off;

	if (status == RINGDEV_ST_PENDING)
		return 0;
	if (status < RINGDEV_ST_COUNT)
		v->by_status[status]++;
	if (status != e->status) {
		if (v->wrong_status++ < 5)
			fprintf(stderr, "ring_demo: descriptor %" PRIu64 " (kind %d): status %u, want %u\n",
				idx, e->kind, status, e->status);
		return 1;
	}
	if (status == RINGDEV_ST_OK)
		v->ok_bytes += e->len;
	if (!v->o.verify)
		return 1;
	if (status == RINGDEV_ST_OK && !buf_equal(&v->dst, dbase, &v->src, e->src_off, e->len)) {
		if (v->wrong_bytes++ < 5)
			fprintf(stderr, "ring_demo: descriptor %" PRIu64 ": copied bytes differ\n", idx);
	}
	if (status != RINGDEV_ST_OK && buf_count_not(&v->dst, dbase, CANARY, e->len)) {
		if (v->wrong_bytes++ < 5)
			fprintf(stderr, "ring_demo: descriptor %" PRIu64 ": failed but wrote\n", idx);
	}
	if (buf_count_not(&v->dst, dbase - GUARD, CANARY, GUARD) ||
	    buf_count_not(&v->dst, dbase + e->len, CANARY, GUARD)) {
		if (v->wrong_guard++ < 5)
			fprintf(stderr, "ring_demo: descriptor %" PRIu64 ": wrote outside [dst, dst+len)\n",
				idx);
	}
	return 1;
}

/* ---- the switcher: exclusive access and a domain switch while the device runs ---------- */

static void *switcher(void *arg)
{
	struct driver *v = arg;
	unsigned cur = 0;

	dmar_thread_register();
	while (!__atomic_load_n(&v->sw_stop, __ATOMIC_ACQUIRE)) {
		dmar_status st;

		pause_us(v->o.switch_us);
		/* returns once no translation of the device is in flight; from here on its
		 * requests fault with DMAR_FAULT_EXCLUSIVE */
		st = dmar_device_begin_exclusive(v->dev);
		if (st != DMAR_OK) {
			v->switch_errors++;
			fail("begin_exclusive", st);
			break;
		}
		pause_us(v->o.window_us); /* the driver's work inside the window */
		st = dmar_device_switch_domain(v->dev, v->dom[cur ^ 1]);
		if (st == DMAR_OK) {
			cur ^= 1;
		} else {
			v->switch_errors++;
			fail("switch_domain", st);
		}
		st = dmar_device_end_exclusive(v->dev);
		if (st != DMAR_OK) {
			v->switch_errors++;
			fail("end_exclusive", st);
			break;
		}
		v->switches++;
	}
	dmar_thread_unregister();
	return NULL;
}

/* ---- main loop ----------------------------------------------------------------------------- */

static int run(struct driver *v, double *elapsed)
{
	const uint64_t slots = 1ull << v->o.ring_order;
	const int timed = v->o.seconds > 0;
	double t0, last_progress;

	if (ringdev_start(v->rd))
		return -1;
	if (v->o.mode == MODE_REMAPPED && v->o.switch_us) {
		if (pthread_create(&v->sw, NULL, switcher, v))
			return -1;
		v->sw_started = 1;
	}
	t0 = last_progress = now();
	for (;;) {
		const uint64_t before = v->reaped;
		int more;
		double t;

		while (v->reaped < v->submitted && reap(v, v->reaped))
			v->reaped++;
		t = now();
		more = timed ? t - t0 < v->o.seconds : v->submitted < v->o.descriptors;
		if (!more && v->reaped == v->submitted)
			break;
		if (more && v->submitted - v->reaped < slots) {
			while (v->submitted - v->reaped < slots &&
			       (timed || v->submitted < v->o.descriptors))
				fill(v, v->submitted++);
			ringdev_mmio_write(v->rd, RINGDEV_REG_TAIL, v->submitted); /* doorbell */
		}
		dmar_thread_quiescent();
		if (v->reaped != before) {
			last_progress = t;
		} else {
			if (ringdev_mmio_read(v->rd, RINGDEV_REG_ERROR)) {
				fprintf(stderr, "ring_demo: the device halted (error register 0x%" PRIx64 ")\n",
					ringdev_mmio_read(v->rd, RINGDEV_REG_ERROR));
				break;
			}
			if (t - last_progress > 20.0) {
				fprintf(stderr, "ring_demo: no completion for 20 s\n");
				break;
			}
			sched_yield();
		}
	}
	*elapsed = now() - t0;
	__atomic_store_n(&v->sw_stop, 1, __ATOMIC_RELEASE);
	dmar_thread_offline(); /* about to wait for other threads */
	if (v->sw_started)
		pthread_join(v->sw, NULL);
	ringdev_stop(v->rd);
	dmar_thread_online();
	return v->reaped == v->submitted ? 0 : -1;
}

static const char *const status_name[RINGDEV_ST_COUNT] = {
	"pending", "ok", "src-fault", "dst-fault", "bad-desc", "bus-error",
};

static int report(struct driver *v, double elapsed)
{
	struct ringdev_stats ds;
	int bad = v->wrong_status || v->wrong_bytes || v->wrong_guard || v->reaped != v->submitted;

	ringdev_get_stats(v->rd, &ds);
	printf("  %" PRIu64 " descriptors in %.3f s: %.0f descriptors/s, %.1f MB/s"
	       " (%" PRIu64 " bytes copied)\n", v->reaped, elapsed, (double)v->reaped / elapsed,
	       (double)v->ok_bytes / elapsed / 1e6, v->ok_bytes);
	printf("  status:");
	for (unsigned s = RINGDEV_ST_OK; s < RINGDEV_ST_COUNT; s++)
		printf(" %s %" PRIu64, status_name[s], v->by_status[s]);
	printf("\n  device: %" PRIu64 " translation requests in %" PRIu64 " batches,"
	       " retried after an exclusive window: %" PRIu64 " fetches, %" PRIu64 " data batches\n",
	       ds.requests, ds.batches, ds.retries, ds.retries_data);
	if (ds.bytes != v->ok_bytes) {
		printf("  MISMATCH: the device copied %" PRIu64 " bytes, the driver saw %" PRIu64 "\n",
		       ds.bytes, v->ok_bytes);
		bad = 1;
	}
	if (v->iommu) {
		dmar_iommu_stats is;
		dmar_device_stats dv;

		dmar_iommu_get_stats(v->iommu, &is);
		dmar_device_get_stats(v->dev, &dv);
		printf("  iommu: %" PRIu64 " translations, IOTLB %" PRIu64 " hits / %" PRIu64
		       " misses, %s probe, %s RCU\n", is.translations, is.iotlb.hits, is.iotlb.misses,
		       dmar_iotlb_simd(), dmar_rcu_flavor());
		printf("  faults drained by the device: %" PRIu64 " (queue dropped %" PRIu64 ")\n",
		       ds.faults_drained, ds.fault_queue_dropped);
		for (unsigned f = 1; f < DMAR_FAULT_COUNT; f++) {
			const uint64_t want = f == DMAR_FAULT_EXCLUSIVE ? dv.faults[f] : v->want_faults[f];

			if (!ds.fault_reasons[f] && !dv.faults[f] && !want)
				continue;
			printf("    %-20s drained %8" PRIu64 "  device counted %8" PRIu64
			       "  expected %8" PRIu64 "%s\n", dmar_fault_str((dmar_fault)f),
			       ds.fault_reasons[f], dv.faults[f], want,
			       ds.fault_reasons[f] == want && dv.faults[f] == want ? "" : "  MISMATCH");
			if (ds.fault_reasons[f] != want || dv.faults[f] != want)
				bad = 1;
		}
		if (ds.fault_queue_dropped)
			bad = 1;
		ringdev_print_faults(v->rd, 3);
		if (v->sw_started) {
			printf("  domain switches under exclusive access: %" PRIu64
			       " (device counted %" PRIu64 ")\n", v->switches, dv.switches);
			if (dv.switches != v->switches || v->switch_errors)
				bad = 1;
		}
	}
	if (v->o.mode == MODE_REMAPPED && memcmp(v->ro.page[0], v->ro_pattern, PAGE)) {
		printf("  MISMATCH: the read-only page was written\n");
		bad = 1;
	}
	if (v->o.verify)
		printf("  verified: every byte of %" PRIu64 " copies, %u guard bytes around each of %"
		       PRIu64 " destinations, nothing written by a failed descriptor: %s\n",
		       v->by_status[RINGDEV_ST_OK], 2 * GUARD, v->reaped,
		       v->wrong_bytes || v->wrong_guard ? "FAILED" : "ok");
	else
		printf("  verified: statuses only (--no-verify)\n");
	printf("%s\n", bad ? "FAIL" : "PASS");
	return bad;
}

static void teardown(struct driver *v)
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

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ring_demo [options]\n"
		"  --passthrough        the device's domain is pass-through (64-bit device)\n"
		"  --no-iommu           no IOMMU at all (baseline)\n"
		"  --descriptors N      copies to run (default 20000)\n"
		"  --seconds S          run for S seconds instead\n"
		"  --min-len N, --max-len N   copy sizes in bytes (default 1 .. 16384)\n"
		"  --ring-order N       log2 of the ring slots (default 8)\n"
		"  --bad-every N        every Nth descriptor is bad on purpose (default 37; 0: none)\n"
		"  --switch-us N        a domain switch every N us (default 2000; 0: none)\n"
		"  --window-us N        how long each exclusive window stays open (default 100)\n"
		"  --no-verify          check statuses only, not the bytes (for rate measurements)\n"
		"  --bench              = --seconds 2 --no-verify --bad-every 0 --switch-us 0\n"
		"  --seed N\n");
}

static int parse(int argc, char **argv, struct opts *o)
{
	o->mode = MODE_REMAPPED;
	o->descriptors = 20000;
	o->seconds = 0;
	o->min_len = 1;
	o->max_len = 16384;
	o->ring_order = 8;
	o->bad_every = 37;
	o->switch_us = 2000;
	o->window_us = 100;
	o->verify = 1;
	o->seed = 0x9e3779b97f4a7c15ull;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;
		char *end = NULL;
		unsigned long long n = val ? strtoull(val, &end, 0) : 0;
		const int num_ok = val && end && *end == '\0';

		if (!strcmp(a, "--passthrough")) {
			o->mode = MODE_PASSTHROUGH;
			continue;
		} else if (!strcmp(a, "--no-iommu")) {
			o->mode = MODE_NO_IOMMU;
			continue;
		} else if (!strcmp(a, "--no-verify")) {
			o->verify = 0;
			continue;
		} else if (!strcmp(a, "--bench")) {
			o->seconds = 2;
			o->verify = 0;
			o->bad_every = 0;
			o->switch_us = 0;
			continue;
		} else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			exit(0);
		}
		if (!strcmp(a, "--seconds") && val && (o->seconds = strtod(val, &end)) > 0 && !*end) {
			i++;
			continue;
		}
		if (!num_ok) {
			usage(stderr);
			return -1;
		}
		if (!strcmp(a, "--descriptors") && n > 0)
			o->descriptors = n;
		else if (!strcmp(a, "--min-len") && n >= 1 && n <= RINGDEV_MAX_LEN)
			o->min_len = (uint32_t)n;
		else if (!strcmp(a, "--max-len") && n >= 1 && n <= RINGDEV_MAX_LEN)
			o->max_len = (uint32_t)n;
		else if (!strcmp(a, "--ring-order") && n >= 1 && n <= RINGDEV_MAX_ORDER)
			o->ring_order = (unsigned)n;
		else if (!strcmp(a, "--bad-every") && n <= 1000000)
			o->bad_every = (unsigned)n;
		else if (!strcmp(a, "--switch-us") && n <= 10000000)
			o->switch_us = (unsigned)n;
		else if (!strcmp(a, "--window-us") && n <= 1000000)
			o->window_us = (unsigned)n;
		else if (!strcmp(a, "--seed") && n)
			o->seed = n;
		else {
			usage(stderr);
			return -1;
		}
		i++;
	}
	if (o->min_len > o->max_len) {
		fprintf(stderr, "ring_demo: --min-len above --max-len\n");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct driver v;
	double elapsed = 0;
	int bad;

	if (parse(argc, argv, &v.o))
		return 2;
	v.seed = v.o.seed;
	printf("ring_demo: dmar %s, %s: ring of %u, copies of %u..%u bytes\n", dmar_version(),
	       v.o.mode == MODE_REMAPPED ? "remapped domain (32-bit device, guest RAM above 4 GiB)"
	       : v.o.mode == MODE_PASSTHROUGH ? "pass-through domain (64-bit device)"
					      : "no IOMMU (baseline)",
	       1u << v.o.ring_order, v.o.min_len, v.o.max_len);
	if (dmar_thread_register() != DMAR_OK) /* the driver maps: a registered thread */
		return 1;
	if (setup(&v)) {
		teardown(&v);
		dmar_thread_unregister();
		return 1;
	}
	if (run(&v, &elapsed))
		fprintf(stderr, "ring_demo: not every descriptor completed\n");
	bad = report(&v, elapsed);
	teardown(&v);
	dmar_thread_unregister();
	return bad ? 1 : 0;
}
