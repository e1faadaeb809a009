/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The examples/ device model (examples/ring_dev.c) driven by the examples' own driver
 * (examples/ring_driver.c) as `examples/ring_demo --bench` drives it, in three
 * configurations in one run, so that the cost of the IOMMU is read off one report (the
 * target it is held to, and the results, are in docs/performance.md).
 *
 *  devmodel/remapped/LEN     a remapped domain, a 32-bit device (as ring_demo: guest RAM at
 *                            4 GiB, out of its reach without remapping), every buffer page at
 *                            a shuffled frame, mapped at contiguous logical addresses
 *  devmodel/passthrough/LEN  a pass-through domain, a 64-bit device, buffers physically
 *                            contiguous (the device still calls translate)
 *  devmodel/no_iommu/LEN     no IOMMU: the device uses physical addresses directly
 *  LEN: 64-512 or 4096-16384, copy lengths drawn uniformly from that range; source offsets
 *  anywhere in a 2 MiB pool, destinations anywhere in the slot's area.
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
#include "ring_driver.h"

struct cfg {
	enum ring_mode mode;
	uint32_t min_len, max_len;
};

/* Reap up to descriptor @target, filling the ring up to @submit_to; 0, or -1 when the
 * device halted or stalled. */
static int drive(struct ring_driver *v, uint64_t target, uint64_t submit_to)
{
	unsigned idle = 0;

	while (v->reaped < target) {
		const int n = ring_driver_pump(v, target, submit_to);

		if (n < 0 || (n == 0 && ++idle > 50000000u))
			return -1;
		if (n == 0)
			sched_yield();
		else
			idle = 0;
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
	const struct cfg *c = arg;
	double proc0, self0, proc1 = 0, self1 = 0;
	struct ring_driver *v = calloc(1, sizeof(*v));
	uint64_t target = 0, bytes0;
	int err = 0;

	if (!v) {
		bench_skip_with_error(st, "out of memory");
		return;
	}
	/* ring_demo --bench: no bad descriptors, one domain, statuses only */
	ring_opts_default(&v->o);
	v->o.mode = c->mode;
	v->o.min_len = c->min_len;
	v->o.max_len = c->max_len;
	v->o.bad_every = 0;
	v->o.verify = 0;
	dmar_thread_register(); /* the driver maps, and reports quiescent states */
	if (ring_driver_setup(v) || ringdev_start(v->rd)) {
		bench_skip_with_error(st, "set-up failed");
		goto out;
	}
	/* a warm-up of four rings' worth, untimed: first touches, IOTLB fills */
	if (drive(v, 4ull << v->o.ring_order, UINT64_MAX)) {
		bench_skip_with_error(st, "the device halted or stalled");
		err = 1;
		goto stop;
	}
	target = v->reaped;
	bytes0 = v->ok_bytes;
	proc0 = cpu_s(CLOCK_PROCESS_CPUTIME_ID);
	self0 = cpu_s(CLOCK_THREAD_CPUTIME_ID);
	while (bench_keep_running_batch(st, 64)) {
		target += 64;
		if (drive(v, target, UINT64_MAX)) {
			err = 1;
			break;
		}
	}
	proc1 = cpu_s(CLOCK_PROCESS_CPUTIME_ID);
	self1 = cpu_s(CLOCK_THREAD_CPUTIME_ID);
	bench_set_items_processed(st, bench_iterations_done(st));
	bench_set_bytes_processed(st, (int64_t)(v->ok_bytes - bytes0));
	if (err)
		bench_skip_with_error(st, "the device halted or stalled");
	/* drain what is in flight (the timer is stopped) */
	else if (drive(v, v->submitted, v->submitted))
		bench_skip_with_error(st, "the device did not drain");
	else if (v->wrong_status)
		bench_skip_with_error(st, "a descriptor completed with an error status");
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
		if (c->mode == RING_REMAPPED) {
			dmar_iommu_get_stats(v->iommu, &is);
			if (is.iotlb.translations)
				bench_counter(st, "iotlb_hit_rate",
					      (double)is.iotlb.hits / (double)is.iotlb.translations,
					      BENCH_CTR_DEFAULT);
		}
	}
out:
	ring_driver_teardown(v);
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

			c->mode = (enum ring_mode)m;
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
