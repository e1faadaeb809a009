/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ringdev: a DMA-capable PCI copy engine of the kind an emulator models, whose DMA goes
 * through a dmar IOMMU.
 *
 * Programming model (what the guest driver sees):
 *  - a ring of 2^order descriptors in guest memory, at a device address (IOVA) the driver
 *    writes to RINGDEV_REG_RING_BASE; the ring is page aligned;
 *  - each descriptor says "copy len bytes from device address src to device address dst";
 *  - the driver fills descriptors, then writes the free-running index of the next empty slot
 *    to RINGDEV_REG_TAIL (the doorbell);
 *  - the device executes descriptors in order and writes each one's status back into the
 *    descriptor (a DMA write), then advances RINGDEV_REG_HEAD;
 *  - a descriptor whose addresses fault completes with an error status and copies nothing;
 *  - a descriptor the device cannot even fetch (its ring slot faults) halts the device with
 *    RINGDEV_REG_ERROR set, as hardware would.
 *
 * All device addresses pass through the IOMMU (dmar_device_translate_batch()), or are
 * physical addresses when the device is created without one.
 */
#ifndef RINGDEV_H
#define RINGDEV_H

#include <stdint.h>

#include <dmar.h>

/** One descriptor in guest memory: 32 bytes, little-endian, never crossing a page. */
struct ringdev_desc {
	uint64_t src;    /* device address read from */
	uint64_t dst;    /* device address written to */
	uint32_t len;    /* 1 .. RINGDEV_MAX_LEN bytes */
	uint32_t flags;  /* RINGDEV_F_*: none defined yet; must be 0 */
	uint32_t status; /* RINGDEV_ST_*: the driver writes PENDING, the device the outcome */
	uint32_t cookie; /* the driver's; the device never touches it */
};

#define RINGDEV_DESC_SIZE 32u
#define RINGDEV_MAX_LEN (256u * 1024u)
#define RINGDEV_MAX_ORDER 12u

enum ringdev_status {
	RINGDEV_ST_PENDING = 0,
	RINGDEV_ST_OK,
	RINGDEV_ST_SRC_FAULT, /* the IOMMU refused a read of src (or the address is beyond reach) */
	RINGDEV_ST_DST_FAULT, /* the IOMMU refused a write to dst */
	RINGDEV_ST_BAD_DESC,  /* len 0 or above RINGDEV_MAX_LEN, or unknown flags */
	RINGDEV_ST_BUS_ERROR, /* translated, but to no RAM (a hole, MMIO): QEMU's decode error */
	RINGDEV_ST_COUNT
};

/** MMIO registers (64-bit).  TAIL is written by the driver, HEAD and ERROR by the device. */
enum ringdev_reg {
	RINGDEV_REG_RING_BASE = 0, /* device address of the ring, page aligned */
	RINGDEV_REG_RING_ORDER,    /* log2 of the number of slots, 0 .. RINGDEV_MAX_ORDER */
	RINGDEV_REG_TAIL,          /* doorbell: index of the next slot the driver will fill */
	RINGDEV_REG_HEAD,          /* index of the next slot the device will execute */
	RINGDEV_REG_ERROR,         /* nonzero: halted; the device address of the slot it failed */
	RINGDEV_REG_COUNT
};

/** What the device counted (its own view; the IOMMU keeps its own counters too). */
struct ringdev_stats {
	uint64_t completed[RINGDEV_ST_COUNT]; /* descriptors by status */
	uint64_t bytes;                       /* bytes copied by OK descriptors */
	uint64_t requests;                    /* translation requests sent to the IOMMU */
	uint64_t batches;                     /* dmar_device_translate_batch() calls */
	uint64_t retries;                     /* descriptor fetches refused by an exclusive window */
	uint64_t retries_data;                /* data batches refused by an exclusive window */
	uint64_t faults_drained;              /* fault records taken from the IOMMU's queue */
	uint64_t fault_reasons[DMAR_FAULT_COUNT]; /* of those, by reason */
	uint64_t fault_queue_dropped;         /* the queue was full (should stay 0) */
};

struct ringdev;

/**
 * Create a device whose DMA targets @p pm (guest RAM) through @p iommu_dev, or straight to
 * physical addresses when @p iommu_dev is NULL.  @p fq is the IOMMU's fault queue, which the
 * device thread drains after every batch that faulted (NULL: nobody drains it here).
 * Returns 0, or -1 when out of memory.
 */
int ringdev_create(dmar_physmem *pm, dmar_device *iommu_dev, dmar_faultq *fq,
		   struct ringdev **out);
void ringdev_destroy(struct ringdev *d);

/** Start the device's thread (it registers itself with dmar); 0 or an errno value. */
int ringdev_start(struct ringdev *d);
/** Stop it (after the work in flight) and join it. */
void ringdev_stop(struct ringdev *d);

/** MMIO accesses, from any thread.  A write to TAIL is the doorbell. */
void ringdev_mmio_write(struct ringdev *d, enum ringdev_reg reg, uint64_t val);
uint64_t ringdev_mmio_read(struct ringdev *d, enum ringdev_reg reg);

/** A snapshot of the counters (exact once the device is stopped). */
void ringdev_get_stats(struct ringdev *d, struct ringdev_stats *st);

/** Print up to @p max of the first fault records the device drained that were not
 *  exclusive-window faults (for the report). */
void ringdev_print_faults(struct ringdev *d, unsigned max);

#endif
