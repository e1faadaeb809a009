/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file dmar/status.h
 * @brief Status codes and translation fault reasons.
 *
 * Every fallible function returns a ::dmar_status (design decision 7: errors are values).
 * A function that returns anything but ::DMAR_OK has changed nothing, unless its
 * comment says otherwise.
 *
 * NULL gets the same answer from every public function, by this rule; a function's comment
 * need add only the pointers it does not need (those it calls optional or "may be NULL", and
 * a buffer of 0 bytes) and, for a getter, the "none" value it answers.  For a NULL handle
 * (the object the function works on) or a NULL pointer the function needs:
 *  - a function that returns a ::dmar_status answers ::DMAR_E_INVALID, whatever else is
 *    wrong with the call (an IRQL too high, a legacy callback on a remapped adapter, an
 *    unregistered thread);
 *  - a function that returns a pointer returns NULL, and one that returns a number returns
 *    0, or the "none" value of its type where it has one: ::DMAR_NO_PASID from
 *    dmar_process_pasid() and dmar_gpu_context_pasid(), ::DMAR_SEGMENT_SYSTEM (0) from
 *    dmar_allocation_segment(); dmar_domain_id() answers 0, an id no domain has, and
 *    dmar_domain_kind_of() 0, ::DMAR_DOMAIN_PASSTHROUGH (its type has no "none");
 *  - a function that reports through out-pointers and returns nothing (each `*_get_stats()`,
 *    dmar_trace_header()) fills them with zeros (NULL for a pointer) for a NULL handle, and
 *    skips a NULL out-pointer;
 *  - a function that destroys or closes the object it is given ignores NULL, as free() does
 *    (answering ::DMAR_OK if it returns a status), and any other function that returns
 *    nothing (a `*_config_default()`, a setter, an invalidation) does nothing.
 *
 * A function that destroys or frees an object through its adapter (dmar_process_destroy(),
 * dmar_pmo_destroy(), dmar_adl_free() and the like) works on the adapter: the object is a
 * pointer it needs, so NULL there answers ::DMAR_E_INVALID.  On the translation paths the
 * check is one predictable branch.
 */
#ifndef DMAR_STATUS_H
#define DMAR_STATUS_H

#include <stdint.h>

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
	DMAR_E_NOSPACE,       /**< no free logical address range of that size is left */
	DMAR_E_DEPRECATED,    /**< a legacy callback a remapping driver may not use (S25) */
	DMAR_E_IRQL,          /**< called at too high an IRQL (S26; after the bugcheck handler) */
	DMAR_STATUS_COUNT
} dmar_status;

/** Why a translation was refused.  The walker numbers follow the x86-64 walk order. */
typedef enum dmar_fault {
	DMAR_FAULT_NONE = 0,     /**< no fault */
	DMAR_FAULT_NOT_PRESENT,  /**< an entry on the path is not present (S7): P = 0 (x86-64,
				      AMD-Vi PR), R = W = 0 (VT-d second stage) */
	DMAR_FAULT_WRITE,        /**< write to a page some level makes read-only (R/W, W, IW = 0) */
	DMAR_FAULT_USER,         /**< user-mode access to a page some level marks supervisor */
	DMAR_FAULT_EXEC,         /**< execute access to a page some level marks XD (x86-64) or
				      not executable (VT-d X = 0 with ::DMAR_PT_EXEC) */
	DMAR_FAULT_ADDR_WIDTH,   /**< address beyond the table's input width, or with bits set
				      that a skipped AMD-Vi level would have indexed */
	DMAR_FAULT_NONCANONICAL, /**< address not sign-extended from the top input bit */
	DMAR_FAULT_RESERVED,     /**< reserved bits set in an entry */
	DMAR_FAULT_TABLE_ADDR,   /**< a table pointer (or the root) is not readable memory */
	DMAR_FAULT_DEVICE_WIDTH, /**< address beyond the device's DMA address width (S14) */
	DMAR_FAULT_EXCLUSIVE,    /**< request during an exclusive-access window (S18) */
	DMAR_FAULT_NO_DOMAIN,    /**< the device is not attached to a domain */
	DMAR_FAULT_PASID,        /**< the PASID is not bound in the device's domain (S2) */
	DMAR_FAULT_APERTURE,     /**< an aperture segment page that maps nothing (S4, S20) */
	DMAR_FAULT_READ,         /**< read of a page some level makes write-only or inaccessible
				      (VT-d second stage R = 0, AMD-Vi IR = 0) */
	DMAR_FAULT_AD,           /**< the walker could not set an accessed or dirty bit: the
				      table lies in read-only memory (::DMAR_PT_AD) */
	DMAR_FAULT_COUNT
} dmar_fault;

/** Readable name of a status.
 *  @param s  the status
 *  @return a static string such as "DMAR_E_RANGE"; never NULL, also for unknown values.
 *  @threadsafety Thread-safe. */
DMAR_API const char *dmar_status_str(dmar_status s);

/**
 * NTSTATUS values the WDDM layer speaks (the Windows kernel's numbers), so that a driver
 * model written against the DDI sees familiar codes.  dmar_status_to_ntstatus() and
 * dmar_status_from_ntstatus() map between them and ::dmar_status.
 */
enum dmar_ntstatus {
	DMAR_NT_SUCCESS = 0x00000000u,
	DMAR_NT_DEVICE_BUSY = 0x80000011u,
	DMAR_NT_ACCESS_VIOLATION = 0xC0000005u,
	DMAR_NT_INVALID_PARAMETER = 0xC000000Du,
	DMAR_NT_NO_MEMORY = 0xC0000017u,
	DMAR_NT_CONFLICTING_ADDRESSES = 0xC0000018u,
	DMAR_NT_INSUFFICIENT_RESOURCES = 0xC000009Au,
	DMAR_NT_MEDIA_WRITE_PROTECTED = 0xC00000A2u,
	DMAR_NT_NOT_SUPPORTED = 0xC00000BBu,
	DMAR_NT_INVALID_ADDRESS = 0xC0000141u,
	DMAR_NT_INVALID_DEVICE_STATE = 0xC0000184u,
	DMAR_NT_NOT_FOUND = 0xC0000225u,
	DMAR_NT_ILLEGAL_FUNCTION = 0xC00000AFu,
	DMAR_NT_INVALID_THREAD = 0xC000071Cu,
	DMAR_NT_NOT_IMPLEMENTED = 0xC0000002u,
};

/** The NTSTATUS for a status.
 *  @param s  the status
 *  @return its ::dmar_ntstatus value (::DMAR_E_DEPRECATED -> STATUS_NOT_SUPPORTED,
 *          ::DMAR_E_IRQL -> STATUS_INVALID_DEVICE_STATE, ...); STATUS_INVALID_PARAMETER for
 *          an unknown value.
 *  @threadsafety Thread-safe. */
DMAR_API uint32_t dmar_status_to_ntstatus(dmar_status s);

/** The status for an NTSTATUS.
 *  @param ntstatus  any 32-bit NTSTATUS
 *  @return the ::dmar_status each value of ::dmar_ntstatus maps to; ::DMAR_OK for any other
 *          success or informational value; ::DMAR_E_INVALID for any other warning or error
 *          value.
 *  @threadsafety Thread-safe. */
DMAR_API dmar_status dmar_status_from_ntstatus(uint32_t ntstatus);

/** Readable name of an NTSTATUS.
 *  @param ntstatus  the value
 *  @return a static string such as "STATUS_DEVICE_BUSY"; "STATUS_<unknown>" for values
 *          outside ::dmar_ntstatus; never NULL.
 *  @threadsafety Thread-safe. */
DMAR_API const char *dmar_ntstatus_str(uint32_t ntstatus);

/** Readable name of a fault reason.
 *  @param f  the reason
 *  @return a static string such as "not-present"; never NULL, also for unknown values.
 *  @threadsafety Thread-safe. */
DMAR_API const char *dmar_fault_str(dmar_fault f);

#ifdef __cplusplus
}
#endif
#endif
