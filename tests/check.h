/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A tiny TAP-producing test harness: each TEST is a subtest ("ok 3 - S7_unmapped_faults");
 * CHECK* record a failure with the values seen and go on.  main() comes from RUN_TESTS. */
#ifndef TESTS_CHECK_H
#define TESTS_CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dmar.h>

static int check_failed_;

#define CHECK(cond)                                                                   \
	do {                                                                          \
		if (!(cond)) {                                                        \
			printf("#   %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
			check_failed_ = 1;                                            \
		}                                                                     \
	} while (0)

#define CHECK_EQ(a, b)                                                                  \
	do {                                                                            \
		uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);                        \
		if (a_ != b_) {                                                         \
			printf("#   %s:%d: %s == %s failed: 0x%" PRIx64 " != 0x%" PRIx64 "\n", \
			       __FILE__, __LINE__, #a, #b, a_, b_);                     \
			check_failed_ = 1;                                              \
		}                                                                       \
	} while (0)

#define CHECK_ST(expr, want)                                                              \
	do {                                                                              \
		dmar_status got_ = (expr);                                                \
		if (got_ != (want)) {                                                     \
			printf("#   %s:%d: %s -> %s, want %s\n", __FILE__, __LINE__, #expr,  \
			       dmar_status_str(got_), dmar_status_str(want));            \
			check_failed_ = 1;                                                \
		}                                                                         \
	} while (0)

/* Stop this subtest when a precondition fails (later checks would only add noise). */
#define REQUIRE(cond)                                                                  \
	do {                                                                           \
		if (!(cond)) {                                                         \
			printf("#   %s:%d: REQUIRE(%s) failed\n", __FILE__, __LINE__, #cond); \
			check_failed_ = 1;                                             \
			return;                                                        \
		}                                                                      \
	} while (0)

/* xorshift64: reproducible pseudo-random numbers for tests (state must not be 0). */
static inline uint64_t test_xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

struct test_case {
	const char *name;
	void (*fn)(void);
};

#define TEST(name) static void name(void)
#define T(name) { #name, name }

/* --bench on the command line: tests that can also time what they check do (the checkasm
 * habit); without it they only check. */
static int test_bench_;

/* Whether case @name is one of the @nnames names (any case when there are none). */
static inline int test_wanted_(const char *name, char **names, int nnames)
{
	for (int a = 0; a < nnames; a++)
		if (strcmp(names[a], name) == 0)
			return 1;
	return nnames == 0;
}

/* Runs every case, or only those named on the command line; a name that is no case's is a
 * mistake (a renamed test a build file still asks for would otherwise pass as "1..0"): it
 * bails out with status 2 before anything runs, as an unknown option does. */
static inline int test_run_(const struct test_case *cases, size_t n, int argc, char **argv)
{
	int failures = 0, idx = 0, planned = 0, nnames = 0;
	char **names = argv + 1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("TAP version 13\n");
	for (int a = 1; a < argc; a++) {
		size_t i = 0;

		if (strcmp(argv[a], "--bench") == 0) {
			test_bench_ = 1;
			continue;
		}
		while (i < n && strcmp(argv[a], cases[i].name) != 0)
			i++;
		if (i == n) {
			printf("Bail out! no test is named '%s'\n", argv[a]);
			fprintf(stderr, "%s: no test is named '%s' (options: --bench)\n", argv[0],
				argv[a]);
			return 2;
		}
		names[nnames++] = argv[a];
	}
	for (size_t i = 0; i < n; i++)
		planned += test_wanted_(cases[i].name, names, nnames);
	printf("1..%d\n", planned);
	dmar_thread_register();
	for (size_t i = 0; i < n; i++) {
		if (!test_wanted_(cases[i].name, names, nnames))
			continue;
		check_failed_ = 0;
		cases[i].fn();
		printf("%s %d - %s\n", check_failed_ ? "not ok" : "ok", ++idx, cases[i].name);
		failures += check_failed_;
	}
	dmar_thread_unregister();
	return failures ? 1 : 0;
}

#define RUN_TESTS(...)                                                                \
	int main(int argc, char **argv)                                               \
	{                                                                             \
		static const struct test_case cases[] = { __VA_ARGS__ };              \
		return test_run_(cases, sizeof(cases) / sizeof(cases[0]), argc, argv); \
	}

/* A small memory map for tests: 64 MiB at 0, a hole, 64 MiB at 4 GiB, 1 GiB at 1 TiB. */
static inline dmar_physmem *test_physmem(unsigned flags)
{
	static const dmar_ram_range r[] = {
		{ .base = 0, .size = 64ull << 20 },
		{ .base = 4ull << 30, .size = 64ull << 20 },
		{ .base = 1ull << 40, .size = 1ull << 30 },
	};
	dmar_physmem_config cfg = { .ranges = r, .nranges = 3, .pa_bits = 52, .flags = flags };
	dmar_physmem *pm = NULL;

	if (dmar_physmem_create(&cfg, &pm) != DMAR_OK) {
		printf("Bail out! cannot create the test physical memory\n");
		exit(2);
	}
	return pm;
}

/* An IOMMU on @pm with the default configuration and, unless @fault_queue is 0, a fault
 * queue of that many records. */
static inline dmar_iommu *test_iommu(dmar_physmem *pm, unsigned fault_queue)
{
	dmar_iommu_config c;
	dmar_iommu *mmu = NULL;

	dmar_iommu_config_default(&c);
	if (fault_queue)
		c.fault_queue = fault_queue;
	if (dmar_iommu_create(pm, &c, &mmu) != DMAR_OK) {
		printf("Bail out! cannot create the test IOMMU\n");
		exit(2);
	}
	return mmu;
}

/* What most tests start from: test_physmem(0), an IOMMU on it, one domain and one device
 * (requester id TEST_FX_RID) attached to it. */
struct test_fx {
	dmar_physmem *pm;
	dmar_iommu *mmu;
	dmar_domain *dom;
	dmar_device *dev;
};

#define TEST_FX_RID 0x0100

/* A domain of @kind, a device that puts @dma_bits-bit addresses on the bus, an IOMMU fault
 * queue of @fault_queue records (0: the default). */
static inline void test_fx_setup(struct test_fx *f, dmar_domain_kind kind, unsigned dma_bits,
				 unsigned fault_queue)
{
	f->pm = test_physmem(0);
	f->mmu = test_iommu(f->pm, fault_queue);
	if (dmar_domain_create(f->mmu, kind, NULL, &f->dom) != DMAR_OK ||
	    dmar_device_create(f->mmu, TEST_FX_RID, dma_bits, &f->dev) != DMAR_OK ||
	    dmar_device_attach(f->dev, f->dom) != DMAR_OK) {
		printf("Bail out! cannot set up the test domain and device\n");
		exit(2);
	}
}

/* The IOMMU (its domains and devices with it), then the memory. */
static inline void test_fx_teardown(struct test_fx *f)
{
	dmar_iommu_destroy(f->mmu);
	dmar_physmem_destroy(f->pm);
}

#endif
