/**
 * A bounded set with least-recently-used eviction (a Map keeps insertion order; a hit re-inserts the key).
 * Used to remember which (experiment, phase, unit) exposures this process already wrote, so repeat assignments
 * do not touch the database. Losing an entry only costs one idempotent `INSERT … ON CONFLICT DO NOTHING`.
 */
export class LruSet {
  private readonly entries = new Map<string, true>();

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer');
  }

  get size(): number {
    return this.entries.size;
  }

  /** True when present (and marks it most recently used). */
  has(key: string): boolean {
    if (!this.entries.has(key)) return false;
    this.entries.delete(key);
    this.entries.set(key, true);
    return true;
  }

  add(key: string): void {
    this.entries.delete(key);
    this.entries.set(key, true);
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  /** Remove every key the predicate matches (unit erasure); returns how many. */
  deleteWhere(predicate: (key: string) => boolean): number {
    let n = 0;
    for (const key of this.entries.keys()) {
      if (predicate(key)) {
        this.entries.delete(key);
        n++;
      }
    }
    return n;
  }

  clear(): void {
    this.entries.clear();
  }
}
