/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file dmar/remap.h
 * @brief The WDDM remapping layer: adapters, processes and PASIDs, physical memory objects,
 *        ADLs, aperture segments, IRQL (S3-S27).
 *
 * An ::dmar_adapter is one logical adapter (S15): one or more linked physical adapters
 * (engine devices) sharing one DMA domain, started the way dmar_start_decide() says
 * (pass-through, 1:1 isolation or remapped).  The functions below are what the OS (Dxgkrnl,
 * VidMm) offers a kernel-mode driver, and the paging operations VidMm issues to it; in an
 * emulator the embedder plays the driver and the library plays the OS.
 *
 * Where the documents leave a choice, this is what the layer does, and why:
 *  - **Start** (S10, S14, S17): dmar_adapter_create() decides and creates the devices.  A
 *    remapped or pass-through adapter is attached to its domain at once (S17: before any
 *    memory is touched); a 1:1-isolation adapter is attached by dmar_adapter_start(), which
 *    first maps every memory object allocated before it (S10), or all RAM and the IO-space
 *    objects allocated before it when the policy says EnableMappings.  The VidMm remapping cap set includes MapAperture2Supported (the
 *    documents: without it the driver cannot use DMA remapping), so `remap_caps_vidmm`
 *    counts only together with `map_aperture2`.
 *  - **S12**: nothing disables the IOMMU: dmar_adapter_disable_iommu() answers
 *    ::DMAR_E_NOT_SUPPORTED, and the adapter's devices refuse dmar_device_detach() /
 *    dmar_device_attach() (::DMAR_E_BUSY); a domain switch under exclusive access (S18)
 *    stays possible.
 *  - **GPU mappings** (S13, S24): in remapped mode a logical range is allocated in
 *    [0, logical limit) and the ADL holds logical pages, contiguous (S23); in 1:1 isolation
 *    the pages are mapped at their own addresses (S8) and the ADL holds physical pages; in
 *    pass-through nothing is mapped.  Pages stay locked (a section object cannot be trimmed)
 *    while any GPU or CPU mapping exists.
 *  - **1:1 entries** (S8, S10): in isolation the mappings of one page share its entry, which
 *    grants the union of what they ask (the start's mapping of an object allocated before
 *    it, S10, asks READ|WRITE), widening when one asks more and narrowing again when it is
 *    unmapped (the entry is unmapped and mapped again with the new permissions: a device
 *    access to that page while a mapping call changes them may fault); the entry goes with
 *    the last of them, and with the frames of a trimmed
 *    section object (a later mapping maps the frames it brings back).  At most 65,535
 *    mappings hold one page's entry at a time (the start's counts as one): one more answers
 *    ::DMAR_E_BUSY.  With EnableMappings (S9: all of physical memory is in the domain) every
 *    page of RAM is mapped READ|WRITE from the start for the adapter's life and a mapping of
 *    RAM changes nothing there: its @c prot narrows nothing (the policy is for development:
 *    it gives up isolation) and widens nothing (EXEC and USER are not granted); IO space,
 *    which is not RAM, gets 1:1 entries as above.
 *  - **CPU mappings** (S24) alias the object's physical pages at consecutive host addresses:
 *    a real pointer, through which writes are writes to the simulated memory.  The cache type
 *    is recorded (the host has no write-combining to give).  Pages that live in an
 *    embedder's private buffer (DMAR_RAM_BUFFER) cannot be aliased: ::DMAR_E_NOT_SUPPORTED.
 *  - **Legacy callbacks** (S25) answer ::DMAR_E_DEPRECATED on a remapped adapter and work
 *    (as thin wrappers of the object calls) on the others.
 *  - **IRQL** (S26): every callback takes the caller's IRQL.  Above APC_LEVEL, from interface
 *    version 3.2 the adapter's bugcheck handler is called (default: message and abort); if
 *    it returns, the call answers ::DMAR_E_IRQL and changes nothing.  Before 3.2 the OS did
 *    not verify: the call proceeds and is counted in ::dmar_adapter_stats.irql_unverified,
 *    once per call (also when the layer runs it again after draining logical space).
 *  - **Aperture** (S4, S20-S22): one mapping per allocation at a time; a device access
 *    through the aperture goes segment page -> logical page -> IOMMU -> physical page.
 *  - **Ranges** (S7): every range the layer is given (an IO-space object, pages of an
 *    object, an ADL's entries, aperture offsets and counts) is held by its first and last
 *    byte or page, never by a sum that can wrap: one that would run past 2^64 is refused.
 *
 * Threads: configuration calls on one adapter are serialised by its lock and may come from
 * any thread; a registered thread goes offline while it waits for the lock (under the qsbr
 * flavor the holder may be waiting for a grace period).  dmar_aperture_translate() is a
 * translation call: lock-free, from registered threads (dmar_thread_register()).  Bad input
 * gets a status and changes nothing.
 */
#ifndef DMAR_REMAP_H
#define DMAR_REMAP_H

#include <stdbool.h>

#include <dmar/export.h>
#include <dmar/iommu.h>
#include <dmar/iova.h>
#include <dmar/start.h>
#include <dmar/status.h>
#include <dmar/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A logical adapter of the WDDM layer (opaque): linked devices, one domain, its objects. */
typedef struct dmar_adapter dmar_adapter;
/** A process using the GPU (opaque), with its PASID when the driver is IoMmuSupported. */
typedef struct dmar_process dmar_process;
/** A GPU context, WDDM's "device" (opaque), carrying its process's PASID. */
typedef struct dmar_gpu_context dmar_gpu_context;
/** A physical memory object (opaque): pages, their GPU and CPU mappings, references. */
typedef struct dmar_pmo dmar_pmo;
/** A VidMm allocation (opaque): a memory object in a segment, with its logical ADL. */
typedef struct dmar_allocation dmar_allocation;

/* ---- IRQL and the bugcheck (S26) -------------------------------------------------- */

/** Interrupt request levels, Windows' numbers. */
typedef enum dmar_irql {
	DMAR_PASSIVE_LEVEL = 0,  /**< PASSIVE_LEVEL: every callback may be called here */
	DMAR_APC_LEVEL = 1,      /**< APC_LEVEL: the highest level the callbacks allow */
	DMAR_DISPATCH_LEVEL = 2, /**< DISPATCH_LEVEL: too high for the callbacks */
	DMAR_DIRQL = 3,       /**< any device IRQL (3..26 on x64 count as this) */
	DMAR_HIGH_LEVEL = 15, /**< the highest value accepted */
} dmar_irql;

/** A WDDM interface version: DMAR_WDDM(3, 2) is WDDM 3.2. */
#define DMAR_WDDM(major, minor) (((uint32_t)(major) << 8) | (uint32_t)(minor))

/** The bugcheck code raised for a callback at DISPATCH_LEVEL or above (IRQL_NOT_LESS_OR_EQUAL). */
#define DMAR_BUGCHECK_IRQL 0x0000000Au

/** A fatal stop.  @p p1 = the caller's IRQL, @p p2 = the highest allowed, @p what = the
 *  callback.  The default prints and calls abort(); a handler that returns makes the call
 *  answer ::DMAR_E_IRQL. */
typedef void (*dmar_bugcheck_fn)(void *ctx, uint32_t code, uint64_t p1, uint64_t p2,
				 const char *what);

/* ---- ADLs (S19, S23) ---------------------------------------------------------------- */

/** ::dmar_adl flags. */
enum dmar_adl_flags {
	DMAR_ADL_CONTIGUOUS = 1u << 0, /**< base_page + page_count instead of an array */
	DMAR_ADL_LOGICAL = 1u << 1,    /**< entries are logical (remapped) page numbers */
};

/**
 * An Address Descriptor List: page numbers (address >> 12), physical or logical.  Because
 * entries may be logical, no function turns an ADL into a CPU pointer (S19).
 */
typedef struct dmar_adl {
	uint64_t page_count; /**< pages described */
	uint32_t flags;      /**< ::dmar_adl_flags */
	union {
		uint64_t base_page; /**< DMAR_ADL_CONTIGUOUS: the first page number */
		uint64_t *pages;    /**< otherwise: page_count page numbers */
	};
} dmar_adl;

/** Most pages one ADL describes (PageCount is 32 bits in DXGK_ADL). */
#define DMAR_ADL_MAX_PAGES (1ull << 32)
/** Most entries of an ADL in array form (2^24 entries: 128 MiB of array, 64 GiB described). */
#define DMAR_ADL_MAX_ARRAY (1ull << 24)

/** Page number @p i of an ADL, whichever form.  A contiguous ADL's entries are
 *  base_page + i, up to the last page of the 64-bit address space (2^52 - 1, the page of
 *  address 2^64 - 1): an entry beyond it, whose number would wrap past 2^64 or name a page
 *  no 64-bit address has, is out of range.  An array's entries are what the caller wrote.
 *  @param adl   the ADL
 *  @param i     entry index
 *  @param page  receives the page number (untouched unless ::DMAR_OK)
 *  @return ::DMAR_OK; ::DMAR_E_RANGE past the end, or for a contiguous entry beyond the last
 *          page; ::DMAR_E_INVALID for NULL (an array-form ADL without its array included).
 *  @threadsafety Thread-safe (reads only). */
DMAR_API dmar_status dmar_adl_page(const dmar_adl *adl, uint64_t i, uint64_t *page);

/* ---- adapters (S9-S17, S27) ------------------------------------------------------- */

/** Aperture segments an adapter may have (segment ids 1 .. this). */
#define DMAR_MAX_APERTURE_SEGMENTS 4
/** The implicit system-memory segment (S22). */
#define DMAR_SEGMENT_SYSTEM 0u
/** Physical adapters in one LDA chain (S15). */
#define DMAR_MAX_LINKED 8

/** Paging operations (DXGK_BUILDPAGINGBUFFER_OPERATION numbers). */
typedef enum dmar_paging_op {
	DMAR_OP_MAP_APERTURE_SEGMENT = 5,   /**< legacy, MDL based (S20) */
	DMAR_OP_UNMAP_APERTURE_SEGMENT = 6,
	DMAR_OP_MAP_APERTURE_SEGMENT2 = 17, /**< ADL based (S20) */
} dmar_paging_op;

/** The driver's DxgkDdiBuildPagingBuffer for aperture operations: called after the layer
 *  validated the operation, before it takes effect; a status other than ::DMAR_OK makes
 *  the operation fail and change nothing.  @p args points to the operation's structure:
 *  ::dmar_op_map_aperture_segment (::DMAR_OP_MAP_APERTURE_SEGMENT, from
 *  dmar_map_aperture_segment_mdl()), ::dmar_op_unmap_aperture_segment,
 *  ::dmar_op_map_aperture_segment2. */
typedef dmar_status (*dmar_paging_fn)(void *ctx, dmar_paging_op op, const void *args);

/** How to create an adapter. */
typedef struct dmar_adapter_config {
	dmar_start_params start; /**< the start inputs; highest_installed 0 = from the memory map */
	uint32_t wddm_version;   /**< DMAR_WDDM(major, minor); IRQL verified from 3.2 */
	unsigned nlinked;        /**< physical adapters in the chain, 1..::DMAR_MAX_LINKED */
	uint16_t rid;            /**< requester id of the first; the others follow */
	bool map_aperture2;      /**< cap MapAperture2Supported (S21) */
	uint32_t aperture_pages[DMAR_MAX_APERTURE_SEGMENTS]; /**< segment id i+1 has this many pages; 0: none */
	const dmar_pgtable_config *pt; /**< the domain's table, in any format (dmar_domain_create()); NULL: x86-64, 4-level */
	dmar_bugcheck_fn bugcheck;     /**< NULL: print and abort */
	void *bugcheck_ctx;            /**< passed to @c bugcheck */
	dmar_paging_fn paging;         /**< the driver's paging hook; NULL: none */
	void *paging_ctx;              /**< passed to @c paging */
} dmar_adapter_config;

/** Defaults: a discrete 40-bit GPU, opted in (DmaRemappingCompatible = 3), both remapping
 *  cap sets, IoMmuSupported, MapAperture2Supported, WDDM 3.2, one physical adapter, one
 *  64 MiB aperture segment, platform IOMMU present, no policy flags.
 *  @param cfg  filled in
 *  @threadsafety Thread-safe (writes only @p cfg). */
DMAR_API void dmar_adapter_config_default(dmar_adapter_config *cfg);

/**
 * Decide how the adapter starts (dmar_start_decide()) and create it: its devices (linked),
 * its domain, its logical address allocator.
 * @param iommu  the IOMMU in front of the adapter
 * @param cfg    how (start from dmar_adapter_config_default())
 * @param out    receives the adapter
 * @param why    receives the decision, also when the start fails (may be NULL); once the
 *               adapter is created, the one dmar_adapter_decision() answers
 * @return ::DMAR_OK; ::DMAR_E_NOT_SUPPORTED when the adapter does not start (why->reason);
 * ::DMAR_E_INVALID for bad configuration; ::DMAR_E_EXISTS when a requester id is taken;
 * ::DMAR_E_NOMEM.
 * @threadsafety Thread-safe (creation takes the IOMMU's configuration lock); not inside an
 * RCU read section.
 */
DMAR_API dmar_status dmar_adapter_create(dmar_iommu *iommu, const dmar_adapter_config *cfg,
					 dmar_adapter **out, dmar_start_decision *why);

/**
 * The adapter has started: the IOMMU is turned on (S10).  In 1:1 isolation, every memory
 * object allocated before is mapped first (or all RAM and the IO-space objects allocated
 * before, with EnableMappings).
 * @param ad  the adapter
 * @return ::DMAR_OK; ::DMAR_E_INVALID for NULL; ::DMAR_E_BUSY when already started;
 * ::DMAR_E_NOMEM.
 * @threadsafety Configuration call of the adapter: serialised on its lock, any thread, not
 * inside an RCU read section.
 */
DMAR_API dmar_status dmar_adapter_start(dmar_adapter *ad);

/** Try to disable the IOMMU: nothing changes (S12).
 *  @param ad  the adapter
 *  @return ::DMAR_E_NOT_SUPPORTED, always (::DMAR_E_INVALID for NULL).
 *  @threadsafety Thread-safe. */
DMAR_API dmar_status dmar_adapter_disable_iommu(dmar_adapter *ad);

/** Destroy the adapter and everything still created through it (mappings, objects,
 *  processes, devices, domain).
 *  @param ad  the adapter; NULL is ignored
 *  @threadsafety No translation may run on it and nothing may use it afterwards; not inside
 *  an RCU read section. */
DMAR_API void dmar_adapter_destroy(dmar_adapter *ad);

/** The start decision.  In remapped mode its @c logical_limit is the ceiling the adapter's
 *  logical addresses are below (S14): the smallest of the device's reach (2^dma_bits), what
 *  the domain's table takes (dmar_domain_input_range(): 2^48 for a 4-level x86-64 table,
 *  2^39 for a 3-level VT-d one, 2^30 for a 2-level AMD-Vi one) and what one allocator holds
 *  (::DMAR_IOVA_MAX_PAGES pages, 2^48 bytes); so for a device of 48 bits or more on a
 *  4-level table it is 2^48, where dmar_start_decide() answers 2^dma_bits.
 *  @param ad  the adapter
 *  @return the decision taken at creation, owned by the adapter.
 *  @threadsafety Thread-safe. */
DMAR_API const dmar_start_decision *dmar_adapter_decision(const dmar_adapter *ad);
/** Physical adapter @p i of the chain.
 *  @param ad  the adapter
 *  @param i   index, 0 = the lead
 *  @return the engine device, owned by the adapter; NULL past the end.
 *  @threadsafety Thread-safe. */
DMAR_API dmar_device *dmar_adapter_device(dmar_adapter *ad, unsigned i);
/** The adapter's domain (one for the whole chain, S15).
 *  @param ad  the adapter
 *  @return the domain, owned by the adapter.
 *  @threadsafety Thread-safe. */
DMAR_API dmar_domain *dmar_adapter_domain(dmar_adapter *ad);
/** The logical address allocator.
 *  @param ad  the adapter
 *  @return the allocator in remapped mode, owned by the adapter; NULL otherwise.
 *  @threadsafety Thread-safe. */
DMAR_API dmar_iovad *dmar_adapter_iovad(dmar_adapter *ad);

/** Counters of the layer. */
typedef struct dmar_adapter_stats {
	/** Live objects: memory objects, GPU mappings, CPU mappings, ADLs, allocations and
	 *  aperture mappings. */
	/**@{*/
	uint64_t pmos, gpu_mappings, cpu_mappings, adls, allocations, aperture_mappings;
	/**@}*/
	uint64_t processes;        /**< live processes */
	uint64_t irql_bugchecks;   /**< calls above APC_LEVEL, 3.2 and later */
	uint64_t irql_unverified;  /**< the same before 3.2 (allowed, counted once per call) */
	uint64_t deprecated_calls; /**< legacy callbacks refused (S25) */
	uint64_t aperture_faults;  /**< device accesses to unmapped aperture pages (past the
				        segment's end included) */
	uint64_t pages_mapped_at_start; /**< S10 */
} dmar_adapter_stats;

/** Read the counters.
 *  @param ad  the adapter
 *  @param st  filled in
 *  @threadsafety Thread-safe (a snapshot). */
DMAR_API void dmar_adapter_get_stats(dmar_adapter *ad, dmar_adapter_stats *st);

/* ---- processes and PASIDs (S1-S3) --------------------------------------------------- */

/**
 * A process starts using the GPU.  With IoMmuSupported it is registered with the IOMMU: it
 * gets a PASID, bound in the adapter's domain to its CPU page table at @p root (format
 * @p fmt), so the GPU shares its virtual address space (S1-S3).  Without it, no PASID.
 * @param ad    the adapter
 * @param root  physical address of the process's CPU page table
 * @param fmt   its format
 * @param out   receives the process
 * @return ::DMAR_OK; ::DMAR_E_INVALID; ::DMAR_E_NOSPACE when no PASID is left; ::DMAR_E_NOMEM.
 * @threadsafety Configuration call of the adapter: serialised on its lock, any thread, not
 * inside an RCU read section.
 */
DMAR_API dmar_status dmar_process_create(dmar_adapter *ad, dmar_pa_t root, const dmar_pt_format *fmt,
					 dmar_process **out);
/** The process stops using the GPU: its PASID is unbound (cached entries invalidated) and
 *  freed.
 *  @param ad  the adapter
 *  @param p   the process
 *  @return ::DMAR_OK; ::DMAR_E_BUSY while it has GPU contexts; ::DMAR_E_INVALID for one that
 *          is not a live process of @p ad.
 *  @threadsafety Configuration call of the adapter: serialised on its lock, any thread, not
 *  inside an RCU read section. */
DMAR_API dmar_status dmar_process_destroy(dmar_adapter *ad, dmar_process *p);
/** The process's PASID.
 *  @param p  the process
 *  @return the PASID, or ::DMAR_NO_PASID without IoMmuSupported (and for NULL).
 *  @threadsafety Thread-safe. */
DMAR_API uint32_t dmar_process_pasid(const dmar_process *p);

/** Create a GPU context (WDDM "device") for a process: it receives the process's PASID (S3).
 *  @param ad   the adapter
 *  @param p    the process
 *  @param out  receives the context
 *  @return ::DMAR_OK; ::DMAR_E_INVALID for a process that is not a live process of @p ad;
 *          ::DMAR_E_NOMEM.
 *  @threadsafety Configuration call of the adapter: serialised on its lock, any thread, not
 *  inside an RCU read section. */
DMAR_API dmar_status dmar_gpu_context_create(dmar_adapter *ad, dmar_process *p,
					     dmar_gpu_context **out);
/** The PASID handed to the context at creation.
 *  @param c  the context
 *  @return the PASID, or ::DMAR_NO_PASID without IoMmuSupported (and for NULL).
 *  @threadsafety Thread-safe. */
DMAR_API uint32_t dmar_gpu_context_pasid(const dmar_gpu_context *c);
/** Destroy a context.
 *  @param ad  the adapter
 *  @param c   the context
 *  @return ::DMAR_OK; ::DMAR_E_INVALID for one that is not a live context of @p ad.
 *  @threadsafety Configuration call of the adapter: serialised on its lock, any thread, not
 *  inside an RCU read section. */
DMAR_API dmar_status dmar_gpu_context_destroy(dmar_adapter *ad, dmar_gpu_context *c);

/* ---- physical memory objects (S24, S25) ------------------------------------------- */

/** What a memory object is made of. */
typedef enum dmar_pmo_kind {
	DMAR_PMO_NONPAGED = 0, /**< non-paged pages, scattered */
	DMAR_PMO_CONTIGUOUS,   /**< physically contiguous pages */
	DMAR_PMO_SECTION,      /**< paged (section / virtual allocation): pages exist while locked */
	DMAR_PMO_IO_SPACE,     /**< an IO-space (MMIO) range, not RAM */
	DMAR_PMO_KIND_COUNT
} dmar_pmo_kind;

/** The largest memory object (64 GiB: its page list is 128 MiB). */
#define DMAR_PMO_MAX_SIZE (64ull << 30)

/** How to create a memory object. */
typedef struct dmar_pmo_params {
	dmar_pmo_kind kind;     /**< what it is made of */
	uint64_t size;          /**< bytes, a 4 KiB multiple, 1 page .. ::DMAR_PMO_MAX_SIZE */
	dmar_placement place;   /**< where its frames go (not IO space) */
	dmar_pa_t limit;        /**< for ::DMAR_PLACE_BELOW / ::DMAR_PLACE_ABOVE */
	unsigned align_lg2;     /**< contiguous: alignment, 12..30 (0 = 12) */
	dmar_pa_t io_base;      /**< IO space: the range's start, page aligned; the range
				     [io_base, io_base + size) is not RAM and lies below
				     2^pa_bits of the memory (so never runs past 2^64) */
} dmar_pmo_params;

/** CPU mapping mode (S24). */
typedef enum dmar_cpu_mode { DMAR_CPU_KERNEL = 0, DMAR_CPU_USER } dmar_cpu_mode;
/** Cache type of a CPU mapping (S24); recorded, the host has no write-combining to give. */
typedef enum dmar_cache_type { DMAR_CACHE_CACHED = 0, DMAR_CACHE_WRITE_COMBINED } dmar_cache_type;

/** The most references dmar_pmo_open() holds open on one object at a time. */
#define DMAR_PMO_MAX_OPENS 65535u

/** CreatePhysicalMemoryObject.  The callbacks come in two pairs, as the DMA remapping
 *  documents list them (separate callbacks, separate argument structures):
 *  CreatePhysicalMemoryObject / DestroyPhysicalMemoryObject make and free an object, and
 *  OpenPhysicalMemoryObject / ClosePhysicalMemoryObject take and drop shared references to
 *  a live one.  Create opens no reference: dmar_pmo_close() right after it answers
 *  ::DMAR_E_INVALID, and dmar_pmo_destroy() succeeds once every Open has had its Close and
 *  nothing maps the object.
 *  @param ad    the adapter
 *  @param irql  the caller's IRQL (S26)
 *  @param p     what to create
 *  @param out   receives the object (no reference open)
 *  @return ::DMAR_OK; ::DMAR_E_NOMEM when the frames are not there; ::DMAR_E_INVALID for bad
 *          parameters (IO space not page aligned, or not below 2^pa_bits, a range that runs
 *          past 2^64 included); ::DMAR_E_RANGE for IO space that overlaps RAM; ::DMAR_E_IRQL above APC_LEVEL (WDDM 3.2 and later, after the bugcheck handler returned).
 *  @threadsafety Configuration call of the adapter: serialised on its lock, any thread, not
 *  inside an RCU read section. */
DMAR_API dmar_status dmar_pmo_create(dmar_adapter *ad, dmar_irql irql, const dmar_pmo_params *p,
				     dmar_pmo **out);
/** OpenPhysicalMemoryObject: one more shared reference (each needs its dmar_pmo_close()).
 *  @param ad    the adapter
 *  @param irql  the caller's IRQL (S26)
 *  @param pmo   the object
 *  @return ::DMAR_OK; ::DMAR_E_INVALID for an object that is not a live object of @p ad;
 *          ::DMAR_E_BUSY when ::DMAR_PMO_MAX_OPENS references are open; ::DMAR_E_IRQL above APC_LEVEL (WDDM 3.2 and later, after the bugcheck handler returned).
 *  @threadsafety Configuration call of the adapter: serialised on its lock, any thread, not
 *  inside an RCU read section. */
DMAR_API dmar_status dmar_pmo_open(dmar_adapter *ad, dmar_irql irql, dmar_pmo *pmo);
/** ClosePhysicalMemoryObject: drops a reference dmar_pmo_open() took.
 *  @param ad    the adapter
 *  @param irql  the caller's IRQL (S26)
 *  @param pmo   the object
 *  @return ::DMAR_OK; ::DMAR_E_INVALID when none is open (dmar_pmo_create() opens none) or
 *          the object is not a live object of @p ad;
 *          ::DMAR_E_IRQL above APC_LEVEL (WDDM 3.2 and later, after the bugcheck handler returned).
 *  @threadsafety Configuration call of the adapter: serialised on its lock, any thread, not
 *  inside an RCU read section. */
DMAR_API dmar_status dmar_pmo_close(dmar_adapter *ad, dmar_irql irql, dmar_pmo *pmo);
/** DestroyPhysicalMemoryObject: frees the object and its frames.
 *  @param ad    the adapter
 *  @param irql  the caller's IRQL (S26)
 *  @param pmo   the object
 *  @return ::DMAR_OK; ::DMAR_E_BUSY while mapped (GPU or CPU) or while a reference from
 *          dmar_pmo_open() is not closed, and always for an allocation's object
 *          (dmar_allocation_pmo(): dmar_allocation_destroy() frees it); ::DMAR_E_INVALID for an object that is not a live
 *          object of @p ad; ::DMAR_E_IRQL above APC_LEVEL (WDDM 3.2 and later, after the bugcheck handler returned).
 *  @threadsafety Configuration call of the adapter: serialised on its lock, any thread, not
 *  inside an RCU read section. */
DMAR_API dmar_status dmar_pmo_destroy(dmar_adapter *ad, dmar_irql irql, dmar_pmo *pmo);

/**
 * MapPhysicalMemory to GPU logical addresses: pages [@p first, @p first + @p npages) of the
 * object.  The pages are locked until the matching unmap.  @p prot is what the domain's
 * table format can express (dmar_domain_map()): an x86-64 table needs READ (its entries
 * cannot express a page that is not readable), a VT-d second-stage or AMD-Vi table READ or
 * WRITE (write-only mappings are legal there); a pass-through adapter, READ or WRITE.
 * @param ad      the adapter
 * @param irql  the caller's IRQL (S26)
 * @param pmo     the object
 * @param first   first page of the object
 * @param npages  pages, > 0
 * @param prot    permissions (::dmar_prot): READ, WRITE, EXEC, USER, as above
 * @param adl     receives the logical page list, owned by the mapping (S24 (2), S23)
 * @return ::DMAR_OK; ::DMAR_E_BUSY before dmar_adapter_start(), during exclusive access, or
 * in 1:1 isolation when a page already has 65,535 mappings (see the top of this file);
 * ::DMAR_E_NOSPACE when the logical range is exhausted; ::DMAR_E_INVALID for pages outside
 * the object, @p npages 0, @p prot bits other than READ, WRITE, EXEC and USER or a @p prot
 * the domain's format cannot express, an object that is not a live object of @p ad, NULL;
 * ::DMAR_E_NOMEM (a section object's frames not there among the causes);
 * ::DMAR_E_IRQL above APC_LEVEL (WDDM 3.2 and later, after the bugcheck handler returned).
 * @threadsafety Configuration call of the adapter: serialised on its lock, any thread, not
 * inside an RCU read section.
 */
DMAR_API dmar_status dmar_pmo_map_gpu(dmar_adapter *ad, dmar_irql irql, dmar_pmo *pmo, uint64_t first,
				      uint64_t npages, unsigned prot, const dmar_adl **adl);
/** UnmapPhysicalMemory: unmaps, invalidates the IOTLB, frees the logical range and the ADL.
 *  @param ad    the adapter
 *  @param irql  the caller's IRQL (S26)
 *  @param adl   the ADL dmar_pmo_map_gpu() returned
 *  @return ::DMAR_OK; ::DMAR_E_NOT_FOUND for an ADL that is not a live GPU mapping of this
 *          adapter; ::DMAR_E_BUSY during exclusive access, and always for an allocation's
 *          ADL (dmar_allocation_adl(): dmar_allocation_destroy() frees it); ::DMAR_E_INVALID for NULL;
 *          ::DMAR_E_IRQL above APC_LEVEL (WDDM 3.2 and later, after the bugcheck handler returned).
 *  @threadsafety Configuration call of the adapter: serialised on its lock, any thread, not
 *  inside an RCU read section. */
DMAR_API dmar_status dmar_pmo_unmap_gpu(dmar_adapter *ad, dmar_irql irql, const dmar_adl *adl);

/** MapPhysicalMemory to a CPU virtual address (S24 (3)): a host pointer aliasing pages
 *  [@p first, @p first + @p npages).
 *  @param ad      the adapter
 *  @param irql  the caller's IRQL (S26)
 *  @param pmo     the object
 *  @param first   first page of the object
 *  @param npages  pages, > 0
 *  @param mode    user or kernel
 *  @param cache   cached or write-combined (recorded)
 *  @param va      receives the host address
 *  @return ::DMAR_OK; ::DMAR_E_NOT_SUPPORTED for IO space or pages in an embedder's private
 *          buffer; ::DMAR_E_INVALID; ::DMAR_E_NOMEM; ::DMAR_E_IRQL above APC_LEVEL (WDDM 3.2 and later, after the bugcheck handler returned).
 *  @threadsafety Configuration call of the adapter: serialised on its lock, any thread, not
 *  inside an RCU read section. */
DMAR_API dmar_status dmar_pmo_map_cpu(dmar_adapter *ad, dmar_irql irql, dmar_pmo *pmo, uint64_t first,
				      uint64_t npages, dmar_cpu_mode mode, dmar_cache_type cache,
				      void **va);
/** UnmapPhysicalMemory for a CPU address.
 *  @param ad    the adapter
 *  @param irql  the caller's IRQL (S26)
 *  @param pmo   the object
 *  @param va    the address dmar_pmo_map_cpu() returned
 *  @return ::DMAR_OK; ::DMAR_E_NOT_FOUND when @p va is not a live CPU mapping of @p pmo;
 *          ::DMAR_E_INVALID; ::DMAR_E_IRQL above APC_LEVEL (WDDM 3.2 and later, after the bugcheck handler returned).
 *  @threadsafety Configuration call of the adapter: serialised on its lock, any thread, not
 *  inside an RCU read section. */
DMAR_API dmar_status dmar_pmo_unmap_cpu(dmar_adapter *ad, dmar_irql irql, dmar_pmo *pmo, void *va);

/** Page out a section object that nothing maps (its contents move to a backing store and
 *  its frames are freed; the next lock brings them back, maybe in other frames).  In 1:1
 *  isolation the entries the start gave its frames (S10) go with them: the device reaches
 *  the frames the object comes back in through the GPU mappings that bring them back.
 *  @param ad    the adapter
 *  @param irql  the caller's IRQL (S26)
 *  @param pmo   the object
 *  @return ::DMAR_OK; ::DMAR_E_BUSY while locked; ::DMAR_E_NOT_SUPPORTED for other kinds;
 *          ::DMAR_E_INVALID; ::DMAR_E_NOMEM; ::DMAR_E_IRQL above APC_LEVEL (WDDM 3.2 and later, after the bugcheck handler returned).
 *  @threadsafety Configuration call of the adapter: serialised on its lock, any thread, not
 *  inside an RCU read section. */
DMAR_API dmar_status dmar_pmo_trim(dmar_adapter *ad, dmar_irql irql, dmar_pmo *pmo);

/** Physical address of page @p i of an object.
 *  @param pmo  the object
 *  @param i    page index
 *  @param pa   receives the physical address
 *  @return ::DMAR_OK; ::DMAR_E_BUSY for a trimmed section object; ::DMAR_E_RANGE past the
 *          end; ::DMAR_E_INVALID for NULL.
 *  @threadsafety Configuration call of the adapter: serialised on its lock, any thread, not
 *  inside an RCU read section. */
DMAR_API dmar_status dmar_pmo_page(dmar_pmo *pmo, uint64_t i, dmar_pa_t *pa);

/** AllocateAdl: an ADL of @p page_count entries (array zeroed for the caller to fill, or
 *  contiguous).
 *  @param ad          the adapter
 *  @param irql  the caller's IRQL (S26)
 *  @param page_count  entries: 1 .. ::DMAR_ADL_MAX_PAGES contiguous, 1 .. ::DMAR_ADL_MAX_ARRAY as an array
 *  @param flags       ::dmar_adl_flags
 *  @param out         receives the ADL, owned by the adapter until dmar_adl_free()
 *  @return ::DMAR_OK; ::DMAR_E_INVALID; ::DMAR_E_NOMEM; ::DMAR_E_IRQL above APC_LEVEL (WDDM 3.2 and later, after the bugcheck handler returned).
 *  @threadsafety Configuration call of the adapter: serialised on its lock, any thread, not
 *  inside an RCU read section. */
DMAR_API dmar_status dmar_adl_allocate(dmar_adapter *ad, dmar_irql irql, uint64_t page_count,
				       uint32_t flags, dmar_adl **out);
/** FreeAdl.
 *  @param ad    the adapter
 *  @param irql  the caller's IRQL (S26)
 *  @param adl   the ADL
 *  @return ::DMAR_OK; ::DMAR_E_BUSY for an ADL that belongs to a GPU mapping (unmap frees
 *          it) or to an allocation (dmar_allocation_destroy() frees it); ::DMAR_E_NOT_FOUND for one this adapter did not allocate; ::DMAR_E_INVALID;
 *          ::DMAR_E_IRQL above APC_LEVEL (WDDM 3.2 and later, after the bugcheck handler returned).
 *  @threadsafety Configuration call of the adapter: serialised on its lock, any thread, not
 *  inside an RCU read section. */
DMAR_API dmar_status dmar_adl_free(dmar_adapter *ad, dmar_irql irql, dmar_adl *adl);

/* Legacy callbacks (S25): deprecated for a remapping driver. */

/** DxgkCbAllocatePagesForMdl: a non-paged object of @p size bytes.
 *  @param ad    the adapter
 *  @param irql  the caller's IRQL (S26)
 *  @param size  bytes, a 4 KiB multiple
 *  @param out   receives the object
 *  @return as dmar_pmo_create(); ::DMAR_E_DEPRECATED on a remapped adapter (S25).
 *  @threadsafety Configuration call of the adapter: serialised on its lock, any thread, not
 *  inside an RCU read section. */
DMAR_API dmar_status dmar_legacy_allocate_pages_for_mdl(dmar_adapter *ad, dmar_irql irql, uint64_t size,
							dmar_pmo **out);
/** DxgkCbAllocateContiguousMemory: a contiguous object below @p highest.
 *  @param ad       the adapter
 *  @param irql  the caller's IRQL (S26)
 *  @param size     bytes, a 4 KiB multiple
 *  @param highest  highest acceptable address (0: anywhere)
 *  @param out      receives the object
 *  @return as dmar_pmo_create(); ::DMAR_E_DEPRECATED on a remapped adapter (S25).
 *  @threadsafety Configuration call of the adapter: serialised on its lock, any thread, not
 *  inside an RCU read section. */
DMAR_API dmar_status dmar_legacy_allocate_contiguous_memory(dmar_adapter *ad, dmar_irql irql,
							    uint64_t size, dmar_pa_t highest,
							    dmar_pmo **out);
/** DxgkCbMapMdlToIoMmu: map the whole object for the device (the pages become reachable,
 *  S8).
 *  @param ad       the adapter
 *  @param irql  the caller's IRQL (S26)
 *  @param pmo      the object
 *  @param logical  receives the device address of its first page
 *  @return as dmar_pmo_map_gpu(); ::DMAR_E_DEPRECATED on a remapped adapter (S25).
 *  @threadsafety Configuration call of the adapter: serialised on its lock, any thread, not
 *  inside an RCU read section. */
DMAR_API dmar_status dmar_legacy_map_mdl_to_iommu(dmar_adapter *ad, dmar_irql irql, dmar_pmo *pmo,
						  dmar_iova_t *logical);

/** DxgkCbUnmapMdlFromIoMmu: undo dmar_legacy_map_mdl_to_iommu().
 *  @param ad    the adapter
 *  @param irql  the caller's IRQL (S26)
 *  @param pmo   the object
 *  @return ::DMAR_OK; ::DMAR_E_NOT_FOUND when the object has no such mapping;
 *          ::DMAR_E_BUSY during exclusive access (S18, as dmar_pmo_unmap_gpu());
 *          ::DMAR_E_INVALID; ::DMAR_E_DEPRECATED on a remapped adapter (S25); ::DMAR_E_IRQL above APC_LEVEL (WDDM 3.2 and later, after the bugcheck handler returned).
 *  @threadsafety Configuration call of the adapter: serialised on its lock, any thread, not
 *  inside an RCU read section. */
DMAR_API dmar_status dmar_legacy_unmap_mdl_from_iommu(dmar_adapter *ad, dmar_irql irql, dmar_pmo *pmo);

/* ---- allocations and aperture segments (S4, S20-S23) ------------------------------ */

/** Allocation flags. */
enum dmar_allocation_flags {
	DMAR_ALLOC_ACCESSED_PHYSICALLY = 1u << 0,      /**< AccessedPhysically (S22) */
	DMAR_ALLOC_MAP_APERTURE_CPU_VISIBLE = 1u << 1, /**< MapApertureCpuVisible (S21) */
	DMAR_ALLOC_PRIMARY = 1u << 2,                  /**< a primary (display) surface (S4) */
};

/** How to create an allocation. */
typedef struct dmar_allocation_params {
	uint64_t npages;      /**< > 0 */
	uint32_t segment_set; /**< bit i: segment id i may hold it (bit 0: system memory) */
	uint32_t flags;       /**< ::dmar_allocation_flags */
	dmar_placement place; /**< where its frames go */
	dmar_pa_t limit;      /**< for ::DMAR_PLACE_BELOW / ::DMAR_PLACE_ABOVE */
} dmar_allocation_params;

/**
 * DxgkDdiCreateAllocation as VidMm sees it: frames for the allocation, GPU-mapped (its
 * logical ADL: dmar_allocation_adl()).  An aperture segment set without AccessedPhysically
 * is promoted to system memory (S22).
 * @param ad    the adapter
 * @param irql  the caller's IRQL (S26)
 * @param p     what to create
 * @param out   receives the allocation
 * @return ::DMAR_OK; ::DMAR_E_NOT_SUPPORTED for MapApertureCpuVisible without
 * MapAperture2Supported (S21); ::DMAR_E_BUSY before start; ::DMAR_E_INVALID; ::DMAR_E_NOMEM;
 * ::DMAR_E_IRQL above APC_LEVEL (WDDM 3.2 and later, after the bugcheck handler returned).
 * @threadsafety Configuration call of the adapter: serialised on its lock, any thread, not
 * inside an RCU read section.
 */
DMAR_API dmar_status dmar_allocation_create(dmar_adapter *ad, dmar_irql irql,
					    const dmar_allocation_params *p, dmar_allocation **out);
/** Destroy an allocation, its object and its ADL.
 *  @param ad    the adapter
 *  @param irql  the caller's IRQL (S26)
 *  @param al    the allocation
 *  @return ::DMAR_OK; ::DMAR_E_BUSY while mapped into an aperture segment, and while its
 *          object (dmar_allocation_pmo()) has CPU mappings, GPU mappings other than the
 *          allocation's own or references from dmar_pmo_open(); ::DMAR_E_INVALID;
 *          ::DMAR_E_IRQL above APC_LEVEL (WDDM 3.2 and later, after the bugcheck handler returned).
 *  @threadsafety Configuration call of the adapter: serialised on its lock, any thread, not
 *  inside an RCU read section. */
DMAR_API dmar_status dmar_allocation_destroy(dmar_adapter *ad, dmar_irql irql, dmar_allocation *al);
/** The segment an allocation lives in.
 *  @param al  the allocation
 *  @return an aperture segment id, or ::DMAR_SEGMENT_SYSTEM (S22; also for NULL).
 *  @threadsafety Thread-safe (fixed at creation). */
DMAR_API uint32_t dmar_allocation_segment(const dmar_allocation *al);
/** An allocation's logical pages, as VidMm passes them: initialised and contiguous in
 *  remapped mode (S23).
 *  @param al  the allocation
 *  @return its ADL, owned by the allocation: dmar_pmo_unmap_gpu() and dmar_adl_free() refuse
 *          it (::DMAR_E_BUSY); it lives until dmar_allocation_destroy().
 *  @threadsafety Thread-safe (fixed at creation). */
DMAR_API const dmar_adl *dmar_allocation_adl(const dmar_allocation *al);
/** An allocation's memory object (for CPU mappings and checks).
 *  @param al  the allocation
 *  @return the object, owned by the allocation: dmar_pmo_destroy() refuses it
 *          (::DMAR_E_BUSY); it lives until dmar_allocation_destroy().
 *  @threadsafety Thread-safe (fixed at creation). */
DMAR_API dmar_pmo *dmar_allocation_pmo(dmar_allocation *al);

/** DXGK_OPERATION_MAP_APERTURE_SEGMENT (= 5), the legacy MDL-based operation, as the paging
 *  hook sees it (dmar_map_aperture_segment_mdl()). */
typedef struct dmar_op_map_aperture_segment {
	dmar_gpu_context *h_device;      /**< hDevice: NULL (the layer's call has none) */
	dmar_allocation *h_allocation;   /**< hAllocation */
	uint32_t segment_id;             /**< SegmentId: an aperture segment */
	uint64_t offset_in_pages;        /**< OffsetInPages into the segment */
	uint64_t number_of_pages;        /**< NumberOfPages */
	const dmar_pa_t *mdl_pages;      /**< the MDL's pages: NumberOfPages physical addresses */
} dmar_op_map_aperture_segment;

/** DXGK_OPERATION_MAP_APERTURE_SEGMENT2 (= 17): exactly the documented fields (S20). */
typedef struct dmar_op_map_aperture_segment2 {
	dmar_gpu_context *h_device;      /**< hDevice (may be NULL: a system allocation) */
	dmar_allocation *h_allocation;   /**< hAllocation */
	uint32_t segment_id;             /**< SegmentId: an aperture segment */
	uint64_t offset_in_pages;        /**< OffsetInPages into the segment */
	uint64_t number_of_pages;        /**< NumberOfPages */
	dmar_adl adl;                    /**< Adl (by value, as in DXGK) */
	uint32_t flags;                  /**< Flags: ::dmar_map_aperture_flags */
	uint64_t adl_offset;             /**< AdlOffset: first ADL entry used */
	void *cpu_visible_address;       /**< CpuVisibleAddress: filled by the OS (S21) */
} dmar_op_map_aperture_segment2;

/** DXGK_MAPAPERTUREFLAGS. */
enum dmar_map_aperture_flags {
	DMAR_MAPAP_CACHE_COHERENT = 1u << 0, /**< CacheCoherent (recorded) */
	DMAR_MAPAP_READ_ONLY = 1u << 1, /**< the device may only read through these pages */
};

/** DXGK_OPERATION_UNMAP_APERTURE_SEGMENT. */
typedef struct dmar_op_unmap_aperture_segment {
	dmar_gpu_context *h_device;      /**< hDevice (may be NULL: a system allocation) */
	dmar_allocation *h_allocation;   /**< hAllocation */
	uint32_t segment_id;             /**< SegmentId */
	uint64_t offset_in_pages;        /**< OffsetInPages: as mapped */
	uint64_t number_of_pages;        /**< NumberOfPages: as mapped */
} dmar_op_unmap_aperture_segment;

/**
 * VidMm issues MAP_APERTURE_SEGMENT2: the fields are validated (segment id, OffsetInPages +
 * NumberOfPages inside the segment, AdlOffset + NumberOfPages inside the ADL, no page of the
 * range already mapped, known flags, an allocation that lives in that segment), then
 * cpu_visible_address is set (a kernel address of the mapped pages for MapApertureCpuVisible
 * allocations, else NULL, S21), the driver's paging hook runs, and the segment's pages point
 * at the ADL's pages.
 * @param ad    the adapter
 * @param irql  the caller's IRQL (S26)
 * @param op    the operation; @c cpu_visible_address is written
 * @return ::DMAR_OK; ::DMAR_E_INVALID / ::DMAR_E_RANGE for bad fields; ::DMAR_E_EXISTS for an
 * overlap or an allocation already mapped; ::DMAR_E_NOT_SUPPORTED without MapAperture2Supported;
 * the paging hook's status when it refuses; ::DMAR_E_IRQL above APC_LEVEL (WDDM 3.2 and later, after the bugcheck handler returned).
 * @threadsafety Configuration call of the adapter: serialised on its lock, any thread, not
 * inside an RCU read section.
 */
DMAR_API dmar_status dmar_map_aperture_segment2(dmar_adapter *ad, dmar_irql irql,
						dmar_op_map_aperture_segment2 *op);
/** UNMAP_APERTURE_SEGMENT: the exact range the allocation was mapped with.  Releases the
 *  CPU-visible address (S21).
 *  @param ad    the adapter
 *  @param irql  the caller's IRQL (S26)
 *  @param op    the operation
 *  @return ::DMAR_OK; ::DMAR_E_NOT_FOUND when it does not match a mapping; ::DMAR_E_INVALID;
 *          the paging hook's status when it refuses; ::DMAR_E_IRQL above APC_LEVEL (WDDM 3.2 and later, after the bugcheck handler returned).
 *  @threadsafety Configuration call of the adapter: serialised on its lock, any thread, not
 *  inside an RCU read section. */
DMAR_API dmar_status dmar_unmap_aperture_segment(dmar_adapter *ad, dmar_irql irql,
						 const dmar_op_unmap_aperture_segment *op);
/** The legacy MDL-based MAP_APERTURE_SEGMENT (physical pages): validated, then the driver's
 *  paging hook runs (::DMAR_OP_MAP_APERTURE_SEGMENT, ::dmar_op_map_aperture_segment), then
 *  the segment's pages point at the MDL's.
 *  @param ad               the adapter
 *  @param irql             the caller's IRQL (S26)
 *  @param al               the allocation
 *  @param segment_id       an aperture segment
 *  @param offset_in_pages  first segment page
 *  @param npages           pages
 *  @param mdl_pages        @p npages physical addresses (byte addresses, page aligned, as
 *                          dmar_pmo_page() answers them): those of the allocation's pages
 *                          0 .. @p npages - 1, in order
 *  @return ::DMAR_OK; ::DMAR_E_NOT_SUPPORTED for a driver with MapAperture2Supported (S20)
 *          and in remapped mode; ::DMAR_E_INVALID for bad fields (an address that is not
 *          the allocation's page's included); ::DMAR_E_RANGE for pages outside the segment;
 *          ::DMAR_E_EXISTS for an overlap or an allocation already mapped; the paging hook's
 *          status when it refuses; ::DMAR_E_IRQL above APC_LEVEL (WDDM 3.2 and later, after the bugcheck handler returned).
 *  @threadsafety Configuration call of the adapter: serialised on its lock, any thread, not
 *  inside an RCU read section. */
DMAR_API dmar_status dmar_map_aperture_segment_mdl(dmar_adapter *ad, dmar_irql irql,
						   dmar_allocation *al, uint32_t segment_id,
						   uint64_t offset_in_pages, uint64_t npages,
						   const dmar_pa_t *mdl_pages);

/**
 * A device access through an aperture segment (display scanout, S4): segment page ->
 * logical page -> the adapter's IOMMU -> physical.  An unmapped aperture page, or an offset
 * past the segment's end, faults (::DMAR_FAULT_APERTURE, counted and queued).
 * @param ad          the adapter
 * @param segment_id  an aperture segment
 * @param offset      byte offset in the segment
 * @param access      ::dmar_access flags
 * @param res         the outcome, as dmar_device_translate()
 * @return ::DMAR_OK, ::DMAR_E_FAULT, ::DMAR_E_INVALID, ::DMAR_E_THREAD.
 * @threadsafety Lock-free; registered thread; concurrently with configuration calls.
 */
DMAR_API dmar_status dmar_aperture_translate(dmar_adapter *ad, uint32_t segment_id, uint64_t offset,
					     unsigned access, dmar_result *res);

#ifdef __cplusplus
}
#endif
#endif
