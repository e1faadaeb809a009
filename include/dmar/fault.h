/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file dmar/fault.h
 * @brief The fault queue (S29): refused requests as records, bounded, never silently lost.
 *
 * Producers (translating threads) add records without locks; one or more consumers drain
 * them.  When the queue is full a record is not stored but counted (dmar_faultq_get_stats():
 * dropped), and every fault gets a unique sequence number whether it is stored or not, so
 * the numbers missing from what was drained are exactly the dropped faults.  One producer's
 * records come out in the order it pushed them.
 */
#ifndef DMAR_FAULT_H
#define DMAR_FAULT_H

#include <dmar/status.h>
#include <dmar/types.h>

#include <dmar/export.h>

#ifdef __cplusplus
extern "C" {
#endif

/** No PASID on the request. */
#define DMAR_NO_PASID 0xffffffffu

/** One refused request. */
typedef struct dmar_fault_record {
	uint64_t seq;       /**< 1, 2, 3 ... per queue, stored or dropped */
	dmar_iova_t addr;   /**< the address the device put on the bus */
	uint32_t pasid;     /**< ::DMAR_NO_PASID when none */
	uint16_t requester; /**< the device's requester id (bus/device/function) */
	uint8_t access;     /**< ::dmar_access of the request */
	uint8_t reason;     /**< ::dmar_fault */
} dmar_fault_record;

/** A bounded lock-free queue of fault records (opaque). */
typedef struct dmar_faultq dmar_faultq;

/** Called by the producing thread for every fault, stored or dropped, after the record is
 *  queued (or counted as dropped): it must not block and must not call back into writers of
 *  the library (map, unmap, switch).
 *  @param ctx     the context given to dmar_faultq_set_callback()
 *  @param rec     the record, with its sequence number (valid during the call only)
 *  @param stored  1 if the record went into the queue, 0 if the queue was full */
typedef void (*dmar_fault_cb)(void *ctx, const dmar_fault_record *rec, int stored);

/** Create an empty queue.
 *  @param capacity  records, a power of two, 2 .. 2^24
 *  @param out       receives the queue
 *  @return ::DMAR_OK; ::DMAR_E_INVALID for a bad capacity or NULL @p out; ::DMAR_E_NOMEM.
 *  @threadsafety Thread-safe. */
DMAR_API dmar_status dmar_faultq_create(uint32_t capacity, dmar_faultq **out);

/** Destroy a queue and the records still in it.
 *  @param q  the queue; NULL is accepted
 *  @threadsafety Nothing may use @p q any more. */
DMAR_API void dmar_faultq_destroy(dmar_faultq *q);

/** Install (or with NULL remove) the callback.
 *  @param q    the queue
 *  @param cb   called for every fault, or NULL
 *  @param ctx  passed to @p cb
 *  @threadsafety Call before concurrent use (not synchronised with producers). */
DMAR_API void dmar_faultq_set_callback(dmar_faultq *q, dmar_fault_cb cb, void *ctx);

/**
 * Add a record; its @c seq is assigned here (the caller's value is ignored).
 * @param q    the queue
 * @param rec  the record
 * @return ::DMAR_OK when stored; ::DMAR_E_BUSY when the queue was full (the fault is counted
 *         as dropped and its sequence number is used up); ::DMAR_E_INVALID for NULL
 *         arguments (nothing is counted, the callback is not called).
 * @threadsafety Lock-free; any thread, concurrently with other producers and consumers.
 */
DMAR_API dmar_status dmar_faultq_push(dmar_faultq *q, const dmar_fault_record *rec);

/** Take up to @p max records, oldest first.
 *  @param q    the queue
 *  @param out  receives the records
 *  @param max  room in @p out
 *  @return the number of records taken (0 when empty).
 *  @threadsafety Lock-free; any thread, concurrently with producers and other consumers. */
DMAR_API size_t dmar_faultq_drain(dmar_faultq *q, dmar_fault_record *out, size_t max);

/** Counters. */
typedef struct dmar_faultq_stats {
	uint64_t faults;  /**< records pushed, stored or not */
	uint64_t stored;  /**< records that went into the queue */
	uint64_t dropped; /**< records that found it full */
	uint64_t drained; /**< records taken out */
} dmar_faultq_stats;

/** Read the counters.
 *  @param q   the queue
 *  @param st  filled in (zeros for a NULL @p q): faults = stored + dropped, and
 *             drained <= stored, even while producers and consumers run
 *  @threadsafety Thread-safe (a snapshot: each count may miss operations in flight). */
DMAR_API void dmar_faultq_get_stats(const dmar_faultq *q, dmar_faultq_stats *st);

#ifdef __cplusplus
}
#endif
#endif
