/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef ENGINE_WALK_H
#define ENGINE_WALK_H

#include <dmar/pgtable.h>

struct dmar_physmem;

/* The walk itself, with no argument checks: the format must satisfy dmar__format_ok(). */
dmar_fault dmar__walk(const struct dmar_physmem *pm, dmar_pa_t root, const dmar_pt_format *fmt,
		      uint64_t va, unsigned access, dmar_walk_result *r);
int dmar__format_ok(const dmar_pt_format *fmt);

#endif
