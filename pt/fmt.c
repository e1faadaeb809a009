/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Formats: which descriptions are valid, and what each can express (fmt.h). */
#include "fmt.h"

#include <string.h>

int pt_fmt_init(struct pt_fmt *f, const dmar_pt_format *fmt)
{
	const unsigned both = DMAR_PT_UPPER_HALF | DMAR_PT_IOVA;
	unsigned known = DMAR_PT_IOVA | DMAR_PT_AD, lo, hi;

	if (!fmt)
		return 0;
	switch (fmt->kind) {
	case DMAR_PT_X86_64:
		lo = 4, hi = 5, known |= DMAR_PT_UPPER_HALF;
		break;
	case DMAR_PT_VTD_SS:
		lo = 3, hi = 5, known |= DMAR_PT_EXEC | DMAR_PT_1G;
		break;
	case DMAR_PT_AMDV1:
		lo = 1, hi = PT_MAX_LEVELS;
		break;
	default:
		return 0;
	}
	if (fmt->levels < lo || fmt->levels > hi || (fmt->flags & ~known) ||
	    (fmt->flags & both) == both ||
	    (fmt->pa_bits && (fmt->pa_bits < 32 || fmt->pa_bits > DMAR_PA_BITS_MAX)))
		return 0;
	memset(f, 0, sizeof(*f));
	f->kind = (uint8_t)fmt->kind;
	f->levels = (uint8_t)fmt->levels;
	f->va_bits = (uint8_t)(pt_shift(fmt->levels) + PT_LEVEL_LG2 > 64
				       ? 64
				       : pt_shift(fmt->levels) + PT_LEVEL_LG2);
	f->flags = fmt->flags;
	f->exec = (fmt->flags & DMAR_PT_EXEC) != 0;
	f->large1g = (fmt->flags & DMAR_PT_1G) != 0;
	f->pa_bits = (uint8_t)(fmt->pa_bits ? fmt->pa_bits : DMAR_PA_BITS_MAX);
	f->rsvd_addr = pt_rsvd_addr_mask(f->pa_bits);
	f->present = fmt->kind == DMAR_PT_VTD_SS ? DMAR_VTD_SS_R | DMAR_VTD_SS_W
		     : fmt->kind == DMAR_PT_AMDV1 ? DMAR_AMDV1_PR
						  : DMAR_PTE_P;
	if (fmt->flags & DMAR_PT_AD) {
		switch (fmt->kind) {
		case DMAR_PT_VTD_SS:
			f->a_bit = DMAR_VTD_SS_A, f->d_bit = DMAR_VTD_SS_D;
			break;
		case DMAR_PT_AMDV1:
			f->a_bit = DMAR_AMDV1_A, f->d_bit = DMAR_AMDV1_D;
			break;
		default:
			f->a_bit = DMAR_PTE_A, f->d_bit = DMAR_PTE_D;
		}
	}
	return 1;
}

uint64_t pt_page_sizes(const struct pt_fmt *f)
{
	unsigned top, last;

	switch (f->kind) {
	case DMAR_PT_VTD_SS:
		return (1ull << 12) | (1ull << 21) | (f->large1g ? 1ull << 30 : 0);
	case DMAR_PT_AMDV1:
		/* every power of two from 4 KiB to half the span above the highest leaf level */
		top = f->levels < PT_MAX_LEVELS - 1 ? f->levels : PT_MAX_LEVELS - 1;
		last = pt_shift(top + 1) - 1;
		if (last > DMAR_PA_BITS_MAX - 1)
			last = DMAR_PA_BITS_MAX - 1;
		return ((1ull << (last + 1)) - 1) & ~((1ull << DMAR_PAGE_4K_LG2) - 1);
	default:
		return DMAR_PGSIZES_ALL;
	}
}

uint64_t dmar_pt_page_sizes(const dmar_pt_format *fmt)
{
	struct pt_fmt f;

	return pt_fmt_init(&f, fmt) ? pt_page_sizes(&f) : 0;
}

dmar_status dmar_pt_input_range(const dmar_pt_format *fmt, dmar_iova_t *low_last,
				dmar_iova_t *high_first)
{
	struct pt_fmt f;
	uint64_t lo, hi;

	if (!pt_fmt_init(&f, fmt) || !low_last)
		return DMAR_E_INVALID;
	pt_input_range(&f, &lo, &hi);
	*low_last = lo;
	if (high_first)
		*high_first = hi;
	return DMAR_OK;
}
