/**
 * Runs one libs/bandit policy IN-PROCESS through one seed of a showdown world, the way the API serves it:
 * decision seeds come from one seeded sequence (as with SLOTWISE_DECISION_SEED: seed_i = seeds.int(2³¹ − 1), each
 * decision on createRng(seed_i)); every shown slot is observed with reward 0 at decision time and corrected to the
 * real reward when it arrives (default reward accounting, apps/api rank.service / rewards.service). Propensities are
 * not drawn (they do not change the choices).
 */
import {
  type BanditModel,
  type Candidate,
  createModel,
  createPolicy,
  createRng,
  DEFAULT_EPSILON,
  fnv1a32,
  type ModelSpec,
  POLICIES,
  type SlatePolicy,
} from '@slotwise/bandit';
import type { ShowdownEnv } from './world';

export const SHOWDOWN_POLICIES = [
  'thompson-hybrid',
  'thompson-linear',
  'thompson-beta',
  'epsilon-greedy',
  'ranker',
  'random',
] as const;
export type ShowdownPolicy = (typeof SHOWDOWN_POLICIES)[number];

/** The model a `thompson` policy gets when the experiment does not name one (libs/bandit's option default). */
export const DEFAULT_THOMPSON_MODEL = String(POLICIES.thompson.options.find((o) => o.name === 'model')?.default);
/** The showdown policy that is libs/bandit's default Thompson policy. */
export const DEFAULT_THOMPSON_POLICY = `thompson-${DEFAULT_THOMPSON_MODEL}`;

const dflt = (model: string) => (model === DEFAULT_THOMPSON_MODEL ? ' — the default' : '');
export const POLICY_DESCRIPTION: Record<ShowdownPolicy, string> = {
  'thompson-hybrid': `thompson, model hybrid${dflt('hybrid')}`,
  'thompson-linear': `thompson, model linear (interaction features)${dflt('linear')}`,
  'thompson-beta': 'thompson, model beta (context-free; rewards in [0, 1] only)',
  'epsilon-greedy': `epsilon-greedy ε = ${DEFAULT_EPSILON} on the linear model`,
  ranker: 'ranker greedy (a noisy, context-free ranker score)',
  random: 'uniformly random slate',
};

/** The API policy config and model spec of a showdown policy (as an experiment variant would declare them). */
export function policySetup(
  key: ShowdownPolicy,
  dims: { contextDim: number; itemDim: number },
): { policy: Record<string, unknown>; model: ModelSpec | null } {
  switch (key) {
    case 'thompson-hybrid':
      return { policy: { type: 'thompson', model: 'hybrid' }, model: { type: 'hybrid', ...dims } };
    case 'thompson-linear':
      return { policy: { type: 'thompson', model: 'linear' }, model: { type: 'linear', ...dims } };
    case 'thompson-beta':
      return { policy: { type: 'thompson', model: 'beta' }, model: { type: 'beta' } };
    case 'epsilon-greedy':
      return {
        policy: { type: 'epsilon-greedy', epsilon: DEFAULT_EPSILON, model: 'linear' },
        model: { type: 'linear', ...dims },
      };
    case 'ranker':
      return { policy: { type: 'ranker' }, model: null };
    case 'random':
      return { policy: { type: 'random' }, model: null };
  }
}

/** Whether a policy can run in a world: beta needs rewards in [0, 1]; ranker needs a ranker score. */
export function applicable(key: ShowdownPolicy, env: ShowdownEnv): boolean {
  const rw = env.world.reward;
  if (key === 'thompson-beta')
    return (
      rw.type === 'multiclass' || rw.type === 'position-table' || (rw.type === 'bilinear' && rw.link === 'logistic')
    );
  if (key === 'ranker') return env.world.hasRanker;
  return true;
}

export interface PolicyRun {
  policy: ShowdownPolicy;
  seed: number;
  decisions: number;
  /** cumulative expected regret over the run */
  regret: number;
  /** cumulative regret after every `checkpoint` decisions */
  cumulativeRegret: number[];
  /** share of explored slots in the first / last min(1,000, T/2) decisions (null: the policy has no posterior) */
  exploreFirst: number | null;
  exploreLast: number | null;
  /**
   * per slot (0-based): the share of explored decisions in the first / last window (the all-slot exploreRate is their
   * mean), and the exploration's true cost per decision, Σ_j w_j·(mean(greedy_j) − mean(chosen_j)) over explored slots
   * j (null: no posterior)
   */
  exploreBySlot?: { first: number[]; last: number[]; costFirst: number; costLast: number } | null;
  /** items shown per action in the last window */
  lastWindowCounts: number[];
  /** actions optimal (slot 1) at ≥ 10 % of the decisions that the policy never showed in the last window */
  abandoned: string[];
  /** chosen item ids per decision (only when `record` was asked) */
  chosen?: string[][];
}

export interface RunPolicyOptions {
  /** first value of the decision-seed sequence (the API's SLOTWISE_DECISION_SEED) */
  decisionSeed?: number;
  checkpoint?: number;
  record?: boolean;
  /** called before each decision, after the due rewards were applied (tests read the model's state) */
  inspect?: (t: number, model: BanditModel | null) => void;
  /** options merged into the policy's model spec (tests compare a model option against the default) */
  modelOptions?: Record<string, unknown>;
}

/** The decision-seed sequence's start for a (world, seed, policy) triple. */
export function defaultDecisionSeed(world: string, seed: number, policy: string): number {
  return fnv1a32(`showdown:${world}:${seed}:${policy}`) % 2 ** 31;
}

export function explorationWindow(horizon: number): number {
  return Math.min(1000, Math.floor(horizon / 2));
}

/** Per action: the share of decisions at which it is the best available one (first of the maxima). */
export function optimalShares(env: ShowdownEnv): number[] {
  const counts = new Array<number>(env.items.length).fill(0);
  for (let t = 0; t < env.horizon; t++) {
    let best = -1;
    let bv = -Infinity;
    for (const a of env.available(t)) {
      const m = env.mean(t, a);
      if (m > bv) {
        bv = m;
        best = a;
      }
    }
    counts[best] += 1;
  }
  return counts.map((c) => c / env.horizon);
}

interface Pending {
  context: Float64Array;
  candidate: Candidate;
  reward: number;
  /** 0-based slot index (the position model's examination) */
  slot: number;
}

export function runPolicy(env: ShowdownEnv, key: ShowdownPolicy, options: RunPolicyOptions = {}): PolicyRun {
  const T = env.horizon;
  const checkpoint = options.checkpoint ?? env.world.checkpoint;
  const { policy: config, model: spec } = policySetup(key, { contextDim: env.contextDim, itemDim: env.itemDim });
  const model: BanditModel | null = spec ? createModel({ ...spec, ...options.modelOptions } as ModelSpec) : null;
  const policy: SlatePolicy = createPolicy(config as { type: string }, model);
  const seeds = createRng(options.decisionSeed ?? defaultDecisionSeed(env.world.name, env.data.seed, key));
  const candidates: Candidate[] = env.items.map((it) => ({
    id: it.id,
    features: Float64Array.from(it.features),
    ...(it.rankerScore === undefined ? {} : { rankerScore: it.rankerScore }),
  }));
  const window = explorationWindow(T);
  const due = new Map<number, Pending[]>();
  const lastCounts = new Array<number>(env.items.length).fill(0);
  const cumulative: number[] = [];
  const chosenLog: string[][] = [];
  let explFirst = 0;
  let explLast = 0;
  const slotFirst = new Array<number>(env.slots).fill(0);
  const slotLast = new Array<number>(env.slots).fill(0);
  let costFirst = 0;
  let costLast = 0;
  let regret = 0;
  const hasPosterior = model !== null;
  for (let t = 0; t < T; t++) {
    const arriving = due.get(t);
    if (arriving) {
      due.delete(t);
      for (const p of arriving) if (p.reward !== 0) model!.correct(p.context, p.candidate, 0, p.reward, p.slot);
    }
    options.inspect?.(t, model);
    const avail = env.available(t);
    const cands = avail.map((a) => candidates[a]);
    const context = env.context(t);
    const decision = policy.decide(
      { context, candidates: cands, slots: env.slots, propensityDraws: 0 },
      createRng(seeds.int(2 ** 31 - 1)),
    );
    const chosen = decision.slots.map((s) => avail[s.index]);
    if (options.record) chosenLog.push(decision.slots.map((s) => s.itemId));
    regret += env.regret(t, avail, chosen);
    const explored = decision.slots.reduce((n, s) => n + (s.explored ? 1 : 0), 0) / decision.slots.length;
    let cost = 0;
    decision.slots.forEach((s, j) => {
      if (!s.explored) return;
      cost += (env.world.positionWeights[j] ?? 1) * (env.mean(t, avail[s.greedyIndex]) - env.mean(t, avail[s.index]));
      if (t < window) slotFirst[j] += 1;
      if (t >= T - window) slotLast[j] += 1;
    });
    if (t < window) {
      explFirst += explored;
      costFirst += cost;
    }
    if (t >= T - window) {
      costLast += cost;
      explLast += explored;
      for (const a of chosen) lastCounts[a] += 1;
    }
    if (model) {
      const when = t + 1 + env.lag(t);
      let list = when < T ? due.get(when) : undefined;
      if (when < T && !list) due.set(when, (list = []));
      decision.slots.forEach((s, j) => {
        const candidate = cands[s.index];
        model.observe(context, candidate, 0, j);
        if (list) list.push({ context, candidate, reward: env.realized(t, avail[s.index], j), slot: j });
      });
    }
    if ((t + 1) % checkpoint === 0) cumulative.push(regret);
  }
  const shares = optimalShares(env);
  const abandoned = env.items.filter((_, a) => shares[a] >= 0.1 && lastCounts[a] === 0).map((it) => it.id);
  return {
    policy: key,
    seed: env.data.seed,
    decisions: T,
    regret,
    cumulativeRegret: cumulative,
    exploreFirst: hasPosterior ? explFirst / window : null,
    exploreLast: hasPosterior ? explLast / window : null,
    exploreBySlot: hasPosterior
      ? {
          first: slotFirst.map((x) => x / window),
          last: slotLast.map((x) => x / window),
          costFirst: costFirst / window,
          costLast: costLast / window,
        }
      : null,
    lastWindowCounts: lastCounts,
    abandoned,
    ...(options.record ? { chosen: chosenLog } : {}),
  };
}
