/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file dmar/thread.h
 * @brief Registering the threads that translate or change tables (RCU, design decision 3).
 *
 * Translators read page tables inside RCU read sections (liburcu).  Every thread that calls
 * a translating or table-changing function must be registered first and unregistered before
 * it exits.  Calls from an unregistered thread answer ::DMAR_E_THREAD instead of racing.
 *
 * The library is built with one RCU flavor (meson option rcu_flavor):
 *  - "memb" (default): read sections cost a compiler barrier; threads need nothing else.
 *  - "qsbr": read sections cost nothing, but every registered thread must call
 *    dmar_thread_quiescent() regularly (or go offline) or writers that free tables wait.
 */
#ifndef DMAR_THREAD_H
#define DMAR_THREAD_H

#include <dmar/status.h>

#include <dmar/export.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Register the calling thread with the library's RCU flavor (and give it a slot for its
 *  per-thread statistics).  Idempotent.
 *  @return ::DMAR_OK (always, today; check it for forward compatibility).
 *  @threadsafety Any thread, for itself; not inside an RCU read section. */
DMAR_API dmar_status dmar_thread_register(void);

/** Unregister the calling thread (no-op if not registered).  Call before the thread exits;
 *  its translation statistics stay counted.
 *  @threadsafety Any thread, for itself; not inside an RCU read section. */
DMAR_API void dmar_thread_unregister(void);

/** Whether the calling thread is registered.
 *  @return 1 if registered, else 0.
 *  @threadsafety Any thread, for itself. */
DMAR_API int dmar_thread_registered(void);

/** QSBR: announce a quiescent state (the thread is inside no library call).  Call it
 *  regularly, e.g. between batches.  No-op with memb, and on an unregistered thread.
 *  @threadsafety Any thread, for itself, outside library calls. */
DMAR_API void dmar_thread_quiescent(void);

/** QSBR: a thread about to block (sleep, wait on a lock or a join) goes offline, so that
 *  grace periods do not wait for it.  No-op with memb, and on an unregistered thread.
 *  @threadsafety Any thread, for itself, outside library calls; pair with
 *  dmar_thread_online() before the next library call. */
DMAR_API void dmar_thread_offline(void);
/** QSBR: come back online after dmar_thread_offline().  No-op with memb, and on an
 *  unregistered thread.
 *  @threadsafety Any thread, for itself. */
DMAR_API void dmar_thread_online(void);

/**
 * Wait until every translation in flight at the time of the call has finished (an RCU grace
 * period).  Use after an unmap when in-flight translations must be drained too.  It does not
 * wait for what a caller does with a result after the translating call returned.
 * @threadsafety Thread-safe; blocks.  Not inside a read section, not from a fault callback.
 */
DMAR_API void dmar_sync(void);

/**
 * Begin a read section: until the matching dmar_read_end(), every translation the thread
 * makes counts as in flight, so dmar_sync() (after an unmap) waits for the section to end.
 * Use it to translate and then use the results (copy through the host pointers of their
 * frames) without a window in which an unmap and dmar_sync() can return while the thread
 * still writes to an old page: what dmar_device_dma() does for one buffer, for a device model
 * that batches its translations.  Sections nest; calls inside one nest in it.  Keep them
 * short: no blocking, no dmar_sync() and no table changes inside one (dmar_thread_quiescent(),
 * dmar_thread_offline() and dmar_thread_online() inside one are ignored; unregistering ends
 * the sections left open).
 * @return ::DMAR_OK; ::DMAR_E_THREAD from an unregistered thread (no section begun: do not
 *         call dmar_read_end() for it).
 * @threadsafety Any registered thread, for itself.
 */
DMAR_API dmar_status dmar_read_begin(void);

/** End the read section the last successful dmar_read_begin() began.  Without one (or on an
 *  unregistered thread) it does nothing.
 *  @threadsafety Any thread, for itself. */
DMAR_API void dmar_read_end(void);

/** The RCU flavor this library was built with.
 *  @return "memb" or "qsbr" (a static string).
 *  @threadsafety Thread-safe. */
DMAR_API const char *dmar_rcu_flavor(void);

#ifdef __cplusplus
}
#endif
#endif
