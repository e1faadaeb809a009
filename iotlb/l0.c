/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The threads' L0 banks (cache.h): made, rebound and grown here, off the hit path. */
#include "l0.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct dmar_l0 *dmar__l0_new(struct dmar_l0 **row, uint32_t *clock, int mode)
{
	/* room for the largest size, paid for (touched) only as the bank grows into it; never
	 * unmapped before its IOTLB goes, since an invalidator may read the bank at any time */
	struct dmar_l0 *l0 = mmap(NULL, dmar_l0_bytes(DMAR_L0_MAX_ENTRIES), PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (l0 == MAP_FAILED)
		return NULL;
	l0->row = row;
	l0->clock = clock;
	l0->mode = mode;
	l0->mask = DMAR_L0_ENTRIES - 1; /* reset's shrink check reads the old size */
	dmar__l0_reset(l0, 0, DMAR_L0_ENTRIES, 0);
	return l0;
}

void dmar__l0_free(struct dmar_l0 *l0)
{
	if (l0)
		munmap(l0, dmar_l0_bytes(DMAR_L0_MAX_ENTRIES));
}

void dmar__l0_reset(struct dmar_l0 *l0, uint64_t key, uint32_t entries, int fold)
{
	const uint32_t old = l0->mask + 1;

	/* key 0 first: an invalidator that reads it skips the bank (nothing in it may be
	 * trusted until the new key is stored, after everything below) */
	__atomic_store_n(&l0->key, 0, __ATOMIC_RELAXED);
	for (uint32_t k = 0; k < entries; k++)
		__atomic_store_n(&l0->e[k].vpn, DMAR_L0_EMPTY, __ATOMIC_RELAXED);
	if (entries < old) {
		/* give back the pages only the larger size used (an invalidator still reading
		 * them with the old mask reads zeros, or writes EMPTY into a fresh page) */
		const uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE);
		const uintptr_t from = ((uintptr_t)&l0->e[entries] + pg - 1) & ~(pg - 1);
		const uintptr_t to = (uintptr_t)&l0->e[old] & ~(pg - 1);

		if (to > from)
			madvise((void *)from, to - from, MADV_DONTNEED);
	}
	__atomic_store_n(&l0->mask, entries - 1, __ATOMIC_RELAXED);
	__atomic_store_n(&l0->fold, fold ? (uint32_t)__builtin_ctz(entries) : DMAR_L0_NOFOLD,
			 __ATOMIC_RELAXED);
	l0->hits = l0->looks = l0->skip = l0->backoff = 0;
	l0->used = l0->used0 = l0->evicts = 0;
	l0->quick0 = l0->quick;
	l0->stamp = l0->clock ? *l0->clock : 0;
	__atomic_store_n(&l0->key, key, __ATOMIC_RELEASE);
}

/* Twice the entries, all empty, if the bank may grow and its slot's row has room, made if
 * need be by shrinking the banks idle longest (idle for DMAR_L0_IDLE windows): 1 if it grew. */
static int l0_grow(struct dmar_l0 *l0)
{
	struct dmar_l0 *const *row = l0->row;
	const uint32_t size = l0->mask + 1;
	uint32_t now;

	if (size >= DMAR_L0_MAX_ENTRIES || !row)
		return 0;
	now = *l0->clock;
	for (;;) {
		uint64_t total = 2 * (uint64_t)size; /* the row with this bank doubled */
		struct dmar_l0 *idle = NULL;

		for (unsigned b = 0; b < DMAR_L0_BANKS; b++) {
			struct dmar_l0 *o = row[b];

			if (o == l0)
				continue;
			/* (a bank not made yet counts at the size it will start with) */
			total += o ? o->mask + 1 : DMAR_L0_ENTRIES;
			if (!o)
				continue;
			if (o->mask + 1 > DMAR_L0_ENTRIES && now - o->stamp >= DMAR_L0_IDLE &&
			    (!idle || now - o->stamp > now - idle->stamp))
				idle = o;
		}
		if (total <= DMAR_L0_ROW_ENTRIES)
			break;
		if (!idle)
			return 0;
		/* unbound: its space, if still used, rebinds it (small) at its next request */
		dmar__l0_reset(idle, 0, DMAR_L0_ENTRIES, 0);
	}
	dmar__l0_reset(l0, __atomic_load_n(&l0->key, __ATOMIC_RELAXED), 2 * size,
		       dmar_l0_folded(l0));
	return 1;
}

void dmar__l0_window_end(struct dmar_l0 *l0)
{
	/* what the bank answered or warmed up with (filled an empty entry) */
	const uint64_t useful = (uint64_t)l0->hits + (l0->quick - l0->quick0) +
				(l0->used - l0->used0);

	if (8 * (uint64_t)l0->evicts >= l0->looks && l0_grow(l0)) {
		/* empty and twice the size: the new entries warm up over the next window */
	} else if (8 * (uint64_t)l0->evicts >= l0->looks && !dmar_l0_folded(l0)) {
		/* as large as it may grow and still evicting: pages that share the low bits
		 * (strides) spread once the index folds (dmar_l0_index).  Empty, and half the
		 * size (a folded bank holds a stride's pages one to an entry; it grows again,
		 * folded, if it evicts): a bank past L2 makes every hit a memory access */
		const uint32_t size = l0->mask + 1;

		dmar__l0_reset(l0, __atomic_load_n(&l0->key, __ATOMIC_RELAXED),
			       size > DMAR_L0_ENTRIES ? size / 2 : size, 1);
	} else if (2 * useful < l0->looks && l0->mode != DMAR_L0_ALWAYS) {
		l0->skip = DMAR_L0_SKIP << l0->backoff;
		l0->backoff += l0->backoff < 7;
	} else {
		l0->backoff = 0;
	}
	l0->hits = l0->looks = l0->evicts = 0;
	l0->used0 = l0->used;
	l0->quick0 = l0->quick;
	if (l0->clock)
		l0->stamp = ++*l0->clock;
}
