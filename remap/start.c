/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The adapter start decision; the choices are spelled out in include/dmar/start.h. */
#include <string.h>

#include <dmar/start.h>

#define KNOWN_FLAGS 0x1fu

static const char *const reason_names[DMAR_WHY_COUNT] = {
	[DMAR_WHY_DEFAULT] = "pass-through: nothing asked for the IOMMU",
	[DMAR_WHY_REMAPPING] = "remapped: device opted in, driver caps and platform support it",
	[DMAR_WHY_POLICY_ISOLATION] = "1:1 isolation forced by IOMMUFlags",
	[DMAR_WHY_POLICY_NOT_ATTACHED] = "pass-through: IOMMUFlags enabled the IOMMU but not the attach",
	[DMAR_WHY_SECURE_VM] = "1:1 isolation: a secure VM activated the IOMMU",
	[DMAR_WHY_CANNOT_REACH_MEMORY] = "not started: memory above the device's reach and no remapping",
	[DMAR_WHY_DISCRETE_NO_REMAPPING] = "not started: a discrete GPU must support DMA remapping",
	[DMAR_WHY_SECURE_VM_NO_DRIVER] = "not started: secure VM needs a driver with IoMmuSupported",
	[DMAR_WHY_NO_PLATFORM_IOMMU] = "not started: the IOMMU is required but the platform has none",
	[DMAR_WHY_FAILURE_ALLOWED] = "pass-through: forced IOMMU enablement failed, AllowFailure set",
};

const char *dmar_start_reason_str(dmar_start_reason r)
{
	return (unsigned)r < DMAR_WHY_COUNT && reason_names[r] ? reason_names[r] : "unknown";
}

static dmar_status fail(dmar_start_decision *out, dmar_start_reason why)
{
	out->mode = DMAR_START_FAILED;
	out->reason = why;
	out->domain = out->map_all_memory = out->attached = false;
	return DMAR_E_NOT_SUPPORTED;
}

dmar_status dmar_start_decide(const dmar_start_params *p, dmar_start_decision *out)
{
	bool reach_all, enabled, mappings, attach;

	if (!p || !out || p->dma_bits < 32 || p->dma_bits > 64 || (p->iommu_flags & ~KNOWN_FLAGS))
		return DMAR_E_INVALID;
	memset(out, 0, sizeof(*out));
	/* S14: compare the device's highest reachable address with the installed memory */
	reach_all = p->dma_bits == 64 || p->highest_installed < (1ull << p->dma_bits);
	/* S17, S27: every condition for linear remapping */
	out->remap_possible = p->dma_remapping_compatible == DMAR_DMA_REMAPPING_COMPATIBLE &&
			      p->remap_caps_physical && p->remap_caps_vidmm && p->caps_before_start &&
			      !p->references_memory && p->platform_iommu;

	/* S11: a secure VM needs the IOMMU, whatever AllowFailure says */
	if (p->secure_vm && !p->iommu_supported)
		return fail(out, DMAR_WHY_SECURE_VM_NO_DRIVER);
	if (p->secure_vm && !p->platform_iommu)
		return fail(out, DMAR_WHY_NO_PLATFORM_IOMMU);

	if (out->remap_possible) {
		out->mode = DMAR_START_REMAPPED;
		out->reason = DMAR_WHY_REMAPPING;
		out->domain = out->attached = true;
		out->logical_limit = p->dma_bits == 64 ? ~0ull : 1ull << p->dma_bits;
		return DMAR_OK;
	}
	/* S14, S16: without remapping the device must reach all installed memory */
	if (!reach_all)
		return fail(out, p->integrated ? DMAR_WHY_CANNOT_REACH_MEMORY
					       : DMAR_WHY_DISCRETE_NO_REMAPPING);

	/* S9: each enable bit counts only with the one before it, and only with driver
	 * support or BypassDriverCap */
	enabled = (p->iommu_flags & DMAR_IOMMUF_ENABLED) &&
		  (p->iommu_supported || (p->iommu_flags & DMAR_IOMMUF_BYPASS_DRIVER_CAP));
	mappings = enabled && (p->iommu_flags & DMAR_IOMMUF_ENABLE_MAPPINGS);
	attach = mappings && (p->iommu_flags & DMAR_IOMMUF_ENABLE_ATTACH);

	if (p->secure_vm) { /* S11: activated; maps what is allocated, attaches */
		out->mode = DMAR_START_ISOLATION;
		out->reason = DMAR_WHY_SECURE_VM;
		out->domain = out->attached = true;
		out->map_all_memory = mappings;
		return DMAR_OK;
	}
	if (enabled && !p->platform_iommu) { /* forced enablement fails */
		if (!(p->iommu_flags & DMAR_IOMMUF_ALLOW_FAILURE))
			return fail(out, DMAR_WHY_NO_PLATFORM_IOMMU);
		out->mode = DMAR_START_PASSTHROUGH;
		out->reason = DMAR_WHY_FAILURE_ALLOWED;
		return DMAR_OK;
	}
	out->domain = enabled;
	out->map_all_memory = mappings;
	out->attached = attach;
	if (attach) {
		out->mode = DMAR_START_ISOLATION;
		out->reason = DMAR_WHY_POLICY_ISOLATION;
	} else {
		out->mode = DMAR_START_PASSTHROUGH;
		out->reason = enabled ? DMAR_WHY_POLICY_NOT_ATTACHED : DMAR_WHY_DEFAULT;
	}
	return DMAR_OK;
}
