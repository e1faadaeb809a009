/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ring_demo: ringdev driven by its guest driver (ring_driver.h), and the check that every
 * byte arrived.
 *
 * The driver fills the ring with copies of random lengths, some of them bad on purpose, and
 * checks every completion (ring_driver.h says how); in remapped mode another thread, the
 * "driver side" of exclusive access, switches the device between two domains with the same
 * mappings while it runs (S18).  At the end, the faults the device drained from the IOMMU
 * must be exactly the ones the bad descriptors cause.  Exit status 0 only if all of it holds.
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ring_driver.h"

/* The driver and what this program adds to it: how long it runs, and the switcher. */
struct demo {
	struct ring_driver d; /* d.o: the driver's options */
	uint64_t descriptors;
	double seconds;       /* > 0: run this long instead of for a number of descriptors */
	unsigned switch_us, window_us;

	/* the switcher ("driver side" thread doing exclusive access) */
	pthread_t sw;
	int sw_started, sw_stop;
	uint64_t switches, switch_errors;
};

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

static void fail(const char *what, dmar_status st)
{
	fprintf(stderr, "ring_demo: %s: %s\n", what, dmar_status_str(st));
}

/* ---- the switcher: exclusive access and a domain switch while the device runs ---------- */

static void *switcher(void *arg)
{
	struct demo *m = arg;
	struct ring_driver *v = &m->d;
	unsigned cur = 0;

	dmar_thread_register();
	while (!__atomic_load_n(&m->sw_stop, __ATOMIC_ACQUIRE)) {
		dmar_status st;

		pause_us(m->switch_us);
		/* returns once no translation of the device is in flight; from here on its
		 * requests fault with DMAR_FAULT_EXCLUSIVE */
		st = dmar_device_begin_exclusive(v->dev);
		if (st != DMAR_OK) {
			m->switch_errors++;
			fail("begin_exclusive", st);
			break;
		}
		pause_us(m->window_us); /* the driver's work inside the window */
		st = dmar_device_switch_domain(v->dev, v->dom[cur ^ 1]);
		if (st == DMAR_OK) {
			cur ^= 1;
		} else {
			m->switch_errors++;
			fail("switch_domain", st);
		}
		st = dmar_device_end_exclusive(v->dev);
		if (st != DMAR_OK) {
			m->switch_errors++;
			fail("end_exclusive", st);
			break;
		}
		m->switches++;
	}
	dmar_thread_unregister();
	return NULL;
}

/* ---- main loop ----------------------------------------------------------------------------- */

static int run(struct demo *m, double *elapsed)
{
	struct ring_driver *v = &m->d;
	const int timed = m->seconds > 0;
	double t0, last_progress;

	if (ringdev_start(v->rd))
		return -1;
	if (v->ndom == 2) {
		if (pthread_create(&m->sw, NULL, switcher, m))
			return -1;
		m->sw_started = 1;
	}
	t0 = last_progress = now();
	for (;;) {
		const double t = now();
		const int more = timed ? t - t0 < m->seconds : v->submitted < m->descriptors;
		int n;

		if (!more && v->reaped == v->submitted)
			break;
		n = ring_driver_pump(v, UINT64_MAX, !more ? v->submitted
						    : timed ? UINT64_MAX : m->descriptors);
		if (n > 0) {
			last_progress = t;
			continue;
		}
		if (n < 0) {
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
	*elapsed = now() - t0;
	__atomic_store_n(&m->sw_stop, 1, __ATOMIC_RELEASE);
	dmar_thread_offline(); /* about to wait for other threads */
	if (m->sw_started)
		pthread_join(m->sw, NULL);
	ringdev_stop(v->rd);
	dmar_thread_online();
	return v->reaped == v->submitted ? 0 : -1;
}

static const char *const status_name[RINGDEV_ST_COUNT] = {
	"pending", "ok", "src-fault", "dst-fault", "bad-desc", "bus-error",
};

static int report(const struct demo *m, double elapsed)
{
	const struct ring_driver *v = &m->d;
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
		if (m->sw_started) {
			printf("  domain switches under exclusive access: %" PRIu64
			       " (device counted %" PRIu64 ")\n", m->switches, dv.switches);
			if (dv.switches != m->switches || m->switch_errors)
				bad = 1;
		}
	}
	if (v->o.mode == RING_REMAPPED && memcmp(v->ro.page[0], v->ro_pattern, RING_PAGE)) {
		printf("  MISMATCH: the read-only page was written\n");
		bad = 1;
	}
	if (v->o.verify)
		printf("  verified: every byte of %" PRIu64 " copies, %u guard bytes around each of %"
		       PRIu64 " destinations, nothing written by a failed descriptor: %s\n",
		       v->by_status[RINGDEV_ST_OK], 2 * RING_GUARD, v->reaped,
		       v->wrong_bytes || v->wrong_guard ? "FAILED" : "ok");
	else
		printf("  verified: statuses only (--no-verify)\n");
	printf("%s\n", bad ? "FAIL" : "PASS");
	return bad;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ring_demo [options]\n"
		"  --passthrough        the device's domain is pass-through (64-bit device)\n"
		"  --no-iommu           no IOMMU at all (baseline)\n"
		"  --descriptors N      copies to run (default 20000; at most 10^10)\n"
		"  --seconds S          run for S seconds instead (0 < S <= 86400)\n"
		"  --min-len N, --max-len N   copy sizes in bytes (default 1 .. 16384)\n"
		"  --ring-order N       log2 of the ring slots (default 8)\n"
		"  --bad-every N        every Nth descriptor is bad on purpose (default 37; 0: none)\n"
		"  --switch-us N        a domain switch every N us (default 2000; 0: none)\n"
		"  --window-us N        how long each exclusive window stays open (default 100)\n"
		"  --no-verify          check statuses only, not the bytes (for rate measurements)\n"
		"  --bench              = --seconds 2 --no-verify --bad-every 0 --switch-us 0\n"
		"  --seed N             the driver's random seed (1 .. 2^64-1)\n"
		"Numbers are plain decimal (no sign, space, hex or exponent); a bad one is refused\n"
		"with a message naming its option, exit status 2.\n");
}

#define MAX_SECONDS 86400.0 /* a day: a run that is meant to end */
#define MAX_DESCRIPTORS 10000000000ull /* hours at any rate seen */

/* Plain decimal digits (no sign, space, base prefix or exponent) in lo..hi: 0 with *v, or -1
 * with a message naming the option. */
static int parse_uint(const char *opt, const char *val, uint64_t lo, uint64_t hi, uint64_t *v)
{
	uint64_t x = 0;
	const char *p = val;

	for (; *p >= '0' && *p <= '9'; p++) {
		const unsigned d = (unsigned)(*p - '0');

		if (x > (UINT64_MAX - d) / 10)
			break;
		x = x * 10 + d;
	}
	if (p == val || *p || x < lo || x > hi) {
		fprintf(stderr, "ring_demo: %s: '%s' is %s (want an integer in %" PRIu64 "..%" PRIu64
			")\n", opt, val, p == val || (*p && (*p < '0' || *p > '9')) ? "not an integer"
			: "out of range", lo, hi);
		return -1;
	}
	*v = x;
	return 0;
}

/* Plain decimal with one optional point (no sign, exponent, hex, NaN or infinity), above 0 and
 * at most MAX_SECONDS: 0 with *v, or -1 with a message. */
static int parse_seconds(const char *opt, const char *val, double *v)
{
	unsigned digits = 0, points = 0;
	const char *p = val;
	double d;

	for (; (*p >= '0' && *p <= '9') || *p == '.'; p++) {
		if (*p == '.')
			points++;
		else
			digits++;
	}
	if (*p || !digits || points > 1) {
		fprintf(stderr, "ring_demo: %s: '%s' is not a plain decimal number (want seconds in "
			"(0, %g])\n", opt, val, MAX_SECONDS);
		return -1;
	}
	d = strtod(val, NULL); /* digits and a point: the same in every locale ring_demo runs */
	if (!(d > 0 && d <= MAX_SECONDS)) {
		fprintf(stderr, "ring_demo: %s: '%s' is out of range (want seconds in (0, %g])\n",
			opt, val, MAX_SECONDS);
		return -1;
	}
	*v = d;
	return 0;
}

/* The command line: 0, or -1 with a message naming the option (exit status 2). */
static int parse(int argc, char **argv, struct demo *m)
{
	struct ring_opts *o = &m->d.o;
	static const struct {
		const char *name;
		uint64_t lo, hi;
	} num[] = {
		{ "--descriptors", 1, MAX_DESCRIPTORS },
		{ "--min-len", 1, RINGDEV_MAX_LEN },
		{ "--max-len", 1, RINGDEV_MAX_LEN },
		{ "--ring-order", 1, RINGDEV_MAX_ORDER },
		{ "--bad-every", 0, 1000000 },
		{ "--switch-us", 0, 10000000 },
		{ "--window-us", 0, 1000000 },
		{ "--seed", 1, UINT64_MAX },
	};

	ring_opts_default(o);
	m->descriptors = 20000;
	m->seconds = 0;
	m->switch_us = 2000;
	m->window_us = 100;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;
		size_t k = 0;
		uint64_t n;

		if (!strcmp(a, "--passthrough")) {
			o->mode = RING_PASSTHROUGH;
			continue;
		} else if (!strcmp(a, "--no-iommu")) {
			o->mode = RING_NO_IOMMU;
			continue;
		} else if (!strcmp(a, "--no-verify")) {
			o->verify = 0;
			continue;
		} else if (!strcmp(a, "--bench")) {
			m->seconds = 2;
			o->verify = 0;
			o->bad_every = 0;
			m->switch_us = 0;
			continue;
		} else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			exit(0);
		}
		while (k < sizeof(num) / sizeof(num[0]) && strcmp(a, num[k].name))
			k++;
		if (k == sizeof(num) / sizeof(num[0]) && strcmp(a, "--seconds")) {
			fprintf(stderr, "ring_demo: '%s': unknown option (--help lists them)\n", a);
			return -1;
		}
		if (!val) {
			fprintf(stderr, "ring_demo: %s: a value is missing\n", a);
			return -1;
		}
		i++;
		if (!strcmp(a, "--seconds")) {
			if (parse_seconds(a, val, &m->seconds))
				return -1;
			continue;
		}
		if (parse_uint(a, val, num[k].lo, num[k].hi, &n))
			return -1;
		switch (k) {
		case 0: m->descriptors = n; break;
		case 1: o->min_len = (uint32_t)n; break;
		case 2: o->max_len = (uint32_t)n; break;
		case 3: o->ring_order = (unsigned)n; break;
		case 4: o->bad_every = (unsigned)n; break;
		case 5: m->switch_us = (unsigned)n; break;
		case 6: m->window_us = (unsigned)n; break;
		default: o->seed = n; break;
		}
	}
	if (o->min_len > o->max_len) {
		fprintf(stderr, "ring_demo: --min-len %u is above --max-len %u\n", o->min_len,
			o->max_len);
		return -1;
	}
	/* the switcher needs a second domain to switch to */
	o->second_domain = o->mode == RING_REMAPPED && m->switch_us;
	return 0;
}

int main(int argc, char **argv)
{
	static struct demo m;
	const struct ring_opts *o = &m.d.o;
	double elapsed = 0;
	int bad;

	if (parse(argc, argv, &m))
		return 2;
	printf("ring_demo: dmar %s, %s: ring of %u, copies of %u..%u bytes\n", dmar_version(),
	       o->mode == RING_REMAPPED ? "remapped domain (32-bit device, guest RAM above 4 GiB)"
	       : o->mode == RING_PASSTHROUGH ? "pass-through domain (64-bit device)"
					     : "no IOMMU (baseline)",
	       1u << o->ring_order, o->min_len, o->max_len);
	if (dmar_thread_register() != DMAR_OK) /* the driver maps: a registered thread */
		return 1;
	if (ring_driver_setup(&m.d)) {
		ring_driver_teardown(&m.d);
		dmar_thread_unregister();
		return 1;
	}
	if (run(&m, &elapsed))
		fprintf(stderr, "ring_demo: not every descriptor completed\n");
	bad = report(&m, elapsed);
	ring_driver_teardown(&m.d);
	dmar_thread_unregister();
	return bad ? 1 : 0;
}
