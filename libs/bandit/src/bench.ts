/**
 * In-process micro-benchmarks for `npm run bench`. Each function returns figures (no printing, no timing asserts).
 */
import { kernelBackend, setKernelBackend } from './kernels';
import { HybridModel } from './models/hybrid';
import { LinearModel } from './models/linear';
import { DEFAULT_PROPENSITY_DRAWS } from './policies/slate';
import { ThompsonPolicy } from './policies/thompson';
import { Rng } from './rng';
import type { Candidate } from './types';

// performance.now() (not process.hrtime): the console's build type-checks this barrel without Node's types
function nowUs(): number {
  return performance.now() * 1000;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Machine calibration: ns per multiply-add in a plain Float64Array loop (d×d/2 outer-product update at d = 64).
 * Lets the lead compare figures across machines (and spot a loaded CI box).
 */
export function benchCalibration(): { nsPerMultiplyAdd: number } {
  const d = 64;
  const A = new Float64Array(d * d);
  const x = Float64Array.from({ length: d }, (_, i) => Math.sin(i));
  const run = (): void => {
    for (let i = 0; i < d; i++) {
      const xi = x[i];
      const ri = i * d;
      for (let j = 0; j <= i; j++) A[ri + j] += xi * x[j];
    }
  };
  for (let t = 0; t < 2000; t++) run();
  const batches: number[] = [];
  for (let b = 0; b < 7; b++) {
    const t0 = nowUs();
    for (let t = 0; t < 2000; t++) run();
    batches.push(((nowUs() - t0) * 1000) / (2000 * ((d * (d + 1)) / 2)));
  }
  return { nsPerMultiplyAdd: median(batches) };
}

export interface UpdateBench {
  d: number;
  updates: number;
  usPerUpdate: number;
  usPerCorrection: number;
}

/** µs per observe (rank-one Cholesky update + statistics) and per reward correction of the linear model. */
export function benchLinearUpdate(opts: { d?: number; updates?: number; seed?: number } = {}): UpdateBench {
  const d = opts.d ?? 64;
  const updates = opts.updates ?? 20000;
  const rng = new Rng(opts.seed ?? 1);
  // feature map 'item' has dimension itemDim + 1 = d
  const model = LinearModel.create({ contextDim: 0, itemDim: d - 1, featureMap: 'item' });
  const xs = Array.from({ length: 256 }, () => {
    const x = new Float64Array(d);
    for (let i = 0; i < d; i++) x[i] = rng.normal() / Math.sqrt(d);
    return x;
  });
  for (let t = 0; t < 2000; t++) model.observeVector(xs[t & 255], 0); // warm-up
  // median of 5 batches (robust to a briefly loaded machine)
  const per = Math.max(1, Math.floor(updates / 5));
  const obs: number[] = [];
  const cor: number[] = [];
  for (let b = 0; b < 5; b++) {
    let t0 = nowUs();
    for (let t = 0; t < per; t++) model.observeVector(xs[t & 255], 0);
    obs.push((nowUs() - t0) / per);
    t0 = nowUs();
    for (let t = 0; t < per; t++) model.correctVector(xs[t & 255], 0, 1);
    cor.push((nowUs() - t0) / per);
  }
  return { d, updates: per * 5, usPerUpdate: median(obs), usPerCorrection: median(cor) };
}

export interface DecisionBench {
  model: 'hybrid';
  candidates: number;
  slots: number;
  contextDim: number;
  itemDim: number;
  propensityDraws: number;
  decisions: number;
  /** median µs: prepare + one posterior draw + slate + greedy + sd + propensities */
  usPerDecision: number;
  /** the same without propensities */
  usPerDecisionNoPropensities: number;
  /**
   * the main thread's share when the propensities are a job for the worker thread (deferred, and inline once the
   * worker runs): the decision plus handing over the covariance inputs (a copy of the factor), and a structured clone
   * of the job (what postMessage does; an upper bound, as it also deserialises)
   */
  usPerDecisionJob: number;
  usPerObserve: number;
  /** reload: rebase on a merged state in which another replica touched `touchedItems` items */
  msPerRebase: number;
  touchedItems: number;
}

/** µs per Thompson decision on the hybrid model (defaults: 50 candidates, 5 slots, 16×16 features, 1,000 draws). */
export function benchDecision(
  opts: {
    candidates?: number;
    slots?: number;
    contextDim?: number;
    itemDim?: number;
    propensityDraws?: number;
    decisions?: number;
    items?: number;
    seed?: number;
  } = {},
): DecisionBench {
  const nc = opts.candidates ?? 50;
  const slots = opts.slots ?? 5;
  const cd = opts.contextDim ?? 16;
  const id = opts.itemDim ?? 16;
  const draws = opts.propensityDraws ?? DEFAULT_PROPENSITY_DRAWS;
  const decisions = opts.decisions ?? 100;
  const nItems = opts.items ?? 200;
  const rng = new Rng(opts.seed ?? 7);
  const vec = (k: number): number[] => Array.from({ length: k }, () => rng.normal() / Math.sqrt(k));
  const catalog: Candidate[] = Array.from({ length: nItems }, (_, i) => ({
    id: `item-${i}`,
    features: vec(id),
    rankerScore: rng.uniform(),
  }));
  const model = HybridModel.create({ contextDim: cd, itemDim: id });
  // history: 2,000 observations over the catalog
  const t0 = nowUs();
  const history = 2000;
  for (let t = 0; t < history; t++) {
    const c = catalog[rng.int(nItems)];
    model.observe(vec(cd), c, rng.uniform() < 0.1 ? 1 : 0);
  }
  const usPerObserve = (nowUs() - t0) / history;
  // another replica's work on ~10% of the catalog, then a reload (rebase) on this one
  const other = HybridModel.fromSnapshot(model.snapshot());
  model.takeDelta();
  const touched = new Set<string>();
  for (let t = 0; t < 100; t++) {
    const c = catalog[rng.int(Math.max(1, Math.floor(nItems / 10)))];
    touched.add(c.id);
    other.observe(vec(cd), c, rng.uniform() < 0.1 ? 1 : 0);
  }
  const merged = HybridModel.fromSnapshot(model.snapshot());
  merged.mergeDelta(other.takeDelta());
  const mergedSnapshot = merged.snapshot();
  const r0 = nowUs();
  model.rebase(mergedSnapshot);
  const msPerRebase = (nowUs() - r0) / 1000;
  const policy = new ThompsonPolicy(model);
  const requests = Array.from({ length: decisions }, () => ({
    context: vec(cd),
    candidates: rng.samplePrefix(nItems, nc).map((i) => catalog[i]),
  }));
  const run = (pd: number, job = false): number => {
    const decide = (t: number): void => {
      const d = policy.decide({ ...requests[t], slots, propensityDraws: pd, deferPropensities: job }, new Rng(t));
      if (job) structuredClone(d.propensityJob);
    };
    for (let t = 0; t < Math.min(decisions, 5); t++) decide(t); // warm-up
    const times: number[] = [];
    for (let t = 0; t < decisions; t++) {
      const s = nowUs();
      decide(t);
      times.push(nowUs() - s);
    }
    return median(times);
  };
  const usPerDecisionNoPropensities = run(0);
  const usPerDecision = run(draws);
  const usPerDecisionJob = run(draws, true);
  return {
    model: 'hybrid',
    candidates: nc,
    slots,
    contextDim: cd,
    itemDim: id,
    propensityDraws: draws,
    decisions,
    usPerDecision,
    usPerDecisionNoPropensities,
    usPerDecisionJob,
    usPerObserve,
    msPerRebase,
    touchedItems: touched.size,
  };
}

export interface ObserveBench {
  model: 'hybrid';
  contextDim: number;
  itemDim: number;
  /** shared dimension d_z = (contextDim + 1) · itemDim */
  dz: number;
  slots: number;
  /** slates timed per variant */
  slates: number;
  /** kernels used by observeShown ('wasm' unless the runtime lacks WebAssembly SIMD) */
  backend: 'wasm' | 'typescript';
  /** median µs to record one slate by `observe` per shown slot (k rank-one passes over the shared factor) */
  usPerSlateObserve: number;
  /** median µs to record the same slate by `observeShown` (one rank-k pass, same bits) */
  usPerSlateShown: number;
  /** median over rounds of (observeShown ÷ observe per slot) timed back to back in one process: robust to load */
  ratio: number;
  /** the same ratio with the TypeScript kernels (no WebAssembly: k cholUpdate calls) */
  ratioTypescript: number;
}

/**
 * The update path of a rank request at the benchmark request's shape (defaults: hybrid 16 context × 17 item features,
 * d_z = 289, 5 shown slots at reward 0, 200 catalog items after 2,000 observations, the delta taken every 200 slates
 * as the flusher does). Two identical models get the same slates, one by `observe` per slot and one by
 * `observeShown`, interleaved in rounds of 10 slates so a loaded machine slows both alike.
 */
export function benchHybridObserve(
  opts: { contextDim?: number; itemDim?: number; slots?: number; rounds?: number; seed?: number } = {},
): ObserveBench {
  const cd = opts.contextDim ?? 16;
  const id = opts.itemDim ?? 17;
  const slots = opts.slots ?? 5;
  const rounds = opts.rounds ?? 30;
  const perRound = 10;
  const rng = new Rng(opts.seed ?? 11);
  const vec = (k: number): number[] => Array.from({ length: k }, () => rng.normal() / Math.sqrt(k));
  const catalog: Candidate[] = Array.from({ length: 200 }, (_, i) => ({ id: `item-${i}`, features: vec(id) }));
  const perSlot = HybridModel.create({ contextDim: cd, itemDim: id });
  for (let t = 0; t < 2000; t++)
    perSlot.observe(vec(cd), catalog[rng.int(catalog.length)], rng.uniform() < 0.1 ? 1 : 0);
  perSlot.takeDelta();
  const shown = HybridModel.fromSnapshot(perSlot.snapshot());
  const contexts = Array.from({ length: 256 }, () => vec(cd));
  const slates = Array.from({ length: 256 }, () =>
    rng.samplePrefix(catalog.length, slots).map((i, slot) => ({ candidate: catalog[i], reward: 0, slot })),
  );
  let t = 0;
  const time = (m: HybridModel, batched: boolean, from: number): number => {
    const s = nowUs();
    for (let j = from; j < from + perRound; j++) {
      const ctx = contexts[j & 255];
      const slate = slates[j & 255];
      if (batched) m.observeShown(ctx, slate);
      else for (const o of slate) m.observe(ctx, o.candidate, o.reward);
      if (j % 200 === 199) m.takeDelta({ typedArrays: true });
    }
    return (nowUs() - s) / perRound;
  };
  const measure = (): { a: number[]; b: number[]; r: number[] } => {
    const a: number[] = [];
    const b: number[] = [];
    const r: number[] = [];
    for (let round = 0; round < rounds; round++) {
      // alternate which goes first, so neither always runs on a warmer cache
      const first = round % 2 === 0;
      const x = first ? time(perSlot, false, t) : 0;
      const y = time(shown, true, t);
      const x2 = first ? x : time(perSlot, false, t);
      t += perRound;
      a.push(x2);
      b.push(y);
      r.push(y / x2);
    }
    return { a, b, r };
  };
  time(perSlot, false, 0);
  time(shown, true, 0); // warm-up
  t = perRound;
  const backend = kernelBackend();
  const main = measure();
  setKernelBackend('typescript');
  let ts: number[];
  try {
    ts = measure().r;
  } finally {
    setKernelBackend('wasm');
  }
  return {
    model: 'hybrid',
    contextDim: cd,
    itemDim: id,
    dz: (cd + 1) * id,
    slots,
    slates: rounds * perRound,
    backend,
    usPerSlateObserve: median(main.a),
    usPerSlateShown: median(main.b),
    ratio: median(main.r),
    ratioTypescript: median(ts),
  };
}

/** All bandit figures for `npm run bench`. */
export function runBanditBench(): {
  calibration: { nsPerMultiplyAdd: number };
  linearUpdate: UpdateBench;
  hybridObserve: ObserveBench;
  decision: DecisionBench;
} {
  return {
    calibration: benchCalibration(),
    linearUpdate: benchLinearUpdate(),
    hybridObserve: benchHybridObserve(),
    decision: benchDecision(),
  };
}

/**
 * The decision workload of {@link decisionTimer} and tools/bandit/bench-propensity-job.ts: a hybrid model (16 × 16
 * features) after 2,000 observations of a 200-item catalog, its Thompson policy, and 16 requests of 50 candidates and
 * 5 slots with `propensityDraws` re-draws. Deterministic for a seed.
 */
export function hybridDecisionFixture(opts: { propensityDraws?: number; seed?: number } = {}): {
  model: HybridModel;
  policy: ThompsonPolicy;
  requests: Array<{ context: number[]; candidates: Candidate[]; slots: number; propensityDraws: number }>;
} {
  const draws = opts.propensityDraws ?? DEFAULT_PROPENSITY_DRAWS;
  const rng = new Rng(opts.seed ?? 7);
  const vec = (k: number): number[] => Array.from({ length: k }, () => rng.normal() / Math.sqrt(k));
  const catalog: Candidate[] = Array.from({ length: 200 }, (_, i) => ({
    id: `item-${i}`,
    features: vec(16),
    rankerScore: rng.uniform(),
  }));
  const model = HybridModel.create({ contextDim: 16, itemDim: 16 });
  for (let t = 0; t < 2000; t++) model.observe(vec(16), catalog[rng.int(200)], rng.uniform() < 0.1 ? 1 : 0);
  model.takeDelta();
  const policy = new ThompsonPolicy(model);
  const requests = Array.from({ length: 16 }, () => ({
    context: vec(16),
    candidates: rng.samplePrefix(200, 50).map((i) => catalog[i]),
    slots: 5,
    propensityDraws: draws,
  }));
  return { model, policy, requests };
}

/**
 * A prepared hybrid decision workload ({@link hybridDecisionFixture}) whose `run(k)` times k decisions with
 * `propensityDraws` re-draws and returns the median µs — for interleaving with the NumPy reference
 * (tools/bandit/numpy_decision.py) under the same load.
 */
export function decisionTimer(opts: { propensityDraws?: number; seed?: number } = {}): { run(k: number): number } {
  const { policy, requests } = hybridDecisionFixture(opts);
  for (let t = 0; t < 5; t++) policy.decide(requests[t], new Rng(t)); // warm-up
  let seed = 0;
  return {
    run(k: number): number {
      const times: number[] = [];
      for (let t = 0; t < k; t++) {
        const s = nowUs();
        policy.decide(requests[t % requests.length], new Rng(seed++));
        times.push(nowUs() - s);
      }
      return median(times);
    },
  };
}
