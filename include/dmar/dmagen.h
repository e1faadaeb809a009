/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file dmar/dmagen.h
 * @brief Synthetic GPU DMA traffic (S32): engines that issue requests the way real GPU
 *        engines do, deliberate bad accesses, data moved and checked, traces.
 *
 * A ::dmar_gen knows *regions* (memory a device may reach: a device address range, the path
 * it is reached by, the physical pages behind each 4 KiB and, for data mode, a CPU mapping of
 * the same memory) and *engines* (a traffic pattern over one or two regions).  For each engine
 * dmar_gen_next() produces the next batch of requests, each with what it must do: land on a
 * given physical address, or fault for a given reason (an injected bad access).
 * dmar_gen_execute() translates a batch through the engine, checks every result against that
 * expectation and, in data mode, really moves the bytes through the translated addresses.
 * dmar_gen_verify() finally reads every region back through its CPU mapping.
 *
 * Engines (each deterministic from the generator's seed and its index):
 *  - ::DMAR_GEN_COPY: long sequential transfers, a read of the source and a write of the
 *    destination at the same offset per pair (the destination ends up a copy of the source);
 *  - ::DMAR_GEN_3D: reads of a 2D-tiled texture (64x64-pixel tiles of 4 bytes, tiles in
 *    Z order, rows inside a tile) and sequential render-target writes;
 *  - ::DMAR_GEN_COMPUTE: random gathers over a working set, uniform or Zipf, and sequential
 *    writes of results;
 *  - ::DMAR_GEN_DISPLAY: scanout: sequential reads of the whole primary surface, over and
 *    over (through the aperture, S4);
 *  - ::DMAR_GEN_COMMAND: ring-buffer reads of a command ring, wrapping around.
 *
 * Content: a read-only region holds dmar_gen_pattern(region.pattern, offset), written by the
 * caller before the run (dmar_gen_fill()).  Writers write the pattern of their destination
 * region, a copy engine the bytes it read, so a region's expected content is always its
 * pattern where it was written and zero elsewhere.
 *
 * Threads: one engine is driven by one thread at a time; different engines may run on
 * different threads at once (they share only the regions they read).  Execution needs a
 * registered thread (dmar_thread_register()).
 */
#ifndef DMAR_DMAGEN_H
#define DMAR_DMAGEN_H

#include <stdbool.h>
#include <stdio.h>

#include <dmar/export.h>
#include <dmar/iommu.h>
#include <dmar/remap.h>
#include <dmar/status.h>
#include <dmar/types.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dmar_gen dmar_gen;

/** How a region is reached. */
typedef enum dmar_gen_path {
	DMAR_GEN_LOGICAL = 0, /**< logical (remapped or 1:1) addresses of a device */
	DMAR_GEN_PASID,       /**< process virtual addresses with a PASID (SVA, S2) */
	DMAR_GEN_APERTURE,    /**< offsets in an aperture segment of an adapter (S4) */
	DMAR_GEN_PATH_COUNT
} dmar_gen_path;

/** Memory a device may reach. */
typedef struct dmar_gen_region {
	const char *name;         /**< for reports (copied) */
	dmar_gen_path path;
	dmar_device *dev;         /**< LOGICAL, PASID: the device that issues */
	dmar_adapter *ad;         /**< APERTURE: the adapter */
	uint32_t pasid;           /**< PASID: the process's PASID */
	uint32_t segment;         /**< APERTURE: the segment id */
	uint64_t base;            /**< first device address (page aligned) */
	uint64_t size;            /**< bytes, a 4 KiB multiple */
	bool writable;            /**< mapped writable for the device */
	const dmar_pa_t *pages;   /**< the physical page of each 4 KiB (copied) */
	uint8_t *cpu;             /**< a CPU mapping of the same memory, or NULL (no data checks) */
	uint64_t pattern;         /**< its content's seed (a copy destination: the source's) */
	uint64_t guard;           /**< a device address on the same path that maps nothing */
	unsigned dma_bits;        /**< the issuing device's reach (LOGICAL/PASID), for S14 faults */
} dmar_gen_region;

/** Engine kinds. */
typedef enum dmar_gen_kind {
	DMAR_GEN_COPY = 0,
	DMAR_GEN_3D,
	DMAR_GEN_COMPUTE,
	DMAR_GEN_DISPLAY,
	DMAR_GEN_COMMAND,
	DMAR_GEN_KIND_COUNT
} dmar_gen_kind;

/** An engine. */
typedef struct dmar_gen_engine {
	dmar_gen_kind kind;
	unsigned src;       /**< region read (every kind) */
	unsigned dst;       /**< region written (COPY, 3D, COMPUTE) */
	unsigned burst;     /**< bytes per request, 16..4096, a power of two (0: 64) */
	unsigned width;     /**< 3D: texture width in pixels, a multiple of 64 (0: 1024) */
	double zipf_s;      /**< COMPUTE: Zipf exponent over the working set's pages; 0 uniform */
	uint32_t bad_ppm;   /**< injected bad accesses per million requests */
} dmar_gen_engine;

/** How the generator runs. */
typedef struct dmar_gen_config {
	uint64_t seed;
	dmar_physmem *pm;   /**< the memory the translated addresses point into */
	bool data;          /**< move and check bytes (data mode) */
} dmar_gen_config;

/** Kinds of deliberate bad access. */
typedef enum dmar_gen_bad {
	DMAR_GEN_GOOD = 0,
	DMAR_GEN_BAD_UNMAPPED,  /**< an address that maps nothing (S7) */
	DMAR_GEN_BAD_LIMIT,     /**< beyond the device's DMA width (S14) */
	DMAR_GEN_BAD_READONLY,  /**< a write to a read-only region */
	DMAR_GEN_BAD_EXCLUSIVE, /**< issued inside an exclusive-access window (S18) */
	DMAR_GEN_BAD_COUNT
} dmar_gen_bad;

/** One request and what it must do.  32 bytes. */
typedef struct dmar_gen_req {
	uint64_t addr;     /**< device address (aperture: offset in the segment) */
	uint64_t offset;   /**< good requests: offset in the region */
	uint32_t pasid;    /**< ::DMAR_NO_PASID unless the PASID path */
	uint16_t len;      /**< bytes, inside one page */
	uint8_t access;    /**< ::dmar_access */
	uint8_t bad;       /**< ::dmar_gen_bad */
	uint16_t region;   /**< the region (bad requests too: where they were aimed) */
	uint8_t engine;    /**< index of the engine */
	uint8_t flags;     /**< ::dmar_gen_req_flags */
	uint8_t expect;    /**< ::dmar_fault it must end with (::DMAR_FAULT_NONE: translated) */
	uint8_t pad[3];
} dmar_gen_req;

/** Request flags. */
enum dmar_gen_req_flags {
	DMAR_GEN_COPY_SRC = 1u << 0, /**< a copy engine's read: the next write stores its bytes */
};

/** What happened, per engine or summed.  Counts add up:
 *  requests = ok + faults_expected total + faults_unexpected total + not_refused. */
typedef struct dmar_gen_counts {
	uint64_t requests;
	uint64_t ok;                                  /**< translated where expected */
	uint64_t wrong;                               /**< translated, to another address (stale) */
	uint64_t injected[DMAR_GEN_BAD_COUNT];        /**< bad requests issued, by kind */
	uint64_t faults_expected[DMAR_FAULT_COUNT];   /**< refused as expected, by reason */
	uint64_t faults_unexpected[DMAR_FAULT_COUNT]; /**< refused though good, or for another reason */
	uint64_t not_refused;                         /**< bad requests that translated (S7 broken) */
	uint64_t bytes_read, bytes_written;           /**< data mode: moved through translations */
	uint64_t bytes_verified;                      /**< compared against the expected content */
	uint64_t corrupt;                             /**< bytes that differed */
	uint64_t digest;                              /**< hash of every result in order */
} dmar_gen_counts;

/** Defaults: seed 1, data mode on. */
DMAR_API void dmar_gen_config_default(dmar_gen_config *cfg);

/** Create a generator.  ::DMAR_E_INVALID for a NULL pm, ::DMAR_E_NOMEM.  Thread-safe. */
DMAR_API dmar_status dmar_gen_create(const dmar_gen_config *cfg, dmar_gen **out);
/** Destroy.  NULL is ignored. */
DMAR_API void dmar_gen_destroy(dmar_gen *g);

/** Add a region; @p id receives its index.  ::DMAR_E_INVALID for a bad region (size, path
 *  without its device/adapter, NULL pages).  Before the run, from one thread. */
DMAR_API dmar_status dmar_gen_add_region(dmar_gen *g, const dmar_gen_region *r, unsigned *id);
/** Add an engine; @p id receives its index (at most 255 engines).  ::DMAR_E_INVALID when its
 *  regions do not exist, a destination is read-only or the parameters are out of range.
 *  Before the run, from one thread. */
DMAR_API dmar_status dmar_gen_add_engine(dmar_gen *g, const dmar_gen_engine *e, unsigned *id);

/** Write a read-only region's pattern through its CPU mapping (::DMAR_E_INVALID without
 *  one).  Before the run. */
DMAR_API dmar_status dmar_gen_fill(dmar_gen *g, unsigned region);

/** The pattern seed of a region (0 for an unknown one). */
DMAR_API uint64_t dmar_gen_region_pattern(const dmar_gen *g, unsigned region);

/** Byte @p offset of pattern @p seed. */
DMAR_API uint8_t dmar_gen_pattern(uint64_t seed, uint64_t offset);

/** The next up to @p max requests of engine @p e (a copy engine gives read/write pairs: an
 *  even count).  Returns how many.  The engine's thread only. */
DMAR_API size_t dmar_gen_next(dmar_gen *g, unsigned e, dmar_gen_req *req, size_t max);

/** The requests dmar_gen_next() would give, without moving the engine on: what a rogue
 *  engine would issue now (the engine's stream carries on as if they were not). */
DMAR_API size_t dmar_gen_peek(dmar_gen *g, unsigned e, dmar_gen_req *req, size_t max);

/** Turn the requests into ones issued inside an exclusive window: each expects
 *  ::DMAR_FAULT_EXCLUSIVE (S18). */
DMAR_API void dmar_gen_mark_exclusive(dmar_gen_req *req, size_t n);

/**
 * Translate @p n requests of engine @p e (all of one engine), check each against its
 * expectation, move bytes in data mode, and add to @p c (the engine's own counters; not
 * shared with other threads).  ::DMAR_E_INVALID for a bad engine or request,
 * ::DMAR_E_THREAD for an unregistered thread.
 */
DMAR_API dmar_status dmar_gen_execute(dmar_gen *g, unsigned e, const dmar_gen_req *req, size_t n,
				      dmar_gen_counts *c);

/** Read every region with a CPU mapping back and compare it with its expected content;
 *  adds to c->bytes_verified and c->corrupt.  After the run, from one thread. */
DMAR_API void dmar_gen_verify(dmar_gen *g, dmar_gen_counts *c);

/** Add @p b into @p a (the digest is combined order-independently across engines). */
DMAR_API void dmar_gen_counts_add(dmar_gen_counts *a, const dmar_gen_counts *b);

/** Readable names.  Never NULL. */
DMAR_API const char *dmar_gen_kind_str(dmar_gen_kind k);
DMAR_API const char *dmar_gen_bad_str(dmar_gen_bad b);

/* ---- traces ---------------------------------------------------------------------------- */

/**
 * The trace file format (little-endian):
 *  - header, 64 bytes: magic "DMARTRC1", u32 version (1), u32 header size (64),
 *    u64 seed, u32 scenario bytes S, u32 flags (bit 0: data mode), 32 bytes reserved (0);
 *    then S bytes of scenario text (what the recorder needs to rebuild the system);
 *  - records, each: u8 type, u8 engine, u16 count, u32 reserved, then for type 1 (requests)
 *    `count` ::dmar_gen_req of 32 bytes each; type 2: an exclusive-access window begins
 *    (count 0); type 3: it ends (count 0); type 4: end of trace (count 0).
 */
typedef struct dmar_trace dmar_trace;

/** Trace record types. */
enum dmar_trace_type {
	DMAR_TRACE_REQUESTS = 1,
	DMAR_TRACE_EXCLUSIVE_BEGIN = 2,
	DMAR_TRACE_EXCLUSIVE_END = 3,
	DMAR_TRACE_END = 4,
};

/** Open @p path for writing, with the seed and scenario text a replay needs. */
DMAR_API dmar_status dmar_trace_create(const char *path, uint64_t seed, bool data,
				       const char *scenario, dmar_trace **out);
/** Open @p path for reading: ::DMAR_E_INVALID for a file that is not a trace. */
DMAR_API dmar_status dmar_trace_open(const char *path, dmar_trace **out);
/** The header of an opened trace (the scenario text stays owned by the trace). */
DMAR_API void dmar_trace_header(const dmar_trace *t, uint64_t *seed, bool *data, const char **scenario);
/** Append a record (thread-safe: records of several threads are serialised). */
DMAR_API dmar_status dmar_trace_write(dmar_trace *t, unsigned type, unsigned engine,
				      const dmar_gen_req *req, size_t n);
/** Read the next record: its type, engine and up to @p max requests (@p n receives how many).
 *  ::DMAR_E_RANGE at the end of the file, ::DMAR_E_INVALID for a damaged record. */
DMAR_API dmar_status dmar_trace_read(dmar_trace *t, unsigned *type, unsigned *engine,
				     dmar_gen_req *req, size_t max, size_t *n);
/** Close (a writer writes the end record and flushes).  NULL is ignored. */
DMAR_API dmar_status dmar_trace_close(dmar_trace *t);

#ifdef __cplusplus
}
#endif
#endif
