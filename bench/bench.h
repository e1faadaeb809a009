/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file bench.h
 * @brief A small C interface to Google Benchmark, so that benchmarks are written in C.
 *
 * Register benchmarks, then hand over to bench_main():
 *
 *     static void bm_thing(bench_state *st, void *arg)
 *     {
 *             struct fixture *f = arg;         // setup here, before the loop: not timed
 *             while (bench_keep_running_batch(st, 64))
 *                     for (int i = 0; i < 64; i++)
 *                             do_thing(f, i);  // 64 iterations per batch
 *             bench_set_items_processed(st, bench_iterations(st));
 *     }
 *
 *     int main(int argc, char **argv)
 *     {
 *             bench_use_real_time(bench_arg(bench_register("thing", bm_thing, &fx), 16));
 *             return bench_main(argc, argv);
 *     }
 *
 * The usual flags work (--benchmark_filter, --benchmark_min_time, --benchmark_format=json,
 * --benchmark_out=FILE, --benchmark_repetitions ...).
 *
 * A benchmark function may run several times per benchmark (Google Benchmark first grows the
 * iteration count), and with bench_threads() on threads of Google Benchmark's own, created
 * for each run: per-thread setup (RCU registration) belongs inside the function, undone
 * before it returns.  Setup shared by all threads is built once by whichever gets to it
 * first (bench_fixture_get()), and the threads of a run meet at a bench_barrier.
 *
 * Every bench_def function takes and returns the handle, so calls nest; they ignore a NULL
 * handle (registration failed for want of memory, and bench_main() then reports it).
 */
#ifndef DMAR_BENCH_H
#define DMAR_BENCH_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The running benchmark, passed to the benchmark function (a benchmark::State). */
typedef struct bench_state bench_state;
/** A registered benchmark, to add arguments and options to (a benchmark::Benchmark). */
typedef struct bench_def bench_def;
/** A benchmark function; @p arg is the pointer given at registration. */
typedef void (*bench_fn)(bench_state *st, void *arg);

/* ---- registration (before bench_main(), from one thread) -------------------------------- */

/** Register @p fn under @p name (copied).  NULL when out of memory. */
bench_def *bench_register(const char *name, bench_fn fn, void *arg);
/** Run once more with the argument list {x} (read back with bench_range(st, 0)). */
bench_def *bench_arg(bench_def *b, int64_t x);
/** Run once more with the argument list {x, y}. */
bench_def *bench_args2(bench_def *b, int64_t x, int64_t y);
/** Runs for powers of 8 in [lo, hi] (lo and hi included) as argument 0. */
bench_def *bench_arg_range(bench_def *b, int64_t lo, int64_t hi);
/** Name of argument 0 in the benchmark's displayed name ("name/pages:4096"). */
bench_def *bench_arg_name(bench_def *b, const char *name);
/** Run in @p n threads at once (each calls the function). */
bench_def *bench_threads(bench_def *b, int n);
/** Use wall-clock time, not the calling thread's CPU time (for code that sleeps). */
bench_def *bench_use_real_time(bench_def *b);
/** Minimum seconds of measurement, overriding --benchmark_min_time. */
bench_def *bench_min_time(bench_def *b, double seconds);
/** A fixed iteration count instead of the automatic one. */
bench_def *bench_iterations(bench_def *b, int64_t n);

/** Display unit of a benchmark's times. */
typedef enum bench_unit {
	BENCH_NS,
	BENCH_US,
	BENCH_MS,
	BENCH_S,
} bench_unit;
bench_def *bench_time_unit(bench_def *b, bench_unit u);

/** Key/value shown in the context header (and the JSON "context" object). */
void bench_add_context(const char *key, const char *value);

/** Parse the command line (removing the flags it knows), run the benchmarks the filter
 *  selects, report.  Returns 0, or 1 for an unknown flag or a failed registration. */
int bench_main(int argc, char **argv);

/* ---- inside a benchmark function -------------------------------------------------------- */

/** Whether to run one more iteration.  Call until it answers false before returning. */
bool bench_keep_running(bench_state *st);
/** Whether to run @p n more iterations (n > 0): the cheap way to time a fast body, since this
 *  is an out-of-line call.  May overshoot the planned count by up to n - 1; what is counted
 *  is what ran. */
bool bench_keep_running_batch(bench_state *st, int64_t n);
/** Argument @p i of this run (bench_arg() and friends). */
int64_t bench_range(const bench_state *st, unsigned i);
/** Iterations run so far (after the loop: all of them, batches included). */
int64_t bench_iterations_done(const bench_state *st);
/** Index of this thread (0 .. bench_threads_count() - 1) and the number of threads. */
int bench_thread_index(const bench_state *st);
int bench_threads_count(const bench_state *st);

/** Stop / restart the timer (costly: not per iteration of a fast body). */
void bench_pause_timing(bench_state *st);
void bench_resume_timing(bench_state *st);

/** Items done by this thread, reported as a rate (items_per_second).  After the loop. */
void bench_set_items_processed(bench_state *st, int64_t n);
/** Bytes done, reported as a rate (bytes_per_second).  After the loop. */
void bench_set_bytes_processed(bench_state *st, int64_t n);
/** Text at the end of the report line. */
void bench_set_label(bench_state *st, const char *label);
/** Report this run as failed with @p msg, then leave the loop and return. */
void bench_skip_with_error(bench_state *st, const char *msg);

/** How a user counter is reported (benchmark::Counter::Flags, same values). */
enum bench_counter_flags {
	BENCH_CTR_DEFAULT = 0,
	BENCH_CTR_RATE = 1 << 0,            /**< divided by the run's duration */
	BENCH_CTR_AVG_THREADS = 1 << 1,     /**< divided by the number of threads */
	BENCH_CTR_ITER_INVARIANT = 1 << 2,  /**< multiplied by the iteration count */
	BENCH_CTR_AVG_ITERATIONS = 1 << 3,  /**< divided by the iteration count (per-iteration) */
	BENCH_CTR_INVERT = 1 << 4,          /**< inverted last (a rate becomes a time) */
};
/** Set user counter @p name to @p value (summed over threads), shown as @p flags say. */
void bench_counter(bench_state *st, const char *name, double value, unsigned flags);

/* ---- compiler fences (GNU C) ------------------------------------------------------------ */

/** Make the compiler assume that *p (and whatever it reaches) is read and may be written. */
static inline void bench_do_not_optimize(const void *p)
{
	__asm__ __volatile__("" : : "r"(p) : "memory");
}

/** Make the compiler assume that all memory is read and written here. */
static inline void bench_clobber_memory(void)
{
	__asm__ __volatile__("" : : : "memory");
}

/** Make the compiler materialise the value @p x (an lvalue or rvalue of scalar type) and
 *  assume it is used, without forcing it to memory. */
#define BENCH_USE(x) __asm__ __volatile__("" : : "r,m"(x) : "memory")

/* ---- what a benchmark's threads share --------------------------------------------------- */

/** Set-up that the runs and threads of benchmarks share, built by the first to need it, not
 *  timed (it runs before the benchmark loop).  Initialise with BENCH_FIXTURE_INIT. */
typedef struct bench_fixture {
	pthread_mutex_t lock;
	int state; /* 0 not built, 1 built, -1 failed */
} bench_fixture;
#define BENCH_FIXTURE_INIT { PTHREAD_MUTEX_INITIALIZER, 0 }

/** Build with @p build(@p arg) unless that was done: 0 when it succeeded, now or before, -1
 *  when it failed (the failure stands: it is not tried again). */
static inline int bench_fixture_get(bench_fixture *f, int (*build)(void *arg), void *arg)
{
	int s;

	pthread_mutex_lock(&f->lock);
	if (f->state == 0)
		f->state = build(arg) == 0 ? 1 : -1;
	s = f->state;
	pthread_mutex_unlock(&f->lock);
	return s == 1 ? 0 : -1;
}

/** Whether a build was tried (what it made, whole or half, then needs freeing). */
static inline bool bench_fixture_tried(const bench_fixture *f)
{
	return f->state != 0;
}

/** After the caller freed what was built, with no benchmark running: the next
 *  bench_fixture_get() builds again. */
static inline void bench_fixture_reset(bench_fixture *f)
{
	f->state = 0;
}

/** Where the threads of one run of a benchmark meet.  Initialise with BENCH_BARRIER_INIT
 *  or bench_barrier_init(). */
typedef struct bench_barrier {
	pthread_mutex_t lock;
	pthread_cond_t cv;
	int count;
	unsigned gen;
} bench_barrier;
#define BENCH_BARRIER_INIT { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0 }

static inline void bench_barrier_init(bench_barrier *b)
{
	pthread_mutex_init(&b->lock, NULL);
	pthread_cond_init(&b->cv, NULL);
	b->count = 0;
	b->gen = 0;
}

/** Return once @p n threads (bench_threads_count()) have called this; at once for n <= 1. */
static inline void bench_barrier_wait(bench_barrier *b, int n)
{
	unsigned gen;

	if (n <= 1)
		return;
	pthread_mutex_lock(&b->lock);
	gen = b->gen;
	if (++b->count == n) {
		b->count = 0;
		b->gen++;
		pthread_cond_broadcast(&b->cv);
	} else {
		while (gen == b->gen)
			pthread_cond_wait(&b->cv, &b->lock);
	}
	pthread_mutex_unlock(&b->lock);
}

#ifdef __cplusplus
}
#endif
#endif
