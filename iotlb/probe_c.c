/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The scalar reference probe. */
#include <string.h>

#include "probe.h"

static int find_way_c(const uint64_t *set, unsigned ways, uint64_t tag)
{
	for (unsigned w = 0; w < ways; w++)
		if (set[w] == tag)
			return (int)w;
	return -1;
}

#define FIND_WAY find_way_c
#define PROBE_BATCH probe_batch_c
#define PROBE_LIST probe_list_c
#include "probe_tmpl.c"

const struct dmar_probe_ops dmar_probe_c = { "c", find_way_c, probe_batch_c, probe_list_c };
