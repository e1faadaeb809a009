/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ring_driver: the guest driver side of ringdev (ring_dev.h), shared by ring_demo (which
 * checks every byte) and bench/bench_devmodel.c (which times the same traffic).
 *
 * Set-up, as an emulator with a dmar IOMMU would have it:
 *  - guest RAM is the emulator's own buffer, given to dmar as a DMAR_RAM_BUFFER range at
 *    4 GiB (so a 32-bit device cannot reach any of it without remapping, S14);
 *  - RING_REMAPPED: the driver allocates buffers page by page from scattered frames and maps
 *    them at logically contiguous addresses below 4 GiB in a remapped domain (S13), for a
 *    32-bit device; with second_domain, a second domain with the same mappings, for the
 *    caller to switch the device to under exclusive access (S18);
 *  - RING_PASSTHROUGH: a pass-through domain, buffers physically contiguous, device addresses
 *    are physical addresses (a 64-bit device); translate calls still happen;
 *  - RING_NO_IOMMU: no IOMMU at all, the device uses physical addresses without asking
 *    anyone (the baseline the IOMMU's cost is measured against).
 *
 * The driver fills the ring with copies of random lengths from a source pool to per-slot
 * destination areas, every bad_every-th of them bad on purpose (an unmapped source, a
 * read-only or unreachable destination, a zero length), rings the doorbell, and checks every
 * completion: the status, and with verify every byte of the destination, guard bytes on both
 * sides, and that failed descriptors wrote nothing.  It counts the faults the bad
 * descriptors must cause (want_faults) for the caller to compare with the IOMMU's.
 *
 * The thread that calls ring_driver_setup() and ring_driver_pump() must be registered with
 * dmar (the driver maps, and reports quiescent states).
 */
#ifndef RING_DRIVER_H
#define RING_DRIVER_H

#include <stdint.h>

#include "ring_dev.h"

#define RING_PAGE 4096ull
#define RING_GUARD 64u /* bytes checked on each side of a destination */

enum ring_mode { RING_REMAPPED, RING_PASSTHROUGH, RING_NO_IOMMU };

struct ring_opts {
	enum ring_mode mode;
	uint32_t min_len, max_len; /* copy lengths, drawn uniformly from [min_len, max_len] */
	unsigned ring_order;       /* log2 of the ring's slots */
	unsigned bad_every;        /* every Nth descriptor is bad on purpose (0: none is) */
	int second_domain;         /* remapped: map every buffer in a second domain too */
	int verify;                /* check the bytes, not only the statuses */
	uint64_t seed;             /* nonzero */
};

/* A DMA buffer as the guest sees it: contiguous at its device address, a host pointer per
 * page. */
struct ring_buf {
	uint64_t addr; /* device address: logical (remapped) or physical */
	uint64_t npages;
	uint8_t **page;
};

/* What the driver expects of a slot's descriptor. */
struct ring_expect {
	uint32_t status;
	uint32_t len;
	uint64_t src_off; /* in the source pool */
	uint64_t dst_off; /* in the slot's destination area */
	int kind;         /* -1, or the kind of bad descriptor */
};

struct ring_driver {
	struct ring_opts o;
	uint8_t *ram; /* guest RAM */
	uint64_t ram_size;
	dmar_physmem *pm;
	dmar_iommu *iommu;   /* NULL with RING_NO_IOMMU */
	dmar_domain *dom[2]; /* the device is attached to dom[0] */
	unsigned ndom;
	dmar_device *dev;
	struct ringdev *rd;  /* created, not started */
	uint64_t next_iova;
	uint64_t seed;

	struct ring_buf ring, src, dst, ro;
	uint64_t unmapped; /* a logical page nothing maps */
	uint64_t dst_stride;
	uint8_t ro_pattern[RING_PAGE];
	struct ring_expect *exp;

	/* results */
	uint64_t submitted, reaped, ok_bytes;
	uint64_t by_status[RINGDEV_ST_COUNT];
	uint64_t want_faults[DMAR_FAULT_COUNT];
	uint64_t wrong_status, wrong_bytes, wrong_guard;
};

/* ring_demo's defaults: remapped, copies of 1..16384 bytes, a ring of 256, every 37th
 * descriptor bad, one domain, bytes verified. */
void ring_opts_default(struct ring_opts *o);

/* Guest RAM, the IOMMU and its domains, the device and its buffers, as v->o says (the rest
 * of @v zero).  0, or -1 after a message on stderr; ring_driver_teardown() either way. */
int ring_driver_setup(struct ring_driver *v);

/* One round of the driver: reap the descriptors that completed, in order, up to index
 * @reap_to; fill the free slots up to index @submit_to and ring the doorbell; report a
 * quiescent state.  Returns how many it reaped, or -1 when that is none and the device has
 * halted (RINGDEV_REG_ERROR). */
int ring_driver_pump(struct ring_driver *v, uint64_t reap_to, uint64_t submit_to);

/* Everything ring_driver_setup() made (the device stopped first, if it runs). */
void ring_driver_teardown(struct ring_driver *v);

#endif
