/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A set of pointers, each stored with a small nonzero tag: open addressing with linear
 * probing and tombstones, so that a lookup of any pointer value, stale or foreign, only
 * compares it and never dereferences it.  Not synchronized: the owner serializes calls. */
#ifndef REMAP_PTRSET_H
#define REMAP_PTRSET_H

#include <stddef.h>
#include <stdint.h>

/* Zero-initialized: an empty set. */
struct ptrset {
	const void **keys; /* NULL: empty slot, else a pointer or the tombstone */
	uint8_t *tags;     /* per slot: the pointer's tag; 0 for empty and deleted slots */
	size_t cap, used, live;
};

/* Add @p (not NULL, not already in the set) with @tag (nonzero); 0, or -1 out of memory. */
int ptrset_add(struct ptrset *s, const void *p, uint8_t tag);
/* The tag @p was added with; 0 when it is not in the set (NULL never is). */
uint8_t ptrset_get(const struct ptrset *s, const void *p);
/* Remove @p; nothing when it is not in the set. */
void ptrset_del(struct ptrset *s, const void *p);
/* Free the set's memory (not what the pointers point to); the set is empty again. */
void ptrset_fini(struct ptrset *s);

/* To visit every member: for i < s->cap, slot i holds s->keys[i] when s->tags[i] != 0. */

#endif
