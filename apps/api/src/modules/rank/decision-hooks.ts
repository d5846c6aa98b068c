import { Injectable } from '@nestjs/common';
import type { BanditCandidate, ExperimentRuntime } from './experiment-runtime';

/** A served decision after it is durable: what it decided from and what it showed. */
export interface ServedDecision {
  runtime: ExperimentRuntime;
  decisionId: string;
  seed: number;
  context: Float64Array;
  /** the shortlist, in stored order (shortlist indexes refer to it) */
  candidates: BanditCandidate[];
  /** slots asked for (min of the request's or experiment's slots and the candidates) */
  k: number;
}

export interface DecisionHook {
  /** Cheap check per decision: does this experiment need the hook (no allocation when not)? */
  wants(runtime: ExperimentRuntime): boolean;
  /** Called synchronously after the served decision is stored; must not throw nor block (defer any work). */
  run(decision: ServedDecision): void;
}

/**
 * Observers of served decisions (e.g. shadow policies, modules/ope), kept out of rank's code: rank calls `after`
 * once the decision is durable, with a thunk so nothing is built unless a hook wants the experiment.
 */
@Injectable()
export class DecisionHooks {
  private readonly hooks: DecisionHook[] = [];

  register(hook: DecisionHook): void {
    this.hooks.push(hook);
  }

  after(runtime: ExperimentRuntime, decision: () => ServedDecision): void {
    for (const h of this.hooks) if (h.wants(runtime)) h.run(decision());
  }
}
