/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A bounded multi-producer multi-consumer queue (D. Vyukov's design): each cell carries a
 * sequence number that says whether it is free for the producer at position p (== p) or
 * holds the record for the consumer at p (== p + 1).  Producers and consumers each claim a
 * position with a CAS; nobody waits for anybody. */
#include <stdlib.h>
#include <string.h>

#include <dmar/fault.h>

struct cell {
	uint64_t seq; /* atomic */
	dmar_fault_record rec;
};

struct dmar_faultq {
	struct cell *cells;
	uint64_t mask;
	dmar_fault_cb cb;
	void *cb_ctx;
	/* producers' and consumers' positions on their own cache lines */
	uint64_t tail __attribute__((aligned(64)));
	uint64_t head __attribute__((aligned(64)));
	uint64_t next_seq __attribute__((aligned(64)));
	uint64_t stored, dropped, drained;
};

dmar_status dmar_faultq_create(uint32_t capacity, dmar_faultq **out)
{
	struct dmar_faultq *q;

	if (!out || capacity < 2 || capacity > (1u << 24) || (capacity & (capacity - 1)))
		return DMAR_E_INVALID;
	if (posix_memalign((void **)&q, 64, sizeof(*q)) != 0)
		return DMAR_E_NOMEM;
	memset(q, 0, sizeof(*q));
	q->cells = calloc(capacity, sizeof(*q->cells));
	if (!q->cells) {
		free(q);
		return DMAR_E_NOMEM;
	}
	for (uint64_t i = 0; i < capacity; i++)
		q->cells[i].seq = i;
	q->mask = capacity - 1;
	*out = q;
	return DMAR_OK;
}

void dmar_faultq_destroy(dmar_faultq *q)
{
	if (q) {
		free(q->cells);
		free(q);
	}
}

void dmar_faultq_set_callback(dmar_faultq *q, dmar_fault_cb cb, void *ctx)
{
	if (!q)
		return;
	q->cb = cb;
	q->cb_ctx = ctx;
}

dmar_status dmar_faultq_push(dmar_faultq *q, const dmar_fault_record *rec)
{
	dmar_fault_record r;
	uint64_t pos;
	int stored = 0;

	if (!q || !rec)
		return DMAR_E_INVALID;
	r = *rec;
	pos = __atomic_load_n(&q->tail, __ATOMIC_RELAXED);
	r.seq = __atomic_add_fetch(&q->next_seq, 1, __ATOMIC_RELAXED);
	for (;;) {
		struct cell *c = &q->cells[pos & q->mask];
		uint64_t seq = __atomic_load_n(&c->seq, __ATOMIC_ACQUIRE);

		if (seq == pos) {
			if (__atomic_compare_exchange_n(&q->tail, &pos, pos + 1, 1, __ATOMIC_RELAXED,
							__ATOMIC_RELAXED)) {
				c->rec = r;
				/* counted before a consumer can take it (dmar_faultq_get_stats) */
				__atomic_fetch_add(&q->stored, 1, __ATOMIC_RELAXED);
				__atomic_store_n(&c->seq, pos + 1, __ATOMIC_RELEASE);
				stored = 1;
				break;
			}
		} else if ((int64_t)(seq - pos) < 0) {
			break; /* full: the cell still holds the record of a lap ago */
		} else {
			pos = __atomic_load_n(&q->tail, __ATOMIC_RELAXED);
		}
	}
	if (!stored)
		__atomic_fetch_add(&q->dropped, 1, __ATOMIC_RELAXED);
	if (q->cb)
		q->cb(q->cb_ctx, &r, stored);
	return stored ? DMAR_OK : DMAR_E_BUSY;
}

size_t dmar_faultq_drain(dmar_faultq *q, dmar_fault_record *out, size_t max)
{
	size_t n = 0;

	if (!q || !out)
		return 0;
	while (n < max) {
		uint64_t pos = __atomic_load_n(&q->head, __ATOMIC_RELAXED);
		struct cell *c = &q->cells[pos & q->mask];
		uint64_t seq = __atomic_load_n(&c->seq, __ATOMIC_ACQUIRE);
		int64_t d = (int64_t)(seq - (pos + 1));

		if (d < 0)
			break; /* empty */
		if (d > 0)
			continue; /* another consumer took it: reload head */
		if (__atomic_compare_exchange_n(&q->head, &pos, pos + 1, 1, __ATOMIC_RELAXED,
						__ATOMIC_RELAXED)) {
			out[n++] = c->rec;
			__atomic_store_n(&c->seq, pos + q->mask + 1, __ATOMIC_RELEASE);
		}
	}
	/* release: a snapshot that reads this count reads the stored counts of what it took */
	__atomic_fetch_add(&q->drained, n, __ATOMIC_RELEASE);
	return n;
}

void dmar_faultq_get_stats(const dmar_faultq *q, dmar_faultq_stats *st)
{
	if (!st)
		return;
	if (!q) {
		memset(st, 0, sizeof(*st));
		return;
	}
	/* drained first (acquire), stored after: every record counted as drained was counted as
	 * stored before it could be taken, so a snapshot never shows more drained than stored */
	st->drained = __atomic_load_n(&q->drained, __ATOMIC_ACQUIRE);
	st->stored = __atomic_load_n(&q->stored, __ATOMIC_RELAXED);
	st->dropped = __atomic_load_n(&q->dropped, __ATOMIC_RELAXED);
	st->faults = st->stored + st->dropped;
}
