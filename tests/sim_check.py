#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""dmar-sim's report checked against what the generator issued (TAP).

Runs the main program with --json on the default scenario (a fixed number of batches, so the
run is deterministic), then checks that the numbers add up: every request is accounted for,
every injected bad access was refused for its own reason and became a fault record, the
exclusive window refused everything issued inside it, no byte was lost or corrupted, and
resident memory stayed far below what is simulated.  Then records a trace, replays it and
requires identical results, and tries a scenario file and bad usage.  Then malformed input of
every kind (numbers out of their type's or their option's range, signs, empty values, garbage,
NaN; engine counts that wrap; the same through scenario files and a trace's embedded scenario;
a trace whose scenario holds a NUL byte): each must exit 2 with a message naming where the bad
value came from, and no sanitizer report (run against an ASan build to check that)."""
import json
import os
import struct
import subprocess
import sys
import tempfile

SIM = sys.argv[1]
RING_DEMO = sys.argv[2] if len(sys.argv) > 2 else None  # examples/ring_demo, for its options
results = []


def check(name, cond, detail=""):
    results.append((name, bool(cond), detail))


def run(*args, timeout=600):
    try:
        p = subprocess.run([SIM, *args], capture_output=True, text=True, timeout=timeout,
                           errors="replace")
    except subprocess.TimeoutExpired:
        return None, "", f"(still running after {timeout} s)"
    return p.returncode, p.stdout, p.stderr


SANITIZER_REPORTS = ("AddressSanitizer", "LeakSanitizer", "UndefinedBehaviorSanitizer",
                     "runtime error:")


def refused(name, args, *must_name):
    """A run of bad input: exit 2, a message on stderr naming each of must_name, no sanitizer
    report.  Cheap options come first so that a run that is not refused ends soon."""
    rc, out, err = run("--no-progress", *args, timeout=60)
    sanitized = [r for r in SANITIZER_REPORTS if r in err]
    missing = [m for m in must_name if m not in err]
    check(name, rc == 2 and err.strip() and not sanitized and not missing,
          f"exit {rc}, missing {missing}, sanitizer {sanitized}: {err.strip()[-400:]!r}")


HDR = struct.Struct("<8sIIQII32x")  # include/dmar/dmagen.h: the trace header, 64 bytes


def retrace(src, dst, scenario):
    """A copy of trace src whose header holds the scenario text given (bytes)."""
    with open(src, "rb") as f:
        data = f.read()
    magic, version, hsize, seed, slen, flags = HDR.unpack_from(data)
    with open(dst, "wb") as f:
        f.write(HDR.pack(magic, version, hsize, seed, len(scenario), flags))
        f.write(scenario)
        f.write(data[hsize + slen:])


def report(*args):
    rc, out, err = run("--json", *args)
    try:
        return rc, json.loads(out)
    except json.JSONDecodeError:
        return rc, {"_error": err or out}


FAULTS_BY_BAD = {  # what each injected kind must end as
    "unmapped": ("not-present", "aperture-page-unmapped"),
    "beyond-device-limit": ("beyond-device-width",),
    "write-to-read-only": ("write-to-read-only",),
    "during-exclusive": ("exclusive-access",),
}

with tempfile.TemporaryDirectory() as tmp:
    trace = os.path.join(tmp, "run.trace")
    rc, r = report("--batches", "400", "--trace-out", trace)
    check("default scenario passes (exit 0)", rc == 0 and r.get("pass") is True, r.get("_error", ""))
    if "_error" not in r:
        fe, fu, inj = r["faults_expected"], r["faults_unexpected"], r["injected"]
        check("remapped start of a 40-bit GPU on 2 TiB",
              r["start"]["mode"] == "remapped" and r["system"]["installed_bytes"] >= 0.999 * (2 << 40)
              and r["system"]["highest_address"] > 1 << 41 and r["start"]["logical_limit"] == 1 << 40)
        total_expected = sum(fe.values())
        check("requests = ok + refused + wrong + not refused",
              r["requests"] == r["ok"] + total_expected + sum(fu.values()) + r["wrong"] + r["not_refused"])
        check("every injected kind was issued", all(v > 0 for v in inj.values()), str(inj))
        check("injected bad accesses = faults refused as expected",
              sum(inj.values()) == total_expected, f"{inj} vs {fe}")
        # by kind: the faults a kind maps to add up to what was injected (the aperture's
        # 'unmapped' is its own reason, so the sums are taken over the groups)
        check("each kind ended with its own fault reason",
              sum(fe[f] for k in FAULTS_BY_BAD for f in FAULTS_BY_BAD[k])
              == sum(inj.values()) and fe["exclusive-access"] == inj["during-exclusive"]
              and fe["beyond-device-width"] == inj["beyond-device-limit"]
              and fe["write-to-read-only"] == inj["write-to-read-only"])
        check("no unexpected fault, wrong translation or unrefused access",
              sum(fu.values()) == 0 and r["wrong"] == 0 and r["not_refused"] == 0)
        q = r["fault_queue"]
        check("every refusal is a fault record, read or counted as dropped",
              q["faults"] == total_expected and q["faults"] == q["stored"] + q["dropped"]
              and q["read"] == q["stored"])
        ds = r["domain_switch"]
        check("domain switch done, everything inside the window refused",
              ds["done"] and ds["requests_in_window"] == inj["during-exclusive"] > 0)
        d = r["data"]
        check("data moved and verified with zero corruption",
              d["bytes_written"] > 0 and d["bytes_read"] > 0 and d["bytes_verified"] > 0
              and d["corrupt_bytes"] == 0)
        check("resident memory under 1 GiB while simulating 2 TiB",
              r["resident_bytes"] < 1 << 30, str(r["resident_bytes"]))
        check("engines of every kind on every path ran",
              {e["kind"] for e in r["engines"]} == {"copy", "3d", "compute", "display", "command"}
              and {e["path"] for e in r["engines"]} == {"logical", "pasid", "aperture"}
              and sum(e["requests"] for e in r["engines"]) == r["requests"])
        check("IOTLB counted the translations", r["iotlb"]["translations"] > 0
              and 0 < r["iotlb"]["hit_rate"] <= 1)

        rc2, r2 = report("--trace-in", trace)
        same = [k for k in ("requests", "ok", "faults_expected", "faults_unexpected", "injected",
                            "digest", "data") if r2.get(k) != r.get(k)]
        check("replaying the trace gives identical results", rc2 == 0 and r2.get("replayed")
              and not same, f"differs in {same}")

    # the same seed and batches give the same results on another thread count
    rc3, r3 = report("--batches", "400", "--threads", "1")
    check("deterministic: 1 thread gives the digest of 2",
          rc3 == 0 and "_error" not in r and r3.get("digest") == r.get("digest"))

    # a scenario file (GLib key file), overridden by a later option
    scen = os.path.join(tmp, "s.ini")
    with open(scen, "w") as f:
        f.write("[run]\nseed = 5\nbad_ppm = 50000\n[system]\nprocesses = 1\n"
                "[engines]\ncopy = 2\n3d = 0\n")
    rc4, r4 = report("--scenario", scen, "--batches", "50", "--seed", "6")
    kinds = [e["kind"] for e in r4.get("engines", [])]
    check("scenario file read, later options override it",
          rc4 == 0 and r4.get("seed") == "6" and kinds.count("copy") == 2 and "3d" not in kinds
          and sum(1 for e in r4["engines"] if e["path"] == "pasid") == 1, str(r4.get("_error", "")))

    # the largest regions on the PASID path: a process's working set, output and guard must
    # not meet (each region is region_mib / 2)
    rc7, r7 = report("--batches", "4", "--no-data", "--region-mib", "4096", "--processes", "1",
                     "--engines", "copy=0,3d=0,compute=0,display=0,command=0")
    check("--region-mib 4096 with a process builds and passes", rc7 == 0 and r7.get("pass") is True,
          r7.get("_error", ""))

    # bad usage and bad input: exit 2 with a message, never a crash
    for args in (["--threads", "0"], ["--bogus"], ["--seconds", "x"], ["--engines", "warp=1"],
                 ["--trace-in", scen], ["--scenario", os.path.join(tmp, "missing.ini")]):
        rc5, out, err = run(*args)
        check(f"bad usage {' '.join(args)} -> exit 2 with a message", rc5 == 2 and err.strip(), err)
    bad_trace = os.path.join(tmp, "bad.trace")
    with open(trace, "rb") as f:
        data = f.read()
    with open(bad_trace, "wb") as f:
        f.write(data[: len(data) // 2])  # truncated
    rc6, out, err = run("--trace-in", bad_trace)
    check("a truncated trace is reported, exit 2, naming the file and the record",
          rc6 == 2 and f"{bad_trace}: record " in err, err)

    # Malformed numbers, one validation path: each option and each scenario key refuses a
    # value its type cannot hold (>= 2^32 for a 32-bit one, >= 2^64 for a 64-bit one), a
    # sign, an empty string, trailing garbage, NaN/inf and values outside its own limits.
    FIELDS = [  # option, group, key, kind
        ("--seconds", "run", "seconds", "f"), ("--batches", "run", "batches", "u64"),
        ("--seed", "run", "seed", "u64"), ("--threads", "run", "threads", "u32"),
        ("--batch", "run", "batch", "u32"), ("--bad-ppm", "run", "bad_ppm", "u32"),
        ("--gpus", "system", "gpus", "u32"), ("--dma-bits", "system", "dma_bits", "u32"),
        ("--processes", "system", "processes", "u32"),
        ("--region-mib", "system", "region_mib", "u32"), ("--zipf", "engines", "zipf", "f"),
    ] + [("--engines", "engines", k, "u32")
         for k in ("copy", "3d", "compute", "display", "command")]
    BAD = {"u32": ["4294967298", "-1", "", "12abc", "+2"],
           "u64": ["18446744073709551616", "-1", "", "12abc", "+2"],
           "f": ["nan", "inf", "1e400", "-1", "", "1.5x"]}
    ZERO_MAKES_NO_SENSE = {"seconds", "threads", "batch", "gpus", "dma_bits", "region_mib"}
    CHEAP = ["--batches", "1", "--no-data", "--region-mib", "1"]  # overridden by a later option
    for opt, group, key, kind in FIELDS:
        for v in BAD[kind] + (["0"] if key in ZERO_MAKES_NO_SENSE else []):
            if opt == "--engines":
                args, names = [opt, f"{key}={v}"], (opt, key)
            else:
                args, names = [opt, v], (opt,)
            refused(f"option {' '.join(args)!r} -> exit 2 naming {opt}", CHEAP + args, *names)
    # engine counts whose sum wraps 32 bits or exceeds what the system holds
    refused("option --engines copy=4294967295 (-1 as unsigned) -> exit 2",
            CHEAP + ["--engines", "copy=4294967295"], "--engines", "copy")
    refused("option --engines copy=64: more engines than the system holds -> exit 2",
            CHEAP + ["--engines", "copy=64"], "engines")
    refused("option --processes 17: more processes than the system holds -> exit 2",
            CHEAP + ["--processes", "17"], "--processes")
    refused("option --engines with an empty element -> exit 2", CHEAP + ["--engines", "copy=1,"],
            "--engines")

    def scenario_file(name, lines):
        path = os.path.join(tmp, name)
        with open(path, "wb") as f:
            f.write(("\n".join(lines) + "\n").encode() if isinstance(lines, list) else lines)
        return path

    # the same through a scenario file: the message names the file, the line, group and key
    n = 0
    for opt, group, key, kind in FIELDS:
        for v in BAD[kind] + (["0"] if key in ZERO_MAKES_NO_SENSE else []):
            n += 1
            path = scenario_file(f"bad{n}.ini", ["# one bad value, on line 8", "[run]",
                                                 "batches = 1", "data = false", "[system]",
                                                 "region_mib = 1", f"[{group}]", f"{key} = {v}"])
            refused(f"scenario [{group}] {key} = {v!r} -> exit 2 naming file:line, group, key",
                    ["--scenario", path], f"{path}:8", f"[{group}]", key)
    path = scenario_file("bool.ini", ["[run]", "data = maybe"])
    refused("scenario [run] data = maybe -> exit 2", ["--scenario", path], f"{path}:2", "data")
    path = scenario_file("unknown.ini", ["[run]", "batches = 1", "thread = 2"])
    refused("scenario with an unknown key -> exit 2", ["--scenario", path], f"{path}:3", "thread")
    path = scenario_file("group.ini", ["[run]", "batches = 1", "[sytem]", "gpus = 2"])
    refused("scenario with an unknown group -> exit 2", ["--scenario", path], path, "sytem")
    path = scenario_file("nul.ini", b"[run]\nbatches = 1\n\0\n[system]\nregion_mib = 1\n")
    refused("scenario file holding a NUL byte -> exit 2", ["--scenario", path], path)
    path = scenario_file("total.ini", ["[run]", "batches = 1", "[system]", "region_mib = 1",
                                       "[engines]", "copy = 64"])
    refused("scenario with more engines than the system holds -> exit 2", ["--scenario", path],
            path, "engines")

    # the same through a trace's embedded scenario (the recorded trace, its scenario edited)
    if not os.path.exists(trace):
        with open(trace, "wb") as f:
            f.write(HDR.pack(b"DMARTRC1", 1, HDR.size, 1, 0, 1) + bytes([4]) + bytes(7))
    with open(trace, "rb") as f:
        head = f.read(HDR.size)
        scen_text = f.read(HDR.unpack(head)[4])
    for what, extra, names in (
            ("threads = 4294967298", b"[run]\nthreads = 4294967298\n", ("threads", "[run]")),
            ("copy = -1 with small regions", b"[system]\nregion_mib = 1\n[engines]\ncopy = -1\n",
             ("copy", "[engines]")),
            ("copy = 4294967295", b"[engines]\ncopy = 4294967295\n", ("copy", "[engines]")),
            ("seconds = nan", b"[run]\nseconds = nan\n", ("seconds", "[run]")),
            ("64 copy engines: more than the system holds", b"[engines]\ncopy = 64\n",
             ("engines",))):
        bad_scen = os.path.join(tmp, "scen.trace")
        retrace(trace, bad_scen, scen_text + b"\n" + extra)
        refused(f"trace with embedded {what} -> exit 2 naming the trace", ["--trace-in", bad_scen],
                bad_scen, *names)
    nul_trace = os.path.join(tmp, "nul.trace")
    retrace(trace, nul_trace, scen_text + b"\0[run]\nthreads = 0\n")
    refused("trace whose scenario holds a NUL byte -> exit 2 as damaged", ["--trace-in", nul_trace],
            nul_trace)

    # Localized keys (GKeyFile's key[de] = ...): the table has none, so each is an unknown key,
    # in whatever locale the program runs (GKeyFile drops other locales' keys unseen).
    for n, (group, key, v) in enumerate((("run", "threads[de]", "abc"), ("run", "bogus[de]", "1"),
                                         ("system", "gpus[fr]", "999"),
                                         ("run", "threads[C]", "4"))):
        path = scenario_file(f"loc{n}.ini", ["[run]", "batches = 1", "data = false", "[system]",
                                             "region_mib = 1", f"[{group}]", f"{key} = {v}"])
        refused(f"scenario [{group}] {key} = {v}: a localized key is unknown -> exit 2",
                ["--scenario", path], f"{path}:7", f"[{group}]", key)
    loc_trace = os.path.join(tmp, "loc.trace")
    retrace(trace, loc_trace, scen_text + b"\n[run]\nthreads[de] = abc\n")
    refused("trace whose scenario has a localized key -> exit 2 naming the trace and key",
            ["--trace-in", loc_trace], loc_trace, "threads[de]")

    # Numbers with a point are plain decimal: no exponent, hex float, sign, space, second point
    for opt, v in (("--seconds", "0x1p-2"), ("--seconds", "1e1"), ("--seconds", "1.5e0"),
                   ("--seconds", "."), ("--seconds", "1.2.3"), ("--seconds", " 1"),
                   ("--seconds", "1 "), ("--zipf", "1E0"), ("--zipf", "0x1"),
                   ("--seconds", "infinity")):
        refused(f"option {opt} {v!r}: not plain decimal -> exit 2", CHEAP + [opt, v], opt)
    path = scenario_file("hexsec.ini", ["[run]", "batches = 1", "seconds = 0x2"])
    refused("scenario [run] seconds = 0x2 -> exit 2", ["--scenario", path], f"{path}:3", "seconds")
    # inside the range, however small: a denormal is taken; what rounds to 0 is refused where
    # 0 is out of range
    tiny = "0." + "0" * 319 + "1"
    rc, out, err = run(*CHEAP, "--zipf", tiny, "--no-progress", timeout=60)
    check("--zipf 1e-320 written out in plain decimal (a denormal) is in range -> exit 0",
          rc == 0, err.strip()[-300:])
    refused("--seconds 1e-400 in plain decimal rounds to 0 -> exit 2",
            CHEAP + ["--seconds", "0." + "0" * 399 + "1"], "--seconds", "rounds to 0")
    for v in (".5", "5.", "007"):
        rc, out, err = run(*CHEAP, "--seconds", v, "--no-progress", timeout=60)
        check(f"--seconds {v!r} is plain decimal -> exit 0", rc == 0, err.strip()[-300:])
    # a trace records numbers so that they read back: plain decimal, exactly
    small_trace = os.path.join(tmp, "small.trace")
    rc, r8 = report(*CHEAP, "--zipf", "0.00001", "--trace-out", small_trace)
    rc9, r9 = report("--trace-in", small_trace)
    check("a trace of --zipf 0.00001 (%.17g: 1.0000000000000001e-05) replays -> exit 0",
          rc == 0 and rc9 == 0 and r9.get("digest") == r8.get("digest"), str(r9.get("_error")))

    # Trace records: a damaged record or a structure dmar-sim does not record names the file
    # and the record, exit 2
    def records(data):
        """(offset, type, count) of each record of a trace's bytes."""
        hsize, slen = HDR.unpack_from(data)[2], HDR.unpack_from(data)[4]
        off, out = hsize + slen, []
        while off + 8 <= len(data):
            t, count = data[off], data[off + 2] | data[off + 3] << 8
            out.append((off, t, count))
            off += 8 + (32 * count if t in (1, 5) else 0)
        return out

    with open(trace, "rb") as f:
        good = f.read()
    recs = records(good)
    kinds = [t for _, t, _ in recs]
    if 2 in kinds and 3 in kinds and kinds[-1] == 4:
        b_off = next(o for o, t, _ in recs if t == 2)
        e_off = next(o for o, t, _ in recs if t == 3)
        end_off = recs[-1][0]
        rec_hdr = lambda t, count=0: bytes([t, 0, count & 255, count >> 8, 0, 0, 0, 0])
        first_req = next(o for o, t, _ in recs if t == 1)
        cases = (
            ("no END record", good[:end_off], "END record"),
            ("a doubled BEGIN", good[:b_off] + rec_hdr(2) + good[b_off:], "second"),
            ("a doubled END", good[:e_off] + rec_hdr(3) + good[e_off:], "already ended"),
            ("a BEGIN with no END", good[:e_off] + good[e_off + 8:], "inside"),
            ("an END with no BEGIN", good[:b_off] + good[b_off + 8:], "did not begin"),
            ("bytes after the END record", good + rec_hdr(4), "after the END"),
            ("a record of unknown type 9", good[:first_req] + rec_hdr(9) + good[first_req:],
             "type 9"),
            ("nonzero reserved bytes in a record header",
             good[:first_req + 4] + b"\x01" + good[first_req + 5:], "reserved"),
            ("requests cut short", good[:first_req + 8 + 40], "record 1"),
            ("an invalidation record", good[:first_req] + rec_hdr(5, 1) + bytes(32)
             + good[first_req:], "type 5"))
        for n, (what, data, why) in enumerate(cases):
            path = os.path.join(tmp, f"struct{n}.trace")
            with open(path, "wb") as f:
                f.write(data)
            refused(f"trace with {what} -> exit 2 naming the file and the record",
                    ["--trace-in", path], f"{path}: record ", why)
        path = os.path.join(tmp, "noswitch.trace")
        retrace(trace, path, scen_text + b"\n[run]\ndomain_switch = false\n")
        refused("trace with an exclusive window where its scenario has domain_switch = false "
                "-> exit 2", ["--trace-in", path], f"{path}: record ", "domain_switch")
        path = os.path.join(tmp, "seed.trace")
        retrace(trace, path, scen_text + b"\n[run]\nseed = 7\n")
        refused("trace whose header and scenario seeds differ -> exit 2", ["--trace-in", path],
                path, "seed")
    else:
        check("the recorded trace has an exclusive window and an END record", False, str(kinds))

    # the JSON report's seed, exact for every 64-bit seed (a decimal string)
    rc, r10 = report(*CHEAP, "--seed", "18446744073709551615")
    check("--json prints seed 2^64-1 exactly, as a decimal string",
          rc == 0 and r10.get("seed") == "18446744073709551615", str(r10.get("seed")))

    # a key-file syntax error names the line; a stray argument is named
    path = scenario_file("syntax.ini", ["[run]", "batches = 1", "just words", "seed = 2"])
    refused("scenario with a line that is no key, group or comment -> exit 2 naming the line",
            ["--scenario", path], f"{path}:3")
    path = scenario_file("syntax2.ini", ["# a comment", "seed = 2", "[run]"])
    refused("scenario with a key before any group -> exit 2 naming the line",
            ["--scenario", path], f"{path}:2")
    refused("a stray argument -> exit 2 naming it", CHEAP + ["extra"], "'extra'")

    # one display engine (one primary surface); --trace-in takes no scenario options
    refused("--engines display=2 -> exit 2 (one display engine)", CHEAP + ["--engines", "display=2"],
            "--engines display")
    for extra in (["--seed", "3"], ["--trace-out", os.path.join(tmp, "x.trace")], ["--no-data"],
                  ["--engines", "copy=2"], ["--scenario", scen]):
        refused(f"--trace-in with {extra[0]} -> exit 2 naming both", ["--trace-in", trace, *extra],
                extra[0], "--trace-in")
    rc, out, err = run("--help")
    check("--help names the scenario file's keys",
          rc == 0 and all(k in out for k in ("[run]", "domain_switch", "bad_ppm", "[system]",
                                             "region_mib", "dma_bits", "[engines]", "zipf")), out)

# ring_demo's options: plain decimal, range-checked, a message naming the option, exit 2
if RING_DEMO:
    for args, name in ((["--descriptors", "-1"], "--descriptors"),
                       (["--descriptors", "0x10"], "--descriptors"),
                       (["--descriptors", " 5"], "--descriptors"),
                       (["--descriptors", "18446744073709551616"], "--descriptors"),
                       (["--descriptors", "0"], "--descriptors"),
                       (["--ring-order", "13"], "--ring-order"),
                       (["--min-len", "1e3"], "--min-len"), (["--seed", "-1"], "--seed"),
                       (["--switch-us", ""], "--switch-us"),
                       (["--seconds", "inf"], "--seconds"), (["--seconds", "1e308"], "--seconds"),
                       (["--seconds", "nan"], "--seconds"), (["--seconds", "0"], "--seconds"),
                       (["--seconds", "86401"], "--seconds"), (["--seconds", "-1"], "--seconds"),
                       (["--seconds"], "--seconds"), (["--bogus"], "--bogus"),
                       (["--min-len", "9", "--max-len", "8"], "--min-len")):
        try:
            p = subprocess.run([RING_DEMO, *args], capture_output=True, text=True, timeout=20,
                               errors="replace")
            rc, err = p.returncode, p.stderr
        except subprocess.TimeoutExpired:
            rc, err = None, "(still running after 20 s)"
        sanitized = [r for r in SANITIZER_REPORTS if r in err]
        check(f"ring_demo {' '.join(map(repr, args))} -> exit 2 naming {name}",
              rc == 2 and name in err and not sanitized, f"exit {rc}: {err.strip()[-300:]!r}")
    p = subprocess.run([RING_DEMO, "--descriptors", "500", "--seconds", "0.2", "--no-iommu"],
                       capture_output=True, text=True, timeout=60, errors="replace")
    check("ring_demo --seconds 0.2 runs and passes", p.returncode == 0, p.stderr[-300:])


print("TAP version 13")
print(f"1..{len(results)}")
for i, (name, ok, detail) in enumerate(results, 1):
    print(f"{'ok' if ok else 'not ok'} {i} - {name}")
    if not ok and detail:
        print(f"#   {detail}")
sys.exit(0 if all(ok for _, ok, _ in results) else 1)
