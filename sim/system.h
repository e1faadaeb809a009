/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The simulated system of dmar-sim, built from a scenario: what the main program runs and
 * what bench_replay replays traces on (one place for both).  The scenario is read from and
 * written to GLib key files ([run], [system], [engines]). */
#ifndef SIM_SYSTEM_H
#define SIM_SYSTEM_H

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include <dmar.h>

#define K4 4096ull
#define MiB (1ull << 20)
#define GiB (1ull << 30)
#define TiB (1ull << 40)
#define P DMAR_PASSIVE_LEVEL
#define MAX_ENGINES 64
#define MAX_PROCS 16
#define ROGUE 16 /* requests per engine inside the exclusive window */

struct scenario {
	double seconds;
	uint64_t batches; /* per engine; 0: run for `seconds` */
	uint64_t seed;
	unsigned threads, batch, gpus, dma_bits, processes, region_mib;
	uint32_t bad_ppm;
	bool data, do_switch;
	double zipf;
	unsigned n[DMAR_GEN_KIND_COUNT]; /* engines of each kind on the logical/aperture paths */
};

struct proc {
	dmar_pgtable *cpu_pt;
	dmar_process *p;
	dmar_gpu_context *ctx;
};

struct sys {
	struct scenario sc;
	dmar_physmem *pm;
	dmar_iommu *iommu;
	dmar_adapter *ad;
	dmar_start_decision why;
	dmar_domain *dom_b; /* the domain switched to half-way */
	dmar_gen *gen;
	struct proc proc[MAX_PROCS];
	unsigned neng;
	dmar_gen_counts counts[MAX_ENGINES];
	dmar_gen_kind kind[MAX_ENGINES];
	dmar_gen_path path[MAX_ENGINES];
	dmar_trace *trace_out;
	uint64_t fault_records[DMAR_FAULT_COUNT];
	uint64_t exclusive_refused;
	double switch_at, elapsed;
	int switched;
};

/* The name in error messages ("dmar-sim" unless the program sets another). */
extern const char *sim_prog;
/* The key of each engine kind in scenarios and --engines ("copy", "3d" ...). */
extern const char *const sim_kind_key[DMAR_GEN_KIND_COUNT];

/* Print "<prog>: <what>: <status>" and answer -1. */
int sim_fail(const char *what, dmar_status st);
#define TRY(what, expr)                                                                   \
	do {                                                                              \
		dmar_status st_ = (expr);                                                 \
		if (st_ != DMAR_OK)                                                       \
			return sim_fail(what, st_);                                       \
	} while (0)

void sim_scenario_default(struct scenario *s);
/* The scenario as a key file (g_key_file_free() it). */
GKeyFile *sim_scenario_keyfile(const struct scenario *s);
/* Read what the key file has; keys it lacks keep their values.  0, or -1 with a message. */
int sim_scenario_apply(struct scenario *s, GKeyFile *k, const char *what);
/* 0 when every value is in range, or -1 with a message. */
int sim_scenario_check(const struct scenario *s);

/* Build the system of s->sc (the caller registered its thread): 0, or -1 with a message;
 * either way sim_teardown() undoes what was built.  With sc.do_switch and a remapped start
 * there is a domain B with the same mappings to switch to. */
int sim_build(struct sys *s);
void sim_teardown(struct sys *s);

/* Faults counted by reason, reason 0 left out. */
uint64_t sim_sum_faults(const uint64_t *f);
/* Read the IOMMU's fault queue empty, as the OS would, counting the records by reason in
 * s->fault_records. */
void sim_drain_faults(struct sys *s);

#endif
