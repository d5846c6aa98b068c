/**
 * The e-commerce feed world: a contextual logistic click model with position bias, item churn (new items arrive,
 * old ones leave), rewards delayed by a random lag, and a weekly seasonal drift. Seeded and deterministic.
 *
 *   η(u, i, t) = β₀ + a·ŝ(x_u, z_i) + x_uᵀ W z_i + q_i + A·sin(2π t / week + φ_i)
 *   P(click | item i in slot j) = b_j · σ(η)
 *
 * x_u: the user's context (standard normal, fixed per user), z_i: item features (standard normal), W: a random
 * interaction matrix, q_i: a hidden per-item quality (not in the features: only per-item learning finds it),
 * φ_i: the item's seasonal phase, b_j: position bias. ŝ is the fixture ranker's score (the PyTorch-exported news MLP,
 * standardized on a sample) when the world has 16 × 16 features: the production ranker is partly right by
 * construction (it knows a nonlinear part of the truth, not q, not W, not the season).
 */
import { createRng, type Rng } from '@slotwise/bandit';
import { OnnxScorer } from '@slotwise/ranker';
import { loadFixtureModel } from '@slotwise/ranker-fixtures';
import type { RequestTruth, World, WorldCandidate, WorldRequest, WorldSpec } from './world';

export interface EcommerceOptions {
  seed: number;
  contextDim: number;
  itemDim: number;
  /** Live items at any time. */
  catalogSize: number;
  slots: number;
  /** Decisions per simulated hour (sets how much simulated time a run covers). */
  decisionsPerHour: number;
  /** New items per simulated day; each replaces a random live item. */
  arrivalsPerDay: number;
  /** Mean reward lag, simulated seconds (exponential). */
  meanLagSeconds: number;
  users: number;
  /** Ranker shortlist size (the bandit chooses among the ranker's top `shortlist`). */
  shortlist: number;
  coldStartThreshold: number;
  /** Use the fixture ONNX ranker (needs 16 × 16 features). Default: when the dims are 16 × 16. */
  fixtureRanker?: boolean;
}

export const ECOMMERCE_DEFAULTS: EcommerceOptions = {
  seed: 1,
  contextDim: 16,
  itemDim: 16,
  catalogSize: 40,
  slots: 5,
  decisionsPerHour: 120,
  arrivalsPerDay: 12,
  meanLagSeconds: 1800,
  users: 5000,
  shortlist: 25,
  coldStartThreshold: 100,
};

const WEEK = 7 * 86_400;
const BASE_LOGIT = -2.6;
const QUALITY_SD = 0.8;
const RANKER_WEIGHT = 0.8;
const INTERACTION_SD = 0.9;
const SEASON_AMPLITUDE = 0.5;

interface Item {
  id: string;
  z: number[];
  quality: number;
  phase: number;
}

export class EcommerceWorld implements World {
  readonly spec: WorldSpec;
  readonly arrivals = new Map<string, number>();
  private readonly structure: Rng;
  private readonly catalogRng: Rng;
  private readonly requestRng: Rng;
  private readonly w: Float64Array;
  readonly positionBias: number[];
  private readonly users: number[][];
  private catalog: Item[] = [];
  private readonly itemsById = new Map<string, Item>();
  private nextItem = 1;
  private nextArrival: number;
  private index = 0;
  private rankerMean = 0;
  private rankerSd = 1;

  private constructor(
    readonly options: EcommerceOptions,
    private readonly scorer: OnnxScorer | null,
  ) {
    const o = options;
    this.structure = createRng(`ecommerce:${o.seed}:structure`);
    this.catalogRng = createRng(`ecommerce:${o.seed}:catalog`);
    this.requestRng = createRng(`ecommerce:${o.seed}:requests`);
    this.spec = {
      world: 'ecommerce',
      description: `e-commerce feed: ${o.catalogSize} live items, ${o.arrivalsPerDay} new per simulated day, ${o.slots} slots with position bias, ${o.contextDim}×${o.itemDim} features, ${o.decisionsPerHour} decisions per simulated hour, mean reward lag ${o.meanLagSeconds} s, weekly drift`,
      contextFeatures: Array.from({ length: o.contextDim }, (_, i) => `u${i}`),
      itemFeatures: Array.from({ length: o.itemDim }, (_, i) => `f${i}`),
      slots: o.slots,
      ranker: scorer ? 'fixture' : 'none',
      shortlist: scorer ? Math.min(o.shortlist, o.catalogSize) : o.catalogSize,
      coldStartThreshold: o.coldStartThreshold,
    };
    const scale = INTERACTION_SD / Math.sqrt(o.contextDim * o.itemDim);
    this.w = Float64Array.from({ length: o.contextDim * o.itemDim }, () => this.structure.normal() * scale);
    this.positionBias = Array.from({ length: o.slots }, (_, j) => 1 / Math.sqrt(j + 1));
    this.users = Array.from({ length: o.users }, () =>
      Array.from({ length: o.contextDim }, () => this.structure.normal()),
    );
    for (let i = 0; i < o.catalogSize; i++) this.catalog.push(this.newItem());
    this.nextArrival = this.interArrival();
  }

  static async create(partial: Partial<EcommerceOptions> = {}): Promise<EcommerceWorld> {
    const options = { ...ECOMMERCE_DEFAULTS, ...partial };
    for (const [k, v] of Object.entries(options)) {
      if (typeof v === 'number' && !(Number.isFinite(v) && v >= 0))
        throw new RangeError(`ecommerce: ${k} must be a non-negative number`);
    }
    if (options.slots < 1 || options.catalogSize < options.slots)
      throw new RangeError('ecommerce: need 1 ≤ slots ≤ catalogSize');
    if (options.contextDim < 1 || options.itemDim < 1 || options.users < 1 || options.decisionsPerHour <= 0)
      throw new RangeError('ecommerce: dims, users and decisionsPerHour must be positive');
    const useFixture = options.fixtureRanker ?? (options.contextDim === 16 && options.itemDim === 16);
    if (useFixture && (options.contextDim !== 16 || options.itemDim !== 16))
      throw new RangeError('ecommerce: the fixture ranker takes 16 context and 16 item features');
    let scorer: OnnxScorer | null = null;
    if (useFixture) {
      const { bytes, signature } = loadFixtureModel('split');
      scorer = await OnnxScorer.create(bytes, signature, { ref: 'fixture' });
    }
    const world = new EcommerceWorld(options, scorer);
    if (scorer) await world.calibrateRanker();
    return world;
  }

  /** Standardize the fixture's score on a fixed sample of (user, item) pairs from the structure stream. */
  private async calibrateRanker(): Promise<void> {
    const rng = createRng(`ecommerce:${this.options.seed}:calibration`);
    const scores: number[] = [];
    for (let s = 0; s < 20; s++) {
      const x = Array.from({ length: 16 }, () => rng.normal());
      const items = Float32Array.from({ length: 40 * 16 }, () => rng.normal());
      const r = await this.scorer!.score(Float32Array.from(x), items, 40);
      scores.push(...r.scores);
    }
    const mean = scores.reduce((a, b) => a + b, 0) / scores.length;
    const sd = Math.sqrt(scores.reduce((a, b) => a + (b - mean) ** 2, 0) / scores.length);
    this.rankerMean = mean;
    this.rankerSd = sd > 1e-9 ? sd : 1;
  }

  private newItem(): Item {
    const r = this.catalogRng;
    const item: Item = {
      id: `sku-${String(this.nextItem++).padStart(5, '0')}`,
      z: Array.from({ length: this.options.itemDim }, () => r.normal()),
      quality: r.normal() * QUALITY_SD,
      phase: r.uniform() * 2 * Math.PI,
    };
    this.itemsById.set(item.id, item);
    return item;
  }

  private interArrival(): number {
    if (this.options.arrivalsPerDay <= 0) return Infinity;
    return -Math.log(1 - this.catalogRng.uniform()) * (86_400 / this.options.arrivalsPerDay);
  }

  next(): WorldRequest {
    const o = this.options;
    const index = this.index++;
    const time = (index * 3600) / o.decisionsPerHour;
    while (this.nextArrival <= time) {
      const leaving = this.catalogRng.int(this.catalog.length);
      this.catalog.splice(leaving, 1);
      const item = this.newItem();
      this.catalog.push(item);
      this.arrivals.set(item.id, index);
      this.nextArrival += this.interArrival();
    }
    const r = this.requestRng;
    const user = r.int(o.users);
    const candidates: WorldCandidate[] = this.catalog.map((it) => ({ id: it.id, features: it.z }));
    return {
      index,
      time,
      unitId: `user-${user}`,
      context: this.users[user],
      candidates,
      clickUniforms: Array.from({ length: o.slots }, () => r.uniform()),
      lags: Array.from({ length: o.slots }, () => -Math.log(1 - r.uniform()) * o.meanLagSeconds),
    };
  }

  async truth(req: WorldRequest): Promise<RequestTruth> {
    const o = this.options;
    const n = req.candidates.length;
    const eta = new Float64Array(n);
    let ranker: Float32Array | null = null;
    if (this.scorer) {
      const items = new Float32Array(n * o.itemDim);
      req.candidates.forEach((c, i) => items.set(c.features, i * o.itemDim));
      ranker = (await this.scorer.score(Float32Array.from(req.context), items, n)).scores;
    }
    const x = req.context;
    for (let i = 0; i < n; i++) {
      const item = this.itemsById.get(req.candidates[i].id)!;
      let inter = 0;
      for (let a = 0; a < o.contextDim; a++) {
        let s = 0;
        const row = a * o.itemDim;
        for (let b = 0; b < o.itemDim; b++) s += this.w[row + b] * item.z[b];
        inter += x[a] * s;
      }
      const season = SEASON_AMPLITUDE * Math.sin((2 * Math.PI * req.time) / WEEK + item.phase);
      const rank = ranker ? (RANKER_WEIGHT * (ranker[i] - this.rankerMean)) / this.rankerSd : 0;
      eta[i] = BASE_LOGIT + rank + inter + item.quality + season;
    }
    const bias = this.positionBias;
    return { eta, clickProbability: (e, j) => bias[j] / (1 + Math.exp(-e)) };
  }

  async close(): Promise<void> {
    await this.scorer?.dispose();
  }
}
