/**
 * The session-intent world (issue 17 part 4): recent behaviour drives preference. 40 items in 4 categories (an
 * item's features: the category one-hot, then 4 style values); a unit has a long-term taste (its context, 4 values);
 * each session has an intent — one of the categories — drawn at its start and redrawn with probability 0.05 after
 * every step. The true click probability of item x is
 *
 *     sigmoid(intentBoost·[category(x) = intent] + tasteWeight·taste·style(x) + popularity·style(x) + bias)
 *
 * (coefficients in libs/ranker/fixtures/session-intent.world.json, written by tools/ranker/make_session_gru.py, which
 * trains the GRU fixture on this world). The intent is not in the context: only the session's clicks reveal it.
 *
 * Each step offers 10 random catalog items; the policy shows one (the ranker's top score); a click puts the item at
 * the head of the unit's history (libs/features `addInteractions`, the store's reference, at the step's time), and
 * the history input is the last K items' features, newest first, zero-padded (libs/features `historyMatrix`) — what
 * the API's rank feeds the same model. Common random numbers: the tastes, intents, candidate sets and click uniforms
 * are drawn from the seed before any policy acts, so every compared policy faces the same draws.
 */
import { createRng } from '@slotwise/bandit';
import { addInteractions, historyMatrix, type Interaction } from '@slotwise/features';
import { OnnxScorer } from '@slotwise/ranker';
import {
  loadSessionGru,
  sessionIntentWorldSpec,
  type SessionIntentWorldSpec,
} from '../../../../libs/ranker/fixtures/session-gru';

export type SessionPolicy = 'sequence' | 'no-history' | 'random' | 'oracle';

export interface SessionIntentResult {
  policy: SessionPolicy;
  sessions: number;
  decisions: number;
  clicks: number;
  /** clicks per decision */
  clickRate: number;
  /** click rate at each step of a session (step 1 has no history yet for any policy) */
  clickRateByStep: number[];
}

interface Session {
  taste: number[];
  /** intent at each step */
  intents: number[];
  /** candidate item indices at each step */
  candidates: number[][];
  /** click uniform at each step */
  uniforms: number[];
  /** uniform used by the random policy at each step */
  pick: number[];
}

/** The seeded draws of `sessions` sessions (common random numbers for every policy). */
export function drawSessions(spec: SessionIntentWorldSpec, seed: number, sessions: number): Session[] {
  const rng = createRng(seed);
  const out: Session[] = [];
  for (let s = 0; s < sessions; s++) {
    const taste = Array.from({ length: spec.contextDim }, () => rng.normal());
    const intents: number[] = [];
    let intent = rng.int(spec.categories);
    const candidates: number[][] = [];
    const uniforms: number[] = [];
    const pick: number[] = [];
    for (let t = 0; t < spec.sessionLength; t++) {
      intents.push(intent);
      candidates.push(rng.samplePrefix(spec.items.length, spec.candidates));
      uniforms.push(rng.uniform());
      pick.push(rng.uniform());
      if (rng.uniform() < spec.switchProbability) intent = rng.int(spec.categories);
    }
    out.push({ taste, intents, candidates, uniforms, pick });
  }
  return out;
}

/** True click probability of catalog item `i` for a unit of this taste under this intent. */
export function clickProbability(
  spec: SessionIntentWorldSpec,
  taste: readonly number[],
  intent: number,
  i: number,
): number {
  const x = spec.items[i];
  let eta = spec.bias + (x[intent] === 1 ? spec.intentBoost : 0);
  for (let j = 0; j < spec.itemDim - spec.categories; j++)
    eta += x[spec.categories + j] * (spec.tasteWeight * taste[j] + spec.popularity[j]);
  return 1 / (1 + Math.exp(-eta));
}

/**
 * Runs the given policies over the same seeded sessions. `sequence` is the GRU fed the unit's history;
 * `no-history` is the same GRU fed no history (all padding, as for a unit the store knows nothing of).
 */
export async function runSessionIntent(options: {
  seed: number;
  sessions: number;
  policies?: SessionPolicy[];
}): Promise<SessionIntentResult[]> {
  const spec = sessionIntentWorldSpec();
  const draws = drawSessions(spec, options.seed, options.sessions);
  const gru = loadSessionGru();
  const scorer = await OnnxScorer.create(gru.bytes, gru.signature);
  const k = scorer.metadata.historyLength!;
  const d = spec.itemDim;
  const results: SessionIntentResult[] = [];
  try {
    for (const policy of options.policies ?? (['sequence', 'no-history', 'random', 'oracle'] as SessionPolicy[])) {
      const byStep = new Array<number>(spec.sessionLength).fill(0);
      let clicks = 0;
      for (const s of draws) {
        let history: Interaction[] = [];
        for (let t = 0; t < spec.sessionLength; t++) {
          const cands = s.candidates[t];
          let shown: number;
          if (policy === 'random') {
            shown = cands[Math.floor(s.pick[t] * cands.length)];
          } else if (policy === 'oracle') {
            shown = argmax(cands, (i) => clickProbability(spec, s.taste, s.intents[t], i));
          } else {
            const items = new Float32Array(cands.length * d);
            cands.forEach((i, j) => items.set(spec.items[i], j * d));
            const ids = policy === 'sequence' ? history.map((h) => h.itemId) : [];
            const matrix = historyMatrix(ids, k, d, (id) => spec.items[Number(id)]);
            const { scores } = await scorer.score(s.taste, items, cands.length, matrix);
            shown =
              cands[
                argmax(
                  cands.map((_, j) => j),
                  (j) => scores[j],
                )
              ];
          }
          if (s.uniforms[t] < clickProbability(spec, s.taste, s.intents[t], shown)) {
            clicks++;
            byStep[t]++;
            history = addInteractions(history, [{ itemId: String(shown), ms: t }]);
          }
        }
      }
      const decisions = draws.length * spec.sessionLength;
      results.push({
        policy,
        sessions: draws.length,
        decisions,
        clicks,
        clickRate: clicks / decisions,
        clickRateByStep: byStep.map((c) => c / draws.length),
      });
    }
  } finally {
    await scorer.dispose();
  }
  return results;
}

/** The element of `xs` with the largest `f`; ties: the first. */
function argmax<T>(xs: readonly T[], f: (x: T) => number): T {
  let best = xs[0];
  let bestValue = f(best);
  for (let i = 1; i < xs.length; i++) {
    const v = f(xs[i]);
    if (v > bestValue) {
      best = xs[i];
      bestValue = v;
    }
  }
  return best;
}

/** The comparison as a Markdown table (docs/feature-store.md shows it): click rate in all and at some steps. */
export function sessionIntentTable(results: readonly SessionIntentResult[]): string {
  const steps = [0, 1, 2, 5, 11];
  const lines = [
    `| policy | click rate | ${steps.map((t) => `step ${t + 1}`).join(' | ')} |`,
    `|---|---|${steps.map(() => '---|').join('')}`,
  ];
  for (const r of results)
    lines.push(
      `| ${r.policy} | ${r.clickRate.toFixed(4)} | ${steps.map((t) => r.clickRateByStep[t].toFixed(3)).join(' | ')} |`,
    );
  return lines.join('\n');
}
