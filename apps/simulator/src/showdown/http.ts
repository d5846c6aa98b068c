/**
 * One showdown policy through the real HTTP API instead of in process: one ranking experiment with a single variant,
 * POST /v1/rank per decision (context and item features inline, in schema order) and POST /v1/rewards for every
 * non-zero reward before the decision it is due at (the in-process runner's schedule). Run against an API started
 * with SLOTWISE_DECISION_SEED = the in-process run's decision seed (and no posterior flush in between:
 * MODEL_FLUSH_MS large) and the chosen slates are the same (test/showdown-http.e2e-spec.ts).
 */
import { decisionItemKey } from '@slotwise/contracts';
import type { SlotwiseClient } from '../client';
import { policySetup, type ShowdownPolicy } from './runner';
import type { ShowdownEnv } from './world';

interface RankAnswer {
  decisionId: string | null;
  variant: string | null;
  slots: { position: number; itemId: string }[];
}

/** The chosen item ids per decision. */
export async function runPolicyHttp(
  client: SlotwiseClient,
  env: ShowdownEnv,
  key: ShowdownPolicy,
  experimentKey: string,
): Promise<string[][]> {
  const { policy } = policySetup(key, { contextDim: env.contextDim, itemDim: env.itemDim });
  const context = Array.from({ length: env.contextDim }, (_, i) => `c${i}`);
  const item = Array.from({ length: env.itemDim }, (_, i) => `f${i}`);
  await client.request('POST', '/v1/experiments', {
    key: experimentKey,
    name: `Showdown ${env.world.name} seed ${env.data.seed}: ${key}`,
    kind: 'ranking',
    slots: env.slots,
    features: { context, item },
    ranker: { model: 'none', shortlist: env.items.length },
    variants: [
      { key: 'v', weight: 1, policy: policy.type === 'thompson' ? { ...policy, propensityDraws: 0 } : policy },
    ],
    metrics: { primary: 'reward', guardrails: [], secondary: [] },
    tags: ['showdown'],
  });
  await client.request('POST', `/v1/experiments/${experimentKey}/start`);
  const due = new Map<number, { decisionId: string; itemId: string; value: number }[]>();
  const chosen: string[][] = [];
  for (let t = 0; t < env.horizon; t++) {
    const rewards = due.get(t);
    if (rewards?.length) {
      const res = await client.request<{ accepted: number }>('POST', '/v1/rewards', {
        rewards: rewards.map((r) => ({ ...r, eventId: decisionItemKey(r.decisionId, r.itemId) })),
      });
      if (res.accepted !== rewards.length)
        throw new Error(`decision ${t}: ${rewards.length - res.accepted} rewards not accepted`);
    }
    const avail = env.available(t);
    const answer = await client.request<RankAnswer>('POST', '/v1/rank', {
      experiment: experimentKey,
      unitId: 'showdown',
      context: Array.from(env.context(t)),
      candidates: avail.map((a) => ({ id: env.items[a].id, features: env.items[a].features })),
    });
    if (!answer.decisionId) throw new Error(`decision ${t} was not served by the variant`);
    chosen.push(answer.slots.map((s) => s.itemId));
    const when = t + 1 + env.lag(t);
    if (when >= env.horizon) continue;
    answer.slots.forEach((s, j) => {
      const a = env.items.findIndex((it) => it.id === s.itemId);
      const value = env.realized(t, a, j);
      if (value === 0) return;
      let list = due.get(when);
      if (!list) due.set(when, (list = []));
      list.push({ decisionId: answer.decisionId!, itemId: s.itemId, value });
    });
  }
  return chosen;
}
