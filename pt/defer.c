/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Frames freed after an RCU grace period (the table pages a writer unlinked). */
#include "rcu.h"

#include <stdlib.h>
#include <string.h>

#include <dmar/physmem.h>

#include "physmem_internal.h"

struct deferred_frames {
	struct rcu_head head;
	struct dmar_physmem *pm;
	unsigned long n;
	unsigned long long frames[];
};

static void free_now(struct dmar_physmem *pm, const unsigned long long *frames, unsigned long n)
{
	for (unsigned long i = 0; i < n; i++)
		(void)dmar_physmem_free(pm, frames[i], 1);
}

static void deferred_cb(struct rcu_head *head)
{
	struct deferred_frames *d = caa_container_of(head, struct deferred_frames, head);

	free_now(d->pm, d->frames, d->n);
	free(d);
}

void dmar__defer_free_frames(struct dmar_physmem *pm, const unsigned long long *frames,
			     unsigned long n)
{
	struct deferred_frames *d;

	if (n == 0)
		return;
	/* call_rcu() wants a registered caller; otherwise wait here.  Without host memory for
	 * the record, waiting is also correct, only slower. */
	d = dmar__tls_registered ? malloc(sizeof(*d) + n * sizeof(d->frames[0])) : NULL;
	if (!d) {
		dmar__rcu_synchronize();
		free_now(pm, frames, n);
		return;
	}
	d->pm = pm;
	d->n = n;
	memcpy(d->frames, frames, n * sizeof(d->frames[0]));
	dmar__rcu_call(&d->head, deferred_cb);
}
