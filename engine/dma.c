/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* DMA: a device's buffer translated and copied inside one read section. */
#include "rcu.h"

#include <string.h>

#include "engine.h"
#include "range.h"

#define DMA_PAGES 64

dmar_status dmar_device_dma(dmar_device *dev, dmar_iova_t iova, uint32_t pasid, dmar_dma_dir dir,
			    void *buf, size_t len, size_t *done, dmar_result *fault)
{
	const unsigned access = dir == DMAR_DMA_WRITE ? DMAR_ACCESS_WRITE : DMAR_ACCESS_READ;
	dmar_request req[DMA_PAGES];
	dmar_result res[DMA_PAGES];
	uint8_t *b = buf;
	size_t moved = 0;
	dmar_status st = DMAR_OK;

	uint64_t last = iova;

	if (done)
		*done = 0;
	/* (a buffer may end exactly at 2^64, not run past it) */
	if (!dev || (!buf && len) || (unsigned)dir > DMAR_DMA_WRITE ||
	    (len && !dmar__range_last(iova, len, &last)))
		return DMAR_E_INVALID;
	if (!dmar__thread_ok())
		return DMAR_E_THREAD;
	dmar__rcu_read_lock(); /* the translations and the copies: one section (nests inside) */
	while (moved < len && st == DMAR_OK) {
		const uint64_t at = iova + moved, first = at & ~(DMAR_PAGE_SIZE - 1);
		const uint64_t left = (last >> DMAR_PAGE_4K_LG2) - (first >> DMAR_PAGE_4K_LG2) + 1;
		const size_t n = left < DMA_PAGES ? (size_t)left : DMA_PAGES;
		size_t nf;

		for (size_t k = 0; k < n; k++) {
			req[k].iova = k ? first + k * DMAR_PAGE_SIZE : at;
			req[k].access = access;
			req[k].pasid = pasid;
		}
		st = dmar_device_translate_batch(dev, req, res, n, &nf);
		for (size_t i = 0; i < n && st == DMAR_OK; i++) {
			const uint64_t at = iova + moved;
			const size_t chunk = (size_t)(DMAR_PAGE_SIZE - (at & (DMAR_PAGE_SIZE - 1))) <
						     len - moved
						     ? (size_t)(DMAR_PAGE_SIZE - (at & (DMAR_PAGE_SIZE - 1)))
						     : len - moved;
			uint8_t *host;

			if (res[i].fault != DMAR_FAULT_NONE) {
				if (fault)
					*fault = res[i];
				st = DMAR_E_FAULT;
				break;
			}
			host = dmar_physmem_host_ptr(dev->iommu->pm, res[i].pa, chunk);
			if (!host) {
				if (fault)
					*fault = res[i];
				st = DMAR_E_RANGE;
				break;
			}
			if (dir == DMAR_DMA_WRITE) {
				st = dmar_physmem_write(dev->iommu->pm, res[i].pa, b + moved, chunk);
				if (st != DMAR_OK) { /* read-only RAM: the page that refused */
					if (fault)
						*fault = res[i];
					break;
				}
			} else {
				memcpy(b + moved, host, chunk);
			}
			moved += chunk;
		}
	}
	dmar__rcu_read_unlock();
	if (done)
		*done = moved;
	return st;
}
