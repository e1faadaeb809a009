#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Target ratios of bench_iotlb, from Google Benchmark JSON.

    BUILD/bench/bench_iotlb --benchmark_out=x.json --benchmark_out_format=json
    python3 bench/ratios.py x.json [--strict]

Reads the ns_per_xlate counter of every iotlb/* benchmark (wall time per translation of each
translating thread: per core), the median when the run has repetitions, and prints

  - hit:    dmar_batch/64 against the QEMU-style peer (target >= 20x, every working set,
            strided ones too) and rculfhash (>= 5x), and its ns per translation per core
            (target <= 2 ns), per working set, 1 and 2 threads; dmar_single (one request
            per call, what an emulator's device model makes) against the QEMU-style peer
            (target >= 6x) and its ns (target <= 3 ns) on the 256- and 16384-page sets;
  - miss:   batched (dmar_batch/64) against one-at-a-time (dmar_single) walks, cold tables
            (target >= 7x); warm batched misses against a bare walk of the same pages
            (nocache_walk, target <= 2x); the peers for information;
  - sweeps: ns per translation for every batch size measured;
  - probes: each SIMD probe variant's IOTLB on hit/large and hit/scattered against AVX2's
            (AVX-512: target <= 1, it must not lose to be kept; n/a on a CPU without it);
  - threads: per-core ns and aggregate rate, 1 against 2 threads;
  - writer: reader throughput with a busy writer against idle (target: costs <= 10%), and
            against the spin control (another core busy with work that shares nothing);
            the writer's rate (target >= 1 M map+unmap/s, so that the cost is measured
            against a writer that really writes).

PASS/MISS marks the targets (they are dmar's); other lines are information.  Exit status 0,
or with --strict 1 when a target is missed; 2 when the file cannot be read.
"""
import json
import re
import statistics
import sys

TARGET_HIT_VS_QEMU = 20.0
TARGET_HIT_VS_LFHT = 5.0
TARGET_HIT_NS = 2.0
TARGET_COLD_BATCH = 7.0
TARGET_WARM_VS_WALK = 2.0  # batched warm misses at most twice a bare walk of the same pages
TARGET_SINGLE_VS_QEMU = 6.0
TARGET_SINGLE_NS = 3.0
TARGET_WRITER_MOPS = 1.0   # the busy writer's map+unmap calls, millions per second
SINGLE_SETS = ("hit/small", "hit/large")
TARGET_STRIDED = 1.10     # a strided working set's ns per hit at most 10% over a contiguous one
TARGET_WRITER_COST = 0.10
TARGET_AVX512 = 1.0       # the AVX-512 probe's ns over AVX2's: below 1 it wins (and may be kept)
BATCH = "dmar_batch/64"
PEERS = ("qemu", "rculfhash")


def load(path):
    """{(bench, threads): [ns_per_xlate, ...]} and {(bench, threads): {counter: [values]}}."""
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    ns = {}
    extra = {}
    for b in doc.get("benchmarks", []):
        if b.get("run_type", "iteration") != "iteration":
            continue  # aggregates: recomputed here from the repetitions
        if b.get("error_occurred"):
            print("ERROR in %s: %s" % (b.get("name"), b.get("error_message")))
            continue
        name = b.get("run_name") or b["name"]
        threads = int(b.get("threads", 1))
        m = re.search(r"/threads:(\d+)", name)
        if m:
            threads = int(m.group(1))
        name = re.sub(r"/(real_time|threads:\d+|repeats:\d+|min_time:[0-9.]+)", "", name)
        if not name.startswith("iotlb/") or "ns_per_xlate" not in b:
            continue
        key = (name[len("iotlb/"):], threads)
        ns.setdefault(key, []).append(float(b["ns_per_xlate"]))
        for c in ("hit_rate", "writer_Mops_s", "Mxlate_s_total"):
            if c in b:
                extra.setdefault(key, {}).setdefault(c, []).append(float(b[c]))
    med = {k: statistics.median(v) for k, v in ns.items()}
    ext = {k: {c: statistics.median(v) for c, v in d.items()} for k, d in extra.items()}
    reps = max((len(v) for v in ns.values()), default=0)
    return doc.get("context", {}), med, ext, reps


class Report:
    def __init__(self):
        self.passed = 0
        self.missed = 0
        self.absent = 0

    def target(self, label, value, goal, higher_is_better, unit="x"):
        if value is None:
            print("  %-58s %12s   target %s %g%s   n/a (not measured)" %
                  (label, "-", ">=" if higher_is_better else "<=", goal, unit))
            self.absent += 1
            return
        ok = value >= goal if higher_is_better else value <= goal
        print("  %-58s %10.2f%-2s   target %s %g%-2s  %s" %
              (label, value, unit, ">=" if higher_is_better else "<=", goal, unit,
               "PASS" if ok else "MISS"))
        if ok:
            self.passed += 1
        else:
            self.missed += 1

    @staticmethod
    def info(label, value, unit="x"):
        if value is None:
            print("  %-58s %12s" % (label, "-"))
        else:
            print("  %-58s %10.2f%s" % (label, value, unit))


def ratio(ns, slow, fast):
    a, b = ns.get(slow), ns.get(fast)
    if a is None or b is None or b == 0:
        return None
    return a / b


def main(argv):
    args = [a for a in argv[1:] if not a.startswith("--")]
    strict = "--strict" in argv[1:]
    if len(args) != 1:
        print(__doc__.strip().splitlines()[0])
        print("usage: ratios.py BENCH.json [--strict]")
        return 2
    try:
        ctx, ns, ext, reps = load(args[0])
    except (OSError, ValueError, KeyError) as e:
        print("ratios.py: %s: %s" % (args[0], e))
        return 2
    if not ns:
        print("ratios.py: no iotlb/* benchmark with an ns_per_xlate counter in %s" % args[0])
        return 2

    r = Report()
    print("bench_iotlb ratios (%s%s)" % (args[0], ", median of %d repetitions" % reps
                                         if reps > 1 else ""))
    for k in ("host_name", "date", "num_cpus", "mhz_per_cpu", "dmar_simd", "dmar_rcu_flavor",
              "dmar_iotlb", "dmar_cold_range", "library_build_type"):
        if k in ctx:
            print("  %-16s %s" % (k, ctx[k]))

    workloads_hit = [w for w in ("hit/small", "hit/large", "hit/scattered")
                     if any(k[0].startswith(w + "/") for k in ns)]
    workloads_strided = [w for w in ("hit/stride64k", "hit/stride2m", "hit/tile")
                         if any(k[0].startswith(w + "/") for k in ns)]

    print("\nIOTLB hit: dmar batch (%s) against the peers, ns per translation per core" % BATCH)
    for w in workloads_hit:
        for t in (1, 2):
            if (w + "/" + BATCH, t) not in ns:
                continue
            d = (w + "/" + BATCH, t)
            tag = "%s, %d thread%s" % (w, t, "s" if t > 1 else "")
            r.target("%s: qemu / dmar_batch" % tag, ratio(ns, (w + "/qemu", t), d),
                     TARGET_HIT_VS_QEMU, True)
            r.target("%s: rculfhash / dmar_batch" % tag, ratio(ns, (w + "/rculfhash", t), d),
                     TARGET_HIT_VS_LFHT, True)
            r.target("%s: dmar_batch ns per translation per core" % tag, ns[d],
                     TARGET_HIT_NS, False, " ns")
            sg = (w + "/dmar_single", t)
            if w in SINGLE_SETS and t == 1:
                r.target("%s: qemu / dmar_single" % tag, ratio(ns, (w + "/qemu", t), sg),
                         TARGET_SINGLE_VS_QEMU, True)
                r.target("%s: dmar_single ns per translation" % tag, ns.get(sg),
                         TARGET_SINGLE_NS, False, " ns")
            else:
                r.info("%s: qemu / dmar_single" % tag, ratio(ns, (w + "/qemu", t), sg))
            r.info("%s: rculfhash / dmar_single" % tag, ratio(ns, (w + "/rculfhash", t),
                                                              (w + "/dmar_single", t)))
            hr = ext.get(d, {}).get("hit_rate")
            if hr is not None and hr < 0.999:
                r.info("%s: dmar hit rate (conflict misses)" % tag, hr, "")

    print("\nStrided working sets against the contiguous one (hit/large), same size")
    for w in workloads_strided:
        for impl in (BATCH, "dmar_single"):
            r.target("%s: %s ns / hit/large's" % (w, impl),
                     ratio(ns, (w + "/" + impl, 1), ("hit/large/" + impl, 1)),
                     TARGET_STRIDED, False, "")
        hr = ext.get((w + "/" + BATCH, 1), {}).get("hit_rate")
        if hr is not None:
            r.info("%s: dmar hit rate" % w, hr, "")
        r.target("%s: qemu / dmar_batch" % w, ratio(ns, (w + "/qemu", 1), (w + "/" + BATCH, 1)),
                 TARGET_HIT_VS_QEMU, True)
        r.info("%s: rculfhash / dmar_batch" % w, ratio(ns, (w + "/rculfhash", 1),
                                                        (w + "/" + BATCH, 1)))

    print("\nSIMD probe variants, each in an IOTLB of its own (iotlb/probe/*): ns per translation"
          "\n  against avx2's; AVX-512 becomes a default only where it does not lose to AVX2 (iotlb/probe.c)")
    for w in ("hit/large", "hit/scattered"):
        for impl in (BATCH, "dmar_single"):
            base = ("probe/avx2/%s/%s" % (w, impl), 1)
            for v in ("c", "sse42"):
                r.info("%s %s: %s / avx2" % (w, impl, v), ratio(ns, ("probe/%s/%s/%s" % (v, w, impl), 1),
                                                                base))
            r.target("%s %s: avx512 / avx2" % (w, impl),
                     ratio(ns, ("probe/avx512/%s/%s" % (w, impl), 1), base), TARGET_AVX512, False)

    print("\nMiss with walk: batched against one-at-a-time")
    for w, is_target in (("miss/cold", True), ("miss/warm", False)):
        for t in (1, 2):
            b, s = (w + "/" + BATCH, t), (w + "/dmar_single", t)
            if b not in ns and s not in ns:
                continue
            tag = "%s, %d thread%s" % (w, t, "s" if t > 1 else "")
            val = ratio(ns, s, b)
            if is_target and t == 1:
                r.target("%s: dmar_single / dmar_batch" % tag, val, TARGET_COLD_BATCH, True)
            else:
                r.info("%s: dmar_single / dmar_batch" % tag, val)
            if w == "miss/warm" and t == 1:
                r.target("%s: dmar_batch / nocache_walk" % tag,
                         ratio(ns, b, (w + "/nocache_walk", t)), TARGET_WARM_VS_WALK, False)
            for p in PEERS:
                r.info("%s: %s / dmar_batch" % (tag, p), ratio(ns, (w + "/" + p, t), b))

    print("\nBatch sweeps (1 thread): ns per translation by batch size")
    for w in ("hit/small", "hit/large", "miss/warm", "miss/cold"):
        sizes = sorted(int(k[0].rsplit("/", 1)[1]) for k in ns
                       if k[1] == 1 and k[0].startswith(w + "/dmar_batch/"))
        if not sizes:
            continue
        row = "  %-12s" % w
        for n in sizes:
            row += " %4d:%-7.2f" % (n, ns[(w + "/dmar_batch/%d" % n, 1)])
        print(row)
        best = min(sizes, key=lambda n: ns[(w + "/dmar_batch/%d" % n, 1)])
        others = "   single %.2f" % ns[(w + "/dmar_single", 1)] if (w + "/dmar_single", 1) in ns else ""
        for p in PEERS:
            if (w + "/" + p, 1) in ns:
                others += "   %s %.2f" % (p, ns[(w + "/" + p, 1)])
        print("  %-12s best batch %d: %.2f ns%s" % ("", best, ns[(w + "/dmar_batch/%d" % best, 1)],
                                                    others))

    print("\n1 against 2 threads: ns per translation per core (aggregate Mtranslations/s)")
    for w in ("hit/small", "hit/large", "miss/warm", "miss/cold"):
        for impl in (BATCH, "dmar_single") + PEERS:
            k1, k2 = (w + "/" + impl, 1), (w + "/" + impl, 2)
            if k1 not in ns or k2 not in ns:
                continue
            a1 = ext.get(k1, {}).get("Mxlate_s_total")
            a2 = ext.get(k2, {}).get("Mxlate_s_total")
            print("  %-30s 1 thread %8.2f ns (%7.1f M/s)   2 threads %8.2f ns (%7.1f M/s)"
                  "   scaling %.2fx" % (w + "/" + impl, ns[k1], a1 or 0, ns[k2], a2 or 0,
                                        (a2 / a1) if a1 and a2 else 0))

    print("\nReader throughput with a writer on the other core (busy) against alone (idle)")
    for ws in ("small", "large"):
        for impl in ("dmar_batch", "dmar_single") + PEERS:
            base = "writer/%s/%s/" % (ws, impl)
            idle, spin, busy = (ns.get((base + s, 1)) for s in ("idle", "spin", "busy"))
            if idle is None or busy is None:
                continue
            label = "%s: busy/idle throughput" % base.rstrip("/")
            kept = idle / busy
            wops = ext.get((base + "busy", 1), {}).get("writer_Mops_s")
            if impl.startswith("dmar"):
                r.target(label, kept, 1.0 - TARGET_WRITER_COST, True, "")
            else:
                r.info(label, kept, "")
            detail = "      idle %.2f ns, busy %.2f ns" % (idle, busy)
            if spin is not None:
                detail += ", spin %.2f ns (busy/spin throughput %.2f, spin/idle %.2f)" % (
                    spin, spin / busy, idle / spin)
            print(detail)
            if impl.startswith("dmar"):
                r.target("%s: writer M map+unmap/s" % base.rstrip("/"), wops,
                         TARGET_WRITER_MOPS, True, "")
            elif wops is not None:
                r.info("%s: writer M map+unmap/s" % base.rstrip("/"), wops, "")

    print("\n%d PASS, %d MISS%s" % (r.passed, r.missed,
                                   ", %d not measured" % r.absent if r.absent else ""))
    return 1 if strict and r.missed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
