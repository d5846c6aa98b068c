import type { ActionDistribution, BanditLog, RewardEstimates } from './types';

/** Checks a log's shapes and values; throws RangeError with the offending field. Returns n. */
export function checkLog(log: BanditLog, nActions?: number): number {
  const n = log.action.length;
  if (n === 0) throw new RangeError('log: no rounds');
  if (log.reward.length !== n) throw new RangeError(`log.reward: length ${log.reward.length}, expected ${n}`);
  if (log.pscore.length !== n) throw new RangeError(`log.pscore: length ${log.pscore.length}, expected ${n}`);
  if (log.position && log.position.length !== n)
    throw new RangeError(`log.position: length ${log.position.length}, expected ${n}`);
  for (let i = 0; i < n; i++) {
    const a = log.action[i];
    if (!Number.isInteger(a) || a < 0 || (nActions !== undefined && a >= nActions))
      throw new RangeError(`log.action[${i}]: ${a} is not an action index`);
    const p = log.pscore[i];
    if (!(p > 0 && p <= 1)) throw new RangeError(`log.pscore[${i}]: ${p} is not in (0, 1]`);
    if (!Number.isFinite(log.reward[i])) throw new RangeError(`log.reward[${i}]: not finite`);
    if (log.position) {
      const q = log.position[i];
      if (!Number.isInteger(q) || q < 0) throw new RangeError(`log.position[${i}]: ${q} is not a slot index`);
    }
  }
  return n;
}

export function checkActionDist(dist: ActionDistribution, n: number): void {
  if (dist.probs.length !== n * dist.nActions)
    throw new RangeError(`actionDist: length ${dist.probs.length}, expected n·nActions = ${n * dist.nActions}`);
  for (let i = 0; i < dist.probs.length; i++) {
    const v = dist.probs[i];
    if (!(v >= 0 && v <= 1)) throw new RangeError(`actionDist.probs[${i}]: ${v} is not a probability`);
  }
}

export function checkRewardEstimates(q: RewardEstimates, n: number, nActions: number): void {
  if (q.nActions !== nActions) throw new RangeError(`qHat.nActions: ${q.nActions}, expected ${nActions}`);
  if (q.values.length !== n * nActions)
    throw new RangeError(`qHat: length ${q.values.length}, expected n·nActions = ${n * nActions}`);
  for (let i = 0; i < q.values.length; i++)
    if (!Number.isFinite(q.values[i])) throw new RangeError(`qHat.values[${i}]: not finite`);
}
