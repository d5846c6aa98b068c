import golden from './__golden__/windows.json';
import {
  Aggregation,
  BucketState,
  FeatureEvent,
  FeatureWindow,
  foldEvents,
  merge,
  mergeStates,
  valueAt,
} from './window';

type GoldenEvent = FeatureEvent & { arrivedMs: number };
const events = golden.events as GoldenEvent[];

/** Incremental: events applied in arrival order, in batches (one fold per batch, merged into the stored states). */
function incrementalStates(window: FeatureWindow, upTo: number, batch: number): BucketState[] {
  const stored = new Map<number, BucketState>();
  const arrived = events.filter((e) => e.arrivedMs <= upTo);
  for (let i = 0; i < arrived.length; i += batch) {
    const chunk = arrived.slice(i, i + batch);
    // a batch is applied at the arrival time of its last event (what the server's clock says when it lands)
    for (const s of foldEvents(window, chunk, chunk[chunk.length - 1].arrivedMs)) {
      const seen = stored.get(s.bucket);
      stored.set(s.bucket, seen ? merge(window, seen, s) : s);
    }
  }
  return [...stored.values()];
}

/** As the API's unit state: one stored list per entity, each batch folded and merged into it (mergeStates). */
function rowStates(window: FeatureWindow, upTo: number, batch: number): BucketState[] {
  let stored: BucketState[] = [];
  const arrived = events.filter((e) => e.arrivedMs <= upTo);
  for (let i = 0; i < arrived.length; i += batch) {
    const chunk = arrived.slice(i, i + batch);
    const at = chunk[chunk.length - 1].arrivedMs;
    stored = mergeStates(window, stored, foldEvents(window, chunk, at), at);
  }
  return stored;
}

function close(actual: number | null, expected: number | null, rel = 1e-9): void {
  if (expected === null) return expect(actual).toBeNull();
  expect(actual).not.toBeNull();
  expect(Math.abs(actual! - expected)).toBeLessThanOrEqual(rel * Math.max(1, Math.abs(expected)));
}

describe('feature windows against the NumPy batch recomputation (tools/features/gen_golden.py)', () => {
  for (const c of golden.cases) {
    const window = c.window as FeatureWindow;
    const label = window.type === 'sliding' ? `sliding ${window.ms} ms` : `decay half-life ${window.halfLifeMs} ms`;
    it(`${c.aggregation} over ${label}, incrementally in batches of 1 and 37`, () => {
      golden.queries.forEach((t, q) => {
        for (const batch of [1, 37])
          close(valueAt(window, c.aggregation as Aggregation, incrementalStates(window, t, batch), t), c.values[q]);
      });
    });
  }

  for (const c of golden.cases) {
    const window = c.window as FeatureWindow;
    const label = window.type === 'sliding' ? `sliding ${window.ms} ms` : `decay half-life ${window.halfLifeMs} ms`;
    it(`${c.aggregation} over ${label}, kept as one merged list per entity (mergeStates), batches of 1 and 37`, () => {
      golden.queries.forEach((t, q) => {
        for (const batch of [1, 37]) {
          const states = rowStates(window, t, batch);
          close(valueAt(window, c.aggregation as Aggregation, states, t), c.values[q]);
          // one state per bucket, in bucket order, none older than the window at the last batch
          expect(states.map((s) => s.bucket)).toEqual([...new Set(states.map((s) => s.bucket))].sort((a, b) => a - b));
        }
      });
    });
  }

  it('covers every aggregation on both window kinds, with late, future and tied events', () => {
    expect(new Set(golden.cases.map((c) => c.aggregation)).size).toBe(6);
    expect(events.some((e) => e.arrivedMs - e.ms > 3_600_000)).toBe(true);
    expect(events.some((e) => e.ms > e.arrivedMs)).toBe(true);
    expect(golden.cases.some((c) => c.values.some((v) => v === null))).toBe(true);
  });
});

describe('merge is order-independent (property)', () => {
  const windows: FeatureWindow[] = [
    { type: 'sliding', ms: 600_000 },
    { type: 'decay', halfLifeMs: 900_000 },
  ];
  // a seeded shuffle (mulberry32), so a failure reproduces
  function shuffled<T>(xs: readonly T[], seed: number): T[] {
    let a = seed >>> 0;
    const rand = () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const out = [...xs];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [out[i], out[j]] = [out[j], out[i]];
    }
    return out;
  }
  const now = Math.max(...events.map((e) => e.arrivedMs));
  const recent = events.filter((e) => e.ms > now - 500_000);
  for (const window of windows) {
    it(`${window.type}: any arrival order and batching gives the same values`, () => {
      const reference = foldEvents(window, recent, now);
      for (let seed = 1; seed <= 20; seed++) {
        const order = shuffled(recent, seed);
        const stored = new Map<number, BucketState>();
        for (let i = 0; i < order.length; i += 1 + (seed % 7)) {
          for (const s of foldEvents(window, order.slice(i, i + 1 + (seed % 7)), now)) {
            const seen = stored.get(s.bucket);
            stored.set(s.bucket, seen ? merge(window, seen, s) : s);
          }
        }
        for (const agg of ['count', 'sum', 'mean', 'last', 'timeSinceLast', 'rate'] as Aggregation[]) {
          close(valueAt(window, agg, [...stored.values()], now + 1000), valueAt(window, agg, reference, now + 1000));
        }
      }
    });
  }
});
