/**
 * Hybrid linear model of Li, Chu, Langford & Schapire (2010, "A contextual-bandit approach to personalized news
 * article recommendation", Algorithm 2, LinUCB hybrid) in Thompson-sampling form with NIG noise scaling.
 *
 *   r = zᵀβ + xᵀθ_a + ε,  ε ~ N(0, σ²),  x = [1, context] (d_x),  z = x ⊗ item features (d_z = d_x · d_item)
 *   prior: σ² ~ InvGamma(a0, b0), β | σ² ~ N(0, σ²/λ I), θ_a | σ² ~ N(0, σ²/λ I) independently per item.
 *
 * Raw additive statistics: shared ZᵀZ, Zᵀr, rᵀr, n; per item XᵀX, ZᵀX, Xᵀr, n_a. Li's quantities derive from them:
 *   A_a = λI + Σ_a x xᵀ,   B_a = Σ_a x zᵀ,   b_a = Σ_a x r,
 *   A0 = λI + Σ z zᵀ − Σ_a B_aᵀ A_a⁻¹ B_a,   b0 = Σ z r − Σ_a B_aᵀ A_a⁻¹ b_a,
 *   β | σ², data ~ N(A0⁻¹ b0, σ² A0⁻¹),   θ_a | β, σ², data ~ N(A_a⁻¹ (b_a − B_a β), σ² A_a⁻¹),
 *   an = a0 + n/2,  bn = b0 + ½(rᵀr − μᵀΛμ),  μᵀΛμ = β̂ᵀ b0 + Σ_a b_aᵀ A_a⁻¹ b_a (the full joint posterior).
 * A new item has A_a = λI, B_a = 0, b_a = 0: its score zᵀβ comes from the shared, feature-based part (cold start).
 *
 * Online, the Cholesky factor of A0 gets a rank-one update per observation: integrating θ_a out, an observation
 * adds ũũᵀ with ũ = (z − B_aᵀA_a⁻¹x)/√(1 + xᵀA_a⁻¹x) (old A_a, B_a), so observe is O(d_z² + d_z d_x).
 * A merge recomputes everything from the raw statistics (O(d_z³ + items · d_z² d_x)).
 */
import { cholUpdateFactor, solvedGram } from '../kernels';
import {
  addOuterLower,
  backSolveTransposed,
  cholSolve,
  cholUpdate,
  cholesky,
  choleskySemidefinite,
  dot,
  forwardSolve,
  symmetrizeFromLower,
} from '../linalg';
import type { Rng } from '../rng';
import {
  type BanditModel,
  type Candidate,
  type Contribution,
  type DeltaOptions,
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

export interface HybridConfig extends NigPrior {
  contextDim: number;
  itemDim: number;
  /** x = [1, context] (true, default) or x = context; with it z contains the raw item features too */
  intercept: boolean;
  /** absent: 'pooled' (snapshots written before per-item noise existed) */
  noise?: NoiseModel;
  /** prior precision of the per-item block θ_a (per unit σ²); absent: `lambda` (the original prior) */
  itemLambda?: number;
}

/** A number array of the statistics: number[] (snapshots, JSON) or Float64Array (takeDelta({ typedArrays: true })). */
export type StatArray = number[] | Float64Array;

export interface HybridItemStats {
  n: number;
  /** Σ x xᵀ, d_x × d_x */
  xx: StatArray;
  /** Σ z xᵀ (= B_aᵀ), d_z × d_x row-major */
  zx: StatArray;
  /** Σ x r, d_x */
  xr: StatArray;
  /** Σ r² of the item (noise 'item' only) */
  yy?: number;
}

export interface HybridStats {
  n: number;
  yy: number;
  /** Σ z zᵀ, d_z × d_z */
  zz: StatArray;
  /** Σ z r, d_z */
  zr: StatArray;
  items: Record<string, HybridItemStats>;
}

export type HybridSnapshot = SnapshotBase<'hybrid', HybridConfig, HybridStats>;

export interface HybridOptions extends Partial<NigPrior> {
  contextDim: number;
  itemDim: number;
  intercept?: boolean;
  /** default 'item' (LinFullPost-style per-action noise); 'pooled' is the original single σ² */
  noise?: NoiseModel;
  /** default {@link ITEM_PRECISION_PER_FEATURE} · d_x (README, "prior scaling"); pass `lambda` for the original prior */
  itemLambda?: number;
}

class ItemRaw {
  n = 0;
  /** Σ r² (per-item noise) */
  yy = 0;
  readonly xx: Float64Array;
  readonly zx: Float64Array;
  readonly xr: Float64Array;
  constructor(
    readonly dx: number,
    readonly dz: number,
  ) {
    this.xx = new Float64Array(dx * dx);
    this.zx = new Float64Array(dz * dx);
    this.xr = new Float64Array(dx);
  }
}

/**
 * ZᵀZ of observations not yet added, kept per (item, item-feature vector) as Σ x xᵀ: since z = x ⊗ f,
 * Σ z zᵀ = Σ_groups (Σ x xᵀ) ⊗ f fᵀ. An observation then costs O(d_x²) instead of O(d_z²) and the d_z² work is done
 * once per group when the sum is read (a flush) — the outer product was ~10 % of a rank's CPU at d_z = 289.
 */
class PendingOuterProducts {
  private readonly groups = new Map<string, Array<{ f: Float64Array; xx: Float64Array }>>();
  private count = 0;
  constructor(
    readonly dx: number,
    readonly m: number,
  ) {}

  get size(): number {
    return this.count;
  }

  add(id: string, x: Vector, f: Vector): void {
    let list = this.groups.get(id);
    if (!list) this.groups.set(id, (list = []));
    let g = list.find((e) => e.f.every((v, i) => v === f[i]));
    if (!g) {
      g = { f: Float64Array.from(f), xx: new Float64Array(this.dx * this.dx) };
      list.push(g);
      this.count++;
    }
    addOuterLower(g.xx, x, this.dx);
  }

  /** Adds every group's (Σ x xᵀ) ⊗ f fᵀ to the lower triangle of zz (d_z × d_z), then forgets them. */
  settleInto(zz: Float64Array): void {
    const { dx, m } = this;
    const dz = dx * m;
    for (const list of this.groups.values()) {
      for (const { f, xx } of list) {
        for (let a = 0; a < dx; a++) {
          for (let b = 0; b < m; b++) {
            const fb = f[b];
            if (fb === 0) continue;
            const row = (a * m + b) * dz;
            for (let c = 0; c <= a; c++) {
              const w = xx[a * dx + c] * fb;
              if (w === 0) continue;
              const end = c < a ? m : b + 1;
              const col = row + c * m;
              for (let d = 0; d < end; d++) zz[col + d] += w * f[d];
            }
          }
        }
      }
    }
    this.clear();
  }

  clear(): void {
    this.groups.clear();
    this.count = 0;
  }
}

class HybridRaw {
  n = 0;
  yy = 0;
  readonly zz: Float64Array;
  readonly zr: Float64Array;
  readonly items = new Map<string, ItemRaw>();
  /** set on the pending delta only: its ZᵀZ is accumulated by groups and settled when read */
  pendingZZ: PendingOuterProducts | null = null;
  constructor(
    readonly dx: number,
    readonly dz: number,
  ) {
    this.zz = new Float64Array(dz * dz);
    this.zr = new Float64Array(dz);
  }
  /** Folds the grouped ZᵀZ into zz; every reader of zz calls it first. */
  settle(): void {
    if (this.pendingZZ?.size) this.pendingZZ.settleInto(this.zz);
  }
  item(id: string): ItemRaw {
    let it = this.items.get(id);
    if (!it) {
      it = new ItemRaw(this.dx, this.dz);
      this.items.set(id, it);
    }
    return it;
  }
  /** withZX false: the caller has added z xᵀ to the item's zx itself. */
  observe(id: string, x: Vector, z: Vector, f: Vector, r: number, withZZ = true, withZX = true): void {
    const { dx, dz } = this;
    this.n += 1;
    this.yy += r * r;
    if (withZZ) {
      if (this.pendingZZ) this.pendingZZ.add(id, x, f);
      else addOuterLower(this.zz, z, dz);
    }
    for (let i = 0; i < dz; i++) this.zr[i] += r * z[i];
    const it = this.item(id);
    it.n += 1;
    it.yy += r * r;
    addOuterLower(it.xx, x, dx);
    for (let i = 0; withZX && i < dz; i++) {
      const zi = z[i];
      if (zi === 0) continue;
      const row = i * dx;
      for (let j = 0; j < dx; j++) it.zx[row + j] += zi * x[j];
    }
    for (let j = 0; j < dx; j++) it.xr[j] += r * x[j];
  }
  correct(id: string, x: Vector, z: Vector, oldR: number, newR: number): void {
    const dr = newR - oldR;
    this.yy += newR * newR - oldR * oldR;
    for (let i = 0; i < this.dz; i++) this.zr[i] += dr * z[i];
    const it = this.item(id);
    it.yy += newR * newR - oldR * oldR;
    for (let j = 0; j < this.dx; j++) it.xr[j] += dr * x[j];
  }
  /** Adds s; `parts` selects ZᵀZ only, everything but ZᵀZ, or all. */
  add(s: HybridStats, parts: 'all' | 'zz' | 'rest' = 'all', sign = 1): void {
    const { dx, dz } = this;
    if (s.zz.length !== dz * dz || s.zr.length !== dz)
      throw new RangeError(`stats dimension mismatch: expected d_z=${dz}`);
    if (parts !== 'rest')
      for (let i = 0; i < dz; i++) for (let j = 0; j <= i; j++) this.zz[i * dz + j] += sign * s.zz[i * dz + j];
    if (parts === 'zz') return;
    this.n += s.n;
    this.yy += s.yy;
    for (let i = 0; i < dz; i++) this.zr[i] += s.zr[i];
    for (const [id, si] of Object.entries(s.items)) {
      if (si.xx.length !== dx * dx || si.zx.length !== dz * dx || si.xr.length !== dx)
        throw new RangeError(`item ${id}: stats dimension mismatch`);
      const it = this.item(id);
      it.n += si.n;
      it.yy += si.yy ?? 0;
      for (let i = 0; i < dx; i++) for (let j = 0; j <= i; j++) it.xx[i * dx + j] += si.xx[i * dx + j];
      for (let i = 0; i < dz * dx; i++) it.zx[i] += si.zx[i];
      for (let i = 0; i < dx; i++) it.xr[i] += si.xr[i];
    }
  }
  reset(): void {
    this.n = 0;
    this.yy = 0;
    this.pendingZZ?.clear();
    this.zz.fill(0);
    this.zr.fill(0);
    this.items.clear();
  }
  clone(): HybridRaw {
    const c = new HybridRaw(this.dx, this.dz);
    c.replaceWith(this, true);
    return c;
  }
  /** Takes over `other`'s values (copying the arrays when `copy`). */
  replaceWith(other: HybridRaw, copy = false): void {
    other.settle();
    this.n = other.n;
    this.yy = other.yy;
    this.zz.set(other.zz);
    this.zr.set(other.zr);
    this.items.clear();
    for (const [id, it] of other.items) {
      if (!copy) {
        this.items.set(id, it);
        continue;
      }
      const c = new ItemRaw(this.dx, this.dz);
      c.n = it.n;
      c.yy = it.yy;
      c.xx.set(it.xx);
      c.zx.set(it.zx);
      c.xr.set(it.xr);
      this.items.set(id, c);
    }
  }
  toJSON(perItemNoise = false): HybridStats {
    this.settle();
    const { dx, dz } = this;
    const items: Record<string, HybridItemStats> = {};
    for (const id of [...this.items.keys()].sort()) {
      const it = this.items.get(id) as ItemRaw;
      items[id] = {
        n: it.n,
        xx: Array.from(symmetrizeFromLower(Float64Array.from(it.xx), dx)),
        zx: Array.from(it.zx),
        xr: Array.from(it.xr),
      };
      if (perItemNoise) {
        items[id].yy = it.yy;
      }
    }
    return {
      n: this.n,
      yy: this.yy,
      zz: Array.from(symmetrizeFromLower(Float64Array.from(this.zz), dz)),
      zr: Array.from(this.zr),
      items,
    };
  }
  /**
   * The same statistics as toJSON with this object's own buffers as the arrays (symmetrised in place, no copy): only
   * for a detached delta, which is never written again.
   */
  toTyped(perItemNoise = false): HybridStats {
    this.settle();
    const { dx, dz } = this;
    const items: Record<string, HybridItemStats> = {};
    for (const id of [...this.items.keys()].sort()) {
      const it = this.items.get(id) as ItemRaw;
      items[id] = { n: it.n, xx: symmetrizeFromLower(it.xx, dx), zx: it.zx, xr: it.xr };
      if (perItemNoise) items[id].yy = it.yy;
    }
    return { n: this.n, yy: this.yy, zz: symmetrizeFromLower(this.zz, dz), zr: this.zr, items };
  }
}

/** Derived per-item quantities: Cholesky of A_a and q_a = b_aᵀ A_a⁻¹ b_a. */
interface ItemDerived {
  La: Float64Array;
  q: number;
  /**
   * The item's own ridge RSS for its noise scale ({@link HybridModel.noiseScales}), computed when first needed and
   * kept until the item's statistics change (it depends on them only): a d_x Cholesky per candidate was ~⅓ of
   * `prepare` at 50 candidates.
   */
  rss?: number;
  /**
   * Kronecker structure of the item's statistics, checked when first needed and kept until the item is observed:
   * the item's features f when every observation had them (zx = B_aᵀ = (Σ x xᵀ) ⊗ f, to 1e-9 of each entry's scale),
   * null when not (features changed, or no intercept to read f from). See {@link HybridModel.kroneckerFeatures}.
   */
  kron?: Float64Array | null;
}

export interface HybridPosterior {
  dx: number;
  dz: number;
  /** Li's A0 (marginal precision of β per unit σ²), full d_z × d_z */
  A0: Float64Array;
  /** Li's b0 */
  b0: Float64Array;
  /** β̂ = A0⁻¹ b0 */
  beta: Float64Array;
  an: number;
  bn: number;
  n: number;
}

export interface HybridItemPosterior {
  /** A_a = λI + Σ x xᵀ */
  A: Float64Array;
  /** B_a = Σ x zᵀ, d_x × d_z */
  B: Float64Array;
  /** b_a = Σ x r */
  b: Float64Array;
  /** θ̂_a = A_a⁻¹ (b_a − B_a β̂) */
  theta: Float64Array;
}

/**
 * Default prior precision of θ_a per entry of x: itemLambda = 10 · d_x, so a new item's correction xᵀθ_a has prior
 * variance σ²|x|²/itemLambda ≈ σ²/10 for standardised x — a tenth of one observation's noise (with λ = 0.25 it was
 * 4σ²|x|², so every new item started far more uncertain than the shared feature model, and the d_x coefficients per
 * item learn only from that item's data). The price: an item's own coefficients reach half their data value after
 * ≈ 10·d_x of its observations; what the features explain is learnt at the shared block's pace. Measured on the
 * cold-start reproduction (learning.spec.ts, seed 1, per-item noise): regret 1,149 (λ), 778 (d_x), 463 (10·d_x) over
 * 6,000 decisions; explored share at the end 0.41, 0.38, 0.19 (README, "Prior scaling").
 */
export const ITEM_PRECISION_PER_FEATURE = 10;

export class HybridModel implements BanditModel<HybridSnapshot> {
  readonly type = 'hybrid' as const;
  readonly config: HybridConfig;
  readonly dx: number;
  readonly dz: number;
  /** prior precision of θ_a */
  readonly itemLambda: number;
  /** d_item */
  readonly m: number;
  /**
   * `stats` holds the whole state except that ZᵀZ of the pending delta lives only in the delta (grouped by item
   * until read, folded into `stats.zz` by takeDelta), so an observation never writes a d_z×d_z outer product.
   */
  private readonly stats: HybridRaw;
  /** replaced by a fresh one when takeDelta hands the buffers over */
  private delta: HybridRaw;
  private readonly derived = new Map<string, ItemDerived>();
  /** Cholesky factor of Li's A0 */
  private readonly L0: Float64Array;
  /** bumped on every change of L0 (the kernels keep a copy of the factor per version) */
  private factorVersion = 0;
  /** Li's b0 */
  private readonly bt: Float64Array;
  /** Σ_a b_aᵀ A_a⁻¹ b_a */
  private q = 0;
  private mergesSinceRebuild = 0;
  private betaHat: Float64Array;
  private betaDirty = true;
  private readonly newItemL: Float64Array;
  private readonly wz: Float64Array;
  private readonly wx: Float64Array;
  private readonly xbuf: Float64Array;
  private readonly zbuf: Float64Array;
  /** observe's scratch: A_a⁻¹x, the d_x rank-one work row, the k ũ rows and the k z rows of a slate */
  private readonly wsolve: Float64Array;
  private readonly wx2: Float64Array;
  private ubuf = new Float64Array(0);
  private zsbuf = new Float64Array(0);
  /** item features of a candidate sent without any (all zeros, as encodeShared reads it) */
  private readonly zeroItem: Float64Array;
  /** scratch of encodeShared */
  private readonly fbuf: Float64Array;

  constructor(config: HybridConfig) {
    checkPrior(config);
    const { contextDim, itemDim } = config;
    if (!Number.isInteger(contextDim) || contextDim < 0 || !Number.isInteger(itemDim) || itemDim <= 0)
      throw new RangeError('contextDim must be ≥ 0 and itemDim > 0 (integers)');
    if (config.noise !== undefined && config.noise !== 'pooled' && config.noise !== 'item')
      throw new RangeError(`noise must be "pooled" or "item", got ${String(config.noise)}`);
    this.config = {
      lambda: config.lambda,
      a0: config.a0,
      b0: config.b0,
      contextDim,
      itemDim,
      intercept: config.intercept,
    };
    if (config.noise !== undefined) this.config.noise = config.noise;
    if (config.itemLambda !== undefined) this.config.itemLambda = checkPositiveNumber(config.itemLambda, 'itemLambda');
    this.itemLambda = config.itemLambda ?? config.lambda;
    this.m = itemDim;
    this.dx = contextDim + (config.intercept ? 1 : 0);
    if (this.dx === 0) throw new RangeError('hybrid needs a context vector or the intercept');
    this.dz = this.dx * this.m;
    this.stats = new HybridRaw(this.dx, this.dz);
    this.delta = new HybridRaw(this.dx, this.dz);
    this.delta.pendingZZ = new PendingOuterProducts(this.dx, this.m);
    this.L0 = new Float64Array(this.dz * this.dz);
    this.bt = new Float64Array(this.dz);
    this.betaHat = new Float64Array(this.dz);
    this.newItemL = new Float64Array(this.dx * this.dx);
    for (let i = 0; i < this.dx; i++) this.newItemL[i * this.dx + i] = Math.sqrt(this.itemLambda);
    this.wz = new Float64Array(this.dz);
    this.wx = new Float64Array(this.dx);
    this.xbuf = new Float64Array(this.dx);
    this.zbuf = new Float64Array(this.dz);
    this.wsolve = new Float64Array(this.dx);
    this.wx2 = new Float64Array(this.dx);
    this.zeroItem = new Float64Array(this.m);
    this.fbuf = new Float64Array(this.m);
    this.rebuild();
  }

  static create(opts: HybridOptions): HybridModel {
    return new HybridModel({
      lambda: opts.lambda ?? NIG_DEFAULTS.lambda,
      a0: opts.a0 ?? NIG_DEFAULTS.a0,
      b0: opts.b0 ?? NIG_DEFAULTS.b0,
      contextDim: opts.contextDim,
      itemDim: opts.itemDim,
      intercept: opts.intercept ?? true,
      noise: opts.noise ?? 'item',
      itemLambda:
        opts.itemLambda ?? ITEM_PRECISION_PER_FEATURE * (opts.contextDim + ((opts.intercept ?? true) ? 1 : 0)),
    });
  }

  static fromSnapshot(s: HybridSnapshot): HybridModel {
    if (s.version !== 1 || s.type !== 'hybrid') throw new RangeError('not a hybrid model snapshot');
    const m = new HybridModel(s.config);
    m.stats.add(s.stats);
    m.rebuild();
    return m;
  }

  /** x = [1, context] (or context). */
  encodeContext(context: Vector, out: Float64Array = new Float64Array(this.dx)): Float64Array {
    checkVector(context, this.config.contextDim, 'context');
    const off = this.config.intercept ? 1 : 0;
    if (off) out[0] = 1;
    for (let i = 0; i < this.config.contextDim; i++) out[off + i] = context[i];
    return out;
  }

  /** The candidate's item features (all zeros when missing). */
  private itemVector(candidate: Candidate): Vector {
    const f = candidate.features;
    if (f === undefined) return this.zeroItem;
    // the message only when it fails (this runs per candidate per request)
    if (f.length !== this.m || !allFinite(f))
      return checkVector(f, this.config.itemDim, `candidate ${candidate.id} features`);
    return f;
  }

  /** z = x ⊗ item, index a · d_item + b. */
  encodeShared(x: Vector, candidate: Candidate, out: Float64Array = new Float64Array(this.dz)): Float64Array {
    const m = this.m;
    const dx = this.dx;
    // copied to a Float64Array first: features arrive as arrays or typed arrays; the d_z products then run on one kind
    const item = this.fbuf;
    item.set(this.itemVector(candidate));
    for (let a = 0; a < dx; a++) {
      const xa = x[a];
      const row = a * m;
      for (let b = 0; b < m; b++) out[row + b] = xa * item[b];
    }
    return out;
  }

  private totalZZ(): Float64Array {
    const A = Float64Array.from(this.stats.zz);
    this.delta.settle();
    const D = this.delta.zz;
    for (let i = 0; i < A.length; i++) A[i] += D[i];
    return A;
  }

  /** Recomputes every derived quantity from the raw statistics. */
  private rebuild(): void {
    const { dz } = this;
    const A0 = this.totalZZ(); // lower triangle used
    for (let i = 0; i < dz; i++) A0[i * dz + i] += this.config.lambda;
    this.bt.set(this.stats.zr);
    this.q = 0;
    this.derived.clear();
    for (const [id, it] of this.stats.items) this.derived.set(id, this.applyItemTerms(it, A0, -1));
    cholesky(A0, dz, this.L0);
    this.mergesSinceRebuild = 0;
    this.factorVersion++;
    this.betaDirty = true;
  }

  /**
   * Adds sign × (B_aᵀA_a⁻¹B_a) to A0 (lower), sign × B_aᵀA_a⁻¹b_a to b0 and −sign × b_aᵀA_a⁻¹b_a to q, i.e. removes
   * (sign = +1) or adds (sign = −1) one item's Schur-complement terms. Returns the item's derived quantities.
   */
  private applyItemTerms(it: ItemRaw, A0: Float64Array, sign: number): ItemDerived {
    const { dx, dz } = this;
    const A = Float64Array.from(it.xx);
    for (let i = 0; i < dx; i++) A[i * dx + i] += this.itemLambda;
    const La = cholesky(A, dx);
    const M = new Float64Array(dx * dz); // La⁻¹ B_a (B_a = zxᵀ): column j = La⁻¹ zx[j, :]
    const col = new Float64Array(dx);
    const sol = new Float64Array(dx);
    for (let j = 0; j < dz; j++) {
      for (let k = 0; k < dx; k++) col[k] = it.zx[j * dx + k];
      forwardSolve(La, col, dx, sol);
      for (let k = 0; k < dx; k++) M[k * dz + j] = sol[k];
    }
    const c = forwardSolve(La, it.xr, dx); // La⁻¹ b_a
    const q = dot(c, c, dx);
    this.q -= sign * q;
    for (let k = 0; k < dx; k++) {
      const row = k * dz;
      const ck = c[k];
      for (let i = 0; i < dz; i++) {
        const mi = sign * M[row + i];
        if (mi === 0) continue;
        this.bt[i] += mi * ck;
        const ri = i * dz;
        for (let j = 0; j <= i; j++) A0[ri + j] += mi * M[row + j];
      }
    }
    return { La, q };
  }

  /**
   * Moves the state to `next` (raw statistics, ZᵀZ excluding the pending delta). Only the items whose statistics
   * changed are re-derived: A0 = L0L0ᵀ − old terms + new terms + ΔZᵀZ, then one O(d_z³) factorisation. A full
   * rebuild from raw statistics runs instead when most items changed, and every 32 incremental moves (bounding
   * the rounding drift of recomposing A0 from its factor).
   */
  private moveTo(next: HybridRaw): void {
    const { dz } = this;
    const touched: string[] = [];
    for (const [id, it] of next.items) {
      const old = this.stats.items.get(id);
      if (
        !old ||
        old.n !== it.n ||
        old.yy !== it.yy ||
        !sameArray(old.xr, it.xr) ||
        !sameArray(old.xx, it.xx) ||
        !sameArray(old.zx, it.zx)
      )
        touched.push(id);
    }
    for (const id of this.stats.items.keys()) if (!next.items.has(id)) touched.push(id);
    if (this.mergesSinceRebuild >= 32 || touched.length * 2 > Math.max(next.items.size, 8)) {
      this.stats.replaceWith(next);
      this.rebuild();
      return;
    }
    const L = this.L0;
    const A0 = new Float64Array(dz * dz);
    for (let i = 0; i < dz; i++)
      for (let j = 0; j <= i; j++)
        A0[i * dz + j] = dot(L.subarray(i * dz, i * dz + j + 1), L.subarray(j * dz, j * dz + j + 1), j + 1);
    for (const id of touched) {
      const old = this.stats.items.get(id);
      if (old) this.applyItemTerms(old, A0, +1);
    }
    for (let i = 0; i < dz; i++) {
      this.bt[i] += next.zr[i] - this.stats.zr[i];
      const ri = i * dz;
      for (let j = 0; j <= i; j++) A0[ri + j] += next.zz[ri + j] - this.stats.zz[ri + j];
    }
    this.stats.replaceWith(next);
    for (const id of touched) {
      const it = this.stats.items.get(id);
      if (it) this.derived.set(id, this.applyItemTerms(it, A0, -1));
      else this.derived.delete(id);
    }
    cholesky(A0, dz, this.L0);
    this.mergesSinceRebuild += 1;
    this.factorVersion++;
    this.betaDirty = true;
  }

  /** Recomputes every derived quantity from the raw statistics (O(d_z³ + items · d_z² d_x)). */
  refresh(): void {
    this.rebuild();
  }

  private itemL(id: string): Float64Array {
    return this.derived.get(id)?.La ?? this.newItemL;
  }

  private ensureDerived(id: string): ItemDerived {
    let d = this.derived.get(id);
    if (!d) {
      d = { La: Float64Array.from(this.newItemL), q: 0 };
      this.derived.set(id, d);
    }
    return d;
  }

  private refreshQ(id: string, d: ItemDerived): void {
    d.rss = undefined; // the item's statistics changed
    const it = this.stats.items.get(id) as ItemRaw;
    const c = forwardSolve(d.La, it.xr, this.dx, this.wx);
    const q = dot(c, c, this.dx);
    this.q += q - d.q;
    d.q = q;
  }

  /**
   * The item's feature vector f if its statistics have the Kronecker structure of constant features, else null.
   * z = x ⊗ f, so with f fixed B_aᵀ = Σ z xᵀ = (Σ x xᵀ) ⊗ f, i.e. zx[(i·m + b)·d_x + j] = f_b · xx[i, j]; with the
   * intercept x_0 = 1, f_b = zx[b·d_x] / xx[0, 0] (= Σf_b / n_a). Accepted when every entry agrees to 1e-9 of its
   * scale |f_b|·√(xx_ii xx_jj) (Cauchy–Schwarz bound of the sum; rounding of n_a terms stays far below). Then
   * B_aᵀw = (XX_a w) ⊗ f costs d_x² + d_z instead of d_z·d_x (the largest self time of `prepare`); the check costs one
   * B_aᵀw and is cached until the item is observed again.
   */
  private kroneckerFeatures(it: ItemRaw, d: ItemDerived | undefined): Float64Array | null {
    if (d && d.kron !== undefined) return d.kron;
    const { dx, m } = this;
    let f: Float64Array | null = null;
    const n0 = it.xx[0];
    if (this.config.intercept && n0 > 0) {
      f = new Float64Array(m);
      const zx = it.zx;
      for (let b = 0; b < m; b++) f[b] = zx[b * dx] / n0;
      check: for (let i = 0; i < dx; i++) {
        for (let j = 0; j < dx; j++) {
          const xij = i >= j ? it.xx[i * dx + j] : it.xx[j * dx + i];
          const scale = Math.sqrt(Math.abs(it.xx[i * dx + i] * it.xx[j * dx + j]));
          for (let b = 0; b < m; b++) {
            const fb = f[b];
            if (!(Math.abs(zx[(i * m + b) * dx + j] - fb * xij) <= 1e-9 * Math.abs(fb) * scale)) {
              f = null;
              break check;
            }
          }
        }
      }
    }
    if (d) d.kron = f;
    return f;
  }

  /** zx · w  (B_aᵀ w), into out (d_z). */
  private btw(id: string, w: Float64Array, out: Float64Array): Float64Array {
    const it = this.stats.items.get(id);
    const { dx, dz } = this;
    if (!it) return out.fill(0);
    const zx = it.zx;
    for (let i = 0; i < dz; i++) {
      const row = i * dx;
      let s = 0;
      let j = 0;
      // unrolled by four, the same left-to-right sum: bit-identical, ~1.5× faster (d_z dot products per candidate)
      for (; j + 3 < dx; j += 4) {
        s += zx[row + j] * w[j];
        s += zx[row + j + 1] * w[j + 1];
        s += zx[row + j + 2] * w[j + 2];
        s += zx[row + j + 3] * w[j + 3];
      }
      for (; j < dx; j++) s += zx[row + j] * w[j];
      out[i] = s;
    }
    return out;
  }

  observe(context: Vector, candidate: Candidate, reward = 0): void {
    this.observeShown(context, [{ candidate, reward }]);
  }

  /**
   * Records the shown slots of one decision (one context), each with its reward (default 0): the same state, bit for
   * bit, as calling {@link observe} for each in order, but the shared factor gets one rank-k update (one pass over its
   * d_z² entries, in WebAssembly when available) instead of k rank-one passes. Every ũ reads only its own item's
   * statistics, so all k are formed first from the state before the slate; a slate naming an item twice falls back
   * to one observation at a time (the second ũ needs the first one's item update).
   */
  observeShown(context: Vector, shown: ReadonlyArray<{ candidate: Candidate; reward?: number; slot?: number }>): void {
    const k = shown.length;
    if (k === 0) return;
    for (const s of shown) checkReward(s.reward ?? 0);
    const ids = new Set<string>();
    for (const s of shown) ids.add(s.candidate.id);
    if (ids.size < k) {
      for (const s of shown) this.observeShown(context, [s]);
      return;
    }
    const { dx, dz } = this;
    const x = this.encodeContext(context, this.xbuf);
    if (this.ubuf.length < k * dz) this.ubuf = new Float64Array(k * dz);
    const U = this.ubuf;
    const zs = this.zsbuf.length < k * dz ? (this.zsbuf = new Float64Array(k * dz)) : this.zsbuf;
    // every z first: a candidate with bad features throws before any state changes
    for (let s = 0; s < k; s++) this.encodeShared(x, shown[s].candidate, zs.subarray(s * dz, (s + 1) * dz));
    // Per slot: ũ_s = (z − B_aᵀA_a⁻¹x)/√(1 + xᵀA_a⁻¹x) and r̃_s from the item's statistics before it, then the item's
    // update. Each ũ reads only its own item (ids are distinct here) and the shared factor is read by none of this,
    // so the factor's k rank-one updates can all come last; b0, q and the shared sums still change in slot order.
    for (let s = 0; s < k; s++) {
      const { candidate } = shown[s];
      const reward = shown[s].reward ?? 0;
      const z = zs.subarray(s * dz, (s + 1) * dz);
      const id = candidate.id;
      const d = this.ensureDerived(id);
      const w = cholSolve(d.La, x, dx, this.wsolve);
      const c = 1 + dot(x, w, dx);
      const sc = 1 / Math.sqrt(c);
      const u = U.subarray(s * dz, (s + 1) * dz);
      const it = this.stats.items.get(id);
      const rt = (reward - (it ? dot(w, it.xr, dx) : 0)) * sc;
      const f = this.itemVector(candidate);
      if (it) {
        // B_aᵀw and the z xᵀ additions to the item's ZᵀX (kept and pending) in one pass over its rows: each row is
        // read for the dot product before it is changed, and the sums run in btw's and observe's order (same bits)
        const zx = it.zx;
        const dzx = this.delta.item(id).zx;
        for (let i = 0; i < dz; i++) {
          const row = i * dx;
          let bw = 0;
          for (let j = 0; j < dx; j++) bw += zx[row + j] * w[j];
          const zi = z[i];
          u[i] = (zi - bw) * sc;
          if (zi === 0) continue;
          for (let j = 0; j < dx; j++) {
            const p = zi * x[j];
            zx[row + j] += p;
            dzx[row + j] += p;
          }
        }
        this.stats.observe(id, x, z, f, reward, false, false);
        this.delta.observe(id, x, z, f, reward, true, false);
      } else {
        // a new item: B_a = 0
        for (let i = 0; i < dz; i++) u[i] = (z[i] - 0) * sc;
        this.stats.observe(id, x, z, f, reward, false);
        this.delta.observe(id, x, z, f, reward, true);
      }
      for (let i = 0; i < dz; i++) this.bt[i] += u[i] * rt;
      d.kron = undefined; // zx and xx changed
      cholUpdate(d.La, x, dx, this.wx2);
      this.refreshQ(id, d);
    }
    const version = this.factorVersion;
    this.factorVersion += k;
    cholUpdateFactor(this.L0, U, k, dz, version, this.factorVersion);
    this.betaDirty = true;
  }

  correct(context: Vector, candidate: Candidate, oldReward: number, newReward: number): void {
    checkReward(oldReward, 'oldReward');
    checkReward(newReward, 'newReward');
    const x = this.encodeContext(context, this.xbuf);
    const z = this.encodeShared(x, candidate, this.zbuf);
    const id = candidate.id;
    const { dx, dz } = this;
    const dr = newReward - oldReward;
    const d = this.ensureDerived(id);
    const w = cholSolve(d.La, x, dx, this.wsolve);
    const bw = this.btw(id, w, this.wz);
    for (let i = 0; i < dz; i++) this.bt[i] += (z[i] - bw[i]) * dr;
    this.stats.correct(id, x, z, oldReward, newReward);
    this.delta.correct(id, x, z, oldReward, newReward);
    this.refreshQ(id, d);
    this.betaDirty = true;
  }

  observations(itemId?: string): number {
    if (itemId === undefined) return this.stats.n;
    return this.stats.items.get(itemId)?.n ?? 0;
  }

  private beta(): Float64Array {
    if (this.betaDirty) {
      this.betaHat = cholSolve(this.L0, this.bt, this.dz, this.betaHat);
      this.betaDirty = false;
    }
    return this.betaHat;
  }

  an(): number {
    return posteriorShape(this.config, this.stats.n);
  }

  bn(): number {
    return posteriorScale(this.config, this.stats.yy, dot(this.beta(), this.bt, this.dz) + this.q);
  }

  posterior(): HybridPosterior {
    const dz = this.dz;
    const A0 = new Float64Array(dz * dz);
    const L = this.L0;
    for (let i = 0; i < dz; i++)
      for (let j = 0; j <= i; j++) {
        const v = dot(L.subarray(i * dz, i * dz + j + 1), L.subarray(j * dz, j * dz + j + 1), j + 1);
        A0[i * dz + j] = v;
        A0[j * dz + i] = v;
      }
    return {
      dx: this.dx,
      dz,
      A0,
      b0: Float64Array.from(this.bt),
      beta: Float64Array.from(this.beta()),
      an: this.an(),
      bn: this.bn(),
      n: this.stats.n,
    };
  }

  itemPosterior(id: string): HybridItemPosterior {
    const { dx, dz } = this;
    const lambda = this.itemLambda;
    const it = this.stats.items.get(id);
    const A = it ? symmetrizeFromLower(Float64Array.from(it.xx), dx) : new Float64Array(dx * dx);
    for (let i = 0; i < dx; i++) A[i * dx + i] += lambda;
    const B = new Float64Array(dx * dz);
    if (it) for (let i = 0; i < dz; i++) for (let j = 0; j < dx; j++) B[j * dz + i] = it.zx[i * dx + j];
    const b = it ? Float64Array.from(it.xr) : new Float64Array(dx);
    return { A, B, b, theta: this.thetaGiven(id, this.beta()) };
  }

  /** A_a⁻¹ (b_a − B_a β) */
  private thetaGiven(id: string, beta: Float64Array, out: Float64Array = new Float64Array(this.dx)): Float64Array {
    const { dx, dz } = this;
    const it = this.stats.items.get(id);
    if (!it) return out.fill(0);
    const rhs = new Float64Array(dx);
    for (let j = 0; j < dx; j++) rhs[j] = it.xr[j];
    for (let i = 0; i < dz; i++) {
      const bi = beta[i];
      if (bi === 0) continue;
      const row = i * dx;
      for (let j = 0; j < dx; j++) rhs[j] -= it.zx[row + j] * bi;
    }
    return cholSolve(this.itemL(id), rhs, dx, out);
  }

  /**
   * Parameter draw for given variates: σ² = bn/g; β = β̂ + σ A0^{-½ᵀ} ζ0; for each listed item
   * θ_a = A_a⁻¹(b_a − B_a β) + σ L_a⁻ᵀ ζ_a.
   */
  parametersFromVariates(
    g: number,
    zeta0: ArrayLike<number>,
    itemIds: readonly string[],
    zetas: readonly ArrayLike<number>[],
  ): { sigma2: number; beta: Float64Array; theta: Float64Array[] } {
    const { dx, dz } = this;
    const sigma2 = this.bn() / g;
    const sigma = Math.sqrt(sigma2);
    const bh = this.beta();
    const beta = backSolveTransposed(this.L0, zeta0, dz);
    for (let i = 0; i < dz; i++) beta[i] = bh[i] + sigma * beta[i];
    const theta = itemIds.map((id, k) => {
      const mean = this.thetaGiven(id, beta);
      const e = backSolveTransposed(this.itemL(id), zetas[k], dx);
      for (let j = 0; j < dx; j++) mean[j] += sigma * e[j];
      return mean;
    });
    return { sigma2, beta, theta };
  }

  prepare(context: Vector, candidates: readonly Candidate[]): SlateScorer {
    checkUniqueIds(candidates);
    const { dx, dz } = this;
    const n = candidates.length;
    const x = this.encodeContext(context);
    const G = new Float64Array(n * dz); // row a = g_a = z_a − B_aᵀ A_a⁻¹ x (one contiguous row per candidate)
    const U = new Float64Array(n * dx); // row a = u_a = L_a⁻¹ x
    const v = new Float64Array(n); // xᵀ A_a⁻¹ x = |u_a|²
    const itemMean = new Float64Array(n); // xᵀ A_a⁻¹ b_a
    const mean = new Float64Array(n);
    const bh = this.beta();
    const an = this.an();
    const bn = this.bn();
    const cbuf = new Float64Array(dz);
    const w = new Float64Array(dx);
    const yk = new Float64Array(dx);
    const mi = this.m;
    // per-item noise scales c_a first, so each row of G is scaled as it is written (the same product g·c as a
    // second pass over G, which cost ~7 % of prepare)
    const scale = this.noiseScales(candidates, an, bn);
    for (let a = 0; a < n; a++) {
      const ca = scale ? scale[a] : 1;
      const cand = candidates[a];
      const za = this.encodeShared(x, cand, G.subarray(a * dz, (a + 1) * dz));
      const it = this.stats.items.get(cand.id);
      const d = this.derived.get(cand.id);
      const La = d?.La ?? this.newItemL;
      const ua = forwardSolve(La, x, dx, U.subarray(a * dx, (a + 1) * dx));
      backSolveTransposed(La, ua, dx, w);
      v[a] = dot(x, w, dx);
      let m = it ? dot(w, it.xr, dx) : 0;
      itemMean[a] = m;
      const fk = it ? this.kroneckerFeatures(it, d) : null;
      if (it && fk) {
        // g_a = z_a − (XX_a w) ⊗ f  (constant features: B_aᵀw without the d_z × d_x product)
        // XX_a w from the lower triangle (row i up to the diagonal, then column i below it: the same j order as
        // the full symmetric matrix, without a branch per entry — that ternary was the largest line of prepare)
        const xx = it.xx;
        for (let i = 0; i < dx; i++) {
          let s = 0;
          const ri = i * dx;
          let j = 0;
          for (; j <= i; j++) s += xx[ri + j] * w[j];
          for (; j < dx; j++) s += xx[j * dx + i] * w[j];
          yk[i] = s;
        }
        for (let i = 0; i < dx; i++) {
          const yi = yk[i];
          const base = i * mi;
          for (let b = 0; b < mi; b++) {
            const gi = za[base + b] - yi * fk[b];
            za[base + b] = gi * ca;
            m += gi * bh[base + b];
          }
        }
      } else {
        const c = this.btw(cand.id, w, cbuf);
        for (let i = 0; i < dz; i++) {
          const gi = za[i] - c[i];
          za[i] = gi * ca;
          m += gi * bh[i];
        }
      }
      mean[a] = m;
    }
    if (scale) {
      // per-item noise: the score deviations of item a scaled by c_a, S = D S_pooled D (rows of G, scaled above, and
      // of U by c_a)
      for (let a = 0; a < n; a++) {
        const c = scale[a];
        for (let i = a * dx; i < (a + 1) * dx; i++) U[i] *= c;
        v[a] *= c * c;
      }
    }
    const L = this.L0;
    // S = YYᵀ + diag(v) with Y = G L0⁻ᵀ: the unit-σ² covariance of the scores, built when first needed
    let S: Float64Array | null = null;
    const covariance = (): Float64Array => {
      if (!S) S = scoreCovariance(L, G, v, dz, n, this.factorVersion);
      return S;
    };
    let sampler: NigScoreSampler | null = null;
    const scoreSampler = (): NigScoreSampler =>
      (sampler ??= new NigScoreSampler(mean, choleskySemidefinite(covariance(), n), n, true, an, bn));
    const sdOf = (_a: number, v: number): number => scoreSd(v, an, bn);
    return {
      n,
      mean,
      sdOf(a: number): number {
        if (S) return sdOf(a, S[a * n + a]);
        const y = forwardSolve(L, G.subarray(a * dz, (a + 1) * dz), dz);
        return sdOf(a, dot(y, y, dz) + v[a]);
      },
      /**
       * The canonical draw, consuming Gamma(an, 1), then d_z normals for β, then d_x per candidate — the variates
       * of parametersFromVariates, whose parameters it scores:
       * s_a = z_aᵀβ + xᵀθ_a with θ_a = A_a⁻¹(b_a − B_aβ) + σL_a⁻ᵀζ_a, which is g_aᵀβ + xᵀA_a⁻¹b_a + σ u_aᵀζ_a —
       * so θ_a itself is never formed (saves O(n·d_z·d_x) per request).
       */
      draw: (rng: Rng): Float64Array => {
        if (scale) {
          // per-item noise, the same variates (G, U rows already scaled by c_a): s_a = mean_a + c_a σ(g_aᵀL0⁻ᵀζ0 + u_aᵀζ_a)
          const sigma = Math.sqrt(bn / rng.gamma(an, 1));
          const e = backSolveTransposed(L, rng.normals(new Float64Array(dz)), dz);
          const zeta = new Float64Array(dx);
          const s = new Float64Array(n);
          for (let a = 0; a < n; a++) {
            rng.normals(zeta);
            s[a] =
              mean[a] +
              sigma * (dot(G.subarray(a * dz, (a + 1) * dz), e, dz) + dot(U.subarray(a * dx, (a + 1) * dx), zeta, dx));
          }
          return s;
        }
        const sigma = Math.sqrt(bn / rng.gamma(an, 1));
        const beta = backSolveTransposed(L, rng.normals(new Float64Array(dz)), dz);
        for (let i = 0; i < dz; i++) beta[i] = bh[i] + sigma * beta[i];
        const zeta = new Float64Array(dx);
        const s = new Float64Array(n);
        for (let a = 0; a < n; a++) {
          rng.normals(zeta);
          s[a] =
            dot(G.subarray(a * dz, (a + 1) * dz), beta, dz) +
            itemMean[a] +
            sigma * dot(U.subarray(a * dx, (a + 1) * dx), zeta, dx);
        }
        return s;
      },
      redraw(rng: Rng, out: Float64Array): void {
        scoreSampler().sample(rng, out);
      },
      redrawMany(rng: Rng, count: number, out: Float64Array): void {
        scoreSampler().sampleMany(rng, count, out);
      },
      redrawPairs(rng: Rng, pairs: number, out: Float64Array): void {
        scoreSampler().samplePairs(rng, pairs, out);
      },
      redrawPairCounts(rng: Rng, pairs: number, chosen: Int32Array, counts: Float64Array): void {
        scoreSampler().countPairs(rng, pairs, chosen, counts);
      },
      scoreDistribution() {
        const { mean: m, F, r, lower, an: a, bn: b } = scoreSampler();
        return { mean: m, F, r, lower, an: a, bn: b };
      },
      // the covariance's inputs as of now: G, v and mean belong to this scorer; the factor's lower triangle is copied
      // (observe moves it) into shared memory where there is any, so a worker thread gets it without another copy
      scoreCovarianceInputs: () => ({ mean, G, v, L: sharedLowerPacked(L, dz), d: dz, an, bn }),
      covariance,
    };
  }

  /**
   * Per-item noise scales of the candidates ({@link itemNoiseScale}; null with pooled noise). RSS_a is LinFullPost's
   * per-action quantity yᵀy − μᵀΛμ of the item's own ridge regression on x with the model's λ (not itemLambda):
   * Σr² − b_aᵀ(λI + Σxxᵀ)⁻¹b_a, whose expectation under the prior is n_a σ² (Riquelme et al. 2018). One d_x Cholesky
   * per seen candidate.
   */
  private noiseScales(candidates: readonly Candidate[], an: number, bn: number): Float64Array | null {
    if (this.config.noise !== 'item') return null;
    const out = new Float64Array(candidates.length);
    for (let a = 0; a < candidates.length; a++) {
      const id = candidates[a].id;
      const it = this.stats.items.get(id);
      if (!it || it.n <= 0) {
        out[a] = 1;
        continue;
      }
      const d = this.derived.get(id);
      let rss = d?.rss;
      if (rss === undefined) {
        rss = this.itemRss(it);
        if (d) d.rss = rss;
      }
      out[a] = itemNoiseScale(this.config, an, bn, it.n, rss);
    }
    return out;
  }

  /** LinFullPost's per-action quantity: Σr² − b_aᵀ(λI + Σxxᵀ)⁻¹b_a of the item's own ridge regression on x (model λ). */
  private itemRss(it: ItemRaw): number {
    const { dx } = this;
    const A = Float64Array.from(it.xx);
    for (let i = 0; i < dx; i++) A[i * dx + i] += this.config.lambda;
    const c0 = forwardSolve(cholesky(A, dx), it.xr, dx);
    return it.yy - dot(c0, c0, dx);
  }

  explain(context: Vector, candidate: Candidate, names?: FeatureNames): Contribution[] {
    const x = this.encodeContext(context);
    const z = this.encodeShared(x, candidate);
    const bh = this.beta();
    const theta = this.thetaGiven(candidate.id, bh);
    const m = this.m;
    const xn = [
      ...(this.config.intercept ? ['1'] : []),
      ...Array.from({ length: this.config.contextDim }, (_, i) => names?.context[i] ?? `context[${i}]`),
    ];
    const inames = Array.from({ length: m }, (_, i) => names?.item[i] ?? `item[${i}]`);
    const out: Contribution[] = [];
    for (let a = 0; a < this.dx; a++)
      for (let b = 0; b < m; b++) {
        const k = a * m + b;
        if (z[k] === 0) continue;
        out.push({
          feature: xn[a] === '1' ? inames[b] : `${xn[a]}×${inames[b]}`,
          value: z[k],
          coefficient: bh[k],
          contribution: bh[k] * z[k],
        });
      }
    for (let a = 0; a < this.dx; a++) {
      if (x[a] === 0 || theta[a] === 0) continue;
      out.push({
        feature: xn[a] === '1' ? `item-bias` : `item-specific:${xn[a]}`,
        value: x[a],
        coefficient: theta[a],
        contribution: theta[a] * x[a],
      });
    }
    return sortContributions(out);
  }

  snapshot(): HybridSnapshot {
    const stats = this.stats.toJSON(this.config.noise === 'item');
    stats.zz = Array.from(symmetrizeFromLower(this.totalZZ(), this.dz));
    return { type: 'hybrid', version: 1, config: { ...this.config }, stats };
  }

  peekDelta(): HybridSnapshot {
    return {
      type: 'hybrid',
      version: 1,
      config: { ...this.config },
      stats: this.delta.toJSON(this.config.noise === 'item'),
    };
  }

  /**
   * With `typedArrays` the pending buffers themselves become the delta (a fresh delta takes their place): no copy into
   * number[] — the flush used to spend 50–730 ms of the event loop turning ~10⁶ doubles (200 items' d_z × d_x Σ z xᵀ)
   * into JS arrays, then walking them again to pack them. The numbers are the same either way.
   */
  takeDelta(options?: DeltaOptions): HybridSnapshot {
    if (!options?.typedArrays) {
      const out = this.peekDelta();
      this.stats.add(out.stats, 'zz');
      this.delta.reset();
      return out;
    }
    const taken = this.delta;
    taken.settle();
    // the lower triangle, as add(…, 'zz') reads it (before toTyped mirrors it in place)
    const { dz } = this;
    const zz = this.stats.zz;
    for (let i = 0; i < dz; i++) {
      const ri = i * dz;
      for (let j = 0; j <= i; j++) zz[ri + j] += taken.zz[ri + j];
    }
    this.delta = new HybridRaw(this.dx, dz);
    this.delta.pendingZZ = new PendingOuterProducts(this.dx, this.m);
    return {
      type: 'hybrid',
      version: 1,
      config: { ...this.config },
      stats: taken.toTyped(this.config.noise === 'item'),
    };
  }

  private checkCompatible(s: HybridSnapshot): void {
    assertCompatible(this, s);
  }

  restoreDelta(delta: HybridSnapshot): void {
    this.checkCompatible(delta);
    this.delta.add(delta.stats);
    this.stats.add(delta.stats, 'zz', -1);
  }

  mergeDelta(delta: HybridSnapshot): void {
    this.checkCompatible(delta);
    const next = this.stats.clone();
    next.add(delta.stats);
    this.moveTo(next);
  }

  rebase(merged: HybridSnapshot): void {
    this.checkCompatible(merged);
    const next = new HybridRaw(this.dx, this.dz);
    next.add(merged.stats);
    next.add(this.delta.toJSON(true), 'rest');
    this.moveTo(next);
  }
}

/** S = Y Yᵀ + diag(v), Y = G L0⁻ᵀ (G is n × d_z, one row per candidate): a forward solve per row, then a Gram matrix. */
function scoreCovariance(
  L: Float64Array,
  G: Float64Array,
  v: Float64Array,
  dz: number,
  n: number,
  version: number,
): Float64Array {
  const S = solvedGram(L, G, n, dz, version);
  for (let a = 0; a < n; a++) S[a * n + a] += v[a];
  return S;
}

/**
 * The lower triangle of the d × d row-major `L`, packed by rows (row i: entries 0..i from offset i(i + 1)/2; half the
 * bytes of the square), in a SharedArrayBuffer when the runtime has one (Node; browsers only when cross-origin
 * isolated): postMessage then shares it instead of copying. Read-only after this; unpacked by unpackLower.
 */
function sharedLowerPacked(L: Float64Array, d: number): Float64Array {
  const length = (d * (d + 1)) / 2;
  const out =
    typeof SharedArrayBuffer === 'function'
      ? new Float64Array(new SharedArrayBuffer(length * Float64Array.BYTES_PER_ELEMENT))
      : new Float64Array(length);
  for (let i = 0, at = 0; i < d; at += ++i) out.set(L.subarray(i * d, i * d + i + 1), at);
  return out;
}

function allFinite(v: Vector): boolean {
  for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i])) return false;
  return true;
}

function sameArray(a: Float64Array, b: Float64Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function checkPositiveNumber(x: number, what: string): number {
  if (!(typeof x === 'number' && x > 0 && Number.isFinite(x)))
    throw new RangeError(`${what} must be a positive number, got ${x}`);
  return x;
}
