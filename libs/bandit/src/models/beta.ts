/**
 * Beta–Bernoulli per item, context-free. Prior Beta(α0, β0) (default 1, 1). Rewards in [0, 1] count as fractional
 * successes: α = α0 + Σ r, β = β0 + Σ (1 − r) = β0 + n − Σ r. Additive statistics per item: [n, Σ r].
 */
import type { Rng } from '../rng';
import {
  type BanditModel,
  type Candidate,
  type Contribution,
  type SlateScorer,
  type SnapshotBase,
  type Vector,
  assertCompatible,
  checkPositive,
  checkReward,
  checkUniqueIds,
} from '../types';

export interface BetaConfig {
  alpha0: number;
  beta0: number;
}

export interface BetaStats {
  /** per item: [n, Σ reward] */
  items: Record<string, [number, number]>;
}

export type BetaSnapshot = SnapshotBase<'beta', BetaConfig, BetaStats>;

export interface BetaOptions {
  alpha0?: number;
  beta0?: number;
}

function checkUnit(r: number, what: string): number {
  checkReward(r, what);
  if (r < 0 || r > 1) throw new RangeError(`${what} must be in [0, 1] for the beta model, got ${r}`);
  return r;
}

class BetaRaw {
  readonly items = new Map<string, [number, number]>();
  get(id: string): [number, number] {
    let v = this.items.get(id);
    if (!v) {
      v = [0, 0];
      this.items.set(id, v);
    }
    return v;
  }
  add(s: BetaStats): void {
    for (const [id, [n, sr]] of Object.entries(s.items)) {
      if (!Number.isFinite(n) || !Number.isFinite(sr)) throw new RangeError(`item ${id}: invalid statistics`);
      const v = this.get(id);
      v[0] += n;
      v[1] += sr;
    }
  }
  toJSON(): BetaStats {
    const items: Record<string, [number, number]> = {};
    for (const id of [...this.items.keys()].sort()) {
      const [n, sr] = this.items.get(id) as [number, number];
      items[id] = [n, sr];
    }
    return { items };
  }
}

export class BetaModel implements BanditModel<BetaSnapshot> {
  readonly type = 'beta' as const;
  readonly config: BetaConfig;
  private readonly stats = new BetaRaw();
  private delta = new BetaRaw();

  constructor(config: BetaConfig = { alpha0: 1, beta0: 1 }) {
    this.config = { alpha0: checkPositive(config.alpha0, 'alpha0'), beta0: checkPositive(config.beta0, 'beta0') };
  }

  static create(opts: BetaOptions = {}): BetaModel {
    return new BetaModel({ alpha0: opts.alpha0 ?? 1, beta0: opts.beta0 ?? 1 });
  }

  static fromSnapshot(s: BetaSnapshot): BetaModel {
    if (s.type !== 'beta' || s.version !== 1) throw new RangeError('not a beta model snapshot');
    const m = new BetaModel(s.config);
    m.stats.add(s.stats);
    return m;
  }

  /** Posterior Beta(α, β) of an item. */
  params(itemId: string): { alpha: number; beta: number } {
    const [n, sr] = this.stats.items.get(itemId) ?? [0, 0];
    return { alpha: this.config.alpha0 + sr, beta: this.config.beta0 + n - sr };
  }

  observe(_context: Vector, candidate: Candidate, reward = 0): void {
    checkUnit(reward, 'reward');
    for (const raw of [this.stats, this.delta]) {
      const v = raw.get(candidate.id);
      v[0] += 1;
      v[1] += reward;
    }
  }

  correct(_context: Vector, candidate: Candidate, oldReward: number, newReward: number): void {
    checkUnit(oldReward, 'oldReward');
    checkUnit(newReward, 'newReward');
    for (const raw of [this.stats, this.delta]) raw.get(candidate.id)[1] += newReward - oldReward;
  }

  observations(itemId?: string): number {
    if (itemId !== undefined) return this.stats.items.get(itemId)?.[0] ?? 0;
    let n = 0;
    for (const v of this.stats.items.values()) n += v[0];
    return n;
  }

  prepare(_context: Vector, candidates: readonly Candidate[]): SlateScorer {
    checkUniqueIds(candidates);
    const n = candidates.length;
    const alpha = new Float64Array(n);
    const beta = new Float64Array(n);
    const mean = new Float64Array(n);
    const sd = new Float64Array(n);
    candidates.forEach((c, i) => {
      const p = this.params(c.id);
      alpha[i] = p.alpha;
      beta[i] = p.beta;
      const s = p.alpha + p.beta;
      mean[i] = p.alpha / s;
      sd[i] = Math.sqrt((p.alpha * p.beta) / (s * s * (s + 1)));
    });
    const redraw = (rng: Rng, out: Float64Array): void => {
      for (let i = 0; i < n; i++) out[i] = rng.beta(alpha[i], beta[i]);
    };
    return {
      n,
      mean,
      redraw,
      sdOf: (i: number) => sd[i],
      draw(rng: Rng): Float64Array {
        const out = new Float64Array(n);
        redraw(rng, out);
        return out;
      },
    };
  }

  explain(_context: Vector, candidate: Candidate): Contribution[] {
    const p = this.params(candidate.id);
    const m = p.alpha / (p.alpha + p.beta);
    return [{ feature: 'item-mean', value: 1, coefficient: m, contribution: m }];
  }

  snapshot(): BetaSnapshot {
    return { type: 'beta', version: 1, config: { ...this.config }, stats: this.stats.toJSON() };
  }

  peekDelta(): BetaSnapshot {
    return { type: 'beta', version: 1, config: { ...this.config }, stats: this.delta.toJSON() };
  }

  takeDelta(): BetaSnapshot {
    const out = this.peekDelta();
    this.delta = new BetaRaw();
    return out;
  }

  restoreDelta(delta: BetaSnapshot): void {
    assertCompatible(this, delta);
    this.delta.add(delta.stats);
  }

  mergeDelta(delta: BetaSnapshot): void {
    assertCompatible(this, delta);
    this.stats.add(delta.stats);
  }

  rebase(merged: BetaSnapshot): void {
    assertCompatible(this, merged);
    this.stats.items.clear();
    this.stats.add(merged.stats);
    this.stats.add(this.delta.toJSON());
  }
}
