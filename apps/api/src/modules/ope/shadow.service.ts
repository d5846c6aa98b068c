import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { createRng, type BanditModel } from '@slotwise/bandit';
import type { ExperimentEntity } from '../../database/entities/experiment.entity';
import type { PolicySpec } from '../experiments/experiment.schema';
import { DecisionHooks, type ServedDecision } from '../rank/decision-hooks';
import type { ExperimentRuntime, VariantRuntime } from '../rank/experiment-runtime';
import { OpeAccumulator, targetTable, type SeriesPoint, type TargetKind } from './ope-evaluator';
import { NewShadowDecision, OpeRepository } from './ope.repository';
import { OPE_ESTIMATORS, type OpeResult } from './ope.schema';

/** Served decisions waiting for their shadows; beyond this the shadow work of new decisions is dropped (counted). */
export const SHADOW_QUEUE_LIMIT = 10_000;
/** Shadow rows written per INSERT. */
const SHADOW_BATCH = 200;
/** Thompson shadows without propensity draws still need a distribution for OPE: this many re-draws. */
const SHADOW_MIN_DRAWS = 200;
const PAGE = 500;

/** One shadow variant's value, estimated off-policy on the served decisions it decided beside. */
export interface ShadowValue {
  variant: string;
  policy: PolicySpec;
  /** served decisions (not imported) of the experiment, and those this shadow has a logged decision for */
  servedDecisions: number;
  shadowDecisions: number;
  /** every estimator over the whole window (null when the shadow has no logged rounds yet) */
  estimate: Omit<OpeResult, 'posterior' | 'actionDistribution'> | null;
  /** IPS and DR per UTC day and cumulative, with normal intervals */
  series: SeriesPoint[];
  warnings: string[];
}

/**
 * Shadow variants (apprentice mode). After each served decision of an experiment with shadow variants is durable,
 * rank hands it here (DecisionHooks); off the request path (next turn of the event loop, in batches) every shadow
 * decides on the same context, shortlist and features with its own policy and posterior, and its slate, propensities
 * and action distribution over the shortlist are written to `shadow_decisions`, keyed to the served decision. A crash
 * or a failed write loses the shadow rows of decisions still queued (at most {@link SHADOW_QUEUE_LIMIT}); the served
 * decisions are unaffected, and the shadow's estimate simply has fewer rounds (`shadowDecisions` < `servedDecisions`).
 */
@Injectable()
export class ShadowService implements OnModuleDestroy {
  private readonly logger = new Logger('ShadowService');
  private queue: ServedDecision[] = [];
  private draining: Promise<void> | null = null;
  /** shadow keys per definition object (a new definition, e.g. after a promotion, is a new object) */
  private readonly keys = new WeakMap<ExperimentEntity, string[]>();
  /** decisions whose shadow rows were not written (queue full or a failed write) since start */
  lost = 0;

  constructor(
    hooks: DecisionHooks,
    private readonly repo: OpeRepository,
  ) {
    hooks.register({ wants: (rt) => this.shadowKeys(rt).length > 0, run: (d) => this.enqueue(d) });
  }

  async onModuleDestroy(): Promise<void> {
    await this.idle();
  }

  /** Resolves when every queued shadow decision is written (or lost). */
  async idle(): Promise<void> {
    while (this.draining) await this.draining;
  }

  shadowKeys(runtime: ExperimentRuntime): string[] {
    let k = this.keys.get(runtime.entity);
    if (!k) this.keys.set(runtime.entity, (k = runtime.entity.variants.filter((v) => v.shadow).map((v) => v.key)));
    return k;
  }

  private enqueue(d: ServedDecision): void {
    if (this.queue.length >= SHADOW_QUEUE_LIMIT) {
      this.lost++;
      return;
    }
    this.queue.push(d);
    this.kick();
  }

  private kick(): void {
    if (this.draining) return;
    this.draining = (async () => {
      // after the served request's answer is on its way
      await new Promise((r) => setImmediate(r));
      while (this.queue.length) {
        const batch = this.queue.splice(0, SHADOW_BATCH);
        const rows: NewShadowDecision[] = [];
        for (const d of batch) {
          for (const key of this.shadowKeys(d.runtime)) {
            const v = d.runtime.variants.get(key);
            if (!v || v.quarantine) continue;
            try {
              rows.push(await shadowDecision(d, v));
            } catch (err) {
              this.logger.warn(
                `shadow ${d.runtime.key}/${key} could not decide beside ${d.decisionId}: ${(err as Error).message}`,
              );
            }
          }
        }
        if (!rows.length) continue;
        try {
          await this.repo.insertShadow(rows);
        } catch (err) {
          this.lost += batch.length;
          this.logger.warn(`${rows.length} shadow decisions not stored: ${(err as Error).message}`);
        }
      }
    })().finally(() => {
      this.draining = null;
      if (this.queue.length) this.kick();
    });
  }

  /**
   * Each shadow variant's value on the served logs: libs/ope's estimators with π_e = the shadow's logged distribution
   * at each decision (the policy and posterior it had then), plus IPS and DR per day and cumulative.
   */
  async values(
    e: ExperimentEntity,
    options: { alpha: number; from: string | null; to: string | null; clip?: number },
  ): Promise<ShadowValue[]> {
    const shadows = e.variants.filter((v) => v.shadow).sort((a, b) => a.position - b.position);
    if (!shadows.length) return [];
    const counts = await this.repo.shadowCounts(e.id, options.from, options.to);
    const out: ShadowValue[] = [];
    for (const s of shadows) {
      const acc = new OpeAccumulator(
        { type: 'logged' },
        e.slots ?? 1,
        ((e.settings as { features?: { context?: string[] } }).features?.context ?? []).length,
        1,
      );
      let after = '0';
      for (;;) {
        const page = await this.repo.shadowPage(
          { experimentId: e.id, variantKeys: null, from: options.from, to: options.to, shadow: s.key },
          after,
          PAGE,
        );
        for (const d of page) await acc.add(d);
        if (page.length < PAGE) break;
        after = page[page.length - 1].seq;
      }
      const value: ShadowValue = {
        variant: s.key,
        policy: s.policy as PolicySpec,
        servedDecisions: counts.served,
        shadowDecisions: counts.shadows[s.key] ?? 0,
        estimate: null,
        series: [],
        warnings: [],
      };
      if (acc.rounds < 2)
        value.warnings.push('Fewer than 2 logged rounds beside this shadow in the window: no estimate yet.');
      else {
        value.estimate = acc.evaluate({ estimators: OPE_ESTIMATORS, alpha: options.alpha, clip: options.clip });
        const series = acc.series({ alpha: options.alpha, clip: options.clip });
        value.series = series.points;
        value.warnings = value.estimate.warnings;
      }
      if (value.shadowDecisions < value.servedDecisions) {
        value.warnings.push(
          `${value.servedDecisions - value.shadowDecisions} served decisions have no decision of this shadow (made before it was added, or lost to a crash or a full queue).`,
        );
      }
      out.push(value);
    }
    return out;
  }
}

/** A shadow's target kind for its own action distribution (its live policy and posterior). */
function shadowKind(v: VariantRuntime): TargetKind {
  const spec = v.spec;
  switch (spec.type) {
    case 'thompson':
      return { type: 'thompson', model: v.model as BanditModel, draws: Math.max(SHADOW_MIN_DRAWS, v.propensityDraws) };
    case 'epsilon-greedy':
      return { type: 'epsilon-greedy', epsilon: spec.epsilon, model: v.model as BanditModel };
    default:
      return { type: spec.type };
  }
}

/** FNV-1a of a variant key: the shadow's seed is derived from the served decision's, so its decision replays. */
function keyHash(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** One shadow's decision beside a served one: its slate (with propensities) and π(item at position) over the shortlist. */
export async function shadowDecision(d: ServedDecision, v: VariantRuntime): Promise<NewShadowDecision> {
  const seed = (d.seed + keyHash(v.key)) % (2 ** 31 - 1);
  const rng = createRng(seed);
  const decision = v.policy.decide(
    { context: d.context, candidates: d.candidates, slots: d.k, propensityDraws: v.propensityDraws, explain: false },
    rng,
  );
  const probs = await targetTable(shadowKind(v), { context: Array.from(d.context) }, d.candidates, d.k, rng.split());
  return {
    decisionId: d.decisionId,
    variantKey: v.key,
    experimentId: d.runtime.id,
    seed,
    modelVersion: `${d.runtime.settings.ranker.model}+${v.spec.type}${v.model ? `:${v.model.type}@${v.storedVersion}` : ''}`,
    slots: decision.slots.map((s) => ({
      position: s.position,
      itemId: s.itemId,
      shortlistIndex: s.index,
      score: finiteOrNull(s.score),
      propensity: finiteOrNull(s.propensity),
    })),
    probs: Array.from(probs),
  };
}

function finiteOrNull(x: number | null | undefined): number | null {
  return typeof x === 'number' && Number.isFinite(x) ? x : null;
}
