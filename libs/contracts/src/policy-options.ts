/**
 * Zod schemas generated from libs/bandit's option specs (each policy file declares its options, like Vowpal Wabbit's
 * cb_explore_adf_* reductions; the NIG models declare their prior): the defaults, bounds and enum values live there
 * once, and the API's validation, its OpenAPI document and the console's form defaults read them from here.
 */
import { EPSILON_GREEDY_OPTIONS, NIG_MODEL_OPTIONS, type OptionSpec, THOMPSON_OPTIONS } from '@slotwise/bandit';
import { z } from 'zod';

type Value<S extends OptionSpec> = S extends { type: 'enum'; values: readonly (infer V extends string)[] }
  ? V
  : S extends { type: 'boolean' }
    ? boolean
    : number;
type Schema<S extends OptionSpec> = S extends { default: unknown }
  ? z.ZodDefault<z.ZodType<Value<S>>>
  : z.ZodOptional<z.ZodType<Value<S>>>;
/** `{ name: schema }` for a list of option specs, typed by name. */
export type OptionShape<L extends readonly OptionSpec[]> = { [S in L[number] as S['name']]: Schema<S> };

/** "must be "a" or "b"" for two values, "must be one of a, b, c" for more (the API's wording before generation). */
const enumMessage = (values: readonly string[]) =>
  values.length === 2 ? `must be "${values[0]}" or "${values[1]}"` : `must be one of ${values.join(', ')}`;

function optionSchema(spec: OptionSpec): z.ZodType {
  let s: z.ZodType;
  if (spec.type === 'enum')
    s = z.enum(spec.values as [string, ...string[]], { message: enumMessage(spec.values ?? []) });
  else if (spec.type === 'boolean') s = z.boolean();
  else {
    let n = spec.type === 'integer' ? z.int() : z.number();
    if (spec.exclusiveMin !== undefined) n = n.gt(spec.exclusiveMin);
    if (spec.min !== undefined) n = n.min(spec.min);
    if (spec.max !== undefined) n = n.max(spec.max);
    s = n;
  }
  if (spec.description) s = s.describe(spec.description);
  return spec.default !== undefined ? s.default(spec.default as never) : s.optional();
}

export function optionShape<L extends readonly OptionSpec[]>(specs: L): OptionShape<L> {
  return Object.fromEntries(specs.map((o) => [o.name, optionSchema(o)])) as OptionShape<L>;
}

/** Defaults of a list of option specs: `{ model: 'linear', epsilon: 0.05, … }` (the console's form starts from them). */
export function optionDefaults<L extends readonly OptionSpec[]>(specs: L): Record<string, unknown> {
  return Object.fromEntries(specs.filter((o) => o.default !== undefined).map((o) => [o.name, o.default]));
}

const { model, ...serving } = optionShape(THOMPSON_OPTIONS);
/** model, the prior, then the serving options (the order stored definitions have always had) */
export const thompsonOptionsShape = { model, ...optionShape(NIG_MODEL_OPTIONS), ...serving };
export const epsilonGreedyOptionsShape = { ...optionShape(EPSILON_GREEDY_OPTIONS), ...optionShape(NIG_MODEL_OPTIONS) };

/** Form defaults per policy type (ranker and random take no options). */
export const POLICY_DEFAULTS = {
  thompson: { ...optionDefaults(THOMPSON_OPTIONS), ...optionDefaults(NIG_MODEL_OPTIONS) },
  'epsilon-greedy': { ...optionDefaults(EPSILON_GREEDY_OPTIONS), ...optionDefaults(NIG_MODEL_OPTIONS) },
} as const;
