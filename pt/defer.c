/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Frames freed after an RCU grace period: the table pages a writer unlinked.  A writer
 * makes the record before it changes anything, with room for every page it may unlink, so
 * recording one needs no memory, and handing the record over needs no wait, half-way. */
#include "rcu.h"

#include <stdlib.h>

#include <dmar/physmem.h>

#include "physmem_internal.h"

struct dmar__frames {
	struct rcu_head head;
	struct dmar_physmem *pm;
	unsigned long n, cap;
	unsigned long long frame[];
};

struct dmar__frames *dmar__frames_new(struct dmar_physmem *pm, unsigned long cap)
{
	struct dmar__frames *fr;

	if (cap > (SIZE_MAX - sizeof(*fr)) / sizeof(fr->frame[0]))
		return NULL;
	fr = malloc(sizeof(*fr) + cap * sizeof(fr->frame[0]));
	if (!fr)
		return NULL;
	fr->pm = pm;
	fr->n = 0;
	fr->cap = cap;
	return fr;
}

int dmar__frames_push(struct dmar__frames *fr, dmar_pa_t pa)
{
	if (!fr || fr->n == fr->cap)
		return -1;
	fr->frame[fr->n++] = pa;
	return 0;
}

unsigned long dmar__frames_count(const struct dmar__frames *fr)
{
	return fr ? fr->n : 0;
}

void dmar__frames_free_now(struct dmar__frames *fr)
{
	if (!fr)
		return;
	for (unsigned long i = 0; i < fr->n; i++)
		(void)dmar_physmem_free(fr->pm, fr->frame[i], 1);
	free(fr);
}

static void frames_cb(struct rcu_head *head)
{
	dmar__frames_free_now(caa_container_of(head, struct dmar__frames, head));
}

void dmar__frames_free_later(struct dmar__frames *fr)
{
	if (!fr || fr->n == 0) {
		free(fr);
		return;
	}
	/* call_rcu() wants a registered caller; an unregistered one (none of the table writers,
	 * which refuse such threads) waits here, holding no lock */
	if (dmar__thread_ok()) {
		dmar__rcu_call(&fr->head, frames_cb);
		return;
	}
	dmar__rcu_synchronize();
	dmar__frames_free_now(fr);
}
