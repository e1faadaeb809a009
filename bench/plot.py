#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Charts (PNG) from Google Benchmark JSON files.

    BUILD/bench/bench_iotlb --benchmark_repetitions=3 --benchmark_out=iotlb.json \\
        --benchmark_out_format=json
    /usr/bin/python3 bench/plot.py iotlb.json [more.json ...] -o docs/plots
    /usr/bin/python3 bench/plot.py iotlb.json --list      # the names and values it sees

Needs matplotlib (Debian: python3-matplotlib, for /usr/bin/python3; scripts/deps.sh installs
it).  Every chart is one entry of CHARTS below (or of a JSON list given with --spec FILE);
a chart whose pattern matches nothing in the given files is skipped, so any subset of the
benchmark programs can be plotted.  A chart entry:

  name     file name (NAME.png)
  title    chart title
  kind     "line": y against a numeric x (sweeps), one line per series;
           "bar": grouped bars, one group per x label, one bar per series
  match    a regular expression over the benchmark name, with /real_time, /threads:N,
           /repeats:N, /min_time:... removed and "@N" appended for N > 1 threads
  x, series
           templates filled from the pattern's named groups ("{ws}: {impl}")
  metric   a counter of the benchmark ("ns_per_xlate"), or "real_time" / "cpu_time" (in
           ns whatever the time unit), or "items_per_second"; "real_time_per_thread" is
           real_time times the threads (Google Benchmark divides a T-thread run's average
           wall time by the iterations of all T threads)
  scale    optional: "per_ns_to_M" turns ns per item into millions of items per second,
           "ns_to_us" ns into microseconds
  ylabel, logx (a base), logy (bool), order (series in this order), xorder (x labels in
           this order), note (a line under the title)
  defaults optional: values for named groups that took no part in the match ({"t": "1"})
  metrics  optional, instead of metric: a list of [label, metric] pairs; every matching
           benchmark gives one value per pair, and the templates see the label as {metric}
           (several counters of one benchmark as series, or as the x of a line chart)
  refs     optional: constant series drawn beside the measured ones, without error bars:
           a list of {"series": label, "values": {x label: value}} (figures to compare with)
  hline    optional: {"y": value, "label": text}: a dashed horizontal line (a target)
  ymin     optional: the bottom of the y axis (0: flat lines are not magnified)

Repetitions give one value per run: the chart shows the median, and the bars/points carry
the min..max range of the repetitions as error bars (noise made visible).
"""
import argparse
import json
import os
import re
import statistics
import sys

HIT_MISS = ["hit/small", "hit/large", "hit/scattered", "miss/warm", "miss/cold"]

CHARTS = [
    {
        "name": "iotlb_batch_size",
        "title": "dmar_translate_batch: ns per translation vs batch size (1 thread)",
        "kind": "line",
        "match": r"^iotlb/(?P<w>hit/small|hit/large|miss/warm|miss/cold)/dmar_batch/(?P<n>\d+)$",
        "x": "{n}", "series": "{w}", "metric": "ns_per_xlate", "order": HIT_MISS,
        "ylabel": "ns per translation", "xlabel": "requests per batch", "logx": 2, "logy": True,
        "note": "hit: IOTLB hits on 256 (small) or 16384 (large) pages; miss: IOTLB misses "
                "walked, tables warm (4 GiB) or cold (128 GiB mapped)",
    },
    {
        "name": "iotlb_hit_vs_miss",
        "title": "Hit vs miss: ns per translation (1 thread)",
        "kind": "bar",
        "match": r"^iotlb/(?P<w>hit/small|hit/large|hit/scattered|miss/warm|miss/cold)/"
                 r"(?P<impl>dmar_batch/64|dmar_single|nocache_walk)$",
        "x": "{w}", "series": "{impl}", "metric": "ns_per_xlate", "xorder": HIT_MISS,
        "order": ["dmar_batch/64", "dmar_single", "nocache_walk"],
        "ylabel": "ns per translation", "logy": True,
        "note": "nocache_walk: the walker alone, no IOTLB",
    },
    {
        "name": "iotlb_peers",
        "title": "dmar against its peers: ns per translation (1 thread)",
        "kind": "bar",
        "match": r"^iotlb/(?P<w>hit/small|hit/large|hit/scattered|miss/warm|miss/cold)/"
                 r"(?P<impl>dmar_batch/64|dmar_single|qemu|rculfhash)$",
        "x": "{w}", "series": "{impl}", "metric": "ns_per_xlate", "xorder": HIT_MISS,
        "order": ["dmar_batch/64", "dmar_single", "rculfhash", "qemu"],
        "ylabel": "ns per translation", "logy": True,
        "note": "qemu: QEMU's VT-d IOTLB design (GHashTable + mutex); rculfhash: liburcu's "
                "lock-free hash table; same keys, capacity and walker",
    },
    {
        "name": "iotlb_peers_2threads",
        "title": "dmar against its peers: ns per translation per core, 2 threads",
        "kind": "bar",
        "match": r"^iotlb/(?P<w>hit/small|hit/large|miss/warm|miss/cold)/"
                 r"(?P<impl>dmar_batch/64|dmar_single|qemu|rculfhash)@2$",
        "x": "{w}", "series": "{impl}", "metric": "ns_per_xlate", "xorder": HIT_MISS,
        "order": ["dmar_batch/64", "dmar_single", "rculfhash", "qemu"],
        "ylabel": "ns per translation per core", "logy": True,
        "note": "both threads translate through one IOTLB; qemu's mutex serialises them",
    },
    {
        "name": "iotlb_writer",
        "title": "Reader throughput alone, beside a spinning core, and beside a busy writer",
        "kind": "bar",
        "match": r"^iotlb/writer/(?P<ws>small|large)/(?P<impl>dmar_batch|dmar_single|qemu|"
                 r"rculfhash)/(?P<state>idle|spin|busy)$",
        "x": "{impl}\n{ws}", "series": "{state}", "metric": "ns_per_xlate",
        "scale": "per_ns_to_M", "order": ["idle", "spin", "busy"],
        "xorder": ["%s\n%s" % (i, w) for w in ("small", "large")
                   for i in ("dmar_batch", "dmar_single", "rculfhash", "qemu")],
        "ylabel": "M translations/s (one reader)",
        "note": "idle: the reader alone; spin: the other core spins on private data; "
                "busy: the other core maps and unmaps pages of the same table",
    },
    # bench_map
    {
        "name": "map_unmap",
        "title": "Mapping and unmapping 4 KiB pages: ns per call (1 thread)",
        "kind": "bar",
        "match": r"^(?P<op>map|unmap)/(?P<what>4k|256x4k)$",
        "x": "{op} {what}", "series": "dmar", "metric": "cpu_time",
        "xorder": ["map 4k", "unmap 4k", "map 256x4k", "unmap 256x4k"],
        "order": ["dmar", "target", "Linux x86-64 page-table code"],
        "refs": [{"series": "target",
                  "values": {"map 4k": 70, "unmap 4k": 80, "map 256x4k": 400,
                             "unmap 256x4k": 250}},
                 {"series": "Linux x86-64 page-table code",
                  "values": {"map 4k": 71, "unmap 4k": 77, "map 256x4k": 392,
                             "unmap 256x4k": 225}}],
        "ylabel": "ns per call (thread CPU time)", "logy": True,
        "note": "unmap includes the IOTLB invalidation (Linux's 77 ns does not); "
                "256x4k: one call for 1 MiB; Linux figures are reference values, not measured here",
    },
    {
        "name": "map_switch",
        "title": "Domain switch under exclusive access vs pages mapped",
        "kind": "bar",
        "match": r"^switch/pages:(?P<n>\d+)$",
        "x": "{n}", "series": "begin_exclusive + switch_domain + end_exclusive",
        "metric": "real_time", "scale": "ns_to_us", "xorder": ["1024", "32768", "1048576"],
        "ylabel": "us per switch (wall)", "xlabel": "pages mapped in each domain",
        "note": "target: O(1) in mapped pages (within 2x from 1 K to 1 M pages); "
                "both domains' pages cached in the IOTLB before timing",
    },
    # bench_iova
    {
        "name": "iova_pairs",
        "title": "Logical address allocator: ns per alloc+free pair per thread",
        "kind": "bar",
        "match": r"^iova/(?P<impl>engine|mutex_list)/(?P<w>pair/pages:\d+|mixed)"
                 r"(?:@(?P<t>\d+))?$",
        "defaults": {"t": "1"},
        "x": "{w}", "series": "{impl}, threads: {t}", "metric": "real_time_per_thread",
        "xorder": ["pair/pages:1", "pair/pages:4", "pair/pages:32", "mixed"],
        "order": ["engine, threads: 1", "engine, threads: 2", "mutex_list, threads: 1",
                  "mutex_list, threads: 2"],
        "hline": {"y": 10, "label": "target for the fast path (<= 10 ns)"},
        "ylabel": "ns per pair, each thread's wall time", "logy": True,
        "note": "engine: dmar_iova_alloc/free (per-thread magazines); mutex_list: one mutex "
                "around a first-fit free list; mixed: 256 live ranges, 1 in 16 above 32 pages",
    },
    {
        "name": "iova_long",
        "title": "Logical address allocator over a long run: ns per pair in each tenth",
        "kind": "line",
        "match": r"^iova/engine/long/live:(?P<live>\d+)$",
        "metrics": [[str(i + 1), "ns_tenth%d" % i] for i in range(10)],
        "x": "{metric}", "series": "{live} live ranges", "ymin": 0,
        "ylabel": "ns per alloc+free pair (thread CPU time)", "xlabel": "tenth of the run",
        "note": "mixed sizes (1..32 pages, 1 in 16 of 33..300); target: the last "
                "tenth no more than 10% slower than the first",
    },
    # bench_replay
    {
        "name": "replay",
        "title": "Replayed GPU-like DMA traffic (dmagen trace): requests per second",
        "kind": "bar",
        "match": r"^replay/data:(?P<d>[01])(?:@(?P<t>\d+))?$",
        "defaults": {"t": "1"},
        "x": "data:{d}", "series": "threads: {t}, {metric}",
        "metrics": [["wall time", "Mxlate_s"], ["thread CPU time", "Mxlate_cpu_s"]],
        "xorder": ["data:0", "data:1"],
        "order": ["threads: 1, wall time", "threads: 2, wall time",
                  "threads: 1, thread CPU time", "threads: 2, thread CPU time"],
        "ylabel": "M requests/s (all threads)", "logy": True,
        "xlabel": "data:0: translate and check every outcome; data:1: also move the bytes",
        "note": "dmar-sim's default system and engines; trace recorded with dmar_trace_*, "
                "replayed from memory through dmar_gen_execute; CPU time: the rate had each "
                "thread a core of its own",
    },
    # bench_writer
    {
        "name": "writer_readers",
        "title": "Readers' translations beside a writer mapping and unmapping (same domain)",
        "kind": "bar",
        "match": r"^writer/readers(?:@(?P<r>\d+))?$",
        "defaults": {"r": "1"},
        "metrics": [["alone", "Mxlate_s_idle"], ["beside a spinning thread", "Mxlate_s_spin"],
                    ["beside the writer", "Mxlate_s_writer"]],
        "x": "readers: {r}", "series": "{metric}", "xorder": ["readers: 1", "readers: 2"],
        "order": ["alone", "beside a spinning thread", "beside the writer"],
        "ylabel": "M translations/s, all readers",
        "note": "phases of 20 ms interleaved in one run; 2 readers + writer are 3 threads "
                "on 2 cores (oversubscribed)",
    },
    {
        "name": "writer_ops",
        "title": "The writer's map and unmap calls per second beside the readers",
        "kind": "bar",
        "match": r"^writer/readers(?:@(?P<r>\d+))?$",
        "defaults": {"r": "1"},
        "x": "readers: {r}", "series": "writer (4 KiB map or unmap calls)",
        "xorder": ["readers: 1", "readers: 2"],
        "metric": "writer_Mops_s",
        "hline": {"y": 1, "label": "target: >= 1 M operations/s"},
        "ylabel": "M operations/s", "ymin": 0,
    },
]


def norm_name(b):
    """(name without run-time suffixes, plus @N for N threads)."""
    name = b.get("run_name") or b["name"]
    threads = int(b.get("threads", 1))
    m = re.search(r"/threads:(\d+)", name)
    if m:
        threads = int(m.group(1))
    name = re.sub(r"/(real_time|threads:\d+|repeats:\d+|min_time:[0-9.]+s?|"
                  r"iterations:\d+|manual_time|process_time)", "", name)
    return name + ("@%d" % threads if threads > 1 else "")


TIME_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}


def value(b, metric):
    if metric in ("real_time", "cpu_time"):
        return float(b[metric]) * TIME_NS.get(b.get("time_unit", "ns"), 1.0)
    if metric == "real_time_per_thread":  # real_time of a T-thread run is per T iterations
        return value(b, "real_time") * int(b.get("threads", 1))
    v = b.get(metric)
    return None if v is None else float(v)


def load(paths):
    """{name: [benchmark dicts, one per repetition]}, and the first file's context."""
    runs, ctx = {}, None
    for p in paths:
        with open(p, encoding="utf-8") as f:
            doc = json.load(f)
        if ctx is None:
            ctx = doc.get("context", {})
        for b in doc.get("benchmarks", []):
            if b.get("run_type", "iteration") != "iteration" or b.get("error_occurred"):
                continue  # aggregates are recomputed here
            runs.setdefault(norm_name(b), []).append(b)
    return runs, ctx or {}


def collect(chart, runs):
    """{series: {x: [values]}} in the chart's order, or {} when nothing matches."""
    rx = re.compile(chart["match"])
    data = {}
    for name, bs in runs.items():
        m = rx.search(name)
        if not m:
            continue
        g = {k: v if v is not None else chart.get("defaults", {}).get(k, "")
             for k, v in m.groupdict().items()}
        for label, metric in chart.get("metrics") or [[None, chart.get("metric")]]:
            x = chart.get("x", "{x}").format(metric=label, **g)
            s = chart.get("series", "{series}").format(metric=label, **g)
            vals = [value(b, metric) for b in bs]
            vals = [v for v in vals if v is not None]
            if chart.get("scale") == "per_ns_to_M":
                vals = [1e3 / v for v in vals if v > 0]
            elif chart.get("scale") == "ns_to_us":
                vals = [v / 1e3 for v in vals]
            if vals:
                data.setdefault(s, {}).setdefault(x, []).extend(vals)
    if data:
        for ref in chart.get("refs", []):
            data[ref["series"]] = {x: [float(v)] for x, v in ref["values"].items()}
    order = chart.get("order", [])
    return dict(sorted(data.items(), key=lambda kv: (order.index(kv[0]) if kv[0] in order
                                                     else len(order), kv[0])))


def x_labels(chart, data):
    xs = []
    for d in data.values():
        for x in d:
            if x not in xs:
                xs.append(x)
    if chart["kind"] == "line":
        return sorted(xs, key=float)
    xorder = chart.get("xorder", [])
    return sorted(xs, key=lambda x: (xorder.index(x) if x in xorder else len(xorder),
                                     xs.index(x)))


def subtitle(ctx, reps):
    parts = []
    if ctx.get("num_cpus"):
        parts.append("%s CPUs at %s MHz" % (ctx["num_cpus"], ctx.get("mhz_per_cpu", "?")))
    if ctx.get("dmar_simd"):
        parts.append("probe %s" % ctx["dmar_simd"])
    if ctx.get("dmar_rcu_flavor"):
        parts.append("RCU %s" % ctx["dmar_rcu_flavor"])
    parts.append("median of %d run%s, bars = min..max" % (reps, "s" if reps > 1 else "")
                 if reps > 1 else "single run")
    if ctx.get("date"):
        parts.append(ctx["date"][:10])
    return ", ".join(parts)


def draw(chart, data, ctx, out_dir, plt):
    xs = x_labels(chart, data)
    reps = max(len(v) for d in data.values() for v in d.values())
    fig, ax = plt.subplots(figsize=(9, 5), dpi=100)
    med = {s: {x: statistics.median(v) for x, v in d.items()} for s, d in data.items()}
    lo = {s: {x: min(v) for x, v in d.items()} for s, d in data.items()}
    hi = {s: {x: max(v) for x, v in d.items()} for s, d in data.items()}
    if chart["kind"] == "line":
        for s in data:
            px = [x for x in xs if x in med[s]]
            y = [med[s][x] for x in px]
            err = [[med[s][x] - lo[s][x] for x in px], [hi[s][x] - med[s][x] for x in px]]
            ax.errorbar([float(x) for x in px], y, yerr=err, marker="o", capsize=3, label=s)
        if chart.get("logx"):
            ax.set_xscale("log", base=chart["logx"])
            ax.set_xticks([float(x) for x in xs])
            ax.set_xticklabels(xs)
        ax.set_xlabel(chart.get("xlabel", ""))
    else:
        n = len(data)
        width = 0.8 / max(n, 1)
        for i, s in enumerate(data):
            pos = [j + (i - (n - 1) / 2) * width for j, x in enumerate(xs) if x in med[s]]
            px = [x for x in xs if x in med[s]]
            y = [med[s][x] for x in px]
            err = [[med[s][x] - lo[s][x] for x in px], [hi[s][x] - med[s][x] for x in px]]
            bars = ax.bar(pos, y, width, yerr=err, capsize=2, label=s)
            for b, v in zip(bars, y):
                ax.annotate("%.3g" % v, (b.get_x() + b.get_width() / 2, b.get_height()),
                            ha="center", va="bottom", fontsize=7, xytext=(0, 2),
                            textcoords="offset points")
        ax.set_xticks(range(len(xs)))
        ax.set_xticklabels(xs)
    if chart.get("hline"):
        ax.axhline(chart["hline"]["y"], color="red", linestyle="--", linewidth=1,
                   label=chart["hline"].get("label"))
    if chart.get("logy"):
        ax.set_yscale("log")
    if "ymin" in chart:
        ax.set_ylim(bottom=chart["ymin"])
    ax.set_ylabel(chart.get("ylabel", chart.get("metric", "")))
    ax.grid(True, axis="y", which="both", alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(chart["title"], fontsize=11)
    lines = [subtitle(ctx, reps)]
    if chart.get("note"):
        lines.append(chart["note"])
    fig.text(0.5, 0.005, "\n".join(lines), ha="center", va="bottom", fontsize=7, wrap=True)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    path = os.path.join(out_dir, chart["name"] + ".png")
    fig.savefig(path)
    plt.close(fig)
    return path


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument("json", nargs="+", help="Google Benchmark JSON files")
    ap.add_argument("-o", "--out", default=".", help="directory for the PNG files")
    ap.add_argument("--spec", action="append", default=[],
                    help="a JSON file with a list of extra chart entries")
    ap.add_argument("--only", action="append", default=[], help="draw only this chart")
    ap.add_argument("--list", action="store_true",
                    help="print the benchmark names (as the patterns see them) and metrics")
    a = ap.parse_args(argv[1:])
    try:
        runs, ctx = load(a.json)
    except (OSError, ValueError) as e:
        print("plot.py: %s" % e, file=sys.stderr)
        return 2
    if a.list:
        for name in sorted(runs):
            b = runs[name][0]
            metrics = sorted(k for k, v in b.items() if isinstance(v, (int, float)) and
                             k not in ("family_index", "per_family_instance_index",
                                       "repetitions", "repetition_index", "threads",
                                       "iterations"))
            try:
                print("%-60s x%d  %s" % (name, len(runs[name]), " ".join(metrics)))
            except BrokenPipeError:  # | head
                return 0
        return 0
    charts = list(CHARTS)
    for p in a.spec:
        with open(p, encoding="utf-8") as f:
            charts.extend(json.load(f))
    if a.only:
        charts = [c for c in charts if c["name"] in a.only]
    import matplotlib  # only needed past this point
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    os.makedirs(a.out, exist_ok=True)
    made = 0
    for c in charts:
        data = collect(c, runs)
        if not data:
            print("plot.py: %s: no benchmark matches, skipped" % c["name"])
            continue
        print("plot.py: wrote %s" % draw(c, data, ctx, a.out, plt))
        made += 1
    return 0 if made else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
