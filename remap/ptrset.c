/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The pointer set of ptrset.h. */
#include "ptrset.h"

#include <stdlib.h>
#include <string.h>

static const char tomb_byte;
#define TOMB ((const void *)&tomb_byte)

static size_t ptr_hash(const void *p, size_t cap)
{
	uint64_t x = (uint64_t)(uintptr_t)p;

	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return (size_t)x & (cap - 1);
}

static int ptrset_grow(struct ptrset *s)
{
	size_t cap = s->cap ? s->cap * 2 : 64;
	const void **keys;
	uint8_t *tags;

	if (s->live * 4 < s->cap) /* mostly tombstones: rehash at the same size */
		cap = s->cap;
	keys = calloc(cap, sizeof(*keys));
	tags = calloc(cap, 1);
	if (!keys || !tags) {
		free(keys);
		free(tags);
		return -1;
	}
	for (size_t i = 0; i < s->cap; i++) {
		size_t h;

		if (!s->keys[i] || s->keys[i] == TOMB)
			continue;
		for (h = ptr_hash(s->keys[i], cap); keys[h]; h = (h + 1) & (cap - 1))
			;
		keys[h] = s->keys[i];
		tags[h] = s->tags[i];
	}
	free(s->keys);
	free(s->tags);
	s->keys = keys;
	s->tags = tags;
	s->cap = cap;
	s->used = s->live;
	return 0;
}

int ptrset_add(struct ptrset *s, const void *p, uint8_t tag)
{
	size_t h;

	if ((s->used + 1) * 4 > s->cap * 3 && ptrset_grow(s) != 0)
		return -1;
	for (h = ptr_hash(p, s->cap); s->keys[h] && s->keys[h] != TOMB; h = (h + 1) & (s->cap - 1))
		;
	if (!s->keys[h])
		s->used++;
	s->keys[h] = p;
	s->tags[h] = tag;
	s->live++;
	return 0;
}

static size_t ptrset_find(const struct ptrset *s, const void *p)
{
	if (!s->cap || !p)
		return SIZE_MAX;
	for (size_t h = ptr_hash(p, s->cap);; h = (h + 1) & (s->cap - 1)) {
		if (!s->keys[h])
			return SIZE_MAX;
		if (s->keys[h] == p)
			return h;
	}
}

uint8_t ptrset_get(const struct ptrset *s, const void *p)
{
	size_t h = ptrset_find(s, p);

	return h == SIZE_MAX ? 0 : s->tags[h];
}

void ptrset_del(struct ptrset *s, const void *p)
{
	size_t h = ptrset_find(s, p);

	if (h == SIZE_MAX)
		return;
	s->keys[h] = TOMB;
	s->tags[h] = 0;
	s->live--;
}

void ptrset_fini(struct ptrset *s)
{
	free(s->keys);
	free(s->tags);
	memset(s, 0, sizeof(*s));
}
