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
#define MAX_ENGINES 64 /* engines of a scenario, processes' included */
#define MAX_PROCS 16
#define SIM_MAX_THREADS 64 /* translator threads */
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

/* A scenario's numeric and boolean values, each once: its key in scenario files, its option
 * on the command line and its limits.  Scenario files, the scenario a trace carries and the
 * command line all set values through sim_field_set() and nothing else. */
enum sim_field_type {
	SIM_UINT,   /* decimal digits only, min..max */
	SIM_DOUBLE, /* a finite number without a sign, lo..hi (above lo when lo_open) */
	SIM_BOOL,   /* true, false, 1 or 0 */
};

struct sim_field {
	const char *group;       /* in a scenario file: [group] key = value */
	const char *key;         /* NULL: an engine count n[k], whose key is sim_kind_key[k] */
	const char *option;      /* --option VALUE, or NULL: none (--engines sets the counts) */
	enum sim_field_type type;
	size_t offset, size;     /* of the value in struct scenario */
	uint64_t min, max;       /* SIM_UINT */
	double lo, hi;           /* SIM_DOUBLE */
	bool lo_open;            /* SIM_DOUBLE: lo itself is out of range */
};

extern const struct sim_field sim_fields[];
extern const size_t sim_nfields;

/* The field of [group] key, or NULL. */
const struct sim_field *sim_field_find(const char *group, const char *key);
/* Set @f of @s from @text: 0, or -1 with "<prog>: <where>: '<text>' is not ..." on stderr
 * (@where names the source: an option, or a file, line, group and key). */
int sim_field_set(struct scenario *s, const struct sim_field *f, const char *text,
		  const char *where);

/* Engines of one kind and path, with their counts. */
struct sim_engine {
	dmar_gen_kind kind;
	dmar_gen_path path;
	dmar_gen_counts counts; /* only the thread that drives the engine adds to them */
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
	unsigned neng, cap_eng;
	struct sim_engine *eng; /* as many as the scenario has, made by sim_build() */
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
/* Read what the key file has; keys it lacks keep their values.  An unknown group or key, or
 * a value sim_field_set() refuses, is an error.  0, or -1 with a message naming @what (the
 * file), the group and the key. */
int sim_scenario_apply(struct scenario *s, GKeyFile *k, const char *what);
/* The same from the text of a key file (@len bytes, a NUL byte among them is an error), with
 * the line of a bad value in the message too. */
int sim_scenario_load(struct scenario *s, const char *text, size_t len, const char *what);
/* The engine counts and the processes summed in 64 bits (no count makes the sum wrap): the
 * engines sim_build() makes (the display count is 0 or 1: one primary surface). */
uint64_t sim_scenario_engines(const struct scenario *s);
/* 0 when every value is within its field's limits and there are 1..MAX_ENGINES engines, or
 * -1 with a message naming @what (where the scenario came from; NULL: "scenario"). */
int sim_scenario_check_from(const struct scenario *s, const char *what);
int sim_scenario_check(const struct scenario *s);

/* Build the system of s->sc (the caller registered its thread; a scenario out of range is
 * refused): 0, or -1 with a message; either way sim_teardown() undoes what was built.  With
 * sc.do_switch and a remapped start there is a domain B with the same mappings to switch to. */
int sim_build(struct sys *s);
void sim_teardown(struct sys *s);

/* Faults counted by reason, reason 0 left out. */
uint64_t sim_sum_faults(const uint64_t *f);
/* Read the IOMMU's fault queue empty, as the OS would, counting the records by reason in
 * s->fault_records. */
void sim_drain_faults(struct sys *s);

#endif
