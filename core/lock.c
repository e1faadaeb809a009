/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The library's locks (rcu.h): waited for offline, counted per thread, with the work that
 * must wait for a grace period put off until the thread holds none. */
#include "rcu.h"

#include <pthread.h>

/* Library locks the thread holds, and the work put off until it holds none. */
static __thread unsigned locks_held;
static __thread struct dmar__after *after_head;

void dmar__lock(pthread_mutex_t *m)
{
	/* (not inside an embedder's dmar_read_begin() section: going offline would end it) */
	const int online = dmar__tls_registered && dmar__tls_read_depth == 0;

	if (online)
		dmar__rcu_offline();
	pthread_mutex_lock(m);
	if (online)
		dmar__rcu_online();
	locks_held++;
}

void dmar__lock_in_section(pthread_mutex_t *m)
{
	pthread_mutex_lock(m);
	locks_held++;
}

static void run_after(void)
{
	while (after_head) {
		struct dmar__after *a = after_head;

		after_head = a->next;
		a->next = NULL;
		a->fn(a);
	}
}

void dmar__unlock(pthread_mutex_t *m)
{
	pthread_mutex_unlock(m);
	if (--locks_held == 0)
		run_after();
}

unsigned dmar__locks_held(void)
{
	return locks_held;
}

void dmar__after_locks(struct dmar__after *a)
{
	if (locks_held == 0) {
		a->fn(a);
		return;
	}
	a->next = after_head;
	after_head = a;
}

