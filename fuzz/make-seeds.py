#!/usr/bin/env python3
"""Writes the hand-made seed inputs of the harnesses into fuzz/<name>/corpus/seed-*.

Each seed is a small program in the harness's byte code (see the comment at the top of
fuzz_<name>.c) that reaches something the fuzzer would take long to find alone: a table
chain with 2 MiB and 1 GiB leaves, a partial unmap that splits one, a PASID binding over an
upper-half table, a domain switch under exclusive access, an ASID rollover.  Inputs the
fuzzers found are kept next to them (named by their hash).  Run from anywhere:
    python3 fuzz/make-seeds.py
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))

# ---- shared encodings (fuzz_common.h) ----
BASE = {"0": 0, "2M": 1, "1G": 2, "4G": 3, "512G": 4, "1T": 5, "2^46": 6, "2^47": 7,
        "2^48": 8, "2^55": 9, "2^56": 10, "upper48": 11, "upper57": 12, "2^57": 13,
        "top": 14}
SIZE_IDX = {511: 0, 512: 1, 513: 2, 1023: 3, 1024: 4, 1536: 5, 262143: 6, 262144: 7,
            262145: 8, 524288: 9, 0: 10}


def addr(base, off_pages=0):
    return bytes([BASE[base]]) + struct.pack("<h", off_pages)


def size(pages):
    if 1 <= pages <= 64:
        return bytes([pages - 1])
    return bytes([192 + SIZE_IDX[pages]])


def u32(v):
    return struct.pack("<I", v)


def u64(v):
    return struct.pack("<Q", v)


# ---- fuzz_map ----
NOPASID, P1, P2, P3, P0, PBIG, PMAX, ALLOC = 0, 1, 2, 3, 4, 5, 6, 8
R, W, U, X = 0, 2, 8, 4  # access bits (W=2, X=4, U=8 as in dmar_access; R=0 asks nothing)
RD = 1  # DMAR_ACCESS_READ: what VT-d and AMD-Vi can refuse


def m_map(table, a, pages, prot=0x06, pa_page=None, hi_bits=0):
    """prot: for x86-64 tables (T0-T4) the byte the harness masks with 0x7e (READ is added);
    for T5 (VT-d) and T6 (AMD-Vi) W=0x02 X=0x04 U=0x08 SNOOP=0x20, and 0x50 takes READ away
    (write-only)."""
    if pa_page is None:  # pa = iova
        return bytes([0x00 | table << 4]) + a + size(pages) + bytes([0, prot])
    return bytes([0x00 | table << 4]) + a + size(pages) + bytes([96 + hi_bits, prot]) + u32(pa_page)


def m_unmap(table, a, pages):
    return bytes([0x03 | table << 4]) + a + size(pages)


def m_xlate(dev, a, acc=R, pasid=NOPASID, walk_table=0, byte_off=0):
    return bytes([0x05 | (dev | walk_table << 1) << 4, pasid]) + a + bytes([acc | byte_off << 4])


def m_batch(dev, reqs):
    out = bytes([0x07 | dev << 4, len(reqs) - 1])
    for a, acc, pasid in reqs:
        s = acc << 4
        if pasid is not None:
            out += bytes([s | 0x80]) + a + bytes([pasid])
        else:
            out += bytes([s]) + a
    return out


def m_inval(how, dom=0, pasid=P1, a=addr("0"), pages=1):
    out = bytes([0x09 | how << 4, dom, pasid]) + a
    return out + (b"" if how == 2 else size(pages))


def m_attach(dev, dom):  # dom 6: NULL; dom | 0x80: detach
    return bytes([0x0a | dev << 4, dom])


def m_excl(dev, how, dom=0, a=addr("0")):
    return bytes([0x0b | (dev | how << 1) << 4, dom]) + a


def m_bind(dom, pasid, table=3, unbind=False):
    return bytes([0x0c, dom | (table - 3) << 2 | (0x80 if unbind else 0), pasid])


def m_link(a):
    return bytes([0x0d | a << 4])


def m_destroy(what):  # 0..5 domains (behind a magic byte), 6..7 devices
    return bytes([0x0e | what << 4]) + (b"\xd0" if what < 6 else b"")


def m_pasid(alloc, pasid=P1):
    return bytes([0x0f, 1 if alloc else 0, pasid])


def m_large_leaf(table, gib, a, pa_gib, page):
    """op_invalidate way 4: a leaf of process table 3 or 4 repointed, one page invalidated."""
    return m_inval(4) + bytes([(table - 3) | (2 if gib else 0)]) + a + \
        struct.pack("<H", pa_gib) + u32(page)


def m_edge(way, table_sel, a_sel, b_sel, dom=0, pasid=P1):
    """op_invalidate ways 5-7 (map / unmap / a PASID's range at the top of the spaces):
    the table is picked by the page of the address that precedes the edge bytes."""
    out = bytes([0x09 | way << 4, dom, pasid]) + bytes([0]) + struct.pack("<h", table_sel) + \
        size(1) + bytes([a_sel, b_sel])
    return out + (bytes([0, 0x06]) if way == 5 else b"")


def map_seeds():
    hdr = bytes([0x01, 32, 16])  # 8 sets x 4 ways; dev0 64-bit, dev1 48-bit
    s = {}
    s["split-2m"] = hdr + m_attach(0, 0) + m_map(0, addr("2M"), 512, 0x06) + \
        m_xlate(0, addr("2M", 5), W) + m_unmap(0, addr("2M", 3), 1) + \
        m_xlate(0, addr("2M", 3)) + m_xlate(0, addr("2M", 4), W) + m_xlate(0, addr("2M", 511))
    s["split-1g"] = hdr + m_map(1, addr("1G"), 262144, 0x0e) + m_attach(0, 1) + \
        m_xlate(0, addr("1G", 700), U) + m_unmap(1, addr("1G", 512), 512) + \
        m_xlate(0, addr("1G", 600)) + m_xlate(0, addr("1G", 1024)) + \
        m_unmap(1, addr("1G", 1030), 2) + m_xlate(0, addr("1G", 1029), X)
    s["pasid-upper"] = hdr + m_bind(0, P1, 3) + \
        m_map(3, addr("upper48"), 4, 0x02, pa_page=0x12345, hi_bits=4) + m_attach(0, 0) + \
        m_xlate(0, addr("upper48", 1), R, P1, walk_table=3) + m_unmap(3, addr("upper48", 1), 1) + \
        m_xlate(0, addr("upper48", 1), R, P1) + m_xlate(0, addr("upper48", 2), W, P1) + \
        m_bind(0, P1, 3, unbind=True) + m_xlate(0, addr("upper48", 2), R, P1)
    s["switch"] = hdr + m_attach(0, 0) + m_map(0, addr("4G"), 8, 0x06, pa_page=0x100) + \
        m_map(1, addr("4G"), 8, 0x06, pa_page=0x200) + m_xlate(0, addr("4G", 1)) + \
        m_excl(0, 3, 1, addr("4G", 2)) + m_xlate(0, addr("4G", 1)) + \
        m_excl(0, 0) + m_xlate(0, addr("4G", 1)) + m_excl(0, 1, 2) + m_excl(0, 2) + \
        m_xlate(0, addr("4G", 1))
    s["batch"] = hdr + m_attach(1, 0) + m_map(0, addr("2M", -8), 64, 0x0e, pa_page=0x777) + \
        m_bind(0, P2, 4) + m_map(4, addr("2M"), 16, 0x02, pa_page=0x999) + \
        m_batch(1, [(addr("2M", i - 10), (i % 4) * 2 & 0xe, P2 if i % 3 == 0 else None)
                    for i in range(40)]) + \
        m_unmap(0, addr("2M", -4), 8) + \
        m_batch(1, [(addr("2M", i - 10), 0, None) for i in range(20)])
    s["link"] = hdr + m_link(0) + m_attach(0, 0) + m_map(0, addr("512G"), 2, 0x0e) + \
        m_xlate(1, addr("512G")) + m_attach(1, 3) + m_xlate(0, addr("2^47", -1)) + \
        m_xlate(1, addr("2^48", 1)) + m_destroy(6) + m_destroy(7) + m_destroy(6)
    s["rollover"] = hdr + m_attach(0, 0) + m_map(0, addr("0", 16), 4) + \
        m_xlate(0, addr("0", 17)) + m_inval(3) + m_xlate(0, addr("0", 17)) + \
        m_unmap(0, addr("0", 17), 1) + m_xlate(0, addr("0", 17))
    s["lifecycle"] = bytes([0x48, 0, 64]) + m_attach(0, 0) + m_destroy(0) + \
        m_attach(0, 0x80) + m_destroy(0) + m_pasid(True) + m_bind(1, ALLOC, 4) + \
        m_pasid(False, ALLOC) + m_bind(1, ALLOC, 4, unbind=True) + m_pasid(False, ALLOC) + \
        m_map(2, addr("4G"), 512) + m_attach(0, 2) + m_xlate(0, addr("4G", 3), W) + \
        m_inval(1, 1, P1, addr("4G"), 4) + m_inval(2, 0, P0) + m_attach(0, 6)
    s["identity-passthrough"] = bytes([0x00, 0, 0]) + m_map(2, addr("1T"), 1024) + \
        m_attach(1, 2) + m_xlate(1, addr("1T", 600)) + m_attach(0, 3) + \
        m_xlate(0, addr("4G", 1)) + m_xlate(0, addr("0", 1), W | U | X) + \
        m_map(0, addr("2^47", -2), 2) + m_map(0, addr("2^47", -1), 2) + m_map(0, addr("2^48"), 1) + \
        m_map(1, addr("2^56", -512), 512) + m_map(1, addr("upper57"), 1) + m_map(0, addr("0"), 0)
    # a guest repoints a warm large leaf and invalidates one page of it (iotlb.h)
    s["large-leaf-one-page"] = hdr + m_attach(0, 0) + m_attach(1, 1) + m_bind(0, P1, 3) + \
        m_bind(1, P2, 4) + m_large_leaf(3, False, addr("4G"), 3, 77) + \
        m_large_leaf(4, True, addr("1T"), 9, 5000) + m_large_leaf(3, True, addr("2^46"), 2, 1) + \
        m_large_leaf(4, False, addr("2M"), 4, 511)
    # map, unmap and PASID ranges that end at, or run past, 2^47, 2^48, 2^56, 2^57 and 2^64
    edges = hdr + m_attach(0, 0) + m_bind(0, P1, 3)
    for a_sel in range(0, 5 * 16, 11):
        for b_sel in (0, 1, 2, 3, 4, 0x0c, 0x10, 0x1c, 0x80, 0xa0, 0xe0):
            edges += m_edge(5, a_sel % 5, a_sel, b_sel) + m_edge(6, (a_sel + 1) % 5, a_sel, b_sel)
            edges += m_edge(7, 0, a_sel, b_sel)
    s["edges-near-2-64"] = edges
    s.update(map_format_seeds())
    return s


# config byte: bits 0-1 IOTLB geometry, bits 2-5 the variant (fuzz_map.c, struct variant:
# the shapes of T0, T5 and T6), bits 6-7 the page sizes of T1, T5, T6 (pgsize_masks)
def m_config(geo=1, variant=0, sizes=0):
    return geo | variant << 2 | sizes << 6


T5, T6, D4, D5 = 5, 6, 4, 5
WO = 0x52  # write-only (0x50: no READ) and W
RD = 1     # DMAR_ACCESS_READ


def map_format_seeds():
    s = {}
    # VT-d second stage, 4 levels with X honoured and 1 GiB leaves (variant 1): write-only
    # pages, X, SNOOP, 2 MiB and 1 GiB leaves split by partial unmaps
    hdr = bytes([m_config(1, 1, 0), 32, 16])
    s["vtd-write-only-exec"] = hdr + m_attach(0, D4) + m_attach(1, D4) + \
        m_map(T5, addr("4G"), 4, WO) + m_xlate(0, addr("4G", 1), RD, walk_table=T5) + \
        m_xlate(0, addr("4G", 1), W, walk_table=T5) + m_xlate(0, addr("4G", 2), X, walk_table=T5) + \
        m_map(T5, addr("4G", 8), 4, 0x06) + m_xlate(1, addr("4G", 9), X | RD, walk_table=T5) + \
        m_map(T5, addr("4G", 16), 4, 0x06 | 0x20) + m_xlate(1, addr("4G", 17), RD | U, walk_table=T5) + \
        m_map(T5, addr("2M"), 512, 0x0a) + m_xlate(0, addr("2M", 7), W | X, walk_table=T5) + \
        m_unmap(T5, addr("2M", 300), 1) + m_xlate(0, addr("2M", 7), W, walk_table=T5) + \
        m_map(T5, addr("1G"), 262144, 0x04) + m_xlate(0, addr("1G", 1000), X, walk_table=T5) + \
        m_unmap(T5, addr("1G", 512), 1) + m_xlate(0, addr("1G", 600), X | RD, walk_table=T5) + \
        m_batch(1, [(addr("4G", i % 20), (i % 4) * 2 | (i & 1), None) for i in range(30)]) + \
        m_map(T5, addr("4G", 40), 1, 0x50) + m_map(T5, addr("4G", 41), 1, 0xfe) + \
        m_map(T5, addr("4G", 42), 1, 0xff)
    # VT-d without X (variant 0): execution follows read; 3 levels, 39 bits (variant 2)
    s["vtd-exec-follows-read"] = bytes([m_config(2, 0, 0), 32, 0]) + m_attach(0, D4) + \
        m_map(T5, addr("4G"), 2, WO) + m_map(T5, addr("4G", 2), 2, 0x04) + \
        m_xlate(0, addr("4G"), X, walk_table=T5) + m_xlate(0, addr("4G", 2), X, walk_table=T5) + \
        m_xlate(0, addr("4G", 3), RD | W, walk_table=T5)
    s["vtd-3level-width"] = bytes([m_config(0, 2, 0), 32, 32]) + m_attach(0, D4) + \
        m_map(T5, addr("512G", -4), 4) + m_map(T5, addr("512G", -2), 4) + \
        m_xlate(0, addr("512G", -1), RD, walk_table=T5) + m_xlate(0, addr("512G"), RD, walk_table=T5) + \
        m_unmap(T5, addr("512G", -8), 16) + m_edge(5, T5, 0, 0) + m_edge(6, T5, 0, 0x80)
    # AMD-Vi v1, 4 levels, sizes of several slots (8 KiB, 64 KiB, 1 MiB, 2 MiB: mask 2)
    hdr = bytes([m_config(2, 0, 2), 32, 16])
    s["amd-contiguous-small"] = hdr + m_attach(0, D5) + m_bind(D5, P1, 3) + \
        m_map(T6, addr("0", 16), 16) + m_map(T6, addr("0", 32), 2, WO) + \
        m_map(T6, addr("0", 256), 512, 0x26) + m_map(T6, addr("2M", 256), 513) + \
        m_xlate(0, addr("0", 20), RD, walk_table=T6) + m_xlate(0, addr("0", 33), W, walk_table=T6) + \
        m_xlate(0, addr("0", 300), X, walk_table=T6) + m_xlate(0, addr("2M", 768), RD, walk_table=T6) + \
        m_unmap(T6, addr("0", 20), 1) + m_xlate(0, addr("0", 21), RD, walk_table=T6) + \
        m_xlate(0, addr("0", 19), RD, walk_table=T6) + m_unmap(T6, addr("0", 300), 3) + \
        m_xlate(0, addr("0", 256), RD, walk_table=T6) + m_xlate(0, addr("0", 511), RD, walk_table=T6) + \
        m_unmap(T6, addr("0", 270), 64) + m_xlate(0, addr("0", 490), W, walk_table=T6) + \
        m_batch(0, [(addr("0", 250 + i * 3), i & 3, None) for i in range(40)])
    # AMD-Vi, 4 levels, with accessed/dirty updates (variant 7), 16 KiB and 4 MiB leaves
    s["amd-contiguous-large-ad"] = bytes([m_config(3, 7, 3), 32, 0]) + m_attach(1, D5) + \
        m_map(T6, addr("1G"), 1024) + m_map(T6, addr("4G", 4), 4, 0x02) + \
        m_xlate(1, addr("1G", 5), W, walk_table=T6) + m_xlate(1, addr("1G", 1025), RD, walk_table=T6) + \
        m_xlate(1, addr("4G", 5), RD | W, walk_table=T6) + m_unmap(T6, addr("1G", 700), 1) + \
        m_xlate(1, addr("1G", 5), RD, walk_table=T6) + m_xlate(1, addr("1G", 1000), RD, walk_table=T6) + \
        m_unmap(T6, addr("4G", 5), 1) + m_xlate(1, addr("4G", 6), W, walk_table=T6)
    # AMD-Vi, 6 levels: all 64 bits (variant 1), a 64-bit device; ranges near 2^64
    s["amd-6level-top"] = bytes([m_config(1, 1, 0), 32, 32]) + m_attach(0, D5) + \
        m_map(T6, addr("top", -16), 16, pa_page=0x1230) + m_xlate(0, addr("top", -1), RD, walk_table=T6) + \
        m_xlate(0, addr("2^57", 3), RD, walk_table=T6) + m_map(T6, addr("2^57"), 8, 0x02, pa_page=0x3000) + m_map(T6, addr("2^57", 16), 1, pa_page=0x3010) +\
        m_xlate(0, addr("2^57", 16), RD, walk_table=T6) + m_xlate(0, addr("0", 16), RD, walk_table=T6) + \
        m_xlate(0, addr("2^57", 3), W, walk_table=T6) + m_xlate(0, addr("0", 3), RD, walk_table=T6) + \
        m_unmap(T6, addr("top", -8), 4) + m_edge(5, T6, 4, 4) + m_edge(6, T6, 4, 0x84) + \
        m_edge(5, T6, 3, 3)
    # AMD-Vi, 1 level (21 bits, variant 5) and 2 levels (30 bits, variant 4)
    s["amd-1level"] = bytes([m_config(1, 5, 0), 32, 0]) + m_attach(0, D5) + \
        m_map(T6, addr("0", 256), 64) + m_map(T6, addr("0", 511), 2) + \
        m_xlate(0, addr("0", 300), RD | W, walk_table=T6) + m_xlate(0, addr("0", 512), RD, walk_table=T6) + \
        m_unmap(T6, addr("0", 384), 1) + m_xlate(0, addr("0", 385), RD, walk_table=T6)
    s["amd-2level"] = bytes([m_config(1, 4, 2), 32, 0]) + m_attach(0, D5) + \
        m_map(T6, addr("1G", -512), 512) + m_map(T6, addr("1G"), 1) + \
        m_xlate(0, addr("1G", -3), W, walk_table=T6) + m_unmap(T6, addr("1G", -256), 1) + \
        m_xlate(0, addr("1G", -255), RD, walk_table=T6)
    # one device moves between the three formats' domains under one IOTLB (S18)
    s["formats-switch"] = bytes([m_config(2, 3, 0), 32, 32]) + m_attach(0, 0) + \
        m_map(0, addr("4G"), 8, 0x06, pa_page=0x100) + m_map(T5, addr("4G"), 8, 0x06, pa_page=0x200) + \
        m_map(T6, addr("4G"), 8, 0x06, pa_page=0x300) + m_xlate(0, addr("4G", 1)) + \
        m_excl(0, 3, D4, addr("4G", 2)) + m_xlate(0, addr("4G", 1)) + \
        m_excl(0, 3, D5, addr("4G", 2)) + m_xlate(0, addr("4G", 1), W) + \
        m_attach(0, 0x80) + m_attach(0, D4) + m_xlate(0, addr("4G", 1)) + m_destroy(D4)
    return s


# ---- fuzz_walk ----
P, RW_, US, PS, XD = 1, 2, 4, 0x80, 1 << 63


def walk_memory():
    pages = [bytearray(4096) for _ in range(5)]

    def put(page, idx, val):
        pages[page][idx * 8:idx * 8 + 8] = u64(val)
    put(0, 0, 0x1000 | P | RW_ | US)          # PML4[0] -> PDPT (page 1)
    put(0, 511, 0x1000 | P | RW_)             # PML4[511]: the upper half, same PDPT
    put(0, 2, (4 << 30) | P | RW_ | US)       # PML4[2] -> the page at 4 GiB (a copy of 0)
    put(1, 0, 0x2000 | P | RW_ | US)          # PDPT[0] -> PD (page 2)
    put(1, 1, (1 << 30) | P | RW_ | PS)       # PDPT[1]: a 1 GiB leaf, supervisor
    put(1, 2, (3 << 30) | 0x2000 | P | PS)    # a 1 GiB leaf with reserved bits
    put(1, 3, 0x1000 | P | RW_ | US)          # PDPT[3] -> page 1 again (a loop)
    put(2, 0, 0x3000 | P | RW_ | US)          # PD[0] -> PT (page 3)
    put(2, 1, (2 << 20) * 100 | P | RW_ | US | PS | 0x1000)  # 2 MiB leaf, PAT
    put(2, 2, 0x10000000 | P | PS | XD)       # 2 MiB leaf, read-only, no exec
    put(2, 3, 0x7000 | P | RW_ | US)          # PD[3] -> outside memory
    put(3, 0, 0x5000 | P | RW_ | US | XD)     # PT[0]
    put(3, 1, 0xabcd000 | P | US)             # PT[1]: read-only
    put(3, 2, 0xfedc000 | P | RW_ | 0x18 | 0x100)  # PT[2]: PWT PCD G, supervisor
    put(3, 3, (1 << 45) | P | RW_ | US)       # PT[3]: beyond a 40-bit MAXPHYADDR
    put(3, 4, 0x4000 | RW_)                   # not present
    return b"".join(bytes(p) for p in pages)


def w_write(off, val, space=True):
    return bytes([2 | (4 if space else 0)]) + struct.pack("<H", off) + u64(val)


def w_root(root):
    return bytes([3]) + u64(root)


def w_walk(va, acc, translate_first=False):
    return bytes([1 if translate_first else 0]) + u64(va) + bytes([acc])


def walk_seeds():
    mem = walk_memory()
    vas = [0, 0x1000, 0x1008, 0x2000, 0x3000, 0x4000, 0x200000 + 0x1234, 0x400000 + 8,
           0x600000, (1 << 30) + 0x12345, (2 << 30), (3 << 30) + 0x1000,
           0xffff800000000000, 0xffffff8000001000, (1 << 47), (2 << 39) + 0x1000, 0x8000000000]
    accs = [R, W, U, X, W | U, W | U | X]
    ops = b"".join(w_walk(va, accs[i % len(accs)]) for i, va in enumerate(vas))
    ops2 = ops + w_write(3 * 4096 + 8, 0xabcd000 | P | RW_ | US) + w_walk(0x1000, W) + \
        w_write(1 * 4096, 0, space=False) + w_walk(0x1000, R) + w_root(0x1000) + w_walk(0, R)
    nops = len(vas)
    s = {}
    # [format][ext][root:8][nops]: see fuzz_walk.c.  x86-64 (ext kind 0): format bit0 5 levels,
    # bit1 upper half, bits 2..7 MAXPHYADDR selector, bit7 ways; ext bit 2 AD, bits 3-4
    # read-only memory, bit 5 an IOVA table
    s["4level"] = bytes([0x02, 0]) + u64(0) + bytes([nops]) + ops + mem
    s["4level-pa40"] = bytes([0x02 | (8 << 2), 0]) + u64(0) + bytes([nops]) + ops + mem
    s["5level"] = bytes([0x03, 0]) + u64(0x1000) + bytes([nops]) + ops + mem
    s["writes"] = bytes([0x82, 0]) + u64(0) + bytes([nops + 6]) + ops2 + mem
    s["high-root"] = bytes([0x00, 0]) + u64(4 << 30) + bytes([nops]) + ops + mem
    s["self-loop"] = bytes([0x01, 0]) + u64(0) + bytes([3]) + w_walk(0, W) + \
        w_walk(0x123456789000, R) + w_walk(0xfff000, X) + u64(0x0000 | P | RW_ | US)
    s["root-reserved"] = bytes([0x04, 0]) + u64(1 << 51) + bytes([1]) + w_walk(0, R) + mem[:4096]
    s["x86-iova"] = bytes([0x00, 0x20]) + u64(0) + bytes([nops]) + ops + mem
    # accessed/dirty updates: each address read, then written, in both orders (a cached
    # translation whose leaf has D clear must be walked again by the first write)
    ad_ops = b"".join(w_walk(va, R, i % 2 == 1) + w_walk(va, W, i % 3 == 1) + w_walk(va, R)
                      for i, va in enumerate(vas))
    ad_n = 3 * len(vas)
    s["x86-ad"] = bytes([0x02, 0x04]) + u64(0) + bytes([ad_n]) + ad_ops + mem
    s["x86-ad-readonly"] = bytes([0x02, 0x04 | 0x18]) + u64(0) + bytes([ad_n]) + ad_ops + mem
    s["x86-ad-readonly-high"] = bytes([0x00, 0x04 | 0x10]) + u64(4 << 30) + bytes([ad_n]) + \
        ad_ops + mem
    s.update(vtd_seeds())
    s.update(amd_seeds())
    # raw formats (ext kind 3), most of them bad: every entry point must refuse those
    for name, b0, ext in (("raw-bad-kind", 0x03, 0x83), ("raw-bad-levels", 0x01, 0xe3),
                          ("raw-exec-on-x86", 0x20, 0x83), ("raw-upper-and-iova", 0x0c, 0x83),
                          ("raw-bad-pa-bits", 0x00, 0x87), ("raw-unknown-flag", 0x81, 0x63),
                          ("raw-amd-6-levels", 0x02, 0xd3), ("raw-vtd-1g-ad", 0x51, 0x63)):
        s[name] = bytes([b0, ext]) + u64(0) + bytes([2]) + w_walk(0, R) + w_walk(1 << 30, W) + \
            mem
    return s


# ---- fuzz_walk, Intel VT-d second stage ----
VR, VW, VX, VPS, VA, VD, VSNP = 1, 2, 4, 0x80, 0x100, 0x200, 0x800


def vtd_memory():
    pages = [bytearray(4096) for _ in range(5)]

    def put(page, idx, val):
        pages[page][idx * 8:idx * 8 + 8] = u64(val)
    put(0, 0, 0x1000 | VR | VW | VX)          # L4[0] -> L3 (page 1)
    put(0, 1, 0x1000 | VW)                    # L4[1]: write-only path
    put(0, 2, 0x1000 | VR)                    # L4[2]: read-only, no X
    put(0, 3, 0x1000 | VR | VW | VPS)         # L4[3]: PS above level 3: reserved
    put(0, 4, 0x1000 | VX)                    # L4[4]: X alone is not present
    put(0, 5, 0x9000 | VR | VW)               # L4[5]: a table outside memory
    put(0, 6, (4 << 30) | VR | VW | VX)       # L4[6] -> the page at 4 GiB (a copy of 0)
    put(1, 0, 0x2000 | VR | VW | VX)          # L3[0] -> L2 (page 2)
    put(1, 1, (1 << 30) | VR | VW | VX | VPS | VSNP)  # a 1 GiB leaf (reserved without 1G)
    put(1, 2, (1 << 30) | (1 << 21) | VR | VPS)       # a misaligned 1 GiB leaf
    put(1, 3, 0x2000 | VR)                    # L3[3] -> L2, read-only
    put(1, 4, 0x1000 | VR | VW | VX)          # L3[4] -> itself (a loop)
    put(1, 5, (1 << 45) | 0x2000 | VR | VW)   # beyond a 40-bit MAXPHYADDR
    put(2, 0, 0x3000 | VR | VW | VX)          # L2[0] -> L1 (page 3)
    put(2, 1, (100 << 21) | VR | VW | VPS | VSNP)    # a 2 MiB leaf
    put(2, 2, (101 << 21) | VW | VX | VPS)           # a write-only 2 MiB leaf
    put(2, 3, (102 << 21) | 0x1000 | VR | VPS)       # a misaligned 2 MiB leaf
    put(2, 4, (103 << 21) | VR | VX | VPS | VA | VD)  # A and D already set
    put(3, 0, 0x5000 | VR | VW | VX)          # L1: 4 KiB leaves
    put(3, 1, 0xabcd000 | VR)
    put(3, 2, 0xabce000 | VW)                 # write-only
    put(3, 3, 0xabcf000 | VR | VW | VX | VSNP)
    put(3, 4, 0xabd0000 | VX)                 # X alone: not present
    put(3, 5, 0xabd1000 | VR | VW | VPS)      # PS at level 1 means nothing
    put(3, 6, 0xabd2000 | VR | VW | VA | VD)
    put(3, 7, (1 << 45) | VR)                 # beyond a 40-bit MAXPHYADDR
    put(4, 0, 0x0000 | VR | VW | VX)          # L5[0] -> L4 (page 0)
    put(4, 1, 0x1000 | VR | VW | VX | VA)     # L5[1] -> page 1 read as a level 4 table
    return b"".join(bytes(p) for p in pages)


def vtd_seeds():
    mem = vtd_memory()
    vas = [0, 0x1000, 0x2000, 0x3000, 0x4000, 0x5000, 0x6000, 0x7000, 0x200000, 0x400123,
           0x600000, 0x800000, 1 << 30, (2 << 30) + 0x5000, 3 << 30, (4 << 30) + 0x1000,
           5 << 30, 1 << 39, (1 << 39) + 0x2000, 2 << 39, 3 << 39, 4 << 39, 5 << 39, 6 << 39,
           1 << 48, 1 << 57]
    accs = [RD, W, X, RD | W, W | X, U, RD | W | X | U, 0]
    ops = b"".join(w_walk(va, RD, i % 5 == 4) + w_walk(va, W) +
                   w_walk(va, accs[i % len(accs)], i % 2 == 1) for i, va in enumerate(vas))
    n = 3 * len(vas)
    ad_ops = b"".join(w_walk(va, RD, i % 2 == 1) + w_walk(va, W, i % 3 == 1) +
                      w_walk(va, X, i % 2 == 0) for i, va in enumerate(vas))
    ad_n = 3 * len(vas)
    s = {}
    # VT-d (ext kind 1): format bit0 EXEC, bit1 1G; ext bits 5-7 levels (0: 3, 1: 4, 2: 5)
    s["vtd-4level"] = bytes([0x00, 0x21]) + u64(0) + bytes([n]) + ops + mem
    s["vtd-4level-exec-1g"] = bytes([0x03, 0x21]) + u64(0) + bytes([n]) + ops + mem
    s["vtd-3level-exec-pa40"] = bytes([0x01 | (8 << 2), 0x01]) + u64(0x1000) + bytes([n]) + \
        ops + mem
    s["vtd-5level-1g"] = bytes([0x02, 0x41]) + u64(0x4000) + bytes([n]) + ops + mem
    s["vtd-4level-ad"] = bytes([0x03, 0x25]) + u64(0) + bytes([ad_n]) + ad_ops + mem
    s["vtd-4level-ad-readonly"] = bytes([0x01, 0x25 | 0x08]) + u64(0) + bytes([ad_n]) + \
        ad_ops + mem
    s["vtd-writes"] = bytes([0x83, 0x21]) + u64(0) + bytes([n + 4]) + ops[:len(ops) // 2] + \
        w_write(2 * 4096 + 8, (100 << 21) | VW | VPS) + w_walk(0x200000, RD) + \
        w_write(3 * 4096, 0, space=False) + w_walk(0, W) + ops[len(ops) // 2:] + mem
    return s


# ---- fuzz_walk, AMD-Vi v1 ----
APR, AIR, AIW, AFC, AA, AD_ = 1, 1 << 61, 1 << 62, 1 << 60, 1 << 5, 1 << 6


def nl(level):
    return level << 9


def amd_size(base, lg2):
    """A size-encoded leaf's address field: the page at base, 2^lg2 bytes."""
    return base | (((1 << (lg2 - 13)) - 1) << 12) | nl(7)


def amd_memory():
    pages = [bytearray(4096) for _ in range(6)]
    rw = APR | AIR | AIW

    def put(page, idx, val):
        pages[page][idx * 8:idx * 8 + 8] = u64(val)
    # page 0: level 4
    put(0, 0, 0x1000 | rw | nl(3))            # -> level 3 (page 1)
    put(0, 1, 0x2000 | rw | nl(2))            # -> level 2, skipping level 3
    put(0, 2, 0x1000 | APR | AIR | nl(3))     # read-only path
    put(0, 3, 0x1000 | rw | nl(4))            # next level not below: reserved
    put(0, 4, rw)                             # a 512 GiB leaf
    put(0, 5, amd_size(1 << 40, 40))          # a 1 TiB size-encoded leaf (no IR/IW)
    put(0, 6, 0x1000 | AIR | AIW | nl(3))     # not present
    put(0, 7, 0x1000 | rw | nl(3) | (1 << 52))  # reserved bit 52
    put(0, 8, 0x3000 | rw | nl(1))            # -> level 1, skipping 3 and 2
    put(0, 9, 0x1000 | APR | AIW | nl(3))     # write-only path
    put(0, 10, (4 << 30) | rw | nl(3))        # -> the page at 4 GiB (a copy of page 0)
    put(0, 11, 0x9000 | rw | nl(3))           # a table outside memory
    # page 1: level 3
    put(1, 0, 0x2000 | rw | nl(2))
    put(1, 1, (1 << 30) | rw | AFC)           # a 1 GiB leaf, force coherent
    put(1, 2, amd_size(1 << 31, 31) | rw)     # a 2 GiB size-encoded leaf ...
    put(1, 3, amd_size(1 << 31, 31) | rw)     # ... in both its slots
    put(1, 4, (1 << 30) | (1 << 21) | rw)     # a misaligned 1 GiB leaf: reserved
    put(1, 5, amd_size(0x10000, 13) | rw)     # 8 KiB at level 3: too small, reserved
    put(1, 6, 0x2000 | APR | AIW | nl(2))     # write-only below
    put(1, 7, amd_size(1 << 38, 38) | rw)     # 256 GiB at level 3 (the largest there)
    # page 2: level 2
    put(2, 0, 0x3000 | rw | nl(1))
    put(2, 1, (100 << 21) | rw)               # a 2 MiB leaf
    put(2, 2, amd_size(1 << 30, 22) | rw)     # a 4 MiB leaf in its two slots
    put(2, 3, amd_size(1 << 30, 22) | rw)
    put(2, 4, amd_size(1 << 31, 29) | APR | AIR)  # 512 MiB, the largest at level 2
    put(2, 5, amd_size(1 << 32, 30) | rw)     # 1 GiB at level 2: reserved
    put(2, 6, 0x3000 | rw | nl(2))            # a table at its own level: reserved
    # page 3: level 1
    put(3, 0, 0x5000 | rw)
    put(3, 1, 0xabcd000 | APR | AIR)
    put(3, 2, 0xabce000 | APR | AIW)          # write-only
    put(3, 3, 0xabcf000 | APR)                # present, no access
    put(3, 4, amd_size(0x10000, 13) | rw)     # an 8 KiB leaf in its two slots
    put(3, 5, amd_size(0x10000, 13) | rw)
    put(3, 6, amd_size(0x100000, 20) | rw | AFC)  # 1 MiB (the largest at level 1)
    put(3, 7, amd_size(0x200000, 21) | rw)    # 2 MiB at level 1: reserved
    put(3, 8, 0xabd0000 | rw | AFC | AA | AD_)
    put(3, 9, 0x3000 | rw | nl(1))            # a table at level 1: reserved
    put(3, 10, (1 << 45) | rw)                # beyond a 40-bit MAXPHYADDR
    # page 4: level 5
    put(4, 0, 0x0000 | rw | nl(4))
    put(4, 1, 0x1000 | rw | nl(3))            # skips level 4
    put(4, 2, amd_size(1 << 49, 49) | rw)     # a 2^49 leaf
    put(4, 3, rw)                             # a 2^48 leaf
    # page 5: level 6
    put(5, 0, 0x4000 | rw | nl(5))
    put(5, 1, rw)                             # a leaf at level 6: reserved
    put(5, 2, 0x0000 | rw | nl(4))            # skips level 5
    return b"".join(bytes(p) for p in pages)


def amd_seeds():
    mem = amd_memory()
    low = [0, 0x1000, 0x2000, 0x3000, 0x4000, 0x5000, 0x6000, 0x7000, 0x8000, 0x9000, 0xa000,
           0x200000, 0x400000, 0x600000, 0x800000, 0xa00000, 0xc00000]
    l3 = [1 << 30, 2 << 30, 3 << 30, 4 << 30, 5 << 30, 6 << 30, 7 << 30]
    l4 = [1 << 39, (1 << 39) | (1 << 30), 2 << 39, 3 << 39, (4 << 39) + 0x12345000,
          5 << 39, 6 << 39, 7 << 39, 8 << 39, (8 << 39) | (1 << 21), 9 << 39, 10 << 39,
          11 << 39]
    l5 = [1 << 48, (1 << 48) | (1 << 39), 2 << 48, 3 << 48]
    l6 = [1 << 57, 2 << 57, (2 << 57) | (1 << 48)]
    accs = [RD, W, X, RD | W, W | X, U, RD | W | X | U, 0]
    s = {}
    # AMD-Vi (ext kind 2): ext bits 5-7 levels - 1; root: the page of that level
    for levels, root, vas in ((1, 0x3000, low[:11]), (2, 0x2000, low), (3, 0x1000, low + l3),
                              (4, 0, low + l3 + l4), (5, 0x4000, low[:3] + l4[:4] + l5),
                              (6, 0x5000, low[:3] + l4[:2] + l5 + l6)):
        vas = vas + [(1 << (12 + 9 * levels)) if levels < 6 else ~0 & (2**64 - 4096)]
        ops = b"".join(w_walk(va, RD, i % 4 == 3) + w_walk(va, W) +
                       w_walk(va, accs[i % len(accs)], i % 2 == 1) for i, va in enumerate(vas))
        s[f"amd-{levels}level"] = bytes([0x00, 0x02 | (levels - 1) << 5]) + u64(root) + \
            bytes([3 * len(vas)]) + ops + mem
    vas = low + l3 + l4
    ad_ops = b"".join(w_walk(va, RD, i % 2 == 1) + w_walk(va, W, i % 3 == 1) + w_walk(va, RD)
                      for i, va in enumerate(vas[:80]))
    ad_n = 3 * len(vas[:80])
    s["amd-4level-ad"] = bytes([0x01, 0x02 | 0x04 | 3 << 5]) + u64(0) + bytes([ad_n]) + \
        ad_ops + mem
    s["amd-4level-ad-readonly"] = bytes([0x00, 0x02 | 0x04 | 0x18 | 3 << 5]) + u64(0) + \
        bytes([ad_n]) + ad_ops + mem
    s["amd-4level-pa40"] = bytes([8 << 2, 0x02 | 3 << 5]) + u64(0) + bytes([len(vas)]) + \
        b"".join(w_walk(va, RD | X) for va in vas) + mem
    s["amd-writes"] = bytes([0x80, 0x02 | 3 << 5]) + u64(0) + bytes([6]) + w_walk(0x400000, W) + \
        w_write(2 * 4096 + 16, amd_size(1 << 30, 22) | APR | AIR) + w_walk(0x400000, W) + \
        w_write(0 * 4096 + 8, 0x2000 | APR | AIR | AIW | nl(1)) + w_walk(1 << 39, RD) + \
        w_root(0x1000) + w_walk(0, RD) + mem
    return s


# ---- fuzz_batch ----
def b_map(a, pages, pa_page, prot=0x06):
    return a + size(pages) + u32(pa_page) + bytes([prot])


def b_round(reqs):
    n = len(reqs)
    out = bytes([0 | (4 if n > 256 else 0), (n - 1) % 256])
    for a, acc in reqs:
        out += a + bytes([acc])
    return out


def b_unmap(a, pages):
    return bytes([2]) + a + size(pages)


def b_inval(how, a=addr("0"), pages=1):
    return bytes([3 | how << 2]) + (a + size(pages) if how == 2 else b"")


def batch_seeds():
    maps = [b_map(addr("2M"), 512, 0x200, 0x06), b_map(addr("1G"), 262144, 0x40000, 0x0e),
            b_map(addr("4G", 3), 40, 0x12345, 0x02), b_map(addr("2^47", -4), 4, 0x1, 0x7e),
            b_map(addr("upper48"), 8, 0x55, 0x0a)]
    reqs = [(addr("2M", i * 7 % 600 - 40), (i * 0x35) & 0x7f) for i in range(100)]
    reqs += [(addr("1G", i * 131 % 3000), i & 0xe) for i in range(60)]
    reqs += [(addr("4G", i), 0x12) for i in range(50)]
    body = b"".join(maps)
    rounds = b_round(reqs) + b_unmap(addr("2M", 100), 3) + b_round(reqs[:80]) + \
        b_unmap(addr("1G", 512), 513) + b_inval(2, addr("1G", 700), 1) + b_round(reqs[100:160]) + \
        b_inval(0) + b_round(reqs) + b_inval(1) + b_round(reqs[::3])
    s = {}
    s["4level"] = bytes([0x0c, len(maps)]) + body + rounds
    s["5level-upper-8way"] = bytes([0x80 | 0x1f, len(maps)]) + body + rounds
    s["4k-only"] = bytes([0x20 | 0x04, len(maps)]) + body[:2 * 9] + rounds
    big = [(addr("2M", i % 512), 0) for i in range(300)]
    s["chunks"] = bytes([0x40, 2]) + maps[0] + maps[1] + b_round(big) + b_round(big)
    return s


def main():
    for name, seeds in (("map", map_seeds()), ("walk", walk_seeds()), ("batch", batch_seeds())):
        d = os.path.join(HERE, name, "corpus")
        os.makedirs(d, exist_ok=True)
        for k, v in seeds.items():
            with open(os.path.join(d, "seed-" + k), "wb") as f:
                f.write(v)
        print(f"{name}: {len(seeds)} seeds in {d}")


if __name__ == "__main__":
    main()
