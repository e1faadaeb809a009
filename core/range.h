/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Ranges of addresses, checked once and the same way everywhere.
 *
 * A range [base, base + size) is held by its first and LAST byte, never by its end: a range
 * that ends exactly at 2^64 is legal (its end, base + size, is 0 in 64 bits) and one that
 * runs past 2^64 is not.  Every `base + size` the library computes from caller input goes
 * through dmar__range_last() (or one of the helpers built on it) first, so no comparison
 * ever works on a wrapped sum. */
#ifndef ENGINE_RANGE_H
#define ENGINE_RANGE_H

#include <stdint.h>

/* The last byte of [base, base + size): 1 with *last set when the range is non-empty and
 * does not run past 2^64, else 0 (and *last untouched). */
static inline int dmar__range_last(uint64_t base, uint64_t size, uint64_t *last)
{
	if (size == 0 || size - 1 > UINT64_MAX - base)
		return 0;
	*last = base + (size - 1);
	return 1;
}

/* The last byte of @n units of 2^@lg2 bytes from @base (a page count, an entry count):
 * 1 with *last set when n > 0 and neither the product nor the sum wraps, else 0. */
static inline int dmar__range_last_n(uint64_t base, uint64_t n, unsigned lg2, uint64_t *last)
{
	uint64_t span_last;

	if (n == 0 || lg2 >= 64 || n - 1 > (UINT64_MAX >> lg2))
		return 0;
	/* the span may be exactly 2^64 bytes: its last byte, (n - 1) units and one unit less a byte */
	span_last = (n - 1) << lg2 | ((1ull << lg2) - 1);
	if (span_last > UINT64_MAX - base)
		return 0;
	*last = base + span_last;
	return 1;
}

/* Whether [base, base + size) is non-empty, does not wrap, and lies inside [lo, hi]
 * (hi inclusive). */
static inline int dmar__range_within(uint64_t base, uint64_t size, uint64_t lo, uint64_t hi)
{
	uint64_t last;

	return dmar__range_last(base, size, &last) && base >= lo && last <= hi;
}

/* Whether the inclusive ranges [a, a_last] and [b, b_last] share a byte. */
static inline int dmar__ranges_meet(uint64_t a, uint64_t a_last, uint64_t b, uint64_t b_last)
{
	return a <= b_last && b <= a_last;
}

#endif
