/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The NULL rule of dmar/status.h, kept by every public function that takes a handle or an
 * out-pointer: each is called with NULL in each pointer position (the others valid) and
 * must give the rule's answer (DMAR_E_INVALID, NULL, 0 or the type's "none", zeroed
 * counters, nothing at all), crash nowhere and change nothing.  One subtest per header. */
#include <unistd.h>

#include "check.h"

#define K4 4096ull
#define P DMAR_PASSIVE_LEVEL
#define INV DMAR_E_INVALID

/* What an out-pointer holds before a refused call: a refused call leaves it as it was. */
static char sentinel_[1];
#define SENT ((void *)sentinel_)

/* Whether @n bytes at @p are all zero. */
static int all_zero(const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return 0;
	return 1;
}

/* A NULL object's counters are zero; a NULL out-pointer is skipped (called for a crash). */
#define CHECK_STATS_ZEROED(fn, type)                          \
	do {                                                  \
		type st_;                                     \
		memset(&st_, 0xa5, sizeof(st_));              \
		fn(NULL, &st_);                               \
		CHECK(all_zero(&st_, sizeof(st_)));           \
	} while (0)

TEST(physmem_h_null_pointers_get_the_status_h_answers)
{
	dmar_physmem *pm = test_physmem(0), *out = SENT;
	dmar_physmem_config cfg;
	dmar_physmem_stats st;
	dmar_pa_t pa = 0;
	uint8_t buf[8] = { 0 };

	dmar_physmem_config_workstation(NULL);
	dmar_physmem_config_workstation(&cfg);
	CHECK_ST(dmar_physmem_create(NULL, &out), INV);
	CHECK_ST(dmar_physmem_create(&cfg, NULL), INV);
	CHECK(out == SENT);
	dmar_physmem_destroy(NULL);
	CHECK(dmar_physmem_host_ptr(NULL, 0, 1) == NULL);
	CHECK(dmar_physmem_host_ptr(NULL, 0, 0) == NULL);
	CHECK_ST(dmar_physmem_read(NULL, 0, buf, sizeof(buf)), INV);
	CHECK_ST(dmar_physmem_read(pm, 0, NULL, sizeof(buf)), INV);
	CHECK_ST(dmar_physmem_write(NULL, 0, buf, sizeof(buf)), INV);
	CHECK_ST(dmar_physmem_write(pm, 0, NULL, sizeof(buf)), INV);
	CHECK_ST(dmar_physmem_read(pm, 0, NULL, 0), DMAR_OK); /* a buffer of 0 bytes: not needed */
	CHECK_ST(dmar_physmem_write(pm, 0, NULL, 0), DMAR_OK);
	CHECK_EQ(dmar_physmem_is_ram(NULL, 0, 1), 0);
	CHECK_ST(dmar_physmem_alloc(NULL, 1, 12, DMAR_PLACE_ANY, 0, &pa), INV);
	CHECK_ST(dmar_physmem_alloc(pm, 1, 12, DMAR_PLACE_ANY, 0, NULL), INV);
	CHECK_ST(dmar_physmem_free(NULL, 0, 1), INV);
	CHECK_STATS_ZEROED(dmar_physmem_get_stats, dmar_physmem_stats);
	dmar_physmem_get_stats(pm, NULL);
	dmar_physmem_get_stats(pm, &st);
	CHECK_EQ(st.allocated_frames, 0); /* the refused alloc took nothing */
	CHECK(dmar_physmem_range(NULL, 0) == NULL);
	dmar_physmem_destroy(pm);
}

static void flush_nop(void *ctx, dmar_iova_t iova, uint64_t size)
{
	(void)ctx;
	(void)iova;
	(void)size;
}

TEST(pgtable_h_null_pointers_get_the_status_h_answers)
{
	dmar_physmem *pm = test_physmem(0);
	dmar_pgtable_config cfg;
	dmar_pgtable *pt = NULL, *out = SENT;
	dmar_pt_format fmt = { .levels = 4 };
	dmar_walk_result r;
	dmar_iova_t lo = 0, hi = 0;
	dmar_pa_t pa = 1;
	uint64_t unmapped = 1;

	dmar_pgtable_config_default(NULL);
	dmar_pgtable_config_default(&cfg);
	REQUIRE(dmar_pgtable_create(pm, &cfg, &pt) == DMAR_OK);
	CHECK_ST(dmar_walk(NULL, 0, &fmt, 0, DMAR_ACCESS_READ, &r), INV);
	CHECK_ST(dmar_walk(pm, 0, NULL, 0, DMAR_ACCESS_READ, &r), INV);
	CHECK_ST(dmar_walk(pm, 0, &fmt, 0, DMAR_ACCESS_READ, NULL), INV);
	CHECK_ST(dmar_pt_input_range(NULL, &lo, &hi), INV);
	CHECK_ST(dmar_pt_input_range(&fmt, NULL, &hi), INV);
	CHECK_ST(dmar_pt_input_range(&fmt, &lo, NULL), DMAR_OK); /* optional */
	CHECK_ST(dmar_pgtable_create(NULL, &cfg, &out), INV);
	CHECK_ST(dmar_pgtable_create(pm, NULL, &out), INV);
	CHECK_ST(dmar_pgtable_create(pm, &cfg, NULL), INV);
	CHECK(out == SENT);
	dmar_pgtable_destroy(NULL);
	dmar_pgtable_set_flush(NULL, flush_nop, NULL);
	CHECK_EQ(dmar_pgtable_root(NULL), 0);
	CHECK(dmar_pgtable_format(NULL) == NULL);
	CHECK_ST(dmar_pgtable_map(NULL, 0, 0, K4, DMAR_PROT_READ), INV);
	CHECK_ST(dmar_pgtable_unmap(NULL, 0, K4, &unmapped), INV);
	CHECK_EQ(unmapped, 0);
	CHECK_ST(dmar_pgtable_unmap(pt, 0, K4, NULL), DMAR_OK); /* optional */
	CHECK_ST(dmar_pgtable_walk(NULL, 0, DMAR_ACCESS_READ, &r), INV);
	CHECK_ST(dmar_pgtable_walk(pt, 0, DMAR_ACCESS_READ, NULL), INV);
	CHECK_ST(dmar_pgtable_iova_to_phys(NULL, 0, &pa), INV);
	CHECK_EQ(pa, 0); /* "0 on failure" */
	CHECK_ST(dmar_pgtable_iova_to_phys(pt, 0, NULL), INV);
	CHECK_EQ(dmar_pgtable_table_pages(NULL), 0);
	CHECK_EQ(dmar_pgtable_table_pages(pt), 1); /* the refused calls built nothing */
	dmar_pgtable_destroy(pt);
	dmar_physmem_destroy(pm);
}

TEST(iotlb_h_null_pointers_get_the_status_h_answers)
{
	dmar_physmem *pm = test_physmem(0);
	dmar_iotlb_config cfg;
	dmar_iotlb *tlb = NULL, *tout = SENT;
	dmar_space *sp = NULL, *sout = SENT;
	dmar_pt_format fmt = { .levels = 4, .flags = DMAR_PT_IOVA };
	dmar_request req = { .iova = 0, .access = DMAR_ACCESS_READ };
	dmar_result res;
	dmar_iotlb_stats st;
	size_t nf = 7;

	dmar_iotlb_config_default(NULL);
	dmar_iotlb_config_default(&cfg);
	CHECK_ST(dmar_iotlb_create(NULL, &tout), INV);
	CHECK_ST(dmar_iotlb_create(&cfg, NULL), INV);
	CHECK(tout == SENT);
	REQUIRE(dmar_iotlb_create(&cfg, &tlb) == DMAR_OK);
	CHECK_ST(dmar_iotlb_destroy(NULL), DMAR_OK); /* destroying nothing */
	dmar_iotlb_invalidate_all(NULL);
	CHECK_STATS_ZEROED(dmar_iotlb_get_stats, dmar_iotlb_stats);
	dmar_iotlb_get_stats(tlb, NULL);
	CHECK_ST(dmar_space_create(NULL, pm, 0, &fmt, &sout), INV);
	CHECK_ST(dmar_space_create(tlb, NULL, 0, &fmt, &sout), INV);
	CHECK_ST(dmar_space_create(tlb, pm, 0, NULL, &sout), INV);
	CHECK_ST(dmar_space_create(tlb, pm, 0, &fmt, NULL), INV);
	CHECK(sout == SENT);
	REQUIRE(dmar_space_create(tlb, pm, 0, &fmt, &sp) == DMAR_OK);
	dmar_space_destroy(NULL);
	CHECK_ST(dmar_space_set_root(NULL, 0), INV);
	dmar_space_invalidate(NULL);
	CHECK_ST(dmar_space_invalidate_range(NULL, 0, K4), INV);
	CHECK_ST(dmar_translate(NULL, 0, DMAR_ACCESS_READ, &res), INV);
	CHECK_ST(dmar_translate(sp, 0, DMAR_ACCESS_READ, NULL), INV);
	{
		dmar_fault_info info = { .entry = 0x5e7, .level = 9 };
		size_t n = 77;

		CHECK_ST(dmar_translate_detail(NULL, 0, DMAR_ACCESS_READ, &res, &info), INV);
		CHECK_ST(dmar_translate_detail(sp, 0, DMAR_ACCESS_READ, NULL, &info), INV);
		CHECK(info.entry == 0x5e7 && info.level == 9);
		CHECK_ST(dmar_translate_detail(sp, 0, DMAR_ACCESS_READ, &res, NULL), INV);
		CHECK_ST(dmar_space_set_tag(NULL, 3), INV);
		CHECK_EQ(dmar_space_tag(NULL), 0);
		CHECK_ST(dmar_iotlb_invalidate_tag(NULL, 0, &n), INV);
		CHECK_ST(dmar_iotlb_invalidate_tag_range(NULL, 0, 0, K4, &n), INV);
		CHECK_EQ(n, 77);
	}
	CHECK_ST(dmar_translate_batch(NULL, &req, &res, 1, &nf), INV);
	CHECK_EQ(nf, 0);
	CHECK_ST(dmar_translate_batch(sp, NULL, &res, 1, &nf), INV);
	CHECK_ST(dmar_translate_batch(sp, &req, NULL, 1, &nf), INV);
	CHECK_ST(dmar_translate_batch(sp, NULL, NULL, 0, NULL), DMAR_OK); /* nothing needed */
	dmar_iotlb_get_stats(tlb, &st);
	CHECK_EQ(st.translations, 0);
	CHECK_EQ(st.invalidations, 0);
	dmar_space_destroy(sp);
	CHECK_ST(dmar_iotlb_destroy(tlb), DMAR_OK);
	dmar_physmem_destroy(pm);
}

static void count_cb(void *ctx, const dmar_fault_record *rec, int stored)
{
	(void)rec;
	(void)stored;
	++*(int *)ctx;
}

TEST(fault_h_null_pointers_get_the_status_h_answers)
{
	dmar_faultq *q = NULL, *out = SENT;
	dmar_fault_record rec = { .addr = 0x1000, .pasid = DMAR_NO_PASID }, got[4];
	dmar_faultq_stats st;
	int calls = 0;

	CHECK_ST(dmar_faultq_create(2, NULL), INV);
	CHECK(out == SENT);
	REQUIRE(dmar_faultq_create(4, &q) == DMAR_OK);
	dmar_faultq_destroy(NULL);
	dmar_faultq_set_callback(NULL, count_cb, &calls);
	dmar_faultq_set_callback(q, count_cb, &calls);
	CHECK_ST(dmar_faultq_push(NULL, &rec), INV);
	CHECK_ST(dmar_faultq_push(q, NULL), INV);
	CHECK_EQ(calls, 0); /* refused: no fault, no sequence number, no callback */
	CHECK_ST(dmar_faultq_push(q, &rec), DMAR_OK);
	CHECK_EQ(dmar_faultq_drain(NULL, got, 4), 0);
	CHECK_EQ(dmar_faultq_drain(q, NULL, 4), 0);
	CHECK_EQ(dmar_faultq_drain(q, NULL, 0), 0);
	CHECK_STATS_ZEROED(dmar_faultq_get_stats, dmar_faultq_stats);
	dmar_faultq_get_stats(q, NULL);
	dmar_faultq_get_stats(q, &st);
	CHECK_EQ(st.faults, 1);
	CHECK_EQ(st.drained, 0);
	REQUIRE(dmar_faultq_drain(q, got, 4) == 1); /* still there */
	CHECK_EQ(got[0].seq, 1);
	dmar_faultq_destroy(q);
}

TEST(iommu_h_null_pointers_get_the_status_h_answers)
{
	dmar_physmem *pm = test_physmem(0);
	dmar_iommu_config ic;
	dmar_iommu *m = NULL, *mout = SENT;
	dmar_domain *d = NULL, *dout = SENT;
	dmar_device *dev = NULL, *dev2 = NULL, *devout = SENT;
	dmar_pt_format fmt = { .levels = 4 };
	dmar_request req = { .iova = 0, .access = DMAR_ACCESS_READ, .pasid = DMAR_NO_PASID };
	dmar_result res, fault = { .pa = 7 };
	dmar_iova_t last = 1;
	dmar_device_stats ds;
	dmar_iommu_stats is;
	uint64_t unmapped = 1;
	uint32_t pasid = 0;
	uint8_t buf[16];
	size_t done = 1, nf = 1;

	dmar_iommu_config_default(NULL);
	dmar_iommu_config_default(&ic);
	CHECK_ST(dmar_iommu_create(NULL, &ic, &mout), INV);
	CHECK_ST(dmar_iommu_create(pm, NULL, &mout), INV);
	CHECK_ST(dmar_iommu_create(pm, &ic, NULL), INV);
	CHECK(mout == SENT);
	REQUIRE(dmar_iommu_create(pm, &ic, &m) == DMAR_OK);
	dmar_iommu_destroy(NULL);
	CHECK(dmar_iommu_faults(NULL) == NULL);
	CHECK(dmar_iommu_iotlb(NULL) == NULL);

	CHECK_ST(dmar_domain_create(NULL, DMAR_DOMAIN_REMAPPED, NULL, &dout), INV);
	CHECK_ST(dmar_domain_create(m, DMAR_DOMAIN_REMAPPED, NULL, NULL), INV);
	CHECK(dout == SENT);
	REQUIRE(dmar_domain_create(m, DMAR_DOMAIN_REMAPPED, NULL, &d) == DMAR_OK); /* pt optional */
	CHECK_ST(dmar_domain_destroy(NULL), DMAR_OK); /* destroying nothing */
	CHECK_EQ(dmar_domain_id(NULL), 0);            /* no domain has id 0 */
	CHECK_EQ(dmar_domain_kind_of(NULL), 0);
	CHECK(dmar_domain_pgtable(NULL) == NULL);
	CHECK_ST(dmar_domain_input_range(NULL, &last), INV);
	CHECK_ST(dmar_domain_input_range(d, NULL), INV);
	CHECK_EQ(last, 1);
	CHECK_ST(dmar_domain_map(NULL, 0, 0, K4, DMAR_PROT_READ), INV);
	CHECK_ST(dmar_domain_unmap(NULL, 0, K4, &unmapped), INV);
	CHECK_EQ(unmapped, 0);

	CHECK_ST(dmar_pasid_alloc(NULL, &pasid), INV);
	CHECK_ST(dmar_pasid_alloc(m, NULL), INV);
	CHECK_EQ(pasid, 0);
	CHECK_ST(dmar_pasid_free(NULL, 1), INV);
	CHECK_ST(dmar_domain_bind_pasid(NULL, 1, 0, &fmt), INV);
	CHECK_ST(dmar_domain_bind_pasid(d, 1, 0, NULL), INV);
	CHECK_ST(dmar_domain_unbind_pasid(d, 1), DMAR_E_NOT_FOUND); /* none bound */
	CHECK_ST(dmar_domain_unbind_pasid(NULL, 1), INV);
	CHECK_ST(dmar_domain_invalidate_pasid(NULL, 1, 0, K4), INV);

	CHECK_ST(dmar_device_create(NULL, 1, 48, &devout), INV);
	CHECK_ST(dmar_device_create(m, 1, 48, NULL), INV);
	CHECK(devout == SENT);
	REQUIRE(dmar_device_create(m, 1, 48, &dev) == DMAR_OK); /* rid 1 is still free */
	REQUIRE(dmar_device_create(m, 2, 48, &dev2) == DMAR_OK);
	CHECK_ST(dmar_device_destroy(NULL), DMAR_OK); /* destroying nothing */
	CHECK_ST(dmar_device_link(NULL, dev2), INV);
	CHECK_ST(dmar_device_link(dev, NULL), INV);
	CHECK_ST(dmar_device_attach(NULL, d), INV);
	CHECK_ST(dmar_device_attach(dev, NULL), INV);
	CHECK_ST(dmar_device_detach(NULL), INV);
	CHECK_ST(dmar_device_begin_exclusive(NULL), INV);
	CHECK_ST(dmar_device_switch_domain(NULL, d), INV);
	CHECK_ST(dmar_device_switch_domain(dev, NULL), INV);
	CHECK_ST(dmar_device_end_exclusive(NULL), INV);

	CHECK_ST(dmar_device_translate(NULL, &req, &res), INV);
	CHECK_ST(dmar_device_translate(dev, NULL, &res), INV);
	CHECK_ST(dmar_device_translate(dev, &req, NULL), INV);
	CHECK_ST(dmar_device_dma(NULL, 0, DMAR_NO_PASID, DMAR_DMA_READ, buf, sizeof(buf), &done,
				 &fault), INV);
	CHECK_EQ(done, 0);
	CHECK_ST(dmar_device_dma(dev, 0, DMAR_NO_PASID, DMAR_DMA_READ, NULL, sizeof(buf), &done,
				 &fault), INV);
	CHECK_EQ(fault.pa, 7); /* untouched */
	CHECK_ST(dmar_device_translate_batch(NULL, &req, &res, 1, &nf), INV);
	CHECK_EQ(nf, 0);
	CHECK_ST(dmar_device_translate_batch(dev, NULL, &res, 1, &nf), INV);
	CHECK_ST(dmar_device_translate_batch(dev, &req, NULL, 1, &nf), INV);
	CHECK_STATS_ZEROED(dmar_device_get_stats, dmar_device_stats);
	dmar_device_get_stats(dev, NULL);
	CHECK_STATS_ZEROED(dmar_iommu_get_stats, dmar_iommu_stats);
	dmar_iommu_get_stats(m, NULL);

	/* the refused calls attached, linked, translated and queued nothing */
	dmar_device_get_stats(dev, &ds);
	CHECK_EQ(ds.translations, 0);
	dmar_iommu_get_stats(m, &is);
	CHECK_EQ(is.translations, 0);
	CHECK_EQ(is.fault_queue.faults, 0);
	CHECK_ST(dmar_device_link(dev, dev2), DMAR_OK);

	/* the pointers a comment calls optional may be NULL (no domain: the requests fault) */
	CHECK_ST(dmar_device_translate_batch(dev, &req, &res, 1, NULL), DMAR_OK);
	CHECK_ST(dmar_device_dma(dev, 0, DMAR_NO_PASID, DMAR_DMA_READ, buf, sizeof(buf), NULL,
				 NULL), DMAR_E_FAULT);
	CHECK_ST(dmar_domain_unmap(d, 0, K4, NULL), DMAR_OK);
	CHECK_ST(dmar_domain_destroy(d), DMAR_OK);
	dmar_iommu_destroy(m);
	dmar_physmem_destroy(pm);
}

TEST(iova_h_null_pointers_get_the_status_h_answers)
{
	dmar_iovad *a = NULL, *out = SENT;
	dmar_iovad_stats st;
	dmar_iova_t iova = 1;

	CHECK_ST(dmar_iovad_create(0, 1ull << 20, NULL), INV);
	CHECK(out == SENT);
	REQUIRE(dmar_iovad_create(0, 1ull << 20, &a) == DMAR_OK);
	dmar_iovad_destroy(NULL);
	CHECK_ST(dmar_iova_alloc(NULL, 1, &iova), INV);
	CHECK_ST(dmar_iova_alloc(a, 1, NULL), INV);
	CHECK_EQ(iova, 1);
	CHECK_ST(dmar_iova_free(NULL, 0, 1), INV);
	dmar_iovad_flush(NULL);
	CHECK_STATS_ZEROED(dmar_iovad_get_stats, dmar_iovad_stats);
	dmar_iovad_get_stats(a, NULL);
	dmar_iovad_get_stats(a, &st);
	CHECK_EQ(st.allocs, 0);
	CHECK_EQ(st.pages_in_use, 0);
	dmar_iovad_destroy(a);
}

TEST(start_h_null_pointers_get_the_status_h_answers)
{
	dmar_adapter_config cfg;
	dmar_start_decision dec, ref;

	dmar_adapter_config_default(&cfg);
	memset(&dec, 0xa5, sizeof(dec));
	memset(&ref, 0xa5, sizeof(ref));
	CHECK_ST(dmar_start_decide(NULL, &dec), INV);
	CHECK(memcmp(&dec, &ref, sizeof(dec)) == 0); /* not filled in for DMAR_E_INVALID */
	CHECK_ST(dmar_start_decide(&cfg.start, NULL), INV);
}

/* A started remapped adapter (the defaults) over the small test map, and its objects. */
struct remap_fx {
	dmar_physmem *pm;
	dmar_iommu *m;
	dmar_adapter *ad;
	dmar_process *proc;
	dmar_gpu_context *ctx;
	dmar_pmo *pmo;
	dmar_allocation *al;
	dmar_adl *adl;
	const dmar_adl *gpu_adl;
	void *va;
	int bugchecks;
};

static void count_bugcheck(void *ctx, uint32_t code, uint64_t p1, uint64_t p2, const char *what)
{
	(void)code;
	(void)p1;
	(void)p2;
	(void)what;
	++((struct remap_fx *)ctx)->bugchecks;
}

static void remap_up(struct remap_fx *f, int remapped)
{
	dmar_adapter_config cfg;
	dmar_pmo_params pp = { .kind = DMAR_PMO_NONPAGED, .size = K4 };
	dmar_allocation_params ap = { .npages = 1, .segment_set = 1 };
	dmar_pt_format fmt = { .levels = 4 };

	memset(f, 0, sizeof(*f));
	f->pm = test_physmem(0);
	f->m = test_iommu(f->pm, 0);
	dmar_adapter_config_default(&cfg);
	cfg.bugcheck = count_bugcheck;
	cfg.bugcheck_ctx = f;
	if (!remapped) { /* 1:1 isolation: the legacy callbacks work there */
		cfg.start.remap_caps_physical = false;
		cfg.start.dma_bits = 48;
		cfg.start.iommu_flags = DMAR_IOMMUF_ENABLED | DMAR_IOMMUF_ENABLE_MAPPINGS |
					DMAR_IOMMUF_ENABLE_ATTACH;
	}
	REQUIRE(dmar_adapter_create(f->m, &cfg, &f->ad, NULL) == DMAR_OK); /* why optional */
	REQUIRE(dmar_adapter_start(f->ad) == DMAR_OK);
	REQUIRE(dmar_process_create(f->ad, 0x100000, &fmt, &f->proc) == DMAR_OK);
	REQUIRE(dmar_gpu_context_create(f->ad, f->proc, &f->ctx) == DMAR_OK);
	REQUIRE(dmar_pmo_create(f->ad, P, &pp, &f->pmo) == DMAR_OK);
	REQUIRE(dmar_pmo_map_gpu(f->ad, P, f->pmo, 0, 1, DMAR_PROT_READ, &f->gpu_adl) == DMAR_OK);
	REQUIRE(dmar_pmo_map_cpu(f->ad, P, f->pmo, 0, 1, DMAR_CPU_KERNEL, DMAR_CACHE_CACHED,
				 &f->va) == DMAR_OK);
	REQUIRE(dmar_allocation_create(f->ad, P, &ap, &f->al) == DMAR_OK);
	REQUIRE(dmar_adl_allocate(f->ad, P, 1, DMAR_ADL_CONTIGUOUS, &f->adl) == DMAR_OK);
}

static void remap_down(struct remap_fx *f)
{
	dmar_adapter_destroy(f->ad);
	dmar_iommu_destroy(f->m);
	dmar_physmem_destroy(f->pm);
}

TEST(remap_h_null_pointers_get_the_status_h_answers)
{
	struct remap_fx f;
	dmar_adapter_config cfg;
	dmar_adapter *adout = SENT;
	dmar_process *pout = SENT;
	dmar_gpu_context *cout = SENT;
	dmar_pmo *oout = SENT;
	dmar_allocation *alout = SENT;
	dmar_adl *adlout = SENT;
	const dmar_adl *gout = SENT;
	dmar_adl arr = { .page_count = 1 }; /* array form without its array */
	dmar_pmo_params pp = { .kind = DMAR_PMO_NONPAGED, .size = K4 };
	dmar_allocation_params ap = { .npages = 1, .segment_set = 1 };
	dmar_op_map_aperture_segment2 op = { 0 };
	dmar_op_unmap_aperture_segment uop = { 0 };
	dmar_pt_format fmt = { .levels = 4 };
	dmar_start_decision why;
	dmar_adapter_stats before, after;
	dmar_result res;
	dmar_iova_t logical = 1;
	dmar_pa_t pa = 1, mdl[1] = { 0 };
	uint64_t page = 1;
	void *va = SENT;

	remap_up(&f, 1);
	if (!f.adl)
		return;
	dmar_adapter_get_stats(f.ad, &before);
	dmar_adapter_config_default(NULL);
	dmar_adapter_config_default(&cfg);

	CHECK_ST(dmar_adl_page(NULL, 0, &page), INV);
	CHECK_ST(dmar_adl_page(f.adl, 0, NULL), INV);
	CHECK_ST(dmar_adl_page(&arr, 0, &page), INV);
	CHECK_EQ(page, 1);

	CHECK_ST(dmar_adapter_create(NULL, &cfg, &adout, &why), INV);
	CHECK_ST(dmar_adapter_create(f.m, NULL, &adout, &why), INV);
	CHECK_ST(dmar_adapter_create(f.m, &cfg, NULL, &why), INV);
	CHECK(adout == SENT);
	CHECK_ST(dmar_adapter_start(NULL), INV);
	CHECK_ST(dmar_adapter_disable_iommu(NULL), INV);
	dmar_adapter_destroy(NULL);
	CHECK(dmar_adapter_decision(NULL) == NULL);
	CHECK(dmar_adapter_device(NULL, 0) == NULL);
	CHECK(dmar_adapter_domain(NULL) == NULL);
	CHECK(dmar_adapter_iovad(NULL) == NULL);
	CHECK_STATS_ZEROED(dmar_adapter_get_stats, dmar_adapter_stats);
	dmar_adapter_get_stats(f.ad, NULL);

	CHECK_ST(dmar_process_create(NULL, 0x100000, &fmt, &pout), INV);
	CHECK_ST(dmar_process_create(f.ad, 0x100000, NULL, &pout), INV); /* IoMmuSupported */
	CHECK_ST(dmar_process_create(f.ad, 0x100000, &fmt, NULL), INV);
	CHECK(pout == SENT);
	CHECK_ST(dmar_process_destroy(NULL, f.proc), INV);
	CHECK_ST(dmar_process_destroy(f.ad, NULL), INV);
	CHECK_EQ(dmar_process_pasid(NULL), DMAR_NO_PASID);
	CHECK_ST(dmar_gpu_context_create(NULL, f.proc, &cout), INV);
	CHECK_ST(dmar_gpu_context_create(f.ad, NULL, &cout), INV);
	CHECK_ST(dmar_gpu_context_create(f.ad, f.proc, NULL), INV);
	CHECK(cout == SENT);
	CHECK_EQ(dmar_gpu_context_pasid(NULL), DMAR_NO_PASID);
	CHECK_ST(dmar_gpu_context_destroy(NULL, f.ctx), INV);
	CHECK_ST(dmar_gpu_context_destroy(f.ad, NULL), INV);

	CHECK_ST(dmar_pmo_create(NULL, P, &pp, &oout), INV);
	CHECK_ST(dmar_pmo_create(f.ad, P, NULL, &oout), INV);
	CHECK_ST(dmar_pmo_create(f.ad, P, &pp, NULL), INV);
	CHECK(oout == SENT);
	CHECK_ST(dmar_pmo_open(NULL, P, f.pmo), INV);
	CHECK_ST(dmar_pmo_open(f.ad, P, NULL), INV);
	CHECK_ST(dmar_pmo_close(NULL, P, f.pmo), INV);
	CHECK_ST(dmar_pmo_close(f.ad, P, NULL), INV);
	CHECK_ST(dmar_pmo_destroy(NULL, P, f.pmo), INV);
	CHECK_ST(dmar_pmo_destroy(f.ad, P, NULL), INV);
	CHECK_ST(dmar_pmo_map_gpu(NULL, P, f.pmo, 0, 1, DMAR_PROT_READ, &gout), INV);
	CHECK_ST(dmar_pmo_map_gpu(f.ad, P, NULL, 0, 1, DMAR_PROT_READ, &gout), INV);
	CHECK_ST(dmar_pmo_map_gpu(f.ad, P, f.pmo, 0, 1, DMAR_PROT_READ, NULL), INV);
	CHECK(gout == SENT);
	CHECK_ST(dmar_pmo_unmap_gpu(NULL, P, f.gpu_adl), INV);
	CHECK_ST(dmar_pmo_unmap_gpu(f.ad, P, NULL), INV);
	CHECK_ST(dmar_pmo_map_cpu(NULL, P, f.pmo, 0, 1, DMAR_CPU_KERNEL, DMAR_CACHE_CACHED, &va),
		 INV);
	CHECK_ST(dmar_pmo_map_cpu(f.ad, P, NULL, 0, 1, DMAR_CPU_KERNEL, DMAR_CACHE_CACHED, &va),
		 INV);
	CHECK_ST(dmar_pmo_map_cpu(f.ad, P, f.pmo, 0, 1, DMAR_CPU_KERNEL, DMAR_CACHE_CACHED, NULL),
		 INV);
	CHECK(va == SENT);
	CHECK_ST(dmar_pmo_unmap_cpu(NULL, P, f.pmo, f.va), INV);
	CHECK_ST(dmar_pmo_unmap_cpu(f.ad, P, NULL, f.va), INV);
	CHECK_ST(dmar_pmo_unmap_cpu(f.ad, P, f.pmo, NULL), INV);
	CHECK_ST(dmar_pmo_trim(NULL, P, f.pmo), INV);
	CHECK_ST(dmar_pmo_trim(f.ad, P, NULL), INV);
	CHECK_ST(dmar_pmo_page(NULL, 0, &pa), INV);
	CHECK_ST(dmar_pmo_page(f.pmo, 0, NULL), INV);
	CHECK_EQ(pa, 1);
	CHECK_ST(dmar_adl_allocate(NULL, P, 1, 0, &adlout), INV);
	CHECK_ST(dmar_adl_allocate(f.ad, P, 1, 0, NULL), INV);
	CHECK(adlout == SENT);
	CHECK_ST(dmar_adl_free(NULL, P, f.adl), INV);
	CHECK_ST(dmar_adl_free(f.ad, P, NULL), INV);

	CHECK_ST(dmar_legacy_allocate_pages_for_mdl(NULL, P, K4, &oout), INV);
	CHECK_ST(dmar_legacy_allocate_pages_for_mdl(f.ad, P, K4, NULL), INV);
	CHECK_ST(dmar_legacy_allocate_contiguous_memory(NULL, P, K4, 0, &oout), INV);
	CHECK_ST(dmar_legacy_allocate_contiguous_memory(f.ad, P, K4, 0, NULL), INV);
	CHECK(oout == SENT);
	CHECK_ST(dmar_legacy_map_mdl_to_iommu(NULL, P, f.pmo, &logical), INV);
	CHECK_ST(dmar_legacy_map_mdl_to_iommu(f.ad, P, NULL, &logical), INV);
	CHECK_ST(dmar_legacy_map_mdl_to_iommu(f.ad, P, f.pmo, NULL), INV);
	CHECK_EQ(logical, 1);
	CHECK_ST(dmar_legacy_unmap_mdl_from_iommu(NULL, P, f.pmo), INV);
	CHECK_ST(dmar_legacy_unmap_mdl_from_iommu(f.ad, P, NULL), INV);

	CHECK_ST(dmar_allocation_create(NULL, P, &ap, &alout), INV);
	CHECK_ST(dmar_allocation_create(f.ad, P, NULL, &alout), INV);
	CHECK_ST(dmar_allocation_create(f.ad, P, &ap, NULL), INV);
	CHECK(alout == SENT);
	CHECK_ST(dmar_allocation_destroy(NULL, P, f.al), INV);
	CHECK_ST(dmar_allocation_destroy(f.ad, P, NULL), INV);
	CHECK_EQ(dmar_allocation_segment(NULL), DMAR_SEGMENT_SYSTEM);
	CHECK(dmar_allocation_adl(NULL) == NULL);
	CHECK(dmar_allocation_pmo(NULL) == NULL);
	op.h_allocation = f.al;
	op.segment_id = 1;
	op.number_of_pages = 1;
	op.adl = *dmar_allocation_adl(f.al);
	CHECK_ST(dmar_map_aperture_segment2(NULL, P, &op), INV);
	CHECK_ST(dmar_map_aperture_segment2(f.ad, P, NULL), INV);
	uop.h_allocation = f.al;
	uop.segment_id = 1;
	uop.number_of_pages = 1;
	CHECK_ST(dmar_unmap_aperture_segment(NULL, P, &uop), INV);
	CHECK_ST(dmar_unmap_aperture_segment(f.ad, P, NULL), INV);
	CHECK_ST(dmar_map_aperture_segment_mdl(NULL, P, f.al, 1, 0, 1, mdl), INV);
	CHECK_ST(dmar_map_aperture_segment_mdl(f.ad, P, NULL, 1, 0, 1, mdl), INV);
	CHECK_ST(dmar_map_aperture_segment_mdl(f.ad, P, f.al, 1, 0, 1, NULL), INV);
	CHECK_ST(dmar_aperture_translate(NULL, 1, 0, DMAR_ACCESS_READ, &res), INV);
	CHECK_ST(dmar_aperture_translate(f.ad, 1, 0, DMAR_ACCESS_READ, NULL), INV);

	/* nothing was created, destroyed, mapped, counted or bugchecked by the refused calls:
	 * the counters are those of remap_up(), and every object is still live */
	dmar_adapter_get_stats(f.ad, &after);
	CHECK(memcmp(&before, &after, sizeof(before)) == 0);
	CHECK_EQ(f.bugchecks, 0);
	CHECK_ST(dmar_pmo_unmap_cpu(f.ad, P, f.pmo, f.va), DMAR_OK);
	CHECK_ST(dmar_pmo_unmap_gpu(f.ad, P, f.gpu_adl), DMAR_OK);
	CHECK_ST(dmar_adl_free(f.ad, P, f.adl), DMAR_OK);
	CHECK_ST(dmar_gpu_context_destroy(f.ad, f.ctx), DMAR_OK);
	CHECK_ST(dmar_process_destroy(f.ad, f.proc), DMAR_OK);
	CHECK_ST(dmar_allocation_destroy(f.ad, P, f.al), DMAR_OK);
	CHECK_ST(dmar_pmo_destroy(f.ad, P, f.pmo), DMAR_OK);
	remap_down(&f);
}

/* NULL is refused first: before the IRQL check (no bugcheck, nothing counted) and before
 * the legacy callbacks' mode check (no DMAR_E_DEPRECATED, nothing counted). */
TEST(remap_h_null_is_refused_before_irql_and_legacy_checks)
{
	const dmar_irql hi = DMAR_DISPATCH_LEVEL;

	for (int remapped = 0; remapped < 2; remapped++) {
		struct remap_fx f;
		dmar_pmo_params pp = { .kind = DMAR_PMO_NONPAGED, .size = K4 };
		dmar_allocation_params ap = { .npages = 1, .segment_set = 1 };
		dmar_adapter_stats before, after;
		dmar_iova_t logical = 1;
		dmar_pa_t mdl[1] = { 0 };

		remap_up(&f, remapped);
		if (!f.adl)
			return;
		dmar_adapter_get_stats(f.ad, &before);
		for (int k = 0; k < 2; k++) {
			const dmar_irql irql = k ? hi : P;
			const unsigned R = DMAR_PROT_READ;

			CHECK_ST(dmar_legacy_allocate_pages_for_mdl(f.ad, irql, K4, NULL), INV);
			CHECK_ST(dmar_legacy_allocate_contiguous_memory(f.ad, irql, K4, 0, NULL),
				 INV);
			CHECK_ST(dmar_legacy_map_mdl_to_iommu(f.ad, irql, NULL, &logical), INV);
			CHECK_ST(dmar_legacy_map_mdl_to_iommu(f.ad, irql, f.pmo, NULL), INV);
			CHECK_ST(dmar_legacy_unmap_mdl_from_iommu(f.ad, irql, NULL), INV);
			CHECK_ST(dmar_pmo_create(f.ad, irql, &pp, NULL), INV);
			CHECK_ST(dmar_pmo_open(f.ad, irql, NULL), INV);
			CHECK_ST(dmar_pmo_map_gpu(f.ad, irql, f.pmo, 0, 1, R, NULL), INV);
			CHECK_ST(dmar_pmo_unmap_gpu(f.ad, irql, NULL), INV);
			CHECK_ST(dmar_pmo_map_cpu(f.ad, irql, f.pmo, 0, 1, DMAR_CPU_KERNEL,
						  DMAR_CACHE_CACHED, NULL), INV);
			CHECK_ST(dmar_pmo_unmap_cpu(f.ad, irql, f.pmo, NULL), INV);
			CHECK_ST(dmar_adl_allocate(f.ad, irql, 1, 0, NULL), INV);
			CHECK_ST(dmar_adl_free(f.ad, irql, NULL), INV);
			CHECK_ST(dmar_allocation_create(f.ad, irql, &ap, NULL), INV);
			CHECK_ST(dmar_allocation_destroy(f.ad, irql, NULL), INV);
			CHECK_ST(dmar_map_aperture_segment2(f.ad, irql, NULL), INV);
			CHECK_ST(dmar_unmap_aperture_segment(f.ad, irql, NULL), INV);
			CHECK_ST(dmar_map_aperture_segment_mdl(f.ad, irql, f.al, 1, 0, 1, NULL),
				 INV);
			CHECK_ST(dmar_map_aperture_segment_mdl(f.ad, irql, NULL, 1, 0, 1, mdl),
				 INV);
		}
		CHECK_EQ(logical, 1);
		CHECK_EQ(f.bugchecks, 0);
		dmar_adapter_get_stats(f.ad, &after); /* no bugcheck, deprecated call or object */
		CHECK(memcmp(&before, &after, sizeof(before)) == 0);
		remap_down(&f);
	}
}

TEST(dmagen_h_null_pointers_get_the_status_h_answers)
{
	dmar_physmem *pm = test_physmem(0);
	dmar_iommu *m;
	dmar_device *dev = NULL;
	dmar_gen_config gc;
	dmar_gen *g = NULL, *gout = SENT;
	dmar_pa_t pages[1] = { 0x100000 };
	dmar_gen_region r = { .path = DMAR_GEN_LOGICAL, .size = K4, .pages = pages,
			      .dma_bits = 48 };
	dmar_gen_engine e = { .kind = DMAR_GEN_COMMAND, .src = 0 };
	dmar_gen_req req[4];
	dmar_gen_counts c, c2;
	dmar_trace *t = NULL, *tout = SENT;
	const char *scen = SENT;
	char path[] = "/tmp/dmar-api-null-XXXXXX";
	unsigned id = 77, type = 0, engine = 0;
	uint64_t seed = 1;
	bool data = true;
	size_t n = 9;
	int fd;

	m = test_iommu(pm, 0);
	REQUIRE(dmar_device_create(m, 1, 48, &dev) == DMAR_OK);
	r.dev = dev;
	dmar_gen_config_default(NULL);
	dmar_gen_config_default(&gc);
	CHECK_ST(dmar_gen_create(&gc, &gout), INV); /* a NULL pm in the configuration */
	gc.pm = pm;
	gc.data = false;
	CHECK_ST(dmar_gen_create(NULL, &gout), INV);
	CHECK_ST(dmar_gen_create(&gc, NULL), INV);
	CHECK(gout == SENT);
	REQUIRE(dmar_gen_create(&gc, &g) == DMAR_OK);
	dmar_gen_destroy(NULL);
	CHECK_ST(dmar_gen_add_region(NULL, &r, &id), INV);
	CHECK_ST(dmar_gen_add_region(g, NULL, &id), INV);
	CHECK_ST(dmar_gen_add_region(g, &r, NULL), INV);
	r.pages = NULL;
	CHECK_ST(dmar_gen_add_region(g, &r, &id), INV);
	r.pages = pages;
	CHECK_EQ(id, 77);
	REQUIRE(dmar_gen_add_region(g, &r, &id) == DMAR_OK && id == 0); /* the first region */
	CHECK_ST(dmar_gen_add_engine(NULL, &e, &id), INV);
	CHECK_ST(dmar_gen_add_engine(g, NULL, &id), INV);
	CHECK_ST(dmar_gen_add_engine(g, &e, NULL), INV);
	REQUIRE(dmar_gen_add_engine(g, &e, &id) == DMAR_OK && id == 0); /* the first engine */
	CHECK_ST(dmar_gen_fill(NULL, 0), INV);
	CHECK_EQ(dmar_gen_region_pattern(NULL, 0), 0);
	CHECK_EQ(dmar_gen_next(NULL, 0, req, 4), 0);
	CHECK_EQ(dmar_gen_next(g, 0, NULL, 4), 0);
	CHECK_EQ(dmar_gen_peek(NULL, 0, req, 4), 0);
	CHECK_EQ(dmar_gen_peek(g, 0, NULL, 4), 0);
	dmar_gen_mark_exclusive(NULL, 4);
	REQUIRE(dmar_gen_next(g, 0, req, 1) == 1);
	memset(&c, 0, sizeof(c));
	CHECK_ST(dmar_gen_execute(NULL, 0, req, 1, &c), INV);
	CHECK_ST(dmar_gen_execute(g, 0, NULL, 1, &c), INV);
	CHECK_ST(dmar_gen_execute(g, 0, req, 1, NULL), INV);
	CHECK_EQ(c.requests, 0);
	dmar_gen_verify(NULL, &c);
	dmar_gen_verify(g, NULL);
	memset(&c2, 0, sizeof(c2));
	c2.requests = 5;
	dmar_gen_counts_add(NULL, &c2);
	dmar_gen_counts_add(&c, NULL);
	CHECK_EQ(c.requests, 0);

	fd = mkstemp(path);
	REQUIRE(fd >= 0);
	close(fd);
	CHECK_ST(dmar_trace_create(NULL, 1, false, "s", &tout), INV);
	CHECK_ST(dmar_trace_create(path, 1, false, "s", NULL), INV);
	CHECK(tout == SENT);
	REQUIRE(dmar_trace_create(path, 1, false, NULL, &t) == DMAR_OK); /* scenario optional */
	CHECK_ST(dmar_trace_write(NULL, DMAR_TRACE_REQUESTS, 0, req, 1), INV);
	CHECK_ST(dmar_trace_write(t, DMAR_TRACE_REQUESTS, 0, NULL, 1), INV);
	CHECK_ST(dmar_trace_write(t, DMAR_TRACE_REQUESTS, 0, req, 1), DMAR_OK);
	CHECK_ST(dmar_trace_close(t), DMAR_OK);
	CHECK_ST(dmar_trace_close(NULL), DMAR_OK); /* closing nothing */
	CHECK_ST(dmar_trace_open(NULL, &tout), INV);
	CHECK_ST(dmar_trace_open(path, NULL), INV);
	CHECK(tout == SENT);
	REQUIRE(dmar_trace_open(path, &t) == DMAR_OK);
	dmar_trace_header(NULL, &seed, &data, &scen);
	CHECK_EQ(seed, 0);
	CHECK(!data);
	CHECK(scen == NULL);
	dmar_trace_header(t, NULL, NULL, NULL);
	CHECK_ST(dmar_trace_read(NULL, &type, &engine, req, 4, &n), INV);
	CHECK_ST(dmar_trace_read(t, NULL, &engine, req, 4, &n), INV);
	CHECK_ST(dmar_trace_read(t, &type, NULL, req, 4, &n), INV);
	CHECK_ST(dmar_trace_read(t, &type, &engine, NULL, 4, &n), INV);
	CHECK_ST(dmar_trace_read(t, &type, &engine, req, 4, NULL), INV);
	CHECK_EQ(n, 9);
	/* the refused reads consumed nothing: the first record is still next */
	CHECK_ST(dmar_trace_read(t, &type, &engine, req, 4, &n), DMAR_OK);
	CHECK_EQ(type, DMAR_TRACE_REQUESTS);
	CHECK_EQ(n, 1);
	CHECK_ST(dmar_trace_close(t), DMAR_OK);
	unlink(path);

	dmar_gen_destroy(g);
	dmar_iommu_destroy(m);
	dmar_physmem_destroy(pm);
}

RUN_TESTS(T(physmem_h_null_pointers_get_the_status_h_answers),
	  T(pgtable_h_null_pointers_get_the_status_h_answers),
	  T(iotlb_h_null_pointers_get_the_status_h_answers),
	  T(fault_h_null_pointers_get_the_status_h_answers),
	  T(iommu_h_null_pointers_get_the_status_h_answers),
	  T(iova_h_null_pointers_get_the_status_h_answers),
	  T(start_h_null_pointers_get_the_status_h_answers),
	  T(remap_h_null_pointers_get_the_status_h_answers),
	  T(remap_h_null_is_refused_before_irql_and_legacy_checks),
	  T(dmagen_h_null_pointers_get_the_status_h_answers))
