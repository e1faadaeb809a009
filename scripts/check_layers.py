#!/usr/bin/env python3
"""Checks that the library's layers include only what they may.

Usage: check_layers.py SRCDIR LAYER=ALLOWED,ALLOWED ...  (from the root meson.build, which
holds the one list of allowed edges).  Every quoted #include of a layer's .c and .h files
must name a file of a folder its entry allows (public headers come with <dmar/...>), and no
include may climb out of its folder ("../").  Prints one line per violation and TAP.
"""
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def main():
    src = sys.argv[1]
    allowed = {}
    for arg in sys.argv[2:]:
        layer, _, below = arg.partition("=")
        allowed[layer] = below.split(",")
    owner = {}  # file name -> the layer folder that holds it
    for layer in allowed:
        for name in os.listdir(os.path.join(src, layer)):
            if name.endswith((".h", ".c")):
                if name in owner:
                    print(f"not ok 1 - {name} is in both {owner[name]}/ and {layer}/")
                    return 1
                owner[name] = layer
    bad = []
    for layer in allowed:
        for name in sorted(os.listdir(os.path.join(src, layer))):
            if not name.endswith((".h", ".c")):
                continue
            with open(os.path.join(src, layer, name), encoding="utf-8") as f:
                text = f.read()
            for inc in INCLUDE.findall(text):
                where = owner.get(os.path.basename(inc))
                if "/" in inc or where is None:
                    bad.append(f"{layer}/{name}: #include \"{inc}\" is no file of a layer")
                elif where not in allowed[layer]:
                    bad.append(f"{layer}/{name}: #include \"{inc}\" runs up from {layer} "
                               f"to {where}")
    print("TAP version 13\n1..1")
    for b in bad:
        print("# " + b)
    print(("not ok" if bad else "ok") + " 1 - every layer includes only the layers below it")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
