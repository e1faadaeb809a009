/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The RCU flavor chosen at build time, behind one set of names (rcu.c); the thread registry
 * (thread.c); the library's locks (lock.c).  Include first: liburcu's inline read-side fast
 * paths need _LGPL_SOURCE before its headers. */
#ifndef ENGINE_RCU_H
#define ENGINE_RCU_H

#ifndef _LGPL_SOURCE
#define _LGPL_SOURCE
#endif

#if defined(DMAR_RCU_QSBR)
#include <urcu/urcu-qsbr.h>
#define dmar__rcu_read_lock() urcu_qsbr_read_lock()
#define dmar__rcu_read_unlock() urcu_qsbr_read_unlock()
#define dmar__rcu_register() urcu_qsbr_register_thread()
#define dmar__rcu_unregister() urcu_qsbr_unregister_thread()
#define dmar__rcu_synchronize() urcu_qsbr_synchronize_rcu()
#define dmar__rcu_call(h, f) urcu_qsbr_call_rcu((h), (f))
#define dmar__rcu_barrier() urcu_qsbr_barrier()
#define dmar__rcu_quiescent() urcu_qsbr_quiescent_state()
#define dmar__rcu_offline() urcu_qsbr_thread_offline()
#define dmar__rcu_online() urcu_qsbr_thread_online()
#define DMAR__RCU_FLAVOR "qsbr"
#else
#include <urcu/urcu-memb.h>
#define dmar__rcu_read_lock() dmar__memb_read_lock()
#define dmar__rcu_read_unlock() dmar__memb_read_unlock()
#define DMAR__RCU_MEMB 1
#define dmar__rcu_register() urcu_memb_register_thread()
#define dmar__rcu_unregister() urcu_memb_unregister_thread()
#define dmar__rcu_synchronize() urcu_memb_synchronize_rcu()
#define dmar__rcu_call(h, f) urcu_memb_call_rcu((h), (f))
#define dmar__rcu_barrier() urcu_memb_barrier()
#define dmar__rcu_quiescent() ((void)0)
#define dmar__rcu_offline() ((void)0)
#define dmar__rcu_online() ((void)0)
#define DMAR__RCU_FLAVOR "memb"
#endif

/* The calling thread's state in the registry (thread.c), one block so that the hit path
 * finds both words with one address (initial-exec: %fs-relative loads, no __tls_get_addr
 * call from the shared library):
 *  - registered: checked on every public read-side entry, so that a thread that forgot
 *    dmar_thread_register() gets DMAR_E_THREAD instead of an unprotected walk;
 *  - slot: its statistics slot (no shared counter on the hit path).  A registered thread
 *    owns one; past DMAR_MAX_THREADS - 1 threads the last slot is shared (atomic adds);
 *  - read_depth: depth of its dmar_read_begin() sections (thread.c, rcu.c, lock.c). */
struct dmar__tls_state {
	int registered;
	int slot;
	unsigned read_depth;
#ifdef DMAR__RCU_MEMB
	struct urcu_reader *reader; /* liburcu's reader state of this thread, once looked up */
#endif
};
extern __thread struct dmar__tls_state dmar__tls __attribute__((tls_model("initial-exec")));
#define dmar__tls_registered (dmar__tls.registered)
#define dmar__tls_slot (dmar__tls.slot)
#define dmar__tls_read_depth (dmar__tls.read_depth)

#define DMAR_MAX_THREADS 256

#ifdef DMAR__RCU_MEMB
/* liburcu's memb read-side fast path (urcu/static/urcu-memb.h, _urcu_memb_read_lock and
 * _unlock: the same steps) through a pointer to the thread's reader state kept in the block
 * above.  liburcu's inline functions reach that state, a TLS variable of liburcu's shared
 * library, through __tls_get_addr from a shared library like this one: two or three calls
 * per section, most of a single translation's cost before they went.  The pointer is looked
 * up once per thread (the state lives as long as the thread). */
static inline struct urcu_reader *dmar__memb_reader(void)
{
	struct urcu_reader *r = dmar__tls.reader;

	if (__builtin_expect(r == NULL, 0))
		r = dmar__tls.reader = &URCU_TLS(urcu_memb_reader);
	return r;
}

static inline void dmar__memb_read_lock(void)
{
	struct urcu_reader *r = dmar__memb_reader();
	unsigned long tmp;

	cmm_barrier();
	tmp = r->ctr;
	if (caa_likely(!(tmp & URCU_GP_CTR_NEST_MASK))) {
		_CMM_STORE_SHARED(r->ctr, _CMM_LOAD_SHARED(urcu_memb_gp.ctr));
		urcu_memb_smp_mb_slave();
	} else {
		_CMM_STORE_SHARED(r->ctr, tmp + URCU_GP_COUNT);
	}
}

static inline void dmar__memb_read_unlock(void)
{
	struct urcu_reader *r = dmar__memb_reader();
	unsigned long tmp = r->ctr;

	if (caa_likely((tmp & URCU_GP_CTR_NEST_MASK) == URCU_GP_COUNT)) {
		urcu_memb_smp_mb_slave();
		_CMM_STORE_SHARED(r->ctr, tmp - URCU_GP_COUNT);
		urcu_memb_smp_mb_slave();
		urcu_common_wake_up_gp(&urcu_memb_gp);
	} else {
		_CMM_STORE_SHARED(r->ctr, tmp - URCU_GP_COUNT);
	}
	cmm_barrier();
}
#endif

static inline int dmar__thread_ok(void)
{
	return dmar__tls_registered;
}

static inline int dmar__thread_slot(void)
{
	return dmar__tls_slot;
}

#include <stdint.h>

/* Add @v to a per-slot counter @p of slot @slot: a plain store in a thread's own slot (no other
 * writer; readers sum with relaxed loads), an atomic add in the shared overflow slot. */
static inline void dmar__slot_counter_add(uint64_t *p, int slot, uint64_t v)
{
	if (slot == DMAR_MAX_THREADS - 1)
		__atomic_fetch_add(p, v, __ATOMIC_RELAXED);
	else
		__atomic_store_n(p, *p + v, __ATOMIC_RELAXED);
}

/* The library's locks (design decision 3: no grace period is ever waited for while holding a
 * lock that a registered thread may wait on).  Every library mutex is taken with
 * dmar__lock() and released with dmar__unlock():
 *  - a registered thread goes offline while it waits (qsbr), so that no grace period waits
 *    for a thread that is only waiting for a lock (a no-op with memb, and inside an
 *    embedder's dmar_read_begin() section, where going offline would end it);
 *  - the thread's count of held library locks is kept, so that work which must wait for a
 *    grace period is put off until the thread holds none (dmar__after_locks()). */
#include <pthread.h>
void dmar__lock(pthread_mutex_t *m);
/* dmar__lock() for a thread inside one of the library's own read sections (a qsbr thread
 * that went offline there would end the section under its caller's feet): it waits online.
 * Only for locks that no holder keeps across a grace period, or the wait could deadlock. */
void dmar__lock_in_section(pthread_mutex_t *m);
void dmar__unlock(pthread_mutex_t *m);
/* How many library locks the calling thread holds. */
unsigned dmar__locks_held(void);

/* Work put off until the calling thread holds no library lock.  The node belongs to the
 * caller (embedded in the object the work is for), and must not be queued twice. */
struct dmar__after {
	struct dmar__after *next;
	void (*fn)(struct dmar__after *self);
};
/* Run @a->fn(@a) now if the calling thread holds no library lock, else when it releases
 * its last one (in that dmar__unlock()). */
void dmar__after_locks(struct dmar__after *a);

#endif
