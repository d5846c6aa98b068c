import { RankerModelError } from './errors';
import { parseRankerModel } from './model-ref';
import { OnnxScorer, OnnxScorerOptions } from './onnx-scorer';
import { NoneScorer, Scorer } from './scorer';
import { ModelSignature } from './signature';

/** What the platform stores for an uploaded model (it reads these from PostgreSQL). */
export interface StoredModel {
  bytes: Uint8Array;
  signature: ModelSignature;
}

/** Loads a model's bytes and signature by name and version; resolves `null` when there is no such model. */
export type ModelLoader = (name: string, version: number) => Promise<StoredModel | null>;

export interface ScorerCacheOptions extends Omit<OnnxScorerOptions, 'ref'> {
  /** Most sessions kept open; the least recently used one is released beyond it (default 16). */
  maxEntries?: number;
}

/**
 * One scorer per `name@version`, created once and shared by all requests. A `name@version` is immutable (a new
 * upload gets a new version), so entries never go stale; they are only evicted by LRU or by {@link evict}.
 *
 * Concurrent `get` calls for the same reference share one load; a failed load is not cached (the next call retries).
 * `"none"` resolves to a shared {@link NoneScorer} without calling the loader.
 */
export class ScorerCache {
  private readonly entries = new Map<string, Promise<Scorer>>();
  private readonly none: NoneScorer;
  private readonly maxEntries: number;

  constructor(
    private readonly loader: ModelLoader,
    private readonly options: ScorerCacheOptions = {},
  ) {
    this.maxEntries = options.maxEntries ?? 16;
    if (!Number.isInteger(this.maxEntries) || this.maxEntries < 1)
      throw new RangeError('maxEntries must be a positive integer');
    this.none = new NoneScorer(options.maxItems);
  }

  /**
   * The scorer for `ranker.model` (`"none"` or `name@version`). Rejects with {@link RankerModelError}: path
   * `ranker.model` for an invalid or unknown reference, `model` / `signature.*` when the stored model cannot load.
   */
  async get(model: string): Promise<Scorer> {
    const spec = parseRankerModel(model);
    if (!spec.ok) throw new RankerModelError([{ path: 'ranker.model', message: spec.message }]);
    if (spec.value.kind === 'none') return this.none;
    const { ref, name, version } = spec.value;
    const hit = this.entries.get(ref);
    if (hit) {
      // Refresh LRU position.
      this.entries.delete(ref);
      this.entries.set(ref, hit);
      return hit;
    }
    const created = (async () => {
      const stored = await this.loader(name, version);
      if (!stored) throw new RankerModelError([{ path: 'ranker.model', message: `model ${ref} not found` }]);
      return OnnxScorer.create(stored.bytes, stored.signature, { ...this.options, ref });
    })();
    this.entries.set(ref, created);
    created.catch(() => {
      if (this.entries.get(ref) === created) this.entries.delete(ref);
    });
    this.trim();
    return created;
  }

  has(model: string): boolean {
    return this.entries.has(model);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Drops one entry and releases its session once its in-flight scorings finish. */
  async evict(model: string): Promise<void> {
    const p = this.entries.get(model);
    if (!p) return;
    this.entries.delete(model);
    await release(p);
  }

  /** Releases every session (application shutdown). */
  async clear(): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(all.map(release));
  }

  private trim(): void {
    while (this.entries.size > this.maxEntries) {
      const [oldest, p] = this.entries.entries().next().value as [string, Promise<Scorer>];
      this.entries.delete(oldest);
      void release(p);
    }
  }
}

async function release(p: Promise<Scorer>): Promise<void> {
  try {
    const s = await p;
    await s.dispose();
  } catch {
    // a failed load has nothing to release
  }
}
