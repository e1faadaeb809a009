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

/* Runs every case, or only those named on the command line. */
#define RUN_TESTS(...)                                                                    \
	int main(int argc, char **argv)                                                   \
	{                                                                                 \
		static const struct test_case cases[] = { __VA_ARGS__ };                  \
		const size_t n = sizeof(cases) / sizeof(cases[0]);                        \
		int failures = 0, idx = 0;                                                \
		setvbuf(stdout, NULL, _IOLBF, 0);                                         \
		dmar_thread_register();                                                   \
		printf("TAP version 13\n");                                               \
		for (size_t i = 0; i < n; i++) {                                          \
			int want = argc < 2;                                              \
			for (int a = 1; a < argc; a++)                                    \
				want |= strcmp(argv[a], cases[i].name) == 0;              \
			if (want)                                                         \
				idx++;                                                    \
		}                                                                         \
		printf("1..%d\n", idx);                                                   \
		idx = 0;                                                                  \
		for (size_t i = 0; i < n; i++) {                                          \
			int want = argc < 2;                                              \
			for (int a = 1; a < argc; a++)                                    \
				want |= strcmp(argv[a], cases[i].name) == 0;              \
			if (!want)                                                        \
				continue;                                                 \
			check_failed_ = 0;                                                \
			cases[i].fn();                                                    \
			printf("%s %d - %s\n", check_failed_ ? "not ok" : "ok", ++idx,    \
			       cases[i].name);                                            \
			failures += check_failed_;                                        \
		}                                                                         \
		dmar_thread_unregister();                                                 \
		return failures ? 1 : 0;                                                  \
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

#endif
