/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The thread registry: which threads are registered with the RCU flavor, and the statistics
 * slot each owns (process-wide, like liburcu's own registry: the one mutable state the
 * library keeps outside its objects). */
#include "rcu.h"

#include <pthread.h>
#include <stdint.h>

#include <dmar/thread.h>

__thread struct dmar__tls_state dmar__tls __attribute__((tls_model("initial-exec")));

/* Which statistics slots registered threads own (process-wide, like liburcu's registry). */
static pthread_mutex_t slot_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t slot_used[DMAR_MAX_THREADS / 64];

static int slot_take(void)
{
	int slot = DMAR_MAX_THREADS - 1; /* shared overflow slot */

	pthread_mutex_lock(&slot_lock);
	for (int i = 0; i < DMAR_MAX_THREADS - 1; i++) {
		if (!(slot_used[i / 64] >> (i % 64) & 1)) {
			slot_used[i / 64] |= 1ull << (i % 64);
			slot = i;
			break;
		}
	}
	pthread_mutex_unlock(&slot_lock);
	return slot;
}

static void slot_give(int slot)
{
	if (slot == DMAR_MAX_THREADS - 1)
		return;
	pthread_mutex_lock(&slot_lock);
	slot_used[slot / 64] &= ~(1ull << (slot % 64));
	pthread_mutex_unlock(&slot_lock);
}

dmar_status dmar_thread_register(void)
{
	if (!dmar__tls_registered) {
		dmar__rcu_register();
		dmar__tls_slot = slot_take();
		dmar__tls_registered = 1;
	}
	return DMAR_OK;
}

void dmar_thread_unregister(void)
{
	if (dmar__tls_registered) {
		for (; dmar__tls_read_depth; dmar__tls_read_depth--) /* sections left open end here */
			dmar__rcu_read_unlock();
		dmar__rcu_unregister();
		slot_give(dmar__tls_slot);
		dmar__tls_registered = 0;
	}
}

int dmar_thread_registered(void)
{
	return dmar__tls_registered;
}

