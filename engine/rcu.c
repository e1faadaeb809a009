/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "rcu.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <dmar/physmem.h>
#include <dmar/thread.h>

__thread int dmar__tls_registered __attribute__((tls_model("initial-exec")));
__thread int dmar__tls_slot __attribute__((tls_model("initial-exec")));
/* Depth of the thread's dmar_read_begin() sections. */
static __thread unsigned read_depth;

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

/* Library locks the thread holds, and the work put off until it holds none. */
static __thread unsigned locks_held;
static __thread struct dmar__after *after_head;

void dmar__lock(pthread_mutex_t *m)
{
	/* (not inside an embedder's dmar_read_begin() section: going offline would end it) */
	const int online = dmar__tls_registered && read_depth == 0;

	if (online)
		dmar__rcu_offline();
	pthread_mutex_lock(m);
	if (online)
		dmar__rcu_online();
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
		for (; read_depth; read_depth--) /* sections left open end here */
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

dmar_status dmar_read_begin(void)
{
	if (!dmar__tls_registered)
		return DMAR_E_THREAD;
	dmar__rcu_read_lock();
	read_depth++;
	return DMAR_OK;
}

void dmar_read_end(void)
{
	if (!dmar__tls_registered || read_depth == 0)
		return;
	read_depth--;
	dmar__rcu_read_unlock();
}

void dmar_thread_quiescent(void)
{
	if (dmar__tls_registered && read_depth == 0) /* not inside a read section */
		dmar__rcu_quiescent();
}

void dmar_thread_offline(void)
{
	if (dmar__tls_registered && read_depth == 0) /* inside a read section: ignored */
		dmar__rcu_offline();
}

void dmar_thread_online(void)
{
	if (dmar__tls_registered && read_depth == 0)
		dmar__rcu_online();
}

void dmar_sync(void)
{
	dmar__rcu_synchronize();
}

const char *dmar_rcu_flavor(void)
{
	return DMAR__RCU_FLAVOR;
}

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
