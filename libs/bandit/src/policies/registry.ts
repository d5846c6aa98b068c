/** Policy registry keyed by type, with option validation (errors as {path, message} for problem+json). */
import type { BanditModel, ModelType } from '../types';
import { epsilonGreedyDefinition } from './epsilon-greedy';
import { randomDefinition } from './random';
import { rankerDefinition } from './ranker';
import { thompsonDefinition } from './thompson';
import type { OptionSpec, PolicyDefinition, PolicyType, SlatePolicy } from './types';

export const POLICIES: Readonly<Record<PolicyType, PolicyDefinition>> = {
  thompson: thompsonDefinition,
  'epsilon-greedy': epsilonGreedyDefinition,
  random: randomDefinition,
  ranker: rankerDefinition,
};

/** `{ type: 'thompson', model: 'hybrid' }`, `{ type: 'epsilon-greedy', epsilon: 0.1, model: 'linear' }`, … */
export interface PolicyConfig {
  type: string;
  [option: string]: unknown;
}

export class PolicyConfigError extends RangeError {
  constructor(readonly errors: { path: string; message: string }[]) {
    super(errors.map((e) => `${e.path}: ${e.message}`).join('; '));
    this.name = 'PolicyConfigError';
  }
}

function validateOption(spec: OptionSpec, v: unknown): string | null {
  switch (spec.type) {
    case 'number':
    case 'integer':
      if (typeof v !== 'number' || !Number.isFinite(v)) return 'must be a finite number';
      if (spec.type === 'integer' && !Number.isInteger(v)) return 'must be an integer';
      if (spec.min !== undefined && v < spec.min) return `must be ≥ ${spec.min}`;
      if (spec.exclusiveMin !== undefined && v <= spec.exclusiveMin) return `must be > ${spec.exclusiveMin}`;
      if (spec.max !== undefined && v > spec.max) return `must be ≤ ${spec.max}`;
      return null;
    case 'enum':
      return typeof v === 'string' && (spec.values ?? []).includes(v)
        ? null
        : `must be one of ${(spec.values ?? []).join(', ')}`;
    case 'boolean':
      return typeof v === 'boolean' ? null : 'must be a boolean';
  }
}

/** Validates a policy config and fills defaults. Throws PolicyConfigError listing every problem. */
export function parsePolicyConfig(config: PolicyConfig): {
  definition: PolicyDefinition;
  options: Record<string, unknown>;
} {
  const definition = (POLICIES as Record<string, PolicyDefinition | undefined>)[config?.type];
  if (!definition)
    throw new PolicyConfigError([
      { path: 'type', message: `unknown policy type; expected one of ${Object.keys(POLICIES).join(', ')}` },
    ]);
  const errors: { path: string; message: string }[] = [];
  const options: Record<string, unknown> = {};
  const known = new Set(definition.options.map((o) => o.name));
  for (const key of Object.keys(config))
    if (key !== 'type' && !known.has(key))
      errors.push({ path: key, message: `unknown option for policy "${definition.type}"` });
  for (const spec of definition.options) {
    const v = config[spec.name] === undefined ? spec.default : config[spec.name];
    if (v === undefined) {
      if (spec.required) errors.push({ path: spec.name, message: 'is required' });
      continue;
    }
    const err = validateOption(spec, v);
    if (err) errors.push({ path: spec.name, message: err });
    else options[spec.name] = v;
  }
  if (errors.length) throw new PolicyConfigError(errors);
  return { definition, options };
}

/** The model type a policy config needs (null for random and ranker). */
export function policyModelType(config: PolicyConfig): ModelType | null {
  const { definition, options } = parsePolicyConfig(config);
  return definition.modelType(options);
}

/** Builds a policy; `model` must be given (and of the right type) when policyModelType(config) is not null. */
export function createPolicy(config: PolicyConfig, model: BanditModel | null = null): SlatePolicy {
  const { definition, options } = parsePolicyConfig(config);
  return definition.create(options, model);
}
