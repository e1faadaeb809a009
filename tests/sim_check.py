#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""dmar-sim's report checked against what the generator issued (TAP).

Runs the main program with --json on the default scenario (a fixed number of batches, so the
run is deterministic), then checks that the numbers add up: every request is accounted for,
every injected bad access was refused for its own reason and became a fault record, the
exclusive window refused everything issued inside it, no byte was lost or corrupted, and
resident memory stayed far below what is simulated.  Then records a trace, replays it and
requires identical results, and tries a scenario file and bad usage."""
import json
import os
import subprocess
import sys
import tempfile

SIM = sys.argv[1]
results = []


def check(name, cond, detail=""):
    results.append((name, bool(cond), detail))


def run(*args):
    p = subprocess.run([SIM, *args], capture_output=True, text=True, timeout=600)
    return p.returncode, p.stdout, p.stderr


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
          rc4 == 0 and r4.get("seed") == 6 and kinds.count("copy") == 2 and "3d" not in kinds
          and sum(1 for e in r4["engines"] if e["path"] == "pasid") == 1, str(r4.get("_error", "")))

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
    check("a truncated trace is reported, exit 2", rc6 == 2 and "trace" in err, err)

print("TAP version 13")
print(f"1..{len(results)}")
for i, (name, ok, detail) in enumerate(results, 1):
    print(f"{'ok' if ok else 'not ok'} {i} - {name}")
    if not ok and detail:
        print(f"#   {detail}")
sys.exit(0 if all(ok for _, ok, _ in results) else 1)
