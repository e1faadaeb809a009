/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file dmar/iommu.h
 * @brief Emulated IOMMUs, domains, devices, PASIDs, exclusive access (S1-S3, S6-S8, S13, S15, S18).
 *
 * An ::dmar_iommu owns an IOTLB, a 20-bit PASID space, a domain-id space, a fault queue and
 * statistics; several can live in one process (no global state).  A ::dmar_domain is one
 * translation context of one of three kinds (S8, S13).  A ::dmar_device is a requester id with
 * a DMA address width; linked devices form a logical adapter that shares ONE domain (S15).
 *
 * Translation: dmar_device_translate() / _batch() take requests with an optional PASID.  A
 * request without PASID goes through the device's domain; one with a PASID through the
 * process table bound to that PASID in the domain (S2).  Refused requests are queued as fault
 * records (S29) and counted by reason.
 *
 * Threads: translating calls are lock-free and need a registered thread
 * (dmar_thread_register()).  Configuration calls (create, map, attach, bind, exclusive
 * access) serialise on the IOMMU's lock, may wait for an RCU grace period, and must not be
 * called inside a read section or from a fault callback.
 */
#ifndef DMAR_IOMMU_H
#define DMAR_IOMMU_H

#include <dmar/fault.h>
#include <dmar/iotlb.h>
#include <dmar/pgtable.h>
#include <dmar/physmem.h>
#include <dmar/status.h>

#include <dmar/export.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dmar_iommu dmar_iommu;
typedef struct dmar_domain dmar_domain;
typedef struct dmar_device dmar_device;

/** Creation parameters. */
typedef struct dmar_iommu_config {
	dmar_iotlb_config iotlb;
	uint32_t fault_queue; /**< records, a power of two */
	unsigned pasid_bits;  /**< 1..20 */
} dmar_iommu_config;

/** Defaults: dmar_iotlb_config_default(), 1024 fault records, 20-bit PASIDs. */
DMAR_API void dmar_iommu_config_default(dmar_iommu_config *cfg);

/** Create an IOMMU whose tables live in @p pm.  Thread-safe. */
DMAR_API dmar_status dmar_iommu_create(dmar_physmem *pm, const dmar_iommu_config *cfg, dmar_iommu **out);

/** Destroy, with every domain and device still in it.  Nothing may use it any more. */
DMAR_API void dmar_iommu_destroy(dmar_iommu *iommu);

/** Its fault queue (drain it with dmar_faultq_drain()). Thread-safe. */
DMAR_API dmar_faultq *dmar_iommu_faults(dmar_iommu *iommu);

/** Its IOTLB (statistics, dmar_iotlb_invalidate_all()). Thread-safe. */
DMAR_API dmar_iotlb *dmar_iommu_iotlb(dmar_iommu *iommu);

/** Kinds of domain. */
typedef enum dmar_domain_kind {
	DMAR_DOMAIN_PASSTHROUGH = 0, /**< no translation and no isolation: pa = logical address */
	DMAR_DOMAIN_IDENTITY,        /**< logical page == physical page, only mapped pages (S8) */
	DMAR_DOMAIN_REMAPPED,        /**< any logical page to any physical page (S13) */
} dmar_domain_kind;

/**
 * Create a domain with a fresh domain id.  @p pt (may be NULL for the default 4-level
 * format) shapes the table of identity and remapped domains.  ::DMAR_E_NOMEM when the
 * 65535 ids are in use.  Configuration call.
 */
DMAR_API dmar_status dmar_domain_create(dmar_iommu *iommu, dmar_domain_kind kind,
			       const dmar_pgtable_config *pt, dmar_domain **out);

/** Destroy a domain no device is attached to (::DMAR_E_BUSY otherwise).  Its PASID bindings
 *  go with it.  Configuration call. */
DMAR_API dmar_status dmar_domain_destroy(dmar_domain *dom);

/** Its id (1..65535) and kind. Thread-safe. */
DMAR_API uint16_t dmar_domain_id(const dmar_domain *dom);
DMAR_API dmar_domain_kind dmar_domain_kind_of(const dmar_domain *dom);

/** Its table (identity and remapped; NULL for pass-through). Thread-safe. */
DMAR_API dmar_pgtable *dmar_domain_pgtable(dmar_domain *dom);

/**
 * Map as dmar_pgtable_map().  Identity domains require @p iova == @p pa (::DMAR_E_INVALID);
 * pass-through domains map nothing (::DMAR_E_NOT_SUPPORTED).  Thread-safe (one writer per
 * domain at a time, lock-free for translators).
 */
DMAR_API dmar_status dmar_domain_map(dmar_domain *dom, dmar_iova_t iova, dmar_pa_t pa, uint64_t size,
			    unsigned prot);

/** Unmap as dmar_pgtable_unmap(), IOTLB invalidation included: when it returns no
 *  translation that starts afterwards gets the old pages (S28).  Thread-safe as
 *  dmar_domain_map(). */
DMAR_API dmar_status dmar_domain_unmap(dmar_domain *dom, dmar_iova_t iova, uint64_t size,
			      uint64_t *unmapped);

/** Allocate a free PASID (1 .. 2^pasid_bits - 1) from the IOMMU's space.  Configuration
 *  call. */
DMAR_API dmar_status dmar_pasid_alloc(dmar_iommu *iommu, uint32_t *pasid);

/** Free a PASID; ::DMAR_E_BUSY while it is bound in some domain, ::DMAR_E_NOT_FOUND when
 *  not allocated.  Configuration call. */
DMAR_API dmar_status dmar_pasid_free(dmar_iommu *iommu, uint32_t pasid);

/**
 * Bind @p pasid (allocated, or any valid value chosen by the caller: explicit binding) in
 * @p dom to the process page table at @p root of format @p fmt (x86-64, 4 or 5 levels,
 * anywhere in physical memory): requests of the domain's devices with that PASID walk it
 * (S2).  ::DMAR_E_EXISTS if already bound in this domain.  A pass-through domain takes
 * bindings too (like VT-d scalable mode: requests without PASID pass through, requests with
 * one walk its process table), so an IoMmuSupported driver in pass-through mode still gets
 * shared virtual addressing (S3).  Configuration call.
 */
DMAR_API dmar_status dmar_domain_bind_pasid(dmar_domain *dom, uint32_t pasid, dmar_pa_t root,
				   const dmar_pt_format *fmt);

/** Unbind; everything the IOTLB cached for it is invalidated first.  Configuration call. */
DMAR_API dmar_status dmar_domain_unbind_pasid(dmar_domain *dom, uint32_t pasid);

/** The process table of a bound PASID changed: invalidate [iova, iova + size) for it.
 *  Configuration call. */
DMAR_API dmar_status dmar_domain_invalidate_pasid(dmar_domain *dom, uint32_t pasid, dmar_iova_t iova,
					 uint64_t size);

/** Create a device (requester id @p rid, unique in the IOMMU) that reaches 2^@p dma_bits
 *  bytes (32..64).  Not attached.  Configuration call. */
DMAR_API dmar_status dmar_device_create(dmar_iommu *iommu, uint16_t rid, unsigned dma_bits,
			       dmar_device **out);

/** Destroy a device (detached first).  Configuration call. */
DMAR_API dmar_status dmar_device_destroy(dmar_device *dev);

/**
 * Link @p dev to the logical adapter led by @p lead (S15): from then on they share one
 * domain and one view of memory; attaching or switching either does both.  @p dev must be
 * detached and alone.  Configuration call.
 */
DMAR_API dmar_status dmar_device_link(dmar_device *lead, dmar_device *dev);

/** Attach the device's logical adapter to @p dom.  ::DMAR_E_BUSY inside an exclusive window
 *  (use dmar_device_switch_domain() there).  Configuration call. */
DMAR_API dmar_status dmar_device_attach(dmar_device *dev, dmar_domain *dom);

/** Detach the logical adapter (its requests then fault with ::DMAR_FAULT_NO_DOMAIN).
 *  Configuration call; returns once no translation through the old domain is running. */
DMAR_API dmar_status dmar_device_detach(dmar_device *dev);

/**
 * Begin exclusive access (S18) for the device's logical adapter: returns once no
 * translation of it is in flight; until dmar_device_end_exclusive() its requests fault with
 * ::DMAR_FAULT_EXCLUSIVE (counted, queued).  ::DMAR_E_BUSY if already in a window.
 * Configuration call: waits for an RCU grace period.
 */
DMAR_API dmar_status dmar_device_begin_exclusive(dmar_device *dev);

/** Inside the window: swap the adapter's domain; everything the IOTLB cached for the old
 *  domain is invalidated.  ::DMAR_E_BUSY outside a window.  Configuration call. */
DMAR_API dmar_status dmar_device_switch_domain(dmar_device *dev, dmar_domain *dom);

/** End the window: requests translate again, through the (new) domain.  ::DMAR_E_BUSY
 *  outside a window.  Configuration call. */
DMAR_API dmar_status dmar_device_end_exclusive(dmar_device *dev);

/**
 * Translate one request of @p dev.  ::DMAR_OK, or ::DMAR_E_FAULT with @c res->fault set (and
 * a fault record queued).  Lock-free; registered thread.
 */
DMAR_API dmar_status dmar_device_translate(dmar_device *dev, const dmar_request *req, dmar_result *res);

/**
 * Translate @p n requests of @p dev, all through ONE snapshot of its state (domain and
 * exclusive flag), so a batch never mixes two domains.  Runs of requests with the same PASID
 * go through dmar_translate_batch() of their space.  @p nfaults (may be NULL) receives the
 * number refused.  Lock-free; registered thread.
 */
DMAR_API dmar_status dmar_device_translate_batch(dmar_device *dev, const dmar_request *req,
					dmar_result *res, size_t n, size_t *nfaults);

/** Counters of a device (of its own requests, not its adapter's). */
typedef struct dmar_device_stats {
	uint64_t translations;
	uint64_t faults[DMAR_FAULT_COUNT]; /**< by reason; [0] unused */
	uint64_t switches;                 /**< domain switches of its adapter */
} dmar_device_stats;

/** Read the counters (a snapshot). Thread-safe. */
DMAR_API void dmar_device_get_stats(const dmar_device *dev, dmar_device_stats *st);

/** Counters of a whole IOMMU: its IOTLB's, its fault queue's, and its devices' summed. */
typedef struct dmar_iommu_stats {
	dmar_iotlb_stats iotlb;
	dmar_faultq_stats fault_queue;
	uint64_t translations;             /**< device requests, all devices */
	uint64_t faults[DMAR_FAULT_COUNT]; /**< by reason, all devices */
	uint64_t switches;                 /**< domain switches (per adapter, not per member) */
} dmar_iommu_stats;

/** Read the counters (a snapshot).  Thread-safe; takes the configuration lock briefly. */
DMAR_API void dmar_iommu_get_stats(dmar_iommu *iommu, dmar_iommu_stats *st);

#ifdef __cplusplus
}
#endif
#endif
