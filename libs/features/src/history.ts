/**
 * Interaction histories for sequence rankers (issue 17 part 4): per unit, the items it interacted with, newest first.
 *
 * What counts as an interaction: a reward with a positive value (a click, a purchase, a rating above zero), credited
 * to the rewarded decision's unit and the rewarded item, at the reward's own time. Events (`/v1/events`) carry no
 * item, so they do not enter a history. Late rewards land at their own time, so arrival order never changes a history.
 *
 * Order: by time, newest first; ties (same millisecond) by item id, larger first in code-unit order (PostgreSQL:
 * `COLLATE "C"`, the same for ids without astral characters). The same (time, item) twice is one interaction.
 * At most {@link HISTORY_CAPACITY} entries are kept per unit (the oldest are dropped).
 */

/** Most interactions kept per unit; a ranker's history input may ask for up to this many. */
export const HISTORY_CAPACITY = 50;

export interface Interaction {
  itemId: string;
  /** epoch milliseconds */
  ms: number;
}

/** A reward of this value enters the unit's history: positive and finite. */
export function countsAsInteraction(value: number): boolean {
  return Number.isFinite(value) && value > 0;
}

/** Newest first; ties by item id, larger first (code-unit order). */
export function newestFirst(a: Interaction, b: Interaction): number {
  if (a.ms !== b.ms) return b.ms - a.ms;
  return a.itemId < b.itemId ? 1 : a.itemId > b.itemId ? -1 : 0;
}

/**
 * A stored history (newest first) with new interactions added, deduplicated on (time, item), cut to `capacity`.
 * What the store computes in SQL (insert, then drop all but the newest `capacity`); any batching and arrival order
 * give the same result.
 */
export function addInteractions(
  stored: readonly Interaction[],
  incoming: readonly Interaction[],
  capacity = HISTORY_CAPACITY,
): Interaction[] {
  const seen = new Set<string>();
  const out: Interaction[] = [];
  for (const e of [...stored, ...incoming].sort(newestFirst)) {
    const k = `${e.ms}\u0000${e.itemId}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(e);
    if (out.length === capacity) break;
  }
  return out;
}

/**
 * The history input of a sequence ranker: K rows of D item features, row j the j-th newest item (`itemIds` newest
 * first), zero rows after the last one (padding). `vectorOf` gives an item's D features, or undefined when the item
 * has none (then its row stays zero too). Returns a row-major `K × D` Float32Array.
 */
export function historyMatrix(
  itemIds: readonly string[],
  k: number,
  d: number,
  vectorOf: (itemId: string) => ArrayLike<number> | undefined,
): Float32Array {
  const m = new Float32Array(k * d);
  for (let j = 0; j < Math.min(k, itemIds.length); j++) {
    const v = vectorOf(itemIds[j]);
    if (v === undefined) continue;
    if (v.length !== d) throw new RangeError(`item "${itemIds[j]}" has ${v.length} features, the history needs ${d}`);
    for (let i = 0; i < d; i++) m[j * d + i] = v[i];
  }
  return m;
}
