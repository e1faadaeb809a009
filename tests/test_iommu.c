/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* IOMMUs, domains, devices, PASIDs, exclusive access: S2, S3, S6-S8, S13-S15, S18, S29. */
#include <pthread.h>
#include <time.h>

#include "check.h"

#define K4 (1ull << 12)
#define M2 (1ull << 21)
#define TiB (1ull << 40)
#define RW (DMAR_PROT_READ | DMAR_PROT_WRITE)

static dmar_status xlate(dmar_device *dev, uint64_t iova, uint32_t pasid, unsigned access,
			 dmar_result *r)
{
	dmar_request q = { .iova = iova, .access = access, .pasid = pasid };

	return dmar_device_translate(dev, &q, r);
}

TEST(S6_S7_unmapped_logical_address_faults_and_is_reported)
{
	struct test_fx f;
	dmar_result r;
	dmar_fault_record rec[8];
	dmar_device_stats ds;

	test_fx_setup(&f, DMAR_DOMAIN_REMAPPED, 40, 64);
	CHECK_ST(dmar_domain_map(f.dom, 0x100000, TiB + 0x5000, K4, RW), DMAR_OK);
	CHECK_ST(xlate(f.dev, 0x100123, DMAR_NO_PASID, DMAR_ACCESS_WRITE, &r), DMAR_OK);
	CHECK_EQ(r.pa, TiB + 0x5123);
	CHECK_ST(xlate(f.dev, 0x101000, DMAR_NO_PASID, DMAR_ACCESS_READ, &r), DMAR_E_FAULT);
	CHECK_EQ(r.fault, DMAR_FAULT_NOT_PRESENT);
	CHECK_EQ(r.pa, 0);
	CHECK_EQ(dmar_faultq_drain(dmar_iommu_faults(f.mmu), rec, 8), 1);
	CHECK_EQ(rec[0].addr, 0x101000);
	CHECK_EQ(rec[0].requester, TEST_FX_RID);
	CHECK_EQ(rec[0].pasid, DMAR_NO_PASID);
	CHECK_EQ(rec[0].access, DMAR_ACCESS_READ);
	CHECK_EQ(rec[0].reason, DMAR_FAULT_NOT_PRESENT);
	CHECK_EQ(rec[0].seq, 1);
	dmar_device_get_stats(f.dev, &ds);
	CHECK_EQ(ds.translations, 2);
	CHECK_EQ(ds.faults[DMAR_FAULT_NOT_PRESENT], 1);
	/* unmap returns only once the IOTLB forgot it */
	CHECK_ST(dmar_domain_unmap(f.dom, 0x100000, K4, NULL), DMAR_OK);
	CHECK_ST(xlate(f.dev, 0x100123, DMAR_NO_PASID, DMAR_ACCESS_READ, &r), DMAR_E_FAULT);
	test_fx_teardown(&f);
}

TEST(S8_identity_domain_maps_page_to_same_page_only_where_mapped)
{
	struct test_fx f;
	dmar_result r;

	test_fx_setup(&f, DMAR_DOMAIN_IDENTITY, 48, 64);
	CHECK_ST(dmar_domain_map(f.dom, 0x200000, 0x300000, K4, RW), DMAR_E_INVALID);
	CHECK_ST(dmar_domain_map(f.dom, 0x200000, 0x200000, M2, RW), DMAR_OK);
	CHECK_ST(xlate(f.dev, 0x2abcde, DMAR_NO_PASID, DMAR_ACCESS_READ, &r), DMAR_OK);
	CHECK_EQ(r.pa, 0x2abcde);
	CHECK_ST(xlate(f.dev, 0x400000, DMAR_NO_PASID, DMAR_ACCESS_READ, &r), DMAR_E_FAULT);
	CHECK_EQ(r.fault, DMAR_FAULT_NOT_PRESENT);
	test_fx_teardown(&f);
}

TEST(passthrough_domain_translates_nothing_and_isolates_nothing)
{
	struct test_fx f;
	dmar_result r;

	test_fx_setup(&f, DMAR_DOMAIN_PASSTHROUGH, 64, 64);
	CHECK_ST(dmar_domain_map(f.dom, 0, 0, K4, RW), DMAR_E_NOT_SUPPORTED);
	CHECK_ST(xlate(f.dev, 0x123456789ull, DMAR_NO_PASID, DMAR_ACCESS_WRITE, &r), DMAR_OK);
	CHECK_EQ(r.pa, 0x123456789ull);
	CHECK(dmar_domain_pgtable(f.dom) == NULL);
	test_fx_teardown(&f);
}

TEST(S13_logically_contiguous_over_scattered_physical_pages)
{
	struct test_fx f;
	dmar_request q[64];
	dmar_result r[64];
	dmar_pa_t frames[64];
	size_t nf;

	test_fx_setup(&f, DMAR_DOMAIN_REMAPPED, 40, 64);
	for (int i = 0; i < 64; i++) { /* every other frame, top down: scattered */
		CHECK_ST(dmar_physmem_alloc(f.pm, 2, 12, DMAR_PLACE_ABOVE, TiB, &frames[i]), DMAR_OK);
		CHECK_ST(dmar_domain_map(f.dom, 0x40000000 + (uint64_t)i * K4, frames[i], K4, RW), DMAR_OK);
		q[i].iova = 0x40000000 + (uint64_t)i * K4 + 8;
		q[i].access = DMAR_ACCESS_WRITE;
		q[i].pasid = DMAR_NO_PASID;
	}
	CHECK_ST(dmar_device_translate_batch(f.dev, q, r, 64, &nf), DMAR_OK);
	CHECK_EQ(nf, 0);
	for (int i = 0; i < 64; i++)
		CHECK_EQ(r[i].pa, frames[i] + 8);
	test_fx_teardown(&f);
}

TEST(S14_request_beyond_device_width_faults)
{
	struct test_fx f;
	dmar_result r;

	test_fx_setup(&f, DMAR_DOMAIN_REMAPPED, 40, 64);
	/* the table could map it, the 40-bit device cannot put it on the bus */
	CHECK_ST(dmar_domain_map(f.dom, TiB, 0x1000, K4, RW), DMAR_OK);
	CHECK_ST(xlate(f.dev, TiB, DMAR_NO_PASID, DMAR_ACCESS_READ, &r), DMAR_E_FAULT);
	CHECK_EQ(r.fault, DMAR_FAULT_DEVICE_WIDTH);
	CHECK_ST(dmar_domain_map(f.dom, TiB - K4, 0x2000, K4, RW), DMAR_OK);
	CHECK_ST(xlate(f.dev, TiB - 1, DMAR_NO_PASID, DMAR_ACCESS_READ, &r), DMAR_OK);
	CHECK_EQ(r.pa, 0x2fff);
	test_fx_teardown(&f);
}

/* A batch with runs broken by refusals of every origin: the device's own checks (width,
 * PASID) and the space's walks (not present, and a write the cached entry does not allow);
 * each refusal counted once and queued in order, a batch without one queues nothing. */
TEST(S29_batch_counts_and_queues_every_fault_whatever_refused_it)
{
	struct test_fx f;
	dmar_fault_record rec[16];
	dmar_device_stats ds;
	dmar_faultq_stats qs;
	dmar_result res[8];
	size_t nf = 99;
	const dmar_request req[8] = {
		{ 0x1000, DMAR_ACCESS_READ, DMAR_NO_PASID },
		{ TiB, DMAR_ACCESS_READ, DMAR_NO_PASID },          /* beyond 40 bits */
		{ 0x2000, DMAR_ACCESS_READ, DMAR_NO_PASID },       /* cached read-only */
		{ 0x3000, DMAR_ACCESS_WRITE, DMAR_NO_PASID },      /* not mapped */
		{ 0x1000, DMAR_ACCESS_READ, 5 },                   /* no such PASID */
		{ 0x2000, DMAR_ACCESS_WRITE, DMAR_NO_PASID },      /* read-only, cached */
		{ 0x1008, DMAR_ACCESS_WRITE, DMAR_NO_PASID },
		{ TiB - K4, DMAR_ACCESS_READ, DMAR_NO_PASID },
	};
	static const uint8_t want[8] = { DMAR_FAULT_NONE, DMAR_FAULT_DEVICE_WIDTH,
					 DMAR_FAULT_NONE, DMAR_FAULT_NOT_PRESENT,
					 DMAR_FAULT_PASID, DMAR_FAULT_WRITE,
					 DMAR_FAULT_NONE, DMAR_FAULT_NONE };

	test_fx_setup(&f, DMAR_DOMAIN_REMAPPED, 40, 64);
	CHECK_ST(dmar_domain_map(f.dom, 0x1000, 0x11000, K4, RW), DMAR_OK);
	CHECK_ST(dmar_domain_map(f.dom, 0x2000, 0x12000, K4, DMAR_PROT_READ), DMAR_OK);
	CHECK_ST(dmar_domain_map(f.dom, TiB - K4, 0x13000, K4, RW), DMAR_OK);
	/* a batch that all goes through: nothing queued (and the IOTLB now holds 0x2000) */
	CHECK_ST(dmar_device_translate_batch(f.dev, req + 6, res, 2, &nf), DMAR_OK);
	CHECK_EQ(nf, 0);
	CHECK_ST(dmar_device_translate_batch(f.dev, req + 2, res, 1, &nf), DMAR_OK);
	CHECK_EQ(nf, 0);
	dmar_faultq_get_stats(dmar_iommu_faults(f.mmu), &qs);
	CHECK_EQ(qs.faults, 0);
	CHECK_ST(dmar_device_translate_batch(f.dev, req, res, 8, &nf), DMAR_OK);
	CHECK_EQ(nf, 4);
	for (unsigned i = 0; i < 8; i++)
		CHECK_EQ(res[i].fault, want[i]);
	CHECK_EQ(res[0].pa, 0x11000);
	CHECK_EQ(res[6].pa, 0x11008);
	CHECK_EQ(res[7].pa, 0x13000);
	REQUIRE(dmar_faultq_drain(dmar_iommu_faults(f.mmu), rec, 16) == 4);
	for (unsigned i = 0, k = 0; i < 8; i++) {
		if (want[i] == DMAR_FAULT_NONE)
			continue;
		CHECK_EQ(rec[k].addr, req[i].iova);
		CHECK_EQ(rec[k].pasid, req[i].pasid);
		CHECK_EQ(rec[k].access, req[i].access);
		CHECK_EQ(rec[k].reason, want[i]);
		CHECK_EQ(rec[k].seq, k + 1);
		k++;
	}
	dmar_device_get_stats(f.dev, &ds);
	CHECK_EQ(ds.translations, 2 + 1 + 8);
	CHECK_EQ(ds.faults[DMAR_FAULT_DEVICE_WIDTH], 1);
	CHECK_EQ(ds.faults[DMAR_FAULT_NOT_PRESENT], 1);
	CHECK_EQ(ds.faults[DMAR_FAULT_PASID], 1);
	CHECK_EQ(ds.faults[DMAR_FAULT_WRITE], 1);
	/* long runs, broken anywhere in a block of eight (the device scans runs eight at a time):
	 * every request refused that must be, every other one translated */
	for (unsigned brk = 1; brk < 40; brk += 3) {
		dmar_request lr[40];
		dmar_result lres[40];

		for (unsigned i = 0; i < 40; i++) {
			lr[i].iova = 0x1000 + 8 * i;
			lr[i].access = DMAR_ACCESS_READ;
			lr[i].pasid = DMAR_NO_PASID;
		}
		lr[brk].iova = TiB + 8 * brk;                  /* beyond the width */
		lr[(brk + 11) % 40].pasid = 7;                 /* an unbound PASID */
		CHECK_ST(dmar_device_translate_batch(f.dev, lr, lres, 40, &nf), DMAR_OK);
		CHECK_EQ(nf, 2);
		for (unsigned i = 0; i < 40; i++) {
			const unsigned w = i == brk ? DMAR_FAULT_DEVICE_WIDTH
				: i == (brk + 11) % 40 ? DMAR_FAULT_PASID : DMAR_FAULT_NONE;

			CHECK_EQ(lres[i].fault, w);
			if (w == DMAR_FAULT_NONE)
				CHECK_EQ(lres[i].pa, 0x11000 + 8 * i);
		}
		CHECK_EQ(dmar_faultq_drain(dmar_iommu_faults(f.mmu), rec, 16), 2);
	}
	test_fx_teardown(&f);
}

struct counter_thread {
	dmar_device *dev;
	unsigned batches;
};

/* Batches of 8 requests, the last one unmapped. */
static void *count_requests(void *arg)
{
	const struct counter_thread *t = arg;
	dmar_request req[8];
	dmar_result res[8];
	size_t nf;

	dmar_thread_register();
	for (unsigned i = 0; i < 8; i++) {
		req[i].iova = i < 7 ? 0x1000 + 8 * i : 0x9000;
		req[i].access = DMAR_ACCESS_READ;
		req[i].pasid = DMAR_NO_PASID;
	}
	for (unsigned b = 0; b < t->batches; b++)
		(void)dmar_device_translate_batch(t->dev, req, res, 8, &nf);
	dmar_thread_unregister();
	return NULL;
}

/* Each thread counts its requests in its own slot; the device's and the IOMMU's counters
 * are the sums, also over threads that came and went and whose slots were taken again. */
TEST(device_requests_are_counted_from_every_thread)
{
	struct test_fx f;
	struct counter_thread ct;
	pthread_t th[4];
	dmar_device_stats ds;
	dmar_iommu_stats is;

	test_fx_setup(&f, DMAR_DOMAIN_REMAPPED, 40, 64);
	CHECK_ST(dmar_domain_map(f.dom, 0x1000, 0x11000, K4, RW), DMAR_OK);
	ct.dev = f.dev;
	ct.batches = 2000;
	for (unsigned wave = 0; wave < 2; wave++) {
		for (unsigned i = 0; i < 4; i++)
			REQUIRE(pthread_create(&th[i], NULL, count_requests, &ct) == 0);
		dmar_thread_offline();
		for (unsigned i = 0; i < 4; i++)
			pthread_join(th[i], NULL);
		dmar_thread_online();
	}
	dmar_device_get_stats(f.dev, &ds);
	dmar_iommu_get_stats(f.mmu, &is);
	CHECK_EQ(ds.translations, 2 * 4 * 2000 * 8);
	CHECK_EQ(ds.faults[DMAR_FAULT_NOT_PRESENT], 2 * 4 * 2000);
	CHECK_EQ(is.translations, ds.translations);
	CHECK_EQ(is.faults[DMAR_FAULT_NOT_PRESENT], 2 * 4 * 2000);
	CHECK_EQ(is.fault_queue.faults, 2 * 4 * 2000); /* every one pushed, stored or dropped */
	/* nobody drained the 64-record queue: it kept the first 64 and counted the rest */
	CHECK_EQ(is.fault_queue.stored, 64);
	CHECK_EQ(is.fault_queue.dropped, 2 * 4 * 2000 - 64);
	CHECK_EQ(is.fault_queue.drained, 0);
	test_fx_teardown(&f);
}

TEST(S15_linked_adapters_share_one_domain)
{
	struct test_fx f;
	dmar_device *second;
	dmar_domain *other;
	dmar_result r;
	dmar_device_stats ds;

	test_fx_setup(&f, DMAR_DOMAIN_REMAPPED, 40, 64);
	CHECK_ST(dmar_device_create(f.mmu, 0x0200, 40, &second), DMAR_OK);
	CHECK_ST(dmar_device_create(f.mmu, 0x0200, 40, &second), DMAR_E_EXISTS);
	CHECK_ST(dmar_device_link(f.dev, second), DMAR_OK);
	CHECK_ST(dmar_domain_map(f.dom, 0x5000, 0x9000, K4, RW), DMAR_OK);
	CHECK_ST(xlate(second, 0x5000, DMAR_NO_PASID, DMAR_ACCESS_READ, &r), DMAR_OK);
	CHECK_EQ(r.pa, 0x9000);
	CHECK_ST(dmar_domain_create(f.mmu, DMAR_DOMAIN_REMAPPED, NULL, &other), DMAR_OK);
	CHECK_ST(dmar_domain_map(other, 0x5000, 0xa000, K4, RW), DMAR_OK);
	CHECK_ST(dmar_device_attach(second, other), DMAR_OK); /* the whole adapter moves */
	CHECK_ST(xlate(f.dev, 0x5000, DMAR_NO_PASID, DMAR_ACCESS_READ, &r), DMAR_OK);
	CHECK_EQ(r.pa, 0xa000);
	CHECK_ST(dmar_domain_destroy(f.dom), DMAR_OK); /* nobody attached any more */
	CHECK_ST(dmar_domain_destroy(other), DMAR_E_BUSY);
	CHECK_ST(dmar_device_destroy(f.dev), DMAR_E_BUSY); /* leads a member */
	CHECK_ST(dmar_device_detach(f.dev), DMAR_OK);
	CHECK_ST(xlate(second, 0x5000, DMAR_NO_PASID, DMAR_ACCESS_READ, &r), DMAR_E_FAULT);
	CHECK_EQ(r.fault, DMAR_FAULT_NO_DOMAIN);
	dmar_device_get_stats(second, &ds);
	CHECK_EQ(ds.faults[DMAR_FAULT_NO_DOMAIN], 1);
	test_fx_teardown(&f);
}

/* A process's own CPU-format table, written by hand into physical memory (S2). */
static dmar_pa_t process_table(dmar_physmem *pm, uint64_t va, dmar_pa_t frame)
{
	dmar_pa_t t[4];
	uint64_t e;

	for (int i = 0; i < 4; i++) {
		dmar_physmem_alloc(pm, 1, 12, DMAR_PLACE_BELOW, 1ull << 32, &t[i]);
		for (unsigned k = 0; k < 512; k++) {
			e = 0;
			dmar_physmem_write(pm, t[i] + 8 * k, &e, 8);
		}
	}
	for (int lv = 4; lv >= 1; lv--) {
		unsigned idx = (unsigned)(va >> (12 + 9 * (lv - 1))) & 511;

		e = (lv == 1 ? frame : t[4 - lv + 1]) | DMAR_PTE_P | DMAR_PTE_RW | DMAR_PTE_US;
		dmar_physmem_write(pm, t[4 - lv] + 8 * idx, &e, 8);
	}
	return t[0];
}

/* S2: a PASID binds a process's own CPU page table, which is in the x86-64 format; the IOMMU
 * formats (VT-d second stage, AMD-Vi v1) and I/O virtual address tables are the domain's,
 * never a process's (iommu.h, dmar_domain_bind_pasid).  A refused binding binds nothing. */
TEST(S2_a_pasid_binds_only_an_x86_64_cpu_table)
{
	static const dmar_pt_format bad[] = {
		{ .levels = 4, .kind = DMAR_PT_VTD_SS },
		{ .levels = 4, .kind = DMAR_PT_AMDV1 },
		{ .levels = 6, .kind = DMAR_PT_AMDV1 },
		{ .levels = 4, .flags = DMAR_PT_IOVA },
		{ .levels = 4, .kind = DMAR_PT_KIND_COUNT },
	};
	const dmar_pt_format cpu = { .levels = 4, .flags = DMAR_PT_UPPER_HALF | DMAR_PT_AD };
	struct test_fx f;
	dmar_result r;
	uint32_t pasid;
	dmar_pa_t root;

	test_fx_setup(&f, DMAR_DOMAIN_REMAPPED, 48, 64);
	CHECK_ST(dmar_pasid_alloc(f.mmu, &pasid), DMAR_OK);
	root = process_table(f.pm, 0x7fff0000c000ull, 0x6000000);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_ST(dmar_domain_bind_pasid(f.dom, pasid, root, &bad[i]), DMAR_E_INVALID);
		CHECK_ST(xlate(f.dev, 0x7fff0000c010ull, pasid, DMAR_ACCESS_READ, &r), DMAR_E_FAULT);
		CHECK_EQ(r.fault, DMAR_FAULT_PASID);
	}
	CHECK_ST(dmar_domain_bind_pasid(f.dom, pasid, root, &cpu), DMAR_OK);
	CHECK_ST(xlate(f.dev, 0x7fff0000c010ull, pasid, DMAR_ACCESS_READ, &r), DMAR_OK);
	CHECK_EQ(r.pa, 0x6000010);
	test_fx_teardown(&f);
}

/* S13: a remapping domain's table may be in the format of the IOMMU being emulated (iommu.h,
 * dmar_domain_create); requests without a PASID walk it, its input range is the format's,
 * and what one format cannot express (a write-only page on x86-64) it refuses. */
TEST(S13_domains_take_every_iommu_format)
{
	static const dmar_pt_format fmts[] = {
		{ .levels = 4 },
		{ .levels = 3, .kind = DMAR_PT_VTD_SS },
		{ .levels = 5, .kind = DMAR_PT_VTD_SS, .flags = DMAR_PT_1G | DMAR_PT_EXEC },
		{ .levels = 1, .kind = DMAR_PT_AMDV1 },
		{ .levels = 3, .kind = DMAR_PT_AMDV1, .pa_bits = 40 },
		{ .levels = 6, .kind = DMAR_PT_AMDV1, .flags = DMAR_PT_AD },
	};
	static const uint64_t last_want[] = { (1ull << 48) - 1, (1ull << 39) - 1, (1ull << 57) - 1,
					      (1ull << 21) - 1, (1ull << 39) - 1, UINT64_MAX };

	for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		const int x86 = fmts[i].kind == DMAR_PT_X86_64;
		dmar_pgtable_config pc;
		dmar_physmem *pm = test_physmem(0);
		dmar_iommu *mmu = test_iommu(pm, 64);
		dmar_domain *dom;
		dmar_device *dev;
		dmar_iova_t last;
		dmar_result r;
		uint64_t iova;

		dmar_pgtable_config_default(&pc);
		pc.format = fmts[i];
		REQUIRE(dmar_domain_create(mmu, DMAR_DOMAIN_REMAPPED, &pc, &dom) == DMAR_OK);
		CHECK_ST(dmar_device_create(mmu, 0x200, 64, &dev), DMAR_OK);
		CHECK_ST(dmar_device_attach(dev, dom), DMAR_OK);
		CHECK_ST(dmar_domain_input_range(dom, &last), DMAR_OK);
		CHECK_EQ(last, last_want[i]);
		CHECK_EQ(dmar_pgtable_format(dmar_domain_pgtable(dom))->kind, fmts[i].kind);
		/* the last two pages of the input range: one read-write, one write-only */
		iova = (last & ~0xfffull) - 0x1000;
		CHECK_ST(dmar_domain_map(dom, iova, 0x5000000, 0x1000, DMAR_PROT_READ | DMAR_PROT_WRITE),
			 DMAR_OK);
		CHECK_ST(dmar_domain_map(dom, iova + 0x1000, 0x5001000, 0x1000, DMAR_PROT_WRITE),
			 x86 ? DMAR_E_INVALID : DMAR_OK);
		CHECK_ST(xlate(dev, iova + 0x10, DMAR_NO_PASID, DMAR_ACCESS_WRITE, &r), DMAR_OK);
		CHECK_EQ(r.pa, 0x5000010);
		CHECK_ST(xlate(dev, iova + 0x1010, DMAR_NO_PASID, DMAR_ACCESS_WRITE, &r),
			 x86 ? DMAR_E_FAULT : DMAR_OK);
		if (x86) {
			CHECK_EQ(r.fault, DMAR_FAULT_NOT_PRESENT);
		} else {
			CHECK_EQ(r.pa, 0x5001010);
			CHECK_ST(xlate(dev, iova + 0x1010, DMAR_NO_PASID, DMAR_ACCESS_READ, &r),
				 DMAR_E_FAULT);
			CHECK_EQ(r.fault, DMAR_FAULT_READ);
		}
		/* past the input range, when there is such an address */
		if (last != UINT64_MAX) {
			CHECK_ST(xlate(dev, last + 1, DMAR_NO_PASID, DMAR_ACCESS_READ, &r), DMAR_E_FAULT);
			CHECK_EQ(r.fault, DMAR_FAULT_ADDR_WIDTH);
			CHECK_ST(dmar_domain_map(dom, last + 1, 0x5000000, 0x1000, DMAR_PROT_READ),
				 DMAR_E_RANGE);
		}
		CHECK_ST(dmar_device_detach(dev), DMAR_OK);
		CHECK_ST(dmar_device_destroy(dev), DMAR_OK);
		CHECK_ST(dmar_domain_destroy(dom), DMAR_OK);
		dmar_iommu_destroy(mmu);
		dmar_physmem_destroy(pm);
	}
}

TEST(S2_S3_pasid_requests_walk_the_process_table)
{
	struct test_fx f;
	dmar_result r;
	uint32_t pasid, p2;
	const dmar_pt_format fmt = { .levels = 4 };
	dmar_pa_t root;

	test_fx_setup(&f, DMAR_DOMAIN_REMAPPED, 48, 64);
	CHECK_ST(dmar_pasid_alloc(f.mmu, &pasid), DMAR_OK);
	CHECK_ST(dmar_pasid_alloc(f.mmu, &p2), DMAR_OK);
	CHECK(pasid != p2 && pasid > 0 && pasid < (1u << 20) && p2 > 0);
	root = process_table(f.pm, 0x7fff0000c000ull, 0x6000000);
	CHECK_ST(dmar_domain_bind_pasid(f.dom, pasid, root, &fmt), DMAR_OK);
	CHECK_ST(dmar_domain_bind_pasid(f.dom, pasid, root, &fmt), DMAR_E_EXISTS);
	CHECK_ST(xlate(f.dev, 0x7fff0000c010ull, pasid, DMAR_ACCESS_WRITE | DMAR_ACCESS_USER, &r),
		 DMAR_OK);
	CHECK_EQ(r.pa, 0x6000010);
	/* the same address without PASID goes through the domain's table: nothing there */
	CHECK_ST(xlate(f.dev, 0x7fff0000c010ull, DMAR_NO_PASID, DMAR_ACCESS_READ, &r), DMAR_E_FAULT);
	CHECK_EQ(r.fault, DMAR_FAULT_NOT_PRESENT);
	CHECK_ST(xlate(f.dev, 0x7fff0000c010ull, p2, DMAR_ACCESS_READ, &r), DMAR_E_FAULT);
	CHECK_EQ(r.fault, DMAR_FAULT_PASID);
	CHECK_ST(dmar_pasid_free(f.mmu, pasid), DMAR_E_BUSY);
	/* unbinding invalidates what the IOTLB cached for it */
	CHECK_ST(xlate(f.dev, 0x7fff0000c010ull, pasid, DMAR_ACCESS_READ, &r), DMAR_OK);
	CHECK(r.flags & DMAR_RESULT_HIT);
	CHECK_ST(dmar_domain_unbind_pasid(f.dom, pasid), DMAR_OK);
	CHECK_ST(xlate(f.dev, 0x7fff0000c010ull, pasid, DMAR_ACCESS_READ, &r), DMAR_E_FAULT);
	CHECK_EQ(r.fault, DMAR_FAULT_PASID);
	CHECK_ST(dmar_pasid_free(f.mmu, pasid), DMAR_OK);
	CHECK_ST(dmar_pasid_free(f.mmu, pasid), DMAR_E_NOT_FOUND);
	/* explicit binding of a chosen PASID, and the width limit */
	CHECK_ST(dmar_domain_bind_pasid(f.dom, 777, root, &fmt), DMAR_OK);
	CHECK_ST(dmar_domain_bind_pasid(f.dom, 1u << 20, root, &fmt), DMAR_E_INVALID);
	CHECK_ST(dmar_domain_bind_pasid(f.dom, 0, root, &fmt), DMAR_E_INVALID);
	CHECK_ST(xlate(f.dev, 0x7fff0000c010ull, 1u << 20, DMAR_ACCESS_READ, &r), DMAR_E_FAULT);
	CHECK_EQ(r.fault, DMAR_FAULT_PASID);
	/* a 5-level process table, rooted above 1 TiB, reaching above 2^47 */
	{
		dmar_pgtable_config pc;
		dmar_pgtable *p5;
		dmar_device *wide;
		const uint64_t va = 0x00f0000012345000ull;

		dmar_pgtable_config_default(&pc);
		pc.format.levels = 5;
		pc.place = DMAR_PLACE_ABOVE;
		pc.place_limit = TiB;
		REQUIRE(dmar_pgtable_create(f.pm, &pc, &p5) == DMAR_OK);
		CHECK(dmar_pgtable_root(p5) >= TiB);
		CHECK_ST(dmar_pgtable_map(p5, va, 0x7000000, K4, RW | DMAR_PROT_USER), DMAR_OK);
		CHECK_ST(dmar_domain_bind_pasid(f.dom, 778, dmar_pgtable_root(p5), dmar_pgtable_format(p5)),
			 DMAR_OK);
		/* the 48-bit device cannot carry it; a 64-bit one on the same adapter can't be
		 * linked while attached, so use a device of its own */
		CHECK_ST(xlate(f.dev, va, 778, DMAR_ACCESS_READ, &r), DMAR_E_FAULT);
		CHECK_EQ(r.fault, DMAR_FAULT_DEVICE_WIDTH);
		CHECK_ST(dmar_device_create(f.mmu, 0x0400, 64, &wide), DMAR_OK);
		CHECK_ST(dmar_device_attach(wide, f.dom), DMAR_OK);
		CHECK_ST(xlate(wide, va + 0x18, 778, DMAR_ACCESS_READ | DMAR_ACCESS_USER, &r), DMAR_OK);
		CHECK_EQ(r.pa, 0x7000018);
		CHECK_ST(dmar_domain_unbind_pasid(f.dom, 778), DMAR_OK);
		dmar_pgtable_destroy(p5);
	}
	test_fx_teardown(&f);
}

TEST(S18_exclusive_access_blocks_dma_and_switches_domains)
{
	struct test_fx f;
	dmar_domain *b;
	dmar_result r;
	dmar_device_stats ds;
	dmar_iotlb_stats ts0, ts1;

	test_fx_setup(&f, DMAR_DOMAIN_REMAPPED, 40, 64);
	CHECK_ST(dmar_domain_create(f.mmu, DMAR_DOMAIN_REMAPPED, NULL, &b), DMAR_OK);
	CHECK(dmar_domain_id(b) != dmar_domain_id(f.dom));
	CHECK_ST(dmar_domain_map(f.dom, 0x1000, 0xa000, K4, RW), DMAR_OK);
	CHECK_ST(dmar_domain_map(b, 0x1000, 0xb000, K4, RW), DMAR_OK);
	CHECK_ST(xlate(f.dev, 0x1000, DMAR_NO_PASID, DMAR_ACCESS_READ, &r), DMAR_OK);
	CHECK_EQ(r.pa, 0xa000);
	CHECK_ST(dmar_device_switch_domain(f.dev, b), DMAR_E_BUSY); /* outside a window */
	CHECK_ST(dmar_device_end_exclusive(f.dev), DMAR_E_BUSY);
	CHECK_ST(dmar_device_begin_exclusive(f.dev), DMAR_OK);
	CHECK_ST(dmar_device_begin_exclusive(f.dev), DMAR_E_BUSY);
	CHECK_ST(dmar_device_attach(f.dev, b), DMAR_E_BUSY);
	CHECK_ST(dmar_device_detach(f.dev), DMAR_E_BUSY);
	CHECK_ST(xlate(f.dev, 0x1000, DMAR_NO_PASID, DMAR_ACCESS_READ, &r), DMAR_E_FAULT);
	CHECK_EQ(r.fault, DMAR_FAULT_EXCLUSIVE);
	dmar_iotlb_get_stats(dmar_iommu_iotlb(f.mmu), &ts0);
	CHECK_ST(dmar_device_switch_domain(f.dev, b), DMAR_OK);
	dmar_iotlb_get_stats(dmar_iommu_iotlb(f.mmu), &ts1);
	CHECK(ts1.invalidations > ts0.invalidations); /* the old domain's entries went */
	CHECK_ST(xlate(f.dev, 0x1000, DMAR_NO_PASID, DMAR_ACCESS_READ, &r), DMAR_E_FAULT);
	CHECK_EQ(r.fault, DMAR_FAULT_EXCLUSIVE);
	CHECK_ST(dmar_device_end_exclusive(f.dev), DMAR_OK);
	CHECK_ST(xlate(f.dev, 0x1000, DMAR_NO_PASID, DMAR_ACCESS_READ, &r), DMAR_OK);
	CHECK_EQ(r.pa, 0xb000);
	dmar_device_get_stats(f.dev, &ds);
	CHECK_EQ(ds.faults[DMAR_FAULT_EXCLUSIVE], 2);
	CHECK_EQ(ds.switches, 1);
	{
		dmar_iommu_stats is;

		dmar_iommu_get_stats(f.mmu, &is);
		CHECK_EQ(is.translations, 4);
		CHECK_EQ(is.faults[DMAR_FAULT_EXCLUSIVE], 2);
		CHECK_EQ(is.switches, 1);
		CHECK_EQ(is.fault_queue.stored, 2);
		CHECK_EQ(is.iotlb.translations, 2); /* the refused ones never reach the IOTLB */
	}
	{
		/* iommu.h: the IOMMU's counts never go down: not when the device that led an
		 * adapter joins another (its switches were its adapter's), not when it goes */
		dmar_device *lead;
		dmar_iommu_stats is;

		CHECK_ST(dmar_device_create(f.mmu, 0x0300, 40, &lead), DMAR_OK);
		CHECK_ST(dmar_device_detach(f.dev), DMAR_OK);
		CHECK_ST(dmar_device_link(lead, f.dev), DMAR_OK);
		dmar_iommu_get_stats(f.mmu, &is);
		CHECK_EQ(is.switches, 1);
		CHECK_EQ(is.translations, 4);
		CHECK_ST(dmar_device_destroy(f.dev), DMAR_OK);
		f.dev = NULL;
		dmar_iommu_get_stats(f.mmu, &is);
		CHECK_EQ(is.switches, 1);
		CHECK_EQ(is.translations, 4);
		CHECK_EQ(is.faults[DMAR_FAULT_EXCLUSIVE], 2);
		CHECK_EQ(is.fault_queue.faults, 2);
		CHECK_ST(dmar_device_destroy(lead), DMAR_OK);
	}
	CHECK_ST(dmar_domain_destroy(f.dom), DMAR_OK);
	test_fx_teardown(&f);
}

TEST(several_iommus_in_one_process_are_independent)
{
	struct test_fx a, b;
	dmar_result r;

	test_fx_setup(&a, DMAR_DOMAIN_REMAPPED, 40, 64);
	/* the same requester id and domain id again, in another IOMMU: fine */
	test_fx_setup(&b, DMAR_DOMAIN_REMAPPED, 40, 64);
	CHECK_EQ(dmar_domain_id(a.dom), dmar_domain_id(b.dom));
	CHECK_ST(dmar_domain_map(a.dom, 0x1000, 0x11000, K4, RW), DMAR_OK);
	CHECK_ST(dmar_domain_map(b.dom, 0x1000, 0x22000, K4, RW), DMAR_OK);
	CHECK_ST(xlate(a.dev, 0x1000, DMAR_NO_PASID, DMAR_ACCESS_READ, &r), DMAR_OK);
	CHECK_EQ(r.pa, 0x11000);
	CHECK_ST(xlate(b.dev, 0x1000, DMAR_NO_PASID, DMAR_ACCESS_READ, &r), DMAR_OK);
	CHECK_EQ(r.pa, 0x22000);
	test_fx_teardown(&a);
	test_fx_teardown(&b);
}

/* Design decisions 5 and 6: two IOMMUs in one process, one with the scalar probe and no L0,
 * one with the best probe here and its L0 always on, translate the same batches side by
 * side through their devices, each honouring its own configuration. */
TEST(S30_two_iommus_keep_their_own_probe_variant_and_l0_mode)
{
	static const char *const names[DMAR_SIMD_COUNT] = { NULL, "c", "sse42", "avx2", "avx512" };
	dmar_physmem *pm = test_physmem(0);
	dmar_iommu_config ca, cb;
	dmar_iommu *a, *b;
	dmar_domain *da, *db;
	dmar_device *va, *vb;
	dmar_iotlb_stats sa, sb;
	dmar_request q[32];
	dmar_result ra[32], rb[32];
	size_t nf;

	dmar_iommu_config_default(&ca);
	ca.iotlb.simd = DMAR_SIMD_C;
	ca.iotlb.l0 = DMAR_L0_OFF;
	cb = ca;
	cb.iotlb.simd = DMAR_SIMD_SSE42;
	for (int k = DMAR_SIMD_AVX2; k > DMAR_SIMD_C; k--) { /* the best this CPU runs */
		dmar_iotlb_config t = cb.iotlb;
		dmar_iotlb *probe = NULL;

		t.simd = (dmar_simd)k;
		if (dmar_iotlb_create(&t, &probe) == DMAR_OK) {
			cb.iotlb.simd = (dmar_simd)k;
			(void)dmar_iotlb_destroy(probe);
			break;
		}
	}
	cb.iotlb.l0 = DMAR_L0_ALWAYS;
	REQUIRE(dmar_iommu_create(pm, &ca, &a) == DMAR_OK);
	REQUIRE(dmar_iommu_create(pm, &cb, &b) == DMAR_OK);
	CHECK(strcmp(dmar_iotlb_variant(dmar_iommu_iotlb(a)), "c") == 0);
	CHECK(strcmp(dmar_iotlb_variant(dmar_iommu_iotlb(b)), names[cb.iotlb.simd]) == 0);
	CHECK_EQ(dmar_iotlb_l0_mode(dmar_iommu_iotlb(a)), DMAR_L0_OFF);
	CHECK_EQ(dmar_iotlb_l0_mode(dmar_iommu_iotlb(b)), DMAR_L0_ALWAYS);
	REQUIRE(dmar_domain_create(a, DMAR_DOMAIN_REMAPPED, NULL, &da) == DMAR_OK);
	REQUIRE(dmar_domain_create(b, DMAR_DOMAIN_REMAPPED, NULL, &db) == DMAR_OK);
	REQUIRE(dmar_device_create(a, 0x100, 48, &va) == DMAR_OK);
	REQUIRE(dmar_device_create(b, 0x100, 48, &vb) == DMAR_OK);
	REQUIRE(dmar_device_attach(va, da) == DMAR_OK);
	REQUIRE(dmar_device_attach(vb, db) == DMAR_OK);
	CHECK_ST(dmar_domain_map(da, 0x40000000, 0x1000000, 32 * K4, RW), DMAR_OK);
	CHECK_ST(dmar_domain_map(db, 0x40000000, 0x2000000, 32 * K4, RW), DMAR_OK);
	for (int i = 0; i < 32; i++)
		q[i] = (dmar_request){ .iova = 0x40000000 + (uint64_t)i * K4 + 4,
				       .access = DMAR_ACCESS_WRITE, .pasid = DMAR_NO_PASID };
	for (int round = 0; round < 50; round++) {
		CHECK_ST(dmar_device_translate_batch(va, q, ra, 32, &nf), DMAR_OK);
		CHECK_EQ(nf, 0);
		CHECK_ST(dmar_device_translate_batch(vb, q, rb, 32, &nf), DMAR_OK);
		CHECK_EQ(nf, 0);
		for (int i = 0; i < 32; i++) {
			CHECK_EQ(ra[i].pa, 0x1000000 + (uint64_t)i * K4 + 4);
			CHECK_EQ(rb[i].pa, 0x2000000 + (uint64_t)i * K4 + 4);
			CHECK_EQ(ra[i].page_lg2, rb[i].page_lg2);
			CHECK_EQ(ra[i].prot, rb[i].prot);
		}
	}
	dmar_iotlb_get_stats(dmar_iommu_iotlb(a), &sa);
	dmar_iotlb_get_stats(dmar_iommu_iotlb(b), &sb);
	CHECK_EQ(sa.translations, 1600);
	CHECK_EQ(sb.translations, 1600);
	CHECK_EQ(sa.l0_hits, 0); /* no L0 in a */
	CHECK(sb.l0_hits >= 1500); /* b answers from its L0 after two rounds */
	CHECK_EQ(sa.hits, 1600 - 32);
	CHECK_EQ(sb.hits, 1600 - 32);
	dmar_iommu_destroy(a);
	dmar_iommu_destroy(b);
	dmar_physmem_destroy(pm);
}

TEST(bad_configuration_calls_get_a_status)
{
	struct test_fx f;
	dmar_device *d;
	dmar_domain *dom;
	dmar_iommu *m;
	dmar_iommu_config c;
	dmar_request q = { .iova = 0, .access = 0x20, .pasid = DMAR_NO_PASID };
	dmar_result r;

	test_fx_setup(&f, DMAR_DOMAIN_REMAPPED, 40, 64);
	dmar_iommu_config_default(&c);
	c.pasid_bits = 21;
	CHECK_ST(dmar_iommu_create(f.pm, &c, &m), DMAR_E_INVALID);
	CHECK_ST(dmar_device_create(f.mmu, 7, 31, &d), DMAR_E_INVALID);
	CHECK_ST(dmar_domain_create(f.mmu, (dmar_domain_kind)9, NULL, &dom), DMAR_E_INVALID);
	CHECK_ST(dmar_device_translate(f.dev, &q, &r), DMAR_E_INVALID);
	CHECK_ST(dmar_device_link(f.dev, f.dev), DMAR_E_INVALID);
	CHECK_ST(dmar_device_create(f.mmu, 7, 40, &d), DMAR_OK);
	CHECK_ST(dmar_device_link(d, f.dev), DMAR_E_BUSY); /* f.dev is attached */
	/* iommu.h's configuration ranges: fault_queue 2 .. 2^24 a power of two, pasid_bits
	 * 1 .. 20; an IOTLB variant the CPU lacks is not supported, whatever else is right */
	{
		static const uint32_t bad_fq[] = { 0, 1, 3, 1000, 1u << 25 };
		dmar_iommu_config d0;

		dmar_iommu_config_default(&d0);
		CHECK_EQ(d0.fault_queue, 1024);
		CHECK_EQ(d0.pasid_bits, 20);
		for (size_t i = 0; i < sizeof(bad_fq) / sizeof(bad_fq[0]); i++) {
			c = d0;
			c.fault_queue = bad_fq[i];
			m = NULL;
			CHECK_ST(dmar_iommu_create(f.pm, &c, &m), DMAR_E_INVALID);
			CHECK(m == NULL);
		}
		c = d0;
		c.pasid_bits = 0;
		CHECK_ST(dmar_iommu_create(f.pm, &c, &m), DMAR_E_INVALID);
		c = d0;
		c.iotlb.ways = 5;
		CHECK_ST(dmar_iommu_create(f.pm, &c, &m), DMAR_E_INVALID);
		for (int end = 0; end < 2; end++) { /* both ends of each range */
			c = d0;
			c.fault_queue = end ? 1u << 24 : 2;
			c.pasid_bits = end ? 20 : 1;
			CHECK_ST(dmar_iommu_create(f.pm, &c, &m), DMAR_OK);
			dmar_iommu_destroy(m);
		}
		c = d0;
		c.iotlb.simd = DMAR_SIMD_AVX512;
		{
			dmar_iotlb *t = NULL;
			const dmar_status want = dmar_iotlb_create(&c.iotlb, &t);

			dmar_iotlb_destroy(t);
			CHECK(want == DMAR_OK || want == DMAR_E_NOT_SUPPORTED);
			m = NULL;
			CHECK_ST(dmar_iommu_create(f.pm, &c, &m), want);
			dmar_iommu_destroy(m);
		}
	}
	/* objects of another IOMMU */
	{
		dmar_iommu *other = test_iommu(f.pm, 0);
		dmar_domain *od;
		dmar_device *ov;

		REQUIRE(dmar_domain_create(other, DMAR_DOMAIN_REMAPPED, NULL, &od) == DMAR_OK);
		REQUIRE(dmar_device_create(other, 7, 40, &ov) == DMAR_OK);
		CHECK_ST(dmar_device_attach(d, od), DMAR_E_INVALID);
		CHECK_ST(dmar_device_link(d, ov), DMAR_E_INVALID);
		CHECK_ST(dmar_device_link(ov, d), DMAR_E_INVALID);
		CHECK_ST(dmar_device_begin_exclusive(f.dev), DMAR_OK);
		CHECK_ST(dmar_device_switch_domain(f.dev, od), DMAR_E_INVALID);
		CHECK_ST(dmar_device_link(f.dev, d), DMAR_E_BUSY); /* the adapter is in a window */
		CHECK_ST(dmar_device_end_exclusive(f.dev), DMAR_OK);
		dmar_iommu_destroy(other);
	}
	/* a pass-through domain maps nothing, so it unmaps nothing */
	CHECK_ST(dmar_domain_create(f.mmu, DMAR_DOMAIN_PASSTHROUGH, NULL, &dom), DMAR_OK);
	CHECK_ST(dmar_domain_unmap(dom, 0x1000, K4, NULL), DMAR_E_NOT_SUPPORTED);
	CHECK_ST(dmar_domain_destroy(dom), DMAR_OK);
	test_fx_teardown(&f);
}

/* iommu.h: every translating call of a device answers DMAR_E_THREAD from an unregistered
 * thread, with nothing translated, counted or moved. */
static void *device_calls_unregistered(void *arg)
{
	dmar_device *dev = arg;
	const dmar_request q = { .iova = 0x1000, .access = DMAR_ACCESS_READ, .pasid = DMAR_NO_PASID };
	dmar_result r = { .pa = 77 };
	uint8_t buf[16] = { 0 };
	size_t nf = 9, done = 9;
	int ok = 1;

	ok &= dmar_device_translate(dev, &q, &r) == DMAR_E_THREAD && r.pa == 77;
	ok &= dmar_device_translate_batch(dev, &q, &r, 1, &nf) == DMAR_E_THREAD && r.pa == 77;
	ok &= dmar_device_dma(dev, 0x1000, DMAR_NO_PASID, DMAR_DMA_WRITE, buf, 16, &done, &r) ==
	      DMAR_E_THREAD && done == 0 && r.pa == 77;
	return (void *)(uintptr_t)ok;
}

TEST(device_calls_from_an_unregistered_thread_are_refused)
{
	struct test_fx f;
	dmar_device_stats a, b;
	pthread_t th;
	void *ret;
	uint8_t page[16];

	test_fx_setup(&f, DMAR_DOMAIN_REMAPPED, 40, 64);
	CHECK_ST(dmar_domain_map(f.dom, 0x1000, TiB, K4, RW), DMAR_OK);
	CHECK_ST(dmar_physmem_read(f.pm, TiB, page, 16), DMAR_OK);
	dmar_device_get_stats(f.dev, &a);
	REQUIRE(pthread_create(&th, NULL, device_calls_unregistered, f.dev) == 0);
	pthread_join(th, &ret);
	CHECK_EQ((uintptr_t)ret, 1);
	dmar_device_get_stats(f.dev, &b);
	CHECK(memcmp(&a, &b, sizeof(a)) == 0);
	{
		uint8_t now[16];

		CHECK_ST(dmar_physmem_read(f.pm, TiB, now, 16), DMAR_OK);
		CHECK(memcmp(now, page, 16) == 0);
	}
	test_fx_teardown(&f);
}


TEST(dma_moves_bytes_across_scattered_pages_and_stops_at_the_first_fault)
{
	struct test_fx f;
	uint8_t out[3 * 4096], in[3 * 4096];
	dmar_result r;
	size_t done;

	test_fx_setup(&f, DMAR_DOMAIN_REMAPPED, 40, 64);
	/* logical 0x200000..0x203000 over three frames in reverse order, then nothing */
	for (int i = 0; i < 3; i++)
		CHECK_ST(dmar_domain_map(f.dom, 0x200000 + (uint64_t)i * K4, TiB + (uint64_t)(9 - i) * K4, K4, RW),
			 DMAR_OK);
	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)(i * 7 + 1);
	CHECK_ST(dmar_device_dma(f.dev, 0x200100, DMAR_NO_PASID, DMAR_DMA_WRITE, out, 2 * 4096, &done, &r),
		 DMAR_OK);
	CHECK_EQ(done, 2 * 4096);
	/* the bytes landed where the table says: page 0 at frame 9, page 1 at frame 8 ... */
	CHECK_ST(dmar_physmem_read(f.pm, TiB + 9 * K4 + 0x100, in, 4096 - 0x100), DMAR_OK);
	CHECK(memcmp(in, out, 4096 - 0x100) == 0);
	CHECK_ST(dmar_physmem_read(f.pm, TiB + 8 * K4, in, 4096), DMAR_OK);
	CHECK(memcmp(in, out + 4096 - 0x100, 4096) == 0);
	memset(in, 0, sizeof(in));
	CHECK_ST(dmar_device_dma(f.dev, 0x200100, DMAR_NO_PASID, DMAR_DMA_READ, in, 2 * 4096, NULL, NULL),
		 DMAR_OK);
	CHECK(memcmp(in, out, 2 * 4096) == 0);
	/* into the unmapped fourth page: the first three pages move, then the fault */
	{
		static uint8_t big[4 * 4096];

		CHECK_ST(dmar_device_dma(f.dev, 0x200000, DMAR_NO_PASID, DMAR_DMA_READ, big, sizeof(big),
					 &done, &r), DMAR_E_FAULT);
		CHECK_EQ(done, 3 * 4096);
		CHECK_EQ(r.fault, DMAR_FAULT_NOT_PRESENT);
	}
	CHECK_ST(dmar_device_dma(f.dev, 0, DMAR_NO_PASID, (dmar_dma_dir)5, in, 1, &done, &r), DMAR_E_INVALID);
	CHECK_ST(dmar_device_dma(f.dev, ~0ull, DMAR_NO_PASID, DMAR_DMA_READ, in, 2, &done, &r), DMAR_E_INVALID);
	test_fx_teardown(&f);
}

/* iommu.h, dmar_device_dma: every status it lists, with what it leaves in *done and *fault.
 * Read-only RAM (DMAR_RAM_READONLY) refuses a write whose translation is allowed; a buffer
 * may end exactly at 2^64 but not run past it. */
TEST(S7_dma_reports_every_status_with_the_page_that_stopped_it)
{
	static uint8_t rom[4 * 4096] __attribute__((aligned(4096)));
	const dmar_ram_range r2[] = {
		{ .base = 0, .size = 64ull << 20 },
		{ .base = 1ull << 32, .size = sizeof(rom), .kind = DMAR_RAM_BUFFER,
		  .flags = DMAR_RAM_READONLY, .host = rom },
	};
	dmar_physmem_config pc = { .ranges = r2, .nranges = 2 };
	dmar_physmem *pm;
	dmar_iommu *mmu;
	dmar_domain *dom, *pt;
	dmar_device *dev, *dev64;
	uint8_t buf[2 * 4096];
	dmar_result r;
	size_t done;

	memset(rom, 0x5a, sizeof(rom));
	REQUIRE(dmar_physmem_create(&pc, &pm) == DMAR_OK);
	mmu = test_iommu(pm, 0);
	REQUIRE(dmar_domain_create(mmu, DMAR_DOMAIN_REMAPPED, NULL, &dom) == DMAR_OK);
	REQUIRE(dmar_domain_create(mmu, DMAR_DOMAIN_PASSTHROUGH, NULL, &pt) == DMAR_OK);
	REQUIRE(dmar_device_create(mmu, 0x10, 40, &dev) == DMAR_OK);
	REQUIRE(dmar_device_create(mmu, 0x11, 64, &dev64) == DMAR_OK);
	REQUIRE(dmar_device_attach(dev, dom) == DMAR_OK);
	REQUIRE(dmar_device_attach(dev64, pt) == DMAR_OK);
	/* page 0: writable RAM; page 1: read-only RAM mapped writable; page 2: MMIO (no RAM) */
	CHECK_ST(dmar_domain_map(dom, 0x10000, 0x3000, K4, RW), DMAR_OK);
	CHECK_ST(dmar_domain_map(dom, 0x11000, 1ull << 32, K4, RW), DMAR_OK);
	CHECK_ST(dmar_domain_map(dom, 0x12000, 1ull << 36, K4, RW), DMAR_OK);
	memset(buf, 0xc3, sizeof(buf));

	memset(&r, 0xee, sizeof(r));
	CHECK_ST(dmar_device_dma(dev, 0x10800, DMAR_NO_PASID, DMAR_DMA_WRITE, buf, 4096, &done, &r),
		 DMAR_E_READONLY);
	CHECK_EQ(done, 2048); /* the writable half page moved */
	CHECK_EQ(r.pa, 1ull << 32);
	CHECK_EQ(r.fault, DMAR_FAULT_NONE);
	CHECK_EQ(rom[0], 0x5a);
	/* reading it is fine */
	CHECK_ST(dmar_device_dma(dev, 0x11000, DMAR_NO_PASID, DMAR_DMA_READ, buf, 16, &done, &r),
		 DMAR_OK);
	CHECK_EQ(buf[15], 0x5a);
	memset(&r, 0xee, sizeof(r));
	CHECK_ST(dmar_device_dma(dev, 0x11ff0, DMAR_NO_PASID, DMAR_DMA_READ, buf, 64, &done, &r),
		 DMAR_E_RANGE);
	CHECK_EQ(done, 16);
	CHECK_EQ(r.pa, 1ull << 36);
	CHECK_EQ(r.fault, DMAR_FAULT_NONE);
	memset(&r, 0xee, sizeof(r));
	CHECK_ST(dmar_device_dma(dev, 0x12ff8, DMAR_NO_PASID, DMAR_DMA_READ, buf, 16, &done, &r),
		 DMAR_E_RANGE); /* MMIO first: nothing moves */
	CHECK_EQ(done, 0);
	CHECK_ST(dmar_device_dma(dev, 0x13000, DMAR_NO_PASID, DMAR_DMA_READ, buf, 16, &done, &r),
		 DMAR_E_FAULT);
	CHECK_EQ(r.fault, DMAR_FAULT_NOT_PRESENT);
	/* the top of the 64-bit space: pass-through reaches it (not RAM), one byte more wraps */
	memset(&r, 0xee, sizeof(r));
	CHECK_ST(dmar_device_dma(dev64, 0 - K4, DMAR_NO_PASID, DMAR_DMA_READ, buf, K4, &done, &r),
		 DMAR_E_RANGE);
	CHECK_EQ(r.pa, 0 - K4);
	r.pa = 7;
	CHECK_ST(dmar_device_dma(dev64, 0 - K4, DMAR_NO_PASID, DMAR_DMA_READ, buf, K4 + 1, &done, &r),
		 DMAR_E_INVALID);
	CHECK_EQ(r.pa, 7); /* untouched */
	CHECK_EQ(done, 0);
	CHECK_ST(dmar_device_dma(dev64, 0 - 1, DMAR_NO_PASID, DMAR_DMA_READ, buf, 1, &done, &r),
		 DMAR_E_RANGE);
	CHECK_ST(dmar_device_dma(dev, 0, DMAR_NO_PASID, DMAR_DMA_READ, NULL, 8, &done, &r),
		 DMAR_E_INVALID);
	CHECK_ST(dmar_device_dma(NULL, 0, DMAR_NO_PASID, DMAR_DMA_READ, buf, 8, &done, &r),
		 DMAR_E_INVALID);
	CHECK_ST(dmar_device_dma(dev, 0x10000, DMAR_NO_PASID, DMAR_DMA_READ, NULL, 0, &done, NULL),
		 DMAR_OK);
	dmar_iommu_destroy(mmu);
	dmar_physmem_destroy(pm);
}

/* S15 and iommu.h: a device that was attached (or only went through an exclusive window)
 * and is detached now is alone, and may join an adapter. */
TEST(S15_a_device_detached_again_may_be_linked)
{
	struct test_fx f;
	dmar_device *b, *c, *d;
	dmar_domain *other;
	dmar_result r;

	test_fx_setup(&f, DMAR_DOMAIN_REMAPPED, 40, 64);
	CHECK_ST(dmar_domain_create(f.mmu, DMAR_DOMAIN_REMAPPED, NULL, &other), DMAR_OK);
	CHECK_ST(dmar_domain_map(f.dom, 0x5000, 0x9000, K4, RW), DMAR_OK);
	CHECK_ST(dmar_device_create(f.mmu, 0x0200, 40, &b), DMAR_OK);
	CHECK_ST(dmar_device_create(f.mmu, 0x0201, 40, &c), DMAR_OK);
	CHECK_ST(dmar_device_create(f.mmu, 0x0202, 40, &d), DMAR_OK);
	CHECK_ST(dmar_device_attach(b, other), DMAR_OK);
	CHECK_ST(dmar_device_link(f.dev, b), DMAR_E_BUSY); /* attached */
	CHECK_ST(dmar_device_detach(b), DMAR_OK);
	CHECK_ST(dmar_device_link(f.dev, b), DMAR_OK);
	CHECK_ST(xlate(b, 0x5000, DMAR_NO_PASID, DMAR_ACCESS_READ, &r), DMAR_OK);
	CHECK_EQ(r.pa, 0x9000);
	CHECK_ST(dmar_device_begin_exclusive(c), DMAR_OK);
	CHECK_ST(dmar_device_link(f.dev, c), DMAR_E_BUSY); /* inside a window */
	CHECK_ST(dmar_device_end_exclusive(c), DMAR_OK);
	CHECK_ST(dmar_device_link(f.dev, c), DMAR_OK);
	CHECK_ST(xlate(c, 0x5000, DMAR_NO_PASID, DMAR_ACCESS_READ, &r), DMAR_OK);
	CHECK_EQ(r.pa, 0x9000);
	CHECK_ST(dmar_device_attach(d, other), DMAR_OK);
	CHECK_ST(dmar_device_link(f.dev, d), DMAR_E_BUSY);
	CHECK_ST(dmar_device_link(b, d), DMAR_E_BUSY);
	CHECK_ST(dmar_device_destroy(b), DMAR_OK);
	CHECK_ST(dmar_device_destroy(c), DMAR_OK);
	test_fx_teardown(&f);
}

/* iommu.h: dmar_pasid_alloc() owns PASIDs, a binding only borrows one; an explicitly bound
 * PASID is never handed out while bound, and never the binder's to free; PASID 0 is refused
 * everywhere. */
TEST(S2_S3_pasids_are_owned_by_alloc_and_borrowed_by_bindings)
{
	const dmar_pt_format fmt = { .levels = 4 };
	dmar_physmem *pm = test_physmem(0);
	dmar_iommu_config c;
	dmar_iommu *mmu;
	dmar_domain *d1, *d2, *d3;
	dmar_device *dev;
	dmar_pa_t root;
	dmar_result r;
	uint32_t p, got[8];
	int n = 0;

	dmar_iommu_config_default(&c);
	c.pasid_bits = 3; /* PASIDs 1..7 */
	REQUIRE(dmar_iommu_create(pm, &c, &mmu) == DMAR_OK);
	REQUIRE(dmar_domain_create(mmu, DMAR_DOMAIN_REMAPPED, NULL, &d1) == DMAR_OK);
	REQUIRE(dmar_domain_create(mmu, DMAR_DOMAIN_PASSTHROUGH, NULL, &d2) == DMAR_OK);
	REQUIRE(dmar_domain_create(mmu, DMAR_DOMAIN_PASSTHROUGH, NULL, &d3) == DMAR_OK);
	REQUIRE(dmar_device_create(mmu, 0x30, 48, &dev) == DMAR_OK);
	REQUIRE(dmar_device_attach(dev, d1) == DMAR_OK);
	root = process_table(pm, 0x7000, 0x8000);

	/* explicit bindings of 7 (in two domains) and 6: never allocated */
	CHECK_ST(dmar_domain_bind_pasid(d1, 7, root, &fmt), DMAR_OK);
	CHECK_ST(dmar_domain_bind_pasid(d2, 7, root, &fmt), DMAR_OK);
	CHECK_ST(dmar_domain_bind_pasid(d3, 6, root, &fmt), DMAR_OK);
	CHECK_ST(dmar_pasid_free(mmu, 7), DMAR_E_NOT_FOUND); /* not the binder's to free */
	while (n < 8 && dmar_pasid_alloc(mmu, &got[n]) == DMAR_OK)
		n++;
	CHECK_EQ(n, 5); /* 1..5: the bound 6 and 7 are skipped, 0 never handed out */
	for (int i = 0; i < n; i++)
		CHECK(got[i] >= 1 && got[i] <= 5);
	CHECK_ST(dmar_pasid_alloc(mmu, &p), DMAR_E_NOMEM);
	/* 7 stays taken while any domain binds it */
	CHECK_ST(dmar_domain_unbind_pasid(d1, 7), DMAR_OK);
	CHECK_ST(dmar_pasid_alloc(mmu, &p), DMAR_E_NOMEM);
	CHECK_ST(dmar_domain_unbind_pasid(d2, 7), DMAR_OK);
	CHECK_ST(dmar_pasid_alloc(mmu, &p), DMAR_OK);
	CHECK_EQ(p, 7);
	/* destroying a domain gives its explicit bindings back */
	CHECK_ST(dmar_domain_destroy(d3), DMAR_OK);
	CHECK_ST(dmar_pasid_alloc(mmu, &p), DMAR_OK);
	CHECK_EQ(p, 6);
	/* an allocated PASID, bound: freeing waits for the unbinding */
	CHECK_ST(dmar_domain_bind_pasid(d1, 6, root, &fmt), DMAR_OK);
	CHECK_ST(xlate(dev, 0x7008, 6, DMAR_ACCESS_READ, &r), DMAR_OK);
	CHECK_EQ(r.pa, 0x8008);
	CHECK_ST(dmar_pasid_free(mmu, 6), DMAR_E_BUSY);
	CHECK_ST(dmar_domain_unbind_pasid(d1, 6), DMAR_OK);
	CHECK_ST(dmar_domain_unbind_pasid(d1, 6), DMAR_E_NOT_FOUND);
	CHECK_ST(dmar_pasid_free(mmu, 6), DMAR_OK);
	CHECK_ST(dmar_pasid_free(mmu, 6), DMAR_E_NOT_FOUND);
	/* unbinding an allocated PASID keeps it allocated */
	CHECK_ST(dmar_domain_bind_pasid(d1, 7, root, &fmt), DMAR_OK);
	CHECK_ST(dmar_domain_unbind_pasid(d1, 7), DMAR_OK);
	CHECK_ST(dmar_pasid_alloc(mmu, &p), DMAR_OK);
	CHECK_EQ(p, 6);
	CHECK_ST(dmar_pasid_alloc(mmu, &p), DMAR_E_NOMEM);
	CHECK_ST(dmar_pasid_free(mmu, 7), DMAR_OK);
	/* PASID 0 and PASIDs beyond the space */
	CHECK_ST(dmar_domain_bind_pasid(d1, 0, root, &fmt), DMAR_E_INVALID);
	CHECK_ST(dmar_domain_bind_pasid(d1, 8, root, &fmt), DMAR_E_INVALID);
	CHECK_ST(dmar_domain_unbind_pasid(d1, 0), DMAR_E_INVALID);
	CHECK_ST(dmar_domain_invalidate_pasid(d1, 0, 0, K4), DMAR_E_INVALID);
	/* its range: checked before the binding; one that ends at 2^64 is taken */
	CHECK_ST(dmar_domain_invalidate_pasid(d1, 5, 0, K4), DMAR_E_NOT_FOUND); /* unbound */
	CHECK_ST(dmar_domain_invalidate_pasid(d1, 5, 0, 0), DMAR_E_INVALID);
	CHECK_ST(dmar_domain_invalidate_pasid(d1, 5, ~0ull - 0xfff, 2 * K4), DMAR_E_INVALID);
	CHECK_ST(dmar_domain_bind_pasid(d1, 5, root, &fmt), DMAR_OK);
	CHECK_ST(dmar_domain_invalidate_pasid(d1, 5, ~0ull - 0xfff, K4), DMAR_OK);
	CHECK_ST(dmar_domain_invalidate_pasid(d1, 5, ~0ull - 0xfff, 2 * K4), DMAR_E_INVALID);
	CHECK_ST(dmar_domain_invalidate_pasid(d1, 5, 0x1000, 0), DMAR_E_INVALID);
	CHECK_ST(dmar_domain_unbind_pasid(d1, 5), DMAR_OK);
	CHECK_ST(dmar_pasid_free(mmu, 0), DMAR_E_INVALID);
	CHECK_ST(dmar_pasid_free(mmu, 8), DMAR_E_INVALID);
	CHECK_ST(xlate(dev, 0x7008, 0, DMAR_ACCESS_READ, &r), DMAR_E_FAULT);
	CHECK_EQ(r.fault, DMAR_FAULT_PASID);
	dmar_iommu_destroy(mmu);
	dmar_physmem_destroy(pm);
}

/* A DMA engine writing a counter into one page over and over, while the main thread unmaps
 * the page: once the unmap and dmar_sync() returned, the page must never change again. */
struct dma_writer {
	dmar_device *dev;
	dmar_physmem *pm;
	int stop;
	uint64_t writes;
};

static void *dma_writer(void *arg)
{
	struct dma_writer *w = arg;
	uint64_t v[64];

	dmar_thread_register();
	while (!__atomic_load_n(&w->stop, __ATOMIC_RELAXED)) {
		for (int i = 0; i < 64; i++)
			v[i] = w->writes;
		if (dmar_device_dma(w->dev, 0x300000, DMAR_NO_PASID, DMAR_DMA_WRITE, v, sizeof(v), NULL,
				    NULL) == DMAR_OK)
			w->writes++;
		dmar_thread_quiescent();
	}
	dmar_thread_unregister();
	return NULL;
}

/* The same writer as a device model that batches its translations writes: translate, then
 * copy through the frame's host pointer, both inside one dmar_read_begin() section. */
static void *section_writer(void *arg)
{
	struct dma_writer *w = arg;
	dmar_physmem *pm = w->pm;

	dmar_thread_register();
	while (!__atomic_load_n(&w->stop, __ATOMIC_RELAXED)) {
		dmar_request q = { .iova = 0x300000, .access = DMAR_ACCESS_WRITE,
				   .pasid = DMAR_NO_PASID };
		dmar_result r;
		uint64_t *p;

		if (dmar_read_begin() != DMAR_OK)
			break;
		if (dmar_device_translate_batch(w->dev, &q, &r, 1, NULL) == DMAR_OK && !r.fault &&
		    (p = dmar_physmem_host_ptr(pm, r.pa, 4096)) != NULL) {
			/* a device takes a while between translating and writing (30 us here:
			 * longer than an unmap plus dmar_sync, so a write outside the section
			 * lands after them) */
			struct timespec t0, t;

			clock_gettime(CLOCK_MONOTONIC, &t0);
			do
				clock_gettime(CLOCK_MONOTONIC, &t);
			while ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) < 30000);
			for (int i = 0; i < 512; i++)
				__atomic_store_n(&p[i], w->writes, __ATOMIC_RELAXED);
			w->writes++;
		}
		dmar_read_end();
		dmar_thread_quiescent();
	}
	dmar_thread_unregister();
	return NULL;
}

/* Round after round: map the page, let the writer write, unmap, dmar_sync(): the page must
 * not change afterwards.  Returns the rounds in which it did. */
static int late_writes(struct test_fx *f, struct dma_writer *w, void *(*writer)(void *))
{
	pthread_t th;
	int late = 0;

	w->dev = f->dev;
	w->pm = f->pm;
	pthread_create(&th, NULL, writer, w);
	for (int round = 0; round < 200; round++) {
		struct timespec ts = { 0, 200 * 1000 };
		uint8_t a[512], b[512];
		uint64_t before;

		CHECK_ST(dmar_domain_map(f->dom, 0x300000, TiB + 0x40000, K4, RW), DMAR_OK);
		before = __atomic_load_n(&w->writes, __ATOMIC_RELAXED);
		while (__atomic_load_n(&w->writes, __ATOMIC_RELAXED) < before + 3)
			; /* let it write a few times */
		CHECK_ST(dmar_domain_unmap(f->dom, 0x300000, K4, NULL), DMAR_OK);
		dmar_thread_offline();
		dmar_sync();
		dmar_thread_online();
		CHECK_ST(dmar_physmem_read(f->pm, TiB + 0x40000, a, sizeof(a)), DMAR_OK);
		nanosleep(&ts, NULL);
		CHECK_ST(dmar_physmem_read(f->pm, TiB + 0x40000, b, sizeof(b)), DMAR_OK);
		late += memcmp(a, b, sizeof(a)) != 0;
	}
	__atomic_store_n(&w->stop, 1, __ATOMIC_RELAXED);
	dmar_thread_offline();
	pthread_join(th, NULL);
	dmar_thread_online();
	return late;
}

TEST(S28_no_write_in_a_read_section_lands_after_unmap_and_sync_return)
{
	struct test_fx f;
	struct dma_writer w = { 0 };

	test_fx_setup(&f, DMAR_DOMAIN_REMAPPED, 40, 64);
	CHECK_EQ(late_writes(&f, &w, section_writer), 0);
	CHECK(w.writes > 600);
	test_fx_teardown(&f);
}

/* dmar_read_begin/end: nest, refuse an unregistered thread, ignore an end without a begin. */
static void *unregistered_begin(void *arg)
{
	*(dmar_status *)arg = dmar_read_begin();
	dmar_read_end(); /* nothing to end: harmless */
	return NULL;
}

TEST(read_sections_nest_and_check_their_thread)
{
	pthread_t th;
	dmar_status st = DMAR_OK;

	CHECK_ST(dmar_read_begin(), DMAR_OK);
	CHECK_ST(dmar_read_begin(), DMAR_OK);
	dmar_thread_quiescent(); /* ignored inside a section */
	dmar_read_end();
	dmar_read_end();
	dmar_read_end(); /* one too many: ignored */
	pthread_create(&th, NULL, unregistered_begin, &st);
	pthread_join(th, NULL);
	CHECK_ST(st, DMAR_E_THREAD);
}

/* thread.h: registering is idempotent and answers DMAR_OK, one unregister ends it, a second
 * is a no-op; the QSBR calls and dmar_read_end() are no-ops on an unregistered thread;
 * unregistering ends the read sections left open (dmar_sync() elsewhere returns). */
struct registry_check {
	int ok;
};

static void *registry_thread(void *arg)
{
	struct registry_check *c = arg;
	int ok = 1;

	ok &= dmar_thread_registered() == 0;
	dmar_thread_unregister(); /* not registered: nothing happens */
	dmar_thread_quiescent();
	dmar_thread_offline();
	dmar_thread_online();
	dmar_read_end();
	ok &= dmar_thread_registered() == 0;
	ok &= dmar_thread_register() == DMAR_OK;
	ok &= dmar_thread_register() == DMAR_OK;
	ok &= dmar_thread_registered() == 1;
	dmar_thread_unregister();
	ok &= dmar_thread_registered() == 0;
	dmar_thread_unregister();
	ok &= dmar_thread_registered() == 0;
	/* a section left open when the thread unregisters */
	ok &= dmar_thread_register() == DMAR_OK;
	ok &= dmar_read_begin() == DMAR_OK;
	ok &= dmar_read_begin() == DMAR_OK;
	dmar_thread_unregister();
	ok &= dmar_thread_registered() == 0;
	c->ok = ok;
	return NULL;
}

TEST(thread_registry_keeps_its_promises)
{
	struct registry_check c = { 0 };
	pthread_t th;

	REQUIRE(pthread_create(&th, NULL, registry_thread, &c) == 0);
	dmar_thread_offline();
	pthread_join(th, NULL);
	dmar_thread_online();
	CHECK_EQ(c.ok, 1);
	dmar_sync(); /* returns: the thread's open sections ended with its registration */
#ifdef DMAR_RCU_QSBR
	CHECK(strcmp(dmar_rcu_flavor(), "qsbr") == 0);
#else
	CHECK(strcmp(dmar_rcu_flavor(), "memb") == 0);
#endif
	CHECK_EQ(dmar_thread_registered(), 1); /* (the test runner's own registration) */
}

TEST(S28_no_dma_lands_after_unmap_and_sync_return)
{
	struct test_fx f;
	struct dma_writer w = { 0 };
	pthread_t th;
	uint8_t a[512], b[512];
	int late = 0;

	test_fx_setup(&f, DMAR_DOMAIN_REMAPPED, 40, 64);
	w.dev = f.dev;
	pthread_create(&th, NULL, dma_writer, &w);
	for (int round = 0; round < 200; round++) {
		struct timespec ts = { 0, 200 * 1000 };
		uint64_t before;

		CHECK_ST(dmar_domain_map(f.dom, 0x300000, TiB + 0x40000, K4, RW), DMAR_OK);
		before = __atomic_load_n(&w.writes, __ATOMIC_RELAXED);
		while (__atomic_load_n(&w.writes, __ATOMIC_RELAXED) < before + 3)
			; /* let it write a few times */
		CHECK_ST(dmar_domain_unmap(f.dom, 0x300000, K4, NULL), DMAR_OK);
		dmar_thread_offline();
		dmar_sync();
		dmar_thread_online();
		CHECK_ST(dmar_physmem_read(f.pm, TiB + 0x40000, a, sizeof(a)), DMAR_OK);
		nanosleep(&ts, NULL);
		CHECK_ST(dmar_physmem_read(f.pm, TiB + 0x40000, b, sizeof(b)), DMAR_OK);
		late += memcmp(a, b, sizeof(a)) != 0;
	}
	__atomic_store_n(&w.stop, 1, __ATOMIC_RELAXED);
	dmar_thread_offline();
	pthread_join(th, NULL);
	dmar_thread_online();
	CHECK_EQ(late, 0);
	CHECK(w.writes > 600);
	test_fx_teardown(&f);
}

RUN_TESTS(T(device_calls_from_an_unregistered_thread_are_refused),
	  T(thread_registry_keeps_its_promises),
	  T(S6_S7_unmapped_logical_address_faults_and_is_reported),
	  T(S7_dma_reports_every_status_with_the_page_that_stopped_it),
	  T(S15_a_device_detached_again_may_be_linked),
	  T(S2_S3_pasids_are_owned_by_alloc_and_borrowed_by_bindings),
	  T(S30_two_iommus_keep_their_own_probe_variant_and_l0_mode),
	  T(dma_moves_bytes_across_scattered_pages_and_stops_at_the_first_fault),
	  T(S28_no_dma_lands_after_unmap_and_sync_return),
	  T(S28_no_write_in_a_read_section_lands_after_unmap_and_sync_return),
	  T(read_sections_nest_and_check_their_thread),
	  T(S8_identity_domain_maps_page_to_same_page_only_where_mapped),
	  T(passthrough_domain_translates_nothing_and_isolates_nothing),
	  T(S13_logically_contiguous_over_scattered_physical_pages),
	  T(S14_request_beyond_device_width_faults),
	  T(S29_batch_counts_and_queues_every_fault_whatever_refused_it),
	  T(device_requests_are_counted_from_every_thread), T(S15_linked_adapters_share_one_domain),
	  T(S2_S3_pasid_requests_walk_the_process_table), T(S2_a_pasid_binds_only_an_x86_64_cpu_table),
	  T(S13_domains_take_every_iommu_format),
	  T(S18_exclusive_access_blocks_dma_and_switches_domains),
	  T(several_iommus_in_one_process_are_independent), T(bad_configuration_calls_get_a_status))
