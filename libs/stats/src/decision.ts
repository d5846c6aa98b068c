import { normalQuantile } from './distributions';
import { Interval, MetricDirection } from './types';

/** One comparison as the decision helper sees it (any scale: absolute or relative, consistently). */
export interface DecisionComparison {
  metric: string;
  /** point estimate of treatment vs control */
  estimate: number | null;
  /** confidence interval at the decision's α (pass the always-valid interval if you have been peeking) */
  ci: Interval | null;
  /** default 'higher-is-better' */
  direction?: MetricDirection;
}

export interface PrimaryComparison extends DecisionComparison {
  /** standard error of `estimate`, for the extra-units estimate */
  standardError?: number | null;
  /** units in the experiment so far (both arms), for the extra-units estimate */
  units?: number | null;
  /** the effect the experiment was designed to detect, on the scale of `estimate` (positive) */
  minimumDetectableEffect?: number | null;
}

export interface GuardrailComparison extends DecisionComparison {
  /** largest tolerated degradation (≥ 0) on the scale of `ci`; e.g. 0.01 with relative CIs = 1 % */
  nonInferiorityMargin: number;
}

export interface DecisionInput {
  /** only used for the extra-units estimate; default 0.05 */
  alpha?: number;
  /** target power for the extra-units estimate; default 0.8 */
  power?: number;
  primary: PrimaryComparison;
  guardrails?: GuardrailComparison[];
  srm?: { flagged: boolean; pValue?: number | null } | null;
  /** units seen in more than one variant */
  multipleExposure?: { units: number; totalUnits: number; maxFraction?: number } | null;
  /** new units per day, to turn extra units into days */
  traffic?: { unitsPerDay: number } | null;
}

export type Decision = 'ship' | 'rollback' | 'keep-running' | 'unhealthy';

export interface DecisionResult {
  decision: Decision;
  /** one plain-words sentence */
  reason: string;
  /** every finding behind the decision */
  details: string[];
  /** total units needed for the target power at the MDE (both arms), when computable */
  requiredUnits: number | null;
  extraUnits: number | null;
  extraDays: number | null;
}

const fmt = (x: number) =>
  Math.abs(x) >= 1e4 || (x !== 0 && Math.abs(x) < 1e-3) ? x.toExponential(2) : String(Number(x.toPrecision(4)));

/** Signed so that "better" is positive. */
function better(c: DecisionComparison): Interval | null {
  if (!c.ci) return null;
  return (c.direction ?? 'higher-is-better') === 'higher-is-better' ? c.ci : { lower: -c.ci.upper, upper: -c.ci.lower };
}

/**
 * True when guardrail `g` is confidently worse than its non-inferiority margin: its interval, signed so that
 * "better" is positive, lies entirely below −|margin| (the rollback rule of recommendDecision; the automatic stop
 * uses the same rule on the always-valid interval).
 */
export function guardrailBreached(g: GuardrailComparison): boolean {
  const gi = better(g);
  return gi !== null && gi.upper < -Math.abs(g.nonInferiorityMargin);
}

/**
 * Ship / roll back / keep running / unhealthy, in this order of precedence:
 * 1. unhealthy — SRM flagged, or more than maxFraction (default 1 %) of units saw several variants:
 *    the comparison itself cannot be trusted, so no effect-based decision is made.
 * 2. rollback — the primary metric is significantly worse (its CI lies entirely on the bad side of
 *    0), or a guardrail is confidently worse than its non-inferiority margin (CI entirely beyond −margin).
 * 3. ship — the primary metric is significantly better (CI entirely above 0) and every guardrail is
 *    shown non-inferior (CI entirely above −margin).
 * 4. keep-running — otherwise; with units, standard error and MDE of the primary metric, the extra
 *    units to reach the target power are n·(se / se*)² − n, se* = MDE / (z_{1−α/2} + z_power)
 *    (standard errors shrink as 1/√n), and days = extra units / units per day.
 */
export function recommendDecision(input: DecisionInput): DecisionResult {
  const alpha = input.alpha ?? 0.05;
  const power = input.power ?? 0.8;
  const details: string[] = [];
  const result = (decision: Decision, reason: string, extra: Partial<DecisionResult> = {}): DecisionResult => ({
    decision,
    reason,
    details,
    requiredUnits: null,
    extraUnits: null,
    extraDays: null,
    ...extra,
  });

  // 1. health
  const unhealthy: string[] = [];
  if (input.srm?.flagged) {
    unhealthy.push(
      `sample ratio mismatch${input.srm.pValue != null ? ` (p = ${fmt(input.srm.pValue)})` : ''}: the split of units differs from the configured weights`,
    );
  }
  const me = input.multipleExposure;
  if (me && me.totalUnits > 0) {
    const fraction = me.units / me.totalUnits;
    const max = me.maxFraction ?? 0.01;
    if (fraction > max)
      unhealthy.push(`${fmt(100 * fraction)} % of units saw more than one variant (limit ${fmt(100 * max)} %)`);
  }
  if (unhealthy.length) {
    details.push(...unhealthy);
    return result(
      'unhealthy',
      `Do not trust the results: ${unhealthy.join('; ')}. Fix the assignment before deciding.`,
    );
  }

  // 2. rollback
  const primary = input.primary;
  const p = better(primary);
  const harms: string[] = [];
  if (p && p.upper < 0)
    harms.push(
      `primary metric "${primary.metric}" is significantly worse (CI ${fmt(primary.ci!.lower)} to ${fmt(primary.ci!.upper)})`,
    );
  const guardrails = input.guardrails ?? [];
  const unproven: string[] = [];
  for (const g of guardrails) {
    const gi = better(g);
    const margin = Math.abs(g.nonInferiorityMargin);
    if (!gi) {
      unproven.push(`guardrail "${g.metric}" has no confidence interval yet`);
    } else if (guardrailBreached(g)) {
      harms.push(
        `guardrail "${g.metric}" is worse than its non-inferiority margin of ${fmt(margin)} (CI ${fmt(g.ci!.lower)} to ${fmt(g.ci!.upper)})`,
      );
    } else if (!(gi.lower > -margin)) {
      unproven.push(`guardrail "${g.metric}" is not yet shown within its margin of ${fmt(margin)}`);
    }
  }
  if (harms.length) {
    details.push(...harms);
    return result('rollback', `Roll back: ${harms.join('; ')}.`);
  }

  // 3. ship
  if (p && p.lower > 0 && unproven.length === 0) {
    details.push(
      `primary metric "${primary.metric}" is significantly better (CI ${fmt(primary.ci!.lower)} to ${fmt(primary.ci!.upper)})`,
    );
    if (guardrails.length) details.push('every guardrail is within its non-inferiority margin');
    return result(
      'ship',
      `Ship: "${primary.metric}" improved significantly${guardrails.length ? ' and no guardrail degraded beyond its margin' : ''}.`,
    );
  }

  // 4. keep running
  if (!p) details.push(`primary metric "${primary.metric}" has no confidence interval yet (not enough data)`);
  else if (p.lower > 0)
    details.push(`primary metric "${primary.metric}" is significantly better, but guardrails are not yet cleared`);
  else details.push(`primary metric "${primary.metric}" is not significant yet`);
  details.push(...unproven);
  let requiredUnits: number | null = null;
  let extraUnits: number | null = null;
  let extraDays: number | null = null;
  const se = primary.standardError;
  const n = primary.units;
  const mde = primary.minimumDetectableEffect;
  if (
    se != null &&
    se > 0 &&
    n != null &&
    n > 0 &&
    mde != null &&
    mde > 0 &&
    Number.isFinite(se) &&
    alpha > 0 &&
    alpha < 1 &&
    power > 0 &&
    power < 1
  ) {
    const target = Math.abs(mde) / (normalQuantile(1 - alpha / 2) + normalQuantile(power));
    requiredUnits = Math.ceil(n * (se / target) ** 2);
    extraUnits = Math.max(0, requiredUnits - n);
    const rate = input.traffic?.unitsPerDay;
    if (rate != null && rate > 0 && Number.isFinite(rate)) extraDays = Math.ceil(extraUnits / rate);
  }
  let reason = `Keep running: ${details.join('; ')}.`;
  if (extraUnits !== null) {
    reason +=
      extraUnits > 0
        ? ` About ${extraUnits} more units${extraDays !== null ? ` (~${extraDays} days at the current traffic)` : ''} are needed for ${fmt(100 * power)} % power at an effect of ${fmt(mde as number)}.`
        : ` The experiment already has ${fmt(100 * power)} % power at an effect of ${fmt(mde as number)}: the true effect is probably smaller than that; consider stopping with no detectable effect.`;
  }
  return result('keep-running', reason, { requiredUnits, extraUnits, extraDays });
}
