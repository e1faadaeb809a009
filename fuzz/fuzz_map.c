/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The mapping API, differential.  A byte-coded sequence of map, unmap
 * (partial unmaps split 2 MiB and 1 GiB leaves), translate (single and batch, through
 * devices, with and without PASIDs), invalidate (everything, a PASID's range or space, ASID
 * rollover), attach / detach, exclusive access and domain switch (S18), PASID bind / unbind
 * / alloc / free, adapter links (S15) and destroy / re-create of domains and devices runs
 * against the engine AND against the model below, and any disagreement abort()s:
 * statuses, every field of every result, the fault records queued (S29), the counters.
 *
 * The model is deliberately simple, written from dmar/pgtable.h: per table a sorted array of
 * leaves (page, size, physical address, permissions); a map cuts its range into the largest
 * of the table's page sizes that alignment allows, an unmap splits a leaf of a level's own
 * size that it covers in part into the next size down, and an AMD-Vi leaf repeated over
 * several slots into one leaf of the level's own size per slot (pgtable.h), and a
 * translation is a binary search.  No cache: so a stale IOTLB or
 * walk-cache entry shows up as a disagreement, and every unmap and map is followed at once
 * by translations of its first, middle and last page through every device and PASID that
 * reaches the table, warmed before (S7, S28: an unmapped page never translates).
 * Permissions follow pgtable.h's rules for map (x86-64 pages are readable; VT-d and AMD-Vi
 * pages may be write-only; controls the format lacks are refused) and for what a walk
 * reports (USER always in the IOMMU formats, EXEC = READ where execution follows read).
 *
 * Tables: T0 remapped domain, x86-64, 4 levels; T1 remapped domain, x86-64, 5 levels, page
 * sizes from the input; T2 identity domain (S8), x86-64 (the domains' tables are IOVA
 * tables: no canonical hole); T3 a process table, 4 levels with the upper half; T4 a process
 * table, 5 levels, MAXPHYADDR 40; T5 remapped domain, Intel VT-d second stage; T6 remapped
 * domain, AMD-Vi v1.  Domains D0-D2 own T0-T2, D3 is pass-through, D4 and D5 own T5 and T6.
 * Input: [config:1][dev0 width:1][dev1 width:1], then ops (see run_op); config bits 0-1
 * pick the IOTLB geometry (1 set x 4 ways and 3-bit ASIDs .. 256 x 8), bits 2-5 the shapes
 * of T0, T5 and T6 (struct variant: levels, DMAR_PT_EXEC, DMAR_PT_1G, DMAR_PT_AD,
 * MAXPHYADDR), bits 6-7 the page sizes of T1, T5 and T6 (pgsize_masks, intersected with
 * dmar_pt_page_sizes()). */
#include "fuzz_common.h"
#include "iotlb_internal.h"

#define NT 7
#define ND 6
#define NDEV 2
#define NBIND 8
#define OPS_MAX 400
#define BATCH_MAX 64
#define LEAVES_OP_MAX 4096     /* a map cutting more 4 KiB leaves than this is skipped */
#define LEAVES_TOTAL_MAX 32768 /* and no map or unmap once the model holds this many */
#define NONE (-1)

/* ---- the model ------------------------------------------------------------------ */

struct leaf {
	uint64_t iova, pa;
	uint8_t lg2, prot;
};

struct mtable {
	struct leaf *v;
	size_t n, cap;
	unsigned kind, levels, pa_bits, upper, exec;
	unsigned iova;    /* an IOVA table (a domain's): [0, 2^va_bits), no canonical hole */
	unsigned va_bits; /* the input width */
	uint64_t pgsizes; /* what map() may use: the table's page sizes */
	uint64_t a_bit, d_bit; /* with DMAR_PT_AD: the format's accessed and dirty bits */
};

struct mbind {
	uint32_t pasid;
	int table;
};

struct mdom {
	dmar_domain_kind kind;
	int table; /* NONE for pass-through */
	struct mbind bind[NBIND];
	int nbind;
};

struct mdev {
	uint16_t rid;
	unsigned bits;
	int lead, members, has_state; /* has_state: the engine gave its adapter a state record */
	int dom, excl;                /* the adapter's state (meaningful on a lead) */
	uint64_t translations, faults[DMAR_FAULT_COUNT];
};

/* A world: the engine's objects and the model of them.  Creating and destroying one per
 * input would cost an RCU barrier per table destroyed (pgtable.h), up to 10 ms each with
 * liburcu's call_rcu thread, so a world lives on: each input starts from the state the
 * previous one's clean-up left (nothing mapped, bound, allocated or attached, fresh
 * devices, the IOTLB invalidated) and checks that clean-up as it goes.  What differs from a
 * fresh world is invisible to the model (ASID and domain numbers, where table pages lie).
 * FUZZ_FRESH_WORLD=1 in the environment builds a fresh world for every input. */
struct world {
	dmar_physmem *pm;
	dmar_iommu *iommu;
	dmar_domain *dom[ND];
	dmar_pgtable *ptab[2]; /* T3, T4 */
	unsigned variant;      /* config bits 2-5 */
	dmar_device *dev[NDEV];
	struct mtable t[NT];
	struct mdom d[ND];
	struct mdev v[NDEV];
	uint32_t alloc[16]; /* PASIDs handed out by dmar_pasid_alloc (a binding takes none) */
	int nalloc;
	uint32_t last_alloc;
	uint64_t fault_seq;
	unsigned pt1_sizes;
	int burned, destroyed; /* once per input: ASID rollover, domain destroy */
};

static struct world *cur;
#define S (*cur)

static size_t mt_upper(const struct mtable *t, uint64_t va) /* first leaf with iova > va */
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (t->v[mid].iova <= va)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static uint64_t leaf_last(const struct leaf *l)
{
	return l->iova + ((1ull << l->lg2) - 1);
}

static const struct leaf *mt_find(const struct mtable *t, uint64_t va)
{
	size_t i = mt_upper(t, va);

	return i && va <= leaf_last(&t->v[i - 1]) ? &t->v[i - 1] : NULL;
}

/* Index of the first leaf that meets [a, last], or t->n. */
static size_t mt_first_overlap(const struct mtable *t, uint64_t a, uint64_t last)
{
	size_t i = mt_upper(t, a);

	if (i && a <= leaf_last(&t->v[i - 1]))
		return i - 1;
	return i < t->n && t->v[i].iova <= last ? i : t->n;
}

static void mt_insert_at(struct mtable *t, size_t i, struct leaf l)
{
	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 64;
		t->v = realloc(t->v, t->cap * sizeof(*t->v));
		if (!t->v)
			abort();
	}
	memmove(&t->v[i + 1], &t->v[i], (t->n - i) * sizeof(*t->v));
	t->v[i] = l;
	t->n++;
}

static void mt_remove_at(struct mtable *t, size_t i)
{
	memmove(&t->v[i], &t->v[i + 1], (t->n - i - 1) * sizeof(*t->v));
	t->n--;
}

static void mt_reset(struct mtable *t)
{
	t->n = 0;
}

/* The engine's rule for an input range: page aligned, not empty, not wrapping, inside one
 * half of the input width (the upper one only when the format takes it), or for an IOVA
 * table inside the whole width. */
static dmar_status mt_range(const struct mtable *t, uint64_t iova, uint64_t size)
{
	uint64_t last;

	if (size == 0 || (iova | size) % 4096)
		return DMAR_E_INVALID;
	last = iova + size - 1;
	if (last < iova)
		return DMAR_E_RANGE;
	if (t->iova)
		return t->va_bits == 64 || last >> t->va_bits == 0 ? DMAR_OK : DMAR_E_RANGE;
	{
		const uint64_t half = 1ull << (t->va_bits - 1);

		if (last < half || (t->upper && iova >= 0 - half))
			return DMAR_OK;
	}
	return DMAR_E_RANGE;
}

/* What map() accepts (pgtable.h): x86-64 needs READ, VT-d and AMD-Vi READ or WRITE; USER,
 * and EXEC where execution follows read, hold anyway in the IOMMU formats and are taken;
 * PWT, PCD and GLOBAL exist only in x86-64, SNOOP only outside it; nothing else. */
static int mt_prot_ok(const struct mtable *t, unsigned prot)
{
	const unsigned x86_only = DMAR_PROT_PWT | DMAR_PROT_PCD | DMAR_PROT_GLOBAL;

	if (prot & ~(DMAR_ACCESS_ALL | x86_only | DMAR_PROT_SNOOP))
		return 0;
	if (t->kind == DMAR_PT_X86_64)
		return (prot & DMAR_PROT_READ) && !(prot & DMAR_PROT_SNOOP);
	return (prot & (DMAR_PROT_READ | DMAR_PROT_WRITE)) && !(prot & x86_only);
}

/* What a walk reports for a page mapped with @prot: the prot given, plus USER in the IOMMU
 * formats and EXEC = READ where execution follows read (AMD-Vi, VT-d without DMAR_PT_EXEC). */
static unsigned mt_reported(const struct mtable *t, unsigned prot)
{
	if (t->kind == DMAR_PT_X86_64)
		return prot;
	prot |= DMAR_PROT_USER;
	if (t->kind == DMAR_PT_AMDV1 || !t->exec)
		prot = (prot & ~DMAR_PROT_EXEC) | ((prot & DMAR_PROT_READ) ? DMAR_PROT_EXEC : 0);
	return prot;
}

/* Whether 2^@lg2 is the span of an entry at some level (4 KiB, 2 MiB, 1 GiB, ...), rather
 * than an AMD-Vi size between two of them. */
static int level_size(unsigned lg2)
{
	return (lg2 - 12) % 9 == 0;
}

/* log2 of the leaf a map puts at @iova -> @pa with @left bytes to go: the largest of the
 * table's page sizes that both addresses are aligned to and that fits. */
static unsigned leaf_lg2(const struct mtable *t, uint64_t iova, uint64_t pa, uint64_t left)
{
	for (unsigned lg2 = 63; lg2 > 12; lg2--) {
		const uint64_t s = 1ull << lg2;

		if ((t->pgsizes & s) && !((iova | pa) & (s - 1)) && left >= s)
			return lg2;
	}
	return 12;
}

/* The status dmar_pgtable_map() must answer; -1 when the harness skips the call. */
static int mt_map(struct mtable *t, uint64_t iova, uint64_t pa, uint64_t size, unsigned prot,
		  int apply)
{
	dmar_status st;
	uint64_t left, cur, p;
	size_t count = 0;

	if (!mt_prot_ok(t, prot) || pa % 4096)
		return DMAR_E_INVALID;
	st = mt_range(t, iova, size);
	if (st != DMAR_OK)
		return st;
	if (pa >= (1ull << t->pa_bits) || size > (1ull << t->pa_bits) - pa)
		return DMAR_E_RANGE;
	/* (counted before the overlap: the writer plans a map that fails as long as one that
	 * does not, so a huge one is skipped either way) */
	for (left = size, cur = iova, p = pa; left && count <= LEAVES_OP_MAX; count++) {
		const uint64_t s = 1ull << leaf_lg2(t, cur, p, left);

		cur += s;
		p += s;
		left -= s;
	}
	if (count > LEAVES_OP_MAX || t->n + count > LEAVES_TOTAL_MAX)
		return -1;
	if (mt_first_overlap(t, iova, iova + size - 1) != t->n)
		return DMAR_E_EXISTS;
	if (!apply)
		return DMAR_OK;
	for (left = size, cur = iova, p = pa; left;) {
		const unsigned lg2 = leaf_lg2(t, cur, p, left);

		mt_insert_at(t, mt_upper(t, cur),
			     (struct leaf){ .iova = cur, .pa = p, .lg2 = (uint8_t)lg2,
					    .prot = (uint8_t)prot });
		cur += 1ull << lg2;
		p += 1ull << lg2;
		left -= 1ull << lg2;
	}
	return DMAR_OK;
}

/* Unmap [iova, iova + size): leaves inside go, a leaf met in part is split first: an AMD-Vi
 * leaf repeated over several slots into one leaf of the level's span per slot, a leaf of a
 * level's span into 512 of the next size down.  Returns the bytes that were mapped. */
static uint64_t mt_unmap(struct mtable *t, uint64_t iova, uint64_t size)
{
	const uint64_t last = iova + size - 1;
	uint64_t done = 0;
	size_t i;

	while ((i = mt_first_overlap(t, iova, last)) != t->n) {
		const struct leaf l = t->v[i];
		/* the pieces: the span of the level the leaf is at, or the next size down */
		const unsigned clg2 = level_size(l.lg2) ? l.lg2 - 9 : 12 + (l.lg2 - 12) / 9 * 9;

		mt_remove_at(t, i);
		if (l.iova >= iova && leaf_last(&l) <= last) {
			done += 1ull << l.lg2;
			continue;
		}
		for (uint64_t k = 0; k < 1ull << (l.lg2 - clg2); k++) {
			const uint64_t cs = 1ull << clg2;

			mt_insert_at(t, i + k,
				     (struct leaf){ .iova = l.iova + k * cs, .pa = l.pa + k * cs,
						    .lg2 = (uint8_t)clg2, .prot = l.prot });
		}
	}
	return done;
}

/* What a walk of table @t answers (pgtable.h, S7). */
static void mt_translate(const struct mtable *t, uint64_t iova, unsigned access, dmar_result *r)
{
	const struct leaf *l;
	unsigned prot;

	memset(r, 0, sizeof(*r));
	if (t->iova) {
		if (t->va_bits < 64 && iova >> t->va_bits) {
			r->fault = DMAR_FAULT_ADDR_WIDTH;
			return;
		}
	} else {
		const uint64_t top = iova >> (t->va_bits - 1);

		if (top && top != ~0ull >> (t->va_bits - 1)) {
			r->fault = DMAR_FAULT_NONCANONICAL;
			return;
		}
		if (top && !t->upper) {
			r->fault = DMAR_FAULT_ADDR_WIDTH;
			return;
		}
	}
	l = mt_find(t, iova);
	if (!l) {
		r->fault = DMAR_FAULT_NOT_PRESENT;
		return;
	}
	prot = mt_reported(t, l->prot);
	if ((access & DMAR_ACCESS_READ) && !(prot & DMAR_PROT_READ))
		r->fault = DMAR_FAULT_READ;
	else if ((access & DMAR_ACCESS_WRITE) && !(prot & DMAR_PROT_WRITE))
		r->fault = DMAR_FAULT_WRITE;
	else if ((access & DMAR_ACCESS_USER) && !(prot & DMAR_PROT_USER))
		r->fault = DMAR_FAULT_USER;
	else if ((access & DMAR_ACCESS_EXEC) && !(prot & DMAR_PROT_EXEC))
		r->fault = DMAR_FAULT_EXEC;
	else {
		r->pa = l->pa + (iova - l->iova);
		r->page_lg2 = l->lg2;
		r->prot = (uint16_t)prot;
	}
}

static int bind_find(const struct mdom *d, uint32_t pasid)
{
	for (int i = 0; i < d->nbind; i++)
		if (d->bind[i].pasid == pasid)
			return i;
	return NONE;
}

static int pasid_ok(uint32_t pasid)
{
	return pasid != 0 && pasid < (1u << 20);
}

/* What a device request answers (iommu.h: the adapter's state, S14, S18, S2). */
static void model_request(int dv, const dmar_request *q, dmar_result *r)
{
	const struct mdev *lead = &S.v[S.v[dv].lead];
	const uint64_t limit = S.v[dv].bits >= 64 ? ~0ull : (1ull << S.v[dv].bits) - 1;
	const struct mdom *d;
	int b;

	memset(r, 0, sizeof(*r));
	if (lead->dom == NONE) {
		r->fault = DMAR_FAULT_NO_DOMAIN;
		return;
	}
	if (lead->excl) {
		r->fault = DMAR_FAULT_EXCLUSIVE;
		return;
	}
	if (q->iova > limit) {
		r->fault = DMAR_FAULT_DEVICE_WIDTH;
		return;
	}
	d = &S.d[lead->dom];
	if (q->pasid == DMAR_NO_PASID) {
		if (d->kind == DMAR_DOMAIN_PASSTHROUGH) {
			r->pa = q->iova;
			r->page_lg2 = 12;
			r->prot = DMAR_PROT_READ | DMAR_PROT_WRITE | DMAR_PROT_EXEC | DMAR_PROT_USER;
			return;
		}
		mt_translate(&S.t[d->table], q->iova, q->access, r);
		return;
	}
	b = pasid_ok(q->pasid) ? bind_find(d, q->pasid) : NONE;
	if (b == NONE) {
		r->fault = DMAR_FAULT_PASID;
		return;
	}
	mt_translate(&S.t[d->bind[b].table], q->iova, q->access, r);
}

/* ---- engine against model ---------------------------------------------------------- */

static void same_result(const dmar_result *got, const dmar_result *want, uint64_t iova)
{
	if (got->fault != want->fault || got->pa != want->pa || got->page_lg2 != want->page_lg2 ||
	    got->prot != want->prot || (got->flags & ~(uint32_t)DMAR_RESULT_HIT) ||
	    (got->fault && got->flags))
		FZ_FAIL("iova 0x%" PRIx64 ": engine: fault %s pa 0x%" PRIx64 " lg2 %u prot 0x%x "
			"flags 0x%x; model: fault %s pa 0x%" PRIx64 " lg2 %u prot 0x%x",
			iova, dmar_fault_str((dmar_fault)got->fault), got->pa, got->page_lg2,
			got->prot, got->flags, dmar_fault_str((dmar_fault)want->fault), want->pa,
			want->page_lg2, want->prot);
}

/* The faults of @n requests just translated: one record each, in order (S29). */
static void check_faults(int dv, const dmar_request *q, const dmar_result *want, size_t n)
{
	dmar_fault_record rec[BATCH_MAX + 1];
	size_t got = dmar_faultq_drain(dmar_iommu_faults(S.iommu), rec, BATCH_MAX + 1), k = 0;

	for (size_t i = 0; i < n; i++) {
		S.v[dv].translations++;
		if (want[i].fault == DMAR_FAULT_NONE)
			continue;
		S.v[dv].faults[want[i].fault]++;
		FZ_CHECK(k < got);
		FZ_CHECK_EQ(rec[k].seq, ++S.fault_seq);
		FZ_CHECK_EQ(rec[k].addr, q[i].iova);
		FZ_CHECK_EQ(rec[k].pasid, q[i].pasid);
		FZ_CHECK_EQ(rec[k].requester, S.v[dv].rid);
		FZ_CHECK_EQ(rec[k].access, q[i].access);
		FZ_CHECK_EQ(rec[k].reason, want[i].fault);
		k++;
	}
	FZ_CHECK_EQ(got, k);
}

static void translate_one(int dv, uint64_t iova, unsigned access, uint32_t pasid)
{
	const dmar_request q = { .iova = iova, .access = access, .pasid = pasid };
	dmar_result got, want;
	dmar_status st = dmar_device_translate(S.dev[dv], &q, &got);

	model_request(dv, &q, &want);
	FZ_CHECK_ST(st, want.fault ? DMAR_E_FAULT : DMAR_OK);
	same_result(&got, &want, iova);
	check_faults(dv, &q, &want, 1);
}

/* Every route from a device to table @t: (device, no PASID) when its adapter's domain owns
 * @t, (device, PASID) for each binding of @t in that domain.  Translate @iova through each. */
static void probe_routes(int t, uint64_t iova)
{
	for (int dv = 0; dv < NDEV; dv++) {
		const struct mdev *lead = &S.v[S.v[dv].lead];
		const struct mdom *d;

		if (lead->dom == NONE || lead->excl)
			continue;
		d = &S.d[lead->dom];
		if (d->table == t)
			translate_one(dv, iova, DMAR_ACCESS_READ, DMAR_NO_PASID);
		for (int b = 0; b < d->nbind; b++)
			if (d->bind[b].table == t)
				translate_one(dv, iova, DMAR_ACCESS_READ, d->bind[b].pasid);
	}
}

static void probe_range(int t, uint64_t iova, uint64_t size)
{
	if (!size || size % 4096)
		return;
	probe_routes(t, iova);
	probe_routes(t, iova + size / 2);
	probe_routes(t, iova + size - 4096);
}

/* The flush hook of the process tables: invalidate the range for every binding of the
 * table, as an embedder that changes a bound table must (S28). */
static void ptab_flush(void *ctx, dmar_iova_t iova, uint64_t size)
{
	const int t = (int)(intptr_t)ctx;

	for (int d = 0; d < ND; d++)
		for (int b = 0; b < S.d[d].nbind; b++)
			if (S.d[d].bind[b].table == t)
				FZ_CHECK_ST(dmar_domain_invalidate_pasid(S.dom[d], S.d[d].bind[b].pasid,
									 iova, size),
					    DMAR_OK);
}

/* The table each domain owns (NONE: pass-through), and the domain that owns each table
 * (NONE: the process tables T3 and T4, bound to PASIDs). */
static const int dom_table[ND] = { 0, 1, 2, NONE, 5, 6 };
static const int table_dom[NT] = { 0, 1, 2, NONE, NONE, 4, 5 };

static dmar_pgtable *table_pt(int t)
{
	return table_dom[t] == NONE ? S.ptab[t - 3] : dmar_domain_pgtable(S.dom[table_dom[t]]);
}

/* The shapes of T0, T5 and T6 (config bits 2-5): T0's flags; T5's levels, flags and
 * MAXPHYADDR; T6's. */
static const struct variant {
	unsigned x86_flags;
	unsigned vtd_levels, vtd_flags, vtd_pa_bits;
	unsigned amd_levels, amd_flags, amd_pa_bits;
} variants[16] = {
#define EX DMAR_PT_EXEC
#define G1 DMAR_PT_1G
#define AD DMAR_PT_AD
	{ 0, 4, 0, 52, 4, 0, 52 },	       { AD, 4, EX | G1, 52, 6, 0, 52 },
	{ 0, 3, 0, 39, 3, AD, 48 },	       { 0, 5, EX | AD, 52, 5, 0, 52 },
	{ AD, 4, G1 | AD, 48, 2, 0, 40 },      { 0, 3, EX, 52, 1, AD, 52 },
	{ 0, 5, G1, 40, 6, AD, 52 },	       { AD, 4, EX | G1 | AD, 52, 4, AD, 46 },
	{ 0, 4, 0, 46, 5, AD, 48 },	       { 0, 3, G1 | AD, 52, 6, 0, 32 },
	{ AD, 5, 0, 52, 3, 0, 52 },	       { 0, 4, EX, 32, 4, 0, 40 },
	{ 0, 5, EX | G1 | AD, 48, 2, AD, 52 }, { AD, 3, EX | AD, 52, 1, 0, 39 },
	{ 0, 4, AD, 52, 5, 0, 52 },	       { 0, 3, EX | G1, 46, 6, AD, 48 },
#undef EX
#undef G1
#undef AD
};

/* The page sizes of T1, T5 and T6 (config bits 6-7), intersected with the format's: all;
 * 4 KiB only; 2 MiB and small AMD-Vi sizes of several slots; 1 GiB, 512 GiB and larger ones. */
static const uint64_t pgsize_masks[4] = {
	~0ull,
	1ull << 12,
	(1ull << 12) | (1ull << 13) | (1ull << 16) | (1ull << 20) | (1ull << 21),
	(1ull << 12) | (1ull << 14) | (1ull << 22) | (1ull << 30) | (1ull << 39) | (1ull << 40),
};

/* The input width of a format (pgtable.h). */
static unsigned va_bits_of(const dmar_pt_format *fmt)
{
	if (fmt->kind == DMAR_PT_X86_64)
		return fmt->levels == 5 ? 57 : 48;
	return 12 + 9 * fmt->levels > 64 ? 64 : 12 + 9 * fmt->levels;
}

/* Sizes that are the span of an entry at some level (4 KiB, 2 MiB, 1 GiB, 512 GiB, 2^48). */
#define LEVEL_SIZES                                                                     \
	((1ull << 12) | (1ull << 21) | (1ull << 30) | (1ull << 39) | (1ull << 48))

static void domain_create(int d)
{
	const struct variant *v = &variants[S.variant];
	const int t = dom_table[d];
	dmar_pgtable_config pc;
	uint64_t mask = ~0ull;
	dmar_status st;

	dmar_pgtable_config_default(&pc);
	S.d[d].nbind = 0;
	S.d[d].table = t;
	S.d[d].kind = d == 2   ? DMAR_DOMAIN_IDENTITY
		      : d == 3 ? DMAR_DOMAIN_PASSTHROUGH
			       : DMAR_DOMAIN_REMAPPED;
	switch (d) {
	case 0:
		pc.format.flags = v->x86_flags;
		break;
	case 1:
		pc.format.levels = 5;
		mask = pgsize_masks[S.pt1_sizes];
		break;
	case 4:
		pc.format = (dmar_pt_format){ .kind = DMAR_PT_VTD_SS, .levels = v->vtd_levels,
					      .flags = v->vtd_flags, .pa_bits = v->vtd_pa_bits };
		mask = pgsize_masks[S.pt1_sizes];
		break;
	case 5:
		pc.format = (dmar_pt_format){ .kind = DMAR_PT_AMDV1, .levels = v->amd_levels,
					      .flags = v->amd_flags, .pa_bits = v->amd_pa_bits };
		mask = pgsize_masks[S.pt1_sizes];
		break;
	default:
		break;
	}
	/* what the format has, of what the input asks for (4 KiB always) */
	pc.pgsizes = dmar_pt_page_sizes(&pc.format) & (mask | 1ull << 12);
	st = dmar_domain_create(S.iommu, S.d[d].kind, &pc, &S.dom[d]);
	if (st == DMAR_E_INVALID && t != NONE) {
		/* a size the writer refuses (pgtable.h promises every one of
		 * dmar_pt_page_sizes()): said once, then the levels' own sizes, then 4 KiB */
		static int said;
		const uint64_t want = pc.pgsizes;

		pc.pgsizes &= LEVEL_SIZES;
		st = dmar_domain_create(S.iommu, S.d[d].kind, &pc, &S.dom[d]);
		if (st == DMAR_E_INVALID) {
			pc.pgsizes = 1ull << 12;
			st = dmar_domain_create(S.iommu, S.d[d].kind, &pc, &S.dom[d]);
		}
		if (!said++)
			fprintf(stderr, "fuzz_map: a table of kind %u, %u levels, refused page sizes "
				"0x%" PRIx64 "; made with 0x%" PRIx64 "\n", pc.format.kind,
				pc.format.levels, want, pc.pgsizes);
	}
	FZ_CHECK_ST(st, DMAR_OK);
	if (t != NONE) {
		struct mtable *m = &S.t[t];

		mt_reset(m);
		m->kind = pc.format.kind;
		m->levels = pc.format.levels;
		m->pa_bits = pc.format.pa_bits ? pc.format.pa_bits : 52;
		m->exec = (pc.format.flags & DMAR_PT_EXEC) != 0;
		m->upper = 0;
		m->iova = 1;
		m->va_bits = va_bits_of(&pc.format);
		m->pgsizes = pc.pgsizes;
		m->a_bit = m->d_bit = 0;
		if (pc.format.flags & DMAR_PT_AD)
			fz_ad_bits(m->kind, &m->a_bit, &m->d_bit);
	}
}

static void device_create(int dv)
{
	struct mdev *m = &S.v[dv];

	FZ_CHECK_ST(dmar_device_create(S.iommu, m->rid, m->bits, &S.dev[dv]), DMAR_OK);
	m->lead = dv;
	m->members = 0;
	m->has_state = 0;
	m->dom = NONE;
	m->excl = 0;
	m->translations = 0;
	memset(m->faults, 0, sizeof(m->faults));
}

static int attached(int d) /* adapters whose state names domain @d */
{
	int n = 0;

	for (int dv = 0; dv < NDEV; dv++)
		n += S.v[dv].lead == dv && S.v[dv].has_state && S.v[dv].dom == d;
	return n;
}

static int alloc_find(uint32_t pasid)
{
	for (int i = 0; i < S.nalloc; i++)
		if (S.alloc[i] == pasid)
			return i;
	return NONE;
}

static int bound_anywhere(uint32_t pasid)
{
	for (int d = 0; d < ND; d++)
		if (pasid_ok(pasid) && bind_find(&S.d[d], pasid) != NONE)
			return 1;
	return 0;
}

static uint32_t pick_pasid(struct fz *f)
{
	static const uint32_t p[8] = { DMAR_NO_PASID, 1, 2, 3, 0, 1u << 20, 0xfffff, DMAR_NO_PASID };
	const uint8_t s = fz_u8(f);

	return (s & 8) ? S.last_alloc : p[s & 7];
}

/* ---- the ops ----------------------------------------------------------------------- */

static void op_map_at(struct fz *f, int t, uint64_t iova, uint64_t size)
{
	const uint8_t ps = fz_u8(f), pb = fz_u8(f);
	const int d = table_dom[t];
	uint64_t pa;
	unsigned prot;
	int want;
	dmar_status st;

	if (ps < 96 || t == 2)
		pa = iova; /* what an identity domain needs (S8) */
	else
		pa = (uint64_t)fz_u32(f) << 12 | (uint64_t)(ps & 0x1f) << 44;
	if (ps == 255)
		pa |= 0x800; /* unaligned: invalid */
	if (pb == 0xff)
		prot = 0x100 | DMAR_PROT_READ; /* an unknown bit: invalid */
	else if (pb == 0xfe) /* a control the format lacks: invalid */
		prot = DMAR_PROT_READ |
		       (S.t[t].kind == DMAR_PT_X86_64 ? DMAR_PROT_SNOOP : DMAR_PROT_PWT);
	else if (S.t[t].kind == DMAR_PT_X86_64) /* readable, any of bits 1-6 */
		prot = (pb & 0x7e) | DMAR_PROT_READ;
	else /* WRITE, EXEC, USER, SNOOP (bit 5), write-only (bits 4 and 6: refused with no
		WRITE either) */
		prot = (pb & 0x0e) | ((pb & 0x20) ? DMAR_PROT_SNOOP : 0) |
		       ((pb & 0x50) == 0x50 ? 0 : DMAR_PROT_READ);
	if (S.t[t].n >= LEAVES_TOTAL_MAX)
		return;
	want = mt_map(&S.t[t], iova, pa, size, prot, 0);
	if (want < 0)
		return;
	if (t == 2 && ps == 254)
		pa += 4096; /* identity with iova != pa: invalid (S8) */
	if (d != NONE) {
		if (S.d[d].kind == DMAR_DOMAIN_IDENTITY && iova != pa)
			want = DMAR_E_INVALID;
		probe_range(t, iova, size);
		st = dmar_domain_map(S.dom[d], iova, pa, size, prot);
	} else {
		probe_range(t, iova, size);
		st = dmar_pgtable_map(S.ptab[t - 3], iova, pa, size, prot);
	}
	FZ_CHECK_ST(st, (dmar_status)want);
	if (st == DMAR_OK) {
		(void)mt_map(&S.t[t], iova, pa, size, prot, 1);
		probe_range(t, iova, size);
	}
	if (t == 0 && (ps & 1)) /* the pass-through domain takes no mappings */
		FZ_CHECK_ST(dmar_domain_map(S.dom[3], iova, iova, 4096, DMAR_PROT_READ),
			    DMAR_E_NOT_SUPPORTED);
}

static void op_map(struct fz *f, int t)
{
	const uint64_t iova = fz_addr(f), size = fz_size(f);

	op_map_at(f, t, iova, size);
}

static void op_unmap_at(int t, uint64_t iova, uint64_t size)
{
	const dmar_status want = mt_range(&S.t[t], iova, size);
	uint64_t done = 1, want_done = 0;
	dmar_status st;

	if (S.t[t].n >= LEAVES_TOTAL_MAX)
		return;
	probe_range(t, iova, size);
	if (table_dom[t] != NONE)
		st = dmar_domain_unmap(S.dom[table_dom[t]], iova, size, &done);
	else
		st = dmar_pgtable_unmap(S.ptab[t - 3], iova, size, &done);
	FZ_CHECK_ST(st, want);
	if (st == DMAR_OK)
		want_done = mt_unmap(&S.t[t], iova, size);
	FZ_CHECK_EQ(done, want_done);
	probe_range(t, iova, size); /* S7, S28: gone, through every route, cached or not */
	if (t == 0 && (iova & 4096)) {
		FZ_CHECK_ST(dmar_domain_unmap(S.dom[3], iova, 4096, &done), DMAR_E_NOT_SUPPORTED);
		FZ_CHECK_EQ(done, 0);
	}
}

static void op_unmap(struct fz *f, int t)
{
	const uint64_t iova = fz_addr(f), size = fz_size(f);

	op_unmap_at(t, iova, size);
}

/* Ranges at the top of the address spaces: a base just below 2^47, 2^48, 2^56, 2^57 or 2^64
 * and a size that ends exactly at one of those or runs a little past it (past 2^64: a sum
 * that wraps), so every entry point's range check meets its edges (range.h). */
static void fz_edge_range(struct fz *f, uint64_t *iova, uint64_t *size)
{
	static const uint64_t top[5] = { 1ull << 47, 1ull << 48, 1ull << 56, 1ull << 57, 0 };
	const uint8_t a = fz_u8(f), b = fz_u8(f);
	const uint64_t t = top[a % 5], end = top[b % 5];
	static const uint64_t over[4] = { 0, 4096, 1ull << 21, 1ull << 30 };

	*iova = t - 4096 * (1 + (uint64_t)((a >> 3) & 15));
	*size = end - *iova + over[(b >> 3) & 3]; /* (wraps when end is below iova) */
	if (b & 0x80)
		*size = ~0xfffull >> ((b >> 5) & 3); /* 2^64 - 4096, 2^63 ..., any base */
}

/* S28 as an emulated IOMMU's guest does it: a 2 MiB or 1 GiB leaf of a process table, warm
 * in the IOTLB, is pointed elsewhere without the table's flush hook, and then ONE page of
 * it is invalidated for every PASID bound to the table.  Every page of the leaf must then
 * translate to the new frame (iotlb.h: a large leaf goes as a whole). */
static void op_large_leaf(struct fz *f)
{
	const uint8_t b = fz_u8(f);
	const int t = 3 + (b & 1);
	const unsigned lg2 = (b & 2) ? 30 : 21;
	const uint64_t span = 1ull << lg2, base = fz_addr(f) & ~(span - 1);
	const uint64_t pa1 = (uint64_t)fz_u16(f) << 30, pa2 = pa1 + (1ull << 36);
	const uint64_t page = fz_u32(f) % (span / 4096) * 4096;

	if (S.t[t].n >= LEAVES_TOTAL_MAX - 2 || mt_range(&S.t[t], base, span) != DMAR_OK ||
	    pa2 + span > (1ull << S.t[t].pa_bits))
		return;
	op_unmap_at(t, base, span);
	if (mt_map(&S.t[t], base, pa1, span, DMAR_PROT_READ, 1) != DMAR_OK)
		return;
	FZ_CHECK_ST(dmar_pgtable_map(S.ptab[t - 3], base, pa1, span, DMAR_PROT_READ), DMAR_OK);
	probe_range(t, base, span); /* warm: first, middle and last page */
	probe_routes(t, base + page);
	dmar_pgtable_set_flush(S.ptab[t - 3], NULL, NULL);
	FZ_CHECK_ST(dmar_pgtable_unmap(S.ptab[t - 3], base, span, NULL), DMAR_OK);
	FZ_CHECK_ST(dmar_pgtable_map(S.ptab[t - 3], base, pa2, span, DMAR_PROT_READ), DMAR_OK);
	dmar_pgtable_set_flush(S.ptab[t - 3], ptab_flush, (void *)(intptr_t)t);
	(void)mt_unmap(&S.t[t], base, span);
	(void)mt_map(&S.t[t], base, pa2, span, DMAR_PROT_READ, 1);
	ptab_flush((void *)(intptr_t)t, base + page, 4096);
	probe_range(t, base, span);
	probe_routes(t, base + page);
}

static void op_translate(struct fz *f, int dv, int t)
{
	const uint32_t pasid = pick_pasid(f);
	const uint64_t iova = fz_addr(f);
	const uint8_t acc = fz_u8(f);
	const uint64_t va = iova | (uint64_t)(acc >> 4) << 8;

	if ((acc & 0xf0) == 0xf0) { /* an unknown access bit: a clear status, nothing counted */
		const dmar_request q = { .iova = va, .access = 0x10 | (acc & 0xf), .pasid = pasid };
		dmar_result r;
		dmar_walk_result w;

		FZ_CHECK_ST(dmar_device_translate(S.dev[dv], &q, &r), DMAR_E_INVALID);
		FZ_CHECK_ST(dmar_device_translate_batch(S.dev[dv], &q, &r, 1, NULL), DMAR_E_INVALID);
		FZ_CHECK_ST(dmar_pgtable_walk(dmar_domain_pgtable(S.dom[0]), va, q.access, &w),
			    DMAR_E_INVALID);
		check_faults(dv, &q, &(dmar_result){ 0 }, 0);
		return;
	}
	translate_one(dv, va, acc & 0xf, pasid);
	{ /* and the table itself, uncached */
		dmar_pgtable *pt = table_pt(t);
		dmar_walk_result w;
		dmar_result want;
		dmar_status st = dmar_pgtable_walk(pt, va, acc & 0xf, &w);

		mt_translate(&S.t[t], va, acc & 0xf, &want);
		FZ_CHECK_ST(st, want.fault ? DMAR_E_FAULT : DMAR_OK);
		same_result(&(dmar_result){ .pa = w.pa, .fault = (uint8_t)w.fault,
					    .page_lg2 = w.page_lg2, .prot = w.prot },
			    &want, va);
		/* with DMAR_PT_AD the leaf has its accessed bit now, and dirty after a write */
		if (!want.fault && S.t[t].a_bit) {
			FZ_CHECK(w.pte & S.t[t].a_bit);
			if (acc & DMAR_ACCESS_WRITE)
				FZ_CHECK(w.pte & S.t[t].d_bit);
		}
	}
}

static void op_batch(struct fz *f, int dv)
{
	const size_t n = 1 + fz_u8(f) % BATCH_MAX;
	dmar_request q[BATCH_MAX];
	dmar_result got[BATCH_MAX], want[BATCH_MAX];
	size_t nf = 0, want_nf = 0;
	uint32_t pasid = DMAR_NO_PASID;

	for (size_t i = 0; i < n; i++) {
		const uint8_t s = fz_u8(f);
		const uint64_t iova = fz_addr(f);

		if (s & 0x80) /* runs of one PASID, as real traffic has */
			pasid = pick_pasid(f);
		q[i] = (dmar_request){ .iova = iova | (uint64_t)(s & 0xf) << 8,
				       .access = (s >> 4) & 7, .pasid = pasid };
		model_request(dv, &q[i], &want[i]);
		want_nf += want[i].fault != DMAR_FAULT_NONE;
	}
	FZ_CHECK_ST(dmar_device_translate_batch(S.dev[dv], q, got, n, &nf), DMAR_OK);
	FZ_CHECK_EQ(nf, want_nf);
	for (size_t i = 0; i < n; i++)
		same_result(&got[i], &want[i], q[i].iova);
	check_faults(dv, q, want, n);
}

static void op_invalidate(struct fz *f, int how)
{
	const int d = fz_u8(f) % ND;
	const uint32_t pasid = pick_pasid(f);
	const uint64_t iova = fz_addr(f), size = how == 2 ? 1ull << 57 : fz_size(f);
	dmar_status want;

	switch (how) {
	case 0:
		dmar_iotlb_invalidate_all(dmar_iommu_iotlb(S.iommu));
		return;
	case 4:
		op_large_leaf(f);
		return;
	case 5:
	case 6: { /* map or unmap at the edges */
		const int t = (int)((iova >> 12) % NT);
		uint64_t e, n;

		fz_edge_range(f, &e, &n);
		if (how == 5)
			op_map_at(f, t, e, n);
		else
			op_unmap_at(t, e, n);
		return;
	}
	case 7: { /* a PASID's range at the edges */
		uint64_t e, n;

		fz_edge_range(f, &e, &n);
		/* (the range is checked before the binding, iommu.h) */
		want = !pasid_ok(pasid) || n == 0 || e + (n - 1) < e ? DMAR_E_INVALID
		       : bind_find(&S.d[d], pasid) == NONE	       ? DMAR_E_NOT_FOUND
								       : DMAR_OK;
		FZ_CHECK_ST(dmar_domain_invalidate_pasid(S.dom[d], pasid, e, n), want);
		return;
	}
	case 3: { /* run the ASIDs out: a rollover flushes everything (once per input) */
		dmar_iotlb_stats before, now;

		if (S.burned++)
			return;
		dmar_iotlb_get_stats(dmar_iommu_iotlb(S.iommu), &before);
		for (unsigned i = 1; i <= (1u << 17); i++) {
			dmar_iotlb_invalidate_all(dmar_iommu_iotlb(S.iommu));
			if (i % 256)
				continue;
			dmar_iotlb_get_stats(dmar_iommu_iotlb(S.iommu), &now);
			/* one began, or one begun earlier is still finishing (its RCU callback) */
			if (now.asid_rollovers != before.asid_rollovers ||
			    __atomic_load_n(&dmar_iommu_iotlb(S.iommu)->rollover_pending,
					    __ATOMIC_ACQUIRE))
				return;
		}
		FZ_FAIL("no ASID rollover after 2^17 invalidations");
	}
	default:
		if (!pasid_ok(pasid) || size == 0 || iova + size - 1 < iova)
			want = DMAR_E_INVALID;
		else if (bind_find(&S.d[d], pasid) == NONE)
			want = DMAR_E_NOT_FOUND;
		else
			want = DMAR_OK;
		FZ_CHECK_ST(dmar_domain_invalidate_pasid(S.dom[d], pasid, iova, size), want);
	}
}

static void op_attach(struct fz *f, int dv)
{
	const uint8_t b = fz_u8(f);
	struct mdev *lead = &S.v[S.v[dv].lead];
	const int d = b % (ND + 1); /* ND: no domain */

	if (b & 0x80) {
		FZ_CHECK_ST(dmar_device_detach(S.dev[dv]), lead->excl ? DMAR_E_BUSY : DMAR_OK);
		if (!lead->excl) {
			lead->dom = NONE;
			lead->has_state = 1;
		}
		return;
	}
	if (d == ND) {
		FZ_CHECK_ST(dmar_device_attach(S.dev[dv], NULL), DMAR_E_INVALID);
		return;
	}
	FZ_CHECK_ST(dmar_device_attach(S.dev[dv], S.dom[d]), lead->excl ? DMAR_E_BUSY : DMAR_OK);
	if (!lead->excl) {
		lead->dom = d;
		lead->has_state = 1;
	}
}

/* S18: begin / switch / end, or the whole window with a request refused inside it. */
static void op_exclusive(struct fz *f, int dv, int how)
{
	struct mdev *lead = &S.v[S.v[dv].lead];
	const uint8_t b = fz_u8(f);
	const int d = b % (ND + 1);
	const uint64_t iova = fz_addr(f);

	switch (how) {
	case 0:
		FZ_CHECK_ST(dmar_device_begin_exclusive(S.dev[dv]), lead->excl ? DMAR_E_BUSY : DMAR_OK);
		lead->excl = 1;
		lead->has_state = 1;
		break;
	case 1:
		if (d == ND) {
			FZ_CHECK_ST(dmar_device_switch_domain(S.dev[dv], NULL), DMAR_E_INVALID);
			break;
		}
		FZ_CHECK_ST(dmar_device_switch_domain(S.dev[dv], S.dom[d]),
			    lead->excl ? DMAR_OK : DMAR_E_BUSY);
		if (lead->excl)
			lead->dom = d;
		break;
	case 2:
		FZ_CHECK_ST(dmar_device_end_exclusive(S.dev[dv]), lead->excl ? DMAR_OK : DMAR_E_BUSY);
		lead->excl = 0;
		break;
	default:
		if (lead->excl)
			break;
		translate_one(dv, iova, DMAR_ACCESS_READ, DMAR_NO_PASID); /* warm */
		FZ_CHECK_ST(dmar_device_begin_exclusive(S.dev[dv]), DMAR_OK);
		lead->excl = 1;
		lead->has_state = 1;
		translate_one(dv, iova, DMAR_ACCESS_READ, DMAR_NO_PASID); /* refused */
		FZ_CHECK_ST(dmar_device_attach(S.dev[dv], S.dom[0]), DMAR_E_BUSY);
		if (d < ND) {
			FZ_CHECK_ST(dmar_device_switch_domain(S.dev[dv], S.dom[d]), DMAR_OK);
			lead->dom = d;
		}
		FZ_CHECK_ST(dmar_device_end_exclusive(S.dev[dv]), DMAR_OK);
		lead->excl = 0;
		translate_one(dv, iova, DMAR_ACCESS_READ, DMAR_NO_PASID); /* the new domain's */
		break;
	}
}

static void op_bind(struct fz *f)
{
	const uint8_t b = fz_u8(f);
	const int d = b % ND, t = 3 + ((b >> 2) & 1);
	const uint32_t pasid = pick_pasid(f);
	struct mdom *m = &S.d[d];
	const int i = pasid_ok(pasid) ? bind_find(m, pasid) : NONE;

	if (b & 0x80) {
		FZ_CHECK_ST(dmar_domain_unbind_pasid(S.dom[d], pasid),
			    !pasid_ok(pasid) ? DMAR_E_INVALID : i == NONE ? DMAR_E_NOT_FOUND : DMAR_OK);
		if (i != NONE)
			m->bind[i] = m->bind[--m->nbind];
		return;
	}
	if (pasid_ok(pasid) && i == NONE && m->nbind == NBIND)
		return; /* the model's table is full */
	FZ_CHECK_ST(dmar_domain_bind_pasid(S.dom[d], pasid, dmar_pgtable_root(S.ptab[t - 3]),
					   dmar_pgtable_format(S.ptab[t - 3])),
		    !pasid_ok(pasid) ? DMAR_E_INVALID : i != NONE ? DMAR_E_EXISTS : DMAR_OK);
	if (pasid_ok(pasid) && i == NONE)
		m->bind[m->nbind++] = (struct mbind){ .pasid = pasid, .table = t };
}

static void op_pasid(struct fz *f)
{
	const uint8_t b = fz_u8(f);
	const uint32_t pasid = pick_pasid(f);

	if (b & 1) {
		uint32_t want = (1u << 20) - 1, got = 0;

		if (S.nalloc == 16)
			return;
		while (alloc_find(want) != NONE || bound_anywhere(want)) /* the highest free one */
			want--;
		FZ_CHECK_ST(dmar_pasid_alloc(S.iommu, &got), DMAR_OK);
		FZ_CHECK_EQ(got, want);
		S.alloc[S.nalloc++] = got;
		S.last_alloc = got;
	} else {
		const int i = alloc_find(pasid);
		/* a PASID alloc did not hand out is not the caller's to free, bound or not */
		const dmar_status want = !pasid_ok(pasid) ? DMAR_E_INVALID
					 : i == NONE	   ? DMAR_E_NOT_FOUND
					 : bound_anywhere(pasid) ? DMAR_E_BUSY
								 : DMAR_OK;
		FZ_CHECK_ST(dmar_pasid_free(S.iommu, pasid), want);
		if (want == DMAR_OK)
			S.alloc[i] = S.alloc[--S.nalloc];
	}
}

static void op_link(int a)
{
	const int b = 1 - a, lead = S.v[a].lead;
	/* b must be alone: not attached (detached again is fine), not inside a window */
	const int busy = S.v[b].lead != b || S.v[b].members ||
			 (S.v[b].has_state && (S.v[b].dom != NONE || S.v[b].excl)) || lead == b ||
			 S.v[lead].excl;

	FZ_CHECK_ST(dmar_device_link(S.dev[a], S.dev[b]), busy ? DMAR_E_BUSY : DMAR_OK);
	if (!busy) {
		S.v[b].lead = lead;
		S.v[lead].members++;
	}
}

static void op_destroy(struct fz *f, int what)
{
	if (what < ND) { /* a domain, then a fresh one in its place */
		const dmar_status want = attached(what) ? DMAR_E_BUSY : DMAR_OK;

		/* its table's destruction waits for an RCU barrier (up to 10 ms): once per input,
		 * behind a magic byte, so that it does not slow every input that mutates into it */
		if (fz_u8(f) != 0xd0 || (want == DMAR_OK && S.destroyed++))
			return;

		FZ_CHECK_ST(dmar_domain_destroy(S.dom[what]), want);
		if (want == DMAR_OK)
			domain_create(what);
		return;
	}
	{ /* a device */
		const int dv = what - ND;
		struct mdev *m = &S.v[dv];
		const dmar_status want = m->lead == dv && m->members ? DMAR_E_BUSY : DMAR_OK;

		FZ_CHECK_ST(dmar_device_destroy(S.dev[dv]), want);
		if (want != DMAR_OK)
			return;
		if (m->lead != dv)
			S.v[m->lead].members--;
		device_create(dv);
	}
}

static void run_op(struct fz *f)
{
	const uint8_t k = fz_u8(f);
	const int hi = k >> 4;

	switch (k & 15) {
	case 0:
	case 1:
	case 2:
		op_map(f, hi % NT);
		break;
	case 3:
	case 4:
		op_unmap(f, hi % NT);
		break;
	case 5:
	case 6:
		op_translate(f, hi & 1, (hi >> 1) % NT);
		break;
	case 7:
	case 8:
		op_batch(f, hi & 1);
		break;
	case 9:
		op_invalidate(f, hi % 8);
		break;
	case 10:
		op_attach(f, hi & 1);
		break;
	case 11:
		op_exclusive(f, hi & 1, (hi >> 1) % 4);
		break;
	case 12:
		op_bind(f);
		break;
	case 13:
		op_link(hi & 1);
		break;
	case 14:
		op_destroy(f, hi % (ND + NDEV));
		break;
	default:
		op_pasid(f);
		break;
	}
}

static void world_create(unsigned geometry, unsigned pt1_sizes, unsigned variant)
{
	static const dmar_ram_range ram = { .base = 0, .size = 256ull << 20 };
	static const dmar_iotlb_config geo[4] = {
		/* the two smallest with few ASIDs: rollovers all the time */
		{ .sets = 1, .ways = 4, .pwc_sets = 1, .asid_bits = 3 },
		{ .sets = 8, .ways = 4, .pwc_sets = 2, .asid_bits = 5 },
		{ .sets = 16, .ways = 8, .pwc_sets = 4 },
		{ .sets = 256, .ways = 8, .pwc_sets = 16 },
	};
	dmar_physmem_config pc = { .ranges = &ram, .nranges = 1, .pa_bits = 52 };
	dmar_iommu_config ic;

	cur = calloc(1, sizeof(*cur));
	if (!cur)
		abort();
	FZ_CHECK_ST(dmar_physmem_create(&pc, &S.pm), DMAR_OK);
	dmar_iommu_config_default(&ic);
	ic.iotlb = geo[geometry];
	ic.fault_queue = 256;
	FZ_CHECK_ST(dmar_iommu_create(S.pm, &ic, &S.iommu), DMAR_OK);
	S.pt1_sizes = pt1_sizes;
	S.variant = variant;
	for (int d = 0; d < ND; d++)
		domain_create(d);
	for (int k = 0; k < 2; k++) {
		dmar_pgtable_config pc2;
		struct mtable *t = &S.t[3 + k];

		dmar_pgtable_config_default(&pc2);
		pc2.format.levels = k ? 5 : 4;
		pc2.format.pa_bits = k ? 40 : 52;
		pc2.format.flags = k ? 0 : DMAR_PT_UPPER_HALF;
		pc2.pgsizes = DMAR_PGSIZES_ALL;
		FZ_CHECK_ST(dmar_pgtable_create(S.pm, &pc2, &S.ptab[k]), DMAR_OK);
		dmar_pgtable_set_flush(S.ptab[k], ptab_flush, (void *)(intptr_t)(3 + k));
		t->kind = DMAR_PT_X86_64;
		t->levels = pc2.format.levels;
		t->pa_bits = pc2.format.pa_bits;
		t->upper = !k;
		t->va_bits = va_bits_of(&pc2.format);
		t->pgsizes = pc2.pgsizes;
	}
}

static void world_destroy(void)
{
	dmar_iommu_destroy(S.iommu);
	for (int k = 0; k < 2; k++)
		dmar_pgtable_destroy(S.ptab[k]);
	dmar_physmem_destroy(S.pm);
	for (int t = 0; t < NT; t++)
		free(S.t[t].v);
	free(cur);
	cur = NULL;
}

/* Back to the state every input starts from, checking the engine on the way. */
static void world_clean(void)
{
	for (int pass = 0; pass < 2; pass++) /* members before their lead */
		for (int dv = 0; dv < NDEV; dv++)
			if (S.dev[dv] && (pass || S.v[dv].lead != dv)) {
				FZ_CHECK_ST(dmar_device_destroy(S.dev[dv]), DMAR_OK);
				S.dev[dv] = NULL;
			}
	for (int d = 0; d < ND; d++) {
		while (S.d[d].nbind) {
			const uint32_t pasid = S.d[d].bind[--S.d[d].nbind].pasid;

			FZ_CHECK_ST(dmar_domain_unbind_pasid(S.dom[d], pasid), DMAR_OK);
		}
	}
	for (int t = 0; t < NT; t++) { /* everything unmapped, and exactly what was mapped */
		const struct mtable *m = &S.t[t];
		const int d = table_dom[t];
		uint64_t want = 0, got = 0, done;
		/* the input windows, in pieces a size can say (2^64 cannot) */
		uint64_t piece[4][2], n = 0;

		for (size_t i = 0; i < m->n; i++)
			want += 1ull << m->v[i].lg2;
		if (m->iova && m->va_bits == 64) {
			piece[n][0] = 0, piece[n++][1] = 1ull << 63;
			piece[n][0] = 1ull << 63, piece[n++][1] = 1ull << 63;
		} else if (m->iova) {
			piece[n][0] = 0, piece[n++][1] = 1ull << m->va_bits;
		} else {
			piece[n][0] = 0, piece[n++][1] = 1ull << (m->va_bits - 1);
			if (m->upper)
				piece[n][0] = 0 - (1ull << (m->va_bits - 1)),
				piece[n++][1] = 1ull << (m->va_bits - 1);
		}
		for (uint64_t k = 0; k < n; k++) {
			FZ_CHECK_ST(d != NONE ? dmar_domain_unmap(S.dom[d], piece[k][0], piece[k][1], &done)
					      : dmar_pgtable_unmap(S.ptab[t - 3], piece[k][0], piece[k][1],
								   &done),
				    DMAR_OK);
			got += done;
		}
		FZ_CHECK_EQ(got, want);
		mt_reset(&S.t[t]);
	}
	for (int i = 0; i < S.nalloc; i++)
		FZ_CHECK_ST(dmar_pasid_free(S.iommu, S.alloc[i]), DMAR_OK);
	S.nalloc = 0;
	dmar_iotlb_invalidate_all(dmar_iommu_iotlb(S.iommu));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct world *worlds[256];
	struct fz f = { data, size };
	const uint8_t geo = fz_u8(&f), w0 = fz_u8(&f), w1 = fz_u8(&f);
	const unsigned key = geo;
	unsigned ops = 0;

	fz_thread();
	cur = worlds[key];
	if (!cur)
		world_create(geo & 3, geo >> 6, (geo >> 2) & 15);
	worlds[key] = cur;
	S.v[0] = (struct mdev){ .rid = 0x100, .bits = 32 + w0 % 33 };
	S.v[1] = (struct mdev){ .rid = 0x101, .bits = 32 + w1 % 33 };
	for (int dv = 0; dv < NDEV; dv++)
		device_create(dv);
	S.last_alloc = 1;
	S.burned = 0;
	S.destroyed = 0;

	while (f.n && ops++ < OPS_MAX)
		run_op(&f);

	/* the counters agree with what the model saw */
	for (int dv = 0; dv < NDEV; dv++) {
		dmar_device_stats st;

		dmar_device_get_stats(S.dev[dv], &st);
		FZ_CHECK_EQ(st.translations, S.v[dv].translations);
		for (int r = 1; r < DMAR_FAULT_COUNT; r++)
			FZ_CHECK_EQ(st.faults[r], S.v[dv].faults[r]);
	}
	{
		dmar_faultq_stats qs;

		dmar_faultq_get_stats(dmar_iommu_faults(S.iommu), &qs);
		FZ_CHECK_EQ(qs.faults, S.fault_seq);
		FZ_CHECK_EQ(qs.dropped, 0);
	}
	world_clean();
	if (getenv("FUZZ_FRESH_WORLD")) {
		world_destroy();
		worlds[key] = NULL;
	}
	return 0;
}
