import { BUCKETS, DEFAULT_HASH_VERSION, HashVersion, isHashVersion } from './hash';
import { ValidationError, isPlainObject } from './errors';
import { Allocation, BucketRange, rebalance, validateRangeSets, ownerTable, rangesSize } from './ranges';

/**
 * A layer of mutually exclusive experiments. Units are hashed with the layer's salt into 10,000 layer
 * buckets; each experiment owns some of them, the holdout owns some, and no bucket has two owners.
 */
export interface Layer {
  key: string;
  /** Salt of the layer hash; defaults to the layer key. */
  salt?: string;
  hashVersion?: HashVersion;
  /** Layer buckets kept out of every experiment of the layer. */
  holdout: BucketRange[];
  /** Layer buckets owned by each experiment, by experiment key. */
  experiments: Allocation;
}

/** What one experiment needs to know about its layer to assign on its own (a snapshot of {@link Layer}). */
export interface LayerPlacement {
  key: string;
  salt?: string;
  hashVersion?: HashVersion;
  /** This experiment's layer buckets. */
  ranges: BucketRange[];
  /** The layer's holdout buckets (only used to report reason `holdout`; they never overlap `ranges`). */
  holdout?: BucketRange[];
}

/** A requested layer layout, in percent of the layer's units (0.01 % = one bucket). */
export interface LayerPlan {
  key: string;
  salt?: string;
  hashVersion?: HashVersion;
  holdoutPercent: number;
  experiments: { key: string; percent: number }[];
}

const HOLDOUT = '\u0000holdout';

/** Percent (0..100, steps of 0.01) → buckets. */
export function percentToBuckets(percent: number): number {
  if (!Number.isFinite(percent) || percent < 0 || percent > 100)
    throw new RangeError(`percent ${percent} is not in [0, 100]`);
  return Math.round(percent * (BUCKETS / 100));
}

/**
 * Lay out (or re-lay out) a layer with the ramp rule of {@link rebalance}: the holdout first, then experiments
 * in plan order. An experiment that grows only gains units; one that shrinks loses its highest buckets and
 * keeps the rest; a removed experiment frees its buckets for later ones; untouched experiments keep every unit.
 */
export function planLayer(previous: Layer | undefined, plan: LayerPlan): Layer {
  if (plan.experiments.some((e) => e.key === HOLDOUT)) throw new RangeError('reserved experiment key');
  const prev: Allocation | undefined = previous ? { [HOLDOUT]: previous.holdout, ...previous.experiments } : undefined;
  const targets = [
    { key: HOLDOUT, count: percentToBuckets(plan.holdoutPercent) },
    ...plan.experiments.map((e) => ({ key: e.key, count: percentToBuckets(e.percent) })),
  ];
  const next = rebalance(prev, targets);
  const { [HOLDOUT]: holdout, ...experiments } = next;
  return {
    key: plan.key,
    salt: plan.salt ?? previous?.salt,
    hashVersion: plan.hashVersion ?? previous?.hashVersion ?? DEFAULT_HASH_VERSION,
    holdout,
    experiments,
  };
}

/** The placement to store with (or pass along with) one experiment of a layer. */
export function layerPlacement(layer: Layer, experimentKey: string): LayerPlacement {
  const ranges = layer.experiments[experimentKey];
  if (!ranges) throw new RangeError(`experiment "${experimentKey}" is not in layer "${layer.key}"`);
  return {
    key: layer.key,
    salt: layer.salt ?? layer.key,
    hashVersion: layer.hashVersion ?? DEFAULT_HASH_VERSION,
    ranges: ranges.map((r) => ({ ...r })),
    holdout: layer.holdout.map((r) => ({ ...r })),
  };
}

/** Share of the layer's buckets owned by each experiment and by the holdout, in percent. */
export function layerShares(layer: Layer): { holdoutPercent: number; experiments: Record<string, number> } {
  const experiments: Record<string, number> = {};
  for (const [k, r] of Object.entries(layer.experiments)) experiments[k] = rangesSize(r) / (BUCKETS / 100);
  return { holdoutPercent: rangesSize(layer.holdout) / (BUCKETS / 100), experiments };
}

function validateSaltAndVersion(input: Record<string, unknown>, path: string, errors: ValidationError[]): void {
  if (typeof input.key !== 'string' || input.key.length === 0)
    errors.push({ path: `${path}.key`, message: 'must be a non-empty string' });
  if (input.salt !== undefined && typeof input.salt !== 'string')
    errors.push({ path: `${path}.salt`, message: 'must be a string' });
  if (input.hashVersion !== undefined && !isHashVersion(input.hashVersion)) {
    errors.push({ path: `${path}.hashVersion`, message: 'is not a supported hash version (1)' });
  }
}

/** Field-path errors for a {@link Layer}: valid ranges, no bucket owned twice (holdout included). */
export function validateLayer(input: unknown, path = 'layer'): ValidationError[] {
  if (!isPlainObject(input)) return [{ path, message: 'must be an object' }];
  const errors: ValidationError[] = [];
  validateSaltAndVersion(input, path, errors);
  if (!Array.isArray(input.holdout))
    errors.push({ path: `${path}.holdout`, message: 'must be an array of {start, end}' });
  if (!isPlainObject(input.experiments))
    errors.push({ path: `${path}.experiments`, message: 'must be an object of experiment key → ranges' });
  if (errors.length > 0) return errors;
  const experiments = input.experiments as Record<string, unknown>;
  errors.push(
    ...validateRangeSets([
      { path: `${path}.holdout`, name: 'the holdout', ranges: input.holdout },
      ...Object.keys(experiments).map((k) => ({
        path: `${path}.experiments.${k}`,
        name: `experiment "${k}"`,
        ranges: experiments[k],
      })),
    ]),
  );
  return errors;
}

/** Field-path errors for a {@link LayerPlacement}. */
export function validatePlacement(input: unknown, path = 'layer'): ValidationError[] {
  if (!isPlainObject(input)) return [{ path, message: 'must be an object' }];
  const errors: ValidationError[] = [];
  validateSaltAndVersion(input, path, errors);
  errors.push(
    ...validateRangeSets([
      { path: `${path}.ranges`, name: 'this experiment', ranges: input.ranges },
      { path: `${path}.holdout`, name: 'the holdout', ranges: input.holdout === undefined ? [] : input.holdout },
    ]),
  );
  return errors;
}

/** Checks that a layer is exclusive: every layer bucket has at most one owner (throws otherwise). */
export function assertLayerExclusive(layer: Layer): void {
  ownerTable({ [HOLDOUT]: layer.holdout, ...layer.experiments }, [HOLDOUT, ...Object.keys(layer.experiments)]);
}
