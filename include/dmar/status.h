/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file dmar/status.h
 * @brief Status codes and translation fault reasons.
 *
 * Every fallible function returns a ::dmar_status (DESIGN decision 7: errors are values).
 * A function that returns anything but ::DMAR_OK has changed nothing, unless its
 * comment says otherwise.
 */
#ifndef DMAR_STATUS_H
#define DMAR_STATUS_H

#include <dmar/export.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Result of a library call. */
typedef enum dmar_status {
	DMAR_OK = 0,          /**< success */
	DMAR_E_INVALID,       /**< malformed argument (alignment, size, flags, NULL) */
	DMAR_E_NOMEM,         /**< host memory or simulated frames exhausted */
	DMAR_E_EXISTS,        /**< overlaps something that already exists */
	DMAR_E_RANGE,         /**< address outside RAM, in a hole, or beyond a width */
	DMAR_E_FAULT,         /**< the translation was refused; the ::dmar_fault says why */
	DMAR_E_READONLY,      /**< write to read-only memory */
	DMAR_E_NOT_SUPPORTED, /**< valid request this build or object cannot do */
	DMAR_E_BUSY,          /**< the object is in a state that refuses the call */
	DMAR_E_THREAD,        /**< the calling thread is not registered (dmar_thread_register()) */
	DMAR_E_NOT_FOUND,     /**< nothing by that name or address */
	DMAR_STATUS_COUNT
} dmar_status;

/** Why a translation was refused.  The walker numbers follow the x86-64 walk order. */
typedef enum dmar_fault {
	DMAR_FAULT_NONE = 0,     /**< no fault */
	DMAR_FAULT_NOT_PRESENT,  /**< an entry on the path has P = 0 (S7) */
	DMAR_FAULT_WRITE,        /**< write to a page some level marks read-only (R/W = 0) */
	DMAR_FAULT_USER,         /**< user-mode access to a page some level marks supervisor */
	DMAR_FAULT_EXEC,         /**< execute access to a page some level marks XD */
	DMAR_FAULT_ADDR_WIDTH,   /**< address beyond the table's input width */
	DMAR_FAULT_NONCANONICAL, /**< address not sign-extended from the top input bit */
	DMAR_FAULT_RESERVED,     /**< reserved bits set in an entry */
	DMAR_FAULT_TABLE_ADDR,   /**< a table pointer (or the root) is not readable memory */
	DMAR_FAULT_DEVICE_WIDTH, /**< address beyond the device's DMA address width (S14) */
	DMAR_FAULT_EXCLUSIVE,    /**< request during an exclusive-access window (S18) */
	DMAR_FAULT_NO_DOMAIN,    /**< the device is not attached to a domain */
	DMAR_FAULT_PASID,        /**< the PASID is not bound in the device's domain (S2) */
	DMAR_FAULT_COUNT
} dmar_fault;

/** Readable name of a status ("DMAR_E_RANGE").  Thread-safe; never NULL. */
DMAR_API const char *dmar_status_str(dmar_status s);

/** Readable name of a fault reason ("not-present").  Thread-safe; never NULL. */
DMAR_API const char *dmar_fault_str(dmar_fault f);

#ifdef __cplusplus
}
#endif
#endif
