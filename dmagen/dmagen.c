/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Synthetic GPU DMA traffic (S32): engines, injected faults, data mode, checks. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <dmar/dmagen.h>
#include <dmar/thread.h>

#include "range.h"

#define PAGE 4096ull
#define EXEC_CHUNK 256
#define ZIPF_BUCKETS 4096

struct region {
	dmar_gen_region r;
	char *name;
	dmar_pa_t *pages;
	uint64_t written; /* prefix written so far (its one writer stores it) */
};

struct engine {
	dmar_gen_engine e;
	uint64_t rng, pos, step;
	double *zipf_cdf;   /* COMPUTE with zipf_s > 0: ZIPF_BUCKETS cumulative weights */
	uint32_t *zorder;   /* 3D: tile indices in Z order */
	uint64_t ntiles;
	uint8_t copy[4096]; /* a copy engine's last read */
	unsigned copy_len;
	int copy_ok;
};

struct dmar_gen {
	dmar_gen_config cfg;
	struct region *reg;
	unsigned nreg, capreg;
	struct engine *eng;
	unsigned neng, capeng;
};

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

/* The pattern, eight bytes at a time. */
static inline uint64_t pattern_word(uint64_t seed, uint64_t word)
{
	return mix64(seed ^ (word * 0x9e3779b97f4a7c15ull));
}

uint64_t dmar_gen_region_pattern(const dmar_gen *g, unsigned region)
{
	return g && region < g->nreg ? g->reg[region].r.pattern : 0;
}

uint8_t dmar_gen_pattern(uint64_t seed, uint64_t offset)
{
	return (uint8_t)(pattern_word(seed, offset >> 3) >> ((offset & 7) * 8));
}

static void pattern_fill(uint64_t seed, uint64_t offset, uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = dmar_gen_pattern(seed, offset + i);
}

/* Bytes of buf that differ from the pattern (or from zero when !seeded). */
static uint64_t pattern_diff(uint64_t seed, int seeded, uint64_t offset, const uint8_t *buf, size_t len)
{
	uint64_t bad = 0;
	size_t i = 0;

	for (; i < len && ((offset + i) & 7); i++)
		bad += buf[i] != (seeded ? dmar_gen_pattern(seed, offset + i) : 0);
	for (; i + 8 <= len; i += 8) {
		uint64_t want = seeded ? pattern_word(seed, (offset + i) >> 3) : 0, got;

		memcpy(&got, buf + i, 8);
		if (got != want)
			for (unsigned k = 0; k < 8; k++)
				bad += (uint8_t)(got >> (k * 8)) != (uint8_t)(want >> (k * 8));
	}
	for (; i < len; i++)
		bad += buf[i] != (seeded ? dmar_gen_pattern(seed, offset + i) : 0);
	return bad;
}

void dmar_gen_config_default(dmar_gen_config *cfg)
{
	if (!cfg)
		return;
	memset(cfg, 0, sizeof(*cfg));
	cfg->seed = 1;
	cfg->data = true;
}

dmar_status dmar_gen_create(const dmar_gen_config *cfg, dmar_gen **out)
{
	dmar_gen *g;

	if (!cfg || !cfg->pm || !out)
		return DMAR_E_INVALID;
	g = calloc(1, sizeof(*g));
	if (!g)
		return DMAR_E_NOMEM;
	g->cfg = *cfg;
	*out = g;
	return DMAR_OK;
}

void dmar_gen_destroy(dmar_gen *g)
{
	if (!g)
		return;
	for (unsigned i = 0; i < g->nreg; i++) {
		free(g->reg[i].name);
		free(g->reg[i].pages);
	}
	for (unsigned i = 0; i < g->neng; i++) {
		free(g->eng[i].zipf_cdf);
		free(g->eng[i].zorder);
	}
	free(g->reg);
	free(g->eng);
	free(g);
}

/* Whether the region's addresses are sound: it may end exactly at 2^64 but not run past it,
 * and the injected "unmapped" reads at guard + [0, PAGE) (S7) neither wrap nor land in the
 * region itself, where they would be mapped. */
static int region_ranges_ok(const dmar_gen_region *r)
{
	uint64_t last, guard_last;

	if (!dmar__range_last(r->base, r->size, &last))
		return 0;
	if (!r->guard)
		return 1;
	return dmar__range_last(r->guard, PAGE, &guard_last) &&
	       !dmar__ranges_meet(r->guard, guard_last, r->base, last);
}

dmar_status dmar_gen_add_region(dmar_gen *g, const dmar_gen_region *r, unsigned *id)
{
	struct region *nr;

	if (!g || !r || !id || !r->pages || r->size == 0 || r->size % PAGE || r->base % PAGE ||
	    (unsigned)r->path >= DMAR_GEN_PATH_COUNT || g->nreg >= 0xffff ||
	    (r->path == DMAR_GEN_APERTURE ? !r->ad : !r->dev) ||
	    (r->path != DMAR_GEN_APERTURE && (r->dma_bits < 32 || r->dma_bits > 64)) ||
	    !region_ranges_ok(r))
		return DMAR_E_INVALID;
	if (g->nreg == g->capreg) {
		unsigned cap = g->capreg ? g->capreg * 2 : 8;
		struct region *n = realloc(g->reg, cap * sizeof(*n));

		if (!n)
			return DMAR_E_NOMEM;
		g->reg = n;
		g->capreg = cap;
	}
	nr = &g->reg[g->nreg];
	memset(nr, 0, sizeof(*nr));
	nr->r = *r;
	nr->name = strdup(r->name ? r->name : "region");
	nr->pages = malloc(r->size / PAGE * sizeof(*nr->pages));
	if (!nr->name || !nr->pages) {
		free(nr->name);
		free(nr->pages);
		return DMAR_E_NOMEM;
	}
	memcpy(nr->pages, r->pages, r->size / PAGE * sizeof(*nr->pages));
	nr->r.name = nr->name;
	nr->r.pages = nr->pages;
	*id = g->nreg++;
	return DMAR_OK;
}

static int make_zorder(struct engine *en, uint64_t size);

static unsigned default_burst(dmar_gen_kind k)
{
	static const unsigned b[DMAR_GEN_KIND_COUNT] = {
		[DMAR_GEN_COPY] = 4096, [DMAR_GEN_3D] = 256, [DMAR_GEN_COMPUTE] = 64,
		[DMAR_GEN_DISPLAY] = 4096, [DMAR_GEN_COMMAND] = 64,
	};
	return b[k];
}

static int same_issuer(const dmar_gen_region *a, const dmar_gen_region *b)
{
	return a->path == b->path && a->dev == b->dev && a->ad == b->ad;
}

dmar_status dmar_gen_add_engine(dmar_gen *g, const dmar_gen_engine *e, unsigned *id)
{
	struct engine *ne;
	int writes;

	if (!g || !e || !id || (unsigned)e->kind >= DMAR_GEN_KIND_COUNT || e->src >= g->nreg ||
	    g->neng >= 255 || e->bad_ppm > 1000000 || !(e->zipf_s >= 0 && e->zipf_s <= 4))
		return DMAR_E_INVALID;
	writes = e->kind == DMAR_GEN_COPY || e->kind == DMAR_GEN_3D || e->kind == DMAR_GEN_COMPUTE;
	if (writes && (e->dst >= g->nreg || e->dst == e->src || !g->reg[e->dst].r.writable ||
		       !same_issuer(&g->reg[e->src].r, &g->reg[e->dst].r)))
		return DMAR_E_INVALID;
	if (e->burst && (e->burst < 16 || e->burst > 4096 || (e->burst & (e->burst - 1))))
		return DMAR_E_INVALID;
	if (e->kind == DMAR_GEN_3D &&
	    (e->width % 64 || (e->width ? e->width : 1024) * 4ull * 64 > g->reg[e->src].r.size))
		return DMAR_E_INVALID;
	if (g->neng == g->capeng) {
		unsigned cap = g->capeng ? g->capeng * 2 : 8;
		struct engine *n = realloc(g->eng, cap * sizeof(*n));

		if (!n)
			return DMAR_E_NOMEM;
		g->eng = n;
		g->capeng = cap;
	}
	ne = &g->eng[g->neng];
	memset(ne, 0, sizeof(*ne));
	ne->e = *e;
	if (!ne->e.burst)
		ne->e.burst = default_burst(e->kind);
	if (!ne->e.width)
		ne->e.width = 1024;
	ne->rng = mix64(g->cfg.seed * 0x100000001b3ull + g->neng + 1) | 1;
	if (e->kind == DMAR_GEN_COMPUTE && e->zipf_s > 0) {
		double sum = 0;

		ne->zipf_cdf = malloc(ZIPF_BUCKETS * sizeof(double));
		if (!ne->zipf_cdf)
			return DMAR_E_NOMEM;
		for (unsigned k = 0; k < ZIPF_BUCKETS; k++)
			ne->zipf_cdf[k] = sum += 1.0 / pow(k + 1.0, e->zipf_s);
		for (unsigned k = 0; k < ZIPF_BUCKETS; k++)
			ne->zipf_cdf[k] /= sum;
	}
	if (e->kind == DMAR_GEN_3D && make_zorder(ne, g->reg[e->src].r.size) != 0) {
		free(ne->zipf_cdf);
		return DMAR_E_NOMEM;
	}
	*id = g->neng++;
	return DMAR_OK;
}

dmar_status dmar_gen_fill(dmar_gen *g, unsigned region)
{
	struct region *r;

	if (!g || region >= g->nreg || !g->reg[region].r.cpu || g->reg[region].r.writable)
		return DMAR_E_INVALID;
	r = &g->reg[region];
	for (uint64_t o = 0; o < r->r.size; o += 8) {
		uint64_t w = pattern_word(r->r.pattern, o >> 3);

		memcpy(r->r.cpu + o, &w, 8);
	}
	return DMAR_OK;
}

/* ---- generation ------------------------------------------------------------------------ */

static void good(dmar_gen_req *q, const struct region *r, unsigned ei, uint64_t off, unsigned len,
		 unsigned access, unsigned region)
{
	memset(q, 0, sizeof(*q));
	q->addr = r->r.base + off;
	q->offset = off;
	q->pasid = r->r.path == DMAR_GEN_PASID ? r->r.pasid : DMAR_NO_PASID;
	q->len = (uint16_t)len;
	q->access = (uint8_t)access;
	q->region = (uint16_t)region;
	q->engine = (uint8_t)ei;
	q->expect = DMAR_FAULT_NONE;
}

/* Replace a request by a bad one of a kind this engine's region allows. */
static int bad(dmar_gen_req *q, const struct region *r, struct engine *en, unsigned ei, unsigned region)
{
	dmar_gen_bad kinds[3];
	unsigned n = 0;
	uint64_t x = rnd(&en->rng);

	if (r->r.guard)
		kinds[n++] = DMAR_GEN_BAD_UNMAPPED;
	if (r->r.path != DMAR_GEN_APERTURE && r->r.dma_bits < 64)
		kinds[n++] = DMAR_GEN_BAD_LIMIT;
	if (!r->r.writable)
		kinds[n++] = DMAR_GEN_BAD_READONLY;
	if (!n)
		return 0;
	good(q, r, ei, 0, 8, DMAR_ACCESS_READ, region);
	q->bad = (uint8_t)kinds[x % n];
	switch (q->bad) {
	case DMAR_GEN_BAD_UNMAPPED:
		q->addr = r->r.guard + ((x >> 8) % (PAGE / 8)) * 8;
		q->expect = r->r.path == DMAR_GEN_APERTURE ? DMAR_FAULT_APERTURE : DMAR_FAULT_NOT_PRESENT;
		break;
	case DMAR_GEN_BAD_LIMIT:
		q->addr = (1ull << r->r.dma_bits) + ((x >> 8) % (1ull << 20)) * 8;
		q->expect = DMAR_FAULT_DEVICE_WIDTH;
		break;
	default: /* a write to a page mapped read-only */
		q->offset = ((x >> 8) % (r->r.size / 8)) * 8;
		q->addr = r->r.base + q->offset;
		q->access = DMAR_ACCESS_WRITE;
		q->expect = DMAR_FAULT_WRITE;
		break;
	}
	q->offset = 0;
	return 1;
}

/* 3D: the offset of texel read `step`: tiles of 64x64 pixels of 4 bytes (16 KiB, rows of a
 * tile contiguous, tiles stored row-major) visited in Z order (en->zorder, made when the
 * engine was added), each tile read row by row. */
static uint64_t tiled_offset(const struct engine *en, uint64_t step)
{
	uint64_t per_tile = 64 * 64 * 4 / en->e.burst;

	return (uint64_t)en->zorder[(step / per_tile) % en->ntiles] * 64 * 64 * 4 +
	       (step % per_tile) * en->e.burst;
}

static uint64_t morton(uint32_t x, uint32_t y)
{
	uint64_t z = 0;

	for (unsigned b = 0; b < 32; b++)
		z |= (uint64_t)((x >> b) & 1) << (2 * b) | (uint64_t)((y >> b) & 1) << (2 * b + 1);
	return z;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The tiles of the texture in Z order: sort (morton code << 24 | index). */
static int make_zorder(struct engine *en, uint64_t size)
{
	uint64_t tiles_x = en->e.width / 64, n = size / (64 * 64 * 4) / tiles_x * tiles_x;
	uint64_t *keys = malloc(n * sizeof(*keys));

	en->zorder = malloc(n * sizeof(*en->zorder));
	if (!keys || !en->zorder || n >= (1u << 24)) {
		free(keys);
		return -1;
	}
	for (uint64_t t = 0; t < n; t++)
		keys[t] = morton((uint32_t)(t % tiles_x), (uint32_t)(t / tiles_x)) << 24 | t;
	qsort(keys, n, sizeof(*keys), cmp_u64);
	for (uint64_t t = 0; t < n; t++)
		en->zorder[t] = (uint32_t)(keys[t] & 0xffffff);
	en->ntiles = n;
	free(keys);
	return 0;
}

size_t dmar_gen_next(dmar_gen *g, unsigned ei, dmar_gen_req *req, size_t max)
{
	struct engine *en;
	const struct region *src, *dst = NULL;
	size_t n = 0;

	if (!g || ei >= g->neng || !req)
		return 0;
	en = &g->eng[ei];
	src = &g->reg[en->e.src];
	if (en->e.kind == DMAR_GEN_COPY || en->e.kind == DMAR_GEN_3D || en->e.kind == DMAR_GEN_COMPUTE)
		dst = &g->reg[en->e.dst];
	while (n < max) {
		unsigned b = en->e.burst;
		uint64_t step;

		/* a copy engine's pair is given whole: without room for one, stop before the
		 * engine moves on, so that the stream does not depend on @max */
		if (en->e.kind == DMAR_GEN_COPY && max - n < 2)
			break;
		step = en->step++;

		if (en->e.bad_ppm && rnd(&en->rng) % 1000000 < en->e.bad_ppm &&
		    bad(&req[n], src, en, ei, en->e.src)) {
			n++;
			continue;
		}
		switch (en->e.kind) {
		case DMAR_GEN_COPY: {
			uint64_t span = src->r.size < dst->r.size ? src->r.size : dst->r.size;
			uint64_t off = en->pos % span;

			good(&req[n], src, ei, off, b, DMAR_ACCESS_READ, en->e.src);
			req[n++].flags = DMAR_GEN_COPY_SRC;
			good(&req[n++], dst, ei, off, b, DMAR_ACCESS_WRITE, en->e.dst);
			en->pos += b;
			break;
		}
		case DMAR_GEN_3D:
			if (step % 4 == 3) { /* one render-target write per three texel reads */
				good(&req[n++], dst, ei, en->pos % dst->r.size, b, DMAR_ACCESS_WRITE,
				     en->e.dst);
				en->pos += b;
			} else {
				good(&req[n++], src, ei, tiled_offset(en, step - step / 4),
				     b, DMAR_ACCESS_READ, en->e.src);
			}
			break;
		case DMAR_GEN_COMPUTE:
			if (step % 5 == 4) { /* results out, sequentially */
				good(&req[n++], dst, ei, en->pos % dst->r.size, b, DMAR_ACCESS_WRITE,
				     en->e.dst);
				en->pos += b;
			} else {
				uint64_t pages = src->r.size / PAGE, x = rnd(&en->rng), page;

				if (en->zipf_cdf) { /* rank from the CDF, then scattered over the set */
					double u = (double)(x >> 11) * (1.0 / 9007199254740992.0);
					unsigned lo = 0, hi = ZIPF_BUCKETS - 1;

					while (lo < hi) {
						unsigned mid = (lo + hi) / 2;

						if (en->zipf_cdf[mid] < u)
							lo = mid + 1;
						else
							hi = mid;
					}
					page = ((uint64_t)lo * 2654435761ull +
						(pages > ZIPF_BUCKETS ? rnd(&en->rng) % (pages / ZIPF_BUCKETS) *
						 ZIPF_BUCKETS : 0)) % pages;
				} else {
					page = x % pages;
				}
				good(&req[n++], src, ei,
				     page * PAGE + (rnd(&en->rng) % (PAGE / b)) * b, b,
				     DMAR_ACCESS_READ, en->e.src);
			}
			break;
		case DMAR_GEN_DISPLAY:
		case DMAR_GEN_COMMAND:
			good(&req[n++], src, ei, en->pos % src->r.size, b, DMAR_ACCESS_READ, en->e.src);
			en->pos += b;
			break;
		default:
			return n;
		}
	}
	return n;
}

size_t dmar_gen_peek(dmar_gen *g, unsigned ei, dmar_gen_req *req, size_t max)
{
	struct engine saved;
	size_t n;

	if (!g || ei >= g->neng)
		return 0;
	saved = g->eng[ei];
	n = dmar_gen_next(g, ei, req, max);
	g->eng[ei].rng = saved.rng;
	g->eng[ei].pos = saved.pos;
	g->eng[ei].step = saved.step;
	return n;
}

void dmar_gen_mark_exclusive(dmar_gen_req *req, size_t n)
{
	for (size_t i = 0; req && i < n; i++) {
		req[i].bad = DMAR_GEN_BAD_EXCLUSIVE;
		req[i].expect = DMAR_FAULT_EXCLUSIVE;
		req[i].flags = 0;
	}
}

/* ---- execution --------------------------------------------------------------------------- */

static void data_ops(dmar_gen *g, struct engine *en, struct region *r, const dmar_gen_req *q,
		     dmar_pa_t pa, dmar_gen_counts *c)
{
	uint8_t buf[4096];

	if (q->access & DMAR_ACCESS_WRITE) {
		const uint8_t *src = buf;

		if (en->e.kind == DMAR_GEN_COPY) {
			if (!en->copy_ok || en->copy_len != q->len)
				return; /* its read did not land: nothing to copy */
			src = en->copy;
		} else {
			pattern_fill(r->r.pattern, q->offset, buf, q->len);
		}
		if (dmar_physmem_write(g->cfg.pm, pa, src, q->len) == DMAR_OK) {
			c->bytes_written += q->len;
			if (q->offset + q->len > r->written) /* its only writer */
				__atomic_store_n(&r->written, q->offset + q->len, __ATOMIC_RELAXED);
		}
		en->copy_ok = 0;
		return;
	}
	if (dmar_physmem_read(g->cfg.pm, pa, buf, q->len) != DMAR_OK)
		return;
	c->bytes_read += q->len;
	if (!r->r.writable) { /* its content is known: check what the device read */
		c->corrupt += pattern_diff(r->r.pattern, 1, q->offset, buf, q->len);
		c->bytes_verified += q->len;
	}
	if (q->flags & DMAR_GEN_COPY_SRC) {
		memcpy(en->copy, buf, q->len);
		en->copy_len = q->len;
		en->copy_ok = 1;
	}
}

static int req_ok(const dmar_gen *g, unsigned ei, const dmar_gen_req *q)
{
	const struct region *r;

	if (q->region >= g->nreg || q->engine != ei || q->len == 0 || q->len > 4096 ||
	    q->bad >= DMAR_GEN_BAD_COUNT || q->expect >= DMAR_FAULT_COUNT ||
	    (q->access & ~(uint32_t)DMAR_ACCESS_ALL))
		return 0;
	r = &g->reg[q->region];
	/* a request that must land is checked against the region's pages by its offset, and a
	 * good one is issued at base + offset: both inside the region (which does not wrap) */
	if ((q->bad == DMAR_GEN_GOOD || q->expect == DMAR_FAULT_NONE) &&
	    (q->offset >= r->r.size || q->len > PAGE - (q->offset & (PAGE - 1)) ||
	     q->addr != r->r.base + q->offset))
		return 0;
	return same_issuer(&r->r, &g->reg[g->eng[ei].e.src].r);
}

dmar_status dmar_gen_execute(dmar_gen *g, unsigned ei, const dmar_gen_req *req, size_t n,
			     dmar_gen_counts *c)
{
	dmar_request q[EXEC_CHUNK];
	dmar_result res[EXEC_CHUNK];
	struct engine *en;
	const dmar_gen_region *issuer;

	if (!g || ei >= g->neng || (!req && n) || !c)
		return DMAR_E_INVALID;
	if (!dmar_thread_registered())
		return DMAR_E_THREAD;
	for (size_t i = 0; i < n; i++)
		if (!req_ok(g, ei, &req[i]))
			return DMAR_E_INVALID;
	en = &g->eng[ei];
	issuer = &g->reg[en->e.src].r;
	for (size_t base = 0; base < n; base += EXEC_CHUNK) {
		size_t m = n - base < EXEC_CHUNK ? n - base : EXEC_CHUNK;
		const dmar_gen_req *r = req + base;

		/* The requests and the thread were checked above, so a translation answers or
		 * refuses; the one other outcome is a region whose segment is no aperture
		 * segment of its adapter (fixed when the adapter was made), which every call
		 * refuses, the first one included: the results of a refused call are never
		 * read, and nothing has been counted when it is returned. */
		if (issuer->path == DMAR_GEN_APERTURE) {
			for (size_t i = 0; i < m; i++) {
				const dmar_status st = dmar_aperture_translate(
					issuer->ad, issuer->segment, r[i].addr, r[i].access, &res[i]);

				if (st != DMAR_OK && st != DMAR_E_FAULT)
					return st;
			}
		} else {
			dmar_status st;
			size_t nf;

			for (size_t i = 0; i < m; i++) {
				q[i].iova = r[i].addr;
				q[i].access = r[i].access;
				q[i].pasid = r[i].pasid;
			}
			st = dmar_device_translate_batch(issuer->dev, q, res, m, &nf);
			if (st != DMAR_OK)
				return st;
		}
		for (size_t i = 0; i < m; i++) {
			struct region *rg = &g->reg[r[i].region];
			uint8_t f = res[i].fault;

			c->requests++;
			c->digest = mix64(c->digest ^ res[i].pa ^ ((uint64_t)f << 56));
			if (r[i].bad)
				c->injected[r[i].bad]++;
			if (r[i].expect == DMAR_FAULT_NONE) {
				dmar_pa_t want = rg->pages[r[i].offset / PAGE] + (r[i].offset & (PAGE - 1));

				if (f != DMAR_FAULT_NONE) {
					c->faults_unexpected[f]++;
					if (r[i].flags & DMAR_GEN_COPY_SRC)
						en->copy_ok = 0;
				} else if (res[i].pa != want) {
					c->wrong++;
					en->copy_ok = 0;
				} else {
					c->ok++;
					if (g->cfg.data)
						data_ops(g, en, rg, &r[i], res[i].pa, c);
				}
			} else if (f == r[i].expect) {
				c->faults_expected[f]++;
			} else if (f == DMAR_FAULT_NONE) {
				c->not_refused++; /* an access that should have been refused (S7) */
			} else {
				c->faults_unexpected[f]++;
			}
		}
	}
	return DMAR_OK;
}

void dmar_gen_verify(dmar_gen *g, dmar_gen_counts *c)
{
	if (!g || !c || !g->cfg.data)
		return;
	for (unsigned i = 0; i < g->nreg; i++) {
		const struct region *r = &g->reg[i];
		uint64_t written;

		if (!r->r.cpu)
			continue;
		written = r->r.writable ? __atomic_load_n(&r->written, __ATOMIC_RELAXED) : r->r.size;
		c->corrupt += pattern_diff(r->r.pattern, 1, 0, r->r.cpu, written);
		c->corrupt += pattern_diff(0, 0, written, r->r.cpu + written, r->r.size - written);
		c->bytes_verified += r->r.size;
	}
}

void dmar_gen_counts_add(dmar_gen_counts *a, const dmar_gen_counts *b)
{
	if (!a || !b)
		return;
	a->requests += b->requests;
	a->ok += b->ok;
	a->wrong += b->wrong;
	for (int k = 0; k < DMAR_GEN_BAD_COUNT; k++)
		a->injected[k] += b->injected[k];
	for (int f = 0; f < DMAR_FAULT_COUNT; f++) {
		a->faults_expected[f] += b->faults_expected[f];
		a->faults_unexpected[f] += b->faults_unexpected[f];
	}
	a->not_refused += b->not_refused;
	a->bytes_read += b->bytes_read;
	a->bytes_written += b->bytes_written;
	a->bytes_verified += b->bytes_verified;
	a->corrupt += b->corrupt;
	a->digest += b->digest;
}

const char *dmar_gen_kind_str(dmar_gen_kind k)
{
	static const char *const names[DMAR_GEN_KIND_COUNT] = {
		"copy", "3d", "compute", "display", "command",
	};
	return (unsigned)k < DMAR_GEN_KIND_COUNT ? names[k] : "unknown";
}

const char *dmar_gen_bad_str(dmar_gen_bad b)
{
	static const char *const names[DMAR_GEN_BAD_COUNT] = {
		"good", "unmapped", "beyond-device-limit", "write-to-read-only", "during-exclusive",
	};
	return (unsigned)b < DMAR_GEN_BAD_COUNT ? names[b] : "unknown";
}
