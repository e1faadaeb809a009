/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file peers.h
 * @brief Two peer translation caches built on the real libraries their designs use, for
 *        bench_iotlb: same keys, same tables, same walker (the public dmar_walk()).
 *
 *  PEER_QEMU       QEMU's VT-d IOTLB (hw/i386/intel_iommu.c): a GLib GHashTable keyed by
 *                  struct vtd_iotlb_key {gfn, pasid, level, sid} with vtd_iotlb_hash /
 *                  vtd_iotlb_equal, g_malloc'd key and entry per fill, g_hash_table_replace,
 *                  the whole table emptied when it reaches its maximum size, the lookup
 *                  trying the 4 KiB, 2 MiB and 1 GiB levels in turn, and one global mutex
 *                  (QEMU's iommu_lock) held over lookup, walk and fill.  Page-selective
 *                  invalidation is g_hash_table_foreach_remove() over the whole table with
 *                  vtd_hash_remove_by_page(), under the same mutex.
 *  PEER_RCULFHASH  liburcu's lock-free hash table (cds_lfht, memb flavor) as the cache:
 *                  key (asid, 4 KiB page number) hashed with XXH3_64bits, lookups under
 *                  urcu_memb_read_lock() with no lock and no shared write, fills with
 *                  cds_lfht_add_unique(), FIFO eviction through a ring of the cached nodes
 *                  (capacity entries), nodes freed with call_rcu.  Fills that race an
 *                  invalidation are dropped (striped generation counters), so it keeps the
 *                  same correctness contract as the dmar IOTLB.
 *
 * The ASID plays the domain id / source id (QEMU) and the address-space tag (rculfhash).
 * Every thread that translates must call peer_thread_register() (after dmar_thread_register())
 * and peer_thread_unregister() before it exits.
 */
#ifndef DMAR_BENCH_PEERS_H
#define DMAR_BENCH_PEERS_H

#include <stddef.h>
#include <stdint.h>

#include <dmar/iotlb.h>
#include <dmar/pgtable.h>
#include <dmar/physmem.h>
#include <dmar/status.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum peer_kind {
	PEER_QEMU = 0,
	PEER_RCULFHASH,
	PEER_KIND_COUNT
} peer_kind;

typedef struct peer peer;

/** Short name: "qemu" or "rculfhash". */
const char *peer_kind_name(peer_kind kind);

/** Create a cache of at most @p capacity entries (rculfhash rounds it up to a power of two).
 *  NULL when out of memory or for a bad kind. */
peer *peer_create(peer_kind kind, size_t capacity);

/** Destroy.  No translation may be running.  Waits for pending RCU frees.  NULL accepted. */
void peer_destroy(peer *p);

/**
 * Translate @p access at @p iova of address space @p asid (1 .. 65535), whose table is
 * rooted at @p root in @p pm: a lookup, and on a miss a dmar_walk() and a fill.  @p out is
 * filled as dmar_translate() fills it (DMAR_RESULT_HIT in flags on a hit).  Returns DMAR_OK,
 * DMAR_E_FAULT (out->fault set; refusals are never cached), or DMAR_E_INVALID.  The calling
 * thread must be registered (peer_thread_register()).  Thread-safe.
 */
dmar_status peer_translate(peer *p, const dmar_physmem *pm, dmar_pa_t root,
			   const dmar_pt_format *fmt, uint32_t asid, dmar_iova_t iova,
			   unsigned access, dmar_result *out);

/** Invalidate every cached page of @p asid that meets [iova, iova + size).  Thread-safe. */
void peer_invalidate_range(peer *p, uint32_t asid, dmar_iova_t iova, uint64_t size);

/** Invalidate everything.  Thread-safe. */
void peer_invalidate_all(peer *p);

/** Entries cached now (approximate while others translate). */
size_t peer_size(peer *p);

/** Register / unregister the calling thread with liburcu's memb flavor (what the rculfhash
 *  peer and the peers' walks use).  Shares dmar's registration when dmar is built with memb.
 *  Call after dmar_thread_register() and before dmar_thread_unregister(). */
void peer_thread_register(void);
void peer_thread_unregister(void);

#ifdef __cplusplus
}
#endif
#endif
