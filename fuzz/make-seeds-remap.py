#!/usr/bin/env python3
"""Writes the hand-made seeds of the WDDM-layer harnesses (fuzz_adl.c, fuzz_aperture.c) into
fuzz/{adl,aperture}/corpus/seed-*: each a short program in the harness's byte code (see the
comment at the top of each harness) that reaches the interesting paths at once; and the
hand-made regression inputs of the near-2^64 operation into fuzz/{adl,aperture}/regressions/
edge-*: each a few near-2^64 calls whose answers the harness's model fixes.
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


def write(harness, name, data, folder="corpus", prefix="seed-"):
    d = os.path.join(HERE, harness, folder)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, prefix + name), "wb") as f:
        f.write(data)


def regression(harness, name, data):
    write(harness, name, data, folder="regressions", prefix="edge-")


# fz_edge (both harnesses): u8 sel, u8 k, and for sel % 8 == 7 a u64 taken as it is.
# sel 0: 2^64 - k, 1: 2^64 - k pages, 2: 2^52 - 1 - k (the last page numbers), 3: 2^63 + k - 128,
# 4: 2^32 + k - 128, 5: 2^48 - k pages, 6: k, 7: the u64.
def E(sel, k=0, value=0):
    return bytes([sel, k]) + (u64(value) if sel % 8 == 7 else b"")


ANY = lambda v: E(7, 0, v)
SMALL = lambda k: E(6, k)


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

# opcode 12: [12, irql, slot, what, v1, v2, v3]
EDGE = lambda s, what, v1, v2, v3, irql=0: bytes([12, irql, s, what]) + v1 + v2 + v3
IO = SMALL(1)  # v3 & 1: IO space
# an IO object from 2^64 - 4 KiB of 1 MiB + 8 KiB wraps onto RAM at 0: refused (S7, S24);
# so are one that wraps from 2^64 - 1 MiB, one ending exactly at 2^64 and one past 2^48
io_wrap = (EDGE(0, 0, E(1, 1), ANY(0x102000), IO) + EDGE(0, 0, ANY(2**64 - 2**20), ANY(2**21), IO)
           + EDGE(0, 0, E(1, 16), ANY(0x10000), IO) + EDGE(0, 0, E(5, 1), ANY(0x2000), IO)
           + EDGE(0, 0, E(5, 2), ANY(0x2000), IO))
regression("aperture", "io-object-wrapping-past-2-64", ap_header(REMAP) + io_wrap)
regression("aperture", "io-object-wrapping-past-2-64-isolation",
           ap_header(1 | 8, flags=0x07, dma=16) + io_wrap)
# MapPhysicalMemory for the GPU with prot 0 and write-only: refused, nothing mapped (S24)
regression("aperture", "map-gpu-without-read", ap_header(REMAP) + PMO(0, 0, kind=2)
           + EDGE(0, 1, SMALL(0), SMALL(2), SMALL(2)) + EDGE(0, 1, SMALL(1), SMALL(3), SMALL(0))
           + EDGE(0, 1, SMALL(0), SMALL(4), SMALL(9)) + MAPGPU(0) + XLATE(0))
# first pages and counts whose sums wrap, GPU and CPU; aperture fields the same
regression("aperture", "map-first-and-count-near-2-64", ap_header(REMAP) + PMO(0, 0) + ALLOC(1)
           + EDGE(0, 1, E(0, 1), SMALL(2), SMALL(3)) + EDGE(0, 2, SMALL(2), E(0, 1), SMALL(0))
           + EDGE(1, 4, E(0, 1), SMALL(2), SMALL(0)) + EDGE(1, 4, SMALL(2), E(0, 0), E(0, 1))
           + EDGE(1, 4, SMALL(0), SMALL(8), SMALL(0)) + EDGE(1, 5, E(0, 1), SMALL(2), SMALL(0))
           + EDGE(1, 6, E(0, 1), SMALL(0), SMALL(1)) + EDGE(1, 3, E(4, 128), E(0, 0), SMALL(2)))

# ---- fuzz_adl: mode, then ops [op, slot, fields...] ----
ALLOCA = lambda s, n, flags, entries: bytes([0, s, 0, n, flags]) + b"".join(u64(e) for e in entries)
ALLOCC = lambda s, n, base, shift=0: bytes([0, s, 0, n, 1]) + u64(base) + bytes([shift])
HUGE = lambda s, flags: bytes([0, s, 3]) + u32(0xffffffff) + bytes([flags])
FREE = lambda s, how: bytes([1, s, how])
READ = lambda s, i: bytes([2, s, 0, i])
GMAP = lambda s, n, first, contig=0: bytes([3, s, n - 1, first, contig])
APOFF = lambda sel, a, n, o: bytes([4, 0, sel, a, n, o])

# op 5: [5, slot, what, v1, v2, v3]
AEDGE = lambda what, v1, v2, v3: bytes([5, 0, what]) + v1 + v2 + v3
for mode in range(2):
    # an IO object from 2^64 - 4 KiB of 1 MiB + 8 KiB wraps onto RAM at 0: refused (S7,
    # S24); so is one from 2^64 - 1 MiB of 2 MiB, and one from the last page below 2^48
    regression("adl", f"io-object-wrapping-past-2-64-mode{mode}", bytes([mode])
               + AEDGE(4, E(1, 1), ANY(0x102000), SMALL(0))
               + AEDGE(4, ANY(2**64 - 2**20), ANY(2**21), SMALL(0))
               + AEDGE(4, E(5, 1), ANY(0x2000), SMALL(0)) + AEDGE(4, E(5, 1), ANY(0x1000), SMALL(0)))
    # MapPhysicalMemory for the GPU with prot 0 and write-only: refused, nothing mapped (S24)
    regression("adl", f"map-gpu-without-read-mode{mode}", bytes([mode])
               + AEDGE(2, SMALL(0), SMALL(1), SMALL(0)) + AEDGE(2, SMALL(0), SMALL(16), SMALL(2))
               + AEDGE(2, SMALL(15), SMALL(1), SMALL(1)) + AEDGE(2, E(0, 1), SMALL(2), SMALL(3)))
# a contiguous ADL based at 2^64 - 2 has no entry 2 (it would be page 0), nor any other:
# its pages are past the last page of the address space; one based at 2^52 - 2 has two
regression("adl", "contiguous-adl-past-2-64", bytes([0])
           + AEDGE(1, SMALL(4), E(0, 2), SMALL(2)) + AEDGE(1, SMALL(4), E(0, 2), SMALL(0))
           + AEDGE(1, SMALL(4), E(2, 1), SMALL(1)) + AEDGE(1, SMALL(4), E(2, 1), SMALL(2))
           + AEDGE(1, E(0, 0), E(2, 0), E(0, 0)) + AEDGE(0, E(0, 0), SMALL(0), SMALL(1))
           + AEDGE(0, E(4, 128), SMALL(0), SMALL(1)) + AEDGE(5, SMALL(8), E(0, 2), SMALL(3)))

for mode in range(3):
    write("adl", f"mode{mode}", bytes([mode]) + ALLOCA(0, 3, 0, [7, 8, 9]) + READ(0, 2) + READ(0, 3)
          + ALLOCC(1, 5, 1 << 40) + READ(1, 4) + FREE(0, 1) + FREE(2, 2) + GMAP(3, 5, 2)
          + FREE(3, 3) + GMAP(3, 5, 2) + GMAP(4, 24, 0, 1) + APOFF(0, 2, 4, 10)
          + APOFF(1, 0, 4, 10) + APOFF(2, 0, 0, 10) + APOFF(4, 0, 4, 0) + HUGE(5, 0) + HUGE(6, 1))
