/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file dmar/fault.h
 * @brief The fault queue (S29): refused requests as records, bounded, never silently lost.
 *
 * Producers (translating threads) add records without locks; one or more consumers drain
 * them.  When the queue is full a record is not stored but counted (dmar_faultq_stats()
 * .dropped), and every fault gets a unique sequence number whether it is stored or not, so
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

typedef struct dmar_faultq dmar_faultq;

/** Called by the producing thread for every fault, stored or dropped, after the record is
 *  queued (or counted as dropped): it must not block and must not call back into writers of
 *  the library (map, unmap, switch). */
typedef void (*dmar_fault_cb)(void *ctx, const dmar_fault_record *rec, int stored);

/** Create a queue of @p capacity records (a power of two, 2 .. 2^24). Thread-safe. */
DMAR_API dmar_status dmar_faultq_create(uint32_t capacity, dmar_faultq **out);

/** Destroy.  Nothing may use it any more.  NULL accepted. */
DMAR_API void dmar_faultq_destroy(dmar_faultq *q);

/** Install (or with NULL remove) the callback.  Call before concurrent use. */
DMAR_API void dmar_faultq_set_callback(dmar_faultq *q, dmar_fault_cb cb, void *ctx);

/**
 * Add a record (its seq is assigned here).  Returns ::DMAR_OK when stored, ::DMAR_E_BUSY when
 * the queue was full (the fault is counted as dropped).  Lock-free; any thread.
 */
DMAR_API dmar_status dmar_faultq_push(dmar_faultq *q, const dmar_fault_record *rec);

/** Take up to @p max records, oldest first.  Returns how many.  Lock-free; any thread. */
DMAR_API size_t dmar_faultq_drain(dmar_faultq *q, dmar_fault_record *out, size_t max);

/** Counters. */
typedef struct dmar_faultq_stats {
	uint64_t faults;  /**< records pushed, stored or not */
	uint64_t stored;  /**< records that went into the queue */
	uint64_t dropped; /**< records that found it full */
	uint64_t drained; /**< records taken out */
} dmar_faultq_stats;

/** Read the counters (a snapshot).  Thread-safe. */
DMAR_API void dmar_faultq_get_stats(const dmar_faultq *q, dmar_faultq_stats *st);

#ifdef __cplusplus
}
#endif
#endif
