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

/** A traffic generator (opaque): its regions, engines and their streams. */
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
	dmar_gen_path path;       /**< how the device reaches it */
	dmar_device *dev;         /**< LOGICAL, PASID: the device that issues */
	dmar_adapter *ad;         /**< APERTURE: the adapter */
	uint32_t pasid;           /**< PASID: the process's PASID */
	uint32_t segment;         /**< APERTURE: the segment id */
	uint64_t base;            /**< first device address (page aligned) */
	uint64_t size;            /**< bytes, a 4 KiB multiple; the region may end exactly at
				       2^64, not past it */
	bool writable;            /**< mapped writable for the device */
	const dmar_pa_t *pages;   /**< the physical page of each 4 KiB (copied) */
	uint8_t *cpu;             /**< a CPU mapping of the same memory, or NULL (no data checks) */
	uint64_t pattern;         /**< its content's seed (a copy destination: the source's) */
	uint64_t guard;           /**< a device address on the same path that maps nothing, or 0
				       (no injected unmapped accesses); they read inside
				       [guard, guard + 4 KiB), which must neither run past 2^64
				       nor meet the region */
	unsigned dma_bits;        /**< the issuing device's reach (LOGICAL/PASID), for S14 faults */
} dmar_gen_region;

/** Engine kinds. */
typedef enum dmar_gen_kind {
	DMAR_GEN_COPY = 0, /**< copy engine: sequential read/write pairs */
	DMAR_GEN_3D,       /**< 3D: tiled texture reads, sequential render-target writes */
	DMAR_GEN_COMPUTE,  /**< compute: random gathers (uniform or Zipf), sequential writes */
	DMAR_GEN_DISPLAY,  /**< display: scanout reads through the aperture */
	DMAR_GEN_COMMAND,  /**< command processor: ring-buffer reads */
	DMAR_GEN_KIND_COUNT
} dmar_gen_kind;

/** An engine. */
typedef struct dmar_gen_engine {
	dmar_gen_kind kind; /**< its traffic pattern */
	unsigned src;       /**< region read (every kind) */
	unsigned dst;       /**< region written (COPY, 3D, COMPUTE) */
	unsigned burst;     /**< bytes per request, 16..4096, a power of two (0: the kind's
				 own, 4096 for COPY and DISPLAY, 256 for 3D, 64 for COMPUTE and
				 COMMAND) */
	unsigned width;     /**< 3D: texture width in pixels, a multiple of 64 (0: 1024) */
	double zipf_s;      /**< Zipf exponent over a COMPUTE working set's pages, 0..4 (not NaN);
				 0 uniform */
	uint32_t bad_ppm;   /**< injected bad accesses per million requests */
} dmar_gen_engine;

/** How the generator runs. */
typedef struct dmar_gen_config {
	uint64_t seed;      /**< every engine's stream derives from it and the engine's index */
	dmar_physmem *pm;   /**< the memory the translated addresses point into */
	bool data;          /**< move and check bytes (data mode) */
} dmar_gen_config;

/** Kinds of deliberate bad access. */
typedef enum dmar_gen_bad {
	DMAR_GEN_GOOD = 0,      /**< not a bad access */
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
	uint8_t pad[3];    /**< zero */
} dmar_gen_req;

/** Request flags. */
enum dmar_gen_req_flags {
	DMAR_GEN_COPY_SRC = 1u << 0, /**< a copy engine's read: the next write stores its bytes */
};

/** What happened, per engine or summed.  Counts add up:
 *  requests = ok + wrong + faults_expected total + faults_unexpected total + not_refused. */
typedef struct dmar_gen_counts {
	uint64_t requests;                            /**< requests executed */
	uint64_t ok;                                  /**< translated where expected */
	uint64_t wrong;                               /**< translated, to another address (stale) */
	uint64_t injected[DMAR_GEN_BAD_COUNT];        /**< bad requests issued, by kind */
	uint64_t faults_expected[DMAR_FAULT_COUNT];   /**< refused as expected, by reason */
	uint64_t faults_unexpected[DMAR_FAULT_COUNT]; /**< refused though good, or for another reason */
	uint64_t not_refused;                         /**< bad requests that translated (S7 broken) */
	/** Data mode: bytes read and written through translations. */
	/**@{*/
	uint64_t bytes_read, bytes_written;
	/**@}*/
	uint64_t bytes_verified;                      /**< compared against the expected content */
	uint64_t corrupt;                             /**< bytes that differed */
	uint64_t digest;                              /**< hash of every result in order */
} dmar_gen_counts;

/** Defaults: seed 1, data mode on (set @c pm before dmar_gen_create()).
 *  @param cfg  filled in
 *  @threadsafety Thread-safe (writes only @p cfg). */
DMAR_API void dmar_gen_config_default(dmar_gen_config *cfg);

/** Create a generator with no regions and no engines.
 *  @param cfg  how it runs
 *  @param out  receives the generator
 *  @return ::DMAR_OK; ::DMAR_E_INVALID for NULL arguments or a NULL pm; ::DMAR_E_NOMEM.
 *  @threadsafety Thread-safe. */
DMAR_API dmar_status dmar_gen_create(const dmar_gen_config *cfg, dmar_gen **out);
/** Destroy a generator.
 *  @param g  the generator; NULL is ignored
 *  @threadsafety Nothing may use @p g any more. */
DMAR_API void dmar_gen_destroy(dmar_gen *g);

/** Add a region.
 *  @param g   the generator
 *  @param r   the region (its name and pages are copied)
 *  @param id  receives its index
 *  @return ::DMAR_OK; ::DMAR_E_INVALID for a bad region (size or base not a 4 KiB multiple,
 *          size 0, a range that runs past 2^64, a guard page that runs past 2^64 or meets
 *          the region, path without its device/adapter, dma_bits outside 32..64, NULL
 *          pages) or 65535 regions; ::DMAR_E_NOMEM.
 *  @threadsafety Before the run, from one thread (not concurrently with anything on @p g). */
DMAR_API dmar_status dmar_gen_add_region(dmar_gen *g, const dmar_gen_region *r, unsigned *id);
/** Add an engine (at most 255).
 *  @param g   the generator
 *  @param e   the engine
 *  @param id  receives its index
 *  @return ::DMAR_OK; ::DMAR_E_INVALID when its regions do not exist, a destination is
 *          read-only, the parameters are out of range (a NaN Zipf exponent included) or 255
 *          engines exist; ::DMAR_E_NOMEM.
 *  @threadsafety Before the run, from one thread (not concurrently with anything on @p g). */
DMAR_API dmar_status dmar_gen_add_engine(dmar_gen *g, const dmar_gen_engine *e, unsigned *id);

/** Write a read-only region's pattern through its CPU mapping.
 *  @param g       the generator
 *  @param region  the region's index
 *  @return ::DMAR_OK; ::DMAR_E_INVALID for an unknown region, one without a CPU mapping,
 *          or a writable one.
 *  @threadsafety Before the run, from one thread (not concurrently with anything on @p g). */
DMAR_API dmar_status dmar_gen_fill(dmar_gen *g, unsigned region);

/** The pattern seed of a region.
 *  @param g       the generator
 *  @param region  the region's index
 *  @return its seed; 0 for an unknown region.
 *  @threadsafety Thread-safe once the regions are added. */
DMAR_API uint64_t dmar_gen_region_pattern(const dmar_gen *g, unsigned region);

/** Byte @p offset of pattern @p seed: the expected content of a region.
 *  @param seed    the pattern's seed
 *  @param offset  byte offset in the region
 *  @return the byte.
 *  @threadsafety Pure function: thread-safe. */
DMAR_API uint8_t dmar_gen_pattern(uint64_t seed, uint64_t offset);

/** The next requests of an engine.  A copy engine gives read/write pairs, each whole (an
 *  injected bad request, a single one, may come between two pairs): a call stops short of
 *  @p max rather than split a pair.  The requests of successive calls follow one another in
 *  the engine's one stream, whatever their @p max.
 *  @param g    the generator
 *  @param e    the engine's index
 *  @param req  receives the requests
 *  @param max  room in @p req
 *  @return how many requests were written (0 for an unknown engine).
 *  @threadsafety The engine's thread only; different engines on different threads at once. */
DMAR_API size_t dmar_gen_next(dmar_gen *g, unsigned e, dmar_gen_req *req, size_t max);

/** The requests dmar_gen_next() would give, without moving the engine on: what a rogue
 *  engine would issue now (the engine's stream carries on as if they were not).
 *  @param g    the generator
 *  @param e    the engine's index
 *  @param req  receives the requests
 *  @param max  room in @p req
 *  @return how many requests were written.
 *  @threadsafety The engine's thread only. */
DMAR_API size_t dmar_gen_peek(dmar_gen *g, unsigned e, dmar_gen_req *req, size_t max);

/** Turn the requests into ones issued inside an exclusive window: each expects
 *  ::DMAR_FAULT_EXCLUSIVE (S18).
 *  @param req  the requests, changed in place
 *  @param n    how many
 *  @threadsafety Thread-safe (touches only @p req). */
DMAR_API void dmar_gen_mark_exclusive(dmar_gen_req *req, size_t n);

/**
 * Translate @p n requests of engine @p e (all of one engine), check each against its
 * expectation, move bytes in data mode, and add to @p c.
 * @param g    the generator
 * @param e    the engine's index
 * @param req  @p n requests of that engine
 * @param n    how many
 * @param c    the engine's own counters (not shared with other threads), added to
 * @return ::DMAR_OK (wrong or unexpected outcomes are counted in @p c, not returned);
 *         ::DMAR_E_INVALID for a bad engine or request (nothing of the batch runs then): a
 *         request of another engine or issuer, an unknown region, kind or reason, access
 *         bits outside ::DMAR_ACCESS_ALL, a length outside 1..4096, or a good request, or
 *         one expected to translate, whose offset and length leave its region or page or
 *         whose address is not the region's base plus its offset; also when the issuer is an
 *         aperture region whose segment is none of its adapter's aperture segments (nothing
 *         is counted then either); ::DMAR_E_THREAD for an unregistered thread.
 * @threadsafety The engine's thread only, registered; different engines on different
 * threads at once.
 */
DMAR_API dmar_status dmar_gen_execute(dmar_gen *g, unsigned e, const dmar_gen_req *req, size_t n,
				      dmar_gen_counts *c);

/** Read every region with a CPU mapping back and compare it with its expected content.
 *  @param g  the generator
 *  @param c  c->bytes_verified and c->corrupt are added to
 *  @threadsafety After the run, from one thread. */
DMAR_API void dmar_gen_verify(dmar_gen *g, dmar_gen_counts *c);

/** Add @p b into @p a (the digest is combined order-independently across engines).
 *  @param a  the sum, added to
 *  @param b  the counts to add
 *  @threadsafety Thread-safe for distinct @p a. */
DMAR_API void dmar_gen_counts_add(dmar_gen_counts *a, const dmar_gen_counts *b);

/** Readable name of an engine kind.
 *  @param k  the kind
 *  @return a static string, never NULL.
 *  @threadsafety Thread-safe. */
DMAR_API const char *dmar_gen_kind_str(dmar_gen_kind k);
/** Readable name of a kind of bad access.
 *  @param b  the kind
 *  @return a static string, never NULL.
 *  @threadsafety Thread-safe. */
DMAR_API const char *dmar_gen_bad_str(dmar_gen_bad b);

/* ---- traces ---------------------------------------------------------------------------- */

/**
 * The trace file format (little-endian):
 *  - header, 64 bytes: magic "DMARTRC1", u32 version (1), u32 header size (64),
 *    u64 seed, u32 scenario bytes S, u32 flags (bit 0: data mode), 32 bytes reserved (0);
 *    then S bytes of scenario text (what the recorder needs to rebuild the system; at most
 *    1 MiB, no NUL byte);
 *  - records, each: u8 type, u8 engine, u16 count, u32 reserved, then for type 1 (requests)
 *    `count` ::dmar_gen_req of 32 bytes each; type 2: an exclusive-access window begins
 *    (count 0); type 3: it ends (count 0); type 4: end of trace (count 0); type 5: cached
 *    translations were invalidated (count 1: one ::dmar_gen_req whose region names the
 *    address space, addr the range's first address and offset its size; size 0: the whole
 *    space, and region 0xffff with size 0: every space).
 *
 * A trace recorded inside an emulator (the scenario text starts with "qemu-guest", as
 * contrib/qemu's x-dmar-trace writes it) holds the translations a guest's devices asked
 * for, in order, as type 1 records of engine 0: region is the address space (VT-d: the
 * domain id), addr the device address, offset the address it was translated to (0 when
 * refused), access the access, expect the ::dmar_fault it ended with, len 0 (unknown); and
 * the guest's invalidations as type 5 records.  bench_replay replays such a trace against
 * dmar and the peer caches.
 */
typedef struct dmar_trace dmar_trace;

/** Trace record types. */
enum dmar_trace_type {
	DMAR_TRACE_REQUESTS = 1,        /**< requests of one engine */
	DMAR_TRACE_EXCLUSIVE_BEGIN = 2, /**< an exclusive-access window begins */
	DMAR_TRACE_EXCLUSIVE_END = 3,   /**< it ends */
	DMAR_TRACE_END = 4,             /**< end of trace */
	DMAR_TRACE_INVALIDATE = 5,      /**< cached translations invalidated (one request) */
};

/** Create a trace file, with the seed and scenario text a replay needs.
 *  @param path      the file (created or truncated)
 *  @param seed      the generator's seed
 *  @param data      whether the run is in data mode
 *  @param scenario  the scenario text (may be NULL: empty)
 *  @param out       receives the trace, open for writing
 *  @return ::DMAR_OK; ::DMAR_E_INVALID for NULL arguments or a scenario text over 1 MiB;
 *          ::DMAR_E_NOT_FOUND when the file cannot be created; ::DMAR_E_NOMEM when out of
 *          memory or the header cannot be written (it is flushed before the call returns).
 *  @threadsafety Thread-safe. */
DMAR_API dmar_status dmar_trace_create(const char *path, uint64_t seed, bool data,
				       const char *scenario, dmar_trace **out);
/** Open a trace file for reading.
 *  @param path  the file
 *  @param out   receives the trace
 *  @return ::DMAR_OK; ::DMAR_E_NOT_FOUND when the file cannot be opened; ::DMAR_E_INVALID
 *          for a file that is not a trace (a directory included) or whose header is damaged
 *          (flags past bit 0 or reserved bytes not zero, a scenario text over 1 MiB, cut
 *          short, or holding a NUL byte); ::DMAR_E_NOMEM.
 *  @threadsafety Thread-safe. */
DMAR_API dmar_status dmar_trace_open(const char *path, dmar_trace **out);
/** The header of an opened trace.  Each output may be NULL (not wanted).
 *  @param t         the trace; for NULL the outputs receive 0, false and NULL
 *  @param seed      receives the seed
 *  @param data      receives the data-mode flag
 *  @param scenario  receives the scenario text, owned by the trace ("" when it has none)
 *  @threadsafety Thread-safe (the header does not change). */
DMAR_API void dmar_trace_header(const dmar_trace *t, uint64_t *seed, bool *data, const char **scenario);
/** Append a record.
 *  @param t       a trace open for writing
 *  @param type    ::dmar_trace_type
 *  @param engine  the engine's index
 *  @param req     the requests of a ::DMAR_TRACE_REQUESTS record
 *  @param n       how many (1 for ::DMAR_TRACE_INVALIDATE, 0 for the other types)
 *  @return ::DMAR_OK; ::DMAR_E_INVALID for bad arguments or a trace open for reading;
 *          ::DMAR_E_NOMEM when the file cannot be written.  Records are buffered: a write
 *          that fails on the file shows at the call whose record filled the buffer, or at
 *          dmar_trace_close().
 *  @threadsafety Thread-safe: records of several threads are serialised. */
DMAR_API dmar_status dmar_trace_write(dmar_trace *t, unsigned type, unsigned engine,
				      const dmar_gen_req *req, size_t n);
/** Read the next record.
 *  @param t       a trace open for reading
 *  @param type    receives its ::dmar_trace_type
 *  @param engine  receives its engine
 *  @param req     receives up to @p max requests (may be NULL when @p max is 0)
 *  @param max     room in @p req
 *  @param n       receives how many requests were read
 *  @return ::DMAR_OK; ::DMAR_E_RANGE at the end of the file (after the last whole record);
 *          ::DMAR_E_INVALID for a damaged record (a header or requests cut short, an unknown
 *          type, a count the type does not allow, reserved bytes or unknown request flags
 *          not zero) or bad arguments.  @p type, @p engine and @p n are written on
 *          ::DMAR_OK only (@p req may hold part of a damaged record).  A record of more
 *          than @p max requests is refused with nothing read: the next call reads it,
 *          given the room.  Nothing is read for NULL arguments.
 *  @threadsafety One reader at a time. */
DMAR_API dmar_status dmar_trace_read(dmar_trace *t, unsigned *type, unsigned *engine,
				     dmar_gen_req *req, size_t max, size_t *n);
/** Close a trace (a writer writes the end record and flushes).
 *  @param t  the trace; NULL is ignored
 *  @return ::DMAR_OK; ::DMAR_E_NOMEM when the end record or the flush failed.
 *  @threadsafety Nothing may use @p t any more. */
DMAR_API dmar_status dmar_trace_close(dmar_trace *t);

#ifdef __cplusplus
}
#endif
#endif
