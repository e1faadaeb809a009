/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "bitmap.h"

#include <string.h>
#include <sys/mman.h>

static uint64_t words_for(uint64_t bits)
{
	return (bits + 63) / 64;
}

/* Bits past the end of the last word read as used, so searches never return them. */
static void set_tail(uint64_t *words, uint64_t bits)
{
	if (bits % 64)
		words[bits / 64] |= ~0ull << (bits % 64);
}

int dmar_hbm_init(struct dmar_hbm *h, uint64_t nbits)
{
	uint64_t bits = nbits;

	memset(h, 0, sizeof(*h));
	if (nbits == 0)
		return -1;
	h->nbits = nbits;
	for (unsigned lv = 0;; lv++) {
		uint64_t w = words_for(bits);

		if (lv == DMAR_HBM_MAX_LEVELS)
			goto fail;
		h->bytes[lv] = w * 8;
		h->lvl[lv] = mmap(NULL, h->bytes[lv], PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (h->lvl[lv] == MAP_FAILED) {
			h->lvl[lv] = NULL;
			goto fail;
		}
		set_tail(h->lvl[lv], bits);
		h->nlevels = lv + 1;
		if (w == 1)
			return 0;
		bits = w;
	}
fail:
	dmar_hbm_fini(h);
	return -1;
}

void dmar_hbm_fini(struct dmar_hbm *h)
{
	for (unsigned lv = 0; lv < DMAR_HBM_MAX_LEVELS; lv++)
		if (h->lvl[lv])
			munmap(h->lvl[lv], h->bytes[lv]);
	memset(h, 0, sizeof(*h));
}

int dmar_hbm_test(const struct dmar_hbm *h, uint64_t i)
{
	return (h->lvl[0][i / 64] >> (i % 64)) & 1;
}

/* Word i of level lv became full: set its summary bit, and so on upwards. */
static void mark_full(struct dmar_hbm *h, unsigned lv, uint64_t i)
{
	for (lv++; lv < h->nlevels; lv++, i /= 64) {
		uint64_t *w = &h->lvl[lv][i / 64];

		*w |= 1ull << (i % 64);
		if (*w != ~0ull)
			return;
	}
}

/* Word i of level lv stopped being full. */
static void mark_not_full(struct dmar_hbm *h, unsigned lv, uint64_t i)
{
	for (lv++; lv < h->nlevels; lv++, i /= 64) {
		uint64_t *w = &h->lvl[lv][i / 64];
		int was_full = *w == ~0ull;

		*w &= ~(1ull << (i % 64));
		if (!was_full)
			return;
	}
}

/* Mask of bits [lo, hi] (0..63) of one word. */
static uint64_t span_mask(unsigned lo, unsigned hi)
{
	uint64_t upto = hi == 63 ? ~0ull : (2ull << hi) - 1;

	return upto & (~0ull << lo);
}

void dmar_hbm_set_range(struct dmar_hbm *h, uint64_t start, uint64_t n)
{
	uint64_t last = start + n - 1;

	for (uint64_t w = start / 64; w <= last / 64; w++) {
		unsigned lo = w == start / 64 ? start % 64 : 0;
		unsigned hi = w == last / 64 ? last % 64 : 63;
		uint64_t old = h->lvl[0][w];

		h->lvl[0][w] = old | span_mask(lo, hi);
		if (old != ~0ull && h->lvl[0][w] == ~0ull)
			mark_full(h, 0, w);
	}
}

void dmar_hbm_clear_range(struct dmar_hbm *h, uint64_t start, uint64_t n)
{
	uint64_t last = start + n - 1;

	for (uint64_t w = start / 64; w <= last / 64; w++) {
		unsigned lo = w == start / 64 ? start % 64 : 0;
		unsigned hi = w == last / 64 ? last % 64 : 63;
		uint64_t old = h->lvl[0][w];

		h->lvl[0][w] = old & ~span_mask(lo, hi);
		if (old == ~0ull && h->lvl[0][w] != ~0ull)
			mark_not_full(h, 0, w);
	}
}

int dmar_hbm_all_set(const struct dmar_hbm *h, uint64_t start, uint64_t n)
{
	uint64_t last = start + n - 1;

	for (uint64_t w = start / 64; w <= last / 64; w++) {
		unsigned lo = w == start / 64 ? start % 64 : 0;
		unsigned hi = w == last / 64 ? last % 64 : 63;
		uint64_t m = span_mask(lo, hi);

		if ((h->lvl[0][w] & m) != m)
			return 0;
	}
	return 1;
}

int64_t dmar_hbm_prev_zero(const struct dmar_hbm *h, uint64_t pos)
{
	unsigned lv = 0;
	uint64_t idx = pos;

	/* Climb until a word has a clear bit at or below idx ... */
	for (;;) {
		uint64_t w = idx / 64;
		uint64_t free = ~h->lvl[lv][w] & span_mask(0, idx % 64);

		if (free) {
			idx = w * 64 + 63 - (uint64_t)__builtin_clzll(free);
			break;
		}
		if (w == 0 || lv + 1 == h->nlevels)
			return -1;
		idx = w - 1;
		lv++;
	}
	/* ... then descend: a clear summary bit promises a clear bit below it. */
	while (lv > 0) {
		uint64_t free;

		lv--;
		free = ~h->lvl[lv][idx];
		idx = idx * 64 + 63 - (uint64_t)__builtin_clzll(free);
	}
	return (int64_t)idx;
}

int64_t dmar_hbm_prev_one(const struct dmar_hbm *h, uint64_t lo, uint64_t hi)
{
	for (uint64_t w = hi / 64 + 1; w-- > lo / 64;) {
		unsigned a = w == lo / 64 ? lo % 64 : 0;
		unsigned b = w == hi / 64 ? hi % 64 : 63;
		uint64_t used = h->lvl[0][w] & span_mask(a, b);

		if (used)
			return (int64_t)(w * 64 + 63 - (uint64_t)__builtin_clzll(used));
	}
	return -1;
}

int64_t dmar_hbm_find_run_down(const struct dmar_hbm *h, uint64_t lo, uint64_t hi, uint64_t n,
			       uint64_t align, uint64_t off)
{
	uint64_t pos;

	if (n == 0 || hi > h->nbits || lo >= hi || n > hi - lo)
		return -1;
	pos = hi - 1;
	for (;;) {
		int64_t z = dmar_hbm_prev_zero(h, pos), o;
		uint64_t s;

		if (z < 0 || (uint64_t)z < lo || (uint64_t)z + 1 < lo + n)
			return -1;
		s = (uint64_t)z + 1 - n;
		/* align s down so that (s + off) is a multiple of align */
		if ((s + off) % align > s)
			return -1;
		s -= (s + off) % align;
		if (s < lo)
			return -1;
		o = dmar_hbm_prev_one(h, s, s + n - 1);
		if (o < 0)
			return (int64_t)s;
		if ((uint64_t)o <= lo)
			return -1;
		pos = (uint64_t)o - 1;
	}
}
