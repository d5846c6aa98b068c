import { BUCKETS } from './hash';
import { ValidationError, isPlainObject } from './errors';

/** A half-open range of buckets, `start <= bucket < end`. */
export interface BucketRange {
  start: number;
  end: number;
}

/** Who owns which buckets: key (a variant, an experiment of a layer, `holdout`) → its ranges. */
export type Allocation = Record<string, BucketRange[]>;

/** A target size for one key of an allocation, in buckets. */
export interface AllocationTarget {
  key: string;
  count: number;
}

export function rangesSize(ranges: readonly BucketRange[]): number {
  let n = 0;
  for (const r of ranges) n += r.end - r.start;
  return n;
}

export function inRanges(ranges: readonly BucketRange[], bucket: number): boolean {
  for (const r of ranges) if (bucket >= r.start && bucket < r.end) return true;
  return false;
}

/** Sorted, with touching or overlapping ranges merged and empty ones dropped. */
export function normalizeRanges(ranges: readonly BucketRange[]): BucketRange[] {
  const sorted = ranges.filter((r) => r.end > r.start).map((r) => ({ start: r.start, end: r.end }));
  sorted.sort((a, b) => a.start - b.start);
  const out: BucketRange[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.start <= last.end) last.end = Math.max(last.end, r.end);
    else out.push(r);
  }
  return out;
}

/**
 * Bucket counts proportional to weights that add up to `total` exactly (largest-remainder method;
 * ties go to the earlier weight). Weights must be finite, non-negative and not all zero.
 */
export function countsFromWeights(weights: readonly number[], total: number = BUCKETS): number[] {
  if (weights.length === 0) throw new RangeError('no weights');
  let sum = 0;
  for (const w of weights) {
    if (!Number.isFinite(w) || w < 0) throw new RangeError(`weight ${w} is not a finite non-negative number`);
    sum += w;
  }
  if (!(sum > 0)) throw new RangeError('weights add up to 0');
  const exact = weights.map((w) => (w * total) / sum);
  const counts = exact.map((e) => Math.floor(e));
  let rest = total - counts.reduce((a, b) => a + b, 0);
  const order = exact.map((e, i) => ({ i, frac: e - counts[i] })).sort((a, b) => b.frac - a.frac || a.i - b.i);
  for (let k = 0; rest > 0; k = (k + 1) % order.length, rest--) counts[order[k].i] += 1;
  return counts;
}

/** Owner index per bucket (-1: nobody) for an allocation over `keys`. Throws on overlapping or out-of-range buckets. */
export function ownerTable(allocation: Allocation, keys: readonly string[], total: number = BUCKETS): Int16Array {
  const owner = new Int16Array(total).fill(-1);
  keys.forEach((key, i) => {
    for (const r of allocation[key] ?? []) {
      if (!Number.isInteger(r.start) || !Number.isInteger(r.end) || r.start < 0 || r.end > total || r.start > r.end) {
        throw new RangeError(`range [${r.start}, ${r.end}) of "${key}" is outside [0, ${total})`);
      }
      for (let b = r.start; b < r.end; b++) {
        if (owner[b] !== -1) throw new RangeError(`bucket ${b} is owned by both "${keys[owner[b]]}" and "${key}"`);
        owner[b] = i;
      }
    }
  });
  return owner;
}

function rangesFromOwners(owner: Int16Array, keys: readonly string[]): Allocation {
  const out: Allocation = {};
  for (const k of keys) out[k] = [];
  let b = 0;
  while (b < owner.length) {
    const o = owner[b];
    let e = b + 1;
    while (e < owner.length && owner[e] === o) e++;
    if (o >= 0) out[keys[o]].push({ start: b, end: e });
    b = e;
  }
  return out;
}

/**
 * The ramp rule. Resize an allocation to new target counts moving as few buckets as possible:
 *
 * 1. Keys absent from `targets` give up all their buckets.
 * 2. A key that shrinks gives up its highest-numbered buckets and keeps the rest.
 * 3. A key that grows keeps all its buckets and takes the lowest-numbered free buckets,
 *    keys served in the order of `targets`.
 *
 * Only the buckets a shrinking (or removed) key gives up change owner, and every such bucket is
 * forced to change owner by any allocation with these counts, so the number of units moved between
 * keys is the minimum, `Σ max(0, old_i − new_i)`. With no previous allocation the result is contiguous
 * ranges in the order of `targets`, starting at bucket 0.
 */
export function rebalance(
  previous: Allocation | undefined,
  targets: readonly AllocationTarget[],
  total: number = BUCKETS,
): Allocation {
  const keys = targets.map((t) => t.key);
  if (new Set(keys).size !== keys.length) throw new RangeError('duplicate keys in targets');
  let want = 0;
  for (const t of targets) {
    if (!Number.isInteger(t.count) || t.count < 0)
      throw new RangeError(`count of "${t.key}" is not a non-negative integer`);
    want += t.count;
  }
  if (want > total) throw new RangeError(`targets need ${want} buckets, only ${total} exist`);

  // Validate the previous allocation as a whole (overlaps between removed keys count too).
  const prevKeys = previous ? Object.keys(previous) : [];
  const prevOwner = previous ? ownerTable(previous, prevKeys, total) : new Int16Array(total).fill(-1);
  const index = new Map(keys.map((k, i) => [k, i]));
  const owner = new Int16Array(total);
  const held = new Array<number>(keys.length).fill(0);
  for (let b = 0; b < total; b++) {
    const p = prevOwner[b];
    const i = p >= 0 ? (index.get(prevKeys[p]) ?? -1) : -1;
    owner[b] = i;
    if (i >= 0) held[i]++;
  }
  for (let b = total - 1; b >= 0; b--) {
    const i = owner[b];
    if (i >= 0 && held[i] > targets[i].count) {
      owner[b] = -1;
      held[i]--;
    }
  }
  let free = 0;
  for (let i = 0; i < keys.length; i++) {
    while (held[i] < targets[i].count) {
      while (owner[free] !== -1) free++;
      owner[free] = i;
      held[i]++;
    }
  }
  return rangesFromOwners(owner, keys);
}

/** A bucket range whose owner changed between two allocations (`null`: nobody). */
export interface OwnerChange {
  from: string | null;
  to: string | null;
  range: BucketRange;
}

/** What moved between two allocations, range by range, and how many buckets changed from one owner to another. */
export function diffAllocations(
  before: Allocation,
  after: Allocation,
  total: number = BUCKETS,
): { changes: OwnerChange[]; reassigned: number; added: number; removed: number } {
  const kb = Object.keys(before);
  const ka = Object.keys(after);
  const ob = ownerTable(before, kb, total);
  const oa = ownerTable(after, ka, total);
  const changes: OwnerChange[] = [];
  let reassigned = 0;
  let added = 0;
  let removed = 0;
  let b = 0;
  while (b < total) {
    const from = ob[b] >= 0 ? kb[ob[b]] : null;
    const to = oa[b] >= 0 ? ka[oa[b]] : null;
    let e = b + 1;
    while (e < total && (ob[e] >= 0 ? kb[ob[e]] : null) === from && (oa[e] >= 0 ? ka[oa[e]] : null) === to) e++;
    if (from !== to) {
      changes.push({ from, to, range: { start: b, end: e } });
      if (from === null) added += e - b;
      else if (to === null) removed += e - b;
      else reassigned += e - b;
    }
    b = e;
  }
  return { changes, reassigned, added, removed };
}

/** Named sets of ranges to check together: each well formed, no bucket in two of them (or twice in one). */
export interface RangeSet {
  path: string;
  name: string;
  ranges: unknown;
}

/** Field-path errors for several sets of ranges that must be pairwise disjoint integer ranges inside [0, total). */
export function validateRangeSets(sets: readonly RangeSet[], total: number = BUCKETS): ValidationError[] {
  const errors: ValidationError[] = [];
  const seen = new Int32Array(total).fill(-1);
  sets.forEach((set, si) => {
    const { ranges, path: p } = set;
    if (!Array.isArray(ranges)) {
      errors.push({ path: p, message: 'must be an array of {start, end}' });
      return;
    }
    ranges.forEach((r: unknown, ri) => {
      const rp = `${p}[${ri}]`;
      if (!isPlainObject(r)) return errors.push({ path: rp, message: 'must be {start, end}' });
      const { start, end } = r;
      if (typeof start !== 'number' || !Number.isInteger(start) || start < 0 || start > total) {
        return errors.push({ path: `${rp}.start`, message: `must be an integer in [0, ${total}]` });
      }
      if (typeof end !== 'number' || !Number.isInteger(end) || end < start || end > total) {
        return errors.push({ path: `${rp}.end`, message: `must be an integer in [start, ${total}]` });
      }
      let reported = false;
      for (let b = start; b < end; b++) {
        if (seen[b] === -1) seen[b] = si;
        else if (!reported) {
          errors.push({ path: rp, message: `overlaps the buckets of ${sets[seen[b]].name} at bucket ${b}` });
          reported = true;
        }
      }
    });
  });
  return errors;
}

/** Field-path errors for an allocation: a record of arrays of integer ranges inside [0, total), pairwise disjoint. */
export function validateAllocation(input: unknown, path: string, total: number = BUCKETS): ValidationError[] {
  if (!isPlainObject(input)) return [{ path, message: 'must be an object of key → bucket ranges' }];
  return validateRangeSets(
    Object.keys(input).map((key) => ({ path: `${path}.${key}`, name: `"${key}"`, ranges: input[key] })),
    total,
  );
}
