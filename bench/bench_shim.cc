// SPDX-License-Identifier: LGPL-2.1-or-later
// The C interface of bench.h over Google Benchmark.  bench_state and bench_def are never
// defined: they are benchmark::State and benchmark::internal::Benchmark under another name.
// No C++ exception leaves this file: the C callers could not unwind through it.
#include "bench.h"

#include <benchmark/benchmark.h>

#include <cstdio>
#include <exception>
#include <string>

namespace {

benchmark::State &S(bench_state *st)
{
	return *reinterpret_cast<benchmark::State *>(st);
}

const benchmark::State &S(const bench_state *st)
{
	return *reinterpret_cast<const benchmark::State *>(st);
}

benchmark::internal::Benchmark *B(bench_def *b)
{
	return reinterpret_cast<benchmark::internal::Benchmark *>(b);
}

// Registration failures are remembered and reported by bench_main(), since a C caller that
// chains bench_arg(bench_register(...)) has nowhere to check them.
bool g_failed = false;

// Run @f on @b unless @b is NULL; remember a failure.  Returns @b.
template <class F> bench_def *apply(bench_def *b, F f)
{
	if (!b)
		return b;
	try {
		f(B(b));
	} catch (const std::exception &e) {
		std::fprintf(stderr, "bench: %s\n", e.what());
		g_failed = true;
	} catch (...) {
		g_failed = true;
	}
	return b;
}

benchmark::Counter::Flags counter_flags(unsigned f)
{
	int v = 0;

	if (f & BENCH_CTR_RATE)
		v |= benchmark::Counter::kIsRate;
	if (f & BENCH_CTR_AVG_THREADS)
		v |= benchmark::Counter::kAvgThreads;
	if (f & BENCH_CTR_ITER_INVARIANT)
		v |= benchmark::Counter::kIsIterationInvariant;
	if (f & BENCH_CTR_AVG_ITERATIONS)
		v |= benchmark::Counter::kAvgIterations;
	if (f & BENCH_CTR_INVERT)
		v |= benchmark::Counter::kInvert;
	return static_cast<benchmark::Counter::Flags>(v);
}

} // namespace

extern "C" {

bench_def *bench_register(const char *name, bench_fn fn, void *arg)
{
	if (!name || !fn) {
		g_failed = true;
		return nullptr;
	}
	try {
		auto *b = benchmark::RegisterBenchmark(name, [fn, arg](benchmark::State &st) {
			fn(reinterpret_cast<bench_state *>(&st), arg);
		});
		return reinterpret_cast<bench_def *>(b);
	} catch (const std::exception &e) {
		std::fprintf(stderr, "bench: cannot register %s: %s\n", name, e.what());
	} catch (...) {
	}
	g_failed = true;
	return nullptr;
}

bench_def *bench_arg(bench_def *b, int64_t x)
{
	return apply(b, [x](benchmark::internal::Benchmark *p) { p->Arg(x); });
}

bench_def *bench_args2(bench_def *b, int64_t x, int64_t y)
{
	return apply(b, [x, y](benchmark::internal::Benchmark *p) { p->Args({x, y}); });
}

bench_def *bench_arg_range(bench_def *b, int64_t lo, int64_t hi)
{
	return apply(b, [lo, hi](benchmark::internal::Benchmark *p) { p->Range(lo, hi); });
}

bench_def *bench_arg_name(bench_def *b, const char *name)
{
	if (!name)
		return b;
	return apply(b, [name](benchmark::internal::Benchmark *p) { p->ArgName(name); });
}

bench_def *bench_threads(bench_def *b, int n)
{
	return apply(b, [n](benchmark::internal::Benchmark *p) { p->Threads(n); });
}

bench_def *bench_use_real_time(bench_def *b)
{
	return apply(b, [](benchmark::internal::Benchmark *p) { p->UseRealTime(); });
}

bench_def *bench_min_time(bench_def *b, double seconds)
{
	return apply(b, [seconds](benchmark::internal::Benchmark *p) { p->MinTime(seconds); });
}

bench_def *bench_iterations(bench_def *b, int64_t n)
{
	return apply(b, [n](benchmark::internal::Benchmark *p) { p->Iterations(n); });
}

bench_def *bench_time_unit(bench_def *b, bench_unit u)
{
	benchmark::TimeUnit t = benchmark::kNanosecond;

	switch (u) {
	case BENCH_NS:
		t = benchmark::kNanosecond;
		break;
	case BENCH_US:
		t = benchmark::kMicrosecond;
		break;
	case BENCH_MS:
		t = benchmark::kMillisecond;
		break;
	case BENCH_S:
		t = benchmark::kSecond;
		break;
	}
	return apply(b, [t](benchmark::internal::Benchmark *p) { p->Unit(t); });
}

void bench_add_context(const char *key, const char *value)
{
	if (!key || !value)
		return;
	try {
		benchmark::AddCustomContext(key, value);
	} catch (...) {
		g_failed = true;
	}
}

int bench_main(int argc, char **argv)
{
	try {
		benchmark::Initialize(&argc, argv);
		if (benchmark::ReportUnrecognizedArguments(argc, argv))
			return 1;
		if (g_failed) {
			std::fprintf(stderr, "bench: a benchmark could not be registered\n");
			return 1;
		}
		benchmark::RunSpecifiedBenchmarks();
		benchmark::Shutdown();
		return 0;
	} catch (const std::exception &e) {
		std::fprintf(stderr, "bench: %s\n", e.what());
	} catch (...) {
		std::fprintf(stderr, "bench: unknown exception\n");
	}
	return 1;
}

bool bench_keep_running(bench_state *st)
{
	return S(st).KeepRunning();
}

bool bench_keep_running_batch(bench_state *st, int64_t n)
{
	return S(st).KeepRunningBatch(n > 0 ? n : 1);
}

int64_t bench_range(const bench_state *st, unsigned i)
{
	return S(st).range(i);
}

int64_t bench_iterations_done(const bench_state *st)
{
	return S(st).iterations();
}

int bench_thread_index(const bench_state *st)
{
	return S(st).thread_index();
}

int bench_threads_count(const bench_state *st)
{
	return S(st).threads();
}

void bench_pause_timing(bench_state *st)
{
	S(st).PauseTiming();
}

void bench_resume_timing(bench_state *st)
{
	S(st).ResumeTiming();
}

void bench_set_items_processed(bench_state *st, int64_t n)
{
	bench_counter(st, "items_per_second", static_cast<double>(n), BENCH_CTR_RATE);
}

void bench_set_bytes_processed(bench_state *st, int64_t n)
{
	try {
		S(st).SetBytesProcessed(n);
	} catch (...) {
	}
}

void bench_set_label(bench_state *st, const char *label)
{
	try {
		S(st).SetLabel(label ? label : "");
	} catch (...) {
	}
}

void bench_skip_with_error(bench_state *st, const char *msg)
{
	try {
		S(st).SkipWithError(msg ? msg : "error");
	} catch (...) {
	}
}

void bench_counter(bench_state *st, const char *name, double value, unsigned flags)
{
	if (!name)
		return;
	// A counter the report cannot show is lost rather than the run.
	try {
		S(st).counters[name] = benchmark::Counter(value, counter_flags(flags));
	} catch (...) {
	}
}

} // extern "C"
