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
R, W, U, X = 0, 2, 8, 4  # access bits (W=2, X=4, U=8 as in dmar_access)


def m_map(table, a, pages, prot=0x06, pa_page=None, hi_bits=0):
    """prot: the byte the harness masks with 0x7e (READ is added)."""
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


def m_attach(dev, dom):  # dom 4: NULL; dom | 0x80: detach
    return bytes([0x0a | dev << 4, dom])


def m_excl(dev, how, dom=0, a=addr("0")):
    return bytes([0x0b | (dev | how << 1) << 4, dom]) + a


def m_bind(dom, pasid, table=3, unbind=False):
    return bytes([0x0c, dom | (table - 3) << 2 | (0x80 if unbind else 0), pasid])


def m_link(a):
    return bytes([0x0d | a << 4])


def m_destroy(what):  # 0..3 domains (behind a magic byte), 4..5 devices
    return bytes([0x0e | what << 4]) + (b"\xd0" if what < 4 else b"")


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
        m_xlate(1, addr("2^48", 1)) + m_destroy(4) + m_destroy(5) + m_destroy(4)
    s["rollover"] = hdr + m_attach(0, 0) + m_map(0, addr("0", 16), 4) + \
        m_xlate(0, addr("0", 17)) + m_inval(3) + m_xlate(0, addr("0", 17)) + \
        m_unmap(0, addr("0", 17), 1) + m_xlate(0, addr("0", 17))
    s["lifecycle"] = bytes([0x48, 0, 64]) + m_attach(0, 0) + m_destroy(0) + \
        m_attach(0, 0x80) + m_destroy(0) + m_pasid(True) + m_bind(1, ALLOC, 4) + \
        m_pasid(False, ALLOC) + m_bind(1, ALLOC, 4, unbind=True) + m_pasid(False, ALLOC) + \
        m_map(2, addr("4G"), 512) + m_attach(0, 2) + m_xlate(0, addr("4G", 3), W) + \
        m_inval(1, 1, P1, addr("4G"), 4) + m_inval(2, 0, P0) + m_attach(0, 4)
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


def w_walk(va, acc):
    return bytes([0]) + u64(va) + bytes([acc])


def w_write(off, val, space=True):
    return bytes([2 | (4 if space else 0)]) + struct.pack("<H", off) + u64(val)


def w_root(root):
    return bytes([3]) + u64(root)


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
    # format byte: bit0 5 levels, bit1 upper half, bits 2..7 MAXPHYADDR selector, bit7 ways
    s["4level"] = bytes([0x02]) + u64(0) + bytes([nops]) + ops + mem
    s["4level-pa40"] = bytes([0x02 | (8 << 2)]) + u64(0) + bytes([nops]) + ops + mem
    s["5level"] = bytes([0x03]) + u64(0x1000) + bytes([nops]) + ops + mem
    s["writes"] = bytes([0x82]) + u64(0) + bytes([nops + 6]) + ops2 + mem
    s["high-root"] = bytes([0x00]) + u64(4 << 30) + bytes([nops]) + ops + mem
    s["self-loop"] = bytes([0x01]) + u64(0) + bytes([3]) + w_walk(0, W) + w_walk(0x123456789000, R) + \
        w_walk(0xfff000, X) + u64(0x0000 | P | RW_ | US)
    s["root-reserved"] = bytes([0x04]) + u64(1 << 51) + bytes([1]) + w_walk(0, R) + mem[:4096]
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
