/**
 * Small seeded bandit worlds for the learning regression tests (test support; not exported from the package index).
 * They reproduce the failure classes of issue 12 in-process, in the shapes of the showdown worlds:
 * - `mushroomWorld`: Riquelme et al. (2018)'s mushroom bandit shape — 117 one-hot context features (22 categorical
 *   attributes), actions "act" / "skip"; acting pays +5 on the good class and +5 or −35 (half each) on the bad
 *   class, skipping pays 0. Heavy-tailed rewards whose variance differs wildly between the two actions.
 * - `coldStartWorld`: 50 items with 6 features, 20 of them arriving after 1,500 and 3,000 decisions, 8 context
 *   features, 1 slot, logistic (Bernoulli) truth.
 * A run feeds every policy the same contexts (the world's own rng) and reports the expected regret.
 */
import { Rng } from './rng';
import type { BanditModel, Candidate } from './types';
import type { SlatePolicy } from './policies/types';

export interface World {
  readonly steps: number;
  /** context and available candidates at step t (deterministic given the world seed) */
  at(t: number): { context: number[]; candidates: Candidate[] };
  /** expected reward of candidate i at step t */
  expected(t: number, i: number): number;
  /** a reward draw */
  reward(t: number, i: number, rng: Rng): number;
}

export interface RunResult {
  regret: number;
  /** share of explored slots in the first / last 1,000 decisions */
  exploreFirst: number;
  exploreLast: number;
  /** per candidate id: how often it was chosen in the last quarter of the run */
  lateChoices: Record<string, number>;
  /** per candidate id, last quarter: share of the steps where it was optimal in which it was chosen (recall) */
  lateRecall: Record<string, number>;
}

/** One policy through a world; `chooser` may replace the policy (a reference sampler) and then returns an index. */
export function runWorld(
  world: World,
  policy: SlatePolicy | ((context: number[], candidates: Candidate[], rng: Rng) => number),
  model: { observe(context: number[], c: Candidate, r: number): void } | BanditModel | null,
  seed: number,
): RunResult {
  const rng = new Rng(seed);
  let regret = 0;
  const explored: number[] = [];
  const lateChoices: Record<string, number> = {};
  const lateOptimal: Record<string, [number, number]> = {};
  for (let t = 0; t < world.steps; t++) {
    const { context, candidates } = world.at(t);
    let i: number;
    let exp = false;
    if (typeof policy === 'function') i = policy(context, candidates, rng);
    else {
      const d = policy.decide({ context, candidates, slots: 1, propensityDraws: 0 }, rng);
      i = d.slots[0].index;
      exp = d.slots[0].explored;
    }
    explored.push(exp ? 1 : 0);
    let best = -Infinity;
    let bestK = 0;
    for (let k = 0; k < candidates.length; k++) {
      const e = world.expected(t, k);
      if (e > best) {
        best = e;
        bestK = k;
      }
    }
    if (t >= (world.steps * 3) / 4) {
      const o = (lateOptimal[candidates[bestK].id] ??= [0, 0]);
      o[1] += 1;
      if (i === bestK) o[0] += 1;
    }
    regret += best - world.expected(t, i);
    const r = world.reward(t, i, rng);
    model?.observe(context, candidates[i], r);
    if (t >= (world.steps * 3) / 4) lateChoices[candidates[i].id] = (lateChoices[candidates[i].id] ?? 0) + 1;
  }
  const w = Math.min(1000, Math.floor(world.steps / 2));
  const mean = (a: number[]): number => a.reduce((s, v) => s + v, 0) / a.length;
  const lateRecall = Object.fromEntries(Object.entries(lateOptimal).map(([id, [hit, all]]) => [id, hit / all]));
  return {
    regret,
    exploreFirst: mean(explored.slice(0, w)),
    exploreLast: mean(explored.slice(-w)),
    lateChoices,
    lateRecall,
  };
}

/** Cardinalities of the 22 attributes (117 one-hot features, as the UCI mushroom data). */
const MUSHROOM_CARDS = [6, 4, 10, 2, 9, 2, 2, 2, 12, 2, 5, 4, 4, 9, 9, 2, 4, 3, 5, 9, 6, 6];

export function mushroomWorld(seed: number, steps = 2000): World {
  const r = new Rng(`mushroom-${seed}`);
  // as in the real data, one attribute (odour, 9 values) decides the class
  const badOdour = Array.from({ length: MUSHROOM_CARDS[4] }, (_, v) => v % 2 === 1);
  const contexts: number[][] = [];
  const bad: boolean[] = [];
  for (let t = 0; t < steps; t++) {
    const x: number[] = [];
    MUSHROOM_CARDS.forEach((k, a) => {
      const v = r.int(k);
      if (a === 4) bad.push(badOdour[v]);
      for (let j = 0; j < k; j++) x.push(j === v ? 1 : 0);
    });
    contexts.push(x);
  }
  const candidates: Candidate[] = [
    { id: 'act', features: [1, 0] },
    { id: 'skip', features: [0, 1] },
  ];
  return {
    steps,
    at: (t) => ({ context: contexts[t], candidates }),
    expected: (t, i) => (i === 1 ? 0 : bad[t] ? -15 : 5),
    reward: (t, i, rng) => (i === 1 ? 0 : bad[t] && rng.uniform() < 0.5 ? -35 : 5),
  };
}

export function coldStartWorld(seed: number, steps = 6000): World {
  const r = new Rng(`cold-${seed}`);
  const C = 8,
    M = 6;
  const feats = Array.from({ length: 50 }, () => Array.from({ length: M }, () => r.normal()));
  const w = Array.from({ length: M }, () => 0.5 * r.normal());
  const W = Array.from({ length: C }, () => Array.from({ length: M }, () => 0.3 * r.normal()));
  const contexts = Array.from({ length: steps }, () => Array.from({ length: C }, () => r.normal()));
  const all: Candidate[] = feats.map((f, i) => ({ id: `item-${i}`, features: f }));
  const available = (t: number): Candidate[] => all.slice(0, t < 1500 ? 30 : t < 3000 ? 40 : 50);
  const p = (t: number, c: Candidate): number => {
    const f = c.features as number[];
    const x = contexts[t];
    let s = -1.5;
    for (let b = 0; b < M; b++) {
      s += w[b] * f[b];
      for (let a = 0; a < C; a++) s += x[a] * W[a][b] * f[b];
    }
    return 1 / (1 + Math.exp(-s));
  };
  return {
    steps,
    at: (t) => ({ context: contexts[t], candidates: available(t) }),
    expected: (t, i) => p(t, available(t)[i]),
    reward: (t, i, rng) => (rng.uniform() < p(t, available(t)[i]) ? 1 : 0),
  };
}
