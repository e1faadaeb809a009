/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Hierarchical bitmap: the frame allocator's map of used frames (1 = used).  Level k+1 has
 * one bit per word of level k, set when that word is full, so the highest free bit below a
 * position is found in O(levels) word reads even across terabytes.  Storage is reserved
 * lazily (untouched words read as zero = free), so a 4 TiB range costs what was touched.
 * Not thread-safe: the caller locks. */
#ifndef ENGINE_BITMAP_H
#define ENGINE_BITMAP_H

#include <stddef.h>
#include <stdint.h>

#define DMAR_HBM_MAX_LEVELS 8

struct dmar_hbm {
	uint64_t nbits;
	unsigned nlevels;
	uint64_t *lvl[DMAR_HBM_MAX_LEVELS]; /* lvl[0]: one bit per item */
	size_t bytes[DMAR_HBM_MAX_LEVELS];
};

int dmar_hbm_init(struct dmar_hbm *h, uint64_t nbits); /* 0, or -1 without memory */
void dmar_hbm_fini(struct dmar_hbm *h);
int dmar_hbm_test(const struct dmar_hbm *h, uint64_t i);
void dmar_hbm_set_range(struct dmar_hbm *h, uint64_t start, uint64_t n);
void dmar_hbm_clear_range(struct dmar_hbm *h, uint64_t start, uint64_t n);
/* Whether every bit of [start, start + n) is set. */
int dmar_hbm_all_set(const struct dmar_hbm *h, uint64_t start, uint64_t n);
/* Highest clear bit <= pos, or -1. */
int64_t dmar_hbm_prev_zero(const struct dmar_hbm *h, uint64_t pos);
/* Highest set bit in [lo, hi] (inclusive), or -1. */
int64_t dmar_hbm_prev_one(const struct dmar_hbm *h, uint64_t lo, uint64_t hi);
/* Highest start s of n clear bits with lo <= s, s + n <= hi and (s + off) % align == 0
 * (align a power of two), or -1. */
int64_t dmar_hbm_find_run_down(const struct dmar_hbm *h, uint64_t lo, uint64_t hi, uint64_t n,
			       uint64_t align, uint64_t off);

#endif
