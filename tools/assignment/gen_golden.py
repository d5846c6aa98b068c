#!/usr/bin/python3
"""Generate libs/assignment/src/__golden__/murmur3.json.

An implementation of the assignment hash that is independent of the TypeScript one:
MurmurHash3 x86 32-bit written here in pure Python from Austin Appleby's reference
algorithm (smhasher, MurmurHash3.cpp, MurmurHash3_x86_32), plus chi-square survival
values from SciPy (when it is installed) for the local chi-square test.

Run from the repository root:  /usr/bin/python3 tools/assignment/gen_golden.py
"""
import json
import os
import sys

BUCKETS = 10000
MASK = 0xFFFFFFFF


def rotl32(x, r):
    return ((x << r) | (x >> (32 - r))) & MASK


def fmix32(h):
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & MASK
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & MASK
    h ^= h >> 16
    return h


def murmur3_x86_32(data: bytes, seed: int = 0) -> int:
    c1, c2 = 0xCC9E2D51, 0x1B873593
    h1 = seed & MASK
    n = len(data)
    nblocks = n // 4
    for i in range(nblocks):
        k1 = int.from_bytes(data[4 * i:4 * i + 4], "little")
        k1 = (k1 * c1) & MASK
        k1 = rotl32(k1, 15)
        k1 = (k1 * c2) & MASK
        h1 ^= k1
        h1 = rotl32(h1, 13)
        h1 = (h1 * 5 + 0xE6546B64) & MASK
    tail = data[4 * nblocks:]
    k1 = 0
    if len(tail) >= 3:
        k1 ^= tail[2] << 16
    if len(tail) >= 2:
        k1 ^= tail[1] << 8
    if len(tail) >= 1:
        k1 ^= tail[0]
        k1 = (k1 * c1) & MASK
        k1 = rotl32(k1, 15)
        k1 = (k1 * c2) & MASK
        h1 ^= k1
    h1 ^= n
    return fmix32(h1)


def bucket(salt: str, unit_id: str) -> int:
    return murmur3_x86_32(f"{salt}:{unit_id}".encode("utf-8"), 0) % BUCKETS


# Published reference values (smhasher verification / widely cited test vectors).
KNOWN = [
    ("", 0, 0x00000000),
    ("", 1, 0x514E28B7),
    ("", 0xFFFFFFFF, 0x81F16F39),
    ("a", 0x9747B28C, 0x7FA09EA6),
    ("abc", 0, 0xB3DD93FA),
    ("aaaa", 0x9747B28C, 0x5A97808A),
    ("Hello, world!", 0x9747B28C, 0x24884CBA),
    ("The quick brown fox jumps over the lazy dog", 0x9747B28C, 0x2FA826CD),
    ("hello", 0, 0x248BFA47),
]


def main():
    for s, seed, want in KNOWN:
        got = murmur3_x86_32(s.encode("utf-8"), seed)
        if got != want:
            sys.exit(f"reference vector mismatch for {s!r} seed {seed}: {got:#x} != {want:#x}")

    raw = [{"input": s, "seed": seed, "hash": murmur3_x86_32(s.encode("utf-8"), seed)} for s, seed, _ in KNOWN]
    # Every tail length and a few block counts, with several seeds.
    alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"
    for n in range(0, 21):
        s = alphabet[:n]
        for seed in (0, 1, 42, 0x9747B28C, 0xFFFFFFFF):
            raw.append({"input": s, "seed": seed, "hash": murmur3_x86_32(s.encode("utf-8"), seed)})

    unit_ids = [
        "", "u-0", "u-1", "u-42", "user-123456", "0", ":", "a:b:c", " leading space", "trailing space ",
        "UPPER-lower", "x" * 200,
        # non-ASCII: 2-, 3- and 4-byte UTF-8 sequences, combining marks, RTL, NUL
        "café", "cafe\u0301", "Ärger-ß", "日本語ユーザー", "用户-七", "한국어", "عربي-٣", "עברית",
        "😀", "user-🚀-42", "👩‍👩‍👧", "\U0001F600\U0001F601", "naïve-ünïcødé", "\u0000nul", "tab\tid",
        "Ωμέγα", "ℝ²", "\u00a0nbsp", "\ufeffbom",
    ]
    salts = ["", "exp-1", "home-feed", "home", "home-feed:traffic", "checkout-2026", "sälz"]
    buckets = []
    for salt in salts:
        for uid in unit_ids:
            h = murmur3_x86_32(f"{salt}:{uid}".encode("utf-8"), 0)
            buckets.append({"salt": salt, "unitId": uid, "hash": h, "bucket": h % BUCKETS})
    # A run of sequential ids, the common case.
    for i in range(0, 200):
        uid = f"u-{i}"
        h = murmur3_x86_32(f"exp-seq:{uid}".encode("utf-8"), 0)
        buckets.append({"salt": "exp-seq", "unitId": uid, "hash": h, "bucket": h % BUCKETS})

    # End-to-end assignment vectors, computed with the layout in libs/assignment/README.md for a fresh
    # experiment (no earlier allocation): variant ranges contiguous in declared order with counts by the
    # largest-remainder method; traffic by the bucket of `${salt}:traffic`.
    weights = [("control", 50.0), ("a", 30.0), ("b", 20.0)]
    counts = largest_remainder([w for _, w in weights], BUCKETS)
    starts = []
    acc = 0
    for c in counts:
        starts.append(acc)
        acc += c
    traffic_percent = 80
    salt = "golden-exp"
    assignments = []
    for i in range(0, 300):
        uid = f"unit-{i}" if i % 7 else f"ünit-{i}-✓"
        b = bucket(salt, uid)
        tb = bucket(salt + ":traffic", uid)
        in_traffic = tb < round(traffic_percent * 100)
        variant = None
        if in_traffic:
            for (key, _), start, c in zip(weights, starts, counts):
                if start <= b < start + c:
                    variant = key
        assignments.append({
            "unitId": uid, "bucket": b, "trafficBucket": tb,
            "inExperiment": in_traffic, "variant": variant, "reason": None if in_traffic else "traffic",
        })

    chi2 = chi2_vectors()

    out = {
        "description": "Generated by tools/assignment/gen_golden.py (pure-Python MurmurHash3 x86 32, SciPy chi2). Do not edit.",
        "hashVersion": 1,
        "buckets": BUCKETS,
        "murmur3": raw,
        "unitBuckets": buckets,
        "assignment": {
            "salt": salt, "trafficPercent": traffic_percent,
            "variants": [{"key": k, "weight": w} for k, w in weights],
            "counts": counts, "units": assignments,
        },
        "chiSquare": chi2,
    }
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(here, "..", "..", "libs", "assignment", "src", "__golden__", "murmur3.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"wrote {os.path.normpath(path)}: {len(raw)} raw, {len(buckets)} buckets, {len(assignments)} assignments,"
          f" {len(chi2['gammaincc']) if chi2 else 0} gammaincc, {len(chi2['sf']) if chi2 else 0} chi2.sf")


def largest_remainder(weights, total):
    s = sum(weights)
    exact = [w * total / s for w in weights]
    base = [int(e // 1) for e in exact]
    rest = total - sum(base)
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - base[i]), i))
    for i in order[:rest]:
        base[i] += 1
    return base


def chi2_vectors():
    try:
        from scipy import special, stats
    except ImportError:
        sys.exit("SciPy is needed for the chi-square vectors (apt-get install python3-scipy)")
    cases_q = [(0.5, 0.1), (0.5, 2.0), (1.0, 1.0), (2.5, 0.3), (3.0, 7.5), (4.5, 4.5), (10.0, 3.0), (10.0, 25.0),
               (50.0, 49.0), (100.0, 130.0), (0.01, 0.001), (4999.5, 5100.0), (1.5, 40.0)]
    gq = [{"a": a, "x": x, "q": float(special.gammaincc(a, x)), "p": float(special.gammainc(a, x))} for a, x in cases_q]
    cases_sf = [(0.5, 1), (3.84, 1), (10.83, 1), (6.9, 1), (5.99, 2), (1.0, 3), (20.0, 4), (16.27, 3),
                (30.0, 10), (9999.0, 9999), (10300.0, 9999), (0.0, 5), (150.0, 100), (2.0, 1)]
    sf = [{"x": x, "df": df, "sf": float(stats.chi2.sf(x, df))} for x, df in cases_sf]
    return {"scipy": __import__("scipy").__version__, "gammaincc": gq, "sf": sf}


if __name__ == "__main__":
    main()
