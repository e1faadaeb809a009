/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the WDDM layer (remap/) needs of the engine's IOMMU objects beyond the public API. */
#ifndef ENGINE_IOMMU_INTERNAL_H
#define ENGINE_IOMMU_INTERNAL_H

#include <dmar/iommu.h>

/* The memory the IOMMU translates into. */
dmar_physmem *dmar__iommu_physmem(dmar_iommu *m);

/* Pin (or unpin) the attachment of a device's logical adapter: while pinned,
 * dmar_device_attach() and dmar_device_detach() answer DMAR_E_BUSY (S12: an enabled IOMMU
 * cannot be disabled); exclusive-access domain switches (S18) still work. */
void dmar__device_pin(dmar_device *dev, int pinned);

/* Whether the device's logical adapter is inside an exclusive-access window (S18). */
int dmar__device_exclusive(dmar_device *dev);

#endif
