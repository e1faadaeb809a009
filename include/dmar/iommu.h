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

/** An emulated IOMMU (opaque): IOTLB, PASID and domain-id spaces, fault queue, statistics. */
typedef struct dmar_iommu dmar_iommu;
/** A translation context (opaque): pass-through, identity or remapped, with its PASID bindings. */
typedef struct dmar_domain dmar_domain;
/** A requester (opaque): a requester id, a DMA address width, a logical adapter it belongs to. */
typedef struct dmar_device dmar_device;

/** Creation parameters. */
typedef struct dmar_iommu_config {
	dmar_iotlb_config iotlb; /**< geometry of its IOTLB */
	uint32_t fault_queue; /**< records, a power of two, 2 .. 2^24 */
	unsigned pasid_bits;  /**< 1..20 */
} dmar_iommu_config;

/** Defaults: dmar_iotlb_config_default(), 1024 fault records, 20-bit PASIDs.
 *  @param cfg  filled in
 *  @threadsafety Thread-safe (writes only @p cfg). */
DMAR_API void dmar_iommu_config_default(dmar_iommu_config *cfg);

/** Create an IOMMU whose domains' tables live in @p pm.
 *  @param pm   the physical memory (outlives the IOMMU)
 *  @param cfg  parameters (start from dmar_iommu_config_default())
 *  @param out  receives the IOMMU
 *  @return ::DMAR_OK; ::DMAR_E_INVALID for NULL arguments or a bad configuration;
 *          ::DMAR_E_NOT_SUPPORTED for an IOTLB probe variant this CPU cannot run
 *          (dmar_iotlb_create()); ::DMAR_E_NOMEM.
 *  @threadsafety Thread-safe. */
DMAR_API dmar_status dmar_iommu_create(dmar_physmem *pm, const dmar_iommu_config *cfg, dmar_iommu **out);

/** Destroy an IOMMU, with every domain and device still in it.
 *  @param iommu  the IOMMU; NULL is ignored
 *  @threadsafety Nothing may use it, its domains or its devices any more; not inside an RCU
 *  read section. */
DMAR_API void dmar_iommu_destroy(dmar_iommu *iommu);

/** Its fault queue, where refused requests of its devices are recorded (S29).
 *  @param iommu  the IOMMU
 *  @return the queue, owned by the IOMMU (drain it with dmar_faultq_drain()).
 *  @threadsafety Thread-safe. */
DMAR_API dmar_faultq *dmar_iommu_faults(dmar_iommu *iommu);

/** Its IOTLB (for statistics and dmar_iotlb_invalidate_all()).
 *  @param iommu  the IOMMU
 *  @return the IOTLB, owned by the IOMMU.
 *  @threadsafety Thread-safe. */
DMAR_API dmar_iotlb *dmar_iommu_iotlb(dmar_iommu *iommu);

/** Kinds of domain. */
typedef enum dmar_domain_kind {
	DMAR_DOMAIN_PASSTHROUGH = 0, /**< no translation and no isolation: pa = logical address */
	DMAR_DOMAIN_IDENTITY,        /**< logical page == physical page, only mapped pages (S8) */
	DMAR_DOMAIN_REMAPPED,        /**< any logical page to any physical page (S13) */
} dmar_domain_kind;

/**
 * Create a domain with a fresh domain id.
 * @param iommu  the IOMMU
 * @param kind   pass-through, identity or remapped
 * @param pt     shape of the table of identity and remapped domains, in any format (x86-64,
 *               VT-d second stage, AMD-Vi: the one the emulated IOMMU walks); NULL for
 *               dmar_pgtable_config_default().  The table is always made an I/O virtual
 *               address table (::DMAR_PT_IOVA is added to its format's flags).
 * @param out    receives the domain
 * @return ::DMAR_OK; ::DMAR_E_INVALID for NULL arguments, an unknown kind or a bad table
 *         configuration (::DMAR_PT_UPPER_HALF included); ::DMAR_E_NOMEM without memory, frames, or when the 65535 ids are
 *         in use.
 * @threadsafety Configuration call: serialised on the IOMMU's lock; not inside an RCU read
 * section, not from a fault callback.
 */
DMAR_API dmar_status dmar_domain_create(dmar_iommu *iommu, dmar_domain_kind kind,
			       const dmar_pgtable_config *pt, dmar_domain **out);

/** Destroy a domain; its PASID bindings go with it.
 *  @param dom  the domain; NULL is ignored
 *  @return ::DMAR_OK (also for NULL); ::DMAR_E_BUSY while a device is attached.
 *  @threadsafety Configuration call: serialised on the IOMMU's lock; waits for an RCU grace
 *  period (a translation that read a state naming the domain just before it was detached
 *  may still be walking its tables); not inside an RCU read section, not from a fault
 *  callback. */
DMAR_API dmar_status dmar_domain_destroy(dmar_domain *dom);

/** Its domain id.
 *  @param dom  the domain
 *  @return the id, 1..65535; 0 for NULL.
 *  @threadsafety Thread-safe. */
DMAR_API uint16_t dmar_domain_id(const dmar_domain *dom);
/** Its kind.
 *  @param dom  the domain
 *  @return the kind it was created with; 0 (::DMAR_DOMAIN_PASSTHROUGH) for NULL.
 *  @threadsafety Thread-safe. */
DMAR_API dmar_domain_kind dmar_domain_kind_of(const dmar_domain *dom);

/** Its table.
 *  @param dom  the domain
 *  @return the table of an identity or remapped domain, owned by the domain; NULL for
 *          pass-through.
 *  @threadsafety Thread-safe. */
DMAR_API dmar_pgtable *dmar_domain_pgtable(dmar_domain *dom);

/** The logical addresses its requests without a PASID may use: [0, *last].  An identity or
 *  remapped domain's table is an I/O virtual address table (::DMAR_PT_IOVA): 2^w - 1 for its
 *  format's input width w (dmar_pt_input_range(): x86-64 48 or 57, VT-d 39, 48 or 57,
 *  AMD-Vi 21 to 64); a pass-through domain takes every address (2^64 - 1).
 *  A logical address allocator's ceiling is the smaller of this and the device's reach.
 *  @param dom   the domain
 *  @param last  receives the last address
 *  @return ::DMAR_OK; ::DMAR_E_INVALID for NULL arguments.
 *  @threadsafety Thread-safe. */
DMAR_API dmar_status dmar_domain_input_range(const dmar_domain *dom, dmar_iova_t *last);

/**
 * Map [iova, iova + size) to [pa, pa + size) in the domain's table, as dmar_pgtable_map().
 * @param dom   the domain
 * @param iova  first logical address, 4 KiB aligned
 * @param pa    first physical address, 4 KiB aligned
 * @param size  bytes, a nonzero multiple of 4 KiB
 * @param prot  ::dmar_prot flags the table's format can express (dmar_pgtable_map(): x86-64
 *              needs READ; VT-d second stage and AMD-Vi take write-only pages)
 * @return as dmar_pgtable_map() (::DMAR_E_THREAD from an unregistered thread included);
 *         also ::DMAR_E_INVALID for an identity domain when
 *         @p iova != @p pa (S8), ::DMAR_E_NOT_SUPPORTED for a pass-through domain.
 * @threadsafety Thread-safe (writers of one domain serialise, lock-free for translators);
 * registered thread, outside an RCU read section.
 */
DMAR_API dmar_status dmar_domain_map(dmar_domain *dom, dmar_iova_t iova, dmar_pa_t pa, uint64_t size,
			    unsigned prot);

/** Unmap as dmar_pgtable_unmap(), IOTLB invalidation included: when it returns no
 *  translation that starts afterwards gets the old pages (S28).
 *  @param dom       the domain
 *  @param iova      first logical address, 4 KiB aligned
 *  @param size      bytes, a nonzero multiple of 4 KiB
 *  @param unmapped  receives the bytes that were mapped (may be NULL)
 *  @return as dmar_pgtable_unmap(); also ::DMAR_E_NOT_SUPPORTED for a pass-through domain.
 *  @threadsafety As dmar_domain_map(). */
DMAR_API dmar_status dmar_domain_unmap(dmar_domain *dom, dmar_iova_t iova, uint64_t size,
			      uint64_t *unmapped);

/** Allocate a free PASID from the IOMMU's space.
 *
 *  Ownership of PASIDs: dmar_pasid_alloc() hands a PASID to its caller, who owns it until
 *  dmar_pasid_free(); a binding (dmar_domain_bind_pasid()) neither allocates nor frees.  A
 *  caller may also bind a PASID of its own choosing without allocating it (explicit
 *  binding, as an emulated IOMMU's guest picks its PASIDs): while it is bound in some
 *  domain, dmar_pasid_alloc() does not hand it out, and it is never the caller's to free.
 *  PASID 0 is never handed out and every call that takes a PASID refuses it
 *  (::DMAR_E_INVALID); a request with PASID 0 faults with ::DMAR_FAULT_PASID.
 *  @param iommu  the IOMMU
 *  @param pasid  receives the PASID, 1 .. 2^pasid_bits - 1, neither allocated nor bound
 *  @return ::DMAR_OK; ::DMAR_E_INVALID for NULL arguments; ::DMAR_E_NOMEM when every PASID
 *          is allocated or bound.
 *  @threadsafety Configuration call: serialised on the IOMMU's lock; not inside an RCU read
 *  section, not from a fault callback. */
DMAR_API dmar_status dmar_pasid_alloc(dmar_iommu *iommu, uint32_t *pasid);

/** Free a PASID dmar_pasid_alloc() handed out.
 *  @param iommu  the IOMMU
 *  @param pasid  the PASID
 *  @return ::DMAR_OK; ::DMAR_E_INVALID for NULL, 0 or an out-of-range value;
 *          ::DMAR_E_NOT_FOUND when dmar_pasid_alloc() did not hand it out (one only bound
 *          explicitly included); ::DMAR_E_BUSY while it is bound in some domain (unbind it
 *          first).  Nothing changes unless ::DMAR_OK.
 *  @threadsafety Configuration call: serialised on the IOMMU's lock; not inside an RCU read
 *  section, not from a fault callback. */
DMAR_API dmar_status dmar_pasid_free(dmar_iommu *iommu, uint32_t pasid);

/**
 * Bind a PASID in a domain to a process page table: requests of the domain's devices with
 * that PASID walk it (S2).  A pass-through domain takes bindings too (like VT-d scalable
 * mode: requests without PASID pass through, requests with one walk its process table), so
 * an IoMmuSupported driver in pass-through mode still gets shared virtual addressing (S3).
 * @param dom    the domain
 * @param pasid  1 .. 2^pasid_bits - 1: one from dmar_pasid_alloc(), or one the caller
 *               chooses (explicit binding: it stays unallocated, and dmar_pasid_alloc()
 *               skips it while it is bound; see dmar_pasid_alloc() for ownership)
 * @param root   physical address of the process table's top level, anywhere in memory
 * @param fmt    its format: an x86-64 CPU table, 4 or 5 levels (S2: the process's own page
 *               table); not ::DMAR_PT_IOVA, not an IOMMU format
 * @return ::DMAR_OK; ::DMAR_E_INVALID for NULL arguments, PASID 0 or one outside the
 *         IOMMU's space, or a bad format (any but an x86-64 CPU table's); ::DMAR_E_EXISTS if already bound in this domain;
 *         ::DMAR_E_NOMEM.
 * @threadsafety Configuration call: serialised on the IOMMU's lock; not inside an RCU read
 * section, not from a fault callback.
 */
DMAR_API dmar_status dmar_domain_bind_pasid(dmar_domain *dom, uint32_t pasid, dmar_pa_t root,
				   const dmar_pt_format *fmt);

/** Unbind a PASID; everything the IOTLB cached for it is invalidated first.
 *  @param dom    the domain
 *  @param pasid  the PASID
 *  @return ::DMAR_OK; ::DMAR_E_INVALID for NULL or an out-of-range value;
 *          ::DMAR_E_NOT_FOUND when not bound in @p dom.
 *  @threadsafety Configuration call: serialised on the IOMMU's lock; not inside an RCU read
 *  section, not from a fault callback. */
DMAR_API dmar_status dmar_domain_unbind_pasid(dmar_domain *dom, uint32_t pasid);

/** The process table of a bound PASID changed: invalidate [iova, iova + size) for it.
 *  @param dom    the domain
 *  @param pasid  the bound PASID
 *  @param iova   first address
 *  @param size   bytes, > 0
 *  @return ::DMAR_OK; ::DMAR_E_INVALID for bad arguments (checked first, a size 0 and a
 *          range past 2^64 included); ::DMAR_E_NOT_FOUND when the PASID is not bound in
 *          @p dom.
 *  @threadsafety Configuration call: serialised on the IOMMU's lock; not inside an RCU read
 *  section, not from a fault callback. */
DMAR_API dmar_status dmar_domain_invalidate_pasid(dmar_domain *dom, uint32_t pasid, dmar_iova_t iova,
					 uint64_t size);

/** Create a device, not attached to any domain.
 *  @param iommu     the IOMMU
 *  @param rid       requester id (bus/device/function), unique in the IOMMU
 *  @param dma_bits  DMA address width: the device reaches 2^dma_bits bytes (32..64, S14)
 *  @param out       receives the device
 *  @return ::DMAR_OK; ::DMAR_E_INVALID for NULL arguments or a width outside 32..64;
 *          ::DMAR_E_EXISTS when the requester id is taken; ::DMAR_E_NOMEM.
 *  @threadsafety Configuration call: serialised on the IOMMU's lock; not inside an RCU read
 *  section, not from a fault callback. */
DMAR_API dmar_status dmar_device_create(dmar_iommu *iommu, uint16_t rid, unsigned dma_bits,
			       dmar_device **out);

/** Destroy a device (detached first).
 *  @param dev  the device; NULL is ignored
 *  @return ::DMAR_OK (also for NULL); ::DMAR_E_BUSY while it leads a logical adapter with
 *          other members (destroy those first).
 *  @threadsafety Configuration call; no translation of it may be running or start. */
DMAR_API dmar_status dmar_device_destroy(dmar_device *dev);

/**
 * Link @p dev to the logical adapter led by @p lead (S15): from then on they share one
 * domain and one view of memory; attaching or switching either does both.
 * @param lead  a device of the adapter (its leader is used)
 * @param dev   the device to add: detached and alone (one that was attached and has been
 *              detached since is alone again)
 * @return ::DMAR_OK; ::DMAR_E_INVALID for NULL, identical devices or devices of two IOMMUs;
 *         ::DMAR_E_BUSY when @p dev is attached, inside an exclusive window, linked, leading
 *         others or pinned by an enabled IOMMU (S12), or the adapter is inside an exclusive
 *         window.
 * @threadsafety Configuration call: serialised on the IOMMU's lock; not inside an RCU read
 * section, not from a fault callback.
 */
DMAR_API dmar_status dmar_device_link(dmar_device *lead, dmar_device *dev);

/** Attach the device's logical adapter to a domain (replacing any domain it had).
 *  @param dev  a device of the adapter
 *  @param dom  the domain, of the same IOMMU
 *  @return ::DMAR_OK; ::DMAR_E_INVALID for NULL or a domain of another IOMMU;
 *          ::DMAR_E_BUSY inside an exclusive window (use dmar_device_switch_domain() there)
 *          or once the adapter's IOMMU is enabled (S12: dmar_adapter_start() pins it);
 *          ::DMAR_E_NOMEM.
 *  @threadsafety Configuration call; returns after an RCU grace period when it replaced a
 *  domain (no translation through the old one is still running). */
DMAR_API dmar_status dmar_device_attach(dmar_device *dev, dmar_domain *dom);

/** Detach the logical adapter (its requests then fault with ::DMAR_FAULT_NO_DOMAIN).
 *  @param dev  a device of the adapter
 *  @return ::DMAR_OK; ::DMAR_E_INVALID for NULL; ::DMAR_E_BUSY inside an exclusive window
 *          or once the adapter's IOMMU is enabled (S12).
 *  @threadsafety Configuration call; returns once no translation through the old domain is
 *  running (an RCU grace period). */
DMAR_API dmar_status dmar_device_detach(dmar_device *dev);

/**
 * Begin exclusive access (S18) for the device's logical adapter: returns once no
 * translation of it is in flight; until dmar_device_end_exclusive() its requests fault with
 * ::DMAR_FAULT_EXCLUSIVE (counted, queued), those of an adapter that has no domain in the
 * window with ::DMAR_FAULT_NO_DOMAIN, as outside it.  Only translations are covered: a device model
 * that still uses a translation it obtained before the window (copies after translating)
 * must be quiesced by other means if the window changes what those pages hold.
 * @param dev  a device of the adapter
 * @return ::DMAR_OK; ::DMAR_E_INVALID for NULL; ::DMAR_E_BUSY if already in a window.
 * @threadsafety Configuration call: serialised on the IOMMU's lock, waits for an RCU grace
 * period; not inside a read section, not from a fault callback.  With the qsbr flavor, every registered thread must pass
 * quiescent states meanwhile.
 */
DMAR_API dmar_status dmar_device_begin_exclusive(dmar_device *dev);

/** Inside the window: swap the adapter's domain; everything the IOTLB cached for the old
 *  domain is invalidated.  Once the adapter's IOMMU is enabled (S12) no switch may turn
 *  isolation off: a pass-through domain is refused, while an identity domain (which still
 *  reaches only the pages it maps, S8) or another remapped one is taken.
 *  @param dev  a device of the adapter
 *  @param dom  the new domain, of the same IOMMU
 *  @return ::DMAR_OK; ::DMAR_E_INVALID for NULL or a domain of another IOMMU;
 *          ::DMAR_E_BUSY outside a window, or for a pass-through @p dom once the IOMMU is
 *          enabled (nothing changes: the window stays open on the old domain);
 *          ::DMAR_E_NOMEM.
 *  @threadsafety Configuration call: serialised on the IOMMU's lock; not inside an RCU read
 *  section, not from a fault callback. */
DMAR_API dmar_status dmar_device_switch_domain(dmar_device *dev, dmar_domain *dom);

/** End the window: requests translate again, through the (new) domain.
 *  @param dev  a device of the adapter
 *  @return ::DMAR_OK; ::DMAR_E_INVALID for NULL; ::DMAR_E_BUSY outside a window;
 *          ::DMAR_E_NOMEM.
 *  @threadsafety Configuration call: serialised on the IOMMU's lock; not inside an RCU read
 *  section, not from a fault callback. */
DMAR_API dmar_status dmar_device_end_exclusive(dmar_device *dev);

/**
 * Translate one request of @p dev.
 * @param dev  the device
 * @param req  the request (address, ::dmar_access flags, PASID or ::DMAR_NO_PASID)
 * @param res  the outcome
 * @return ::DMAR_OK with @p res filled; ::DMAR_E_FAULT with @c res->fault set (the fault is
 *         counted and queued); ::DMAR_E_INVALID for NULL arguments or unknown access bits;
 *         ::DMAR_E_THREAD from an unregistered thread.
 * @threadsafety Lock-free; registered thread; concurrently with any configuration call.
 */
DMAR_API dmar_status dmar_device_translate(dmar_device *dev, const dmar_request *req, dmar_result *res);

/** Direction of a DMA: what the device does to memory. */
typedef enum dmar_dma_dir {
	DMAR_DMA_READ = 0,  /**< the device reads memory into the buffer */
	DMAR_DMA_WRITE = 1, /**< the device writes the buffer into memory */
} dmar_dma_dir;

/**
 * A DMA of @p dev: @p len bytes between device address @p iova (with @p pasid, or
 * ::DMAR_NO_PASID) and the host buffer @p buf, every page translated and its bytes moved
 * inside ONE RCU read section.  So, unlike dmar_device_translate() followed by a copy of the
 * embedder's own, a DMA can never land on a page after it was unmapped and dmar_sync()
 * returned, or after dmar_device_begin_exclusive() returned (S18: nothing in flight): what
 * QEMU gets by holding its RCU lock across translate and copy.  The access is checked per
 * page (a write needs a writable mapping); the first page that faults stops the DMA.  Pages
 * are translated 64 at a time, like the outstanding requests of a real DMA engine, so a page
 * after the faulting one in the same group may have been translated (and, if it faults
 * too, reported) although no byte of it moved.
 * @param dev   the device
 * @param iova  the first byte (any alignment)
 * @param pasid the PASID of the request, or ::DMAR_NO_PASID
 * @param dir   ::DMAR_DMA_READ or ::DMAR_DMA_WRITE
 * @param buf   @p len bytes
 * @param len   bytes to move (0 is a no-op)
 * @param done  receives the bytes moved before a fault (may be NULL)
 * @param fault receives the faulting page's result (may be NULL)
 * @return ::DMAR_OK when every byte moved; ::DMAR_E_FAULT at the first refused page (counted
 *         and queued like any fault); ::DMAR_E_RANGE when a translation points outside RAM
 *         (an IO-space page: nothing to copy); ::DMAR_E_READONLY for a write whose
 *         translation is allowed but lands in read-only RAM (::DMAR_RAM_READONLY).  In these
 *         three cases the bytes before that page did move (@p done says how many) and
 *         @p fault receives that page's translation (its @c fault says ::DMAR_FAULT_NONE
 *         for the last two).  ::DMAR_E_INVALID (nothing moved, @p fault untouched) for NULL
 *         arguments, an unknown direction or a range that runs past 2^64 (one that ends
 *         exactly there is taken); ::DMAR_E_THREAD from an unregistered thread.
 * @threadsafety Lock-free; registered thread; concurrently with any configuration call.
 *         Holds an RCU read section for the whole copy: keep @p len moderate (it delays
 *         writers' grace periods), and do not call it inside a fault callback.
 */
DMAR_API dmar_status dmar_device_dma(dmar_device *dev, dmar_iova_t iova, uint32_t pasid, dmar_dma_dir dir,
				     void *buf, size_t len, size_t *done, dmar_result *fault);

/**
 * Translate @p n requests of @p dev, all through ONE snapshot of its state (domain and
 * exclusive flag), so a batch never mixes two domains.  Runs of requests with the same PASID
 * go through dmar_translate_batch() of their space.
 * @param dev      the device
 * @param req      @p n requests
 * @param res      @p n outcomes, one per request
 * @param n        requests; any number, 0 included
 * @param nfaults  receives the number refused (may be NULL)
 * @return ::DMAR_OK, also when requests were refused (each refused one has its
 *         @c res[i].fault set and is counted and queued); ::DMAR_E_INVALID for NULL
 *         arguments or unknown access bits; ::DMAR_E_THREAD from an unregistered thread;
 *         nothing is translated in those two cases.
 * @threadsafety Lock-free; registered thread; concurrently with any configuration call.
 */
DMAR_API dmar_status dmar_device_translate_batch(dmar_device *dev, const dmar_request *req,
					dmar_result *res, size_t n, size_t *nfaults);

/** Counters of a device (of its own requests, not its adapter's). */
typedef struct dmar_device_stats {
	uint64_t translations;             /**< requests translated or refused */
	uint64_t faults[DMAR_FAULT_COUNT]; /**< by reason; [0] unused */
	uint64_t switches;                 /**< domain switches of its adapter */
} dmar_device_stats;

/** Read the counters.
 *  @param dev  the device
 *  @param st   filled in
 *  @threadsafety Thread-safe (a snapshot). */
DMAR_API void dmar_device_get_stats(const dmar_device *dev, dmar_device_stats *st);

/** Counters of a whole IOMMU: its IOTLB's, its fault queue's, and its devices' summed,
 *  devices destroyed since included (the counts never go down). */
typedef struct dmar_iommu_stats {
	dmar_iotlb_stats iotlb;            /**< its IOTLB's counters */
	dmar_faultq_stats fault_queue;     /**< its fault queue's counters */
	uint64_t translations;             /**< device requests, all devices */
	uint64_t faults[DMAR_FAULT_COUNT]; /**< by reason, all devices */
	uint64_t switches;                 /**< domain switches (per adapter, not per member) */
} dmar_iommu_stats;

/** Read the counters.
 *  @param iommu  the IOMMU
 *  @param st     filled in
 *  @threadsafety Thread-safe (a snapshot); takes the configuration lock briefly. */
DMAR_API void dmar_iommu_get_stats(dmar_iommu *iommu, dmar_iommu_stats *st);

#ifdef __cplusplus
}
#endif
#endif
