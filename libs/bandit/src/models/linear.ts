/**
 * Bayesian linear regression with a Normal–Inverse-Gamma prior (Riquelme, Tucker & Snoek 2018, "Deep Bayesian
 * Bandits Showdown", LinFullPost). Prior: σ² ~ InvGamma(a0, b0), β | σ² ~ N(0, σ²/λ · I).
 * Sufficient statistics (additive): XᵀX, Xᵀy, yᵀy, n. Posterior: Λn = XᵀX + λI, μn = Λn⁻¹Xᵀy, an = a0 + n/2,
 * bn = b0 + ½(yᵀy − μnᵀΛnμn). Draw: σ² ~ InvGamma(an, bn), β ~ N(μn, σ²Λn⁻¹).
 * The Cholesky factor of Λn is kept current by rank-one updates on observe, so a draw costs O(d²).
 */
import {
  addOuterLower,
  backSolveTransposed,
  cholSolve,
  cholUpdate,
  cholesky,
  dot,
  forwardSolve,
  symmetrizeFromLower,
} from '../linalg';
import { createFeatureMap, type FeatureMap, type FeatureMapConfig } from '../features';
import type { Rng } from '../rng';
import {
  type BanditModel,
  type Candidate,
  type Contribution,
  type FeatureNames,
  type SlateScorer,
  type SnapshotBase,
  type Vector,
  assertCompatible,
  checkReward,
  checkUniqueIds,
  checkVector,
  sortContributions,
} from '../types';
import {
  NIG_DEFAULTS,
  NigScoreSampler,
  type NigPrior,
  type NoiseModel,
  checkPrior,
  itemNoiseScale,
  posteriorScale,
  posteriorShape,
  scoreSd,
} from './nig';

export interface LinearConfig extends NigPrior {
  features: FeatureMapConfig;
  /** absent: 'pooled' (snapshots written before per-item noise existed) */
  noise?: NoiseModel;
  /** absent: 'none' (snapshots written before the position model existed); see {@link PositionModel} */
  positionModel?: PositionModel;
  /** absent: 'none' (snapshots written before the per-item term existed); see {@link ItemEffect} */
  itemEffect?: ItemEffect;
  /**
   * the smallest prior precision λ_δ of the per-item effect δ_a | σ² ~ N(0, σ²/λ_δ), i.e. its largest prior variance;
   * λ_δ itself is estimated by empirical Bayes (absent: {@link ITEM_EFFECT_PRECISION})
   */
  itemEffectPrecision?: number;
}

/**
 * A per-item term the features cannot express. `none`: scores are xᵀβ only, so items with the same features are
 * indistinguishable (the OBD replay's item-17 shares its 5 features with item-03 and item-21). `intercept`: each
 * item a adds a random intercept δ_a | σ² ~ N(0, σ²/λ_δ) shrunk to the shared model (a hierarchical / random-effects
 * term, as the per-arm blocks of Li et al. 2010's hybrid LinUCB, reduced to one coefficient). It is fitted on the
 * item's residuals around the shared posterior mean μ (two-stage empirical Bayes: β's posterior is not refitted on
 * δ), with the position model's examination κ_k (rows of item a at slot k, prediction xᵀμ = c̃ᵀγ_a):
 *   N_a = Σ_k κ_k n_{a,k},  W_a = Σ_k (Σy_{a,k} − κ_k γ_aᵀΣc̃_{a,k}),  P_a = λ_δ + N_a,  m_a = W_a / P_a,
 * λ_δ estimated per request by empirical Bayes over the candidates (see itemEffectPrecisionFor: bounded by
 * [itemEffectPrecision, ITEM_EFFECT_PRECISION_MAX]),
 * and drawn independently per item, δ_a = m_a + σ c_a ζ_a / √P_a (c_a the per-item noise scale, σ the request's
 * σ draw, ζ_a ~ N(0, 1) consumed after β's normals). The unit-σ² score covariance gains diag(c_a²/P_a).
 * `twins` (the default since issue 12, session 7): the same term, applied only to the request's FEATURE TWINS —
 * candidates whose item-feature vector equals another candidate's, the ones the features cannot tell apart; every
 * other candidate scores as with `none` (δ_a = 0, no variance), and λ_δ is still estimated over all candidates.
 * ζ is drawn only for the twins (in candidate order), so a request without twins consumes exactly `none`'s variates
 * and takes `none`'s code path: its decision and propensities are byte-identical to `none`'s.
 */
export type ItemEffect = 'none' | 'intercept' | 'twins';

/**
 * Default smallest λ_δ: at most one pseudo-observation's weight for the prior (prior sd of δ_a ≤ σ, the reward noise),
 * however large the empirical-Bayes estimate of the per-item variation.
 */
export const ITEM_EFFECT_PRECISION = 1;
/**
 * The largest λ_δ the empirical-Bayes estimate takes: prior sd of δ_a ≥ σ/10 even when the moment estimate finds no
 * per-item variation (with rare clicks it cannot: the OBD replay's ~0.5 % CTR). Chosen on the showdown: 1e6
 * (the term off without evidence) left OBD's item-17 abandoned; 400 kept it barely; 100 fixed it with the least cost
 * elsewhere (docs/simulation.md, issue 12 session 5).
 */
export const ITEM_EFFECT_PRECISION_MAX = 100;

/**
 * How slot positions enter the likelihood. `none`: every shown slot is one observation of y = xᵀβ + ε.
 * `pbm`: the position-based click model (Craswell et al. 2008; Chuklin, Markov & de Rijke 2015, "Click Models for
 * Web Search", ch. 3): a result at slot k is examined with probability κ_k (κ_0 = 1 for the top slot) and, if
 * examined, rewards with its relevance, so E[y | x, k] = κ_k · xᵀβ (as in PBM-TS, Komiyama et al. 2015, and the
 * position discounts of Lattimore et al. 2018 TopRank / Li et al. 2016 cascading linear bandits). The regression takes
 * the regressor κ_k·x with noise variance κ_k σ² (weight 1/κ_k): a click model's reward at slot k is examination ×
 * relevance, so its variance κ_k p (1 − κ_k p) shrinks with κ_k (≈ κ_k · p(1 − p) for small p), and the Bernoulli
 * PBM's Fisher information about the relevance at slot k is κ_k (1 − p)/(1 − κ_k p) ≈ κ_k times the top slot's. So
 * a slot-k observation weighs κ_k in the precision (PBM-UCB's "effective number of views" Σ_k κ_k n_k, Lagrée,
 * Vernade & Cappé 2016) — weak evidence at a rarely examined slot, but not the κ_k² of a homoscedastic fit, which
 * left the lower slots' items over-explored (issue 12, session 8) — and its Xᵀy enters unscaled:
 *   Λn = λI + Σ_k κ_k X_kᵀX_k,  Λn μn = Σ_k X_kᵀy,  bn = b0 + ½(Σ_k y_kᵀy_k / κ_k − μnᵀΛnμn),
 * σ² being the top slot's noise. κ is learned from the per-slot sums by alternating least squares
 * ({@link LinearModel.examination}).
 */
export type PositionModel = 'none' | 'pbm';

/** Per-slot sums (slot index k ≥ 1; slot 0 is the rest): n_k, X_kᵀy, X_kᵀX_k (d×d, symmetric), y_kᵀy_k. */
export interface LinearPositionStats {
  n: number;
  xy: number[];
  xx: number[];
  /** absent in snapshots written before issue 12 session 8: 0 (bn then leaves out the slots' 1/κ_k − 1 share) */
  yy?: number;
}

/**
 * Per-item sums for the per-item noise (NoiseModel 'item'), over the item's observations, with c̃ = [1, context]
 * (`interaction`, `concat`) or c̃ = [1] (`item`, `embedding`): n_a, Σ y², Σ c̃ y, Σ c̃ c̃ᵀ (k × k, full).
 */
export interface LinearItemStats {
  n: number;
  yy: number;
  xr: number[];
  xx: number[];
}

export interface LinearStats {
  n: number;
  yy: number;
  /** Xᵀy, length d */
  xy: number[];
  /** XᵀX, d×d row-major, symmetric */
  xx: number[];
  /** per-item reward sums (noise 'item' only) */
  items?: Record<string, LinearItemStats>;
  /** per-slot sums for slots 1, 2, … keyed by the 0-based slot index (positionModel 'pbm' only) */
  positions?: Record<string, LinearPositionStats>;
  /**
   * per item, per slot k ≥ 1 (0-based index as key): [n_{a,k}, Σy, Σc̃ (k numbers)] (itemEffect 'intercept' with
   * positionModel 'pbm' only; slot 0's are the item's totals minus these)
   */
  itemSlots?: Record<string, Record<string, number[]>>;
}

export type LinearSnapshot = SnapshotBase<'linear' | 'neural-linear', LinearConfig, LinearStats>;

export interface LinearOptions extends Partial<NigPrior> {
  contextDim: number;
  itemDim: number;
  /** default 'interaction' */
  featureMap?: Exclude<FeatureMapConfig['kind'], 'embedding'>;
  /** default 'item' (LinFullPost-style per-action noise); 'pooled' is the original single σ² */
  noise?: NoiseModel;
  /** default 'pbm' (learned per-slot examination); 'none' treats every slot alike */
  positionModel?: PositionModel;
  /**
   * default 'twins' (the per-item random intercept for feature twins only: fixes the OBD replay's abandoned item-17,
   * leaves requests without twins exactly as 'none'); 'intercept' for every item; 'none' features only
   */
  itemEffect?: ItemEffect;
  /** default {@link ITEM_EFFECT_PRECISION} */
  itemEffectPrecision?: number;
}

/** Examination κ_k is kept in [KAPPA_MIN, 1]: the top slot is the most examined one (list layouts). */
export const KAPPA_MIN = 0.05;
/** Prior sd τ of κ_k around 1 (examination-probability scale): the data outweigh it once κ_k is known to ±τ. */
export const KAPPA_PRIOR_SD = 0.25;
/**
 * Alternating-least-squares rounds of κ from κ = 1 (a load, or an explicit estimate). ALS contracts slowly here — the
 * lower slots pull μ towards their own κ, about ×0.8 per round with 5 slots — so 3 rounds (until issue 12 session 8)
 * stopped at κ ≈ .90/.71/.52/.40 against a converged .76/.57/.41/.31 (true .75/.55/.40/.30; NumPy check on a seeded
 * 5-slot log) and under-debiased the lower slots. 30 rounds leave ≈ 0.3·0.8³⁰ ≈ 1e-4.
 */
export const KAPPA_ROUNDS = 30;
/** Rounds of a re-estimate that continues from the current κ (after observations, merges, rebases). */
export const KAPPA_WARM_ROUNDS = 3;

class RawStats {
  n = 0;
  yy = 0;
  readonly xy: Float64Array;
  /** lower triangle authoritative */
  readonly xx: Float64Array;
  /** per item [n, Σy², Σ c̃y (k), Σ c̃c̃ᵀ (k², full)] with c̃ = [1, context] (noise 'item'), else null */
  readonly items: Map<string, Float64Array> | null;
  /** per slot k ≥ 1: [n, X_kᵀy (d), X_kᵀX_k (d², lower triangle authoritative), y_kᵀy_k] (positionModel 'pbm'), else null */
  readonly positions: Map<number, Float64Array> | null;
  /** per item, per slot k ≥ 1: [n, Σy, Σc̃ (k)] (itemEffect with the position model), else null */
  readonly itemSlots: Map<string, Map<number, Float64Array>> | null;
  constructor(
    readonly d: number,
    perItem = false,
    readonly k = 1,
    perPosition = false,
    perItemSlot = false,
  ) {
    this.xy = new Float64Array(d);
    this.xx = new Float64Array(d * d);
    this.items = perItem ? new Map() : null;
    this.positions = perPosition ? new Map() : null;
    this.itemSlots = perItemSlot ? new Map() : null;
  }
  itemSlotRow(id: string, slot: number): Float64Array {
    const all = this.itemSlots as Map<string, Map<number, Float64Array>>;
    let rows = all.get(id);
    if (!rows) all.set(id, (rows = new Map()));
    let r = rows.get(slot);
    if (!r) rows.set(slot, (r = new Float64Array(2 + this.k)));
    return r;
  }
  observeItemSlot(id: string, slot: number, c: Vector, r: number): void {
    if (!this.itemSlots || slot < 1) return;
    const row = this.itemSlotRow(id, slot);
    row[0] += 1;
    row[1] += r;
    for (let i = 0; i < this.k; i++) row[2 + i] += c[i];
  }
  correctItemSlot(id: string, slot: number, oldR: number, newR: number): void {
    if (!this.itemSlots || slot < 1) return;
    this.itemSlotRow(id, slot)[1] += newR - oldR;
  }
  addItemSlots(
    src: Record<string, Record<string, number[]>> | Map<string, Map<number, Float64Array>> | null | undefined,
    sign: number,
  ): void {
    if (!this.itemSlots || !src) return;
    const k = this.k;
    const entries: Array<[string, Array<[number, ArrayLike<number>]>]> =
      src instanceof Map
        ? [...src].map(([id, rows]) => [id, [...rows]])
        : Object.entries(src).map(([id, rows]) => [
            id,
            Object.entries(rows).map(([key, v]) => {
              const slot = Number(key);
              if (!(Number.isInteger(slot) && slot >= 1))
                throw new RangeError(`item ${id} slot stats: slot "${key}" is not an integer ≥ 1`);
              if (v.length !== 2 + k) throw new RangeError(`item ${id} slot ${key}: stats dimension mismatch`);
              return [slot, v];
            }),
          ]);
    for (const [id, rows] of entries)
      for (const [slot, v] of rows) {
        const r = this.itemSlotRow(id, slot);
        for (let i = 0; i < r.length; i++) r[i] += sign * v[i];
      }
  }
  positionRow(slot: number): Float64Array {
    const positions = this.positions as Map<number, Float64Array>;
    let p = positions.get(slot);
    if (!p) positions.set(slot, (p = new Float64Array(2 + this.d + this.d * this.d)));
    return p;
  }
  /** Slot k ≥ 1's sums (slot 0's are the totals minus the others', never kept apart). */
  observePosition(slot: number, x: Vector, r: number, withXX: boolean): void {
    if (!this.positions || slot < 1) return;
    const p = this.positionRow(slot);
    const d = this.d;
    p[0] += 1;
    for (let i = 0; i < d; i++) p[1 + i] += r * x[i];
    p[1 + d + d * d] += r * r;
    if (withXX) addOuterLower(p.subarray(1 + d, 1 + d + d * d), x, d);
  }
  correctPosition(slot: number, x: Vector, oldR: number, newR: number): void {
    if (!this.positions || slot < 1) return;
    const p = this.positionRow(slot);
    const d = this.d;
    for (let i = 0; i < d; i++) p[1 + i] += (newR - oldR) * x[i];
    p[1 + d + d * d] += newR * newR - oldR * oldR;
  }
  addPositions(
    positions: Record<string, LinearPositionStats> | Map<number, Float64Array> | null | undefined,
    sign: number,
    parts: 'all' | 'xx' | 'rest',
  ): void {
    if (!this.positions || !positions) return;
    const d = this.d;
    const entries: Array<[number, ArrayLike<number>]> =
      positions instanceof Map
        ? [...positions]
        : Object.entries(positions).map(([k, v]) => {
            const slot = Number(k);
            if (!(Number.isInteger(slot) && slot >= 1))
              throw new RangeError(`position stats: slot "${k}" is not an integer ≥ 1`);
            if (v.xy.length !== d || v.xx.length !== d * d)
              throw new RangeError(`position ${k}: stats dimension mismatch`);
            return [slot, [v.n, ...v.xy, ...v.xx, v.yy ?? 0]];
          });
    const last = 1 + d + d * d; // y_kᵀy_k goes with n and X_kᵀy
    for (const [slot, v] of entries) {
      const p = this.positionRow(slot);
      if (parts !== 'xx') {
        for (let i = 0; i <= d; i++) p[i] += sign * v[i];
        p[last] += sign * v[last];
      }
      if (parts !== 'rest') for (let i = 1 + d; i < last; i++) p[i] += sign * v[i];
    }
  }
  private itemRow(id: string): Float64Array {
    const items = this.items as Map<string, Float64Array>;
    let it = items.get(id);
    if (!it) items.set(id, (it = new Float64Array(2 + this.k + this.k * this.k)));
    return it;
  }
  /** c: the item-level context vector c̃ (length k). */
  observeItem(id: string, c: Vector, r: number): void {
    if (!this.items) return;
    const it = this.itemRow(id);
    const k = this.k;
    it[0] += 1;
    it[1] += r * r;
    for (let i = 0; i < k; i++) {
      it[2 + i] += r * c[i];
      const row = 2 + k + i * k;
      for (let j = 0; j < k; j++) it[row + j] += c[i] * c[j];
    }
  }
  correctItem(id: string, c: Vector, oldR: number, newR: number): void {
    if (!this.items) return;
    const it = this.itemRow(id);
    it[1] += newR * newR - oldR * oldR;
    for (let i = 0; i < this.k; i++) it[2 + i] += (newR - oldR) * c[i];
  }
  addItems(items: Record<string, LinearItemStats> | Map<string, Float64Array> | null | undefined, sign = 1): void {
    if (!this.items || !items) return;
    const k = this.k;
    const entries: Array<[string, ArrayLike<number>]> =
      items instanceof Map
        ? [...items]
        : Object.entries(items).map(([id, v]) => {
            if (v.xr.length !== k || v.xx.length !== k * k)
              throw new RangeError(`item ${id}: stats dimension mismatch`);
            return [id, [v.n, v.yy, ...v.xr, ...v.xx]];
          });
    for (const [id, v] of entries) {
      const it = this.itemRow(id);
      for (let i = 0; i < it.length; i++) it[i] += sign * v[i];
    }
  }
  observe(x: Vector, r: number, withXX = true): void {
    this.n += 1;
    this.yy += r * r;
    for (let i = 0; i < this.d; i++) this.xy[i] += r * x[i];
    if (withXX) addOuterLower(this.xx, x, this.d);
  }
  correct(x: Vector, oldR: number, newR: number): void {
    const dr = newR - oldR;
    this.yy += newR * newR - oldR * oldR;
    for (let i = 0; i < this.d; i++) this.xy[i] += dr * x[i];
  }
  /** Adds `sign` × s; `parts` selects XᵀX and/or the rest (n, yᵀy, Xᵀy). */
  add(
    s: {
      n: number;
      yy: number;
      xy: ArrayLike<number>;
      xx: ArrayLike<number>;
      items?: Record<string, LinearItemStats> | Map<string, Float64Array> | null;
      positions?: Record<string, LinearPositionStats> | Map<number, Float64Array> | null;
      itemSlots?: Record<string, Record<string, number[]>> | Map<string, Map<number, Float64Array>> | null;
    },
    sign = 1,
    parts: 'all' | 'xx' | 'rest' = 'all',
  ): void {
    const d = this.d;
    if (s.xy.length !== d || s.xx.length !== d * d) throw new RangeError(`stats dimension mismatch: expected d=${d}`);
    this.addPositions(s.positions, sign, parts);
    if (parts !== 'xx') {
      this.addItems(s.items, sign);
      this.addItemSlots(s.itemSlots, sign);
      this.n += sign * s.n;
      this.yy += sign * s.yy;
      for (let i = 0; i < d; i++) this.xy[i] += sign * s.xy[i];
    }
    if (parts !== 'rest')
      for (let i = 0; i < d; i++) for (let j = 0; j <= i; j++) this.xx[i * d + j] += sign * s.xx[i * d + j];
  }
  reset(): void {
    this.n = 0;
    this.yy = 0;
    this.xy.fill(0);
    this.xx.fill(0);
    this.items?.clear();
    this.positions?.clear();
    this.itemSlots?.clear();
  }
  toJSON(): LinearStats {
    const xx = symmetrizeFromLower(Float64Array.from(this.xx), this.d);
    const out: LinearStats = { n: this.n, yy: this.yy, xy: Array.from(this.xy), xx: Array.from(xx) };
    if (this.items) {
      out.items = {};
      for (const id of [...this.items.keys()].sort()) {
        const it = this.items.get(id) as Float64Array;
        out.items[id] = {
          n: it[0],
          yy: it[1],
          xr: Array.from(it.subarray(2, 2 + this.k)),
          xx: Array.from(it.subarray(2 + this.k)),
        };
      }
    }
    if (this.positions) {
      out.positions = {};
      const d = this.d;
      for (const slot of [...this.positions.keys()].sort((a, b) => a - b)) {
        const p = this.positions.get(slot) as Float64Array;
        out.positions[String(slot)] = {
          n: p[0],
          xy: Array.from(p.subarray(1, 1 + d)),
          xx: Array.from(symmetrizeFromLower(Float64Array.from(p.subarray(1 + d, 1 + d + d * d)), d)),
          yy: p[1 + d + d * d],
        };
      }
    }
    if (this.itemSlots) {
      out.itemSlots = {};
      for (const id of [...this.itemSlots.keys()].sort()) {
        const rows = this.itemSlots.get(id) as Map<number, Float64Array>;
        out.itemSlots[id] = Object.fromEntries(
          [...rows.keys()]
            .sort((a, b) => a - b)
            .map((slot) => [String(slot), Array.from(rows.get(slot) as Float64Array)]),
        );
      }
    }
    return out;
  }
  /**
   * Item a's LinFullPost quantity yᵀy − μ_aᵀΛ_aμ_a of its OWN ridge regression on c̃ (prior precision λ):
   *   RSS_a = Σy² − (Σc̃y)ᵀ(λI + Σc̃c̃ᵀ)⁻¹(Σc̃y)  (≥ 0; clamped against rounding),
   * whose expectation under the prior β_a | σ² ~ N(0, σ²/λ I) is n_a σ² (Riquelme et al. 2018): unlike the residual
   * around a fit, it does not vanish while the item has fewer observations than c̃ has entries. O(k³).
   */
  itemOwnRss(id: string, lambda: number): { n: number; rss: number } {
    const it = this.items?.get(id);
    if (!it || it[0] <= 0) return { n: 0, rss: 0 };
    const k = this.k;
    const A = Float64Array.from(it.subarray(2 + k));
    for (let i = 0; i < k; i++) A[i * k + i] += lambda;
    const w = forwardSolve(cholesky(A, k), it.subarray(2, 2 + k), k);
    return { n: it[0], rss: Math.max(0, it[1] - dot(w, w, k)) };
  }
  /**
   * Item a's per-item-effect sums around the prediction κ_k c̃ᵀγ, with the position model's weights (regressor κ_k,
   * noise variance κ_k σ²): precision Σ_k κ_k n_{a,k} and Σ_k (Σy_{a,k} − κ_k γᵀΣc̃_{a,k}) (slot 0, κ = 1: the
   * totals minus the slots ≥ 1; Σc̃ is row 0 of Σc̃c̃ᵀ as c̃_0 = 1).
   */
  itemEffectSums(
    id: string,
    gamma: ArrayLike<number>,
    kappaOf: (slot: number) => number,
  ): { precision: number; weighted: number } {
    const it = this.items?.get(id);
    if (!it || it[0] <= 0) return { precision: 0, weighted: 0 };
    const k = this.k;
    let n0 = it[0];
    let y0 = it[2];
    let pred0 = 0;
    for (let j = 0; j < k; j++) pred0 += gamma[j] * it[2 + k + j];
    let precision = 0;
    let weighted = 0;
    const rows = this.itemSlots?.get(id);
    if (rows)
      for (const [slot, r] of rows) {
        const kappa = kappaOf(slot);
        let pred = 0;
        for (let j = 0; j < k; j++) pred += gamma[j] * r[2 + j];
        n0 -= r[0];
        y0 -= r[1];
        pred0 -= pred;
        precision += kappa * r[0];
        weighted += r[1] - kappa * pred;
      }
    return { precision: precision + n0, weighted: weighted + y0 - pred0 };
  }
}

export interface LinearPosterior {
  d: number;
  /** μn */
  mean: Float64Array;
  /** Λn = XᵀX + λI (full, symmetric) */
  precision: Float64Array;
  /** Cholesky factor of Λn */
  cholesky: Float64Array;
  an: number;
  bn: number;
  n: number;
}

export class LinearModel implements BanditModel<LinearSnapshot> {
  readonly type: 'linear' | 'neural-linear';
  readonly config: LinearConfig;
  readonly map: FeatureMap;
  readonly d: number;
  /**
   * `stats` holds the whole state except that XᵀX of the pending delta lives only in `delta.xx` (it is folded
   * into `stats.xx` by takeDelta), so an observation writes the d×d outer product once.
   */
  private readonly stats: RawStats;
  private readonly delta: RawStats;
  /** Cholesky factor of λI + XᵀX, maintained by rank-one updates */
  private readonly L: Float64Array;
  private mu: Float64Array;
  private muDirty = true;
  private readonly work: Float64Array;
  private readonly xbuf: Float64Array;
  /** length of the item-level context vector c̃ of the per-item noise sums */
  readonly k: number;
  private readonly cbuf: Float64Array;
  /** examination κ_k of slots k ≥ 1 (absent: 1), as used by L and the posterior mean (positionModel 'pbm') */
  private readonly kappa = new Map<number, number>();
  /** observations at slots ≥ 1 since κ was last estimated */
  private sinceKappa = 0;
  private readonly kbuf: Float64Array;
  /** itemEffect 'intercept' or 'twins' */
  private readonly itemEffect: boolean;
  /** itemEffect 'twins': the term only for candidates sharing their item features with another candidate */
  private readonly twinsOnly: boolean;
  /** λ_δ */
  private readonly lambdaItem: number;
  /** per item: its own-ridge RSS for the noise scale ({@link noiseScales}), dropped when the item's sums change */
  private readonly ownRss = new Map<string, { n: number; rss: number }>();

  constructor(config: LinearConfig, type: 'linear' | 'neural-linear' = 'linear') {
    this.type = type;
    this.config = { ...checkPrior(config), features: { ...config.features } };
    if (config.noise !== undefined && config.noise !== 'pooled' && config.noise !== 'item')
      throw new RangeError(`noise must be "pooled" or "item", got ${String(config.noise)}`);
    this.map = createFeatureMap(this.config.features);
    const d = (this.d = this.map.dim);
    if (config.positionModel !== undefined && config.positionModel !== 'none' && config.positionModel !== 'pbm')
      throw new RangeError(`positionModel must be "none" or "pbm", got ${String(config.positionModel)}`);
    if (
      config.itemEffect !== undefined &&
      config.itemEffect !== 'none' &&
      config.itemEffect !== 'intercept' &&
      config.itemEffect !== 'twins'
    )
      throw new RangeError(`itemEffect must be "none", "intercept" or "twins", got ${String(config.itemEffect)}`);
    const kind = this.config.features.kind;
    this.itemEffect = config.itemEffect === 'intercept' || config.itemEffect === 'twins';
    this.twinsOnly = config.itemEffect === 'twins';
    if (this.itemEffect && kind === 'embedding')
      throw new RangeError(`itemEffect "${config.itemEffect}" needs item features (not the embedding map)`);
    const lambdaItem = config.itemEffectPrecision ?? ITEM_EFFECT_PRECISION;
    if (!(typeof lambdaItem === 'number' && lambdaItem > 0 && Number.isFinite(lambdaItem)))
      throw new RangeError(`itemEffectPrecision must be a positive number, got ${String(lambdaItem)}`);
    this.lambdaItem = lambdaItem;
    const perItem = config.noise === 'item' || this.itemEffect;
    const perPosition = config.positionModel === 'pbm';
    this.k = kind === 'interaction' || kind === 'concat' ? this.config.features.contextDim + 1 : 1;
    this.cbuf = new Float64Array(this.k);
    this.stats = new RawStats(d, perItem, this.k, perPosition, this.itemEffect && perPosition);
    this.delta = new RawStats(d, perItem, this.k, perPosition, this.itemEffect && perPosition);
    this.kbuf = new Float64Array(d);
    this.L = new Float64Array(d * d);
    this.mu = new Float64Array(d);
    this.work = new Float64Array(d);
    this.xbuf = new Float64Array(d);
    this.refactor();
  }

  static create(opts: LinearOptions): LinearModel {
    return new LinearModel({
      lambda: opts.lambda ?? NIG_DEFAULTS.lambda,
      a0: opts.a0 ?? NIG_DEFAULTS.a0,
      b0: opts.b0 ?? NIG_DEFAULTS.b0,
      features: { kind: opts.featureMap ?? 'interaction', contextDim: opts.contextDim, itemDim: opts.itemDim },
      noise: opts.noise ?? 'item',
      positionModel: opts.positionModel ?? 'pbm',
      // 'none' is written as an absent key, as in the posteriors stored before the per-item term existed
      ...(opts.itemEffect === 'none'
        ? {}
        : {
            itemEffect: opts.itemEffect ?? ('twins' as const),
            ...(opts.itemEffectPrecision === undefined ? {} : { itemEffectPrecision: opts.itemEffectPrecision }),
          }),
    });
  }

  static fromSnapshot(s: LinearSnapshot): LinearModel {
    if (s.version !== 1 || (s.type !== 'linear' && s.type !== 'neural-linear'))
      throw new RangeError('not a linear model snapshot');
    const m = new LinearModel(s.config, s.type);
    m.stats.add({
      ...s.stats,
      items: s.stats.items ?? {},
      positions: s.stats.positions ?? {},
      itemSlots: s.stats.itemSlots ?? {},
    });
    m.estimateExamination();
    return m;
  }

  /** XᵀX of the whole state (lower triangle authoritative). */
  private totalXX(): Float64Array {
    const A = Float64Array.from(this.stats.xx);
    const D = this.delta.xx;
    for (let i = 0; i < A.length; i++) A[i] += D[i];
    return A;
  }

  /** X_kᵀX_k of slot k's whole state (lower triangle authoritative). */
  private positionXX(slot: number): Float64Array {
    const d = this.d;
    const A = new Float64Array(d * d);
    const s = this.stats.positions?.get(slot);
    const p = this.delta.positions?.get(slot);
    if (s) A.set(s.subarray(1 + d, 1 + d + d * d));
    if (p) for (let i = 0; i < A.length; i++) A[i] += p[1 + d + i];
    return A;
  }

  /**
   * Recomputes the Cholesky factor of Λn from the statistics (after merges, or a new κ). O(d³).
   * Λn = λI + Σ_k κ_k X_kᵀX_k = λI + XᵀX + Σ_{k≥1} (κ_k − 1) X_kᵀX_k (see {@link PositionModel}).
   */
  private refactor(): void {
    const d = this.d;
    const A = this.totalXX();
    for (const [slot, kappa] of this.kappa) {
      const P = this.positionXX(slot);
      const w = kappa - 1;
      for (let i = 0; i < A.length; i++) A[i] += w * P[i];
    }
    for (let i = 0; i < d; i++) A[i * d + i] += this.config.lambda;
    cholesky(A, d, this.L);
    this.muDirty = true;
  }

  /** The weighted yᵀy: Σ_k y_kᵀy_k / κ_k = yᵀy + Σ_{k≥1} (1/κ_k − 1) y_kᵀy_k (see {@link PositionModel}). */
  private weightedYy(): number {
    let yy = this.stats.yy;
    const last = 1 + this.d + this.d * this.d;
    for (const [slot, kappa] of this.kappa) {
      const p = this.stats.positions?.get(slot);
      if (p) yy += (1 / kappa - 1) * p[last];
    }
    return yy;
  }

  /** κ_k of slot k (0-based; 1 for the top slot, for unseen slots and without the position model). */
  examination(slot: number): number {
    return slot >= 1 ? (this.kappa.get(slot) ?? 1) : 1;
  }

  /**
   * Re-estimates κ (positionModel 'pbm') from the per-slot sums, then refactors. Alternating least squares on
   * y ≈ κ_k · xᵀβ (the PBM's mean): with β fixed at the posterior mean μ, κ_k is the posterior mean of the regression
   * of slot k's rewards on their predicted relevance xᵀμ with noise variance σ̂² = bn/an and a Normal prior
   * κ_k ~ N(1, τ²), τ = KAPPA_PRIOR_SD:
   *   κ_k = (μᵀX_kᵀy / σ̂² + 1/τ²) / (μᵀX_kᵀX_kμ / σ̂² + 1/τ²),
   * clamped to [KAPPA_MIN, 1]; then μ is refitted with the new κ. With rare rewards (little information about κ per
   * observation) κ stays near 1, i.e. near the model without position bias. `from: 'prior'` starts from κ = 1 and runs
   * `rounds` rounds (KAPPA_ROUNDS: converged to ≈ 1e-4), so κ is a function of the additive sums: a load or an
   * explicit estimate on replicas holding the same statistics gives the same κ. `'current'` continues from the
   * current κ (the re-estimates after observations, merges and rebases: KAPPA_WARM_ROUNDS each, so κ tracks the
   * fixed point at a tenth of the cost).
   */
  estimateExamination(rounds = KAPPA_ROUNDS, from: 'prior' | 'current' = 'prior'): void {
    this.sinceKappa = 0;
    const positions = this.stats.positions;
    if (from === 'prior') this.kappa.clear();
    else for (const k of [...this.kappa.keys()]) if (!positions?.has(k)) this.kappa.delete(k);
    if (!positions || positions.size === 0 || this.stats.n <= 0) {
      this.kappa.clear();
      this.refactor();
      return;
    }
    const d = this.d;
    const slots = [...positions.keys()].sort((a, b) => a - b);
    const XX = new Map(slots.map((k) => [k, symmetrizeFromLower(this.positionXX(k), d)]));
    const quad = (A: Float64Array, v: Float64Array): number => {
      let q = 0;
      for (let i = 0; i < d; i++) q += v[i] * dot(A.subarray(i * d, (i + 1) * d), v, d);
      return q;
    };
    this.refactor();
    for (let round = 0; round < rounds; round++) {
      const mu = this.posteriorMean();
      const noise = this.bn() / this.an();
      const prior = 1 / (KAPPA_PRIOR_SD * KAPPA_PRIOR_SD);
      for (const k of slots) {
        const p = positions.get(k) as Float64Array;
        const num = dot(mu, p.subarray(1, 1 + d), d) / noise + prior;
        const den = quad(XX.get(k) as Float64Array, mu) / noise + prior;
        const kappa = den > 0 ? Math.min(1, Math.max(KAPPA_MIN, num / den)) : 1;
        this.kappa.set(k, kappa);
      }
      this.refactor();
    }
  }

  // ---- vector-level API (x already built) ----

  /** slot: the 0-based slot the row was shown in (the position model's examination applies from slot 1). */
  observeVector(x: Vector, reward = 0, slot = 0): void {
    checkVector(x, this.d, 'x');
    checkReward(reward);
    checkSlot(slot);
    this.stats.observe(x, reward, false);
    this.delta.observe(x, reward, true);
    this.stats.observePosition(slot, x, reward, false);
    this.delta.observePosition(slot, x, reward, true);
    const kappa = this.stats.positions ? this.examination(slot) : 1;
    if (kappa !== 1) {
      // precision weight κ_k: the regressor κ_k·x with weight 1/κ_k (see PositionModel)
      const xs = this.kbuf;
      const w = Math.sqrt(kappa);
      for (let i = 0; i < this.d; i++) xs[i] = w * x[i];
      cholUpdate(this.L, xs, this.d, this.work);
    } else cholUpdate(this.L, x, this.d, this.work);
    this.muDirty = true;
    if (this.stats.positions && slot >= 1) this.maybeEstimateExamination();
  }

  correctVector(x: Vector, oldReward: number, newReward: number, slot = 0): void {
    checkVector(x, this.d, 'x');
    checkReward(oldReward, 'oldReward');
    checkReward(newReward, 'newReward');
    checkSlot(slot);
    this.stats.correct(x, oldReward, newReward);
    this.delta.correct(x, oldReward, newReward);
    this.stats.correctPosition(slot, x, oldReward, newReward);
    this.delta.correctPosition(slot, x, oldReward, newReward);
    this.muDirty = true;
  }

  /** κ is re-estimated after every max(50, n/10) observations at slots ≥ 1 (O(P·d³) each time). */
  private maybeEstimateExamination(): void {
    this.sinceKappa += 1;
    if (this.sinceKappa >= Math.max(50, this.stats.n / 10)) this.estimateExamination(KAPPA_WARM_ROUNDS, 'current');
  }

  /** μn (cached; recomputed in O(d²) after changes). */
  posteriorMean(): Float64Array {
    if (this.muDirty) {
      // the κ-weighted regression's Λμ = Σ_k X_kᵀy = Xᵀy (regressor κ_k·x, weight 1/κ_k)
      this.mu = cholSolve(this.L, this.stats.xy, this.d, this.mu);
      this.muDirty = false;
    }
    return this.mu;
  }

  posterior(): LinearPosterior {
    const d = this.d;
    const mean = Float64Array.from(this.posteriorMean());
    const precision = symmetrizeFromLower(this.totalXX(), d);
    for (let i = 0; i < d; i++) precision[i * d + i] += this.config.lambda;
    for (const [slot, kappa] of this.kappa) {
      const P = symmetrizeFromLower(this.positionXX(slot), d);
      for (let i = 0; i < precision.length; i++) precision[i] += (kappa - 1) * P[i];
    }
    return { d, mean, precision, cholesky: Float64Array.from(this.L), an: this.an(), bn: this.bn(), n: this.stats.n };
  }

  an(): number {
    return posteriorShape(this.config, this.stats.n);
  }

  bn(): number {
    // μᵀΛμ = μᵀXᵀy since Λμ = Xᵀy (also under the position model's weights; yᵀy is then the weighted one)
    const mu = this.posteriorMean();
    return posteriorScale(this.config, this.kappa.size ? this.weightedYy() : this.stats.yy, dot(mu, this.stats.xy));
  }

  /** β = μn + σ L⁻ᵀ z with σ² = bn/g: the coefficient draw for given variates g ~ Gamma(an,1), z ~ N(0, I_d). */
  coefficientsFromVariates(
    g: number,
    z: ArrayLike<number>,
    out: Float64Array = new Float64Array(this.d),
  ): Float64Array {
    const sigma = Math.sqrt(this.bn() / g);
    const mu = this.posteriorMean();
    backSolveTransposed(this.L, z, this.d, out);
    for (let i = 0; i < this.d; i++) out[i] = mu[i] + sigma * out[i];
    return out;
  }

  /** One posterior draw of β: consumes Gamma(an, 1) then d standard normals. */
  sampleCoefficients(rng: Rng, out: Float64Array = new Float64Array(this.d)): Float64Array {
    const g = rng.gamma(this.an(), 1);
    const z = rng.normals(new Float64Array(this.d));
    return this.coefficientsFromVariates(g, z, out);
  }

  // ---- BanditModel ----

  encode(context: Vector, candidate: Candidate, out: Float64Array = new Float64Array(this.d)): Float64Array {
    return this.map.encode(context, candidate, out);
  }

  /** slot: 0-based slot index in the shown slate (0 = top); it matters only with positionModel 'pbm'. */
  observe(context: Vector, candidate: Candidate, reward = 0, slot = 0): void {
    this.observeVector(this.map.encode(context, candidate, this.xbuf), reward, slot);
    if (this.stats.items) {
      this.ownRss.delete(candidate.id);
      const c = this.itemContext(context);
      this.stats.observeItem(candidate.id, c, reward);
      this.delta.observeItem(candidate.id, c, reward);
      this.stats.observeItemSlot(candidate.id, slot, c, reward);
      this.delta.observeItemSlot(candidate.id, slot, c, reward);
    }
  }

  correct(context: Vector, candidate: Candidate, oldReward: number, newReward: number, slot = 0): void {
    this.correctVector(this.map.encode(context, candidate, this.xbuf), oldReward, newReward, slot);
    if (this.stats.items) {
      this.ownRss.delete(candidate.id);
      const c = this.itemContext(context);
      this.stats.correctItem(candidate.id, c, oldReward, newReward);
      this.delta.correctItem(candidate.id, c, oldReward, newReward);
      this.stats.correctItemSlot(candidate.id, slot, oldReward, newReward);
      this.delta.correctItemSlot(candidate.id, slot, oldReward, newReward);
    }
  }

  /** c̃ = [1, context] (interaction, concat) or [1]. */
  private itemContext(context: Vector): Float64Array {
    const c = this.cbuf;
    c[0] = 1;
    for (let i = 1; i < this.k; i++) c[i] = context[i - 1];
    return c;
  }

  /**
   * γ with xᵀμ = c̃ᵀγ for this candidate at every context (its current item features f̃ = [1, f]):
   * interaction γ_a = Σ_b μ[a, b] f̃_b; concat γ = [μ_0 + μ_fᵀf, μ_context]; item γ = [μ_0 + μ_fᵀf].
   * Null for embedding (x depends on the pair, not on c̃): the item's own mean reward is used instead.
   */
  private itemCoefficients(candidate: Candidate): Float64Array | null {
    const { kind, contextDim: C, itemDim: m } = this.config.features;
    if (kind === 'embedding') return null;
    const mu = this.posteriorMean();
    const f =
      candidate.features === undefined
        ? new Float64Array(m)
        : checkVector(candidate.features, m, `candidate ${candidate.id} features`);
    const g = new Float64Array(this.k);
    if (kind === 'interaction') {
      for (let a = 0; a <= C; a++) {
        const row = a * (m + 1);
        let s = mu[row];
        for (let b = 0; b < m; b++) s += mu[row + 1 + b] * f[b];
        g[a] = s;
      }
      return g;
    }
    const off = kind === 'concat' ? 1 + C : 1;
    let s = mu[0];
    for (let b = 0; b < m; b++) s += mu[off + b] * f[b];
    g[0] = s;
    if (kind === 'concat') for (let a = 0; a < C; a++) g[1 + a] = mu[1 + a];
    return g;
  }

  /**
   * Per-item noise scales c_a of the candidates ({@link itemNoiseScale}); null with pooled noise. RSS_a is
   * LinFullPost's per-action quantity of the item's own ridge regression on c̃ = [1, context] (c̃ = [1] for the
   * item and embedding maps) with the model's λ ({@link RawStats.itemOwnRss}), as the hybrid model's. Cached per item
   * until its sums change.
   *
   * Why not the residual around the shared posterior mean (used until issue 12, session 7): the interaction map has
   * (C+1)(m+1) coefficients, so a rarely chosen item's few rewards are fitted almost exactly and that residual is ≈ 0.
   * E_a then falls to the pooled estimate, which the thousands of exactly fitted rewards of the frequent items drive
   * towards 0: in the mushroom reproduction (117 one-hot features; "act" pays +5 / −35, "skip" always 0) "act" kept
   * c_a ≈ 0.9 with bn/an → 0.03 after 9 draws of "act", its score sd fell from 4.7 to 1.4 against a mean of −15, and
   * it was not tried again (late recall < 0.6 in 7 of 40 seeds, 0.004 in one). The own-ridge quantity keeps the
   * prior's λ|μ_a|² term, so it stays near n_a σ_a² (c_a ≈ 1.8 there).
   */
  noiseScales(candidates: readonly Candidate[]): Float64Array | null {
    if (!this.stats.items || this.config.noise !== 'item') return null;
    const an = this.an(),
      bn = this.bn();
    return Float64Array.from(candidates, (c) => {
      const it = this.stats.items?.get(c.id);
      if (!it || it[0] <= 0) return 1;
      let own = this.ownRss.get(c.id);
      if (!own) this.ownRss.set(c.id, (own = this.stats.itemOwnRss(c.id, this.config.lambda)));
      return itemNoiseScale(this.config, an, bn, own.n, own.rss);
    });
  }

  /**
   * The per-item effects' posterior ({@link ItemEffect}) for the candidates: mean m_a and unit-σ² variance
   * c_a²/P_a (c_a = 1 without per-item noise), the prior precision λ_δ estimated over these candidates, and the
   * indices of the candidates that get the term (`drawn`: all, or with 'twins' the feature twins; the others have
   * mean and variance 0); null when itemEffect is 'none', or 'twins' and the request has no twins. An unseen item:
   * m_a = 0, variance c_a²/λ_δ.
   */
  itemEffects(
    candidates: readonly Candidate[],
    scale: Float64Array | null = this.noiseScales(candidates),
  ): { mean: Float64Array; variance: Float64Array; precision: number; drawn: Int32Array } | null {
    if (!this.itemEffect) return null;
    const drawn = this.twinsOnly ? this.featureTwins(candidates) : Int32Array.from(candidates, (_, i) => i);
    if (drawn.length === 0) return null;
    const n = candidates.length;
    const mean = new Float64Array(n);
    const variance = new Float64Array(n);
    const kappaOf = (slot: number) => this.examination(slot);
    const N = new Float64Array(n);
    const W = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const c = candidates[i];
      if (!this.stats.items?.get(c.id)) continue;
      const { precision, weighted } = this.stats.itemEffectSums(
        c.id,
        this.itemCoefficients(c) as Float64Array,
        kappaOf,
      );
      N[i] = precision;
      W[i] = weighted;
    }
    const lambda = this.itemEffectPrecisionFor(N, W);
    for (const i of drawn) {
      const P = lambda + N[i];
      const ca = scale ? scale[i] : 1;
      mean[i] = W[i] / P;
      variance[i] = (ca * ca) / P;
    }
    return { mean, variance, precision: lambda, drawn };
  }

  /**
   * Indices (ascending) of the candidates whose item-feature vector (absent: zeros) equals another candidate's, exactly.
   * O(n·m).
   */
  featureTwins(candidates: readonly Candidate[]): Int32Array {
    const m = this.config.features.itemDim;
    const groups = new Map<string, number>();
    const keys = candidates.map((c) => {
      const key =
        c.features === undefined ? '' : Array.from(checkVector(c.features, m, `candidate ${c.id} features`)).join(',');
      // absent features are zeros: the same key as an explicit zero vector
      const k = key === '' || /^(-?0,)*-?0$/.test(key) ? 'zero' : key;
      groups.set(k, (groups.get(k) ?? 0) + 1);
      return k;
    });
    const out: number[] = [];
    keys.forEach((k, i) => (groups.get(k) as number) > 1 && out.push(i));
    return Int32Array.from(out);
  }

  /**
   * λ_δ by empirical Bayes over the request's candidates (method of moments, as DerSimonian & Laird 1986 for random
   * effects): with s² = bn/an, each observed item's W_a²/N_a has expectation N_a τ² + s² when δ_a ~ N(0, τ²), so
   *   τ̂² = (Σ_a W_a²/N_a − s² · #{a: N_a > 0}) / Σ_a N_a,   λ_δ = s²/τ̂²,
   * kept in [itemEffectPrecision, ITEM_EFFECT_PRECISION_MAX] (τ̂² ≤ 0: the maximum, i.e. the term nearly off). So the
   * per-item term explores only as much as the items' own residuals say the features leave unexplained; the
   * configured itemEffectPrecision bounds how exploratory it may get.
   */
  private itemEffectPrecisionFor(N: Float64Array, W: Float64Array): number {
    const s2 = this.bn() / this.an();
    let q = 0,
      total = 0,
      seen = 0;
    for (let i = 0; i < N.length; i++)
      if (N[i] > 0) {
        q += (W[i] * W[i]) / N[i];
        total += N[i];
        seen += 1;
      }
    const tau2 = total > 0 ? (q - s2 * seen) / total : 0;
    return tau2 > 0
      ? Math.min(ITEM_EFFECT_PRECISION_MAX, Math.max(this.lambdaItem, s2 / tau2))
      : ITEM_EFFECT_PRECISION_MAX;
  }

  observations(): number {
    return this.stats.n;
  }

  prepare(context: Vector, candidates: readonly Candidate[]): SlateScorer {
    checkUniqueIds(candidates);
    const d = this.d;
    const n = candidates.length;
    const X = new Float64Array(n * d);
    for (let i = 0; i < n; i++) this.map.encode(context, candidates[i], X.subarray(i * d, (i + 1) * d));
    const mu = this.posteriorMean();
    const an = this.an();
    const bn = this.bn();
    const mean = new Float64Array(n);
    for (let i = 0; i < n; i++) mean[i] = dot(X.subarray(i * d, (i + 1) * d), mu, d);
    const scale = this.noiseScales(candidates);
    const effects = this.itemEffects(candidates, scale);
    // xᵀμ before the item effects (the β part of a draw deviates around it)
    const base = effects ? Float64Array.from(mean) : mean;
    if (effects) for (let i = 0; i < n; i++) mean[i] += effects.mean[i];
    const W = new Float64Array(n * d); // row i = L⁻¹ x_i, so S = W Wᵀ = X Λ⁻¹ Xᵀ (filled on demand)
    const solved = new Uint8Array(n);
    const L = this.L;
    const row = (i: number): Float64Array => {
      const wi = W.subarray(i * d, (i + 1) * d);
      if (!solved[i]) {
        forwardSolve(L, X.subarray(i * d, (i + 1) * d), d, wi);
        if (scale) for (let k = 0; k < d; k++) wi[k] *= scale[i]; // per-item noise: S = D X Λ⁻¹ Xᵀ D
        solved[i] = 1;
      }
      return wi;
    };
    let sampler: NigScoreSampler | null = null;
    const covariance = (): Float64Array => {
      for (let i = 0; i < n; i++) row(i);
      const S = new Float64Array(n * n);
      for (let i = 0; i < n; i++)
        for (let j = 0; j < n; j++)
          S[i * n + j] = dot(W.subarray(i * d, (i + 1) * d), W.subarray(j * d, (j + 1) * d), d);
      if (effects) for (let i = 0; i < n; i++) S[i * n + i] += effects.variance[i];
      return S;
    };
    // with item effects the covariance gains a diagonal: its n×n factor (r = n) is the cheaper one to draw from
    const makeSampler = (): NigScoreSampler => {
      if (effects) return NigScoreSampler.fromCovariance(mean, covariance(), an, bn);
      for (let i = 0; i < n; i++) row(i);
      return scoreSampler(mean, W, n, d, an, bn);
    };
    return {
      n,
      mean,
      sdOf(i: number): number {
        const wi = row(i);
        return scoreSd(dot(wi, wi, d) + (effects ? effects.variance[i] : 0), an, bn);
      },
      draw: (rng: Rng): Float64Array => {
        const s = new Float64Array(n);
        if (effects) {
          // the same variates as sampleCoefficients (gamma, d normals), then one normal per drawn candidate for δ
          const g = rng.gamma(an, 1);
          const beta = this.coefficientsFromVariates(g, rng.normals(new Float64Array(d)));
          const zeta = rng.normals(new Float64Array(effects.drawn.length));
          const sigma = Math.sqrt(bn / g);
          for (let i = 0; i < n; i++) {
            const c = scale ? scale[i] : 1;
            s[i] = mean[i] + c * (dot(X.subarray(i * d, (i + 1) * d), beta, d) - base[i]);
          }
          effects.drawn.forEach((i, j) => (s[i] += sigma * Math.sqrt(effects.variance[i]) * zeta[j]));
          return s;
        }
        const beta = this.sampleCoefficients(rng);
        if (scale) {
          // per-item noise, the same variates: s_i = x_iᵀμ + c_i x_iᵀ(β − μ)
          for (let i = 0; i < n; i++)
            s[i] = mean[i] + scale[i] * (dot(X.subarray(i * d, (i + 1) * d), beta, d) - mean[i]);
          return s;
        }
        for (let i = 0; i < n; i++) s[i] = dot(X.subarray(i * d, (i + 1) * d), beta, d);
        return s;
      },
      redraw(rng: Rng, out: Float64Array): void {
        (sampler ??= makeSampler()).sample(rng, out);
      },
      redrawPairs(rng: Rng, pairs: number, out: Float64Array): void {
        (sampler ??= makeSampler()).samplePairs(rng, pairs, out);
      },
      covariance,
    };
  }

  explain(context: Vector, candidate: Candidate, names?: FeatureNames): Contribution[] {
    const x = this.map.encode(context, candidate);
    const mu = this.posteriorMean();
    const fn = this.map.names(names);
    const out: Contribution[] = [];
    for (let i = 0; i < this.d; i++)
      if (x[i] !== 0) out.push({ feature: fn[i], value: x[i], coefficient: mu[i], contribution: mu[i] * x[i] });
    return sortContributions(out);
  }

  snapshot(): LinearSnapshot {
    const stats = this.stats.toJSON();
    stats.xx = Array.from(symmetrizeFromLower(this.totalXX(), this.d));
    if (stats.positions)
      for (const k of Object.keys(stats.positions))
        stats.positions[k].xx = Array.from(symmetrizeFromLower(this.positionXX(Number(k)), this.d));
    return { type: this.type, version: 1, config: structuredClone(this.config), stats };
  }

  peekDelta(): LinearSnapshot {
    return { type: this.type, version: 1, config: structuredClone(this.config), stats: this.delta.toJSON() };
  }

  takeDelta(): LinearSnapshot {
    const out = this.peekDelta();
    this.stats.add(out.stats, 1, 'xx');
    this.delta.reset();
    return out;
  }

  private checkCompatible(s: LinearSnapshot): void {
    assertCompatible(this, s);
  }

  restoreDelta(delta: LinearSnapshot): void {
    this.checkCompatible(delta);
    this.delta.add(delta.stats);
    this.stats.add(delta.stats, -1, 'xx');
  }

  mergeDelta(delta: LinearSnapshot): void {
    this.checkCompatible(delta);
    this.stats.add(delta.stats);
    this.ownRss.clear();
    this.estimateExamination(KAPPA_WARM_ROUNDS, 'current');
  }

  rebase(merged: LinearSnapshot): void {
    this.checkCompatible(merged);
    this.stats.reset();
    this.stats.add(merged.stats);
    this.stats.add(this.delta, 1, 'rest');
    this.ownRss.clear();
    this.estimateExamination(KAPPA_WARM_ROUNDS, 'current');
  }
}

function checkSlot(slot: number): void {
  if (!(Number.isInteger(slot) && slot >= 0)) throw new RangeError(`slot must be an integer ≥ 0, got ${slot}`);
}

/**
 * Joint score sampler for a linear-Gaussian model: S = W Wᵀ with W n×d. Uses W directly when d ≤ n (r = d),
 * otherwise the (semidefinite) Cholesky factor of the n×n S (r = n), whichever is cheaper per draw.
 */
export function scoreSampler(
  mean: Float64Array,
  W: Float64Array,
  n: number,
  d: number,
  an: number,
  bn: number,
): NigScoreSampler {
  if (d <= n) return new NigScoreSampler(mean, W, d, false, an, bn);
  const S = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j <= i; j++) {
      const v = dot(W.subarray(i * d, (i + 1) * d), W.subarray(j * d, (j + 1) * d), d);
      S[i * n + j] = v;
      S[j * n + i] = v;
    }
  return NigScoreSampler.fromCovariance(mean, S, an, bn);
}
