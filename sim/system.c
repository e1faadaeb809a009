/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The simulated system, built from a scenario (system.h). */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
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

/* ---- the scenario's fields ------------------------------------------------------------ */

#define MAX_BATCHES 1000000000ull /* per engine: hours of traffic at any rate seen */
#define MAX_SECONDS 86400.0

#define MEMBER_SIZE(m) sizeof(((struct scenario *)0)->m)
#define UINT_FIELD(g, k, opt, m, lo_, hi_)                                                \
	{ .group = g, .key = k, .option = opt, .type = SIM_UINT,                          \
	  .offset = offsetof(struct scenario, m), .size = MEMBER_SIZE(m), .min = lo_, .max = hi_ }
#define DOUBLE_FIELD(g, k, opt, m, lo_, hi_, open_)                                       \
	{ .group = g, .key = k, .option = opt, .type = SIM_DOUBLE,                        \
	  .offset = offsetof(struct scenario, m), .size = MEMBER_SIZE(m), .lo = lo_, .hi = hi_, \
	  .lo_open = open_ }
#define BOOL_FIELD(g, k, m)                                                               \
	{ .group = g, .key = k, .type = SIM_BOOL, .offset = offsetof(struct scenario, m),  \
	  .size = MEMBER_SIZE(m) }
#define ENGINES_FIELD(kind)                                                               \
	UINT_FIELD("engines", NULL, NULL, n[kind], 0, MAX_ENGINES)

/* In the order of a scenario file.  The engine counts' keys are sim_kind_key's. */
const struct sim_field sim_fields[] = {
	DOUBLE_FIELD("run", "seconds", "seconds", seconds, 0, MAX_SECONDS, true),
	UINT_FIELD("run", "batches", "batches", batches, 0, MAX_BATCHES),
	UINT_FIELD("run", "seed", "seed", seed, 0, UINT64_MAX),
	UINT_FIELD("run", "threads", "threads", threads, 1, SIM_MAX_THREADS),
	UINT_FIELD("run", "batch", "batch", batch, 2, 4096),
	UINT_FIELD("run", "bad_ppm", "bad-ppm", bad_ppm, 0, 1000000),
	BOOL_FIELD("run", "data", data),
	BOOL_FIELD("run", "domain_switch", do_switch),
	UINT_FIELD("system", "gpus", "gpus", gpus, 1, DMAR_MAX_LINKED),
	UINT_FIELD("system", "dma_bits", "dma-bits", dma_bits, 32, 64),
	UINT_FIELD("system", "processes", "processes", processes, 0, MAX_PROCS),
	UINT_FIELD("system", "region_mib", "region-mib", region_mib, 1, 4096),
	DOUBLE_FIELD("engines", "zipf", "zipf", zipf, 0, 4, false),
	ENGINES_FIELD(DMAR_GEN_COPY),
	ENGINES_FIELD(DMAR_GEN_3D),
	ENGINES_FIELD(DMAR_GEN_COMPUTE),
	/* one primary surface, scanned out by one display engine */
	UINT_FIELD("engines", NULL, NULL, n[DMAR_GEN_DISPLAY], 0, 1),
	ENGINES_FIELD(DMAR_GEN_COMMAND),
};
const size_t sim_nfields = sizeof(sim_fields) / sizeof(sim_fields[0]);

_Static_assert(sizeof(unsigned) == sizeof(uint32_t), "SIM_UINT fields are 4 or 8 bytes");
_Static_assert(DMAR_GEN_KIND_COUNT == 5, "one ENGINES_FIELD per kind");

static const char *field_key(const struct sim_field *f)
{
	return f->key ? f->key : sim_kind_key[(f->offset - offsetof(struct scenario, n)) /
					      sizeof(unsigned)];
}

const struct sim_field *sim_field_find(const char *group, const char *key)
{
	for (size_t i = 0; i < sim_nfields; i++)
		if (!strcmp(sim_fields[i].group, group) && !strcmp(field_key(&sim_fields[i]), key))
			return &sim_fields[i];
	return NULL;
}

static uint64_t get_uint(const struct scenario *s, const struct sim_field *f)
{
	const char *p = (const char *)s + f->offset;
	uint32_t v32;
	uint64_t v64;

	if (f->size == 4) {
		memcpy(&v32, p, 4);
		return v32;
	}
	memcpy(&v64, p, 8);
	return v64;
}

static double get_double(const struct scenario *s, const struct sim_field *f)
{
	double d;

	memcpy(&d, (const char *)s + f->offset, sizeof(d));
	return d;
}

static bool get_bool(const struct scenario *s, const struct sim_field *f)
{
	bool b;

	memcpy(&b, (const char *)s + f->offset, sizeof(b));
	return b;
}

/* Decimal digits only (no sign, no space, no base prefix): 1 with *v, 0 for anything else,
 * -1 when the digits do not fit in 64 bits. */
static int parse_uint(const char *t, uint64_t *v)
{
	uint64_t x = 0;

	if (!*t)
		return 0;
	for (; *t; t++) {
		unsigned d;

		if (*t < '0' || *t > '9')
			return 0;
		d = (unsigned)(*t - '0');
		if (x > (UINT64_MAX - d) / 10)
			return -1;
		x = x * 10 + d;
	}
	*v = x;
	return 1;
}

/* Plain decimal only: digits, at most one point, digits, at least one digit in all (no sign,
 * space, exponent, hex float, NaN or infinity): 1 with *v, 0 for anything else, -1 when it
 * does not fit in a double.  A value too small for a double is taken as what it rounds to (a
 * denormal, or 0); *nonzero tells whether any digit was not 0, for the caller to refuse a
 * value that became 0 where 0 is out of range. */
static int parse_double(const char *t, double *v, bool *nonzero)
{
	unsigned digits = 0, points = 0;
	double d;

	*nonzero = false;
	for (const char *p = t; *p; p++) {
		if (*p == '.') {
			if (++points > 1)
				return 0;
		} else if (*p >= '0' && *p <= '9') {
			digits++;
			*nonzero |= *p != '0';
		} else {
			return 0;
		}
	}
	if (!digits)
		return 0;
	/* digits and a point are read the same by every strtod; underflow is not an error
	 * here (ERANGE for a denormal is left aside), overflow is */
	d = g_ascii_strtod(t, NULL);
	if (!isfinite(d))
		return -1;
	*v = d;
	return 1;
}

static bool uint_in_range(const struct sim_field *f, uint64_t u)
{
	return u >= f->min && u <= f->max;
}

/* false for NaN too */
static bool double_in_range(const struct sim_field *f, double d)
{
	return (f->lo_open ? d > f->lo : d >= f->lo) && d <= f->hi;
}

/* What the field takes, for messages ("an integer in 1..64"). */
static void field_want(const struct sim_field *f, char *buf, size_t len)
{
	if (f->type == SIM_UINT)
		snprintf(buf, len, "an integer in %" PRIu64 "..%" PRIu64, f->min, f->max);
	else if (f->type == SIM_DOUBLE)
		snprintf(buf, len, "a number in %s%g, %g]", f->lo_open ? "(" : "[", f->lo, f->hi);
	else
		snprintf(buf, len, "true, false, 1 or 0");
}

static int field_refuse(const struct sim_field *f, const char *text, const char *where,
			const char *why)
{
	char want[64];
	gchar *shown = g_strndup(text, 40), *esc = g_strescape(shown, NULL);

	field_want(f, want, sizeof(want));
	fprintf(stderr, "%s: %s: '%s'%s %s (want %s)\n", sim_prog, where, esc,
		strlen(text) > 40 ? "..." : "", why, want);
	g_free(esc);
	g_free(shown);
	return -1;
}

int sim_field_set(struct scenario *s, const struct sim_field *f, const char *text,
		  const char *where)
{
	char *p = (char *)s + f->offset;
	uint64_t u;
	double d;
	bool b;
	int ok;

	switch (f->type) {
	case SIM_UINT:
		ok = parse_uint(text, &u);
		if (ok == 0)
			return field_refuse(f, text, where, "is not an integer");
		if (ok < 0 || !uint_in_range(f, u))
			return field_refuse(f, text, where, "is out of range");
		if (f->size == 4) {
			uint32_t v32 = (uint32_t)u;

			memcpy(p, &v32, 4);
		} else {
			memcpy(p, &u, 8);
		}
		return 0;
	case SIM_DOUBLE:
		ok = parse_double(text, &d, &b);
		if (ok == 0)
			return field_refuse(f, text, where, "is not a plain decimal number");
		if (ok > 0 && d == 0 && b && !double_in_range(f, d))
			return field_refuse(f, text, where, "is too small for a double (rounds to 0)");
		if (ok < 0 || !double_in_range(f, d))
			return field_refuse(f, text, where, "is out of range");
		memcpy(p, &d, sizeof(d));
		return 0;
	case SIM_BOOL:
		if (!strcmp(text, "true") || !strcmp(text, "1"))
			b = true;
		else if (!strcmp(text, "false") || !strcmp(text, "0"))
			b = false;
		else
			return field_refuse(f, text, where, "is not a boolean");
		memcpy(p, &b, sizeof(b));
		return 0;
	}
	return -1;
}

/* ---- the scenario ---------------------------------------------------------------------- */

/* @d (finite, not negative) as plain decimal, the fewest digits after the point that read
 * back as @d: what parse_double() takes (g_key_file_set_double() may write an exponent). */
static void plain_decimal(char *buf, size_t len, double d)
{
	for (int prec = 0; prec <= 1100; prec++) {
		char fmt[16];

		snprintf(fmt, sizeof(fmt), "%%.%df", prec);
		g_ascii_formatd(buf, (int)len, fmt, d);
		if (g_ascii_strtod(buf, NULL) == d)
			return;
	}
}

/* The scenario as a key file: what --scenario reads and what a trace header stores. */
GKeyFile *sim_scenario_keyfile(const struct scenario *s)
{
	GKeyFile *k = g_key_file_new();

	for (size_t i = 0; i < sim_nfields; i++) {
		const struct sim_field *f = &sim_fields[i];

		char num[1500]; /* 86400 with the 1074 digits of the smallest denormal */

		if (f->type == SIM_UINT) {
			g_key_file_set_uint64(k, f->group, field_key(f), get_uint(s, f));
		} else if (f->type == SIM_DOUBLE) {
			plain_decimal(num, sizeof(num), get_double(s, f));
			g_key_file_set_value(k, f->group, field_key(f), num);
		} else {
			g_key_file_set_boolean(k, f->group, field_key(f), get_bool(s, f));
		}
	}
	return k;
}

/* The line (from 1) of the last "key = ..." in a [group] section of the key file's text, or
 * of the last [group] header when key is NULL; 0 when there is none.  GKeyFile keeps the last
 * of repeated keys and merges repeated groups, and so does this. */
static unsigned key_line(const char *text, size_t len, const char *group, const char *key)
{
	const char *p = text, *end = text + len;
	unsigned line = 0, found = 0;
	int in = 0;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p)), *q = p, *e;

		eol = eol ? eol : end;
		line++;
		while (q < eol && g_ascii_isspace(*q))
			q++;
		if (q < eol && *q == '[') {
			for (e = eol; e > q && e[-1] != ']'; e--)
				;
			in = e > q + 1 && (size_t)(e - 1 - (q + 1)) == strlen(group) &&
			     !memcmp(q + 1, group, strlen(group));
			if (in && !key)
				found = line;
		} else if (in && key && q < eol && *q != '#') {
			const char *eq = memchr(q, '=', (size_t)(eol - q));

			for (e = eq; e && e > q && g_ascii_isspace(e[-1]); e--)
				;
			if (e && (size_t)(e - q) == strlen(key) && !memcmp(q, key, strlen(key)))
				found = line;
		}
		p = eol + 1;
	}
	return found;
}

/* "<what>:<line>: [group] key", the line where the text tells it. */
static gchar *where_in(const char *what, const char *text, size_t len, const char *group,
		       const char *key)
{
	unsigned line = text ? key_line(text, len, group, key) : 0;
	gchar *at = line ? g_strdup_printf("%s:%u", what, line) : g_strdup(what);
	gchar *w = key ? g_strdup_printf("%s: [%s] %s", at, group, key)
		       : g_strdup_printf("%s: [%s]", at, group);

	g_free(at);
	return w;
}

static int apply(struct scenario *s, GKeyFile *k, const char *what, const char *text, size_t len)
{
	gchar **groups = g_key_file_get_groups(k, NULL);
	int rc = 0;

	for (gchar **g = groups; *g && !rc; g++) {
		gchar **keys = g_key_file_get_keys(k, *g, NULL, NULL);

		if (strcmp(*g, "run") && strcmp(*g, "system") && strcmp(*g, "engines")) {
			gchar *where = where_in(what, text, len, *g, NULL);

			fprintf(stderr, "%s: %s: unknown group (run, system, engines)\n", sim_prog,
				where);
			g_free(where);
			rc = -1;
		}
		for (gchar **key = keys; keys && *key && !rc; key++) {
			const struct sim_field *f = sim_field_find(*g, *key);
			gchar *where = where_in(what, text, len, *g, *key);
			gchar *v = f ? g_key_file_get_value(k, *g, *key, NULL) : NULL;

			if (!f)
				fprintf(stderr, "%s: %s: unknown key%s\n", sim_prog, where,
					strchr(*key, '[') ? " (a localized key: the scenario has "
					"none)" : "");
			/* GKeyFile drops the blanks after '=', not those ending the line */
			rc = v ? sim_field_set(s, f, g_strchomp(v), where) : -1;
			g_free(v);
			g_free(where);
		}
		g_strfreev(keys);
	}
	g_strfreev(groups);
	return rc;
}

int sim_scenario_apply(struct scenario *s, GKeyFile *k, const char *what)
{
	return apply(s, k, what, NULL, 0);
}

/* The line (from 1) of the key file's text that GKeyFile refuses, 0 when not found: its
 * errors are each about one line and its message has no line number, so the shortest
 * prefix of whole lines that does not load ends with it (found by bisection). */
static unsigned error_line(const char *text, size_t len)
{
	unsigned lo = 1, hi = 0;

	for (size_t i = 0; i < len; i++)
		hi += text[i] == '\n';
	hi += len && text[len - 1] != '\n'; /* the last line, without its newline */
	if (!hi)
		return 0;
	while (lo < hi) { /* the first `hi` lines fail to load, the first `lo - 1` load */
		unsigned mid = lo + (hi - lo) / 2, nl = 0;
		size_t cut = 0;
		GKeyFile *k = g_key_file_new();
		bool ok;

		while (cut < len && nl < mid)
			nl += text[cut++] == '\n';
		ok = g_key_file_load_from_data(k, text, cut, G_KEY_FILE_KEEP_TRANSLATIONS, NULL);
		g_key_file_free(k);
		if (ok)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int sim_scenario_load(struct scenario *s, const char *text, size_t len, const char *what)
{
	GKeyFile *k;
	GError *err = NULL;
	int rc;

	if (memchr(text, 0, len)) {
		fprintf(stderr, "%s: %s: holds a NUL byte, not a scenario\n", sim_prog, what);
		return -1;
	}
	k = g_key_file_new();
	/* translations kept, so that a localized key (key[de] = ...) is seen, and refused as
	 * unknown, whatever the locale: GKeyFile would drop those of other locales unseen */
	if (!g_key_file_load_from_data(k, text, len, G_KEY_FILE_KEEP_TRANSLATIONS, &err)) {
		unsigned line = error_line(text, len);
		gchar *at = line ? g_strdup_printf("%s:%u", what, line) : g_strdup(what);

		fprintf(stderr, "%s: %s: %s\n", sim_prog, at, err->message);
		g_free(at);
		g_error_free(err);
		g_key_file_free(k);
		return -1;
	}
	rc = apply(s, k, what, text, len);
	g_key_file_free(k);
	return rc;
}

uint64_t sim_scenario_engines(const struct scenario *s)
{
	uint64_t engines = s->processes;

	for (int i = 0; i < DMAR_GEN_KIND_COUNT; i++)
		engines += s->n[i];
	return engines;
}

int sim_scenario_check_from(const struct scenario *s, const char *what)
{
	uint64_t engines = sim_scenario_engines(s);

	what = what ? what : "scenario";
	for (size_t i = 0; i < sim_nfields; i++) {
		const struct sim_field *f = &sim_fields[i];
		uint64_t u = f->type == SIM_UINT ? get_uint(s, f) : 0;
		double d = f->type == SIM_DOUBLE ? get_double(s, f) : 0;

		if ((f->type == SIM_UINT && !uint_in_range(f, u)) ||
		    (f->type == SIM_DOUBLE && !double_in_range(f, d))) {
			char want[64];

			field_want(f, want, sizeof(want));
			fprintf(stderr, "%s: %s: [%s] %s is out of range (want %s)\n", sim_prog,
				what, f->group, field_key(f), want);
			return -1;
		}
	}
	if (engines < 1 || engines > MAX_ENGINES) {
		fprintf(stderr, "%s: %s: %" PRIu64 " engines, [system] processes and the [engines] "
			"counts together (want 1..%d)\n", sim_prog, what, engines, MAX_ENGINES);
		return -1;
	}
	return 0;
}

int sim_scenario_check(const struct scenario *s)
{
	return sim_scenario_check_from(s, NULL);
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
	/* the working set, the output and the guard each in a window of 1 GiB, or of the
	 * region's size when that is larger, so the three never meet */
	const uint64_t va_ws = 0x10000000ull, span = bytes > GiB ? bytes : GiB;
	const uint64_t va_out = va_ws + span, va_guard = va_out + span;
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
	if (s->neng >= s->cap_eng) /* more than the scenario's counts */
		return sim_fail(dmar_gen_kind_str(k), DMAR_E_INVALID);
	TRY(dmar_gen_kind_str(k), dmar_gen_add_engine(s->gen, &e, &id));
	if (id != s->neng)
		return sim_fail(dmar_gen_kind_str(k), DMAR_E_INVALID);
	s->eng[id].kind = k;
	s->eng[id].path = path;
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

	if (sim_scenario_check(&s->sc))
		return -1;
	s->cap_eng = (unsigned)sim_scenario_engines(&s->sc);
	s->eng = calloc(s->cap_eng, sizeof(*s->eng));
	if (!s->eng)
		return sim_fail("engines", DMAR_E_NOMEM);
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
	free(s->eng);
	s->eng = NULL;
	s->neng = s->cap_eng = 0;
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
