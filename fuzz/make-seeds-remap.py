#!/usr/bin/env python3
"""Writes the hand-made seeds of the WDDM-layer harnesses (fuzz_adl.c, fuzz_aperture.c) into
fuzz/{adl,aperture}/corpus/seed-*: each a short program in the harness's byte code (see the
comment at the top of each harness) that reaches the interesting paths at once.
    python3 fuzz/make-seeds-remap.py
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def u16(v):
    return struct.pack("<H", v)


def u32(v):
    return struct.pack("<I", v)


def u64(v):
    return struct.pack("<Q", v)


def write(harness, name, data):
    d = os.path.join(HERE, harness, "corpus")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


# ---- fuzz_aperture: header, then ops [op, irql, slot, fields...] ----
def ap_header(caps, flags=0, dma=8, aperture=4, linked=1, drc=None):
    h = bytes([caps, flags])
    if not caps & 32:
        h += bytes([drc or 0])
    return h + bytes([dma, aperture, linked])


REMAP = 1 | 2 | 4 | 8 | 32          # IoMmuSupported, both cap sets, MapAperture2, DRC = 3
PMO = lambda irql, s, kind=0, pages=4: bytes([0, irql, s, kind, pages, 1, 0, 0]) + u16(0)
MAPGPU = lambda s, first=0, n=4: bytes([2, 0, s, first, n, 1])
MAPCPU = lambda s, first=0, n=2: bytes([4, 0, s, first, n]) + u64(0x1122334455667788) + bytes([0, 1])
ALLOC = lambda s, pages=8, segs=2, flags=3: bytes([6, 0, s, pages, segs, flags])
MAPAP = lambda s, off=4, n=8, adl_off=0, fl=0: bytes([7, 0, s, 0, 1, off, n, adl_off, fl])
UNMAPAP = lambda s: bytes([8, 0, s, 1, 1, 1])
APX = lambda off_pages, write=0: bytes([9, 0, 0]) + u16(off_pages * 64) + bytes([write])
XLATE = lambda s, page=1: bytes([10, 0, s, page])
UNMAPGPU = lambda s: bytes([3, 0, s])
LEGACY = lambda s, which: bytes([11, 0, s, which])

full = (PMO(0, 0) + MAPGPU(0) + MAPCPU(0) + ALLOC(1) + MAPAP(1) + APX(5) + APX(5, 1) + APX(40)
        + XLATE(0) + UNMAPAP(1) + APX(5) + UNMAPGPU(0) + XLATE(3, 0) + LEGACY(5, 0)
        + PMO(2, 2) + bytes([5, 0, 0, 1]) + bytes([1, 0, 0, 1, 2]))
write("aperture", "remapped-everything", ap_header(REMAP) + full)
write("aperture", "isolation-legacy", ap_header(1 | 8, flags=0x07, dma=16)
      + PMO(0, 0) + MAPGPU(0) + LEGACY(1, 1) + LEGACY(0, 1) + LEGACY(0, 2) + ALLOC(2) + MAPAP(2) + APX(6))
write("aperture", "no-map-aperture2", ap_header(1 | 2 | 4 | 32, dma=16) + ALLOC(1) + ALLOC(2, flags=1)
      + MAPAP(2))
write("aperture", "wddm31-dispatch", ap_header(REMAP | 128) + PMO(2, 0) + MAPGPU(0) + XLATE(0))
write("aperture", "section-trim", ap_header(REMAP) + PMO(0, 0, kind=2) + MAPCPU(0)
      + bytes([5, 0, 0, 1]) + bytes([5, 0, 0, 0]) + MAPGPU(0) + XLATE(0, 2))

# ---- fuzz_adl: mode, then ops [op, slot, fields...] ----
ALLOCA = lambda s, n, flags, entries: bytes([0, s, 0, n, flags]) + b"".join(u64(e) for e in entries)
ALLOCC = lambda s, n, base, shift=0: bytes([0, s, 0, n, 1]) + u64(base) + bytes([shift])
HUGE = lambda s, flags: bytes([0, s, 3]) + u32(0xffffffff) + bytes([flags])
FREE = lambda s, how: bytes([1, s, how])
READ = lambda s, i: bytes([2, s, 0, i])
GMAP = lambda s, n, first, contig=0: bytes([3, s, n - 1, first, contig])
APOFF = lambda sel, a, n, o: bytes([4, 0, sel, a, n, o])

for mode in range(3):
    write("adl", f"mode{mode}", bytes([mode]) + ALLOCA(0, 3, 0, [7, 8, 9]) + READ(0, 2) + READ(0, 3)
          + ALLOCC(1, 5, 1 << 40) + READ(1, 4) + FREE(0, 1) + FREE(2, 2) + GMAP(3, 5, 2)
          + FREE(3, 3) + GMAP(3, 5, 2) + GMAP(4, 24, 0, 1) + APOFF(0, 2, 4, 10)
          + APOFF(1, 0, 4, 10) + APOFF(2, 0, 0, 10) + APOFF(4, 0, 4, 0) + HUGE(5, 0) + HUGE(6, 1))
