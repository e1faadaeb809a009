#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The API reference rules Doxygen cannot check by itself, read from its XML output.

    python3 docs/check_docs.py BUILD/docs/xml include/

Doxygen (docs/Doxyfile.in, WARN_AS_ERROR) already fails on anything undocumented, on a
parameter without @param and on a non-void function without @return.  This adds, for every
function declared with DMAR_API in the headers under include/:

  1. Doxygen saw it and it is documented (a declaration Doxygen skipped is an error);
  2. it has a "Thread safety and context" paragraph (@threadsafety);
  3. if it returns dmar_status, its @return names the statuses (::DMAR_OK / ::DMAR_E_...).

Exit status 0 when every rule holds, 1 with one line per violation otherwise.
Standard library only.
"""
import os
import re
import sys
import xml.etree.ElementTree as ET

THREAD_TITLE = "Thread safety and context:"
DECL = re.compile(r"\bDMAR_API\b[^;{]*?\b(dmar_\w+)\s*\(", re.S)


def text(node):
    return "".join(node.itertext()) if node is not None else ""


def declared(include_dir):
    """{function name: header path} for every DMAR_API declaration."""
    out = {}
    for root, _dirs, files in os.walk(include_dir):
        for f in sorted(files):
            if not f.endswith((".h", ".h.in")):
                continue
            path = os.path.join(root, f)
            with open(path, encoding="utf-8") as fh:
                src = fh.read()
            src = re.sub(r"/\*.*?\*/", " ", src, flags=re.S)  # comments may mention DMAR_API
            src = re.sub(r"^\s*#\s*define\b.*$", " ", src, flags=re.M)
            for m in DECL.finditer(src):
                out.setdefault(m.group(1), path)
    return out


def documented(xml_dir):
    """{function name: memberdef} for every function Doxygen documented in a file."""
    out = {}
    for f in sorted(os.listdir(xml_dir)):
        if not f.endswith("_8h.xml"):
            continue
        for m in ET.parse(os.path.join(xml_dir, f)).iter("memberdef"):
            if m.get("kind") == "function":
                out[m.findtext("name")] = m
    return out


def main(argv):
    if len(argv) != 3:
        print("usage: check_docs.py XML_DIR INCLUDE_DIR")
        return 2
    xml_dir, include_dir = argv[1], argv[2]
    decls = declared(include_dir)
    docs = documented(xml_dir)
    problems = []
    for name, path in sorted(decls.items(), key=lambda kv: (kv[1], kv[0])):
        where = "%s: %s()" % (os.path.relpath(path), name)
        m = docs.get(name)
        if m is None:
            problems.append("%s: not in the generated reference" % where)
            continue
        body = text(m.find("briefdescription")).strip() + text(m.find("detaileddescription"))
        if not body.strip():
            problems.append("%s: not documented" % where)
            continue
        titles = [text(s.find("title")).strip() for s in m.iter("simplesect")
                  if s.get("kind") == "par"]
        if THREAD_TITLE not in titles:
            problems.append("%s: no @threadsafety paragraph (thread-safety and context)" % where)
        if text(m.find("type")).strip() == "dmar_status":
            rets = [text(s) for s in m.iter("simplesect") if s.get("kind") == "return"]
            if not any(re.search(r"\bDMAR_(OK|E_\w+)\b", r) for r in rets):
                problems.append("%s: returns dmar_status but @return names no status" % where)
    for p in problems:
        print(p)
    print("check_docs: %d public functions, %d problem%s" %
          (len(decls), len(problems), "" if len(problems) == 1 else "s"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
