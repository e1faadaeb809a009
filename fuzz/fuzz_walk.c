/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The walker on hostile tables.  Arbitrary bytes become the simulated
 * memory the tables live in, the root and the format (4 or 5 levels, MAXPHYADDR, upper
 * half); then addresses are walked.  No crash, no read outside the model (the memory is two
 * heap buffers of exactly their size, so ASan sees any stray host read), bounded time (the
 * fuzzer's timeout), and every answer equal three ways:
 *  - dmar_walk() against the reference walker below (written from the x86-64 rules, reading
 *    the buffers directly): pa, pte, fault, prot, page size and level;
 *  - dmar_translate(), twice (the second may hit the IOTLB or start from the page-walk
 *    cache) and dmar_translate_batch() against dmar_walk() (S28, S30);
 *  - after a write to the table memory and an invalidation, the new contents (S28).
 *
 * Input: [format:1][root:8][nops:1] nops x op, then the memory bytes (1..16 pages at
 * physical address 0; the first page again at 4 GiB, behind a hole).  An op is
 *   [kind:1] kind%4 in {0,1}: walk [va:8][access:1] (bit 4 of access: an invalid bit)
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
};

/* ---- the reference walker: the x86-64 rules, as plainly as they can be written ---- */

static int ref_read(const struct mem *m, uint64_t pa, uint64_t *v)
{
	if (pa < m->nlow * 4096) {
		memcpy(v, m->low + pa, 8);
		return 1;
	}
	if (pa >= HIGH_BASE && pa < HIGH_BASE + 4096) {
		memcpy(v, m->high + (pa - HIGH_BASE), 8);
		return 1;
	}
	return 0;
}

static dmar_fault ref_walk(const struct mem *m, uint64_t root, const dmar_pt_format *fmt,
			   uint64_t va, unsigned access, dmar_walk_result *r)
{
	const unsigned pa_bits = fmt->pa_bits ? fmt->pa_bits : 52;
	const unsigned va_bits = fmt->levels == 5 ? 57 : 48;
	/* physical-address bits at or above MAXPHYADDR (up to bit 51) are reserved */
	const uint64_t rsvd = DMAR_PTE_ADDR_MASK & ~((1ull << pa_bits) - 1);
	uint64_t table = root & DMAR_PTE_ADDR_MASK, pte = 0;
	int writable = 1, user = 1, nx = 0;
	unsigned level;

	memset(r, 0, sizeof(*r));
	r->level = (uint8_t)fmt->levels;
	/* the input: canonical, in the lower half unless the format takes the upper half */
	if (va >> (va_bits - 1)) {
		if ((va >> (va_bits - 1)) != (~0ull >> (va_bits - 1)))
			return r->fault = DMAR_FAULT_NONCANONICAL;
		if (!(fmt->flags & DMAR_PT_UPPER_HALF))
			return r->fault = DMAR_FAULT_ADDR_WIDTH;
	}
	if (table & rsvd)
		return r->fault = DMAR_FAULT_TABLE_ADDR;
	for (level = fmt->levels;; level--) {
		const unsigned shift = 12 + 9 * (level - 1);
		int leaf;

		r->level = (uint8_t)level;
		if (!ref_read(m, table + 8 * ((va >> shift) & 511), &pte))
			return r->fault = DMAR_FAULT_TABLE_ADDR;
		r->pte = pte;
		if (!(pte & DMAR_PTE_P))
			return r->fault = DMAR_FAULT_NOT_PRESENT;
		leaf = level == 1 || ((level == 2 || level == 3) && (pte & DMAR_PTE_PS));
		if ((pte & rsvd) || (level >= 4 && (pte & DMAR_PTE_PS)))
			return r->fault = DMAR_FAULT_RESERVED;
		/* a large leaf's frame must be aligned: bits 13..20 (2 MiB) or 13..29 (1 GiB) */
		if (leaf && level > 1 && (pte & ((1ull << shift) - 1) & ~0x1fffull))
			return r->fault = DMAR_FAULT_RESERVED;
		writable &= !!(pte & DMAR_PTE_RW);
		user &= !!(pte & DMAR_PTE_US);
		nx |= !!(pte & DMAR_PTE_XD);
		if (leaf)
			break;
		table = pte & DMAR_PTE_ADDR_MASK;
	}
	if ((access & DMAR_ACCESS_WRITE) && !writable)
		return r->fault = DMAR_FAULT_WRITE;
	if ((access & DMAR_ACCESS_USER) && !user)
		return r->fault = DMAR_FAULT_USER;
	if ((access & DMAR_ACCESS_EXEC) && nx)
		return r->fault = DMAR_FAULT_EXEC;
	{
		const unsigned lg2 = 12 + 9 * (level - 1);
		const uint64_t mask = (1ull << lg2) - 1;

		r->page_lg2 = (uint8_t)lg2;
		r->pa = (pte & DMAR_PTE_ADDR_MASK & ~mask) | (va & mask);
		r->prot = (uint16_t)(DMAR_PROT_READ | (writable ? DMAR_PROT_WRITE : 0) |
				     (user ? DMAR_PROT_USER : 0) | (nx ? 0 : DMAR_PROT_EXEC) |
				     ((pte & DMAR_PTE_PWT) ? DMAR_PROT_PWT : 0) |
				     ((pte & DMAR_PTE_PCD) ? DMAR_PROT_PCD : 0) |
				     ((pte & DMAR_PTE_G) ? DMAR_PROT_GLOBAL : 0));
	}
	return r->fault = DMAR_FAULT_NONE;
}

/* ---- the checks ---- */

static void same_result(const dmar_result *t, const dmar_walk_result *w)
{
	FZ_CHECK_EQ(t->fault, w->fault);
	FZ_CHECK_EQ(t->pa, w->pa);
	FZ_CHECK_EQ(t->page_lg2, w->page_lg2);
	FZ_CHECK_EQ(t->prot, w->prot);
	FZ_CHECK((t->flags & ~(uint32_t)DMAR_RESULT_HIT) == 0);
}

struct pending {
	dmar_request req[BATCH_MAX];
	dmar_walk_result want[BATCH_MAX];
	size_t n;
};

/* Everything walked since the memory last changed, again, in one batch. */
static void check_batch(dmar_space *sp, struct pending *p)
{
	dmar_result res[BATCH_MAX];
	size_t nf = 0, want_nf = 0;

	if (!p->n)
		return;
	FZ_CHECK_ST(dmar_translate_batch(sp, p->req, res, p->n, &nf), DMAR_OK);
	for (size_t i = 0; i < p->n; i++) {
		same_result(&res[i], &p->want[i]);
		want_nf += p->want[i].fault != DMAR_FAULT_NONE;
	}
	FZ_CHECK_EQ(nf, want_nf);
	p->n = 0;
}

static void walk_one(const dmar_physmem *pm, const struct mem *m, dmar_space *sp,
		     uint64_t root, const dmar_pt_format *fmt, uint64_t va, unsigned access,
		     struct pending *p)
{
	dmar_walk_result got, want;
	dmar_result t;
	dmar_status st;

	if (access & ~0xfu) { /* bad input: a clear status, nothing translated */
		FZ_CHECK_ST(dmar_walk(pm, root, fmt, va, access, &got), DMAR_E_INVALID);
		FZ_CHECK_ST(dmar_translate(sp, va, access, &t), DMAR_E_INVALID);
		return;
	}
	st = dmar_walk(pm, root, fmt, va, access, &got);
	(void)ref_walk(m, root, fmt, va, access, &want);
	FZ_CHECK_ST(st, want.fault == DMAR_FAULT_NONE ? DMAR_OK : DMAR_E_FAULT);
	FZ_CHECK_EQ(got.fault, want.fault);
	FZ_CHECK_EQ(got.pa, want.pa);
	FZ_CHECK_EQ(got.pte, want.pte);
	FZ_CHECK_EQ(got.prot, want.prot);
	FZ_CHECK_EQ(got.page_lg2, want.page_lg2);
	FZ_CHECK_EQ(got.level, want.level);
	for (int k = 0; k < 2; k++) {
		st = dmar_translate(sp, va, access, &t);
		FZ_CHECK_ST(st, want.fault == DMAR_FAULT_NONE ? DMAR_OK : DMAR_E_FAULT);
		same_result(&t, &want);
	}
	if (p->n == BATCH_MAX)
		check_batch(sp, p);
	p->req[p->n] = (dmar_request){ .iova = va, .access = access, .pasid = DMAR_NO_PASID };
	p->want[p->n++] = want;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	const uint8_t b0 = fz_u8(&f);
	dmar_pt_format fmt = {
		.levels = (b0 & 1) ? 5 : 4,
		.pa_bits = (b0 >> 2) ? 32 + (unsigned)(b0 >> 2) % 21 : 0,
		.flags = (b0 & 2) ? DMAR_PT_UPPER_HALF : 0,
	};
	uint64_t root = fz_u64(&f);
	const unsigned nops = fz_u8(&f);
	const uint8_t *ops;
	size_t opsz;
	struct fz rest;
	struct mem m;
	dmar_ram_range ranges[2];
	dmar_physmem_config pc;
	dmar_iotlb_config tc;
	dmar_physmem *pm = NULL;
	dmar_iotlb *tlb = NULL;
	dmar_space *sp = NULL;
	static struct pending p;

	fz_thread();
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
	m.nlow = (f.n + 4095) / 4096;
	if (m.nlow < 1)
		m.nlow = 1;
	if (m.nlow > MEM_PAGES_MAX)
		m.nlow = MEM_PAGES_MAX;
	m.low = aligned_alloc(4096, m.nlow * 4096);
	m.high = aligned_alloc(4096, 4096);
	if (!m.low || !m.high)
		abort();
	memset(m.low, 0, m.nlow * 4096);
	memcpy(m.low, f.p, f.n < m.nlow * 4096 ? f.n : m.nlow * 4096);
	memcpy(m.high, m.low, 4096);

	ranges[0] = (dmar_ram_range){ .base = 0, .size = m.nlow * 4096, .kind = DMAR_RAM_BUFFER,
				      .host = m.low };
	ranges[1] = (dmar_ram_range){ .base = HIGH_BASE, .size = 4096, .kind = DMAR_RAM_BUFFER,
				      .host = m.high };
	pc = (dmar_physmem_config){ .ranges = ranges, .nranges = 2, .pa_bits = 52 };
	FZ_CHECK_ST(dmar_physmem_create(&pc, &pm), DMAR_OK);
	dmar_iotlb_config_default(&tc);
	tc.sets = 16;
	tc.ways = (b0 & 0x80) ? 8 : 4;
	tc.pwc_sets = 4;
	FZ_CHECK_ST(dmar_iotlb_create(&tc, &tlb), DMAR_OK);
	FZ_CHECK_ST(dmar_space_create(tlb, pm, root, &fmt, &sp), DMAR_OK);

	p.n = 0;
	rest = (struct fz){ ops, opsz };
	for (unsigned i = 0; i < nops && rest.n; i++) {
		const uint8_t kind = fz_u8(&rest);

		switch (kind % 4) {
		case 0:
		case 1: {
			const uint64_t va = fz_u64(&rest);
			const uint8_t acc = fz_u8(&rest);

			walk_one(pm, &m, sp, root, &fmt, va, acc & 0x1f, &p);
			break;
		}
		case 2: {
			const uint64_t off = (fz_u16(&rest) % (m.nlow * 4096)) & ~7ull;
			const uint64_t v = fz_u64(&rest);

			check_batch(sp, &p);
			/* the model's memory is the buffer itself; write through the library */
			FZ_CHECK_ST(dmar_physmem_write(pm, off, &v, 8), DMAR_OK);
			if (off < 4096) /* 4 GiB stays a copy of page 0 */
				FZ_CHECK_ST(dmar_physmem_write(pm, HIGH_BASE + off, &v, 8), DMAR_OK);
			if (kind & 4)
				dmar_space_invalidate(sp);
			else
				dmar_iotlb_invalidate_all(tlb);
			break;
		}
		default:
			check_batch(sp, &p);
			root = fz_u64(&rest);
			FZ_CHECK_ST(dmar_space_set_root(sp, root), DMAR_OK);
			break;
		}
	}
	check_batch(sp, &p);
	/* a few fixed addresses whatever the ops were: the first and last page of each half */
	{
		const uint64_t top = fmt.levels == 5 ? 1ull << 56 : 1ull << 47;
		const uint64_t probes[] = { 0, 0x1000, top - 4096, 0 - top, ~0ull, top };

		for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++)
			walk_one(pm, &m, sp, root, &fmt, probes[i], DMAR_ACCESS_READ, &p);
		check_batch(sp, &p);
	}

	dmar_space_destroy(sp);
	FZ_CHECK_ST(dmar_iotlb_destroy(tlb), DMAR_OK);
	dmar_physmem_destroy(pm);
	free(m.low);
	free(m.high);
	return 0;
}
