#!/usr/bin/env python3
"""Golden histories for libs/features/src/history.ts (issue 17 part 4), recomputed in batch from the raw rewards.

Run: /usr/bin/python3 tools/features/gen_history_golden.py  ->  libs/features/src/__golden__/history.json

Semantics (docs/feature-store.md, "Sequences"): a reward with a positive finite value is an interaction with its
item at its own time; a unit's history at a moment is every interaction received by then, deduplicated on
(time, item), ordered newest first (ties: larger item id first, code-unit order), the newest 50 kept. The last K
items are its first K entries.
"""
import json
import os

import numpy as np

rng = np.random.default_rng(4)
T0 = 1_795_000_000_000
N = 300
items = [f"item-{i:02d}" for i in range(12)]

ts = T0 + rng.integers(0, 3_600_000, N)
ts[11] = ts[10]  # a tie in time (different items)
delay = np.where(rng.random(N) < 0.7, 0, rng.integers(0, 1_800_000, N))  # 30 % late by up to 30 min
arrived = ts + delay
value = np.where(rng.random(N) < 0.3, np.where(rng.random(N) < 0.5, 0.0, -1.0), np.round(rng.random(N) * 3, 3) + 0.001)
item = [items[i] for i in rng.integers(0, len(items), N)]
item[11] = "item-00" if item[10] != "item-00" else "item-01"
# a duplicate interaction (same time, same item) arriving later
ts[20], item[20], value[20], arrived[20] = ts[19], item[19], 1.0, arrived[19] + 5_000
value[19] = max(value[19], 0.5)

rewards = [{"itemId": item[i], "ms": int(ts[i]), "value": float(value[i]), "arrivedMs": int(arrived[i])} for i in np.argsort(arrived, kind="stable")]


def history_at(t):
    seen = {}
    for r in rewards:
        if r["arrivedMs"] <= t and r["value"] > 0:
            seen[(r["ms"], r["itemId"])] = True
    # newest first; ties: larger item id first (Python str order is code-point order, = code units for ASCII ids)
    ordered = sorted(seen.keys(), key=lambda k: (k[0], k[1]), reverse=True)[:50]
    return [{"itemId": k[1], "ms": k[0]} for k in ordered]


checkpoints = [int(x) for x in np.quantile(arrived, [0.1, 0.5, 0.9, 1.0])]
cases = [{"atArrivalMs": t, "history": history_at(t)} for t in checkpoints]
out = {"generator": "tools/features/gen_history_golden.py", "capacity": 50, "rewards": rewards, "cases": cases}
path = os.path.join(os.path.dirname(__file__), "..", "..", "libs", "features", "src", "__golden__", "history.json")
with open(path, "w") as f:
    json.dump(out, f, indent=0)
    f.write("\n")
print(len(rewards), [len(c["history"]) for c in cases])
