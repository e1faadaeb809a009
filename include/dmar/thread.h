/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file dmar/thread.h
 * @brief Registering the threads that translate or change tables (RCU, DESIGN decision 3).
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

/** Register the calling thread.  Idempotent.  Must not be inside an RCU read section. */
DMAR_API dmar_status dmar_thread_register(void);

/** Unregister the calling thread (no-op if not registered). Call before the thread exits. */
DMAR_API void dmar_thread_unregister(void);

/** Whether the calling thread is registered. */
DMAR_API int dmar_thread_registered(void);

/** QSBR: announce a quiescent state (no library read section is held).  No-op with memb.
 *  Any registered thread, outside read sections. */
DMAR_API void dmar_thread_quiescent(void);

/** QSBR: a thread about to block for long goes offline / comes back. No-ops with memb. */
DMAR_API void dmar_thread_offline(void);
DMAR_API void dmar_thread_online(void);

/**
 * Wait until every translation in flight at the time of the call has finished (an RCU grace
 * period).  Use after an unmap when in-flight DMA must be drained too.  Must not be called
 * inside a read section.  Thread-safe.
 */
DMAR_API void dmar_sync(void);

/** "memb" or "qsbr": the flavor this library was built with.  Thread-safe. */
DMAR_API const char *dmar_rcu_flavor(void);

#ifdef __cplusplus
}
#endif
#endif
