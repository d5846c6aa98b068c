/** What a feature aggregates over its window. `rate` is the velocity: events per hour over the window. */
export type Aggregation = 'count' | 'sum' | 'mean' | 'last' | 'timeSinceLast' | 'rate';
export const AGGREGATIONS: readonly Aggregation[] = ['count', 'sum', 'mean', 'last', 'timeSinceLast', 'rate'];

/**
 * A feature's window, in milliseconds. `sliding`: the last `ms` at bucket resolution ({@link slidingLayout});
 * `decay`: every event weighted by 2^(−age / halfLifeMs) (exponential decay with that half-life).
 */
export type FeatureWindow = { type: 'sliding'; ms: number } | { type: 'decay'; halfLifeMs: number };

/** How many time buckets a sliding window is cut into (its resolution is window / SLIDING_BUCKETS). */
export const SLIDING_BUCKETS = 60;

/**
 * The incremental state of one (feature, entity, bucket). For a sliding window one per time bucket, `count` and
 * `sum` plain; for a decayed window one per entity (bucket 0), `count` and `sum` decayed to `refMs`. `lastMs` /
 * `lastValue`: the latest event by timestamp (ties: the larger value), so merging is order-independent.
 */
export interface BucketState {
  bucket: number;
  count: number;
  sum: number;
  /** decay only: the time `count` and `sum` are valued at (the latest event's time) */
  refMs: number | null;
  lastMs: number;
  lastValue: number;
}

export interface FeatureEvent {
  /** epoch milliseconds */
  ms: number;
  value: number;
}

/** Bucket width and count of a sliding window: width = max(1 ms, ⌊window / 60⌋), count = ⌈window / width⌉. */
export function slidingLayout(windowMs: number): { bucketMs: number; buckets: number } {
  const bucketMs = Math.max(1, Math.floor(windowMs / SLIDING_BUCKETS));
  return { bucketMs, buckets: Math.ceil(windowMs / bucketMs) };
}

/** The bucket an event at `ms` lands in: ⌊ms / width⌋ for sliding windows, 0 for decayed ones. */
export function bucketOf(window: FeatureWindow, ms: number): number {
  return window.type === 'sliding' ? Math.floor(ms / slidingLayout(window.ms).bucketMs) : 0;
}

/**
 * The oldest bucket still inside a sliding window read at `nowMs`: buckets b with b > ⌊now / width⌋ − count are
 * read; anything older can never be read again at a later time, so an event landing there is dropped on arrival.
 */
export function oldestLiveBucket(windowMs: number, nowMs: number): number {
  const { bucketMs, buckets } = slidingLayout(windowMs);
  return Math.floor(nowMs / bucketMs) - buckets + 1;
}

/** The later of two (time, value) pairs; at the same time the larger value, so the result does not depend on order. */
function later(aMs: number, aValue: number, bMs: number, bValue: number): [number, number] {
  if (aMs > bMs || (aMs === bMs && aValue >= bValue)) return [aMs, aValue];
  return [bMs, bValue];
}

/** One event as a state of its own (to be merged). */
export function stateOf(window: FeatureWindow, e: FeatureEvent): BucketState {
  return {
    bucket: bucketOf(window, e.ms),
    count: 1,
    sum: e.value,
    refMs: window.type === 'decay' ? e.ms : null,
    lastMs: e.ms,
    lastValue: e.value,
  };
}

/**
 * Merges two states of the same bucket. Sliding: counts and sums add. Decay: both are valued at the later
 * reference time r, S = S₁·2^(−(r−r₁)/h) + S₂·2^(−(r−r₂)/h) — for an event newer than the state this is the one
 * multiply-add S·2^(−Δ/h) + v; for a late event, S + v·2^(−Δ/h). Commutative, so arrival order does not matter.
 */
export function merge(window: FeatureWindow, a: BucketState, b: BucketState): BucketState {
  const [lastMs, lastValue] = later(a.lastMs, a.lastValue, b.lastMs, b.lastValue);
  if (window.type === 'sliding')
    return { bucket: a.bucket, count: a.count + b.count, sum: a.sum + b.sum, refMs: null, lastMs, lastValue };
  const r = Math.max(a.refMs!, b.refMs!);
  const fa = decayFactor(window.halfLifeMs, r - a.refMs!);
  const fb = decayFactor(window.halfLifeMs, r - b.refMs!);
  return { bucket: 0, count: a.count * fa + b.count * fb, sum: a.sum * fa + b.sum * fb, refMs: r, lastMs, lastValue };
}

/** 2^(−Δ/h): the weight left after Δ milliseconds with half-life h. */
export function decayFactor(halfLifeMs: number, deltaMs: number): number {
  return Math.pow(2, -deltaMs / halfLifeMs);
}

/**
 * Folds a batch of events into one state per bucket (what one upsert statement writes). Sliding-window events in a
 * bucket older than {@link oldestLiveBucket} at `nowMs` are dropped: no later read can see them.
 */
export function foldEvents(window: FeatureWindow, events: readonly FeatureEvent[], nowMs: number): BucketState[] {
  const byBucket = new Map<number, BucketState>();
  const oldest = window.type === 'sliding' ? oldestLiveBucket(window.ms, nowMs) : -Infinity;
  for (const e of events) {
    const s = stateOf(window, e);
    if (s.bucket < oldest) continue;
    const seen = byBucket.get(s.bucket);
    byBucket.set(s.bucket, seen ? merge(window, seen, s) : s);
  }
  return [...byBucket.values()];
}

/**
 * Adds folded states (`added`, e.g. from {@link foldEvents}) to an entity's stored states of the same feature state,
 * bucket by bucket with {@link merge}; returns the new list (bucket order), the inputs unchanged. Sliding buckets
 * older than {@link oldestLiveBucket} at `nowMs` are dropped: no read at `nowMs` or later can see them (so a state
 * kept as one row stays about one window long). What one stored row per (entity, state) holds after a batch.
 */
export function mergeStates(
  window: FeatureWindow,
  stored: readonly BucketState[],
  added: readonly BucketState[],
  nowMs: number,
): BucketState[] {
  const oldest = window.type === 'sliding' ? oldestLiveBucket(window.ms, nowMs) : -Infinity;
  const byBucket = new Map<number, BucketState>();
  for (const s of [...stored, ...added]) {
    if (s.bucket < oldest) continue;
    const seen = byBucket.get(s.bucket);
    byBucket.set(s.bucket, seen ? merge(window, seen, s) : s);
  }
  return [...byBucket.values()].sort((a, b) => a.bucket - b.bucket);
}

/**
 * A feature's value at `atMs` from an entity's states (any order; sliding buckets outside the window are ignored),
 * or null when the window holds no event. Sliding over the buckets b ∈ (⌊t/width⌋ − count, ⌊t/width⌋]:
 * count, sum, mean = sum/count, rate = count / window hours, last = the latest event's value, timeSinceLast =
 * seconds since it (≥ 0). Decay with half-life h, f = 2^(−(t − ref)/h): count·f, sum·f, mean = sum/count,
 * rate = count·f / (h / ln 2 in hours) — the decayed count over the decay's mean lifetime, the exponential
 * analogue of a window's length — and last / timeSinceLast over every event.
 */
export function valueAt(
  window: FeatureWindow,
  aggregation: Aggregation,
  states: readonly BucketState[],
  atMs: number,
): number | null {
  let count = 0;
  let sum = 0;
  let lastMs = -Infinity;
  let lastValue = 0;
  if (window.type === 'sliding') {
    const { bucketMs, buckets } = slidingLayout(window.ms);
    const current = Math.floor(atMs / bucketMs);
    for (const s of states) {
      if (s.bucket > current || s.bucket <= current - buckets) continue;
      count += s.count;
      sum += s.sum;
      [lastMs, lastValue] = later(lastMs, lastValue, s.lastMs, s.lastValue);
    }
  } else {
    for (const s of states) {
      const f = decayFactor(window.halfLifeMs, atMs - s.refMs!);
      count += s.count * f;
      sum += s.sum * f;
      [lastMs, lastValue] = later(lastMs, lastValue, s.lastMs, s.lastValue);
    }
  }
  if (lastMs === -Infinity) return null;
  switch (aggregation) {
    case 'count':
      return count;
    case 'sum':
      return sum;
    case 'mean':
      return count > 0 ? sum / count : null;
    case 'rate':
      return count / ((window.type === 'sliding' ? window.ms : window.halfLifeMs / Math.LN2) / 3_600_000);
    case 'last':
      return lastValue;
    case 'timeSinceLast':
      return Math.max(0, atMs - lastMs) / 1000;
  }
}

/**
 * The reference computation: the value at `atMs` straight from the raw events (what the incremental states must
 * reproduce). Sliding: the events whose bucket is in the window (and that arrived while it could still be read:
 * an event is kept when its bucket ≥ {@link oldestLiveBucket} at its `arrivedMs`). Decay: Σ v·2^(−(t − tᵢ)/h).
 */
export function batchValue(
  window: FeatureWindow,
  aggregation: Aggregation,
  events: ReadonlyArray<FeatureEvent & { arrivedMs: number }>,
  atMs: number,
): number | null {
  const kept =
    window.type === 'sliding'
      ? events.filter((e) => bucketOf(window, e.ms) >= oldestLiveBucket(window.ms, e.arrivedMs))
      : events;
  const states = kept.map((e) => stateOf(window, e));
  return valueAt(window, aggregation, states, atMs);
}
