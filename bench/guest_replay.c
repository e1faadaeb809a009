/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bench_replay's replay of a guest trace (dmar/dmagen.h: the translations and invalidations a
 * guest's devices caused inside an emulator, as contrib/qemu's x-dmar-trace records them)
 * against dmar and the peer caches of bench_iotlb (peers.h), in one run:
 *
 *  replay/guest/dmar_single   dmar_translate() per translation, as an emulator calls it
 *  replay/guest/dmar_batch    runs of consecutive translations of one address space with no
 *                             invalidation between them, up to 64, per dmar_translate_batch()
 *  replay/guest/qemu          the QEMU-style peer (a GHashTable under one mutex)
 *  replay/guest/rculfhash     liburcu's lock-free hash table as the cache
 *
 * Each translation's address space (the guest's domain) gets a page table of its own, built
 * before timing, in which every page the guest had translated maps to the first frame the
 * guest's translation gave it (a guest in strict mode maps an address again and again, to
 * other frames; the replay keeps the pattern of addresses, accesses and invalidations, and
 * one frame per page).  The guest's invalidations are replayed in place: page ranges,
 * whole domains and everything, with dmar's calls and the peers' own, so that the misses
 * they cause are the guest's.  One pass over the trace before timing checks every answer:
 * a page with one frame in the whole trace translates to exactly the recorded address, a
 * page the guest never had translated is refused; a wrong answer fails the benchmark.
 *
 * One iteration is one pass over the trace; items_per_second counts translations, and
 * ns_per_xlate is the wall time per translation (invalidations included). */
#include "guest_replay.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <glib.h>

#include <dmar.h>

#include "bench.h"
#include "peers.h"

#define K4 4096ull
#define MAX_SPACES 64
#define MAX_OPS (1u << 24)
#define BATCH 64

enum { OP_XLATE, OP_INVAL };

struct gop {
	uint64_t addr;
	uint64_t pa;      /* OP_XLATE: the recorded answer (expect 0); OP_INVAL: the size */
	uint16_t space;   /* index into g.sp (OP_INVAL of everything: MAX_SPACES) */
	uint8_t kind;
	uint8_t access;
	uint8_t expect;   /* ::dmar_fault the guest's translation ended with */
	uint8_t check;    /* OP_XLATE: 1 the answer must be pa, 2 it must be refused, 0 either */
	uint16_t run;     /* OP_XLATE: translations in the run it starts (dmar_batch), or 0 */
};

static struct {
	struct gop *op;
	uint64_t nop, nxlate, ninval, npages, nremapped, nfaulted;
	unsigned nsp;
	uint16_t did[MAX_SPACES];
	dmar_physmem *pm;
	dmar_pgtable *pt[MAX_SPACES];
	dmar_iotlb *tlb;
	dmar_space *sp[MAX_SPACES];
	peer *peers[PEER_KIND_COUNT];
	dmar_request *req;  /* OP_XLATE requests in op order, for dmar_batch */
	uint64_t *req_of;   /* op index -> index into req */
	char source[300];
} g;

enum impl { GI_SINGLE, GI_BATCH, GI_QEMU, GI_LFHT, GI_COUNT };
static const char *const gi_name[GI_COUNT] = { "dmar_single", "dmar_batch", "qemu", "rculfhash" };

static int space_index(uint16_t did)
{
	for (unsigned i = 0; i < g.nsp; i++)
		if (g.did[i] == did)
			return (int)i;
	if (g.nsp == MAX_SPACES)
		return -1;
	g.did[g.nsp] = did;
	return (int)g.nsp++;
}

static int fail(const char *what, dmar_status st)
{
	fprintf(stderr, "bench_replay: guest trace %s: %s: %s\n", g.source, what,
		dmar_status_str(st));
	return -1;
}

/* Read the trace into g.op. */
static int load(const char *path)
{
	dmar_gen_req *buf = malloc(65535 * sizeof(*buf));
	size_t cap = 1 << 16, n;
	dmar_trace *t;
	dmar_status st;
	unsigned type, e;

	g.op = malloc(cap * sizeof(*g.op));
	if (!buf || !g.op)
		return fail("loading", DMAR_E_NOMEM);
	st = dmar_trace_open(path, &t);
	if (st != DMAR_OK) {
		free(buf);
		return fail("opening", st);
	}
	while ((st = dmar_trace_read(t, &type, &e, buf, 65535, &n)) == DMAR_OK &&
	       type != DMAR_TRACE_END && g.nop + n < MAX_OPS) {
		if (type != DMAR_TRACE_REQUESTS && type != DMAR_TRACE_INVALIDATE)
			continue;
		if (g.nop + n > cap) {
			while (g.nop + n > cap)
				cap *= 2;
			g.op = realloc(g.op, cap * sizeof(*g.op));
			if (!g.op)
				break;
		}
		for (size_t i = 0; i < n; i++) {
			struct gop *o = &g.op[g.nop];
			const int all = type == DMAR_TRACE_INVALIDATE && buf[i].region == 0xffff &&
					buf[i].offset == 0;
			const int s = all ? MAX_SPACES : space_index(buf[i].region);

			if (s < 0) {
				dmar_trace_close(t);
				free(buf);
				return fail("more than 64 address spaces", DMAR_E_RANGE);
			}
			memset(o, 0, sizeof(*o));
			o->kind = type == DMAR_TRACE_REQUESTS ? OP_XLATE : OP_INVAL;
			o->addr = buf[i].addr;
			o->pa = buf[i].offset;
			o->space = (uint16_t)s;
			o->access = buf[i].access & DMAR_ACCESS_ALL;
			o->expect = buf[i].expect;
			g.nop++;
			if (o->kind == OP_XLATE)
				g.nxlate++;
			else
				g.ninval++;
		}
	}
	dmar_trace_close(t);
	free(buf);
	if (!g.op)
		return fail("loading", DMAR_E_NOMEM);
	if (st != DMAR_OK && st != DMAR_E_RANGE)
		return fail("reading (damaged)", st);
	if (!g.nxlate)
		return fail("no translation in it", DMAR_E_NOT_FOUND);
	return 0;
}

/* The tables: each translated page mapped to the first frame recorded for it. */
static int build(void)
{
	static const dmar_ram_range r = { .base = 1ull << 44, .size = 1ull << 30 };
	const dmar_physmem_config pc = { .ranges = &r, .nranges = 1, .pa_bits = 52 };
	GHashTable *first = g_hash_table_new(g_int64_hash, g_int64_equal);
	GHashTable *faulted = g_hash_table_new(g_int64_hash, g_int64_equal);
	GHashTable *remapped = g_hash_table_new(g_int64_hash, g_int64_equal);
	uint64_t *keys = malloc(g.nop * sizeof(*keys)), nreq = 0;
	dmar_iotlb_config tc;
	dmar_pgtable_config ptc;
	dmar_status st;

	if (!keys)
		return fail("building", DMAR_E_NOMEM);
	st = dmar_physmem_create(&pc, &g.pm);
	if (st != DMAR_OK)
		return fail("dmar_physmem_create", st);
	dmar_pgtable_config_default(&ptc);
	dmar_iotlb_config_default(&tc);
	st = dmar_iotlb_create(&tc, &g.tlb);
	if (st != DMAR_OK)
		return fail("dmar_iotlb_create", st);
	for (unsigned s = 0; s < g.nsp; s++) {
		st = dmar_pgtable_create(g.pm, &ptc, &g.pt[s]);
		if (st != DMAR_OK)
			return fail("dmar_pgtable_create", st);
	}
	/* pass 1: the first frame of every page; pages seen with two frames; pages refused */
	for (uint64_t i = 0; i < g.nop; i++) {
		struct gop *o = &g.op[i];
		gpointer v;

		if (o->kind != OP_XLATE)
			continue;
		keys[i] = (uint64_t)o->space << 52 | o->addr >> 12;
		if (o->expect) {
			g_hash_table_insert(faulted, &keys[i], &keys[i]);
			continue;
		}
		v = g_hash_table_lookup(first, &keys[i]);
		if (!v) {
			g_hash_table_insert(first, &keys[i], &o->pa);
			st = dmar_pgtable_map(g.pt[o->space], o->addr & ~(K4 - 1), o->pa & ~(K4 - 1), K4,
					      DMAR_PROT_READ | DMAR_PROT_WRITE);
			if (st != DMAR_OK)
				return fail("dmar_pgtable_map", st);
			g.npages++;
		} else if ((*(uint64_t *)v & ~(K4 - 1)) != (o->pa & ~(K4 - 1)) &&
			   !g_hash_table_contains(remapped, &keys[i])) {
			g_hash_table_add(remapped, &keys[i]);
			g.nremapped++;
		}
	}
	/* pass 2: what each answer must be, and the runs of dmar_batch */
	g.req = malloc(g.nxlate * sizeof(*g.req));
	g.req_of = malloc(g.nop * sizeof(*g.req_of));
	if (!g.req || !g.req_of)
		return fail("building", DMAR_E_NOMEM);
	for (uint64_t i = 0; i < g.nop; i++) {
		struct gop *o = &g.op[i];
		gpointer v;

		if (o->kind != OP_XLATE)
			continue;
		v = g_hash_table_lookup(first, &keys[i]);
		if (!v)
			o->check = 2;
		else if (!g_hash_table_contains(remapped, &keys[i]) && !o->expect &&
			 !g_hash_table_contains(faulted, &keys[i]))
			o->check = 1;
		g.nfaulted += o->expect != 0;
		g.req_of[i] = nreq;
		g.req[nreq++] = (dmar_request){ .iova = o->addr, .access = o->access,
						 .pasid = DMAR_NO_PASID };
	}
	for (uint64_t i = 0; i < g.nop;) {
		uint64_t j = i + 1;

		if (g.op[i].kind != OP_XLATE) {
			i++;
			continue;
		}
		while (j < g.nop && j - i < BATCH && g.op[j].kind == OP_XLATE &&
		       g.op[j].space == g.op[i].space)
			j++;
		g.op[i].run = (uint16_t)(j - i);
		i = j;
	}
	/* the spaces */
	for (unsigned s = 0; s < g.nsp; s++) {
		st = dmar_space_create(g.tlb, g.pm, dmar_pgtable_root(g.pt[s]),
				       dmar_pgtable_format(g.pt[s]), &g.sp[s]);
		if (st != DMAR_OK)
			return fail("dmar_space_create", st);
	}
	for (int k = 0; k < PEER_KIND_COUNT; k++) {
		g.peers[k] = peer_create((peer_kind)k, (size_t)tc.sets * tc.ways);
		if (!g.peers[k])
			return fail("peer_create", DMAR_E_NOMEM);
	}
	g_hash_table_destroy(first);
	g_hash_table_destroy(faulted);
	g_hash_table_destroy(remapped);
	free(keys);
	return 0;
}

static void invalidate(enum impl im, const struct gop *o)
{
	const int all = o->space == MAX_SPACES;

	if (im == GI_QEMU || im == GI_LFHT) {
		peer *p = g.peers[im == GI_QEMU ? PEER_QEMU : PEER_RCULFHASH];

		if (all)
			peer_invalidate_all(p);
		else
			peer_invalidate_range(p, o->space + 1u, o->pa ? o->addr : 0,
					      o->pa ? o->pa : ~0ull - 0xfff);
		return;
	}
	if (all)
		dmar_iotlb_invalidate_all(g.tlb);
	else if (o->pa)
		(void)dmar_space_invalidate_range(g.sp[o->space], o->addr, o->pa);
	else
		dmar_space_invalidate(g.sp[o->space]);
}

/* One pass over the trace; with @check, every answer against the recording: 0 or -1. */
static int pass(enum impl im, dmar_result *res, int check, uint64_t *hits)
{
	for (uint64_t i = 0; i < g.nop; i++) {
		const struct gop *o = &g.op[i];
		uint64_t n = 1;

		if (o->kind == OP_INVAL) {
			invalidate(im, o);
			continue;
		}
		switch (im) {
		case GI_SINGLE:
			(void)dmar_translate(g.sp[o->space], o->addr, o->access, res);
			break;
		case GI_BATCH:
			n = o->run;
			(void)dmar_translate_batch(g.sp[o->space], &g.req[g.req_of[i]], res, n, NULL);
			break;
		default:
			(void)peer_translate(g.peers[im == GI_QEMU ? PEER_QEMU : PEER_RCULFHASH], g.pm,
					     dmar_pgtable_root(g.pt[o->space]),
					     dmar_pgtable_format(g.pt[o->space]), o->space + 1u, o->addr,
					     o->access, res);
		}
		for (uint64_t k = 0; k < n; k++) {
			const struct gop *q = &g.op[i + k];

			*hits += (res[k].flags & DMAR_RESULT_HIT) != 0;
			if (check && ((q->check == 1 && (res[k].fault || res[k].pa != q->pa)) ||
				      (q->check == 2 && !res[k].fault))) {
				fprintf(stderr, "bench_replay: guest trace: %s answered 0x%" PRIx64
					" (fault %u) for 0x%" PRIx64 " in space %u, recorded 0x%" PRIx64
					" (fault %u)\n", gi_name[im], res[k].pa, res[k].fault, q->addr,
					q->space, q->pa, q->expect);
				return -1;
			}
		}
		i += n - 1;
	}
	return 0;
}

static void bm_guest(bench_state *st, void *arg)
{
	const enum impl im = (enum impl)(uintptr_t)arg;
	dmar_result res[BATCH];
	uint64_t hits = 0, passes = 0;
	struct timespec t0, t1;
	double ns;

	dmar_thread_register();
	peer_thread_register();
	if (pass(im, res, 1, &hits) != 0) {
		bench_skip_with_error(st, "a wrong answer (see stderr)");
		peer_thread_unregister();
		dmar_thread_unregister();
		return;
	}
	hits = 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (bench_keep_running(st)) {
		(void)pass(im, res, 0, &hits);
		passes++;
		dmar_thread_quiescent();
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ns = (double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec);
	bench_set_items_processed(st, (int64_t)(passes * g.nxlate));
	bench_counter(st, "ns_per_xlate", passes ? ns / (double)(passes * g.nxlate) : 0,
		      BENCH_CTR_DEFAULT);
	bench_counter(st, "hit_rate", passes ? (double)hits / (double)(passes * g.nxlate) : 0,
		      BENCH_CTR_DEFAULT);
	peer_thread_unregister();
	dmar_thread_unregister();
}

int guest_replay_register(const char *path)
{
	char buf[64];

	snprintf(g.source, sizeof(g.source), "%s", path);
	dmar_thread_register();
	if (load(path) != 0 || build() != 0) {
		dmar_thread_unregister();
		return -1;
	}
	dmar_thread_unregister();
	bench_add_context("guest_trace", g.source);
	snprintf(buf, sizeof(buf), "%" PRIu64 " translations (%" PRIu64 " refused), %" PRIu64
		 " invalidations", g.nxlate, g.nfaulted, g.ninval);
	bench_add_context("guest_trace_ops", buf);
	snprintf(buf, sizeof(buf), "%" PRIu64 " pages in %u spaces, %" PRIu64 " remapped",
		 g.npages, g.nsp, g.nremapped);
	bench_add_context("guest_trace_pages", buf);
	for (int im = 0; im < GI_COUNT; im++) {
		char name[64];

		snprintf(name, sizeof(name), "replay/guest/%s", gi_name[im]);
		bench_use_real_time(bench_register(name, bm_guest, (void *)(uintptr_t)im));
	}
	return 0;
}

int guest_replay_is_guest_trace(const char *path)
{
	dmar_trace *t;
	const char *scen = NULL;
	int yes;

	if (dmar_trace_open(path, &t) != DMAR_OK)
		return 0;
	dmar_trace_header(t, NULL, NULL, &scen);
	yes = scen && strncmp(scen, "qemu-guest", 10) == 0;
	dmar_trace_close(t);
	return yes;
}
