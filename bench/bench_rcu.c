/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Which liburcu flavor for dmar (meson option rcu_flavor): what a reader pays per read-side
 * critical section and what a writer pays per grace period, for memb, qsbr and mb, each
 * linked directly with its inline (_LGPL_SOURCE) fast paths, as the engine uses them.
 *
 *  rcu/baseline                 the benchmark loop alone (subtract it from the read costs)
 *  rcu/<flavor>/read            an empty read section: lock + unlock
 *  rcu/qsbr/read/quiescent_every:N
 *                               lock + unlock, plus urcu_qsbr_quiescent_state() after every
 *                               N sections (amortized per section): what a qsbr translator
 *                               really pays.  With no writer waiting, quiescent_state is a
 *                               load and a compare; a writer in a grace period makes it
 *                               take three full fences and a futex check.
 *  rcu/qsbr/offline_online      a qsbr thread going offline and back (around a blocking call)
 *  rcu/<flavor>/synchronize/<reader>
 *                               one synchronize_rcu() (from an unregistered thread), with one
 *                               other registered reader thread that is
 *                               idle_reader: blocked outside any read section (a qsbr reader
 *                                 goes offline first, as it must);
 *                               busy_reader: running empty read sections back to back (qsbr:
 *                                 a quiescent state every 64), a translator under load;
 *                               online_q100us_reader (qsbr): online, a quiescent state every
 *                                 100 us and asleep in between, a translator that forgets to
 *                                 go offline: grace periods wait for its next quiescent state.
 * The busy reader occupies a second CPU while its benchmark runs.
 */
#define _LGPL_SOURCE
#include <urcu/urcu-mb.h>
#include <urcu/urcu-memb.h>
#include <urcu/urcu-qsbr.h>

#include <pthread.h>
#include <stdio.h>
#include <time.h>

#include "bench.h"

#define BATCH 64 /* sections per bench_keep_running_batch(): the qsbr period too */

static void bm_baseline(bench_state *st, void *arg)
{
	(void)arg;
	while (bench_keep_running_batch(st, BATCH))
		for (int i = 0; i < BATCH; i++)
			bench_clobber_memory();
	bench_set_items_processed(st, bench_iterations_done(st));
}

static void bm_memb_read(bench_state *st, void *arg)
{
	(void)arg;
	urcu_memb_register_thread();
	while (bench_keep_running_batch(st, BATCH))
		for (int i = 0; i < BATCH; i++) {
			urcu_memb_read_lock();
			urcu_memb_read_unlock();
		}
	urcu_memb_unregister_thread();
	bench_set_items_processed(st, bench_iterations_done(st));
}

static void bm_mb_read(bench_state *st, void *arg)
{
	(void)arg;
	urcu_mb_register_thread();
	while (bench_keep_running_batch(st, BATCH))
		for (int i = 0; i < BATCH; i++) {
			urcu_mb_read_lock();
			urcu_mb_read_unlock();
		}
	urcu_mb_unregister_thread();
	bench_set_items_processed(st, bench_iterations_done(st));
}

static void bm_qsbr_read(bench_state *st, void *arg)
{
	(void)arg;
	urcu_qsbr_register_thread();
	while (bench_keep_running_batch(st, BATCH))
		for (int i = 0; i < BATCH; i++) {
			urcu_qsbr_read_lock();
			urcu_qsbr_read_unlock();
			bench_clobber_memory(); /* qsbr lock/unlock are empty: keep the loop */
		}
	urcu_qsbr_unregister_thread();
	bench_set_items_processed(st, bench_iterations_done(st));
}

/* Argument 0: sections per quiescent state. */
static void bm_qsbr_read_quiescent(bench_state *st, void *arg)
{
	const int n = (int)bench_range(st, 0);

	(void)arg;
	urcu_qsbr_register_thread();
	while (bench_keep_running_batch(st, n)) {
		for (int i = 0; i < n; i++) {
			urcu_qsbr_read_lock();
			urcu_qsbr_read_unlock();
			bench_clobber_memory();
		}
		urcu_qsbr_quiescent_state();
	}
	urcu_qsbr_unregister_thread();
	bench_set_items_processed(st, bench_iterations_done(st));
}

static void bm_qsbr_offline_online(bench_state *st, void *arg)
{
	(void)arg;
	urcu_qsbr_register_thread();
	while (bench_keep_running_batch(st, BATCH))
		for (int i = 0; i < BATCH; i++) {
			urcu_qsbr_thread_offline();
			urcu_qsbr_thread_online();
		}
	urcu_qsbr_unregister_thread();
	bench_set_items_processed(st, bench_iterations_done(st));
}

/* ---- grace periods ---------------------------------------------------------------------- */

struct flavor {
	const char *name;
	void (*read_sections)(int n); /* n empty read sections, then (qsbr) a quiescent state */
	void (*reg)(void);
	void (*unreg)(void);
	void (*sync)(void);
	void (*offline)(void); /* NULL: not qsbr */
	void (*online)(void);
	void (*quiescent)(void);
};

static void memb_read_sections(int n)
{
	for (int i = 0; i < n; i++) {
		urcu_memb_read_lock();
		urcu_memb_read_unlock();
	}
}

static void mb_read_sections(int n)
{
	for (int i = 0; i < n; i++) {
		urcu_mb_read_lock();
		urcu_mb_read_unlock();
	}
}

static void qsbr_read_sections(int n)
{
	for (int i = 0; i < n; i++) {
		urcu_qsbr_read_lock();
		urcu_qsbr_read_unlock();
		bench_clobber_memory();
	}
	urcu_qsbr_quiescent_state();
}

static void memb_reg(void) { urcu_memb_register_thread(); }
static void memb_unreg(void) { urcu_memb_unregister_thread(); }
static void memb_sync(void) { urcu_memb_synchronize_rcu(); }
static void mb_reg(void) { urcu_mb_register_thread(); }
static void mb_unreg(void) { urcu_mb_unregister_thread(); }
static void mb_sync(void) { urcu_mb_synchronize_rcu(); }
static void qsbr_reg(void) { urcu_qsbr_register_thread(); }
static void qsbr_unreg(void) { urcu_qsbr_unregister_thread(); }
static void qsbr_sync(void) { urcu_qsbr_synchronize_rcu(); }
static void qsbr_offline(void) { urcu_qsbr_thread_offline(); }
static void qsbr_online(void) { urcu_qsbr_thread_online(); }
static void qsbr_quiescent(void) { urcu_qsbr_quiescent_state(); }

static const struct flavor flavors[] = {
	{ "memb", memb_read_sections, memb_reg, memb_unreg, memb_sync, NULL, NULL, NULL },
	{ "qsbr", qsbr_read_sections, qsbr_reg, qsbr_unreg, qsbr_sync, qsbr_offline, qsbr_online,
	  qsbr_quiescent },
	{ "mb", mb_read_sections, mb_reg, mb_unreg, mb_sync, NULL, NULL, NULL },
};

enum reader_mode {
	READER_IDLE,          /* blocked on a condition variable (qsbr: offline) */
	READER_ONLINE_Q100US, /* qsbr only: online, quiescent state every 100 us */
	READER_BUSY,          /* read sections back to back (qsbr: quiescent every BATCH) */
};

struct reader {
	const struct flavor *fl;
	enum reader_mode mode;
	pthread_t tid;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int ready, stop; /* under lock; stop is also read atomically by a busy reader */
};

static void *reader_main(void *p)
{
	struct reader *r = p;
	const struct flavor *fl = r->fl;

	fl->reg();
	if (r->mode == READER_IDLE && fl->offline)
		fl->offline();
	pthread_mutex_lock(&r->lock);
	r->ready = 1;
	pthread_cond_broadcast(&r->cond);
	if (r->mode == READER_IDLE) {
		while (!r->stop)
			pthread_cond_wait(&r->cond, &r->lock);
		pthread_mutex_unlock(&r->lock);
		if (fl->online)
			fl->online();
	} else if (r->mode == READER_BUSY) {
		pthread_mutex_unlock(&r->lock);
		while (!__atomic_load_n(&r->stop, __ATOMIC_RELAXED))
			fl->read_sections(BATCH);
	} else {
		pthread_mutex_unlock(&r->lock);
		for (;;) {
			const struct timespec ts = { 0, 100 * 1000 };
			int stop;

			fl->quiescent();
			nanosleep(&ts, NULL);
			pthread_mutex_lock(&r->lock);
			stop = r->stop;
			pthread_mutex_unlock(&r->lock);
			if (stop)
				break;
		}
	}
	fl->unreg();
	return NULL;
}

static int reader_start(struct reader *r, const struct flavor *fl, enum reader_mode mode)
{
	r->fl = fl;
	r->mode = mode;
	r->ready = r->stop = 0;
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->cond, NULL);
	if (pthread_create(&r->tid, NULL, reader_main, r) != 0) {
		pthread_cond_destroy(&r->cond);
		pthread_mutex_destroy(&r->lock);
		return -1;
	}
	pthread_mutex_lock(&r->lock);
	while (!r->ready)
		pthread_cond_wait(&r->cond, &r->lock);
	pthread_mutex_unlock(&r->lock);
	return 0;
}

static void reader_stop(struct reader *r)
{
	pthread_mutex_lock(&r->lock);
	__atomic_store_n(&r->stop, 1, __ATOMIC_RELAXED);
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
	pthread_join(r->tid, NULL);
	pthread_cond_destroy(&r->cond);
	pthread_mutex_destroy(&r->lock);
}

struct sync_case {
	const struct flavor *fl;
	enum reader_mode mode;
};

/* The calling thread is not registered: a writer that only synchronizes need not be. */
static void bm_synchronize(bench_state *st, void *arg)
{
	const struct sync_case *c = arg;
	struct reader r;

	if (reader_start(&r, c->fl, c->mode) != 0) {
		bench_skip_with_error(st, "pthread_create failed");
		return;
	}
	while (bench_keep_running(st))
		c->fl->sync();
	reader_stop(&r);
	bench_set_items_processed(st, bench_iterations_done(st));
}

int main(int argc, char **argv)
{
	static struct sync_case sync_cases[7];
	char name[96];
	unsigned n = 0;

	bench_add_context("urcu_memb_sys_membarrier", urcu_memb_has_sys_membarrier ? "1" : "0");

	bench_register("rcu/baseline", bm_baseline, NULL);
	bench_register("rcu/memb/read", bm_memb_read, NULL);
	bench_register("rcu/qsbr/read", bm_qsbr_read, NULL);
	bench_arg(bench_arg(bench_arg_name(bench_register("rcu/qsbr/read", bm_qsbr_read_quiescent,
							  NULL),
					   "quiescent_every"),
			    1),
		  64);
	bench_register("rcu/qsbr/offline_online", bm_qsbr_offline_online, NULL);
	bench_register("rcu/mb/read", bm_mb_read, NULL);

	for (unsigned f = 0; f < sizeof(flavors) / sizeof(flavors[0]); f++) {
		sync_cases[n] = (struct sync_case){ &flavors[f], READER_IDLE };
		snprintf(name, sizeof(name), "rcu/%s/synchronize/idle_reader", flavors[f].name);
		bench_time_unit(bench_use_real_time(bench_register(name, bm_synchronize,
								   &sync_cases[n++])),
				BENCH_US);
		sync_cases[n] = (struct sync_case){ &flavors[f], READER_BUSY };
		snprintf(name, sizeof(name), "rcu/%s/synchronize/busy_reader", flavors[f].name);
		bench_time_unit(bench_use_real_time(bench_register(name, bm_synchronize,
								   &sync_cases[n++])),
				BENCH_US);
		if (flavors[f].quiescent) {
			sync_cases[n] = (struct sync_case){ &flavors[f], READER_ONLINE_Q100US };
			snprintf(name, sizeof(name), "rcu/%s/synchronize/online_q100us_reader",
				 flavors[f].name);
			bench_time_unit(bench_use_real_time(bench_register(name, bm_synchronize,
									   &sync_cases[n++])),
					BENCH_US);
		}
	}
	return bench_main(argc, argv);
}
