/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The WDDM remapping layer: one test per rule of S3-S27 (named after it), the end-to-end
 * start of a 40-bit discrete GPU on a 2 TiB machine, and bad input everywhere. */
#include <errno.h>
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check.h"

#define K4 4096ull
#define MiB (1ull << 20)
#define GiB (1ull << 30)
#define TiB (1ull << 40)
#define P DMAR_PASSIVE_LEVEL
#define RW (DMAR_PROT_READ | DMAR_PROT_WRITE)

struct env {
	dmar_physmem *pm;
	dmar_iommu *iommu;
	dmar_adapter *ad;
	dmar_start_decision why;
};

/* Physical memory as @pc has it (NULL: a 2 TiB workstation, its top above 2^41) and one
 * IOMMU. */
static void env_mem(struct env *e, const dmar_physmem_config *pc)
{
	dmar_physmem_config workstation;

	memset(e, 0, sizeof(*e));
	if (!pc) {
		dmar_physmem_config_workstation(&workstation);
		pc = &workstation;
	}
	if (dmar_physmem_create(pc, &e->pm) != DMAR_OK) {
		printf("Bail out! cannot create the physical memory\n");
		exit(2);
	}
	e->iommu = test_iommu(e->pm, 0);
}

static dmar_status env_up(struct env *e, const dmar_adapter_config *cfg, int start)
{
	dmar_status st;

	env_mem(e, NULL);
	st = dmar_adapter_create(e->iommu, cfg, &e->ad, &e->why);
	if (st == DMAR_OK && start)
		st = dmar_adapter_start(e->ad);
	return st;
}

static void env_down(struct env *e)
{
	dmar_adapter_destroy(e->ad);
	dmar_iommu_destroy(e->iommu);
	dmar_physmem_destroy(e->pm);
}

/* A driver that does not do remapping: IoMmuSupported only, a device reaching everything. */
static void cfg_isolation(dmar_adapter_config *c, uint32_t flags)
{
	dmar_adapter_config_default(c);
	c->start.remap_caps_physical = false;
	c->start.remap_caps_vidmm = false;
	c->start.dma_remapping_compatible = 0;
	c->start.dma_bits = 48;
	c->start.iommu_flags = flags;
}

static dmar_status dev_xlate(dmar_adapter *ad, unsigned i, uint64_t iova, uint32_t pasid,
			     unsigned access, dmar_result *r)
{
	dmar_request q = { .iova = iova, .access = access, .pasid = pasid };

	return dmar_device_translate(dmar_adapter_device(ad, i), &q, r);
}

static dmar_pmo *pmo_new(dmar_adapter *ad, dmar_pmo_kind kind, uint64_t size)
{
	dmar_pmo_params p = { .kind = kind, .size = size };
	dmar_pmo *o = NULL;

	CHECK_ST(dmar_pmo_create(ad, P, &p, &o), DMAR_OK);
	return o;
}

static uint64_t adl_at(const dmar_adl *adl, uint64_t i)
{
	uint64_t page = ~0ull;

	CHECK_ST(dmar_adl_page(adl, i, &page), DMAR_OK);
	return page;
}

static int bug_calls;
static uint32_t bug_code;
static uint64_t bug_irql;
static void bugcheck(void *ctx, uint32_t code, uint64_t p1, uint64_t p2, const char *what)
{
	(void)ctx;
	(void)p2;
	(void)what;
	bug_calls++;
	bug_code = code;
	bug_irql = p1;
}

static int is_mapped(void *va)
{
	unsigned char v;

	return mincore(va, 1, &v) == 0 || errno != ENOMEM;
}

/* ---- S3 ------------------------------------------------------------------------------- */

TEST(S3_a_process_gets_a_pasid_and_its_gpu_context_receives_it)
{
	struct env e;
	dmar_adapter_config c;
	dmar_pgtable_config ptc;
	dmar_pgtable *cpu_pt;
	dmar_process *p, *q;
	dmar_gpu_context *ctx;
	dmar_pa_t frame;
	dmar_result r;

	dmar_adapter_config_default(&c);
	REQUIRE(env_up(&e, &c, 1) == DMAR_OK);
	/* the process's own CPU page table (S1, S2): a user VA below the 40-bit reach -> a frame */
	dmar_pgtable_config_default(&ptc);
	REQUIRE(dmar_pgtable_create(e.pm, &ptc, &cpu_pt) == DMAR_OK);
	REQUIRE(dmar_physmem_alloc(e.pm, 1, 12, DMAR_PLACE_ANY, 0, &frame) == DMAR_OK);
	REQUIRE(dmar_pgtable_map(cpu_pt, 0xff00001000ull, frame, K4, RW | DMAR_PROT_USER) == DMAR_OK);
	CHECK_ST(dmar_process_create(e.ad, dmar_pgtable_root(cpu_pt), dmar_pgtable_format(cpu_pt), &p),
		 DMAR_OK);
	CHECK_ST(dmar_process_create(e.ad, dmar_pgtable_root(cpu_pt), dmar_pgtable_format(cpu_pt), &q),
		 DMAR_OK);
	CHECK(dmar_process_pasid(p) != DMAR_NO_PASID);
	CHECK(dmar_process_pasid(p) != dmar_process_pasid(q));
	CHECK_ST(dmar_gpu_context_create(e.ad, p, &ctx), DMAR_OK);
	CHECK_EQ(dmar_gpu_context_pasid(ctx), dmar_process_pasid(p));
	/* a GPU request tagged with it walks the process's table: shared virtual addresses */
	CHECK_ST(dev_xlate(e.ad, 0, 0xff00001234ull, dmar_gpu_context_pasid(ctx), DMAR_ACCESS_WRITE, &r),
		 DMAR_OK);
	CHECK_EQ(r.pa, frame + 0x234);
	CHECK_ST(dmar_process_destroy(e.ad, p), DMAR_E_BUSY); /* it has a context */
	CHECK_ST(dmar_gpu_context_destroy(e.ad, ctx), DMAR_OK);
	CHECK_ST(dmar_gpu_context_destroy(e.ad, ctx), DMAR_E_INVALID);
	uint32_t pasid = dmar_process_pasid(p);
	CHECK_ST(dmar_process_destroy(e.ad, p), DMAR_OK);
	/* unregistered: its PASID no longer translates */
	CHECK_ST(dev_xlate(e.ad, 0, 0xff00001234ull, pasid, DMAR_ACCESS_READ, &r), DMAR_E_FAULT);
	CHECK_EQ(r.fault, DMAR_FAULT_PASID);
	CHECK_ST(dmar_process_destroy(e.ad, q), DMAR_OK);
	dmar_pgtable_destroy(cpu_pt);
	env_down(&e);

	/* without IoMmuSupported there is no registration and no PASID */
	dmar_adapter_config_default(&c);
	c.start.iommu_supported = false;
	c.start.dma_bits = 48;
	c.start.dma_remapping_compatible = 0;
	REQUIRE(env_up(&e, &c, 1) == DMAR_OK);
	CHECK_ST(dmar_process_create(e.ad, 0, NULL, &p), DMAR_OK);
	CHECK_EQ(dmar_process_pasid(p), DMAR_NO_PASID);
	CHECK_ST(dmar_gpu_context_create(e.ad, p, &ctx), DMAR_OK);
	CHECK_EQ(dmar_gpu_context_pasid(ctx), DMAR_NO_PASID);
	env_down(&e); /* the adapter takes its processes and contexts with it */
}

/* ---- S4, S20-S23: the aperture ------------------------------------------------------ */

TEST(S4_a_primary_surface_is_scanned_out_through_the_aperture)
{
	struct env e;
	dmar_adapter_config c;
	dmar_allocation_params ap = { .npages = 16, .segment_set = 1u << 1,
				      .flags = DMAR_ALLOC_ACCESSED_PHYSICALLY | DMAR_ALLOC_PRIMARY };
	dmar_allocation *al;
	dmar_op_map_aperture_segment2 op;
	dmar_result r;
	dmar_pa_t pa;

	dmar_adapter_config_default(&c);
	REQUIRE(env_up(&e, &c, 1) == DMAR_OK);
	CHECK_ST(dmar_allocation_create(e.ad, P, &ap, &al), DMAR_OK);
	CHECK_EQ(dmar_allocation_segment(al), 1);
	/* before it is mapped into the aperture, the display controller reaches nothing */
	CHECK_ST(dmar_aperture_translate(e.ad, 1, 0x100 * K4, DMAR_ACCESS_READ, &r), DMAR_E_FAULT);
	CHECK_EQ(r.fault, DMAR_FAULT_APERTURE);
	op = (dmar_op_map_aperture_segment2){ .h_allocation = al, .segment_id = 1,
		.offset_in_pages = 0x100, .number_of_pages = 16, .adl = *dmar_allocation_adl(al) };
	CHECK_ST(dmar_map_aperture_segment2(e.ad, P, &op), DMAR_OK);
	for (uint64_t i = 0; i < 16; i++) {
		CHECK_ST(dmar_aperture_translate(e.ad, 1, (0x100 + i) * K4 + 8, DMAR_ACCESS_READ, &r),
			 DMAR_OK);
		CHECK_ST(dmar_pmo_page(dmar_allocation_pmo(al), i, &pa), DMAR_OK);
		CHECK_EQ(r.pa, pa + 8);
	}
	env_down(&e);
}

TEST(S20_map_aperture_segment2_validates_every_field)
{
	struct env e;
	dmar_adapter_config c;
	dmar_allocation_params ap = { .npages = 8, .segment_set = 1u << 1,
				      .flags = DMAR_ALLOC_ACCESSED_PHYSICALLY };
	dmar_allocation *al, *al2;
	dmar_op_map_aperture_segment2 op, bad;
	dmar_op_unmap_aperture_segment un;
	dmar_adapter_stats st;
	dmar_result r;

	CHECK_EQ(DMAR_OP_MAP_APERTURE_SEGMENT2, 17);
	dmar_adapter_config_default(&c);
	c.aperture_pages[0] = 64;
	REQUIRE(env_up(&e, &c, 1) == DMAR_OK);
	CHECK_ST(dmar_allocation_create(e.ad, P, &ap, &al), DMAR_OK);
	CHECK_ST(dmar_allocation_create(e.ad, P, &ap, &al2), DMAR_OK);
	op = (dmar_op_map_aperture_segment2){ .h_allocation = al, .segment_id = 1,
		.offset_in_pages = 60, .number_of_pages = 4, .adl = *dmar_allocation_adl(al),
		.adl_offset = 4 };
	bad = op; bad.segment_id = 2;            /* no such segment */
	CHECK_ST(dmar_map_aperture_segment2(e.ad, P, &bad), DMAR_E_INVALID);
	bad = op; bad.segment_id = 0;            /* the system segment is no aperture */
	CHECK_ST(dmar_map_aperture_segment2(e.ad, P, &bad), DMAR_E_INVALID);
	bad = op; bad.offset_in_pages = 61;      /* OffsetInPages + NumberOfPages > 64 */
	CHECK_ST(dmar_map_aperture_segment2(e.ad, P, &bad), DMAR_E_RANGE);
	bad = op; bad.offset_in_pages = ~0ull;   /* and without wrapping around */
	CHECK_ST(dmar_map_aperture_segment2(e.ad, P, &bad), DMAR_E_RANGE);
	bad = op; bad.number_of_pages = 0;
	CHECK_ST(dmar_map_aperture_segment2(e.ad, P, &bad), DMAR_E_RANGE);
	bad = op; bad.adl_offset = 5;            /* AdlOffset + NumberOfPages > 8 */
	CHECK_ST(dmar_map_aperture_segment2(e.ad, P, &bad), DMAR_E_RANGE);
	bad = op; bad.adl_offset = ~0ull - 1;
	CHECK_ST(dmar_map_aperture_segment2(e.ad, P, &bad), DMAR_E_RANGE);
	bad = op; bad.flags = 0x80;              /* unknown flag */
	CHECK_ST(dmar_map_aperture_segment2(e.ad, P, &bad), DMAR_E_INVALID);
	bad = op; bad.h_allocation = (dmar_allocation *)&bad; /* not an allocation */
	CHECK_ST(dmar_map_aperture_segment2(e.ad, P, &bad), DMAR_E_INVALID);
	bad = op; bad.h_device = (dmar_gpu_context *)&bad;    /* not a context */
	CHECK_ST(dmar_map_aperture_segment2(e.ad, P, &bad), DMAR_E_INVALID);
	bad = op; bad.adl = *dmar_allocation_adl(al2);        /* another allocation's pages */
	CHECK_ST(dmar_map_aperture_segment2(e.ad, P, &bad), DMAR_E_INVALID);
	bad = op; bad.adl.flags = 0; bad.adl.pages = NULL;    /* array form without an array */
	CHECK_ST(dmar_map_aperture_segment2(e.ad, P, &bad), DMAR_E_INVALID);
	dmar_adapter_get_stats(e.ad, &st);
	CHECK_EQ(st.aperture_mappings, 0); /* none of that changed anything */

	CHECK_ST(dmar_map_aperture_segment2(e.ad, P, &op), DMAR_OK);
	CHECK(op.cpu_visible_address == NULL); /* no MapApertureCpuVisible (S21) */
	CHECK_ST(dmar_aperture_translate(e.ad, 1, 60 * K4, DMAR_ACCESS_READ, &r), DMAR_OK);
	CHECK_EQ(r.pa / K4 * K4, ({ dmar_pa_t pa; dmar_pmo_page(dmar_allocation_pmo(al), 4, &pa); pa; }));
	CHECK_ST(dmar_map_aperture_segment2(e.ad, P, &op), DMAR_E_EXISTS); /* already mapped */
	bad = op; bad.h_allocation = al2; bad.adl = *dmar_allocation_adl(al2); bad.offset_in_pages = 58;
	CHECK_ST(dmar_map_aperture_segment2(e.ad, P, &bad), DMAR_E_EXISTS); /* overlap at 60, 61 */
	bad.offset_in_pages = 50;
	CHECK_ST(dmar_map_aperture_segment2(e.ad, P, &bad), DMAR_OK);
	CHECK_ST(dmar_allocation_destroy(e.ad, P, al), DMAR_E_BUSY); /* mapped in the aperture */

	un = (dmar_op_unmap_aperture_segment){ .h_allocation = al, .segment_id = 1,
					       .offset_in_pages = 60, .number_of_pages = 3 };
	CHECK_ST(dmar_unmap_aperture_segment(e.ad, P, &un), DMAR_E_NOT_FOUND); /* not the range */
	un.number_of_pages = 4;
	CHECK_ST(dmar_unmap_aperture_segment(e.ad, P, &un), DMAR_OK);
	CHECK_ST(dmar_unmap_aperture_segment(e.ad, P, &un), DMAR_E_NOT_FOUND);
	CHECK_ST(dmar_aperture_translate(e.ad, 1, 60 * K4, DMAR_ACCESS_READ, &r), DMAR_E_FAULT);
	CHECK_EQ(r.fault, DMAR_FAULT_APERTURE);
	CHECK_ST(dmar_allocation_destroy(e.ad, P, al), DMAR_OK);

	/* S20: a MapAperture2 driver never gets the legacy MDL operation */
	dmar_pa_t mdl[4];
	for (int i = 0; i < 4; i++)
		dmar_pmo_page(dmar_allocation_pmo(al2), (uint64_t)i, &mdl[i]);
	CHECK_ST(dmar_map_aperture_segment_mdl(e.ad, P, al2, 1, 0, 4, mdl), DMAR_E_NOT_SUPPORTED);
	env_down(&e);
}

TEST(S20_a_driver_without_map_aperture2_gets_the_legacy_mdl_operation)
{
	struct env e;
	dmar_adapter_config c;
	dmar_allocation_params ap = { .npages = 4, .segment_set = 1u << 1,
				      .flags = DMAR_ALLOC_ACCESSED_PHYSICALLY };
	dmar_allocation *al;
	dmar_op_map_aperture_segment2 op = { 0 };
	dmar_pa_t mdl[4];
	dmar_result r;

	cfg_isolation(&c, 0);
	c.map_aperture2 = false;
	REQUIRE(env_up(&e, &c, 1) == DMAR_OK);
	CHECK_ST(dmar_allocation_create(e.ad, P, &ap, &al), DMAR_OK);
	op.h_allocation = al;
	op.segment_id = 1;
	op.number_of_pages = 4;
	op.adl = *dmar_allocation_adl(al);
	CHECK_ST(dmar_map_aperture_segment2(e.ad, P, &op), DMAR_E_NOT_SUPPORTED);
	for (int i = 0; i < 4; i++)
		dmar_pmo_page(dmar_allocation_pmo(al), (uint64_t)i, &mdl[i]);
	CHECK_ST(dmar_map_aperture_segment_mdl(e.ad, P, al, 1, 8, 4, mdl), DMAR_OK);
	CHECK_ST(dmar_aperture_translate(e.ad, 1, 9 * K4 + 3, DMAR_ACCESS_WRITE, &r), DMAR_OK);
	CHECK_EQ(r.pa, mdl[1] + 3);
	env_down(&e);
}

TEST(S21_cpu_visible_address_only_with_the_flag_and_released_at_unmap)
{
	struct env e;
	dmar_adapter_config c;
	dmar_allocation_params ap = { .npages = 4, .segment_set = 1u << 1,
		.flags = DMAR_ALLOC_ACCESSED_PHYSICALLY | DMAR_ALLOC_MAP_APERTURE_CPU_VISIBLE };
	dmar_allocation *al;
	dmar_op_map_aperture_segment2 op;
	dmar_op_unmap_aperture_segment un;
	dmar_result r;
	uint8_t got[5] = { 0 };
	char *cpu;

	dmar_adapter_config_default(&c);
	REQUIRE(env_up(&e, &c, 1) == DMAR_OK);
	CHECK_ST(dmar_allocation_create(e.ad, P, &ap, &al), DMAR_OK);
	op = (dmar_op_map_aperture_segment2){ .h_allocation = al, .segment_id = 1,
		.number_of_pages = 4, .adl = *dmar_allocation_adl(al) };
	CHECK_ST(dmar_map_aperture_segment2(e.ad, P, &op), DMAR_OK);
	cpu = op.cpu_visible_address;
	REQUIRE(cpu != NULL);
	/* the kernel address and the device see the same bytes */
	memcpy(cpu + 2 * K4 + 100, "hello", 5);
	CHECK_ST(dmar_aperture_translate(e.ad, 1, 2 * K4 + 100, DMAR_ACCESS_READ, &r), DMAR_OK);
	CHECK_ST(dmar_physmem_read(e.pm, r.pa, got, 5), DMAR_OK);
	CHECK(memcmp(got, "hello", 5) == 0);
	un = (dmar_op_unmap_aperture_segment){ .h_allocation = al, .segment_id = 1,
					       .number_of_pages = 4 };
	CHECK(is_mapped(cpu));
	CHECK_ST(dmar_unmap_aperture_segment(e.ad, P, &un), DMAR_OK);
	CHECK(!is_mapped(cpu)); /* released right after the unmap */
	env_down(&e);

	/* MapApertureCpuVisible without MapAperture2Supported: the creation fails */
	dmar_adapter_config_default(&c);
	c.map_aperture2 = false;
	c.start.dma_bits = 48; /* (no remapping without it: reach everything) */
	REQUIRE(env_up(&e, &c, 1) == DMAR_OK);
	CHECK_ST(dmar_allocation_create(e.ad, P, &ap, &al), DMAR_E_NOT_SUPPORTED);
	env_down(&e);
}

TEST(S22_without_accessed_physically_the_allocation_is_promoted_to_system_memory)
{
	struct env e;
	dmar_adapter_config c;
	dmar_allocation_params ap = { .npages = 4, .segment_set = (1u << 1) | 1u };
	dmar_allocation *al;
	dmar_op_map_aperture_segment2 op;

	dmar_adapter_config_default(&c);
	REQUIRE(env_up(&e, &c, 1) == DMAR_OK);
	CHECK_ST(dmar_allocation_create(e.ad, P, &ap, &al), DMAR_OK);
	CHECK_EQ(dmar_allocation_segment(al), DMAR_SEGMENT_SYSTEM);
	op = (dmar_op_map_aperture_segment2){ .h_allocation = al, .segment_id = 1,
		.number_of_pages = 4, .adl = *dmar_allocation_adl(al) };
	CHECK_ST(dmar_map_aperture_segment2(e.ad, P, &op), DMAR_E_INVALID); /* never mapped */
	ap.segment_set = 1u << 3; /* a segment this adapter does not have */
	CHECK_ST(dmar_allocation_create(e.ad, P, &ap, &al), DMAR_E_INVALID);
	env_down(&e);
}

static int hook_calls;
static dmar_paging_op hook_last;
static dmar_status hook_answer;
static dmar_status paging_hook(void *ctx, dmar_paging_op op, const void *args)
{
	const dmar_op_map_aperture_segment2 *m = args;

	(void)ctx;
	hook_calls++;
	hook_last = op;
	/* the driver reads the ADL flags (S23): in remapped mode, contiguous logical pages */
	if (op == DMAR_OP_MAP_APERTURE_SEGMENT2 &&
	    m->adl.flags != (DMAR_ADL_CONTIGUOUS | DMAR_ADL_LOGICAL))
		return DMAR_E_INVALID;
	return hook_answer;
}

TEST(S23_the_adl_is_passed_contiguous_and_the_driver_still_reads_its_flags)
{
	struct env e;
	dmar_adapter_config c;
	dmar_allocation_params ap = { .npages = 8, .segment_set = 1u << 1,
				      .flags = DMAR_ALLOC_ACCESSED_PHYSICALLY };
	dmar_allocation *al;
	dmar_op_map_aperture_segment2 op;
	dmar_adl *arr;
	dmar_adapter_stats st;
	const dmar_adl *adl;

	dmar_adapter_config_default(&c);
	c.paging = paging_hook;
	REQUIRE(env_up(&e, &c, 1) == DMAR_OK);
	CHECK_ST(dmar_allocation_create(e.ad, P, &ap, &al), DMAR_OK);
	adl = dmar_allocation_adl(al);
	CHECK_EQ(adl->flags, DMAR_ADL_CONTIGUOUS | DMAR_ADL_LOGICAL);
	CHECK_EQ(adl->page_count, 8);
	/* the driver refuses: nothing changes */
	hook_answer = DMAR_E_NOMEM;
	op = (dmar_op_map_aperture_segment2){ .h_allocation = al, .segment_id = 1,
		.number_of_pages = 8, .adl = *adl };
	CHECK_ST(dmar_map_aperture_segment2(e.ad, P, &op), DMAR_E_NOMEM);
	CHECK_EQ(hook_calls, 1);
	dmar_adapter_get_stats(e.ad, &st);
	CHECK_EQ(st.aperture_mappings, 0);
	/* the same pages as an array: the layer reads both forms alike */
	hook_answer = DMAR_OK;
	CHECK_ST(dmar_adl_allocate(e.ad, P, 8, DMAR_ADL_LOGICAL, &arr), DMAR_OK);
	for (uint64_t i = 0; i < 8; i++)
		arr->pages[i] = adl_at(adl, i);
	op.adl = *arr;
	CHECK_ST(dmar_map_aperture_segment2(e.ad, P, &op), DMAR_E_INVALID); /* hook: not contiguous */
	op.adl = *adl;
	CHECK_ST(dmar_map_aperture_segment2(e.ad, P, &op), DMAR_OK);
	CHECK_EQ(hook_last, DMAR_OP_MAP_APERTURE_SEGMENT2);
	CHECK_ST(dmar_adl_free(e.ad, P, arr), DMAR_OK);
	env_down(&e);
}

/* ---- S5-S8 ---------------------------------------------------------------------------- */

TEST(S5_allocations_come_from_the_os_service_in_every_mode)
{
	static const uint32_t policies[] = { 0, 0x07 };
	dmar_allocation_params ap = { .npages = 3, .segment_set = 1 };
	dmar_allocation *al;
	dmar_adapter_config c;
	struct env e;

	for (int mode = 0; mode < 3; mode++) {
		if (mode == 2)
			dmar_adapter_config_default(&c); /* remapped */
		else
			cfg_isolation(&c, policies[mode]); /* pass-through, 1:1 */
		REQUIRE(env_up(&e, &c, 1) == DMAR_OK);
		CHECK_EQ(e.why.mode, mode == 0 ? DMAR_START_PASSTHROUGH
				   : mode == 1 ? DMAR_START_ISOLATION : DMAR_START_REMAPPED);
		CHECK_ST(dmar_allocation_create(e.ad, P, &ap, &al), DMAR_OK);
		CHECK_EQ(dmar_allocation_adl(al)->page_count, 3);
		for (uint64_t i = 0; i < 3; i++) { /* and the device reaches what it was given */
			dmar_result r;
			dmar_pa_t pa;

			CHECK_ST(dev_xlate(e.ad, 0, adl_at(dmar_allocation_adl(al), i) * K4, DMAR_NO_PASID,
					   DMAR_ACCESS_WRITE, &r), DMAR_OK);
			CHECK_ST(dmar_pmo_page(dmar_allocation_pmo(al), i, &pa), DMAR_OK);
			CHECK_EQ(r.pa, pa);
		}
		CHECK_ST(dmar_allocation_destroy(e.ad, P, al), DMAR_OK);
		env_down(&e);
	}
}

TEST(S6_S7_the_device_gets_logical_addresses_and_invalid_ones_fault)
{
	struct env e;
	dmar_adapter_config c;
	dmar_pmo *o;
	const dmar_adl *adl;
	dmar_result r;
	dmar_fault_record rec[4];
	dmar_pa_t pa;
	uint64_t before[2], after[2];

	dmar_adapter_config_default(&c);
	REQUIRE(env_up(&e, &c, 1) == DMAR_OK);
	o = pmo_new(e.ad, DMAR_PMO_NONPAGED, 2 * K4);
	CHECK_ST(dmar_pmo_map_gpu(e.ad, P, o, 0, 2, RW, &adl), DMAR_OK);
	CHECK_ST(dmar_pmo_page(o, 0, &pa), DMAR_OK);
	CHECK(adl_at(adl, 0) * K4 != pa); /* S6: not the physical address */
	CHECK_ST(dev_xlate(e.ad, 0, adl_at(adl, 0) * K4, DMAR_NO_PASID, DMAR_ACCESS_WRITE, &r), DMAR_OK);
	CHECK_EQ(r.pa, pa);
	uint64_t logical = adl_at(adl, 0) * K4;
	/* S7: after the unmap the same address faults, is reported, and nothing is touched */
	CHECK_ST(dmar_physmem_read(e.pm, pa, before, sizeof(before)), DMAR_OK);
	CHECK_ST(dmar_pmo_unmap_gpu(e.ad, P, adl), DMAR_OK);
	(void)dmar_faultq_drain(dmar_iommu_faults(e.iommu), rec, 4);
	CHECK_ST(dev_xlate(e.ad, 0, logical, DMAR_NO_PASID, DMAR_ACCESS_WRITE, &r), DMAR_E_FAULT);
	CHECK_EQ(r.fault, DMAR_FAULT_NOT_PRESENT);
	CHECK_EQ(r.pa, 0);
	CHECK_EQ(dmar_faultq_drain(dmar_iommu_faults(e.iommu), rec, 4), 1);
	CHECK_EQ(rec[0].addr, logical);
	CHECK_EQ(rec[0].reason, DMAR_FAULT_NOT_PRESENT);
	CHECK_EQ(rec[0].requester, c.rid);
	CHECK_ST(dmar_physmem_read(e.pm, pa, after, sizeof(after)), DMAR_OK);
	CHECK(memcmp(before, after, sizeof(after)) == 0);
	env_down(&e);
}

TEST(S8_isolation_maps_pages_one_to_one_and_only_those)
{
	struct env e;
	dmar_adapter_config c;
	dmar_pmo *o;
	const dmar_adl *adl, *adl2;
	dmar_result r;
	dmar_pa_t pa[3];

	cfg_isolation(&c, 0);
	c.start.secure_vm = true; /* the secure VM turns on 1:1 isolation, mapping what is allocated */
	REQUIRE(env_up(&e, &c, 1) == DMAR_OK);
	CHECK_EQ(e.why.mode, DMAR_START_ISOLATION);
	CHECK(!e.why.map_all_memory);
	o = pmo_new(e.ad, DMAR_PMO_NONPAGED, 3 * K4);
	for (uint64_t i = 0; i < 3; i++)
		CHECK_ST(dmar_pmo_page(o, i, &pa[i]), DMAR_OK);
	/* not mapped yet: unreachable */
	CHECK_ST(dev_xlate(e.ad, 0, pa[0], DMAR_NO_PASID, DMAR_ACCESS_READ, &r), DMAR_E_FAULT);
	CHECK_ST(dmar_pmo_map_gpu(e.ad, P, o, 0, 2, RW, &adl), DMAR_OK);
	CHECK(!(adl->flags & DMAR_ADL_LOGICAL));
	for (uint64_t i = 0; i < 2; i++) {
		CHECK_EQ(adl_at(adl, i) * K4, pa[i]); /* the same page number */
		CHECK_ST(dev_xlate(e.ad, 0, pa[i] + 5, DMAR_NO_PASID, DMAR_ACCESS_WRITE, &r), DMAR_OK);
		CHECK_EQ(r.pa, pa[i] + 5);
	}
	CHECK_ST(dev_xlate(e.ad, 0, pa[2], DMAR_NO_PASID, DMAR_ACCESS_READ, &r), DMAR_E_FAULT);
	/* two mappings of one page: it stays reachable until the last goes */
	CHECK_ST(dmar_pmo_map_gpu(e.ad, P, o, 1, 1, RW, &adl2), DMAR_OK);
	CHECK_ST(dmar_pmo_unmap_gpu(e.ad, P, adl), DMAR_OK);
	CHECK_ST(dev_xlate(e.ad, 0, pa[0], DMAR_NO_PASID, DMAR_ACCESS_READ, &r), DMAR_E_FAULT);
	CHECK_ST(dev_xlate(e.ad, 0, pa[1], DMAR_NO_PASID, DMAR_ACCESS_READ, &r), DMAR_OK);
	CHECK_ST(dmar_pmo_unmap_gpu(e.ad, P, adl2), DMAR_OK);
	CHECK_ST(dev_xlate(e.ad, 0, pa[1], DMAR_NO_PASID, DMAR_ACCESS_READ, &r), DMAR_E_FAULT);
	env_down(&e);
}

/* ---- S9-S12: enabling ------------------------------------------------------------------ */

TEST(S9_policy_flags_decide_what_the_adapter_gets)
{
	struct env e;
	dmar_adapter_config c;
	dmar_result r;

	/* Enabled + EnableMappings + EnableAttach: all RAM mapped 1:1, device attached */
	cfg_isolation(&c, DMAR_IOMMUF_ENABLED | DMAR_IOMMUF_ENABLE_MAPPINGS | DMAR_IOMMUF_ENABLE_ATTACH);
	REQUIRE(env_up(&e, &c, 1) == DMAR_OK);
	CHECK_EQ(e.why.mode, DMAR_START_ISOLATION);
	CHECK(e.why.map_all_memory);
	CHECK_ST(dev_xlate(e.ad, 0, TiB + 100 * GiB + 0x123, DMAR_NO_PASID, DMAR_ACCESS_WRITE, &r), DMAR_OK);
	CHECK_EQ(r.pa, TiB + 100 * GiB + 0x123);
	CHECK_ST(dev_xlate(e.ad, 0, 3 * GiB, DMAR_NO_PASID, DMAR_ACCESS_READ, &r), DMAR_E_FAULT); /* hole */
	env_down(&e);
	/* EnableAttach without EnableMappings is ignored: pass-through */
	cfg_isolation(&c, DMAR_IOMMUF_ENABLED | DMAR_IOMMUF_ENABLE_ATTACH);
	REQUIRE(env_up(&e, &c, 1) == DMAR_OK);
	CHECK_EQ(e.why.mode, DMAR_START_PASSTHROUGH);
	CHECK_ST(dev_xlate(e.ad, 0, 3 * GiB, DMAR_NO_PASID, DMAR_ACCESS_READ, &r), DMAR_OK);
	env_down(&e);
	/* without driver support the enable bits count only with BypassDriverCap */
	cfg_isolation(&c, 0x07);
	c.start.iommu_supported = false;
	REQUIRE(env_up(&e, &c, 1) == DMAR_OK);
	CHECK_EQ(e.why.mode, DMAR_START_PASSTHROUGH);
	env_down(&e);
	cfg_isolation(&c, 0x07 | DMAR_IOMMUF_BYPASS_DRIVER_CAP);
	c.start.iommu_supported = false;
	REQUIRE(env_up(&e, &c, 1) == DMAR_OK);
	CHECK_EQ(e.why.mode, DMAR_START_ISOLATION);
	env_down(&e);
	/* AllowFailure: a forced enablement without a platform IOMMU starts in pass-through */
	cfg_isolation(&c, 0x07);
	c.start.platform_iommu = false;
	CHECK_ST(env_up(&e, &c, 1), DMAR_E_NOT_SUPPORTED);
	CHECK_EQ(e.why.reason, DMAR_WHY_NO_PLATFORM_IOMMU);
	env_down(&e);
	cfg_isolation(&c, 0x07 | DMAR_IOMMUF_ALLOW_FAILURE);
	c.start.platform_iommu = false;
	REQUIRE(env_up(&e, &c, 1) == DMAR_OK);
	CHECK_EQ(e.why.mode, DMAR_START_PASSTHROUGH);
	CHECK_EQ(e.why.reason, DMAR_WHY_FAILURE_ALLOWED);
	env_down(&e);
}

TEST(S10_what_was_allocated_before_start_is_mapped_at_enablement)
{
	struct env e;
	dmar_adapter_config c;
	dmar_adapter_stats st;
	dmar_pmo *early, *late;
	dmar_result r;
	dmar_pa_t pa_early, pa_late;

	cfg_isolation(&c, 0);
	c.start.secure_vm = true;
	REQUIRE(env_up(&e, &c, 0) == DMAR_OK); /* created, not started */
	early = pmo_new(e.ad, DMAR_PMO_CONTIGUOUS, 4 * K4);
	CHECK_ST(dmar_pmo_page(early, 0, &pa_early), DMAR_OK);
	/* not started: the device is not attached, nothing is reachable */
	CHECK_ST(dev_xlate(e.ad, 0, pa_early, DMAR_NO_PASID, DMAR_ACCESS_READ, &r), DMAR_E_FAULT);
	CHECK_EQ(r.fault, DMAR_FAULT_NO_DOMAIN);
	CHECK_ST(dmar_adapter_start(e.ad), DMAR_OK);
	CHECK_ST(dmar_adapter_start(e.ad), DMAR_E_BUSY);
	dmar_adapter_get_stats(e.ad, &st);
	CHECK_EQ(st.pages_mapped_at_start, 4);
	for (uint64_t i = 0; i < 4; i++)
		CHECK_ST(dev_xlate(e.ad, 0, pa_early + i * K4, DMAR_NO_PASID, DMAR_ACCESS_WRITE, &r),
			 DMAR_OK);
	/* what comes after start is reachable only once mapped */
	late = pmo_new(e.ad, DMAR_PMO_NONPAGED, K4);
	CHECK_ST(dmar_pmo_page(late, 0, &pa_late), DMAR_OK);
	CHECK_ST(dev_xlate(e.ad, 0, pa_late, DMAR_NO_PASID, DMAR_ACCESS_READ, &r), DMAR_E_FAULT);
	/* destroying the early object takes its start mapping with it */
	CHECK_ST(dmar_pmo_destroy(e.ad, P, early), DMAR_OK);
	CHECK_ST(dev_xlate(e.ad, 0, pa_early, DMAR_NO_PASID, DMAR_ACCESS_READ, &r), DMAR_E_FAULT);
	env_down(&e);
}

TEST(S11_a_secure_vm_needs_driver_support)
{
	struct env e;
	dmar_adapter_config c;

	cfg_isolation(&c, DMAR_IOMMUF_ALLOW_FAILURE);
	c.start.secure_vm = true;
	c.start.iommu_supported = false;
	CHECK_ST(env_up(&e, &c, 1), DMAR_E_NOT_SUPPORTED);
	CHECK_EQ(e.why.reason, DMAR_WHY_SECURE_VM_NO_DRIVER); /* AllowFailure cannot rescue it */
	CHECK(e.ad == NULL);
	env_down(&e);
}

TEST(S12_once_enabled_the_iommu_cannot_be_disabled)
{
	struct env e;
	dmar_adapter_config c;
	dmar_domain *other;

	dmar_adapter_config_default(&c);
	REQUIRE(env_up(&e, &c, 1) == DMAR_OK);
	CHECK_ST(dmar_adapter_disable_iommu(e.ad), DMAR_E_NOT_SUPPORTED);
	CHECK_ST(dmar_device_detach(dmar_adapter_device(e.ad, 0)), DMAR_E_BUSY);
	REQUIRE(dmar_domain_create(e.iommu, DMAR_DOMAIN_PASSTHROUGH, NULL, &other) == DMAR_OK);
	CHECK_ST(dmar_device_attach(dmar_adapter_device(e.ad, 0), other), DMAR_E_BUSY);
	/* a switch under exclusive access (S18) is still possible */
	CHECK_ST(dmar_device_begin_exclusive(dmar_adapter_device(e.ad, 0)), DMAR_OK);
	CHECK_ST(dmar_device_switch_domain(dmar_adapter_device(e.ad, 0), dmar_adapter_domain(e.ad)),
		 DMAR_OK);
	CHECK_ST(dmar_device_end_exclusive(dmar_adapter_device(e.ad, 0)), DMAR_OK);
	CHECK_ST(dmar_domain_destroy(other), DMAR_OK);
	env_down(&e);
}

/* S12 and iommu.h: a switch under exclusive access cannot turn isolation off either: a
 * pass-through domain is refused (and the window stays on the old domain), an identity
 * domain, which still reaches only what it maps (S8), is taken. */
TEST(S12_a_domain_switch_never_turns_isolation_off)
{
	struct env e;
	dmar_adapter_config c;
	dmar_domain *pass, *ident;
	dmar_device *dev;
	dmar_request q = { .iova = 0x100000, .access = DMAR_ACCESS_READ, .pasid = DMAR_NO_PASID };
	dmar_result r;

	dmar_adapter_config_default(&c);
	REQUIRE(env_up(&e, &c, 1) == DMAR_OK);
	dev = dmar_adapter_device(e.ad, 0);
	REQUIRE(dmar_domain_create(e.iommu, DMAR_DOMAIN_PASSTHROUGH, NULL, &pass) == DMAR_OK);
	REQUIRE(dmar_domain_create(e.iommu, DMAR_DOMAIN_IDENTITY, NULL, &ident) == DMAR_OK);
	CHECK_ST(dmar_device_translate(dev, &q, &r), DMAR_E_FAULT); /* RAM nobody mapped */
	CHECK_ST(dmar_device_begin_exclusive(dev), DMAR_OK);
	CHECK_ST(dmar_device_switch_domain(dev, pass), DMAR_E_BUSY);
	CHECK_ST(dmar_device_end_exclusive(dev), DMAR_OK);
	CHECK_ST(dmar_device_translate(dev, &q, &r), DMAR_E_FAULT);
	CHECK_EQ(r.fault, DMAR_FAULT_NOT_PRESENT);
	CHECK_EQ(r.pa, 0);
	CHECK_ST(dmar_domain_destroy(pass), DMAR_OK); /* nothing attached it */
	/* identity: the unmapped page still faults, a mapped one translates 1:1 */
	CHECK_ST(dmar_domain_map(ident, 0x200000, 0x200000, K4, DMAR_PROT_READ), DMAR_OK);
	CHECK_ST(dmar_device_begin_exclusive(dev), DMAR_OK);
	CHECK_ST(dmar_device_switch_domain(dev, ident), DMAR_OK);
	CHECK_ST(dmar_device_end_exclusive(dev), DMAR_OK);
	CHECK_ST(dmar_device_translate(dev, &q, &r), DMAR_E_FAULT);
	q.iova = 0x200010;
	CHECK_ST(dmar_device_translate(dev, &q, &r), DMAR_OK);
	CHECK_EQ(r.pa, 0x200010);
	CHECK_ST(dmar_device_begin_exclusive(dev), DMAR_OK);
	CHECK_ST(dmar_device_switch_domain(dev, dmar_adapter_domain(e.ad)), DMAR_OK);
	CHECK_ST(dmar_device_end_exclusive(dev), DMAR_OK);
	CHECK_ST(dmar_domain_destroy(ident), DMAR_OK);
	env_down(&e);
}

/* ---- S13-S18: remapping ---------------------------------------------------------------- */

TEST(S13_logically_contiguous_over_scattered_physical_pages)
{
	struct env e;
	dmar_adapter_config c;
	dmar_pmo *o;
	const dmar_adl *adl;
	dmar_request q[32];
	dmar_result r[32];
	size_t nf;
	int scattered = 0;

	dmar_adapter_config_default(&c);
	REQUIRE(env_up(&e, &c, 1) == DMAR_OK);
	o = pmo_new(e.ad, DMAR_PMO_NONPAGED, 32 * K4);
	CHECK_ST(dmar_pmo_map_gpu(e.ad, P, o, 0, 32, RW, &adl), DMAR_OK);
	CHECK(adl->flags & DMAR_ADL_CONTIGUOUS);
	for (int i = 0; i < 32; i++)
		q[i] = (dmar_request){ .iova = (adl->base_page + (uint64_t)i) * K4 + 1, .access = DMAR_ACCESS_READ,
				       .pasid = DMAR_NO_PASID };
	CHECK_ST(dmar_device_translate_batch(dmar_adapter_device(e.ad, 0), q, r, 32, &nf), DMAR_OK);
	CHECK_EQ(nf, 0);
	for (uint64_t i = 0; i < 32; i++) {
		dmar_pa_t pa;

		CHECK_ST(dmar_pmo_page(o, i, &pa), DMAR_OK);
		CHECK_EQ(r[i].pa, pa + 1);
		scattered |= i && pa != r[i - 1].pa - 1 + K4;
	}
	CHECK(scattered); /* the physical pages are not in logical order */
	env_down(&e);
}

TEST(S14_without_remapping_a_device_that_cannot_reach_memory_fails_to_start)
{
	struct env e;
	dmar_adapter_config c;

	/* an integrated 40-bit GPU without remapping on a machine with memory above 1 TiB */
	dmar_adapter_config_default(&c);
	c.start.integrated = true;
	c.start.dma_remapping_compatible = 0;
	CHECK_ST(env_up(&e, &c, 1), DMAR_E_NOT_SUPPORTED);
	CHECK_EQ(e.why.reason, DMAR_WHY_CANNOT_REACH_MEMORY);
	env_down(&e);
	/* with remapping it starts, and its logical addresses stay below 1 TiB */
	dmar_adapter_config_default(&c);
	REQUIRE(env_up(&e, &c, 1) == DMAR_OK);
	CHECK_EQ(e.why.mode, DMAR_START_REMAPPED);
	CHECK_EQ(e.why.logical_limit, TiB);
	env_down(&e);
}

/* S14: with remapping, a GPU of any DMA width gets logical addresses inside [0, its reach)
 * that its domain's table takes ([0, 2^48) with 4 levels, [0, 2^57) with 5, pgtable.h), and
 * at most what one allocator holds (DMAR_IOVA_MAX_PAGES): every width maps memory and moves
 * bytes through them, in both directions, and nothing after the unmap. */
TEST(S14_remapped_gpu_of_every_width_32_to_64_maps_and_dmas)
{
	for (unsigned levels = 4; levels <= 5; levels++) {
		const uint64_t table_last = levels == 4 ? (1ull << 48) - 1 : (1ull << 57) - 1;

		for (unsigned bits = 32; bits <= 64; bits++) {
			const uint64_t reach_last = bits == 64 ? UINT64_MAX : (1ull << bits) - 1;
			const uint64_t sizes[2] = { 3, 40 }; /* a cached size, one of the slow path */
			uint64_t want_last = reach_last < table_last ? reach_last : table_last;
			dmar_pgtable_config ptc;
			dmar_adapter_config c;
			dmar_iovad_stats ist;
			dmar_iova_t last;
			struct env e;

			if (want_last > DMAR_IOVA_MAX_PAGES * K4 - 1)
				want_last = DMAR_IOVA_MAX_PAGES * K4 - 1;
			dmar_pgtable_config_default(&ptc);
			ptc.format.levels = levels;
			dmar_adapter_config_default(&c);
			c.start.dma_bits = bits;
			c.pt = &ptc;
			REQUIRE(env_up(&e, &c, 1) == DMAR_OK);
			REQUIRE(e.why.mode == DMAR_START_REMAPPED);
			CHECK_ST(dmar_domain_input_range(dmar_adapter_domain(e.ad), &last), DMAR_OK);
			CHECK_EQ(last, table_last);
			dmar_iovad_get_stats(dmar_adapter_iovad(e.ad), &ist);
			CHECK_EQ(ist.pages_total, (want_last + 1) / K4);
			/* the adapter's decision says that ceiling, not 2^bits */
			CHECK_EQ(e.why.logical_limit, want_last + 1);
			CHECK_EQ(dmar_adapter_decision(e.ad)->logical_limit, want_last + 1);
			for (int k = 0; k < 2; k++) {
				const uint64_t n = sizes[k], off = 100, len = (n - 1) * K4;
				uint8_t *out = malloc(len), *back = malloc(len), *cpu;
				const dmar_adl *adl = NULL;
				dmar_result fault;
				dmar_iova_t iova;
				dmar_pmo *o;
				size_t done = 0;

				REQUIRE(out && back);
				for (uint64_t i = 0; i < len; i++)
					out[i] = (uint8_t)(i * 7 + bits + k);
				o = pmo_new(e.ad, DMAR_PMO_NONPAGED, n * K4);
				REQUIRE(o != NULL);
				CHECK_ST(dmar_pmo_map_gpu(e.ad, P, o, 0, n, RW, &adl), DMAR_OK);
				if (!adl) {
					printf("#   %u levels, %u bits, %" PRIu64 " pages: no mapping\n",
					       levels, bits, n);
					free(out);
					free(back);
					continue;
				}
				iova = adl->base_page * K4;
				CHECK(iova + (n * K4 - 1) <= want_last); /* below reach and table */
				CHECK_ST(dmar_device_dma(dmar_adapter_device(e.ad, 0), iova + off,
							 DMAR_NO_PASID, DMAR_DMA_WRITE, out, len, &done,
							 &fault), DMAR_OK);
				CHECK_EQ(done, len);
				/* the CPU sees the device's bytes, and the device reads them back */
				CHECK_ST(dmar_pmo_map_cpu(e.ad, P, o, 0, n, DMAR_CPU_KERNEL,
							  DMAR_CACHE_CACHED, (void **)&cpu), DMAR_OK);
				CHECK(memcmp(cpu + off, out, len) == 0);
				CHECK_ST(dmar_pmo_unmap_cpu(e.ad, P, o, cpu), DMAR_OK);
				memset(back, 0, len);
				CHECK_ST(dmar_device_dma(dmar_adapter_device(e.ad, 0), iova + off,
							 DMAR_NO_PASID, DMAR_DMA_READ, back, len, &done,
							 &fault), DMAR_OK);
				CHECK(memcmp(back, out, len) == 0);
				CHECK_ST(dmar_pmo_unmap_gpu(e.ad, P, adl), DMAR_OK);
				CHECK_ST(dmar_device_dma(dmar_adapter_device(e.ad, 0), iova + off,
							 DMAR_NO_PASID, DMAR_DMA_READ, back, 8, &done,
							 &fault), DMAR_E_FAULT);
				CHECK_EQ(fault.fault, DMAR_FAULT_NOT_PRESENT);
				CHECK_ST(dmar_pmo_destroy(e.ad, P, o), DMAR_OK);
				free(out);
				free(back);
			}
			env_down(&e);
		}
	}
}

TEST(S15_linked_adapters_share_one_domain)
{
	struct env e;
	dmar_adapter_config c;
	dmar_pmo *o;
	const dmar_adl *adl;
	dmar_result r0, r1;

	dmar_adapter_config_default(&c);
	c.nlinked = 2;
	REQUIRE(env_up(&e, &c, 1) == DMAR_OK);
	CHECK(dmar_adapter_device(e.ad, 1) != NULL);
	CHECK(dmar_adapter_device(e.ad, 2) == NULL);
	o = pmo_new(e.ad, DMAR_PMO_NONPAGED, K4);
	CHECK_ST(dmar_pmo_map_gpu(e.ad, P, o, 0, 1, RW, &adl), DMAR_OK);
	CHECK_ST(dev_xlate(e.ad, 0, adl->base_page * K4, DMAR_NO_PASID, DMAR_ACCESS_READ, &r0), DMAR_OK);
	CHECK_ST(dev_xlate(e.ad, 1, adl->base_page * K4, DMAR_NO_PASID, DMAR_ACCESS_READ, &r1), DMAR_OK);
	CHECK_EQ(r0.pa, r1.pa);
	env_down(&e);
}

TEST(S16_a_discrete_gpu_must_support_remapping)
{
	struct env e;
	dmar_adapter_config c;

	dmar_adapter_config_default(&c);
	c.start.remap_caps_physical = false;
	CHECK_ST(env_up(&e, &c, 1), DMAR_E_NOT_SUPPORTED);
	CHECK_EQ(e.why.reason, DMAR_WHY_DISCRETE_NO_REMAPPING);
	env_down(&e);
	/* an integrated one may go without, when it reaches all memory */
	dmar_adapter_config_default(&c);
	c.start.integrated = true;
	c.start.remap_caps_physical = false;
	c.start.dma_bits = 48;
	REQUIRE(env_up(&e, &c, 1) == DMAR_OK);
	CHECK(e.why.mode != DMAR_START_REMAPPED);
	env_down(&e);
}

TEST(S17_both_cap_sets_before_start_and_attached_before_memory_is_touched)
{
	struct env e;
	dmar_adapter_config c;
	dmar_pmo *o;
	const dmar_adl *adl;
	dmar_result r;

	dmar_adapter_config_default(&c);
	REQUIRE(env_up(&e, &c, 0) == DMAR_OK); /* created, not yet started */
	/* already attached to its (empty) domain: a stray access faults as not present */
	CHECK_ST(dev_xlate(e.ad, 0, 0x1000, DMAR_NO_PASID, DMAR_ACCESS_READ, &r), DMAR_E_FAULT);
	CHECK_EQ(r.fault, DMAR_FAULT_NOT_PRESENT);
	o = pmo_new(e.ad, DMAR_PMO_NONPAGED, K4);
	CHECK_ST(dmar_pmo_map_gpu(e.ad, P, o, 0, 1, RW, &adl), DMAR_E_BUSY); /* not started */
	CHECK_ST(dmar_adapter_start(e.ad), DMAR_OK);
	CHECK_ST(dmar_pmo_map_gpu(e.ad, P, o, 0, 1, RW, &adl), DMAR_OK);
	env_down(&e);
	/* caps reported after start, or the VidMm set missing: no remapping */
	dmar_adapter_config_default(&c);
	c.start.caps_before_start = false;
	c.start.integrated = true;
	c.start.dma_bits = 48;
	REQUIRE(env_up(&e, &c, 1) == DMAR_OK);
	CHECK(e.why.mode != DMAR_START_REMAPPED);
	CHECK(!e.why.remap_possible);
	env_down(&e);
	dmar_adapter_config_default(&c);
	c.start.remap_caps_vidmm = false;
	CHECK_ST(env_up(&e, &c, 1), DMAR_E_NOT_SUPPORTED); /* discrete: S16 */
	env_down(&e);
}

TEST(S18_inside_exclusive_access_no_mapping_call_and_no_dma)
{
	struct env e;
	dmar_adapter_config c;
	dmar_pmo *o;
	const dmar_adl *adl, *adl2;
	dmar_result r;

	dmar_adapter_config_default(&c);
	REQUIRE(env_up(&e, &c, 1) == DMAR_OK);
	o = pmo_new(e.ad, DMAR_PMO_NONPAGED, 2 * K4);
	CHECK_ST(dmar_pmo_map_gpu(e.ad, P, o, 0, 1, RW, &adl), DMAR_OK);
	CHECK_ST(dmar_device_begin_exclusive(dmar_adapter_device(e.ad, 0)), DMAR_OK);
	CHECK_ST(dev_xlate(e.ad, 0, adl->base_page * K4, DMAR_NO_PASID, DMAR_ACCESS_READ, &r), DMAR_E_FAULT);
	CHECK_EQ(r.fault, DMAR_FAULT_EXCLUSIVE);
	CHECK_ST(dmar_pmo_map_gpu(e.ad, P, o, 1, 1, RW, &adl2), DMAR_E_BUSY);
	CHECK_ST(dmar_pmo_unmap_gpu(e.ad, P, adl), DMAR_E_BUSY);
	CHECK_ST(dmar_device_end_exclusive(dmar_adapter_device(e.ad, 0)), DMAR_OK);
	CHECK_ST(dev_xlate(e.ad, 0, adl->base_page * K4, DMAR_NO_PASID, DMAR_ACCESS_READ, &r), DMAR_OK);
	CHECK_ST(dmar_pmo_unmap_gpu(e.ad, P, adl), DMAR_OK);
	env_down(&e);
}

/* ---- S19, S24, S25: ADLs and memory objects ------------------------------------------- */

TEST(S19_adls_contiguous_or_array_and_owned_by_their_mapping)
{
	struct env e;
	dmar_adapter_config c;
	dmar_adl *a, *b;
	const dmar_adl *m;
	dmar_pmo *o;
	uint64_t page;

	dmar_adapter_config_default(&c);
	REQUIRE(env_up(&e, &c, 1) == DMAR_OK);
	CHECK_ST(dmar_adl_allocate(e.ad, P, 3, DMAR_ADL_CONTIGUOUS, &a), DMAR_OK);
	a->base_page = 0x1000;
	CHECK_EQ(adl_at(a, 2), 0x1002);
	CHECK_ST(dmar_adl_page(a, 3, &page), DMAR_E_RANGE);
	CHECK_ST(dmar_adl_allocate(e.ad, P, 3, 0, &b), DMAR_OK);
	CHECK(b->pages != NULL);
	CHECK_EQ(adl_at(b, 1), 0); /* zeroed for the caller to fill */
	b->pages[1] = 77;
	CHECK_EQ(adl_at(b, 1), 77);
	CHECK_ST(dmar_adl_allocate(e.ad, P, 0, 0, &b), DMAR_E_INVALID);
	CHECK_ST(dmar_adl_allocate(e.ad, P, 1, 0x100, &b), DMAR_E_INVALID);
	CHECK_ST(dmar_adl_free(e.ad, P, a), DMAR_OK);
	CHECK_ST(dmar_adl_free(e.ad, P, a), DMAR_E_NOT_FOUND);
	/* the ADL of a GPU mapping belongs to it */
	o = pmo_new(e.ad, DMAR_PMO_NONPAGED, K4);
	CHECK_ST(dmar_pmo_map_gpu(e.ad, P, o, 0, 1, RW, &m), DMAR_OK);
	CHECK_ST(dmar_adl_free(e.ad, P, (dmar_adl *)(uintptr_t)m), DMAR_E_BUSY);
	/* (no function of the API takes an ADL and returns a pointer: see remap.h) */
	env_down(&e); /* b is freed with the adapter */
}

TEST(S24_memory_objects_locked_while_mapped_with_cpu_and_gpu_views)
{
	struct env e;
	dmar_adapter_config c;
	dmar_pmo *o, *sec, *io;
	const dmar_adl *adl;
	dmar_pmo_params pp = { .kind = DMAR_PMO_IO_SPACE, .size = 4 * K4, .io_base = 3 * GiB };
	dmar_result r;
	dmar_pa_t pa, pa2;
	char *kva, *uva;
	void *v;

	dmar_adapter_config_default(&c);
	REQUIRE(env_up(&e, &c, 1) == DMAR_OK);
	o = pmo_new(e.ad, DMAR_PMO_CONTIGUOUS, 8 * K4);
	CHECK_ST(dmar_pmo_page(o, 7, &pa), DMAR_OK);
	CHECK_ST(dmar_pmo_page(o, 0, &pa2), DMAR_OK);
	CHECK_EQ(pa - pa2, 7 * K4);
	/* two CPU views (kernel cached, user write-combined) and one GPU view of one page */
	CHECK_ST(dmar_pmo_map_cpu(e.ad, P, o, 0, 8, DMAR_CPU_KERNEL, DMAR_CACHE_CACHED, (void **)&kva),
		 DMAR_OK);
	CHECK_ST(dmar_pmo_map_cpu(e.ad, P, o, 7, 1, DMAR_CPU_USER, DMAR_CACHE_WRITE_COMBINED,
				  (void **)&uva), DMAR_OK);
	CHECK_ST(dmar_pmo_map_gpu(e.ad, P, o, 7, 1, RW, &adl), DMAR_OK);
	memcpy(kva + 7 * K4 + 16, "abc", 4);
	CHECK(strcmp(uva + 16, "abc") == 0);
	CHECK_ST(dev_xlate(e.ad, 0, adl->base_page * K4 + 16, DMAR_NO_PASID, DMAR_ACCESS_READ, &r), DMAR_OK);
	CHECK_EQ(r.pa, pa + 16);
	CHECK_ST(dmar_pmo_destroy(e.ad, P, o), DMAR_E_BUSY); /* mapped */
	CHECK_ST(dmar_pmo_unmap_cpu(e.ad, P, o, uva + 1), DMAR_E_NOT_FOUND);
	CHECK_ST(dmar_pmo_unmap_cpu(e.ad, P, o, uva), DMAR_OK);
	CHECK_ST(dmar_pmo_unmap_cpu(e.ad, P, o, kva), DMAR_OK);
	CHECK_ST(dmar_pmo_unmap_gpu(e.ad, P, adl), DMAR_OK);
	/* shared references (Open/Close) keep it too */
	CHECK_ST(dmar_pmo_open(e.ad, P, o), DMAR_OK);
	CHECK_ST(dmar_pmo_destroy(e.ad, P, o), DMAR_E_BUSY);
	CHECK_ST(dmar_pmo_close(e.ad, P, o), DMAR_OK);
	CHECK_ST(dmar_pmo_close(e.ad, P, o), DMAR_E_INVALID);
	CHECK_ST(dmar_pmo_destroy(e.ad, P, o), DMAR_OK);
	CHECK_ST(dmar_pmo_destroy(e.ad, P, o), DMAR_E_INVALID);

	/* a section (paged) object: pages exist while locked, contents survive a trim */
	sec = pmo_new(e.ad, DMAR_PMO_SECTION, 2 * K4);
	CHECK_ST(dmar_pmo_page(sec, 0, &pa), DMAR_E_BUSY); /* not resident yet */
	CHECK_ST(dmar_pmo_map_cpu(e.ad, P, sec, 0, 2, DMAR_CPU_USER, DMAR_CACHE_CACHED, &v), DMAR_OK);
	memcpy((char *)v + K4, "paged", 6);
	CHECK_ST(dmar_pmo_trim(e.ad, P, sec), DMAR_E_BUSY); /* locked while mapped */
	CHECK_ST(dmar_pmo_unmap_cpu(e.ad, P, sec, v), DMAR_OK);
	CHECK_ST(dmar_pmo_trim(e.ad, P, sec), DMAR_OK);
	CHECK_ST(dmar_pmo_page(sec, 0, &pa), DMAR_E_BUSY);
	CHECK_ST(dmar_pmo_map_gpu(e.ad, P, sec, 1, 1, RW, &adl), DMAR_OK); /* brings it back */
	CHECK_ST(dev_xlate(e.ad, 0, adl->base_page * K4, DMAR_NO_PASID, DMAR_ACCESS_READ, &r), DMAR_OK);
	char got[6];
	CHECK_ST(dmar_physmem_read(e.pm, r.pa, got, 6), DMAR_OK);
	CHECK(strcmp(got, "paged") == 0);
	CHECK_ST(dmar_pmo_trim(e.ad, P, o = pmo_new(e.ad, DMAR_PMO_NONPAGED, K4)), DMAR_E_NOT_SUPPORTED);

	/* IO space: the device can reach it (peer to peer), the CPU view is refused */
	CHECK_ST(dmar_pmo_create(e.ad, P, &pp, &io), DMAR_OK);
	CHECK_ST(dmar_pmo_map_gpu(e.ad, P, io, 0, 4, RW, &adl), DMAR_OK);
	CHECK_ST(dev_xlate(e.ad, 0, adl->base_page * K4 + K4, DMAR_NO_PASID, DMAR_ACCESS_WRITE, &r), DMAR_OK);
	CHECK_EQ(r.pa, 3 * GiB + K4);
	CHECK_ST(dmar_pmo_map_cpu(e.ad, P, io, 0, 1, DMAR_CPU_KERNEL, DMAR_CACHE_CACHED, &v),
		 DMAR_E_NOT_SUPPORTED);
	pp.io_base = 2 * GiB - K4; /* overlaps RAM */
	CHECK_ST(dmar_pmo_create(e.ad, P, &pp, &io), DMAR_E_RANGE);
	env_down(&e);
}

/* A small machine: 8 MiB of RAM at 1 MiB (2048 frames a test can use up), one IOMMU. */
static void env_mem_small(struct env *e)
{
	static const dmar_ram_range r[] = { { .base = MiB, .size = 8 * MiB } };
	const dmar_physmem_config pc = { .ranges = r, .nranges = 1, .pa_bits = 40 };

	env_mem(e, &pc);
}

/* Take every free frame of @p pm that @p place / @p limit allow; returns how many (their
 * addresses in @p pa). */
static size_t frames_take(dmar_physmem *pm, dmar_placement place, dmar_pa_t limit, dmar_pa_t *pa,
			  size_t max)
{
	size_t n = 0;

	while (n < max && dmar_physmem_alloc(pm, 1, 12, place, limit, &pa[n]) == DMAR_OK)
		n++;
	return n;
}

static void frames_give_back(dmar_physmem *pm, const dmar_pa_t *pa, size_t n)
{
	for (size_t i = 0; i < n; i++)
		CHECK_ST(dmar_physmem_free(pm, pa[i], 1), DMAR_OK);
}

static uint64_t frames_allocated(const dmar_physmem *pm)
{
	dmar_physmem_stats ps;

	dmar_physmem_get_stats(pm, &ps);
	return ps.allocated_frames;
}

static uint64_t iova_in_use(dmar_adapter *ad)
{
	dmar_iovad_stats st;

	dmar_iovad_get_stats(dmar_adapter_iovad(ad), &st);
	return st.pages_in_use;
}

/* S7, S24: an IO-space object is a range of the physical address space that is not RAM.
 * Held by its first and last byte, it must lie below 2^pa_bits; one whose end runs past
 * 2^64 would wrap to physical 0 and give the device RAM nobody gave it. */
TEST(S7_S24_io_object_wrapping_past_2_64_is_refused)
{
	struct env e;
	dmar_adapter_config c;
	dmar_physmem_stats ps;
	dmar_adapter_stats st;
	dmar_pmo_params pp = { .kind = DMAR_PMO_IO_SPACE };
	dmar_pmo *io = NULL;
	const dmar_adl *adl;
	dmar_result r;
	uint64_t top, frames, word = 0x5a5a5a5a5a5a5a5aull, got = 0;
	size_t done;

	dmar_adapter_config_default(&c);
	REQUIRE(env_up(&e, &c, 1) == DMAR_OK);
	dmar_physmem_get_stats(e.pm, &ps);
	top = 1ull << ps.pa_bits;
	frames = frames_allocated(e.pm);
	/* RAM at physical 0, where such a wrapped range lands */
	CHECK_ST(dmar_physmem_write(e.pm, 0x1000, &word, 8), DMAR_OK);
	pp.io_base = 0 - K4; /* 2^64 - 4 KiB, 1 MiB + 8 KiB: wraps onto [0, 1 MiB + 4 KiB) */
	pp.size = MiB + 2 * K4;
	CHECK_ST(dmar_pmo_create(e.ad, P, &pp, &io), DMAR_E_INVALID);
	pp.io_base = 0 - MiB; /* wraps onto the first MiB */
	pp.size = 2 * MiB;
	CHECK_ST(dmar_pmo_create(e.ad, P, &pp, &io), DMAR_E_INVALID);
	pp.io_base = 0 - DMAR_PMO_MAX_SIZE; /* ends exactly at 2^64: no wrap, above the width */
	pp.size = DMAR_PMO_MAX_SIZE;
	CHECK_ST(dmar_pmo_create(e.ad, P, &pp, &io), DMAR_E_INVALID);
	pp.io_base = top - K4; /* runs past 2^pa_bits by one page */
	pp.size = 2 * K4;
	CHECK_ST(dmar_pmo_create(e.ad, P, &pp, &io), DMAR_E_INVALID);
	pp.io_base = ps.highest_addr + 1 - K4; /* the last page of RAM */
	pp.size = 2 * K4;
	CHECK_ST(dmar_pmo_create(e.ad, P, &pp, &io), DMAR_E_RANGE);
	CHECK(io == NULL);
	dmar_adapter_get_stats(e.ad, &st);
	CHECK_EQ(st.pmos, 0); /* none of that created anything */
	CHECK_EQ(frames_allocated(e.pm), frames);

	/* the last pages below 2^pa_bits: a legal range, ending exactly at the width */
	pp.io_base = top - 4 * K4;
	pp.size = 4 * K4;
	CHECK_ST(dmar_pmo_create(e.ad, P, &pp, &io), DMAR_OK);
	REQUIRE(io != NULL);
	CHECK_ST(dmar_pmo_map_gpu(e.ad, P, io, 0, 4, RW, &adl), DMAR_OK);
	CHECK_ST(dev_xlate(e.ad, 0, (adl->base_page + 3) * K4 + 0x18, DMAR_NO_PASID,
			   DMAR_ACCESS_WRITE, &r), DMAR_OK);
	CHECK_EQ(r.pa, top - K4 + 0x18);
	/* MMIO, not RAM: the DMA moves nothing (dmar_device_dma) */
	CHECK_ST(dmar_device_dma(dmar_adapter_device(e.ad, 0), adl->base_page * K4, DMAR_NO_PASID,
				 DMAR_DMA_WRITE, &word, 8, &done, &r), DMAR_E_RANGE);
	CHECK_EQ(done, 0);
	CHECK_ST(dmar_physmem_read(e.pm, 0x1000, &got, 8), DMAR_OK);
	CHECK_EQ(got, word);
	env_down(&e);
}

/* S19: an ADL holds page numbers (address >> 12); a contiguous one describes pages
 * base_page, base_page + 1, ... and none of them past the last page of the 64-bit address
 * space (2^52 - 1): an entry that would be there, or whose number would wrap past 2^64, is
 * out of range, never a small page number. */
TEST(S19_a_contiguous_adl_never_runs_past_2_64)
{
	const uint64_t last_page = UINT64_MAX >> 12;
	dmar_adl adl = { .page_count = 4, .flags = DMAR_ADL_CONTIGUOUS };
	uint64_t page;

	adl.base_page = last_page - 1; /* the last two pages of the address space */
	page = 7;
	CHECK_ST(dmar_adl_page(&adl, 0, &page), DMAR_OK);
	CHECK_EQ(page, last_page - 1);
	CHECK_ST(dmar_adl_page(&adl, 1, &page), DMAR_OK);
	CHECK_EQ(page, last_page);
	page = 7;
	CHECK_ST(dmar_adl_page(&adl, 2, &page), DMAR_E_RANGE);
	CHECK_ST(dmar_adl_page(&adl, 3, &page), DMAR_E_RANGE);
	CHECK_ST(dmar_adl_page(&adl, 4, &page), DMAR_E_RANGE); /* past the end */
	CHECK_EQ(page, 7); /* untouched */
	/* based at 2^64 - 2: entry 2 would wrap to page 0 */
	adl.base_page = UINT64_MAX - 1;
	for (uint64_t i = 0; i < 4; i++)
		CHECK_ST(dmar_adl_page(&adl, i, &page), DMAR_E_RANGE);
	CHECK_EQ(page, 7);
	adl.base_page = 0; /* an ordinary one, and its end */
	CHECK_ST(dmar_adl_page(&adl, 3, &page), DMAR_OK);
	CHECK_EQ(page, 3);
	CHECK_ST(dmar_adl_page(&adl, UINT64_MAX, &page), DMAR_E_RANGE);
	CHECK_ST(dmar_adl_page(NULL, 0, &page), DMAR_E_INVALID);
	CHECK_ST(dmar_adl_page(&adl, 0, NULL), DMAR_E_INVALID);
	adl.flags = 0; /* the array form without an array */
	adl.pages = NULL;
	CHECK_ST(dmar_adl_page(&adl, 0, &page), DMAR_E_INVALID);
	CHECK_EQ(page, 3);
}

/* S24 (2): a GPU mapping is readable (x86-64 entries cannot express a page that is not, and
 * dmar_domain_map() requires DMAR_PROT_READ): prot without it is refused in every mode and
 * changes nothing. */
TEST(S24_gpu_mapping_without_read_permission_is_refused_and_changes_nothing)
{
	static const unsigned bad[] = { 0, DMAR_PROT_WRITE, DMAR_PROT_EXEC, DMAR_PROT_USER,
					DMAR_PROT_WRITE | DMAR_PROT_EXEC | DMAR_PROT_USER };

	for (int mode = 0; mode < 2; mode++) {
		struct env e;
		dmar_adapter_config c;
		dmar_adapter_stats st;
		dmar_pmo *o, *sec;
		const dmar_adl *adl;
		dmar_result r;
		dmar_pa_t pa;
		uint64_t frames;

		if (mode == 0)
			dmar_adapter_config_default(&c); /* remapped */
		else
			cfg_isolation(&c, 0);
		c.start.secure_vm = mode == 1; /* 1:1 of only the mapped pages (S8, S11) */
		REQUIRE(env_up(&e, &c, 1) == DMAR_OK);
		o = pmo_new(e.ad, DMAR_PMO_NONPAGED, 2 * K4);
		sec = pmo_new(e.ad, DMAR_PMO_SECTION, 2 * K4);
		REQUIRE(o && sec);
		CHECK_ST(dmar_pmo_page(o, 0, &pa), DMAR_OK);
		frames = frames_allocated(e.pm);
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			adl = NULL;
			CHECK_ST(dmar_pmo_map_gpu(e.ad, P, o, 0, 2, bad[i], &adl), DMAR_E_INVALID);
			CHECK_ST(dmar_pmo_map_gpu(e.ad, P, sec, 0, 2, bad[i], &adl), DMAR_E_INVALID);
			CHECK(adl == NULL);
		}
		dmar_adapter_get_stats(e.ad, &st);
		CHECK_EQ(st.gpu_mappings, 0);
		CHECK_EQ(frames_allocated(e.pm), frames); /* the section was not made resident */
		CHECK_ST(dmar_pmo_page(sec, 0, &pa), DMAR_E_BUSY);
		if (mode == 0)
			CHECK_EQ(iova_in_use(e.ad), 0);
		else /* 1:1: the page is not reachable */
			CHECK_ST(dev_xlate(e.ad, 0, pa, DMAR_NO_PASID, DMAR_ACCESS_READ, &r),
				 DMAR_E_FAULT);
		CHECK_ST(dmar_pmo_trim(e.ad, P, sec), DMAR_OK); /* nothing locked it */
		CHECK_ST(dmar_pmo_destroy(e.ad, P, o), DMAR_OK); /* nothing maps it */
		/* read-only is the least a mapping may be: the device reads, a write faults */
		o = pmo_new(e.ad, DMAR_PMO_NONPAGED, K4);
		CHECK_ST(dmar_pmo_map_gpu(e.ad, P, o, 0, 1, DMAR_PROT_READ, &adl), DMAR_OK);
		CHECK_ST(dev_xlate(e.ad, 0, adl_at(adl, 0) * K4, DMAR_NO_PASID, DMAR_ACCESS_READ, &r),
			 DMAR_OK);
		CHECK_ST(dev_xlate(e.ad, 0, adl_at(adl, 0) * K4, DMAR_NO_PASID, DMAR_ACCESS_WRITE, &r),
			 DMAR_E_FAULT);
		CHECK_EQ(r.fault, DMAR_FAULT_WRITE);
		env_down(&e);
	}
}

/* S25: the callbacks come in two pairs, CreatePhysicalMemoryObject / Destroy and
 * OpenPhysicalMemoryObject / Close (separate callbacks with separate argument structures in
 * the DMA remapping document).  Create opens no reference, so Close right after it has
 * nothing to close; Destroy waits for every Open to be Closed.  Every status the four list. */
/* S13, S14, S24 (2): an adapter's domain may use the table format of the IOMMU being
 * emulated (remap.h, dmar_adapter_config.pt).  Its logical addresses stay inside what that
 * table takes, the device moves bytes through them, and GPU mappings take the permissions
 * the format can express: write-only on VT-d and AMD-Vi (the device writes, a read faults
 * DMAR_FAULT_READ), never on x86-64; a mapping with neither read nor write is refused. */
TEST(S13_S24_an_adapter_on_an_iommu_format_domain_maps_and_dmas)
{
	static const dmar_pt_format fmts[] = {
		{ .levels = 4 },
		{ .levels = 3, .kind = DMAR_PT_VTD_SS },
		{ .levels = 4, .kind = DMAR_PT_VTD_SS, .flags = DMAR_PT_AD },
		{ .levels = 1, .kind = DMAR_PT_AMDV1 },
		{ .levels = 2, .kind = DMAR_PT_AMDV1 },
		{ .levels = 6, .kind = DMAR_PT_AMDV1, .flags = DMAR_PT_AD },
	};

	for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		const int x86 = fmts[i].kind == DMAR_PT_X86_64;
		const uint64_t n = 3, len = n * K4;
		uint8_t out[3 * 4096], back[3 * 4096];
		dmar_pgtable_config ptc;
		dmar_adapter_config c;
		const dmar_adl *adl = NULL, *wadl = NULL;
		dmar_iova_t table_last, iova;
		dmar_result fault;
		dmar_pmo *o, *w;
		struct env e;
		size_t done = 0;

		dmar_pgtable_config_default(&ptc);
		ptc.format = fmts[i];
		dmar_adapter_config_default(&c);
		c.start.dma_bits = 64;
		c.pt = &ptc;
		REQUIRE(env_up(&e, &c, 1) == DMAR_OK);
		REQUIRE(e.why.mode == DMAR_START_REMAPPED);
		CHECK_ST(dmar_domain_input_range(dmar_adapter_domain(e.ad), &table_last), DMAR_OK);
		if (table_last > DMAR_IOVA_MAX_PAGES * K4 - 1)
			table_last = DMAR_IOVA_MAX_PAGES * K4 - 1;
		CHECK_EQ(e.why.logical_limit, table_last + 1);
		for (uint64_t k = 0; k < len; k++)
			out[k] = (uint8_t)(k * 13 + i);
		o = pmo_new(e.ad, DMAR_PMO_NONPAGED, len);
		w = pmo_new(e.ad, DMAR_PMO_NONPAGED, K4);
		REQUIRE(o && w);
		CHECK_ST(dmar_pmo_map_gpu(e.ad, P, o, 0, n, RW, &adl), DMAR_OK);
		REQUIRE(adl != NULL);
		iova = adl->base_page * K4;
		CHECK(iova + (len - 1) <= table_last);
		CHECK_ST(dmar_device_dma(dmar_adapter_device(e.ad, 0), iova, DMAR_NO_PASID,
					 DMAR_DMA_WRITE, out, len, &done, &fault), DMAR_OK);
		CHECK_EQ(done, len);
		memset(back, 0, sizeof(back));
		CHECK_ST(dmar_device_dma(dmar_adapter_device(e.ad, 0), iova, DMAR_NO_PASID,
					 DMAR_DMA_READ, back, len, &done, &fault), DMAR_OK);
		CHECK(memcmp(back, out, len) == 0);
		/* neither read nor write: nothing any format can map */
		CHECK_ST(dmar_pmo_map_gpu(e.ad, P, w, 0, 1, DMAR_PROT_EXEC | DMAR_PROT_USER, &wadl),
			 DMAR_E_INVALID);
		CHECK_ST(dmar_pmo_map_gpu(e.ad, P, w, 0, 1, DMAR_PROT_WRITE, &wadl),
			 x86 ? DMAR_E_INVALID : DMAR_OK);
		if (!x86 && wadl) {
			const dmar_iova_t wi = wadl->base_page * K4;

			CHECK_ST(dmar_device_dma(dmar_adapter_device(e.ad, 0), wi + 8, DMAR_NO_PASID,
						 DMAR_DMA_WRITE, out, 64, &done, &fault), DMAR_OK);
			CHECK_ST(dmar_device_dma(dmar_adapter_device(e.ad, 0), wi + 8, DMAR_NO_PASID,
						 DMAR_DMA_READ, back, 64, &done, &fault), DMAR_E_FAULT);
			CHECK_EQ(fault.fault, DMAR_FAULT_READ);
			CHECK_ST(dmar_pmo_unmap_gpu(e.ad, P, wadl), DMAR_OK);
		}
		CHECK_ST(dmar_pmo_unmap_gpu(e.ad, P, adl), DMAR_OK);
		CHECK_ST(dmar_device_dma(dmar_adapter_device(e.ad, 0), iova, DMAR_NO_PASID,
					 DMAR_DMA_READ, back, 8, &done, &fault), DMAR_E_FAULT);
		CHECK_EQ(fault.fault, DMAR_FAULT_NOT_PRESENT);
		CHECK_EQ(iova_in_use(e.ad), 0);
		CHECK_ST(dmar_pmo_destroy(e.ad, P, o), DMAR_OK);
		CHECK_ST(dmar_pmo_destroy(e.ad, P, w), DMAR_OK);
		env_down(&e);
	}
}

TEST(S25_create_destroy_and_open_close_are_separate_pairs)
{
	struct env e, e2;
	dmar_adapter_config c;
	dmar_adapter_stats st;
	dmar_pmo_params pp = { .kind = DMAR_PMO_NONPAGED, .size = 2 * K4 };
	dmar_pmo *o, *other, *none = NULL;
	const dmar_adl *adl;
	void *v;

	dmar_adapter_config_default(&c);
	c.bugcheck = bugcheck;
	REQUIRE(env_up(&e, &c, 1) == DMAR_OK);
	REQUIRE(dmar_pmo_create(e.ad, P, &pp, &o) == DMAR_OK);
	/* Create/Destroy: no reference to close, destroyed at once */
	CHECK_ST(dmar_pmo_close(e.ad, P, o), DMAR_E_INVALID);
	CHECK_ST(dmar_pmo_destroy(e.ad, P, o), DMAR_OK);
	CHECK_ST(dmar_pmo_destroy(e.ad, P, o), DMAR_E_INVALID); /* no longer an object */
	CHECK_ST(dmar_pmo_open(e.ad, P, o), DMAR_E_INVALID);
	CHECK_ST(dmar_pmo_close(e.ad, P, o), DMAR_E_INVALID);

	/* Open/Close: shared references that keep it */
	REQUIRE(dmar_pmo_create(e.ad, P, &pp, &o) == DMAR_OK);
	CHECK_ST(dmar_pmo_open(e.ad, P, o), DMAR_OK);
	CHECK_ST(dmar_pmo_open(e.ad, P, o), DMAR_OK);
	CHECK_ST(dmar_pmo_destroy(e.ad, P, o), DMAR_E_BUSY);
	CHECK_ST(dmar_pmo_close(e.ad, P, o), DMAR_OK);
	CHECK_ST(dmar_pmo_destroy(e.ad, P, o), DMAR_E_BUSY);
	CHECK_ST(dmar_pmo_close(e.ad, P, o), DMAR_OK);
	CHECK_ST(dmar_pmo_close(e.ad, P, o), DMAR_E_INVALID); /* none open */
	/* as many as DMAR_PMO_MAX_OPENS at once, not one more */
	for (uint32_t i = 0; i < DMAR_PMO_MAX_OPENS; i++)
		if (dmar_pmo_open(e.ad, P, o) != DMAR_OK) {
			CHECK_EQ(i, DMAR_PMO_MAX_OPENS);
			break;
		}
	CHECK_ST(dmar_pmo_open(e.ad, P, o), DMAR_E_BUSY);
	for (uint32_t i = 0; i < DMAR_PMO_MAX_OPENS; i++)
		if (dmar_pmo_close(e.ad, P, o) != DMAR_OK) {
			CHECK_EQ(i, DMAR_PMO_MAX_OPENS);
			break;
		}
	CHECK_ST(dmar_pmo_close(e.ad, P, o), DMAR_E_INVALID);
	/* Destroy waits for the GPU and CPU mappings too */
	CHECK_ST(dmar_pmo_map_gpu(e.ad, P, o, 0, 1, RW, &adl), DMAR_OK);
	CHECK_ST(dmar_pmo_destroy(e.ad, P, o), DMAR_E_BUSY);
	CHECK_ST(dmar_pmo_unmap_gpu(e.ad, P, adl), DMAR_OK);
	CHECK_ST(dmar_pmo_map_cpu(e.ad, P, o, 1, 1, DMAR_CPU_USER, DMAR_CACHE_CACHED, &v), DMAR_OK);
	CHECK_ST(dmar_pmo_destroy(e.ad, P, o), DMAR_E_BUSY);
	CHECK_ST(dmar_pmo_unmap_cpu(e.ad, P, o, v), DMAR_OK);
	/* above APC_LEVEL from WDDM 3.2: the bugcheck, and the call changes nothing */
	CHECK_ST(dmar_pmo_open(e.ad, DMAR_DISPATCH_LEVEL, o), DMAR_E_IRQL);
	CHECK_ST(dmar_pmo_close(e.ad, P, o), DMAR_E_INVALID); /* that open did not happen */
	CHECK_ST(dmar_pmo_open(e.ad, P, o), DMAR_OK);
	CHECK_ST(dmar_pmo_close(e.ad, DMAR_DISPATCH_LEVEL, o), DMAR_E_IRQL);
	CHECK_ST(dmar_pmo_destroy(e.ad, P, o), DMAR_E_BUSY); /* that close did not happen */
	CHECK_ST(dmar_pmo_close(e.ad, P, o), DMAR_OK);
	CHECK_ST(dmar_pmo_destroy(e.ad, DMAR_DISPATCH_LEVEL, o), DMAR_E_IRQL);
	CHECK_ST(dmar_pmo_create(e.ad, DMAR_DISPATCH_LEVEL, &pp, &none), DMAR_E_IRQL);
	CHECK(none == NULL);
	dmar_adapter_get_stats(e.ad, &st);
	CHECK_EQ(st.pmos, 1);
	CHECK_EQ(st.irql_bugchecks, 4);
	/* another adapter's object is not this adapter's */
	c.rid = 0x0200;
	c.bugcheck = NULL;
	REQUIRE(env_up(&e2, &c, 1) == DMAR_OK);
	REQUIRE(dmar_pmo_create(e2.ad, P, &pp, &other) == DMAR_OK);
	CHECK_ST(dmar_pmo_open(e.ad, P, other), DMAR_E_INVALID);
	CHECK_ST(dmar_pmo_close(e.ad, P, other), DMAR_E_INVALID);
	CHECK_ST(dmar_pmo_destroy(e.ad, P, other), DMAR_E_INVALID);
	CHECK_ST(dmar_pmo_open(NULL, P, other), DMAR_E_INVALID);
	CHECK_ST(dmar_pmo_close(e2.ad, P, NULL), DMAR_E_INVALID);
	CHECK_ST(dmar_pmo_destroy(e2.ad, P, other), DMAR_OK);
	env_down(&e2);
	CHECK_ST(dmar_pmo_destroy(e.ad, P, o), DMAR_OK);
	env_down(&e);
}

/* S24: CreatePhysicalMemoryObject and MapPhysicalMemory (GPU) answer every status their
 * header lists, and a refused call changes nothing. */
TEST(S24_create_and_map_gpu_answer_every_status_they_list)
{
	struct env e;
	dmar_adapter_config c;
	dmar_adapter_stats st;
	dmar_pmo_params pp = { .kind = DMAR_PMO_SECTION, .size = 4 * K4 };
	dmar_pmo *sec, *o, *io, *none = NULL;
	const dmar_adl *adl = NULL, *big[64];
	static dmar_pa_t taken[4096];
	uint64_t frames;
	char got[5];
	dmar_pa_t pa;
	size_t n;
	void *v;
	int nbig = 0;

	env_mem_small(&e);
	dmar_adapter_config_default(&c);
	c.bugcheck = bugcheck;
	c.start.dma_bits = 32;
	REQUIRE(dmar_adapter_create(e.iommu, &c, &e.ad, &e.why) == DMAR_OK);
	REQUIRE(e.why.mode == DMAR_START_REMAPPED);
	REQUIRE(dmar_pmo_create(e.ad, P, &pp, &sec) == DMAR_OK);
	/* DMAR_E_BUSY before the start (S17) */
	CHECK_ST(dmar_pmo_map_gpu(e.ad, P, sec, 0, 4, RW, &adl), DMAR_E_BUSY);
	REQUIRE(dmar_adapter_start(e.ad) == DMAR_OK);
	/* DMAR_E_NOMEM: the section's frames are not there when it is locked */
	n = frames_take(e.pm, DMAR_PLACE_ANY, 0, taken, 4096);
	CHECK(n > 0 && n < 4096);
	CHECK_ST(dmar_pmo_map_gpu(e.ad, P, sec, 0, 4, RW, &adl), DMAR_E_NOMEM);
	pp.kind = DMAR_PMO_NONPAGED;
	pp.size = K4;
	CHECK_ST(dmar_pmo_create(e.ad, P, &pp, &none), DMAR_E_NOMEM);
	pp.size = 16 * MiB; /* more than the machine has */
	frames_give_back(e.pm, taken, n);
	CHECK_ST(dmar_pmo_create(e.ad, P, &pp, &none), DMAR_E_NOMEM);
	CHECK(none == NULL);
	dmar_adapter_get_stats(e.ad, &st);
	CHECK_EQ(st.gpu_mappings, 0);
	CHECK_EQ(st.pmos, 1);
	CHECK_EQ(iova_in_use(e.ad), 0);
	CHECK_ST(dmar_pmo_map_gpu(e.ad, P, sec, 0, 4, RW, &adl), DMAR_OK);
	/* DMAR_E_INVALID: pages outside the object, unknown prot bits, no ADL pointer */
	CHECK_ST(dmar_pmo_map_gpu(e.ad, P, sec, 4, 1, RW, &adl), DMAR_E_INVALID);
	CHECK_ST(dmar_pmo_map_gpu(e.ad, P, sec, 1, UINT64_MAX, RW, &adl), DMAR_E_INVALID);
	CHECK_ST(dmar_pmo_map_gpu(e.ad, P, sec, UINT64_MAX, 2, RW, &adl), DMAR_E_INVALID);
	CHECK_ST(dmar_pmo_map_gpu(e.ad, P, sec, 0, 0, RW, &adl), DMAR_E_INVALID);
	CHECK_ST(dmar_pmo_map_gpu(e.ad, P, sec, 0, 1, RW | 0x100, &adl), DMAR_E_INVALID);
	CHECK_ST(dmar_pmo_map_gpu(e.ad, P, sec, 0, 1, RW, NULL), DMAR_E_INVALID);
	/* DMAR_E_IRQL: the bugcheck handler returned */
	CHECK_ST(dmar_pmo_map_gpu(e.ad, DMAR_DISPATCH_LEVEL, sec, 0, 1, RW, &adl), DMAR_E_IRQL);
	/* DMAR_E_NOSPACE: a 32-bit device has 4 GiB of logical space, 4 GiB objects of IO space */
	pp = (dmar_pmo_params){ .kind = DMAR_PMO_IO_SPACE, .size = DMAR_PMO_MAX_SIZE,
				.io_base = 1ull << 39 };
	REQUIRE(dmar_pmo_create(e.ad, P, &pp, &io) == DMAR_OK);
	while (nbig < 64 && dmar_pmo_map_gpu(e.ad, P, io, 0, 1ull << 20, RW, &big[nbig]) == DMAR_OK)
		nbig++;
	CHECK_EQ(nbig, 0); /* 4 GiB less the sections's 4 pages (16 KiB) leaves no 4 GiB run */
	CHECK_ST(dmar_pmo_map_gpu(e.ad, P, io, 0, (1ull << 20) - 4, RW, &big[0]), DMAR_OK);
	CHECK_ST(dmar_pmo_map_gpu(e.ad, P, io, 0, 1, RW, &big[1]), DMAR_E_NOSPACE);
	/* a refused mapping leaves a trimmed section trimmed: its frames back, its bytes kept */
	REQUIRE(dmar_pmo_map_cpu(e.ad, P, o = pmo_new(e.ad, DMAR_PMO_SECTION, 2 * K4), 0, 2,
				 DMAR_CPU_KERNEL, DMAR_CACHE_CACHED, &v) == DMAR_OK);
	memcpy((char *)v + K4 + 8, "kept", 5);
	CHECK_ST(dmar_pmo_unmap_cpu(e.ad, P, o, v), DMAR_OK);
	CHECK_ST(dmar_pmo_trim(e.ad, P, o), DMAR_OK);
	frames = frames_allocated(e.pm);
	CHECK_ST(dmar_pmo_map_gpu(e.ad, P, o, 0, 2, RW, &adl), DMAR_E_NOSPACE);
	CHECK_ST(dmar_pmo_page(o, 0, &pa), DMAR_E_BUSY);
	CHECK_EQ(frames_allocated(e.pm), frames);
	dmar_adapter_get_stats(e.ad, &st);
	CHECK_EQ(st.gpu_mappings, 2);
	CHECK_EQ(st.irql_bugchecks, 1);
	CHECK_ST(dmar_pmo_unmap_gpu(e.ad, P, big[0]), DMAR_OK);
	CHECK_ST(dmar_pmo_map_gpu(e.ad, P, io, 0, 1, RW, &big[1]), DMAR_OK);
	CHECK_ST(dmar_pmo_map_gpu(e.ad, P, o, 0, 2, RW, &adl), DMAR_OK);
	CHECK_ST(dmar_pmo_page(o, 1, &pa), DMAR_OK);
	CHECK_ST(dmar_physmem_read(e.pm, pa + 8, got, 5), DMAR_OK);
	CHECK(memcmp(got, "kept", 5) == 0);
	/* DMAR_E_RANGE: IO space on RAM; DMAR_E_INVALID: a bad kind, size or alignment */
	pp.io_base = 4 * MiB;
	pp.size = K4;
	CHECK_ST(dmar_pmo_create(e.ad, P, &pp, &o), DMAR_E_RANGE);
	pp.io_base = K4 + 1;
	CHECK_ST(dmar_pmo_create(e.ad, P, &pp, &o), DMAR_E_INVALID);
	pp = (dmar_pmo_params){ .kind = DMAR_PMO_CONTIGUOUS, .size = K4, .align_lg2 = 31 };
	CHECK_ST(dmar_pmo_create(e.ad, P, &pp, &o), DMAR_E_INVALID);
	pp.align_lg2 = 21;
	CHECK_ST(dmar_pmo_create(e.ad, P, &pp, &o), DMAR_OK);
	CHECK_ST(dmar_pmo_create(e.ad, P, NULL, &o), DMAR_E_INVALID);
	CHECK_ST(dmar_pmo_create(e.ad, P, &pp, NULL), DMAR_E_INVALID);
	dmar_adapter_get_stats(e.ad, &st);
	CHECK_EQ(st.pmos, 4);
	env_down(&e);
}

/* S24 (3): MapPhysicalMemory to a CPU address answers every status its header lists; a
 * refused call changes nothing, and leaves a trimmed section object trimmed. */
TEST(S24_map_cpu_answers_every_status_it_lists)
{
	static uint8_t buf[2 * MiB] __attribute__((aligned(4096)));
	const dmar_ram_range r[] = {
		{ .base = MiB, .size = 8 * MiB },
		{ .base = 16 * MiB, .size = sizeof(buf), .kind = DMAR_RAM_BUFFER,
		  .flags = DMAR_RAM_ALLOCATABLE, .host = buf },
	};
	dmar_physmem_config pc = { .ranges = r, .nranges = 2, .pa_bits = 40 };
	dmar_pmo_params pp = { .kind = DMAR_PMO_SECTION, .size = 2 * K4 };
	dmar_adapter_config c;
	dmar_adapter_stats st;
	static dmar_pa_t taken[4096];
	dmar_pmo *sec, *inbuf, *io;
	uint64_t frames;
	dmar_pa_t pa;
	size_t n;
	void *v = NULL;
	struct env e;

	env_mem(&e, &pc);
	dmar_adapter_config_default(&c);
	c.bugcheck = bugcheck;
	REQUIRE(dmar_adapter_create(e.iommu, &c, &e.ad, &e.why) == DMAR_OK);
	REQUIRE(dmar_adapter_start(e.ad) == DMAR_OK);
	sec = pmo_new(e.ad, DMAR_PMO_SECTION, 2 * K4);
	/* DMAR_E_NOMEM: the section's frames are not there; it stays as it was */
	n = frames_take(e.pm, DMAR_PLACE_ANY, 0, taken, 4096);
	frames = frames_allocated(e.pm);
	CHECK_ST(dmar_pmo_map_cpu(e.ad, P, sec, 0, 2, DMAR_CPU_KERNEL, DMAR_CACHE_CACHED, &v),
		 DMAR_E_NOMEM);
	CHECK_EQ(frames_allocated(e.pm), frames);
	frames_give_back(e.pm, taken, n);
	/* DMAR_E_NOT_SUPPORTED: pages in the embedder's buffer cannot be aliased; a section
	 * object that had to come back for it goes out again */
	n = frames_take(e.pm, DMAR_PLACE_BELOW, 16 * MiB, taken, 4096); /* only the buffer's left */
	frames = frames_allocated(e.pm);
	CHECK_ST(dmar_pmo_map_cpu(e.ad, P, sec, 0, 2, DMAR_CPU_KERNEL, DMAR_CACHE_CACHED, &v),
		 DMAR_E_NOT_SUPPORTED);
	CHECK_EQ(frames_allocated(e.pm), frames);
	CHECK_ST(dmar_pmo_page(sec, 0, &pa), DMAR_E_BUSY);
	pp.kind = DMAR_PMO_NONPAGED; /* a nonpaged object there gets the same answer */
	REQUIRE(dmar_pmo_create(e.ad, P, &pp, &inbuf) == DMAR_OK);
	CHECK_ST(dmar_pmo_page(inbuf, 1, &pa), DMAR_OK);
	CHECK(pa >= 16 * MiB && pa < 18 * MiB);
	CHECK_ST(dmar_pmo_map_cpu(e.ad, P, inbuf, 0, 1, DMAR_CPU_USER, DMAR_CACHE_CACHED, &v),
		 DMAR_E_NOT_SUPPORTED);
	frames_give_back(e.pm, taken, n);
	/* ... and IO space, which has no host memory */
	pp = (dmar_pmo_params){ .kind = DMAR_PMO_IO_SPACE, .size = K4, .io_base = 1ull << 39 };
	REQUIRE(dmar_pmo_create(e.ad, P, &pp, &io) == DMAR_OK);
	CHECK_ST(dmar_pmo_map_cpu(e.ad, P, io, 0, 1, DMAR_CPU_KERNEL, DMAR_CACHE_CACHED, &v),
		 DMAR_E_NOT_SUPPORTED);
	/* DMAR_E_INVALID: pages outside the object, a bad mode or cache type, NULL */
	CHECK_ST(dmar_pmo_map_cpu(e.ad, P, sec, 2, 1, DMAR_CPU_KERNEL, DMAR_CACHE_CACHED, &v),
		 DMAR_E_INVALID);
	CHECK_ST(dmar_pmo_map_cpu(e.ad, P, sec, 1, UINT64_MAX, DMAR_CPU_KERNEL, DMAR_CACHE_CACHED,
				  &v), DMAR_E_INVALID);
	CHECK_ST(dmar_pmo_map_cpu(e.ad, P, sec, 0, 1, DMAR_CPU_KERNEL, (dmar_cache_type)2, &v),
		 DMAR_E_INVALID);
	CHECK_ST(dmar_pmo_map_cpu(e.ad, P, sec, 0, 1, DMAR_CPU_KERNEL, DMAR_CACHE_CACHED, NULL),
		 DMAR_E_INVALID);
	CHECK_ST(dmar_pmo_map_cpu(e.ad, P, (dmar_pmo *)&pp, 0, 1, DMAR_CPU_KERNEL,
				  DMAR_CACHE_CACHED, &v), DMAR_E_INVALID);
	/* DMAR_E_IRQL */
	CHECK_ST(dmar_pmo_map_cpu(e.ad, DMAR_DISPATCH_LEVEL, sec, 0, 1, DMAR_CPU_KERNEL,
				  DMAR_CACHE_CACHED, &v), DMAR_E_IRQL);
	dmar_adapter_get_stats(e.ad, &st);
	CHECK_EQ(st.cpu_mappings, 0);
	CHECK_ST(dmar_pmo_page(sec, 0, &pa), DMAR_E_BUSY);
	/* DMAR_OK: with the buffer's frames taken, the section's come from the lazy range */
	n = frames_take(e.pm, DMAR_PLACE_ABOVE, 16 * MiB, taken, 4096);
	CHECK_ST(dmar_pmo_map_cpu(e.ad, P, sec, 0, 2, DMAR_CPU_KERNEL, DMAR_CACHE_CACHED, &v),
		 DMAR_OK);
	CHECK_ST(dmar_pmo_page(sec, 1, &pa), DMAR_OK);
	CHECK(pa < 16 * MiB);
	memcpy((char *)v + K4, "cpu", 4);
	{
		char got[4];

		CHECK_ST(dmar_physmem_read(e.pm, pa, got, 4), DMAR_OK);
		CHECK(memcmp(got, "cpu", 4) == 0);
	}
	CHECK_ST(dmar_pmo_unmap_cpu(e.ad, P, sec, v), DMAR_OK);
	frames_give_back(e.pm, taken, n);
	dmar_adapter_get_stats(e.ad, &st);
	CHECK_EQ(st.irql_bugchecks, 1);
	env_down(&e);
}

/* Adapter creation without frames for the domain's table: DMAR_E_NOMEM, and nothing of it
 * stays behind (its requester id is free again). */
TEST(adapter_create_without_frames_is_nomem_and_leaves_nothing)
{
	struct env e;
	dmar_adapter_config c;
	dmar_adapter *ad = NULL;
	static dmar_pa_t taken[4096];
	uint64_t frames;
	size_t n;

	env_mem_small(&e);
	dmar_adapter_config_default(&c);
	frames = frames_allocated(e.pm);
	n = frames_take(e.pm, DMAR_PLACE_ANY, 0, taken, 4096);
	CHECK_ST(dmar_adapter_create(e.iommu, &c, &ad, &e.why), DMAR_E_NOMEM);
	CHECK(ad == NULL);
	CHECK_EQ(e.why.mode, DMAR_START_REMAPPED); /* the decision was made */
	frames_give_back(e.pm, taken, n);
	CHECK_EQ(frames_allocated(e.pm), frames);
	CHECK_ST(dmar_adapter_create(e.iommu, &c, &e.ad, NULL), DMAR_OK); /* the same rid */
	env_down(&e);
}

TEST(S25_legacy_callbacks_are_deprecated_for_a_remapping_driver)
{
	struct env e;
	dmar_adapter_config c;
	dmar_adapter_stats st;
	dmar_pmo *o = NULL;
	dmar_iova_t logical;
	dmar_result r;
	dmar_pa_t pa;

	dmar_adapter_config_default(&c);
	REQUIRE(env_up(&e, &c, 1) == DMAR_OK);
	CHECK_ST(dmar_legacy_allocate_pages_for_mdl(e.ad, P, K4, &o), DMAR_E_DEPRECATED);
	CHECK_ST(dmar_legacy_allocate_contiguous_memory(e.ad, P, K4, 0, &o), DMAR_E_DEPRECATED);
	o = pmo_new(e.ad, DMAR_PMO_NONPAGED, K4);
	CHECK_ST(dmar_legacy_map_mdl_to_iommu(e.ad, P, o, &logical), DMAR_E_DEPRECATED);
	dmar_adapter_get_stats(e.ad, &st);
	CHECK_EQ(st.deprecated_calls, 3);
	CHECK_EQ(st.pmos, 1);
	CHECK_EQ(dmar_status_to_ntstatus(DMAR_E_DEPRECATED), DMAR_NT_ILLEGAL_FUNCTION);
	env_down(&e);
	/* a 1:1 driver may still use them */
	cfg_isolation(&c, 0);
	c.start.secure_vm = true;
	REQUIRE(env_up(&e, &c, 1) == DMAR_OK);
	CHECK_ST(dmar_legacy_allocate_contiguous_memory(e.ad, P, 2 * K4, 4 * GiB, &o), DMAR_OK);
	CHECK_ST(dmar_pmo_page(o, 1, &pa), DMAR_OK);
	CHECK(pa < 4 * GiB);
	CHECK_ST(dmar_legacy_map_mdl_to_iommu(e.ad, P, o, &logical), DMAR_OK);
	CHECK_ST(dev_xlate(e.ad, 0, logical + K4, DMAR_NO_PASID, DMAR_ACCESS_WRITE, &r), DMAR_OK);
	CHECK_EQ(r.pa, pa);
	CHECK_ST(dmar_legacy_unmap_mdl_from_iommu(e.ad, P, o), DMAR_OK);
	CHECK_ST(dmar_legacy_unmap_mdl_from_iommu(e.ad, P, o), DMAR_E_NOT_FOUND);
	CHECK_ST(dev_xlate(e.ad, 0, logical, DMAR_NO_PASID, DMAR_ACCESS_READ, &r), DMAR_E_FAULT);
	env_down(&e);
}

/* ---- S26: IRQL ------------------------------------------------------------------------- */

TEST(S26_a_callback_above_apc_level_is_a_bugcheck_from_wddm_3_2)
{
	struct env e;
	dmar_adapter_config c;
	dmar_adapter_stats st;
	dmar_pmo_params pp = { .kind = DMAR_PMO_NONPAGED, .size = K4 };
	dmar_pmo *o = NULL;
	dmar_adl *adl;

	dmar_adapter_config_default(&c);
	c.bugcheck = bugcheck;
	REQUIRE(env_up(&e, &c, 1) == DMAR_OK);
	bug_calls = 0;
	CHECK_ST(dmar_pmo_create(e.ad, DMAR_APC_LEVEL, &pp, &o), DMAR_OK);
	CHECK_ST(dmar_pmo_destroy(e.ad, DMAR_DISPATCH_LEVEL, o), DMAR_E_IRQL);
	CHECK_EQ(bug_calls, 1);
	CHECK_EQ(bug_code, DMAR_BUGCHECK_IRQL);
	CHECK_EQ(bug_irql, DMAR_DISPATCH_LEVEL);
	CHECK_ST(dmar_adl_allocate(e.ad, DMAR_HIGH_LEVEL, 1, 0, &adl), DMAR_E_IRQL);
	CHECK_ST(dmar_adl_allocate(e.ad, (dmar_irql)16, 1, 0, &adl), DMAR_E_INVALID); /* no such IRQL */
	CHECK_EQ(bug_calls, 2);
	dmar_adapter_get_stats(e.ad, &st);
	CHECK_EQ(st.pmos, 1); /* the refused destroy changed nothing */
	CHECK_EQ(st.adls, 0);
	CHECK_EQ(st.irql_bugchecks, 2);
	env_down(&e);
	/* before 3.2 it was not verified: the call goes through and is counted */
	dmar_adapter_config_default(&c);
	c.bugcheck = bugcheck;
	c.wddm_version = DMAR_WDDM(3, 1);
	REQUIRE(env_up(&e, &c, 1) == DMAR_OK);
	CHECK_ST(dmar_pmo_create(e.ad, DMAR_DISPATCH_LEVEL, &pp, &o), DMAR_OK);
	CHECK_EQ(bug_calls, 2);
	dmar_adapter_get_stats(e.ad, &st);
	CHECK_EQ(st.irql_unverified, 1);
	env_down(&e);
}

/* ---- S27 -------------------------------------------------------------------------------- */

TEST(S27_dma_remapping_compatible_must_be_3)
{
	struct env e;
	dmar_adapter_config c;

	for (uint32_t v = 0; v < 5; v++) {
		dmar_adapter_config_default(&c);
		c.start.integrated = true; /* may start without remapping */
		c.start.dma_bits = 48;
		c.start.dma_remapping_compatible = v;
		REQUIRE(env_up(&e, &c, 1) == DMAR_OK);
		CHECK_EQ(e.why.mode == DMAR_START_REMAPPED, v == 3);
		env_down(&e);
	}
}

/* ---- status codes ---------------------------------------------------------------------- */

TEST(ntstatus_mapping_round_trips_with_names)
{
	for (int s = 0; s < DMAR_STATUS_COUNT; s++) {
		uint32_t nt = dmar_status_to_ntstatus((dmar_status)s);

		CHECK_EQ(dmar_status_from_ntstatus(nt), s);
		CHECK(strncmp(dmar_ntstatus_str(nt), "STATUS_", 7) == 0);
		CHECK(strcmp(dmar_ntstatus_str(nt), "STATUS_<unknown>") != 0);
	}
	CHECK_EQ(dmar_status_to_ntstatus(DMAR_OK), 0);
	CHECK_EQ(dmar_status_to_ntstatus(DMAR_E_BUSY), 0x80000011u);
	CHECK_EQ(dmar_status_to_ntstatus(DMAR_E_INVALID), 0xC000000Du);
	CHECK_EQ(dmar_status_to_ntstatus(DMAR_E_NOMEM), 0xC0000017u);
	CHECK_EQ(dmar_status_to_ntstatus(DMAR_E_NOT_SUPPORTED), 0xC00000BBu);
	CHECK_EQ(dmar_status_from_ntstatus(DMAR_NT_NOT_IMPLEMENTED), DMAR_E_NOT_SUPPORTED);
	CHECK_EQ(dmar_status_from_ntstatus(0xC0001234u), DMAR_E_INVALID);
	CHECK_EQ(dmar_status_from_ntstatus(0x40000000u), DMAR_OK);
	CHECK(strcmp(dmar_ntstatus_str(0xC0001234u), "STATUS_<unknown>") == 0);
	CHECK(strcmp(dmar_status_str(DMAR_E_NOSPACE), "DMAR_E_NOSPACE") == 0);
	CHECK(strcmp(dmar_fault_str(DMAR_FAULT_APERTURE), "aperture-page-unmapped") == 0);
}

/* ---- end to end ------------------------------------------------------------------------ */

TEST(end_to_end_40_bit_gpu_moves_data_above_1_tib_through_logical_addresses_below)
{
	struct env e;
	dmar_adapter_config c;
	dmar_pmo_params pp = { .kind = DMAR_PMO_NONPAGED, .size = 64 * K4,
			       .place = DMAR_PLACE_ABOVE, .limit = TiB + 512 * GiB };
	dmar_pmo *src, *dst;
	const dmar_adl *sa, *da;
	dmar_request q[64];
	dmar_result rs[64], rd[64];
	uint8_t *s_cpu, *d_cpu;
	size_t nf;

	dmar_adapter_config_default(&c); /* discrete, 40 bits */
	REQUIRE(env_up(&e, &c, 1) == DMAR_OK);
	CHECK_EQ(e.why.mode, DMAR_START_REMAPPED);
	CHECK_EQ(e.why.reason, DMAR_WHY_REMAPPING);
	REQUIRE(dmar_pmo_create(e.ad, P, &pp, &src) == DMAR_OK);
	REQUIRE(dmar_pmo_create(e.ad, P, &pp, &dst) == DMAR_OK);
	REQUIRE(dmar_pmo_map_gpu(e.ad, P, src, 0, 64, DMAR_PROT_READ, &sa) == DMAR_OK);
	REQUIRE(dmar_pmo_map_gpu(e.ad, P, dst, 0, 64, RW, &da) == DMAR_OK);
	REQUIRE(dmar_pmo_map_cpu(e.ad, P, src, 0, 64, DMAR_CPU_KERNEL, DMAR_CACHE_CACHED,
				 (void **)&s_cpu) == DMAR_OK);
	REQUIRE(dmar_pmo_map_cpu(e.ad, P, dst, 0, 64, DMAR_CPU_KERNEL, DMAR_CACHE_WRITE_COMBINED,
				 (void **)&d_cpu) == DMAR_OK);
	/* the CPU fills the source */
	for (uint64_t i = 0; i < 64 * K4; i++)
		s_cpu[i] = (uint8_t)(i * 131 + (i >> 12));
	/* the GPU copies page by page: translate both sides, move the bytes physically */
	for (uint64_t i = 0; i < 64; i++) {
		q[i] = (dmar_request){ .iova = (sa->base_page + i) * K4, .access = DMAR_ACCESS_READ,
				       .pasid = DMAR_NO_PASID };
		CHECK(q[i].iova + K4 <= TiB); /* logical, below the device's reach */
	}
	CHECK_ST(dmar_device_translate_batch(dmar_adapter_device(e.ad, 0), q, rs, 64, &nf), DMAR_OK);
	CHECK_EQ(nf, 0);
	for (uint64_t i = 0; i < 64; i++)
		q[i] = (dmar_request){ .iova = (da->base_page + i) * K4, .access = DMAR_ACCESS_WRITE,
				       .pasid = DMAR_NO_PASID };
	CHECK_ST(dmar_device_translate_batch(dmar_adapter_device(e.ad, 0), q, rd, 64, &nf), DMAR_OK);
	CHECK_EQ(nf, 0);
	for (uint64_t i = 0; i < 64; i++) {
		uint8_t page[4096];

		CHECK(rs[i].pa >= TiB + 512 * GiB && rd[i].pa >= TiB + 512 * GiB); /* above 1 TiB */
		CHECK_ST(dmar_physmem_read(e.pm, rs[i].pa, page, K4), DMAR_OK);
		CHECK_ST(dmar_physmem_write(e.pm, rd[i].pa, page, K4), DMAR_OK);
	}
	/* the CPU sees every byte in the destination */
	CHECK(memcmp(s_cpu, d_cpu, 64 * K4) == 0);
	/* the source was mapped read-only for the device: a write faults */
	q[0] = (dmar_request){ .iova = sa->base_page * K4, .access = DMAR_ACCESS_WRITE,
			       .pasid = DMAR_NO_PASID };
	CHECK_ST(dmar_device_translate(dmar_adapter_device(e.ad, 0), &q[0], rs), DMAR_E_FAULT);
	CHECK_EQ(rs[0].fault, DMAR_FAULT_WRITE);
	/* beyond the 40-bit reach: S14 fault */
	q[0].iova = TiB;
	CHECK_ST(dmar_device_translate(dmar_adapter_device(e.ad, 0), &q[0], rs), DMAR_E_FAULT);
	CHECK_EQ(rs[0].fault, DMAR_FAULT_DEVICE_WIDTH);
	env_down(&e);
}

TEST(logical_space_exhaustion_is_reported_and_changes_nothing)
{
	struct env e;
	dmar_adapter_config c;
	dmar_pmo_params pp = { .kind = DMAR_PMO_IO_SPACE, .size = 64ull << 30, .io_base = 1ull << 50 };
	dmar_pmo *io;
	const dmar_adl *adl[20];
	dmar_adapter_stats st;
	int n = 0;

	dmar_adapter_config_default(&c);
	c.start.dma_bits = 36; /* 64 GiB of logical space */
	c.start.integrated = false;
	REQUIRE(env_up(&e, &c, 1) == DMAR_OK);
	REQUIRE(e.why.mode == DMAR_START_REMAPPED);
	CHECK_ST(dmar_pmo_create(e.ad, P, &pp, &io), DMAR_OK);
	while (n < 20 && dmar_pmo_map_gpu(e.ad, P, io, 0, 1ull << 22, RW, &adl[n]) == DMAR_OK)
		n++;
	CHECK_EQ(n, 4); /* 4 x 16 GiB */
	CHECK_ST(dmar_pmo_map_gpu(e.ad, P, io, 0, 1ull << 22, RW, &adl[n]), DMAR_E_NOSPACE);
	dmar_adapter_get_stats(e.ad, &st);
	CHECK_EQ(st.gpu_mappings, 4);
	CHECK_ST(dmar_pmo_unmap_gpu(e.ad, P, adl[1]), DMAR_OK);
	CHECK_ST(dmar_pmo_map_gpu(e.ad, P, io, 0, 1ull << 22, RW, &adl[1]), DMAR_OK);
	env_down(&e);
}

TEST(bad_input_gets_a_status_everywhere)
{
	struct env e;
	dmar_adapter_config c;
	dmar_pmo_params pp = { .kind = DMAR_PMO_NONPAGED, .size = K4 };
	dmar_pmo *o;
	const dmar_adl *adl;
	dmar_adapter *ad2;
	void *v;
	dmar_adapter_stats st;
	dmar_result r;

	dmar_adapter_config_default(&c);
	REQUIRE(env_up(&e, &c, 1) == DMAR_OK);
	CHECK_ST(dmar_adapter_create(NULL, &c, &ad2, NULL), DMAR_E_INVALID);
	c.nlinked = 0;
	CHECK_ST(dmar_adapter_create(e.iommu, &c, &ad2, NULL), DMAR_E_INVALID);
	c.nlinked = 1; /* the same requester id again */
	CHECK_ST(dmar_adapter_create(e.iommu, &c, &ad2, NULL), DMAR_E_EXISTS);
	c.start.dma_bits = 20;
	CHECK_ST(dmar_adapter_create(e.iommu, &c, &ad2, NULL), DMAR_E_INVALID);
	pp.size = 100;
	CHECK_ST(dmar_pmo_create(e.ad, P, &pp, &o), DMAR_E_INVALID);
	pp.size = 0;
	CHECK_ST(dmar_pmo_create(e.ad, P, &pp, &o), DMAR_E_INVALID);
	pp.size = 8 * TiB; /* beyond DMAR_PMO_MAX_SIZE */
	CHECK_ST(dmar_pmo_create(e.ad, P, &pp, &o), DMAR_E_INVALID);
	pp.size = DMAR_PMO_MAX_SIZE;
	pp.kind = DMAR_PMO_CONTIGUOUS;
	pp.place = DMAR_PLACE_BELOW; /* 64 GiB contiguous below 32 GiB: not there */
	pp.limit = 32 * GiB;
	CHECK_ST(dmar_pmo_create(e.ad, P, &pp, &o), DMAR_E_NOMEM);
	pp.kind = DMAR_PMO_NONPAGED;
	pp.place = DMAR_PLACE_ANY;
	pp.size = K4;
	pp.kind = (dmar_pmo_kind)9;
	CHECK_ST(dmar_pmo_create(e.ad, P, &pp, &o), DMAR_E_INVALID);
	pp.kind = DMAR_PMO_NONPAGED;
	CHECK_ST(dmar_pmo_create(e.ad, P, &pp, &o), DMAR_OK);
	CHECK_ST(dmar_pmo_map_gpu(e.ad, P, o, 1, 1, RW, &adl), DMAR_E_INVALID);
	CHECK_ST(dmar_pmo_map_gpu(e.ad, P, o, 0, 2, RW, &adl), DMAR_E_INVALID);
	CHECK_ST(dmar_pmo_map_gpu(e.ad, P, o, 0, 1, 0x1000, &adl), DMAR_E_INVALID);
	CHECK_ST(dmar_pmo_map_gpu(e.ad, P, (dmar_pmo *)&pp, 0, 1, RW, &adl), DMAR_E_INVALID);
	CHECK_ST(dmar_pmo_unmap_gpu(e.ad, P, (dmar_adl *)&pp), DMAR_E_NOT_FOUND);
	CHECK_ST(dmar_pmo_map_cpu(e.ad, P, o, 0, 0, DMAR_CPU_USER, DMAR_CACHE_CACHED, &v), DMAR_E_INVALID);
	CHECK_ST(dmar_pmo_map_cpu(e.ad, P, o, 0, 1, (dmar_cpu_mode)7, DMAR_CACHE_CACHED, &v),
		 DMAR_E_INVALID);
	CHECK_ST(dmar_aperture_translate(e.ad, 5, 0, DMAR_ACCESS_READ, &r), DMAR_E_INVALID);
	CHECK_ST(dmar_aperture_translate(e.ad, 1, 1ull << 40, DMAR_ACCESS_READ, &r), DMAR_E_FAULT);
	CHECK_ST(dmar_process_destroy(e.ad, (dmar_process *)&pp), DMAR_E_INVALID);
	dmar_adapter_get_stats(e.ad, &st);
	CHECK_EQ(st.pmos, 1);
	CHECK_EQ(st.gpu_mappings, 0);
	CHECK_EQ(st.cpu_mappings, 0);
	env_down(&e);
}

/* ---- findings of the remap audit: one test each ------------------------------------------ */

/* S22, S23, S24 and remap.h: an allocation's ADL and object are the allocation's, freed by
 * dmar_allocation_destroy() only: the calls that would free them refuse (::DMAR_E_BUSY) and
 * change nothing, and the allocation maps, scans out and is destroyed as before. */
TEST(S24_an_allocations_own_adl_and_object_are_refused_and_change_nothing)
{
	struct env e;
	dmar_adapter_config c;
	dmar_allocation_params ap = { .npages = 4, .segment_set = 1u << 1,
				      .flags = DMAR_ALLOC_ACCESSED_PHYSICALLY };
	dmar_allocation *al;
	dmar_op_map_aperture_segment2 op = { 0 };
	dmar_op_unmap_aperture_segment un = { 0 };
	dmar_adapter_stats before, after;
	const dmar_adl *extra;
	dmar_result r;
	void *va;

	dmar_adapter_config_default(&c);
	REQUIRE(env_up(&e, &c, 1) == DMAR_OK);
	REQUIRE(dmar_allocation_create(e.ad, P, &ap, &al) == DMAR_OK);
	dmar_adapter_get_stats(e.ad, &before);
	CHECK_ST(dmar_pmo_unmap_gpu(e.ad, P, dmar_allocation_adl(al)), DMAR_E_BUSY);
	CHECK_ST(dmar_adl_free(e.ad, P, (dmar_adl *)(uintptr_t)dmar_allocation_adl(al)), DMAR_E_BUSY);
	CHECK_ST(dmar_pmo_destroy(e.ad, P, dmar_allocation_pmo(al)), DMAR_E_BUSY);
	dmar_adapter_get_stats(e.ad, &after);
	CHECK_EQ(after.gpu_mappings, before.gpu_mappings);
	CHECK_EQ(after.pmos, before.pmos);
	/* still whole: it maps into the aperture, and the device reaches its pages */
	op.h_allocation = al;
	op.segment_id = 1;
	op.number_of_pages = 4;
	op.adl = *dmar_allocation_adl(al);
	CHECK_ST(dmar_map_aperture_segment2(e.ad, P, &op), DMAR_OK);
	CHECK_ST(dmar_aperture_translate(e.ad, 1, 2 * K4, DMAR_ACCESS_WRITE, &r), DMAR_OK);
	un.h_allocation = al;
	un.segment_id = 1;
	un.number_of_pages = 4;
	CHECK_ST(dmar_unmap_aperture_segment(e.ad, P, &un), DMAR_OK);
	/* its object used beyond the allocation: destroying it waits for that to end */
	CHECK_ST(dmar_pmo_map_cpu(e.ad, P, dmar_allocation_pmo(al), 0, 1, DMAR_CPU_KERNEL,
				  DMAR_CACHE_CACHED, &va), DMAR_OK);
	CHECK_ST(dmar_allocation_destroy(e.ad, P, al), DMAR_E_BUSY);
	CHECK_ST(dmar_pmo_unmap_cpu(e.ad, P, dmar_allocation_pmo(al), va), DMAR_OK);
	CHECK_ST(dmar_pmo_map_gpu(e.ad, P, dmar_allocation_pmo(al), 1, 2, RW, &extra), DMAR_OK);
	CHECK_ST(dmar_allocation_destroy(e.ad, P, al), DMAR_E_BUSY);
	CHECK_ST(dmar_pmo_unmap_gpu(e.ad, P, extra), DMAR_OK);
	CHECK_ST(dmar_pmo_open(e.ad, P, dmar_allocation_pmo(al)), DMAR_OK);
	CHECK_ST(dmar_allocation_destroy(e.ad, P, al), DMAR_E_BUSY);
	CHECK_ST(dmar_pmo_close(e.ad, P, dmar_allocation_pmo(al)), DMAR_OK);
	CHECK_ST(dmar_allocation_destroy(e.ad, P, al), DMAR_OK);
	dmar_adapter_get_stats(e.ad, &after);
	CHECK_EQ(after.allocations, 0);
	CHECK_EQ(after.pmos, 0);
	CHECK_EQ(after.gpu_mappings, 0);
	/* the adapter's destroy takes an allocation whose object is still mapped and open */
	REQUIRE(dmar_allocation_create(e.ad, P, &ap, &al) == DMAR_OK);
	CHECK_ST(dmar_pmo_map_cpu(e.ad, P, dmar_allocation_pmo(al), 0, 4, DMAR_CPU_USER,
				  DMAR_CACHE_CACHED, &va), DMAR_OK);
	CHECK_ST(dmar_pmo_map_gpu(e.ad, P, dmar_allocation_pmo(al), 0, 4, RW, &extra), DMAR_OK);
	CHECK_ST(dmar_pmo_open(e.ad, P, dmar_allocation_pmo(al)), DMAR_OK);
	env_down(&e);
}

/* S8, S10: a section object resident at the start gets 1:1 entries; a trim frees its frames
 * and takes their entries with them (the device reaches no freed frame, nor whatever the
 * frame is given to next), and the frames it comes back in are mapped by the mapping that
 * brings them back. */
TEST(S8_S10_a_trim_takes_the_one_to_one_entries_of_the_frames_it_frees)
{
	struct env e;
	dmar_adapter_config c;
	dmar_pmo *sec, *other;
	const dmar_adl *adl;
	dmar_pa_t old[2], now;
	dmar_result r;
	void *va;

	cfg_isolation(&c, 0);
	c.start.secure_vm = true;
	REQUIRE(env_up(&e, &c, 0) == DMAR_OK);
	REQUIRE(e.why.mode == DMAR_START_ISOLATION);
	sec = pmo_new(e.ad, DMAR_PMO_SECTION, 2 * K4);
	REQUIRE(sec);
	CHECK_ST(dmar_pmo_map_cpu(e.ad, P, sec, 0, 2, DMAR_CPU_KERNEL, DMAR_CACHE_CACHED, &va),
		 DMAR_OK); /* resident */
	memset(va, 0x5a, 2 * K4);
	CHECK_ST(dmar_pmo_unmap_cpu(e.ad, P, sec, va), DMAR_OK);
	CHECK_ST(dmar_pmo_page(sec, 0, &old[0]), DMAR_OK);
	CHECK_ST(dmar_pmo_page(sec, 1, &old[1]), DMAR_OK);
	CHECK_ST(dmar_adapter_start(e.ad), DMAR_OK);
	CHECK_ST(dev_xlate(e.ad, 0, old[0], DMAR_NO_PASID, DMAR_ACCESS_WRITE, &r), DMAR_OK);
	CHECK_ST(dmar_pmo_trim(e.ad, P, sec), DMAR_OK);
	for (int i = 0; i < 2; i++) {
		CHECK_ST(dev_xlate(e.ad, 0, old[i], DMAR_NO_PASID, DMAR_ACCESS_READ, &r), DMAR_E_FAULT);
		CHECK_EQ(r.fault, DMAR_FAULT_NOT_PRESENT);
	}
	/* the freed frames go to another object, which nothing mapped for the device */
	other = pmo_new(e.ad, DMAR_PMO_NONPAGED, 2 * K4);
	REQUIRE(other);
	for (uint64_t i = 0; i < 2; i++) {
		CHECK_ST(dmar_pmo_page(other, i, &now), DMAR_OK);
		CHECK_ST(dev_xlate(e.ad, 0, now, DMAR_NO_PASID, DMAR_ACCESS_WRITE, &r), DMAR_E_FAULT);
	}
	/* the section comes back in new frames: its GPU mapping makes those reachable, with
	 * its contents */
	CHECK_ST(dmar_pmo_map_gpu(e.ad, P, sec, 0, 2, RW, &adl), DMAR_OK);
	for (uint64_t i = 0; i < 2; i++) {
		uint8_t b = 0;

		CHECK_ST(dmar_pmo_page(sec, i, &now), DMAR_OK);
		CHECK_EQ(adl_at(adl, i) * K4, now);
		CHECK_ST(dev_xlate(e.ad, 0, now + 7, DMAR_NO_PASID, DMAR_ACCESS_WRITE, &r), DMAR_OK);
		CHECK_EQ(r.pa, now + 7);
		CHECK_ST(dmar_physmem_read(e.pm, now + 7, &b, 1), DMAR_OK);
		CHECK_EQ(b, 0x5a);
	}
	CHECK_ST(dmar_pmo_unmap_gpu(e.ad, P, adl), DMAR_OK);
	CHECK_ST(dmar_pmo_page(sec, 0, &now), DMAR_OK);
	CHECK_ST(dev_xlate(e.ad, 0, now, DMAR_NO_PASID, DMAR_ACCESS_READ, &r), DMAR_E_FAULT);
	CHECK_ST(dmar_pmo_destroy(e.ad, P, sec), DMAR_OK);
	env_down(&e);
}

/* S8 and remap.h: the mappings of one page share its 1:1 entry, which grants the union of
 * their permissions, widening and narrowing as they come and go; the start's mapping of an
 * object allocated before it asks READ|WRITE (S10). */
TEST(S8_a_shared_one_to_one_entry_grants_the_union_of_its_mappings)
{
	struct env e;
	dmar_adapter_config c;
	dmar_pmo_params pp = { .kind = DMAR_PMO_NONPAGED, .size = K4 };
	dmar_pmo *o, *pre;
	const dmar_adl *ro, *rw;
	dmar_result r;
	dmar_pa_t pa, prepa;

	cfg_isolation(&c, 0);
	c.start.secure_vm = true;
	REQUIRE(env_up(&e, &c, 0) == DMAR_OK);
	CHECK_ST(dmar_pmo_create(e.ad, P, &pp, &pre), DMAR_OK);
	CHECK_ST(dmar_adapter_start(e.ad), DMAR_OK);
	o = pmo_new(e.ad, DMAR_PMO_NONPAGED, K4);
	REQUIRE(o);
	CHECK_ST(dmar_pmo_page(o, 0, &pa), DMAR_OK);
	/* READ, then READ|WRITE: writable while the second lives */
	CHECK_ST(dmar_pmo_map_gpu(e.ad, P, o, 0, 1, DMAR_PROT_READ, &ro), DMAR_OK);
	CHECK_ST(dev_xlate(e.ad, 0, pa, DMAR_NO_PASID, DMAR_ACCESS_WRITE, &r), DMAR_E_FAULT);
	CHECK_EQ(r.fault, DMAR_FAULT_WRITE);
	CHECK_ST(dmar_pmo_map_gpu(e.ad, P, o, 0, 1, RW, &rw), DMAR_OK);
	CHECK_ST(dev_xlate(e.ad, 0, pa, DMAR_NO_PASID, DMAR_ACCESS_WRITE, &r), DMAR_OK);
	CHECK_ST(dmar_pmo_unmap_gpu(e.ad, P, rw), DMAR_OK); /* narrows back to READ */
	CHECK_ST(dev_xlate(e.ad, 0, pa, DMAR_NO_PASID, DMAR_ACCESS_WRITE, &r), DMAR_E_FAULT);
	CHECK_EQ(r.fault, DMAR_FAULT_WRITE);
	CHECK_ST(dev_xlate(e.ad, 0, pa, DMAR_NO_PASID, DMAR_ACCESS_READ, &r), DMAR_OK);
	CHECK_ST(dmar_pmo_unmap_gpu(e.ad, P, ro), DMAR_OK);
	/* READ|WRITE, then READ; the READ|WRITE one goes: read-only */
	CHECK_ST(dmar_pmo_map_gpu(e.ad, P, o, 0, 1, RW, &rw), DMAR_OK);
	CHECK_ST(dmar_pmo_map_gpu(e.ad, P, o, 0, 1, DMAR_PROT_READ, &ro), DMAR_OK);
	CHECK_ST(dev_xlate(e.ad, 0, pa, DMAR_NO_PASID, DMAR_ACCESS_WRITE, &r), DMAR_OK);
	CHECK_ST(dmar_pmo_unmap_gpu(e.ad, P, rw), DMAR_OK);
	CHECK_ST(dev_xlate(e.ad, 0, pa, DMAR_NO_PASID, DMAR_ACCESS_WRITE, &r), DMAR_E_FAULT);
	CHECK_EQ(r.fault, DMAR_FAULT_WRITE);
	CHECK_ST(dev_xlate(e.ad, 0, pa, DMAR_NO_PASID, DMAR_ACCESS_READ, &r), DMAR_OK);
	CHECK_ST(dmar_pmo_unmap_gpu(e.ad, P, ro), DMAR_OK);
	CHECK_ST(dev_xlate(e.ad, 0, pa, DMAR_NO_PASID, DMAR_ACCESS_READ, &r), DMAR_E_FAULT);
	CHECK_EQ(r.fault, DMAR_FAULT_NOT_PRESENT);
	/* an object the start mapped stays READ|WRITE under a READ mapping, and after it */
	CHECK_ST(dmar_pmo_page(pre, 0, &prepa), DMAR_OK);
	CHECK_ST(dmar_pmo_map_gpu(e.ad, P, pre, 0, 1, DMAR_PROT_READ, &ro), DMAR_OK);
	CHECK_ST(dev_xlate(e.ad, 0, prepa, DMAR_NO_PASID, DMAR_ACCESS_WRITE, &r), DMAR_OK);
	CHECK_ST(dmar_pmo_unmap_gpu(e.ad, P, ro), DMAR_OK);
	CHECK_ST(dev_xlate(e.ad, 0, prepa, DMAR_NO_PASID, DMAR_ACCESS_WRITE, &r), DMAR_OK);
	CHECK_ST(dmar_pmo_destroy(e.ad, P, pre), DMAR_OK);
	CHECK_ST(dev_xlate(e.ad, 0, prepa, DMAR_NO_PASID, DMAR_ACCESS_READ, &r), DMAR_E_FAULT);
	env_down(&e);
}

/* S8, S9 and remap.h: with EnableMappings all RAM is mapped READ|WRITE at the start, but IO
 * space is not RAM: a GPU mapping of it maps its pages at their own addresses (and an IO
 * object allocated before the start is mapped by the start, S10); a mapping of RAM changes
 * nothing there (documented: its prot narrows nothing). */
TEST(S8_S9_with_enable_mappings_io_space_is_mapped_at_its_own_addresses)
{
	struct env e;
	dmar_adapter_config c;
	dmar_pmo_params pp = { .kind = DMAR_PMO_IO_SPACE, .size = 4 * K4, .io_base = 3 * GiB };
	dmar_pmo *io, *pre, *o;
	const dmar_adl *adl;
	dmar_result r;
	dmar_pa_t pa;

	cfg_isolation(&c, DMAR_IOMMUF_ENABLED | DMAR_IOMMUF_ENABLE_MAPPINGS | DMAR_IOMMUF_ENABLE_ATTACH);
	REQUIRE(env_up(&e, &c, 0) == DMAR_OK);
	REQUIRE(e.why.mode == DMAR_START_ISOLATION && e.why.map_all_memory);
	pp.io_base = 3 * GiB + 16 * K4;
	CHECK_ST(dmar_pmo_create(e.ad, P, &pp, &pre), DMAR_OK);
	CHECK_ST(dmar_adapter_start(e.ad), DMAR_OK);
	CHECK_ST(dev_xlate(e.ad, 0, pp.io_base + K4, DMAR_NO_PASID, DMAR_ACCESS_WRITE, &r), DMAR_OK);
	CHECK_ST(dmar_pmo_destroy(e.ad, P, pre), DMAR_OK);
	CHECK_ST(dev_xlate(e.ad, 0, pp.io_base + K4, DMAR_NO_PASID, DMAR_ACCESS_READ, &r),
		 DMAR_E_FAULT);
	pp.io_base = 3 * GiB;
	CHECK_ST(dmar_pmo_create(e.ad, P, &pp, &io), DMAR_OK);
	CHECK_ST(dev_xlate(e.ad, 0, 3 * GiB + K4, DMAR_NO_PASID, DMAR_ACCESS_READ, &r), DMAR_E_FAULT);
	CHECK_ST(dmar_pmo_map_gpu(e.ad, P, io, 0, 4, RW, &adl), DMAR_OK);
	for (uint64_t i = 0; i < 4; i++) {
		CHECK_EQ(adl_at(adl, i) * K4, 3 * GiB + i * K4);
		CHECK_ST(dev_xlate(e.ad, 0, 3 * GiB + i * K4 + 9, DMAR_NO_PASID, DMAR_ACCESS_WRITE, &r),
			 DMAR_OK);
		CHECK_EQ(r.pa, 3 * GiB + i * K4 + 9);
	}
	CHECK_ST(dmar_pmo_unmap_gpu(e.ad, P, adl), DMAR_OK);
	CHECK_ST(dev_xlate(e.ad, 0, 3 * GiB + K4, DMAR_NO_PASID, DMAR_ACCESS_READ, &r), DMAR_E_FAULT);
	/* RAM: mapped READ|WRITE from the start whatever a mapping asks, and after it */
	o = pmo_new(e.ad, DMAR_PMO_NONPAGED, K4);
	REQUIRE(o);
	CHECK_ST(dmar_pmo_page(o, 0, &pa), DMAR_OK);
	CHECK_ST(dmar_pmo_map_gpu(e.ad, P, o, 0, 1, DMAR_PROT_READ, &adl), DMAR_OK);
	CHECK_ST(dev_xlate(e.ad, 0, pa, DMAR_NO_PASID, DMAR_ACCESS_WRITE, &r), DMAR_OK);
	CHECK_ST(dmar_pmo_unmap_gpu(e.ad, P, adl), DMAR_OK);
	CHECK_ST(dev_xlate(e.ad, 0, pa, DMAR_NO_PASID, DMAR_ACCESS_WRITE, &r), DMAR_OK);
	env_down(&e);
}

/* S3: a process whose PASID cannot be bound gets none, and the PASID it was given is freed
 * once: never again after the adapter's lock is released, when another process may hold
 * the number.  Processes created meanwhile on another thread keep their binding, and no
 * PASID is handed out twice. */
struct pasid_race {
	struct env *e;
	dmar_pa_t root;
	const dmar_pt_format *fmt;
	int stop;
};

static void *pasid_race_failer(void *arg)
{
	struct pasid_race *pr = arg;
	const dmar_pt_format bad = { .levels = 2, .kind = DMAR_PT_AMDV1 }; /* bind refuses it */
	dmar_process *p;

	dmar_thread_register();
	while (!__atomic_load_n(&pr->stop, __ATOMIC_ACQUIRE))
		CHECK(dmar_process_create(pr->e->ad, pr->root, &bad, &p) != DMAR_OK);
	dmar_thread_unregister();
	return NULL;
}

TEST(S3_a_failed_process_create_frees_its_pasid_once)
{
	enum { N = 3000 };
	struct env e;
	dmar_adapter_config c;
	dmar_pgtable_config ptc;
	dmar_pgtable *cpu_pt;
	struct pasid_race pr;
	static dmar_process *procs[N];
	pthread_t t;
	dmar_pa_t frame;
	uint32_t pasid;
	int lost = 0, twice = 0, n;

	dmar_adapter_config_default(&c);
	REQUIRE(env_up(&e, &c, 1) == DMAR_OK);
	dmar_pgtable_config_default(&ptc);
	REQUIRE(dmar_pgtable_create(e.pm, &ptc, &cpu_pt) == DMAR_OK);
	REQUIRE(dmar_physmem_alloc(e.pm, 1, 12, DMAR_PLACE_ANY, 0, &frame) == DMAR_OK);
	REQUIRE(dmar_pgtable_map(cpu_pt, 0x10000000ull, frame, K4, RW | DMAR_PROT_USER) == DMAR_OK);
	pr = (struct pasid_race){ .e = &e, .root = dmar_pgtable_root(cpu_pt),
				  .fmt = dmar_pgtable_format(cpu_pt) };
	REQUIRE(pthread_create(&t, NULL, pasid_race_failer, &pr) == 0);
	for (n = 0; n < N; n++)
		if (dmar_process_create(e.ad, pr.root, pr.fmt, &procs[n]) != DMAR_OK)
			break;
	__atomic_store_n(&pr.stop, 1, __ATOMIC_RELEASE);
	dmar_thread_offline(); /* the failer may wait for a grace period */
	pthread_join(t, NULL);
	dmar_thread_online();
	CHECK_EQ(n, N);
	for (int i = 0; i < n; i++) {
		dmar_result r;

		if (dev_xlate(e.ad, 0, 0x10000000ull, dmar_process_pasid(procs[i]), DMAR_ACCESS_READ,
			      &r) != DMAR_OK)
			lost++;
	}
	/* a PASID a live process holds is never handed out again */
	while (dmar_pasid_alloc(e.iommu, &pasid) == DMAR_OK && pasid > 0xff000)
		for (int i = 0; i < n; i++)
			twice += dmar_process_pasid(procs[i]) == pasid;
	CHECK_EQ(lost, 0);
	CHECK_EQ(twice, 0);
	for (int i = 0; i < n; i++)
		CHECK_ST(dmar_process_destroy(e.ad, procs[i]), DMAR_OK);
	dmar_pgtable_destroy(cpu_pt);
	env_down(&e);
}

/* S20, S26 and remap.h: the legacy MAP_APERTURE_SEGMENT takes the MDL's physical addresses
 * (page numbers are refused), and the driver's paging hook sees it as operation 5, with its
 * fields, before it takes effect; a hook that refuses leaves the segment as it was. */
static int mdl_hook_calls[32];
static dmar_op_map_aperture_segment mdl_hook_op;
static dmar_status mdl_hook_answer;
static dmar_status mdl_paging_hook(void *ctx, dmar_paging_op op, const void *args)
{
	(void)ctx;
	mdl_hook_calls[op & 31]++;
	if (op == DMAR_OP_MAP_APERTURE_SEGMENT)
		mdl_hook_op = *(const dmar_op_map_aperture_segment *)args;
	return mdl_hook_answer;
}

TEST(S20_the_legacy_mdl_map_takes_physical_addresses_and_runs_the_paging_hook)
{
	struct env e;
	dmar_adapter_config c;
	dmar_allocation_params ap = { .npages = 4, .segment_set = 1u << 1,
				      .flags = DMAR_ALLOC_ACCESSED_PHYSICALLY };
	dmar_allocation *al;
	dmar_pa_t addr[4], pn[4];
	dmar_result r;

	cfg_isolation(&c, 0);
	c.start.secure_vm = true;
	c.map_aperture2 = false;
	c.paging = mdl_paging_hook;
	REQUIRE(env_up(&e, &c, 1) == DMAR_OK);
	CHECK_ST(dmar_allocation_create(e.ad, P, &ap, &al), DMAR_OK);
	for (int i = 0; i < 4; i++) {
		CHECK_ST(dmar_pmo_page(dmar_allocation_pmo(al), (uint64_t)i, &addr[i]), DMAR_OK);
		pn[i] = addr[i] / K4;
	}
	memset(mdl_hook_calls, 0, sizeof(mdl_hook_calls));
	mdl_hook_answer = DMAR_OK;
	CHECK_ST(dmar_map_aperture_segment_mdl(e.ad, P, al, 1, 8, 4, pn), DMAR_E_INVALID);
	CHECK_EQ(mdl_hook_calls[DMAR_OP_MAP_APERTURE_SEGMENT], 0); /* refused before the driver */
	mdl_hook_answer = DMAR_E_NOMEM;
	CHECK_ST(dmar_map_aperture_segment_mdl(e.ad, P, al, 1, 8, 4, addr), DMAR_E_NOMEM);
	CHECK_EQ(mdl_hook_calls[DMAR_OP_MAP_APERTURE_SEGMENT], 1);
	CHECK(mdl_hook_op.h_allocation == al);
	CHECK_EQ(mdl_hook_op.segment_id, 1);
	CHECK_EQ(mdl_hook_op.offset_in_pages, 8);
	CHECK_EQ(mdl_hook_op.number_of_pages, 4);
	CHECK(mdl_hook_op.mdl_pages == addr);
	CHECK_ST(dmar_aperture_translate(e.ad, 1, 9 * K4, DMAR_ACCESS_READ, &r), DMAR_E_FAULT);
	mdl_hook_answer = DMAR_OK;
	CHECK_ST(dmar_map_aperture_segment_mdl(e.ad, P, al, 1, 8, 4, addr), DMAR_OK);
	CHECK_EQ(mdl_hook_calls[DMAR_OP_MAP_APERTURE_SEGMENT], 2);
	CHECK_ST(dmar_aperture_translate(e.ad, 1, 9 * K4 + 3, DMAR_ACCESS_READ, &r), DMAR_OK);
	CHECK_EQ(r.pa, addr[1] + 3);
	env_down(&e);
}

/* S18: inside an exclusive-access window the legacy unmap is refused as the others are. */
TEST(S18_inside_exclusive_access_the_legacy_unmap_is_busy_too)
{
	struct env e;
	dmar_adapter_config c;
	dmar_pmo *o;
	dmar_iova_t lg;
	dmar_result r;
	dmar_adapter_stats st;

	cfg_isolation(&c, 0);
	c.start.secure_vm = true;
	REQUIRE(env_up(&e, &c, 1) == DMAR_OK);
	o = pmo_new(e.ad, DMAR_PMO_NONPAGED, K4);
	REQUIRE(o);
	CHECK_ST(dmar_legacy_map_mdl_to_iommu(e.ad, P, o, &lg), DMAR_OK);
	CHECK_ST(dmar_device_begin_exclusive(dmar_adapter_device(e.ad, 0)), DMAR_OK);
	CHECK_ST(dmar_legacy_unmap_mdl_from_iommu(e.ad, P, o), DMAR_E_BUSY);
	dmar_adapter_get_stats(e.ad, &st);
	CHECK_EQ(st.gpu_mappings, 1);
	CHECK_ST(dmar_device_end_exclusive(dmar_adapter_device(e.ad, 0)), DMAR_OK);
	CHECK_ST(dev_xlate(e.ad, 0, lg, DMAR_NO_PASID, DMAR_ACCESS_WRITE, &r), DMAR_OK);
	CHECK_ST(dmar_legacy_unmap_mdl_from_iommu(e.ad, P, o), DMAR_OK);
	CHECK_ST(dev_xlate(e.ad, 0, lg, DMAR_NO_PASID, DMAR_ACCESS_READ, &r), DMAR_E_FAULT);
	env_down(&e);
}

/* S26: before WDDM 3.2 a call above APC_LEVEL is counted once, also when the layer runs it
 * again after draining logical space. */
TEST(S26_an_unverified_call_run_again_after_draining_is_counted_once)
{
	struct env e;
	dmar_adapter_config c;
	dmar_pmo_params pp = { .kind = DMAR_PMO_IO_SPACE, .size = 4 * GiB, .io_base = 1ull << 50 };
	dmar_allocation_params ap = { .npages = 1, .segment_set = 1 };
	dmar_allocation *al;
	dmar_pmo *io;
	const dmar_adl *a, *b;
	dmar_adapter_stats st;

	dmar_adapter_config_default(&c);
	c.start.dma_bits = 32;
	c.wddm_version = DMAR_WDDM(3, 1);
	REQUIRE(env_up(&e, &c, 1) == DMAR_OK);
	REQUIRE(e.why.mode == DMAR_START_REMAPPED);
	CHECK_ST(dmar_pmo_create(e.ad, P, &pp, &io), DMAR_OK);
	CHECK_ST(dmar_pmo_map_gpu(e.ad, P, io, 0, 1ull << 20, RW, &a), DMAR_OK); /* all 4 GiB */
	CHECK_ST(dmar_pmo_map_gpu(e.ad, DMAR_DISPATCH_LEVEL, io, 0, 1, RW, &b), DMAR_E_NOSPACE);
	dmar_adapter_get_stats(e.ad, &st);
	CHECK_EQ(st.irql_unverified, 1);
	CHECK_ST(dmar_allocation_create(e.ad, DMAR_DISPATCH_LEVEL, &ap, &al), DMAR_E_NOSPACE);
	dmar_adapter_get_stats(e.ad, &st);
	CHECK_EQ(st.irql_unverified, 2);
	CHECK_EQ(st.pmos, 1);
	env_down(&e);
}

/* S4, S29: an aperture access past the segment's end is an unmapped aperture page: counted
 * and queued, as one inside it. */
TEST(S4_an_aperture_access_past_the_segment_is_counted_and_queued)
{
	struct env e;
	dmar_adapter_config c;
	dmar_adapter_stats st;
	dmar_faultq_stats fq;
	dmar_fault_record rec;
	dmar_result r;

	dmar_adapter_config_default(&c);
	c.aperture_pages[0] = 16;
	REQUIRE(env_up(&e, &c, 1) == DMAR_OK);
	CHECK_ST(dmar_aperture_translate(e.ad, 1, 16 * K4 + 5, DMAR_ACCESS_READ, &r), DMAR_E_FAULT);
	CHECK_EQ(r.fault, DMAR_FAULT_APERTURE);
	dmar_adapter_get_stats(e.ad, &st);
	dmar_faultq_get_stats(dmar_iommu_faults(e.iommu), &fq);
	CHECK_EQ(st.aperture_faults, 1);
	CHECK_EQ(fq.faults, 1);
	REQUIRE(dmar_faultq_drain(dmar_iommu_faults(e.iommu), &rec, 1) == 1);
	CHECK_EQ(rec.addr, 16 * K4 + 5);
	CHECK_EQ(rec.reason, DMAR_FAULT_APERTURE);
	CHECK_EQ(rec.requester, c.rid);
	CHECK_ST(dmar_aperture_translate(e.ad, 1, 3 * K4, DMAR_ACCESS_READ, &r), DMAR_E_FAULT);
	dmar_adapter_get_stats(e.ad, &st);
	dmar_faultq_get_stats(dmar_iommu_faults(e.iommu), &fq);
	CHECK_EQ(st.aperture_faults, 2);
	CHECK_EQ(fq.faults, 2);
	env_down(&e);
}

/* S8 and remap.h: at most 65,535 GPU mappings hold one page's 1:1 entry; the next answers
 * DMAR_E_BUSY and changes nothing. */
TEST(S8_the_65536th_mapping_of_one_page_is_busy)
{
	struct env e;
	dmar_adapter_config c;
	dmar_pmo *o;
	const dmar_adl *adl, *first = NULL;
	dmar_adapter_stats st;
	dmar_result r;
	dmar_pa_t pa;
	unsigned n;

	cfg_isolation(&c, 0);
	c.start.secure_vm = true;
	REQUIRE(env_up(&e, &c, 1) == DMAR_OK);
	o = pmo_new(e.ad, DMAR_PMO_NONPAGED, K4);
	REQUIRE(o);
	for (n = 0; n < 65535; n++) {
		if (dmar_pmo_map_gpu(e.ad, P, o, 0, 1, DMAR_PROT_READ, &adl) != DMAR_OK)
			break;
		if (!first)
			first = adl;
	}
	CHECK_EQ(n, 65535);
	CHECK_ST(dmar_pmo_map_gpu(e.ad, P, o, 0, 1, RW, &adl), DMAR_E_BUSY);
	dmar_adapter_get_stats(e.ad, &st);
	CHECK_EQ(st.gpu_mappings, 65535);
	CHECK_ST(dmar_pmo_page(o, 0, &pa), DMAR_OK);
	CHECK_ST(dev_xlate(e.ad, 0, pa, DMAR_NO_PASID, DMAR_ACCESS_WRITE, &r), DMAR_E_FAULT);
	CHECK_EQ(r.fault, DMAR_FAULT_WRITE); /* the refused READ|WRITE widened nothing */
	CHECK_ST(dmar_pmo_unmap_gpu(e.ad, P, first), DMAR_OK);
	CHECK_ST(dmar_pmo_map_gpu(e.ad, P, o, 0, 1, RW, &adl), DMAR_OK);
	CHECK_ST(dev_xlate(e.ad, 0, pa, DMAR_NO_PASID, DMAR_ACCESS_WRITE, &r), DMAR_OK);
	env_down(&e);
}

RUN_TESTS(T(S3_a_process_gets_a_pasid_and_its_gpu_context_receives_it),
	  T(S4_a_primary_surface_is_scanned_out_through_the_aperture),
	  T(S5_allocations_come_from_the_os_service_in_every_mode),
	  T(S6_S7_the_device_gets_logical_addresses_and_invalid_ones_fault),
	  T(S8_isolation_maps_pages_one_to_one_and_only_those),
	  T(S9_policy_flags_decide_what_the_adapter_gets),
	  T(S10_what_was_allocated_before_start_is_mapped_at_enablement),
	  T(S11_a_secure_vm_needs_driver_support),
	  T(S12_once_enabled_the_iommu_cannot_be_disabled),
	  T(S12_a_domain_switch_never_turns_isolation_off),
	  T(S13_logically_contiguous_over_scattered_physical_pages),
	  T(S14_without_remapping_a_device_that_cannot_reach_memory_fails_to_start),
	  T(S14_remapped_gpu_of_every_width_32_to_64_maps_and_dmas),
	  T(S15_linked_adapters_share_one_domain),
	  T(S16_a_discrete_gpu_must_support_remapping),
	  T(S17_both_cap_sets_before_start_and_attached_before_memory_is_touched),
	  T(S18_inside_exclusive_access_no_mapping_call_and_no_dma),
	  T(S19_adls_contiguous_or_array_and_owned_by_their_mapping),
	  T(S20_map_aperture_segment2_validates_every_field),
	  T(S20_a_driver_without_map_aperture2_gets_the_legacy_mdl_operation),
	  T(S21_cpu_visible_address_only_with_the_flag_and_released_at_unmap),
	  T(S22_without_accessed_physically_the_allocation_is_promoted_to_system_memory),
	  T(S23_the_adl_is_passed_contiguous_and_the_driver_still_reads_its_flags),
	  T(S24_memory_objects_locked_while_mapped_with_cpu_and_gpu_views),
	  T(S7_S24_io_object_wrapping_past_2_64_is_refused),
	  T(S19_a_contiguous_adl_never_runs_past_2_64),
	  T(S24_gpu_mapping_without_read_permission_is_refused_and_changes_nothing),
	  T(S13_S24_an_adapter_on_an_iommu_format_domain_maps_and_dmas),
	  T(S25_create_destroy_and_open_close_are_separate_pairs),
	  T(S24_create_and_map_gpu_answer_every_status_they_list),
	  T(S24_map_cpu_answers_every_status_it_lists),
	  T(adapter_create_without_frames_is_nomem_and_leaves_nothing),
	  T(S25_legacy_callbacks_are_deprecated_for_a_remapping_driver),
	  T(S26_a_callback_above_apc_level_is_a_bugcheck_from_wddm_3_2),
	  T(S27_dma_remapping_compatible_must_be_3),
	  T(ntstatus_mapping_round_trips_with_names),
	  T(end_to_end_40_bit_gpu_moves_data_above_1_tib_through_logical_addresses_below),
	  T(logical_space_exhaustion_is_reported_and_changes_nothing),
	  T(bad_input_gets_a_status_everywhere),
	  T(S24_an_allocations_own_adl_and_object_are_refused_and_change_nothing),
	  T(S8_S10_a_trim_takes_the_one_to_one_entries_of_the_frames_it_frees),
	  T(S8_a_shared_one_to_one_entry_grants_the_union_of_its_mappings),
	  T(S8_S9_with_enable_mappings_io_space_is_mapped_at_its_own_addresses),
	  T(S3_a_failed_process_create_frees_its_pasid_once),
	  T(S20_the_legacy_mdl_map_takes_physical_addresses_and_runs_the_paging_hook),
	  T(S18_inside_exclusive_access_the_legacy_unmap_is_busy_too),
	  T(S26_an_unverified_call_run_again_after_draining_is_counted_once),
	  T(S4_an_aperture_access_past_the_segment_is_counted_and_queued),
	  T(S8_the_65536th_mapping_of_one_page_is_busy))
