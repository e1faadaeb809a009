/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file dmar/types.h
 * @brief Address types, protection and access flags shared by every layer.
 */
#ifndef DMAR_TYPES_H
#define DMAR_TYPES_H

#include <stdint.h>
#include <stddef.h>

#include <dmar/export.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A physical (system memory) address, up to 2^52. */
typedef uint64_t dmar_pa_t;
/** A logical (I/O virtual) address: what a device puts on the bus (docs/spec.md). */
typedef uint64_t dmar_iova_t;

/** log2 of the page sizes the x86-64 and VT-d formats have (AMD-Vi has every power of two). */
enum {
	DMAR_PAGE_4K_LG2 = 12,
	DMAR_PAGE_2M_LG2 = 21,
	DMAR_PAGE_1G_LG2 = 30,
};
/** The base page size, 4 KiB: the granule of mappings, translations and invalidations. */
#define DMAR_PAGE_SIZE ((uint64_t)1 << DMAR_PAGE_4K_LG2)

/** Highest physical address width of the x86-64 entry format (address bits 12-51). */
#define DMAR_PA_BITS_MAX 52

/** Protection of a mapping (what map() asks for and what a walk reports). */
enum dmar_prot {
	DMAR_PROT_READ = 1u << 0,   /**< readable (x86-64 pages always are; VT-d second stage
				         and AMD-Vi pages may be write-only) */
	DMAR_PROT_WRITE = 1u << 1,  /**< writable at every level (R/W, W, IW) */
	DMAR_PROT_EXEC = 1u << 2,   /**< executable: XD = 0 at every level (x86-64), X = 1
				         (VT-d with ::DMAR_PT_EXEC); elsewhere as READ */
	DMAR_PROT_USER = 1u << 3,   /**< U/S = 1 at every level (x86-64); every page of an
				         IOMMU format, which has no privilege bit */
	DMAR_PROT_PWT = 1u << 4,    /**< write-through (x86-64 leaf PWT) */
	DMAR_PROT_PCD = 1u << 5,    /**< cache disable (x86-64 leaf PCD) */
	DMAR_PROT_GLOBAL = 1u << 6, /**< x86-64 leaf G bit */
	DMAR_PROT_SNOOP = 1u << 7,  /**< snoop forced (VT-d leaf SNP, AMD-Vi leaf FC) */
};

/** What a request does; combined with the permissions of every level of the walk. */
enum dmar_access {
	DMAR_ACCESS_READ = 1u << 0,  /**< read: needs ::DMAR_PROT_READ */
	DMAR_ACCESS_WRITE = 1u << 1, /**< write: needs ::DMAR_PROT_WRITE */
	DMAR_ACCESS_EXEC = 1u << 2,  /**< instruction fetch: needs ::DMAR_PROT_EXEC */
	DMAR_ACCESS_USER = 1u << 3, /**< non-privileged request: needs U/S = 1 at every level */
};

/** Every ::dmar_access bit: a request with another bit set is refused (::DMAR_E_INVALID).
 *  The four line up with ::DMAR_PROT_READ .. ::DMAR_PROT_USER, so a page allows an access
 *  when (access & ~prot & DMAR_ACCESS_ALL) is 0. */
#define DMAR_ACCESS_ALL                                                               \
	(DMAR_ACCESS_READ | DMAR_ACCESS_WRITE | DMAR_ACCESS_EXEC | DMAR_ACCESS_USER)

#ifdef __cplusplus
}
#endif
#endif
