/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The simulated system, built from a scenario (system.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "system.h"

const char *sim_prog = "dmar-sim";

/* ---- the scenario --------------------------------------------------------------------- */

void sim_scenario_default(struct scenario *s)
{
	memset(s, 0, sizeof(*s));
	s->seconds = 3;
	s->seed = 1;
	s->threads = 2;
	s->batch = 64;
	s->gpus = 2;
	s->dma_bits = 40;
	s->processes = 3;
	s->region_mib = 16;
	s->bad_ppm = 2000;
	s->data = true;
	s->do_switch = true;
	s->zipf = 1.1;
	for (int k = 0; k < DMAR_GEN_KIND_COUNT; k++)
		s->n[k] = 1;
}

const char *const sim_kind_key[DMAR_GEN_KIND_COUNT] = {
	"copy", "3d", "compute", "display", "command",
};

/* The scenario as a key file: what --scenario reads and what a trace header stores. */
GKeyFile *sim_scenario_keyfile(const struct scenario *s)
{
	GKeyFile *k = g_key_file_new();

	g_key_file_set_double(k, "run", "seconds", s->seconds);
	g_key_file_set_uint64(k, "run", "batches", s->batches);
	g_key_file_set_uint64(k, "run", "seed", s->seed);
	g_key_file_set_integer(k, "run", "threads", (int)s->threads);
	g_key_file_set_integer(k, "run", "batch", (int)s->batch);
	g_key_file_set_integer(k, "run", "bad_ppm", (int)s->bad_ppm);
	g_key_file_set_boolean(k, "run", "data", s->data);
	g_key_file_set_boolean(k, "run", "domain_switch", s->do_switch);
	g_key_file_set_integer(k, "system", "gpus", (int)s->gpus);
	g_key_file_set_integer(k, "system", "dma_bits", (int)s->dma_bits);
	g_key_file_set_integer(k, "system", "processes", (int)s->processes);
	g_key_file_set_integer(k, "system", "region_mib", (int)s->region_mib);
	g_key_file_set_double(k, "engines", "zipf", s->zipf);
	for (int i = 0; i < DMAR_GEN_KIND_COUNT; i++)
		g_key_file_set_integer(k, "engines", sim_kind_key[i], (int)s->n[i]);
	return k;
}

/* Read what the key file has; keys it lacks keep their values.  0, or -1 with a message. */
int sim_scenario_apply(struct scenario *s, GKeyFile *k, const char *what)
{
	GError *err = NULL;

#define GET(group, key, type, dst)                                                         \
	do {                                                                               \
		if (g_key_file_has_key(k, group, key, NULL)) {                             \
			dst = g_key_file_get_##type(k, group, key, &err);                  \
			if (err)                                                           \
				goto bad;                                                  \
		}                                                                          \
	} while (0)
	int iv;
	GET("run", "seconds", double, s->seconds);
	GET("run", "batches", uint64, s->batches);
	GET("run", "seed", uint64, s->seed);
	iv = (int)s->threads; GET("run", "threads", integer, iv); s->threads = (unsigned)iv;
	iv = (int)s->batch; GET("run", "batch", integer, iv); s->batch = (unsigned)iv;
	iv = (int)s->bad_ppm; GET("run", "bad_ppm", integer, iv); s->bad_ppm = (uint32_t)iv;
	GET("run", "data", boolean, s->data);
	GET("run", "domain_switch", boolean, s->do_switch);
	iv = (int)s->gpus; GET("system", "gpus", integer, iv); s->gpus = (unsigned)iv;
	iv = (int)s->dma_bits; GET("system", "dma_bits", integer, iv); s->dma_bits = (unsigned)iv;
	iv = (int)s->processes; GET("system", "processes", integer, iv); s->processes = (unsigned)iv;
	iv = (int)s->region_mib; GET("system", "region_mib", integer, iv); s->region_mib = (unsigned)iv;
	GET("engines", "zipf", double, s->zipf);
	for (int i = 0; i < DMAR_GEN_KIND_COUNT; i++) {
		iv = (int)s->n[i];
		GET("engines", sim_kind_key[i], integer, iv);
		s->n[i] = (unsigned)iv;
	}
#undef GET
	return 0;
bad:
	fprintf(stderr, "%s: %s: %s\n", sim_prog, what, err->message);
	g_error_free(err);
	return -1;
}

int sim_scenario_check(const struct scenario *s)
{
	unsigned engines = s->processes;

	for (int i = 0; i < DMAR_GEN_KIND_COUNT; i++)
		engines += s->n[i];
	if (!(s->seconds > 0 && s->seconds <= 86400) || s->threads < 1 || s->threads > 64 ||
	    s->batch < 2 || s->batch > 4096 || s->gpus < 1 || s->gpus > DMAR_MAX_LINKED ||
	    s->dma_bits < 32 || s->dma_bits > 64 || s->processes > MAX_PROCS ||
	    s->region_mib < 1 || s->region_mib > 4096 || s->bad_ppm > 1000000 ||
	    !(s->zipf >= 0 && s->zipf <= 4) || engines == 0 || engines > MAX_ENGINES) {
		fprintf(stderr, "%s: scenario out of range (see --help)\n", sim_prog);
		return -1;
	}
	return 0;
}

/* ---- the system ------------------------------------------------------------------------ */



int sim_fail(const char *what, dmar_status st)
{
	fprintf(stderr, "%s: %s: %s\n", sim_prog, what, dmar_status_str(st));
	return -1;
}


/* A memory object mapped for a device (logical path) and for the CPU; a gen region. */
static int logical_region(struct sys *s, const char *name, uint64_t bytes, bool writable,
			  unsigned gpu, uint64_t guard, uint64_t pattern, unsigned *id)
{
	dmar_pmo_params pp = { .kind = DMAR_PMO_NONPAGED, .size = bytes };
	dmar_gen_region r = { 0 };
	const dmar_adl *adl;
	dmar_pmo *o;
	dmar_pa_t *pages;
	uint64_t first;
	void *cpu = NULL;

	TRY(name, dmar_pmo_create(s->ad, P, &pp, &o));
	TRY(name, dmar_pmo_map_gpu(s->ad, P, o, 0, bytes / K4,
				   DMAR_PROT_READ | (writable ? DMAR_PROT_WRITE : 0), &adl));
	if (s->sc.data)
		TRY(name, dmar_pmo_map_cpu(s->ad, P, o, 0, bytes / K4, DMAR_CPU_KERNEL,
					   DMAR_CACHE_CACHED, &cpu));
	pages = malloc(bytes / K4 * sizeof(*pages));
	if (!pages)
		return sim_fail(name, DMAR_E_NOMEM);
	for (uint64_t i = 0; i < bytes / K4; i++)
		(void)dmar_pmo_page(o, i, &pages[i]);
	(void)dmar_adl_page(adl, 0, &first);
	r.name = name;
	r.path = DMAR_GEN_LOGICAL;
	r.dev = dmar_adapter_device(s->ad, gpu % s->sc.gpus);
	r.base = first * K4;
	r.size = bytes;
	r.writable = writable;
	r.pages = pages;
	r.cpu = cpu;
	r.pattern = pattern ? pattern : s->sc.seed * 1000003u + (uint64_t)r.base;
	r.guard = guard;
	r.dma_bits = s->sc.dma_bits;
	/* the logical pages must be contiguous for a gen region: they are when remapped (S23),
	 * and in 1:1 isolation only for contiguous memory */
	for (uint64_t i = 1; i < bytes / K4; i++) {
		uint64_t pg;

		(void)dmar_adl_page(adl, i, &pg);
		if (pg != first + i) {
			free(pages);
			fprintf(stderr, "%s: %s: logical pages not contiguous in this mode\n", sim_prog, name);
			return -1;
		}
	}
	if (s->dom_b) /* the same view in the domain switched to */
		for (uint64_t i = 0; i < bytes / K4; i++)
			TRY("domain B", dmar_domain_map(s->dom_b, r.base + i * K4, pages[i], K4,
							DMAR_PROT_READ | (writable ? DMAR_PROT_WRITE : 0)));
	TRY(name, dmar_gen_add_region(s->gen, &r, id));
	free(pages);
	if (!writable && s->sc.data)
		TRY(name, dmar_gen_fill(s->gen, *id));
	return 0;
}

/* A process: its CPU page table maps a read-only working set and a writable output at user
 * addresses; registered with the IOMMU it gets a PASID (S3). */
static int process_regions(struct sys *s, unsigned i, uint64_t bytes, unsigned *src, unsigned *dst)
{
	const uint64_t va_ws = 0x10000000ull, va_out = 0x50000000ull, va_guard = 0x90000000ull;
	struct proc *pr = &s->proc[i];
	dmar_pgtable_config ptc;

	dmar_pgtable_config_default(&ptc);
	TRY("process table", dmar_pgtable_create(s->pm, &ptc, &pr->cpu_pt));
	TRY("process", dmar_process_create(s->ad, dmar_pgtable_root(pr->cpu_pt),
					   dmar_pgtable_format(pr->cpu_pt), &pr->p));
	TRY("gpu context", dmar_gpu_context_create(s->ad, pr->p, &pr->ctx));
	if (dmar_gpu_context_pasid(pr->ctx) == DMAR_NO_PASID) {
		fprintf(stderr, "%s: no PASIDs without IoMmuSupported\n", sim_prog);
		return -1;
	}
	if (s->dom_b)
		TRY("domain B", dmar_domain_bind_pasid(s->dom_b, dmar_gpu_context_pasid(pr->ctx),
						       dmar_pgtable_root(pr->cpu_pt),
						       dmar_pgtable_format(pr->cpu_pt)));
	for (int w = 0; w < 2; w++) {
		dmar_pmo_params pp = { .kind = DMAR_PMO_NONPAGED, .size = bytes };
		dmar_gen_region r = { 0 };
		uint64_t va = w ? va_out : va_ws;
		dmar_pa_t *pages = malloc(bytes / K4 * sizeof(*pages));
		char name[32];
		dmar_pmo *o;
		void *cpu = NULL;

		if (!pages)
			return sim_fail("process", DMAR_E_NOMEM);
		snprintf(name, sizeof(name), "pasid%u-%s", dmar_gpu_context_pasid(pr->ctx),
			 w ? "output" : "working-set");
		TRY(name, dmar_pmo_create(s->ad, P, &pp, &o));
		if (s->sc.data)
			TRY(name, dmar_pmo_map_cpu(s->ad, P, o, 0, bytes / K4, DMAR_CPU_USER,
						   DMAR_CACHE_CACHED, &cpu));
		for (uint64_t k = 0; k < bytes / K4; k++) {
			(void)dmar_pmo_page(o, k, &pages[k]);
			TRY(name, dmar_pgtable_map(pr->cpu_pt, va + k * K4, pages[k], K4,
						   DMAR_PROT_READ | DMAR_PROT_USER |
						   (w ? DMAR_PROT_WRITE : 0)));
		}
		r.name = name;
		r.path = DMAR_GEN_PASID;
		r.dev = dmar_adapter_device(s->ad, i % s->sc.gpus);
		r.pasid = dmar_gpu_context_pasid(pr->ctx);
		r.base = va;
		r.size = bytes;
		r.writable = w;
		r.pages = pages;
		r.cpu = cpu;
		r.pattern = s->sc.seed * 7919u + va + i;
		r.guard = va_guard;
		r.dma_bits = s->sc.dma_bits;
		TRY(name, dmar_gen_add_region(s->gen, &r, w ? dst : src));
		free(pages);
		if (!w && s->sc.data)
			TRY(name, dmar_gen_fill(s->gen, *src));
	}
	return 0;
}

/* The primary surface: an allocation in aperture segment 1, mapped by MAP_APERTURE_SEGMENT2
 * read-only for the display, with a CPU-visible address (S4, S20, S21). */
static int primary_region(struct sys *s, unsigned *id)
{
	const uint64_t npages = 1920 * 1080 * 4 / K4 + 1;
	dmar_allocation_params ap = { .npages = npages, .segment_set = 1u << 1,
		.flags = DMAR_ALLOC_ACCESSED_PHYSICALLY | DMAR_ALLOC_PRIMARY |
			 DMAR_ALLOC_MAP_APERTURE_CPU_VISIBLE };
	dmar_op_map_aperture_segment2 op = { 0 };
	dmar_gen_region r = { 0 };
	dmar_allocation *al;
	dmar_pa_t *pages = malloc(npages * sizeof(*pages));

	if (!pages)
		return sim_fail("primary", DMAR_E_NOMEM);
	TRY("primary surface", dmar_allocation_create(s->ad, P, &ap, &al));
	op.h_allocation = al;
	op.segment_id = 1;
	op.number_of_pages = npages;
	op.adl = *dmar_allocation_adl(al);
	op.flags = DMAR_MAPAP_READ_ONLY;
	TRY("MAP_APERTURE_SEGMENT2", dmar_map_aperture_segment2(s->ad, P, &op));
	for (uint64_t k = 0; k < npages; k++) {
		uint64_t lp;

		(void)dmar_pmo_page(dmar_allocation_pmo(al), k, &pages[k]);
		(void)dmar_adl_page(dmar_allocation_adl(al), k, &lp);
		if (s->dom_b)
			TRY("domain B", dmar_domain_map(s->dom_b, lp * K4, pages[k], K4,
							DMAR_PROT_READ | DMAR_PROT_WRITE));
	}
	r.name = "primary-surface";
	r.path = DMAR_GEN_APERTURE;
	r.ad = s->ad;
	r.segment = 1;
	r.base = 0;
	r.size = npages * K4;
	r.writable = false;
	r.pages = pages;
	r.cpu = s->sc.data ? op.cpu_visible_address : NULL;
	r.pattern = s->sc.seed * 31337u;
	r.guard = (npages + 16) * K4; /* aperture pages past the surface map nothing */
	TRY("primary surface", dmar_gen_add_region(s->gen, &r, id));
	free(pages);
	if (s->sc.data)
		TRY("primary surface", dmar_gen_fill(s->gen, *id));
	return 0;
}

static int add_engine(struct sys *s, dmar_gen_kind k, dmar_gen_path path, unsigned src, unsigned dst)
{
	dmar_gen_engine e = { .kind = k, .src = src, .dst = dst, .bad_ppm = s->sc.bad_ppm };
	unsigned id;

	if (k == DMAR_GEN_COMPUTE)
		e.zipf_s = s->sc.zipf;
	if (k == DMAR_GEN_3D)
		e.width = 1024;
	TRY(dmar_gen_kind_str(k), dmar_gen_add_engine(s->gen, &e, &id));
	s->kind[id] = k;
	s->path[id] = path;
	s->neng = id + 1;
	return 0;
}

int sim_build(struct sys *s)
{
	dmar_physmem_config pc;
	dmar_iommu_config ic;
	dmar_adapter_config ac;
	dmar_gen_config gc;
	uint64_t bytes = (uint64_t)s->sc.region_mib * MiB, guard = 3 * GiB; /* a hole */
	unsigned gpu = 0;

	dmar_physmem_config_workstation(&pc);
	TRY("physical memory", dmar_physmem_create(&pc, &s->pm));
	dmar_iommu_config_default(&ic);
	ic.fault_queue = 4096;
	TRY("IOMMU", dmar_iommu_create(s->pm, &ic, &s->iommu));
	dmar_adapter_config_default(&ac);
	ac.nlinked = s->sc.gpus;
	ac.start.dma_bits = s->sc.dma_bits;
	if (dmar_adapter_create(s->iommu, &ac, &s->ad, &s->why) != DMAR_OK) {
		fprintf(stderr, "%s: the adapter does not start: %s\n", sim_prog,
			dmar_start_reason_str(s->why.reason));
		return -1;
	}
	TRY("adapter start", dmar_adapter_start(s->ad));
	if (s->why.mode == DMAR_START_REMAPPED) {
		dmar_iova_t g;

		/* a logical range that is never mapped: the target of "unmapped" faults */
		TRY("guard", dmar_iova_alloc(dmar_adapter_iovad(s->ad), 1, &g));
		guard = g;
		if (s->sc.do_switch)
			TRY("domain B", dmar_domain_create(s->iommu, DMAR_DOMAIN_REMAPPED, NULL,
							   &s->dom_b));
	}
	dmar_gen_config_default(&gc);
	gc.seed = s->sc.seed;
	gc.pm = s->pm;
	gc.data = s->sc.data;
	TRY("generator", dmar_gen_create(&gc, &s->gen));

	for (int k = 0; k < DMAR_GEN_KIND_COUNT; k++) {
		for (unsigned i = 0; i < s->sc.n[k]; i++, gpu++) {
			unsigned src, dst = 0;
			char a[40], b[40];

			snprintf(a, sizeof(a), "%s%u-%s", sim_kind_key[k], i,
				 k == DMAR_GEN_3D ? "texture" : k == DMAR_GEN_COMPUTE ? "working-set"
				 : k == DMAR_GEN_COMMAND ? "ring" : "source");
			snprintf(b, sizeof(b), "%s%u-%s", sim_kind_key[k], i,
				 k == DMAR_GEN_3D ? "render-target" : k == DMAR_GEN_COMPUTE ? "output"
				 : "destination");
			if (k == DMAR_GEN_DISPLAY) {
				if (i > 0)
					break; /* one primary surface */
				if (primary_region(s, &src))
					return -1;
				if (add_engine(s, (dmar_gen_kind)k, DMAR_GEN_APERTURE, src, 0))
					return -1;
				continue;
			}
			if (logical_region(s, a, k == DMAR_GEN_COMMAND ? MiB : bytes, false, gpu, guard,
					   0, &src))
				return -1;
			/* a copy's destination ends up holding its source's content */
			if (k != DMAR_GEN_COMMAND &&
			    logical_region(s, b, bytes, true, gpu, guard,
					   k == DMAR_GEN_COPY ? dmar_gen_region_pattern(s->gen, src) : 0, &dst))
				return -1;
			if (add_engine(s, (dmar_gen_kind)k, DMAR_GEN_LOGICAL, src, dst))
				return -1;
		}
	}
	for (unsigned i = 0; i < s->sc.processes; i++) {
		unsigned src, dst;

		if (process_regions(s, i, bytes / 2, &src, &dst) ||
		    add_engine(s, DMAR_GEN_COMPUTE, DMAR_GEN_PASID, src, dst))
			return -1;
	}
	return 0;
}

void sim_teardown(struct sys *s)
{
	if (s->switched) { /* back to the adapter's own domain, so it can tear itself down */
		dmar_device *lead = dmar_adapter_device(s->ad, 0);

		(void)dmar_device_begin_exclusive(lead);
		(void)dmar_device_switch_domain(lead, dmar_adapter_domain(s->ad));
		(void)dmar_device_end_exclusive(lead);
	}
	dmar_gen_destroy(s->gen);
	if (s->dom_b)
		(void)dmar_domain_destroy(s->dom_b);
	dmar_adapter_destroy(s->ad);
	for (unsigned i = 0; i < MAX_PROCS; i++)
		dmar_pgtable_destroy(s->proc[i].cpu_pt);
	dmar_iommu_destroy(s->iommu);
	dmar_physmem_destroy(s->pm);
}

uint64_t sim_sum_faults(const uint64_t *f)
{
	uint64_t t = 0;

	for (int i = 1; i < DMAR_FAULT_COUNT; i++)
		t += f[i];
	return t;
}

void sim_drain_faults(struct sys *s)
{
	dmar_fault_record rec[512];
	size_t n;

	while ((n = dmar_faultq_drain(dmar_iommu_faults(s->iommu), rec, 512)) > 0)
		for (size_t i = 0; i < n; i++)
			s->fault_records[rec[i].reason < DMAR_FAULT_COUNT ? rec[i].reason : 0]++;
}
