import { BUCKETS, DEFAULT_HASH_VERSION, HashVersion, bucketOf, isHashVersion, trafficSalt } from './hash';
import { ValidationError, isPlainObject } from './errors';
import {
  Allocation,
  BucketRange,
  countsFromWeights,
  inRanges,
  rangesSize,
  rebalance,
  validateAllocation,
} from './ranges';
import { parseTargeting, validateTargeting } from './conditions';
import { Attributes, Rule, RulePredicate, compileRule } from './targeting';
import { LayerPlacement, validatePlacement } from './layers';

export interface VariantSpec {
  key: string;
  /** Relative weight (any non-negative finite numbers, not all zero; e.g. percents). */
  weight: number;
}

/** The part of an experiment definition that assignment reads (the API body has more fields; they are ignored). */
export interface AssignableExperiment {
  key: string;
  /** Only `running` experiments assign. */
  status: string;
  /** Salt of the variant and traffic hashes; defaults to `key`. Change it to reshuffle units. */
  salt?: string;
  /** Defaults to 1. */
  hashVersion?: HashVersion;
  /** Share of eligible units in the experiment, 0..100 in steps of 0.01; defaults to 100. */
  trafficPercent?: number;
  variants: VariantSpec[];
  /**
   * Variant bucket ranges, as produced by {@link rampVariants}. Absent: the fresh layout for the weights
   * (contiguous ranges in declared order). Persist it and ramp from it so weight changes move few units.
   */
  allocation?: Allocation;
  /** QA overrides: unit id → variant key. Checked before targeting, layers and traffic. */
  forcedVariants?: Record<string, string>;
  /** Targeting rule on the unit's attributes; absent or null: everyone. */
  /** a rule tree (`{op, …}`) or a GrowthBook-style condition (conditions.ts) */
  targeting?: Rule | Record<string, unknown> | null;
  /** This experiment's place in a layer of mutually exclusive experiments; absent or null: no layer. */
  layer?: LayerPlacement | null;
}

export type AssignmentReason = 'not_running' | 'targeting' | 'traffic' | 'layer' | 'holdout' | 'forced';

export interface Assignment {
  /** True when the unit gets `variant` (also for forced units, reason `forced`). */
  inExperiment: boolean;
  variant: string | null;
  /** Why the unit is out (or `forced`); null for a normally assigned unit. */
  reason: AssignmentReason | null;
  /** The unit's variant bucket: `bucketOf(salt, unitId, hashVersion)`, always computed. */
  bucket: number;
}

export interface CompiledExperiment {
  readonly key: string;
  readonly salt: string;
  readonly hashVersion: HashVersion;
  /** Variant bucket ranges in force (given or derived from the weights). */
  readonly allocation: Allocation;
  assign(unitId: string, attributes?: Attributes): Assignment;
}

const STATUSES_NOTE = 'must be a string (only "running" assigns)';

/** Field-path errors for the assignment fields of an experiment definition given as untrusted JSON. */
export function validateAssignable(input: unknown): ValidationError[] {
  if (!isPlainObject(input)) return [{ path: '', message: 'must be an object' }];
  const errors: ValidationError[] = [];
  const e = (path: string, message: string) => errors.push({ path, message });
  if (typeof input.key !== 'string' || input.key.length === 0) e('key', 'must be a non-empty string');
  if (typeof input.status !== 'string') e('status', STATUSES_NOTE);
  if (input.salt !== undefined && (typeof input.salt !== 'string' || input.salt.length === 0))
    e('salt', 'must be a non-empty string');
  if (input.hashVersion !== undefined && !isHashVersion(input.hashVersion))
    e('hashVersion', 'is not a supported hash version (1)');
  const tp = input.trafficPercent;
  if (tp !== undefined && (typeof tp !== 'number' || !Number.isFinite(tp) || tp < 0 || tp > 100))
    e('trafficPercent', 'must be a number in [0, 100]');

  const keys: string[] = [];
  const weights: number[] = [];
  if (!Array.isArray(input.variants) || input.variants.length === 0) e('variants', 'must be a non-empty array');
  else {
    input.variants.forEach((v: unknown, i: number) => {
      if (!isPlainObject(v)) return e(`variants[${i}]`, 'must be an object {key, weight}');
      if (typeof v.key !== 'string' || v.key.length === 0) e(`variants[${i}].key`, 'must be a non-empty string');
      else if (keys.includes(v.key)) e(`variants[${i}].key`, `duplicates variant "${v.key}"`);
      else keys.push(v.key);
      if (typeof v.weight !== 'number' || !Number.isFinite(v.weight) || v.weight < 0)
        e(`variants[${i}].weight`, 'must be a finite number >= 0');
      else weights.push(v.weight);
    });
    if (errors.length === 0 && weights.reduce((a, b) => a + b, 0) <= 0) e('variants', 'weights must not all be 0');
  }
  const variantsOk = errors.every((x) => !x.path.startsWith('variants'));

  if (input.allocation !== undefined) {
    const alloc = validateAllocation(input.allocation, 'allocation');
    errors.push(...alloc);
    if (alloc.length === 0 && variantsOk) {
      const a = input.allocation as Allocation;
      for (const k of Object.keys(a)) if (!keys.includes(k)) e(`allocation.${k}`, 'is not a variant');
      const counts = countsFromWeights(weights);
      keys.forEach((k, i) => {
        const have = rangesSize(a[k] ?? []);
        if (have !== counts[i])
          e(`allocation.${k}`, `holds ${have} buckets but the weights give it ${counts[i]}; ramp with rampVariants`);
      });
    }
  }
  if (input.forcedVariants !== undefined) {
    if (!isPlainObject(input.forcedVariants)) e('forcedVariants', 'must be an object of unit id → variant key');
    else
      for (const [unit, v] of Object.entries(input.forcedVariants)) {
        if (typeof v !== 'string' || (variantsOk && !keys.includes(v)))
          e(`forcedVariants.${unit}`, 'must be the key of a variant');
      }
  }
  if (input.targeting !== undefined && input.targeting !== null)
    errors.push(...validateTargeting(input.targeting, 'targeting').map(({ path, message }) => ({ path, message })));
  if (input.layer !== undefined && input.layer !== null) errors.push(...validatePlacement(input.layer, 'layer'));
  return errors;
}

/**
 * Variant bucket ranges for new weights, moving as few units as possible from `previous` (see
 * {@link rebalance}): a variant whose share shrinks gives up its highest buckets, one that grows keeps all its
 * buckets and takes the lowest free ones, unchanged variants keep every unit. Without `previous`: contiguous
 * ranges in declared order from bucket 0.
 */
export function rampVariants(previous: Allocation | undefined, variants: readonly VariantSpec[]): Allocation {
  const counts = countsFromWeights(variants.map((v) => v.weight));
  return rebalance(
    previous,
    variants.map((v, i) => ({ key: v.key, count: counts[i] })),
  );
}

/** Buckets (of 10,000) in traffic for a traffic percent: `round(percent × 100)`. */
export function trafficBuckets(percent: number): number {
  return Math.round(percent * (BUCKETS / 100));
}

/** The rule tree of targeting in either syntax; throws a RangeError listing the errors when it is invalid. */
function targetingRule(targeting: unknown): Rule {
  const r = parseTargeting(targeting);
  if (!r.ok)
    throw new RangeError(`invalid targeting rule: ${r.errors.map((e) => `${e.path} ${e.message}`).join('; ')}`);
  return r.rule;
}

/** Validate once, compile the targeting rule and the bucket layout; throws a RangeError listing field-path errors. */
export function compileExperiment(experiment: AssignableExperiment): CompiledExperiment {
  const errors = validateAssignable(experiment);
  if (errors.length > 0) {
    throw new RangeError(`invalid experiment: ${errors.map((x) => `${x.path || '(root)'} ${x.message}`).join('; ')}`);
  }
  const salt = experiment.salt ?? experiment.key;
  const hashVersion = experiment.hashVersion ?? DEFAULT_HASH_VERSION;
  const running = experiment.status === 'running';
  const allocation = experiment.allocation ?? rampVariants(undefined, experiment.variants);
  // bucket → variant index, for O(1) lookups.
  const variantKeys = experiment.variants.map((v) => v.key);
  const byBucket = new Int16Array(BUCKETS).fill(-1);
  variantKeys.forEach((k, i) => {
    for (const r of allocation[k] ?? []) byBucket.fill(i, r.start, r.end);
  });
  const forced = new Map<string, string>(Object.entries(experiment.forcedVariants ?? {}));
  const predicate: RulePredicate | null = experiment.targeting
    ? compileRule(targetingRule(experiment.targeting))
    : null;
  const tSalt = trafficSalt(salt);
  const tBuckets = trafficBuckets(experiment.trafficPercent ?? 100);
  const layer = experiment.layer ?? null;
  const layerSalt = layer ? (layer.salt ?? layer.key) : '';
  const layerVersion = layer?.hashVersion ?? DEFAULT_HASH_VERSION;
  const layerRanges: readonly BucketRange[] = layer?.ranges ?? [];
  const holdout: readonly BucketRange[] = layer?.holdout ?? [];

  const out = (
    inExperiment: boolean,
    variant: string | null,
    reason: AssignmentReason | null,
    bucket: number,
  ): Assignment => ({
    inExperiment,
    variant,
    reason,
    bucket,
  });

  return {
    key: experiment.key,
    salt,
    hashVersion,
    allocation,
    assign(unitId: string, attributes: Attributes = {}): Assignment {
      if (typeof unitId !== 'string') throw new TypeError('unitId must be a string');
      const bucket = bucketOf(salt, unitId, hashVersion);
      if (!running) return out(false, null, 'not_running', bucket);
      const f = forced.get(unitId);
      if (f !== undefined) return out(true, f, 'forced', bucket);
      if (predicate && !predicate(attributes)) return out(false, null, 'targeting', bucket);
      if (layer) {
        const lb = bucketOf(layerSalt, unitId, layerVersion);
        if (inRanges(holdout, lb)) return out(false, null, 'holdout', bucket);
        if (!inRanges(layerRanges, lb)) return out(false, null, 'layer', bucket);
      }
      if (tBuckets < BUCKETS && bucketOf(tSalt, unitId, hashVersion) >= tBuckets)
        return out(false, null, 'traffic', bucket);
      const v = byBucket[bucket];
      // Every bucket has a variant (counts add up to 10,000); the guard is for zero-coverage definitions.
      if (v < 0) return out(false, null, 'traffic', bucket);
      return out(true, variantKeys[v], null, bucket);
    },
  };
}

/**
 * Assign a unit to an experiment: a pure function of (definition, unit id, attributes). Order of checks:
 * not running → forced → targeting → layer holdout → layer range → traffic → variant by bucket.
 * Compiles the definition on every call; for many calls use {@link compileExperiment} once.
 */
export function assign(experiment: AssignableExperiment, unitId: string, attributes: Attributes = {}): Assignment {
  return compileExperiment(experiment).assign(unitId, attributes);
}
