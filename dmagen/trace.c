/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Trace files: the format is documented in include/dmar/dmagen.h. */
#include "rcu.h"

#include <endian.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <dmar/dmagen.h>

#define MAGIC "DMARTRC1"
#define VERSION 1
#define HDR 64
#define MAX_SCENARIO (1u << 20)
#define MAX_RECORD 65535

_Static_assert(sizeof(dmar_gen_req) == 32, "the trace stores requests as 32-byte records");

struct dmar_trace {
	FILE *f;
	int writing;
	int pending;        /* a reader: rec holds a record header read but not yet taken */
	uint8_t rec[8];
	pthread_mutex_t lock;
	uint64_t seed;
	bool data;
	char *scenario;
};

static void put32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, 4);
}

static void put64(uint8_t *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, 8);
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return le32toh(v);
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return le64toh(v);
}

/* A request in its 32 on-disk bytes (explicit, so the file does not depend on the host). */
static void req_put(uint8_t *p, const dmar_gen_req *q)
{
	memset(p, 0, 32);
	put64(p, q->addr);
	put64(p + 8, q->offset);
	put32(p + 16, q->pasid);
	p[20] = (uint8_t)q->len;
	p[21] = (uint8_t)(q->len >> 8);
	p[22] = q->access;
	p[23] = q->bad;
	p[24] = (uint8_t)q->region;
	p[25] = (uint8_t)(q->region >> 8);
	p[26] = q->engine;
	p[27] = q->flags;
	p[28] = q->expect;
}

/* Whether @n bytes at @p are all zero (the format's reserved bytes). */
static int all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

/* A stored request whose reserved bytes (29-31) and unknown flag bits are zero. */
static int req_ok_stored(const uint8_t *p)
{
	return !(p[27] & ~(unsigned)DMAR_GEN_COPY_SRC) && all_zero(p + 29, 3);
}

static void req_get(const uint8_t *p, dmar_gen_req *q)
{
	memset(q, 0, sizeof(*q));
	q->addr = get64(p);
	q->offset = get64(p + 8);
	q->pasid = get32(p + 16);
	q->len = (uint16_t)(p[20] | p[21] << 8);
	q->access = p[22];
	q->bad = p[23];
	q->region = (uint16_t)(p[24] | p[25] << 8);
	q->engine = p[26];
	q->flags = p[27];
	q->expect = p[28];
}

static dmar_trace *trace_new(FILE *f, int writing)
{
	dmar_trace *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->f = f;
	t->writing = writing;
	pthread_mutex_init(&t->lock, NULL);
	return t;
}

dmar_status dmar_trace_create(const char *path, uint64_t seed, bool data, const char *scenario,
			      dmar_trace **out)
{
	uint8_t h[HDR] = { 0 };
	size_t slen = scenario ? strlen(scenario) : 0;
	FILE *f;

	if (!path || !out || slen > MAX_SCENARIO)
		return DMAR_E_INVALID;
	f = fopen(path, "wb");
	if (!f)
		return DMAR_E_NOT_FOUND;
	memcpy(h, MAGIC, 8);
	put32(h + 8, VERSION);
	put32(h + 12, HDR);
	put64(h + 16, seed);
	put32(h + 24, (uint32_t)slen);
	put32(h + 28, data ? 1 : 0);
	/* (flushed, so that a file that cannot be written is refused here) */
	if (fwrite(h, HDR, 1, f) != 1 || (slen && fwrite(scenario, slen, 1, f) != 1) ||
	    fflush(f) != 0) {
		fclose(f);
		return DMAR_E_NOMEM;
	}
	*out = trace_new(f, 1);
	if (!*out) {
		fclose(f);
		return DMAR_E_NOMEM;
	}
	return DMAR_OK;
}

dmar_status dmar_trace_open(const char *path, dmar_trace **out)
{
	uint8_t h[HDR];
	uint32_t slen;
	dmar_trace *t;
	FILE *f;

	if (!path || !out)
		return DMAR_E_INVALID;
	f = fopen(path, "rb");
	if (!f)
		return DMAR_E_NOT_FOUND;
	/* (the flags past bit 0 and the 32 reserved bytes are zero in every trace written) */
	if (fread(h, HDR, 1, f) != 1 || memcmp(h, MAGIC, 8) != 0 || get32(h + 8) != VERSION ||
	    get32(h + 12) != HDR || (slen = get32(h + 24)) > MAX_SCENARIO ||
	    (get32(h + 28) & ~1u) || !all_zero(h + 32, HDR - 32)) {
		fclose(f);
		return DMAR_E_INVALID;
	}
	t = trace_new(f, 0);
	if (!t || !(t->scenario = calloc(1, (size_t)slen + 1))) {
		free(t);
		fclose(f);
		return DMAR_E_NOMEM;
	}
	/* the scenario is text: a NUL byte would cut it short unseen, so the header is damaged */
	if (slen && (fread(t->scenario, slen, 1, f) != 1 || memchr(t->scenario, 0, slen))) {
		dmar_trace_close(t);
		return DMAR_E_INVALID;
	}
	t->seed = get64(h + 16);
	t->data = get32(h + 28) & 1;
	*out = t;
	return DMAR_OK;
}

void dmar_trace_header(const dmar_trace *t, uint64_t *seed, bool *data, const char **scenario)
{
	if (seed)
		*seed = t ? t->seed : 0;
	if (data)
		*data = t ? t->data : false;
	if (scenario)
		*scenario = t ? (t->scenario ? t->scenario : "") : NULL;
}

static int type_ok(unsigned type)
{
	return type >= DMAR_TRACE_REQUESTS && type <= DMAR_TRACE_INVALIDATE;
}

/* The request count a record of @type must have (requests: any, @n). */
static size_t count_of(unsigned type, size_t n)
{
	return type == DMAR_TRACE_REQUESTS ? n : type == DMAR_TRACE_INVALIDATE ? 1 : 0;
}

dmar_status dmar_trace_write(dmar_trace *t, unsigned type, unsigned engine, const dmar_gen_req *req,
			     size_t n)
{
	uint8_t rec[8], buf[32 * 64];
	dmar_status st = DMAR_OK;

	if (!t || !t->writing || !type_ok(type) || engine > 255 || n > MAX_RECORD ||
	    n != count_of(type, n) || (n && !req))
		return DMAR_E_INVALID;
	rec[0] = (uint8_t)type;
	rec[1] = (uint8_t)engine;
	rec[2] = (uint8_t)n;
	rec[3] = (uint8_t)(n >> 8);
	put32(rec + 4, 0);
	dmar__lock(&t->lock); /* (offline while it waits, as every library lock) */
	if (fwrite(rec, 8, 1, t->f) != 1)
		st = DMAR_E_NOMEM;
	for (size_t i = 0; i < n && st == DMAR_OK; i += 64) {
		size_t m = n - i < 64 ? n - i : 64;

		for (size_t k = 0; k < m; k++)
			req_put(buf + 32 * k, &req[i + k]);
		if (fwrite(buf, 32, m, t->f) != m)
			st = DMAR_E_NOMEM;
	}
	dmar__unlock(&t->lock);
	return st;
}

dmar_status dmar_trace_read(dmar_trace *t, unsigned *type, unsigned *engine, dmar_gen_req *req,
			    size_t max, size_t *n)
{
	uint8_t buf[32];
	unsigned ty;
	size_t cnt;

	if (!t || t->writing || !type || !engine || !n || (!req && max))
		return DMAR_E_INVALID;
	if (!t->pending) {
		const size_t got = fread(t->rec, 1, 8, t->f);

		if (got == 0)
			return DMAR_E_RANGE;
		if (got != 8)
			return DMAR_E_INVALID; /* a record header cut short */
		t->pending = 1;
	}
	ty = t->rec[0];
	cnt = (size_t)t->rec[2] | (size_t)t->rec[3] << 8;
	if (!type_ok(ty) || cnt != count_of(ty, cnt) || !all_zero(t->rec + 4, 4))
		return DMAR_E_INVALID;
	if (cnt > max)
		return DMAR_E_INVALID; /* kept for a call with room for it: nothing read */
	t->pending = 0;
	for (size_t i = 0; i < cnt; i++) {
		if (fread(buf, 32, 1, t->f) != 1 || !req_ok_stored(buf))
			return DMAR_E_INVALID;
		req_get(buf, &req[i]);
	}
	*type = ty;
	*engine = t->rec[1];
	*n = cnt;
	return DMAR_OK;
}

dmar_status dmar_trace_close(dmar_trace *t)
{
	dmar_status st = DMAR_OK;

	if (!t)
		return DMAR_OK;
	if (t->writing && dmar_trace_write(t, DMAR_TRACE_END, 0, NULL, 0) != DMAR_OK)
		st = DMAR_E_NOMEM;
	if (fclose(t->f) != 0)
		st = DMAR_E_NOMEM;
	pthread_mutex_destroy(&t->lock);
	free(t->scenario);
	free(t);
	return st;
}
