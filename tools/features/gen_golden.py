#!/usr/bin/env python3
"""Golden values for libs/features: every aggregation over sliding and decayed windows, recomputed in batch
from the raw events with NumPy (no incremental state). Run: /usr/bin/python3 tools/features/gen_golden.py

Semantics (docs/feature-store.md):
- sliding window W ms: bucket width b = max(1, floor(W/60)), n = ceil(W/b) buckets; at time t the window holds
  events with bucket floor(ms/b) in (floor(t/b) - n, floor(t/b)]. An event that arrives when its bucket is already
  older than floor(arrival/b) - n + 1 is dropped (no later read could see it).
- decayed window with half-life h: weights 2^(-(t - ms)/h) over every event received by t.
- count, sum, mean = sum/count, rate = count per hour of window (W, or h/ln 2 for decay), last = value of the latest
  event (ties: the larger value), timeSinceLast = max(0, t - latest ms) / 1000 s; no event -> null.
"""
import json
import math
import os

import numpy as np

rng = np.random.default_rng(20261129)
T0 = 1_795_000_000_000  # ms, a fixed epoch time
N = 400

# events: timestamps spread over 3 hours; arrival = timestamp + delay, mostly 0, some late (up to 2 h),
# some slightly in the future (timestamp up to 5 min after arrival); values integers and reals, some ties in time
ts = T0 + np.sort(rng.integers(0, 3 * 3_600_000, N))
delay = np.where(rng.random(N) < 0.7, 0, rng.integers(0, 2 * 3_600_000, N))
future = rng.random(N) < 0.05
delay = np.where(future, -rng.integers(0, 300_000, N), delay)
arrived = ts + delay
ts[50] = ts[49]  # a tie in time
values = np.where(rng.random(N) < 0.5, rng.integers(1, 5, N).astype(float), np.round(rng.normal(10, 5, N), 3))
order = np.argsort(arrived, kind="stable")

windows = [
    {"type": "sliding", "ms": 20 * 60_000},
    {"type": "sliding", "ms": 3_600_000},
    {"type": "sliding", "ms": 7 * 24 * 3_600_000},
    {"type": "sliding", "ms": 1_234_567},
    {"type": "decay", "halfLifeMs": 30 * 60_000},
    {"type": "decay", "halfLifeMs": 24 * 3_600_000},
]
aggregations = ["count", "sum", "mean", "last", "timeSinceLast", "rate"]
queries = [int(x) for x in T0 + np.linspace(10 * 60_000, 5 * 3_600_000, 12).astype(np.int64)]


def value(window, agg, t):
    seen = arrived <= t
    m, v, a = ts[seen], values[seen], arrived[seen]
    if window["type"] == "sliding":
        W = window["ms"]
        b = max(1, W // 60)
        n = -(-W // b)
        bucket = m // b
        kept = bucket >= (a // b) - n + 1
        cur = t // b
        inside = kept & (bucket > cur - n) & (bucket <= cur)
        m, v = m[inside], v[inside]
        count, total = float(len(m)), float(np.sum(v)) if len(m) else 0.0
        hours = W / 3_600_000
    else:
        h = window["halfLifeMs"]
        w = np.power(2.0, -(t - m) / h)
        count, total = float(np.sum(w)), float(np.sum(w * v))
        hours = h / math.log(2) / 3_600_000
    if len(m) == 0:
        return None
    latest = np.max(m)
    last = float(np.max(v[m == latest]))
    return {
        "count": count,
        "sum": total,
        "mean": total / count if count > 0 else None,
        "last": last,
        "timeSinceLast": max(0, t - int(latest)) / 1000,
        "rate": count / hours,
    }[agg]


cases = []
for w in windows:
    for agg in aggregations:
        cases.append({"window": w, "aggregation": agg, "values": [value(w, agg, t) for t in queries]})

out = {
    "generator": "tools/features/gen_golden.py (NumPy %s)" % np.__version__,
    "events": [{"ms": int(ts[i]), "value": float(values[i]), "arrivedMs": int(arrived[i])} for i in order],
    "queries": queries,
    "cases": cases,
}
path = os.path.join(os.path.dirname(__file__), "..", "..", "libs", "features", "src", "__golden__", "windows.json")
with open(path, "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
print("wrote", os.path.normpath(path), len(cases), "cases")
