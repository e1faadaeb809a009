/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A program outside the tree: built only from the installed headers and library, found with
 * pkg-config (tests/install-consumer.sh).  Translates one page through a device. */
#include <stdio.h>
#include <string.h>

#include <dmar.h>

int main(void)
{
	const dmar_ram_range ram = { .base = 1ull << 32, .size = 64ull << 20 };
	dmar_physmem_config pc = { .ranges = &ram, .nranges = 1 };
	dmar_iommu_config ic;
	dmar_physmem *pm;
	dmar_iommu *mmu;
	dmar_domain *dom;
	dmar_device *dev;
	dmar_request q = { .iova = 0x5008, .access = DMAR_ACCESS_READ, .pasid = DMAR_NO_PASID };
	dmar_result r;
	int ok;

	if (strcmp(dmar_version(), DMAR_VERSION_STRING) != 0) {
		printf("header version %s, library %s\n", DMAR_VERSION_STRING, dmar_version());
		return 1;
	}
	dmar_thread_register();
	dmar_iommu_config_default(&ic);
	if (dmar_physmem_create(&pc, &pm) || dmar_iommu_create(pm, &ic, &mmu) ||
	    dmar_domain_create(mmu, DMAR_DOMAIN_REMAPPED, NULL, &dom) ||
	    dmar_device_create(mmu, 0x100, 40, &dev) || dmar_device_attach(dev, dom) ||
	    dmar_domain_map(dom, 0x5000, 0x123456000ull, 4096, DMAR_PROT_READ))
		return 1;
	ok = dmar_device_translate(dev, &q, &r) == DMAR_OK && r.pa == 0x123456008ull;
	printf("dmar %s: 0x5008 -> %#llx (%s)\n", dmar_version(), (unsigned long long)r.pa,
	       ok ? "ok" : "WRONG");
	dmar_iommu_destroy(mmu);
	dmar_physmem_destroy(pm);
	dmar_thread_unregister();
	return ok ? 0 : 1;
}
