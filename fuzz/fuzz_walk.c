/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The walker on hostile tables, in every format.  Arbitrary bytes become the simulated
 * memory the tables live in, the root and the format (x86-64 with 4 or 5 levels, the upper
 * half or an IOVA table; Intel VT-d second stage with 3-5 levels, with or without X and
 * 1 GiB leaves; AMD-Vi v1 with 1-6 levels; MAXPHYADDR; accessed/dirty updates; the memory
 * writable or read-only); then addresses are walked.  No crash, no read outside the model
 * (the memory is two heap buffers of exactly their size, so ASan sees any stray host read),
 * bounded time (the fuzzer's timeout), and every answer equal three ways:
 *  - dmar_walk() against the reference walker below (written from the rules in
 *    dmar/pgtable.h, reading a copy of the memory directly): pa, pte, fault, prot, page
 *    size and level; with ::DMAR_PT_AD the reference sets accessed and dirty bits in its
 *    copy, and the memory the library walked must equal it byte for byte afterwards;
 *  - dmar_translate(), twice (the second may hit the IOTLB or start from the page-walk
 *    cache), dmar_translate_detail() (for a refused request also the level and the entry
 *    the walk stopped at) and dmar_translate_batch() against dmar_walk() (S28, S30), in
 *    either order, so the accessed/dirty bits the translate path sets are checked on their
 *    own;
 *  - after a write to the table memory and an invalidation, the new contents (S28).
 * A format the header calls bad must be refused by every entry point.
 *
 * Input: [format:1][ext:1][root:8][nops:1] nops x op, then the memory bytes (1..16 pages at
 * physical address 0; the first page again at 4 GiB, behind a hole).
 *   ext bits 0-1: kind: 0 x86-64, 1 VT-d second stage, 2 AMD-Vi v1, 3 a raw format (below)
 *   ext bit 2: ::DMAR_PT_AD; ext bits 3-4: read-only memory (1 the low pages, 2 the page at
 *              4 GiB, 3 both); ext bits 5-7: levels (VT-d 3 + v % 3, AMD-Vi 1 + v % 6;
 *              x86-64: bit 5 makes it an IOVA table instead of the upper half)
 *   format bit 0: x86-64 5 levels / VT-d ::DMAR_PT_EXEC / AMD-Vi ::DMAR_PT_IOVA;
 *   format bit 1: x86-64 upper half / VT-d ::DMAR_PT_1G; bits 2-7: MAXPHYADDR 32 + v % 21
 *              (0: 52); bit 7: an 8-way IOTLB (else 4)
 *   raw (kind 3): .kind = format & 3, .flags = format >> 2 (the five flags and an unknown
 *              bit), .levels = ext >> 5, .pa_bits from ext bits 2-4; valid or not.
 * An op is
 *   [kind:1] kind%4 == 0: walk [va:8][access:1] (bit 4 of access: an invalid bit), with
 *                          dmar_walk() first, then dmar_translate()
 *            kind%4 == 1: the same, dmar_translate() first
 *            kind%4 == 2: write [offset:2][value:8], then invalidate the space (kind bit 2)
 *                          or everything
 *            kind%4 == 3: new root [root:8] (dmar_space_set_root). */
#include "fuzz_common.h"

#define MEM_PAGES_MAX 16
#define HIGH_BASE (4ull << 30)
#define BATCH_MAX 64

struct mem {
	uint8_t *low;   /* [0, nlow * 4 KiB) */
	uint8_t *high;  /* [4 GiB, 4 GiB + 4 KiB) */
	size_t nlow;
	int ro_low, ro_high; /* DMAR_RAM_READONLY */
};

/* ---- the reference walker: the rules of dmar/pgtable.h, as plainly as they can be written --- */

/* The format as the header describes it. */
struct ref_fmt {
	unsigned kind, levels, flags;
	unsigned va_bits; /* input width */
	uint64_t rsvd;    /* address bits at or above MAXPHYADDR (up to bit 51) */
	uint64_t a_bit, d_bit; /* with DMAR_PT_AD, else 0 */
};

static unsigned shift_of(unsigned level) /* log2 of what one entry at @level maps */
{
	return 12 + 9 * (level - 1);
}

/* dmar_pt_format's rules: kinds, levels per kind, flags each kind knows, MAXPHYADDR. */
static int ref_fmt_init(struct ref_fmt *f, const dmar_pt_format *fmt)
{
	unsigned known = DMAR_PT_IOVA | DMAR_PT_AD, lo, hi, pa_bits;

	switch (fmt->kind) {
	case DMAR_PT_X86_64:
		lo = 4, hi = 5, known |= DMAR_PT_UPPER_HALF;
		break;
	case DMAR_PT_VTD_SS:
		lo = 3, hi = 5, known |= DMAR_PT_EXEC | DMAR_PT_1G;
		break;
	case DMAR_PT_AMDV1:
		lo = 1, hi = 6;
		break;
	default:
		return 0;
	}
	if (fmt->levels < lo || fmt->levels > hi || (fmt->flags & ~known) ||
	    ((fmt->flags & DMAR_PT_UPPER_HALF) && (fmt->flags & DMAR_PT_IOVA)) ||
	    (fmt->pa_bits && (fmt->pa_bits < 32 || fmt->pa_bits > 52)))
		return 0;
	pa_bits = fmt->pa_bits ? fmt->pa_bits : 52;
	memset(f, 0, sizeof(*f));
	f->kind = fmt->kind;
	f->levels = fmt->levels;
	f->flags = fmt->flags;
	if (fmt->kind == DMAR_PT_X86_64)
		f->va_bits = fmt->levels == 5 ? 57 : 48;
	else
		f->va_bits = 12 + 9 * fmt->levels > 64 ? 64 : 12 + 9 * fmt->levels;
	f->rsvd = DMAR_PTE_ADDR_MASK & ~((1ull << pa_bits) - 1);
	if (fmt->flags & DMAR_PT_AD)
		fz_ad_bits(fmt->kind, &f->a_bit, &f->d_bit);
	return 1;
}

/* dmar_pt_input_range(): [0, low_last], and [high_first, 2^64) for an upper-half table. */
static void ref_input_range(const struct ref_fmt *f, uint64_t *low_last, uint64_t *high_first)
{
	*high_first = 0;
	if (f->kind == DMAR_PT_X86_64 && !(f->flags & DMAR_PT_IOVA)) {
		*low_last = (1ull << (f->va_bits - 1)) - 1;
		if (f->flags & DMAR_PT_UPPER_HALF)
			*high_first = 0 - (1ull << (f->va_bits - 1));
		return;
	}
	*low_last = f->va_bits == 64 ? ~0ull : (1ull << f->va_bits) - 1;
}

/* dmar_pt_page_sizes(). */
static uint64_t ref_page_sizes(const struct ref_fmt *f)
{
	unsigned top, last;

	switch (f->kind) {
	case DMAR_PT_X86_64:
		return DMAR_PGSIZES_ALL;
	case DMAR_PT_VTD_SS:
		return (1ull << 12) | (1ull << 21) | ((f->flags & DMAR_PT_1G) ? 1ull << 30 : 0);
	default: /* every power of two from 4 KiB to half what an entry one level above the
		    highest leaf level maps (levels 1-5 hold leaves), at most 2^51 */
		top = f->levels < 5 ? f->levels : 5;
		last = shift_of(top + 1) - 1;
		if (last > 51)
			last = 51;
		return ((2ull << last) - 1) & ~0xfffull;
	}
}

static uint8_t *ref_at(const struct mem *m, uint64_t pa, int *ro)
{
	if (pa < m->nlow * 4096) {
		*ro = m->ro_low;
		return m->low + pa;
	}
	if (pa >= HIGH_BASE && pa < HIGH_BASE + 4096) {
		*ro = m->ro_high;
		return m->high + (pa - HIGH_BASE);
	}
	return NULL;
}

/* One entry, decoded.  perm: what this level allows (dmar_prot READ, WRITE, EXEC, USER);
 * attr: the leaf's attributes (PWT, PCD, GLOBAL, SNOOP). */
struct ent {
	dmar_fault fault;
	int leaf;
	unsigned next;   /* a table: the level of the table it points to */
	unsigned lg2;    /* a leaf: its page size */
	uint64_t addr;   /* the table, or the leaf's page frame */
	unsigned perm, attr;
};

static void x86_entry(const struct ref_fmt *f, uint64_t pte, unsigned level, struct ent *e)
{
	const int ps = (pte & DMAR_PTE_PS) != 0;

	if (!(pte & DMAR_PTE_P)) {
		e->fault = DMAR_FAULT_NOT_PRESENT;
		return;
	}
	e->leaf = level == 1 || ((level == 2 || level == 3) && ps);
	if ((pte & f->rsvd) || (level >= 4 && ps)) {
		e->fault = DMAR_FAULT_RESERVED;
		return;
	}
	e->lg2 = shift_of(level);
	/* a large leaf's frame must be aligned: bits 13..20 (2 MiB) or 13..29 (1 GiB); bit 12
	 * is its PAT bit */
	if (e->leaf && level > 1 && (pte & ((1ull << e->lg2) - 1) & ~0x1fffull)) {
		e->fault = DMAR_FAULT_RESERVED;
		return;
	}
	e->perm = DMAR_PROT_READ | ((pte & DMAR_PTE_RW) ? DMAR_PROT_WRITE : 0) |
		  ((pte & DMAR_PTE_US) ? DMAR_PROT_USER : 0) |
		  ((pte & DMAR_PTE_XD) ? 0 : DMAR_PROT_EXEC);
	if (e->leaf) {
		e->addr = pte & DMAR_PTE_ADDR_MASK & ~((1ull << e->lg2) - 1);
		e->attr = ((pte & DMAR_PTE_PWT) ? DMAR_PROT_PWT : 0) |
			  ((pte & DMAR_PTE_PCD) ? DMAR_PROT_PCD : 0) |
			  ((pte & DMAR_PTE_G) ? DMAR_PROT_GLOBAL : 0);
	} else {
		e->addr = pte & DMAR_PTE_ADDR_MASK;
		e->next = level - 1;
	}
}

static void vtd_entry(const struct ref_fmt *f, uint64_t pte, unsigned level, struct ent *e)
{
	const int ps = (pte & DMAR_VTD_SS_PS) != 0;

	if (!(pte & (DMAR_VTD_SS_R | DMAR_VTD_SS_W))) { /* no present bit: R = W = 0 */
		e->fault = DMAR_FAULT_NOT_PRESENT;
		return;
	}
	/* PS makes a leaf at level 2, and at level 3 with DMAR_PT_1G; elsewhere above level 1
	 * it is reserved */
	if ((pte & f->rsvd) || (ps && (level >= 4 || (level == 3 && !(f->flags & DMAR_PT_1G))))) {
		e->fault = DMAR_FAULT_RESERVED;
		return;
	}
	e->leaf = level == 1 || (ps && (level == 2 || level == 3));
	e->lg2 = shift_of(level);
	if (e->leaf && level > 1 && (pte & DMAR_PTE_ADDR_MASK & ((1ull << e->lg2) - 1))) {
		e->fault = DMAR_FAULT_RESERVED; /* a large leaf's frame must be aligned */
		return;
	}
	e->perm = ((pte & DMAR_VTD_SS_R) ? DMAR_PROT_READ : 0) |
		  ((pte & DMAR_VTD_SS_W) ? DMAR_PROT_WRITE : 0) |
		  ((pte & DMAR_VTD_SS_X) ? DMAR_PROT_EXEC : 0) | DMAR_PROT_USER;
	if (e->leaf) {
		e->addr = pte & DMAR_PTE_ADDR_MASK & ~((1ull << e->lg2) - 1);
		e->attr = (pte & DMAR_VTD_SS_SNP) ? DMAR_PROT_SNOOP : 0;
	} else {
		e->addr = pte & DMAR_PTE_ADDR_MASK;
		e->next = level - 1;
	}
}

static void amd_entry(const struct ref_fmt *f, uint64_t pte, unsigned level, uint64_t va,
		      struct ent *e)
{
	const unsigned nl = (unsigned)((pte & DMAR_AMDV1_NL_MASK) >> 9);

	if (!(pte & DMAR_AMDV1_PR)) {
		e->fault = DMAR_FAULT_NOT_PRESENT;
		return;
	}
	/* Bits 52-58 are reserved in AMD-Vi's entry format (the IOMMU specification; the
	 * layout in dmar/pgtable.h leaves them out, the library refuses them). */
	if (pte & (f->rsvd | 0x07f0000000000000ull)) {
		e->fault = DMAR_FAULT_RESERVED;
		return;
	}
	e->perm = ((pte & DMAR_AMDV1_IR) ? DMAR_PROT_READ : 0) |
		  ((pte & DMAR_AMDV1_IW) ? DMAR_PROT_WRITE : 0) | DMAR_PROT_USER;
	if (nl == 0 || nl == DMAR_AMDV1_NL_SIZE) { /* a leaf */
		e->leaf = 1;
		if (level == 6) { /* level 6 holds no leaves */
			e->fault = DMAR_FAULT_RESERVED;
			return;
		}
		if (nl == 0) {
			e->lg2 = shift_of(level);
			/* a large leaf's frame must be aligned */
			if (pte & DMAR_PTE_ADDR_MASK & ((1ull << e->lg2) - 1)) {
				e->fault = DMAR_FAULT_RESERVED;
				return;
			}
		} else {
			/* the size: the first zero address bit n gives 2^(n+1); it must be larger
			 * than this level's and smaller than the next level's, and at most 2^51 */
			unsigned n = 12;

			while (n <= 51 && ((pte >> n) & 1))
				n++;
			e->lg2 = n + 1;
			if (n > 51 || e->lg2 <= shift_of(level) || e->lg2 >= shift_of(level + 1) ||
			    e->lg2 > 51) {
				e->fault = DMAR_FAULT_RESERVED;
				return;
			}
		}
		e->addr = pte & DMAR_PTE_ADDR_MASK & ~((1ull << e->lg2) - 1);
		e->attr = (pte & DMAR_AMDV1_FC) ? DMAR_PROT_SNOOP : 0;
		return;
	}
	if (nl >= level) { /* a table must be of a lower level */
		e->fault = DMAR_FAULT_RESERVED;
		return;
	}
	/* levels nl + 1 .. level - 1 are skipped: the address bits they would index are 0 */
	if (nl + 1 < level &&
	    ((va >> shift_of(nl + 1)) & ((1ull << (shift_of(level) - shift_of(nl + 1))) - 1))) {
		e->fault = DMAR_FAULT_ADDR_WIDTH;
		return;
	}
	e->addr = pte & DMAR_PTE_ADDR_MASK;
	e->next = nl;
}

/* Sets @bits in the entry at @p (in read-only memory when @ro): 0, or DMAR_FAULT_AD. */
static dmar_fault ref_set(uint8_t *p, int ro, uint64_t *pte, uint64_t bits)
{
	if (!(bits & ~*pte))
		return DMAR_FAULT_NONE;
	if (ro)
		return DMAR_FAULT_AD;
	*pte |= bits;
	memcpy(p, pte, 8);
	return DMAR_FAULT_NONE;
}

/* The walk, on @m (which it changes with DMAR_PT_AD as the walker must change the memory). */
static dmar_fault ref_walk(const struct mem *m, uint64_t root, const struct ref_fmt *f,
			   uint64_t va, unsigned access, dmar_walk_result *r)
{
	uint64_t table = root & DMAR_PTE_ADDR_MASK, pte = 0;
	unsigned level = f->levels, perm = ~0u, prot;
	struct ent e;
	uint8_t *p;
	int ro;

	memset(r, 0, sizeof(*r));
	r->level = (uint8_t)f->levels;
	/* the input */
	if (f->kind == DMAR_PT_X86_64 && !(f->flags & DMAR_PT_IOVA)) {
		/* canonical, in the lower half unless the format takes the upper half */
		if (va >> (f->va_bits - 1)) {
			if ((va >> (f->va_bits - 1)) != (~0ull >> (f->va_bits - 1)))
				return r->fault = DMAR_FAULT_NONCANONICAL;
			if (!(f->flags & DMAR_PT_UPPER_HALF))
				return r->fault = DMAR_FAULT_ADDR_WIDTH;
		}
	} else if (f->va_bits < 64 && (va >> f->va_bits)) {
		return r->fault = DMAR_FAULT_ADDR_WIDTH;
	}
	/* a root beyond the width, bits 52..63 included (no address: they do not wrap) */
	if ((root & f->rsvd) || (root >> 52))
		return r->fault = DMAR_FAULT_TABLE_ADDR;
	for (;;) {
		r->level = (uint8_t)level;
		p = ref_at(m, table + 8 * ((va >> shift_of(level)) & 511), &ro);
		if (!p)
			return r->fault = DMAR_FAULT_TABLE_ADDR;
		memcpy(&pte, p, 8);
		r->pte = pte;
		memset(&e, 0, sizeof(e));
		if (f->kind == DMAR_PT_X86_64)
			x86_entry(f, pte, level, &e);
		else if (f->kind == DMAR_PT_VTD_SS)
			vtd_entry(f, pte, level, &e);
		else
			amd_entry(f, pte, level, va, &e);
		if (e.fault)
			return r->fault = e.fault;
		perm &= e.perm;
		if (e.leaf)
			break;
		/* A on every table entry the walk goes through */
		if (f->a_bit && ref_set(p, ro, &pte, f->a_bit))
			return r->fault = DMAR_FAULT_AD;
		r->pte = pte; /* as it is now: the entry where a walk stopped if the next read fails */
		table = e.addr;
		level = e.next;
	}
	prot = perm & (DMAR_PROT_READ | DMAR_PROT_WRITE | DMAR_PROT_EXEC | DMAR_PROT_USER);
	/* execution follows read: AMD-Vi, VT-d without DMAR_PT_EXEC */
	if (f->kind == DMAR_PT_AMDV1 || (f->kind == DMAR_PT_VTD_SS && !(f->flags & DMAR_PT_EXEC)))
		prot = (prot & ~DMAR_PROT_EXEC) | ((prot & DMAR_PROT_READ) ? DMAR_PROT_EXEC : 0);
	if ((access & DMAR_ACCESS_READ) && !(prot & DMAR_PROT_READ))
		return r->fault = DMAR_FAULT_READ;
	if ((access & DMAR_ACCESS_WRITE) && !(prot & DMAR_PROT_WRITE))
		return r->fault = DMAR_FAULT_WRITE;
	if ((access & DMAR_ACCESS_USER) && !(prot & DMAR_PROT_USER))
		return r->fault = DMAR_FAULT_USER;
	if ((access & DMAR_ACCESS_EXEC) && !(prot & DMAR_PROT_EXEC))
		return r->fault = DMAR_FAULT_EXEC;
	/* A on the leaf of an allowed access, D too for a write */
	if (f->a_bit &&
	    ref_set(p, ro, &pte, f->a_bit | ((access & DMAR_ACCESS_WRITE) ? f->d_bit : 0)))
		return r->fault = DMAR_FAULT_AD;
	r->pte = pte;
	r->page_lg2 = (uint8_t)e.lg2;
	r->pa = e.addr | (va & ((1ull << e.lg2) - 1));
	r->prot = (uint16_t)(prot | e.attr);
	return r->fault = DMAR_FAULT_NONE;
}

/* ---- the checks ---- */

struct ctx {
	const dmar_physmem *pm;
	dmar_space *sp;
	struct mem real, ref; /* the library's memory, and the reference's copy of it */
	dmar_pt_format fmt;
	struct ref_fmt rf;
	uint64_t root;
};

static void same_memory(const struct ctx *c)
{
	if (memcmp(c->real.low, c->ref.low, c->real.nlow * 4096) ||
	    memcmp(c->real.high, c->ref.high, 4096)) {
		for (uint64_t pa = 0; pa < c->real.nlow * 4096 + 4096; pa += 8) {
			const uint64_t at = pa < c->real.nlow * 4096 ? pa
								      : HIGH_BASE + pa - c->real.nlow * 4096;
			uint64_t got, want;
			int ro;

			memcpy(&got, ref_at(&c->real, at, &ro), 8);
			memcpy(&want, ref_at(&c->ref, at, &ro), 8);
			if (got != want)
				FZ_FAIL("memory at 0x%" PRIx64 ": 0x%" PRIx64 ", reference 0x%" PRIx64,
					at, got, want);
		}
	}
}

static void same_result(const char *what, uint64_t va, unsigned access, const dmar_result *t,
			const dmar_walk_result *w)
{
	if (t->fault != w->fault || t->pa != w->pa || t->page_lg2 != w->page_lg2 ||
	    t->prot != w->prot || (t->flags & ~(uint32_t)DMAR_RESULT_HIT))
		FZ_FAIL("%s va 0x%" PRIx64 " access 0x%x: fault %s pa 0x%" PRIx64 " lg2 %u prot 0x%x "
			"flags 0x%x; walk: fault %s pa 0x%" PRIx64 " lg2 %u prot 0x%x",
			what, va, access, dmar_fault_str((dmar_fault)t->fault), t->pa, t->page_lg2,
			t->prot, t->flags, dmar_fault_str(w->fault), w->pa, w->page_lg2, w->prot);
}

struct pending {
	dmar_request req[BATCH_MAX];
	dmar_walk_result want[BATCH_MAX];
	size_t n;
};

/* Everything walked since the memory last changed, again, in one batch. */
static void check_batch(const struct ctx *c, struct pending *p)
{
	dmar_result res[BATCH_MAX];
	size_t nf = 0, want_nf = 0;

	if (!p->n)
		return;
	FZ_CHECK_ST(dmar_translate_batch(c->sp, p->req, res, p->n, &nf), DMAR_OK);
	for (size_t i = 0; i < p->n; i++) {
		same_result("batch", p->req[i].iova, p->req[i].access, &res[i], &p->want[i]);
		want_nf += p->want[i].fault != DMAR_FAULT_NONE;
	}
	FZ_CHECK_EQ(nf, want_nf);
	p->n = 0;
	if (c->rf.a_bit) /* bits the walks set already: nothing more to set */
		same_memory(c);
}

static void translate_twice(const struct ctx *c, uint64_t va, unsigned access,
			    const dmar_walk_result *want)
{
	dmar_fault_info info;
	dmar_result t;
	dmar_status st;

	for (int k = 0; k < 2; k++) {
		st = dmar_translate(c->sp, va, access, &t);
		same_result(k ? "translate (again)" : "translate", va, access, &t, want);
		FZ_CHECK_ST(st, want->fault == DMAR_FAULT_NONE ? DMAR_OK : DMAR_E_FAULT);
	}
	/* and where a refused walk stopped: the level and entry dmar_walk() reports */
	memset(&info, 0xa5, sizeof(info));
	st = dmar_translate_detail(c->sp, va, access, &t, &info);
	same_result("translate_detail", va, access, &t, want);
	FZ_CHECK_ST(st, want->fault == DMAR_FAULT_NONE ? DMAR_OK : DMAR_E_FAULT);
	if (want->fault == DMAR_FAULT_NONE ? info.level || info.entry
					    : info.level != want->level || info.entry != want->pte)
		FZ_FAIL("translate_detail va 0x%" PRIx64 " access 0x%x (%s): level %u entry 0x%" PRIx64
			"; walk: level %u entry 0x%" PRIx64,
			va, access, dmar_fault_str(want->fault), info.level, info.entry, want->level,
			want->fault == DMAR_FAULT_NONE ? 0 : want->pte);
}

static void walk_one(struct ctx *c, uint64_t va, unsigned access, int translate_first,
		     struct pending *p)
{
	dmar_walk_result got, want;
	dmar_result t;

	if (access & ~0xfu) { /* bad input: a clear status, nothing translated */
		FZ_CHECK_ST(dmar_walk(c->pm, c->root, &c->fmt, va, access, &got), DMAR_E_INVALID);
		FZ_CHECK_ST(dmar_translate(c->sp, va, access, &t), DMAR_E_INVALID);
		return;
	}
	(void)ref_walk(&c->ref, c->root, &c->rf, va, access, &want);
	if (translate_first) { /* the translate path sets the accessed/dirty bits itself */
		translate_twice(c, va, access, &want);
		if (c->rf.a_bit)
			same_memory(c);
	}
	FZ_CHECK_ST(dmar_walk(c->pm, c->root, &c->fmt, va, access, &got),
		    want.fault == DMAR_FAULT_NONE ? DMAR_OK : DMAR_E_FAULT);
	if (got.fault != want.fault || got.pa != want.pa || got.pte != want.pte ||
	    got.prot != want.prot || got.page_lg2 != want.page_lg2 || got.level != want.level)
		FZ_FAIL("kind %u levels %u flags 0x%x va 0x%" PRIx64 " access 0x%x: walk: fault %s "
			"pa 0x%" PRIx64 " pte 0x%" PRIx64 " prot 0x%x lg2 %u level %u; reference: "
			"fault %s pa 0x%" PRIx64 " pte 0x%" PRIx64 " prot 0x%x lg2 %u level %u",
			c->fmt.kind, c->fmt.levels, c->fmt.flags, va, access,
			dmar_fault_str(got.fault), got.pa, got.pte, got.prot, got.page_lg2,
			got.level, dmar_fault_str(want.fault), want.pa, want.pte, want.prot,
			want.page_lg2, want.level);
	if (c->rf.a_bit)
		same_memory(c);
	if (!translate_first) {
		translate_twice(c, va, access, &want);
		if (c->rf.a_bit)
			same_memory(c);
	}
	if (p->n == BATCH_MAX)
		check_batch(c, p);
	p->req[p->n] = (dmar_request){ .iova = va, .access = access, .pasid = DMAR_NO_PASID };
	p->want[p->n++] = want;
}

/* The format from the two format bytes (the input's layout above). */
static void pick_format(uint8_t b0, uint8_t ext, dmar_pt_format *fmt)
{
	static const unsigned raw_pa[8] = { 0, 31, 32, 40, 52, 53, 48, 64 };
	const unsigned kind = ext & 3;

	memset(fmt, 0, sizeof(*fmt));
	if (kind == 3) {
		fmt->kind = b0 & 3;
		fmt->flags = (unsigned)b0 >> 2;
		fmt->levels = (unsigned)ext >> 5;
		fmt->pa_bits = raw_pa[(ext >> 2) & 7];
		return;
	}
	fmt->kind = kind;
	fmt->pa_bits = (b0 >> 2) ? 32 + (unsigned)(b0 >> 2) % 21 : 0;
	fmt->flags = (ext & 4) ? DMAR_PT_AD : 0;
	switch (kind) {
	case DMAR_PT_X86_64:
		fmt->levels = (b0 & 1) ? 5 : 4;
		if (ext & 0x20)
			fmt->flags |= DMAR_PT_IOVA;
		else if (b0 & 2)
			fmt->flags |= DMAR_PT_UPPER_HALF;
		break;
	case DMAR_PT_VTD_SS:
		fmt->levels = 3 + ((unsigned)ext >> 5) % 3;
		fmt->flags |= ((b0 & 1) ? DMAR_PT_EXEC : 0) | ((b0 & 2) ? DMAR_PT_1G : 0);
		break;
	default:
		fmt->levels = 1 + ((unsigned)ext >> 5) % 6;
		fmt->flags |= (b0 & 1) ? DMAR_PT_IOVA : 0;
		break;
	}
}

/* A bad format: every entry point refuses it. */
static void check_bad_format(const dmar_physmem *pm, dmar_iotlb *tlb, const dmar_pt_format *fmt)
{
	dmar_walk_result w;
	dmar_space *sp = NULL;
	uint64_t lo = 0, hi = 0;
	dmar_pgtable_config pc;
	dmar_pgtable *pt = NULL;

	FZ_CHECK_ST(dmar_walk(pm, 0, fmt, 0, DMAR_ACCESS_READ, &w), DMAR_E_INVALID);
	FZ_CHECK_ST(dmar_space_create(tlb, pm, 0, fmt, &sp), DMAR_E_INVALID);
	FZ_CHECK_ST(dmar_pt_input_range(fmt, &lo, &hi), DMAR_E_INVALID);
	FZ_CHECK_EQ(dmar_pt_page_sizes(fmt), 0);
	dmar_pgtable_config_default(&pc);
	pc.format = *fmt;
	FZ_CHECK_ST(dmar_pgtable_create((dmar_physmem *)(uintptr_t)pm, &pc, &pt), DMAR_E_INVALID);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	const uint8_t b0 = fz_u8(&f), ext = fz_u8(&f);
	const unsigned ro = (ext & 3) == 3 ? 0 : (ext >> 3) & 3;
	unsigned nops;
	const uint8_t *ops;
	size_t opsz;
	struct fz rest;
	static struct ctx c;
	dmar_ram_range ranges[2];
	dmar_physmem_config pc;
	dmar_iotlb_config tc;
	dmar_physmem *pm = NULL;
	dmar_iotlb *tlb = NULL;
	int valid;
	static struct pending p;

	fz_thread();
	memset(&c, 0, sizeof(c));
	pick_format(b0, ext, &c.fmt);
	valid = ref_fmt_init(&c.rf, &c.fmt);
	c.root = fz_u64(&f);
	nops = fz_u8(&f);
	/* the ops come first; what is left is memory.  Find where the ops end by reading them. */
	ops = f.p;
	for (unsigned i = 0; i < nops && f.n; i++) {
		switch (fz_u8(&f) % 4) {
		case 0:
		case 1:
			(void)fz_u64(&f);
			(void)fz_u8(&f);
			break;
		case 2:
			(void)fz_u16(&f);
			(void)fz_u64(&f);
			break;
		default:
			(void)fz_u64(&f);
			break;
		}
	}
	opsz = (size_t)(f.p - ops);
	c.real.nlow = (f.n + 4095) / 4096;
	if (c.real.nlow < 1)
		c.real.nlow = 1;
	if (c.real.nlow > MEM_PAGES_MAX)
		c.real.nlow = MEM_PAGES_MAX;
	c.real.ro_low = ro & 1;
	c.real.ro_high = (ro >> 1) & 1;
	c.ref = c.real;
	c.real.low = aligned_alloc(4096, c.real.nlow * 4096);
	c.real.high = aligned_alloc(4096, 4096);
	c.ref.low = malloc(c.real.nlow * 4096);
	c.ref.high = malloc(4096);
	if (!c.real.low || !c.real.high || !c.ref.low || !c.ref.high)
		abort();
	memset(c.real.low, 0, c.real.nlow * 4096);
	memcpy(c.real.low, f.p, f.n < c.real.nlow * 4096 ? f.n : c.real.nlow * 4096);
	memcpy(c.real.high, c.real.low, 4096);
	memcpy(c.ref.low, c.real.low, c.real.nlow * 4096);
	memcpy(c.ref.high, c.real.high, 4096);

	ranges[0] = (dmar_ram_range){ .base = 0, .size = c.real.nlow * 4096,
				      .kind = DMAR_RAM_BUFFER, .host = c.real.low,
				      .flags = c.real.ro_low ? DMAR_RAM_READONLY : 0 };
	ranges[1] = (dmar_ram_range){ .base = HIGH_BASE, .size = 4096, .kind = DMAR_RAM_BUFFER,
				      .host = c.real.high,
				      .flags = c.real.ro_high ? DMAR_RAM_READONLY : 0 };
	pc = (dmar_physmem_config){ .ranges = ranges, .nranges = 2, .pa_bits = 52 };
	FZ_CHECK_ST(dmar_physmem_create(&pc, &pm), DMAR_OK);
	c.pm = pm;
	dmar_iotlb_config_default(&tc);
	tc.sets = 16;
	tc.ways = (b0 & 0x80) ? 8 : 4;
	tc.pwc_sets = 4;
	FZ_CHECK_ST(dmar_iotlb_create(&tc, &tlb), DMAR_OK);
	if (!valid) {
		check_bad_format(pm, tlb, &c.fmt);
		goto out;
	}
	{ /* what the format translates and which leaf sizes it has */
		uint64_t lo = 1, hi = 1, want_lo, want_hi;

		ref_input_range(&c.rf, &want_lo, &want_hi);
		FZ_CHECK_ST(dmar_pt_input_range(&c.fmt, &lo, &hi), DMAR_OK);
		FZ_CHECK_EQ(lo, want_lo);
		FZ_CHECK_EQ(hi, want_hi);
		FZ_CHECK_EQ(dmar_pt_page_sizes(&c.fmt), ref_page_sizes(&c.rf));
	}
	FZ_CHECK_ST(dmar_space_create(tlb, pm, c.root, &c.fmt, &c.sp), DMAR_OK);

	p.n = 0;
	rest = (struct fz){ ops, opsz };
	for (unsigned i = 0; i < nops && rest.n; i++) {
		const uint8_t kind = fz_u8(&rest);

		switch (kind % 4) {
		case 0:
		case 1: {
			const uint64_t va = fz_u64(&rest);
			const uint8_t acc = fz_u8(&rest);

			walk_one(&c, va, acc & 0x1f, kind & 1, &p);
			break;
		}
		case 2: {
			const uint64_t off = (fz_u16(&rest) % (c.real.nlow * 4096)) & ~7ull;
			const uint64_t v = fz_u64(&rest);

			check_batch(&c, &p);
			/* through the library where the memory is writable, else as a device
			 * behind its back would (the reference's copy follows) */
			FZ_CHECK_ST(dmar_physmem_write(pm, off, &v, 8),
				    c.real.ro_low ? DMAR_E_READONLY : DMAR_OK);
			if (c.real.ro_low)
				memcpy(c.real.low + off, &v, 8);
			memcpy(c.ref.low + off, &v, 8);
			if (off < 4096) { /* 4 GiB stays a copy of page 0 */
				FZ_CHECK_ST(dmar_physmem_write(pm, HIGH_BASE + off, &v, 8),
					    c.real.ro_high ? DMAR_E_READONLY : DMAR_OK);
				if (c.real.ro_high)
					memcpy(c.real.high + off, &v, 8);
				memcpy(c.ref.high + off, &v, 8);
			}
			if (kind & 4)
				dmar_space_invalidate(c.sp);
			else
				dmar_iotlb_invalidate_all(tlb);
			break;
		}
		default:
			check_batch(&c, &p);
			c.root = fz_u64(&rest);
			FZ_CHECK_ST(dmar_space_set_root(c.sp, c.root), DMAR_OK);
			break;
		}
	}
	check_batch(&c, &p);
	/* a few fixed addresses whatever the ops were: the first and last page of the input
	 * range's lower window, the first address past it and its negation, the top */
	{
		uint64_t lo, hi;

		ref_input_range(&c.rf, &lo, &hi);
		const uint64_t probes[] = { 0, 0x1000, lo & ~0xfffull, lo + 1, 0 - (lo + 1), ~0ull };

		for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++)
			walk_one(&c, probes[i], DMAR_ACCESS_READ, 0, &p);
		check_batch(&c, &p);
	}
	same_memory(&c); /* without DMAR_PT_AD a walk writes nothing */
	dmar_space_destroy(c.sp);
out:
	FZ_CHECK_ST(dmar_iotlb_destroy(tlb), DMAR_OK);
	dmar_physmem_destroy(pm);
	free(c.real.low);
	free(c.real.high);
	free(c.ref.low);
	free(c.ref.high);
	return 0;
}
