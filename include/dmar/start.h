/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file dmar/start.h
 * @brief The adapter start decision of the WDDM layer (S9, S11, S14, S16, S17, S27).
 *
 * Given the driver's caps, the device's opt-in and reach, the installed memory, the
 * `IOMMUFlags` policy word and the secure-VM switch, decide how the adapter starts:
 * pass-through, 1:1 isolation, remapped, or not at all, and why.
 *
 * Where the documents leave a choice, this is what a driver writer would expect, and what
 * the function does:
 *  - A device that can be remapped (opted in with DmaRemappingCompatible = 3, both remapping
 *    cap sets reported before start, references no existing memory, platform IOMMU present)
 *    is started remapped even when it reaches all memory: one mode for every installed-memory
 *    size is easier to validate than two (S27 leaves the choice to the OS).
 *  - Without remapping, a device that cannot reach the highest installed address does not
 *    start (S14); for a discrete GPU the reason names the missing remapping support (S16).
 *  - The IOMMUFlags bits depend on each other as S9 says: EnableMappings counts only with
 *    Enabled, EnableAttach only with EnableMappings, and all of them only if the driver
 *    reports IoMmuSupported or BypassDriverCap is set.  Enabled + EnableMappings +
 *    EnableAttach gives 1:1 isolation with all physical memory mapped (the driver does not
 *    have to cooperate); less than EnableAttach leaves the device in pass-through.
 *  - A secure VM activates the IOMMU: remapped where the device can be remapped, else 1:1
 *    isolation mapping what is allocated (and all of physical memory as well where the
 *    policy's EnableMappings counts, S9); if the driver does not report IoMmuSupported the
 *    start fails, and AllowFailure cannot change that (S11).  A device that cannot reach all
 *    memory and cannot be remapped does not start, secure VM or not (S14).
 *  - AllowFailure turns a failed *policy-forced* enablement (no platform IOMMU) into a start
 *    in pass-through, reported as such; it never rescues a device that cannot reach memory.
 */
#ifndef DMAR_START_H
#define DMAR_START_H

#include <stdbool.h>

#include <dmar/export.h>
#include <dmar/status.h>
#include <dmar/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The `IOMMUFlags` policy word (S9). */
enum dmar_iommu_flags {
	DMAR_IOMMUF_ENABLED = 0x01,           /**< create the domain, talk to the platform */
	DMAR_IOMMUF_ENABLE_MAPPINGS = 0x02,   /**< map all physical memory (needs ENABLED) */
	DMAR_IOMMUF_ENABLE_ATTACH = 0x04,     /**< attach the domain (needs ENABLE_MAPPINGS) */
	DMAR_IOMMUF_BYPASS_DRIVER_CAP = 0x08, /**< enable even without IoMmuSupported */
	DMAR_IOMMUF_ALLOW_FAILURE = 0x10,     /**< start anyway if forced enablement fails */
};

/** The registry/INF value that opts a device in to DMA remapping (S27). */
#define DMAR_DMA_REMAPPING_COMPATIBLE 3u

/** Everything the decision looks at. */
typedef struct dmar_start_params {
	bool iommu_supported;        /**< driver cap IoMmuSupported (S3) */
	bool remap_caps_physical;    /**< first cap set for linear remapping (S17) */
	bool remap_caps_vidmm;       /**< second cap set for linear remapping (S17) */
	bool caps_before_start;      /**< both known before the device is started (S17) */
	uint32_t dma_remapping_compatible; /**< DmaRemappingCompatible value; 3 opts in (S27) */
	bool integrated;             /**< integrated GPU (true) or discrete (false) (S16) */
	unsigned dma_bits;           /**< the device's DMA address width, 32..64 */
	bool references_memory;      /**< the device already references physical memory (S17) */
	dmar_pa_t highest_installed; /**< highest installed physical address (last byte) */
	bool platform_iommu;         /**< the platform has an IOMMU in front of the device */
	uint32_t iommu_flags;        /**< ::dmar_iommu_flags */
	bool secure_vm;              /**< a secure VM is being created (S11) */
} dmar_start_params;

/** How the adapter runs. */
typedef enum dmar_start_mode {
	DMAR_START_FAILED = 0,   /**< the adapter does not start */
	DMAR_START_PASSTHROUGH,  /**< no translation, no isolation */
	DMAR_START_ISOLATION,    /**< 1:1: a logical page is the same physical page (S8) */
	DMAR_START_REMAPPED,     /**< logical addresses in [0, logical_limit) to any page (S13) */
} dmar_start_mode;

/** Why. */
typedef enum dmar_start_reason {
	DMAR_WHY_DEFAULT = 0,            /**< nothing asked for more than pass-through */
	DMAR_WHY_REMAPPING,              /**< the device can be remapped, so it is */
	DMAR_WHY_POLICY_ISOLATION,       /**< IOMMUFlags Enabled + EnableMappings + EnableAttach */
	DMAR_WHY_POLICY_NOT_ATTACHED,    /**< policy enabled the IOMMU but not the attach */
	DMAR_WHY_SECURE_VM,              /**< a secure VM activated the IOMMU */
	DMAR_WHY_CANNOT_REACH_MEMORY,    /**< failed: RAM above the device's reach, no remapping */
	DMAR_WHY_DISCRETE_NO_REMAPPING,  /**< failed: the same for a discrete GPU (S16) */
	DMAR_WHY_SECURE_VM_NO_DRIVER,    /**< failed: secure VM, driver lacks IoMmuSupported */
	DMAR_WHY_NO_PLATFORM_IOMMU,      /**< failed: IOMMU required, platform has none */
	DMAR_WHY_FAILURE_ALLOWED,        /**< forced enablement failed, AllowFailure: pass-through */
	DMAR_WHY_COUNT
} dmar_start_reason;

/** The outcome. */
typedef struct dmar_start_decision {
	dmar_start_mode mode;      /**< how the adapter runs (::DMAR_START_FAILED: not at all) */
	dmar_start_reason reason;  /**< why */
	bool domain;           /**< an IOMMU domain is created (S9 Enabled, effective) */
	bool map_all_memory;   /**< the domain maps all physical memory (S9 EnableMappings) */
	bool attached;         /**< the domain is attached to the device */
	bool remap_possible;   /**< every condition for remapping held */
	/** Remapped: logical addresses are below this (S14), the device's reach 2^dma_bits;
	 *  for a 64-bit device, whose reach 2^64 has no 64-bit number, UINT64_MAX.  0 in the
	 *  other modes.  An adapter lowers it to what its domain's table and its allocator
	 *  take (dmar_adapter_decision()). */
	dmar_iova_t logical_limit;
} dmar_start_decision;

/**
 * Decide how the adapter starts.
 * @param p    everything the decision looks at
 * @param out  the outcome, filled in whenever the return is not ::DMAR_E_INVALID
 * @return ::DMAR_OK when the adapter starts (@p out says how); ::DMAR_E_NOT_SUPPORTED when
 *         it does not (@c out->reason says why); ::DMAR_E_INVALID for NULL arguments, a
 *         dma_bits outside 32..64 or unknown flag bits.
 * @threadsafety Pure function: thread-safe, any thread, no registration needed.
 */
DMAR_API dmar_status dmar_start_decide(const dmar_start_params *p, dmar_start_decision *out);

/** Readable name of a reason.
 *  @param r  the reason
 *  @return a static string; "unknown" for values outside ::dmar_start_reason, never NULL.
 *  @threadsafety Thread-safe. */
DMAR_API const char *dmar_start_reason_str(dmar_start_reason r);

#ifdef __cplusplus
}
#endif
#endif
