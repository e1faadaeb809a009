#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The targets of mapping, the allocator, readers beside a writer, trace replay and the device
model, from the Google Benchmark JSON of bench_map, bench_iova, bench_writer, bench_replay
and bench_devmodel (any subset; medians when the runs have repetitions).

    BUILD/bench/bench_map --benchmark_repetitions=3 --benchmark_out=map.json \\
        --benchmark_out_format=json   # likewise bench_iova, bench_writer, bench_replay, bench_devmodel
    python3 bench/targets.py map.json iova.json writer.json replay.json devmodel.json [--strict]

Prints each target with the measured value and PASS or MISS, and the figures that have no
target (replay, readers beside the writer) for information.  Targets against in-run peers:
map/unmap within 2x of the same entries stored in a flat array (bench_map's flat/...), the
allocator's fast path within 2x of a bare per-thread free list of fixed-size ranges and at
least 10x the mutex free list on two threads (bench_iova's bare_list and mutex_list); the
replayed guest trace's ratios to the peer caches.  The device model is held to remapped >=
95% of pass-through twice: by descriptors/s (items_per_second, wall time: the device runs on
its own thread) and by the device thread's CPU time per descriptor, medians.
Times are each thread's CPU time per operation (cpu_time: robust to other work on a shared machine; but a thread asleep
on a mutex uses none) with its wall time beside them.  Exit status 0, or with --strict 1 when a
target is missed; 2 when a file cannot be read.
"""
import json
import re
import statistics
import sys


def norm(b):
    name = b.get("run_name") or b["name"]
    m = re.search(r"/threads:(\d+)", name)
    threads = int(m.group(1)) if m else int(b.get("threads", 1))
    name = re.sub(r"/(real_time|threads:\d+|repeats:\d+|min_time:[0-9.]+s?|iterations:\d+)",
                  "", name)
    return name + ("@%d" % threads if threads > 1 else "")


NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}


def load(paths):
    runs = {}
    for p in paths:
        with open(p, encoding="utf-8") as f:
            doc = json.load(f)
        for b in doc.get("benchmarks", []):
            if b.get("run_type", "iteration") != "iteration":
                continue
            if b.get("error_occurred"):
                print("ERROR in %s: %s" % (b.get("name"), b.get("error_message")))
                continue
            name = norm(b)
            if "pairs" in b:  # the long allocator runs: a 2e7 run and a 1e9 run stay apart
                name += " (%.3g pairs)" % float(b["pairs"])
            runs.setdefault(name, []).append(b)
    return runs


def med(runs, name, metric):
    bs = runs.get(name)
    if not bs:
        return None
    vals = []
    for b in bs:
        if metric in ("real_time", "cpu_time"):
            vals.append(float(b[metric]) * NS.get(b.get("time_unit", "ns"), 1.0))
        elif metric in b:
            vals.append(float(b[metric]))
    return statistics.median(vals) if vals else None


class Report:
    def __init__(self):
        self.passed = self.missed = 0

    def target(self, label, value, goal, higher, unit, extra=""):
        if value is None:
            return
        ok = value >= goal if higher else value <= goal
        print("  %-58s %9.3f %-4s target %s %g %-4s %s%s" %
              (label, value, unit, ">=" if higher else "<=", goal, unit,
               "PASS" if ok else "MISS", extra))
        self.passed += ok
        self.missed += not ok


def main(argv):
    files = [a for a in argv[1:] if not a.startswith("--")]
    if not files:
        print(__doc__.strip().splitlines()[0])
        print("usage: targets.py FILE.json ... [--strict]")
        return 2
    try:
        runs = load(files)
    except (OSError, ValueError) as e:
        print("targets.py: %s" % e)
        return 2
    reps = max((len(v) for v in runs.values()), default=0)
    print("targets (%s%s)" % (", ".join(files),
                               ", medians of %d" % reps if reps > 1 else ""))
    r = Report()

    print("\nmapping (bench_map; thread CPU time, wall time in brackets)")
    for name, goal in (("map/4k", 70), ("unmap/4k", 80), ("map/256x4k", 400),
                       ("unmap/256x4k", 250)):
        wall = med(runs, name, "real_time")
        r.target(name, med(runs, name, "cpu_time"), goal, False, "ns",
                 "   (wall %.1f ns)" % wall if wall is not None else "")
    for name in ("map/4k", "unmap/4k", "map/256x4k", "unmap/256x4k"):
        c, f = med(runs, name, "cpu_time"), med(runs, "flat/" + name, "cpu_time")
        if c is not None and f:
            r.target("%s / the same entries stored in a flat array" % name, c / f, 2.0, False,
                     "x", "   (%.1f / %.1f ns)" % (c, f))
    a, b = med(runs, "switch/pages:1024", "real_time"), med(runs, "switch/pages:1048576",
                                                                 "real_time")
    if a and b:
        r.target("domain switch: 1 M pages / 1 K pages", b / a, 2.0, False, "x",
                 "   (%.1f / %.1f us)" % (b / 1e3, a / 1e3))
    r.target("page-table memory, 4 KiB pages", med(runs, "table_memory/page_lg2:12",
                                                   "table_percent_of_mapped"), 0.2, False, "%")

    print("\nlogical address allocator (bench_iova; ns per alloc+free pair per thread: its CPU "
          "time, its wall time in brackets)")
    # Google Benchmark's real_time of a run on T threads is the threads' average wall time
    # divided by the iterations of all of them: T times less than one thread's wall time per
    # pair.  cpu_time is the CPU time of all of them over all iterations: per thread.
    def per_thread(name, t):
        c, w = med(runs, name, "cpu_time"), med(runs, name, "real_time")
        return c, (w * t if w is not None else None)

    for t in (1, 2):
        for n in (1, 4, 32):
            c, w = per_thread("iova/engine/pair/pages:%d%s" % (n, "@2" if t == 2 else ""), t)
            r.target("fast path, %d page%s, %d thread%s" % (n, "s" if n > 1 else "", t,
                                                           "s" if t > 1 else ""),
                     c, 10, False, "ns", "   (wall %.2f ns)" % w if w is not None else "")
    for t in (1, 2):
        for n in (1, 4, 32):
            sfx = "/pages:%d%s" % (n, "@2" if t == 2 else "")
            c = per_thread("iova/engine/pair" + sfx, t)[0]
            b = per_thread("iova/bare_list/pair" + sfx, t)[0]
            m = per_thread("iova/mutex_list/pair" + sfx, t)[0]
            tag = "%d page%s, %d thread%s" % (n, "s" if n > 1 else "", t, "s" if t > 1 else "")
            if c is not None and b:
                r.target("fast path / bare per-thread free list, %s" % tag, c / b, 2.0, False,
                         "x", "   (%.2f / %.2f ns)" % (c, b))
            if t == 2 and c and m is not None:
                r.target("mutex free list / fast path, %s" % tag, m / c, 10.0, True, "x",
                         "   (%.2f / %.2f ns)" % (m, c))
    for t in (1, 2):
        sfx = "@2" if t == 2 else ""
        vals = [per_thread(n + sfx, t) for n in ("iova/engine/mixed", "iova/mutex_list/mixed",
                                                 "iova/mutex_list/pair/pages:1")]
        if all(c is not None for c, _ in vals):
            print("  %-58s %9.2f ns (wall %.2f)   mutex free list %.2f (wall %.2f), "
                  "its 1-page pairs %.2f (wall %.2f)" %
                  (("mixed sizes, %d thread%s" % (t, "s" if t > 1 else ""),) +
                   tuple(x for cw in vals for x in cw)))
    for name in sorted(n for n in runs if n.startswith("iova/engine/long/")):
        r.target("%s: slowdown, last vs first 10%%" % name[len("iova/engine/"):],
                 med(runs, name, "slowdown_pct"), 10, False, "%",
                 "   (%.2f -> %.2f ns)" % (med(runs, name, "ns_first10"),
                                           med(runs, name, "ns_last10")))

    print("\nreaders beside a writer in the same domain (bench_writer; M translations/s)")
    for rd in (1, 2):
        name = "writer/readers" + ("@2" if rd == 2 else "")
        if name not in runs:
            continue
        w = med(runs, name, "writer_Mops_s")
        r.target("%d reader%s: writer map/unmap calls" % (rd, "s" if rd > 1 else ""), w, 1.0,
                 True, "M/s")
        print("  %-58s alone %.1f, beside a spinner %.1f, beside the writer %.1f\n"
              "  %-58s kept: writer/alone %.2f, spin/alone %.2f, writer/spin %.2f" %
              ("", med(runs, name, "Mxlate_s_idle"), med(runs, name, "Mxlate_s_spin"),
               med(runs, name, "Mxlate_s_writer"), "", med(runs, name, "kept_writer"),
               med(runs, name, "kept_spin"), med(runs, name, "writer_vs_spin")))

    print("\nreplayed dmagen trace (bench_replay; M requests/s, all threads, wall and CPU time)")
    for d in (0, 1):
        for t in (1, 2):
            name = "replay/data:%d%s" % (d, "@2" if t == 2 else "")
            v = med(runs, name, "Mxlate_s")
            if v is not None:
                c = med(runs, name, "Mxlate_cpu_s")
                print("  %-58s %9.2f      per CPU-second %s, hit rate %.1f%%%s" %
                      ("%s, %d thread%s" % ("data moved" if d else "translate + check", t,
                                            "s" if t > 1 else ""), v,
                       "%.2f" % c if c is not None else "-", 100 * med(runs, name, "hit_rate"),
                       ", %.0f MiB/s" % med(runs, name, "MiB_s") if d else ""))

    guest = {i: med(runs, "replay/guest/" + i, "ns_per_xlate")
             for i in ("dmar_single", "dmar_batch", "qemu", "rculfhash")}
    if guest["dmar_single"] is not None:
        print("\nreplayed guest trace (bench_replay, replay/guest: a Linux guest's DMA through "
              "QEMU's Intel IOMMU;\n  ns per translation, invalidations included)")
        for i, v in guest.items():
            if v is not None:
                print("  %-58s %9.2f ns, hit rate %.1f%%" %
                      (i, v, 100 * (med(runs, "replay/guest/" + i, "hit_rate") or 0)))
        for p in ("qemu", "rculfhash"):
            for i in ("dmar_single", "dmar_batch"):
                if guest[p] is not None and guest[i] is not None:
                    print("  %-58s %9.2f x" % ("%s / %s" % (p, i), guest[p] / guest[i]))

    print("\nthe examples/ device model (bench_devmodel; M descriptors/s, wall time, medians)")
    sizes = sorted({n.split("/")[2] for n in runs if n.startswith("devmodel/")},
                   key=lambda x: int(x.split("-")[0]))
    for size in sizes:
        rate = {m: med(runs, "devmodel/%s/%s" % (m, size), "items_per_second")
                for m in ("remapped", "passthrough", "no_iommu")}
        if rate["remapped"] is None or rate["passthrough"] is None:
            continue
        ratio = 100.0 * rate["remapped"] / rate["passthrough"]
        ok = ratio >= 95.0
        # the same ratio per repetition (random interleaving runs them close in time)
        pairs = {}
        for m in ("remapped", "passthrough"):
            for b in runs["devmodel/%s/%s" % (m, size)]:
                pairs.setdefault(b.get("repetition_index", 0), {})[m] = b["items_per_second"]
        per = sorted(100.0 * p["remapped"] / p["passthrough"] for p in pairs.values()
                     if len(p) == 2)
        print("  copies of %s bytes: device model remapped / pass-through = %.1f%% "
              "(target >= 95%%) %s" % (size, ratio, "PASS" if ok else "MISS"))
        print("      remapped %.2f, pass-through %.2f%s M/s; per repetition %s" %
              (rate["remapped"] / 1e6, rate["passthrough"] / 1e6,
               ", no IOMMU %.2f" % (rate["no_iommu"] / 1e6) if rate["no_iommu"] else "",
               ", ".join("%.0f%%" % x for x in per)))
        c_re = med(runs, "devmodel/remapped/%s" % size, "dev_cpu_ns")
        c_pt = med(runs, "devmodel/passthrough/%s" % size, "dev_cpu_ns")
        r.passed += ok
        r.missed += not ok
        if c_re and c_pt:
            # the device thread's CPU time per descriptor: less disturbed by other work on
            # the machine than the wall-time rate (the VM's wall time is bimodal);
            # pass-through / remapped is a rate ratio, held to the same target
            r.target("copies of %s bytes: by the device thread's CPU time" % size,
                     100.0 * c_pt / c_re, 95.0, True, "%",
                     "   (remapped %.1f ns, pass-through %.1f ns per descriptor)" % (c_re, c_pt))

    print("\n%d PASS, %d MISS" % (r.passed, r.missed))
    return 1 if "--strict" in argv and r.missed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
