/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What every harness shares: a byte reader that never fails (an exhausted input reads as
 * zeros, so every input is a valid program), the check that turns a disagreement into an
 * abort() with the values seen, and the one-time thread registration the library needs. */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dmar.h>

/* The entry point every harness defines (libFuzzer's name; AFL++'s driver and replay.c call
 * it the same way). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fz {
	const uint8_t *p;
	size_t n;
};

static inline uint8_t fz_u8(struct fz *f)
{
	if (!f->n)
		return 0;
	f->n--;
	return *f->p++;
}

static inline uint16_t fz_u16(struct fz *f)
{
	return (uint16_t)(fz_u8(f) | (unsigned)fz_u8(f) << 8);
}

static inline uint32_t fz_u32(struct fz *f)
{
	return fz_u16(f) | (uint32_t)fz_u16(f) << 16;
}

static inline uint64_t fz_u64(struct fz *f)
{
	return fz_u32(f) | (uint64_t)fz_u32(f) << 32;
}

/* A disagreement or a broken contract: print what was seen and stop (the fuzzer keeps the
 * input; replay.c fails the test). */
#define FZ_FAIL(...)                                                  \
	do {                                                          \
		fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);        \
		fprintf(stderr, __VA_ARGS__);                          \
		fputc('\n', stderr);                                   \
		abort();                                               \
	} while (0)

#define FZ_CHECK(cond)                                                \
	do {                                                          \
		if (!(cond))                                          \
			FZ_FAIL("check failed: %s", #cond);           \
	} while (0)

#define FZ_CHECK_EQ(a, b)                                                                   \
	do {                                                                                \
		uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);                            \
		if (a_ != b_)                                                               \
			FZ_FAIL("%s == %s failed: 0x%" PRIx64 " != 0x%" PRIx64, #a, #b, a_, b_); \
	} while (0)

#define FZ_CHECK_ST(got, want)                                                          \
	do {                                                                            \
		dmar_status g_ = (got), w_ = (want);                                    \
		if (g_ != w_)                                                           \
			FZ_FAIL("%s -> %s, want %s", #got, dmar_status_str(g_),         \
				dmar_status_str(w_));                                   \
	} while (0)

/* Addresses where things happen: table and leaf boundaries, the ends of each half of the
 * 48- and 57-bit inputs, the device widths.  An address is one of these plus a signed page
 * offset (+-128 MiB), so boundaries are crossed and different ops meet often. */
static inline uint64_t fz_addr(struct fz *f)
{
	static const uint64_t base[16] = {
		0, 1ull << 21, 1ull << 30, 1ull << 32, 1ull << 39, 1ull << 40, 1ull << 46,
		1ull << 47, 1ull << 48, 1ull << 55, 1ull << 56, 0xffff800000000000ull,
		0xff00000000000000ull, 1ull << 57, 0xfffffffffff00000ull, 0,
	};
	const uint8_t sel = fz_u8(f);
	const int16_t off = (int16_t)fz_u16(f);

	if ((sel & 15) == 15) /* anything at all */
		return fz_u64(f) & ~0xfffull;
	return base[sel & 15] + (uint64_t)(int64_t)off * 4096;
}

/* A size in bytes: mostly page counts around the 2 MiB and 1 GiB leaf sizes, sometimes an
 * invalid one (0, not a page multiple). */
static inline uint64_t fz_size(struct fz *f)
{
	static const uint64_t pages[16] = {
		511, 512, 513, 1023, 1024, 1536, 262143, 262144, 262145, 524288,
		0, 1, 2, 3, 4, 8,
	};
	const uint8_t sel = fz_u8(f);

	if (sel < 192)
		return ((uint64_t)(sel % 64) + 1) * 4096;
	if (sel >= 252) /* not a page multiple */
		return (uint64_t)(sel - 251) * 4096 + 0x800;
	return pages[sel & 15] * 4096;
}

/* Every harness translates and changes tables: the calling thread must be registered
 * (thread.h).  libFuzzer, AFL++'s driver and replay.c all call from one thread. */
/* The accessed and dirty bits of a format of kind @kind (dmar/pgtable.h), as the models of
 * the table harnesses set and expect them with ::DMAR_PT_AD. */
static inline void fz_ad_bits(unsigned kind, uint64_t *a, uint64_t *d)
{
	*a = kind == DMAR_PT_VTD_SS ? DMAR_VTD_SS_A
	     : kind == DMAR_PT_AMDV1 ? DMAR_AMDV1_A
				     : DMAR_PTE_A;
	*d = kind == DMAR_PT_VTD_SS ? DMAR_VTD_SS_D
	     : kind == DMAR_PT_AMDV1 ? DMAR_AMDV1_D
				     : DMAR_PTE_D;
}

/* The permission bits a GPU mapping of @ad needs one of (remap.h, dmar_pmo_map_gpu): an
 * adapter whose domain has a table (x86-64 here) needs READ, a pass-through one READ or
 * WRITE. */
static inline unsigned gpu_prot_needs(dmar_adapter *ad)
{
	return dmar_domain_pgtable(dmar_adapter_domain(ad)) ? DMAR_PROT_READ
							      : DMAR_PROT_READ | DMAR_PROT_WRITE;
}

static inline void fz_thread(void)
{
	if (!dmar_thread_registered())
		(void)dmar_thread_register();
	dmar_thread_quiescent();
}

#endif
