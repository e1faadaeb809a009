#!/usr/bin/env python3
"""Closing line of the test run: 'N passed, N failed'.

Reads meson's testlog.json files, and files ending in .tap with one "ok - ...",
"not ok - ..." or "skip - ..." line per check (scripts/qemu-test.sh's output)."""
import json
import sys

passed = failed = skipped = 0
for path in sys.argv[1:]:
    build = path.split("/")[0]
    try:
        lines = open(path, encoding="utf-8").read().splitlines()
    except OSError:
        print(f"{build}: no test log (the build failed)")
        failed += 1
        continue
    if path.endswith(".tap"):
        for line in lines:
            if line.startswith("ok - "):
                passed += 1
            elif line.startswith("not ok - "):
                failed += 1
                print(f"FAILED: {line[len('not ok - '):]}")
            elif line.startswith("skip - "):
                skipped += 1
        if not any(l.startswith(("ok - ", "not ok - ")) for l in lines):
            print(f"{path}: no check ran")
            failed += 1
        continue
    for line in lines:
        if not line.strip():
            continue
        t = json.loads(line)
        res = t.get("result")
        if res in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif res == "SKIP":
            skipped += 1
        else:
            failed += 1
            print(f"FAILED: {build} {t.get('name')} ({res})")
tail = f", {skipped} skipped" if skipped else ""
print(f"{passed} passed, {failed} failed{tail}")
